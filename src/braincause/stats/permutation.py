"""Voxelwise permutation t tests with max-T family-wise error control.

Both tests compute a t statistic for every voxel at once (matrix products over
all voxels), walk through the permutations in blocks of ``chunk_size`` so memory
stays bounded at ``O(chunk_size * n_voxels)``, and accumulate in float64.

The permutation matrices are drawn from the Generator in one call, in a fixed
order, before any block is processed, so results depend on ``random_state`` but
never on ``chunk_size``. A permutation equal to the identity (or, for sign flips,
to flipping every row) gets the observed statistic (or its negative) copied in
rather than recomputed, so round-off cannot drop the observed pattern from its
own count; beyond that, a permuted statistic within a relative 1e-10 of the
observed one counts as a tie, and ties count as "at least as extreme".

References
----------
Nichols, T. E. & Holmes, A. P. (2002). Nonparametric permutation tests for
functional neuroimaging: a primer with examples. Human Brain Mapping 15, 1-25.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

from braincause.exceptions import UserInputError
from braincause.stats._validation import (
    as_data_matrix,
    check_choice,
    check_chunk_size,
    check_int,
    check_tail,
    tail_statistic,
    tie_threshold,
)
from braincause.stats.result import PermutationResult
from braincause.utils import RandomState, check_random_state

__all__ = ["MAX_EXACT_SAMPLES", "label_permutation_max_t", "sign_flip_max_t"]

#: Largest number of samples for which all 2**n sign patterns may be enumerated.
MAX_EXACT_SAMPLES = 24


def _reject_constant(sd: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(sd == 0)
    if bad.size:
        raise UserInputError(
            f"{name} must vary across samples in every voxel, got {bad.size} constant "
            f"voxel(s) (first: column {int(bad[0])}); drop them before testing"
        )


def _one_sample_t(x: np.ndarray) -> np.ndarray:
    """Student's one-sample t of each column of ``x`` (n, V) against 0, two-pass."""
    n = x.shape[0]
    sd = x.std(axis=0, ddof=1)
    _reject_constant(sd, "diff")
    return x.mean(axis=0) / (sd / np.sqrt(n))


def _two_sample_t(a: np.ndarray, b: np.ndarray, equal_var: bool) -> np.ndarray:
    """Welch (or pooled) t of ``a`` (n_a, V) minus ``b`` (n_b, V), two-pass."""
    na, nb = a.shape[0], b.shape[0]
    va, vb = a.var(axis=0, ddof=1), b.var(axis=0, ddof=1)
    if equal_var:
        pooled = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        se = np.sqrt(pooled * (1.0 / na + 1.0 / nb))
    else:
        se = np.sqrt(va / na + vb / nb)
    with np.errstate(divide="ignore"):
        return (a.mean(axis=0) - b.mean(axis=0)) / se


def _finite_or_zero(t: np.ndarray) -> np.ndarray:
    """0/0 (a degenerate permutation) becomes 0; +-inf is kept."""
    t[np.isnan(t)] = 0.0
    return t


def _flipped_t(signs: np.ndarray, x: np.ndarray, sumsq: np.ndarray) -> np.ndarray:
    """One-sample t (c, V) of ``x`` (n, V) with rows multiplied by ``signs`` (c, n)."""
    n = x.shape[0]
    s = signs @ x
    var = (sumsq - s * s / n) / (n - 1)
    np.maximum(var, 0.0, out=var)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite_or_zero(s / np.sqrt(n * var))


def _relabelled_t(member: np.ndarray, x: np.ndarray, x2: np.ndarray, na: int,
                  equal_var: bool) -> np.ndarray:
    """Two-sample t (c, V) with group a = rows where ``member`` (c, n) is 1."""
    n = x.shape[0]
    nb = n - na
    sa, qa = member @ x, member @ x2
    sb, qb = x.sum(axis=0) - sa, x2.sum(axis=0) - qa
    va = np.maximum((qa - sa * sa / na) / (na - 1), 0.0)
    vb = np.maximum((qb - sb * sb / nb) / (nb - 1), 0.0)
    if equal_var:
        se2 = ((na - 1) * va + (nb - 1) * vb) / (n - 2) * (1.0 / na + 1.0 / nb)
    else:
        se2 = va / na + vb / nb
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite_or_zero((sa / na - sb / nb) / np.sqrt(se2))


