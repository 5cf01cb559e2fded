"""Caption-embedding retrieval of measured images: ranking, candidates, verification."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from braincause.exceptions import UserInputError
from braincause.retrieval import CaptionIndex, Retrieval, retrieve_negatives, retrieve_positives

WORDS = ("dog", "cat", "pizza", "plate", "car", "table", "grass", "street", "red", "sofa")


class KeywordEmbedder:
    """Exact, model-free stand-in: a unit vector of keyword counts (plus a bias axis)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def fingerprint(self) -> str:
        return "keywords-v1"

    def encode(self, texts, batch_size=64):
        self.calls.append(len(texts))
        out = np.zeros((len(texts), len(WORDS) + 1), np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                if w in WORDS:
                    out[i, WORDS.index(w)] += 1
            out[i, -1] = 0.5
        return out / np.linalg.norm(out, axis=1, keepdims=True)


CAPTIONS = [
    ["a dog on the grass", "a brown dog"],                    # 0
    ["a cat on a sofa"],                                      # 1
    ["a dog and a cat", "two pets"],                          # 2
    ["a plate of pizza", "pizza pizza on a table"],           # 3
    ["a red car on the street", "a car"],                     # 4
    ["a dog", "a brown dog"],                                 # 5 (a repeated caption)
    ["an empty plate", "a plate on a table"],                 # 6
    ["a table"],                                              # 7
]


@pytest.fixture
def index():
    return CaptionIndex(CAPTIONS, KeywordEmbedder())


def test_similarity_is_the_best_caption(index):
    emb = index.embedder
    s = index.similarity("dog")
    assert s.shape == (8,) and s.dtype == np.float32
    q = emb.encode(["dog"])[0]
    for i, caps in enumerate(CAPTIONS):
        assert s[i] == pytest.approx(max(emb.encode(caps) @ q), abs=1e-6)
    assert index.caption_similarity("dog").shape == (index.n_captions,) == (14,)
    assert index.caption_embeddings.shape == (14, len(WORDS) + 1)
    assert index.image_of_caption.tolist() == [0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7]


def test_ranking_candidates_and_ties(index):
    r = retrieve_positives(index, "dog", verify=None, top=3)
    assert isinstance(r, Retrieval)
    assert r.ranked.tolist() == [0, 5, 2]  # 0 and 5 tie on "a dog"-like captions: by index
    assert r.indices.tolist() == [0, 5, 2] and r.n_ranked == 3 and r.n_verified == 3
    assert np.all(np.diff(r.similarity) <= 0)
    r = retrieve_positives(index, "dog", candidates=np.array([7, 2, 5, 2]), verify=None, top=10)
    assert r.ranked.tolist() == [5, 2, 7]
    mask = np.zeros(8, bool)
    mask[[1, 2]] = True
    r = retrieve_positives(index, "cat", candidates=mask, verify=None, top=1)
    assert r.ranked.tolist() == [1]
    r = retrieve_positives(index, "dog", candidates=np.array([], int), verify=lambda i: 1 / 0)
    assert r.n_ranked == 0 and len(r) == 0 and np.isnan(r.precision)


def test_verification_filters_and_max_keep(index):
    seen = []

    def verify(idx):
        seen.append(idx.tolist())
        return np.isin(idx, [5, 2])

    r = retrieve_positives(index, "dog", verify=verify, top=3)
    assert seen == [[0, 5, 2]]
    assert r.indices.tolist() == [5, 2]
    assert r.verified.tolist() == [False, True, True]
    assert r.n_verified == 2 and r.precision == pytest.approx(2 / 3)
    r = retrieve_positives(index, "dog", verify=verify, top=3, max_keep=1)
    assert r.indices.tolist() == [5] and r.n_verified == 2
    r = retrieve_positives(index, "dog", verify=lambda i: (i % 2).astype(int), top=3)
    assert r.indices.tolist() == [5]
    with pytest.raises(UserInputError, match="shape"):
        retrieve_positives(index, "dog", verify=lambda i: np.ones(2, bool), top=3)
    with pytest.raises(UserInputError, match="booleans"):
        retrieve_positives(index, "dog", verify=lambda i: np.full(i.size, 0.7), top=3)


def test_negatives_rerank_by_least_target_similarity(index):
    # plates: 3 (pizza on a plate), 6 (empty plate / plate on a table), 7 (a table)
    r = retrieve_negatives(index, "plate", "pizza", verify_negative=None,
                           verify_target_absent=None, top=3)
    first = retrieve_positives(index, "plate", verify=None, top=3).ranked
    assert set(r.ranked.tolist()) == set(first.tolist())
    target = index.similarity("pizza")[r.ranked]
    assert np.all(np.diff(target) >= 0)
    assert r.ranked[-1] == 3  # the pizza plate is the most target-like: last
    assert r.target_query == "pizza" and r.target_similarity is not None
    has_plate = np.isin(np.arange(8), [3, 6])
    has_pizza = np.isin(np.arange(8), [3])
    r = retrieve_negatives(index, "plate", "pizza", verify_negative=lambda i: has_plate[i],
                           verify_target_absent=lambda i: ~has_pizza[i], top=3)
    assert r.indices.tolist() == [6]
    assert r.n_verified == 1
    np.testing.assert_allclose(r.similarity, index.similarity("plate")[[6]])
    np.testing.assert_allclose(r.target_similarity, index.similarity("pizza")[[6]])
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["indices"] == [6] and d["n_ranked"] == 3 and d["target_query"] == "pizza"


def test_deterministic(index):
    a = retrieve_positives(index, "a red car", verify=None, top=5)
    b = retrieve_positives(CaptionIndex(CAPTIONS, KeywordEmbedder()), "a red car", verify=None,
                           top=5)
    assert a.ranked.tolist() == b.ranked.tolist()
    assert np.array_equal(a.similarity, b.similarity)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("kwargs,match", [
    ({"query": ""}, "empty"), ({"query": "   "}, "empty"), ({"query": 3}, "str"),
    ({"candidates": np.array([0, 8])}, "outside"), ({"candidates": np.array([-1])}, "outside"),
    ({"candidates": np.array([0.0, 1.0])}, "integer"), ({"candidates": np.zeros((2, 2), int)},
                                                        "1-D"),
    ({"candidates": np.ones(3, bool)}, "mask"), ({"top": 0}, "top"), ({"top": True}, "top"),
    ({"max_keep": -1}, "max_keep"),
])
def test_bad_input(index, kwargs, match):
    args = {"query": "dog", "verify": None} | kwargs
    with pytest.raises(UserInputError, match=match):
        retrieve_positives(index, args.pop("query"), **args)
    neg = {k: v for k, v in kwargs.items() if k != "query"}
    with pytest.raises(UserInputError):
        retrieve_negatives(index, kwargs.get("query", "plate"), "pizza", verify_negative=None,
                           verify_target_absent=None, **neg)


@pytest.mark.parametrize("captions", ["a dog", [], [["a dog"], []], [["a dog"], "a cat"],
                                      [["a dog", 3]]])
def test_bad_captions(captions):
    with pytest.raises(UserInputError):
        CaptionIndex(captions, KeywordEmbedder())


def test_disk_cache_and_dedup(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))
    emb = KeywordEmbedder()
    a = CaptionIndex(CAPTIONS, emb, cache_key="pool-a")
    assert emb.calls == [13]  # 14 captions, "a brown dog" twice: embedded once
    assert not a.loaded_from_cache and a.cache_path is not None and a.cache_path.is_file()
    assert a.cache_path.is_relative_to(tmp_path / "retrieval")
    emb2 = KeywordEmbedder()
    b = CaptionIndex(CAPTIONS, emb2, cache_key="pool-a")
    assert b.loaded_from_cache and emb2.calls == []
    assert np.array_equal(a.similarity("dog"), b.similarity("dog"))
    changed = [list(c) for c in CAPTIONS]
    changed[0] = ["a cat"]
    c = CaptionIndex(changed, KeywordEmbedder(), cache_key="pool-a")  # stale: recomputed
    assert not c.loaded_from_cache
    assert c.similarity("cat")[0] > c.similarity("cat")[1] > a.similarity("cat")[0]
    np.load(c.cache_path, allow_pickle=False).close()  # no pickled objects inside


