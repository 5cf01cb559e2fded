"""Surface figures of the simulated visual cortex on nilearn's bundled fsaverage5.

Both figures share one layout, drawn with nilearn's matplotlib engine on the
inflated and flat fsaverage5 meshes over a light sulcal-depth background:

* row 1: left lateral, left medial, right medial, right lateral;
* row 2: left and right ventral surface, seen from below with the lateral
  edge up and the occipital pole towards the middle of the figure;
* row 3: flat map of both hemispheres cropped to the visual cortex (left
  hemisphere on the left, occipital poles facing each other, as in
  pycortex), and the key (legend or colour bar).

:func:`plot_areas` paints boolean areas (planted concept areas in saturated
colours, cue-only decoys as a translucent fill with a solid outline);
:func:`plot_surface_map` paints a continuous per-voxel map. Figures are plain
:class:`matplotlib.figure.Figure` objects (no pyplot state), so they render
with the Agg backend anywhere. Only ``fsaverage5``, which ships with nilearn,
is used: nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError
from braincause.synth.cortex import HEMIS, N_FSAVERAGE5, Cortex

__all__ = ["DECOY_COLOURS", "PLANTED_COLOURS", "plot_areas", "plot_surface_map"]

DPI = 150
FIGSIZE = (16.0, 9.6)  # inches: 2400 x 1440 px at DPI

# Saturated qualitative colours for planted concept areas (no greys, browns or pale tones).
PLANTED_COLOURS = (
    "#e6194b", "#4363d8", "#3cb44b", "#f58231", "#911eb4", "#00b5d8", "#f032e6",
    "#000075", "#469990", "#800000", "#d4b000", "#ff7f7f", "#7fbf00", "#6a5acd",
)
# Black, brown and grey-ish colours for cue-only decoys, drawn as translucent fill + outline.
DECOY_COLOURS = ("#1a1a1a", "#7b4a1e", "#5f6f7f", "#6b6b2f", "#7a3b5a")
DECOY_FILL_ALPHA = 0.45
CORTEX_TINT = (1.0, 0.85, 0.45, 0.35)  # faint warm tint marking the simulated cortex
CORTEX_EDGE = "#8a7a5a"
OUTLINE_COLOURS = (
    "#000000", "#00a651", "#ff00ff", "#00c8ff", "#ffd700", "#8b4513", "#7f00ff",
)
KINDS = ("planted", "decoy")

# (hemisphere, panel title, (elevation, azimuth)) of the six inflated views.
_VIEWS_3D = (
    ("left", "Left lateral", (0, 180)),
    ("left", "Left medial", (0, 0)),
    ("right", "Right medial", (0, 180)),
    ("right", "Right lateral", (0, 0)),
    ("left", "Left ventral (from below, lateral edge up)", (-90, 180)),
    ("right", "Right ventral (from below, lateral edge up)", (-90, 0)),
)
_FLAT_VIEW = (90, 270)  # looking down on the flat map: +x right, +y up
_FOOTNOTE = "nilearn fsaverage5, inflated and flat; background: sulcal depth (dark = sulci)"
_FLAT_MARGIN = 12.0  # mm of flat map kept around the visual cortex
_FLAT_GAP = 12.0  # mm between the two hemispheres on the flat panel


# --------------------------------------------------------------------------- meshes


@dataclass(frozen=True)
class _Surfaces:
    """fsaverage5 as needed for plotting (per hemisphere name)."""

    inflated: dict[str, Any]  # nilearn InMemoryMesh, centred
    bg: dict[str, np.ndarray]  # light background in [0, 1] (gray_r: 0 white)
    flat_xy: dict[str, np.ndarray]  # (10242, 2)
    flat_faces: dict[str, np.ndarray]  # faces off the medial wall
    #: (hemisphere, view) → the inflated mesh with only its camera-facing faces (_front)
    front: dict[tuple[str, tuple[float, float]], Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Flat:
    """Both hemispheres' flat maps, cropped and side by side, as one mesh."""

    mesh: Any
    bg: np.ndarray
    parts: tuple[tuple[str, np.ndarray], ...]  # (hemisphere, fsaverage5 vertices kept)

    def gather(self, full: Mapping[str, np.ndarray]) -> np.ndarray:
        """Values on the flat mesh from full-hemisphere arrays."""
        return np.concatenate([np.asarray(full[name])[idx] for name, idx in self.parts])


