"""The figure and table of docs/sweep.md's "Faces in synth-01…04" from a sweep folder.

    braincause sweep faces --subjects synth-01 synth-02 synth-03 synth-04 --out SWEEP
    python docs/make_sweep_figures.py SWEEP faces

writes docs/images/sweep-<concept>-group.png (the group map on the cortex, the planted
face areas outlined) and prints the consistency table as Markdown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    from braincause.datasets import load_subject
    from braincause.report.surface import plot_surface_map
    from braincause.synth.cortex import cortex_for

    root, query = Path(argv[0]), argv[1]
    doc = json.loads((root / "sweep.json").read_text())
    c = doc["consistency"]["concepts"][query]
    g = np.load(root / c["group_map"]["file"])
    cortex = cortex_for(g["vertex"], g["hemi"])
    subj = load_subject(c["subjects"][0])
    faces = {k: v for k, v in subj.roi_labels.items() if k in ("FFA", "OFA", "pSTS-face")}
    frac = g["fraction"].astype(float)
    out = HERE / "images" / f"sweep-{query}-group.png"
    plot_surface_map(cortex, np.where(frac > 0, frac, np.nan),
                     title=f"{query}: fraction of {', '.join(c['subjects'])} whose causal "
                           "region holds the vertex (face areas of synth-01 outlined)",
                     cmap="viridis", symmetric=False, outline=faces, out=out)
    print(f"wrote {out}\n")
    print("| subjects | Dice of regions | spin p | r of S_causal | spin p |")
    print("|---|---|---|---|---|")
    for p in c["pairs"]:
        d, r = p["dice"], p["correlation"]
        print(f"| {' – '.join(p['subjects'])} | {d['statistic']:.3f} | {d['p']:.4f} | "
              f"{r['statistic']:.3f} | {r['p']:.4f} |")
    print(f"\nmean Dice {c['mean_dice']:.3f}, mean r {c['mean_correlation']:.3f}; "
          f"{doc['consistency']['n_spins']} rotations; voxels in every subject's region "
          f"{c['group_map']['voxels_in_all']}, in any {c['group_map']['voxels_in_any']}")
    for r in doc["tasks"]:
        truth = (r.get("ground_truth") or {}).get("dice")
        print(f"- {r['subject']}: {r.get('verdict')}, q {r.get('q')}, region "
              f"{r.get('region_size')}, Dice with truth {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
