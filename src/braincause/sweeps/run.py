"""``braincause sweep``: many concepts × subjects on an engine, one answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braincause.config import LocalizeConfig
from braincause.engine import Outcome, Resources, make_engine, worker_state
from braincause.exceptions import UserInputError
from braincause.sweeps.evidence import FDR_METHODS, P_RULE, concept_p, q_values
from braincause.sweeps.plan import SweepTask, plan_sweep

__all__ = ["SWEEP_VERSION", "VOLATILE", "SweepResult", "default_resources", "sweep"]

#: Layout version of sweep.json.
SWEEP_VERSION = 1
#: The part of sweep.json that records how and when, not what (engine, timings).
VOLATILE = ("run",)
#: Kinds of the real backends that want a GPU (torch models of some size).
GPU_KINDS = frozenset({"diffusers", "inpaint", "clip", "vlm", "dinov2"})
DEFAULT_SPINS = 1000


@dataclass(frozen=True)
class SweepResult:
    """What a sweep made.

    Attributes
    ----------
    path : Path
        The sweep folder.
    data : dict
        The content of sweep.json.
    failed : list of dict
        The failed tasks (subject, query, error).
    """

    path: Path
    data: dict[str, Any] = field(repr=False)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """sweep.json's document.

        Returns
        -------
        dict
        """
        return self.data

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One entry per task (subject × concept)."""
        return self.data["tasks"]


def default_resources(cfg: LocalizeConfig, *, cpus: float | None = None,
                      gpus: float | None = None) -> Resources:
    """A task's resources: 1 CPU, and 1 GPU when a role uses a real torch model that
    wants one (diffusers, CLIP, a VLM, DINOv2) and ``backends.device`` is not
    ``"cpu"``.

    Parameters
    ----------
    cfg : LocalizeConfig
    cpus, gpus : float, optional
        Override the defaults.

    Returns
    -------
    Resources
    """
    kinds = set(cfg.backends.kinds(cfg.stimuli.verifier).values())
    want_gpu = bool(kinds & GPU_KINDS) and (cfg.backends.device or "cuda") != "cpu"
    return Resources(cpus=1.0 if cpus is None else cpus,
                     gpus=(1.0 if want_gpu else 0.0) if gpus is None else gpus)


# ------------------------------------------------------------------ one task (a worker)
def run_task(arg: dict[str, Any]) -> dict[str, Any]:
    """One ``localize`` run of the sweep into its folder (runs on a worker).

    The subject's prepared context (subject, encoder, roles with their models) stays
    in :func:`~braincause.engine.worker_state` for the worker's next task of the same
    subject and configuration.
    """
    from threadpoolctl import threadpool_limits

    from braincause.pipeline import data_source, localize, prepare_run
    from braincause.utils.threads import torch_threads

    cfg = LocalizeConfig.from_dict(arg["config"])
    key = (arg["subject"], cfg.hash(), arg["nsd_root"])
    state = worker_state()
    with threadpool_limits(arg["threads"]), torch_threads(arg["threads"]):
        data_source(arg["nsd_root"]).resolve(arg["query"])  # a bad query fails first
        if state.get("sweep_key") != key:
            state.pop("sweep_context", None)
            state["sweep_context"] = prepare_run(data_source(arg["nsd_root"]),
                                                 arg["subject"], cfg, use_cache=True)
            state["sweep_key"] = key
        res = localize(arg["query"], subject=arg["subject"], seed=arg["seed"], config=cfg,
                       out=arg["out"], report=arg["report"], nsd_root=arg["nsd_root"],
                       context=state["sweep_context"])
    return {"verdict": res.verdict}


