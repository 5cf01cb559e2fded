"""``localize CONCEPT --stimuli DIR`` (a user's own causal stimuli) and
``braincause export-stimuli`` (a run's stimuli as such a folder)."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from braincause.cli import main
from braincause.exceptions import UserInputError
from braincause.stimuli.folder import read_stimulus_folder
from mini import MINI_SUBJECT, MINI_TOML


def _keys(d, path=""):
    """Every key path of a nested document (list items by position)."""
    out = set()
    if isinstance(d, dict):
        for k, v in d.items():
            out |= {f"{path}/{k}"} | _keys(v, f"{path}/{k}")
    return out


@pytest.fixture(scope="module")
def exported(faces_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "faces-stimuli"
    assert main(["export-stimuli", str(faces_run), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def rerun(exported, tmp_path_factory):
    cfg = tmp_path_factory.mktemp("cfg") / "mini.toml"
    cfg.write_text(MINI_TOML)
    out = tmp_path_factory.mktemp("rerun") / "faces"
    assert main(["localize", "faces", "--subject", MINI_SUBJECT, "--config", str(cfg),
                 "--stimuli", str(exported), "--out", str(out), "--no-report", "--quiet"]) == 0
    return json.loads((out / "result.json").read_text())


def test_export_writes_the_runs_kept_stimuli(faces_run, exported):
    man = json.loads((faces_run / "stimuli" / "manifest.json").read_text())
    with open(exported / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    kept_pos = {e["id"] for e in man if e["role"] == "positive" and e["kept"]}
    want = [e for e in man if e["kept"] and e["file"]
            and (e["role"] in ("positive", "negative") or e["parent"] in kept_pos)]
    assert [r["role"] for r in rows] == [e["role"] for e in want]
    assert {r["role"] for r in rows} == {"positive", "negative", "edit", "control"}
    for r, e in zip(rows, want, strict=True):
        assert r["split"] == e["split"] and r["text"] == e["text"]
        a = np.asarray(Image.open(exported / r["path"]))
        b = np.asarray(Image.open(faces_run / "stimuli" / e["file"]))
        np.testing.assert_array_equal(a, b)
    assert (exported / "counter_concepts.csv").is_file()
    # nothing is overwritten
    assert main(["export-stimuli", str(faces_run), "--out", str(exported)]) == 2


def test_exported_folder_reproduces_the_run(faces_run, rerun):
    """Same seed and config on the exported folder: the same result.json fields, verdict,
    regions, p-values and gate tests; scores equal to float32 rounding (the encoder
    predicts fewer rows at a time)."""
    first = json.loads((faces_run / "result.json").read_text())
    assert _keys(rerun) == _keys(first)
    assert rerun["stimuli"]["source"]["kind"] == "folder"
    assert first["stimuli"]["source"]["kind"] == "generated"
    assert rerun["verdict"]["verdict"] == first["verdict"]["verdict"]
    assert rerun["activation_verdict"] == first["activation_verdict"]
    assert rerun["region"]["voxels"] == first["region"]["voxels"]
    assert rerun["activation_region"]["voxels"] == first["activation_region"]["voxels"]
    assert rerun["coverage"] == first["coverage"]
    assert rerun["stimuli"]["counter_concepts"] == first["stimuli"]["counter_concepts"]
    assert rerun["ground_truth"] == first["ground_truth"]
    for key in ("p_values", "region", "activation_region", "voxelwise"):
        _close(rerun[key], first[key], key)
    _close(rerun["verdict"]["gate"], first["verdict"]["gate"], "gate")
    for k, t in first["verdict"]["gate"]["tests"].items():
        assert rerun["verdict"]["gate"]["tests"][k]["passes"] == t["passes"], k


def _close(a, b, where):
    """Equal documents, numbers to float32 rounding (result.json rounds to 6 digits)."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and set(a) == set(b), where
        for k in b:
            _close(a[k], b[k], f"{where}/{k}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(b, float) and not isinstance(b, bool):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-4), where
    else:
        assert a == b, where


def _write(path, size=(40, 30), colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def _folder(tmp_path, n_pos=3, n_neg=3, edits=True):
    d = tmp_path / "stim"
    for i in range(n_pos):
        _write(d / "positives" / f"p{i}.png")
    for i in range(n_neg):
        _write(d / "negatives" / "animal_face" / f"n{i}.jpg", colour=(10, 90, 200))
    if edits:
        for i in range(n_pos):
            _write(d / "edits" / f"p{i}" / "remove_the_face.png", colour=(90, 90, 90))
    return d


def test_folder_layout_splits_every_third_image(tmp_path):
    sf = read_stimulus_folder(_folder(tmp_path, n_pos=7, n_neg=4))
    pos = [s for s, r in zip(sf.split, sf.role, strict=True) if r == "positive"]
    assert pos == ["train", "train", "eval", "train", "train", "eval", "train"]
    assert sf.counter[sf.role.index("negative")] == "animal face"
    edits = [i for i, r in enumerate(sf.role) if r == "edit"]
    assert [sf.split[sf.parent[i]] for i in edits] == [sf.split[i] for i in edits]
    assert sf.images[0].shape == (30, 30, 3)   # the central square


@pytest.mark.parametrize("case, message", [
    ("no-positives", r"no TRAIN positive"),
    ("no-edits", r"no TRAIN edit"),
    ("missing-file", r"row 3: image 'positives/gone\.png' does not exist"),
    ("bad-role", r"role 'target' is not one of"),
    ("orphan-edit", r"edits/nobody: no positive image named nobody"),
    ("unreadable", r"cannot read image .*p1\.png"),
    ("ambiguous-stem", r"more than one positive is named p0"),
])
def test_bad_stimulus_folders(case, message, tmp_path):
    d = _folder(tmp_path)
    if case == "no-positives":
        shutil.rmtree(d / "positives")
        shutil.rmtree(d / "edits")
    elif case == "no-edits":
        shutil.rmtree(d / "edits")
    elif case == "missing-file":
        (d / "manifest.csv").write_text("path,role\npositives/p0.png,positive\n"
                                        "positives/gone.png,positive\n")
    elif case == "bad-role":
        (d / "manifest.csv").write_text("path,role\npositives/p0.png,target\n")
    elif case == "orphan-edit":
        _write(d / "edits" / "nobody" / "x.png")
    elif case == "unreadable":
        (d / "positives" / "p1.png").write_bytes(b"not a png")
    elif case == "ambiguous-stem":
        _write(d / "positives" / "eval" / "p0.jpg")
    with pytest.raises(UserInputError, match=message):
        read_stimulus_folder(d)


@pytest.mark.parametrize("case", ["no-positives", "missing-file", "unknown-counter"])
def test_localize_bad_stimuli_exits_2_before_work(case, tmp_path, capsys, monkeypatch):
    import braincause.pipeline.context as context

    def tripwire(*a, **k):
        raise AssertionError("the run started before the stimulus folder was checked")

    monkeypatch.setattr(context, "prepare_run", tripwire)
    import braincause.pipeline.run as run

    monkeypatch.setattr(run, "prepare_run", tripwire)
    d = _folder(tmp_path)
    if case == "no-positives":
        shutil.rmtree(d / "positives")
        shutil.rmtree(d / "edits")
    elif case == "missing-file":
        (d / "manifest.csv").write_text("path,role,split\npositives/nope.png,positive,train\n")
    else:
        shutil.move(d / "negatives" / "animal_face", d / "negatives" / "qwxzzy")
    assert main(["localize", "faces", "--subject", MINI_SUBJECT, "--stimuli", str(d),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("braincause: ") and len(err.strip().splitlines()) == 1, err
    if case == "unknown-counter":
        assert "qwxzzy" in err
    assert not (tmp_path / "out" / "result.json").exists()


def test_a_folder_without_controls_says_so_in_the_verdict(exported, tmp_path):
    """The reduced analysis: without cue controls the gate compares positives with their
    removal edits only, and the verdict's reasons say so."""
    from braincause.config import LocalizeConfig
    from braincause.pipeline import localize
    from mini import MINI

    d = tmp_path / "no-controls"
    shutil.copytree(exported, d)
    with open(d / "manifest.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["role"] != "control"]
    with open(d / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    res = localize("faces", subject=MINI_SUBJECT, config=LocalizeConfig.from_dict(MINI),
                   stimuli=d)
    reasons = res.to_dict()["verdict"]["reasons"]
    assert any("no TRAIN cue controls" in r for r in reasons)
    assert any("no EVAL cue controls" in r for r in reasons)
    assert res.to_dict()["stimuli"]["retention"]["control_train"]["kept"] == 0
    assert res.to_dict()["stimuli"]["source"] == {"kind": "folder", "path": str(d),
                                                  "layout": "manifest.csv", "verified": False}
