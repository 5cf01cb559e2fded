"""Cross-subject consistency of a concept's maps, on a shared surface.

For every concept run in two or more subjects whose maps lie on the same fsaverage5
vertices (the synthetic subjects; NSD on fsaverage5), each pair of subjects gets the
Dice coefficient of their causal regions and the Pearson correlation of their
``S_causal`` maps, each with a spin-test p-value
(:func:`braincause.stats.spin_test`: one subject's map rotated on fsaverage5's sphere,
rotations from neuromaps, the same rotations for every pair). The group map is the
fraction of those subjects whose region holds each vertex.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SPIN_KEY", "consistency", "fsaverage5_sphere", "load_maps"]

#: The key of the spin rotations' seed (:func:`braincause.engine.task_seed`).
SPIN_KEY = "spin-test rotations"


def fsaverage5_sphere() -> tuple[np.ndarray, np.ndarray]:
    """fsaverage5's sphere (nilearn's bundled copy, nothing downloaded).

    Returns
    -------
    sphere : ndarray of shape (20484, 3)
        Left hemisphere's 10,242 vertices, then the right's.
    hemi : ndarray of shape (20484,), int8
    """
    from braincause.synth.cortex import HEMIS, N_FSAVERAGE5, fsaverage5_files

    fs, _, _ = fsaverage5_files()
    sphere = np.concatenate([np.asarray(fs["sphere"].parts[h].coordinates, float)
                             for h in HEMIS])
    return sphere, np.repeat(np.arange(len(HEMIS), dtype=np.int8), N_FSAVERAGE5)


def load_maps(folder: Path) -> dict[str, np.ndarray]:
    """The arrays consistency needs from a run folder's maps.npz.

    Parameters
    ----------
    folder : Path
        A run folder.

    Returns
    -------
    dict of str to ndarray
        ``vertex``, ``hemi``, ``region`` and ``s_causal``, each of shape (n_voxels,).
    """
    with np.load(Path(folder) / "maps.npz", allow_pickle=False) as z:
        return {k: z[k] for k in ("vertex", "hemi", "region", "s_causal")}


def _surface_key(m: Mapping[str, np.ndarray]) -> bytes:
    return np.asarray(m["vertex"], np.int64).tobytes() + np.asarray(m["hemi"], np.int8
                                                                    ).tobytes()


def consistency(groups: Mapping[str, Mapping[str, Path]], *, n_spins: int, seed: int,
                out: Path | None = None) -> dict[str, Any]:
    """Pairwise consistency and group maps of every concept run in ≥ 2 subjects.

    Parameters
    ----------
    groups : dict of str to dict of str to Path
        Concept query → subject → run folder (finished runs only).
    n_spins : int
        Rotations of the spin test (0: no spin test, statistics only).
    seed : int
        The sweep's seed (the rotations' seed derives from it).
    out : Path, optional
        The sweep folder: group maps go to ``group/<concept>.npz``.

    Returns
    -------
    dict
        ``{"method", "n_spins", "concepts": {query: {...}}, "skipped": {query: why}}``.
    """
    from braincause.engine import task_seed
    from braincause.stats import spin_samples, spin_test
    from braincause.sweeps.plan import folder_name

    concepts: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    spins_of: dict[bytes, np.ndarray] = {}
    sphere = None
    for query, by_subject in groups.items():
        if len(by_subject) < 2:
            continue
        maps = {s: load_maps(f) for s, f in by_subject.items()}
        keys = {_surface_key(m) for m in maps.values()}
        if len(keys) > 1:
            skipped[query] = "the subjects' maps are not on the same surface vertices"
            continue
        key = keys.pop()
        m0 = next(iter(maps.values()))
        if n_spins and key not in spins_of:
            from braincause.synth.cortex import N_FSAVERAGE5

            if sphere is None:
                sphere = fsaverage5_sphere()
            idx = np.asarray(m0["vertex"], np.int64) + N_FSAVERAGE5 * \
                np.asarray(m0["hemi"], np.int64)
            spins_of[key] = spin_samples(*sphere, idx, n_spins=n_spins,
                                         random_state=task_seed(seed, SPIN_KEY))
        spins = spins_of.get(key)
        pairs = []
        for a, b in itertools.combinations(sorted(maps), 2):
            ra = maps[a]["region"].astype(float)
            rb = maps[b]["region"].astype(float)
            sa = maps[a]["s_causal"].astype(float)
            sb = maps[b]["s_causal"].astype(float)
            if spins is not None:
                d = spin_test(ra, rb, spins, metric="dice").to_dict()
                r = spin_test(sa, sb, spins, metric="pearson").to_dict()
            else:
                d = {"metric": "dice", "statistic": _r(_dice(ra, rb)), "p": None}
                r = {"metric": "pearson", "statistic": _r(_corr(sa, sb)), "p": None}
            pairs.append({"subjects": [a, b], "dice": d, "correlation": r})
        regions = np.stack([maps[s]["region"].astype(bool) for s in sorted(maps)])
        frac = regions.mean(0)
        entry = {
            "subjects": sorted(maps), "pairs": pairs,
            "mean_dice": _mean([p["dice"]["statistic"] for p in pairs]),
            "mean_correlation": _mean([p["correlation"]["statistic"] for p in pairs]),
            "group_map": {"voxels_in_any": int((frac > 0).sum()),
                          "voxels_in_all": int((frac == 1).sum()),
                          "file": f"group/{folder_name(query)}.npz"},
        }
        if out is not None:
            import io

            from braincause.utils import atomic_write_bytes

            buf = io.BytesIO()
            np.savez_compressed(buf, fraction=frac.astype(np.float32),
                                vertex=m0["vertex"], hemi=m0["hemi"],
                                subjects=np.array(sorted(maps)))
            atomic_write_bytes(Path(out) / entry["group_map"]["file"], buf.getvalue())
        concepts[query] = entry
    return {"method": "pairwise Dice of causal regions and Pearson r of S_causal maps, "
                      "spin-test p (one map rotated on fsaverage5's sphere, neuromaps "
                      "rotations; two-sided for r)",
            "n_spins": int(n_spins), "concepts": concepts, "skipped": skipped}


def _r(x: float) -> float | None:
    return round(float(x), 6) if np.isfinite(x) else None


def _mean(xs: Sequence[float | None]) -> float | None:
    v = [x for x in xs if x is not None]
    return _r(float(np.mean(v))) if v else None


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    from braincause.stats.spin import dice

    return dice(a, b)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2 or a[ok].std() == 0 or b[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
