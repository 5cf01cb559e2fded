"""Drawers (placeholder module: filled in by the world-building work)."""

from __future__ import annotations

DRAWERS: dict = {}
