"""Low-level image statistics of measured images, for matched comparisons.

A descriptor per image, from its pixels alone (64 px): in each cell of a 4 × 4 grid,
the mean luminance, RMS contrast, mean saturation, warmth (red minus blue, weighted by
saturation) and fine-detail energy (mean absolute Laplacian). Retinotopic, like early
visual cortex; nothing in it names an object. Cached per subject on disk.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from braincause.utils import atomic_write_bytes, cache_dir

SIZE = 64
GRID = 4
VERSION = "lowlevel-1"

__all__ = ["GRID", "SIZE", "descriptor", "descriptors"]


def descriptor(image: np.ndarray) -> np.ndarray:
    """The low-level descriptor of one image (module docstring).

    Parameters
    ----------
    image : ndarray of shape (height, width, 3), uint8
        Resized to :data:`SIZE` first.

    Returns
    -------
    ndarray of shape (5 * GRID * GRID,), float32
    """
    from PIL import Image

    img = np.asarray(image, np.uint8)
    if img.shape[:2] != (SIZE, SIZE):
        img = np.asarray(Image.fromarray(img).convert("RGB").resize(
            (SIZE, SIZE), Image.Resampling.BILINEAR))
    rgb = img.astype(np.float32) / 255.0
    r, b = rgb[..., 0], rgb[..., 2]
    mx, mn = rgb.max(2), rgb.min(2)
    sat = np.where(mx > 1e-3, (mx - mn) / np.maximum(mx, 1e-3), 0.0)
    gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = np.zeros_like(gray)
    lap[1:-1, 1:-1] = np.abs(4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1]
                             - gray[1:-1, :-2] - gray[1:-1, 2:])
    n = SIZE // GRID

    def cells(x: np.ndarray, f) -> np.ndarray:
        return f(x.reshape(GRID, n, GRID, n), axis=(1, 3)).ravel()

    return np.concatenate([cells(gray, np.mean), cells(gray, np.std), cells(sat, np.mean),
                           cells(np.clip(r - b, 0, 1) * sat, np.mean),
                           cells(lap, np.mean)]).astype(np.float32)


def descriptors(subj, indices: np.ndarray, *, use_cache: bool = True) -> np.ndarray:
    """Descriptors of a subject's measured images ``indices`` (rows of its responses).

    The subject's whole held-out split is computed (and cached under its fingerprint)
    the first time.

    Parameters
    ----------
    subj : BrainDataset
        Anything with ``image(i, size)``, ``test_indices`` and ``fingerprint()``.
    indices : ndarray of int
    use_cache : bool

    Returns
    -------
    ndarray of shape (len(indices), 5 * GRID * GRID), float32
    """
    indices = np.asarray(indices, int)
    test = np.asarray(subj.test_indices, int)
    path = cache_dir() / "lowlevel" / f"{subj.fingerprint()}-{VERSION}.npz"
    table = None
    if use_cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                if np.array_equal(z["indices"], test):
                    table = z["descriptors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            table = None  # damaged: recomputed
    if table is None:
        table = np.stack([descriptor(subj.image(int(i), SIZE)) for i in test])
        if use_cache:
            buf = io.BytesIO()
            np.savez(buf, indices=test, descriptors=table)
            atomic_write_bytes(path, buf.getvalue())
    where = {int(i): k for k, i in enumerate(test)}
    out = np.empty((len(indices), table.shape[1]), np.float32)
    for k, i in enumerate(indices):
        j = where.get(int(i))
        out[k] = table[j] if j is not None else descriptor(subj.image(int(i), SIZE))
    return out
