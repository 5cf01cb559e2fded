"""Regenerate the subject tables in docs/subjects.md and docs/images/synth-01-areas.png.

Run: .venv/bin/python docs/make_subjects_doc.py   (builds the subjects on first use)
"""

from __future__ import annotations

import re
from pathlib import Path

from braincause.datasets import SUBJECT_IDS, load_subject
from braincause.report.surface import plot_areas
from braincause.synth.ground_truth import precompute, summarize

DOC = Path(__file__).parent / "subjects.md"
BEGIN, END = "<!-- subject-tables:begin -->", "<!-- subject-tables:end -->"


def tables() -> str:
    precompute(workers=2)
    rows = [summarize(load_subject(s)) for s in SUBJECT_IDS]
    out = ["| subject | voxels | median noise ceiling (5–95 %) | planted areas | decoys | "
           "concepts with non-empty / empty ground truth |", "|---|---|---|---|---|---|"]
    for r in rows:
        p = sum(a["kind"] == "planted" for a in r["areas"])
        q = sum(a["kind"] == "decoy" for a in r["areas"])
        ne = sum(v > 0 for v in r["ground_truth_voxels"].values())
        lo, hi = r["noise_ceiling_5_95"]
        out.append(f"| {r['subject']} | {r['n_voxels']} | {r['median_noise_ceiling']:.2f} "
                   f"({lo:.2f}–{hi:.2f}) | {p} | {q} | {ne} / {len(r['empty_ground_truth'])} |")
    out += ["", "Ground-truth voxel counts per concept (0 = no representation in that subject):",
            "", "| concept | " + " | ".join(r["subject"] for r in rows) + " |",
            "|---|" + "---|" * len(rows)]
    for name in sorted(rows[0]["ground_truth_voxels"]):
        out.append(f"| {name} | "
                   + " | ".join(str(r["ground_truth_voxels"][name]) for r in rows) + " |")
    return "\n".join(out)


def main() -> None:
    text = DOC.read_text()
    new = f"{BEGIN}\n{tables()}\n{END}"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: new, text, flags=re.S)
    DOC.write_text(text)
    s = load_subject("synth-01")
    plot_areas(s.cortex, s.roi_labels, kinds=s.area_kinds(),
               title="synth-01: planted concept areas and cue-only decoys",
               out=DOC.parent / "images" / "synth-01-areas.png")
    print(f"updated {DOC} and images/synth-01-areas.png")


if __name__ == "__main__":
    main()
