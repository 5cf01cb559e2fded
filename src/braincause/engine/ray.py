"""The Ray engine: tasks on a Ray cluster, one long-lived actor per worker.

Without an address a local cluster is started for the run and stopped after it: on
127.0.0.1 only, ``workers × cpus`` CPUs, a small object store, no dashboard, no usage
statistics (nothing leaves the machine). With an address (``"auto"``, ``"HOST:PORT"``,
``"ray://HOST:PORT"``) the engine joins that cluster (started with ``ray start`` on
SLURM or by KubeRay on Kubernetes, docs/sweep.md) and leaves it running.

Every worker is an actor that reserves the task's resources for the whole run, so a
model a task loads into :func:`~braincause.engine.worker_state` is loaded once per
worker. A worker that dies (out of memory, a lost node) fails its task with a message
and is replaced.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from braincause.engine.base import Engine, Outcome, Resources, call_task
from braincause.exceptions import BackendUnavailable, UserInputError

__all__ = ["OBJECT_STORE_MB", "RayEngine"]

#: Object store of a local cluster (MiB): tasks exchange small records, not arrays.
OBJECT_STORE_MB = 200
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _import_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no report to anyscale.com
    try:
        import ray
    except ImportError as e:
        raise BackendUnavailable("--engine ray needs Ray: pip install 'braincause[ray]' "
                                 f"(or pip install ray) ({e})") from None
    return ray


class _Worker:
    """The actor of one worker (made a Ray actor class in :meth:`RayEngine.start`)."""

    def __init__(self, threads: int, sys_path: list[str] | None = None) -> None:
        import sys

        # a local cluster sees the modules this process sees (as spawned processes do)
        sys.path[:0] = [p for p in sys_path or () if p not in sys.path]
        for v in _THREAD_VARS:
            os.environ[v] = str(threads)
        try:
            from threadpoolctl import threadpool_limits

            self._limits = threadpool_limits(threads)
        except ImportError:  # pragma: no cover - a dependency
            self._limits = None

    def run(self, fn: Callable[[Any], Any], arg: Any, index: int) -> Outcome:
        return call_task(fn, arg, index)

    def pid(self) -> int:
        return os.getpid()


class RayEngine(Engine):
    """``workers`` Ray actors, each holding ``resources``.

    Parameters
    ----------
    workers : int, optional
        Actors (tasks at a time). Default: 2 on a local cluster; on an existing cluster
        as many as its CPUs and GPUs hold.
    resources : Resources, optional
        Per task (per actor): ``num_cpus`` and ``num_gpus`` of the actor.
    address : str, optional
        An existing cluster; None starts a local one.
    object_store_mb : int
        Object store of a local cluster (MiB).
    """

    name = "ray"

    def __init__(self, workers: int | None = None, *, resources: Resources | None = None,
                 address: str | None = None, object_store_mb: int = OBJECT_STORE_MB) -> None:
        super().__init__(2 if workers is None else workers, resources=resources)
        self._auto_workers = workers is None and address is not None
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise UserInputError(f"--address must be a Ray address such as auto, "
                                 f"HOST:6379 or ray://HOST:10001, got {address!r}")
        self.address = address
        self.object_store_mb = object_store_mb
        self._ray: Any = None
        self._owns_cluster = False
        self._connected = False
        self._actor_class: Any = None
        self._actors: list[Any] = []

    # ---------------------------------------------------------------- life cycle
    def start(self) -> None:
        """Start the workers (idempotent)."""
        if self._started:
            return
        ray = self._ray = _import_ray()
        r = self.resources
        if not ray.is_initialized():
            import logging

            common = {"include_dashboard": False, "log_to_driver": False,
                      "logging_level": logging.WARNING, "configure_logging": True}
            if self.address is None:
                ray.init(address="local", num_cpus=max(1, round(self.workers * r.cpus)),
                         num_gpus=None if r.gpus else 0, _node_ip_address="127.0.0.1",
                         object_store_memory=self.object_store_mb * 2 ** 20, **common)
                self._owns_cluster = True
            else:
                ray.init(address=self.address, **common)
            self._connected = True
        total = ray.cluster_resources()
        fits = min(total.get("CPU", 0) / r.cpus,
                   total.get("GPU", 0) / r.gpus if r.gpus else float("inf"))
        if fits < 1:
            self.shutdown()
            raise UserInputError(
                f"the Ray cluster has {total.get('CPU', 0):g} CPUs and "
                f"{total.get('GPU', 0):g} GPUs, too few for one task ({r.cpus:g} CPUs, "
                f"{r.gpus:g} GPUs): lower --cpus-per-task / --gpus-per-task or add nodes")
        if self._auto_workers:
            self.workers = max(1, int(fits))
        self._actor_class = ray.remote(num_cpus=r.cpus, num_gpus=r.gpus)(_Worker)
        self._actors = [self._new_actor() for _ in range(self.workers)]
        self._started = True

    def _new_actor(self) -> Any:
        import sys

        return self._actor_class.remote(self.resources.threads,
                                        list(sys.path) if self._owns_cluster else None)

    def shutdown(self) -> None:
        """Stop the workers (idempotent)."""
        ray = self._ray
        if ray is not None:
            for a in self._actors:
                try:
                    ray.kill(a)
                except Exception:  # an actor already gone
                    pass
            self._actors = []
            if self._connected:
                ray.shutdown()  # stops a cluster this engine started; else disconnects
                self._connected = False
        self._owns_cluster = False
        self._started = False

    def describe(self) -> dict[str, Any]:
        """What the run was made with, for the record.

        Returns
        -------
        dict
            ``{"engine", "workers", "resources", "address"}``.
        """
        return {**super().describe(), "address": self.address or "local (127.0.0.1)"}

    # ---------------------------------------------------------------- tasks
    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[Outcome]:
        """Run ``fn(arg)`` for every ``arg``; yield each outcome as it finishes.

        Parameters
        ----------
        fn : callable
            A module-level function.
        args : sequence
            One task each.

        Yields
        ------
        Outcome
        """
        if not self._started:
            self.start()
        ray = self._ray
        from ray.exceptions import RayActorError, RayTaskError

        todo = list(enumerate(args))[::-1]
        busy: dict[Any, tuple[int, Any]] = {}  # object ref -> (task index, actor)
        idle = list(self._actors)
        while todo or busy:
            while todo and idle:
                i, a = todo.pop()
                actor = idle.pop()
                busy[actor.run.remote(fn, a, i)] = (i, actor)
            done, _ = ray.wait(list(busy), num_returns=1)
            for ref in done:
                i, actor = busy.pop(ref)
                try:
                    out = ray.get(ref)
                except (RayActorError, RayTaskError) as e:  # the worker died
                    out = Outcome(i, False, None, f"the Ray worker died: "
                                                  f"{str(e).splitlines()[0]}")
                    self._actors.remove(actor)
                    actor = self._new_actor()
                    self._actors.append(actor)
                idle.append(actor)
                yield out
