"""Read and check a ``localize`` run folder (``result.json`` + ``stimuli/manifest.json``)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braincause.boundary import check_manifest, check_result
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


def read_run(run_dir: str | Path) -> RunDir:
    """Read ``run_dir`` and check the fields the design uses.

    Raises
    ------
    DataError
        The folder, ``result.json`` or the manifest is missing, unreadable or lacks a
        field; the message names it and how to fix it.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise DataError(f"run folder {str(path)!r} does not exist or is not a folder; "
                        f"pass the --out folder of a localize run ({_FIX})")
    raw = _read_bytes(path / "result.json")
    result = _parse(raw, path / "result.json")
    manifest = _parse(_read_bytes(path / "stimuli" / "manifest.json"),
                      path / "stimuli" / "manifest.json")
    if not isinstance(result, dict):
        raise DataError(f"{path / 'result.json'} must hold a JSON object, got "
                        f"{type(result).__name__}; {_FIX}")
    if not isinstance(manifest, list) or not manifest:
        raise DataError(f"{path / 'stimuli' / 'manifest.json'} must hold a non-empty JSON "
                        f"list of stimuli; {_FIX}")
    _check_result(result, path / "result.json")
    for i, e in enumerate(manifest):
        missing = [k for k in _ENTRY_KEYS if not isinstance(e, dict) or k not in e]
        if missing:
            raise DataError(f"{path / 'stimuli' / 'manifest.json'}: entry {i} lacks "
                            f"{missing}; {_FIX}")
    check_manifest(manifest, path / "stimuli" / "manifest.json", fix=_FIX, error=DataError)
    return RunDir(path, result, manifest, hashlib.sha256(raw).hexdigest())


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {p}: {e.strerror or e}; {_FIX}") from e


def _parse(raw: bytes, p: Path) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{p} is not valid JSON ({e}); {_FIX}") from e


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
