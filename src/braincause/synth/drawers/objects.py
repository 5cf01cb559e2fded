"""Drawers for text, signs, logos and everyday objects.

Categories: ``printed_text``, ``handwritten_text``, ``logo``, ``traffic_sign``,
``blank_sign``, ``clock``, ``hammer``, ``scissors``, ``wrench``, ``phone``,
``book`` and ``ball``.

Signs, books and phones carry no lettering of their own: the scene sampler places
a separate ``printed_text`` part where :func:`sign_text_box` says.
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

WHITE: RGB = (250, 250, 248)
BLACK: RGB = (22, 22, 24)
METAL: RGB = (186, 189, 196)
PAPER: RGB = (248, 246, 238)
POLE: RGB = (150, 152, 158)

_SIGN_WORDS = ("OPEN", "SALE", "CAFE", "HOTEL", "EXIT", "NEWS", "BAKERY", "BOOKS", "PARK",
               "CITY", "MARKET", "TAXI", "BAR", "MUSEUM", "STATION", "SHOP", "FOOD", "PIZZA",
               "BANK", "NORTH", "MAIN ST", "GARAGE", "DINER", "POST", "GIFTS", "TICKETS")
_PAGE_WORDS = ("the", "and", "of", "to", "in", "it", "was", "with", "light", "time", "over",
               "world", "river", "small", "house", "said", "under", "night", "after", "water",
               "those", "paper", "story", "city", "morning", "road", "window", "green",
               "every", "never", "a", "is", "on", "that", "for", "she", "his", "from")


# --------------------------------------------------------------------------- helpers
def _var(obj: SceneObject) -> int:
    return int(obj.variant) % max(1, CATEGORIES[obj.category].variants)


def _lum(c: Sequence[float]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _rot(c: RGB, k: int = 1) -> RGB:
    """Cheap hue change: rotate the RGB channels ``k`` times."""
    k %= 3
    return c if k == 0 else (c[1], c[2], c[0]) if k == 1 else (c[2], c[0], c[1])


def _aspect(pen: Pen) -> tuple[float, float]:
    """Local u and v extent of one min-side unit."""
    return pen.unit / max(pen.w, 1.0), pen.unit / max(pen.h, 1.0)


def _sq(pen: Pen, pts: Sequence[Point], cu: float = 0.5, cv: float = 0.5) -> list[Point]:
    """Points in min-side units about (cu, cv) → local (u, v) (keeps true shapes)."""
    ax, ay = _aspect(pen)
    return [(cu + x * ax, cv + y * ay) for x, y in pts]


def _circle(pen: Pen, cu: float, cv: float, r: float, fill: RGB | None = None,
            outline: RGB | None = None, width: float = 0.0, n: int = 28,
            start: float = 0.0, end: float = 360.0) -> None:
    """Round (in pixels) circle of radius ``r`` min-side units."""
    ax, ay = _aspect(pen)
    pen.ellipse(cu, cv, r * ax, r * ay, fill=fill, outline=outline, width=width, n=n,
                start=start, end=end)


def _ring(pen: Pen, cu: float, cv: float, ru: float, rv: float, tu: float, tv: float,
          fill: RGB, n: int = 24) -> None:
    """Elliptic ring (one keyhole polygon, so the hole stays see-through); radii and
    thicknesses in local u/v units."""
    ts = [2 * math.pi * k / n for k in range(n + 1)]
    outer = [(cu + ru * math.cos(t), cv + rv * math.sin(t)) for t in ts]
    inner = [(cu + (ru - tu) * math.cos(t), cv + (rv - tv) * math.sin(t)) for t in reversed(ts)]
    pen.polygon(outer + inner, fill=fill)


def _ngon(n: int, r: float, phase: float = 0.0, cx: float = 0.0, cy: float = 0.0,
          ry: float | None = None) -> list[Point]:
    ry = r if ry is None else ry
    return [(cx + r * math.cos(phase + 2 * math.pi * k / n),
             cy + ry * math.sin(phase + 2 * math.pi * k / n)) for k in range(n)]


_WIDTHS: dict[tuple[str, int], float] = {}
_REF_PX = 48  # reference font size for width estimates


def _text_w(pen: Pen, s: str, height: float) -> float:
    """``pen.text_width`` (local u units) memoised on (string, font pixel size)."""
    size = max(4, round(height * pen.h))
    key = (s, size)
    px = _WIDTHS.get(key)
    if px is None:
        if len(_WIDTHS) > 8192:
            _WIDTHS.clear()
        px = pen.text_width(s, size / max(pen.h, 1.0)) * max(pen.w, 1.0)
        _WIDTHS[key] = px
    return px / max(pen.w, 1.0)


def _fit_height(pen: Pen, s: str, max_w: float, max_h: float) -> float:
    """Largest font height (local v units, ≤ ``max_h``) whose text width is ≤ ``max_w``."""
    ref = _REF_PX / max(pen.h, 1.0)
    h = min(max_h, ref * max_w / max(_text_w(pen, s, ref), 1e-6) * 0.97)
    for _ in range(3):
        w = _text_w(pen, s, h)
        if w <= max_w:
            break
        h *= 0.92 * max_w / w
    return h


def _split_lines(words: list[str], n: int) -> list[str]:
    """Split ``words`` into ``n`` lines of balanced character counts."""
    if n <= 1 or len(words) <= 1:
        return [" ".join(words)]
    total = sum(len(w) + 1 for w in words)
    lines: list[str] = []
    cur: list[str] = []
    acc = 0
    for i, w in enumerate(words):
        cur.append(w)
        acc += len(w) + 1
        left = len(words) - i - 1
        if (len(lines) < n - 1 and acc >= total * (len(lines) + 1) / n and left > 0):
            lines.append(" ".join(cur))
            cur = []
    if cur:
        lines.append(" ".join(cur))
    return lines


def _text_block(pen: Pen, text: str, ink: RGB, u0: float, v0: float, u1: float,
                v1: float) -> None:
    """Typeset ``text`` as large as fits into the local box, in 1–3 centred lines."""
    words = text.split() or ["TEXT"]
    bw, bh = u1 - u0, v1 - v0
    ref = _REF_PX / max(pen.h, 1.0)
    best: tuple[float, list[str]] = (0.0, [])
    for n in range(1, min(3, len(words)) + 1):
        lines = _split_lines(words, n)
        wref = max(_text_w(pen, ln, ref) for ln in lines)
        h = min(bh / len(lines) * 0.92, ref * bw / max(wref, 1e-6) * 0.97)
        if h > best[0] * 1.08:
            best = (h, lines)
    h, lines = best
    for _ in range(3):  # font sizes are whole pixels: make sure the widest line fits
        w = max(_text_w(pen, ln, h) for ln in lines)
        if w <= bw:
            break
        h *= 0.92 * bw / w
    pitch = bh / len(lines)
    for i, ln in enumerate(lines):
        pen.text((u0 + u1) / 2, v0 + pitch * (i + 0.5), ln, ink, h)


# --------------------------------------------------------------------------- text
def _draw_printed_text(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Typeset lettering; 0 ink only, 1 on a paper/poster, 2 a page of small text."""
    var = _var(obj)
    ink = tuple(obj.color)
    text = obj.text.strip()
    if not text:
        k = int(rng.integers(1, 4))
        text = " ".join(str(w) for w in rng.choice(_SIGN_WORDS, size=k, replace=False))
    dark_ink = _lum(ink) < 140
    if var == 0:
        _text_block(pen, text, ink, 0.02, 0.04, 0.98, 0.96)
        return
    papers = [(250, 250, 246), (246, 236, 210), (252, 244, 180), (236, 242, 248)] if dark_ink \
        else [(30, 45, 90), (120, 25, 30), (25, 80, 50), (35, 35, 40)]
    paper = papers[int(rng.integers(len(papers)))]
    if var == 1:
        pen.rect(0.04, 0.06, 1.0, 1.0, fill=shade(paper, 0.55))  # drop shadow
        pen.rect(0.0, 0.0, 0.96, 0.94, fill=paper, outline=shade(paper, 0.8), width=0.02)
        accent = mix(ink, paper, 0.35)
        pen.rect(0.06, 0.1, 0.9, 0.14, fill=accent)
        pen.rect(0.06, 0.8, 0.9, 0.84, fill=accent)
        _text_block(pen, text, ink, 0.08, 0.18, 0.88, 0.77)
        return
    # var 2: a page — heading plus many lines of small body text
    pen.rect(0.03, 0.03, 1.0, 1.0, fill=shade(paper, 0.6))
    pen.rect(0.0, 0.0, 0.97, 0.97, fill=paper, outline=shade(paper, 0.82), width=0.015)
    head = _fit_height(pen, text.split("\n")[0], 0.8, 0.16)
    pen.text(0.485, 0.12, text.split("\n")[0], ink, head)
    body_ink = mix(ink, paper, 0.12)
    n_lines = 6
    top, bottom = 0.25, 0.93
    pitch = (bottom - top) / n_lines
    gap_after = int(rng.integers(1, n_lines - 2))
    for i in range(n_lines):
        short = i == n_lines - 1 or i == gap_after
        end = 0.065 + 0.84 * (rng.uniform(0.35, 0.75) if short else 1.0)
        _small_print(pen, 0.065, end, top + pitch * (i + 0.76), pitch * 0.4, body_ink, rng,
                     capital=i == 0 or i == gap_after + 1, mirror=0.97)


