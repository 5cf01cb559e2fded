"""Task functions of tests/test_engine.py (a module, so worker processes import them)."""

from __future__ import annotations

import os

from braincause.engine import worker_state
from braincause.exceptions import UserInputError


def square(x: int) -> dict:
    """x², the worker's pid and how many tasks this worker ran so far."""
    if x == 3:
        raise ValueError("three is refused")
    if x == 5:
        raise UserInputError("five is bad input")
    state = worker_state()
    state["n"] = state.get("n", 0) + 1
    return {"x": x, "square": x * x, "pid": os.getpid(), "n": state["n"],
            "threads": os.environ.get("OMP_NUM_THREADS")}
