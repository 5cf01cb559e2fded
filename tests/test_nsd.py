"""The NSD reader against a miniature NSD written in NSD's layout and formats."""

from __future__ import annotations

import re

import numpy as np
import pytest

from braincause.datasets.base import BrainDataset
from braincause.datasets.mini_nsd import FLOC_NAMES, write_mini_nsd
from braincause.datasets.nsd import NSDLayout, NSDSubject, noise_ceiling
from braincause.exceptions import DataError, UserInputError


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return write_mini_nsd(tmp_path_factory.mktemp("nsd"), n_subjects=2, random_state=3)


@pytest.fixture(scope="module")
def subj(mini):
    return NSDSubject(mini.root, 1, use_cache=False)


def _tiny(tmp_path, **kw):
    kw = {"n_vertices": 60, "trials_per_session": 30, "n_stimuli": 60,
          "n_subject_images": 25, "n_shared": 6, **kw}
    return write_mini_nsd(tmp_path / "nsd", **kw)


# --------------------------------------------------------------------------- expected values
def _expected(root, subject, sessions, zscore=True):
    """Trials and responses computed straight from the written files."""
    import nibabel as nib
    import scipy.io

    lay = NSDLayout(root, subject)
    mat = scipy.io.loadmat(lay.expdesign)
    mo = mat["masterordering"].ravel().astype(int) - 1
    row = mat["subjectim"].astype(int)[subject - 1] - 1
    shown: dict[int, list[np.ndarray]] = {}
    for s in sessions:
        block = np.concatenate([nib.load(lay.betas(h, s)).get_fdata()[:, 0, 0, :]
                                for h in ("lh", "rh")]).T
        if zscore:
            sd = block.std(axis=0)
            block = np.where(sd > 0, (block - block.mean(axis=0)) / np.where(sd > 0, sd, 1), 0)
        tps = block.shape[0]
        for j in range(tps):
            shown.setdefault(int(row[mo[(s - 1) * tps + j]]), []).append(block[j])
    ids = np.array(sorted(shown))
    n_rep = max(len(v) for v in shown.values())
    trials = np.full((len(ids), n_rep, block.shape[1]), np.nan)
    for i, nid in enumerate(ids):
        trials[i, :len(shown[nid])] = shown[nid]
    avg = np.array([np.mean(shown[nid], axis=0) for nid in ids])
    sd = avg.std(axis=0)
    resp = np.where(sd > 0, (avg - avg.mean(axis=0)) / np.where(sd > 0, sd, 1), 0)
    return ids, trials, resp


# --------------------------------------------------------------------------- protocol
def test_protocol_and_shapes(subj, mini):
    assert isinstance(subj, BrainDataset)
    assert subj.subject_id == "nsd-subj01"
    assert subj.sessions == (1, 2)
    assert subj.n_voxels == 2 * mini.n_vertices
    assert subj.responses.shape == (subj.n_images, subj.n_voxels)
    assert subj.responses.dtype == np.float32
    assert subj.trials.shape[:2] == (subj.n_images, 3) and subj.trials.dtype == np.float32
    assert subj.noise_ceiling.shape == (subj.n_voxels,)
    assert subj.shared.dtype == bool and subj.shared.shape == (subj.n_images,)


@pytest.mark.parametrize("sessions", [None, [2]])
def test_round_trip_trials_and_responses(mini, sessions):
    s = NSDSubject(mini.root, 2, sessions=sessions, use_cache=False)
    ids, trials, resp = _expected(mini.root, 2, s.sessions)
    np.testing.assert_array_equal(s.nsd_ids, ids)
    assert s.nsd_id(0) == ids[0]
    np.testing.assert_array_equal(np.isnan(s.trials), np.isnan(trials))
    np.testing.assert_allclose(s.trials, trials, atol=2e-5, equal_nan=True)
    np.testing.assert_allclose(s.responses, resp, atol=2e-5)
    np.testing.assert_array_equal(s.n_repeats, (~np.isnan(trials[:, :, 1])).sum(1))
    # some images lack repeats (the design is cut by the sessions), so NaNs are exercised
    assert np.isnan(s.trials).any()


def test_zscore_none_keeps_raw_betas(mini):
    s = NSDSubject(mini.root, 1, zscore=None, use_cache=False)
    _, trials, resp = _expected(mini.root, 1, s.sessions, zscore=False)
    np.testing.assert_allclose(s.trials, trials, rtol=1e-6, atol=1e-5, equal_nan=True)
    np.testing.assert_allclose(s.responses, resp, atol=2e-4)


