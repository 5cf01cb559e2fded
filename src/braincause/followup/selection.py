"""Which images to show: conditions and their stimuli, low-level balanced.

* ``positive``: verified positives that drive the region most (highest predicted
  region-mean response), each with a verified counterfactual edit;
* ``edit``: the hardest verified edits of the selected positives (highest predicted
  response, i.e. the smallest predicted drop);
* ``negative_<counter>``: per counter-concept, its hardest verified negatives;
* ``missing_<counter>``: the same for counter-concepts the subject's measured images
  lacked (``coverage.missing_counter_concepts``): the paper's "missing evidence".

Held-out (EVAL) stimuli rank before TRAIN ones: the region was chosen on TRAIN
predictions, so those are optimistic. Within each condition, low-level statistics are
then balanced by swaps among the ``ceil(pool_factor × n)`` hardest candidates
(:mod:`braincause.followup.lowlevel`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braincause.exceptions import DataError, UserInputError
from braincause.followup.config import FollowupConfig
from braincause.followup.lowlevel import (
    STATISTICS,
    Pool,
    balance_objective,
    balance_report,
    balance_selection,
    images_statistics,
)
from braincause.followup.rundir import RunDir


@dataclass(frozen=True)
class Stimulus:
    """One selected image.

    ``name`` is its stable name in the follow-up (``pos-01``, ``edit-01a``,
    ``neg-ball-02``, ``miss-person-01``); ``source_id``/``source_file`` point into the
    run's manifest; ``response`` is the predicted causal-region response (z units);
    ``stats`` the four low-level statistics.
    """

    name: str
    condition: str
    role: str
    source_id: int
    source_file: str
    split: str
    response: float
    text: str
    parent: str | None = None
    counter_concept: str | None = None
    stats: tuple[float, ...] = ()

    @property
    def file(self) -> str:
        return f"{self.name}.png"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "condition": self.condition,
                "role": self.role, "source_id": self.source_id,
                "source_file": self.source_file, "split": self.split,
                "predicted_response": round(self.response, 5), "text": self.text,
                "parent": self.parent, "counter_concept": self.counter_concept,
                "lowlevel": {k: round(v, 5) for k, v in zip(STATISTICS, self.stats,
                                                             strict=True)}}


@dataclass(frozen=True)
class Condition:
    """One condition (a BIDS ``trial_type``) and why the experiment needs it."""

    name: str
    kind: str                       # positive | edit | negative | missing
    why: str
    counter_concept: str | None = None
    stimuli: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "counter_concept": self.counter_concept,
                "why": self.why, "stimuli": list(self.stimuli)}


@dataclass(frozen=True)
class Selection:
    """The selected stimuli, their conditions and the low-level balance achieved."""

    conditions: tuple[Condition, ...]
    stimuli: tuple[Stimulus, ...]
    balance: dict[str, Any] = field(repr=False)
    warnings: tuple[str, ...] = ()

    def by_condition(self) -> dict[str, list[Stimulus]]:
        out: dict[str, list[Stimulus]] = {c.name: [] for c in self.conditions}
        for s in self.stimuli:
            out[s.condition].append(s)
        return out


def slug(text: str) -> str:
    """A file- and identifier-safe version of ``text`` (``animal face`` → ``animal_face``)."""
    s = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return s or "x"


def _usable(run: RunDir, e: dict[str, Any]) -> bool:
    r = e.get("response")
    return bool(e.get("kept")) and bool(e.get("file")) and isinstance(r, dict) \
        and isinstance(r.get("causal"), (int, float)) and math.isfinite(r["causal"]) \
        and run.image_path(e).is_file()


def _rank(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hardest first: EVAL before TRAIN, then highest predicted response."""
    return sorted(entries, key=lambda e: (e["split"] != "eval", -e["response"]["causal"],
                                          e["id"]))


