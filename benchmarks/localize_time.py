"""Wall time of ``braincause localize`` cold (empty cache) and warm (everything cached).

    .venv/bin/python benchmarks/localize_time.py --concept faces --subject synth-01 \
        --out benchmarks/results/localize_time.json

Cold: a fresh, empty $BRAINCAUSE_CACHE, so the subject, its encoder, the verifier, the
caption index, the baseline concepts' stimuli and the concept's stimuli are all built.
Warm: the same command again (everything read from the cache). Each run is a separate
process, timed from outside, like a user's shell.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - t, p.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concept", default="faces")
    ap.add_argument("--subject", default="synth-01")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    exe = str(Path(sys.executable).with_name("braincause"))
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "BRAINCAUSE_CACHE": cache}
        cmd = [exe, "localize", a.concept, "--subject", a.subject, "--out", outdir, "--quiet"]
        cold, _ = run(cmd, env)
        warm, _ = run(cmd, env)
        verdict = json.loads(Path(outdir, "result.json").read_text())["verdict"]["verdict"]
    res = {"command": " ".join(["braincause", *cmd[1:-3]]), "cold_s": round(cold, 1),
           "warm_s": round(warm, 1), "verdict": verdict, "cpus": os.cpu_count(),
           "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
