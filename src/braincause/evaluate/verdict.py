"""The paper's verdict rule: measured coverage × baseline-concept criteria (PAPER.md §7).

braincause decides with the causal gate of :mod:`braincause.evaluate.causal`; this rule
is applied to the same region and reported beside it (``paper_verdict`` in
result.json), with its coverage levels shared.

=========  ==========================  ==========================
coverage   evidence                    verdict
=========  ==========================  ==========================
high       generated *and* measured    ``discovery``
high       otherwise                   ``rejected``
low        generated                   ``needs follow-up``
low        otherwise                   ``inconclusive``
=========  ==========================  ==========================

A criterion (``act_gen``, ``causal_gen``, ``edits`` on the held-out generated split;
``act_meas``, ``causal_meas`` on held-out measured images) *passes* when its
empirical p-value against the baseline concepts is ≤ ``alpha`` and, where the
config asks for it (measured criteria by default), its one-sided bootstrap lower
bound at level alpha (the alpha percentile of the bootstrap distribution: "score >
min_effect" at one-sided level alpha, like the p-value) exceeds ``min_effect`` (z
units). Generated evidence
also needs the region's TRAIN-split S_causal > 0 (the paper's candidate rule).
Cut-offs live in :class:`~braincause.config.VerdictConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from braincause.config import VerdictConfig

VERDICTS = ("discovery", "rejected", "needs follow-up", "inconclusive")


@dataclass(frozen=True)
class Verdict:
    verdict: str
    coverage: str                 # "high" | "low"
    generated_evidence: bool
    measured_evidence: bool
    reasons: list[str] = field(default_factory=list)
    criteria: dict[str, dict[str, Any]] = field(default_factory=dict)
    gate: dict[str, Any] | None = None          # braincause's causal gate (evaluate.causal)
    selectivity: dict[str, Any] | None = None   # its selectivity label
    paper_verdict: str | None = None            # the paper's rule on the same region
    paper_reasons: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"verdict": self.verdict, "coverage": self.coverage,
               "generated_evidence": self.generated_evidence,
               "measured_evidence": self.measured_evidence, "reasons": self.reasons,
               "criteria": self.criteria}
        if self.gate is not None:
            out.update({"rule": "causal gate", "gate": self.gate,
                        "selectivity": self.selectivity, "paper_verdict": self.paper_verdict,
                        "paper_reasons": self.paper_reasons})
        return out


def coverage_level(n_measured_pos: int, negatives_per_counter: dict[str, int],
                   cfg: VerdictConfig) -> tuple[str, list[str]]:
    """("high" | "low", reasons) from measured positives and per-counter negatives."""
    reasons = []
    enough_pos = n_measured_pos >= cfg.min_measured_positives
    reasons.append(f"{n_measured_pos} held-out measured positives (need ≥ "
                   f"{cfg.min_measured_positives})")
    n_cov = sum(n >= cfg.min_negatives_per_counter for n in negatives_per_counter.values())
    frac = n_cov / len(negatives_per_counter) if negatives_per_counter else 0.0
    reasons.append(f"{n_cov}/{len(negatives_per_counter)} counter-concepts with ≥ "
                   f"{cfg.min_negatives_per_counter} measured negatives (need a fraction ≥ "
                   f"{cfg.min_counter_coverage:g})")
    return ("high" if enough_pos and frac >= cfg.min_counter_coverage else "low"), reasons


def decide(criteria: dict[str, dict[str, Any]], coverage: str, coverage_reasons: list[str],
           cfg: VerdictConfig, *, alpha: float, train_causal: float | None = None) -> Verdict:
    """The verdict from per-criterion ``{"p": …, "lower_one_sided": …}``, the coverage level
    and the
    region's TRAIN-split S_causal."""
    checked: dict[str, dict[str, Any]] = {}
    for name, c in criteria.items():
        need_ci = cfg.measured_ci if name.endswith("_meas") else cfg.generated_ci
        p, low = c.get("p"), c.get("lower_one_sided")
        ok = p is not None and p <= alpha
        if need_ci:
            ok = ok and low is not None and low > cfg.min_effect
        checked[name] = {**c, "passes": bool(ok), "ci_required": need_ci}
    gen = all(checked.get(n, {}).get("passes", False) for n in cfg.require_generated)
    reasons = list(coverage_reasons)
    if cfg.train_causal_positive:
        pos = train_causal is not None and train_causal > 0
        gen = gen and pos
        reasons.append(f"TRAIN-split region S_causal {_num(train_causal)} "
                       f"({'> 0' if pos else 'not > 0: the candidate is withheld'})")
    meas = all(checked.get(n, {}).get("passes", False) for n in cfg.require_measured)

    def state(names: tuple[str, ...]) -> str:
        return ", ".join(f"{n} {'passes' if checked.get(n, {}).get('passes') else 'fails'}"
                         f" (p {_num(checked.get(n, {}).get('p'))})" for n in names)

    reasons.append(f"generated evidence {'strong' if gen else 'weak'}: "
                   f"{state(cfg.require_generated)}")
    reasons.append(f"measured evidence {'strong' if meas else 'weak'}: "
                   f"{state(cfg.require_measured)}")
    if coverage == "high":
        verdict = "discovery" if gen and meas else "rejected"
    else:
        verdict = "needs follow-up" if gen else "inconclusive"
    return Verdict(verdict, coverage, gen, meas, reasons, checked)


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"
