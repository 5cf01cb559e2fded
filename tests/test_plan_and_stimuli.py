"""Planning (embedded prompt writer), generation, editing and the causal dataset cache."""

from __future__ import annotations

import numpy as np
import pytest

from braincause.plan import EmbeddedPromptWriter, make_plan
from braincause.plan.base import Plan
from braincause.stimuli.generate import Generated, SceneEditor, SceneGenerator
from braincause.synth.concepts import CONCEPTS
from braincause.synth.grammar import parse
from braincause.synth.sampler import sample_scenes

WRITER = EmbeddedPromptWriter()


@pytest.mark.parametrize("concept", ["human_face", "food", "person_surfing", "kitchen", "text",
                                     "hands_in_action", "social_interaction", "sky"])
def test_prompts_parse_and_stage_the_concept(concept):
    plan = make_plan(WRITER, concept, n_positive={"train": 30, "eval": 10}, n_counter=10,
                     n_negative_prompts=6, seed=3)
    assert len(plan.positives["train"]) == 30 and len(plan.positives["eval"]) == 10
    prompts = [p for s in plan.positives.values() for p in s]
    prompts += [p for s in plan.negatives.values() for v in s.values() for p in v]
    for p in prompts:
        assert parse(p).unknown == (), p          # every word is understood
    # positives stage the concept
    c = CONCEPTS[concept]
    scenes = [sample_scenes(1, i, parse(p))[0] for i, p in enumerate(plan.positives["train"][:12])]
    assert np.mean([c.present(s) for s in scenes]) >= 0.9
    assert len(set(plan.positives["train"])) >= 20   # diverse


@pytest.mark.parametrize("concept", ["human_face", "food", "person_surfing", "text", "tools"])
def test_counter_concepts_are_related_and_never_mention_the_target(concept):
    from braincause.plan.embedded import _mentions, _words

    counters = WRITER.counter_concepts(concept, 10)
    assert 5 <= len(counters) <= 10
    target = CONCEPTS[concept]
    assert all(c.name != concept and c.name not in (target.members if target.kind in (
        "category", "group") else ()) for c in counters)
    assert {c.source for c in counters} & {"co-occurrence", "component"}
    banned = _words(target)
    for c in counters:
        own = {w for w in _words(CONCEPTS[c.name]) | {c.label} if w not in banned}
        for p in WRITER.negative_prompts(concept, c, 10, random_state=1):
            assert not _mentions(p, banned, own), (c.label, p)
    assert _mentions("a man with a face", {"face"}) and not _mentions(
        "an animal face", {"face"}, {"animal face"})


def test_counter_concepts_do_not_require_the_target():
    # a person surfing requires a person: never a counter-concept of "person"
    assert "person_surfing" not in [c.name for c in WRITER.counter_concepts("person", 10)]
    # food's counter-concepts include its co-occurring dishware and a warm-coloured cue
    food = WRITER.counter_concepts("food", 10)
    assert "plate" in [c.name for c in food]
    assert any(c.source == "shared cue" and c.colour for c in food)


def test_plan_roundtrip_and_determinism():
    a = make_plan(WRITER, "food", n_positive={"train": 8, "eval": 4}, n_counter=3,
                  n_negative_prompts=2, seed=5)
    b = make_plan(WRITER, "food", n_positive={"train": 8, "eval": 4}, n_counter=3,
                  n_negative_prompts=2, seed=5)
    c = make_plan(WRITER, "food", n_positive={"train": 8, "eval": 4}, n_counter=3,
                  n_negative_prompts=2, seed=6)
    assert a.to_dict() == b.to_dict() != c.to_dict()
    assert Plan.from_dict(a.to_dict()).to_dict() == a.to_dict()


@pytest.mark.parametrize("concept", ["human_face", "food", "person_surfing", "kitchen",
                                     "hands_in_action", "social_interaction", "person_running"])
