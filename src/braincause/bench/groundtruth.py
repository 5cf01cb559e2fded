"""The ground-truth benchmark (SYNTHETIC_WORLD.md §4): five localization methods
against the synthetic subjects' known representations.

One ``localize`` run per (subject, concept) gives every method: all of them rank the
same voxels from the same stimuli (same encoder, same generated dataset, same
measured and pool retrieval), so activation-only and causal methods are compared on
the same budget.

=====================  ===========================  ==================================
method                 region (TRAIN split only)     concept-level "discovery"
=====================  ===========================  ==================================
``max_activation``     top-K of MAG                  region TRAIN S_pos > 0 (PAPER §2.7a)
``mindsimulator``      top-K of MAL                  region mean MAL > 0
``mindsimulator_vlm``  top-K of MALF                 region mean MALF > 0
``braincause_paper``   top-K of the combined         region TRAIN S_causal > 0
                       ranking (CEG+CSG+CSL+MALF+CSM) (PAPER §2.7b)
``braincause``         the same region               verdict == "discovery" (corrected
                                                     statistics, held-out data)
=====================  ===========================  ==================================

Against ground truth (:data:`braincause.synth.ground_truth.DEFINITION`) a concept is
*represented* in a subject when its true voxel set is non-empty. A discovery of a
represented concept is a true positive, of an unrepresented one a false positive;
``concept_tpr`` = TP / #represented pairs and ``concept_fpr`` = FP / #unrepresented
pairs (subject × concept, null subject excluded). A *located* true positive also has
region precision ≥ :data:`LOCATED_PRECISION`. Voxel precision / recall / Dice are
those of the top-K region against the true voxels, over represented pairs.
Known-area alignment is the fraction of a method's top 100 / 200 / 500 voxels inside
the planted areas tuned to the concept (:func:`tuned_areas`). Null family-wise error
is the fraction of runs on ``synth-null`` (no representation anywhere) with a
discovery.

Tasks run on an engine (:mod:`braincause.engine`: a local process pool or Ray, the
sweep's execution layer); each task's seed comes from (benchmark seed, concept,
repeat) only (:func:`task_seed`), never from worker order, and is the same for every
subject, so a concept's stimuli are generated once and shared by all subjects (as the
paper scores one generated dataset per concept in each subject). Each finished task is
written to its own JSON file, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from braincause.bench._common import ALIGN_K, METHODS
from braincause.bench.null import SMALL
from braincause.config import CRITERIA, LocalizeConfig
from braincause.evaluate.overlap import overlap as voxel_metrics
from braincause.exceptions import UserInputError
from braincause.regions import top_k
from braincause.runfolder import SCORES, RegionScores

__all__ = [
    "BENCH", "FULL_CONCEPTS", "METHODS", "QUICK_CONCEPTS", "SUBJECTS", "Task", "aggregate",
    "plan_tasks", "run_benchmark", "task_seed", "top_k", "tuned_areas", "voxel_metrics",
]

#: Table 1 columns (PAPER.md §6.2): the criteria, name -> (data block, score).
TABLE1 = CRITERIA
SUBJECTS = ("synth-01", "synth-02", "synth-03", "synth-04")
NULL_SUBJECT = "synth-null"
#: A true positive counts as *located* when its region's precision reaches this.
LOCATED_PRECISION = 0.5
#: Bump when the per-task record changes (invalidates resumed task files).
RECORD_VERSION = "gtb-6"

#: The benchmark configuration: :class:`~braincause.config.LocalizeConfig`'s defaults, the
#: sizes users run (the benchmark measures the product). The same for every method.
BENCH: dict[str, dict[str, Any]] = LocalizeConfig().to_dict()
#: ``--quick``: SMALL as it is (the smallest configuration the pipeline is run with).
QUICK: dict[str, dict[str, Any]] = {k: dict(v) for k, v in SMALL.items()}

#: Concepts with a non-empty ground truth in every synthetic subject (24), chosen to
#: cover every planted area family (faces, bodies, hands, food, tools, words, places)
#: and the cue-driven concepts the world represents (signs, water)...
REPRESENTED = ("human_face", "animal_face", "animals", "person", "hand", "leg", "body_parts",
               "food", "pizza", "fruit", "cake", "sandwich", "tools", "hammer", "scissors",
               "hands_in_action", "text", "printed_text", "handwritten_text", "signs",
               "traffic_sign", "mountain", "road", "water")
#: ...and concepts with no representation in any subject (20): the paper's false
#: positives (sky, person surfing), concepts whose cues have decoy areas (plate, bowl,
#: dishware, table, ball, sun, surfboard, beach), compositions and scenes.
UNREPRESENTED = ("sky", "plate", "table", "ball", "bowl", "dishware", "clock", "logo", "car",
                 "flower", "sun", "cloud", "person_surfing", "person_running",
                 "person_jumping", "social_interaction", "kitchen", "beach", "street",
                 "surfboard")
FULL_CONCEPTS = REPRESENTED + UNREPRESENTED
QUICK_CONCEPTS = ("human_face", "food", "sky", "plate")


# ------------------------------------------------------------------ tasks and seeds
@dataclass(frozen=True, order=True)
class Task:
    """One ``localize`` run: ``concept`` in ``subject`` with stimuli seed ``seed``.

    Attributes
    ----------
    subject : str
        Synthetic subject id.
    concept : str
        Concept name of the synthetic world.
    repeat : int
        0 for the run every subject shares; 1, 2… for the null subject's further runs.
    seed : int
        The ``localize`` seed (:func:`task_seed`).
    """

    subject: str
    concept: str
    repeat: int
    seed: int

    @property
    def name(self) -> str:
        """``subject/concept-r<repeat>``, for messages."""
        return f"{self.subject}/{self.concept}-r{self.repeat}"


def task_seed(seed: int, concept: str, repeat: int = 0) -> int:
    """The seed of a task: a function of (benchmark seed, concept, repeat) only.

    The subject is left out on purpose: every subject sees the same stimuli of a concept.

    Parameters
    ----------
    seed : int
        The benchmark's seed (:func:`run_benchmark`'s ``seed``).
    concept : str
    repeat : int, default=0

    Returns
    -------
    int
        In [0, 2**31): the first word of ``SeedSequence([seed, hash(concept), repeat])``,
        the concept hashed with SHA-256.
    """
    from braincause.engine import task_seed as seed_of

    return seed_of(seed, concept, repeat)


def plan_tasks(concepts: Sequence[str], subjects: Sequence[str], *, null_subject: str | None,
               null_repeats: int, seed: int) -> list[Task]:
    """Every task, subject-major: consecutive tasks are different concepts, so parallel
    workers rarely build the same concept's stimuli at the same time.

    Parameters
    ----------
    concepts : sequence of str
        Concept names.
    subjects : sequence of str
        Synthetic subject ids; each runs every concept once (repeat 0).
    null_subject : str or None
        A subject without representation that runs every concept ``null_repeats``
        times; None for none.
    null_repeats : int
        Runs of each concept on ``null_subject``.
    seed : int
        The benchmark's seed (see :func:`task_seed`).

    Returns
    -------
    list of Task
        Every (subject, concept) of repeat 0, then the null subject's repeats.
    """
    tasks = [Task(s, c, 0, task_seed(seed, c, 0)) for s in subjects for c in concepts]
    if null_subject is not None:
        tasks += [Task(null_subject, c, r, task_seed(seed, c, r))
                  for r in range(null_repeats) for c in concepts]
    return tasks


# ------------------------------------------------------------------ metric functions
def tuned_areas(concept: str, areas: Sequence[Any]) -> list[str]:
    """The planted areas tuned to ``concept``: those whose tuning includes a semantic
    feature (:data:`braincause.synth.features.SEMANTIC`) of one of its categories
    (faces → FFA, OFA, pSTS-face; person → EBA, FBA; hand → EBA, tool area; …). Empty
    for concepts without a semantic feature (scenes, sky, signs…).

    Parameters
    ----------
    concept : str
        A concept name of the synthetic world.
    areas : sequence of Area
        A subject's areas (``TrueBrain.areas``).

    Returns
    -------
    list of str
        Names of the tuned planted areas, in the order of ``areas``.
    """
    from braincause.synth.concepts import CONCEPTS
    from braincause.synth.features import SEMANTIC

    members = set(CONCEPTS[concept].members)
    feats = {f for f, cats in SEMANTIC.items() if members & set(cats)}
    return [a.name for a in areas if a.kind == "planted" and feats & set(a.tuning)]


def alignment(ranking: np.ndarray, keep: np.ndarray, inside: np.ndarray,
              ks: Sequence[int] = ALIGN_K) -> dict[str, float]:
    """Fraction of the top ``k`` ranked voxels (among ``keep``) inside ``inside``."""
    order = top_k(ranking, keep, max(ks))
    return {str(k): float(inside[order[:k]].mean()) if len(order) else math.nan for k in ks}


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial confidence interval of k / n."""
    from scipy.stats import beta

    if n == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


