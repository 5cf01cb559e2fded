"""Simulated subjects: cortex, true brain, measured pool, ground truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from braincause.cli import main
from braincause.datasets import BrainDataset, load_subject
from braincause.exceptions import UserInputError
from braincause.synth.concepts import CONCEPTS
from braincause.synth.cortex import load_cortex
from braincause.synth.features import INDEX, N_FEATURES, features_of
from braincause.synth.ground_truth import (
    ground_truth_from_features,
    intervention_features,
    precompute,
)
from braincause.synth.pool import noise_ceiling, simulate_measurements
from braincause.synth.sampler import sample_scenes
from braincause.synth.subject import TrueBrain, make_brain


@pytest.fixture(scope="module")
def s01():
    return load_subject("synth-01")


@pytest.fixture(scope="module")
def gt_ready():
    precompute(workers=2)


def test_cortex_is_fsaverage5_visual_cortex():
    c = load_cortex()
    assert c.n_voxels >= 5000
    assert (c.pial[:, 1] <= -30).all()
    assert set(np.unique(c.hemi)) == {0, 1}
    assert (c.adjacency != c.adjacency.T).nnz == 0
    full = c.to_fsaverage(np.arange(c.n_voxels, dtype=float))
    assert full["left"].shape == (10242,)
    assert np.isfinite(full["right"]).sum() == (c.hemi == 1).sum()


def test_subject_ids():
    with pytest.raises(UserInputError, match="synth-s<SEED>"):
        make_brain("subject-7")
    a, b = make_brain("synth-s1234"), make_brain("synth-s1234")
    assert np.array_equal(a.W, b.W) and np.array_equal(a.ncsnr, b.ncsnr)
    assert [x.centres for x in a.areas] == [x.centres for x in b.areas]
    assert not np.array_equal(a.W, make_brain("synth-s1235").W)
    assert make_brain("synth-null").areas == ()


def test_measurements_are_deterministic():
    brain = make_brain("synth-02")
    f = features_of(sample_scenes(40, 3))
    t1, r1, n1 = simulate_measurements(brain, f, 9)
    t2, r2, n2 = simulate_measurements(brain, f, 9)
    assert np.array_equal(t1, t2) and np.array_equal(r1, r2) and np.array_equal(n1, n2)


def test_pool_shapes_and_z_scoring(s01):
    assert isinstance(s01, BrainDataset)
    assert s01.responses.shape == (s01.n_images, s01.n_voxels)
    assert s01.trials.shape == (s01.n_images, 3, s01.n_voxels)
    assert s01.n_images >= 3000
    np.testing.assert_allclose(s01.responses.mean(axis=0), 0, atol=1e-3)
    np.testing.assert_allclose(s01.responses.std(axis=0), 1, atol=1e-3)
    assert set(s01.test_indices) == set(np.flatnonzero(s01.shared))
    assert not set(s01.train_indices) & set(s01.test_indices)
    img = s01.image(0, 64)
    assert img.shape == (64, 64, 3)
    assert len(s01.captions(0)) == 5 and "categories" in s01.annotation(0)


def test_mini_subject_is_the_same_brain_on_the_first_scenes_of_its_pool(s01):
    """``synth-01-mini`` is synth-01's brain measured on the first 100 shared and 200 own
    scenes of synth-01's pool, cached under its own name; synth-01's cache name and
    fingerprint are what they were before pool sizes became parameters."""
    from braincause import __version__
    from braincause.synth.pool import MINI_OWN, MINI_SHARED, POOL_VERSION, _pool_path

    mini = load_subject("synth-01-mini")
    assert isinstance(mini, BrainDataset) and mini.subject_id == "synth-01-mini"
    assert mini.n_images == MINI_SHARED + MINI_OWN == 300
    assert np.array_equal(mini.brain.W, s01.brain.W)
    assert mini.brain.fingerprint() == s01.brain.fingerprint()
    assert mini.fingerprint() != s01.fingerprint()
    assert [mini.scene(i) for i in mini.test_indices] == \
        [s01.scene(i) for i in s01.test_indices[:MINI_SHARED]]
    assert [mini.scene(i) for i in mini.train_indices] == \
        [s01.scene(i) for i in s01.train_indices[:MINI_OWN]]
    assert mini.responses.shape == (300, s01.n_voxels)
    np.testing.assert_allclose(mini.responses.std(axis=0), 1, atol=1e-3)
    assert _pool_path(s01.brain).name == \
        f"synth-01-{POOL_VERSION}-{s01.brain.fingerprint()}-{__version__}.npz"
    assert _pool_path(mini.brain).name == \
        f"synth-01-mini-{POOL_VERSION}-{s01.brain.fingerprint()}-100+200-{__version__}.npz"
    assert s01.fingerprint() == f"synth-01-{POOL_VERSION}-{s01.brain.fingerprint()}-3000"
    assert make_brain("synth-null-mini").areas == ()
    for bad in ("synth-01-mini-mini", "synth-99-mini", "-mini"):
        with pytest.raises(UserInputError, match="unknown subject"):
            make_brain(bad)


def test_shared_images_are_the_same_for_every_subject(s01):
    s02 = load_subject("synth-02")
    a = [s01.scene(i) for i in s01.test_indices[:50]]
    b = [s02.scene(i) for i in s02.test_indices[:50]]
    assert a == b
    assert s01.scene(int(s01.train_indices[0])) != s02.scene(int(s02.train_indices[0]))


def test_median_noise_ceiling_in_range(s01):
    med = float(np.median(s01.noise_ceiling))
    assert 0.2 <= med <= 0.6, med
    assert np.percentile(s01.noise_ceiling, 5) < 0.4 < np.percentile(s01.noise_ceiling, 95)


def test_noise_ceiling_oracle():
    """NSD's formula recovers the planted signal-to-noise ratio."""
    rng = np.random.default_rng(0)
    n_img, reps, v = 30000, 3, 5
    snr = np.array([0.25, 0.5, 1.0, 1.5, 2.0])            # signal SD / noise SD
    signal = rng.standard_normal((n_img, 1, v)) * snr
    trials = signal + rng.standard_normal((n_img, reps, v))
    trials = (trials - trials.mean(axis=(0, 1))) / trials.std(axis=(0, 1))
    expected = snr**2 / (snr**2 + 1 / reps)
    np.testing.assert_allclose(noise_ceiling(trials), expected, atol=0.03)


