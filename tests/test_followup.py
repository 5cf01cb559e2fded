"""Follow-up experiment design: power (statsmodels oracle), ordering constraints, BIDS
events, low-level balance, efficiency (nilearn oracle), determinism, bad input."""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from braincause.exceptions import DataError, UserInputError
from braincause.followup import (
    FollowupConfig,
    calls_for_followup,
    design_followup,
    min_detectable_d,
    power_independent,
    power_paired,
    required_n,
    solve_n,
)
from braincause.followup.efficiency import contrast_efficiency, design_matrix, run_events
from braincause.followup.lowlevel import Pool, balance_selection, image_statistics
from braincause.followup.schedule import NULL, deal_runs, order_run, valid_order

FAST = FollowupConfig(n_order_candidates=2, n_baseline_orders=2)
TRIAL_SD = 0.3


# ------------------------------------------------------------------ synthetic run folder
def _png(path: Path, rgb: tuple[int, int, int], rng: np.random.Generator, spread: int) -> None:
    base = np.array(rgb, dtype=np.int64)
    noise = rng.integers(-spread, spread + 1, size=(12, 14, 1))
    img = np.clip(base + noise, 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)


def make_run(root: Path, *, seed: int = 0) -> Path:
    """A small localize run folder: 14 positives (2 edits each), 2 counter-concepts.

    Low-level statistics are confounded with the predicted response (brighter and more
    colourful images drive the region more), so the top-ranked selection is unbalanced.
    """
    rng = np.random.default_rng(seed)
    run = root / "run"
    (run / "stimuli").mkdir(parents=True)
    manifest = []

    def add(role, split, resp, rgb, spread, *, kept=True, counter=None, parent=None):
        i = len(manifest)
        fname = f"{split}-{role}-{i:05d}.png"
        _png(run / "stimuli" / fname, rgb, rng, spread)
        manifest.append({"id": i, "role": role, "split": split, "text": f"{role} {i}",
                         "counter_concept": counter, "parent": parent, "generated": True,
                         "kept": kept, "p_present": 0.9, "file": fname,
                         "response": {"causal": round(float(resp), 5),
                                      "activation": round(float(resp), 5)}})
        return i

    for k in range(14):
        split = "eval" if k < 10 else "train"
        r = 1.2 - 0.05 * k + rng.normal(0, 0.05)
        lum = int(200 - 8 * k)
        p = add("positive", split, r, (lum, lum - 40, 60 + 5 * k), 30 + k)
        for j in range(2):
            add("edit", split, r - 0.35 - 0.2 * j + rng.normal(0, 0.05),
                (lum - 10 * j, lum - 50, 70), 25 + k, kept=(k + j) % 5 != 0, parent=p)
    for label, mean, n in (("cue a", 0.2, 7), ("cue b", 0.55, 5)):
        for k in range(n):
            lum = int(60 + 15 * k)
            add("negative", "eval" if k < n - 2 else "train", mean - 0.06 * k,
                (lum, lum, lum + 20), 10 + 3 * k, counter=label)
    add("positive", "eval", 2.0, (255, 255, 255), 0, kept=False)  # not verified: never used
    (run / "stimuli" / "manifest.json").write_text(json.dumps(manifest))
    result = {
        "concept": {"name": "widget", "label": "widget", "kind": "category"},
        "subject": {"id": "synth-99", "coordinates": "fsaverage5 vertices"},
        "seed": 7,
        "config": {"stats": {"alpha": 0.05}, "verdict": {"min_negatives_per_counter": 3}},
        "verdict": {"verdict": "needs follow-up", "coverage": "low",
                    "generated_evidence": True, "measured_evidence": False,
                    "reasons": ["1/2 counter-concepts with ≥ 3 measured negatives"]},
        "region": {"rule": "top_k", "ranking": "braincause", "k": 5, "size": 5,
                   "voxels": [3, 1, 4, 15, 9]},
        "coverage": {"missing_counter_concepts": ["cue b"],
                     "eval": {"negatives_per_counter": {"cue a": 8, "cue b": 1}}},
        "stimuli": {"counter_concepts": [
            {"name": "cue_a", "label": "cue a", "reason": "shares a cue"},
            {"name": "cue_b", "label": "cue b", "reason": "co-occurs"}]},
        "noise": {"causal_region": {"trial_sd": TRIAL_SD, "image_sd": 0.5, "n_images": 100,
                                    "n_repeats": 3}},
    }
    (run / "result.json").write_text(json.dumps(result))
    return run


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path)


