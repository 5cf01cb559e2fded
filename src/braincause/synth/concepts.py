"""Queryable concepts of the synthetic world.

A concept is what a user asks about: a single category ("faces"), a group
("food"), a composition ("person surfing", "hands in action", "social
interaction") or a scene ("kitchen"). Each concept knows

* ``present(scene)``: whether a scene expresses it (from the scene record);
* ``remove(scene)``: the *minimal* exact intervention that makes it absent
  (used for counterfactual edits and for ground truth): objects are removed;
  a surfer, runner or jumper is restaged standing; in a social interaction one
  person turns their face away; a scene changes context;
* ``spec``: the scene constraints that stage it (for positives).
"""

from __future__ import annotations

import dataclasses
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
    """A concept of the synthetic world: what it is about, how to find and remove it.

    Parameters
    ----------
    name : str
        Its name (``"human_face"``).
    kind : {"category", "group", "composition", "scene"}
        One object category, a group of categories, an arrangement of objects (a person
        surfing) or a scene context.
    description : str
        One line for people.
    members : tuple of str
        The object categories the concept is about.
    synonyms : tuple of str
        Other spellings a query may use.
    spec : SceneSpec
        The scene constraints that make a scene show the concept.
    present : callable
        ``present(scene) -> bool``: whether a scene shows the concept.
    remove : callable
        ``remove(scene) -> Scene``: the scene with the concept taken out.
    """

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
        """The name for people: underscores as spaces."""
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


def restage(scene: Scene, uid: int, pose: str) -> Scene:
    """The same scene with person ``uid`` in another pose (its parts follow)."""
    from braincause.synth.drawers.people import part_poses, person_parts

    old = scene.get(uid)
    new = dataclasses.replace(old, pose=pose)
    before, after, poses = person_parts(old), person_parts(new), part_poses(new)
    slots = {"human_face": ("face",), "hand": ("hand_l", "hand_r"), "leg": ("leg_l", "leg_r")}
    objs = []
    for o in scene.objects:
        if o.uid == uid:
            objs.append(new)
            continue
        if o.parent == uid and o.category in slots:
            slot = min(slots[o.category],
                       key=lambda k: (before[k][0] - o.x) ** 2 + (before[k][1] - o.y) ** 2)
            x, y, w, h, a = after[slot]
            kw = {} if o.category == "human_face" or o.pose == "hold" else {"pose": poses[slot]}
            o = dataclasses.replace(o, x=x, y=y, w=w, h=h, angle=a, **kw)
        objs.append(o)
    return scene.replace(objects=tuple(objs))


def _restage_all(scene: Scene, people: list[SceneObject], pose: str) -> Scene:
    for p in people:
        scene = restage(scene, p.uid, pose)
    return scene


def _turn_away(scene: Scene) -> Scene:
    """The second person of each interacting pair turns their face away."""
    away = {"left": "right", "right": "left"}
    turn = {b.uid for _, b in interacting_pairs(scene)}
    return scene.replace(objects=tuple(
        dataclasses.replace(o, pose=away.get(o.pose, o.pose))
        if o.category == "human_face" and o.parent in turn else o for o in scene.objects))


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
        remove=lambda s: _restage_all(s, surf(s), "standing"),
    )
    out["social_interaction"] = Concept(
        "social_interaction", "composition", "two or more people facing each other, close by",
        ("person", "human_face"),
        ("social interaction", "social interactions", "human interaction", "conversation",
         "social scene", "people talking"),
        SceneSpec(compositions=frozenset({"social_interaction"})),
        present=lambda s: bool(interacting_pairs(s)),
        remove=_turn_away,
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
            remove=lambda s, sel=sel: _restage_all(s, sel(s), "standing"),
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
