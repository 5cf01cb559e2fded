"""``localize``: concept in, verdict out, as a short sequence of stage calls."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from braincause.boundary import check_localize_inputs
from braincause.config import LocalizeConfig
from braincause.evaluate.criteria import baseline_p_values
from braincause.exceptions import UserInputError
from braincause.pipeline import stages as S
from braincause.pipeline.context import (
    Progress,
    ResolvedQuery,
    RunContext,
    _quiet,
    data_source,
    prepare_run,
)
from braincause.pipeline.record import (
    LocalizeResult,
    RunArtifacts,
    item_responses,
    result_document,
    run_maps,
    write_outputs,
)
from braincause.runfolder import RunResult

#: What marks a finished run in an output folder.
COMPLETION_FILES = ("result.json", "report.html")


def localize(query: str, *, subject: str = "synth-01", seed: int = 0,
             config: LocalizeConfig | None = None, out: str | Path | None = None,
             use_cache: bool = True, progress: Progress | None = None,
             report: bool = True, followup: bool | None = None,
             nsd_root: str | Path | None = None,
             context: RunContext | None = None, stimuli: str | Path | None = None,
             verify_stimuli: bool = False) -> LocalizeResult:
    """Localize ``query`` in ``subject``'s visual cortex.

    resolve → prepare (subject, roles, encoder, verifier, retrieval) → stimuli →
    predictions and measured sets → ranking signals and regions (TRAIN split only) →
    region scores on EVAL / held-out measured data (bootstrap CIs) → baseline-concept
    p-values → voxelwise max-T and FDR → coverage and verdict → result.json, maps.npz,
    stimuli/, report.html, followup/. Every stage reads and writes the on-disk cache, so
    a rerun with the same inputs is fast and an interrupted run resumes.

    Parameters
    ----------
    query : str
        A concept name, synonym or free text ("faces", "something to eat"). On NSD a query
        outside the vocabulary is taken as it is (no free-text matching).
    subject : str
        A synthetic subject id (``synth-01`` … ``synth-04``, ``synth-null``, ``synth-s<SEED>``),
        or with ``nsd_root`` an NSD subject (``1`` … ``8``, ``subj01``, ``nsd-subj01``).
    seed : int
        Seeds the plan, every stimulus, the bootstrap and the permutations (≥ 0).
    config : LocalizeConfig, optional
        Sizes, region rule, statistics and verdict cut-offs (defaults: the paper's).
    out : path, optional
        Folder for ``result.json``, ``maps.npz``, ``stimuli/``, ``report.html`` and
        ``followup/``. Nothing is written without it.
    use_cache : bool
        Read and write the disk cache (``$BRAINCAUSE_CACHE``).
    progress : callable, optional
        Called with one message per step.
    report : bool
        Write ``report.html`` (needs ``out``).
    followup : bool, optional
        Design the follow-up experiment into ``followup/`` (needs ``out``). By default
        only when the verdict calls for one (:data:`braincause.followup.FOLLOWUP_VERDICTS`).
    nsd_root : path, optional
        A local NSD copy (``docs/nsd.md``): run on that NSD subject with the real backends
        of ``config.backends``.
    context : RunContext, optional
        What :func:`~braincause.pipeline.prepare_run` made for the same subject,
        configuration and data source, reused instead of preparing again (the sweep keeps
        one per worker, so heavy models load once). The results are the same.
    stimuli : path, optional
        A folder of the user's own stimuli (:mod:`braincause.stimuli.folder`), used instead
        of generating them; checked (every image decoded) before any other work.
    verify_stimuli : bool
        Keep only the folder's images the configured verifier agrees with (positives it
        sees the concept in, negatives and edits it does not).

    Returns
    -------
    LocalizeResult

    Every output is written into a staging folder inside ``out`` and moved into place
    only when the run is complete: a run that fails or is interrupted leaves ``out`` as
    it was, and files braincause did not write are never removed.
    """
    t0 = time.time()
    cfg, seed, say = _check_inputs(query, config, seed, out, nsd_root, progress)
    source = data_source(nsd_root)
    folder = _read_folder(stimuli, source, say)
    concept = source.resolve(query)
    say(f"concept: {query!r} → {concept.name} ({concept.how})")
    if context is None:
        ctx = prepare_run(source, subject, cfg, use_cache=use_cache, progress=say)
    else:
        ctx = _check_context(context, source, subject, cfg)
    if folder is None:
        ds = S.build_stimuli(ctx, concept, seed, with_images=out is not None, progress=say)
    else:
        ds = user_stimuli(ctx, concept, folder, verify=verify_stimuli,
                            with_images=out is not None, progress=say)
    ev = S.gather_evidence(ctx, concept, ds, progress=say)
    regions = S.propose_regions(ctx, concept, ev, progress=say)
    seeds = S.RunSeeds.from_seed(seed)
    say("testing on held-out data")
    masks = regions.masks(ctx.n_voxels)
    scores = {k: S.score_region(ctx, ev, m, random_states=seeds.boot[2 * j: 2 * j + 2])
              for j, (k, m) in enumerate(masks.items())}
    counters = ds.plan.counter_concepts if ds.plan else []
    baselines, base = S.baseline_scores(ctx, concept, counters, masks, progress=say)
    p = {k: baseline_p_values(scores[k], base[k]) for k in masks}
    voxelwise = S.voxelwise_tests(ctx, ev, regions.causal, seeds, progress=say)
    decision = S.decide_verdicts(ctx, ev, p["causal"], p["activation"], scores, masks, seeds,
                                 concept)
    if folder is not None:
        decision = _with_folder_reasons(decision, ds)
    data = result_document(ctx, concept, seed, ds, ev, regions, scores, baselines, p,
                           voxelwise, decision, with_folder=out is not None)
    data["run"] = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   "elapsed_s": round(time.time() - t0, 2)}
    design = _wants_followup(followup, decision.verdict.verdict)
    data["outputs"] = _outputs_record(report, design) if out is not None else None
    record = RunResult.from_dict(data)
    result = LocalizeResult(concept.name, ctx.subject_id, decision.verdict.verdict,
                            regions.causal.voxels, regions.activation.voxels,
                            record.to_dict(), Path(out) if out is not None else None,
                            run_maps(ctx, concept.name, regions),
                            item_responses(ev, ds, regions, ctx.n_voxels), record,
                            RunArtifacts(ctx, ds, ev, regions))
    if out is not None:
        write_run_folder(result, ds, Path(out), seed=seed, report=report, design=design,
                         progress=say)
    return result


def _check_inputs(query: str, config: LocalizeConfig | None, seed: Any,
                  out: str | Path | None, nsd_root: str | Path | None,
                  progress: Progress | None) -> tuple[LocalizeConfig, int, Progress]:
    """The configuration (validated), the seed and the progress callback; every check
    that needs no data (:func:`braincause.boundary.check_localize_inputs`), before any
    work."""
    check_localize_inputs(query, seed=seed, out=out, nsd_root=nsd_root)
    cfg = config or LocalizeConfig()
    cfg.validate()
    return cfg, int(seed), progress or _quiet


def _check_context(ctx: RunContext, source, subject: Any, cfg: LocalizeConfig) -> RunContext:
    """``ctx`` if it was prepared for this subject, configuration and kind of data."""
    same_subject = source.real or ctx.subject_id == subject  # NSD ids are normalised
    if ctx.cfg.hash() != cfg.hash() or ctx.source.real != source.real or not same_subject:
        raise UserInputError(f"context was prepared for {ctx.subject_id} with config "
                             f"{ctx.cfg.hash()}, not for {subject} with config {cfg.hash()}; "
                             "pass the context of the same subject and config, or none")
    return ctx


def _read_folder(stimuli: str | Path | None, source, say: Progress):
    """The checked stimulus folder (every image decoded, every counter-concept resolved),
    before any long work; None without one."""
    if stimuli is None:
        return None
    from braincause.stimuli.folder import counter_concepts, read_stimulus_folder

    say(f"reading the stimulus folder {stimuli}")
    folder = read_stimulus_folder(stimuli)
    counter_concepts(folder, source.resolve)  # an unknown counter-concept fails here
    return folder


def user_stimuli(ctx: RunContext, concept: ResolvedQuery, folder, *, verify: bool,
                 with_images: bool, progress: Progress | None = None):
    """The causal dataset of a user's stimulus folder (``--stimuli DIR``,
    :mod:`braincause.stimuli.folder`) instead of generated stimuli.

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    folder : StimulusFolder
        :func:`braincause.stimuli.folder.read_stimulus_folder`'s result.
    verify : bool
        Keep only the images the run's verifier agrees with.
    with_images : bool
    progress : callable, optional

    Returns
    -------
    CausalDataset

    Raises
    ------
    EmptyStimuli
        No TRAIN or no EVAL positive survived verification.
    """
    from braincause.stimuli.folder import load_user_stimuli

    cfg = ctx.cfg
    ds = load_user_stimuli(folder, concept.name, backbone=ctx.roles.backbone,
                           resolve=ctx.source.resolve,
                           image_size=int(ctx.roles.generator.image_size),
                           verifier=ctx.roles.verifier if verify else None,
                           threshold=cfg.stimuli.verifier_threshold,
                           absent_threshold=cfg.stimuli.absent_threshold,
                           with_images=with_images, progress=progress)
    for split in ("train", "eval"):
        if len(ds.indices("positive", split)) == 0:
            raise S.EmptyStimuli(f"no {split} positive of the stimulus folder passed the "
                               f"verifier ({len(ds.indices('positive', split, kept=False))} "
                               "given); run without verification, or lower "
                               "stimuli.verifier_threshold")
    return ds


def _with_folder_reasons(decision, ds):
    """The verdicts of a run on a user's stimulus folder, saying which of the gate's
    comparisons the folder could not give (no cue controls: positives are compared with
    their removal edits only)."""
    notes = []
    for split in ("train", "eval"):
        if not len(ds.scoring_sets(split)["control"]):
            notes.append(f"the stimulus folder has no {split.upper()} cue controls: the "
                         "gate compares those positives with their removal edits only")
    if not notes:
        return decision
    return dataclasses.replace(
        decision, verdict=dataclasses.replace(decision.verdict,
                                              reasons=[*decision.verdict.reasons, *notes]),
        activation_verdict=dataclasses.replace(
            decision.activation_verdict,
            reasons=[*decision.activation_verdict.reasons, *notes]))


def _wants_followup(followup: bool | None, verdict: str) -> bool:
    from braincause.followup import calls_for_followup

    return followup if followup is not None else calls_for_followup(verdict)


def _outputs_record(report: bool, design: bool) -> dict[str, Any]:
    return {"result": "result.json", "maps": "maps.npz", "surface": "surface/",
            "regions": "regions.tsv", "stimuli": "stimuli/",
            "report": "report.html" if report else None,
            "followup": "followup/" if design else None}


@contextmanager
def _staging(out: Path):
    """A folder ``out/.staging-*/<out.name>`` (the same name, so files that record the
    run folder's name record the real one), removed afterwards whatever happens."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        stage = tmp / out.name
        stage.mkdir()
        yield stage
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_run_folder(result: LocalizeResult, ds, out: Path, *, seed: int, report: bool,
                     design: bool, progress: Progress | None = None) -> None:
    """Write the run folder: everything into a staging folder first (result.json,
    maps.npz, stimuli/, then followup/ and report.html, made from the in-memory
    :class:`~braincause.runfolder.RunFolder`), then move each
    file into ``out``, result.json and report.html last. A stale ``followup/`` of an
    earlier run is removed when this run designs none (only the files a design writes)."""
    say = progress or _quiet
    with _staging(out) as stage:
        folder = write_outputs(result, ds, stage)  # handed on in memory, not read back
        if design:
            from braincause.followup import design_followup

            say("designing the follow-up experiment")
            made = design_followup(folder, seed=seed, progress=say)
            folder = dataclasses.replace(folder, followup=made.data)
        if report:
            from braincause.report import write_report

            say("writing the report")
            write_report(folder)
        for name in COMPLETION_FILES:  # the old run's marks go first, new ones come last
            (out / name).unlink(missing_ok=True)
        if not design:
            _remove_stale_followup(out / "followup")
        _move_tree(stage, out, last=COMPLETION_FILES)


def _move_tree(src: Path, dst: Path, *, last: tuple[str, ...] = ()) -> None:
    """Move every file of ``src`` to the same place under ``dst`` (replacing files of the
    same name, keeping any other file), ``last`` (top-level names) at the end."""
    files = sorted(p for p in src.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.relative_to(src).as_posix() in last)
    for f in files:
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        f.replace(target)


def _remove_stale_followup(folder: Path) -> None:
    """Remove the files an earlier run's follow-up design wrote (listed in its
    ``design.json``) and the folders they leave empty; anything else stays."""
    from braincause.followup.export import design_files

    if not folder.is_dir():
        return
    for rel in design_files(folder):
        (folder / rel).unlink(missing_ok=True)
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
