"""Voxel and region scores of BrainCause (PAPER.md §2), vectorised over voxels.

Notation: ``pos`` (N_P, V) responses to positives, ``neg`` (N_N, V) to semantic
negatives, ``edits`` (N_E, V) to counterfactual edits with ``edit_of`` (N_E,) the
index of the positive each edit came from. Responses are z-scores (measured or
predicted).

* ``S_pos(v) = mean_i a_v(x_i⁺)``
* ``S_neg(v) = mean_i a_v(x_i⁺) − mean_{x ∈ N_v^hard} a_v(x)``, with N_v^hard the
  ``k_hard`` (default 10) negatives with the highest activation *for this voxel*
* ``S_edit(v) = mean_i (a_v(x_i⁺) − max_{x ∈ E_i} a_v(x))`` over the positives that
  have at least one edit (the paper's practice: 50 train / 20 eval positives are
  edited)
* ``S_causal(v) = ½ (S_neg(v) + S_edit(v))``

Region scores average the responses over the region's voxels first
(``a_R(x) = mean_{v∈R} a_v(x)``) and then apply the same formulas, so the hardest
negatives and edits are re-selected on the region average.

Everything runs in chunks of voxels (``chunk``) so memory stays bounded at any
number of voxels; results do not depend on the chunk size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from braincause.exceptions import UserInputError

K_HARD = 10

__all__ = [
    "K_HARD",
    "VoxelScores",
    "control_differences",
    "hard_mean",
    "hardest_edit",
    "region_average",
    "region_point_scores",
    "region_scores",
    "s_causal",
    "s_control",
    "s_edit",
    "s_neg",
    "s_pos",
    "voxel_scores",
]


@dataclass(frozen=True)
class VoxelScores:
    """Per-voxel (or per-region) scores; arrays of shape (n_voxels,) (or (1,) for a region).

    Attributes
    ----------
    s_pos : ndarray of shape (n_voxels,)
        Mean response to the positives.
    s_neg : ndarray of shape (n_voxels,)
        S_pos minus the mean of the ``k_hard`` hardest negatives (NaN without negatives).
    s_edit : ndarray of shape (n_voxels,)
        Mean of positive minus its hardest edit, over the edited positives (NaN without
        edits).
    s_causal : ndarray of shape (n_voxels,)
        ``(s_neg + s_edit) / 2``.
    """

    s_pos: np.ndarray
    s_neg: np.ndarray
    s_edit: np.ndarray
    s_causal: np.ndarray


def _as_2d(name: str, a: np.ndarray | None, n_vox: int | None) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise UserInputError(f"{name} must be (n_images, n_voxels), got shape {arr.shape}")
    if n_vox is not None and arr.shape[1] != n_vox:
        raise UserInputError(f"{name} has {arr.shape[1]} voxels, positives have {n_vox}")
    if not np.isfinite(arr).all():
        raise UserInputError(f"{name} contains NaN or infinite responses")
    return arr


def hard_mean(x: np.ndarray, k: int, axis: int = 0) -> np.ndarray:
    """Mean of the ``k`` largest values along ``axis`` (float64): the hardest negatives.

    Parameters
    ----------
    x : ndarray
        Responses, images along ``axis``.
    k : int
        How many of the largest values (all of them when ``k`` exceeds their number).
    axis : int, default=0

    Returns
    -------
    ndarray
        ``x``'s shape without ``axis``, float64.
    """
    n = x.shape[axis]
    k = min(k, n)
    top = [slice(None)] * x.ndim
    top[axis] = slice(n - k, None)
    return np.partition(x, n - k, axis=axis)[tuple(top)].mean(axis=axis, dtype=np.float64)


def hardest_edit(edits: np.ndarray, edit_of: np.ndarray, n_pos: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The response to each positive's hardest edit (the max over its edits).

    Parameters
    ----------
    edits : ndarray of shape (n_edits,) or (n_edits, n_voxels)
    edit_of : ndarray of shape (n_edits,), the positive each edit came from
    n_pos : int, number of positives

    Returns
    -------
    hardest : ndarray of shape (n_pos,) or (n_pos, n_voxels), float64, NaN for a positive
        without edits
    has_edit : ndarray of shape (n_pos,), bool
    """
    edits = np.asarray(edits, np.float64)
    out = np.full((n_pos, *edits.shape[1:]), -np.inf)
    np.maximum.at(out, np.asarray(edit_of), edits)
    has = np.zeros(n_pos, bool)
    has[np.unique(edit_of)] = True
    out[~np.isfinite(out)] = np.nan
    return out, has


