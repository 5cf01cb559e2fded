"""Encoding accuracy: held-out Pearson r per voxel, noise-ceiling normalisation,
the paper's voxel filter, and summary tables.

Normalised accuracy is ``r / sqrt(NC)``: the held-out correlation divided by the
correlation a perfect model could reach given the noise (NC is the noise ceiling
as a fraction of variance, NSD's definition). Voxels with NC ≤ 0 get NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from braincause.exceptions import UserInputError

#: The paper's voxel filter: keep voxels whose held-out encoder r is at least this.
R_THRESHOLD = 0.2


def pearson_r(y_true: np.ndarray, y_pred: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Column-wise Pearson correlation of two (n_samples, n_columns) arrays.

    Accumulates in float64, in column chunks. Constant columns give NaN.
    """
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.shape != b.shape or a.ndim != 2:
        raise UserInputError(f"y_true and y_pred must have the same 2-D shape, got {a.shape} "
                             f"and {b.shape}")
    if a.shape[0] < 3:
        raise UserInputError(f"need at least 3 samples to correlate, got {a.shape[0]}")
    out = np.empty(a.shape[1])
    for j in range(0, a.shape[1], chunk):
        x = a[:, j:j + chunk].astype(np.float64)
        y = b[:, j:j + chunk].astype(np.float64)
        x = x - x.mean(axis=0)
        y = y - y.mean(axis=0)
        den = np.sqrt((x * x).sum(axis=0) * (y * y).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[j:j + chunk] = np.where(den > 0, (x * y).sum(axis=0) / den, np.nan)
    return out


def normalized_accuracy(r: np.ndarray, noise_ceiling: np.ndarray) -> np.ndarray:
    """``r / sqrt(noise_ceiling)``, NaN where the noise ceiling is not positive."""
    r = np.asarray(r, float)
    nc = np.asarray(noise_ceiling, float)
    if r.shape != nc.shape:
        raise UserInputError(f"r has shape {r.shape} but the noise ceiling {nc.shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nc > 0, r / np.sqrt(np.maximum(nc, 1e-12)), np.nan)


def voxel_filter(r: np.ndarray, threshold: float = R_THRESHOLD) -> np.ndarray:
    """Boolean mask of voxels whose held-out r is at least ``threshold`` (NaN: dropped)."""
    r = np.asarray(r, float)
    return np.nan_to_num(r, nan=-np.inf) >= threshold


def accuracy_summary(r: np.ndarray, noise_ceiling: np.ndarray,
                     areas: Mapping[str, np.ndarray] | None = None,
                     area_kinds: Mapping[str, str] | None = None,
                     threshold: float = R_THRESHOLD) -> dict:
    """Medians of r and normalised r, overall and per area, and the filter's yield."""
    r = np.asarray(r, float)
    norm = normalized_accuracy(r, noise_ceiling)
    keep = voxel_filter(r, threshold)
    out = {
        "n_voxels": int(r.size),
        "median_r": float(np.nanmedian(r)),
        "median_r_over_sqrt_noise_ceiling": float(np.nanmedian(norm)),
        "median_noise_ceiling": float(np.nanmedian(noise_ceiling)),
        "filter_threshold_r": float(threshold),
        "voxels_kept_by_filter": int(keep.sum()),
        "fraction_kept_by_filter": float(keep.mean()),
        "areas": {},
    }
    planted = []
    for name, mask in (areas or {}).items():
        m = np.asarray(mask, bool)
        kind = (area_kinds or {}).get(name, "")
        out["areas"][name] = {"kind": kind, "n_voxels": int(m.sum()),
                              "median_r": float(np.nanmedian(r[m])) if m.any() else float("nan"),
                              "kept_by_filter": int((keep & m).sum())}
        if kind in ("planted", ""):
            planted.append(m)
    if planted:
        inside = np.any(planted, axis=0)
        out["median_r_in_planted_areas"] = float(np.nanmedian(r[inside]))
    return out