@lru_cache(maxsize=1)
def _surfaces() -> _Surfaces:
    from nilearn.surface import InMemoryMesh

    from braincause.synth.cortex import fsaverage5_files

    fs, sulc, thick = fsaverage5_files()
    inflated, bg, flat_xy, flat_faces = {}, {}, {}, {}
    for name in HEMIS:
        mesh = fs["inflated"].parts[name]
        coords = np.asarray(mesh.coordinates, float)
        inflated[name] = InMemoryMesh(coords - coords.mean(0), np.asarray(mesh.faces))
        s = np.asarray(sulc[name], float)
        # gyri ≈ 0.13 (light grey), sulci ≈ 0.43 (mid grey) on nilearn's gray_r scale
        bg[name] = 0.28 + 0.15 * np.tanh(s / (np.std(s) + 1e-9))
        flat = fs["flat"].parts[name]
        flat_xy[name] = np.asarray(flat.coordinates, float)[:, :2]
        faces = np.asarray(flat.faces)
        cortex = np.asarray(thick[name]) > 0
        flat_faces[name] = faces[cortex[faces].all(1)]
    return _Surfaces(inflated, bg, flat_xy, flat_faces)


def _front(hemi: str, view: tuple[float, float]):
    """The inflated ``hemi`` with only the faces that face the camera of ``view``
    (elevation, azimuth in degrees, as mplot3d places it).

    The inflated hemisphere is a closed surface with outward normals, so under the
    orthographic projection every face turned away from the camera lies behind one
    turned towards it: dropping them leaves the picture as it was and halves the
    polygons matplotlib sorts and draws. The vertices (and so every per-vertex array
    and the panel's framing) are kept.
    """
    from nilearn.surface import InMemoryMesh

    surf = _surfaces()
    key = (hemi, tuple(view))
    if key in surf.front:
        return surf.front[key]
    mesh = surf.inflated[hemi]
    xyz = np.asarray(mesh.coordinates, float)
    faces = np.asarray(mesh.faces)
    a, b, c = xyz[faces[:, 0]], xyz[faces[:, 1]], xyz[faces[:, 2]]
    normal = np.cross(b - a, c - a)
    elev, azim = np.deg2rad(view[0]), np.deg2rad(view[1])
    eye = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    surf.front[key] = InMemoryMesh(xyz, faces[normal @ eye > 0])
    return surf.front[key]


def _flat(cortex: Cortex, surf: _Surfaces) -> _Flat:
    from nilearn.surface import InMemoryMesh

    coords, faces, bgs, parts = [], [], [], []
    offset = 0
    for h, name in enumerate(HEMIS):
        xy = surf.flat_xy[name]
        vox = cortex.vertex[cortex.hemi == h]
        if vox.size == 0:
            continue
        lo = xy[vox].min(0) - _FLAT_MARGIN
        hi = xy[vox].max(0) + _FLAT_MARGIN
        inside = np.all((xy >= lo) & (xy <= hi), axis=1)
        f = surf.flat_faces[name]
        f = f[inside[f].all(1)]
        used = np.unique(f)
        new = np.full(N_FSAVERAGE5, -1)
        new[used] = np.arange(used.size) + offset
        c = xy[used].copy()
        # left hemisphere (occipital pole at +x) on the left, right one (pole at -x) on the right
        if name == "left":
            c[:, 0] -= c[:, 0].max() + _FLAT_GAP / 2
        else:
            c[:, 0] -= c[:, 0].min() - _FLAT_GAP / 2
        coords.append(np.column_stack([c, np.zeros(len(c))]))
        faces.append(new[f])
        bgs.append(surf.bg[name][used])
        parts.append((name, used))
        offset += used.size
    xyz = np.concatenate(coords)
    xyz -= xyz.mean(0)
    mesh = InMemoryMesh(xyz, np.concatenate(faces))
    return _Flat(mesh, np.concatenate(bgs), tuple(parts))


# --------------------------------------------------------------------------- checks


def _check_cortex(cortex: Cortex) -> None:
    if not isinstance(cortex, Cortex):
        raise UserInputError(f"cortex must be a braincause Cortex (see load_cortex()), "
                             f"got {type(cortex).__name__}")


