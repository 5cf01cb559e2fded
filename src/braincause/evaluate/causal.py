"""braincause's verdict: a causal gate with a shown level, and a selectivity label.

The gate asks one question in two kinds of data, each by a within-concept test on
data the region was not chosen on:

``controls_gen`` (generated, EVAL split)
    Each edited positive against the hardest of its **removal edits and its cue
    controls** (:mod:`braincause.stimuli.controls`: the concept scrambled in place, a
    neutral and cue-carrying stand-ins in its box and colour):
    ``d_i = a_R(x_i) − max_{x ∈ removals_i ∪ controls_i} a_R(x)``. One-sided
    sign-flip test of ``mean d > 0`` (every sign pattern enumerated when they number at
    most ``n_permutations``, else sampled flips). Replacement edits ("replace the X
    with a Y") are left out of the hardest: Y's own response says nothing about X.
    The maximum is taken per positive, inside the statistic and identically under
    every sign pattern of the null, which only makes the test conservative; nothing is
    chosen across positives.
``lowlevel_meas`` (measured, held-out images)
    The held-out measured positives against the held-out measured images that
    confidently do not show the concept, both after removing what low-level image
    statistics predict (:func:`low_level_residuals`, a ridge model fitted on the latter
    over :mod:`braincause.evaluate.lowlevel`'s luminance, contrast, saturation, warmth
    and fine detail on a 4 × 4 grid): one-sided Welch t with label permutations. No
    hardest negatives are selected, so noise is not selected either. Without the
    images' pixels it falls back to ``activation_meas``: the raw responses. Either
    tests ``mean difference > δ``, a smallest effect of interest (``min_effect_meas``;
    ``stats.min_effect_meas`` in ``localize``): low-level statistics the descriptors
    miss leave small effects of their own.

The region must also be a candidate: the same ``d`` on the TRAIN split has a positive
mean (the region was chosen there). The verdict is an **intersection–union test**:
"discovery" only when both tests reject at ``alpha``, which has level ``alpha`` for
the union of the two nulls without any correction (Berger 1982).

=========  ===================================  ==========================
coverage   tests                                 verdict
=========  ===================================  ==========================
high       candidate, controls_gen, activation   ``discovery``
high       otherwise                             ``rejected``
low        candidate and controls_gen            ``needs follow-up``
low        otherwise                             ``inconclusive``
=========  ===================================  ==========================

Low measured coverage never gives "rejected": too few held-out measured images cannot
show that the concept is absent.

**Selectivity** labels a result and never gates it. On TRAIN, the counter-concept
whose generated negatives drive the region most is chosen; on EVAL the positives are
tested against it (one-sided Welch t, label permutations). Below it: ``selective``.
Otherwise ``shared``, naming every counter-concept the held-out positives cannot be
shown to beat (each tested the same way), with its mean response: an area that
answers to animal faces and more to human faces is "shared with human face", not
rejected.

References
----------
Berger, R. L. (1982). Multiparameter hypothesis testing and acceptance sampling.
Technometrics 24, 295-300.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from braincause.utils import RandomState, check_random_state

RULE = ("causal gate: controls_gen ∩ lowlevel_meas (or activation_meas) (intersection-union), "
        "candidate on TRAIN")

__all__ = ["LOW_LEVEL_ALPHA", "MIN_STANDIN_IMAGES", "RULE", "STANDIN_FRACTION", "CausalArrays",
           "GateResult", "Selectivity", "TestResult", "causal_gate", "hardest_counterfactual",
           "low_level_residuals", "one_sided_sign_flip", "one_sided_welch", "selectivity",
           "standin_is_competitor"]


@dataclass(frozen=True)
class CausalArrays:
    """Region-averaged responses of one split's generated stimuli.

    Attributes
    ----------
    pos : ndarray of shape (n_positives,)
    edits : ndarray of shape (n_edits,)
    edit_of : ndarray of shape (n_edits,), int
        The positive each edit came from.
    edit_removal : ndarray of shape (n_edits,), bool
        The edit removes the concept (not "replace the X with a Y").
    controls : ndarray of shape (n_controls,)
    control_of : ndarray of shape (n_controls,), int
    neg : ndarray of shape (n_negatives,)
    neg_label : ndarray of shape (n_negatives,), str
        Each negative's counter-concept.
    control_kind : ndarray of shape (n_controls,), str, or None
        ``"scramble"``, ``"neutral"`` or ``"cue:<object>"``.
    """

    pos: np.ndarray
    edits: np.ndarray = field(default_factory=lambda: np.zeros(0))
    edit_of: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    edit_removal: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    controls: np.ndarray = field(default_factory=lambda: np.zeros(0))
    control_of: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    neg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    neg_label: np.ndarray = field(default_factory=lambda: np.zeros(0, str))
    control_kind: np.ndarray | None = None

    def without_controls(self, kinds: set[str]) -> CausalArrays:
        """The same arrays without the controls of ``kinds``
        (:func:`braincause.stimuli.controls.control_kind`).

        Parameters
        ----------
        kinds : set of str

        Returns
        -------
        CausalArrays
        """
        if not kinds or self.control_kind is None or not len(self.controls):
            return self
        keep = ~np.isin(np.asarray(self.control_kind, str), sorted(kinds))
        return dataclasses.replace(self, controls=np.asarray(self.controls)[keep],
                                   control_of=np.asarray(self.control_of)[keep],
                                   control_kind=np.asarray(self.control_kind)[keep])


@dataclass(frozen=True)
class TestResult:
    """One test of the gate.

    Attributes
    ----------
    name : str
    statistic : float or None
        The mean difference (z units).
    n : int
        Paired differences, or positives of a two-sample test.
    p : float or None
        One-sided p-value (None without data).
    passes : bool
    test : str
        What was tested, in words.
    exact : bool
        The permutation distribution was enumerated.
    """

    name: str
    statistic: float | None
    n: int
    p: float | None
    passes: bool
    test: str
    exact: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict.

        Returns
        -------
        dict
        """
        return {"statistic": _r(self.statistic), "n": int(self.n), "p": _r(self.p),
                "passes": bool(self.passes), "test": self.test, "exact": bool(self.exact)}