def _max_t_test(blocks: Iterator[np.ndarray], t_obs: np.ndarray, *, n_perm: int, tail: int,
                exact: bool, max_stat: str, statistic: str) -> PermutationResult:
    """Accumulate counts and the max null over blocks of permuted t (c, V)."""
    obs = tail_statistic(t_obs, tail)
    threshold = tie_threshold(obs)
    counts = np.zeros(t_obs.shape[0], dtype=np.int64)
    max_null = np.empty(n_perm, dtype=np.float64)
    done = 0
    for t in blocks:
        oriented = tail_statistic(t, tail)
        counts += (oriented >= threshold).sum(axis=0)
        peak = np.abs(t) if max_stat == "abs" else oriented
        max_null[done:done + t.shape[0]] = peak.max(axis=1)
        done += t.shape[0]
    if done != n_perm:  # pragma: no cover - internal consistency
        raise RuntimeError(f"expected {n_perm} permutations, processed {done}")
    count_max = n_perm - np.searchsorted(np.sort(max_null), threshold, side="left")
    if exact:
        p_unc, p_fwer = counts / n_perm, count_max / n_perm
    else:
        p_unc, p_fwer = (1.0 + counts) / (1.0 + n_perm), (1.0 + count_max) / (1.0 + n_perm)
    return PermutationResult(
        t_obs=t_obs, p_fwer=p_fwer, p_uncorrected=p_unc, max_null=max_null,
        n_permutations=n_perm, exact=exact, tail=tail, statistic=statistic,
        max_stat=max_stat,
    )


def _enumerated_signs(n: int, chunk: int) -> Iterator[np.ndarray]:
    """All 2**n sign patterns (c, n) in binary order: pattern k flips row i if bit i is set."""
    bit = np.arange(n, dtype=np.int64)
    total = 1 << n
    for start in range(0, total, chunk):
        k = np.arange(start, min(total, start + chunk), dtype=np.int64)
        yield 1.0 - 2.0 * ((k[:, None] >> bit) & 1)


def sign_flip_max_t(
    diff: np.ndarray,
    *,
    n_permutations: int = 1000,
    tail: int = 1,
    random_state: RandomState = None,
    exact: bool | Literal["auto"] = "auto",
    max_stat: Literal["signed", "abs"] = "signed",
    chunk_size: int | None = None,
) -> PermutationResult:
    """One-sample sign-flip permutation t test per voxel, max-T corrected.

    Tests whether the paired differences ``diff`` (e.g. response to a positive
    minus response to its hardest edit) have mean 0 in each voxel. Under the null
    each row is symmetric about 0, so the null distribution comes from flipping
    the signs of whole rows (all voxels of a row together, which keeps the spatial
    correlation). Family-wise error is controlled with the maximum statistic over
    voxels in each permutation.

    Parameters
    ----------
    diff : array_like, shape (n_samples, n_voxels)
        Paired differences, finite; no voxel may be constant.
    n_permutations : int
        Number of random sign patterns when sampling (with replacement; the
        observed pattern is added separately). Ignored when enumerating.
    tail : {1, 0, -1}
        1: mean > 0 (statistic t); 0: mean != 0 (|t|); -1: mean < 0 (-t).
    random_state : int, numpy.random.Generator, SeedSequence or None
        Source of the sign patterns, via :func:`braincause.utils.check_random_state`.
        Unused when enumerating.
    exact : {"auto", True, False}
        Enumerate all ``2**n_samples`` sign patterns (True), sample (False), or
        enumerate when ``2**n_samples <= n_permutations`` and n_samples <=
        :data:`MAX_EXACT_SAMPLES` ("auto"). ``exact=True`` with more samples is an
        error.
    max_stat : {"signed", "abs"}
        Statistic maximised over voxels for the family-wise null. "signed" (default)
        takes the tail-oriented statistic, the usual one-sided max-T. "abs" takes
        ``|t|`` for every tail, which reproduces :func:`mne.stats.permutation_t_test`
        (whose one-sided p-values use a ``max |t|`` null) and is conservative for
        one-sided tests. Same for both when ``tail=0``. Uncorrected p-values always
        use the tail-oriented statistic.
    chunk_size : int or None
        Permutations per block (memory ~ ``chunk_size * n_voxels * 8`` bytes times a
        few); None sizes blocks to about 8 MiB. Does not change the results.

    Returns
    -------
    PermutationResult
        ``t_obs`` (n_voxels,) is Student's one-sample t, ``mean / (sd / sqrt(n))``
        with ``sd`` the ddof=1 standard deviation (as ``scipy.stats.ttest_1samp``
        and MNE). With sampling, ``p = (1 + #{perm: stat >= obs}) / (1 + B)``;
        with enumeration, ``p = #{patterns: stat >= obs} / 2**n`` where the
        patterns include the observed one.

    Raises
    ------
    UserInputError
        Bad shapes, NaN/inf, constant voxels, ``n_permutations < 1``, bad ``tail``,
        ``exact`` or ``max_stat``, or enumeration of too many samples.
    """
    x = as_data_matrix(diff, "diff")
    n, n_vox = x.shape
    n_perm = check_int(n_permutations, "n_permutations")
    tail = check_tail(tail)
    check_choice(exact, "exact", ("auto", True, False))
    check_choice(max_stat, "max_stat", ("signed", "abs"))
    chunk = check_chunk_size(chunk_size, n_vox)
    t_obs = _one_sample_t(x)
    enumerate_all = exact is True or (
        exact == "auto" and n <= MAX_EXACT_SAMPLES and 2**n <= n_perm
    )
    if enumerate_all:
        if n > MAX_EXACT_SAMPLES:
            raise UserInputError(
                f"exact enumeration needs n_samples <= {MAX_EXACT_SAMPLES} "
                f"(2**n_samples sign patterns), got n_samples={n}; use exact=False"
            )
        blocks: Iterator[np.ndarray] = _enumerated_signs(n, chunk)
        n_perm = 1 << n
    else:
        flips = check_random_state(random_state).integers(0, 2, size=(n_perm, n),
                                                          dtype=np.int8)
        blocks = (1.0 - 2.0 * flips[i:i + chunk] for i in range(0, n_perm, chunk))
    sumsq = np.einsum("ij,ij->j", x, x)

    def t_blocks() -> Iterator[np.ndarray]:
        for signs in blocks:
            t = _flipped_t(signs, x, sumsq)
            t[(signs > 0).all(axis=1)] = t_obs
            t[(signs < 0).all(axis=1)] = -t_obs
            yield t

    return _max_t_test(t_blocks(), t_obs, n_perm=n_perm, tail=tail, exact=enumerate_all,
                       max_stat=max_stat, statistic="one-sample t")


