"""The ``BrainDataset`` protocol: what every subject's data offers the pipeline.

Implemented by the synthetic subjects (:mod:`braincause.datasets.synthetic`) and,
later, by the NSD reader. Responses are per-voxel z-scores: single trials z-scored
within session, repeats averaged, averages z-scored across images.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from braincause.synth.cortex import Cortex


@runtime_checkable
class BrainDataset(Protocol):
    """One subject's measured responses to a pool of images, with the images themselves.

    Attributes
    ----------
    subject_id : str
        The subject's id (``"synth-01"``, ``"nsd-subj01"``...).
    """

    subject_id: str

    @property
    def n_voxels(self) -> int:
        """Number of voxels (columns of :attr:`responses`)."""

    @property
    def n_images(self) -> int:
        """Number of images in the measured pool (rows of :attr:`responses`)."""

    @property
    def cortex(self) -> Cortex:
        """Surface mesh of the voxels: coordinates (pial/inflated/flat), adjacency."""

    @property
    def responses(self) -> np.ndarray:
        """ndarray of shape (n_images, n_voxels), float32: repeat-averaged, z-scored
        responses."""

    @property
    def trials(self) -> np.ndarray:
        """ndarray of shape (n_images, n_repeats, n_voxels): single-trial responses
        (z-scored per session)."""

    @property
    def noise_ceiling(self) -> np.ndarray:
        """ndarray of shape (n_voxels,): NSD-style noise ceiling, fraction of variance."""

    @property
    def train_indices(self) -> np.ndarray:
        """ndarray of shape (n_train,), int: the images the encoder is fitted on."""

    @property
    def test_indices(self) -> np.ndarray:
        """ndarray of shape (n_test,), int: the held-out images (disjoint from train)."""

    @property
    def shared(self) -> np.ndarray:
        """ndarray of shape (n_images,), bool: the images every subject saw."""

    @property
    def roi_labels(self) -> dict[str, np.ndarray]:
        """Named voxel masks, each an ndarray of shape (n_voxels,), bool (localizer ROIs;
        the planted areas for synthetic subjects)."""

    def image(self, i: int, size: int = 224) -> np.ndarray:
        """Image ``i`` of the pool.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.
        size : int, default=224
            Side of the square image, in pixels.

        Returns
        -------
        ndarray of shape (size, size, 3), uint8
            The RGB image.
        """

    def captions(self, i: int) -> list[str]:
        """Human-style captions of image ``i``.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.

        Returns
        -------
        list of str
        """

    def annotation(self, i: int) -> dict[str, Any]:
        """Objects / categories present in image ``i``.

        Parameters
        ----------
        i : int
            Row of :attr:`responses`.

        Returns
        -------
        dict
            The annotation record (its keys depend on the dataset; synthetic subjects give
            ``context``, ``categories`` and ``scene``).
        """
