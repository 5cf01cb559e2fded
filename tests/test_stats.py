"""Tests of braincause.stats: oracles (MNE, SciPy), calibration under the null,
power on planted effects, determinism and input checks."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest
from scipy import stats as sps

from braincause.exceptions import UserInputError
from braincause.stats import (
    PermutationResult,
    ScoreCI,
    bootstrap_ci,
    bootstrap_score_ci,
    empirical_p,
    fdr_bh,
    label_permutation_max_t,
    min_baselines,
    sign_flip_max_t,
)


def _data(seed: int, n: int, v: int, shift: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(shift, 1.0, (n, v)) + rng.normal(0, 0.5, (n, 1))


# --------------------------------------------------------------------------- oracles


@pytest.mark.parametrize("n", [6, 7, 8])
@pytest.mark.parametrize("tail", [1, 0, -1])
def test_sign_flip_exact_matches_mne(n, tail):
    """With every sign pattern enumerated, p-values, T and the null equal MNE's.

    MNE's one-sided p-values use a max |t| null (its tests mark the one-sided
    case as a known bug, mne-python#11511), so they are matched with
    ``max_stat="abs"``; for ``tail=0`` the default equals MNE as well. MNE
    recomputes the identity pattern and can, by round-off, drop it from its own
    count on about 1% of random datasets (we copy the observed statistic in); the
    fixed seeds here are not such cases.
    """
    import mne.stats as mne_stats  # a test dependency: never skipped
    x = _data(seed=100 + n, n=n, v=13)
    t_mne, p_mne, h0 = mne_stats.permutation_t_test(x, n_permutations=2**n, tail=tail,
                                                    verbose=False)
    res = sign_flip_max_t(x, n_permutations=2**n, tail=tail, max_stat="abs")
    assert res.exact and res.n_permutations == 2**n
    np.testing.assert_allclose(res.t_obs, t_mne, rtol=1e-12)
    np.testing.assert_allclose(res.p_fwer, p_mne, rtol=0, atol=1e-10)
    # MNE keeps one of each +-pattern pair for tail=0, all but the all-flipped
    # pattern plus the identity again otherwise: the same multiset of max |t|
    h0_full = np.repeat(h0, 2) if tail == 0 else h0
    np.testing.assert_allclose(np.sort(res.max_null), np.sort(h0_full), rtol=1e-10)
    if tail == 0:
        default = sign_flip_max_t(x, n_permutations=2**n, tail=0)
        np.testing.assert_array_equal(default.p_fwer, res.p_fwer)


@pytest.mark.parametrize("tail", [1, 0, -1])
def test_sign_flip_exact_matches_brute_force(tail):
    """Signed max-T against an explicit enumeration with scipy's t statistic."""
    n, v = 7, 13
    x = _data(seed=3, n=n, v=v)
    res = sign_flip_max_t(x, n_permutations=1000, tail=tail)
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=n)))  # identity included
    t = sps.ttest_1samp(signs[:, :, None] * x[None], 0.0, axis=1).statistic  # (2**n, V)
    orient = {1: t, 0: np.abs(t), -1: -t}[tail]
    obs = orient[0]
    ref_unc = (orient >= obs - 1e-9).mean(axis=0)
    ref_fwer = (orient.max(axis=1)[:, None] >= obs - 1e-9).mean(axis=0)
    assert res.exact
    np.testing.assert_allclose(res.t_obs, sps.ttest_1samp(x, 0.0).statistic, rtol=1e-12)
    np.testing.assert_allclose(res.p_uncorrected, ref_unc, atol=1e-12)
    np.testing.assert_allclose(res.p_fwer, ref_fwer, atol=1e-12)
    np.testing.assert_allclose(np.sort(res.max_null), np.sort(orient.max(axis=1)), rtol=1e-10)


@pytest.mark.parametrize(("tail", "alternative"), [(1, "greater"), (0, "two-sided"),
                                                   (-1, "less")])
