"""Concept verifiers: the batched probe solver, probe accuracy, the cache, the oracle."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from braincause.exceptions import ConceptNotFound, UserInputError
from braincause.stimuli.verifier import (
    ConceptVerifier,
    OracleVerifier,
    ProbeVerifier,
    fit_logistic_probes,
)
from braincause.synth.concepts import CONCEPTS
from braincause.synth.render import render
from braincause.synth.sampler import sample_scenes

FIVE = ("human_face", "food", "car", "text", "person_surfing")
#: A small verifier (5 concepts, ~550 images, a few seconds cold) for most tests.
SMALL = {"concepts": FIVE, "n_natural": 300, "n_per_concept": 24}


@pytest.fixture(scope="module")
def backbone():
    from braincause.encoding.fit import default_backbone

    return default_backbone()


@pytest.fixture(scope="module")
def small(backbone) -> ProbeVerifier:
    return ProbeVerifier(backbone, **SMALL).fit()


@pytest.fixture(scope="module")
def car_pairs(backbone):
    """Fresh staged car scenes (not in any training set), their edits, and features."""
    c = CONCEPTS["car"]
    pos = [s for s in sample_scenes(12, 987_654, c.spec) if c.present(s)]
    edits = [c.remove(s) for s in pos]
    feats = backbone.features([render(s, backbone.image_size).image for s in pos + edits])
    return pos, edits, feats[:len(pos)], feats[len(pos):]


# ---------------------------------------------------------------- solver
def _logistic_data(n=240, d=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    W = rng.normal(size=(d, k))
    Y = (Z @ W + rng.normal(scale=2.0, size=(n, k)) > np.array([0.0, 1.0, 2.0])).astype(float)
    return Z, Y


@pytest.mark.parametrize("C", [0.05, 1.0])
def test_batched_solver_matches_sklearn_balanced_logistic_regression(C):
    from sklearn.linear_model import LogisticRegression

    Z, Y = _logistic_data()
    n, pos = len(Y), Y.sum(0)
    S = np.where(Y > 0, n / (2 * pos), n / (2 * (n - pos)))
    W, b, info = fit_logistic_probes(Z, Y, S, C=C, tol=1e-6)
    assert info["converged"] and info["max_gradient"] <= 1e-6
    for k in range(Y.shape[1]):
        ref = LogisticRegression(C=C, class_weight="balanced", tol=1e-10, max_iter=10_000)
        ref.fit(Z, Y[:, k])
        np.testing.assert_allclose(W[:, k], ref.coef_[0], atol=1e-5)
        np.testing.assert_allclose(b[k], ref.intercept_[0], atol=1e-5)


def test_batched_solver_honours_sample_weights_and_rejects_one_class():
    from sklearn.linear_model import LogisticRegression

    Z, Y = _logistic_data(seed=1)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(Y))
    W, _, _ = fit_logistic_probes(Z, Y[:, :1], w[:, None], C=0.3, tol=1e-6)
    ref = LogisticRegression(C=0.3, tol=1e-10, max_iter=10_000).fit(Z, Y[:, 0], sample_weight=w)
    np.testing.assert_allclose(W[:, 0], ref.coef_[0], atol=1e-5)
    with pytest.raises(UserInputError, match=r"no .*positives"):
        fit_logistic_probes(Z, np.zeros((len(Z), 1)))
    with pytest.raises(UserInputError, match="same n"):
        fit_logistic_probes(Z, Y[:-1])


# ---------------------------------------------------------------- probe verifier
def test_small_verifier_reports_held_out_and_counterfactual_accuracy(small):
    acc = small.accuracy()
    assert list(acc) == list(FIVE) == list(small.concepts)
    for name, row in acc.items():
        assert set(row) >= {"balanced_accuracy", "tpr", "tnr", "counterfactual_accuracy",
                            "n_test"}
        assert row["n_test"] > 100 and row["n_test_positive"] > 0
        assert row["n_counterfactual"] > 0, name
        for key in ("balanced_accuracy", "tpr", "tnr", "counterfactual_accuracy"):
            assert 0.0 <= row[key] <= 1.0
        assert row["balanced_accuracy"] == pytest.approx((row["tpr"] + row["tnr"]) / 2)
        # five concepts on ~450 training images: far above chance even this small
        assert row["balanced_accuracy"] >= 0.65, (name, row)
    # the easy ones are easy even in a small verifier
    assert acc["car"]["balanced_accuracy"] >= 0.85
    assert acc["person_surfing"]["balanced_accuracy"] >= 0.85
    info = small.build_info_
    assert info["solver"]["converged"]
    assert info["n_counterfactuals"] > 0 and info["n_train"] + info["n_test"] == info["n_images"]
    assert small.coef_.shape == (5, small.feature_dim)


def test_presence_and_verify(small, car_pairs):
    pos, _, f_pos, f_edit = car_pairs
    p_pos = small.presence("car", features=f_pos)
    p_edit = small.presence("car", features=f_edit)
    assert p_pos.shape == (len(pos),) and p_pos.dtype == np.float64
    assert np.all((p_pos >= 0) & (p_pos <= 1))
    # fresh staged cars are seen; once removed, they are (mostly) gone
    assert np.mean(p_pos >= 0.5) >= 0.75
    assert np.mean(p_edit < 0.5) >= 0.75
    assert p_pos.mean() > p_edit.mean() + 0.3
    np.testing.assert_array_equal(small.verify("car", features=f_pos, present=True),
                                  p_pos >= 0.5)
    np.testing.assert_array_equal(small.verify("car", features=f_edit, present=False),
                                  p_edit < 0.5)
    strict = small.verify("car", features=f_edit, present=False, threshold=0.05)
    assert strict.sum() <= small.verify("car", features=f_edit, present=False).sum()
    # a Concept object works as well as its name; images are featurised by the backbone
    np.testing.assert_array_equal(small.presence(CONCEPTS["car"], features=f_pos), p_pos)
    imgs = [render(s, small.image_size).image for s in pos[:3]]
    np.testing.assert_allclose(small.presence("car", images=imgs), p_pos[:3], atol=1e-6)
    assert small.presence("car", features=f_pos[:0]).shape == (0,)


def test_same_seed_same_probes_other_seed_other_probes(small, backbone):
    again = ProbeVerifier(backbone, **SMALL, use_cache=False).fit()
    assert not again.build_info_["from_cache"]
    np.testing.assert_array_equal(again.coef_, small.coef_)
    np.testing.assert_array_equal(again.intercept_, small.intercept_)
    np.testing.assert_array_equal(again.mean_, small.mean_)
    assert again.accuracy() == small.accuracy()
    assert again.fingerprint() == small.fingerprint()
    other = ProbeVerifier(backbone, **SMALL, random_state=1)
    assert other.fingerprint() != small.fingerprint()
    mine, theirs = small._training_set(), other._training_set()
    assert [s.content_hash() for s in mine["scenes"]] != \
        [s.content_hash() for s in theirs["scenes"]]
    np.testing.assert_array_equal(mine["test"], small._training_set()["test"])


def test_cache_reload_is_identical_and_fast(small, backbone):
    npz, js = small.cache_paths
    assert npz.exists() and js.exists()
    assert npz.parent.name == "verifier"
    t0 = time.perf_counter()
    again = ProbeVerifier(backbone, **SMALL).fit()
    assert time.perf_counter() - t0 < 1.0
    assert again.build_info_["from_cache"]
    np.testing.assert_array_equal(again.coef_, small.coef_)
    np.testing.assert_array_equal(again.intercept_, small.intercept_)
    np.testing.assert_array_equal(again.scale_, small.scale_)
    assert again.accuracy() == small.accuracy()
    doc = json.loads(js.read_text())
    assert doc["config"] == small.config and doc["accuracy"] == small.accuracy()


def test_config_is_json_and_keys_the_cache(small, backbone):
    cfg = small.config
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["backbone"] == backbone.fingerprint() and cfg["concepts"] == list(FIVE)
    fps = {ProbeVerifier(backbone, **{**SMALL, **kw}).fingerprint()
           for kw in ({}, {"n_natural": 301}, {"n_per_concept": 25}, {"C": 0.02},
                      {"concepts": FIVE[:4]}, {"counterfactual_weight": 1.0})}
    assert len(fps) == 6
    assert isinstance(small, ConceptVerifier) and not small.needs_scenes


@pytest.mark.parametrize("damage", ["truncate_npz", "flip_npz", "garbage_json", "no_json"])
def test_damaged_cache_is_rebuilt(backbone, damage):
    kw = {"concepts": ("car",), "n_natural": 60, "n_per_concept": 10}
    first = ProbeVerifier(backbone, **kw).fit()
    npz, js = first.cache_paths
    if damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[:100])
    elif damage == "flip_npz":
        blob = bytearray(npz.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        npz.write_bytes(bytes(blob))
    elif damage == "garbage_json":
        js.write_text("{not json")
    else:
        js.unlink()
    with pytest.warns(RuntimeWarning, match="damaged"):
        second = ProbeVerifier(backbone, **kw).fit()
    assert not second.build_info_["from_cache"]
    np.testing.assert_array_equal(second.coef_, first.coef_)
    third = ProbeVerifier(backbone, **kw).fit()          # the rebuilt entry is sound
    assert third.build_info_["from_cache"]
    np.testing.assert_array_equal(third.coef_, first.coef_)


def test_bad_inputs_raise_clear_errors(small, car_pairs):
    f = car_pairs[2]
    with pytest.raises(ConceptNotFound, match="human_face"):
        small.presence("human_fac", features=f)
    with pytest.raises(UserInputError, match="built without"):
        small.presence("kitchen", features=f)
    with pytest.raises(UserInputError, match=r"\(n, 1656\).*\(3, 10\)"):
        small.presence("car", features=np.zeros((3, 10)))
    with pytest.raises(UserInputError, match="shape"):
        small.presence("car", features=f[0])
    bad = f.copy()
    bad[0, 0] = np.nan
    with pytest.raises(UserInputError, match="NaN"):
        small.presence("car", features=bad)
    with pytest.raises(UserInputError, match="features="):
        small.presence("car")
    with pytest.raises(UserInputError, match="threshold"):
        small.verify("car", features=f, threshold=1.5)
    with pytest.raises(UserInputError, match="present"):
        small.verify("car", features=f, present="yes")
    with pytest.raises(ConceptNotFound):
        ProbeVerifier(small.backbone, concepts=["no_such_concept"])
    with pytest.raises(UserInputError, match="n_per_concept"):
        ProbeVerifier(small.backbone, n_per_concept=1)
    with pytest.raises(UserInputError, match="test_fraction"):
        ProbeVerifier(small.backbone, test_fraction=0.7)
    with pytest.raises(UserInputError, match="C must"):
        ProbeVerifier(small.backbone, C=0)


# ---------------------------------------------------------------- oracle
def test_oracle_is_exact_on_positives_edits_and_negatives(car_pairs):
    pos, edits, _, _ = car_pairs
    oracle = OracleVerifier()
    assert isinstance(oracle, ConceptVerifier) and oracle.needs_scenes
    assert oracle.fit() is oracle
    natural = sample_scenes(30, 5)
    for name in ("car", "person_surfing", "kitchen", "food"):
        c = CONCEPTS[name]
        scenes = pos + edits + natural
        truth = np.array([c.present(s) for s in scenes])
        p = oracle.presence(name, scenes=scenes)
        np.testing.assert_array_equal(p, truth.astype(float))
        np.testing.assert_array_equal(oracle.verify(name, scenes=scenes), truth)
        np.testing.assert_array_equal(oracle.verify(name, scenes=scenes, present=False), ~truth)
    np.testing.assert_array_equal(oracle.presence("car", scenes=pos), 1.0)
    np.testing.assert_array_equal(oracle.presence("car", scenes=edits), 0.0)
    # scene dicts (as stored by the stimulus cache) work too
    np.testing.assert_array_equal(oracle.presence("car", scenes=[s.to_dict() for s in pos]), 1.0)
    acc = oracle.accuracy()
    assert set(acc) == set(CONCEPTS) and acc["car"]["balanced_accuracy"] == 1.0
    assert json.loads(json.dumps(oracle.config)) == oracle.config
    assert oracle.fingerprint() == OracleVerifier().fingerprint()


def test_oracle_bad_inputs(car_pairs):
    oracle = OracleVerifier()
    with pytest.raises(UserInputError, match="scenes="):
        oracle.presence("car", features=car_pairs[2])
    with pytest.raises(UserInputError, match="list"):
        oracle.presence("car", scenes=car_pairs[0][0])
    with pytest.raises(UserInputError, match="not a Scene"):
        oracle.presence("car", scenes=[1, 2])
    with pytest.raises(ConceptNotFound):
        oracle.presence("carz", scenes=car_pairs[0])


# ---------------------------------------------------------------- the full default (slow)
@pytest.mark.slow
def test_default_verifier_accuracy(backbone):
    """The default build (68 concepts, ~9,700 images; ~1.5 min cold on 2 cores)."""
    v = ProbeVerifier(backbone).fit()
    acc = v.accuracy()
    assert list(acc) == list(CONCEPTS)
    for name in FIVE:
        assert acc[name]["balanced_accuracy"] >= 0.8, (name, acc[name])
    assert all(row["counterfactual_accuracy"] is not None for row in acc.values())
    ba = np.array([row["balanced_accuracy"] for row in acc.values()])
    assert np.median(ba) >= 0.85
    assert v.build_info_["seconds"]["total"] < 600