# ------------------------------------------------------------------ the sweep
def sweep(concepts: Sequence[str], subjects: Sequence[str] = ("synth-01",), *,
          out: str | Path, seed: int = 0, config: LocalizeConfig | None = None,
          engine: str = "local", workers: int | None = None, address: str | None = None,
          resources: Resources | None = None, retry_failed: bool = False,
          fdr: str = "bh", q: float | None = None, n_spins: int = DEFAULT_SPINS,
          nsd_root: str | Path | None = None, report: bool = True,
          progress: Callable[[str], None] | None = None,
          on_task: Callable[[dict[str, Any], int, int], None] | None = None) -> SweepResult:
    """Run ``localize`` for every concept × subject and combine the runs.

    Writes ``out/<subject>/<concept>/`` (a localize run folder each), ``out/sweep.json``
    (every task's verdict, concept-level p and q-value, failures with their messages,
    cross-subject consistency) and ``out/index.html``. Resumable: a task whose run
    folder is complete (same query, seed and configuration) is read back, a task that
    failed before stays failed unless ``retry_failed``; sweep.json is rewritten after
    every task, so a killed sweep loses at most the tasks that were running.

    Parameters
    ----------
    concepts : sequence of str
        Concept queries (names, synonyms or free text, as ``localize`` takes them).
    subjects : sequence of str
        Synthetic subject ids, or NSD subjects with ``nsd_root``.
    out : path
        The sweep folder.
    seed : int
        Base seed; each task's seed is :func:`braincause.engine.task_seed` of (seed,
        concept), so results do not depend on the engine, the workers or the order.
    config : LocalizeConfig, optional
        Every run's configuration (default: localize's).
    engine : {"local", "ray"}
        Where the tasks run (:mod:`braincause.engine`).
    workers : int, optional
        Tasks at a time (default 2; an existing Ray cluster: as many as fit).
    address : str, optional
        An existing Ray cluster (``engine="ray"``); default a local one.
    resources : Resources, optional
        Per task (default :func:`default_resources`).
    retry_failed : bool
        Run again the tasks a previous run of this sweep recorded as failed.
    fdr : {"bh", "by"}
        Benjamini–Hochberg or Benjamini–Yekutieli q-values across each subject's
        concepts.
    q : float, optional
        FDR level of "discovery at FDR q" (default: the config's ``stats.alpha``).
    n_spins : int
        Rotations of the consistency spin test (0: none).
    nsd_root : path, optional
        Run on NSD (``localize``'s ``nsd_root``).
    report : bool
        Write each run's report.html (the page links to them).
    progress : callable, optional
        Called with one-line messages.
    on_task : callable, optional
        Called as ``on_task(row, n_finished, n_tasks)`` after every task.

    Returns
    -------
    SweepResult

    Raises
    ------
    UserInputError
        Bad input (before any run): no concept or subject, a bad option or config, an
        unwritable folder, Ray missing.
    """
    from braincause.boundary import check_float, check_int, check_output_dir, check_seed

    say = progress or (lambda _m: None)
    seed = check_seed(seed, "seed")
    cfg = config or LocalizeConfig()
    cfg.validate()
    if fdr not in FDR_METHODS:
        raise UserInputError(f"fdr must be one of {', '.join(FDR_METHODS)}, got {fdr!r}")
    level = cfg.stats.alpha if q is None else check_float(q, "q", 0, 1, lo_open=True,
                                                          hi_open=True)
    check_int(n_spins, "n_spins", 0, 100_000)
    root = check_output_dir(out, "out")
    tasks = plan_sweep(concepts, subjects, seed=seed)
    res = resources or default_resources(cfg)
    eng = make_engine(engine, workers=workers, resources=res, address=address)
    head = _header(tasks, cfg, seed, fdr, level, n_spins, nsd_root)
    previous = _previous_failures(root / "sweep.json", head)
    status: dict[int, dict[str, Any]] = {}
    todo: list[int] = []
    for i, t in enumerate(tasks):
        if _finished(root / t.folder, t, cfg, report):
            status[i] = {"status": "done", "resumed": True}
        elif not retry_failed and _key(t) in previous:
            status[i] = {"status": "failed", "error": previous[_key(t)], "resumed": True}
        else:
            todo.append(i)
    n_resumed = len(tasks) - len(todo)
    say(f"sweep: {len(tasks)} tasks ({len(head['concepts'])} concepts × "
        f"{len(head['subjects'])} subjects), {n_resumed} finished before, {len(todo)} to "
        f"run on {eng.name} in {root}")
    t0 = time.time()
    done_count = [0]

    def finished(i: int, entry: dict[str, Any]) -> None:
        entry["row"] = _row(tasks[i], entry, root)
        status[i] = entry
        done_count[0] += 1
        _write_json(root / "sweep.json", _document(head, tasks, status, root, cfg, fdr,
                                                   level, None, _run_block(eng, t0, status,
                                                                           tasks)))
        if on_task:
            on_task(entry["row"], done_count[0], len(tasks))

    for i in sorted(status):  # read back once
        status[i]["row"] = _row(tasks[i], status[i], root)
        if on_task:
            done_count[0] += 1
            on_task(status[i]["row"], done_count[0], len(tasks))
    if todo:
        args = [_task_arg(tasks[i], root, cfg, nsd_root, report, res) for i in todo]
        with eng:
            for o in eng.run(run_task, args):
                finished(todo[o.index], _entry(o))
    else:
        _write_json(root / "sweep.json", _document(head, tasks, status, root, cfg, fdr,
                                                   level, None,
                                                   _run_block(eng, t0, status, tasks)))
    groups: dict[str, dict[str, Path]] = {}
    for i, t in enumerate(tasks):
        if status[i]["status"] == "done":
            groups.setdefault(t.query, {})[t.subject] = root / t.folder
    say("cross-subject consistency" + (f" ({n_spins} spins)" if n_spins else ""))
    from braincause.sweeps.consistency import consistency

    cons = consistency(groups, n_spins=n_spins, seed=seed, out=root)
    doc = _document(head, tasks, status, root, cfg, fdr, level, cons,
                    _run_block(eng, t0, status, tasks))
    _write_json(root / "sweep.json", doc)
    from braincause.sweeps.page import write_page

    write_page(root, doc)
    failed = [{"subject": r["subject"], "query": r["query"], "error": r["error"]}
              for r in doc["tasks"] if r["status"] == "failed"]
    say(f"wrote {root / 'sweep.json'} and {root / 'index.html'}")
    return SweepResult(root, doc, failed)