@dataclass(frozen=True)
class Selectivity:
    """The selectivity label of a region.

    Attributes
    ----------
    label : str or None
        ``"selective"``, ``"shared"``, or None without negatives.
    hardest : str or None
        The counter-concept chosen on TRAIN.
    test : TestResult or None
        Held-out positives vs the hardest counter-concept.
    shared_with : list of dict
        ``{"name", "mean", "positives_mean", "p"}`` for each counter-concept the
        positives cannot be shown to beat, strongest first.
    """

    label: str | None
    hardest: str | None
    test: TestResult | None
    shared_with: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict.

        Returns
        -------
        dict
        """
        return {"label": self.label, "hardest_counter_concept": self.hardest,
                "test": None if self.test is None else self.test.to_dict(),
                "shared_with": self.shared_with}


@dataclass(frozen=True)
class GateResult:
    """The causal gate's verdict.

    Attributes
    ----------
    verdict : str
    candidate : bool
        TRAIN mean of ``d`` > 0.
    train_statistic : float or None
    tests : dict of str to TestResult
    reasons : list of str
    """

    verdict: str
    candidate: bool
    train_statistic: float | None
    tests: dict[str, TestResult]
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict.

        Returns
        -------
        dict
        """
        return {"rule": RULE, "verdict": self.verdict, "candidate": bool(self.candidate),
                "train_statistic": _r(self.train_statistic),
                "tests": {k: t.to_dict() for k, t in self.tests.items()},
                "reasons": list(self.reasons)}


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def hardest_counterfactual(a: CausalArrays) -> np.ndarray:
    """``d_i = pos_i − max(removal edits_i ∪ controls_i)`` for every positive that has at
    least one removal edit or control (in positive order).

    Parameters
    ----------
    a : CausalArrays

    Returns
    -------
    ndarray of shape (n_compared,)
    """
    from braincause.scoring import control_differences

    return control_differences(a.pos, a.edits, a.edit_of, a.edit_removal, a.controls,
                               a.control_of)


