"""The embedded prompt writer: templates over the synthetic world's vocabulary.

It stands in for the paper's LLM and proposes what an LLM would from world
knowledge, here read from the world's measured co-occurrence statistics
(:func:`braincause.synth.stats.concept_correlations`) and the categories' visual
attributes. Every prompt it writes is parsed by the prompt grammar
(:func:`braincause.synth.grammar.parse`) without unknown words.

Counter-concepts for a target, in this order of sources, interleaved:

1. **co-occurrence** — the objects most correlated with the target (phi coefficient);
2. **shared cue** — categories that share a visual attribute with the target's
   members (round, warm, skin, sign shape, high spatial frequency, …), drawn in a
   cue colour when the shared cue is warmth;
3. **context** — the scene types the target is most common in;
4. **component** — for compositions, their parts (a person, a surfboard, water).

A candidate is dropped when it *requires* the target: when scenes staged for it
with the target forbidden no longer show it (e.g. "person surfing" for
"person"). Negative prompts never mention the target's words; the generator is
free to add the target from the world's priors anyway (as a text-to-image model
would), and the verifier filters those images out.

Edit instructions (one positive scene at a time; like a multimodal LLM, the
writer sees the image's content) use a small imperative grammar that the embedded
editor executes:

* ``remove the X`` — exact removal (re-render without X);
* ``erase the X`` — pixel removal (mask + OpenCV inpainting, leaves traces);
* ``replace the X with a Y`` — Y in X's box, same colour;
* ``make the surfer|runner|jumper stand|walk|sit`` — restage a person;
* ``turn the second person away`` — break a social interaction;
* ``turn the kitchen into a living room`` — change a scene's context.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from braincause.plan.base import CounterConcept
from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import CONCEPTS, TOOLS, Concept, held_tools, surfing_persons
from braincause.synth.ground_truth import IDENTITY_ATTRS
from braincause.synth.interventions import similar_categories
from braincause.synth.scene import Scene
from braincause.synth.spec import SceneSpec
from braincause.synth.world import BASE, CONTEXTS, INDOOR, OUTDOOR, presence_probability
from braincause.utils import check_random_state

#: How the writer names contexts (each parses to exactly that context).
CONTEXT_PHRASES = {
    "kitchen": "in a kitchen", "dining_room": "in a dining room", "street": "on a city street",
    "beach": "at the beach", "park": "in a park", "office": "in an office",
    "bedroom": "in a bedroom", "living_room": "in a living room", "mountains": "in a field",
    "studio": "on a plain background",
}
FRAMES = ("a photo of", "a picture of", "an image of", "a close up of", "", "a view of")
CUE_COLOURS = {"warm": ("red", "yellow"), "skin": ("pink", "brown")}
COLOURED = frozenset({"dishware", "furniture", "vehicles", "objects", "sports", "signs"})
PLAIN_COLOURS = ("red", "green", "blue", "yellow", "purple", "white", "black", "brown")
#: Phrases for concepts that are not single categories (all known to the grammar).
PHRASES: dict[str, tuple[str, ...]] = {
    "person_surfing": ("a person surfing", "a surfer", "surfers"),
    "social_interaction": ("two people talking", "a social interaction", "a conversation"),
    "hands_in_action": ("a hand holding a hammer", "a hand holding scissors",
                        "a hand holding a wrench", "hands in action"),
    "person_running": ("a person running", "a runner", "a person jogging"),
    "person_jumping": ("a person jumping", "people jumping"),
}
ROLE = {"person_surfing": "surfer", "person_running": "runner", "person_jumping": "jumper"}
VERSION = "embedded-writer-1"


def _noun(cat: str, n: int = 1) -> str:
    c = CATEGORIES[cat]
    if n == 1:
        return f"{'an' if c.noun[0] in 'aeiou' else 'a'} {c.noun}"
    return f"{['', '', 'two', 'three'][n]} {c.plural}"


def _words(concept: Concept) -> set[str]:
    """Words that would mention the concept (its names and synonyms, all forms)."""
    from braincause.concepts import normalize

    out = {normalize(s) for s in concept.synonyms} | {normalize(concept.name)}
    for m in concept.members if concept.kind in ("category", "group") else ():
        out |= {CATEGORIES[m].noun, CATEGORIES[m].plural, normalize(m)}
    return {w for w in out if w}


@lru_cache(maxsize=1)
def _correlations() -> dict[str, dict]:
    from braincause.synth.stats import concept_correlations

    return concept_correlations(n=3000, seed=0, top=8)


class EmbeddedPromptWriter:
    """Template prompt writer over the synthetic world (see the module docstring)."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {"name": "embedded", "version": VERSION}

    def __repr__(self) -> str:
        return "EmbeddedPromptWriter()"

    # ---------------------------------------------------------------- phrases
    def _phrases(self, concept: Concept, rng: np.random.Generator,
                 colour: str | None = None) -> str:
        if concept.name in PHRASES:
            return str(rng.choice(PHRASES[concept.name]))
        if concept.kind == "scene":
            return f"a {concept.synonyms[0]}" if concept.synonyms else concept.label
        if concept.kind == "group":
            options = [concept.label, *(_noun(m) for m in concept.members)]
            return str(rng.choice(options))
        cat = concept.members[0]
        n = 1 if CATEGORIES[cat].layer in ("stuff", "part") or rng.random() < 0.6 else \
            int(rng.integers(2, 4))
        phrase = _noun(cat, n)
        if colour is None and CATEGORIES[cat].group in COLOURED and rng.random() < 0.25:
            colour = str(rng.choice(PLAIN_COLOURS))
        if colour:
            head, _, rest = phrase.partition(" ")
            phrase = f"{head if n > 1 else 'a'} {colour} {rest}"
        return phrase

    def _contexts(self, concept: Concept) -> list[str]:
        if concept.kind == "scene":
            return []
        if concept.kind == "composition":
            return [c["name"] for c in _correlations()[concept.name]["contexts"][:2]]
        return [c for c in CONTEXTS
                if any(presence_probability(m, c) > 0 for m in concept.members)]

    def _prompt(self, concept: Concept, rng: np.random.Generator, *, colour: str | None = None,
                avoid: set[str] = frozenset()) -> str:
        core = self._phrases(concept, rng, colour)
        parts = [str(rng.choice(FRAMES)), core]
        ctxs = self._contexts(concept)
        ctx = concept.spec.context
        if ctxs and rng.random() < 0.7:
            ctx = str(rng.choice(ctxs))
            parts.append(CONTEXT_PHRASES[ctx])
        pool = sorted(set(BASE.get(ctx or "", {})) | {r["name"] for r in _correlations()[
            concept.name]["objects"]})
        pool = [c for c in pool if c not in avoid and CATEGORIES[c].layer not in ("part",)
                and c not in concept.members]
        for _ in range(int(rng.integers(0, 3))):
            if pool:
                parts.append(f"{rng.choice(['with', 'next to', 'and'])} "
                             f"{_noun(str(rng.choice(pool)))}")
        return " ".join(p for p in parts if p)

    # ---------------------------------------------------------------- protocol
    def positive_prompts(self, concept: str, n: int, *, random_state: Any = None) -> list[str]:
        """``n`` prompts depicting ``concept`` (distinct where the templates allow).

        Parameters
        ----------
        concept : str
            A concept of the synthetic vocabulary.
        n : int
            Number of prompts.
        random_state : None, int, SeedSequence or Generator
            Source of randomness (:func:`braincause.utils.check_random_state`).

        Returns
        -------
        list of str
            ``n`` prompts, repeated only when the templates run out of distinct ones.
        """
        c = CONCEPTS[concept]
        rng = check_random_state(random_state)
        return self._distinct(lambda: self._prompt(c, rng), n)

    @staticmethod
    def _distinct(make, n: int) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for _ in range(20 * n):
            p = make()
            if p not in seen:
                seen.add(p)
                out.append(p)
            if len(out) == n:
                return out
        while len(out) < n:  # the templates ran dry: repeat (the scenes still differ)
            out.append(out[len(out) % max(1, len(seen))])
        return out

    def counter_concepts(self, concept: str, n: int) -> list[CounterConcept]:
        """Up to ``n`` related concepts that do not require ``concept``.

        Candidates come from co-occurrence, shared visual cues, contexts and (for
        compositions) components, interleaved (components first for a composition);
        a candidate that cannot be staged without the target, or repeats a label, is
        dropped.

        Parameters
        ----------
        concept : str
            A concept of the synthetic vocabulary.
        n : int
            Most counter-concepts to return.

        Returns
        -------
        list of CounterConcept
            At most ``n``, distinct labels.
        """
        target = CONCEPTS[concept]
        own = set(target.members) if target.kind in ("category", "group") else set()
        corr = _correlations()[concept]
        sources: list[list[CounterConcept]] = [[], [], [], []]
        for r in corr["objects"]:
            if r["name"] not in own:
                sources[0].append(CounterConcept(
                    r["name"], CATEGORIES[r["name"]].noun, "co-occurrence",
                    f"co-occurs with {target.label} (phi {r['phi']:.2f})"))
        attrs: dict[str, int] = {}
        for m in own or set(target.members):
            for a in CATEGORIES[m].attributes - IDENTITY_ATTRS:
                attrs[a] = attrs.get(a, 0) + 1
        cue_cands = []
        for cat, c in CATEGORIES.items():
            shared = sorted(set(attrs) & c.attributes)
            if cat in own or not shared or c.layer == "stuff":
                continue
            cue_cands.append((-len(shared), cat, shared))
        for _, cat, shared in sorted(cue_cands):
            colour = next((CUE_COLOURS[a][0] for a in shared if a in CUE_COLOURS), None)
            if colour == "pink" and CATEGORIES[cat].group == "people":
                colour = None  # people carry skin colour already
            label = f"{colour} {CATEGORIES[cat].noun}" if colour else CATEGORIES[cat].noun
            sources[1].append(CounterConcept(cat, label, "shared cue",
                                             f"shares {', '.join(shared)} with "
                                             f"{target.label}", colour))
        scene_names = {c.spec.context: k for k, c in CONCEPTS.items() if c.kind == "scene"}
        for r in corr["contexts"]:
            if r["name"] in scene_names and scene_names[r["name"]] != concept:
                k = scene_names[r["name"]]
                sources[2].append(CounterConcept(k, CONCEPTS[k].label, "context",
                                                 f"{target.label} is common in this scene"))
        if target.kind == "scene":
            ctx = target.spec.context
            fam = INDOOR if ctx in INDOOR else OUTDOOR
            for c in sorted(fam - {ctx}):
                if c in scene_names:
                    sources[2].append(CounterConcept(scene_names[c], CONCEPTS[scene_names[c]].label,
                                                     "context", "a scene of the same kind"))
        if target.kind in ("composition", "scene"):
            for m in target.members:
                sources[3].append(CounterConcept(m, CATEGORIES[m].noun, "component",
                                                 f"part of {target.label} without making it"))
        out: list[CounterConcept] = []
        seen: set[str] = set()
        order = [3, 0, 1, 2] if target.kind == "composition" else [0, 1, 2, 3]
        while len(out) < n and any(sources):
            for i in order:
                while sources[i]:
                    c = sources[i].pop(0)
                    if c.label in seen or c.name == concept or _requires(c, target):
                        continue
                    seen.add(c.label)
                    out.append(c)
                    break
                if len(out) == n:
                    break
        return out

    def negative_prompts(self, concept: str, counter: CounterConcept, n: int, *,
                         random_state: Any = None) -> list[str]:
        """``n`` prompts for ``counter`` that never mention ``concept``.

        Parameters
        ----------
        concept : str
            The target concept (its names and synonyms are never written).
        counter : CounterConcept
            The concept the prompts depict, in its cue colour when it has one.
        n : int
            Number of prompts.
        random_state : None, int, SeedSequence or Generator
            Source of randomness (:func:`braincause.utils.check_random_state`).

        Returns
        -------
        list of str
            ``n`` prompts, repeated only when the templates run out of distinct ones.
        """
        target = CONCEPTS[concept]
        c = CONCEPTS[counter.name]
        rng = check_random_state(random_state)
        avoid = set(target.members) if target.kind in ("category", "group") else set()
        banned = _words(target)
        own = {w for w in _words(c) | {counter.label} if w not in banned}

        def make() -> str:
            for _ in range(50):
                p = self._prompt(c, rng, colour=counter.colour, avoid=avoid)
                if not _mentions(p, banned, own):
                    return p
            return self._prompt(c, rng, colour=counter.colour, avoid=set(CATEGORIES))
        return self._distinct(make, n)

    def edit_instructions(self, concept: str, scene: Scene, n: int, *,
                          random_state: Any = None) -> list[str]:
        """Up to ``n`` distinct instructions that remove or replace only ``concept`` in
        ``scene``; empty when the scene does not show the concept.

        Parameters
        ----------
        concept : str
            A concept of the synthetic vocabulary.
        scene : Scene
            The positive image's scene (the writer sees its content).
        n : int
            Most instructions to return.
        random_state : None, int, SeedSequence or Generator
            Source of randomness (:func:`braincause.utils.check_random_state`).
            Picks the order of the candidates.

        Returns
        -------
        list of str
            Instructions in the embedded editor's grammar (see the module docstring).
        """
        target = CONCEPTS[concept]
        rng = check_random_state(random_state)
        if not target.present(scene):
            return []
        cands: list[str] = []
        if target.kind in ("category", "group"):
            members = sorted({o.category for o in scene.objects if o.category in target.members})
            # one member shown: name it; several: edit them all at once (the group's name)
            noun = CATEGORIES[members[0]].noun if len(members) == 1 else target.label
            cands += [f"remove the {noun}", f"erase the {noun}"]
            for r in _replacements(members[0], set(target.members)):
                cands.append(f"replace the {noun} with {_noun(r)}")
        elif target.kind == "scene":
            ctx = target.spec.context
            fam = INDOOR if ctx in INDOOR else OUTDOOR
            others = [c for c in CONTEXTS if c != ctx and c in fam] + ["studio"]
            cands += [f"turn the {target.label} into a {c.replace('_', ' ')}" for c in others]
        elif concept in ROLE:
            role = ROLE[concept]
            cands += [f"make the {role} {p}" for p in ("stand", "walk", "sit")]
            cands += [f"remove the {role}", f"erase the {role}"]
            if concept == "person_surfing" and surfing_persons(scene):
                cands += ["remove the surfboard", "erase the surfboard",
                          "replace the surfboard with a boat"]
        elif concept == "social_interaction":
            cands += ["turn the second person away", "remove the second person",
                      "erase the second person"]
        elif concept == "hands_in_action":
            tools = sorted({o.category for o in held_tools(scene)})
            noun = CATEGORIES[tools[0]].noun if len(tools) == 1 else "tool"
            cands += [f"remove the {noun}", f"erase the {noun}"]
            cands += [f"replace the {noun} with {_noun(r)}"
                      for r in _replacements(tools[0], set(TOOLS))]
        order = rng.permutation(len(cands))
        out = []
        for i in order:
            if cands[i] not in out:
                out.append(cands[i])
            if len(out) == n:
                break
        return out


    def control_instructions(self, concept: str, scene: Scene, *,
                             random_state: Any = None) -> list[str]:
        """Stand-in controls of ``concept`` in ``scene`` (:mod:`braincause.stimuli.controls`):
        the concept replaced, in its box and colour, by a neutral object and by one
        unrelated object per visual cue of it (round, warm, dishware, sign shape, …).

        Parameters
        ----------
        concept : str
            A concept of the synthetic vocabulary.
        scene : Scene
            The positive image's scene.
        random_state : None, int, SeedSequence or Generator
            Unused (the stand-ins are the closest matches); accepted like
            :meth:`edit_instructions`.

        Returns
        -------
        list of str
            ``replace the X with a Y`` instructions; empty for concepts that are not
            objects (scenes, poses, interactions: their scrambled footprint is the
            control) or when the scene does not show the concept.
        """
        target = CONCEPTS[concept]
        if not target.present(scene):
            return []
        if target.kind in ("category", "group"):
            members = sorted({o.category for o in scene.objects if o.category in target.members})
            noun = CATEGORIES[members[0]].noun if len(members) == 1 else target.label
            kin = _kin(target.members)
        elif concept == "hands_in_action":
            members = sorted({o.category for o in held_tools(scene)})
            noun = CATEGORIES[members[0]].noun if len(members) == 1 else "tool"
            kin = _kin(TOOLS)
        else:
            return []
        return [f"replace the {noun} with {_noun(c)}" for c in standins(members[0], kin)]

