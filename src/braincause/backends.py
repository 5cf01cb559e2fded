"""Build the role implementations a run's config asks for (``[backends]``).

:func:`build_roles` turns :class:`~braincause.config.BackendsConfig` into the writer,
generator, editor, verifier and backbone of a ``localize`` run, and
:func:`build_retriever` the measured-image retriever of its subject. The embedded
synthetic-world components are built only when chosen (the defaults), so a run on real
models and NSD imports none of them.

Everything a real backend needs is checked here, before a run computes or writes
anything: its Python package, its weights (the Hugging Face cache or a local folder;
nothing is downloaded while ``HF_HUB_OFFLINE`` is set) and, for a chat endpoint, that
something listens at its URL. A missing one raises
:class:`~braincause.exceptions.BackendUnavailable` with one message that names the
config field, the model or URL, and how to provide it (exit code 2 on the command line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from braincause.config import DEFAULT_CLIP, SYNTHETIC_CHOICES, BackendsConfig, LocalizeConfig
from braincause.exceptions import BackendUnavailable, DataError, UserInputError

__all__ = ["Roles", "build_retriever", "build_roles", "check_real_data_backends"]

DEFAULT_DINOV2 = "facebook/dinov2-base"


@dataclass
class Roles:
    """The role implementations of one run (see ARCHITECTURE.md, "Roles")."""

    writer: Any
    generator: Any
    editor: Any
    verifier: Any
    backbone: Any
    #: kinds as configured, e.g. {"writer": "chat", "verifier": "clip", ...}
    kinds: dict[str, str]
    #: CLIP embedders loaded so far, by model (shared by the verifier and the retriever)
    clip: dict[str, Any]

    def as_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~braincause.stimuli.dataset.build_causal_dataset`."""
        return {"writer": self.writer, "generator": self.generator, "editor": self.editor,
                "verifier": self.verifier, "backbone": self.backbone}


@contextlib.contextmanager
def _field(name: str) -> Iterator[None]:
    """Prefix a backend's error with the config field that chose it."""
    try:
        yield
    except BackendUnavailable as e:
        raise BackendUnavailable(f"[backends.{name}] {e}") from e
    except UserInputError as e:
        raise UserInputError(f"[backends.{name}] {e}") from e


def check_real_data_backends(cfg: LocalizeConfig) -> None:
    """Refuse the synthetic world's components for a run on real data (NSD).

    Raises
    ------
    UserInputError
        Naming every role still set to an embedded synthetic-world choice.
    """
    kinds = _kinds(cfg)
    bad = [f"{role} = {kinds[role]!r}" for role, choices in SYNTHETIC_CHOICES.items()
           if kinds[role] in choices]
    if bad:
        raise UserInputError(
            "a run on NSD needs real backends, but " + ", ".join(bad) + " belong to the "
            "synthetic world (they read or draw scene records). Set them in the config: "
            "[backends.writer] kind = \"chat\", [backends.generator] kind = \"diffusers\", "
            "[backends.editor] kind = \"diffusers\" or \"inpaint\", [backends.verifier] "
            "kind = \"clip\", \"vlm\" or \"chat-vlm\" (see docs/backends.md, \"Selecting "
            "backends in a config file\")")


def _kinds(cfg: LocalizeConfig) -> dict[str, str]:
    b = cfg.backends
    return {"writer": b.writer.kind, "generator": b.generator.kind, "editor": b.editor.kind,
            "verifier": cfg.verifier, "backbone": b.backbone.kind,
            "retriever": b.retriever.kind}


def build_roles(cfg: LocalizeConfig, *, use_cache: bool = True) -> Roles:
    """Build (and check) every role of ``cfg.backends``.

    The verifier comes back unfitted: call its ``fit(progress=...)`` (the embedded probes
    train there; the real verifiers have nothing to fit).

    Raises
    ------
    BackendUnavailable
        A package, a model's weights or a chat server is missing.
    UserInputError
        A setting a backend rejects (an unknown preset, a pipeline class that cannot serve
        the role, …).
    """
    b = cfg.backends
    kinds = _kinds(cfg)
    clip: dict[str, Any] = {}
    # cheap checks first: a chat endpoint that is down fails the run at once
    writer = _writer(b, use_cache)
    verifier = _verifier(cfg, clip, use_cache)
    backbone = _backbone(b)
    if verifier is None:  # the embedded probes read this backbone's features
        from braincause.stimuli.verifier import ProbeVerifier

        verifier = ProbeVerifier(backbone)
    size = int(getattr(backbone, "image_size", 160))
    generator = _generator(b, size)
    editor = _editor(b, int(getattr(generator, "image_size", size)))
    return Roles(writer, generator, editor, verifier, backbone, kinds, clip)


