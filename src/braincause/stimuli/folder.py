"""A user's own causal stimuli (``localize CONCEPT --stimuli DIR``) and the export of a
run's stimuli as such a folder (``braincause export-stimuli``).

A stimulus folder holds PNG/JPEG images in one of two layouts:

**manifest.csv** (authoritative when present): one row per image, columns ``path``
(relative to the folder), ``role`` (``positive``, ``negative``, ``edit``, ``control``) and
optionally ``split`` (``train``/``eval``), ``counter_concept`` (a negative's
counter-concept; a control's kind: ``scramble``, ``phase-scramble``, ``neutral`` or
``cue:<object>``), ``parent`` (an edit's or control's positive, by its ``path``) and
``text`` (the prompt or edit instruction; an edit whose text reads "replace the X with a
Y" is a replacement, every other edit a removal).

**Folders** (without manifest.csv)::

    positives/[train/|eval/]*.png
    negatives/<counter-concept>/[train/|eval/]*.png
    edits/<positive file stem>/*.png        (removal edits of that positive)

Rows without a split (no ``split`` value, no ``train/``/``eval/`` folder) are split by
their order: of each role (each counter-concept's negatives apart), every third image
(the 3rd, 6th, …) is EVAL, the others TRAIN; edits and controls take their positive's.
``counter_concepts.csv`` (``name``, ``label``, ``source``, ``reason``, ``colour``), when
present, names each counter-concept label's vocabulary concept; otherwise the label is
resolved like a query.

Images are converted as ``braincause predict`` converts them
(:func:`braincause.utils.images.read_image`: RGB, centre square) and resized to the run's
image size. Nothing is verified unless a verifier is given to :func:`load_user_stimuli`:
the roles the user gave are trusted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from braincause._version import __version__
from braincause.exceptions import UserInputError
from braincause.plan.base import CounterConcept, Plan
from braincause.stimuli.dataset import CausalDataset
from braincause.utils.images import IMAGE_SUFFIXES, read_image

__all__ = ["FOLDER_VERSION", "StimulusFolder", "counter_concepts", "export_stimulus_folder",
           "load_user_stimuli", "read_stimulus_folder"]

FOLDER_VERSION = "user-stimuli-1"
ROLES = ("positive", "negative", "edit", "control")
SPLITS = ("train", "eval")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class StimulusFolder:
    """A checked stimulus folder: one row per image, in the folder's order.

    Attributes
    ----------
    root : Path
    path : list of str
        Each image, relative to ``root``.
    role, split, counter : list of str
    parent : list of int
        Row of an edit's or control's positive, else -1.
    text : list of str
    images : list of ndarray of shape (side, side, 3), uint8
        Decoded, centre-cropped.
    counter_concepts : list of dict or None
        ``counter_concepts.csv``'s rows.
    layout : str
        ``"manifest.csv"`` or ``"folders"``.
    """

    root: Path
    path: list[str]
    role: list[str]
    split: list[str]
    counter: list[str]
    parent: list[int]
    text: list[str]
    images: list[np.ndarray]
    counter_concepts: list[dict[str, Any]] | None
    layout: str

    def counts(self) -> dict[str, int]:
        """Images per ``<role>_<split>``.

        Returns
        -------
        dict of str to int
        """
        out: dict[str, int] = {}
        for r, s in zip(self.role, self.split, strict=True):
            out[f"{r}_{s}"] = out.get(f"{r}_{s}", 0) + 1
        return out


def _images_in(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")
                  and f.suffix.lower() in IMAGE_SUFFIXES)


def _split_folders(folder: Path) -> list[tuple[Path, str]]:
    """``(file, split)`` of a role folder: ``train/`` and ``eval/`` subfolders, and files
    directly inside (split "")."""
    out = [(f, "") for f in _images_in(folder)]
    for s in SPLITS:
        if (folder / s).is_dir():
            out += [(f, s) for f in _images_in(folder / s)]
    return out


def _rows_from_folders(root: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    pos = root / "positives"
    if pos.is_dir():
        rows += [{"path": f.relative_to(root).as_posix(), "role": "positive", "split": s}
                 for f, s in _split_folders(pos)]
    neg = root / "negatives"
    if neg.is_dir():
        for sub in sorted(d for d in neg.iterdir() if d.is_dir()):
            rows += [{"path": f.relative_to(root).as_posix(), "role": "negative", "split": s,
                      "counter_concept": sub.name.replace("_", " ")}
                     for f, s in _split_folders(sub)]
    stems: dict[str, str] = {}
    twice: set[str] = set()
    for r in rows:
        if r["role"] == "positive":
            stem = Path(r["path"]).stem
            if stem in stems:
                twice.add(stem)
            stems[stem] = r["path"]
    edits = root / "edits"
    if edits.is_dir():
        for sub in sorted(d for d in edits.iterdir() if d.is_dir()):
            if sub.name in twice:
                raise UserInputError(f"{sub}: more than one positive is named {sub.name} (in "
                                     f"{pos}); rename them so each edits/ subfolder names one")
            if sub.name not in stems:
                raise UserInputError(f"{sub}: no positive image named {sub.name}.png/.jpg in "
                                     f"{pos}; name each edits/ subfolder after the file stem "
                                     "of the positive it edits")
            rows += [{"path": f.relative_to(root).as_posix(), "role": "edit",
                      "parent": stems[sub.name], "text": f.stem.replace("_", " ")}
                     for f in _images_in(sub)]
    return rows


def _rows_from_manifest(root: Path) -> list[dict[str, str]]:
    p = root / "manifest.csv"
    try:
        with open(p, newline="") as f:
            reader = csv.DictReader(f)
            rows = [dict(r) for r in reader]
            cols = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UserInputError(f"cannot read {p} as CSV ({e}); write it as UTF-8 CSV with "
                             "columns path, role[, split, counter_concept, parent, text]") \
            from e
    missing = [c for c in ("path", "role") if c not in cols]
    if missing:
        raise UserInputError(f"{p} lacks the column(s) {missing}; its columns are path, role "
                             "and optionally split, counter_concept, parent, text")
    return [{k: (v or "").strip() for k, v in r.items() if k is not None} for r in rows]


def _inside(root: Path, rel: str, where: str) -> Path:
    p = Path(rel)
    if not rel or p.is_absolute() or ".." in p.parts:
        raise UserInputError(f"{where}: path {rel!r} must be relative to the stimulus folder, "
                             "without '..'")
    return root / p


def read_stimulus_folder(root: str | Path) -> StimulusFolder:
    """Read and check a stimulus folder (module docstring); every image is decoded.

    Parameters
    ----------
    root : path

    Returns
    -------
    StimulusFolder

    Raises
    ------
    UserInputError
        Not a folder; a manifest naming a missing or unreadable file, an unknown role or
        split, an edit or control without its positive; no TRAIN or no EVAL positive,
        negative or removal edit.
    """
    from braincause.stimuli.controls import is_removal

    root = Path(root)
    if not root.is_dir():
        raise UserInputError(f"--stimuli {str(root)!r} is not a folder: pass a folder with "
                             "positives/, negatives/<counter-concept>/, edits/<positive>/ or a "
                             "manifest.csv (docs/localize.md, 'Your own stimuli')")
    layout = "manifest.csv" if (root / "manifest.csv").is_file() else "folders"
    rows = _rows_from_manifest(root) if layout == "manifest.csv" else _rows_from_folders(root)
    where = root / "manifest.csv" if layout == "manifest.csv" else root
    index: dict[str, int] = {}
    for i, r in enumerate(rows):
        at = f"{where} row {i + 2}" if layout == "manifest.csv" else str(root / r["path"])
        if r["role"] not in ROLES:
            raise UserInputError(f"{at}: role {r['role']!r} is not one of {', '.join(ROLES)}")
        if r.get("split", "") not in ("", *SPLITS):
            raise UserInputError(f"{at}: split {r['split']!r} is not train or eval")
        f = _inside(root, r["path"], at)
        if not f.is_file():
            raise UserInputError(f"{at}: image {r['path']!r} does not exist in {root}; fix the "
                                 "path or remove the row")
        if r["path"] in index:
            raise UserInputError(f"{at}: image {r['path']!r} is listed twice")
        index[r["path"]] = i
        if r["role"] == "negative" and not r.get("counter_concept"):
            raise UserInputError(f"{at}: a negative needs its counter_concept (the concept it "
                                 "shows instead of the target)")
    parent = []
    for i, r in enumerate(rows):
        j = -1
        if r["role"] in ("edit", "control"):
            at = f"{where} row {i + 2}" if layout == "manifest.csv" else r["path"]
            j = index.get(r.get("parent", ""), -1)
            if j < 0 or rows[j]["role"] != "positive":
                raise UserInputError(f"{at}: the {r['role']}'s parent {r.get('parent', '')!r} is "
                                     "not a positive of the folder; give the path of the "
                                     "positive it was made from")
        parent.append(j)
    split = _assign_splits(rows, parent)
    text = [r.get("text", "") or Path(r["path"]).stem for r in rows]
    counter = [r.get("counter_concept", "") if r["role"] in ("negative", "control") else ""
               for r in rows]
    for role, need in (("positive", "images of the concept"),
                       ("negative", "images of counter-concepts (negatives/<counter-concept>/)"),
                       ("edit", "removal edits of positives (edits/<positive>/)")):
        for s in SPLITS:
            n = sum(1 for i, r in enumerate(rows) if r["role"] == role and split[i] == s
                    and (role != "edit" or is_removal(text[i])))
            if n == 0:
                raise UserInputError(
                    f"--stimuli {str(root)!r} has no {s.upper()} {role} ({need}); braincause "
                    "chooses the region on TRAIN and tests it on EVAL, so each needs "
                    f"{role}s: add more (every third unsplit image is EVAL) or set the split "
                    "column of manifest.csv")
    images = [read_image(root / r["path"]) for r in rows]
    cc = _read_counter_concepts(root)
    return StimulusFolder(root, [r["path"] for r in rows], [r["role"] for r in rows], split,
                          counter, parent, text, images, cc, layout)


def _assign_splits(rows: list[dict[str, str]], parent: list[int]) -> list[str]:
    split = [r.get("split", "") for r in rows]
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        if r["role"] in ("edit", "control") or split[i]:
            continue
        key = (r["role"], r.get("counter_concept", ""))
        k = seen.get(key, 0)
        seen[key] = k + 1
        split[i] = "eval" if k % 3 == 2 else "train"
    for i, r in enumerate(rows):
        if r["role"] in ("edit", "control"):
            split[i] = split[parent[i]]
    return split


def _read_counter_concepts(root: Path) -> list[dict[str, Any]] | None:
    p = root / "counter_concepts.csv"
    if not p.is_file():
        return None
    try:
        with open(p, newline="") as f:
            rows = [dict(r) for r in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UserInputError(f"cannot read {p} as CSV ({e})") from e
    for i, r in enumerate(rows):
        if not r.get("name") or not r.get("label"):
            raise UserInputError(f"{p} row {i + 2}: needs a name (a concept) and a label")
    return rows


def counter_concepts(sf: StimulusFolder, resolve: Callable[[str], Any]) -> list[CounterConcept]:
    """The counter-concepts of a folder's negatives: named by ``counter_concepts.csv``
    (in its order) or resolved from their labels (in the folder's order).

    Parameters
    ----------
    sf : StimulusFolder
    resolve : callable
        ``resolve(label) -> ResolvedQuery``.

    Returns
    -------
    list of CounterConcept

    Raises
    ------
    UserInputError
        A label that is no concept (the message names the folder).
    """
    labels = list(dict.fromkeys(c for c, r in zip(sf.counter, sf.role, strict=True)
                                if r == "negative"))
    given = {r["label"]: r for r in sf.counter_concepts or []}
    order = {lab: i for i, lab in enumerate(given)}
    labels.sort(key=lambda lab: order.get(lab, len(order)))
    out = []
    for lab in labels:
        if lab in given:
            g = given[lab]
            out.append(CounterConcept(g["name"], lab, g.get("source") or "user",
                                      g.get("reason") or "given in counter_concepts.csv",
                                      g.get("colour") or None))
            continue
        try:
            name = resolve(lab).name
        except UserInputError as e:
            raise UserInputError(f"counter-concept {lab!r} of --stimuli {str(sf.root)!r}: {e}") \
                from e
        out.append(CounterConcept(name, lab, "user", "a negative folder of the user's stimuli"))
    return out


def _fit(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[:2] == (size, size):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))


def load_user_stimuli(root: str | Path | StimulusFolder, concept: str, *, backbone,
                      resolve: Callable[[str], Any], image_size: int, verifier=None,
                      threshold: float = 0.5, absent_threshold: float | None = None,
                      with_images: bool = True,
                      progress: Progress | None = None) -> CausalDataset:
    """The causal dataset of a stimulus folder.

    Parameters
    ----------
    root : path or StimulusFolder
    concept : str
        The target concept (resolved).
    backbone : Backbone
        The run's backbone (features, through its cache).
    resolve : callable
        ``resolve(label) -> ResolvedQuery``: a counter-concept label's vocabulary concept
        (unless ``counter_concepts.csv`` names it).
    image_size : int
        Side the images are resized to (the run's generator size).
    verifier : ConceptVerifier, optional
        Keep only positives it sees the concept in (P ≥ ``threshold``) and negatives and
        edits it does not (P < ``absent_threshold``); controls are kept whatever it says.
        None: every image is kept as given.
    threshold, absent_threshold : float
    with_images : bool
        Keep the images (to write them to the run's ``stimuli/``).
    progress : callable, optional

    Returns
    -------
    CausalDataset
    """
    from braincause.encoding.backbone import image_key

    sf = root if isinstance(root, StimulusFolder) else read_stimulus_folder(root)
    say = progress or (lambda _m: None)
    counters = counter_concepts(sf, resolve)
    images = np.stack([_fit(im, image_size) for im in sf.images])
    say(f"features of {len(images)} user stimuli")
    feats = backbone.features(images).astype(np.float32)
    n = len(sf.path)
    role = np.array(sf.role)
    presence = np.full(n, np.nan)
    kept = np.ones(n, bool)
    if verifier is not None:
        if getattr(verifier, "needs_scenes", False):
            raise UserInputError("the oracle verifier reads scene records, which a user's "
                                 "images do not have; verify with the probe verifier or a "
                                 "real one, or do not verify")
        say(f"verifying {n} user stimuli")
        kw = {"images": images} if getattr(verifier, "needs_images", False) \
            else {"features": feats}
        presence = np.asarray(verifier.presence(concept, **kw), float)
        absent = threshold if absent_threshold is None else absent_threshold
        kept = np.where(role == "positive", presence >= threshold,
                        np.where(role == "control", True, presence < absent))
    h = hashlib.sha256(FOLDER_VERSION.encode())
    for p, r, s, c, par, t, im in zip(sf.path, sf.role, sf.split, sf.counter, sf.parent,
                                      sf.text, images, strict=True):
        h.update(json.dumps([p, r, s, c, par, t, image_key(im)]).encode())
    key = h.hexdigest()[:16]
    splits = [s for s in SPLITS if s in sf.split]
    plan = Plan(concept, {s: [t for t, r, sp in zip(sf.text, sf.role, sf.split, strict=True)
                              if r == "positive" and sp == s] for s in splits}, counters,
                {s: {c.label: [t for t, r, sp, cc in zip(sf.text, sf.role, sf.split, sf.counter,
                                                          strict=True)
                               if r == "negative" and sp == s and cc == c.label]
                     for c in counters} for s in splits},
                {"name": "user stimulus folder", "version": FOLDER_VERSION})
    return CausalDataset(
        concept=concept, key=key, role=role, split=np.array(sf.split), text=list(sf.text),
        counter=np.array(sf.counter), parent=np.array(sf.parent, int), ok=np.ones(n, bool),
        presence=presence, kept=kept.astype(bool), features=feats,
        images=images if with_images else None, scenes=[None] * n, plan=plan,
        config={"key": key, "source": "folder", "folder": str(sf.root), "layout": sf.layout,
                "verified": verifier is not None, "braincause_version": __version__,
                "counts": sf.counts()})


# ------------------------------------------------------------------ export
def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "x"


def export_stimulus_folder(run_dir: str | Path, out: str | Path) -> dict[str, Any]:
    """Write a localize run's kept stimuli as a stimulus folder ``out`` that
    ``localize --stimuli`` reads back: ``positives/<split>/``, ``negatives/<counter
    label>/<split>/``, ``edits/<positive stem>/``, ``controls/<positive stem>/``,
    ``manifest.csv`` (every row, in the run's order, with split, counter-concept or
    control kind, parent and text) and ``counter_concepts.csv``.

    Parameters
    ----------
    run_dir : path
        A ``braincause localize --out`` folder.
    out : path
        A new or empty folder.

    Returns
    -------
    dict
        Counts of the images written per role.

    Raises
    ------
    UserInputError
        ``out`` is not empty, the run folder is incomplete or its images are missing.
    """
    from braincause.runfolder import read_run
    from braincause.utils import atomic_write_bytes

    run = read_run(run_dir, maps=False)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserInputError(f"--out {str(out)!r} exists and is not an empty folder; choose a "
                             "new folder (nothing is overwritten)")
    entries = {int(e["id"]): e for e in run.manifest}
    kept_pos = {i for i, e in entries.items() if e["role"] == "positive" and e["kept"]}
    rows, counts = [], {r: 0 for r in ROLES}
    copies: list[tuple[Path, str]] = []
    for i, e in entries.items():
        par = e.get("parent")
        if not e["kept"] or not e.get("file") or (e["role"] in ("edit", "control")
                                                  and par not in kept_pos):
            continue
        src = run.path / "stimuli" / e["file"]
        if not src.is_file():
            raise UserInputError(f"{src} is missing: the run folder's stimuli are incomplete; "
                                 "rerun localize with --out")
        fname = f"{i:05d}.png"
        role = e["role"]
        if role == "positive":
            rel = f"positives/{e['split']}/{fname}"
        elif role == "negative":
            rel = f"negatives/{_safe(e['counter_concept'])}/{e['split']}/{fname}"
        else:
            pstem = f"{par:05d}"
            rel = (f"edits/{pstem}/{fname}" if role == "edit"
                   else f"controls/{pstem}/{_safe(e['counter_concept'] or 'control')}-{fname}")
        rows.append({"path": rel, "role": role, "split": e["split"],
                     "counter_concept": e.get("counter_concept") or "",
                     "parent": f"positives/{entries[par]['split']}/{par:05d}.png"
                     if role in ("edit", "control") else "", "text": e.get("text") or ""})
        copies.append((src, rel))
        counts[role] += 1
    for src, rel in copies:
        atomic_write_bytes(out / rel, src.read_bytes())
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["path", "role", "split", "counter_concept", "parent",
                                        "text"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_bytes(out / "manifest.csv", buf.getvalue().encode())
    cc = (run.result.get("stimuli") or {}).get("counter_concepts") or []
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["name", "label", "source", "reason", "colour"],
                       lineterminator="\n")
    w.writeheader()
    w.writerows({k: c.get(k) or "" for k in ("name", "label", "source", "reason", "colour")}
                for c in cc)
    atomic_write_bytes(out / "counter_concepts.csv", buf.getvalue().encode())
    return {"concept": run.result["concept"]["name"], "run": str(run.path),
            "images": counts, "folder": str(out)}
