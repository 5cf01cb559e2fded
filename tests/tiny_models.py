"""Tiny randomly initialised models for the real-backend tests (built from configs, no
downloads), and helpers that save them as local model folders, so the whole loading path
(``from_pretrained`` of a folder) runs offline.

Needs transformers (and diffusers for the pipelines): import this module only after
``pytest.importorskip`` of those packages.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import transformers

from braincause.encoding.hf import CLIP_MEAN, CLIP_STD

#: side of the tiny diffusion pipelines' images
SD_SIZE = 32


# ----------------------------------------------------------------------------- CLIP
def clip_tokenizer(model_max_length: int | None = None) -> transformers.CLIPTokenizer:
    """A CLIP BPE tokenizer over single bytes (no merges): every character is a token."""
    from tokenizers.pre_tokenizers import ByteLevel

    chars = sorted(ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    kw = {} if model_max_length is None else {"model_max_length": model_max_length}
    return transformers.CLIPTokenizer(vocab=vocab, merges=[], **kw)


def clip_config(tok, image_size: int = 28) -> transformers.CLIPConfig:
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    return transformers.CLIPConfig(
        text_config={"vocab_size": len(tok), "hidden_size": 16, "intermediate_size": 32,
                     "num_hidden_layers": 1, "num_attention_heads": 2,
                     "max_position_embeddings": 64, "eos_token_id": eos, "pad_token_id": eos,
                     "bos_token_id": tok.convert_tokens_to_ids("<|startoftext|>")},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 3,
                       "num_attention_heads": 2, "image_size": image_size, "patch_size": 14},
        projection_dim=12)


def save_tiny_clip(folder: str | Path, seed: int = 0) -> Path:
    """A tiny random ``CLIPModel`` + tokenizer + preprocessor config in ``folder`` (28 px);
    loadable by ``CLIPEmbedder`` / ``CLIPBackbone.from_pretrained(folder)``."""
    folder = Path(folder)
    tok = clip_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.CLIPModel(clip_config(tok))
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(
        {"size": {"shortest_edge": 28}, "crop_size": {"height": 28, "width": 28},
         "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD), "resample": 3}))
    return folder


# ----------------------------------------------------------------------------- diffusers
def sd_components(in_channels: int, size: int = SD_SIZE, max_length: int = 24) -> dict:
    """UNet (``in_channels`` 4 / 8 / 9: text-to-image / InstructPix2Pix / inpainting),
    VAE, CLIP text encoder (``max_length`` tokens, one per character) and DDIM scheduler,
    a few thousand weights each."""
    import diffusers

    tok = clip_tokenizer(model_max_length=max_length)
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        unet = diffusers.UNet2DConditionModel(
            block_out_channels=(8, 16), layers_per_block=1, sample_size=size // 2,
            in_channels=in_channels, out_channels=4, norm_num_groups=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
            attention_head_dim=2)
        vae = diffusers.AutoencoderKL(
            block_out_channels=[8, 16], in_channels=3, out_channels=3, latent_channels=4,
            down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
            norm_num_groups=4, sample_size=size)
        text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
            vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
            num_attention_heads=2, max_position_embeddings=max_length, eos_token_id=eos,
            pad_token_id=eos, bos_token_id=tok.convert_tokens_to_ids("<|startoftext|>")))
    scheduler = diffusers.DDIMScheduler(beta_start=0.00085, beta_end=0.012,
                                        beta_schedule="scaled_linear", clip_sample=False,
                                        set_alpha_to_one=False, steps_offset=1)
    return {"unet": unet, "vae": vae, "text_encoder": text, "tokenizer": tok,
            "scheduler": scheduler, "safety_checker": None, "feature_extractor": None,
            "requires_safety_checker": False}


def save_tiny_pipeline(folder: str | Path, kind: str = "text2image") -> Path:
    """A tiny Stable Diffusion pipeline (``"text2image"``, ``"instruct-pix2pix"`` or
    ``"inpaint"``) saved as a diffusers folder (safetensors); its text encoder reads 160
    characters, enough for whole generated prompts."""
    import diffusers

    cls, ch = {"text2image": (diffusers.StableDiffusionPipeline, 4),
               "instruct-pix2pix": (diffusers.StableDiffusionInstructPix2PixPipeline, 8),
               "inpaint": (diffusers.StableDiffusionInpaintPipeline, 9)}[kind]
    folder = Path(folder)
    cls(**sd_components(ch, max_length=160)).save_pretrained(folder, safe_serialization=True)
    return folder