def control_differences(pos: np.ndarray, edits: np.ndarray | None, edit_of: np.ndarray | None,
                        edit_removal: np.ndarray | None, controls: np.ndarray | None,
                        control_of: np.ndarray | None) -> np.ndarray:
    """Each positive minus the hardest of its removal edits and cue controls (braincause's
    causal difference, :mod:`braincause.evaluate.causal`), for the positives that have
    at least one of them.

    Parameters
    ----------
    pos : ndarray of shape (n_pos,) or (n_pos, n_voxels)
    edits : ndarray of shape (n_edits,) or (n_edits, n_voxels), or None
    edit_of : ndarray of shape (n_edits,), int, or None
    edit_removal : ndarray of shape (n_edits,), bool, or None
        Which edits remove the concept; replacements are left out.
    controls : ndarray of shape (n_controls,) or (n_controls, n_voxels), or None
    control_of : ndarray of shape (n_controls,), int, or None

    Returns
    -------
    ndarray of shape (n_compared,) or (n_compared, n_voxels), float64
    """
    pos = np.asarray(pos, np.float64)
    rows, of = [], []
    if edits is not None and len(edits):
        rem = np.asarray(edit_removal, bool)
        rows.append(np.asarray(edits, np.float64)[rem])
        of.append(np.asarray(edit_of, int)[rem])
    if controls is not None and len(controls):
        rows.append(np.asarray(controls, np.float64))
        of.append(np.asarray(control_of, int))
    if not rows or not sum(len(o) for o in of):
        return np.zeros((0, *pos.shape[1:]))
    hard, has = hardest_edit(np.concatenate(rows), np.concatenate(of), len(pos))
    return pos[has] - hard[has]


def s_control(pos: np.ndarray, edits: np.ndarray | None, edit_of: np.ndarray | None,
              edit_removal: np.ndarray | None, controls: np.ndarray | None,
              control_of: np.ndarray | None) -> np.ndarray:
    """S_control: the mean of :func:`control_differences` over the compared positives
    (NaN without removal edits or controls).

    Parameters
    ----------
    pos, edits, edit_of, edit_removal, controls, control_of
        As :func:`control_differences`.

    Returns
    -------
    ndarray of shape () or (n_voxels,)
    """
    d = control_differences(pos, edits, edit_of, edit_removal, controls, control_of)
    if not len(d):
        return np.full(np.asarray(pos).shape[1:], np.nan)
    return d.mean(axis=0)


def s_pos(pos: np.ndarray, axis: int = 0) -> np.ndarray:
    """S_pos: the mean response to the positives along ``axis``.

    Parameters
    ----------
    pos : ndarray of shape (n_pos,) or (n_pos, n_voxels)
        Responses to the positives (images along ``axis``).
    axis : int, default=0

    Returns
    -------
    ndarray
        ``pos``'s shape without ``axis``.
    """
    return pos.mean(axis=axis)


def s_neg(mean_pos: np.ndarray, neg: np.ndarray, k_hard: int = K_HARD,
          axis: int = 0) -> np.ndarray:
    """S_neg: S_pos minus the mean of the ``k_hard`` hardest negatives along ``axis``.

    Parameters
    ----------
    mean_pos : ndarray
        S_pos (:func:`s_pos`), of ``neg``'s shape without ``axis``.
    neg : ndarray of shape (n_neg,) or (n_neg, n_voxels)
        Responses to the semantic negatives (images along ``axis``).
    k_hard : int, default=K_HARD
        How many of the highest negatives are averaged (per voxel).
    axis : int, default=0

    Returns
    -------
    ndarray
        Of ``mean_pos``'s shape.
    """
    return mean_pos - hard_mean(neg, k_hard, axis)


