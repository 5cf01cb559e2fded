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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from braincause.encoding.backbone import Images, _state_digest, as_image_list
from braincause.exceptions import BackendUnavailable, UserInputError

#: How to install the optional dependencies of the real backends.
REAL_EXTRA = "pip install 'braincause[real]'"
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
_TRUE = ("1", "true", "yes", "on")
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


# ------------------------------------------------------------------ hub helpers
def hf_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set, read at call time."""
    return any(os.environ.get(k, "").strip().lower() in _TRUE
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hf_cache_dir() -> str | None:
    """The Hugging Face hub cache named by ``HF_HUB_CACHE`` or ``HF_HOME``, read at call time.

    ``None`` lets the libraries use their default (``~/.cache/huggingface/hub``).
    """
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def import_optional(module: str, what: str) -> Any:
    """Import an optional dependency or raise :class:`BackendUnavailable` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise BackendUnavailable(
            f"{what} needs the Python package {module.split('.')[0]!r} ({e}); install the "
            f"real backends with `{REAL_EXTRA}`"
        ) from e


def _looks_like_path(model: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else is meant as a folder."""
    return (model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
            or Path(model).expanduser().exists())


def check_model_name(model: Any, what: str) -> str:
    """Validate a model id or a local folder (a path that does not exist is an error)."""
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    if not isinstance(model, str) or not model.strip():
        raise UserInputError(f"{what}: the model must be a Hugging Face id or a local folder, "
                             f"got {model!r}")
    model = model.strip()
    if _looks_like_path(model):
        path = Path(model).expanduser()
        if not path.is_dir():
            raise BackendUnavailable(
                f"{what}: the local model folder {str(path)!r} does not exist; pass an existing "
                f"folder (e.g. one made by `hf download <id> --local-dir DIR`) or a "
                f"Hugging Face model id"
            )
        return str(path)
    return model


def missing_model_message(model: str, what: str, reason: BaseException | str) -> str:
    """One message naming the model, why it failed, and how to provide it."""
    text = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    text = text[:240]
    fetch = f"`hf download {model}` (older huggingface_hub: `huggingface-cli download {model}`)"
    if Path(model).is_dir():
        return (f"{what} could not be loaded from the folder {model!r}: {text}. The folder must "
                f"hold a complete copy of a model (config and weights); re-download it with "
                f"`hf download <model id> --local-dir {model}`")
    where = hf_cache_dir() or "~/.cache/huggingface/hub"
    if hf_offline():
        return (f"{what} {model!r} is not in the Hugging Face cache ({where}) and "
                f"HF_HUB_OFFLINE is set, so nothing is downloaded at run time. Download it once "
                f"with {fetch}, or pass the path of a local copy instead of the id")
    return (f"{what} {model!r} could not be loaded ({text}). Download it with {fetch} "
            f"(cache: {where}), or pass the path of a local copy instead of the id")


def hf_load(loader: Callable[..., Any], model: str, *, what: str,
            local_files_only: bool | None = None, **kwargs: Any) -> Any:
    """``loader(model, cache_dir=..., local_files_only=..., **kwargs)`` with clear errors.

    Parameters
    ----------
    loader : callable
        A ``from_pretrained`` of transformers or diffusers.
    model : str
        Hub id or local folder (see :func:`check_model_name`).
    what : str
        Human name of the thing loaded ("CLIP model"), used in messages.
    local_files_only : bool, optional
        Default: :func:`hf_offline`.

    Raises
    ------
    BackendUnavailable
        The model is not cached (offline), cannot be downloaded, or a package is missing.
    """
    if local_files_only is None:
        local_files_only = hf_offline()
    kwargs.setdefault("cache_dir", hf_cache_dir())
    try:
        return loader(model, local_files_only=bool(local_files_only), **kwargs)
    except ImportError as e:
        raise BackendUnavailable(f"{what} {model!r} needs a package that is missing: {e}. "
                                 f"Install the real backends with `{REAL_EXTRA}`") from e
    except (OSError, ValueError) as e:  # not cached, no network, bad repo id, bad folder
        raise BackendUnavailable(missing_model_message(model, what, e)) from e


def read_model_json(model: str, filename: str, *,
                    local_files_only: bool | None = None) -> dict[str, Any] | None:
    """A JSON file of a model folder or hub repo, or None when the model has none.

    Used for the optional ``preprocessor_config.json``; a model without it falls back to
    documented defaults.
    """
    if Path(model).is_dir():
        path = Path(model) / filename
        if not path.is_file():
            return None
    else:
        hub = import_optional("huggingface_hub", "reading a model's preprocessing settings")
        if local_files_only is None:
            local_files_only = hf_offline()
        try:
            path = Path(hub.hf_hub_download(model, filename, cache_dir=hf_cache_dir(),
                                            local_files_only=bool(local_files_only)))
        except (OSError, ValueError):  # the file is optional: the model may have none
            return None
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data if isinstance(data, dict) else None


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """``None`` → float32 on CPU, bfloat16 on CUDA; strings as in :data:`_DTYPES`."""
    if dtype is None:
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, torch.dtype):
        if dtype not in _DTYPES.values():
            raise UserInputError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
        return dtype
    if str(dtype) not in _DTYPES:
        raise UserInputError(f"dtype must be one of {tuple(_DTYPES)}, got {dtype!r}")
    return _DTYPES[str(dtype)]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` → ``cuda`` when available, else ``cpu``."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise UserInputError(f"device must be a torch device such as 'cpu' or 'cuda:0', got "
                             f"{device!r}") from e


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


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
        """One uint8 (H, W, 3) image resized and cropped, as a PIL image."""
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
        """SHA-256 of the model's state dict (computed once, on first use)."""
        if self._weights_sha is None:
            self._weights_sha = _state_digest(self._model)
        return self._weights_sha

    def config(self) -> dict[str, Any]:
        """Every setting that changes the features (what :meth:`fingerprint` hashes)."""
        return {"name": self.family, "source": self.source,
                "feature_version": HF_FEATURE_VERSION, "weights_sha256": self.weights_sha256(),
                "layers": list(self.layers), "pool": self.pool,
                "preprocess": asdict(self.preprocess), "dtype": dtype_name(self.dtype)}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :meth:`config` (weights hash included).

        Batch size and device are left out: they change the features only by float
        rounding. The dtype is included.
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
        images : (n, H, W, 3) uint8 array or list of (H, W, 3) uint8 arrays
            RGB images; list items may differ in size.

        Returns
        -------
        (n, feature_dim) float32 array

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
            net = hf_load(tf.CLIPVisionModelWithProjection.from_pretrained, name,
                          what="CLIP model", local_files_only=local_files_only, config=vision,
                          use_safetensors=True,
                          **_dtype_kwarg(tf, resolve_dtype(dtype, dev)))
        pre = ImagePreprocess.from_processor_config(
            read_model_json(name, "preprocessor_config.json", local_files_only=local_files_only),
            default=_scaled_default(cls._default_preprocess, net.config))
        return cls(net, layers=layers, pool=pool, preprocess=pre, batch_size=batch_size,
                   device=dev, dtype=dtype, source=name)

    @classmethod
    def from_config(cls, config: Any, *, seed: int = 0, **kwargs: Any) -> CLIPBackbone:
        """A randomly initialised CLIP vision tower (``CLIPConfig`` or ``CLIPVisionConfig``).

        ``kwargs`` go to the constructor (``layers``, ``pool``, ``device``, ...).
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

        Raises
        ------
        BackendUnavailable
            As :meth:`CLIPBackbone.from_pretrained`.
        """
        tf = import_optional("transformers", "DINOv2Backbone")
        name = check_model_name(model, "DINOv2Backbone")
        dev = resolve_device(device)
        net = hf_load(tf.Dinov2Model.from_pretrained, name, what="DINOv2 model",
                      use_safetensors=True,
                      local_files_only=local_files_only,
                      **_dtype_kwarg(tf, resolve_dtype(dtype, dev)))
        pre = ImagePreprocess.from_processor_config(
            read_model_json(name, "preprocessor_config.json", local_files_only=local_files_only),
            default=_scaled_default(cls._default_preprocess, net.config))
        return cls(net, layers=layers, pool=pool, preprocess=pre, batch_size=batch_size,
                   device=dev, dtype=dtype, source=name)

    @classmethod
    def from_config(cls, config: Any, *, seed: int = 0, **kwargs: Any) -> DINOv2Backbone:
        """A randomly initialised ``Dinov2Model`` from a ``Dinov2Config``."""
        tf = import_optional("transformers", "DINOv2Backbone")
        with seeded_init(seed):
            net = tf.Dinov2Model(config)
        return cls(net, **kwargs)


def _scaled_default(default: ImagePreprocess, config: Any) -> ImagePreprocess:
    size = _config_image_size(getattr(config, "vision_config", config))
    return ImagePreprocess(round(size * default.resize / default.crop), size, default.mean,
                           default.std, default.resample)


@contextlib.contextmanager
def _quiet(tf: Any) -> Iterator[None]:
    """Silence transformers' load report (unused weights) for one call."""
    old = tf.logging.get_verbosity()
    tf.logging.set_verbosity_error()
    try:
        yield
    finally:
        tf.logging.set_verbosity(old)


def _dtype_kwarg(tf: Any, dtype: torch.dtype) -> dict[str, Any]:
    """``dtype=`` for transformers ≥ 4.56, ``torch_dtype=`` before."""
    major, minor = (int(p) for p in re.findall(r"\d+", tf.__version__)[:2])
    return {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": dtype}


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

        Raises
        ------
        BackendUnavailable
            As :meth:`CLIPBackbone.from_pretrained`.
        """
        tf = import_optional("transformers", "CLIPEmbedder")
        name = check_model_name(model, "CLIPEmbedder")
        dev = resolve_device(device)
        net = hf_load(tf.CLIPModel.from_pretrained, name, what="CLIP model",
                      use_safetensors=True,
                      local_files_only=local_files_only,
                      **_dtype_kwarg(tf, resolve_dtype(dtype, dev)))
        tok = hf_load(tf.AutoTokenizer.from_pretrained, name, what="CLIP tokenizer",
                      local_files_only=local_files_only)
        pre = ImagePreprocess.from_processor_config(
            read_model_json(name, "preprocessor_config.json", local_files_only=local_files_only),
            default=_scaled_default(CLIPBackbone._default_preprocess, net.config))
        return cls(net, tok, preprocess=pre, batch_size=batch_size, device=dev, dtype=dtype,
                   source=name)

    @classmethod
    def from_config(cls, config: Any, tokenizer: Any, *, seed: int = 0,
                    **kwargs: Any) -> CLIPEmbedder:
        """A randomly initialised ``CLIPModel`` from a ``CLIPConfig``, with ``tokenizer``."""
        tf = import_optional("transformers", "CLIPEmbedder")
        with seeded_init(seed):
            net = tf.CLIPModel(config)
        return cls(net, tokenizer, **kwargs)

    def weights_sha256(self) -> str:
        """SHA-256 of the model's state dict (computed once)."""
        if self._weights_sha is None:
            self._weights_sha = _state_digest(self._model)
        return self._weights_sha

    def config(self) -> dict[str, Any]:
        """Settings that change the embeddings (what :meth:`fingerprint` hashes)."""
        vocab = getattr(self.tokenizer, "get_vocab", dict)()
        tok = hashlib.sha256(json.dumps(sorted(vocab.items())).encode()).hexdigest()[:16]
        return {"name": "clip", "source": self.source, "feature_version": HF_FEATURE_VERSION,
                "weights_sha256": self.weights_sha256(), "tokenizer_vocab_sha": tok,
                "preprocess": asdict(self.preprocess), "dtype": dtype_name(self.dtype)}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :meth:`config`."""
        return hashlib.sha256(json.dumps(self.config(), sort_keys=True).encode()).hexdigest()[:16]

    def encode_images(self, images: Images) -> np.ndarray:
        """(n, dim) float32 unit-norm image embeddings of uint8 RGB images."""
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
        """(n, dim) float32 unit-norm text embeddings."""
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
        """Text embeddings (the :class:`~braincause.retrieval.index.TextEmbedder` protocol)."""
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
