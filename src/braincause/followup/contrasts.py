"""Contrasts of the follow-up, their predicted effect sizes and the trials they need.

For each contrast the effect comes from the encoder's predicted region-mean responses
of the selected stimuli (held-out EVAL split; TRAIN only where EVAL has fewer than two)
and the subject's measured single-trial noise :math:`\\sigma_t`
(``noise.causal_region.trial_sd`` of result.json):

* ``positive − edit`` (paired by parent): :math:`\\Delta_i = \\hat y_{pos,i} - \\hat y_{edit,i}`,
  :math:`d_z = \\bar\\Delta / \\sqrt{\\mathrm{var}(\\Delta) + 2\\sigma_t^2}`
  (one trial of each image per pair), one-sample t on the trial differences;
* ``positive − <negative condition>``: :math:`d = (\\bar y_{pos} - \\bar y_{neg}) /
  \\sqrt{s^2_{pooled} + \\sigma_t^2}`, two-sample t on single trials.

Trials per condition are the largest sample size any testable contrast needs for the
target power (:func:`braincause.followup.power.required_n`), at least ``min_repeats``
showings of each image, rounded up so every image of a condition is shown equally often.
A contrast needing more than ``max_trials_per_condition`` is reported underpowered and
does not set the size of the design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from braincause.followup.config import FollowupConfig
from braincause.followup.power import (
    min_detectable_d,
    power_independent,
    power_paired,
    required_n,
)
from braincause.followup.selection import Selection, Stimulus


@dataclass(frozen=True)
class ContrastPower:
    """Effect size, required and achieved sample size of one contrast."""

    name: str
    plus: str
    minus: str
    paired: bool
    delta: float
    sd: float
    d: float
    source: str
    n_images: tuple[int, int]
    n_required: int | None
    status: str = ""
    n_trials: tuple[int, int] = (0, 0)
    power: float = float("nan")

    @property
    def testable(self) -> bool:
        return self.n_required is not None

    def to_dict(self) -> dict[str, Any]:
        return {"contrast": self.name, "plus": self.plus, "minus": self.minus,
                "test": "paired t (one-sample t on positive − edit trial pairs)"
                if self.paired else "two-sample t on single trials",
                "predicted_delta": round(self.delta, 5), "trial_sd": round(self.sd, 5),
                "d": round(self.d, 4), "effect_from": self.source,
                "n_images": list(self.n_images), "n_required": self.n_required,
                "status": self.status, "n_trials": list(self.n_trials),
                "power": None if not math.isfinite(self.power) else round(self.power, 4)}


def _side(stims: list[Stimulus]) -> tuple[np.ndarray, str]:
    ev = [s.response for s in stims if s.split == "eval"]
    if len(ev) >= 2:
        return np.asarray(ev), "eval"
    return np.asarray([s.response for s in stims]), "eval+train"


def _var(x: np.ndarray) -> float:
    return float(x.var(ddof=1)) if len(x) > 1 else 0.0


def contrast_effects(selection: Selection, trial_sd: float, cfg: FollowupConfig,
                     alpha: float) -> list[ContrastPower]:
    """Predicted effect and required trials of every contrast (module docstring)."""
    groups = selection.by_condition()
    pos = groups["positive"]
    out = []
    if "edit" in groups:
        resp = {s.name: s.response for s in pos}
        split = {s.name: s.split for s in pos}
        kids: dict[str, list[float]] = {}
        for s in groups["edit"]:
            kids.setdefault(s.parent, []).append(s.response)
        names = [n for n in resp if n in kids]
        ev = [n for n in names if split[n] == "eval"]
        use, src = (ev, "eval") if len(ev) >= 2 else (names, "eval+train")
        diff = np.array([resp[n] - np.mean(kids[n]) for n in use])
        delta = float(diff.mean())
        sd = math.sqrt(_var(diff) + 2 * trial_sd ** 2)
        out.append(_make("positive − edit", "positive", "edit", True, delta, sd, src,
                         (len(use), len(use)), cfg, alpha))
    a, src_a = _side(pos)
    for c in selection.conditions:
        if c.kind not in ("negative", "missing"):
            continue
        b, src_b = _side(groups[c.name])
        delta = float(a.mean() - b.mean())
        df = len(a) + len(b) - 2
        pooled = ((len(a) - 1) * _var(a) + (len(b) - 1) * _var(b)) / df if df > 0 else 0.0
        sd = math.sqrt(pooled + trial_sd ** 2)
        src = "eval" if src_a == src_b == "eval" else "eval+train"
        out.append(_make(f"positive − {c.name}", "positive", c.name, False, delta, sd, src,
                         (len(a), len(b)), cfg, alpha))
    return out


def _make(name, plus, minus, paired, delta, sd, src, n_img, cfg, alpha) -> ContrastPower:
    d = delta / sd if sd > 0 else 0.0
    n = required_n(d, power=cfg.power, alpha=alpha, paired=paired,
                   alternative=cfg.alternative)
    return ContrastPower(name, plus, minus, paired, delta, sd, d, src, n_img, n)


def plan_trials(selection: Selection, contrasts: list[ContrastPower], cfg: FollowupConfig,
                alpha: float) -> tuple[dict[str, int], int, list[ContrastPower]]:
    """Trials per condition and the power each contrast reaches with them.

    Returns
    -------
    trials : dict
        Condition → number of trials (a multiple of its number of images).
    n_target : int
        Trials per condition the power analysis asks for (before rounding up).
    contrasts : list of ContrastPower
        With ``status`` (``ok`` / ``underpowered`` / ``not testable``), ``n_trials``
        and achieved ``power`` filled in.
    """
    cap = cfg.max_trials_per_condition
    # a contrast needing more than the cap is reported, not chased
    n_target = max((c.n_required for c in contrasts if c.testable and c.n_required <= cap),
                   default=2)
    groups = selection.by_condition()
    trials = {}
    for name, stims in groups.items():
        k = len(stims)
        reps = max(cfg.min_repeats, math.ceil(n_target / k))
        trials[name] = reps * k
    done = []
    for c in contrasts:
        n1, n2 = trials[c.plus], trials[c.minus]
        if c.paired:
            pw = float(power_paired(c.d, min(n1, n2), alpha=alpha, alternative=cfg.alternative))
        else:
            pw = float(power_independent(c.d, n1, n2, alpha=alpha,
                                         alternative=cfg.alternative))
        if not c.testable:
            status = "not testable: predicted effect ≤ 0" if c.d <= 0 else \
                "not testable: the effect is too small for any feasible sample"
        elif c.n_required > cap:
            status = (f"underpowered: needs {c.n_required} trials per condition, more than "
                      f"max_trials_per_condition = {cap}")
        else:
            status = "ok"
        done.append(replace(c, status=status, n_trials=(n1, n2), power=pw))
    return trials, n_target, done


def detectable_effects(n: int, cfg: FollowupConfig, alpha: float) -> dict[str, float]:
    """Smallest paired and independent-sample effects detected at ``n`` per condition."""
    return {k: round(min_detectable_d(n, power=cfg.power, alpha=alpha, paired=p,
                                      alternative=cfg.alternative), 4)
            for k, p in (("paired", True), ("independent", False))}


def noise_sensitivity(selection: Selection, trial_sd: float, cfg: FollowupConfig,
                      alpha: float, factors: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0)
                      ) -> dict[str, int | None]:
    """Trials per condition the power analysis asks for if the trial noise were
    ``factor × trial_sd`` (a new participant, scanner or voxel size); ``None`` when no
    contrast is testable within ``max_trials_per_condition``."""
    out: dict[str, int | None] = {}
    for f in factors:
        ns = [c.n_required for c in contrast_effects(selection, f * trial_sd, cfg, alpha)
              if c.testable and c.n_required <= cfg.max_trials_per_condition]
        out[f"{f:g}"] = max(ns) if ns else None
    return out
