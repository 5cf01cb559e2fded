"""Text → image retrieval over a subject's measured images, through their captions.

The paper retrieves measured (NSD) images for a concept by CLIP text-image similarity
and then has a vision-language model check each hit. Here the images are found through
their COCO-style captions: :class:`CaptionIndex` embeds every caption once with the
offline all-MiniLM-L6-v2 sentence model (:mod:`braincause.concepts.text`) and scores an
image by its best caption; :func:`retrieve_positives` and :func:`retrieve_negatives`
rank the images and let a verifier callback keep those that really show (or lack) the
concept, and return a :class:`Retrieval`.

Importing this package does not import torch; the sentence model is loaded when the
first index is built.
"""

from braincause.retrieval.index import CaptionIndex, Retriever, TextEmbedder
from braincause.retrieval.search import Retrieval, Verifier, retrieve_negatives, retrieve_positives

__all__ = [
    "CaptionIndex",
    "Retrieval",
    "Retriever",
    "TextEmbedder",
    "Verifier",
    "retrieve_negatives",
    "retrieve_positives",
]
