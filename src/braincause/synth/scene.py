"""Scenes as data.

A :class:`Scene` is a context, a palette/lighting and a tuple of
:class:`SceneObject`. Scenes are immutable, hashable, JSON round-trippable, and
rendering is a pure function of them (:func:`braincause.synth.render.render`).
Object boxes are in *normalised* image coordinates (0–1, y down), so one scene
renders at any size.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class SceneObject:
    """One object instance.

    Attributes
    ----------
    category : str
        One of :data:`braincause.synth.categories.CATEGORIES`.
    uid : int
        Identifier, unique within the scene, stable under edits (other objects
        keep their uid when one is removed). Parts refer to their parent by uid.
    x, y, w, h : float
        Box centre and size, as fractions of the image width/height.
    depth : float
        Painter's order: larger is drawn later (in front).
    color : (r, g, b)
        Main colour (skin tone for faces/hands, shirt for persons, body colour…).
    variant : int
        Style index; each drawer interprets it (e.g. hair style, fruit kind).
    pose : str
        Free-form pose word understood by the drawer ("front", "left", "running"…).
    flip : bool
        Mirror horizontally.
    angle : float
        Rotation in degrees, counter-clockwise.
    text : str
        The string, for text objects; empty otherwise.
    parent : int or None
        uid of the object this one is a part of (a face on a person, text on a sign).
    seed : int
        Per-object seed for the drawer's small random details.
    """

    category: str
    uid: int
    x: float
    y: float
    w: float
    h: float
    depth: float = 0.0
    color: RGB = (128, 128, 128)
    variant: int = 0
    pose: str = ""
    flip: bool = False
    angle: float = 0.0
    text: str = ""
    parent: int | None = None
    seed: int = 0

    @property
    def area(self) -> float:
        """Box area as a fraction of the image (not the visible area)."""
        return self.w * self.h

    def box_px(self, size: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) in pixels for a square image of ``size``."""
        return ((self.x - self.w / 2) * size, (self.y - self.h / 2) * size,
                self.w * size, self.h * size)

    def local_to_image(self, u: float, v: float) -> tuple[float, float]:
        """Object-local (u, v) → normalised image coordinates, with the object's flip and
        rotation applied exactly as :class:`~braincause.synth.pen.Pen` draws them."""
        if self.flip:
            u = 1.0 - u
        px, py = (u - 0.5) * self.w, (v - 0.5) * self.h
        if self.angle:
            a = math.radians(self.angle)
            c, s = math.cos(a), math.sin(a)
            px, py = px * c + py * s, -px * s + py * c
        return (self.x + px, self.y + py)

    def local_box_to_image(self, u0: float, v0: float, u1: float,
                           v1: float) -> tuple[float, float, float, float, float]:
        """Local box (u0, v0)–(u1, v1) → image (centre x, centre y, w, h, angle)."""
        x, y = self.local_to_image((u0 + u1) / 2, (v0 + v1) / 2)
        return (x, y, abs(u1 - u0) * self.w, abs(v1 - v0) * self.h, float(self.angle))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["color"] = list(self.color)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SceneObject:
        d = dict(d)
        d["color"] = tuple(int(c) for c in d["color"])
        return cls(**d)


@dataclass(frozen=True)
class Scene:
    """A renderable scene.

    Attributes
    ----------
    context : str
        One of :data:`braincause.synth.world.CONTEXTS`.
    objects : tuple of SceneObject
    seed : int
        Seed of the backdrop texture and sensor grain (independent of objects,
        so an edit that removes one object leaves every other pixel alone).
    palette : int
        Backdrop colour scheme index within the context.
    light : float
        Global brightness multiplier (around 1).
    warmth : float
        Global colour temperature shift (−1 cool … +1 warm).
    horizon : float
        Height of the backdrop's horizon / floor line, fraction of the image.
    """

    context: str
    objects: tuple[SceneObject, ...] = field(default_factory=tuple)
    seed: int = 0
    palette: int = 0
    light: float = 1.0
    warmth: float = 0.0
    horizon: float = 0.58

    # ------------------------------------------------------------- queries
    def categories(self) -> set[str]:
        return {o.category for o in self.objects}

    def has(self, category: str) -> bool:
        return any(o.category == category for o in self.objects)

    def of(self, category: str) -> list[SceneObject]:
        return [o for o in self.objects if o.category == category]

    def get(self, uid: int) -> SceneObject:
        for o in self.objects:
            if o.uid == uid:
                return o
        raise KeyError(f"no object with uid {uid} in scene")

    def children(self, uid: int) -> list[SceneObject]:
        return [o for o in self.objects if o.parent == uid]

    def descendants(self, uid: int) -> list[SceneObject]:
        out: list[SceneObject] = []
        frontier = [uid]
        while frontier:
            u = frontier.pop()
            kids = self.children(u)
            out.extend(kids)
            frontier.extend(k.uid for k in kids)
        return out

    def next_uid(self) -> int:
        return 1 + max((o.uid for o in self.objects), default=0)

    def drawing_order(self) -> list[SceneObject]:
        """Objects sorted back to front (ties broken by uid, so order is stable)."""
        return sorted(self.objects, key=lambda o: (o.depth, o.uid))

    # ------------------------------------------------------------- edits
    def replace(self, **changes: Any) -> Scene:
        return dataclasses.replace(self, **changes)

    def without(self, uids: set[int] | list[int]) -> Scene:
        """Scene without these objects *and their parts*."""
        drop = set(uids)
        for u in list(drop):
            drop.update(o.uid for o in self.descendants(u))
        return self.replace(objects=tuple(o for o in self.objects if o.uid not in drop))

    # ------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "seed": self.seed,
            "palette": self.palette,
            "light": self.light,
            "warmth": self.warmth,
            "horizon": self.horizon,
            "objects": [o.to_dict() for o in self.objects],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scene:
        return cls(
            context=d["context"],
            seed=int(d["seed"]),
            palette=int(d.get("palette", 0)),
            light=float(d.get("light", 1.0)),
            warmth=float(d.get("warmth", 0.0)),
            horizon=float(d.get("horizon", 0.58)),
            objects=tuple(SceneObject.from_dict(o) for o in d["objects"]),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def content_hash(self) -> str:
        """Stable hash of the scene record (used as a cache key)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]
