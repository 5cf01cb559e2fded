"""Test configuration: offline, headless, deterministic, isolated cache."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    """The verifier kind of the mini runs (tests/mini.py), for every test module."""
    import mini

    mini.register()


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
    """The run folder of a mini ``localize`` run of "faces" (the mini subject, seed 0,
    the :data:`mini.MINI` configuration; see tests/mini.py), built once per session.

    It builds in seconds from an empty cache; its stimuli then stay in the session's
    cache, so another run of the same inputs (tests/test_localize.py) is warm.
    """
    from braincause.config import LocalizeConfig
    from braincause.pipeline import localize
    from mini import MINI, MINI_SUBJECT

    out = tmp_path_factory.mktemp("faces-run")
    localize("faces", subject=MINI_SUBJECT, seed=0, config=LocalizeConfig.from_dict(MINI),
             out=out)
    return out