def test_sign_flip_single_voxel_matches_scipy_exact(tail, alternative):
    """One voxel: both p-values are scipy's exact sign-flip permutation p-value."""
    x = _data(seed=11, n=9, v=1, shift=0.5)

    def t_stat(d, axis):
        return sps.ttest_1samp(d, 0.0, axis=axis).statistic

    ref = sps.permutation_test((x[:, 0],), t_stat, permutation_type="samples",
                               n_resamples=np.inf, alternative=alternative)
    res = sign_flip_max_t(x, exact=True, tail=tail)
    if tail != 0:  # scipy's two-sided value doubles the smaller tail instead of using |t|
        assert res.p_uncorrected[0] == pytest.approx(ref.pvalue, abs=1e-12)
    assert res.p_fwer[0] == res.p_uncorrected[0]


@pytest.mark.parametrize("equal_var", [False, True])
def test_label_permutation_matches_scipy(equal_var):
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.6, 1.0, (9, 1)), rng.normal(0.0, 2.0, (14, 1))
    res = label_permutation_max_t(a, b, n_permutations=4999, equal_var=equal_var,
                                  random_state=1)
    ttest = sps.ttest_ind(a, b, equal_var=equal_var)
    np.testing.assert_allclose(res.t_obs, ttest.statistic, rtol=1e-12, atol=0)
    assert res.statistic == ("pooled t" if equal_var else "welch t")

    def t_stat(x, y, axis):
        return sps.ttest_ind(x, y, equal_var=equal_var, axis=axis).statistic

    ref = sps.permutation_test((a[:, 0], b[:, 0]), t_stat, n_resamples=4999,
                               alternative="greater", random_state=2).pvalue
    p = res.p_uncorrected[0]
    sd = np.sqrt(2 * ref * (1 - ref) / 5000)  # two independent Monte-Carlo estimates
    assert abs(p - ref) <= 4 * sd + 1e-3
    assert res.p_fwer[0] == p  # one voxel: the maximum is the voxel itself


