"""Statistics for causal localization: voxelwise permutation tests, FDR, bootstrap CIs.

* :func:`sign_flip_max_t` - paired / one-sample sign-flip t test per voxel, max-T
  family-wise error control (exact enumeration for small samples);
* :func:`label_permutation_max_t` - two-sample (Welch) label-permutation t test per
  voxel, max-T corrected;
* :func:`fdr_bh`, :func:`fdr_by` - Benjamini-Hochberg / -Yekutieli adjusted p-values;
* :func:`spin_samples`, :func:`spin_test` - spatial nulls of maps on a sphere
  (rotations from neuromaps) and the spin-test p-value of a map comparison;
* :func:`bootstrap_ci`, :func:`bootstrap_score_ci` - percentile / BCa intervals, for
  voxelwise statistics or for scores recomputed from resampled units;
* :func:`empirical_p`, :func:`min_baselines` - a target score against baseline concepts.

Conventions: arrays are (n_samples, n_voxels); ``tail`` is 1 (greater), 0
(two-sided) or -1 (less); randomness comes from ``random_state`` through
:func:`braincause.utils.check_random_state`; bad input raises
:class:`braincause.exceptions.UserInputError`.
"""

from braincause.stats.bootstrap import ScoreCI, bootstrap_ci, bootstrap_score_ci
from braincause.stats.empirical import empirical_p, min_baselines
from braincause.stats.fdr import fdr_bh, fdr_by
from braincause.stats.permutation import label_permutation_max_t, sign_flip_max_t
from braincause.stats.result import PermutationResult
from braincause.stats.spin import SpinTest, spin_samples, spin_test

__all__ = [
    "PermutationResult",
    "ScoreCI",
    "SpinTest",
    "bootstrap_ci",
    "bootstrap_score_ci",
    "empirical_p",
    "fdr_bh",
    "fdr_by",
    "label_permutation_max_t",
    "min_baselines",
    "sign_flip_max_t",
    "spin_samples",
    "spin_test",
]