def test_edit_instructions_remove_the_concept(concept):
    """Every instruction the writer proposes, executed exactly, removes the concept."""
    c = CONCEPTS[concept]
    gen, ed = SceneGenerator(96), SceneEditor(96)
    n_checked = 0
    for i, p in enumerate(WRITER.positive_prompts(concept, 6, random_state=2)):
        g = gen.generate(p, seed=i)
        assert g.image is not None and g.image.shape == (96, 96, 3)
        if not c.present(g.scene):
            continue
        for j, text in enumerate(WRITER.edit_instructions(concept, g.scene, 10,
                                                          random_state=i)):
            e = ed.edit(g, text, seed=j)
            assert e.image is not None, (text, e.error)
            assert not c.present(e.scene), text
            assert e.exact == (not text.startswith("erase"))
            n_checked += 1
    assert n_checked >= 6


def test_editor_reports_what_it_cannot_do():
    g = SceneGenerator(64).generate("a cup on a table", seed=0)
    ed = SceneEditor(64)
    assert ed.edit(g, "dance the cup", seed=0).image is None
    assert "cannot follow" in ed.edit(g, "dance the cup", seed=0).error
    assert ed.edit(g, "remove the surfboard", seed=0).image is None
    assert ed.edit(Generated(None, None), "remove the cup", seed=0).image is None
    assert SceneGenerator(64).generate("zzz qqq", seed=0).image is None


def test_generation_is_deterministic():
    a = SceneGenerator(64).generate("a pizza in a kitchen", seed=11)
    b = SceneGenerator(64).generate("a pizza in a kitchen", seed=11)
    assert np.array_equal(a.image, b.image)
    e1 = SceneEditor(64).edit(a, "erase the pizza", seed=1)
    e2 = SceneEditor(64).edit(b, "erase the pizza", seed=1)
    assert np.array_equal(e1.image, e2.image) and not np.array_equal(e1.image, a.image)


# ------------------------------------------------------------------ causal dataset
class _Oracle:
    """Exact verifier from scene records (the real OracleVerifier lives in stimuli.verifier)."""

    needs_scenes = True

    def fingerprint(self) -> str:
        return "test-oracle"

    def presence(self, concept, *, scenes):
        return np.array([float(CONCEPTS[concept].present(s)) for s in scenes])


class _TinyBackbone:
    """Colour histogram features: fast, deterministic, enough for the dataset plumbing."""

    feature_dim = 12
    image_size = 48

    def fingerprint(self) -> str:
        return "tiny-hist"

    def features(self, images):
        out = []
        for im in images:
            h = [np.histogram(im[..., c], bins=4, range=(0, 256))[0] for c in range(3)]
            out.append(np.concatenate(h) / im[..., 0].size)
        return np.array(out, np.float32)


class _Counting:
    def __init__(self, inner, fail_after=None):
        self.inner, self.calls, self.fail_after = inner, 0, fail_after
        self.config = inner.config
        self.image_size = inner.image_size

    def generate(self, prompt, *, seed):
        self.calls += 1
        return self.inner.generate(prompt, seed=seed)

    def edit(self, source, text, *, seed):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt  # the user pressed Ctrl-C while editing
        return self.inner.edit(source, text, seed=seed)


def _build(gen, ed, seed=0):
    from braincause.stimuli.dataset import DatasetSizes, build_causal_dataset

    sizes = DatasetSizes({"train": 8, "eval": 6}, 3, 3, {"train": 3, "eval": 2}, 3)
    return build_causal_dataset("human_face", writer=WRITER, generator=gen, editor=ed,
                                verifier=_Oracle(), backbone=_TinyBackbone(), sizes=sizes,
                                seed=seed)


