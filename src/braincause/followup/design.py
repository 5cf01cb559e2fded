""":func:`design_followup`: a localize run folder in, a follow-up fMRI experiment out.

select stimuli (low-level balanced) → predicted effect of each contrast and the trials
it needs → trials dealt into runs → a constrained random order per run, the most
efficient of ``n_order_candidates`` valid draws, compared with unconstrained random
orders → ``RUN_DIR/followup/`` written atomically (a temporary folder renamed into
place, so an interrupted run leaves no half-written folder).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from braincause.exceptions import UserInputError
from braincause.followup.config import FollowupConfig
from braincause.followup.contrasts import (
    ContrastPower,
    contrast_effects,
    detectable_effects,
    noise_sensitivity,
    plan_trials,
)
from braincause.followup.efficiency import contrast_efficiency, design_matrix, run_events
from braincause.followup.result import FollowupDesign, Run
from braincause.followup.rundir import RunDir, read_run
from braincause.followup.schedule import NULL, deal_runs, order_run
from braincause.followup.selection import Selection, select_stimuli

Progress = Callable[[str], None]

#: Verdicts after which ``localize`` writes a follow-up design: a discovery deserves a
#: confirmatory scan (all evidence so far is predicted or retrieved), and "needs
#: follow-up" is the verdict that asks for one. "rejected" and "inconclusive" do not
#: (the generated evidence is weak: no predicted effect to power a design on).
FOLLOWUP_VERDICTS = ("discovery", "needs follow-up")


def calls_for_followup(verdict: str) -> bool:
    """Whether a localize verdict calls for a follow-up design (:data:`FOLLOWUP_VERDICTS`).

    Parameters
    ----------
    verdict : str
        A localize verdict (``"discovery"``, ``"needs follow-up"``, ``"rejected"``,
        ``"inconclusive"``).

    Returns
    -------
    bool
    """
    return verdict in FOLLOWUP_VERDICTS


def _check_seed(seed: object, run: RunDir) -> int:
    if seed is None:
        return run.seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise UserInputError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def design_followup(run_dir: str | Path, *, config: FollowupConfig | None = None,
                    seed: int | None = None, progress: Progress | None = None,
                    write: bool = True) -> FollowupDesign:
    """Design the follow-up fMRI experiment of a localize run and write it.

    Parameters
    ----------
    run_dir : path or RunFolder
        A ``braincause localize --out`` folder (``result.json``, ``stimuli/``).
    config : FollowupConfig, optional
        Sizes, power, timing (defaults: NSD-like 3 s on / 1 s off, TR 1.6 s, ≤ 5 min runs).
    seed : int, optional
        Seeds the trial orders; ``None`` uses the run's seed. Same run + seed ⇒ identical
        files.
    progress : callable, optional
        Called with short stage messages.
    write : bool
        Write ``run_dir/followup/`` (default); ``False`` only returns the design.

    Returns
    -------
    FollowupDesign

    Raises
    ------
    DataError
        ``run_dir`` is not a complete, readable localize run folder.
    UserInputError
        A bad config field, seed, or a run without verified positive images.
    """
    cfg = (config or FollowupConfig()).validate()
    say = progress or (lambda _m: None)
    run = read_run(run_dir)
    seed = _check_seed(seed, run)
    alpha = float(cfg.alpha if cfg.alpha is not None else run.alpha)
    if not 0 < alpha < 0.5:
        raise UserInputError(f"alpha must be in (0, 0.5), got {alpha!r} (from the run's "
                             "config.stats.alpha; set FollowupConfig.alpha)")

    say("selecting stimuli and balancing low-level statistics")
    sel = select_stimuli(run, cfg)
    say("power analysis")
    effects = contrast_effects(sel, run.trial_sd, cfg, alpha)
    trials, n_target, contrasts = plan_trials(sel, effects, cfg, alpha)

    say("scheduling runs")
    runs = _schedule(sel, contrasts, trials, cfg, seed)
    from braincause.followup.export import design_dict, write_followup

    data = design_dict(run, sel, contrasts, trials, n_target, runs, cfg, seed, alpha,
                       detectable_effects(n_target, cfg, alpha),
                       noise_sensitivity(sel, run.trial_sd, cfg, alpha))
    design = FollowupDesign(run.path / "followup" if write else None, cfg, seed, alpha, sel,
                            tuple(contrasts), trials, tuple(runs), data)
    if write:
        say(f"writing {run.path / 'followup'}")
        write_followup(design, run)
    return design


def _schedule(sel: Selection, contrasts: list[ContrastPower], trials: dict[str, int],
              cfg: FollowupConfig, seed: int) -> list[Run]:
    names = [s.name for s in sel.stimuli]
    index = {n: i for i, n in enumerate(names)}
    parent = np.array([index.get(s.parent, -1) if s.parent else -1 for s in sel.stimuli])
    conds = [s.condition for s in sel.stimuli]
    by_cond = {c.name: np.array([index[n] for n in c.stimuli]) for c in sel.conditions}
    n_trials = sum(trials.values())
    f = cfg.null_fraction
    n_null = math.ceil(f * n_trials / (1 - f) - 1e-9) if f > 0 else 0
    deal_ss, order_ss = np.random.SeedSequence([seed, 0xF011]).spawn(2)
    tokens = deal_runs(by_cond, trials, n_null, cfg.slots_per_run, np.random.default_rng(deal_ss))
    pairs = [(c.plus, c.minus) for c in contrasts]
    kw = {"on_s": cfg.on_s, "trial_s": cfg.trial_s, "lead_in_s": cfg.lead_in_s}
    seen = np.zeros(len(names), dtype=np.int64)
    runs = []
    for r, (toks, ss) in enumerate(zip(tokens, order_ss.spawn(len(tokens)), strict=True)):
        rng_order, rng_base = (np.random.default_rng(s) for s in ss.spawn(2))
        duration = cfg.lead_in_s + len(toks) * cfg.trial_s + cfg.lead_out_s

        def eff(order: np.ndarray, duration: float = duration) -> np.ndarray:
            X = design_matrix(run_events(order, conds, **kw), duration, cfg.tr)
            return contrast_efficiency(X, pairs)

        best, best_e = None, None
        for _ in range(cfg.n_order_candidates):
            o = order_run(toks, parent, rng_order)
            e = eff(o)
            if best_e is None or _score(e) > _score(best_e):
                best, best_e = o, e
        base = np.mean([eff(rng_base.permutation(toks)) for _ in range(cfg.n_baseline_orders)],
                       axis=0)
        rep = np.zeros(len(best), dtype=np.int64)
        for i, t in enumerate(best):
            if t != NULL:
                seen[t] += 1
                rep[i] = seen[t]
        runs.append(Run(r + 1, best, rep, duration, math.ceil(duration / cfg.tr - 1e-9),
                        best_e, base))
    return runs


def _score(e: np.ndarray) -> tuple[float, float]:
    """Worst contrast first (the conclusion needs all of them), then the mean."""
    return (float(e.min()), float(e.mean())) if len(e) else (0.0, 0.0)
