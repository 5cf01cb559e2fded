"""Nonparametric bootstrap confidence intervals (percentile and BCa).

Two entry points:

* :func:`bootstrap_ci` resamples the rows of one array and evaluates a vectorised
  statistic (any NumPy-style reduction with an ``axis`` argument) for every
  voxel at once;
* :func:`bootstrap_score_ci` resamples *units* (e.g. positives together with
  their edits, and negatives) and lets a callback recompute any score from the
  resampled unit indices.

Resampling indices are drawn from one Generator, in one call per unit set, before
any statistic is evaluated, so results depend on ``random_state`` only.

References
----------
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 13-14.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from braincause.exceptions import UserInputError
from braincause.stats._validation import (
    CHUNK_BYTES,
    as_data_matrix,
    check_choice,
    check_finite,
    check_fraction,
    check_int,
)
from braincause.utils import RandomState, check_random_state

__all__ = ["ScoreCI", "bootstrap_ci", "bootstrap_score_ci"]

Method = Literal["percentile", "bca"]


class ScoreCI(NamedTuple):
    """Point estimate and confidence bounds of a bootstrapped score (floats or arrays).

    Attributes
    ----------
    estimate : float or ndarray
        The score on the original units.
    low, high : float or ndarray
        The interval bounds, of the shape of ``estimate``.
    """

    estimate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray


def _quantile_per_column(sorted_boot: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Linear-interpolation quantile (NumPy's default) of each column at its own level.

    ``sorted_boot`` (B, ...) sorted along axis 0; ``q`` broadcastable to its
    trailing shape, values in [0, 1]. Returns an array of the trailing shape.
    """
    n_boot = sorted_boot.shape[0]
    q = np.broadcast_to(q, sorted_boot.shape[1:])
    pos = q * (n_boot - 1)
    lo = np.clip(np.floor(pos).astype(np.int64), 0, n_boot - 1)
    hi = np.minimum(lo + 1, n_boot - 1)
    frac = pos - lo
    below = np.take_along_axis(sorted_boot, lo[None], axis=0)[0]
    above = np.take_along_axis(sorted_boot, hi[None], axis=0)[0]
    return below + frac * (above - below)


def _acceleration(jackknife: Sequence[np.ndarray]) -> np.ndarray:
    """BCa acceleration from leave-one-out estimates, one (n_k, ...) array per unit set.

    Uses the multi-sample form: with ``U = (n_k - 1) * (mean_k - theta_(i))``,
    ``a = sum_k sum_i U**3 / n_k**3 / (6 * (sum_k sum_i U**2 / n_k**2) ** 1.5)``.
    Zero spread gives ``a = 0``.
    """
    num, den = 0.0, 0.0
    for theta in jackknife:
        n_k = theta.shape[0]
        u = (n_k - 1) * (theta.mean(axis=0) - theta)
        num = num + (u**3).sum(axis=0) / n_k**3
        den = den + (u**2).sum(axis=0) / n_k**2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = num / (6.0 * den**1.5)
    return np.where(den > 0, a, 0.0)


