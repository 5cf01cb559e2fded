"""Drawers for outdoor categories: architecture, nature, "stuff" regions and vehicles.

Categories: building, window, door, tree, flower, grass, sky, cloud, sun, water,
mountain, road, car, bicycle, boat, surfboard.

"Stuff" regions (sky, grass, water, road) fill their whole box; everything else
is drawn inside its box in the local (u, v) frame of the :class:`Pen`. Round
shapes use the box's pixel aspect ``obj.w / obj.h`` so circles stay circular.
Vehicles face right (+u); ``obj.flip`` mirrors them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from braincause.synth.categories import CATEGORIES
from braincause.synth.pen import Pen, mix, shade
from braincause.synth.scene import SceneObject

RGB = tuple[int, int, int]
Point = tuple[float, float]
Drawer = Callable[[Pen, SceneObject, np.random.Generator], None]

WHITE: RGB = (250, 250, 248)
SNOW: RGB = (246, 248, 252)
DARK: RGB = (35, 35, 40)
TYRE: RGB = (30, 30, 32)
STEEL: RGB = (175, 178, 185)
GLASS: RGB = (150, 190, 220)
BARK: RGB = (110, 75, 45)
STEM: RGB = (60, 130, 50)
CREAM: RGB = (242, 234, 212)


# ---------------------------------------------------------------------------- helpers
def _variant(obj: SceneObject) -> int:
    """The object's style index, modulo its category's number of variants."""
    return int(obj.variant) % max(1, CATEGORIES[obj.category].variants)


def _asp(obj: SceneObject) -> float:
    """Pixel aspect (width / height) used for round shapes.

    The box's true aspect, clamped to within 1.2x of the category's typical aspect: near
    the typical shape circles stay circular, and in oddly shaped boxes they squash instead
    of spilling out of the box.
    """
    tw, th = CATEGORIES[obj.category].size
    typ = tw / th
    true = obj.w / obj.h if obj.h > 0 else typ
    return min(max(true, typ / 1.2), typ * 1.2)


def _circle(pen: Pen, asp: float, cu: float, cv: float, r: float, fill: RGB | None = None,
            outline: RGB | None = None, width: float = 0.0, n: int = 24) -> None:
    """True circle of radius ``r`` (local v units) centred at (cu, cv)."""
    pen.ellipse(cu, cv, r / asp, r, fill=fill, outline=outline, width=width, n=n)


def _ring(pen: Pen, asp: float, cu: float, cv: float, r_out: float, r_in: float, fill: RGB,
          start: float = 0.0, end: float = 360.0, n: int = 24) -> None:
    """Annulus (or an arc band from ``start`` to ``end`` degrees) as one polygon; radii in v
    units. Much cheaper than a thick round-jointed outline."""
    ts = np.radians(np.linspace(start, end, n + 1)).tolist()
    outer = [(cu + r_out * math.cos(t) / asp, cv + r_out * math.sin(t)) for t in ts]
    inner = [(cu + r_in * math.cos(t) / asp, cv + r_in * math.sin(t)) for t in reversed(ts)]
    pen.polygon(outer + inner, fill=fill)


def _oval(cu: float, cv: float, a: float, b: float, theta: float, asp: float,
          n: int = 12) -> list[Point]:
    """Ellipse with semi-axes ``a`` (along ``theta`` degrees) and ``b``, in v units."""
    ct, st = math.cos(math.radians(theta)), math.sin(math.radians(theta))
    pts: list[Point] = []
    for k in range(n):
        t = 2 * math.pi * k / n
        x, y = a * math.cos(t), b * math.sin(t)
        pts.append((cu + (x * ct - y * st) / asp, cv + x * st + y * ct))
    return pts


def _vgrad(pen: Pen, u0: float, v0: float, u1: float, v1: float, c0: Sequence[float],
           c1: Sequence[float], n: int) -> None:
    """Vertical gradient from ``c0`` (top) to ``c1`` (bottom) in ``n`` bands."""
    step = (v1 - v0) / n
    for i in range(n):
        a = v0 + step * i
        b = v1 if i == n - 1 else a + step * 1.02
        pen.rect(u0, a, u1, b, fill=mix(c0, c1, i / max(1, n - 1)))


def _contrast(c: Sequence[float]) -> RGB:
    """A dark or light colour that stands out against ``c``."""
    lum = 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]
    return (40, 45, 60) if lum > 150 else CREAM


def _lum(c: Sequence[float]) -> float:
    return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]


def _pane(pen: Pen, u0: float, v0: float, u1: float, v1: float, glass: RGB,
          frame: RGB | None, fw: float = 0.0, cross: bool = False) -> None:
    """A small window: optional frame, glass with a diagonal glint, optional cross bars."""
    if frame is not None:
        du = (u1 - u0) * 0.12
        dv = (v1 - v0) * 0.1
        pen.rect(u0 - du, v0 - dv, u1 + du, v1 + dv, fill=frame)
    pen.rect(u0, v0, u1, v1, fill=glass)
    hi = shade(glass, 1.35)
    pen.polygon([(u0, v0 + (v1 - v0) * 0.55), (u0 + (u1 - u0) * 0.55, v0),
                 (u0 + (u1 - u0) * 0.8, v0), (u0, v0 + (v1 - v0) * 0.85)], fill=hi)
    if cross and frame is not None and fw > 0:
        pen.line([((u0 + u1) / 2, v0), ((u0 + u1) / 2, v1)], frame, fw)
        pen.line([(u0, (v0 + v1) / 2), (u1, (v0 + v1) / 2)], frame, fw)


# ---------------------------------------------------------------------------- sky
def draw_sky(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Fills the box. 0: clear sky gradient; 1: sunset (cool above, warm at the bottom)."""
    c = obj.color
    if _variant(obj) == 0:
        _vgrad(pen, 0, 0, 1, 1, shade(c, 0.8), shade(c, 1.4), 12)
        return
    top = mix(c, (55, 60, 130), 0.6)
    mid = mix(c, (235, 120, 120), 0.45)
    bot = mix(c, (255, 205, 110), 0.65)
    _vgrad(pen, 0, 0, 1, 0.55, top, mid, 7)
    _vgrad(pen, 0, 0.55, 1, 1, mid, bot, 6)
    # thin streaks of lit cloud low in the sky
    for _ in range(int(rng.integers(3, 6))):
        cu, cv = rng.uniform(0.05, 0.95), rng.uniform(0.45, 0.9)
        ru, rv = rng.uniform(0.08, 0.22), rng.uniform(0.006, 0.016)
        col = mix(mid, (255, 170, 150), rng.uniform(0.2, 0.7))
        pen.ellipse(cu, cv, ru, rv, fill=col, n=16)


# ---------------------------------------------------------------------------- grass
def _tufts(v: float, bottom: float, height: float, tooth: float, lean: float,
           rng: np.random.Generator, irregular: float) -> list[Point]:
    """A strip whose top edge is a row of blade tips (one polygon = many blades)."""
    pts: list[Point] = [(-0.01, bottom)]
    u = -0.01 - rng.uniform(0, tooth)
    jit = rng.uniform(1 - irregular, 1.0, int(1.05 / tooth) + 3)
    k = 0
    while u < 1.01:
        pts.append((u, v))
        pts.append((u + tooth * (0.5 + lean), v - height * jit[k]))
        u += tooth
        k += 1
    pts += [(1.01, v), (1.01, bottom)]
    return pts