#: A stand-in object is a real competitor of the concept in measured data when its own
#: measured effect (its images minus all images) reaches this fraction of the
#: concept's.
STANDIN_FRACTION = 0.5
#: Fewer measured images of a stand-in than this: no evidence, the stand-in stays.
MIN_STANDIN_IMAGES = 3


def standin_is_competitor(pos: np.ndarray, everything: np.ndarray,
                          standin: np.ndarray | None) -> bool:
    """Whether a stand-in object drives the region in measured (TRAIN) data enough to
    stay a control: ``mean(standin) − mean(everything) ≥ STANDIN_FRACTION ·
    (mean(pos) − mean(everything))``, or too few images to tell.

    A generated stand-in that the encoder predicts as strongly as the concept, while
    measured images of that object (without the concept) barely drive the region, tests
    the encoder's entanglement rather than the brain: it is set aside. One that real
    images confirm (a table for "plate" in a dishware-driven area) stays.

    Parameters
    ----------
    pos : ndarray of shape (n_pos,)
        Measured TRAIN positives (region averages).
    everything : ndarray of shape (n_images,)
        Every measured TRAIN image.
    standin : ndarray of shape (n_standin,) or None
        Measured TRAIN images of the stand-in object that do not show the concept.

    Returns
    -------
    bool
    """
    if standin is None or len(standin) < MIN_STANDIN_IMAGES or not len(pos):
        return True
    base = float(np.mean(everything))
    effect = float(np.mean(pos)) - base
    if effect <= 0:
        return True
    return float(np.mean(standin)) - base >= STANDIN_FRACTION * effect


def one_sided_sign_flip(d: np.ndarray, *, n_permutations: int,
                        random_state: RandomState = None) -> tuple[float | None, bool]:
    """p-value of ``mean d > 0`` by sign flips of the one-sample t
    (:func:`braincause.stats.sign_flip_max_t` on one column), and whether it was exact.

    Parameters
    ----------
    d : ndarray of shape (n,)
    n_permutations : int
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    p : float or None
        None for fewer than 2 differences; 1.0 when every difference is equal and ≤ 0,
        the smallest attainable p when they are equal and > 0.
    exact : bool
    """
    from braincause.stats import sign_flip_max_t

    d = np.asarray(d, float)
    if len(d) < 2:
        return None, False
    if np.ptp(d) == 0:
        if d[0] <= 0:
            return 1.0, True
        return (2.0 ** -len(d) if len(d) <= 20 else 1.0 / (1 + n_permutations)), len(d) <= 20
    res = sign_flip_max_t(d[:, None], n_permutations=n_permutations, tail=1,
                          random_state=check_random_state(random_state))
    return float(res.p_uncorrected[0]), bool(res.exact)


def one_sided_welch(a: np.ndarray, b: np.ndarray, *, n_permutations: int,
                    random_state: RandomState = None) -> float | None:
    """p-value of ``mean a > mean b`` by label permutations of Welch's t
    (:func:`braincause.stats.label_permutation_max_t` on one column).

    Parameters
    ----------
    a : ndarray of shape (n_a,)
    b : ndarray of shape (n_b,)
    n_permutations : int
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    float or None
        None with fewer than 2 values in either group; 1.0 when all values are equal.
    """
    from braincause.stats import label_permutation_max_t

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return None
    if np.ptp(np.r_[a, b]) == 0 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return 1.0 if a.mean() <= b.mean() else 1.0 / (1 + n_permutations)
    res = label_permutation_max_t(a[:, None], b[:, None], n_permutations=n_permutations,
                                  tail=1, random_state=check_random_state(random_state))
    return float(res.p_uncorrected[0])


#: Ridge penalty of the low-level model (features standardised over the candidates).
LOW_LEVEL_ALPHA = 1.0


