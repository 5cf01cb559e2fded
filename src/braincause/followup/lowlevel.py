"""Low-level image statistics and their balance across conditions.

A condition difference in the follow-up must not be explained by luminance, contrast or
colour. Each image gets four statistics:

* ``luminance``: mean relative luminance :math:`Y = 0.2126 R + 0.7152 G + 0.0722 B`
  (Rec. 709 primaries) of the linearised sRGB pixels, in [0, 1];
* ``contrast``: RMS contrast, the standard deviation of :math:`Y` over pixels;
* ``colourfulness``: Hasler & Süsstrunk (2003),
  :math:`M = \\sqrt{\\sigma_{rg}^2 + \\sigma_{yb}^2} + 0.3 \\sqrt{\\mu_{rg}^2 + \\mu_{yb}^2}`
  with :math:`rg = R - G`, :math:`yb = (R + G)/2 - B` on 0-255 sRGB values;
* ``saturation``: mean HSV saturation :math:`(\\max - \\min) / \\max` (0 where max = 0).

Balance is measured by the largest standardised mean difference between any two
conditions, :math:`\\max_s (\\max_c \\bar x_{cs} - \\min_c \\bar x_{cs}) / \\sigma_s`, where
:math:`\\sigma_s` is the SD of statistic *s* over every candidate image.
:func:`balance_selection` lowers it by greedy swaps within each condition's pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

STATISTICS = ("luminance", "contrast", "colourfulness", "saturation")


def image_statistics(image: np.ndarray) -> np.ndarray:
    """The four low-level statistics of one image.

    Parameters
    ----------
    image : ndarray, shape (height, width, 3) or (height, width, 4), uint8
        sRGB pixels (an alpha channel is ignored).

    Returns
    -------
    stats : ndarray, shape (4,)
        ``luminance, contrast, colourfulness, saturation`` (see the module docstring).
    """
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] < 3:
        raise ValueError(f"image must have shape (height, width, 3), got {a.shape}")
    rgb = a[..., :3].reshape(-1, 3).astype(np.float64)
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    rg = rgb[:, 0] - rgb[:, 1]
    yb = 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]
    colourful = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    mx, mn = c.max(axis=1), c.min(axis=1)
    sat = np.divide(mx - mn, mx, out=np.zeros_like(mx), where=mx > 0)
    return np.array([y.mean(), y.std(), colourful, sat.mean()])


def images_statistics(images: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`image_statistics` of each image: array of shape (n_images, 4)."""
    if len(images) == 0:
        return np.zeros((0, len(STATISTICS)))
    return np.stack([image_statistics(im) for im in images])


@dataclass(frozen=True)
class Pool:
    """Candidates of one selection group, hardest first.

    Attributes
    ----------
    contrib : ndarray, shape (n_candidates, n_conditions, n_stats)
        Sum of the (standardised) statistics each candidate adds to each condition
        (a positive adds its own to ``positive`` and its edits' to ``edit``).
    counts : ndarray, shape (n_candidates, n_conditions)
        Images each candidate adds to each condition.
    n_select : int
        How many candidates the group keeps.
    score : ndarray, shape (n_candidates,), optional
        Hardness of each candidate (predicted response).
    min_score : float
        A swap is allowed only if the mean ``score`` of the kept candidates stays ≥ this.
    """

    contrib: np.ndarray
    counts: np.ndarray
    n_select: int
    score: np.ndarray | None = None
    min_score: float = -np.inf


