"""The concept-targeted causal dataset (PAPER.md §1, step 1).

:func:`build_causal_dataset` runs, for one concept and seed:

1. **plan** — positive prompts per split, counter-concepts and their prompts;
2. **generate** — one image per prompt (positives and semantic negatives);
3. **verify** — backbone features, then the verifier keeps positives that show the
   concept and negatives that do not;
4. **edit** — the first ``n_edit_positives[split]`` *verified* positives of each split
   (in generation order, which is random) get up to ``n_edits`` instructions each;
5. **verify edits** — keep edits that no longer show the concept (by the verifier, or
   by the scene record of an exact edit);
6. **controls** — every edited positive gets its cue controls
   (:mod:`braincause.stimuli.controls`): the writer's stand-ins, rendered by the
   editor, and the positive scrambled in place under its removal edit's footprint.

Each stage is written to ``cache_dir()/datasets/<concept>-<key>/`` (atomic writes),
keyed by a hash of the concept, seed, sizes, package version and every backend's
config and fingerprint. A rerun reads finished stages back, so an interrupted run
resumes where it stopped and two runs with the same inputs give identical data.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause._version import __version__
from braincause.exceptions import DataError, UserInputError
from braincause.plan.base import Plan, make_plan
from braincause.stimuli.controls import (
    CONTROLS_VERSION,
    changed_mask,
    is_removal,
    phase_scramble_in_place,
    scramble_in_place,
    standin_object,
)
from braincause.stimuli.generate import Generated
from braincause.synth.scene import Scene
from braincause.utils import atomic_write_bytes, cache_dir

DATASET_VERSION = "causal-dataset-1"
Progress = Callable[[str], None]
ROLES = ("positive", "negative", "edit", "control")


@dataclass(frozen=True)
class DatasetSizes:
    """How many stimuli to plan (defaults: the paper's)."""

    n_positive: dict[str, int] = field(default_factory=lambda: {"train": 200, "eval": 100})
    n_counter: int = 10
    n_negative_prompts: int = 10
    n_edit_positives: dict[str, int] = field(default_factory=lambda: {"train": 50, "eval": 100})
    n_edits: int = 10

    def to_dict(self) -> dict[str, Any]:
        return {"n_positive": dict(self.n_positive), "n_counter": self.n_counter,
                "n_negative_prompts": self.n_negative_prompts,
                "n_edit_positives": dict(self.n_edit_positives), "n_edits": self.n_edits}


def sizes_from_config(cfg: Any, eval_only: bool = False) -> DatasetSizes:
    """The dataset sizes of a :class:`~braincause.config.LocalizeConfig` (its
    ``stimuli`` table); ``eval_only``: the EVAL split only (baseline concepts)."""
    s = cfg.stimuli
    if eval_only:
        return DatasetSizes({"eval": s.n_positive_eval}, s.n_counter, s.n_negative_prompts,
                            {"eval": s.n_edit_positives_eval}, s.n_edits)
    return DatasetSizes({"train": s.n_positive_train, "eval": s.n_positive_eval}, s.n_counter,
                        s.n_negative_prompts,
                        {"train": s.n_edit_positives_train, "eval": s.n_edit_positives_eval},
                        s.n_edits)


@dataclass(eq=False)
class CausalDataset:
    """Every stimulus of one concept: positives, semantic negatives, edits.

    Arrays have one row per stimulus (``n_items``); failed generations keep their row
    (``ok`` False, zero image and features) so retention can be reported.
    """

    concept: str
    key: str
    role: np.ndarray          # (n_items,) "positive" | "negative" | "edit" | "control"
    split: np.ndarray         # (n_items,) "train" | "eval"
    text: list[str]           # prompt, or edit instruction
    counter: np.ndarray       # (n_items,) a negative's counter-concept label, a control's
    #                           kind ("scramble", "neutral", "cue:<object>"), else ""
    parent: np.ndarray        # (n_items,) int: the edited (controlled) positive's row, or -1
    ok: np.ndarray            # (n_items,) bool: an image was produced
    presence: np.ndarray      # (n_items,) verifier's P(concept present), NaN if not ok
    kept: np.ndarray          # (n_items,) bool: produced and passed verification
    features: np.ndarray = field(repr=False)   # (n_items, D) float32 backbone features
    images: np.ndarray | None = field(repr=False)  # (n_items, S, S, 3) uint8, or None
    scenes: list[dict | None] = field(repr=False, default_factory=list)
    plan: Plan | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return len(self.role)

    def indices(self, role: str, split: str | None = None, *, kept: bool = True) -> np.ndarray:
        """Rows of ``role`` (in ``split``), only those that passed verification by default."""
        m = self.role == role
        if split is not None:
            m &= self.split == split
        if kept:
            m &= self.kept
        return np.flatnonzero(m)

    def scoring_sets(self, split: str) -> dict[str, np.ndarray]:
        """Rows for scoring a split: ``pos``, ``neg``, ``edit`` and ``edit_of`` (the
        position in ``pos`` of each edit's positive), ``edit_removal`` (the edit removes
        rather than replaces the concept), ``control`` and ``control_of``
        (:mod:`braincause.stimuli.controls`); only kept items, and only edits and controls
        of kept positives."""
        pos = self.indices("positive", split)
        where = {int(r): i for i, r in enumerate(pos)}
        edits = [int(r) for r in self.indices("edit", split) if int(self.parent[r]) in where]
        ctrl = [int(r) for r in self.indices("control", split) if int(self.parent[r]) in where]
        return {"pos": pos, "neg": self.indices("negative", split),
                "edit": np.array(edits, int),
                "edit_of": np.array([where[int(self.parent[r])] for r in edits], int),
                "edit_removal": np.array([is_removal(self.text[r]) for r in edits], bool),
                "control": np.array(ctrl, int),
                "control_of": np.array([where[int(self.parent[r])] for r in ctrl], int)}

    def retention(self) -> dict[str, Any]:
        """Planned / generated / verified counts per role and split, and per counter-concept."""
        out: dict[str, Any] = {}
        for split in sorted(set(self.split.tolist())):
            for role in ROLES:
                m = (self.role == role) & (self.split == split)
                out[f"{role}_{split}"] = {"planned": int(m.sum()), "generated": int(
                    (m & self.ok).sum()), "kept": int((m & self.kept).sum())}
        per: dict[str, dict[str, int]] = {}
        for lab in sorted(set(self.counter[self.role == "negative"].tolist())):
            m = (self.role == "negative") & (self.counter == lab)
            per[lab] = {"planned": int(m.sum()), "kept": int((m & self.kept).sum())}
        out["per_counter_concept"] = per
        return out


# ------------------------------------------------------------------- stage cache
class StageCache:
    """npz / json files of one dataset build; a damaged file counts as missing."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def load(self, name: str) -> dict[str, np.ndarray] | None:
        if self.root is None or not (self.root / name).exists():
            return None
        try:
            with np.load(self.root / name, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            return None

    def exists(self, name: str) -> bool:
        return self.root is not None and (self.root / name).exists()

    def readable(self, name: str) -> bool:
        """Whether ``name`` exists and opens as an npz archive (its index only: cheap;
        a damaged member is found when it is read)."""
        if not self.exists(name):
            return False
        try:
            with np.load(self.root / name, allow_pickle=False) as z:
                return bool(z.files)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            return False

    def discard(self, *names: str) -> None:
        """Remove stage files (a damaged stage is rebuilt by the next run)."""
        if self.root is None:
            return
        for name in names:
            (self.root / name).unlink(missing_ok=True)

    def save(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        if self.root is None:
            return
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(self.root / name, buf.getvalue())


def _blob(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode(), np.uint8)


def _unblob(a: np.ndarray) -> Any:
    return json.loads(bytes(a).decode())


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> 1)


def dataset_key(concept: str, *, seed: int, sizes: DatasetSizes, parts: dict[str, Any]) -> str:
    h = hashlib.sha256(json.dumps({"concept": concept, "seed": seed, "sizes": sizes.to_dict(),
                                   "parts": parts, "version": DATASET_VERSION,
                                   "package": __version__}, sort_keys=True,
                                  default=str).encode())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------- stages
#: Items handed to a role's ``generate_batch`` / ``edit_batch`` per call (it splits them
#: into its own ``batch_size``); progress is reported after each chunk.
BATCH_CHUNK = 50


def _generate_all(items: list[dict], image_size: int, progress: Progress | None,
                  label: str, make_batch=None
                  ) -> tuple[np.ndarray, list[dict | None], np.ndarray, np.ndarray, list[str]]:
    """Run every item (``item["run"]()``, or ``make_batch(chunk)`` in chunks when the
    role generates batches) and collect images, scene records, success, exactness (the
    image is the render of its scene record) and errors."""
    imgs = np.zeros((len(items), image_size, image_size, 3), np.uint8)
    scenes: list[dict | None] = []
    ok = np.zeros(len(items), bool)
    exact = np.zeros(len(items), bool)
    errors: list[str] = []
    step = BATCH_CHUNK if make_batch is not None else 1
    if progress and len(items) > 100:  # a bar from the start (its rate and ETA from 100 on)
        progress(f"{label} 0/{len(items)}")
    for start in range(0, len(items), step):
        chunk = items[start:start + step]
        got: list[Generated] = (list(make_batch(chunk)) if make_batch is not None
                                else [chunk[0]["run"]()])
        if len(got) != len(chunk):
            raise DataError(f"the {label} backend returned {len(got)} images for "
                            f"{len(chunk)} requests")
        for i, g in enumerate(got, start):
            if g.image is not None:
                imgs[i] = _fit(g.image, image_size)
                ok[i] = True
                exact[i] = bool(g.exact) and g.scene is not None
            scenes.append(g.scene.to_dict() if g.scene is not None else None)
            errors.append(g.error)
            if progress and ((i + 1) % 100 == 0 or i + 1 == len(items)):
                progress(f"{label} {i + 1}/{len(items)}")
    return imgs, scenes, ok, exact, errors


def _fit(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` as (size, size, 3): a real generator or editor may return another size
    (an editing pipeline that keeps its own resolution, a non-square generator)."""
    if image.shape == (size, size, 3):
        return image
    from PIL import Image

    pil = Image.fromarray(np.asarray(image, np.uint8)).convert("RGB")
    return np.asarray(pil.resize((size, size), Image.Resampling.BICUBIC))


def _features(backbone, images: np.ndarray, ok: np.ndarray) -> np.ndarray:
    dim = int(backbone.feature_dim)
    out = np.zeros((len(images), dim), np.float32)
    if ok.any():
        out[ok] = backbone.features(list(images[ok])).astype(np.float32)
    return out


def _presence(verifier, concept: str, feats: np.ndarray, scenes: list[dict | None],
              ok: np.ndarray, images=None) -> np.ndarray:
    """The verifier's P(present) for the generated images (NaN where generation failed).

    The verifier gets what it reads: scene records (``needs_scenes``), the images
    themselves (``needs_images``, e.g. CLIP or a VLM) or backbone features."""
    p = np.full(len(ok), np.nan)
    idx = np.flatnonzero(ok)
    if idx.size:
        kw: dict[str, Any] = {"features": feats[idx]}
        if getattr(verifier, "needs_scenes", False):
            kw = {"scenes": [Scene.from_dict(scenes[i]) for i in idx]}  # type: ignore[arg-type]
        elif getattr(verifier, "needs_images", False):
            kw = {"images": images()[idx]}
        p[idx] = verifier.presence(concept, **kw)
    return p


def _image_stage(cache: StageCache, name: str, items: list[dict], make, size: int,
                 progress: Progress | None, say: Progress, verb: str, make_batch=None,
                 need_exact: bool = False):
    """Produce (or read back) the images of ``items``; images load lazily from the cache.

    Returns ``(scenes, ok, images, exact)`` with ``images()`` the (n, S, S, 3) array and
    ``exact`` (None unless ``need_exact``; a cached stage without it is rebuilt) whether
    each image is the render of its scene record."""
    got = cache.load(f"{name}.npz")
    held: dict[str, np.ndarray | None] = {"images": None}
    for it in items:
        it["run"] = (lambda it=it: make(it))

    def generate() -> tuple[np.ndarray, list, np.ndarray, np.ndarray]:
        images, scenes, ok, exact, _err = _generate_all(items, size, progress, verb,
                                                        make_batch)
        cache.save(f"{name}-images.npz", {"images": images})
        cache.save(f"{name}.npz", {"scenes": _blob(scenes), "ok": ok, "exact": exact})
        return images, scenes, ok, exact

    if got is not None and len(got["ok"]) == len(items) \
            and (not need_exact or "exact" in got) \
            and cache.readable(f"{name}-images.npz"):
        scenes, ok = _unblob(got["scenes"]), got["ok"]
        exact = got.get("exact")
    else:  # missing, from an older version, or a damaged image archive: rebuilt
        say(f"{verb} {len(items)} images")
        held["images"], scenes, ok, exact = generate()

    def images() -> np.ndarray:
        if held["images"] is None:
            again = cache.load(f"{name}-images.npz")
            if again is not None and "images" in again and len(again["images"]) == len(items):
                held["images"] = again["images"]
            else:  # damaged inside (found on reading): rebuilt, as the other stage files
                say(f"the cached {name} images are damaged: {verb} {len(items)} images again")
                images_, scenes_, ok_, _exact = generate()
                if not np.array_equal(ok_, ok) or _unblob(_blob(scenes_)) != scenes:
                    # the backend did not give the same images again: the later stages of
                    # this build would not match them; drop them so the next run rebuilds
                    cache.discard(f"{name}.npz", f"{name}-verified.npz")
                    raise DataError(f"the cached images in {cache.root} were damaged and the "
                                    "image backend did not reproduce them; the stage was "
                                    "removed from the cache: rerun")
                held["images"] = images_
        return held["images"]

    return scenes, ok, images, (exact if need_exact else None)


def _verified_stage(cache: StageCache, name: str, n: int, backbone, verifier, concept: str,
                    images, scenes: list[dict | None], ok: np.ndarray,
                    say: Progress) -> tuple[np.ndarray, np.ndarray]:
    """Backbone features and the verifier's P(concept present), or read them back."""
    got = cache.load(f"{name}-verified.npz")
    if got is not None and len(got["presence"]) == n:
        return got["features"], got["presence"]
    say(f"features and verification of {int(ok.sum())} images")
    feats = _features(backbone, images(), ok)
    presence = _presence(verifier, concept, feats, scenes, ok, images)
    cache.save(f"{name}-verified.npz", {"features": feats, "presence": presence})
    return feats, presence


def _absent_by_record(concept: str, scenes: list[dict | None],
                      exact: np.ndarray | None) -> np.ndarray:
    """Edits whose image is the exact render of a scene record that no longer shows
    ``concept`` (the embedded world's exact editor); False for everything else (pixel
    edits, real editors, concepts outside the synthetic vocabulary)."""
    out = np.zeros(len(scenes), bool)
    from braincause.synth.concepts import CONCEPTS

    target = CONCEPTS.get(concept)
    if exact is None or target is None:
        return out
    for i, (rec, ex) in enumerate(zip(scenes, exact, strict=True)):
        if ex and rec is not None:
            out[i] = not target.present(Scene.from_dict(rec))
    return out


def _controls(cache: StageCache, concept: str, seed: int, items: list[dict],
              edit_items: list[dict], scenes: list[dict | None],
              e_scenes: list[dict | None], e_ok: np.ndarray, gen_images, edit_images, *,
              writer, editor, backbone, verifier, size: int,
              progress: Progress | None, say: Progress):
    """The cue controls of every edited positive (:mod:`braincause.stimuli.controls`):
    the writer's stand-ins, rendered by the editor, and the positive scrambled in place
    under the pixels its first produced removal edit changed. Returns ``(items, scenes,
    ok, images, features, presence)``."""
    parents = list(dict.fromkeys(int(it["parent"]) for it in edit_items))
    if not parents:
        return [], [], np.zeros(0, bool), (lambda: None), None, None
    ask = getattr(writer, "control_instructions", None)  # optional for third-party writers
    standin: list[dict] = []
    for r in parents:
        rec = scenes[r]
        source = Scene.from_dict(rec) if rec is not None else items[r]["text"]
        texts = ask(concept, source, random_state=_seed(seed, 5, r)) if ask else []
        for j, text in enumerate(texts):  # the writer's first stand-in is the neutral one
            kind = "neutral" if j == 0 else f"cue:{standin_object(text) or 'stand-in'}"
            standin.append({"role": "control", "split": items[r]["split"], "text": text,
                            "counter": kind, "parent": r, "seed": _seed(seed, 6, r, j)})

    def source_of(r: int) -> Generated:
        if scenes[r] is not None:
            return Generated(None, Scene.from_dict(scenes[r]))
        return Generated(gen_images()[r], None, exact=False)

    batch = None
    if hasattr(editor, "edit_batch"):
        def batch(chunk: list[dict]) -> list[Generated]:
            return editor.edit_batch([source_of(it["parent"]) for it in chunk],
                                     [it["text"] for it in chunk], [it["seed"] for it in chunk])
    s_scenes, s_ok, s_images, _ = _image_stage(
        cache, f"{CONTROLS_VERSION}-standins", standin,
        lambda it: editor.edit(source_of(it["parent"]), it["text"], seed=it["seed"]),
        size, progress, say, "stand-in controls", batch)

    first_removal: dict[int, int] = {}
    for j, it in enumerate(edit_items):
        if e_ok[j] and is_removal(it["text"]):
            first_removal.setdefault(int(it["parent"]), j)
    scramble = [{"role": "control", "split": items[r]["split"],
                 "text": f"{verb} in place: {edit_items[first_removal[r]]['text']}",
                 "counter": kind, "parent": r, "edit": first_removal[r],
                 "seed": _seed(seed, 7, r, k)}
                for r in parents if r in first_removal
                for k, (kind, verb) in enumerate((("scramble", "scramble"),
                                                  ("phase-scramble", "phase scramble")))]
    how = {"scramble": scramble_in_place, "phase-scramble": phase_scramble_in_place}

    def make_scramble(it: dict) -> Generated:
        pos, ed = gen_images()[it["parent"]], edit_images()[it["edit"]]
        mask = changed_mask(pos, ed)
        if mask is None:
            return Generated(None, None, "the removal edit changed no pixels")
        rec = e_scenes[it["edit"]]  # what is left identifiable: the edited scene
        return Generated(how[it["counter"]](pos, mask, random_state=it["seed"]),
                         Scene.from_dict(rec) if rec is not None else None, exact=False)

    x_scenes, x_ok, x_images, _ = _image_stage(
        cache, f"{CONTROLS_VERSION}-scrambles", scramble, make_scramble, size, progress, say,
        "scrambled controls")
    c_items = standin + scramble
    c_scenes = list(s_scenes) + list(x_scenes)
    c_ok = np.r_[s_ok, x_ok].astype(bool)

    def images() -> np.ndarray:
        return np.concatenate([s_images(), x_images()])

    feats, presence = _verified_stage(cache, f"{CONTROLS_VERSION}-controls", len(c_items),
                                      backbone, verifier, concept, images, c_scenes, c_ok, say)
    return c_items, c_scenes, c_ok, images, feats, presence


def build_causal_dataset(concept: str, *, writer, generator, editor, verifier, backbone,
                         sizes: DatasetSizes | None = None, seed: int = 0,
                         threshold: float = 0.5, absent_threshold: float | None = None,
                         use_cache: bool = True,
                         with_images: bool = True,
                         with_controls: bool = True,
                         progress: Progress | None = None) -> CausalDataset:
    """Plan, generate, edit and verify the causal dataset of ``concept`` (see module doc).

    Parameters
    ----------
    concept : str
        A concept name of the vocabulary (already resolved).
    writer, generator, editor, verifier, backbone
        The role implementations (``PromptWriter``, ``ImageGenerator``, ``ImageEditor``,
        ``ConceptVerifier``, ``Backbone``).
    sizes : DatasetSizes
    seed : int
        Seeds the plan and every image; same seed ⇒ identical dataset.
    threshold : float
        Verifier probability cut-off for positives (present: P ≥ threshold).
    absent_threshold : float, optional
        Cut-off for negatives and edits (absent: P < absent_threshold); defaults to
        ``threshold``. A lower value asks for confident absence.
    with_images : bool
        Keep the images in the result (False: features only, less memory and I/O).
    with_controls : bool
        Make the cue controls (step 6). Baseline concepts, which only the paper's rule
        reads, skip them.
    """
    sizes = sizes or DatasetSizes()
    if not 0 < threshold < 1:
        raise UserInputError(f"threshold must be in (0, 1), got {threshold}")
    absent_threshold = threshold if absent_threshold is None else float(absent_threshold)
    if not 0 < absent_threshold <= threshold:
        raise UserInputError(f"absent_threshold must be in (0, threshold], got "
                             f"{absent_threshold}")
    size = int(getattr(generator, "image_size", 160))
    parts = {"writer": writer.config, "generator": generator.config, "editor": editor.config,
             "verifier": verifier.fingerprint(), "backbone": backbone.fingerprint(),
             "threshold": threshold, "absent_threshold": absent_threshold}
    key = dataset_key(concept, seed=seed, sizes=sizes, parts=parts)
    cache = StageCache(cache_dir() / "datasets" / f"{concept}-{key}" if use_cache else None)
    say = progress or (lambda _m: None)

    # 1. plan
    got = cache.load("plan.npz")
    if got is not None:
        plan = Plan.from_dict(_unblob(got["plan"]))
    else:
        say("planning prompts and counter-concepts")
        plan = make_plan(writer, concept, n_positive=sizes.n_positive, n_counter=sizes.n_counter,
                         n_negative_prompts=sizes.n_negative_prompts, seed=seed)
        cache.save("plan.npz", {"plan": _blob(plan.to_dict())})

    # 2. generate positives and negatives
    items: list[dict] = []
    for s_i, split in enumerate(sizes.n_positive):
        for i, p in enumerate(plan.positives[split]):
            items.append({"role": "positive", "split": split, "text": p, "counter": "",
                          "seed": _seed(seed, 1, s_i, i)})
        for c_i, (lab, prompts) in enumerate(plan.negatives.get(split, {}).items()):
            for i, p in enumerate(prompts):
                items.append({"role": "negative", "split": split, "text": p, "counter": lab,
                              "seed": _seed(seed, 2, s_i, c_i, i)})
    gen_batch = None
    if hasattr(generator, "generate_batch"):  # a batching backend (diffusers)
        def gen_batch(chunk: list[dict]) -> list[Generated]:
            return generator.generate_batch([it["text"] for it in chunk],
                                            [it["seed"] for it in chunk])
    scenes, ok, gen_images, _ = _image_stage(
        cache, "generated", items, lambda it: generator.generate(it["text"], seed=it["seed"]),
        size, progress, say, "generating", gen_batch)

    # 3. features and verification of the generated images
    feats, presence = _verified_stage(cache, "generated", len(items), backbone, verifier,
                                      concept, gen_images, scenes, ok, say)
    role = np.array([it["role"] for it in items])
    ok_gen = ok
    p_gen = np.nan_to_num(presence, nan=0.5)
    kept = ok & np.where(role == "positive", p_gen >= threshold, p_gen < absent_threshold)

    # 4. edits of the first verified positives of each split
    from braincause.synth.scene import Scene as _Scene

    edit_items: list[dict] = []
    for s_i, (split, n_ed) in enumerate(sizes.n_edit_positives.items()):
        rows = [i for i, it in enumerate(items)
                if it["role"] == "positive" and it["split"] == split and kept[i]][:n_ed]
        for r in rows:
            # the embedded writer reads the scene record; a real one reads the prompt
            source = _Scene.from_dict(scenes[r]) if scenes[r] is not None else items[r]["text"]
            instr = writer.edit_instructions(concept, source, sizes.n_edits,
                                             random_state=_seed(seed, 3, s_i, r))
            for j, text in enumerate(instr):
                edit_items.append({"role": "edit", "split": split, "text": text, "counter": "",
                                   "parent": r, "seed": _seed(seed, 4, r, j)})

    def source(r: int) -> Generated:
        if scenes[r] is not None:  # an exact scene intervention
            return Generated(None, _Scene.from_dict(scenes[r]))
        return Generated(gen_images()[r], None, exact=False)  # pixels for a real editor

    def edit(it: dict) -> Generated:
        return editor.edit(source(it["parent"]), it["text"], seed=it["seed"])

    edit_batch = None
    if hasattr(editor, "edit_batch"):  # a batching backend (diffusers, inpainting)
        def edit_batch(chunk: list[dict]) -> list[Generated]:
            return editor.edit_batch([source(it["parent"]) for it in chunk],
                                     [it["text"] for it in chunk],
                                     [it["seed"] for it in chunk])
    e_scenes, e_ok, edit_images, e_exact = _image_stage(
        cache, "edits", edit_items, edit, size, progress, say, "editing", edit_batch,
        need_exact=True)

    # 5. features and verification of the edits; an exact edit whose scene record no
    # longer shows the concept needs no verifier (the record is what the image shows)
    e_feats, e_presence = _verified_stage(cache, "edits", len(edit_items), backbone, verifier,
                                          concept, edit_images, e_scenes, e_ok, say)
    by_record = _absent_by_record(concept, e_scenes, e_exact)
    e_kept = e_ok & ((np.nan_to_num(e_presence, nan=1.0) < absent_threshold) | by_record)

    # 6. controls of the edited positives (stimuli.controls): kept whatever the
    # verifier says, since looking like the concept is what a control must control for
    control_items, c_scenes, c_ok, control_images, c_feats, c_presence = _controls(
        cache, concept, seed, items, edit_items if with_controls else [], scenes, e_scenes,
        e_ok, gen_images, edit_images, writer=writer, editor=editor, backbone=backbone,
        verifier=verifier, size=size, progress=progress, say=say)

    items = items + edit_items
    feats = np.concatenate([feats, e_feats]) if len(edit_items) else feats
    presence, kept, ok = np.r_[presence, e_presence], np.r_[kept, e_kept], np.r_[ok, e_ok]
    scenes = list(scenes) + list(e_scenes)
    images_of = [gen_images, edit_images]
    if control_items:
        items += control_items
        feats = np.concatenate([feats, c_feats])
        presence, kept, ok = np.r_[presence, c_presence], np.r_[kept, c_ok], np.r_[ok, c_ok]
        scenes += list(c_scenes)
        images_of.append(control_images)
    all_items = items
    ds = CausalDataset(
        concept=concept, key=key,
        role=np.array([it["role"] for it in all_items]),
        split=np.array([it["split"] for it in all_items]),
        text=[it["text"] for it in all_items],
        counter=np.array([it["counter"] for it in all_items]),
        parent=np.array([it.get("parent", -1) for it in all_items], int),
        ok=ok.astype(bool),
        presence=presence,
        kept=kept.astype(bool),
        features=feats,
        images=(np.concatenate([f() for f in images_of]) if len(all_items) > len(ok_gen)
                else gen_images()) if with_images else None,
        scenes=scenes,
        plan=plan,
        config={"key": key, "seed": seed, "sizes": sizes.to_dict(), **parts},
    )
    return ds
