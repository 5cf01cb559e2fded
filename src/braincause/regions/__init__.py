"""Region proposals (PAPER.md §2.4, §3): top-K voxels or S_causal > 0.

Regions are chosen on the TRAIN split only, among the voxels that pass the
encoder filter, and tested on held-out data elsewhere (the paper selects and
tests on the same data; braincause does not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError

__all__ = ["Region", "propose_region"]


@dataclass(frozen=True)
class Region:
    """A candidate voxel set; ``voxels`` are indices into the subject's voxels, best first."""

    voxels: np.ndarray = field(repr=False)
    rule: str
    ranking: str
    k: int | None = None

    @property
    def size(self) -> int:
        return len(self.voxels)

    def mask(self, n_voxels: int) -> np.ndarray:
        m = np.zeros(n_voxels, bool)
        m[self.voxels] = True
        return m

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "ranking": self.ranking, "k": self.k, "size": self.size,
                "voxels": [int(v) for v in self.voxels]}


def propose_region(score: np.ndarray, *, keep: np.ndarray | None = None, k: int = 100,
                   rule: str = "top_k", s_causal: np.ndarray | None = None,
                   ranking: str = "") -> Region:
    """The top-``k`` voxels by ``score`` (ties broken by voxel index), or with
    ``rule="causal_positive"`` every voxel with S_causal > 0 (ordered by ``score``).

    Parameters
    ----------
    score : (n_voxels,) ranking score (higher is better; NaN never selected)
    keep : (n_voxels,) bool, voxels allowed (the encoder filter)
    s_causal : (n_voxels,) needed for ``causal_positive``
    """
    score = np.asarray(score, np.float64)
    if score.ndim != 1:
        raise UserInputError(f"score must be (n_voxels,), got shape {score.shape}")
    ok = np.isfinite(score)
    if keep is not None:
        keep = np.asarray(keep, bool)
        if keep.shape != score.shape:
            raise UserInputError(f"keep has shape {keep.shape}, score {score.shape}")
        ok &= keep
    if rule == "causal_positive":
        if s_causal is None:
            raise UserInputError("rule 'causal_positive' needs s_causal")
        ok &= np.nan_to_num(np.asarray(s_causal, np.float64), nan=-np.inf) > 0
    elif rule != "top_k":
        raise UserInputError(f"rule must be 'top_k' or 'causal_positive', got {rule!r}")
    if k < 1:
        raise UserInputError(f"k must be ≥ 1, got {k}")
    cand = np.flatnonzero(ok)
    order = cand[np.lexsort((cand, -score[cand]))]
    if rule == "top_k":
        order = order[:k]
    if order.size == 0:
        raise UserInputError("the region is empty: no voxel passes the encoder filter "
                             "with a finite score" + (" and S_causal > 0"
                                                     if rule == "causal_positive" else ""))
    return Region(order.astype(np.int64), rule, ranking, k if rule == "top_k" else None)