@pytest.fixture
def design(run_dir):
    return design_followup(run_dir, config=FAST, seed=3)


def _events(folder: Path) -> list[tuple[Path, list[dict[str, str]]]]:
    out = []
    for p in sorted(folder.glob("*_events.tsv")):
        with open(p, newline="") as fh:
            out.append((p, list(csv.DictReader(fh, delimiter="\t"))))
    return out


# ------------------------------------------------------------------ power (oracle)
@pytest.mark.parametrize("alternative", ["larger", "two-sided"])
def test_power_matches_statsmodels(alternative):
    sm = pytest.importorskip("statsmodels.stats.power")
    one, ind = sm.TTestPower(), sm.TTestIndPower()
    for d in (0.2, 0.5, 0.8, 1.7):
        for alpha in (0.01, 0.05, 0.1):
            for n in (3, 10, 37.5):
                got = [power_paired(d, n, alpha=alpha, alternative=alternative),
                       power_independent(d, n, alpha=alpha, alternative=alternative),
                       power_independent(d, n, 2 * n, alpha=alpha, alternative=alternative)]
                want = [one.power(d, n, alpha, alternative=alternative),
                        ind.power(d, n, alpha, alternative=alternative),
                        ind.power(d, n, alpha, ratio=2, alternative=alternative)]
                for g, w in zip(got, want, strict=True):
                    assert np.isfinite(g) and 0 <= g <= 1
                    # statsmodels inherits NaN from scipy's nct in far tails (power ~1)
                    assert g == pytest.approx(w, rel=1e-9) if np.isfinite(w) else g > 0.999


@pytest.mark.parametrize("alternative", ["larger", "two-sided"])
def test_sample_size_matches_statsmodels(alternative):
    sm = pytest.importorskip("statsmodels.stats.power")
    for d, alpha, power in ((0.3, 0.05, 0.8), (0.5, 0.01, 0.9), (1.0, 0.05, 0.8),
                            (0.15, 0.05, 0.95)):
        for paired, oracle in ((True, sm.TTestPower()), (False, sm.TTestIndPower())):
            kw = {"nobs": None} if paired else {"nobs1": None}
            want = oracle.solve_power(d, alpha=alpha, power=power, alternative=alternative,
                                      **kw)
            got = solve_n(d, power=power, alpha=alpha, paired=paired, alternative=alternative)
            assert got == pytest.approx(want, rel=1e-6)
            n = required_n(d, power=power, alpha=alpha, paired=paired, alternative=alternative)
            f = power_paired if paired else power_independent
            assert n == math.ceil(want - 1e-6)
            assert f(d, n, alpha=alpha, alternative=alternative) >= power
            assert f(d, n - 1, alpha=alpha, alternative=alternative) < power
    dmin = min_detectable_d(20, power=0.8, alpha=0.05, paired=True, alternative=alternative)
    assert dmin == pytest.approx(sm.TTestPower().solve_power(
        None, nobs=20, alpha=0.05, power=0.8, alternative=alternative), rel=1e-6)


def test_untestable_effects():
    assert math.isinf(solve_n(0.0)) and math.isinf(solve_n(-0.3))
    assert required_n(-0.3, paired=True) is None
    assert required_n(1e-4) is None                     # beyond any feasible sample
    assert required_n(-0.5, alternative="two-sided") == required_n(0.5,
                                                                    alternative="two-sided")
    with pytest.raises(UserInputError, match="power"):
        solve_n(0.5, power=1.0)


# ------------------------------------------------------------------ ordering constraints
def test_order_never_repeats_or_puts_edit_next_to_positive():
    # stimuli 0-3 positives, 4-7 their edits (parent 0-3), 8-9 negatives
    parent = np.array([-1, -1, -1, -1, 0, 1, 2, 3, -1, -1])
    tokens = np.concatenate([np.repeat(np.arange(10), 3), np.full(4, NULL)])
    for seed in range(300):
        o = order_run(tokens, parent, np.random.default_rng(seed))
        assert sorted(o.tolist()) == sorted(tokens.tolist())
        assert valid_order(o, parent)
        img = o[o >= 0]                       # a blank trial does not separate images
        a, b = img[:-1], img[1:]
        assert not np.any(a == b)
        assert not np.any((parent[a] == b) | (parent[b] == a))