@pytest.mark.parametrize("subject", ["synth-01", "synth-02"])
@pytest.mark.parametrize("concept,true_area,decoy", [
    ("human_face", "FFA", "human-presence"),
    ("person", "EBA", "human-presence"),
    ("text", "VWFA", "sign-shape"),
    ("food", "food-medial", "dishware"),
])
def test_decoys_fool_activation_but_hold_no_ground_truth(gt_ready, subject, concept, true_area,
                                                         decoy):
    """Activation alone is fooled: on the measured images of the concept, a cue-only decoy
    responds at >= 50 % of the true area's level, yet holds no ground-truth voxel."""
    s01 = load_subject(subject)
    c = CONCEPTS[concept]
    pos = np.array([c.present(s01.scene(i)) for i in range(s01.n_images)])
    true_resp = s01.responses[pos][:, s01.roi_labels[true_area]].mean()
    decoy_resp = s01.responses[pos][:, s01.roi_labels[decoy]].mean()
    assert true_resp > 0.3
    assert decoy_resp >= 0.5 * true_resp, (decoy_resp, true_resp)
    gt = s01.ground_truth(concept)
    assert gt.n_voxels > 0
    assert not (gt.voxels & s01.roi_labels[decoy]).any()
    assert (gt.voxels & s01.roi_labels[true_area]).any()


def test_ground_truth_nonempty_and_empty_counts(s01, gt_ready):
    sizes = {name: s01.ground_truth(name).n_voxels for name in CONCEPTS}
    assert sum(v > 0 for v in sizes.values()) >= 25
    assert sum(v == 0 for v in sizes.values()) >= 10
    for empty in ("sky", "plate", "table", "ball", "person_surfing"):
        assert sizes[empty] == 0, empty
    for full in ("human_face", "person", "printed_text", "food", "tools"):
        assert sizes[full] > 0, full


