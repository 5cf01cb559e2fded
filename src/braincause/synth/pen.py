"""Drawing primitives for the procedural renderer.

A :class:`Pen` draws one object at a time. Every primitive paints the RGB
canvas *and* the label canvas (the object's index) and, when masks are
requested, the object's own amodal mask, so that visible masks, amodal masks
and pixels always agree exactly.

Drawers work in the object's *local frame*: ``u`` runs 0 → 1 from the left to
the right edge of the object's box, ``v`` runs 0 → 1 from top to bottom.
Mirroring (``obj.flip``) and rotation (``obj.angle``, degrees, counter-clockwise
about the box centre) are applied by the pen, so a drawer never handles them.
Sizes such as line widths are given in local units of ``min(w, h)`` of the box.

Everything is drawn without anti-aliasing at ``supersample`` × the output size;
the renderer box-downsamples, which anti-aliases edges while keeping the
"which pixels could this object have touched" mask exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import ImageDraw, ImageFont

RGB = tuple[int, int, int]
Point = tuple[float, float]


def clamp8(x: float) -> int:
    return 0 if x < 0 else 255 if x > 255 else int(x)


def shade(color: Sequence[float], factor: float) -> RGB:
    """Darken (factor < 1) or lighten (factor > 1) a colour."""
    if factor <= 1:
        return (clamp8(color[0] * factor), clamp8(color[1] * factor), clamp8(color[2] * factor))
    t = min(factor - 1.0, 1.0)
    return (
        clamp8(color[0] + (255 - color[0]) * t),
        clamp8(color[1] + (255 - color[1]) * t),
        clamp8(color[2] + (255 - color[2]) * t),
    )


def mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    """Linear blend: ``t = 0`` gives ``a``, ``t = 1`` gives ``b``."""
    return (
        clamp8(a[0] + (b[0] - a[0]) * t),
        clamp8(a[1] + (b[1] - a[1]) * t),
        clamp8(a[2] + (b[2] - a[2]) * t),
    )


@lru_cache(maxsize=64)
def font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font at ``size_px`` pixels (no system fonts needed)."""
    return ImageFont.load_default(size=max(4, int(size_px)))


