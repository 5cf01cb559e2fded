"""Read a ``braincause localize`` output folder for the report, checking it once.

A run folder holds ``result.json``, ``maps.npz`` and ``stimuli/manifest.json``
(with the stimulus PNGs beside it), and optionally ``followup/design.json``.
Every problem with these files becomes a :class:`~braincause.exceptions.UserInputError`
that names the file and says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause.boundary import check_manifest, check_result
from braincause.exceptions import UserInputError
from braincause.runfolder import AREA_KEYS

__all__ = ["ReportRun", "load_run"]

#: result.json keys the report reads (everything else is optional).
RESULT_KEYS = ("query", "concept", "subject", "verdict", "region", "activation_region",
               "p_values", "coverage", "stimuli")
ROLES = ("positive", "negative", "edit", "control")

_RERUN = "rerun `braincause localize CONCEPT --out DIR` to rewrite the folder"


@dataclass(frozen=True)
class ReportRun:
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
        """Number of voxels of the maps."""
        return int(self.maps["vertex"].shape[0])

    @property
    def has_areas(self) -> bool:
        """Whether ``maps.npz`` carries the synthetic subject's areas."""
        return all(k in self.maps for k in AREA_KEYS)

    def stimulus_path(self, entry: Mapping[str, Any]) -> Path | None:
        """Path of a manifest entry's PNG, or None when it has no image.

        Parameters
        ----------
        entry : mapping
            One entry of ``stimuli/manifest.json``.

        Returns
        -------
        Path or None

        Raises
        ------
        UserInputError
            When the entry names anything but a plain file name in ``stimuli/``.
        """
        name = entry.get("file")
        if not name:
            return None
        # manifest names are plain file names written by braincause; refuse anything else
        if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
            raise UserInputError(f"{self.path / 'stimuli' / 'manifest.json'}: entry "
                                 f"{entry.get('id')!r} names the file {name!r}, expected a "
                                 f"plain file name in stimuli/; {_RERUN}")
        return self.path / "stimuli" / name


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


def _check_manifest(manifest: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise UserInputError(f"{path} must hold a JSON list of stimulus entries; {_RERUN}")
    for e in manifest:
        bad = [k for k in ("id", "role", "text", "kept") if k not in e]
        if bad or e["role"] not in ROLES:
            raise UserInputError(f"{path}: entry {e.get('id')!r} lacks {bad} or has an unknown "
                                 f"role {e.get('role')!r} (expected one of {ROLES}); {_RERUN}")
    return check_manifest(manifest, path, fix=_RERUN)


def load_run(run_dir: Any) -> ReportRun:
    """Read and check a ``braincause localize`` output folder.

    Parameters
    ----------
    run_dir : path or braincause.runfolder.RunFolder
        The ``--out`` folder of ``braincause localize``, or the folder a run just wrote
        (in memory: nothing is read back).

    Returns
    -------
    ReportRun

    Raises
    ------
    UserInputError
        When the folder or one of its files is missing or damaged; the message
        names the file.
    """
    from braincause.runfolder import RunFolder as Folder
    from braincause.runfolder import read_run

    folder = run_dir if isinstance(run_dir, Folder) else read_run(run_dir)
    root = folder.path
    result = _check_result(folder.result, root / "result.json")
    maps = folder.maps
    manifest = _check_manifest(folder.manifest, root / "stimuli" / "manifest.json")
    fpath = root / "followup" / "design.json"
    followup = folder.followup
    if followup is not None:
        summary = followup.get("summary")
        if summary is not None and not isinstance(summary, dict):
            raise UserInputError(f"{fpath}: 'summary' must be an object of name → value, got "
                                 f"{type(summary).__name__}; rerun the follow-up design")
    return ReportRun(root, result, maps, manifest, followup)
