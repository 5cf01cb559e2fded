"""The paper's voxel ranking signals (PAPER.md §2.5) and their combination.

Each signal is a per-voxel score computed on the TRAIN split:

========  ==============================================================
MAG       S_pos on generated positives (predicted responses)
MAM       S_pos on measured positives retrieved from the measured images
MAL       S_pos on pool positives retrieved by caption similarity alone
MALF      MAL with the verifier's check
CSG       S_neg, generated positives vs generated semantic negatives
CSM       S_neg, measured positives vs measured negatives
CSL       S_neg, verified pool positives vs verified pool negatives
CEG       S_edit on generated counterfactual edits
CEC       S_control: positive minus the hardest of its removal edits and cue
          controls (braincause's, :mod:`braincause.stimuli.controls`)
========  ==============================================================

"Pool" is the subject's measured images run through the encoder (predicted
responses), as the paper's COCO pool. The paper's BrainCause ranking combines
CEG + CSG + CSL + MALF + CSM without saying how (PAPER.md §9.1). braincause
**z-scores each signal across the voxels that pass the encoder filter, then
averages the available signals with equal weights** (:func:`combine_signals`), so a
signal's units or spread cannot dominate, and a voxel must do well on activation
*and* causality to rank high. A signal with no data (e.g. CSM when no measured
negatives were found) is left out, and the result records which were used.
"""

from __future__ import annotations

import numpy as np

from braincause.exceptions import UserInputError
from braincause.scoring import K_HARD, s_control, voxel_scores

SIGNALS = ("MAG", "MAM", "MAL", "MALF", "CSG", "CSM", "CSL", "CEG", "CEC")
COMBINED = ("CEG", "CSG", "CSL", "MALF", "CSM")

__all__ = ["COMBINED", "SIGNALS", "combine_signals", "ranking_signals", "zscore"]


def ranking_signals(*, gen: dict[str, np.ndarray], measured: dict[str, np.ndarray] | None = None,
                    pool: dict[str, np.ndarray] | None = None,
                    k_hard: int = K_HARD) -> dict[str, np.ndarray]:
    """Every available signal, each of shape (n_voxels,).

    Parameters
    ----------
    gen : dict of str to ndarray
        Predicted responses to the generated TRAIN stimuli: ``pos`` of shape
        (n_pos, n_voxels), ``neg`` of shape (n_neg, n_voxels), ``edits`` of shape
        (n_edits, n_voxels) and ``edit_of`` of shape (n_edits,) (the positive each edit
        came from); all but ``pos`` may be missing or None.
    measured : dict of str to ndarray, optional
        ``pos`` and ``neg``, each of shape (n_images, n_voxels): measured responses of
        retrieved TRAIN-split images.
    pool : dict of str to ndarray, optional
        ``pos_unverified``, ``pos`` and ``neg``, each of shape (n_images, n_voxels):
        predicted responses of retrieved pool images (before / after verification).
    k_hard : int, default=K_HARD
        Hardest negatives averaged by S_neg.

    Returns
    -------
    dict of str to ndarray of shape (n_voxels,)
        Signal name (:data:`SIGNALS`) to its score; MAG, CSG and CEG always (NaN where
        their stimuli are missing), the others when their data are given and non-empty.
    """
    out: dict[str, np.ndarray] = {}
    g = voxel_scores(gen["pos"], gen.get("neg"), gen.get("edits"), gen.get("edit_of"),
                     k_hard=k_hard)
    out["MAG"], out["CSG"], out["CEG"] = g.s_pos, g.s_neg, g.s_edit
    if gen.get("controls") is not None and len(gen["controls"]):
        out["CEC"] = s_control(gen["pos"], gen.get("edits"), gen.get("edit_of"),
                               gen.get("edit_removal"), gen["controls"], gen["control_of"])
    for name, src, key in (("MAM", measured, "pos"), ("MAL", pool, "pos_unverified"),
                           ("MALF", pool, "pos")):
        if src is not None and src.get(key) is not None and len(src[key]):
            out[name] = voxel_scores(src[key]).s_pos
    for name, src in (("CSM", measured), ("CSL", pool)):
        if src is not None and src.get("pos") is not None and len(src["pos"]) \
                and src.get("neg") is not None and len(src["neg"]):
            out[name] = voxel_scores(src["pos"], src["neg"], k_hard=k_hard).s_neg
    return out


def zscore(x: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """``x`` standardised with the mean and SD of ``x[keep]`` (NaN stays NaN).

    Parameters
    ----------
    x : ndarray of shape (n_voxels,)
    keep : ndarray of shape (n_voxels,), bool, or None
        The voxels whose finite values give the mean and SD; None uses every voxel.

    Returns
    -------
    ndarray of shape (n_voxels,), float64
        All NaN when fewer than two reference values are finite; a zero SD divides by 1.
    """
    x = np.asarray(x, np.float64)
    ref = x[keep] if keep is not None else x
    ref = ref[np.isfinite(ref)]
    if ref.size < 2:
        return np.full_like(x, np.nan)
    sd = ref.std()
    return (x - ref.mean()) / (sd if sd > 0 else 1.0)


def combine_signals(signals: dict[str, np.ndarray], names: tuple[str, ...] = COMBINED, *,
                    keep: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Equal-weight mean of the z-scored ``names`` signals that are available.

    Parameters
    ----------
    signals : dict of str to ndarray of shape (n_voxels,)
        From :func:`ranking_signals`.
    names : tuple of str, default=COMBINED
        The signals to combine; one missing or all NaN is left out.
    keep : ndarray of shape (n_voxels,), bool, optional
        The voxels each signal is z-scored over (see :func:`zscore`).

    Returns
    -------
    score : ndarray of shape (n_voxels,), float64
        Mean of the z-scored signals used (NaN ignored).
    used : list of str
        The signals used, in the order of ``names``.

    Raises
    ------
    UserInputError
        When none of ``names`` is available.
    """
    used = [n for n in names if n in signals and np.isfinite(signals[n]).any()]
    if not used:
        raise UserInputError(f"none of the signals {list(names)} could be computed; "
                             "check that positives survived verification")
    z = np.stack([zscore(signals[n], keep) for n in used])
    return np.nanmean(z, axis=0), used
