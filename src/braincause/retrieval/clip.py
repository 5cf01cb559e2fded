"""CLIP image–text retrieval over a measured image pool (the paper's retrieval, §1b).

:class:`CLIPRetriever` embeds every pool image once with a
:class:`~braincause.encoding.hf.CLIPEmbedder` and scores images against a text query
by cosine similarity of the unit CLIP embeddings. It has the query API of
:class:`~braincause.retrieval.index.CaptionIndex` (``n_images``, ``dim``,
``query_embedding``, ``similarity``, ``for_subject``, ``cache_path``,
``loaded_from_cache``), so :func:`~braincause.retrieval.search.retrieve_positives` and
:func:`~braincause.retrieval.search.retrieve_negatives` take either, plus
:meth:`CLIPRetriever.search` for a plain top-k.

The image embeddings are cached in ``cache_dir()/"retrieval"``, in a file named after
the pool key and the embedder's fingerprint. The pool key is ``cache_key`` when given
(it must identify the pool's content, e.g. a dataset fingerprint: a cache hit then does
not read a single image) or else a SHA-256 over every image's content hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from braincause.encoding.backbone import as_image_list, image_key
from braincause.exceptions import DataError, UserInputError
from braincause.retrieval.index import (
    _check_query,
    embedding_cache_path,
    load_embeddings,
    save_embeddings,
)

#: Bumped whenever the cache layout or the scoring changes.
CLIP_INDEX_VERSION = 1
_QUERY_MEMO = 256


class _SubjectImages(Sequence):
    """A dataset's images as a lazy sequence (``subject.image(i, size)``)."""

    def __init__(self, subject: Any, size: int) -> None:
        self.subject, self.size = subject, int(size)

    def __len__(self) -> int:
        return int(self.subject.n_images)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return np.asarray(self.subject.image(int(i), size=self.size))


def _pool_digest(images: Sequence[np.ndarray], chunk: int) -> str:
    h = hashlib.sha256(f"{len(images)}|".encode())
    for start in range(0, len(images), chunk):
        for im in as_image_list(list(images[start:start + chunk])):
            h.update(image_key(im).encode())
    return h.hexdigest()


