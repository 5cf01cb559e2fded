"""The run folder of ``braincause localize``: one contract, one writer, one reader.

A run folder holds ``result.json`` (a :class:`RunResult`), ``maps.npz`` (per-voxel
arrays), ``stimuli/manifest.json`` with the stimulus PNGs beside it and, when a
follow-up was designed, ``followup/design.json``. The pipeline writes it with
:func:`write_run`; the report, the follow-up design, the benchmark and the CLI read it
with :func:`read_run` (or take the in-memory :class:`RunFolder` the pipeline made).

The parts of ``result.json`` that other tools compute with are typed records (region
scores, p-values, coverage, verdict, ground truth), each with ``to_dict`` /
``from_dict``; the descriptive parts (config, versions, backends, stimuli, signals,
voxelwise tests, noise) stay plain JSON objects. ``schema_version`` changes whenever a
record's layout does; a reader refuses folders of another schema with a message saying
to rerun.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from braincause.boundary import check_manifest, check_result
from braincause.exceptions import DataError, UserInputError
from braincause.utils import atomic_write_bytes, voxel_mask

__all__ = [
    "SCHEMA_VERSION",
    "SCORES",
    "CriterionP",
    "GroundTruthRecord",
    "RegionRecord",
    "RegionScores",
    "RegionTruth",
    "RunFolder",
    "RunFolderError",
    "RunResult",
    "ScoreCI",
    "VerdictRecord",
    "read_run",
    "result_bytes",
    "write_run",
]

#: Layout version of result.json's records (1: the first typed layout).
SCHEMA_VERSION = 1
FIX = "rerun `braincause localize CONCEPT --out DIR` to write a complete run folder"
#: the region scores, in the order they are written
SCORES = ("s_pos", "s_neg", "s_edit", "s_causal")
#: maps.npz arrays every run has, one entry per voxel
MAP_KEYS = ("vertex", "hemi", "region", "activation_region", "s_pos", "s_causal")
#: optional arrays of synthetic subjects (planted areas and decoys)
AREA_KEYS = ("area_names", "area_kinds", "area_extents")


class RunFolderError(DataError, UserInputError):
    """A run folder that is missing, incomplete, damaged or of another schema (exit 2)."""


# ------------------------------------------------------------------ records
class _FlatRecord:
    """A record whose document is its fields as they are (no nested records)."""

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready document (what result.json holds).

        Returns
        -------
        dict
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ScoreCI(_FlatRecord):
    """A region score on held-out data with its bootstrap interval.

    Parameters
    ----------
    value, ci_low, ci_high : float or None
        Point estimate and two-sided percentile interval (None without data).
    lower_one_sided : float or None
        The one-sided lower bound at level alpha.
    n : int
        Units the score is built from.
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    lower_one_sided: float | None
    n: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoreCI:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        ScoreCI
        """
        return cls(d["value"], d["ci_low"], d["ci_high"], d["lower_one_sided"], d["n"])


def _block_to_dict(block: Mapping[str, Any] | None) -> Any:
    if block is None:
        return None
    return {k: (v.to_dict() if isinstance(v, ScoreCI) else v) for k, v in block.items()}


def _block_from_dict(block: Any) -> Any:
    if block is None:
        return None
    return {k: (ScoreCI.from_dict(v) if isinstance(v, Mapping) else v)
            for k, v in block.items()}


@dataclass(frozen=True)
class RegionScores:
    """A region's scores: TRAIN generated (points), EVAL generated and held-out measured
    (:class:`ScoreCI` each; the measured block has S_pos and S_neg only, or is None).

    Parameters
    ----------
    train_generated : dict of str to float or None
    eval_generated : dict of str to ScoreCI
    eval_measured : dict of str to ScoreCI, or None
    """

    train_generated: dict[str, float | None]
    eval_generated: dict[str, ScoreCI]
    eval_measured: dict[str, ScoreCI] | None

    def value(self, block: str, score: str) -> float | None:
        """The point value of ``score`` in ``block`` (None without data).

        Parameters
        ----------
        block : {"train_generated", "eval_generated", "eval_measured"}
        score : {"s_pos", "s_neg", "s_edit", "s_causal"}

        Returns
        -------
        float or None
        """
        b = getattr(self, block)
        if not b or b.get(score) is None:
            return None
        v = b[score]
        return v.value if isinstance(v, ScoreCI) else v

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready document (what result.json holds).

        Returns
        -------
        dict
        """
        return {"train_generated": dict(self.train_generated),
                "eval_generated": _block_to_dict(self.eval_generated),
                "eval_measured": _block_to_dict(self.eval_measured)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RegionScores:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        RegionScores
        """
        return cls(dict(d["train_generated"]), _block_from_dict(d["eval_generated"]),
                   _block_from_dict(d.get("eval_measured")))


@dataclass(frozen=True)
class RegionRecord:
    """A region and its scores.

    Parameters
    ----------
    rule, ranking : str
        How it was chosen (``top_k`` / ``causal_positive``) and on which signal.
    k : int or None
    voxels : tuple of int
        Voxel indices, best first.
    scores : RegionScores
    """

    rule: str
    ranking: str
    k: int | None
    voxels: tuple[int, ...]
    scores: RegionScores

    @property
    def size(self) -> int:
        """Number of voxels."""
        return len(self.voxels)

    def mask(self, n_voxels: int) -> np.ndarray:
        """The region as a boolean mask of shape (n_voxels,).

        Parameters
        ----------
        n_voxels : int

        Returns
        -------
        ndarray of shape (n_voxels,), bool
        """
        return voxel_mask(self.voxels, n_voxels)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready document (what result.json holds).

        Returns
        -------
        dict
        """
        return {"rule": self.rule, "ranking": self.ranking, "k": self.k, "size": self.size,
                "voxels": list(self.voxels), "scores": self.scores.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RegionRecord:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        RegionRecord
        """
        return cls(d["rule"], d["ranking"], d.get("k"), tuple(int(v) for v in d["voxels"]),
                   RegionScores.from_dict(d["scores"]))


@dataclass(frozen=True)
class CriterionP(_FlatRecord):
    """One criterion's target value and baseline-concept p-value.

    Parameters
    ----------
    value, lower_one_sided : float or None
    p : float or None
        ``(1 + #{baseline ≥ target}) / (1 + n_baselines)``.
    n_baselines : int
    baselines_at_least_as_high : list of str or None
    """

    value: float | None
    lower_one_sided: float | None
    p: float | None
    n_baselines: int
    baselines_at_least_as_high: list[str] | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CriterionP:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        CriterionP
        """
        return cls(d["value"], d["lower_one_sided"], d["p"], d["n_baselines"],
                   d.get("baselines_at_least_as_high"))


@dataclass(frozen=True)
class VerdictRecord(_FlatRecord):
    """The verdict with the evidence it rests on.

    Parameters
    ----------
    verdict : str
        ``discovery``, ``rejected``, ``needs follow-up`` or ``inconclusive``.
    coverage : str
        ``high`` or ``low``.
    generated_evidence, measured_evidence : bool
    reasons : list of str
    criteria : dict
        Each of the paper's criteria: its baseline p-value, bounds and whether it passes
        the paper's rule.
    cutoffs : dict
        The cut-offs the verdict applied.
    rule : str or None
        ``"causal gate"`` (braincause's, :mod:`braincause.evaluate.causal`); None in a
        document that has only the paper's rule.
    gate : dict or None
        The gate's tests, candidate check and reasons.
    selectivity : dict or None
        The selectivity label, the TRAIN-hardest counter-concept, its test and the
        counter-concepts a shared region answers to.
    paper_verdict : str or None
        The paper's rule on the same region.
    paper_reasons : list of str or None
    """

    verdict: str
    coverage: str
    generated_evidence: bool
    measured_evidence: bool
    reasons: list[str]
    criteria: dict[str, dict[str, Any]]
    cutoffs: dict[str, Any]
    rule: str | None = None
    gate: dict[str, Any] | None = None
    selectivity: dict[str, Any] | None = None
    paper_verdict: str | None = None
    paper_reasons: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready document; the causal gate's fields only when set
        (a document with only the paper's rule round-trips unchanged).

        Returns
        -------
        dict
        """
        d = super().to_dict()
        for k in ("rule", "gate", "selectivity", "paper_verdict", "paper_reasons"):
            if d[k] is None:
                del d[k]
        return d

    @property
    def label(self) -> str | None:
        """``"selective"``, ``"shared"`` or None (the selectivity label)."""
        return (self.selectivity or {}).get("label")

    @property
    def shared_with(self) -> list[str]:
        """The counter-concepts a shared region answers to as much, strongest first."""
        return [e["name"] for e in (self.selectivity or {}).get("shared_with", [])]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VerdictRecord:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        VerdictRecord
        """
        return cls(d["verdict"], d["coverage"], d["generated_evidence"],
                   d["measured_evidence"], list(d["reasons"]), dict(d["criteria"]),
                   dict(d.get("cutoffs", {})), d.get("rule"), d.get("gate"),
                   d.get("selectivity"), d.get("paper_verdict"), d.get("paper_reasons"))


@dataclass(frozen=True)
class RegionTruth(_FlatRecord):
    """A region against a synthetic subject's ground truth.

    Parameters
    ----------
    precision, dice : float
    recall : float or None
        None when the concept has no true voxel.
    inside : dict of str to float
        Fraction of the region inside each area's extent.
    inside_planted, inside_decoys : float
    """

    precision: float
    recall: float | None
    dice: float
    inside: dict[str, float]
    inside_planted: float
    inside_decoys: float

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RegionTruth:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        RegionTruth
        """
        return cls(d["precision"], d["recall"], d["dice"], dict(d["inside"]),
                   d["inside_planted"], d["inside_decoys"])


@dataclass(frozen=True)
class GroundTruthRecord:
    """Both regions against the synthetic subject's ground truth.

    Parameters
    ----------
    definition : str
    thresholds : dict
    inside_means : str
    n_true_voxels : int
    causal, activation : RegionTruth
    """

    definition: str
    thresholds: dict[str, Any]
    inside_means: str
    n_true_voxels: int
    causal: RegionTruth
    activation: RegionTruth

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready document (what result.json holds).

        Returns
        -------
        dict
        """
        return {"definition": self.definition, "thresholds": self.thresholds,
                "inside_means": self.inside_means, "n_true_voxels": self.n_true_voxels,
                "causal": self.causal.to_dict(), "activation": self.activation.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GroundTruthRecord:
        """The record of a document written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        GroundTruthRecord
        """
        return cls(d["definition"], dict(d["thresholds"]), d["inside_means"],
                   d["n_true_voxels"], RegionTruth.from_dict(d["causal"]),
                   RegionTruth.from_dict(d["activation"]))


#: result.json's top-level keys, in the order they are written
ORDER = ("schema_version", "braincause_version", "query", "concept", "subject", "seed",
         "config", "config_hash", "versions", "backends", "stimuli", "signals", "region",
         "activation_region", "p_values", "voxelwise", "coverage", "verdict",
         "activation_verdict", "noise", "ground_truth", "run", "outputs")
TYPED = {"region": RegionRecord, "activation_region": RegionRecord,
         "verdict": VerdictRecord, "ground_truth": GroundTruthRecord}


@dataclass(frozen=True)
class RunResult:
    """The content of ``result.json``.

    Parameters
    ----------
    region, activation_region : RegionRecord or None
        The causal and the activation-only region with their scores (every localize run
        has both; None only in a hand-made folder that lacks them).
    p_causal, p_activation : dict of str to CriterionP
        Each criterion's baseline-concept p-value, per region.
    verdict : VerdictRecord or None
    ground_truth : GroundTruthRecord or None
        Synthetic subjects only.
    sections : dict
        Every other top-level section as plain JSON (``concept``, ``subject``, ``config``,
        ``coverage``, ``voxelwise``, ``noise``, ``run``, ``outputs``…; ``p_values`` without
        its two criterion tables).
    schema_version : int
    """

    region: RegionRecord | None
    activation_region: RegionRecord | None
    p_causal: dict[str, CriterionP]
    p_activation: dict[str, CriterionP]
    verdict: VerdictRecord | None
    ground_truth: GroundTruthRecord | None
    sections: dict[str, Any] = field(repr=False)
    schema_version: int = SCHEMA_VERSION

    @property
    def concept(self) -> dict[str, Any]:
        """The resolved concept (name, label, kind, how it was resolved)."""
        return self.sections["concept"]

    @property
    def subject_id(self) -> str:
        """The subject's id."""
        return str(self.sections["subject"]["id"])

    @property
    def coverage(self) -> dict[str, Any]:
        """Measured coverage (level, per split, missing counter-concepts)."""
        return self.sections["coverage"]

    def to_dict(self) -> dict[str, Any]:
        """result.json's document: every section in the written order.

        Returns
        -------
        dict
        """
        d = dict(self.sections)
        d["schema_version"] = self.schema_version
        for key in TYPED:
            rec = getattr(self, key)
            if rec is not None:
                d[key] = rec.to_dict()
        if "p_values" in d:
            d["p_values"] = {**d["p_values"],
                             "causal": {k: v.to_dict() for k, v in self.p_causal.items()},
                             "activation": {k: v.to_dict()
                                            for k, v in self.p_activation.items()}}
        return {k: d[k] for k in (*ORDER, *sorted(set(d) - set(ORDER))) if k in d}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunResult:
        """The record of a result.json document (checked by
        :func:`braincause.boundary.check_result` first, see :func:`read_run`). A section
        a reader does not need may be absent (None / empty).

        Parameters
        ----------
        d : dict

        Returns
        -------
        RunResult
        """
        pv = d.get("p_values") or {}
        sections = {k: v for k, v in d.items() if k not in TYPED and k != "schema_version"}
        if "p_values" in d:
            sections["p_values"] = {k: v for k, v in pv.items()
                                    if k not in ("causal", "activation")}

        def opt(key: str, make: Any) -> Any:
            return None if d.get(key) is None else make(d[key])

        return cls(opt("region", RegionRecord.from_dict),
                   opt("activation_region", RegionRecord.from_dict),
                   {k: CriterionP.from_dict(v) for k, v in pv.get("causal", {}).items()},
                   {k: CriterionP.from_dict(v) for k, v in pv.get("activation", {}).items()},
                   opt("verdict", VerdictRecord.from_dict), opt("ground_truth",
                                                                GroundTruthRecord.from_dict),
                   sections, int(d.get("schema_version", SCHEMA_VERSION)))


def result_bytes(result: RunResult) -> bytes:
    """``result.json`` as written (UTF-8 JSON, indented).

    Parameters
    ----------
    result : RunResult

    Returns
    -------
    bytes
    """
    return json.dumps(result.to_dict(), indent=2, sort_keys=False).encode()


# ------------------------------------------------------------------ the folder
@dataclass(frozen=True)
class RunFolder:
    """One run folder, read or just written.

    Parameters
    ----------
    path : Path
        The folder.
    result : dict
        ``result.json`` as a plain document (checked for types and ranges).
    maps : dict of str to ndarray
        ``maps.npz``: arrays of shape (n_voxels,), and for synthetic subjects
        ``area_names`` (n_areas,), ``area_kinds`` (n_areas,), ``area_extents``
        (n_areas, n_voxels).
    manifest : list of dict
        ``stimuli/manifest.json``, one entry per stimulus.
    followup : dict or None
        ``followup/design.json`` when present.
    result_sha256 : str
        SHA-256 of result.json's bytes.
    """

    path: Path
    result: dict[str, Any] = field(repr=False)
    maps: dict[str, np.ndarray] = field(repr=False)
    manifest: list[dict[str, Any]] = field(repr=False)
    followup: dict[str, Any] | None = field(repr=False, default=None)
    result_sha256: str = ""

    @functools.cached_property
    def record(self) -> RunResult:
        """``result.json`` as typed records (:class:`RunResult`).

        Raises
        ------
        RunFolderError
            A record's field is missing or mistyped.
        """
        try:
            return RunResult.from_dict(self.result)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise RunFolderError(f"{self.path / 'result.json'} lacks or mistypes {e}; "
                                 f"{FIX}") from e

    @property
    def n_voxels(self) -> int:
        """Number of voxels of the maps."""
        return int(self.maps["vertex"].shape[0])


def write_run(path: Path, result: RunResult, maps: Mapping[str, np.ndarray],
              manifest: list[dict[str, Any]], images: Iterable[tuple[str, bytes]] = ()
              ) -> RunFolder:
    """Write a run folder: ``stimuli/`` (``images`` as (file name, PNG bytes) and
    manifest.json), ``maps.npz``, and ``result.json`` last (atomic writes).

    Parameters
    ----------
    path : Path
    result : RunResult
    maps : dict of str to ndarray
    manifest : list of dict
    images : iterable of (str, bytes)

    Returns
    -------
    RunFolder
        What was written (no read-back).
    """
    path = Path(path)
    stim = path / "stimuli"
    stim.mkdir(parents=True, exist_ok=True)
    for name, data in images:
        atomic_write_bytes(stim / name, data)
    atomic_write_bytes(stim / "manifest.json", json.dumps(manifest, indent=1).encode())
    if maps:
        buf = io.BytesIO()
        np.savez_compressed(buf, **maps)
        atomic_write_bytes(path / "maps.npz", buf.getvalue())
    raw = result_bytes(result)
    atomic_write_bytes(path / "result.json", raw)
    return RunFolder(path, result.to_dict(), dict(maps), manifest, None,
                     hashlib.sha256(raw).hexdigest())


def _read_json(path: Path, what: str, *, required: bool = True) -> Any:
    if not path.is_file():
        if not required:
            return None
        raise RunFolderError(f"{path} is missing: the folder is not a complete `braincause "
                             f"localize` output ({what}); {FIX}")
    try:
        raw = path.read_bytes()
        return json.loads(raw), raw
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunFolderError(f"{path} could not be read as JSON: not valid JSON or "
                             f"unreadable ({e}); {FIX}") from e


def _read_maps(path: Path) -> dict[str, np.ndarray]:
    """maps.npz, checked: the arrays the report needs, one entry per voxel."""
    if not path.is_file():
        raise RunFolderError(f"{path} is missing: the surface maps need the per-voxel arrays "
                             f"that localize writes there; {FIX}")
    try:
        with np.load(path, allow_pickle=False) as z:
            maps = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise RunFolderError(f"{path} could not be read as a numpy .npz archive ({e}); "
                             f"{FIX}") from e
    missing = [k for k in MAP_KEYS if k not in maps]
    if missing:
        raise RunFolderError(f"{path} lacks the arrays {missing}; {FIX}")
    n = maps["vertex"].shape
    if len(n) != 1:
        raise RunFolderError(f"{path}: 'vertex' must be 1-D (n_voxels,), got shape {n}")
    for k, v in maps.items():
        if k in AREA_KEYS:
            continue
        if v.shape != n:
            raise RunFolderError(f"{path}: '{k}' has shape {v.shape}, expected {n} like "
                                 f"'vertex' (one entry per voxel); {FIX}")
    for k in ("region", "activation_region", "keep", "truth"):
        if k in maps and maps[k].dtype != np.bool_:
            raise RunFolderError(f"{path}: '{k}' must be boolean, got {maps[k].dtype}")
    present = [k for k in AREA_KEYS if k in maps]
    if present and len(present) < len(AREA_KEYS):
        raise RunFolderError(f"{path} has {present} but not all of {list(AREA_KEYS)}; "
                             f"{FIX}")
    if present:
        n_areas = maps["area_names"].shape[0]
        if (maps["area_kinds"].shape != (n_areas,)
                or maps["area_extents"].shape != (n_areas, n[0])
                or maps["area_extents"].dtype != np.bool_):
            raise RunFolderError(
                f"{path}: area arrays disagree: area_names {maps['area_names'].shape}, "
                f"area_kinds {maps['area_kinds'].shape}, area_extents "
                f"{maps['area_extents'].shape} {maps['area_extents'].dtype} (expected "
                f"({n_areas},), ({n_areas},), ({n_areas}, {n[0]}) bool); {FIX}")
    return maps


def read_run(path: str | Path, *, maps: bool = True) -> RunFolder:
    """Read and check a run folder (the one reader of the report, the follow-up design,
    the benchmark and the CLI).

    Parameters
    ----------
    path : path
        A ``braincause localize --out`` folder.
    maps : bool
        Also read ``maps.npz`` (the follow-up design does not need it).

    Returns
    -------
    RunFolder

    Raises
    ------
    RunFolderError
        The folder or one of its files is missing, unreadable, of another schema, or
        holds a value of the wrong type or range; the message names the file and key.
    """
    root = Path(path)
    if not root.is_dir():
        raise RunFolderError(f"run folder {str(root)!r} does not exist or is not a folder; "
                             f"pass the --out folder of a localize run ({FIX})")
    doc, raw = _read_json(root / "result.json", "the run's results")
    if not isinstance(doc, dict):
        raise RunFolderError(f"{root / 'result.json'} must hold a JSON object, got "
                             f"{type(doc).__name__}; {FIX}")
    version = doc.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise RunFolderError(f"{root / 'result.json'} has schema_version {version!r}, this "
                             f"braincause reads {SCHEMA_VERSION}; {FIX}")
    # types and ranges of every field present; each consumer names the keys it needs
    check_result(doc, root / "result.json", fix=FIX, error=RunFolderError)
    mpath = root / "stimuli" / "manifest.json"
    manifest, _ = _read_json(mpath, "the stimulus list")
    check_manifest(manifest, mpath, fix=FIX, error=RunFolderError)
    arrays = _read_maps(root / "maps.npz") if maps else {}
    n = doc.get("subject", {}).get("n_voxels")
    if arrays and "vertex" in arrays and n is not None and n != arrays["vertex"].size:
        raise RunFolderError(f"{root / 'maps.npz'} has {arrays['vertex'].size} voxels but "
                             f"result.json says {n}: the files come from different runs; {FIX}")
    fpath = root / "followup" / "design.json"
    followup = _read_json(fpath, "follow-up design", required=False)
    design = None
    if followup is not None:
        design = followup[0]
        if not isinstance(design, dict):
            raise RunFolderError(f"{fpath} must hold a JSON object, got "
                                 f"{type(design).__name__}; rerun the follow-up design")
    return RunFolder(root, doc, arrays, manifest, design, hashlib.sha256(raw).hexdigest())
