"""diffusers generation and editing with tiny random pipelines built from configs (offline).

Needs the optional ``diffusers`` package (the ``real`` extra); skipped without it.
"""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import numpy as np
import pytest
import torch

diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")

from braincause.exceptions import BackendUnavailable, UserInputError  # noqa: E402
from braincause.stimuli.diffusion import (  # noqa: E402
    EDIT_PRESETS,
    GENERATION_PRESETS,
    DiffusersEditor,
    DiffusersGenerator,
    MaskInpaintEditor,
)
from braincause.stimuli.generate import Generated, ImageEditor, ImageGenerator  # noqa: E402

SIZE = 32
STEPS = 2


# ----------------------------------------------------------------------------- tiny pipelines
def _components(in_channels: int) -> dict:
    from tiny_models import sd_components

    return sd_components(in_channels, SIZE)


@pytest.fixture(scope="module")
def sd_pipe():
    return diffusers.StableDiffusionPipeline(**_components(4))


@pytest.fixture(scope="module")
def ip2p_pipe():
    return diffusers.StableDiffusionInstructPix2PixPipeline(**_components(8))


@pytest.fixture(scope="module")
def inpaint_pipe():
    return diffusers.StableDiffusionInpaintPipeline(**_components(9))


@pytest.fixture(scope="module")
def gen(sd_pipe) -> DiffusersGenerator:
    return DiffusersGenerator(sd_pipe, height=SIZE, width=SIZE, num_inference_steps=STEPS,
                              batch_size=3)


@pytest.fixture(scope="module")
def source(gen) -> Generated:
    return gen.generate("a dog on a lawn", seed=11)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# ----------------------------------------------------------------------------- presets
def test_presets_document_the_paper_settings():
    g, e = GENERATION_PRESETS["paper"], EDIT_PRESETS["paper"]
    assert (g.model, g.height, g.width, g.guidance_scale, g.num_inference_steps) == \
        ("black-forest-labs/FLUX.2-klein-4B", 512, 512, 9.0, 35)
    assert (e.model, e.guidance_scale, e.num_inference_steps) == (g.model, 9.0, 15)
    for p in (*GENERATION_PRESETS.values(), *EDIT_PRESETS.values()):
        assert p.note and "/" in p.model and p.num_inference_steps >= 1
    assert {"flux2-klein-4b", "flux1-schnell", "sdxl-turbo"} <= set(GENERATION_PRESETS)


# ----------------------------------------------------------------------------- generator
def test_generator_contract(gen, source):
    assert isinstance(gen, ImageGenerator)
    assert source.image.shape == (SIZE, SIZE, 3) and source.image.dtype == np.uint8
    assert source.scene is None and source.error == "" and source.exact is False
    assert source.image.std() > 0
    cfg = json.loads(json.dumps(gen.config))
    assert cfg["pipeline_class"] == "StableDiffusionPipeline"
    assert (cfg["num_inference_steps"], cfg["guidance_scale"]) == (STEPS, 9.0)
    # defaults follow the paper
    d = DiffusersGenerator(gen.pipeline)
    assert (d.height, d.width, d.guidance_scale, d.num_inference_steps) == (512, 512, 9.0, 35)


def test_generator_seeds(gen, source):
    again = gen.generate("a dog on a lawn", seed=11)
    np.testing.assert_array_equal(again.image, source.image)
    other = gen.generate("a dog on a lawn", seed=12)
    assert np.abs(other.image.astype(int) - source.image).max() > 10


def test_generator_batch_equals_one_by_one(gen):
    prompts = ["a dog", "a red car", "a bowl of food", "a beach"]
    seeds = [5, 6, 7, 8]
    batch = gen.generate_batch(prompts, seeds)     # calls of 3 + 1
    for p, s, b in zip(prompts, seeds, batch, strict=True):
        one = gen.generate(p, seed=s)
        assert np.abs(one.image.astype(int) - b.image).max() <= 1
    assert gen.generate_batch([], []) == []


