"""Figures of the report, rendered off-screen and inlined as ``data:`` URIs.

Four surface maps (:func:`surface_maps`): the TRAIN-split voxel scores S_causal and
S_pos on the whole simulated visual cortex, and the causal and activation-only
regions coloured by S_causal, each drawn by
:func:`~braincause.report.surface.plot_surface_map` on the inflated and flat
fsaverage5 meshes. For synthetic subjects the planted concept areas and cue-only
decoys that hold part of either region are outlined. Stimulus thumbnails
(:func:`thumbnail_uri`) are small JPEGs.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from braincause.exceptions import UserInputError
from braincause.report.run import ReportRun

__all__ = ["MapFigure", "figure_uri", "select_outlines", "surface_maps", "thumbnail_uri"]

#: Resolution of the inlined surface maps (the figures are 16 x 9.6 in): 1360 x 816 px,
#: sharp at the report's two-per-row width on high-density screens, ~0.2 MB each.
MAP_DPI = 85
#: Longest side of a stimulus thumbnail, pixels.
THUMB_PX = 112
#: Areas that hold at least this fraction of either region are outlined.
MIN_INSIDE = 0.05
#: At most this many areas are outlined (beyond that the contours hide the map).
MAX_OUTLINES = 6
PLANTED_OUTLINES = ("#00a651", "#ff00ff", "#00c8ff", "#ffd700", "#7f00ff", "#ff7f00")
DECOY_OUTLINES = ("#8b4513", "#555555", "#6b6b2f")
REGION_OUTLINE = "#000000"


@dataclass(frozen=True)
class MapFigure:
    """One inlined surface map: an id for the page, a title, a caption, the image.

    Attributes
    ----------
    key : str
        Id of the map on the page.
    title : str
    caption : str
    uri : str
        The PNG as a ``data:image/png;base64`` URI.
    """

    key: str
    title: str
    caption: str
    uri: str


def figure_uri(fig, *, dpi: int = MAP_DPI) -> str:
    """A matplotlib figure as a ``data:image/png`` URI, reduced to a 256-colour palette.

    The maps are flat colour fields and text, so a palette loses nothing visible
    and makes the PNG about three times smaller.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default=MAP_DPI
        Resolution of the PNG.

    Returns
    -------
    str
        ``data:image/png;base64,…``
    """
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    img = img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def thumbnail_uri(path: Path, *, size: int = THUMB_PX) -> str:
    """A stimulus image as a small JPEG ``data:`` URI (longest side ``size`` pixels).

    Parameters
    ----------
    path : Path
        The image file.
    size : int, default=THUMB_PX
        Longest side of the thumbnail, in pixels.

    Returns
    -------
    str
        ``data:image/jpeg;base64,…``

    Raises
    ------
    UserInputError
        When the file is missing or is not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((size, size), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=88, optimize=True)
    except FileNotFoundError as e:
        raise UserInputError(f"{path} is listed in stimuli/manifest.json but missing; rerun "
                             "`braincause localize CONCEPT --out DIR`") from e
    except (OSError, UnidentifiedImageError) as e:
        raise UserInputError(f"{path} is not a readable image ({e}); rerun "
                             "`braincause localize CONCEPT --out DIR`") from e
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def select_outlines(run: ReportRun) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Planted areas and decoys to outline on the maps, with their colours.

    An area is outlined when at least ``MIN_INSIDE`` of the causal or the
    activation-only region's voxels lie inside its extent; the ``MAX_OUTLINES``
    areas holding most are kept. Real subjects (no areas in ``maps.npz``) get none.

    Parameters
    ----------
    run : ReportRun
        From :func:`~braincause.report.run.load_run`.

    Returns
    -------
    masks : dict of str to ndarray of shape (n_voxels,), bool
        Legend label (``"FFA (planted)"``) to area extent.
    colours : dict of str to str
        Legend label to outline colour.
    """
    if not run.has_areas:
        return {}, {}
    m = run.maps
    regions = [m["region"], m["activation_region"]]
    share = []
    for name, kind, extent in zip(m["area_names"], m["area_kinds"], m["area_extents"],
                                  strict=True):
        frac = max(float((r & extent).sum()) / max(1, int(r.sum())) for r in regions)
        if frac >= MIN_INSIDE and extent.sum() >= 3:
            share.append((frac, str(name), str(kind), extent))
    share.sort(key=lambda t: -t[0])
    masks, colours, n = {}, {}, {"planted": 0, "decoy": 0}
    for _, name, kind, extent in share[:MAX_OUTLINES]:
        kind = kind if kind in n else "planted"
        palette = PLANTED_OUTLINES if kind == "planted" else DECOY_OUTLINES
        label = f"{name} ({kind})"
        masks[label] = extent
        colours[label] = palette[n[kind] % len(palette)]
        n[kind] += 1
    return masks, colours


def surface_maps(run: ReportRun, *, progress: Callable[[str], None] | None = None
                 ) -> list[MapFigure]:
    """The report's four surface maps, rendered with the Agg backend.

    Parameters
    ----------
    run : ReportRun
        From :func:`~braincause.report.run.load_run`.
    progress : callable, optional
        Called with a short message before each map.

    Returns
    -------
    list of MapFigure
        S_causal, causal region, S_pos, activation-only region.
    """
    from braincause.report.surface import plot_surface_map
    from braincause.synth.cortex import cortex_for

    say = progress or (lambda _msg: None)
    m = run.maps
    try:
        cortex = cortex_for(m["vertex"], m["hemi"])
    except ValueError as e:
        raise UserInputError(f"{run.path / 'maps.npz'}: 'vertex'/'hemi' are not fsaverage5 "
                             f"vertices ({e}); rerun `braincause localize`") from e
    areas, area_colours = select_outlines(run)
    res = run.result
    n_c, n_a = int(m["region"].sum()), int(m["activation_region"].sum())
    rank_c = res["region"].get("ranking", "braincause")
    rank_a = res["activation_region"].get("ranking", "MAG")
    s_causal = np.asarray(m["s_causal"], float)
    s_pos = np.asarray(m["s_pos"], float)
    region_c = f"causal region ({n_c})"
    region_a = f"activation-only region ({n_a})"
    specs = [
        ("s-causal", "S_causal (TRAIN split), whole visual cortex", s_causal,
         {region_c: m["region"]},
         "Causal specificity of every voxel, S_causal = ½ (S_neg + S_edit) (PAPER.md §2.4): "
         "red where the concept's images drive the voxel more than the hardest semantic "
         "negatives and counterfactual edits do. Black outline: the causal region."),
        ("region-causal", f"Causal region: top {n_c} voxels by the {rank_c} ranking",
         np.where(m["region"], s_causal, np.nan), {},
         "The causal region (selected on the TRAIN split only), coloured by each voxel's "
         "S_causal."),
        ("s-pos", "S_pos (TRAIN split), whole visual cortex", s_pos,
         {region_a: m["activation_region"]},
         "Activation, S_pos = mean predicted response to the concept's positive images "
         "(PAPER.md §2.1, z units). Black outline: the activation-only region."),
        ("region-activation",
         f"Activation-only region: top {n_a} voxels by the {rank_a} ranking",
         np.where(m["activation_region"], s_causal, np.nan), {},
         "The region an activation-only method picks, coloured by S_causal: blue voxels "
         "answer as much to correlated cues as to the concept."),
    ]
    out = []
    for key, title, values, own, caption in specs:
        say(f"drawing surface map: {key}")
        if not np.isfinite(values).any():
            continue  # an empty region: nothing to draw (the tables say so)
        outline = {**own, **areas}
        colours = {**{k: REGION_OUTLINE for k in own}, **area_colours}
        fig = plot_surface_map(cortex, values, title=title, outline=outline,
                               outline_colours=colours)
        if areas:
            caption += (" Coloured outlines: the subject's planted concept areas and cue-only "
                        "decoys that hold part of either region (simulation ground truth).")
        out.append(MapFigure(key, title, caption, figure_uri(fig)))
    return out
