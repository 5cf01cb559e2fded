"""Before/after check of a refactor: every result a user sees must stay identical.

Runs ``braincause localize`` for faces, food and sky on synth-01 and ``braincause
benchmark --quick``, strips only what legitimately changes between runs (timestamps,
wall times, output paths), fingerprints every array in ``maps.npz`` and writes one
canonical JSON snapshot::

    .venv/bin/python benchmarks/refactor_equivalence.py snapshot --label before
    ... refactor ...
    .venv/bin/python benchmarks/refactor_equivalence.py snapshot --label after
    .venv/bin/python benchmarks/refactor_equivalence.py compare before after

``compare`` lists every path whose value differs (exit 1 when one does) and states a
``config_hash`` change separately (a renamed config field changes the hash and nothing
else). Snapshots go to ``benchmarks/results/refactor_equivalence/<label>.json``. The
cache (``$BRAINCAUSE_CACHE``) is shared between the two snapshots, so ``after`` also
checks that a refactored run reads the caches the old code wrote.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "refactor_equivalence"
CONCEPTS = ("faces", "food", "sky")
SUBJECT = "synth-01"
#: differences a refactor states on purpose (path suffix -> why); everything else must match
EXPECTED = {
    "/result/schema_version: only in after":
        "result.json gained schema_version (the run-folder contract, issue 14 item 2)",
    "benchmark_quick/rescoring_max_abs_diff: only in before":
        "the benchmark scores extra regions with localize's own stage function, so its "
        "re-scoring drift check is gone (issue 14 item 1)",
}
#: keys dropped anywhere in a document: they record when and how long, not what
VOLATILE = {"run", "created", "elapsed_s", "wall_s", "task_s_mean", "task_s_sum", "date",
            "history"}


def _strip(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def _maps_digest(path: Path) -> dict[str, str]:
    with np.load(path, allow_pickle=False) as z:
        return {k: hashlib.sha256(np.ascontiguousarray(z[k]).tobytes()
                                  + str(z[k].dtype).encode() + str(z[k].shape).encode()
                                  ).hexdigest()[:16] for k in sorted(z.files)}


def _json_digest(x: Any) -> dict[str, Any]:
    """Entry count and SHA-256 of a JSON document in canonical form (the stimulus
    manifest: thousands of entries, compared by digest)."""
    blob = json.dumps(x, sort_keys=True).encode()
    return {"n": len(x), "sha256": hashlib.sha256(blob).hexdigest()}


def _exe() -> str:
    return str(Path(sys.executable).with_name("braincause"))


def snapshot(label: str) -> Path:
    doc: dict[str, Any] = {"label": label, "localize": {}, "benchmark_quick": None}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for c in CONCEPTS:
            out = Path(tmp, c)
            subprocess.run([_exe(), "localize", c, "--subject", SUBJECT, "--out", str(out),
                            "--quiet"], check=True)
            res = json.loads((out / "result.json").read_text())
            manifest = json.loads((out / "stimuli" / "manifest.json").read_text())
            doc["localize"][c] = {"result": _strip(res), "maps": _maps_digest(out / "maps.npz"),
                                  "manifest": _json_digest(manifest)}
            print(f"{c}: {res['verdict']['verdict']}", flush=True)
        bout = Path(tmp, "bench")
        # a fresh record folder: the benchmark must recompute every task, not resume
        subprocess.run([_exe(), "benchmark", "--quick", "--out", str(bout), "--work",
                        str(Path(tmp, "work")), "--no-resume", "--quiet"], check=True)
        doc["benchmark_quick"] = _strip(json.loads((bout / "benchmark.json").read_text()))
    doc["wall_s_total"] = round(time.time() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{label}.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({doc['wall_s_total']} s)")
    return path


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'after' if k not in a else 'before'}")
            else:
                _diff(a[k], b[k], f"{path}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:80]} -> {json.dumps(b)[:80]}")


def compare(before: str, after: str) -> int:
    a = json.loads((RESULTS / f"{before}.json").read_text())
    b = json.loads((RESULTS / f"{after}.json").read_text())
    diffs: list[str] = []
    for part in ("localize", "benchmark_quick"):
        _diff(a[part], b[part], part, diffs)
    hash_changes = [d for d in diffs if d.split(":")[0].endswith("/config_hash")]
    stated = {d: why for d in diffs for key, why in EXPECTED.items() if d.endswith(key)}
    real = [d for d in diffs if d not in hash_changes and d not in stated]
    n_values = sum(1 for _ in _leaves(a["localize"])) + sum(1 for _ in _leaves(
        a["benchmark_quick"]))
    print(f"compared {n_values} values ({', '.join(CONCEPTS)} on {SUBJECT}: result.json, "
          f"maps.npz arrays, stimuli manifest digest; benchmark --quick: benchmark.json)")
    for d in hash_changes:
        print(f"config hash changed (a renamed config field): {d}")
    for d, why in stated.items():
        print(f"stated change: {d} ({why})")
    if real:
        print(f"{len(real)} differences:")
        for d in real[:200]:
            print("  " + d)
        return 1
    print("every other value identical (timestamps and wall times aside)")
    return 0


def _leaves(x: Any):
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, list):
        for v in x:
            yield from _leaves(v)
    else:
        yield x


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("--label", required=True)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if a.cmd == "snapshot":
        snapshot(a.label)
        return 0
    return compare(a.before, a.after)


if __name__ == "__main__":
    sys.exit(main())