def draw_grass(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Fills the box with rows of blade tufts. 0: lawn, short even blades; 1: meadow, tall
    uneven leaning blades."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    far, near = mix(shade(c, 1.12), (170, 190, 160), 0.15), shade(c, 0.8)
    rows = 5
    tall = 1.0 if var == 0 else 1.9
    vs = [0.05 + 0.97 * ((r + 0.6) / rows) ** 1.35 for r in range(rows)]
    pen.rect(0, 0, 1, vs[0] + 0.01, fill=far)
    for r, v in enumerate(vs):
        bottom = min(1.0, vs[r + 1] + 0.01) if r + 1 < rows else 1.0
        height = (0.05 + 0.11 * v) * tall
        tooth = max(height * 0.45 / asp, 1 / 32)
        lean = rng.uniform(-0.3, 0.3) if var == 1 else 0.0
        col = mix(far, near, v) if r % 2 == 0 else shade(mix(far, near, v), 0.84)
        # body as a cheap rectangle, blade tips as a thin strip (PIL's fill cost grows
        # with vertices x scanlines)
        pen.rect(0, v, 1, bottom, fill=col)
        pen.polygon(_tufts(v, v + 0.01, height, tooth, lean, rng, 0.2 if var == 0 else 0.65),
                    fill=col)
    n = 30 if var == 0 else 24
    r = rng.random((5, n))
    vs_b = np.sort(0.05 + 0.97 * r[0])
    for v, ru, rs, rb, rc in zip(vs_b.tolist(), *r[1:].tolist(), strict=True):
        u = -0.01 + 1.02 * ru
        size = (0.05 + 0.12 * v) * tall * (0.8 + 0.5 * rs)
        bend = (rb - 0.5) * 1.2 * size / asp
        col = shade(c, 0.6 + 0.8 * rc)
        pen.line([(u, v), (u + bend * 0.3, v - size * 0.55), (u + bend, v - size)], col,
                 0.006 + 0.012 * v)


# ---------------------------------------------------------------------------- water
def draw_water(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Fills the box. 0: calm lake with ripples and glints; 1: sea with rows of peaked wave
    crests, foam streaks and a breaking wave in front."""
    c = obj.color
    if _variant(obj) == 0:
        _vgrad(pen, 0, 0, 1, 1, shade(c, 1.35), shade(c, 0.85), 6)
        light, dark = shade(c, 1.6), shade(c, 0.7)
        n = 42
        r = rng.random((3, n))
        for k, (ru, rl, rc) in enumerate(zip(*r.tolist(), strict=True)):
            v = ((k // 3 + 0.5) / (n // 3)) ** 1.4
            u = -0.05 + 1.05 * ru
            length = (0.04 + 0.18 * v) * (0.6 + 0.8 * rl)
            pen.line([(u, v), (u + length, v)], light if rc < 0.55 else dark,
                     0.006 + 0.016 * v)
        # a sky reflection glint
        gu = 0.25 + 0.5 * float(rng.random())
        for k in range(4):
            v = 0.12 + 0.2 * k
            w = 0.02 + 0.025 * k
            pen.line([(gu - w, v), (gu + w, v)], (240, 248, 255), 0.006 + 0.007 * k)
        return
    deep = mix(shade(c, 0.72), (20, 40, 90), 0.2)
    shallow = mix(c, (90, 200, 205), 0.4)
    foam = (238, 246, 250)
    pen.rect(0, 0, 1, 0.07, fill=deep)
    rows = [0.06, 0.15, 0.26, 0.4, 0.56, 0.74]
    r = rng.random((len(rows), 7)).tolist()
    for i, v in enumerate(rows):
        ri = r[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else 1.0
        amp = 0.015 + 0.07 * v
        period = 0.1 + 0.2 * v
        phase = period * ri[0]
        m = min(28, int(4.2 / period))
        edge: list[Point] = []
        for k in range(m + 1):
            u = -0.02 + 1.04 * k / m
            h = 1 - abs(math.sin(math.pi * (u - phase) / period))
            edge.append((u, v - amp * h ** 1.6))
        face = mix(mix(deep, shallow, v), (120, 205, 215), 0.25)
        body = mix(deep, shallow, v + 0.1)
        # body as a rectangle, the lit wave face as a thin strip under the crest line
        pen.rect(0, v, 1, min(1.0, nxt + 0.01), fill=body)
        pen.polygon(edge + [(u, y + amp * 0.5) for u, y in reversed(edge)], fill=face)
        pen.line(edge, mix(foam, face, 0.3 + 0.3 * (1 - i / 5)), 0.006 + 0.014 * v)
        for k in range(3):
            wu = ri[1 + 2 * k]
            wv = v + (0.2 + 0.5 * ri[2 + 2 * k]) * (nxt - v)
            pen.line([(wu, wv), (wu + period * 0.3, wv)], mix(foam, face, 0.3),
                     0.006 + 0.012 * v)
    # breaking wave: a foam band near the bottom with a scalloped edge, and spray
    vb = 0.84
    jit = rng.random((2, 16)).tolist()
    edge = [(-0.01, 1.0), (-0.01, vb)]
    u = 0.0
    k = 0
    while u < 1.0:
        step = 0.05 + 0.05 * jit[0][k]
        edge.append((u + step * 0.5, vb - (0.04 if k % 2 == 0 else -0.015) - 0.03 * jit[1][k]))
        u += step
        k += 1
    edge += [(1.01, vb), (1.01, 1.0)]
    pen.polygon([(x, min(1.0, y + 0.035)) for x, y in edge], fill=shade(foam, 0.88))
    pen.polygon(edge, fill=foam)
    pen.polygon([(x, min(1.0, y + 0.09)) for x, y in edge], fill=mix(foam, shallow, 0.45))
    spray = rng.random((2, 8)).tolist()
    for su, sv in zip(*spray, strict=True):
        sv = vb - 0.1 + 0.07 * sv
        pen.line([(su, sv), (su + 0.004, sv - 0.012)], foam, 0.012)


# ---------------------------------------------------------------------------- road
def draw_road(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Fills the box: asphalt with perspective lane markings. 0: straight; 1: with crosswalk."""
    c = obj.color
    var = _variant(obj)

    def hw(v: float) -> float:
        return 0.34 + 0.16 * v

    def at(s: float, v: float) -> Point:
        return (0.5 + s * hw(v), v)

    _vgrad(pen, 0, 0, 1, 1, shade(c, 1.18), shade(c, 0.9), 4)
    # pavement beyond the kerbs (only visible towards the top)
    walk = mix(c, (200, 195, 185), 0.45)
    for sgn in (-1, 1):
        pen.polygon([(0.5 + sgn * 0.5, 0), at(sgn * 1.0, 0), at(sgn * 1.0, 1.0)], fill=walk)
        pen.line([at(sgn * 1.0, 0), at(sgn * 1.0, 1)], shade(walk, 0.7), 0.02)
    # worn wheel tracks and asphalt texture
    for s in (-0.55, 0.45):
        pen.polygon([at(s, 0), at(s + 0.12, 0), at(s + 0.12, 1), at(s, 1)], fill=shade(c, 0.93))
    crack, patch = shade(c, 0.75), shade(c, 1.2)
    for rs, rv, rl, rd, rc in zip(*rng.random((5, 14)).tolist(), strict=True):
        v = 0.05 + 0.93 * rv
        u0 = at(-0.9 + 1.8 * rs, v)[0]
        ln = (0.01 + 0.03 * rl) * (0.5 + v)
        pen.line([(u0, v), (u0 + ln, v - 0.02 + 0.04 * rd)], crack if rc < 0.5 else patch, 0.008)
    white = (236, 236, 232)
    # edge lines
    for sgn in (-1, 1):
        pen.polygon([at(sgn * 0.9, 0), at(sgn * 0.93, 0), at(sgn * 0.93, 1), at(sgn * 0.9, 1)],
                    fill=white)
    # centre dashes, getting longer towards the viewer
    cw0 = 0.02 if var == 0 else 0.016
    band = (0.5, 0.8)
    v = 1.02
    length = 0.2
    centre = (240, 200, 60) if var == 0 else white
    while v > 0:
        va, vb = max(0.0, v - length), v
        if var == 0 or vb < band[0] - 0.02 or va > band[1] + 0.02:
            pen.polygon([at(-cw0, va), at(cw0, va), at(cw0, vb), at(-cw0, vb)], fill=centre)
        v -= length * 1.8
        length *= 0.68
    if var == 1:
        # zebra crossing: stripes pointing at the vanishing point
        n = 8
        for k in range(n):
            s0 = -0.86 + k * (1.72 / n)
            s1 = s0 + 1.72 / n * 0.55
            pen.polygon([at(s0, band[0]), at(s1, band[0]), at(s1, band[1]), at(s0, band[1])],
                        fill=white)
        # stop line
        pen.polygon([at(0.0, band[1] + 0.05), at(0.9, band[1] + 0.05), at(0.9, band[1] + 0.08),
                     at(0.0, band[1] + 0.08)], fill=white)


# ---------------------------------------------------------------------------- mountain
def _peak(pen: Pen, rng: np.random.Generator, pu: float, pv: float, hwid: float, rock: RGB,
          snow: bool) -> None:
    """One peak with a lit left face, shaded right face and an optional snow cap."""
    n = 5
    left: list[Point] = []
    right: list[Point] = []
    for k in range(1, n):
        t = k / n
        jit = rng.uniform(-0.02, 0.02)
        left.append((pu - hwid * t + jit, pv + (1 - pv) * t + rng.uniform(-0.03, 0.03)))
        right.append((pu + hwid * t + jit, pv + (1 - pv) * t + rng.uniform(-0.03, 0.03)))
    ridge_u = pu + hwid * 0.25
    pen.polygon([(pu, pv), *left, (pu - hwid, 1.0), (ridge_u, 1.0)], fill=shade(rock, 1.12))
    pen.polygon([(pu, pv), *right, (pu + hwid, 1.0), (ridge_u, 1.0)], fill=shade(rock, 0.78))
    pen.line([(pu, pv), (pu + hwid * 0.1, pv + (1 - pv) * 0.4), (ridge_u, 1.0)],
             shade(rock, 0.62), 0.012)
    if snow:
        f = rng.uniform(0.28, 0.38)
        sv = pv + (1 - pv) * f
        su0, su1 = pu - hwid * f, pu + hwid * f
        zig: list[Point] = []
        m = 5
        for k in range(m + 1):
            u = su0 + (su1 - su0) * k / m
            zig.append((u, sv + (0.06 if k % 2 else -0.01) * (1 - pv)))
        pen.polygon([(pu, pv), *zig[::-1]], fill=SNOW)
        mid_u = pu + hwid * f * 0.25
        shadow = [(pu, pv)] + [p for p in zig if p[0] >= mid_u] + [(mid_u, sv + 0.02)]
        pen.polygon(shadow[:1] + shadow[1:][::-1], fill=(200, 212, 228))


def draw_mountain(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """0: single snow-capped peak; 1: range of three snowy peaks; 2: two rocky peaks with
    forested foothills."""
    rock = obj.color
    var = _variant(obj)
    haze = (185, 200, 220)
    if var == 0:
        _peak(pen, rng, rng.uniform(0.45, 0.55), rng.uniform(0.02, 0.08), 0.5, rock, True)
    elif var == 1:
        _peak(pen, rng, rng.uniform(0.2, 0.3), rng.uniform(0.2, 0.3), 0.3, mix(rock, haze, 0.35),
              True)
        _peak(pen, rng, rng.uniform(0.72, 0.8), rng.uniform(0.12, 0.2), 0.3,
              mix(rock, haze, 0.25), True)
        _peak(pen, rng, rng.uniform(0.45, 0.55), rng.uniform(0.0, 0.05), 0.34, rock, True)
    else:
        _peak(pen, rng, rng.uniform(0.62, 0.72), rng.uniform(0.05, 0.12), 0.38,
              mix(rock, haze, 0.3), False)
        _peak(pen, rng, rng.uniform(0.3, 0.38), rng.uniform(0.15, 0.22), 0.36, rock, False)
        # forested foothills
        green = mix(rock, (60, 100, 55), 0.6)
        hills: list[Point] = [(0.0, 1.0)]
        for k in range(9):
            u = k / 8
            hills.append((u, 0.78 + 0.06 * math.sin(k * 1.7 + rng.uniform(0, 1))))
        hills.append((1.0, 1.0))
        pen.polygon(hills, fill=green)
        for _ in range(9):
            tu = rng.uniform(0.02, 0.98)
            tv = rng.uniform(0.8, 0.95)
            pen.polygon([(tu, tv - 0.09), (tu - 0.018, tv), (tu + 0.018, tv)],
                        fill=shade(green, 0.7))


# ---------------------------------------------------------------------------- building
def building_sign_box(obj: SceneObject) -> tuple[float, float, float, float, float]:
    """Where a sign (a ``printed_text`` part) goes on this building's facade.

    Returns ``(x, y, w, h, angle)``: the sign's box centre and size in normalised
    *image* coordinates and its rotation in degrees (the building's). The building
    drawer paints a blank sign board there. Depends only on ``obj`` geometry and
    variant (not on the seed).
    """
    return obj.local_box_to_image(*_SIGN_LOCAL[_variant(obj)])


#: Local (u0, v0, u1, v1) of the sign per building variant (text area inside the board).
_SIGN_LOCAL: dict[int, tuple[float, float, float, float]] = {
    0: (0.34, 0.56, 0.66, 0.63),    # house: name plate above the door
    1: (0.24, 0.045, 0.76, 0.115),  # office: rooftop parapet sign
    2: (0.3, 0.775, 0.7, 0.835),    # apartments: board above the entrance
    3: (0.14, 0.505, 0.86, 0.585),  # shop: fascia above the awning
}


#: Dark sign-board colours (the sampler writes building signs in white).
SIGN_BOARDS: tuple[RGB, ...] = ((35, 45, 75), (30, 80, 60), (110, 35, 40), (40, 40, 46))


def _sign_board(pen: Pen, variant: int, board: RGB) -> None:
    """Blank board (with a light rim) where :func:`building_sign_box` puts the sign text."""
    u0, v0, u1, v1 = _SIGN_LOCAL[variant]
    du, dv = (u1 - u0) * 0.04, (v1 - v0) * 0.15
    pen.rect(u0 - du, v0 - dv, u1 + du, v1 + dv, fill=mix(board, (235, 230, 215), 0.6))
    pen.rect(u0, v0, u1, v1, fill=board)


def _glass(rng: np.random.Generator, base: RGB = (120, 160, 195)) -> RGB:
    """Window glass with varying reflections (some windows lit)."""
    r = rng.random()
    if r < 0.12:
        return (240, 215, 140)
    return mix(base, (215, 232, 245), rng.uniform(0.0, 0.55))


def draw_building(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """0: house with pitched roof; 1: office block with a grid of windows; 2: apartment block
    with balconies; 3: shop front with striped awning and fascia sign."""
    c = obj.color
    var = _variant(obj)
    dark = shade(c, 0.62)
    frame = WHITE if _lum(c) < 200 else (90, 85, 80)
    board = SIGN_BOARDS[int(rng.integers(len(SIGN_BOARDS)))]
    if var == 0:
        roof = (150, 62, 48) if abs(c[0] - 160) + abs(c[1] - 80) > 60 else (85, 80, 85)
        pen.rect(0.08, 0.42, 0.92, 1.0, fill=c)
        pen.rect(0.08, 0.42, 0.14, 1.0, fill=shade(c, 1.1))
        pen.rect(0.86, 0.42, 0.92, 1.0, fill=shade(c, 0.85))
        # chimney, roof, tiles
        pen.rect(0.68, 0.1, 0.78, 0.3, fill=(140, 90, 70))
        pen.rect(0.665, 0.08, 0.795, 0.12, fill=(110, 70, 55))
        apex = rng.uniform(0.03, 0.08)
        pen.polygon([(0.0, 0.46), (0.5, apex), (1.0, 0.46)], fill=roof)
        pen.polygon([(0.5, apex), (1.0, 0.46), (0.5, 0.46)], fill=shade(roof, 0.82))
        for t in (0.35, 0.65):
            v = apex + (0.46 - apex) * t
            pen.line([(0.5 - 0.5 * t, v), (0.5 + 0.5 * t, v)], shade(roof, 0.65), 0.01)
        pen.rect(0.0, 0.455, 1.0, 0.48, fill=shade(roof, 0.6))
        # gable window
        asp = _asp(obj)
        _circle(pen, asp, 0.5, 0.33, 0.055, fill=frame)
        _circle(pen, asp, 0.5, 0.33, 0.04, fill=_glass(rng))
        # door and windows
        _sign_board(pen, 0, board)
        door = (120, 70, 40) if _lum(c) > 110 else (200, 60, 50)
        pen.rect(0.4, 0.68, 0.6, 1.0, fill=shade(door, 0.7))
        pen.rect(0.415, 0.695, 0.585, 1.0, fill=door)
        pen.rect(0.44, 0.72, 0.56, 0.82, fill=shade(door, 0.85))
        _circle(pen, asp, 0.56, 0.86, 0.012, fill=(220, 190, 90))
        for u0 in (0.15, 0.67):
            _pane(pen, u0, 0.58, u0 + 0.18, 0.8, _glass(rng), frame, 0.012, cross=True)
            pen.rect(u0 - 0.03, 0.8, u0 + 0.21, 0.83, fill=shade(frame, 0.85))
        pen.rect(0.06, 0.985, 0.94, 1.0, fill=dark)
    elif var == 1:
        pen.rect(0.1, 0.03, 0.9, 1.0, fill=c)
        pen.rect(0.78, 0.03, 0.9, 1.0, fill=shade(c, 0.82))
        pen.rect(0.08, 0.0, 0.92, 0.16, fill=shade(c, 0.9))
        _sign_board(pen, 1, board)
        cols, rows = 4, 7
        gbase = mix((110, 150, 190), c, 0.15)
        for r in range(rows):
            v0 = 0.2 + r * 0.09
            for k in range(cols):
                u0 = 0.15 + k * 0.185
                pen.rect(u0, v0, u0 + 0.14, v0 + 0.06, fill=_glass(rng, gbase))
        # floor bands and entrance
        pen.rect(0.1, 0.84, 0.9, 0.86, fill=dark)
        pen.rect(0.36, 0.87, 0.64, 1.0, fill=(60, 70, 85))
        pen.rect(0.38, 0.89, 0.62, 1.0, fill=mix(GLASS, (60, 70, 85), 0.3))
        pen.line([(0.5, 0.89), (0.5, 1.0)], (60, 70, 85), 0.012)
        pen.rect(0.33, 0.855, 0.67, 0.875, fill=shade(c, 0.5))
    elif var == 2:
        pen.rect(0.08, 0.08, 0.92, 1.0, fill=c)
        pen.rect(0.05, 0.04, 0.95, 0.1, fill=shade(c, 0.75))
        pen.rect(0.7, 0.0, 0.82, 0.04, fill=shade(c, 0.6))
        rail = shade(c, 0.55) if _lum(c) > 120 else shade(c, 1.5)
        for r in range(4):
            v0 = 0.15 + r * 0.15
            for k in range(3):
                u0 = 0.14 + k * 0.27
                _pane(pen, u0, v0, u0 + 0.18, v0 + 0.1, _glass(rng), None)
                pen.rect(u0 - 0.03, v0 + 0.085, u0 + 0.21, v0 + 0.125, fill=rail)
                pen.line([(u0 - 0.03, v0 + 0.085), (u0 + 0.21, v0 + 0.085)],
                         shade(rail, 0.7), 0.012)
        _sign_board(pen, 2, board)
        pen.rect(0.38, 0.86, 0.62, 1.0, fill=(70, 60, 55))
        pen.rect(0.4, 0.88, 0.6, 1.0, fill=mix(GLASS, (70, 60, 55), 0.35))
        pen.line([(0.5, 0.88), (0.5, 1.0)], (70, 60, 55), 0.012)
    else:
        pen.rect(0.04, 0.14, 0.96, 1.0, fill=c)
        pen.rect(0.02, 0.1, 0.98, 0.16, fill=shade(c, 0.72))
        for k in range(3):
            u0 = 0.12 + k * 0.29
            _pane(pen, u0, 0.22, u0 + 0.18, 0.4, _glass(rng), frame, 0.012, cross=True)
        _sign_board(pen, 3, board)
        # striped awning with a scalloped edge
        stripe_a = (200, 45, 45) if rng.random() < 0.5 else (40, 120, 80)
        if abs(stripe_a[0] - c[0]) + abs(stripe_a[1] - c[1]) < 90:
            stripe_a = (40, 90, 170)
        n = 8
        for k in range(n):
            u0, u1 = 0.06 + k * 0.88 / n, 0.06 + (k + 1) * 0.88 / n
            col = stripe_a if k % 2 == 0 else (245, 242, 235)
            pen.polygon([(u0 + 0.01, 0.61), (u1 + 0.01, 0.61), (u1, 0.69), (u0, 0.69)],
                        fill=col)
            pen.ellipse((u0 + u1) / 2, 0.69, (u1 - u0) / 2, 0.022, fill=col, start=0,
                        end=180, n=12)
        # shop window with display and door
        pen.rect(0.08, 0.73, 0.62, 0.98, fill=shade(c, 0.6))
        pen.rect(0.1, 0.75, 0.6, 0.95, fill=mix(GLASS, (40, 50, 60), 0.25))
        pen.polygon([(0.12, 0.95), (0.3, 0.75), (0.38, 0.75), (0.2, 0.95)],
                    fill=mix(GLASS, WHITE, 0.45))
        for k in range(3):
            pen.rect(0.16 + k * 0.14, 0.88, 0.24 + k * 0.14, 0.95,
                     fill=(200, 170, 90) if k % 2 else (180, 90, 80))
        pen.rect(0.68, 0.72, 0.9, 1.0, fill=shade(c, 0.55))
        pen.rect(0.7, 0.74, 0.88, 1.0, fill=mix(GLASS, (40, 50, 60), 0.35))
        _circle(pen, _asp(obj), 0.72, 0.87, 0.012, fill=(210, 190, 100))
        pen.rect(0.02, 0.975, 0.98, 1.0, fill=shade(c, 0.5))


# ---------------------------------------------------------------------------- window
def draw_window(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """A single large wall window; obj.color is the glass/sky tint. 0: four-pane casement with
    sill; 1: with curtains and rod; 2: arched sash window."""
    glass = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    frames = [(246, 246, 242), (236, 230, 218), (140, 95, 60)]
    frame = frames[int(rng.integers(len(frames)))]
    fd = shade(frame, 0.72)
    top = 0.04 if var != 2 else 0.18
    # outer frame and glass
    if var == 2:
        pen.ellipse(0.5, top + 0.02, 0.44, 0.19, fill=fd, start=180, end=360, n=24)
        pen.ellipse(0.5, top + 0.02, 0.4, 0.16, fill=frame, start=180, end=360, n=24)
    pen.rect(0.06, top, 0.94, 0.9, fill=fd)
    pen.rect(0.09, top + 0.01, 0.91, 0.885, fill=frame)
    gu0, gv0, gu1, gv1 = 0.15, top + 0.04, 0.85, 0.85
    if var == 2:
        pen.ellipse(0.5, gv0, 0.35, 0.13, fill=shade(glass, 0.9), start=180, end=360, n=24)
    _vgrad(pen, gu0, gv0, gu1, gv1, shade(glass, 0.88), shade(glass, 1.3), 4)
    # reflections
    for d in (0.0, 0.12):
        pen.polygon([(gu0 + d, gv1 - 0.1), (gu0 + 0.32 + d, gv0 + 0.08),
                     (gu0 + 0.38 + d, gv0 + 0.08), (gu0 + 0.06 + d, gv1 - 0.1)],
                    fill=mix(glass, WHITE, 0.55))
    # muntins
    bar = 0.04
    pen.line([(0.5, gv0 - (0.12 if var == 2 else 0)), (0.5, gv1)], frame, bar)
    if var == 2:
        for k in (1, 2):
            v = gv0 + (gv1 - gv0) * k / 3
            pen.line([(gu0, v), (gu1, v)], frame, bar * 0.7)
        for ang in (215, 325):
            t = math.radians(ang)
            pen.line([(0.5, gv0), (0.5 + 0.35 * math.cos(t), gv0 + 0.13 * math.sin(t))],
                     frame, bar * 0.6)
        pen.line([(gu0, gv0), (gu1, gv0)], frame, bar * 0.8)
    else:
        pen.line([(gu0, (gv0 + gv1) / 2), (gu1, (gv0 + gv1) / 2)], frame, bar)
    # latch
    _circle(pen, asp, 0.5, (gv0 + gv1) / 2 + 0.05, 0.015, fill=(190, 170, 110))
    # sill with a shadow
    pen.rect(0.02, 0.9, 0.98, 0.95, fill=frame)
    pen.rect(0.04, 0.95, 0.96, 0.975, fill=fd)
    if var == 1:
        curtain = [(200, 60, 60), (60, 100, 170), (230, 200, 120), (120, 160, 110),
                   (170, 120, 190)][int(rng.integers(5))]
        pen.rect(0.0, 0.0, 1.0, 0.035, fill=(110, 80, 50))
        _circle(pen, asp, 0.02, 0.018, 0.03, fill=(90, 65, 40))
        _circle(pen, asp, 0.98, 0.018, 0.03, fill=(90, 65, 40))
        for side in (0, 1):
            s = 1 if side == 0 else -1
            e = 0.0 if side == 0 else 1.0
            pts = [(e, 0.03), (e + s * 0.3, 0.03), (e + s * 0.2, 0.45), (e + s * 0.12, 0.55),
                   (e + s * 0.2, 0.72), (e + s * 0.26, 0.92), (e, 0.92)]
            pen.polygon(pts, fill=curtain)
            for f in (0.08, 0.17):
                pen.line([(e + s * f, 0.05), (e + s * f * 0.6, 0.5), (e + s * f, 0.9)],
                         shade(curtain, 0.75), 0.03)
            pen.line([(e + s * 0.04, 0.53), (e + s * 0.16, 0.55)], shade(curtain, 0.55), 0.05)


# ---------------------------------------------------------------------------- door
def draw_door(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """obj.color is the door colour. 0: six-panel door with knob; 1: half-glazed door with
    lever; 2: arched plank door with iron straps and ring."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    casing = (236, 232, 224) if _lum(c) < 170 else (120, 90, 60)
    brass = (214, 180, 80)
    top = 0.02 if var != 2 else 0.13
    if var == 2:
        pen.ellipse(0.5, top + 0.01, 0.5, 0.13, fill=shade(casing, 0.85), start=180, end=360,
                    n=24)
        pen.ellipse(0.5, top + 0.01, 0.4, 0.105, fill=c, start=180, end=360, n=24)
    pen.rect(0.0, top, 1.0, 0.97, fill=shade(casing, 0.85))
    pen.rect(0.05, top, 0.95, 0.97, fill=casing)
    pen.rect(0.1, top + 0.01, 0.9, 0.97, fill=c)
    pen.rect(0.1, top + 0.01, 0.14, 0.97, fill=shade(c, 1.12))
    pen.rect(0.86, top + 0.01, 0.9, 0.97, fill=shade(c, 0.8))
    if var == 0:
        rows = [(0.07, 0.3), (0.36, 0.6), (0.66, 0.93)]
        for v0, v1 in rows:
            for u0 in (0.2, 0.54):
                pen.rect(u0, v0, u0 + 0.26, v1, fill=shade(c, 0.7))
                pen.rect(u0 + 0.03, v0 + 0.012, u0 + 0.26, v1, fill=shade(c, 1.08))
                pen.rect(u0 + 0.05, v0 + 0.025, u0 + 0.23, v1 - 0.015, fill=c)
        _circle(pen, asp, 0.8, 0.54, 0.055, fill=shade(brass, 0.7))
        _circle(pen, asp, 0.8, 0.535, 0.04, fill=brass)
        _circle(pen, asp, 0.79, 0.528, 0.015, fill=shade(brass, 1.4))
    elif var == 1:
        g0, g1 = 0.08, 0.45
        pen.rect(0.18, g0, 0.82, g1, fill=shade(c, 0.65))
        _vgrad(pen, 0.21, g0 + 0.012, 0.79, g1 - 0.012, (170, 205, 230), (215, 232, 245), 3)
        pen.polygon([(0.25, g1 - 0.05), (0.55, g0 + 0.03), (0.62, g0 + 0.03),
                     (0.32, g1 - 0.05)], fill=(235, 244, 250))
        pen.line([(0.5, g0), (0.5, g1)], c, 0.05)
        pen.line([(0.18, (g0 + g1) / 2), (0.82, (g0 + g1) / 2)], c, 0.05)
        for v0, v1 in ((0.52, 0.7), (0.75, 0.93)):
            pen.rect(0.2, v0, 0.8, v1, fill=shade(c, 0.72))
            pen.rect(0.23, v0 + 0.01, 0.8, v1, fill=shade(c, 1.07))
            pen.rect(0.25, v0 + 0.02, 0.77, v1 - 0.012, fill=c)
        pen.rect(0.76, 0.47, 0.8, 0.53, fill=(150, 150, 155))
        pen.line([(0.78, 0.495), (0.62, 0.495)], (200, 200, 205), 0.06)
        pen.rect(0.38, 0.715, 0.62, 0.735, fill=brass)
    else:
        for k in range(1, 5):
            u = 0.1 + 0.8 * k / 5
            pen.line([(u, top - 0.02 if 0.3 < u < 0.7 else top + 0.02), (u, 0.96)],
                     shade(c, 0.65), 0.025)
        iron = (45, 45, 48)
        for v in (0.25, 0.78):
            pen.rect(0.1, v, 0.7, v + 0.03, fill=iron)
            _circle(pen, asp, 0.7, v + 0.015, 0.03, fill=iron)
        pen.rect(0.38, 0.1, 0.62, 0.18, fill=iron)
        for u in (0.46, 0.54):
            pen.line([(u, 0.1), (u, 0.18)], (150, 150, 150), 0.02)
        pen.ellipse(0.75, 0.55, 0.1, 0.045, outline=iron, width=0.04, n=16)
        _circle(pen, asp, 0.75, 0.5, 0.03, fill=iron)
    # step / threshold
    pen.rect(-0.02, 0.965, 1.02, 1.0, fill=(150, 148, 145))
    pen.rect(-0.02, 0.965, 1.02, 0.975, fill=(190, 188, 185))


# ---------------------------------------------------------------------------- tree
def draw_tree(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """obj.color is the foliage. 0: deciduous (trunk, branches, round leafy crown);
    1: conifer (stacked serrated triangles); 2: palm (curved ringed trunk, fronds, coconuts)."""
    leaf = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    if var == 0:
        # trunk and branches
        pen.polygon([(0.42, 1.0), (0.46, 0.5), (0.54, 0.5), (0.58, 1.0)], fill=BARK)
        pen.polygon([(0.51, 0.5), (0.54, 0.5), (0.57, 1.0), (0.52, 1.0)], fill=shade(BARK, 0.7))
        pen.line([(0.48, 0.62), (0.3, 0.42)], BARK, 0.035)
        pen.line([(0.52, 0.58), (0.7, 0.4)], BARK, 0.035)
        cx, cy = 0.5, 0.36
        ru, rv = 0.48 * asp, 0.3  # crown semi-axes, v units
        rb = 0.45 * min(ru, rv)
        blobs: list[tuple[float, float, float]] = []
        jit = rng.random((3, 9)).tolist()
        for k in range(8):
            a = 2 * math.pi * k / 8 + 0.5 * (jit[0][k] - 0.5)
            rr = rb * (0.85 + 0.2 * jit[1][k])
            blobs.append((cx + (ru - rr) * math.cos(a) / asp, cy + (rv - rr) * math.sin(a), rr))
        blobs.append((cx, cy, rb * 1.45))
        for bu, bv, rr in blobs:
            _circle(pen, asp, bu + 0.03 * rr / asp, bv + 0.25 * rr, rr, fill=shade(leaf, 0.68),
                    n=18)
        for (bu, bv, rr), f in zip(blobs, jit[2], strict=True):
            _circle(pen, asp, bu, bv, rr * 0.93, fill=shade(leaf, 0.9 + 0.15 * f), n=18)
        for bu, bv, rr in blobs:
            if bv < cy - 0.02:
                _circle(pen, asp, bu - 0.25 * rr / asp, bv - 0.25 * rr, rr * 0.45,
                        fill=shade(leaf, 1.22), n=14)
    elif var == 1:
        needle = mix(leaf, (20, 70, 50), 0.35)
        pen.rect(0.45, 0.82, 0.55, 1.0, fill=BARK)
        pen.rect(0.5, 0.82, 0.55, 1.0, fill=shade(BARK, 0.7))
        tiers = [(0.9, 0.46, 0.45), (0.7, 0.38, 0.27), (0.5, 0.3, 0.1), (0.3, 0.2, -0.04)]
        for base, hwid, apex in tiers:
            jag: list[Point] = []
            m = 6
            for k in range(m + 1):
                u = 0.5 - hwid + 2 * hwid * k / m
                jag.append((u, base + (0.025 if k % 2 else -0.01)))
            pen.polygon([(0.5, apex), *jag], fill=needle)
            pen.polygon([(0.5, apex), *[p for p in jag if p[0] >= 0.5]],
                        fill=shade(needle, 0.72))
            pen.line([(0.5, apex + 0.05), (0.5 - hwid * 0.6, base - 0.03)], shade(needle, 1.25),
                     0.02)
    else:
        trunk = (170, 130, 80)
        bend = rng.uniform(0.12, 0.2)
        spine = [(0.5 + bend * (1 - t) ** 2 - bend * 0.3, 0.22 + 0.78 * t)
                 for t in np.linspace(0, 1, 7)]
        left = [(u - 0.035 - 0.03 * (v - 0.22), v) for u, v in spine]
        right = [(u + 0.035 + 0.03 * (v - 0.22), v) for u, v in spine]
        pen.polygon(left + right[::-1], fill=trunk)
        pen.polygon([(u, v) for u, v in spine] + right[::-1], fill=shade(trunk, 0.78))
        for u, v in spine[1:]:
            w = 0.04 + 0.03 * (v - 0.22)
            pen.line([(u - w, v), (u + w, v - 0.01)], shade(trunk, 0.6), 0.02)
        top = spine[0]
        fronds = [(-170, 0.42), (-145, 0.4), (-115, 0.3), (-70, 0.3), (-35, 0.4), (-10, 0.42),
                  (160, 0.3), (20, 0.3)]
        for ang, ln in fronds:
            a = math.radians(ang)
            pts_top: list[Point] = []
            pts_bot: list[Point] = []
            for k in range(6):
                t = k / 5
                droop = 0.5 * t * t * ln
                x = top[0] + math.cos(a) * ln * t / asp * 0.55
                y = top[1] + math.sin(a) * ln * t * 0.6 + droop
                wid = 0.06 * math.sin(math.pi * min(t * 1.1, 1.0)) + 0.004
                pts_top.append((x, y - wid))
                pts_bot.append((x, y + wid))
            pen.polygon(pts_top + pts_bot[::-1], fill=shade(leaf, rng.uniform(0.8, 1.1)))
            pen.line([((a0[0] + b0[0]) / 2, (a0[1] + b0[1]) / 2)
                      for a0, b0 in zip(pts_top, pts_bot, strict=True)],
                     shade(leaf, 0.6), 0.012)
        for du, dv in ((-0.04, 0.03), (0.03, 0.035), (0.0, 0.055)):
            _circle(pen, asp, top[0] + du, top[1] + dv, 0.022, fill=(95, 65, 35), n=12)


# ---------------------------------------------------------------------------- flower
def draw_flower(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """obj.color is the petal colour. 0: daisy (ring of petals, disc); 1: tulip (cup of pointed
    petals); 2: rose (layered round petals with a spiral)."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    hu, hv = 0.5 + rng.uniform(-0.04, 0.04), 0.3
    edge = shade(c, 0.7) if _lum(c) > 200 else shade(c, 0.6)
    # stem and leaves
    pen.line([(0.5, 1.0), (0.48 + rng.uniform(-0.03, 0.03), 0.65), (hu, hv)], STEM, 0.07)
    lean = rng.uniform(-10, 10)
    pen.polygon(_oval(0.62, 0.72, 0.14, 0.045, -35 + lean, asp, 12), fill=shade(STEM, 1.15))
    pen.polygon(_oval(0.38, 0.8, 0.13, 0.04, 215 + lean, asp, 12), fill=shade(STEM, 0.9))
    if var == 0:
        n = 10
        off = rng.uniform(0, 36)
        for k in range(n):
            a = off + 360 * k / n
            ra = math.radians(a)
            pen.polygon(_oval(hu + 0.17 * math.cos(ra) / asp, hv + 0.17 * math.sin(ra),
                              0.13, 0.05, a, asp, 10), fill=c, outline=edge, width=0.012)
        centre = (200, 150, 30) if c[2] > 120 or c[1] < 180 else (120, 70, 30)
        _circle(pen, asp, hu, hv, 0.085, fill=centre, n=18)
        _circle(pen, asp, hu - 0.02 / asp, hv - 0.02, 0.035, fill=shade(centre, 1.35), n=12)
    elif var == 1:
        w = 0.16 / asp * 1.2
        pen.polygon([(hu - w, hv - 0.12), (hu - w * 0.5, hv - 0.04), (hu, hv - 0.16),
                     (hu + w * 0.5, hv - 0.04), (hu + w, hv - 0.12), (hu + w * 0.95, hv + 0.06),
                     (hu + w * 0.5, hv + 0.15), (hu - w * 0.5, hv + 0.15),
                     (hu - w * 0.95, hv + 0.06)], fill=shade(c, 0.8), outline=edge,
                    width=0.012)
        pen.polygon([(hu - w * 0.55, hv - 0.02), (hu, hv - 0.2), (hu + w * 0.55, hv - 0.02),
                     (hu + w * 0.45, hv + 0.14), (hu - w * 0.45, hv + 0.14)], fill=c,
                    outline=edge, width=0.012)
        pen.line([(hu - w * 0.2, hv - 0.1), (hu - w * 0.25, hv + 0.08)], shade(c, 1.35), 0.025)
    else:
        for k in range(6):
            a = math.radians(60 * k + rng.uniform(0, 30))
            _circle(pen, asp, hu + 0.1 * math.cos(a) / asp, hv + 0.1 * math.sin(a), 0.085,
                    fill=shade(c, 0.82), outline=edge, width=0.01, n=14)
        _circle(pen, asp, hu, hv, 0.13, fill=c, outline=edge, width=0.012, n=20)
        spiral: list[Point] = []
        for k in range(14):
            t = k / 13
            a = t * 4 * math.pi
            r = 0.11 * (1 - t) + 0.01
            spiral.append((hu + r * math.cos(a) / asp, hv + r * math.sin(a) * 0.9))
        pen.line(spiral, shade(c, 0.6), 0.022)
        pen.ellipse(hu - 0.04 / asp, hv - 0.06, 0.04 / asp, 0.02, fill=shade(c, 1.3), n=10)


# ---------------------------------------------------------------------------- cloud
def draw_cloud(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Fluffy overlapping puffs, grey underside. 0: cumulus; 1: long low cloud bank;
    2: small cloud with a darker rain-grey base."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    under = mix(c, (150, 160, 180), 0.45 if var == 2 else 0.25)
    if var == 0:
        puffs = [(0.2, 0.62, 0.28), (0.38, 0.45, 0.4), (0.6, 0.4, 0.45), (0.8, 0.58, 0.3)]
    elif var == 1:
        puffs = [(0.1 + 0.16 * k, 0.6 - 0.15 * math.sin(math.pi * k / 5) + rng.uniform(-0.04, 0.04),
                  0.22 + 0.14 * math.sin(math.pi * k / 5) + rng.uniform(-0.03, 0.03))
                 for k in range(6)]
    else:
        puffs = [(0.28, 0.58, 0.3), (0.5, 0.42, 0.4), (0.72, 0.58, 0.3)]
    puffs = [(u + rng.uniform(-0.02, 0.02), v, r * rng.uniform(0.92, 1.05)) for u, v, r in puffs]
    base_v = 0.88
    # flat base and shaded underside
    pen.rounded_rect(0.06, 0.55, 0.94, base_v, 0.16, fill=under)
    for u, v, r in puffs:
        r = min(r, base_v - v + 0.02)
        _circle(pen, asp, u, v + 0.05, r, fill=under, n=22)
    for u, v, r in puffs:
        r = min(r, base_v - v)
        _circle(pen, asp, u - 0.01, v - 0.02, r * 0.92, fill=c, n=22)
    hi = mix(c, WHITE, 0.45)
    for u, v, r in puffs[1:-1] if len(puffs) > 3 else puffs:
        _circle(pen, asp, u - 0.02, v - r * 0.25, r * 0.6, fill=hi, n=16)
    if var == 2:
        pen.rounded_rect(0.1, 0.78, 0.9, 0.92, 0.07, fill=shade(under, 0.9))


# ---------------------------------------------------------------------------- sun
def draw_sun(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """0: bright disc with rays; 1: large glowing sunset disc, no rays."""
    c = obj.color
    asp = _asp(obj)
    if _variant(obj) == 0:
        n = 12
        off = rng.uniform(0, 30)
        ray = mix(c, (255, 170, 40), 0.35)
        for k in range(n):
            a = math.radians(off + 360 * k / n)
            r1 = 0.49 if k % 2 == 0 else 0.42
            da = math.radians(7)
            pts = [(0.5 + 0.3 * math.cos(a - da) / asp, 0.5 + 0.3 * math.sin(a - da)),
                   (0.5 + r1 * math.cos(a) / asp, 0.5 + r1 * math.sin(a)),
                   (0.5 + 0.3 * math.cos(a + da) / asp, 0.5 + 0.3 * math.sin(a + da))]
            pen.polygon(pts, fill=ray)
        _circle(pen, asp, 0.5, 0.5, 0.33, fill=mix(c, WHITE, 0.45), n=28)
        _circle(pen, asp, 0.5, 0.5, 0.29, fill=c, n=28)
        _circle(pen, asp, 0.45, 0.45, 0.14, fill=mix(c, WHITE, 0.5), n=18)
        return
    edge = mix(c, (235, 80, 40), 0.6)
    _circle(pen, asp, 0.5, 0.5, 0.5, fill=mix(c, (255, 200, 160), 0.6), n=32)
    _circle(pen, asp, 0.5, 0.5, 0.42, fill=mix(c, (255, 170, 120), 0.5), n=32)
    for k, r in enumerate((0.36, 0.3, 0.23, 0.15)):
        _circle(pen, asp, 0.5, 0.5 + 0.02 * (3 - k), r, fill=mix(edge, mix(c, WHITE, 0.4),
                                                                   k / 3), n=28)


# ---------------------------------------------------------------------------- car
def _wheel(pen: Pen, asp: float, cu: float, cv: float, r: float, rim: RGB) -> None:
    _circle(pen, asp, cu, cv, r * 1.12, fill=(25, 25, 28), n=24)
    _circle(pen, asp, cu, cv, r, fill=TYRE, n=24)
    _circle(pen, asp, cu, cv, r * 0.58, fill=rim, n=20)
    _circle(pen, asp, cu, cv, r * 0.45, fill=shade(rim, 0.75), n=16)
    for k in range(5):
        a = math.radians(72 * k + 18)
        pen.line([(cu, cv), (cu + r * 0.45 * math.cos(a) / asp, cv + r * 0.45 * math.sin(a))],
                 rim, 0.035)
    _circle(pen, asp, cu, cv, r * 0.14, fill=shade(rim, 1.2), n=10)


def draw_car(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Side view facing right. 0: sedan (hood, cabin, boot); 1: hatchback; 2: van / SUV."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    glass = (140, 175, 205)
    trim = (45, 45, 50)
    rim = (200, 202, 208)
    if var == 0:
        body = [(0.02, 0.8), (0.01, 0.52), (0.05, 0.45), (0.25, 0.42), (0.33, 0.4), (0.42, 0.1),
                (0.64, 0.09), (0.76, 0.38), (0.95, 0.46), (0.99, 0.55), (0.99, 0.8)]
        win = [(0.36, 0.4), (0.44, 0.15), (0.63, 0.14), (0.73, 0.4)]
        pillar_u = 0.545
        wheels, r = (0.2, 0.8), 0.21
        door_us = (0.36, 0.545, 0.73)
    elif var == 1:
        body = [(0.04, 0.8), (0.03, 0.46), (0.1, 0.36), (0.18, 0.12), (0.58, 0.1), (0.7, 0.38),
                (0.93, 0.45), (0.99, 0.55), (0.99, 0.8)]
        win = [(0.12, 0.38), (0.21, 0.16), (0.57, 0.15), (0.67, 0.39)]
        pillar_u = 0.4
        wheels, r = (0.2, 0.79), 0.22
        door_us = (0.3, 0.66)
    else:
        body = [(0.02, 0.78), (0.02, 0.12), (0.06, 0.04), (0.7, 0.04), (0.84, 0.34),
                (0.96, 0.4), (0.99, 0.5), (0.99, 0.78)]
        win = [(0.07, 0.38), (0.07, 0.12), (0.68, 0.11), (0.8, 0.38)]
        pillar_u = 0.0
        wheels, r = (0.2, 0.79), 0.24
        door_us = (0.32, 0.62)
    # dark wheel wells behind the body
    for wu in wheels:
        _circle(pen, asp, wu, 0.78, r * 1.2, fill=(30, 30, 34), n=22)
    pen.polygon(body, fill=c)
    # lower body shading and shoulder highlight
    pen.polygon([(0.02, 0.66), (0.99, 0.66), (0.99, 0.8), (0.02, 0.8)], fill=shade(c, 0.78))
    shoulder = 0.5 if var != 2 else 0.45
    pen.line([(0.05, shoulder), (0.95, shoulder)], shade(c, 1.35), 0.03)
    # windows
    pen.polygon(win, fill=glass)
    pen.polygon([win[0], (win[0][0] + 0.06, win[0][1]), (win[1][0] + 0.12, win[1][1]),
                 (win[1][0] + 0.06, win[1][1])], fill=(200, 220, 235))
    if var == 2:
        for pu in (0.3, 0.52):
            pen.line([(pu, 0.11), (pu, 0.39)], c, 0.05)
        pen.line([(0.08, 0.03), (0.68, 0.03)], trim, 0.03)
    else:
        pen.line([(pillar_u, win[1][1]), (pillar_u, 0.41)], c, 0.05)
    # doors, handles, sill
    for du in door_us:
        pen.line([(du, 0.42), (du, 0.75)], shade(c, 0.6), 0.012)
    for du in door_us[:-1]:
        pen.rect(du + 0.03, 0.47, du + 0.07, 0.5, fill=shade(c, 0.55))
    # lights and bumpers
    pen.polygon([(0.95, 0.48), (0.99, 0.52), (0.99, 0.6), (0.93, 0.58)], fill=(250, 240, 190))
    pen.rect(0.01, 0.5 if var != 2 else 0.42, 0.035, 0.62, fill=(210, 40, 35))
    pen.rect(0.0, 0.7, 0.08, 0.78, fill=trim)
    pen.rect(0.92, 0.7, 1.0, 0.78, fill=trim)
    pen.rect(0.09, 0.76, 0.91, 0.8, fill=shade(c, 0.55))
    # wheels
    for wu in wheels:
        _wheel(pen, asp, wu, 0.79, r, rim)


# ---------------------------------------------------------------------------- bicycle
def draw_bicycle(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Side view facing right, obj.color is the frame. 0: road bike (diamond frame, drop bars);
    1: city bike (step-through frame, upright bars, mudguards, basket)."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    r = 0.33
    du = min(0.27, 0.49 - (r + 0.03) / asp)
    rear, front = (0.5 - du, 0.64), (0.5 + du, 0.64)
    tyre = (28, 28, 30) if _lum(c) > 50 else (70, 70, 75)
    spoke = (180, 182, 188)
    off = rng.uniform(0, 45)
    for cu, cv in (rear, front):
        _ring(pen, asp, cu, cv, r + 0.028, r - 0.028, tyre, n=28)
        _ring(pen, asp, cu, cv, r * 0.86 + 0.008, r * 0.86 - 0.008, (150, 152, 158), n=24)
        for k in range(4):
            a = math.radians(off + 45 * k)
            dx, dy = r * 0.85 * math.cos(a) / asp, r * 0.85 * math.sin(a)
            pen.line([(cu - dx, cv - dy), (cu + dx, cv + dy)], spoke, 0.008)
        _circle(pen, asp, cu, cv, 0.03, fill=(90, 90, 95), n=10)
    bb = (0.47, 0.66)
    seat_top = (0.38, 0.22)
    head_top, head_bot = (0.7, 0.25), (0.72, 0.36)
    fw = 0.042
    if var == 0:
        seat_c = (0.4, 0.3)
        lines = [(rear, bb), (rear, seat_c), (seat_c, bb), (seat_c, head_top), (bb, head_bot),
                 (head_top, head_bot)]
    else:
        seat_c = (0.41, 0.33)
        lines = [(rear, bb), (rear, seat_c), (seat_c, bb), (head_bot, (0.55, 0.58)),
                 ((0.55, 0.58), bb), (head_top, head_bot)]
        # mudguards
        for cu, cv in (rear, front):
            _ring(pen, asp, cu, cv, r * 1.08 + 0.012, r * 1.08 - 0.012, shade(c, 0.8),
                  start=195 if cu < 0.5 else 190, end=345 if cu < 0.5 else 320, n=14)
    for p0, p1 in lines:
        pen.line([p0, p1], c, fw)
    pen.line([head_bot, front], shade(c, 0.8), fw * 0.9)
    # seat post and saddle
    pen.line([seat_c, seat_top], (60, 60, 65), 0.03)
    su, sv = seat_top
    pen.polygon([(su - 0.07, sv - 0.03), (su + 0.06, sv - 0.02), (su + 0.05, sv + 0.015),
                 (su - 0.06, sv + 0.02)], fill=(35, 30, 30))
    # stem and handlebar
    if var == 0:
        pen.line([head_top, (0.72, 0.2), (0.78, 0.2)], (60, 60, 65), 0.03)
        pen.line([(0.78, 0.2), (0.82, 0.24), (0.81, 0.31), (0.77, 0.32)], (40, 40, 45), 0.035)
    else:
        pen.line([head_top, (0.71, 0.12)], (60, 60, 65), 0.03)
        pen.line([(0.64, 0.14), (0.71, 0.12), (0.76, 0.1)], (40, 40, 45), 0.035)
        pen.rect(0.75, 0.14, 0.9, 0.3, fill=(170, 130, 80))
        for u in (0.8, 0.85):
            pen.line([(u, 0.14), (u, 0.3)], (130, 95, 55), 0.012)
        pen.line([(0.75, 0.22), (0.9, 0.22)], (130, 95, 55), 0.012)
    # chainring, crank, pedal, chain
    _circle(pen, asp, bb[0], bb[1], 0.07, fill=(150, 150, 158), outline=(90, 90, 95),
            width=0.015, n=18)
    pen.line([(rear[0], rear[1] - 0.03), (bb[0], bb[1] - 0.07)], (80, 80, 85), 0.01)
    pen.line([(rear[0], rear[1] + 0.03), (bb[0], bb[1] + 0.07)], (80, 80, 85), 0.01)
    ca = math.radians(rng.uniform(30, 150))
    pe = (bb[0] + 0.12 * math.cos(ca) / asp, bb[1] + 0.12 * math.sin(ca))
    pen.line([bb, pe], (60, 60, 65), 0.028)
    pen.rect(pe[0] - 0.03, pe[1] - 0.012, pe[0] + 0.03, pe[1] + 0.012, fill=(40, 40, 45))


# ---------------------------------------------------------------------------- boat
def draw_boat(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Side view facing right, obj.color is the hull. 0: sailboat (mast, mainsail, jib);
    1: motor boat (cabin, windscreen, outboard, wake); 2: rowing boat with oars."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    stripe = _contrast(c) if _lum(c) > 150 else WHITE
    sea_foam = (235, 244, 248)
    if var == 0:
        sail = CREAM if _lum(c) > 200 else WHITE
        sail_edge = shade(sail, 0.75)
        pen.line([(0.47, 0.72), (0.47, 0.02)], (90, 80, 70), 0.035)
        pen.polygon([(0.45, 0.05), (0.45, 0.66), (0.12, 0.66), (0.24, 0.4)], fill=sail,
                    outline=sail_edge, width=0.015)
        pen.polygon([(0.45, 0.05), (0.45, 0.66), (0.33, 0.66)], fill=shade(sail, 0.88))
        pen.polygon([(0.5, 0.1), (0.84, 0.66), (0.5, 0.66), (0.56, 0.4)], fill=sail,
                    outline=sail_edge, width=0.015)
        pen.line([(0.12, 0.67), (0.47, 0.67)], (90, 80, 70), 0.03)
        pen.polygon([(0.47, 0.02), (0.56, 0.045), (0.47, 0.07)], fill=(210, 50, 40))
        hull = [(0.04, 0.7), (0.98, 0.68), (0.86, 0.92), (0.14, 0.92)]
        pen.polygon(hull, fill=c)
        pen.polygon([(0.04, 0.7), (0.98, 0.68), (0.965, 0.72), (0.05, 0.74)], fill=stripe)
        pen.polygon([(0.12, 0.86), (0.88, 0.86), (0.86, 0.92), (0.14, 0.92)], fill=shade(c, 0.7))
        for k in range(3):
            _circle(pen, asp, 0.35 + 0.12 * k, 0.78, 0.03, fill=(60, 70, 90), n=10)
    elif var == 1:
        # wake behind the stern
        pen.polygon([(0.0, 0.86), (0.14, 0.8), (0.16, 0.9), (0.02, 0.95)], fill=sea_foam)
        pen.line([(0.0, 0.8), (0.1, 0.76)], sea_foam, 0.04)
        # cabin and windscreen
        pen.polygon([(0.3, 0.52), (0.36, 0.28), (0.6, 0.26), (0.72, 0.52)], fill=WHITE)
        pen.polygon([(0.6, 0.3), (0.62, 0.28), (0.7, 0.5), (0.64, 0.5)], fill=(130, 170, 200))
        pen.rect(0.39, 0.33, 0.56, 0.45, fill=(120, 160, 195))
        pen.line([(0.36, 0.27), (0.3, 0.14)], (120, 120, 125), 0.02)
        hull = [(0.08, 0.5), (0.99, 0.48), (0.88, 0.82), (0.12, 0.86)]
        pen.polygon(hull, fill=c)
        pen.polygon([(0.1, 0.6), (0.96, 0.57), (0.95, 0.62), (0.1, 0.66)], fill=stripe)
        pen.polygon([(0.11, 0.78), (0.9, 0.76), (0.88, 0.82), (0.12, 0.86)], fill=shade(c, 0.7))
        # outboard motor
        pen.rounded_rect(0.02, 0.36, 0.11, 0.58, 0.06, fill=(45, 45, 50))
        pen.rect(0.05, 0.58, 0.08, 0.86, fill=(70, 70, 75))
        pen.line([(0.03, 0.38), (0.1, 0.38)], (200, 200, 205), 0.025)
    else:
        wood = (150, 105, 65)
        # oars resting across the boat, blades sticking out
        oar = (185, 145, 90)
        for (u0, v0), (u1, v1) in (((0.1, 0.32), (0.8, 0.24)), ((0.22, 0.22), (0.93, 0.4))):
            pen.line([(u0, v0), (u1, v1)], oar, 0.035)
            ang = math.degrees(math.atan2(v1 - v0, (u1 - u0) * asp))
            pen.polygon(_oval(u1, v1, 0.16, 0.06, ang, asp, 12), fill=shade(oar, 0.85))
        # inside of the boat seen above the gunwale
        pen.polygon([(0.06, 0.45), (0.5, 0.38), (0.94, 0.35), (0.5, 0.5)], fill=shade(wood, 0.7))
        for u in (0.35, 0.65):
            pen.line([(u, 0.42), (u, 0.5)], wood, 0.05)
        hull = [(0.04, 0.42), (0.5, 0.5), (0.97, 0.33), (0.9, 0.6), (0.74, 0.82), (0.26, 0.84),
                (0.1, 0.7)]
        pen.polygon(hull, fill=c)
        pen.line([(0.04, 0.42), (0.5, 0.5), (0.97, 0.33)], shade(wood, 1.1), 0.05)
        for t in (0.35, 0.6):
            pen.line([(0.06 + 0.04 * t, 0.42 + 0.4 * t), (0.5, 0.5 + 0.34 * t),
                      (0.95 - 0.15 * t, 0.33 + 0.45 * t)], shade(c, 0.72), 0.015)
        pen.polygon([(0.18, 0.78), (0.82, 0.76), (0.74, 0.82), (0.26, 0.84)], fill=shade(c, 0.65))
        for _k in range(2):
            pen.ellipse(rng.uniform(0.3, 0.7), 0.87, 0.08, 0.02, fill=sea_foam, n=12)


# ---------------------------------------------------------------------------- surfboard
def _board_half(var: int, t: float) -> float:
    """Half-width (v units) of the board at fraction ``t`` of its length (tail → nose)."""
    if var == 0:
        return max(0.46 * math.sin(math.pi * (0.08 + 0.92 * t) ** 0.85) ** 0.7,
                   0.28 if t < 0.04 else 0.0)
    return 0.47 * math.sin(math.pi * (0.03 + 0.94 * t)) ** 0.35


def draw_surfboard(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Top view, nose to the right, obj.color is the board. 0: shortboard (pointed nose,
    stringer, nose stripes); 1: longboard (round nose, racing stripe, logo dot)."""
    c = obj.color
    var = _variant(obj)
    asp = _asp(obj)
    accent = _contrast(c) if _lum(c) > 170 else WHITE
    n = 14
    top: list[Point] = []
    bot: list[Point] = []
    for k in range(n + 1):
        t = k / n
        hwid = _board_half(var, t)
        u = 0.01 + 0.98 * t
        top.append((u, 0.5 - hwid))
        bot.append((u, 0.5 + hwid))
    outline = top + bot[::-1]
    # rail shadow, deck, highlight
    pen.polygon([(u, v + 0.06) for u, v in outline], fill=shade(c, 0.62))
    pen.polygon(outline, fill=c)
    pen.line([(u, v + 0.12) for u, v in top[2:-2]], shade(c, 1.3), 0.08)
    if var == 0:
        pen.line([(0.03, 0.5), (0.97, 0.5)], shade(c, 0.6), 0.05)
        for u0 in (0.66, 0.74):
            hw = _board_half(0, (u0 + 0.02 - 0.01) / 0.98) - 0.03
            pen.polygon([(u0, 0.5 - hw), (u0 + 0.04, 0.5 - hw), (u0 + 0.04, 0.5 + hw),
                         (u0, 0.5 + hw)], fill=accent)
        # tail pad
        pen.polygon([(0.04, 0.3), (0.2, 0.22), (0.2, 0.78), (0.04, 0.7)], fill=(45, 45, 50))
        for k in range(3):
            pen.line([(0.07 + 0.04 * k, 0.3), (0.07 + 0.04 * k, 0.7)], (80, 80, 85), 0.04)
    else:
        pen.polygon([(0.08, 0.42), (0.92, 0.42), (0.92, 0.58), (0.08, 0.58)], fill=accent)
        pen.polygon([(0.08, 0.455), (0.92, 0.455), (0.92, 0.545), (0.08, 0.545)],
                    fill=shade(accent, 0.75) if accent != WHITE else shade(c, 0.75))
        _circle(pen, asp, 0.7, 0.5, 0.2, fill=WHITE if c != WHITE else (230, 80, 60), n=16)
        _circle(pen, asp, 0.7, 0.5, 0.12, fill=shade(c, 0.7), n=14)


DRAWERS: dict[str, Drawer] = {
    "building": draw_building,
    "window": draw_window,
    "door": draw_door,
    "tree": draw_tree,
    "flower": draw_flower,
    "grass": draw_grass,
    "sky": draw_sky,
    "cloud": draw_cloud,
    "sun": draw_sun,
    "water": draw_water,
    "mountain": draw_mountain,
    "road": draw_road,
    "car": draw_car,
    "bicycle": draw_bicycle,
    "boat": draw_boat,
    "surfboard": draw_surfboard,
}
