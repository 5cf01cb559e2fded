"""Build the role implementations a run's config asks for (``[backends]``).

:func:`build_roles` turns :class:`~braincause.config.BackendsConfig` into the writer,
generator, editor, verifier and backbone of a ``localize`` run, and
:func:`build_retriever` the measured-image retriever of its subject. Each role's ``kind``
is looked up in the registry :data:`braincause.config.BACKENDS` (himalaya's solver
registry pattern: a table per role, kind → factory); the built-in factories are the
``*_writer``, ``*_generator``, ... functions below. Each imports its implementation when
called, so the embedded synthetic-world components are imported only when chosen (the
defaults), and a run on real models and NSD imports none of them.

Everything a real backend needs is checked here, before a run computes or writes
anything: its Python package, its weights (the Hugging Face cache or a local folder;
nothing is downloaded while ``HF_HUB_OFFLINE`` is set) and, for a chat endpoint, that
something listens at its URL. A missing one raises
:class:`~braincause.exceptions.BackendUnavailable` with one message that names the
config field, the model or URL, and how to provide it (exit code 2 on the command line).

Adding a backend: write its factory ``f(section, ctx) -> implementation`` (``ctx`` a
:class:`BuildContext`), register it with :func:`braincause.config.register_backend` (or
an entry of :data:`~braincause.config.BACKENDS`) and put its options in the role's config
table.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from braincause.config import (
    BACKENDS,
    DEFAULT_CLIP,
    BackboneBackend,
    BackendsConfig,
    EditorBackend,
    GeneratorBackend,
    LocalizeConfig,
    RetrieverBackend,
    VerifierBackend,
    WriterBackend,
    backend_kinds,
    choice_list,
)
from braincause.exceptions import BackendUnavailable, DataError, UserInputError

__all__ = ["BuildContext", "Roles", "build_retriever", "build_roles",
           "check_real_data_backends"]

DEFAULT_DINOV2 = "facebook/dinov2-base"


@dataclass
class Roles:
    """The role implementations of one run (see ARCHITECTURE.md, "Roles").

    Attributes
    ----------
    writer : PromptWriter
    generator : ImageGenerator
    editor : ImageEditor
    verifier : ConceptVerifier
        Unfitted until the run calls its ``fit``.
    backbone : Backbone
    kinds : dict of str to str
        The chosen kind of every role, e.g. ``{"writer": "chat", "verifier": "clip", ...}``.
    clip : dict of str to CLIPEmbedder
        CLIP embedders loaded so far, by model (shared by the verifier and the retriever).
    """

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
        """The keyword arguments of :func:`~braincause.stimuli.dataset.build_causal_dataset`.

        Returns
        -------
        dict
            ``writer``, ``generator``, ``editor``, ``verifier`` and ``backbone``.
        """
        return {"writer": self.writer, "generator": self.generator, "editor": self.editor,
                "verifier": self.verifier, "backbone": self.backbone}


@dataclass
class BuildContext:
    """What a backend factory may use besides its own config table.

    Attributes
    ----------
    cfg : LocalizeConfig
        The run's config (the factory's own table is ``cfg.backends.<role>``).
    use_cache : bool
        Whether the run reads and writes the cache (chat answers, probes, ...).
    clip : dict
        CLIP embedders loaded so far, by model (:meth:`clip_embedder`).
    image_size : int
        Side of the images of the run: the backbone's input for the generator, the
        generator's images for the editor (set by :func:`build_roles`).
    """

    cfg: LocalizeConfig
    use_cache: bool = True
    clip: dict[str, Any] = field(default_factory=dict)
    image_size: int = 160
    _backbone: Any = field(default=None, init=False, repr=False)

    @property
    def backends(self) -> BackendsConfig:
        """``cfg.backends``: the device, the dtype and every role's table."""
        return self.cfg.backends

    def backbone(self) -> Any:
        """The run's backbone (built once; the embedded probes read its features).

        Returns
        -------
        Backbone
        """
        if self._backbone is None:
            self._backbone = _build("backbone", self.backends.backbone.kind, self)
        return self._backbone

    def clip_embedder(self, model: str, batch_size: int = 32) -> Any:
        """The CLIP embedder of ``model`` (loaded once per run, on ``[backends] device``).

        Parameters
        ----------
        model : str
            Hub id or folder.
        batch_size : int
            Images or texts per forward pass (of the first load).

        Returns
        -------
        CLIPEmbedder
        """
        if model not in self.clip:
            from braincause.encoding.hf import CLIPEmbedder

            b = self.backends
            self.clip[model] = CLIPEmbedder.from_pretrained(model, device=b.device, dtype=b.dtype,
                                                            batch_size=batch_size)
        return self.clip[model]


