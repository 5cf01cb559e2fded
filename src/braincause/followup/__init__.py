"""Follow-up fMRI experiment design (ARCHITECTURE.md, "follow-up"; beyond the paper).

From a ``localize`` run folder: stimulus selection with low-level balance
(:mod:`~braincause.followup.selection`, :mod:`~braincause.followup.lowlevel`), power
analysis on predicted effects and measured trial noise
(:mod:`~braincause.followup.power`, :mod:`~braincause.followup.contrasts`), a
constrained event-related schedule and its GLM efficiency
(:mod:`~braincause.followup.schedule`, :mod:`~braincause.followup.efficiency`), and the
exported files (:mod:`~braincause.followup.export`, :mod:`~braincause.followup.protocol`)::

    from braincause.followup import design_followup
    design = design_followup("braincause-out/faces")   # writes braincause-out/faces/followup/
    design.summary["n_runs"], design.summary["total_scan_minutes"]
"""

from braincause.followup.config import FollowupConfig
from braincause.followup.design import (
    FOLLOWUP_VERDICTS,
    FollowupDesign,
    Run,
    calls_for_followup,
    design_followup,
)
from braincause.followup.power import (
    min_detectable_d,
    power_independent,
    power_paired,
    required_n,
    solve_n,
)

__all__ = [
    "FOLLOWUP_VERDICTS",
    "FollowupConfig",
    "FollowupDesign",
    "Run",
    "calls_for_followup",
    "design_followup",
    "min_detectable_d",
    "power_independent",
    "power_paired",
    "required_n",
    "solve_n",
]
