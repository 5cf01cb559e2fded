"""Region scores with bootstrap confidence intervals (beyond the paper, which gives none).

The region response ``a_R(x) = mean_{v∈R} a_v(x)`` is scored with the paper's formulas
(PAPER.md §2.4). The bootstrap resamples the *units* the scores are built from:
positives (each with its own edits, so a positive and its hardest edit stay paired)
and semantic negatives, independently; every replicate re-selects the hardest
negatives and edits, exactly like the point estimate. Intervals are percentile
intervals at ``level``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError
from braincause.scoring import K_HARD
from braincause.utils import check_random_state


def _hardest_per_positive(a_edit: np.ndarray, edit_of: np.ndarray, n_pos: int) -> np.ndarray:
    h = np.full(n_pos, -np.inf)
    np.maximum.at(h, edit_of, a_edit)
    h[~np.isfinite(h)] = np.nan
    return h


def _topk_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values along the last axis."""
    n = x.shape[-1]
    k = min(k, n)
    return np.partition(x, n - k, axis=-1)[..., n - k:].mean(axis=-1)


def region_scores_ci(a_pos: np.ndarray, a_neg: np.ndarray | None = None,
                     a_edit: np.ndarray | None = None, edit_of: np.ndarray | None = None, *,
                     k_hard: int = K_HARD, n_boot: int = 2000, level: float = 0.95,
                     alpha: float = 0.05, random_state: Any = None
                     ) -> dict[str, dict[str, float | None]]:
    """S_pos, S_neg, S_edit, S_causal of a region with percentile bootstrap CIs.

    Parameters
    ----------
    a_pos : (N_P,) region-averaged responses to positives
    a_neg : (N_N,) or None, to semantic negatives
    a_edit : (N_E,) or None, to edits, with ``edit_of`` (N_E,) the positive of each edit

    alpha : float
        Also report ``lower_one_sided``, the one-sided (1 − alpha) lower bound (the
        ``alpha`` percentile): "score > 0" at one-sided level alpha, the test the verdict
        asks of a criterion.

    Returns
    -------
    dict
        ``{score: {"value", "ci_low", "ci_high", "lower_one_sided", "n"}}``; None where a
        term has no data.
    """
    if not 0 < level < 1:
        raise UserInputError(f"level must be in (0, 1), got {level}")
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha must be in (0, 1), got {alpha}")
    if n_boot < 1:
        raise UserInputError(f"n_boot must be ≥ 1, got {n_boot}")
    a_pos = np.asarray(a_pos, np.float64)
    n_pos = a_pos.size
    if n_pos == 0:
        raise UserInputError("no positives to score")
    rng = check_random_state(random_state)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    ip = rng.integers(0, n_pos, (n_boot, n_pos))
    boot: dict[str, np.ndarray | None] = {"s_pos": a_pos[ip].mean(axis=1)}
    point: dict[str, float | None] = {"s_pos": float(a_pos.mean())}
    counts = {"s_pos": n_pos, "s_neg": 0, "s_edit": 0, "s_causal": 0}
    boot["s_neg"] = None
    point["s_neg"] = None
    if a_neg is not None and len(a_neg):
        a_neg = np.asarray(a_neg, np.float64)
        point["s_neg"] = float(a_pos.mean() - _topk_mean(a_neg, k_hard))
        ineg = rng.integers(0, a_neg.size, (n_boot, a_neg.size))
        boot["s_neg"] = boot["s_pos"] - _topk_mean(a_neg[ineg], k_hard)
        counts["s_neg"] = int(a_neg.size)
    boot["s_edit"] = None
    point["s_edit"] = None
    if a_edit is not None and len(a_edit):
        d = a_pos - _hardest_per_positive(np.asarray(a_edit, np.float64),
                                          np.asarray(edit_of), n_pos)
        point["s_edit"] = float(np.nanmean(d))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            boot["s_edit"] = np.nanmean(d[ip], axis=1)   # NaN if a replicate drew no edited one
        counts["s_edit"] = int(np.isfinite(d).sum())
    point["s_causal"] = None
    boot["s_causal"] = None
    if point["s_neg"] is not None and point["s_edit"] is not None:
        point["s_causal"] = 0.5 * (point["s_neg"] + point["s_edit"])
        boot["s_causal"] = 0.5 * (boot["s_neg"] + boot["s_edit"])
        counts["s_causal"] = min(counts["s_neg"], counts["s_edit"])
    out: dict[str, dict[str, float | None]] = {}
    for k in ("s_pos", "s_neg", "s_edit", "s_causal"):
        b = boot[k]
        if b is None or point[k] is None:
            out[k] = {"value": None, "ci_low": None, "ci_high": None,
                      "lower_one_sided": None, "n": counts[k]}
            continue
        b = b[np.isfinite(b)]
        lo, hi, one = np.percentile(b, [*q, alpha * 100]) if b.size else (np.nan,) * 3
        out[k] = {"value": round(float(point[k]), 6), "ci_low": round(float(lo), 6),
                  "ci_high": round(float(hi), 6), "lower_one_sided": round(float(one), 6),
                  "n": counts[k]}
    return out


def region_point_scores(a_pos: np.ndarray, a_neg: np.ndarray | None, a_edit: np.ndarray | None,
                        edit_of: np.ndarray | None, *, k_hard: int = K_HARD
                        ) -> dict[str, float | None]:
    """The point estimates only (for baseline concepts)."""
    a_pos = np.asarray(a_pos, np.float64)
    out: dict[str, float | None] = {"s_pos": float(a_pos.mean()) if a_pos.size else None,
                                    "s_neg": None, "s_edit": None, "s_causal": None}
    if a_pos.size and a_neg is not None and len(a_neg):
        out["s_neg"] = float(a_pos.mean() - _topk_mean(np.asarray(a_neg, np.float64), k_hard))
    if a_pos.size and a_edit is not None and len(a_edit):
        d = a_pos - _hardest_per_positive(np.asarray(a_edit, np.float64), np.asarray(edit_of),
                                          a_pos.size)
        out["s_edit"] = float(np.nanmean(d))
    if out["s_neg"] is not None and out["s_edit"] is not None:
        out["s_causal"] = 0.5 * (out["s_neg"] + out["s_edit"])
    return out
