"""The world's declared statistics: contexts, object priors and couplings.

The generative model of a free (unconstrained) scene is deliberately simple so
that its statistics are *exactly* computable and can be checked against samples:

1. ``context ~ Categorical(CONTEXT_PRIOR)``.
2. Every **root** category ``c`` (no incoming coupling) is present independently
   with probability ``BASE[context][c]``.
3. Every **companion** category ``b`` (the target of at least one coupling
   ``a → b``, whose parents ``a`` are all roots) is present by a noisy-OR:

   ``P(b | ctx, parents) = 1 − (1 − BASE[ctx][b]) · Π_{a present} (1 − q_ab)``

   Each firing coupling creates an instance of ``b`` attached to or placed next
   to an instance of ``a`` (a face on a person, a plate under a pizza, a hand
   holding a hammer); the base term creates a free-standing instance.

Hence ``P(b | ctx) = 1 − (1 − BASE[ctx][b]) · Π_a (1 − BASE[ctx][a] · q_ab)``,
which :func:`presence_probability` computes and the tests compare with samples.

Attribute correlations (food is warm and round, faces round and skin-toned, text
high in spatial frequency, buildings rectilinear) are declared per category in
:mod:`braincause.synth.categories` (``attributes`` and colour palettes).
"""

from __future__ import annotations

import math

from braincause.synth.categories import CATEGORIES

CONTEXTS: tuple[str, ...] = (
    "kitchen", "dining_room", "street", "beach", "park", "office", "bedroom", "living_room",
    "mountains", "studio",
)

CONTEXT_NOUN = {
    "kitchen": "kitchen", "dining_room": "dining room", "street": "street", "beach": "beach",
    "park": "park", "office": "office", "bedroom": "bedroom", "living_room": "living room",
    "mountains": "mountain field", "studio": "studio",
}

CONTEXT_PRIOR: dict[str, float] = {
    "kitchen": 0.11, "dining_room": 0.09, "street": 0.15, "beach": 0.09, "park": 0.12,
    "office": 0.09, "bedroom": 0.07, "living_room": 0.09, "mountains": 0.06, "studio": 0.13,
}

INDOOR = frozenset({"kitchen", "dining_room", "office", "bedroom", "living_room"})
OUTDOOR = frozenset({"street", "beach", "park", "mountains"})

