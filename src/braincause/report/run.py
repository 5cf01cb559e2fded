"""Read a ``braincause localize`` output folder for the report, checking it once.

A run folder holds ``result.json``, ``maps.npz`` and ``stimuli/manifest.json``
(with the stimulus PNGs beside it), and optionally ``followup/design.json``.
Every problem with these files becomes a :class:`~braincause.exceptions.UserInputError`
that names the file and says what to do.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause.boundary import check_manifest, check_result
from braincause.exceptions import UserInputError

__all__ = ["RunFolder", "load_run"]

#: result.json keys the report reads (everything else is optional).
RESULT_KEYS = ("query", "concept", "subject", "verdict", "region", "activation_region",
               "p_values", "coverage", "stimuli")
#: maps.npz arrays the report needs, one entry per voxel.
MAP_KEYS = ("vertex", "hemi", "region", "activation_region", "s_pos", "s_causal")
#: optional arrays of synthetic subjects (planted areas and decoys).
AREA_KEYS = ("area_names", "area_kinds", "area_extents")
ROLES = ("positive", "negative", "edit")

_RERUN = "rerun `braincause localize CONCEPT --out DIR` to rewrite the folder"


@dataclass(frozen=True)
class RunFolder:
    """The content of one localize output folder.

    Attributes
    ----------
    path : Path
        The folder.
    result : dict
        ``result.json``.
    maps : dict of str to ndarray
        ``maps.npz``: per-voxel arrays of shape (n_voxels,), and for synthetic
        subjects ``area_names`` (n_areas,), ``area_kinds`` (n_areas,) and
        ``area_extents`` (n_areas, n_voxels).
    manifest : list of dict
        ``stimuli/manifest.json``: one entry per stimulus.
    followup : dict or None
        ``followup/design.json`` when present.
    """

    path: Path
    result: dict[str, Any] = field(repr=False)
    maps: dict[str, np.ndarray] = field(repr=False)
    manifest: list[dict[str, Any]] = field(repr=False)
    followup: dict[str, Any] | None = field(repr=False, default=None)

    @property
    def n_voxels(self) -> int:
        return int(self.maps["vertex"].shape[0])

    @property
    def has_areas(self) -> bool:
        """Whether ``maps.npz`` carries the synthetic subject's areas."""
        return all(k in self.maps for k in AREA_KEYS)

    def stimulus_path(self, entry: Mapping[str, Any]) -> Path | None:
        """Path of a manifest entry's PNG, or None when it has no image."""
        name = entry.get("file")
        if not name:
            return None
        # manifest names are plain file names written by braincause; refuse anything else
        if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
            raise UserInputError(f"{self.path / 'stimuli' / 'manifest.json'}: entry "
                                 f"{entry.get('id')!r} names the file {name!r}, expected a "
                                 f"plain file name in stimuli/; {_RERUN}")
        return self.path / "stimuli" / name


