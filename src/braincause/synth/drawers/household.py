"""Drawers for food, dishware and furniture.

Everything is seen from the front and slightly above (as when looking at a
table), so round things are flattened ellipses whose front side is visible.
Food and dishware are drawn on their own; the sampler puts a plate behind a
pizza when it wants one. :func:`table_top` tells the sampler where tabletop
objects should stand on a table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from braincause.synth.categories import CATEGORIES
from braincause.synth.pen import RGB, Pen, mix, shade
from braincause.synth.scene import SceneObject

Point = tuple[float, float]
Drawer = Callable[[Pen, SceneObject, np.random.Generator], None]

WHITE: RGB = (250, 250, 246)
BLACK: RGB = (28, 26, 26)
LEAF: RGB = (70, 150, 50)
COFFEE: RGB = (72, 42, 24)
METAL: RGB = (70, 72, 78)


# ---------------------------------------------------------------------------- helpers
def _variant(obj: SceneObject, name: str) -> int:
    return obj.variant % CATEGORIES[name].variants


def _lw(pen: Pen, k: float = 0.025, px: float = 1.6) -> float:
    """Outline width: ``k`` local units, but at least ``px`` canvas pixels."""
    return max(k, px / pen.unit)


def _ink(c: Sequence[float], f: float = 0.5) -> RGB:
    return shade(c, f)


def _lum(c: Sequence[float]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


_UNIT: dict[int, list[tuple[float, float]]] = {}


def _ellipse(pen: Pen, cu: float, cv: float, ru: float, rv: float, fill: RGB | None = None,
             outline: RGB | None = None, width: float = 0.0, n: int = 20, start: float = 0.0,
             end: float = 360.0) -> None:
    """Like :meth:`Pen.ellipse`, with cached unit circles for full ellipses (faster)."""
    if end - start < 360.0:
        pen.ellipse(cu, cv, ru, rv, fill=fill, outline=outline, width=width, n=n, start=start,
                    end=end)
        return
    tab = _UNIT.get(n)
    if tab is None:
        tab = _UNIT[n] = [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n))
                          for i in range(n)]
    pts = [(cu + ru * c, cv + rv * s) for c, s in tab]
    if fill is not None:
        pen.polygon(pts, fill=fill, outline=outline, width=width)
    elif outline is not None and width > 0:
        pen.line(pts + pts[:1], outline, width)


def _arc(cu: float, cv: float, ru: float, rv: float, a0: float = 0.0, a1: float = 360.0,
         n: int = 20, dv: float = 0.0) -> list[Point]:
    """Points on an ellipse from angle ``a0`` to ``a1`` (degrees; 90 = front/bottom)."""
    n = max(2, n)
    step = (a1 - a0) / (n - 1)
    out = []
    for i in range(n):
        t = math.radians(a0 + step * i)
        out.append((cu + ru * math.cos(t), cv + dv + rv * math.sin(t)))
    return out


def _slab(pen: Pen, cu: float, cv: float, ru: float, rv: float, th: float, fill: RGB,
          ink: RGB | None = None, lw: float = 0.0, a0: float = 0.0, a1: float = 180.0) -> None:
    """Visible side of a flat disc of thickness ``th`` (front arc from a0 to a1)."""
    top = _arc(cu, cv, ru, rv, a0, a1, 18)
    bot = _arc(cu, cv, ru, rv, a1, a0, 18, dv=th)
    pen.polygon(top + bot, fill=fill, outline=ink, width=lw)


def _frustum(pen: Pen, cu: float, vt: float, rut: float, vb: float, rub: float, rvb: float,
             fill: RGB, ink: RGB | None = None, lw: float = 0.0) -> None:
    """Side of a (tapered) cylinder: top chord at ``vt``, bottom front arc at ``vb``.

    The top ellipse is drawn afterwards by the caller and covers the chord."""
    pts = [(cu - rut, vt)] + _arc(cu, vb, rub, rvb, 180, 0, 16) + [(cu + rut, vt)]
    pen.polygon(pts, fill=fill, outline=ink, width=lw)


def _wave(u0: float, u1: float, v: float, amp: float, n: int, phase: float = 0.0) -> list[Point]:
    """Wavy edge from u0 to u1 around height v (lettuce, drips)."""
    out = []
    for i in range(n + 1):
        s = i / n
        out.append((u0 + (u1 - u0) * s, v + amp * math.sin(phase + s * n * math.pi)))
    return out


# ---------------------------------------------------------------------------- pizza
def _pizza(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Whole pizza (0), a single slice (1) or a half-eaten pizza (2)."""
    var = _variant(obj, "pizza")
    crust = mix(obj.color, (218, 156, 84), 0.5)
    edge = shade(crust, 0.72)
    cheese = mix(obj.color, (252, 214, 118), 0.62)
    sauce = (186, 44, 28)
    ink = _ink(crust, 0.45)
    lw = _lw(pen, 0.016)
    if var == 1:
        _pizza_slice(pen, rng, crust, edge, cheese, sauce, ink, lw)
        return
    cu, cv, ru, rv, th = 0.5, 0.44, 0.48, 0.38, 0.11
    full = var == 0
    if full:
        a0, a1 = 0.0, 360.0
    else:
        a0 = 20.0 + rng.uniform(-8, 8)
        a1 = 240.0 + rng.uniform(-10, 15)
    _slab(pen, cu, cv, ru, rv, th, edge, ink, lw, max(a0, 0.0), min(a1, 180.0))
    _ellipse(pen, cu, cv, ru, rv, fill=crust, outline=ink, width=lw, start=a0, end=a1, n=40)
    _ellipse(pen, cu, cv, ru * 0.86, rv * 0.84, fill=sauce, start=a0, end=a1, n=36)
    # cheese: a bubbly irregular disc (or sector)
    n = 22
    pts: list[Point] = []
    for i in range(n + (0 if full else 1)):
        t = math.radians(a0 + (a1 - a0) * i / n)
        r = 0.8 + rng.uniform(-0.035, 0.02)
        pts.append((cu + ru * r * math.cos(t), cv + rv * r * math.sin(t)))
    if not full:
        pts.append((cu, cv))
    pen.polygon(pts, fill=cheese)
    k = rv / ru
    # melted highlights
    for _ in range(2):
        t = math.radians(rng.uniform(a0 + 20, a1 - 20))
        r = rng.uniform(0.15, 0.5)
        _ellipse(pen, cu + ru * r * math.cos(t), cv + rv * r * math.sin(t), 0.09, 0.09 * k * 0.7,
                 fill=shade(cheese, 1.25), n=12)
    # slice cuts
    cut = shade(cheese, 0.78)
    t0 = rng.uniform(0, 60)
    for j in range(6 if full else 3):
        t = t0 + 60 * j if full else a0 + (a1 - a0) * (j + 1) / 4
        tr = math.radians(t)
        if full and j >= 3:
            break
        far = (cu + ru * 0.84 * math.cos(tr), cv + rv * 0.84 * math.sin(tr))
        near = (cu - ru * 0.84 * math.cos(tr), cv - rv * 0.84 * math.sin(tr)) if full else (cu, cv)
        pen.line([near, far], cut, lw * 0.8)
    if not full:
        ra = math.radians(a0)
        rb = math.radians(a1)
        pen.line([(cu + ru * math.cos(ra), cv + rv * math.sin(ra)), (cu, cv),
                  (cu + ru * math.cos(rb), cv + rv * math.sin(rb))], ink, lw)
    _toppings(pen, rng, cu, cv, ru, rv, a0, a1, 7 if full else 4, lw)


def _toppings(pen: Pen, rng: np.random.Generator, cu: float, cv: float, ru: float, rv: float,
              a0: float, a1: float, n_pep: int, lw: float) -> None:
    """Pepperoni, olives and pepper strips scattered on a pizza sector."""
    k = rv / ru
    pep = (176, 40, 32)

    def spot(rmax: float) -> Point:
        t = math.radians(rng.uniform(a0 + 14, a1 - 14))
        r = 0.12 + (rmax - 0.12) * math.sqrt(rng.uniform())
        return (cu + ru * r * math.cos(t), cv + rv * r * math.sin(t))

    for _ in range(n_pep):
        u, v = spot(0.66)
        _ellipse(pen, u, v, 0.072, 0.072 * k, fill=shade(pep, 0.62), n=12)
        _ellipse(pen, u - 0.006, v - 0.006 * k, 0.06, 0.06 * k, fill=pep, n=12)
    for _ in range(int(rng.integers(0, 4))):
        u, v = spot(0.7)
        _ellipse(pen, u, v, 0.03, 0.03 * k, outline=BLACK, width=lw * 1.8, n=10)
    green = (58, 140, 48)
    for _ in range(int(rng.integers(0, 4))):
        u, v = spot(0.7)
        d = rng.uniform(0.03, 0.05)
        pen.line([(u - d, v), (u, v - d * k), (u + d, v)], green, lw * 1.8)


