"""Ground truth: which voxels of a simulated subject represent a concept.

Defined by interventions on the *true* brain only, never by the method under
test. For concept *c*, take ``N_SCENES`` scenes sampled to contain it (the same
scenes for every subject) and compute, per voxel, noise-free responses to:

* the scene itself and its **removal** edit (the concept's minimal exact
  intervention: its objects removed, a surfer restaged standing, a kitchen turned
  into a living room) — the concept effect
  ``E_c(v) = mean_s [r_v(s) − r_v(remove_c(s))]``;
* **cue stand-ins**: each removed object replaced by an object of an unrelated
  category carrying one of the concept's cues, in the same box with the same
  colour (skin tone for people) — a neutral shape-and-colour stand-in (low-level
  cues: colour, size, position, contrast), and one per declared attribute (round,
  warm, skin, dishware, sign shape, texture…). Cue effect
  ``E_k(v) = mean_s [r_v(standin_k(s)) − r_v(remove_c(s))]`` (adding the cue alone);
* **co-occurring objects**: the concept's most correlated objects in the world
  (:func:`braincause.synth.stats.concept_correlations`), removed while the concept
  stays. Cue effect ``E_k(v) = mean_s [r_v(s) − r_v(remove_k(s))]``;
* for scene concepts, a **backdrop palette** change within the same context.

Voxel *v* represents *c* when ``E_c(v) ≥ MARGIN`` and
``E_c(v) ≥ RATIO · max(0, max_k E_k(v))``. Effects are in units of the voxel's
signal SD (the SD of its noise-free response over the subject's measured pool).
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from braincause.exceptions import ConceptNotFound
from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import CONCEPTS, GROUPS, Concept
from braincause.synth.drawers.people import skin_of
from braincause.synth.features import (
    FEATURE_VERSION,
    SEMANTIC,
    features_of,
    scrambled_features,
)
from braincause.synth.interventions import replace
from braincause.synth.sampler import sample_scenes
from braincause.synth.scene import Scene, SceneObject
from braincause.synth.vocabulary import closest, lookup, normalize
from braincause.utils import atomic_write_bytes, cache_dir

N_SCENES = 48
MARGIN = 0.25
RATIO = 1.5
N_COOCCURRING = 3
GT_VERSION = f"gt-v3-{FEATURE_VERSION}"

DEFINITION = (
    "Voxel v represents concept c when removing c (its minimal exact intervention, averaged "
    f"over {N_SCENES} scenes containing c) lowers v's noise-free response by at least "
    f"{MARGIN} signal SD, and that drop is at least {RATIO}x the largest effect of any tested "
    "correlated cue: the scene with the concept's pixels scrambled in place (low-level "
    "control), a neutral shape-and-colour stand-in and one stand-in per attribute cue "
    "(an unrelated object carrying the cue, same box and colour, in place of c), the removal "
    f"of each of the {N_COOCCURRING} objects most correlated with c (c kept), and for scene "
    "concepts a backdrop palette change. Signal SD = SD of v's noise-free response over the "
    "subject's measured pool."
)

#: Attributes that name the concept's own identity, not a cue.
IDENTITY_ATTRS = frozenset({"food", "text", "tool", "human", "fur", "screen", "symbol", "bright",
                            "smooth"})
SEMANTIC_CATS = frozenset(c for cats in SEMANTIC.values() for c in cats)
REGIONS = frozenset({"sky", "grass", "water", "road"})
NEUTRAL = tuple(c for c in CATEGORIES
                if c not in SEMANTIC_CATS and c not in REGIONS
                and CATEGORIES[c].layer not in ("part",))


@dataclass(eq=False)
class GroundTruth:
    """Ground truth of one concept in one subject."""

    concept: str
    subject_id: str
    voxels: np.ndarray = field(repr=False)          # (n_voxels,) bool
    effect: np.ndarray = field(repr=False)          # (n_voxels,) E_c in signal SD
    cue_effects: dict[str, np.ndarray] = field(repr=False)
    definition: str = DEFINITION
    thresholds: dict[str, float] = field(default_factory=lambda: {"margin_signal_sd": MARGIN,
                                                                 "ratio": RATIO})

    @property
    def n_voxels(self) -> int:
        return int(self.voxels.sum())


def _aspect_cost(a: str, b: str) -> float:
    aw, ah = CATEGORIES[a].size
    bw, bh = CATEGORIES[b].size
    return abs(math.log((aw / ah) / (bw / bh)))


def _excluded(concept: Concept) -> set[str]:
    """Categories that may not stand in: the concept's members and their kin."""
    out = set(concept.members)
    kin = {CATEGORIES[m].group for m in concept.members}
    out |= {c for c, cat in CATEGORIES.items() if cat.group in kin}
    for m in concept.members:
        for g in GROUPS.values():
            if m in g:
                out |= set(g)
    return out


