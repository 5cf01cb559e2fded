"""The engine of a name (``--engine``)."""

from __future__ import annotations

from braincause.engine.base import ENGINES, Engine, Resources
from braincause.engine.local import LocalEngine
from braincause.engine.ray import RayEngine
from braincause.exceptions import UserInputError

__all__ = ["make_engine"]


def make_engine(name: str, *, workers: int | None = None, resources: Resources | None = None,
                address: str | None = None) -> Engine:
    """The engine ``name`` (:data:`ENGINES`).

    Parameters
    ----------
    name : {"local", "ray"}
    workers : int, optional
        Tasks at a time (default 2; on an existing Ray cluster, as many as its
        resources hold).
    resources : Resources, optional
    address : str, optional
        Ray only: the address of an existing cluster (``"auto"``, ``"HOST:PORT"`` or
        ``"ray://HOST:PORT"``); without it a local cluster is started for the run.

    Returns
    -------
    Engine

    Raises
    ------
    UserInputError
        An unknown engine, or ``address`` with the local engine.
    """
    if name == "local":
        if address is not None:
            raise UserInputError("--address is for --engine ray; the local engine runs on "
                                 "this machine")
        return LocalEngine(2 if workers is None else workers, resources=resources)
    if name == "ray":
        return RayEngine(workers, resources=resources, address=address)
    raise UserInputError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
