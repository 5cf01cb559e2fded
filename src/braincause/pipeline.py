"""``localize``: concept in, verdict out (the BrainCause pipeline, ARCHITECTURE.md).

resolve → plan → stimuli (generate, edit, verify) → predict → score → region (TRAIN
split only) → test (EVAL split and held-out measured images: bootstrap CIs,
baseline-concept p-values, voxelwise max-T and FDR) → measured coverage → verdict →
``result.json`` and ``stimuli/``. Every stage reads and writes the on-disk cache, so
a rerun with the same inputs is fast and an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause import __version__
from braincause.config import LocalizeConfig
from braincause.exceptions import UserInputError
from braincause.plan.base import CounterConcept

Progress = Callable[[str], None]

#: Criteria of the paper's significance test (PAPER.md §2.6): name -> (data, score).
CRITERIA = {"act_gen": ("gen", "s_pos"), "causal_gen": ("gen", "s_neg"),
            "edits": ("gen", "s_edit"), "act_meas": ("meas", "s_pos"),
            "causal_meas": ("meas", "s_neg")}


class EmptyStimuli(UserInputError):
    """No positive image survived verification."""


@dataclass
class LocalizeResult:
    """What ``localize`` found; ``to_dict()`` is the content of result.json."""

    concept: str
    subject: str
    verdict: str
    region: np.ndarray = field(repr=False)
    activation_region: np.ndarray = field(repr=False)
    data: dict[str, Any] = field(repr=False, default_factory=dict)
    out: Path | None = None
    #: per-voxel maps written to ``maps.npz`` (see :func:`_maps`)
    maps: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    #: predicted region-mean response of every stimulus: (n_items, 2) for (causal, activation)
    item_responses: np.ndarray | None = field(repr=False, default=None)

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def summary(self) -> str:
        return format_summary(self.data)


# ------------------------------------------------------------------ helpers
def _stable_rank(name: str) -> str:
    return hashlib.sha256(f"baseline:{name}".encode()).hexdigest()


def baseline_concepts(target: str, n: int, exclude: set[str] = frozenset()) -> list[str]:
    """``n`` concepts distinct from ``target``: no shared member category, not a group or
    composition it belongs to, not one of its counter-concepts (``exclude``). The order
    is a fixed hash order, so targets share baselines (and their cached datasets)."""
    from braincause.synth.concepts import CONCEPTS

    t = CONCEPTS[target]
    t_members = set(t.members)
    out = []
    for name in sorted(CONCEPTS, key=_stable_rank):
        c = CONCEPTS[name]
        if name == target or name in exclude or set(c.members) & t_members:
            continue
        out.append(name)
        if len(out) == n:
            break
    if len(out) < n:
        raise UserInputError(f"only {len(out)} baseline concepts are distinct from {target!r}; "
                             f"lower stats.n_baselines to ≤ {len(out)}")
    return out


def synthetic_baselines(concept: str, cfg: LocalizeConfig, writer) -> list[str]:
    """The baseline concepts ``localize`` tests ``concept`` against in the synthetic world
    with ``cfg``: :func:`baseline_concepts` minus the counter-concepts ``writer`` proposes
    (the plan's counter-concepts are ``writer.counter_concepts(concept, n_counter)``)."""
    n = cfg.stimuli.n_counter
    counters = writer.counter_concepts(concept, n) if n else []
    return baseline_concepts(concept, cfg.stats.n_baselines, {c.name for c in counters})


def build_baseline_dataset(name: str, roles: dict[str, Any], cfg: LocalizeConfig, *,
                           use_cache: bool = True):
    """One baseline concept's EVAL-only stimuli, as every target's run shares them (seed
    ``stats.baseline_seed``; cached by content like every dataset)."""
    from braincause.stimuli.dataset import build_causal_dataset

    return build_causal_dataset(name, **roles, sizes=_sizes(cfg, eval_only=True),
                                seed=cfg.stats.baseline_seed,
                                threshold=cfg.stimuli.verifier_threshold,
                                absent_threshold=cfg.stimuli.absent_threshold,
                                use_cache=use_cache, with_images=False)


def _sizes(cfg: LocalizeConfig, eval_only: bool = False):
    from braincause.stimuli.dataset import DatasetSizes

    s = cfg.stimuli
    if eval_only:
        return DatasetSizes({"eval": s.n_positive_eval}, s.n_counter, s.n_negative_prompts,
                            {"eval": s.n_edit_positives_eval}, s.n_edits)
    return DatasetSizes({"train": s.n_positive_train, "eval": s.n_positive_eval}, s.n_counter,
                        s.n_negative_prompts,
                        {"train": s.n_edit_positives_train, "eval": s.n_edit_positives_eval},
                        s.n_edits)


def _gen_sets(ds, Y: np.ndarray, split: str) -> dict[str, np.ndarray]:
    sets = ds.scoring_sets(split)
    return {"pos": Y[sets["pos"]], "neg": Y[sets["neg"]], "edits": Y[sets["edit"]],
            "edit_of": sets["edit_of"]}


def _region_avgs(sets: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, Any]:
    def avg(a):
        return None if a is None or len(a) == 0 else np.asarray(a)[:, mask].mean(axis=1)
    return {"a_pos": avg(sets.get("pos")), "a_neg": avg(sets.get("neg")),
            "a_edit": avg(sets.get("edits")), "edit_of": sets.get("edit_of")}


def _meas_arrays(Y: np.ndarray, ms) -> dict[str, np.ndarray]:
    return {"pos": Y[ms.positives], "neg": Y[ms.all_negatives]}


#: What marks a finished run in an output folder (see :func:`localize`).
COMPLETION_FILES = ("result.json", "report.html")


def _clear_outputs(out: Path) -> None:
    """Remove the files that say a run into ``out`` finished (an earlier run's)."""
    for name in COMPLETION_FILES:
        (out / name).unlink(missing_ok=True)


def load_nsd_subject(root: str | Path, subject: Any, cfg: LocalizeConfig):
    """The NSD subject ``subject`` (``1``, ``"1"``, ``"subj01"`` or ``"nsd-subj01"``) of the
    NSD copy at ``root``, read as ``cfg.nsd`` says.

    Raises
    ------
    UserInputError
        ``subject`` is not an NSD subject number.
    DataError
        Files missing (see ``docs/nsd.md``).
    """
    from braincause.datasets.nsd import NSDSubject

    text = str(subject).strip().lower()
    for prefix in ("nsd-", "subj"):
        text = text.removeprefix(prefix)
    try:
        num = int(text)
    except ValueError:
        raise UserInputError(f"with an NSD root, the subject must be an NSD subject number "
                             f"(1-8, or subj01 … subj08), got {subject!r}") from None
    n = cfg.nsd
    return NSDSubject(root, num, vertex_mask=None if n.vertex_mask == "all" else n.vertex_mask,
                      beta_version=n.beta_version, image_size=n.image_size)


def _pool_images(subj):
    """``images(indices) -> (n, S, S, 3) uint8``: measured images for a verifier that reads
    pixels (the dataset's default size; NSD: ``nsd.image_size``)."""
    def images(idx) -> np.ndarray:
        return np.stack([np.asarray(subj.image(int(i)), np.uint8) for i in np.asarray(idx)])
    return images


def _retriever_record(cfg: LocalizeConfig, index) -> dict[str, Any]:
    r = cfg.backends.retriever
    rec: dict[str, Any] = {"name": r.kind}
    emb = getattr(index, "embedder", None)
    if emb is not None and hasattr(emb, "fingerprint"):
        rec["fingerprint"] = emb.fingerprint()
    if r.kind == "clip":
        rec["model"] = getattr(emb, "source", None) or r.model
    return rec


# ------------------------------------------------------------------ the pipeline
def localize(query: str, *, subject: str = "synth-01", seed: int = 0,
             config: LocalizeConfig | None = None, out: str | Path | None = None,
             use_cache: bool = True, progress: Progress | None = None,
             report: bool = True, followup: bool | None = None,
             nsd_root: str | Path | None = None) -> LocalizeResult:
    """Localize ``query`` in ``subject``'s visual cortex (see the module docstring).

    Parameters
    ----------
    query : str
        A concept name, synonym or free text ("faces", "something to eat"). On NSD a query
        outside the vocabulary is taken as it is (no free-text matching).
    subject : str
        A synthetic subject id (``synth-01`` … ``synth-04``, ``synth-null``, ``synth-s<SEED>``),
        or with ``nsd_root`` an NSD subject (``1`` … ``8``, ``subj01``, ``nsd-subj01``).
    seed : int
        Seeds the plan, every stimulus, the bootstrap and the permutations.
    config : LocalizeConfig
        Sizes, region rule, statistics and verdict cut-offs (defaults: the paper's).
    out : path, optional
        Folder for ``result.json``, ``maps.npz``, ``stimuli/``, ``report.html`` and
        ``followup/``. Nothing is written without it.
    report : bool
        Write ``report.html`` (needs ``out``).
    followup : bool, optional
        Design the follow-up experiment into ``followup/`` (needs ``out``). By default
        only when the verdict calls for one
        (:data:`braincause.followup.FOLLOWUP_VERDICTS`: discovery, needs follow-up).
    nsd_root : path, optional
        A local NSD copy (``docs/nsd.md``): run on that NSD subject with the real backends
        of ``config.backends`` (no synthetic-world component; see :func:`_localize`).

    A run into an existing ``out`` folder first removes its ``result.json`` and
    ``report.html``; ``result.json`` is written (atomically) after every stimulus and
    map, and a run that fails after writing it removes it again, so a folder holds a
    ``result.json`` only when the last run into it finished.
    """
    state = {"cleared": False}
    try:
        return _localize(query, subject=subject, seed=seed, config=config, out=out,
                         use_cache=use_cache, progress=progress, report=report,
                         followup=followup, nsd_root=nsd_root, state=state)
    except BaseException:
        if out is not None and state["cleared"]:
            _clear_outputs(Path(out))
        raise


def _localize(query: str, *, subject: str, seed: int, config: LocalizeConfig | None,
              out: str | Path | None, use_cache: bool, progress: Progress | None,
              report: bool, followup: bool | None, nsd_root: str | Path | None,
              state: dict[str, bool]) -> LocalizeResult:
    """The body of :func:`localize`. With ``nsd_root``: the concept is the query (or its
    vocabulary entry), the subject an :class:`~braincause.datasets.nsd.NSDSubject`, the
    roles the configured real backends, the baselines everyday concepts
    (:mod:`braincause.concepts.everyday`), and there is no ground truth."""
    t0 = time.time()
    cfg = config or LocalizeConfig()
    cfg.validate()
    say = progress or (lambda _m: None)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise UserInputError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)

    # 1. resolve
    real = nsd_root is not None
    if real:
        from braincause.concepts.everyday import query_concept

        concept = query_concept(query)
        how, score = concept.resolved_by, None
    else:
        from braincause.concepts import resolve_with_score

        concept, how, score = resolve_with_score(query)
    name = concept.name
    say(f"concept: {query!r} → {name} ({how})")

    # subject, roles, encoder
    from braincause.backends import build_retriever, build_roles, check_real_data_backends
    from braincause.encoding.fit import fit_encoder

    say(f"subject {subject}")
    if real:
        subj = load_nsd_subject(nsd_root, subject, cfg)
        check_real_data_backends(cfg)
        subject = subj.subject_id
    else:
        from braincause.datasets.synthetic import load_subject

        subj = load_subject(subject)
    if out is not None:
        _clear_outputs(Path(out))
        state["cleared"] = True
    built = build_roles(cfg, use_cache=use_cache)
    backbone = built.backbone
    fit = fit_encoder(subj, backbone, threshold=cfg.region.r_threshold, use_cache=use_cache,
                      progress=say)
    keep = fit.keep(cfg.region.r_threshold)
    if not keep.any():
        raise UserInputError(f"no voxel of {subject} passes the encoder filter r ≥ "
                             f"{cfg.region.r_threshold}; lower region.r_threshold")
    verifier = built.verifier = built.verifier.fit(progress=say)

    # 2-3. plan and stimuli
    from braincause.stimuli.dataset import build_causal_dataset

    roles = built.as_kwargs()
    ds = build_causal_dataset(name, **roles, sizes=_sizes(cfg), seed=seed,
                              threshold=cfg.stimuli.verifier_threshold,
                              absent_threshold=cfg.stimuli.absent_threshold, use_cache=use_cache,
                              with_images=out is not None, progress=say)
    for split in ("train", "eval"):
        if len(ds.indices("positive", split)) == 0:
            raise EmptyStimuli(
                f"no {split} positive of {name!r} survived verification "
                f"({len(ds.indices('positive', split, kept=False))} generated). Try "
                + ("" if real else "stimuli.verifier = \"oracle\", ")
                + "a lower stimuli.verifier_threshold, or more positives "
                "(stimuli.n_positive_*)")

    # 4. predict
    say("predicting responses")
    Y = fit.encoder.predict(ds.features).astype(np.float32)
    pool_feats = fit.pool_features()
    Y_pool = fit.encoder.predict(pool_feats).astype(np.float32)
    Y_meas = subj.responses

    # measured retrieval
    from braincause.evaluate.measured import PoolVerifier, retrieve_sets

    say("retrieving measured images")
    index = build_retriever(cfg, subj, built)
    scenes = subj.pool.scenes if getattr(verifier, "needs_scenes", False) else None
    pv = PoolVerifier(verifier, pool_feats, scenes, cfg.stimuli.verifier_threshold,
                      cfg.retrieval.absent_threshold, images=_pool_images(subj))
    counters = ds.plan.counter_concepts if ds.plan else []
    rc = cfg.retrieval

    def measured(cname: str, label: str, ctrs: list[CounterConcept], split: str):
        cand = {"train": subj.train_indices, "eval": subj.test_indices,
                "pool": np.arange(subj.n_images)}[split]
        return retrieve_sets(index, pv, cname, label, ctrs, candidates=cand, split=split,
                             top_positive=rc.top_positive, max_positive=rc.max_positive,
                             top_negative=rc.top_negative, max_negative=rc.max_negative)

    m_train = measured(name, concept.label, counters, "train")
    m_eval = measured(name, concept.label, counters, "eval")
    m_pool = measured(name, concept.label, counters, "pool")

    # 5. score: ranking signals on TRAIN data
    from braincause.scoring.signals import COMBINED, combine_signals, ranking_signals

    say("scoring voxels")
    k_hard = cfg.region.k_hard
    gen_train = _gen_sets(ds, Y, "train")
    meas_train = _meas_arrays(Y_meas, m_train)
    pool_sets = {"pos_unverified": Y_pool[m_pool.positives_unverified],
                 "pos": Y_pool[m_pool.positives], "neg": Y_pool[m_pool.all_negatives]}
    signals = ranking_signals(gen=gen_train, measured=meas_train, pool=pool_sets, k_hard=k_hard)
    combined, used = combine_signals(signals, COMBINED, keep=keep)
    signals["braincause"] = combined
    ranking = cfg.region.ranking
    if ranking not in signals:
        raise UserInputError(f"the ranking signal {ranking} has no data for {name!r} "
                             "(no measured or pool images were retrieved); choose another "
                             "region.ranking")

    # 6. regions (TRAIN only)
    from braincause.regions import propose_region
    from braincause.scoring import voxel_scores

    train_vs = voxel_scores(gen_train["pos"], gen_train["neg"], gen_train["edits"],
                            gen_train["edit_of"], k_hard=k_hard)
    region = propose_region(signals[ranking], keep=keep, k=cfg.region.k, rule=cfg.region.rule,
                            s_causal=train_vs.s_causal, ranking=ranking)
    act_region = propose_region(signals["MAG"], keep=keep, k=cfg.region.k, rule="top_k",
                                ranking="MAG")
    n_vox = subj.n_voxels

    # 7. test on EVAL and held-out measured data
    from braincause.evaluate.regionstats import region_point_scores, region_scores_ci

    say("testing on held-out data")
    gen_eval = _gen_sets(ds, Y, "eval")
    meas_eval = _meas_arrays(Y_meas, m_eval)
    st = cfg.stats
    rng_root = np.random.SeedSequence([seed, 2605])
    boot_seeds = rng_root.spawn(4)

    def scores_for(reg, j: int) -> dict[str, Any]:
        mask = reg.mask(n_vox)
        g = _region_avgs(gen_eval, mask)
        t = _region_avgs(gen_train, mask)
        out: dict[str, Any] = {
            "train_generated": region_point_scores(t["a_pos"], t["a_neg"], t["a_edit"],
                                                   t["edit_of"], k_hard=k_hard),
            "eval_generated": region_scores_ci(g["a_pos"], g["a_neg"], g["a_edit"],
                                               g["edit_of"], k_hard=k_hard,
                                               n_boot=st.n_bootstrap, level=st.ci_level,
                                               alpha=st.alpha,
                                               random_state=np.random.default_rng(
                                                   boot_seeds[2 * j])),
        }
        m = _region_avgs(meas_eval, mask)
        if m["a_pos"] is not None:
            out["eval_measured"] = region_scores_ci(
                m["a_pos"], m["a_neg"], None, None, k_hard=k_hard, n_boot=st.n_bootstrap,
                level=st.ci_level, alpha=st.alpha,
                random_state=np.random.default_rng(boot_seeds[2 * j + 1]))
            for k in ("s_edit", "s_causal"):
                out["eval_measured"].pop(k, None)
        else:
            out["eval_measured"] = None
        return out

    region_scores = scores_for(region, 0)
    act_scores = scores_for(act_region, 1)

    # baseline concepts: the same regions, each baseline's own EVAL data
    if real:
        from braincause.concepts.everyday import EVERYDAY, everyday_baselines

        base_names = everyday_baselines(name, concept.label, st.n_baselines,
                                        [x for c in counters for x in (c.name, c.label)])
        base_label = EVERYDAY.__getitem__
    else:
        from braincause.synth.concepts import CONCEPTS

        base_names = baseline_concepts(name, st.n_baselines, {c.name for c in counters})

        def base_label(b: str) -> str:
            return CONCEPTS[b].label
    say(f"baseline concepts: {len(base_names)}")
    base_scores: dict[str, dict[str, dict[str, float | None]]] = {"causal": {}, "activation": {}}
    for i, b in enumerate(base_names):
        say(f"baseline {i + 1}/{len(base_names)}: {b}")
        bds = build_baseline_dataset(b, roles, cfg, use_cache=use_cache)
        Yb = fit.encoder.predict(bds.features).astype(np.float32)
        bg = _gen_sets(bds, Yb, "eval")
        bm = measured(b, base_label(b), bds.plan.counter_concepts if bds.plan else [],
                      "eval")
        bma = _meas_arrays(Y_meas, bm)
        for key, reg in (("causal", region), ("activation", act_region)):
            mask = reg.mask(n_vox)
            g = _region_avgs(bg, mask)
            entry = {}
            if g["a_pos"] is not None:
                ps = region_point_scores(g["a_pos"], g["a_neg"], g["a_edit"], g["edit_of"],
                                         k_hard=k_hard)
                entry.update({f"gen:{k}": v for k, v in ps.items()})
            mm = _region_avgs(bma, mask)
            if mm["a_pos"] is not None:
                ps = region_point_scores(mm["a_pos"], mm["a_neg"], None, None, k_hard=k_hard)
                entry.update({f"meas:{k}": v for k, v in ps.items()})
            base_scores[key][b] = entry

    from braincause.stats import empirical_p

    def pvalues(sc: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
        out = {}
        for crit, (data, s) in CRITERIA.items():
            block = sc["eval_generated"] if data == "gen" else sc["eval_measured"]
            val = None if block is None else block[s]["value"]
            low = None if block is None else block[s]["lower_one_sided"]
            named = [(b, e.get(f"{data}:{s}")) for b, e in base_scores[key].items()]
            named = [(b, v) for b, v in named if v is not None and np.isfinite(v)]
            base = [v for _, v in named]
            p = (float(empirical_p(val, np.asarray(base))) if val is not None and base
                 else None)
            out[crit] = {"value": val, "lower_one_sided": low,
                         "p": None if p is None else round(p, 6),
                         "n_baselines": len(base),
                         "baselines_at_least_as_high": (
                             None if val is None else [b for b, v in named if v >= val])}
        return out

    p_causal = pvalues(region_scores, "causal")
    p_act = pvalues(act_scores, "activation")

    # voxelwise permutation tests on the EVAL split (kept voxels)
    from braincause.stats import fdr_bh, label_permutation_max_t, sign_flip_max_t

    say("voxelwise permutation tests")
    kv = np.flatnonzero(keep)
    perm_seeds = rng_root.spawn(6)[4:]
    voxelwise: dict[str, Any] = {}
    in_region = np.isin(kv, region.voxels)
    if len(gen_eval["edits"]):
        from braincause.scoring import _hardest_edit

        pe = gen_eval["pos"][:, kv].astype(np.float64)
        hard, has = _hardest_edit(gen_eval["edits"][:, kv], gen_eval["edit_of"], len(pe))
        diff = pe[has] - hard[has]
        if diff.shape[0] >= 2:
            res = sign_flip_max_t(diff, n_permutations=st.n_permutations, tail=1,
                                  random_state=np.random.default_rng(perm_seeds[0]))
            voxelwise["edits_sign_flip"] = _perm_summary(res, in_region, st.alpha, fdr_bh,
                                                         "positive minus its hardest edit, "
                                                         "one-sample t, sign flips")
    if len(gen_eval["neg"]) >= 2:
        res = label_permutation_max_t(gen_eval["pos"][:, kv], gen_eval["neg"][:, kv],
                                      n_permutations=st.n_permutations, tail=1,
                                      random_state=np.random.default_rng(perm_seeds[1]))
        voxelwise["positives_vs_negatives"] = _perm_summary(
            res, in_region, st.alpha, fdr_bh, "positives vs semantic negatives, two-sample t, "
            "label permutations")

    # 8-9. coverage and verdict
    from braincause.evaluate.verdict import coverage_level, decide

    cov_eval = m_eval.coverage(desired_positives=cfg.stimuli.n_positive_eval,
                               desired_negatives=cfg.stimuli.n_negative_prompts)
    level, cov_reasons = coverage_level(cov_eval["positives"], cov_eval["negatives_per_counter"],
                                        cfg.verdict)
    verdict = decide(p_causal, level, cov_reasons, cfg.verdict, alpha=st.alpha,
                     train_causal=region_scores["train_generated"]["s_causal"])
    act_verdict = decide(p_act, level, cov_reasons, cfg.verdict, alpha=st.alpha,
                         train_causal=act_scores["train_generated"]["s_causal"])

    masks = {"causal": region.mask(n_vox), "activation": act_region.mask(n_vox)}
    item_resp = np.stack([Y[:, masks["causal"]].mean(axis=1),
                          Y[:, masks["activation"]].mean(axis=1)], axis=1).astype(np.float64)
    item_resp[~ds.ok] = np.nan
    noise = {"units": "region-mean single-trial response (per-voxel z-scores, NSD-style), "
                      "held-out measured images",
             **{f"{k}_region": _trial_noise(subj.trials, m, subj.test_indices)
                for k, m in masks.items()}}

    data: dict[str, Any] = {
        "braincause_version": __version__,
        "query": query,
        "concept": {"name": name, "label": concept.label, "kind": concept.kind,
                    "description": concept.description, "resolved_by": how,
                    "resolution_score": None if score is None else round(float(score), 4)},
        "subject": {"id": subject, "fingerprint": subj.fingerprint(), "n_voxels": n_vox,
                    "n_voxels_kept": int(keep.sum()),
                    "coordinates": "fsaverage5 vertices (close to MNI305)"
                    if subj.cortex is not None else "fsaverage vertices of the NSD betas"},
        "seed": seed,
        "config": cfg.to_dict(),
        "config_hash": cfg.hash(),
        "versions": _versions(),
        "backends": {"writer": roles["writer"].config, "generator": roles["generator"].config,
                     "editor": roles["editor"].config,
                     "verifier": {"name": cfg.verifier,
                                  "fingerprint": verifier.fingerprint(),
                                  "accuracy": _verifier_accuracy(verifier, name)},
                     "backbone": backbone.fingerprint(),
                     "backbone_name": getattr(backbone, "name", type(backbone).__name__),
                     "retriever": _retriever_record(cfg, index),
                     "roles": dict(built.kinds),
                     "encoder": {"path_key": fit.path.name if fit.path else None,
                                 "median_r": fit.summary.get("median_r"),
                                 "r_threshold": cfg.region.r_threshold}},
        "stimuli": {"dataset_key": ds.key, "retention": ds.retention(),
                    "counter_concepts": [c.to_dict() for c in counters],
                    "folder": "stimuli/" if out is not None else None},
        "signals": {"used_in_combination": used, "available": sorted(signals),
                    "combination": "mean of z-scored signals (z over voxels passing the "
                                   "encoder filter), equal weights"},
        "region": {**region.to_dict(), "scores": region_scores},
        "activation_region": {**act_region.to_dict(), "scores": act_scores},
        "p_values": {"definition": "p = (1 + #{baseline score ≥ target score}) / "
                                   "(1 + N_baselines), one-sided, EVAL split / held-out "
                                   "measured images, same region for every baseline",
                     "baseline_concepts": base_names, "baseline_seed": st.baseline_seed,
                     "causal": p_causal, "activation": p_act},
        "voxelwise": {"alpha": st.alpha, "n_permutations": st.n_permutations,
                      "units": "t statistics; p-values family-wise (max-T over the "
                               f"{int(keep.sum())} voxels passing the encoder filter) and "
                               "BH-FDR", **voxelwise},
        "coverage": {"level": level, "eval": cov_eval,
                     "train": m_train.coverage(desired_positives=cfg.stimuli.n_positive_train,
                                               desired_negatives=cfg.stimuli.n_negative_prompts),
                     "pool": m_pool.coverage(desired_positives=cfg.retrieval.max_positive,
                                             desired_negatives=cfg.retrieval.max_negative),
                     "missing_counter_concepts": sorted(
                         k for k, v in cov_eval["negatives_per_counter"].items()
                         if v < cfg.verdict.min_negatives_per_counter)},
        "verdict": {**verdict.to_dict(), "cutoffs": {"alpha": st.alpha,
                                                      **cfg.to_dict()["verdict"]}},
        "activation_verdict": act_verdict.verdict,
        "noise": noise,
    }
    if real:
        data["subject"]["dataset"] = {"name": "NSD", "subject": subj.subject,
                                      "sessions": list(subj.sessions),
                                      "vertex_mask": cfg.nsd.vertex_mask,
                                      "beta_version": cfg.nsd.beta_version}
    if hasattr(subj, "ground_truth"):
        data["ground_truth"] = _ground_truth(subj, name, region, act_region)
    data["run"] = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   "elapsed_s": round(time.time() - t0, 2)}
    maps = _maps(subj, keep, masks, train_vs, signals,
                 subj.ground_truth(name).voxels if hasattr(subj, "ground_truth") else None)
    from braincause.followup import calls_for_followup

    design = followup if followup is not None else calls_for_followup(verdict.verdict)
    data["outputs"] = {"result": "result.json", "maps": "maps.npz", "stimuli": "stimuli/",
                       "report": "report.html" if report else None,
                       "followup": "followup/" if design else None} if out is not None else None
    result = LocalizeResult(name, subject, verdict.verdict, region.voxels, act_region.voxels,
                            data, Path(out) if out is not None else None, maps, item_resp)
    if out is not None:
        out = Path(out)
        write_outputs(result, ds, out)
        if design:
            from braincause.followup import design_followup

            say("designing the follow-up experiment")
            design_followup(out, seed=seed, progress=say)
        elif (out / "followup").exists():
            import shutil

            shutil.rmtree(out / "followup")  # a stale design from an earlier run
        if report:
            from braincause.report import write_report

            say("writing the report")
            write_report(out)
    return result