def test_fdr_bh_matches_scipy():
    rng = np.random.default_rng(7)
    for shape in [(13,), (7, 13), (3, 5, 11)]:
        p = rng.uniform(size=shape) ** 3
        flat = p.reshape(-1)
        flat[:4] = flat[5]  # ties
        flat[6], flat[7] = 0.0, 1.0
        reject, adj = fdr_bh(p, alpha=0.1)
        ref = sps.false_discovery_control(p, method="bh", axis=None).reshape(shape)
        assert adj.shape == shape and reject.shape == shape
        np.testing.assert_allclose(adj, ref, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(reject, adj <= 0.1)
        # the BH step-up rule directly: reject the k smallest with k = max{i: p_(i) <= i a / m}
        s = np.sort(flat)
        ok = np.flatnonzero(s <= 0.1 * np.arange(1, s.size + 1) / s.size)
        assert reject.sum() == (ok[-1] + 1 if ok.size else 0)
    empty_reject, empty_adj = fdr_bh(np.array([]))
    assert empty_reject.shape == empty_adj.shape == (0,)


def test_bootstrap_percentile_matches_scipy():
    rng = np.random.default_rng(8)
    x = rng.gamma(2.0, 1.0, 31)
    sd = x.std(ddof=1)
    for method in ("percentile", "bca"):
        low, high = bootstrap_ci(x, n_boot=20000, method=method, random_state=0)
        ref = sps.bootstrap((x,), np.mean, n_resamples=20000, method=method,
                            random_state=1).confidence_interval
        assert abs(low - ref.low) < 0.02 * sd and abs(high - ref.high) < 0.02 * sd


def test_bootstrap_coverage_normal_mean():
    """95% percentile CIs of a normal mean (n=30) cover at 0.93-0.97.

    The percentile interval's coverage here is P(|t_29| <= 1.96 sqrt(29/30)) ~ 0.936
    (too narrow by sqrt((n-1)/n) and z instead of t), so it is also checked
    against that value within 3 binomial standard deviations.
    """
    rng = np.random.default_rng(2024)
    n_sets, n = 4000, 30
    covered = 0
    for _ in range(n_sets):
        x = rng.normal(1.0, 2.0, n)
        low, high = bootstrap_ci(x, n_boot=1000, random_state=rng)
        covered += low <= 1.0 <= high
    coverage = covered / n_sets
    theory = 1 - 2 * sps.t.sf(sps.norm.ppf(0.975) * np.sqrt((n - 1) / n), n - 1)
    assert 0.93 <= coverage <= 0.97
    assert abs(coverage - theory) <= 3 * np.sqrt(theory * (1 - theory) / n_sets)


# ------------------------------------------------------------ calibration under the null


def _any_rejection_rate(test, n_sets: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_sets):
        hits += bool((test(rng).p_fwer <= 0.05).any())
    return hits / n_sets


def test_sign_flip_controls_fwer_under_null():
    def one(rng):  # correlated voxels (shared component), no effect
        x = rng.normal(0, 1, (15, 21)) + rng.normal(0, 1, (15, 1))
        return sign_flip_max_t(x, n_permutations=200, random_state=rng)

    rate = _any_rejection_rate(one, n_sets=300, seed=31)
    assert 0.015 <= rate <= 0.085


def test_label_permutation_controls_fwer_under_null():
    def one(rng):  # unequal sizes and variances, equal means
        a = rng.normal(0, 1, (9, 21))
        b = rng.normal(0, 2, (13, 21))
        return label_permutation_max_t(a, b, n_permutations=200, tail=0, random_state=rng)

    rate = _any_rejection_rate(one, n_sets=300, seed=32)
    assert 0.015 <= rate <= 0.085


def test_fdr_bh_controls_fdr_under_complete_null():
    rng = np.random.default_rng(33)
    n_sets = 2000
    # under the complete null the FDP is 1 when anything is rejected, else 0
    fdp = [fdr_bh(rng.uniform(size=50), alpha=0.05)[0].any() for _ in range(n_sets)]
    assert np.mean(fdp) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n_sets)


def test_empirical_p_is_uniform_under_exchangeability():
    rng = np.random.default_rng(34)
    n_base = min_baselines(0.05)
    scores = rng.normal(size=(4000, n_base + 1))
    p = np.array([empirical_p(s[0], s[1:]) for s in scores])
    grid = np.arange(1, n_base + 2) / (n_base + 1)
    assert set(np.round(p * (n_base + 1)).astype(int)) <= set(range(1, n_base + 2))
    cdf = (p[:, None] <= grid + 1e-12).mean(axis=0)
    assert np.abs(cdf - grid).max() < 0.025
    assert abs((p <= 0.05).mean() - 0.05) < 0.012


# ----------------------------------------------------------------------- planted effects


def test_planted_effect_detected_with_fwer_control():
    rng = np.random.default_rng(40)
    x = rng.normal(0, 1, (21, 50))
    x[:, [4, 17, 33]] += 1.6
    res = sign_flip_max_t(x, n_permutations=999, random_state=0)
    sig = res.significant(0.05)
    assert sig[[4, 17, 33]].all()
    assert np.delete(sig, [4, 17, 33]).sum() <= 1
    assert (res.p_uncorrected <= res.p_fwer + 1e-15).all()
    summary = res.to_dict(0.05)
    assert summary["n_significant_fwer"] == int(sig.sum()) >= 3

    a = rng.normal(0, 1, (19, 50))
    b = rng.normal(0, 1, (27, 50))
    a[:, [4, 17, 33]] += 1.6
    res2 = label_permutation_max_t(a, b, n_permutations=999, random_state=0)
    sig2 = res2.significant(0.05)
    assert sig2[[4, 17, 33]].all()
    assert np.delete(sig2, [4, 17, 33]).sum() <= 1