def standin_category(concept: Concept, category: str, attribute: str | None) -> str | None:
    """An unrelated category carrying ``attribute`` (None: the neutral stand-in)."""
    excl = _excluded(concept)
    if attribute is None:
        pool = [c for c in NEUTRAL if c not in excl]
    else:
        pool = [c for c, cat in CATEGORIES.items()
                if attribute in cat.attributes and c not in excl and c not in REGIONS
                and CATEGORIES[c].layer != "part"]
        # prefer categories that feed no semantic area (the cue alone)
        pool.sort(key=lambda c: (c in SEMANTIC_CATS, _aspect_cost(category, c), c))
        return pool[0] if pool else None
    pool.sort(key=lambda c: (_aspect_cost(category, c), c))
    return pool[0] if pool else None


def _targets(concept: Concept, scene: Scene) -> list[SceneObject]:
    """Top-level objects the concept's removal takes away (stand-ins go in their boxes)."""
    if concept.kind not in ("category", "group"):
        return []
    return [o for o in scene.objects if o.category in concept.members]


def _cue_colour(obj: SceneObject, scene: Scene, attribute: str | None) -> tuple[int, int, int]:
    if attribute == "skin" and obj.category == "person":
        return skin_of(obj)
    return obj.color


def _standin_scene(concept: Concept, scene: Scene, attribute: str | None) -> Scene | None:
    targets = _targets(concept, scene)
    if not targets:
        return None
    out = scene
    for o in targets:
        if o.uid not in {x.uid for x in out.objects}:
            continue  # removed with its parent already
        cat = standin_category(concept, o.category, attribute)
        if cat is None:
            return None
        out = replace(out, o.uid, cat)
        new = out.objects[-1]
        col = _cue_colour(o, scene, attribute)
        out = out.replace(objects=(*out.objects[:-1], _recoloured(new, col)))
    return out


def _recoloured(o: SceneObject, col: tuple[int, int, int]) -> SceneObject:
    import dataclasses
    return dataclasses.replace(o, color=col)


def _attributes(concept: Concept, scenes: list[Scene]) -> list[str]:
    attrs: set[str] = set()
    for s in scenes:
        for o in _targets(concept, s):
            attrs |= CATEGORIES[o.category].attributes
    return sorted(attrs - IDENTITY_ATTRS)


@lru_cache(maxsize=1)
def _correlates() -> dict[str, list[str]]:
    from braincause.synth.stats import concept_correlations

    corr = concept_correlations(n=3000, seed=0, top=8)
    return {k: [r["name"] for r in v["objects"]] for k, v in corr.items()}


def _cooccurring(concept: Concept) -> list[str]:
    excl = _excluded(concept)
    out = []
    for c in _correlates()[concept.name]:
        if c in excl or (c in REGIONS and concept.kind == "scene"):
            continue
        out.append(c)
        if len(out) == N_COOCCURRING:
            break
    return out


def intervention_features(concept_name: str) -> dict[str, np.ndarray]:
    """Subject-independent features of every intervention set of a concept (cached).

    Keys: ``"scene"``, ``"removed"``, ``"standin:<attr|neutral>"``, and for object cues
    ``"with:<cat>"`` / ``"without:<cat>"`` (the subset of scenes containing that object).
    """
    concept = CONCEPTS[concept_name]
    path = cache_dir() / "ground_truth" / f"{concept_name}-{GT_VERSION}-{N_SCENES}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile):
            pass  # damaged: recomputed below
    seq = np.random.SeedSequence([77, *concept_name.encode()])
    scenes = sample_scenes(N_SCENES, seq, concept.spec)
    sets: dict[str, list[Scene]] = {"scene": scenes,
                                    "removed": [concept.remove(s) for s in scenes]}
    if concept.kind in ("category", "group"):
        for attr in [None, *_attributes(concept, scenes)]:
            ed = [_standin_scene(concept, s, attr) for s in scenes]
            if all(e is not None for e in ed):
                sets[f"standin:{attr or 'neutral'}"] = ed  # type: ignore[assignment]
    if concept.kind == "scene":
        sets["palette"] = [s.replace(palette=s.palette + 1) for s in scenes]
    for cat in _cooccurring(concept):
        have = [s for s in scenes if s.has(cat)
                and not any(o.parent is not None and s.get(o.parent).category == cat
                            for o in _targets(concept, s))]
        if len(have) >= 5:
            sets[f"with:{cat}"] = have
            sets[f"without:{cat}"] = [s.without([o.uid for o in s.of(cat)]) for s in have]
    feats = {k: features_of(v) for k, v in sets.items()}
    feats["scrambled"] = np.stack([scrambled_features(s, e, i) for i, (s, e)
                                   in enumerate(zip(scenes, sets["removed"], strict=True))])
    buf = io.BytesIO()
    np.savez(buf, **feats)
    atomic_write_bytes(path, buf.getvalue())
    return feats