def label_permutation_max_t(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_permutations: int = 1000,
    tail: int = 1,
    equal_var: bool = False,
    random_state: RandomState = None,
    chunk_size: int | None = None,
) -> PermutationResult:
    """Two-sample label-permutation t test per voxel, max-T corrected.

    Tests whether group ``a`` (e.g. responses to positives) and group ``b`` (e.g.
    responses to semantic negatives) have the same mean in each voxel. The null
    distribution comes from reassigning the group labels of whole rows at random
    (group sizes kept); family-wise error is controlled with the maximum statistic
    over voxels in each permutation.

    The default statistic is Welch's t: unlike the pooled t, its permutation test
    stays asymptotically valid for equal means when the groups differ in size and
    variance (Janssen 1997; Chung & Romano 2013), which is the usual situation
    for positives vs. negatives.

    Parameters
    ----------
    a : array_like, shape (n_a, n_voxels)
        First group, n_a >= 2, finite.
    b : array_like, shape (n_b, n_voxels)
        Second group, n_b >= 2, finite, same voxels as ``a``.
    n_permutations : int
        Number of random relabellings (drawn with replacement; the observed
        labelling is added separately).
    tail : {1, 0, -1}
        1: mean(a) > mean(b); 0: means differ (|t|); -1: mean(a) < mean(b).
    equal_var : bool
        False (default): Welch's t. True: Student's pooled-variance t.
    random_state : int, numpy.random.Generator, SeedSequence or None
        Source of the relabellings, via :func:`braincause.utils.check_random_state`.
    chunk_size : int or None
        Permutations per block; None sizes blocks to about 8 MiB. Does not change
        the results.

    Returns
    -------
    PermutationResult
        ``t_obs`` (n_voxels,) equals ``scipy.stats.ttest_ind(a, b,
        equal_var=equal_var).statistic``; ``p = (1 + #{perm: stat >= obs}) / (1 + B)``
        for both the uncorrected and the max-T corrected p-values.

    Raises
    ------
    UserInputError
        Bad shapes, mismatched voxel counts, NaN/inf, voxels constant over both
        groups, ``n_permutations < 1`` or bad ``tail``.
    """
    a = as_data_matrix(a, "a")
    b = as_data_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise UserInputError(
            f"a and b must have the same number of voxels (columns), got a with "
            f"{a.shape[1]} and b with {b.shape[1]}"
        )
    n_perm = check_int(n_permutations, "n_permutations")
    tail = check_tail(tail)
    check_choice(equal_var, "equal_var", (True, False))
    chunk = check_chunk_size(chunk_size, a.shape[1])
    na, n = a.shape[0], a.shape[0] + b.shape[0]
    x = np.concatenate([a, b], axis=0)
    sd = x.std(axis=0)
    _reject_constant(sd, "a and b together")
    t_obs = _two_sample_t(a, b, equal_var)
    # t is invariant to a common shift and scale: standardise for stable moments
    x = (x - x.mean(axis=0)) / sd
    x2 = x * x
    observed = np.zeros(n, dtype=bool)
    observed[:na] = True
    rng = check_random_state(random_state)
    members = rng.permuted(np.tile(observed, (n_perm, 1)), axis=1)

    def t_blocks() -> Iterator[np.ndarray]:
        for i in range(0, n_perm, chunk):
            member = members[i:i + chunk]
            t = _relabelled_t(member.astype(np.float64), x, x2, na, equal_var)
            t[(member == observed).all(axis=1)] = t_obs
            if 2 * na == n:  # swapping equal-sized groups negates t exactly
                t[(member != observed).all(axis=1)] = -t_obs
            yield t

    return _max_t_test(t_blocks(), t_obs, n_perm=n_perm, tail=tail, exact=False,
                       max_stat="signed", statistic="pooled t" if equal_var else "welch t")
