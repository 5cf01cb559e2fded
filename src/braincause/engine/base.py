"""What every engine shares: the task outcome, the resources a task declares, the
per-worker state, the task seeds and the engine factory."""

from __future__ import annotations

import hashlib
import pickle
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from braincause.exceptions import BrainCauseError, UserInputError

__all__ = ["ENGINES", "Engine", "Outcome", "Resources", "call_task", "task_seed",
           "worker_state"]

#: The engines by name (``--engine``).
ENGINES = ("local", "ray")

_STATE: dict[str, Any] = {}


def worker_state() -> dict[str, Any]:
    """A dict that lives as long as the worker process: what a task stores here (a
    prepared run context, a loaded model) the next task on the same worker finds.

    Returns
    -------
    dict
        The same object for every task of this process.
    """
    return _STATE


def task_seed(seed: int, key: str, repeat: int = 0) -> int:
    """The seed of a task: a function of (base seed, key, repeat) only, never of the
    worker, the engine or the order.

    Parameters
    ----------
    seed : int
        The base seed of the sweep or benchmark (≥ 0).
    key : str
        What the task is about (the benchmark and the sweep use the concept, so every
        subject sees the same stimuli of a concept).
    repeat : int, default=0

    Returns
    -------
    int
        In [0, 2**31): the first word of ``SeedSequence([seed, hash(key), repeat])``,
        the key hashed with SHA-256.
    """
    import numpy as np

    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")
    ss = np.random.SeedSequence([int(seed), h, int(repeat)])
    return int(ss.generate_state(1)[0] & 0x7FFFFFFF)


@dataclass(frozen=True)
class Resources:
    """What one task needs: CPU cores and GPUs (fractions allowed on Ray).

    Parameters
    ----------
    cpus : float
        Cores per task (also its BLAS/torch thread count, rounded up).
    gpus : float
        GPUs per task (Ray only; the local engine runs on this machine's devices).
    """

    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.cpus, int | float) and 0 < self.cpus <= 1024):
            raise UserInputError(f"cpus per task must be in (0, 1024], got {self.cpus!r}")
        if not (isinstance(self.gpus, int | float) and 0 <= self.gpus <= 64):
            raise UserInputError(f"gpus per task must be in [0, 64], got {self.gpus!r}")

    @property
    def threads(self) -> int:
        """Threads of a task's numerical libraries."""
        import math

        return max(1, math.ceil(self.cpus))

    def to_dict(self) -> dict[str, float]:
        """The resources as plain data.

        Returns
        -------
        dict
            ``{"cpus", "gpus"}``.
        """
        return {"cpus": float(self.cpus), "gpus": float(self.gpus)}


@dataclass(frozen=True)
class Outcome:
    """How one task ended.

    Parameters
    ----------
    index : int
        The task's position in the argument list.
    ok : bool
    value : object
        The function's return value (None when it failed).
    error : str or None
        ``"ExceptionType: message"`` of a failed task.
    user_error : bool
        The failure is a :class:`~braincause.exceptions.BrainCauseError` (bad input,
        missing data) rather than a bug.
    elapsed_s : float
        Seconds the task ran.
    traceback : str or None
        The traceback of a failed task.
    exception : BaseException or None
        The exception itself when it could be sent back (picklable).
    """

    index: int
    ok: bool
    value: Any = None
    error: str | None = None
    user_error: bool = False
    elapsed_s: float = 0.0
    traceback: str | None = field(default=None, repr=False)
    exception: BaseException | None = field(default=None, repr=False)

    def unwrap(self) -> Any:
        """The value, or raise the task's exception.

        Returns
        -------
        object
            The task's return value.

        Raises
        ------
        Exception
            The task's own exception, or a :class:`RuntimeError` with its message when
            the exception itself did not come back.
        """
        if self.ok:
            return self.value
        if self.exception is not None:
            raise self.exception
        raise RuntimeError(f"task {self.index} failed: {self.error}")


def call_task(fn: Callable[[Any], Any], arg: Any, index: int) -> Outcome:
    """Run ``fn(arg)`` and return its :class:`Outcome`; never raises (except
    ``KeyboardInterrupt`` / ``SystemExit``).

    Parameters
    ----------
    fn : callable
    arg : object
    index : int
        The task's position, recorded in the outcome.

    Returns
    -------
    Outcome
    """
    t0 = time.time()
    try:
        value = fn(arg)
    except Exception as e:
        try:
            pickle.dumps(e)
            exc: BaseException | None = e
        except Exception:
            exc = None
        msg = str(e) if isinstance(e, BrainCauseError) else f"{type(e).__name__}: {e}"
        return Outcome(index, False, None, msg,
                       isinstance(e, BrainCauseError | FileNotFoundError),
                       round(time.time() - t0, 3), traceback.format_exc(), exc)
    return Outcome(index, True, value, None, False, round(time.time() - t0, 3))


class Engine(ABC):
    """Runs ``fn(arg)`` for many arguments; use as a context manager (``with engine:``),
    so that its workers start once for several :meth:`run` calls and stop at the end.

    Parameters
    ----------
    workers : int
        Tasks at a time.
    resources : Resources
        What each task needs.
    """

    name = "engine"

    def __init__(self, workers: int = 2, *, resources: Resources | None = None) -> None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise UserInputError(f"workers must be an integer ≥ 1, got {workers!r}")
        self.workers = workers
        self.resources = resources or Resources()
        self._started = False

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def start(self) -> None:
        """Start the workers (idempotent)."""
        self._started = True

    def shutdown(self) -> None:
        """Stop the workers (idempotent)."""
        self._started = False

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[Outcome]:
        """Run ``fn(arg)`` for every ``arg``; yield each :class:`Outcome` as it finishes.

        Parameters
        ----------
        fn : callable
            A module-level function (sent to the workers by reference).
        args : sequence
            Picklable arguments, one task each.

        Yields
        ------
        Outcome
        """

    def describe(self) -> dict[str, Any]:
        """What the run was made with, for the record.

        Returns
        -------
        dict
            ``{"engine", "workers", "resources"}``.
        """
        return {"engine": self.name, "workers": self.workers,
                "resources": self.resources.to_dict()}
