"""Checks of user-facing input, run before any work (CLI and Python API alike).

Each check raises :class:`~braincause.exceptions.UserInputError` (or the error class it
is given) with a one-line message that names the input, says what was wrong and how to
fix it; the CLI turns it into exit code 2. Nothing here writes anything the user can
see: a writability probe creates and removes one temporary file.

A foundation module: it imports only :mod:`braincause.exceptions`.
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from braincause.exceptions import UserInputError

__all__ = ["MAX_SEED", "check_float", "check_int", "check_localize_inputs", "check_manifest",
           "check_output_dir", "check_output_file", "check_result", "check_seed",
           "check_text"]

#: Largest seed accepted anywhere (numpy's legacy and SeedSequence-friendly 32-bit range).
MAX_SEED = 2**32 - 1


# ------------------------------------------------------------------------- numbers
def _is_int(value: Any) -> bool:
    """An int or a numpy integer, not a bool (numpy bools are no Integral)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value: Any, what: str, lo: int, hi: int) -> int:
    """``value`` as an int in ``[lo, hi]``.

    Parameters
    ----------
    value : int
    what : str
        How the user spells the input (``"--n"``, ``"seed"``).
    lo, hi : int
        Inclusive bounds.

    Returns
    -------
    int
    """
    if not _is_int(value):
        raise UserInputError(f"{what} must be an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise UserInputError(f"{what} must be between {lo} and {hi}, got {value}")
    return int(value)


def check_float(value: Any, what: str, lo: float, hi: float, *, lo_open: bool = False,
                hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``lo`` to ``hi``.

    Parameters
    ----------
    value : object
    what : str
        The argument's name, for the message.
    lo, hi : float
        The bounds.
    lo_open, hi_open : bool
        Exclude the bound.

    Returns
    -------
    float

    Raises
    ------
    UserInputError
        Not a finite number in the interval.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise UserInputError(f"{what} must be a number, got {value!r}")
    v = float(value)
    bad = not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) \
        or (hi_open and v == hi)
    if bad:
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise UserInputError(f"{what} must be in {interval}, got {value}")
    return v


def check_seed(value: Any, what: str = "seed") -> int:
    """A seed: an int in ``[0, 2**32 - 1]``.

    Parameters
    ----------
    value : object
    what : str
        The argument's name, for the message.

    Returns
    -------
    int
    """
    if not _is_int(value) or not 0 <= int(value) <= MAX_SEED:
        raise UserInputError(f"{what} must be an integer between 0 and {MAX_SEED} (2**32 - 1), "
                             f"got {value!r}")
    return int(value)


def check_text(value: Any, what: str, *, max_len: int = 1000) -> str:
    """A non-empty string of at most ``max_len`` characters (a concept, a prompt).

    Parameters
    ----------
    value : object
    what : str
        The argument's name, for the message.
    max_len : int

    Returns
    -------
    str
    """
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(f"{what} must be a non-empty text, got {value!r}")
    if len(value) > max_len:
        raise UserInputError(f"{what} is {len(value)} characters long; keep it under "
                             f"{max_len}")
    if "\x00" in value:
        raise UserInputError(f"{what} contains a NUL character; remove it")
    return value


# ------------------------------------------------------------------------- paths
def _as_path(path: Any, what: str) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(os.fspath(path)).strip():
        raise UserInputError(f"{what} must be a path, got {path!r}")
    if "\x00" in str(os.fspath(path)):
        raise UserInputError(f"{what} contains a NUL character; remove it")
    return Path(path)


def _existing_ancestor(p: Path, what: str) -> Path:
    """The nearest existing folder at or above ``p``; an error when it is not a folder."""
    cur = p.absolute()
    while True:
        try:
            exists = cur.exists()
        except OSError as e:  # name too long, …
            raise UserInputError(f"{what} {str(p)!r} is not a usable path ({e.strerror or e}); "
                                 "choose another") from None
        if exists:
            break
        if cur.parent == cur:
            break
        cur = cur.parent
    if not cur.is_dir():
        raise UserInputError(f"{what} {str(p)!r} lies inside {str(cur)!r}, which is a file, not a "
                             "folder; choose a path in a folder")
    return cur


def _check_writable(folder: Path, what: str, p: Path) -> None:
    """Probe ``folder`` by creating (and removing) a temporary file in it."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".braincause-write-check-")
    except OSError as e:
        raise UserInputError(f"{what} {str(p)!r} cannot be written: the folder {str(folder)!r} "
                             f"is not writable ({e.strerror or e}); choose a folder you can "
                             "write to") from None
    os.close(fd)
    os.unlink(tmp)


def check_output_dir(path: Any, what: str = "--out") -> Path:
    """Check that ``path`` is, or can become, a folder braincause may write into.

    Nothing is created. Raises when ``path`` is an existing file (or anything that is not
    a folder), lies under a file, or the folder (or its nearest existing parent) is not
    writable.

    Parameters
    ----------
    path : path
    what : str
        How the user spells the input (``"--out"``, ``"out"``).

    Returns
    -------
    Path
    """
    p = _as_path(path, what)
    try:
        exists = p.exists()
    except OSError as e:
        raise UserInputError(f"{what} {str(p)!r} is not a usable path ({e.strerror or e}); "
                             "choose another") from None
    if exists and not p.is_dir():
        raise UserInputError(f"{what} {str(p)!r} is an existing file, not a folder; pass a "
                             "folder (new or existing) or remove the file")
    _check_writable(_existing_ancestor(p, what), what, p)
    return p


def check_output_file(path: Any, what: str = "--out", *, suffix: str | None = None) -> Path:
    """Check that braincause may write the file ``path`` (new or replaced).

    Parameters
    ----------
    path : path
    what : str
        How the user spells the input.
    suffix : str, optional
        Required extension, e.g. ``".png"`` (case-insensitive).

    Returns
    -------
    Path
    """
    p = _as_path(path, what)
    if suffix is not None and p.suffix.lower() != suffix:
        raise UserInputError(f"{what} must name a {suffix} file, got {str(p)!r}")
    try:
        exists = p.exists()
    except OSError as e:
        raise UserInputError(f"{what} {str(p)!r} is not a usable path ({e.strerror or e}); "
                             "choose another") from None
    if exists and not p.is_file():
        raise UserInputError(f"{what} {str(p)!r} is a folder (or not a regular file); name a "
                             "file to write")
    _check_writable(_existing_ancestor(p.parent, what), what, p)
    return p


def nsd_subject_number(subject: Any, what: str = "--subject") -> int:
    """The NSD subject number (1-8) of ``1``, ``"1"``, ``"subj01"`` or ``"nsd-subj01"``.

    Parameters
    ----------
    subject : int or str
    what : str
        The argument's name, for the message.

    Returns
    -------
    int

    Raises
    ------
    UserInputError
        Not an NSD subject number.
    """
    text = str(subject).strip().lower()
    for prefix in ("nsd-", "subj"):
        text = text.removeprefix(prefix)
    try:
        num = int(text)
    except ValueError:
        num = 0
    if not 1 <= num <= 8:
        raise UserInputError(f"with an NSD root, {what} must be an NSD subject number "
                             f"(1-8, or subj01 … subj08), got {subject!r}")
    return num


def check_localize_inputs(query: Any, *, seed: Any, out: Any = None,
                          nsd_root: Any = None) -> None:
    """The checks of :func:`braincause.pipeline.localize`'s plain arguments.

    Parameters
    ----------
    query : object
        Must be a non-empty text.
    seed : object
        Must be an int in ``[0, 2**32 - 1]``.
    out : path, optional
        Must be a folder that can be created and written.
    nsd_root : path, optional
        Must be a folder.

    Raises
    ------
    UserInputError
        The first argument that fails its check.
    """
    check_text(query, "the concept")
    check_seed(seed, "seed")
    if out is not None:
        check_output_dir(out, "out")
    if nsd_root is not None:
        root = _as_path(nsd_root, "nsd_root")
        if not root.is_dir():
            raise UserInputError(f"nsd_root {str(root)!r} is not a folder; pass the root of a "
                                 "local NSD copy (docs/nsd.md)")


# ------------------------------------------------------------------------- run folders
def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _str_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(v, str) for v in x)


def _counts(x: Any) -> bool:
    return isinstance(x, dict) and all(_int(v) and v >= 0 for v in x.values())


def _dict_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(v, dict) for v in x)


#: result.json fields read by the report and the follow-up: dotted key → (test, expected).
#: Checked when present; ``required`` in :func:`check_result` says which must be.
RESULT_FIELDS: dict[str, tuple[Any, str]] = {
    "query": (lambda x: isinstance(x, str), "a string"),
    "concept": (lambda x: isinstance(x, dict), "an object"),
    "concept.name": (lambda x: isinstance(x, str) and bool(x), "a non-empty string"),
    "concept.label": (lambda x: isinstance(x, str), "a string"),
    "subject": (lambda x: isinstance(x, dict), "an object"),
    "subject.id": (lambda x: isinstance(x, str) and bool(x), "a non-empty string"),
    "subject.n_voxels": (lambda x: _int(x) and x >= 1, "a positive integer"),
    "seed": (lambda x: _int(x) and x >= 0, "a non-negative integer"),
    "config": (lambda x: isinstance(x, dict), "an object"),
    "config.stats": (lambda x: isinstance(x, dict), "an object"),
    "config.stats.alpha": (lambda x: _number(x) and 0 < x < 1, "a number in (0, 1)"),
    "config.stimuli": (lambda x: isinstance(x, dict), "an object"),
    "config.verdict": (lambda x: isinstance(x, dict), "an object"),
    "config.verdict.min_negatives_per_counter": (lambda x: _int(x) and x >= 0,
                                                 "a non-negative integer"),
    "verdict": (lambda x: isinstance(x, dict), "an object"),
    "verdict.verdict": (lambda x: isinstance(x, str), "a string"),
    "verdict.cutoffs": (lambda x: isinstance(x, dict), "an object"),
    "verdict.criteria": (lambda x: isinstance(x, dict), "an object"),
    "region": (lambda x: isinstance(x, dict), "an object"),
    "region.scores": (lambda x: isinstance(x, dict), "an object"),
    "region.voxels": (lambda x: isinstance(x, list) and all(_int(v) and v >= 0 for v in x),
                      "a list of non-negative voxel indices"),
    "activation_region": (lambda x: isinstance(x, dict), "an object"),
    "activation_region.scores": (lambda x: isinstance(x, dict), "an object"),
    "activation_region.voxels": (lambda x: isinstance(x, list)
                                 and all(_int(v) and v >= 0 for v in x),
                                 "a list of non-negative voxel indices"),
    "p_values": (lambda x: isinstance(x, dict), "an object"),
    "p_values.baseline_concepts": (_str_list, "a list of strings"),
    "coverage": (lambda x: isinstance(x, dict), "an object"),
    "coverage.missing_counter_concepts": (_str_list, "a list of strings"),
    "coverage.eval": (lambda x: isinstance(x, dict), "an object"),
    "coverage.eval.negatives_per_counter": (_counts, "an object of name → count"),
    "stimuli": (lambda x: isinstance(x, dict), "an object"),
    "stimuli.counter_concepts": (_dict_list, "a list of objects"),
    "stimuli.retention": (lambda x: isinstance(x, dict), "an object"),
    "noise": (lambda x: isinstance(x, dict), "an object"),
    "noise.causal_region": (lambda x: isinstance(x, dict), "an object"),
    "noise.causal_region.trial_sd": (lambda x: _number(x) and x > 0, "a positive number"),
    "ground_truth": (lambda x: x is None or isinstance(x, dict), "an object"),
    "voxelwise": (lambda x: x is None or isinstance(x, dict), "an object"),
}


def check_result(result: Any, path: Path | str, *, required: Sequence[str] = (),
                 fix: str = "rerun `braincause localize CONCEPT --out DIR` to rewrite the "
                            "folder",
                 error: type[Exception] = UserInputError) -> dict[str, Any]:
    """Check the types and ranges of a run's ``result.json`` (parsed) before it is used.

    Parameters
    ----------
    result : object
        The parsed ``result.json``.
    path : path
        Its file, named in the message.
    required : sequence of str
        Dotted keys that must be present (every field of :data:`RESULT_FIELDS` is
        checked when present).
    fix : str
        What the user should do, appended to the message.
    error : exception class
        Raised on a problem (the reader's own error class).

    Returns
    -------
    dict
        ``result``, unchanged.
    """
    if not isinstance(result, dict):
        raise error(f"{path} must hold a JSON object, got {type(result).__name__}; {fix}")

    def lookup(key: str) -> tuple[bool, Any]:
        cur: Any = result
        for part in key.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return False, None
            cur = cur[part]
        return True, cur

    for key in required:
        if not lookup(key)[0]:
            raise error(f"{path} lacks {key}; {fix}")
    for key, (ok, expected) in RESULT_FIELDS.items():
        found, value = lookup(key)
        if found and not ok(value):
            raise error(f"{path}: {key} must be {expected}, got {_short(value)}; {fix}")
    n = lookup("subject.n_voxels")[1]
    if _int(n):
        for key in ("region.voxels", "activation_region.voxels"):
            vox = lookup(key)[1] or []
            bad = [v for v in vox if v >= n]
            if bad:
                raise error(f"{path}: {key} holds voxel index {bad[0]}, outside the subject's "
                            f"{n} voxels (0 to {n - 1}); {fix}")
    return result


def check_manifest(manifest: Any, path: Path | str, *, required: Sequence[str] = (),
                   fix: str = "rerun `braincause localize CONCEPT --out DIR` to rewrite the "
                              "folder",
                   error: type[Exception] = UserInputError) -> list[dict[str, Any]]:
    """Check the entries of a run's ``stimuli/manifest.json`` (parsed).

    Every entry must be an object with the ``required`` keys; ``id`` must be an integer,
    ``role`` one of positive / negative / edit, ``split`` and ``text`` strings, ``kept``
    a boolean, ``file`` a string or null, ``parent`` an integer or null and
    ``response`` an object or null, when present.

    Parameters
    ----------
    manifest : object
        The parsed manifest.
    path : path
        Its file, named in the message.
    required : sequence of str
        Keys every entry must have.
    fix : str
        What the user should do, appended to the message.
    error : exception class
        Raised on a problem.

    Returns
    -------
    list of dict
        ``manifest``, unchanged.
    """
    if not isinstance(manifest, list):
        raise error(f"{path} must hold a JSON list of stimulus entries, got "
                    f"{type(manifest).__name__}; {fix}")
    tests: Mapping[str, tuple[Any, str]] = {
        "id": (_int, "an integer"),
        "role": (lambda x: x in ("positive", "negative", "edit", "control"),
                 "one of 'positive', 'negative', 'edit', 'control'"),
        "split": (lambda x: isinstance(x, str), "a string"),
        "text": (lambda x: isinstance(x, str), "a string"),
        "kept": (lambda x: isinstance(x, bool), "true or false"),
        "file": (lambda x: x is None or isinstance(x, str), "a file name or null"),
        "parent": (lambda x: x is None or _int(x), "an integer or null"),
        "response": (lambda x: x is None or isinstance(x, dict), "an object or null"),
    }
    for i, e in enumerate(manifest):
        if not isinstance(e, dict):
            raise error(f"{path}: entry {i} must be an object, got {type(e).__name__}; {fix}")
        missing = [k for k in required if k not in e]
        if missing:
            raise error(f"{path}: entry {i} lacks {missing}; {fix}")
        for key, (ok, expected) in tests.items():
            if key in e and not ok(e[key]):
                raise error(f"{path}: entry {i}: {key} must be {expected}, got "
                            f"{_short(e[key])}; {fix}")
    return manifest


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
