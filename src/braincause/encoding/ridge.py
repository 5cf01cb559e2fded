"""Voxelwise ridge regression on himalaya, with a scikit-learn-style contract.

``RidgeEncoder`` standardises the features (optional), centres the targets, and
chooses one regularisation strength per voxel by K-fold cross-validation on the
training data (himalaya's ``solve_ridge_cv_svd``, ``local_alpha=True``). After
``fit``, the fitted attributes end with an underscore. Predictions are computed
in chunks of voxels and images, so memory stays bounded; they are on the scale of
the training targets (z-scores when trained on z-scored responses).

Saved without pickle: ``save(path)`` writes an ``.npz`` (``allow_pickle=False``)
holding the arrays and a JSON config with the data hashes given at fit time.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from braincause.exceptions import DataError, UserInputError
from braincause.utils import atomic_write_bytes

DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-1, 6, 15))


def _check_2d(name: str, a: Any, dtype: np.dtype) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise UserInputError(f"{name} must be 2-D (n_samples, n_columns), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise UserInputError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(dtype, copy=False)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise UserInputError(f"{name} contains {bad} NaN or infinite values; remove or impute "
                             "them before fitting")
    return arr


@runtime_checkable
class BrainEncoder(Protocol):
    """What the pipeline needs from a fitted encoding model (image features → voxels).

    The embedded one is :class:`RidgeEncoder`, fitted on a subject's measured training
    images by :func:`braincause.encoding.fit.fit_encoder`.
    """

    def predict(self, X: Any) -> np.ndarray:
        """Predicted voxel responses to images, from their backbone features.

        Parameters
        ----------
        X : ndarray of shape (n_images, n_features)
            Backbone features of the images.

        Returns
        -------
        ndarray of shape (n_images, n_voxels)
            Predicted responses, on the scale of the training targets.
        """


class RidgeEncoder:
    """Voxelwise ridge with per-voxel alpha chosen by cross-validation.

    Parameters
    ----------
    alphas : sequence of float
        Candidate regularisation strengths.
    cv : int
        Number of (unshuffled, contiguous) K folds for choosing alpha.
    standardize : bool
        Scale features to unit variance (on the training data) before fitting.
    dtype : {"float32", "float64"}
    backend : str
        himalaya backend ("numpy", "torch", "torch_cuda", …).
    n_targets_batch : int
        Voxels per batch during cross-validation and prediction (bounds memory).
    """

    def __init__(self, alphas: Sequence[float] = DEFAULT_ALPHAS, cv: int = 5,
                 standardize: bool = True, dtype: str = "float32", backend: str = "numpy",
                 n_targets_batch: int = 4096) -> None:
        self.alphas = alphas
        self.cv = cv
        self.standardize = standardize
        self.dtype = dtype
        self.backend = backend
        self.n_targets_batch = n_targets_batch

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, Y: Any, *, data_hashes: dict[str, str] | None = None) -> RidgeEncoder:
        from himalaya.backend import get_backend, set_backend
        from himalaya.ridge import solve_ridge_cv_svd
        from sklearn.model_selection import KFold

        dt = np.dtype(self.dtype)
        X = _check_2d("X", X, dt)
        Y = _check_2d("Y", Y, dt)
        if X.shape[0] != Y.shape[0]:
            raise UserInputError(f"X has {X.shape[0]} samples but Y has {Y.shape[0]}")
        if X.shape[0] < max(3, self.cv):
            raise UserInputError(f"need at least {max(3, self.cv)} samples to fit, "
                                 f"got {X.shape[0]}")
        alphas = np.asarray(self.alphas, dt)
        if alphas.ndim != 1 or alphas.size == 0 or (alphas <= 0).any():
            raise UserInputError(f"alphas must be a non-empty list of positive numbers, "
                                 f"got {self.alphas!r}")
        self.x_mean_ = X.mean(axis=0)
        scale = X.std(axis=0) if self.standardize else np.ones(X.shape[1], dt)
        self.x_scale_ = np.where(scale > 0, scale, 1.0).astype(dt)
        self.y_mean_ = Y.mean(axis=0)
        Xc = (X - self.x_mean_) / self.x_scale_
        Yc = Y - self.y_mean_
        previous = get_backend()
        set_backend(self.backend, on_error="raise")
        try:
            backend = get_backend()
            alphas_, coefs, cv_scores = solve_ridge_cv_svd(
                backend.asarray(Xc), backend.asarray(Yc), alphas=backend.asarray(alphas),
                fit_intercept=False, cv=KFold(self.cv, shuffle=False), local_alpha=True,
                n_targets_batch=self.n_targets_batch, warn=False)
            self.best_alphas_ = np.asarray(backend.to_numpy(alphas_), dt)
            self.coef_ = np.asarray(backend.to_numpy(coefs), dt)
            self.cv_scores_ = np.asarray(backend.to_numpy(cv_scores), dt)
        finally:
            set_backend(previous)
        self.intercept_ = (self.y_mean_ - (self.x_mean_ / self.x_scale_) @ self.coef_).astype(dt)
        self.n_features_in_ = X.shape[1]
        self.n_targets_ = Y.shape[1]
        self.data_hashes_ = dict(data_hashes or {})
        return self

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise UserInputError("this RidgeEncoder is not fitted yet: call fit(X, Y) first")

    def predict(self, X: Any, *, voxels: np.ndarray | None = None,
                image_chunk: int = 2048) -> np.ndarray:
        """Predicted responses (n_images, n_voxels) for features ``X``.

        ``voxels`` (indices or boolean mask) restricts the output columns. Computed in
        chunks of ``image_chunk`` images × ``n_targets_batch`` voxels.
        """
        self._check_fitted()
        dt = np.dtype(self.dtype)
        X = _check_2d("X", X, dt)
        if X.shape[1] != self.n_features_in_:
            raise UserInputError(f"X has {X.shape[1]} features, the encoder was fitted on "
                                 f"{self.n_features_in_}")
        W = self.coef_ if voxels is None else self.coef_[:, voxels]
        b = self.intercept_ if voxels is None else self.intercept_[voxels]
        Xs = X / self.x_scale_
        out = np.empty((X.shape[0], W.shape[1]), dt)
        for i in range(0, X.shape[0], image_chunk):
            xi = Xs[i:i + image_chunk]
            for j in range(0, W.shape[1], self.n_targets_batch):
                sl = slice(j, j + self.n_targets_batch)
                np.matmul(xi, W[:, sl], out=out[i:i + image_chunk, sl])
                out[i:i + image_chunk, sl] += b[sl]
        return out

    # ------------------------------------------------------------------ io
    def get_params(self) -> dict[str, Any]:
        return {"alphas": [float(a) for a in self.alphas], "cv": self.cv,
                "standardize": self.standardize, "dtype": self.dtype, "backend": self.backend,
                "n_targets_batch": self.n_targets_batch}

    def save(self, path: str | Path) -> Path:
        """Write the fitted encoder to ``path`` (.npz, no pickle), atomically."""
        self._check_fitted()
        meta = {"params": self.get_params(), "data_hashes": self.data_hashes_,
                "format": "braincause.RidgeEncoder/1"}
        buf = io.BytesIO()
        np.savez(buf, coef=self.coef_, intercept=self.intercept_, x_mean=self.x_mean_,
                 x_scale=self.x_scale_, y_mean=self.y_mean_, best_alphas=self.best_alphas_,
                 cv_scores=self.cv_scores_,
                 meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> RidgeEncoder:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                if meta.get("format") != "braincause.RidgeEncoder/1":
                    raise ValueError(f"unknown format {meta.get('format')!r}")
                enc = cls(**meta["params"])
                enc.coef_, enc.intercept_ = z["coef"], z["intercept"]
                enc.x_mean_, enc.x_scale_, enc.y_mean_ = z["x_mean"], z["x_scale"], z["y_mean"]
                enc.best_alphas_, enc.cv_scores_ = z["best_alphas"], z["cv_scores"]
        except FileNotFoundError:
            raise DataError(f"no fitted encoder at {path}") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            raise DataError(f"the fitted encoder file {path} is damaged ({e}); delete it and fit "
                            "again") from e
        enc.n_features_in_, enc.n_targets_ = enc.coef_.shape
        enc.data_hashes_ = meta.get("data_hashes", {})
        return enc
