"""A small prompt grammar: text such as "a plate of pizza on a kitchen table"
becomes :class:`~braincause.synth.spec.SceneSpec` constraints.

Recognised, left to right, longest phrase first (up to four words):

* concept phrases (category, group, composition and scene names and synonyms);
* contexts ("kitchen", "beach", "living room", "studio", …);
* counts ("a", "two", "3"), colours ("red"), poses ("running", "sitting");
* negation ("no", "without", "not", "except") — the next concept is forbidden;
* "holding X" — a hand holding X;
* filler words ("of", "on", "the", "photo", …), which carry no constraint.

Every other word is returned in ``SceneSpec.unknown``; nothing is dropped
silently. A prompt with no recognised concept or context raises
:class:`~braincause.exceptions.PromptError` naming the closest concepts.
"""

from __future__ import annotations

from braincause.exceptions import PromptError
from braincause.synth.concepts import CONCEPTS
from braincause.synth.spec import Requirement, SceneSpec
from braincause.synth.vocabulary import closest, normalize, synonym_table
from braincause.synth.world import CONTEXTS

NUMBERS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "couple": 2, "three": 3,
           "four": 4, "five": 5, "six": 6, "several": 3, "many": 5}
COLOURS = {
    "red": (200, 40, 40), "green": (40, 150, 60), "blue": (40, 90, 200), "yellow": (240, 210, 40),
    "orange": (240, 140, 30), "purple": (130, 60, 170), "pink": (240, 150, 180),
    "white": (240, 240, 240), "black": (25, 25, 30), "grey": (128, 128, 128),
    "gray": (128, 128, 128), "brown": (130, 85, 50),
}
POSES = {"running": "running", "walking": "walking", "sitting": "sitting", "seated": "sitting",
         "standing": "standing", "jumping": "jumping", "surfing": "surfing"}
NEGATIONS = {"no", "without", "not", "except", "excluding", "minus"}
FILLER = {
    "of", "on", "in", "at", "the", "with", "and", "or", "some", "by", "near", "under", "over",
    "next", "to", "beside", "behind", "front", "is", "are", "photo", "picture", "image", "view",
    "close", "up", "closeup", "shot", "scene", "showing", "there", "its", "his", "her", "their",
    "from", "into", "onto", "top", "full", "small", "large", "big", "little", "this", "that",
    "having", "very", "inside", "outside", "around", "across", "while", "who", "which",
}
CONTEXT_WORDS = {normalize(c): c for c in CONTEXTS} | {
    "living room": "living_room", "dining room": "dining_room", "mountains": "mountains",
    "field": "mountains", "countryside": "mountains", "studio": "studio",
    "white background": "studio", "plain background": "studio", "room": "living_room",
}


def parse(prompt: str) -> SceneSpec:
    """Turn a prompt into scene constraints. Raises PromptError if nothing is placeable."""
    words = normalize(prompt).split()
    if not words:
        raise PromptError("empty prompt: describe a scene, e.g. 'a plate of pizza on a table'")
    table = synonym_table()
    spec = SceneSpec()
    unknown: list[str] = []
    count, colour, pose = 1, None, None
    negate = holding = False
    placed_any = False
    i = 0
    while i < len(words):
        match = None
        for k in range(min(4, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + k])
            if (phrase in CONTEXT_WORDS and k > 1) or (phrase in CONTEXT_WORDS
                                                     and phrase not in table):
                match = ("context", phrase, k)
                break
            if phrase in table:
                match = ("concept", phrase, k)
                break
            if k == 1 and phrase.endswith("s") and phrase[:-1] in table:
                match = ("concept", phrase[:-1], 1)
                break
        w = words[i]
        if match is None:
            if w in NUMBERS or w.isdigit():
                count = int(w) if w.isdigit() else NUMBERS[w]
            elif w in COLOURS:
                colour = COLOURS[w]
            elif w in POSES:
                pose = POSES[w]
                if pose in ("running", "jumping"):
                    spec = spec.merged(SceneSpec(compositions=frozenset({f"person_{pose}"})))
                elif pose == "surfing":
                    spec = spec.merged(CONCEPTS["person_surfing"].spec)
                placed_any = True
            elif w in NEGATIONS:
                negate = True
            elif w in ("holding", "holds", "hold", "using", "uses"):
                holding = True
            elif w not in FILLER:
                unknown.append(w)
            i += 1
            continue
        kind, phrase, k = match
        i += k
        placed_any = True
        if kind == "context":
            spec = spec.merged(SceneSpec(context=CONTEXT_WORDS[phrase]))
            continue
        concept = CONCEPTS[table[phrase]]
        if negate:
            members = concept.members if concept.kind in ("category", "group") else ()
            spec = spec.merged(SceneSpec(forbid=frozenset(members)))
            negate = False
        elif concept.kind == "category":
            c = concept.members[0]
            p = pose if c == "person" else None
            spec = spec.merged(SceneSpec(require=(Requirement(c, max(1, min(count, 6)), colour,
                                                              p),)))
            if holding:
                if c in ("hammer", "scissors", "wrench"):
                    spec = spec.merged(CONCEPTS["hands_in_action"].spec)
                else:
                    spec = spec.merged(SceneSpec(require=(Requirement("hand", 1, None, "hold"),)))
        else:
            spec = spec.merged(concept.spec)
            if holding and concept.name == "tools":
                spec = spec.merged(CONCEPTS["hands_in_action"].spec)
        count, colour, holding = 1, None, False
        if concept.kind == "category" and concept.members[0] == "person":
            pose = None
    if pose is not None and "person" not in spec.required_categories() and pose not in (
            "running", "jumping", "surfing"):
        spec = spec.merged(SceneSpec(require=(Requirement("person", 1, None, pose),)))
    if not placed_any:
        hint = closest(prompt)
        raise PromptError(
            f"could not place any word of {prompt!r} in a scene"
            + (f"; closest concepts: {', '.join(hint)}" if hint else "")
            + ". Run `braincause concepts` for the vocabulary."
        )
    return SceneSpec(spec.context, spec.require, spec.require_any, spec.forbid,
                     spec.compositions, tuple(unknown))
