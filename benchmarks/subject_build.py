"""Cold build and cached load of one synthetic subject.

In a fresh cache folder: builds synth-01's true brain and measured pool (cold), the
ground-truth intervention features of every concept (cold, subject-independent, in
2 worker processes), then loads the subject again in a new process (cached).
Writes benchmarks/results/subject_build.json.

Run: .venv/bin/python benchmarks/subject_build.py [--subject synth-01] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOAD = ("import time; t=time.perf_counter(); from braincause.datasets import load_subject; "
        "s=load_subject('{sid}'); s.responses.sum(); print(time.perf_counter()-t)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subject", default="synth-01")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["BRAINCAUSE_CACHE"] = cache
        from braincause.datasets import load_subject
        from braincause.synth.ground_truth import precompute, summarize

        t0 = time.perf_counter()
        subj = load_subject(args.subject)
        t_pool = time.perf_counter() - t0
        t0 = time.perf_counter()
        precompute(workers=args.workers)
        t_gt = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = summarize(subj)
        t_sum = time.perf_counter() - t0
        env = {**os.environ, "BRAINCAUSE_CACHE": cache}
        loads = [float(subprocess.run([sys.executable, "-c", LOAD.format(sid=args.subject)],
                                      env=env, capture_output=True, text=True,
                                      check=True).stdout) for _ in range(3)]
    res = {
        "command": f".venv/bin/python benchmarks/subject_build.py --subject {args.subject} "
                   f"--workers {args.workers}",
        "subject": args.subject, "n_voxels": subj.n_voxels, "n_images": subj.n_images,
        "cold_brain_and_pool_s": round(t_pool, 1),
        "cold_ground_truth_all_concepts_s": round(t_gt, 1),
        "ground_truth_of_all_concepts_for_this_subject_s": round(t_sum, 1),
        "cold_total_s": round(t_pool + t_gt + t_sum, 1),
        "cached_load_s_min_of_3_fresh_processes": round(min(loads), 2),
        "median_noise_ceiling": summary["median_noise_ceiling"],
        "cpu_count": os.cpu_count(),
    }
    out = Path(__file__).parent / "results" / "subject_build.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
