"""Sample scenes from the world's priors, optionally under constraints.

``sample_scene(random_state, spec)`` first decides *what* is in the scene —
exactly the generative model declared in :mod:`braincause.synth.world` when
``spec`` is empty — then *where* it goes (layout by layer: regions, far
objects, sky, walls, furniture, ground, table tops, held objects, parts).
Constraints (required / forbidden categories, compositions such as a person
surfing) override the priors; everything they leave open comes from them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from braincause.exceptions import SceneError
from braincause.synth.categories import CATEGORIES, CLOTHES, SKIN
from braincause.synth.concepts import TOOLS
from braincause.synth.drawers.household import table_top
from braincause.synth.drawers.nature import building_sign_box
from braincause.synth.drawers.objects import sign_text_box, sign_text_ink
from braincause.synth.drawers.people import animal_face_box, part_poses, person_parts, skin_of
from braincause.synth.scene import Scene, SceneObject
from braincause.synth.spec import Requirement, SceneSpec
from braincause.synth.world import (
    BASE,
    CONTEXT_PRIOR,
    CONTEXTS,
    COUPLINGS,
    INDOOR,
    OUTDOOR,
    PART_COUPLINGS,
    ROOTS,
    coupling_applies,
    parents_of,
    presence_probability,
)
from braincause.utils import RandomState, check_random_state

#: Categories that, when asked for, are often shown as close-ups on a plain backdrop.
CLOSE_UP = frozenset({"human_face", "hand", "leg", "animal_face"})

#: Companions of which one instance serves every parent (one table under all the food).
SHARED = frozenset({"table"})

#: Where a hand in the "hold" pose grips (its handle hole), in the hand's local frame,
#: and where tools are gripped (their handle), in the tool's local frame.
HAND_GRIP = (0.53, 0.42)
TOOL_GRIP = (0.22, 0.5)

#: How many free-standing instances a category gets (inclusive range).
COUNTS = {"person": (1, 3), "fruit": (1, 4), "cloud": (1, 3), "tree": (1, 3), "bird": (1, 3),
          "flower": (1, 4), "window": (1, 2), "chair": (1, 2), "building": (1, 3), "car": (1, 2),
          "book": (1, 2), "cup": (1, 2), "mountain": (1, 2)}

SIGN_WORDS = ["STOP", "EXIT", "OPEN", "SALE", "CAFE", "PARK", "MAIN ST", "HOTEL", "BAKERY",
              "NO PARKING", "BUS", "TAXI", "SCHOOL", "ONE WAY", "FOOD", "BOOKS", "MARKET"]
TITLE_WORDS = ["POEMS", "HISTORY", "ATLAS", "STORIES", "SCIENCE", "RECIPES", "NEWS", "MAPS"]
NOTE_WORDS = ["call mom", "buy milk", "meet at 3", "thank you!", "don't forget", "see you soon",
              "love you", "eggs bread", "back in 5", "happy birthday", "to do list"]
FRUIT_COLOURS = {0: [(210, 40, 40), (120, 180, 50)], 1: [(240, 140, 30)], 2: [(240, 210, 50)],
                 3: [(120, 40, 110), (140, 190, 60)]}
PERSON_POSES = {
    "outdoor": (("standing", 0.4), ("walking", 0.35), ("running", 0.15), ("jumping", 0.05),
                ("sitting", 0.05)),
    "indoor": (("standing", 0.5), ("sitting", 0.45), ("walking", 0.05)),
    "studio": (("standing", 0.7), ("walking", 0.2), ("sitting", 0.1)),
}


@dataclass
class _Inst:
    """An object instance before layout."""

    category: str
    parent: int | None = None        # index of the instance it is attached to
    relation: str = ""               # "part" (drawn on the parent), "near" (placed by it),
                                     # "held" (in the parent person's hand)
    color: tuple[int, int, int] | None = None
    pose: str | None = None
    slot: str = ""                   # part slot ("face", "hand_l", …)
    obj: SceneObject | None = field(default=None, repr=False)


def _choice(rng: np.random.Generator, items: list, p: list[float] | None = None):
    if p is not None:
        p = np.asarray(p, float)
        p = p / p.sum()
    return items[int(rng.choice(len(items), p=p))]


def _kind(context: str) -> str:
    return "indoor" if context in INDOOR else "outdoor" if context in OUTDOOR else "studio"


# ------------------------------------------------------------------ what is present
def _choose_context(rng: np.random.Generator, spec: SceneSpec) -> str:
    if spec.context is not None:
        if spec.context not in CONTEXTS:
            raise SceneError(f"unknown context {spec.context!r}; known: {', '.join(CONTEXTS)}")
        return spec.context
    w = []
    for ctx in CONTEXTS:
        p = CONTEXT_PRIOR[ctx]
        for r in spec.require:
            p *= presence_probability(r.category, ctx) + 1e-3
            if ctx == "studio" and r.category in CLOSE_UP:
                p *= 3.0  # body parts are often photographed close up
        for group in spec.require_any:
            p *= 1.0 - np.prod([1.0 - presence_probability(c, ctx) for c in group]) + 1e-3
        if "person_surfing" in spec.compositions:
            p *= 1.0 if ctx == "beach" else 0.0
        if spec.compositions & {"social_interaction", "person_running", "person_jumping",
                                "hands_in_action"}:
            p *= presence_probability("person", ctx) + 0.05
        w.append(p)
    return _choice(rng, list(CONTEXTS), w)


def _presence(rng: np.random.Generator, ctx: str, spec: SceneSpec) -> list[_Inst]:
    """Decide which instances exist (before counts of extra parent instances)."""
    forbid = set(spec.forbid)
    comps = spec.compositions
    base = BASE[ctx]
    insts: list[_Inst] = []
    first: dict[str, int] = {}

    def add(cat: str, parent: int | None = None, relation: str = "", **kw) -> int:
        insts.append(_Inst(cat, parent, relation, **kw))
        first.setdefault(cat, len(insts) - 1)
        return len(insts) - 1

    # 1. roots, independently
    for c in ROOTS:
        if rng.random() < base.get(c, 0.0) and c not in forbid:
            add(c)
    # forced roots: requirements, groups, compositions
    need: list[str] = [r.category for r in spec.require]
    for group in spec.require_any:
        if not any(c in first for c in group):
            allowed = [c for c in group if c not in forbid]
            if not allowed:
                raise SceneError(f"every member of {group} is forbidden")
            w = [presence_probability(c, ctx) + 0.02 for c in allowed]
            need.append(_choice(rng, allowed, w))
    if "person_surfing" in comps:
        need += ["person", "surfboard"]
    if comps & {"social_interaction", "person_running", "person_jumping"}:
        need.append("person")
    if "hands_in_action" in comps and not any(t in first or t in need for t in TOOLS):
        need.append(_choice(rng, [t for t in TOOLS if t not in forbid] or list(TOOLS)))
    for c in need:
        if c in forbid:
            raise SceneError(f"{c!r} is both required and forbidden")
        if c in ROOTS and c not in first:
            add(c)
    # 2. companions by noisy-OR: base term → free-standing, couplings → attached
    for b in sorted({b for (_, b) in COUPLINGS}):
        if b in forbid:
            continue
        if rng.random() < base.get(b, 0.0):
            add(b)
        for a, q in parents_of(b, ctx):
            if a in first and rng.random() < q:
                if b in SHARED and b in first:
                    continue  # one table serves all the food (presence is unchanged)
                rel = "part" if (a, b) in PART_COUPLINGS else "near"
                add(b, first[a], rel)
    # required companions that did not appear
    for c in need:
        if c in first or c in ROOTS:
            continue
        parts = [(a, q) for a, q in parents_of(c, ctx) if (a, c) in PART_COUPLINGS]
        present_parents = [a for a, _ in parts if a in first]
        if present_parents:
            add(c, first[present_parents[0]], "part")
        elif base.get(c, 0.0) > 0 or ctx == "studio" or not parts:
            add(c)
        else:
            a = max(parts, key=lambda t: base.get(t[0], 0.0))[0]
            if a in forbid:
                add(c)
            else:
                add(c, add(a), "part")
    if "hands_in_action" in comps and "hand" not in forbid:
        tool = next(i for i, t in enumerate(insts) if t.category in TOOLS)
        person = first.get("person")
        if person is not None and ctx != "studio":
            # the first person holds the tool in their right hand
            for t in insts:
                if t.category == "hand" and t.parent == tool:
                    t.parent, t.relation = person, "part"
            insts[tool].parent, insts[tool].relation = person, "held"
            if not any(t.category == "hand" and t.parent == person for t in insts):
                add("hand", person, "part")
        elif not any(t.category == "hand" and t.parent == tool for t in insts):
            add("hand", tool, "near")
    if "social_interaction" in comps and "human_face" not in forbid:
        if not any(t.category == "human_face" and t.relation == "part" for t in insts):
            add("human_face", first["person"], "part")
    return insts


#: Probability that present ingredients are staged as a composition in a free scene.
NATURAL_STAGING = {"person_surfing": 0.6, "social_interaction": 0.25}


def _natural_compositions(rng: np.random.Generator, ctx: str, insts: list[_Inst],
                          spec: SceneSpec) -> SceneSpec:
    """Compositions that arise by themselves when their ingredients are present
    (a person and a surfboard on a beach with water; people meeting)."""
    cats = {t.category for t in insts}
    comps = set(spec.compositions)
    first_person = next((i for i, t in enumerate(insts) if t.category == "person"), None)
    legged = any(t.category == "leg" and t.parent == first_person for t in insts)
    if (ctx == "beach" and {"person", "surfboard", "water"} <= cats and legged
            and rng.random() < NATURAL_STAGING["person_surfing"]):
        comps.add("person_surfing")
    faces_on_people = any(t.category == "human_face" and t.relation == "part" for t in insts)
    if (faces_on_people and ctx != "studio" and not comps
            and rng.random() < NATURAL_STAGING["social_interaction"]):
        comps.add("social_interaction")   # changes counts and layout, never presence
    return dataclasses.replace(spec, compositions=frozenset(comps))


def _expand(rng: np.random.Generator, ctx: str, insts: list[_Inst], spec: SceneSpec) -> None:
    """Extra free-standing instances, and parts for the extra parent instances."""
    want = {r.category: r.count for r in spec.require}
    if "social_interaction" in spec.compositions:
        others = spec.compositions & {"person_surfing", "person_running", "person_jumping"}
        want["person"] = max(2 + bool(others), want.get("person", 1))
    for cat, (lo, hi) in COUNTS.items():
        idx = [i for i, t in enumerate(insts) if t.category == cat and t.parent is None]
        if not idx:
            continue
        n = max(int(rng.integers(lo, hi + 1)) if ctx != "studio" else 1, want.get(cat, 1))
        for _ in range(n - 1):
            insts.append(_Inst(cat))
    for cat, n in want.items():
        have = [t for t in insts if t.category == cat]
        for _ in range(n - len(have)):
            if have and have[0].parent is not None and have[0].relation == "part":
                # another part needs another host: a face per person, not two on one
                host = insts[have[0].parent].category
                insts.append(_Inst(host))
                insts.append(_Inst(cat, len(insts) - 1, "part"))
            elif have and have[0].parent is not None:
                insts.append(_Inst(cat, have[0].parent, have[0].relation))
            else:
                insts.append(_Inst(cat))
    # each part coupling that fired on the first parent instance also applies to the other
    # instances of that parent, independently with the same probability
    fired = {(insts[t.parent].category, t.category) for t in insts
             if t.relation == "part" and t.parent is not None}
    for i, t in enumerate(list(insts)):
        for (a, b) in sorted(fired):
            if t.category != a:
                continue
            if any(u.parent == i and u.category == b for u in insts):
                continue
            q = COUPLINGS.get((a, b), 1.0)
            force = "social_interaction" in spec.compositions and b == "human_face"
            if force or rng.random() < q:
                insts.append(_Inst(b, i, "part"))
    # a surfer, runner or jumper needs legs: the staged person gets them
    if spec.compositions & {"person_surfing", "person_running", "person_jumping"}:
        first_person = next(i for i, t in enumerate(insts) if t.category == "person")
        if not any(u.parent == first_person and u.category == "leg" for u in insts):
            if "leg" not in spec.forbid:
                insts.append(_Inst("leg", first_person, "part"))
    # two hands and two legs per person; one face
    for i, t in enumerate(list(insts)):
        if t.category != "person":
            continue
        for part, slots in (("hand", ("hand_l", "hand_r")), ("leg", ("leg_l", "leg_r"))):
            mine = [u for u in insts if u.parent == i and u.category == part]
            if mine:
                mine[0].slot = slots[0]
                for u in mine[1:]:
                    u.slot = slots[1]
                if len(mine) == 1:
                    insts.append(_Inst(part, i, "part", slot=slots[1]))
        for u in insts:
            if u.parent == i and u.category == "human_face":
                u.slot = "face"


# ------------------------------------------------------------------ layout
class _Layout:
    def __init__(self, rng: np.random.Generator, ctx: str, spec: SceneSpec) -> None:
        self.rng = rng
        self.ctx = ctx
        self.kind = _kind(ctx)
        self.spec = spec
        self.hz = {"indoor": rng.uniform(0.5, 0.62), "outdoor": rng.uniform(0.42, 0.6),
                   "studio": 0.78}[self.kind]
        self.uid = 0
        self.placed: list[SceneObject] = []
        self.bands: dict[str, tuple[float, float]] = {}
        self.req = {r.category: r for r in spec.require}

    def u(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def new(self, inst: _Inst, x: float, y: float, w: float, h: float, depth: float,
            **kw) -> SceneObject:
        self.uid += 1
        cat = CATEGORIES[inst.category]
        variant = kw.pop("variant", int(self.rng.integers(cat.variants)))
        color = inst.color or kw.pop("color", None)
        req = self.req.get(inst.category)
        if color is None and req is not None and req.color is not None:
            color = req.color
        if color is None:
            color = cat.colors[int(self.rng.integers(len(cat.colors)))]
        kw.pop("color", None)
        pose = (inst.pose or kw.pop("pose", None)
                or cat.poses[int(self.rng.integers(len(cat.poses)))])
        kw.pop("pose", None)
        obj = SceneObject(
            category=inst.category, uid=self.uid, x=float(x), y=float(y), w=float(w),
            h=float(h), depth=float(depth), color=tuple(int(c) for c in color),
            variant=variant, pose=pose, seed=int(self.rng.integers(2**31 - 1)), **kw)
        inst.obj = obj
        self.placed.append(obj)
        return obj

    def free_x(self, w: float, layer_objs: list[SceneObject], lo: float = 0.0,
               hi: float = 1.0) -> float:
        """x centre with the least overlap with ``layer_objs`` among a few candidates."""
        lo, hi = lo + w / 2, max(lo + w / 2, hi - w / 2)
        best, best_cost = 0.5, np.inf
        for _ in range(6):
            x = self.u(lo, hi) if hi > lo else lo
            cost = sum(max(0.0, min(x + w / 2, o.x + o.w / 2) - max(x - w / 2, o.x - o.w / 2))
                       for o in layer_objs)
            if cost < best_cost:
                best, best_cost = x, cost
        return best

    def scale_at(self, yb: float) -> float:
        """Perspective: objects lower in the image (closer) are larger."""
        t = (yb - self.hz) / max(1e-3, 1.0 - self.hz)
        return 0.55 + 0.75 * float(np.clip(t, 0, 1))


def _hip_fraction(pose: str, flip: bool) -> float:
    """Height of a person's hips as a fraction of the box height (from the top)."""
    probe = SceneObject("person", 0, 0.5, 0.5, 0.26, 0.62, pose=pose, flip=flip)
    parts = person_parts(probe)
    top = min(parts[k][1] - parts[k][3] / 2 for k in ("leg_l", "leg_r"))
    return (top - (probe.y - probe.h / 2)) / probe.h


