"""What a ``localize`` run records: the result document (result.json), the per-voxel maps
(maps.npz), the stimulus folder, and the terminal summary."""

from __future__ import annotations

import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause._version import __version__
from braincause.pipeline.context import ResolvedQuery, RunContext
from braincause.pipeline.stages import Decision, Evidence, Regions


@dataclass
class LocalizeResult:
    """What ``localize`` found; ``to_dict()`` is the content of result.json.

    Attributes
    ----------
    concept, subject, verdict : str
    region, activation_region : ndarray of shape (n_region,), int
    data : dict
        result.json's document.
    out : Path or None
    maps : dict of str to ndarray
    item_responses : ndarray of shape (n_items, 2) or None
    record : RunResult
    artifacts : RunArtifacts
    """

    concept: str
    subject: str
    verdict: str
    region: np.ndarray = field(repr=False)
    activation_region: np.ndarray = field(repr=False)
    data: dict[str, Any] = field(repr=False, default_factory=dict)
    out: Path | None = None
    #: per-voxel maps written to ``maps.npz`` (see :func:`voxel_maps`)
    maps: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    #: predicted region-mean response of every stimulus: (n_items, 2) for (causal, activation)
    item_responses: np.ndarray | None = field(repr=False, default=None)
    #: result.json as typed records (:class:`braincause.runfolder.RunResult`)
    record: Any = field(repr=False, default=None)
    #: the run's context, stimuli, evidence and regions, for callers that score more
    #: regions on the same data (the benchmark); not written anywhere
    artifacts: Any = field(repr=False, default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """result.json's document.

        Returns
        -------
        dict
        """
        return self.data

    def summary(self) -> str:
        """The terminal summary (:func:`format_summary`).

        Returns
        -------
        str
        """
        return format_summary(self.data)


@dataclass(frozen=True)
class RunArtifacts:
    """The in-memory artifacts of one run (see :attr:`LocalizeResult.artifacts`).

    Attributes
    ----------
    ctx : RunContext
    dataset : CausalDataset
    evidence : Evidence
    regions : Regions
    """

    ctx: RunContext
    dataset: Any
    evidence: Evidence
    regions: Regions


# ------------------------------------------------------------------ result.json
def result_document(ctx: RunContext, concept: ResolvedQuery, seed: int, ds, ev: Evidence,
                    regions: Regions, scores: dict[str, Any], baselines: list[str],
                    p_values: dict[str, Any], voxelwise: dict[str, Any],
                    decision: Decision, *, with_folder: bool) -> dict[str, Any]:
    """The content of result.json (without ``run`` and ``outputs``).

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    seed : int
    ds : CausalDataset
    ev : Evidence
    regions : Regions
    scores : dict
        Each region's scores.
    baselines : list of str
    p_values : dict
        Each region's criteria.
    voxelwise : dict
    decision : Decision
    with_folder : bool
        The stimuli are written to ``stimuli/``.

    Returns
    -------
    dict
    """
    cfg, subj, st = ctx.cfg, ctx.subj, ctx.cfg.stats
    c = concept.concept
    data: dict[str, Any] = {
        "braincause_version": __version__,
        "query": concept.query,
        "concept": {"name": c.name, "label": c.label, "kind": c.kind,
                    "description": c.description, "resolved_by": concept.how,
                    "resolution_score": None if concept.score is None
                    else round(float(concept.score), 4)},
        "subject": {"id": ctx.subject_id, "fingerprint": subj.fingerprint(),
                    "n_voxels": ctx.n_voxels, "n_voxels_kept": int(ctx.keep.sum()),
                    "coordinates": "fsaverage5 vertices (close to MNI305)"
                    if subj.cortex is not None else "fsaverage vertices of the NSD betas"},
        "seed": seed,
        "config": cfg.to_dict(),
        "config_hash": cfg.hash(),
        "versions": _versions(),
        "backends": _backends_record(ctx, concept.name),
        "stimuli": {"dataset_key": ds.key, "source": _stimuli_source(ds),
                    "retention": ds.retention(),
                    "counter_concepts": [x.to_dict() for x in
                                         (ds.plan.counter_concepts if ds.plan else [])],
                    "folder": "stimuli/" if with_folder else None},
        "signals": {"used_in_combination": regions.used, "available": sorted(regions.signals),
                    "combination": "mean of z-scored signals (z over voxels passing the "
                                   "encoder filter), equal weights"},
        "region": {**regions.causal.to_dict(), "scores": scores["causal"]},
        "activation_region": {**regions.activation.to_dict(), "scores": scores["activation"]},
        "p_values": {"definition": "p = (1 + #{baseline score ≥ target score}) / "
                                   "(1 + N_baselines), one-sided, EVAL split / held-out "
                                   "measured images, same region for every baseline",
                     "baseline_concepts": baselines, "baseline_seed": st.baseline_seed,
                     "causal": p_values["causal"], "activation": p_values["activation"]},
        "voxelwise": {"alpha": st.alpha, "n_permutations": st.n_permutations,
                      "units": "t statistics; p-values family-wise (max-T over the "
                               f"{int(ctx.keep.sum())} voxels passing the encoder filter) "
                               "and BH-FDR", **voxelwise},
        "coverage": _coverage_record(ctx, ev, decision),
        "verdict": {**decision.verdict.to_dict(), "cutoffs": {"alpha": st.alpha,
                                                               **cfg.to_dict()["verdict"]}},
        "activation_verdict": decision.activation_verdict.verdict,
        "noise": {"units": "region-mean single-trial response (per-voxel z-scores, "
                           "NSD-style), held-out measured images",
                  **{f"{k}_region": trial_noise(subj.trials, m, subj.test_indices)
                     for k, m in regions.masks(ctx.n_voxels).items()}},
    }
    if ctx.source.real:
        data["subject"]["dataset"] = {"name": "NSD", "subject": subj.subject,
                                      "sessions": list(subj.sessions),
                                      "vertex_mask": cfg.nsd.vertex_mask,
                                      "beta_version": cfg.nsd.beta_version}
    if hasattr(subj, "ground_truth"):
        data["ground_truth"] = ground_truth_record(subj, concept.name, regions.causal,
                                                   regions.activation)
    return data


def _stimuli_source(ds) -> dict[str, Any]:
    """Where the stimuli came from: generated by the run's roles, or a user's folder."""
    c = ds.config or {}
    if c.get("source") == "folder":
        return {"kind": "folder", "path": c.get("folder"), "layout": c.get("layout"),
                "verified": bool(c.get("verified"))}
    return {"kind": "generated", "path": None, "layout": None, "verified": True}


def _coverage_record(ctx: RunContext, ev: Evidence, decision: Decision) -> dict[str, Any]:
    cfg, cov_eval = ctx.cfg, decision.coverage_eval
    return {"level": decision.level, "eval": cov_eval,
            "train": ev.m_train.coverage(desired_positives=cfg.stimuli.n_positive_train,
                                         desired_negatives=cfg.stimuli.n_negative_prompts),
            "pool": ev.m_pool.coverage(desired_positives=cfg.retrieval.max_positive,
                                       desired_negatives=cfg.retrieval.max_negative),
            "missing_counter_concepts": sorted(
                k for k, v in cov_eval["negatives_per_counter"].items()
                if v < cfg.verdict.min_negatives_per_counter)}


def _backends_record(ctx: RunContext, name: str) -> dict[str, Any]:
    cfg, roles, fit = ctx.cfg, ctx.role_kwargs, ctx.fit
    verifier, backbone = ctx.roles.verifier, ctx.roles.backbone
    return {"writer": roles["writer"].config, "generator": roles["generator"].config,
            "editor": roles["editor"].config,
            "verifier": {"name": cfg.verifier, "fingerprint": verifier.fingerprint(),
                         "accuracy": _verifier_accuracy(verifier, name)},
            "backbone": backbone.fingerprint(),
            "backbone_name": getattr(backbone, "name", type(backbone).__name__),
            "retriever": _retriever_record(cfg, ctx.index),
            "roles": dict(ctx.roles.kinds),
            "encoder": {"path_key": fit.path.name if fit.path else None,
                        "median_r": fit.summary.get("median_r"),
                        "r_threshold": cfg.region.r_threshold}}


def _retriever_record(cfg, index) -> dict[str, Any]:
    r = cfg.backends.retriever
    rec: dict[str, Any] = {"name": r.kind}
    emb = getattr(index, "embedder", None)
    if emb is not None and hasattr(emb, "fingerprint"):
        rec["fingerprint"] = emb.fingerprint()
    if r.kind == "clip":
        rec["model"] = getattr(emb, "source", None) or r.model
    return rec


def _verifier_accuracy(verifier, name: str) -> dict | None:
    acc = getattr(verifier, "accuracy", None)
    if acc is None:
        return None
    table = acc()
    row = table.get(name) if isinstance(table, dict) else None
    if row is None:
        return None
    return {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in row.items()}


def _versions() -> dict[str, str]:
    import scipy
    import sklearn
    import torch

    return {"braincause": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "torch": torch.__version__,
            "scikit-learn": sklearn.__version__}


def trial_noise(trials: np.ndarray, mask: np.ndarray, images: np.ndarray) -> dict[str, Any]:
    """Trial-to-trial and image-to-image SD of the region-mean measured response.

    Parameters
    ----------
    trials : ndarray of shape (n_images, n_repeats, n_voxels)
    mask : ndarray of shape (n_voxels,), bool
    images : ndarray of shape (n_selected,), int

    Returns
    -------
    dict
    """
    idx = np.asarray(images)
    t = np.concatenate([trials[idx[i:i + 256]][:, :, mask].astype(np.float32).mean(axis=2)
                        for i in range(0, len(idx), 256)])  # (n_images, n_repeats)
    n, r = t.shape
    if np.isnan(t).any():  # NSD: images shown fewer times than others have NaN repeats
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            within = float(np.nanmean(np.nanvar(t, axis=1, ddof=1))) if r > 1 else float("nan")
            between = float(np.nanvar(np.nanmean(t, axis=1), ddof=1)) if n > 1 \
                else float("nan")
    else:
        within = float(t.var(axis=1, ddof=1).mean()) if r > 1 else float("nan")
        between = float(t.mean(axis=1).var(ddof=1)) if n > 1 else float("nan")
    return {"trial_sd": round(float(np.sqrt(within)), 6),
            "image_sd": round(float(np.sqrt(between)), 6),
            "n_images": int(n), "n_repeats": int(r)}


def ground_truth_record(subj, name: str, region, act_region) -> dict[str, Any]:
    """Precision, recall, Dice and area fractions of both regions against the synthetic
    subject's ground truth for ``name``.

    Parameters
    ----------
    subj : SyntheticSubject
    name : str
    region, act_region : Region

    Returns
    -------
    dict
    """
    from braincause.evaluate.overlap import overlap
    from braincause.synth.ground_truth import DEFINITION
    from braincause.synth.subject import EXTENT

    gt = subj.ground_truth(name)
    truth = gt.voxels
    areas = {a.name: a.extent for a in subj.brain.areas}
    kinds = subj.area_kinds()

    def union(kind: str) -> np.ndarray:
        m = np.zeros(len(truth), bool)
        for a, k in kinds.items():
            if k == kind:
                m |= areas[a]
        return m

    planted, decoys = union("planted"), union("decoy")

    def evaluate(reg) -> dict[str, Any]:
        m = reg.mask(len(truth))
        n = max(1, int(m.sum()))
        ov = overlap(m, truth)
        return {"precision": round(ov["precision"], 4),
                "recall": None if ov["recall"] is None else round(ov["recall"], 4),
                "dice": round(ov["dice"], 4),
                "inside": {a: round(float((m & mask).sum()) / n, 4) for a, mask in areas.items()},
                "inside_planted": round(float((m & planted).sum()) / n, 4),
                "inside_decoys": round(float((m & decoys).sum()) / n, 4)}

    return {"definition": DEFINITION, "thresholds": gt.thresholds,
            "inside_means": "fraction of the region's voxels within each area's extent "
                            f"(its blob ≥ {EXTENT:g} × its peak)",
            "n_true_voxels": int(truth.sum()), "causal": evaluate(region),
            "activation": evaluate(act_region)}


# ------------------------------------------------------------------ maps and stimuli
def voxel_maps(subj, keep, masks, vs, signals, truth) -> dict[str, np.ndarray]:
    """Per-voxel arrays for figures and reports (``maps.npz``).

    Parameters
    ----------
    subj : BrainDataset
    keep : ndarray of shape (n_voxels,), bool
    masks : dict of str to ndarray of shape (n_voxels,), bool
    vs : VoxelScores
    signals : dict of str to ndarray of shape (n_voxels,)
    truth : ndarray of shape (n_voxels,), bool, or None

    Returns
    -------
    dict of str to ndarray
    """
    cx = subj.cortex if subj.cortex is not None else subj  # NSD off fsaverage5: its own
    out: dict[str, np.ndarray] = {
        "vertex": np.asarray(cx.vertex, np.int32), "hemi": np.asarray(cx.hemi, np.int8),
        "keep": np.asarray(keep, bool), "region": masks["causal"],
        "activation_region": masks["activation"],
        "s_pos": vs.s_pos.astype(np.float32), "s_neg": vs.s_neg.astype(np.float32),
        "s_edit": vs.s_edit.astype(np.float32), "s_causal": vs.s_causal.astype(np.float32)}
    for k, v in signals.items():
        out[f"signal_{k}"] = np.asarray(v, np.float32)
    if truth is not None:
        out["truth"] = np.asarray(truth, bool)
    if hasattr(subj, "area_kinds") and len(subj.brain.areas):  # synth-null has none
        kinds = subj.area_kinds()
        names = [a.name for a in subj.brain.areas]
        out["area_names"] = np.asarray(names)
        out["area_kinds"] = np.asarray([kinds.get(n, "") for n in names])
        out["area_extents"] = np.stack([a.extent for a in subj.brain.areas]).astype(bool)
    return out


def run_maps(ctx: RunContext, name: str, regions: Regions) -> dict[str, np.ndarray]:
    """:func:`voxel_maps` of a run.

    Parameters
    ----------
    ctx : RunContext
    name : str
    regions : Regions

    Returns
    -------
    dict of str to ndarray
    """
    subj = ctx.subj
    truth = subj.ground_truth(name).voxels if hasattr(subj, "ground_truth") else None
    return voxel_maps(subj, ctx.keep, regions.masks(ctx.n_voxels), regions.train_scores,
                      regions.signals, truth)


def item_responses(ev: Evidence, ds, regions: Regions, n_voxels: int) -> np.ndarray:
    """Predicted region-mean response of every stimulus (causal and activation region;
    NaN for images that failed).

    Parameters
    ----------
    ev : Evidence
    ds : CausalDataset
    regions : Regions
    n_voxels : int

    Returns
    -------
    ndarray of shape (n_items, 2)
    """
    masks = regions.masks(n_voxels)
    out = np.stack([ev.Y[:, masks["causal"]].mean(axis=1),
                    ev.Y[:, masks["activation"]].mean(axis=1)], axis=1).astype(np.float64)
    out[~ds.ok] = np.nan
    return out


def stimulus_manifest(ds, responses: np.ndarray | None) -> tuple[list[dict[str, Any]],
                                                                  list[tuple[str, bytes]]]:
    """The stimulus manifest and the PNG files of ``ds`` (images generated this run).

    Each manifest entry has ``response``: the encoder's predicted mean response over the
    causal and the activation-only region (z units), null for images that failed.

    Parameters
    ----------
    ds : CausalDataset
    responses : ndarray of shape (n_items, 2) or None

    Returns
    -------
    manifest : list of dict
    images : list of (str, bytes)
    """
    import io

    from PIL import Image

    manifest, images = [], []
    for i in range(ds.n_items):
        entry = {"id": i, "role": str(ds.role[i]), "split": str(ds.split[i]),
                 "text": ds.text[i], "counter_concept": str(ds.counter[i]) or None,
                 "parent": int(ds.parent[i]) if ds.parent[i] >= 0 else None,
                 "generated": bool(ds.ok[i]), "kept": bool(ds.kept[i]),
                 "p_present": None if not np.isfinite(ds.presence[i])
                 else round(float(ds.presence[i]), 4), "file": None,
                 "response": _item_response(responses, i)}
        if ds.ok[i] and ds.images is not None:
            fname = f"{ds.split[i]}-{ds.role[i]}-{i:05d}.png"
            buf = io.BytesIO()
            # lossless at any level; level 1 encodes ~3x faster than the default 6 for
            # ~6 % larger files (a warm run writes ~1,900 of them)
            Image.fromarray(ds.images[i]).save(buf, format="PNG", optimize=False,
                                               compress_level=1)
            images.append((fname, buf.getvalue()))
            entry["file"] = fname
        manifest.append(entry)
    return manifest, images


def write_outputs(result: LocalizeResult, ds, out: Path):
    """``out/result.json``, ``out/maps.npz`` and ``out/stimuli/`` (PNG files +
    manifest.json), with :func:`braincause.runfolder.write_run`, and the maps as GIFTI
    surface files with the regions as TSV (:func:`write_surface_outputs`).

    Parameters
    ----------
    result : LocalizeResult
    ds : CausalDataset
        The run's stimuli.
    out : Path

    Returns
    -------
    braincause.runfolder.RunFolder
        The folder as written.
    """
    from braincause.runfolder import write_run

    manifest, images = stimulus_manifest(ds, result.item_responses)
    folder = write_run(Path(out), result.record, result.maps, manifest, images)
    if result.artifacts is not None:
        write_surface_outputs(result.artifacts.ctx.subj, result.maps, Path(out))
    return folder


#: the maps of ``maps.npz`` written as GIFTI: floats (``.func.gii``), masks (``.label.gii``)
SURFACE_FLOATS = ("s_causal", "s_pos", "s_neg", "s_edit")
SURFACE_MASKS = ("region", "activation_region", "keep", "truth")


def mesh_vertices(subj) -> int:
    """Vertices per hemisphere of the mesh ``subj``'s voxels live on (fsaverage5 for the
    synthetic subjects and NSD's visual vertices, else the NSD betas' own surface).

    Parameters
    ----------
    subj : BrainDataset

    Returns
    -------
    int
    """
    if subj.cortex is not None:
        from braincause.synth.cortex import N_FSAVERAGE5

        return N_FSAVERAGE5
    return len(subj.to_fsaverage(np.zeros(subj.n_voxels, np.float32))["lh"])


def write_surface_outputs(subj, maps: dict[str, np.ndarray], out: Path) -> list[Path]:
    """``out/surface/{lh,rh}.<map>.func.gii`` (S_causal, S_pos, S_neg, S_edit),
    ``out/surface/{lh,rh}.<mask>.label.gii`` (both regions, the encoder filter ``keep``,
    the ground truth of a synthetic subject) and ``out/regions.tsv`` (the voxels of both
    regions with their vertex, coordinates and scores), from the arrays of maps.npz
    (:mod:`braincause.surfacefiles`).

    Parameters
    ----------
    subj : BrainDataset
    maps : dict of str to ndarray
        :func:`voxel_maps`.
    out : Path

    Returns
    -------
    list of Path
    """
    from braincause.surfacefiles import region_table, write_surface_maps
    from braincause.utils import atomic_write_bytes

    files = write_surface_maps(out / "surface", maps, n_vertices=mesh_vertices(subj),
                               floats=SURFACE_FLOATS, masks=SURFACE_MASKS)
    coords = subj.cortex.pial if subj.cortex is not None else None
    table = region_table({"causal": maps["region"], "activation": maps["activation_region"]},
                         maps, columns=SURFACE_FLOATS, coordinates=coords)
    atomic_write_bytes(out / "regions.tsv", table.encode())
    return [*files, out / "regions.tsv"]


def _item_response(resp: np.ndarray | None, i: int) -> dict[str, float] | None:
    if resp is None or not np.isfinite(resp[i]).all():
        return None
    return {"causal": round(float(resp[i, 0]), 5), "activation": round(float(resp[i, 1]), 5)}


# ------------------------------------------------------------------ summary
def _fmt_ci(block: dict | None, key: str) -> str:
    if not block or block.get(key, {}).get("value") is None:
        return "n/a"
    b = block[key]
    return f"{b['value']:+.3f} [{b['ci_low']:+.3f}, {b['ci_high']:+.3f}]"


def format_summary(d: dict[str, Any]) -> str:
    """A concise terminal summary of a result dict.

    Parameters
    ----------
    d : dict
        result.json's document.

    Returns
    -------
    str
    """
    c, r, v = d["concept"], d["region"], d["verdict"]
    lines = [f"{d['query']!r} → {c['name']} ({c['kind']}) in {d['subject']['id']}",
             f"verdict: {v['verdict'].upper()}  (coverage {v['coverage']}, generated evidence "
             f"{'strong' if v['generated_evidence'] else 'weak'}, measured evidence "
             f"{'strong' if v['measured_evidence'] else 'weak'})",
             *_gate_lines(v),
             f"region: {r['size']} voxels ({r['rule']}, ranking {r['ranking']})",
             f"  eval generated  S_pos {_fmt_ci(r['scores']['eval_generated'], 's_pos')}  "
             f"S_neg {_fmt_ci(r['scores']['eval_generated'], 's_neg')}  "
             f"S_edit {_fmt_ci(r['scores']['eval_generated'], 's_edit')}",
             f"  eval measured   S_pos {_fmt_ci(r['scores']['eval_measured'], 's_pos')}  "
             f"S_neg {_fmt_ci(r['scores']['eval_measured'], 's_neg')}",
             "  p (vs " + str(len(d["p_values"]["baseline_concepts"])) + " baseline concepts): "
             + ", ".join(f"{k} {x['p']}" for k, x in d["p_values"]["causal"].items())]
    gt = d.get("ground_truth")
    if gt:
        top = sorted(gt["causal"]["inside"].items(), key=lambda t: -t[1])[:3]
        lines.append(f"ground truth: {gt['n_true_voxels']} true voxels; causal region precision "
                     f"{gt['causal']['precision']:.2f}, dice {gt['causal']['dice']:.2f}; "
                     "inside " + ", ".join(f"{a} {f:.0%}" for a, f in top if f > 0))
        a = gt["activation"]
        lines.append(f"  activation-only region precision {a['precision']:.2f}, "
                     f"dice {a['dice']:.2f}; verdict {d['activation_verdict']}")
    return "\n".join(lines)


def _gate_lines(v: dict[str, Any]) -> list[str]:
    """The causal gate's tests, the selectivity label and the paper's rule, one line."""
    gate = v.get("gate")
    if not gate:
        return []
    tests = ", ".join(f"{k} p {t['p'] if t['p'] is not None else 'n/a'}"
                      f" ({'pass' if t['passes'] else 'fail'})"
                      for k, t in gate["tests"].items())
    sel = v.get("selectivity") or {}
    label = sel.get("label")
    if label == "shared":
        label = "shared with " + ", ".join(e["name"] for e in sel.get("shared_with", []))
    return [f"  causal gate: {tests}; {label or 'no selectivity label'}; the paper's rule: "
            f"{v.get('paper_verdict')}"]