class _FakePipeline:
    """A pipeline stand-in that fails on "boom" prompts and returns NaN for "nan"."""

    def __init__(self):
        self.calls = []

    def __call__(self, prompt, generator, height=8, width=8, num_inference_steps=1,
                 guidance_scale=1.0, output_type="pil", return_dict=True):
        self.calls.append(list(prompt))
        if any("boom" in p for p in prompt):
            raise RuntimeError("CUDA out of memory (simulated)")
        images = []
        for p, g in zip(prompt, generator, strict=True):
            x = torch.rand((height, width, 3), generator=g).numpy()
            images.append(np.full_like(x, np.nan) if "nan" in p else x)
        return SimpleNamespace(images=np.stack(images))


def test_generator_failures_are_per_image():
    fake = _FakePipeline()
    g = DiffusersGenerator(fake, height=8, width=8, num_inference_steps=1, batch_size=4,
                           generator_device="cpu")
    out = g.generate_batch(["ok", "boom", "nan", "fine"], [1, 2, 3, 4])
    assert [o.image is None for o in out] == [False, True, True, False]
    assert "out of memory" in out[1].error and "non-finite" in out[2].error
    assert fake.calls[0] == ["ok", "boom", "nan", "fine"] and len(fake.calls) == 5  # retried
    np.testing.assert_array_equal(out[0].image, g.generate("ok", seed=1).image)


def test_generator_input_errors(gen, sd_pipe):
    with pytest.raises(UserInputError, match="prompt"):
        gen.generate("  ", seed=1)
    with pytest.raises(UserInputError, match="seed"):
        gen.generate("a dog", seed=-1)
    with pytest.raises(UserInputError, match="equal length"):
        gen.generate_batch(["a", "b"], [1])
    with pytest.raises(UserInputError, match="multiple of 8"):
        DiffusersGenerator(sd_pipe, height=30)
    with pytest.raises(UserInputError, match="num_inference_steps"):
        DiffusersGenerator(sd_pipe, num_inference_steps=0)
    with pytest.raises(UserInputError, match="preset"):
        DiffusersGenerator.from_pretrained(preset="flux9")


def test_offline_missing_pipeline(tmp_path, monkeypatch, no_network):
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    for load, model in ((DiffusersGenerator.from_pretrained, None),
                        (DiffusersEditor.from_pretrained, "acme/kontext-not-cached")):
        with pytest.raises(BackendUnavailable) as err:
            load(model, device="cpu")
        want = model or GENERATION_PRESETS["paper"].model
        assert want in str(err.value) and f"hf download {want}" in str(err.value)
    files = [p for p in home.rglob("*") if p.is_file()] if home.exists() else []
    assert not [p for p in files if p.suffix in (".safetensors", ".bin")]


def test_from_pretrained_local_folder(sd_pipe, gen, tmp_path, monkeypatch, no_network):
    folder = tmp_path / "tiny-sd"
    sd_pipe.save_pretrained(folder)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = DiffusersGenerator.from_pretrained(
        folder, preset=None, device="cpu", dtype="float32", height=SIZE, width=SIZE,
        num_inference_steps=STEPS)
    assert loaded.config["pipeline_class"] == "StableDiffusionPipeline"
    assert loaded.config["model"] == str(folder) and loaded.config["preset"] is None
    json.dumps(loaded.config)
    a = loaded.generate("a dog", seed=3).image
    b = gen.generate("a dog", seed=3).image
    assert np.abs(a.astype(int) - b).max() <= 1