# ------------------------------------------------------------------ helpers
def _header(tasks: list[SweepTask], cfg: LocalizeConfig, seed: int, fdr: str, level: float,
            n_spins: int, nsd_root: Any) -> dict[str, Any]:
    from braincause._version import __version__

    return {"sweep_version": SWEEP_VERSION, "braincause_version": __version__,
            "concepts": list(dict.fromkeys(t.query for t in tasks)),
            "subjects": list(dict.fromkeys(t.subject for t in tasks)),
            "seed": seed, "config_hash": cfg.hash(), "config": cfg.to_dict(),
            "data": "nsd" if nsd_root is not None else "synthetic",
            "fdr": {"method": fdr, "q": level, "family": "the concepts of one subject",
                    "p_value": P_RULE,
                    "discovery_at_fdr": "q ≤ the level and high measured coverage"},
            "n_spins": n_spins}


def _key(t: SweepTask) -> str:
    return f"{t.folder}:{t.seed}"


def _previous_failures(path: Path, head: dict[str, Any]) -> dict[str, str]:
    """Failed tasks of an earlier run of the same sweep (same configuration)."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(old, dict) or old.get("config_hash") != head["config_hash"]:
        return {}
    return {f"{r['folder']}:{r['seed']}": r.get("error") or "failed"
            for r in old.get("tasks", []) if isinstance(r, dict)
            and r.get("status") == "failed" and "folder" in r and "seed" in r}


def _finished(folder: Path, t: SweepTask, cfg: LocalizeConfig, report: bool) -> bool:
    """A complete run folder of this task (query, seed, configuration)."""
    if report and not (folder / "report.html").is_file():
        return False
    try:
        doc = json.loads((folder / "result.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(doc, dict) and doc.get("query") == t.query
            and doc.get("seed") == t.seed and doc.get("config_hash") == cfg.hash()
            and (folder / "maps.npz").is_file())


def _task_arg(t: SweepTask, root: Path, cfg: LocalizeConfig, nsd_root: Any, report: bool,
              res: Resources) -> dict[str, Any]:
    return {"subject": t.subject, "query": t.query, "seed": t.seed,
            "out": str(root / t.folder), "config": cfg.to_dict(),
            "nsd_root": None if nsd_root is None else str(nsd_root), "report": report,
            "threads": res.threads}


def _entry(o: Outcome) -> dict[str, Any]:
    if o.ok:
        return {"status": "done", "resumed": False, "elapsed_s": o.elapsed_s}
    msg = (o.error or "failed").strip().splitlines()
    return {"status": "failed", "error": msg[0][:500] if msg else "failed",
            "user_error": o.user_error, "resumed": False, "elapsed_s": o.elapsed_s}


def _row(t: SweepTask, entry: dict[str, Any], root: Path) -> dict[str, Any]:
    """The sweep.json entry of one task, read from its run folder when it finished
    (so a resumed task and a fresh one give the same entry)."""
    row: dict[str, Any] = {"subject": t.subject, "query": t.query, "seed": t.seed,
                           "folder": t.folder, "status": entry["status"]}
    if entry["status"] == "failed":
        row["error"] = entry.get("error")
        return row
    if entry["status"] != "done":
        return row
    doc = json.loads((root / t.folder / "result.json").read_text())
    v = doc.get("verdict") or {}
    p, tests = concept_p(v)
    sel = v.get("selectivity") or {}
    gt = doc.get("ground_truth") or {}
    row.update({
        "concept": (doc.get("concept") or {}).get("name"),
        "verdict": v.get("verdict"), "coverage": v.get("coverage"),
        "label": sel.get("label"),
        "shared_with": [e.get("name") for e in sel.get("shared_with") or []],
        "region_size": len((doc.get("region") or {}).get("voxels") or []),
        "p": round(p, 6), "gate_p": tests,
        "report": f"{t.folder}/report.html" if (root / t.folder / "report.html").is_file()
        else None,
    })
    if gt.get("causal"):
        row["ground_truth"] = {"n_true_voxels": gt.get("n_true_voxels"),
                               **{k: gt["causal"].get(k) for k in ("precision", "recall",
                                                                   "dice")}}
    return row


def _document(head: dict[str, Any], tasks: list[SweepTask], status: dict[int, dict],
              root: Path, cfg: LocalizeConfig, fdr: str, level: float,
              cons: dict[str, Any] | None, run: dict[str, Any]) -> dict[str, Any]:
    rows = [dict(status[i]["row"]) if "row" in status.get(i, {})
            else _row(t, status.get(i, {"status": "pending"}), root)
            for i, t in enumerate(tasks)]
    for s in head["subjects"]:  # q-values: one family per subject, finished runs
        mine = [r for r in rows if r["subject"] == s and r["status"] == "done"]
        for r, qv in zip(mine, q_values([r["p"] for r in mine], method=fdr), strict=True):
            r["q"] = round(float(qv), 6)
            r["discovery_at_fdr"] = bool(qv <= level and r["coverage"] == "high")
    rows.sort(key=lambda r: (r["subject"], r["query"]))
    summary = {}
    for s in head["subjects"]:
        mine = [r for r in rows if r["subject"] == s]
        summary[s] = {"tasks": len(mine),
                      "done": sum(r["status"] == "done" for r in mine),
                      "failed": sum(r["status"] == "failed" for r in mine),
                      "discoveries": sum(r.get("verdict") == "discovery" for r in mine),
                      "discoveries_at_fdr": sum(bool(r.get("discovery_at_fdr"))
                                                for r in mine)}
    return {**head, "complete": all(r["status"] in ("done", "failed") for r in rows),
            "summary": summary, "tasks": rows, "consistency": cons, "run": run}


def _run_block(eng: Any, t0: float, status: dict[int, dict], tasks: list[SweepTask]
               ) -> dict[str, Any]:
    ran = [e for e in status.values() if not e.get("resumed")]
    return {**eng.describe(), "wall_s": round(time.time() - t0, 1),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "tasks_run": len(ran), "tasks_resumed": len(status) - len(ran),
            "task_s": {tasks[i].name: e["elapsed_s"] for i, e in sorted(status.items())
                       if "elapsed_s" in e}}


def _write_json(path: Path, obj: Any) -> None:
    from braincause.utils import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode())
