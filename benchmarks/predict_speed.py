"""Prediction throughput of RidgeEncoder against the plain numpy matmul bound.

Shapes as at the paper's scale: 2,000 images × 1,656 features (the default
MobileNetV2 features) × 40,000 voxels, float32. Times ``RidgeEncoder.predict``
(feature scaling, voxel- and image-chunked matmul, intercept) and a single
``X @ W`` with numpy on the same data, in one run; reports GFLOP/s and the
ratio. Writes benchmarks/results/predict_speed.json.

Run: .venv/bin/python benchmarks/predict_speed.py [--voxels 40000] [--images 2000]
         [--quick] [--out benchmarks/results/predict_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from braincause.bench.perf import load_average, machine_info
from braincause.encoding.ridge import RidgeEncoder


def best_of(f, n=3):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--features", type=int, default=1656)
    ap.add_argument("--voxels", type=int, default=40000)
    ap.add_argument("--quick", action="store_true", help="200 images × 4,000 voxels")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "predict_speed.json"))
    args = ap.parse_args()
    if args.quick:
        args.images, args.voxels = 200, 4000
    load_start = load_average()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.images, args.features), dtype=np.float32)
    W = rng.standard_normal((args.features, args.voxels), dtype=np.float32) * 0.01
    enc = RidgeEncoder()
    enc.coef_, enc.intercept_ = W, np.zeros(args.voxels, np.float32)
    enc.x_mean_ = np.zeros(args.features, np.float32)
    enc.x_scale_ = np.ones(args.features, np.float32)
    enc.n_features_in_, enc.n_targets_ = args.features, args.voxels
    flops = 2.0 * args.images * args.features * args.voxels
    t_np = best_of(lambda: X @ W)
    t_enc = best_of(lambda: enc.predict(X))
    res = {
        "command": f".venv/bin/python benchmarks/predict_speed.py --images {args.images} "
                   f"--voxels {args.voxels}",
        "shapes": {"images": args.images, "features": args.features, "voxels": args.voxels},
        "numpy_matmul_gflops": round(flops / t_np / 1e9, 1),
        "ridge_encoder_predict_gflops": round(flops / t_enc / 1e9, 1),
        "ratio_predict_over_matmul": round(t_np / t_enc, 3),
        "numpy_matmul_s": round(t_np, 3), "predict_s": round(t_enc, 3),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S%z"), "machine": machine_info(),
        "load_average_start": load_start, "load_average_end": load_average(),
    }
    out = Path(args.out)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