class CLIPRetriever:
    """CLIP embeddings of an image pool; images ranked by similarity to a text.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width, 3) or sequence of ndarray
        The pool, uint8 RGB: one batch, or a sequence of (height, width, 3) arrays. Any
        sequence with ``len`` and integer/slice indexing works (an HDF5
        dataset, a lazy view); it is read ``batch_size`` images at a time, and not at
        all on a cache hit with ``cache_key``.
    embedder : CLIPEmbedder
    cache_key : str, optional
        Names the pool's content (e.g. ``"subject-" + dataset.fingerprint()``); without
        it the key is a hash of all images (every image is read once to hash it).
    cache : bool
        Store and reuse the embeddings on disk.
    batch_size : int
        Images read and embedded at a time.

    Attributes
    ----------
    n_images, dim : int
    cache_path : Path or None
    loaded_from_cache : bool

    Raises
    ------
    UserInputError
        An empty pool, or images that are not uint8 RGB.
    """

    def __init__(self, images: Any, embedder: Any, *, cache_key: str | None = None,
                 cache: bool = True, batch_size: int = 64) -> None:
        if isinstance(images, np.ndarray):
            as_image_list(images)  # validates dtype and shape up front
        if not hasattr(images, "__len__") or not hasattr(images, "__getitem__"):
            raise UserInputError(f"images must be an array or a sequence of images, got "
                                 f"{type(images).__name__}")
        if len(images) == 0:
            raise UserInputError("the image pool is empty")
        if cache_key is not None and (not isinstance(cache_key, str) or not cache_key.strip()):
            raise UserInputError(f"cache_key must be a non-empty string or None, got "
                                 f"{cache_key!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UserInputError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.embedder = embedder
        self.n_images = len(images)
        self.batch_size = batch_size
        self._memo: dict[str, np.ndarray] = {}
        self.cache_path = None
        if cache:
            key = cache_key if cache_key is not None else _pool_digest(images, batch_size)
            self.cache_path = embedding_cache_path("clip", key, embedder.fingerprint(),
                                                   CLIP_INDEX_VERSION)
        self.loaded_from_cache = False
        emb = self._load_cache()
        if emb is None:
            emb = self._embed(images)
            self._save_cache(emb)
        else:
            self.loaded_from_cache = True
        self._embeddings = emb
        self.dim = int(emb.shape[1])

    def __repr__(self) -> str:
        return f"CLIPRetriever(n_images={self.n_images}, dim={self.dim})"

    @classmethod
    def for_subject(cls, subject: Any, embedder: Any, *, batch_size: int = 64,
                    size: int | None = None) -> CLIPRetriever:
        """The retriever of a dataset's measured images, cached under its fingerprint.

        Parameters
        ----------
        subject : dataset
            Anything with ``n_images``, ``image(i, size) -> (size, size, 3) uint8`` and
            ``fingerprint() -> str``.
        embedder : CLIPEmbedder
        batch_size : int
            Images read and embedded at a time.
        size : int, optional
            Side of the images read from the dataset; default the embedder's resize side.

        Returns
        -------
        CLIPRetriever
            With ``cache_key="subject-<fingerprint>-<size>px"`` (images are read lazily,
            not at all on a cache hit).
        """
        side = int(size) if size is not None else int(embedder.preprocess.resize)
        return cls(_SubjectImages(subject, side), embedder,
                   cache_key=f"subject-{subject.fingerprint()}-{side}px", batch_size=batch_size)

    # ------------------------------------------------------------------ embeddings
    def _embed(self, images: Any) -> np.ndarray:
        parts = []
        for start in range(0, self.n_images, self.batch_size):
            chunk = images[start:start + self.batch_size]
            emb = np.asarray(self.embedder.encode_images(chunk), np.float32)
            if emb.ndim != 2 or emb.shape[0] != len(chunk):
                raise DataError(f"the embedder returned shape {emb.shape} for {len(chunk)} "
                                f"images")
            parts.append(emb)
        return np.ascontiguousarray(np.concatenate(parts))

    def _load_cache(self) -> np.ndarray | None:
        return load_embeddings(self.cache_path, self.n_images)

    def _save_cache(self, emb: np.ndarray) -> None:
        save_embeddings(self.cache_path, emb, CLIP_INDEX_VERSION)

    @property
    def image_embeddings(self) -> np.ndarray:
        """(n_images, dim) float32 unit-norm CLIP image embeddings (read-only view)."""
        view = self._embeddings.view()
        view.setflags(write=False)
        return view

    def query_embedding(self, text: str) -> np.ndarray:
        """The unit-norm CLIP text embedding of a query (memoised).

        Parameters
        ----------
        text : str
            A non-empty query; surrounding white space is ignored.

        Returns
        -------
        ndarray of shape (dim,)
            float32; read-only.

        Raises
        ------
        UserInputError
            ``text`` is not a string or is blank.
        """
        text = _check_query(text)
        got = self._memo.get(text)
        if got is None:
            got = np.asarray(self.embedder.encode_texts([text]), np.float32)[0]
            got.setflags(write=False)
            if len(self._memo) >= _QUERY_MEMO:
                self._memo.pop(next(iter(self._memo)))
            self._memo[text] = got
        return got

    # ------------------------------------------------------------------ similarity
    def similarity(self, text: str) -> np.ndarray:
        """Cosine similarity of each pool image to ``text``.

        Parameters
        ----------
        text : str
            A non-empty query.

        Returns
        -------
        ndarray of shape (n_images,)
            float32 values in [-1, 1].

        Raises
        ------
        UserInputError
            ``text`` is not a string or is blank.
        """
        return (self._embeddings @ self.query_embedding(text)).astype(np.float32, copy=False)

    def search(self, text: str, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` pool images most similar to ``text``.

        Parameters
        ----------
        text : str
            A non-empty query.
        k : int
            How many images (at most the pool's size).

        Returns
        -------
        indices : ndarray of shape (n_found,)
            int64 image indices, best first, ties by increasing index;
            ``n_found = min(k, n_images)``.
        scores : ndarray of shape (n_found,)
            Their float32 cosine similarities.

        Raises
        ------
        UserInputError
            ``k`` is not a positive integer, or ``text`` is not a non-empty string.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise UserInputError(f"k must be a positive integer, got {k!r}")
        sim = self.similarity(text)
        order = np.lexsort((np.arange(self.n_images), -sim.astype(np.float64)))[:int(k)]
        return order.astype(np.int64), sim[order]


__all__ = ["CLIP_INDEX_VERSION", "CLIPRetriever"]
