"""Voxelwise permutation t tests with max-T family-wise error control.

Both tests compute t statistics with matrix products, walk through the
permutations and the voxels in blocks (``chunk_size`` permutations by a tile of
voxels) so memory stays bounded by the block size, whatever the number of
permutations or voxels, and accumulate in float64.

For sign flips the permuted t is a monotone function of one matrix product, so
the blocks never form t: with ``Q = sum_i x_i**2`` (fixed by the flips) and ``s``
the flipped column sum, ``u = s / sqrt(n Q)`` gives ``t = sqrt(n - 1) u /
sqrt(1 - u**2)``, the same increasing map for every voxel. Each block is one
matmul, a comparison of ``s`` with the tie threshold mapped into its units, a
rescaling and a row maximum mapped back to t: a few passes over the block instead
of a dozen. Exact enumeration computes half of the sign patterns and reads each
complement's statistic (the negation) off the same block. The two-sample t needs
two products (sums and sums of squares) and is formed in place. The blocks run
with the BLAS on one thread (see :func:`_one_blas_thread`).

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

from typing import Literal

import numpy as np

from braincause.exceptions import UserInputError
from braincause.stats._validation import (
    CHUNK_BYTES,
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

#: Bytes of one (permutations, voxels) float64 block when ``chunk_size`` is None.
BLOCK_BYTES = 1 << 22

#: Most voxels per block when ``chunk_size`` is None.
VOXEL_TILE = 2048


def _reject_constant(sd: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(sd == 0)
    if bad.size:
        raise UserInputError(
            f"{name} must vary across samples in every voxel, got {bad.size} constant "
            f"voxel(s) (first: column {int(bad[0])}); drop them before testing"
        )


def _column_tiles(n_voxels: int) -> list[slice]:
    """Slices of at most ``VOXEL_TILE`` columns covering ``n_voxels``."""
    return [slice(v, v + VOXEL_TILE) for v in range(0, n_voxels, VOXEL_TILE)]


def _one_sample_t(x: np.ndarray) -> np.ndarray:
    """Student's one-sample t of each column of ``x`` (n, V) against 0, two-pass.

    Column tile by column tile, so the temporaries stay small (each column's
    arithmetic is the same as on the whole array)."""
    n, n_vox = x.shape
    mean, sd = np.empty(n_vox), np.empty(n_vox)
    for cols in _column_tiles(n_vox):
        mean[cols] = x[:, cols].mean(axis=0)
        sd[cols] = x[:, cols].std(axis=0, ddof=1)
    _reject_constant(sd, "diff")
    return mean / (sd / np.sqrt(n))


def _two_sample_t(a: np.ndarray, b: np.ndarray, equal_var: bool) -> np.ndarray:
    """Welch (or pooled) t of ``a`` (n_a, V) minus ``b`` (n_b, V), two-pass, by column tiles."""
    na, nb = a.shape[0], b.shape[0]
    diff, va, vb = np.empty(a.shape[1]), np.empty(a.shape[1]), np.empty(a.shape[1])
    for cols in _column_tiles(a.shape[1]):
        va[cols], vb[cols] = a[:, cols].var(axis=0, ddof=1), b[:, cols].var(axis=0, ddof=1)
        diff[cols] = a[:, cols].mean(axis=0) - b[:, cols].mean(axis=0)
    if equal_var:
        pooled = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        se = np.sqrt(pooled * (1.0 / na + 1.0 / nb))
    else:
        se = np.sqrt(va / na + vb / nb)
    with np.errstate(divide="ignore"):
        return diff / se


def _stacked_sd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Standard deviation (ddof 0) of each column of ``a`` and ``b`` stacked, by tiles."""
    sd = np.empty(a.shape[1])
    for cols in _column_tiles(a.shape[1]):
        sd[cols] = np.concatenate([a[:, cols], b[:, cols]], axis=0).std(axis=0)
    return sd