# Print-like letter strokes, 5 points each: (dx in letter advances, y in x-heights up).
_PRINT_TPL = np.array([
    [(0.0, 0.0), (0.0, 1.0), (0.62, 1.0), (0.62, 0.0), (0.62, 0.0)],    # n / u / m stems
    [(0.0, 0.5), (0.31, 1.0), (0.62, 0.5), (0.31, 0.0), (0.0, 0.5)],    # o / e / c bowl
    [(0.0, 0.0), (0.0, 1.5), (0.0, 1.0), (0.62, 1.0), (0.62, 0.0)],     # l / h / d ascender
    [(0.0, -0.5), (0.0, 1.0), (0.62, 1.0), (0.62, 0.0), (0.0, 0.0)],    # p / g / y descender
    [(0.0, 0.0), (0.0, 1.5), (0.62, 1.5), (0.62, 0.0), (0.62, 0.0)],    # capital
])
_PRINT_KIND = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])


def _small_print(pen: Pen, u0: float, u1: float, base: float, xh: float, ink: RGB,
                 rng: np.random.Generator, capital: bool = False,
                 mirror: float | None = None) -> None:
    """One line of small body text as glyph strokes (x-height ``xh``, local v units).

    Each word is a single polyline of letter-like stems, bowls, ascenders and
    descenders: at body-text sizes it has the texture of print at a fraction of
    the cost of rasterising real glyphs. With ``mirror`` set and the pen flipped,
    u is reflected about ``mirror / 2`` so that strokes are not mirrored.
    """
    adv = xh * pen.h / max(pen.w, 1.0) * 0.95  # letter advance, u units
    room = int((u1 - u0) / adv) if adv > 0 else 0
    if room < 1:
        return
    lens = rng.integers(1, 9, size=room)
    starts = np.concatenate([[0.0], np.cumsum(lens + 0.7)[:-1]])
    n_words = max(1, int(np.searchsorted(starts + lens, room, side="right")))
    lens = np.minimum(lens[:n_words], room)
    starts = starts[:n_words]
    n = int(lens.sum())
    kinds = _PRINT_KIND[rng.integers(0, 10, size=n)]
    if capital:
        kinds[0] = 4
    word_of = np.repeat(np.arange(n_words), lens)
    first = np.concatenate([[0], np.cumsum(lens)])
    pos = starts[word_of] + (np.arange(n) - first[word_of])
    tpl = _PRINT_TPL[kinds]
    us = u0 + (pos[:, None] + tpl[..., 0]) * adv
    if mirror is not None and pen.flip:
        us = mirror - us
    vs = base - tpl[..., 1] * xh
    pts = np.stack([us, vs], axis=-1).reshape(-1, 2).tolist()
    width = max(1e-3, 0.16 * xh * pen.h / pen.unit)
    for k in range(n_words):
        pen.line(pts[5 * first[k]:5 * first[k + 1]], ink, width, joint=False)


# Cursive letter templates: (dx, y) in x-heights, y up from the baseline; advance.
_GLYPHS: dict[str, tuple[tuple[Point, ...], float]] = {
    "e": (((0.0, 0.0), (0.35, 0.45), (0.45, 0.8), (0.3, 0.95), (0.15, 0.7), (0.2, 0.2),
           (0.45, 0.0), (0.7, 0.15)), 0.7),
    "l": (((0.0, 0.0), (0.35, 0.9), (0.5, 1.9), (0.38, 2.3), (0.22, 1.9), (0.2, 0.6),
           (0.3, 0.05), (0.6, 0.15)), 0.6),
    "o": (((0.0, 0.05), (0.2, 0.6), (0.45, 0.95), (0.2, 0.9), (0.08, 0.45), (0.25, 0.0),
           (0.5, 0.2), (0.48, 0.85), (0.75, 0.8)), 0.75),
    "a": (((0.0, 0.1), (0.5, 0.9), (0.25, 0.95), (0.05, 0.5), (0.2, 0.0), (0.45, 0.3),
           (0.55, 0.95), (0.52, 0.25), (0.6, 0.0), (0.8, 0.15)), 0.8),
    "n": (((0.0, 0.0), (0.12, 0.85), (0.12, 0.0), (0.25, 0.7), (0.45, 0.95), (0.55, 0.6),
           (0.55, 0.05), (0.8, 0.15)), 0.8),
    "m": (((0.0, 0.0), (0.1, 0.85), (0.1, 0.0), (0.2, 0.7), (0.35, 0.95), (0.45, 0.5),
           (0.45, 0.0), (0.55, 0.7), (0.7, 0.95), (0.8, 0.5), (0.8, 0.05), (1.05, 0.15)), 1.05),
    "u": (((0.0, 0.05), (0.15, 0.9), (0.15, 0.2), (0.35, 0.0), (0.55, 0.4), (0.6, 0.9),
           (0.58, 0.15), (0.8, 0.1)), 0.8),
    "g": (((0.0, 0.1), (0.45, 0.9), (0.2, 0.95), (0.05, 0.5), (0.2, 0.05), (0.45, 0.4),
           (0.55, 0.9), (0.5, -0.6), (0.35, -1.2), (0.15, -1.0), (0.3, -0.3), (0.8, 0.1)), 0.8),
    "h": (((0.0, 0.0), (0.35, 1.0), (0.45, 1.9), (0.32, 2.3), (0.18, 1.9), (0.15, 0.0),
           (0.25, 0.6), (0.45, 0.9), (0.6, 0.6), (0.6, 0.05), (0.85, 0.15)), 0.85),
    "t": (((0.0, 0.0), (0.3, 0.6), (0.35, 1.7), (0.3, 0.3), (0.45, 0.0), (0.7, 0.15)), 0.7),
    "r": (((0.0, 0.0), (0.2, 0.8), (0.3, 0.75), (0.45, 0.95), (0.45, 0.4), (0.5, 0.0),
           (0.7, 0.15)), 0.7),
    "c": (((0.0, 0.1), (0.45, 0.85), (0.3, 0.95), (0.08, 0.5), (0.25, 0.0), (0.6, 0.15)), 0.6),
    "s": (((0.0, 0.0), (0.35, 0.9), (0.45, 0.35), (0.3, 0.0), (0.1, 0.1), (0.35, 0.05),
           (0.6, 0.15)), 0.6),
}
_CHAR_CLASS = {**{c: "h" for c in "bdhk"}, **{c: "l" for c in "lf"}, "t": "t",
               **{c: "a" for c in "aq"}, "o": "o", **{c: "n" for c in "nx"}, "m": "m",
               **{c: "u" for c in "uiwv"}, **{c: "g" for c in "gjpyz"}, "r": "r", "s": "s",
               "c": "c", "e": "e"}
_FREQ = "eeettaaooinnsshrrdlcumwfgypb"


_GLYPH_ARR = {k: (np.asarray(t, dtype=float), a) for k, (t, a) in _GLYPHS.items()}


