"""The voxelwise permutation engine against MNE and nilearn: same data, one run.

    .venv/bin/python benchmarks/permutation_speed.py \
        --out benchmarks/results/permutation_speed.json
    .venv/bin/python benchmarks/permutation_speed.py --quick --out /tmp/permutation_speed.json

Cases (defaults; ``--quick`` shrinks them to finish in seconds):

* ``sign_flip_sampled``: one-sample sign-flip max-T, 50 paired differences × 40,000
  voxels, 10,000 random sign patterns, two-sided. Ours (``sign_flip_max_t``) against
  ``mne.stats.permutation_t_test``. Their random patterns differ, so the p-values are
  compared twice: ours with our own patterns against MNE's, statistically (Monte-Carlo
  error); and ours fed MNE's own patterns (drawn again from the same seed with MNE's
  ``_get_1samp_orders``) through the engine's private entry point, which must give
  MNE's p-values and null exactly. Ours is also timed with the BLAS held to one
  thread (``ours_blas_1_thread``).
* ``sign_flip_exact_two_sided`` (n = 14) and ``sign_flip_exact_one_sided`` (n = 12,
  ``max_stat="abs"``, MNE's one-sided null): every sign pattern enumerated by both;
  the p-values must be identical (to 1e-10).
* ``label_permutation``: two-sample max-T, 50 vs 50 images × 40,000 voxels, 1,000
  relabellings, one-sided, pooled-variance t (what an OLS t with an intercept is).
  Ours (``label_permutation_max_t(equal_var=True)``) against
  ``nilearn.mass_univariate.permuted_ols``; p-values compared statistically with our
  own relabellings, and exactly with nilearn's relabellings replayed (its
  ``RandomState`` stream re-drawn) through the private entry point. Our default
  (Welch) t is timed too.

Times are medians of interleaved repeats in this process; peak memory (resident set
and tracemalloc) comes from one fresh process per contender
(:func:`braincause.bench.perf.measure_in_subprocess`). Ratios are MNE's or nilearn's
median time over ours, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from braincause.bench.perf import (
    interleave,
    load_average,
    machine_info,
    measure_in_subprocess,
    summarize,
)

SIZES = {
    "full": {"n": 50, "voxels": 40000, "perms": 10000, "exact_n0": 14, "exact_n1": 12,
             "n_group": 50, "label_perms": 1000, "repeats": 3},
    "quick": {"n": 30, "voxels": 3000, "perms": 500, "exact_n0": 10, "exact_n1": 9,
              "n_group": 20, "label_perms": 200, "repeats": 2},
}
SEED = 0


# ---------------------------------------------------------------- data and contenders
def paired_differences(n: int, voxels: int, seed: int = SEED) -> np.ndarray:
    """(n, voxels): unit noise, a shared per-row offset (spatial correlation) and an
    effect of 0.8 in the first 2 % of voxels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, voxels)) + 0.5 * rng.standard_normal((n, 1))
    x[:, : max(1, voxels // 50)] += 0.8
    return x


def two_groups(n_group: int, voxels: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two (n_group, voxels) groups; group a is higher by 0.8 in the first 2 % of voxels."""
    rng = np.random.default_rng(seed + 1)
    a = rng.standard_normal((n_group, voxels)) + 0.5 * rng.standard_normal((n_group, 1))
    b = rng.standard_normal((n_group, voxels)) + 0.5 * rng.standard_normal((n_group, 1))
    a[:, : max(1, voxels // 50)] += 0.8
    return a, b


def ours_sign_flip(x: np.ndarray, perms: int, tail: int, max_stat: str = "signed"):
    from braincause.stats import sign_flip_max_t

    return sign_flip_max_t(x, n_permutations=perms, tail=tail, max_stat=max_stat,
                           random_state=SEED)


def mne_sign_flip(x: np.ndarray, perms: int, tail: int):
    from mne.stats import permutation_t_test

    return permutation_t_test(x, n_permutations=perms, tail=tail,
                              rng=np.random.default_rng(SEED), verbose=False)


def ours_label(a: np.ndarray, b: np.ndarray, perms: int, equal_var: bool = True):
    from braincause.stats import label_permutation_max_t

    return label_permutation_max_t(a, b, n_permutations=perms, tail=1, equal_var=equal_var,
                                   random_state=SEED)


def nilearn_label(a: np.ndarray, b: np.ndarray, perms: int) -> dict[str, np.ndarray]:
    from nilearn.mass_univariate import permuted_ols

    labels = np.r_[np.ones(len(a)), np.zeros(len(b))][:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return permuted_ols(labels, np.concatenate([a, b]), n_perm=perms,
                            two_sided_test=False, random_state=SEED, n_jobs=1, verbose=0)


def one_blas_thread(f, *args: Any) -> Any:
    """``f(*args)`` with the BLAS limited to one thread (many small products on a busy
    machine lose more to the threads' hand-over than they gain)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return f(*args)


def mne_orders(n: int, perms: int, tail: int) -> np.ndarray:
    """The sign patterns (perms - 1, n) MNE draws for ``rng=default_rng(SEED)``, as flips."""
    from mne.stats.cluster_level import _get_1samp_orders

    orders, _, _ = _get_1samp_orders(n, perms, tail, np.random.default_rng(SEED))
    return 1 - np.asarray(orders, dtype=np.int8)  # MNE: 1 keeps the sign, 0 flips it


def nilearn_members(n_a: int, n_b: int, perms: int) -> np.ndarray:
    """nilearn's relabellings (perms, n_a + n_b) for ``random_state=SEED, n_jobs=1``:
    one seed drawn from ``RandomState(SEED)`` per job, then the labels shuffled again
    (cumulatively) by ``permutation(n)`` for every permutation."""
    job_seed = np.random.RandomState(SEED).randint(1, np.iinfo(np.int32).max - 1)
    rs = np.random.RandomState(job_seed)
    labels = np.r_[np.ones(n_a, bool), np.zeros(n_b, bool)]
    out = np.empty((perms, n_a + n_b), dtype=bool)
    for k in range(perms):
        labels = labels[rs.permutation(n_a + n_b)]
        out[k] = labels
    return out


# ---------------------------------------------------------------- memory (child process)
def _discard(f):
    """``f`` returning None (the child process returns JSON, not the result)."""
    def run() -> None:
        f()
    return run


def memory_target(case: str, **sz: Any):
    """Build the inputs of ``case`` and return the work (run in a fresh process)."""
    if case.startswith("sign_flip"):
        x = paired_differences(sz["n"], sz["voxels"])
        if case == "sign_flip:ours":
            return _discard(lambda: ours_sign_flip(x, sz["perms"], 0))
        import mne  # noqa: F401 - imported before the measurement starts

        return _discard(lambda: mne_sign_flip(x, sz["perms"], 0))
    a, b = two_groups(sz["n_group"], sz["voxels"])
    if case == "label:ours":
        return _discard(lambda: ours_label(a, b, sz["label_perms"]))
    import nilearn.mass_univariate  # noqa: F401

    return _discard(lambda: nilearn_label(a, b, sz["label_perms"]))


def measure(case: str, sz: dict[str, Any]) -> dict[str, Any]:
    return measure_in_subprocess(f"{Path(__file__).resolve()}:memory_target",
                                 {"case": case, **sz})


# ---------------------------------------------------------------- comparisons
def mc_agreement(p1: np.ndarray, p2: np.ndarray, n_perm: int) -> dict[str, float]:
    """How far two Monte-Carlo p-value maps (independent permutations) differ."""
    p = np.clip((p1 + p2) / 2, 1.0 / n_perm, 1.0)
    sd = np.sqrt(2 * p * (1 - p) / n_perm) + 1.0 / n_perm
    z = np.abs(p1 - p2) / sd
    return {"max_abs_diff": round(float(np.abs(p1 - p2).max()), 5),
            "median_abs_diff": round(float(np.median(np.abs(p1 - p2))), 5),
            "max_diff_in_mc_sd": round(float(z.max()), 2),
            "share_within_3_mc_sd": round(float((z <= 3).mean()), 5),
            "significant_0.05_both": int(((p1 <= 0.05) & (p2 <= 0.05)).sum()),
            "significant_0.05_only_one": int(((p1 <= 0.05) ^ (p2 <= 0.05)).sum())}


def identity(p_ours: np.ndarray, p_ref: np.ndarray) -> dict[str, Any]:
    d = np.abs(p_ours - p_ref)
    return {"identical_to_1e-10": bool((d <= 1e-10).all()),
            "voxels_differing": int((d > 1e-10).sum()), "max_abs_diff": float(d.max())}


def timed(contenders: dict[str, Any], repeats: int, keep: dict[str, Any]) -> dict[str, Any]:
    """Interleaved medians; ``keep`` receives each contender's last output."""
    def wrap(name, f):
        def run():
            keep[name] = f()
        return run
    times = interleave({k: wrap(k, f) for k, f in contenders.items()}, repeats)
    return {k: summarize(v) for k, v in times.items()}


def ratio(times: dict[str, Any], slow: str, fast: str) -> float:
    return round(times[slow]["median_s"] / times[fast]["median_s"], 2)


def mem_budget_ok(bytes_needed: float) -> bool:
    """Whether ``bytes_needed`` fits in 80 % of the memory available now."""
    try:
        with open("/proc/meminfo") as fh:
            avail = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("MemAvailable"))
    except (OSError, StopIteration):
        return True
    return bytes_needed < 0.8 * avail


def sign_flip_sampled(sz: dict[str, Any], with_memory: bool) -> dict[str, Any]:
    from braincause.stats.permutation import _one_sample_t, _sign_flip_sampled

    n, v, perms = sz["n"], sz["voxels"], sz["perms"]
    x = paired_differences(n, v)
    mne_bytes = 4.2 * perms * v * 8  # MNE's measured peak: ~4.1 (perms, voxels) float64 arrays
    if not mem_budget_ok(mne_bytes):
        return {"skipped": f"MNE would need ~{mne_bytes / 2**30:.1f} GiB"}
    out: dict[str, Any] = {"shape": {"n_samples": n, "n_voxels": v, "n_permutations": perms,
                                     "tail": 0}}
    keep: dict[str, Any] = {}
    out["times"] = timed({"ours": lambda: ours_sign_flip(x, perms, 0),
                          "mne": lambda: mne_sign_flip(x, perms, 0),
                          "ours_blas_1_thread": lambda: one_blas_thread(ours_sign_flip, x,
                                                                        perms, 0)},
                         sz["repeats"], keep)
    out["speedup_vs_mne"] = ratio(out["times"], "mne", "ours")
    t_mne, p_mne, h0_mne = keep["mne"]
    ours = keep["ours"]
    out["p_agreement_own_permutations"] = mc_agreement(ours.p_fwer, p_mne, perms)
    # MNE's own patterns through our engine: p = (1 + count) / perms, as MNE's
    replay = _sign_flip_sampled(x, _one_sample_t(x), mne_orders(n, perms, 0), tail=0,
                                max_stat="abs", chunk_size=None)
    null = np.sort(np.r_[replay.max_null, np.abs(replay.t_obs).max()])
    out["p_identity_mne_patterns"] = {
        **identity(replay.p_fwer, p_mne),
        "t_obs_max_rel_diff": float(np.max(np.abs(replay.t_obs - t_mne) / np.abs(t_mne))),
        "null_max_rel_diff": float(np.max(np.abs(null - h0_mne) / h0_mne)),
    }
    if with_memory:
        out["memory"] = {"ours": measure("sign_flip:ours", sz),
                         "mne": measure("sign_flip:mne", sz)}
        out["memory"]["unchunked_perms_x_voxels_float64_mib"] = round(perms * v * 8 / 2**20, 1)
    return out


def sign_flip_exact(n: int, sz: dict[str, Any], tail: int) -> dict[str, Any]:
    v = sz["voxels"]
    x = paired_differences(n, v, seed=SEED + n)
    max_stat = "abs" if tail else "signed"  # MNE's one-sided p-values use a max |t| null
    perms = 2 ** n
    keep: dict[str, Any] = {}
    times = timed({"ours": lambda: ours_sign_flip(x, perms, tail, max_stat),
                   "mne": lambda: mne_sign_flip(x, perms, tail)}, sz["repeats"], keep)
    ours, (_, p_mne, _) = keep["ours"], keep["mne"]
    if not ours.exact:
        raise RuntimeError("expected exact enumeration")
    check = identity(ours.p_fwer, p_mne)
    if not check["identical_to_1e-10"]:
        raise AssertionError(f"exact p-values differ from MNE's: {check}")
    return {"shape": {"n_samples": n, "n_voxels": v, "sign_patterns": perms, "tail": tail,
                      "max_stat": max_stat,
                      "mne_patterns_computed": 2 ** (n - (tail == 0))},
            "times": times, "speedup_vs_mne": ratio(times, "mne", "ours"),
            "p_identity": check}


def label_permutation(sz: dict[str, Any], with_memory: bool) -> dict[str, Any]:
    from braincause.stats.permutation import _label_permutation_sampled, _two_sample_t

    ng, v, perms = sz["n_group"], sz["voxels"], sz["label_perms"]
    a, b = two_groups(ng, v)
    keep: dict[str, Any] = {}
    times = timed({"ours": lambda: ours_label(a, b, perms),
                   "ours_welch": lambda: ours_label(a, b, perms, equal_var=False),
                   "nilearn": lambda: nilearn_label(a, b, perms)}, sz["repeats"], keep)
    p_nil = 10.0 ** -keep["nilearn"]["logp_max_t"][0]
    replay = _label_permutation_sampled(a, b, _two_sample_t(a, b, True),
                                        nilearn_members(ng, ng, perms), tail=1, equal_var=True,
                                        chunk_size=None)
    h0 = np.sort(keep["nilearn"]["h0_max_t"][0])
    out = {"shape": {"n_a": ng, "n_b": ng, "n_voxels": v, "n_permutations": perms, "tail": 1,
                     "statistic": "pooled t (nilearn: OLS t of the group regressor with an "
                                  "intercept)"},
           "times": times, "speedup_vs_nilearn": ratio(times, "nilearn", "ours"),
           "speedup_welch_vs_nilearn_pooled": ratio(times, "nilearn", "ours_welch"),
           "p_agreement_own_permutations": mc_agreement(keep["ours"].p_fwer, p_nil, perms),
           "p_identity_nilearn_permutations": {
               **identity(replay.p_fwer, p_nil),
               "t_obs_max_abs_diff": float(np.abs(replay.t_obs
                                                  - keep["nilearn"]["t"][0]).max()),
               "null_max_abs_diff": float(np.abs(np.sort(replay.max_null) - h0).max())}}
    if with_memory:
        out["memory"] = {"ours": measure("label:ours", sz), "nilearn": measure("label:nilearn", sz)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test, < 30 s)")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    args = ap.parse_args(argv)
    sz = dict(SIZES["quick" if args.quick else "full"])
    t0 = time.time()
    res: dict[str, Any] = {
        "command": " ".join([".venv/bin/python benchmarks/permutation_speed.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S%z"), "mode": "quick" if args.quick else "full",
        "sizes": sz, "machine": machine_info(), "load_average_start": load_average(),
    }
    import mne
    import mne.stats  # imported before any timing: first calls pay no import
    import nilearn
    import nilearn.mass_univariate

    res["versions"] = {"mne": mne.__version__, "nilearn": nilearn.__version__}
    res["sign_flip_sampled"] = sign_flip_sampled(sz, not args.no_memory)
    print("sign flips, sampled:", json.dumps(res["sign_flip_sampled"].get("speedup_vs_mne")),
          flush=True)
    res["sign_flip_exact_two_sided"] = sign_flip_exact(sz["exact_n0"], sz, tail=0)
    res["sign_flip_exact_one_sided"] = sign_flip_exact(sz["exact_n1"], sz, tail=1)
    print("sign flips, exact:", res["sign_flip_exact_two_sided"]["speedup_vs_mne"],
          res["sign_flip_exact_one_sided"]["speedup_vs_mne"], flush=True)
    res["label_permutation"] = label_permutation(sz, not args.no_memory)
    res["load_average_end"] = load_average()
    res["elapsed_s"] = round(time.time() - t0, 1)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res[k] for k in ("sign_flip_sampled", "sign_flip_exact_two_sided",
                                          "sign_flip_exact_one_sided", "label_permutation")},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
