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
    """One scanner run: the stimulus index of every trial slot (-1: null trial).

    Attributes
    ----------
    index : int
        Run number, from 1.
    order : ndarray of shape (n_slots,), int
        The stimulus (index into the selection) shown in each trial slot, -1 for a
        null trial.
    repetition : ndarray of shape (n_slots,), int64
        How many times the slot's stimulus has been shown so far in the experiment,
        this slot included (0 for a null trial).
    duration_s : float, default=0.0
        Length of the run: lead-in, trial slots and lead-out, in seconds.
    n_scans : int, default=0
        Volumes to acquire (``ceil(duration_s / tr)``).
    efficiency : ndarray of shape (n_contrasts,), default=empty
        Efficiency of each contrast under this order.
    baseline_efficiency : ndarray of shape (n_contrasts,), default=empty
        Mean efficiency of each contrast under random orders of the same trials.
    """

    index: int
    order: np.ndarray = field(repr=False)
    repetition: np.ndarray = field(repr=False)
    duration_s: float = 0.0
    n_scans: int = 0
    efficiency: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    baseline_efficiency: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class FollowupDesign:
    """A follow-up experiment; ``to_dict()`` is the content of design.json.

    Attributes
    ----------
    path : Path or None
        The folder the design was written to (``<run>/followup``); None when not written.
    config : FollowupConfig
        The settings it was designed with.
    seed : int
        The seed of the trial dealing and run orders.
    alpha : float
        The significance level the trials are powered for.
    selection : Selection
        The stimuli and conditions chosen from the run.
    contrasts : tuple of ContrastPower
        The power analysis of each planned contrast.
    trials : dict of str to int
        Trials per condition.
    runs : tuple of Run
        The scanner runs.
    data : dict
        The design as JSON (the content of design.json).
    """

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
        """The headline figures (verdict, conditions, trials, runs, power, balance)."""
        return self.data["summary"]

    def to_dict(self) -> dict[str, Any]:
        """The design as JSON: the content of design.json.

        Returns
        -------
        dict
        """
        return self.data

    def format_summary(self) -> str:
        """A few lines for the terminal.

        Returns
        -------
        str
            Conditions, trials, runs and scanning time, contrasts, low-level balance and
            any warnings, one per line.
        """
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