def _pizza_slice(pen: Pen, rng: np.random.Generator, crust: RGB, edge: RGB, cheese: RGB,
                 sauce: RGB, ink: RGB, lw: float) -> None:
    tip = (0.5 + rng.uniform(-0.05, 0.05), 0.82)
    left, right = (0.06, 0.26), (0.94, 0.26)
    th = 0.1
    pen.polygon([left, tip, right, (right[0], right[1] + th), (tip[0], tip[1] + th),
                 (left[0], left[1] + th)], fill=edge, outline=ink, width=lw)

    def along(p: Point, q: Point, s: float) -> Point:
        return (p[0] + (q[0] - p[0]) * s, p[1] + (q[1] - p[1]) * s)

    li, ri = along(left, tip, 0.14), along(right, tip, 0.14)
    inner = [(li[0] + (ri[0] - li[0]) * s, li[1] - 0.1 * 4 * s * (1 - s))
             for s in np.linspace(1, 0, 10)]
    outer = [(left[0] + (right[0] - left[0]) * s, left[1] - 0.22 * 4 * s * (1 - s))
             for s in np.linspace(0, 1, 12)]
    pen.polygon([left, tip, right] + inner[:1] + inner, fill=cheese, outline=ink, width=lw)
    pen.line(inner, sauce, lw * 2.2)
    pen.polygon(outer + [right, ri] + inner + [li, left], fill=crust, outline=ink, width=lw)
    pen.line([(0.2, 0.17), (0.5, 0.09), (0.8, 0.17)], shade(crust, 1.2), lw * 1.5)
    # cheese drips over the front edges
    for s in (rng.uniform(0.3, 0.5), rng.uniform(0.55, 0.8)):
        side = left if s < 0.5 else right
        u, v = along(side, tip, s)
        _ellipse(pen, u, v + 0.04, 0.025, 0.06, fill=cheese, n=10)
    pep = (176, 40, 32)
    spots = [(0.35, 0.4), (0.62, 0.38), (0.5, 0.6), (0.45, 0.3)]
    for u, v in spots[: 3 + int(rng.integers(0, 2))]:
        u += rng.uniform(-0.03, 0.03)
        v += rng.uniform(-0.03, 0.03)
        _ellipse(pen, u, v, 0.075, 0.07, fill=pep, outline=shade(pep, 0.6), width=lw, n=14)
        _ellipse(pen, u - 0.02, v - 0.02, 0.022, 0.02, fill=shade(pep, 1.25), n=8)
    if rng.uniform() < 0.6:
        _ellipse(pen, 0.6 + rng.uniform(-0.04, 0.04), 0.52, 0.035, 0.03, outline=BLACK,
                 width=lw * 1.8, n=10)


