"""The local engine: a process pool on this machine."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from braincause.engine.base import Engine, Outcome, Resources, call_task

__all__ = ["LocalEngine"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(threads: int) -> None:  # pragma: no cover - runs in worker processes
    """Thread counts of the numerical libraries, before they load: with several
    processes on few cores, BLAS's and torch's thread pools fight."""
    for v in _THREAD_VARS:
        os.environ[v] = str(threads)


class LocalEngine(Engine):
    """A pool of ``workers`` processes (``spawn``: each starts a fresh interpreter, so
    nothing of the parent's state leaks in) that lives from :meth:`start` to
    :meth:`shutdown`, so :func:`~braincause.engine.worker_state` persists across the
    tasks of several :meth:`run` calls. ``workers=1`` runs every task in this process,
    in order (what tests and debuggers want).

    Parameters
    ----------
    workers : int, default=2
    resources : Resources, optional
        ``cpus`` sets each worker's thread count; GPUs are whatever the machine has.
    """

    name = "local"

    def __init__(self, workers: int = 2, *, resources: Resources | None = None) -> None:
        super().__init__(workers, resources=resources)
        self._pool: Any = None

    def start(self) -> None:
        """Start the workers (idempotent)."""
        if self._pool is not None or self.workers == 1:
            self._started = True
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                         initializer=_init_worker,
                                         initargs=(self.resources.threads,))
        self._started = True

    def shutdown(self) -> None:
        """Stop the workers (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._started = False

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
        if self._pool is None:
            for i, a in enumerate(args):
                yield call_task(fn, a, i)
            return
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = {self._pool.submit(call_task, fn, a, i): i for i, a in enumerate(args)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for f in sorted(done, key=pending.__getitem__):
                    i = pending.pop(f)
                    try:
                        yield f.result()
                    except BrokenProcessPool as e:  # a worker died (memory, a signal)
                        yield Outcome(i, False, None, f"a worker process died: {e}")
        finally:
            for f in pending:
                f.cancel()
