"""Interventions on scenes: exact edits of the record, and pixel edits.

Exact edits (``remove``, ``replace``, ``recolour``, ``move``) return a new
:class:`~braincause.synth.scene.Scene`; rendering it re-renders the edited world,
so only pixels the edited object covered (or now covers) change.

Pixel edits (``pixel_remove``) work like real image editors: the object's mask
is erased and filled by OpenCV inpainting, leaving the smudges and texture
breaks that real edits leave.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from braincause.exceptions import SceneError
from braincause.synth.categories import CATEGORIES
from braincause.synth.render import render
from braincause.synth.scene import Scene, SceneObject
from braincause.utils import RandomState, check_random_state

Target = int | str | list[int] | tuple[int, ...] | set[int]

#: Hand-picked replacements (similar size and placement, different meaning);
#: other categories fall back to the nearest category in size and shape.
REPLACE_WITH: dict[str, tuple[str, ...]] = {
    "human_face": ("animal_face", "ball", "clock"),
    "animal_face": ("human_face", "ball"),
    "person": ("tree", "traffic_sign", "lamp"),
    "hand": ("ball", "cup"),
    "printed_text": ("logo", "handwritten_text"),
    "handwritten_text": ("printed_text", "logo"),
    "logo": ("clock", "printed_text"),
    "pizza": ("plate", "book", "clock"),
    "cake": ("cup", "bowl", "book"),
    "sandwich": ("book", "phone", "bowl"),
    "fruit": ("ball", "cup"),
    "hammer": ("phone", "book"),
    "scissors": ("phone", "cup"),
    "wrench": ("phone", "book"),
    "traffic_sign": ("blank_sign", "lamp"),
    "cat": ("dog", "ball"),
    "dog": ("cat", "chair"),
    "car": ("boat", "bicycle"),
    "surfboard": ("boat",),
}


def _uids(scene: Scene, target: Target) -> list[int]:
    if isinstance(target, str):
        if target not in CATEGORIES:
            raise SceneError(f"unknown category {target!r}")
        return [o.uid for o in scene.of(target)]
    if isinstance(target, (int, np.integer)):
        scene.get(int(target))
        return [int(target)]
    uids = [int(u) for u in target]
    for u in uids:
        scene.get(u)
    return uids


def remove(scene: Scene, target: Target) -> Scene:
    """Remove objects (uids, or every instance of a category) and their parts."""
    return scene.without(_uids(scene, target))


def similar_categories(category: str) -> list[str]:
    """Replacement candidates for ``category``, most similar first."""
    if category in REPLACE_WITH:
        return list(REPLACE_WITH[category])
    c = CATEGORIES[category]
    aw, ah = c.size

    def cost(o: str) -> float:
        bw, bh = CATEGORIES[o].size
        return abs(math.log((aw / ah) / (bw / bh))) + abs(math.log((aw * ah) / (bw * bh)))

    pool = [o for o, oc in CATEGORIES.items()
            if o != category and oc.group != c.group and oc.layer == c.layer]
    if not pool:
        pool = [o for o, oc in CATEGORIES.items() if o != category and oc.group != c.group]
    return sorted(pool, key=cost)[:4]


def replace(scene: Scene, uid: int, category: str | None = None, *,
            random_state: RandomState = None) -> Scene:
    """Replace object ``uid`` (and its parts) by an object of ``category`` in the same box,
    with the same colour; ``category=None`` picks one of :func:`similar_categories`."""
    old = scene.get(uid)
    rng = check_random_state(random_state)
    if category is None:
        cands = similar_categories(old.category)
        category = cands[int(rng.integers(len(cands)))]
    if category not in CATEGORIES:
        raise SceneError(f"unknown category {category!r}")
    cat = CATEGORIES[category]
    aspect = cat.size[0] / cat.size[1]
    w, h = old.w, old.h
    if w / h > aspect:
        w = h * aspect
    else:
        h = w / aspect
    new = SceneObject(category=category, uid=scene.next_uid(), x=old.x, y=old.y, w=w, h=h,
                      depth=old.depth, color=old.color, variant=old.variant % cat.variants,
                      pose=cat.poses[0], flip=old.flip, angle=old.angle, parent=old.parent,
                      seed=old.seed)
    rest = scene.without([uid])
    return rest.replace(objects=(*rest.objects, new))


def recolour(scene: Scene, uid: int, color: tuple[int, int, int]) -> Scene:
    """Give object ``uid`` a new main colour."""
    old = scene.get(uid)
    new = dataclasses.replace(old, color=tuple(int(c) for c in color))
    return scene.replace(objects=tuple(new if o.uid == uid else o for o in scene.objects))


def move(scene: Scene, uid: int, dx: float, dy: float) -> Scene:
    """Shift object ``uid`` and its parts by (dx, dy) image fractions."""
    moving = {uid} | {o.uid for o in scene.descendants(uid)}
    return scene.replace(objects=tuple(
        dataclasses.replace(o, x=o.x + dx, y=o.y + dy) if o.uid in moving else o
        for o in scene.objects))


@dataclass
class PixelEdit:
    """Result of a pixel edit: the edited image and the erased mask."""

    image: np.ndarray
    mask: np.ndarray
    original: np.ndarray


def pixel_remove(scene: Scene, target: Target, size: int = 224, *, method: str = "telea",
                 radius: float = 3.0, dilate: int = 1) -> PixelEdit:
    """Erase objects from the rendered image and fill the hole by OpenCV inpainting.

    ``method`` is ``"telea"`` or ``"ns"`` (Navier–Stokes); ``dilate`` grows the mask by
    that many pixels first, as editors do, so edge halos are erased too.
    """
    flags = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
    if method not in flags:
        raise SceneError(f"method must be 'telea' or 'ns', got {method!r}")
    uids = set(_uids(scene, target))
    for u in list(uids):
        uids.update(o.uid for o in scene.descendants(u))
    r = render(scene, size, masks=True)
    mask = np.zeros((size, size), np.uint8)
    assert r.masks is not None
    for u in uids:
        mask[r.masks[u]] = 255
    if dilate > 0:
        k = np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)
        mask = cv2.dilate(mask, k)
    edited = cv2.inpaint(np.ascontiguousarray(r.image), mask, float(radius), flags[method])
    return PixelEdit(image=edited, mask=mask > 0, original=r.image)