# ---------------------------------------------------------------------------- fruit
def _fruit(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Apple (0), orange (1), banana (2), bunch of grapes (3)."""
    var = _variant(obj, "fruit")
    c = obj.color
    lw = _lw(pen, 0.03)
    ink = _ink(c, 0.5)
    if var == 0:
        _apple(pen, rng, c, ink, lw)
    elif var == 1:
        _orange(pen, rng, c, ink, lw)
    elif var == 2:
        _banana(pen, rng, c, ink, lw)
    else:
        _grapes(pen, rng, c, ink, lw)


def _apple(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    cu, cv, rx, ry = 0.5, 0.58, 0.44, 0.39
    pts = []
    for i in range(32):
        th = 2 * math.pi * i / 32  # 0 = top, clockwise
        d = min(th, 2 * math.pi - th)
        r = (1.0 - 0.17 * math.exp(-((d / 0.42) ** 2))
             - 0.06 * math.exp(-(((d - math.pi) / 0.4) ** 2)))
        pts.append((cu + rx * r * math.sin(th) * (1 + 0.04 * math.cos(th)),
                    cv - ry * r * math.cos(th)))
    pen.polygon(pts, fill=c, outline=ink, width=lw)
    _ellipse(pen, cu + 0.1, cv + 0.12, 0.26, 0.2, fill=shade(c, 0.86), n=18, start=-10, end=130)
    _ellipse(pen, cu - 0.18, cv - 0.12, 0.07, 0.11, fill=shade(c, 1.45), n=12)
    brown = (96, 62, 34)
    top = cv - ry * 0.83
    tipu = cu + 0.05 + rng.uniform(-0.02, 0.03)
    pen.line([(cu, top + 0.02), (cu + 0.02, top - 0.08), (tipu, 0.05)], brown, max(lw, 0.05))
    lu, lv = cu + 0.04, top - 0.06
    ang = math.radians(rng.uniform(-35, -10))
    ln = 0.28
    eu, ev = lu + ln * math.cos(ang), lv + ln * math.sin(ang)
    nu, nv = -math.sin(ang) * 0.08, math.cos(ang) * 0.08
    mu, mv = (lu + eu) / 2, (lv + ev) / 2
    pen.polygon([(lu, lv), (mu + nu, mv + nv), (eu, ev), (mu - nu, mv - nv)], fill=LEAF,
                outline=shade(LEAF, 0.6), width=lw * 0.7)
    pen.line([(lu, lv), (eu, ev)], shade(LEAF, 0.7), lw * 0.6)


def _orange(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    cu, cv, r = 0.5, 0.54, 0.43
    _ellipse(pen, cu, cv, r, r, fill=c, outline=ink, width=lw, n=32)
    _ellipse(pen, cu + 0.08, cv + 0.08, r * 0.8, r * 0.8, fill=shade(c, 0.9), n=20,
             start=-20, end=120)
    _ellipse(pen, cu - 0.15, cv - 0.16, 0.1, 0.08, fill=shade(c, 1.4), n=12)
    dots = shade(c, 0.7)
    for _ in range(15):
        t = rng.uniform(0, 2 * math.pi)
        rr = r * 0.85 * math.sqrt(rng.uniform(0.05, 1))
        u, v = cu + rr * math.cos(t), cv + rr * math.sin(t)
        if (u - cu + 0.15) ** 2 + (v - cv + 0.16) ** 2 < 0.012:
            continue
        _ellipse(pen, u, v, 0.022, 0.022, fill=dots, n=6)
    # calyx and a small leaf at the top
    _ellipse(pen, cu, cv - r + 0.06, 0.05, 0.035, fill=(90, 110, 40), n=10)
    pen.polygon([(cu + 0.02, cv - r + 0.04), (cu + 0.16, cv - r - 0.08), (cu + 0.3, cv - r - 0.05),
                 (cu + 0.14, cv - r + 0.02)], fill=LEAF, outline=shade(LEAF, 0.6),
                width=lw * 0.7)


def _banana(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    if rng.uniform() < 0.6:  # a second banana behind: reads as a small bunch
        _one_banana(pen, 0.52, 0.0, 0.4, 0.6, shade(c, 0.88), ink, lw)
    _one_banana(pen, 0.5, 0.06 + rng.uniform(-0.02, 0.02), 0.43, 0.66, c, ink, lw)


def _one_banana(pen: Pen, cx: float, cy: float, a: float, b: float, c: RGB, ink: RGB,
                lw: float) -> None:
    """A crescent with a stalk at the upper left and a dark tip at the right."""
    outer, inner, mid = [], [], []
    n = 16
    for i in range(n + 1):
        s = i / n
        t = math.radians(168 - 148 * s)
        px, py = cx + a * math.cos(t), cy + b * math.sin(t)
        nx, ny = b * math.cos(t), a * math.sin(t)
        nn = math.hypot(nx, ny)
        nx, ny = nx / nn, ny / nn
        w = 0.015 + 0.11 * math.sin(math.pi * s) ** 0.6
        outer.append((px + nx * w, py + ny * w))
        inner.append((px - nx * w * 0.9, py - ny * w * 0.9))
        mid.append((px + nx * w * 0.2, py + ny * w * 0.2))
    pen.polygon(outer + inner[::-1], fill=c, outline=ink, width=lw)
    pen.polygon(outer[2:-2] + mid[-3:1:-1], fill=shade(c, 0.84))
    pen.line(inner[3:-3], shade(c, 1.35), lw)
    pen.line(mid[2:-2], shade(c, 0.7), lw * 0.6)
    su, sv = inner[0]
    ou, ov = outer[0]
    pen.polygon([(su, sv), (ou, ov), (ou - 0.04, ov - 0.1), (su - 0.03, sv - 0.11)],
                fill=(110, 100, 40), outline=(70, 60, 30), width=lw * 0.7)
    _ellipse(pen, *mid[-1], 0.025, 0.025, fill=(60, 45, 30), n=8)


def _grapes(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    rows = [(0.24, 4), (0.42, 3), (0.58, 3), (0.73, 2), (0.86, 1)]
    r = 0.12
    pen.line([(0.5, 0.22), (0.52, 0.1), (0.6, 0.02)], (100, 80, 40), max(lw, 0.045))
    pen.polygon([(0.52, 0.1), (0.68, 0.02), (0.88, 0.08), (0.76, 0.2), (0.58, 0.16)], fill=LEAF,
                outline=shade(LEAF, 0.6), width=lw * 0.7)
    dark, light = shade(c, 0.6), shade(c, 1.05)
    half = 0.0
    for v, k in rows:
        span = (k - 1) * r * 1.8
        for j in range(k):
            u = 0.5 - span / 2 + j * r * 1.8 + rng.uniform(-0.015, 0.015) + half
            vv = v + rng.uniform(-0.015, 0.015)
            _ellipse(pen, u, vv, r, r * 1.05, fill=dark, n=12)
            _ellipse(pen, u - 0.012, vv - 0.014, r * 0.83, r * 0.86, fill=light, n=12)
            if j % 2 == 0:
                _ellipse(pen, u - 0.04, vv - 0.045, 0.025, 0.03, fill=shade(c, 1.6), n=8)
        half = rng.uniform(-0.03, 0.03)


# ---------------------------------------------------------------------------- cake
def _cake(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Round layer cake (0), slice of cake on its side (1), cupcake (2)."""
    var = _variant(obj, "cake")
    c = obj.color
    lw = _lw(pen, 0.018)
    if var == 0:
        _layer_cake(pen, rng, c, lw)
    elif var == 1:
        _cake_slice(pen, rng, c, lw)
    else:
        _cupcake(pen, rng, c, lw)


def _icing(c: RGB, rng: np.random.Generator) -> RGB:
    """A glaze colour that contrasts with the frosting ``c``."""
    options = [(92, 52, 30), (236, 130, 168), (250, 250, 244), (240, 200, 70)]
    options = [o for o in options if sum(abs(a - b) for a, b in zip(o, c, strict=True)) > 140]
    return options[int(rng.integers(0, len(options)))]


def _sponge(c: RGB) -> RGB:
    return shade(c, 0.82) if _lum(c) < 110 else mix(c, (226, 178, 104), 0.7)


def _layer_cake(pen: Pen, rng: np.random.Generator, c: RGB, lw: float) -> None:
    cu, cv, ru, rv, bot = 0.5, 0.36, 0.45, 0.13, 0.86
    ink = _ink(c, 0.5)
    glaze = _icing(c, rng)
    cream = mix(c, WHITE, 0.6) if _lum(c) > 110 else mix(c, WHITE, 0.75)
    _frustum(pen, cu, cv, ru, bot, ru, rv, c, ink, lw)
    pen.polygon([(cu - 0.12, cv + 0.1), (cu + 0.02, cv + 0.12), (cu + 0.0, bot + rv * 0.9),
                 (cu - 0.16, bot + rv * 0.8)], fill=shade(c, 1.12))
    pen.polygon([(cu + ru * 0.72, cv + 0.1), (cu + ru, cv), (cu + ru, bot),
                 (cu + ru * 0.72, bot + rv * 0.7)], fill=shade(c, 0.88))
    # glaze on top, dripping down the side
    drips = [(cu - ru, cv)]
    for i in range(13):
        s = i / 12
        t = math.radians(180 - 180 * s)
        u = cu + ru * math.cos(t)
        v = cv + rv * math.sin(t) + (0.06 + (0.1 * rng.uniform() if i % 2 else 0.02))
        drips.append((u, v))
    drips.append((cu + ru, cv))
    pen.polygon(drips, fill=glaze, outline=_ink(glaze, 0.7), width=lw * 0.7)
    _ellipse(pen, cu, cv, ru, rv, fill=glaze, outline=_ink(glaze, 0.6), width=lw, n=32)
    _ellipse(pen, cu - 0.1, cv - 0.02, ru * 0.45, rv * 0.4, fill=shade(glaze, 1.2), n=14)
    # piped dollops around the rim (back ones first) and along the base
    for i in sorted(range(8), key=lambda j: math.sin(2 * math.pi * j / 8)):
        t = 2 * math.pi * (i + 0.5) / 8
        u, v = cu + ru * 0.78 * math.cos(t), cv + rv * 0.7 * math.sin(t)
        _ellipse(pen, u, v - 0.025, 0.055, 0.05, fill=cream, outline=_ink(cream, 0.75),
                 width=lw * 0.6, n=10)
    for i in range(7):
        t = math.radians(165 - 150 * i / 6)
        u, v = cu + ru * 0.98 * math.cos(t), bot + rv * math.sin(t) - 0.02
        _ellipse(pen, u, v, 0.05, 0.04, fill=shade(cream, 0.9), n=10)
    cherry = (200, 20, 40)
    pen.line([(cu, cv - 0.1), (cu + 0.05, cv - 0.28)], (70, 110, 40), lw * 1.2)
    _ellipse(pen, cu, cv - 0.08, 0.07, 0.085, fill=cherry, outline=shade(cherry, 0.55), width=lw,
             n=14)
    _ellipse(pen, cu - 0.022, cv - 0.11, 0.02, 0.022, fill=shade(cherry, 1.6), n=8)


def _cake_slice(pen: Pen, rng: np.random.Generator, c: RGB, lw: float) -> None:
    frost = c
    sponge = _sponge(c)
    fill = mix(c, WHITE, 0.55) if _lum(c) < 200 else (236, 120, 150)
    ink = _ink(sponge, 0.5)
    fl, fr, top, bot = 0.04, 0.74, 0.42, 0.94
    br = (0.96, 0.1 + rng.uniform(-0.03, 0.03))
    # outer (frosted) back face, then the top wedge, then the cut face with layers
    pen.polygon([(fr, top), br, (br[0], br[1] + bot - top), (fr, bot)], fill=shade(frost, 0.82),
                outline=_ink(frost, 0.5), width=lw)
    pen.polygon([(fl, top), (fr, top), br], fill=shade(frost, 1.05), outline=_ink(frost, 0.5),
                width=lw)
    pen.rect(fl, top, fr, bot, fill=sponge, outline=ink, width=lw)
    n_layers = 2 + int(rng.integers(0, 2))
    h = (bot - top - 0.08) / (n_layers + 1)
    for i in range(n_layers):
        v = top + 0.08 + h * (i + 1)
        pen.rect(fl, v - 0.03, fr, v + 0.03, fill=fill)
    pen.rect(fl, top, fr, top + 0.08, fill=frost)
    pen.line([(fl, top), (fr, top), br], _ink(frost, 0.5), lw)
    pen.line([(fr, top), (fr, bot)], _ink(frost, 0.5), lw)
    # crumbs/pores on the sponge
    for _ in range(6):
        u = rng.uniform(fl + 0.05, fr - 0.05)
        v = rng.uniform(top + 0.12, bot - 0.05)
        _ellipse(pen, u, v, 0.012, 0.012, fill=shade(sponge, 0.8), n=6)
    # dollop and cherry near the outer end
    du, dv = 0.8, 0.2
    _ellipse(pen, du, dv + 0.04, 0.1, 0.07, fill=mix(frost, WHITE, 0.5), outline=_ink(frost, 0.6),
             width=lw * 0.7, n=14)
    cherry = (200, 20, 40)
    _ellipse(pen, du, dv - 0.02, 0.065, 0.075, fill=cherry, outline=shade(cherry, 0.55),
             width=lw, n=14)
    _ellipse(pen, du - 0.02, dv - 0.045, 0.018, 0.02, fill=shade(cherry, 1.6), n=8)


def _cupcake(pen: Pen, rng: np.random.Generator, c: RGB, lw: float) -> None:
    wraps = [(240, 120, 150), (110, 170, 220), (250, 210, 90), (150, 200, 130), (200, 200, 205)]
    wrap = wraps[int(rng.integers(0, len(wraps)))]
    ink = _ink(c, 0.5)
    pen.polygon([(0.17, 0.55)] + _arc(0.5, 0.9, 0.25, 0.06, 180, 0, 10) + [(0.83, 0.55)],
                fill=wrap, outline=_ink(wrap, 0.55), width=lw)
    for i in range(1, 7):
        s = i / 7
        pen.line([(0.17 + 0.66 * s, 0.57), (0.25 + 0.5 * s, 0.93 + 0.05 * math.sin(math.pi * s))],
                 shade(wrap, 0.75), lw * 0.8)
    _ellipse(pen, 0.5, 0.55, 0.37, 0.07, fill=_sponge((200, 150, 90)), n=18)
    tiers = [(0.5, 0.47, 0.4, 0.11), (0.5, 0.36, 0.32, 0.1), (0.5, 0.26, 0.23, 0.09),
             (0.52, 0.17, 0.12, 0.07)]
    for i, (u, v, ru, rv) in enumerate(tiers):
        _ellipse(pen, u, v, ru, rv, fill=shade(c, 0.92 + 0.05 * i), outline=ink, width=lw * 0.8,
                 n=22)
    _ellipse(pen, 0.4, 0.33, 0.08, 0.03, fill=shade(c, 1.3), n=10)
    colours = [(230, 60, 60), (60, 130, 220), (250, 210, 40), (80, 180, 80), (250, 250, 250)]
    for i in range(8):
        u = rng.uniform(0.25, 0.75)
        v = rng.uniform(0.3, 0.48)
        d = rng.uniform(-0.03, 0.03)
        pen.line([(u - 0.02, v - d), (u + 0.02, v + d)], colours[i % len(colours)], lw * 1.1)
    cherry = (200, 20, 40)
    pen.line([(0.54, 0.08), (0.6, 0.0)], (70, 110, 40), lw)
    _ellipse(pen, 0.53, 0.1, 0.07, 0.065, fill=cherry, outline=shade(cherry, 0.55), width=lw,
             n=14)


# ---------------------------------------------------------------------------- sandwich
def _sandwich(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Triangle sandwich (0), burger (1), sub roll (2)."""
    var = _variant(obj, "sandwich")
    c = obj.color
    lw = _lw(pen, 0.02)
    if var == 0:
        _triangle_sandwich(pen, rng, c, lw)
    elif var == 1:
        _burger(pen, rng, c, lw)
    else:
        _sub(pen, rng, c, lw)


LETTUCE: RGB = (104, 184, 60)
TOMATO: RGB = (214, 50, 38)
CHEESE: RGB = (250, 196, 50)


def _triangle_sandwich(pen: Pen, rng: np.random.Generator, c: RGB, lw: float) -> None:
    crust = shade(mix(c, (170, 110, 50), 0.45), 0.95)
    crumb = mix(c, WHITE, 0.55)
    ink = _ink(crust, 0.5)
    apex = (0.78 + rng.uniform(-0.06, 0.04), 0.05)
    fl, fr, v0 = 0.04, 0.96, 0.42
    # top slice of bread (seen from above): crust around, crumb inside
    pen.polygon([(fl, v0), apex, (fr, v0)], fill=crust, outline=ink, width=lw)
    pen.polygon([(fl + 0.09, v0 - 0.01), (apex[0], apex[1] + 0.09), (fr - 0.09, v0 - 0.01)],
                fill=shade(c, 1.05))
    # the cut face: bread, lettuce, tomato, cheese, ham, bread
    layers = [(0.13, crumb), (0.07, LETTUCE), (0.07, TOMATO), (0.06, CHEESE),
              (0.06, (236, 150, 150)), (0.12, crumb)]
    v = v0
    for i, (h, col) in enumerate(layers):
        if col == LETTUCE:
            top = _wave(fl - 0.03, fr + 0.03, v + 0.01, 0.015, 10)
            bot = _wave(fr + 0.03, fl - 0.03, v + h, 0.02, 10, 1.0)
            pen.polygon(top + bot, fill=col, outline=shade(col, 0.65), width=lw * 0.7)
        elif col == CHEESE:
            pen.polygon([(fl - 0.02, v), (fr + 0.02, v), (fr + 0.02, v + h), (0.75, v + h),
                         (0.72, v + h + 0.06), (0.69, v + h), (fl - 0.02, v + h)], fill=col,
                        outline=shade(col, 0.7), width=lw * 0.7)
        else:
            pen.rect(fl, v, fr, v + h, fill=col, outline=shade(col, 0.7) if i else None,
                     width=lw * 0.7)
        v += h
    pen.rect(fl, v0, fr, v0 + 0.025, fill=crust)
    pen.rect(fl, v - 0.025, fr, v, fill=crust)
    pen.line([(fl, v0), (fr, v0), (fr, v), (fl, v), (fl, v0)], ink, lw)
    for _ in range(5):
        _ellipse(pen, rng.uniform(fl + 0.06, fr - 0.06), rng.uniform(v0 + 0.05, v0 + 0.1), 0.008,
                 0.01, fill=shade(crumb, 0.82), n=6)


def _burger(pen: Pen, rng: np.random.Generator, c: RGB, lw: float) -> None:
    bun = mix(c, (214, 140, 60), 0.45)
    ink = _ink(bun, 0.5)
    pen.rounded_rect(0.1, 0.76, 0.9, 0.96, 0.08, fill=shade(bun, 0.92), outline=ink, width=lw)
    patty = (96, 54, 32)
    pen.rounded_rect(0.06, 0.62, 0.94, 0.8, 0.08, fill=patty, outline=shade(patty, 0.6),
                     width=lw)
    for _ in range(5):
        u = rng.uniform(0.12, 0.88)
        pen.line([(u, 0.68), (u + 0.03, 0.74)], shade(patty, 0.7), lw)
    pen.polygon([(0.08, 0.58), (0.92, 0.58), (0.94, 0.64), (0.8, 0.64), (0.74, 0.76),
                 (0.68, 0.64), (0.3, 0.64), (0.24, 0.73), (0.18, 0.64), (0.06, 0.64)],
                fill=CHEESE, outline=shade(CHEESE, 0.7), width=lw * 0.7)
    pen.rounded_rect(0.1, 0.52, 0.9, 0.6, 0.05, fill=TOMATO, outline=shade(TOMATO, 0.6),
                     width=lw * 0.7)
    top = _wave(0.04, 0.96, 0.5, 0.012, 12)
    bot = _wave(0.96, 0.04, 0.56, 0.025, 12, 0.5)
    pen.polygon(top + bot, fill=LETTUCE, outline=shade(LETTUCE, 0.65), width=lw * 0.7)
    _ellipse(pen, 0.5, 0.52, 0.44, 0.48, fill=bun, outline=ink, width=lw, start=180, end=360,
             n=30)
    pen.rect(0.06, 0.48, 0.94, 0.52, fill=bun)
    _ellipse(pen, 0.36, 0.2, 0.14, 0.07, fill=shade(bun, 1.3), n=12)
    seed = (250, 240, 210)
    for i in range(9):
        t = math.radians(200 + 140 * (i + rng.uniform(0.1, 0.9)) / 9)
        r = rng.uniform(0.45, 0.85)
        u, v = 0.5 + 0.42 * r * math.cos(t), 0.5 + 0.44 * r * math.sin(t)
        _ellipse(pen, u, v, 0.022, 0.018, fill=seed, n=8)


def _sub(pen: Pen, rng: np.random.Generator, c: RGB, lw: float) -> None:
    bun = mix(c, (210, 150, 80), 0.35)
    ink = _ink(bun, 0.5)
    pen.rounded_rect(0.03, 0.6, 0.97, 0.94, 0.12, fill=shade(bun, 0.92), outline=ink, width=lw)
    meat = (214, 120, 120)
    pen.rect(0.06, 0.55, 0.94, 0.66, fill=meat, outline=shade(meat, 0.7), width=lw * 0.7)
    pen.polygon([(0.05, 0.52), (0.95, 0.52), (0.96, 0.58), (0.86, 0.58), (0.83, 0.66),
                 (0.8, 0.58), (0.05, 0.58)], fill=CHEESE, outline=shade(CHEESE, 0.7),
                width=lw * 0.7)
    for i in range(5):
        u = 0.14 + 0.18 * i + rng.uniform(-0.02, 0.02)
        _ellipse(pen, u, 0.52, 0.07, 0.1, fill=TOMATO, outline=shade(TOMATO, 0.6), width=lw * 0.7,
                 start=0, end=180, n=12)
    top = _wave(0.02, 0.98, 0.47, 0.015, 14)
    bot = _wave(0.98, 0.02, 0.54, 0.025, 14, 0.7)
    pen.polygon(top + bot, fill=LETTUCE, outline=shade(LETTUCE, 0.65), width=lw * 0.7)
    roll = [(0.04, 0.48)] + _arc(0.5, 0.48, 0.47, 0.32, 195, 345, 22) + [(0.96, 0.48)]
    pen.polygon(roll[:1] + [(0.02, 0.4)] + roll[1:-1] + [(0.98, 0.4)] + roll[-1:], fill=bun,
                outline=ink, width=lw)
    for i in range(3):
        u = 0.3 + 0.2 * i
        pen.line([(u - 0.05, 0.32), (u + 0.05, 0.2)], shade(bun, 1.25), lw * 1.5)
    _ellipse(pen, 0.3, 0.33, 0.12, 0.035, fill=shade(bun, 1.25), n=10)


# ---------------------------------------------------------------------------- dishware
def _cup(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Mug (0), coffee cup on a saucer (1), tall drinking glass (2)."""
    var = _variant(obj, "cup")
    c = obj.color
    lw = _lw(pen, 0.03)
    ink = _ink(c, 0.5)
    if var == 0:
        cu, ru, vt, vb, rv = 0.42, 0.34, 0.15, 0.88, 0.09
        handle = _arc(cu + ru, 0.5, 0.2, 0.24, -80, 80, 12)
        pen.line(handle, ink, 0.15)
        pen.line(handle, c, 0.09)
        _frustum(pen, cu, vt, ru, vb, ru, rv, c, ink, lw)
        pen.polygon([(cu - ru * 0.7, vt + 0.08), (cu - ru * 0.45, vt + 0.09),
                     (cu - ru * 0.45, vb + rv * 0.8), (cu - ru * 0.7, vb + rv * 0.6)],
                    fill=shade(c, 1.25))
        pen.polygon([(cu + ru * 0.72, vt + 0.06), (cu + ru, vt), (cu + ru, vb),
                     (cu + ru * 0.72, vb + rv * 0.7)], fill=shade(c, 0.85))
        _ellipse(pen, cu, vt, ru, rv, fill=shade(c, 0.8), outline=ink, width=lw, n=28)
        _ellipse(pen, cu, vt + rv * 0.25, ru * 0.84, rv * 0.6, fill=COFFEE, n=24)
        _ellipse(pen, cu - 0.08, vt + rv * 0.1, ru * 0.3, rv * 0.15, fill=shade(COFFEE, 1.35), n=10)
    elif var == 1:
        # saucer
        _ellipse(pen, 0.5, 0.86, 0.48, 0.1, fill=shade(c, 0.75), outline=ink, width=lw, n=28)
        _ellipse(pen, 0.5, 0.84, 0.48, 0.1, fill=c, outline=ink, width=lw, n=28)
        _ellipse(pen, 0.5, 0.84, 0.3, 0.05, fill=shade(c, 0.88), n=20)
        cu, vt, rut, rvt, vb, rub = 0.46, 0.4, 0.34, 0.09, 0.8, 0.2
        handle = _arc(cu + rut - 0.04, 0.53, 0.16, 0.12, -70, 90, 10)
        pen.line(handle, ink, 0.12)
        pen.line(handle, c, 0.07)
        _frustum(pen, cu, vt, rut, vb, rub, 0.05, c, ink, lw)
        pen.polygon([(cu - rut * 0.7, vt + 0.07), (cu - rut * 0.45, vt + 0.08),
                     (cu - rub * 0.45, vb), (cu - rub * 0.7, vb - 0.01)], fill=shade(c, 1.25))
        _ellipse(pen, cu, vt, rut, rvt, fill=shade(c, 0.8), outline=ink, width=lw, n=28)
        _ellipse(pen, cu, vt + rvt * 0.2, rut * 0.85, rvt * 0.65, fill=(196, 150, 100), n=24)
        _ellipse(pen, cu, vt + rvt * 0.25, rut * 0.55, rvt * 0.42, fill=COFFEE, n=18)
        steam = mix(WHITE, (170, 170, 175), 0.35)
        for du in (-0.1, 0.08):
            pen.line([(cu + du, vt - 0.05), (cu + du + 0.05, vt - 0.12), (cu + du, vt - 0.2),
                      (cu + du + 0.05, vt - 0.28)], steam, lw * 0.9)
    else:
        glass = mix(c, (222, 236, 244), 0.78)
        drinks = [(246, 160, 40), (245, 245, 238), (80, 40, 22), (238, 226, 130),
                  (180, 40, 70), (150, 200, 230)]
        drink = drinks[int(rng.integers(0, len(drinks)))]
        cu, vt, rut, rvt, vb, rub, rvb = 0.5, 0.14, 0.38, 0.07, 0.9, 0.3, 0.06
        gink = (120, 140, 155)
        _frustum(pen, cu, vt, rut, vb, rub, rvb, glass, gink, lw)
        lv = vt + 0.2 + rng.uniform(-0.04, 0.06)
        s = (lv - vt) / (vb - vt)
        rl = rut + (rub - rut) * s
        _frustum(pen, cu, lv, rl - 0.04, vb - 0.06, rub - 0.04, rvb, drink)
        _ellipse(pen, cu, lv, rl - 0.04, rvt * 0.9, fill=shade(drink, 1.2), n=22)
        _ellipse(pen, cu, vb - 0.03, rub - 0.02, rvb, fill=shade(glass, 0.93), n=18, start=0,
                 end=180)
        if rng.uniform() < 0.5:
            straw = [(200, 40, 40), (60, 140, 220), (250, 250, 250)][int(rng.integers(0, 3))]
            pen.line([(cu + 0.05, lv + 0.15), (cu + 0.2, 0.04)], straw, 0.07)
        _ellipse(pen, cu, vt, rut, rvt, outline=gink, width=lw, n=28)
        pen.line([(cu - rut * 0.7, vt + 0.12), (cu - rub * 0.72, vb - 0.06)], WHITE, 0.06)
        pen.line([(cu + rut * 0.6, vt + 0.1), (cu + rut * 0.55, vt + 0.3)], WHITE, 0.035)


def _plate(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Round plate with a rim (0) or a square plate (1), both seen from above-front."""
    var = _variant(obj, "plate")
    c = obj.color
    lw = _lw(pen, 0.02)
    ink = _ink(c, 0.6)
    well = shade(c, 0.92)
    band = None
    if rng.uniform() < 0.45:
        band = [(40, 80, 160), (180, 60, 50), (60, 130, 80), (200, 160, 60)][int(rng.integers(4))]
    if var == 0:
        cu, cv, ru, rv, th = 0.5, 0.44, 0.49, 0.38, 0.12
        _slab(pen, cu, cv, ru, rv, th, shade(c, 0.75), ink, lw)
        _ellipse(pen, cu, cv, ru, rv, fill=c, outline=ink, width=lw, n=40)
        if band is not None:
            _ellipse(pen, cu, cv, ru * 0.9, rv * 0.88, outline=band, width=lw * 1.2, n=40)
        _ellipse(pen, cu, cv + 0.03, ru * 0.66, rv * 0.6, fill=shade(c, 0.86), n=36)
        _ellipse(pen, cu, cv + 0.05, ru * 0.64, rv * 0.56, fill=well, n=36)
        pen.line(_arc(cu, cv, ru * 0.8, rv * 0.78, 200, 330, 10), shade(c, 1.3), lw * 1.4)
    else:
        i0, i1 = 0.08, 0.02
        top, front, th = 0.06, 0.82, 0.12
        pen.polygon([(0.0, front), (1.0, front), (1.0, front + th), (0.0, front + th)],
                    fill=shade(c, 0.75), outline=ink, width=lw)
        pen.polygon([(i0, top), (1 - i0, top), (1.0, front), (0.0, front)], fill=c, outline=ink,
                    width=lw)
        if band is not None:
            pen.polygon([(i0 + 0.04, top + 0.07), (1 - i0 - 0.04, top + 0.07),
                         (1 - i1 - 0.03, front - 0.07), (i1 + 0.03, front - 0.07)],
                        outline=band, width=lw * 1.2)
        pen.polygon([(i0 + 0.12, top + 0.2), (1 - i0 - 0.12, top + 0.2),
                     (1 - i1 - 0.12, front - 0.17), (i1 + 0.12, front - 0.17)],
                    fill=shade(c, 0.86))
        pen.polygon([(i0 + 0.125, top + 0.24), (1 - i0 - 0.125, top + 0.24),
                     (1 - i1 - 0.125, front - 0.19), (i1 + 0.125, front - 0.19)], fill=well)
        pen.line([(i0 + 0.05, top + 0.05), (1 - i0 - 0.05, top + 0.05)], shade(c, 1.3), lw * 1.4)


def _bowl(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Deep bowl of soup/cereal (0) or a wide bowl heaped with fruit/salad (1)."""
    var = _variant(obj, "bowl")
    c = obj.color
    lw = _lw(pen, 0.022)
    ink = _ink(c, 0.55)
    if var == 0:
        cu, cv, ru, rv, depth = 0.5, 0.3, 0.48, 0.2, 0.56
    else:
        cu, cv, ru, rv, depth = 0.5, 0.44, 0.49, 0.2, 0.42
    # foot, body (crescent below the rim), inside
    fv = cv + depth
    pen.polygon([(cu - 0.17, fv - 0.06), (cu + 0.17, fv - 0.06), (cu + 0.2, fv + 0.06),
                 (cu - 0.2, fv + 0.06)], fill=shade(c, 0.7), outline=ink, width=lw)
    body = _arc(cu, cv, ru, rv, 0, 180, 16) + _arc(cu, cv, ru, depth, 180, 0, 22)
    pen.polygon(body, fill=c, outline=ink, width=lw)
    pen.polygon(_arc(cu, cv, ru * 0.8, rv, 120, 160, 6) + _arc(cu, cv, ru * 0.8, depth * 0.8,
                                                                 160, 120, 6),
                fill=shade(c, 1.3))
    if rng.uniform() < 0.5:
        stripe = [(40, 80, 160), (180, 60, 50), (60, 130, 80)][int(rng.integers(3))]
        pen.line(_arc(cu, cv + 0.1, ru * 0.96, rv + 0.06, 10, 170, 14), stripe, lw * 1.6)
    _ellipse(pen, cu, cv, ru, rv, fill=shade(c, 0.78), outline=ink, width=lw, n=32)
    if var == 0:
        soups = [(220, 110, 40), (200, 60, 40), (120, 160, 60), (246, 240, 225), (170, 110, 60)]
        soup = soups[int(rng.integers(len(soups)))]
        _ellipse(pen, cu, cv + 0.03, ru * 0.88, rv * 0.72, fill=soup, n=28)
        _ellipse(pen, cu - 0.1, cv + 0.0, ru * 0.3, rv * 0.18, fill=shade(soup, 1.25), n=12)
        if soup == (246, 240, 225):  # cereal in milk
            for _ in range(10):
                t = rng.uniform(0, 2 * math.pi)
                r = math.sqrt(rng.uniform(0, 0.8))
                u, v = cu + ru * 0.8 * r * math.cos(t), cv + 0.03 + rv * 0.6 * r * math.sin(t)
                _ellipse(pen, u, v, 0.04, 0.03, fill=(214, 160, 70), outline=(160, 110, 40),
                         width=lw * 0.6, n=8)
        else:
            for _ in range(6):
                t = rng.uniform(0, 2 * math.pi)
                r = math.sqrt(rng.uniform(0, 0.8))
                u, v = cu + ru * 0.8 * r * math.cos(t), cv + 0.03 + rv * 0.6 * r * math.sin(t)
                _ellipse(pen, u, v, 0.02, 0.02, fill=(60, 130, 50), n=6)
    else:
        fruit = [(220, 50, 40), (250, 150, 40), (240, 210, 60), (110, 180, 60), (130, 50, 120)]
        salad = rng.uniform() < 0.4
        pen.polygon(_arc(cu, cv, ru * 0.9, rv * 0.8, 0, 180, 10)
                    + _arc(cu, cv, ru * 0.8, 0.36, 180, 360, 14),
                    fill=(80, 150, 50) if salad else shade(fruit[1], 0.8))
        for i in range(10):
            t = math.radians(190 + 160 * (i % 5) / 4 + rng.uniform(-8, 8))
            r = 0.55 if i < 5 else 0.2
            u = cu + ru * 0.85 * r * math.cos(t) * (1.3 if i < 5 else 1.0)
            v = cv + 0.05 + 0.4 * r * math.sin(t) + (0.0 if i < 5 else 0.02)
            col = fruit[int(rng.integers(len(fruit)))] if not salad else \
                [(100, 180, 60), (60, 140, 50), (214, 50, 38), (250, 240, 200)][i % 4]
            rr = rng.uniform(0.08, 0.11)
            _ellipse(pen, u, v, rr, rr * 1.6, fill=col, outline=shade(col, 0.6), width=lw * 0.7,
                     n=12)
        pen.line(_arc(cu, cv, ru, rv, 10, 170, 16), shade(c, 1.15), lw * 1.4)


# ---------------------------------------------------------------------------- table
# Geometry of each table variant in local units: (back edge v, front edge v,
# back-edge inset u) for the trapezoid tops; the cafe table is an ellipse.
_TABLE_GEOM: dict[int, tuple[float, float, float]] = {0: (0.02, 0.2, 0.07),
                                                        1: (0.02, 0.17, 0.05)}
_CAFE = (0.5, 0.13, 0.44, 0.11)  # cu, cv, ru, rv of the cafe table top


def table_top(obj: SceneObject) -> tuple[float, float, float]:
    """Where tabletop objects stand on ``obj`` (a table), in normalised image coordinates.

    Returns ``(y_surface, x_left, x_right)``: the height at which an object's bottom
    edge should sit (on the visible top band, a little below its back edge) and the
    horizontal extent available there. Depends only on ``obj``'s box and variant.
    """
    var = _variant(obj, "table")
    if var == 2:
        cu, cv, ru, rv = _CAFE
        vs = cv + 0.25 * rv
        half = ru * math.sqrt(1 - 0.25 ** 2) * 0.85
        u0, u1 = cu - half, cu + half
    else:
        vb, vf, inset = _TABLE_GEOM[var]
        t = 0.6
        vs = vb + (vf - vb) * t
        i = inset * (1 - t) + 0.04
        u0, u1 = i, 1 - i
    x0 = obj.x - obj.w / 2
    y0 = obj.y - obj.h / 2
    return (y0 + vs * obj.h, x0 + u0 * obj.w, x0 + u1 * obj.w)


def _table(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Dining table (0), desk with drawers (1), round cafe table (2)."""
    var = _variant(obj, "table")
    c = obj.color
    lw = _lw(pen, 0.01)
    ink = _ink(c, 0.45)
    top_col = shade(c, 1.08)
    leg = shade(c, 0.85)
    if var == 2:
        cu, cv, ru, rv = _CAFE
        metal = METAL if _lum(c) > 90 else (170, 170, 175)
        _ellipse(pen, cu, 0.95, 0.16, 0.035, fill=shade(metal, 0.8), outline=_ink(metal), width=lw,
                 n=20)
        pen.rect(cu - 0.025, cv + 0.1, cu + 0.025, 0.94, fill=metal, outline=_ink(metal),
                 width=lw)
        pen.rect(cu - 0.012, cv + 0.12, cu - 0.002, 0.92, fill=shade(metal, 1.4))
        pen.polygon([(cu - 0.06, cv + 0.1), (cu + 0.06, cv + 0.1), (cu + 0.03, cv + 0.2),
                     (cu - 0.03, cv + 0.2)], fill=metal)
        _slab(pen, cu, cv, ru, rv, 0.07, shade(c, 0.7), ink, lw)
        _ellipse(pen, cu, cv, ru, rv, fill=top_col, outline=ink, width=lw, n=40)
        pen.line(_arc(cu, cv, ru * 0.85, rv * 0.7, 200, 320, 10), shade(top_col, 1.15), lw * 2)
        return
    vb, vf, inset = _TABLE_GEOM[var]
    th = 0.05
    if var == 0:
        for u in (0.12, 0.86):  # back legs
            pen.rect(u, vf, u + 0.03, 0.88, fill=shade(leg, 0.7), outline=ink, width=lw)
        pen.rect(0.04, vf + th, 0.96, vf + th + 0.1, fill=shade(c, 0.62), outline=ink, width=lw)
        taper = 0.008
        for u in (0.035, 0.905):  # front legs
            pen.polygon([(u, vf + th), (u + 0.06, vf + th), (u + 0.06 - taper, 1.0),
                         (u + taper, 1.0)], fill=leg, outline=ink, width=lw)
            pen.rect(u + 0.04, vf + th, u + 0.06 - taper, 0.99, fill=shade(leg, 0.8))
    else:
        pen.rect(0.36, vf + th, 0.92, 0.6, fill=shade(c, 0.55), outline=ink, width=lw)
        pen.rect(0.91, vf + th, 0.97, 1.0, fill=leg, outline=ink, width=lw)
        pen.rect(0.03, vf + th, 0.37, 1.0, fill=shade(c, 0.92), outline=ink, width=lw)
        n = 3
        h = (1.0 - vf - th - 0.06) / n
        for i in range(n):
            d0 = vf + th + 0.02 + h * i
            pen.rect(0.05, d0, 0.35, d0 + h - 0.02, fill=c, outline=ink, width=lw)
            pen.rounded_rect(0.16, d0 + h * 0.4, 0.24, d0 + h * 0.4 + 0.03, 0.01, fill=METAL)
    # the top: a trapezoid band seen from slightly above, with its front edge
    pen.rect(0.0, vf, 1.0, vf + th, fill=shade(c, 0.75), outline=ink, width=lw)
    pen.polygon([(inset, vb), (1 - inset, vb), (1.0, vf), (0.0, vf)], fill=top_col, outline=ink,
                width=lw)
    grain = shade(top_col, 0.9)
    for _ in range(4):
        v = rng.uniform(vb + 0.03, vf - 0.03)
        s = (v - vb) / (vf - vb)
        i = inset * (1 - s)
        u0 = rng.uniform(i + 0.02, 0.5)
        pen.line([(u0, v), (min(1 - i - 0.02, u0 + rng.uniform(0.2, 0.45)), v)], grain, lw)
    pen.line([(inset + 0.02, vb + 0.015), (1 - inset - 0.02, vb + 0.015)], shade(top_col, 1.15),
             lw * 1.5)


# ---------------------------------------------------------------------------- chair
def _chair(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Wooden chair (0, three-quarter view), office chair (1), bar stool (2)."""
    var = _variant(obj, "chair")
    c = obj.color
    lw = _lw(pen, 0.02)
    ink = _ink(c, 0.45)
    if var == 0:
        _wooden_chair(pen, rng, c, ink, lw)
    elif var == 1:
        _office_chair(pen, rng, c, ink, lw)
    else:
        _stool(pen, rng, c, ink, lw)


def _wooden_chair(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    fl, fr, bl, br = 0.06, 0.7, 0.26, 0.9
    vf, vb, th, lg = 0.6, 0.5, 0.05, 0.1
    dark = shade(c, 0.7)
    # back legs and stretchers (behind the seat)
    pen.rect(br - lg, vb, br, 0.9, fill=dark, outline=ink, width=lw)
    pen.rect(bl, vb, bl + lg, 0.9, fill=dark, outline=ink, width=lw)
    pen.line([(fr - 0.04, 0.84), (br - 0.05, 0.76)], dark, 0.05)
    # backrest: two posts, top rail, slats
    pen.rect(bl, 0.02, bl + lg, vb, fill=c, outline=ink, width=lw)
    pen.rect(br - lg, 0.02, br, vb, fill=c, outline=ink, width=lw)
    pen.rounded_rect(bl - 0.02, 0.03, br + 0.02, 0.14, 0.04, fill=shade(c, 1.08), outline=ink,
                     width=lw)
    n = 3 if rng.uniform() < 0.5 else 2
    for i in range(n):
        u = bl + lg + (br - bl - 2 * lg) * (i + 0.5) / n
        pen.rect(u - 0.035, 0.14, u + 0.035, vb, fill=shade(c, 0.92), outline=ink, width=lw)
    # seat: top, front and side thickness
    pen.polygon([(fr, vf), (br, vb), (br, vb + th), (fr, vf + th)], fill=shade(c, 0.62),
                outline=ink, width=lw)
    pen.rect(fl, vf, fr, vf + th, fill=shade(c, 0.8), outline=ink, width=lw)
    pen.polygon([(fl, vf), (bl, vb), (br, vb), (fr, vf)], fill=shade(c, 1.12), outline=ink,
                width=lw)
    # front legs and stretcher
    pen.rect(fl, vf + th, fl + lg, 1.0, fill=shade(c, 0.9), outline=ink, width=lw)
    pen.rect(fr - lg, vf + th, fr, 1.0, fill=shade(c, 0.9), outline=ink, width=lw)
    pen.rect(fl + lg, 0.85, fr - lg, 0.88, fill=dark)


def _office_chair(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    dark = (44, 44, 48)
    # five-star base with casters
    hub = (0.5, 0.86)
    feet = [(0.06, 0.92), (0.94, 0.92), (0.26, 0.97), (0.74, 0.97), (0.5, 0.9)]
    for f in feet:
        pen.line([hub, f], dark, 0.07)
    for u, v in feet[:4]:
        _ellipse(pen, u, v + 0.02, 0.045, 0.02, fill=BLACK, n=10)
    pen.rect(0.46, 0.6, 0.54, 0.87, fill=(150, 150, 155), outline=dark, width=lw)
    pen.rect(0.475, 0.62, 0.49, 0.85, fill=(215, 215, 220))
    # backrest on its stem
    pen.rect(0.45, 0.4, 0.55, 0.55, fill=dark)
    pen.rounded_rect(0.16, 0.02, 0.84, 0.45, 0.25, fill=c, outline=ink, width=lw)
    pen.rounded_rect(0.24, 0.07, 0.76, 0.4, 0.2, fill=shade(c, 1.1))
    pen.line([(0.3, 0.24), (0.7, 0.24)], shade(c, 0.8), lw)
    # armrests
    for u in (0.08, 0.92):
        pen.line([(u, 0.58), (u, 0.4), (0.5 + (u - 0.5) * 0.7, 0.4)], dark, 0.06)
    # seat cushion
    pen.rounded_rect(0.1, 0.5, 0.9, 0.64, 0.06, fill=shade(c, 0.82), outline=ink, width=lw)
    _ellipse(pen, 0.5, 0.52, 0.38, 0.035, fill=shade(c, 1.05), n=20)


def _stool(pen: Pen, rng: np.random.Generator, c: RGB, ink: RGB, lw: float) -> None:
    wood = rng.uniform() < 0.5
    legc = shade(c, 0.7) if wood else (160, 160, 168)
    lin = _ink(legc, 0.5)
    cu, cv, ru, rv = 0.5, 0.1, 0.42, 0.075
    for a, b in (((0.4, 0.14), (0.33, 0.92)), ((0.6, 0.14), (0.67, 0.92))):
        pen.line([a, b], shade(legc, 0.75), 0.09)
    _ellipse(pen, cu, 0.66, 0.28, 0.05, outline=shade(legc, 0.8), width=0.05, n=24, start=180,
             end=360)
    for a, b in (((0.28, 0.15), (0.12, 0.99)), ((0.72, 0.15), (0.88, 0.99))):
        pen.line([a, b], lin, 0.11)
        pen.line([a, b], legc, 0.07)
    _ellipse(pen, cu, 0.66, 0.3, 0.055, outline=legc, width=0.05, n=24, start=0, end=180)
    _slab(pen, cu, cv, ru, rv, 0.06, shade(c, 0.7), ink, lw)
    _ellipse(pen, cu, cv, ru, rv, fill=c, outline=ink, width=lw, n=28)
    _ellipse(pen, cu - 0.08, cv - 0.01, ru * 0.5, rv * 0.45, fill=shade(c, 1.15), n=14)


# ---------------------------------------------------------------------------- bed
def _bed(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Bed seen from the side and a little above, headboard on the left.

    Variant 0: wooden frame with head- and footboard, striped blanket;
    variant 1: upholstered headboard, low platform, quilted duvet."""
    var = _variant(obj, "bed")
    c = obj.color
    lw = _lw(pen, 0.012)
    wood = [(150, 100, 60), (120, 80, 45), (90, 60, 40), (200, 170, 130)][int(rng.integers(4))]
    wink = _ink(wood, 0.5)
    sheet = mix(c, WHITE, 0.75)
    sink = _ink(sheet, 0.7)
    ink = _ink(c, 0.55)
    du, dv = 0.06, -0.16          # depth offset (towards the back)
    l, r, top, front = 0.08, 0.93, 0.5, 0.7   # mattress front face
    if var == 0:
        head = [(0.02, 0.2), (0.02 + du, 0.2 + dv), (0.02 + du + 0.05, 0.02), (0.07 + du, 0.6),
                (0.07, 0.76), (0.07, 0.95), (0.02, 0.95)]
        head = [(0.0, 0.14), (0.07, 0.04), (0.09, 0.04), (0.09, 0.8), (0.02, 0.95), (0.0, 0.95)]
        pen.polygon(head, fill=wood, outline=wink, width=lw)
        pen.polygon([(0.02, 0.12), (0.07, 0.06), (0.07, 0.7), (0.02, 0.78)],
                    fill=shade(wood, 1.15))
        frame = (0.7, 0.84)
    else:
        pen.rounded_rect(0.0, 0.02, 0.1, 0.78, 0.05, fill=shade(c, 0.7), outline=ink, width=lw)
        for v in (0.15, 0.3, 0.45, 0.6):
            _ellipse(pen, 0.05, v, 0.012, 0.02, fill=shade(c, 0.5), n=8)
        frame = (0.7, 0.8)
    # base / frame and legs
    pen.rect(l - 0.02, frame[0], r + 0.02, frame[1], fill=wood, outline=wink, width=lw)
    pen.polygon([(r + 0.02, frame[0]), (r + 0.02 + du, frame[0] + dv), (r + 0.02 + du,
                 frame[1] + dv), (r + 0.02, frame[1])], fill=shade(wood, 0.7), outline=wink,
                width=lw)
    for u in (l - 0.01, r - 0.02):
        pen.rect(u, frame[1], u + 0.03, 0.97 if var == 0 else 0.88, fill=shade(wood, 0.8),
                 outline=wink, width=lw)
    # mattress (sheet) top and front
    pen.polygon([(l, top), (r, top), (r + du, top + dv), (l + du, top + dv)], fill=sheet,
                outline=sink, width=lw)
    pen.rect(l, top, r, front, fill=shade(sheet, 0.93), outline=sink, width=lw)
    # pillow
    pu = l + 0.03
    pen.rounded_rect(pu, top + dv - 0.1, pu + 0.22, top + 0.02, 0.09,
                     fill=mix(sheet, WHITE, 0.5), outline=sink, width=lw)
    pen.line([(pu + 0.04, top - 0.06), (pu + 0.18, top - 0.1)], shade(sheet, 0.85), lw)
    # blanket: over the top from the fold to the foot, hanging down the front
    b0 = l + 0.27 + rng.uniform(-0.03, 0.03)
    hang = front + 0.06
    pen.polygon([(b0 + du, top + dv), (r + du + 0.01, top + dv), (r + 0.01, top - 0.01),
                 (r + 0.02, hang), (b0 - 0.02, hang + 0.01), (b0 - 0.01, top)], fill=c,
                outline=ink, width=lw)
    pen.polygon([(r + 0.01, top - 0.01), (r + du + 0.01, top + dv), (r + du + 0.01, hang + dv),
                 (r + 0.02, hang)], fill=shade(c, 0.75), outline=ink, width=lw)
    pen.polygon([(b0 + du, top + dv), (b0 + du + 0.06, top + dv), (b0 + 0.06, top),
                 (b0 + 0.05, hang), (b0 - 0.02, hang + 0.01), (b0 - 0.01, top)],
                fill=shade(c, 1.15), outline=ink, width=lw)
    pen.line([(b0 + 0.05, top + 0.005), (r + 0.01, top + 0.005)], shade(c, 0.82), lw * 1.5)
    if var == 0:
        stripe = shade(c, 0.7) if _lum(c) > 120 else shade(c, 1.4)
        for s in (0.35, 0.55, 0.75):
            u = b0 + 0.06 + (r - b0 - 0.06) * s
            pen.rect(u, top + 0.02, u + 0.04, hang - 0.005, fill=stripe)
            pen.polygon([(u, top), (u + 0.04, top), (u + 0.04 + du, top + dv),
                         (u + du, top + dv)], fill=shade(stripe, 1.1))
        pen.polygon([(r + 0.03, 0.4), (r + 0.03 + du, 0.4 + dv), (r + 0.03 + du, 0.88 + dv),
                     (r + 0.03, 0.97)], fill=wood, outline=wink, width=lw)
    else:
        q = shade(c, 0.85)
        for s in (0.25, 0.5, 0.75):
            u = b0 + 0.06 + (r - b0 - 0.06) * s
            pen.line([(u, top + 0.02), (u, hang - 0.01)], q, lw)
            pen.line([(u, top), (u + du, top + dv)], q, lw)
        pen.line([(b0 + 0.06, (top + hang) / 2), (r, (top + hang) / 2)], q, lw)


# ---------------------------------------------------------------------------- lamp
def _lamp(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Floor lamp (0): tall pole with a drum shade; desk lamp (1): jointed arm."""
    var = _variant(obj, "lamp")
    c = obj.color
    lw = _lw(pen, 0.025)
    ink = _ink(c, 0.55)
    glow = (255, 236, 150)
    bulb = (255, 250, 220)
    metal = (60, 60, 66) if _lum(c) > 100 else (190, 190, 196)
    mink = _ink(metal, 0.6)
    if var == 0:
        st, sb = 0.05, 0.28
        ut, ub = 0.26 + rng.uniform(-0.03, 0.03), 0.04
        _ellipse(pen, 0.5, 0.96, 0.36, 0.03, fill=shade(metal, 0.8), outline=mink, width=lw, n=20)
        _ellipse(pen, 0.5, 0.95, 0.3, 0.02, fill=metal, n=16)
        pen.rect(0.47, sb, 0.53, 0.95, fill=metal, outline=mink, width=lw * 0.6)
        pen.rect(0.485, sb + 0.02, 0.5, 0.93, fill=shade(metal, 1.5))
        # bulb glow below the shade
        _ellipse(pen, 0.5, sb + 0.01, 0.34, 0.035, fill=glow, n=18)
        _ellipse(pen, 0.5, sb + 0.012, 0.16, 0.022, fill=bulb, n=14)
        pts = [(ut, st), (1 - ut, st)] + _arc(0.5, sb, 0.5 - ub, 0.03, 0, 180, 14)
        pen.polygon(pts, fill=c, outline=ink, width=lw)
        pen.polygon([(ut + 0.05, st + 0.01), (ut + 0.14, st + 0.01), (ub + 0.2, sb),
                     (ub + 0.08, sb + 0.01)], fill=shade(c, 1.2))
        pen.polygon(_arc(0.5, sb, 0.5 - ub, 0.03, 0, 180, 14)
                    + _arc(0.5, sb - 0.03, 0.5 - ub - 0.02, 0.03, 180, 0, 14),
                    fill=mix(c, glow, 0.6))
        _ellipse(pen, 0.5, st, 0.5 - ut, 0.012, fill=shade(c, 0.7), outline=ink, width=lw * 0.6,
                 n=16)
    else:
        base = (0.45, 0.95)
        joint = (0.2 + rng.uniform(-0.04, 0.04), 0.52)
        tip = (0.52, 0.2)
        _ellipse(pen, base[0], base[1], 0.4, 0.035, fill=shade(c, 0.6), outline=ink, width=lw,
                 n=20)
        _ellipse(pen, base[0], base[1] - 0.01, 0.36, 0.03, fill=c, n=18)
        pen.line([(base[0], base[1] - 0.02), joint, tip], _ink(c, 0.7), 0.13)
        pen.line([(base[0], base[1] - 0.02), joint, tip], shade(c, 0.9), 0.07)
        _ellipse(pen, *joint, 0.09, 0.035, fill=metal, n=12)
        # conical head pointing down-right, opening glowing
        hu, hv = tip
        pen.polygon([(hu - 0.12, hv - 0.05), (hu + 0.08, hv - 0.09), (hu + 0.44, hv + 0.05),
                     (hu + 0.26, hv + 0.16)], fill=c, outline=ink, width=lw)
        _ellipse(pen, hu + 0.35, hv + 0.105, 0.1, 0.055, fill=bulb, outline=glow, width=lw * 2,
                 n=14)
        pen.polygon([(hu - 0.06, hv - 0.05), (hu + 0.08, hv - 0.075), (hu + 0.16, hv - 0.05),
                     (hu, hv - 0.03)], fill=shade(c, 1.25))
        _ellipse(pen, *tip, 0.06, 0.025, fill=metal, n=10)


DRAWERS: dict[str, Drawer] = {
    "pizza": _pizza,
    "fruit": _fruit,
    "cake": _cake,
    "sandwich": _sandwich,
    "cup": _cup,
    "plate": _plate,
    "bowl": _bowl,
    "table": _table,
    "chair": _chair,
    "bed": _bed,
    "lamp": _lamp,
}
