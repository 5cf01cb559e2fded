"""Moved to :mod:`braincause.concepts.text` (the sentence model query resolution and caption
retrieval share); these names stay importable from here."""

from braincause.concepts.text import (
    EMBEDDER_VERSION,
    INSTALL_HINT,
    MODEL_DISTRIBUTION,
    MODEL_PACKAGE,
    REQUIRED_FILES,
    BertEncoder,
    MiniLMEmbedder,
    WordPieceTokenizer,
    default_embedder,
    model_dir,
    read_safetensors,
)

__all__ = [
    "EMBEDDER_VERSION",
    "INSTALL_HINT",
    "MODEL_DISTRIBUTION",
    "MODEL_PACKAGE",
    "REQUIRED_FILES",
    "BertEncoder",
    "MiniLMEmbedder",
    "WordPieceTokenizer",
    "default_embedder",
    "model_dir",
    "read_safetensors",
]
