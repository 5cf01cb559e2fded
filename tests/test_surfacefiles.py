"""Surface files of a run: GIFTI maps on fsaverage5 and the regions as TSV.

The files of the session's mini run of "faces" (conftest's ``faces_run``) are opened as
a neuroimaging user would: nibabel loads them, nilearn plots them on its bundled
fsaverage5, and their values are those of maps.npz.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from braincause.surfacefiles import HEMI_NAMES, surface_arrays, write_surface_maps


def _maps(run_dir):
    with np.load(run_dir / "maps.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("name", ["s_causal", "s_pos", "s_neg", "s_edit"])
def test_func_gifti_values_equal_maps_npz(faces_run, name):
    import nibabel as nib

    maps = _maps(faces_run)
    for h, hemi in enumerate(HEMI_NAMES):
        img = nib.load(str(faces_run / "surface" / f"{hemi}.{name}.func.gii"))
        assert len(img.darrays) == 1
        data = img.darrays[0].data
        assert data.shape == (10242,) and data.dtype == np.float32
        assert img.meta["AnatomicalStructurePrimary"] == ("CortexLeft", "CortexRight")[h]
        assert img.meta["braincause_mesh"] == "fsaverage5"
        sel = maps["hemi"] == h
        np.testing.assert_array_equal(data[maps["vertex"][sel]], maps[name][sel])
        outside = np.ones(10242, bool)
        outside[maps["vertex"][sel]] = False
        assert outside.any() and np.isnan(data[outside]).all()


@pytest.mark.parametrize("name", ["region", "activation_region", "keep", "truth"])
def test_label_gifti_equals_masks(faces_run, name):
    import nibabel as nib

    maps = _maps(faces_run)
    n_in = 0
    for h, hemi in enumerate(HEMI_NAMES):
        img = nib.load(str(faces_run / "surface" / f"{hemi}.{name}.label.gii"))
        data = img.darrays[0].data
        assert img.darrays[0].intent == nib.nifti1.intent_codes["NIFTI_INTENT_LABEL"]
        assert img.labeltable.get_labels_as_dict() == {0: "???", 1: name}
        sel = maps["hemi"] == h
        expect = np.zeros(10242, np.int32)
        expect[maps["vertex"][sel]] = maps[name][sel]
        np.testing.assert_array_equal(data, expect)
        n_in += int(data.sum())
    assert n_in == int(maps[name].sum()) > 0


def test_gifti_plots_with_nilearn_on_fsaverage5(faces_run, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from nilearn import datasets, plotting

    fs5 = datasets.fetch_surf_fsaverage("fsaverage5")  # bundled with nilearn
    fig = plotting.plot_surf_stat_map(fs5["infl_left"],
                                      str(faces_run / "surface" / "lh.s_causal.func.gii"),
                                      hemi="left", bg_map=fs5["sulc_left"], colorbar=True)
    plotting.plot_surf_roi(fs5["infl_right"],
                           str(faces_run / "surface" / "rh.region.label.gii"),
                           hemi="right", figure=plt.figure())
    out = tmp_path / "s_causal.png"
    fig.savefig(out)
    plt.close("all")
    assert out.stat().st_size > 10_000


def test_regions_tsv_lists_both_regions(faces_run):
    import json

    maps = _maps(faces_run)
    doc = json.loads((faces_run / "result.json").read_text())
    assert doc["outputs"]["surface"] == "surface/" and doc["outputs"]["regions"] == "regions.tsv"
    with open(faces_run / "regions.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert list(rows[0])[:7] == ["region", "voxel", "hemi", "vertex", "x", "y", "z"]
    for name, key in (("causal", "region"), ("activation", "activation_region")):
        got = [int(r["voxel"]) for r in rows if r["region"] == name]
        assert got == sorted(doc[key]["voxels"]) == np.flatnonzero(maps[key]).tolist()
    r = rows[0]
    v = int(r["voxel"])
    assert r["hemi"] == HEMI_NAMES[maps["hemi"][v]] and int(r["vertex"]) == maps["vertex"][v]
    assert float(r["s_causal"]) == pytest.approx(float(maps["s_causal"][v]), rel=1e-5)


def test_surface_arrays_refuse_mismatched_inputs(tmp_path):
    with pytest.raises(ValueError, match="same length"):
        surface_arrays(np.zeros(3), np.arange(3), np.zeros(2, int), 10)
    with pytest.raises(ValueError, match="outside a 10-vertex"):
        surface_arrays(np.zeros(2), np.array([3, 12]), np.zeros(2, int), 10)
    # odd sizes: 7 voxels on a 31-vertex mesh, both hemispheres, one map skipped
    maps = {"vertex": np.array([0, 5, 30, 2, 3, 29, 30]), "hemi": np.array([0, 0, 0, 1, 1, 1, 1]),
            "x": np.arange(7, dtype=np.float64) + 0.5}
    files = write_surface_maps(tmp_path, maps, n_vertices=31, floats=("x", "absent"))
    assert [f.name for f in files] == ["lh.x.func.gii", "rh.x.func.gii"]
    import nibabel as nib

    rh = nib.load(str(files[1])).darrays[0].data
    assert rh[30] == 6.5 and rh[2] == 3.5 and np.isnan(rh[0])
    assert nib.load(str(files[0])).meta["braincause_mesh"] == "31-vertex mesh"
