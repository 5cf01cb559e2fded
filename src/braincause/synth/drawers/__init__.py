"""Drawers, one per category: ``drawer(pen, obj, rng) -> None``.

A drawer paints ``obj`` inside its box using only :class:`~braincause.synth.pen.Pen`
primitives in local (u, v) coordinates, and uses ``rng`` (seeded by ``obj.seed``)
for small details only. It must not read or change anything else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from braincause.synth.pen import Pen
from braincause.synth.scene import SceneObject

Drawer = Callable[[Pen, SceneObject, np.random.Generator], None]

DRAWERS: dict[str, Drawer] = {}

from braincause.synth.drawers import household, nature, objects, people  # noqa: E402

for _mod in (people, objects, household, nature):
    DRAWERS.update(_mod.DRAWERS)