def _bounds(boot: np.ndarray, estimate: np.ndarray, level: float, method: str,
            jackknife: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Percentile or BCa bounds (trailing shape) from replicates ``boot`` (B, ...)."""
    tail = (1.0 - level) / 2.0
    sorted_boot = np.sort(boot, axis=0)
    bad = None
    if method == "percentile":
        q_low, q_high = np.asarray(tail), np.asarray(1.0 - tail)
    else:
        prop_below = (boot < estimate).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z0 = ndtri(prop_below)
            accel = _acceleration(jackknife or [])
            z_a, z_b = ndtri(tail), ndtri(1.0 - tail)
            q_low = ndtr(z0 + (z0 + z_a) / (1.0 - accel * (z0 + z_a)))
            q_high = ndtr(z0 + (z0 + z_b) / (1.0 - accel * (z0 + z_b)))
        bad = ~(np.isfinite(q_low) & np.isfinite(q_high))
        if bad.any():
            warnings.warn(
                f"BCa interval undefined for {int(bad.sum())} statistic(s) (all bootstrap "
                "replicates on one side of the estimate); returning NaN there",
                RuntimeWarning, stacklevel=4,
            )
            q_low, q_high = np.where(bad, 0.0, q_low), np.where(bad, 1.0, q_high)
    low = _quantile_per_column(sorted_boot, q_low)
    high = _quantile_per_column(sorted_boot, q_high)
    if bad is not None and bad.any():
        low, high = np.where(bad, np.nan, low), np.where(bad, np.nan, high)
    return low, high


def _interval(boot: np.ndarray, estimate: np.ndarray, level: float, method: str,
              jackknife: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the trailing shape from bootstrap replicates ``boot`` (B, ...).

    A statistic whose replicates all equal the estimate (e.g. constant data) gets
    the degenerate interval ``(estimate, estimate)`` under either method.
    """
    flat = (boot == estimate).all(axis=0)
    if method == "bca" and flat.any():
        keep = ~flat
        low, high = np.array(estimate, dtype=np.float64), np.array(estimate, dtype=np.float64)
        if keep.any():
            jack = None if jackknife is None else [j[:, keep] for j in jackknife]
            low[keep], high[keep] = _bounds(boot[:, keep], estimate[keep], level, method, jack)
        return low, high
    return _bounds(boot, estimate, level, method, jackknife)


def _as_result(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


def _apply_statistic(statistic: Callable[..., np.ndarray], data: np.ndarray,
                     expected: tuple[int, ...]) -> np.ndarray:
    """``statistic(data, axis=1)`` for a batch (b, n, ...) with a shape check."""
    out = np.asarray(statistic(data, axis=1), dtype=np.float64)
    if out.shape != (data.shape[0], *expected):
        raise UserInputError(
            f"statistic must reduce axis 0 of the samples (called as statistic(x, axis=1) on "
            f"a batch of shape {data.shape}), expected shape {(data.shape[0], *expected)}, "
            f"got {out.shape}"
        )
    return out


def bootstrap_ci(
    samples: np.ndarray,
    *,
    statistic: Callable[..., np.ndarray] = np.mean,
    n_boot: int = 2000,
    level: float = 0.95,
    method: Method = "percentile",
    random_state: RandomState = None,
    chunk_size: int | None = None,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Bootstrap confidence interval of a statistic over rows, for every column at once.

    Parameters
    ----------
    samples : array-like of shape (n_samples,) or (n_samples, n_voxels)
        Observations in rows (n_samples >= 2), finite.
    statistic : callable
        NumPy-style reduction ``statistic(x, axis=k)`` (``np.mean``, ``np.median``,
        ...). It is called on batches of resamples of shape (b, n_samples, ...)
        with ``axis=1``, so it must accept ``axis`` and reduce only that axis.
    n_boot : int
        Number of bootstrap resamples (>= 1).
    level : float
        Confidence level, strictly between 0 and 1.
    method : {"percentile", "bca"}
        Percentile interval, or bias-corrected and accelerated (BCa) with the
        acceleration from the jackknife.
    random_state : int, numpy.random.Generator, SeedSequence or None
        Source of the resampling indices (an (n_boot, n_samples) integer matrix drawn
        in one call).
    chunk_size : int or None
        Resamples per batch; None keeps a batch near 8 MiB. Does not change results.

    Returns
    -------
    low, high : float or ndarray of shape (n_voxels,)
        Interval bounds (floats for 1-D ``samples``). Quantiles use linear
        interpolation, as ``np.quantile``. Where BCa is undefined (every replicate
        on one side of the estimate) the bounds are NaN and a RuntimeWarning is issued.
    """
    x = np.asarray(samples)
    if x.ndim not in (1, 2):
        raise UserInputError(
            f"samples must be 1-D (n_samples,) or 2-D (n_samples, n_voxels), "
            f"got {x.ndim}-D shape {x.shape}"
        )
    squeeze = x.ndim == 1
    x = as_data_matrix(x[:, None] if squeeze else x, "samples")
    n_boot = check_int(n_boot, "n_boot")
    level = check_fraction(level, "level")
    check_choice(method, "method", ("percentile", "bca"))
    if not callable(statistic):
        raise UserInputError(f"statistic must be callable, got {statistic!r}")
    n, n_vox = x.shape
    chunk = chunk_size if chunk_size is not None else max(1, CHUNK_BYTES // (8 * n * n_vox))
    chunk = check_int(chunk, "chunk_size")
    idx = check_random_state(random_state).integers(0, n, size=(n_boot, n))
    estimate = _apply_statistic(statistic, x[None], (n_vox,))[0]
    boot = np.concatenate([_apply_statistic(statistic, x[idx[i:i + chunk]], (n_vox,))
                           for i in range(0, n_boot, chunk)])
    jackknife = None
    if method == "bca":
        keep = np.arange(n - 1)[None, :] + (np.arange(n - 1)[None, :] >= np.arange(n)[:, None])
        jackknife = [np.concatenate([_apply_statistic(statistic, x[keep[i:i + chunk]], (n_vox,))
                                     for i in range(0, n, chunk)])]
    low, high = _interval(boot, estimate, level, method, jackknife)
    if squeeze:
        return float(low[0]), float(high[0])
    return low, high


def bootstrap_score_ci(
    score_fn: Callable[..., float | np.ndarray],
    n_units: int | Sequence[int],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    method: Method = "percentile",
    random_state: RandomState = None,
) -> ScoreCI:
    """Bootstrap CI of a score recomputed from resampled *units*.

    Each unit set (e.g. positives, negatives) is resampled with replacement,
    independently of the other sets; ``score_fn`` gets one integer index array per
    set and recomputes the score from those rows. Things that must move together
    (a positive and its edits, the two halves of a pair) belong to one unit: index
    all of them with the same unit index.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(idx_0, idx_1, ...) -> float or ndarray`` where ``idx_k`` is an
        int array of shape (n_units[k],) of unit indices (``np.arange(n_units[k])``
        for the point estimate). Must return a finite value of a fixed shape.
    n_units : int or sequence of int
        Number of units in each set, each >= 1 (>= 2 for ``method="bca"``).
    n_boot : int
        Number of bootstrap resamples (>= 1).
    level : float
        Confidence level, strictly between 0 and 1.
    method : {"percentile", "bca"}
        Percentile or BCa interval (BCa jackknifes each unit set, one unit left out at
        a time: ``sum(n_units)`` extra calls).
    random_state : int, numpy.random.Generator, SeedSequence or None
        Source of the resampling indices: an (n_boot, n_units[k]) matrix per set,
        drawn in set order.

    Returns
    -------
    ScoreCI
        ``(estimate, low, high)``, floats for a scalar score.

    Examples
    --------
    Region scores with per-positive responses ``pos`` (N_P,), hardest-edit
    responses ``edit_max`` (N_P,) (the max over each positive's edits) and
    negatives ``neg`` (N_N,): positives carry their edits, negatives are separate
    units.

    >>> rng = np.random.default_rng(0)
    >>> pos, edit_max, neg = rng.normal(1, 1, 20), rng.normal(0, 1, 20), rng.normal(0, 1, 60)
    >>> def s_neg(ip, ineg):
    ...     return pos[ip].mean() - np.sort(neg[ineg])[-10:].mean()
    >>> def s_edit(ip):
    ...     return (pos[ip] - edit_max[ip]).mean()
    >>> ci_neg = bootstrap_score_ci(s_neg, (20, 60), random_state=0)
    >>> ci_edit = bootstrap_score_ci(s_edit, 20, random_state=0)
    >>> bool(ci_edit.low < ci_edit.estimate < ci_edit.high)
    True
    """
    if not callable(score_fn):
        raise UserInputError(f"score_fn must be callable, got {score_fn!r}")
    sizes = [n_units] if isinstance(n_units, (int, np.integer)) else list(n_units)
    if not sizes:
        raise UserInputError("n_units must name at least one unit set, got an empty sequence")
    check_choice(method, "method", ("percentile", "bca"))
    minimum = 2 if method == "bca" else 1
    sizes = [check_int(s, f"n_units[{k}]", minimum=minimum) for k, s in enumerate(sizes)]
    n_boot = check_int(n_boot, "n_boot")
    level = check_fraction(level, "level")
    rng = check_random_state(random_state)
    draws = [rng.integers(0, s, size=(n_boot, s)) for s in sizes]
    full = [np.arange(s) for s in sizes]

    shape: list[tuple[int, ...]] = []

    def score(indices: list[np.ndarray], what: str) -> np.ndarray:
        out = np.asarray(score_fn(*indices), dtype=np.float64)
        check_finite(out, f"score_fn output ({what})")
        if shape and out.shape != shape[0]:
            raise UserInputError(
                f"score_fn must return the same shape every time, expected {shape[0]} "
                f"(point estimate), got {out.shape} ({what})"
            )
        if not shape:
            shape.append(out.shape)
        return out

    estimate = score(full, "point estimate")
    boot = np.stack([score([d[b] for d in draws], f"resample {b}") for b in range(n_boot)])
    jackknife = None
    if method == "bca":
        jackknife = []
        for k, s in enumerate(sizes):
            rows = []
            for i in range(s):
                idx = list(full)
                idx[k] = np.delete(full[k], i)
                rows.append(score(idx, f"jackknife set {k} unit {i}"))
            jackknife.append(np.stack(rows))
    low, high = _interval(boot, estimate, level, method, jackknife)
    return ScoreCI(_as_result(estimate), _as_result(low), _as_result(high))
