"""Loading Hugging Face models (transformers, diffusers) with one set of rules and messages.

Every real backend loads its weights through :func:`load_pretrained` (or :func:`hf_load`
for files without weights: configs, tokenizers, processors):

* nothing is downloaded while ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set
  (:func:`hf_offline`, read at call time); the cache is ``HF_HUB_CACHE`` or
  ``HF_HOME/hub`` (:func:`hf_cache_dir`);
* a missing package, a model neither cached nor downloadable, or an incomplete local
  folder raises :class:`~braincause.exceptions.BackendUnavailable` with one message that
  names the model and the command that provides it (:func:`missing_model_message`);
* weights are read from safetensors only (never unpickled) and loaded on the resolved
  device and dtype (:func:`resolve_device`, :func:`resolve_dtype`: bfloat16 on CUDA,
  float32 on CPU), with the dtype keyword the installed library understands
  (:func:`dtype_kwarg`).

Importing this module imports neither torch nor the Hugging Face libraries.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from braincause.exceptions import BackendUnavailable, UserInputError

if TYPE_CHECKING:
    import torch

__all__ = [
    "DTYPE_NAMES",
    "REAL_EXTRA",
    "check_model_name",
    "dtype_kwarg",
    "dtype_name",
    "hf_cache_dir",
    "hf_load",
    "hf_offline",
    "import_optional",
    "load_pretrained",
    "missing_model_message",
    "read_model_json",
    "resolve_device",
    "resolve_dtype",
]

#: How to install the optional dependencies of the real backends.
REAL_EXTRA = "pip install 'braincause[real]'"
#: The floating-point types a real backend may run in (``[backends] dtype``).
DTYPE_NAMES = ("float32", "float16", "bfloat16")
_TRUE = ("1", "true", "yes", "on")


# ------------------------------------------------------------------ environment
def hf_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set, read at call time.

    Returns
    -------
    bool
    """
    return any(os.environ.get(k, "").strip().lower() in _TRUE
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hf_cache_dir() -> str | None:
    """The Hugging Face hub cache named by ``HF_HUB_CACHE`` or ``HF_HOME``, read at call time.

    Returns
    -------
    str or None
        ``None`` lets the libraries use their default (``~/.cache/huggingface/hub``).
    """
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def import_optional(module: str, what: str) -> Any:
    """Import an optional dependency or raise :class:`BackendUnavailable` naming the extra.

    Parameters
    ----------
    module : str
        Dotted module name (``"transformers"``).
    what : str
        What needs it, for the message (``"CLIPBackbone"``).

    Returns
    -------
    module

    Raises
    ------
    BackendUnavailable
        The package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise BackendUnavailable(
            f"{what} needs the Python package {module.split('.')[0]!r} ({e}); install the "
            f"real backends with `{REAL_EXTRA}`"
        ) from e


# ------------------------------------------------------------------ model names
def _looks_like_path(model: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else is meant as a folder."""
    return (model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
            or Path(model).expanduser().exists())


def check_model_name(model: Any, what: str) -> str:
    """Validate a model id or a local folder (a path that does not exist is an error).

    Parameters
    ----------
    model : str or path-like
        ``name`` or ``owner/name`` on the hub, else a folder.
    what : str
        What is loaded, for the messages.

    Returns
    -------
    str
        The id, or the folder with ``~`` expanded.

    Raises
    ------
    UserInputError
        Not a string or path.
    BackendUnavailable
        A folder that does not exist.
    """
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
    """One message naming the model, why it failed, and how to provide it.

    Parameters
    ----------
    model : str
        Hub id or folder.
    what : str
        What was loaded ("CLIP model").
    reason : exception or str
        Why it failed (its first line is quoted).

    Returns
    -------
    str
    """
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


# ------------------------------------------------------------------ devices and dtypes
def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """The torch dtype of a backend.

    Parameters
    ----------
    dtype : str, torch.dtype or None
        One of :data:`DTYPE_NAMES` (or the torch dtype); ``None``: float32 on CPU,
        bfloat16 on CUDA.
    device : torch.device

    Returns
    -------
    torch.dtype

    Raises
    ------
    UserInputError
        Another dtype.
    """
    import torch

    if dtype is None:
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    allowed = {name: getattr(torch, name) for name in DTYPE_NAMES}
    if isinstance(dtype, torch.dtype):
        if dtype not in allowed.values():
            raise UserInputError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
        return dtype
    if str(dtype) not in allowed:
        raise UserInputError(f"dtype must be one of {DTYPE_NAMES}, got {dtype!r}")
    return allowed[str(dtype)]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The torch device of a backend.

    Parameters
    ----------
    device : str, torch.device or None
        ``None``: ``cuda`` when available, else ``cpu``.

    Returns
    -------
    torch.device

    Raises
    ------
    UserInputError
        Not a device torch knows.
    """
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise UserInputError(f"device must be a torch device such as 'cpu' or 'cuda:0', got "
                             f"{device!r}") from e


def dtype_name(dtype: torch.dtype) -> str:
    """The name of a torch dtype.

    Parameters
    ----------
    dtype : torch.dtype

    Returns
    -------
    str
        ``"bfloat16"`` for ``torch.bfloat16``.
    """
    return str(dtype).removeprefix("torch.")


def dtype_kwarg(library: Any, dtype: torch.dtype) -> dict[str, Any]:
    """The ``from_pretrained`` keyword of the weights' dtype, as ``library`` spells it.

    transformers ≥ 4.56 and diffusers ≥ 0.36 take ``dtype=``, earlier versions
    ``torch_dtype=``.

    Parameters
    ----------
    library : module
        ``transformers`` or ``diffusers``.
    dtype : torch.dtype

    Returns
    -------
    dict
        ``{"dtype": dtype}`` or ``{"torch_dtype": dtype}``.
    """
    if library.__name__.split(".")[0] == "diffusers":
        from diffusers.pipelines import pipeline_utils

        new = hasattr(pipeline_utils, "_resolve_dtype")
    else:
        major, minor = (int(p) for p in re.findall(r"\d+", library.__version__)[:2])
        new = (major, minor) >= (4, 56)
    return {"dtype" if new else "torch_dtype": dtype}


# ------------------------------------------------------------------ loading
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
    **kwargs
        Passed to ``loader``.

    Returns
    -------
    object
        What ``loader`` returns.

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


def load_pretrained(loader: Callable[..., Any], model: str, *, what: str, library: Any,
                    device: str | torch.device | None = None,
                    dtype: str | torch.dtype | None = None,
                    local_files_only: bool | None = None, **kwargs: Any) -> Any:
    """Weights through :func:`hf_load`, in the dtype resolved for ``device``, safetensors only.

    Parameters
    ----------
    loader : callable
        A ``from_pretrained`` of ``library``.
    model : str
        Hub id or local folder, already checked by :func:`check_model_name`.
    what : str
        Human name of the thing loaded, used in messages.
    library : module
        ``transformers`` or ``diffusers`` (picks the dtype keyword, :func:`dtype_kwarg`).
    device, dtype : optional
        As :func:`resolve_device` and :func:`resolve_dtype`. The model is not moved to
        ``device``: the caller does that.
    local_files_only : bool, optional
        Default: :func:`hf_offline`.
    **kwargs
        Passed to ``loader`` (``config=``, ``variant=``, …).

    Returns
    -------
    object
        The loaded model or pipeline (on the CPU unless the library placed it).

    Raises
    ------
    BackendUnavailable
        As :func:`hf_load`.
    """
    kwargs.update(dtype_kwarg(library, resolve_dtype(dtype, resolve_device(device))))
    kwargs.setdefault("use_safetensors", True)  # never unpickle .bin checkpoints
    return hf_load(loader, model, what=what, local_files_only=local_files_only, **kwargs)


def read_model_json(model: str, filename: str, *,
                    local_files_only: bool | None = None) -> dict[str, Any] | None:
    """A JSON file of a model folder or hub repo, or None when the model has none.

    Used for the optional ``preprocessor_config.json``; a model without it falls back to
    documented defaults.

    Parameters
    ----------
    model : str
        Hub id or folder.
    filename : str
        File name inside the model.
    local_files_only : bool, optional
        Default: :func:`hf_offline`.

    Returns
    -------
    dict or None
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