def _load_stats(run: RunDir, entries: list[dict[str, Any]]) -> dict[int, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    images = []
    for e in entries:
        p = run.image_path(e)
        try:
            with Image.open(p) as im:
                images.append(np.asarray(im.convert("RGB")))
        except (OSError, UnidentifiedImageError) as err:
            raise DataError(f"cannot read stimulus image {p}: {err}; re-run localize") from err
    stats = images_statistics(images)
    return {e["id"]: stats[i] for i, e in enumerate(entries)}


def select_stimuli(run: RunDir, cfg: FollowupConfig) -> Selection:
    """Choose the conditions and their stimuli for ``run`` (see the module docstring).

    Raises
    ------
    UserInputError
        No verified positive image with a file exists in the run.
    """
    usable = [e for e in run.manifest if _usable(run, e)]
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in usable:
        by_role[e["role"]].append(e)
    edits_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in _rank(by_role["edit"]):
        if e.get("parent") is not None:
            edits_of[e["parent"]].append(e)
    warnings: list[str] = []
    label = run.concept.get("label", run.concept["name"])

    positives = _rank([e for e in by_role["positive"] if edits_of.get(e["id"])])
    with_edits = len(positives) >= 2
    if not with_edits:
        warnings.append(f"fewer than 2 verified positives have a verified edit; the design has "
                        f"no edit condition, so it cannot separate {label} from its scene")
        positives = _rank(by_role["positive"])
    if not positives:
        raise UserInputError(f"the run at {run.path} has no verified positive image with a "
                             "file in stimuli/; re-run localize with an output folder")

    groups = _groups(run, cfg, by_role["negative"], warnings)
    n_pos = min(cfg.n_positive, len(positives))
    pos_pool = positives[:_pool_size(n_pos, len(positives), cfg)]
    pool_entries = list(pos_pool)
    if with_edits:
        for p in pos_pool:
            pool_entries += edits_of[p["id"]][:cfg.n_edits_per_positive]
    for g in groups:
        pool_entries += g["pool"]
    stats = _load_stats(run, pool_entries)
    allstats = np.stack(list(stats.values()))
    center, scale = allstats.mean(axis=0), allstats.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)

    def z(e: dict[str, Any]) -> np.ndarray:
        return (stats[e["id"]] - center) / scale

    cond_names = ["positive"] + (["edit"] if with_edits else []) + [g["name"] for g in groups]
    n_c, n_s = len(cond_names), len(STATISTICS)
    pools = []
    contrib = np.zeros((len(pos_pool), n_c, n_s))
    counts = np.zeros((len(pos_pool), n_c))
    for i, p in enumerate(pos_pool):
        contrib[i, 0], counts[i, 0] = z(p), 1
        if with_edits:
            eds = edits_of[p["id"]][:cfg.n_edits_per_positive]
            contrib[i, 1] = np.sum([z(e) for e in eds], axis=0)
            counts[i, 1] = len(eds)
    pools.append(_pool(contrib, counts, n_pos, pos_pool, cfg))
    for k, g in enumerate(groups):
        c = np.zeros((len(g["pool"]), n_c, n_s))
        c[:, len(cond_names) - len(groups) + k] = [z(e) for e in g["pool"]]
        cnt = np.zeros((len(g["pool"]), n_c))
        cnt[:, len(cond_names) - len(groups) + k] = 1
        pools.append(_pool(c, cnt, g["n"], g["pool"], cfg))

    naive = [np.arange(p.n_select) for p in pools]
    chosen = balance_selection(pools)

    def objective(sel: list[np.ndarray]) -> float:
        s = sum(p.contrib[i].sum(axis=0) for p, i in zip(pools, sel, strict=True))
        n = sum(p.counts[i].sum(axis=0) for p, i in zip(pools, sel, strict=True))
        return round(float(balance_objective(s, n)), 4)

    stimuli, conditions = _compose(run, cfg, label, pos_pool, chosen, edits_of, groups,
                                   with_edits, stats)
    sel_stats = np.array([s.stats for s in stimuli])
    naive_stims, _ = _compose(run, cfg, label, pos_pool, naive, edits_of, groups, with_edits,
                              stats)
    balance = {
        "statistics": list(STATISTICS),
        "definition": "max_smd: largest difference between two condition means, divided by "
                      "the SD of the statistic over all candidate images; anova_p: one-way "
                      "ANOVA over conditions with ≥ 2 images",
        "method": f"greedy swaps within the {cfg.pool_factor:g}× hardest candidates of each "
                  "condition, minimising the largest max_smd over statistics, keeping each "
                  "condition's mean predicted response within "
                  f"{cfg.max_response_loss:g} of the hardest selection's",
        "max_smd": objective(chosen), "max_smd_naive": objective(naive),
        "candidate_sd": {k: round(float(v), 5) for k, v in zip(STATISTICS, scale,
                                                                strict=True)},
        "table": balance_report(sel_stats, [s.condition for s in stimuli], scale),
        "naive_table": balance_report(np.array([s.stats for s in naive_stims]),
                                      [s.condition for s in naive_stims], scale),
        "mean_response": _mean_response(stimuli),
        "mean_response_naive": _mean_response(naive_stims),
    }
    return Selection(tuple(conditions), tuple(stimuli), balance, tuple(warnings))


def _pool(contrib, counts, n, entries, cfg: FollowupConfig) -> Pool:
    score = np.array([e["response"]["causal"] for e in entries])
    return Pool(contrib, counts, n, score, float(score[:n].mean()) - cfg.max_response_loss)


