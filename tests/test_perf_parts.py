"""Tests of the parts added for speed: the blocked permutation engine against a
straightforward reference, and the benchmark helpers of braincause.bench.perf."""

from __future__ import annotations

import itertools
import json
import subprocess

import numpy as np
import pytest

from braincause.bench import perf
from braincause.stats import permutation as perm
from braincause.stats._validation import tail_statistic, tie_threshold


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of 7 permutations × 5 voxels: every test below crosses many blocks."""
    monkeypatch.setattr(perm, "VOXEL_TILE", 5)
    monkeypatch.setattr(perm, "BLOCK_BYTES", 8 * 5 * 7)


def _reference(t: np.ndarray, t_obs: np.ndarray, tail: int, max_stat: str,
               exact: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p_fwer, p_uncorrected, max_null from permuted t (B, V), the plain way."""
    oriented = tail_statistic(t, tail)
    thr = tie_threshold(tail_statistic(t_obs, tail))
    peak = (np.abs(t) if max_stat == "abs" else oriented).max(axis=1)
    count = (oriented >= thr).sum(axis=0)
    count_max = (peak[:, None] >= thr).sum(axis=0)
    b = t.shape[0]
    if exact:
        return count_max / b, count / b, peak
    return (1 + count_max) / (1 + b), (1 + count) / (1 + b), peak