def test_constant_vertices_are_zero_not_nan(subj, mini):
    assert np.all(np.isfinite(subj.responses))
    np.testing.assert_array_equal(subj.responses[:, mini.constant_vertices], 0)
    np.testing.assert_array_equal(subj.noise_ceiling[mini.constant_vertices], 0)


# --------------------------------------------------------------------------- noise ceiling
def test_noise_ceiling_matches_pool_without_nans():
    from braincause.synth.pool import noise_ceiling as pool_nc

    rng = np.random.default_rng(0)
    t = rng.standard_normal((80, 3, 20)) + rng.standard_normal((80, 1, 20)) * np.linspace(0, 2, 20)
    np.testing.assert_allclose(noise_ceiling(t), pool_nc(t), rtol=1e-5, atol=1e-6)


def test_noise_ceiling_nan_aware_by_hand():
    rng = np.random.default_rng(1)
    t = rng.standard_normal((30, 3, 4)) + rng.standard_normal((30, 1, 4))
    t[:5, 2] = np.nan          # 5 images with 2 repeats
    t[5:8, 1:] = np.nan        # 3 images with 1 repeat
    for v in range(4):
        rows = [r[~np.isnan(r)] for r in t[:, :, v]]
        ss = sum(((r - r.mean()) ** 2).sum() for r in rows)
        var_noise = ss / sum(len(r) - 1 for r in rows)
        total = np.concatenate(rows).var()
        nc2 = max(0.0, total - var_noise) / var_noise
        k = (22 / 3 + 5 / 2 + 3 / 1) / 30
        assert noise_ceiling(t)[v] == pytest.approx(nc2 / (nc2 + k), rel=1e-5)
    only_single = t[:, :1]
    assert np.isnan(noise_ceiling(only_single)).all()


def test_planted_signal_is_recovered(subj, mini):
    nc = subj.noise_ceiling
    noise = np.setdiff1d(np.arange(subj.n_voxels),
                         np.r_[mini.signal_vertices, mini.constant_vertices])
    assert np.nanmean(nc[mini.signal_vertices]) > 0.5
    assert np.nanmean(nc[noise]) < 0.15
    prop = mini.image_property[subj.nsd_ids]
    r = [np.corrcoef(subj.responses[:, v], prop)[0, 1] for v in mini.signal_vertices[:50]]
    assert np.mean(r) > 0.6


# --------------------------------------------------------------------------- splits, ROIs
def test_shared_split(subj, mini):
    np.testing.assert_array_equal(subj.shared, np.isin(subj.nsd_ids, mini.shared_ids))
    np.testing.assert_array_equal(subj.test_indices, np.flatnonzero(subj.shared))
    np.testing.assert_array_equal(subj.train_indices, np.flatnonzero(~subj.shared))
    assert 0 < subj.shared.sum() < subj.n_images


def test_roi_masks(subj, mini):
    import nibabel as nib

    lab = NSDLayout(mini.root, 1).fsaverage_labels
    rois = subj.roi_labels
    assert {"OFA", "FFA-1", "PPA", "VWFA-1", "EBA"} <= set(rois)
    for cat, names in FLOC_NAMES.items():
        full = np.concatenate([np.asarray(nib.load(lab / f"{h}.floc-{cat}.mgz").dataobj).ravel()
                               for h in ("lh", "rh")])
        for value, name in enumerate(names, 1):
            assert rois[name].dtype == bool and rois[name].shape == (subj.n_voxels,)
            np.testing.assert_array_equal(rois[name], full == value)


def test_missing_rois_warn_and_are_skipped(tmp_path):
    m = _tiny(tmp_path, rois=False)
    s = NSDSubject(m.root, 1, use_cache=False)
    with pytest.warns(UserWarning, match="floc-faces"):
        assert s.roi_labels == {}


def test_roi_on_wrong_surface_is_a_data_error(tmp_path):
    import nibabel as nib

    m = _tiny(tmp_path)
    lab = NSDLayout(m.root, 1).fsaverage_labels / "lh.floc-faces.mgz"
    nib.save(nib.MGHImage(np.zeros((7, 1, 1), np.int32), np.eye(4)), lab)
    with pytest.raises(DataError, match=re.escape("lh.floc-faces.mgz")):
        _ = NSDSubject(m.root, 1, use_cache=False).roi_labels


