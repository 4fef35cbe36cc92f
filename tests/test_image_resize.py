"""The bilinear and nearest-neighbor resizes against a numpy transcription of
TF 1.15's kernels (its coordinate mapping with align_corners and
half_pixel_centers, in float32), resize_images, extract_image_patches, and
their gradients by central differences."""
import math

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


# ---------------------------------------------------------------- numpy oracles

def _scale(n_in, n_out, align):
    if align and n_out > 1:
        return np.float32(n_in - 1) / np.float32(n_out - 1)
    return np.float32(n_in) / np.float32(n_out)


def np_bilinear(img, oh, ow, align=False, half=False):
    """TF's ResizeBilinear, output pixel by output pixel, in float32."""
    x = img.astype(np.float32)
    _, h, w, _ = x.shape
    sy, sx = _scale(h, oh, align), _scale(w, ow, align)

    def src(o, s):
        if half:
            return (np.float32(o) + np.float32(0.5)) * s - np.float32(0.5)
        return np.float32(o) * s
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]), np.float32)
    for yo in range(oh):
        fy = src(yo, sy)
        y0, y1 = max(math.floor(fy), 0), min(math.ceil(fy), h - 1)
        ly = np.float32(fy - np.float32(math.floor(fy)))
        for xo in range(ow):
            fx = src(xo, sx)
            x0, x1 = max(math.floor(fx), 0), min(math.ceil(fx), w - 1)
            lx = np.float32(fx - np.float32(math.floor(fx)))
            tl, tr, bl, br = x[:, y0, x0], x[:, y0, x1], x[:, y1, x0], x[:, y1, x1]
            top = tl + (tr - tl) * lx
            bottom = bl + (br - bl) * lx
            out[:, yo, xo] = top + (bottom - top) * ly
    return out


def np_nearest_index(n_in, n_out, align, half):
    s = _scale(n_in, n_out, align)
    idx = []
    for o in range(n_out):
        f = (np.float32(o) + np.float32(0.5)) * s if half else np.float32(o) * s
        i = math.floor(float(f) + 0.5) if align else math.floor(f)   # roundf / floorf
        i = min(i, n_in - 1)
        idx.append(max(i, 0) if half else i)
    return np.array(idx)


def np_nearest(img, oh, ow, align=False, half=False):
    _, h, w, _ = img.shape
    return img[:, np_nearest_index(h, oh, align, half)][:, :, np_nearest_index(w, ow, align,
                                                                                 half)]


# ---------------------------------------------------------------- resizing

_MODES = [(False, False), (True, False), (False, True)]
_SIZES = [(9, 4), (3, 11), (1, 1), (5, 7), (10, 14), (2, 3)]