def test_valid_order_detects_violations():
    parent = np.array([-1, 0, -1])
    assert valid_order(np.array([0, 2, 1, NULL, NULL]), parent)
    assert not valid_order(np.array([2, 2, 0]), parent)
    assert not valid_order(np.array([2, 0, 1]), parent)   # edit right after its positive
    assert not valid_order(np.array([1, 0, 2]), parent)   # ... or right before it
    assert not valid_order(np.array([0, NULL, 1]), parent)  # blanks do not separate
    assert not valid_order(np.array([2, NULL, NULL, 2]), parent)


def test_order_infeasible_raises():
    with pytest.raises(UserInputError, match="null_fraction"):
        order_run(np.array([0, 0, 1]), np.array([-1, 0]), np.random.default_rng(0),
                  max_tries=50)


def test_deal_runs_balances_conditions_and_spreads_repeats():
    by = {"a": np.arange(0, 5), "b": np.arange(5, 8), "c": np.arange(8, 12)}
    trials = {"a": 15, "b": 9, "c": 12}
    runs = deal_runs(by, trials, 6, 12, np.random.default_rng(1))
    assert len(runs) == math.ceil((36 + 6) / 12)
    assert sum(len(r) for r in runs) == 42 and max(len(r) for r in runs) <= 12
    for idx in by.values():
        counts = [np.isin(r, idx).sum() for r in runs]
        assert max(counts) - min(counts) <= 1
    for s in range(12):                # 3 showings, 4 runs: one per run at most
        assert max((r == s).sum() for r in runs) == 1


def test_design_events_respect_constraints_over_seeds(run_dir):
    for seed in range(6):
        d = design_followup(run_dir, config=FAST, seed=seed)
        parent = {s.name: s.parent for s in d.selection.stimuli}
        for _, rows in _events(d.path):
            ids = [r["stim_id"] for r in rows if r["stim_id"] != "n/a"]
            for a, b in itertools.pairwise(ids):
                assert a != b
                assert parent[a] != b and parent[b] != a


# ------------------------------------------------------------------ BIDS events
BIDS_NAME = re.compile(r"^sub-[A-Za-z0-9]+_task-[A-Za-z0-9]+_run-\d+_events\.tsv$")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def test_events_follow_bids_rules(design):
    folder = design.path
    files = _events(folder)
    assert len(files) == design.summary["n_runs"] >= 1
    sidecar = json.loads((folder / design.data["files"]["events_sidecar"]).read_text())
    for path, _ in files:
        assert BIDS_NAME.match(path.name), path.name
        text = path.read_text()
        assert text.endswith("\n") and "\r" not in text
        lines = text.splitlines()
        header = lines[0].split("\t")
        assert header[:2] == ["onset", "duration"]
        assert {"trial_type", "stim_file"} <= set(header)
        assert set(header) <= set(sidecar)                 # every column described
        onsets = []
        for line in lines[1:]:
            cells = line.split("\t")
            assert len(cells) == len(header)
            row = dict(zip(header, cells, strict=True))
            assert all(c != "" and c.strip() == c for c in cells)       # n/a, not empty
            # cells pandas / R would read as missing: only the BIDS "n/a"
            assert not any(c.lower() in ("na", "nan", "none", "null", "n/a") and c != "n/a"
                           for c in cells)
            assert row["trial_type"] != "n/a"
            assert NUMBER.match(row["onset"]) and NUMBER.match(row["duration"])
            assert float(row["duration"]) >= 0
            onsets.append(float(row["onset"]))
            assert not NUMBER.match(row["trial_type"])                  # a string label
            assert row["trial_type"] in sidecar["trial_type"]["Levels"]
            sf = row["stim_file"]
            if row["trial_type"] == "blank":
                assert sf == "n/a"
            else:
                assert not sf.startswith("/") and ".." not in sf
                assert (folder / "stimuli" / sf).is_file()
        assert onsets == sorted(onsets) and onsets[0] >= 0


_LOCAL_VALIDATOR = (Path(__file__).resolve().parents[1] / ".bids-validator" / "node_modules"
                    / ".bin" / "bids-validator")