def test_one_sided_tails_mirror_each_other():
    x = _data(seed=41, n=17, v=13)
    up = sign_flip_max_t(x, n_permutations=300, tail=1, random_state=3)
    down = sign_flip_max_t(-x, n_permutations=300, tail=-1, random_state=3)
    np.testing.assert_array_equal(up.p_fwer, down.p_fwer)
    np.testing.assert_array_equal(up.p_uncorrected, down.p_uncorrected)


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_vectorised_equals_columnwise_and_score_ci():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(23, 5))
    for method in ("percentile", "bca"):
        low, high = bootstrap_ci(x, n_boot=500, method=method, random_state=4)
        small = bootstrap_ci(x, n_boot=500, method=method, random_state=4, chunk_size=7)
        np.testing.assert_allclose(small, (low, high), rtol=1e-12)
        for v in range(5):
            lo_v, hi_v = bootstrap_ci(x[:, v], n_boot=500, method=method, random_state=4)
            assert lo_v == pytest.approx(low[v], rel=1e-12)
            ci = bootstrap_score_ci(lambda i, v=v: x[i, v].mean(), 23, n_boot=500,
                                    method=method, random_state=4)
            assert isinstance(ci, ScoreCI)
            assert ci.estimate == pytest.approx(x[:, v].mean(), rel=1e-12)
            assert (ci.low, ci.high) == pytest.approx((lo_v, hi_v), rel=1e-12)
    med = bootstrap_ci(x, statistic=np.median, n_boot=300, random_state=0)
    assert med[0].shape == (5,) and (med[0] <= med[1]).all()


def test_bootstrap_score_ci_resamples_units_together():
    """Positives carry their (ragged) edits; pairing shrinks the S_edit interval."""
    rng = np.random.default_rng(10)
    n_pos, n_neg = 25, 60
    pos = rng.normal(1.0, 1.0, n_pos)
    n_edits = rng.integers(1, 4, n_pos)
    edit_of = np.repeat(np.arange(n_pos), n_edits)
    edits = pos[edit_of] - 0.4 + rng.normal(0, 0.2, edit_of.size)
    neg = rng.normal(0.0, 1.0, n_neg)
    hardest = np.full(n_pos, -np.inf)
    np.maximum.at(hardest, edit_of, edits)

    def s_edit(ip):
        return (pos[ip] - hardest[ip]).mean()

    def s_edit_unpaired(ip, ie):  # wrong on purpose: edits resampled apart from positives
        return pos[ip].mean() - hardest[ie].mean()

    def s_neg(ip, ineg):
        return pos[ip].mean() - np.sort(neg[ineg])[-10:].mean()

    paired = bootstrap_score_ci(s_edit, n_pos, n_boot=800, random_state=0)
    unpaired = bootstrap_score_ci(s_edit_unpaired, (n_pos, n_pos), n_boot=800, random_state=0)
    assert paired.low < paired.estimate < paired.high
    assert paired.high - paired.low < 0.5 * (unpaired.high - unpaired.low)
    neg_ci = bootstrap_score_ci(s_neg, (n_pos, n_neg), n_boot=400, method="bca",
                                random_state=0)
    assert neg_ci.low < neg_ci.estimate < neg_ci.high
    vec = bootstrap_score_ci(lambda ip: np.array([pos[ip].mean(), pos[ip].std()]), n_pos,
                             n_boot=200, random_state=0)
    assert np.shape(vec.low) == (2,)


# ------------------------------------------------------------------------- determinism


