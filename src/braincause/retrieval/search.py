"""Positive and negative image retrieval with a verification step (the paper's protocol)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from braincause.exceptions import UserInputError

if TYPE_CHECKING:
    from braincause.retrieval.index import Retriever

#: A verifier: (k,) int64 image indices → (k,) bool, True where the check passes.
Verifier = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Retrieval:
    """The outcome of one retrieval.

    Attributes
    ----------
    query : str
        What was searched for (the concept for positives, the counter-concept for
        negatives).
    indices : ndarray of shape (n_kept,)
        Kept images (int64 indices), in rank order.
    similarity : ndarray of shape (n_kept,)
        float32 similarity of each kept image to ``query``.
    ranked : ndarray of shape (n_ranked,)
        Every image that was examined (the ``top`` best; int64 indices), in rank order.
    verified : ndarray of shape (n_ranked,)
        Whether each examined image passed verification (bool; all True without a
        verifier).
    target_query : str or None
        For negatives: the concept that must be absent.
    target_similarity : ndarray of shape (n_kept,) or None
        For negatives: float32 similarity of each kept image to ``target_query``.
    """

    query: str
    indices: np.ndarray
    similarity: np.ndarray
    ranked: np.ndarray
    verified: np.ndarray
    target_query: str | None = None
    target_similarity: np.ndarray | None = None

    @property
    def n_ranked(self) -> int:
        """Images examined."""
        return len(self.ranked)

    @property
    def n_verified(self) -> int:
        """Examined images that passed verification (before ``max_keep``)."""
        return int(self.verified.sum())

    @property
    def precision(self) -> float:
        """Fraction of the examined images that passed verification (nan when none)."""
        return self.n_verified / self.n_ranked if self.n_ranked else float("nan")

    def __len__(self) -> int:
        return len(self.indices)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (indices and similarities as lists).

        Returns
        -------
        dict
            ``query``, ``target_query``, ``indices``, ``similarity`` (rounded to 6
            digits), ``n_ranked``, ``n_verified``, ``n_kept``, ``precision`` (None when
            nothing was examined) and, for negatives, ``target_similarity``.
        """
        out: dict[str, Any] = {
            "query": self.query, "target_query": self.target_query,
            "indices": self.indices.tolist(),
            "similarity": [round(float(s), 6) for s in self.similarity],
            "n_ranked": self.n_ranked, "n_verified": self.n_verified,
            "n_kept": len(self.indices),
            "precision": None if not self.n_ranked else round(self.precision, 6),
        }
        if self.target_similarity is not None:
            out["target_similarity"] = [round(float(s), 6) for s in self.target_similarity]
        return out


