"""Held-out and measured validation of a region, coverage and the verdict."""