def test_same_random_state_same_results_any_chunk_size():
    x = _data(seed=50, n=19, v=37)
    ref = sign_flip_max_t(x, n_permutations=301, random_state=12)
    for kwargs in ({"chunk_size": 1}, {"chunk_size": 17},
                   {"random_state": np.random.default_rng(12)}):
        other = sign_flip_max_t(x, n_permutations=301, **{"random_state": 12, **kwargs})
        np.testing.assert_array_equal(other.p_fwer, ref.p_fwer)
        np.testing.assert_array_equal(other.p_uncorrected, ref.p_uncorrected)
        np.testing.assert_allclose(other.max_null, ref.max_null, rtol=1e-13)
    assert not np.array_equal(
        sign_flip_max_t(x, n_permutations=301, random_state=13).max_null, ref.max_null)

    a, b = x[:8], x[8:]
    ref2 = label_permutation_max_t(a, b, n_permutations=301, random_state=12)
    for chunk in (1, 29):
        other2 = label_permutation_max_t(a, b, n_permutations=301, random_state=12,
                                         chunk_size=chunk)
        np.testing.assert_array_equal(other2.p_fwer, ref2.p_fwer)
        np.testing.assert_array_equal(other2.p_uncorrected, ref2.p_uncorrected)
        np.testing.assert_allclose(other2.max_null, ref2.max_null, rtol=1e-13)

    # exact enumeration uses no randomness
    small = x[:7]
    e1 = sign_flip_max_t(small, n_permutations=128, random_state=1, chunk_size=5)
    e2 = sign_flip_max_t(small, n_permutations=500, random_state=2)
    assert e1.exact and e2.exact
    np.testing.assert_array_equal(e1.p_fwer, e2.p_fwer)
    sampled = sign_flip_max_t(small, n_permutations=127, random_state=1)
    assert not sampled.exact and sampled.n_permutations == 127
    assert not sign_flip_max_t(small, n_permutations=500, exact=False).exact