def _check_masks(cortex: Cortex, masks: Mapping[str, Any], what: str) -> dict[str, np.ndarray]:
    if not isinstance(masks, Mapping):
        raise UserInputError(f"{what} must be a dict mapping names to boolean masks, "
                             f"got {type(masks).__name__}")
    out = {}
    for name, mask in masks.items():
        if not isinstance(name, str) or not name:
            raise UserInputError(f"{what}: names must be non-empty strings, got {name!r}")
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise UserInputError(f"{what}[{name!r}] must be a boolean mask over the cortex's "
                                 f"voxels, got dtype {m.dtype} (use e.g. `values > 0`)")
        if m.shape != (cortex.n_voxels,):
            raise UserInputError(f"{what}[{name!r}] has shape {m.shape}, expected "
                                 f"({cortex.n_voxels},): one entry per cortex voxel")
        out[name] = m
    return out


def _check_kinds(masks: Mapping[str, np.ndarray], kinds: Mapping[str, str] | None
                 ) -> dict[str, str]:
    kinds = dict(kinds or {})
    unknown = sorted(set(kinds) - set(masks))
    if unknown:
        raise UserInputError(f"kinds names areas that are not in `areas`: {unknown}")
    for name, kind in kinds.items():
        if kind not in KINDS:
            raise UserInputError(f"kinds[{name!r}] is {kind!r}; expected one of {KINDS}")
    return {name: kinds.get(name, "planted") for name in masks}


def _check_values(cortex: Cortex, values: Any) -> np.ndarray:
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as e:
        raise UserInputError(f"values must be numeric, one per cortex voxel: {e}") from e
    if v.shape != (cortex.n_voxels,):
        raise UserInputError(f"values has shape {v.shape}, expected ({cortex.n_voxels},): "
                             "one entry per cortex voxel")
    if np.isinf(v).any():
        raise UserInputError(f"values has {int(np.isinf(v).sum())} infinite entries")
    if not np.isfinite(v).any():
        raise UserInputError("values has no finite entry (all NaN)")
    return v


def _cmap(cmap: Any):
    import matplotlib
    import nilearn.plotting  # noqa: F401  (registers nilearn's colour maps, e.g. cold_hot)

    try:
        return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    except KeyError as e:
        raise UserInputError(f"unknown colour map {cmap!r}") from e


# --------------------------------------------------------------------------- drawing


