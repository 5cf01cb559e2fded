"""Where the causal gate's controls sit for the encoder: predicted region means and
distance from the measured images, per control kind.

    .venv/bin/python benchmarks/gate_controls.py --subject synth-01 \
        --concepts table human_face printed_text animal_face food \
        --out benchmarks/results/verdict-gate/controls-synth-01.json

For each concept, ``localize`` at ``LocalizeConfig``'s defaults (no report); on the EVAL
split, for the positives, every control kind (pixel scramble in place, phase scramble,
neutral shape-and-colour stand-in, ``cue:<object>`` attribute stand-ins) and the edits
(removal / replacement), the causal region's mean predicted response and how far the
images lie from the measured images the encoder was fitted on: backbone features
standardised on the measured TRAIN images, 100 principal components of those, mean
distance to the 5 nearest measured TRAIN images, against the 99th percentile of the same
distance for the measured TEST images (``ood`` = fraction beyond it; ``d/thr`` = median
ratio). A control far outside the measured images would make the encoder's prediction
for it an extrapolation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def rows_of(res) -> dict[str, dict[str, float]]:
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    a = res.artifacts
    ctx, ds = a.ctx, a.dataset
    X = ctx.pool_features
    tr, te = ctx.subj.train_indices, ctx.subj.test_indices
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-6
    pca = PCA(100, random_state=0).fit((X[tr] - mu) / sd)
    nn = NearestNeighbors(n_neighbors=5).fit(pca.transform((X[tr] - mu) / sd))
    ref = nn.kneighbors(pca.transform((X[te] - mu) / sd))[0].mean(1)
    thr = float(np.quantile(ref, 0.99))
    dist = nn.kneighbors(pca.transform((ds.features - mu) / sd))[0].mean(1)
    mask = np.zeros(ctx.n_voxels, bool)
    mask[res.region] = True
    ym = a.evidence.Y[:, mask].mean(1)
    s = ds.scoring_sets("eval")
    groups = {"positives": s["pos"]}
    kinds = ds.counter[s["control"]]
    for k in sorted(set(kinds)):
        groups[f"control {k}"] = s["control"][kinds == k]
    rem = np.asarray(s["edit_removal"], bool)
    groups["edit removal"] = s["edit"][rem]
    groups["edit replacement"] = s["edit"][~rem]
    return {g: {"n": len(i), "region_mean": round(float(ym[i].mean()), 4),
                "ood": round(float((dist[i] > thr).mean()), 4),
                "median_distance_ratio": round(float(np.median(dist[i] / thr)), 4)}
            for g, i in groups.items() if len(i)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subject", default="synth-01")
    ap.add_argument("--concepts", nargs="+", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    from braincause.pipeline.run import localize

    doc = {"subject": args.subject, "concepts": {}}
    for c in args.concepts:
        res = localize(c, subject=args.subject, report=False, followup=False)
        doc["concepts"][c] = {"verdict": res.verdict, "groups": rows_of(res)}
        print(c, res.verdict, flush=True)
        for g, r in doc["concepts"][c]["groups"].items():
            print(f"  {g:28s} {r['region_mean']:+.3f}  ood {r['ood']:.2f}  "
                  f"d/thr {r['median_distance_ratio']:.2f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
