"""Queryable concepts of the synthetic world.

A concept is what a user asks about: a single category ("faces"), a group
("food"), a composition ("person surfing", "hands in action", "social
interaction") or a scene ("kitchen"). Each concept knows

* ``present(scene)``: whether a scene expresses it (from the scene record);
* ``remove(scene)``: the *minimal* exact intervention that makes it absent
  (used for counterfactual edits and for ground truth);
* ``spec``: the scene constraints that stage it (for positives).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from braincause.synth.categories import CATEGORIES
from braincause.synth.scene import Scene, SceneObject
from braincause.synth.spec import Requirement, SceneSpec

TOOLS = ("hammer", "scissors", "wrench")

GROUPS: dict[str, tuple[str, ...]] = {
    "food": ("pizza", "fruit", "cake", "sandwich"),
    "tools": TOOLS,
    "animals": ("cat", "dog", "bird", "animal_face"),
    "text": ("printed_text", "handwritten_text"),
    "signs": ("traffic_sign", "blank_sign"),
    "vehicles": ("car", "bicycle", "boat"),
    "furniture": ("table", "chair", "bed", "lamp"),
    "dishware": ("cup", "plate", "bowl"),
    "body_parts": ("human_face", "hand", "leg"),
}

#: Replacement context used to remove a scene-level concept.
SCENE_SWAP = {
    "kitchen": "living_room", "beach": "mountains", "street": "park", "office": "living_room",
    "bedroom": "living_room", "park": "street", "dining_room": "office",
}


@dataclass(frozen=True)
class Concept:
    name: str
    kind: str                      # "category" | "group" | "composition" | "scene"
    description: str
    members: tuple[str, ...]       # categories the concept is about
    synonyms: tuple[str, ...]
    spec: SceneSpec
    present: Callable[[Scene], bool] = field(compare=False, repr=False)
    remove: Callable[[Scene], Scene] = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")


# ---------------------------------------------------------------- predicates
def _near(a: SceneObject, b: SceneObject, tol: float = 0.6) -> bool:
    """True when b's centre lies within ``tol`` box-sizes of a's centre."""
    r = tol * max(a.w, a.h, b.w * 0.5, b.h * 0.5)
    return math.hypot(a.x - b.x, a.y - b.y) <= r


def surfing_persons(scene: Scene) -> list[SceneObject]:
    boards = scene.of("surfboard")
    return [p for p in scene.of("person")
            if p.pose == "surfing" and any(abs(b.x - p.x) < p.w and b.y > p.y for b in boards)]


def held_tools(scene: Scene) -> list[SceneObject]:
    hands = [h for h in scene.of("hand") if h.pose == "hold"]
    return [t for t in scene.objects if t.category in TOOLS and any(_near(h, t) for h in hands)]


def face_direction(scene: Scene, person: SceneObject) -> int:
    """+1 when the person looks right, −1 left, 0 frontal or faceless."""
    for f in scene.children(person.uid):
        if f.category == "human_face":
            d = {"right": 1, "left": -1}.get(f.pose, 0)
            return -d if f.flip else d
    return 0


def interacting_pairs(scene: Scene) -> list[tuple[SceneObject, SceneObject]]:
    """Pairs of people close together whose faces turn towards each other."""
    people = sorted(scene.of("person"), key=lambda p: p.x)
    pairs = []
    for i, a in enumerate(people):
        for b in people[i + 1:]:
            close = (b.x - a.x) < 1.6 * max(a.w, b.w) and abs(a.y + a.h / 2 - b.y - b.h / 2) < 0.12
            if close and face_direction(scene, a) == 1 and face_direction(scene, b) == -1:
                pairs.append((a, b))
    return pairs


def _posed(pose: str) -> Callable[[Scene], list[SceneObject]]:
    return lambda s: [p for p in s.of("person") if p.pose == pose]


# ---------------------------------------------------------------- constructors
def _category(c: str) -> Concept:
    cat = CATEGORIES[c]
    syn = tuple(dict.fromkeys((c.replace("_", " "), cat.noun, cat.plural) + cat.synonyms))
    return Concept(
        name=c, kind="category", description=f"any {cat.noun}", members=(c,), synonyms=syn,
        spec=SceneSpec(require=(Requirement(c),)),
        present=lambda s, c=c: s.has(c),
        remove=lambda s, c=c: s.without([o.uid for o in s.of(c)]),
    )


def _group(name: str, members: tuple[str, ...], synonyms: tuple[str, ...], desc: str) -> Concept:
    return Concept(
        name=name, kind="group", description=desc, members=members, synonyms=synonyms,
        spec=SceneSpec(require_any=(members,)),
        present=lambda s: any(s.has(m) for m in members),
        remove=lambda s: s.without([o.uid for o in s.objects if o.category in members]),
    )


def _remove_pairs(scene: Scene) -> Scene:
    return scene.without([b.uid for _, b in interacting_pairs(scene)])


def _scene(ctx: str, synonyms: tuple[str, ...]) -> Concept:
    return Concept(
        name=ctx, kind="scene", description=f"a {ctx.replace('_', ' ')} scene", members=(),
        synonyms=synonyms, spec=SceneSpec(context=ctx),
        present=lambda s: s.context == ctx,
        remove=lambda s: s.replace(context=SCENE_SWAP[ctx]),
    )


def _build() -> dict[str, Concept]:
    out: dict[str, Concept] = {}
    for c in CATEGORIES:
        out[c] = _category(c)
    # category-level synonyms that belong to groups instead
    groups = [
        ("food", ("meal", "dish of food", "snack"), "any food item (pizza, fruit, cake, sandwich)"),
        ("tools", ("tool", "hand tool", "hand tools"), "hammers, scissors, wrenches"),
        ("animals", ("animal", "pet", "pets"), "cats, dogs, birds, animal faces"),
        ("text", ("words", "writing", "written text", "letters", "word"),
         "printed or handwritten text"),
        ("signs", ("sign", "signage", "symbolic signs"), "traffic signs and sign boards"),
        ("vehicles", ("vehicle", "transport"), "cars, bicycles, boats"),
        ("furniture", ("furnishings",), "tables, chairs, beds, lamps"),
        ("dishware", ("dishes", "tableware", "crockery"), "cups, plates, bowls"),
        ("body_parts", ("body part", "body parts"), "faces, hands, legs"),
    ]
    for name, syn, desc in groups:
        out[name] = _group(name, GROUPS[name], syn, desc)
    surf = _posed("surfing")
    out["person_surfing"] = Concept(
        "person_surfing", "composition", "a person standing on a surfboard on the water",
        ("person", "surfboard", "water"), ("surfing", "surfer", "surfers", "person surfing"),
        SceneSpec(context="beach", compositions=frozenset({"person_surfing"})),
        present=lambda s: bool(surfing_persons(s)),
        remove=lambda s: s.without([p.uid for p in surf(s)]),
    )
    out["social_interaction"] = Concept(
        "social_interaction", "composition", "two or more people facing each other, close by",
        ("person", "human_face"),
        ("social interaction", "social interactions", "human interaction", "conversation",
         "social scene", "people talking"),
        SceneSpec(compositions=frozenset({"social_interaction"})),
        present=lambda s: bool(interacting_pairs(s)),
        remove=_remove_pairs,
    )
    out["hands_in_action"] = Concept(
        "hands_in_action", "composition", "a hand holding and using a tool", ("hand",) + TOOLS,
        ("hands in action", "hand using tool", "hand holding tool", "manipulation"),
        SceneSpec(compositions=frozenset({"hands_in_action"})),
        present=lambda s: bool(held_tools(s)),
        remove=lambda s: s.without([t.uid for t in held_tools(s)]),
    )
    for pose, syn in (("running", ("running", "runner", "person running", "jogging")),
                      ("jumping", ("jumping", "person jumping", "jump"))):
        sel = _posed(pose)
        out[f"person_{pose}"] = Concept(
            f"person_{pose}", "composition", f"a person {pose}", ("person",), syn,
            SceneSpec(compositions=frozenset({f"person_{pose}"})),
            present=lambda s, sel=sel: bool(sel(s)),
            remove=lambda s, sel=sel: s.without([p.uid for p in sel(s)]),
        )
    scenes = {
        "kitchen": ("kitchen scene", "kitchens", "cooking area"),
        "beach": ("beach scene", "seaside", "shore", "beaches"),
        "street": ("street scene", "city street", "urban scene", "city"),
        "office": ("office scene", "workplace", "offices"),
        "bedroom": ("bedroom scene", "bedrooms"),
        "park": ("park scene", "parks"),
        "dining_room": ("dining room", "restaurant", "dinner table scene"),
    }
    for ctx, syn in scenes.items():
        key = f"scene_{ctx}" if ctx in out else ctx
        c = _scene(ctx, syn)
        out[key] = Concept(key, c.kind, c.description, c.members, (ctx.replace("_", " "),) + syn,
                           c.spec, c.present, c.remove)
    return out


CONCEPTS: dict[str, Concept] = _build()
