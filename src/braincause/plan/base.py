"""The PromptWriter protocol and the plan it produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from braincause.exceptions import UserInputError

SPLITS = ("train", "eval")


@dataclass(frozen=True)
class CounterConcept:
    """A semantic negative: related to the target, does not require it.

    ``name`` is a concept of the vocabulary; ``colour`` optionally asks for a cue
    colour (e.g. a *red* ball as a stand-in for warm-coloured food); ``source``
    says why it was proposed: ``co-occurrence``, ``context``, ``shared cue`` or
    ``component`` (a part of a composition that does not make it).
    """

    name: str
    label: str
    source: str
    reason: str
    colour: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """Everything the writer proposed for one concept (edits come per image later)."""

    concept: str
    positives: dict[str, list[str]]                          # split -> prompts
    counter_concepts: list[CounterConcept]
    negatives: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # split -> counter label -> prompts
    writer: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"concept": self.concept, "positives": self.positives,
                "counter_concepts": [c.to_dict() for c in self.counter_concepts],
                "negatives": self.negatives, "writer": self.writer}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        return cls(d["concept"], {k: list(v) for k, v in d["positives"].items()},
                   [CounterConcept(**c) for c in d["counter_concepts"]],
                   {s: {k: list(v) for k, v in m.items()} for s, m in d["negatives"].items()},
                   dict(d.get("writer", {})))


@runtime_checkable
class PromptWriter(Protocol):
    """What the planner needs from a prompt writer (an LLM or the embedded grammar)."""

    config: dict[str, Any]

    def positive_prompts(self, concept: str, n: int, *, random_state: Any = None) -> list[str]:
        ...

    def counter_concepts(self, concept: str, n: int) -> list[CounterConcept]:
        ...

    def negative_prompts(self, concept: str, counter: CounterConcept, n: int, *,
                         random_state: Any = None) -> list[str]:
        ...

    def edit_instructions(self, concept: str, scene: Any, n: int, *,
                          random_state: Any = None) -> list[str]:
        ...


def make_plan(writer: PromptWriter, concept: str, *, n_positive: dict[str, int],
              n_counter: int, n_negative_prompts: int, seed: int) -> Plan:
    """Ask ``writer`` for the positive prompts of each split, the counter-concepts and
    ``n_negative_prompts`` prompts per counter-concept and split.

    Every split and counter-concept draws from its own child of ``SeedSequence([seed, …])``,
    so changing one size does not change the other prompts.
    """
    for split, n in n_positive.items():
        if split not in SPLITS or n < 1:
            raise UserInputError(f"n_positive must map 'train'/'eval' to ≥ 1, got {n_positive}")
    if n_counter < 0 or n_negative_prompts < 0:
        raise UserInputError("n_counter and n_negative_prompts must be ≥ 0")
    root = np.random.SeedSequence([seed, *concept.encode()])
    kids = dict(zip(SPLITS, root.spawn(len(SPLITS)), strict=True))
    positives = {s: writer.positive_prompts(concept, n, random_state=np.random.default_rng(
        kids[s].spawn(1)[0])) for s, n in n_positive.items()}
    counters = writer.counter_concepts(concept, n_counter) if n_counter else []
    negatives: dict[str, dict[str, list[str]]] = {}
    for s in n_positive:
        seqs = np.random.SeedSequence([seed, 1 + SPLITS.index(s), *concept.encode()]).spawn(
            max(1, len(counters)))
        negatives[s] = {c.label: writer.negative_prompts(concept, c, n_negative_prompts,
                                                         random_state=np.random.default_rng(q))
                        for c, q in zip(counters, seqs, strict=False)}
    return Plan(concept, positives, counters, negatives, dict(writer.config))
