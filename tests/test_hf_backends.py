"""Real transformers backends with tiny random models built from configs (no downloads).

CLIP / DINOv2 backbones, the CLIP embedder, the CLIP zero-shot and VLM yes/no verifiers,
and the CLIP retriever.
"""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from braincause.encoding.backbone import Backbone, CachedBackbone  # noqa: E402
from braincause.encoding.hf import (  # noqa: E402
    CLIP_MEAN,
    CLIP_STD,
    CLIPBackbone,
    CLIPEmbedder,
    DINOv2Backbone,
    ImagePreprocess,
)
from braincause.exceptions import BackendUnavailable, UserInputError  # noqa: E402
from braincause.retrieval.clip import CLIPRetriever  # noqa: E402
from braincause.retrieval.search import retrieve_positives  # noqa: E402
from braincause.stimuli.clip_verifier import CLIPVerifier  # noqa: E402
from braincause.stimuli.verifier import ConceptVerifier  # noqa: E402
from braincause.stimuli.vlm_verifier import VLMVerifier  # noqa: E402
from tiny_models import clip_config, clip_tokenizer  # noqa: E402


# ----------------------------------------------------------------------------- tiny models
@pytest.fixture(scope="module")
def tok():
    return clip_tokenizer()


@pytest.fixture(scope="module")
def cfg(tok):
    return clip_config(tok)


@pytest.fixture(scope="module")
def clip_bb(cfg) -> CLIPBackbone:
    return CLIPBackbone.from_config(cfg, device="cpu", batch_size=3)


@pytest.fixture(scope="module")
def embedder(cfg, tok) -> CLIPEmbedder:
    return CLIPEmbedder.from_config(cfg, tok, device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (7, 31, 37, 3), dtype=np.uint8)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch, no_network):
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return home


def _files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ----------------------------------------------------------------------------- backbones
def test_clip_backbone_contract(clip_bb, images):
    assert isinstance(clip_bb, Backbone)
    assert clip_bb.layers == ("hidden.1", "hidden.2", "hidden.3", "embeds")
    assert clip_bb.image_size == 28
    X = clip_bb.features(images)
    assert X.shape == (7, clip_bb.feature_dim) == (7, 3 * 2 * 16 + 12)
    assert X.dtype == np.float32 and np.isfinite(X).all()
    assert clip_bb.layer_slices["embeds"] == slice(96, 108)
    assert len(clip_bb.feature_names) == clip_bb.feature_dim
    # deterministic, and independent of the batch size and of list vs array input
    np.testing.assert_array_equal(clip_bb.features(images), X)
    one = CLIPBackbone(clip_bb._model, batch_size=1, device="cpu")
    np.testing.assert_allclose(one.features(list(images)), X, atol=1e-5)
    assert clip_bb.features(images[:0]).shape == (0, clip_bb.feature_dim)


def test_clip_backbone_matches_transformers(clip_bb, images):
    """Columns equal the hidden states / image embeddings computed by transformers itself."""
    model = clip_bb._model
    pix = clip_bb.preprocess(list(images[:3]))
    with torch.inference_mode():
        out = model.vision_model(pixel_values=pix, output_hidden_states=True)
        emb = model(pixel_values=pix).image_embeds
    X = clip_bb.features(images[:3])
    h2 = out.hidden_states[2]
    sl = clip_bb.layer_slices["hidden.2"]
    np.testing.assert_allclose(X[:, sl][:, :16], h2[:, 0].numpy(), atol=1e-5)
    np.testing.assert_allclose(X[:, sl][:, 16:], h2[:, 1:].mean(1).numpy(), atol=1e-5)
    np.testing.assert_allclose(X[:, clip_bb.layer_slices["embeds"]], emb.numpy(), atol=1e-5)


