"""Region scores with bootstrap confidence intervals (beyond the paper, which gives none).

The region response ``a_R(x) = mean_{v∈R} a_v(x)`` is scored with the paper's formulas
(PAPER.md §2.4). The bootstrap resamples the *units* the scores are built from:
positives (each with its own edits, so a positive and its hardest edit stay paired)
and semantic negatives, independently; every replicate re-selects the hardest
negatives and edits, exactly like the point estimate. Intervals are percentile
intervals at ``level``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from braincause.exceptions import UserInputError
from braincause.scoring import (
    K_HARD,
    hardest_edit,
    region_point_scores,
    s_causal,
    s_edit,
    s_neg,
    s_pos,
)
from braincause.utils import check_random_state


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
    point = region_point_scores(a_pos, a_neg, a_edit, edit_of, k_hard=k_hard)
    boot: dict[str, np.ndarray | None] = {"s_pos": s_pos(a_pos[ip], axis=1), "s_neg": None,
                                          "s_edit": None, "s_causal": None}
    counts = {"s_pos": n_pos, "s_neg": 0, "s_edit": 0, "s_causal": 0}
    if point["s_neg"] is not None:
        a_neg = np.asarray(a_neg, np.float64)
        ineg = rng.integers(0, a_neg.size, (n_boot, a_neg.size))
        boot["s_neg"] = s_neg(boot["s_pos"], a_neg[ineg], k_hard, axis=1)
        counts["s_neg"] = int(a_neg.size)
    if point["s_edit"] is not None:
        hardest = hardest_edit(a_edit, edit_of, n_pos)[0]
        boot["s_edit"] = s_edit(a_pos[ip], hardest[ip], axis=1)  # NaN: no edited one drawn
        counts["s_edit"] = int(np.isfinite(hardest).sum())
    if point["s_causal"] is not None:
        boot["s_causal"] = s_causal(boot["s_neg"], boot["s_edit"])
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
