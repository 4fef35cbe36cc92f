"""Convolution, pooling and fused batch norm against numpy transcriptions of
TF's definitions, and their gradients against central finite differences.

Many cases share one graph and one run, so each test compiles once or twice."""
import numpy as np
import pytest

import tfcompile as tf

from gradcheck import check_gradients


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


# ---------------------------------------------------------------- numpy references

def _same_pads(n, k, s, d):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return out, total // 2, total - total // 2


def _geom(n, k, s, d, padding):
    if padding == "SAME":
        return _same_pads(n, k, s, d)
    if padding == "VALID":
        return (n - (k - 1) * d - 1) // s + 1, 0, 0
    lo, hi = padding
    return (n + lo + hi - (k - 1) * d - 1) // s + 1, lo, hi


def np_conv2d(x, w, strides, padding, dilations=(1, 1)):
    """NHWC x, HWIO w: out[n,i,j,o] = sum xpad[n, i*s + a*d, j*s + b*d, c] w[a,b,c,o]."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    ph = padding if isinstance(padding, str) else padding[0]
    pw = padding if isinstance(padding, str) else padding[1]
    ho, pt, pb = _geom(h, kh, strides[0], dilations[0], ph)
    wo, pl, pr = _geom(wd, kw, strides[1], dilations[1], pw)
    xp = np.pad(x, [(0, 0), (pt, pb), (pl, pr), (0, 0)])
    out = np.zeros((n, ho, wo, o), np.float64)
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    out[:, i, j] += xp[:, i * strides[0] + a * dilations[0],
                                       j * strides[1] + b * dilations[1]] @ w[a, b]
    return out


def np_depthwise(x, w, strides, padding, dilations=(1, 1)):
    n, h, wd, c = x.shape
    kh, kw, _, m = w.shape
    outs = [np_conv2d(x[..., ci:ci + 1], w[:, :, ci:ci + 1, :], strides, padding, dilations)
            for ci in range(c)]
    return np.concatenate(outs, axis=3)


def np_conv2d_transpose(dy, w, in_shape, strides, padding):
    """Scatter form: each dy[n,i,j] adds w[a,b] @ dy to xpad[n, i*s + a, j*s + b]."""
    n, h, wd, c = in_shape
    kh, kw, _, o = w.shape
    ho, pt, pb = _geom(h, kh, strides[0], 1, padding)
    wo, pl, pr = _geom(wd, kw, strides[1], 1, padding)
    xp = np.zeros((n, h + pt + pb + kh, wd + pl + pr + kw, c))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    xp[:, i * strides[0] + a, j * strides[1] + b] += dy[:, i, j] @ w[a, b].T
    return xp[:, pt:pt + h, pl:pl + wd]


def np_pool(x, k, s, padding, kind):
    n, h, wd, c = x.shape
    ho, pt, pb = _geom(h, k[0], s[0], 1, padding)
    wo, pl, pr = _geom(wd, k[1], s[1], 1, padding)
    out = np.zeros((n, ho, wo, c), x.dtype)
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(r0, 0):r0 + k[0], max(c0, 0):c0 + k[1]]
            out[:, i, j] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


def np_max_pool_grad(x, dy, k, s, padding):
    """TF's routing: each window's gradient to its first max in row-major order."""
    n, h, wd, c = x.shape
    ho, pt, _ = _geom(h, k[0], s[0], 1, padding)
    wo, pl, _ = _geom(wd, k[1], s[1], 1, padding)
    dx = np.zeros_like(x)
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    r0, c0 = i * s[0] - pt, j * s[1] - pl
                    best = None
                    for r in range(max(r0, 0), min(r0 + k[0], h)):
                        for q in range(max(c0, 0), min(c0 + k[1], wd)):
                            if best is None or x[b, r, q, ch] > x[b, best[0], best[1], ch]:
                                best = (r, q)
                    dx[b, best[0], best[1], ch] += dy[b, i, j, ch]
    return dx


def _nchw(a):
    return np.transpose(a, (0, 3, 1, 2))


def _nhwc(a):
    return np.transpose(a, (0, 2, 3, 1))


def _run(fetch, feeds):
    with tf.Session() as s:
        return s.run(fetch, feeds)


# ---------------------------------------------------------------- forward

CONV_CASES = [
    # x shape, w shape, strides, padding, dilations, format
    ((1, 5, 5, 1), (3, 3, 1, 1), (1, 1), "SAME", (1, 1), "NHWC"),
    ((2, 7, 6, 3), (3, 2, 3, 4), (2, 2), "SAME", (1, 1), "NHWC"),
    ((2, 7, 7, 2), (3, 3, 2, 3), (2, 2), "VALID", (1, 1), "NHWC"),
    ((1, 6, 7, 2), (3, 3, 2, 2), (1, 1), "SAME", (2, 2), "NHWC"),
    ((1, 9, 8, 2), (2, 3, 2, 2), (1, 2), "VALID", (2, 1), "NHWC"),
    ((2, 6, 5, 3), (2, 3, 3, 2), (2, 1), "SAME", (1, 1), "NCHW"),
    ((1, 5, 4, 2), (3, 3, 2, 2), (1, 1), ((1, 2), (0, 1)), (1, 1), "NHWC"),
    ((0, 4, 4, 2), (3, 3, 2, 3), (1, 1), "SAME", (1, 1), "NHWC"),
    ((3, 4, 5, 6), (1, 1, 6, 2), (1, 1), "VALID", (1, 1), "NHWC"),
    ((2, 5, 5, 4), (5, 5, 4, 3), (1, 1), "SAME", (1, 1), "NHWC"),
]


def _padding_arg(padding):
    if isinstance(padding, str):
        return padding
    return [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]


def _seq(v, fmt):
    return [1, 1] + list(v) if fmt == "NCHW" else [1] + list(v) + [1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_forward(dtype):
    rng = np.random.default_rng(1)
    feeds, fetch, want = {}, [], []
    for xs, ws, st, pad, dil, fmt in CONV_CASES:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        fed = _nchw(x) if fmt == "NCHW" else x
        px = tf.placeholder(tf.as_dtype(dtype), fed.shape)
        pw = tf.placeholder(tf.as_dtype(dtype), ws)
        feeds[px], feeds[pw] = fed, w
        y = tf.nn.conv2d(px, pw, _seq(st, fmt), _padding_arg(pad), data_format=fmt,
                         dilations=_seq(dil, fmt))
        ref = np_conv2d(x.astype(np.float64), w.astype(np.float64), st, pad, dil)
        ref = _nchw(ref) if fmt == "NCHW" else ref
        assert y.shape.as_list() == list(ref.shape), (xs, ws, st, pad)
        fetch.append(y)
        want.append(ref)
    got = _run(fetch, feeds)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for g, w_, case in zip(got, want, CONV_CASES):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w_, rtol=tol, atol=tol, err_msg=str(case))


def test_conv2d_names_and_errors():
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    w = tf.placeholder(tf.float32, [5, 5, 1, 32])
    y = tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")
    assert y.op.type == "Conv2D" and y.name == "Conv2D:0"
    assert y.shape.as_list() == [None, 28, 28, 32]
    assert y.op.get_attr("strides") == [1, 1, 1, 1]
    p = tf.nn.max_pool(y, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    assert p.name == "MaxPool:0" and p.shape.as_list() == [None, 14, 14, 32]
    a = tf.nn.avg_pool(y, ksize=3, strides=2, padding="VALID")
    assert a.name == "AvgPool:0" and a.shape.as_list() == [None, 13, 13, 32]
    t = tf.nn.conv2d_transpose(y, tf.zeros([3, 3, 4, 32]), [8, 56, 56, 4], [1, 2, 2, 1])
    assert t.op.type == "Conv2DBackpropInput" and t.name == "conv2d_transpose:0"
    assert t.shape.as_list() == [8, 56, 56, 4]
    d = tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 1, 2]), [1, 1, 1, 1], "VALID")
    assert d.op.type == "DepthwiseConv2dNative" and d.name == "depthwise:0"
    assert d.shape.as_list() == [None, 26, 26, 2]
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.nn.conv2d(x, tf.zeros([3, 3, 2, 4]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Negative dimension size"):
        tf.nn.conv2d(x, tf.zeros([30, 3, 1, 4]), [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="batch and depth"):
        tf.nn.conv2d(x, w, [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="padding"):
        tf.nn.conv2d(x, w, [1, 1, 1, 1], "FULL")
    with pytest.raises(ValueError, match="rank 4"):
        tf.nn.conv2d(tf.zeros([3, 3]), w, [1, 1, 1, 1], "SAME")
    with pytest.raises(TypeError):
        tf.nn.conv2d(tf.zeros([1, 3, 3, 1], tf.int32), tf.zeros([1, 1, 1, 1], tf.int32),
                     [1, 1, 1, 1], "SAME")


DW_CASES = [
    ((2, 6, 5, 3), (3, 3, 3, 2), (1, 1), "SAME", (1, 1), "NHWC"),
    ((1, 7, 7, 2), (3, 2, 2, 1), (2, 2), "VALID", (1, 1), "NHWC"),
    ((1, 7, 6, 2), (2, 2, 2, 3), (1, 1), "SAME", (2, 2), "NHWC"),
    ((2, 5, 6, 2), (3, 3, 2, 2), (2, 1), "SAME", (1, 1), "NCHW"),
]


@pytest.fixture(params=["gather", "col2im"])
def input_grad_form(request, monkeypatch):
    """Both lowerings of Conv2DBackpropInput: patches of the spread gradient times
    the flipped filter, or gradient columns folded back (col2im)."""
    from tfcompile.ops import conv_ops
    monkeypatch.setattr(conv_ops, "USE_COL2IM", lambda cols, patches:
                        request.param == "col2im")
    return request.param


def test_depthwise_and_transpose_forward(input_grad_form):
    rng = np.random.default_rng(2)
    feeds, fetch, want = {}, [], []
    for xs, ws, st, pad, dil, fmt in DW_CASES:
        x = rng.standard_normal(xs)
        w = rng.standard_normal(ws)
        fed = _nchw(x) if fmt == "NCHW" else x
        px, pw = tf.placeholder(tf.float64, fed.shape), tf.placeholder(tf.float64, ws)
        feeds[px], feeds[pw] = fed, w
        fetch.append(tf.nn.depthwise_conv2d(px, pw, _seq(st, fmt), pad, data_format=fmt,
                                            rate=dil))
        ref = np_depthwise(x, w, st, pad, dil)
        want.append(_nchw(ref) if fmt == "NCHW" else ref)
    for in_shape, ws, st, pad in [((2, 7, 6, 3), (3, 3, 3, 4), (2, 2), "SAME"),
                                  ((1, 8, 8, 2), (2, 2, 2, 3), (2, 2), "VALID"),
                                  ((1, 5, 7, 1), (3, 2, 1, 2), (1, 2), "VALID"),
                                  ((1, 6, 5, 2), (3, 3, 2, 2), (1, 1), "SAME"),
                                  ((1, 7, 7, 2), (3, 3, 2, 1), (3, 3), "SAME")]:
        w = rng.standard_normal(ws)
        ho = _geom(in_shape[1], ws[0], st[0], 1, pad)[0]
        wo = _geom(in_shape[2], ws[1], st[1], 1, pad)[0]
        dy = rng.standard_normal((in_shape[0], ho, wo, ws[3]))
        pd, pw = tf.placeholder(tf.float64, dy.shape), tf.placeholder(tf.float64, ws)
        feeds[pd], feeds[pw] = dy, w
        fetch.append(tf.nn.conv2d_transpose(pd, pw, list(in_shape), _seq(st, "NHWC"), pad))
        want.append(np_conv2d_transpose(dy, w, in_shape, st, pad))
    got = _run(fetch, feeds)
    for g, w_ in zip(got, want):
        np.testing.assert_allclose(g, w_, rtol=1e-10, atol=1e-10)


POOL_CASES = [
    # x shape, ksize, strides, padding, format
    ((2, 5, 5, 3), (2, 2), (2, 2), "SAME", "NHWC"),
    ((1, 7, 6, 2), (3, 3), (2, 2), "SAME", "NHWC"),
    ((2, 7, 7, 1), (3, 2), (2, 1), "VALID", "NHWC"),
    ((1, 6, 6, 2), (2, 2), (2, 2), "VALID", "NHWC"),
    ((2, 3, 5, 4), (3, 3), (1, 1), "SAME", "NCHW"),
    ((1, 4, 4, 1), (1, 1), (3, 3), "SAME", "NHWC"),
    ((0, 4, 4, 2), (2, 2), (2, 2), "SAME", "NHWC"),
]


def test_pools_forward():
    rng = np.random.default_rng(3)
    feeds, fetch, want = {}, [], []
    for xs, k, s, pad, fmt in POOL_CASES:
        x = rng.standard_normal(xs).astype(np.float32)
        fed = _nchw(x) if fmt == "NCHW" else x
        px = tf.placeholder(tf.float32, fed.shape)
        feeds[px] = fed
        for kind, fn in (("max", tf.nn.max_pool), ("avg", tf.nn.avg_pool)):
            y = fn(px, _seq(k, fmt), _seq(s, fmt), pad, data_format=fmt)
            ref = np_pool(x, k, s, pad, kind)
            ref = _nchw(ref) if fmt == "NCHW" else ref
            assert y.shape.as_list() == list(ref.shape)
            fetch.append(y)
            want.append(ref)
    xi = rng.integers(-50, 50, (2, 5, 5, 3)).astype(np.int32)
    pi = tf.placeholder(tf.int32, xi.shape)
    feeds[pi] = xi
    fetch.append(tf.nn.max_pool(pi, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"))
    want.append(np_pool(xi, (2, 2), (2, 2), "SAME", "max"))
    got = _run(fetch, feeds)
    for g, w_ in zip(got, want):
        assert g.dtype == w_.dtype
        np.testing.assert_allclose(g, w_, rtol=1e-5, atol=1e-6)


def test_max_pool_grad_routes_to_first_max():
    # ties everywhere: each window's gradient lands on its first (row-major) cell
    x = np.zeros((1, 5, 5, 2), np.float32)
    x[0, 1, 1, 0] = x[0, 2, 2, 0] = 1.0
    dy_shape = (1, 3, 3, 2)
    for k, s, pad in [((2, 2), (2, 2), "SAME"), ((3, 3), (2, 2), "SAME"),
                      ((3, 3), (1, 1), "VALID")]:
        tf.reset_default_graph()
        ho = _geom(5, k[0], s[0], 1, pad)[0]
        dy = np.arange(1, ho * ho * 2 + 1, dtype=np.float32).reshape(1, ho, ho, 2)
        px = tf.placeholder(tf.float32, x.shape)
        y = tf.nn.max_pool(px, _seq(k, "NHWC"), _seq(s, "NHWC"), pad)
        (g,) = tf.gradients(y, [px], grad_ys=tf.constant(dy))
        assert g.op.type == "MaxPoolGrad"
        got = _run(g, {px: x})
        np.testing.assert_array_equal(got, np_max_pool_grad(x, dy, k, s, pad))
    del dy_shape


def test_fused_batch_norm_forward():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 5, 2)).astype(np.float32) * 3 + 1
    scale, offset = rng.random(2).astype(np.float32) + 0.5, rng.standard_normal(2).astype(
        np.float32)
    mean, var = rng.standard_normal(2).astype(np.float32), rng.random(2).astype(np.float32) + 1
    px = tf.placeholder(tf.float32, x.shape)
    y, bm, bv = tf.nn.fused_batch_norm(px, scale, offset, epsilon=1e-3)
    assert y.op.type == "FusedBatchNormV3" and y.name == "FusedBatchNormV3:0"
    assert bm.shape.as_list() == [2] and bv.name == "FusedBatchNormV3:2"
    yi, bmi, bvi = tf.nn.fused_batch_norm(px, scale, offset, mean, var, epsilon=1e-3,
                                          is_training=False)
    yc, _, _ = tf.nn.fused_batch_norm(tf.transpose(px, [0, 3, 1, 2]), scale, offset,
                                      data_format="NCHW")
    r = _run([y, bm, bv, yi, bmi, bvi, yc], {px: x})
    m, v = x.mean((0, 1, 2)), x.var((0, 1, 2))
    n = x.size // 2
    np.testing.assert_allclose(r[0], (x - m) / np.sqrt(v + 1e-3) * scale + offset,
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(r[1], m, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r[2], v * n / (n - 1), rtol=1e-4)
    np.testing.assert_allclose(r[3], (x - mean) / np.sqrt(var + 1e-3) * scale + offset,
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(r[4], mean)
    np.testing.assert_allclose(r[5], var)
    np.testing.assert_allclose(r[6], _nchw(r[0]), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="must be a 1-D tensor"):
        tf.nn.fused_batch_norm(px, scale, offset, is_training=False)


# ---------------------------------------------------------------- gradients

_check_gradients = check_gradients


def test_conv2d_gradients(input_grad_form):
    rng = np.random.default_rng(5)
    x1, w1 = rng.standard_normal((2, 5, 4, 2)), rng.standard_normal((3, 2, 2, 3))
    x2, w2 = rng.standard_normal((1, 6, 5, 2)), rng.standard_normal((2, 3, 2, 2))
    x3, w3 = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 3, 2, 2))

    def build(a, b, c, d, e, f):
        return [tf.nn.conv2d(a, b, [1, 2, 2, 1], "SAME"),
                tf.nn.conv2d(c, d, [1, 1, 1, 1], "VALID", dilations=[1, 2, 1, 1]),
                tf.nn.conv2d(e, f, [1, 1, 2, 1], "SAME", data_format="NCHW")]
    _check_gradients(build, [x1, w1, x2, w2, x3, w3])


def test_depthwise_and_transpose_gradients():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 5, 4, 2)), rng.standard_normal((3, 3, 2, 2))
    dy, wt = rng.standard_normal((1, 3, 3, 2)), rng.standard_normal((3, 3, 1, 2))

    def build(a, b, c, d):
        return [tf.nn.depthwise_conv2d(a, b, [1, 2, 1, 1], "SAME"),
                tf.nn.conv2d_transpose(c, d, [1, 5, 6, 1], [1, 2, 2, 1], "SAME")]
    _check_gradients(build, [x, w, dy, wt])


def test_pool_and_batch_norm_gradients():
    rng = np.random.default_rng(7)
    # distinct values keep max pooling differentiable under the perturbation
    x1 = rng.permutation(2 * 5 * 5 * 2).reshape(2, 5, 5, 2) / 7.0
    x2 = rng.standard_normal((1, 5, 6, 2))
    x3 = rng.standard_normal((3, 2, 2, 2))
    sc, of = rng.random(2) + 0.5, rng.standard_normal(2)

    def build(a, b, c, s, o):
        y, _, _ = tf.nn.fused_batch_norm(c, s, o, epsilon=1e-3)
        yi, _, _ = tf.nn.fused_batch_norm(c, s, o, mean=[0.1, -0.2], variance=[1.5, 0.7],
                                          epsilon=1e-3, is_training=False)
        yc, _, _ = tf.nn.fused_batch_norm(tf.transpose(c, [0, 3, 1, 2]), s, o,
                                          data_format="NCHW")
        yci, _, _ = tf.nn.fused_batch_norm(tf.transpose(c, [0, 3, 1, 2]), s, o,
                                           mean=[0.3, 0.1], variance=[1.0, 2.0],
                                           is_training=False, data_format="NCHW")
        return [yc, yci, tf.nn.max_pool(a, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
                tf.nn.max_pool(a, [1, 1, 2, 2], [1, 1, 2, 2], "VALID", data_format="NCHW"),
                tf.nn.avg_pool(b, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"), y, yi]
    _check_gradients(build, [x1, x2, x3, sc, of])


def test_conv_and_pool_layers():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    px = tf.placeholder(tf.float32, [None, 9, 8, 3])
    h = tf.layers.conv2d(px, 4, 3, padding="same", activation=tf.nn.relu,
                         bias_initializer=tf.constant_initializer(0.1))
    p = tf.layers.max_pooling2d(h, 2, 2)
    h2 = tf.layers.conv2d(p, 2, [2, 3], strides=(1, 2), name="second")
    a = tf.layers.average_pooling2d(h, [3, 3], 2, padding="same")
    assert h.name == "conv2d/Relu:0" and p.name == "max_pooling2d/MaxPool:0"
    assert h2.name == "second/BiasAdd:0" and a.name == "average_pooling2d/AvgPool:0"
    assert h.op.inputs[0].op.inputs[0].op.name == "conv2d/Conv2D"
    assert [v.name for v in tf.trainable_variables()] == [
        "conv2d/kernel:0", "conv2d/bias:0", "second/kernel:0", "second/bias:0"]
    assert p.shape.as_list() == [None, 4, 4, 4] and h2.shape.as_list() == [None, 3, 1, 2]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        k1, k2, b2, got_p, got_h2, got_a = s.run(
            [tf.trainable_variables()[0], tf.trainable_variables()[2],
             tf.trainable_variables()[3], p, h2, a], {px: x})
    ref_h = np.maximum(np_conv2d(x, k1, (1, 1), "SAME") + 0.1, 0)
    ref_p = np_pool(ref_h, (2, 2), (2, 2), "VALID", "max")
    np.testing.assert_allclose(got_p, ref_p, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_h2, np_conv2d(ref_p, k2, (1, 2), "VALID") + b2,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_a, np_pool(ref_h, (3, 3), (2, 2), "SAME", "avg"),
                               rtol=1e-4, atol=1e-5)


def test_second_order_gradients():
    rng = np.random.default_rng(9)
    x = rng.permutation(50).reshape(1, 5, 5, 2) / 9.0
    w = rng.standard_normal((2, 2, 2, 3))
    c1 = rng.standard_normal((1, 3, 3, 2))
    c2 = rng.standard_normal((1, 4, 4, 3))

    def build(px, pw, pc1, pc2):
        # gradients of gradients: MaxPoolGrad -> MaxPoolGradGrad, AvgPoolGrad -> AvgPool,
        # Conv2DBackpropInput / Conv2DBackpropFilter -> conv2d and each other
        gm = tf.gradients(tf.reduce_sum(tf.nn.max_pool(px, [1, 2, 2, 1], [1, 2, 2, 1],
                                                       "SAME") * pc1), px)[0]
        ga = tf.gradients(tf.reduce_sum(tf.nn.avg_pool(px, [1, 3, 3, 1], [1, 2, 2, 1],
                                                       "SAME") * pc1), px)[0]
        gx, gw = tf.gradients(tf.reduce_sum(tf.nn.conv2d(px, pw, [1, 1, 1, 1], "VALID")
                                            * pc2), [px, pw])
        return [gm, ga, gx, gw]
    _check_gradients(build, [x, w, c1, c2])


@pytest.mark.parametrize("rate,padding", [((2, 2), "SAME"), ((1, 3), "VALID")])
def test_separable_conv2d_with_a_dilation_rate(rate, padding):
    # the depthwise stage dilated, then the 1x1 pointwise convolution
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 10, 3)).astype(np.float32)
    dw = rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
    pw = rng.standard_normal((1, 1, 6, 4)).astype(np.float32)
    p = tf.placeholder(tf.float32, x.shape)
    y = tf.nn.separable_conv2d(p, dw, pw, [1, 1, 1, 1], padding, rate=rate)
    mid = np_depthwise(x, dw, (1, 1), padding, rate)
    want = np_conv2d(mid, pw, (1, 1), "VALID")
    got = _run(y, {p: x})
    assert list(y.shape) == list(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="strides > 1"):
        tf.nn.separable_conv2d(p, dw, pw, [1, 2, 2, 1], padding, rate=rate)
