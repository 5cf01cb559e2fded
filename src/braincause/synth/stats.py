"""The world's co-occurrence statistics, exported as tables.

* :func:`declared_table` — the declared model: for every context and category,
  the base probability, the coupling parents and the exact presence probability.
* :func:`concept_correlations` — for every concept, its prevalence in free scenes
  and its most correlated objects and visual cues (phi coefficient and lift),
  measured over sampled scene records. This is what a planner mines for
  counter-concepts, as an LLM would from world knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import CONCEPTS
from braincause.synth.sampler import sample_scenes
from braincause.synth.scene import Scene
from braincause.synth.world import (
    BASE,
    CONTEXT_PRIOR,
    CONTEXTS,
    parents_of,
    presence_probability,
)

CUES: tuple[str, ...] = tuple(sorted({a for c in CATEGORIES.values() for a in c.attributes}))


def declared_table() -> list[dict]:
    """Rows ``{context, category, base, parents, p_present}`` of the declared model."""
    rows = []
    for ctx in CONTEXTS:
        for cat in CATEGORIES:
            p = presence_probability(cat, ctx)
            if p == 0:
                continue
            rows.append({
                "context": ctx, "context_prior": CONTEXT_PRIOR[ctx], "category": cat,
                "base": BASE[ctx].get(cat, 0.0),
                "parents": ";".join(f"{a}:{q:g}" for a, q in parents_of(cat, ctx)),
                "p_present": round(p, 6),
            })
    return rows


def cue_presence(scene: Scene) -> dict[str, bool]:
    """Which attribute cues the scene's objects carry."""
    have = set()
    for o in scene.objects:
        have |= CATEGORIES[o.category].attributes
    return {c: c in have for c in CUES}


@dataclass
class Correlate:
    name: str
    kind: str       # "object" | "cue" | "context"
    phi: float
    lift: float     # P(x | concept) / P(x)
    p_given: float  # P(x | concept)


def _phi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Phi coefficient between boolean vector ``a`` and each column of ``b``."""
    a = a.astype(float)
    b = b.astype(float)
    am, bm = a.mean(), b.mean(axis=0)
    cov = (a[:, None] * b).mean(axis=0) - am * bm
    den = np.sqrt(am * (1 - am) * bm * (1 - bm))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, cov / den, 0.0)


def concept_correlations(n: int = 5000, seed: int = 0, top: int = 6) -> dict[str, dict]:
    """Per concept: prevalence and the ``top`` most correlated objects, cues and contexts."""
    scenes = sample_scenes(n, seed)
    cats = list(CATEGORIES)
    obj = np.array([[s.has(c) for c in cats] for s in scenes])
    cue = np.array([[v for v in cue_presence(s).values()] for s in scenes])
    ctx = np.array([[s.context == c for c in CONTEXTS] for s in scenes])
    out: dict[str, dict] = {}
    for name, concept in CONCEPTS.items():
        pres = np.array([concept.present(s) for s in scenes])
        entry: dict = {"prevalence": float(pres.mean()), "n_scenes": n, "objects": [],
                       "cues": [], "contexts": []}
        if pres.any() and not pres.all():
            own = set(concept.members) if concept.kind in ("category", "group") else set()
            for key, names, mat, excl in (("objects", cats, obj, own),
                                          ("cues", list(CUES), cue, set()),
                                          ("contexts", list(CONTEXTS), ctx, set())):
                phi = _phi(pres, mat)
                pg = mat[pres].mean(axis=0)
                base = mat.mean(axis=0)
                order = np.argsort(-phi)
                rows = []
                for j in order:
                    if names[j] in excl or phi[j] <= 0:
                        continue
                    rows.append(Correlate(names[j], key[:-1], float(phi[j]),
                                          float(pg[j] / base[j]) if base[j] > 0 else 0.0,
                                          float(pg[j])).__dict__)
                    if len(rows) == top:
                        break
                entry[key] = rows
        out[name] = entry
    return out
