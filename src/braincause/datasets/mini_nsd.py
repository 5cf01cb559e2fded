"""A miniature NSD on disk: the real layout and file formats, tiny sizes, planted signal.

``write_mini_nsd(root)`` writes what :class:`braincause.datasets.nsd.NSDSubject` reads,
at the same relative paths and in the same formats as the public NSD bucket:

* ``nsddata/experiments/nsd/nsd_expdesign.mat`` (scipy ``savemat``; 1-based
  ``masterordering``, ``subjectim``, ``sharedix`` as doubles, like MATLAB),
* ``nsddata/experiments/nsd/nsd_stim_info_merged.csv`` (NSD's columns: ``cocoId``,
  ``cocoSplit``, ``cropBox``, ``loss``, ``nsdId``, ``flagged``, ``BOLD5000``,
  ``shared1000``, ``subjectK``, ``subjectK_repN`` with 1-based trial numbers),
* ``nsddata_betas/ppdata/subjXX/fsaverage/betas_fithrf_GLMdenoise_RR/{lh,rh}.betas_sessionNN.mgh``
  (nibabel ``MGHImage``, float32, shape (n_vertices, 1, 1, trials_per_session)),
* ``nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5`` (``imgBrick``, uint8, small images),
* ``nsddata/freesurfer/fsaverage/label/{lh,rh}.floc-*.mgz`` + ``floc-*.mgz.ctab`` and
  ``{lh,rh}.nsdgeneral.mgz``,
* ``nsddata_stimuli/stimuli/nsd/annotations/{captions,instances}_{train2017,val2017}.json``.

Planted signal: every image has a property (its mean luminance, standardized over
the stimuli); a random subset of vertices responds to it with a per-vertex gain,
``beta = gain · property + N(0, 1)``, and every session adds its own per-vertex
offset and scale (so per-session z-scoring matters). A few vertices are constant
within each session. The design holds 3 presentations of each subject image, but
only ``n_sessions × trials_per_session`` trials get betas, so some images have fewer
than 3 repeats (as for NSD subjects 3, 4, 6 and 8).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from braincause.exceptions import UserInputError
from braincause.utils import RandomState, check_random_state

FLOC_NAMES: dict[str, tuple[str, ...]] = {
    "faces": ("OFA", "FFA-1", "FFA-2", "mTL-faces", "aTL-faces"),
    "bodies": ("EBA", "FBA-1", "FBA-2", "mTL-bodies"),
    "places": ("OPA", "PPA", "RSC"),
    "words": ("OWFA", "VWFA-1", "VWFA-2", "mfs-words", "mTL-words"),
}
_COCO_CATEGORIES = ({"id": 1, "name": "person", "supercategory": "person"},
                    {"id": 3, "name": "car", "supercategory": "vehicle"},
                    {"id": 18, "name": "dog", "supercategory": "animal"})
_COLOURS = ("red", "green", "blue")


@dataclass(frozen=True, eq=False)
class MiniNSD:
    """What :func:`write_mini_nsd` wrote, with the ground truth of the planted signal.

    Attributes
    ----------
    root : Path
    subjects : tuple of int
    n_sessions, trials_per_session, n_vertices : int
        ``n_vertices`` per hemisphere.
    image_property : (n_stimuli,) float
        The property signal vertices respond to (standardized mean luminance).
    signal_vertices : (k,) int
        Flat vertex indices (left hemisphere then right, ``lh`` index + n_vertices
        for ``rh``) of the responsive vertices.
    gains : (k,) float
        Their gains (signal SD relative to a noise SD of 1).
    constant_vertices : (m,) int
        Flat indices of vertices constant within each session.
    shared_ids : (n_shared,) int
        0-based 73k ids of the shared images.
    """

    root: Path
    subjects: tuple[int, ...]
    n_sessions: int
    trials_per_session: int
    n_vertices: int
    image_property: np.ndarray
    signal_vertices: np.ndarray
    gains: np.ndarray
    constant_vertices: np.ndarray
    shared_ids: np.ndarray


def write_mini_nsd(root: str | Path, n_subjects: int = 1, n_sessions: int = 2, *,
                   trials_per_session: int = 50, n_stimuli: int = 120,
                   n_subject_images: int = 40, n_shared: int = 12, n_vertices: int = 10242,
                   image_size: int = 32, signal_fraction: float = 0.05,
                   annotations: bool = True, rois: bool = True,
                   random_state: RandomState = 0) -> MiniNSD:
    """Write a miniature NSD under ``root`` (see the module docstring).

    Parameters
    ----------
    root : path
        Folder to write into (created; existing files are overwritten).
    n_subjects : int
        Subjects 1 … n_subjects (at most 8).
    n_sessions : int
        Sessions with beta files, per subject.
    trials_per_session : int
        Frames of each beta file (750 in NSD).
    n_stimuli : int
        Size of the stimulus set (73,000 in NSD).
    n_subject_images : int
        Images per subject, the shared ones included (10,000 in NSD); each appears
        3 times in ``masterordering``. Must be ≥ n_sessions × trials_per_session / 3.
    n_shared : int
        Images every subject sees (1,000 in NSD).
    n_vertices : int
        Vertices per hemisphere (163,842 in NSD's fsaverage). 10,242 (fsaverage5's
        count) makes ``vertex_mask="visual"`` and ``cortex`` available.
    image_size : int
        Side of the stored images (425 in NSD).
    signal_fraction : float
        Fraction of vertices responding to the image property.
    annotations, rois : bool
        Write the COCO annotation JSONs / the fLoc and nsdgeneral labels.
    random_state : int, Generator, SeedSequence or None, default=0
        Source of every random draw (see :func:`braincause.utils.check_random_state`).

    Returns
    -------
    MiniNSD
        What was written, with the planted signal's ground truth.
    """
    import h5py
    import nibabel as nib
    import pandas as pd
    import scipy.io

    rng = check_random_state(random_state)
    n_trials = n_sessions * trials_per_session
    n_own = n_subject_images - n_shared
    checks = (
        (1 <= n_subjects <= 8, "n_subjects must be 1 … 8"),
        (1 <= n_sessions <= 40, "n_sessions must be 1 … 40"),
        (trials_per_session >= 2, "trials_per_session must be ≥ 2"),
        (0 <= n_shared <= n_subject_images, "need 0 ≤ n_shared ≤ n_subject_images"),
        (n_shared + n_subjects * n_own <= n_stimuli,
         "n_stimuli too small for the shared and own images of every subject"),
        (n_trials <= 3 * n_subject_images,
         "n_sessions × trials_per_session exceeds 3 × n_subject_images (the design's trials)"),
        (n_vertices >= 8, "n_vertices must be ≥ 8"),
        (0 < signal_fraction < 1, "signal_fraction must be in (0, 1)"),
        (image_size >= 4, "image_size must be ≥ 4"),
    )
    for ok, msg in checks:
        if not ok:
            raise UserInputError(f"write_mini_nsd: {msg}")
    root = Path(root)
    exp_dir = root / "nsddata" / "experiments" / "nsd"
    stim_dir = root / "nsddata_stimuli" / "stimuli" / "nsd"
    label_dir = root / "nsddata" / "freesurfer" / "fsaverage" / "label"
    for d in (exp_dir, stim_dir, label_dir):
        d.mkdir(parents=True, exist_ok=True)

    # ---- stimuli and their property
    yy, xx = np.mgrid[0:image_size, 0:image_size] / max(image_size - 1, 1)
    base = rng.uniform(30, 225, (n_stimuli, 1, 1, 3))
    tilt = rng.uniform(-30, 30, (n_stimuli, 1, 1, 3))
    texture = rng.normal(0, 8, (n_stimuli, image_size, image_size, 3))
    imgs = base + tilt * (xx + yy)[None, :, :, None] / 2 + texture
    imgs = np.clip(np.rint(imgs), 0, 255).astype(np.uint8)
    lum = (imgs.astype(np.float64) @ np.array([0.299, 0.587, 0.114])).mean(axis=(1, 2))
    prop = (lum - lum.mean()) / lum.std()
    with h5py.File(stim_dir / "nsd_stimuli.hdf5", "w") as f:
        f.create_dataset("imgBrick", data=imgs)

    # ---- design: shared images, each subject's own images, one master ordering
    perm = rng.permutation(n_stimuli)
    shared_ids = np.sort(perm[:n_shared])
    subjectim = np.empty((n_subjects, n_subject_images), np.int64)
    for k in range(n_subjects):
        own = np.sort(perm[n_shared + k * n_own:n_shared + (k + 1) * n_own])
        subjectim[k] = np.r_[shared_ids, own]
    masterordering = rng.permutation(np.repeat(np.arange(n_subject_images), 3))
    scipy.io.savemat(exp_dir / "nsd_expdesign.mat", {
        "masterordering": (masterordering + 1)[None, :].astype(np.float64),
        "subjectim": (subjectim + 1).astype(np.float64),
        "sharedix": (shared_ids + 1)[None, :].astype(np.float64),
    })

    # ---- stimulus table
    coco_id = rng.choice(np.arange(1, 600000), n_stimuli, replace=False)
    split = np.where(rng.random(n_stimuli) < 0.8, "train2017", "val2017")
    table: dict[str, object] = {
        "cocoId": coco_id, "cocoSplit": split,
        "cropBox": [f"({a:.3f}, {b:.3f}, 0, 0)" for a, b in rng.uniform(0, 0.2, (n_stimuli, 2))],
        "loss": rng.uniform(0, 0.1, n_stimuli), "nsdId": np.arange(n_stimuli),
        "flagged": np.zeros(n_stimuli, bool), "BOLD5000": np.zeros(n_stimuli, bool),
        "shared1000": np.isin(np.arange(n_stimuli), shared_ids),
    }
    reps = np.zeros((8, n_stimuli, 3), np.int64)
    seen = np.zeros((8, n_stimuli), np.int64)
    for k in range(n_subjects):
        seen[k, subjectim[k]] = 1
        for m in range(n_subject_images):
            reps[k, subjectim[k, m]] = np.flatnonzero(masterordering == m) + 1
    for k in range(8):
        table[f"subject{k + 1}"] = seen[k]
    for k in range(8):
        for r in range(3):
            table[f"subject{k + 1}_rep{r}"] = reps[k, :, r]
    pd.DataFrame(table).to_csv(exp_dir / "nsd_stim_info_merged.csv")

    # ---- betas with planted signal
    n_flat = 2 * n_vertices
    n_signal = max(1, round(signal_fraction * n_flat))
    signal = np.sort(rng.choice(n_flat, n_signal, replace=False))
    gains = rng.uniform(0.7, 2.0, n_signal)
    constant = np.array([0, n_vertices])  # vertex 0 of each hemisphere
    signal_keep = ~np.isin(signal, constant)
    signal, gains = signal[signal_keep], gains[signal_keep]
    for k in range(n_subjects):
        beta_dir = (root / "nsddata_betas" / "ppdata" / f"subj{k + 1:02d}" / "fsaverage"
                    / "betas_fithrf_GLMdenoise_RR")
        beta_dir.mkdir(parents=True, exist_ok=True)
        ids = subjectim[k, masterordering[:n_trials]]
        for s in range(n_sessions):
            t_ids = ids[s * trials_per_session:(s + 1) * trials_per_session]
            z = rng.standard_normal((trials_per_session, n_flat))
            z[:, signal] += gains * prop[t_ids][:, None]
            offset = rng.normal(0, 2, n_flat)
            scale = rng.uniform(0.5, 2.0, n_flat)
            raw = offset + scale * z
            raw[:, constant] = offset[constant]
            raw = raw.astype(np.float32)
            for h, name in enumerate(("lh", "rh")):
                part = raw[:, h * n_vertices:(h + 1) * n_vertices].T
                img = nib.MGHImage(np.ascontiguousarray(part)[:, None, None, :], np.eye(4))
                nib.save(img, beta_dir / f"{name}.betas_session{s + 1:02d}.mgh")

    # ---- ROIs
    if rois:
        for cat, names in FLOC_NAMES.items():
            (label_dir / f"floc-{cat}.mgz.ctab").write_text(
                "0 Unknown\n" + "".join(f"{v} {n}\n" for v, n in enumerate(names, 1)))
            for name in ("lh", "rh"):
                lab = np.zeros(n_vertices, np.int32)
                free = rng.permutation(n_vertices)
                size = max(1, n_vertices // 200)
                for v in range(1, len(names) + 1):
                    if name == "rh" and v == len(names):
                        continue  # the last ROI of each category only in the left hemisphere
                    lab[free[(v - 1) * size:v * size]] = v
                nib.save(nib.MGHImage(lab[:, None, None], np.eye(4)),
                         label_dir / f"{name}.floc-{cat}.mgz")
        for name in ("lh", "rh"):
            gen = (rng.random(n_vertices) < 0.4).astype(np.int32)
            nib.save(nib.MGHImage(gen[:, None, None], np.eye(4)),
                     label_dir / f"{name}.nsdgeneral.mgz")

    # ---- COCO annotations
    if annotations:
        ann_dir = stim_dir / "annotations"
        ann_dir.mkdir(exist_ok=True)
        for sp in ("train2017", "val2017"):
            idx = np.flatnonzero(split == sp)
            images = [{"id": int(coco_id[j]), "width": 640, "height": 480} for j in idx]
            caps, inst = [], []
            for j in idx:
                colour = _COLOURS[int(np.argmax(imgs[j].reshape(-1, 3).mean(0)))]
                tone = "bright" if prop[j] > 0 else "dark"
                for c in range(5):
                    caps.append({"id": len(caps) + 1, "image_id": int(coco_id[j]),
                                 "caption": f"A {tone} {colour} scene, image {j}, caption {c}."})
                cats = [1] * (1 + int(prop[j] > 1)) if prop[j] > 0 else [3]
                if j % 3 == 0:
                    cats.append(18)
                for c in cats:
                    inst.append({"id": len(inst) + 1, "image_id": int(coco_id[j]),
                                 "category_id": c, "iscrowd": 0, "area": 100.0,
                                 "bbox": [0.0, 0.0, 10.0, 10.0]})
            info = {"description": "braincause miniature NSD (synthetic COCO annotations)"}
            (ann_dir / f"captions_{sp}.json").write_text(json.dumps(
                {"info": info, "images": images, "annotations": caps}))
            (ann_dir / f"instances_{sp}.json").write_text(json.dumps(
                {"info": info, "images": images, "annotations": inst,
                 "categories": list(_COCO_CATEGORIES)}))

    return MiniNSD(root=root, subjects=tuple(range(1, n_subjects + 1)), n_sessions=n_sessions,
                   trials_per_session=trials_per_session, n_vertices=n_vertices,
                   image_property=prop, signal_vertices=signal, gains=gains,
                   constant_vertices=constant, shared_ids=shared_ids)
