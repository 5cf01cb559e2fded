"""Fixed costs of the engines: starting them, and dispatching one trivial task.

    PYTHONPATH=src python benchmarks/engine_dispatch.py --tasks 300 --workers 2

For each engine: the time to start it and run a first task (for Ray: starting a local
cluster and its actors), then the mean time per task over ``--tasks`` trivial tasks
(``abs``). Result: ``benchmarks/results/engine_dispatch.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    from braincause.engine import make_engine

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    res = {"command": "PYTHONPATH=src python benchmarks/engine_dispatch.py " +
                      " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "workers": a.workers, "tasks": a.tasks, "engines": {}}
    for name in ("local", "ray"):
        t0 = time.time()
        with make_engine(name, workers=a.workers) as e:
            list(e.run(abs, [-1]))
            t1 = time.time()
            list(e.run(abs, list(range(-a.tasks, 0))))
            t2 = time.time()
        res["engines"][name] = {"start_and_first_task_s": round(t1 - t0, 2),
                                "per_task_ms": round((t2 - t1) / a.tasks * 1000, 3)}
        print(name, res["engines"][name], flush=True)
    res["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    (HERE / "results" / "engine_dispatch.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
