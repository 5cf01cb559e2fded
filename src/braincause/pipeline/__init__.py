"""``localize``: concept in, verdict out (the BrainCause pipeline, ARCHITECTURE.md).

The stages are functions over frozen artifacts, each in its own module:

* :mod:`~braincause.pipeline.context`: the data source (synthetic world or NSD, chosen
  once), :func:`prepare_run` → :class:`RunContext` (subject, roles, encoder, verifier,
  retrieval);
* :mod:`~braincause.pipeline.stages`: stimuli, evidence (predictions and measured sets),
  regions, region scores, baseline scores, voxelwise tests, verdicts;
* :mod:`~braincause.pipeline.record`: result.json, maps.npz, stimuli/ and the summary;
* :mod:`~braincause.pipeline.run`: :func:`localize`, a short sequence of those calls,
  the stimuli of a user's folder (``--stimuli DIR``) in place of generated ones, and the
  staged writing of the run folder.
"""

from braincause.pipeline.context import (
    NSDData,
    ResolvedQuery,
    RunContext,
    SyntheticWorld,
    baseline_concepts,
    data_source,
    load_nsd_subject,
    pool_images,
    prepare_run,
    synthetic_baselines,
)
from braincause.pipeline.record import (
    LocalizeResult,
    RunArtifacts,
    format_summary,
    voxel_maps,
    write_outputs,
)
from braincause.pipeline.run import COMPLETION_FILES, localize
from braincause.pipeline.stages import (
    EmptyStimuli,
    Evidence,
    Regions,
    RunSeeds,
    build_baseline_dataset,
    build_stimuli,
    gather_evidence,
    propose_regions,
    score_region,
)

__all__ = [
    "COMPLETION_FILES", "EmptyStimuli", "Evidence", "LocalizeResult", "NSDData", "Regions",
    "ResolvedQuery", "RunArtifacts", "RunContext", "RunSeeds", "SyntheticWorld",
    "baseline_concepts", "build_baseline_dataset", "build_stimuli", "data_source",
    "format_summary", "gather_evidence", "load_nsd_subject", "localize", "pool_images",
    "prepare_run", "propose_regions", "score_region", "synthetic_baselines", "voxel_maps",
    "write_outputs",
]