#: Base presence probability of each category in each context (absent = 0).
BASE: dict[str, dict[str, float]] = {
    "kitchen": {
        "person": 0.35, "pizza": 0.2, "fruit": 0.3, "cake": 0.12, "sandwich": 0.15,
        "cup": 0.4, "plate": 0.25, "bowl": 0.3, "table": 0.6, "chair": 0.3, "window": 0.4,
        "clock": 0.3, "lamp": 0.1, "handwritten_text": 0.12, "printed_text": 0.05,
        "scissors": 0.1, "phone": 0.1, "book": 0.08, "cat": 0.06, "door": 0.15, "flower": 0.08,
        "logo": 0.04, "hand": 0.05,
    },
    "dining_room": {
        "person": 0.45, "pizza": 0.25, "fruit": 0.2, "cake": 0.2, "sandwich": 0.12,
        "cup": 0.45, "plate": 0.4, "bowl": 0.2, "table": 0.8, "chair": 0.6, "window": 0.35,
        "clock": 0.15, "lamp": 0.25, "flower": 0.2, "door": 0.15, "phone": 0.08, "dog": 0.05,
        "logo": 0.03, "book": 0.04,
    },
    "street": {
        "person": 0.6, "building": 0.85, "road": 0.6, "car": 0.55, "bicycle": 0.2,
        "traffic_sign": 0.4,
        "blank_sign": 0.3, "tree": 0.35, "sky": 0.8, "cloud": 0.35, "sun": 0.1, "dog": 0.1,
        "bird": 0.1, "logo": 0.15, "door": 0.1, "phone": 0.05, "printed_text": 0.08,
        "cup": 0.04, "sandwich": 0.03, "handwritten_text": 0.02,
    },
    "beach": {
        "person": 0.55, "sky": 0.95, "water": 0.85, "surfboard": 0.25,
        "boat": 0.25, "sun": 0.35, "cloud": 0.4, "bird": 0.25, "tree": 0.2, "ball": 0.15,
        "dog": 0.08, "blank_sign": 0.06, "cup": 0.05, "fruit": 0.04, "mountain": 0.1,
    },
    "park": {
        "person": 0.55, "tree": 0.8, "grass": 0.85, "sky": 0.8, "flower": 0.35, "dog": 0.3,
        "ball": 0.2, "bicycle": 0.15, "bird": 0.25, "cloud": 0.35, "sun": 0.2, "chair": 0.06,
        "blank_sign": 0.1, "water": 0.12, "building": 0.15, "cat": 0.05, "fruit": 0.05,
        "sandwich": 0.05, "book": 0.04,
    },
    "office": {
        "person": 0.5, "table": 0.75, "chair": 0.55, "phone": 0.35, "book": 0.35, "cup": 0.3,
        "lamp": 0.3, "window": 0.45, "clock": 0.25, "printed_text": 0.25,
        "handwritten_text": 0.2, "logo": 0.12, "scissors": 0.1, "door": 0.15, "flower": 0.05,
        "fruit": 0.05, "hammer": 0.03, "wrench": 0.02,
    },
    "bedroom": {
        "person": 0.25, "bed": 0.85, "lamp": 0.45, "window": 0.4, "book": 0.25, "clock": 0.2,
        "cat": 0.15, "dog": 0.08, "chair": 0.15, "phone": 0.15, "door": 0.2, "cup": 0.06,
        "flower": 0.06, "handwritten_text": 0.04,
    },
    "living_room": {
        "person": 0.45, "chair": 0.5, "table": 0.45, "lamp": 0.4, "window": 0.45, "book": 0.25,
        "clock": 0.2, "cat": 0.15, "dog": 0.15, "cup": 0.25, "phone": 0.15, "flower": 0.12,
        "ball": 0.05, "fruit": 0.08, "cake": 0.04, "door": 0.15, "hammer": 0.04, "logo": 0.03,
    },
    "mountains": {
        "mountain": 0.9, "sky": 0.95, "grass": 0.7, "tree": 0.55, "cloud": 0.5, "sun": 0.3,
        "person": 0.25, "bird": 0.3, "flower": 0.25, "water": 0.2, "dog": 0.06,
        "blank_sign": 0.05, "building": 0.08, "bicycle": 0.04,
    },
    "studio": {
        # object photographs: one or two things in front of a plain backdrop
        "human_face": 0.14, "person": 0.1, "hand": 0.08, "leg": 0.04, "animal_face": 0.05,
        "cat": 0.05, "dog": 0.05, "bird": 0.03, "pizza": 0.05, "fruit": 0.07, "cake": 0.05,
        "sandwich": 0.05, "cup": 0.06, "plate": 0.03, "bowl": 0.04, "ball": 0.06, "clock": 0.05,
        "hammer": 0.05, "scissors": 0.05, "wrench": 0.05, "phone": 0.05, "book": 0.05,
        "printed_text": 0.06, "handwritten_text": 0.05, "logo": 0.06, "traffic_sign": 0.03,
        "blank_sign": 0.03, "flower": 0.05, "lamp": 0.03, "chair": 0.03, "surfboard": 0.02,
        "car": 0.02, "bicycle": 0.02,
    },
}