def test_causal_dataset_contents_and_retention():
    ds = _build(SceneGenerator(48), SceneEditor(48))
    sets = ds.scoring_sets("train")
    assert len(sets["pos"]) == 8 and len(sets["edit"]) > 0
    assert set(ds.parent[sets["edit"]]) <= set(sets["pos"])
    # the exact verifier keeps only positives with faces and negatives/edits without
    from braincause.synth.scene import Scene

    face = CONCEPTS["human_face"]
    for i in np.flatnonzero(ds.kept):
        assert face.present(Scene.from_dict(ds.scenes[i])) == (ds.role[i] == "positive")
    r = ds.retention()
    assert r["positive_train"]["planned"] == 8
    assert r["negative_eval"]["planned"] == 9 and sum(
        v["planned"] for v in r["per_counter_concept"].values()) == 18
    assert ds.images.shape == (ds.n_items, 48, 48, 3)


def test_interrupted_build_resumes_from_the_cache():
    """Ctrl-C during the edit stage; the rerun does not generate again and matches a
    clean run."""
    gen = _Counting(SceneGenerator(48))
    with pytest.raises(KeyboardInterrupt):
        _build(gen, _Counting(SceneEditor(48), fail_after=4), seed=7)
    assert gen.calls > 0
    gen2, ed2 = _Counting(SceneGenerator(48)), _Counting(SceneEditor(48))
    ds = _build(gen2, ed2, seed=7)
    assert gen2.calls == 0 and ed2.calls > 0          # finished stages came from the cache
    gen3, ed3 = _Counting(SceneGenerator(48)), _Counting(SceneEditor(48))
    again = _build(gen3, ed3, seed=7)
    assert gen3.calls == 0 and ed3.calls == 0
    assert np.array_equal(ds.features, again.features) and ds.text == again.text
    assert np.array_equal(ds.kept, again.kept)


def test_damaged_stage_file_is_recomputed():
    from braincause.utils import cache_dir

    ds = _build(SceneGenerator(48), SceneEditor(48), seed=9)
    stage = cache_dir() / "datasets" / f"human_face-{ds.key}" / "edits.npz"
    stage.write_bytes(b"not a zip file")
    ed = _Counting(SceneEditor(48))
    again = _build(SceneGenerator(48), ed, seed=9)
    assert ed.calls > 0 and again.text == ds.text
    assert np.array_equal(again.features, ds.features)


# ---------------------------------------------------------------- real-backend path
from typing import ClassVar  # noqa: E402


class _PixelWriter:
    """A writer whose edit instructions read the positive's prompt (as an LLM's would)."""

    config: ClassVar[dict] = {"name": "pixel-writer"}

    def positive_prompts(self, concept, n, *, random_state=None):
        return [f"a red {concept} number {i}" for i in range(n)]

    def counter_concepts(self, concept, n):
        from braincause.plan.base import CounterConcept

        return [CounterConcept(f"thing{i}", f"thing {i}", "context", "test") for i in range(n)]

    def negative_prompts(self, concept, counter, n, *, random_state=None):
        return [f"a blue {counter.label} {i}" for i in range(n)]

    def edit_instructions(self, concept, scene, n, *, random_state=None):
        assert isinstance(scene, str) and concept in scene  # the prompt, not a scene record
        return [f"paint the {concept} blue ({j})" for j in range(n)]


class _PixelGenerator:
    config: ClassVar[dict] = {"name": "pixel-gen"}
    image_size = 16

    def generate(self, prompt, *, seed):
        from braincause.stimuli.generate import Generated

        img = np.zeros((16, 16, 3), np.uint8)
        img[..., 0 if "red" in prompt else 2] = 200
        img[0, 0] = seed % 251
        return Generated(img, None, exact=False)


class _PixelEditor:
    config: ClassVar[dict] = {"name": "pixel-edit"}

    def edit(self, source, instruction, *, seed):
        from braincause.stimuli.generate import Generated

        assert source.scene is None and source.image is not None
        img = source.image.copy()
        img[..., 0], img[..., 2] = 0, 200
        return Generated(img, None, exact=False)


