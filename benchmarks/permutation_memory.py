"""Peak memory and time of the permutation engine at the paper's scale.

    .venv/bin/python benchmarks/permutation_memory.py \
        --out benchmarks/results/permutation_memory.json
    .venv/bin/python benchmarks/permutation_memory.py --quick --out /tmp/permutation_memory.json

40,000 voxels × 1,000 images × 10,000 permutations, float64, one-sided, max-T:

* ``label``: ``label_permutation_max_t`` (Welch t, the default), 500 positives vs 500
  negatives;
* ``sign_flip``: ``sign_flip_max_t`` on 1,000 paired differences.

Each runs in a fresh Python process (:func:`braincause.bench.perf.measure_in_subprocess`):
the process builds its data, the peak resident set size is reset, then the test runs.
Reported: the data's size, the resident set before the test, its peak during the test,
the tracemalloc peak (numpy buffers allocated by the test), and the wall time. Each test
is also run with a quarter of the permutations (still more than one block of 2,048): a
bounded engine has the same peak for both. The reference points are an unchunked
``(n_permutations, n_voxels)`` float64 array (3.2 GB here), which an engine computing
every permutation at once holds several of, and MNE's measured peak in
``results/permutation_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from braincause.bench.perf import load_average, machine_info, measure_in_subprocess

SIZES = {
    "full": {"images": 1000, "voxels": 40000, "perms": 10000},
    "quick": {"images": 200, "voxels": 4000, "perms": 500},
}


def memory_target(case: str, images: int, voxels: int, perms: int):
    """Build the data of ``case`` and return the test to measure (in the child process)."""
    from braincause.stats import label_permutation_max_t, sign_flip_max_t

    rng = np.random.default_rng(0)
    data = rng.standard_normal((images, voxels)) + 0.5 * rng.standard_normal((images, 1))
    data[:, : voxels // 50] += 0.2
    if case == "label":
        a, b = data[: images // 2], data[images // 2:]

        def work() -> dict[str, Any]:
            res = label_permutation_max_t(a, b, n_permutations=perms, tail=1, random_state=0)
            return {"n_significant_fwer_0.05": int((res.p_fwer <= 0.05).sum())}
    else:
        def work() -> dict[str, Any]:
            res = sign_flip_max_t(data, n_permutations=perms, tail=1, random_state=0)
            return {"n_significant_fwer_0.05": int((res.p_fwer <= 0.05).sum())}
    return work


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test, < 30 s)")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    args = ap.parse_args(argv)
    sz = SIZES["quick" if args.quick else "full"]
    mib = 2**20
    res: dict[str, Any] = {
        "command": " ".join([".venv/bin/python benchmarks/permutation_memory.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S%z"), "mode": "quick" if args.quick else "full",
        "sizes": sz, "machine": machine_info(), "load_average_start": load_average(),
        "reference_mib": {
            "data_float64": round(sz["images"] * sz["voxels"] * 8 / mib, 1),
            "unchunked_perms_x_voxels_float64": round(sz["perms"] * sz["voxels"] * 8 / mib, 1),
        },
        "runs": {},
    }
    target = f"{Path(__file__).resolve()}:memory_target"
    for case in ("label", "sign_flip"):
        for perms in (sz["perms"] // 4, sz["perms"]):
            r = measure_in_subprocess(target, {"case": case, **sz, "perms": perms})
            r["n_permutations"] = perms
            r["peak_over_unchunked"] = round(
                r["peak_rss_mib"] / (perms * sz["voxels"] * 8 / mib), 4)
            res["runs"][f"{case}:{perms}"] = r
            print(case, perms, json.dumps(r), flush=True)
    res["load_average_end"] = load_average()
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