def test_query_embeddings_are_cached_on_disk_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))
    a = CaptionIndex(CAPTIONS, KeywordEmbedder(), cache_key="pool-q")
    want = a.caption_similarity("a dog")
    emb = KeywordEmbedder()
    b = CaptionIndex(CAPTIONS, emb, cache_key="pool-q")  # a new process, in effect
    assert np.array_equal(b.caption_similarity("a dog"), want) and emb.calls == []
    path = b._query_path("a dog")
    path.write_bytes(b"not an array")
    emb3 = KeywordEmbedder()
    c = CaptionIndex(CAPTIONS, emb3, cache_key="pool-q")
    assert np.array_equal(c.caption_similarity("a dog"), want) and emb3.calls == [1]
    assert np.array_equal(np.load(path), c.query_embedding("a dog"))  # rewritten
    # no disk cache without a cache key; results handed out are the caller's to change
    d = CaptionIndex(CAPTIONS, KeywordEmbedder())
    assert d._query_path("a dog") is None
    s = d.caption_similarity("a dog")
    s[:] = 0
    assert np.array_equal(d.caption_similarity("a dog"), want)


def test_for_subject_uses_the_fingerprint(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))

    class Subject:
        n_images = len(CAPTIONS)

        def captions(self, i):
            return CAPTIONS[i]

        def fingerprint(self):
            return "fake-01-abc"

    idx = CaptionIndex.for_subject(Subject(), KeywordEmbedder())
    assert "fake-01-abc" in idx.cache_path.name
    assert CaptionIndex.for_subject(Subject(), KeywordEmbedder()).loaded_from_cache


