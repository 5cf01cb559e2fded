"""The causal gate and the selectivity label (braincause.evaluate.causal): oracle tests
against scipy, its level on pure noise, and planted regions of every kind."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from braincause.evaluate.causal import (
    CausalArrays,
    causal_gate,
    hardest_counterfactual,
    one_sided_sign_flip,
    one_sided_welch,
    selectivity,
    standin_is_competitor,
)
from braincause.scoring import control_differences, s_control

ALPHA = 0.05


def _arrays(rng, *, n_pos=20, pos=0.0, removal=0.0, scramble=0.0, cue=0.0, neutral=0.0,
            neg=None, sd=1.0):
    """Region averages of one split: every edited positive has 2 removal edits, one
    replacement, a scramble, a neutral and a cue stand-in; ``neg``: {counter: mean}."""
    p = pos + sd * rng.standard_normal(n_pos)
    of = np.repeat(np.arange(n_pos), 3)
    edits = removal + sd * rng.standard_normal(3 * n_pos)
    edits[2::3] = 5.0  # a replacement that adds a strong object: never the hardest
    removal_flag = np.tile([True, True, False], n_pos)
    kinds = np.tile(["scramble", "neutral", "cue:ball"], n_pos)
    means = {"scramble": scramble, "neutral": neutral, "cue:ball": cue}
    controls = np.array([means[k] for k in kinds]) + sd * rng.standard_normal(3 * n_pos)
    neg = neg or {"cup": -0.5, "chair": -0.5}
    labels = np.repeat(sorted(neg), 10)
    negs = np.array([neg[c] for c in labels]) + sd * rng.standard_normal(len(labels))
    return CausalArrays(p, edits, of, removal_flag, controls, np.repeat(np.arange(n_pos), 3),
                        negs, labels, kinds)


def _gate(rng, train, held, *, meas_effect=1.0, coverage="high", n_perm=2000, aside=None):
    mp = meas_effect + rng.standard_normal(60)
    mr = rng.standard_normal(300)
    return causal_gate(train, held, mp, mr, coverage=coverage, alpha=ALPHA,
                       n_permutations=n_perm, random_state=rng, set_aside=aside)


# ------------------------------------------------------------------ oracles
def test_control_differences_match_a_loop():
    rng = np.random.default_rng(0)
    a = _arrays(rng, n_pos=7)
    want = []
    for i in range(7):
        cand = [*a.edits[(a.edit_of == i) & a.edit_removal], *a.controls[a.control_of == i]]
        want.append(a.pos[i] - max(cand))
    np.testing.assert_allclose(hardest_counterfactual(a), want)
    # voxelwise: the same per column
    pos = rng.standard_normal((5, 3))
    ed = rng.standard_normal((10, 3))
    of = np.repeat(np.arange(5), 2)
    rem = np.tile([True, False], 5)
    ctrl = rng.standard_normal((5, 3))
    d = control_differences(pos, ed, of, rem, ctrl, np.arange(5))
    np.testing.assert_allclose(d, pos - np.maximum(ed[rem], ctrl))
    np.testing.assert_allclose(s_control(pos, ed, of, rem, ctrl, np.arange(5)), d.mean(0))


def test_a_positive_without_removal_or_control_is_left_out():
    a = CausalArrays(np.array([1.0, 2.0, 3.0]), np.array([0.5, 9.0]), np.array([0, 1]),
                     np.array([True, False]), np.array([1.5]), np.array([2]))
    np.testing.assert_allclose(hardest_counterfactual(a), [0.5, 1.5])


def test_sign_flip_p_matches_scipy_exact():
    rng = np.random.default_rng(1)
    d = 0.4 + rng.standard_normal(11)
    p, exact = one_sided_sign_flip(d, n_permutations=10000, random_state=0)
    ref = stats.permutation_test((d,), lambda x: stats.ttest_1samp(x, 0).statistic,
                                 permutation_type="samples", alternative="greater",
                                 n_resamples=np.inf)
    assert exact
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_welch_permutation_p_matches_scipy_within_monte_carlo_error():
    rng = np.random.default_rng(2)
    a, b = 0.5 + rng.standard_normal(15), rng.standard_normal(25) * 2
    n = 4000
    p = one_sided_welch(a, b, n_permutations=n, random_state=0)
    ref = stats.permutation_test(
        (a, b), lambda x, y, axis: stats.ttest_ind(x, y, equal_var=False, axis=axis).statistic,
        permutation_type="independent", alternative="greater", n_resamples=n,
        vectorized=True, random_state=1)
    # two independent Monte Carlo estimates of one p-value
    assert abs(p - ref.pvalue) < 4 * np.sqrt(2 * ref.pvalue * (1 - ref.pvalue) / n) + 1e-3


def test_degenerate_inputs():
    assert one_sided_sign_flip(np.array([1.0]), n_permutations=10) == (None, False)
    assert one_sided_sign_flip(np.zeros(5), n_permutations=10)[0] == 1.0
    assert one_sided_sign_flip(np.ones(5), n_permutations=10)[0] == pytest.approx(2 ** -5)
    assert one_sided_welch(np.ones(1), np.ones(5), n_permutations=10) is None
    assert one_sided_welch(np.ones(4), np.ones(5), n_permutations=10) == 1.0


# ------------------------------------------------------------------ level on pure noise
def test_pure_noise_is_rejected_at_least_at_one_minus_alpha():
    """600 null runs (every response pure noise, measured and generated): the
    discovery rate stays at or under alpha within binomial error."""
    rng = np.random.default_rng(3)
    n_runs, found, gen_pass = 600, 0, 0
    for _ in range(n_runs):
        train, held = _arrays(rng), _arrays(rng)
        g = _gate(rng, train, held, meas_effect=0.0, n_perm=199)
        found += g.verdict == "discovery"
        gen_pass += g.tests["controls_gen"].passes
    bound = ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / n_runs)
    assert found / n_runs <= bound
    assert gen_pass / n_runs <= bound  # each test alone holds its level too


def test_the_generated_test_alone_holds_its_level_without_any_maximum():
    """With one control per positive and no removal edit the statistic is a plain
    paired difference: its rejection rate on noise is alpha (not only at most alpha)."""
    rng = np.random.default_rng(4)
    n_runs, rej = 600, 0
    for _ in range(n_runs):
        a = CausalArrays(rng.standard_normal(15), controls=rng.standard_normal(15),
                         control_of=np.arange(15))
        p, _ = one_sided_sign_flip(hardest_counterfactual(a), n_permutations=199,
                                   random_state=rng)
        rej += p <= ALPHA
    se = np.sqrt(ALPHA * (1 - ALPHA) / n_runs)
    assert abs(rej / n_runs - ALPHA) <= 3 * se


# ------------------------------------------------------------------ planted regions
def test_a_planted_causal_region_is_found():
    rng = np.random.default_rng(5)
    train = _arrays(rng, pos=1.5, sd=0.5)
    held = _arrays(rng, pos=1.5, sd=0.5)
    g = _gate(rng, train, held)
    assert g.candidate and g.verdict == "discovery"
    s = selectivity(train, held, alpha=ALPHA, n_permutations=2000, random_state=0)
    assert s.label == "selective" and s.shared_with == []


def test_a_low_level_region_matched_by_the_scramble_is_rejected():
    rng = np.random.default_rng(6)
    kw = {"pos": 1.5, "scramble": 1.5, "sd": 0.5}
    g = _gate(rng, _arrays(rng, **kw), _arrays(rng, **kw))
    assert g.verdict == "rejected"
    assert not g.tests["controls_gen"].passes


def test_a_cue_only_decoy_is_rejected_while_its_cue_is_a_competitor():
    rng = np.random.default_rng(7)
    kw = {"pos": 1.5, "cue": 1.6, "sd": 0.5}
    train, held = _arrays(rng, **kw), _arrays(rng, **kw)
    assert _gate(rng, train, held).verdict == "rejected"
    # measured images of the cue object that do drive the region keep it a competitor
    assert standin_is_competitor(np.full(20, 1.0), np.zeros(500), np.full(20, 0.9))


def test_a_stand_in_the_measured_data_do_not_confirm_is_set_aside():
    """The encoder predicts the region as high for a ball as for the food, but measured
    ball images barely drive it: the ball stand-in leaves the hardest."""
    rng = np.random.default_rng(8)
    kw = {"pos": 1.5, "cue": 1.6, "sd": 0.5}
    train, held = _arrays(rng, **kw), _arrays(rng, **kw)
    assert not standin_is_competitor(np.full(20, 1.0), np.zeros(500), np.full(20, 0.1))
    g = _gate(rng, train, held, aside={"cue:ball": "measured ball images do not drive it"})
    assert g.verdict == "discovery"
    assert any("set aside" in r for r in g.reasons)


def test_a_region_shared_by_two_concepts_is_a_discovery_labelled_shared():
    rng = np.random.default_rng(9)
    kw = {"pos": 1.0, "sd": 0.5, "neg": {"human face": 1.8, "cup": -0.5, "chair": -0.5}}
    train, held = _arrays(rng, **kw), _arrays(rng, **kw)
    g = _gate(rng, train, held)
    s = selectivity(train, held, alpha=ALPHA, n_permutations=2000, random_state=0)
    assert g.verdict == "discovery"
    assert s.label == "shared" and s.hardest == "human face"
    assert [e["name"] for e in s.shared_with] == ["human face"]


def test_half_causal_region_is_not_a_discovery():
    """Half of the positives drive the region beyond their controls, the other half
    sit under them: the mean difference is about zero, the gate stays shut."""
    rng = np.random.default_rng(10)
    runs = 0
    for _ in range(100):
        a = _arrays(rng, pos=0.0, sd=0.3)
        b = _arrays(rng, pos=0.0, sd=0.3)
        half = np.arange(len(b.pos)) % 2 == 0
        held = CausalArrays(np.where(half, b.pos + 1.0, b.pos - 1.0), b.edits, b.edit_of,
                            b.edit_removal, b.controls, b.control_of, b.neg, b.neg_label,
                            b.control_kind)
        runs += _gate(rng, a, held, n_perm=199).verdict == "discovery"
    assert runs <= 10


def test_low_coverage_gives_follow_up_or_inconclusive_never_rejected():
    rng = np.random.default_rng(11)
    strong = _gate(rng, _arrays(rng, pos=1.5, sd=0.5), _arrays(rng, pos=1.5, sd=0.5),
                   coverage="low", meas_effect=0.0)
    weak = _gate(rng, _arrays(rng), _arrays(rng), coverage="low", meas_effect=0.0)
    assert strong.verdict == "needs follow-up"
    assert weak.verdict == "inconclusive"


def test_same_seed_same_result():
    a = _arrays(np.random.default_rng(12), pos=0.3)
    b = _arrays(np.random.default_rng(13), pos=0.3)
    mp, mr = np.linspace(0, 1, 30), np.linspace(-1, 0.5, 80)
    r1 = causal_gate(a, b, mp, mr, coverage="high", alpha=ALPHA, n_permutations=500,
                     random_state=7)
    r2 = causal_gate(a, b, mp, mr, coverage="high", alpha=ALPHA, n_permutations=500,
                     random_state=7)
    assert r1.to_dict() == r2.to_dict()


# ------------------------------------------------------------------ the matched measured test
def test_low_level_residuals_match_a_direct_ridge_fit():
    from sklearn.linear_model import Ridge

    from braincause.evaluate.causal import LOW_LEVEL_ALPHA, low_level_residuals

    rng = np.random.default_rng(20)
    pf, cf = rng.standard_normal((12, 6)), rng.standard_normal((80, 6)) * 2 + 1
    pr, cr = rng.standard_normal(12), rng.standard_normal(80)
    mu, sd = cf.mean(0), cf.std(0)
    m = Ridge(alpha=LOW_LEVEL_ALPHA).fit((cf - mu) / sd, cr)
    rp, rc = low_level_residuals(pr, pf, cr, cf)
    np.testing.assert_allclose(rp, pr - m.predict((pf - mu) / sd), rtol=1e-9)
    np.testing.assert_allclose(rc, cr - m.predict((cf - mu) / sd), rtol=1e-9)


def test_low_level_test_holds_its_level_for_a_region_driven_by_low_level_statistics():
    """A region that answers only to low-level statistics, with positives whose
    statistics differ from the other images: the unmatched comparison rejects almost
    always, the low-level-adjusted one at about alpha."""
    rng = np.random.default_rng(21)
    w = np.abs(rng.standard_normal(4)) + 0.2
    runs, matched_rej, plain_rej = 300, 0, 0
    for _ in range(runs):
        pf = rng.standard_normal((40, 4)) + 0.8        # positives: brighter, more contrast
        cf = rng.standard_normal((600, 4)) * 1.3
        pr = pf @ w + rng.standard_normal(40)
        cr = cf @ w + rng.standard_normal(600)
        g = causal_gate(_arrays(rng, pos=2, sd=0.3), _arrays(rng, pos=2, sd=0.3), pr, cr,
                        coverage="high", alpha=ALPHA, n_permutations=199, random_state=rng,
                        matched=(pf, cf))
        matched_rej += g.tests["lowlevel_meas"].passes
        plain_rej += one_sided_welch(pr, cr, n_permutations=199, random_state=rng) <= ALPHA
    assert plain_rej / runs > 0.5
    assert matched_rej / runs <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / runs)


# ------------------------------------------------------------------ smallest effect of interest
def test_the_measured_test_with_a_smallest_effect_tests_the_shifted_null():
    """With ``min_effect_meas = δ`` the measured p is the one-sided Welch permutation p of
    (positives − δ) vs the rest, and agrees with scipy's Welch t-test of the same data
    within Monte Carlo error."""
    rng = np.random.default_rng(30)
    mp, mr = 0.3 + rng.standard_normal(80), rng.standard_normal(400)
    train, held = _arrays(rng, pos=2, sd=0.3), _arrays(rng, pos=2, sd=0.3)
    delta, n = 0.15, 4000
    g = causal_gate(train, held, mp, mr, coverage="high", alpha=ALPHA, n_permutations=n,
                    random_state=5, min_effect_meas=delta)
    t = g.tests["activation_meas"]
    assert t.statistic == pytest.approx(mp.mean() - mr.mean())  # the unshifted difference
    ref = stats.ttest_ind(mp - delta, mr, equal_var=False, alternative="greater").pvalue
    assert abs(t.p - ref) < 4 * np.sqrt(ref * (1 - ref) / n) + 2e-3
    plain = causal_gate(train, held, mp, mr, coverage="high", alpha=ALPHA, n_permutations=n,
                        random_state=5).tests["activation_meas"].p
    assert plain < t.p  # the shifted null is harder to reject
    assert any("tested > 0.15" in r for r in g.reasons)


def test_a_real_effect_below_the_smallest_effect_rarely_passes_and_one_above_does():
    """200 runs each: a true measured effect of δ/2 passes at most alpha of the time
    (it is inside the shifted null), one of 3δ nearly always; with δ = 0 the small effect
    passes far more often (the shift is what removes it)."""
    rng = np.random.default_rng(31)
    delta, runs = 0.2, 200
    rate = {}
    for name, effect, d in (("below", delta / 2, delta), ("above", 3 * delta, delta),
                            ("below_no_shift", delta / 2, 0.0)):
        hits = 0
        for _ in range(runs):
            mp, mr = effect + rng.standard_normal(100), rng.standard_normal(400)
            g = causal_gate(_arrays(rng, pos=2, sd=0.3), _arrays(rng, pos=2, sd=0.3), mp, mr,
                            coverage="high", alpha=ALPHA, n_permutations=199,
                            random_state=rng, min_effect_meas=d)
            hits += g.tests["activation_meas"].passes
        rate[name] = hits / runs
    assert rate["below"] <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / runs)
    assert rate["above"] >= 0.95
    assert rate["below_no_shift"] > 2 * rate["below"] + 0.1
