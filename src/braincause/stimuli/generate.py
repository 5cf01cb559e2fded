"""Image generation and editing roles, and their embedded implementations.

* :class:`SceneGenerator` (``ImageGenerator``) — prompt → scene constraints (the
  prompt grammar) → a scene sampled from the world's priors under them → rendered
  image. One image per prompt, as the paper's FLUX step.
* :class:`SceneEditor` (``ImageEditor``) — executes the embedded writer's edit
  instructions on a scene: ``remove`` re-renders the scene without the object
  (an ideal editor), ``erase`` paints it out with OpenCV inpainting (the traces a
  real editor leaves), ``replace``, ``make the surfer stand`` and ``turn the
  kitchen into a bedroom`` re-render the edited scene.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from braincause.exceptions import BrainCauseError, SceneError
from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import (
    CONCEPTS,
    held_tools,
    interacting_pairs,
    restage,
    surfing_persons,
)
from braincause.synth.scene import Scene
from braincause.synth.world import CONTEXTS
from braincause.utils import check_random_state

VERSION = "scene-gen-1"


@dataclass(frozen=True)
class Generated:
    """One generated (or edited) image and its scene record (None on failure).

    For pixel edits ``exact`` is False: ``scene`` is the intended edit, the image
    is the inpainted one.
    """

    image: np.ndarray | None
    scene: Scene | None
    error: str = ""
    exact: bool = True


@runtime_checkable
class ImageGenerator(Protocol):
    """What the stimulus pipeline needs from a text-to-image model.

    Attributes
    ----------
    config : dict
        JSON-serialisable settings (part of the stimulus cache key).
    image_size : int
        Side of the square images it makes (the editor of a run edits at this size).
    """

    config: dict[str, Any]
    image_size: int

    def generate(self, prompt: str, *, seed: int) -> Generated:
        """One image for ``prompt``, reproducible from ``seed`` (a failed one has
        ``image=None`` and an ``error``)."""


@runtime_checkable
class ImageEditor(Protocol):
    """What the stimulus pipeline needs from a counterfactual editor.

    ``source`` holds the scene record of an embedded-world image (an exact intervention)
    or its pixels (``exact=False``, for a pixel editor).
    """

    config: dict[str, Any]

    def edit(self, source: Generated, instruction: str, *, seed: int) -> Generated:
        """``source`` edited by ``instruction``, reproducible from ``seed``."""


@runtime_checkable
class BatchImageGenerator(ImageGenerator, Protocol):
    """An :class:`ImageGenerator` that also makes several images per call (diffusers):
    the stimulus pipeline then hands it whole chunks."""

    def generate_batch(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[Generated]:
        """``[generate(p, seed=s) for p, s in zip(prompts, seeds)]``, batched."""


@runtime_checkable
class BatchImageEditor(ImageEditor, Protocol):
    """An :class:`ImageEditor` that also edits several images per call."""

    def edit_batch(self, sources: Sequence[Generated], instructions: Sequence[str],
                   seeds: Sequence[int]) -> list[Generated]:
        """``[edit(g, i, seed=s) for ...]``, batched."""


class SceneGenerator:
    """The embedded text-to-image model: grammar → sampled scene → render."""

    def __init__(self, image_size: int = 160) -> None:
        self.image_size = int(image_size)
        self.config: dict[str, Any] = {"name": "scene-renderer", "version": VERSION,
                                       "image_size": self.image_size}

    def __repr__(self) -> str:
        return f"SceneGenerator(image_size={self.image_size})"

    def generate(self, prompt: str, *, seed: int) -> Generated:
        from braincause.synth.grammar import parse
        from braincause.synth.render import render
        from braincause.synth.sampler import sample_scene

        try:
            scene = sample_scene(np.random.default_rng(seed), parse(prompt))
        except BrainCauseError as e:   # a prompt the world cannot stage: a failed image
            return Generated(None, None, str(e))
        except (KeyError, IndexError, ValueError) as e:
            # rare layouts the sampler cannot place (~0.7 % of staged seeds): a failed
            # image, counted in the retention statistics, like a generator's failure
            return Generated(None, None, f"the scene sampler failed: {type(e).__name__}: {e}")
        return Generated(render(scene, self.image_size).image, scene)


_REPLACE = re.compile(r"^replace the (.+?) with an? (.+)$")
_POSE = re.compile(r"^make the (surfer|runner|jumper) (stand|walk|sit)$")
_AWAY = re.compile(r"^turn the (.+?) away$")
_CONTEXT = re.compile(r"^turn the (.+?) into an? (.+)$")
_REMOVE = re.compile(r"^(remove|erase) the (.+)$")
POSES = {"stand": "standing", "walk": "walking", "sit": "sitting"}


def _category(noun: str) -> str:
    for k, c in CATEGORIES.items():
        if noun in (c.noun, c.plural, k.replace("_", " ")):
            return k
    raise SceneError(f"the editor does not know the object {noun!r}")


def _targets(scene: Scene, what: str) -> list[int]:
    """uids an instruction's object phrase refers to."""
    if what == "surfer":
        return [p.uid for p in surfing_persons(scene)]
    if what in ("runner", "jumper"):
        pose = {"runner": "running", "jumper": "jumping"}[what]
        return [p.uid for p in scene.of("person") if p.pose == pose]
    if what == "second person":
        return sorted({b.uid for _, b in interacting_pairs(scene)})
    key = what.replace(" ", "_")
    if key in CONCEPTS and CONCEPTS[key].kind == "group":
        members = CONCEPTS[key].members
        return [o.uid for o in scene.objects if o.category in members]
    if what in ("tool",):
        return [o.uid for o in held_tools(scene)]
    cat = _category(what)
    return [o.uid for o in scene.of(cat)]


