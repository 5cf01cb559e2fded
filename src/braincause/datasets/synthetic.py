"""Synthetic subjects as a :class:`~braincause.datasets.base.BrainDataset`.

``load_subject("synth-01")`` builds (or loads from the cache) the subject's true
brain and measured pool. Ids: ``synth-01`` … ``synth-04``, ``synth-null`` (no
concept tuning, for calibration), and ``synth-s<SEED>`` for a new subject drawn
with that seed.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from braincause.synth.captions import captions
from braincause.synth.concepts import Concept
from braincause.synth.cortex import Cortex
from braincause.synth.pool import MeasuredPool, build_pool
from braincause.synth.render import render
from braincause.synth.subject import NAMED_SUBJECTS, TrueBrain, make_brain

SUBJECT_IDS: tuple[str, ...] = tuple(NAMED_SUBJECTS)


class SyntheticSubject:
    """A simulated subject: true brain, measured pool, ground truth."""

    def __init__(self, brain: TrueBrain, pool: MeasuredPool) -> None:
        self.brain = brain
        self.pool = pool
        self.subject_id = brain.subject_id

    def __repr__(self) -> str:
        return (f"SyntheticSubject({self.subject_id!r}, n_voxels={self.n_voxels}, "
                f"n_images={self.n_images})")

    # -------------------------------------------------------- BrainDataset
    @property
    def n_voxels(self) -> int:
        return self.brain.n_voxels

    @property
    def n_images(self) -> int:
        return len(self.pool.scenes)

    @property
    def cortex(self) -> Cortex:
        return self.brain.cortex

    @property
    def responses(self) -> np.ndarray:
        return self.pool.responses

    @property
    def trials(self) -> np.ndarray:
        return self.pool.trials

    @property
    def noise_ceiling(self) -> np.ndarray:
        return self.pool.noise_ceiling

    @property
    def train_indices(self) -> np.ndarray:
        return self.pool.train

    @property
    def test_indices(self) -> np.ndarray:
        return self.pool.test

    @property
    def shared(self) -> np.ndarray:
        return self.pool.shared

    @property
    def is_null(self) -> bool:
        return not self.brain.areas

    @cached_property
    def roi_labels(self) -> dict[str, np.ndarray]:
        return {a.name: a.mask for a in self.brain.areas}

    def area_kinds(self) -> dict[str, str]:
        return {a.name: a.kind for a in self.brain.areas}

    def image(self, i: int, size: int = 224) -> np.ndarray:
        return render(self.pool.scenes[i], size).image

    def scene(self, i: int):
        return self.pool.scenes[i]

    def captions(self, i: int) -> list[str]:
        return captions(self.pool.scenes[i])

    def annotation(self, i: int) -> dict[str, Any]:
        s = self.pool.scenes[i]
        return {"context": s.context, "categories": sorted(s.categories()),
                "scene": s.to_dict()}

    def fingerprint(self) -> str:
        """Identifies the subject's data (brain and measured pool) for caches."""
        from braincause.synth.pool import POOL_VERSION

        return f"{self.subject_id}-{POOL_VERSION}-{self.brain.fingerprint()}-{self.n_images}"

    # -------------------------------------------------------- ground truth
    @cached_property
    def signal_sd(self) -> np.ndarray:
        """SD of each voxel's noise-free response over the measured pool."""
        return self.brain.respond(self.pool.features).std(axis=0)

    def ground_truth(self, concept):
        from braincause.concepts import resolve
        from braincause.synth.ground_truth import ground_truth

        return ground_truth(self, concept if isinstance(concept, Concept) else resolve(concept))


@lru_cache(maxsize=8)
def load_subject(subject_id: str) -> SyntheticSubject:
    """The synthetic subject ``subject_id`` (built on first use, then cached on disk)."""
    brain = make_brain(subject_id)
    return SyntheticSubject(brain, build_pool(brain))