def s_edit(pos: np.ndarray, hardest: np.ndarray, axis: int = 0) -> np.ndarray:
    """S_edit: the mean of positive minus its hardest edit along ``axis``, over the
    positives that have an edit (``hardest`` NaN elsewhere, see :func:`hardest_edit`).

    Parameters
    ----------
    pos : ndarray of shape (n_pos,) or (n_pos, n_voxels)
        Responses to the positives.
    hardest : ndarray of the shape of ``pos``
        Response to each positive's hardest edit, NaN for a positive without edits.
    axis : int, default=0

    Returns
    -------
    ndarray
        ``pos``'s shape without ``axis``; NaN where no positive has an edit.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample with no edited one
        return np.nanmean(pos - hardest, axis=axis)


def s_causal(s_neg_: np.ndarray, s_edit_: np.ndarray) -> np.ndarray:
    """S_causal = ½ (S_neg + S_edit).

    Parameters
    ----------
    s_neg_ : ndarray or float
        S_neg (:func:`s_neg`).
    s_edit_ : ndarray or float
        S_edit (:func:`s_edit`), of the same shape.

    Returns
    -------
    ndarray or float
    """
    return 0.5 * (s_neg_ + s_edit_)


def region_average(responses: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
    """``a_R(x)``: each image's response averaged over the region's voxels.

    Parameters
    ----------
    responses : ndarray of shape (n_images, n_voxels) or None
    mask : ndarray of shape (n_voxels,), bool

    Returns
    -------
    ndarray of shape (n_images,), or None when there are no images
    """
    if responses is None or len(responses) == 0:
        return None
    return np.asarray(responses)[:, mask].mean(axis=1)


def region_point_scores(a_pos: np.ndarray, a_neg: np.ndarray | None = None,
                        a_edit: np.ndarray | None = None, edit_of: np.ndarray | None = None,
                        *, k_hard: int = K_HARD) -> dict[str, float | None]:
    """S_pos, S_neg, S_edit and S_causal of region-averaged responses (floats, None where
    a term has no data).

    Parameters
    ----------
    a_pos : ndarray of shape (n_positives,)
        Region-averaged responses to the positives (:func:`region_average`).
    a_neg : ndarray of shape (n_negatives,) or None
        Region-averaged responses to the semantic negatives.
    a_edit : ndarray of shape (n_edits,) or None
        Region-averaged responses to the counterfactual edits.
    edit_of : ndarray of shape (n_edits,), int, or None
        The positive each edit came from (needed with ``a_edit``).
    k_hard : int, default=K_HARD
        Hardest negatives averaged by S_neg.

    Returns
    -------
    dict of str to float or None
        ``s_pos``, ``s_neg``, ``s_edit`` and ``s_causal``; None where a term has no data
        (all None without positives).
    """
    a_pos = np.asarray(a_pos, np.float64)
    out: dict[str, float | None] = {"s_pos": None, "s_neg": None, "s_edit": None,
                                    "s_causal": None}
    if not a_pos.size:
        return out
    mp = s_pos(a_pos)
    out["s_pos"] = float(mp)
    if a_neg is not None and len(a_neg):
        out["s_neg"] = float(s_neg(mp, np.asarray(a_neg, np.float64), k_hard))
    if a_edit is not None and len(a_edit):
        out["s_edit"] = float(s_edit(a_pos, hardest_edit(a_edit, edit_of, a_pos.size)[0]))
    if out["s_neg"] is not None and out["s_edit"] is not None:
        out["s_causal"] = float(s_causal(out["s_neg"], out["s_edit"]))
    return out


def voxel_scores(pos: np.ndarray, neg: np.ndarray | None = None,
                 edits: np.ndarray | None = None, edit_of: np.ndarray | None = None, *,
                 k_hard: int = K_HARD, chunk: int = 8192) -> VoxelScores:
    """S_pos, S_neg, S_edit and S_causal for every voxel (NaN where a term has no data).

    Parameters
    ----------
    pos : ndarray of shape (n_pos, n_voxels)
        Responses to the positives.
    neg : ndarray of shape (n_neg, n_voxels) or None
        Responses to the semantic negatives.
    edits : ndarray of shape (n_edits, n_voxels) or None
        Responses to the counterfactual edits.
    edit_of : ndarray of shape (n_edits,), int, or None
        The positive each edit came from, in [0, n_pos) (required with ``edits``).
    k_hard : int, default=K_HARD
        Number of hardest negatives per voxel (the paper's 10).
    chunk : int, default=8192
        Voxels per chunk (bounds memory; results do not depend on it).

    Returns
    -------
    VoxelScores
        Arrays of shape (n_voxels,), NaN where a term has no data.

    Raises
    ------
    UserInputError
        No positives, non-finite responses, mismatched voxel counts, ``k_hard < 1``, or
        ``edits`` without valid ``edit_of``.
    """
    pos = _as_2d("pos", pos, None)
    assert pos is not None
    if pos.shape[0] == 0:
        raise UserInputError("no positive images to score (the stimulus set is empty after "
                             "verification)")
    n_pos, n_vox = pos.shape
    neg = _as_2d("neg", neg, n_vox)
    edits = _as_2d("edits", edits, n_vox)
    if k_hard < 1:
        raise UserInputError(f"k_hard must be at least 1, got {k_hard}")
    if edits is not None:
        if edit_of is None:
            raise UserInputError("edits given without edit_of (which positive each edit "
                                 "came from)")
        edit_of = np.asarray(edit_of)
        if edit_of.shape != (edits.shape[0],) or not np.issubdtype(edit_of.dtype, np.integer):
            raise UserInputError(f"edit_of must be {edits.shape[0]} integer indices, got "
                                 f"shape {edit_of.shape} dtype {edit_of.dtype}")
        if edit_of.size and (edit_of.min() < 0 or edit_of.max() >= n_pos):
            raise UserInputError(f"edit_of indices must be in [0, {n_pos})")
    out_pos = np.empty(n_vox)
    out_neg = np.full(n_vox, np.nan)
    out_edit = np.full(n_vox, np.nan)
    for j in range(0, n_vox, chunk):
        sl = slice(j, j + chunk)
        p = pos[:, sl].astype(np.float64)
        mp = s_pos(p)
        out_pos[sl] = mp
        if neg is not None and neg.shape[0] > 0:
            out_neg[sl] = s_neg(mp, neg[:, sl], k_hard)
        if edits is not None and edits.shape[0] > 0:
            out_edit[sl] = s_edit(p, hardest_edit(edits[:, sl], edit_of, n_pos)[0])
    return VoxelScores(out_pos, out_neg, out_edit, s_causal(out_neg, out_edit))


def region_scores(region: np.ndarray, pos: np.ndarray, neg: np.ndarray | None = None,
                  edits: np.ndarray | None = None, edit_of: np.ndarray | None = None, *,
                  k_hard: int = K_HARD) -> VoxelScores:
    """Scores of a region: responses averaged over its voxels (:func:`region_average`),
    then the same formulas (:func:`region_point_scores`, what ``localize`` runs); scalars
    in arrays of shape (1,), NaN where a term has no data.

    Parameters
    ----------
    region : ndarray of shape (n_voxels,), bool, or of shape (n_region,), int
        The region as a mask or as voxel indices.
    pos : ndarray of shape (n_positives, n_voxels)
        Responses to the positives.
    neg : ndarray of shape (n_negatives, n_voxels) or None
        Responses to the semantic negatives.
    edits : ndarray of shape (n_edits, n_voxels) or None
        Responses to the counterfactual edits.
    edit_of : ndarray of shape (n_edits,), int, or None
        The positive each edit came from (needed with ``edits``).
    k_hard : int, default=K_HARD
        Hardest negatives averaged by S_neg.

    Returns
    -------
    VoxelScores
        Arrays of shape (1,).

    Raises
    ------
    UserInputError
        An empty region, a mask of the wrong shape, no positives or non-finite responses.
    """
    region = np.asarray(region)
    pos = _as_2d("pos", pos, None)
    assert pos is not None
    n_vox = pos.shape[1]
    neg = _as_2d("neg", neg, n_vox)
    edits = _as_2d("edits", edits, n_vox)
    mask = np.zeros(n_vox, bool)
    if region.dtype == bool:
        if region.shape != (n_vox,):
            raise UserInputError(f"region mask has shape {region.shape}, expected "
                                 f"({n_vox},)")
        mask = region
    else:
        mask[region.astype(int)] = True
    if not mask.any():
        raise UserInputError("the region is empty: no voxel to score")
    if pos.shape[0] == 0:
        raise UserInputError("no positive images to score (the stimulus set is empty after "
                             "verification)")
    sc = region_point_scores(region_average(pos, mask), region_average(neg, mask),
                             region_average(edits, mask), edit_of, k_hard=k_hard)
    return VoxelScores(*(np.array([np.nan if sc[k] is None else sc[k]])
                         for k in ("s_pos", "s_neg", "s_edit", "s_causal")))
