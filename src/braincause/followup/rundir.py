"""Read and check a ``localize`` run folder (``result.json`` + ``stimuli/manifest.json``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braincause.boundary import check_result
from braincause.exceptions import DataError

_FIX = ("re-run `braincause localize CONCEPT --out DIR` to write a complete run folder")
_ENTRY_KEYS = ("id", "role", "split", "kept", "file", "response")


@dataclass(frozen=True)
class RunDir:
    """What the follow-up design needs from one localize run.

    Attributes
    ----------
    path : Path
        The run folder.
    result : dict
        ``result.json``.
    manifest : list of dict
        ``stimuli/manifest.json``, one entry per stimulus.
    result_sha256 : str
        Hash of ``result.json`` (recorded in design.json).
    """

    path: Path
    result: dict[str, Any] = field(repr=False)
    manifest: list[dict[str, Any]] = field(repr=False)
    result_sha256: str = ""

    @property
    def concept(self) -> dict[str, Any]:
        return self.result["concept"]

    @property
    def subject(self) -> str:
        return str(self.result["subject"]["id"])

    @property
    def verdict(self) -> dict[str, Any]:
        return self.result["verdict"]

    @property
    def alpha(self) -> float:
        return float(self.result.get("config", {}).get("stats", {}).get("alpha", 0.05))

    @property
    def seed(self) -> int:
        return int(self.result.get("seed", 0))

    @property
    def trial_sd(self) -> float:
        return float(self.result["noise"]["causal_region"]["trial_sd"])

    @property
    def missing_counters(self) -> list[str]:
        return list(self.result.get("coverage", {}).get("missing_counter_concepts", []))

    def counter_names(self) -> dict[str, str]:
        """Counter-concept label (as in the manifest) → name (identifier-like)."""
        out = {}
        for c in self.result.get("stimuli", {}).get("counter_concepts", []):
            out[str(c.get("label", c.get("name")))] = str(c.get("name", c.get("label")))
        return out

    def counter_reasons(self) -> dict[str, str]:
        """Counter-concept label → why the plan chose it."""
        return {str(c.get("label", c.get("name"))): str(c.get("reason", ""))
                for c in self.result.get("stimuli", {}).get("counter_concepts", [])}

    def image_path(self, entry: dict[str, Any]) -> Path:
        return self.path / "stimuli" / str(entry["file"])


def read_run(run_dir: Any) -> RunDir:
    """Read ``run_dir`` (a folder, or the :class:`~braincause.runfolder.RunFolder` a
    localize run just wrote) and check the fields the design uses.

    Parameters
    ----------
    run_dir : path or RunFolder

    Returns
    -------
    RunDir

    Raises
    ------
    DataError
        The folder, ``result.json`` or the manifest is missing, unreadable or lacks a
        field; the message names it and how to fix it.
    """
    from braincause.runfolder import RunFolder
    from braincause.runfolder import read_run as read_folder

    folder = run_dir if isinstance(run_dir, RunFolder) else read_folder(run_dir, maps=False)
    path, result, manifest = folder.path, folder.result, folder.manifest
    if not manifest:
        raise DataError(f"{path / 'stimuli' / 'manifest.json'} must hold a non-empty JSON "
                        f"list of stimuli; {_FIX}")
    _check_result(result, path / "result.json")
    for i, e in enumerate(manifest):
        missing = [k for k in _ENTRY_KEYS if k not in e]
        if missing:
            raise DataError(f"{path / 'stimuli' / 'manifest.json'}: entry {i} lacks "
                            f"{missing}; {_FIX}")
    return RunDir(path, result, manifest, folder.result_sha256)


def _check_result(r: dict[str, Any], p: Path) -> None:
    def get(*keys: str) -> Any:
        cur: Any = r
        for k in keys:
            if not isinstance(cur, dict) or k not in cur:
                raise DataError(f"{p} lacks {'.'.join(keys)}; {_FIX}")
            cur = cur[k]
        return cur

    get("concept", "name")
    get("subject", "id")
    get("verdict", "verdict")
    sd = get("noise", "causal_region", "trial_sd")
    if not isinstance(sd, (int, float)) or not math.isfinite(sd) or sd <= 0:
        raise DataError(f"{p}: noise.causal_region.trial_sd must be a positive number, got "
                        f"{sd!r}; {_FIX}")
    check_result(r, p, fix=_FIX, error=DataError)  # the types and ranges of every field used
