"""What the simulated brains respond to: a feature vector per scene.

Features are computed from the scene record *and* its rendered pixels (at
:data:`FEATURE_SIZE` px), never from anything a method under test sees:

* **semantic** — visible area of concepts (sum of visible coverage of their
  categories, square-root compressed, so area matters but with diminishing
  returns): faces, animal faces, bodies, hands, animal bodies, printed and
  handwritten text, food, tools, and a "place" feature (0.4 for a scene rather
  than an object photograph, plus the square-rooted visible area of large
  structures: buildings, doors, windows, mountains, roads, beds);
* **cue** — what decoy areas answer to: pixel warmth (red-minus-blue weighted by
  saturation), the fraction of object pixels (not backdrop, sky, grass, water or
  road) with a skin-tone colour (to the power 0.25), and the visible area (to the
  power 0.3) of objects carrying the declared attributes round, dishware, sign shape
  and texture;
* **low level** — mean luminance, RMS contrast, saturation, high-spatial-frequency
  energy (mean absolute Laplacian);
* **retinotopic** — RMS contrast in each cell of a 4 × 4 grid (for early visual
  cortex).

All features are roughly in [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from braincause.synth.categories import CATEGORIES
from braincause.synth.render import render
from braincause.synth.scene import Scene

FEATURE_SIZE = 64
GRID = 4
#: Bump when feature definitions change: it keys every cache built on features.
FEATURE_VERSION = "f5"

SEMANTIC: dict[str, tuple[str, ...]] = {
    "face": ("human_face",),
    "animal_face": ("animal_face",),
    "body": ("person", "leg"),
    "hand": ("hand",),
    "animal_body": ("cat", "dog", "bird"),
    "text_print": ("printed_text",),
    "text_hand": ("handwritten_text",),
    "food": ("pizza", "fruit", "cake", "sandwich"),
    "tool": ("hammer", "scissors", "wrench"),
    "place": ("building", "door", "window", "mountain", "road", "bed"),
}
ATTRIBUTE_CUES = ("round", "dishware", "sign_shape", "texture")
PIXEL_CUES = ("warm", "skin")
LOW_LEVEL = ("luminance", "contrast", "saturation", "high_sf")
RETINOTOPIC = tuple(f"rc_{i}_{j}" for i in range(GRID) for j in range(GRID))

FEATURES: tuple[str, ...] = (*SEMANTIC, *PIXEL_CUES, *ATTRIBUTE_CUES, *LOW_LEVEL, *RETINOTOPIC)
INDEX = {f: i for i, f in enumerate(FEATURES)}
N_FEATURES = len(FEATURES)

_ATTR_CATS = {a: tuple(c for c, cat in CATEGORIES.items() if a in cat.attributes)
              for a in ATTRIBUTE_CUES}


def _pixel_features(img: np.ndarray, objects: np.ndarray) -> np.ndarray:
    rgb = img.astype(np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx, mn = rgb.max(axis=2), rgb.min(axis=2)
    sat = np.where(mx > 1e-3, (mx - mn) / np.maximum(mx, 1e-3), 0.0)
    gray = 0.299 * r + 0.587 * g + 0.114 * b
    warm = float(np.mean(np.clip(r - b, 0, 1) * sat)) * 4.0
    s = r + g + b + 1e-6
    rn, gn = r / s, g / s
    skin = float(np.mean((rn > 0.38) & (rn < 0.5) & (gn > 0.28) & (gn < 0.325)
                         & (gray > 0.18) & (sat > 0.18) & (sat < 0.62) & objects))
    lap = (4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2]
           - gray[1:-1, 2:])
    n = gray.shape[0] // GRID
    cells = gray[: n * GRID, : n * GRID].reshape(GRID, n, GRID, n).std(axis=(1, 3))
    low = [float(gray.mean()), float(gray.std()) * 3.0, float(sat.mean()),
           float(np.abs(lap).mean()) * 6.0]
    return np.concatenate([[warm, skin ** 0.25], low, (cells * 4.0).ravel()])


def scene_features(scene: Scene) -> np.ndarray:
    """Feature vector (``len(FEATURES)``, float32) of one scene."""
    r = render(scene, FEATURE_SIZE, labels=True)
    assert r.coverage is not None and r.labels is not None
    return features_from(scene, r.image, r.coverage, object_pixels(scene, r.labels))


#: Region categories count as backdrop, not objects, for pixel cues.
REGIONS = frozenset({"sky", "grass", "water", "road"})


def object_pixels(scene: Scene, labels: np.ndarray) -> np.ndarray:
    """Pixels of objects (not the backdrop and not sky, grass, water or road)."""
    regions = [o.uid for o in scene.objects if o.category in REGIONS]
    return (labels > 0) & ~np.isin(labels, regions)


def features_from(scene: Scene, image: np.ndarray, coverage: dict[int, float],
                  objects: np.ndarray) -> np.ndarray:
    """Features from a scene record, an image of it and its objects' visible coverage.

    Semantic and attribute features come from the record and coverage, pixel cues and
    low-level features from ``image`` (``FEATURE_SIZE`` px); ``objects`` marks the pixels
    that belong to objects rather than the backdrop (skin tone is counted on objects
    only, so beige walls and floors are not "skin"). Passing another image (a scrambled
    one) gives the features of "this scene's objects, those pixels"."""
    cov: dict[str, float] = {}
    for o in scene.objects:
        cov[o.category] = cov.get(o.category, 0.0) + coverage.get(o.uid, 0.0)
    sem = [np.sqrt(sum(cov.get(c, 0.0) for c in cats)) for cats in SEMANTIC.values()]
    sem[-1] = 0.4 * (scene.context != "studio") + sem[-1]
    attr = [sum(cov.get(c, 0.0) for c in _ATTR_CATS[a]) ** 0.3 for a in ATTRIBUTE_CUES]
    pix = _pixel_features(image, objects)
    out = np.concatenate([sem, pix[:2], attr, pix[2:]]).astype(np.float32)
    return out


def scrambled_features(original: Scene, edited: Scene, seed: int) -> np.ndarray:
    """Low-level control of an edit: the features of ``edited``'s objects shown with
    ``original``'s pixels scrambled inside the edit's footprint.

    Pixels that differ between the two renders are permuted among themselves within
    each cell of the retinotopic grid, so every cell keeps the original's colour
    histogram, mean and contrast (and the image its luminance, saturation, warmth and
    skin-tone fraction) while the concept's shape is destroyed."""
    ro = render(original, FEATURE_SIZE, labels=True)
    re_ = render(edited, FEATURE_SIZE, labels=True)
    assert re_.coverage is not None and ro.labels is not None and re_.labels is not None
    foot = (ro.image != re_.image).any(axis=2)
    img = ro.image.copy()
    rng = np.random.default_rng(seed)
    n = FEATURE_SIZE // GRID
    for i in range(GRID):
        for j in range(GRID):
            cell = np.zeros_like(foot)
            cell[i * n:(i + 1) * n, j * n:(j + 1) * n] = True
            ys, xs = np.nonzero(foot & cell)
            if len(ys) > 1:
                perm = rng.permutation(len(ys))
                img[ys, xs] = img[ys[perm], xs[perm]]
    # the scrambled pixels still count as object pixels (they are the concept's own)
    return features_from(edited, img, re_.coverage,
                         object_pixels(edited, re_.labels) | object_pixels(original, ro.labels))


#: Scenes rendered between two progress messages of :func:`features_of`.
PROGRESS_EVERY = 100


def features_of(scenes: list[Scene], progress: Any = None, *,
                label: str = "rendering scenes") -> np.ndarray:
    """(n_scenes, n_features) float32; ``progress(message)``, when given, hears
    ``"<label> <done>/<total>"`` every :data:`PROGRESS_EVERY` scenes."""
    if not scenes:
        return np.zeros((0, N_FEATURES), np.float32)
    out, n = [], len(scenes)
    for i, s in enumerate(scenes):
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(f"{label} {i}/{n}")
        out.append(scene_features(s))
    if progress is not None:
        progress(f"{label} {n}/{n}")
    return np.stack(out)
