"""What does a region answer to? ``braincause explain`` and :func:`braincause.explain`
(issue 18, first part: dissection and facets on measured data).

A region (a ``localize`` run's causal region, or a region file over the subject's voxels)
is explained on the subject's *measured* images, by the region's measured response (the
mean over its voxels of each image's measured beta, per-voxel z-scores):

* **dissection** (network dissection's alignment of a unit with labelled concepts): every
  vocabulary concept, every category of the synthetic world and each attribute cue of its
  categories (round, dishware, sign shape, texture) is ranked by its effect, the mean
  region response of the images showing it minus that of the images not showing it, with
  a seeded percentile-bootstrap confidence interval (each group resampled with
  replacement, independently). Presence is read from the images' scene records (the
  concept's own ``present`` test, the scene's categories), as the oracle verifier does.
* **facets** (multifaceted feature visualization, Nguyen et al. 2016): the region's
  top-driving measured images are clustered in backbone-feature space (k-means; the
  number of facets chosen by silhouette over 2–5, or given). Per facet: its top images
  (thumbnails), its caption keywords (words over-represented in its images' captions
  compared with every image's captions) and its categories.

Activation alone does not say whether a region represents a concept or a cue that
co-occurs with it: the dissection's top entries are hypotheses to test causally
(``braincause localize``), not verdicts. Not done yet: synthesized preferred images, the
generator-prior search and the hypothesis loop (docs/explain.md).

Only synthetic subjects are explained today (their scene records give presence); NSD
subjects are refused with a clear message.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from braincause.exceptions import UserInputError

__all__ = ["Explanation", "bootstrap_difference_ci", "explain", "read_roi", "region_of_run"]

Progress = Callable[[str], None]
#: candidate numbers of facets (silhouette picks one)
FACET_RANGE = (2, 3, 4, 5)
#: attribute cues of the synthetic world's categories (synth.features.ATTRIBUTE_CUES)
ATTRIBUTES = ("round", "dishware", "sign_shape", "texture")
_STOP = frozenset(
    "a an the of with and or in on at to by near two three four some is are it its his her "
    "their from for as into onto over under one".split())


# ---------------------------------------------------------------- statistics
def bootstrap_difference_ci(a: np.ndarray, b: np.ndarray, *, n_resamples: int = 1000,
                            confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of ``mean(a) - mean(b)``.

    Each sample is resampled with replacement, independently (as
    ``scipy.stats.bootstrap`` does for two samples with ``method="percentile"``).

    Parameters
    ----------
    a : ndarray of shape (n_a,)
        The first sample (at least 2 values).
    b : ndarray of shape (n_b,)
        The second sample (at least 2 values).
    n_resamples : int
    confidence : float
        In (0, 1).
    seed : int

    Returns
    -------
    (float, float)
        Lower and upper bounds.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each sample needs at least 2 values")
    rng = np.random.default_rng(seed)
    ma = a[rng.integers(0, len(a), (n_resamples, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), (n_resamples, len(b)))].mean(axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(ma - mb, [alpha, 1 - alpha])
    return float(lo), float(hi)


# ---------------------------------------------------------------- regions
def region_of_run(run_dir: str | Path) -> tuple[str, np.ndarray, dict[str, Any]]:
    """The subject and causal region of a ``localize`` run folder.

    Parameters
    ----------
    run_dir : path

    Returns
    -------
    (str, ndarray of int, dict)
        Subject id, the causal region's voxel indices, and ``{"concept", "n_voxels"}``.

    Raises
    ------
    UserInputError
        Not a run folder.
    """
    from braincause.runfolder import read_run

    try:
        res = read_run(run_dir, maps=False).result
    except UserInputError:
        raise
    except (OSError, ValueError, KeyError) as e:
        raise UserInputError(f"RUN_DIR {str(run_dir)!r} is not a localize run folder ({e})") \
            from e
    return (str(res["subject"]["id"]), np.asarray(res["region"]["voxels"], int),
            {"concept": res["concept"]["name"], "n_voxels": res["subject"].get("n_voxels")})


def read_roi(path: str | Path, n_voxels: int, vertex: np.ndarray | None = None,
             hemi: np.ndarray | None = None) -> np.ndarray:
    """A region file as a boolean mask over the subject's voxels.

    Parameters
    ----------
    path : path
        ``.npy``: a boolean (or 0/1) array of length ``n_voxels``; ``.label.gii`` (or
        ``.func.gii``): a GIFTI map of one hemisphere (``lh.`` or ``rh.`` prefix, e.g. a
        localize run's ``surface/lh.region.label.gii``), non-zero vertices in the region,
        its other hemisphere's sibling file read too when it exists; anything else: a TSV
        with a ``voxel`` column (all its regions together) or text of voxel indices.
    n_voxels : int
    vertex, hemi : ndarray of shape (n_voxels,), int, optional
        Each voxel's mesh vertex and hemisphere (needed for GIFTI files).

    Returns
    -------
    ndarray of shape (n_voxels,), bool

    Raises
    ------
    UserInputError
        Missing or malformed file, wrong length, an empty region.
    """
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"--roi {str(p)!r} is not a file: pass a boolean .npy over the "
                             "subject's voxels, a TSV of voxel indices or a GIFTI .label.gii")
    name = p.name.lower()
    if name.endswith(".npy"):
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UserInputError(f"--roi {str(p)!r} is not a readable .npy ({e})") from e
        if arr.ndim != 1 or len(arr) != n_voxels:
            raise UserInputError(f"--roi {str(p)!r} has shape {arr.shape}; a .npy region is a "
                                 f"boolean array of the subject's {n_voxels} voxels")
        if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
            raise UserInputError(f"--roi {str(p)!r} must hold booleans (or 0/1), got "
                                 f"{arr.dtype} values")
        mask = arr.astype(bool)
    elif name.endswith(".gii"):
        mask = _read_gifti_roi(p, n_voxels, vertex, hemi)
    else:
        from braincause.prediction import read_region_file

        mask = np.any(list(read_region_file(p, n_voxels).values()), axis=0)
    if not mask.any():
        raise UserInputError(f"--roi {str(p)!r} selects no voxel of the subject")
    return mask


def _read_gifti_roi(p: Path, n_voxels: int, vertex, hemi) -> np.ndarray:
    from braincause.surfacefiles import HEMI_NAMES, read_surface_map

    prefix = p.name[:3]
    if prefix not in ("lh.", "rh."):
        raise UserInputError(f"--roi {str(p)!r}: a GIFTI region's name starts with lh. or rh. "
                             "(its hemisphere), e.g. surface/lh.region.label.gii")
    if vertex is None or hemi is None:
        raise UserInputError(f"--roi {str(p)!r}: this subject has no surface mapping")
    mask = np.zeros(n_voxels, bool)
    for h, hn in enumerate(HEMI_NAMES):
        f = p if prefix == f"{hn}." else p.with_name(f"{hn}." + p.name[3:])
        if not f.is_file():
            continue
        try:
            data = np.asarray(read_surface_map(f))
        except Exception as e:  # nibabel raises many kinds on a malformed file
            raise UserInputError(f"--roi {str(f)!r} is not a readable GIFTI file ({e})") from e
        sel = np.asarray(hemi) == h
        v = np.asarray(vertex)[sel]
        if v.size and v.max() >= len(data):
            raise UserInputError(f"--roi {str(f)!r} has {len(data)} vertices; the subject's "
                                 f"voxels lie on a mesh with more (vertex {v.max()})")
        vals = data[v]
        mask[np.flatnonzero(sel)] = np.nan_to_num(vals, nan=0) != 0
    return mask


# ---------------------------------------------------------------- result
@dataclass
class Explanation:
    """What a region answers to, on a subject's measured images.

    Attributes
    ----------
    subject : str
    region : ndarray of shape (n_voxels,), bool
    response : ndarray of shape (n_images,)
        The region's measured response to each measured image.
    dissection : list of dict
        Ranked by effect: ``name``, ``kind`` (concept, category, attribute), ``effect``,
        ``ci`` ([lo, hi]), ``n_images`` (showing it), ``n_other``.
    facets : list of dict
        Per facet: ``images`` (indices, best first), ``mean_response``, ``keywords``,
        ``categories``, ``synthesized`` (predicted response and percentile).
    info : dict
        What ``explain.json`` records besides.
    synthesized : list of ndarray
        One synthesized preferred image per facet (uint8 RGB), if synthesis ran.
    """

    subject: str
    region: np.ndarray = field(repr=False)
    response: np.ndarray = field(repr=False)
    dissection: list[dict[str, Any]]
    facets: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)
    synthesized: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``explain.json``.

        Returns
        -------
        dict
        """
        return {**self.info, "dissection": self.dissection, "facets": self.facets}


# ---------------------------------------------------------------- dissection
def _labels(subj) -> dict[tuple[str, str], np.ndarray]:
    """Presence of every concept, category and attribute cue in each measured image."""
    from braincause.synth.categories import CATEGORIES
    from braincause.synth.concepts import CONCEPTS

    scenes = [subj.scene(i) for i in range(subj.n_images)]
    cats = [s.categories() for s in scenes]
    out: dict[tuple[str, str], np.ndarray] = {}
    for name, c in CONCEPTS.items():
        out[("concept", name)] = np.array([bool(c.present(s)) for s in scenes])
    for name in sorted(CATEGORIES):
        if ("concept", name) not in out:
            out[("category", name)] = np.array([name in cs for cs in cats])
    for a in ATTRIBUTES:
        members = {c for c, cat in CATEGORIES.items() if a in cat.attributes}
        out[("attribute", a)] = np.array([bool(members & set(cs)) for cs in cats])
    return out


def dissect(response: np.ndarray, labels: dict[tuple[str, str], np.ndarray], *,
            n_resamples: int = 1000, min_images: int = 5, seed: int = 0) -> list[dict]:
    """Rank labels by the region's mean response with minus without them.

    Parameters
    ----------
    response : ndarray of shape (n_images,)
    labels : dict of (kind, name) to ndarray of shape (n_images,), bool
    n_resamples : int
    min_images : int
        Labels shown in fewer images (or absent from fewer) are left out.
    seed : int

    Returns
    -------
    list of dict
        Sorted by effect, largest first.
    """
    rows = []
    for k, ((kind, name), m) in enumerate(sorted(labels.items())):
        n = int(m.sum())
        if n < min_images or len(m) - n < min_images:
            continue
        a, b = response[m], response[~m]
        lo, hi = bootstrap_difference_ci(a, b, n_resamples=n_resamples, seed=seed + k)
        rows.append({"name": name, "kind": kind, "effect": round(float(a.mean() - b.mean()), 6),
                     "ci": [round(lo, 6), round(hi, 6)], "n_images": n,
                     "n_other": int(len(m) - n)})
    rows.sort(key=lambda r: (-r["effect"], r["name"]))
    for i, r in enumerate(rows):
        r["rank"] = i + 1
    return rows


# ---------------------------------------------------------------- facets
def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP and len(w) > 2]