class _RedVerifier:
    """Reads the images themselves (``needs_images``): P(present) = share of red."""

    needs_scenes = False
    needs_images = True
    concepts = ("widget",)
    config: ClassVar[dict] = {"name": "red"}

    def presence(self, concept, *, images=None, features=None, scenes=None):
        assert images is not None and features is None
        im = np.asarray(images, np.float64)
        return im[..., 0].mean(axis=(1, 2)) / 255 / 0.8

    def fingerprint(self):
        return "red-1"


class _NoBackbone:
    feature_dim = 3
    name = "mean-rgb"

    def features(self, images):
        return np.asarray([np.asarray(i, np.float32).mean(axis=(0, 1)) for i in images])

    def fingerprint(self):
        return "mean-rgb-1"


def test_dataset_builds_from_image_only_backends(tmp_path, monkeypatch):
    """Real backends give images without scene records: edit instructions are written
    from the positive's prompt, the editor gets the generated pixels and an
    image-reading verifier gets the images."""
    from braincause.stimuli.dataset import DatasetSizes, build_causal_dataset

    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))
    sizes = DatasetSizes({"train": 4, "eval": 3}, 2, 2, {"train": 2, "eval": 1}, 2)
    ds = build_causal_dataset("widget", writer=_PixelWriter(), generator=_PixelGenerator(),
                              editor=_PixelEditor(), verifier=_RedVerifier(),
                              backbone=_NoBackbone(), sizes=sizes, seed=3)
    assert ds.kept[ds.role == "positive"].all()
    assert ds.kept[ds.role == "negative"].all()
    edits = ds.role == "edit"
    assert edits.sum() == (2 + 1) * 2 and ds.kept[edits].all()
    assert all(s is None for s in ds.scenes)
    # each edit is its parent's pixels, repainted
    for i in np.flatnonzero(edits):
        par = ds.images[ds.parent[i]]
        assert par[..., 0].mean() > 150 and ds.images[i][..., 2].mean() > 150


class _BatchGenerator(_PixelGenerator):
    """Counts batch calls; its images are the one-by-one generator's."""

    def __init__(self):
        self.calls = []

    def generate_batch(self, prompts, seeds):
        self.calls.append(len(prompts))
        return [self.generate(p, seed=s) for p, s in zip(prompts, seeds, strict=True)]


class _BatchEditor(_PixelEditor):
    def __init__(self):
        self.calls = []

    def edit_batch(self, sources, instructions, seeds):
        self.calls.append(len(sources))
        return [self.edit(s, t, seed=k) for s, t, k in zip(sources, instructions, seeds,
                                                         strict=True)]


def test_batching_backends_get_chunks_and_give_the_same_dataset(tmp_path, monkeypatch):
    from braincause.stimuli import dataset as D

    monkeypatch.setattr(D, "BATCH_CHUNK", 5)
    sizes = D.DatasetSizes({"train": 4, "eval": 3}, 2, 2, {"train": 2, "eval": 1}, 2)
    kw = dict(writer=_PixelWriter(), verifier=_RedVerifier(), backbone=_NoBackbone(),
              sizes=sizes, seed=3, use_cache=False)
    one = D.build_causal_dataset("widget", generator=_PixelGenerator(), editor=_PixelEditor(),
                                 **kw)
    gen, ed = _BatchGenerator(), _BatchEditor()
    many = D.build_causal_dataset("widget", generator=gen, editor=ed, **kw)
    n_gen = int(np.isin(one.role, ["positive", "negative"]).sum())
    assert gen.calls == [5] * (n_gen // 5) + ([n_gen % 5] if n_gen % 5 else [])
    assert sum(ed.calls) == int((one.role == "edit").sum()) and max(ed.calls) <= 5
    np.testing.assert_array_equal(one.images, many.images)
    np.testing.assert_array_equal(one.kept, many.kept)
