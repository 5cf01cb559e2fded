"""Simulated subjects: a true brain on fsaverage5 visual cortex.

Each voxel's noise-free response to a scene is

    r_v(s) = g_v · (W_v · φ(s) + b_v) ** COMPRESSION

with φ the scene's feature vector (:mod:`braincause.synth.features`) and W the sum of

* early visual cortex: retinotopic weights on the 4 × 4 contrast grid (receptive
  field from the voxel's position: left hemisphere sees the right visual field,
  dorsal voxels the lower field, posterior voxels the centre);
* planted **concept areas** (FFA, OFA, pSTS-face, PPA, OPA, RSC, EBA, FBA, VWFA,
  two food bands, a tool area beside EBA): Gaussian blobs on the cortical surface
  around literature centres (jittered per subject), each tuned to semantic features;
* **decoy areas** tuned only to cues that co-occur with concepts: warm colour (beside
  the food bands), dishware, sign shape (beside VWFA), water/texture, round objects,
  and skin-tone pixels ("human presence");
* a weak, smooth low-level tuning everywhere (luminance, contrast, saturation,
  spatial frequency).

Blobs add, so voxels at area borders have mixed selectivity. Subjects differ by
centres (±5 mm, ±7 mm for VWFA), blob widths, gains and noise. ``synth-null``
has no concept areas and no decoys. Any id ``synth-s<SEED>`` draws a new subject.
Any of these ids followed by ``-mini`` (``synth-01-mini``) is the same brain measured on
a mini pool (:func:`braincause.synth.pool.pool_sizes`), for fast tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from braincause.exceptions import UserInputError
from braincause.synth.cortex import Cortex, load_cortex
from braincause.synth.features import FEATURES, GRID, INDEX, LOW_LEVEL, N_FEATURES

COMPRESSION = 0.6
#: An area's extent: where its blob is at least this fraction of its peak.
EXTENT = 0.2

#: name: ({hemisphere: MNI centre}, width sigma mm, {feature: weight}, gain)
PLANTED: dict[str, tuple[dict[str, tuple[float, float, float]], float, dict[str, float], float]] = {
    "FFA": ({"right": (42, -50, -20), "left": (-40, -52, -20)}, 6.0,
            {"face": 1.0, "animal_face": 0.55}, 1.0),
    "OFA": ({"right": (42, -78, -10), "left": (-44, -82, -10)}, 5.5,
            {"face": 0.8, "animal_face": 0.45}, 0.9),
    "pSTS-face": ({"right": (52, -50, 6), "left": (-52, -52, 6)}, 5.5, {"face": 0.8}, 0.8),
    "PPA": ({"right": (26, -46, -10), "left": (-26, -48, -10)}, 6.0, {"place": 1.0}, 1.0),
    "OPA": ({"right": (34, -82, 20), "left": (-32, -84, 20)}, 6.0, {"place": 0.9}, 0.9),
    "RSC": ({"right": (16, -54, 12), "left": (-16, -56, 12)}, 5.5, {"place": 0.9}, 0.8),
    "EBA": ({"right": (48, -72, 2), "left": (-48, -74, 4)}, 6.5,
            {"body": 1.0, "hand": 0.7, "animal_body": 0.45}, 1.0),
    "FBA": ({"right": (40, -46, -20), "left": (-40, -48, -20)}, 4.5,
            {"body": 0.9, "animal_body": 0.35}, 0.8),
    "VWFA": ({"left": (-44, -56, -16)}, 5.0, {"text_print": 1.0, "text_hand": 0.8}, 1.0),
    "food-medial": ({"right": (30, -50, -16), "left": (-30, -52, -16)}, 6.5, {"food": 1.0}, 1.0),
    "food-lateral": ({"right": (44, -58, -14), "left": (-46, -62, -12)}, 6.5, {"food": 0.9},
                     0.9),
    "tool": ({"right": (50, -62, -6), "left": (-50, -64, -4)}, 4.5, {"tool": 1.0, "hand": 0.3},
             0.8),
}
#: Weak left pSTS (the design table marks it "weak").
HEMI_GAIN = {("pSTS-face", "left"): 0.4}

DECOYS: dict[str, tuple[dict[str, tuple[float, float, float]], float, dict[str, float], float]] = {
    "warm-colour": ({"right": (34, -60, -20), "left": (-34, -62, -20)}, 6.0, {"warm": 1.6}, 1.2),
    "dishware": ({"right": (24, -38, -14), "left": (-24, -40, -14)}, 4.5, {"dishware": 1.4},
                 1.0),
    "sign-shape": ({"right": (48, -72, -6), "left": (-50, -74, -6)}, 4.5,
                   {"sign_shape": 1.8, "high_sf": 0.5}, 1.0),
    "water-texture": ({"right": (22, -72, -8), "left": (-22, -74, -8)}, 5.0, {"texture": 1.2},
                      1.0),
    "round-object": ({"right": (36, -72, -18), "left": (-36, -74, -18)}, 4.5, {"round": 1.5},
                     1.0),
    "human-presence": ({"right": (50, -66, 26), "left": (-50, -68, 26)}, 5.0, {"skin": 1.8},
                       1.0),
}

NAMED_SUBJECTS = {"synth-01": 1, "synth-02": 2, "synth-03": 3, "synth-04": 4, "synth-null": 0}
_ID = re.compile(r"^synth-s(\d{1,9})$")
#: Suffix of a mini subject's id: the same brain on a smaller measured pool.
MINI = "-mini"


def subject_seed(subject_id: str) -> tuple[int, bool]:
    """(seed, is_null) of a synthetic subject id; raises UserInputError for unknown ids.
    A mini subject (``<id>-mini``) has the seed of ``<id>``."""
    base = subject_id[:-len(MINI)] if subject_id.endswith(MINI) else subject_id
    if base in NAMED_SUBJECTS:
        return NAMED_SUBJECTS[base] + 1000, base == "synth-null"
    m = _ID.match(base)
    if m:
        return int(m.group(1)), False
    raise UserInputError(
        f"unknown subject {subject_id!r}: use one of {', '.join(NAMED_SUBJECTS)} or "
        "'synth-s<SEED>' (e.g. synth-s1234) for a new synthetic subject (any of them with "
        f"'{MINI}' for its mini version)")


@dataclass(frozen=True, eq=False)
class Area:
    name: str
    kind: str                               # "planted" | "decoy"
    centres: dict[str, tuple[float, float, float]]
    sigma: float
    tuning: dict[str, float]
    gain: float
    weight: np.ndarray = field(repr=False)  # (n_voxels,) blob profile in [0, gain]

    @property
    def mask(self) -> np.ndarray:
        """Voxels where the blob is at least half its peak (its core, drawn in figures)."""
        peak = max(float(self.weight.max()), 1e-12)
        return self.weight >= 0.5 * peak

    @property
    def extent(self) -> np.ndarray:
        """Voxels where the blob is at least :data:`EXTENT` of its peak (about 1.8 σ from
        the centre): where the area's tuning still shapes responses, like a localizer ROI.
        Ground-truth representations reach well past the half-maximum core (only ~20 % of
        the face ground truth of synth-01 lies in the face areas' cores), so region
        evaluation counts a voxel as inside an area within its extent."""
        peak = max(float(self.weight.max()), 1e-12)
        return self.weight >= EXTENT * peak


@dataclass(frozen=True, eq=False)
class TrueBrain:
    """A subject's noise-free brain: voxel weights on the scene features."""

    subject_id: str
    seed: int
    cortex: Cortex = field(repr=False)
    areas: tuple[Area, ...] = field(repr=False)
    W: np.ndarray = field(repr=False)          # (n_voxels, n_features)
    bias: np.ndarray = field(repr=False)       # (n_voxels,)
    gain: np.ndarray = field(repr=False)       # (n_voxels,)
    ncsnr: np.ndarray = field(repr=False)      # (n_voxels,) target noise-ceiling SNR
    smooth_noise: float = 0.35                 # share of noise variance that is spatially smooth

    @property
    def n_voxels(self) -> int:
        return self.cortex.n_voxels

    def respond(self, features: np.ndarray) -> np.ndarray:
        """Noise-free responses (n_scenes, n_voxels) to a (n_scenes, n_features) array."""
        f = np.asarray(features, np.float32)
        if f.ndim != 2 or f.shape[1] != N_FEATURES:
            raise ValueError(f"features must be (n, {N_FEATURES}), got {f.shape}")
        drive = f @ self.W.T.astype(np.float32) + self.bias.astype(np.float32)
        return self.gain.astype(np.float32) * np.maximum(drive, 0.0) ** np.float32(COMPRESSION)

    def fingerprint(self) -> str:
        """Hash of everything that determines the brain's responses (a cache key)."""
        import hashlib

        h = hashlib.sha256()
        for arr in (self.W, self.bias, self.gain, self.ncsnr):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr(self.smooth_noise).encode())
        return h.hexdigest()[:12]

    def area(self, name: str) -> Area:
        for a in self.areas:
            if a.name == name:
                return a
        raise KeyError(f"{self.subject_id} has no area {name!r}")


