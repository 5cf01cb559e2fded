"""Cue controls: images that keep a concept's low-level footprint but not its identity.

A removal edit takes away the concept *and* everything it brings along in pixels: a
table's large brown rectangle, a pizza's warm round patch. A voxel driven by that
footprint looks causal to "positive minus its edit". fMRI localizers answer this
with control images (scrambled objects, shape-matched stand-ins); so does
braincause, for every edited positive:

* **scramble in place** — the positive with the pixels that its removal edit changed
  permuted among themselves within each cell of a grid (:func:`scramble_in_place`).
  Each cell keeps its colour histogram, mean luminance and contrast, the image keeps
  its warmth and saturation; the concept's shape is gone. The mask comes from the
  two images alone (:func:`changed_mask`), so it works for any editor, exact,
  inpainting or diffusion.
* **phase scramble in place** — the same footprint filled with a phase-scrambled copy
  of its bounding box (:func:`phase_scramble_in_place`): the amplitude spectrum (edge
  and fine-detail energy) is kept, which the pixel permutation, adding fine noise,
  does not.
* **stand-ins** — the writer's ``control_instructions``: the concept replaced by a
  neutral object of the same box and colour (the first instruction), and by objects
  that carry each of its visual cues (round, warm, dishware, sign shape, …) without
  being it; the editor renders them as any other instruction.

Each control's kind is recorded in the dataset's ``counter`` column: ``"scramble"``,
``"phase-scramble"``, ``"neutral"`` or ``"cue:<object>"``.

Controls are kept whatever the verifier says about them: a control that looks like
the concept to the verifier is exactly the cue they must control for. The causal
evidence of a positive is then "it beats the hardest of its removal edits and its
controls" (:func:`braincause.evaluate.causal.hardest_counterfactual`).
"""

from __future__ import annotations

import re

import numpy as np

from braincause.utils import RandomState, check_random_state

#: A pixel counts as changed by an edit when a channel moved by more than this (0-255).
CHANGE_TOLERANCE = 12
#: Fewer changed pixels than this fraction of the image: the edit changed nothing to
#: scramble (no control).
MIN_CHANGED_FRACTION = 0.002
#: Cells per side of the grid the scramble permutes within.
SCRAMBLE_GRID = 8
#: Bump when a control's pixels or choice change (names the cache stages).
CONTROLS_VERSION = "controls-2"

_REPLACE = re.compile(r"^\s*(replace|swap|substitute)\b", re.IGNORECASE)
_STANDIN = re.compile(r"^\s*replace the .+? with (?:an? )?(.+?)\s*$", re.IGNORECASE)
_NOT_AN_OBJECT = ("plain", "unrelated", "object")

__all__ = ["CHANGE_TOLERANCE", "CONTROLS_VERSION", "MIN_CHANGED_FRACTION", "SCRAMBLE_GRID",
           "changed_mask", "is_removal", "phase_scramble_in_place", "scramble_in_place",
           "standin_object"]


def is_removal(instruction: str) -> bool:
    """Whether an edit instruction removes the concept rather than replacing it by
    another object ("replace the X with a Y" adds Y, whose own response says nothing
    about X).

    Parameters
    ----------
    instruction : str

    Returns
    -------
    bool
    """
    return _REPLACE.match(instruction) is None


def standin_object(text: str) -> str | None:
    """The object a stand-in instruction puts in the concept's place
    (``"replace the pizza with a ball"`` → ``"ball"``), or None when it names none in
    particular (the chat writer's template).

    Parameters
    ----------
    text : str

    Returns
    -------
    str or None
    """
    m = _STANDIN.match(text)
    if m is None or any(w in m.group(1).lower().split() for w in _NOT_AN_OBJECT):
        return None
    return m.group(1).lower()


