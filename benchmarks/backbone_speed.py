"""Speed of the offline MobileNetV2 backbone on the synthetic world's images.

Renders N free scenes at 224 px (the stimulus size), then times
``MobileNetV2Backbone.features`` end to end (PIL resize when the input size differs,
normalisation, forward pass, pooling of the default six layers) at 160 and 224 px,
with and without ``channels_last``, batch size B, T torch threads, each with the
default CPU chunking of forward passes and with whole batches of B per pass. Each
setting is timed R times, the settings interleaved so slow phases of a noisy machine
hit them alike; the median is reported. Finally times the on-disk cache: a cold pass (compute and
store) and a warm pass (read back) in a fresh cache folder.
Writes benchmarks/results/backbone_speed.json.

Run: .venv/bin/python benchmarks/backbone_speed.py [--n 512] [--batch 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from braincause.encoding.backbone import CachedBackbone, MobileNetV2Backbone
from braincause.synth.render import render
from braincause.synth.sampler import sample_scenes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                          "backbone_speed.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    images = np.stack([render(s, 224).image for s in sample_scenes(args.n, 0)])

    # (image size, channels_last, whole batch per forward pass instead of the CPU chunking)
    settings = [(size, cl, whole) for size in (160, 224) for cl in (True, False)
                for whole in (False, True)]
    models = {k: MobileNetV2Backbone(image_size=k[0], channels_last=k[1],
                                     batch_size=args.batch, threads=args.threads,
                                     forward_chunk=args.batch if k[2] else None)
              for k in settings}
    for m in models.values():
        m.features(images[:args.batch])  # warm-up: oneDNN primitives, thread pool
    times: dict[tuple[int, bool, bool], list[float]] = {k: [] for k in settings}
    for _ in range(args.repeats):
        for k in settings:
            t0 = time.perf_counter()
            models[k].features(images)
            times[k].append(time.perf_counter() - t0)

    # the same at 160 px for images already rendered at 160 (no resize)
    small = np.stack([render(s, 160).image for s in sample_scenes(args.n, 0)])
    t_noresize = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        models[(160, True, False)].features(small)
        t_noresize.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedBackbone(models[(160, True, False)], root=tmp)
        t0 = time.perf_counter()
        cold = cached.features(images)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = CachedBackbone(models[(160, True, False)], root=tmp).features(images)
        t_warm = time.perf_counter() - t0
        assert np.array_equal(cold, warm)

    rows = []
    for (size, cl, whole), ts in times.items():
        rows.append({"image_size": size, "channels_last": cl,
                     "forward_chunk": models[(size, cl, whole)].forward_chunk,
                     "images_per_s": round(args.n / statistics.median(ts), 1),
                     "seconds": [round(t, 3) for t in ts]})
    res = {
        "command": f".venv/bin/python benchmarks/backbone_speed.py --n {args.n} "
                   f"--batch {args.batch} --threads {args.threads} --repeats {args.repeats}",
        "n_images": args.n, "input_px": 224, "batch_size": args.batch,
        "threads": args.threads, "feature_dim": models[(160, True, False)].feature_dim,
        "layers": list(models[(160, True, False)].layers),
        "features": rows,
        "images_per_s_160_from_160px_input": round(args.n / statistics.median(t_noresize), 1),
        "cache_cold_images_per_s": round(args.n / t_cold, 1),
        "cache_warm_images_per_s": round(args.n / t_warm, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "platform": platform.platform()},
        "recorded": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