# ------------------------------------------------------------------ one task
_CTX: dict[str, Any] = {}


def _context(subject: str, cfg: LocalizeConfig):
    """:func:`braincause.pipeline.prepare_run` of ``subject``, once per worker and subject
    (what the warm-up builds into the disk cache)."""
    from braincause.pipeline import SyntheticWorld, prepare_run

    key = f"{subject}:{cfg.hash()}"
    if _CTX.get("key") != key:
        _CTX.clear()
        _CTX.update(key=key, ctx=prepare_run(SyntheticWorld(), subject, cfg, use_cache=True))
    return _CTX["ctx"]


def _fin(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return round(x, 6) if math.isfinite(x) else None


def evaluate_run(result: Any, *, task: Task, cfg: LocalizeConfig, subject_areas: Sequence[Any],
                 rescore: bool = True) -> dict[str, Any]:
    """The per-method record of one ``localize`` result (see the module docstring)."""
    rec, maps = result.record, result.maps
    keep, truth = maps["keep"].astype(bool), maps["truth"].astype(bool)
    n_vox, k = len(keep), cfg.region.k
    tuned = tuned_areas(task.concept, subject_areas)
    inside = np.zeros(n_vox, bool)
    for a in subject_areas:
        if a.name in tuned:
            inside |= a.extent
    regions: dict[str, np.ndarray] = {}
    for m, (_label, sig, _rule) in METHODS.items():
        if m in ("braincause", "braincause_paper"):
            vox = np.asarray(rec.region.voxels, int)  # the region the verdict is about
        elif m == "max_activation":
            vox = np.asarray(rec.activation_region.voxels, int)
        else:
            vox = top_k(maps[f"signal_{sig}"], keep, k)
        mask = np.zeros(n_vox, bool)
        mask[vox] = True
        regions[m] = mask
    scored = {"braincause": rec.region.scores, "max_activation": rec.activation_region.scores}
    if rescore:  # the other methods' regions, scored by localize's own stage function
        from braincause.pipeline import score_region

        art = result.artifacts
        for m in ("mindsimulator", "mindsimulator_vlm"):
            sc = score_region(art.ctx, art.evidence, regions[m])
            scored[m] = RegionScores.from_dict(sc) if sc else None

    def value(sc: RegionScores | None, block: str, s: str) -> float | None:
        return None if sc is None else sc.value(block, s)

    represented = bool(truth.any())
    verdict = rec.verdict.verdict
    p_all = all(v.p is not None and v.p <= cfg.stats.alpha for v in rec.p_causal.values())
    methods: dict[str, Any] = {}
    for m, (_label, sig, rule) in METHODS.items():
        mask = regions[m]
        sc = scored.get("braincause" if m == "braincause_paper" else m)
        table = {c: _fin(value(sc, b, s)) for c, (b, s) in TABLE1.items()}
        own = float(np.nanmean(maps[f"signal_{sig}"][mask])) if mask.any() else math.nan
        if rule == "activation":
            train_score = own
            discovered = bool(train_score > 0)
        elif rule == "train_causal":
            train_score = value(sc, "train_generated", "s_causal")
            discovered = train_score is not None and train_score > 0
        else:
            train_score = value(sc, "train_generated", "s_causal")
            discovered = verdict == "discovery"
        eval_causal = value(sc, "eval_generated", "s_causal")
        vm = voxel_metrics(mask, truth)
        methods[m] = {
            "discovered": bool(discovered),
            "ranking_score": _fin(own),
            "train_score": _fin(train_score),
            "train": {s: _fin(value(sc, "train_generated", s)) for s in SCORES},
            "eval_causal": _fin(eval_causal),
            "paper_outcome": ("withheld" if not discovered else
                              "TP" if eval_causal is not None and eval_causal > 0 else "FP"),
            "table1": table,
            **{key: _fin(v) for key, v in vm.items()},
            "alignment": ({kk: _fin(v) for kk, v in
                           alignment(maps[f"signal_{sig}"], keep, inside).items()}
                          if tuned else None),
        }
    cp = keep & (maps["s_causal"] > 0)
    vw = rec.sections.get("voxelwise", {})
    return {
        "record_version": RECORD_VERSION, "subject": task.subject, "concept": task.concept,
        "repeat": task.repeat, "seed": task.seed, "null": len(subject_areas) == 0,
        "represented": represented, "n_true_voxels": int(truth.sum()),
        "n_voxels_kept": int(keep.sum()), "tuned_areas": tuned,
        "verdict": verdict, "activation_verdict": rec.sections.get("activation_verdict"),
        "coverage_level": rec.coverage["level"],
        "p_values": {c: v.p for c, v in rec.p_causal.items()},
        "paper_p_all_criteria": bool(p_all),
        "paper_verdict": rec.verdict.paper_verdict,
        "label": rec.verdict.label,
        "shared_with": rec.verdict.shared_with,
        "passes": _passes(rec.verdict),
        "gate_statistics": _gate_statistics(rec.verdict),
        "decoy_fraction": ({k: (rec.ground_truth.to_dict().get(k) or {}).get("inside_decoys")
                            for k in ("causal", "activation")}
                           if rec.ground_truth is not None else None),
        "voxelwise_fwer": {t: int(v["n_significant_fwer"]) for t, v in vw.items()
                           if isinstance(v, dict) and "n_significant_fwer" in v},
        "voxelwise_fdr": {t: int(v["n_significant_fdr"]) for t, v in vw.items()
                          if isinstance(v, dict) and "n_significant_fdr" in v},
        "causal_positive_region": {"size": int(cp.sum()),
                                   **{kk: _fin(v) for kk, v in voxel_metrics(cp, truth).items()}},
        "methods": methods,
        "regions": {m: np.flatnonzero(r).tolist() for m, r in regions.items()},
        "rankings": {sig: top_k(maps[f"signal_{sig}"], keep, max(ALIGN_K)).tolist()
                     for sig in sorted({v[1] for v in METHODS.values()})},
    }


def _gate_statistics(v) -> dict[str, Any] | None:
    """The causal gate's effect sizes and p-values (for choosing and checking its rule
    on the records, without re-running)."""
    if not v.gate:
        return None
    return {"train": v.gate.get("train_statistic"),
            **{t: {"statistic": e.get("statistic"), "p": e.get("p")}
               for t, e in v.gate["tests"].items()}}


def _passes(v) -> dict[str, bool]:
    """Which test passed: the causal gate's (and its TRAIN candidate check) and each
    of the paper's criteria under the paper's rule."""
    out = {f"paper:{c}": bool(e.get("passes")) for c, e in (v.criteria or {}).items()}
    if v.gate:
        out["candidate"] = bool(v.gate.get("candidate"))
        out.update({t: bool(e["passes"]) for t, e in v.gate["tests"].items()})
    return out


def _record_key(task: Task, cfg: LocalizeConfig) -> str:
    blob = json.dumps([RECORD_VERSION, cfg.hash(), task.subject, task.concept, task.seed])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _task_path(work: Path, task: Task) -> Path:
    return work / "tasks" / task.subject / f"{task.concept}-r{task.repeat}.json"


def _limit_threads() -> Any:
    """One thread per worker: with several processes on few cores, torch's and BLAS's
    thread pools fight (a MiniLM query embedding takes 0.24 s with 2 threads on a busy
    2-core machine, 0.012 s with 1)."""
    import torch
    from threadpoolctl import threadpool_limits

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    return old, threadpool_limits(1)


def _finished(work: Path, task: Task, cfg: LocalizeConfig) -> bool:
    """Whether ``task`` has a readable record of this configuration in ``work``."""
    try:
        return json.loads(_task_path(work, task).read_text()).get("key") == _record_key(task, cfg)
    except (OSError, ValueError):
        return False


def run_task(task: Task, config: dict[str, Any], work: str) -> dict[str, Any]:
    """Run one task (or read its finished record) and return the record."""
    from braincause.pipeline import localize
    from braincause.utils import atomic_write_bytes

    cfg = LocalizeConfig.from_dict(config)
    path = _task_path(Path(work), task)
    key = _record_key(task, cfg)
    if path.is_file():
        try:
            rec = json.loads(path.read_text())
            if rec.get("key") == key:
                rec["resumed"] = True
                return rec
        except (OSError, ValueError):
            pass  # unreadable: run again
    import torch

    old, limits = _limit_threads()
    try:
        t0 = time.time()
        res = localize(task.concept, subject=task.subject, seed=task.seed, config=cfg,
                       out=None, report=False, followup=False, use_cache=True)
        t1 = time.time()
        areas = res.artifacts.ctx.subj.brain.areas
        rec = evaluate_run(res, task=task, cfg=cfg, subject_areas=areas)
        rec.update(key=key, localize_s=round(t1 - t0, 2),
                   elapsed_s=round(time.time() - t0, 2))
    finally:
        torch.set_num_threads(old)
        limits.restore_original_limits()
    atomic_write_bytes(path, json.dumps(rec).encode())
    rec["resumed"] = False
    return rec


def _run_task_job(args: tuple[Task, dict[str, Any], str]) -> dict[str, Any]:
    """:func:`run_task` of one engine argument."""
    return run_task(*args)


def _warm_up_job(args: tuple[str, str, dict[str, Any]]) -> None:
    """:func:`warm_up` of one engine argument."""
    warm_up(*args)


def warm_jobs(tasks: Sequence[Task], cfg: LocalizeConfig) -> list[tuple[str, str]]:
    """What the tasks share, as jobs that can run in parallel before them: each subject
    (simulation, encoder, verifier, caption index) and each baseline concept's stimuli,
    subjects first (the longest). Without them the first task of each subject builds
    these alone while the other workers wait on, or repeat, the same work."""
    from braincause.backends import build_roles
    from braincause.pipeline import synthetic_baselines

    writer = build_roles(cfg, use_cache=True).writer
    subjects = list(dict.fromkeys(t.subject for t in tasks))
    baselines = list(dict.fromkeys(b for c in dict.fromkeys(t.concept for t in tasks)
                                   for b in synthetic_baselines(c, cfg, writer)))
    return [("subject", s) for s in subjects] + [("baseline", b) for b in baselines]


def warm_up(kind: str, name: str, config: dict[str, Any]) -> None:
    """Build (into the disk cache) one job of :func:`warm_jobs`."""
    from braincause.pipeline import build_baseline_dataset

    cfg = LocalizeConfig.from_dict(config)
    old, limits = _limit_threads()
    try:
        if kind == "subject":
            _context(name, cfg)
        elif kind == "baseline":
            if _ROLES.get("key") != cfg.hash():
                from braincause.backends import build_roles

                built = build_roles(cfg, use_cache=True)
                built.verifier = built.verifier.fit()
                _ROLES.update(key=cfg.hash(), roles=built.as_kwargs())
            build_baseline_dataset(name, _ROLES["roles"], cfg, use_cache=True)
        else:
            raise ValueError(f"unknown warm-up job {kind!r}")
    finally:
        import torch

        torch.set_num_threads(old)
        limits.restore_original_limits()


_ROLES: dict[str, Any] = {}


# ------------------------------------------------------------------ aggregation
def _rate(k: int, n: int) -> dict[str, Any]:
    lo, hi = clopper_pearson(k, n)
    return {"value": _fin(k / n) if n else None, "k": int(k), "n": int(n),
            "ci95": [_fin(lo), _fin(hi)]}


def _mean(xs: Sequence[float | None]) -> float | None:
    v = [x for x in xs if x is not None and math.isfinite(x)]
    return _fin(float(np.mean(v))) if v else None


def _median(xs: Sequence[float | None]) -> float | None:
    v = [x for x in xs if x is not None and math.isfinite(x)]
    return _fin(float(np.median(v))) if v else None


def _method_summary(m: str, pairs: list[dict], nulls: list[dict], n_top: int,
                    k: int = 100) -> dict[str, Any]:
    rec = [r["methods"][m] for r in pairs]
    rep = [r["methods"][m] for r in pairs if r["represented"]]
    neg = [r["methods"][m] for r in pairs if not r["represented"]]
    tp = sum(x["discovered"] for x in rep)
    located = sum(x["discovered"] and (x["precision"] or 0) >= LOCATED_PRECISION for x in rep)
    fp = sum(x["discovered"] for x in neg)
    n_all = len(rec)
    out: dict[str, Any] = {
        "label": METHODS[m][0], "ranking": METHODS[m][1], "rule": METHODS[m][2],
        "concept_fpr": _fin(fp / len(neg)) if neg else None,
        "concept_tpr": _fin(tp / len(rep)) if rep else None,
        "concept_tpr_located": _fin(located / len(rep)) if rep else None,
        "voxel_precision_top100": _mean([x["precision"] for x in rep]),
        "voxel_precision_top100_large": _mean([r["methods"][m]["precision"] for r in pairs
                                               if r["n_true_voxels"] >= k]),
        "voxel_recall_top100": _mean([x["recall"] for x in rep]),
        "voxel_dice_top100": _mean([x["dice"] for x in rep]),
        "null_fwer": (_fin(sum(x["methods"][m]["discovered"] for x in nulls) / len(nulls))
                      if nulls else None),
        "concept_level": {
            "pairs": n_all, "represented": len(rep), "not_represented": len(neg),
            "discoveries": sum(x["discovered"] for x in rec), "true_positives": tp,
            "true_positives_located": located, "false_positives": fp,
            "withheld": sum(not x["discovered"] for x in rec),
            "fpr": _rate(fp, len(neg)), "tpr": _rate(tp, len(rep)),
            "tpr_located": _rate(located, len(rep)),
            "false_discovery_fraction": _fin(fp / max(1, fp + tp)) if fp + tp else None,
        },
        "paper_bookkeeping": {
            "definition": "PAPER.md §2.7: discovered and EVAL-split S_causal > 0 = 'TP', "
                          "discovered and ≤ 0 = 'FP', else withheld; fractions of all "
                          "subject × concept pairs (not against ground truth)",
            **{k: _fin(sum(x["paper_outcome"] == o for x in rec) / n_all) if n_all else None
               for k, o in (("tp", "TP"), ("fp", "FP"), ("withheld", "withheld"))}},
        "voxel_level": {
            stat: {"mean": _mean([x[stat] for x in rep]), "median": _median([x[stat]
                                                                            for x in rep])}
            for stat in ("precision", "recall", "dice")},
        "alignment": {k: _mean([x["alignment"][k] for x in rep if x["alignment"]])
                      for k in map(str, ALIGN_K)},
        "null": {"runs": len(nulls), "fwer": _rate(sum(x["methods"][m]["discovered"]
                                                       for x in nulls), len(nulls))},
    }
    by_subj: dict[str, list[dict]] = {}
    for r in pairs:
        by_subj.setdefault(r["subject"], []).append(r)
    tops = []
    for _s, rs in sorted(by_subj.items()):
        ranked = sorted(rs, key=lambda r: (-(r["methods"][m]["train_score"]
                                             if r["methods"][m]["train_score"] is not None
                                             else -math.inf), r["concept"]))
        tops += ranked[:n_top]
    out["table1"] = {
        "top": {c: _mean([r["methods"][m]["table1"][c] for r in tops]) for c in TABLE1},
        "all": {c: _mean([r["methods"][m]["table1"][c] for r in pairs]) for c in TABLE1},
        "n_top_per_subject": n_top,
    }
    return out


def missed_reasons(records: Sequence[dict[str, Any]], *, alpha: float = 0.05,
                   required: Sequence[str] = ("causal_gen", "edits", "causal_meas")
                   ) -> dict[str, int]:
    """Why ``braincause`` withheld the represented pairs it did not discover: how many
    fail each requirement of the verdict (a pair can fail several). ``measured CI only``:
    every listed requirement passed, so the held-out measured CI (or another cut-off)
    decided."""
    out = {"pairs": 0, "coverage not high": 0, "TRAIN S_causal ≤ 0": 0,
           **{f"{c} p > α": 0 for c in required}, "measured CI only": 0}
    for r in records:
        if r["null"] or r["repeat"] or not r["represented"] or \
                r["methods"]["braincause"]["discovered"]:
            continue
        out["pairs"] += 1
        fails = []
        if r.get("coverage_level") != "high":
            fails.append("coverage not high")
        sc = r["methods"]["braincause"]["train_score"]
        if sc is None or sc <= 0:
            fails.append("TRAIN S_causal ≤ 0")
        for c in required:
            p = r["p_values"].get(c)
            if p is None or p > alpha:
                fails.append(f"{c} p > α")
        for f in fails or ["measured CI only"]:
            out[f] += 1
    return out


def aggregate(records: Sequence[dict[str, Any]], *, n_top: int | None = None,
              k: int = 100, alpha: float = 0.05,
              required: Sequence[str] = ("causal_gen", "edits", "causal_meas")
              ) -> dict[str, Any]:
    """Summary of task records: ``methods``, ``per_subject``, ``per_concept``, ``alignment``
    by area family, and the null subject's family-wise error.

    Parameters
    ----------
    records : sequence of dict
        Task records (what a task writes: verdict, per-method metrics, null flags…).
    n_top : int, optional
        Concepts per subject in Table 1's "top" rows (default: the paper's 50 of 260,
        scaled to the number of concepts).
    k : int, default=100
        The region size the voxel metrics are reported at.
    alpha : float, default=0.05
        The verdict's significance level (for :func:`missed_reasons`).
    required : sequence of str, default=("causal_gen", "edits", "causal_meas")
        The verdict's required criteria (for :func:`missed_reasons`).

    Returns
    -------
    dict
        ``methods``, ``per_subject``, ``per_concept``, ``alignment_by_areas``,
        ``null_calibration`` and ``variants`` (the blocks of benchmark.json).
    """
    recs = sorted(records, key=lambda r: (r["subject"], r["concept"], r["repeat"]))
    pairs = [r for r in recs if not r["null"] and r["repeat"] == 0]
    nulls = [r for r in recs if r["null"]]
    concepts = sorted({r["concept"] for r in pairs} | {r["concept"] for r in nulls})
    if n_top is None:
        n_top = max(1, round(len({r["concept"] for r in pairs}) * 50 / 260))
    methods = {m: _method_summary(m, pairs, nulls, n_top, k) for m in METHODS}
    per_subject = {}
    for s in sorted({r["subject"] for r in pairs}):
        rs = [r for r in pairs if r["subject"] == s]
        per_subject[s] = {m: {k: v for k, v in _method_summary(m, rs, [], n_top).items()
                              if k in ("concept_fpr", "concept_tpr", "concept_tpr_located",
                                       "voxel_precision_top100", "voxel_dice_top100")}
                          for m in METHODS}
    per_concept = {}
    for c in concepts:
        rs = [r for r in pairs if r["concept"] == c]
        ns = [r for r in nulls if r["concept"] == c]
        per_concept[c] = {
            "n_true_voxels": {r["subject"]: r["n_true_voxels"] for r in rs},
            "tuned_areas": sorted({a for r in rs for a in r["tuned_areas"]}),
            "verdicts": {r["subject"]: r["verdict"] for r in rs},
            "null_verdicts": [r["verdict"] for r in ns],
            "methods": {m: {r["subject"]: {k: r["methods"][m][k] for k in
                                           ("discovered", "precision", "recall", "dice",
                                            "train_score", "eval_causal")}
                            for r in rs} for m in METHODS},
        }
    families: dict[str, list[dict]] = {}
    for r in pairs:
        if r["tuned_areas"] and r["represented"]:
            families.setdefault("+".join(sorted(r["tuned_areas"])), []).append(r)
    align = {fam: {"concepts": sorted({r["concept"] for r in rs}), "pairs": len(rs),
                   **{m: {k: _mean([r["methods"][m]["alignment"][k] for r in rs])
                          for k in map(str, ALIGN_K)} for m in METHODS}}
             for fam, rs in sorted(families.items())}
    vw: dict[str, Any] = {}
    tests = sorted({t for r in nulls for t in r["voxelwise_fwer"]})
    for t in tests:
        rs = [r for r in nulls if t in r["voxelwise_fwer"]]
        vw[t] = _rate(sum(r["voxelwise_fwer"][t] > 0 for r in rs), len(rs))
    if nulls:
        vw["any"] = _rate(sum(any(v > 0 for v in r["voxelwise_fwer"].values()) for r in nulls),
                          len(nulls))
    cp = [r["causal_positive_region"] for r in pairs if r["represented"]]
    paper_p = pairs
    return {
        "methods": methods,
        "per_subject": per_subject,
        "per_concept": per_concept,
        "alignment_by_areas": align,
        "null_calibration": {
            "runs": len(nulls), "verdicts": _count([r["verdict"] for r in nulls]),
            "voxelwise_max_t_fwer": vw,
            "paper_p_all_criteria": _rate(sum(r["paper_p_all_criteria"] for r in nulls),
                                          len(nulls)),
        },
        "variants": {
            "braincause_paper_causal_positive_region": {
                "definition": "region = every kept voxel with TRAIN S_causal > 0 (the "
                              "paper's binary map), represented pairs",
                "size": _mean([x["size"] for x in cp]),
                **{k: _mean([x[k] for x in cp]) for k in ("precision", "recall", "dice")}},
            "braincause_paper_p_all_criteria": {
                "definition": "discovery = all five baseline-concept p ≤ alpha (the "
                              "paper's strictest use of its test, no correction)",
                "fpr": _rate(sum(r["paper_p_all_criteria"] for r in paper_p
                                 if not r["represented"]),
                             sum(not r["represented"] for r in paper_p)),
                "tpr": _rate(sum(r["paper_p_all_criteria"] for r in paper_p
                                 if r["represented"]), sum(r["represented"] for r in paper_p)),
            },
        },
        "voxel_precision_ceiling": {
            "definition": f"mean over represented pairs of min(1, true voxels / {k}): the "
                          f"best top-{k} precision any method can reach",
            "value": _mean([min(1.0, r["n_true_voxels"] / k) for r in pairs
                            if r["represented"]]),
            "pairs_with_at_least_k_true_voxels": sum(r["n_true_voxels"] >= k for r in pairs)},
        "braincause_missed": missed_reasons(recs, alpha=alpha, required=required),
        "power": power_table(pairs, nulls),
        "decoy_fraction": {
            "definition": "mean fraction of a region's voxels inside the decoy areas (cue-only "
                          "areas), over every non-null run",
            **{k: _mean([(r.get("decoy_fraction") or {}).get(k) for r in pairs])
               for k in ("causal", "activation")}},
        "paper_rule": {
            "definition": "the paper's verdict rule (baseline-concept criteria) on the same "
                          "region, reported beside braincause's causal gate",
            **_verdict_rates(pairs, nulls, "paper_verdict")},
        "labels": {c: {r["subject"]: (r.get("label"), r.get("shared_with"))
                       for r in pairs if r["concept"] == c and r["verdict"] == "discovery"}
                   for c in sorted({r["concept"] for r in pairs})},
        "activation_region_verdict": {
            "definition": "braincause's corrected verdict applied to the Max Activation "
                          "(MAG) region, which localize tests beside its own",
            **_verdict_rates(pairs, nulls, "activation_verdict")},
    }


def _verdict_rates(pairs: Sequence[dict[str, Any]], nulls: Sequence[dict[str, Any]],
                   key: str) -> dict[str, Any]:
    """FPR, TPR and null FWER of the discoveries recorded under ``key``."""
    def found(rs) -> int:
        return sum(r.get(key) == "discovery" for r in rs)

    rep = [r for r in pairs if r["represented"]]
    neg = [r for r in pairs if not r["represented"]]
    return {"fpr": _rate(found(neg), len(neg)), "tpr": _rate(found(rep), len(rep)),
            "null_fwer": _rate(found(nulls), len(nulls))}


def power_table(pairs: Sequence[dict[str, Any]], nulls: Sequence[dict[str, Any]]
                ) -> dict[str, Any]:
    """Per test (the causal gate's, the paper's criteria under its rule), the fraction of
    runs in which it passes, among represented, unrepresented and null-subject runs.

    Parameters
    ----------
    pairs : sequence of dict
        Non-null task records.
    nulls : sequence of dict
        Null-subject task records.

    Returns
    -------
    dict
        ``{test: {"represented", "unrepresented", "null"}}``, each a rate with its
        Clopper–Pearson interval.
    """
    groups = {"represented": [r for r in pairs if r["represented"]],
              "unrepresented": [r for r in pairs if not r["represented"]],
              "null": list(nulls)}
    tests = sorted({t for rs in groups.values() for r in rs for t in r.get("passes", {})})
    return {t: {g: _rate(sum(bool(r.get("passes", {}).get(t)) for r in rs), len(rs))
                for g, rs in groups.items()} for t in tests}


def _count(xs: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in xs:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))