def ground_truth_from_features(brain, feats: dict[str, np.ndarray], signal_sd: np.ndarray,
                               concept: str = "", subject_id: str = "") -> GroundTruth:
    """Apply the definition to precomputed intervention features (see module docstring)."""
    sd = np.maximum(np.asarray(signal_sd, np.float64), 1e-6)

    def mean_resp(key: str) -> np.ndarray:
        return brain.respond(feats[key]).mean(axis=0) / sd

    base = mean_resp("scene")
    removed = mean_resp("removed")
    effect = base - removed
    cues: dict[str, np.ndarray] = {}
    for k in feats:
        if k.startswith("standin:"):
            cues[k] = mean_resp(k) - removed
        elif k.startswith("with:"):
            cat = k.split(":", 1)[1]
            cues[f"cooccurring:{cat}"] = mean_resp(k) - mean_resp(f"without:{cat}")
        elif k == "scrambled":
            cues[k] = mean_resp(k) - removed
        elif k == "palette":
            cues[k] = np.abs(base - mean_resp(k))
    worst = np.max(np.stack(list(cues.values())), axis=0) if cues else np.zeros_like(effect)
    vox = (effect >= MARGIN) & (effect >= RATIO * np.maximum(worst, 0.0))
    return GroundTruth(concept, subject_id, vox, effect.astype(np.float32),
                       {k: v.astype(np.float32) for k, v in cues.items()})


def ground_truth(subject, concept: str | Concept) -> GroundTruth:
    """Ground truth of ``concept`` (a name, synonym or Concept) in a synthetic subject.

    Only names and synonyms are looked up here; ``SyntheticSubject.ground_truth``
    resolves any query with :func:`braincause.concepts.resolve` first.
    """
    if isinstance(concept, Concept):
        name = concept.name
    else:
        hit = lookup(normalize(concept))
        if hit is None:
            raise ConceptNotFound(concept, closest(concept))
        name = hit[0]
    feats = intervention_features(name)
    return ground_truth_from_features(subject.brain, feats, subject.signal_sd, name,
                                      subject.subject_id)


def precompute(concepts: list[str] | None = None, workers: int = 1,
               progress: Callable[[str], None] | None = None) -> None:
    """Compute (and cache) the intervention features of ``concepts`` (default: all).

    Concepts run in parallel over ``workers`` processes; each concept's scenes are
    seeded by its name alone, so results do not depend on the number of workers.
    ``progress`` gets ``"ground truth <done>/<total>: <concept>"`` after each concept.
    """
    names = list(concepts or CONCEPTS)
    todo = [n for n in names
            if not (cache_dir() / "ground_truth" / f"{n}-{GT_VERSION}-{N_SCENES}.npz").exists()]
    if not todo:
        return
    say = progress or (lambda _m: None)
    _correlates()  # computed once, inherited by the workers
    if workers <= 1 or len(todo) == 1:
        for i, n in enumerate(todo):
            intervention_features(n)
            say(f"ground truth {i + 1}/{len(todo)}: {n}")
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        for i, n in enumerate(ex.map(_precompute_one, todo)):
            say(f"ground truth {i + 1}/{len(todo)}: {n}")


def _precompute_one(name: str) -> str:
    intervention_features(name)
    return name


def summarize(subject, workers: int = 1) -> dict:
    """Voxel counts, noise ceilings, areas and ground-truth sizes of a synthetic subject."""
    precompute(workers=workers)
    gts = {name: ground_truth(subject, name) for name in CONCEPTS}
    nc = subject.noise_ceiling
    return {
        "subject": subject.subject_id,
        "n_voxels": subject.n_voxels,
        "n_images": subject.n_images,
        "n_train": len(subject.train_indices),
        "n_test": len(subject.test_indices),
        "median_noise_ceiling": round(float(np.median(nc)), 4),
        "noise_ceiling_5_95": [round(float(v), 4) for v in np.percentile(nc, [5, 95])],
        "areas": [{"name": a.name, "kind": a.kind, "n_voxels": int(a.mask.sum()),
                   "centres_mm": {h: [round(v, 1) for v in c] for h, c in a.centres.items()},
                   "tuning": {k: round(v, 3) for k, v in a.tuning.items()}}
                  for a in subject.brain.areas],
        "ground_truth_voxels": {k: g.n_voxels for k, g in gts.items()},
        "empty_ground_truth": sorted(k for k, g in gts.items() if g.n_voxels == 0),
        "definition": DEFINITION,
        "coordinates": "fsaverage (close to MNI305), mm",
    }
