"""Cue controls (braincause.stimuli.controls) and the writers' stand-in instructions."""

from __future__ import annotations

import numpy as np
import pytest

from braincause.plan.embedded import EmbeddedPromptWriter, _kin, standins
from braincause.stimuli.controls import (
    changed_mask,
    is_removal,
    scramble_in_place,
    standin_object,
)
from braincause.stimuli.generate import Generated, SceneEditor, SceneGenerator


def test_scramble_keeps_every_cell_histogram_and_leaves_the_rest_alone():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[10:40, 5:50] = True
    out = scramble_in_place(img, mask, grid=4, random_state=1)
    assert out.shape == img.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[~mask], img[~mask])
    assert (out[mask] != img[mask]).any(axis=1).mean() > 0.9
    for i in range(4):
        for j in range(4):
            sl = np.s_[16 * i:16 * (i + 1), 16 * j:16 * (j + 1)]
            a = np.sort(img[sl][mask[sl]].view([("", np.uint8)] * 3).ravel())
            b = np.sort(out[sl][mask[sl]].view([("", np.uint8)] * 3).ravel())
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out, scramble_in_place(img, mask, grid=4, random_state=1))


def test_changed_mask_ignores_small_differences_and_tiny_edits():
    img = np.full((50, 50, 3), 100, np.uint8)
    ed = img.copy()
    ed[:, :] += 5                      # re-encoding noise under the tolerance
    assert changed_mask(img, ed) is None
    ed[10:20, 10:20] = 0
    m = changed_mask(img, ed)
    assert m is not None and m.sum() == 100
    with pytest.raises(ValueError):
        changed_mask(img, ed[:10])


def test_removal_and_stand_in_parsing():
    assert is_removal("remove the pizza") and is_removal("erase the hand")
    assert is_removal("turn the kitchen into a bedroom")
    assert not is_removal("replace the pizza with a ball")
    assert standin_object("replace the pizza with a ball") == "ball"
    assert standin_object("replace the food with an animal face") == "animal face"
    assert standin_object("replace the face with a plain, unrelated object of the same "
                          "shape, size and colour") is None


def test_stand_ins_are_unrelated_and_carry_the_cues():
    from braincause.synth.categories import CATEGORIES

    got = standins("plate", {"plate", "cup", "bowl"})
    assert got[0] not in {"plate", "cup", "bowl"}
    assert not CATEGORIES[got[0]].attributes            # the neutral one carries no cue
    assert any("dishware" in CATEGORIES[c].attributes for c in got[1:])
    assert all(CATEGORIES[c].group != "food" for c in standins("pizza", _kin(["pizza"])))


def test_embedded_writer_and_editor_make_stand_ins_in_the_same_box():
    gen = SceneGenerator(image_size=96)
    src = next(g for g in (gen.generate("a pizza on a table", seed=s) for s in range(20))
               if g.scene is not None and g.scene.of("pizza"))
    texts = EmbeddedPromptWriter().control_instructions("pizza", src.scene)
    assert texts and all(t.startswith("replace the pizza with") for t in texts)
    out = SceneEditor(image_size=96).edit(Generated(None, src.scene), texts[0], seed=0)
    assert out.image is not None and not out.scene.of("pizza")
    old = src.scene.of("pizza")[0]
    new = out.scene.objects[-1]
    assert (new.x, new.y, new.color) == (old.x, old.y, old.color)
    assert EmbeddedPromptWriter().control_instructions("kitchen", src.scene) == []


def test_phase_scramble_keeps_the_amplitude_spectrum_and_the_mean():
    from braincause.stimuli.controls import phase_scramble_in_place

    rng = np.random.default_rng(2)
    img = np.full((40, 40, 3), 110, np.uint8)
    img[8:30, 10:26] = 170                 # a bright rectangle with a striped top
    img[8:14, 10:26:2] = 60
    mask = np.ones((40, 40), bool)
    out = phase_scramble_in_place(img, mask, random_state=rng)
    a, b = img[..., 0].astype(float), out[..., 0].astype(float)
    assert abs(a.mean() - b.mean()) < 2.0
    fa, fb = np.abs(np.fft.fft2(a)), np.abs(np.fft.fft2(b))
    assert np.corrcoef(fa.ravel(), fb.ravel())[0, 1] > 0.9   # up to clipping and rounding
    assert not np.array_equal(out, img)
    part = np.zeros((40, 40), bool)
    part[5:15, 5:25] = True
    out2 = phase_scramble_in_place(img, part, random_state=0)
    np.testing.assert_array_equal(out2[~part], img[~part])
