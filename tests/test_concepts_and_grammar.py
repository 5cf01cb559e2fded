from __future__ import annotations

import pytest

from braincause.concepts import closest, normalize, resolve
from braincause.exceptions import ConceptNotFound, PromptError
from braincause.synth.concepts import CONCEPTS
from braincause.synth.grammar import parse
from braincause.synth.sampler import sample_scenes


def test_vocabulary_size_and_kinds():
    assert len(CONCEPTS) >= 40
    kinds = {c.kind for c in CONCEPTS.values()}
    assert kinds == {"category", "group", "composition", "scene"}


def test_synonyms_are_unambiguous():
    seen: dict[str, str] = {}
    for name, c in CONCEPTS.items():
        for s in (*c.synonyms, name):
            k = normalize(s)
            assert seen.setdefault(k, name) == name, f"{k!r} names {seen[k]} and {name}"


@pytest.mark.parametrize("query,expected", [
    ("faces", "human_face"), ("Faces", "human_face"), ("food", "food"),
    ("hand tools", "tools"), ("person surfing", "person_surfing"), ("surfing", "person_surfing"),
    ("handwritten text", "handwritten_text"), ("words", "text"), ("bodies", "person"),
    ("hands in action", "hands_in_action"), ("kitchen", "kitchen"), ("animal faces", "animal_face"),
    ("traffic signs", "traffic_sign"), ("logos", "logo"), ("clocks", "clock"),
])
def test_resolve(query, expected):
    assert resolve(query).name == expected


def test_unknown_concept_suggests_closest():
    with pytest.raises(ConceptNotFound) as e:
        resolve("fase")
    assert "human_face" in e.value.suggestions
    assert "did you mean" in str(e.value).lower()
    assert "pizza" in closest("piza")


def test_parse_places_words_and_reports_the_rest():
    spec = parse("a plate of pizza on a kitchen table")
    assert spec.context == "kitchen"
    assert spec.required_categories() == {"plate", "pizza", "table"}
    assert spec.unknown == ()
    spec = parse("a zebra next to a red car without trees")
    assert spec.unknown == ("zebra",)
    assert spec.required_categories() == {"car"}
    assert spec.require[0].color is not None
    assert spec.forbid == {"tree"}


def test_parse_nonsense_is_a_clear_error():
    with pytest.raises(PromptError, match="could not place"):
        parse("qwzx blorp")
    with pytest.raises(PromptError, match="empty"):
        parse("  ")


@pytest.mark.parametrize("name", sorted(CONCEPTS))
def test_each_concept_stages_and_removes(name):
    """Scenes sampled for a concept express it; the concept's intervention removes it."""
    c = CONCEPTS[name]
    for s in sample_scenes(4, 99, parse(name.replace("_", " "))):
        assert c.present(s), f"{name} missing from a scene sampled for it"
        assert not c.present(c.remove(s)), f"{name} still present after removal"


def test_prompt_constraints_hold():
    for s in sample_scenes(20, 3, parse("two dogs in a park without flowers")):
        assert s.context == "park"
        assert len(s.of("dog")) >= 2
        assert not s.has("flower")


def test_counts_of_parts_go_on_separate_hosts():
    for s in sample_scenes(5, 8, parse("three faces in a park")):
        faces = [o for o in s.of("human_face") if o.parent is not None]
        assert len(s.of("human_face")) >= 3
        assert len({o.parent for o in faces}) == len(faces)
