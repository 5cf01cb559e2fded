"""Synthetic subjects as a :class:`~braincause.datasets.base.BrainDataset`.

``load_subject("synth-01")`` builds (or loads from the cache) the subject's true
brain and measured pool. Ids: ``synth-01`` … ``synth-04``, ``synth-null`` (no
concept tuning, for calibration), and ``synth-s<SEED>`` for a new subject drawn
with that seed.
"""

from __future__ import annotations

from contextvars import ContextVar
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
    """A simulated subject: true brain, measured pool, ground truth.

    Implements :class:`~braincause.datasets.base.BrainDataset`; use
    :func:`load_subject` rather than the constructor.

    Parameters
    ----------
    brain : TrueBrain
        The subject's true voxel tuning (its planted areas, cortex and noise levels).
    pool : MeasuredPool
        The simulated measurements of that brain on the subject's image pool.
    """

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
        """Number of voxels of the brain."""
        return self.brain.n_voxels

    @property
    def n_images(self) -> int:
        """Number of images in the measured pool (from the responses: the scene records
        are only sampled again when a caller asks for them)."""
        return int(self.pool.responses.shape[0])

    @property
    def cortex(self) -> Cortex:
        """Surface mesh of the voxels: coordinates (pial/inflated/flat), adjacency."""
        return self.brain.cortex

    @property
    def responses(self) -> np.ndarray:
        """ndarray of shape (n_images, n_voxels), float32: repeat-averaged, z-scored
        responses."""
        return self.pool.responses

    @property
    def trials(self) -> np.ndarray:
        """ndarray of shape (n_images, n_repeats, n_voxels), float16: single-trial
        responses, z-scored within session."""
        return self.pool.trials

    @property
    def noise_ceiling(self) -> np.ndarray:
        """ndarray of shape (n_voxels,), float32: NSD-style noise ceiling of the trials."""
        return self.pool.noise_ceiling

    @property
    def train_indices(self) -> np.ndarray:
        """ndarray of shape (n_train,), int: the images the encoder is fitted on."""
        return self.pool.train

    @property
    def test_indices(self) -> np.ndarray:
        """ndarray of shape (n_test,), int: the held-out images."""
        return self.pool.test

    @property
    def shared(self) -> np.ndarray:
        """ndarray of shape (n_images,), bool: the images every subject saw."""
        return self.pool.shared

    @property
    def is_null(self) -> bool:
        """True for a brain without planted areas (``synth-null``: no concept tuning)."""
        return not self.brain.areas

    @cached_property
    def roi_labels(self) -> dict[str, np.ndarray]:
        """The planted areas by name, each an ndarray of shape (n_voxels,), bool."""
        return {a.name: a.mask for a in self.brain.areas}

    def area_kinds(self) -> dict[str, str]:
        """The kind of each planted area.

        Returns
        -------
        dict of str to str
            Area name to its kind: ``"planted"`` (tuned to a concept) or ``"decoy"``.
        """
        return {a.name: a.kind for a in self.brain.areas}

    def image(self, i: int, size: int = 224) -> np.ndarray:
        """Render image ``i`` of the pool from its scene record.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.
        size : int, default=224
            Side of the square image, in pixels.

        Returns
        -------
        ndarray of shape (size, size, 3), uint8
        """
        return render(self.pool.scenes[i], size).image

    def scene(self, i: int):
        """The scene record image ``i`` is rendered from.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.

        Returns
        -------
        Scene
        """
        return self.pool.scenes[i]

    def captions(self, i: int) -> list[str]:
        """Captions of image ``i``, written from its scene record.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.

        Returns
        -------
        list of str
        """
        return captions(self.pool.scenes[i])

    def annotation(self, i: int) -> dict[str, Any]:
        """What image ``i`` shows.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.

        Returns
        -------
        dict
            ``context`` (str), ``categories`` (sorted list of str) and ``scene`` (the
            scene record as a dict).
        """
        s = self.pool.scenes[i]
        return {"context": s.context, "categories": sorted(s.categories()),
                "scene": s.to_dict()}

    def fingerprint(self) -> str:
        """Identifies the subject's data (brain and measured pool) for caches.

        Returns
        -------
        str
            Subject id, pool version, brain fingerprint and pool size.
        """
        from braincause.synth.pool import POOL_VERSION

        return f"{self.subject_id}-{POOL_VERSION}-{self.brain.fingerprint()}-{self.n_images}"

    # -------------------------------------------------------- ground truth
    @cached_property
    def signal_sd(self) -> np.ndarray:
        """ndarray of shape (n_voxels,): SD of each voxel's noise-free response over the
        measured pool."""
        return self.brain.respond(self.pool.features).std(axis=0)

    def ground_truth(self, concept):
        """The voxels that truly represent ``concept`` in this subject.

        Parameters
        ----------
        concept : str or Concept
            Any query :func:`braincause.concepts.resolve` accepts, or a resolved concept.

        Returns
        -------
        GroundTruth
            The causal voxel mask, the concept's effect and each cue's effect (see
            :mod:`braincause.synth.ground_truth`).
        """
        from braincause.concepts import resolve
        from braincause.synth.ground_truth import ground_truth

        return ground_truth(self, concept if isinstance(concept, Concept) else resolve(concept))


def load_subject(subject_id: str, *, progress: Any = None) -> SyntheticSubject:
    """The synthetic subject ``subject_id`` (built on first use, then cached on disk and
    in memory).

    Parameters
    ----------
    subject_id : str
        ``synth-01`` … ``synth-04``, ``synth-null`` or ``synth-s<SEED>``.
    progress : callable, optional
        Hears the rendering's counts when the subject is built (not when it is read
        from a cache).

    Returns
    -------
    SyntheticSubject
    """
    token = _BUILD_PROGRESS.set(progress)
    try:
        return _load_subject(subject_id)
    finally:
        _BUILD_PROGRESS.reset(token)


#: The progress callback of the :func:`load_subject` call in flight (the memoised
#: builder below takes only the id).
_BUILD_PROGRESS: ContextVar[Any] = ContextVar("braincause_build_progress", default=None)


@lru_cache(maxsize=8)
def _load_subject(subject_id: str) -> SyntheticSubject:
    brain = make_brain(subject_id)
    return SyntheticSubject(brain, build_pool(brain, progress=_BUILD_PROGRESS.get()))
