"""The concept-level p-value of a run and the q-values across a sweep's concepts.

A run's verdict is braincause's causal gate (:mod:`braincause.evaluate.causal`): an
intersection–union test that calls a discovery when its region is a TRAIN candidate and
*both* held-out tests reject at ``alpha``. Its p-value is therefore the largest of the
two tests' p-values (the smallest level at which both reject; Berger 1982), and 1 when
the region is no candidate or a test could not be run. Within each subject, the
sweep's concepts form one family: Benjamini–Hochberg (or, asked for,
Benjamini–Yekutieli) q-values over their p-values. "Discovery at FDR q" needs the
q-value at or below the level and high measured coverage (as the verdict does); the
verdict stays the per-run decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError

__all__ = ["FDR_METHODS", "P_RULE", "concept_p", "q_values"]

FDR_METHODS = ("bh", "by")
P_RULE = ("concept-level p = max of the causal gate's two held-out tests' p-values "
          "(intersection-union test), 1 when the region is no TRAIN candidate or a test is "
          "missing")


def concept_p(verdict: Mapping[str, Any] | None) -> tuple[float, dict[str, float | None]]:
    """The concept-level p-value of one run (module docstring).

    Parameters
    ----------
    verdict : dict or None
        result.json's ``verdict`` block.

    Returns
    -------
    p : float
        In [0, 1].
    tests : dict of str to float or None
        Each gate test's p-value.
    """
    gate = (verdict or {}).get("gate") or {}
    tests = {k: t.get("p") for k, t in (gate.get("tests") or {}).items()}
    ps = list(tests.values())
    if not gate.get("candidate") or not ps or any(p is None for p in ps):
        return 1.0, tests
    return float(min(1.0, max(ps))), tests


def q_values(p: Sequence[float], *, method: str = "bh") -> np.ndarray:
    """Adjusted p-values (q-values) of one family.

    Parameters
    ----------
    p : sequence of float
        p-values in [0, 1].
    method : {"bh", "by"}
        Benjamini–Hochberg (independent or positively dependent tests) or
        Benjamini–Yekutieli (any dependence).

    Returns
    -------
    ndarray of shape (len(p),)
    """
    from braincause.stats import fdr_bh, fdr_by

    if method not in FDR_METHODS:
        raise UserInputError(f"--fdr must be one of {', '.join(FDR_METHODS)}, got {method!r}")
    if not len(p):
        return np.zeros(0)
    return (fdr_bh if method == "bh" else fdr_by)(np.asarray(p, float))[1]
