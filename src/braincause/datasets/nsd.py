"""The Natural Scenes Dataset (NSD) as a :class:`~braincause.datasets.base.BrainDataset`.

``NSDSubject(root, 1)`` reads subject 1's single-trial betas on the fsaverage surface
from a local copy of NSD laid out as the public bucket (``s3://natural-scenes-dataset``)
and turns them into braincause's responses: each vertex's betas z-scored within each
scan session, the repeats of each image averaged, the averages z-scored across images.

Files read (all relative to ``root``)
-------------------------------------
``nsddata/experiments/nsd/nsd_expdesign.mat``
    ``masterordering`` (1 × 30,000: for every trial, a 1-based index into the
    subject's 10,000 images), ``subjectim`` (8 × 10,000: 1-based 73k image ids of
    each subject's images). Trial ``t`` (0-based, counted over all sessions) of
    subject ``s`` showed 73k image ``subjectim[s-1, masterordering[t]-1] - 1``.
``nsddata/experiments/nsd/nsd_stim_info_merged.csv``
    One row per 73k image: ``nsdId`` (0-based), ``cocoId``, ``cocoSplit``
    (``train2017``/``val2017``), ``cropBox``, ``shared1000`` (the test split).
``nsddata_betas/ppdata/subjXX/fsaverage/<beta_version>/{lh,rh}.betas_sessionNN.mgh``
    Shape (n_vertices, 1, 1, trials per session), float32 in percent signal change
    (fsaverage: 163,842 vertices per hemisphere, 750 trials per session). Only
    these surface files are read, never the volume ``.nii.gz``/``.hdf5`` betas (whose
    int16 values are betas × 300).
``nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5``
    Dataset ``imgBrick``: (73,000, 425, 425, 3) uint8, indexed by 0-based 73k id.
``nsddata/freesurfer/fsaverage/label/{lh,rh}.floc-{faces,bodies,places,words}.mgz``
    fLoc ROIs (integer labels per vertex) with their names in
    ``floc-<category>.mgz.ctab`` (``"<value> <name>"`` per line; e.g. ``2 FFA-1``).
    Optional; a different folder can be given with ``roi_dir``.
``nsddata/freesurfer/fsaverage/label/{lh,rh}.nsdgeneral.mgz``
    Only with ``vertex_mask="nsdgeneral"``.
``nsddata_stimuli/stimuli/nsd/annotations/{captions,instances}_{train2017,val2017}.json``
    COCO 2017 annotations. Optional: without them ``captions`` returns ``[]`` and
    ``annotation`` has no categories.

What is computed
----------------
* Images: every distinct image shown in the loaded sessions, ordered by 73k id.
* ``trials`` (n_images, n_repeats, n_vertices): repeat ``r`` of image ``i`` is its
  ``r``-th presentation (chronologically) in the loaded sessions, NaN where the
  image was shown fewer times. n_repeats is the largest count seen (3 in NSD).
* ``responses``: NaN-aware mean over repeats, then z-scored per vertex across
  images. Vertices constant within a session (z-score undefined) get 0 there.
* ``noise_ceiling``: NSD's definition generalised to unequal repeat counts (see
  :func:`noise_ceiling`).
* ``test_indices``: the images with ``shared1000`` true; ``train_indices``: the rest.

Cortex
------
NSD's fsaverage betas live on the full fsaverage mesh, which is not bundled with
nilearn (only fsaverage5 is), and braincause downloads nothing. The fsaverage meshes
are nested: the first 10,242 vertices of fsaverage (and fsaverage6) are exactly the
vertices of fsaverage5. So when every kept vertex has an index below 10,242 (e.g.
``vertex_mask="visual"``, braincause's fsaverage5 visual cortex, the same vertices as
the synthetic subjects) ``cortex`` is an fsaverage5 :class:`~braincause.synth.cortex.Cortex`
of those vertices (fsaverage decimated to fsaverage5: vertex sampling, no averaging).
Otherwise ``cortex`` is ``None``: use :attr:`NSDSubject.vertex`, :attr:`NSDSubject.hemi`
and :meth:`NSDSubject.to_fsaverage` to place results on the full mesh yourself.

Uncertainties about NSD's layout
--------------------------------
Checked against the NSD Data Manual and public readers (nsd_access, nsdcode users):
indices in the ``.mat`` are 1-based, ``nsdId`` is 0-based, ``subjectK_repN`` columns
are 1-based trial numbers, 750 trials per session, 40 sessions at most, completed
sessions per subject 40, 40, 32, 30, 40, 32, 40, 30. Not verified:

* whether fsaverage versions of the fLoc ROIs exist in ``nsddata/freesurfer/fsaverage/label``
  (the Data Manual documents them per subject, ``nsddata/freesurfer/subjXX/label``, on
  the subject's native surface; those are rejected here because their vertex count is
  not fsaverage's). Map them to fsaverage with nsdcode's ``nsd_mapdata`` and pass the
  folder as ``roi_dir``.
* the COCO annotation JSONs under ``nsddata_stimuli/stimuli/nsd/annotations/`` follow
  nsd_access's convention; they may need to be copied there from COCO's
  ``annotations_trainval2017.zip``.
* the trials per session are read from the beta files (750 in NSD), not assumed.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from braincause.exceptions import DataError, UserInputError
from braincause.synth.cortex import N_FSAVERAGE5, Cortex

HEMIS = ("lh", "rh")
N_STIMULI = 73000
TRIALS_PER_SESSION = 750
MAX_SESSIONS = 40
SESSIONS_PER_SUBJECT = {1: 40, 2: 40, 3: 32, 4: 30, 5: 40, 6: 32, 7: 40, 8: 30}
FLOC_CATEGORIES = ("faces", "bodies", "places", "words")
BETA_VERSIONS = ("betas_fithrf_GLMdenoise_RR", "betas_fithrf", "betas_assumehrf")
FSAVERAGE_SIZES = (10242, 40962, 163842)  # fsaverage5, 6, 7: nested meshes
CACHE_VERSION = "nsd-v1"
_CACHE_MAX_BYTES = 2 * 1024**3
_FRAME_CHUNK = 125  # frames read at a time from a beta file (memory bound)
_CHUNK_ELEMENTS = 8_000_000  # float64 elements per temporary when reducing over vertices


def _chunk(n_rows: int) -> int:
    """Vertices per chunk so that an (n_rows, chunk) float64 temporary stays ~64 MB."""
    return max(1, _CHUNK_ELEMENTS // max(1, n_rows))


# --------------------------------------------------------------------------- layout


class NSDLayout:
    """Paths of the NSD files braincause reads, for one subject."""

    def __init__(self, root: str | Path, subject: int,
                 beta_version: str = "betas_fithrf_GLMdenoise_RR") -> None:
        self.root = Path(root)
        self.subject = int(subject)
        self.beta_version = beta_version

    @property
    def expdesign(self) -> Path:
        return self.root / "nsddata" / "experiments" / "nsd" / "nsd_expdesign.mat"

    @property
    def stim_info(self) -> Path:
        return self.root / "nsddata" / "experiments" / "nsd" / "nsd_stim_info_merged.csv"

    @property
    def betas_dir(self) -> Path:
        return (self.root / "nsddata_betas" / "ppdata" / f"subj{self.subject:02d}"
                / "fsaverage" / self.beta_version)

    def betas(self, hemi: str, session: int) -> Path:
        return self.betas_dir / f"{hemi}.betas_session{session:02d}.mgh"

    @property
    def stimuli(self) -> Path:
        return self.root / "nsddata_stimuli" / "stimuli" / "nsd" / "nsd_stimuli.hdf5"

    @property
    def annotations_dir(self) -> Path:
        return self.root / "nsddata_stimuli" / "stimuli" / "nsd" / "annotations"

    def annotations(self, kind: str, split: str) -> Path:
        return self.annotations_dir / f"{kind}_{split}.json"

    @property
    def fsaverage_labels(self) -> Path:
        return self.root / "nsddata" / "freesurfer" / "fsaverage" / "label"

    @property
    def subject_labels(self) -> Path:
        return self.root / "nsddata" / "freesurfer" / f"subj{self.subject:02d}" / "label"


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{what} not found at {path}. braincause expects a local copy of NSD "
                        "in the public bucket's layout (see docs/nsd.md).")
    return path


# --------------------------------------------------------------------------- statistics


def zscore_trials(block: np.ndarray) -> np.ndarray:
    """Z-score each column of ``block`` (trials × vertices) over its rows.

    NaN-aware; a column with zero variance (or all NaN) becomes 0 where finite.
    Returns float32.
    """
    block = np.asarray(block)
    out = np.empty(block.shape, np.float32)
    step = _chunk(block.shape[0])
    for a in range(0, block.shape[1], step):
        b = np.asarray(block[:, a:a + step], np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mu = np.nanmean(b, axis=0)
            sd = np.nanstd(b, axis=0)
        ok = np.isfinite(sd) & (sd > 0)
        z = np.zeros_like(b)
        np.divide(b - mu, sd, out=z, where=ok[None, :])
        z[np.isnan(b)] = np.nan
        out[:, a:a + step] = z
    return out


def noise_ceiling(trials: np.ndarray) -> np.ndarray:
    """NSD noise ceiling (fraction of variance) of trial-z-scored responses, NaN-aware.

    ``trials`` is (n_images, n_repeats, n_voxels) with NaN for repeats not measured.
    σ²_noise is the pooled within-image variance over images with ≥ 2 repeats
    (Σ squared deviations from each image's mean / Σ (n_i − 1)), σ²_total the variance
    of all measured trials, σ²_signal = max(0, σ²_total − σ²_noise), ncsnr² =
    σ²_signal / σ²_noise and NC = ncsnr² / (ncsnr² + k) with k the mean of 1/n_i over
    the images (NSD's (A/3 + B/2 + C/1)/(A + B + C) for A, B, C images with 3, 2, 1
    repeats). Without NaNs this equals :func:`braincause.synth.pool.noise_ceiling`.
    NaN for a voxel no image of which has two repeats.
    """
    t = np.asarray(trials)
    if t.ndim != 3:
        raise ValueError(f"trials must be (n_images, n_repeats, n_voxels), got {t.shape}")
    out = np.empty(t.shape[2], np.float32)
    step = _chunk(t.shape[0] * t.shape[1])
    for a in range(0, t.shape[2], step):
        out[a:a + step] = _noise_ceiling_chunk(t[:, :, a:a + step])
    return out


def _noise_ceiling_chunk(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, np.float64)
    valid = ~np.isnan(t)
    n = valid.sum(axis=1)                                  # (n_images, v)
    seen = n >= 1
    filled = np.where(valid, t, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = filled.sum(axis=1) / n                    # NaN where n == 0
        dev = np.where(valid, t - mean_i[:, None, :], 0.0)
        ss_within = (dev ** 2).sum(axis=(0, 1))
        df = np.where(seen, n - 1, 0).sum(axis=0)
        var_noise = np.where(df > 0, ss_within / np.maximum(df, 1), np.nan)
        var_noise = np.maximum(var_noise, 1e-12)
        m = n.sum(axis=0)
        grand = filled.sum(axis=(0, 1)) / m
        total = (np.where(valid, t - grand, 0.0) ** 2).sum(axis=(0, 1)) / m
        signal = np.maximum(0.0, total - var_noise)
        nc2 = signal / var_noise
        k = np.where(seen, 1.0 / np.maximum(n, 1), 0.0).sum(axis=0) / seen.sum(axis=0)
        nc = nc2 / (nc2 + k)
    nc[df == 0] = np.nan
    return nc.astype(np.float32)


def average_and_zscore(trials: np.ndarray) -> np.ndarray:
    """Mean over repeats (NaN-aware), then z-scored per voxel across images (float32)."""
    t = np.asarray(trials)
    out = np.empty((t.shape[0], t.shape[2]), np.float32)
    step = _chunk(t.shape[0] * t.shape[1])
    for a in range(0, t.shape[2], step):
        c = np.asarray(t[:, :, a:a + step], np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            avg = np.nanmean(c, axis=1)
        out[:, a:a + step] = zscore_trials(avg)
    return out


# --------------------------------------------------------------------------- readers


def read_expdesign(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``masterordering`` (0-based 10k indices), ``subjectim`` (0-based 73k ids), ``sharedix``."""
    _require(path, "NSD experiment design (nsd_expdesign.mat)")
    names = ("masterordering", "subjectim", "sharedix")
    try:
        import scipy.io

        try:
            mat = scipy.io.loadmat(str(path), variable_names=names)
            arrays = [np.asarray(mat[k]) for k in names]
        except NotImplementedError:  # MATLAB v7.3 = HDF5, arrays stored transposed
            import h5py

            with h5py.File(path, "r") as f:
                arrays = [np.asarray(f[k][()]).T for k in names]
    except KeyError as e:
        raise DataError(f"NSD experiment design {path} lacks the variable {e}") from e
    except Exception as e:
        raise DataError(f"could not read the NSD experiment design {path}: {e}") from e
    out = []
    for k, a in zip(names, arrays, strict=True):
        if a.size == 0 or not np.issubdtype(a.dtype, np.number) or not np.all(a == np.round(a)):
            raise DataError(f"NSD experiment design {path}: {k} is not an array of indices")
        out.append(a.astype(np.int64) - 1)
    mo, sim, shared = out
    if sim.ndim != 2:
        raise DataError(f"NSD experiment design {path}: subjectim has shape {sim.shape}, "
                        "expected (subjects, images)")
    mo = mo.reshape(-1)
    if mo.min() < 0 or mo.max() >= sim.shape[1]:
        raise DataError(f"NSD experiment design {path}: masterordering indexes outside "
                        f"subjectim's {sim.shape[1]} columns")
    return mo, sim, shared.reshape(-1)


def read_stim_info(path: Path) -> dict[str, np.ndarray]:
    """Per-73k-image arrays (indexed by nsdId) from ``nsd_stim_info_merged.csv``."""
    _require(path, "NSD stimulus information (nsd_stim_info_merged.csv)")
    import pandas as pd

    try:
        df = pd.read_csv(path)
    except Exception as e:
        raise DataError(f"could not read the NSD stimulus information {path}: {e}") from e
    need = ("nsdId", "cocoId", "cocoSplit", "shared1000")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"NSD stimulus information {path} lacks the column(s) {missing}")
    ids = df["nsdId"].to_numpy()
    if not np.issubdtype(ids.dtype, np.integer) or not np.array_equal(np.sort(ids),
                                                                       np.arange(len(ids))):
        raise DataError(f"NSD stimulus information {path}: nsdId is not 0 … {len(ids) - 1}")
    df = df.set_index("nsdId").sort_index()
    shared = df["shared1000"]
    if shared.dtype != bool:
        shared = shared.astype(str).str.strip().str.lower().isin(("true", "1", "1.0"))
    info = {"coco_id": df["cocoId"].to_numpy(np.int64),
            "coco_split": df["cocoSplit"].astype(str).to_numpy(),
            "shared1000": shared.to_numpy(bool)}
    if "cropBox" in df.columns:
        info["crop_box"] = df["cropBox"].astype(str).to_numpy()
    return info