def low_level_residuals(pos_resp: np.ndarray, pos_feat: np.ndarray, cand_resp: np.ndarray,
                        cand_feat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What low-level statistics do not explain: a ridge model of the region's response
    on low-level features is fitted on the images without the concept
    (:class:`sklearn.linear_model.Ridge`, features standardised over them); the
    positives' and those images' responses minus its predictions. An area driven by
    low-level statistics alone leaves the positives' residuals about 0 even when their
    statistics differ from the other images' (where nearest-neighbour matching stays
    biased at the edge of the candidates' range).

    Parameters
    ----------
    pos_resp : ndarray of shape (n_pos,)
        Region responses of the positives.
    pos_feat : ndarray of shape (n_pos, n_features)
    cand_resp : ndarray of shape (n_cand,)
        Region responses of the images without the concept.
    cand_feat : ndarray of shape (n_cand, n_features)

    Returns
    -------
    pos_residuals : ndarray of shape (n_pos,)
    cand_residuals : ndarray of shape (n_cand,)
    """
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), Ridge(alpha=LOW_LEVEL_ALPHA))
    cf = np.asarray(cand_feat, np.float64)
    cr = np.asarray(cand_resp, np.float64)
    model.fit(cf, cr)
    return (np.asarray(pos_resp, np.float64) - model.predict(np.asarray(pos_feat, np.float64)),
            cr - model.predict(cf))


def causal_gate(train: CausalArrays, held_out: CausalArrays, meas_pos: np.ndarray | None,
                meas_rest: np.ndarray | None, *, coverage: str, alpha: float,
                n_permutations: int, random_state: RandomState = None,
                coverage_reasons: list[str] | None = None,
                set_aside: dict[str, str] | None = None,
                matched: tuple[np.ndarray, np.ndarray] | None = None,
                min_effect_meas: float = 0.0) -> GateResult:
    """The verdict of the causal gate (module docstring).

    Parameters
    ----------
    train, held_out : CausalArrays
        The region's TRAIN and EVAL generated responses.
    meas_pos, meas_rest : ndarray or None
        The region's held-out measured responses to positives and to images without
        the concept.
    coverage : {"high", "low"}
    alpha : float
    n_permutations : int
    random_state : None, int, SeedSequence or Generator
        Seeds the two permutation tests (one child each).
    coverage_reasons : list of str, optional
    set_aside : dict of str to str, optional
        Stand-in kinds left out of the hardest (:func:`standin_is_competitor`), each with
        the reason.
    matched : tuple of two ndarray, optional
        Low-level features of the measured positives and of ``meas_rest``: the measured
        test becomes ``lowlevel_meas`` (:func:`low_level_residuals`) instead of
        ``activation_meas`` (when there are more than twice as many images as features).
    min_effect_meas : float, default=0.0
        The measured test's smallest effect of interest δ (z units): it tests
        ``mean difference > δ`` (the positives shifted down by δ before the label
        permutations), so an effect that is real but below δ does not pass.

    Returns
    -------
    GateResult
    """
    seeds = np.random.SeedSequence(check_random_state(random_state).integers(2 ** 63)).spawn(2)
    if set_aside:
        train = train.without_controls(set(set_aside))
        held_out = held_out.without_controls(set(set_aside))
    d_train = hardest_counterfactual(train)
    train_stat = float(d_train.mean()) if len(d_train) else None
    candidate = train_stat is not None and train_stat > 0
    d = hardest_counterfactual(held_out)
    p, exact = one_sided_sign_flip(d, n_permutations=n_permutations, random_state=seeds[0])
    gen = TestResult("controls_gen", float(d.mean()) if len(d) else None, len(d), p,
                     p is not None and p <= alpha,
                     "held-out positive minus the hardest of its removal edits and cue "
                     "controls; one-sided sign-flip t", exact)
    have = meas_pos is not None and meas_rest is not None
    if have and matched is not None and len(meas_rest) > 2 * matched[1].shape[1]:
        rp, rc = low_level_residuals(meas_pos, matched[0], meas_rest, matched[1])
        pm = one_sided_welch(rp - min_effect_meas, rc, n_permutations=n_permutations,
                             random_state=seeds[1])
        meas = TestResult("lowlevel_meas", float(rp.mean() - rc.mean()) if len(rp) else None,
                          len(rp), pm, pm is not None and pm <= alpha,
                          "held-out measured positives vs held-out images without the "
                          "concept, each minus what a low-level model (fitted on the "
                          "latter) predicts; one-sided Welch t, label permutations")
    else:
        pm = one_sided_welch(np.asarray(meas_pos, float) - min_effect_meas, meas_rest,
                             n_permutations=n_permutations, random_state=seeds[1]) \
            if have else None
        meas = TestResult("activation_meas",
                          float(np.mean(meas_pos) - np.mean(meas_rest))
                          if have and len(meas_pos) and len(meas_rest) else None,
                          len(meas_pos) if meas_pos is not None else 0, pm,
                          pm is not None and pm <= alpha,
                          "held-out measured positives vs held-out measured images without "
                          "the concept; one-sided Welch t, label permutations")
    reasons = list(coverage_reasons or [])
    for k, why in (set_aside or {}).items():
        reasons.append(f"stand-in {k!r} set aside: {why}")
    reasons.append(f"TRAIN-split positive minus hardest removal/control {_num(train_stat)} "
                   f"({'> 0: a candidate' if candidate else 'not > 0: no candidate'})")
    for t in (gen, meas):
        shift = f" (tested > {min_effect_meas:g})" if t is meas and min_effect_meas else ""
        reasons.append(f"{t.name} {'passes' if t.passes else 'fails'}: mean difference "
                       f"{_num(t.statistic)}{shift} over {t.n}, p {_num(t.p)} "
                       f"(alpha {alpha:g})")
    gen_ok = candidate and gen.passes
    if coverage == "high":
        verdict = "discovery" if gen_ok and meas.passes else "rejected"
    else:
        verdict = "needs follow-up" if gen_ok else "inconclusive"
    return GateResult(verdict, candidate, train_stat, {gen.name: gen, meas.name: meas},
                      reasons)


def selectivity(train: CausalArrays, held_out: CausalArrays, *, alpha: float,
                n_permutations: int, random_state: RandomState = None) -> Selectivity:
    """The selectivity label (module docstring).

    Parameters
    ----------
    train, held_out : CausalArrays
        Their ``neg`` and ``neg_label`` are used.
    alpha : float
    n_permutations : int
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    Selectivity
    """
    rng = check_random_state(random_state)
    labels = sorted(set(np.asarray(train.neg_label).tolist()))
    if not labels or not len(held_out.neg):
        return Selectivity(None, None, None, [])
    tl = np.asarray(train.neg_label)
    hardest = max(labels, key=lambda c: (float(np.mean(np.asarray(train.neg)[tl == c])), c))
    el = np.asarray(held_out.neg_label)
    pos = np.asarray(held_out.pos, float)
    seeds = np.random.SeedSequence(rng.integers(2 ** 63)).spawn(len(labels))
    per: dict[str, tuple[float, float | None]] = {}
    for c, s in zip(labels, seeds, strict=True):
        x = np.asarray(held_out.neg, float)[el == c]
        if len(x):
            per[c] = (float(x.mean()), one_sided_welch(pos, x, n_permutations=n_permutations,
                                                       random_state=s))
    if hardest not in per:
        return Selectivity(None, hardest, None, [])
    m, p = per[hardest]
    test = TestResult("selectivity_gen", float(pos.mean()) - m, len(pos), p,
                      p is not None and p <= alpha,
                      f"held-out positives vs the TRAIN-hardest counter-concept ({hardest}); "
                      "one-sided Welch t, label permutations")
    shared = sorted(({"name": c, "mean": _r(mc), "positives_mean": _r(float(pos.mean())),
                      "p": _r(pc)} for c, (mc, pc) in per.items()
                     if pc is None or pc > alpha), key=lambda e: -(e["mean"] or 0))
    if test.passes:
        return Selectivity("selective", hardest, test, [])
    if not shared:  # the hardest is beaten by no test but appears nowhere: name it
        shared = [{"name": hardest, "mean": _r(m), "positives_mean": _r(float(pos.mean())),
                   "p": _r(p)}]
    return Selectivity("shared", hardest, test, shared)


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"
