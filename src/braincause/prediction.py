"""Predicted brain responses of any images: ``braincause predict`` and
:func:`braincause.predict` (BERG's ``encode``, for braincause's subjects).

Images (PNG or JPEG files of any size, a folder of them, or uint8 arrays) are read and
converted as the encoder's training images were made: decoded to 8-bit RGB (EXIF
orientation applied; greyscale, palette and alpha images converted, alpha dropped),
centre-cropped to a square (NSD's stimuli and the synthetic renders are square), then
resized by the backbone to its input size. Features come from the subject's configured
backbone through the on-disk feature cache (keyed by the image's content, so an image
seen before costs nothing), in batches; the subject's fitted encoder (the same cached fit
``localize`` uses) turns them into responses, in the units of the training betas
(per-voxel z-scores).

Region means average each image's predicted responses over the voxels of a region that
pass the encoder filter (held-out r ≥ ``threshold``, the paper's filter, 0.2 by default):
the subject's labelled areas (planted areas and decoys of a synthetic subject, fLoc ROIs of
NSD), all filtered voxels (``visual_cortex``), and optionally a localize run's two regions
or a region file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError
from braincause.utils.images import IMAGE_SUFFIXES, read_image, square_crop

__all__ = ["IMAGE_SUFFIXES", "Prediction", "find_images", "predict", "read_image",
           "read_region_file"]

#: images read, featurised and predicted at a time (bounds memory; one progress step)
CHUNK = 64
Progress = Callable[[str], None]


def find_images(inputs: str | Path | Sequence[str | Path]) -> list[Path]:
    """The image files named by ``inputs``: files as given, and the PNG/JPEG files of
    each folder (not its subfolders), sorted by name.

    Parameters
    ----------
    inputs : path or sequence of paths
        Image files and/or folders.

    Returns
    -------
    list of Path

    Raises
    ------
    UserInputError
        A path that does not exist, a folder without PNG or JPEG files, or no input.
    """
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    if not items:
        raise UserInputError("no images given: pass image files (PNG/JPEG) or a folder of "
                             "them")
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir()
                           if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
                           and not f.name.startswith("."))
            if not found:
                raise UserInputError(f"folder {str(p)!r} holds no PNG or JPEG file "
                                     f"({', '.join(IMAGE_SUFFIXES)}; subfolders are not "
                                     "searched): put the images there or name the files")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise UserInputError(f"image {str(p)!r} does not exist: pass existing PNG/JPEG "
                                 "files or a folder of them")
    return out


def read_region_file(path: str | Path, n_voxels: int) -> dict[str, np.ndarray]:
    """Regions from a file: a TSV with a ``voxel`` column (and optionally ``region``,
    one region per distinct value; e.g. a run's ``regions.tsv``), or plain text of voxel
    indices separated by whitespace or commas (one region named after the file).

    Parameters
    ----------
    path : path
    n_voxels : int
        The subject's voxel count (indices must be in ``[0, n_voxels)``).

    Returns
    -------
    dict of str to ndarray of shape (n_voxels,), bool

    Raises
    ------
    UserInputError
        Missing or unreadable file, no voxel, an index out of range.
    """
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"--roi {str(p)!r} is not a file: pass a TSV with a 'voxel' "
                             "column (e.g. a run's regions.tsv) or a text file of voxel indices")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise UserInputError(f"cannot read --roi {str(p)!r} as text ({e})") from e
    first = text.lstrip().split("\n", 1)[0]
    groups: dict[str, list[str]] = {}
    if "\t" in first and "voxel" in first.split("\t"):
        for row in csv.DictReader(io.StringIO(text.lstrip()), delimiter="\t"):
            groups.setdefault(row.get("region") or p.stem.split(".")[0], []).append(
                row["voxel"])
    else:
        groups[p.stem.split(".")[0]] = text.replace(",", " ").split()
    out = {}
    for name, vals in groups.items():
        try:
            idx = np.array([int(v) for v in vals], int)
        except ValueError as e:
            raise UserInputError(f"--roi {str(p)!r}: voxel indices must be integers ({e})") \
                from e
        if not len(idx):
            continue
        if idx.min() < 0 or idx.max() >= n_voxels:
            raise UserInputError(f"--roi {str(p)!r}: voxel indices span {idx.min()}..{idx.max()}"
                                 f", the subject has {n_voxels} voxels (0..{n_voxels - 1})")
        m = np.zeros(n_voxels, bool)
        m[idx] = True
        out[name] = m
    if not out:
        raise UserInputError(f"--roi {str(p)!r} lists no voxel")
    return out


@dataclass(frozen=True)
class Prediction:
    """Predicted responses of a set of images in one subject.

    Attributes
    ----------
    subject : str
    names : list of str
        Each image's file (as given) or ``image-<i>`` for arrays.
    responses : ndarray of shape (n_images, n_voxels), float32
        Predicted responses (the training betas' units: per-voxel z-scores), every voxel.
    r : ndarray of shape (n_voxels,)
        The encoder's held-out accuracy per voxel.
    keep : ndarray of shape (n_voxels,), bool
        The encoder filter r ≥ ``threshold``.
    threshold : float
    regions : dict of str to ndarray of shape (n_voxels,), bool
        The regions, before the filter.
    region_means : ndarray of shape (n_images, n_regions)
        Mean response over each region's voxels that pass the filter (NaN for a region
        with none).
    vertex, hemi : ndarray of shape (n_voxels,), int
        Each voxel's mesh vertex and hemisphere (0 left, 1 right).
    n_vertices : int
        Vertices per hemisphere of the mesh.
    info : dict
        What the sidecar JSON records (encoder, backbone, conversion, regions).
    """

    subject: str
    names: list[str]
    responses: np.ndarray = field(repr=False)
    r: np.ndarray = field(repr=False)
    keep: np.ndarray = field(repr=False)
    threshold: float
    regions: dict[str, np.ndarray] = field(repr=False)
    region_means: np.ndarray = field(repr=False)
    vertex: np.ndarray = field(repr=False)
    hemi: np.ndarray = field(repr=False)
    n_vertices: int
    info: dict[str, Any] = field(repr=False, default_factory=dict)

    def table(self, delimiter: str = ",") -> str:
        """Per-image region means as CSV (``delimiter=","``) or TSV (``"\\t"``): column
        ``image``, then one column per region.

        Parameters
        ----------
        delimiter : str

        Returns
        -------
        str
        """
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
        w.writerow(["image", *self.regions])
        for name, row in zip(self.names, self.region_means, strict=True):
            w.writerow([name, *(f"{v:.6g}" for v in row)])
        return buf.getvalue()

    def write(self, out: str | Path, *, surface: bool = True) -> list[Path]:
        """Write ``out`` (CSV, or TSV for a ``.tsv`` name), the voxel maps as
        ``<out stem>.npz`` (``responses``, ``r``, ``keep``, ``vertex``, ``hemi``,
        ``names``, one ``region_<name>`` mask per region), the sidecar ``<out stem>.json``,
        and, with ``surface``, ``lh.<out stem>.func.gii`` / ``rh.…`` beside them (one
        data array per image, named after it; NaN off the subject's voxels).

        Parameters
        ----------
        out : path
            A ``.csv`` or ``.tsv`` file name.
        surface : bool

        Returns
        -------
        list of Path
            The files written.
        """
        from braincause.utils import atomic_write_bytes

        out = Path(out)
        stem = out.with_suffix("")
        written = [atomic_write_bytes(out, self.table(
            "\t" if out.suffix.lower() == ".tsv" else ",").encode())]
        buf = io.BytesIO()
        np.savez_compressed(buf, responses=self.responses, r=self.r.astype(np.float32),
                            keep=self.keep, vertex=np.asarray(self.vertex, np.int32),
                            hemi=np.asarray(self.hemi, np.int8), names=np.asarray(self.names),
                            region_names=np.asarray(list(self.regions)),
                            region_means=self.region_means,
                            **{f"region_{k}": v for k, v in self.regions.items()})
        written.append(atomic_write_bytes(stem.with_suffix(".npz"), buf.getvalue()))
        written.append(atomic_write_bytes(stem.with_suffix(".json"), (json.dumps(
            self.info, indent=2) + "\n").encode()))
        if surface:
            written += self._write_gifti(out.parent, stem.name)
        return written

    def _write_gifti(self, folder: Path, stem: str) -> list[Path]:
        from nibabel import gifti

        from braincause.surfacefiles import HEMI_NAMES, STRUCTURES, mesh_name, surface_arrays
        from braincause.utils import atomic_write_bytes

        mesh = mesh_name(self.n_vertices)
        per = [surface_arrays(y, self.vertex, self.hemi, self.n_vertices)
               for y in self.responses]
        files = []
        for h, hemi in enumerate(HEMI_NAMES):
            meta = gifti.GiftiMetaData({"AnatomicalStructurePrimary": STRUCTURES[h],
                                        "braincause_mesh": mesh, "Name": stem})
            arrays = [gifti.GiftiDataArray(p[hemi].astype(np.float32),
                                           intent="NIFTI_INTENT_NONE",
                                           datatype="NIFTI_TYPE_FLOAT32",
                                           meta=gifti.GiftiMetaData({"Name": n}))
                      for p, n in zip(per, self.names, strict=True)]
            path = folder / f"{hemi}.{stem}.func.gii"
            files.append(atomic_write_bytes(path, gifti.GiftiImage(
                meta=meta, darrays=arrays).to_bytes()))
        return files


def _as_images(images: Any) -> tuple[list[str], list[Path] | None, list[np.ndarray] | None]:
    """Names and either files (checked to exist) or arrays (checked, square-cropped)."""
    if isinstance(images, np.ndarray) or (isinstance(images, (list, tuple)) and images
                                          and isinstance(images[0], np.ndarray)):
        from braincause.encoding.backbone import as_image_list

        arrays = [square_crop(a) for a in as_image_list(images)]
        return [f"image-{i}" for i in range(len(arrays))], None, arrays
    files = find_images(images)
    return [str(f) for f in files], files, None


def predict(images: Any, *, subject: str = "synth-01", region: str | Path | None = None,
            roi: str | Path | None = None, nsd_root: str | Path | None = None,
            config: Any = None, threshold: float | None = None, use_cache: bool = True,
            progress: Progress | None = None) -> Prediction:
    """Predicted responses of ``images`` in ``subject``'s visual cortex.

    Parameters
    ----------
    images : path, list of path, or ndarray of shape (n_images, height, width, 3)
        PNG/JPEG files, folders of them (their PNG/JPEG files, sorted by name), or uint8
        RGB arrays (one batch, or a list of (height, width, 3) arrays).
    subject : str
        A synthetic subject id (``synth-01`` …), or with ``nsd_root`` an NSD subject
        (``1`` … ``8``).
    region : path, optional
        A ``localize`` run folder of the same subject: its causal and activation regions
        are added (``run_causal``, ``run_activation``).
    roi : path, optional
        A region file (:func:`read_region_file`).
    nsd_root : path, optional
        A local NSD copy (docs/nsd.md).
    config : LocalizeConfig, optional
        Its ``[backends.backbone]`` and ``[nsd]`` tables choose the backbone and how NSD
        is read (default: the embedded MobileNetV2).
    threshold : float, optional
        The encoder filter (default ``config.region.r_threshold``, 0.2).
    use_cache : bool
        Read and write the feature and encoder caches.
    progress : callable, optional
        Called with one message per step.

    Returns
    -------
    Prediction

    Raises
    ------
    UserInputError
        An image that cannot be read, an empty folder, an unknown subject, a run folder of
        another subject, a bad region file — all checked before the encoder is loaded.
    """
    from braincause.boundary import check_float, nsd_subject_number
    from braincause.config import LocalizeConfig

    say = progress or (lambda _m: None)
    cfg = config or LocalizeConfig()
    cfg.validate()
    thr = cfg.region.r_threshold if threshold is None else check_float(
        threshold, "threshold", 0, 1, hi_open=True)
    if nsd_root is None:
        from braincause.synth.subject import subject_seed

        subject_seed(str(subject))  # unknown ids fail here, before any work
    else:
        if not Path(nsd_root).is_dir():
            raise UserInputError(f"--nsd-root {str(nsd_root)!r} is not a folder; pass the root "
                                 "of a local NSD copy (docs/nsd.md)")
        nsd_subject_number(subject, "--subject")
    names, files, arrays = _as_images(images)
    if files is not None:  # every file decodes, before the long work
        say(f"checking {len(files)} images")
        for f in files:
            read_image(f)
    run = _read_run_regions(region) if region is not None else None
    if run is not None and nsd_root is None and run["subject"] != str(subject):
        _check_run_subject(region, run, None, str(subject))
    subj, fit, backbone = _encoder(subject, cfg, nsd_root, thr, use_cache, say)
    if run is not None:
        _check_run_subject(region, run, subj)
    n = subj.n_voxels
    regions = _subject_regions(subj)
    keep = fit.keep(thr)
    regions["visual_cortex"] = np.ones(n, bool)
    if run is not None:
        regions.update({f"run_{k}": _mask(v, n) for k, v in run["regions"].items()})
    if roi is not None:
        regions.update({f"roi_{k}": v for k, v in read_region_file(roi, n).items()})
    from braincause.encoding.backbone import image_key

    Y = np.empty((len(names), n), np.float32)
    hashes: list[str] = []
    say(f"predicted 0/{len(names)} images")
    for start in range(0, len(names), CHUNK):
        stop = min(len(names), start + CHUNK)
        imgs = ([read_image(f) for f in files[start:stop]] if files is not None
                else arrays[start:stop])
        hashes += [image_key(im) for im in imgs]
        Y[start:stop] = fit.encoder.predict(backbone.features(imgs)).astype(np.float32)
        say(f"predicted {stop}/{len(names)} images")
    means = np.full((len(names), len(regions)), np.nan)
    for j, m in enumerate(regions.values()):
        sel = m & keep
        if sel.any():
            means[:, j] = Y[:, sel].mean(axis=1)
    cx = subj.cortex if subj.cortex is not None else subj
    info = _info(subj, fit, backbone, thr, keep, regions, names, hashes, region, roi)
    return Prediction(str(subj.subject_id), names, Y, np.asarray(fit.r), keep, float(thr),
                      regions, means, np.asarray(cx.vertex), np.asarray(cx.hemi),
                      _mesh_vertices(subj), info)


def _mask(voxels: Any, n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    m[np.asarray(voxels, int)] = True
    return m


def _read_run_regions(path: str | Path) -> dict[str, Any]:
    from braincause.runfolder import read_run

    folder = read_run(path, maps=False)
    res = folder.result
    return {"subject": res["subject"]["id"], "n_voxels": res["subject"].get("n_voxels"),
            "concept": res["concept"]["name"],
            "regions": {"causal": res["region"]["voxels"],
                        "activation": res["activation_region"]["voxels"]}}


def _check_run_subject(path: Any, run: dict[str, Any], subj, subject_id: str = "") -> None:
    sid = subj.subject_id if subj is not None else subject_id
    if run["subject"] != sid or (subj is not None and run["n_voxels"] is not None
                                 and run["n_voxels"] != subj.n_voxels):
        raise UserInputError(f"--region {str(path)!r} is a run of {run['subject']}, not of "
                             f"{sid}: pass a run of the same subject (or --subject "
                             f"{run['subject']})")


def _encoder(subject: str, cfg: Any, nsd_root: Any, thr: float, use_cache: bool,
             say: Progress):
    """The subject, its fitted encoder (cached, shared with ``localize``) and backbone."""
    from braincause.backends import BuildContext
    from braincause.encoding.fit import fit_encoder

    say(f"subject {subject}")
    if nsd_root is None:
        from braincause.datasets.synthetic import load_subject

        subj = load_subject(str(subject))
    else:
        from braincause.pipeline.context import load_nsd_subject

        subj = load_nsd_subject(nsd_root, subject, cfg)
    backbone = BuildContext(cfg, use_cache).backbone()
    say("encoder (fitted on first use, then cached)")
    fit = fit_encoder(subj, backbone, threshold=thr, use_cache=use_cache, progress=say)
    return subj, fit, backbone


def _subject_regions(subj) -> dict[str, np.ndarray]:
    return {str(k): np.asarray(v, bool) for k, v in subj.roi_labels.items()}


def _mesh_vertices(subj) -> int:
    if subj.cortex is not None:
        from braincause.synth.cortex import N_FSAVERAGE5

        return N_FSAVERAGE5
    return len(subj.to_fsaverage(np.zeros(subj.n_voxels, np.float32))["lh"])


def _info(subj, fit, backbone, thr, keep, regions, names, hashes, region, roi) -> dict:
    from braincause._version import __version__

    return {
        "braincause_version": __version__, "subject": str(subj.subject_id),
        "subject_fingerprint": subj.fingerprint(), "n_voxels": int(subj.n_voxels),
        "backbone": repr(backbone), "backbone_fingerprint": backbone.fingerprint(),
        "encoder": {"path_key": fit.path.name if fit.path else None,
                    "median_r": fit.summary.get("median_r")},
        "units": "predicted response in the units of the training betas (per-voxel "
                 "z-scores)",
        "conversion": "decoded to 8-bit RGB (EXIF orientation applied, alpha dropped), "
                      "centre-cropped to a square, resized by the backbone to "
                      f"{getattr(backbone, 'image_size', '?')} px (bilinear)",
        "voxel_filter": {"rule": "held-out encoder r >= threshold", "threshold": float(thr),
                         "n_voxels_kept": int(keep.sum())},
        "region_means": "mean predicted response over each region's voxels that pass the "
                        "voxel filter; NaN when none does",
        "regions": {k: {"n_voxels": int(m.sum()), "n_voxels_kept": int((m & keep).sum())}
                    for k, m in regions.items()},
        "image_hash": "sha256 of the converted image's dtype, shape and pixels (the "
                      "feature cache's key)",
        "region_source": {"run": str(region) if region is not None else None,
                          "roi": str(roi) if roi is not None else None},
        "images": [{"image": n, "sha256": h} for n, h in zip(names, hashes, strict=True)],
    }
