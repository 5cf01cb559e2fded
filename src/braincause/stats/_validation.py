"""Argument checks shared by the :mod:`braincause.stats` functions.

Every check raises :class:`~braincause.exceptions.UserInputError` with a message
that names the parameter, says what was expected and shows what came.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np

from braincause.exceptions import UserInputError

#: Relative tolerance under which a permuted statistic counts as a tie with the
#: observed one (ties count as "at least as extreme").
TIE_RTOL = 1e-10

#: Bytes one (chunk, n_voxels) float64 block may take before work is split.
CHUNK_BYTES = 1 << 23


def as_data_matrix(x: object, name: str, *, min_rows: int = 2) -> np.ndarray:
    """``x`` as a finite float64 array of shape (n_samples, n_voxels)."""
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise UserInputError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise UserInputError(
            f"{name} must be a 2-D array of shape (n_samples, n_voxels), "
            f"got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise UserInputError(
            f"{name} must have at least {min_rows} rows (samples) and 1 column (voxel), "
            f"got shape {arr.shape}"
        )
    arr = arr.astype(np.float64, copy=False)
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise when ``arr`` holds NaN or infinite values, saying how many and where."""
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise UserInputError(
            f"{name} must contain only finite values, got {int(bad.sum())} NaN or "
            f"infinite value(s) (first at index {first})"
        )


def check_int(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` as a Python int >= ``minimum`` (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise UserInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_tail(tail: object) -> int:
    """``tail`` as one of 1 (greater), 0 (two-sided), -1 (less)."""
    if isinstance(tail, bool) or tail not in (-1, 0, 1):
        raise UserInputError(
            f"tail must be 1 (greater), 0 (two-sided) or -1 (less), got {tail!r}"
        )
    return int(tail)  # type: ignore[call-overload]


def check_fraction(value: object, name: str) -> float:
    """``value`` as a float strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 < value < 1.0:
        raise UserInputError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def check_choice(value: object, name: str, choices: Iterable[object]) -> object:
    """``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    ok = any(isinstance(value, type(c)) and value == c for c in choices)
    if not ok:
        raise UserInputError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        )
    return value


def check_chunk_size(chunk_size: int | None, n_voxels: int) -> int:
    """Rows (permutations or resamples) per block: given, or sized to ``CHUNK_BYTES``."""
    if chunk_size is None:
        return max(1, CHUNK_BYTES // (8 * max(1, n_voxels)))
    return check_int(chunk_size, "chunk_size")


def tail_statistic(t: np.ndarray, tail: int) -> np.ndarray:
    """Orient ``t`` so that larger is more extreme: t, |t| or -t for tail 1, 0, -1."""
    if tail == 1:
        return t
    if tail == -1:
        return -t
    return np.abs(t)


def tie_threshold(stat: np.ndarray) -> np.ndarray:
    """Values at or above which a null statistic counts as >= ``stat`` (round-off guard)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(stat), stat, stat - TIE_RTOL * np.abs(stat))
