"""``braincause explain``: the dissection's statistics (against scipy), its ground truth on
the mini subject's planted areas and decoys, facets, region files, the CLI's exits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from braincause.cli import main
from braincause.datasets.synthetic import load_subject
from braincause.explanation import bootstrap_difference_ci, dissect, explain, read_roi
from mini import MINI_SUBJECT


def test_bootstrap_ci_matches_scipy():
    from scipy.stats import bootstrap

    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 80), rng.normal(0.0, 2.0, 150)
    lo, hi = bootstrap_difference_ci(a, b, n_resamples=20000, seed=1)
    ref = bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis),
                    n_resamples=20000, method="percentile", vectorized=True,
                    rng=np.random.default_rng(7)).confidence_interval
    assert lo == pytest.approx(ref.low, abs=0.03)
    assert hi == pytest.approx(ref.high, abs=0.03)
    assert lo < a.mean() - b.mean() < hi


def test_dissection_effects_are_mean_differences():
    rng = np.random.default_rng(0)
    resp = rng.normal(size=200)
    m = np.zeros(200, bool)
    m[:50] = True
    resp[m] += 2.0
    labels = {("concept", "x"): m, ("category", "y"): rng.random(200) < 0.5,
              ("attribute", "rare"): np.arange(200) < 3}
    rows = dissect(resp, labels, n_resamples=200, seed=0)
    assert [r["name"] for r in rows] == ["x", "y"]  # the rare label is left out
    assert rows[0]["effect"] == pytest.approx(resp[m].mean() - resp[~m].mean(), abs=1e-6)
    assert rows[0]["ci"][0] > 1.5 and rows[0]["n_images"] == 50 and rows[0]["rank"] == 1


@pytest.fixture(scope="module")
def areas(tmp_path_factory):
    subj = load_subject(MINI_SUBJECT)
    d = tmp_path_factory.mktemp("rois")
    files = {}
    for name in ("FFA", "PPA", "dishware", "round-object"):
        files[name] = d / f"{name}.npy"
        np.save(files[name], subj.roi_labels[name])
    return subj, files


def _carriers(feature: str) -> set[str]:
    """The dissection labels that carry a true feature of the synthetic world."""
    from braincause.synth.concepts import CONCEPTS
    from braincause.synth.features import ATTRIBUTE_CUES, SEMANTIC

    if feature in ATTRIBUTE_CUES:
        return {feature}
    cats = set(SEMANTIC[feature])
    return cats | {n for n, c in CONCEPTS.items() if set(c.members) & cats}


@pytest.mark.parametrize("area", ["FFA", "PPA", "dishware", "round-object"])
def test_top3_carries_the_areas_true_top_feature(area, areas):
    subj, files = areas
    tuning = next(a.tuning for a in subj.brain.areas if a.name == area)
    top = max(tuning, key=tuning.get)
    ex = explain(roi=files[area], subject=MINI_SUBJECT, n_top=30, n_resamples=200,
                 synthesis=False)
    names = [r["name"] for r in ex.dissection[:3]]
    assert set(names) & _carriers(top), (area, top, names)
    assert ex.response == pytest.approx(subj.responses[:, subj.roi_labels[area]].mean(1),
                                        abs=1e-5)


def test_explain_writes_json_figure_facets_deterministically(areas, tmp_path):
    _subj, files = areas
    a = explain(roi=files["FFA"], subject=MINI_SUBJECT, out=tmp_path / "a", n_top=30,
                n_resamples=200)
    explain(roi=files["FFA"], subject=MINI_SUBJECT, out=tmp_path / "b", n_top=30,
            n_resamples=200)
    ja, jb = ((tmp_path / d / "explain.json").read_text() for d in "ab")
    assert ja == jb
    doc = json.loads(ja)
    assert (tmp_path / "a" / "dissection.png").stat().st_size > 1000
    assert doc["dissection"][0]["effect"] >= doc["dissection"][-1]["effect"]
    k = doc["facet_method"]["k"]
    assert len(doc["facets"]) == k and str(k) in doc["facet_method"]["silhouette"]
    top30 = set(np.argsort(-a.response, kind="stable")[:30].tolist())
    assert set().union(*(f["images"] for f in doc["facets"])) == top30
    for f in doc["facets"]:
        assert all((tmp_path / "a" / t).is_file() for t in f["thumbnails"])
        assert f["keywords"] and f["images"] == sorted(f["images"],
                                                       key=lambda i: -a.response[i])
    # synthesized preferred images: above every measured image's predicted response, per
    # facet different, and what `braincause predict` says of the written PNG
    from braincause.prediction import predict

    assert doc["synthesis"]["n_voxels_used"] > 0
    pngs = [tmp_path / "a" / f["synthesized"]["image"] for f in doc["facets"]]
    pred = predict(pngs, subject=MINI_SUBJECT)
    col = list(pred.regions).index("FFA")
    for f, r in zip(doc["facets"], pred.region_means[:, col], strict=True):
        syn = f["synthesized"]
        assert syn["percentile"] > 99
        assert syn["predicted_response"] > syn["start_predicted_response"] + 0.5
        assert syn["predicted_response"] == pytest.approx(r, abs=1e-4)
        assert syn["min_pixel_distance_to_other_facets"] > 5
    given = explain(roi=files["FFA"], subject=MINI_SUBJECT, n_top=30, n_resamples=200,
                    n_facets=4, synthesis=False)
    assert len(given.facets) == 4


def test_run_dir_tsv_and_gifti_give_the_runs_causal_region(faces_run, tmp_path, capsys):
    res = json.loads((faces_run / "result.json").read_text())
    causal = np.zeros(load_subject(MINI_SUBJECT).n_voxels, bool)
    causal[res["region"]["voxels"]] = True
    subj = load_subject(MINI_SUBJECT)
    cx = subj.cortex
    gii = read_roi(faces_run / "surface" / "lh.region.label.gii", subj.n_voxels, cx.vertex,
                   cx.hemi)
    assert (gii == causal).all()
    (tmp_path / "r.tsv").write_text("voxel\tregion\n" + "".join(
        f"{v}\tcausal\n" for v in np.flatnonzero(causal)))
    assert (read_roi(tmp_path / "r.tsv", subj.n_voxels) == causal).all()
    assert main(["explain", str(faces_run), "--out", str(tmp_path / "x"), "--quiet"]) == 0
    doc = json.loads((tmp_path / "x" / "explain.json").read_text())
    assert doc["region"]["voxels"] == np.flatnonzero(causal).tolist()
    assert doc["region"]["source"]["concept"] == res["concept"]["name"] == "human_face"
    assert "explained on 300 measured images" in capsys.readouterr().out


@pytest.mark.parametrize("case,message", [
    ("none", "explain needs a region"),
    ("no-subject", "--roi needs --subject"),
    ("bad-subject", "unknown subject"),
    ("missing", "is not a file"),
    ("length", "boolean array of the subject's"),
    ("out-of-range", "voxel indices span"),
    ("other-run", "is a run of synth-01-mini, not of synth-02-mini"),
    ("facets", "--facets must be an integer"),
])
def test_explain_bad_input_exits_2(case, message, faces_run, tmp_path, capsys):
    np.save(tmp_path / "short.npy", np.ones(10, bool))
    (tmp_path / "big.txt").write_text("1 2 99999999")
    out = ["--out", str(tmp_path / "o"), "--quiet"]
    args = {"none": out, "no-subject": ["--roi", str(tmp_path / "short.npy"), *out],
            "bad-subject": ["--roi", str(tmp_path / "short.npy"), "--subject", "nope", *out],
            "missing": ["--roi", str(tmp_path / "no.npy"), "--subject", MINI_SUBJECT, *out],
            "length": ["--roi", str(tmp_path / "short.npy"), "--subject", MINI_SUBJECT, *out],
            "out-of-range": ["--roi", str(tmp_path / "big.txt"), "--subject", MINI_SUBJECT,
                             *out],
            "other-run": [str(faces_run), "--subject", "synth-02-mini", *out],
            "facets": [str(faces_run), "--facets", "0", *out]}[case]
    assert main(["explain", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "explain.json").exists()