def _replacements(cat: str, banned: set[str]) -> list[str]:
    """Objects that can stand in ``cat``'s box without being the concept."""
    c = CATEGORIES[cat]
    out = [r for r in similar_categories(cat) if r not in banned]
    shared = sorted((-len(c.attributes & o.attributes), k) for k, o in CATEGORIES.items()
                    if c.attributes & o.attributes and k not in banned and k != cat
                    and o.layer not in ("stuff",))
    out += [k for _, k in shared[:3] if k not in out]
    return out


def _mentions(prompt: str, banned: set[str], own: set[str] = frozenset()) -> bool:
    """True when ``prompt`` names a ``banned`` word outside the phrases in ``own`` (the
    counter-concept's own name: "animal face" does not mention "face")."""
    from braincause.concepts import normalize

    text = f" {normalize(prompt)} "
    for w in sorted(own, key=len, reverse=True):
        text = text.replace(f" {w} ", " | ")
    return any(f" {w} " in text for w in banned)


@lru_cache(maxsize=4096)
def _requires(counter: CounterConcept, target: Concept) -> bool:
    """True when ``counter`` cannot be staged without ``target`` (8 sampled scenes)."""
    from braincause.exceptions import SceneError
    from braincause.synth.sampler import sample_scenes

    c = CONCEPTS[counter.name]
    forbid = frozenset(target.members) if target.kind in ("category", "group") else frozenset()
    if c.kind in ("category", "group") and set(c.members) <= forbid:
        return True
    spec = c.spec.merged(SceneSpec(forbid=forbid))
    try:
        scenes = sample_scenes(8, 1234, spec)
    except SceneError:
        return True
    ok = [c.present(s) and not target.present(s) for s in scenes]
    return sum(ok) < 4


