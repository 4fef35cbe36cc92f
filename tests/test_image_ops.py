"""tf.image's geometry and pixel-value ops against numpy transcriptions of TF
1.15's definitions: flips, transpose, rot90, crops and pads, dtype conversion,
brightness, contrast, standardization, grayscale, image gradients and total
variation; static shapes, errors at graph build and at run time, gradients by
central differences; and a cross-check of tf.image (resizes included) with
TensorFlow's own graph mode where it is installed."""

import numpy as np
import pytest

import tfcompile as tf
from tfcompile.errors import InvalidArgumentError

from gradcheck import check_gradients

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _graph():
    tf.reset_default_graph()     # (check_gradients resets it too: no nested graph here)
    yield


def _img(shape, dtype=np.float32):
    if np.issubdtype(dtype, np.integer):
        return RNG.integers(-50, 50, shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def _run(fetches, feeds=None):
    with tf.Session() as s:
        return s.run(fetches, feeds or {})


# ---------------------------------------------------------------- flips, transpose, rot90

@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float64])
def test_flips_transpose_and_rotations_of_3d_and_4d_images(dtype):
    a3, a4 = _img((4, 6, 2), dtype), _img((3, 4, 6, 2), dtype)
    x3 = tf.placeholder(tf.as_dtype(dtype), [4, 6, 2])
    x4 = tf.placeholder(tf.as_dtype(dtype), [None, 4, 6, 2])
    im = tf.image
    outs = {"lr3": im.flip_left_right(x3), "ud3": im.flip_up_down(x3),
            "lr4": im.flip_left_right(x4), "ud4": im.flip_up_down(x4),
            "t3": im.transpose_image(x3), "t4": im.transpose(x4)}
    for k in range(-1, 6):
        outs[f"r3_{k}"] = im.rot90(x3, k)
        outs[f"r4_{k}"] = im.rot90(x4, k)
    assert outs["lr4"].shape.as_list() == [None, 4, 6, 2]
    assert outs["t3"].shape.as_list() == [6, 4, 2]
    assert outs["r3_1"].shape.as_list() == [None, None, 2]     # TF: any rotation
    assert outs["r4_2"].shape.as_list() == [None, None, None, 2]
    r = _run(outs, {x3: a3, x4: a4})
    np.testing.assert_array_equal(r["lr3"], a3[:, ::-1])
    np.testing.assert_array_equal(r["ud3"], a3[::-1])
    np.testing.assert_array_equal(r["lr4"], a4[:, :, ::-1])
    np.testing.assert_array_equal(r["ud4"], a4[:, ::-1])
    np.testing.assert_array_equal(r["t3"], a3.transpose(1, 0, 2))
    np.testing.assert_array_equal(r["t4"], a4.transpose(0, 2, 1, 3))
    for k in range(-1, 6):
        np.testing.assert_array_equal(r[f"r3_{k}"], np.rot90(a3, k, axes=(0, 1)))
        np.testing.assert_array_equal(r[f"r4_{k}"], np.rot90(a4, k, axes=(1, 2)))
        assert r[f"r3_{k}"].dtype == dtype


def test_rot90_with_k_known_only_at_run_time():
    a = _img((2, 5, 5, 3))
    x = tf.placeholder(tf.float32, [2, 5, 5, 3])
    k = tf.placeholder(tf.int32, [])
    y = tf.image.rot90(x, k)
    assert y.shape.as_list() == [2, 5, 5, 3]     # square: every rotation has one shape
    with tf.Session() as s:
        for kv in (0, 1, 2, 3, -3, 7):
            np.testing.assert_array_equal(s.run(y, {x: a, k: kv}), np.rot90(a, kv, (1, 2)))
    with pytest.raises(ValueError):
        tf.image.rot90(x, [1, 2])


def test_flip_errors():
    with pytest.raises(ValueError, match="at least three-dimensional"):
        tf.image.flip_left_right(tf.zeros([4, 4]))
    with pytest.raises(ValueError, match="inner 3 dims"):
        tf.image.flip_up_down(tf.zeros([0, 4, 3]))
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        tf.image.flip_up_down(tf.zeros([1, 2, 4, 4, 3]))
    x = tf.placeholder(tf.float32, [None, None, 3])
    with pytest.raises(InvalidArgumentError, match="inner 3 dims"):
        _run(tf.image.flip_left_right(x), {x: np.zeros((0, 2, 3), np.float32)})