# ------------------------------------------------------------------ roles
def _chat_endpoint(fields: dict[str, Any], section: str):
    from braincause.utils.chat import ChatEndpoint, check_reachable

    endpoint = ChatEndpoint(**fields)
    check_reachable(endpoint, config_section=section)
    return endpoint


def _writer(b: BackendsConfig, use_cache: bool):
    w = b.writer
    if w.kind == "embedded":
        from braincause.plan import EmbeddedPromptWriter

        return EmbeddedPromptWriter()
    from braincause.config import _endpoint_fields
    from braincause.plan.llm import ChatPromptWriter

    with _field("writer"):
        endpoint = _chat_endpoint(_endpoint_fields(w), "backends.writer")
        return ChatPromptWriter(endpoint, batch_size=w.batch_size, use_cache=use_cache,
                                config_section="backends.writer")


def clip_embedder(model: str, b: BackendsConfig, cache: dict[str, Any], batch_size: int = 32):
    """The CLIP embedder of ``model`` (loaded once per run)."""
    if model not in cache:
        from braincause.encoding.hf import CLIPEmbedder

        cache[model] = CLIPEmbedder.from_pretrained(model, device=b.device, dtype=b.dtype,
                                                    batch_size=batch_size)
    return cache[model]


def _verifier(cfg: LocalizeConfig, clip: dict[str, Any], use_cache: bool):
    b, v, kind = cfg.backends, cfg.backends.verifier, cfg.verifier
    if kind == "oracle":
        from braincause.stimuli.verifier import OracleVerifier

        return OracleVerifier()
    if kind == "probe":
        return None  # built on the backbone (build_roles)
    with _field("verifier"):
        if kind == "clip":
            from braincause.stimuli.clip_verifier import CLIPVerifier

            return CLIPVerifier(clip_embedder(v.model or DEFAULT_CLIP, b, clip, v.batch_size))
        if kind == "vlm":
            from braincause.stimuli.vlm_verifier import DEFAULT_VLM, VLMVerifier

            kw = {"question": v.question} if v.question else {}
            return VLMVerifier.from_pretrained(v.model or DEFAULT_VLM, device=b.device,
                                               dtype=b.dtype, batch_size=v.batch_size, **kw)
        from braincause.config import _endpoint_fields
        from braincause.stimuli.vlm import ChatVLMVerifier

        fields = {**_endpoint_fields(v), "base_url": v.base_url or b.writer.base_url}
        endpoint = _chat_endpoint(fields, "backends.verifier")
        kw = {"question": v.question} if v.question else {}
        return ChatVLMVerifier(endpoint, use_logprobs=v.use_logprobs,
                               on_failure=v.on_failure, use_cache=use_cache,
                               open_vocabulary=True, config_section="backends.verifier", **kw)


def _backbone(b: BackendsConfig):
    bb = b.backbone
    if bb.kind == "mobilenet":
        from braincause.encoding.fit import default_backbone

        return default_backbone()
    from braincause.encoding.backbone import CachedBackbone
    from braincause.encoding.hf import CLIPBackbone, DINOv2Backbone

    cls, default = ((CLIPBackbone, DEFAULT_CLIP) if bb.kind == "clip"
                    else (DINOv2Backbone, DEFAULT_DINOV2))
    with _field("backbone"):
        net = cls.from_pretrained(bb.model or default, layers=bb.layers or None, pool=bb.pool,
                                  device=b.device, dtype=b.dtype, batch_size=bb.batch_size)
    return CachedBackbone(net)


def _sampling(g, presets) -> tuple[str | None, dict[str, Any]]:
    """(preset, settings) of a diffusers generator or editor table."""
    preset = None if g.preset in ("none", "") else g.preset
    if preset is not None and preset not in presets:
        raise UserInputError(f"unknown preset {g.preset!r}; choose one of "
                             f"{sorted(presets)} or \"none\"")
    kw: dict[str, Any] = {"batch_size": g.batch_size}
    if g.size is not None:
        kw["height"] = kw["width"] = g.size
    if g.steps is not None:
        kw["num_inference_steps"] = g.steps
    if g.guidance_scale is not None:
        kw["guidance_scale"] = g.guidance_scale
    if g.generator_device is not None:
        kw["generator_device"] = g.generator_device
    return preset, kw