def _bids_validator() -> str | None:
    """The npm bids-validator: $BIDS_VALIDATOR, the copy scripts/install-test-deps.sh puts in
    .bids-validator/, or one on PATH."""
    for exe in (os.environ.get("BIDS_VALIDATOR"), str(_LOCAL_VALIDATOR),
                shutil.which("bids-validator")):
        if exe and os.path.isfile(exe) and os.access(exe, os.X_OK):
            return exe
    return None


def test_events_pass_bids_validator(design, tmp_path):
    if _bids_validator() is None:
        if os.environ.get("CI") and shutil.which("npm"):
            pytest.fail("bids-validator is missing: run scripts/install-test-deps.sh")
        pytest.skip("bids-validator (npm) not installed: run scripts/install-test-deps.sh "
                    "or set BIDS_VALIDATOR")
    ds = tmp_path / "bids"
    func = ds / f"sub-{design.data['files']['events'][0].split('_')[0][4:]}" / "func"
    func.mkdir(parents=True)
    for p, _ in _events(design.path):
        shutil.copy(p, func / p.name)
    shutil.copytree(design.path / "stimuli", ds / "stimuli")
    shutil.copy(design.path / design.data["files"]["events_sidecar"], ds)
    (ds / "dataset_description.json").write_text(json.dumps(
        {"Name": "followup", "BIDSVersion": "1.8.0", "Authors": ["a", "b"]}))
    (ds / "README").write_text("Follow-up design exported by braincause; events only.\n" * 5)
    res = subprocess.run([_bids_validator(), str(ds), "--json"], capture_output=True,
                         text=True, timeout=300)
    report = json.loads(res.stdout)
    errors = [(e["key"], e["reason"]) for e in report["issues"]["errors"]]
    assert not errors, errors