def _keywords(facet_caps: list[str], all_counts: Counter, n_all: int, top: int = 6) -> list:
    fc = Counter(w for c in facet_caps for w in set(_words(c)))
    n_f = max(1, len(facet_caps))
    scored = []
    for w, k in fc.items():
        if k < 2:
            continue
        ratio = (k / n_f) / ((all_counts[w] + 1) / (n_all + 1))
        scored.append((-ratio, w, k))
    scored.sort()
    return [{"word": w, "facet_fraction": round(k / n_f, 4),
             "all_fraction": round(all_counts[w] / max(1, n_all), 4)}
            for _r, w, k in scored[:top]]


def facets(feats: np.ndarray, *, k: int | None = None, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Cluster feature rows into facets (k-means on standardised features).

    Parameters
    ----------
    feats : ndarray of shape (n, d)
    k : int, optional
        The number of facets; by default the best silhouette over :data:`FACET_RANGE`.
    seed : int

    Returns
    -------
    (ndarray of shape (n,), int, dict)
        Each row's facet and ``{"k", "silhouette"}`` (silhouette per candidate k).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = np.asarray(feats, np.float64)
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    cands = [k] if k is not None else [c for c in FACET_RANGE if c < len(x)]
    best, sil = None, {}
    for c in cands:
        lab = KMeans(c, n_init=10, random_state=seed).fit_predict(x)
        s = float(silhouette_score(x, lab)) if len(set(lab)) > 1 else -1.0
        sil[str(c)] = round(s, 4)
        if best is None or s > best[0]:
            best = (s, c, lab)
    return best[2], {"k": best[1], "silhouette": sil}


# ---------------------------------------------------------------- entry point
def explain(region: str | Path | None = None, *, roi: str | Path | None = None,
            subject: str | None = None, out: str | Path | None = None,
            n_facets: int | None = None, n_top: int = 60, n_resamples: int = 1000,
            seed: int = 0, synthesis: bool = True, synthesis_steps: int = 30,
            use_cache: bool = True, progress: Progress | None = None) -> Explanation:
    """Explain a region of a synthetic subject on its measured images.

    Parameters
    ----------
    region : path, optional
        A ``localize`` run folder: its causal region, in its subject.
    roi : path, optional
        Instead, a region file (:func:`read_roi`) of ``subject``.
    subject : str, optional
        Needed with ``roi``; with ``region`` it must match the run's.
    out : path, optional
        Write ``explain.json``, ``dissection.png`` and ``facets/`` thumbnails there.
    n_facets : int, optional
        The number of facets (default: chosen by silhouette).
    n_top : int
        The region's top-driving measured images that are clustered into facets.
    n_resamples : int
        Bootstrap resamples per CI.
    seed : int
    synthesis : bool
        Synthesize a preferred image per facet (:func:`synthesize`) through the subject's
        fitted encoder (cached, shared with ``localize``; fitted on first use).
    synthesis_steps : int
        Gradient steps per synthesized image.
    use_cache : bool
        Read and write the backbone's feature and encoder caches.
    progress : callable, optional

    Returns
    -------
    Explanation

    Raises
    ------
    UserInputError
        Neither or both of ``region`` and ``roi``, an unknown or NSD subject, a run of
        another subject, a bad region file, bad numbers — before the long work.
    """
    say = progress or (lambda _m: None)
    if (region is None) == (roi is None):
        raise UserInputError("explain needs a region: a localize RUN_DIR, or --roi FILE with "
                             "--subject ID (not both)")
    if n_facets is not None and not (isinstance(n_facets, int) and 1 <= n_facets <= 12):
        raise UserInputError(f"--facets must be an integer in 1..12, got {n_facets!r}")
    if not (isinstance(n_top, int) and n_top >= 10):
        raise UserInputError(f"n_top must be an integer of at least 10, got {n_top!r}")
    if n_facets is not None and n_facets > n_top:
        raise UserInputError(f"--facets {n_facets} exceeds the {n_top} top images clustered")
    if not (isinstance(n_resamples, int) and n_resamples >= 100):
        raise UserInputError(f"n_resamples must be an integer of at least 100, got "
                             f"{n_resamples!r}")
    run_info: dict[str, Any] = {}
    if region is not None:
        sid, voxels, run_info = region_of_run(region)
        if subject is not None and str(subject) != sid:
            raise UserInputError(f"RUN_DIR {str(region)!r} is a run of {sid}, not of {subject}")
        subject = sid
    if subject is None:
        raise UserInputError("--roi needs --subject ID (the subject whose voxels it indexes)")
    from braincause.synth.subject import subject_seed

    try:
        subject_seed(str(subject))
    except UserInputError as e:
        raise UserInputError(f"explain works on synthetic subjects today: {e}") from e
    from braincause.datasets.synthetic import load_subject

    say(f"subject {subject}")
    subj = load_subject(str(subject))
    n = subj.n_voxels
    if region is not None:
        if run_info.get("n_voxels") not in (None, n) or (len(voxels) and voxels.max() >= n):
            raise UserInputError(f"RUN_DIR {str(region)!r} does not match {subject}'s {n} voxels")
        mask = np.zeros(n, bool)
        mask[voxels] = True
        if not mask.any():
            raise UserInputError(f"RUN_DIR {str(region)!r} has an empty causal region: "
                                 "nothing to explain")
    else:
        cx = subj.cortex
        mask = read_roi(roi, n, cx.vertex, cx.hemi)
    outdir = Path(out) if out is not None else None
    if outdir is not None and outdir.exists() and not outdir.is_dir():
        raise UserInputError(f"--out {str(outdir)!r} exists and is not a folder")

    response = np.asarray(subj.responses, np.float64)[:, mask].mean(axis=1)
    say("dissection")
    labels = _labels(subj)
    rows = dissect(response, labels, n_resamples=n_resamples, seed=seed)

    say("facets")
    order = np.argsort(-response, kind="stable")[:min(n_top, subj.n_images)]
    from braincause.backends import BuildContext
    from braincause.config import LocalizeConfig

    backbone = BuildContext(LocalizeConfig(), use_cache).backbone()
    imgs = [subj.image(int(i)) for i in order]
    feats = np.asarray(backbone.features(imgs))
    lab, choice = facets(feats, k=n_facets, seed=seed)
    caps = [subj.captions(i) for i in range(subj.n_images)]
    all_counts = Counter(w for cs in caps for c in cs for w in set(_words(c)))
    n_caps = sum(len(cs) for cs in caps)
    fac = []
    for f in range(int(lab.max()) + 1):
        idx = order[lab == f]  # already best first
        fcaps = [c for i in idx for c in caps[i]]
        cat_counts = Counter(c for i in idx for c in subj.scene(int(i)).categories())
        fac.append({"facet": f, "n_images": len(idx), "images": [int(i) for i in idx],
                    "mean_response": round(float(response[idx].mean()), 6),
                    "keywords": _keywords(fcaps, all_counts, n_caps),
                    "categories": [{"name": c, "fraction": round(k / len(idx), 4)}
                                   for c, k in sorted(cat_counts.items(),
                                                      key=lambda t: (-t[1], t[0]))[:6]]})
    fac.sort(key=lambda d: -d["mean_response"])
    for i, d in enumerate(fac):
        d["facet"] = i
    synth_info, synth_imgs = None, []
    if synthesis:
        synth_info, synth_imgs = _synthesize_facets(subj, backbone, mask, fac, use_cache,
                                                    synthesis_steps, seed, say)

    info = {
        "subject": str(subj.subject_id), "subject_fingerprint": subj.fingerprint(),
        "region": {"source": {"run": str(region) if region is not None else None,
                              "roi": str(roi) if roi is not None else None,
                              **({"concept": run_info["concept"]} if run_info else {})},
                   "n_voxels": int(mask.sum()),
                   "voxels": [int(v) for v in np.flatnonzero(mask)]},
        "response": "the region's measured response to each measured image: the mean of its "
                    "voxels' betas (per-voxel z-scores)",
        "n_images": int(subj.n_images),
        "effect": "mean region response of the images showing the label minus that of the "
                  "images not showing it; presence from the scene records",
        "ci": {"method": "percentile bootstrap, each group resampled independently",
               "confidence": 0.95, "n_resamples": n_resamples, "seed": seed},
        "facet_method": {"images": f"the region's top {len(order)} measured images",
                         "features": repr(backbone), "clustering": "k-means on standardised "
                         "features (10 inits)", **choice,
                         "keywords": "caption words over-represented in the facet's captions "
                                     "against all captions (fraction ratio, words in >= 2 "
                                     "captions)"},
        "synthesis": synth_info,
        "not_done": ["generator-prior search",
                     "hypothesis loop (causal tests of the drivers)",
                     "dissection on predicted responses to generated positives"],
    }
    ex = Explanation(str(subj.subject_id), mask, response, rows, fac, info)
    ex.synthesized = synth_imgs
    if outdir is not None:
        say(f"writing {outdir}")
        write(ex, outdir, subj)
    return ex


def _synthesize_facets(subj, backbone, mask, fac, use_cache, steps, seed, say):
    """One preferred image per facet, its predicted region response and percentile."""
    from braincause.encoding.fit import fit_encoder

    thr = 0.2
    say("encoder (fitted on first use, then cached)")
    fit = fit_encoder(subj, backbone, threshold=thr, use_cache=use_cache, progress=say)
    sel = mask & fit.keep(thr)
    if not sel.any():
        return {"skipped": f"no voxel of the region passes the encoder filter r >= {thr}"}, []
    enc = fit.encoder
    w = np.asarray(enc.coef_[:, sel].mean(axis=1) / np.ravel(enc.x_scale_), np.float64)
    b = float(np.asarray(enc.intercept_)[sel].mean())
    size = int(backbone.image_size)
    say(f"predicted responses of the {subj.n_images} measured images")
    measured = np.asarray(backbone.features([subj.image(i, size) for i in range(subj.n_images)]),
                          np.float64) @ w + b
    imgs = []
    for f in fac:
        start = np.mean([subj.image(i, size) for i in f["images"][:10]], axis=0)
        start = start.round().astype(np.uint8)
        say(f"synthesizing facet {f['facet']}")
        img = synthesize(backbone, w, b, start, steps=steps, seed=seed + f["facet"])
        r_start, r = (float(np.asarray(backbone.features([im]), np.float64)[0] @ w + b)
                      for im in (start, img))
        f["synthesized"] = {"predicted_response": round(r, 6),
                            "start_predicted_response": round(r_start, 6),
                            "percentile": round(float((measured < r).mean() * 100), 3)}
        imgs.append(img)
    for i, f in enumerate(fac):
        others = [np.abs(imgs[i].astype(float) - imgs[j]).mean() for j in range(len(imgs))
                  if j != i]
        f["synthesized"]["min_pixel_distance_to_other_facets"] = (
            round(float(min(others)), 3) if others else None)
    return {"method": "gradient ascent (Adam) on the region's predicted response through the "
                      "backbone and the ridge read-out, from the facet's mean image (its top "
                      "10), with jitter, a 3x3 blur every 4 steps and total variation",
            "steps": steps, "image_size": size, "n_voxels_used": int(sel.sum()),
            "voxel_filter": f"held-out encoder r >= {thr}",
            "percentile_of": "the predicted region responses of the subject's measured "
                             "images", "max_measured_predicted": round(float(measured.max()), 6)
            }, imgs


def write(ex: Explanation, outdir: Path, subj) -> list[Path]:
    """Write ``explain.json``, ``dissection.png`` and facet thumbnails into ``outdir``.

    Parameters
    ----------
    ex : Explanation
    outdir : Path
    subj : SyntheticSubject

    Returns
    -------
    list of Path
    """
    from PIL import Image

    from braincause.utils import atomic_write_bytes

    outdir.mkdir(parents=True, exist_ok=True)
    files = []
    (outdir / "facets").mkdir(exist_ok=True)
    for f in ex.facets:
        thumbs = []
        for i in f["images"][:8]:
            p = outdir / "facets" / f"facet{f['facet']}_image{i}.png"
            Image.fromarray(subj.image(i, 96)).save(p)
            thumbs.append(str(p.relative_to(outdir)))
            files.append(p)
        f["thumbnails"] = thumbs
        if f["facet"] < len(ex.synthesized):
            p = outdir / "facets" / f"facet{f['facet']}_synthesized.png"
            Image.fromarray(ex.synthesized[f["facet"]]).save(p)
            f["synthesized"]["image"] = str(p.relative_to(outdir))
            files.append(p)
    fig = outdir / "dissection.png"
    _plot(ex.dissection[:20], fig, ex.subject)
    files.append(fig)
    ex.info["figures"] = {"dissection": "dissection.png"}
    path = outdir / "explain.json"
    atomic_write_bytes(path, (json.dumps(ex.to_dict(), indent=1) + "\n").encode())
    return [path, *files]


def _plot(rows: list[dict], path: Path, subject: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.3 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    eff = np.array([r["effect"] for r in rows])
    lo = eff - np.array([r["ci"][0] for r in rows])
    hi = np.array([r["ci"][1] for r in rows]) - eff
    ax.barh(y, eff, xerr=[lo, hi], color="#4a7fb5", ecolor="k", capsize=2)
    ax.set_yticks(y, [f"{r['name']} ({r['kind']})" for r in rows], fontsize=7)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("region response: with minus without (z), 95% bootstrap CI")
    ax.set_title(f"{subject}: what drives the region (measured images)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- synthesis
def synthesize(backbone, weights: np.ndarray, bias: float, start: np.ndarray, *,
               steps: int = 30, lr: float = 0.03, tv: float = 0.05, jitter: int = 4,
               blur_every: int = 4, seed: int = 0) -> np.ndarray:
    """A preferred image: gradient ascent on a region's predicted response (MFV-style).

    The backbone's own differentiable forward pass (ImageNet normalisation, the pooled
    multi-layer features) is followed by the region's encoder read-out
    ``features @ weights + bias``; the image (pixels in [0, 1] at the backbone's input
    size) starts from ``start`` and ascends the response minus a total-variation
    penalty, with a random shift (jitter) at every step and a 3 × 3 blur every
    ``blur_every`` steps (the regularizers of Nguyen et al. 2016).

    Parameters
    ----------
    backbone : MobileNetV2Backbone or CachedBackbone
    weights : ndarray of shape (feature_dim,)
        The region's mean ridge weights over its voxels (features already divided by the
        encoder's scale).
    bias : float
    start : ndarray of shape (size, size, 3), uint8
        The starting image, at the backbone's input size.
    steps, jitter, blur_every, seed : int
    lr, tv : float

    Returns
    -------
    ndarray of shape (size, size, 3), uint8
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    w = torch.as_tensor(np.asarray(weights, np.float32))
    x = torch.as_tensor(start.astype(np.float32) / 255.0).permute(2, 0, 1)[None].clone()
    x.requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    k = torch.tensor([1.0, 2.0, 1.0])
    k = (k[:, None] * k[None, :] / 16).expand(3, 1, 3, 3)
    for step in range(steps):
        dx, dy = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=g))
        xi = torch.roll(x, (dy, dx), dims=(2, 3))
        z = (xi - backbone._mean) / backbone._std
        resp = backbone._forward(z)[0] @ w + float(bias)
        tvl = (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + \
            (x[..., 1:] - x[..., :-1]).abs().mean()
        loss = -resp + tv * tvl
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            if blur_every and (step + 1) % blur_every == 0:
                x.copy_(torch.nn.functional.conv2d(
                    torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=3))
            x.clamp_(0, 1)
    out = (x.detach()[0].permute(1, 2, 0).numpy() * 255).round()
    return out.clip(0, 255).astype(np.uint8)
