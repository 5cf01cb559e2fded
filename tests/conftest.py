"""Test configuration: offline, headless, deterministic, isolated cache."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Every test session builds subjects and ground truth in a fresh cache folder (as CI
    does). For development only, ``BRAINCAUSE_TEST_CACHE=DIR`` reuses DIR across sessions."""
    old = os.environ.get("BRAINCAUSE_CACHE")
    reuse = os.environ.get("BRAINCAUSE_TEST_CACHE")
    os.environ["BRAINCAUSE_CACHE"] = reuse or str(tmp_path_factory.mktemp("braincause-cache"))
    yield
    if old is None:
        os.environ.pop("BRAINCAUSE_CACHE", None)
    else:
        os.environ["BRAINCAUSE_CACHE"] = old


@pytest.fixture(scope="session")
def faces_run(tmp_path_factory):
    """The run folder of a small ``localize`` run of "faces" on synth-01 (seed 0, the
    :data:`braincause.bench.null.SMALL` configuration), built once per session.

    Building synth-01 takes minutes from an empty cache; the stimuli then stay in the
    session's cache, so another run of the same inputs (tests/test_localize.py) is warm.
    """
    from braincause.bench.null import SMALL
    from braincause.config import LocalizeConfig
    from braincause.pipeline import localize

    out = tmp_path_factory.mktemp("faces-run")
    localize("faces", subject="synth-01", seed=0, config=LocalizeConfig.from_dict(SMALL),
             out=out)
    return out