def test_preprocess_matches_transformers_processors():
    """Resize + crop + normalise equal transformers' own (PIL) image processors."""
    from transformers.models.bit.image_processing_pil_bit import BitImageProcessorPil
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    rng = np.random.default_rng(3)
    ims = [rng.integers(0, 256, s, dtype=np.uint8) for s in [(45, 61, 3), (70, 33, 3),
                                                               (28, 28, 3)]]
    ours = ImagePreprocess(28, 28, CLIP_MEAN, CLIP_STD)
    ref = CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    dino = DINOv2Backbone._default_preprocess
    ours_d = ImagePreprocess(32, 28, dino.mean, dino.std)
    ref_d = BitImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 28, "width": 28},
                                 image_mean=list(dino.mean), image_std=list(dino.std),
                                 do_convert_rgb=True)
    for im in ims:
        for mine, theirs in ((ours, ref), (ours_d, ref_d)):
            want = theirs(images=im, return_tensors="pt")["pixel_values"][0]
            np.testing.assert_allclose(mine([im])[0].numpy(), want.numpy(), atol=1e-5)
    # settings read from a preprocessor_config.json dict
    got = ImagePreprocess.from_processor_config(
        {"size": {"shortest_edge": 256}, "crop_size": {"height": 224, "width": 224},
         "image_mean": [0.5] * 3, "image_std": [0.25] * 3, "resample": 2}, default=ours)
    assert (got.resize, got.crop, got.mean, got.resample) == (256, 224, (0.5,) * 3, "bilinear")


