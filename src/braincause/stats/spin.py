"""The spin test: is the agreement of two cortical maps more than their spatial
smoothness alone gives?

The null rotates one map rigidly on the sphere (Alexander-Bloch et al. 2018): each
random rotation of a hemisphere's sphere coordinates (mirrored for the other
hemisphere), each vertex taking the value of the rotated vertex nearest to it. The
rotations are neuromaps' (:func:`neuromaps.nulls.spins.gen_spinsamples`, the
"original" nearest-vertex method); this module restricts them to the vertices the
maps are defined on (a visual-cortex mask), and computes the statistic of every
rotation at once. A vertex whose rotated source lies outside the mask has no value
under that rotation and is left out of it, as neuromaps leaves out NaN (its
``compare_images(..., nulls=...)`` gives the same p-values; tests/test_sweep.py).

p-value: ``(1 + #{k : |null_k| ≥ |observed|}) / (n_spins + 1)``, two-sided for a
correlation, one-sided for the (non-negative) Dice coefficient.

References
----------
Alexander-Bloch, A. F. et al. (2018). On testing for spatial correspondence between
maps of human brain structure and function. NeuroImage 178, 540-551.
Markello, R. D. et al. (2022). neuromaps: structural and functional interpretation of
brain maps. Nature Methods 19, 1472-1479.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from braincause.exceptions import BackendUnavailable, UserInputError

__all__ = ["METRICS", "SpinTest", "dice", "spin_samples", "spin_test"]

#: The comparisons :func:`spin_test` computes.
METRICS = ("pearson", "dice")


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient ``2 |A ∩ B| / (|A| + |B|)`` of two boolean (0/1) maps; 0 when
    both are empty.

    Parameters
    ----------
    a, b : ndarray of shape (n_vertices,)

    Returns
    -------
    float
    """
    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    total = int(a.sum()) + int(b.sum())
    return 2.0 * int((a & b).sum()) / total if total else 0.0


def spin_samples(sphere: np.ndarray, hemi: np.ndarray, mask: np.ndarray, *,
                 n_spins: int, random_state: int) -> np.ndarray:
    """Random rotations of the sphere, as the source vertex of every masked vertex.

    Parameters
    ----------
    sphere : ndarray of shape (n_sphere, 3)
        Sphere coordinates of every vertex of both hemispheres (e.g. fsaverage5's
        20,484).
    hemi : ndarray of shape (n_sphere,), int
        0 (left) or 1 (right) per vertex.
    mask : ndarray of shape (n_vertices,), int
        Indices into ``sphere`` of the vertices the maps are defined on.
    n_spins : int
        Rotations (≥ 1).
    random_state : int
        Seeds neuromaps' rotations.

    Returns
    -------
    ndarray of shape (n_vertices, n_spins), int32
        For each masked vertex and rotation, the position in ``mask`` of the vertex
        whose value lands on it; -1 when that vertex is outside the mask.

    Raises
    ------
    BackendUnavailable
        neuromaps is not installed.
    UserInputError
        Shapes disagree or ``n_spins < 1``.
    """
    try:
        from neuromaps.nulls.spins import gen_spinsamples
    except ImportError as e:
        raise BackendUnavailable("the spin test needs neuromaps: pip install "
                                 f"'braincause[sweep]' (or pip install neuromaps) ({e})"
                                 ) from None
    sphere = np.asarray(sphere, float)
    hemi = np.asarray(hemi)
    mask = np.asarray(mask, np.int64)
    if sphere.ndim != 2 or sphere.shape[1] != 3 or hemi.shape != (len(sphere),):
        raise UserInputError(f"sphere must be (n, 3) and hemi (n,), got {sphere.shape} and "
                             f"{hemi.shape}")
    if mask.ndim != 1 or (mask.size and (mask.min() < 0 or mask.max() >= len(sphere))):
        raise UserInputError(f"mask must index the {len(sphere)} sphere vertices")
    if not isinstance(n_spins, int | np.integer) or n_spins < 1:
        raise UserInputError(f"n_spins must be an integer ≥ 1, got {n_spins!r}")
    full = gen_spinsamples(sphere, hemi, n_rotate=int(n_spins), check_duplicates=False,
                           method="original", seed=int(random_state))
    where = np.full(len(sphere), -1, np.int32)
    where[mask] = np.arange(mask.size, dtype=np.int32)
    return where[full[mask]]