def _layout(title: str):
    """Figure, the seven surface panels' cells (figure fraction) and the key axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI, facecolor="white")
    gs = fig.add_gridspec(3, 4, height_ratios=[1.0, 0.8, 1.15], left=0.005, right=0.995,
                          top=0.94 if title else 0.985, bottom=0.005, hspace=0.06, wspace=0.01)
    cells = [gs[0, i].get_position(fig) for i in range(4)]
    cells += [gs[1, :2].get_position(fig), gs[1, 2:].get_position(fig)]
    bottom = gs[2, :].subgridspec(1, 2, width_ratios=[2.3, 1.7], wspace=0.02)
    cells.append(bottom[0].get_position(fig))
    key_ax = fig.add_subplot(bottom[1])
    key_ax.set_axis_off()
    return fig, cells, key_ax


def _panels(cortex: Cortex, fig, cells):
    """(axes, mesh, hemi, view, bg, to_mesh, cell, title) for each surface panel."""
    surf = _surfaces()
    specs = [(_front(hemi, view), hemi, view, surf.bg[hemi],
              lambda full, hemi=hemi: np.asarray(full[hemi]), title)
             for hemi, title, view in _VIEWS_3D]
    flat = _flat(cortex, surf)
    specs.append((flat.mesh, "left", _FLAT_VIEW, flat.bg, flat.gather,
                  "Flat map of the visual cortex: left hemisphere | right hemisphere"))
    out = []
    for cell, (mesh, hemi, view, bg, to_mesh, title) in zip(cells, specs, strict=True):
        # 3-D axes are always square: use one as wide as the cell's long side, centred on
        # it and transparent; _frame() then scales the surface to fit inside the cell.
        w, h = cell.width * FIGSIZE[0], cell.height * FIGSIZE[1]
        side = max(w, h)
        cx, cy = cell.x0 + cell.width / 2, cell.y0 + cell.height / 2
        sw, sh = side / FIGSIZE[0], side / FIGSIZE[1]
        ax = fig.add_axes((cx - sw / 2, cy - sh / 2, sw, sh), projection="3d")
        ax.patch.set_visible(False)
        out.append((ax, mesh, hemi, view, bg, to_mesh, cell, title))
    return out


def _frame(ax, mesh, cell, title: str) -> None:
    """Undistorted orthographic view of ``mesh``, scaled and centred to fill ``cell``."""
    from mpl_toolkits.mplot3d import proj3d

    fig = ax.get_figure()
    xyz = np.asarray(mesh.coordinates)
    lo, hi = xyz.min(0), xyz.max(0)
    span = np.maximum(hi - lo, 1.0)
    mid = (lo + hi) / 2
    ax.set_xlim(mid[0] - span[0] / 2, mid[0] + span[0] / 2)
    ax.set_ylim(mid[1] - span[1] / 2, mid[1] + span[1] / 2)
    ax.set_zlim(mid[2] - span[2] / 2, mid[2] + span[2] / 2)
    ax.set_proj_type("ortho")
    ax.set_axis_off()

    def extent():  # bounding box of the drawn surface, figure fraction
        ax.apply_aspect()
        x, y, _ = proj3d.proj_transform(xyz[:, 0], xyz[:, 1], xyz[:, 2], ax.get_proj())
        pts = fig.transFigure.inverted().transform(ax.transData.transform(np.column_stack([x, y])))
        return pts.min(0), pts.max(0)

    ax.set_box_aspect(tuple(span), zoom=1.0)
    a, b = extent()
    title_h = 0.25 / FIGSIZE[1]  # room for the panel title
    room = np.array([cell.width, cell.height - title_h])
    zoom = 0.95 * float(np.min(room / np.maximum(b - a, 1e-9)))
    ax.set_box_aspect(tuple(span), zoom=zoom)
    a, b = extent()
    target = np.array([cell.x0 + cell.width / 2, cell.y0 + (cell.height - title_h) / 2])
    pos = ax.get_position(original=True)
    dx, dy = target - (a + b) / 2
    ax.set_position((pos.x0 + dx, pos.y0 + dy, pos.width, pos.height))
    fig.text(cell.x0 + cell.width / 2, cell.y1, title, ha="center", va="top", fontsize=10.5)


def _outline(ax, mesh, mask: np.ndarray, colour, hemi: str) -> bool:
    """Contour of a boolean vertex mask on an already drawn panel (False if too small)."""
    from nilearn import plotting

    if mask.sum() < 3:
        return False
    try:
        plotting.plot_surf_contours(mesh, roi_map=mask.astype(np.int8), hemi=hemi, levels=[1],
                                    colors=[colour], axes=ax)
    except ValueError:  # "Vertices in parcellation do not form region": a sliver
        return False
    return True


def _finish(fig, title: str, out: str | Path | None) -> None:
    # the title goes last: nilearn's plot_surf_contours copies a figure's suptitle onto its axes
    if title:
        fig.suptitle(title, fontsize=16, fontweight="bold", y=0.99)
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI, facecolor="white")


def _key_legend(key_ax, handles, title: str, loc: str, anchor, ncol: int = 1):
    leg = key_ax.legend(handles=handles, title=title, loc=loc, bbox_to_anchor=anchor,
                        frameon=False, fontsize=10, title_fontsize=11, ncol=ncol,
                        handlelength=1.6, handleheight=1.1, alignment="left")
    key_ax.add_artist(leg)
    return leg


def _area_colours(names: list[str], kinds: dict[str, str]) -> dict[str, str]:
    colours, n = {}, {"planted": 0, "decoy": 0}
    for name in names:
        kind = kinds[name]
        palette = PLANTED_COLOURS if kind == "planted" else DECOY_COLOURS
        colours[name] = palette[n[kind] % len(palette)]
        n[kind] += 1
    return colours


def _outline_colours(names: list[str], given: Mapping[str, Any] | None) -> dict[str, Any]:
    from matplotlib.colors import is_color_like

    given = dict(given or {})
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise UserInputError(f"outline_colours names areas that are not in `outline`: {unknown}")
    for name, colour in given.items():
        if not is_color_like(colour):
            raise UserInputError(f"outline_colours[{name!r}] is {colour!r}, not a matplotlib "
                                 "colour (e.g. '#1f77b4' or 'black')")
    rest = iter(range(len(names)))
    return {n: given[n] if n in given else OUTLINE_COLOURS[next(rest) % len(OUTLINE_COLOURS)]
            for n in names}


def plot_areas(cortex: Cortex, areas: dict[str, np.ndarray], *,
               kinds: dict[str, str] | None = None, title: str = "",
               out: str | Path | None = None):
    """Draw named boolean areas on the inflated and flat visual cortex.

    Parameters
    ----------
    cortex : Cortex
        From :func:`braincause.synth.cortex.load_cortex`.
    areas : dict of str to ndarray of shape (n_voxels,), bool
        Areas to draw, in order: where areas overlap the later one is on top.
    kinds : dict of str to {"planted", "decoy"}, optional
        Kind of each area (default "planted"). Planted concept areas are solid,
        saturated colours; cue-only decoys a translucent dark fill with a solid
        outline of the same colour.
    title : str
        Figure title.
    out : path, optional
        Where to save the figure as PNG (150 dpi, 2400 x 1440 px).

    Returns
    -------
    matplotlib.figure.Figure
        The legend lists every area as ``"name (voxel count)"``.
    """
    from matplotlib.colors import ListedColormap, to_rgba
    from matplotlib.patches import Patch
    from nilearn import plotting

    _check_cortex(cortex)
    masks = _check_masks(cortex, areas, "areas")
    kinds_ = _check_kinds(masks, kinds)
    names = list(masks)
    colours = _area_colours(names, kinds_)

    # label 0: off the simulated cortex (transparent); 1: simulated cortex (tint); 2+i: area i
    labels = np.ones(cortex.n_voxels)
    for i, name in enumerate(names):
        labels[masks[name]] = 2 + i
    rgba = [(0.0, 0.0, 0.0, 0.0), CORTEX_TINT]
    rgba += [to_rgba(colours[n], 1.0 if kinds_[n] == "planted" else DECOY_FILL_ALPHA)
             for n in names]
    cmap = ListedColormap(rgba)
    full = cortex.to_fsaverage(labels, fill=0.0)
    cortex_full = cortex.to_fsaverage(np.ones(cortex.n_voxels), fill=0.0)
    decoys = [n for n in names if kinds_[n] == "decoy"]
    decoy_full = {n: cortex.to_fsaverage(masks[n].astype(float), fill=0.0) for n in decoys}

    fig, cells, key_ax = _layout(title)
    for ax, mesh, hemi, view, bg, to_mesh, cell, panel in _panels(cortex, fig, cells):
        plotting.plot_surf_roi(mesh, roi_map=to_mesh(full), bg_map=bg, hemi=hemi, view=view,
                               engine="matplotlib", cmap=cmap, colorbar=False, alpha=1.0,
                               vmin=-0.5, vmax=len(rgba) - 0.5, axes=ax)
        _outline(ax, mesh, to_mesh(cortex_full) > 0, CORTEX_EDGE, hemi)
        for n in decoys:
            _outline(ax, mesh, to_mesh(decoy_full[n]) > 0, colours[n], hemi)
        _frame(ax, mesh, cell, panel)

    counts = {n: int(masks[n].sum()) for n in names}
    planted = [Patch(facecolor=colours[n], edgecolor=colours[n], label=f"{n} ({counts[n]})")
               for n in names if kinds_[n] == "planted"]
    decoy = [Patch(facecolor=to_rgba(colours[n], DECOY_FILL_ALPHA), edgecolor=colours[n],
                   linewidth=2.0, label=f"{n} ({counts[n]})") for n in decoys]
    base = [Patch(facecolor=CORTEX_TINT, edgecolor=CORTEX_EDGE, linewidth=1.0,
                  label=f"simulated visual cortex ({cortex.n_voxels})")]
    if planted:
        _key_legend(key_ax, planted, "Concept areas (planted)", "upper left", (0.0, 1.0),
                    ncol=2 if len(planted) > 8 and not decoy else 1)
    if decoy:
        _key_legend(key_ax, decoy, "Cue-only decoys", "upper left",
                    (0.5 if planted else 0.0, 1.0))
    # under the decoy column when there is one, so it never collides with a long planted list
    _key_legend(key_ax, base, "", "lower left", (0.5 if decoy and planted else 0.0, 0.06))
    key_ax.text(0.0, 0.0, _FOOTNOTE + "; voxel counts in brackets",
                transform=key_ax.transAxes, fontsize=8.5, color="0.4")
    _finish(fig, title, out)
    return fig


def plot_surface_map(cortex: Cortex, values: np.ndarray, *, title: str = "",
                     cmap: str = "cold_hot", symmetric: bool = True,
                     threshold: float | None = None,
                     outline: dict[str, np.ndarray] | None = None,
                     outline_colours: dict[str, str] | None = None,
                     out: str | Path | None = None):
    """Draw a continuous per-voxel map on the inflated and flat visual cortex.

    Parameters
    ----------
    cortex : Cortex
        From :func:`braincause.synth.cortex.load_cortex`.
    values : ndarray of shape (n_voxels,), float
        One value per voxel; NaN voxels are left unpainted.
    title : str
        Figure title.
    cmap : str or Colormap
        Any matplotlib or nilearn colour map (default nilearn's "cold_hot").
    symmetric : bool
        Colour range ±max|values| (True) or [min, max] (False).
    threshold : float, optional
        Voxels with ``|value| < threshold`` are left unpainted.
    outline : dict of str to ndarray of shape (n_voxels,), bool, optional
        Areas drawn as coloured contours over the map (e.g. the planted areas).
    outline_colours : dict of str to colour, optional
        Colour of some or all outlines (any matplotlib colour); the others take
        the next colours of ``OUTLINE_COLOURS``.
    out : path, optional
        Where to save the figure as PNG (150 dpi, 2400 x 1440 px).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch
    from nilearn import plotting

    _check_cortex(cortex)
    v = _check_values(cortex, values)
    masks = _check_masks(cortex, outline or {}, "outline")
    if threshold is not None and not (np.isfinite(threshold) and threshold >= 0):
        raise UserInputError(f"threshold must be a finite number ≥ 0 or None, got {threshold!r}")
    cm = _cmap(cmap)
    finite = v[np.isfinite(v)]
    if symmetric:
        vmax = float(np.abs(finite).max()) or 1.0
        vmin = -vmax
    else:
        vmin, vmax = float(finite.min()), float(finite.max())
        if vmin == vmax:
            vmin, vmax = vmin - 0.5, vmax + 0.5

    full = cortex.to_fsaverage(v)
    cortex_full = cortex.to_fsaverage(np.ones(cortex.n_voxels), fill=0.0)
    names = list(masks)
    colours = _outline_colours(names, outline_colours)
    mask_full = {n: cortex.to_fsaverage(masks[n].astype(float), fill=0.0) for n in names}

    fig, cells, key_ax = _layout(title)
    for ax, mesh, hemi, view, bg, to_mesh, cell, panel in _panels(cortex, fig, cells):
        plotting.plot_surf_stat_map(mesh, stat_map=to_mesh(full), bg_map=bg, hemi=hemi,
                                    view=view, engine="matplotlib", cmap=cm, colorbar=False,
                                    threshold=threshold, vmin=vmin, vmax=vmax,
                                    symmetric_cbar=bool(symmetric), alpha=1.0, axes=ax)
        _outline(ax, mesh, to_mesh(cortex_full) > 0, CORTEX_EDGE, hemi)
        for n in names:
            _outline(ax, mesh, to_mesh(mask_full[n]) > 0, colours[n], hemi)
        _frame(ax, mesh, cell, panel)

    cax = key_ax.inset_axes((0.04, 0.8, 0.75, 0.07), label="colorbar")
    cbar = fig.colorbar(ScalarMappable(Normalize(vmin, vmax), cm), cax=cax,
                        orientation="horizontal")
    cbar.ax.tick_params(labelsize=9)
    if threshold:
        lo, hi = max(vmin, -threshold), min(vmax, threshold)
        if lo < hi:
            cax.axvspan(lo, hi, color="white", alpha=0.75)
        key_ax.text(0.04, 0.70, f"|value| < {threshold:g} not shown (pale band)",
                    transform=key_ax.transAxes, fontsize=9, color="0.3", va="top")
    n_nan = int(np.isnan(v).sum())
    note = f"{finite.size} voxels with a value" + (f", {n_nan} NaN not shown" if n_nan else "")
    key_ax.text(0.04, 0.93, note, transform=key_ax.transAxes, fontsize=9, color="0.3")
    handles = [Patch(facecolor="none", edgecolor=colours[n], linewidth=2.0,
                     label=f"{n} ({int(masks[n].sum())})") for n in names]
    if handles:
        _key_legend(key_ax, handles, "Outlines", "upper left", (0.0, 0.62),
                    ncol=2 if len(handles) > 6 else 1)
    _key_legend(key_ax, [Patch(facecolor="none", edgecolor=CORTEX_EDGE, linewidth=1.5,
                               label=f"simulated visual cortex ({cortex.n_voxels})")],
                "", "lower left", (0.0, 0.06))
    key_ax.text(0.0, 0.0, _FOOTNOTE, transform=key_ax.transAxes, fontsize=8.5, color="0.4")
    _finish(fig, title, out)
    return fig
