"""Run configuration of ``braincause localize``: TOML ⇄ frozen dataclasses.

A config file mirrors the sections and fields below one to one; every field is
optional (defaults are the paper's numbers where it gives them). Unknown
sections or fields, and values of the wrong type or range, raise
:class:`~braincause.exceptions.ConfigError` naming the field and what was expected::

    [stimuli]
    n_positive_train = 200
    verifier = "probe"          # or "oracle" (exact, for ablations)

    [region]
    k = 100
    rule = "top_k"              # or "causal_positive"

    [stats]
    alpha = 0.05

    [verdict]
    min_measured_positives = 20

Real backends and NSD
---------------------
``[backends]`` chooses the implementation of each role, one sub-table per role with its
``kind`` and that backend's options (defaults: the embedded synthetic world, so a config
without it runs as before). ``[nsd]`` says what a run on NSD reads
(``localize(..., nsd_root=DIR)``; ignored for synthetic subjects)::

    [backends]
    device = "cuda"             # torch backends; unset: cuda when available
    dtype = "bfloat16"          # unset: bfloat16 on CUDA, float32 on CPU

    [backends.writer]           # "embedded" | "chat" (an OpenAI-compatible endpoint)
    kind = "chat"
    base_url = "http://127.0.0.1:8000/v1"
    model = "google/gemma-3-27b-it"

    [backends.generator]        # "scene" | "diffusers"
    kind = "diffusers"
    preset = "paper"            # FLUX.2-klein-4B, 512 px, guidance 9, 35 steps

    [backends.editor]           # "scene" | "diffusers" | "inpaint"
    kind = "diffusers"
    preset = "paper"

    [backends.verifier]         # "probe" | "oracle" | "clip" | "vlm" | "chat-vlm";
    kind = "vlm"                # unset: stimuli.verifier
    model = "Qwen/Qwen3-VL-8B-Instruct"

    [backends.backbone]         # "mobilenet" | "clip" | "dinov2"
    kind = "clip"

    [backends.retriever]        # "captions" | "clip"
    kind = "clip"

    [nsd]
    vertex_mask = "visual"      # "visual" | "nsdgeneral" | "all"

``docs/backends.md`` ("Selecting backends in a config file") lists every option.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import textwrap
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braincause.exceptions import UserInputError


class ConfigError(UserInputError):
    """A malformed or invalid run configuration."""


RANKINGS = ("braincause", "MAG", "MAM", "MAL", "MALF", "CSG", "CSM", "CSL", "CEG")


@dataclass(frozen=True)
class StimuliConfig:
    """Sizes of the causal dataset (PAPER.md §1) and the verifier."""

    n_positive_train: int = 200
    n_positive_eval: int = 100
    n_counter: int = 10
    n_negative_prompts: int = 10        # per counter-concept and split
    n_edit_positives_train: int = 50
    n_edit_positives_eval: int = 100    # every EVAL positive (the paper: 20): the gate's
    #                                     paired test gets its power from these
    n_edits: int = 10                   # instructions per edited positive
    verifier: str = "probe"             # "probe" | "oracle"
    verifier_threshold: float = 0.5     # positives: P(present) ≥ this
    absent_threshold: float = 0.5       # generated negatives and edits: P(present) < this


@dataclass(frozen=True)
class RegionConfig:
    """How the candidate region is chosen (on the TRAIN split only)."""

    k: int = 100                        # voxels in a top-K region
    rule: str = "top_k"                 # "top_k" | "causal_positive" (S_causal > 0)
    ranking: str = "braincause"         # a signal name of RANKINGS
    r_threshold: float = 0.2            # encoder accuracy filter (held-out Pearson r)
    k_hard: int = 10                    # hardest negatives per voxel in S_neg


@dataclass(frozen=True)
class RetrievalConfig:
    """Measured-pool retrieval (caption embedding + verifier).

    Measured negatives must show the target *confidently* absent (P < 0.1): natural
    images were not made to lack it, and one image with a small, missed face among them
    enters the 10 hardest negatives (on synth-01, 6 % of the held-out images the probe
    calls face-free at 0.5 show a face; 2 % at 0.1).
    """

    top_positive: int = 300             # candidates ranked before verification
    max_positive: int = 100             # kept measured positives per split
    top_negative: int = 100             # candidates per counter-concept (the paper's 100)
    max_negative: int = 20              # kept measured negatives per counter-concept
    absent_threshold: float = 0.1       # measured negatives: target P(present) < this


@dataclass(frozen=True)
class StatsConfig:
    """Statistical testing on the EVAL split and measured data."""

    alpha: float = 0.05
    n_baselines: int = 24               # baseline concepts for empirical p (≥ 19 for 0.05)
    n_permutations: int = 1000          # voxelwise max-T permutations
    n_gate_permutations: int = 10000    # the verdict's region tests (sampled flips/labels)
    min_effect_meas: float = 0.03       # the gate's measured test: mean difference > this (z)
    n_bootstrap: int = 2000
    ci_level: float = 0.95
    baseline_seed: int = 0              # seed of the shared baseline-concept datasets


@dataclass(frozen=True)
class VerdictConfig:
    """Cut-offs of the verdict (PAPER.md §7 leaves them open; these are ours).

    Coverage is *high* when at least ``min_measured_positives`` measured positives were
    retrieved and verified in the held-out measured images, and at least
    ``min_counter_coverage`` of the counter-concepts have ≥ ``min_negatives_per_counter``
    measured negatives.

    A criterion passes when its empirical p against the baseline concepts is ≤ alpha
    (the paper's test) and, where ``generated_ci`` / ``measured_ci`` asks for it, its
    one-sided bootstrap lower bound at level alpha exceeds ``min_effect`` (z units).
    Generated evidence is strong when every ``require_generated`` criterion passes and, with
    ``train_causal_positive``, the region's TRAIN-split S_causal is > 0 (the paper's
    rule for a candidate); measured evidence when every ``require_measured`` one does.

    The generated CI is not required by default: predicted responses are shrunk towards
    the mean (the embedded encoder recovers roughly 10–30 % of a true edit effect), and the
    hardest-edit and hardest-negative maxima then pull absolute generated scores to about
    0 even for true representations; the comparison with baseline concepts scored by the
    same encoder is not affected by that shrinkage. Measured responses are not shrunk, so
    their CI is required.
    """

    min_measured_positives: int = 20
    min_negatives_per_counter: int = 3
    min_counter_coverage: float = 0.5
    min_effect: float = 0.0             # lower CI bound must exceed this (z units)
    generated_ci: bool = False
    measured_ci: bool = True
    train_causal_positive: bool = True
    require_generated: tuple[str, ...] = ("causal_gen", "edits")
    require_measured: tuple[str, ...] = ("causal_meas",)


#: The criteria of the paper's significance test (PAPER.md §2.6), each a region score on
#: held-out data: name -> (score block of result.json's region scores, score).
CRITERIA: dict[str, tuple[str, str]] = {
    "act_gen": ("eval_generated", "s_pos"), "causal_gen": ("eval_generated", "s_neg"),
    "edits": ("eval_generated", "s_edit"), "act_meas": ("eval_measured", "s_pos"),
    "causal_meas": ("eval_measured", "s_neg")}


DEFAULT_CLIP = "openai/clip-vit-large-patch14"


# ------------------------------------------------------------------ backends: the registry
@dataclass(frozen=True)
class BackendKind:
    """One implementation of a role in :data:`BACKENDS`.

    Parameters
    ----------
    factory : str or callable
        ``"module:function"`` (imported only when the kind is chosen, so the registry
        costs no import of torch or transformers) or the function itself. It is called as
        ``factory(section, ctx)`` with the role's config table (e.g. a
        :class:`WriterBackend`) and a :class:`braincause.backends.BuildContext`, and returns
        the role's implementation; a retriever's factory as
        ``factory(section, ctx, subject)``.
    synthetic : bool
        The kind belongs to the embedded synthetic world (it reads, renders or edits scene
        records, or was trained on them): refused on NSD.
    """

    factory: str | Callable[..., Any]
    synthetic: bool = False


def _kind(name: str, synthetic: bool = False) -> BackendKind:
    return BackendKind(f"braincause.backends:{name}", synthetic)


#: The registry of role implementations: role → ``kind`` → :class:`BackendKind`. The keys
#: are the choices of ``[backends.<role>] kind``; adding a backend is one entry here (see
#: :func:`register_backend`) plus its options in the role's table below.
BACKENDS: dict[str, dict[str, BackendKind]] = {
    "writer": {"embedded": _kind("embedded_writer", True), "chat": _kind("chat_writer")},
    "generator": {"scene": _kind("scene_generator", True),
                  "diffusers": _kind("diffusers_generator")},
    "editor": {"scene": _kind("scene_editor", True), "diffusers": _kind("diffusers_editor"),
               "inpaint": _kind("inpaint_editor")},
    "verifier": {"probe": _kind("probe_verifier", True),
                 "oracle": _kind("oracle_verifier", True), "clip": _kind("clip_verifier"),
                 "vlm": _kind("vlm_verifier"), "chat-vlm": _kind("chat_vlm_verifier")},
    "backbone": {"mobilenet": _kind("mobilenet_backbone"), "clip": _kind("clip_backbone"),
                 "dinov2": _kind("dinov2_backbone")},
    "retriever": {"captions": _kind("caption_retriever"), "clip": _kind("clip_retriever")},
}
#: The embedded verifiers, also chosen by ``[stimuli] verifier`` and ``--verifier``.
EMBEDDED_VERIFIERS = ("probe", "oracle")


def register_backend(role: str, kind: str, factory: str | Callable[..., Any], *,
                     synthetic: bool = False) -> None:
    """Add (or replace) the implementation ``kind`` of ``role`` in :data:`BACKENDS`.

    Parameters
    ----------
    role : {"writer", "generator", "editor", "verifier", "backbone", "retriever"}
    kind : str
        The value of ``[backends.<role>] kind`` that selects it.
    factory : str or callable
        See :class:`BackendKind`.
    synthetic : bool
        See :class:`BackendKind`.
    """
    if role not in BACKENDS:
        raise UserInputError(f"unknown role {role!r}; known: {sorted(BACKENDS)}")
    if not isinstance(kind, str) or not kind.strip():
        raise UserInputError(f"kind must be a non-empty string, got {kind!r}")
    BACKENDS[role][kind] = BackendKind(factory, synthetic)


def backend_kinds(role: str, *, synthetic: bool | None = None) -> tuple[str, ...]:
    """The registered kinds of ``role`` (only the synthetic-world or only the real ones
    with ``synthetic``)."""
    return tuple(k for k, e in BACKENDS[role].items()
                 if synthetic is None or e.synthetic == synthetic)


#: ``field`` metadata of a nested table whose fields are written in the parent's table
#: (in TOML and in :meth:`LocalizeConfig.to_dict`).
_FLAT = {"flat": True}


@dataclass(frozen=True)
class EndpointConfig:
    """How to reach an OpenAI-compatible chat endpoint: the connection fields of
    :class:`~braincause.utils.chat.ChatEndpoint`, shared by the chat writer and the chat
    VLM verifier. Written flat in the role's table (``[backends.writer] base_url = ...``).
    """

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    max_retries: int = 4
    backoff_s: float = 1.0
    max_concurrency: int = 4


@dataclass(frozen=True)
class WriterBackend:
    """``[backends.writer]``: the prompt writer.

    ``kind = "chat"``: an OpenAI-compatible chat endpoint; ``base_url`` and ``model`` are
    required, the other fields are those of :class:`~braincause.utils.chat.ChatEndpoint`
    plus the writer's ``batch_size`` (prompts asked for per request).
    """

    kind: str = "embedded"              # a key of BACKENDS["writer"]
    endpoint: EndpointConfig = field(default_factory=EndpointConfig, metadata=_FLAT)
    model: str | None = None
    temperature: float = 0.7
    json_mode: bool = True
    send_seed: bool = True
    max_tokens: int | None = None
    batch_size: int = 20

    def chat_fields(self) -> dict[str, Any]:
        """The :class:`~braincause.utils.chat.ChatEndpoint` fields of this table."""
        return {**dataclasses.asdict(self.endpoint), "model": self.model,
                "temperature": self.temperature, "json_mode": self.json_mode,
                "send_seed": self.send_seed, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class GeneratorBackend:
    """``[backends.generator]``: text-to-image.

    ``kind = "diffusers"``: unset sampling settings come from ``preset`` (a key of
    :data:`braincause.stimuli.diffusion.GENERATION_PRESETS`, or ``"none"`` for the
    paper's 512 px, guidance 9, 35 steps); ``model`` (hub id or folder) overrides the
    preset's model.
    """

    kind: str = "scene"                 # a key of BACKENDS["generator"]
    model: str | None = None
    preset: str = "paper"
    pipeline_class: str | None = None   # unset: the class named in model_index.json
    size: int | None = None             # square images, pixels
    steps: int | None = None
    guidance_scale: float | None = None
    negative_prompt: str | None = None
    batch_size: int = 4
    generator_device: str | None = None  # device of the seeded noise; unset: the model's


@dataclass(frozen=True)
class EditorBackend:
    """``[backends.editor]``: counterfactual edits.

    ``kind = "diffusers"``: instruction editing, fields as ``[backends.generator]`` with
    ``preset`` a key of :data:`braincause.stimuli.diffusion.EDIT_PRESETS` (or ``"none"``).
    ``kind = "inpaint"``: the ``mask`` region is refilled by the inpainting pipeline
    ``model``, or by OpenCV (``method``, ``radius``) when ``model`` is unset;
    ``mask = "center"`` masks the central box of side ``mask_fraction`` × the image side
    (a crude stand-in for a detector: generated positives are framed on their subject).
    """

    kind: str = "scene"                 # a key of BACKENDS["editor"]
    model: str | None = None
    preset: str = "paper"
    pipeline_class: str | None = None
    size: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    image_guidance_scale: float | None = None   # InstructPix2Pix pipelines
    batch_size: int = 1
    generator_device: str | None = None
    mask: str = "center"
    mask_fraction: float = 0.5
    dilate: int = 0
    method: str = "telea"               # "telea" | "ns"
    radius: int = 5


@dataclass(frozen=True)
class VerifierBackend:
    """``[backends.verifier]``: the concept verifier.

    ``kind`` unset: ``stimuli.verifier`` ("probe" or "oracle", the embedded ones).
    ``"clip"``: CLIP zero-shot, ``model`` a CLIP id or folder (default
    openai/clip-vit-large-patch14). ``"vlm"``: a transformers VLM asked yes/no, ``model``
    an id or folder (default Qwen/Qwen3-VL-8B-Instruct), ``batch_size`` images per
    forward pass. ``"chat-vlm"``: a vision chat endpoint asked yes/no, ``model`` the served
    name (required), ``base_url`` (default: the writer's), endpoint fields as
    ``[backends.writer]``.
    """

    kind: str | None = None             # a key of BACKENDS["verifier"]
    model: str | None = None
    question: str | None = None         # template with {label}; unset: the verifier's own
    batch_size: int = 8
    endpoint: EndpointConfig = field(default_factory=EndpointConfig, metadata=_FLAT)
    use_logprobs: bool = False
    on_failure: str = "raise"           # "raise" | "nan" (an unjudged image)

    def chat_fields(self, writer: WriterBackend) -> dict[str, Any]:
        """The :class:`~braincause.utils.chat.ChatEndpoint` fields of ``kind = "chat-vlm"``
        (``base_url`` unset: the writer's)."""
        return {**dataclasses.asdict(self.endpoint), "model": self.model,
                "base_url": self.endpoint.base_url or writer.endpoint.base_url}


@dataclass(frozen=True)
class BackboneBackend:
    """``[backends.backbone]``: image features of the encoding model.

    ``kind = "clip"`` / ``"dinov2"``: ``model`` defaults to openai/clip-vit-large-patch14 /
    facebook/dinov2-base; ``layers`` (unset: the blocks at ¼, ½, ¾ and full depth plus
    ``"embeds"``) and ``pool`` as :class:`~braincause.encoding.hf.HFVisionBackbone`.
    """

    kind: str = "mobilenet"             # a key of BACKENDS["backbone"]
    model: str | None = None
    layers: tuple[str, ...] = ()
    pool: str = "cls+mean"
    batch_size: int = 32


@dataclass(frozen=True)
class RetrieverBackend:
    """``[backends.retriever]``: text → measured-image retrieval.

    ``"captions"``: caption embeddings (needs the dataset's captions; for NSD the COCO
    annotation files). ``"clip"``: CLIP image–text similarity with ``model``.
    """

    kind: str = "captions"              # a key of BACKENDS["retriever"]
    model: str = DEFAULT_CLIP
    batch_size: int = 32


@dataclass(frozen=True)
class BackendsConfig:
    """Which implementation plays each role (``[backends]``; see the module docstring)."""

    device: str | None = None           # torch backends; unset: cuda when available
    dtype: str | None = None            # unset: bfloat16 on CUDA, float32 on CPU
    writer: WriterBackend = field(default_factory=WriterBackend)
    generator: GeneratorBackend = field(default_factory=GeneratorBackend)
    editor: EditorBackend = field(default_factory=EditorBackend)
    verifier: VerifierBackend = field(default_factory=VerifierBackend)
    backbone: BackboneBackend = field(default_factory=BackboneBackend)
    retriever: RetrieverBackend = field(default_factory=RetrieverBackend)

    def kinds(self, stimuli_verifier: str = "probe") -> dict[str, str]:
        """The chosen kind of every role (the verifier's: ``stimuli_verifier`` when unset)."""
        out = {role: getattr(self, role).kind for role in BACKENDS}
        out["verifier"] = out["verifier"] or stimuli_verifier
        return out


@dataclass(frozen=True)
class NSDConfig:
    """What a run on NSD reads (``[nsd]``; see :class:`braincause.datasets.nsd.NSDSubject`)."""

    vertex_mask: str = "visual"         # "visual" | "nsdgeneral" | "all"
    beta_version: str = "betas_fithrf_GLMdenoise_RR"
    image_size: int = 425               # side of measured images shown to a verifier


@dataclass(frozen=True)
class LocalizeConfig:
    """Every setting of one ``localize`` run.

    A config file mirrors these sections one to one (see the module docstring); every
    section is optional and defaults to its dataclass's defaults.

    Attributes
    ----------
    stimuli : StimuliConfig
        Sizes of the causal dataset and the verifier (``[stimuli]``).
    region : RegionConfig
        How the candidate region is chosen (``[region]``).
    retrieval : RetrievalConfig
        Measured-pool retrieval (``[retrieval]``).
    stats : StatsConfig
        Statistical testing (``[stats]``).
    verdict : VerdictConfig
        Cut-offs of the verdict (``[verdict]``).
    backends : BackendsConfig
        Which implementation plays each role (``[backends]``).
    nsd : NSDConfig
        What a run on NSD reads (``[nsd]``).
    """

    stimuli: StimuliConfig = field(default_factory=StimuliConfig)
    region: RegionConfig = field(default_factory=RegionConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    verdict: VerdictConfig = field(default_factory=VerdictConfig)
    backends: BackendsConfig = field(default_factory=BackendsConfig)
    nsd: NSDConfig = field(default_factory=NSDConfig)

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain data, one dict per section (flat tables merged into
        their parent, tuples as lists): JSON and TOML friendly, and what
        :meth:`from_dict` reads back.

        Returns
        -------
        dict
        """
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @property
    def verifier(self) -> str:
        """The verifier in use: ``backends.verifier.kind``, else ``stimuli.verifier``."""
        return self.backends.verifier.kind or self.stimuli.verifier

    def hash(self) -> str:
        """A short hash of every setting (recorded in result.json).

        Returns
        -------
        str
            The first 16 hex digits of the SHA-256 of :meth:`to_dict` as sorted-key JSON.
        """
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()
                              ).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LocalizeConfig:
        """A config from a table of sections (what :meth:`to_dict` or a TOML file gives),
        type-checked field by field and then validated (:meth:`validate`).

        Parameters
        ----------
        d : dict
            Section name -> table of fields; missing sections and fields keep their
            defaults.

        Returns
        -------
        LocalizeConfig

        Raises
        ------
        ConfigError
            When ``d`` is not a dict, names an unknown section or field, or holds a
            value of the wrong type or range.
        """
        if not isinstance(d, dict):
            raise ConfigError(f"a config must be a table of sections, got {type(d).__name__}")
        sections = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(sections))
        if unknown:
            raise ConfigError(f"unknown config section(s) {unknown}; known: {sorted(sections)}")
        kw = {}
        for name, value in d.items():
            sub = typing.get_type_hints(cls)[name]
            kw[name] = _section(name, sub, value)
        cfg = cls(**kw)
        cfg.validate()
        return cfg

    @classmethod
    def from_toml(cls, path: str | Path) -> LocalizeConfig:
        """Read a TOML config file (:func:`read_toml`, then :meth:`from_dict`).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        LocalizeConfig

        Raises
        ------
        ConfigError
            When the file cannot be read, is not UTF-8 TOML, or is not a valid config
            (the message names the file).
        """
        path = Path(path)
        data = read_toml(path, "See `braincause localize --help` for the format.")
        try:
            return cls.from_dict(data)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from e

    def validate(self) -> None:
        """Check the range and the choices of every field, and the backends
        (:meth:`from_dict` calls it).

        Raises
        ------
        ConfigError
            Naming the first field out of range or not one of its choices.
        """
        s, r, st, v = self.stimuli, self.region, self.stats, self.verdict
        _check(s.n_positive_train >= 1 and s.n_positive_eval >= 1,
               "stimuli.n_positive_train and n_positive_eval must be ≥ 1")
        for name in ("n_counter", "n_negative_prompts", "n_edit_positives_train",
                     "n_edit_positives_eval", "n_edits"):
            _check(getattr(s, name) >= 0, f"stimuli.{name} must be ≥ 0")
        _check(s.verifier in EMBEDDED_VERIFIERS,
               f"stimuli.verifier must be {choice_list(EMBEDDED_VERIFIERS)}, got {s.verifier!r}")
        _check(0 < s.verifier_threshold < 1, "stimuli.verifier_threshold must be in (0, 1)")
        _check(0 < s.absent_threshold <= s.verifier_threshold,
               "stimuli.absent_threshold must be in (0, verifier_threshold]")
        _check(r.k >= 1, "region.k must be ≥ 1")
        _check(r.rule in CHOICES["region.rule"],
               f"region.rule must be {choice_list(CHOICES['region.rule'])}, got {r.rule!r}")
        _check(r.ranking in RANKINGS, f"region.ranking must be one of {list(RANKINGS)}, "
               f"got {r.ranking!r}")
        _check(r.k_hard >= 1, "region.k_hard must be ≥ 1")
        _check(0 < self.retrieval.absent_threshold <= s.verifier_threshold,
               "retrieval.absent_threshold must be in (0, stimuli.verifier_threshold]")
        _check(0 < st.alpha < 1, "stats.alpha must be in (0, 1)")
        _check(st.n_baselines >= 1, "stats.n_baselines must be ≥ 1")
        _check(st.n_permutations >= 1 and st.n_bootstrap >= 1 and st.n_gate_permutations >= 1,
               "stats.n_permutations, stats.n_gate_permutations and stats.n_bootstrap must "
               "be ≥ 1")
        _check(0 < st.ci_level < 1, "stats.ci_level must be in (0, 1)")
        _check(0 <= st.min_effect_meas < 10, "stats.min_effect_meas must be in [0, 10) "
               "(z units of the measured responses)")
        known = set(CRITERIA)
        for name in ("require_generated", "require_measured"):
            bad = set(getattr(v, name)) - known
            _check(not bad, f"verdict.{name} has unknown criteria {sorted(bad)}; known: "
                   f"{sorted(known)}")
        _check(0 <= v.min_counter_coverage <= 1, "verdict.min_counter_coverage must be in [0, 1]")
        _validate_backends(self.backends)
        _check(self.nsd.vertex_mask in CHOICES["nsd.vertex_mask"],
               f"nsd.vertex_mask must be {choice_list(CHOICES['nsd.vertex_mask'])}, got "
               f"{self.nsd.vertex_mask!r}")
        _check(self.nsd.image_size >= 16, "nsd.image_size must be ≥ 16")


#: The fixed choices of string fields, by ``section.field`` (checked by
#: :meth:`LocalizeConfig.validate`, listed by :func:`config_help`); the ``kind`` of each
#: ``[backends.<role>]`` is a key of :data:`BACKENDS`.
CHOICES: dict[str, tuple[str, ...]] = {
    "stimuli.verifier": EMBEDDED_VERIFIERS,
    "region.rule": ("top_k", "causal_positive"),
    "region.ranking": RANKINGS,
    "backends.dtype": ("float32", "float16", "bfloat16"),   # utils.hf.DTYPE_NAMES
    "backends.editor.mask": ("center",),
    "backends.editor.method": ("telea", "ns"),
    "backends.verifier.on_failure": ("raise", "nan"),
    "backends.backbone.pool": ("cls", "mean", "cls+mean"),
    "nsd.vertex_mask": ("visual", "nsdgeneral", "all"),
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, list)):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


#: What an unset field means, where it is not plain "the backend's default".
_UNSET = {"backends.device": "cuda when available",
          "backends.dtype": "bfloat16 on CUDA, float32 on CPU",
          "backends.verifier.kind": "stimuli.verifier"}


def _help_item(name: str, key: str, value: Any, choices: tuple[str, ...] | None) -> str:
    unset = f"(unset: {_UNSET[f'{name}.{key}']})" if f"{name}.{key}" in _UNSET else "(unset)"
    if not choices:
        return f"{key} {unset}" if value is None else f"{key} = {_toml_value(value)}"
    if value is None:
        return f"{key} = {' | '.join(map(_toml_value, choices))} {unset}"
    rest = [c for c in choices if c != value]
    return f"{key} = {' | '.join(map(_toml_value, [value, *rest]))}"


def _help_tables(name: str, cls: type) -> list[tuple[str, list[str]]]:
    """(``[table]``, its items) of ``cls`` and of its nested (non-flat) tables."""
    items: list[str] = []
    nested: list[tuple[str, list[str]]] = []
    role = name.removeprefix("backends.") if name.startswith("backends.") else None
    for key, value in _plain(cls()).items():
        sub = typing.get_type_hints(cls).get(key)
        if isinstance(value, dict) and dataclasses.is_dataclass(sub):
            nested += _help_tables(f"{name}.{key}", sub)
            continue
        choices = CHOICES.get(f"{name}.{key}")
        if key == "kind" and role in BACKENDS:
            choices = backend_kinds(role)
        items.append(_help_item(name, key, value, choices))
    return [(f"[{name}]", items), *nested]


def config_help(width: int = 90) -> str:
    """Every section and field of a config file with its default (and its choices), as
    listed by ``braincause localize --help``: generated from the dataclasses above and
    the registry :data:`BACKENDS`, so it cannot drift from them."""
    lines: list[str] = []
    for f in dataclasses.fields(LocalizeConfig):
        for header, items in _help_tables(f.name, typing.get_type_hints(LocalizeConfig)[f.name]):
            if not items:
                continue
            lead = f"  {header:<12}" if len(header) <= 11 else f"  {header}\n" + " " * 14
            # items are broken between, not inside (NUL stands for their inner spaces)
            body = textwrap.fill(", ".join(i if len(i) > width - 16 else i.replace(" ", "\0")
                                           for i in items), width,
                                 initial_indent=" " * 14, subsequent_indent=" " * 14,
                                 break_on_hyphens=False, break_long_words=False)
            lines.append(lead + body[14:].replace("\0", " "))
    return "\n".join(lines)


def read_toml(path: str | Path, hint: str = "") -> dict[str, Any]:
    """Read a TOML config file; every problem is a :class:`ConfigError` naming the file.

    Parameters
    ----------
    path : path
    hint : str
        Appended to the message of a file that is not valid TOML (where the format is
        documented).

    Returns
    -------
    dict
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start}: "
                          f"{raw[e.start:e.start + 1]!r}); save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}." + (f" {hint}" if hint else "")
                          ) from None


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise ConfigError(msg)


def _one_of(value: Any, choices: tuple[str, ...], name: str) -> None:
    _check(value in choices, f"{name} must be one of {', '.join(map(repr, choices))}, got "
           f"{value!r}")


def choice_list(choices: tuple[str, ...], quote: str = "'") -> str:
    """``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'``."""
    q = [f"{quote}{c}{quote}" for c in choices]
    return q[0] if len(q) == 1 else f"{', '.join(q[:-1])} or {q[-1]}"


def _endpoint(name: str, fields: dict[str, Any]) -> None:
    """Check a chat endpoint's fields as :class:`~braincause.utils.chat.ChatEndpoint` would."""
    from braincause.utils.chat import ChatEndpoint

    for key in ("base_url", "model"):
        _check(bool(fields.get(key)), f"{name}.{key} is required for a chat endpoint (e.g. "
               "base_url = \"http://127.0.0.1:8000/v1\", model = the served model's name)")
    try:
        ChatEndpoint(**fields)
    except UserInputError as e:
        raise ConfigError(f"{name}: {e}") from None


def _validate_backends(b: BackendsConfig) -> None:
    for role in BACKENDS:
        kind = getattr(b, role).kind
        if kind is not None:  # an unset verifier kind: stimuli.verifier
            _one_of(kind, backend_kinds(role), f"backends.{role}.kind")
    if b.dtype is not None:
        _one_of(b.dtype, CHOICES["backends.dtype"], "backends.dtype")
    w = b.writer
    if w.kind == "chat":
        _endpoint("backends.writer", w.chat_fields())
        _check(w.batch_size >= 1, "backends.writer.batch_size must be ≥ 1")
    for name, g in (("generator", b.generator), ("editor", b.editor)):
        _check(g.size is None or g.size >= 8, f"backends.{name}.size must be ≥ 8 pixels")
        _check(g.steps is None or g.steps >= 1, f"backends.{name}.steps must be ≥ 1")
        _check(g.batch_size >= 1, f"backends.{name}.batch_size must be ≥ 1")
    e = b.editor
    if e.kind == "inpaint":
        _one_of(e.mask, CHOICES["backends.editor.mask"], "backends.editor.mask")
        _one_of(e.method, CHOICES["backends.editor.method"], "backends.editor.method")
        _check(0 < e.mask_fraction <= 1, "backends.editor.mask_fraction must be in (0, 1]")
        _check(e.radius >= 1 and e.dilate >= 0,
               "backends.editor.radius must be ≥ 1 and dilate ≥ 0")
    v = b.verifier
    if v.kind == "chat-vlm":
        _endpoint("backends.verifier", v.chat_fields(w))
    if v.kind in ("vlm", "chat-vlm"):
        _one_of(v.on_failure, CHOICES["backends.verifier.on_failure"],
                "backends.verifier.on_failure")
        _check(v.question is None or "{label}" in v.question,
               "backends.verifier.question must contain {label}")
        _check(v.batch_size >= 1, "backends.verifier.batch_size must be ≥ 1")
    _one_of(b.backbone.pool, CHOICES["backends.backbone.pool"], "backends.backbone.pool")
    _check(b.backbone.batch_size >= 1 and b.retriever.batch_size >= 1,
           "backends.backbone.batch_size and backends.retriever.batch_size must be ≥ 1")


def _plain(value: Any) -> Any:
    """A config table as plain data: dicts (flat tables merged into their parent), tuples
    as lists (JSON and TOML friendly)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = _plain(getattr(value, f.name))
            if f.metadata.get("flat"):
                out.update(v)
            else:
                out[f.name] = v
        return out
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _flat_fields(cls: type) -> dict[str, str]:
    """Key written in the table of ``cls`` → its flat sub-table field holding it."""
    hints = typing.get_type_hints(cls)
    return {k: f.name for f in dataclasses.fields(cls) if f.metadata.get("flat")
            for k in typing.get_type_hints(hints[f.name])}


def _optional(want: Any) -> Any:
    """``X`` for a hint ``X | None``, else None."""
    if isinstance(want, types.UnionType) or typing.get_origin(want) is typing.Union:
        args = [a for a in typing.get_args(want) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


def _section(name: str, cls: type, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table, got {type(value).__name__}")
    hints = typing.get_type_hints(cls)
    flat = _flat_fields(cls)
    known = (set(hints) - set(flat.values())) | set(flat)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown} in [{name}]; known: {sorted(known)}")
    kw: dict[str, Any] = {}
    for sub in set(flat.values()):  # written in this table, held by a nested one
        kw[sub] = _section(name, hints[sub], {k: v for k, v in value.items()
                                              if flat.get(k) == sub})
    for k, v in value.items():
        if k in flat:
            continue
        want = hints[k]
        inner = _optional(want)
        if inner is not None:
            if v is None:  # only from a dict (TOML has no null): the default "unset"
                kw[k] = None
                continue
            want = inner
        if dataclasses.is_dataclass(want):
            kw[k] = _section(f"{name}.{k}", want, v)
            continue
        if want is bool or want is str:
            ok = isinstance(v, want)
        elif want is int:
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif want is float:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            v = float(v) if ok else v
        else:  # tuple[str, ...]
            ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
            v = tuple(v) if ok else v
        if not ok:
            tname = getattr(want, "__name__", "list of strings")
            raise ConfigError(f"{name}.{k} must be {tname}, got {v!r}")
        kw[k] = v
    return cls(**kw)