@pytest.mark.parametrize("subject", ["synth-null-mini",
                                     pytest.param("synth-null", marks=pytest.mark.slow)])
def test_null_subject_has_no_ground_truth(gt_ready, subject):
    """The null brain (the same in its mini version, built in seconds) has no concept
    tuning and so no ground truth; the pool only sets each voxel's signal SD."""
    null = load_subject(subject)
    assert null.is_null and null.roi_labels == {}
    for name in ("human_face", "person", "food", "text", "water", "road", "person_surfing"):
        assert null.ground_truth(name).n_voxels == 0, name


def test_ground_truth_on_a_tiny_hand_built_brain(gt_ready):
    """A voxel tuned to faces is in the face ground truth; a voxel tuned only to
    roundness (a cue faces carry) is not, although removing faces lowers it too."""
    cortex = load_cortex()
    W = np.zeros((2, N_FEATURES), np.float32)
    W[0, INDEX["face"]] = 1.0
    W[1, INDEX["round"]] = 1.0
    brain = TrueBrain("tiny", 0, cortex, (), W, np.full(2, 0.05, np.float32),
                      np.ones(2, np.float32), np.ones(2, np.float32))
    feats = intervention_features("human_face")
    sd = brain.respond(features_of(sample_scenes(300, 0))).std(axis=0)
    gt = ground_truth_from_features(brain, feats, sd)
    assert gt.effect[1] > 0.25, "removing faces does lower the round-tuned voxel"
    assert gt.voxels.tolist() == [True, False]


def test_subjects_cli(tmp_path, capsys, gt_ready):
    assert main(["subjects", "synth-01", "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    row = doc["subjects"][0]
    assert row["n_voxels"] >= 5000 and 0.2 <= row["median_noise_ceiling"] <= 0.6
    assert "plate" in row["empty_ground_truth"]
    assert {a["kind"] for a in row["areas"]} == {"planted", "decoy"}
    out = tmp_path / "s.png"
    assert main(["show-subject", "synth-01", "--out", str(out), "--quiet"]) == 0
    assert out.stat().st_size > 10_000
    assert main(["show-subject", "synth-null", "--out", str(out), "--quiet"]) == 2
    assert main(["show-subject", "nobody", "--out", str(out), "--quiet"]) == 2


def test_damaged_caches_are_rebuilt_not_trusted(gt_ready):
    """Truncated cache files (an interrupted write from another tool, a full disk) are
    detected and rebuilt; results are unchanged."""
    from braincause.synth.ground_truth import GT_VERSION, N_SCENES
    from braincause.synth.pool import _pool_path, build_pool
    from braincause.utils import cache_dir

    gt_file = cache_dir() / "ground_truth" / f"plate-{GT_VERSION}-{N_SCENES}.npz"
    before = intervention_features("plate")
    gt_file.write_bytes(gt_file.read_bytes()[:200])
    after = intervention_features("plate")
    assert before.keys() == after.keys()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
    brain = make_brain("synth-null-mini")  # the mini pool: the same code, in seconds
    good = build_pool(brain)
    path = _pool_path(brain)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.warns(UserWarning, match="rebuilding damaged subject cache"):
        again = build_pool(brain)
    np.testing.assert_array_equal(good.responses, again.responses)


def test_fingerprint_and_size_do_not_sample_the_scenes_again():
    """A subject read from its cache holds no scene records; its size and fingerprint
    (every cache key) come from the arrays, so a warm run does not re-sample the pool's
    scenes (a 5 s step of every localize before), while scene(i) still works."""
    import dataclasses

    from braincause.datasets.synthetic import SyntheticSubject

    mini = load_subject("synth-01-mini")
    cold = SyntheticSubject(mini.brain, dataclasses.replace(mini.pool, _scenes=None))
    assert cold.n_images == mini.n_images == 300
    assert cold.fingerprint() == mini.fingerprint()
    assert cold.pool._scenes is None
    assert cold.scene(5) == mini.scene(5) and cold.pool._scenes is not None
