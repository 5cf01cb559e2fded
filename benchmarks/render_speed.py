"""Rendering speed of the synthetic world at 224 px.

Samples N free scenes (records only), then times rendering them to 224 px RGB
arrays in one process and in a pool of W worker processes (the machine's cores),
and the sampling itself. Writes benchmarks/results/render_speed.json.

Run: .venv/bin/python benchmarks/render_speed.py [--n 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from braincause.synth.render import render
from braincause.synth.sampler import sample_scenes


def _render_chunk(scenes):
    for s in scenes:
        render(s, 224)
    return len(scenes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    scenes = sample_scenes(args.n, 0)
    t_sample = time.perf_counter() - t0
    _render_chunk(scenes[:20])  # warm-up (fonts, imports)
    t0 = time.perf_counter()
    _render_chunk(scenes)
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in scenes[:500]:
        render(s, 224, masks=True)
    t_masks = time.perf_counter() - t0
    chunks = [scenes[i::args.workers * 8] for i in range(args.workers * 8)]
    with get_context("fork").Pool(args.workers) as pool:
        pool.map(_render_chunk, [c[:2] for c in chunks])  # warm-up
        t0 = time.perf_counter()
        done = sum(pool.map(_render_chunk, chunks))
        t_pool = time.perf_counter() - t0
    objs = np.mean([len(s.objects) for s in scenes])
    res = {
        "command": f".venv/bin/python benchmarks/render_speed.py --n {args.n} "
                   f"--workers {args.workers}",
        "n_scenes": args.n, "mean_objects_per_scene": round(float(objs), 2), "size_px": 224,
        "sample_scenes_per_s": round(args.n / t_sample, 1),
        "render_scenes_per_s_1_process": round(args.n / t_one, 1),
        "render_with_masks_scenes_per_s_1_process": round(min(500, args.n) / t_masks, 1),
        f"render_scenes_per_s_{args.workers}_processes": round(done / t_pool, 1),
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "machine": platform.machine(),
    }
    out = Path(__file__).parent / "results" / "render_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
