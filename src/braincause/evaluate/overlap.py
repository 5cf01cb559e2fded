"""Overlap of a voxel set with a reference set (ground truth, another subject's region)."""

from __future__ import annotations

import numpy as np


def overlap(region: np.ndarray, truth: np.ndarray) -> dict[str, float | None]:
    """Precision, recall and Dice of a region against reference voxels.

    ``precision = |R ∩ T| / |R|`` (0 when R is empty), ``recall = |R ∩ T| / |T|`` (None
    when T is empty), ``Dice = 2 |R ∩ T| / (|R| + |T|)`` (0 when both are empty).

    Parameters
    ----------
    region : ndarray of shape (n_voxels,), bool
    truth : ndarray of shape (n_voxels,), bool

    Returns
    -------
    dict
        ``{"precision", "recall", "dice"}``
    """
    region, truth = np.asarray(region, bool), np.asarray(truth, bool)
    if region.shape != truth.shape:
        raise ValueError(f"region {region.shape} and truth {truth.shape} differ in shape")
    tp, nr, nt = int((region & truth).sum()), int(region.sum()), int(truth.sum())
    return {"precision": tp / nr if nr else 0.0, "recall": tp / nt if nt else None,
            "dice": 2 * tp / (nr + nt) if nr + nt else 0.0}