# --------------------------------------------------------------------------- stimuli
def test_images(subj, mini):
    import h5py

    with h5py.File(NSDLayout(mini.root, 1).stimuli, "r") as f:
        brick = f["imgBrick"][()]
    for i in (0, subj.n_images - 1):
        np.testing.assert_array_equal(subj.image(i, 32), brick[subj.nsd_id(i)])
    small = subj.image(1, 16)
    assert small.shape == (16, 16, 3) and small.dtype == np.uint8
    assert subj.image(2).shape == (224, 224, 3)
    with pytest.raises(IndexError):
        subj.image(subj.n_images)


def test_captions_and_annotation(subj, mini):
    import json

    import pandas as pd

    lay = NSDLayout(mini.root, 1)
    info = pd.read_csv(lay.stim_info).set_index("nsdId")
    for i in (0, 5, subj.n_images - 1):
        nid = subj.nsd_id(i)
        coco, split = int(info.loc[nid, "cocoId"]), info.loc[nid, "cocoSplit"]
        caps = json.loads(lay.annotations("captions", split).read_text())["annotations"]
        assert subj.captions(i) == [c["caption"] for c in caps if c["image_id"] == coco]
        assert len(subj.captions(i)) == 5
        ann = subj.annotation(i)
        assert (ann["nsd_id"], ann["coco_id"], ann["coco_split"]) == (nid, coco, split)
        assert ann["shared"] == bool(subj.shared[i])
        expected = {"person"} if mini.image_property[nid] > 0 else {"car"}
        if nid % 3 == 0:
            expected.add("dog")
        assert set(ann["categories"]) == expected


def test_without_annotations_captions_are_empty(tmp_path):
    m = _tiny(tmp_path, annotations=False)
    s = NSDSubject(m.root, 1, use_cache=False)
    with pytest.warns(UserWarning, match="captions_"):
        assert s.captions(0) == []
    with pytest.warns(UserWarning, match="instances_"):
        ann = s.annotation(0)
    assert ann["categories"] == [] and ann["annotations_available"] is False
    assert ann["nsd_id"] == s.nsd_id(0)


# --------------------------------------------------------------------------- vertex masks, cortex
def test_vertex_mask_visual_uses_the_simulated_cortex(subj, mini):
    from braincause.synth.cortex import load_cortex

    v = NSDSubject(mini.root, 1, vertex_mask="visual", use_cache=False)
    c = load_cortex()
    assert v.cortex is c
    np.testing.assert_array_equal(v.vertex, c.vertex)
    np.testing.assert_array_equal(v.hemi, c.hemi)
    cols = np.where(c.hemi == 1, c.vertex + mini.n_vertices, c.vertex)
    np.testing.assert_allclose(v.responses, subj.responses[:, cols], atol=1e-6)
    np.testing.assert_allclose(v.noise_ceiling, subj.noise_ceiling[cols], atol=1e-6)
    assert v.roi_labels["FFA-1"].shape == (v.n_voxels,)
    np.testing.assert_array_equal(v.roi_labels["FFA-1"], subj.roi_labels["FFA-1"][cols])


def test_vertex_mask_bool_array_and_nsdgeneral(subj, mini):
    import nibabel as nib

    keep = np.zeros(subj.n_voxels, bool)
    keep[[3, 10, 500, mini.n_vertices + 7]] = True
    b = NSDSubject(mini.root, 1, vertex_mask=keep, use_cache=False)
    np.testing.assert_array_equal(b.vertex, [3, 10, 500, 7])
    np.testing.assert_array_equal(b.hemi, [0, 0, 0, 1])
    np.testing.assert_allclose(b.trials, subj.trials[:, :, keep], atol=1e-6, equal_nan=True)
    assert b.cortex is not None and b.cortex.n_voxels == 4
    full = b.to_fsaverage(np.arange(4.0))
    assert full["lh"].shape == (mini.n_vertices,) and full["rh"][7] == 3.0

    lab = NSDLayout(mini.root, 1).fsaverage_labels
    gen = np.concatenate([np.asarray(nib.load(lab / f"{h}.nsdgeneral.mgz").dataobj).ravel() > 0
                          for h in ("lh", "rh")])
    g = NSDSubject(mini.root, 1, vertex_mask="nsdgeneral", use_cache=False)
    assert g.n_voxels == gen.sum()
    np.testing.assert_allclose(g.responses, subj.responses[:, gen], atol=1e-6)


@pytest.mark.parametrize("mask", ["occipital", np.ones(5, bool), np.ones(20484, int),
                                  np.zeros(20484, bool)])