def changed_mask(image: np.ndarray, edited: np.ndarray, *,
                 tolerance: int = CHANGE_TOLERANCE,
                 min_fraction: float = MIN_CHANGED_FRACTION) -> np.ndarray | None:
    """The pixels an edit changed: where any channel differs by more than ``tolerance``.

    Parameters
    ----------
    image, edited : ndarray of shape (height, width, 3), uint8
        A positive and its removal edit.
    tolerance : int
    min_fraction : float
        Fewer changed pixels than this fraction of the image give None.

    Returns
    -------
    ndarray of shape (height, width), bool, or None
    """
    a = np.asarray(image, np.int16)
    b = np.asarray(edited, np.int16)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"image and edited must be (H, W, 3) of one shape, got {a.shape} "
                         f"and {b.shape}")
    mask = (np.abs(a - b) > tolerance).any(axis=2)
    return mask if mask.mean() >= min_fraction else None


def phase_scramble_in_place(image: np.ndarray, mask: np.ndarray, *,
                            random_state: RandomState = None) -> np.ndarray:
    """``image`` with the pixels under ``mask`` replaced by a phase-scrambled copy of the
    mask's bounding box: the box's amplitude spectrum (contrast energy at every spatial
    frequency and orientation, so edges and fine detail keep their energy), mean colour
    and inter-channel phase are kept, the shapes are gone. The classic localizer
    control; it complements :func:`scramble_in_place`, whose pixel permutation keeps the
    colour histogram exactly but adds fine-grained noise.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3), uint8
    mask : ndarray of shape (height, width), bool
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    ndarray of shape (height, width, 3), uint8
    """
    img = np.array(image, copy=True)
    mask = np.asarray(mask, bool)
    if mask.shape != img.shape[:2]:
        raise ValueError(f"mask must be {img.shape[:2]}, got {mask.shape}")
    ys, xs = np.nonzero(mask)
    if len(ys) < 2:
        return img
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = img[y0:y1, x0:x1].astype(np.float64)
    rng = check_random_state(random_state)
    # the phase of real noise is Hermitian-symmetric, so the result stays real
    noise = np.angle(np.fft.fft2(rng.standard_normal(box.shape[:2])))
    noise[0, 0] = 0.0  # keep the mean
    f = np.fft.fft2(box, axes=(0, 1))
    out = np.fft.ifft2(np.abs(f) * np.exp(1j * (np.angle(f) + noise[..., None])),
                       axes=(0, 1)).real
    sub = mask[y0:y1, x0:x1]
    img[y0:y1, x0:x1][sub] = np.clip(np.rint(out[sub]), 0, 255).astype(np.uint8)
    return img


def scramble_in_place(image: np.ndarray, mask: np.ndarray, *, grid: int = SCRAMBLE_GRID,
                      random_state: RandomState = None) -> np.ndarray:
    """``image`` with the pixels under ``mask`` permuted among themselves inside each
    cell of a ``grid`` × ``grid`` partition (the last row and column of cells take the
    remainder); pixels outside the mask are untouched.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3), uint8
    mask : ndarray of shape (height, width), bool
    grid : int
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    ndarray of shape (height, width, 3), uint8
        A new image: every cell has the same multiset of pixel values as before.
    """
    img = np.array(image, copy=True)
    mask = np.asarray(mask, bool)
    if mask.shape != img.shape[:2]:
        raise ValueError(f"mask must be {img.shape[:2]}, got {mask.shape}")
    rng = check_random_state(random_state)
    h, w = mask.shape
    ys = np.linspace(0, h, grid + 1).astype(int)
    xs = np.linspace(0, w, grid + 1).astype(int)
    for i in range(grid):
        for j in range(grid):
            sub = mask[ys[i]:ys[i + 1], xs[j]:xs[j + 1]]
            yy, xx = np.nonzero(sub)
            if len(yy) < 2:
                continue
            yy, xx = yy + ys[i], xx + xs[j]
            perm = rng.permutation(len(yy))
            img[yy, xx] = img[yy[perm], xx[perm]]
    return img