def balance_objective(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Largest between-condition spread of the condition means, over statistics.

    Parameters
    ----------
    sums : ndarray, shape (..., n_conditions, n_stats)
    counts : ndarray, shape (..., n_conditions)

    Returns
    -------
    objective : ndarray, shape (...)
        :math:`\\max_s (\\max_c \\bar x_{cs} - \\min_c \\bar x_{cs})` over conditions with
        at least one image (0 with fewer than two such conditions).
    """
    n = counts[..., None]
    has = n > 0
    means = np.divide(sums, n, out=np.zeros(np.broadcast_shapes(sums.shape, n.shape)),
                      where=has)
    hi = np.where(has, means, -np.inf).max(axis=-2)
    lo = np.where(has, means, np.inf).min(axis=-2)
    spread = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    return spread.max(axis=-1)


def balance_selection(pools: Sequence[Pool], *, max_iter: int = 500) -> list[np.ndarray]:
    """Pick ``n_select`` candidates per pool minimising :func:`balance_objective`.

    Starts from the hardest ``n_select`` of each pool (the naive selection) and applies,
    while it lowers the objective, the single best swap of a selected candidate for an
    unselected one of the same pool that keeps the pool's mean ``score`` ≥ ``min_score``
    (ties: drop the easiest kept candidate, add the hardest unkept one).

    Parameters
    ----------
    pools : sequence of Pool
        All pools share ``n_conditions`` and ``n_stats``.
    max_iter : int
        Upper bound on the number of swaps.

    Returns
    -------
    selected : list of ndarray of int
        Candidate indices kept in each pool, sorted.
    """
    sel = [np.arange(min(p.n_select, len(p.counts))) for p in pools]
    sums = sum(p.contrib[s].sum(axis=0) for p, s in zip(pools, sel, strict=True))
    cnts = sum(p.counts[s].sum(axis=0) for p, s in zip(pools, sel, strict=True))
    best = float(balance_objective(sums, cnts))
    for _ in range(max_iter):
        move = None
        for g, (p, kept) in enumerate(zip(pools, sel, strict=True)):
            s = kept[::-1]              # ties: drop the easiest kept candidate first
            out = np.setdiff1d(np.arange(len(p.counts)), s)
            if len(out) == 0 or len(s) == 0:
                continue
            # every (selected i, unselected j) swap at once: shape (k, m, C, S)
            d_sum = p.contrib[out][None] - p.contrib[s][:, None]
            d_cnt = p.counts[out][None] - p.counts[s][:, None]
            obj = balance_objective(sums + d_sum, cnts + d_cnt)
            if p.score is not None:
                mean = (p.score[s].sum() - p.score[s][:, None] + p.score[out][None]) / len(s)
                obj = np.where(mean >= p.min_score - 1e-12, obj, np.inf)
            i, j = np.unravel_index(np.argmin(obj), obj.shape)
            if obj[i, j] < best - 1e-12:
                best = float(obj[i, j])
                move = (g, s[i], out[j])
        if move is None:
            break
        g, old, new = move
        p = pools[g]
        sums = sums - p.contrib[old] + p.contrib[new]
        cnts = cnts - p.counts[old] + p.counts[new]
        sel[g] = np.sort(np.append(sel[g][sel[g] != old], new))
    return sel


def balance_report(stats: np.ndarray, conditions: Sequence[str], scale: np.ndarray
                   ) -> dict[str, dict]:
    """Per-statistic table of condition means/SDs, the largest standardised difference
    and a one-way ANOVA p-value.

    Parameters
    ----------
    stats : ndarray, shape (n_images, 4)
        Raw statistics of the selected images.
    conditions : sequence of str, length n_images
        Condition of each image.
    scale : ndarray, shape (4,)
        SD of each statistic over every candidate image (the standardisation).
    """
    from scipy.stats import f_oneway

    cond = np.asarray(conditions)
    names = list(dict.fromkeys(conditions))
    out: dict[str, dict] = {}
    for k, stat in enumerate(STATISTICS):
        x = stats[:, k]
        groups = [x[cond == c] for c in names]
        means = np.array([g.mean() for g in groups])
        multi = [g for g in groups if len(g) >= 2]
        p = None
        if len(multi) >= 2 and any(g.std() > 0 for g in multi):
            p = round(float(f_oneway(*multi).pvalue), 4)
        smd = float((means.max() - means.min()) / scale[k]) if scale[k] > 0 else 0.0
        out[stat] = {
            "per_condition": {c: {"mean": round(float(g.mean()), 4),
                                  "sd": round(float(g.std(ddof=1)), 4) if len(g) > 1 else None,
                                  "n": len(g)} for c, g in zip(names, groups, strict=True)},
            "max_smd": round(smd, 4), "anova_p": p}
    return out
