"""False discovery rate control: Benjamini-Hochberg and Benjamini-Yekutieli."""

from __future__ import annotations

import numpy as np

from braincause.exceptions import UserInputError
from braincause.stats._validation import check_fraction

__all__ = ["fdr_bh", "fdr_by"]


def fdr_bh(pvals: np.ndarray, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg step-up procedure over all entries of ``pvals``.

    Every entry belongs to one family (a voxel map of any shape is corrected as a
    whole). The adjusted p-value of the i-th smallest of m p-values is
    ``min(1, min_{k >= i} p_(k) * m / k)``, the same arithmetic as
    ``scipy.stats.false_discovery_control(p, method="bh", axis=None)``; a
    hypothesis is rejected when its adjusted p-value is <= ``alpha``, which is
    the BH rejection set at FDR level ``alpha`` (valid under independence or
    positive dependence).

    Parameters
    ----------
    pvals : array_like, any shape
        p-values in [0, 1]. NaN is refused (an error, never silently dropped or
        counted), because dropping a test changes m for all the others; remove
        untested voxels before calling.
    alpha : float
        FDR level, strictly between 0 and 1.

    Returns
    -------
    reject : ndarray of bool, same shape as ``pvals``
        True where the null hypothesis is rejected.
    p_adjusted : ndarray of float64, same shape as ``pvals``
        BH-adjusted p-values (q-values). An empty input gives empty outputs.

    Raises
    ------
    UserInputError
        NaN or values outside [0, 1], non-numeric input, or ``alpha`` outside (0, 1).
    """
    alpha = check_fraction(alpha, "alpha")
    p = _check_pvals(pvals)
    return _step_up(p, alpha, 1.0)


def fdr_by(pvals: np.ndarray, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Yekutieli step-up procedure: BH with ``m`` replaced by
    ``m · c(m)``, ``c(m) = Σ_{i=1..m} 1/i``, which controls the FDR under any
    dependence between the tests (Benjamini & Yekutieli 2001, Theorem 1.3).

    The adjusted p-value of the i-th smallest of m p-values is
    ``min(1, min_{k >= i} p_(k) · m · c(m) / k)``, as
    ``scipy.stats.false_discovery_control(p, method="by", axis=None)``.

    Parameters
    ----------
    pvals : array_like, any shape
        p-values in [0, 1], no NaN (see :func:`fdr_bh`).
    alpha : float
        FDR level, strictly between 0 and 1.

    Returns
    -------
    reject : ndarray of bool, same shape as ``pvals``
    p_adjusted : ndarray of float64, same shape as ``pvals``

    Raises
    ------
    UserInputError
        As :func:`fdr_bh`.
    """
    alpha = check_fraction(alpha, "alpha")
    p = _check_pvals(pvals)
    m = p.size
    return _step_up(p, alpha, float(np.sum(1.0 / np.arange(1, m + 1))) if m else 1.0)


def _check_pvals(pvals: np.ndarray) -> np.ndarray:
    p = np.asarray(pvals)
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise UserInputError(f"pvals must be a numeric array, got dtype {p.dtype}")
    p = p.astype(np.float64)
    nan = np.isnan(p)
    if nan.any():
        raise UserInputError(
            f"pvals must not contain NaN, got {int(nan.sum())} NaN value(s); "
            "drop untested entries before correcting"
        )
    if ((p < 0) | (p > 1)).any():
        raise UserInputError(
            f"pvals must lie in [0, 1], got values from {p.min()!r} to {p.max()!r}"
        )
    return p


def _step_up(p: np.ndarray, alpha: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    flat = p.ravel()
    m = flat.size
    order = np.argsort(flat, kind="stable")
    ranked = flat[order] * (m * scale / np.arange(1, m + 1, dtype=np.float64))
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = np.minimum(ranked, 1.0)
    adjusted = adjusted.reshape(p.shape)
    return adjusted <= alpha, adjusted
