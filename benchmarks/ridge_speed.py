"""Ridge fitting: RidgeEncoder against scikit-learn RidgeCV and himalaya, same data, one run.

    .venv/bin/python benchmarks/ridge_speed.py --out benchmarks/results/ridge_speed.json
    .venv/bin/python benchmarks/ridge_speed.py --quick --out /tmp/ridge_speed.json

Synthetic data shaped like the embedded default: 3,000 training images × 1,656
features (correlated, like CNN features) → 6,214 voxels (one synthetic subject),
then 40,000 voxels (the paper's scale), float32; 1,000 further images to compare
predictions. The same 15 alphas (``braincause.encoding.ridge.DEFAULT_ALPHAS``), one
alpha per voxel, for every contender:

* ``ours``: ``RidgeEncoder(cv=5).fit`` (standardises the features itself);
* ``himalaya``: ``himalaya.ridge.RidgeCV`` called directly on the standardised
  features, 5 unshuffled folds, ``local_alpha=True`` - the solver ours wraps, so the
  difference is our overhead;
* ``sklearn``: ``sklearn.linear_model.RidgeCV(alpha_per_target=True)`` on the
  standardised features. scikit-learn only offers a per-target alpha with its
  efficient leave-one-out CV, so it chooses alphas by LOO rather than 5-fold: its
  predictions are compared by agreement and held-out accuracy, not identity.

Fits are interleaved and repeated; medians and ratios (theirs / ours) come from one run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from braincause.bench.perf import interleave, load_average, machine_info, summarize
from braincause.encoding.ridge import DEFAULT_ALPHAS, RidgeEncoder

SIZES = {
    "full": {"train": 3000, "test": 1000, "features": 1656, "voxels": [6214, 40000],
             "repeats": 2, "sklearn_max_voxels": 40000},
    "quick": {"train": 300, "test": 100, "features": 64, "voxels": [200], "repeats": 2,
              "sklearn_max_voxels": 200},
}


def make_data(n: int, p: int, v: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated features (n, p) and responses (n, v) with voxel SNRs from 0.05 to 2."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 64), dtype=np.float32)
    X = latent @ rng.standard_normal((64, p), dtype=np.float32) / 8.0
    X += rng.standard_normal((n, p), dtype=np.float32)
    W = rng.standard_normal((p, v), dtype=np.float32) / np.sqrt(p)
    signal = X @ W
    signal /= signal.std(axis=0)
    snr = np.exp(rng.uniform(np.log(0.05), np.log(2.0), v)).astype(np.float32)
    Y = np.sqrt(snr) * signal + rng.standard_normal((n, v), dtype=np.float32)
    return X, Y


def colwise_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = (a - a.mean(0)) / a.std(0)
    b = (b - b.mean(0)) / b.std(0)
    return (a * b).mean(0)


def fit_ours(X, Y):
    return RidgeEncoder(alphas=DEFAULT_ALPHAS, cv=5).fit(X, Y)


def fit_himalaya(X, Y):
    from himalaya.backend import set_backend
    from himalaya.ridge import RidgeCV
    from sklearn.model_selection import KFold

    set_backend("numpy")
    return RidgeCV(alphas=np.asarray(DEFAULT_ALPHAS), cv=KFold(5, shuffle=False),
                   fit_intercept=True,
                   solver_params={"local_alpha": True, "n_targets_batch": 4096,
                                  "warn": False}).fit(X, Y)


def fit_sklearn(X, Y):
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.asarray(DEFAULT_ALPHAS), alpha_per_target=True).fit(X, Y)


def run_size(sz: dict[str, Any], v: int) -> dict[str, Any]:
    n, m, p = sz["train"], sz["test"], sz["features"]
    X, Y = make_data(n + m, p, v)
    mu, sd = X[:n].mean(0), X[:n].std(0)
    Xs = (X - mu) / sd  # the standardised features ours computes internally
    Xtr, Ytr, Xte, Yte = X[:n], Y[:n], X[n:], Y[n:]
    contenders = {"ours": lambda: fit_ours(Xtr, Ytr),
                  "himalaya": lambda: fit_himalaya(Xs[:n], Ytr)}
    if v <= sz["sklearn_max_voxels"]:
        contenders["sklearn"] = lambda: fit_sklearn(Xs[:n], Ytr)
    models: dict[str, Any] = {}

    def keep(name):
        def run():
            models[name] = contenders[name]()
        return run

    times = interleave({k: keep(k) for k in contenders}, sz["repeats"])
    summary = {k: summarize(t) for k, t in times.items()}
    pred = {"ours": models["ours"].predict(Xte),
            "himalaya": np.asarray(models["himalaya"].predict(Xs[n:]), np.float32)}
    if "sklearn" in models:
        pred["sklearn"] = models["sklearn"].predict(Xs[n:]).astype(np.float32)
    out: dict[str, Any] = {
        "shape": {"train_images": n, "test_images": m, "features": p, "voxels": v},
        "times": summary,
        "ratio_himalaya_over_ours": round(summary["himalaya"]["median_s"]
                                          / summary["ours"]["median_s"], 3),
        "held_out_median_r": {k: round(float(np.median(colwise_r(pv, Yte))), 4)
                              for k, pv in pred.items()},
    }
    scale = float(pred["ours"].std())
    agree = {}
    for other in [k for k in pred if k != "ours"]:
        r = colwise_r(pred["ours"], pred[other])
        agree[other] = {"median_voxel_r": round(float(np.median(r)), 6),
                        "min_voxel_r": round(float(r.min()), 6),
                        "max_abs_diff_over_pred_sd": float(np.abs(pred["ours"] - pred[other]).max()
                                                           / scale)}
    a_ours = models["ours"].best_alphas_
    agree["himalaya"]["same_alpha_share"] = float(
        np.mean(np.isclose(a_ours, np.asarray(models["himalaya"].best_alphas_), rtol=1e-4)))
    if "sklearn" in models:
        out["ratio_sklearn_over_ours"] = round(summary["sklearn"]["median_s"]
                                               / summary["ours"]["median_s"], 3)
        agree["sklearn"]["same_alpha_share"] = float(
            np.mean(np.isclose(a_ours, models["sklearn"].alpha_, rtol=1e-4)))
    else:
        out["sklearn"] = f"not run above {sz['sklearn_max_voxels']} voxels"
    out["prediction_agreement_with_ours"] = agree
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test, < 30 s)")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    ap.add_argument("--voxels", type=int, nargs="*", help="voxel counts (default 6214 40000)")
    args = ap.parse_args(argv)
    sz = dict(SIZES["quick" if args.quick else "full"])
    if args.voxels:
        sz["voxels"] = args.voxels
    import himalaya
    import sklearn

    t0 = time.time()
    res: dict[str, Any] = {
        "command": " ".join([".venv/bin/python benchmarks/ridge_speed.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S%z"), "mode": "quick" if args.quick else "full",
        "sizes": sz, "alphas": [float(a) for a in DEFAULT_ALPHAS], "machine": machine_info(),
        "versions": {"himalaya": himalaya.__version__, "sklearn": sklearn.__version__},
        "load_average_start": load_average(), "runs": [],
    }
    for v in sz["voxels"]:
        r = run_size(sz, v)
        res["runs"].append(r)
        print(json.dumps(r), flush=True)
        res["load_average_end"] = load_average()
        res["elapsed_s"] = round(time.time() - t0, 1)
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")  # after every size
    return 0


if __name__ == "__main__":
    sys.exit(main())
