"""One concept end to end, split by stage: where ``localize`` spends its time.

    BRAINCAUSE_CACHE=/tmp/bc-cache .venv/bin/python benchmarks/localize_stages.py \
        --concept faces --subject synth-01 --out benchmarks/results/localize_stages.json
    .venv/bin/python benchmarks/localize_stages.py --quick --out /tmp/localize_stages.json

Runs :func:`braincause.pipeline.localize` in this process (writing its outputs to a
temporary folder) and times the gaps between its progress messages. Stages the
pipeline does not announce are marked by wrapping the calls that start them (the
encoder fit/load, the concept's stimuli, the first region proposal, each permutation
test); :func:`braincause.bench.perf.split_stages` turns the timed events into
seconds per stage. The first run pays the lazy imports (as a fresh ``braincause``
process does); later runs (``--repeats``) show the steady state.

``--cold`` first runs once more in a fresh, empty cache folder (the subject, encoder,
verifier, caption index and every stimulus are built: minutes). ``--quick`` uses the
small configuration of :data:`braincause.bench.null.SMALL` with 3 baseline concepts
and no report, once.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from braincause.bench.perf import load_average, machine_info, split_stages


class Timeline:
    """Collects ``(time, message)`` events and wraps pipeline calls with markers."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str]] = []
        self.seen: set[str] = set()

    def say(self, msg: str) -> None:
        self.events.append((time.perf_counter(), msg))

    def wrap(self, module: Any, name: str, start: str, end: str | None = None,
             once: bool = False) -> None:
        original = getattr(module, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mark = not (once and name in self.seen)
            self.seen.add(name)
            if mark:
                self.say(start)
            try:
                return original(*args, **kwargs)
            finally:
                if mark and end is not None:
                    self.say(end)

        setattr(module, name, wrapper)
        self._restore.append((module, name, original))

    def __enter__(self) -> Timeline:
        import braincause.encoding.fit as fit
        import braincause.regions as regions
        import braincause.stats as stats
        import braincause.stimuli.dataset as dataset

        self._restore: list[tuple[Any, str, Any]] = []
        self.wrap(fit, "fit_encoder", "@encoder:start", "@encoder:end")
        self.wrap(dataset, "build_causal_dataset", "@stimuli:start", "@stimuli:end", once=True)
        self.wrap(regions, "propose_region", "@regions:start", once=True)
        self.wrap(stats, "sign_flip_max_t", "@permutation:start", "@permutation:end")
        self.wrap(stats, "label_permutation_max_t", "@permutation:start", "@permutation:end")
        return self

    def __exit__(self, *exc: object) -> None:
        for module, name, original in reversed(self._restore):
            setattr(module, name, original)


def run_once(concept: str, subject: str, config: Any, report: bool = True) -> dict[str, Any]:
    from braincause.pipeline import localize

    with Timeline() as tl, tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        tl.say("@start")
        result = localize(concept, subject=subject, config=config, out=out, progress=tl.say,
                          report=report)
        end = time.perf_counter()
    # the "@start" marker opens "resolve" (no message comes before the concept's)
    events = [(t, "concept:" if m == "@start" else m) for t, m in tl.events]
    stages = split_stages(events, end)
    return {"wall_s": round(end - t0, 2), "verdict": result.verdict,
            "stages_s": {k: round(v, 3) for k, v in stages.items()},
            "events": [[round(t - t0, 3), m] for t, m in tl.events]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concept", default="faces")
    ap.add_argument("--subject", default="synth-01")
    ap.add_argument("--repeats", type=int, default=2, help="warm runs in this process")
    ap.add_argument("--cold", action="store_true", help="also one run in a fresh cache")
    ap.add_argument("--quick", action="store_true",
                    help="small configuration (braincause.bench.null.SMALL), one warm run")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    args = ap.parse_args(argv)
    config = None
    if args.quick:
        from braincause.bench.null import SMALL
        from braincause.config import LocalizeConfig

        config = LocalizeConfig.from_dict({**SMALL, "stats": {**SMALL["stats"],
                                                              "n_baselines": 3}})
        args.repeats = 1
    res: dict[str, Any] = {
        "command": " ".join([".venv/bin/python benchmarks/localize_stages.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S%z"), "concept": args.concept,
        "subject": args.subject,
        "config": "SMALL, 3 baselines, no report" if args.quick else "default (paper sizes)",
        "cache": os.environ.get("BRAINCAUSE_CACHE", "~/.cache/braincause"),
        "machine": machine_info(), "load_average_start": load_average(),
    }
    if args.cold:
        previous = os.environ.get("BRAINCAUSE_CACHE")
        with tempfile.TemporaryDirectory() as cache:
            os.environ["BRAINCAUSE_CACHE"] = cache
            try:
                res["cold"] = run_once(args.concept, args.subject, config, not args.quick)
            finally:
                if previous is None:
                    os.environ.pop("BRAINCAUSE_CACHE", None)
                else:
                    os.environ["BRAINCAUSE_CACHE"] = previous
        print("cold:", json.dumps(res["cold"]["stages_s"]), flush=True)
        res["load_average_after_cold"] = load_average()
    res["warm"] = []
    for _ in range(args.repeats):
        run = run_once(args.concept, args.subject, config, not args.quick)
        res["warm"].append(run)
        print(f"warm: {run['wall_s']} s", json.dumps(run["stages_s"]), flush=True)
    res["load_average_end"] = load_average()
    Path(args.out).write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
