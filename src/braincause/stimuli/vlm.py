"""A concept verifier that asks a vision-language model behind an OpenAI-compatible
endpoint (the paper's Qwen3-VL yes/no check, PAPER.md §1).

For every image and concept it sends one chat request whose user message holds the
image (a base64 PNG ``data:`` URL in an ``image_url`` content part) and the question
:data:`QUESTION_TEMPLATE` (ours; the paper does not publish its prompt)::

    Does this image contain {label}? Answer yes or no.

at temperature 0 with a few answer tokens (``max_tokens``, default 3) and a fixed seed.
The answer's first word must be ``yes`` or ``no`` (case, punctuation and markdown are
ignored): presence is 1.0 for yes and 0.0 for no. With ``use_logprobs=True`` the
request also asks for the first token's top log-probabilities, and when the server
returns them presence is ``P(yes) / (P(yes) + P(no))`` summed over the tokens that spell
yes or no; otherwise it falls back to 1.0 / 0.0.

Failure policy. Any other answer (or a refusal, or no content) is sent back with the
correction "Answer with exactly one word: yes or no." and retried, up to the endpoint's
``max_retries``. If every attempt fails, ``on_failure="raise"`` (default) raises
:class:`~braincause.exceptions.BackendError` naming the image; ``on_failure="nan"``
records NaN presence for that image instead, and :meth:`~ChatVLMVerifier.verify` then
returns False for it whether presence or absence is asked: an image the model cannot
judge passes neither check. Transport failures (unreachable server, timeouts, HTTP
errors after the retries) always raise.

Images are judged concurrently (at most ``max_concurrency`` requests in flight) and the
answers are cached on disk by a hash of the request (image bytes and question included),
so re-verifying the same images sends no request. Results are deterministic given the
cache.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from braincause.exceptions import BackendError, ConceptNotFound, UserInputError
from braincause.utils.chat import ChatClient, ChatEndpoint, InvalidReply, Reply, UnusableAnswer

__all__ = ["QUESTION_TEMPLATE", "VLM_VERSION", "ChatEndpoint", "ChatVLMVerifier",
           "parse_yes_no"]

#: Part of :attr:`ChatVLMVerifier.config`; bumped when the request format changes.
VLM_VERSION = 1
QUESTION_TEMPLATE = "Does this image contain {label}? Answer yes or no."
CORRECTION = "Answer with exactly one word: yes or no."
_WORD = re.compile(r"[a-z]+")


def parse_yes_no(text: str) -> bool | None:
    """True for an answer whose first word is *yes*, False for *no*, else None.

    Case, punctuation and markdown around the word are ignored.

    Parameters
    ----------
    text : str
        The model's answer (None or empty gives None).

    Returns
    -------
    bool or None
    """
    words = _WORD.findall((text or "").lower())
    if not words or words[0] not in ("yes", "no"):
        return None
    return words[0] == "yes"


def _logprob_yes(logprobs: Mapping[str, Any] | None) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first answer token's top log-probabilities."""
    if not logprobs or not isinstance(logprobs.get("content"), list):
        return None
    for tok in logprobs["content"]:
        if not isinstance(tok, dict) or not str(tok.get("token", "")).strip():
            continue  # leading whitespace token
        tops = tok.get("top_logprobs") or [tok]
        mass = {True: 0.0, False: 0.0}
        for t in tops:
            if not isinstance(t, dict):
                continue
            word = str(t.get("token", "")).strip().strip(".,!*\"'").lower()
            if word in ("yes", "no") and isinstance(t.get("logprob"), (int, float)):
                mass[word == "yes"] += math.exp(float(t["logprob"]))
        total = mass[True] + mass[False]
        return mass[True] / total if total > 0 else None
    return None