class Pen:
    """Draws one object's primitives into the scene's canvases.

    Parameters
    ----------
    rgb_draw : ImageDraw.ImageDraw
        Draw handle of the RGB canvas.
    label_draw : ImageDraw.ImageDraw or None
        Draw handle of the label canvas (mode ``"L"``); None skips labels.
    label : int
        Value written to the label canvas (1 + the object's draw index).
    box : (x, y, w, h)
        Object box in canvas pixels (top-left corner, width, height).
    flip : bool
        Mirror the local frame horizontally.
    angle : float
        Rotation in degrees, counter-clockwise, about the box centre.
    mask_draw : ImageDraw.ImageDraw or None
        If given, every primitive is also painted with 255 here (amodal mask).
    """

    def __init__(
        self,
        rgb_draw: ImageDraw.ImageDraw,
        label_draw: ImageDraw.ImageDraw | None,
        label: int,
        box: tuple[float, float, float, float],
        flip: bool = False,
        angle: float = 0.0,
        mask_draw: ImageDraw.ImageDraw | None = None,
    ) -> None:
        self._rgb = rgb_draw
        self._lab = label_draw
        self._mask = mask_draw
        self.label = int(label)
        self.x, self.y, self.w, self.h = (float(b) for b in box)
        self.flip = bool(flip)
        self.angle = float(angle)
        rad = math.radians(self.angle)
        self._cos, self._sin = math.cos(rad), math.sin(rad)
        self._cx = self.x + self.w / 2
        self._cy = self.y + self.h / 2
        self.unit = max(1.0, min(self.w, self.h))  # pixels per local size unit

    # ------------------------------------------------------------------ frame
    def pt(self, u: float, v: float) -> Point:
        """Local (u, v) → canvas pixels, applying flip and rotation."""
        if self.flip:
            u = 1.0 - u
        px = (u - 0.5) * self.w
        py = (v - 0.5) * self.h
        if self.angle:
            px, py = px * self._cos + py * self._sin, -px * self._sin + py * self._cos
        return (self._cx + px, self._cy + py)

    def pts(self, points: Sequence[Point]) -> list[Point]:
        return [self.pt(u, v) for u, v in points]

    def px(self, size: float) -> float:
        """Local size (fraction of min(w, h)) → pixels."""
        return size * self.unit

    # ------------------------------------------------------------ primitives
    def _all(self) -> list[tuple[ImageDraw.ImageDraw, int]]:
        out = [] if self._lab is None else [(self._lab, self.label)]
        if self._mask is not None:
            out.append((self._mask, 255))
        return out

    def polygon(self, points: Sequence[Point], fill: RGB | None = None,
                outline: RGB | None = None, width: float = 0.0) -> None:
        """Filled polygon in local coordinates, optional outline (width in local units)."""
        p = self.pts(points)
        if len(p) < 3:
            return
        if fill is not None:
            self._rgb.polygon(p, fill=fill)
            for d, val in self._all():
                d.polygon(p, fill=val)
        if outline is not None and width > 0:
            self.line(list(points) + [points[0]], outline, width)

    def ellipse(self, cu: float, cv: float, ru: float, rv: float, fill: RGB | None = None,
                outline: RGB | None = None, width: float = 0.0, n: int = 28,
                start: float = 0.0, end: float = 360.0) -> None:
        """Ellipse (or a pie slice from ``start`` to ``end`` degrees) centred at (cu, cv).

        ``ru``/``rv`` are radii in local u/v units. Drawn as a polygon so that it
        rotates and mirrors with the object.
        """
        full = (end - start) >= 360.0
        k = max(8, n if full else int(n * (end - start) / 360.0) + 2)
        ts = np.linspace(math.radians(start), math.radians(end), k, endpoint=not full)
        pts = [(cu + ru * math.cos(t), cv + rv * math.sin(t)) for t in ts]
        if not full:
            pts.append((cu, cv))
        if fill is not None:
            self.polygon(pts, fill=fill)
        if outline is not None and width > 0:
            ring = pts if full else pts[:-1]
            self.line(ring + ([ring[0]] if full else []), outline, width)

    def rect(self, u0: float, v0: float, u1: float, v1: float, fill: RGB | None = None,
             outline: RGB | None = None, width: float = 0.0) -> None:
        self.polygon([(u0, v0), (u1, v0), (u1, v1), (u0, v1)], fill=fill,
                     outline=outline, width=width)

    def rounded_rect(self, u0: float, v0: float, u1: float, v1: float, r: float,
                     fill: RGB | None = None, outline: RGB | None = None,
                     width: float = 0.0) -> None:
        """Rectangle with corner radius ``r`` (local units of the shorter side)."""
        ru = r * self.unit / max(self.w, 1.0)
        rv = r * self.unit / max(self.h, 1.0)
        ru = min(ru, (u1 - u0) / 2)
        rv = min(rv, (v1 - v0) / 2)
        pts: list[Point] = []
        corners = [(u1 - ru, v0 + rv, -90), (u1 - ru, v1 - rv, 0), (u0 + ru, v1 - rv, 90),
                   (u0 + ru, v0 + rv, 180)]
        for cu, cv, a0 in corners:
            for k in range(5):
                t = math.radians(a0 + k * 22.5)
                pts.append((cu + ru * math.cos(t), cv + rv * math.sin(t)))
        self.polygon(pts, fill=fill, outline=outline, width=width)

    def line(self, points: Sequence[Point], fill: RGB, width: float = 0.02,
             joint: bool = True) -> None:
        """Polyline; ``width`` in local units. Round joints when ``joint``."""
        p = self.pts(points)
        if len(p) < 2:
            return
        wpx = max(1, round(self.px(width)))
        self._rgb.line(p, fill=fill, width=wpx, joint="curve" if joint else None)
        for d, val in self._all():
            d.line(p, fill=val, width=wpx, joint="curve" if joint else None)
        if joint and wpx >= 3:
            r = wpx / 2
            for x, y in (p[0], p[-1]):
                box = (x - r, y - r, x + r, y + r)
                self._rgb.ellipse(box, fill=fill)
                for d, val in self._all():
                    d.ellipse(box, fill=val)

    def text(self, u: float, v: float, s: str, fill: RGB, height: float,
             anchor: str = "mm") -> tuple[float, float]:
        """Upright text centred at (u, v) (rotation and mirroring are not applied
        to glyphs, only to the anchor point). ``height`` is the font size in local v
        units. Returns the text's (width, height) in pixels."""
        x, y = self.pt(u, v)
        f = font(max(4, round(height * self.h)))
        self._rgb.text((x, y), s, fill=fill, font=f, anchor=anchor)
        for d, val in self._all():
            d.text((x, y), s, fill=val, font=f, anchor=anchor)
        box = self._rgb.textbbox((x, y), s, font=f, anchor=anchor)
        return (box[2] - box[0], box[3] - box[1])

    def text_width(self, s: str, height: float) -> float:
        """Width in local u units of ``s`` drawn with :meth:`text` at ``height``."""
        f = font(max(4, round(height * self.h)))
        box = self._rgb.textbbox((0, 0), s, font=f)
        return (box[2] - box[0]) / max(self.w, 1.0)
