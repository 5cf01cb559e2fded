"""Regenerate the documentation figures in docs/images/.

Run: .venv/bin/python docs/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from braincause.synth.captions import captions
from braincause.synth.categories import CATEGORIES
from braincause.synth.concepts import CONCEPTS
from braincause.synth.render import render
from braincause.synth.sampler import sample_scenes
from braincause.synth.scene import Scene, SceneObject
from braincause.synth.sheet import contact_sheet

OUT = Path(__file__).parent / "images"
REGIONS = {"sky", "grass", "water", "road"}


def _parts(obj: SceneObject) -> list[SceneObject]:
    """Face, hands and legs for a person; a face for a cat or dog (as the sampler adds)."""
    from braincause.synth.drawers.people import (
        animal_face_box,
        part_poses,
        person_parts,
        skin_of,
    )

    out = []
    if obj.category == "person":
        poses = part_poses(obj)
        for k, (slot, box) in enumerate(person_parts(obj).items()):
            cat = {"face": "human_face", "hand_l": "hand", "hand_r": "hand",
                   "leg_l": "leg", "leg_r": "leg"}[slot]
            x, y, w, h, a = box
            col = skin_of(obj) if cat != "leg" else (50, 60, 90)
            out.append(SceneObject(cat, uid=2 + k, x=x, y=y, w=w, h=h, angle=a, flip=obj.flip,
                                   color=col, pose=poses[slot], parent=1, seed=k + obj.seed,
                                   depth=0.1 + 0.01 * k, variant=obj.variant % 6))
    elif obj.category in ("cat", "dog"):
        x, y, w, h, a = animal_face_box(obj)
        out.append(SceneObject("animal_face", uid=2, x=x, y=y, w=w, h=h, angle=a,
                               color=obj.color, variant=int(obj.category == "dog"), parent=1,
                               depth=0.1, flip=obj.flip))
    return out


def category_sheet(size: int = 160) -> None:
    """Every category alone, twice (two variants), on a plain studio backdrop."""
    images, labels = [], []
    for name, cat in CATEGORIES.items():
        for v in range(2):
            w0, h0 = cat.size
            k = 0.8 / max(w0, h0)
            w, h = (1.0, 1.0) if name in REGIONS else (w0 * k, h0 * k)
            obj = SceneObject(name, uid=1, x=0.5, y=0.5, w=w, h=h,
                              color=cat.colors[v % len(cat.colors)], variant=v,
                              pose=cat.poses[(2 * v) % len(cat.poses)], seed=11 + v,
                              text="OPEN" if name == "printed_text" else "see you soon")
            objs = (obj, *_parts(obj))
            images.append(render(Scene("studio", objects=objs, seed=v, palette=v), size).image)
            labels.append(f"{name} ({v})")
    contact_sheet(images, labels, columns=12, label_lines=1).save(OUT / "categories.png")


def concept_sheet(size: int = 160) -> None:
    """Two scenes sampled for each of a selection of concepts."""
    names = ["human_face", "person", "food", "printed_text", "handwritten_text", "tools",
             "person_surfing", "social_interaction", "hands_in_action", "animals", "signs",
             "kitchen"]
    images, labels = [], []
    for i, name in enumerate(names):
        for s in sample_scenes(2, 100 + i, CONCEPTS[name].spec):
            images.append(render(s, size).image)
            labels.append(f"{name}: {captions(s)[0]}")
    contact_sheet(images, labels, columns=6).save(OUT / "concepts.png")


def edits_sheet(size: int = 160) -> None:
    """Concept scenes next to their exact counterfactual edits."""
    from braincause.synth.interventions import pixel_remove

    images, labels = [], []
    for i, name in enumerate(["human_face", "food", "printed_text", "hands_in_action",
                              "person_surfing", "traffic_sign"]):
        s = sample_scenes(1, 200 + i, CONCEPTS[name].spec)[0]
        images.append(render(s, size).image)
        labels.append(f"{name}")
        images.append(render(CONCEPTS[name].remove(s), size).image)
        labels.append("exact removal")
        members = [o.uid for o in s.objects if o.category in CONCEPTS[name].members]
        if CONCEPTS[name].kind in ("category", "group") and members:
            images.append(pixel_remove(s, members, size).image)
        else:
            images.append(np.full_like(images[-1], 255))
        labels.append("pixel edit (inpaint)")
    contact_sheet(images, labels, columns=6, label_lines=1).save(OUT / "edits.png")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    category_sheet()
    concept_sheet()
    edits_sheet()
    print(f"wrote {OUT}/categories.png, concepts.png, edits.png")
