"""``index.html``: the one page of a sweep.

Self-contained (every figure a ``data:`` URI, the style sheet inline, a
Content-Security-Policy that forbids every network load and allows only the page's
own sorting script, by hash): a sortable row per concept × subject (verdict, q-value,
selectivity label, region size, a thumbnail of its S_causal map, the link to its
report), then the cross-subject consistency table with each concept's group map.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["build_page", "write_page"]

SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute('data-dir') !== 'up';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
      th.setAttribute('data-dir', up ? 'up' : 'down');
      function key(r) {
        var c = r.cells[col]; var v = c.getAttribute('data-v');
        if (v === null) { v = c.textContent; }
        var n = parseFloat(v);
        return isNaN(n) ? v.toLowerCase() : n;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { x = String(x); y = String(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'; script-src 'sha256-"
       + base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode() + "'")



def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class _Flat:
    """Flat-map coordinates of the maps' vertices (both hemispheres side by side)."""

    def __init__(self) -> None:
        self._xy: dict[bytes, np.ndarray] = {}

    def xy(self, vertex: np.ndarray, hemi: np.ndarray) -> np.ndarray:
        key = vertex.tobytes() + hemi.tobytes()
        if key not in self._xy:
            from braincause.synth.cortex import cortex_for

            c = cortex_for(vertex, hemi)
            xy = c.flat.astype(float).copy()
            for h, sign in ((0, -1.0), (1, 1.0)):  # left on the left, poles facing
                sel = c.hemi == h
                if sel.any():
                    x = xy[sel, 0]
                    xy[sel, 0] = (x - x.max() - 5) if sign < 0 else (x - x.min() + 5)
            self._xy[key] = xy
        return self._xy[key]


def _figure(width: float, height: float, dpi: int):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def thumbnail(xy: np.ndarray, values: np.ndarray, region: np.ndarray) -> str:
    """A small flat map of ``values`` (diverging colours), the region's voxels in black,
    as a PNG ``data:`` URI."""
    fig, ax = _figure(3.0, 1.2, 50)
    v = np.nan_to_num(np.asarray(values, float))
    lim = float(np.abs(v).max()) or 1.0
    ax.scatter(xy[:, 0], xy[:, 1], c=v, cmap="RdBu_r", vmin=-lim, vmax=lim, s=0.6,
               linewidths=0)
    if region.any():
        ax.scatter(xy[region, 0], xy[region, 1], c="k", s=0.6, linewidths=0)
    return _png(fig)


def group_figure(xy: np.ndarray, fraction: np.ndarray, title: str) -> str:
    """The group map (fraction of subjects per vertex) on the flat map."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 2.8), dpi=80)
    ax = fig.add_axes((0.0, 0.0, 0.82, 0.9))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.scatter(xy[:, 0], xy[:, 1], c="#e6e6e6", s=1.2, linewidths=0)
    on = fraction > 0
    sc = ax.scatter(xy[on, 0], xy[on, 1], c=fraction[on], cmap="viridis", vmin=0, vmax=1,
                    s=1.6, linewidths=0)
    cax = fig.add_axes((0.84, 0.1, 0.025, 0.7))
    fig.colorbar(sc, cax=cax).set_label("fraction of subjects", fontsize=8)
    cax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=9)
    return _png(fig)


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "" if x is None else format(x, spec)


def build_page(root: Path, doc: Mapping[str, Any]) -> str:
    """The page's HTML.

    Parameters
    ----------
    root : Path
        The sweep folder (run folders and group maps are read from it).
    doc : dict
        sweep.json's document.

    Returns
    -------
    str
    """
    import jinja2

    flat = _Flat()
    rows = []
    for r in doc["tasks"]:
        r = dict(r)
        if r["status"] == "done":
            with np.load(root / r["folder"] / "maps.npz", allow_pickle=False) as z:
                xy = flat.xy(z["vertex"], z["hemi"])
                r["thumb"] = thumbnail(xy, z["s_causal"], z["region"].astype(bool))
        rows.append(r)
    cons = doc.get("consistency") or {}
    cons_rows, groups = [], []
    for q, c in (cons.get("concepts") or {}).items():
        for p in c["pairs"]:
            d, cr = p["dice"], p["correlation"]
            cons_rows.append({"query": q, "pair": " – ".join(p["subjects"]),
                              "dice": d["statistic"], "dice_s": _fmt(d["statistic"]),
                              "dice_p": d.get("p"), "dice_p_s": _fmt(d.get("p"), ".3g"),
                              "r": cr["statistic"], "r_s": _fmt(cr["statistic"]),
                              "r_p": cr.get("p"), "r_p_s": _fmt(cr.get("p"), ".3g")})
        with np.load(root / c["group_map"]["file"], allow_pickle=False) as z:
            xy = flat.xy(z["vertex"], z["hemi"])
            groups.append({"query": q, "n": len(c["subjects"]),
                           "src": group_figure(xy, z["fraction"].astype(float),
                                               f"{q}: {', '.join(c['subjects'])}")})
    env = jinja2.Environment(loader=jinja2.PackageLoader("braincause.sweeps", "templates"),
                             autoescape=True)
    return env.get_template("index.html.j2").render(
        csp=CSP, doc=doc, rows=rows, cons_rows=cons_rows, groups=groups,
        n_done=sum(r["status"] == "done" for r in rows),
        n_failed=sum(r["status"] == "failed" for r in rows),
        has_gt=any(r.get("ground_truth") for r in rows), script=SORT_SCRIPT)


def write_page(root: str | Path, doc: Mapping[str, Any]) -> Path:
    """Write ``root/index.html`` (atomically).

    Parameters
    ----------
    root : path
    doc : dict
        sweep.json's document.

    Returns
    -------
    Path
    """
    from braincause.utils import atomic_write_bytes

    root = Path(root)
    return atomic_write_bytes(root / "index.html", build_page(root, doc).encode())
