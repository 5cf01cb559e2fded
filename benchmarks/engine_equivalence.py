"""The benchmark's records do not depend on where its tasks run.

Runs the same small ground-truth benchmark (2 concepts on the mini subject
synth-01-mini, tests/test_benchmark.py's TINY configuration) with a given source tree
and engine, in a fresh work folder, and writes its per-task records without timings::

    # before the engine layer (main at 6fa21be), its own process pool, 2 workers
    PYTHONPATH=OLD/src python benchmarks/engine_equivalence.py run --label pool-before
    # after: the local engine (2 workers) and the Ray engine (local cluster, 2 CPUs)
    PYTHONPATH=src python benchmarks/engine_equivalence.py run --label local
    PYTHONPATH=src python benchmarks/engine_equivalence.py run --label ray --engine ray
    python benchmarks/engine_equivalence.py compare pool-before local ray

Every run shares ``$BRAINCAUSE_CACHE`` (the stimuli are content-keyed, so a later run
reads what an earlier one built; the records are recomputed: ``resume=False``).
Results: ``benchmarks/results/engine/<label>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "engine"
TIMINGS = {"localize_s", "elapsed_s", "resumed"}
TINY = {
    "stimuli": {"n_positive_train": 16, "n_positive_eval": 12, "n_counter": 3,
                "n_negative_prompts": 3, "n_edit_positives_train": 6,
                "n_edit_positives_eval": 4, "n_edits": 2, "verifier": "oracle"},
    "stats": {"n_baselines": 5, "n_permutations": 50, "n_bootstrap": 50},
    "retrieval": {"top_positive": 80, "max_positive": 24},
}


def run(label: str, engine: str, workers: int) -> None:
    from braincause.bench import groundtruth as gt

    kw = {"engine": engine} if engine != "pool" else {}
    with tempfile.TemporaryDirectory() as work:
        t0 = time.time()
        res = gt.run_benchmark(concepts=("human_face", "sky"), subjects=("synth-01-mini",),
                               null_subject=None, config=TINY, workers=workers, work=work,
                               resume=False, **kw)
        wall = time.time() - t0
        recs = {}
        for p in sorted(Path(work, "tasks").rglob("*.json")):
            r = json.loads(p.read_text())
            recs[p.relative_to(work).as_posix()] = {k: v for k, v in r.items()
                                                    if k not in TIMINGS}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"label": label, "engine": engine, "workers": workers,
           "command": " ".join(sys.argv), "wall_s": round(wall, 1),
           "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "methods": res["methods"], "records": recs}
    (RESULTS / f"{label}.json").write_text(json.dumps(out, indent=1, sort_keys=True))
    print(f"{label}: {len(recs)} records, {wall:.0f} s")


def compare(labels: list[str]) -> int:
    docs = [json.loads((RESULTS / f"{lb}.json").read_text()) for lb in labels]
    ref = docs[0]
    bad = 0
    for d in docs[1:]:
        same = d["records"] == ref["records"] and d["methods"] == ref["methods"]
        bad += not same
        print(f"{d['label']} vs {ref['label']}: {'identical' if same else 'DIFFERENT'} "
              f"({len(d['records'])} records, methods block too)")
    return int(bad > 0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--engine", default="local", choices=("pool", "local", "ray"),
                   help="pool: a tree from before the engine layer (no engine argument)")
    r.add_argument("--workers", type=int, default=2)
    c = sub.add_parser("compare")
    c.add_argument("labels", nargs="+")
    a = p.parse_args()
    if a.cmd == "run":
        run(a.label, a.engine, a.workers)
        return 0
    return compare(a.labels)


if __name__ == "__main__":
    sys.exit(main())
