"""Real photographs through ``braincause.predict`` for synth-01 … synth-04.

The synthetic subjects were measured on rendered scenes; this script asks how far their
encoders reach to real photographs: the photos that scikit-image, matplotlib and
scikit-learn ship (no download) go through :func:`braincause.predict`, and for every
planted concept area and decoy the photo that drives it most is reported, per subject.

Writes ``docs/images/photos-predict.png`` (thumbnails and, per subject, each area's
predicted mean response to each photo) and ``docs/images/photos-predict.json`` (the
numbers), and prints the Markdown table of docs/predict.md's "Real photographs" section.

    .venv/bin/python docs/make_photos_doc.py            # ~1 min once the subjects are cached
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
SUBJECTS = ("synth-01", "synth-02", "synth-03", "synth-04")
#: (name, what it shows, loader) — every one ships inside its package
PHOTOS = [
    ("astronaut", "portrait of a person (face, upper body)", "skimage:astronaut"),
    ("grace_hopper", "portrait of a person (face, uniform)", "matplotlib:grace_hopper.jpg"),
    ("camera", "man with a camera on a tripod, grey", "skimage:camera"),
    ("chelsea", "a cat's face", "skimage:chelsea"),
    ("coffee", "a cup of coffee on a saucer", "skimage:coffee"),
    ("rocket", "a rocket on its launch pad", "skimage:rocket"),
    ("china", "a Chinese temple building", "sklearn:china.jpg"),
    ("flower", "a flower, close up", "sklearn:flower.jpg"),
    ("page", "a scanned page of printed text, grey", "skimage:page"),
    ("text", "hand-painted text on a sign, grey", "skimage:text"),
    ("horse", "a horse's silhouette, binary", "skimage:horse"),
    ("brick", "a brick wall, grey", "skimage:brick"),
    ("grass", "grass, grey", "skimage:grass"),
    ("gravel", "gravel, grey", "skimage:gravel"),
    ("moon", "the Moon's surface, grey", "skimage:moon"),
    ("hubble", "Hubble deep field (galaxies)", "skimage:hubble_deep_field"),
    ("ihc", "immunohistochemistry microscopy", "skimage:immunohistochemistry"),
    ("retina", "a retina fundus photograph", "skimage:retina"),
]


def load_photo(spec: str) -> np.ndarray:
    """One bundled photo as uint8 RGB."""
    pkg, _, name = spec.partition(":")
    if pkg == "skimage":
        import skimage.data

        a = np.asarray(getattr(skimage.data, name)())
        if a.dtype == bool:
            a = np.where(a, 255, 0).astype(np.uint8)
    elif pkg == "matplotlib":
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data(name) as f:
            a = np.asarray(Image.open(f).convert("RGB"))
    else:
        from sklearn.datasets import load_sample_image

        a = load_sample_image(name)
    a = np.asarray(a)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    return np.ascontiguousarray(a[..., :3]).astype(np.uint8)


def write_photos(folder: Path) -> list[Path]:
    """The photos as PNG files (their file names sort in :data:`PHOTOS` order)."""
    from PIL import Image

    out = []
    for i, (name, _, spec) in enumerate(PHOTOS):
        p = folder / f"{i:02d}-{name}.png"
        Image.fromarray(load_photo(spec)).save(p)
        out.append(p)
    return out


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import braincause
    from braincause.datasets.synthetic import load_subject
    from braincause.utils.images import read_image

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = write_photos(Path(tmp))
        thumbs = [read_image(f) for f in files]
        for sid in SUBJECTS:
            print(f"{sid} …", file=sys.stderr, flush=True)
            pred = braincause.predict(Path(tmp), subject=sid)
            kinds = load_subject(sid).area_kinds()
            names = [k for k in pred.regions if k in kinds]
            cols = [list(pred.regions).index(k) for k in names]
            m = pred.region_means[:, cols]                    # (n_photos, n_areas)
            results[sid] = {"areas": names, "kinds": [kinds[k] for k in names],
                            "means": np.round(m, 4).tolist(),
                            "visual_cortex": np.round(pred.region_means[
                                :, list(pred.regions).index("visual_cortex")], 4).tolist()}
    photos = [p[0] for p in PHOTOS]
    doc = {"photos": [{"name": n, "shows": s, "source": src} for n, s, src in PHOTOS],
           "units": "mean predicted response over the area's voxels passing the encoder "
                    "filter (r >= 0.2), per-voxel z-score units of the training betas",
           "subjects": results}
    (DOCS / "images" / "photos-predict.json").write_text(json.dumps(doc, indent=1) + "\n")

    fig = plt.figure(figsize=(15, 16))
    gs = fig.add_gridspec(3, 2, height_ratios=[0.42, 1, 1], hspace=0.3, wspace=0.3)
    top = gs[0, :].subgridspec(2, 9, hspace=0.25, wspace=0.05)
    for i, (im, n) in enumerate(zip(thumbs, photos, strict=True)):
        ax = fig.add_subplot(top[i // 9, i % 9])
        ax.imshow(im)
        ax.set_title(n, fontsize=9)
        ax.axis("off")
    for j, sid in enumerate(SUBJECTS):
        r = results[sid]
        m = np.asarray(r["means"]).T                            # (n_areas, n_photos)
        ax = fig.add_subplot(gs[1 + j // 2, j % 2])
        lim = float(np.nanmax(np.abs(m)))
        img = ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        best = np.nanargmax(m, axis=1)
        ax.scatter(best, np.arange(len(best)), marker="o", facecolors="none",
                   edgecolors="k", s=60, linewidths=1.2)
        ax.set_xticks(range(len(photos)), photos, rotation=70, fontsize=8)
        ax.set_yticks(range(len(r["areas"])),
                      [f"{a} ({'decoy' if k == 'decoy' else 'area'})"
                       for a, k in zip(r["areas"], r["kinds"], strict=True)], fontsize=8)
        ax.set_title(f"{sid}: predicted area means (circle: the photo driving it most)",
                     fontsize=10)
        fig.colorbar(img, ax=ax, shrink=0.8, label="z")
    fig.suptitle("Real photographs through braincause predict: how far the synthetic "
                 "subjects' encoders reach", fontsize=13)
    out = DOCS / "images" / "photos-predict.png"
    fig.savefig(out, dpi=80, bbox_inches="tight")
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)

    # the Markdown table: each planted area's and decoy's top photo in each subject
    areas = results[SUBJECTS[0]]["areas"]
    print("| area | kind | " + " | ".join(SUBJECTS) + " |")
    print("|---|---|" + "---|" * len(SUBJECTS))
    for a in areas:
        cells = []
        for sid in SUBJECTS:
            r = results[sid]
            if a not in r["areas"]:
                cells.append("—")
                continue
            col = np.asarray(r["means"])[:, r["areas"].index(a)]
            order = np.argsort(-col)
            cells.append(f"{photos[order[0]]} ({col[order[0]]:+.2f}), "
                         f"{photos[order[1]]} ({col[order[1]]:+.2f})")
        kind = results[SUBJECTS[0]]["kinds"][areas.index(a)]
        print(f"| {a} | {kind} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
