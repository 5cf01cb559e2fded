"""The optional interactive 3-D view: nilearn's ``view_surf`` inside a sandboxed frame.

``view_surf`` writes a standalone page that carries its own copies of jQuery and
plotly.js (from nilearn's package data), so nothing is fetched. nilearn insists on
the plotly *Python* package for this engine although it does not use it here, so
the view is offered only when plotly is importable. Two things in that page are
changed before it is embedded: the favicon link to GitHub is dropped (it would be
a network request), and the page's inline scripts are listed by SHA-256 hash so
the report's Content-Security-Policy can allow exactly them and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from dataclasses import dataclass

import numpy as np

from braincause.exceptions import BackendUnavailable

__all__ = ["InteractiveView", "interactive_available", "interactive_view"]

INSTALL_HINT = "pip install plotly"
_GAP_MM = 4.0  # between the two inflated hemispheres
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S | re.I)
_LINK = re.compile(r"<link\b[^>]*>", re.I)
_URL_ATTR = re.compile(r"""\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""",
                       re.I)


@dataclass(frozen=True)
class InteractiveView:
    """A standalone HTML page and the CSP hashes of its inline scripts.

    Attributes
    ----------
    html : str
        The page (plotly inlined: it loads nothing from the network).
    script_hashes : tuple of str
        ``'sha256-…'`` of each inline ``<script>``, for the report's
        Content-Security-Policy.
    """

    html: str
    script_hashes: tuple[str, ...]


def interactive_available() -> bool:
    """Whether nilearn's plotly engine can run (the plotly package is importable).

    Returns
    -------
    bool
    """
    return importlib.util.find_spec("plotly") is not None


def _script_hashes(page: str) -> tuple[str, ...]:
    return tuple("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
                 + "'" for s in _SCRIPT.findall(page))


def interactive_view(vertex: np.ndarray, hemi: np.ndarray, values: np.ndarray,
                     ) -> InteractiveView:
    """S_causal on both inflated fsaverage5 hemispheres, as an interactive page.

    Parameters
    ----------
    vertex : ndarray of shape (n_voxels,), int
        fsaverage5 vertex of each voxel.
    hemi : ndarray of shape (n_voxels,), int
        Hemisphere of each voxel (0 left, 1 right).
    values : ndarray of shape (n_voxels,), float
        The map; vertices off the simulated cortex are shown as background.

    Returns
    -------
    InteractiveView

    Raises
    ------
    BackendUnavailable
        When plotly is not installed.
    """
    if not interactive_available():
        raise BackendUnavailable(f"the interactive 3-D view needs plotly: {INSTALL_HINT}")
    from nilearn import plotting

    from braincause.synth.cortex import HEMIS, N_FSAVERAGE5, fsaverage5_files

    fs, sulc, _ = fsaverage5_files()
    v = np.asarray(values, float)
    coords, faces, data, bg = [], [], [], []
    for h, name in enumerate(HEMIS):
        mesh = fs["inflated"].parts[name]
        c = np.asarray(mesh.coordinates, float).copy()
        # side by side, medial walls facing, like a brain seen from behind
        c[:, 0] += -c[:, 0].max() - _GAP_MM / 2 if name == "left" else -c[:, 0].min() + _GAP_MM / 2
        full = np.zeros(N_FSAVERAGE5)
        sel = np.asarray(hemi) == h
        full[np.asarray(vertex)[sel]] = np.nan_to_num(v[sel], nan=0.0)
        faces.append(np.asarray(mesh.faces) + h * N_FSAVERAGE5)
        coords.append(c)
        data.append(full)
        bg.append(np.asarray(sulc[name], float))
    vmax = float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 1.0
    view = plotting.view_surf(
        (np.concatenate(coords), np.concatenate(faces)), np.concatenate(data),
        bg_map=np.concatenate(bg), threshold=1e-6 * vmax, cmap="cold_hot",
        symmetric_cmap=True, vmax=vmax or 1.0, colorbar=True, colorbar_fontsize=14,
        title=None, view="back")
    page = _LINK.sub("", view.get_standalone())
    if _URL_ATTR.search(_SCRIPT.sub("", page)):  # a newer nilearn added an external resource
        raise BackendUnavailable("nilearn's view_surf page refers to an external resource; "
                                 "the report cannot embed it offline (pass interactive=False)")
    return InteractiveView(page, _script_hashes(page))