def test_random_flips_are_seeded_and_per_image_in_a_batch():
    a = _img((64, 3, 4, 2))
    x = tf.placeholder(tf.float32, [None, 3, 4, 2])
    tf.set_random_seed(5)
    lr = tf.image.random_flip_left_right(x, seed=1)
    ud = tf.image.random_flip_up_down(x, seed=2)
    assert lr.shape.as_list() == [None, 3, 4, 2]
    with tf.Session() as s:
        r1, r2 = s.run([lr, ud], {x: a})
        again = s.run(lr, {x: a})
    flipped = [np.array_equal(r1[i], a[i, :, ::-1]) for i in range(64)]
    kept = [np.array_equal(r1[i], a[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 16 < sum(flipped) < 48            # about half, per image
    assert all(np.array_equal(r2[i], a[i, ::-1]) or np.array_equal(r2[i], a[i])
               for i in range(64))
    assert not np.array_equal(again, r1)     # fresh draws on the next run
    with tf.Session() as s:                  # the same seeds: the same first draw
        np.testing.assert_array_equal(s.run(lr, {x: a}), r1)


def test_random_flip_of_one_image_takes_both_branches():
    a = _img((3, 4, 1))
    x = tf.constant(a)
    y = tf.image.random_flip_left_right(x, seed=3)
    assert y.shape.as_list() == [3, 4, 1]
    with tf.Session() as s:
        got = [s.run(y) for _ in range(40)]
    n_flip = sum(np.array_equal(g, a[:, ::-1]) for g in got)
    assert all(np.array_equal(g, a[:, ::-1]) or np.array_equal(g, a) for g in got)
    assert 5 < n_flip < 35


# ---------------------------------------------------------------- crops and pads

def np_central_crop(a, frac, rank):
    h, w = a.shape[rank - 3], a.shape[rank - 2]
    h0, w0 = int((h - h * frac) / 2), int((w - w * frac) / 2)
    sl = (slice(h0, h - h0), slice(w0, w - w0))
    return a[sl] if rank == 3 else a[(slice(None),) + sl]


@pytest.mark.parametrize("frac", [0.5, 0.33, 0.9, 1.0])
def test_central_crop_static_and_dynamic(frac):
    a3, a4 = _img((9, 7, 3)), _img((2, 10, 5, 1), np.int32)
    s3 = tf.image.central_crop(tf.constant(a3), frac)
    x = tf.placeholder(tf.int32, [2, None, None, 1])
    d4 = tf.image.central_crop(x, frac)
    assert s3.shape.as_list() == list(np_central_crop(a3, frac, 3).shape)
    assert d4.shape.as_list() == [2, None, None, 1]
    r3, r4 = _run([s3, d4], {x: a4})
    np.testing.assert_array_equal(r3, np_central_crop(a3, frac, 3))
    np.testing.assert_array_equal(r4, np_central_crop(a4, frac, 4))
    with pytest.raises(ValueError, match="central_fraction"):
        tf.image.central_crop(x, 0.0)


def np_crop_or_pad(a, th, tw):
    """resize_image_with_crop_or_pad: centered crop, then centered zero pad."""
    h, w = a.shape[-3:-1]
    dh, dw = th - h, tw - w
    ch, cw = max(-dh // 2, 0), max(-dw // 2, 0)
    a = a[..., ch:ch + min(th, h), cw:cw + min(tw, w), :]
    ph, pw = max(dh // 2, 0), max(dw // 2, 0)
    pad = [(0, 0)] * (a.ndim - 3) + [(ph, th - ph - a.shape[-3]), (pw, tw - pw - a.shape[-2]),
                                     (0, 0)]
    return np.pad(a, pad)


def test_crop_pad_and_crop_or_pad_against_numpy():
    a3, a4 = _img((6, 8, 2)), _img((3, 6, 8, 2), np.int64)
    x3 = tf.placeholder(tf.float32, [6, 8, 2])
    x4 = tf.placeholder(tf.int64, [None, None, None, 2])
    im = tf.image
    outs = {"c3": im.crop_to_bounding_box(x3, 1, 2, 4, 5),
            "c4": im.crop_to_bounding_box(x4, 2, 0, 4, 8),
            "p3": im.pad_to_bounding_box(x3, 2, 1, 9, 10),
            "p4": im.pad_to_bounding_box(x4, 0, 3, 6, 11)}
    for th, tw in [(3, 10), (9, 4), (6, 8), (7, 7), (1, 1)]:
        outs[f"r3_{th}_{tw}"] = im.resize_image_with_crop_or_pad(x3, th, tw)
        outs[f"r4_{th}_{tw}"] = im.resize_with_crop_or_pad(x4, th, tw)
    assert outs["c3"].shape.as_list() == [4, 5, 2]
    assert outs["c4"].shape.as_list() == [None, 4, 8, 2]
    assert outs["p4"].shape.as_list() == [None, 6, 11, 2]
    assert outs["r4_3_10"].shape.as_list() == [None, 3, 10, 2]
    r = _run(outs, {x3: a3, x4: a4})
    np.testing.assert_array_equal(r["c3"], a3[1:5, 2:7])
    np.testing.assert_array_equal(r["c4"], a4[:, 2:6, 0:8])
    np.testing.assert_array_equal(r["p3"], np.pad(a3, [(2, 1), (1, 1), (0, 0)]))
    np.testing.assert_array_equal(r["p4"], np.pad(a4, [(0, 0), (0, 0), (3, 0), (0, 0)]))
    assert r["p4"].dtype == np.int64
    for th, tw in [(3, 10), (9, 4), (6, 8), (7, 7), (1, 1)]:
        np.testing.assert_array_equal(r[f"r3_{th}_{tw}"], np_crop_or_pad(a3, th, tw))
        np.testing.assert_array_equal(r[f"r4_{th}_{tw}"], np_crop_or_pad(a4, th, tw))


def test_crop_and_pad_errors_at_build_and_at_run_time():
    im = tf.image
    z = tf.zeros([5, 6, 3])
    for args, msg in [((1, 2, 5, 2), "height must be >= target"),
                      ((-1, 0, 2, 2), "offset_height must be >= 0"),
                      ((0, 0, 0, 2), "target_height must be > 0"),
                      ((0, 2, 2, 5), "width must be >= target")]:
        with pytest.raises(ValueError, match=msg):
            im.crop_to_bounding_box(z, *args)
    with pytest.raises(ValueError, match="height must be <= target - offset"):
        im.pad_to_bounding_box(z, 1, 0, 5, 6)
    with pytest.raises(ValueError, match="target_width must be > 0"):
        im.resize_image_with_crop_or_pad(z, 3, 0)
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        im.crop_to_bounding_box(tf.zeros([1, 1, 5, 6, 3]), 0, 0, 1, 1)
    x = tf.placeholder(tf.float32, [None, None, 3])
    a = np.zeros((5, 6, 3), np.float32)
    with pytest.raises(InvalidArgumentError, match="height must be >= target"):
        _run(im.crop_to_bounding_box(x, 2, 0, 4, 2), {x: a})
    with pytest.raises(InvalidArgumentError, match="width must be <= target - offset"):
        _run(im.pad_to_bounding_box(x, 0, 1, 6, 6), {x: a})
    off = tf.constant(-1)    # a tensor offset: checked when compiled, as TF's Assert
    with pytest.raises(InvalidArgumentError, match="offset_width must be >= 0"):
        _run(im.crop_to_bounding_box(x, 0, off, 2, 2), {x: a})


def test_gradients_of_the_geometry_ops():
    a = _img((2, 4, 5, 2), np.float64)
    check_gradients(lambda x: [tf.image.flip_left_right(x),
                               tf.reshape(tf.image.rot90(x, 3), [2, 5, 4, 2]),
                               tf.image.crop_to_bounding_box(x, 1, 1, 2, 3),
                               tf.image.resize_image_with_crop_or_pad(x, 6, 3),
                               tf.image.central_crop(x, 0.5)], [a])


# ---------------------------------------------------------------- pixel values

def _np_standardize(v):
    v = v.astype(np.float32)
    ax = (-1, -2, -3)
    n = np.prod(v.shape[-3:])
    mean = v.mean(ax, keepdims=True)
    std = np.sqrt(((v - mean) ** 2).mean(ax, keepdims=True))
    return (v - mean) / np.maximum(std, np.float32(1 / np.sqrt(n)))


def test_per_image_standardization():
    a = _img((2, 4, 5, 3)) * 3 + 1
    flat = np.full((3, 3, 1), 7.0, np.float32)
    ad = _img((4, 4, 3), np.float64)
    x = tf.placeholder(tf.float32, [None, 4, 5, 3])
    xd = tf.placeholder(tf.float64, [4, 4, 3])
    im = tf.image
    y, yf, yd = (im.per_image_standardization(x), im.per_image_standardization(flat),
                 im.per_image_standardization(xd))
    assert yd.dtype == tf.float64     # TF 1.15: computed in float32, given back as the input
    r, rf, rd = _run([y, yf, yd], {x: a, xd: ad})
    np.testing.assert_allclose(r, _np_standardize(a), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(rf, np.zeros_like(flat))   # uniform: no division by 0
    np.testing.assert_allclose(rd, _np_standardize(ad), rtol=1e-4, atol=1e-4)


def test_per_image_standardization_of_integer_images():
    # TF 1.15's documented behavior (tensorflow issue 33892): an int32 image is scaled
    # to [0, 1], standardized (min_stddev dominating) and converted back to int32
    got = _run(tf.image.per_image_standardization(tf.constant([[[1, 2, 3], [4, 5, 6]]])))
    np.testing.assert_array_equal(got, [[[-6, -3, -1], [1, 3, 6]]])
    ai = RNG.integers(0, 2 ** 31 - 1, (5, 4, 2)).astype(np.int32)
    got = _run(tf.image.per_image_standardization(ai))
    f = ai.astype(np.float32) * np.float32(1 / (2 ** 31 - 1))
    ref = np.clip(_np_standardize(f) * np.float32(2 ** 31 - 0.5), -2 ** 31, 2 ** 31 - 1)
    assert got.dtype == np.int32
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=512)


def test_convert_image_dtype():
    f = RNG.uniform(0, 1, (3, 4)).astype(np.float32)
    i = RNG.integers(0, 2 ** 31 - 1, (3, 4)).astype(np.int32)
    i64 = RNG.integers(0, 2 ** 62, (3, 4)).astype(np.int64)
    ci = tf.image.convert_image_dtype
    outs = {"f2i": ci(f, tf.int32), "i2f": ci(i, tf.float32), "i2d": ci(i, tf.float64),
            "i2l": ci(i, tf.int64), "l2i": ci(i64, tf.int32), "f2d": ci(f, tf.float64),
            "sat": ci(np.array([-1.5, 2.0, 0.25], np.float32), tf.int32, saturate=True),
            "same": ci(f, tf.float32)}
    assert outs["same"].op.type == "Identity"
    r = _run(outs)
    np.testing.assert_array_equal(r["f2i"], (f * np.float32(2 ** 31 - 1 + 0.5)).astype(np.int32))
    np.testing.assert_allclose(r["i2f"], i.astype(np.float32) * np.float32(1 / (2 ** 31 - 1)),
                               rtol=1e-6)
    np.testing.assert_allclose(r["i2d"], i / (2 ** 31 - 1), rtol=1e-12)
    np.testing.assert_array_equal(r["i2l"], i.astype(np.int64) * 2 ** 32)
    np.testing.assert_array_equal(r["l2i"], (i64 // 2 ** 32).astype(np.int32))
    np.testing.assert_array_equal(r["f2d"], f.astype(np.float64))
    np.testing.assert_array_equal(r["sat"], [-2 ** 31, 2 ** 31 - 1, 2 ** 29])
    with pytest.raises(AttributeError):
        ci(f, tf.bool)


def test_brightness_contrast_and_grayscale():
    a = _img((2, 3, 4, 3))
    ai = RNG.integers(0, 2 ** 30, (3, 4, 3)).astype(np.int32)
    x = tf.placeholder(tf.float32, [None, 3, 4, 3])
    xi = tf.placeholder(tf.int32, [3, 4, 3])
    im = tf.image
    outs = {"b": im.adjust_brightness(x, 0.25), "c": im.adjust_contrast(x, 1.7),
            "ci": im.adjust_contrast(xi, 0.5), "bi": im.adjust_brightness(xi, 0.75),
            "g": im.rgb_to_grayscale(x), "gi": im.rgb_to_grayscale(tf.cast(x, tf.float64)),
            "rgb": im.grayscale_to_rgb(im.rgb_to_grayscale(x))}
    assert outs["g"].shape.as_list() == [None, 3, 4, 1]
    assert outs["ci"].dtype == tf.int32 and outs["gi"].dtype == tf.float64
    r = _run(outs, {x: a, xi: ai})
    np.testing.assert_allclose(r["b"], a + np.float32(0.25), rtol=1e-6)
    mean = a.mean((1, 2), keepdims=True)
    np.testing.assert_allclose(r["c"], (a - mean) * 1.7 + mean, rtol=1e-5, atol=1e-5)
    # integers: scaled to [0, 1] in float32, adjusted, scaled back with saturation
    fi = ai.astype(np.float32) * np.float32(1 / (2 ** 31 - 1))
    mi = fi.mean((0, 1), keepdims=True)
    back = lambda v: np.clip(v * np.float32(2 ** 31 - 0.5), -2 ** 31, 2 ** 31 - 1)  # noqa: E731
    np.testing.assert_allclose(r["ci"], back((fi - mi) * 0.5 + mi), rtol=1e-6, atol=512)
    np.testing.assert_allclose(r["bi"], back(fi + np.float32(0.75)), rtol=1e-6, atol=512)
    assert r["bi"].max() == 2 ** 31 - 1      # saturated, never wrapped
    gray = (a * np.array([0.2989, 0.5870, 0.1140], np.float32)).sum(-1, keepdims=True)
    np.testing.assert_allclose(r["g"], gray, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["gi"], gray, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["rgb"], np.repeat(gray, 3, -1), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="size 1"):
        im.grayscale_to_rgb(x)
    with pytest.raises(ValueError, match="rank 3"):
        im.adjust_contrast(tf.zeros([4, 4]), 2.0)
    xu = tf.placeholder(tf.float32, [None, None, None])
    with pytest.raises(InvalidArgumentError, match="size 1"):
        _run(im.grayscale_to_rgb(xu), {xu: np.zeros((2, 2, 2), np.float32)})


def test_image_gradients_and_total_variation():
    a = _img((2, 4, 5, 3))
    x = tf.placeholder(tf.float32, [None, None, None, 3])
    dy, dx = tf.image.image_gradients(x)
    tv4 = tf.image.total_variation(x)
    tv3 = tf.image.total_variation(x[0])
    r = _run([dy, dx, tv4, tv3], {x: a})
    ry = np.concatenate([a[:, 1:] - a[:, :-1], np.zeros((2, 1, 5, 3), np.float32)], 1)
    rx = np.concatenate([a[:, :, 1:] - a[:, :, :-1], np.zeros((2, 4, 1, 3), np.float32)], 2)
    tv = np.abs(a[:, 1:] - a[:, :-1]).sum((1, 2, 3)) + np.abs(a[:, :, 1:] - a[:, :, :-1]).sum(
        (1, 2, 3))
    np.testing.assert_allclose(r[0], ry, rtol=1e-6)
    np.testing.assert_allclose(r[1], rx, rtol=1e-6)
    np.testing.assert_allclose(r[2], tv, rtol=1e-5)
    np.testing.assert_allclose(r[3], tv[0], rtol=1e-5)
    with pytest.raises(ValueError, match="4D"):
        tf.image.image_gradients(x[0])
    with pytest.raises(ValueError, match="3 or 4-dimensional"):
        tf.image.total_variation(tf.zeros([3, 3]))
    check_gradients(lambda v: [tf.image.total_variation(v)], [_img((1, 3, 4, 2), np.float64)])


# ---------------------------------------------------------------- TensorFlow cross-check

def _tf_programs():
    im = lambda m: m.image  # noqa: E731
    return {
        "bilinear": lambda m, x: im(m).resize_bilinear(x, [9, 4]),
        "bilinear_ac": lambda m, x: im(m).resize_bilinear(x, [3, 11], align_corners=True),
        "bilinear_hp": lambda m, x: im(m).resize_bilinear(x, [10, 13], half_pixel_centers=True),
        "nearest_hp": lambda m, x: im(m).resize_nearest_neighbor(x, [9, 3],
                                                                 half_pixel_centers=True),
        "nearest_ac": lambda m, x: im(m).resize_nearest_neighbor(x, [4, 12],
                                                                 align_corners=True),
        "grad_bilinear": lambda m, x: m.gradients(m.reduce_sum(m.square(
            im(m).resize_bilinear(x, [7, 9], half_pixel_centers=True))), x)[0],
        "grad_nearest": lambda m, x: m.gradients(m.reduce_sum(m.square(
            im(m).resize_nearest_neighbor(x, [3, 4]))), x)[0],
        "resize_images": lambda m, x: im(m).resize_images(x[0], [6, 6]),
        "aspect": lambda m, x: im(m).resize_images(x, [10, 9], preserve_aspect_ratio=True),
        "crop": lambda m, x: im(m).crop_to_bounding_box(x, 1, 2, 3, 4),
        "pad": lambda m, x: im(m).pad_to_bounding_box(x, 1, 2, 8, 10),
        "crop_or_pad": lambda m, x: im(m).resize_image_with_crop_or_pad(x, 3, 10),
        "central": lambda m, x: im(m).central_crop(x, 0.3),
        "standardize": lambda m, x: im(m).per_image_standardization(x),
        "gray": lambda m, x: im(m).rgb_to_grayscale(x),
        "contrast": lambda m, x: im(m).adjust_contrast(x, 2.),
        "brightness": lambda m, x: im(m).adjust_brightness(x, -0.1),
        "tv": lambda m, x: im(m).total_variation(x),
        "transpose": lambda m, x: im(m).transpose_image(x[0]),
        "flip": lambda m, x: im(m).flip_up_down(x),
        "bicubic": lambda m, x: im(m).resize_bicubic(x, [9, 13]),
        "bicubic_hp": lambda m, x: im(m).resize_bicubic(x, [3, 17], half_pixel_centers=True),
        "bicubic_grad": lambda m, x: m.gradients(m.reduce_sum(m.square(
            im(m).resize_bicubic(x, [8, 5], align_corners=True))), x)[0],
        "patches": lambda m, x: im(m).extract_patches(x, [1, 3, 2, 1], [1, 2, 1, 1],
                                                      [1, 1, 2, 1], "SAME"),
        "patches_grad": lambda m, x: m.gradients(m.reduce_sum(m.square(
            im(m).extract_patches(x, [1, 2, 3, 1], [1, 1, 2, 1], [1, 2, 1, 1], "VALID"))),
            x)[0],
    }


# Results named differently from TensorFlow's (values, shapes and dtypes still
# compared): TF 1.15's per_image_standardization ends in convert_image_dtype back
# to the input dtype (an Identity for float32) where TF 2 returns the division;
# the patches' gradient is one op here, where TF composes it from a sparse matmul.
NAMES_DIFFER = {"standardize", "patches_grad"}


def test_same_as_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    a = _img((2, 5, 7, 3))
    bad = []
    for key, prog in _tf_programs().items():
        got = []
        for m in (tf, v1):
            with m.Graph().as_default():
                x = m.placeholder(m.float32, [2, 5, 7, 3], name="x")
                y = prog(m, x)
                with m.Session() as s:
                    got.append((s.run(y, {x: a}), y.name, y.shape.as_list(), y.dtype.name))
        (ours, *meta_ours), (theirs, *meta_tf) = got
        if key in NAMES_DIFFER:
            meta_tf[0] = meta_ours[0]
        if meta_ours != meta_tf:
            bad.append(f"{key}: {meta_ours} vs TF {meta_tf}")
        elif not np.allclose(ours, theirs, rtol=1e-5, atol=2e-5):
            bad.append(f"{key}: max diff {np.max(np.abs(ours - theirs))}")
    assert not bad, bad