# ----------------------------------------------------------------------------- editors
def test_instruction_editor(ip2p_pipe, source):
    ed = DiffusersEditor(ip2p_pipe, height=None, width=None, num_inference_steps=STEPS,
                         call_kwargs={"image_guidance_scale": 1.5})
    assert isinstance(ed, ImageEditor)
    out = ed.edit(source, "remove the dog", seed=4)
    assert out.image.shape == source.image.shape and out.image.dtype == np.uint8
    assert out.scene is None and out.exact is False and out.error == ""
    np.testing.assert_array_equal(ed.edit(source, "remove the dog", seed=4).image, out.image)
    assert np.abs(ed.edit(source, "remove the dog", seed=5).image.astype(int)
                  - out.image).max() > 10
    failed = Generated(None, None, error="no image")
    both = ed.edit_batch([failed, source], ["remove the dog"] * 2, [4, 4])
    assert both[0].image is None and "source" in both[0].error
    assert np.abs(both[1].image.astype(int) - out.image).max() <= 1
    cfg = json.loads(json.dumps(ed.config))
    assert cfg["call_kwargs"] == {"image_guidance_scale": 1.5}
    assert cfg["num_inference_steps"] == STEPS and cfg["not_passed"] == []
    d = DiffusersEditor(ip2p_pipe)
    assert (d.height, d.guidance_scale, d.num_inference_steps) == (512, 9.0, 15)
    assert d.config["not_passed"] == ["height", "width"]    # InstructPix2Pix keeps the size
    with pytest.raises(UserInputError, match="negative_prompt"):
        DiffusersGenerator(_FakePipeline(), negative_prompt="blurry")


def test_instruction_editor_errors(ip2p_pipe, sd_pipe, source):
    with pytest.raises(UserInputError, match="image"):
        DiffusersEditor(sd_pipe)           # a text-to-image pipeline cannot edit
    ed = DiffusersEditor(ip2p_pipe, num_inference_steps=STEPS)
    with pytest.raises(UserInputError, match="instruction"):
        ed.edit(source, "", seed=1)
    with pytest.raises(UserInputError, match="uint8"):
        ed.edit(Generated(source.image.astype(np.float32), None), "x", seed=1)


def _box_mask(image: np.ndarray, instruction: str) -> np.ndarray:
    """A stand-in detector: the central box, nothing for "remove nothing"."""
    m = np.zeros(image.shape[:2], bool)
    if "nothing" not in instruction:
        m[8:20, 10:22] = True
    return m


def test_opencv_inpaint_editor(source):
    ed = MaskInpaintEditor(_box_mask)
    assert isinstance(ed, ImageEditor) and ed.config["backend"] == "opencv"
    out = ed.edit(source, "remove the dog", seed=0)
    m = _box_mask(source.image, "x")
    assert out.exact is False and out.image.shape == source.image.shape
    np.testing.assert_array_equal(out.image[~m], source.image[~m])
    assert (out.image[m] != source.image[m]).any()
    empty = ed.edit(source, "remove nothing", seed=0)
    assert empty.image is None and "empty" in empty.error
    json.dumps(ed.config)
    with pytest.raises(UserInputError, match="mask_fn"):
        MaskInpaintEditor(lambda im, t: np.ones((3, 3), bool)).edit(source, "x", seed=0)
    with pytest.raises(UserInputError, match="method"):
        MaskInpaintEditor(_box_mask, method="magic")


def test_pipeline_inpaint_editor(inpaint_pipe, source):
    ed = MaskInpaintEditor(_box_mask, inpaint_pipe, height=SIZE, width=SIZE,
                           num_inference_steps=STEPS, prompt_fn=lambda t: "an empty lawn",
                           dilate=1)
    out = ed.edit(source, "remove the dog", seed=2)
    m = ed.mask(source.image, "remove the dog")
    assert m.sum() > _box_mask(source.image, "x").sum()            # dilated
    np.testing.assert_array_equal(out.image[~m], source.image[~m])  # minimal edit
    assert (out.image[m] != source.image[m]).any()
    np.testing.assert_array_equal(ed.edit(source, "remove the dog", seed=2).image, out.image)
    cfg = json.loads(json.dumps(ed.config))
    assert cfg["backend"] == "diffusers" and cfg["pipeline_class"] == \
        "StableDiffusionInpaintPipeline"


# ----------------------------------------------------------------------------- GPU
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_generator_on_gpu():
    pipe = diffusers.StableDiffusionPipeline(**_components(4)).to("cuda")
    g = DiffusersGenerator(pipe, height=SIZE, width=SIZE, num_inference_steps=STEPS)
    a, b = g.generate("a dog", seed=1), g.generate("a dog", seed=1)
    assert a.error == "" and g.config["generator_device"].startswith("cuda")
    np.testing.assert_array_equal(a.image, b.image)
