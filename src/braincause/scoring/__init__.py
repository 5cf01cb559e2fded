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

from dataclasses import dataclass

import numpy as np

from braincause.exceptions import UserInputError

K_HARD = 10

__all__ = ["K_HARD", "VoxelScores", "region_scores", "voxel_scores"]


@dataclass(frozen=True)
class VoxelScores:
    """Per-voxel (or per-region) scores; arrays of shape (V,)."""

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


def _hard_mean(neg: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values in each column."""
    k = min(k, neg.shape[0])
    part = np.partition(neg, neg.shape[0] - k, axis=0)[neg.shape[0] - k:]
    return part.mean(axis=0, dtype=np.float64)


def _hardest_edit(edits: np.ndarray, edit_of: np.ndarray, n_pos: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """(max over each positive's edits (N_P, V) with -inf where none, has_edit (N_P,))."""
    out = np.full((n_pos, edits.shape[1]), -np.inf, dtype=np.float64)
    np.maximum.at(out, edit_of, edits.astype(np.float64))
    has = np.zeros(n_pos, bool)
    has[np.unique(edit_of)] = True
    return out, has


def voxel_scores(pos: np.ndarray, neg: np.ndarray | None = None,
                 edits: np.ndarray | None = None, edit_of: np.ndarray | None = None, *,
                 k_hard: int = K_HARD, chunk: int = 8192) -> VoxelScores:
    """S_pos, S_neg, S_edit and S_causal for every voxel (NaN where a term has no data).

    Parameters
    ----------
    pos : (N_P, V)
    neg : (N_N, V) or None
    edits : (N_E, V) or None, with ``edit_of`` (N_E,) ints in [0, N_P)
    k_hard : number of hardest negatives per voxel (the paper's 10)
    chunk : voxels per chunk (memory bound; results do not depend on it)
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
    s_pos = np.empty(n_vox)
    s_neg = np.full(n_vox, np.nan)
    s_edit = np.full(n_vox, np.nan)
    for j in range(0, n_vox, chunk):
        sl = slice(j, j + chunk)
        p = pos[:, sl].astype(np.float64)
        mp = p.mean(axis=0)
        s_pos[sl] = mp
        if neg is not None and neg.shape[0] > 0:
            s_neg[sl] = mp - _hard_mean(neg[:, sl], k_hard)
        if edits is not None and edits.shape[0] > 0:
            hardest, has = _hardest_edit(edits[:, sl], edit_of, n_pos)
            s_edit[sl] = (p[has] - hardest[has]).mean(axis=0)
    s_causal = 0.5 * (s_neg + s_edit)
    return VoxelScores(s_pos, s_neg, s_edit, s_causal)


def region_scores(region: np.ndarray, pos: np.ndarray, neg: np.ndarray | None = None,
                  edits: np.ndarray | None = None, edit_of: np.ndarray | None = None, *,
                  k_hard: int = K_HARD) -> VoxelScores:
    """Scores of a region: responses averaged over its voxels, then the same formulas
    (scalars in arrays of shape (1,))."""
    region = np.asarray(region)
    pos = np.asarray(pos)
    mask = np.zeros(pos.shape[1], bool)
    if region.dtype == bool:
        if region.shape != (pos.shape[1],):
            raise UserInputError(f"region mask has shape {region.shape}, expected "
                                 f"({pos.shape[1]},)")
        mask = region
    else:
        mask[region.astype(int)] = True
    if not mask.any():
        raise UserInputError("the region is empty: no voxel to score")

    def avg(a):
        return None if a is None else np.asarray(a)[:, mask].mean(axis=1, keepdims=True)

    return voxel_scores(avg(pos), avg(neg), avg(edits), edit_of, k_hard=k_hard)