def _generator(b: BackendsConfig, size: int):
    g = b.generator
    if g.kind == "scene":
        from braincause.stimuli.generate import SceneGenerator

        return SceneGenerator(size)
    from braincause.stimuli.diffusion import GENERATION_PRESETS, DiffusersGenerator

    with _field("generator"):
        preset, kw = _sampling(g, GENERATION_PRESETS)
        if g.negative_prompt is not None:
            kw["negative_prompt"] = g.negative_prompt
        return DiffusersGenerator.from_pretrained(g.model, preset=preset,
                                                  pipeline_class=g.pipeline_class,
                                                  device=b.device, dtype=b.dtype, **kw)


class CenterMask:
    """``mask_fn`` of :class:`~braincause.stimuli.diffusion.MaskInpaintEditor`: the central
    square of side ``fraction`` × the image's shorter side (whatever the instruction)."""

    def __init__(self, fraction: float = 0.5) -> None:
        if not 0 < fraction <= 1:
            raise UserInputError(f"mask_fraction must be in (0, 1], got {fraction!r}")
        self.fraction = float(fraction)
        self.config = {"fraction": self.fraction}

    def __call__(self, image, instruction: str):
        import numpy as np

        h, w = image.shape[:2]
        side = max(1, round(self.fraction * min(h, w)))
        top, left = (h - side) // 2, (w - side) // 2
        mask = np.zeros((h, w), bool)
        mask[top:top + side, left:left + side] = True
        return mask


def _editor(b: BackendsConfig, size: int):
    e = b.editor
    if e.kind == "scene":
        from braincause.stimuli.generate import SceneEditor

        return SceneEditor(size)
    from braincause.stimuli.diffusion import EDIT_PRESETS, DiffusersEditor, MaskInpaintEditor

    with _field("editor"):
        if e.kind == "diffusers":
            preset, kw = _sampling(e, EDIT_PRESETS)
            if e.image_guidance_scale is not None:
                base = dict(EDIT_PRESETS[preset].call_kwargs) if preset else {}
                kw["call_kwargs"] = {**base, "image_guidance_scale": e.image_guidance_scale}
            return DiffusersEditor.from_pretrained(e.model, preset=preset,
                                                   pipeline_class=e.pipeline_class,
                                                   device=b.device, dtype=b.dtype, **kw)
        pipeline = None
        kw = {}
        if e.model is not None:
            from braincause.stimuli.diffusion import load_pipeline

            pipeline = load_pipeline(e.model, pipeline_class=e.pipeline_class,
                                     device=b.device, dtype=b.dtype)
            kw = {"height": e.size or size, "width": e.size or size,
                  "batch_size": e.batch_size, "num_inference_steps": e.steps or 15,
                  "guidance_scale": 9.0 if e.guidance_scale is None else e.guidance_scale,
                  "generator_device": e.generator_device}
        return MaskInpaintEditor(CenterMask(e.mask_fraction), pipeline, method=e.method,
                                 radius=e.radius, dilate=e.dilate, **kw)


# ------------------------------------------------------------------ retrieval
def build_retriever(cfg: LocalizeConfig, subject: Any, roles: Roles):
    """The text → image index of ``subject``'s measured images (``[backends.retriever]``).

    Raises
    ------
    DataError
        ``kind = "captions"`` on a dataset without captions.
    BackendUnavailable
        The CLIP model is missing.
    """
    r = cfg.backends.retriever
    if r.kind == "clip":
        from braincause.retrieval.clip import CLIPRetriever

        with _field("retriever"):
            emb = clip_embedder(r.model, cfg.backends, roles.clip, r.batch_size)
        return CLIPRetriever.for_subject(subject, emb, batch_size=r.batch_size)
    from braincause.retrieval import CaptionIndex

    try:
        return CaptionIndex.for_subject(subject)
    except UserInputError as e:
        if "no caption" not in str(e):
            raise
        raise DataError(f"{getattr(subject, 'subject_id', 'the subject')} has images without "
                        f"captions ({e}); for NSD, put COCO's captions_train2017.json and "
                        "captions_val2017.json in nsddata_stimuli/stimuli/nsd/annotations/, "
                        "or retrieve by image with [backends.retriever] kind = \"clip\"") from e
