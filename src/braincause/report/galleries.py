"""Stimulus galleries of the report, chosen from ``stimuli/manifest.json``.

Three galleries, each capped so the page stays a few megabytes:

* positives next to their counterfactual edits (kept edits only; held-out EVAL
  positives first);
* kept semantic negatives grouped by counter-concept;
* verifier rejections: generated images the concept verifier threw out (a
  positive without the concept, a negative or edit that still shows it).

Selection is deterministic: EVAL before TRAIN, then by stimulus id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from braincause.report.figures import thumbnail_uri
from braincause.report.run import ReportRun

__all__ = ["Galleries", "NegativeGroup", "Pair", "Thumb", "select_galleries"]

MAX_PAIRS = 12
MAX_EDITS_PER_PAIR = 6
MAX_NEGATIVES_PER_COUNTER = 6
MAX_REJECTIONS = 12


@dataclass(frozen=True)
class Thumb:
    """One stimulus as shown in a gallery (``text`` is user-influenced: escape it).

    Attributes
    ----------
    id : int
        The stimulus id in ``stimuli/manifest.json``.
    uri : str
        The thumbnail as a ``data:image/jpeg`` URI.
    role : str
        ``"positive"``, ``"negative"``, ``"edit"`` or ``"control"``.
    split : str
        ``"train"`` or ``"eval"``.
    text : str
        The prompt or edit instruction it was made from.
    p_present : float or None
        The verifier's probability that the concept is present.
    response : mapping of str to float or None
        The predicted region responses (``causal``, ``activation``).
    note : str, default=""
        Why it is shown (for a rejection: why it was dropped).
    """

    id: int
    uri: str
    role: str
    split: str
    text: str
    p_present: float | None
    response: Mapping[str, float] | None
    note: str = ""


@dataclass(frozen=True)
class Pair:
    """A positive and (some of) its kept counterfactual edits.

    Attributes
    ----------
    positive : Thumb
    edits : list of Thumb
        The kept edits shown (at most ``MAX_EDITS_PER_PAIR``).
    n_edits : int
        How many kept edits the positive has.
    """

    positive: Thumb
    edits: list[Thumb]
    n_edits: int


@dataclass(frozen=True)
class NegativeGroup:
    """Kept semantic negatives of one counter-concept.

    Attributes
    ----------
    name : str
        The counter-concept (its label or name in the plan).
    source : str
        How it relates to the target (``"co-occurrence"``, ``"context"``, ``"shared
        cue"``, ``"component"``); empty when the plan does not say.
    reason : str
        The plan's one sentence on how it relates to the target (may be empty).
    items : list of Thumb
        The negatives shown (at most ``MAX_NEGATIVES_PER_COUNTER``).
    n_kept : int
        Kept negatives of this counter-concept.
    n_generated : int
        Generated negatives of this counter-concept, kept or not.
    """

    name: str
    source: str
    reason: str
    items: list[Thumb]
    n_kept: int
    n_generated: int


@dataclass(frozen=True)
class Galleries:
    """Everything the gallery section shows, with the totals it was cut from.

    Attributes
    ----------
    pairs : list of Pair
        The positive / edit pairs shown (at most ``MAX_PAIRS``).
    n_pairs : int, default=0
        Kept positives with kept edits.
    negatives : list of NegativeGroup
        One group per counter-concept.
    rejections : list of Thumb
        Stimuli the verifier dropped, shown (at most ``MAX_REJECTIONS``).
    n_rejections : int, default=0
        Stimuli the verifier dropped.
    """

    pairs: list[Pair] = field(default_factory=list)
    n_pairs: int = 0
    negatives: list[NegativeGroup] = field(default_factory=list)
    rejections: list[Thumb] = field(default_factory=list)
    n_rejections: int = 0


def _order(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: (e.get("split") != "eval", int(e["id"])))


def _thumb(run: ReportRun, e: Mapping[str, Any], note: str = "") -> Thumb:
    path = run.stimulus_path(e)
    assert path is not None  # callers pass entries with a file only
    p = e.get("p_present")
    return Thumb(int(e["id"]), thumbnail_uri(path), str(e["role"]), str(e.get("split", "")),
                 str(e.get("text", "")), None if p is None else float(p), e.get("response"),
                 note)


def _rejection_note(e: Mapping[str, Any], thresholds: Mapping[str, Any]) -> str:
    p = e.get("p_present")
    ps = "n/a" if p is None else f"{float(p):.2f}"
    if e["role"] == "positive":
        t = thresholds.get("verifier_threshold")
        return f"concept not found: p {ps}" + (f" < {t:g}" if t is not None else "")
    t = thresholds.get("absent_threshold")
    return f"concept still present: p {ps}" + (f" ≥ {t:g}" if t is not None else "")


def select_galleries(run: ReportRun) -> Galleries:
    """Choose and render (as thumbnails) the stimuli the report shows.

    Parameters
    ----------
    run : ReportRun
        From :func:`~braincause.report.run.load_run`.

    Returns
    -------
    Galleries
    """
    items = [e for e in run.manifest if e.get("file")]
    by_role: dict[str, list[dict[str, Any]]] = {"positive": [], "negative": [], "edit": [],
                                                "control": []}
    for e in _order(items):
        by_role[e["role"]].append(e)

    # positives next to their kept edits, then their cue controls
    edits_of: dict[int, list[dict[str, Any]]] = {}
    for e in by_role["edit"] + by_role["control"]:
        if e["kept"] and e.get("parent") is not None:
            edits_of.setdefault(int(e["parent"]), []).append(e)
    with_edits = [e for e in by_role["positive"] if e["kept"] and int(e["id"]) in edits_of]
    pairs = [Pair(_thumb(run, pos), [_thumb(run, ed) for ed in
                                      edits_of[int(pos["id"])][:MAX_EDITS_PER_PAIR]],
                  len(edits_of[int(pos["id"])])) for pos in with_edits[:MAX_PAIRS]]

    # negatives by counter-concept, in the plan's order
    kept_neg: dict[str, list[dict[str, Any]]] = {}
    all_neg: dict[str, int] = {}
    for e in by_role["negative"]:
        key = str(e.get("counter_concept") or "(none)")
        all_neg[key] = all_neg.get(key, 0) + 1
        if e["kept"]:
            kept_neg.setdefault(key, []).append(e)
    info = {}
    for c in run.result.get("stimuli", {}).get("counter_concepts", []) or []:
        if isinstance(c, Mapping):
            for k in (c.get("label"), c.get("name")):
                if k:
                    info.setdefault(str(k), c)
    names = sorted(all_neg, key=lambda k: (k not in info, list(info).index(k)
                                           if k in info else 0, k))
    negatives = [NegativeGroup(k, str(info.get(k, {}).get("source") or ""),
                               str(info.get(k, {}).get("reason") or ""),
                               [_thumb(run, e) for e in kept_neg.get(k, [])
                                [:MAX_NEGATIVES_PER_COUNTER]],
                               len(kept_neg.get(k, [])), all_neg[k]) for k in names]

    # verifier rejections, taking roles in turn so each kind is represented
    thresholds = run.result.get("config", {}).get("stimuli", {})
    rejected = {r: [e for e in by_role[r] if not e["kept"]] for r in by_role}
    n_rej = sum(len(v) for v in rejected.values())
    chosen: list[dict[str, Any]] = []
    while len(chosen) < MAX_REJECTIONS and any(rejected.values()):
        for r in ("positive", "negative", "edit"):
            if rejected[r] and len(chosen) < MAX_REJECTIONS:
                chosen.append(rejected[r].pop(0))
    rejections = [_thumb(run, e, _rejection_note(e, thresholds)) for e in chosen]
    return Galleries(pairs, len(with_edits), negatives, rejections, n_rej)