# ------------------------------------------------------------------ files and content
def test_writes_every_file(design, run_dir):
    f = design.path
    assert f == run_dir / "followup"
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".followup")]
    for name in ("design.json", "protocol.md", "conditions.csv",
                 design.data["files"]["events_sidecar"], *design.data["files"]["events"],
                 *design.data["files"]["psychopy_sequences"]):
        assert (f / name).is_file(), name
    names = sorted(p.name for p in (f / "stimuli").iterdir())
    assert names == sorted(s.file for s in design.selection.stimuli)
    assert json.loads((f / "design.json").read_text()) == design.to_dict()
    summary = design.summary
    assert all(isinstance(v, (str, int, float, bool)) or v is None for v in summary.values())
    for key in ("n_conditions", "trials_per_condition", "n_runs", "run_minutes",
                "total_scan_minutes", "power", "alpha", "min_detectable_d_paired"):
        assert key in summary
    assert summary["alpha"] == 0.05 and summary["seed"] == 3
    with open(f / "conditions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(design.selection.stimuli)
    assert all((f / r["image"]).is_file() for r in rows)
    assert all(name.isidentifier() for name in rows[0])   # PsychoPy column names


def test_conditions_and_missing_evidence(design):
    kinds = {c.name: c.kind for c in design.selection.conditions}
    assert kinds == {"positive": "positive", "edit": "edit", "negative_cue_a": "negative",
                     "missing_cue_b": "missing"}
    stims = design.selection.by_condition()
    pos_names = {s.name for s in stims["positive"]}
    assert all(s.parent in pos_names for s in stims["edit"])
    assert len(stims["positive"]) == FAST.n_positive
    assert len(stims["negative_cue_a"]) == FAST.n_negative
    assert all(s.split in ("eval", "train") for s in stims["positive"])
    text = (design.path / "protocol.md").read_text()
    for needle in ("needs follow-up", "Missing evidence", "`missing_cue_b`", "Analysis plan",
                   "paired t test", "α = 0.05", "Fixation task", "2 runs" if
                   design.summary["n_runs"] == 2 else "run"):
        assert needle in text, needle


def test_without_balancing_selection_is_the_hardest_eval_first(run_dir):
    import dataclasses

    cfg = dataclasses.replace(FAST, pool_factor=1.0)
    d = design_followup(run_dir, config=cfg, write=False)
    m = json.loads((run_dir / "stimuli" / "manifest.json").read_text())
    with_edit = {e["parent"] for e in m if e["role"] == "edit" and e["kept"]}
    ranked = sorted((e for e in m if e["role"] == "positive" and e["kept"]
                     and e["id"] in with_edit),
                    key=lambda e: (e["split"] != "eval", -e["response"]["causal"]))
    by = d.selection.by_condition()
    assert {s.source_id for s in by["positive"]} == {e["id"] for e in ranked[:cfg.n_positive]}
    assert all(s.split == "eval" for s in by["positive"])
    for s in by["edit"]:            # the hardest verified edit of its positive
        parent = next(p for p in by["positive"] if p.name == s.parent)
        kids = [e for e in m if e["role"] == "edit" and e["kept"]
                and e["parent"] == parent.source_id]
        assert s.response == max(e["response"]["causal"] for e in kids)
    negs = sorted((e for e in m if e["counter_concept"] == "cue a" and e["kept"]),
                  key=lambda e: (e["split"] != "eval", -e["response"]["causal"]))
    assert {s.source_id for s in by["negative_cue_a"]} == {e["id"] for e in negs[:4]}
    assert d.data["lowlevel"]["max_smd"] == d.data["lowlevel"]["max_smd_naive"]


def test_power_analysis_uses_eval_predictions_and_trial_noise(design, run_dir):
    manifest = {e["id"]: e for e in json.loads(
        (run_dir / "stimuli" / "manifest.json").read_text())}
    by = design.selection.by_condition()
    resp = {s.name: manifest[s.source_id]["response"]["causal"] for s in design.selection.stimuli}
    diff = np.array([resp[s.name] - resp[e.name] for s in by["positive"] for e in by["edit"]
                     if e.parent == s.name and s.split == "eval"])      # held-out pairs
    assert len(diff) >= 2
    d_edit = diff.mean() / np.sqrt(diff.var(ddof=1) + 2 * TRIAL_SD ** 2)
    table = {c["contrast"]: c for c in design.data["power"]["contrasts"]}
    assert table["positive − edit"]["d"] == pytest.approx(d_edit, abs=1e-3)
    pos = np.array([resp[s.name] for s in by["positive"] if s.split == "eval"])
    neg = np.array([resp[s.name] for s in by["negative_cue_a"] if s.split == "eval"])
    pooled = ((len(pos) - 1) * pos.var(ddof=1) + (len(neg) - 1) * neg.var(ddof=1)) / \
        (len(pos) + len(neg) - 2)
    d_neg = (pos.mean() - neg.mean()) / np.sqrt(pooled + TRIAL_SD ** 2)
    assert table["positive − negative_cue_a"]["d"] == pytest.approx(d_neg, abs=1e-3)
    n = design.summary["trials_per_condition"]
    assert n == max(c["n_required"] for c in table.values() if c["status"] == "ok")
    for c in table.values():
        if c["status"] == "ok":
            assert min(c["n_trials"]) >= c["n_required"] and c["power"] >= 0.8
    trials = sum(c["n_trials"] for c in design.data["conditions"])
    assert design.summary["total_trials"] == trials
    assert design.summary["n_runs"] == math.ceil(
        (trials + design.summary["n_null_trials"]) / FAST.slots_per_run)


def test_higher_power_needs_more_trials(run_dir):
    lo = design_followup(run_dir, config=FollowupConfig(power=0.6, n_order_candidates=1,
                                                        n_baseline_orders=1), write=False)
    hi = design_followup(run_dir, config=FollowupConfig(power=0.95, n_order_candidates=1,
                                                        n_baseline_orders=1), write=False)
    assert hi.summary["trials_per_condition"] > lo.summary["trials_per_condition"]
    assert lo.path is None and not (run_dir / "followup").exists()


# ------------------------------------------------------------------ low-level statistics
def test_image_statistics_closed_forms():
    grey = np.full((4, 5, 3), 128, np.uint8)
    lum, con, col, sat = image_statistics(grey)
    assert lum == pytest.approx(((128 / 255 + 0.055) / 1.055) ** 2.4)
    assert con == pytest.approx(0) and col == pytest.approx(0) and sat == pytest.approx(0)
    red = np.zeros((3, 3, 3), np.uint8)
    red[..., 0] = 255
    lum, con, col, sat = image_statistics(red)
    assert lum == pytest.approx(0.2126) and sat == pytest.approx(1.0)
    assert col == pytest.approx(0.3 * np.hypot(255, 127.5))
    half = np.zeros((2, 2, 3), np.uint8)
    half[0] = 255
    assert image_statistics(half)[1] == pytest.approx(0.5)        # SD of {0, 1}


def test_lowlevel_balance_reported_and_improved(design):
    bal = design.data["lowlevel"]
    assert bal["max_smd"] < bal["max_smd_naive"]
    assert design.summary["lowlevel_max_smd"] == bal["max_smd"]
    conds = {c.name for c in design.selection.conditions}
    for stat in bal["statistics"]:
        row = bal["table"][stat]
        assert set(row["per_condition"]) == conds
        assert row["max_smd"] <= bal["max_smd"] + 1e-9
        assert row["anova_p"] is None or 0 <= row["anova_p"] <= 1
    for cond, naive in bal["mean_response_naive"].items():   # balance keeps hardness
        if cond != "edit":
            assert bal["mean_response"][cond] >= naive - design.config.max_response_loss - 1e-4
    # the reported statistics are those of the copied images
    s = design.selection.stimuli[0]
    img = np.asarray(Image.open(design.path / "stimuli" / s.file).convert("RGB"))
    assert np.allclose(image_statistics(img), s.stats)


def test_balance_selection_toy():
    # condition 0 fixed at mean 0; pool 1 (hardest first) starts at mean 2, candidate 2
    # brings it to 0.5 but is the easiest; the hardness floor can forbid that swap
    fixed = Pool(np.zeros((1, 2, 1)), np.array([[1.0, 0.0]]), 1)
    c = np.zeros((3, 2, 1))
    c[:, 1, 0] = [2.0, 2.0, -1.0]
    cnt = np.array([[0.0, 1.0]] * 3)
    free = Pool(c, cnt, 2, score=np.array([1.0, 0.9, 0.2]), min_score=-np.inf)
    sel = balance_selection([fixed, free])
    assert sel[1].tolist() == [0, 2]
    strict = Pool(c, cnt, 2, score=np.array([1.0, 0.9, 0.2]), min_score=0.9)
    assert balance_selection([fixed, strict])[1].tolist() == [0, 1]


# ------------------------------------------------------------------ efficiency (oracle)
def test_efficiency_matches_direct_computation(design):
    import pandas as pd
    from nilearn.glm.first_level import make_first_level_design_matrix

    cfg = design.config
    pairs = [(c.plus, c.minus) for c in design.contrasts]
    for r, (path, _) in zip(design.runs, _events(design.path), strict=True):
        ev = pd.read_csv(path, sep="\t")
        assert ev.trial_type.notna().all()
        ev = ev[ev.trial_type != "blank"][["onset", "duration", "trial_type"]]
        n_scans = int(np.ceil(r.duration_s / cfg.tr))
        X = make_first_level_design_matrix(np.arange(n_scans) * cfg.tr, ev,
                                           hrf_model="glover", drift_model="cosine",
                                           high_pass=1 / 128)
        A = X.to_numpy()
        inv = np.linalg.inv(A.T @ A)
        want = []
        for plus, minus in pairs:
            c = np.zeros(A.shape[1])
            c[list(X.columns).index(plus)], c[list(X.columns).index(minus)] = 1, -1
            want.append(1 / (c @ inv @ c))
        assert np.allclose(r.efficiency, want, rtol=1e-6)
        assert n_scans == r.n_scans
    eff = design.data["efficiency"]["contrasts"]
    assert all(e["design"] > 0 and e["random_order"] > 0 for e in eff)


def test_contrast_efficiency_absent_condition_is_zero():
    order = np.array([0, 1, NULL, 0, 1, NULL, 0, 1])
    ev = run_events(order, ["a", "b"], on_s=3, trial_s=4, lead_in_s=4)
    X = design_matrix(ev, 60.0, 2.0)
    e = contrast_efficiency(X, [("a", "b"), ("a", "zzz")])
    assert e[0] > 0 and e[1] == 0


# ------------------------------------------------------------------ determinism, atomicity
def test_same_seed_same_files(tmp_path):
    a, b = make_run(tmp_path / "a"), make_run(tmp_path / "b")
    da = design_followup(a, config=FAST, seed=11)
    db = design_followup(b, config=FAST, seed=11)
    files = ["design.json", "conditions.csv", "protocol.md", *da.data["files"]["events"]]
    for name in files:
        assert (da.path / name).read_bytes() == (db.path / name).read_bytes(), name
    dc = design_followup(b, config=FAST, seed=12)
    assert [r.order.tolist() for r in dc.runs] != [r.order.tolist() for r in da.runs]
    dn = design_followup(b, config=FAST)              # seed None: the run's seed
    assert dn.seed == 7


def test_failed_write_leaves_previous_folder(run_dir, monkeypatch):
    first = design_followup(run_dir, config=FAST, seed=1)
    before = (first.path / "design.json").read_bytes()

    def boom(_d):
        raise RuntimeError("disk full")

    monkeypatch.setattr("braincause.followup.protocol.protocol_markdown", boom)
    with pytest.raises(RuntimeError):
        design_followup(run_dir, config=FAST, seed=2)
    assert (first.path / "design.json").read_bytes() == before
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".followup")]


