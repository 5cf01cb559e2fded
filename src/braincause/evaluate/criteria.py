"""Baseline-concept p-values of the paper's criteria (PAPER.md §2.6).

Each criterion (:data:`braincause.config.CRITERIA`) is a region score on held-out data;
its p-value is the rank of the target's score among the same region's scores for
baseline concepts: ``p = (1 + #{baseline ≥ target}) / (1 + N_baselines)``, one-sided.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from braincause.config import CRITERIA
from braincause.stats import empirical_p

#: the prefix of a criterion's data in a baseline's point scores (``"gen:s_neg"``)
_PREFIX = {"eval_generated": "gen", "eval_measured": "meas"}


def baseline_p_values(scores: dict[str, Any], baselines: dict[str, dict[str, float | None]]
                      ) -> dict[str, dict[str, Any]]:
    """Every criterion's target value, one-sided lower bound and baseline p-value.

    Parameters
    ----------
    scores : dict
        The region's scores with CIs (``{"eval_generated": {"s_neg": {"value": …,
        "lower_one_sided": …}}, "eval_measured": … or None}``).
    baselines : dict
        ``{baseline concept: {"gen:s_neg": float, "meas:s_pos": float, …}}``, the same
        region's point scores on each baseline's data.

    Returns
    -------
    dict
        ``{criterion: {"value", "lower_one_sided", "p", "n_baselines",
        "baselines_at_least_as_high"}}`` (None where the target has no data).
    """
    out = {}
    for crit, (block_name, s) in CRITERIA.items():
        block = scores[block_name]
        val = None if block is None else block[s]["value"]
        low = None if block is None else block[s]["lower_one_sided"]
        named = [(b, e.get(f"{_PREFIX[block_name]}:{s}")) for b, e in baselines.items()]
        named = [(b, v) for b, v in named if v is not None and np.isfinite(v)]
        base = [v for _, v in named]
        p = float(empirical_p(val, np.asarray(base))) if val is not None and base else None
        out[crit] = {"value": val, "lower_one_sided": low,
                     "p": None if p is None else round(p, 6), "n_baselines": len(base),
                     "baselines_at_least_as_high": (
                         None if val is None else [b for b, v in named if v >= val])}
    return out