def _place_at(gx: float, gy: float, w: float, h: float, local: tuple[float, float],
              angle: float, flip: bool) -> tuple[float, float]:
    """Box centre such that the box's local point ``local`` lands on (gx, gy)."""
    probe = SceneObject("ball", 0, 0.0, 0.0, w, h, angle=angle, flip=flip)
    ox, oy = probe.local_to_image(*local)
    return gx - ox, gy - oy


def _place_grip(gx: float, gy: float, side: float, angle: float,
                flip: bool) -> tuple[float, float]:
    """Centre of a square hand box whose grip hole lands on (gx, gy)."""
    return _place_at(gx, gy, side, side, HAND_GRIP, angle, flip)


def _size(cat: str, s: float, rng: np.random.Generator) -> tuple[float, float]:
    w0, h0 = CATEGORIES[cat].size
    k = s * rng.uniform(0.85, 1.15)
    return w0 * k, h0 * k


def _pose_for(rng: np.random.Generator, kind: str) -> str:
    opts = PERSON_POSES[kind]
    return _choice(rng, [p for p, _ in opts], [w for _, w in opts])


def _layout(rng: np.random.Generator, ctx: str, insts: list[_Inst], spec: SceneSpec) -> Scene:
    L = _Layout(rng, ctx, spec)
    kind, hz = L.kind, L.hz
    comps = spec.compositions
    by_cat: dict[str, list[_Inst]] = {}
    for t in insts:
        by_cat.setdefault(t.category, []).append(t)

    # person poses (compositions first)
    persons = [t for t in insts if t.category == "person"]
    req_pose = L.req.get("person").pose if "person" in L.req else None
    legged = {id(insts[u.parent]) for u in insts if u.category == "leg" and u.parent is not None}
    for t in persons:
        t.pose = req_pose or _pose_for(rng, kind)
        if id(t) not in legged and t.pose not in ("standing", "sitting"):
            t.pose = "standing"   # no legs: framed from the hips up, standing
    if "person_running" in comps:
        persons[0].pose = "running"
    if "person_jumping" in comps:
        persons[0].pose = "jumping"
    if "person_surfing" in comps:
        persons[0].pose = "surfing"
    for t in persons:
        if t.pose == "surfing" and "person_surfing" not in comps:
            t.pose = "standing"
    surfing = "person_surfing" in comps
    face_focus = "human_face" in L.req

    # --- regions
    if "sky" in by_cat:
        L.new(by_cat["sky"][0], 0.5, hz / 2, 1.0, hz + 0.01, 0.0,
              variant=int(rng.random() < 0.2))
        for extra in by_cat["sky"][1:]:
            extra.obj = by_cat["sky"][0].obj
    ground_depth = 0.1
    if "grass" in by_cat:
        L.new(by_cat["grass"][0], 0.5, (hz + 1) / 2, 1.0, 1 - hz + 0.01, ground_depth)
        L.bands["grass"] = (hz, 1.0)
    if "water" in by_cat:
        if ctx == "beach":
            bottom = 1.0 if surfing else hz + L.u(0.15, 0.35)
        else:
            bottom = hz + L.u(0.06, 0.14)
        L.new(by_cat["water"][0], 0.5, (hz + bottom) / 2, 1.0, bottom - hz + 0.005, 0.2)
        L.bands["water"] = (hz, bottom)
    if "road" in by_cat:
        if ctx == "street":
            top = hz + L.u(0.1, 0.22)
            bottom = 1.0
        else:
            top = L.u(hz + 0.12, max(hz + 0.12, 0.8))  # studio: the floor is low
            bottom = min(1.0, top + L.u(0.1, 0.18))
        L.new(by_cat["road"][0], 0.5, (top + bottom) / 2, 1.0, bottom - top, 0.3)
        L.bands["road"] = (top, bottom)
    for cat in ("grass", "water", "road"):
        for extra in by_cat.get(cat, [])[1:]:
            extra.obj = by_cat[cat][0].obj

    # --- far layer
    far: list[SceneObject] = []
    for t in by_cat.get("mountain", []):
        w, h = L.u(0.45, 0.9), L.u(0.16, 0.32)
        far.append(L.new(t, L.free_x(w * 0.6, far), hz - h / 2 + 0.01, w, h, 0.5))
    for t in by_cat.get("building", []):
        w, h = L.u(0.22, 0.4), L.u(0.3, 0.55)
        yb = hz + L.u(0.02, 0.08)
        far.append(L.new(t, L.free_x(w, far), yb - h / 2, w, h, 0.8 + 0.01 * yb))
    for t in by_cat.get("tree", []):
        yb = hz + L.u(0.0, 0.25) if kind != "studio" else 0.9
        s = L.scale_at(yb) if kind != "studio" else 1.4
        w, h = _size("tree", s, rng)
        far.append(L.new(t, L.free_x(w, far), yb - h / 2, w, h, 2.0 + yb,
                         variant=2 if ctx == "beach" else int(rng.integers(2))))
    for t in by_cat.get("boat", []):
        lo, hi = L.bands.get("water", (hz, hz + 0.15))
        w, h = _size("boat", L.u(0.6, 1.0), rng)
        yb = L.u(lo + 0.03, max(lo + 0.04, min(hi, lo + 0.15)))
        far.append(L.new(t, L.free_x(w, far), yb - h / 2, w, h, 1.0 + yb))

    # --- sky layer
    sky: list[SceneObject] = []
    top = hz if kind != "indoor" else 0.0
    for t in by_cat.get("sun", []):
        d = L.u(0.08, 0.13)
        if kind == "indoor":
            t_pos = (L.u(0.1, 0.9), L.u(0.1, 0.3))
        else:
            t_pos = (L.u(0.1, 0.9), L.u(0.08, max(0.1, top - 0.15)))
        sky.append(L.new(t, *t_pos, d, d, 0.4))
    for t in by_cat.get("cloud", []):
        w = L.u(0.18, 0.32)
        sky.append(L.new(t, L.free_x(w, sky), L.u(0.06, max(0.08, top * 0.55)), w, w * 0.45, 0.45))
    for t in by_cat.get("bird", []):
        if kind == "studio":
            w, h = _size("bird", 2.5, rng)
            sky.append(L.new(t, L.free_x(w, sky, 0.15, 0.85), 0.5, w, h, 3.0, pose="perched"))
            continue
        flying = kind == "outdoor" and rng.random() < 0.7
        w, h = _size("bird", L.u(0.6, 1.1), rng)
        if flying:
            y = L.u(0.08, max(0.1, hz - 0.1))
            sky.append(L.new(t, L.free_x(w, sky), y, w, h, 0.6, pose="flying"))
        else:
            yb = L.u(hz + 0.05, 0.95)
            sky.append(L.new(t, L.free_x(w, sky), yb - h / 2, w, h, 2.0 + yb, pose="perched"))

    # --- walls (indoor) / posters (elsewhere)
    wall: list[SceneObject] = []
    for cat in ("window", "door", "clock", "printed_text", "handwritten_text", "logo"):
        for t in by_cat.get(cat, []):
            if t.parent is not None and t.relation == "part":
                continue
            if kind == "studio":
                continue  # studio objects are laid out together below
            s = L.u(0.8, 1.2)
            w, h = _size(cat, s, rng)
            if cat == "door":
                y = hz + 0.02 - h / 2
            elif kind == "indoor":
                y = L.u(0.12 + h / 2, max(0.13 + h / 2, hz - h / 2 - 0.04))
            else:
                y = L.u(hz - 0.15, hz + 0.1)
            var = {"printed_text": 1, "handwritten_text": int(rng.integers(2))}.get(cat)
            kw = {"variant": var} if var is not None else {}
            wall.append(L.new(t, L.free_x(w, wall), y, w, h, 1.5, **kw))

    # --- furniture and ground things
    ground: list[SceneObject] = []
    tables: list[SceneObject] = []
    studio_items = []
    for cat in ("table", "bed", "chair", "lamp"):
        for t in by_cat.get(cat, []):
            if kind == "studio":
                studio_items.append(t)
                continue
            if cat == "table":
                w, h = L.u(0.55, 0.85), L.u(0.26, 0.36)
                yb = L.u(0.92, 1.04)
                o = L.new(t, L.u(0.35, 0.65), yb - h / 2, w, h, 2.0 + yb - 0.15)
                tables.append(o)
            else:
                yb = L.u(hz + 0.15, 0.99) if cat != "bed" else L.u(0.85, 0.99)
                s = L.scale_at(yb) * (1.4 if cat == "bed" else 1.0)
                w, h = _size(cat, s, rng)
                o = L.new(t, L.free_x(w, ground), yb - h / 2, w, h, 2.0 + yb)
            ground.append(o)
    for cat in ("person", "cat", "dog", "car", "bicycle", "traffic_sign", "blank_sign", "ball",
                "flower", "surfboard"):
        for t in by_cat.get(cat, []):
            if t.relation in ("part",) or t.obj is not None:
                continue
            if kind == "studio":
                studio_items.append(t)
                continue
            lo = hz + 0.1
            hi = 0.98
            if cat in ("car", "bicycle") and "road" in L.bands:
                lo, hi = L.bands["road"][0] + 0.06, L.bands["road"][1] - 0.01
            if cat == "surfboard":
                wlo, whi = L.bands.get("water", (hz, hz))
                lo, hi = (whi + 0.04, 0.98) if whi < 0.9 else (wlo + 0.1, 0.98)
            yb = L.u(lo, max(lo + 0.01, hi))
            s = L.scale_at(yb)
            w, h = _size(cat, s, rng)
            depth = 2.0 + yb
            if cat == "person" and tables and t.pose == "sitting":
                tb = tables[int(rng.integers(len(tables)))]
                w, h = _size(cat, 1.1, rng)
                x = L.u(tb.x - tb.w / 3, tb.x + tb.w / 3)
                yb = tb.y + tb.h * 0.1
                o = L.new(t, x, yb - h / 2, w, h, tb.depth - 0.05, flip=bool(rng.random() < .5))
            elif cat == "person" and (id(t) not in legged or (face_focus and rng.random() < 0.6)):
                # close to the camera, framed from the hips up (legs out of frame)
                w, h = _size(cat, L.u(1.15, 1.55), rng)
                flip = bool(rng.random() < 0.5)
                hip = _hip_fraction(t.pose or "standing", flip)
                y = L.u(1.0, 1.05) - hip * h + h / 2
                o = L.new(t, L.free_x(w, ground), y, w, h, 3.5 + 0.01 * len(ground), flip=flip)
            else:
                kw = {}
                if cat in ("person", "cat", "dog", "car", "bicycle"):
                    kw["flip"] = bool(rng.random() < 0.5)
                if cat == "surfboard":
                    kw["angle"] = L.u(-12, 12)
                o = L.new(t, L.free_x(w, ground), yb - h / 2, w, h, depth, **kw)
            ground.append(o)

    # --- compositions: stage them on the placed persons
    if surfing:
        p = persons[0]
        lo, hi = L.bands["water"]
        yb = L.u(max(lo + 0.25, 0.7), 0.92)
        s = L.scale_at(yb)
        w, h = _size("person", s * 0.95, rng)
        x = L.u(0.25, 0.75)
        po = p.obj
        L.placed.remove(po)
        p.obj = None
        po = L.new(p, x, yb - h / 2 - 0.02, w, h, 2.0 + yb, flip=bool(rng.random() < 0.5),
                   color=po.color, variant=po.variant)
        board = next(t for t in insts if t.category == "surfboard")
        bo = board.obj
        if bo is not None:
            L.placed.remove(bo)
            board.obj = None
        bw, bh = w * 1.5, w * 0.28
        L.new(board, x, yb - bh * 0.1, bw, bh, 2.0 + yb - 0.01, angle=L.u(-8, 8))
    if "social_interaction" in comps:
        a, b = persons[-2], persons[-1]
        ao, bo = a.obj, b.obj
        yb = (ao.y + ao.h / 2) if kind != "studio" and ao is not None else 0.95
        s = L.scale_at(yb) if kind != "studio" else 1.35
        w, h = _size("person", s, rng)
        if w > 0.3:
            w, h = 0.3, h * 0.3 / w
        gap = w * L.u(0.95, 1.25)
        x0 = L.u(w / 2 + 0.02, 0.98 - w / 2 - gap)
        for t, x, flip in ((a, x0, False), (b, x0 + gap, True)):
            if t.obj is not None and t.obj in L.placed:
                L.placed.remove(t.obj)
            col = t.obj.color if t.obj is not None else None
            t.obj = None
            t.pose = "standing" if t.pose not in ("standing", "walking") else t.pose
            kw = {"color": col} if col is not None else {}
            L.new(t, x, yb - h / 2, w, h, 2.0 + yb, flip=flip, **kw)
            if t in studio_items:
                studio_items.remove(t)

    # --- studio: one row of large objects
    tabletop_cats = [c for c in ("plate", "bowl", "pizza", "cake", "sandwich", "fruit", "cup",
                                 "book", "phone", "hammer", "scissors", "wrench")]
    if kind == "studio":
        for cat in tabletop_cats + ["printed_text", "handwritten_text", "logo", "clock",
                                    "human_face", "animal_face", "hand", "leg"]:
            for t in by_cat.get(cat, []):
                if t.parent is None and t.obj is None and t not in studio_items:
                    studio_items.append(t)
        n = max(1, len(studio_items))
        for i, t in enumerate(studio_items):
            w0, h0 = CATEGORIES[t.category].size
            k = min(0.9 / n / w0, 0.75 / h0) * L.u(0.85, 1.0)
            w, h = w0 * k, h0 * k
            x = (i + 0.5) / n
            y = min(0.97 - h / 2, 0.55 + 0.05 * (h < 0.3))
            kw = {}
            if t.category == "printed_text":
                kw["variant"] = 1
            L.new(t, x, y, w, h, 3.0 + 0.01 * i, **kw)

    # --- table tops and loose things (food, dishware, books, tools, phones)
    top_objs: list[SceneObject] = []
    for cat in [*tabletop_cats, "hand", "human_face", "animal_face", "leg"]:
        for t in by_cat.get(cat, []):
            if t.obj is not None or t.relation in ("part", "held"):
                continue
            if t.relation == "near" and t.parent is not None and insts[t.parent].obj is not None:
                continue  # placed with its parent below
            if tables:
                host = tables[int(rng.integers(len(tables)))]
                ys, xl, xr = table_top(host)
                w, h = _size(cat, host.w / 0.7, rng)
                x = L.free_x(w, top_objs, xl, xr)
                yb = ys + L.u(0.0, 0.04)
                depth = host.depth + 0.02 + 0.001 * len(top_objs)
            else:
                yb = L.u(max(hz + 0.15, 0.75), 0.97)
                w, h = _size(cat, L.scale_at(yb) * 1.3, rng)
                x = L.free_x(w, top_objs + ground)
                depth = 2.0 + yb
            kw = {}
            if cat in TOOLS:
                kw["angle"] = L.u(-25, 25)
                if "hands_in_action" in comps:  # staged: a close-up of the hand at work
                    w, h = w * 1.8, h * 1.8
                    yb = min(yb, 0.97 - h * 0.3)
            if cat == "fruit":
                v = int(rng.integers(4))
                kw["variant"] = v
                if L.req.get("fruit") is None or L.req["fruit"].color is None:
                    cols = FRUIT_COLOURS[v]
                    kw["color"] = cols[int(rng.integers(len(cols)))]
            top_objs.append(L.new(t, x, yb - h / 2, w, h, depth, **kw))

    # --- things attached "near" a parent: plates under food, tables under food, hands on tools
    for t in insts:
        if t.relation != "near" or t.obj is not None:
            continue
        host = insts[t.parent].obj if t.parent is not None else None
        if host is None:
            raise SceneError(f"internal: {t.category} placed before its host")
        if t.category in ("plate", "bowl"):
            w = host.w * L.u(1.25, 1.45)
            h = w * CATEGORIES[t.category].size[1] / CATEGORIES[t.category].size[0]
            y = host.y + host.h / 2 - h * 0.45
            L.new(t, host.x, y, w, h, host.depth - 0.001)
        elif t.category == "hand":
            side = max(host.w, host.h) * 0.42
            gx, gy = host.local_to_image(*TOOL_GRIP)
            x, y = _place_grip(gx, gy, side, host.angle, host.flip)
            L.new(t, x, y, side, side, host.depth + 0.001, pose="hold", angle=host.angle,
                  flip=host.flip)
            t.pose = "hold"
        elif t.category in ("water", "grass", "road"):
            pass  # regions: the coupled instance shares the region drawn above
        elif t.category == "ball":
            w, h = _size("ball", host.h / 0.28 * 0.8, rng)
            yb = host.y + host.h / 2
            L.new(t, float(np.clip(host.x + host.w * 0.7, 0.05, 0.95)), yb - h / 2, w, h,
                  host.depth + 0.001)
        else:
            raise SceneError(f"internal: no 'near' placement for {t.category}")
    # surfboard/boat/car couplings into regions are satisfied by the region itself

    # --- parts
    social = "social_interaction" in comps
    for t in insts:
        if t.obj is not None:
            continue
        host_inst = insts[t.parent] if t.parent is not None else None
        host = host_inst.obj if host_inst is not None else None
        if t.relation == "near" and t.category in ("water", "grass", "road"):
            continue
        if t.relation == "held":
            continue  # placed in the holder's hand below
        if host is None:
            raise SceneError(f"internal: unplaced {t.category}")
        if host.category == "person":
            parts = person_parts(host)
            poses = part_poses(host)
            slot = t.slot or {"human_face": "face", "hand": "hand_r", "leg": "leg_l"}[t.category]
            x, y, w, h, ang = parts[slot]
            kw: dict = {"pose": poses[slot]}
            if t.category in ("human_face", "hand"):
                kw["color"] = skin_of(host)
            if t.category == "leg":
                kw["color"] = CLOTHES[(host.seed // 7) % len(CLOTHES)]
                # leg style + the person's skin tone (for shorts and skirts)
                kw["variant"] = (host.seed // 11) % 3 + 3 * (host.variant % len(SKIN))
            holds = any(u.relation == "held" and u.parent == t.parent for u in insts)
            if t.category == "hand" and slot == "hand_r" and holds:
                kw["pose"] = "hold"
            if t.category == "human_face":
                if poses["face"] == "front" and not social:
                    kw["pose"] = _choice(rng, ["front", "left", "right"], [0.6, 0.2, 0.2])
                if social:
                    kw["pose"] = "right"   # towards where the person faces (flip mirrors it)
                kw["variant"] = host.seed % CATEGORIES["human_face"].variants
            depth = host.depth + {"leg": 0.0002, "human_face": 0.0003, "hand": 0.0004}.get(
                t.category, 0.0005)
            L.new(t, x, y, w, h, depth, parent=host.uid, angle=ang, flip=host.flip, **kw)
        elif host.category in ("cat", "dog"):
            x, y, w, h, ang = animal_face_box(host)
            L.new(t, x, y, w, h, host.depth + 0.0003, parent=host.uid, angle=ang, flip=host.flip,
                  variant=0 if host.category == "cat" else 1, color=host.color,
                  pose=_choice(rng, ["front", "left", "right"], [0.6, 0.2, 0.2]))
        elif t.category == "printed_text":
            if host.category == "building":
                x, y, w, h, ang = building_sign_box(host)
            else:
                x, y, w, h, ang = sign_text_box(host)
            col = (250, 250, 250) if host.category == "building" else sign_text_ink(host)
            words = TITLE_WORDS if host.category == "book" else SIGN_WORDS
            text = "STOP" if host.category == "traffic_sign" and host.variant == 0 else \
                words[int(rng.integers(len(words)))]
            L.new(t, x, y, w, h, host.depth + 0.0005, parent=host.uid, angle=ang, color=col,
                  variant=0, text=text)
        elif t.category == "logo":
            w = min(host.w, host.h) * 0.35
            L.new(t, host.x, host.y - host.h * 0.15, w, w, host.depth + 0.0005, parent=host.uid)
        else:
            raise SceneError(f"internal: no part placement for {t.category} on {host.category}")

    # --- tools held by a person: the handle goes through the right hand's grip
    for t in insts:
        if t.relation != "held" or t.obj is not None:
            continue
        person = insts[t.parent].obj
        hx, hy, hw, hh, ang = person_parts(person)["hand_r"]
        hand = SceneObject("hand", 0, hx, hy, hw, hh, angle=ang, flip=person.flip)
        gx, gy = hand.local_to_image(*HAND_GRIP)
        w0, h0 = CATEGORIES[t.category].size
        w = max(hw, hh) * 2.6
        h = w * h0 / w0
        x, y = _place_at(gx, gy, w, h, TOOL_GRIP, ang, person.flip)
        L.new(t, x, y, w, h, person.depth + 0.00035, angle=ang, flip=person.flip)

    # --- text strings for free-standing text
    objs = []
    for o in L.placed:
        if o.category == "printed_text" and not o.text:
            o = _with(o, text=SIGN_WORDS[o.seed % len(SIGN_WORDS)])
        elif o.category == "handwritten_text" and not o.text:
            o = _with(o, text=NOTE_WORDS[o.seed % len(NOTE_WORDS)])
        objs.append(o)
    light = float(rng.uniform(0.85, 1.1))
    warmth = float(rng.uniform(-0.5, 0.5))
    return Scene(context=ctx, objects=tuple(objs), seed=int(rng.integers(2**31 - 1)),
                 palette=int(rng.integers(8)), light=light, warmth=warmth, horizon=float(hz))


def _with(o: SceneObject, **kw) -> SceneObject:
    return dataclasses.replace(o, **kw)


def sample_scene(random_state: RandomState = None, spec: SceneSpec | None = None) -> Scene:
    """Sample one scene from the priors, under the constraints of ``spec``.

    Parameters
    ----------
    random_state : int, Generator, SeedSequence or None, default=None
        Source of randomness (see :func:`braincause.utils.check_random_state`).
    spec : SceneSpec or None, default=None
        Constraints on the scene; None (or an empty spec) samples from the priors.

    Returns
    -------
    Scene

    Raises
    ------
    SceneError
        When ``spec`` requires an unknown category.
    """
    rng = check_random_state(random_state)
    spec = spec or SceneSpec()
    for r in spec.require:
        if r.category not in CATEGORIES:
            raise SceneError(f"unknown category {r.category!r}")
    ctx = _choose_context(rng, spec)
    insts = _presence(rng, ctx, spec)
    spec = _natural_compositions(rng, ctx, insts, spec)
    _expand(rng, ctx, insts, spec)
    return _layout(rng, ctx, insts, spec)


def sample_scenes(n: int, random_state: RandomState = None,
                  spec: SceneSpec | None = None) -> list[Scene]:
    """``n`` scenes; scene ``i`` depends only on the seed and ``i`` (not on ``n``).

    Each scene is drawn by :func:`sample_scene` from its own child of one
    :class:`~numpy.random.SeedSequence` (``random_state`` itself when it is one, else one
    drawn from ``random_state``).

    Parameters
    ----------
    n : int
        Number of scenes.
    random_state : int, Generator, SeedSequence or None, default=None
        Source of randomness (see :func:`braincause.utils.check_random_state`).
    spec : SceneSpec or None, default=None
        Constraints every scene satisfies.

    Returns
    -------
    list of Scene
        ``n`` scenes.
    """
    ss = random_state if isinstance(random_state, np.random.SeedSequence) else \
        np.random.SeedSequence(check_random_state(random_state).integers(2**63))
    return [sample_scene(np.random.default_rng(child), spec) for child in ss.spawn(n)]


__all__ = ["Requirement", "SceneSpec", "coupling_applies", "sample_scene", "sample_scenes"]
