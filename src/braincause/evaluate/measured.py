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


class PoolVerifier:
    """Verifier answers for a subject's measured images, memoised per concept."""

    def __init__(self, verifier, features: np.ndarray, scenes=None, threshold: float = 0.5,
                 absent_threshold: float | None = None):
        self.verifier = verifier
        self.features = features
        self.scenes = scenes
        self.threshold = threshold
        self.absent_threshold = threshold if absent_threshold is None else absent_threshold
        self._memo: dict[str, np.ndarray] = {}

    def _p(self, concept: str) -> np.ndarray:
        if concept not in self._memo:
            if getattr(self.verifier, "needs_scenes", False):
                p = self.verifier.presence(concept, scenes=self.scenes)
            else:
                p = self.verifier.presence(concept, features=self.features)
            self._memo[concept] = np.asarray(p, np.float64)
        return self._memo[concept]

    def present(self, concept: str) -> np.ndarray:
        """(n_images,) bool: the verifier says ``concept`` is present (P ≥ threshold)."""
        return self._p(concept) >= self.threshold

    def absent(self, concept: str) -> np.ndarray:
        """(n_images,) bool: confidently absent (P < absent_threshold)."""
        return self._p(concept) < self.absent_threshold


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
