"""Figures and the self-contained HTML report of a localize run.

:func:`write_report` turns a ``braincause localize`` output folder into
``report.html``; :func:`build_report_html` returns the page as a string. The
surface figures (:func:`plot_areas`, :func:`plot_surface_map`) live in
:mod:`braincause.report.surface`. Heavy imports (matplotlib, nilearn, jinja2) happen
on first use.
"""

from __future__ import annotations

__all__ = ["build_report_html", "load_run", "plot_areas", "plot_surface_map", "write_report"]


def __getattr__(name: str):
    if name in ("build_report_html", "write_report"):
        from braincause.report import page

        return getattr(page, name)
    if name == "load_run":
        from braincause.report.run import load_run

        return load_run
    if name in ("plot_areas", "plot_surface_map"):
        from braincause.report import surface

        return getattr(surface, name)
    raise AttributeError(f"module 'braincause.report' has no attribute {name!r}")