def _read_json(path: Path, what: str, *, required: bool = True) -> Any:
    if not path.is_file():
        if not required:
            return None
        raise UserInputError(f"{path} is missing: the folder is not a complete `braincause "
                             f"localize` output ({what}); {_RERUN}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserInputError(f"{path} could not be read as JSON ({e}); {_RERUN}") from e


def _check_result(result: Any, path: Path) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise UserInputError(f"{path} must hold a JSON object, got {type(result).__name__}; "
                             f"{_RERUN}")
    missing = [k for k in RESULT_KEYS if k not in result]
    if missing:
        raise UserInputError(f"{path} lacks {missing}: it was not written by this version of "
                             f"braincause's localize; {_RERUN}")
    for key in ("concept", "subject", "verdict", "p_values", "coverage", "stimuli"):
        if not isinstance(result[key], dict):
            raise UserInputError(f"{path}: '{key}' must be an object, got "
                                 f"{type(result[key]).__name__}; {_RERUN}")
    for key in ("region", "activation_region"):
        if not isinstance(result[key], dict) or "scores" not in result[key]:
            raise UserInputError(f"{path}: '{key}' has no 'scores'; {_RERUN}")
    return check_result(result, path, fix=_RERUN)  # the types and ranges of every field used


def _load_maps(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise UserInputError(f"{path} is missing: the surface maps need the per-voxel arrays "
                             f"that localize writes there; {_RERUN}")
    try:
        with np.load(path, allow_pickle=False) as z:
            maps = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserInputError(f"{path} could not be read as a numpy .npz archive ({e}); "
                             f"{_RERUN}") from e
    missing = [k for k in MAP_KEYS if k not in maps]
    if missing:
        raise UserInputError(f"{path} lacks the arrays {missing}; {_RERUN}")
    n = maps["vertex"].shape
    if len(n) != 1:
        raise UserInputError(f"{path}: 'vertex' must be 1-D (n_voxels,), got shape {n}")
    for k, v in maps.items():
        if k in AREA_KEYS:
            continue
        if v.shape != n:
            raise UserInputError(f"{path}: '{k}' has shape {v.shape}, expected {n} like "
                                 f"'vertex' (one entry per voxel); {_RERUN}")
    for k in ("region", "activation_region", "keep", "truth"):
        if k in maps and maps[k].dtype != np.bool_:
            raise UserInputError(f"{path}: '{k}' must be boolean, got {maps[k].dtype}")
    present = [k for k in AREA_KEYS if k in maps]
    if present and len(present) < len(AREA_KEYS):
        raise UserInputError(f"{path} has {present} but not all of {list(AREA_KEYS)}; "
                             f"{_RERUN}")
    if present:
        n_areas = maps["area_names"].shape[0]
        if (maps["area_kinds"].shape != (n_areas,)
                or maps["area_extents"].shape != (n_areas, n[0])
                or maps["area_extents"].dtype != np.bool_):
            raise UserInputError(
                f"{path}: area arrays disagree: area_names {maps['area_names'].shape}, "
                f"area_kinds {maps['area_kinds'].shape}, area_extents "
                f"{maps['area_extents'].shape} {maps['area_extents'].dtype} (expected "
                f"({n_areas},), ({n_areas},), ({n_areas}, {n[0]}) bool); {_RERUN}")
    return maps


def _check_manifest(manifest: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise UserInputError(f"{path} must hold a JSON list of stimulus entries; {_RERUN}")
    for e in manifest:
        bad = [k for k in ("id", "role", "text", "kept") if k not in e]
        if bad or e["role"] not in ROLES:
            raise UserInputError(f"{path}: entry {e.get('id')!r} lacks {bad} or has an unknown "
                                 f"role {e.get('role')!r} (expected one of {ROLES}); {_RERUN}")
    return check_manifest(manifest, path, fix=_RERUN)


def load_run(run_dir: str | Path) -> RunFolder:
    """Read and check a ``braincause localize`` output folder.

    Parameters
    ----------
    run_dir : path
        The ``--out`` folder of ``braincause localize``.

    Returns
    -------
    RunFolder

    Raises
    ------
    UserInputError
        When the folder or one of its files is missing or damaged; the message
        names the file.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise UserInputError(f"run folder {root} does not exist or is not a folder; pass the "
                             "--out folder of `braincause localize`")
    result = _check_result(_read_json(root / "result.json", "the run's results"),
                           root / "result.json")
    maps = _load_maps(root / "maps.npz")
    if "n_voxels" in result["subject"] and result["subject"]["n_voxels"] != maps["vertex"].size:
        raise UserInputError(f"{root / 'maps.npz'} has {maps['vertex'].size} voxels but "
                             f"result.json says {result['subject']['n_voxels']}: the files "
                             f"come from different runs; {_RERUN}")
    mpath = root / "stimuli" / "manifest.json"
    manifest = _check_manifest(_read_json(mpath, "the stimulus list"), mpath)
    fpath = root / "followup" / "design.json"
    followup = _read_json(fpath, "follow-up design", required=False)
    if followup is not None:
        if not isinstance(followup, dict):
            raise UserInputError(f"{fpath} must hold a JSON object, got "
                                 f"{type(followup).__name__}; rerun the follow-up design")
        summary = followup.get("summary")
        if summary is not None and not isinstance(summary, dict):
            raise UserInputError(f"{fpath}: 'summary' must be an object of name → value, got "
                                 f"{type(summary).__name__}; rerun the follow-up design")
    return RunFolder(root, result, maps, manifest, followup)