def test_bad_vertex_masks(mini, mask):
    with pytest.raises(UserInputError):
        NSDSubject(mini.root, 1, vertex_mask=mask)


def test_cortex_is_none_off_fsaverage(tmp_path):
    m = _tiny(tmp_path)
    s = NSDSubject(m.root, 1, use_cache=False)
    assert s.cortex is None
    with pytest.raises(UserInputError, match="fsaverage"):
        NSDSubject(m.root, 1, vertex_mask="visual")


# --------------------------------------------------------------------------- errors
def test_missing_stim_info_names_the_file(tmp_path):
    m = _tiny(tmp_path)
    path = NSDLayout(m.root, 1).stim_info
    path.unlink()
    with pytest.raises(DataError, match=re.escape("nsd_stim_info_merged.csv")) as e:
        NSDSubject(m.root, 1)
    assert str(path) in str(e.value)


def test_missing_expdesign_names_the_file(tmp_path):
    m = _tiny(tmp_path)
    path = NSDLayout(m.root, 1).expdesign
    path.unlink()
    with pytest.raises(DataError, match="experiment design") as e:
        NSDSubject(m.root, 1)
    assert str(path) in str(e.value)


def test_truncated_mgh_names_the_file(tmp_path):
    m = _tiny(tmp_path)
    path = NSDLayout(m.root, 1).betas("rh", 2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=re.escape("rh.betas_session02.mgh")) as e:
        NSDSubject(m.root, 1)
    assert "truncated" in str(e.value)


def test_garbage_mgh_names_the_file(tmp_path):
    m = _tiny(tmp_path)
    path = NSDLayout(m.root, 1).betas("lh", 1)
    path.write_bytes(b"not an mgh file")
    with pytest.raises(DataError, match=re.escape("lh.betas_session01.mgh")):
        NSDSubject(m.root, 1)


def test_missing_sessions_and_subjects(tmp_path):
    m = _tiny(tmp_path)
    with pytest.raises(DataError, match=re.escape("betas_session03.mgh")):
        NSDSubject(m.root, 1, sessions=[3])
    with pytest.raises(DataError, match="subj02"):
        NSDSubject(m.root, 2)
    with pytest.raises(UserInputError):
        NSDSubject(m.root, 0)
    with pytest.raises(UserInputError):
        NSDSubject(m.root, 1, zscore="run")
    with pytest.raises(DataError, match="root"):
        NSDSubject(tmp_path / "nowhere", 1)


# --------------------------------------------------------------------------- cache
def test_cache_round_trip(tmp_path):
    from braincause.utils import cache_dir

    m = _tiny(tmp_path)
    a = NSDSubject(m.root, 1)
    ra = a.responses
    files = list((cache_dir() / "nsd").glob("nsd-subj01-*.npz"))
    assert files
    b = NSDSubject(m.root, 1)
    b.read_session = None  # a cache hit never reads the betas
    np.testing.assert_array_equal(b.responses, ra)


def test_chunked_reductions_match(subj, mini, monkeypatch):
    from braincause.datasets import nsd

    monkeypatch.setattr(nsd, "_CHUNK_ELEMENTS", 997)  # many uneven vertex chunks
    monkeypatch.setattr(nsd, "_FRAME_CHUNK", 7)       # many uneven frame chunks
    s = NSDSubject(mini.root, 1, use_cache=False)
    np.testing.assert_allclose(s.trials, subj.trials, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(s.responses, subj.responses, atol=1e-6)
    np.testing.assert_allclose(s.noise_ceiling, subj.noise_ceiling, atol=1e-6, equal_nan=True)


def test_fit_encoder_runs_on_mini_nsd(tmp_path, capsys):
    """End to end on the miniature NSD: features of its stimuli, ridge, held-out r; the
    planted bright-image vertices are predicted better than the rest."""
    import json

    from braincause.cli import main
    from braincause.datasets.mini_nsd import write_mini_nsd

    mini = write_mini_nsd(tmp_path / "nsd", n_sessions=3, trials_per_session=60, n_stimuli=150,
                          n_subject_images=60, n_shared=20, n_vertices=10242,
                          signal_fraction=0.05, random_state=3)
    assert main(["fit-encoder", "--nsd-root", str(tmp_path / "nsd"), "--subject", "1",
                 "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["subject"] == "nsd-subj01" and doc["n_voxels"] > 0
    assert mini.signal_vertices is not None
