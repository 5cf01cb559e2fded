"""Concept sweeps: many concepts × subjects as ``localize`` runs on an engine
(:mod:`braincause.engine`: a local process pool or Ray), combined into one answer:
``sweep.json`` (verdicts, concept-level p-values and q-values across each subject's
concepts, cross-subject consistency with spin-test nulls, group maps) and one page,
``index.html``. See docs/sweep.md.
"""

from braincause.sweeps.evidence import FDR_METHODS, concept_p, q_values
from braincause.sweeps.plan import SweepTask, folder_name, plan_sweep, read_concept_file
from braincause.sweeps.run import VOLATILE, SweepResult, default_resources, sweep

__all__ = ["FDR_METHODS", "VOLATILE", "SweepResult", "SweepTask", "concept_p",
           "default_resources", "folder_name", "plan_sweep", "q_values",
           "read_concept_file", "sweep"]
