"""BrainCause scores (PAPER.md §2): brute-force oracle, planted effects, invariances."""

from __future__ import annotations

import numpy as np
import pytest

from braincause.exceptions import UserInputError
from braincause.scoring import region_scores, voxel_scores


def _brute(pos, neg, edits, edit_of, k=10):
    """Literal per-voxel loops over the paper's formulas."""
    n_pos, n_vox = pos.shape
    out = {"s_pos": [], "s_neg": [], "s_edit": []}
    for v in range(n_vox):
        sp = sum(pos[i, v] for i in range(n_pos)) / n_pos
        hard = sorted(neg[:, v], reverse=True)[:k]
        sn = sp - sum(hard) / len(hard)
        diffs = []
        for i in range(n_pos):
            mine = [edits[e, v] for e in range(len(edit_of)) if edit_of[e] == i]
            if mine:
                diffs.append(pos[i, v] - max(mine))
        out["s_pos"].append(sp)
        out["s_neg"].append(sn)
        out["s_edit"].append(sum(diffs) / len(diffs))
    return {k2: np.array(v2) for k2, v2 in out.items()}


def _data(seed=0, n_pos=31, n_neg=23, n_vox=7):
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(n_pos, n_vox))
    neg = rng.normal(size=(n_neg, n_vox))
    edit_of = np.sort(rng.choice(n_pos, size=40))      # some positives have several edits,
    edits = rng.normal(size=(40, n_vox))                # some none
    return pos, neg, edits, edit_of


def test_voxel_scores_match_brute_force():
    pos, neg, edits, edit_of = _data()
    s = voxel_scores(pos, neg, edits, edit_of)
    ref = _brute(pos, neg, edits, edit_of)
    np.testing.assert_allclose(s.s_pos, ref["s_pos"], atol=1e-12)
    np.testing.assert_allclose(s.s_neg, ref["s_neg"], atol=1e-12)
    np.testing.assert_allclose(s.s_edit, ref["s_edit"], atol=1e-12)
    np.testing.assert_allclose(s.s_causal, 0.5 * (ref["s_neg"] + ref["s_edit"]), atol=1e-12)


def test_chunking_and_dtype_do_not_change_results():
    pos, neg, edits, edit_of = _data(seed=1, n_vox=50)
    a = voxel_scores(pos, neg, edits, edit_of, chunk=7)
    b = voxel_scores(pos.astype(np.float32), neg.astype(np.float32),
                     edits.astype(np.float32), edit_of, chunk=10_000)
    np.testing.assert_allclose(a.s_causal, b.s_causal, atol=1e-5)
    c = voxel_scores(pos, neg, edits, edit_of, chunk=50)
    np.testing.assert_array_equal(a.s_causal, c.s_causal)


def test_fewer_negatives_than_k_uses_all():
    pos, neg, _, _ = _data(seed=2, n_neg=4)
    s = voxel_scores(pos, neg)
    np.testing.assert_allclose(s.s_neg, pos.mean(0) - neg.mean(0))
    assert np.isnan(s.s_edit).all() and np.isnan(s.s_causal).all()


def test_planted_causal_voxel_wins_and_cue_voxel_loses():
    """Voxel 0 answers to the concept; voxel 1 to a cue the positives and the negatives
    share; voxel 2 to nothing. Activation ranks 0 and 1 alike; causal scores separate them."""
    rng = np.random.default_rng(3)
    n_pos, n_neg = 200, 100
    pos = rng.normal(0, 0.3, (n_pos, 3))
    neg = rng.normal(0, 0.3, (n_neg, 3))
    pos[:, 0] += 1.0
    pos[:, 1] += 1.0          # cue present in positives …
    neg[:, 1] += 1.0          # … and in the semantic negatives
    edit_of = np.arange(n_pos)
    edits = pos.copy() + rng.normal(0, 0.3, (n_pos, 3))
    edits[:, 0] -= 1.0        # removing the concept removes voxel 0's drive only
    s = voxel_scores(pos, neg, edits, edit_of)
    assert abs(s.s_pos[0] - s.s_pos[1]) < 0.15
    assert s.s_causal[0] > 0.4
    assert s.s_causal[1] < 0 and s.s_causal[2] < 0


def test_region_scores_average_first_then_reselect():
    pos, neg, edits, edit_of = _data(seed=4, n_vox=9)
    region = np.array([1, 4, 5])
    r = region_scores(region, pos, neg, edits, edit_of)
    avg = [a[:, region].mean(1, keepdims=True) for a in (pos, neg, edits)]
    ref = _brute(avg[0], avg[1], avg[2], edit_of)
    np.testing.assert_allclose(r.s_neg, ref["s_neg"], atol=1e-12)
    np.testing.assert_allclose(r.s_edit, ref["s_edit"], atol=1e-12)
    mask = np.zeros(9, bool)
    mask[region] = True
    np.testing.assert_allclose(region_scores(mask, pos, neg, edits, edit_of).s_causal,
                               r.s_causal)


@pytest.mark.parametrize("kwargs,msg", [
    ({"pos": np.zeros((0, 3))}, "empty"),
    ({"pos": np.zeros((4, 3)), "neg": np.zeros((4, 2))}, "voxels"),
    ({"pos": np.full((4, 3), np.nan)}, "NaN"),
    ({"pos": np.zeros((4, 3)), "edits": np.zeros((2, 3))}, "edit_of"),
    ({"pos": np.zeros((4, 3)), "edits": np.zeros((2, 3)), "edit_of": np.array([0, 9])},
     r"\[0, 4\)"),
])
def test_bad_input_is_a_clear_error(kwargs, msg):
    with pytest.raises(UserInputError, match=msg):
        voxel_scores(**kwargs)
    with pytest.raises(UserInputError, match="empty"):
        region_scores(np.zeros(3, bool), np.zeros((4, 3)))