def _cursive_line(words: list[str], rng: np.random.Generator,
                  space: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cursive polylines of ``words`` set on one line (x-height units, y up).

    Returns the points, the index of each word's first point (plus the total),
    and the x where each word ends.
    """
    glyphs = [_GLYPH_ARR[_CHAR_CLASS.get(ch, "e")] for w in words for ch in w.lower()]
    n_letters = [len(w) for w in words]
    scale = rng.uniform(0.9, 1.15, size=len(glyphs))
    adv = np.array([a for _, a in glyphs]) * scale
    last = np.cumsum(n_letters) - 1
    gaps = np.zeros(len(glyphs))
    gaps[last] = space * rng.uniform(0.8, 1.3, size=len(words))
    step = adv + gaps
    start = np.concatenate([[0.0], np.cumsum(step)[:-1]])
    counts = np.array([len(t) for t, _ in glyphs])
    arr = np.concatenate([t for t, _ in glyphs])
    which = np.repeat(np.arange(len(glyphs)), counts)
    arr[:, 0] = arr[:, 0] * scale[which] + start[which]
    arr[:, 1] *= rng.uniform(0.92, 1.08, size=len(arr))
    first_pt = np.concatenate([[0], np.cumsum(counts)])
    first_letter = np.concatenate([[0], last + 1])
    return arr, first_pt[first_letter], start[last] + adv[last]


def _handwriting(pen: Pen, obj: SceneObject, rng: np.random.Generator, ink: RGB,
                 u0: float, u1: float, baselines: Sequence[float], xh: float) -> None:
    """Cursive words filling lines on ``baselines`` (local v), x-height ``xh`` (local v)."""
    sx = xh * pen.h / max(pen.w, 1.0)  # one x-height in u units
    space = 0.7
    given = obj.text.split()
    slant = rng.uniform(0.2, 0.45)
    width = max(1e-3, 0.11 * xh * pen.h / pen.unit)
    limit = (u1 - u0) / sx
    wi = 0
    for li, base in enumerate(baselines):
        if given and wi >= len(given):
            return
        indent = rng.uniform(0.0, 0.6) if li else 0.0
        if given:
            words = given[wi:]
        else:
            n = max(1, int(limit / 3.5) + 1)
            lens = rng.integers(2, 8, size=n)
            letters = rng.integers(0, len(_FREQ), size=int(lens.sum())).tolist()
            cuts = np.concatenate([[0], np.cumsum(lens)]).tolist()
            words = ["".join(_FREQ[i] for i in letters[cuts[k]:cuts[k + 1]]) for k in range(n)]
        pts, first, ends = _cursive_line(words, rng, space)
        fit = max(1, int(np.searchsorted(ends + indent, limit, side="right")))
        if not given and li == len(baselines) - 1:  # the note ends mid-line
            fit = max(1, min(fit, int(rng.integers(1, fit + 1))))
        wi += fit
        pts = pts[: first[fit]]
        xs = pts[:, 0] + indent + pts[:, 1] * slant
        ys = (pts[:, 1] + 0.18 * np.sin(rng.uniform(0, 2 * math.pi) + xs * 0.7)
              + rng.uniform(-0.25, 0.25) * xs / limit)
        us = u0 + xs * sx
        if pen.flip:  # handwriting is never mirrored, only its position is
            us = (u0 + u1) - us
        vs = base - ys * xh
        uv = np.stack([us, vs], axis=1).tolist()
        for k in range(fit):
            pen.line(uv[first[k]:first[k + 1]], ink, width, joint=False)


def _draw_handwritten_text(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Cursive handwriting; 0 on a yellow sticky note, 1 on lined paper, 2 ink only."""
    var = _var(obj)
    ink = tuple(obj.color)
    if var == 0:
        note = mix((252, 234, 110), (250, 214, 90), rng.uniform(0, 1))
        pen.polygon([(0.04, 0.05), (1.0, 0.05), (1.0, 1.0), (0.04, 1.0)], fill=shade(note, 0.6))
        pen.polygon([(0.0, 0.0), (0.96, 0.0), (0.96, 0.84), (0.86, 0.95), (0.0, 0.95)],
                    fill=note)
        pen.rect(0.0, 0.0, 0.96, 0.16, fill=shade(note, 0.95))
        pen.polygon([(0.96, 0.84), (0.86, 0.95), (0.88, 0.85)], fill=shade(note, 0.8))
        n = 3
        bases = [0.38 + i * 0.22 for i in range(n)]
        _handwriting(pen, obj, rng, ink, 0.07, 0.9, bases, 0.075)
    elif var == 1:
        pen.rect(0.02, 0.03, 1.0, 1.0, fill=(150, 150, 150))
        pen.rect(0.0, 0.0, 0.98, 0.97, fill=PAPER)
        pitch = 0.17
        bases = [0.27 + i * pitch for i in range(5)]
        for b in bases:
            pen.line([(0.0, b), (0.98, b)], (150, 185, 225), 0.008, joint=False)
        pen.line([(0.13, 0.0), (0.13, 0.97)], (225, 110, 110), 0.01, joint=False)
        for hv in (0.2, 0.5, 0.8):
            _circle(pen, 0.05, hv, 0.03, fill=(200, 200, 196))
        _handwriting(pen, obj, rng, ink, 0.16, 0.95, bases[:3], pitch * 0.32)
    else:
        bases = [0.45, 0.85]
        _handwriting(pen, obj, rng, ink, 0.02, 0.98, bases, 0.13)


# --------------------------------------------------------------------------- logo
def _draw_logo(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Brand mark: 0 circle+swoosh, 1 shield+initial, 2 star/triangle, 3 linked rings."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    dark = shade(col, 0.6)
    light = WHITE if _lum(col) < 200 else (40, 40, 60)
    if var == 0:
        _circle(pen, 0.5, 0.5, 0.48, fill=dark)
        _circle(pen, 0.5, 0.5, 0.44, fill=col)
        bend = rng.uniform(0.3, 0.5)
        top, bot = [], []
        for k in range(12):
            t = k / 11
            x = -0.34 + 0.72 * t
            y = 0.08 + 0.1 * math.sin(math.pi * min(1.0, t * 2.2)) - bend * t * t
            th = 0.2 * (1 - t) ** 1.3 * min(1.0, 0.3 + t * 5) + 0.004
            top.append((x, y - th * 0.25))
            bot.append((x, y + th * 0.75))
        pen.polygon(_sq(pen, top + bot[::-1]), fill=light)
        pen.ellipse(*_sq(pen, [(-0.18, -0.28)])[0], 0.07 * _aspect(pen)[0],
                    0.04 * _aspect(pen)[1], fill=shade(col, 1.25))
    elif var == 1:
        shield = [(-0.4, -0.44), (0.0, -0.48), (0.4, -0.44), (0.4, 0.02), (0.3, 0.25),
                  (0.0, 0.48), (-0.3, 0.25), (-0.4, 0.02)]
        pen.polygon(_sq(pen, shield), fill=col, outline=dark, width=0.05)
        inner = [(x * 0.8, y * 0.8 - 0.01) for x, y in shield]
        pen.polygon(_sq(pen, inner), outline=light, width=0.025)
        letter = (obj.text.strip()[:1] or chr(65 + int(rng.integers(26)))).upper()
        ay = _aspect(pen)[1]
        pen.text(0.5, 0.5 - 0.03 * ay, letter, light, 0.5 * ay)
    elif var == 2:
        if rng.uniform() < 0.5:
            star = [(0.48 * (1 if k % 2 == 0 else 0.42) * math.cos(-math.pi / 2 + k * math.pi / 5),
                     0.04 + 0.48 * (1 if k % 2 == 0 else 0.42)
                     * math.sin(-math.pi / 2 + k * math.pi / 5)) for k in range(10)]
            pen.polygon(_sq(pen, star), fill=col, outline=dark, width=0.04)
            pen.polygon(_sq(pen, [(x * 0.45, y * 0.45 + 0.02) for x, y in star]),
                        fill=shade(col, 1.35))
        else:
            tri = [(0.0, -0.46), (0.48, 0.4), (-0.48, 0.4)]
            pen.polygon(_sq(pen, tri), fill=col, outline=dark, width=0.04)
            pen.polygon(_sq(pen, [(0.0, 0.4), (0.24, -0.03), (-0.24, -0.03)]), fill=light)
            pen.polygon(_sq(pen, [(0.0, -0.18), (0.1, 0.0), (-0.1, 0.0)]), fill=dark)
    else:
        cols = [col, _rot(col, 1), _rot(col, 2)]
        if max(col) - min(col) < 40:  # greys/whites: make the rings distinguishable
            cols = [col, (40, 110, 210), (220, 40, 40)]
        r = 0.2
        centres = [(-0.24, -0.12), (0.24, -0.12), (0.0, 0.2)]
        ax, ay = _aspect(pen)
        t = 0.075
        for (x, y), c in zip(centres, cols, strict=True):
            _ring(pen, 0.5 + x * ax, 0.5 + y * ay, (r + t / 2) * ax, (r + t / 2) * ay, t * ax,
                  t * ay, c, n=28)
        # re-draw an arc of the first ring over the third: interlocking look
        x, y = centres[0]
        _circle(pen, 0.5 + x * ax, 0.5 + y * ay, r, outline=cols[0], width=t, start=25, end=75,
                n=10)


# --------------------------------------------------------------------------- signs
_TS_COLORS: tuple[RGB, ...] = ((200, 30, 30), (30, 80, 180), (240, 200, 30), (30, 130, 60))


def _ts_layout(obj: SceneObject) -> dict[str, tuple[float, float, float, float]]:
    """Local boxes (u0, v0, u1, v1) of a traffic sign's face, plate and text area."""
    var = _var(obj)
    a = max(1e-3, obj.w / max(obj.h, 1e-6))  # pixel aspect of the box
    out: dict[str, tuple[float, float, float, float]] = {}
    if var == 3:
        fw = 0.96
        fh = min(0.5, fw * a * 0.5)
        face = (0.5 - fw / 2, 0.02, 0.5 + fw / 2, 0.02 + fh)
        out["face"] = face
        ar = fh * 0.8 / a  # arrow zone width (square-ish)
        out["text"] = (face[0] + 0.05, face[1] + fh * 0.16, face[2] - ar - 0.04,
                       face[3] - fh * 0.16)
        return out
    fw = min(0.94, 0.5 / a)
    fh = fw * a
    face = (0.5 - fw / 2, 0.02, 0.5 + fw / 2, 0.02 + fh)
    out["face"] = face
    if var == 0:
        out["text"] = (0.5 - fw * 0.38, face[1] + fh * 0.36, 0.5 + fw * 0.38, face[1] + fh * 0.64)
    else:
        pw, ph = fw * 0.78, fh * 0.3
        top = face[3] + fh * 0.05
        out["plate"] = (0.5 - pw / 2, top, 0.5 + pw / 2, top + ph)
        out["text"] = (0.5 - pw * 0.44, top + ph * 0.14, 0.5 + pw * 0.44, top + ph * 0.86)
    return out


def _arrow(pen: Pen, cu: float, cv: float, s: float, direction: float, fill: RGB) -> None:
    """Block arrow centred at (cu, cv), size ``s`` (min-side units), pointing ``direction``°."""
    shape = [(-0.5, -0.12), (0.08, -0.12), (0.08, -0.32), (0.5, 0.0), (0.08, 0.32), (0.08, 0.12),
             (-0.5, 0.12)]
    c, sn = math.cos(math.radians(direction)), math.sin(math.radians(direction))
    pts = [(s * (x * c - y * sn), s * (x * sn + y * c)) for x, y in shape]
    pen.polygon(_sq(pen, pts, cu, cv), fill=fill)


def _draw_traffic_sign(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Pole + face: 0 red octagon, 1 blue circle/arrow, 2 yellow diamond, 3 green panel."""
    var = _var(obj)
    lay = _ts_layout(obj)
    base = mix(_TS_COLORS[var], obj.color, 0.12)
    f0, f1, f2, f3 = lay["face"]
    fu, fv = (f0 + f2) / 2, (f1 + f3) / 2
    ax, ay = _aspect(pen)
    pw = 0.03 * ax  # pole half width: 3% of the box's short side
    poles = [0.22, 0.78] if var == 3 and pen.w > pen.h else [0.5]
    for p in poles:
        pen.rect(p - pw, fv, p + pw, 1.0, fill=POLE)
        pen.rect(p - pw * 0.4, fv, p - pw * 0.05, 1.0, fill=shade(POLE, 1.3))
    r = min((f2 - f0) / ax, (f3 - f1) / ay) / 2  # face radius, min-side units
    if var == 0:
        ph = math.pi / 8
        pen.polygon(_sq(pen, _ngon(8, r, ph), fu, fv), fill=shade(base, 0.7))
        pen.polygon(_sq(pen, _ngon(8, r * 0.96, ph), fu, fv), fill=WHITE)
        pen.polygon(_sq(pen, _ngon(8, r * 0.88, ph), fu, fv), fill=base)
        pen.polygon(_sq(pen, [(-r * 0.6, -r * 0.75), (r * 0.2, -r * 0.75), (-r * 0.6, -r * 0.2)],
                        fu, fv), fill=shade(base, 1.12))
        return
    if var == 1:
        _circle(pen, fu, fv, r, fill=shade(base, 0.65))
        _circle(pen, fu, fv, r * 0.96, fill=WHITE)
        _circle(pen, fu, fv, r * 0.9, fill=base)
        direction = float(rng.choice([-90.0, 0.0, 180.0, -45.0]))
        _arrow(pen, fu, fv, r * 1.25, direction, WHITE)
    elif var == 2:
        dia = [(0.0, -r), (r, 0.0), (0.0, r), (-r, 0.0)]
        pen.polygon(_sq(pen, dia, fu, fv), fill=BLACK)
        pen.polygon(_sq(pen, [(x * 0.93, y * 0.93) for x, y in dia], fu, fv), fill=base)
        pen.polygon(_sq(pen, [(x * 0.83, y * 0.83) for x, y in dia], fu, fv), outline=BLACK,
                    width=0.025 * r / 0.5)
        kind = int(rng.integers(3))
        if kind == 0:  # exclamation mark
            pen.polygon(_sq(pen, [(-0.07 * r, -0.5 * r), (0.07 * r, -0.5 * r),
                                  (0.045 * r, 0.12 * r), (-0.045 * r, 0.12 * r)], fu, fv),
                        fill=BLACK)
            _circle(pen, fu, fv + 0.3 * r * ay, 0.075 * r, fill=BLACK)
        elif kind == 1:  # bending road
            pts = [(-0.1 * r, 0.5 * r), (-0.1 * r, 0.1 * r), (0.15 * r, -0.1 * r),
                   (0.15 * r, -0.3 * r)]
            pen.line(_sq(pen, pts, fu, fv), BLACK, 0.12 * r, joint=True)
            pen.polygon(_sq(pen, [(0.15 * r, -0.55 * r), (0.33 * r, -0.28 * r),
                                  (-0.03 * r, -0.28 * r)], fu, fv), fill=BLACK)
        else:  # crossroads
            pen.rect(*_sq(pen, [(-0.07 * r, -0.5 * r)], fu, fv)[0],
                     *_sq(pen, [(0.07 * r, 0.5 * r)], fu, fv)[0], fill=BLACK)
            pen.rect(*_sq(pen, [(-0.42 * r, -0.07 * r)], fu, fv)[0],
                     *_sq(pen, [(0.42 * r, 0.07 * r)], fu, fv)[0], fill=BLACK)
    else:
        pen.rounded_rect(f0, f1, f2, f3, 0.06, fill=shade(base, 0.65))
        pen.rounded_rect(f0 + 0.012, f1 + 0.012 * ax / ay, f2 - 0.012, f3 - 0.012 * ax / ay,
                         0.05, fill=base)
        inset = 0.045
        pen.rounded_rect(f0 + inset * ax, f1 + inset * ay, f2 - inset * ax, f3 - inset * ay,
                         0.04, outline=WHITE, width=0.018)
        s = (f3 - f1) / ay * 0.62
        _arrow(pen, f2 - inset * ax - s * 0.62 * ax, fv, s, 0.0, WHITE)
        return
    p0, p1, p2, p3 = lay["plate"]
    pen.rect(p0, p1, p2, p3, fill=BLACK if var == 2 else shade(base, 0.6))
    inner = (p0 + 0.01 * ax, p1 + 0.01 * ay, p2 - 0.01 * ax, p3 - 0.01 * ay)
    pen.rect(*inner, fill=base if var == 2 else WHITE)


def _bs_layout(obj: SceneObject) -> dict[str, tuple[float, float, float, float]]:
    """Local boxes of a blank sign's board and text area."""
    var = _var(obj)
    a = max(1e-3, obj.w / max(obj.h, 1e-6))
    if var == 0:
        bw = 0.96
        bh = min(0.62, bw * a / 1.4)
        board = (0.02, 0.02, 0.98, 0.02 + bh)
    elif var == 1:
        bw = 0.98
        bh = min(0.6, bw * a / 1.7)
        board = (0.01, 0.04, 0.99, 0.04 + bh)
    else:
        bw = 0.72
        bh = min(0.7, bw * a / 1.1)
        board = (0.2, 0.16, 0.92, 0.16 + bh)
    # the frame is 4.5% of the short side: keep the text 2 frames in from the edge
    fu = 0.05 * min(obj.w, obj.h) / max(obj.w, 1e-6)
    fv = 0.05 * min(obj.w, obj.h) / max(obj.h, 1e-6)
    text = (board[0] + 2 * fu, board[1] + 2 * fv, board[2] - 2 * fu, board[3] - 2 * fv)
    return {"board": board, "text": text}


def _draw_blank_sign(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Empty board: 0 on one post, 1 billboard on two legs, 2 hanging shop sign."""
    var = _var(obj)
    lay = _bs_layout(obj)
    b0, b1, b2, b3 = lay["board"]
    col: RGB = tuple(obj.color)
    ax, ay = _aspect(pen)
    wood = (110, 78, 50)
    metal = (96, 98, 104)
    frame_c = wood if var == 2 or rng.uniform() < 0.3 else metal
    if var == 0:
        pw = 0.05 * ax
        pen.rect(0.5 - pw, b3 - 0.02, 0.5 + pw, 1.0, fill=frame_c)
        pen.rect(0.5 - pw * 0.5, b3, 0.5 - pw * 0.1, 1.0, fill=shade(frame_c, 1.3))
    elif var == 1:
        for x in (0.25, 0.75):
            pen.rect(x - 0.035 * ax, b3 - 0.02, x + 0.035 * ax, 1.0, fill=metal)
        mid = (b3 + 1.0) / 2
        pen.line([(0.25, b3 + 0.03), (0.75, mid)], metal, 0.02, joint=False)
        pen.line([(0.75, b3 + 0.03), (0.25, mid)], metal, 0.02, joint=False)
        pen.rect(0.08, b3 - 0.005, 0.92, b3 + 0.025 * ay, fill=shade(metal, 0.8))  # catwalk
        for x in (0.3, 0.7):  # lamps on arms
            pen.line([(x, b1), (x, b1 - 0.03 * ay), (x + 0.06 * ax, b1 - 0.03 * ay)], metal,
                     0.015, joint=False)
    else:
        pen.rect(0.0, 0.02, 0.06 * ax, 0.02 + 0.16 * ay, fill=shade(metal, 0.8))  # wall plate
        arm_v = 0.06
        pen.line([(0.0, arm_v), (0.98, arm_v)], metal, 0.035, joint=False)
        pen.line([(0.02, arm_v + 0.12 * ay), (0.3, arm_v)], metal, 0.025, joint=False)
        _circle(pen, 0.98 - 0.03 * ax, arm_v, 0.03, fill=metal)
        for x in (b0 + 0.12 * (b2 - b0), b2 - 0.12 * (b2 - b0)):
            pen.line([(x, arm_v), (x, b1)], (70, 70, 75), 0.015, joint=False)
    # board with frame, bevel highlight and a soft lower shade
    pen.rect(b0, b1, b2, b3, fill=frame_c)
    fu, fv = 0.045 * ax, 0.045 * ay
    pen.rect(b0 + fu, b1 + fv, b2 - fu, b3 - fv, fill=col)
    pen.rect(b0 + fu, b1 + fv, b2 - fu, b1 + 1.6 * fv, fill=shade(col, 1.15))
    pen.rect(b0 + fu, b3 - 1.8 * fv, b2 - fu, b3 - fv, fill=shade(col, 0.88))
    if var == 0:
        for x in (b0 + 2.2 * fu, b2 - 2.2 * fu):  # bolts
            _circle(pen, x, (b1 + b3) / 2, 0.018, fill=shade(col, 0.7))


def sign_text_box(obj: SceneObject) -> tuple[float, float, float, float, float]:
    """Where a ``printed_text`` part goes on ``obj``.

    Defined for ``traffic_sign``, ``blank_sign``, ``book`` and ``phone``. Returns
    ``(cx, cy, w, h, angle)`` in normalised image coordinates (the SceneObject
    convention): the box centre, its size, and the parent's rotation in degrees.
    The box follows the parent's flip and rotation and depends only on ``obj``'s
    box, variant, flip and angle.
    """
    cat = obj.category
    if cat == "traffic_sign":
        box = _ts_layout(obj)["text"]
    elif cat == "blank_sign":
        box = _bs_layout(obj)["text"]
    elif cat == "book":
        box = _book_layout(obj)["text"]
    elif cat == "phone":
        box = _phone_layout(obj)["text"]
    else:
        raise ValueError(f"sign_text_box: no text area for category {cat!r}")
    return obj.local_box_to_image(*box)


def sign_text_ink(obj: SceneObject) -> RGB:
    """A legible ink colour for the ``printed_text`` placed at :func:`sign_text_box`.

    The text area is not always ``obj.color``: traffic signs 1 and 2 put it on a
    white / yellow plate, an open book on a cream page, a phone on its screen.
    """
    cat, var = obj.category, _var(obj)
    dark, light = (20, 20, 20), (250, 250, 250)
    if cat == "traffic_sign":
        return light if var in (0, 3) else dark
    if cat == "phone":
        return light
    if cat == "book" and var == 1:
        return dark
    if cat in ("blank_sign", "book"):
        return dark if _lum(obj.color) > 150 else light
    raise ValueError(f"sign_text_ink: no text area for category {cat!r}")


# --------------------------------------------------------------------------- clock
def _draw_clock(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Wall clock with 12 ticks and two hands; variant 1 has a square frame."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    if _lum(col) > 200:
        frame, face = (45, 45, 50), col
    else:
        frame, face = col, (250, 248, 240)
    ink = BLACK
    ax, ay = _aspect(pen)
    r = 0.48
    if var == 1:
        pen.rounded_rect(0.5 - 0.48 * ax, 0.5 - 0.48 * ay, 0.5 + 0.48 * ax, 0.5 + 0.48 * ay,
                         0.06, fill=shade(frame, 0.7))
        pen.rounded_rect(0.5 - 0.45 * ax, 0.5 - 0.45 * ay, 0.5 + 0.45 * ax, 0.5 + 0.45 * ay,
                         0.05, fill=frame)
        pen.rect(0.5 - 0.43 * ax, 0.5 - 0.43 * ay, 0.5 + 0.43 * ax, 0.5 - 0.4 * ay,
                 fill=shade(frame, 1.3))
        r = 0.38
    else:
        _circle(pen, 0.5, 0.5, r, fill=shade(frame, 0.7), n=36)
        _circle(pen, 0.5, 0.5, r * 0.95, fill=frame, n=36)
        _circle(pen, 0.5, 0.5, r * 0.9, fill=shade(frame, 1.25), n=36, start=200, end=290)
        r *= 0.86
    _circle(pen, 0.5, 0.5, r, fill=face, n=36)
    _circle(pen, 0.5 + 0.02 * ax, 0.5 + 0.02 * ay, r * 0.97, outline=shade(face, 0.85),
            width=0.02, n=24, start=-30, end=120)

    def at(t: float, rr: float) -> Point:
        a = 2 * math.pi * t
        return (0.5 + rr * math.sin(a) * ax, 0.5 - rr * math.cos(a) * ay)

    for k in range(12):
        big = k % 3 == 0
        pen.line([at(k / 12, r * (0.72 if big else 0.8)), at(k / 12, r * 0.9)], ink,
                 0.045 * r / 0.5 if big else 0.025 * r / 0.5, joint=False)
    hour = rng.uniform(0, 12)
    minute = rng.uniform(0, 60)
    hour = math.floor(hour) + minute / 60
    pen.line([at(hour / 12 + 0.5, r * 0.12), at(hour / 12, r * 0.5)], ink, 0.055 * r / 0.5)
    pen.line([at(minute / 60 + 0.5, r * 0.15), at(minute / 60, r * 0.78)], ink, 0.035 * r / 0.5)
    if rng.uniform() < 0.6:
        sec = rng.uniform(0, 1)
        pen.line([at(sec + 0.5, r * 0.2), at(sec, r * 0.82)], (200, 30, 30), 0.015 * r / 0.5)
    _circle(pen, 0.5, 0.5, 0.05 * r / 0.5, fill=ink, n=12)


# --------------------------------------------------------------------------- tools
def _draw_hammer(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Hammer lying along u, head on the right: 0 claw hammer, 1 mallet/sledge."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    steel = mix(METAL, (150, 150, 160), rng.uniform(0, 0.5))
    if var == 0:
        hu = rng.uniform(0.72, 0.78)  # head centre u
        t = 0.11
        pen.polygon([(0.02, 0.43), (hu, 0.4), (hu, 0.6), (0.02, 0.6)], fill=shade(col, 0.85))
        pen.polygon([(0.02, 0.43), (hu, 0.4), (hu, 0.46), (0.02, 0.48)], fill=shade(col, 1.15))
        # rubber grip with ridges
        grip = shade(col, 0.6)
        pen.rounded_rect(0.0, 0.39, 0.36, 0.64, 0.1, fill=grip)
        for x in (0.08, 0.16, 0.24):
            pen.line([(x, 0.4), (x, 0.63)], shade(grip, 0.7), 0.03, joint=False)
        # head: striking face below, claw above curving back over the handle
        pen.polygon([(hu - t, 0.3), (hu + t, 0.3), (hu + t * 0.8, 0.72), (hu + t * 1.1, 0.76),
                     (hu + t * 1.1, 0.97), (hu - t * 1.1, 0.97), (hu - t * 1.1, 0.76),
                     (hu - t * 0.8, 0.72)], fill=steel)
        claw = [(hu - t, 0.34), (hu + t, 0.34), (hu + t * 0.9, 0.16), (hu + t * 0.3, 0.05),
                (hu - t * 0.8, 0.03), (hu - t * 1.8, 0.08), (hu - t * 2.5, 0.2),
                (hu - t * 1.7, 0.17), (hu - t * 1.0, 0.2)]
        pen.polygon(claw, fill=steel)
        pen.polygon([(hu - t * 0.8, 0.03), (hu - t * 1.8, 0.08), (hu - t * 2.5, 0.2),
                     (hu - t * 1.6, 0.13), (hu - t * 0.6, 0.1)], fill=shade(steel, 0.72))
        pen.rect(hu - t * 1.1, 0.9, hu + t * 1.1, 0.97, fill=shade(steel, 0.75))
        pen.line([(hu - t * 0.4, 0.32), (hu - t * 0.4, 0.72)], shade(steel, 1.3), 0.04,
                 joint=False)
    else:
        hu = rng.uniform(0.74, 0.8)
        t = 0.14
        pen.rounded_rect(0.02, 0.4, hu, 0.6, 0.08, fill=col)
        pen.line([(0.05, 0.46), (hu - 0.02, 0.45)], shade(col, 1.25), 0.04, joint=False)
        pen.line([(0.05, 0.55), (hu - 0.02, 0.55)], shade(col, 0.8), 0.03, joint=False)
        pen.rounded_rect(0.0, 0.37, 0.06, 0.63, 0.05, fill=shade(col, 0.7))
        pen.polygon([(hu - t, 0.08), (hu + t, 0.08), (hu + t * 1.08, 0.14), (hu + t * 1.08, 0.86),
                     (hu + t, 0.92), (hu - t, 0.92), (hu - t * 1.08, 0.86), (hu - t * 1.08, 0.14)],
                    fill=steel)
        pen.rect(hu - t * 1.08, 0.02, hu + t * 1.08, 0.1, fill=shade(steel, 0.8))
        pen.rect(hu - t * 1.08, 0.9, hu + t * 1.08, 0.98, fill=shade(steel, 0.65))
        pen.rect(hu - t * 0.6, 0.14, hu - t * 0.25, 0.86, fill=shade(steel, 1.3))


def _draw_scissors(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Scissors pointing right: 0 open blades and round loops, 1 closed with uneven loops."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    steel = METAL
    piv = (0.5, 0.5)
    opening = rng.uniform(0.18, 0.3) if var == 0 else 0.04
    dark = shade(steel, 0.6)
    blades = []
    for sgn in (-1, 1):
        tip = (0.98, 0.5 + sgn * opening)
        back = (0.34, 0.5 - sgn * 0.2)  # the shank crosses to the opposite loop
        dx, dy = tip[0] - piv[0], tip[1] - piv[1]
        ln = math.hypot(dx, dy)
        nx, ny = -dy / ln, dx / ln
        wb = 0.1
        blade = [tip, (piv[0] + nx * wb * sgn, piv[1] + ny * wb * sgn * 1.0),
                 (back[0] + 0.02, back[1] + sgn * 0.02), (back[0], back[1] - sgn * 0.06),
                 (piv[0] - nx * wb * 0.2 * sgn, piv[1] - ny * wb * 0.2 * sgn)]
        blades.append((blade, tip, sgn))
    for blade, tip, _sgn in blades:
        pen.polygon(blade, fill=steel, outline=dark, width=0.02)
        pen.line([(piv[0] + 0.05, piv[1] + (tip[1] - piv[1]) * 0.1), tip], shade(steel, 1.35),
                 0.025, joint=False)
    ax, ay = _aspect(pen)
    loops = ((0.15, 0.23, 0.26), (0.15, 0.23, 0.26)) if var == 0 else \
        ((0.13, 0.2, 0.27), (0.18, 0.27, 0.22))
    for sgn, (ro_u, ro_v, off) in zip((-1, 1), loops, strict=True):
        cu, cv = ro_u + 0.01, 0.5 - sgn * off
        _ring(pen, cu, cv, ro_u, ro_v, 0.1 * ax, 0.1 * ay, shade(col, 0.7))
        _ring(pen, cu, cv, ro_u - 0.018 * ax, ro_v - 0.018 * ay, 0.064 * ax, 0.064 * ay, col)
        pen.line([(cu + ro_u * 0.8, cv + sgn * ro_v * 0.3), (0.36, 0.5 - sgn * 0.19)], col, 0.12)
    _circle(pen, piv[0], piv[1], 0.07, fill=dark)
    _circle(pen, piv[0], piv[1], 0.035, fill=shade(steel, 1.3))


def _open_jaw(cx: float, cy: float, r: float, slot: float, depth: float,
              tilt: float = 15.0) -> list[Point]:
    """Outline of an open-end spanner head (min-side units) opening to +x, tilted."""
    a0 = math.asin(min(0.95, slot / r))
    pts: list[Point] = []
    for k in range(14):
        a = a0 + (2 * math.pi - 2 * a0) * k / 13
        pts.append((r * math.cos(a), r * math.sin(a)))
    pts += [(r - depth, -slot), (r - depth - slot * 0.6, -slot * 0.5),
            (r - depth - slot * 0.6, slot * 0.5), (r - depth, slot)]
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def _draw_wrench(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Wrench along u: 0 combination spanner (open jaw + ring), 1 adjustable wrench."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    dark = shade(col, 0.62)
    hi = shade(col, 1.35)
    ax = _aspect(pen)[0]
    half_u = 0.5 / ax  # half box width in min-side units
    if var == 0:
        rr = 0.42
        ring_x = -half_u + rr * 0.95
        s0 = 0.5 + (ring_x + rr * 0.62) * ax
        s1 = 0.5 + (half_u - rr * 1.6) * ax
        pen.polygon([(s0, 0.36), (s1, 0.38), (s1, 0.62), (s0, 0.64)], fill=col,
                    outline=dark, width=0.04)
        pen.line([(s0 + 0.02, 0.45), (s1 - 0.02, 0.46)], hi, 0.06, joint=False)
        head = _open_jaw(half_u - rr, 0.0, rr, 0.17, 0.42, tilt=rng.uniform(10, 20))
        pen.polygon(_sq(pen, head), fill=col, outline=dark, width=0.04)
        ay = _aspect(pen)[1]
        rc = 0.5 + ring_x * ax
        _ring(pen, rc, 0.5, rr * 0.97 * ax, rr * 0.97 * ay, rr * 0.5 * ax, rr * 0.5 * ay, dark)
        _ring(pen, rc, 0.5, rr * 0.91 * ax, rr * 0.91 * ay, rr * 0.38 * ax, rr * 0.38 * ay, col)
    else:
        rr = 0.48
        grip = shade(col, 0.45) if rng.uniform() < 0.5 else (170, 40, 40)
        s1 = 0.5 + (half_u - rr * 1.6) * ax
        pen.polygon([(0.03, 0.3), (s1, 0.36), (s1, 0.64), (0.03, 0.7)], fill=col,
                    outline=dark, width=0.04)
        pen.rounded_rect(0.0, 0.28, 0.45, 0.72, 0.2, fill=grip)
        _circle(pen, 0.0 + 0.2 * ax, 0.5, 0.09, fill=shade(grip, 0.5))
        pen.line([(0.46, 0.44), (s1 - 0.02, 0.43)], hi, 0.06, joint=False)
        cx = half_u - rr
        head = _open_jaw(cx, 0.0, rr, 0.19, 0.55, tilt=-12.0)
        pen.polygon(_sq(pen, head), fill=col, outline=dark, width=0.04)
        # the movable jaw's seam and the knurled worm screw, inside the head
        seam = [(cx - rr * 0.25, 0.22), (cx + rr * 0.85, 0.08)]
        pen.line(_sq(pen, seam), dark, 0.03, joint=False)
        for k in range(4):
            x = cx - rr * 0.45 + k * rr * 0.13
            pen.line(_sq(pen, [(x, 0.26), (x, 0.4)]), dark, 0.035, joint=False)


# --------------------------------------------------------------------------- phone
def _phone_layout(obj: SceneObject) -> dict[str, tuple[float, float, float, float]]:
    """Local boxes of a phone's body, screen and text area."""
    m = min(obj.w, obj.h)
    bu, bv = 0.06 * m / max(obj.w, 1e-6), 0.06 * m / max(obj.h, 1e-6)
    body = (0.03, 0.01, 0.97, 0.99)
    screen = (body[0] + bu, body[1] + bv * 1.6, body[2] - bu, body[3] - bv * 1.3)
    sh = screen[3] - screen[1]
    text = (screen[0] + bu * 0.6, screen[1] + sh * 0.08, screen[2] - bu * 0.6,
            screen[1] + sh * 0.22)
    return {"body": body, "screen": screen, "text": text}


def _draw_phone(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Smartphone: 0 dark screen with a reflection, 1 lit screen with app icons."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    lay = _phone_layout(obj)
    b0, b1, b2, b3 = lay["body"]
    s0, s1, s2, s3 = lay["screen"]
    ax, ay = _aspect(pen)
    pen.rect(b0 - 0.025, b1 + 0.16, b0 + 0.01, b1 + 0.24, fill=shade(col, 0.6))  # buttons
    pen.rect(b2 - 0.01, b1 + 0.2, b2 + 0.025, b1 + 0.3, fill=shade(col, 0.6))
    pen.rounded_rect(b0, b1, b2, b3, 0.16, fill=shade(col, 0.7))
    pen.rounded_rect(b0 + 0.012 * ax, b1 + 0.012 * ay, b2 - 0.012 * ax, b3 - 0.012 * ay, 0.14,
                     fill=col)
    if var == 0:
        pen.rounded_rect(s0, s1, s2, s3, 0.07, fill=(18, 20, 26))
        pen.polygon([(s0 + (s2 - s0) * 0.35, s1), (s0 + (s2 - s0) * 0.7, s1),
                     (s0, s1 + (s3 - s1) * 0.55), (s0, s1 + (s3 - s1) * 0.3)],
                    fill=(42, 46, 58))
        pen.polygon([(s0 + (s2 - s0) * 0.8, s1), (s2, s1), (s2, s1 + (s3 - s1) * 0.02),
                     (s0 + (s2 - s0) * 0.1, s1 + (s3 - s1) * 0.75),
                     (s0, s1 + (s3 - s1) * 0.75)], fill=(30, 33, 42))
    else:
        wall = [(40, 90, 170), (120, 60, 160), (30, 130, 120), (200, 90, 60)]
        top = wall[int(rng.integers(len(wall)))]
        pen.rounded_rect(s0, s1, s2, s3, 0.07, fill=top)
        sh = s3 - s1
        pen.rect(s0, s1 + sh * 0.5, s2, s3 - sh * 0.04, fill=shade(top, 1.2))
        pen.rounded_rect(s0, s3 - sh * 0.12, s2, s3, 0.07, fill=shade(top, 1.45))
        icon_cols = [(230, 70, 60), (60, 170, 90), (250, 200, 50), (70, 140, 230),
                     (240, 240, 240), (240, 130, 40), (150, 90, 200)]
        sw = s2 - s0
        ncol, nrow = 3, 4
        gu = sw / ncol
        gv = sh * 0.52 / nrow
        isz = min(gu * 0.62 / ax, gv * 0.7 / ay)
        for r in range(nrow):
            for c in range(ncol):
                cu = s0 + gu * (c + 0.5)
                cv = s1 + sh * 0.3 + gv * (r + 0.5)
                ic = icon_cols[int(rng.integers(len(icon_cols)))]
                pen.rounded_rect(cu - isz * ax / 2, cv - isz * ay / 2, cu + isz * ax / 2,
                                 cv + isz * ay / 2, isz * 0.25, fill=ic)
        for c in range(4):  # dock
            cu = s0 + sw * (c + 0.5) / 4
            cv = s3 - sh * 0.06
            ic = icon_cols[(c * 3 + 1) % len(icon_cols)]
            pen.rounded_rect(cu - isz * ax * 0.4, cv - isz * ay * 0.4, cu + isz * ax * 0.4,
                             cv + isz * ay * 0.4, isz * 0.2, fill=ic)
    _circle(pen, 0.5, s1 + (s3 - s1) * 0.025, 0.045, fill=(10, 10, 14), n=12)  # camera
    _circle(pen, 0.5, s1 + (s3 - s1) * 0.025, 0.018, fill=(60, 70, 110), n=8)
    pen.rounded_rect(0.38, s3 - 0.012, 0.62, s3 - 0.006, 0.01,
                     fill=(230, 230, 235) if var == 1 else (70, 72, 80))


# --------------------------------------------------------------------------- book
def _book_layout(obj: SceneObject) -> dict[str, tuple[float, float, float, float]]:
    """Local boxes of a book's title area (and cover)."""
    var = _var(obj)
    if var == 0:
        cover = (0.02, 0.02, 0.86, 0.9)
        text = (0.2, 0.14, 0.8, 0.4)
    elif var == 1:
        cover = (0.0, 0.08, 1.0, 1.0)
        text = (0.08, 0.16, 0.46, 0.28)
    else:
        cover = (0.1, 0.37, 0.95, 0.66)  # spine of the middle book
        text = (0.3, 0.41, 0.85, 0.62)
    return {"cover": cover, "text": text}


def _page_lines(pen: Pen, u0: float, u1: float, v0: float, v1: float, n: int, ink: RGB,
                rng: np.random.Generator, width: float = 0.02) -> None:
    for i in range(n):
        v = v0 + (v1 - v0) * (i + 0.5) / n
        end = u1 if i % 4 != 3 else u0 + (u1 - u0) * rng.uniform(0.3, 0.7)
        pen.line([(u0, v), (end, v)], ink, width, joint=False)


def _draw_book(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Book: 0 closed (cover, spine, page edges), 1 open with text lines, 2 a stack."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    dark, light = shade(col, 0.65), shade(col, 1.2)
    pages = (246, 240, 222)
    lay = _book_layout(obj)
    ax = _aspect(pen)[0]
    if var == 0:
        c0, c1, c2, c3 = lay["cover"]
        # page block peeking out at the right and bottom, then a back cover edge
        pen.polygon([(c0 + 0.04, c1 + 0.06), (1.0, c1 + 0.06), (1.0, 1.0), (c0 + 0.04, 1.0)],
                    fill=dark)
        pen.polygon([(c2 - 0.02, c1 + 0.03), (0.965, c1 + 0.06), (0.965, 0.955), (c0 + 0.04, 0.955),
                     (c0 + 0.04, c3 - 0.02)], fill=pages)
        for k in range(4):
            t = (k + 1) / 5
            pen.line([(c2 + (0.965 - c2) * t, c1 + 0.08), (c2 + (0.965 - c2) * t, c3 + 0.03)],
                     shade(pages, 0.82), 0.012, joint=False)
        pen.rect(c0, c1, c2, c3, fill=col, outline=dark, width=0.025)
        pen.rect(c0, c1, c0 + 0.1, c3, fill=dark)
        pen.line([(c0 + 0.1, c1), (c0 + 0.1, c3)], light, 0.02, joint=False)
        t0, t1, t2, t3 = lay["text"]
        pen.rect(t0 - 0.03, t1 - 0.03, t2 + 0.03, t3 + 0.03, outline=light, width=0.025)
        pen.line([(0.3, 0.7), (0.7, 0.7)], light, 0.03, joint=False)
    elif var == 1:
        pen.polygon([(0.0, 0.14), (0.5, 0.2), (1.0, 0.14), (1.0, 1.0), (0.5, 0.97), (0.0, 1.0)],
                    fill=col)
        for side in (-1, 1):
            outer = 0.5 + side * 0.47
            pts = [(0.5, 0.16)]
            for k in range(1, 6):
                t = k / 5
                pts.append((0.5 + side * 0.47 * t, 0.16 - 0.08 * math.sin(math.pi * t * 0.8)))
            pts += [(outer, 0.93), (0.5 + side * 0.3, 0.9), (0.5, 0.95)]
            pen.polygon(pts, fill=pages if side < 0 else shade(pages, 0.96))
            pen.line([(0.5 + side * 0.03, 0.2), (0.5 + side * 0.03, 0.92)], shade(pages, 0.8),
                     0.03, joint=False)
            u0, u1 = (0.08, 0.44) if side < 0 else (0.56, 0.92)
            top = 0.33 if side < 0 else 0.16
            _page_lines(pen, u0, u1, top, 0.86, 9 if side < 0 else 11, (150, 150, 150), rng,
                        width=0.022)
        pen.line([(0.5, 0.16), (0.5, 0.95)], shade(pages, 0.65), 0.015, joint=False)
    else:
        n = 3
        edges = [0.0, 0.36, 0.67, 1.0]
        cols = [_rot(col, 1) if max(col) - min(col) > 40 else (40, 70, 140), col,
                shade(_rot(col, 2), 0.9) if max(col) - min(col) > 40 else (150, 40, 40)]
        insets = [(0.16 + rng.uniform(-0.03, 0.03), 0.9), (0.04, 0.96), (0.0, 0.99)]
        for i in range(n):
            v0, v1 = edges[i] + 0.01, edges[i + 1] - 0.01
            u0, u1 = insets[i]
            if i == 1:
                u0, v0, v1 = 0.1, 0.37, 0.66
            c = cols[i]
            pen.rect(u0, v0, u1, v1, fill=pages)
            _page_lines(pen, u1 - 0.06, u1 - 0.01, v0 + 0.04, v1 - 0.04, 3, shade(pages, 0.8),
                        rng, width=0.015)
            pen.rounded_rect(u0, v0, u1 - 0.07, v1, 0.04, fill=c)
            pen.rect(u0 + 0.05 * ax, v0, u0 + 0.08 * ax, v1, fill=shade(c, 0.65))
            pen.rect(u1 - 0.15 * ax - 0.07, v0, u1 - 0.12 * ax - 0.07, v1, fill=shade(c, 0.65))
            pen.line([(u0 + 0.02, v0 + 0.03), (u1 - 0.09, v0 + 0.03)], shade(c, 1.3), 0.02,
                     joint=False)


# --------------------------------------------------------------------------- ball
def _ball_shading(pen: Pen, base: RGB) -> None:
    _circle(pen, 0.5, 0.5, 0.48, fill=shade(base, 0.68), n=36)
    _circle(pen, 0.5 - 0.025 * _aspect(pen)[0], 0.5 - 0.025 * _aspect(pen)[1], 0.445, fill=base,
            n=36)


def _clip_disc(pts: list[Point], r: float) -> list[Point]:
    """Pull points outside radius ``r`` back onto the circle (densifying edges first)."""
    dense: list[Point] = []
    for i, (x0, y0) in enumerate(pts):
        x1, y1 = pts[(i + 1) % len(pts)]
        for k in range(3):
            t = k / 3
            dense.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    out = []
    for x, y in dense:
        d = math.hypot(x, y)
        out.append((x * r / d, y * r / d) if d > r else (x, y))
    return out


def _draw_ball(pen: Pen, obj: SceneObject, rng: np.random.Generator) -> None:
    """Ball: 0 soccer (pentagons), 1 basketball (seams), 2 beach ball (segments)."""
    var = _var(obj)
    col: RGB = tuple(obj.color)
    spin = rng.uniform(0, 2 * math.pi)
    R = 0.455
    if var == 0:
        _ball_shading(pen, (246, 246, 244))
        patch = BLACK if _lum(col) > 180 or max(col) - min(col) < 40 else shade(col, 0.85)
        cx, cy = rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)
        rc = 0.15
        centre = _ngon(5, rc, spin - math.pi / 2, cx, cy)
        pen.polygon(_sq(pen, centre), fill=patch)
        for k in range(5):
            a = spin - math.pi / 2 + 2 * math.pi * (k + 0.5) / 5
            px, py = cx + 0.42 * math.cos(a), cy + 0.42 * math.sin(a)
            outer = _ngon(5, 0.15, a + math.pi, px, py, ry=0.13)
            pen.polygon(_sq(pen, _clip_disc(outer, R)), fill=patch)
            vx, vy = centre[k]
            a2 = spin - math.pi / 2 + 2 * math.pi * k / 5
            pen.line(_sq(pen, [(vx, vy), (cx + 0.33 * math.cos(a2), cy + 0.33 * math.sin(a2))]),
                     (90, 90, 90), 0.018, joint=False)
    elif var == 1:
        base = mix((226, 110, 40), col, 0.2)
        _ball_shading(pen, base)
        seam = (35, 25, 20)
        c, s = math.cos(spin), math.sin(spin)

        def rot(pts: list[Point]) -> list[Point]:
            return [(x * c - y * s, x * s + y * c) for x, y in pts]

        pen.line(_sq(pen, rot([(0.0, -R), (0.0, R)])), seam, 0.022, joint=False)
        pen.line(_sq(pen, rot([(-R, 0.0), (R, 0.0)])), seam, 0.022, joint=False)
        for side in (-1, 1):
            arc = [(side * (0.7 - 0.5 * math.cos(t)), 0.5 * math.sin(t))
                   for t in np.linspace(-1.25, 1.25, 11)]
            arc = [(x * R * 0.99 / d, y * R * 0.99 / d) if (d := math.hypot(x, y)) > R else
                   (x, y) for x, y in arc]
            pen.line(_sq(pen, rot(arc)), seam, 0.022, joint=False)
    else:
        other = [col, _rot(col, 1), _rot(col, 2)]
        if max(col) - min(col) < 40:
            other = [(220, 40, 40), (40, 110, 210), (250, 200, 30)]
        _circle(pen, 0.5, 0.5, 0.48, fill=(120, 120, 120), n=36)
        deg = math.degrees(spin)
        for k in range(6):
            fill = WHITE if k % 2 else other[k // 2]
            _circle(pen, 0.5, 0.5, 0.465, fill=fill, n=36, start=deg + k * 60,
                    end=deg + (k + 1) * 60)
        _circle(pen, 0.5, 0.5, 0.07, fill=WHITE, n=12)
        _circle(pen, 0.5, 0.5, 0.465, outline=(100, 100, 100), width=0.02, n=30, start=10,
                end=100)
    ax, ay = _aspect(pen)
    pen.ellipse(0.5 - 0.2 * ax, 0.5 - 0.22 * ay, 0.08 * ax, 0.05 * ay, fill=(255, 255, 255),
                n=12)


DRAWERS: dict[str, Callable[[Pen, SceneObject, np.random.Generator], None]] = {
    "printed_text": _draw_printed_text,
    "handwritten_text": _draw_handwritten_text,
    "logo": _draw_logo,
    "traffic_sign": _draw_traffic_sign,
    "blank_sign": _draw_blank_sign,
    "clock": _draw_clock,
    "hammer": _draw_hammer,
    "scissors": _draw_scissors,
    "wrench": _draw_wrench,
    "phone": _draw_phone,
    "book": _draw_book,
    "ball": _draw_ball,
}