def test_dinov2_backbone(images):
    cfg = transformers.Dinov2Config(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                    num_attention_heads=2, image_size=28, patch_size=14)
    bb = DINOv2Backbone.from_config(cfg, device="cpu", layers=("hidden.1", "embeds"),
                                    pool="mean")
    assert (bb.preprocess.resize, bb.preprocess.crop) == (32, 28)
    X = bb.features(images)
    assert X.shape == (7, 32) and X.dtype == np.float32
    with torch.inference_mode():
        out = bb._model(pixel_values=bb.preprocess(list(images)), output_hidden_states=True)
    np.testing.assert_allclose(X[:, :16], out.hidden_states[1][:, 1:].mean(1).numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(X[:, 16:], out.pooler_output.numpy(), atol=1e-5)
    # same seed, same weights, same fingerprint; another seed, another fingerprint
    again = DINOv2Backbone.from_config(cfg, device="cpu", layers=("hidden.1", "embeds"),
                                       pool="mean")
    assert again.fingerprint() == bb.fingerprint()
    other = DINOv2Backbone.from_config(cfg, seed=1, device="cpu", layers=("hidden.1", "embeds"),
                                       pool="mean")
    assert other.fingerprint() != bb.fingerprint()


def test_fingerprint_tracks_settings(clip_bb, cfg):
    fp = clip_bb.fingerprint()
    assert len(fp) == 16 and fp == CLIPBackbone.from_config(cfg, device="cpu").fingerprint()
    assert CLIPBackbone.from_config(cfg, device="cpu", pool="cls").fingerprint() != fp
    assert CLIPBackbone.from_config(cfg, device="cpu", layers=("embeds",)).fingerprint() != fp
    json.dumps(clip_bb.config())


def test_cached_backbone_wraps_hf(clip_bb, images, tmp_path):
    cached = CachedBackbone(clip_bb, root=tmp_path)
    a = cached.features(images)
    b = cached.features(images)
    assert cached.misses == 7 and cached.hits == 7
    np.testing.assert_array_equal(a, b)
    assert cached.image_size == 28


def test_backbone_input_errors(clip_bb, cfg):
    with pytest.raises(UserInputError, match="uint8"):
        clip_bb.features(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(UserInputError, match="batch"):
        clip_bb.features(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserInputError, match="image 1"):
        clip_bb.features([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)])
    with pytest.raises(UserInputError, match="unknown layer"):
        CLIPBackbone.from_config(cfg, device="cpu", layers=("hidden.9",))
    with pytest.raises(UserInputError, match="pool"):
        CLIPBackbone.from_config(cfg, device="cpu", pool="max")
    with pytest.raises(UserInputError, match="dtype"):
        CLIPBackbone.from_config(cfg, device="cpu", dtype="int8")


def test_offline_missing_model_raises_backend_unavailable(empty_hub):
    for load, model in ((CLIPBackbone.from_pretrained, "acme/clip-not-cached"),
                        (DINOv2Backbone.from_pretrained, "acme/dino-not-cached"),
                        (CLIPEmbedder.from_pretrained, "acme/clip-not-cached"),
                        (VLMVerifier.from_pretrained, "acme/vlm-not-cached")):
        with pytest.raises(BackendUnavailable) as err:
            load(model, device="cpu")
        msg = str(err.value)
        assert model in msg and f"hf download {model}" in msg
        assert "HF_HUB_OFFLINE" in msg and "\n" not in msg
    assert not [p for p in _files(empty_hub) if p.suffix in (".safetensors", ".bin")]


def test_missing_local_folder(tmp_path, no_network):
    with pytest.raises(BackendUnavailable, match="does not exist"):
        CLIPBackbone.from_pretrained(tmp_path / "nowhere", device="cpu")


def test_from_pretrained_local_folder(clip_bb, embedder, tok, cfg, images, tmp_path,
                                      empty_hub):
    """The full loading path, from a folder written by save_pretrained (offline)."""
    folder = tmp_path / "tiny-clip"
    embedder._model.save_pretrained(folder)
    tok.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(
        {"size": {"shortest_edge": 28}, "crop_size": {"height": 28, "width": 28},
         "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD), "resample": 3}))
    emb = CLIPEmbedder.from_pretrained(folder, device="cpu")
    np.testing.assert_allclose(emb.encode_images(images), embedder.encode_images(images),
                               atol=1e-6)
    texts = ["a photo of a dog", "a red car"]
    np.testing.assert_allclose(emb.encode_texts(texts), embedder.encode_texts(texts), atol=1e-6)
    assert emb.source == str(folder)
    bb = CLIPBackbone.from_pretrained(folder, device="cpu")   # the vision tower only
    ref = CLIPBackbone(embedder._model, device="cpu")
    np.testing.assert_allclose(bb.features(images), ref.features(images), atol=1e-5)
    assert bb.name == f"clip:{folder}"


# ----------------------------------------------------------------------------- embedder
def test_clip_embedder(embedder, images):
    I = embedder.encode_images(images)
    T = embedder.encode(["a photo of a dog", "a cat", "x" * 500])   # truncated, not an error
    assert I.shape == (7, 12) and T.shape == (3, 12)
    np.testing.assert_allclose(np.linalg.norm(I, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(T, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(embedder.encode_texts(["a cat"])[0], T[1], atol=1e-6)
    assert embedder.logit_scale == pytest.approx(np.exp(2.6592), rel=1e-4)
    with pytest.raises(UserInputError):
        embedder.encode_texts("a cat")


# ----------------------------------------------------------------------------- verifiers
def test_clip_verifier_closed_form(embedder, images):
    v = CLIPVerifier(embedder, concepts=["dog"], labels={"dog": "a dog"})
    assert isinstance(v, ConceptVerifier) and v.needs_images and not v.needs_scenes
    p = v.presence("dog", images=images)
    pos, neg = v.prompts("dog")
    assert pos[0] == "a photo of a dog." and "a photo without a dog." in neg
    T = embedder.encode_texts(pos + neg).astype(np.float64)
    t_pos, t_neg = T[:3].mean(0), T[3:].mean(0)
    t_pos, t_neg = t_pos / np.linalg.norm(t_pos), t_neg / np.linalg.norm(t_neg)
    I = embedder.encode_images(images).astype(np.float64)
    logits = embedder.logit_scale * np.stack([I @ t_pos, I @ t_neg], 1)
    want = np.exp(logits[:, 0]) / np.exp(logits).sum(1)
    np.testing.assert_allclose(p, want, rtol=1e-5)
    assert p.shape == (7,) and ((p > 0) & (p < 1)).all()
    t = float(np.median(p))
    np.testing.assert_array_equal(v.verify("dog", images=images, threshold=t), p >= t)
    np.testing.assert_array_equal(v.verify("dog", images=images, present=False, threshold=t),
                                  p < t)
    # open vocabulary: any name works, underscores become spaces
    assert v.prompts("traffic_light")[0][0] == "a photo of traffic light."
    assert v.accuracy() == {}


def test_clip_verifier_config_and_errors(embedder, images):
    v = CLIPVerifier(embedder)
    w = CLIPVerifier(embedder, contrast_templates=["a photo of something else."])
    assert v.fingerprint() != w.fingerprint()
    json.dumps(v.config)
    with pytest.raises(UserInputError, match="images="):
        v.presence("dog", features=np.zeros((2, 3)))
    with pytest.raises(UserInputError, match="uint8"):
        v.presence("dog", images=images.astype(np.float32))
    with pytest.raises(UserInputError, match="label"):
        CLIPVerifier(embedder, present_templates=["a photo."])
    with pytest.raises(UserInputError, match="threshold"):
        v.verify("dog", images=images, threshold=1.5)


def _tiny_vlm():
    """A tiny LLaVA (CLIP vision tower + Llama) and a processor built offline.

    Qwen2-VL's processor needs torchvision (its video processor) in transformers 5, so
    the contract is tested on LLaVA, which follows the same image-text-to-text API.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    words = ["yes", "no", "Yes", "No", "Is", "there", "a", "dog", "in", "this", "image?",
             "Answer", "with", "or", "only.", "user", "assistant", ":",
             "<s>", "</s>", "<pad>", "<image>", "[UNK]"]
    core = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)},
                                      unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>", extra_special_tokens=["<image>"])
    template = ("{% for m in messages %}{{ m['role'] }} : {% for c in m['content'] %}"
                "{% if c['type'] == 'image' %}<image> {% else %}{{ c['text'] }} {% endif %}"
                "{% endfor %}{% endfor %}{% if add_generation_prompt %}assistant : {% endif %}")
    proc = transformers.LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": 28},
                                              crop_size={"height": 28, "width": 28}),
        tokenizer=tok, chat_template=template, patch_size=14,
        vision_feature_select_strategy="default", num_additional_image_tokens=1)
    config = transformers.LlavaConfig(
        vision_config=transformers.CLIPVisionConfig(
            hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
            image_size=28, patch_size=14),
        text_config=transformers.LlamaConfig(
            vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=128,
            pad_token_id=tok.pad_token_id),
        image_token_id=tok.convert_tokens_to_ids("<image>"), vision_feature_layer=-1,
        vision_feature_select_strategy="default")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.AutoModelForImageTextToText.from_config(config)
    return model.eval(), proc


@pytest.fixture(scope="module")
def vlm():
    model, proc = _tiny_vlm()
    return VLMVerifier(model, proc, batch_size=3, concepts=["dog"], labels={"dog": "a dog"})


def test_vlm_verifier_reads_yes_no_logits(vlm, images):
    assert isinstance(vlm, ConceptVerifier) and vlm.needs_images
    tok = vlm.processor.tokenizer
    assert vlm.yes_ids == sorted(tok.convert_tokens_to_ids(["yes", "Yes"]))
    assert vlm.no_ids == sorted(tok.convert_tokens_to_ids(["no", "No"]))
    assert vlm.prompt("dog").endswith("assistant : ")
    p = vlm.presence("dog", images=images)
    assert p.shape == (7,) and ((p > 0) & (p < 1)).all()
    # oracle: one image at a time, straight from the model's last-position logits
    from PIL import Image

    for i in (0, 5):
        inputs = vlm.processor(text=[vlm.prompt("dog")], images=[Image.fromarray(images[i])],
                               return_tensors="pt")
        with torch.inference_mode():
            last = vlm.model(**inputs).logits[0, -1].double()
        yes = torch.logsumexp(last[vlm.yes_ids], 0)
        no = torch.logsumexp(last[vlm.no_ids], 0)
        assert p[i] == pytest.approx(float(torch.sigmoid(yes - no)), abs=1e-5)
    np.testing.assert_array_equal(vlm.verify("dog", images=images), p >= 0.5)
    json.dumps(vlm.config)


def test_vlm_verifier_planted_answer(vlm, images):
    """Raise the output bias of "yes" (then "no"): every answer follows it."""
    head = vlm.model.lm_head
    with torch.no_grad():
        bias = torch.zeros(head.weight.shape[0])
        bias[vlm.yes_ids] = 30.0
        head.bias = torch.nn.Parameter(bias)
        try:
            assert vlm.verify("dog", images=images[:4]).all()
            bias[:] = 0
            bias[vlm.no_ids] = 30.0
            head.bias = torch.nn.Parameter(bias)
            assert vlm.verify("dog", images=images[:4], present=False).all()
        finally:
            head.bias = None


def test_vlm_verifier_errors(images):
    model, proc = _tiny_vlm()
    with pytest.raises(UserInputError, match="label"):
        VLMVerifier(model, proc, question="Is it there?")
    v = VLMVerifier(model, proc)
    with pytest.raises(UserInputError, match="images="):
        v.presence("dog")
    proc.chat_template = None
    with pytest.raises(UserInputError, match="chat template"):
        VLMVerifier(model, proc)


# ----------------------------------------------------------------------------- retrieval
class _Counting:
    """An embedder wrapper counting images embedded."""

    def __init__(self, inner):
        self.inner, self.n_images = inner, 0
        self.preprocess = inner.preprocess

    def encode_images(self, images):
        self.n_images += len(images)
        return self.inner.encode_images(images)

    def encode_texts(self, texts):
        return self.inner.encode_texts(texts)

    def fingerprint(self):
        return self.inner.fingerprint()


def test_clip_retriever_search_and_cache(embedder, images):
    emb = _Counting(embedder)
    r = CLIPRetriever(images, emb, batch_size=3)
    assert emb.n_images == 7 and not r.loaded_from_cache and r.dim == 12
    want = embedder.encode_images(images) @ embedder.encode_texts(["a dog"])[0]
    np.testing.assert_allclose(r.similarity("a dog"), want, atol=1e-6)
    idx, scores = r.search("a dog", k=4)
    assert idx.dtype == np.int64 and idx.tolist() == np.argsort(-want, kind="stable")[:4].tolist()
    np.testing.assert_allclose(scores, want[idx], atol=1e-6)
    assert len(r.search("a dog", k=50)[0]) == 7
    again = CLIPRetriever(images, emb)
    assert again.loaded_from_cache and emb.n_images == 7      # nothing re-embedded
    np.testing.assert_array_equal(again.image_embeddings, r.image_embeddings)
    assert "clip-" in again.cache_path.name and embedder.fingerprint() in again.cache_path.name
    changed = images.copy()
    changed[0, 0, 0] ^= 1
    assert not CLIPRetriever(changed, emb).loaded_from_cache    # content-keyed
    # the retrieval protocol of CaptionIndex
    got = retrieve_positives(r, "a dog", verify=None, top=3)
    assert got.indices.tolist() == idx[:3].tolist()


def test_clip_retriever_for_subject_and_errors(embedder, images):
    class Subject:
        n_images = 5
        reads = 0

        def image(self, i, size=224):
            Subject.reads += 1
            return np.full((size, size, 3), 40 * i, np.uint8)

        def fingerprint(self):
            return "tiny-subject"

    r = CLIPRetriever.for_subject(Subject(), embedder, batch_size=2)
    assert r.n_images == 5 and Subject.reads == 5
    assert CLIPRetriever.for_subject(Subject(), embedder).loaded_from_cache
    assert Subject.reads == 5                       # a cache hit reads no image
    with pytest.raises(UserInputError, match="empty"):
        CLIPRetriever(images[:0], embedder)
    with pytest.raises(UserInputError, match="k must"):
        r.search("a dog", k=0)
    with pytest.raises(UserInputError, match="empty"):
        r.similarity("  ")
    with pytest.raises(UserInputError, match="uint8"):
        CLIPRetriever(images.astype(np.int16), embedder)


# ----------------------------------------------------------------------------- GPU
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_clip_backbone_on_gpu(cfg, images):
    cpu = CLIPBackbone.from_config(cfg, device="cpu")
    gpu = CLIPBackbone.from_config(cfg, device="cuda", dtype="float32")
    np.testing.assert_allclose(gpu.features(images), cpu.features(images), atol=1e-4)
    half = CLIPBackbone.from_config(cfg, device="cuda", dtype="bfloat16")
    assert half.fingerprint() != gpu.fingerprint()
    assert np.isfinite(half.features(images)).all()