def _mgh_header(path: Path, what: str):
    """Header of an .mgh/.mgz file, checked to hold all of its data."""
    import nibabel as nib

    _require(path, what)
    try:
        img = nib.load(str(path))
        hdr = img.header
        shape = tuple(int(s) for s in hdr.get_data_shape())
        if path.suffix == ".mgh":
            need = int(hdr.get_data_offset()) + int(np.prod(shape)) * hdr.get_data_dtype().itemsize
            size = path.stat().st_size
            if size < need:
                raise ValueError(f"file has {size} bytes, its header announces {need} "
                                 "(truncated download?)")
    except Exception as e:
        raise DataError(f"corrupt {what} {path}: {e}") from e
    return img, shape


def read_label(path: Path, n_vertices: int, what: str) -> np.ndarray:
    """Integer per-vertex labels of a surface ``.mgz``/``.mgh`` (checked against the betas)."""
    img, shape = _mgh_header(path, what)
    if int(np.prod(shape)) != n_vertices:
        raise DataError(f"{what} {path} has {int(np.prod(shape))} vertices but the betas have "
                        f"{n_vertices}: it is not on the betas' surface (subject-native labels "
                        "must be mapped to fsaverage first, e.g. with nsdcode's nsd_mapdata)")
    try:
        data = np.asarray(img.dataobj).reshape(-1)
    except Exception as e:
        raise DataError(f"corrupt {what} {path}: {e}") from e
    return np.rint(np.nan_to_num(data)).astype(np.int64)