def _factory(role: str, kind: str) -> Callable[..., Any]:
    spec = BACKENDS[role][kind].factory
    if isinstance(spec, str):
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)
    return spec


def _build(role: str, kind: str, ctx: BuildContext, *args: Any) -> Any:
    return _factory(role, kind)(getattr(ctx.backends, role), ctx, *args)


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

    Parameters
    ----------
    cfg : LocalizeConfig

    Raises
    ------
    UserInputError
        Naming every role still set to an embedded synthetic-world choice.
    """
    kinds = cfg.backends.kinds(cfg.stimuli.verifier)
    bad = [f"{role} = {kind!r}" for role, kind in kinds.items()
           if kind in backend_kinds(role, synthetic=True)]
    if bad:
        dq = '"'
        fixes = ", ".join(
            f"[backends.{role}] kind = {choice_list(backend_kinds(role, synthetic=False), dq)}"
            for role in BACKENDS if backend_kinds(role, synthetic=True))
        raise UserInputError(
            "a run on NSD needs real backends, but " + ", ".join(bad) + " belong to the "
            "synthetic world (they read or draw scene records). Set them in the config: "
            f"{fixes} (see docs/backends.md, \"Selecting backends in a config file\")")


def build_roles(cfg: LocalizeConfig, *, use_cache: bool = True) -> Roles:
    """Build (and check) every role of ``cfg.backends``.

    The verifier comes back unfitted: call its ``fit(progress=...)`` (the embedded probes
    train there; the real verifiers have nothing to fit).

    Parameters
    ----------
    cfg : LocalizeConfig
    use_cache : bool
        Whether the backends read and write the cache (chat answers, probes, ...).

    Returns
    -------
    Roles

    Raises
    ------
    BackendUnavailable
        A package, a model's weights or a chat server is missing.
    UserInputError
        A setting a backend rejects (an unknown preset, a pipeline class that cannot serve
        the role, …).
    """
    kinds = cfg.backends.kinds(cfg.stimuli.verifier)
    ctx = BuildContext(cfg, use_cache)
    # cheap checks first: a chat endpoint that is down fails the run at once
    writer = _build("writer", kinds["writer"], ctx)
    verifier = _build("verifier", kinds["verifier"], ctx)
    backbone = ctx.backbone()
    ctx.image_size = int(backbone.image_size)
    generator = _build("generator", kinds["generator"], ctx)
    ctx.image_size = int(generator.image_size)
    editor = _build("editor", kinds["editor"], ctx)
    return Roles(writer, generator, editor, verifier, backbone, kinds, ctx.clip)


# ------------------------------------------------------------------ writers
def embedded_writer(w: WriterBackend, ctx: BuildContext):
    from braincause.plan import EmbeddedPromptWriter

    return EmbeddedPromptWriter()


def chat_writer(w: WriterBackend, ctx: BuildContext):
    from braincause.plan.llm import ChatPromptWriter

    with _field("writer"):
        endpoint = _chat_endpoint(w.chat_fields(), "backends.writer")
        return ChatPromptWriter(endpoint, batch_size=w.batch_size, use_cache=ctx.use_cache,
                                config_section="backends.writer")


def _chat_endpoint(fields: dict[str, Any], section: str):
    from braincause.utils.chat import ChatEndpoint, check_reachable

    endpoint = ChatEndpoint(**fields)
    check_reachable(endpoint, config_section=section)
    return endpoint


# ------------------------------------------------------------------ verifiers
def oracle_verifier(v: VerifierBackend, ctx: BuildContext):
    from braincause.stimuli.verifier import OracleVerifier

    return OracleVerifier()


def probe_verifier(v: VerifierBackend, ctx: BuildContext):
    from braincause.stimuli.verifier import ProbeVerifier

    return ProbeVerifier(ctx.backbone())


def clip_verifier(v: VerifierBackend, ctx: BuildContext):
    from braincause.stimuli.clip_verifier import CLIPVerifier

    with _field("verifier"):
        return CLIPVerifier(ctx.clip_embedder(v.model or DEFAULT_CLIP, v.batch_size))


def _question(v: VerifierBackend) -> dict[str, Any]:
    return {"question": v.question} if v.question else {}


def vlm_verifier(v: VerifierBackend, ctx: BuildContext):
    from braincause.stimuli.vlm_verifier import DEFAULT_VLM, VLMVerifier

    b = ctx.backends
    with _field("verifier"):
        return VLMVerifier.from_pretrained(v.model or DEFAULT_VLM, device=b.device,
                                           dtype=b.dtype, batch_size=v.batch_size,
                                           **_question(v))


def chat_vlm_verifier(v: VerifierBackend, ctx: BuildContext):
    from braincause.stimuli.vlm import ChatVLMVerifier

    with _field("verifier"):
        endpoint = _chat_endpoint(v.chat_fields(ctx.backends.writer), "backends.verifier")
        return ChatVLMVerifier(endpoint, use_logprobs=v.use_logprobs,
                               on_failure=v.on_failure, use_cache=ctx.use_cache,
                               open_vocabulary=True, config_section="backends.verifier",
                               **_question(v))


# ------------------------------------------------------------------ backbones
def mobilenet_backbone(bb: BackboneBackend, ctx: BuildContext):
    from braincause.encoding.fit import default_backbone

    return default_backbone()


def _hf_backbone(cls: Any, default: str, bb: BackboneBackend, ctx: BuildContext):
    from braincause.encoding.backbone import CachedBackbone

    b = ctx.backends
    with _field("backbone"):
        net = cls.from_pretrained(bb.model or default, layers=bb.layers or None, pool=bb.pool,
                                  device=b.device, dtype=b.dtype, batch_size=bb.batch_size)
    return CachedBackbone(net)


def clip_backbone(bb: BackboneBackend, ctx: BuildContext):
    from braincause.encoding.hf import CLIPBackbone

    return _hf_backbone(CLIPBackbone, DEFAULT_CLIP, bb, ctx)


def dinov2_backbone(bb: BackboneBackend, ctx: BuildContext):
    from braincause.encoding.hf import DINOv2Backbone

    return _hf_backbone(DINOv2Backbone, DEFAULT_DINOV2, bb, ctx)


# ------------------------------------------------------------------ generators and editors
def _sampling(g: GeneratorBackend | EditorBackend, presets) -> tuple[str | None, dict[str, Any]]:
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


def scene_generator(g: GeneratorBackend, ctx: BuildContext):
    from braincause.stimuli.generate import SceneGenerator

    return SceneGenerator(ctx.image_size)


def _diffusers(role: str, cls: Any, presets: Any, g: GeneratorBackend | EditorBackend,
               ctx: BuildContext, extra: Callable[[str | None], dict[str, Any]]):
    """``cls.from_pretrained`` with the table's preset and sampling settings (and
    ``extra(preset)``)."""
    b = ctx.backends
    with _field(role):
        preset, kw = _sampling(g, presets)
        kw.update(extra(preset))
        return cls.from_pretrained(g.model, preset=preset, pipeline_class=g.pipeline_class,
                                   device=b.device, dtype=b.dtype, **kw)


def diffusers_generator(g: GeneratorBackend, ctx: BuildContext):
    from braincause.stimuli.diffusion import GENERATION_PRESETS, DiffusersGenerator

    def extra(preset: str | None) -> dict[str, Any]:
        return {} if g.negative_prompt is None else {"negative_prompt": g.negative_prompt}

    return _diffusers("generator", DiffusersGenerator, GENERATION_PRESETS, g, ctx, extra)


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


def scene_editor(e: EditorBackend, ctx: BuildContext):
    from braincause.stimuli.generate import SceneEditor

    return SceneEditor(ctx.image_size)


def diffusers_editor(e: EditorBackend, ctx: BuildContext):
    from braincause.stimuli.diffusion import EDIT_PRESETS, DiffusersEditor

    def extra(preset: str | None) -> dict[str, Any]:
        if e.image_guidance_scale is None:
            return {}
        base = dict(EDIT_PRESETS[preset].call_kwargs) if preset else {}
        return {"call_kwargs": {**base, "image_guidance_scale": e.image_guidance_scale}}

    return _diffusers("editor", DiffusersEditor, EDIT_PRESETS, e, ctx, extra)


def inpaint_editor(e: EditorBackend, ctx: BuildContext):
    from braincause.stimuli.diffusion import MaskInpaintEditor

    b, size = ctx.backends, ctx.image_size
    with _field("editor"):
        pipeline = None
        kw: dict[str, Any] = {}
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

    Parameters
    ----------
    cfg : LocalizeConfig
    subject : BrainDataset
    roles : Roles
        The run's roles (a CLIP retriever shares the CLIP verifier's model).

    Returns
    -------
    Retriever

    Raises
    ------
    DataError
        ``kind = "captions"`` on a dataset without captions.
    BackendUnavailable
        The CLIP model is missing.
    """
    ctx = BuildContext(cfg, clip=roles.clip)
    return _build("retriever", cfg.backends.retriever.kind, ctx, subject)


def clip_retriever(r: RetrieverBackend, ctx: BuildContext, subject: Any):
    from braincause.retrieval.clip import CLIPRetriever

    with _field("retriever"):
        emb = ctx.clip_embedder(r.model, r.batch_size)
    return CLIPRetriever.for_subject(subject, emb, batch_size=r.batch_size)


def caption_retriever(r: RetrieverBackend, ctx: BuildContext, subject: Any):
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
