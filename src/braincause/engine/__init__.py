"""One execution layer for many independent tasks: ``braincause sweep`` and
``braincause benchmark`` run on it.

An :class:`Engine` takes a top-level function and a list of arguments, runs
``fn(arg)`` for each, and yields :class:`Outcome` records as tasks finish. Two
engines sit behind it:

* ``local`` (:class:`LocalEngine`): a process pool on this machine (``spawn``
  processes; ``workers=1`` runs in this process, in order);
* ``ray`` (:class:`RayEngine`): a `Ray <https://docs.ray.io>`_ cluster, a local
  one started for the run (127.0.0.1 only) or an existing one (``address``), with
  per-task CPU/GPU resources. Each worker is a Ray actor that lives for the whole
  run, so whatever a task keeps in :func:`worker_state` (a fitted encoder, a
  loaded diffusion model) is loaded once per worker and reused by the next tasks.

A task's exception never escapes the engine: it comes back as a failed
:class:`Outcome` with its message, and the caller decides (the sweep records it
and goes on; the benchmark re-raises it). Results never depend on the engine, the
number of workers or the finishing order: seeds are a function of the task only
(:func:`task_seed`).
"""

from __future__ import annotations

from braincause.engine.base import (
    ENGINES,
    Engine,
    Outcome,
    Resources,
    task_seed,
    worker_state,
)
from braincause.engine.factory import make_engine
from braincause.engine.local import LocalEngine
from braincause.engine.ray import RayEngine

__all__ = ["ENGINES", "Engine", "LocalEngine", "Outcome", "RayEngine", "Resources",
           "make_engine", "task_seed", "worker_state"]