def _pool_size(n: int, available: int, cfg: FollowupConfig) -> int:
    return min(available, max(n, math.ceil(cfg.pool_factor * n)))


def _groups(run: RunDir, cfg: FollowupConfig, negatives: list[dict[str, Any]],
            warnings: list[str]) -> list[dict[str, Any]]:
    """One group per counter-concept with at least one verified negative."""
    names = run.counter_names()
    missing = set(run.missing_counters)
    labels = list(names) + sorted({e.get("counter_concept") for e in negatives
                                   if e.get("counter_concept")} - set(names))
    per = defaultdict(list)
    for e in negatives:
        per[e.get("counter_concept")].append(e)
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    for lab in labels:
        kind = "missing" if lab in missing else "negative"
        base = slug(names.get(lab, lab))
        key = next(f"{base}{'' if i == 0 else i + 1}" for i in range(len(labels) + 1)
                   if f"{base}{'' if i == 0 else i + 1}" not in taken)
        cands = _rank(per.get(lab, []))
        if not cands:
            warnings.append(f"no verified negative of {lab!r} exists in the run"
                            + ("; the measured gap for it cannot be filled" if lab in missing
                               else "; its cue is not tested"))
            continue
        n = min(cfg.n_negative, len(cands))
        taken.add(key)
        out.append({"label": lab, "kind": kind, "name": f"{kind}_{key}", "key": key,
                    "n": n, "pool": cands[:_pool_size(n, len(cands), cfg)],
                    "available": len(cands)})
    return out


def _stim(name, cond, e, stats, parent=None, counter=None) -> Stimulus:
    return Stimulus(name, cond, e["role"], int(e["id"]), str(e["file"]), str(e["split"]),
                    float(e["response"]["causal"]), str(e.get("text") or ""), parent, counter,
                    tuple(float(x) for x in stats[e["id"]]))


def _compose(run, cfg, label, pos_pool, sel, edits_of, groups, with_edits, stats):
    reasons = run.counter_reasons()
    counts = run.result.get("coverage", {}).get("eval", {}).get("negatives_per_counter", {})
    min_neg = run.result.get("config", {}).get("verdict", {}).get("min_negatives_per_counter")
    stimuli: list[Stimulus] = []
    pos = sorted((pos_pool[i] for i in sel[0]), key=lambda e: -e["response"]["causal"])
    pnames, enames = [], []
    for k, p in enumerate(pos, 1):
        pname = f"pos-{k:02d}"
        stimuli.append(_stim(pname, "positive", p, stats))
        pnames.append(pname)
        if with_edits:
            for j, e in enumerate(edits_of[p["id"]][:cfg.n_edits_per_positive]):
                en = f"edit-{k:02d}{chr(ord('a') + j)}"
                stimuli.append(_stim(en, "edit", e, stats, parent=pname))
                enames.append(en)
    conds = [Condition("positive", "positive",
                       f"images of {label} that the encoder predicts drive the region most "
                       f"({len(pos)} verified positives, held-out split first): the region's "
                       "response to the concept", None, tuple(pnames))]
    if with_edits:
        conds.append(Condition(
            "edit", "edit", f"the same scenes with the {label} removed or replaced (the "
            "hardest verified counterfactual edit of each positive): positive − edit "
            "isolates the concept from everything else in the scene", None, tuple(enames)))
    for g, s in zip(groups, sel[1:], strict=True):
        ents = sorted((g["pool"][i] for i in s), key=lambda e: -e["response"]["causal"])
        pre = "miss" if g["kind"] == "missing" else "neg"
        names = []
        for k, e in enumerate(ents, 1):
            nm = f"{pre}-{g['key']}-{k:02d}"
            stimuli.append(_stim(nm, g["name"], e, stats, counter=g["label"]))
            names.append(nm)
        why = (f"{g['label']} ({reasons.get(g['label']) or 'a counter-concept'}): its "
               f"{len(ents)} hardest verified images without a {label}; if the region "
               "answers them like the positives, it codes this cue, not the concept")
        if g["kind"] == "missing":
            why += (f". Missing evidence: the subject's held-out measured images held only "
                    f"{counts.get(g['label'], 0)} such images (need ≥ {min_neg}), so the "
                    "localize run could not test this cue on measured data")
        conds.append(Condition(g["name"], g["kind"], why, g["label"], tuple(names)))
    return stimuli, conds


def _mean_response(stimuli: list[Stimulus]) -> dict[str, float]:
    out: dict[str, list[float]] = defaultdict(list)
    for s in stimuli:
        out[s.condition].append(s.response)
    return {k: round(float(np.mean(v)), 4) for k, v in out.items()}
