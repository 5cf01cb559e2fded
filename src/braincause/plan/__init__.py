"""Planning: the prompts, counter-concepts and edit instructions of a causal dataset.

A :class:`PromptWriter` plays the part of the paper's LLM (Gemma-3 in PAPER.md §1):

* ``positive_prompts`` — diverse prompts that depict the concept;
* ``counter_concepts`` — concepts related to the target (co-occurring objects,
  typical contexts, shared visual cues) that do not require it;
* ``negative_prompts`` — prompts for one counter-concept that never mention the target;
* ``edit_instructions`` — minimal edits that remove or replace only the concept in
  one positive image.

The embedded writer (:class:`EmbeddedPromptWriter`) works from the synthetic
world's vocabulary, prompt grammar and measured co-occurrence statistics.
"""

from braincause.plan.base import CounterConcept, Plan, PromptWriter, make_plan
from braincause.plan.embedded import EmbeddedPromptWriter

__all__ = ["CounterConcept", "EmbeddedPromptWriter", "Plan", "PromptWriter", "make_plan"]
