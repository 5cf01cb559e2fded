"""Real image backbones and CLIP embeddings through Hugging Face ``transformers``.

* :class:`CLIPBackbone` and :class:`DINOv2Backbone` implement the
  :class:`~braincause.encoding.backbone.Backbone` protocol: multi-layer pooled features
  of a vision transformer (the class token and/or the mean of the patch tokens of
  several hidden layers, plus the model's final image embedding), for the encoding model.
* :class:`CLIPEmbedder` embeds images *and* texts into CLIP's joint space, for the
  CLIP verifier (:mod:`braincause.stimuli.clip_verifier`) and the CLIP retriever
  (:mod:`braincause.retrieval.clip`).

Each class has two constructors: ``from_pretrained(model_id_or_path, ...)`` loads
weights from a local folder or the Hugging Face cache (downloading them only when
``HF_HUB_OFFLINE`` is unset; a missing model raises
:class:`~braincause.exceptions.BackendUnavailable` with the command that fetches it),
and ``from_config(config, seed=...)`` builds a randomly initialised model (tests).

Images are preprocessed here, with PIL and torch, not by a ``transformers`` image
processor (:class:`ImagePreprocess`): resize the shorter side (bicubic), centre crop,
scale to [0, 1], normalise. The sizes and channel statistics come from the model's
``preprocessor_config.json`` when it has one, else from the family's published defaults.

``transformers`` is imported lazily, so importing this module costs only torch.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from braincause.encoding.backbone import Images, _state_digest, as_image_list
from braincause.exceptions import UserInputError
from braincause.utils.hf import (
    REAL_EXTRA,
    check_model_name,
    dtype_name,
    hf_cache_dir,
    hf_load,
    hf_offline,
    import_optional,
    load_pretrained,
    read_model_json,
    resolve_device,
    resolve_dtype,
)

#: Bumped whenever a change to this module alters the features or embeddings.
HF_FEATURE_VERSION = 1

#: OpenAI CLIP's channel statistics (``CLIPImageProcessor`` defaults).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: ImageNet statistics, used by DINOv2.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

POOLS = ("cls", "mean", "cls+mean")
_LAYER_RE = re.compile(r"hidden\.(\d+)")


# ------------------------------------------------------------------ helpers
@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Random initialisation from ``seed`` without touching the caller's torch RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UserInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# ------------------------------------------------------------------ preprocessing
@dataclass(frozen=True)
class ImagePreprocess:
    """Resize the shorter side to ``resize``, centre-crop ``crop`` × ``crop``, normalise.

    Parameters
    ----------
    resize : int
        Length of the shorter side after resizing (aspect ratio kept), ≥ ``crop``.
    crop : int
        Side of the square network input.
    mean, std : tuple of 3 floats
        Channel statistics of the [0, 1]-scaled RGB input.
    resample : {"bicubic", "bilinear"}
        PIL filter (antialiased when shrinking).
    """

    resize: int
    crop: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resample: str = "bicubic"

    def __post_init__(self) -> None:
        _positive(self.crop, "crop")
        if _positive(self.resize, "resize") < self.crop:
            raise UserInputError(f"resize ({self.resize}) must be at least crop ({self.crop})")
        if self.resample not in ("bicubic", "bilinear"):
            raise UserInputError(f"resample must be 'bicubic' or 'bilinear', got "
                                 f"{self.resample!r}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise UserInputError(f"mean and std need 3 values (std > 0), got {self.mean}, "
                                 f"{self.std}")

    @classmethod
    def from_processor_config(cls, cfg: dict[str, Any] | None, *,
                              default: ImagePreprocess) -> ImagePreprocess:
        """Settings from a ``preprocessor_config.json`` dict (missing keys: ``default``).

        Reads ``size`` (``{"shortest_edge": s}``, ``{"height": h, "width": w}`` or an int),
        ``crop_size``, ``do_center_crop``, ``image_mean``, ``image_std`` and ``resample``
        (PIL code: 2 bilinear, 3 bicubic).

        Parameters
        ----------
        cfg : dict or None
            The parsed ``preprocessor_config.json``; ``None`` or empty gives ``default``.
        default : ImagePreprocess
            Where the settings ``cfg`` lacks come from.

        Returns
        -------
        ImagePreprocess
            With ``do_center_crop`` false, the crop is the resized side; ``resize`` is
            never below ``crop``.
        """
        if not cfg:
            return default

        def side(value: Any, fallback: int) -> int:
            if isinstance(value, dict):
                value = value.get("shortest_edge", value.get("height", fallback))
            return int(value) if isinstance(value, (int, float)) else fallback

        crop = side(cfg.get("crop_size"), default.crop)
        resize = side(cfg.get("size"), default.resize)
        if cfg.get("do_center_crop") is False:
            crop = resize
        return cls(resize=max(resize, crop), crop=crop,
                   mean=tuple(float(v) for v in cfg.get("image_mean", default.mean)),
                   std=tuple(float(v) for v in cfg.get("image_std", default.std)),
                   resample={2: "bilinear"}.get(cfg.get("resample"), default.resample))

    def pil(self, image: np.ndarray) -> Image.Image:
        """One image resized (shorter side to ``resize``) and centre-cropped.

        Parameters
        ----------
        image : ndarray of shape (height, width, 3)
            uint8 RGB.

        Returns
        -------
        PIL.Image.Image
            RGB, ``crop`` × ``crop`` pixels (not yet normalised).
        """
        h, w = image.shape[:2]
        # the longer side is truncated, as transformers' image processors do
        if h <= w:
            size = (max(self.crop, int(self.resize * w / h)), self.resize)
        else:
            size = (self.resize, max(self.crop, int(self.resize * h / w)))
        pil = Image.fromarray(np.ascontiguousarray(image), "RGB")
        if size != (w, h):
            filt = Image.Resampling.BICUBIC if self.resample == "bicubic" \
                else Image.Resampling.BILINEAR
            pil = pil.resize(size, filt)
        left, top = (size[0] - self.crop) // 2, (size[1] - self.crop) // 2
        return pil.crop((left, top, left + self.crop, top + self.crop))

    def __call__(self, images: Sequence[np.ndarray], device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """uint8 (H, W, 3) images → normalised (n, 3, crop, crop) tensor."""
        batch = np.stack([np.asarray(self.pil(im)) for im in images])
        x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).to(torch.float32)
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return x.div_(255.0).sub_(mean).div_(std).to(dtype).contiguous()


def _config_image_size(config: Any) -> int:
    size = getattr(config, "image_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


# ------------------------------------------------------------------ backbones
class HFVisionBackbone:
    """Multi-layer pooled features of a vision transformer (base of the HF backbones).

    For every layer in ``layers`` one block of columns is produced:

    ``"hidden.i"``
        the output of transformer block ``i`` (``hidden.0`` is the input to the first
        block), pooled over tokens by ``pool``: ``"cls"`` the class token, ``"mean"`` the
        mean of the patch tokens, ``"cls+mean"`` both (class token columns first);
    ``"embeds"``
        the model's final image embedding (CLIP: the projected image embedding; DINOv2:
        the layer-normalised class token).

    Columns are concatenated in the order of ``layers`` (:attr:`layer_slices`). The
    network runs in eval mode under :func:`torch.inference_mode` in ``dtype``; features
    are returned as float32.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers vision model (see the subclasses).
    layers : sequence of str, optional
        Default: the blocks at ¼, ½, ¾ and the full depth, and ``"embeds"``.
    pool : {"cls", "mean", "cls+mean"}
    preprocess : ImagePreprocess, optional
        Default: the family's defaults at the model's ``image_size``.
    batch_size : int
        Images per forward pass.
    device : str or torch.device, optional
        Default ``cuda`` when available, else ``cpu``.
    dtype : {"float32", "float16", "bfloat16"}, optional
        Default float32 on CPU, bfloat16 on CUDA.
    source : str, optional
        Where the weights came from (model id or folder), recorded in :meth:`config`.

    Attributes
    ----------
    name : str
    feature_dim : int
    layers : tuple of str
    image_size : int
        Side of the network input (the crop).
    layer_slices : dict of str to slice
    feature_names : tuple of str
        ``"<layer>:<cls|mean|embed>:<j>"``.
    """

    family = "vit"
    _default_preprocess = ImagePreprocess(224, 224, IMAGENET_MEAN, IMAGENET_STD)

    def __init__(self, model: torch.nn.Module, *, layers: Sequence[str] | None = None,
                 pool: str = "cls+mean", preprocess: ImagePreprocess | None = None,
                 batch_size: int = 32, device: str | torch.device | None = None,
                 dtype: str | torch.dtype | None = None, source: str | None = None) -> None:
        if pool not in POOLS:
            raise UserInputError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        self.batch_size = _positive(batch_size, "batch_size")
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.source = source
        self._model = model.to(device=self.device, dtype=self.dtype).eval()
        self.n_blocks = int(self._vision_config().num_hidden_layers)
        self.hidden_size = int(self._vision_config().hidden_size)
        if layers is None:
            n = self.n_blocks
            layers = tuple(dict.fromkeys(f"hidden.{max(1, round(n * q))}"
                                         for q in (0.25, 0.5, 0.75, 1.0))) + ("embeds",)
        if isinstance(layers, str):
            layers = (layers,)
        self.layers = tuple(str(layer) for layer in layers)
        if not self.layers:
            raise UserInputError("layers must name at least one layer")
        if len(set(self.layers)) != len(self.layers):
            raise UserInputError(f"layers repeat: {self.layers}")
        self._blocks = tuple(self._parse_layer(layer) for layer in self.layers)
        if preprocess is None:
            preprocess = _scaled_default(self._default_preprocess, self._vision_config())
        self.preprocess = preprocess
        self.image_size = preprocess.crop

        names: list[str] = []
        self.layer_slices: dict[str, slice] = {}
        kinds = {"cls": ("cls",), "mean": ("mean",), "cls+mean": ("cls", "mean")}[pool]
        for layer, block in zip(self.layers, self._blocks, strict=True):
            start = len(names)
            if block is None:
                names += [f"{layer}:embed:{j}" for j in range(self._embed_dim())]
            else:
                names += [f"{layer}:{k}:{j}" for k in kinds for j in range(self.hidden_size)]
            self.layer_slices[layer] = slice(start, len(names))
        self.feature_names: tuple[str, ...] = tuple(names)
        self.feature_dim = len(names)
        self._weights_sha: str | None = None

    # -- family hooks -------------------------------------------------------------
    def _vision_config(self) -> Any:
        return self._model.config

    def _embed_dim(self) -> int:
        return self.hidden_size

    def _hidden_and_embeds(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, ...],
                                                           torch.Tensor]:
        raise NotImplementedError

    # -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``"<family>:<source>"`` (``"<family>:random-init"`` without a source)."""
        return f"{self.family}:{self.source or 'random-init'}"

    def _parse_layer(self, layer: str) -> int | None:
        if layer == "embeds":
            return None
        m = _LAYER_RE.fullmatch(layer)
        if m is None or int(m.group(1)) > self.n_blocks:
            raise UserInputError(f"unknown layer {layer!r}; this model has layers hidden.0 … "
                                 f"hidden.{self.n_blocks} and 'embeds'")
        return int(m.group(1))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(source={self.source!r}, layers={self.layers}, "
                f"pool={self.pool!r}, feature_dim={self.feature_dim}, device={self.device}, "
                f"dtype={dtype_name(self.dtype)})")

    def weights_sha256(self) -> str:
        """SHA-256 of the model's state dict (computed once, on first use).

        Returns
        -------
        str
            64 hex digits.
        """
        if self._weights_sha is None:
            self._weights_sha = _state_digest(self._model)
        return self._weights_sha

    def config(self) -> dict[str, Any]:
        """Every setting that changes the features (what :meth:`fingerprint` hashes).

        Returns
        -------
        dict
            Family, source, feature version, weights hash, layers, pooling,
            preprocessing and dtype.
        """
        return {"name": self.family, "source": self.source,
                "feature_version": HF_FEATURE_VERSION, "weights_sha256": self.weights_sha256(),
                "layers": list(self.layers), "pool": self.pool,
                "preprocess": asdict(self.preprocess), "dtype": dtype_name(self.dtype)}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :meth:`config` (weights hash included).

        Batch size and device are left out: they change the features only by float
        rounding. The dtype is included.

        Returns
        -------
        str
        """
        blob = json.dumps(self.config(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden, embeds = self._hidden_and_embeds(x)
        cols = []
        for block in self._blocks:
            if block is None:
                cols.append(embeds)
                continue
            h = hidden[block]
            if self.pool in ("cls", "cls+mean"):
                cols.append(h[:, 0])
            if self.pool in ("mean", "cls+mean"):
                cols.append(h[:, 1:].mean(dim=1))
        return torch.cat(cols, dim=1)

    def features(self, images: Images) -> np.ndarray:
        """Pooled multi-layer features.

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays that may
            differ in size.

        Returns
        -------
        ndarray of shape (n_images, feature_dim)
            float32, columns in the order of ``layers`` (see :attr:`layer_slices`).

        Raises
        ------
        UserInputError
            Images that are not uint8 RGB.
        """
        items = as_image_list(images)
        out = np.empty((len(items), self.feature_dim), np.float32)
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                chunk = items[start:start + self.batch_size]
                x = self.preprocess(chunk, self.device, self.dtype)
                out[start:start + len(chunk)] = self._forward(x).to("cpu", torch.float32).numpy()
        return out


class CLIPBackbone(HFVisionBackbone):
    """CLIP vision-tower features (:class:`HFVisionBackbone` with CLIP preprocessing).

    ``model`` is a ``CLIPVisionModelWithProjection``, a ``CLIPModel`` (its vision tower
    and projection are used) or a ``CLIPVisionModel`` (then ``"embeds"`` is the
    layer-normalised class token, without projection). Default preprocessing: resize
    the shorter side to the model's ``image_size`` (224), centre crop, OpenAI CLIP
    mean/std.

    Parameters
    ----------
    model : torch.nn.Module
        A ``CLIPVisionModelWithProjection``, ``CLIPModel`` or ``CLIPVisionModel``.
    layers : sequence of str, optional
        ``"hidden.i"`` and/or ``"embeds"``; default: the blocks at ¼, ½, ¾ and the full
        depth, and ``"embeds"``.
    pool : {"cls", "mean", "cls+mean"}
        How the tokens of a ``"hidden.i"`` layer are pooled.
    preprocess : ImagePreprocess, optional
        Default: the above, or what :meth:`from_pretrained` reads from the
        model's ``preprocessor_config.json``.
    batch_size : int
        Images per forward pass.
    device : str or torch.device, optional
        Default ``cuda`` when available, else ``cpu``.
    dtype : {"float32", "float16", "bfloat16"}, optional
        Default float32 on CPU, bfloat16 on CUDA.
    source : str, optional
        Where the weights came from (model id or folder), recorded in :meth:`config`.

    See Also
    --------
    HFVisionBackbone : the features, layers and attributes.
    """

    family = "clip"
    _default_preprocess = ImagePreprocess(224, 224, CLIP_MEAN, CLIP_STD)

    def _vision_config(self) -> Any:
        cfg = self._model.config
        return getattr(cfg, "vision_config", cfg)

    def _embed_dim(self) -> int:
        proj = getattr(self._model, "visual_projection", None)
        return int(proj.out_features) if proj is not None else self.hidden_size

    def _hidden_and_embeds(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, ...],
                                                           torch.Tensor]:
        out = self._model.vision_model(pixel_values=x, output_hidden_states=True,
                                       return_dict=True)
        pooled = out.pooler_output
        proj = getattr(self._model, "visual_projection", None)
        return out.hidden_states, (proj(pooled) if proj is not None else pooled)

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike[str] = "openai/clip-vit-large-patch14", *,
                        layers: Sequence[str] | None = None, pool: str = "cls+mean",
                        device: str | torch.device | None = None,
                        dtype: str | torch.dtype | None = None, batch_size: int = 32,
                        local_files_only: bool | None = None) -> CLIPBackbone:
        """Load the vision tower of a CLIP checkpoint (hub id or local folder).

        A full CLIP checkpoint keeps its image projection; the text tower is not loaded.

        Parameters
        ----------
        model : str or path-like
            Hub id or local folder.
        layers : sequence of str, optional
            As the constructor.
        pool : {"cls", "mean", "cls+mean"}
            As the constructor.
        device : str or torch.device, optional
            Default ``cuda`` when available, else ``cpu``.
        dtype : {"float32", "float16", "bfloat16"}, optional
            Default float32 on CPU, bfloat16 on CUDA.
        batch_size : int
            Images per forward pass.
        local_files_only : bool, optional
            Never download; default: whether ``HF_HUB_OFFLINE`` is set.

        Returns
        -------
        CLIPBackbone
            Preprocessing from the model's ``preprocessor_config.json`` when it has one,
            ``source`` the model name.

        Raises
        ------
        BackendUnavailable
            transformers is missing, or the model is neither in the cache nor
            downloadable (always the case when ``HF_HUB_OFFLINE`` is set and the model
            was never downloaded); the message says how to fetch it.
        """
        tf = import_optional("transformers", "CLIPBackbone")
        name = check_model_name(model, "CLIPBackbone")
        dev = resolve_device(device)
        config = hf_load(tf.AutoConfig.from_pretrained, name, what="CLIP model",
                         local_files_only=local_files_only)
        vision = getattr(config, "vision_config", config)
        if hasattr(config, "projection_dim"):  # a full CLIP checkpoint: keep its projection
            vision.projection_dim = config.projection_dim
        with _quiet(tf):  # the text tower's weights are skipped on purpose
            net = load_pretrained(tf.CLIPVisionModelWithProjection.from_pretrained, name,
                                  what="CLIP model", library=tf, device=dev, dtype=dtype,
                                  local_files_only=local_files_only, config=vision)
        pre = _model_preprocess(name, cls._default_preprocess, net.config, local_files_only)
        return cls(net, layers=layers, pool=pool, preprocess=pre, batch_size=batch_size,
                   device=dev, dtype=dtype, source=name)

    @classmethod
    def from_config(cls, config: Any, *, seed: int = 0, **kwargs: Any) -> CLIPBackbone:
        """A randomly initialised CLIP vision tower (``CLIPConfig`` or ``CLIPVisionConfig``).

        Parameters
        ----------
        config : transformers ``CLIPConfig`` or ``CLIPVisionConfig``
            Not modified (a full config's ``projection_dim`` is copied to its vision part).
        seed : int
            Torch seed of the initialisation (the caller's torch RNG is left as it was).
        **kwargs
            Passed to the constructor (``layers``, ``pool``, ``device``, ...).

        Returns
        -------
        CLIPBackbone
            Without a ``source``.
        """
        tf = import_optional("transformers", "CLIPBackbone")
        vision = copy.deepcopy(getattr(config, "vision_config", config))
        if hasattr(config, "projection_dim"):
            vision.projection_dim = config.projection_dim
        with seeded_init(seed):
            net = tf.CLIPVisionModelWithProjection(vision)
        return cls(net, **kwargs)


class DINOv2Backbone(HFVisionBackbone):
    """DINOv2 features (:class:`HFVisionBackbone` with DINOv2 preprocessing).

    ``model`` is a ``Dinov2Model``; ``"embeds"`` is its layer-normalised class token
    (``pooler_output``). Default preprocessing, as DINOv2's image processor: resize the
    shorter side to 256/224 of the model's ``image_size`` (bicubic), centre crop to
    ``image_size``, ImageNet mean/std.

    Parameters
    ----------
    model : torch.nn.Module
        A ``Dinov2Model``.
    layers : sequence of str, optional
        ``"hidden.i"`` and/or ``"embeds"``; default: the blocks at ¼, ½, ¾ and the full
        depth, and ``"embeds"``.
    pool : {"cls", "mean", "cls+mean"}
        How the tokens of a ``"hidden.i"`` layer are pooled.
    preprocess : ImagePreprocess, optional
        Default: the above, or what :meth:`from_pretrained` reads from the
        model's ``preprocessor_config.json``.
    batch_size : int
        Images per forward pass.
    device : str or torch.device, optional
        Default ``cuda`` when available, else ``cpu``.
    dtype : {"float32", "float16", "bfloat16"}, optional
        Default float32 on CPU, bfloat16 on CUDA.
    source : str, optional
        Where the weights came from (model id or folder), recorded in :meth:`config`.

    See Also
    --------
    HFVisionBackbone : the features, layers and attributes.
    """

    family = "dinov2"
    _default_preprocess = ImagePreprocess(256, 224, IMAGENET_MEAN, IMAGENET_STD)

    def _hidden_and_embeds(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, ...],
                                                           torch.Tensor]:
        out = self._model(pixel_values=x, output_hidden_states=True, return_dict=True)
        return out.hidden_states, out.pooler_output

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike[str] = "facebook/dinov2-base", *,
                        layers: Sequence[str] | None = None, pool: str = "cls+mean",
                        device: str | torch.device | None = None,
                        dtype: str | torch.dtype | None = None, batch_size: int = 32,
                        local_files_only: bool | None = None) -> DINOv2Backbone:
        """Load a DINOv2 checkpoint (hub id or local folder).

        Parameters
        ----------
        model : str or path-like
            Hub id or local folder.
        layers : sequence of str, optional
            As the constructor.
        pool : {"cls", "mean", "cls+mean"}
            As the constructor.
        device : str or torch.device, optional
            Default ``cuda`` when available, else ``cpu``.
        dtype : {"float32", "float16", "bfloat16"}, optional
            Default float32 on CPU, bfloat16 on CUDA.
        batch_size : int
            Images per forward pass.
        local_files_only : bool, optional
            Never download; default: whether ``HF_HUB_OFFLINE`` is set.

        Returns
        -------
        DINOv2Backbone
            Preprocessing from the model's ``preprocessor_config.json`` when it has one,
            ``source`` the model name.

        Raises
        ------
        BackendUnavailable
            As :meth:`CLIPBackbone.from_pretrained`.
        """
        tf = import_optional("transformers", "DINOv2Backbone")
        name = check_model_name(model, "DINOv2Backbone")
        dev = resolve_device(device)
        net = load_pretrained(tf.Dinov2Model.from_pretrained, name, what="DINOv2 model",
                              library=tf, device=dev, dtype=dtype,
                              local_files_only=local_files_only)
        pre = _model_preprocess(name, cls._default_preprocess, net.config, local_files_only)
        return cls(net, layers=layers, pool=pool, preprocess=pre, batch_size=batch_size,
                   device=dev, dtype=dtype, source=name)

    @classmethod
    def from_config(cls, config: Any, *, seed: int = 0, **kwargs: Any) -> DINOv2Backbone:
        """A randomly initialised ``Dinov2Model`` from a ``Dinov2Config``.

        Parameters
        ----------
        config : transformers ``Dinov2Config``
        seed : int
            Torch seed of the initialisation (the caller's torch RNG is left as it was).
        **kwargs
            Passed to the constructor (``layers``, ``pool``, ``device``, ...).

        Returns
        -------
        DINOv2Backbone
            Without a ``source``.
        """
        tf = import_optional("transformers", "DINOv2Backbone")
        with seeded_init(seed):
            net = tf.Dinov2Model(config)
        return cls(net, **kwargs)


def _scaled_default(default: ImagePreprocess, config: Any) -> ImagePreprocess:
    size = _config_image_size(getattr(config, "vision_config", config))
    return ImagePreprocess(round(size * default.resize / default.crop), size, default.mean,
                           default.std, default.resample)


def _model_preprocess(name: str, default: ImagePreprocess, config: Any,
                      local_files_only: bool | None) -> ImagePreprocess:
    """The model's ``preprocessor_config.json`` settings, else the family's ``default``
    scaled to the model's image size."""
    return ImagePreprocess.from_processor_config(
        read_model_json(name, "preprocessor_config.json", local_files_only=local_files_only),
        default=_scaled_default(default, config))


@contextlib.contextmanager
def _quiet(tf: Any) -> Iterator[None]:
    """Silence transformers' load report (unused weights) for one call."""
    old = tf.logging.get_verbosity()
    tf.logging.set_verbosity_error()
    try:
        yield
    finally:
        tf.logging.set_verbosity(old)



# ------------------------------------------------------------------ CLIP embeddings
class CLIPEmbedder:
    """Images and texts in CLIP's joint embedding space (unit-norm rows).

    Parameters
    ----------
    model : transformers ``CLIPModel``
    tokenizer : transformers tokenizer
        Its texts are truncated to the text model's ``max_position_embeddings``.
    preprocess : ImagePreprocess, optional
        Default: CLIP's (shorter side to ``image_size``, centre crop, CLIP mean/std).
    batch_size : int
        Images or texts per forward pass.
    device, dtype : see :class:`HFVisionBackbone`
    source : str, optional
        Where the weights came from, recorded in :meth:`config`.

    Attributes
    ----------
    dim : int
        Embedding size (``projection_dim``).
    logit_scale : float
        CLIP's learned temperature ``exp(t)``, capped at 100 as in CLIP training.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, *,
                 preprocess: ImagePreprocess | None = None, batch_size: int = 32,
                 device: str | torch.device | None = None,
                 dtype: str | torch.dtype | None = None, source: str | None = None) -> None:
        self.batch_size = _positive(batch_size, "batch_size")
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.source = source
        self.tokenizer = tokenizer
        self._model = model.to(device=self.device, dtype=self.dtype).eval()
        cfg = model.config
        self.preprocess = preprocess or _scaled_default(CLIPBackbone._default_preprocess, cfg)
        self.image_size = self.preprocess.crop
        self.dim = int(cfg.projection_dim)
        self.max_length = int(cfg.text_config.max_position_embeddings)
        self.logit_scale = float(min(100.0, float(model.logit_scale.detach().exp())))
        self._weights_sha: str | None = None

    def __repr__(self) -> str:
        return (f"CLIPEmbedder(source={self.source!r}, dim={self.dim}, device={self.device}, "
                f"dtype={dtype_name(self.dtype)})")

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike[str] = "openai/clip-vit-large-patch14", *,
                        device: str | torch.device | None = None,
                        dtype: str | torch.dtype | None = None, batch_size: int = 32,
                        local_files_only: bool | None = None) -> CLIPEmbedder:
        """Load a CLIP checkpoint and its tokenizer (hub id or local folder).

        Parameters
        ----------
        model : str or path-like
            Hub id or local folder.
        device : str or torch.device, optional
            Default ``cuda`` when available, else ``cpu``.
        dtype : {"float32", "float16", "bfloat16"}, optional
            Default float32 on CPU, bfloat16 on CUDA.
        batch_size : int
            Images or texts per forward pass.
        local_files_only : bool, optional
            Never download; default: whether ``HF_HUB_OFFLINE`` is set.

        Returns
        -------
        CLIPEmbedder
            Preprocessing from the model's ``preprocessor_config.json`` when it has one,
            ``source`` the model name.

        Raises
        ------
        BackendUnavailable
            As :meth:`CLIPBackbone.from_pretrained`.
        """
        tf = import_optional("transformers", "CLIPEmbedder")
        name = check_model_name(model, "CLIPEmbedder")
        dev = resolve_device(device)
        net = load_pretrained(tf.CLIPModel.from_pretrained, name, what="CLIP model",
                              library=tf, device=dev, dtype=dtype,
                              local_files_only=local_files_only)
        tok = hf_load(tf.AutoTokenizer.from_pretrained, name, what="CLIP tokenizer",
                      local_files_only=local_files_only)
        pre = _model_preprocess(name, CLIPBackbone._default_preprocess, net.config,
                                local_files_only)
        return cls(net, tok, preprocess=pre, batch_size=batch_size, device=dev, dtype=dtype,
                   source=name)

    @classmethod
    def from_config(cls, config: Any, tokenizer: Any, *, seed: int = 0,
                    **kwargs: Any) -> CLIPEmbedder:
        """A randomly initialised ``CLIPModel`` from a ``CLIPConfig``, with ``tokenizer``.

        Parameters
        ----------
        config : transformers ``CLIPConfig``
        tokenizer : transformers tokenizer
        seed : int
            Torch seed of the initialisation (the caller's torch RNG is left as it was).
        **kwargs
            Passed to the constructor (``preprocess``, ``batch_size``, ``device``, ...).

        Returns
        -------
        CLIPEmbedder
            Without a ``source``.
        """
        tf = import_optional("transformers", "CLIPEmbedder")
        with seeded_init(seed):
            net = tf.CLIPModel(config)
        return cls(net, tokenizer, **kwargs)

    def weights_sha256(self) -> str:
        """SHA-256 of the model's state dict (computed once).

        Returns
        -------
        str
            64 hex digits.
        """
        if self._weights_sha is None:
            self._weights_sha = _state_digest(self._model)
        return self._weights_sha

    def config(self) -> dict[str, Any]:
        """Settings that change the embeddings (what :meth:`fingerprint` hashes).

        Returns
        -------
        dict
            Source, feature version, weights hash, a hash of the tokenizer's vocabulary,
            preprocessing and dtype.
        """
        vocab = getattr(self.tokenizer, "get_vocab", dict)()
        tok = hashlib.sha256(json.dumps(sorted(vocab.items())).encode()).hexdigest()[:16]
        return {"name": "clip", "source": self.source, "feature_version": HF_FEATURE_VERSION,
                "weights_sha256": self.weights_sha256(), "tokenizer_vocab_sha": tok,
                "preprocess": asdict(self.preprocess), "dtype": dtype_name(self.dtype)}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :meth:`config`.

        Returns
        -------
        str
        """
        return hashlib.sha256(json.dumps(self.config(), sort_keys=True).encode()).hexdigest()[:16]

    def encode_images(self, images: Images) -> np.ndarray:
        """Unit-norm CLIP embeddings of images (projected pooled vision output).

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.

        Returns
        -------
        ndarray of shape (n_images, dim)
            float32, rows of unit norm.
        """
        items = as_image_list(images)
        out = np.empty((len(items), self.dim), np.float32)
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                chunk = items[start:start + self.batch_size]
                x = self.preprocess(chunk, self.device, self.dtype)
                pooled = self._model.vision_model(pixel_values=x, return_dict=True).pooler_output
                emb = self._model.visual_projection(pooled).float()
                emb = torch.nn.functional.normalize(emb, dim=-1)
                out[start:start + len(chunk)] = emb.cpu().numpy()
        return out

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Unit-norm CLIP embeddings of texts (truncated to the text model's length).

        Parameters
        ----------
        texts : sequence of str
        batch_size : int, optional
            Texts per forward pass; default: the embedder's ``batch_size``.

        Returns
        -------
        ndarray of shape (n_texts, dim)
            float32, rows of unit norm.

        Raises
        ------
        UserInputError
            ``texts`` is a string or holds something other than strings.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise UserInputError("texts must be a list of strings")
        bs = self.batch_size if batch_size is None else _positive(batch_size, "batch_size")
        texts = list(texts)
        out = np.empty((len(texts), self.dim), np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), bs):
                chunk = texts[start:start + bs]
                tok = self.tokenizer(chunk, padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                pooled = self._model.text_model(
                    input_ids=tok["input_ids"].to(self.device),
                    attention_mask=tok["attention_mask"].to(self.device),
                    return_dict=True).pooler_output
                emb = torch.nn.functional.normalize(
                    self._model.text_projection(pooled).float(), dim=-1)
                out[start:start + len(chunk)] = emb.cpu().numpy()
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Text embeddings (the :class:`~braincause.retrieval.index.TextEmbedder` protocol).

        Parameters
        ----------
        texts : sequence of str
        batch_size : int
            Texts per forward pass.

        Returns
        -------
        ndarray of shape (n_texts, dim)
            As :meth:`encode_texts`.
        """
        return self.encode_texts(texts, batch_size)


__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "REAL_EXTRA",
    "CLIPBackbone",
    "CLIPEmbedder",
    "DINOv2Backbone",
    "HFVisionBackbone",
    "ImagePreprocess",
    "hf_cache_dir",
    "hf_load",
    "hf_offline",
]