#: Couplings ``(parent, child): q``; the child instance is attached to the parent.
#: ``part`` couplings attach the child as a part (face on a person).
COUPLINGS: dict[tuple[str, str], float] = {
    # body parts
    ("person", "human_face"): 0.8,
    ("person", "hand"): 0.85,
    ("person", "leg"): 0.85,
    ("cat", "animal_face"): 0.85,
    ("dog", "animal_face"): 0.85,
    # text lives on signs, books, phones, shop fronts
    ("traffic_sign", "printed_text"): 0.85,
    ("blank_sign", "printed_text"): 0.75,
    ("building", "printed_text"): 0.3,
    ("book", "printed_text"): 0.5,
    ("phone", "printed_text"): 0.3,
    ("building", "logo"): 0.15,
    ("cup", "logo"): 0.12,
    # food is served on plates and tables and handled by hands
    ("pizza", "plate"): 0.7,
    ("cake", "plate"): 0.6,
    ("sandwich", "plate"): 0.55,
    ("fruit", "bowl"): 0.45,
    ("pizza", "table"): 0.55,
    ("cake", "table"): 0.5,
    ("sandwich", "table"): 0.45,
    ("fruit", "table"): 0.35,
    ("pizza", "hand"): 0.25,
    ("sandwich", "hand"): 0.3,
    # tools, phones and cups are held
    ("hammer", "hand"): 0.65,
    ("scissors", "hand"): 0.6,
    ("wrench", "hand"): 0.65,
    ("phone", "hand"): 0.45,
    ("cup", "hand"): 0.2,
    # outdoors
    ("car", "road"): 0.85,
    ("bicycle", "road"): 0.5,
    ("boat", "water"): 0.95,
    ("surfboard", "water"): 0.9,
    ("flower", "grass"): 0.6,
    ("tree", "grass"): 0.4,
    ("dog", "ball"): 0.2,
}

#: Couplings whose child is drawn as a part of the parent instance.
PART_COUPLINGS = frozenset({
    ("person", "human_face"), ("person", "hand"), ("person", "leg"), ("cat", "animal_face"),
    ("dog", "animal_face"), ("traffic_sign", "printed_text"), ("blank_sign", "printed_text"),
    ("building", "printed_text"), ("book", "printed_text"), ("phone", "printed_text"),
    ("building", "logo"), ("cup", "logo"),
})

#: Region-like categories that only exist outdoors; couplings into them apply outdoors only.
OUTDOOR_ONLY = frozenset({"grass", "water", "road"})

COMPANIONS: frozenset[str] = frozenset(b for (_, b) in COUPLINGS)
ROOTS: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in COMPANIONS)


def coupling_applies(parent: str, child: str, context: str) -> bool:
    """Whether the coupling ``parent → child`` applies in ``context``.

    Couplings into outdoor regions (grass, water, road) apply outdoors only.

    Parameters
    ----------
    parent : str
        The category that brings ``child`` along (unused: the rule depends on the child).
    child : str
        The coupled category.
    context : str
        The scene context.

    Returns
    -------
    bool
    """
    return child not in OUTDOOR_ONLY or context in OUTDOOR


def parents_of(child: str, context: str | None = None) -> list[tuple[str, float]]:
    """Coupling parents of ``child`` (those that apply in ``context`` when given)."""
    return [(a, q) for (a, b), q in COUPLINGS.items()
            if b == child and (context is None or coupling_applies(a, b, context))]


def presence_probability(category: str, context: str,
                         given_present: str | None = None) -> float:
    """Exact probability that ``category`` appears in a free scene of ``context``.

    With ``given_present=a`` (a root), the probability conditional on ``a``
    being present. Computed from the declared model (module docstring).
    """
    base = BASE[context].get(category, 0.0)
    if category in ROOTS:
        return 1.0 if category == given_present else base
    miss = 1.0 - base
    for a, q in parents_of(category, context):
        pa = 1.0 if a == given_present else BASE[context].get(a, 0.0)
        miss *= 1.0 - pa * q
    return 1.0 - miss


def marginal_presence(category: str) -> float:
    """P(category present) in a free scene, over contexts."""
    return math.fsum(CONTEXT_PRIOR[c] * presence_probability(category, c) for c in CONTEXTS)


def _check() -> None:
    assert abs(math.fsum(CONTEXT_PRIOR.values()) - 1.0) < 1e-9, "context prior must sum to 1"
    for (a, b) in COUPLINGS:
        assert a in ROOTS, f"coupling parent {a} must be a root (model depth 1)"
        assert b in CATEGORIES and a in CATEGORIES
    for ctx, table in BASE.items():
        assert ctx in CONTEXTS
        for c, p in table.items():
            assert 0.0 <= p <= 1.0, (ctx, c, p)


_check()