def _trial_noise(trials: np.ndarray, mask: np.ndarray, images: np.ndarray) -> dict[str, Any]:
    """Trial-to-trial and image-to-image SD of the region-mean measured response."""
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


def _maps(subj, keep, masks, vs, signals, truth) -> dict[str, np.ndarray]:
    """Per-voxel arrays for figures and reports (``maps.npz``)."""
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


def _perm_summary(res, in_region: np.ndarray, alpha: float, fdr_bh, test: str) -> dict:
    sig = res.p_fwer <= alpha
    fdr_sig, _ = fdr_bh(res.p_uncorrected, alpha=alpha)
    n_reg = int(in_region.sum())
    return {"test": test, "exact": bool(res.exact),
            "n_significant_fwer": int(sig.sum()), "n_significant_fdr": int(fdr_sig.sum()),
            "region_significant_fwer": int((sig & in_region).sum()),
            "region_significant_fdr": int((fdr_sig & in_region).sum()),
            "region_fraction_fwer": round(float((sig & in_region).sum()) / max(1, n_reg), 4),
            "max_t": round(float(np.max(res.t_obs)), 4)}


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


def _ground_truth(subj, name: str, region, act_region) -> dict[str, Any]:
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
        tp = int((m & truth).sum())
        return {"precision": round(tp / n, 4),
                "recall": round(tp / int(truth.sum()), 4) if truth.any() else None,
                "dice": round(2 * tp / (int(m.sum()) + int(truth.sum())), 4),
                "inside": {a: round(float((m & mask).sum()) / n, 4) for a, mask in areas.items()},
                "inside_planted": round(float((m & planted).sum()) / n, 4),
                "inside_decoys": round(float((m & decoys).sum()) / n, 4)}

    return {"definition": DEFINITION, "thresholds": gt.thresholds,
            "inside_means": "fraction of the region's voxels within each area's extent "
                            f"(its blob ≥ {EXTENT:g} × its peak)",
            "n_true_voxels": int(truth.sum()), "causal": evaluate(region),
            "activation": evaluate(act_region)}


