"""The ground-truth benchmark (``braincause benchmark``, :mod:`braincause.bench.groundtruth`).

Metric functions are checked against scikit-learn and scipy on hand-made inputs; the
aggregation on hand-made records; the whole path (localize → per-method records →
benchmark.json / .md / .png) on a tiny configuration with two concepts in the mini subject
synth-01-mini (tests/mini.py), the null subject's path on synth-null-mini, and the same
records with one or two workers. Slow: ``braincause benchmark --quick`` itself
(full-size synth-01 and synth-null at the benchmark's own stimuli sizes: 4-7 minutes in a
fresh cache on 2 cores).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from braincause.bench import groundtruth as gt
from braincause.cli import main
from mini import MINI_NULL_SUBJECT, MINI_SUBJECT, toml_text

#: The mini subjects: synth-01's and synth-null's brains on a 300-image pool.
SUBJECT, NULL_SUBJECT = MINI_SUBJECT, MINI_NULL_SUBJECT
#: Every stage runs, at the smallest sizes that still give each method a region; the
#: oracle verifier (the probe verifier's training set would cost more than the rest, and
#: spawned workers know only the built-in verifier kinds).
TINY = {
    "stimuli": {"n_positive_train": 16, "n_positive_eval": 12, "n_counter": 3,
                "n_negative_prompts": 3, "n_edit_positives_train": 6,
                "n_edit_positives_eval": 4, "n_edits": 2, "verifier": "oracle"},
    "stats": {"n_baselines": 5, "n_permutations": 50, "n_bootstrap": 50},
    "retrieval": {"top_positive": 80, "max_positive": 24},
}
TINY_TOML = toml_text(TINY)
HEADLINE = ("concept_fpr", "concept_tpr", "voxel_precision_top100", "null_fwer")


# ------------------------------------------------------------------ metric functions
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_voxel_metrics_match_sklearn(seed):
    from sklearn.metrics import f1_score, precision_score, recall_score

    rng = np.random.default_rng(seed)
    truth = rng.random(31 * 7) < 0.3
    region = rng.random(31 * 7) < 0.2
    m = gt.voxel_metrics(region, truth)
    assert m["precision"] == pytest.approx(precision_score(truth, region))
    assert m["recall"] == pytest.approx(recall_score(truth, region))
    assert m["dice"] == pytest.approx(f1_score(truth, region))


def test_voxel_metrics_edge_cases():
    none = np.zeros(13, bool)
    some = none.copy()
    some[[2, 5]] = True
    assert gt.voxel_metrics(some, none) == {"precision": 0.0, "recall": None, "dice": 0.0}
    assert gt.voxel_metrics(none, some) == {"precision": 0.0, "recall": 0.0, "dice": 0.0}
    assert gt.voxel_metrics(some, some) == {"precision": 1.0, "recall": 1.0, "dice": 1.0}
    with pytest.raises(ValueError, match="shape"):
        gt.voxel_metrics(some, np.zeros(12, bool))


def test_top_k_breaks_ties_by_index_and_skips_nan_and_dropped_voxels():
    s = np.array([1.0, 3.0, 3.0, np.nan, 2.0, 3.0, 0.5])
    keep = np.array([True, True, True, True, True, False, True])
    assert gt.top_k(s, keep, 3).tolist() == [1, 2, 4]
    assert gt.top_k(s, keep, 10).tolist() == [1, 2, 4, 0, 6]
    assert gt.top_k(np.full(5, np.nan), np.ones(5, bool), 3).size == 0


def test_clopper_pearson_matches_scipy():
    from scipy.stats import binomtest

    for k, n in ((0, 17), (3, 17), (17, 17), (5, 40)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert gt.clopper_pearson(k, n) == pytest.approx((ci.low, ci.high))


def test_task_seeds_do_not_depend_on_subject_or_order():
    tasks = gt.plan_tasks(["food", "sky"], ["synth-02", "synth-01"], null_subject="synth-null",
                          null_repeats=2, seed=7)
    assert len(tasks) == 2 * 2 + 2 * 2
    seeds = {(t.subject, t.concept, t.repeat): t.seed for t in tasks}
    assert seeds["synth-01", "food", 0] == seeds["synth-02", "food", 0] == \
        seeds["synth-null", "food", 0] == gt.task_seed(7, "food", 0)
    assert len({seeds["synth-null", "food", 0], seeds["synth-null", "food", 1],
                seeds["synth-null", "sky", 0]}) == 3
    again = gt.plan_tasks(["sky", "food"], ["synth-01"], null_subject=None, null_repeats=0,
                          seed=7)
    assert {t.concept: t.seed for t in again} == {"food": seeds["synth-01", "food", 0],
                                                  "sky": seeds["synth-01", "sky", 0]}
    assert gt.task_seed(8, "food") != gt.task_seed(7, "food")


def test_tuned_areas_and_alignment():
    area = SimpleNamespace
    areas = [area(name="FFA", kind="planted", tuning={"face": 1.0, "animal_face": 0.5}),
             area(name="EBA", kind="planted", tuning={"body": 1.0, "hand": 0.7}),
             area(name="tool", kind="planted", tuning={"tool": 1.0, "hand": 0.3}),
             area(name="human-presence", kind="decoy", tuning={"skin": 1.8})]
    assert gt.tuned_areas("human_face", areas) == ["FFA"]
    assert gt.tuned_areas("hand", areas) == ["EBA", "tool"]
    assert gt.tuned_areas("animals", areas) == ["FFA"]  # animal_face (animal bodies: no area)
    assert gt.tuned_areas("sky", areas) == []
    rank = np.arange(10, dtype=float)[::-1]      # voxel 0 best
    inside = np.zeros(10, bool)
    inside[[0, 1, 5]] = True
    got = gt.alignment(rank, np.ones(10, bool), inside, ks=(2, 4, 10))
    assert got == {"2": 1.0, "4": 0.5, "10": 0.3}


def _method(discovered, precision, train=0.5, eval_causal=0.1, align=None):
    return {"discovered": discovered, "precision": precision,
            "recall": None if precision is None else 0.5, "dice": precision,
            "ranking_score": train, "train_score": train, "eval_causal": eval_causal,
            "paper_outcome": "withheld" if not discovered else
            ("TP" if eval_causal > 0 else "FP"),
            "table1": {c: 1.0 for c in gt.TABLE1}, "alignment": align}


def _record(subject, concept, represented, found, precision, null=False, repeat=0):
    return {"subject": subject, "concept": concept, "repeat": repeat, "null": null,
            "represented": represented, "n_true_voxels": 50 if represented else 0,
            "tuned_areas": ["FFA"] if concept == "human_face" else [],
            "verdict": "discovery" if found else "rejected", "activation_verdict": "rejected",
            "coverage_level": "high",
            "p_values": {c: 0.04 if found else (0.5 if c == "edits" else 0.04)
                         for c in ("act_gen", "causal_gen", "edits", "act_meas",
                                   "causal_meas")},
            "paper_p_all_criteria": False, "voxelwise_fwer": {"t": int(found)},
            "causal_positive_region": {"size": 10, "precision": 0.5, "recall": 0.5,
                                       "dice": 0.5},
            "methods": {m: _method(found if m == "braincause" else True,
                                   precision if represented else 0.0,
                                   align={"100": 0.8, "200": 0.6, "500": 0.4}
                                   if concept == "human_face" and not null else None)
                        for m in gt.METHODS}}


def test_aggregate_on_hand_made_records():
    recs = [_record("synth-01", "human_face", True, True, 0.9),
            _record("synth-02", "human_face", True, False, 0.3),
            _record("synth-01", "sky", False, True, None),
            _record("synth-02", "sky", False, False, None),
            _record("synth-null", "sky", False, True, None, null=True),
            _record("synth-null", "sky", False, False, None, null=True, repeat=1)]
    res = gt.aggregate(recs)
    b, a = res["methods"]["braincause"], res["methods"]["max_activation"]
    assert b["concept_tpr"] == 0.5 and b["concept_fpr"] == 0.5 and b["null_fwer"] == 0.5
    assert a["concept_tpr"] == 1.0 and a["concept_fpr"] == 1.0 and a["null_fwer"] == 1.0
    assert b["concept_tpr_located"] == 0.5 and a["concept_tpr_located"] == 0.5
    assert b["voxel_precision_top100"] == pytest.approx(0.6)
    assert b["paper_bookkeeping"]["withheld"] == 0.5
    assert b["alignment"]["100"] == pytest.approx(0.8)
    assert res["null_calibration"]["voxelwise_max_t_fwer"]["t"]["value"] == 0.5
    assert res["per_subject"]["synth-01"]["braincause"]["concept_fpr"] == 1.0
    assert res["activation_region_verdict"]["null_fwer"]["value"] == 0.0
    assert res["braincause_missed"]["pairs"] == 1
    assert res["braincause_missed"]["edits p > α"] == 1
    assert res["braincause_missed"]["causal_gen p > α"] == 0
    assert set(res["per_concept"]) == {"human_face", "sky"}
    # order of the records does not matter
    assert gt.aggregate(recs[::-1]) == res


# ------------------------------------------------------------------ the whole path
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    # no null subject here: its path is test_null_subject_runs below
    res = gt.run_benchmark(concepts=("human_face", "sky"), subjects=(SUBJECT,),
                           null_subject=None, config=TINY, workers=1, out=out)
    return res, out


def test_benchmark_outputs_and_schema(tiny):
    res, out = tiny
    d = json.loads((out / "benchmark.json").read_text())
    assert set(d["methods"]) == set(gt.METHODS)
    for m, v in d["methods"].items():
        for key in HEADLINE[:3]:
            assert v[key] is not None and 0.0 <= v[key] <= 1.0, (m, key, v[key])
        assert v["null_fwer"] is None  # no null subject here
        assert v["concept_level"]["represented"] == 1 and v["concept_level"]["pairs"] == 2
        assert set(v["table1"]["all"]) == set(gt.TABLE1)
    assert d["ground_truth_definition"].startswith("Voxel v represents")
    assert d["per_concept"]["human_face"]["n_true_voxels"][SUBJECT] > 0
    assert d["per_concept"]["sky"]["n_true_voxels"][SUBJECT] == 0
    assert set(d["per_subject"]) == {SUBJECT}
    assert d["null_calibration"]["runs"] == 0 and "## Null subject" not in \
        (out / "benchmark.md").read_text()
    # an activation rule discovers whatever it is asked (positive mean activation)
    assert d["methods"]["max_activation"]["concept_level"]["discoveries"] == 2
    md = (out / "benchmark.md").read_text()
    for head in ("## Ground truth", "## Headline", "## Table 1", "## Known-area alignment",
                 "Max Activation (MAG)", "MindSimulator+VLM (MALF)"):
        assert head in md
    assert (out / "benchmark.png").stat().st_size > 10_000
    assert res["run"]["tasks"] == 2 and res["run"]["history"][-1]["tasks_run"] == 2


def test_cli_benchmark_resumes_and_rejects_bad_input(tiny, tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY_TOML)
    out = tmp_path / "b"
    # same configuration and tasks as the fixture: every record is reused
    assert main(["benchmark", "--config", str(cfg), "--concepts", "human_face", "sky",
                 "--subjects", SUBJECT, "--no-null", "--workers", "1",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("(resumed)") == 2
    d = json.loads((out / "benchmark.json").read_text())
    assert d["methods"] == tiny[0]["methods"] and d["run"]["tasks_resumed"] == 2
    assert "The records were computed by" in (out / "benchmark.md").read_text()
    assert main(["benchmark", "--concepts", "no_such_concept", "--out", str(out)]) == 2
    assert "unknown benchmark concept" in capsys.readouterr().err
    assert main(["benchmark", "--workers", "0", "--concepts", "sky", "--out", str(out)]) == 2


def test_same_results_with_one_or_two_workers(tiny, tmp_path):
    kw = dict(concepts=("human_face", "sky"), subjects=(SUBJECT,), null_subject=None,
              config=TINY, resume=False)
    one = gt.run_benchmark(workers=1, work=tmp_path / "w1", **kw)
    two = gt.run_benchmark(workers=2, work=tmp_path / "w2", **kw)
    for key in ("methods", "per_subject", "per_concept", "alignment_by_areas"):
        assert one[key] == two[key]
    for t in ("human_face", "sky"):
        a = json.loads((tmp_path / "w1" / "tasks" / SUBJECT / f"{t}-r0.json").read_text())
        b = json.loads((tmp_path / "w2" / "tasks" / SUBJECT / f"{t}-r0.json").read_text())
        for k in ("localize_s", "elapsed_s"):
            a.pop(k), b.pop(k)
        assert a == b


def test_null_subject_runs(tiny, tmp_path):
    """The null subject's runs on the mini null subject: its family-wise error, the null
    calibration and its section of benchmark.md (``--quick`` runs them on synth-null)."""
    out = tmp_path / "null"
    gt.run_benchmark(concepts=("sky",), subjects=(SUBJECT,), null_subject=NULL_SUBJECT,
                     null_repeats=1, config=TINY, workers=1, out=out)
    d = json.loads((out / "benchmark.json").read_text())
    assert d["null_calibration"]["runs"] == 1
    assert all(0 <= d["methods"][m]["null_fwer"] <= 1 for m in gt.METHODS)
    assert f"## Null subject ({NULL_SUBJECT}" in (out / "benchmark.md").read_text()


@pytest.mark.slow
def test_quick_benchmark_command(tmp_path):
    """``--quick`` as CI would run it, with the null subject."""
    out = tmp_path / "quick"
    assert main(["benchmark", "--quick", "--out", str(out), "--quiet"]) == 0
    d = json.loads((out / "benchmark.json").read_text())
    assert d["quick"] and len(d["concepts"]) == len(gt.QUICK_CONCEPTS)
    assert all(0 <= d["methods"][m][k] <= 1 for m in gt.METHODS for k in HEADLINE)
    assert d["null_calibration"]["runs"] == len(gt.QUICK_CONCEPTS)
    assert set(d["per_concept"]["sky"]["null_verdicts"]) <= {"rejected", "inconclusive",
                                                            "discovery", "needs follow-up"}
    assert "## Null subject (synth-null" in (out / "benchmark.md").read_text()
