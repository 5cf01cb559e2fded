"""The simulated subjects' cortex: nilearn's bundled fsaverage5, visual part.

Vertices of fsaverage5 (10,242 per hemisphere) whose pial coordinate is
posterior (y ≤ −30 mm) and not dorsal (z ≤ 40 mm), minus the medial wall
(zero cortical thickness), are the subject's voxels: occipital, ventral and
lateral occipitotemporal cortex and the posterior STS. fsaverage coordinates
are close to MNI305 (Talairach-like) millimetres; every coordinate braincause
reports for a synthetic subject is in that space.

Only ``fsaverage5`` is used: it ships with nilearn, so nothing is downloaded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from braincause.exceptions import DataError

HEMIS = ("left", "right")
N_FSAVERAGE5 = 10242
Y_MAX = -30.0
Z_MAX = 40.0


@dataclass(frozen=True, eq=False)
class Cortex:
    """Visual cortex vertices of both hemispheres (left first).

    Attributes
    ----------
    vertex : (n,) int
        Index of each voxel in its hemisphere's fsaverage5 mesh.
    hemi : (n,) int8
        0 = left, 1 = right.
    pial, inflated : (n, 3) float
        Coordinates (mm, fsaverage ≈ MNI305).
    flat : (n, 2) float
        Coordinates on nilearn's flat map.
    sulc : (n,) float
        Sulcal depth.
    adjacency : (n, n) scipy.sparse.csr_matrix
        Mesh edges between voxels (symmetric, boolean).
    """

    vertex: np.ndarray
    hemi: np.ndarray
    pial: np.ndarray
    inflated: np.ndarray
    flat: np.ndarray
    sulc: np.ndarray
    adjacency: sp.csr_matrix = field(repr=False)

    @property
    def n_voxels(self) -> int:
        return int(self.vertex.shape[0])

    def to_fsaverage(self, values: np.ndarray, fill: float = np.nan) -> dict[str, np.ndarray]:
        """Scatter per-voxel ``values`` onto full fsaverage5 hemispheres."""
        values = np.asarray(values)
        if values.shape[0] != self.n_voxels:
            raise ValueError(f"values has {values.shape[0]} entries, cortex has {self.n_voxels}")
        out = {}
        for h, name in enumerate(HEMIS):
            full = np.full((N_FSAVERAGE5, *values.shape[1:]), fill,
                           dtype=np.result_type(values.dtype, np.float32))
            sel = self.hemi == h
            full[self.vertex[sel]] = values[sel]
            out[name] = full
        return out


@lru_cache(maxsize=1)
def load_cortex() -> Cortex:
    """The visual-cortex mask of fsaverage5 (cached in memory and on disk)."""
    import io

    from braincause.utils import atomic_write_bytes, cache_dir

    path = cache_dir() / "cortex" / f"fsaverage5-visual-y{Y_MAX:g}-z{Z_MAX:g}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                n = int(z["vertex"].shape[0])
                adj = sp.csr_matrix((np.ones(len(z["adj_i"]), bool), (z["adj_i"], z["adj_j"])),
                                    shape=(n, n))
                return Cortex(adjacency=adj, **{k: z[k] for k in
                                                ("vertex", "hemi", "pial", "inflated", "flat",
                                                 "sulc")})
        except (OSError, ValueError, zipfile.BadZipFile, KeyError):
            pass  # damaged cache entry: rebuilt from nilearn's files
    c = _cortex_from_nilearn()
    coo = c.adjacency.tocoo()
    buf = io.BytesIO()
    np.savez(buf, vertex=c.vertex, hemi=c.hemi, pial=c.pial, inflated=c.inflated, flat=c.flat,
             sulc=c.sulc, adj_i=coo.row, adj_j=coo.col)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # a read-only cache only costs time
    return c


def fsaverage5_files():
    """nilearn's bundled fsaverage5: (meshes, sulcal depth, thickness); DataError if damaged."""
    try:
        from nilearn import datasets

        fs = datasets.load_fsaverage("fsaverage5")
        sulc = datasets.load_fsaverage_data("fsaverage5", data_type="sulcal").data.parts
        thick = datasets.load_fsaverage_data("fsaverage5", data_type="thickness").data.parts
    except Exception as e:  # nilearn missing or its bundled files damaged
        raise DataError(f"could not load nilearn's bundled fsaverage5 meshes: {e}. "
                        "Reinstall nilearn (pip install --force-reinstall nilearn).") from e
    return fs, sulc, thick


def _cortex_from_nilearn() -> Cortex:
    fs, _, thick = fsaverage5_files()
    vertex, hemi = [], []
    for h, name in enumerate(HEMIS):
        pial = np.asarray(fs["pial"].parts[name].coordinates, float)
        keep = (pial[:, 1] <= Y_MAX) & (pial[:, 2] <= Z_MAX) & (np.asarray(thick[name]) > 0)
        idx = np.flatnonzero(keep)
        vertex.append(idx)
        hemi.append(np.full(idx.size, h, np.int8))
    return cortex_for(np.concatenate(vertex), np.concatenate(hemi))


def cortex_for(vertex: np.ndarray, hemi: np.ndarray) -> Cortex:
    """A :class:`Cortex` of any fsaverage5 vertices (left hemisphere first, ascending)."""
    vertex = np.asarray(vertex, np.int64)
    hemi = np.asarray(hemi, np.int8)
    if vertex.shape != hemi.shape or vertex.ndim != 1:
        raise ValueError(f"vertex and hemi must be 1-D of one length, got {vertex.shape} and "
                         f"{hemi.shape}")
    if vertex.size and (vertex.min() < 0 or vertex.max() >= N_FSAVERAGE5):
        raise ValueError(f"fsaverage5 vertices must be 0 … {N_FSAVERAGE5 - 1}")
    fs, sulc, _ = fsaverage5_files()
    parts = {k: [] for k in ("pial", "inflated", "flat", "sulc")}
    edges = []
    offset = 0
    for h, name in enumerate(HEMIS):
        idx = vertex[hemi == h]
        new = -np.ones(N_FSAVERAGE5, np.int64)
        new[idx] = np.arange(idx.size) + offset
        faces = np.asarray(fs["pial"].parts[name].faces)
        for a, b in ((0, 1), (1, 2), (2, 0)):
            ea, eb = new[faces[:, a]], new[faces[:, b]]
            ok = (ea >= 0) & (eb >= 0)
            edges.append(np.stack([ea[ok], eb[ok]], 1))
        parts["pial"].append(np.asarray(fs["pial"].parts[name].coordinates, float)[idx])
        parts["inflated"].append(np.asarray(fs["inflated"].parts[name].coordinates, float)[idx])
        parts["flat"].append(np.asarray(fs["flat"].parts[name].coordinates, float)[idx, :2])
        parts["sulc"].append(np.asarray(sulc[name], float)[idx])
        offset += idx.size
    e = np.concatenate(edges)
    adj = sp.coo_matrix((np.ones(len(e), bool), (e[:, 0], e[:, 1])), shape=(offset, offset))
    adj = ((adj.tocsr() + adj.T.tocsr()) > 0).astype(bool).tocsr()
    return Cortex(vertex=vertex, hemi=hemi, adjacency=adj,
                  **{k: np.concatenate(v) for k, v in parts.items()})
