"""Empirical p-values of a target score against baseline concepts."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from braincause.exceptions import UserInputError
from braincause.stats._validation import check_fraction, check_tail

__all__ = ["empirical_p", "min_baselines"]


def empirical_p(target_score: float, baseline_scores: np.ndarray, *, tail: int = 1) -> float:
    """p-value of a target concept's score among the scores of baseline concepts.

    With N baselines, the one-sided (``tail=1``) value is
    ``p = (1 + #{s_baseline >= s_target}) / (1 + N)``: the rank of the target among
    the N + 1 exchangeable scores, so under exchangeability ``P(p <= k/(N+1)) =
    k/(N+1)`` when there are no ties (ties count against the target).

    Parameters
    ----------
    target_score : float
        Score of the concept under test, finite.
    baseline_scores : array-like of shape (n_baselines,)
        Scores of the baseline concepts, n_baselines >= 1, no NaN (+-inf allowed).
    tail : {1, 0, -1}
        1: target larger than baselines; -1: smaller (``#{s_baseline <= s_target}``);
        0: two-sided, twice the smaller one-sided value, capped at 1.

    Returns
    -------
    float
        The p-value, in ``[1 / (1 + N), 1]``.

    Raises
    ------
    UserInputError
        Non-finite target, NaN in the baselines, fewer than one baseline, a
        baseline array that is not 1-D, or a bad ``tail``.
    """
    tail = check_tail(tail)
    if isinstance(target_score, bool) or not isinstance(target_score, Real | np.ndarray):
        raise UserInputError(f"target_score must be a real number, got {target_score!r}")
    target = np.asarray(target_score, dtype=np.float64)
    if target.ndim != 0 or not np.isfinite(target):
        raise UserInputError(f"target_score must be a finite scalar, got {target_score!r}")
    base = np.asarray(baseline_scores, dtype=np.float64)
    if base.ndim != 1:
        raise UserInputError(
            f"baseline_scores must be 1-D (n_baselines,), got shape {base.shape}"
        )
    if base.size < 1:
        raise UserInputError("baseline_scores must hold at least 1 baseline score, got 0")
    if np.isnan(base).any():
        raise UserInputError(
            f"baseline_scores must not contain NaN, got {int(np.isnan(base).sum())} NaN "
            f"of {base.size}"
        )
    n = base.size
    p_greater = (1.0 + np.count_nonzero(base >= target)) / (1.0 + n)
    p_less = (1.0 + np.count_nonzero(base <= target)) / (1.0 + n)
    if tail == 1:
        return float(p_greater)
    if tail == -1:
        return float(p_less)
    return float(min(1.0, 2.0 * min(p_greater, p_less)))


def min_baselines(alpha: float) -> int:
    """Smallest number of baselines N with ``1 / (1 + N) <= alpha``.

    Fewer baselines cannot give an empirical p-value at or below ``alpha``
    (``min_baselines(0.05) == 19``).

    Parameters
    ----------
    alpha : float
        Significance level, strictly between 0 and 1.

    Returns
    -------
    int
        N >= 1.
    """
    alpha = check_fraction(alpha, "alpha")
    n = max(1, math.ceil(1.0 / alpha - 1.0))
    while 1.0 / (1.0 + n) > alpha:  # guard the float rounding of 1/alpha
        n += 1
    while n > 1 and 1.0 / n <= alpha:
        n -= 1
    return n
