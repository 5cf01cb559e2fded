"""Drawers for people, body parts and animals.

Categories: ``human_face``, ``person``, ``hand``, ``leg``, ``animal_face``, ``cat``, ``dog``,
``bird``.

Parts system
------------
A ``person`` is drawn as a torso (shirt in ``obj.color``), neck, arms and a *plain* head (skin
and hair, no facial features). Its face, hands and legs are separate part objects
(``human_face``, ``hand``, ``leg``) that the scene sampler places with :func:`person_parts`;
:func:`part_poses` suggests the poses for them. Without its parts a person still reads as a
person missing them (a faceless head, arms ending at the wrist, a bust without legs).

Likewise ``cat`` and ``dog`` draw a body with a plain head (fur and ears, no eyes or nose) and
:func:`animal_face_box` says where an ``animal_face`` part (variant 0 = cat, 1 = dog) goes.

Geometry is shared between drawers and the placement helpers: people and animals are laid out
in *height units* (``X`` = offset from the box centre, ``Y`` = offset from the top, both in
multiples of the box height), so proportions stay natural whatever the box's aspect ratio.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from braincause.synth.categories import CATEGORIES, CLOTHES, SKIN
from braincause.synth.pen import Pen, mix, shade
from braincause.synth.scene import SceneObject

RGB = tuple[int, int, int]
Point = tuple[float, float]
Box = tuple[float, float, float, float, float]

#: Hair colours (indexed by ``obj.seed``, see :func:`hair_of`).
HAIR: list[RGB] = [(35, 25, 20), (85, 55, 30), (140, 90, 45), (205, 165, 95), (25, 25, 30),
                   (135, 55, 25), (170, 165, 160), (60, 40, 30)]
IRIS: list[RGB] = [(95, 60, 30), (60, 110, 170), (80, 125, 70), (45, 30, 25)]
SHOES: list[RGB] = [(30, 30, 32), (90, 55, 30), (235, 235, 235), (150, 40, 40), (40, 60, 110)]
WHITE: RGB = (250, 250, 250)
DARK: RGB = (25, 20, 20)
PINK: RGB = (235, 140, 150)

# Head ellipses inside the part boxes (centre u, v; radii u, v), and how much bigger a part's
# head is than the plain head it covers.
FACE_HEAD = (0.5, 0.52, 0.34, 0.40)
CAT_HEAD = (0.5, 0.56, 0.38, 0.36)
DOG_HEAD = (0.5, 0.5, 0.32, 0.34)
COVER = 1.06


def skin_of(obj: SceneObject) -> RGB:
    """Skin tone of a person (``SKIN[obj.variant % len(SKIN)]``); give its face/hands this."""
    return SKIN[obj.variant % len(SKIN)]


def hair_of(obj: SceneObject) -> RGB:
    """Hair colour of a person or face (``HAIR[obj.seed % len(HAIR)]``)."""
    return HAIR[obj.seed % len(HAIR)]


def leg_skin(obj: SceneObject) -> RGB:
    """Skin tone shown by a leg (shorts, skirt): ``SKIN[(obj.variant // 3) % len(SKIN)]``.

    A leg's style is ``variant % 3``; the sampler encodes the wearer's skin index as
    ``variant = style + 3 * skin_index``.
    """
    return SKIN[(obj.variant // 3) % len(SKIN)]


def _style(obj: SceneObject) -> int:
    return obj.variant % CATEGORIES[obj.category].variants


def _to_image(obj: SceneObject, u: float, v: float) -> Point:
    """Local (u, v) of ``obj`` → normalised image coordinates (mirrors :meth:`Pen.pt`)."""
    return obj.local_to_image(u, v)


def _angle_up(d: Point) -> float:
    """Box angle whose local 'up' (−v) points along image direction ``d``."""
    return math.degrees(math.atan2(-d[0], -d[1]))


def _angle_down(d: Point) -> float:
    """Box angle whose local 'down' (+v) points along image direction ``d``."""
    return math.degrees(math.atan2(d[0], d[1]))


class _HU:
    """Height-unit frame on a pen: (X, Y) → local (u, v) with X scaled by h / w."""

    def __init__(self, pen: Pen) -> None:
        self.pen = pen
        self.k = pen.h / max(pen.w, 1e-6)
        self.lw = pen.h / pen.unit  # height units → pen line-width units

    def p(self, x: float, y: float) -> Point:
        return (0.5 + x * self.k, y)

    def ps(self, pts: Sequence[Point]) -> list[Point]:
        return [(0.5 + x * self.k, y) for x, y in pts]

    def poly(self, pts: Sequence[Point], fill: RGB, outline: RGB | None = None,
             width: float = 0.0) -> None:
        self.pen.polygon(self.ps(pts), fill=fill, outline=outline, width=width * self.lw)

    def ell(self, x: float, y: float, rx: float, ry: float, fill: RGB | None = None,
            outline: RGB | None = None, width: float = 0.0, n: int = 24,
            start: float = 0.0, end: float = 360.0) -> None:
        self.pen.ellipse(0.5 + x * self.k, y, rx * self.k, ry, fill=fill, outline=outline,
                         width=width * self.lw, n=n, start=start, end=end)

    def line(self, pts: Sequence[Point], fill: RGB, width: float) -> None:
        self.pen.line(self.ps(pts), fill, width * self.lw)


def _crescent(cu: float, cv: float, ru: float, rv: float, n: int = 9) -> list[Point]:
    """Shading crescent along the +u side of an ellipse."""
    out = [(cu + ru * math.cos(math.radians(t)), cv + rv * math.sin(math.radians(t)))
           for t in np.linspace(-58, 58, n)]
    back = [(cu + ru * (0.3 + 0.55 * math.cos(math.radians(t))),
             cv + rv * 0.9 * math.sin(math.radians(t))) for t in np.linspace(58, -58, n)]
    return out + back


def _cap(cu: float, cv: float, ru: float, rv: float, hairline: float, a0: float = 168.0,
         a1: float = 372.0, inner: float = 0.84, n: int = 14) -> list[Point]:
    """Hair-cap polygon: outer arc over the top of an ellipse and a hairline arc back.

    ``hairline`` (0–1) is how far above the centre the hairline's top sits (in ``rv``).
    """
    out = [(cu + ru * math.cos(math.radians(t)), cv + rv * math.sin(math.radians(t)))
           for t in np.linspace(a0, a1, n)]
    back = [(cu + ru * inner * math.cos(math.radians(t)),
             cv + rv * hairline * math.sin(math.radians(t))) for t in np.linspace(a1, a0, 7)]
    return out + back


# ================================================================== person geometry
# Pose table, height units. (ox, oy) shifts the upper body; arms are (elbow, wrist) offsets
# from the shoulder joints; feet are absolute; bent says which legs bend at the knee.
_POSES: dict[str, dict] = {
    "standing": dict(o=(0.0, 0.0), el=(-0.03, 0.15), wl=(-0.04, 0.28), er=(0.03, 0.15),
                     wr=(0.04, 0.28), fl=(-0.07, 1.0), fr=(0.07, 1.0), bent=(False, False)),
    "walking": dict(o=(0.0, 0.0), el=(-0.06, 0.14), wl=(-0.12, 0.25), er=(0.05, 0.145),
                    wr=(0.13, 0.25), fl=(-0.17, 0.995), fr=(0.18, 0.995), bent=(False, False)),
    "running": dict(o=(0.02, 0.03), el=(-0.11, 0.1), wl=(-0.2, 0.02), er=(0.06, 0.14),
                    wr=(0.16, 0.07), fl=(-0.26, 0.84), fr=(0.22, 0.98), bent=(True, True)),
    "sitting": dict(o=(-0.09, 0.08), el=(-0.02, 0.15), wl=(0.08, 0.24), er=(0.04, 0.14),
                    wr=(0.13, 0.23), fl=(0.13, 0.99), fr=(0.19, 0.99), bent=(True, True)),
    "surfing": dict(o=(0.0, 0.09), el=(-0.1, 0.07), wl=(-0.21, 0.06), er=(0.1, 0.05),
                    wr=(0.21, 0.0), fl=(-0.23, 0.99), fr=(0.23, 0.99), bent=(True, True)),
    "jumping": dict(o=(0.0, 0.07), el=(-0.08, -0.1), wl=(-0.13, -0.21), er=(0.08, -0.1),
                    wr=(0.13, -0.21), fl=(-0.14, 0.96), fr=(0.13, 0.93), bent=(True, True)),
}
_HEAD_R = (0.062, 0.074)          # plain head radii (X, Y), height units
_SHOULDER = (0.1, 0.225)          # shoulder joints at (±0.1, 0.225) + offset
_HIP = (0.048, 0.525)
_HAND = 0.105                     # hand box side, height units
_LEG_W = (0.15, 0.3)              # leg box width (straight, bent), height units


def _body(person: SceneObject) -> dict:
    """Skeleton of a person in height units (deterministic in the person's fields)."""
    pose = _POSES.get(person.pose) or _POSES["standing"]
    jit = np.random.default_rng([person.seed, 4271]).uniform(-0.012, 0.012, 6)
    ox, oy = pose["o"]
    sl = (ox - _SHOULDER[0], oy + _SHOULDER[1])
    sr = (ox + _SHOULDER[0], oy + _SHOULDER[1])

    def add(p: Point, d: Sequence[float], j: float = 0.0) -> Point:
        return (p[0] + d[0] + j, p[1] + d[1] - j)

    return dict(
        o=(ox, oy), head=(ox, oy + 0.1), sl=sl, sr=sr,
        el=add(sl, pose["el"], jit[0]), wl=add(sl, pose["wl"], jit[1]),
        er=add(sr, pose["er"], jit[2]), wr=add(sr, pose["wr"], jit[3]),
        hl=(ox - _HIP[0], oy + _HIP[1]), hr=(ox + _HIP[0], oy + _HIP[1]),
        fl=(pose["fl"][0] + jit[4], pose["fl"][1]), fr=(pose["fr"][0] + jit[5], pose["fr"][1]),
        bent=pose["bent"],
    )


def person_parts(person: SceneObject) -> dict[str, Box]:
    """Where a person's parts go, as (x, y, w, h, angle) in normalised image coordinates.

    Keys: ``"face"`` (covers the plain head completely; angle = the person's), ``"hand_l"``,
    ``"hand_r"`` (wrist at the box's bottom edge, fingers along the box's up axis, so the arm
    ends in the hand), ``"leg_l"``, ``"leg_r"`` (hip at the top edge, sole at the bottom edge).
    ``_l``/``_r`` are the image-left/right limbs of the *unflipped* person (who faces +x).
    Give every part ``flip = person.flip``; poses come from :func:`part_poses`.
    """
    b = _body(person)
    k = person.h / max(person.w, 1e-9)
    hh = person.h

    def img(p: Point) -> Point:
        return _to_image(person, 0.5 + p[0] * k, p[1])

    out: dict[str, Box] = {}
    hx, hy = b["head"]
    fw = _HEAD_R[0] * COVER / FACE_HEAD[2]
    fh = _HEAD_R[1] * COVER / FACE_HEAD[3]
    cx, cy = img((hx, hy - (FACE_HEAD[1] - 0.5) * fh))
    out["face"] = (cx, cy, fw * hh, fh * hh, person.angle)
    for side in ("l", "r"):
        e, w = img(b["e" + side]), img(b["w" + side])
        d = (w[0] - e[0], w[1] - e[1])
        n = math.hypot(*d) or 1.0
        d = (d[0] / n, d[1] / n)
        s = _HAND * hh
        c = (w[0] + d[0] * s * 0.42, w[1] + d[1] * s * 0.42)
        out["hand_" + side] = (c[0], c[1], s, s, _angle_up(d))
    for i, side in enumerate(("l", "r")):
        h0, f0 = img(b["h" + side]), img(b["f" + side])
        d = (f0[0] - h0[0], f0[1] - h0[1])
        length = math.hypot(*d)
        wid = _LEG_W[1 if b["bent"][i] else 0] * hh
        out["leg_" + side] = ((h0[0] + f0[0]) / 2, (h0[1] + f0[1]) / 2, wid, length,
                              _angle_down(d))
    return out


def part_poses(person: SceneObject) -> dict[str, str]:
    """Suggested poses of a person's parts (same keys as :func:`person_parts`)."""
    b = _body(person)
    face = {"walking": "right", "running": "right"}.get(person.pose, "front")
    hand = {"running": "fist", "jumping": "open", "surfing": "open"}.get(person.pose, "open")
    return {"face": face, "hand_l": hand, "hand_r": hand,
            "leg_l": "bent" if b["bent"][0] else "straight",
            "leg_r": "bent" if b["bent"][1] else "straight"}


# ================================================================== person drawer
def draw_person(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Torso, neck, arms and a plain head; face, hands and legs are parts."""
    f = _HU(pen)
    b = _body(obj)
    style = _style(obj)
    c = obj.color
    skin = skin_of(obj)
    hair = hair_of(obj)
    ox, oy = b["o"]
    dark_c, dark_s = shade(c, 0.62), shade(skin, 0.72)

    def X(x: float) -> float:
        return ox + x

    def Y(y: float) -> float:
        return oy + y

    hx, hy = b["head"]
    # neck
    f.poly([(X(-0.024), hy + 0.03), (X(0.024), hy + 0.03), (X(0.027), Y(0.215)),
            (X(-0.027), Y(0.215))], skin)
    f.poly([(X(-0.024), hy + 0.055), (X(0.024), hy + 0.055), (X(0.026), hy + 0.075),
            (X(-0.026), hy + 0.075)], shade(skin, 0.85))
    # torso silhouette
    half = [(0.035, 0.203), (0.088, 0.207), (0.113, 0.222), (0.12, 0.25), (0.104, 0.33),
            (0.088, 0.44), (0.094, 0.535)]
    torso = [(X(x), Y(y)) for x, y in half] + [(X(-x), Y(y)) for x, y in reversed(half)]
    if style == 3:  # tank top: bare shoulders, straps
        f.poly(torso, skin)
        tank = [(0.065, 0.207), (0.08, 0.25), (0.1, 0.33), (0.088, 0.44), (0.094, 0.535)]
        pts = ([(X(-0.03), Y(0.207)), (X(-0.018), Y(0.27)), (X(0.018), Y(0.27)),
                (X(0.03), Y(0.207))] + [(X(x), Y(y)) for x, y in tank]
               + [(X(-x), Y(y)) for x, y in reversed(tank)])
        f.poly(pts, c, outline=dark_c, width=0.006)
    else:
        f.poly(torso, c, outline=dark_c, width=0.006)
    # side shading and hem
    f.poly([(X(0.05), Y(0.26)), (X(0.1), Y(0.33)), (X(0.086), Y(0.44)), (X(0.09), Y(0.53)),
            (X(0.06), Y(0.53))], shade(c, 0.86))
    f.line([(X(-0.09), Y(0.527)), (X(0.09), Y(0.527))], shade(c, 0.72), 0.014)
    # style details
    if style == 0:      # t-shirt: round neckline
        f.ell(X(0.0), Y(0.203), 0.033, 0.022, fill=skin, start=0, end=180, n=14)
    elif style == 1:    # shirt: collar and buttons
        f.ell(X(0.0), Y(0.203), 0.026, 0.02, fill=skin, start=0, end=180, n=12)
        col = shade(c, 1.35)
        f.poly([(X(-0.035), Y(0.2)), (X(0.0), Y(0.235)), (X(-0.018), Y(0.255))], col)
        f.poly([(X(0.035), Y(0.2)), (X(0.0), Y(0.235)), (X(0.018), Y(0.255))], col)
        for yy in (0.29, 0.35, 0.41, 0.47):
            f.ell(X(0.0), Y(yy), 0.006, 0.006, fill=shade(c, 0.6), n=8)
    elif style == 2:    # jacket over a contrasting shirt, open V and zip
        inner = WHITE if sum(c) < 450 else (60, 60, 70)
        f.poly([(X(-0.04), Y(0.205)), (X(0.04), Y(0.205)), (X(0.012), Y(0.44)),
                (X(-0.012), Y(0.44))], inner)
        f.line([(X(-0.04), Y(0.205)), (X(-0.008), Y(0.44)), (X(-0.004), Y(0.53))],
               dark_c, 0.009)
        f.line([(X(0.04), Y(0.205)), (X(0.008), Y(0.44))], dark_c, 0.009)
        f.line([(X(-0.07), Y(0.47)), (X(-0.035), Y(0.47))], dark_c, 0.008)
    # arms (in front of the torso)
    for side in ("l", "r"):
        s, e, w = b["s" + side], b["e" + side], b["w" + side]
        arm = [s, e, w]
        if style in (1, 2):
            f.line(arm, dark_c, 0.058)
            f.line(arm, c, 0.045)
            t = 0.8
            cuff = (e[0] + (w[0] - e[0]) * t, e[1] + (w[1] - e[1]) * t)
            f.line([cuff, w], shade(c, 0.8), 0.045)
        else:
            if style == 0:  # the sleeve covers the top of the arm
                arm = [(s[0] + (e[0] - s[0]) * 0.4, s[1] + (e[1] - s[1]) * 0.4), e, w]
            f.line(arm, dark_s, 0.048)
            f.line(arm, skin, 0.037)
            if style == 0:
                dx, dy = e[0] - s[0], e[1] - s[1]
                n = math.hypot(dx, dy) or 1.0
                nx, ny = -dy / n * 0.029, dx / n * 0.029
                s0 = (s[0] - dx * 0.02, s[1] - dy * 0.02)
                m = (s[0] + dx * 0.5, s[1] + dy * 0.5)
                f.poly([(s0[0] + nx, s0[1] + ny), (m[0] + nx, m[1] + ny), (m[0] - nx, m[1] - ny),
                        (s0[0] - nx, s0[1] - ny)], c, outline=dark_c, width=0.005)
    # plain head: skin, shading and a hair cap (no features)
    rx, ry = _HEAD_R
    f.ell(hx, hy, rx, ry, fill=skin, outline=dark_s, width=0.005)
    f.poly(_crescent(hx, hy, rx, ry), shade(skin, 0.92))
    hairline = 0.25 + 0.25 * (obj.seed % 3)
    cap = _cap(hx, hy - ry * 0.02, rx * 1.02, ry * 1.0, hairline)
    f.poly(cap, hair)


# ================================================================== human face
def draw_human_face(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """A head with hair, ears, eyes, brows, nose and mouth; pose turns the features."""
    style = _style(obj)
    skin = obj.color
    hair = hair_of(obj)
    hcu, hcv, hru, hrv = FACE_HEAD
    turn = {"left": -1.0, "right": 1.0}.get(obj.pose, 0.0)
    s = 0.075 * turn
    dark_s = shade(skin, 0.7)
    hair_d = shade(hair, 0.72)
    # hair behind the head
    if style == 1:       # long
        pen.rounded_rect(0.1, 0.12, 0.9, 0.97, 0.3, fill=hair_d)
    elif style == 5:     # bob
        pen.rounded_rect(0.11, 0.16, 0.89, 0.8, 0.18, fill=hair_d)
    elif style == 4:     # bun on top
        pen.ellipse(0.5, 0.1, 0.13, 0.09, fill=hair_d)
    # ears
    for side in (-1, 1):
        if turn and side == turn:
            continue  # far ear hidden in a 3/4 view
        eu = hcu + side * (hru - 0.015) - (0.07 * turn if turn else 0.0)
        pen.ellipse(eu, 0.56, 0.06, 0.085, fill=skin, outline=dark_s, width=0.012, n=16)
        pen.ellipse(eu + side * 0.008, 0.56, 0.03, 0.05, fill=shade(skin, 0.84), n=12)
    # head
    pen.ellipse(hcu, hcv, hru, hrv, fill=skin, outline=dark_s, width=0.014)
    pen.polygon(_crescent(hcu, hcv, hru, hrv), fill=shade(skin, 0.93))
    # hair in front
    cu = hcu - s * 0.3
    if style == 0:       # short, side part
        pen.polygon(_cap(cu, hcv - 0.02, hru * 1.06, hrv * 1.02, 0.55, a0=165, a1=375,
                         inner=0.86), fill=hair)
        pen.line([(cu - 0.12, 0.2), (cu - 0.02, 0.3)], hair_d, 0.02)
    elif style == 1:     # long with a centre parting
        pen.polygon(_cap(cu, hcv, hru * 1.07, hrv * 1.04, 0.6, a0=150, a1=390, inner=0.8),
                    fill=hair)
        pen.line([(cu, 0.12), (cu, 0.3)], hair_d, 0.015)
    elif style == 2:     # buzz cut, maybe a beard
        pen.polygon(_cap(cu, hcv, hru * 1.01, hrv * 1.0, 0.5, a0=175, a1=365, inner=0.9),
                    fill=mix(skin, hair, 0.55))
        if rng.random() < 0.6:
            jaw = [(hcu + hru * 1.01 * math.cos(math.radians(t)),
                    hcv + hrv * 1.01 * math.sin(math.radians(t))) for t in np.linspace(5, 175, 9)]
            pen.polygon(jaw + [(hcu - hru * 0.8, 0.6), (hcu - 0.12 + s, 0.69), (hcu + s, 0.71),
                               (hcu + 0.12 + s, 0.69), (hcu + hru * 0.8, 0.6)],
                        fill=mix(hair, skin, 0.15))
    elif style == 3:     # curly: bumps around the top
        for t in np.linspace(160, 380, 9):
            r = math.radians(t)
            pen.ellipse(cu + hru * 0.98 * math.cos(r), hcv - 0.03 + hrv * 0.95 * math.sin(r),
                        0.085, 0.075, fill=hair if t % 2 else hair_d, n=12)
        pen.polygon(_cap(cu, hcv - 0.02, hru * 1.02, hrv * 1.0, 0.55, inner=0.85),
                    fill=hair)
    elif style == 4:     # bun: cap pulled back
        pen.polygon(_cap(cu, hcv, hru * 1.04, hrv * 1.02, 0.62, a0=170, a1=370, inner=0.86),
                    fill=hair)
        pen.ellipse(0.5, 0.11, 0.11, 0.075, fill=hair, n=16)
    else:                # bob with a straight fringe
        pen.polygon(_cap(cu, hcv, hru * 1.08, hrv * 1.04, 0.5, a0=150, a1=390, inner=0.86),
                    fill=hair)
        pen.rect(cu - hru * 0.85, 0.16, cu + hru * 0.85, 0.33, fill=hair)
    # eyes
    iris = IRIS[int(rng.integers(len(IRIS)))]
    ev = 0.5 + rng.uniform(-0.015, 0.015)
    gap = 0.135 * (1.0 - 0.25 * abs(turn))
    for side in (-1, 1):
        eu = hcu + s + side * gap
        far = turn != 0 and side == turn
        ru = 0.06 * (0.75 if far else 1.0)
        pen.ellipse(eu, ev, ru, 0.042, fill=WHITE, outline=dark_s, width=0.008, n=16)
        pen.ellipse(eu + s * 0.35, ev, min(ru, 0.04) * 0.8, 0.034, fill=iris, n=12)
        pen.ellipse(eu + s * 0.35, ev, 0.017, 0.017, fill=DARK, n=10)
        pen.ellipse(eu + s * 0.35 + 0.012, ev - 0.012, 0.008, 0.008, fill=WHITE, n=8)
        bv = ev - 0.075 - rng.uniform(0, 0.015)
        pen.line([(eu - side * 0.05, bv + 0.01), (eu + side * 0.055, bv - 0.004)],
                 hair_d if style != 2 else shade(hair, 0.9), 0.028)
    # nose
    nu = hcu + s * 1.5
    nd = 1.0 if turn >= 0 else -1.0
    if turn:
        pen.polygon([(nu - nd * 0.005, 0.56), (nu + nd * 0.045, 0.66),
                     (nu - nd * 0.01, 0.675)], fill=shade(skin, 0.82))
    else:
        pen.line([(nu, 0.56), (nu + 0.02, 0.65), (nu - 0.025, 0.67)], shade(skin, 0.72), 0.018)
    # cheeks and mouth
    blush = mix(skin, (230, 110, 110), 0.25)
    for side in (-1, 1):
        if not (turn and side == turn):
            pen.ellipse(hcu + s + side * 0.19, 0.68, 0.045, 0.03, fill=blush, n=12)
    mu, mv = hcu + s, 0.77
    lips = mix(skin, (170, 40, 50), 0.6)
    kind = int(rng.integers(3))
    if kind == 0:    # open smile
        pen.ellipse(mu, mv - 0.015, 0.08, 0.055, fill=lips, start=0, end=180, n=16)
        pen.rect(mu - 0.055, mv - 0.015, mu + 0.055, mv + 0.005, fill=WHITE)
    elif kind == 1:  # closed smile
        pen.line([(mu - 0.075, mv - 0.02), (mu - 0.03, mv + 0.01), (mu + 0.03, mv + 0.01),
                  (mu + 0.075, mv - 0.02)], lips, 0.022)
    else:            # neutral lips
        pen.ellipse(mu, mv, 0.06, 0.018, fill=lips, n=14)


# ================================================================== hand
def draw_hand(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """A hand, fingers up (−v), wrist at the bottom edge, thumb on the −u side."""
    style = _style(obj)
    skin = obj.color
    line_c = shade(skin, 0.66)
    crease = shade(skin, 0.75)
    fw = 0.105 * rng.uniform(0.92, 1.08)    # finger thickness
    out = 0.03
    pose = obj.pose if obj.pose in ("open", "fist", "point", "hold") else "open"
    wrist = [(0.38, 0.8), (0.62, 0.8), (0.6, 1.02), (0.4, 1.02)]
    if pose == "open":
        bases = [(0.37, 0.5), (0.46, 0.47), (0.56, 0.48), (0.65, 0.52)]
        tips = [(0.28, 0.1), (0.44, 0.03), (0.6, 0.06), (0.76, 0.18)]
        thumb = [(0.36, 0.72), (0.2, 0.6), (0.1, 0.46)]
        pen.polygon(wrist, fill=line_c)
        pen.ellipse(0.51, 0.64, 0.2 + out / 2, 0.19 + out / 2, fill=line_c, n=18)
        for b0, t0 in zip(bases, tips, strict=True):
            pen.line([b0, t0], line_c, fw + out)
        pen.line(thumb, line_c, fw * 1.1 + out)
        pen.polygon(wrist, fill=skin)
        pen.ellipse(0.51, 0.64, 0.2, 0.19, fill=skin, n=18)
        for i, (b0, t0) in enumerate(zip(bases, tips, strict=True)):
            pen.line([b0, t0], skin, fw * (0.9 if i == 3 else 1.0))
        pen.line(thumb, skin, fw * 1.1)
        pen.line([(0.4, 0.66), (0.5, 0.6), (0.62, 0.6)], crease, 0.018)
        if style == 1:
            for t0 in tips:
                pen.ellipse(t0[0], t0[1] + 0.035, 0.022, 0.025, fill=mix(skin, WHITE, 0.45),
                            n=8)
    elif pose == "hold":
        # curled fingers around a (transparent) handle hole
        cu, cv, r = 0.53, 0.42, 0.17
        arc = [(cu + r * math.cos(math.radians(t)), cv + r * math.sin(math.radians(t)))
               for t in np.linspace(100, 400, 11)]
        pen.polygon([(0.36, 0.55), (0.7, 0.55), (0.62, 0.82), (0.38, 0.82)], fill=skin,
                    outline=line_c, width=0.025)
        pen.polygon(wrist, fill=skin)
        pen.line(arc, line_c, 0.2 + out)
        pen.line(arc, skin, 0.2)
        for t in (-10, 25, 60):
            a = math.radians(t)
            pen.line([(cu + 0.09 * math.cos(a), cv + 0.09 * math.sin(a)),
                      (cu + 0.26 * math.cos(a), cv + 0.26 * math.sin(a))], crease, 0.02)
        pen.line([(0.4, 0.68), (0.33, 0.5), (0.4, 0.32)], line_c, 0.13 + out)
        pen.line([(0.4, 0.68), (0.33, 0.5), (0.4, 0.32)], skin, 0.13)
    else:
        top = 0.45 if pose == "point" else 0.3
        pen.polygon(wrist, fill=skin, outline=line_c, width=0.02)
        if pose == "point":
            pen.line([(0.36, 0.5), (0.36, 0.05)], line_c, fw + out)
            pen.line([(0.36, 0.5), (0.36, 0.05)], skin, fw)
            if style == 1:
                pen.ellipse(0.36, 0.09, 0.022, 0.025, fill=mix(skin, WHITE, 0.45), n=8)
        pen.rounded_rect(0.25, top, 0.77, 0.84, 0.16, fill=skin, outline=line_c, width=0.025)
        kx = [0.31, 0.44, 0.57, 0.7] if pose == "fist" else [0.47, 0.6, 0.72]
        for x in kx:
            pen.ellipse(x, top + 0.04, 0.06, 0.04, fill=shade(skin, 1.06), n=10)
        for x in kx[:-1]:
            pen.line([(x + 0.065, top + 0.03), (x + 0.065, top + 0.2)], crease, 0.018)
        pen.line([(0.28, 0.78), (0.36, 0.6), (0.6, 0.56)], line_c, 0.14 + out)
        pen.line([(0.28, 0.78), (0.36, 0.6), (0.6, 0.56)], skin, 0.14)
    # accessories at the wrist
    if style == 1:
        pen.rect(0.37, 0.86, 0.63, 0.95, fill=(40, 40, 45))
        pen.ellipse(0.5, 0.905, 0.06, 0.055, fill=(200, 200, 205), outline=(40, 40, 45),
                    width=0.015, n=12)
    elif style == 2:
        cuff = CLOTHES[obj.seed % len(CLOTHES)]
        pen.rect(0.34, 0.88, 0.66, 1.02, fill=cuff, outline=shade(cuff, 0.7), width=0.015)


# ================================================================== leg
def draw_leg(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """One leg (trousers / shorts / skirt + shoe), hip at the top, toe towards +u."""
    style = _style(obj)
    c = obj.color
    skin = leg_skin(obj)
    dark = shade(c, 0.7)
    shoe = SHOES[int(rng.integers(len(SHOES)))]
    bent = obj.pose == "bent"
    wpx = pen.w / pen.unit   # box-width fraction → line-width units
    r = pen.h / max(pen.w, 1e-6)
    shoe_len = min(0.8, 0.25 * r)  # thickness and shoe size also bounded by the leg's length
    if bent:
        hip, knee, ankle = (0.5, 0.02), (0.8, 0.47), (0.46, 0.86)
        th = min(0.24, 0.17 * r)
        lower = skin if style in (1, 2) else c
        pen.line([knee, ankle], shade(lower, 0.75), (th + 0.03) * wpx)
        pen.line([knee, ankle], lower, th * 0.92 * wpx)
        if style == 2:
            pen.polygon([(0.5 - 0.75 * th, -0.03), (0.5 + 0.75 * th, -0.03),
                         (knee[0] + 0.8 * th, 0.42), (knee[0] - 0.3 * th, 0.52)],
                        fill=c, outline=dark, width=0.02)
        else:
            pen.line([hip, knee], dark, (th + 0.03) * wpx)
            pen.line([hip, knee], c, th * wpx)
            if style == 1:
                pen.line([knee, (0.74, 0.57)], c, th * 1.05 * wpx)
            pen.line([(0.6, 0.18), (0.78, 0.44)], shade(c, 0.85), 0.03 * wpx)
        heel, toe, sole = ankle[0] - 0.375 * shoe_len, ankle[0] + 0.625 * shoe_len, 1.0
        ankle_top = 0.82
    else:
        top = min(0.31, 0.095 * r)
        ank = top * 0.68
        au = 0.47
        leg = [(0.5 - top, -0.03), (0.5 + top, -0.03), (au + ank, 0.88), (au - ank, 0.88)]
        if style == 0:
            pen.polygon(leg, fill=c, outline=dark, width=0.03)
            pen.polygon([(0.5, -0.03), (0.5 + top, -0.03), (au + ank, 0.88), (au + 0.06, 0.88)],
                        fill=shade(c, 0.87))
            pen.line([(0.5, 0.05), (au, 0.85)], dark, 0.03)
            pen.rect(au - ank, 0.82, au + ank, 0.88, fill=shade(c, 0.82))
        else:
            pen.polygon(leg, fill=skin, outline=shade(skin, 0.72), width=0.03)
            pen.polygon([(0.5, 0.5), (au + ank * 1.2, 0.5), (au + ank, 0.88), (au + 0.04, 0.88)],
                        fill=shade(skin, 0.9))
            if style == 1:
                m = 0.44
                wm = top + (ank - top) * m / 0.91 + 0.03
                pen.polygon([(0.5 - top - 0.02, -0.03), (0.5 + top + 0.02, -0.03),
                             (0.5 + wm, m), (0.5 - wm, m)], fill=c, outline=dark, width=0.03)
                pen.line([(0.5 - wm, m - 0.03), (0.5 + wm, m - 0.03)], dark, 0.05)
            else:
                fl = top * 1.6
                pen.polygon([(0.5 - top, -0.03), (0.5 + top, -0.03), (0.5 + fl, 0.4),
                             (0.5 - fl, 0.4)], fill=c, outline=dark, width=0.03)
                for sd in (-1, 1):
                    pen.line([(0.5 + sd * top * 0.6, 0.05), (0.5 + sd * fl * 0.62, 0.37)], dark,
                             0.03)
        heel, toe, sole = au - 0.375 * shoe_len, au + 0.625 * shoe_len, 1.0
        ankle_top = 0.86
    # shoe: heel at the back, rounded toe pointing +u, darker sole
    pen.polygon([(heel, ankle_top), (heel + 0.42 * (toe - heel), ankle_top),
                 (toe, sole - 0.07), (toe, sole - 0.02), (heel, sole - 0.02)],
                fill=shoe, outline=shade(shoe, 0.6), width=0.025)
    pen.ellipse(toe - 0.02, sole - 0.055, 0.125 * shoe_len, 0.05, fill=shoe, n=12)
    pen.rect(heel, sole - 0.03, toe + 0.05, sole, fill=shade(shoe, 0.5))


# ================================================================== animal faces
_CAT_EAR = [(0.15, 0.46), (0.18, 0.04), (0.46, 0.27)]
_DOG_EAR = [(0.27, 0.2), (0.1, 0.22), (0.02, 0.56), (0.08, 0.76), (0.2, 0.7), (0.25, 0.45)]


def _mirror(pts: Sequence[Point]) -> list[Point]:
    return [(1.0 - u, v) for u, v in pts]


def draw_animal_face(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Variant 0: cat face (pointed ears, slit eyes, whiskers); 1: dog face (floppy ears,
    muzzle, big nose)."""
    fur = obj.color
    dark = shade(fur, 0.62)
    light = mix(fur, WHITE, 0.55)
    turn = {"left": -1.0, "right": 1.0}.get(obj.pose, 0.0)
    s = 0.07 * turn
    if _style(obj) == 0:
        cu, cv, ru, rv = CAT_HEAD
        for ear in (_CAT_EAR, _mirror(_CAT_EAR)):
            pen.polygon(ear, fill=fur, outline=dark, width=0.02)
            mid = (sum(p[0] for p in ear) / 3, sum(p[1] for p in ear) / 3)
            pen.polygon([(mid[0] + (u - mid[0]) * 0.55, mid[1] + (v - mid[1]) * 0.55 + 0.02)
                         for u, v in ear], fill=PINK)
        pen.ellipse(cu, cv, ru, rv, fill=fur, outline=dark, width=0.02)
        if rng.random() < 0.6 and sum(fur) > 200:   # tabby forehead stripes
            for du in (-0.07, 0.0, 0.07):
                pen.line([(cu + du + s, 0.24), (cu + du * 0.7 + s, 0.36)], dark, 0.035)
        for side in (-1, 1):
            pen.ellipse(cu + s + side * 0.075, 0.74, 0.1, 0.075, fill=light, n=14)
        eye = [(170, 200, 60), (230, 190, 40), (90, 170, 200)][int(rng.integers(3))]
        for side in (-1, 1):
            eu = cu + s + side * 0.155 * (1 - 0.2 * abs(turn))
            pen.ellipse(eu, 0.54, 0.085, 0.065, fill=eye, outline=DARK, width=0.015, n=16)
            pen.ellipse(eu + s * 0.3, 0.54, 0.018, 0.058, fill=DARK, n=10)
            pen.ellipse(eu + s * 0.3 + 0.025, 0.515, 0.012, 0.012, fill=WHITE, n=8)
        nu = cu + s * 1.3
        pen.polygon([(nu - 0.045, 0.66), (nu + 0.045, 0.66), (nu, 0.705)], fill=PINK,
                    outline=shade(PINK, 0.7), width=0.01)
        pen.line([(nu - 0.065, 0.77), (nu - 0.03, 0.79), (nu, 0.71), (nu + 0.03, 0.79),
                  (nu + 0.065, 0.77)], DARK, 0.016)
        for side in (-1, 1):
            for k, dv in enumerate((-0.03, 0.0, 0.035)):
                pen.line([(nu + side * 0.1, 0.74 + dv * 0.3),
                          (nu + side * 0.42, 0.7 + dv * 2.2 + 0.01 * k)], (60, 55, 55), 0.01)
    else:
        cu, cv, ru, rv = DOG_HEAD
        pen.ellipse(cu, cv, ru, rv, fill=fur, outline=dark, width=0.02)
        if rng.random() < 0.5:   # patch over one eye
            pen.ellipse(cu + s + 0.14, 0.44, 0.1, 0.1, fill=shade(fur, 0.7), n=14)
        for ear in (_DOG_EAR, _mirror(_DOG_EAR)):
            pen.polygon(ear, fill=shade(fur, 0.72), outline=shade(fur, 0.5), width=0.02)
        pen.ellipse(cu + s, 0.7, 0.2, 0.15, fill=light, outline=shade(light, 0.8),
                    width=0.012, n=18)
        for side in (-1, 1):
            eu = cu + s + side * 0.13 * (1 - 0.2 * abs(turn))
            pen.ellipse(eu, 0.44, 0.055, 0.058, fill=(55, 35, 25), n=14)
            pen.ellipse(eu + 0.018, 0.425, 0.018, 0.018, fill=WHITE, n=8)
            pen.line([(eu - 0.04, 0.35), (eu + 0.035, 0.345)], dark, 0.025)
        nu = cu + s * 1.3
        if rng.random() < 0.6:
            pen.ellipse(nu, 0.8, 0.055, 0.085, fill=(230, 100, 120), outline=(180, 60, 80),
                        width=0.012, start=0, end=180, n=14)
        pen.line([(nu, 0.64), (nu, 0.74), (nu - 0.06, 0.78)], DARK, 0.018)
        pen.line([(nu, 0.74), (nu + 0.06, 0.78)], DARK, 0.018)
        pen.ellipse(nu, 0.615, 0.075, 0.05, fill=DARK, n=14)
        pen.ellipse(nu - 0.02, 0.6, 0.022, 0.012, fill=(120, 120, 120), n=8)


def _plain_head(pen: Pen, category: str, head: tuple[float, float, float, float],
                fur: RGB) -> None:
    """Featureless animal head (fur + ears) matching where animal_face draws its head."""
    cu, cv, ru, rv = head
    fcu, fcv, fru, frv = CAT_HEAD if category == "cat" else DOG_HEAD

    def m(pts: Sequence[Point]) -> list[Point]:
        return [(cu + (u - fcu) * ru / fru, cv + (v - fcv) * rv / frv) for u, v in pts]

    dark = shade(fur, 0.62)
    if category == "cat":
        for ear in (_CAT_EAR, _mirror(_CAT_EAR)):
            pen.polygon(m(ear), fill=fur, outline=dark, width=0.012)
        pen.ellipse(cu, cv, ru, rv, fill=fur, outline=dark, width=0.012)
    else:
        pen.ellipse(cu, cv, ru, rv, fill=fur, outline=dark, width=0.012)
        for ear in (_DOG_EAR, _mirror(_DOG_EAR)):
            pen.polygon(m(ear), fill=shade(fur, 0.72))


# ================================================================== cat / dog geometry
def _animal_head(animal: SceneObject) -> tuple[float, float, float]:
    """Plain head of a cat or dog: (X, Y, r) in height units (r = radius in height units)."""
    if animal.category == "cat":
        return (0.04, 0.25, 0.2) if animal.pose == "sitting" else (0.34, 0.27, 0.19)
    style = _style(animal)
    if animal.pose == "sitting":
        return (0.14, 0.2, 0.18)
    if animal.pose == "running":
        return (0.4, 0.26, 0.17)
    return (0.38, 0.22 + (0.08 if style == 2 else 0.0), 0.17)


def animal_face_box(animal: SceneObject) -> Box:
    """Where an ``animal_face`` part goes on a ``cat`` or ``dog``: (x, y, w, h, angle) in
    normalised image coordinates. It covers the plain head; give it ``flip = animal.flip``
    and variant 0 for cats, 1 for dogs."""
    hx, hy, r = _animal_head(animal)
    fcu, fcv, fru, frv = CAT_HEAD if animal.category == "cat" else DOG_HEAD
    fw = r * COVER / fru          # height units
    fh = r * COVER / frv
    k = animal.h / max(animal.w, 1e-9)
    cx = hx + (0.5 - fcu) * fw
    cy = hy + (0.5 - fcv) * fh
    x, y = _to_image(animal, 0.5 + cx * k, cy)
    return (x, y, fw * animal.h, fh * animal.h, animal.angle)


def _legs(f: _HU, legs: Sequence[tuple[Point, Point]], fur: RGB, width: float,
          paw: RGB | None = None) -> None:
    for top, foot in legs:
        f.line([top, foot], shade(fur, 0.62), width + 0.02)
        f.line([top, foot], fur, width)
        f.ell(foot[0] + 0.015, foot[1] - width * 0.25, width * 0.62, width * 0.38,
              fill=paw or fur, outline=shade(fur, 0.6), width=0.01, n=10)


def draw_cat(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Side-view cat facing +u, head turned to the viewer (plain, the face is a part)."""
    f = _HU(pen)
    fur = obj.color
    dark = shade(fur, 0.62)
    tabby = _style(obj) == 1
    stripe = shade(fur, 0.72) if sum(fur) > 200 else shade(fur, 1.3)
    hx, hy, r = _animal_head(obj)
    tail_w = 0.065
    if obj.pose == "sitting":
        tail = [(-0.1, 0.92), (0.1, 0.99), (0.26, 0.95), (0.3, 0.88)]
        f.line(tail, dark, tail_w + 0.02)
        f.line(tail, fur, tail_w)
        f.ell(-0.09, 0.78, 0.22, 0.2, fill=fur, outline=dark, width=0.012)
        f.poly([(-0.14, 0.42), (0.14, 0.42), (0.2, 0.75), (-0.22, 0.85)], fill=fur)
        f.ell(0.02, 0.58, 0.17, 0.2, fill=fur)
        f.ell(0.05, 0.56, 0.09, 0.14, fill=mix(fur, WHITE, 0.35))
        _legs(f, [((0.05, 0.6), (0.05, 0.97)), ((0.15, 0.6), (0.16, 0.97))], fur, 0.07)
        if tabby:
            for y in (0.72, 0.8, 0.88):
                f.line([(-0.27, y - 0.06), (-0.14, y)], stripe, 0.03)
    else:
        w = rng.uniform(-0.03, 0.03)
        tail = [(-0.36, 0.45), (-0.48, 0.3), (-0.46, 0.12), (-0.38, 0.05)]
        f.line(tail, dark, tail_w + 0.02)
        f.line(tail, fur, tail_w)
        back_legs = [((-0.25, 0.6), (-0.33 + w, 0.97)), ((0.17, 0.6), (0.24 - w, 0.97))]
        _legs(f, back_legs, shade(fur, 0.85), 0.07)
        f.ell(-0.06, 0.5, 0.34, 0.16, fill=fur, outline=dark, width=0.012)
        front_legs = [((-0.18, 0.6), (-0.12 - w, 0.97)), ((0.22, 0.6), (0.15 + w, 0.97))]
        _legs(f, front_legs, fur, 0.07)
        f.ell(0.0, 0.58, 0.26, 0.07, fill=mix(fur, WHITE, 0.25), start=0, end=180, n=14)
        if tabby:
            for x in (-0.28, -0.16, -0.04, 0.08):
                f.line([(x, 0.36), (x + 0.03, 0.52)], stripe, 0.03)
        f.poly([(0.16, 0.38), (0.3, 0.3), (0.36, 0.46), (0.24, 0.55)], fill=fur)
    k = f.k
    _plain_head(pen, "cat", (0.5 + hx * k, hy, r * k, r), fur)


def draw_dog(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Side-view dog facing +u with a plain head; variant 1 spotted, 2 short-legged + collar."""
    f = _HU(pen)
    fur = obj.color
    dark = shade(fur, 0.62)
    style = _style(obj)
    hx, hy, r = _animal_head(obj)
    spot = shade(fur, 0.45) if sum(fur) > 300 else shade(fur, 1.5)
    lw = 0.075
    if obj.pose == "sitting":
        tail = [(-0.3, 0.9), (-0.45, 0.93), (-0.55, 0.86)]
        f.line(tail, dark, lw + 0.02)
        f.line(tail, fur, lw)
        f.ell(-0.14, 0.76, 0.22, 0.2, fill=fur, outline=dark, width=0.012)
        _legs(f, [((-0.12, 0.8), (0.02, 0.97))], shade(fur, 0.9), lw * 1.1)
        f.poly([(0.02, 0.3), (0.22, 0.32), (0.18, 0.7), (-0.2, 0.8), (-0.2, 0.6)], fill=fur,
               outline=dark, width=0.008)
        f.ell(0.08, 0.55, 0.13, 0.2, fill=fur)
        _legs(f, [((0.1, 0.6), (0.12, 0.97)), ((0.18, 0.6), (0.21, 0.97))], fur, lw)
        if style == 1:
            for sx, sy, sr in ((-0.18, 0.7, 0.05), (-0.05, 0.82, 0.04), (0.05, 0.5, 0.035)):
                f.ell(sx, sy, sr, sr, fill=spot, n=12)
        neck = [(0.06, 0.46), (0.14, 0.26)]
    else:
        run = obj.pose == "running"
        short = style == 2
        by, leg_top = (0.42, 0.55) if not short else (0.6, 0.72)
        ry = 0.15
        if run:
            back = [((-0.26, 0.55), (-0.56, 0.78)), ((-0.18, 0.56), (-0.42, 0.86))]
            front = [((0.16, 0.55), (0.5, 0.72)), ((0.22, 0.55), (0.42, 0.9))]
            tail = [(-0.34, 0.38), (-0.52, 0.3), (-0.62, 0.28)]
        else:
            w = rng.uniform(-0.04, 0.04)
            back = [((-0.26, leg_top), (-0.3 + w, 0.97)), ((0.18, leg_top), (0.22 - w, 0.97))]
            front = [((-0.2, leg_top), (-0.16 - w, 0.97)), ((0.24, leg_top), (0.18 + w, 0.97))]
            tail = [(-0.34, by - 0.06), (-0.46, by - 0.2), (-0.5, by - 0.32)]
        f.line(tail, dark, lw * 0.8 + 0.02)
        f.line(tail, fur, lw * 0.8)
        _legs(f, back, shade(fur, 0.85), lw)
        f.ell(-0.04, by, 0.34, ry, fill=fur, outline=dark, width=0.012)
        _legs(f, front, fur, lw)
        if style == 1:
            for sx, sy, sr in ((-0.22, by - 0.04, 0.05), (-0.05, by + 0.04, 0.045),
                               (0.12, by - 0.06, 0.035), (-0.3, by + 0.07, 0.03)):
                f.ell(sx, sy, sr, sr, fill=spot, n=12)
        neck = [(0.2, by - 0.04), (hx - 0.04, hy + 0.05)]
    f.line(neck, dark, 0.15)
    f.line(neck, fur, 0.13)
    if style == 2:
        f.line([(neck[1][0] - 0.07, neck[1][1] + 0.1), (neck[1][0] + 0.04, neck[1][1] + 0.13)],
               (200, 40, 40), 0.04)
    k = f.k
    _plain_head(pen, "dog", (0.5 + hx * k, hy, r * k, r), fur)


# ================================================================== bird
def draw_bird(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Side-view bird facing +u: variant 0 songbird, 1 gull; flying (wings up) or perched."""
    f = _HU(pen)
    c = obj.color
    gull = _style(obj) == 1
    dark = shade(c, 0.6)
    wing_c = shade(c, 0.78) if not gull else mix(c, (110, 110, 120), 0.5)
    belly = mix(c, WHITE, 0.55)
    beak = (240, 160, 40) if not gull else (240, 200, 50)
    fly = obj.pose != "perched"
    by = 0.55 if fly else 0.48
    rx, ry = (0.36, 0.2) if gull else (0.3, 0.24)
    if fly:   # far wing behind the body
        f.poly([(0.0, by - 0.05), (-0.22, by - 0.42), (-0.08, by - 0.38), (0.12, by - 0.08)],
               fill=shade(wing_c, 0.75))
    # tail
    if fly:
        tail = [(-rx * 0.8, by - 0.04), (-rx - 0.24, by - 0.1), (-rx - 0.22, by + 0.08),
                (-rx * 0.8, by + 0.06)]
    else:
        tail = [(-rx * 0.8, by), (-rx - 0.2, by + 0.28), (-rx - 0.1, by + 0.34),
                (-rx * 0.6, by + 0.12)]
    f.poly(tail, wing_c, outline=dark, width=0.01)
    if not fly:  # legs and feet
        for x in (-0.04, 0.06):
            f.line([(x, by + ry * 0.8), (x + 0.02, 0.95)], (200, 130, 60), 0.025)
            f.line([(x - 0.04, 0.96), (x + 0.08, 0.96)], (200, 130, 60), 0.02)
    # body, belly, head
    f.ell(0.0, by, rx, ry, fill=c, outline=dark, width=0.012)
    f.ell(0.04, by + ry * 0.35, rx * 0.75, ry * 0.6, fill=belly, start=0, end=180, n=14)
    hxy = (rx * 0.85, by - ry * 0.75)
    hr = 0.15 if gull else 0.16
    f.ell(hxy[0], hxy[1], hr, hr, fill=c if not gull else mix(c, WHITE, 0.3), outline=dark,
          width=0.012, n=18)
    f.poly([(hxy[0] + hr * 0.8, hxy[1] - 0.04), (hxy[0] + hr + (0.22 if gull else 0.15),
            hxy[1] + 0.02), (hxy[0] + hr * 0.8, hxy[1] + 0.06)], beak,
           outline=shade(beak, 0.7), width=0.008)
    f.ell(hxy[0] + hr * 0.35, hxy[1] - hr * 0.2, 0.035, 0.035, fill=DARK, n=10)
    f.ell(hxy[0] + hr * 0.42, hxy[1] - hr * 0.3, 0.012, 0.012, fill=WHITE, n=6)
    if fly:   # near wing raised, feathered tips
        tx, ty = -0.24 + rng.uniform(-0.04, 0.04), by - 0.56
        wing = [(0.14, by - 0.04), (0.1, by - 0.3), (-0.02, by - 0.47), (tx, ty),
                (tx - 0.02, ty + 0.12), (tx + 0.06, ty + 0.14), (tx + 0.03, ty + 0.25),
                (tx + 0.1, ty + 0.27), (tx + 0.08, ty + 0.38), (-0.13, by - 0.1),
                (-0.12, by + 0.02)]
        f.poly(wing, wing_c, outline=dark, width=0.012)
        if gull:
            f.poly([(-0.02, by - 0.47), (tx, ty), (tx - 0.02, ty + 0.12), (tx + 0.06, ty + 0.14),
                    (0.0, by - 0.4)], DARK)
    else:     # folded wing
        f.ell(-0.06, by - 0.02, rx * 0.72, ry * 0.62, fill=wing_c, outline=dark, width=0.01,
              n=18)
        f.line([(-0.2, by + 0.02), (0.02, by - 0.02)], dark, 0.015)


DRAWERS: dict[str, Callable[[Pen, SceneObject, np.random.Generator], None]] = {
    "human_face": draw_human_face,
    "person": draw_person,
    "hand": draw_hand,
    "leg": draw_leg,
    "animal_face": draw_animal_face,
    "cat": draw_cat,
    "dog": draw_dog,
    "bird": draw_bird,
}
