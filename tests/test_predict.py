"""``braincause predict`` and :func:`braincause.predict`: predicted responses of a user's
images, checked against the subject's encoder run by hand on the same images."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from braincause.cli import main
from mini import MINI_SUBJECT

SIZES = [(160, 160), (224, 180), (97, 131), (300, 200), (64, 64), (181, 257), (500, 333),
         (123, 123), (210, 140), (77, 190)]


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """20 rendered scenes saved as PNG (RGB, RGBA, greyscale, palette) and JPEG, of 10
    sizes, most not square."""
    from braincause.synth.render import render
    from braincause.synth.sampler import sample_scenes

    d = tmp_path_factory.mktemp("images")
    scenes = sample_scenes(20, np.random.SeedSequence(7))
    for i, s in enumerate(scenes):
        w, h = SIZES[i % len(SIZES)]
        im = Image.fromarray(render(s, 256).image).resize((w, h), Image.Resampling.BICUBIC)
        if i % 2:
            im.save(d / f"img{i:02d}.jpg", quality=90)
        else:
            mode = ("RGB", "RGBA", "L", "P", "RGB")[(i // 2) % 5]
            (im.convert(mode) if mode != "P" else im.quantize(64)).save(d / f"img{i:02d}.png")
    (d / "notes.txt").write_text("not an image: ignored")
    return d


def _by_hand(files):
    """The images as the encoder expects them, read without braincause's reader."""
    from PIL import ImageOps

    out = []
    for f in files:
        with Image.open(f) as im:
            a = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        h, w = a.shape[:2]
        s = min(h, w)
        out.append(a[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s])
    return out


