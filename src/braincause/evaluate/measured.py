"""Measured validation sets: positives and per-counter-concept negatives retrieved
from a subject's measured images (PAPER.md §1b, §5).

Retrieval ranks images by caption-embedding similarity; the verifier then keeps
positives that show the concept, and negatives that show the counter-concept but
not the target (the paper's double check). Which images are searched:

* ``train`` — the subject's own images (the encoder's training split): the MAM and
  CSM ranking signals (measured responses);
* ``eval`` — the shared, held-out images: the Activation- and Causal-Measured test
  (measured responses; never used for region selection);
* ``pool`` — every measured image run through the encoder: MAL, MALF and CSL
  (predicted responses), as the paper's COCO pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braincause.plan.base import CounterConcept


@dataclass
class MeasuredSets:
    """Retrieved image indices (into the subject's measured images) for one concept."""

    split: str
    positives: np.ndarray
    positives_unverified: np.ndarray
    negatives: dict[str, np.ndarray] = field(default_factory=dict)   # counter label -> idx

    @property
    def all_negatives(self) -> np.ndarray:
        if not self.negatives:
            return np.zeros(0, int)
        return np.unique(np.concatenate(list(self.negatives.values()))).astype(int)

    def coverage(self, *, desired_positives: int, desired_negatives: int) -> dict[str, Any]:
        return {
            "positives": len(self.positives),
            "positives_fraction": round(min(1.0, len(self.positives) / max(1, desired_positives)),
                                        4),
            "negatives_per_counter": {k: len(v) for k, v in self.negatives.items()},
            "negatives_fraction_per_counter": {
                k: round(min(1.0, len(v) / max(1, desired_negatives)), 4)
                for k, v in self.negatives.items()},
        }


class _LazyPresence:
    """P(present) of a pool's images, asked of the verifier only for the images that are
    looked at (retrieval examines a few hundred candidates, not the whole pool)."""

    def __init__(self, compute, n: int) -> None:
        self.compute = compute
        self.p = np.full(n, np.nan)
        self.done = np.zeros(n, bool)

    def __getitem__(self, idx) -> np.ndarray:
        idx = np.asarray(idx, int)
        todo = np.unique(idx[~self.done[idx]])
        if todo.size:
            self.p[todo] = np.asarray(self.compute(todo), np.float64).reshape(todo.size)
            self.done[todo] = True
        return self.p[idx]


class _Decision:
    """``mask[idx]``: a presence array (or :class:`_LazyPresence`) against a cut-off."""

    def __init__(self, p, threshold: float, present: bool) -> None:
        self.p, self.threshold, self.is_present = p, threshold, present

    def __getitem__(self, idx) -> np.ndarray:
        p = self.p[idx]
        with np.errstate(invalid="ignore"):  # NaN (an unjudged image) passes neither test
            return p >= self.threshold if self.is_present else p < self.threshold


class PoolVerifier:
    """Verifier answers for a subject's measured images, memoised per concept.

    A verifier that reads features (the embedded probes) or scene records judges the
    whole pool at once. One that reads pixels (``needs_images``: CLIP, a VLM) gets the
    images from ``images(indices) -> (n, H, W, 3) uint8`` and judges only the images
    retrieval examines, each once per concept.
    """

    def __init__(self, verifier, features: np.ndarray, scenes=None, threshold: float = 0.5,
                 absent_threshold: float | None = None, images=None):
        self.verifier = verifier
        self.features = features
        self.scenes = scenes
        self.images = images
        self.threshold = threshold
        self.absent_threshold = threshold if absent_threshold is None else absent_threshold
        self.lazy = bool(getattr(verifier, "needs_images", False)) and \
            not getattr(verifier, "needs_scenes", False)
        if self.lazy and images is None:
            raise ValueError("a verifier that reads images needs PoolVerifier(images=...)")
        self._memo: dict[str, Any] = {}

    def _p(self, concept: str):
        if concept not in self._memo:
            if getattr(self.verifier, "needs_scenes", False):
                p = self.verifier.presence(concept, scenes=self.scenes)
            elif self.lazy:
                n = len(self.features)
                self._memo[concept] = _LazyPresence(
                    lambda idx, c=concept: self.verifier.presence(c, images=self.images(idx)),
                    n)
                return self._memo[concept]
            else:
                p = self.verifier.presence(concept, features=self.features)
            self._memo[concept] = np.asarray(p, np.float64)
        return self._memo[concept]

    def present(self, concept: str):
        """``mask[indices]`` → bool: the verifier says ``concept`` is present (P ≥ threshold).

        An (n_images,) bool array, or a lazily evaluated stand-in indexed the same way."""
        p = self._p(concept)
        if isinstance(p, np.ndarray):
            return p >= self.threshold
        return _Decision(p, self.threshold, True)

    def absent(self, concept: str):
        """``mask[indices]`` → bool: confidently absent (P < absent_threshold)."""
        p = self._p(concept)
        if isinstance(p, np.ndarray):
            return p < self.absent_threshold
        return _Decision(p, self.absent_threshold, False)


def query_text(label: str) -> str:
    return f"a photo of {label}"


def retrieve_sets(index, pv: PoolVerifier, concept: str, label: str,
                  counters: list[CounterConcept], *, candidates: np.ndarray, split: str,
                  top_positive: int, max_positive: int, top_negative: int,
                  max_negative: int) -> MeasuredSets:
    """Positives of ``concept`` and negatives of each counter-concept among ``candidates``."""
    from braincause.retrieval import retrieve_negatives, retrieve_positives

    target = pv.present(concept)
    gone = pv.absent(concept)
    pos = retrieve_positives(index, query_text(label), candidates=candidates,
                             verify=lambda idx: target[idx], top=top_positive,
                             max_keep=max_positive)
    raw = retrieve_positives(index, query_text(label), candidates=candidates, verify=None,
                             top=max_positive, max_keep=max_positive)
    negs: dict[str, np.ndarray] = {}
    for c in counters:
        there = pv.present(c.name)
        r = retrieve_negatives(index, query_text(c.label), query_text(label),
                               candidates=candidates,
                               verify_negative=lambda idx, there=there: there[idx],
                               verify_target_absent=lambda idx: gone[idx],
                               top=top_negative, max_keep=max_negative)
        negs[c.label] = np.asarray(r.indices, int)
    return MeasuredSets(split, np.asarray(pos.indices, int), np.asarray(raw.indices, int), negs)
