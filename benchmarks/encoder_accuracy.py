"""Held-out encoder accuracy of every synthetic subject (the embedded default encoder).

Run: .venv/bin/python benchmarks/encoder_accuracy.py   (fits each subject's encoder once;
later runs read the cache). Writes benchmarks/results/encoder_accuracy.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from braincause.datasets import SUBJECT_IDS, load_subject
from braincause.encoding.fit import fit_encoder


def main() -> None:
    rows = {}
    for sid in SUBJECT_IDS:
        s = fit_encoder(load_subject(sid)).summary
        rows[sid] = {k: s[k] for k in ("median_r", "median_r_over_sqrt_noise_ceiling",
                                       "median_noise_ceiling", "voxels_kept_by_filter",
                                       "n_voxels")}
        rows[sid]["median_r_in_planted_areas"] = s.get("median_r_in_planted_areas")
        print(sid, json.dumps(rows[sid]))
    out = Path(__file__).parent / "results" / "encoder_accuracy.json"
    out.write_text(json.dumps({"command": ".venv/bin/python benchmarks/encoder_accuracy.py",
                               "subjects": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