# ------------------------------------------------------------------- the real model
def _minilm():
    from braincause.concepts.text import default_embedder

    return default_embedder()  # the wheel is part of the test set-up: missing = failure


def test_minilm_ranks_by_meaning():
    idx = CaptionIndex(CAPTIONS, _minilm())
    r = retrieve_positives(idx, "a photo of a puppy", verify=None, top=3)
    assert set(r.ranked.tolist()) == {0, 2, 5}
    r = retrieve_positives(idx, "a photo of food", verify=None, top=1)
    assert r.ranked.tolist() == [3]
    r = retrieve_positives(idx, "a vehicle", verify=None, top=1)
    assert r.ranked.tolist() == [4]


@pytest.mark.slow
def test_retrieval_on_a_synthetic_subject():
    from braincause.datasets.synthetic import load_subject
    from braincause.synth.concepts import CONCEPTS

    emb = _minilm()
    subject = load_subject("synth-01")
    index = CaptionIndex.for_subject(subject, emb)
    assert index.n_images == subject.n_images and index.n_captions == 5 * subject.n_images
    assert CaptionIndex.for_subject(subject, emb).loaded_from_cache

    r = retrieve_positives(index, "a pizza",
                           verify=lambda idx: np.array([subject.scene(int(i)).has("pizza")
                                                        for i in idx]), top=100)
    assert len(r) >= 20
    assert all(subject.scene(int(i)).has("pizza") for i in r.indices)

    scenes = [subject.scene(i) for i in range(subject.n_images)]

    def present(*names):
        return np.array([any(CONCEPTS[n].present(s) for n in names) for s in scenes])

    truth = {"faces": present("person", "human_face"), "food": present("food"),
             "a car": present("car")}
    precision = {}
    for label, there in truth.items():
        raw = retrieve_positives(index, f"a photo of {label}", verify=None, top=20)
        precision[label] = float(there[raw.ranked].mean())
    assert min(precision.values()) >= 0.5, precision