def write_outputs(result: LocalizeResult, ds, out: Path) -> None:
    """``out/result.json``, ``out/maps.npz`` and ``out/stimuli/`` (PNG files + manifest.json).

    Each manifest entry has ``response``: the encoder's predicted mean response over the
    causal and the activation-only region (z units), null for images that failed.
    """
    import io

    from PIL import Image

    from braincause.utils import atomic_write_bytes

    out.mkdir(parents=True, exist_ok=True)
    stim = out / "stimuli"
    stim.mkdir(exist_ok=True)
    manifest = []
    for i in range(ds.n_items):
        entry = {"id": i, "role": str(ds.role[i]), "split": str(ds.split[i]),
                 "text": ds.text[i], "counter_concept": str(ds.counter[i]) or None,
                 "parent": int(ds.parent[i]) if ds.parent[i] >= 0 else None,
                 "generated": bool(ds.ok[i]), "kept": bool(ds.kept[i]),
                 "p_present": None if not np.isfinite(ds.presence[i])
                 else round(float(ds.presence[i]), 4), "file": None,
                 "response": _item_response(result.item_responses, i)}
        if ds.ok[i] and ds.images is not None:
            fname = f"{ds.split[i]}-{ds.role[i]}-{i:05d}.png"
            buf = io.BytesIO()
            Image.fromarray(ds.images[i]).save(buf, format="PNG", optimize=False)
            atomic_write_bytes(stim / fname, buf.getvalue())
            entry["file"] = fname
        manifest.append(entry)
    atomic_write_bytes(stim / "manifest.json", json.dumps(manifest, indent=1).encode())
    if result.maps:
        buf = io.BytesIO()
        np.savez_compressed(buf, **result.maps)
        atomic_write_bytes(out / "maps.npz", buf.getvalue())
    atomic_write_bytes(out / "result.json",
                       json.dumps(result.data, indent=2, sort_keys=False).encode())


def _item_response(resp: np.ndarray | None, i: int) -> dict[str, float] | None:
    if resp is None or not np.isfinite(resp[i]).all():
        return None
    return {"causal": round(float(resp[i, 0]), 5), "activation": round(float(resp[i, 1]), 5)}


def _fmt_ci(block: dict | None, key: str) -> str:
    if not block or block.get(key, {}).get("value") is None:
        return "n/a"
    b = block[key]
    return f"{b['value']:+.3f} [{b['ci_low']:+.3f}, {b['ci_high']:+.3f}]"


def format_summary(d: dict[str, Any]) -> str:
    """A concise terminal summary of a result dict."""
    c, r, v = d["concept"], d["region"], d["verdict"]
    lines = [f"{d['query']!r} → {c['name']} ({c['kind']}) in {d['subject']['id']}",
             f"verdict: {v['verdict'].upper()}  (coverage {v['coverage']}, generated evidence "
             f"{'strong' if v['generated_evidence'] else 'weak'}, measured evidence "
             f"{'strong' if v['measured_evidence'] else 'weak'})",
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
