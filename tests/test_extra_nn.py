"""1-D convolution and pooling layers, Keras global pooling, tf.nn.pool,
tf.random_crop, tf.hessians and tf.custom_gradient against numpy oracles of TF's
documented semantics, central differences, and (marked slow) TensorFlow."""
import numpy as np
import pytest

import tfcompile as tf
from tests.gradcheck import check_gradients

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


# ---------------------------------------------------------------- numpy oracles

def _geometry(n, k, s, d, padding):
    """TF's output size and padding before, for one spatial dim."""
    ke = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-n // s)
        total = max((out - 1) * s + ke - n, 0)
        return out, total // 2
    return max(-(-(n - ke + 1) // s), 0), 0


def np_conv1d(x, w, s=1, padding="VALID", d=1):
    """x [N, W, C], w [K, C, F] -> [N, Wo, F] (cross-correlation, zero padding)."""
    n, width, _ = x.shape
    k = w.shape[0]
    out, before = _geometry(width, k, s, d, padding)
    y = np.zeros((n, out, w.shape[2]), np.float64)
    for o in range(out):
        for t in range(k):
            i = o * s - before + t * d
            if 0 <= i < width:
                y[:, o] += x[:, i] @ w[t]
    return y


def np_pool(x, window, strides, padding, kind, dilation=None):
    """x [N, *spatial, C]; max ignores padding, avg averages only real elements."""
    nd = len(window)
    dilation = dilation or [1] * nd
    geo = [_geometry(x.shape[1 + a], window[a], strides[a], dilation[a], padding)
           for a in range(nd)]
    out = np.zeros((x.shape[0],) + tuple(g[0] for g in geo) + (x.shape[-1],), np.float64)
    for o in np.ndindex(*[g[0] for g in geo]):
        vals = []
        for t in np.ndindex(*window):
            idx = [o[a] * strides[a] - geo[a][1] + t[a] * dilation[a] for a in range(nd)]
            if all(0 <= idx[a] < x.shape[1 + a] for a in range(nd)):
                vals.append(x[(slice(None),) + tuple(idx)])
        vals = np.stack(vals)
        out[(slice(None),) + o] = vals.max(0) if kind == "MAX" else vals.mean(0)
    return out


def _run(fetches, feed=None, init=False):
    with tf.Session() as s:
        if init:
            s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


# ---------------------------------------------------------------- conv1d layers

@pytest.mark.parametrize("padding,strides,dilation", [
    ("valid", 1, 1), ("same", 1, 1), ("same", 2, 1), ("valid", 3, 1), ("same", 1, 2),
    ("valid", 1, 3)])
def test_conv1d_layer_matches_numpy(padding, strides, dilation):
    x = tf.placeholder(tf.float32, [None, 11, 3])
    y = tf.layers.conv1d(x, 4, 3, strides=strides, padding=padding,
                         dilation_rate=dilation, bias_initializer=tf.random_normal_initializer())
    assert [v.name for v in tf.global_variables()] == ["conv1d/kernel:0", "conv1d/bias:0"]
    kernel, bias = tf.global_variables()
    assert kernel.shape.as_list() == [3, 3, 4]
    xv = RNG.standard_normal((2, 11, 3)).astype(np.float32)
    got, k, b = _run([y, kernel, bias], {x: xv}, init=True)
    want = np_conv1d(xv, k, strides, padding.upper(), dilation) + b
    assert y.shape.as_list() == [None, want.shape[1], 4]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv1d_layer_channels_first_activation_and_names():
    x = tf.placeholder(tf.float32, [2, 3, 9])
    layer = tf.layers.Conv1D(5, 2, data_format="channels_first", activation=tf.nn.relu,
                             bias_initializer=tf.constant_initializer(0.25), name="c1")
    y = layer(x)
    assert layer.kernel.name == "c1/kernel:0" and layer.bias.name == "c1/bias:0"
    assert y.shape.as_list() == [2, 5, 8]
    xv = RNG.standard_normal((2, 3, 9)).astype(np.float32)
    got, k = _run([y, layer.kernel], {x: xv}, init=True)
    want = np.maximum(np_conv1d(xv.transpose(0, 2, 1), k) + 0.25, 0).transpose(0, 2, 1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv1d_reuse_regularizer_no_bias():
    x = tf.placeholder(tf.float32, [None, 6, 2])
    tf.layers.conv1d(x, 3, 2, name="shared", use_bias=False,
                     kernel_regularizer=lambda w: tf.reduce_sum(w * w))
    tf.layers.conv1d(x, 3, 2, name="shared", use_bias=False, reuse=True)
    tf.layers.conv1d(x, 3, 2)
    tf.layers.conv1d(x, 3, 2)
    names = [v.name for v in tf.global_variables()]
    assert names == ["shared/kernel:0", "conv1d/kernel:0", "conv1d/bias:0",
                     "conv1d_1/kernel:0", "conv1d_1/bias:0"]
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1


def test_conv1d_errors():
    with pytest.raises(ValueError, match="expected ndim=3"):
        tf.layers.conv1d(tf.zeros([2, 5, 5, 1]), 2, 2)
    with pytest.raises(ValueError, match="channel dimension"):
        tf.layers.conv1d(tf.placeholder(tf.float32, [2, 5, None]), 2, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        tf.layers.Conv1D(2, (2, 2))
    with pytest.raises(ValueError, match="padding"):
        tf.layers.Conv1D(2, 2, padding="full")
    layer = tf.layers.Conv1D(2, 2)
    layer(tf.zeros([1, 4, 3]))
    with pytest.raises(ValueError, match="incompatible"):
        layer(tf.zeros([1, 4, 2]))


def _numeric_grad(s, loss, x, xv, eps=1e-6):
    num = np.zeros_like(xv)
    for idx in np.ndindex(*xv.shape):
        old = xv[idx]
        xv[idx] = old + eps
        lp = s.run(loss, {x: xv})
        xv[idx] = old - eps
        lm = s.run(loss, {x: xv})
        xv[idx] = old
        num[idx] = (lp - lm) / (2 * eps)
    return num


def test_conv1d_layer_gradients():
    """d loss / d input and d loss / d kernel against central differences."""
    x = tf.placeholder(tf.float64, [2, 7, 2])
    layer = tf.layers.Conv1D(2, 3, strides=2, padding="same", dtype=tf.float64)
    y = layer(x)
    weights = RNG.standard_normal((2, 4, 2))
    loss = tf.reduce_sum(y * tf.constant(weights))
    gx, gk = tf.gradients(loss, [x, layer.kernel])
    xv = RNG.standard_normal((2, 7, 2))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        got_x, got_k, k = s.run([gx, gk, layer.kernel], {x: xv})
        np.testing.assert_allclose(got_x, _numeric_grad(s, loss, x, xv), rtol=1e-5,
                                   atol=1e-6)
    # the same loss as a function of the kernel alone
    k_ph = tf.placeholder(tf.float64, k.shape)
    lk = tf.reduce_sum(tf.nn.conv1d(tf.constant(xv), k_ph, 2, "SAME") *
                       tf.constant(weights))
    with tf.Session() as s:
        np.testing.assert_allclose(got_k, _numeric_grad(s, lk, k_ph, k.copy()),
                                   rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- pooling layers

@pytest.mark.parametrize("kind", ["MAX", "AVG"])
@pytest.mark.parametrize("pool,strides,padding", [(2, 2, "valid"), (3, 1, "same"),
                                                  (3, 2, "same"), (4, 3, "valid")])
def test_pooling1d_layers(kind, pool, strides, padding):
    fn = tf.layers.max_pooling1d if kind == "MAX" else tf.layers.average_pooling1d
    xv = RNG.standard_normal((2, 10, 3))
    x = tf.constant(xv)
    y = fn(x, pool, strides, padding=padding)
    yf = fn(tf.constant(xv.transpose(0, 2, 1)), pool, strides, padding=padding,
            data_format="channels_first")
    want = np_pool(xv, [pool], [strides], padding.upper(), kind)
    got, gotf = _run([y, yf])
    assert y.shape.as_list() == list(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(gotf, want.transpose(0, 2, 1), rtol=1e-12)


def test_pooling1d_names_and_errors():
    x = tf.zeros([1, 8, 2])
    assert tf.layers.max_pooling1d(x, 2, 2).op.name == "max_pooling1d/Squeeze"
    assert tf.layers.AveragePooling1D(2, 2)(x).op.name.startswith("average_pooling1d/")
    with pytest.raises(ValueError, match="expected ndim=3"):
        tf.layers.max_pooling1d(tf.zeros([8, 2]), 2, 2)
    with pytest.raises(ValueError, match="pool_size"):
        tf.layers.MaxPooling1D((2, 2), 2)


def test_keras_1d_and_global_layers():
    xv = RNG.standard_normal((2, 9, 4)).astype(np.float32)
    x = tf.constant(xv)
    kl = tf.keras.layers
    conv = kl.Conv1D(3, 2, activation="relu")
    y = conv(x)
    assert conv.kernel.name == "conv1d/kernel:0"
    mp, ap = kl.MaxPooling1D()(x), kl.AveragePooling1D(pool_size=3)(x)
    g = [kl.GlobalAveragePooling1D()(x), kl.GlobalMaxPooling1D()(x),
         kl.GlobalAveragePooling1D(data_format="channels_first")(x)]
    x4 = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
    g2 = [kl.GlobalAveragePooling2D()(tf.constant(x4)), kl.GlobalMaxPooling2D()(tf.constant(x4)),
          kl.GlobalMaxPool2D(data_format="channels_first")(tf.constant(x4))]
    assert g[0].op.name == "global_average_pooling1d/Mean"
    got = _run([y, conv.kernel, conv.bias, mp, ap] + g + g2, init=True)
    np.testing.assert_allclose(got[0], np.maximum(np_conv1d(xv, got[1]) + got[2], 0),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[3], np_pool(xv, [2], [2], "VALID", "MAX"), rtol=1e-6)
    np.testing.assert_allclose(got[4], np_pool(xv, [3], [3], "VALID", "AVG"), rtol=1e-6)
    for a, b in zip(got[5:], [xv.mean(1), xv.max(1), xv.mean(2), x4.mean((1, 2)),
                              x4.max((1, 2)), x4.max((2, 3))]):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    with pytest.raises(ValueError, match="expected ndim=4"):
        kl.GlobalAveragePooling2D()(x)
    model = tf.keras.models.Sequential([kl.Conv1D(2, 3, input_shape=(9, 4)),
                                        kl.GlobalMaxPooling1D()])
    assert model(x).shape.as_list() == [2, 2]


def test_empty_batch_and_integer_pooling():
    x = tf.placeholder(tf.float32, [None, 8, 2])
    outs = [tf.layers.max_pooling1d(x, 2, 2),
            tf.nn.pool(x, [3], "AVG", "VALID", dilation_rate=[2]),
            tf.keras.layers.GlobalAveragePooling1D()(x), tf.layers.conv1d(x, 3, 2)]
    got = _run(outs, {x: np.zeros((0, 8, 2), np.float32)}, init=True)
    assert [r.shape for r in got] == [(0, 4, 2), (0, 4, 2), (0, 2), (0, 7, 3)]
    xi = tf.placeholder(tf.int32, [1, 6, 1])
    pi = tf.nn.pool(xi, [2], "MAX", "VALID", strides=[2])
    assert pi.dtype == tf.int32
    got = _run(pi, {xi: np.array([3, 1, -4, 7, 2, 2]).reshape(1, 6, 1)})
    np.testing.assert_array_equal(got.ravel(), [3, 7, 2])


# ---------------------------------------------------------------- tf.nn.pool

@pytest.mark.parametrize("kind", ["MAX", "AVG"])
@pytest.mark.parametrize("window,strides,dilation,padding", [
    ([3], [1], None, "SAME"), ([2], [2], None, "VALID"), ([3], [2], None, "SAME"),
    ([3], None, [2], "VALID"), ([2, 3], [1, 2], None, "SAME"), ([2, 2], None, [2, 3], "VALID"),
    ([3, 2], [2, 2], None, "VALID")])
def test_nn_pool(kind, window, strides, dilation, padding):
    shape = (2, 9, 3) if len(window) == 1 else (2, 7, 8, 3)
    xv = RNG.standard_normal(shape)
    x = tf.constant(xv)
    y = tf.nn.pool(x, window, kind, padding, dilation_rate=dilation, strides=strides)
    perm = (0, 2, 1) if len(window) == 1 else (0, 3, 1, 2)
    inv = (0, 2, 1) if len(window) == 1 else (0, 2, 3, 1)
    yf = tf.nn.pool(tf.constant(xv.transpose(perm)), window, kind, padding,
                    dilation_rate=dilation, strides=strides,
                    data_format="NCW" if len(window) == 1 else "NCHW")
    want = np_pool(xv, window, strides or [1] * len(window), padding, kind, dilation)
    got, gotf = _run([y, yf])
    assert y.shape.as_list() == list(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(gotf.transpose(inv), want, rtol=1e-12)


def test_nn_pool_gradient_and_errors():
    check_gradients(lambda x: [tf.nn.pool(x, [2], "AVG", "VALID", dilation_rate=[2]),
                               tf.nn.pool(x, [3], "MAX", "SAME", strides=[2])],
                    [RNG.standard_normal((1, 7, 2))], tol=1e-5)
    tf.reset_default_graph()
    x = tf.zeros([1, 6, 2])
    assert tf.nn.pool(x, [2], "MAX", "VALID").op.name == "max_pool/Squeeze"
    assert tf.nn.pool(x, [2], "AVG", "VALID").op.inputs[0].op.name == "avg_pool"
    with pytest.raises(ValueError, match="pooling_type"):
        tf.nn.pool(x, [2], "MIN", "VALID")
    with pytest.raises(ValueError, match="SAME"):
        tf.nn.pool(x, [2], "MAX", "SAME", dilation_rate=[2])
    with pytest.raises(ValueError, match="strides"):
        tf.nn.pool(x, [2], "MAX", "VALID", dilation_rate=[2], strides=[2])
    with pytest.raises(ValueError, match="rank 3"):
        tf.nn.pool(tf.zeros([6, 2]), [2], "MAX", "VALID")
    with pytest.raises(ValueError, match="1-D and 2-D"):
        tf.nn.pool(tf.zeros([1, 2, 2, 2, 1]), [1, 1, 1], "MAX", "VALID")


# ---------------------------------------------------------------- random_crop

def _offsets(value, crop):
    """The offsets at which `crop` is a contiguous window of `value` (exactly one,
    since value's elements are distinct)."""
    hits = [o for o in np.ndindex(*[v - c + 1 for v, c in zip(value.shape, crop.shape)])
            if np.array_equal(value[tuple(slice(a, a + c) for a, c in
                                          zip(o, crop.shape))], crop)]
    assert len(hits) == 1, "the crop is not a window of the input"
    return hits[0]


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_random_crop_windows_cover_offsets(dtype):
    value = np.arange(6 * 5 * 2).reshape(6, 5, 2).astype(dtype)
    x = tf.placeholder(tf.as_dtype(dtype), [None, 5, 2])
    c = tf.random_crop(x, [3, 2, 2])
    assert c.shape.as_list() == [3, 2, 2] and c.op.name == "random_crop"
    seen = set()
    with tf.Session() as s:
        for _ in range(60):
            seen.add(_offsets(value, s.run(c, {x: value})))
    assert {o[0] for o in seen} == {0, 1, 2, 3} and {o[1] for o in seen} == {0, 1, 2, 3}
    assert {o[2] for o in seen} == {0}


def test_random_crop_seeds_full_and_empty():
    value = np.arange(40.0).reshape(8, 5)
    tf.set_random_seed(3)
    a = tf.image.random_crop(tf.constant(value), [3, 3], seed=11)
    with tf.Session() as s:
        first = [s.run(a) for _ in range(4)]
    tf.reset_default_graph()
    tf.set_random_seed(3)
    b = tf.image.random_crop(tf.constant(value), [3, 3], seed=11)
    with tf.Session() as s:
        again = [s.run(b) for _ in range(4)]
    for u, v in zip(first, again):
        np.testing.assert_array_equal(u, v)
    assert len({_offsets(value, u) for u in first}) > 1
    whole = tf.random_crop(tf.constant(value), [8, 5])
    empty = tf.random_crop(tf.constant(value), [0, 5])
    w, e = _run([whole, empty])
    np.testing.assert_array_equal(w, value)
    assert e.shape == (0, 5)


def test_random_crop_gradient_lands_on_window():
    x = tf.placeholder(tf.float64, [5, 4])
    c = tf.random_crop(x, [2, 3], seed=5)
    g = tf.gradients(tf.reduce_sum(c * 2.0), x)[0]
    value = np.arange(20.0).reshape(5, 4)
    with tf.Session() as s:
        for _ in range(5):
            cv, gv = s.run([c, g], {x: value})
            o = _offsets(value, cv)
            want = np.zeros_like(value)
            want[o[0]:o[0] + 2, o[1]:o[1] + 3] = 2.0
            np.testing.assert_array_equal(gv, want)


def test_random_crop_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.random_crop(tf.zeros([3, 4]), [2])
    with pytest.raises(ValueError, match="constant"):
        tf.random_crop(tf.zeros([3, 4]), tf.placeholder(tf.int32, [2]))
    x = tf.placeholder(tf.float32, [None, 4])
    c = tf.random_crop(x, [5, 2])
    assert c.shape.as_list() == [5, 2]
    with tf.Session() as s:
        s.run(c, {x: np.zeros((6, 4), np.float32)})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
            s.run(c, {x: np.zeros((3, 4), np.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
        _run(tf.random_crop(tf.zeros([3, 4]), [5, 2]))


# ---------------------------------------------------------------- hessians

def _numeric_hessian(grad, x, xv, eps=1e-5):
    """Central differences of the gradient: H[i, j] = d g_j / d x_i."""
    n = xv.size
    h = np.zeros((n, n))
    with tf.Session() as s:
        for i in range(n):
            v = xv.copy().reshape(-1)
            v[i] += eps
            gp = s.run(grad, {x: v.reshape(xv.shape)}).reshape(-1)
            v[i] -= 2 * eps
            gm = s.run(grad, {x: v.reshape(xv.shape)}).reshape(-1)
            h[i] = (gp - gm) / (2 * eps)
    return h.reshape(xv.shape + xv.shape)


@pytest.mark.parametrize("case", ["quadratic", "cube", "product", "matrix"])
def test_hessians_against_finite_differences(case):
    a = RNG.standard_normal((3, 3))
    if case == "matrix":
        xv = RNG.standard_normal((2, 3))
    else:
        xv = RNG.standard_normal(3)
    x = tf.placeholder(tf.float64, xv.shape)
    if case == "quadratic":
        y = tf.reduce_sum(x * tf.reshape(tf.matmul(tf.constant(a), tf.reshape(x, [3, 1])),
                                         [3]))
        exact = a + a.T
    elif case == "cube":
        y = tf.reduce_sum(x ** 3)
        exact = np.diag(6 * xv)
    elif case == "product":
        y = x[0] * x[1] * x[2]
        exact = np.array([[0, xv[2], xv[1]], [xv[2], 0, xv[0]], [xv[1], xv[0], 0]])
    else:
        y = tf.reduce_sum(tf.sin(x) * tf.reduce_sum(x * x))
        exact = None
    h = tf.hessians(y, x)
    assert len(h) == 1 and h[0].shape.as_list() == list(xv.shape) * 2
    assert h[0].dtype == tf.float64
    got = _run(h[0], {x: xv})
    np.testing.assert_allclose(got, _numeric_hessian(tf.gradients(y, x)[0], x, xv),
                               rtol=1e-5, atol=1e-6)
    if exact is not None:
        np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-10)


def test_hessians_several_xs_variable_and_errors():
    x = tf.placeholder(tf.float64, [2])
    v = tf.Variable(np.array([0.5, -1.0, 2.0]), name="v")
    y = tf.reduce_sum(x ** 2) * tf.reduce_sum(v ** 3)
    hx, hv = tf.hessians(y, [x, v])
    assert hx.shape.as_list() == [2, 2] and hv.shape.as_list() == [3, 3]
    assert hx.name.startswith("hessians")
    xv = np.array([1.5, -0.5])
    got_x, got_v = _run([hx, hv], {x: xv}, init=True)
    vv = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(got_x, 2 * np.eye(2) * np.sum(vv ** 3))
    np.testing.assert_allclose(got_v, np.diag(6 * vv) * np.sum(xv ** 2))
    # a linear function: zeros
    lin = tf.hessians(tf.reduce_sum(3.0 * x), x)[0]
    np.testing.assert_array_equal(_run(lin, {x: xv}), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="fully defined"):
        tf.hessians(tf.reduce_sum(tf.placeholder(tf.float32, [None]) ** 2),
                    tf.placeholder(tf.float32, [None]))
    with pytest.raises(ValueError, match="do not depend"):
        tf.hessians(tf.reduce_sum(x), tf.placeholder(tf.float64, [2]))


# ---------------------------------------------------------------- custom_gradient

@tf.custom_gradient
def log1pexp(x):
    e = tf.exp(x)

    def grad(dy):
        return dy * (1 - 1 / (1 + e))
    return tf.log(1 + e), grad


@tf.custom_gradient
def clip_gradient(x):
    def grad(dy):
        return tf.clip_by_value(dy, -0.5, 0.5)
    return tf.identity(x), grad


def test_custom_gradient_log1pexp():
    x = tf.placeholder(tf.float64, [4])
    y = log1pexp(x)
    assert y.shape.as_list() == [4] and y.op.type == "CustomGradientIdentityN"
    g = tf.gradients(tf.reduce_sum(y), x)[0]
    xv = np.array([-3.0, 0.0, 2.0, 5.0])
    got_y, got_g = _run([y, g], {x: xv})
    np.testing.assert_allclose(got_y, np.log1p(np.exp(xv)), rtol=1e-12)
    np.testing.assert_allclose(got_g, 1 / (1 + np.exp(-xv)), rtol=1e-12)
    # the custom gradient stays finite where the naive one overflows to nan
    big = _run(g, {x: np.array([800.0, 1.0, -800.0, 0.0])})
    np.testing.assert_allclose(big, [1.0, 1 / (1 + np.exp(-1.0)), 0.0, 0.5], atol=1e-12)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g, {x: xv}), _numeric_grad(
            s, tf.reduce_sum(y), x, xv.copy()), rtol=1e-6)


def test_custom_gradient_clips_and_chains():
    x = tf.placeholder(tf.float32, [3])
    y = clip_gradient(x) * tf.constant([3.0, 0.25, -2.0])
    z = tf.reduce_sum(clip_gradient(y * 2.0))
    g = tf.gradients(z, x)[0]
    xv = np.array([1.0, 2.0, 3.0], np.float32)
    got_z, got_g = _run([z, g], {x: xv})
    assert got_z == pytest.approx(np.sum(xv * [3.0, 0.25, -2.0] * 2))
    # outer clip: clip(1) = 0.5, times 2 -> 1 reaches y; the inner clip sees w * 1
    want = np.clip(np.array([3.0, 0.25, -2.0]), -0.5, 0.5)
    np.testing.assert_allclose(got_g, want, rtol=1e-6)


def test_custom_gradient_several_inputs_and_outputs():
    @tf.custom_gradient
    def f(a, b):
        def grad(dp, ds):
            return dp * b + ds * 10.0, dp * a - ds
        return (a * b, a - b), grad

    a = tf.placeholder(tf.float64, [2])
    b = tf.placeholder(tf.float64, [2])
    p, d = f(a, b)
    ga, gb = tf.gradients(tf.reduce_sum(p) + 2 * tf.reduce_sum(d), [a, b])
    av, bv = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    got = _run([p, d, ga, gb], {a: av, b: bv})
    np.testing.assert_allclose(got[0], av * bv)
    np.testing.assert_allclose(got[1], av - bv)
    np.testing.assert_allclose(got[2], bv + 20.0)
    np.testing.assert_allclose(got[3], av - 2.0)
    # only one result used: the other's gradient reaches grad_fn as zeros
    ga1 = tf.gradients(tf.reduce_sum(d), a)[0]
    np.testing.assert_allclose(_run(ga1, {a: av, b: bv}), [10.0, 10.0])

    @tf.custom_gradient
    def wrong(x):
        return x * 2.0, lambda dy: (dy, dy)
    @tf.custom_gradient
    def scale(x, k):
        return x * k, lambda dy: (dy * 100.0, None)
    c = tf.placeholder(tf.float32, [2])
    got = _run([scale(c, 3.0), tf.gradients(scale(c, 3.0), c)[0]], {c: [1.0, 2.0]})
    np.testing.assert_allclose(got[0], [3.0, 6.0])
    np.testing.assert_allclose(got[1], [100.0, 100.0])
    with pytest.raises(ValueError, match="expected to return 1 gradients"):
        tf.gradients(wrong(c), c)


def test_custom_gradient_with_variables():
    w = tf.Variable(np.array([2.0, 3.0]), name="w")

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            assert [v.name for v in variables] == ["w:0"]
            return dy * 7.0, [dy * 5.0 * x]
        return x * w, grad

    x = tf.placeholder(tf.float64, [2])
    y = f(x)
    gx, gw = tf.gradients(tf.reduce_sum(y) + tf.reduce_sum(w), [x, w])
    got = _run([y, gx, gw], {x: [1.0, 2.0]}, init=True)
    np.testing.assert_allclose(got[0], [2.0, 6.0])
    np.testing.assert_allclose(got[1], [7.0, 7.0])
    np.testing.assert_allclose(got[2], [6.0, 11.0])   # 5 * x from grad_fn + 1 outside

    @tf.custom_gradient
    def no_kwarg(x):
        return x * w, lambda dy: dy
    with pytest.raises(TypeError, match="keyword argument 'variables'"):
        no_kwarg(x)


# ---------------------------------------------------------------- TensorFlow cross-checks

def _tf1():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    return tf1


def _run_tf(build):
    """build(tf1) -> (fetches, feed) in a fresh TF graph; returns (fetches, values)."""
    tf1 = _tf1()
    g = tf1.Graph()
    with g.as_default():
        fetches, feed = build(tf1)
        with tf1.Session(graph=g) as s:
            s.run(tf1.global_variables_initializer())
            return fetches, s.run(fetches, feed)


def _both(build):
    theirs, want = _run_tf(build)
    tf.reset_default_graph()
    ours, feed = build(tf)
    return ours, theirs, _run(ours, feed, init=True), want


@pytest.mark.slow
def test_tf_nn_pool_crosscheck():
    xv1 = RNG.standard_normal((2, 9, 3)).astype(np.float32)
    xv2 = RNG.standard_normal((2, 7, 8, 3)).astype(np.float32)

    def build(t):
        x1 = t.placeholder(t.float32, [None, 9, 3])
        x2 = t.placeholder(t.float32, [None, 7, 8, 3])
        out = [t.nn.pool(x1, [3], "MAX", "SAME", strides=[2]),
               t.nn.pool(x1, [2], "AVG", "VALID"),
               t.nn.pool(x1, [3], "AVG", "VALID", dilation_rate=[2]),
               t.nn.pool(x2, [2, 3], "MAX", "SAME", strides=[2, 1]),
               t.nn.pool(x2, [2, 2], "MAX", "VALID", dilation_rate=[2, 3]),
               t.nn.pool(x2, [3, 2], "AVG", "SAME")]
        return out, {x1: xv1, x2: xv2}
    ours, theirs, got, want = _both(build)
    for o, t_, a, b in zip(ours, theirs, got, want):
        assert o.shape.as_list() == t_.shape.as_list()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for i in (0, 1, 3, 5):
        assert ours[i].name == theirs[i].name


@pytest.mark.slow
def test_tf_conv1d_crosscheck():
    xv = RNG.standard_normal((2, 10, 3)).astype(np.float32)
    kv = RNG.standard_normal((3, 3, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 10, 3])
    y = tf.layers.conv1d(x, 4, 3, strides=2, padding="same",
                         kernel_initializer=tf.constant_initializer(kv))
    got = _run(y, {x: xv}, init=True)

    def build(t):
        xt = t.placeholder(t.float32, [None, 10, 3])
        return t.nn.conv1d(xt, kv, 2, "SAME"), {xt: xv}
    _, want = _run_tf(build)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_tf_random_crop_hessians_custom_gradient_crosscheck():
    xv = np.array([-2.0, 0.5, 3.0])

    def build(t):
        x = t.placeholder(t.float64, [3])

        @t.custom_gradient
        def softplus(v):
            e = t.exp(v)
            return t.log(1 + e), lambda dy: dy * 2.0 * (1 - 1 / (1 + e))
        y = t.reduce_sum(x ** 3 * t.reduce_sum(t.sin(x)))
        crop = t.random_crop(t.zeros([6, 4]), [5, 2])
        return ([t.hessians(y, x)[0], t.gradients(t.reduce_sum(softplus(x)), x)[0],
                 softplus(x)], {x: xv}), crop

    (_, want), crop_t = _run_tf_crop(build)
    tf.reset_default_graph()
    (ours, feed), crop = build(tf)
    got = _run(ours, feed)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert crop.name == crop_t.name and crop.shape.as_list() == crop_t.shape.as_list()
    tf1 = _tf1()
    g = tf1.Graph()
    with g.as_default():
        bad = tf1.random_crop(tf1.zeros([3, 4]), [5, 2])
        with tf1.Session(graph=g) as s, pytest.raises(tf1.errors.InvalidArgumentError) as e_t:
            s.run(bad)
    tf.reset_default_graph()
    with pytest.raises(tf.errors.InvalidArgumentError) as e_o:
        _run(tf.random_crop(tf.zeros([3, 4]), [5, 2]))
    assert "Need value.shape >= size, got ] [3 4] [5 2]" in str(e_t.value)
    assert "Need value.shape >= size, got ] [3 4] [5 2]" in str(e_o.value)


def _run_tf_crop(build):
    tf1 = _tf1()
    g = tf1.Graph()
    with g.as_default():
        (fetches, feed), crop = build(tf1)
        with tf1.Session(graph=g) as s:
            return (fetches, s.run(fetches, feed)), crop
