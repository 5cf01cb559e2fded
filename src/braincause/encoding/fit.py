"""Fit a subject's image→fMRI encoder and measure its accuracy.

``fit_encoder(subject)`` extracts backbone features of every measured image,
fits a :class:`~braincause.encoding.ridge.RidgeEncoder` on the train split
(per-voxel alpha by cross-validation), predicts the held-out test split (the
shared images), and scores each voxel by Pearson r against the measured
responses. Features, the fitted encoder and its accuracy are cached on disk,
keyed by the subject's data, the backbone's weights and the encoder settings,
and reused by later runs.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from braincause.encoding.accuracy import R_THRESHOLD, accuracy_summary, pearson_r
from braincause.encoding.ridge import DEFAULT_ALPHAS, RidgeEncoder
from braincause.exceptions import DataError
from braincause.utils import atomic_write_bytes, cache_dir

Progress = Callable[[str], None]


@dataclass(eq=False)
class EncoderFit:
    """A fitted encoder with its held-out accuracy."""

    subject_id: str
    encoder: RidgeEncoder = field(repr=False)
    r: np.ndarray = field(repr=False)                 # (n_voxels,) held-out Pearson r
    summary: dict = field(repr=False)
    backbone: str = ""
    path: Path | None = None
    features_path: Path | None = None

    def pool_features(self) -> np.ndarray:
        """Backbone features (n_images, feature_dim) of the subject's measured images, as
        the encoder was fitted on them (read from the cache)."""
        if self.features_path is None or not self.features_path.exists():
            raise DataError(f"the measured images' features of {self.subject_id} are not "
                            "cached; refit with fit_encoder(subject, use_cache=True)")
        return np.load(self.features_path, allow_pickle=False)

    def keep(self, threshold: float = R_THRESHOLD) -> np.ndarray:
        """The paper's voxel filter: r ≥ threshold on held-out images."""
        return np.nan_to_num(self.r, nan=-np.inf) >= threshold


def default_backbone():
    """The offline default: ImageNet MobileNetV2 with an on-disk feature cache."""
    from braincause.encoding.backbone import CachedBackbone, MobileNetV2Backbone

    return CachedBackbone(MobileNetV2Backbone())


def subject_features(subject, backbone, *, batch: int = 256,
                     progress: Progress | None = None) -> np.ndarray:
    """Backbone features (n_images, feature_dim) of every measured image of ``subject``."""
    size = getattr(backbone, "image_size", 224)
    out = []
    n = subject.n_images
    for start in range(0, n, batch):
        imgs = [subject.image(i, size) for i in range(start, min(n, start + batch))]
        out.append(backbone.features(imgs))
        if progress:
            progress(f"features {min(n, start + batch)}/{n}")
    return np.concatenate(out).astype(np.float32)


def _key(subject, backbone, params: dict) -> str:
    h = hashlib.sha256()
    h.update(subject.fingerprint().encode())
    h.update(backbone.fingerprint().encode())
    h.update(json.dumps(params, sort_keys=True).encode())
    return h.hexdigest()[:16]


def fit_encoder(subject, backbone=None, *, alphas=DEFAULT_ALPHAS, cv: int = 5,
                threshold: float = R_THRESHOLD, use_cache: bool = True,
                progress: Progress | None = None) -> EncoderFit:
    """Fit (or load from the cache) the encoder of ``subject`` and score it."""
    backbone = backbone or default_backbone()
    params = RidgeEncoder(alphas=alphas, cv=cv).get_params()
    key = _key(subject, backbone, params)
    root = cache_dir() / "encoders"
    enc_path = root / f"{subject.subject_id}-{key}.npz"
    acc_path = root / f"{subject.subject_id}-{key}.json"
    areas = dict(subject.roi_labels)
    kinds = subject.area_kinds() if hasattr(subject, "area_kinds") else {}
    if use_cache and enc_path.exists() and acc_path.exists():
        try:
            enc = RidgeEncoder.load(enc_path)
            doc = json.loads(acc_path.read_text())
            r = np.asarray(doc["r"], np.float64)
            summary = accuracy_summary(r, subject.noise_ceiling, areas, kinds, threshold)
            fp = root / f"features-{subject.subject_id}-{key}.npy"
            if fp.exists():
                return EncoderFit(subject.subject_id, enc, r, summary, doc["backbone"],
                                  enc_path, fp)
        except (OSError, ValueError, KeyError, DataError):
            pass  # damaged cache entry: refit below
    feat_path = root / f"features-{subject.subject_id}-{key}.npy"
    X = None
    if use_cache and feat_path.exists():
        try:
            X = np.load(feat_path, allow_pickle=False)
            if X.shape[0] != subject.n_images:
                X = None
        except (OSError, ValueError):
            X = None
    if X is None:
        X = subject_features(subject, backbone, progress=progress)
        if use_cache:
            buf = io.BytesIO()
            np.save(buf, X, allow_pickle=False)
            atomic_write_bytes(feat_path, buf.getvalue())
    train, test = subject.train_indices, subject.test_indices
    Y = subject.responses
    if progress:
        progress(f"ridge: {len(train)} train images × {X.shape[1]} features × "
                 f"{subject.n_voxels} voxels")
    enc = RidgeEncoder(alphas=alphas, cv=cv).fit(
        X[train], Y[train], data_hashes={"subject": subject.fingerprint(),
                                         "backbone": backbone.fingerprint()})
    r = pearson_r(Y[test], enc.predict(X[test]))
    summary = accuracy_summary(r, subject.noise_ceiling, areas, kinds, threshold)
    if use_cache:
        enc.save(enc_path)
        atomic_write_bytes(acc_path, json.dumps({"r": [float(v) for v in r],
                                                 "backbone": repr(backbone)}).encode())
    return EncoderFit(subject.subject_id, enc, r, summary, repr(backbone), enc_path,
                      feat_path if use_cache else None)
