"""Small shared helpers (randomness, atomic file writes)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

RandomState = int | np.random.Generator | np.random.SeedSequence | None


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """The one way to turn ``random_state`` into a Generator.

    ``None`` gives fresh OS entropy; an int or SeedSequence a reproducible
    generator; a Generator is returned as is (shared, not copied).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(random_state)
    raise TypeError(
        f"random_state must be None, an int, a SeedSequence or a numpy Generator, "
        f"got {type(random_state).__name__}"
    )


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and rename (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates 0600 files; give the result the usual permissions (umask applies)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def voxel_mask(voxels, n_voxels: int) -> np.ndarray:
    """A boolean mask of shape (n_voxels,) that is True at ``voxels``.

    Parameters
    ----------
    voxels : array-like of int
        Voxel indices.
    n_voxels : int

    Returns
    -------
    ndarray of shape (n_voxels,), bool
    """
    m = np.zeros(n_voxels, bool)
    m[np.asarray(voxels, dtype=np.int64)] = True
    return m


def cache_dir() -> Path:
    """On-disk cache: ``$BRAINCAUSE_CACHE`` or ``~/.cache/braincause``."""
    root = os.environ.get("BRAINCAUSE_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "braincause"
