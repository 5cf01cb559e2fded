"""Deterministic renderer: ``render(scene, size) -> RGB array``.

Rendering is a pure function of the :class:`~braincause.synth.scene.Scene`:
the backdrop depends only on the context, palette and ``scene.seed``; each
object is drawn by its category's drawer with a generator seeded by
``obj.seed``; global light, warmth and sensor grain depend only on scene-level
fields. Removing an object therefore changes only the pixels it covered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from braincause.exceptions import SceneError
from braincause.synth.drawers import DRAWERS
from braincause.synth.pen import Pen, mix, shade
from braincause.synth.scene import Scene

#: Backdrop colour schemes per context: (upper, lower, horizon fraction, kind).
BACKDROPS: dict[str, list[tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    "kitchen": [((236, 228, 210), (170, 150, 120)), ((220, 232, 236), (150, 140, 130)),
                ((245, 240, 225), (120, 100, 80))],
    "dining_room": [((214, 196, 170), (120, 85, 60)), ((200, 210, 200), (140, 100, 70)),
                    ((230, 215, 200), (100, 70, 50))],
    "office": [((225, 228, 232), (110, 115, 125)), ((235, 235, 225), (90, 95, 105)),
               ((210, 220, 230), (130, 130, 140))],
    "bedroom": [((226, 214, 230), (170, 140, 110)), ((210, 225, 240), (150, 120, 90)),
                ((240, 225, 205), (130, 100, 80))],
    "living_room": [((232, 222, 200), (140, 110, 80)), ((200, 215, 205), (120, 90, 70)),
                    ((240, 230, 220), (160, 130, 100))],
    "street": [((205, 212, 222), (125, 125, 128)), ((220, 215, 205), (110, 110, 115))],
    "beach": [((215, 228, 240), (226, 206, 160)), ((230, 225, 215), (236, 216, 170))],
    "park": [((215, 228, 235), (110, 150, 90)), ((225, 230, 220), (120, 140, 80))],
    "mountains": [((210, 220, 232), (120, 140, 100)), ((225, 225, 230), (140, 130, 110))],
    "studio": [((236, 236, 236), (200, 200, 200)), ((210, 220, 232), (170, 180, 195)),
               ((240, 232, 220), (205, 190, 170)), ((70, 70, 78), (40, 40, 45))],
}
INDOOR = {"kitchen", "dining_room", "office", "bedroom", "living_room"}


@dataclass
class Rendered:
    """A rendered scene.

    Attributes
    ----------
    image : (size, size, 3) uint8
    labels : (size, size) int32 or None
        uid of the front-most object at each pixel (0 = backdrop).
    coverage : dict uid -> float, or None
        Visible area of each object as a fraction of the image.
    masks : dict uid -> (size, size) bool, or None
        Amodal masks: every pixel the object's drawing touches (visible or occluded).
    """

    image: np.ndarray
    labels: np.ndarray | None = None
    coverage: dict[int, float] | None = None
    masks: dict[int, np.ndarray] | None = None


def _draw_backdrop(scene: Scene, draw: ImageDraw.ImageDraw, n: int) -> None:
    schemes = BACKDROPS.get(scene.context)
    if schemes is None:
        raise SceneError(f"unknown context {scene.context!r}; known: {sorted(BACKDROPS)}")
    upper, lower = schemes[scene.palette % len(schemes)]
    hz = int(n * scene.horizon)
    # vertical gradients: upper part lightens towards the horizon, floor darkens towards us
    steps = 12
    for i in range(steps):
        y0, y1 = hz * i // steps, hz * (i + 1) // steps
        draw.rectangle((0, y0, n, y1), fill=mix(shade(upper, 0.93), shade(upper, 1.06), i / steps))
    for i in range(steps):
        y0 = hz + (n - hz) * i // steps
        y1 = hz + (n - hz) * (i + 1) // steps
        draw.rectangle((0, y0, n, y1), fill=mix(shade(lower, 1.05), shade(lower, 0.85), i / steps))
    if scene.context in INDOOR:
        # baseboard and a context-specific wall texture
        draw.rectangle((0, hz - n // 60, n, hz), fill=shade(upper, 0.75))
        if scene.context == "kitchen":
            tile = n // 10
            for x in range(0, n, tile):
                draw.line((x, int(hz * 0.45), x, hz), fill=shade(upper, 0.88), width=1)
            for y in range(int(hz * 0.45), hz, tile):
                draw.line((0, y, n, y), fill=shade(upper, 0.88), width=1)
        elif scene.context == "bedroom":
            for x in range(0, n, n // 14):
                draw.rectangle((x, 0, x + n // 40, hz), fill=shade(upper, 0.95))
        elif scene.context in ("dining_room", "living_room"):
            # floorboards
            for y in range(hz, n, max(2, n // 16)):
                draw.line((0, y, n, y), fill=shade(lower, 0.8), width=1)


def _finish(arr: np.ndarray, scene: Scene) -> np.ndarray:
    """Global light, warmth and sensor grain (scene-level, object-independent)."""
    out = arr.astype(np.float32)
    gain = np.array([1.0 + 0.08 * scene.warmth, 1.0, 1.0 - 0.08 * scene.warmth], np.float32)
    out *= gain * np.float32(scene.light)
    rng = np.random.default_rng([scene.seed, 104729])
    out += rng.standard_normal(out.shape[:2], dtype=np.float32)[..., None] * np.float32(2.5)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _reduce_any(a: np.ndarray, s: int) -> np.ndarray:
    n = a.shape[0] // s
    return a.reshape(n, s, n, s).any(axis=(1, 3))


def render(scene: Scene, size: int = 224, *, supersample: int = 2, labels: bool = False,
           masks: bool = False) -> Rendered:
    """Render ``scene`` to a ``size`` × ``size`` RGB image.

    Parameters
    ----------
    scene : Scene
    size : int
        Output side in pixels (≥ 16).
    supersample : int
        Drawing resolution factor; edges are box-filtered down (anti-aliasing).
    labels : bool
        Also return the label map and each object's visible coverage.
    masks : bool
        Also return each object's amodal mask (implies ``labels``).
    """
    if size < 16:
        raise SceneError(f"size must be at least 16 pixels, got {size}")
    s = int(supersample)
    n = size * s
    canvas = Image.new("RGB", (n, n))
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1"
    _draw_backdrop(scene, draw, n)
    order = scene.drawing_order()
    if len(order) > 254:
        raise SceneError(f"a scene holds at most 254 objects, got {len(order)}")
    want_labels = labels or masks
    lab_img = Image.new("L", (n, n), 0) if want_labels else None
    lab_draw = None
    if lab_img is not None:
        lab_draw = ImageDraw.Draw(lab_img)
        lab_draw.fontmode = "1"
    amodal: dict[int, np.ndarray] = {}
    for i, obj in enumerate(order):
        drawer = DRAWERS.get(obj.category)
        if drawer is None:
            raise SceneError(f"no drawer for category {obj.category!r}")
        m_img = m_draw = None
        if masks:
            m_img = Image.new("L", (n, n), 0)
            m_draw = ImageDraw.Draw(m_img)
            m_draw.fontmode = "1"
        box = obj.box_px(n)
        pen = Pen(draw, lab_draw, i + 1, box, flip=obj.flip, angle=obj.angle, mask_draw=m_draw)
        drawer(pen, obj, np.random.default_rng(obj.seed))
        if m_img is not None:
            amodal[obj.uid] = _reduce_any(np.asarray(m_img) > 0, s)
    img = canvas.reduce(s) if s > 1 else canvas
    out = Rendered(image=_finish(np.asarray(img), scene))
    if lab_img is not None:
        lab = np.asarray(lab_img)
        uid_of = np.zeros(256, np.int32)
        for i, obj in enumerate(order):
            uid_of[i + 1] = obj.uid
        counts = np.bincount(lab.ravel(), minlength=256)
        out.labels = uid_of[lab[::s, ::s]]
        out.coverage = {obj.uid: float(counts[i + 1]) / lab.size for i, obj in enumerate(order)}
    if masks:
        out.masks = amodal
    return out


def render_image(scene: Scene, size: int = 224) -> np.ndarray:
    """Just the RGB array (``render(scene, size).image``)."""
    return render(scene, size).image