@dataclass(frozen=True)
class SpinTest:
    """A map comparison and its spin-test p-value.

    Attributes
    ----------
    metric : str
        ``"pearson"`` or ``"dice"``.
    statistic : float
        Observed value (NaN when undefined, e.g. a constant map).
    p : float
        Spin-test p-value (NaN with the statistic).
    n_spins : int
    null : ndarray of shape (n_spins,)
        The statistic under each rotation.
    """

    metric: str
    statistic: float
    p: float
    n_spins: int
    null: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """The test as plain data.

        Returns
        -------
        dict
            ``{"metric", "statistic", "p", "n_spins", "null_mean"}`` (JSON-ready).
        """
        def r(x: float) -> float | None:
            return round(float(x), 6) if np.isfinite(x) else None

        return {"metric": self.metric, "statistic": r(self.statistic), "p": r(self.p),
                "n_spins": int(self.n_spins), "null_mean": r(np.nanmean(self.null))
                if np.isfinite(self.null).any() else None}


def spin_test(x: np.ndarray, y: np.ndarray, spins: np.ndarray, *,
              metric: str = "pearson") -> SpinTest:
    """Compare ``x`` with ``y`` and test it against rotations of ``x``.

    Parameters
    ----------
    x, y : ndarray of shape (n_vertices,)
        Maps on the masked vertices (NaN: no value). For ``"dice"``, 0/1 (or boolean)
        region masks.
    spins : ndarray of shape (n_vertices, n_spins), int
        From :func:`spin_samples` (-1: no value under that rotation).
    metric : {"pearson", "dice"}

    Returns
    -------
    SpinTest

    Raises
    ------
    UserInputError
        An unknown metric or shapes that disagree.
    """
    if metric not in METRICS:
        raise UserInputError(f"metric must be one of {METRICS}, got {metric!r}")
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    spins = np.asarray(spins)
    if x.shape != y.shape or x.ndim != 1 or spins.ndim != 2 or spins.shape[0] != x.size:
        raise UserInputError(f"x and y must be (n,) and spins (n, n_spins), got {x.shape}, "
                             f"{y.shape} and {spins.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    xs = np.where(spins >= 0, x[np.clip(spins, 0, None)], np.nan)[ok]  # (n_ok, n_spins)
    xo, yo = x[ok], y[ok]
    if metric == "pearson":
        observed = _pearson(xo[:, None], yo)[0]
        null = _pearson(xs, yo)
    else:
        observed = dice(xo, yo)
        null = _dice(xs, yo)
    n = spins.shape[1]
    if not np.isfinite(observed):
        return SpinTest(metric, float("nan"), float("nan"), n, null)
    hits = int(np.sum(np.abs(null[np.isfinite(null)]) >= abs(observed)))
    return SpinTest(metric, float(observed), (1 + hits) / (n + 1), n, null)


def _pearson(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``X`` with ``y`` over the rows where the column has a
    value (NaN: no value)."""
    v = np.isfinite(X)
    cnt = v.sum(0)
    Xv = np.where(v, X, 0.0)
    Yv = np.where(v, y[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = Xv.sum(0) / cnt, Yv.sum(0) / cnt
        dx, dy = np.where(v, X - mx, 0.0), np.where(v, y[:, None] - my, 0.0)
        r = (dx * dy).sum(0) / np.sqrt((dx ** 2).sum(0) * (dy ** 2).sum(0))
    return np.where(cnt > 1, r, np.nan)


def _dice(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Dice of every column of ``X`` with ``y`` over the rows where the column has a
    value."""
    v = np.isfinite(X)
    a = np.where(v, X, 0.0) > 0.5
    b = (y > 0.5)[:, None] & v
    inter = (a & b).sum(0)
    total = a.sum(0) + b.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * inter / total, 0.0)