# -------------------------------------------------------------------------- checks
def _positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UserInputError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _candidates(index: Retriever, candidates: Any) -> np.ndarray:
    """Validated candidate image indices: sorted, unique int64."""
    n = index.n_images
    if candidates is None:
        return np.arange(n, dtype=np.int64)
    arr = np.asarray(candidates)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise UserInputError(f"a boolean candidates mask must have shape ({n},), "
                                 f"got {arr.shape}")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.ndim != 1:
        raise UserInputError(f"candidates must be a 1-D array of image indices, got shape "
                             f"{arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise UserInputError(f"candidates must be integer image indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = arr[(arr < 0) | (arr >= n)]
    if bad.size:
        raise UserInputError(f"candidates hold indices outside [0, {n}): {bad[:5].tolist()}")
    return np.unique(arr)


def _verify(fn: Verifier | None, idx: np.ndarray, name: str) -> np.ndarray:
    if fn is None or idx.size == 0:
        return np.ones(idx.size, bool)
    got = np.asarray(fn(idx.copy()))
    if got.shape != idx.shape:
        raise UserInputError(f"{name} returned shape {got.shape} for {idx.size} images; it "
                             f"must return one bool per image")
    if got.dtype != bool:
        if not np.issubdtype(got.dtype, np.integer) or not np.isin(got, (0, 1)).all():
            raise UserInputError(f"{name} must return booleans, got dtype {got.dtype}")
        got = got.astype(bool)
    return got


def _rank_desc(sim: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``idx`` by decreasing ``sim[idx]``, ties by increasing index."""
    return idx[np.lexsort((idx, -sim[idx].astype(np.float64)))]


# ------------------------------------------------------------------------ retrieval
def retrieve_positives(index: Retriever, query: str, *, candidates: np.ndarray | None = None,
                       verify: Verifier | None, top: int = 200,
                       max_keep: int | None = None) -> Retrieval:
    """Images that show ``query``: the most similar candidates, then verified.

    Parameters
    ----------
    index : Retriever
        A :class:`~braincause.retrieval.index.CaptionIndex`, a
        :class:`~braincause.retrieval.clip.CLIPRetriever` or any other implementation.
    query : str
        Text describing the concept ("a photo of a dog").
    candidates : ndarray of shape (n_candidates,) or (n_images,), optional
        Images to search (default: all): integer image indices, or a boolean mask over
        the pool. Order and repeats do not matter.
    verify : callable or None
        ``verify(indices) -> bool array``, True where the concept is present; ``None``
        keeps every ranked image (no verification).
    top : int
        How many of the best-ranked candidates are examined.
    max_keep : int, optional
        At most this many verified images are kept (the best-ranked).

    Returns
    -------
    Retrieval
        ``ranked`` holds the ``min(top, n_candidates)`` candidates by decreasing
        similarity (ties by index), ``indices`` those that pass ``verify``, in the same
        order.

    Raises
    ------
    UserInputError
        Empty query, candidates out of range or not integers, ``top`` < 1,
        ``max_keep`` < 0, or a verifier answer of the wrong shape or type.
    """
    top = _positive_int(top, "top")
    if max_keep is not None:
        max_keep = _positive_int(max_keep, "max_keep", minimum=0)
    cand = _candidates(index, candidates)
    sim = index.similarity(query)
    ranked = _rank_desc(sim, cand)[:top]
    ok = _verify(verify, ranked, "verify")
    kept = ranked[ok][:max_keep]
    return Retrieval(query=query.strip(), indices=kept, similarity=sim[kept].astype(np.float32),
                     ranked=ranked, verified=ok)


def retrieve_negatives(index: Retriever, negative_query: str, target_query: str, *,
                       candidates: np.ndarray | None = None,
                       verify_negative: Verifier | None,
                       verify_target_absent: Verifier | None, top: int = 100,
                       max_keep: int | None = None) -> Retrieval:
    """Images that show a counter-concept but not the target (the paper's negatives).

    The ``top`` candidates most similar to ``negative_query`` are re-ranked by
    *increasing* similarity to ``target_query`` (least target-like first; ties keep
    their first rank), then double-checked: kept when ``verify_negative`` says the
    counter-concept is present **and** ``verify_target_absent`` says the target is
    absent.

    Parameters
    ----------
    index : Retriever
        A :class:`~braincause.retrieval.index.CaptionIndex`, a
        :class:`~braincause.retrieval.clip.CLIPRetriever` or any other implementation.
    negative_query : str
        The counter-concept ("a photo of a plate").
    target_query : str
        The concept that must be absent ("a photo of food").
    candidates : ndarray of shape (n_candidates,) or (n_images,), optional
        As :func:`retrieve_positives`.
    verify_negative, verify_target_absent : callable or None
        ``f(indices) -> bool array``; ``None`` skips that check.
    top : int
        How many images similar to ``negative_query`` are examined.
    max_keep : int, optional
        At most this many are kept (first in the re-ranked order).

    Returns
    -------
    Retrieval
        ``ranked`` in the re-ranked order; ``similarity`` to ``negative_query`` and
        ``target_similarity`` to ``target_query`` of the kept images.

    Raises
    ------
    UserInputError
        As :func:`retrieve_positives`.
    """
    top = _positive_int(top, "top")
    if max_keep is not None:
        max_keep = _positive_int(max_keep, "max_keep", minimum=0)
    cand = _candidates(index, candidates)
    sim_neg = index.similarity(negative_query)
    sim_target = index.similarity(target_query)
    first = _rank_desc(sim_neg, cand)[:top]
    ranked = first[np.lexsort((np.arange(first.size), sim_target[first].astype(np.float64)))]
    ok = (_verify(verify_negative, ranked, "verify_negative")
          & _verify(verify_target_absent, ranked, "verify_target_absent"))
    kept = ranked[ok][:max_keep]
    return Retrieval(query=negative_query.strip(), indices=kept,
                     similarity=sim_neg[kept].astype(np.float32), ranked=ranked, verified=ok,
                     target_query=target_query.strip(),
                     target_similarity=sim_target[kept].astype(np.float32))
