"""The measured pool of a simulated subject: what they "saw" in the scanner.

3,000 natural-statistics scenes per subject: 1,000 shared by every subject (like
NSD's shared 1000; the test split) and 2,000 of their own (the train split),
each shown 3 times. Measured single-trial responses are the true brain's
responses plus heteroscedastic noise with a spatially smooth component, grouped
into sessions of 750 trials and z-scored per voxel within each session (as NSD's
betas are); repeats are then averaged and the averages z-scored per voxel across
images (as the paper does). Noise ceilings follow NSD's definition.

Built deterministically from the subject id and cached on disk (atomic writes).
The pool sizes are parameters of :func:`build_pool` (defaults :data:`N_SHARED` and
:data:`N_OWN`); a *mini* subject (id ending in ``-mini``, :data:`MINI_SHARED` +
:data:`MINI_OWN` scenes) is the same brain measured on the first scenes of a smaller
pool, for tests of the pipeline's mechanics that must run in seconds.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause._version import __version__
from braincause.exceptions import DataError
from braincause.synth.features import FEATURE_VERSION, N_FEATURES, features_of
from braincause.synth.sampler import sample_scenes
from braincause.synth.scene import Scene
from braincause.synth.subject import MINI, TrueBrain, _smooth
from braincause.utils import atomic_write_bytes, cache_dir

N_SHARED = 1000
N_OWN = 2000
REPEATS = 3
SESSION_TRIALS = 750
SHARED_SEED = 20240101
POOL_VERSION = f"pool-v1-{FEATURE_VERSION}"
#: Pool sizes of a mini subject (``synth-01-mini``...): 300 scenes instead of 3,000.
MINI_SHARED = 100
MINI_OWN = 200


def pool_sizes(subject_id: str) -> tuple[int, int]:
    """(shared, own) pool sizes of a subject id: the mini sizes for ids ending in
    ``-mini``, else :data:`N_SHARED` and :data:`N_OWN`."""
    if subject_id.endswith(MINI):
        return MINI_SHARED, MINI_OWN
    return N_SHARED, N_OWN


def noise_ceiling(trials: np.ndarray) -> np.ndarray:
    """NSD noise ceiling (fraction of variance) of trial-z-scored responses.

    ``trials`` is (n_images, n_repeats, n_voxels). With σ²_noise the mean
    within-image variance across repeats and σ²_signal = max(0, 1 − σ²_noise),
    ncsnr = sqrt(σ²_signal / σ²_noise) and NC = ncsnr² / (ncsnr² + 1/n_repeats).
    """
    t = np.asarray(trials, np.float64)
    if t.ndim != 3 or t.shape[1] < 2:
        raise ValueError(f"trials must be (n_images, n_repeats ≥ 2, n_voxels), got {t.shape}")
    var_noise = t.var(axis=1, ddof=1).mean(axis=0)
    var_noise = np.maximum(var_noise, 1e-12)
    total = t.reshape(-1, t.shape[2]).var(axis=0)
    signal = np.maximum(0.0, total - var_noise)
    nc2 = signal / var_noise
    return (nc2 / (nc2 + 1.0 / t.shape[1])).astype(np.float32)


@dataclass(eq=False)
class MeasuredPool:
    seed: int
    features: np.ndarray = field(repr=False)     # (n_images, n_features)
    trials: np.ndarray = field(repr=False)       # (n_images, REPEATS, n_voxels) float16
    responses: np.ndarray = field(repr=False)    # (n_images, n_voxels) float32, z-scored
    noise_ceiling: np.ndarray = field(repr=False)
    shared: np.ndarray = field(repr=False)       # (n_images,) bool
    train: np.ndarray = field(repr=False)        # indices
    test: np.ndarray = field(repr=False)
    _scenes: list[Scene] | None = field(default=None, repr=False)

    @property
    def scenes(self) -> list[Scene]:
        """The scene records (sampled again on first use: cheap and deterministic)."""
        if self._scenes is None:
            n_shared = int(self.shared.sum())
            self._scenes = pool_scenes(self.seed, n_shared, len(self.shared) - n_shared)[0]
        return self._scenes


def pool_scenes(seed: int, n_shared: int = N_SHARED, n_own: int = N_OWN
                ) -> tuple[list[Scene], np.ndarray]:
    """The pool's scene records (``n_shared`` shared by every subject, then ``n_own`` of
    seed ``seed``) and the shared mask. Scene *i* of each part depends only on its seed
    and *i*, so a smaller pool holds the first scenes of a larger one."""
    shared = sample_scenes(n_shared, np.random.SeedSequence([SHARED_SEED, 1]))
    own = sample_scenes(n_own, np.random.SeedSequence([seed, 2]))
    is_shared = np.r_[np.ones(n_shared, bool), np.zeros(n_own, bool)]
    return shared + own, is_shared


def _shared_features(scenes: list[Scene], progress: Any = None) -> np.ndarray:
    n_shared = len(scenes)
    path = cache_dir() / "features" / f"shared-{POOL_VERSION}-{n_shared}.npy"
    if path.exists():
        try:
            f = np.load(path, allow_pickle=False)
            if f.shape == (n_shared, N_FEATURES):
                return f
        except (OSError, ValueError):
            pass  # damaged cache entry: rebuilt below
    f = features_of(scenes, progress, label="rendering shared scenes")
    buf = io.BytesIO()
    np.save(buf, f, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
    return f


def simulate_measurements(brain: TrueBrain, features: np.ndarray, seed: int
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trials float16, responses float32, noise ceiling) for the pool's features.

    BLAS runs single-threaded here: a multi-threaded matrix product rounds differently
    with 1 and 2 threads (up to 7e-6 in the responses), and a subject must be the same
    whether a benchmark worker or the main process builds it.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _simulate(brain, features, seed)


def _simulate(brain: TrueBrain, features: np.ndarray, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 4711])
    true = brain.respond(features)                       # (n, v)
    n, v = true.shape
    mu, sd = true.mean(axis=0), true.std(axis=0) + 1e-6
    sigma_n = sd / brain.ncsnr                            # per-voxel noise level
    norm = np.clip((true - mu) / sd, -2, 3)
    # heteroscedastic: stronger responses are noisier
    scale = sigma_n * np.sqrt(np.clip(0.75 + 0.25 * norm, 0.3, None))
    trials = np.empty((n, REPEATS, v), np.float32)
    order = rng.permutation(n * REPEATS)                  # presentation order → sessions
    share = brain.smooth_noise
    for r in range(REPEATS):
        white = rng.standard_normal((n, v), dtype=np.float32)
        smooth = _smooth(brain.cortex, rng.standard_normal((v, n), dtype=np.float32), 3).T
        smooth /= smooth.std(axis=0, keepdims=True) + 1e-6
        noise = np.sqrt(1 - share) * white + np.sqrt(share) * smooth
        trials[:, r] = true + scale * noise
    # sessions: per-session drift, then z-scoring within session (NSD-style)
    flat = trials.reshape(n * REPEATS, v)
    for start in range(0, n * REPEATS, SESSION_TRIALS):
        idx = order[start:start + SESSION_TRIALS]
        block = flat[idx] * rng.uniform(0.8, 1.2, v) + rng.normal(0, 0.5, v) * sd
        block = (block - block.mean(axis=0)) / (block.std(axis=0) + 1e-6)
        flat[idx] = block
    trials = flat.reshape(n, REPEATS, v)
    avg = trials.mean(axis=1)
    avg = (avg - avg.mean(axis=0)) / (avg.std(axis=0) + 1e-6)
    return trials.astype(np.float16), avg.astype(np.float32), noise_ceiling(trials)


def _probe(seed: int) -> list[str]:
    """Hashes of the first scenes of both parts of the pool: detects sampler changes."""
    shared = sample_scenes(10, np.random.SeedSequence([SHARED_SEED, 1]))
    own = sample_scenes(10, np.random.SeedSequence([seed, 2]))
    return [s.content_hash() for s in shared + own]


def _sizes(brain: TrueBrain, n_shared: int | None, n_own: int | None) -> tuple[int, int]:
    d_shared, d_own = pool_sizes(brain.subject_id)
    n_shared = d_shared if n_shared is None else int(n_shared)
    n_own = d_own if n_own is None else int(n_own)
    if n_shared < 10 or n_own < 10:
        raise ValueError(f"a pool needs at least 10 shared and 10 own scenes, got "
                         f"{n_shared} and {n_own}")
    return n_shared, n_own


def _pool_path(brain: TrueBrain, n_shared: int | None = None, n_own: int | None = None
               ) -> Path:
    """The cache file of a pool; the default sizes keep the name they always had."""
    n_shared, n_own = _sizes(brain, n_shared, n_own)
    sizes = "" if (n_shared, n_own) == (N_SHARED, N_OWN) else f"-{n_shared}+{n_own}"
    return (cache_dir() / "subjects" / f"{brain.subject_id}-{POOL_VERSION}-"
            f"{brain.fingerprint()}{sizes}-{__version__}.npz")


def build_pool(brain: TrueBrain, *, n_shared: int | None = None, n_own: int | None = None,
               use_cache: bool = True, progress: Any = None) -> MeasuredPool:
    """The measured pool of ``brain``'s subject, from the cache when present.

    ``progress(message)``, when given, hears the rendering's counts while a pool is built.

    ``n_shared`` and ``n_own`` default to :func:`pool_sizes` of the brain's id
    (:data:`N_SHARED` and :data:`N_OWN` but for mini subjects); at least 10 each.
    """
    n_shared, n_own = _sizes(brain, n_shared, n_own)
    path = _pool_path(brain, n_shared, n_own)
    is_shared = np.r_[np.ones(n_shared, bool), np.zeros(n_own, bool)]
    if use_cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                records = json.loads(bytes(z["scenes_json"]).decode())
                if records != _probe(brain.seed):
                    raise ValueError("the scene sampler changed since the cache was written")
                if z["responses"].shape[0] != n_shared + n_own:
                    raise ValueError("the pool size differs")
                return MeasuredPool(brain.seed, z["features"], z["trials"], z["responses"],
                                    z["noise_ceiling"], is_shared, z["train"], z["test"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            # a damaged or stale cache entry is rebuilt, never trusted
            import warnings
            warnings.warn(f"rebuilding damaged subject cache {path}: {e}", stacklevel=2)
    scenes, is_shared = pool_scenes(brain.seed, n_shared, n_own)
    feats = np.concatenate([_shared_features(scenes[:n_shared], progress),
                            features_of(scenes[n_shared:], progress,
                                        label="rendering the subject's own scenes")])
    trials, responses, nc = simulate_measurements(brain, feats, brain.seed)
    train = np.flatnonzero(~is_shared)
    test = np.flatnonzero(is_shared)
    pool = MeasuredPool(brain.seed, feats, trials, responses, nc, is_shared, train, test,
                        scenes)
    if use_cache:
        buf = io.BytesIO()
        np.savez(buf, features=feats, trials=trials, responses=responses, noise_ceiling=nc,
                 train=train, test=test,
                 scenes_json=np.frombuffer(json.dumps(_probe(brain.seed)).encode(), np.uint8))
        try:
            atomic_write_bytes(path, buf.getvalue())
        except OSError as e:
            raise DataError(f"cannot write the subject cache {path}: {e}. Set BRAINCAUSE_CACHE "
                            "to a writable folder.") from e
    return pool
