"""Per-voxel maps as field-standard surface files: GIFTI on fsaverage, region lists as TSV.

Neuroimaging viewers (FreeSurfer's freeview, Connectome Workbench's wb_view, nilearn,
pycortex) open GIFTI files on a standard mesh, not numpy archives. :func:`write_surface_maps`
writes, for each hemisphere, one file per map in FreeSurfer's naming:

* ``lh.<name>.func.gii`` / ``rh.<name>.func.gii``: a float map (one data array, intent
  ``NIFTI_INTENT_NONE``, float32), NaN on every vertex that is not one of the subject's
  voxels;
* ``lh.<name>.label.gii`` / ``rh.<name>.label.gii``: a mask as a label file (intent
  ``NIFTI_INTENT_LABEL``, int32, label table ``0`` = ``???`` (unlabelled), ``1`` = the
  mask's name).

Every file has one value per vertex of its hemisphere's full mesh (fsaverage5: 10,242;
fsaverage: 163,842), the mesh's name in the file's metadata (``braincause_mesh``) and
``AnatomicalStructurePrimary`` (``CortexLeft`` / ``CortexRight``), as Workbench expects.
:func:`region_table` lists the voxels of each region as plain tab-separated text.

A foundation module: numpy and, lazily, nibabel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["HEMI_NAMES", "MESH_NAMES", "mesh_name", "read_surface_map", "region_table",
           "surface_arrays", "write_surface_maps"]

#: FreeSurfer's hemisphere prefixes, in the order of ``hemi`` codes 0 and 1.
HEMI_NAMES = ("lh", "rh")
#: Workbench's structure names of the two hemispheres.
STRUCTURES = ("CortexLeft", "CortexRight")
#: vertices per hemisphere of the nested fsaverage meshes
MESH_NAMES = {10242: "fsaverage5", 40962: "fsaverage6", 163842: "fsaverage"}


def mesh_name(n_vertices: int) -> str:
    """The fsaverage mesh with ``n_vertices`` vertices per hemisphere.

    Parameters
    ----------
    n_vertices : int

    Returns
    -------
    str
        ``"fsaverage5"``, ``"fsaverage6"``, ``"fsaverage"``, or ``"<n>-vertex mesh"``.
    """
    return MESH_NAMES.get(int(n_vertices), f"{int(n_vertices)}-vertex mesh")


def surface_arrays(values: np.ndarray, vertex: np.ndarray, hemi: np.ndarray,
                   n_vertices: int, *, fill: float = np.nan) -> dict[str, np.ndarray]:
    """Scatter per-voxel ``values`` onto both hemispheres' full meshes.

    Parameters
    ----------
    values : ndarray of shape (n_voxels,)
    vertex : ndarray of shape (n_voxels,), int
        Each voxel's vertex in its hemisphere's mesh.
    hemi : ndarray of shape (n_voxels,), int
        0 = left, 1 = right.
    n_vertices : int
        Vertices per hemisphere of the mesh.
    fill : float
        The value of vertices that are no voxel.

    Returns
    -------
    dict of str to ndarray of shape (n_vertices,)
        ``{"lh": …, "rh": …}``.
    """
    values, vertex, hemi = np.asarray(values), np.asarray(vertex, int), np.asarray(hemi, int)
    if not values.shape == vertex.shape == hemi.shape or values.ndim != 1:
        raise ValueError(f"values {values.shape}, vertex {vertex.shape} and hemi "
                         f"{hemi.shape} must be 1-D of the same length (n_voxels,)")
    if len(vertex) and (vertex.min() < 0 or vertex.max() >= n_vertices):
        raise ValueError(f"vertex indices span {vertex.min()}..{vertex.max()}, outside a "
                         f"{n_vertices}-vertex hemisphere")
    out = {}
    for h, name in enumerate(HEMI_NAMES):
        full = np.full(n_vertices, fill, np.result_type(values.dtype, np.float32)
                       if values.dtype.kind == "f" else np.int32)
        sel = hemi == h
        full[vertex[sel]] = values[sel]
        out[name] = full
    return out


def _image(data: np.ndarray, structure: str, mesh: str, name: str, *, label: bool):
    from nibabel import gifti

    meta = gifti.GiftiMetaData({"AnatomicalStructurePrimary": structure,
                                "braincause_mesh": mesh, "Name": name})
    if label:
        table = gifti.GiftiLabelTable()
        for key, (lab, rgba) in enumerate((("???", (0.0, 0.0, 0.0, 0.0)),
                                           (name, (1.0, 0.55, 0.0, 1.0)))):
            gl = gifti.GiftiLabel(key, *rgba)
            gl.label = lab
            table.labels.append(gl)
        arr = gifti.GiftiDataArray(data.astype(np.int32), intent="NIFTI_INTENT_LABEL",
                                   datatype="NIFTI_TYPE_INT32",
                                   meta=gifti.GiftiMetaData({"Name": name}))
        return gifti.GiftiImage(meta=meta, darrays=[arr], labeltable=table)
    arr = gifti.GiftiDataArray(data.astype(np.float32), intent="NIFTI_INTENT_NONE",
                               datatype="NIFTI_TYPE_FLOAT32",
                               meta=gifti.GiftiMetaData({"Name": name}))
    return gifti.GiftiImage(meta=meta, darrays=[arr])


def write_surface_maps(folder: str | Path, maps: Mapping[str, np.ndarray], *,
                       n_vertices: int, floats: Sequence[str] = (),
                       masks: Sequence[str] = ()) -> list[Path]:
    """Write ``maps[name]`` for each name of ``floats`` (``.func.gii``) and ``masks``
    (``.label.gii``) into ``folder``, one file per hemisphere.

    Parameters
    ----------
    folder : path
    maps : dict of str to ndarray of shape (n_voxels,)
        Must hold ``vertex`` and ``hemi`` (as ``maps.npz`` does); names of ``floats`` and
        ``masks`` that it lacks are skipped.
    n_vertices : int
        Vertices per hemisphere of the mesh (10,242 for fsaverage5).
    floats, masks : sequence of str
        The float maps and the boolean maps to write.

    Returns
    -------
    list of Path
        The files written (``lh.`` then ``rh.`` of each map).
    """
    from braincause.utils import atomic_write_bytes

    folder = Path(folder)
    mesh = mesh_name(n_vertices)
    written = []
    for kind, names in (("func", floats), ("label", masks)):
        for name in names:
            if name not in maps:
                continue
            v = np.asarray(maps[name])
            v = v.astype(np.float32) if kind == "func" else v.astype(bool).astype(np.int32)
            full = surface_arrays(v, maps["vertex"], maps["hemi"], n_vertices,
                                  fill=np.nan if kind == "func" else 0)
            for h, hemi in enumerate(HEMI_NAMES):
                img = _image(full[hemi], STRUCTURES[h], mesh, name, label=kind == "label")
                path = folder / f"{hemi}.{name}.{kind}.gii"
                atomic_write_bytes(path, img.to_bytes())
                written.append(path)
    return written


def read_surface_map(path: str | Path) -> np.ndarray:
    """The values of a one-array GIFTI file written by :func:`write_surface_maps`.

    Parameters
    ----------
    path : path

    Returns
    -------
    ndarray of shape (n_vertices,)
    """
    import nibabel as nib

    return np.asarray(nib.load(str(path)).darrays[0].data)


def region_table(regions: Mapping[str, np.ndarray], maps: Mapping[str, np.ndarray], *,
                 columns: Sequence[str] = (), coordinates: np.ndarray | None = None) -> str:
    """The voxels of each region as tab-separated text, one row per (region, voxel).

    Columns: ``region``, ``voxel`` (index into the per-voxel arrays), ``hemi``
    (``lh``/``rh``), ``vertex`` (index in that hemisphere's mesh), ``x``, ``y``, ``z``
    (when ``coordinates`` is given) and each name of ``columns`` (that map's value).

    Parameters
    ----------
    regions : dict of str to ndarray of shape (n_voxels,), bool
    maps : dict of str to ndarray of shape (n_voxels,)
        ``vertex``, ``hemi`` and the ``columns``.
    columns : sequence of str
    coordinates : ndarray of shape (n_voxels, 3), optional

    Returns
    -------
    str
    """
    cols = [c for c in columns if c in maps]
    head = ["region", "voxel", "hemi", "vertex"]
    if coordinates is not None:
        head += ["x", "y", "z"]
    lines = ["\t".join(head + cols)]
    for name, mask in regions.items():
        for i in np.flatnonzero(np.asarray(mask, bool)):
            row: list[Any] = [name, int(i), HEMI_NAMES[int(maps["hemi"][i])],
                              int(maps["vertex"][i])]
            if coordinates is not None:
                row += [f"{float(c):.2f}" for c in coordinates[i]]
            row += [f"{float(maps[c][i]):.6g}" for c in cols]
            lines.append("\t".join(str(x) for x in row))
    return "\n".join(lines) + "\n"
