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

    Attributes
    ----------
    name : str
        A concept of the vocabulary.
    label : str
        How prompts and retrieval name it (e.g. ``"red ball"``); negative prompts are
        keyed by it.
    source : str
        Why it was proposed: ``co-occurrence``, ``context``, ``shared cue`` or
        ``component`` (a part of a composition that does not make it).
    reason : str
        A human-readable explanation (e.g. ``"co-occurs with face (phi 0.31)"``).
    colour : str or None
        A cue colour to draw it in (e.g. a *red* ball as a stand-in for warm-coloured
        food), or None.
    """

    name: str
    label: str
    source: str
    reason: str
    colour: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (``CounterConcept(**d)`` rebuilds it).

        Returns
        -------
        dict
        """
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """Everything the writer proposed for one concept (edits come per image later).

    Attributes
    ----------
    concept : str
        The target concept.
    positives : dict of str to list of str
        Split (``"train"``, ``"eval"``) -> positive prompts.
    counter_concepts : list of CounterConcept
    negatives : dict of str to dict of str to list of str
        Split -> counter-concept label -> negative prompts.
    writer : dict
        The writer's ``config`` (name, version, model...).
    """

    concept: str
    positives: dict[str, list[str]]                          # split -> prompts
    counter_concepts: list[CounterConcept]
    negatives: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # split -> counter label -> prompts
    writer: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data (JSON friendly; :meth:`from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"concept": self.concept, "positives": self.positives,
                "counter_concepts": [c.to_dict() for c in self.counter_concepts],
                "negatives": self.negatives, "writer": self.writer}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """A plan from :meth:`to_dict`'s output (``writer`` may be missing).

        Parameters
        ----------
        d : dict

        Returns
        -------
        Plan
        """
        return cls(d["concept"], {k: list(v) for k, v in d["positives"].items()},
                   [CounterConcept(**c) for c in d["counter_concepts"]],
                   {s: {k: list(v) for k, v in m.items()} for s, m in d["negatives"].items()},
                   dict(d.get("writer", {})))


@runtime_checkable
class PromptWriter(Protocol):
    """What the planner needs from a prompt writer (an LLM or the embedded grammar)."""

    config: dict[str, Any]

    def positive_prompts(self, concept: str, n: int, *, random_state: Any = None) -> list[str]:
        """Diverse prompts that depict ``concept``.

        Parameters
        ----------
        concept : str
            The target concept.
        n : int
            Number of prompts.
        random_state : None, int, SeedSequence or Generator
            Source of randomness (:func:`braincause.utils.check_random_state`).

        Returns
        -------
        list of str
            ``n`` prompts.
        """
        ...

    def counter_concepts(self, concept: str, n: int) -> list[CounterConcept]:
        """Concepts related to ``concept`` (co-occurring objects, typical contexts, shared
        visual cues) that do not require it.

        Parameters
        ----------
        concept : str
            The target concept.
        n : int
            Most counter-concepts to propose.

        Returns
        -------
        list of CounterConcept
            At most ``n``.
        """
        ...

    def negative_prompts(self, concept: str, counter: CounterConcept, n: int, *,
                         random_state: Any = None) -> list[str]:
        """Prompts for one counter-concept that never mention the target.

        Parameters
        ----------
        concept : str
            The target concept.
        counter : CounterConcept
            The concept the prompts depict.
        n : int
            Number of prompts.
        random_state : None, int, SeedSequence or Generator
            Source of randomness (:func:`braincause.utils.check_random_state`).

        Returns
        -------
        list of str
            ``n`` prompts.
        """
        ...

    def edit_instructions(self, concept: str, scene: Any, n: int, *,
                          random_state: Any = None) -> list[str]:
        """Minimal edits that remove or replace only ``concept`` in one positive image.

        Parameters
        ----------
        concept : str
            The target concept.
        scene : object
            What the image shows (a :class:`~braincause.synth.scene.Scene` for the
            embedded world; a writer that sees images may take the image itself).
        n : int
            Most instructions to propose.
        random_state : None, int, SeedSequence or Generator
            Source of randomness (:func:`braincause.utils.check_random_state`).

        Returns
        -------
        list of str
            At most ``n`` distinct instructions; empty when the image does not show
            the concept.
        """
        ...


def make_plan(writer: PromptWriter, concept: str, *, n_positive: dict[str, int],
              n_counter: int, n_negative_prompts: int, seed: int) -> Plan:
    """Ask ``writer`` for the positive prompts of each split, the counter-concepts and
    ``n_negative_prompts`` prompts per counter-concept and split.

    Every split and counter-concept draws from its own child of ``SeedSequence([seed, …])``,
    so changing one size does not change the other prompts.

    Parameters
    ----------
    writer : PromptWriter
    concept : str
        The target concept.
    n_positive : dict of str to int
        Split (``"train"``, ``"eval"``) -> number of positive prompts (≥ 1).
    n_counter : int
        Most counter-concepts to ask for (0: none, and no negative prompts).
    n_negative_prompts : int
        Negative prompts per counter-concept and split.
    seed : int
        Root of every random stream of the plan (recorded with the run).

    Returns
    -------
    Plan
        With ``writer`` set to ``writer.config``.

    Raises
    ------
    UserInputError
        ``n_positive`` names a split other than train/eval or a size below 1, or
        ``n_counter`` / ``n_negative_prompts`` is negative.
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
