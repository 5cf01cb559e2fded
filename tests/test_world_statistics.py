"""The sampler reproduces the declared priors within sampling error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import CONCEPTS
from braincause.synth.sampler import sample_scenes
from braincause.synth.stats import concept_correlations, declared_table
from braincause.synth.world import (
    CONTEXT_PRIOR,
    CONTEXTS,
    COUPLINGS,
    ROOTS,
    coupling_applies,
    presence_probability,
)

N = 5000
Z = 4.5  # ~0.0007 % two-sided per check; a few hundred checks stay well under 1 % overall


@pytest.fixture(scope="module")
def scenes():
    return sample_scenes(N, 2024)


def _close(k: int, n: int, p: float) -> bool:
    se = math.sqrt(max(p * (1 - p), 1e-12) / n)
    return abs(k / n - p) <= Z * se + 1e-12


def test_context_frequencies_match_prior(scenes):
    for ctx in CONTEXTS:
        k = sum(s.context == ctx for s in scenes)
        assert _close(k, N, CONTEXT_PRIOR[ctx]), (ctx, k / N, CONTEXT_PRIOR[ctx])


def test_presence_matches_declared_probabilities(scenes):
    checked = 0
    for ctx in CONTEXTS:
        sub = [s for s in scenes if s.context == ctx]
        for cat in CATEGORIES:
            p = presence_probability(cat, ctx)
            k = sum(s.has(cat) for s in sub)
            if p == 0:
                assert k == 0, f"{cat} appeared in {ctx} although its probability is 0"
                continue
            assert _close(k, len(sub), p), (ctx, cat, k / len(sub), p)
            checked += 1
    assert checked > 150


def test_couplings_match_declared_conditionals(scenes):
    checked = 0
    for (a, b) in COUPLINGS:
        for ctx in CONTEXTS:
            if not coupling_applies(a, b, ctx):
                continue
            sub = [s for s in scenes if s.context == ctx and s.has(a)]
            if len(sub) < 60:
                continue
            p = presence_probability(b, ctx, given_present=a)
            k = sum(s.has(b) for s in sub)
            assert _close(k, len(sub), p), (a, b, ctx, k / len(sub), p)
            checked += 1
    assert checked > 20


def test_roots_are_independent_given_context(scenes):
    # a spot check of the model's independence claim: person and cup in kitchens
    sub = [s for s in scenes if s.context == "kitchen"]
    both = np.mean([s.has("person") and s.has("cup") for s in sub])
    assert "person" in ROOTS and "cup" in ROOTS
    p = presence_probability("person", "kitchen") * presence_probability("cup", "kitchen")
    assert _close(round(both * len(sub)), len(sub), p)


def test_exported_table_lists_correlates_for_every_concept():
    corr = concept_correlations(n=3000, seed=1)
    assert set(corr) == set(CONCEPTS)
    for name, e in corr.items():
        assert 0 < e["prevalence"] < 1, name
        assert e["objects"], f"{name}: no correlated object"
        assert e["cues"] or CONCEPTS[name].kind == "scene", f"{name}: no correlated cue"
    # the planted correlations come out on top
    food_objs = [r["name"] for r in corr["food"]["objects"][:4]]
    assert "plate" in food_objs or "table" in food_objs
    assert "warm" in [r["name"] for r in corr["food"]["cues"][:3]]
    assert "person" in [r["name"] for r in corr["human_face"]["objects"][:2]]
    surf = [r["name"] for r in corr["person_surfing"]["objects"][:4]]
    assert "water" in surf and "surfboard" in surf


def test_declared_table_rows():
    rows = declared_table()
    assert {r["context"] for r in rows} == set(CONTEXTS)
    for r in rows:
        assert 0 < r["p_present"] <= 1
