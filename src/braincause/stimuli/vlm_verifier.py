"""VLM yes/no concept verification with a transformers vision-language model.

The paper asks Qwen3-VL-8B-Instruct, at temperature 0, whether the concept is present
in the image, with the answer constrained to ``yes`` or ``no`` (PAPER.md §1).
:class:`VLMVerifier` asks the same question through any
``AutoModelForImageTextToText`` with its ``AutoProcessor`` (Qwen2/2.5/3-VL, LLaVA, …)
and reads the answer from **one forward pass**: with ``ℓ`` the next-token logits
after the chat prompt,

    P(yes | x) = softmax(LSE_{y ∈ Y} ℓ_y, LSE_{n ∈ N} ℓ_n)₀,

where ``Y`` (``N``) are the first tokens of the spellings "yes"/"Yes" (“no”/“No”),
with and without a leading space, as the tokenizer splits them, and ``LSE`` is
log-sum-exp (with one token per side this is the plain two-way softmax). Greedy
decoding (temperature 0) restricted to these tokens answers "yes" exactly when
``P(yes) ≥ 0.5``; :meth:`VLMVerifier.verify` keeps the threshold adjustable.

The processor must have a chat template (instruction-tuned checkpoints ship one).
Qwen-VL processors need ``torchvision`` (their video processor) in transformers 5.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from braincause.encoding.backbone import as_image_list
from braincause.exceptions import UserInputError
from braincause.stimuli.clip_verifier import concept_label
from braincause.stimuli.verifier import _check_present, _check_threshold, _decide

#: The question; ``{label}`` is the concept's label.
DEFAULT_QUESTION = "Is there {label} in this image? Answer with yes or no only."
YES_WORDS: tuple[str, ...] = ("yes", "Yes")
NO_WORDS: tuple[str, ...] = ("no", "No")
#: The paper's verifier.
DEFAULT_VLM = "Qwen/Qwen3-VL-8B-Instruct"
VERSION = 1


def answer_token_ids(tokenizer: Any, words: Sequence[str]) -> list[int]:
    """First token ids of ``words``, each with and without a leading space (unique, sorted).

    Spellings the tokenizer maps to its unknown token are dropped.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Anything with ``encode(text, add_special_tokens=False)`` (and optionally
        ``unk_token_id``).
    words : sequence of str
        The spellings of one answer (e.g. ``("yes", "Yes")``).

    Returns
    -------
    list of int
    """
    unk = getattr(tokenizer, "unk_token_id", None)
    ids: set[int] = set()
    for w in words:
        for text in (w, " " + w):
            got = tokenizer.encode(text, add_special_tokens=False)
            if got and got[0] != unk:
                ids.add(int(got[0]))
    return sorted(ids)


class VLMVerifier:
    """Concept presence from a VLM's next-token logits of "yes" against "no".

    Parameters
    ----------
    model : transformers image-text-to-text model
        Called as ``model(**inputs)``; must return ``.logits`` (batch, sequence, vocab).
    processor : transformers processor
        ``processor.apply_chat_template(messages, add_generation_prompt=True,
        tokenize=False)`` and ``processor(text=..., images=..., return_tensors="pt",
        padding=True)``; its ``tokenizer`` gives the yes/no token ids.
    question : str
        The user message after the image; ``{label}`` is filled in.
    labels : mapping of str to str, optional
        Text of a concept name (default: the name with underscores as spaces).
    concepts : sequence of str, optional
        Names reported in :attr:`concepts` (any name is accepted).
    batch_size : int
        Images per forward pass.
    source : str, optional
        Model id or folder, recorded in :attr:`config`.

    Attributes
    ----------
    needs_scenes : bool
        False.
    needs_images : bool
        True.
    yes_ids, no_ids : list of int
        Token ids whose logits are compared.

    Raises
    ------
    UserInputError
        The tokenizer cannot spell "yes"/"no" with distinct tokens, or the question has
        no ``{label}``.
    """

    needs_scenes = False
    needs_images = True

    def __init__(self, model: Any, processor: Any, *, question: str = DEFAULT_QUESTION,
                 labels: Mapping[str, str] | None = None,
                 concepts: Sequence[str] | None = None, batch_size: int = 8,
                 source: str | None = None) -> None:
        if not isinstance(question, str) or "{label}" not in question:
            raise UserInputError(f"question must be a string containing {{label}}, got "
                                 f"{question!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UserInputError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(processor, "apply_chat_template") or \
                not getattr(processor, "chat_template", None):
            raise UserInputError("the VLM processor has no chat template; use an "
                                 "instruction-tuned checkpoint or set processor.chat_template")
        self.model = model.eval()
        self.processor = processor
        self.question = question
        self.labels = dict(labels or {})
        self._concepts = tuple(concepts) if concepts is not None else tuple(self.labels)
        self.batch_size = batch_size
        self.source = source
        tok = getattr(processor, "tokenizer", processor)
        self.yes_ids = answer_token_ids(tok, YES_WORDS)
        self.no_ids = answer_token_ids(tok, NO_WORDS)
        if not self.yes_ids or not self.no_ids or set(self.yes_ids) & set(self.no_ids):
            raise UserInputError(f"the tokenizer must spell 'yes' and 'no' with distinct known "
                                 f"tokens; got yes={self.yes_ids}, no={self.no_ids}")

    def __repr__(self) -> str:
        return f"VLMVerifier(source={self.source!r}, model={type(self.model).__name__})"

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike[str] = DEFAULT_VLM, *,
                        device: Any = None, dtype: Any = None,
                        local_files_only: bool | None = None, **kwargs: Any) -> VLMVerifier:
        """Load a VLM and its processor (hub id or local folder).

        Parameters
        ----------
        model : str or path-like
            Hub id or local folder of an ``AutoModelForImageTextToText`` checkpoint.
        device : str or torch.device, optional
            Default ``cuda`` when available, else ``cpu``.
        dtype : {"float32", "float16", "bfloat16"}, optional
            Default float32 on CPU, bfloat16 on CUDA.
        local_files_only : bool, optional
            Never download; default: whether ``HF_HUB_OFFLINE`` is set.
        **kwargs
            Passed to the constructor (``question``, ``labels``, ``batch_size``, …).

        Returns
        -------
        VLMVerifier
            On ``device``, ``source`` the model name.

        Raises
        ------
        BackendUnavailable
            transformers (or torchvision, for Qwen-VL processors) is missing, or the model
            is not cached while ``HF_HUB_OFFLINE`` is set / cannot be downloaded.
        """
        from braincause.utils.hf import (
            check_model_name,
            hf_load,
            import_optional,
            load_pretrained,
            resolve_device,
        )

        tf = import_optional("transformers", "VLMVerifier")
        name = check_model_name(model, "VLMVerifier")
        dev = resolve_device(device)
        net = load_pretrained(tf.AutoModelForImageTextToText.from_pretrained, name,
                              what="vision-language model", library=tf, device=dev,
                              dtype=dtype, local_files_only=local_files_only)
        proc = hf_load(tf.AutoProcessor.from_pretrained, name, what="VLM processor",
                       local_files_only=local_files_only)
        return cls(net.to(dev), proc, source=name, **kwargs)

    @property
    def concepts(self) -> tuple[str, ...]:
        """The configured concept names (any name is accepted)."""
        return self._concepts

    @property
    def config(self) -> dict[str, Any]:
        """Source, model class, question, answer token ids, a hash of the chat template,
        the dtype and the labels."""
        return {"kind": "vlm-yes-no", "version": VERSION, "source": self.source,
                "model_class": type(self.model).__name__, "question": self.question,
                "yes_ids": self.yes_ids, "no_ids": self.no_ids,
                "chat_template_sha": hashlib.sha256(
                    str(self.processor.chat_template).encode()).hexdigest()[:16],
                "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
                "labels": dict(sorted(self.labels.items()))}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :attr:`config`.

        Weights are identified by ``source`` (not hashed: VLMs are gigabytes).

        Returns
        -------
        str
        """
        return hashlib.sha256(json.dumps(self.config, sort_keys=True).encode()).hexdigest()[:16]

    def fit(self, progress: Any = None) -> VLMVerifier:
        """Nothing to fit.

        Parameters
        ----------
        progress : callable, optional
            Ignored.

        Returns
        -------
        self
        """
        return self

    def prompt(self, concept: Any) -> str:
        """The chat-formatted prompt text for ``concept`` (image placeholder included).

        Parameters
        ----------
        concept : str or object with ``.name``

        Returns
        -------
        str
            The processor's chat template applied to one user message (an image
            placeholder and the question), with the generation prompt.
        """
        _, label = concept_label(concept, self.labels)
        messages = [{"role": "user", "content": [
            {"type": "image"}, {"type": "text", "text": self.question.format(label=label)}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True,
                                                  tokenize=False)

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def presence(self, concept: Any, *, features: np.ndarray | None = None,
                 scenes: Sequence[Any] | None = None,
                 images: Sequence[np.ndarray] | np.ndarray | None = None) -> np.ndarray:
        """P(yes) for each image (see the module docstring).

        Parameters
        ----------
        concept : str or object with ``.name``
        features, scenes : ignored
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
            raise UserInputError("VLMVerifier judges pixels: pass images= (n, H, W, 3) uint8")
        items = as_image_list(images)
        text = self.prompt(concept)
        out = np.empty(len(items), np.float64)
        device = self._device()
        dtype = next(self.model.parameters()).dtype
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                # PIL images: numpy input would make the processor guess the channel axis
                chunk = [Image.fromarray(np.ascontiguousarray(im), "RGB")
                         for im in items[start:start + self.batch_size]]
                inputs = self.processor(text=[text] * len(chunk), images=chunk,
                                        return_tensors="pt", padding=True)
                inputs = {k: (v.to(device, dtype) if torch.is_floating_point(v) else v.to(device))
                          if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
                logits = self.model(**inputs).logits
                mask = inputs["attention_mask"]
                # the last real token of each row, whichever side the processor pads on
                pos = torch.arange(mask.shape[1], device=mask.device)
                last = (mask * pos).argmax(dim=1)
                nxt = logits[torch.arange(len(chunk), device=logits.device), last].float()
                yes = torch.logsumexp(nxt[:, self.yes_ids], dim=1)
                no = torch.logsumexp(nxt[:, self.no_ids], dim=1)
                out[start:start + len(chunk)] = torch.sigmoid(yes - no).cpu().double().numpy()
        return out

    def verify(self, concept: Any, *, features: np.ndarray | None = None,
               scenes: Sequence[Any] | None = None,
               images: Sequence[np.ndarray] | np.ndarray | None = None, present: bool = True,
               threshold: float = 0.5) -> np.ndarray:
        """Whether the VLM answers yes (``present=True``) or no (``False``) per image.

        At ``threshold=0.5`` this is the greedy (temperature 0) yes/no answer.

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


__all__ = ["DEFAULT_QUESTION", "DEFAULT_VLM", "VLMVerifier", "answer_token_ids"]