def _data_url(image: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image), "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class ChatVLMVerifier:
    """:class:`~braincause.stimuli.verifier.ConceptVerifier` asking a vision chat model
    yes/no per image (see the module docstring for the prompt and the failure policy).

    Parameters
    ----------
    endpoint : ChatEndpoint
        Server and model (e.g. Qwen3-VL served by vLLM); its temperature is ignored
        (requests use 0).
    concepts : sequence of str, optional
        Concepts this verifier answers for; default every vocabulary concept. Free-text
        names are allowed (asked about by their label).
    labels : mapping of str to str, optional
        How the question names a concept; default the vocabulary label, else the name
        with underscores as spaces.
    question : str
        Template with ``{label}`` (default :data:`QUESTION_TEMPLATE`).
    max_tokens : int
        Answer tokens per request (1–3 are enough for yes/no).
    use_logprobs : bool
        Ask for top log-probabilities and return graded presence when the server has them.
    on_failure : {"raise", "nan"}
        What an image gets when no attempt produced yes or no.
    use_cache : bool
    sleep : callable
        Waits between attempts (inject a no-op in tests).
    open_vocabulary : bool
        Also answer for names outside ``concepts`` (asked about by the name with
        underscores as spaces), e.g. the counter-concepts a chat writer proposes. Off: such
        a name raises :class:`~braincause.exceptions.ConceptNotFound`.
    config_section : str
        Where users set the endpoint, named in error messages.

    Attributes
    ----------
    needs_scenes : bool
        False: it judges pixels.
    needs_images : bool
        True: :meth:`presence` needs ``images=``; features alone do not do.
    """

    needs_scenes = False
    needs_images = True

    def __init__(self, endpoint: ChatEndpoint, *, concepts: Sequence[str] | None = None,
                 labels: Mapping[str, str] | None = None, question: str = QUESTION_TEMPLATE,
                 max_tokens: int = 3, use_logprobs: bool = False, on_failure: str = "raise",
                 use_cache: bool = True, sleep: Callable[[float], None] = time.sleep,
                 open_vocabulary: bool = False, config_section: str = "verifier") -> None:
        from braincause.synth.concepts import CONCEPTS

        if "{label}" not in question:
            raise UserInputError(f"question must contain {{label}}, got {question!r}")
        if not isinstance(max_tokens, (int, np.integer)) or max_tokens < 1:
            raise UserInputError(f"max_tokens must be an integer ≥ 1, got {max_tokens!r}")
        if on_failure not in ("raise", "nan"):
            raise UserInputError(f"on_failure must be 'raise' or 'nan', got {on_failure!r}")
        names = tuple(CONCEPTS) if concepts is None else tuple(concepts)
        if not names or not all(isinstance(c, str) and c.strip() for c in names):
            raise UserInputError(f"concepts must be non-empty strings, got {concepts!r}")
        self.endpoint = endpoint
        self._names = names
        self.labels = {c: (labels or {}).get(c) or (CONCEPTS[c].label if c in CONCEPTS
                                                   else c.replace("_", " ").strip())
                       for c in names}
        self.question = question
        self.max_tokens = int(max_tokens)
        self.use_logprobs = bool(use_logprobs)
        self.on_failure = on_failure
        self.open_vocabulary = bool(open_vocabulary)
        self.client = ChatClient(endpoint, config_section=config_section, use_cache=use_cache,
                                 sleep=sleep)

    def __repr__(self) -> str:
        return f"ChatVLMVerifier({self.endpoint.base_url!r}, model={self.endpoint.model!r})"

    @property
    def concepts(self) -> tuple[str, ...]:
        """The concepts it answers for (others too with ``open_vocabulary``)."""
        return self._names

    @property
    def config(self) -> dict[str, Any]:
        """Everything that shapes the answers (no API key, no timeouts or retries)."""
        return {"kind": "chat-vlm", "version": VLM_VERSION, "base_url": self.endpoint.base_url,
                "model": self.endpoint.model, "question": self.question,
                "max_tokens": self.max_tokens, "temperature": 0.0,
                "logprobs": self.use_logprobs, "image_format": "png",
                "labels": {c: self.labels[c] for c in self._names
                           if self.labels[c] != c.replace("_", " ")},
                **({"open_vocabulary": True} if self.open_vocabulary else {})}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :attr:`config`.

        Returns
        -------
        str
        """
        blob = json.dumps(self.config, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def fit(self, progress: Callable[[str], None] | None = None) -> ChatVLMVerifier:
        """Nothing to fit (for symmetry with the probe verifier).

        Parameters
        ----------
        progress : callable, optional
            Ignored.

        Returns
        -------
        self
        """
        return self

    def accuracy(self) -> dict[str, dict[str, Any]]:
        """Not measured: every rate None (a VLM's accuracy needs labelled images).

        Returns
        -------
        dict of str to dict
            Concept name -> the keys of
            :meth:`~braincause.stimuli.verifier.ProbeVerifier.accuracy`, rates None and
            counts 0.
        """
        return {c: {"balanced_accuracy": None, "tpr": None, "tnr": None,
                    "counterfactual_accuracy": None, "n_test": 0, "n_test_positive": 0,
                    "n_counterfactual": 0} for c in self._names}

    # ------------------------------------------------------------------ judging
    def _name(self, concept: Any) -> str:
        name = getattr(concept, "name", concept)
        if not isinstance(name, str) or not name.strip():
            raise UserInputError(f"concept must be a concept name, got {concept!r}")
        if name not in self.labels and not self.open_vocabulary:
            import difflib

            raise ConceptNotFound(name, difflib.get_close_matches(name, list(self._names), n=3))
        return name

    def _ask(self, image: np.ndarray, question: str, index: int) -> float:
        messages = [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": _data_url(image)}},
            {"type": "text", "text": question}]}]

        def validate(reply: Reply) -> float:
            ans = None if reply.refused else parse_yes_no(reply.content)
            if ans is None:
                got = reply.refusal or reply.content or f"finish_reason {reply.finish_reason}"
                raise InvalidReply(f"the answer was not yes or no: {got.strip()[:80]!r}",
                                   CORRECTION)
            if self.use_logprobs:
                p = _logprob_yes(reply.logprobs)
                if p is not None:
                    return p
            return 1.0 if ans else 0.0

        extra = {"logprobs": True, "top_logprobs": 5} if self.use_logprobs else None
        try:
            return self.client.complete(messages, validate, temperature=0.0,
                                        max_tokens=self.max_tokens, seed=0, extra=extra)
        except UnusableAnswer as e:
            if self.on_failure == "nan":
                return math.nan
            raise BackendError(f"image {index}: {e} (or set on_failure='nan' to record "
                               f"unjudged images as NaN)") from None

    def presence(self, concept: str, *, features: np.ndarray | None = None,
                 scenes: Sequence[Any] | None = None,
                 images: Sequence[np.ndarray] | np.ndarray | None = None) -> np.ndarray:
        """P(concept present) per image: 1.0 for yes, 0.0 for no (graded with logprobs).

        Parameters
        ----------
        concept : str or Concept
            A name in :attr:`concepts`.
        features, scenes : ignored
            Accepted for the :class:`ConceptVerifier` protocol; the model sees pixels.
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            uint8 RGB images: one batch, or a list of (height, width, 3) arrays.

        Returns
        -------
        ndarray of shape (n_images,)
            float64 in [0, 1]; NaN for unjudged images when ``on_failure="nan"``.

        Raises
        ------
        ConceptNotFound
            ``concept`` is not in :attr:`concepts`.
        UserInputError
            No ``images``, or not uint8 RGB.
        BackendUnavailable, BackendError
        """
        name = self._name(concept)
        if images is None:
            raise UserInputError("ChatVLMVerifier looks at the images themselves: pass "
                                 "images= (n, H, W, 3) uint8, not only features or scenes")
        from braincause.encoding.backbone import as_image_list

        imgs = as_image_list(images)
        label = self.labels.get(name) or name.replace("_", " ").strip()
        question = self.question.format(label=label)
        p = self.client.map(lambda i: self._ask(imgs[i], question, i), range(len(imgs)))
        return np.asarray(p, np.float64).reshape(len(imgs))

    def verify(self, concept: str, *, features: np.ndarray | None = None,
               scenes: Sequence[Any] | None = None,
               images: Sequence[np.ndarray] | np.ndarray | None = None, present: bool = True,
               threshold: float = 0.5) -> np.ndarray:
        """Whether each image shows (``present=True``) or lacks (``False``) ``concept``.

        Presence passes when ``P ≥ threshold``, absence when ``P < threshold``; an image
        with NaN presence passes neither.

        Parameters
        ----------
        concept : str or Concept
            A name in :attr:`concepts`.
        features, scenes : ignored
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
        ConceptNotFound, BackendUnavailable, BackendError
            As :meth:`presence`.
        """
        from braincause.stimuli.verifier import _check_present, _check_threshold

        present = _check_present(present)
        threshold = _check_threshold(threshold)
        p = self.presence(concept, features=features, scenes=scenes, images=images)
        with np.errstate(invalid="ignore"):
            return (p >= threshold) if present else (p < threshold)
