"""Calibration of ``localize`` on the null subject (no concept tuning anywhere).

On ``synth-null`` every discovery is a false positive, so the discovery rate over
many concept × seed runs estimates the verdict's false-positive rate; it should sit
at or below the nominal α.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from braincause.config import LocalizeConfig

#: A small configuration: every stage runs, ~10 s per warm run on 2 cores.
SMALL: dict[str, dict[str, Any]] = {
    "stimuli": {"n_positive_train": 40, "n_positive_eval": 24, "n_counter": 6,
                "n_negative_prompts": 5, "n_edit_positives_train": 12,
                "n_edit_positives_eval": 8, "n_edits": 4},
    "stats": {"n_baselines": 19, "n_permutations": 200, "n_bootstrap": 300},
    "retrieval": {"top_positive": 150, "max_positive": 40},
}


def null_calibration(concepts: Sequence[str], seeds: Sequence[int], *,
                     config: LocalizeConfig | None = None, subject: str = "synth-null",
                     progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run ``localize`` for every concept × seed on ``subject``; count the verdicts."""
    from braincause.pipeline import localize

    cfg = config or LocalizeConfig.from_dict(SMALL)
    runs = []
    t0 = time.time()
    for c in concepts:
        for s in seeds:
            r = localize(c, subject=subject, seed=s, config=cfg)
            d = r.to_dict()
            runs.append({"concept": c, "seed": s, "verdict": r.verdict,
                         "activation_verdict": d["activation_verdict"],
                         "p": {k: v["p"] for k, v in d["p_values"]["causal"].items()}})
            if progress:
                progress(f"{len(runs)}/{len(concepts) * len(seeds)} {c} seed {s}: {r.verdict}")
    n = len(runs)
    k = sum(r["verdict"] == "discovery" for r in runs)
    k_act = sum(r["activation_verdict"] == "discovery" for r in runs)
    counts: dict[str, int] = {}
    for r in runs:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    # exact one-sided binomial upper 95 % bound (Clopper-Pearson)
    from scipy.stats import beta

    upper = 1.0 if k == n else float(beta.ppf(0.95, k + 1, n - k))
    return {"subject": subject, "n_runs": n, "alpha": cfg.stats.alpha,
            "discoveries": k, "discovery_rate": k / n if n else math.nan,
            "discovery_rate_upper95": upper,
            "activation_region_discoveries": k_act, "verdicts": counts,
            "config": cfg.to_dict(), "seconds": round(time.time() - t0, 1), "runs": runs}


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - a script
    import argparse
    import sys

    from braincause.synth.concepts import CONCEPTS

    p = argparse.ArgumentParser(description="localize on synth-null: discovery rate")
    p.add_argument("--concepts", type=int, default=50, help="first N concepts (sorted)")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    names = sorted(CONCEPTS)[: a.concepts]
    res = null_calibration(names, list(range(a.seeds)),
                           progress=lambda m: print(m, file=sys.stderr, flush=True))
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k not in ("runs", "config")}, indent=1))
    return 0
