"""What :func:`~braincause.followup.design.design_followup` returns: the scanner runs and
the design (:class:`Run`, :class:`FollowupDesign`), apart from the code that makes them so
the exporters (:mod:`braincause.followup.export`) can use them without importing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause.followup.config import FollowupConfig
from braincause.followup.contrasts import ContrastPower
from braincause.followup.selection import Selection

__all__ = ["FollowupDesign", "Run"]


@dataclass(frozen=True)
class Run:
    """One scanner run: the stimulus index of every trial slot (-1: null trial)."""

    index: int
    order: np.ndarray = field(repr=False)
    repetition: np.ndarray = field(repr=False)
    duration_s: float = 0.0
    n_scans: int = 0
    efficiency: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    baseline_efficiency: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class FollowupDesign:
    """A follow-up experiment; ``to_dict()`` is the content of design.json."""

    path: Path | None
    config: FollowupConfig
    seed: int
    alpha: float
    selection: Selection = field(repr=False)
    contrasts: tuple[ContrastPower, ...] = field(repr=False)
    trials: dict[str, int] = field(repr=False)
    runs: tuple[Run, ...] = field(repr=False)
    data: dict[str, Any] = field(repr=False)

    @property
    def summary(self) -> dict[str, Any]:
        return self.data["summary"]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def format_summary(self) -> str:
        """A few lines for the terminal."""
        s = self.summary
        lines = [f"follow-up design for {s['concept']} in {s['subject']} (verdict: "
                 f"{s['verdict']})",
                 f"  {s['n_conditions']} conditions, {s['n_stimuli']} images; "
                 f"{s['trials_per_condition']} trials per condition for power "
                 f"{s['power']:g} at alpha {s['alpha']:g} ({s['alternative']})",
                 f"  {s['n_runs']} runs of ≤ {s['run_minutes']:.1f} min = "
                 f"{s['total_scan_minutes']:.1f} min of scanning "
                 f"(TR {s['tr_s']:g} s, {s['trial_on_s']:g} s on / {s['trial_off_s']:g} s off)",
                 f"  contrasts: {s['n_contrasts_ok']} powered, {s['n_contrasts_underpowered']} "
                 f"underpowered, {s['n_contrasts_untestable']} not testable; efficiency "
                 + (f"{s['efficiency_vs_random']:.2f}× a random order"
                    if s["efficiency_vs_random"] is not None else "n/a"),
                 f"  low-level balance: max standardised difference {s['lowlevel_max_smd']:.2f} "
                 f"(naive selection {s['lowlevel_max_smd_naive']:.2f})"]
        lines += [f"  warning: {w}" for w in self.data["warnings"]]
        return "\n".join(lines)
