"""Settings of the follow-up experiment design (:class:`FollowupConfig`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from braincause.exceptions import UserInputError

ALTERNATIVES = ("larger", "two-sided")


@dataclass(frozen=True)
class FollowupConfig:
    """Every setting of one follow-up design; defaults follow NSD's timing.

    Parameters
    ----------
    power : float
        Target power of each contrast (default 0.8).
    alpha : float or None
        Significance level; ``None`` takes the localize run's ``stats.alpha``.
    alternative : {"larger", "two-sided"}
        ``"larger"`` (default): the pre-registered hypothesis is directional (the region
        responds more to the concept than to its edits and negatives), as in localize's
        one-sided tests. ``"two-sided"`` for a stricter, non-directional test.
    n_positive : int
        Positives (the ones that drive the region most), each with its edits.
    n_edits_per_positive : int
        Counterfactual edits kept per selected positive (hardest first).
    n_negative : int
        Hardest verified negatives per counter-concept (fewer if fewer exist).
    pool_factor : float
        Low-level balancing may swap a stimulus for another among the
        ``ceil(pool_factor × n)`` hardest candidates of its condition.
    max_response_loss : float
        ... as long as the condition's mean predicted response stays within this many z
        units of the hardest selection's (balance must not make the test easier).
    on_s, off_s : float
        Image on / blank time of a trial (NSD: 3 s on, 1 s off).
    tr : float
        Repetition time of the acquisition (NSD: 1.6 s); used for the design matrix.
    max_run_s : float
        Longest run, lead-in and lead-out included (NSD: ~5 min).
    lead_in_s, lead_out_s : float
        Fixation before the first and after the last trial (the tail catches the HRF).
    null_fraction : float
        Fraction of trial slots left blank (null trials, the implicit baseline).
    min_repeats : int
        Each image is shown at least this many times (2 allows a split-half check).
    max_trials_per_condition : int
        Cap on trials per condition; contrasts needing more are reported underpowered.
    n_order_candidates : int
        Valid trial orders drawn per run; the most efficient one is kept.
    n_baseline_orders : int
        Unconstrained random orders per run for the efficiency baseline.
    """

    power: float = 0.8
    alpha: float | None = None
    alternative: str = "larger"
    n_positive: int = 8
    n_edits_per_positive: int = 1
    n_negative: int = 4
    pool_factor: float = 2.0
    max_response_loss: float = 0.05
    on_s: float = 3.0
    off_s: float = 1.0
    tr: float = 1.6
    max_run_s: float = 300.0
    lead_in_s: float = 4.0
    lead_out_s: float = 12.0
    null_fraction: float = 0.1
    min_repeats: int = 2
    max_trials_per_condition: int = 200
    n_order_candidates: int = 10
    n_baseline_orders: int = 10

    @property
    def trial_s(self) -> float:
        """Length of one trial slot (on + off)."""
        return self.on_s + self.off_s

    @property
    def slots_per_run(self) -> int:
        """Trial slots that fit in one run of at most ``max_run_s``."""
        return int((self.max_run_s - self.lead_in_s - self.lead_out_s) // self.trial_s)

    def to_dict(self) -> dict[str, Any]:
        """Every field by name (JSON-ready).

        Returns
        -------
        dict
        """
        return dataclasses.asdict(self)

    def validate(self) -> FollowupConfig:
        """Check every field; raise :class:`UserInputError` naming the first bad one.

        Returns
        -------
        FollowupConfig
            ``self``, so a call can be chained.

        Raises
        ------
        UserInputError
            Naming the first field out of range or of the wrong type.
        """
        _prob(self.power, "power", 0.0, 1.0)
        if self.alpha is not None:
            _prob(self.alpha, "alpha", 0.0, 0.5)
        if self.alternative not in ALTERNATIVES:
            _bad("alternative", f"one of {ALTERNATIVES}", self.alternative)
        for name, lo in (("n_positive", 2), ("n_edits_per_positive", 1), ("n_negative", 1),
                         ("min_repeats", 1), ("max_trials_per_condition", 2),
                         ("n_order_candidates", 1), ("n_baseline_orders", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                _bad(name, f"an integer ≥ {lo}", v)
        for name in ("pool_factor", "max_response_loss", "on_s", "off_s", "tr", "max_run_s",
                     "lead_in_s", "lead_out_s", "null_fraction"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                _bad(name, "a finite number", v)
        if self.max_response_loss < 0:
            _bad("max_response_loss", "a number ≥ 0 (z units)", self.max_response_loss)
        if self.pool_factor < 1:
            _bad("pool_factor", "a number ≥ 1", self.pool_factor)
        if self.on_s <= 0 or self.off_s < 0:
            _bad("on_s" if self.on_s <= 0 else "off_s", "on_s > 0 and off_s ≥ 0",
                 self.on_s if self.on_s <= 0 else self.off_s)
        if self.tr <= 0:
            _bad("tr", "a positive number of seconds", self.tr)
        if self.lead_in_s < 0 or self.lead_out_s < 0:
            _bad("lead_in_s" if self.lead_in_s < 0 else "lead_out_s", "≥ 0 seconds",
                 min(self.lead_in_s, self.lead_out_s))
        if not 0 <= self.null_fraction < 0.9:
            _bad("null_fraction", "a fraction in [0, 0.9)", self.null_fraction)
        if self.slots_per_run < 4:
            _bad("max_run_s", f"room for ≥ 4 trials of {self.trial_s:g} s after "
                              f"{self.lead_in_s:g} s lead-in and {self.lead_out_s:g} s "
                              "lead-out", self.max_run_s)
        return self


def _prob(v: object, name: str, lo: float, hi: float) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo < v < hi:
        _bad(name, f"a number in ({lo:g}, {hi:g})", v)


def _bad(name: str, expected: str, got: object) -> None:
    raise UserInputError(f"FollowupConfig.{name} must be {expected}, got {got!r}")