class SceneEditor:
    """The embedded instruction editor (see the module docstring)."""

    def __init__(self, image_size: int = 160, inpaint: str = "telea") -> None:
        if inpaint not in ("telea", "ns"):
            raise SceneError(f"inpaint must be 'telea' or 'ns', got {inpaint!r}")
        self.image_size = int(image_size)
        self.inpaint = inpaint
        self.config: dict[str, Any] = {"name": "scene-editor", "version": VERSION,
                                       "image_size": self.image_size, "inpaint": inpaint}

    def __repr__(self) -> str:
        return f"SceneEditor(image_size={self.image_size}, inpaint={self.inpaint!r})"

    def edit(self, source: Generated, instruction: str, *, seed: int) -> Generated:
        from braincause.synth.interventions import pixel_remove, replace
        from braincause.synth.render import render

        scene = source.scene
        if scene is None:
            return Generated(None, None, "the source image has no scene record to edit")
        text = " ".join(instruction.lower().split())
        try:
            if m := _REPLACE.match(text):
                uids = _targets(scene, m.group(1))
                new = _category(m.group(2))
                rng = check_random_state(seed)
                for u in uids:
                    if u in {o.uid for o in scene.objects}:
                        scene = replace(scene, u, new, random_state=rng)
            elif m := _POSE.match(text):
                uids = _targets(scene, m.group(1))
                for u in uids:
                    scene = restage(scene, u, POSES[m.group(2)])
            elif m := _AWAY.match(text):
                away = {"left": "right", "right": "left"}
                for _ in range(4):  # turning one person can face them to a third: repeat
                    uids = set(_targets(scene, m.group(1)))
                    if not uids:
                        break
                    scene = scene.replace(objects=tuple(
                        dataclasses.replace(o, pose=away.get(o.pose, o.pose))
                        if o.category == "human_face" and o.parent in uids else o
                        for o in scene.objects))
            elif m := _CONTEXT.match(text):
                ctx = m.group(2).replace(" ", "_")
                if ctx not in CONTEXTS:
                    raise SceneError(f"unknown scene type {m.group(2)!r}")
                scene = scene.replace(context=ctx)
            elif m := _REMOVE.match(text):
                uids = _targets(scene, m.group(2))
                if not uids:
                    return Generated(None, None, f"nothing to {m.group(1)}: {m.group(2)!r}")
                if m.group(1) == "erase":
                    px = pixel_remove(scene, uids, self.image_size, method=self.inpaint)
                    return Generated(px.image, scene.without(uids), exact=False)
                scene = scene.without(uids)
            else:
                return Generated(None, None, f"the editor cannot follow {instruction!r}")
        except SceneError as e:
            return Generated(None, None, str(e))
        if not uids_changed(source.scene, scene):
            return Generated(None, None, f"{instruction!r} changed nothing")
        return Generated(render(scene, self.image_size).image, scene)


def uids_changed(a: Scene | None, b: Scene) -> bool:
    return a is None or a.to_dict() != b.to_dict()
