"""Image generation and editing with diffusers (real ``ImageGenerator`` / ``ImageEditor``).

* :class:`DiffusersGenerator` — text-to-image with any diffusers pipeline; defaults as
  the paper's generation step: 512 × 512, guidance 9.0, 35 steps.
* :class:`DiffusersEditor` — instruction editing with an image-conditioned pipeline
  (``Flux2KleinPipeline`` as in the paper, ``FluxKontextPipeline``,
  ``StableDiffusionInstructPix2PixPipeline``, …); defaults 512 × 512, guidance 9.0,
  15 steps (the paper's editing step).
* :class:`MaskInpaintEditor` — a mask from a detector/segmenter callable, filled by an
  inpainting pipeline, or by OpenCV inpainting (``cv2.inpaint``) when no model is given.

Every image has its own seed: its noise comes from
``torch.Generator(generator_device).manual_seed(seed)``, so an image does not depend on
the batch it was made in (batched and one-by-one results agree to float rounding).
Results are :class:`~braincause.stimuli.generate.Generated` records with a uint8
(H, W, 3) image, ``scene=None`` and ``exact=False``. A failed image (a runtime error of
the pipeline, non-finite pixels, a safety-checker hit, an empty mask) comes back as
``Generated(None, None, error=...)``; a missing package or model raises
:class:`~braincause.exceptions.BackendUnavailable`, bad arguments
:class:`~braincause.exceptions.UserInputError`.

Presets (:data:`GENERATION_PRESETS`, :data:`EDIT_PRESETS`) name a model with the steps
and guidance its authors document; nothing is guessed silently: the explicit arguments
of ``from_pretrained`` override a preset, and :attr:`config` records what was used.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from braincause.exceptions import UserInputError
from braincause.stimuli.generate import Generated

#: Errors of a pipeline call that fail one image or batch rather than the run
#: (CUDA out-of-memory is a RuntimeError).
_RUN_ERRORS = (RuntimeError, ValueError)


@dataclass(frozen=True)
class Preset:
    """A model with the sampling settings documented for it.

    Attributes
    ----------
    model : str
        Hugging Face id of the pipeline.
    num_inference_steps : int
    guidance_scale : float
    height, width : int
    call_kwargs : dict
        Further ``pipeline(...)`` arguments.
    note : str
        Where the settings come from.
    """

    model: str
    num_inference_steps: int
    guidance_scale: float
    height: int = 512
    width: int = 512
    call_kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


#: Text-to-image presets. ``"paper"`` is the BrainCause setting (PAPER.md §1).
GENERATION_PRESETS: dict[str, Preset] = {
    "paper": Preset(
        "black-forest-labs/FLUX.2-klein-4B", 35, 9.0,
        note="BrainCause paper: FLUX.2-klein-4B, 512 px, guidance 9.0, 35 steps. diffusers' "
             "Flux2KleinPipeline ignores guidance for step-distilled checkpoints (it warns)"),
    "flux2-klein-4b": Preset(
        "black-forest-labs/FLUX.2-klein-4B", 4, 1.0,
        note="model card: step-distilled to 4 steps, no classifier-free guidance"),
    "flux1-schnell": Preset(
        "black-forest-labs/FLUX.1-schnell", 4, 0.0, call_kwargs={"max_sequence_length": 256},
        note="diffusers FluxPipeline example / model card: 4 steps, guidance 0, 256 tokens"),
    "sdxl-turbo": Preset(
        "stabilityai/sdxl-turbo", 1, 0.0,
        note="model card: 1 step, guidance 0 (adversarially distilled), made for 512 px"),
}
#: Instruction-editing presets. ``"paper"`` edits with the generation model, 15 steps.
EDIT_PRESETS: dict[str, Preset] = {
    "paper": Preset(
        "black-forest-labs/FLUX.2-klein-4B", 15, 9.0,
        note="BrainCause paper: FLUX.2-klein-4B edits (reference image), 512 px, guidance "
             "9.0, 15 steps"),
    "flux1-kontext-dev": Preset(
        "black-forest-labs/FLUX.1-Kontext-dev", 28, 2.5,
        note="diffusers FluxKontextPipeline defaults/example: 28 steps, guidance 2.5"),
}


# ------------------------------------------------------------------ loading
def load_pipeline(model: str | os.PathLike[str], *, pipeline_class: str | type | None = None,
                  device: Any = None, dtype: Any = None, local_files_only: bool | None = None,
                  **kwargs: Any) -> Any:
    """Load a diffusers pipeline from the hub cache or a local folder.

    Parameters
    ----------
    model : str or path-like
        Hugging Face id or a local folder (``model_index.json`` inside).
    pipeline_class : str or type, optional
        A diffusers class or its name (``"AutoPipelineForText2Image"``,
        ``"FluxKontextPipeline"``, …); default ``DiffusionPipeline``, which builds the class
        named in ``model_index.json``.
    device : optional
        Default ``cuda`` when available, else ``cpu``.
    dtype : {"float32", "float16", "bfloat16"}, optional
        Default bfloat16 on CUDA, float32 on CPU.
    local_files_only : bool, optional
        Default: whether ``HF_HUB_OFFLINE`` is set.
    **kwargs
        Passed to ``from_pretrained`` (e.g. ``variant="fp16"``).

    Returns
    -------
    diffusers pipeline
        Moved to ``device``, weights in ``dtype`` (safetensors only), progress bars off.

    Raises
    ------
    BackendUnavailable
        diffusers is missing, or the model is not cached / cannot be downloaded.
    UserInputError
        An unknown ``pipeline_class``.
    """
    from braincause.utils.hf import (
        check_model_name,
        import_optional,
        load_pretrained,
        resolve_device,
    )

    diffusers = import_optional("diffusers", "the diffusers backends")
    if pipeline_class is None:
        cls = diffusers.DiffusionPipeline
    elif isinstance(pipeline_class, str):
        cls = getattr(diffusers, pipeline_class, None)
        if cls is None or not hasattr(cls, "from_pretrained"):
            raise UserInputError(f"diffusers has no pipeline class {pipeline_class!r} (version "
                                 f"{diffusers.__version__})")
    else:
        cls = pipeline_class
    name = check_model_name(model, "diffusers pipeline")
    dev = resolve_device(device)
    pipe = load_pretrained(cls.from_pretrained, name, what="diffusers pipeline",
                           library=diffusers, device=dev, dtype=dtype,
                           local_files_only=local_files_only, **kwargs)
    pipe = pipe.to(dev)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _preset(presets: Mapping[str, Preset], name: str | None) -> Preset | None:
    if name is None:
        return None
    if name not in presets:
        raise UserInputError(f"unknown preset {name!r}; choose one of {sorted(presets)}")
    return presets[name]


# ------------------------------------------------------------------ running
def check_seed(seed: Any) -> int:
    """A seed for ``torch.Generator.manual_seed``: an int in [0, 2**63).

    Parameters
    ----------
    seed : int
        A Python or NumPy integer (not a bool).

    Returns
    -------
    int

    Raises
    ------
    UserInputError
        ``seed`` is not an integer in [0, 2**63).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= int(seed) < 2**63:
        raise UserInputError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    return int(seed)


