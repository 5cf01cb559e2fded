"""Concepts of real photographs: a query taken as it is, and everyday baseline concepts.

On real data (NSD) the pipeline is not tied to the synthetic world's vocabulary: the
concept is what the user typed (:func:`query_concept`), and the baseline concepts of the
paper's significance test (PAPER.md §2.6: the same region scored on other concepts) come
from :data:`EVERYDAY`, the 80 object categories of COCO, whose photographs NSD shows
(labels reworded where the COCO name is ambiguous for a text-to-image model or a
verifier: "mouse" → "computer mouse", "tv" → "television", …).

:func:`everyday_baselines` picks ``n`` of them in a fixed hash order (so every target
shares baselines and their cached stimuli), leaving out any that shares a word with the
target (its name, label and, for a vocabulary concept, its synonyms and member nouns) or
names one of its counter-concepts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from braincause.exceptions import UserInputError

__all__ = ["EVERYDAY", "RealConcept", "everyday_baselines", "query_concept", "slug"]

#: COCO's 80 object categories as concept name → label.
EVERYDAY: dict[str, str] = {
    "person": "person", "bicycle": "bicycle", "car": "car", "motorcycle": "motorcycle",
    "airplane": "airplane", "bus": "bus", "train": "train", "truck": "truck", "boat": "boat",
    "traffic_light": "traffic light", "fire_hydrant": "fire hydrant", "stop_sign": "stop sign",
    "parking_meter": "parking meter", "bench": "bench", "bird": "bird", "cat": "cat",
    "dog": "dog", "horse": "horse", "sheep": "sheep", "cow": "cow", "elephant": "elephant",
    "bear": "bear", "zebra": "zebra", "giraffe": "giraffe", "backpack": "backpack",
    "umbrella": "umbrella", "handbag": "handbag", "tie": "necktie", "suitcase": "suitcase",
    "frisbee": "frisbee", "skis": "pair of skis", "snowboard": "snowboard",
    "sports_ball": "ball", "kite": "kite", "baseball_bat": "baseball bat",
    "baseball_glove": "baseball glove", "skateboard": "skateboard", "surfboard": "surfboard",
    "tennis_racket": "tennis racket", "bottle": "bottle", "wine_glass": "wine glass",
    "cup": "cup", "fork": "fork", "knife": "knife", "spoon": "spoon", "bowl": "bowl",
    "banana": "banana", "apple": "apple", "sandwich": "sandwich", "orange": "orange",
    "broccoli": "broccoli", "carrot": "carrot", "hot_dog": "hot dog", "pizza": "pizza",
    "donut": "donut", "cake": "cake", "chair": "chair", "couch": "couch",
    "potted_plant": "potted plant", "bed": "bed", "dining_table": "dining table",
    "toilet": "toilet", "tv": "television", "laptop": "laptop", "mouse": "computer mouse",
    "remote": "remote control", "keyboard": "keyboard", "cell_phone": "mobile phone",
    "microwave": "microwave oven", "oven": "oven", "toaster": "toaster", "sink": "sink",
    "refrigerator": "refrigerator", "book": "book", "clock": "clock", "vase": "vase",
    "scissors": "scissors", "teddy_bear": "teddy bear", "hair_drier": "hair dryer",
    "toothbrush": "toothbrush",
}
_STOP = frozenset({"a", "an", "the", "of", "with", "and", "or", "in", "on", "at", "to",
                   "for", "some", "pair", "photo", "picture", "image"})
MAX_SLUG = 60


@dataclass(frozen=True)
class RealConcept:
    """A concept of a run on real data.

    Attributes
    ----------
    name : str
        Identifier: the vocabulary name, or the query's slug (:func:`slug`). Writers and
        verifiers read its label from it (underscores as spaces).
    label : str
        The text models see ("red sports car").
    kind : str
        The vocabulary kind, or ``"free text"``.
    description : str
    resolved_by : str
        ``"name"`` / ``"synonym"`` (a vocabulary concept) or ``"query"`` (taken as typed).
    """

    name: str
    label: str
    kind: str
    description: str
    resolved_by: str


def slug(text: str) -> str:
    """``"Red sports-car!"`` → ``"red_sports_car"`` (lower case, words joined by ``_``).

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        The normalised words joined by ``_``, at most ``MAX_SLUG`` characters.

    Raises
    ------
    UserInputError
        When ``text`` has no letters or digits.
    """
    from braincause.concepts import normalize

    words = normalize(text).split()
    out = "_".join(words)[:MAX_SLUG].strip("_")
    if not out:
        raise UserInputError(f"the concept {text!r} has no letters or digits; type what "
                             "the images should show, e.g. \"dog\" or \"person surfing\"")
    return out


def query_concept(query: str) -> RealConcept:
    """The concept of ``query`` on real data: a vocabulary concept when the query names
    one exactly (name, synonym or plural; no free-text matching), else the query itself
    (without a framing such as "a photo of").

    Parameters
    ----------
    query : str
        The concept as the user typed it.

    Returns
    -------
    RealConcept
        ``resolved_by`` is ``"name"`` or ``"synonym"`` for a vocabulary concept, ``"query"``
        for the query taken as typed (kind ``"free text"``, named by its :func:`slug`).

    Raises
    ------
    UserInputError
        When ``query`` is not a str or has no letters or digits.
    """
    from braincause.concepts import resolve_with_score
    from braincause.exceptions import ConceptNotFound

    if not isinstance(query, str):
        raise UserInputError(f"a concept query must be a str, got {type(query).__name__}")
    try:
        c, how, _score = resolve_with_score(query, free_text=False)
    except ConceptNotFound:
        from braincause.concepts import _FRAMING

        name = slug(_FRAMING.sub("", query, count=1))  # "a photo of …" says nothing
        label = name.replace("_", " ")
        return RealConcept(name, label, "free text", f"as typed: {query.strip()!r}", "query")
    return RealConcept(c.name, c.label, c.kind, c.description, how)


def _singular(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ses", "s"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + repl
    return word


def _words(texts: Iterable[str]) -> set[str]:
    from braincause.concepts import normalize

    return {_singular(w) for t in texts for w in normalize(t).split() if w not in _STOP}


def _phrase(text: str) -> str:
    """A name compared as a whole: "A laptop" and "laptops" are "laptop"."""
    from braincause.concepts import normalize

    return " ".join(_singular(w) for w in normalize(text).split() if w not in _STOP)


def _target_words(name: str, label: str) -> set[str]:
    from braincause.synth.categories import CATEGORIES
    from braincause.synth.concepts import CONCEPTS

    texts = [name, label]
    c = CONCEPTS.get(name)
    if c is not None:
        texts += list(c.synonyms)
        if c.kind in ("category", "group"):
            for m in c.members:
                texts += [CATEGORIES[m].noun, CATEGORIES[m].plural, m]
    return _words(texts)


def _rank(name: str) -> str:
    return hashlib.sha256(f"baseline:{name}".encode()).hexdigest()


def everyday_baselines(name: str, label: str, n: int,
                       exclude: Iterable[str] = ()) -> list[str]:
    """``n`` names of :data:`EVERYDAY` unrelated to the target (see the module docstring).

    Parameters
    ----------
    name, label : str
        The target concept.
    n : int
    exclude : iterable of str
        Counter-concept names or labels: a baseline naming one of them is left out.

    Returns
    -------
    list of str
        ``n`` names of :data:`EVERYDAY`, in a fixed pseudo-random order (by a hash of
        the name) that does not depend on the target.

    Raises
    ------
    UserInputError
        Fewer than ``n`` everyday concepts qualify.
    """
    target = _target_words(name, label)
    banned = {_phrase(e) for e in exclude}
    out = []
    for b in sorted(EVERYDAY, key=_rank):
        words = _words([b, EVERYDAY[b]])
        if b == name or words & target or {_phrase(b), _phrase(EVERYDAY[b])} & banned:
            continue
        out.append(b)
        if len(out) == n:
            return out
    raise UserInputError(f"only {len(out)} everyday baseline concepts are distinct from "
                         f"{label!r}; lower stats.n_baselines to ≤ {len(out)}")
