"""The result record of the voxelwise max-T permutation tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braincause.stats._validation import check_fraction

__all__ = ["PermutationResult"]


@dataclass(frozen=True, eq=False)
class PermutationResult:
    """Outcome of a voxelwise permutation test with max-T family-wise correction.

    The arrays are made read-only so the record stays as frozen as its fields.

    Attributes
    ----------
    t_obs : ndarray of shape (n_voxels,), float64
        Observed t statistic of every voxel (signed, whatever the tail).
    p_fwer : ndarray of shape (n_voxels,), float64
        Family-wise error corrected p-values from the max-T null distribution.
    p_uncorrected : ndarray of shape (n_voxels,), float64
        Per-voxel permutation p-values, from the same permutations, no correction.
    max_null : ndarray of shape (n_permutations,), float64
        Maximum over voxels of the tail-oriented statistic (``t``, ``|t|`` or ``-t``
        for tail 1, 0, -1; ``|t|`` for every tail with ``max_stat="abs"``) in each
        permutation, in the order the permutations were drawn or enumerated.
    n_permutations : int
        Number of permutations behind the null (``2**n_samples`` when exact).
    exact : bool
        True when every sign pattern was enumerated (identity included), so
        ``p = count / n_permutations``; False when permutations were sampled and
        ``p = (1 + count) / (1 + n_permutations)``.
    tail : int
        1 (greater), 0 (two-sided) or -1 (less).
    statistic : str
        Which t statistic: ``"one-sample t"``, ``"welch t"`` or ``"pooled t"``.
    max_stat : str
        ``"signed"`` (the tail-oriented maximum) or ``"abs"`` (maximum of ``|t|``).
    """

    t_obs: np.ndarray
    p_fwer: np.ndarray
    p_uncorrected: np.ndarray
    max_null: np.ndarray
    n_permutations: int
    exact: bool
    tail: int
    statistic: str = "one-sample t"
    max_stat: str = field(default="signed")

    def __post_init__(self) -> None:
        for name in ("t_obs", "p_fwer", "p_uncorrected", "max_null"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_voxels(self) -> int:
        """Number of voxels tested."""
        return int(self.t_obs.shape[0])

    @property
    def min_attainable_p(self) -> float:
        """Smallest p-value this number of permutations can give."""
        if self.exact:
            return 1.0 / self.n_permutations
        return 1.0 / (1.0 + self.n_permutations)

    def significant(self, alpha: float = 0.05, *, corrected: bool = True) -> np.ndarray:
        """The voxels with p <= ``alpha`` (FWER-corrected by default).

        Parameters
        ----------
        alpha : float, default=0.05
            Significance level, strictly between 0 and 1.
        corrected : bool, default=True
            Compare :attr:`p_fwer` (True) or :attr:`p_uncorrected` (False).

        Returns
        -------
        ndarray of shape (n_voxels,), bool
        """
        alpha = check_fraction(alpha, "alpha")
        return (self.p_fwer if corrected else self.p_uncorrected) <= alpha

    def to_dict(self, alpha: float = 0.05) -> dict[str, Any]:
        """A JSON-ready summary (counts and minima, not the arrays).

        Parameters
        ----------
        alpha : float
            Significance level; a voxel counts as significant when p <= alpha.

        Returns
        -------
        dict
            ``statistic``, ``max_stat``, ``tail``, ``exact``, ``n_permutations``,
            ``n_voxels``, ``alpha``, ``n_significant_fwer``,
            ``n_significant_uncorrected``, ``min_p_fwer``, ``min_p_uncorrected``,
            ``min_attainable_p`` and ``max_abs_t``.
        """
        alpha = check_fraction(alpha, "alpha")
        return {
            "statistic": self.statistic,
            "max_stat": self.max_stat,
            "tail": self.tail,
            "exact": bool(self.exact),
            "n_permutations": int(self.n_permutations),
            "n_voxels": self.n_voxels,
            "alpha": alpha,
            "n_significant_fwer": int((self.p_fwer <= alpha).sum()),
            "n_significant_uncorrected": int((self.p_uncorrected <= alpha).sum()),
            "min_p_fwer": float(self.p_fwer.min()),
            "min_p_uncorrected": float(self.p_uncorrected.min()),
            "min_attainable_p": self.min_attainable_p,
            "max_abs_t": float(np.abs(self.t_obs).max()),
        }