#: Groups with category-selective cortex in the literature (faces, bodies, animals,
#: words, food, tools): never a *neutral* stand-in.
_SALIENT_GROUPS = frozenset({"people", "animals", "text", "food", "tools"})


def _kin(members) -> set[str]:
    """``members`` and every category of their groups (never a stand-in for them)."""
    groups = {CATEGORIES[m].group for m in members}
    return set(members) | {k for k, c in CATEGORIES.items() if c.group in groups}


def _aspect_cost(a: str, b: str) -> float:
    import math

    (aw, ah), (bw, bh) = CATEGORIES[a].size, CATEGORIES[b].size
    return abs(math.log((aw / ah) / (bw / bh)))


def standins(cat: str, kin: set[str]) -> list[str]:
    """Stand-in categories for ``cat`` (shown in its box and colour): a neutral one (no
    visual cue and no salient group, the closest aspect ratio) and, for each of
    ``cat``'s cue attributes (not the ones naming its identity), the closest unrelated
    category carrying that cue.

    Parameters
    ----------
    cat : str
    kin : set of str
        Categories that may not stand in (the concept's and their groups').

    Returns
    -------
    list of str
        Distinct categories, the neutral one first.
    """
    ok = [k for k, c in CATEGORIES.items()
          if k not in kin and c.layer not in ("stuff", "part", "sky", "far")]
    neutral = sorted((k for k in ok if CATEGORIES[k].group not in _SALIENT_GROUPS),
                     key=lambda k: (len(CATEGORIES[k].attributes), _aspect_cost(cat, k), k))
    out = neutral[:1]
    for attr in sorted(CATEGORIES[cat].attributes - IDENTITY_ATTRS):
        carriers = sorted((k for k in ok if attr in CATEGORIES[k].attributes),
                          key=lambda k: (CATEGORIES[k].group in _SALIENT_GROUPS,
                                         len(CATEGORIES[k].attributes),
                                         _aspect_cost(cat, k), k))
        if carriers and carriers[0] not in out:
            out.append(carriers[0])
    return out