def _rows_in(positions: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Entries of the sorted ``positions`` in [start, stop), relative to ``start``."""
    lo, hi = np.searchsorted(positions, [start, stop])
    return positions[lo:hi] - start


def _finite_or_zero(t: np.ndarray) -> np.ndarray:
    """0/0 (a degenerate permutation) becomes 0; +-inf is kept."""
    t[np.isnan(t)] = 0.0
    return t


def _t_from_u(u: np.ndarray, dof: int) -> np.ndarray:
    """``t = sqrt(dof) u / sqrt(1 - u**2)``, increasing on [-1, 1]; +-1 (or beyond, by
    round-off) gives +-inf, NaN stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(dof) * u / np.sqrt(np.maximum(1.0 - u * u, 0.0))


def _u_from_t(t: np.ndarray, dof: int) -> np.ndarray:
    """Inverse of :func:`_t_from_u`: ``u = t / sqrt(dof + t**2)``, +-inf to +-1."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(t), np.sign(t), t / np.hypot(np.sqrt(dof), t))


def _blocks(n_voxels: int, chunk_size: int | None) -> tuple[int, int]:
    """(permutations, voxels) per block: ``chunk_size`` permutations (and at most
    ``CHUNK_BYTES`` per block), or ``BLOCK_BYTES`` blocks of at most ``VOXEL_TILE``
    voxels (short, wide blocks make slow matrix products; small ones stay in cache)."""
    if chunk_size is None:
        tile = min(n_voxels, VOXEL_TILE)
        return max(1, BLOCK_BYTES // (8 * tile)), tile
    chunk = check_chunk_size(chunk_size, n_voxels)
    return chunk, max(1, min(n_voxels, CHUNK_BYTES // (8 * chunk)))


def _one_blas_thread():
    """Context holding the BLAS to one thread while the blocks are processed.

    The products here are many and small (for sign flips the inner dimension is
    the number of samples); handing each to a second BLAS thread costs more than it
    brings, and on a busy machine far more: measured on 2 cores shared with other
    jobs, 1.5 to 13 times slower than one thread, the more so the smaller the blocks.
    scikit-learn limits its BLAS the same way around such loops.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class _MaxT:
    """Per-voxel counts and per-permutation maxima, accumulated block by block.

    Blocks hold a statistic ``z`` (c, v) for c permutations and a tile of v
    voxels, with ``t = to_t(z * scale)``: ``to_t`` odd, increasing and the same for
    every voxel (the identity for the two-sample t), ``scale`` (V,) positive or
    None (1). Counts compare ``z`` with the tie threshold mapped into its units
    (0 stays exactly 0, as for t); maxima are kept in the units of ``z * scale``
    and only mapped to t at the end. Rows set to NaN count nowhere and their null
    entries come from :meth:`add_t` with an exactly known t (the observed pattern
    and its mirror). With ``mirrored``, the rows are the first half of an exact
    enumeration whose pattern ``2 * n_rows - 1 - k`` has statistic ``-z[k]``.
    """

    def __init__(self, t_obs: np.ndarray, *, n_rows: int, tail: int, max_stat: str,
                 mirrored: bool = False, to_t=None, to_u=None,
                 scale: np.ndarray | None = None) -> None:
        self.tail, self.abs_max, self.mirrored = tail, max_stat == "abs", mirrored
        self.to_t = to_t if to_t is not None else (lambda z: z)
        self.scale = scale
        self.threshold = tie_threshold(tail_statistic(t_obs, tail))  # oriented, in t
        z_thr = self.threshold if to_u is None else to_u(self.threshold)
        if scale is not None:
            z_thr = z_thr / scale
        self.z_threshold = np.ascontiguousarray(z_thr, dtype=np.float64)
        self.counts = np.zeros(t_obs.shape[0], dtype=np.int64)
        self.hi = np.full(n_rows, -np.inf)
        # the lowest oriented z of a row: the mirror's maximum, or part of max |t|
        self.need_lo = tail != 0 and (self.abs_max or mirrored)
        self.lo = np.full(n_rows, np.inf) if self.need_lo else None
        self.exact_t: dict[int, float] = {}
        self._hits = np.empty(0, dtype=bool)

    def _count(self, z: np.ndarray, voxels: slice, lower: bool) -> None:
        """Add, per voxel, the rows with ``z >= thr`` (or ``z <= -thr`` if ``lower``)."""
        if self._hits.size < z.size:
            self._hits = np.empty(z.size, dtype=bool)
        hits = self._hits[:z.size].reshape(z.shape)
        thr = self.z_threshold[voxels]
        if lower:
            np.less_equal(z, -thr, out=hits)
        else:
            np.greater_equal(z, thr, out=hits)
        self.counts[voxels] += np.add.reduce(hits.view(np.uint8), axis=0, dtype=np.int32)

    def add(self, z: np.ndarray, rows: slice, voxels: slice) -> None:
        """Accumulate block ``z`` (c, v), overwritten, for permutations ``rows`` and
        voxels ``voxels``."""
        with np.errstate(invalid="ignore"):
            if self.tail == -1:
                np.negative(z, out=z)  # oriented: larger is more extreme
            elif self.tail == 0:
                np.abs(z, out=z)
            self._count(z, voxels, lower=False)
            if self.mirrored:  # -z: oriented -z for tails +-1, the same |z| for tail 0
                self._count(z, voxels, lower=self.tail != 0)
            if self.scale is not None:
                z *= self.scale[voxels]
            np.fmax(self.hi[rows], z.max(axis=1), out=self.hi[rows])  # NaN rows: skipped
            if self.lo is not None:
                np.fmin(self.lo[rows], z.min(axis=1), out=self.lo[rows])

    def add_t(self, t: np.ndarray, position: int) -> None:
        """Accumulate the permutation at ``position`` of the null, whose t (V,) is known."""
        oriented = tail_statistic(t, self.tail)
        self.counts += oriented >= self.threshold
        self.exact_t[position] = float((np.abs(t) if self.abs_max else oriented).max())

    def result(self, t_obs: np.ndarray, *, exact: bool, statistic: str,
               max_stat: str) -> PermutationResult:
        with np.errstate(invalid="ignore"):
            peak = self.hi if not self.abs_max or self.lo is None else np.fmax(self.hi,
                                                                              -self.lo)
            max_null = self.to_t(peak)
            if self.mirrored:
                mirror = max_null if self.lo is None or self.abs_max else self.to_t(-self.lo)
                max_null = np.concatenate([max_null, mirror[::-1]])
        for position, value in self.exact_t.items():
            max_null[position] = value
        n_perm = max_null.shape[0]
        count_max = n_perm - np.searchsorted(np.sort(max_null), self.threshold, side="left")
        if exact:
            p_unc, p_fwer = self.counts / n_perm, count_max / n_perm
        else:
            p_unc = (1.0 + self.counts) / (1.0 + n_perm)
            p_fwer = (1.0 + count_max) / (1.0 + n_perm)
        return PermutationResult(
            t_obs=t_obs, p_fwer=p_fwer, p_uncorrected=p_unc, max_null=max_null,
            n_permutations=n_perm, exact=exact, tail=self.tail, statistic=statistic,
            max_stat=max_stat,
        )


def _sign_flip_accumulator(x: np.ndarray, t_obs: np.ndarray, *, n_rows: int, tail: int,
                           max_stat: str, mirrored: bool) -> _MaxT:
    """Accumulator for flipped column sums ``s`` of ``x`` (n, V): ``u = s / sqrt(n Q)``."""
    n = x.shape[0]
    scale = 1.0 / np.sqrt(n * np.einsum("ij,ij->j", x, x))
    return _MaxT(t_obs, n_rows=n_rows, tail=tail, max_stat=max_stat, mirrored=mirrored,
                 scale=scale, to_t=lambda u: _t_from_u(u, n - 1),
                 to_u=lambda t: _u_from_t(t, n - 1))


def _sign_flip_enumerated(x: np.ndarray, t_obs: np.ndarray, *, tail: int, max_stat: str,
                          chunk_size: int | None) -> PermutationResult:
    """All 2**n sign patterns; pattern k flips row i if bit i of k is set.

    Patterns k < 2**(n-1) are computed; the complement 2**n - 1 - k has the
    negated statistic and is read off the same block.
    """
    n, n_vox = x.shape
    half = 1 << (n - 1)
    chunk, tile = _blocks(n_vox, chunk_size)
    acc = _sign_flip_accumulator(x, t_obs, n_rows=half, tail=tail, max_stat=max_stat,
                                 mirrored=True)
    bit = np.arange(n, dtype=np.int64)
    with _one_blas_thread():
        for start in range(0, half, chunk):
            k = np.arange(start, min(half, start + chunk), dtype=np.int64)
            signs = 1.0 - 2.0 * ((k[:, None] >> bit) & 1)
            for v in range(0, n_vox, tile):
                voxels = slice(v, v + tile)
                s = signs @ x[:, voxels]
                if start == 0:
                    s[0] = np.nan  # the identity, and its mirror flips every row
                acc.add(s, slice(start, start + k.size), voxels)
    acc.add_t(t_obs, 0)
    acc.add_t(-t_obs, 2 * half - 1)
    return acc.result(t_obs, exact=True, statistic="one-sample t", max_stat=max_stat)


def _sign_flip_sampled(x: np.ndarray, t_obs: np.ndarray, flips: np.ndarray, *, tail: int,
                       max_stat: str, chunk_size: int | None) -> PermutationResult:
    """Sign patterns given as ``flips`` (B, n), nonzero where a row is flipped."""
    n_vox = x.shape[1]
    flips = flips != 0
    chunk, tile = _blocks(n_vox, chunk_size)
    acc = _sign_flip_accumulator(x, t_obs, n_rows=flips.shape[0], tail=tail,
                                 max_stat=max_stat, mirrored=False)
    keep = np.flatnonzero(~flips.any(axis=1))  # the identity: t_obs
    flip_all = np.flatnonzero(flips.all(axis=1))  # every row flipped: -t_obs
    with _one_blas_thread():
        for start in range(0, flips.shape[0], chunk):
            block = flips[start:start + chunk]
            stop = start + block.shape[0]
            special = np.concatenate([_rows_in(keep, start, stop),
                                      _rows_in(flip_all, start, stop)])
            signs = np.where(block, -1.0, 1.0)
            for v in range(0, n_vox, tile):
                voxels = slice(v, v + tile)
                s = signs @ x[:, voxels]
                s[special] = np.nan
                acc.add(s, slice(start, stop), voxels)
    for i in keep:
        acc.add_t(t_obs, int(i))
    for i in flip_all:
        acc.add_t(-t_obs, int(i))
    return acc.result(t_obs, exact=False, statistic="one-sample t", max_stat=max_stat)


def _two_sample_t_block(member: np.ndarray, x: np.ndarray, x2: np.ndarray,
                        sums: np.ndarray, sumsq: np.ndarray, na: int,
                        equal_var: bool) -> np.ndarray:
    """Welch (or pooled) t (c, v) with group a = rows where ``member`` (c, n) is 1;
    ``x``, ``x2`` (n, v), ``sums``, ``sumsq`` (v,) are the data, its square and their
    column sums.

    The arithmetic of the straightforward formula, done in place to keep the
    passes over the block few.
    """
    n = x.shape[0]
    nb = n - na
    sa, qa = member @ x, member @ x2
    sb = np.subtract(sums, sa)
    qb = np.subtract(sumsq, qa)
    tmp = np.multiply(sa, sa)
    tmp /= na
    qa -= tmp
    qa /= na - 1
    np.maximum(qa, 0.0, out=qa)  # va
    np.multiply(sb, sb, out=tmp)
    tmp /= nb
    qb -= tmp
    qb /= nb - 1
    np.maximum(qb, 0.0, out=qb)  # vb
    if equal_var:
        qa *= na - 1
        qb *= nb - 1
        qa += qb
        qa /= n - 2
        qa *= 1.0 / na + 1.0 / nb
    else:
        qa /= na
        qb /= nb
        qa += qb
    np.sqrt(qa, out=qa)  # standard error
    sa /= na
    sb /= nb
    sa -= sb
    with np.errstate(divide="ignore", invalid="ignore"):
        sa /= qa
    return _finite_or_zero(sa)


def _label_permutation_sampled(a: np.ndarray, b: np.ndarray, t_obs: np.ndarray,
                               members: np.ndarray, *, tail: int, equal_var: bool,
                               chunk_size: int | None) -> PermutationResult:
    """Relabellings given as ``members`` (B, n_a + n_b), true where a row of ``a`` and
    ``b`` stacked (a first) joins group a.

    Voxel tile by voxel tile: each tile of the stacked data is standardised (t is
    invariant to a common shift and scale; this keeps the moments stable) and
    squared once, then meets every block of relabellings. Memory beyond the inputs
    is a few tiles and one block.
    """
    na, n, n_vox = a.shape[0], a.shape[0] + b.shape[0], a.shape[1]
    chunk, tile = _blocks(n_vox, chunk_size)
    observed = np.zeros(n, dtype=bool)
    observed[:na] = True
    members = members.astype(bool, copy=False)
    same = np.flatnonzero((members == observed).all(axis=1))  # t_obs
    # swapping equal-sized groups negates t exactly
    swapped = (np.flatnonzero((members != observed).all(axis=1)) if 2 * na == n
               else np.empty(0, dtype=np.int64))
    acc = _MaxT(t_obs, n_rows=members.shape[0], tail=tail, max_stat="signed")
    with _one_blas_thread():
        for v in range(0, n_vox, tile):
            voxels = slice(v, v + tile)
            x = np.concatenate([a[:, voxels], b[:, voxels]], axis=0)
            sd = x.std(axis=0)
            x -= x.mean(axis=0)
            x /= sd
            x2 = x * x
            sums, sumsq = x.sum(axis=0), x2.sum(axis=0)
            for start in range(0, members.shape[0], chunk):
                block = members[start:start + chunk]
                stop = start + block.shape[0]
                t = _two_sample_t_block(block.astype(np.float64), x, x2, sums, sumsq, na,
                                        equal_var)
                t[_rows_in(same, start, stop)] = np.nan
                t[_rows_in(swapped, start, stop)] = np.nan
                acc.add(t, slice(start, stop), voxels)
    for i in same:
        acc.add_t(t_obs, int(i))
    for i in swapped:
        acc.add_t(-t_obs, int(i))
    return acc.result(t_obs, exact=False, statistic="pooled t" if equal_var else "welch t",
                      max_stat="signed")


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
    diff : array-like of shape (n_samples, n_voxels)
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
        Permutations per block; each block also takes at most about 8 MiB of voxels
        (memory ~ that times a few). None: blocks of 4 MiB, up to 2,048 voxels by
        256 permutations. Does not change the results.

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
    if chunk_size is not None:
        check_chunk_size(chunk_size, n_vox)
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
        return _sign_flip_enumerated(x, t_obs, tail=tail, max_stat=max_stat,
                                     chunk_size=chunk_size)
    flips = check_random_state(random_state).integers(0, 2, size=(n_perm, n), dtype=np.int8)
    return _sign_flip_sampled(x, t_obs, flips, tail=tail, max_stat=max_stat,
                              chunk_size=chunk_size)


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
    a : array-like of shape (n_a, n_voxels)
        First group, n_a >= 2, finite.
    b : array-like of shape (n_b, n_voxels)
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
        Permutations per block; each block also takes at most about 8 MiB of voxels.
        None: blocks of 4 MiB, up to 2,048 voxels by 256 permutations. Does not
        change the results.

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
    if chunk_size is not None:
        check_chunk_size(chunk_size, a.shape[1])
    na, n = a.shape[0], a.shape[0] + b.shape[0]
    _reject_constant(_stacked_sd(a, b), "a and b together")
    t_obs = _two_sample_t(a, b, equal_var)
    observed = np.zeros(n, dtype=bool)
    observed[:na] = True
    rng = check_random_state(random_state)
    members = rng.permuted(np.tile(observed, (n_perm, 1)), axis=1)
    return _label_permutation_sampled(a, b, t_obs, members, tail=tail, equal_var=equal_var,
                                      chunk_size=chunk_size)