@pytest.fixture(scope="module")
def predicted(image_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pred") / "pred.csv"
    assert main(["predict", str(image_dir), "--subject", MINI_SUBJECT, "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_predict_writes_csv_npz_json_and_gifti(predicted, image_dir):
    d = predicted.parent
    for name in ("pred.csv", "pred.npz", "pred.json", "lh.pred.func.gii", "rh.pred.func.gii"):
        assert (d / name).is_file(), name
    with open(predicted, newline="") as f:
        rows = list(csv.DictReader(f))
    files = sorted(p for p in image_dir.iterdir() if p.suffix in (".png", ".jpg"))
    assert [r["image"] for r in rows] == [str(p) for p in files] and len(rows) == 20
    info = json.loads((d / "pred.json").read_text())
    assert info["voxel_filter"]["threshold"] == 0.2
    assert "visual_cortex" in rows[0] and "FFA" in rows[0]


def test_predicted_values_equal_the_encoders(predicted, image_dir):
    """The npz, the CSV and the GIFTI hold what the subject's encoder gives on the same
    images, read and featurised here without the feature cache."""
    import nibabel as nib

    from braincause.datasets.synthetic import load_subject
    from braincause.encoding.backbone import MobileNetV2Backbone
    from braincause.encoding.fit import fit_encoder

    files = sorted(p for p in image_dir.iterdir() if p.suffix in (".png", ".jpg"))
    subj = load_subject(MINI_SUBJECT)
    fit = fit_encoder(subj)
    Y = fit.encoder.predict(MobileNetV2Backbone().features(_by_hand(files)))
    with np.load(predicted.with_suffix(".npz"), allow_pickle=False) as z:
        got, keep = z["responses"], z["keep"]
        np.testing.assert_array_equal(z["names"], [str(p) for p in files])
    assert got.shape == (20, subj.n_voxels)
    np.testing.assert_allclose(got, Y, rtol=1e-4, atol=1e-5)
    assert np.array_equal(keep, fit.keep(0.2))
    with open(predicted, newline="") as f:
        rows = list(csv.DictReader(f))
    ffa = subj.roi_labels["FFA"] & keep
    np.testing.assert_allclose([float(r["FFA"]) for r in rows], Y[:, ffa].mean(axis=1),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose([float(r["visual_cortex"]) for r in rows],
                               Y[:, keep].mean(axis=1), rtol=1e-4, atol=1e-5)
    lh = nib.load(str(predicted.parent / "rh.pred.func.gii"))
    assert len(lh.darrays) == 20 and lh.darrays[3].meta["Name"] == str(files[3])
    cx = subj.cortex
    sel = cx.hemi == 1
    np.testing.assert_array_equal(lh.darrays[3].data[cx.vertex[sel]], got[3, sel])


def test_predict_api_and_run_regions(predicted, image_dir, faces_run):
    import braincause

    arrays = _by_hand(sorted(image_dir.glob("*.png"))[:3])
    pred = braincause.predict(arrays, subject=MINI_SUBJECT, region=faces_run,
                              roi=faces_run / "regions.tsv")
    assert pred.names == ["image-0", "image-1", "image-2"]
    from braincause.encoding.fit import default_backbone

    cache = default_backbone()  # the features went through the on-disk cache
    assert all(cache.entry_path(a).is_file() for a in arrays)
    assert cache.entry_path(pred.info["images"][1]["sha256"]) == cache.entry_path(arrays[1])
    assert list(pred.regions)[-4:] == ["run_causal", "run_activation", "roi_causal",
                                       "roi_activation"]
    doc = json.loads((faces_run / "result.json").read_text())
    assert np.flatnonzero(pred.regions["run_causal"]).tolist() == sorted(doc["region"]["voxels"])
    j = list(pred.regions)
    np.testing.assert_array_equal(pred.region_means[:, j.index("run_causal")],
                                  pred.region_means[:, j.index("roi_causal")])
    with np.load(predicted.with_suffix(".npz"), allow_pickle=False) as z:
        np.testing.assert_allclose(pred.responses, z["responses"][[0, 2, 4]], atol=1e-5)


@pytest.mark.parametrize("case, message", [
    ("unreadable", r"cannot read image .*broken\.png.* re-save it"),
    ("empty", r"holds no PNG or JPEG file"),
    ("subject", r"unknown subject 'synth-99'"),
    ("missing", r"does not exist"),
    ("suffix", r"must end in \.csv or \.tsv"),
    ("other-run", r"is a run of synth-01-mini, not of synth-02-mini"),
])
def test_predict_bad_input_exits_2(case, message, image_dir, faces_run, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    args = [str(d), "--subject", MINI_SUBJECT, "--out", str(tmp_path / "o.csv")]
    if case == "unreadable":
        Image.open(next(image_dir.glob("*.jpg"))).save(d / "fine.jpg")
        (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    elif case == "subject":
        args[2] = "synth-99"
    elif case == "missing":
        args[0] = str(tmp_path / "nowhere.png")
    elif case == "suffix":
        args = [str(image_dir), "--subject", MINI_SUBJECT, "--out", str(tmp_path / "o.txt")]
    elif case == "other-run":
        args = [str(image_dir), "--subject", "synth-02-mini", "--region", str(faces_run),
                "--out", str(tmp_path / "o.csv")]
    assert main(["predict", *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("braincause: ")
    import re

    assert re.search(message, err), err
    assert not (tmp_path / "o.csv").exists()


def test_predict_on_an_nsd_subject(image_dir, tmp_path):
    """NSD (the miniature copy, betas on a 40,962-vertex fsaverage6 mesh, its nsdgeneral
    vertices): fLoc ROI columns, GIFTI files on that mesh, values of the subject's
    encoder."""
    import nibabel as nib

    from braincause.config import LocalizeConfig
    from braincause.datasets.mini_nsd import write_mini_nsd
    from braincause.encoding.fit import fit_encoder
    from braincause.pipeline.context import load_nsd_subject

    write_mini_nsd(tmp_path / "nsd", n_sessions=3, trials_per_session=60, n_stimuli=150,
                   n_subject_images=60, n_shared=20, n_vertices=40962, random_state=3)
    out = tmp_path / "pred.tsv"
    cfg = tmp_path / "all.toml"
    cfg.write_text('[nsd]\nvertex_mask = "nsdgeneral"\n')  # vertices off fsaverage5
    assert main(["predict", str(image_dir), "--nsd-root", str(tmp_path / "nsd"), "--subject",
                 "1", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 20 and "FFA-1" in rows[0] and "visual_cortex" in rows[0]
    subj = load_nsd_subject(tmp_path / "nsd", 1,
                            LocalizeConfig.from_dict({"nsd": {"vertex_mask": "nsdgeneral"}}))
    assert subj.cortex is None and subj.vertex.max() >= 10242
    with np.load(tmp_path / "pred.npz", allow_pickle=False) as z:
        got = z["responses"]
    files = sorted(p for p in image_dir.iterdir() if p.suffix in (".png", ".jpg"))
    from braincause.encoding.backbone import MobileNetV2Backbone

    Y = fit_encoder(subj).encoder.predict(MobileNetV2Backbone().features(_by_hand(files)))
    np.testing.assert_allclose(got, Y, rtol=1e-4, atol=1e-5)
    lh = nib.load(str(tmp_path / "lh.pred.func.gii"))
    assert lh.darrays[0].data.shape == (40962,)
    assert lh.meta["braincause_mesh"] == "fsaverage6"
    sel = subj.hemi == 0
    np.testing.assert_array_equal(lh.darrays[5].data[subj.vertex[sel]], got[5, sel])
