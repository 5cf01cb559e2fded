"""Wall time of the same sweep on the local engine and on Ray (2 CPUs).

The acceptance sweep's concepts (faces, food, sky, plate) in two subjects, each
``braincause sweep`` command timed end to end in a fresh output folder (for Ray this
includes starting and stopping the local cluster), the engines interleaved, after one
untimed warm-up run that fills the shared cache (subjects, encoders, stimuli)::

    PYTHONPATH=src python benchmarks/sweep_overhead.py --repeats 2 \\
        --subjects synth-01-mini synth-02-mini

Result: ``benchmarks/results/sweep_overhead.json`` (every run's wall time, the median
ratio ray / local, and whether the two engines' sweep.json agree apart from the run
block).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from mini import MINI, toml_text  # noqa: E402

CONCEPTS = ("faces", "food", "sky", "plate")


def _machine() -> dict:
    sys.path.insert(0, str(HERE.parent / "src"))
    from braincause.bench.perf import machine_info

    return machine_info()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", nargs="+", default=["synth-01-mini", "synth-02-mini"])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    cfg = {k: v for k, v in MINI.items() if k != "backends"}  # the built-in probe verifier
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        toml = Path(tmp) / "mini.toml"
        toml.write_text(toml_text(cfg))

        def sweep(engine: str, label: str) -> float:
            out = Path(tmp) / label
            cmd = [sys.executable, "-m", "braincause", "sweep", *CONCEPTS, "--subjects",
                   *a.subjects, "--out", str(out), "--config", str(toml), "--workers",
                   str(a.workers), "--engine", engine, "--quiet", "--n-spins", "1000"]
            t0 = time.time()
            subprocess.run(cmd, check=True, env=os.environ.copy())
            wall = time.time() - t0
            doc = json.loads((out / "sweep.json").read_text())
            return wall, {k: v for k, v in doc.items() if k != "run"}, doc["run"]

        sweep("local", "warm-up")
        docs = {}
        order = ["local", "ray"]
        for r in range(a.repeats):
            for engine in (order if r % 2 == 0 else order[::-1]):
                wall, stable, run = sweep(engine, f"{engine}-{r}")
                docs.setdefault(engine, stable)
                runs.append({"engine": engine, "repeat": r, "wall_s": round(wall, 1),
                             "task_s_sum": round(sum(run["task_s"].values()), 1),
                             "load_avg": [round(x, 2) for x in os.getloadavg()]})
                print(runs[-1], flush=True)
    med = {e: sorted(x["wall_s"] for x in runs if x["engine"] == e) for e in ("local", "ray")}
    mid = {e: v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
           for e, v in med.items()}
    res = {"command": "PYTHONPATH=src python benchmarks/sweep_overhead.py " +
                      " ".join(sys.argv[1:]),
           "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "concepts": list(CONCEPTS),
           "subjects": a.subjects, "workers": a.workers, "config": cfg, "runs": runs,
           "median_wall_s": mid, "ray_over_local": round(mid["ray"] / mid["local"], 3),
           "identical_sweep_json": docs["local"] == docs["ray"], "machine": _machine()}
    out = HERE / "results" / "sweep_overhead.json"
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps({k: res[k] for k in ("median_wall_s", "ray_over_local",
                                          "identical_sweep_json")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