# ------------------------------------------------------------------ the benchmark
def run_benchmark(*, concepts: Sequence[str] = FULL_CONCEPTS,
                  subjects: Sequence[str] = SUBJECTS, null_subject: str | None = NULL_SUBJECT,
                  null_repeats: int = 2, config: dict[str, Any] | None = None,
                  seed: int = 0, workers: int = 2, work: str | Path | None = None,
                  resume: bool = True, out: str | Path | None = None, quick: bool = False,
                  progress: Callable[[str], None] | None = None,
                  base_seed: int | None = None, engine: str = "local",
                  address: str | None = None) -> dict[str, Any]:
    """Run every task, aggregate, and (with ``out``) write ``benchmark.json``,
    ``benchmark.md`` and ``benchmark.png``.

    Parameters
    ----------
    concepts, subjects : sequences of str
        Concept names of the synthetic world and synthetic subject ids.
    null_subject : str or None
        Subject with no representation; every concept runs ``null_repeats`` times on it
        (repeat 0 shares the other subjects' stimuli, later repeats draw new ones).
    null_repeats : int, default=2
        Runs of each concept on ``null_subject`` (≥ 0).
    config : dict
        A :class:`~braincause.config.LocalizeConfig` as a dict (default :data:`BENCH`).
    seed : int, default=0
        The benchmark's seed; task seeds derive from it (:func:`task_seed`).
    workers : int
        Tasks at a time (local engine, 1: in this process). Results do not depend on it.
    work : path
        Folder of the per-task records (default: ``<cache>/benchmark/<config hash>``).
    resume : bool
        Reuse finished task records of the same configuration and seed.
    out : path, optional
        Folder to write ``benchmark.json``, ``benchmark.md`` and ``benchmark.png`` into.
    quick : bool, default=False
        Recorded in the result: whether this is the ``--quick`` configuration.
    progress : callable, optional
        Called with a one-line message at each step and finished task.
    base_seed : int, optional
        Deprecated alias of ``seed`` (a DeprecationWarning).
    engine : {"local", "ray"}, default="local"
        Where the tasks run (:func:`braincause.engine.make_engine`); results do not
        depend on it.
    address : str, optional
        With ``engine="ray"``: an existing Ray cluster (default: a local one).

    Returns
    -------
    dict
        The content of ``benchmark.json``: settings, seeds, the :func:`aggregate`
        blocks and run statistics.

    Raises
    ------
    UserInputError
        An unknown concept, ``workers < 1``, ``null_repeats < 0`` or nothing to run.
    """
    if base_seed is not None:
        warnings.warn("run_benchmark(base_seed=...) is deprecated; use seed=...",
                      DeprecationWarning, stacklevel=2)
        seed = base_seed
    from braincause.synth.concepts import CONCEPTS
    from braincause.utils import cache_dir

    say = progress or (lambda _m: None)
    config = BENCH if config is None else config
    cfg = LocalizeConfig.from_dict(config)
    cfg.validate()
    unknown = [c for c in concepts if c not in CONCEPTS]
    if unknown:
        raise UserInputError(f"unknown benchmark concept(s) {unknown}: use concept names "
                             "from `braincause concepts`")
    if workers < 1:
        raise UserInputError(f"workers must be ≥ 1, got {workers}")
    if null_repeats < 0:
        raise UserInputError(f"null_repeats must be ≥ 0, got {null_repeats}")
    tasks = plan_tasks(list(concepts), list(subjects), null_subject=null_subject,
                       null_repeats=null_repeats, seed=seed)
    if not tasks:
        raise UserInputError("nothing to run: give at least one concept and one subject")
    work = Path(work) if work is not None else cache_dir() / "benchmark" / cfg.hash()
    if not resume:
        for t in tasks:
            _task_path(work, t).unlink(missing_ok=True)
    cfg_dict = cfg.to_dict()
    t0 = time.time()
    records: list[dict[str, Any]] = []
    t_tasks = [t0]  # when the tasks started (after the warm-up), for the time-left estimate

    def done(rec: dict[str, Any]) -> None:
        records.append(rec)
        n = len(records)
        el = time.time() - t0
        eta = (time.time() - t_tasks[0]) / n * (len(tasks) - n)
        say(f"[{n}/{len(tasks)}] {rec['subject']} {rec['concept']} r{rec['repeat']}: "
            f"{rec['verdict']}{' (resumed)' if rec.get('resumed') else ''} "
            f"{rec.get('elapsed_s', 0):.0f} s; elapsed {el / 60:.1f} min, "
            f"left ~{eta / 60:.1f} min")

    say(f"benchmark: {len(tasks)} tasks ({len(concepts)} concepts × {len(subjects)} subjects"
        + (f" + {null_subject} × {null_repeats}" if null_subject else "")
        + f"), {workers} worker(s), records in {work}")
    from braincause.engine import make_engine

    with make_engine(engine, workers=workers, address=address) as eng:
        todo = [t for t in tasks if not _finished(work, t, cfg)]
        if todo and eng.workers > 1:
            jobs = warm_jobs(todo, cfg)
            say(f"warm-up: {len(jobs)} shared builds (subjects, baseline stimuli) "
                "in parallel")
            for o in eng.run(_warm_up_job, [(kind, nm, cfg_dict) for kind, nm in jobs]):
                o.unwrap()
            say(f"warm-up done in {(time.time() - t0) / 60:.1f} min")
        t_tasks[0] = time.time()
        for o in eng.run(_run_task_job, [(t, cfg_dict, str(work)) for t in tasks]):
            done(o.unwrap())
        ran_on = eng.describe()
    wall = time.time() - t0
    summary = aggregate(records, k=cfg.region.k, alpha=cfg.stats.alpha,
                        required=(*cfg.verdict.require_generated,
                                  *cfg.verdict.require_measured))
    ran = [r for r in records if not r.get("resumed")]
    result = {
        "benchmark": "braincause ground-truth benchmark (SYNTHETIC_WORLD.md §4)",
        "quick": bool(quick),
        "ground_truth_definition": _definition(),
        "represented_means": "a concept is represented in a subject when its ground-truth "
                             "voxel set is non-empty",
        "located_precision": LOCATED_PRECISION,
        "concepts": list(concepts), "subjects": list(subjects), "null_subject": null_subject,
        "null_repeats": null_repeats, "base_seed": seed,
        "seeds": {c: task_seed(seed, c, 0) for c in concepts},
        "config": cfg_dict, "config_hash": cfg.hash(), "region_k": cfg.region.k,
        "alpha": cfg.stats.alpha,
        **summary,
        "run": {"wall_s": round(wall, 1), "workers": ran_on["workers"],
                "engine": ran_on["engine"], "tasks": len(tasks),
                "tasks_run": len(ran), "tasks_resumed": len(records) - len(ran),
                "task_s_mean": _mean([r["elapsed_s"] for r in ran]),
                "task_s_sum": _fin(sum(r["elapsed_s"] for r in records)),
                "cpus": os.cpu_count(), "load_avg_end": [round(x, 2) for x in os.getloadavg()],
                "date": time.strftime("%Y-%m-%d"), "work": str(work)},
    }
    result["run"]["history"] = _log_invocation(work, result["run"], cfg.hash())
    if out is not None:
        from braincause.bench.groundtruth_report import write_report

        write_report(result, Path(out))
        say(f"wrote {Path(out) / 'benchmark.json'}, benchmark.md and benchmark.png")
    return result


def _log_invocation(work: Path, run: dict[str, Any], config_hash: str) -> list[dict]:
    """Append this invocation to ``work/runs.jsonl`` and return the invocations of this
    configuration that ran tasks (so a report regenerated from resumed records still says
    how long computing them took)."""
    entry = {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "config_hash": config_hash,
             **{k: run[k] for k in ("wall_s", "workers", "tasks", "tasks_run",
                                    "tasks_resumed", "load_avg_end")}}
    path = work / "runs.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(entry) + "\n")
    out = []
    for line in path.read_text().splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("config_hash") == config_hash and e.get("tasks_run"):
            out.append(e)
    return out


def _definition() -> str:
    from braincause.synth.ground_truth import DEFINITION

    return DEFINITION
