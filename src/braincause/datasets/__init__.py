"""Brain datasets: the protocol, the synthetic subjects (and, later, NSD)."""

from braincause.datasets.base import BrainDataset
from braincause.datasets.synthetic import SUBJECT_IDS, SyntheticSubject, load_subject

__all__ = ["SUBJECT_IDS", "BrainDataset", "SyntheticSubject", "load_subject"]