def _check_text(text: Any, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise UserInputError(f"{what} must be a non-empty string, got {text!r}")
    return text


def _to_uint8(images: Any) -> list[np.ndarray | str]:
    """Pipeline output (np floats in [0, 1] or PIL) → uint8 arrays, or an error per image."""
    out: list[np.ndarray | str] = []
    for im in images:
        if isinstance(im, Image.Image):
            out.append(np.asarray(im.convert("RGB"), dtype=np.uint8).copy())
            continue
        a = np.asarray(im, dtype=np.float32)
        if a.ndim != 3 or a.shape[-1] != 3:
            out.append(f"the pipeline returned an image of shape {a.shape}, not (H, W, 3)")
        elif not np.isfinite(a).all():
            out.append("the pipeline returned non-finite pixels (NaN/inf); float16 overflow is "
                       "the usual cause: use bfloat16 or float32")
        else:
            out.append(np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8))
    return out


class _Runner:
    """Calls a pipeline with per-image generators and turns its output into Generated."""

    def __init__(self, pipeline: Any, *, generator_device: Any, batch_size: int,
                 call_kwargs: Mapping[str, Any] | None, required: Sequence[str]) -> None:
        if not callable(pipeline):
            raise UserInputError(f"pipeline must be a callable diffusers pipeline, got "
                                 f"{type(pipeline).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UserInputError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.pipeline = pipeline
        self.batch_size = batch_size
        params = inspect.signature(pipeline.__call__).parameters
        # named parameters only: settings a pipeline does not name (``height`` for
        # InstructPix2Pix) are left out even when it swallows ``**kwargs``
        self.params = frozenset(n for n, p in params.items()
                                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        missing = [r for r in required if not self.accepts(r)]
        if missing:
            raise UserInputError(f"{type(pipeline).__name__} does not take {missing}; it cannot "
                                 f"serve this role")
        self.call_kwargs = dict(call_kwargs or {})
        if generator_device is None:
            generator_device = getattr(pipeline, "_execution_device", None) \
                or getattr(pipeline, "device", None) or "cpu"
        self.generator_device = torch.device(generator_device)
        if hasattr(pipeline, "set_progress_bar_config"):
            pipeline.set_progress_bar_config(disable=True)

    def accepts(self, name: str) -> bool:
        return name in self.params

    def check_settings(self, settings: Mapping[str, Any]) -> list[str]:
        """Names of the set ``settings`` the pipeline does not take (they are not passed).

        Raises
        ------
        UserInputError
            A negative prompt for a pipeline without ``negative_prompt``.
        """
        if settings.get("negative_prompt") is not None and not self.accepts("negative_prompt"):
            raise UserInputError(f"{type(self.pipeline).__name__} takes no negative_prompt")
        return sorted(k for k, v in settings.items() if v is not None and not self.accepts(k))

    def describe(self) -> dict[str, Any]:
        pipe = self.pipeline
        dtype = getattr(pipe, "dtype", None)
        return {"pipeline_class": type(pipe).__name__,
                "model": getattr(getattr(pipe, "config", None), "_name_or_path", None),
                "dtype": str(dtype).removeprefix("torch.") if dtype is not None else None,
                "device": str(getattr(pipe, "device", "cpu")),
                "generator_device": str(self.generator_device),
                "call_kwargs": {k: _jsonable(v) for k, v in sorted(self.call_kwargs.items())}}

    def _call(self, per_image: dict[str, list[Any]], shared: Mapping[str, Any],
              seeds: list[int]) -> list[np.ndarray | str]:
        kw = {k: v for k, v in {**shared, **per_image}.items()
              if v is not None and self.accepts(k)}
        kw.update(self.call_kwargs)  # explicit extra arguments are passed as given
        kw["generator"] = [torch.Generator(self.generator_device).manual_seed(s) for s in seeds]
        if self.accepts("output_type"):
            kw["output_type"] = "np"
        if self.accepts("return_dict"):
            kw["return_dict"] = True
        out = self.pipeline(**kw)
        images = _to_uint8(out.images)
        if len(images) != len(seeds):
            return [f"the pipeline returned {len(images)} images for {len(seeds)} requests"] \
                * len(seeds)
        flagged = getattr(out, "nsfw_content_detected", None) or [False] * len(seeds)
        return ["the pipeline's safety checker blanked the image" if f else im
                for im, f in zip(images, flagged, strict=True)]

    def run(self, per_image: list[dict[str, Any]], shared: Mapping[str, Any],
            seeds: list[int]) -> list[np.ndarray | str]:
        """One result (image or error text) per item, ``batch_size`` items per call.

        ``per_image`` values become lists (one entry per image of a call), ``shared``
        values are passed as they are. A failing batch is retried one image at a time,
        so one bad item fails alone.
        """
        results: list[np.ndarray | str] = []
        for start in range(0, len(per_image), self.batch_size):
            items = per_image[start:start + self.batch_size]
            part = seeds[start:start + self.batch_size]
            try:
                results += self._call({k: [it[k] for it in items] for k in items[0]}, shared,
                                      part)
            except _RUN_ERRORS as e:
                if len(items) == 1:
                    results.append(f"{type(e).__name__}: {e}")
                    continue
                for it, s in zip(items, part, strict=True):
                    try:
                        results += self._call({k: [v] for k, v in it.items()}, shared, [s])
                    except _RUN_ERRORS as e1:
                        results.append(f"{type(e1).__name__}: {e1}")
        return results


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return repr(v)


def _generated(result: np.ndarray | str) -> Generated:
    if isinstance(result, str):
        return Generated(None, None, error=result, exact=False)
    return Generated(result, None, error="", exact=False)


def _check_steps(steps: Any, guidance: Any, height: Any, width: Any) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise UserInputError(f"num_inference_steps must be a positive integer, got {steps!r}")
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or guidance < 0:
        raise UserInputError(f"guidance_scale must be a number ≥ 0, got {guidance!r}")
    for name, v in (("height", height), ("width", width)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 8 or v % 8):
            raise UserInputError(f"{name} must be a positive multiple of 8, got {v!r}")


# ------------------------------------------------------------------ generator
class DiffusersGenerator:
    """Text-to-image with a diffusers pipeline (an ``ImageGenerator``).

    Parameters
    ----------
    pipeline : diffusers pipeline
        Anything called as ``pipeline(prompt=[...], generator=[...], ...)`` returning
        ``.images``; arguments it does not take (``height`` for some) are not passed.
    height, width : int
        Image size (paper: 512 × 512).
    guidance_scale : float
        Classifier-free guidance (paper: 9.0).
    num_inference_steps : int
        Denoising steps (paper: 35).
    negative_prompt : str, optional
    batch_size : int
        Prompts per pipeline call.
    generator_device : optional
        Device of the seeded noise generators; default the pipeline's device. ``"cpu"``
        makes the noise independent of the GPU model.
    call_kwargs : mapping, optional
        Further pipeline arguments (``max_sequence_length``, …).
    preset : str, optional
        Recorded in :attr:`config` (set by :meth:`from_pretrained`).

    Attributes
    ----------
    config : dict
        JSON-serialisable record of the model and settings.
    image_size : int
        ``max(height, width)``: the side of the square images
        :func:`~braincause.stimuli.dataset.build_causal_dataset` stores.
    """

    def __init__(self, pipeline: Any, *, height: int = 512, width: int = 512,
                 guidance_scale: float = 9.0, num_inference_steps: int = 35,
                 negative_prompt: str | None = None, batch_size: int = 4,
                 generator_device: Any = None, call_kwargs: Mapping[str, Any] | None = None,
                 preset: str | None = None) -> None:
        _check_steps(num_inference_steps, guidance_scale, height, width)
        self._runner = _Runner(pipeline, generator_device=generator_device,
                               batch_size=batch_size, call_kwargs=call_kwargs,
                               required=("prompt",))
        self.pipeline = pipeline
        self.height, self.width = height, width
        #: side of the square images a causal dataset stores (the larger side)
        self.image_size = int(max(height, width))
        self.guidance_scale = float(guidance_scale)
        self.num_inference_steps = num_inference_steps
        self.negative_prompt = negative_prompt
        self.config: dict[str, Any] = {
            "name": "diffusers-text2image", "preset": preset, **self._runner.describe(),
            **self._shared(), "not_passed": self._runner.check_settings(self._shared()),
            "seeding": "torch.Generator(generator_device).manual_seed(seed) per image"}

    def __repr__(self) -> str:
        return (f"DiffusersGenerator({self.config['pipeline_class']}, "
                f"model={self.config['model']!r}, steps={self.num_inference_steps}, "
                f"guidance={self.guidance_scale}, {self.height}x{self.width})")

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike[str] | None = None, *,
                        preset: str | None = "paper", pipeline_class: str | type | None = None,
                        device: Any = None, dtype: Any = None,
                        local_files_only: bool | None = None, **settings: Any
                        ) -> DiffusersGenerator:
        """Load a text-to-image pipeline, with a preset's settings unless overridden.

        Parameters
        ----------
        model : str or path-like, optional
            Hub id or folder; default the preset's model.
        preset : str or None
            A key of :data:`GENERATION_PRESETS`; ``None`` keeps the paper's sampling
            defaults (512 px, guidance 9, 35 steps) for ``model``.
        pipeline_class : str or type, optional
            As :func:`load_pipeline`.
        device : optional
            Default ``cuda`` when available, else ``cpu``.
        dtype : {"float32", "float16", "bfloat16"}, optional
            Default bfloat16 on CUDA, float32 on CPU.
        local_files_only : bool, optional
            Default: whether ``HF_HUB_OFFLINE`` is set.
        **settings
            Constructor arguments (``num_inference_steps``, ``guidance_scale``, ``height``,
            ``batch_size``, …); they override the preset.

        Returns
        -------
        DiffusersGenerator

        Raises
        ------
        BackendUnavailable, UserInputError
            See :func:`load_pipeline`; also an unknown preset, or neither a model nor a
            preset.
        """
        p = _preset(GENERATION_PRESETS, preset)
        if model is None:
            if p is None:
                raise UserInputError("pass a model id or folder, or a preset")
            model = p.model
        if p is not None:
            settings = {"height": p.height, "width": p.width,
                        "guidance_scale": p.guidance_scale,
                        "num_inference_steps": p.num_inference_steps,
                        "call_kwargs": dict(p.call_kwargs), **settings}
        pipe = load_pipeline(model, pipeline_class=pipeline_class, device=device, dtype=dtype,
                             local_files_only=local_files_only)
        return cls(pipe, preset=preset, **settings)

    def generate(self, prompt: str, *, seed: int) -> Generated:
        """One image for ``prompt`` from noise seeded by ``seed``.

        Parameters
        ----------
        prompt : str
            A non-empty prompt.
        seed : int
            Seed of the image's noise, in [0, 2**63) (:func:`check_seed`).

        Returns
        -------
        Generated
            The image, or no image and an ``error`` when the pipeline failed on it.
        """
        return self.generate_batch([prompt], [seed])[0]

    def generate_batch(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[Generated]:
        """One image per (prompt, seed), ``batch_size`` prompts per pipeline call.

        Parameters
        ----------
        prompts : sequence of str
            Non-empty prompts.
        seeds : sequence of int
            One seed per prompt (:func:`check_seed`); an image does not depend on the
            batch it is made in.

        Returns
        -------
        list of Generated
            In input order; failures carry ``error`` and no image.
        """
        if isinstance(prompts, str) or len(prompts) != len(seeds):
            raise UserInputError(f"prompts and seeds must be sequences of equal length, got "
                                 f"{type(prompts).__name__} and {len(seeds)} seeds")
        items = [{"prompt": _check_text(p, "prompt")} for p in prompts]
        seeds = [check_seed(s) for s in seeds]
        if not items:
            return []
        return [_generated(r) for r in self._runner.run(items, self._shared(), seeds)]

    def _shared(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width,
                "guidance_scale": self.guidance_scale,
                "num_inference_steps": self.num_inference_steps,
                "negative_prompt": self.negative_prompt}


# ------------------------------------------------------------------ editors
def _source_image(source: Any) -> np.ndarray | None:
    """The uint8 (H, W, 3) image of a Generated source (None when it failed)."""
    image = getattr(source, "image", source)
    if image is None:
        return None
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[-1] != 3 or min(image.shape[:2]) < 1:
        desc = (f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray)
                else type(image).__name__)
        raise UserInputError(f"the source must be a Generated with a uint8 (H, W, 3) image, "
                             f"got {desc}")
    return image


def _check_batch(sources: Sequence[Any], instructions: Sequence[str],
                 seeds: Sequence[int]) -> list[int]:
    if isinstance(instructions, str) or not len(sources) == len(instructions) == len(seeds):
        raise UserInputError(f"sources, instructions and seeds must be sequences of equal "
                             f"length, got {len(sources)}, "
                             f"{'a str' if isinstance(instructions, str) else len(instructions)}"
                             f" and {len(seeds)}")
    for text in instructions:
        _check_text(text, "instruction")
    return [check_seed(s) for s in seeds]


def _describe_callable(fn: Any) -> Any:
    if fn is None:
        return None
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    extra = getattr(fn, "config", None)
    return {"name": f"{getattr(fn, '__module__', '')}.{name}".lstrip("."),
            "config": _jsonable(extra) if isinstance(extra, Mapping) else None}


class DiffusersEditor:
    """Instruction editing with an image-conditioned diffusers pipeline (an ``ImageEditor``).

    The instruction is the prompt and the source image the ``image`` argument:
    ``Flux2KleinPipeline`` (the paper's FLUX.2-klein, reference-image editing),
    ``FluxKontextPipeline``, ``StableDiffusionInstructPix2PixPipeline`` (pass its
    ``image_guidance_scale`` in ``call_kwargs``), or any pipeline called the same way.

    Parameters
    ----------
    pipeline : diffusers pipeline
        Must take ``prompt`` and ``image``.
    height, width : int or None
        Output size (paper: 512 × 512); ``None`` lets the pipeline choose (usually the
        source size). Not passed to pipelines that do not take them.
    guidance_scale : float
        Paper: 9.0.
    num_inference_steps : int
        Paper: 15.
    batch_size : int
        Edits per pipeline call. Keep 1 for FLUX pipelines: ``Flux2KleinPipeline`` reads a
        list of images as several references for *one* prompt. InstructPix2Pix and
        Stable Diffusion inpainting batch images with prompts.
    negative_prompt, generator_device, call_kwargs, preset
        As :class:`DiffusersGenerator`.

    Attributes
    ----------
    config : dict
    """

    def __init__(self, pipeline: Any, *, height: int | None = 512, width: int | None = 512,
                 guidance_scale: float = 9.0, num_inference_steps: int = 15,
                 negative_prompt: str | None = None, batch_size: int = 1,
                 generator_device: Any = None, call_kwargs: Mapping[str, Any] | None = None,
                 preset: str | None = None) -> None:
        _check_steps(num_inference_steps, guidance_scale, height, width)
        self._runner = _Runner(pipeline, generator_device=generator_device,
                               batch_size=batch_size, call_kwargs=call_kwargs,
                               required=("prompt", "image"))
        self.pipeline = pipeline
        self.height, self.width = height, width
        self.guidance_scale = float(guidance_scale)
        self.num_inference_steps = num_inference_steps
        self.negative_prompt = negative_prompt
        self.config: dict[str, Any] = {
            "name": "diffusers-instruction-edit", "preset": preset, **self._runner.describe(),
            **self._shared(), "not_passed": self._runner.check_settings(self._shared()),
            "seeding": "torch.Generator(generator_device).manual_seed(seed) per image"}

    def __repr__(self) -> str:
        return (f"DiffusersEditor({self.config['pipeline_class']}, "
                f"model={self.config['model']!r}, steps={self.num_inference_steps}, "
                f"guidance={self.guidance_scale})")

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike[str] | None = None, *,
                        preset: str | None = "paper", pipeline_class: str | type | None = None,
                        device: Any = None, dtype: Any = None,
                        local_files_only: bool | None = None, **settings: Any
                        ) -> DiffusersEditor:
        """Load an editing pipeline, with a preset of :data:`EDIT_PRESETS` unless overridden.

        See :meth:`DiffusersGenerator.from_pretrained`; ``preset=None`` keeps the
        paper's editing defaults (512 px, guidance 9, 15 steps).

        Parameters
        ----------
        model : str or path-like, optional
            Hub id or folder; default the preset's model.
        preset : str or None
            A key of :data:`EDIT_PRESETS`.
        pipeline_class : str or type, optional
            As :func:`load_pipeline`.
        device : optional
            Default ``cuda`` when available, else ``cpu``.
        dtype : {"float32", "float16", "bfloat16"}, optional
            Default bfloat16 on CUDA, float32 on CPU.
        local_files_only : bool, optional
            Default: whether ``HF_HUB_OFFLINE`` is set.
        **settings
            Constructor arguments; they override the preset.

        Returns
        -------
        DiffusersEditor

        Raises
        ------
        BackendUnavailable, UserInputError
            As :meth:`DiffusersGenerator.from_pretrained`.
        """
        p = _preset(EDIT_PRESETS, preset)
        if model is None:
            if p is None:
                raise UserInputError("pass a model id or folder, or a preset")
            model = p.model
        if p is not None:
            settings = {"height": p.height, "width": p.width,
                        "guidance_scale": p.guidance_scale,
                        "num_inference_steps": p.num_inference_steps,
                        "call_kwargs": dict(p.call_kwargs), **settings}
        pipe = load_pipeline(model, pipeline_class=pipeline_class, device=device, dtype=dtype,
                             local_files_only=local_files_only)
        return cls(pipe, preset=preset, **settings)

    def _shared(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width,
                "guidance_scale": self.guidance_scale,
                "num_inference_steps": self.num_inference_steps,
                "negative_prompt": self.negative_prompt}

    def edit(self, source: Generated, instruction: str, *, seed: int) -> Generated:
        """Apply ``instruction`` to ``source.image`` (a failed source gives a failed edit).

        Parameters
        ----------
        source : Generated
            The image to edit (a failed source, without an image, gives a failed edit).
        instruction : str
            A non-empty edit instruction.
        seed : int
            Seed of the edit's noise, in [0, 2**63) (:func:`check_seed`).

        Returns
        -------
        Generated
            The edited image, or no image and an ``error``.
        """
        return self.edit_batch([source], [instruction], [seed])[0]

    def edit_batch(self, sources: Sequence[Generated], instructions: Sequence[str],
                   seeds: Sequence[int]) -> list[Generated]:
        """One edit per (source, instruction, seed), ``batch_size`` per pipeline call.

        Parameters
        ----------
        sources : sequence of Generated
            The images to edit (failed sources give failed edits).
        instructions : sequence of str
            One non-empty instruction per source.
        seeds : sequence of int
            One seed per source (:func:`check_seed`).

        Returns
        -------
        list of Generated
            In input order; failures carry ``error`` and no image.

        Raises
        ------
        UserInputError
            Sequences of different lengths, an empty instruction, a bad seed, or a
            source that is not a uint8 RGB image.
        """
        seeds = _check_batch(sources, instructions, seeds)
        out: list[Generated | None] = [None] * len(seeds)
        todo, items = [], []
        for i, (src, text) in enumerate(zip(sources, instructions, strict=True)):
            image = _source_image(src)
            if image is None:
                out[i] = Generated(None, None, error="the source image failed; nothing to edit",
                                   exact=False)
                continue
            todo.append(i)
            items.append({"prompt": text, "image": Image.fromarray(image, "RGB")})
        if items:
            results = self._runner.run(items, self._shared(), [seeds[i] for i in todo])
            for i, r in zip(todo, results, strict=True):
                out[i] = _generated(r)
        return out  # type: ignore[return-value]