@pytest.mark.parametrize("align,half", _MODES)
def test_resize_bilinear_and_nearest_against_tf_formulas(align, half):
    a = _img((2, 5, 7, 3))
    x = tf.placeholder(tf.float32, [None, 5, 7, 3])
    outs = {}
    for oh, ow in _SIZES:
        outs["b", oh, ow] = tf.image.resize_bilinear(x, [oh, ow], align_corners=align,
                                                     half_pixel_centers=half)
        outs["n", oh, ow] = tf.image.resize_nearest_neighbor(
            x, [oh, ow], align_corners=align, half_pixel_centers=half)
        assert outs["b", oh, ow].shape.as_list() == [None, oh, ow, 3]
    r = _run(outs, {x: a})
    for oh, ow in _SIZES:
        np.testing.assert_allclose(r["b", oh, ow], np_bilinear(a, oh, ow, align, half),
                                   rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(r["n", oh, ow], np_nearest(a, oh, ow, align, half))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
def test_resize_dtypes(dtype):
    a = _img((1, 4, 3, 2), dtype)
    x = tf.placeholder(tf.as_dtype(dtype), [1, 4, 3, 2])
    b = tf.image.resize_bilinear(x, [7, 5], half_pixel_centers=True)
    n = tf.image.resize_nearest_neighbor(x, [2, 6])
    assert b.dtype == tf.float32 and n.dtype == tf.as_dtype(dtype)
    rb, rn = _run([b, n], {x: a})
    assert rb.dtype == np.float32 and rn.dtype == dtype
    np.testing.assert_allclose(rb, np_bilinear(a, 7, 5, half=True), rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(rn, np_nearest(a, 2, 6))


def test_resize_images_methods_ranks_and_shapes():
    a3, a4 = _img((5, 7, 3)), _img((2, 5, 7, 3))
    x3 = tf.placeholder(tf.float32, [5, 7, 3])
    x4 = tf.placeholder(tf.float32, [None, None, None, 3])
    im = tf.image
    outs = {"b3": im.resize_images(x3, [8, 4]),
            "n4": im.resize_images(x4, [3, 9], method=im.ResizeMethod.NEAREST_NEIGHBOR,
                                   align_corners=True),
            "r4": im.resize(x4, [6, 6], method="nearest"),
            "same": im.resize_images(x3, [5, 7]), "same4": im.resize_images(x4, [5, 7]),
            "aspect": im.resize_images(x3, [10, 10], preserve_aspect_ratio=True)}
    assert outs["b3"].shape.as_list() == [8, 4, 3]
    assert outs["aspect"].shape.as_list() == [7, 10, 3]
    assert outs["n4"].shape.as_list() == [None, 3, 9, 3]
    assert outs["same"].op.type == "Squeeze" and outs["same4"].op.type == "ResizeBilinear"
    same = im.resize_images(a4, [5, 7])
    assert same.op.type == "Const"      # TF skips a resize to the size the image has
    r = _run(outs, {x3: a3, x4: a4})
    np.testing.assert_allclose(r["b3"], np_bilinear(a3[None], 8, 4)[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(r["n4"], np_nearest(a4, 3, 9, align=True))
    np.testing.assert_array_equal(r["r4"], np_nearest(a4, 6, 6))
    np.testing.assert_array_equal(r["same"], a3)
    np.testing.assert_array_equal(r["same4"], a4)     # scale 1: every tap on a pixel
    # 5x7 into 10x10 keeping the aspect ratio: scale min(10/5, 10/7) -> 7x10
    np.testing.assert_allclose(r["aspect"], np_bilinear(a3[None], 7, 10)[0], rtol=1e-6,
                               atol=1e-6)
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        im.resize_images(tf.zeros([4, 4]), [2, 2])
    with pytest.raises(ValueError, match="2 elements"):
        im.resize_images(x3, [2, 2, 2])
    with pytest.raises(ValueError, match="not implemented"):
        im.resize_images(x3, [2, 2], method=7)
    area = im.resize_images(x3, [2, 2], method=im.ResizeMethod.AREA)   # (values: below)
    assert area.dtype == tf.float32 and area.shape.as_list()[:2] == [2, 2]


def test_resize_errors():
    x = tf.placeholder(tf.float32, [1, 4, 4, 1])
    with pytest.raises(ValueError, match="rank 4"):
        tf.image.resize_bilinear(tf.zeros([4, 4, 1]), [2, 2])
    with pytest.raises(ValueError, match="Dimension must be 2"):
        tf.image.resize_nearest_neighbor(x, [2, 2, 2])
    with pytest.raises(TypeError, match="int32"):
        tf.image.resize_bilinear(x, tf.constant([2, 2], tf.int64))
    a = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(InvalidArgumentError, match="align_corners must be False"):
        _run(tf.image.resize_bilinear(x, [2, 2], align_corners=True, half_pixel_centers=True),
             {x: a})
    with pytest.raises(InvalidArgumentError, match="output dimensions must be positive"):
        _run(tf.image.resize_nearest_neighbor(x, [0, 2]), {x: a})
    z = tf.placeholder(tf.float32, [None, None, None, 1])
    with pytest.raises(InvalidArgumentError, match="non-zero size"):
        _run(tf.image.resize_bilinear(z, [2, 2]), {z: np.zeros((1, 0, 3, 1), np.float32)})
    # an empty batch resizes to an empty batch
    assert _run(tf.image.resize_bilinear(z, [3, 2]),
                {z: np.zeros((0, 4, 4, 1), np.float32)}).shape == (0, 3, 2, 1)


def _numeric_grad_linear(f, a, eps=0.5):
    """Central differences of a function linear in `a` (exact but for rounding)."""
    g = np.zeros_like(a, dtype=np.float64)
    for idx in np.ndindex(*a.shape):
        p, m = a.copy(), a.copy()
        p[idx] += eps
        m[idx] -= eps
        g[idx] = (f(p) - f(m)) / (2 * eps)
    return g


@pytest.mark.parametrize("align,half", _MODES)
@pytest.mark.parametrize("size", [(7, 3), (2, 5)])
def test_resize_bilinear_gradient_by_central_differences(align, half, size):
    a = _img((2, 4, 3, 2))
    w = _img((2,) + size + (2,))
    x = tf.placeholder(tf.float32, a.shape)
    loss = tf.reduce_sum(tf.image.resize_bilinear(x, size, align_corners=align,
                                                  half_pixel_centers=half) * w)
    g = tf.gradients(loss, x)[0]
    assert g.op.type == "ResizeBilinearGrad" and g.dtype == tf.float32
    with tf.Session() as s:
        got = s.run(g, {x: a})
        num = _numeric_grad_linear(lambda v: float(s.run(loss, {x: v})), a)
    np.testing.assert_allclose(got, num, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("align,half", _MODES)
def test_resize_nearest_gradient_by_central_differences(align, half):
    a = _img((1, 4, 5, 2), np.float64)
    check_gradients(lambda x: [tf.image.resize_nearest_neighbor(
        x, [7, 3], align_corners=align, half_pixel_centers=half)], [a])


def test_resize_bilinear_gradient_of_float64_images_and_int_images():
    a = _img((1, 3, 3, 1), np.float64)
    x = tf.placeholder(tf.float64, a.shape)
    y = tf.image.resize_bilinear(x, [5, 4])
    g = tf.gradients(tf.reduce_sum(y), x)[0]
    assert g.dtype == tf.float64
    # every output pixel's weights sum to one: the gradient of the sum counts
    ref = _numeric_grad_linear(lambda v: float(np_bilinear(v, 5, 4).astype(np.float64).sum()),
                               a)
    np.testing.assert_allclose(_run(g, {x: a}), ref, rtol=1e-5, atol=1e-5)
    xi = tf.placeholder(tf.int32, [1, 3, 3, 1])
    assert tf.gradients(tf.reduce_sum(tf.image.resize_bilinear(xi, [5, 4])), xi) == [None]


# ---------------------------------------------------------------- bicubic

def _keys(t, a):
    """Keys' cubic convolution kernel at |t| <= 2."""
    t = abs(t)
    if t <= 1:
        return ((a + 2) * t - (a + 3)) * t * t + 1
    return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a


def np_bicubic_taps(n_in, n_out, align, half):
    """TF 1.15's bicubic taps: the kernel sampled at the fractional offset rounded
    to 1/1024, a = -0.75 (half_pixel_centers: a = -0.5, outside taps dropped and
    the weights renormalized)."""
    s = _scale(n_in, n_out, align)
    a = -0.5 if half else -0.75
    taps = []
    for o in range(n_out):
        f = (np.float32(o) + np.float32(0.5)) * s - np.float32(0.5) if half else \
            np.float32(o) * s
        base = math.floor(f)
        q = round(float(np.float32(f - np.float32(base))) * 1024) / 1024   # half to even
        ws, ids = [], []
        for k in (-1, 0, 1, 2):
            i = min(max(base + k, 0), n_in - 1)
            w = np.float32(_keys(np.float32(q - k), a)) if not (half and i != base + k) \
                else np.float32(0)
            ids.append(i)
            ws.append(w)
        if half:
            tot = ((ws[0] + ws[1]) + ws[2]) + ws[3]
            ws = [w * (np.float32(1) / tot) for w in ws]
        taps.append((ids, ws))
    return taps


def np_bicubic(img, oh, ow, align=False, half=False):
    x = img.astype(np.float32)
    _, h, w, _ = x.shape
    rows = np.zeros((x.shape[0], oh, w, x.shape[3]), np.float32)
    for o, (ids, ws) in enumerate(np_bicubic_taps(h, oh, align, half)):
        acc = x[:, ids[0]] * ws[0]
        for i, wt in zip(ids[1:], ws[1:]):
            acc = acc + x[:, i] * wt
        rows[:, o] = acc
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]), np.float32)
    for o, (ids, ws) in enumerate(np_bicubic_taps(w, ow, align, half)):
        acc = rows[:, :, ids[0]] * ws[0]
        for i, wt in zip(ids[1:], ws[1:]):
            acc = acc + rows[:, :, i] * wt
        out[:, :, o] = acc
    return out


@pytest.mark.parametrize("align,half", _MODES)
def test_resize_bicubic_against_tf_formulas(align, half):
    a = _img((2, 5, 7, 3))
    x = tf.placeholder(tf.float32, [None, 5, 7, 3])
    sizes = _SIZES + [(17, 23)]
    outs = [tf.image.resize_bicubic(x, s, align_corners=align, half_pixel_centers=half)
            for s in sizes]
    outs.append(tf.image.resize_images(x, [6, 9], method=tf.image.ResizeMethod.BICUBIC,
                                       align_corners=align) if not half else outs[0])
    got = _run(outs, {x: a})
    for (oh, ow), g in zip(sizes, got):
        np.testing.assert_allclose(g, np_bicubic(a, oh, ow, align, half), rtol=1e-5,
                                   atol=1e-5)
    if not half:
        np.testing.assert_allclose(got[-1], np_bicubic(a, 6, 9, align), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("align,half", _MODES)
def test_resize_bicubic_gradient_by_central_differences(align, half):
    a = _img((1, 4, 5, 2))
    w = _img((1, 7, 3, 2))
    x = tf.placeholder(tf.float32, a.shape)
    loss = tf.reduce_sum(tf.image.resize_bicubic(x, [7, 3], align_corners=align,
                                                 half_pixel_centers=half) * w)
    g = tf.gradients(loss, x)[0]
    assert g.op.type == "ResizeBicubicGrad"
    with tf.Session() as s:
        got = s.run(g, {x: a})
        num = _numeric_grad_linear(lambda v: float(s.run(loss, {x: v})), a)
    np.testing.assert_allclose(got, num, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- extract_image_patches

def np_patches(x, k, s, r, padding):
    """Each output pixel: the window's taps, rows then columns then channels."""
    _, h, w, _ = x.shape
    pads, outs = [], []
    for n, kk, ss, rr in ((h, k[0], s[0], r[0]), (w, k[1], s[1], r[1])):
        eff = (kk - 1) * rr + 1
        if padding == "SAME":
            o = -(-n // ss)
            total = max((o - 1) * ss + eff - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            o = -(-(n - eff + 1) // ss)
            pads.append((0, 0))
        outs.append(o)
    xp = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    out = np.zeros((x.shape[0], outs[0], outs[1], k[0] * k[1] * x.shape[3]), x.dtype)
    for i in range(outs[0]):
        for j in range(outs[1]):
            taps = [xp[:, i * s[0] + a * r[0], j * s[1] + b * r[1]]
                    for a in range(k[0]) for b in range(k[1])]
            out[:, i, j] = np.concatenate(taps, -1)
    return out


_PATCHES = [((2, 2), (1, 1), (1, 1), "VALID"), ((3, 2), (2, 3), (1, 1), "SAME"),
            ((2, 3), (2, 1), (2, 2), "SAME"), ((3, 3), (3, 2), (2, 1), "VALID"),
            ((1, 1), (1, 1), (1, 1), "SAME"), ((4, 1), (1, 4), (1, 1), "SAME")]


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_extract_image_patches_against_numpy(dtype):
    a = _img((2, 7, 6, 3), dtype)
    x = tf.placeholder(tf.as_dtype(dtype), [None, 7, 6, 3])
    outs = []
    for k, s, r, p in _PATCHES:
        y = tf.image.extract_patches(x, [1, *k, 1], [1, *s, 1], [1, *r, 1], p)
        assert y.shape.as_list() == [None] + list(np_patches(a, k, s, r, p).shape[1:])
        outs.append(y)
    outs.append(tf.extract_image_patches(x, ksizes=[1, 2, 2, 1], strides=[1, 1, 1, 1],
                                         rates=[1, 1, 1, 1], padding="SAME"))
    got = _run(outs, {x: a})
    for (k, s, r, p), g in zip(_PATCHES, got):
        np.testing.assert_array_equal(g, np_patches(a, k, s, r, p))
    np.testing.assert_array_equal(got[-1], np_patches(a, (2, 2), (1, 1), (1, 1), "SAME"))


@pytest.mark.parametrize("k,s,r,p", _PATCHES[1:4])
def test_extract_image_patches_gradient(k, s, r, p):
    check_gradients(lambda v: [tf.image.extract_image_patches(
        v, [1, *k, 1], [1, *s, 1], [1, *r, 1], p)], [_img((1, 5, 6, 2), np.float64)])


def test_extract_image_patches_errors():
    x = tf.zeros([1, 4, 4, 2])
    ones = [1, 1, 1, 1]
    with pytest.raises(ValueError, match="4 values"):
        tf.image.extract_patches(x, [1, 2, 2], ones, ones, "SAME")
    with pytest.raises(ValueError, match="batch nor depth"):
        tf.image.extract_patches(x, [2, 2, 2, 1], ones, ones, "SAME")
    with pytest.raises(ValueError, match="padding"):
        tf.image.extract_patches(x, ones, ones, ones, "FULL")
    with pytest.raises(ValueError, match="Negative dimension size"):
        tf.image.extract_patches(x, [1, 5, 1, 1], ones, ones, "VALID")
    with pytest.raises(ValueError, match="rank 4"):
        tf.image.extract_patches(tf.zeros([4, 4, 2]), ones, ones, ones, "SAME")
    z = tf.placeholder(tf.float32, [1, None, None, 1])
    with pytest.raises(InvalidArgumentError, match="Negative dimension size"):
        _run(tf.image.extract_patches(z, [1, 3, 3, 1], ones, ones, "VALID"),
             {z: np.zeros((1, 2, 5, 1), np.float32)})


def test_resize_area_against_box_means_and_tensorflow():
    """Integer factors: each output pixel the mean of its block; fractional ones
    compared with TensorFlow's ResizeArea (skipped without TensorFlow)."""
    x = np.random.default_rng(3).random((2, 6, 8, 3)).astype(np.float32)
    with tf.Graph().as_default():
        out = tf.image.resize_area(x, [3, 2])
        area = tf.image.resize_images(x[0], [2, 4], method=tf.image.ResizeMethod.AREA)
        with tf.Session() as s:
            got, got2 = s.run([out, area])
    np.testing.assert_allclose(got, x.reshape(2, 3, 2, 2, 4, 3).mean(axis=(2, 4)), rtol=1e-6)
    np.testing.assert_allclose(got2, x[0].reshape(2, 3, 4, 2, 3).mean(axis=(1, 3)), rtol=1e-6)
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_v2_behavior()
    for size, ac in (((4, 3), False), ((9, 11), False), ((4, 5), True), ((1, 1), False)):
        with v1.Graph().as_default(), v1.Session() as s:
            want = s.run(v1.image.resize_area(x, size, align_corners=ac))
        with tf.Graph().as_default(), tf.Session() as s:
            mine = s.run(tf.image.resize_area(x, size, align_corners=ac))
        np.testing.assert_allclose(mine, want, rtol=2e-6, atol=2e-7)
