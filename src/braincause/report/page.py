"""``report.html``: one self-contained page per localize run.

The page is rendered by Jinja2 with autoescaping from the templates in
``report/templates/``; every figure and thumbnail is inlined as a ``data:`` URI,
the style sheet is inline, and a Content-Security-Policy ``<meta>`` forbids
every network load. The page itself runs no script; the optional interactive 3-D
view (nilearn ``view_surf``, needs plotly) sits in a sandboxed ``<iframe srcdoc>``
whose inline scripts the policy allows by hash.

Sections, in order: verdict and the evidence behind it; the paper's five columns;
surface maps; region scores with confidence intervals, p-values and voxelwise
tests; coverage; stimulus galleries; follow-up; run details.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from braincause.exceptions import BackendUnavailable, UserInputError
from braincause.report.run import ReportRun, load_run
from braincause.runfolder import RunFolder

__all__ = ["build_report_html", "write_report"]

Progress = Callable[[str], None]

#: Criteria of the paper's significance test (PAPER.md §2.6), in the paper's column order
#: (Table 1: Act Gen, Act Meas, Causal Gen, Causal Meas, Edits): key, label, score, data.
PAPER_COLUMNS = (
    ("act_gen", "Activation – generated", "S_pos", "held-out generated images"),
    ("act_meas", "Activation – measured", "S_pos", "held-out measured images"),
    ("causal_gen", "Semantic causality – generated", "S_neg", "held-out generated images"),
    ("causal_meas", "Semantic causality – measured", "S_neg", "held-out measured images"),
    ("edits", "Counterfactual causality (edits)", "S_edit", "held-out generated edits"),
)
SPLITS = (("train_generated", "TRAIN, generated (selection split: not a test)"),
          ("eval_generated", "EVAL, generated (held out)"),
          ("eval_measured", "EVAL, measured (held out)"))
SCORES = ("s_pos", "s_neg", "s_edit", "s_causal")
VERDICT_STYLE = {"discovery": "good", "rejected": "bad", "needs follow-up": "warn",
                 "inconclusive": "neutral"}
CSP_BASE = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            "base-uri 'none'; form-action 'none'")


# --------------------------------------------------------------------------- formatting


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt_num(x: Any, digits: int = 3, signed: bool = True) -> str:
    """A score for a table cell: ``+0.600``; ``n/a`` for None/NaN."""
    if not _is_num(x):
        return "n/a"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def fmt_p(x: Any) -> str:
    """A p-value: three decimals, or ``< 0.001``; ``n/a`` for None."""
    if not _is_num(x):
        return "n/a"
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def fmt_pct(x: Any) -> str:
    return f"{100 * x:.0f}%" if _is_num(x) else "n/a"


def fmt_value(x: Any) -> str:
    """Any scalar of a summary table (numbers rounded, lists joined)."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.4g}" if math.isfinite(x) else "n/a"
    if x is None:
        return "—"
    if isinstance(x, (list, tuple)):
        return ", ".join(fmt_value(v) for v in x)
    if isinstance(x, Mapping):
        return "; ".join(f"{k}: {fmt_value(v)}" for k, v in x.items())
    return str(x)


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("braincause.report", "templates"),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(num=fmt_num, p=fmt_p, pct=fmt_pct, value=fmt_value)
    return env


# --------------------------------------------------------------------------- context


def _get(d: Any, *keys: str, default: Any = None) -> Any:
    for k in keys:
        if not isinstance(d, Mapping) or k not in d:
            return default
        d = d[k]
    return d


def _score_cell(block: Any, score: str) -> dict[str, Any] | None:
    """A score of one split: value with CI (EVAL) or a point value (TRAIN)."""
    if not isinstance(block, Mapping) or score not in block or block[score] is None:
        return None
    s = block[score]
    if isinstance(s, Mapping):
        return {"value": s.get("value"), "lo": s.get("ci_low"), "hi": s.get("ci_high"),
                "lower": s.get("lower_one_sided"), "n": s.get("n")}
    return {"value": s, "lo": None, "hi": None, "lower": None, "n": None}