def read_ctab(path: Path) -> dict[int, str]:
    """``{value: name}`` from an NSD ``.mgz.ctab`` (lines ``"<value> <name> …"``)."""
    names: dict[int, str] = {}
    try:
        text = path.read_text()
    except OSError as e:
        raise DataError(f"could not read the ROI colour table {path}: {e}") from e
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            try:
                names[int(parts[0])] = parts[1]
            except ValueError as e:
                raise DataError(f"ROI colour table {path}: bad line {line!r}") from e
    return names


# --------------------------------------------------------------------------- subject


class NSDSubject:
    """One NSD subject's fsaverage betas as a braincause ``BrainDataset``.

    Parameters
    ----------
    root : path
        Folder holding NSD in the public bucket's layout (``nsddata/``,
        ``nsddata_betas/``, ``nsddata_stimuli/``).
    subject : int
        1 … 8 (any subject present in ``subjectim`` for a miniature NSD).
    sessions : iterable of int, optional
        1-based scan sessions to load; default every session whose ``lh`` and ``rh``
        beta files are present (1 … 40).
    vertex_mask : None, "visual", "nsdgeneral" or bool array
        Vertices kept: all (None; 327,684 for fsaverage, ~40 GB of float32 trials
        for 40 sessions), braincause's fsaverage5 visual cortex (``"visual"``; needs
        fsaverage-family files), NSD's ``nsdgeneral`` ROI, or a boolean array over
        the left then right hemisphere's vertices of the beta files.
    image_size : int
        Default side of :meth:`image`.
    zscore : "session" or None
        ``"session"`` z-scores each vertex's betas within each session (NSD's
        recommendation); None keeps percent signal change in ``trials``.
        ``responses`` are always z-scored across images.
    beta_version : str
        ``betas_fithrf_GLMdenoise_RR`` (NSD's beta version 3, default),
        ``betas_fithrf`` or ``betas_assumehrf``.
    roi_dir : path, optional
        Folder of ``{lh,rh}.floc-*.mgz`` and ``floc-*.mgz.ctab`` on the betas'
        surface; default ``nsddata/freesurfer/fsaverage/label``.
    use_cache : bool
        Keep the reduced trials in the braincause cache (``$BRAINCAUSE_CACHE/nsd``)
        keyed on the files' sizes and modification times.

    Notes
    -----
    Construction reads only the design, the stimulus table and the beta files'
    headers; betas are read on first use of ``trials``/``responses``/``noise_ceiling``,
    one session and hemisphere at a time, a few frames at a time, reduced to the kept
    vertices at once.
    """

    def __init__(self, root: str | Path, subject: int, *,
                 sessions: Iterable[int] | None = None,
                 vertex_mask: str | np.ndarray | None = None,
                 image_size: int = 224,
                 zscore: str | None = "session",
                 beta_version: str = "betas_fithrf_GLMdenoise_RR",
                 roi_dir: str | Path | None = None,
                 use_cache: bool = True) -> None:
        if isinstance(subject, bool) or not isinstance(subject, (int, np.integer)) or subject < 1:
            raise UserInputError(f"subject must be a positive integer (1 … 8), got {subject!r}")
        if zscore not in ("session", None):
            raise UserInputError(f"zscore must be 'session' or None, got {zscore!r}")
        if beta_version not in BETA_VERSIONS:
            raise UserInputError(f"beta_version must be one of {BETA_VERSIONS}, "
                                 f"got {beta_version!r}")
        if not isinstance(image_size, (int, np.integer)) or image_size < 1:
            raise UserInputError(f"image_size must be a positive integer, got {image_size!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"NSD root folder not found at {self.root}")
        self.subject = int(subject)
        self.subject_id = f"nsd-subj{self.subject:02d}"
        self.layout = NSDLayout(self.root, self.subject, beta_version)
        self.image_size = int(image_size)
        self.zscore = zscore
        self.use_cache = bool(use_cache)
        self._roi_dir = Path(roi_dir) if roi_dir is not None else self.layout.fsaverage_labels
        self._coco_cache: dict[tuple[str, str], dict[int, list[dict]] | None] = {}
        self._coco_categories: dict[str, dict[int, tuple[str, str]]] = {}

        self.sessions = self._find_sessions(sessions)
        self._n_hemi, self._tps = self._check_beta_files()
        self.vertex, self.hemi = self._kept_vertices(vertex_mask)
        self._design()

    def __repr__(self) -> str:
        return (f"NSDSubject({str(self.root)!r}, {self.subject}, sessions={len(self.sessions)}, "
                f"n_voxels={self.n_voxels}, n_images={self.n_images})")

    # ----------------------------------------------------------- construction
    def _find_sessions(self, sessions: Iterable[int] | None) -> tuple[int, ...]:
        lay = self.layout
        if sessions is None:
            found = tuple(s for s in range(1, MAX_SESSIONS + 1)
                          if all(lay.betas(h, s).is_file() for h in HEMIS))
            if not found:
                raise DataError(f"no NSD beta files found for subject {self.subject}: expected "
                                f"{lay.betas('lh', 1)} (and rh., sessions 01 … "
                                f"{MAX_SESSIONS})")
            return found
        try:
            chosen = sorted({int(s) for s in sessions})
        except (TypeError, ValueError) as e:
            raise UserInputError(f"sessions must be integers, got {sessions!r}") from e
        if not chosen or chosen[0] < 1 or chosen[-1] > MAX_SESSIONS:
            raise UserInputError(f"sessions must be 1 … {MAX_SESSIONS}, got {chosen}")
        for s in chosen:
            for h in HEMIS:
                _require(lay.betas(h, s), f"NSD betas ({h}, session {s})")
        return tuple(chosen)

    def _check_beta_files(self) -> tuple[dict[str, int], int]:
        n_hemi: dict[str, int] = {}
        tps = None
        for s in self.sessions:
            for h in HEMIS:
                path = self.layout.betas(h, s)
                _, shape = _mgh_header(path, "NSD beta file")
                if len(shape) != 4 or shape[1:3] != (1, 1):
                    raise DataError(f"NSD beta file {path} has shape {shape}, expected "
                                    "(vertices, 1, 1, trials)")
                n_hemi.setdefault(h, shape[0])
                tps = shape[3] if tps is None else tps
                if shape[0] != n_hemi[h] or shape[3] != tps:
                    raise DataError(f"NSD beta file {path} has shape {shape}; session "
                                    f"{self.sessions[0]} has ({n_hemi[h]}, 1, 1, {tps})")
        assert tps is not None
        return n_hemi, int(tps)

    @property
    def is_fsaverage(self) -> bool:
        """Whether both hemispheres have an fsaverage5/6/7 vertex count (nested meshes)."""
        return all(self._n_hemi[h] in FSAVERAGE_SIZES for h in HEMIS)

    def _kept_vertices(self, mask: str | np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        n_lh, n_rh = self._n_hemi["lh"], self._n_hemi["rh"]
        if mask is None:
            keep = np.ones(n_lh + n_rh, bool)
        elif isinstance(mask, str) and mask == "visual":
            if not self.is_fsaverage:
                raise UserInputError(
                    f"vertex_mask='visual' needs fsaverage-family betas ({FSAVERAGE_SIZES} "
                    f"vertices per hemisphere); these have {n_lh} and {n_rh}")
            from braincause.synth.cortex import load_cortex

            c = load_cortex()
            keep = np.zeros(n_lh + n_rh, bool)
            keep[c.vertex[c.hemi == 0]] = True
            keep[n_lh + c.vertex[c.hemi == 1]] = True
        elif isinstance(mask, str) and mask == "nsdgeneral":
            lab = self.layout.fsaverage_labels
            parts = [read_label(lab / f"{h}.nsdgeneral.mgz", self._n_hemi[h],
                                "NSD nsdgeneral ROI") > 0 for h in HEMIS]
            keep = np.concatenate(parts)
        elif isinstance(mask, str):
            raise UserInputError(f"vertex_mask must be None, 'visual', 'nsdgeneral' or a "
                                 f"boolean array, got {mask!r}")
        else:
            keep = np.asarray(mask)
            if keep.dtype != bool or keep.shape != (n_lh + n_rh,):
                raise UserInputError(
                    f"vertex_mask must be a boolean array of shape ({n_lh + n_rh},) (left then "
                    f"right hemisphere), got dtype {keep.dtype} and shape {keep.shape}")
        if not keep.any():
            raise UserInputError("vertex_mask keeps no vertex")
        idx = np.flatnonzero(keep)
        hemi = (idx >= n_lh).astype(np.int8)
        vertex = np.where(hemi == 1, idx - n_lh, idx).astype(np.int64)
        return vertex, hemi

    def _design(self) -> None:
        mo, sim, _ = read_expdesign(self.layout.expdesign)
        if self.subject > sim.shape[0]:
            raise DataError(f"NSD experiment design {self.layout.expdesign} has "
                            f"{sim.shape[0]} subjects, subject {self.subject} requested")
        info = read_stim_info(self.layout.stim_info)
        n_stim = info["coco_id"].shape[0]
        row = sim[self.subject - 1]
        per_session = []
        for s in self.sessions:
            t = (s - 1) * self._tps + np.arange(self._tps)
            if t[-1] >= mo.shape[0]:
                raise DataError(f"NSD experiment design {self.layout.expdesign} has "
                                f"{mo.shape[0]} trials; session {s} needs trials up to "
                                f"{t[-1] + 1} ({self._tps} per session)")
            per_session.append(row[mo[t]])
        ids_by_trial = np.concatenate(per_session)
        if ids_by_trial.min() < 0 or ids_by_trial.max() >= n_stim:
            raise DataError(f"NSD experiment design {self.layout.expdesign}: subjectim has ids "
                            f"outside the {n_stim} images of {self.layout.stim_info}")
        self._nsd_ids = np.unique(ids_by_trial)
        image_of_trial = np.searchsorted(self._nsd_ids, ids_by_trial)
        order = np.argsort(image_of_trial, kind="stable")
        counts = np.bincount(image_of_trial, minlength=self._nsd_ids.size)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        rep = np.empty_like(image_of_trial)
        rep[order] = np.arange(order.size) - np.repeat(starts, counts)
        self._n_repeats = counts.astype(np.int64)
        self._trial_image = image_of_trial.reshape(len(self.sessions), self._tps)
        self._trial_rep = rep.reshape(len(self.sessions), self._tps)
        self._info = {k: v[self._nsd_ids] for k, v in info.items()}
        self._shared = self._info["shared1000"].copy()

    # ----------------------------------------------------------- BrainDataset
    @property
    def n_voxels(self) -> int:
        return int(self.vertex.shape[0])

    @property
    def n_images(self) -> int:
        return int(self._nsd_ids.shape[0])

    @property
    def trials_per_session(self) -> int:
        """Frames of each beta file (750 in NSD)."""
        return self._tps

    @property
    def n_repeats(self) -> np.ndarray:
        """(n_images,) number of measured repeats of each image in the loaded sessions."""
        return self._n_repeats.copy()

    @property
    def nsd_ids(self) -> np.ndarray:
        """(n_images,) 0-based 73k ids of the images, ascending."""
        return self._nsd_ids.copy()

    def nsd_id(self, i: int) -> int:
        """0-based 73k id (row of ``imgBrick`` and of the stimulus table) of image ``i``."""
        return int(self._nsd_ids[self._check_index(i)])

    @cached_property
    def cortex(self) -> Cortex | None:
        """fsaverage5 :class:`Cortex` of the kept vertices, or None.

        Available when the betas are fsaverage-family (fsaverage5/6/7 vertex counts,
        whose first 10,242 vertices are fsaverage5's) and every kept vertex index is
        below 10,242. None otherwise: full-fsaverage meshes are not bundled with nilearn
        and are never downloaded; use :attr:`vertex`, :attr:`hemi` and
        :meth:`to_fsaverage` instead.
        """
        if not self.is_fsaverage or int(self.vertex.max()) >= N_FSAVERAGE5:
            return None
        return fsaverage5_cortex(self.vertex, self.hemi)

    @property
    def trials(self) -> np.ndarray:
        """(n_images, n_repeats, n_voxels) float32 single-trial betas, NaN where not measured.

        Z-scored per vertex within each session when ``zscore="session"``.
        """
        return self._trials

    @cached_property
    def responses(self) -> np.ndarray:
        """(n_images, n_voxels) float32: repeats averaged, then z-scored across images."""
        return average_and_zscore(self._trials)

    @cached_property
    def noise_ceiling(self) -> np.ndarray:
        """(n_voxels,) NSD noise ceiling (fraction of variance) of :attr:`responses`."""
        return noise_ceiling(self._trials)

    @property
    def shared(self) -> np.ndarray:
        """(n_images,) bool: the image is one of NSD's shared 1000 (``shared1000``)."""
        return self._shared.copy()

    @property
    def train_indices(self) -> np.ndarray:
        return np.flatnonzero(~self._shared)

    @property
    def test_indices(self) -> np.ndarray:
        return np.flatnonzero(self._shared)

    @cached_property
    def roi_labels(self) -> dict[str, np.ndarray]:
        """fLoc ROIs (e.g. ``"FFA-1"``) as boolean masks over the kept vertices.

        Read from ``roi_dir`` (default ``nsddata/freesurfer/fsaverage/label``); a
        category whose files are absent is skipped with a warning. Every ROI present
        anywhere on the surface is listed, even when none of its vertices is kept.
        """
        rois: dict[str, np.ndarray] = {}
        missing = []
        for cat in FLOC_CATEGORIES:
            paths = {h: self._roi_dir / f"{h}.floc-{cat}.mgz" for h in HEMIS}
            absent = [str(p) for p in paths.values() if not p.is_file()]
            if absent:
                missing.extend(absent)
                continue
            full = np.concatenate([read_label(paths[h], self._n_hemi[h], f"fLoc {cat} ROI file")
                                   for h in HEMIS])
            names = self._ctab(cat)
            kept = full[self._flat_index()]
            for value in np.unique(full[full > 0]):
                name = names.get(int(value), f"floc-{cat}-{int(value)}")
                if name in rois:
                    name = f"floc-{cat}:{name}"
                rois[name] = kept == value
        if missing:
            warnings.warn(f"fLoc ROI files not found, skipped: {', '.join(missing)}",
                          stacklevel=2)
        return rois

    def image(self, i: int, size: int | None = None) -> np.ndarray:
        """RGB uint8 (size, size, 3) of image ``i`` from ``imgBrick``, resized with PIL."""
        import h5py
        from PIL import Image

        nid = self.nsd_id(i)
        size = self.image_size if size is None else int(size)
        if size < 1:
            raise UserInputError(f"size must be a positive integer, got {size}")
        path = _require(self.layout.stimuli, "NSD stimuli (nsd_stimuli.hdf5)")
        try:
            with h5py.File(path, "r") as f:
                ds = f["imgBrick"]
                if ds.ndim != 4 or ds.shape[3] != 3 or ds.shape[0] <= nid:
                    raise ValueError(f"imgBrick has shape {ds.shape}, expected "
                                     f"(≥ {nid + 1}, height, width, 3)")
                arr = np.asarray(ds[nid])
        except Exception as e:
            raise DataError(f"could not read image {nid} from the NSD stimuli {path}: {e}") from e
        arr = arr.astype(np.uint8, copy=False)
        if arr.shape[:2] != (size, size):
            arr = np.asarray(Image.fromarray(arr).resize((size, size), Image.Resampling.BICUBIC))
        return arr

    def captions(self, i: int) -> list[str]:
        """COCO captions of image ``i`` ([] when the annotation files are absent)."""
        i = self._check_index(i)
        index = self._coco("captions", str(self._info["coco_split"][i]))
        if index is None:
            return []
        return [a["caption"].strip() for a in index.get(int(self._info["coco_id"][i]), [])]

    def annotation(self, i: int) -> dict[str, Any]:
        """73k id, COCO id and split, shared flag, repeats and (when present) COCO categories."""
        i = self._check_index(i)
        split = str(self._info["coco_split"][i])
        coco_id = int(self._info["coco_id"][i])
        out: dict[str, Any] = {"nsd_id": int(self._nsd_ids[i]), "coco_id": coco_id,
                               "coco_split": split, "shared": bool(self._shared[i]),
                               "n_repeats": int(self._n_repeats[i])}
        if "crop_box" in self._info:
            nums = re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", str(self._info["crop_box"][i]))
            if len(nums) == 4:
                out["crop_box"] = tuple(float(x) for x in nums)
        index = self._coco("instances", split)
        out["annotations_available"] = index is not None
        anns = (index or {}).get(coco_id, [])
        cats = self._coco_categories.get(split, {})
        counts: dict[str, int] = {}
        supers = set()
        for a in anns:
            name, sup = cats.get(int(a["category_id"]), (str(a["category_id"]), ""))
            counts[name] = counts.get(name, 0) + 1
            if sup:
                supers.add(sup)
        out["categories"] = sorted(counts)
        out["supercategories"] = sorted(supers)
        out["instance_counts"] = dict(sorted(counts.items()))
        return out

    # ----------------------------------------------------------- helpers
    def to_fsaverage(self, values: np.ndarray, fill: float = np.nan) -> dict[str, np.ndarray]:
        """Scatter per-voxel ``values`` onto both hemispheres of the betas' surface."""
        values = np.asarray(values)
        if values.shape[0] != self.n_voxels:
            raise UserInputError(f"values has {values.shape[0]} entries, the subject has "
                                 f"{self.n_voxels} voxels")
        out = {}
        for h, name in enumerate(HEMIS):
            full = np.full((self._n_hemi[name], *values.shape[1:]), fill,
                           dtype=np.result_type(values.dtype, np.float32))
            sel = self.hemi == h
            full[self.vertex[sel]] = values[sel]
            out[name] = full
        return out

    def _check_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"image index must be an integer, got {type(i).__name__}")
        if not -self.n_images <= i < self.n_images:
            raise IndexError(f"image index {i} out of range for {self.n_images} images")
        return int(i) % self.n_images

    def _flat_index(self) -> np.ndarray:
        return np.where(self.hemi == 1, self.vertex + self._n_hemi["lh"], self.vertex)

    def _ctab(self, cat: str) -> dict[int, str]:
        for folder in (self._roi_dir, self.layout.subject_labels):
            p = folder / f"floc-{cat}.mgz.ctab"
            if p.is_file():
                return read_ctab(p)
        warnings.warn(f"no colour table floc-{cat}.mgz.ctab in {self._roi_dir} or "
                      f"{self.layout.subject_labels}: ROIs named by value", stacklevel=3)
        return {}

    def _coco(self, kind: str, split: str) -> dict[int, list[dict]] | None:
        key = (kind, split)
        if key in self._coco_cache:
            return self._coco_cache[key]
        path = self.layout.annotations(kind, split)
        if not path.is_file():
            warnings.warn(f"COCO annotations not found at {path}: no {kind} for {split} images",
                          stacklevel=3)
            self._coco_cache[key] = None
            return None
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            wanted = set(self._info["coco_id"][self._info["coco_split"] == split].tolist())
            index: dict[int, list[dict]] = {}
            for a in sorted(data.get("annotations", []), key=lambda a: a.get("id", 0)):
                cid = int(a["image_id"])
                if cid in wanted:
                    index.setdefault(cid, []).append(
                        {k: a[k] for k in ("caption", "category_id") if k in a})
            if kind == "instances":
                self._coco_categories[split] = {
                    int(c["id"]): (str(c["name"]), str(c.get("supercategory", "")))
                    for c in data.get("categories", [])}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataError(f"could not read the COCO annotations {path}: {e}") from e
        self._coco_cache[key] = index
        return index

    # ----------------------------------------------------------- loading betas
    @cached_property
    def _trials(self) -> np.ndarray:
        path = self._cache_path() if self.use_cache else None
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    t = z["trials"]
                if t.shape == self._trials_shape() and t.dtype == np.float32:
                    return t
            except (OSError, ValueError, KeyError):
                pass  # damaged cache entry: read the betas again
        t = self._load_trials()
        if path is not None and t.nbytes <= _CACHE_MAX_BYTES:
            from braincause.utils import atomic_write_bytes

            buf = io.BytesIO()
            np.savez(buf, trials=t)
            try:
                atomic_write_bytes(path, buf.getvalue())
            except OSError:
                pass  # a read-only cache only costs time
        return t

    def _trials_shape(self) -> tuple[int, int, int]:
        return (self.n_images, int(self._n_repeats.max()), self.n_voxels)

    def _load_trials(self) -> np.ndarray:
        trials = np.full(self._trials_shape(), np.nan, np.float32)
        for k, s in enumerate(self.sessions):
            block = self.read_session(s)
            if self.zscore == "session":
                block = zscore_trials(block)
            trials[self._trial_image[k], self._trial_rep[k]] = block
        return trials

    def read_session(self, session: int) -> np.ndarray:
        """(trials per session, n_voxels) float32 raw betas of one session, kept vertices."""
        if session not in self.sessions:
            raise UserInputError(f"session {session} is not among the loaded sessions "
                                 f"{self.sessions}")
        parts = []
        for h, name in enumerate(HEMIS):
            path = self.layout.betas(name, session)
            idx = self.vertex[self.hemi == h]
            out = np.empty((self._tps, idx.size), np.float32)
            if idx.size:
                img, shape = _mgh_header(path, "NSD beta file")
                if shape != (self._n_hemi[name], 1, 1, self._tps):
                    raise DataError(f"NSD beta file {path} changed shape to {shape}")
                try:
                    for a in range(0, self._tps, _FRAME_CHUNK):
                        b = min(a + _FRAME_CHUNK, self._tps)
                        chunk = np.asarray(img.dataobj[:, 0, 0, a:b])
                        out[a:b] = chunk[idx].T
                except Exception as e:
                    raise DataError(f"corrupt NSD beta file {path}: {e}") from e
            parts.append(out)
        return np.concatenate(parts, axis=1)

    def fingerprint(self) -> str:
        """Identifies this subject's data (files, sessions, vertices, z-scoring) for caches."""
        path = self._cache_path()
        if path is None:
            raise DataError(f"cannot read the NSD beta files of {self.subject_id} under "
                            f"{self.root}")
        return path.stem

    def _cache_path(self) -> Path | None:
        from braincause.utils import cache_dir

        try:
            files = []
            for s in self.sessions:
                for h in HEMIS:
                    st = self.layout.betas(h, s).stat()
                    files.append([h, s, st.st_size, st.st_mtime_ns])
            for p in (self.layout.expdesign, self.layout.stim_info):
                st = p.stat()
                files.append([p.name, st.st_size, st.st_mtime_ns])
        except OSError:
            return None
        key = json.dumps({"v": CACHE_VERSION, "root": str(self.root.resolve()),
                          "subject": self.subject, "beta": self.layout.beta_version,
                          "sessions": list(self.sessions), "zscore": self.zscore,
                          "vertices": hashlib.sha256(self._flat_index().tobytes()).hexdigest(),
                          "files": files}, sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        return cache_dir() / "nsd" / f"{self.subject_id}-{digest}.npz"


# --------------------------------------------------------------------------- cortex


def fsaverage5_cortex(vertex: np.ndarray, hemi: np.ndarray) -> Cortex:
    """A :class:`Cortex` of fsaverage5 vertices ``vertex`` (hemisphere ``hemi``, 0 = left).

    braincause's visual cortex (:func:`~braincause.synth.cortex.load_cortex`) itself
    when the vertices are exactly its own; otherwise built from nilearn's bundled
    fsaverage5 meshes. Vertices must be ordered left first, ascending within each
    hemisphere.
    """
    from braincause.synth.cortex import cortex_for, load_cortex

    vertex = np.asarray(vertex, np.int64)
    hemi = np.asarray(hemi, np.int8)
    if vertex.size and (vertex.min() < 0 or vertex.max() >= N_FSAVERAGE5):
        raise UserInputError(f"fsaverage5 vertices must be 0 … {N_FSAVERAGE5 - 1}")
    base = load_cortex()
    if np.array_equal(base.vertex, vertex) and np.array_equal(base.hemi, hemi):
        return base
    return cortex_for(vertex, hemi)
