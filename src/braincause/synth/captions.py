"""COCO-style captions written from the scene record.

Five captions per scene, like COCO: short declarative sentences naming the main
subject (people and what they do, the largest objects), notable relations
(holding, on a plate, a sign that says …) and the place. The wording is chosen
with a generator seeded by ``scene.seed``, so captions are deterministic.
"""

from __future__ import annotations

import numpy as np

from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import held_tools, interacting_pairs, surfing_persons
from braincause.synth.scene import Scene, SceneObject

PLACE = {
    "kitchen": ["in a kitchen", "in the kitchen"],
    "dining_room": ["in a dining room", "in the dining room"],
    "street": ["on a city street", "on the street", "in a town"],
    "beach": ["on the beach", "at the beach", "by the sea"],
    "park": ["in a park", "at the park"],
    "office": ["in an office", "at the office"],
    "bedroom": ["in a bedroom"],
    "living_room": ["in a living room", "in the living room"],
    "mountains": ["in the mountains", "in a mountain field"],
    "studio": ["against a plain background", "on a plain backdrop"],
}
NUM = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
SKIP = {"sky", "grass", "road", "water"}  # regions: mentioned through the place, not listed


def _np(cat: str, n: int) -> str:
    c = CATEGORIES[cat]
    if n == 1:
        art = "an" if c.noun[0] in "aeiou" else "a"
        return f"{art} {c.noun}"
    return f"{NUM.get(n, 'several')} {c.plural}"


def _people_phrase(scene: Scene) -> str | None:
    people = scene.of("person")
    if not people:
        faces = [o for o in scene.of("human_face") if o.parent is None]
        if faces:
            return "a close up of a person's face" if len(faces) == 1 else "faces of people"
        return None
    n = len(people)
    who = "a person" if n == 1 else f"{NUM.get(n, 'several')} people"
    if surfing_persons(scene):
        return f"{who} surfing on a surfboard" if n == 1 else f"{who}, one of them surfing"
    if interacting_pairs(scene):
        return "two people talking to each other" if n == 2 else f"{who} talking together"
    poses = [p.pose for p in people]
    top = max(sorted(set(poses)), key=poses.count)
    verb = {"running": "running", "walking": "walking", "sitting": "sitting",
            "jumping": "jumping", "standing": "standing"}.get(top, "standing")
    return f"{who} {verb}"


def _object_phrases(scene: Scene) -> list[str]:
    """Noun phrases for the salient non-person objects, largest first."""
    counts: dict[str, list[SceneObject]] = {}
    for o in scene.objects:
        if o.category in SKIP or o.category == "person" or o.parent is not None:
            continue
        if o.category in ("human_face", "leg"):
            continue
        counts.setdefault(o.category, []).append(o)
    plates = {o.category for o in scene.objects if o.category in ("plate", "bowl")}
    tools = held_tools(scene)
    surfing = bool(surfing_persons(scene))
    order = sorted(counts, key=lambda c: -sum(o.area for o in counts[c]))
    out: list[str] = []
    said = {o.parent: o.text for o in scene.objects
            if o.category == "printed_text" and o.parent is not None and o.text}
    for cat in order:
        objs = counts[cat]
        ph = _np(cat, len(objs))
        texts = [said[o.uid] for o in objs if o.uid in said]
        if texts:
            noun = "sign" if cat == "blank_sign" else CATEGORIES[cat].noun
            lead = f"a {noun}" if len(objs) == 1 else _np(cat, len(objs)) + ", one"
            ph = f'{lead} that says "{texts[0].lower()}"'
        elif cat == "printed_text" and objs[0].text:
            ph = f'a poster that says "{objs[0].text.lower()}"'
        elif cat == "handwritten_text" and objs[0].text:
            ph = f'a handwritten note that reads "{objs[0].text}"'
        if cat in ("pizza", "cake", "sandwich") and "plate" in plates:
            ph = f"a plate of {CATEGORIES[cat].noun}" if len(objs) == 1 else ph
        if cat == "fruit" and "bowl" in plates:
            ph = "a bowl of fruit"
        if cat in ("plate", "bowl") and any(c in counts for c in ("pizza", "cake", "sandwich",
                                                                   "fruit")):
            continue
        if cat == "hand" and tools:
            ph = f"a hand holding {_np(tools[0].category, 1)}"
        if cat in {t.category for t in tools}:
            continue
        if cat == "surfboard" and surfing:
            continue
        out.append(ph)
    return out


def captions(scene: Scene, n: int = 5) -> list[str]:
    """``n`` COCO-style captions of ``scene`` (deterministic)."""
    rng = np.random.default_rng([scene.seed, 4242])
    place = PLACE[scene.context]
    people = _people_phrase(scene)
    objs = _object_phrases(scene)
    if not people and not objs:
        objs = [f"an empty {scene.context.replace('_', ' ')}"] if scene.context != "studio" \
            else ["an empty backdrop"]
    out: list[str] = []
    for k in range(n):
        p = place[int(rng.integers(len(place)))]
        extra = objs[: 1 + int(rng.integers(min(3, max(1, len(objs)))))]
        if people and k % 2 == 0:
            tail = f" with {_join(extra)}" if extra and rng.random() < 0.6 else ""
            s = f"{people}{tail} {p}"
        elif people:
            s = f"{p.capitalize()}, {people}" + (f" near {_join(extra)}" if extra else "")
        elif k % 2 == 0:
            s = f"{_join(extra)} {p}"
        else:
            verb = "is" if extra[0].split()[0] in ("a", "an") else "are"
            s = f"there {verb} {_join(extra)} {p}"
        out.append(s[0].upper() + s[1:] + ".")
    return out


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
