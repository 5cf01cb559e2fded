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
    subject_id: str

    @property
    def n_voxels(self) -> int: ...

    @property
    def n_images(self) -> int: ...

    @property
    def cortex(self) -> Cortex:
        """Surface mesh of the voxels: coordinates (pial/inflated/flat), adjacency."""

    @property
    def responses(self) -> np.ndarray:
        """(n_images, n_voxels) float32: repeat-averaged, z-scored responses."""

    @property
    def trials(self) -> np.ndarray:
        """(n_images, n_repeats, n_voxels): single-trial responses (z-scored per session)."""

    @property
    def noise_ceiling(self) -> np.ndarray:
        """(n_voxels,) NSD-style noise ceiling, fraction of variance."""

    @property
    def train_indices(self) -> np.ndarray: ...

    @property
    def test_indices(self) -> np.ndarray: ...

    @property
    def shared(self) -> np.ndarray:
        """(n_images,) bool: images every subject saw."""

    @property
    def roi_labels(self) -> dict[str, np.ndarray]:
        """Named boolean voxel masks (localizer ROIs; planted areas for synthetic subjects)."""

    def image(self, i: int, size: int = 224) -> np.ndarray:
        """RGB uint8 array of image ``i``."""

    def captions(self, i: int) -> list[str]: ...

    def annotation(self, i: int) -> dict[str, Any]:
        """Objects / categories present in image ``i``."""
