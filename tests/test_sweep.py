"""``braincause sweep`` (:mod:`braincause.sweeps`): one sweep of the mini subjects
synth-01-mini and synth-null-mini at test_benchmark's TINY sizes (the same queries and
seeds as that benchmark, so the stimuli come from the session's cache), then the same
sweep on Ray (identical sweep.json apart from the run block), a sweep killed mid-way and
resumed, failures and bad input, the q-values against scipy, the spin test against
neuromaps and on null maps, and the page in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from braincause.cli import main
from braincause.config import LocalizeConfig
from braincause.exceptions import UserInputError
from braincause.sweeps import VOLATILE, concept_p, plan_sweep, q_values, read_concept_file, sweep
from mini import MINI_NULL_SUBJECT, MINI_SUBJECT, toml_text
from test_benchmark import TINY

CONCEPTS = ("human_face", "sky", "no_such_concept_xyz")
SUBJECTS = (MINI_SUBJECT, MINI_NULL_SUBJECT)
N_SPINS = 50


def _stable(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in VOLATILE}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    import braincause.pipeline as pipeline

    out = tmp_path_factory.mktemp("sweep") / "sw"
    prepared = []
    real = pipeline.prepare_run

    def counted(source, subject, cfg, **kw):
        prepared.append(subject)
        return real(source, subject, cfg, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "prepare_run", counted)
        mp.setattr("braincause.pipeline.run.prepare_run", counted)  # localize's own call
        res = sweep(CONCEPTS, SUBJECTS, out=out, config=LocalizeConfig.from_dict(TINY),
                    workers=1, n_spins=N_SPINS, report=False)  # reports: ~25 s a run
    # one prepared context per subject, reused by its next task (heavy models load once)
    assert prepared == list(SUBJECTS)
    return res, out


@pytest.fixture
def tiny_toml(tmp_path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(toml_text(TINY))
    return p


# ------------------------------------------------------------------ the sweep
def test_sweep_writes_run_folders_records_and_failures(swept):
    res, out = swept
    doc = json.loads((out / "sweep.json").read_text())
    assert doc == res.to_dict() and doc["complete"]
    assert doc["concepts"] == list(CONCEPTS) and doc["subjects"] == list(SUBJECTS)
    rows = {(r["subject"], r["query"]): r for r in doc["tasks"]}
    assert len(rows) == 6
    for s in SUBJECTS:
        bad = rows[s, "no_such_concept_xyz"]
        assert bad["status"] == "failed" and "unknown concept" in bad["error"]
        assert not (out / bad["folder"]).exists()
        for c in ("human_face", "sky"):
            r = rows[s, c]
            assert r["status"] == "done" and r["verdict"] in ("discovery", "rejected",
                                                            "needs follow-up",
                                                            "inconclusive")
            folder = out / r["folder"]
            result = json.loads((folder / "result.json").read_text())
            assert result["seed"] == r["seed"] and result["query"] == c
            assert not (folder / "report.html").exists() and r["report"] is None
            assert r["region_size"] == len(result["region"]["voxels"])
            p, tests = concept_p(result["verdict"])
            assert r["p"] == pytest.approx(p, abs=1e-6) and r["gate_p"] == tests
    # the same stimuli seed for a concept in every subject
    assert rows[SUBJECTS[0], "sky"]["seed"] == rows[SUBJECTS[1], "sky"]["seed"]
    assert doc["summary"][MINI_SUBJECT] == {
        "tasks": 3, "done": 2, "failed": 1,
        "discoveries": sum(rows[MINI_SUBJECT, c]["verdict"] == "discovery"
                           for c in ("human_face", "sky")),
        "discoveries_at_fdr": sum(rows[MINI_SUBJECT, c]["discovery_at_fdr"]
                                  for c in ("human_face", "sky"))}
    assert [f["query"] for f in res.failed] == ["no_such_concept_xyz"] * 2


def test_q_values_are_scipys_within_each_subject(swept):
    from scipy.stats import false_discovery_control

    doc = swept[0].to_dict()
    for s in SUBJECTS:
        rows = [r for r in doc["tasks"] if r["subject"] == s and r["status"] == "done"]
        p = np.array([r["p"] for r in rows])
        want = false_discovery_control(p, method="bh")
        assert [r["q"] for r in rows] == pytest.approx(want, abs=1e-6)
        for r, qv in zip(rows, want, strict=True):
            assert r["discovery_at_fdr"] == bool(qv <= 0.05 and r["coverage"] == "high")


def test_consistency_between_subjects(swept):
    doc = swept[0].to_dict()
    cons = doc["consistency"]
    assert cons["n_spins"] == N_SPINS and set(cons["concepts"]) == {"human_face", "sky"}
    out = swept[1]
    for q, c in cons["concepts"].items():
        assert c["subjects"] == sorted(SUBJECTS)
        (pair,) = c["pairs"]
        maps = [np.load(out / f"{s}/{q}/maps.npz") for s in sorted(SUBJECTS)]
        a, b = (m["region"] for m in maps)
        assert pair["dice"]["statistic"] == pytest.approx(
            2 * (a & b).sum() / (a.sum() + b.sum()), abs=1e-6)
        r = np.corrcoef(maps[0]["s_causal"], maps[1]["s_causal"])[0, 1]
        assert pair["correlation"]["statistic"] == pytest.approx(r, abs=1e-5)
        for t in ("dice", "correlation"):
            assert 1 / (N_SPINS + 1) <= pair[t]["p"] <= 1
        g = np.load(out / c["group_map"]["file"])
        assert np.array_equal(g["fraction"], (a.astype(float) + b) / 2)
        assert c["group_map"]["voxels_in_all"] == int((a & b).sum())


def test_ray_engine_gives_the_same_sweep(swept, tmp_path):
    """The acceptance check at small sizes: a local Ray cluster (2 CPUs) started by the
    command, the same sweep.json apart from its run block."""
    pytest.importorskip("ray")
    res = sweep(CONCEPTS, SUBJECTS, out=tmp_path / "ray", config=LocalizeConfig.from_dict(
        TINY), engine="ray", workers=2, n_spins=N_SPINS, report=False)
    assert res.to_dict()["run"]["engine"] == "ray"
    assert res.to_dict()["run"]["tasks_run"] == 6
    assert _stable(res.to_dict()) == _stable(swept[0].to_dict())
    a = json.loads((swept[1] / MINI_SUBJECT / "sky" / "result.json").read_text())
    b = json.loads((tmp_path / "ray" / MINI_SUBJECT / "sky" / "result.json").read_text())
    a.pop("run"), b.pop("run")
    assert a == b


def test_killed_sweep_resumes_without_recomputing(swept, tmp_path, tiny_toml):
    """Kill ``braincause sweep`` while it runs the one unfinished task; the rerun reads
    the finished tasks back (their files untouched) and runs only that one."""
    out = tmp_path / "sw"
    shutil.copytree(swept[1], out)
    missing = out / MINI_NULL_SUBJECT / "sky"
    shutil.rmtree(missing)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("result.json")}
    cmd = [sys.executable, "-m", "braincause", "sweep", *CONCEPTS, "--subjects", *SUBJECTS,
           "--out", str(out), "--config", str(tiny_toml), "--workers", "1",
           "--n-spins", str(N_SPINS), "--no-report"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    for _ in range(50):  # "sweep: 6 tasks ..., 5 finished before, 1 to run ..."
        line = proc.stderr.readline()
        if line.startswith("sweep:") or not line:
            break
    assert "5 finished before, 1 to run" in line, line
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (missing / "result.json").exists()
    res = sweep(CONCEPTS, SUBJECTS, out=out, config=LocalizeConfig.from_dict(TINY),
                workers=1, n_spins=N_SPINS, report=False)
    run = res.to_dict()["run"]
    assert run["tasks_run"] == 1 and run["tasks_resumed"] == 5
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert _stable(res.to_dict()) == _stable(swept[0].to_dict())


def test_cli_sweep_exit_code_json_and_retry_failed(swept, tmp_path, tiny_toml, capsys):
    out = tmp_path / "sw"
    shutil.copytree(swept[1], out)
    args = ["sweep", *CONCEPTS, "--subjects", *SUBJECTS, "--out", str(out), "--config",
            str(tiny_toml), "--workers", "1", "--n-spins", str(N_SPINS), "--no-report",
            "--json"]
    assert main(args) == 3  # everything read back; two tasks failed
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["run"]["tasks_run"] == 0 and "2 task(s) failed" in cap.err
    assert _stable(doc) == _stable(swept[0].to_dict())
    assert main([*args, "--retry-failed"]) == 3  # retried: fails again, message kept
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["tasks_run"] == 2
    assert all("unknown concept" in r["error"] for r in doc["tasks"] if r["status"] == "failed")


@pytest.mark.parametrize("argv, message", [
    (["sweep", "faces", "--subjects", "synth-99x", "--out", "{o}"], "subject"),
    (["sweep", "--subjects", "synth-01", "--out", "{o}"], "give concepts"),
    (["sweep", "faces", "--out", "{o}", "--concept-file", "{o}/none.txt"], "could not be read"),
    (["sweep", "a b", "a_b", "--out", "{o}"], "share the folder"),
    (["sweep", "faces", "--out", "{o}", "--address", "auto"], "--address is for --engine ray"),
    (["sweep", "faces", "--out", "{o}", "--q", "1.5"], "--q"),
    (["sweep", "faces", "--out", "{o}", "--n-spins", "-1"], "--n-spins"),
])
def test_cli_sweep_bad_input_exits_2_before_any_work(argv, message, tmp_path, capsys):
    argv = [a.replace("{o}", str(tmp_path / "o")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o" / "sweep.json").exists()


def test_plan_and_concept_file(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("# my concepts\nfaces\n\nfood   # warm\nfaces\n")
    assert read_concept_file(f) == ["faces", "food", "faces"]
    tasks = plan_sweep(read_concept_file(f), ["synth-02", "synth-01"], seed=3)
    assert [t.name for t in tasks] == ["synth-02/faces", "synth-02/food", "synth-01/faces",
                                       "synth-01/food"]
    assert tasks[0].seed == tasks[2].seed != tasks[1].seed
    assert tasks[0].folder == "synth-02/faces"
    assert plan_sweep(["something to eat"], ["synth-01"], seed=0)[0].folder == \
        "synth-01/something_to_eat"
    f.write_text("# nothing\n\n")
    with pytest.raises(UserInputError, match="lists no concept"):
        read_concept_file(f)


# ------------------------------------------------------------------ statistics
def test_concept_p_is_the_gates_intersection_union_p():
    gate = {"candidate": True, "tests": {"controls_gen": {"p": 0.01},
                                        "lowlevel_meas": {"p": 0.2}}}
    assert concept_p({"gate": gate}) == (0.2, {"controls_gen": 0.01, "lowlevel_meas": 0.2})
    assert concept_p({"gate": {**gate, "candidate": False}})[0] == 1.0
    gate["tests"]["lowlevel_meas"]["p"] = None
    assert concept_p({"gate": gate})[0] == 1.0
    assert concept_p({})[0] == 1.0 and concept_p(None)[0] == 1.0


@pytest.mark.parametrize("m", [1, 7, 31])
@pytest.mark.parametrize("method", ["bh", "by"])
def test_q_values_match_scipy(m, method):
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(m)
    p = np.concatenate([rng.uniform(0, 0.01, m // 3), rng.uniform(0, 1, m - m // 3)])
    p[::5] = p[0]  # ties
    assert q_values(p, method=method) == pytest.approx(
        false_discovery_control(p, method=method), rel=1e-12)
    with pytest.raises(UserInputError, match="--fdr"):
        q_values(p, method="holm")


@pytest.mark.parametrize("method", ["bh", "by"])
def test_q_values_null_data_false_discovery_rate_at_level(method):
    """Null p-values (uniform): any discovery is false, so the FDR is the chance of any
    rejection; it sits at or below the level."""
    rng = np.random.default_rng(11)
    runs = np.array([(q_values(rng.uniform(size=20), method=method) <= 0.1).any()
                     for _ in range(3000)])
    assert runs.mean() <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / 3000)


@pytest.fixture(scope="module")
def sphere_setup():
    from braincause.stats import spin_samples
    from braincause.sweeps.consistency import fsaverage5_sphere
    from braincause.synth.cortex import N_FSAVERAGE5, load_cortex

    c = load_cortex()
    idx = c.vertex + N_FSAVERAGE5 * c.hemi.astype(np.int64)
    spins = spin_samples(*fsaverage5_sphere(), idx, n_spins=200, random_state=5)
    return c, spins


def _smooth(c, rng) -> np.ndarray:
    """A random smooth map: a few random plane waves over the pial coordinates."""
    x = np.zeros(c.n_voxels)
    for _ in range(4):
        k = rng.normal(size=3) / 25.0
        x += np.cos(c.pial @ k + rng.uniform(0, 2 * np.pi))
    return x


def test_spin_test_matches_neuromaps_compare_images(sphere_setup):
    from neuromaps.stats import compare_images

    from braincause.stats import spin_test
    from braincause.stats.spin import dice

    c, spins = sphere_setup
    rng = np.random.default_rng(2)
    base = _smooth(c, rng)
    x = base + rng.normal(0, 1.0, c.n_voxels)
    y = base + rng.normal(0, 1.0, c.n_voxels)
    x[:7] = np.nan  # no value: left out, as neuromaps leaves out NaN
    near = spin_test(base + rng.normal(0, 0.3, c.n_voxels), y, spins)
    assert near.p < 0.05 and near.statistic > 0.5  # the maps share their smooth part
    nulls = np.where(spins >= 0, x[np.clip(spins, 0, None)], np.nan)
    mine = spin_test(x, y, spins, metric="pearson")
    r, p = compare_images(x, y, nulls=nulls, ignore_zero=False)
    assert mine.statistic == pytest.approx(r, rel=1e-10) and mine.p == pytest.approx(p)
    a = (np.nan_to_num(x, nan=-9) > np.nanpercentile(x, 85)).astype(float)
    b = (y > np.percentile(y, 85)).astype(float)
    nulls = np.where(spins >= 0, a[np.clip(spins, 0, None)], np.nan)
    mine = spin_test(a, b, spins, metric="dice")
    d, p = compare_images(a, b, nulls=nulls, ignore_zero=False,
                          metric=lambda u, v: np.float64(dice(u, v)))
    assert mine.statistic == pytest.approx(d, rel=1e-12) and mine.p == pytest.approx(p)


def test_spin_test_on_independent_maps_is_calibrated(sphere_setup):
    """Independent smooth maps: the spin test's p-values are roughly uniform (a plain
    vertex permutation would call most of these pairs significant)."""
    from braincause.stats import spin_test

    c, spins = sphere_setup
    rng = np.random.default_rng(8)
    ps = np.array([spin_test(_smooth(c, rng), _smooth(c, rng), spins).p for _ in range(60)])
    assert (ps <= 0.05).mean() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 60)
    assert 0.3 <= np.median(ps) <= 0.7


# ------------------------------------------------------------------ the page
def test_page_loads_offline_in_chromium_and_sorts(swept):
    from test_report import _chromium, _DevTools

    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed but CI is set")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    page = swept[1] / "index.html"
    html = page.read_text()
    assert "http://" not in html and "https://" not in html
    url = page.resolve().as_uri()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bc-chromium-") as profile:
        b = _DevTools(exe, Path(profile))
        try:
            target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True}
                       )["sessionId"]
            b._instrument(s)
            b.send("Page.enable", session=s)
            start = len(b.events)
            b.send("Page.navigate", {"url": url}, session=s)
            b.wait_for("Page.loadEventFired", start)
            probe = b.evaluate("""(() => {
              const rows = () => [...document.querySelectorAll('#runs tbody tr')];
              const n = rows().length;
              const th = [...document.querySelectorAll('#runs th')];
              const qcol = th.findIndex(h => h.textContent.trim() === 'q');
              const subj = () => rows().map(r => r.cells[0].textContent);
              th[0].click();
              const up = subj();
              th[0].click();
              const down = subj();
              return {n, up, down, qcol,
                      thumbs: document.querySelectorAll('img.thumb').length,
                      broken: [...document.images].filter(i => !(i.complete &&
                        i.naturalWidth > 0)).length,
                      groups: document.querySelectorAll('#group-maps img').length,
                      pairs: document.querySelectorAll('#consistency tbody tr').length};
            })()""", s)
            b.pump(0.5)
        finally:
            b.close()
    errors = [e for e in b.events if e.get("method") in ("Runtime.exceptionThrown",)
              or (e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"].get("level") == "error")
              or (e.get("method") == "Runtime.consoleAPICalled"
                  and e["params"].get("type") == "error")]
    assert not errors, errors
    requests = [e["params"]["request"]["url"] for e in b.events
                if e.get("method") == "Network.requestWillBeSent"]
    assert [u for u in requests if u != url and not u.startswith("data:")] == []
    assert probe["n"] == 6 and probe["thumbs"] == 4 and probe["broken"] == 0
    assert probe["up"] == sorted(probe["up"]) and probe["down"] == sorted(probe["down"])[::-1]
    assert probe["groups"] == 2 and probe["pairs"] == 2


def test_public_api_and_progress_bar(capsys):
    import braincause
    from braincause.cli import _SweepBar

    assert braincause.sweep is sweep and "sweep" in braincause.__all__
    bar = _SweepBar(quiet=False)
    bar.tty = True  # as on a terminal: a tqdm bar with ETA on stderr
    bar({"subject": "synth-01", "query": "faces", "status": "done", "verdict": "discovery"},
        1, 4)
    bar({"subject": "synth-01", "query": "zz", "status": "failed", "error": "unknown"}, 2, 4)
    bar.close()
    err = capsys.readouterr().err
    assert "2/4" in err and "synth-01/zz: failed (unknown)" in err
    plain = _SweepBar(quiet=False)
    plain.tty = False
    plain({"subject": "s", "query": "q", "status": "done", "verdict": "rejected"}, 3, 4)
    assert capsys.readouterr().err == "[3/4] s q: rejected\n"
