"""The safe boundary: every user-facing input is checked before any work.

Bad input gives exit code 2 and a one-line message (never a traceback), on the CLI and
in the Python API; a damaged cached stimulus archive is rebuilt; a property-based test
drives the CLI with generated arguments and checks that nothing outside ``--out`` is
touched. Everything here runs in seconds: long work (localize, the benchmark, fitting an
encoder, building a subject) is replaced by a tripwire, so reaching it fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from braincause.boundary import (
    MAX_SEED,
    check_float,
    check_int,
    check_localize_inputs,
    check_manifest,
    check_output_dir,
    check_output_file,
    check_result,
    check_seed,
)
from braincause.cli import main
from braincause.exceptions import DataError, UserInputError

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
REPORT_RUN = Path(__file__).parent / "data" / "report_run"


class WorkStarted(BaseException):
    """Raised by the tripwires: long work began although the input was bad (a
    BaseException, so that the CLI's internal-error handler does not swallow it)."""


@pytest.fixture
def tripwires(monkeypatch):
    """Replace every long-running entry point the CLI can reach by a tripwire."""
    import braincause.bench.groundtruth as gt
    import braincause.datasets as ds
    import braincause.datasets.synthetic as syn
    import braincause.encoding.fit as fit
    import braincause.pipeline as pipeline
    import braincause.synth.ground_truth as truth

    def trip(*_a, **_k):
        raise WorkStarted

    for mod, name in ((pipeline, "localize"), (gt, "run_benchmark"), (fit, "fit_encoder"),
                      (ds, "load_subject"), (syn, "load_subject"), (truth, "precompute")):
        monkeypatch.setattr(mod, name, trip)


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse: 2 on a bad option, 0 on --help
        return int(e.code or 0)


# ------------------------------------------------------------------ output paths
def test_output_dir_checks(tmp_path):
    f = tmp_path / "somefile.txt"
    f.write_text("mine")
    with pytest.raises(UserInputError, match="existing file, not a folder"):
        check_output_dir(f)
    with pytest.raises(UserInputError, match="which is a file"):  # root-proof
        check_output_dir(f / "out")
    with pytest.raises(UserInputError, match="must be a path"):
        check_output_dir("")
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # a check creates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["somefile.txt"]
    assert f.read_text() == "mine"


def test_output_file_checks(tmp_path):
    with pytest.raises(UserInputError, match=r"must name a \.png file"):
        check_output_file(tmp_path / "x.jpg", suffix=".png")
    (tmp_path / "d.png").mkdir()
    with pytest.raises(UserInputError, match="is a folder"):
        check_output_file(tmp_path / "d.png", suffix=".png")
    (tmp_path / "f").write_text("")
    with pytest.raises(UserInputError, match="which is a file"):
        check_output_file(tmp_path / "f" / "x.png")
    assert check_output_file(tmp_path / "a" / "x.png", suffix=".png").name == "x.png"


@pytest.mark.skipif(ROOT, reason="root writes into read-only folders")
def test_unwritable_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(UserInputError, match="not writable"):
            check_output_dir(ro / "out")
        with pytest.raises(UserInputError, match="not writable"):
            check_output_file(ro / "x.png", suffix=".png")
        assert main(["render", "faces", "--n", "1", "--size", "32",
                     "--out", str(ro / "x.png")]) == 2
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("argv", [
    ["localize", "faces", "--out", "{file}"],
    ["localize", "faces", "--out", "{file}/out"],
    ["benchmark", "--quick", "--out", "{file}"],
    ["benchmark", "--quick", "--work", "{file}/w"],
    ["cooccurrence", "--n", "100", "--out", "{file}"],
    ["render", "faces", "--n", "1", "--size", "32", "--out", "{file}/x.png"],
    ["render", "faces", "--n", "1", "--size", "32", "--out", "{dir}"],
    ["show-subject", "synth-01", "--out", "{file}/x.png"],
    ["fit-encoder", "--subject", "synth-01", "--map", "{file}/r.png"],
    ["design", "{file}"],
])
def test_cli_refuses_unusable_outputs(argv, tmp_path, tripwires, capsys):
    f = tmp_path / "somefile.txt"
    f.write_text("precious")
    d = tmp_path / "adir.png"
    d.mkdir()
    argv = [a.format(file=f, dir=d) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("braincause: ") and err.count("\n") == 1, err
    assert f.read_text() == "precious"


def test_render_sidecar_that_is_a_folder(tmp_path, capsys):
    (tmp_path / "x.json").mkdir()
    assert main(["render", "faces", "--n", "1", "--size", "32",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "sidecar" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_localize_python_api_checks(tmp_path):
    """What ``braincause.pipeline.localize`` calls first (the CLI calls the same checks)."""
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(UserInputError, match="existing file"):
        check_localize_inputs("faces", seed=0, out=f)
    with pytest.raises(UserInputError, match="seed"):
        check_localize_inputs("faces", seed=-1, out=tmp_path / "o")
    with pytest.raises(UserInputError, match="seed"):
        check_localize_inputs("faces", seed=2**32, out=None)
    with pytest.raises(UserInputError, match="concept"):
        check_localize_inputs("  ", seed=0)
    with pytest.raises(UserInputError, match="nsd_root"):
        check_localize_inputs("faces", seed=0, nsd_root=tmp_path / "nope")
    check_localize_inputs("faces", seed=np.int64(3), out=tmp_path / "o", nsd_root=tmp_path)
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ numbers
def test_number_checks():
    assert check_seed(0) == 0 and check_seed(MAX_SEED) == MAX_SEED
    for bad in (-1, MAX_SEED + 1, True, 1.0, "3", None):
        with pytest.raises(UserInputError, match="seed"):
            check_seed(bad)
    assert check_int(np.int32(5), "--n", 1, 10) == 5
    with pytest.raises(UserInputError, match="between 1 and 10"):
        check_int(11, "--n", 1, 10)
    with pytest.raises(UserInputError, match="integer"):
        check_int(False, "--n", 0, 10)
    assert check_float(0.5, "--a", 0, 1, lo_open=True) == 0.5
    for bad in (0.0, float("nan"), float("inf"), 1.5, "x"):
        with pytest.raises(UserInputError, match="--a"):
            check_float(bad, "--a", 0, 1, lo_open=True)


@pytest.mark.parametrize("argv,flag", [
    (["render", "faces", "--seed", "-1", "--out", "x.png"], "--seed"),
    (["render", "faces", "--seed", str(2**32), "--out", "x.png"], "--seed"),
    (["render", "faces", "--n", "5000", "--out", "x.png"], "--n"),
    (["render", "faces", "--size", "100000", "--out", "x.png"], "--size"),
    (["render", "", "--out", "x.png"], "prompt"),
    (["cooccurrence", "--seed", "-5"], "--seed"),
    (["cooccurrence", "--n", "99"], "--n"),
    (["cooccurrence", "--n", "10000000"], "--n"),
    (["cooccurrence", "--top", "0"], "--top"),
    (["cooccurrence", "--top", "-3"], "--top"),
    (["subjects", "--workers", "0"], "--workers"),
    (["subjects", "--workers", "100000"], "--workers"),
    (["subjects", "synth-99"], "unknown subject"),
    (["show-subject", "synth-null", "--out", "x.png"], "null subject"),
    (["show-subject", "nobody", "--out", "x.png"], "unknown subject"),
    (["fit-encoder", "--subject", "synth-01", "--threshold", "1.5"], "--threshold"),
    (["fit-encoder", "--subject", "synth-01", "--threshold", "nan"], "--threshold"),
    (["fit-encoder", "--subject", "synth-01", "--map", "r.jpg"], ".png"),
    (["fit-encoder", "--subject", "synth-01", "--map", ""], "--map"),
    (["fit-encoder", "--subject", "9", "--nsd-root", "."], "NSD subject"),
    (["fit-encoder", "--subject", "1", "--nsd-root", "/no/such/nsd"], "--nsd-root"),
    (["localize", "faces", "--seed", "-1"], "--seed"),
    (["localize", "faces", "--k", "0"], "--k"),
    (["localize", "faces", "--k", str(10**9)], "--k"),
    (["localize", "faces", "--alpha", "1"], "--alpha"),
    (["localize", "faces", "--alpha", "-0.1"], "--alpha"),
    (["localize", "faces", "--subject", "synth-7"], "unknown subject"),
    (["localize", "faces", "--nsd-root", "/no/such/nsd", "--subject", "1"], "--nsd-root"),
    (["localize", " "], "concept"),
    (["localize", "faces", "--out", ""], "--out"),
    (["benchmark", "--out", ""], "--out"),
    (["cooccurrence", "--out", ""], "--out"),
    (["benchmark", "--workers", "0"], "--workers"),
    (["benchmark", "--workers", "1000"], "--workers"),
    (["benchmark", "--seed", "-2"], "--seed"),
    (["benchmark", "--null-repeats", "-1"], "--null-repeats"),
    (["benchmark", "--null-repeats", "100000"], "--null-repeats"),
    (["benchmark", "--subjects", "synth-xx"], "unknown subject"),
    (["design", "RUN", "--seed", "-1"], "--seed"),
    (["design", "RUN", "--power", "1.5"], "--power"),
    (["design", "RUN", "--alpha", "0.7"], "--alpha"),
])
def test_cli_bounds(argv, flag, tmp_path, monkeypatch, tripwires, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert flag in err and err.count("\n") == 1, err
    assert not list(tmp_path.iterdir())  # nothing written


# ------------------------------------------------------------------ config files
@pytest.mark.parametrize("content,msg", [
    (b"[stimuli]\nn_edits = 3\n# caf\xe9\n", "not UTF-8"),
    (b"\xff\xfe[\x00s\x00", "not UTF-8"),
    (b"[stimuli\nn_edits = 3\n", "not valid TOML"),
    (b"[stimuli]\nn_edits = 'many'\n", "stimuli.n_edits must be int"),
    (b"[nonsense]\n", "unknown config section"),
])
@pytest.mark.parametrize("command", ["localize", "benchmark"])
def test_bad_config_files(command, content, msg, tmp_path, monkeypatch, tripwires, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "bad.toml"
    cfg.write_bytes(content)
    argv = ["localize", "faces"] if command == "localize" else ["benchmark", "--quick"]
    assert main([*argv, "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert msg in err and "bad.toml" in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_config_with_utf8_bom_is_read(tmp_path):
    from braincause.config import LocalizeConfig

    p = tmp_path / "c.toml"
    p.write_bytes("\ufeff[stimuli]\nn_edits = 3 # café\n".encode())
    assert LocalizeConfig.from_toml(p).stimuli.n_edits == 3


# ------------------------------------------------------------------ run folders
def _report_run(tmp_path: Path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(REPORT_RUN, dst)
    return dst


def _edit_result(run: Path, edit) -> None:
    r = json.loads((run / "result.json").read_text())
    edit(r)
    (run / "result.json").write_text(json.dumps(r))


def _set(path: str, value):
    def edit(r):
        *head, last = path.split(".")
        cur = r
        for k in head:
            cur = cur[k]
        cur[last] = value
    return edit


def _drop(path: str):
    def edit(r):
        *head, last = path.split(".")
        cur = r
        for k in head:
            cur = cur[k]
        del cur[last]
    return edit


BAD_RESULTS = [
    (_set("region.voxels", [1, "two", 3]), "region.voxels"),
    (_set("region.voxels", [1, 2.5]), "region.voxels"),
    (_set("region.voxels", [0, -1]), "region.voxels"),
    (_set("region.voxels", [0, 10**6]), "outside the subject's 6214 voxels"),
    (_set("activation_region.voxels", {"a": 1}), "activation_region.voxels"),
    (_set("verdict.verdict", 3), "verdict.verdict must be a string"),
    (_set("verdict", "discovery"), "verdict"),
    (_set("concept.name", None), "concept.name"),
    (_set("subject.id", ["synth-01"]), "subject.id"),
    (_set("subject.n_voxels", "many"), "subject.n_voxels"),
    (_set("seed", -4), "seed"),
    (_set("config.stats.alpha", "0.05"), "config.stats.alpha"),
    (_set("coverage.missing_counter_concepts", "person"), "missing_counter_concepts"),
    (_set("coverage.eval.negatives_per_counter", {"x": -1}), "negatives_per_counter"),
    (_set("stimuli.counter_concepts", ["person"]), "stimuli.counter_concepts"),
    (_set("p_values.baseline_concepts", [1, 2]), "baseline_concepts"),
    (_drop("concept"), "concept"),
]


@pytest.mark.parametrize("edit,key", BAD_RESULTS)
def test_report_reader_names_the_bad_key(edit, key, tmp_path):
    from braincause.report.run import load_run

    run = _report_run(tmp_path)
    _edit_result(run, edit)
    with pytest.raises(UserInputError, match=key.replace(".", r"\.")) as e:
        load_run(run)
    assert "result.json" in str(e.value)


def _followup_run(tmp_path: Path) -> Path:
    """A small follow-up-ready run folder (result.json as the follow-up reads it)."""
    run = tmp_path / "frun"
    (run / "stimuli").mkdir(parents=True)
    result = json.loads((REPORT_RUN / "result.json").read_text())
    result["noise"] = {"causal_region": {"trial_sd": 0.8}}
    (run / "result.json").write_text(json.dumps(result))
    shutil.copy(REPORT_RUN / "stimuli" / "manifest.json", run / "stimuli" / "manifest.json")
    return run


@pytest.mark.parametrize("edit,key", BAD_RESULTS)
def test_followup_reader_names_the_bad_key(edit, key, tmp_path):
    from braincause.followup.rundir import read_run

    run = _followup_run(tmp_path)
    _edit_result(run, edit)
    with pytest.raises(DataError, match=key.replace(".", r"\.")):
        read_run(run)


@pytest.mark.parametrize("edit,key", [
    (lambda m: m[0].update(id="first"), "id must be an integer"),
    (lambda m: m[0].update(kept="yes"), "kept must be true or false"),
    (lambda m: m[0].update(parent=[1]), "parent must be an integer or null"),
    (lambda m: m[0].update(response=0.3), "response must be an object"),
    (lambda m: m.__setitem__(0, "entry"), "entry 0|list of stimulus entries"),
])
def test_bad_manifest_entries(edit, key, tmp_path, capsys):
    from braincause.followup.rundir import read_run
    from braincause.report.run import load_run

    run = _report_run(tmp_path)
    path = run / "stimuli" / "manifest.json"
    m = json.loads(path.read_text())
    edit(m)
    path.write_text(json.dumps(m))
    with pytest.raises(UserInputError, match=key):
        load_run(run)
    frun = _followup_run(tmp_path)
    (frun / "stimuli" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError, match=key):
        read_run(frun)


def test_cli_design_on_bad_run_folder(tmp_path, capsys):
    run = _followup_run(tmp_path)
    _edit_result(run, _set("region.voxels", ["a"]))
    assert main(["design", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "region.voxels" in err and err.count("\n") == 1
    assert not (run / "followup").exists()


def test_validators_accept_real_run_folder():
    result = json.loads((REPORT_RUN / "result.json").read_text())
    assert check_result(result, "r", required=("concept.name", "verdict.verdict")) is result
    manifest = json.loads((REPORT_RUN / "stimuli" / "manifest.json").read_text())
    assert check_manifest(manifest, "m", required=("id", "role")) is manifest


# ------------------------------------------------------------------ stimulus cache
class _PixelWriter:
    config: ClassVar[dict] = {"name": "pixel-writer"}

    def positive_prompts(self, concept, n, *, random_state=None):
        return [f"a red {concept} number {i}" for i in range(n)]

    def counter_concepts(self, concept, n):
        from braincause.plan.base import CounterConcept

        return [CounterConcept(f"thing{i}", f"thing {i}", "context", "test") for i in range(n)]

    def negative_prompts(self, concept, counter, n, *, random_state=None):
        return [f"a blue {counter.label} {i}" for i in range(n)]

    def edit_instructions(self, concept, scene, n, *, random_state=None):
        return [f"paint the {concept} blue ({j})" for j in range(n)]


class _PixelGenerator:
    config: ClassVar[dict] = {"name": "pixel-gen"}
    image_size = 16

    def __init__(self):
        self.calls = 0

    def generate(self, prompt, *, seed):
        from braincause.stimuli.generate import Generated

        self.calls += 1
        img = np.zeros((16, 16, 3), np.uint8)
        img[..., 0 if "red" in prompt else 2] = 200
        img[0, 0] = seed % 251
        return Generated(img, None, exact=False)


class _PixelEditor:
    config: ClassVar[dict] = {"name": "pixel-edit"}

    def __init__(self):
        self.calls = 0

    def edit(self, source, instruction, *, seed):
        from braincause.stimuli.generate import Generated

        self.calls += 1
        img = source.image.copy()
        img[..., 0], img[..., 2] = 0, 200
        img[1, 1] = seed % 251
        return Generated(img, None, exact=False)


class _RedVerifier:
    needs_scenes = False
    needs_images = True
    config: ClassVar[dict] = {"name": "red"}

    def presence(self, concept, *, images=None, features=None, scenes=None):
        return np.asarray(images, np.float64)[..., 0].mean(axis=(1, 2)) / 255 / 0.8

    def fingerprint(self):
        return "red-1"


class _MeanRGB:
    feature_dim = 3

    def features(self, images):
        return np.asarray([np.asarray(i, np.float32).mean(axis=(0, 1)) for i in images])

    def fingerprint(self):
        return "mean-rgb-1"


def _tiny_dataset(gen=None, ed=None):
    from braincause.stimuli.dataset import DatasetSizes, build_causal_dataset

    sizes = DatasetSizes({"train": 3, "eval": 2}, 1, 2, {"train": 2, "eval": 1}, 2)
    return build_causal_dataset("widget", writer=_PixelWriter(),
                                generator=gen or _PixelGenerator(), editor=ed or _PixelEditor(),
                                verifier=_RedVerifier(), backbone=_MeanRGB(), sizes=sizes,
                                seed=5)


@pytest.mark.parametrize("stage", ["generated", "edits"])
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_image_archive_is_rebuilt(stage, damage, tmp_path, monkeypatch):
    from braincause.utils import cache_dir

    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))
    first = _tiny_dataset()
    archive = cache_dir() / "datasets" / f"widget-{first.key}" / f"{stage}-images.npz"
    raw = archive.read_bytes()
    if damage == "truncate":
        archive.write_bytes(raw[:len(raw) // 2])
    else:  # a damaged byte inside the pixel data: found only when the images are read
        i = raw.index(b"\x93NUMPY") + 200
        archive.write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:])
    gen, ed = _PixelGenerator(), _PixelEditor()
    again = _tiny_dataset(gen, ed)
    assert (gen.calls if stage == "generated" else ed.calls) > 0  # rebuilt
    np.testing.assert_array_equal(again.images, first.images)
    np.testing.assert_array_equal(again.kept, first.kept)
    np.testing.assert_array_equal(again.features, first.features)
    gen3, ed3 = _PixelGenerator(), _PixelEditor()
    third = _tiny_dataset(gen3, ed3)                     # and cached again
    assert gen3.calls == 0 and ed3.calls == 0
    np.testing.assert_array_equal(third.images, first.images)


def test_irreproducible_rebuild_drops_the_stage(tmp_path, monkeypatch):
    """A backend that gives other images on the rebuild: the run stops with a data error
    and the stage is removed, so the next run rebuilds it (no error loop)."""
    from braincause.utils import cache_dir

    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))
    first = _tiny_dataset()
    folder = cache_dir() / "datasets" / f"widget-{first.key}"
    raw = (folder / "generated-images.npz").read_bytes()
    i = raw.index(b"\x93NUMPY") + 200
    (folder / "generated-images.npz").write_bytes(raw[:i] + b"\x00\x01" + raw[i + 2:])

    class Failing(_PixelGenerator):
        def generate(self, prompt, *, seed):
            from braincause.stimuli.generate import Generated

            return Generated(None, None, exact=False)  # every image fails now

    with pytest.raises(DataError, match="did not reproduce"):
        _tiny_dataset(Failing())
    assert not (folder / "generated.npz").exists()
    again = _tiny_dataset()
    np.testing.assert_array_equal(again.images, first.images)


# ------------------------------------------------------------------ property-based CLI test
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JUNK = st.sampled_from(["", " ", "-", "--", "nan", "inf", "-inf", "1e309", "abc", "0x10",
                         "1.5", "9" * 30, "--bogus"])  # never a valid number


def _ints(lo: int, hi: int, good: tuple[int, int] | None = None):
    """(good, bad) token strategies of an integer option: good values lie in ``good``
    (a cheap part of [lo, hi]); bad ones outside [lo, hi] or no integer at all."""
    g_lo, g_hi = good or (lo, hi)
    ok = st.integers(g_lo, g_hi).map(str)
    bad = st.one_of(st.integers(max_value=lo - 1).map(str),
                    st.integers(min_value=hi + 1).map(str), _JUNK)
    return ok, bad


def _floats(ok_values: list[str], bad_values: list[str]):
    return st.sampled_from(ok_values), st.one_of(st.sampled_from(bad_values), _JUNK)


class _Layout:
    """A tmp folder: ``out/`` (the only place a command may write), a cwd, an existing
    file, a folder, config files (good and bad) and run folders (none designable)."""

    def __init__(self, root: Path) -> None:
        self.root, self.out, self.cwd = root, root / "out", root / "cwd"
        self.cwd.mkdir()
        self.file = root / "mine.txt"
        self.file.write_text("the user's file")
        self.dir = root / "mydir"
        self.dir.mkdir()
        (self.dir / "keep.png").write_bytes(b"not really a png")
        cfg = root / "cfg"
        cfg.mkdir()
        self.good_cfg = cfg / "good.toml"
        self.good_cfg.write_text("[stimuli]\nn_edits = 2\n[stats]\nalpha = 0.05\n")
        bad = {"latin1.toml": b"[stimuli]\n# caf\xe9\n", "utf16.toml": "[stimuli]\n".encode(
            "utf-16"), "broken.toml": b"[stimuli\n", "type.toml": b"[region]\nk = 'ten'\n",
            "section.toml": b"[nope]\n", "value.toml": b"[stats]\nalpha = 7.0\n",
            "binary.toml": bytes(range(256))}
        self.bad_cfgs = []
        for name, data in bad.items():
            (cfg / name).write_bytes(data)
            self.bad_cfgs.append(str(cfg / name))
        self.bad_cfgs += [str(root / "missing.toml"), str(cfg), str(self.file)]
        runs = root / "runs"
        self.runs = [str(root / "no-such-run"), str(self.file)]
        base = json.loads((REPORT_RUN / "result.json").read_text())
        base["noise"] = {"causal_region": {"trial_sd": 0.8}}
        manifest = (REPORT_RUN / "stimuli" / "manifest.json").read_text()
        for i, (edit, _key) in enumerate([*BAD_RESULTS, (lambda r: None, "")]):
            run = runs / f"run{i}"
            (run / "stimuli").mkdir(parents=True)
            r = json.loads(json.dumps(base))
            edit(r)  # the last one is intact but has no stimulus image: not designable
            (run / "result.json").write_text(json.dumps(r))
            (run / "stimuli" / "manifest.json").write_text(manifest)
            self.runs.append(str(run))
        (runs / "notjson").mkdir()
        (runs / "notjson" / "result.json").write_bytes(b"\xff{")
        self.runs.append(str(runs / "notjson"))

    def reset_out(self) -> None:
        shutil.rmtree(self.out, ignore_errors=True)
        self.out.mkdir()

    def snapshot(self) -> dict[str, tuple]:
        """Every path outside ``out/`` with (kind, size, mtime) of files."""
        snap = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            d = Path(dirpath)
            if d == self.out or self.out in d.parents:
                dirnames[:] = []
                continue
            for name in dirnames:
                snap[str((d / name).relative_to(self.root))] = ("dir",)
            for name in filenames:
                st_ = (d / name).stat()
                snap[str((d / name).relative_to(self.root))] = ("file", st_.st_size,
                                                                 st_.st_mtime_ns)
        return snap


def _options(draw, pools: dict[str, tuple], forced_bad: bool):
    """Draw distinct options (argparse keeps the last of a repeated flag), each with a
    good or a bad value; with ``forced_bad`` at least one is bad. Returns argv tokens."""
    names = sorted(pools)
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    bad_one = None
    if forced_bad:
        bad_one = draw(st.sampled_from([n for n in names if pools[n][1] is not None]))
        if bad_one not in chosen:
            chosen.append(bad_one)
    chosen = draw(st.permutations(chosen))
    argv: list[str] = []
    for name in chosen:
        ok, bad = pools[name]
        use_bad = name == bad_one or (bad is not None and ok is not None
                                      and draw(st.integers(0, 3)) == 0)
        value = bad if use_bad else ok
        if value is None:          # a switch (no value)
            argv.append(name)
        else:
            argv += [name, draw(value)]
    return argv


def _commands(lay: _Layout):
    out = str(lay.out)
    paths_bad_file = st.sampled_from([str(lay.file), str(lay.file / "x.png"), "",
                                      str(lay.dir), "x.jpg", str(lay.file) + "/"])
    paths_bad_dir = st.sampled_from([str(lay.file), str(lay.file / "sub"), ""])
    seed_ok, seed_bad = _ints(0, MAX_SEED)
    cfg_ok, cfg_bad = st.just(str(lay.good_cfg)), st.sampled_from(lay.bad_cfgs)
    switch = (None, None)

    @st.composite
    def cheap(draw):  # may succeed: exit 0 or 2
        kind = draw(st.sampled_from(["concepts", "render", "cooccurrence"]))
        if kind == "concepts":
            return ["concepts", *draw(st.sampled_from([[], ["--json"], ["--bogus"]]))], False
        if kind == "render":
            prompt = draw(st.one_of(st.sampled_from(
                ["faces", "food", "a plate of pizza on a kitchen table", "a zebra in a kitchen",
                 "a face without a face", "", " ", "no no", "faces " * 40]),
                st.text(max_size=15)))
            n_ok, n_bad = _ints(1, 1024, (1, 2))
            size_ok, size_bad = _ints(32, 1024, (32, 40))
            pools = {"--n": (n_ok, n_bad), "--size": (size_ok, size_bad),
                     "--seed": (seed_ok, seed_bad), "--no-labels": switch,
                     "--out": (st.sampled_from([f"{out}/x.png", f"{out}/a/b/y.PNG"]),
                               paths_bad_file)}
            argv = _options(draw, pools, forced_bad=False)
            if "--n" not in argv:   # the default (16 scenes) is fine but slower
                argv += ["--n", "1"]
            if "--size" not in argv:
                argv += ["--size", "32"]
            return ["render", prompt, *argv], False
        n_ok, n_bad = _ints(100, 200_000, (100, 120))
        top_ok, top_bad = _ints(1, 100, (1, 8))
        pools = {"--n": (n_ok, n_bad), "--seed": (seed_ok, seed_bad),
                 "--top": (top_ok, top_bad), "--json": switch,
                 "--out": (st.sampled_from([out, f"{out}/co/new"]), paths_bad_dir)}
        argv = _options(draw, pools, forced_bad=False)
        if "--n" not in argv:
            argv += ["--n", "100"]
        return ["cooccurrence", *argv], False

    @st.composite
    def rejected(draw):  # must be refused before any work: exit 2
        kind = draw(st.sampled_from(["localize", "localize", "benchmark", "benchmark",
                                     "fit-encoder", "subjects", "show-subject", "design",
                                     "design", "unknown"]))
        subj_ok = st.sampled_from(["synth-01", "synth-s12"])
        subj_bad = st.one_of(st.sampled_from(["synth-99", "", "synth-s", "SYNTH-01", "1"]),
                             _JUNK)
        nsd_bad = st.sampled_from([str(lay.root / "no-nsd"), str(lay.file), ""])
        if kind == "unknown":
            return [draw(st.sampled_from(["", "local", "--bogus", "bench", "nonsense"])),
                    *draw(st.lists(_JUNK, max_size=3))], True
        if kind == "localize":
            k_ok, k_bad = _ints(1, 1_000_000)
            pools = {"--subject": (subj_ok, subj_bad), "--seed": (seed_ok, seed_bad),
                     "--k": (k_ok, k_bad),
                     "--alpha": _floats(["0.05", "0.5", "1e-3"], ["0", "1", "-0.1", "2"]),
                     "--out": (st.sampled_from([f"{out}/loc", out]), paths_bad_dir),
                     "--config": (cfg_ok, cfg_bad), "--nsd-root": (None, nsd_bad),
                     "--verifier": (st.just("oracle"), st.sampled_from(["clip", ""])),
                     "--followup": (st.just("never"), st.just("sometimes")),
                     "--no-cache": switch, "--no-report": switch, "--json": switch,
                     "--quiet": switch}
            pools["--nsd-root"] = (nsd_bad, nsd_bad)  # an existing NSD root would start work
            concept = draw(st.sampled_from(["faces", "something to eat", " "]))
            return ["localize", concept, *_options(draw, pools, forced_bad=True)], True
        if kind == "benchmark":
            w_ok, w_bad = _ints(1, 64, (1, 4))
            r_ok, r_bad = _ints(0, 100, (0, 2))
            pools = {"--workers": (w_ok, w_bad), "--seed": (seed_ok, seed_bad),
                     "--null-repeats": (r_ok, r_bad),
                     "--subjects": (subj_ok, subj_bad),
                     "--concepts": (st.just("faces"), st.just(" ")),
                     "--out": (st.just(f"{out}/bench"), paths_bad_dir),
                     "--work": (st.just(f"{out}/work"), paths_bad_dir),
                     "--config": (cfg_ok, cfg_bad), "--quick": switch, "--no-null": switch,
                     "--no-resume": switch, "--json": switch, "--quiet": switch}
            return ["benchmark", *_options(draw, pools, forced_bad=True)], True
        if kind == "fit-encoder":
            pools = {"--subject": (subj_ok, subj_bad),
                     "--threshold": _floats(["0", "0.2", "0.99"], ["1", "-0.1", "1.5"]),
                     "--map": (st.just(f"{out}/r.png"), paths_bad_file),
                     "--nsd-root": (nsd_bad, nsd_bad), "--no-cache": switch, "--json": switch,
                     "--quiet": switch}
            return ["fit-encoder", *_options(draw, pools, forced_bad=True)], True
        if kind == "subjects":
            w_ok, w_bad = _ints(1, 64, (1, 2))
            ids = draw(st.lists(st.one_of(subj_ok, subj_bad), max_size=3))
            pools = {"--workers": (w_ok, w_bad), "--json": switch, "--quiet": switch,
                     "--bogus": (None, st.just("1"))}
            argv = _options(draw, pools, forced_bad=not any(
                i not in ("synth-01", "synth-s12") for i in ids))
            return ["subjects", *ids, *argv], True
        if kind == "show-subject":
            pools = {"--out": (st.just(f"{out}/s.png"), paths_bad_file), "--quiet": switch,
                     "--bogus": (None, st.just("1"))}
            subject = draw(st.one_of(subj_ok, subj_bad, st.just("synth-null")))
            argv = _options(draw, pools, forced_bad=subject in ("synth-01", "synth-s12"))
            return ["show-subject", subject, *argv], True
        seed_opt_ok, seed_opt_bad = _ints(0, MAX_SEED)
        pools = {"--seed": (seed_opt_ok, seed_opt_bad),
                 "--power": _floats(["0.8", "0.9"], ["0", "1", "1.5", "-1"]),
                 "--alpha": _floats(["0.05"], ["0", "0.5", "0.9"]),
                 "--json": switch, "--quiet": switch}
        run = draw(st.sampled_from(lay.runs))
        return ["design", run, *_options(draw, pools, forced_bad=False)], True

    return st.one_of(cheap(), rejected(), rejected())


def test_cli_never_crashes_and_writes_only_into_out(tmp_path, monkeypatch, tripwires, capsys):
    """Generated command lines: exit 0 or 2 (2 for anything that would start long work
    with a bad input), no traceback, and nothing outside ``--out`` created or changed."""
    import braincause.followup.export as export

    def trip(*_a, **_k):
        raise WorkStarted

    monkeypatch.setattr(export, "write_followup", trip)
    lay = _Layout(tmp_path)
    monkeypatch.chdir(lay.cwd)

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_commands(lay))
    def check(case):
        argv, must_reject = case
        lay.reset_out()
        before = lay.snapshot()
        try:
            code = _run(argv)
        except WorkStarted:
            pytest.fail(f"long work started for a bad input: {argv}")
        err = capsys.readouterr().err
        assert "Traceback" not in err, (argv, err)
        assert code in ((2,) if must_reject else (0, 2)), (argv, code, err)
        assert lay.snapshot() == before, argv

    check()
