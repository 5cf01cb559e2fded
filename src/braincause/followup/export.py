"""Files of a follow-up design, written into ``RUN_DIR/followup/`` in one atomic step.

* ``stimuli/<name>.png``: the selected images under stable names (BIDS ``/stimuli``);
* ``sub-<sub>_task-<task>_run-<NN>_events.tsv``: BIDS events (``onset``, ``duration``,
  ``trial_type`` (``blank`` for null trials), ``stim_file`` relative to ``stimuli/``,
  then ``stim_id``, ``parent``, ``counter_concept``, ``repetition``; ``n/a`` where
  empty), and
  ``task-<task>_events.json`` describing the columns;
* ``conditions.csv``: a PsychoPy conditions file, one row per image;
  ``psychopy_run-<NN>.csv``: the trial sequence of each run (loopType "sequential");
* ``design.json``: everything, with a flat ``summary`` for reports;
* ``protocol.md``: the protocol for the lab (:mod:`braincause.followup.protocol`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from braincause._version import __version__
from braincause.followup.schedule import NULL

if TYPE_CHECKING:
    from braincause.followup.config import FollowupConfig
    from braincause.followup.contrasts import ContrastPower
    from braincause.followup.result import FollowupDesign, Run
    from braincause.followup.rundir import RunDir
    from braincause.followup.selection import Selection

EVENT_COLUMNS = ("onset", "duration", "trial_type", "stim_file", "stim_id", "parent",
                 "counter_concept", "repetition")
NA = "n/a"
#: trial_type of null trials ("null" would be read as missing by pandas and R)
BLANK = "blank"
SHRINKAGE_NOTE = ("effects are the encoder's predictions, which are shrunk towards the mean "
                  "(the embedded encoder recovers roughly 10-30 % of a true edit effect), so "
                  "the trial numbers are conservative for the concept effects; the spread of "
                  "predicted responses between images is shrunk too, which works the other "
                  "way, but single-trial noise dominates the per-trial SD")


def bids_label(text: str) -> str:
    """A BIDS entity label: letters and digits only (``synth-01`` → ``synth01``)."""
    return re.sub(r"[^A-Za-z0-9]", "", str(text)) or "x"


def events_filename(subject: str, task: str, run: int) -> str:
    return f"sub-{bids_label(subject)}_task-{bids_label(task)}_run-{run:02d}_events.tsv"


# ------------------------------------------------------------------ design.json
def design_dict(run: RunDir, sel: Selection, contrasts: list[ContrastPower],
                trials: dict[str, int], n_target: int, runs: list[Run], cfg: FollowupConfig,
                seed: int, alpha: float, detectable: dict[str, float],
                sensitivity: dict[str, int | None]) -> dict[str, Any]:
    """The content of design.json (deterministic: no time stamps, no absolute paths)."""
    import nilearn
    import scipy

    by = sel.by_condition()
    eff = np.sum([r.efficiency for r in runs], axis=0)
    base = np.sum([r.baseline_efficiency for r in runs], axis=0)
    ratio = np.divide(eff, base, out=np.zeros_like(eff), where=base > 0)
    pw = list(contrasts)
    ok = [c for c in pw if c.status == "ok"]
    testable = [c for c in pw if c.testable]
    binding = max(ok, key=lambda c: c.n_required, default=None)
    conj = max(0.0, 1.0 - sum(1.0 - c.power for c in testable)) if testable else None
    n_null = int(sum(int((r.order == NULL).sum()) for r in runs))
    total_s = sum(r.duration_s for r in runs)
    task = run.concept["name"]
    files = [events_filename(run.subject, task, r.index) for r in runs]
    r_ = run.result
    summary = {
        "concept": run.concept.get("label", task), "subject": run.subject,
        "verdict": run.verdict["verdict"], "n_conditions": len(sel.conditions),
        "n_stimuli": len(sel.stimuli), "trials_per_condition": n_target,
        "total_trials": int(sum(trials.values())), "n_null_trials": n_null,
        "n_runs": len(runs), "run_minutes": round(max(r.duration_s for r in runs) / 60, 2),
        "total_scan_minutes": round(total_s / 60, 2), "tr_s": cfg.tr,
        "trial_on_s": cfg.on_s, "trial_off_s": cfg.off_s, "power": cfg.power,
        "alpha": alpha, "alternative": cfg.alternative,
        "trial_sd": round(run.trial_sd, 5),
        "binding_contrast": binding.name if binding else "none",
        "binding_d": round(binding.d, 4) if binding else None,
        "n_contrasts": len(pw), "n_contrasts_ok": len(ok),
        "n_contrasts_underpowered": sum(c.status.startswith("underpowered") for c in pw),
        "n_contrasts_untestable": len(pw) - len(testable),
        "min_power_achieved": round(min(c.power for c in testable), 4) if testable else None,
        "conjunction_power_lower_bound": None if conj is None else round(conj, 4),
        "trials_per_condition_at_2x_noise": sensitivity.get("2"),
        "min_detectable_d_paired": detectable["paired"],
        "min_detectable_d_independent": detectable["independent"],
        "efficiency_vs_random": round(float(ratio.mean()), 4) if len(ratio) else None,
        "lowlevel_max_smd": sel.balance["max_smd"],
        "lowlevel_max_smd_naive": sel.balance["max_smd_naive"], "seed": seed,
    }
    return {
        "format": "braincause-followup-1", "braincause_version": __version__,
        "summary": summary, "warnings": list(sel.warnings) + _power_warnings(pw),
        "source": {"run_dir": run.path.name, "result_sha256": run.result_sha256,
                   "concept": run.concept, "subject": run.subject, "seed": run.seed,
                   "verdict": {k: run.verdict.get(k) for k in
                               ("verdict", "coverage", "generated_evidence",
                                "measured_evidence", "reasons")},
                   "region": {k: r_.get("region", {}).get(k) for k in
                              ("rule", "ranking", "k", "size", "voxels")},
                   "coordinates": r_.get("subject", {}).get("coordinates"),
                   "missing_counter_concepts": run.missing_counters,
                   "trial_noise": r_["noise"]["causal_region"]},
        "seed": seed, "config": {**cfg.to_dict(), "alpha_used": alpha},
        "conditions": [{**c.to_dict(), "n_images": len(by[c.name]),
                        "n_trials": trials[c.name],
                        "repeats_per_image": trials[c.name] // len(by[c.name])}
                       for c in sel.conditions],
        "stimuli": [s.to_dict() for s in sel.stimuli],
        "lowlevel": sel.balance,
        "power": {"method": "noncentral t; paired contrasts: one-sample t on positive − edit "
                            "trial pairs, d_z = mean(Δ) / sqrt(var(Δ) + 2 trial_sd²); "
                            "negative contrasts: two-sample t on single trials, "
                            "d = Δ / sqrt(pooled var + trial_sd²)",
                  "power": cfg.power, "alpha": alpha, "alternative": cfg.alternative,
                  "trial_sd": run.trial_sd, "trials_per_condition": n_target,
                  "min_detectable_d": detectable, "note": SHRINKAGE_NOTE,
                  "noise_sensitivity": {"definition": "trials per condition needed if the "
                                                      "single-trial SD were factor × trial_sd",
                                        "trials_per_condition": sensitivity},
                  "conjunction_power_lower_bound": summary["conjunction_power_lower_bound"],
                  "contrasts": [c.to_dict() for c in pw]},
        "timing": {"on_s": cfg.on_s, "off_s": cfg.off_s, "trial_s": cfg.trial_s,
                   "tr_s": cfg.tr, "lead_in_s": cfg.lead_in_s, "lead_out_s": cfg.lead_out_s,
                   "max_run_s": cfg.max_run_s, "slots_per_run": cfg.slots_per_run,
                   "null_fraction": cfg.null_fraction, "n_null_trials": n_null},
        "runs": [_run_dict(r, sel, f) for r, f in zip(runs, files, strict=True)],
        "efficiency": {
            "definition": "1 / (c (XᵀX)⁻¹ cᵀ), X: nilearn first-level design matrix (Glover "
                          "HRF, cosine drift 1/128 Hz), summed over runs; random_order: mean "
                          f"over {cfg.n_baseline_orders} unconstrained shuffles of the same "
                          "trials per run",
            "contrasts": [{"contrast": c.name, "design": round(float(e), 4),
                           "random_order": round(float(b), 4), "ratio": round(float(q), 4)}
                          for c, e, b, q in zip(pw, eff, base, ratio, strict=True)]},
        "files": {"events": files, "events_sidecar": f"task-{bids_label(task)}_events.json",
                  "conditions": "conditions.csv",
                  "psychopy_sequences": [f"psychopy_run-{r.index:02d}.csv" for r in runs],
                  "stimuli": "stimuli/", "protocol": "protocol.md"},
        "versions": {"braincause": __version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "nilearn": nilearn.__version__},
    }


def _power_warnings(contrasts: list[ContrastPower]) -> list[str]:
    return [f"{c.name}: {c.status}" for c in contrasts if c.status != "ok"]


def _run_dict(r: Run, sel: Selection, fname: str) -> dict[str, Any]:
    conds = [sel.stimuli[t].condition if t != NULL else BLANK for t in r.order]
    names, counts = np.unique(conds, return_counts=True)
    return {"run": r.index, "file": fname, "n_trials": len(r.order),
            "n_null": int((r.order == NULL).sum()), "duration_s": r.duration_s,
            "n_scans": r.n_scans,
            "trial_counts": {str(n): int(k) for n, k in zip(names, counts, strict=True)},
            "order": [sel.stimuli[t].name if t != NULL else BLANK for t in r.order]}


# ------------------------------------------------------------------ tables
def events_rows(r: Run, sel: Selection, cfg: FollowupConfig) -> list[dict[str, str]]:
    """The rows of one run's BIDS events.tsv (strings, ``n/a`` for empty cells)."""
    rows = []
    for i, (t, rep) in enumerate(zip(r.order, r.repetition, strict=True)):
        onset = cfg.lead_in_s + i * cfg.trial_s
        if t == NULL:
            rows.append({"onset": f"{onset:.3f}", "duration": f"{cfg.on_s:.3f}",
                         "trial_type": BLANK, "stim_file": NA, "stim_id": NA, "parent": NA,
                         "counter_concept": NA, "repetition": NA})
            continue
        s = sel.stimuli[t]
        rows.append({"onset": f"{onset:.3f}", "duration": f"{cfg.on_s:.3f}",
                     "trial_type": s.condition, "stim_file": s.file, "stim_id": s.name,
                     "parent": s.parent or NA, "counter_concept": s.counter_concept or NA,
                     "repetition": str(int(rep))})
    return rows