def _blob(cortex: Cortex, centre: np.ndarray, hemi: int, sigma: float) -> np.ndarray:
    d2 = ((cortex.pial - centre) ** 2).sum(axis=1)
    w = np.exp(-d2 / (2 * sigma**2))
    w[cortex.hemi != hemi] = 0.0
    w[w < 1e-3] = 0.0
    return w


def _smooth(cortex: Cortex, x: np.ndarray, iters: int) -> np.ndarray:
    adj = cortex.adjacency.astype(np.float32)
    deg = np.asarray(adj.sum(axis=1)).ravel() + 1.0
    for _ in range(iters):
        x = (x + adj @ x) / (deg[:, None] if x.ndim == 2 else deg)
    return x


def _retinotopy(cortex: Cortex, rng: np.random.Generator) -> np.ndarray:
    """(n_voxels, GRID*GRID) early-visual weights: Gaussian receptive fields on the grid."""
    p = cortex.pial
    evc = 1.0 / (1.0 + np.exp((p[:, 1] + 78.0) / 4.0))          # posterior ⇒ early visual
    ecc = np.clip((p[:, 1] + 104.0) / 30.0, 0.0, 1.0)            # pole ⇒ centre of gaze
    side = np.where(cortex.hemi == 0, 1.0, -1.0)                 # left hemi ⇒ right field
    # horizontal position: contralateral half, further out with eccentricity
    rx = 0.5 + side * (0.05 + 0.42 * ecc) + rng.normal(0, 0.03, len(p))
    # vertical: dorsal voxels (above the calcarine) ⇒ lower field
    ry = 0.5 + np.clip((p[:, 2] - 2.0) / 30.0, -1, 1) * (0.1 + 0.35 * ecc)
    size = 0.12 + 0.2 * ecc
    centres = (np.arange(GRID) + 0.5) / GRID
    gy, gx = np.meshgrid(centres, centres, indexing="ij")
    d2 = (gx.ravel()[None] - rx[:, None]) ** 2 + (gy.ravel()[None] - ry[:, None]) ** 2
    w = np.exp(-d2 / (2 * size[:, None] ** 2))
    w /= w.sum(axis=1, keepdims=True)
    return 1.6 * evc[:, None] * w


