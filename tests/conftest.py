"""Test configuration: offline, headless, deterministic, isolated cache."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Every test session builds subjects and ground truth in a fresh cache folder."""
    old = os.environ.get("BRAINCAUSE_CACHE")
    os.environ["BRAINCAUSE_CACHE"] = str(tmp_path_factory.mktemp("braincause-cache"))
    yield
    if old is None:
        os.environ.pop("BRAINCAUSE_CACHE", None)
    else:
        os.environ["BRAINCAUSE_CACHE"] = old