def format_tsv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    lines = ["\t".join(columns)]
    lines += ["\t".join(str(row[c]).replace("\t", " ") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _events_sidecar(sel: Selection, cfg: FollowupConfig) -> dict[str, Any]:
    levels = {c.name: c.why for c in sel.conditions}
    levels[BLANK] = "blank (null) trial: fixation only, the implicit baseline"
    return {
        "onset": {"Description": "trial onset from the first volume", "Units": "s"},
        "duration": {"Description": f"image on time ({cfg.on_s:g} s; then {cfg.off_s:g} s "
                                    "fixation)", "Units": "s"},
        "trial_type": {"Description": "condition", "Levels": levels},
        "stim_file": {"Description": "image shown, relative to the stimuli/ folder"},
        "stim_id": {"Description": "stable image name in the follow-up design"},
        "parent": {"Description": "for an edit: stim_id of the positive it was made from"},
        "counter_concept": {"Description": "for a negative: the counter-concept it shows"},
        "repetition": {"Description": "how many times this image has been shown, counting "
                                      "this trial, over all runs in order"},
    }


def _conditions_rows(sel: Selection, trials: dict[str, int]) -> list[dict[str, Any]]:
    by = sel.by_condition()
    return [{"image": f"stimuli/{s.file}", "condition": s.condition, "label": s.name,
             "parent": s.parent or "", "counter_concept": s.counter_concept or "",
             "n_repeats": trials[s.condition] // len(by[s.condition]),
             "predicted_response": f"{s.response:.5f}", "text": s.text}
            for s in sel.stimuli]


def _sequence_rows(r: Run, sel: Selection, cfg: FollowupConfig) -> list[dict[str, Any]]:
    out = []
    for row in events_rows(r, sel, cfg):
        null = row["trial_type"] == BLANK
        out.append({"image": "" if null else f"stimuli/{row['stim_file']}",
                    "condition": row["trial_type"], "label": "" if null else row["stim_id"],
                    "onset": row["onset"], "duration": row["duration"]})
    return out


# ------------------------------------------------------------------ writing
def write_followup(design: FollowupDesign, run: RunDir) -> Path:
    """Write every file into a temporary folder beside ``run.path / "followup"`` and
    swap it into place."""
    from braincause.followup.protocol import protocol_markdown

    dest = run.path / "followup"
    tmp = Path(tempfile.mkdtemp(prefix=".followup.", suffix=".tmp", dir=run.path))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700 folders
    try:
        _write_all(tmp, design, run, protocol_markdown(design.data))
        _swap(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _write_all(folder: Path, design: FollowupDesign, run: RunDir, protocol: str) -> None:
    sel, cfg, data = design.selection, design.config, design.data
    (folder / "stimuli").mkdir()
    for s in sel.stimuli:
        shutil.copyfile(run.path / "stimuli" / s.source_file, folder / "stimuli" / s.file)
    for r, fname in zip(design.runs, data["files"]["events"], strict=True):
        (folder / fname).write_text(format_tsv(events_rows(r, sel, cfg), EVENT_COLUMNS))
        (folder / f"psychopy_run-{r.index:02d}.csv").write_text(
            _csv(_sequence_rows(r, sel, cfg), ["image", "condition", "label", "onset",
                                               "duration"]))
    (folder / data["files"]["events_sidecar"]).write_text(
        json.dumps(_events_sidecar(sel, cfg), indent=2, ensure_ascii=False) + "\n")
    (folder / "conditions.csv").write_text(
        _csv(_conditions_rows(sel, design.trials),
             ["image", "condition", "label", "parent", "counter_concept", "n_repeats",
              "predicted_response", "text"]))
    (folder / "design.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    (folder / "protocol.md").write_text(protocol)


def _swap(tmp: Path, dest: Path) -> None:
    """Replace ``dest`` by ``tmp``; an old ``dest`` is moved aside first, then removed."""
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=".followup.old.", dir=dest.parent))
        os.replace(dest, old / "followup")
    try:
        os.replace(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old / "followup", dest)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def design_files(folder: Path) -> list[str]:
    """The files (relative paths) a follow-up design wrote into ``folder``, as its
    ``design.json`` lists them; empty when there is no readable design.json."""
    try:
        data = json.loads((Path(folder) / "design.json").read_text(encoding="utf-8"))
        f = data["files"]
        names = [*f["events"], f["events_sidecar"], f["conditions"], f["protocol"],
                 *f["psychopy_sequences"], "design.json"]
        names += [f"stimuli/{s['file']}" for s in data.get("stimuli", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [n for n in names if isinstance(n, str) and ".." not in Path(n).parts]