class MaskInpaintEditor:
    """Edit by masking a region and filling it: inpainting pipeline or OpenCV.

    ``mask_fn(image, instruction)`` (a detector or segmenter) returns the region to
    repaint, a (H, W) bool array of the source's size; an empty mask is a failed edit
    ("nothing to edit"). With ``pipeline`` (an inpainting pipeline taking ``prompt``,
    ``image`` and ``mask_image``) the region is regenerated from
    ``prompt_fn(instruction)`` (default: the instruction); without one it is filled by
    OpenCV's ``cv2.inpaint`` (Telea or Navier–Stokes), which smears the surroundings into
    the hole: no model, no download, but visible traces on large objects.

    Parameters
    ----------
    mask_fn : callable
        ``(image (H, W, 3) uint8, instruction str) -> (H, W) bool``.
    pipeline : diffusers inpainting pipeline, optional
    prompt_fn : callable, optional
        ``instruction -> prompt`` for the pipeline ("remove the dog" → "empty lawn").
    method : {"telea", "ns"}
        OpenCV algorithm (no pipeline).
    radius : int
        OpenCV inpainting radius in pixels.
    dilate : int
        Grow the mask by this many pixels first (covers object borders and shadows).
    keep_unmasked : bool
        Copy the source's pixels outside the mask into the result (a minimal edit; the
        pipeline output is resized to the source size first).
    height, width, guidance_scale, num_inference_steps, negative_prompt, batch_size,
    generator_device, call_kwargs
        Pipeline settings, as :class:`DiffusersEditor` (paper: 512 px, 9.0, 15 steps;
        ``batch_size`` 1 by default).

    Attributes
    ----------
    config : dict
    """

    def __init__(self, mask_fn: Callable[[np.ndarray, str], np.ndarray], pipeline: Any = None,
                 *, prompt_fn: Callable[[str], str] | None = None, method: str = "telea",
                 radius: int = 5, dilate: int = 0, keep_unmasked: bool = True,
                 height: int | None = 512, width: int | None = 512,
                 guidance_scale: float = 9.0, num_inference_steps: int = 15,
                 negative_prompt: str | None = None, batch_size: int = 1,
                 generator_device: Any = None,
                 call_kwargs: Mapping[str, Any] | None = None) -> None:
        if not callable(mask_fn):
            raise UserInputError("mask_fn must be a callable (image, instruction) -> mask")
        if prompt_fn is not None and not callable(prompt_fn):
            raise UserInputError("prompt_fn must be a callable instruction -> prompt, or None")
        if method not in ("telea", "ns"):
            raise UserInputError(f"method must be 'telea' or 'ns', got {method!r}")
        for name, v in (("radius", radius), ("dilate", dilate)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (name == "radius"):
                raise UserInputError(f"{name} must be an integer ≥ {int(name == 'radius')}, "
                                     f"got {v!r}")
        _check_steps(num_inference_steps, guidance_scale, height, width)
        self.mask_fn, self.prompt_fn = mask_fn, prompt_fn
        self.method, self.radius, self.dilate = method, radius, dilate
        self.keep_unmasked = bool(keep_unmasked)
        self.pipeline = pipeline
        self._runner = None if pipeline is None else _Runner(
            pipeline, generator_device=generator_device, batch_size=batch_size,
            call_kwargs=call_kwargs, required=("prompt", "image", "mask_image"))
        self._shared = {"height": height, "width": width,
                        "guidance_scale": float(guidance_scale),
                        "num_inference_steps": num_inference_steps,
                        "negative_prompt": negative_prompt}
        self.config: dict[str, Any] = {
            "name": "mask-inpaint", "mask_fn": _describe_callable(mask_fn),
            "dilate": dilate, "keep_unmasked": self.keep_unmasked}
        if self._runner is None:
            self.config.update(backend="opencv", method=method, radius=radius)
        else:
            self.config.update(backend="diffusers", prompt_fn=_describe_callable(prompt_fn),
                               **self._runner.describe(), **self._shared,
                               not_passed=self._runner.check_settings(self._shared))

    def __repr__(self) -> str:
        return f"MaskInpaintEditor(backend={self.config['backend']!r})"

    def mask(self, image: np.ndarray, instruction: str) -> np.ndarray:
        """The (dilated) mask of ``instruction`` on ``image``, as ``mask_fn`` finds it.

        Parameters
        ----------
        image : ndarray of shape (height, width, 3)
            uint8 RGB.
        instruction : str

        Returns
        -------
        ndarray of shape (height, width)
            bool, True in the region to repaint (grown by ``dilate`` pixels).

        Raises
        ------
        UserInputError
            ``mask_fn`` returned something other than a bool (or integer) mask of the
            image's size.
        """
        return self._check_mask(self.mask_fn(image, instruction), image)

    def _check_mask(self, mask: Any, image: np.ndarray) -> np.ndarray:
        import cv2

        m = np.asarray(mask)
        if m.shape != image.shape[:2] or not (m.dtype == bool or np.issubdtype(m.dtype,
                                                                             np.integer)):
            raise UserInputError(f"mask_fn must return a (H, W) = {image.shape[:2]} bool mask, "
                                 f"got {m.dtype} of shape {m.shape}")
        m = m.astype(bool)
        if self.dilate and m.any():
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.dilate + 1,) * 2)
            m = cv2.dilate(m.astype(np.uint8), k).astype(bool)
        return m

    def edit(self, source: Generated, instruction: str, *, seed: int) -> Generated:
        """Mask, then fill (see the class notes).

        Parameters
        ----------
        source : Generated
            The image to edit (a failed source, without an image, gives a failed edit).
        instruction : str
            A non-empty edit instruction.
        seed : int
            Seed of the edit's noise, in [0, 2**63) (:func:`check_seed`).

        Returns
        -------
        Generated
            The edited image, or no image and an ``error`` (a failed source, a
            failed ``mask_fn``, an empty mask or a failed pipeline call).
        """
        return self.edit_batch([source], [instruction], [seed])[0]

    def edit_batch(self, sources: Sequence[Generated], instructions: Sequence[str],
                   seeds: Sequence[int]) -> list[Generated]:
        """One edit per (source, instruction, seed).

        Parameters
        ----------
        sources : sequence of Generated
            The images to edit (failed sources give failed edits).
        instructions : sequence of str
            One non-empty instruction per source.
        seeds : sequence of int
            One seed per source (:func:`check_seed`); unused by OpenCV inpainting.

        Returns
        -------
        list of Generated
            In input order; failures carry ``error`` and no image.

        Raises
        ------
        UserInputError
            Sequences of different lengths, an empty instruction, a bad seed, or a
            source that is not a uint8 RGB image.
        """
        import cv2

        seeds = _check_batch(sources, instructions, seeds)
        out: list[Generated | None] = [None] * len(seeds)
        todo: list[tuple[int, np.ndarray, np.ndarray]] = []
        for i, (src, text) in enumerate(zip(sources, instructions, strict=True)):
            image = _source_image(src)
            if image is None:
                out[i] = Generated(None, None, error="the source image failed; nothing to edit",
                                   exact=False)
                continue
            try:
                raw = self.mask_fn(image, text)
            except _RUN_ERRORS as e:  # the detector failed on this image
                out[i] = Generated(None, None, error=f"mask_fn failed: {type(e).__name__}: {e}",
                                   exact=False)
                continue
            m = self._check_mask(raw, image)
            if not m.any():
                out[i] = Generated(None, None, error=f"the mask of {text!r} is empty: nothing "
                                                     f"to edit", exact=False)
                continue
            todo.append((i, image, m))
        if self._runner is None:
            flag = cv2.INPAINT_TELEA if self.method == "telea" else cv2.INPAINT_NS
            for i, image, m in todo:
                filled = cv2.inpaint(np.ascontiguousarray(image), m.astype(np.uint8) * 255,
                                     float(self.radius), flag)
                out[i] = Generated(filled, None, exact=False)
            return out  # type: ignore[return-value]
        items = [{"prompt": self.prompt_fn(instructions[i]) if self.prompt_fn
                  else instructions[i], "image": Image.fromarray(image, "RGB"),
                  "mask_image": Image.fromarray(m.astype(np.uint8) * 255, "L")}
                 for i, image, m in todo]
        if items:
            results = self._runner.run(items, self._shared, [seeds[i] for i, _, _ in todo])
            for (i, image, m), r in zip(todo, results, strict=True):
                if not isinstance(r, str) and self.keep_unmasked:
                    if r.shape != image.shape:
                        r = np.asarray(Image.fromarray(r).resize(
                            (image.shape[1], image.shape[0]), Image.Resampling.BICUBIC))
                    r = np.where(m[..., None], r, image)
                out[i] = _generated(r)
        return out  # type: ignore[return-value]


__all__ = [
    "EDIT_PRESETS",
    "GENERATION_PRESETS",
    "DiffusersEditor",
    "DiffusersGenerator",
    "MaskInpaintEditor",
    "Preset",
    "check_seed",
    "load_pipeline",
]
