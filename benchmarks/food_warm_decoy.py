"""Can the warm-colour decoy lure an activation-only food region? A noise-free check.

    .venv/bin/python benchmarks/food_warm_decoy.py --out benchmarks/results/food_warm_decoy.json

Issue 5 asks that the activation-only (MAG) region for food overlap the warm-colour decoy
more than the causal region does. This script measures, on synth-01's *noise-free* brain
(no encoder, no measurement noise), whether any voxel tuned only to warmth can enter a
top-100 MAG region for food at all:

* 1,500 free scenes from the world's sampler (the measured pool's statistics);
* warmth d′ of scenes with food (and with faces, people, …) against the rest;
* each voxel's mean z-scored response over the food scenes (MAG), and the best MAG rank
  of voxels in the warm-colour decoy's extent outside every planted area.

``--warm-cue`` recomputes the warm cue in other ways (what-ifs; the world itself is not
changed): ``whole`` (the world's definition: red-minus-blue × saturation over the whole
image), ``objects`` (object pixels only), ``objects-sqrt`` (object pixels, square-root
compressed like the semantic features) and ``saturated-objects`` (the fraction of object
pixels that are saturated and warm, square-rooted).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import braincause.synth.features as F
from braincause.datasets.synthetic import load_subject
from braincause.synth.concepts import CONCEPTS
from braincause.synth.sampler import sample_scene

CUES = ("whole", "objects", "objects-sqrt", "saturated-objects")
_WORLD_PIXEL_FEATURES = F._pixel_features


def _warm_cue(kind: str):
    def pixel_features(img: np.ndarray, objects: np.ndarray) -> np.ndarray:
        out = _WORLD_PIXEL_FEATURES(img, objects)
        if kind == "whole":
            return out
        rgb = img.astype(np.float32) / 255.0
        r, b = rgb[..., 0], rgb[..., 2]
        mx, mn = rgb.max(axis=2), rgb.min(axis=2)
        sat = np.where(mx > 1e-3, (mx - mn) / np.maximum(mx, 1e-3), 0.0)
        w = np.clip(r - b, 0, 1) * sat * objects
        if kind == "objects":
            out[0] = float(w.mean()) * 4.0
        elif kind == "objects-sqrt":
            out[0] = float(w.mean()) ** 0.5
        else:
            out[0] = float(((sat > 0.5) & (r - b > 0.3) & objects).mean()) ** 0.5
        return out
    return pixel_features


def measure(kind: str, n_scenes: int, subject: str) -> dict:
    F._pixel_features = _warm_cue(kind)
    try:
        subj = load_subject(subject)
        scenes = [sample_scene(np.random.default_rng(10_000 + i)) for i in range(n_scenes)]
        X = F.features_of(scenes)
    finally:
        F._pixel_features = _WORLD_PIXEL_FEATURES
    warm = X[:, F.INDEX["warm"]]
    d_prime = {}
    for c in ("food", "human_face", "person", "ball", "traffic_sign"):
        m = np.array([CONCEPTS[c].present(s) for s in scenes])
        d_prime[c] = round(float((warm[m].mean() - warm[~m].mean()) / warm.std()), 3)
    is_food = np.array([CONCEPTS["food"].present(s) for s in scenes])
    Y = subj.brain.respond(X)
    Z = (Y - Y.mean(0)) / (Y.std(0) + 1e-6)
    mag = Z[is_food].mean(0)
    kinds = subj.area_kinds()
    ext = {a.name: a.extent for a in subj.brain.areas}
    planted = np.zeros(mag.size, bool)
    for n, e in ext.items():
        if kinds[n] == "planted":
            planted |= e
    order = np.argsort(-mag)
    rank = np.empty_like(order)
    rank[order] = np.arange(mag.size)
    areas = {}
    for n in ("warm-colour", "dishware", "food-medial", "food-lateral"):
        sel = ext[n] & ~planted if kinds[n] == "decoy" else ext[n]
        areas[n + (" only" if kinds[n] == "decoy" else "")] = {
            "best_mag_rank": int(rank[sel].min()), "best_mag": round(float(mag[sel].max()), 3)}
    top = order[:100]
    return {"warm_cue": kind, "warm_d_prime": d_prime, "areas": areas,
            "top100_in_warm_only": int((ext["warm-colour"][top] & ~planted[top]).sum()),
            "top100_in_dishware_only": int((ext["dishware"][top] & ~planted[top]).sum()),
            "top100_in_food_bands": int((ext["food-medial"] | ext["food-lateral"])[top].sum())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm-cue", choices=CUES, nargs="+", default=list(CUES))
    ap.add_argument("--scenes", type=int, default=1500)
    ap.add_argument("--subject", default="synth-01")
    ap.add_argument("--out")
    a = ap.parse_args()
    rows = []
    for kind in a.warm_cue:
        r = measure(kind, a.scenes, a.subject)
        rows.append(r)
        print(json.dumps(r), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps({
            "command": "benchmarks/food_warm_decoy.py", "subject": a.subject,
            "scenes": a.scenes, "results": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