def _scores_table(res: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for split, label in SPLITS:
        for score in SCORES:
            c = _score_cell(_get(res, "region", "scores", split), score)
            a = _score_cell(_get(res, "activation_region", "scores", split), score)
            if c is None and a is None:
                continue
            rows.append({"split": label, "score": score.replace("s_", "S_"),
                         "causal": c, "activation": a})
    return rows


def _criteria(res: Mapping[str, Any], alpha: float) -> list[dict[str, Any]]:
    verdict_crit = _get(res, "verdict", "criteria", default={}) or {}
    rows = []
    for key, label, score, data in PAPER_COLUMNS:
        cells = {}
        for region in ("causal", "activation"):
            e = _get(res, "p_values", region, key)
            if not isinstance(e, Mapping):
                cells[region] = None
                continue
            p = e.get("p")
            cells[region] = {"value": e.get("value"), "lower": e.get("lower_one_sided"),
                             "p": p, "n": e.get("n_baselines"),
                             "significant": _is_num(p) and p <= alpha}
        v = verdict_crit.get(key, {}) if isinstance(verdict_crit, Mapping) else {}
        rows.append({"key": key, "label": label, "score": score, "data": data, **cells,
                     "passes": v.get("passes"), "ci_required": v.get("ci_required")})
    return rows


def _coverage(res: Mapping[str, Any]) -> dict[str, Any]:
    cov = res.get("coverage") or {}
    splits = [(k, lab) for k, lab in (("eval", "EVAL (held out)"), ("train", "TRAIN"),
                                      ("pool", "whole pool")) if isinstance(cov.get(k), Mapping)]
    counters: list[str] = []
    for k, _ in splits:
        for name in cov[k].get("negatives_per_counter", {}) or {}:
            if name not in counters:
                counters.append(name)
    info = {}
    for c in _get(res, "stimuli", "counter_concepts", default=[]) or []:
        if isinstance(c, Mapping):
            info[str(c.get("label") or c.get("name"))] = c
    missing = set(cov.get("missing_counter_concepts") or [])
    rows = [{"name": n, "source": _get(info, n, "source", default=""),
             "reason": _get(info, n, "reason", default=""), "missing": n in missing,
             "counts": [_get(cov, k, "negatives_per_counter", n) for k, _ in splits],
             "fractions": [_get(cov, k, "negatives_fraction_per_counter", n) for k, _ in splits]}
            for n in counters]
    positives = [{"label": lab, "n": _get(cov, k, "positives"),
                  "fraction": _get(cov, k, "positives_fraction")} for k, lab in splits]
    return {"level": cov.get("level"), "splits": [lab for _, lab in splits],
            "positives": positives, "counters": rows, "missing": sorted(missing)}


def _retention(res: Mapping[str, Any]) -> list[dict[str, Any]]:
    ret = _get(res, "stimuli", "retention", default={}) or {}
    rows = []
    for key, v in ret.items():
        if key == "per_counter_concept" or not isinstance(v, Mapping):
            continue
        role, _, split = key.partition("_")
        rows.append({"role": role, "split": split.upper(), "planned": v.get("planned"),
                     "generated": v.get("generated"), "kept": v.get("kept")})
    return rows


def _ground_truth(res: Mapping[str, Any]) -> dict[str, Any] | None:
    gt = res.get("ground_truth")
    if not isinstance(gt, Mapping):
        return None
    regions = []
    for key, label in (("causal", "causal region"), ("activation", "activation-only region")):
        g = gt.get(key)
        if not isinstance(g, Mapping):
            continue
        inside = sorted(((a, f) for a, f in (g.get("inside") or {}).items() if _is_num(f)
                         and f > 0), key=lambda t: -t[1])
        regions.append({"label": label, "precision": g.get("precision"),
                        "recall": g.get("recall"), "dice": g.get("dice"),
                        "inside_planted": g.get("inside_planted"),
                        "inside_decoys": g.get("inside_decoys"), "inside": inside[:6]})
    return {"definition": gt.get("definition", ""), "n_true": gt.get("n_true_voxels"),
            "regions": regions}


def _followup(run: ReportRun) -> dict[str, Any] | None:
    if run.followup is None:
        return None
    summary = run.followup.get("summary") or {}
    rows = [(str(k), v) for k, v in summary.items()]
    warnings = run.followup.get("warnings") or []
    warnings = [str(w) for w in warnings] if isinstance(warnings, list) else [str(warnings)]
    return {"rows": rows, "warnings": warnings,
            "protocol": (run.path / "followup" / "protocol.md").is_file()}


def _interactive(run: ReportRun, interactive: bool | None, say: Progress
                 ) -> tuple[Any, str]:
    """(view or None, why it is missing)."""
    from braincause.report.interactive import (
        INSTALL_HINT,
        interactive_available,
        interactive_view,
    )

    if interactive is False:
        return None, "The interactive 3-D view was turned off for this report."
    if not interactive_available():
        if interactive:
            raise BackendUnavailable(f"interactive=True needs plotly for nilearn's 3-D view: "
                                     f"{INSTALL_HINT}")
        return None, (f"The interactive 3-D view was skipped: it needs the plotly package "
                      f"(`{INSTALL_HINT}`), then rebuild the report.")
    say("building the interactive 3-D view")
    m = run.maps
    try:
        return interactive_view(m["vertex"], m["hemi"], m["s_causal"]), ""
    except BackendUnavailable as e:
        if interactive:
            raise
        return None, f"The interactive 3-D view was skipped: {e}."


def _context(run: RunFolder, *, interactive: bool | None, say: Progress) -> dict[str, Any]:
    from braincause.report.figures import surface_maps
    from braincause.report.galleries import select_galleries

    res = run.result
    alpha = _get(res, "verdict", "cutoffs", "alpha", default=None)
    if not _is_num(alpha):
        alpha = _get(res, "config", "stats", "alpha", default=0.05)
    verdict = res["verdict"] if isinstance(res["verdict"], Mapping) else {"verdict": "?"}
    say("stimulus galleries")
    galleries = select_galleries(run)  # first: a missing image fails before the slow maps
    maps = surface_maps(run, progress=say)
    view, view_note = _interactive(run, interactive, say)
    csp = CSP_BASE + "; script-src " + (
        " ".join(view.script_hashes) + " 'unsafe-eval'" if view is not None else "'none'")
    cutoffs = {k: v for k, v in (_get(res, "verdict", "cutoffs", default={}) or {}).items()}
    return {
        "csp": csp,
        "res": res,
        "query": str(res.get("query", "")),
        "concept": res.get("concept") if isinstance(res.get("concept"), Mapping) else {},
        "subject": res.get("subject") if isinstance(res.get("subject"), Mapping) else {},
        "verdict": verdict,
        "verdict_style": VERDICT_STYLE.get(str(verdict.get("verdict")), "neutral"),
        "activation_verdict": res.get("activation_verdict"),
        "alpha": alpha,
        "cutoffs": cutoffs,
        "criteria": _criteria(res, alpha),
        "n_baselines": len(_get(res, "p_values", "baseline_concepts", default=[]) or []),
        "scores": _scores_table(res),
        "voxelwise": {k: v for k, v in (res.get("voxelwise") or {}).items()
                      if isinstance(v, Mapping)},
        "voxelwise_units": _get(res, "voxelwise", "units", default=""),
        "coverage": _coverage(res),
        "retention": _retention(res),
        "ground_truth": _ground_truth(res),
        "maps": maps,
        "view": view,
        "view_note": view_note,
        "galleries": galleries,
        "followup": _followup(run),
        "outlined": run.has_areas,
        "generated_at": time.strftime("%Y-%m-%d %H:%M"),
    }


# --------------------------------------------------------------------------- API


def build_report_html(run_dir: Any, *, interactive: bool | None = None,
                      progress: Progress | None = None) -> str:
    """The report of a localize run folder, as an HTML string.

    Parameters
    ----------
    run_dir : path or braincause.runfolder.RunFolder
        The ``--out`` folder of ``braincause localize`` (``result.json``, ``maps.npz``,
        ``stimuli/``, optionally ``followup/``), or the folder a localize run just wrote
        (used in memory, nothing read back).
    interactive : bool or None
        Include the interactive 3-D view (nilearn ``view_surf``). None (default): when
        plotly is installed. True without plotly raises
        :class:`~braincause.exceptions.BackendUnavailable`.
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    str
        A complete, self-contained HTML document.

    Raises
    ------
    UserInputError
        A missing or damaged file in ``run_dir`` (the message names it).
    """
    if interactive not in (None, True, False):
        raise UserInputError(f"interactive must be True, False or None, got {interactive!r}")
    say = progress or (lambda _msg: None)
    say(f"reading {run_dir.path if isinstance(run_dir, RunFolder) else run_dir}")
    run = load_run(run_dir)
    ctx = _context(run, interactive=interactive, say=say)
    say("rendering the page")
    return _environment().get_template("report.html.j2").render(**ctx)


def write_report(run_dir: Any, *, interactive: bool | None = None,
                 progress: Progress | None = None) -> Path:
    """Write ``run_dir/report.html``, one self-contained page (atomic write).

    Parameters
    ----------
    run_dir : path or braincause.runfolder.RunFolder
        The run folder, on disk or in memory (as for :func:`build_report_html`).
        The ``--out`` folder of ``braincause localize``.
    interactive : bool or None
        See :func:`build_report_html`.
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    Path
        The written ``report.html``.
    """
    from braincause.utils import atomic_write_bytes

    page = build_report_html(run_dir, interactive=interactive, progress=progress)
    root = run_dir.path if isinstance(run_dir, RunFolder) else Path(run_dir)
    return atomic_write_bytes(root / "report.html", page.encode("utf-8"))