# ------------------------------------------------------------------ bad input
def test_missing_or_corrupt_run_dir(tmp_path, run_dir):
    with pytest.raises(DataError, match="does not exist"):
        design_followup(tmp_path / "nope")
    (run_dir / "result.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        design_followup(run_dir)
    other = make_run(tmp_path / "o")
    (other / "stimuli" / "manifest.json").unlink()
    with pytest.raises(DataError, match=r"manifest\.json"):
        design_followup(other)
    third = make_run(tmp_path / "t")
    r = json.loads((third / "result.json").read_text())
    del r["noise"]
    (third / "result.json").write_text(json.dumps(r))
    with pytest.raises(DataError, match=r"noise\.causal_region\.trial_sd"):
        design_followup(third)


def test_no_verified_positive(tmp_path):
    run = make_run(tmp_path)
    m = json.loads((run / "stimuli" / "manifest.json").read_text())
    for e in m:
        if e["role"] == "positive":
            e["kept"] = False
    (run / "stimuli" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(UserInputError, match="no verified positive"):
        design_followup(run, config=FAST)


def test_positives_only_run_still_gives_a_design(tmp_path):
    run = make_run(tmp_path)
    m = json.loads((run / "stimuli" / "manifest.json").read_text())
    for e in m:
        if e["role"] != "positive":
            e["kept"] = False
    (run / "stimuli" / "manifest.json").write_text(json.dumps(m))
    d = design_followup(run, config=FAST)
    assert [c.name for c in d.selection.conditions] == ["positive"]
    assert d.summary["n_contrasts"] == 0 and d.summary["efficiency_vs_random"] is None
    assert any("no edit condition" in w for w in d.data["warnings"])
    assert any("cue b" in w and "cannot be filled" in w for w in d.data["warnings"])
    assert "warning" in d.format_summary()
    assert (d.path / "protocol.md").is_file()


@pytest.mark.parametrize("field,value", [("power", 1.2), ("alpha", 0.0), ("on_s", 0),
                                         ("n_positive", 1), ("null_fraction", 0.95),
                                         ("alternative", "smaller"), ("max_run_s", 20),
                                         ("tr", -1.0), ("n_negative", 2.5)])
def test_config_validation_names_field(field, value):
    with pytest.raises(UserInputError, match=field):
        FollowupConfig(**{field: value}).validate()


def test_bad_seed(run_dir):
    with pytest.raises(UserInputError, match="seed"):
        design_followup(run_dir, seed=-2)


def test_cli_design(run_dir, tmp_path, capsys):
    from braincause.cli import main

    assert main(["design", str(run_dir), "--seed", "1", "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["seed"] == 1 and (run_dir / "followup" / "protocol.md").is_file()
    assert main(["design", str(run_dir), "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["design", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["design", str(run_dir), "--power", "2"]) == 2
    assert "power" in capsys.readouterr().err


def test_calls_for_followup():
    assert calls_for_followup("needs follow-up") and calls_for_followup("discovery")
    assert not calls_for_followup("rejected") and not calls_for_followup("inconclusive")


# ------------------------------------------------------------------ a real localize run
def test_on_faces_run(faces_run):
    """A design on a genuine localize run folder (the session's small faces run). Called
    directly, design_followup designs whatever the verdict (the small configuration's run
    need not be a discovery) and reports the run's verdict."""
    d = design_followup(faces_run, config=FAST, write=False)
    s = d.summary
    run_verdict = json.loads((faces_run / "result.json").read_text())["verdict"]["verdict"]
    assert s["verdict"] == run_verdict and s["n_runs"] >= 1
    assert {c.kind for c in d.selection.conditions} >= {"positive", "edit", "negative"}
    assert s["n_contrasts_ok"] >= 1 and s["lowlevel_max_smd"] <= s["lowlevel_max_smd_naive"]
