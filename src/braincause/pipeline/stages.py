"""The stages of ``localize`` after :func:`~braincause.pipeline.context.prepare_run`, each a
function over frozen artifacts: stimuli → predictions → measured sets → ranking signals →
regions (TRAIN split only) → region scores → baseline scores and p-values → voxelwise
tests → verdicts. The benchmark calls the same functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braincause.config import LocalizeConfig
from braincause.exceptions import BrainCauseError, UserInputError
from braincause.pipeline.context import Progress, ResolvedQuery, RunContext, _quiet


class EmptyStimuli(UserInputError):
    """No positive image survived verification."""


@dataclass(frozen=True)
class RunSeeds:
    """The bootstrap and permutation seeds of a run, all from the run's seed.

    ``boot[2 j]`` / ``boot[2 j + 1]`` seed region ``j``'s generated / measured
    bootstrap; ``perm`` the two voxelwise permutation tests.

    Attributes
    ----------
    boot : tuple of SeedSequence
    perm : tuple of SeedSequence
    gate : tuple of SeedSequence
        The causal region's and the activation region's gate tests.
    """

    boot: tuple[np.random.SeedSequence, ...]
    perm: tuple[np.random.SeedSequence, ...]
    gate: tuple[np.random.SeedSequence, ...] = ()

    @classmethod
    def from_seed(cls, seed: int) -> RunSeeds:
        """The seeds of a run with seed ``seed``.

        Parameters
        ----------
        seed : int

        Returns
        -------
        RunSeeds
        """
        root = np.random.SeedSequence([seed, 2605])
        boot = root.spawn(4)
        perm = root.spawn(6)[4:]  # children 8 and 9 (the second spawn continues the count)
        gate = root.spawn(2)      # children 10 and 11
        return cls(tuple(boot), tuple(perm), tuple(gate))


# ------------------------------------------------------------------ stimuli
def build_baseline_dataset(name: str, roles: dict[str, Any], cfg: LocalizeConfig, *,
                           use_cache: bool = True):
    """One baseline concept's EVAL-only stimuli, as every target's run shares them (seed
    ``stats.baseline_seed``; cached by content like every dataset).

    Parameters
    ----------
    name : str
    roles : dict
        :attr:`RunContext.role_kwargs`.
    cfg : LocalizeConfig
    use_cache : bool

    Returns
    -------
    CausalDataset
    """
    from braincause.stimuli.dataset import build_causal_dataset, sizes_from_config

    return build_causal_dataset(name, **roles, sizes=sizes_from_config(cfg, eval_only=True),
                                seed=cfg.stats.baseline_seed,
                                threshold=cfg.stimuli.verifier_threshold,
                                absent_threshold=cfg.stimuli.absent_threshold,
                                use_cache=use_cache, with_images=False, with_controls=False)


def build_stimuli(ctx: RunContext, concept: ResolvedQuery, seed: int, *,
                  with_images: bool, progress: Progress | None = None):
    """The concept's causal dataset (plan, positives, negatives, edits, verification).

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    seed : int
    with_images : bool
        Keep the images (to write them to ``stimuli/``).
    progress : callable, optional

    Returns
    -------
    CausalDataset

    Raises
    ------
    EmptyStimuli
        No TRAIN or no EVAL positive survived verification.
    """
    from braincause.stimuli.dataset import build_causal_dataset, sizes_from_config

    cfg = ctx.cfg
    ds = build_causal_dataset(concept.name, **ctx.role_kwargs, sizes=sizes_from_config(cfg),
                              seed=seed, threshold=cfg.stimuli.verifier_threshold,
                              absent_threshold=cfg.stimuli.absent_threshold,
                              use_cache=ctx.use_cache, with_images=with_images,
                              progress=progress)
    for split in ("train", "eval"):
        if len(ds.indices("positive", split)) == 0:
            raise EmptyStimuli(
                f"no {split} positive of {concept.name!r} survived verification "
                f"({len(ds.indices('positive', split, kept=False))} generated). Try "
                + ctx.source.empty_hint
                + "a lower stimuli.verifier_threshold, or more positives "
                "(stimuli.n_positive_*)")
    return ds


# ------------------------------------------------------------------ predictions
@dataclass(frozen=True)
class ScoringSet:
    """Responses to the images a score is built from; None where absent.

    Attributes
    ----------
    pos : ndarray of shape (n_positives, n_voxels)
    neg : ndarray of shape (n_negatives, n_voxels) or None
    edits : ndarray of shape (n_edits, n_voxels) or None
    edit_of : ndarray of shape (n_edits,) or None
        The positive each edit came from.
    edit_removal : ndarray of shape (n_edits,), bool, or None
        The edit removes the concept (rather than replacing it by another object).
    controls : ndarray of shape (n_controls, n_voxels) or None
        Cue controls (:mod:`braincause.stimuli.controls`).
    control_of : ndarray of shape (n_controls,) or None
    neg_label : ndarray of shape (n_negatives,), str, or None
        Each negative's counter-concept.
    control_kind : ndarray of shape (n_controls,), str, or None
        ``"scramble"``, ``"neutral"`` or ``"cue:<object>"``
        (:mod:`braincause.stimuli.controls`).
    """

    pos: np.ndarray
    neg: np.ndarray | None = None
    edits: np.ndarray | None = None
    edit_of: np.ndarray | None = None
    edit_removal: np.ndarray | None = None
    controls: np.ndarray | None = None
    control_of: np.ndarray | None = None
    neg_label: np.ndarray | None = None
    control_kind: np.ndarray | None = None

    def causal_arrays(self, mask: np.ndarray):
        """The region-averaged responses the causal gate reads
        (:class:`braincause.evaluate.causal.CausalArrays`).

        Parameters
        ----------
        mask : ndarray of shape (n_voxels,), bool

        Returns
        -------
        CausalArrays
        """
        from braincause.evaluate.causal import CausalArrays
        from braincause.scoring import region_average

        def avg(x):
            return np.zeros(0) if x is None or not len(x) else region_average(x, mask)

        def arr(x, dtype):
            return np.zeros(0, dtype) if x is None else np.asarray(x, dtype)

        return CausalArrays(region_average(self.pos, mask), avg(self.edits),
                            arr(self.edit_of, int), arr(self.edit_removal, bool),
                            avg(self.controls), arr(self.control_of, int), avg(self.neg),
                            arr(self.neg_label, str), arr(self.control_kind, str))

    def averages(self, mask: np.ndarray) -> tuple[Any, Any, Any, Any]:
        """Region-averaged responses.

        Parameters
        ----------
        mask : ndarray of shape (n_voxels,), bool

        Returns
        -------
        tuple
            ``(a_pos, a_neg, a_edit, edit_of)``, each of shape (n_images,) or None.
        """
        from braincause.scoring import region_average

        return (region_average(self.pos, mask), region_average(self.neg, mask),
                region_average(self.edits, mask), self.edit_of)


def generated_set(ds, Y: np.ndarray, split: str) -> ScoringSet:
    """The predicted responses ``Y`` of ``ds``'s ``split`` as a scoring set.

    Parameters
    ----------
    ds : CausalDataset
    Y : ndarray of shape (n_items, n_voxels)
    split : {"train", "eval"}

    Returns
    -------
    ScoringSet
    """
    s = ds.scoring_sets(split)
    return ScoringSet(Y[s["pos"]], Y[s["neg"]], Y[s["edit"]], s["edit_of"], s["edit_removal"],
                      Y[s["control"]], s["control_of"], ds.counter[s["neg"]],
                      ds.counter[s["control"]])


def measured_set(Y: np.ndarray, ms) -> ScoringSet:
    """Measured responses of a retrieval's positives and negatives.

    Parameters
    ----------
    Y : ndarray of shape (n_images, n_voxels)
    ms : MeasuredSets

    Returns
    -------
    ScoringSet
    """
    return ScoringSet(Y[ms.positives], Y[ms.all_negatives])


@dataclass(frozen=True)
class Evidence:
    """The data of one run.

    Attributes
    ----------
    Y : ndarray of shape (n_items, n_voxels)
        Predicted responses to every stimulus.
    m_train, m_eval, m_pool : MeasuredSets
        The measured retrievals of each split.
    gen_train, gen_eval, meas_train, meas_eval : ScoringSet
        The scoring sets built on them.
    meas_eval_rest : ndarray of shape (n_images, n_voxels) or None
        Measured responses to the held-out images that confidently do not show the
        concept (the causal gate's measured comparison).
    meas_eval_rest_idx : ndarray of shape (n_images,) or None
        Their indices in the subject's measured images.
    """

    Y: np.ndarray = field(repr=False)
    m_train: Any = field(repr=False)
    m_eval: Any = field(repr=False)
    m_pool: Any = field(repr=False)
    gen_train: ScoringSet = field(repr=False)
    gen_eval: ScoringSet = field(repr=False)
    meas_train: ScoringSet = field(repr=False)
    meas_eval: ScoringSet = field(repr=False)
    meas_eval_rest: np.ndarray | None = field(default=None, repr=False)
    meas_eval_rest_idx: np.ndarray | None = field(default=None, repr=False)


def retrieve(ctx: RunContext, name: str, label: str, counters: list[Any], split: str):
    """Measured images of ``split`` showing ``name`` and each counter-concept
    (:func:`braincause.evaluate.measured.retrieve_sets`).

    Parameters
    ----------
    ctx : RunContext
    name, label : str
    counters : list of CounterConcept
    split : {"train", "eval", "pool"}

    Returns
    -------
    MeasuredSets
    """
    from braincause.evaluate.measured import retrieve_sets

    subj, rc = ctx.subj, ctx.cfg.retrieval
    cand = {"train": subj.train_indices, "eval": subj.test_indices,
            "pool": np.arange(subj.n_images)}[split]
    return retrieve_sets(ctx.index, ctx.pool_verifier, name, label, counters,
                         candidates=cand, split=split, top_positive=rc.top_positive,
                         max_positive=rc.max_positive, top_negative=rc.top_negative,
                         max_negative=rc.max_negative)


def gather_evidence(ctx: RunContext, concept: ResolvedQuery, ds, *,
                    progress: Progress | None = None) -> Evidence:
    """Predict every stimulus and retrieve the concept's measured images.

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    ds : CausalDataset
    progress : callable, optional

    Returns
    -------
    Evidence
    """
    say = progress or _quiet
    say("predicting responses")
    Y = ctx.predict(ds.features)
    counters = ds.plan.counter_concepts if ds.plan else []
    m = {s: retrieve(ctx, concept.name, concept.label, counters, s)
         for s in ("train", "eval", "pool")}
    Y_meas = ctx.subj.responses
    rest = held_out_absent(ctx, concept.name, m["eval"])
    return Evidence(Y, m["train"], m["eval"], m["pool"], generated_set(ds, Y, "train"),
                    generated_set(ds, Y, "eval"), measured_set(Y_meas, m["train"]),
                    measured_set(Y_meas, m["eval"]), Y_meas[rest], rest)


def held_out_absent(ctx: RunContext, name: str, m_eval) -> np.ndarray:
    """Held-out measured images that confidently do not show ``name`` (the verifier's
    absent test) and were not retrieved as its positives.

    Parameters
    ----------
    ctx : RunContext
    name : str
    m_eval : MeasuredSets

    Returns
    -------
    ndarray of int
    """
    test = np.asarray(ctx.subj.test_indices, int)
    if getattr(ctx.pool_verifier, "lazy", False):
        # a verifier that reads pixels (CLIP, a VLM) is not asked about the whole split:
        # the images retrieval ranked as likeliest positives are left out instead
        return test[~np.isin(test, np.r_[m_eval.positives, m_eval.positives_unverified])]
    gone = np.asarray(ctx.pool_verifier.absent(name)[test], bool)
    out = test[gone]
    return out[~np.isin(out, m_eval.positives)]


# ------------------------------------------------------------------ signals and regions
@dataclass(frozen=True)
class Regions:
    """The TRAIN-split ranking signals and the two regions they give.

    Attributes
    ----------
    signals : dict of str to ndarray of shape (n_voxels,)
    used : list of str
        The signals in the combination.
    train_scores : VoxelScores
        TRAIN voxel scores.
    causal : Region
        The configured ranking and rule.
    activation : Region
        Top-K of MAG.
    """

    signals: dict[str, np.ndarray] = field(repr=False)
    used: list[str]
    train_scores: Any = field(repr=False)
    causal: Any = None
    activation: Any = None

    def masks(self, n_voxels: int) -> dict[str, np.ndarray]:
        """Both regions as masks.

        Parameters
        ----------
        n_voxels : int

        Returns
        -------
        dict of str to ndarray of shape (n_voxels,), bool
        """
        return {"causal": self.causal.mask(n_voxels),
                "activation": self.activation.mask(n_voxels)}


def propose_regions(ctx: RunContext, concept: ResolvedQuery, ev: Evidence, *,
                    progress: Progress | None = None) -> Regions:
    """Ranking signals on TRAIN data (PAPER.md §3) and the two regions they give.

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    ev : Evidence
    progress : callable, optional

    Returns
    -------
    Regions
    """
    from braincause.regions import propose_region
    from braincause.scoring import voxel_scores
    from braincause.scoring.signals import COMBINED, combine_signals, ranking_signals

    say = progress or _quiet
    say("scoring voxels")
    cfg, k_hard = ctx.cfg, ctx.cfg.region.k_hard
    g = ev.gen_train
    gen = {"pos": g.pos, "neg": g.neg, "edits": g.edits, "edit_of": g.edit_of,
           "edit_removal": g.edit_removal, "controls": g.controls, "control_of": g.control_of}
    meas = {"pos": ev.meas_train.pos, "neg": ev.meas_train.neg}
    Yp = ctx.Y_pool
    pool = {"pos_unverified": Yp[ev.m_pool.positives_unverified],
            "pos": Yp[ev.m_pool.positives], "neg": Yp[ev.m_pool.all_negatives]}
    signals = ranking_signals(gen=gen, measured=meas, pool=pool, k_hard=k_hard)
    combined, used = combine_signals(signals, COMBINED, keep=ctx.keep)
    signals["braincause"] = combined
    ranking = cfg.region.ranking
    if ranking not in signals:
        raise UserInputError(f"the ranking signal {ranking} has no data for "
                             f"{concept.name!r} (no measured or pool images were retrieved); "
                             "choose another region.ranking")
    train_vs = voxel_scores(g.pos, g.neg, g.edits, g.edit_of, k_hard=k_hard)
    causal = propose_region(signals[ranking], keep=ctx.keep, k=cfg.region.k,
                            rule=cfg.region.rule, s_causal=train_vs.s_causal, ranking=ranking)
    activation = propose_region(signals["MAG"], keep=ctx.keep, k=cfg.region.k, rule="top_k",
                                ranking="MAG")
    return Regions(signals, used, train_vs, causal, activation)


# ------------------------------------------------------------------ region scores
def score_region(ctx: RunContext, ev: Evidence, mask: np.ndarray, *,
                 random_states: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Scores of one region: TRAIN generated (points), EVAL generated and held-out
    measured (bootstrap CIs drawn from ``random_states``; point scores when it is None).

    Parameters
    ----------
    ctx : RunContext
    ev : Evidence
    mask : ndarray of shape (n_voxels,), bool
    random_states : tuple of two SeedSequence, or None
        The generated and the measured bootstrap's source.

    Returns
    -------
    dict
        ``{"train_generated", "eval_generated", "eval_measured"}``; the measured block has
        S_pos and S_neg only, None (with CIs) or ``{}`` (points) without measured data.
    """
    from braincause.evaluate.regionstats import region_scores_ci
    from braincause.scoring import region_point_scores

    k_hard, st = ctx.cfg.region.k_hard, ctx.cfg.stats
    if not mask.any():  # a signal without data (e.g. no pool positive): no region
        return {}
    out: dict[str, Any] = {}
    t = ev.gen_train.averages(mask)
    out["train_generated"] = region_point_scores(*t, k_hard=k_hard)
    g = ev.gen_eval.averages(mask)
    m = ev.meas_eval.averages(mask)
    if random_states is None:
        out["eval_generated"] = region_point_scores(*g, k_hard=k_hard)
        out["eval_measured"] = {k: v for k, v in region_point_scores(
            m[0], m[1], k_hard=k_hard).items() if k in ("s_pos", "s_neg")} \
            if m[0] is not None else {}
        return out

    def ci(a, seed):
        return region_scores_ci(*a, k_hard=k_hard, n_boot=st.n_bootstrap, level=st.ci_level,
                                alpha=st.alpha, random_state=np.random.default_rng(seed))

    out["eval_generated"] = ci(g, random_states[0])
    out["eval_measured"] = None
    if m[0] is not None:
        meas = ci((m[0], m[1], None, None), random_states[1])
        out["eval_measured"] = {k: v for k, v in meas.items() if k in ("s_pos", "s_neg")}
    return out


def baseline_scores(ctx: RunContext, concept: ResolvedQuery, counters: list[Any],
                    regions: dict[str, np.ndarray], *, progress: Progress | None = None
                    ) -> tuple[list[str], dict[str, dict[str, dict[str, float | None]]]]:
    """The baseline concepts and, for each region, each baseline's EVAL point scores
    (``{"gen:s_pos": …, "meas:s_neg": …}``) on its own stimuli and measured images.

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    counters : list of CounterConcept
    regions : dict of str to ndarray of shape (n_voxels,), bool
    progress : callable, optional

    Returns
    -------
    names : list of str
    scores : dict
        ``{region: {baseline: point scores}}``.
    """
    from braincause.scoring import region_point_scores

    say = progress or _quiet
    cfg, k_hard = ctx.cfg, ctx.cfg.region.k_hard
    names = ctx.source.baselines(concept, cfg.stats.n_baselines, counters)
    say(f"baseline concepts: {len(names)}")
    out: dict[str, dict[str, dict[str, float | None]]] = {k: {} for k in regions}
    for i, b in enumerate(names):
        say(f"baseline {i + 1}/{len(names)}: {b}")
        bds = build_baseline_dataset(b, ctx.role_kwargs, cfg, use_cache=ctx.use_cache)
        gen = generated_set(bds, ctx.predict(bds.features), "eval")
        bm = retrieve(ctx, b, ctx.source.baseline_label(b),
                      bds.plan.counter_concepts if bds.plan else [], "eval")
        meas = measured_set(ctx.subj.responses, bm)
        for key, mask in regions.items():
            entry: dict[str, float | None] = {}
            g = gen.averages(mask)
            if g[0] is not None:
                entry.update({f"gen:{k}": v for k, v in
                              region_point_scores(*g, k_hard=k_hard).items()})
            m = meas.averages(mask)
            if m[0] is not None:
                entry.update({f"meas:{k}": v for k, v in
                              region_point_scores(m[0], m[1], k_hard=k_hard).items()})
            out[key][b] = entry
    return names, out


# ------------------------------------------------------------------ voxelwise tests
def voxelwise_tests(ctx: RunContext, ev: Evidence, region, run_seeds: RunSeeds, *,
                    progress: Progress | None = None) -> dict[str, Any]:
    """Voxelwise permutation tests on the EVAL split over the kept voxels: positive minus
    its hardest edit (sign flips) and positives vs semantic negatives (label
    permutations), each with max-T family-wise and BH-FDR counts.

    Parameters
    ----------
    ctx : RunContext
    ev : Evidence
    region : Region
    run_seeds : RunSeeds
    progress : callable, optional

    Returns
    -------
    dict
    """
    from braincause.scoring import hardest_edit
    from braincause.stats import label_permutation_max_t, sign_flip_max_t

    say = progress or _quiet
    say("voxelwise permutation tests")
    st, g = ctx.cfg.stats, ev.gen_eval
    kv = np.flatnonzero(ctx.keep)
    in_region = np.isin(kv, region.voxels)
    out: dict[str, Any] = {}
    if len(g.edits):
        pe = g.pos[:, kv].astype(np.float64)
        hard, has = hardest_edit(g.edits[:, kv], g.edit_of, len(pe))
        diff = pe[has] - hard[has]
        if diff.shape[0] >= 2:
            res = sign_flip_max_t(diff, n_permutations=st.n_permutations, tail=1,
                                  random_state=np.random.default_rng(run_seeds.perm[0]))
            out["edits_sign_flip"] = permutation_summary(
                res, in_region, st.alpha, "positive minus its hardest edit, one-sample t, "
                "sign flips")
    if len(g.neg) >= 2:
        res = label_permutation_max_t(g.pos[:, kv], g.neg[:, kv],
                                      n_permutations=st.n_permutations, tail=1,
                                      random_state=np.random.default_rng(run_seeds.perm[1]))
        out["positives_vs_negatives"] = permutation_summary(
            res, in_region, st.alpha, "positives vs semantic negatives, two-sample t, "
            "label permutations")
    return out


def permutation_summary(res, in_region: np.ndarray, alpha: float, test: str) -> dict:
    """Counts of voxels significant family-wise (max-T) and by BH-FDR, overall and in
    the region.

    Parameters
    ----------
    res : PermutationResult
    in_region : ndarray of shape (n_kept,), bool
    alpha : float
    test : str

    Returns
    -------
    dict
    """
    from braincause.stats import fdr_bh

    sig = res.p_fwer <= alpha
    fdr_sig, _ = fdr_bh(res.p_uncorrected, alpha=alpha)
    n_reg = int(in_region.sum())
    return {"test": test, "exact": bool(res.exact),
            "n_significant_fwer": int(sig.sum()), "n_significant_fdr": int(fdr_sig.sum()),
            "region_significant_fwer": int((sig & in_region).sum()),
            "region_significant_fdr": int((fdr_sig & in_region).sum()),
            "region_fraction_fwer": round(float((sig & in_region).sum()) / max(1, n_reg), 4),
            "max_t": round(float(np.max(res.t_obs)), 4)}


# ------------------------------------------------------------------ verdicts
@dataclass(frozen=True)
class Decision:
    """The measured coverage and the verdicts of the causal and the activation region.

    Attributes
    ----------
    level : str
    coverage_eval : dict
    verdict, activation_verdict : Verdict
        braincause's causal gate (:mod:`braincause.evaluate.causal`), with the paper's
        rule beside it (``Verdict.paper``).
    """

    level: str
    coverage_eval: dict[str, Any]
    verdict: Any
    activation_verdict: Any


def decide_verdicts(ctx: RunContext, ev: Evidence, p_causal: dict[str, Any],
                    p_act: dict[str, Any], scores: dict[str, dict[str, Any]],
                    masks: dict[str, np.ndarray] | None = None,
                    run_seeds: RunSeeds | None = None,
                    concept: ResolvedQuery | None = None) -> Decision:
    """Coverage of the held-out measured images and the verdict of each region: the
    causal gate decides (:func:`braincause.evaluate.causal.causal_gate`), the
    selectivity test labels (:func:`braincause.evaluate.causal.selectivity`), and the
    paper's baseline-concept rule (:func:`braincause.evaluate.verdict.decide`) is kept
    beside them.

    Parameters
    ----------
    ctx : RunContext
    ev : Evidence
    p_causal, p_act : dict
        Each region's criteria (:func:`braincause.evaluate.criteria.baseline_p_values`).
    scores : dict
        Each region's scores (:func:`score_region`).
    masks : dict of str to ndarray of shape (n_voxels,), bool, optional
        The two regions (without them only the paper's rule is applied).
    run_seeds : RunSeeds, optional
        Seeds of the gate's permutation tests (default: seed 0's).
    concept : ResolvedQuery, optional
        Needed with ``masks`` (stand-in objects are checked against its images).

    Returns
    -------
    Decision
    """
    from braincause.evaluate.verdict import coverage_level, decide

    cfg = ctx.cfg
    cov = ev.m_eval.coverage(desired_positives=cfg.stimuli.n_positive_eval,
                             desired_negatives=cfg.stimuli.n_negative_prompts)
    level, reasons = coverage_level(cov["positives"], cov["negatives_per_counter"],
                                    cfg.verdict)
    paper = {key: decide(p, level, reasons, cfg.verdict, alpha=cfg.stats.alpha,
                         train_causal=scores[key]["train_generated"]["s_causal"]
                         if scores[key] else None)
             for key, p in (("causal", p_causal), ("activation", p_act))}
    if masks is None or concept is None:
        return Decision(level, cov, paper["causal"], paper["activation"])
    seeds = (run_seeds or RunSeeds.from_seed(0)).gate
    v = {key: gated_verdict(ctx, concept, ev, masks[key], level, reasons, paper[key],
                            seeds[j])
         for j, key in enumerate(("causal", "activation"))}
    return Decision(level, cov, v["causal"], v["activation"])


def gated_verdict(ctx: RunContext, concept: ResolvedQuery, ev: Evidence, mask: np.ndarray,
                  level: str, reasons: list[str], paper, random_state: Any):
    """One region's causal gate and selectivity label, as a
    :class:`~braincause.evaluate.verdict.Verdict` carrying the paper's rule.

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    ev : Evidence
    mask : ndarray of shape (n_voxels,), bool
    level : {"high", "low"}
    reasons : list of str
        The coverage reasons.
    paper : Verdict
        The paper's rule on the same region.
    random_state : SeedSequence

    Returns
    -------
    Verdict
    """
    import dataclasses

    from braincause.evaluate.causal import causal_gate, selectivity
    from braincause.scoring import region_average

    st = ctx.cfg.stats
    s_gate, s_sel = np.random.SeedSequence(random_state.generate_state(4)).spawn(2)
    if not mask.any():
        return dataclasses.replace(paper, verdict="inconclusive" if level == "low"
                                   else "rejected", paper_verdict=paper.verdict,
                                   reasons=[*reasons, "the region is empty"])
    train, held = ev.gen_train.causal_arrays(mask), ev.gen_eval.causal_arrays(mask)
    mp = region_average(ev.meas_eval.pos, mask) if len(ev.meas_eval.pos) else None
    mr = (region_average(ev.meas_eval_rest, mask)
          if ev.meas_eval_rest is not None and len(ev.meas_eval_rest) else None)
    gate = causal_gate(train, held, mp, mr, coverage=level, alpha=st.alpha,
                       n_permutations=st.n_gate_permutations, random_state=s_gate,
                       coverage_reasons=reasons,
                       set_aside=standins_set_aside(ctx, concept, ev, mask,
                                                    train.control_kind),
                       matched=_low_level(ctx, ev), min_effect_meas=st.min_effect_meas)
    sel = selectivity(train, held, alpha=st.alpha, n_permutations=st.n_gate_permutations,
                      random_state=s_sel)
    reasons = list(gate.reasons)
    if sel.label == "shared":
        reasons.append("shared with " + ", ".join(
            f"{e['name']} (mean {e['mean']:.3g} vs {e['positives_mean']:.3g})"
            for e in sel.shared_with))
    elif sel.label == "selective":
        reasons.append(f"selective: beats the hardest counter-concept ({sel.hardest}, "
                       f"p {sel.test.p:.3g})")
    return dataclasses.replace(
        paper, verdict=gate.verdict,
        generated_evidence=bool(gate.candidate and gate.tests["controls_gen"].passes),
        measured_evidence=bool(gate.tests[_measured_test(gate)].passes), reasons=reasons,
        gate=gate.to_dict(), selectivity=sel.to_dict(), paper_verdict=paper.verdict,
        paper_reasons=list(paper.reasons))


def _measured_test(gate) -> str:
    return next(k for k in gate.tests if k.endswith("_meas"))


def _low_level(ctx: RunContext, ev: Evidence) -> tuple[np.ndarray, np.ndarray] | None:
    """Low-level descriptors (:mod:`braincause.evaluate.lowlevel`) of the held-out
    measured positives and of the held-out images without the concept, or None when
    those images are unknown."""
    from braincause.evaluate.lowlevel import descriptors

    if ev.meas_eval_rest_idx is None or not len(ev.m_eval.positives):
        return None
    return (descriptors(ctx.subj, ev.m_eval.positives, use_cache=ctx.use_cache),
            descriptors(ctx.subj, ev.meas_eval_rest_idx, use_cache=ctx.use_cache))


def standins_set_aside(ctx: RunContext, concept: ResolvedQuery, ev: Evidence,
                       mask: np.ndarray, kinds: np.ndarray | None) -> dict[str, str]:
    """The stand-in objects that measured TRAIN images do not confirm as competitors of
    the concept (:func:`braincause.evaluate.causal.standin_is_competitor`), each with
    its reason. Measured images of a stand-in are retrieved like a counter-concept's
    (verified to show it and not the concept).

    Parameters
    ----------
    ctx : RunContext
    concept : ResolvedQuery
    ev : Evidence
    mask : ndarray of shape (n_voxels,), bool
    kinds : ndarray of str or None
        The controls' kinds.

    Returns
    -------
    dict of str to str
    """
    from braincause.evaluate.causal import standin_is_competitor
    from braincause.plan.base import CounterConcept
    from braincause.scoring import region_average

    names = sorted(k.split(":", 1)[1] for k in
                   set(np.asarray(kinds if kinds is not None else [], str).tolist())
                   if k.startswith("cue:") and k != "cue:stand-in")
    if not names or not len(ev.meas_train.pos):
        return {}
    Ym = ctx.subj.responses
    counters = []
    for n in names:  # the instruction's noun ("blank sign") as the vocabulary names it
        try:
            r = ctx.source.resolve(n)
        except BrainCauseError:  # not a concept the verifier knows: the stand-in stays
            continue
        counters.append(CounterConcept(r.name, n, "stand-in", "a control's stand-in object"))
    if not counters:
        return {}
    got = retrieve(ctx, concept.name, concept.label, counters, "train").negatives
    pos = region_average(ev.meas_train.pos, mask)
    every = region_average(Ym[np.asarray(ctx.subj.train_indices, int)], mask)
    out = {}
    for n in names:
        idx = got.get(n)
        x = region_average(Ym[idx], mask) if idx is not None and len(idx) else None
        if not standin_is_competitor(pos, every, x):
            out[f"cue:{n}"] = (f"its {len(x)} measured TRAIN images drive the region by "
                      f"{float(np.mean(x) - np.mean(every)):.3g}, under half the concept's "
                      f"{float(np.mean(pos) - np.mean(every)):.3g}")
    return out
