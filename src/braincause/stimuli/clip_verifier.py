"""CLIP zero-shot concept verification (a real-backend :class:`ConceptVerifier`).

The probability that an image shows a concept is a two-way CLIP zero-shot decision:
the image's similarity to a *presence* prompt ensemble against a *contrast* prompt
ensemble,

    P(present | x) = softmax(s · [cos(f(x), t₊), cos(f(x), t₋)])₀,

with ``f(x)`` the unit image embedding, ``s`` CLIP's learned logit scale, and ``t₊``
(``t₋``) the normalised mean of the unit text embeddings of the presence (contrast)
templates filled with the concept's label — CLIP's standard prompt ensembling, one
class per side.

Default ensembles (:data:`PRESENT_TEMPLATES`, :data:`CONTRAST_TEMPLATES`):

* presence: "a photo of {label}.", "a photo that shows {label}.",
  "an image containing {label}.";
* contrast: "a photo without {label}.", "a photo of something else.",
  "a photo of an unrelated scene.".

CLIP reads negation poorly ("without a dog" still embeds near "dog"), which is why the
contrast side also carries label-free prompts; how well this calibrates is
model-dependent, so the threshold (default 0.5) is a setting of :meth:`verify`. The
paper verifies with a VLM yes/no question; see
:class:`~braincause.stimuli.vlm_verifier.VLMVerifier` for that.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError
from braincause.stimuli.verifier import _check_present, _check_threshold, _decide

#: Presence prompts; ``{label}`` is replaced by the concept's label.
PRESENT_TEMPLATES: tuple[str, ...] = (
    "a photo of {label}.",
    "a photo that shows {label}.",
    "an image containing {label}.",
)
#: Contrast prompts (may omit ``{label}``).
CONTRAST_TEMPLATES: tuple[str, ...] = (
    "a photo without {label}.",
    "a photo of something else.",
    "a photo of an unrelated scene.",
)
VERSION = 1


def concept_label(concept: Any, labels: Mapping[str, str]) -> tuple[str, str]:
    """(name, label text) of a concept given as a name or an object with ``.name``.

    The label is ``labels[name]`` when given, else the name with underscores as spaces.

    Parameters
    ----------
    concept : str or object with ``.name``
    labels : mapping of str to str
        Concept name -> label text.

    Returns
    -------
    name : str
        The name, stripped of surrounding white space.
    label : str

    Raises
    ------
    UserInputError
        The name is not a non-empty string.
    """
    name = getattr(concept, "name", concept)
    if not isinstance(name, str) or not name.strip():
        raise UserInputError(f"concept must be a non-empty concept name, got {concept!r}")
    name = name.strip()
    return name, labels.get(name, name.replace("_", " "))


def _templates(templates: Sequence[str], what: str, need_label: bool) -> tuple[str, ...]:
    if isinstance(templates, str) or not templates:
        raise UserInputError(f"{what} must be a non-empty list of strings")
    out = tuple(templates)
    for t in out:
        if not isinstance(t, str) or not t.strip():
            raise UserInputError(f"{what} must hold non-empty strings, got {t!r}")
        try:
            t.format(label="x")
        except (KeyError, IndexError, ValueError) as e:
            raise UserInputError(f"{what}: template {t!r} may only use the field "
                                 f"{{label}} ({e})") from None
    if need_label and not any("{label}" in t for t in out):
        raise UserInputError(f"{what} must mention {{label}} in at least one template")
    return out


class CLIPVerifier:
    """Open-vocabulary verifier: CLIP zero-shot presence against a contrast ensemble.

    Parameters
    ----------
    embedder : CLIPEmbedder or str or path-like
        A :class:`~braincause.encoding.hf.CLIPEmbedder`, or a CLIP model id / folder
        loaded with :meth:`CLIPEmbedder.from_pretrained` (``device``, ``dtype`` apply).
    concepts : sequence of str, optional
        Names this verifier reports in :attr:`concepts`; any other name is accepted too
        (CLIP is open-vocabulary).
    labels : mapping of str to str, optional
        Text for a concept name ("hand" → "a human hand"); default: the name with
        underscores as spaces.
    present_templates, contrast_templates : sequence of str
        The prompt ensembles (see the module docstring).
    device, dtype : optional
        Only when ``embedder`` is a model id.

    Attributes
    ----------
    needs_scenes : bool
        False.
    needs_images : bool
        True: :meth:`presence` reads ``images=`` (backbone ``features`` are not CLIP's).
    """

    needs_scenes = False
    needs_images = True

    def __init__(self, embedder: Any = "openai/clip-vit-large-patch14", *,
                 concepts: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                 present_templates: Sequence[str] = PRESENT_TEMPLATES,
                 contrast_templates: Sequence[str] = CONTRAST_TEMPLATES,
                 device: Any = None, dtype: Any = None) -> None:
        if isinstance(embedder, (str, os.PathLike)):
            from braincause.encoding.hf import CLIPEmbedder

            embedder = CLIPEmbedder.from_pretrained(embedder, device=device, dtype=dtype)
        for attr in ("encode_images", "encode_texts", "logit_scale", "fingerprint"):
            if not hasattr(embedder, attr):
                raise UserInputError(f"embedder must be a CLIPEmbedder (it lacks {attr!r}), "
                                     f"got {type(embedder).__name__}")
        self.embedder = embedder
        self.labels = dict(labels or {})
        if not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                   for k, v in self.labels.items()):
            raise UserInputError("labels must map concept names to non-empty strings")
        self._concepts = tuple(concepts) if concepts is not None else tuple(self.labels)
        self.present_templates = _templates(present_templates, "present_templates", True)
        self.contrast_templates = _templates(contrast_templates, "contrast_templates", False)
        self._classes: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"CLIPVerifier({self.embedder!r}, concepts={len(self._concepts)})"

    @property
    def concepts(self) -> tuple[str, ...]:
        """The configured concept names (others are accepted as well)."""
        return self._concepts

    @property
    def config(self) -> dict[str, Any]:
        """The embedder's fingerprint and source, the prompt ensembles and the labels."""
        return {"kind": "clip-zero-shot", "version": VERSION,
                "model": self.embedder.fingerprint(),
                "source": getattr(self.embedder, "source", None),
                "present_templates": list(self.present_templates),
                "contrast_templates": list(self.contrast_templates),
                "labels": dict(sorted(self.labels.items()))}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :attr:`config`.

        Returns
        -------
        str
        """
        return hashlib.sha256(json.dumps(self.config, sort_keys=True).encode()).hexdigest()[:16]

    def fit(self, progress: Any = None) -> CLIPVerifier:
        """Nothing to fit (zero-shot).

        Parameters
        ----------
        progress : callable, optional
            Ignored.

        Returns
        -------
        self
        """
        return self

    def prompts(self, concept: Any) -> tuple[list[str], list[str]]:
        """The presence and contrast prompts used for ``concept``.

        Parameters
        ----------
        concept : str or object with ``.name``

        Returns
        -------
        present : list of str
            The presence templates filled with the concept's label.
        contrast : list of str
            The contrast templates filled with it.
        """
        _, label = concept_label(concept, self.labels)
        return ([t.format(label=label) for t in self.present_templates],
                [t.format(label=label) for t in self.contrast_templates])

    def class_embeddings(self, concept: Any) -> np.ndarray:
        """The normalised mean presence and contrast text embeddings (memoised).

        Parameters
        ----------
        concept : str or object with ``.name``

        Returns
        -------
        ndarray of shape (2, dim)
            float32 unit rows: presence (row 0) and contrast (row 1).
        """
        name, label = concept_label(concept, self.labels)
        key = f"{name}\x00{label}"
        got = self._classes.get(key)
        if got is None:
            pos, neg = self.prompts(concept)
            emb = np.asarray(self.embedder.encode_texts(pos + neg), np.float64)
            cls = np.stack([emb[:len(pos)].mean(0), emb[len(pos):].mean(0)])
            got = (cls / np.linalg.norm(cls, axis=1, keepdims=True)).astype(np.float32)
            self._classes[key] = got
        return got

    def presence(self, concept: Any, *, features: np.ndarray | None = None,
                 scenes: Sequence[Any] | None = None,
                 images: Sequence[np.ndarray] | np.ndarray | None = None) -> np.ndarray:
        """Probability that each image shows ``concept`` (see the module docstring).

        Parameters
        ----------
        concept : str or object with ``.name``
        features, scenes : ignored
            Accepted for the :class:`~braincause.stimuli.verifier.ConceptVerifier`
            protocol.
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.

        Returns
        -------
        ndarray of shape (n_images,)
            float64 probabilities in [0, 1].

        Raises
        ------
        UserInputError
            No ``images``, or images that are not uint8 RGB.
        """
        if images is None:
            raise UserInputError("CLIPVerifier judges pixels: pass images= (n, H, W, 3) uint8")
        cls = self.class_embeddings(concept).astype(np.float64)
        img = np.asarray(self.embedder.encode_images(images), np.float64)
        logits = float(self.embedder.logit_scale) * (img @ cls.T)  # (n, 2)
        return 0.5 * (1.0 + np.tanh(0.5 * (logits[:, 0] - logits[:, 1])))

    def verify(self, concept: Any, *, features: np.ndarray | None = None,
               scenes: Sequence[Any] | None = None,
               images: Sequence[np.ndarray] | np.ndarray | None = None, present: bool = True,
               threshold: float = 0.5) -> np.ndarray:
        """Whether each image shows (``present=True``) or lacks ``concept``.

        Presence passes when ``presence ≥ threshold``, absence when it is below.

        Parameters
        ----------
        concept : str or object with ``.name``
        features, scenes : ignored
            Accepted for the :class:`~braincause.stimuli.verifier.ConceptVerifier`
            protocol.
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            As :meth:`presence`.
        present : bool
            Check presence (True) or absence (False).
        threshold : float
            In (0, 1).

        Returns
        -------
        ndarray of shape (n_images,)
            bool, True where the check passes.

        Raises
        ------
        UserInputError
            ``present`` is not a bool, ``threshold`` not in (0, 1), or as
            :meth:`presence`.
        """
        present = _check_present(present)
        threshold = _check_threshold(threshold)
        return _decide(self.presence(concept, images=images), present, threshold)

    def accuracy(self) -> dict[str, dict[str, Any]]:
        """Empty: a zero-shot verifier has no held-out accuracy of its own.

        Returns
        -------
        dict
            ``{}``.
        """
        return {}


__all__ = ["CONTRAST_TEMPLATES", "PRESENT_TEMPLATES", "CLIPVerifier", "concept_label"]