def _flipped_t(signs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """One-sample t (B, V) of ``x`` with rows multiplied by ``signs`` (B, n), two-pass."""
    y = signs[:, :, None] * x[None]
    return y.mean(axis=1) / (y.std(axis=1, ddof=1) / np.sqrt(x.shape[0]))


@pytest.mark.parametrize(("tail", "max_stat"), list(itertools.product((1, 0, -1),
                                                                       ("signed", "abs"))))
def test_sampled_sign_flips_equal_reference(tiny_blocks, tail, max_stat):
    rng = np.random.default_rng(3)
    n, v = 11, 23
    x = rng.normal(0.2, 1.0, (n, v)) + rng.normal(0, 0.5, (n, 1))
    flips = rng.integers(0, 2, (40, n), dtype=np.int8)
    flips[5] = 0  # the identity
    flips[17] = 1  # every row flipped
    flips[30] = 0  # the identity again
    t_obs = perm._one_sample_t(x)
    res = perm._sign_flip_sampled(x, t_obs, flips, tail=tail, max_stat=max_stat,
                                  chunk_size=None)
    t = _flipped_t(1.0 - 2.0 * flips, x)
    t[[5, 30]], t[17] = t_obs, -t_obs
    p_fwer, p_unc, peak = _reference(t, t_obs, tail, max_stat, exact=False)
    np.testing.assert_array_equal(res.p_fwer, p_fwer)
    np.testing.assert_array_equal(res.p_uncorrected, p_unc)
    np.testing.assert_allclose(res.max_null, peak, rtol=1e-10)  # same order


@pytest.mark.parametrize(("tail", "max_stat"), list(itertools.product((1, 0, -1),
                                                                       ("signed", "abs"))))
def test_exact_sign_flips_equal_brute_force(tiny_blocks, tail, max_stat):
    """Half the patterns computed, complements mirrored: same p and same null order."""
    rng = np.random.default_rng(4)
    n, v = 6, 13
    x = rng.normal(0.3, 1.0, (n, v))
    res = perm.sign_flip_max_t(x, tail=tail, max_stat=max_stat, exact=True)
    k = np.arange(2**n)[:, None]
    signs = 1.0 - 2.0 * ((k >> np.arange(n)) & 1)  # pattern k flips row i if bit i is set
    t = _flipped_t(signs, x)
    t[0], t[-1] = res.t_obs, -res.t_obs
    p_fwer, p_unc, peak = _reference(t, res.t_obs, tail, max_stat, exact=True)
    assert res.exact and res.n_permutations == 2**n
    np.testing.assert_array_equal(res.p_fwer, p_fwer)
    np.testing.assert_array_equal(res.p_uncorrected, p_unc)
    np.testing.assert_allclose(res.max_null, peak, rtol=1e-10)


@pytest.mark.parametrize("tail", [1, 0, -1])
def test_integer_data_ties_at_zero_counted_as_plain_formula(tiny_blocks, tail):
    """Integer data: flipped sums are exact, so t = 0 ties (threshold exactly 0) must
    count exactly as with t computed from the sums themselves."""
    rng = np.random.default_rng(5)
    n, v = 8, 17
    x = rng.integers(-3, 4, (n, v)).astype(float)
    x[:, 0] = [1, -1, 2, -2, 3, -3, 1, -1]  # mean exactly 0: t_obs = 0
    x[:, x.std(axis=0) == 0] += np.arange(n)[:, None]
    res = perm.sign_flip_max_t(x, tail=tail, exact=True)
    k = np.arange(2**n)[:, None]
    signs = 1.0 - 2.0 * ((k >> np.arange(n)) & 1)
    s = signs @ x  # exact
    var = ((x * x).sum(axis=0) - s * s / n) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = s / np.sqrt(n * np.maximum(var, 0.0))
    t[0], t[-1] = res.t_obs, -res.t_obs
    p_fwer, p_unc, _ = _reference(t, res.t_obs, tail, "signed", exact=True)
    assert res.t_obs[0] == 0.0
    np.testing.assert_array_equal(res.p_uncorrected, p_unc)
    np.testing.assert_array_equal(res.p_fwer, p_fwer)


@pytest.mark.parametrize(("tail", "equal_var"), list(itertools.product((1, 0, -1),
                                                                        (False, True))))
def test_label_permutations_equal_reference(tiny_blocks, tail, equal_var):
    from scipy import stats

    rng = np.random.default_rng(6)
    na, nb, v = 6, 6, 19
    a, b = rng.normal(0.4, 1.0, (na, v)), rng.normal(0.0, 1.5, (nb, v))
    x = np.concatenate([a, b])
    observed = np.r_[np.ones(na, bool), np.zeros(nb, bool)]
    members = np.array([rng.permutation(observed) for _ in range(37)])
    members[3], members[20], members[21] = observed, ~observed, observed
    t_obs = perm._two_sample_t(a, b, equal_var)
    res = perm._label_permutation_sampled(a, b, t_obs, members, tail=tail,
                                          equal_var=equal_var, chunk_size=None)
    t = np.array([stats.ttest_ind(x[m], x[~m], equal_var=equal_var).statistic
                  for m in members])
    t[[3, 21]], t[20] = t_obs, -t_obs
    p_fwer, p_unc, peak = _reference(t, t_obs, tail, "signed", exact=False)
    np.testing.assert_allclose(t_obs, stats.ttest_ind(a, b, equal_var=equal_var).statistic,
                               rtol=1e-12)
    np.testing.assert_array_equal(res.p_fwer, p_fwer)
    np.testing.assert_array_equal(res.p_uncorrected, p_unc)
    np.testing.assert_allclose(res.max_null, peak, rtol=1e-10)


def test_block_sizes_bound_memory():
    assert perm._blocks(40000, None) == (perm.BLOCK_BYTES // (8 * perm.VOXEL_TILE),
                                         perm.VOXEL_TILE)
    assert perm._blocks(100, None) == (perm.BLOCK_BYTES // 800, 100)
    chunk, tile = perm._blocks(40000, 64)
    assert chunk == 64 and chunk * tile * 8 <= perm.CHUNK_BYTES
    assert perm._blocks(10, 1) == (1, 10)


def test_t_from_u_inverts_u_from_t():
    t = np.array([-np.inf, -1e6, -3.0, 0.0, 0.5, 40.0, np.inf])
    u = perm._u_from_t(t, 9)
    assert np.all(np.diff(u) > 0) and u[0] == -1.0 and u[-1] == 1.0
    # |t| of 1e6 leaves 1 - u**2 ~ 1e-11: round-trips to ~1e-5 only, as t from moments does
    np.testing.assert_allclose(perm._t_from_u(u, 9)[2:-1], t[2:-1], rtol=1e-12)
    assert np.isinf(perm._t_from_u(np.array([1.0, -1.0]), 9)).all()


# ------------------------------------------------------------------ bench helpers


def test_interleave_rotates_the_first_contender():
    calls: list[str] = []
    times = perf.interleave({k: (lambda k=k: calls.append(k)) for k in "abc"}, 3)
    assert calls == list("abcbcacab")
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}
    s = perf.summarize([3.0, 1.0, 2.0])
    assert (s["median_s"], s["min_s"], s["max_s"]) == (2.0, 1.0, 3.0)


def test_split_stages_assigns_gaps_to_the_stage_each_event_opens():
    events = [(0.0, "concept: 'faces' → faces (name)"), (1.0, "subject synth-01"),
              (3.0, "@encoder:start"), (4.0, "@encoder:end"), (4.5, "@stimuli:start"),
              (5.0, "generating 40 images"), (7.0, "features and verification of 40 images"),
              (8.0, "@stimuli:end"), (8.0, "predicting responses"),
              (9.0, "baseline concepts: 2"), (10.0, "baseline 1/2: cars"),
              (10.5, "generating 10 images"),  # inside a baseline: stays "baselines"
              (12.0, "voxelwise permutation tests"), (12.5, "@permutation:start"),
              (14.0, "@permutation:end")]
    got = perf.split_stages(events, end=15.0)
    assert got == {"resolve": 1.0, "subject+roles": 2.0, "encoder": 1.0, "verifier": 0.5,
                   "stimuli": 0.5, "stimuli: generate": 2.0, "stimuli: verify": 1.0,
                   "predict": 1.0, "baselines": 3.0, "permutations": 2.0,
                   "verdict+write": 1.0}
    assert list(got) == [k for k in perf.STAGES if k in got]


def test_measure_in_subprocess_sees_the_work_allocation(tmp_path):
    target = tmp_path / "target.py"
    target.write_text(
        "import numpy as np\n"
        "def build(mib):\n"
        "    def work():\n"
        "        a = np.ones(mib * 2**20 // 8)\n"
        "        return float(a.sum())\n"
        "    return work\n")
    res = perf.measure_in_subprocess(f"{target}:build", {"mib": 64}, timeout=120)
    assert res["returned"] == 64 * 2**20 // 8
    assert res["tracemalloc_peak_mib"] >= 63
    assert res["peak_rss_mib"] >= res["rss_before_mib"] + (60 if res["peak_reset"] else 0)
    json.dumps(res)
    with pytest.raises(RuntimeError, match="failed"):
        perf.measure_in_subprocess(f"{target}:missing", timeout=120)
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ndef build():\n    return lambda: time.sleep(60)\n")
    with pytest.raises(subprocess.TimeoutExpired):
        perf.measure_in_subprocess(f"{slow}:build", timeout=2)


def test_machine_info_names_the_blas():
    info = perf.machine_info()
    assert info["cpu_count"] >= 1
    assert any(lib.get("user_api") == "blas" for lib in info["threadpools"])
    assert isinstance(perf.load_average(), list)


def test_blas_threads_are_restored_after_a_test():
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    x = np.random.default_rng(7).normal(0.1, 1.0, (9, 11))
    perm.sign_flip_max_t(x, n_permutations=50, random_state=0, exact=False)
    perm.label_permutation_max_t(x[:4], x[4:], n_permutations=50, random_state=0)
    assert blas_threads() == before
