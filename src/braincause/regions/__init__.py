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
from braincause.utils import voxel_mask

__all__ = ["Region", "propose_region", "top_k"]


@dataclass(frozen=True)
class Region:
    """A candidate voxel set; ``voxels`` are indices into the subject's voxels, best first.

    Attributes
    ----------
    voxels : ndarray of shape (n_region,), int64
        The region's voxels, best first.
    rule : {"top_k", "causal_positive"}
        How they were chosen (see :func:`propose_region`).
    ranking : str
        Name of the ranking score (``"BrainCause"``, ``"MAG"``...); may be empty.
    k : int or None, default=None
        The size asked for with ``rule="top_k"``; None for ``causal_positive``.
    """

    voxels: np.ndarray = field(repr=False)
    rule: str
    ranking: str
    k: int | None = None

    @property
    def size(self) -> int:
        """Number of voxels in the region."""
        return len(self.voxels)

    def mask(self, n_voxels: int) -> np.ndarray:
        """The region as a boolean mask over the subject's voxels.

        Parameters
        ----------
        n_voxels : int
            The subject's number of voxels.

        Returns
        -------
        ndarray of shape (n_voxels,), bool
        """
        return voxel_mask(self.voxels, n_voxels)

    def to_dict(self) -> dict[str, Any]:
        """The region as JSON (the ``region`` block of result.json).

        Returns
        -------
        dict
            ``rule``, ``ranking``, ``k``, ``size`` and ``voxels`` (a list of int).
        """
        return {"rule": self.rule, "ranking": self.ranking, "k": self.k, "size": self.size,
                "voxels": [int(v) for v in self.voxels]}


def top_k(score: np.ndarray, keep: np.ndarray | None, k: int | None) -> np.ndarray:
    """Indices of the ``k`` highest finite ``score`` values among ``keep`` voxels (all of
    them when ``k`` is None), best first; ties go to the lower voxel index.

    Parameters
    ----------
    score : ndarray of shape (n_voxels,)
    keep : ndarray of shape (n_voxels,), bool, or None (every voxel)
    k : int or None

    Returns
    -------
    ndarray of shape (min(k, n_candidates),), int64; empty when no voxel qualifies
    """
    score = np.asarray(score, np.float64)
    ok = np.isfinite(score) if keep is None else np.isfinite(score) & np.asarray(keep, bool)
    cand = np.flatnonzero(ok)
    order = cand[np.lexsort((cand, -score[cand]))]
    return (order if k is None else order[:k]).astype(np.int64)


def propose_region(score: np.ndarray, *, keep: np.ndarray | None = None, k: int = 100,
                   rule: str = "top_k", s_causal: np.ndarray | None = None,
                   ranking: str = "") -> Region:
    """The top-``k`` voxels by ``score`` (ties broken by voxel index), or with
    ``rule="causal_positive"`` every voxel with S_causal > 0 (ordered by ``score``).

    Parameters
    ----------
    score : ndarray of shape (n_voxels,)
        Ranking score (higher is better; NaN never selected).
    keep : ndarray of shape (n_voxels,), bool, optional
        The voxels allowed (the encoder filter); None allows every voxel.
    k : int, default=100
        Region size with ``rule="top_k"`` (at least 1).
    rule : {"top_k", "causal_positive"}, default="top_k"
        The ``k`` best voxels, or every allowed voxel with S_causal > 0.
    s_causal : ndarray of shape (n_voxels,), optional
        Needed for ``rule="causal_positive"``.
    ranking : str, default=""
        Name of the ranking score, recorded in the region.

    Returns
    -------
    Region

    Raises
    ------
    UserInputError
        A bad shape, rule or ``k``, or no voxel qualifies.
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
    order = top_k(score, ok, k if rule == "top_k" else None)
    if order.size == 0:
        raise UserInputError("the region is empty: no voxel passes the encoder filter "
                             "with a finite score" + (" and S_causal > 0"
                                                     if rule == "causal_positive" else ""))
    return Region(order, rule, ranking, k if rule == "top_k" else None)