def test_result_is_frozen_and_summarises():
    res = sign_flip_max_t(_data(seed=51, n=9, v=13), n_permutations=99, random_state=0)
    assert isinstance(res, PermutationResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.tail = 0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.p_fwer[0] = 0.0
    summary = res.to_dict(alpha=0.1)
    json.dumps(summary)
    assert summary["n_voxels"] == 13 and summary["n_permutations"] == 99
    assert summary["min_p_fwer"] == pytest.approx(res.p_fwer.min())
    assert summary["min_attainable_p"] == pytest.approx(0.01)
    assert summary["n_significant_uncorrected"] == int((res.p_uncorrected <= 0.1).sum())


def test_empirical_p_values_and_min_baselines():
    base = np.array([0.1, 0.5, 0.5, 2.0])
    assert empirical_p(0.5, base) == pytest.approx(4 / 5)
    assert empirical_p(3.0, base) == pytest.approx(1 / 5)
    assert empirical_p(0.5, base, tail=-1) == pytest.approx(4 / 5)
    assert empirical_p(0.0, base, tail=0) == pytest.approx(2 / 5)
    assert empirical_p(9.0, [np.inf]) == pytest.approx(1.0)
    assert min_baselines(0.05) == 19
    assert min_baselines(0.01) == 99
    assert min_baselines(0.5) == 1
    assert min_baselines(0.3) == 3
    for alpha in (0.05, 0.01, 0.2, 0.001, 0.07):
        n = min_baselines(alpha)
        assert 1 / (1 + n) <= alpha < 1 / n


# ---------------------------------------------------------------------------- bad input

_X = np.ones((7, 13)) + np.arange(13) * np.arange(7)[:, None] % 3
_NAN = _X.copy()
_NAN[2, 3] = np.nan
_CONST = _X.copy()
_CONST[:, 4] = 2.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: sign_flip_max_t(_X[:, 0]), "diff must be a 2-D"),
    (lambda: sign_flip_max_t(_X[None]), "diff must be a 2-D"),
    (lambda: sign_flip_max_t(_X[:1]), "diff must have at least 2 rows"),
    (lambda: sign_flip_max_t(_NAN), "diff must contain only finite"),
    (lambda: sign_flip_max_t(_CONST), "diff must vary"),
    (lambda: sign_flip_max_t(_X, n_permutations=0), "n_permutations must be an integer >= 1"),
    (lambda: sign_flip_max_t(_X, n_permutations=10.0), "n_permutations"),
    (lambda: sign_flip_max_t(_X, tail=2), "tail must be"),
    (lambda: sign_flip_max_t(_X, exact="yes"), "exact must be one of"),
    (lambda: sign_flip_max_t(_X, max_stat="max"), "max_stat must be one of"),
    (lambda: sign_flip_max_t(_X, chunk_size=0), "chunk_size"),
    (lambda: sign_flip_max_t(np.ones((25, 2)) + np.eye(25, 2), exact=True), "n_samples <= 24"),
    (lambda: label_permutation_max_t(_X, _X[:, :5]), "same number of voxels"),
    (lambda: label_permutation_max_t(_X, _NAN), "b must contain only finite"),
    (lambda: label_permutation_max_t(_X[:1], _X), "a must have at least 2 rows"),
    (lambda: label_permutation_max_t(_X, _X, n_permutations=-3), "n_permutations"),
    (lambda: label_permutation_max_t(_CONST, _CONST), "a and b together must vary"),
    (lambda: fdr_bh([0.1, np.nan]), "pvals must not contain NaN"),
    (lambda: fdr_bh([0.1, 1.5]), r"pvals must lie in \[0, 1\]"),
    (lambda: fdr_bh([0.1], alpha=1.0), "alpha must be"),
    (lambda: bootstrap_ci(_X, level=1.0), "level must be"),
    (lambda: bootstrap_ci(_X, level=0), "level must be"),
    (lambda: bootstrap_ci(_X, n_boot=0), "n_boot"),
    (lambda: bootstrap_ci(_NAN), "samples must contain only finite"),
    (lambda: bootstrap_ci(_X[None]), "samples must be 1-D .* or 2-D"),
    (lambda: bootstrap_ci(_X, method="basic"), "method must be one of"),
    (lambda: bootstrap_ci(_X, statistic=np.sum), None),  # fine: sum accepts axis
    (lambda: bootstrap_ci(_X, statistic=lambda x, axis: x.mean()), "statistic must reduce"),
    (lambda: bootstrap_score_ci(lambda i: 0.0, 5, level=1.2), "level must be"),
    (lambda: bootstrap_score_ci(lambda i: 0.0, 0), r"n_units\[0\]"),
    (lambda: bootstrap_score_ci(lambda i: 0.0, [], n_boot=5), "n_units must name"),
    (lambda: bootstrap_score_ci(lambda i: np.nan, 5), "score_fn output"),
    (lambda: bootstrap_score_ci(lambda i: np.ones(i[0] % 2 + 1), 5), "same shape"),
    (lambda: empirical_p(1.0, []), "at least 1 baseline"),
    (lambda: empirical_p(1.0, [0.2, np.nan]), "baseline_scores must not contain NaN"),
    (lambda: empirical_p(np.nan, [0.2]), "target_score must be a finite"),
    (lambda: empirical_p(1.0, [[0.2]]), "baseline_scores must be 1-D"),
    (lambda: min_baselines(0.0), "alpha must be"),
])
def test_bad_input_raises_user_input_error(call, match):
    if match is None:
        call()
        return
    with pytest.raises(UserInputError, match=match):
        call()


def test_bootstrap_degenerate_cases():
    x = np.column_stack([np.full(9, 2.5), np.arange(9.0)])
    for method in ("percentile", "bca"):
        low, high = bootstrap_ci(x, n_boot=200, method=method, random_state=0)
        assert low[0] == high[0] == 2.5
        assert low[1] < 4.0 < high[1]
    with pytest.warns(RuntimeWarning, match="BCa interval undefined"):
        low, high = bootstrap_ci(np.arange(9.0), statistic=np.min, method="bca", n_boot=200,
                                 random_state=0)
    assert np.isnan(low) and np.isnan(high)
