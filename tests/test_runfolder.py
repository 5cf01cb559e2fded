"""The run-folder contract without a run: records, writer, reader, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from braincause.exceptions import DataError, UserInputError
from braincause.runfolder import (
    SCHEMA_VERSION,
    RegionScores,
    RunFolderError,
    RunResult,
    ScoreCI,
    read_run,
    write_run,
)


def _ci(v):
    return {"value": v, "ci_low": v - 0.1, "ci_high": v + 0.1, "lower_one_sided": v - 0.05,
            "n": 10}


def _doc(n_vox=8):
    scores = {"train_generated": {"s_pos": 0.5, "s_neg": 0.2, "s_edit": 0.1, "s_causal": 0.15},
              "eval_generated": {k: _ci(0.3) for k in ("s_pos", "s_neg", "s_edit",
                                                        "s_causal")},
              "eval_measured": {k: _ci(0.2) for k in ("s_pos", "s_neg")}}
    crit = {"value": 0.3, "lower_one_sided": 0.25, "p": 0.05, "n_baselines": 19,
            "baselines_at_least_as_high": []}
    region = {"rule": "top_k", "ranking": "braincause", "k": 3, "size": 3,
              "voxels": [5, 1, 2], "scores": scores}
    return {
        "schema_version": SCHEMA_VERSION, "query": "x", "concept": {"name": "x"},
        "subject": {"id": "synth-01", "n_voxels": n_vox}, "seed": 0,
        "region": region, "activation_region": {**region, "voxels": [0, 1, 2]},
        "p_values": {"definition": "d", "baseline_concepts": ["a"], "baseline_seed": 0,
                     "causal": {"causal_gen": crit}, "activation": {"causal_gen": crit}},
        "coverage": {"level": "high"},
        "verdict": {"verdict": "discovery", "coverage": "high", "generated_evidence": True,
                    "measured_evidence": True, "reasons": [], "criteria": {},
                    "cutoffs": {"alpha": 0.05}},
        "stimuli": {"counter_concepts": []}, "run": {"created": "now"}}


def _maps(n=8):
    m = np.zeros(n, bool)
    return {"vertex": np.arange(n, dtype=np.int32), "hemi": np.zeros(n, np.int8),
            "region": m, "activation_region": m, "s_pos": np.zeros(n, np.float32),
            "s_causal": np.zeros(n, np.float32)}


def test_records_round_trip():
    d = _doc()
    rec = RunResult.from_dict(d)
    assert rec.to_dict() == d
    assert next(iter(rec.to_dict())) == "schema_version"
    assert isinstance(rec.region.scores.eval_generated["s_neg"], ScoreCI)
    assert rec.region.scores.value("eval_measured", "s_neg") == 0.2
    assert rec.region.scores.value("train_generated", "s_causal") == 0.15
    assert rec.p_causal["causal_gen"].p == 0.05
    assert rec.region.mask(8).sum() == 3
    assert RegionScores.from_dict({"train_generated": {}, "eval_generated": {},
                                   "eval_measured": None}).value("eval_measured", "s_pos") \
        is None


def test_write_then_read(tmp_path):
    rec = RunResult.from_dict(_doc())
    written = write_run(tmp_path / "r", rec, _maps(), [{"id": 0, "role": "positive",
                                                        "text": "t", "kept": True,
                                                        "file": "a.png"}],
                        [("a.png", b"png")])
    back = read_run(tmp_path / "r")
    assert back.result == written.result == rec.to_dict()
    assert back.result_sha256 == written.result_sha256
    assert (tmp_path / "r" / "stimuli" / "a.png").read_bytes() == b"png"
    assert back.record.verdict.verdict == "discovery"


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.update(schema_version=99), "schema_version 99"),
    (lambda d: d["region"].update(voxels=[1, 50]), "outside the subject"),
    (lambda d: d.update(verdict="yes"), "verdict"),
])
def test_reader_refuses_bad_folders(tmp_path, edit, match):
    d = _doc()
    edit(d)
    (tmp_path / "stimuli").mkdir()
    (tmp_path / "stimuli" / "manifest.json").write_text("[]")
    np.savez(tmp_path / "maps.npz", **_maps())
    (tmp_path / "result.json").write_text(json.dumps(d))
    with pytest.raises(RunFolderError, match=match) as e:
        read_run(tmp_path).record  # noqa: B018 (the typed view is parsed on access)
    # one error class that both old readers' callers catch: exit 2 either way
    assert isinstance(e.value, DataError) and isinstance(e.value, UserInputError)


def test_reader_refuses_a_missing_folder(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        read_run(tmp_path / "nope")
