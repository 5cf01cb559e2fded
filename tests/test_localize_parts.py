"""Config, ranking signals, regions, region CIs and the verdict (no subject needed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from braincause.config import ConfigError, LocalizeConfig
from braincause.evaluate.regionstats import region_point_scores, region_scores_ci
from braincause.evaluate.verdict import coverage_level, decide
from braincause.regions import propose_region
from braincause.scoring import region_scores
from braincause.scoring.signals import COMBINED, combine_signals, ranking_signals, zscore


# ------------------------------------------------------------------ config
def test_config_roundtrip_and_defaults(tmp_path):
    cfg = LocalizeConfig()
    assert cfg.region.k == 100 and cfg.stats.alpha == 0.05 and cfg.region.k_hard == 10
    assert cfg.stimuli.n_positive_train == 200 and cfg.stimuli.n_edit_positives_eval == 100
    f = tmp_path / "c.toml"
    f.write_text('[region]\nk = 50\nrule = "causal_positive"\n[stats]\nalpha = 0.01\n'
                 '[verdict]\nrequire_measured = []\n')
    c2 = LocalizeConfig.from_toml(f)
    assert c2.region.k == 50 and c2.region.rule == "causal_positive"
    assert c2.stats.alpha == 0.01 and c2.verdict.require_measured == ()
    assert LocalizeConfig.from_dict(c2.to_dict()) == c2
    assert c2.hash() != cfg.hash() and LocalizeConfig().hash() == cfg.hash()


@pytest.mark.parametrize("text, msg", [
    ("[region\nk = 1", "not valid TOML"),
    ("[regions]\nk = 1", "unknown config section"),
    ("[region]\nkk = 1", "unknown field"),
    ("[region]\nk = \"ten\"", "region.k must be int"),
    ("[region]\nk = 0", "region.k must be ≥ 1"),
    ("[stats]\nalpha = 1.5", "alpha must be in (0, 1)"),
    ("[region]\nranking = \"XYZ\"", "region.ranking must be one of"),
    ("[verdict]\nrequire_generated = [\"nope\"]", "unknown criteria"),
])
def test_malformed_config_says_what_is_wrong(tmp_path, text, msg):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        LocalizeConfig.from_toml(f)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        LocalizeConfig.from_toml(tmp_path / "none.toml")


# ------------------------------------------------------------------ signals
def _planted(seed=0, n_vox=41):
    """Voxel 0 is causal (positives > negatives and edits); voxel 1 is a cue voxel
    (positives and negatives and edits all high); the rest noise."""
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(37, n_vox))
    neg = rng.normal(size=(29, n_vox))
    edits = rng.normal(size=(53, n_vox))
    edit_of = rng.integers(0, 13, 53)
    pos[:, 0] += 2.0
    pos[:, 1] += 2.5
    neg[:, 1] += 2.5
    edits[:, 1] += 2.5
    return pos, neg, edits, edit_of


def test_signals_and_combination_prefer_causal_over_cue_voxels():
    pos, neg, edits, edit_of = _planted()
    gen = {"pos": pos, "neg": neg, "edits": edits, "edit_of": edit_of}
    sig = ranking_signals(gen=gen, measured={"pos": pos[:20], "neg": neg[:15]},
                          pool={"pos_unverified": pos, "pos": pos[:30], "neg": neg})
    assert set(sig) == {"MAG", "MAM", "MAL", "MALF", "CSG", "CSM", "CSL", "CEG"}
    assert np.argmax(sig["MAG"]) == 1                 # activation is fooled by the cue voxel
    combined, used = combine_signals(sig, COMBINED)
    assert used == list(COMBINED)
    assert np.argmax(combined) == 0                   # the combination is not
    assert combined[1] < combined[0]
    # z-scoring makes the combination invariant to each signal's scale
    scaled = {k: v * (10.0 if k == "CEG" else 1.0) for k, v in sig.items()}
    np.testing.assert_allclose(combine_signals(scaled, COMBINED)[0], combined)
    # missing signals are left out and reported
    partial = {k: v for k, v in sig.items() if k not in ("CSM",)}
    assert combine_signals(partial, COMBINED)[1] == ["CEG", "CSG", "CSL", "MALF"]


def test_zscore_uses_kept_voxels_only():
    x = np.array([1.0, 2.0, 3.0, 100.0])
    keep = np.array([True, True, True, False])
    z = zscore(x, keep)
    np.testing.assert_allclose(z[:3], scipy.stats.zscore(x[:3]))


# ------------------------------------------------------------------ regions
def test_propose_region_topk_filter_and_ties():
    score = np.array([0.5, 3.0, 3.0, np.nan, 2.0, -1.0])
    keep = np.array([True, True, True, True, False, True])
    r = propose_region(score, keep=keep, k=3)
    assert r.voxels.tolist() == [1, 2, 0]              # ties by index, filter applied
    c = propose_region(score, keep=keep, rule="causal_positive",
                       s_causal=np.array([1, -1, 1, 1, 1, 1.0]))
    assert c.voxels.tolist() == [2, 0, 5]
    with pytest.raises(ValueError, match="empty"):
        propose_region(score, keep=np.zeros(6, bool))
    with pytest.raises(ValueError, match="rule"):
        propose_region(score, rule="nope")


# ------------------------------------------------------------------ region CIs
def test_region_point_scores_match_scoring_module():
    pos, neg, edits, edit_of = _planted(3)
    mask = np.zeros(pos.shape[1], bool)
    mask[[0, 4, 7]] = True
    ref = region_scores(mask, pos, neg, edits, edit_of)
    a = region_point_scores(pos[:, mask].mean(1), neg[:, mask].mean(1),
                            edits[:, mask].mean(1), edit_of)
    ci = region_scores_ci(pos[:, mask].mean(1), neg[:, mask].mean(1), edits[:, mask].mean(1),
                          edit_of, n_boot=200, random_state=0)
    for k in ("s_pos", "s_neg", "s_edit", "s_causal"):
        assert a[k] == pytest.approx(float(getattr(ref, k)[0]), abs=1e-12)
        assert ci[k]["value"] == pytest.approx(a[k], abs=1e-6)
        assert ci[k]["ci_low"] <= ci[k]["value"] <= ci[k]["ci_high"]
        assert ci[k]["ci_low"] <= ci[k]["lower_one_sided"] <= ci[k]["ci_high"]


def test_region_ci_coverage_simulation():
    """95 % intervals of S_pos and S_edit cover the true value at about the nominal rate."""
    rng = np.random.default_rng(12)
    n_sim, hit_pos, hit_edit = 300, 0, 0
    for _ in range(n_sim):
        a_pos = rng.normal(0.5, 1.0, 40)
        edit_of = np.repeat(np.arange(20), 2)
        # each edit = its positive minus an effect + noise; true S_edit is known by design
        a_edit = a_pos[edit_of] - 0.3 + rng.normal(0, 0.5, 40)
        ci = region_scores_ci(a_pos, None, a_edit, edit_of, n_boot=400, random_state=rng)
        hit_pos += ci["s_pos"]["ci_low"] <= 0.5 <= ci["s_pos"]["ci_high"]
        # E[pos - max(two edits)] = 0.3 - E[max of two N(0, .5)] = 0.3 - 0.5/sqrt(pi)
        true_edit = 0.3 - 0.5 / np.sqrt(np.pi)
        hit_edit += ci["s_edit"]["ci_low"] <= true_edit <= ci["s_edit"]["ci_high"]
    assert 0.89 <= hit_pos / n_sim <= 0.99
    assert 0.87 <= hit_edit / n_sim <= 0.99


def test_region_ci_deterministic_and_bad_input():
    a = np.arange(10.0)
    assert region_scores_ci(a, a, random_state=3) == region_scores_ci(a, a, random_state=3)
    with pytest.raises(ValueError, match="level"):
        region_scores_ci(a, level=1.5)
    with pytest.raises(ValueError, match="no positives"):
        region_scores_ci(np.zeros(0))


# ------------------------------------------------------------------ verdict
def _crit(p, low):
    return {"p": p, "lower_one_sided": low}


@pytest.mark.parametrize("coverage, gen_ok, meas_ok, expected", [
    ("high", True, True, "discovery"),
    ("high", True, False, "rejected"),
    ("high", False, True, "rejected"),
    ("low", True, False, "needs follow-up"),
    ("low", False, False, "inconclusive"),
])
def test_verdict_table(coverage, gen_ok, meas_ok, expected):
    cfg = LocalizeConfig().verdict
    good, bad = _crit(0.01, 0.2), _crit(0.3, 0.2)
    crit = {"causal_gen": good if gen_ok else bad, "edits": _crit(0.04, -0.1),
            "causal_meas": good if meas_ok else _crit(0.01, -0.1)}
    v = decide(crit, coverage, [], cfg, alpha=0.05, train_causal=0.1)
    assert v.verdict == expected
    assert v.criteria["edits"]["passes"]            # generated: the paper's p test alone
    assert v.criteria["causal_meas"]["passes"] == meas_ok   # measured: p and CI > 0


def test_verdict_withholds_candidates_without_train_causality():
    cfg = LocalizeConfig().verdict
    good = _crit(0.01, 0.2)
    crit = {"causal_gen": good, "edits": good, "causal_meas": good}
    assert decide(crit, "high", [], cfg, alpha=0.05, train_causal=0.2).verdict == "discovery"
    v = decide(crit, "high", [], cfg, alpha=0.05, train_causal=-0.01)
    assert v.verdict == "rejected" and not v.generated_evidence
    assert any("withheld" in r for r in v.reasons)
    import dataclasses

    strict = dataclasses.replace(cfg, generated_ci=True)
    crit["edits"] = _crit(0.01, -0.05)
    assert decide(crit, "high", [], strict, alpha=0.05, train_causal=0.2).verdict == "rejected"


def test_coverage_level_cutoffs():
    cfg = LocalizeConfig().verdict
    assert coverage_level(25, {"a": 5, "b": 3, "c": 0}, cfg)[0] == "high"
    assert coverage_level(19, {"a": 5, "b": 3}, cfg)[0] == "low"
    assert coverage_level(30, {"a": 5, "b": 0, "c": 0}, cfg)[0] == "low"
    assert coverage_level(30, {}, cfg)[0] == "low"


def test_maps_of_a_subject_without_areas():
    """synth-null has no planted areas or decoys: its maps carry no area fields."""
    from types import SimpleNamespace

    from braincause.pipeline import voxel_maps as _maps
    from braincause.scoring import VoxelScores

    n = 5
    cortex = SimpleNamespace(vertex=np.arange(n), hemi=np.zeros(n, np.int8))
    subj = SimpleNamespace(cortex=cortex, brain=SimpleNamespace(areas=()),
                           area_kinds=lambda: {})
    z = np.zeros(n)
    mask = np.zeros(n, bool)
    out = _maps(subj, np.ones(n, bool), {"causal": mask, "activation": mask},
                VoxelScores(z, z, z, z), {"MAG": z}, np.zeros(n, bool))
    assert "area_extents" not in out and out["truth"].shape == (n,)
    assert out["signal_MAG"].dtype == np.float32