def make_brain(subject_id: str) -> TrueBrain:
    """Build the true brain of ``subject_id`` (deterministic in the id)."""
    seed, null = subject_seed(subject_id)
    rng = np.random.default_rng([seed, 31337])
    cortex = load_cortex()
    n = cortex.n_voxels
    W = np.zeros((n, N_FEATURES))
    rc = [INDEX[f] for f in FEATURES if f.startswith("rc_")]
    W[:, rc] = _retinotopy(cortex, rng)
    low = [INDEX[f] for f in LOW_LEVEL]
    W[:, low] = np.abs(_smooth(cortex, rng.normal(0, 1, (n, len(low))), 12)) * 0.25
    areas: list[Area] = []
    if not null:
        for kind, table in (("planted", PLANTED), ("decoy", DECOYS)):
            for name, (centres, sigma, tuning, gain) in table.items():
                jit = 7.0 if name == "VWFA" else 5.0
                g = gain * rng.uniform(0.8, 1.2)
                s = sigma * rng.uniform(0.85, 1.2)
                prof = np.zeros(n)
                jittered = {}
                for hname, c in centres.items():
                    h = 0 if hname == "left" else 1
                    cj = np.asarray(c, float) + rng.uniform(-jit, jit, 3) * np.array([1, 1, 0.6])
                    jittered[hname] = tuple(float(v) for v in cj)
                    prof += HEMI_GAIN.get((name, hname), 1.0) * _blob(cortex, cj, h, s)
                prof *= g
                tun = {f: w * rng.uniform(0.85, 1.15) for f, w in tuning.items()}
                for f, w in tun.items():
                    W[:, INDEX[f]] += prof * w
                areas.append(Area(name, kind, jittered, s, tun, g, prof))
    bias = 0.05 + 0.02 * rng.random(n)
    gain = np.exp(_smooth(cortex, rng.normal(0, 0.5, n), 6)) * rng.uniform(0.8, 1.2)
    # target noise-ceiling SNR: spatially smooth, subject-specific level (median NC ≈ 0.4-0.55)
    level = rng.uniform(0.38, 0.55)
    ncsnr = level * np.exp(_smooth(cortex, rng.normal(0, 1.2, n), 4) * 1.1)
    return TrueBrain(subject_id, seed, cortex, tuple(areas), W.astype(np.float32),
                     bias.astype(np.float32), gain.astype(np.float32),
                     np.clip(ncsnr, 0.08, 3.0).astype(np.float32))
