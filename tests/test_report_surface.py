"""Surface figures: areas and continuous maps on nilearn's bundled fsaverage5."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from PIL import Image

from braincause.report import surface
from braincause.report.surface import (
    DECOY_COLOURS,
    PLANTED_COLOURS,
    plot_areas,
    plot_surface_map,
)
from braincause.synth.cortex import load_cortex

# approximate MNI centres (right hemisphere first where there are two)
CENTRES = {
    "FFA": [(42, -50, -20), (-40, -52, -20)],
    "EBA": [(48, -72, 2), (-48, -74, 4)],
    "RSC": [(16, -54, 12), (-16, -56, 12)],
    "VWFA": [(-44, -56, -16)],
    "sign shape": [(-50, -64, -12)],
}
KINDS = {"sign shape": "decoy"}


@pytest.fixture(scope="module")
def cortex():
    return load_cortex()


@pytest.fixture(scope="module")
def areas(cortex):
    def blob(centres, radius=8.0):
        d = np.min([np.linalg.norm(cortex.pial - np.asarray(c, float), axis=1)
                    for c in centres], axis=0)
        return d <= radius

    return {name: blob(c) for name, c in CENTRES.items()}


@pytest.fixture(scope="module")
def areas_figure(cortex, areas, tmp_path_factory):
    out = tmp_path_factory.mktemp("surface") / "sub" / "areas.png"
    fig = plot_areas(cortex, areas, kinds=KINDS, title="test areas", out=out)
    return fig, out


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def _legend_patches(fig: Figure) -> dict[str, object]:
    out = {}
    for leg in fig.findobj(Legend):
        for text, patch in zip(leg.get_texts(), leg.get_patches(), strict=True):
            out[text.get_text()] = patch
    return out


def test_blobs_are_where_they_should_be(cortex, areas):
    assert all(m.sum() >= 10 for m in areas.values())
    assert set(np.unique(cortex.hemi[areas["VWFA"]])) == {0}  # left only
    assert set(np.unique(cortex.hemi[areas["FFA"]])) == {0, 1}


def test_plot_areas_returns_figure_and_writes_png(areas_figure):
    fig, out = areas_figure
    assert isinstance(fig, Figure)
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as im:
        w, h = im.size
    assert 1200 <= w <= 2400 and h < w
    assert "test areas" in _texts(fig)
    titles = " ".join(_texts(fig))
    for view in ("Left lateral", "Right lateral", "Left medial", "Left ventral",
                 "Right ventral", "Flat map"):
        assert view in titles


def test_legend_lists_every_area_with_its_voxel_count(cortex, areas, areas_figure):
    fig, _ = areas_figure
    patches = _legend_patches(fig)
    for name, mask in areas.items():
        assert f"{name} ({int(mask.sum())})" in patches, sorted(patches)
    assert f"simulated visual cortex ({cortex.n_voxels})" in patches


def test_planted_and_decoy_areas_use_different_palettes(areas, areas_figure):
    fig, _ = areas_figure
    patches = _legend_patches(fig)
    decoy = patches[f"sign shape ({int(areas['sign shape'].sum())})"]
    planted = patches[f"FFA ({int(areas['FFA'].sum())})"]
    assert decoy.get_edgecolor() == to_rgba(DECOY_COLOURS[0])
    assert decoy.get_facecolor()[3] < 1  # translucent fill
    assert planted.get_facecolor() == to_rgba(PLANTED_COLOURS[0])
    assert not set(PLANTED_COLOURS) & set(DECOY_COLOURS)


def test_plot_areas_without_out_or_kinds(cortex, areas):
    fig = plot_areas(cortex, {"FFA": areas["FFA"]})
    assert isinstance(fig, Figure)
    assert f"FFA ({int(areas['FFA'].sum())})" in _legend_patches(fig)


@pytest.mark.parametrize(("bad", "match"), [
    (lambda n: np.ones(n - 1, bool), r"shape \(\d+,\), expected"),
    (lambda n: np.ones((n, 2), bool), r"shape \(\d+, 2\), expected"),
    (lambda n: np.ones(n, int), "must be a boolean mask"),
    (lambda n: np.linspace(0, 1, n), "must be a boolean mask"),
])
def test_plot_areas_rejects_bad_masks(cortex, bad, match):
    with pytest.raises(ValueError, match=match):
        plot_areas(cortex, {"FFA": bad(cortex.n_voxels)})


def test_plot_areas_rejects_bad_kinds_and_containers(cortex, areas):
    with pytest.raises(ValueError, match="expected one of"):
        plot_areas(cortex, areas, kinds={"FFA": "control"})
    with pytest.raises(ValueError, match="not in `areas`"):
        plot_areas(cortex, areas, kinds={"PPA": "planted"})
    with pytest.raises(ValueError, match="dict mapping names"):
        plot_areas(cortex, [areas["FFA"]])
    with pytest.raises(ValueError, match="Cortex"):
        plot_areas(object(), areas)


def test_plot_surface_map_with_outlines_and_threshold(cortex, areas, tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=cortex.n_voxels)
    values[areas["FFA"]] += 3
    values[:5] = np.nan
    out = tmp_path / "map.png"
    fig = plot_surface_map(cortex, values, title="score", threshold=1.0,
                           outline={"FFA": areas["FFA"], "EBA": areas["EBA"]}, out=out)
    assert isinstance(fig, Figure) and out.is_file()
    patches = _legend_patches(fig)
    assert f"FFA ({int(areas['FFA'].sum())})" in patches
    assert f"EBA ({int(areas['EBA'].sum())})" in patches
    texts = " ".join(_texts(fig))
    assert "score" in texts and "5 NaN" in texts and "< 1 not shown" in texts


def test_plot_surface_map_non_symmetric_range(cortex):
    values = np.linspace(0.1, 0.6, cortex.n_voxels)
    fig = plot_surface_map(cortex, values, cmap="inferno", symmetric=False)
    cbar_ax = [ax for ax in fig.findobj(Axes) if ax.get_label() == "colorbar"]
    assert len(cbar_ax) == 1
    lo, hi = cbar_ax[0].get_xlim()
    assert lo == pytest.approx(0.1) and hi == pytest.approx(0.6)


@pytest.mark.parametrize(("values", "kwargs", "match"), [
    (lambda n: np.zeros(n + 3), {}, "expected"),
    (lambda n: np.full(n, np.nan), {}, "no finite entry"),
    (lambda n: np.r_[np.inf, np.zeros(n - 1)], {}, "infinite"),
    (lambda n: np.array(["a"] * n), {}, "numeric"),
    (lambda n: np.zeros(n), {"threshold": -1.0}, "threshold"),
    (lambda n: np.zeros(n), {"cmap": "no-such-map"}, "colour map"),
])
def test_plot_surface_map_rejects_bad_input(cortex, values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_surface_map(cortex, values(cortex.n_voxels), **kwargs)


def test_plot_surface_map_rejects_non_boolean_outline(cortex):
    n = cortex.n_voxels
    with pytest.raises(ValueError, match=r"outline\['FFA'\] must be a boolean mask"):
        plot_surface_map(cortex, np.zeros(n), outline={"FFA": np.ones(n, int)})


def test_no_network_needed(cortex, areas, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("surface plotting tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    surface._surfaces.cache_clear()
    plot_areas(cortex, {"VWFA": areas["VWFA"]}, out=tmp_path / "offline.png")
    assert (tmp_path / "offline.png").is_file()


@pytest.mark.parametrize("hemi,view", [("left", (0, 180)), ("right", (-90, 0))])
def test_panels_drop_only_faces_the_camera_cannot_see(hemi, view):
    """Each inflated panel draws only the faces turned towards its camera (about half):
    the same picture, fewer polygons to sort and draw."""
    import io

    from nilearn import plotting

    full = surface._surfaces().inflated[hemi]
    front = surface._front(hemi, view)
    assert np.array_equal(np.asarray(front.coordinates), np.asarray(full.coordinates))
    n_full, n_front = len(np.asarray(full.faces)), len(np.asarray(front.faces))
    assert 0.35 * n_full < n_front < 0.65 * n_full
    values = np.random.default_rng(0).standard_normal(len(np.asarray(full.coordinates)))

    def draw(mesh):
        fig = Figure(figsize=(3, 3), dpi=80)
        ax = fig.add_subplot(projection="3d")
        plotting.plot_surf_stat_map(mesh, stat_map=values, bg_map=surface._surfaces().bg[hemi],
                                    hemi=hemi, view=view, engine="matplotlib", colorbar=False,
                                    axes=ax, vmin=-3, vmax=3)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return np.asarray(Image.open(buf).convert("RGB"), int)

    a, b = draw(full), draw(front)
    assert a.shape == b.shape
    assert (np.abs(a - b).max(axis=2) > 0).mean() < 1e-3
