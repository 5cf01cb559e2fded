from __future__ import annotations

import json

import pytest

from braincause.cli import main
from braincause.synth.concepts import CONCEPTS
from braincause.synth.scene import Scene


def test_concepts_json(capsys):
    assert main(["concepts", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [c["name"] for c in doc["concepts"]]
    assert len(names) >= 40 and "human_face" in names and "food" in names
    food = next(c for c in doc["concepts"] if c["name"] == "food")
    assert set(food["categories"]) == {"pizza", "fruit", "cake", "sandwich"}


def test_concepts_human(capsys):
    assert main(["concepts"]) == 0
    out = capsys.readouterr().out
    assert "composition concepts" in out and "person_surfing" in out


@pytest.mark.parametrize("name", sorted(CONCEPTS))
def test_render_every_concept(tmp_path, name, capsys):
    out = tmp_path / f"{name}.png"
    assert main(["render", name.replace("_", " "), "--n", "2", "--size", "48",
                 "--out", str(out)]) == 0
    assert out.stat().st_size > 500
    side = json.loads(out.with_suffix(".json").read_text())
    assert len(side["scenes"]) == 2
    for rec in side["scenes"]:
        assert CONCEPTS[name].present(Scene.from_dict(rec["scene"]))
        assert len(rec["captions"]) == 5
    assert "wrote 2 scenes" in capsys.readouterr().out


def test_render_same_seed_byte_identical_png(tmp_path):
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    assert main(["render", "faces", "--n", "4", "--seed", "5", "--out", str(a)]) == 0
    assert main(["render", "faces", "--n", "4", "--seed", "5", "--out", str(b)]) == 0
    assert main(["render", "faces", "--n", "4", "--seed", "6", "--out", str(c)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    sa = json.loads(a.with_suffix(".json").read_text())["scenes"]
    sc = json.loads(c.with_suffix(".json").read_text())["scenes"]
    assert [r["hash"] for r in sa] != [r["hash"] for r in sc]


def test_unknown_prompt_exits_2_with_suggestions(tmp_path, capsys):
    assert main(["render", "fase", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "human_face" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_unplaced_words_are_reported(tmp_path, capsys):
    out = tmp_path / "z.png"
    assert main(["render", "a zebra in a kitchen", "--n", "1", "--size", "48",
                 "--out", str(out)]) == 0
    assert "zebra" in capsys.readouterr().err
    assert json.loads(out.with_suffix(".json").read_text())["unplaced_words"] == ["zebra"]


@pytest.mark.parametrize("argv,msg", [
    (["render", "faces", "--n", "0", "--out", "x.png"], "--n"),
    (["render", "faces", "--out", "x.jpg"], ".png"),
    (["render", "faces", "--size", "8", "--out", "x.png"], "--size"),
])
def test_bad_arguments_exit_2(argv, msg, capsys):
    assert main(argv) == 2
    assert msg in capsys.readouterr().err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["render"])
    assert e.value.code == 2


def test_cooccurrence_export(tmp_path, capsys):
    assert main(["cooccurrence", "--n", "400", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "declared_priors.csv").read_text().startswith("context,")
    doc = json.loads((tmp_path / "concept_correlations.json").read_text())
    assert doc["concepts"]["food"]["objects"]
    assert "prevalence" in capsys.readouterr().out


def test_console_script_runs():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "braincause", "--version"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0 and "braincause" in r.stdout
