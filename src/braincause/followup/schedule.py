"""Trials into runs, and a constrained random order within each run.

A trial is a token: the index of a stimulus, or ``NULL`` (-1) for a blank trial. Two
tokens *conflict* when they are the same stimulus, or one is an edit and the other its
own positive. :func:`order_run` draws a random order in which no two neighbouring
images conflict, blank trials not counting as a separation: no image repeats back to
back and an edit is never adjacent to (before or after) its positive, so the edit
response is not a repetition-suppressed echo of the positive. Every draw comes from the
``random_state`` passed in (a Generator is used as is, so the caller's stream continues).
"""

from __future__ import annotations

import math

import numpy as np

from braincause.exceptions import UserInputError
from braincause.utils import RandomState, check_random_state

NULL = -1


def conflicts(tokens: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Which pairs of tokens may not be neighbours.

    Parameters
    ----------
    tokens : ndarray of int, shape (n_types,)
        Distinct tokens (stimulus indices, or ``NULL``).
    parent : ndarray of int, shape (n_stimuli,)
        Index of each stimulus' parent positive, -1 if none.

    Returns
    -------
    conflict : ndarray of bool, shape (n_types, n_types)
    """
    t = np.asarray(tokens)
    real = t >= 0
    par = np.where(real, np.asarray(parent)[np.where(real, t, 0)], -2)
    same = (t[:, None] == t[None, :]) & real[:, None]
    family = (par[:, None] == t[None, :]) | (par[None, :] == t[:, None])
    return same | (family & real[:, None] & real[None, :])


def valid_order(order: np.ndarray, parent: np.ndarray) -> bool:
    """True if no two successive images of ``order`` conflict (blank trials skipped;
    see :func:`conflicts`)."""
    o = np.asarray(order)
    o = o[o >= 0]
    if len(o) < 2:
        return True
    a, b = o[:-1], o[1:]
    bad = (a == b) | (parent[a] == b) | (parent[b] == a)
    return not bool(bad.any())


def order_run(tokens: np.ndarray, parent: np.ndarray, random_state: RandomState, *,
              max_tries: int = 2000) -> np.ndarray:
    """A random order of ``tokens`` with no conflicting neighbours.

    Sequential sampling: each position draws a token type with probability proportional
    to its remaining count, among the types that do not conflict with the previous
    image (blank trials are transparent); a dead end restarts the draw.

    Parameters
    ----------
    tokens : ndarray of shape (n_trials,), int
        The run's trials (stimulus indices, or ``NULL``).
    parent : ndarray of shape (n_stimuli,), int
        The positive each stimulus is an edit of, -1 for none.
    random_state : int, Generator, SeedSequence or None
        Source of the draws (see :func:`braincause.utils.check_random_state`).
    max_tries : int, default=2000
        Draws before giving up.

    Returns
    -------
    ndarray of shape (n_trials,), int64
        The tokens in their new order.

    Raises
    ------
    UserInputError
        No valid order was found in ``max_tries`` draws (e.g. a run holding only one
        image and its edit).
    """
    rng = check_random_state(random_state)
    types, counts = np.unique(np.asarray(tokens), return_counts=True)
    bad = conflicts(types, parent)
    n = int(counts.sum())
    for _ in range(max_tries):
        left = counts.astype(np.float64)
        out = np.empty(n, dtype=np.int64)
        prev = -1
        for i in range(n):
            w = left if prev < 0 else np.where(bad[prev], 0.0, left)
            tot = w.sum()
            if tot <= 0:
                break
            k = int(np.searchsorted(np.cumsum(w), rng.random() * tot, side="right"))
            k = min(k, len(w) - 1)
            out[i] = types[k]
            left[k] -= 1
            if types[k] != NULL:
                prev = k
        else:
            return out
    raise UserInputError(f"could not order {n} trials without an image repeating back to "
                         f"back or an edit next to its positive in {max_tries} draws; add "
                         "stimuli or null trials (FollowupConfig.null_fraction)")


def deal_runs(by_condition: dict[str, np.ndarray], trials: dict[str, int], n_null: int,
              slots_per_run: int, random_state: RandomState) -> list[np.ndarray]:
    """Split every condition's trials, and the null trials, evenly over runs.

    Each condition's list holds its images in a random order, each one repeated
    ``trials / n_images`` times in a row; the list is dealt round-robin over the runs,
    continuing where the previous condition stopped. So every run gets the same share
    (±1) of every condition, and the showings of an image land in consecutive runs:
    in different runs whenever it is shown at most ``n_runs`` times.

    Parameters
    ----------
    by_condition : dict
        Condition → stimulus indices (ndarray of int).
    trials : dict
        Condition → number of trials.
    n_null : int
        Null (blank) trials.
    slots_per_run : int
        Most trials a run may hold.
    random_state : int, Generator, SeedSequence or None
        Source of each condition's image order (see
        :func:`braincause.utils.check_random_state`).

    Returns
    -------
    runs : list of ndarray of int
        Unordered tokens of each run.
    """
    rng = check_random_state(random_state)
    lists = []
    for name, idx in by_condition.items():
        lists.append(np.repeat(rng.permutation(idx), trials[name] // len(idx)))
    lists.append(np.full(n_null, NULL, dtype=np.int64))
    total = sum(len(x) for x in lists)
    n_runs = max(1, math.ceil(total / slots_per_run))
    runs: list[list[int]] = [[] for _ in range(n_runs)]
    offset = 0
    for lst in lists:
        for j, tok in enumerate(lst):
            runs[(offset + j) % n_runs].append(int(tok))
        offset += len(lst)
    return [np.asarray(r, dtype=np.int64) for r in runs]
