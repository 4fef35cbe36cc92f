"""Every forward op of the foundation, compiled and run, against numpy.

Many ops share one graph and one run so each case compiles once."""
import numpy as np
import pytest

import tfcompile as tf

SHAPE_PAIRS = [((), ()), ((3,), ()), ((2, 3), (3,)), ((4, 1), (1, 5)), ((0, 3), (3,)),
               ((2, 1, 3), (2, 4, 1))]


def _data(shape, dtype, rng, positive=False, nonzero=False):
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        v = rng.integers(-9, 10, size=shape).astype(dtype)
        if positive:
            v = np.abs(v)
        if nonzero:
            v[v == 0] = 3
        return v
    v = rng.standard_normal(shape).astype(dtype)
    if positive:
        v = np.abs(v) + np.asarray(0.1, dtype)
    return v


def _floordiv(x, y):
    return np.floor_divide(x, y)


BINARY_FLOAT = {
    "add": (tf.add, np.add), "sub": (tf.subtract, np.subtract),
    "mul": (tf.multiply, np.multiply), "div": (tf.divide, np.true_divide),
    "maximum": (tf.maximum, np.maximum), "minimum": (tf.minimum, np.minimum),
    "floordiv": (tf.floordiv, _floordiv), "mod": (tf.mod, np.mod),
    "sqdiff": (tf.squared_difference, lambda a, b: (a - b) ** 2),
}
COMPARE = {"equal": (tf.equal, np.equal), "not_equal": (tf.not_equal, np.not_equal),
           "less": (tf.less, np.less), "less_equal": (tf.less_equal, np.less_equal),
           "greater": (tf.greater, np.greater), "greater_equal": (tf.greater_equal,
                                                                   np.greater_equal)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
def test_binary_broadcasting(dtype, sa, sb):
    tf.reset_default_graph()
    rng = np.random.default_rng(0)
    a = _data(sa, dtype, rng)
    b = _data(sb, dtype, rng, nonzero=True)
    if np.issubdtype(dtype, np.floating):
        b = np.where(np.abs(b) < 0.2, np.asarray(0.5, dtype), b)
    pa = tf.placeholder(tf.as_dtype(dtype), sa)
    pb = tf.placeholder(tf.as_dtype(dtype), sb)
    fetch, want = {}, {}
    for name, (f, ref) in {**BINARY_FLOAT, **COMPARE}.items():
        if name == "div" and not np.issubdtype(dtype, np.floating):
            continue
        fetch[name] = f(pa, pb)
        want[name] = ref(a, b)
    fetch["op+"] = pa + pb
    want["op+"] = a + b
    fetch["op%"] = pa % pb
    want["op%"] = np.mod(a, b)
    fetch["op//"] = pa // pb
    want["op//"] = np.floor_divide(a, b)
    fetch["op/"] = pa / pb
    want["op/"] = (a / b) if np.issubdtype(dtype, np.floating) else (
        a.astype(np.float64) / b.astype(np.float64))
    with tf.Session() as s:
        got = s.run(fetch, {pa: a, pb: b})
    for k in fetch:
        assert got[k].dtype == np.asarray(want[k]).dtype or k.startswith("op/"), k
        assert got[k].shape == np.shape(want[k]), k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6 if dtype == np.float32 else 1e-12,
                                   err_msg=f"{k} {dtype} {sa} {sb}")


UNARY = {
    "neg": (tf.negative, np.negative, False), "abs": (tf.abs, np.abs, False),
    "sign": (tf.sign, np.sign, False), "square": (tf.square, np.square, False),
    "sqrt": (tf.sqrt, np.sqrt, True), "rsqrt": (tf.rsqrt, lambda x: 1 / np.sqrt(x), True),
    "reciprocal": (tf.reciprocal, lambda x: 1 / x, True), "exp": (tf.exp, np.exp, False),
    "log": (tf.log, np.log, True), "log1p": (tf.log1p, np.log1p, True),
    "tanh": (tf.tanh, np.tanh, False),
    "sigmoid": (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), False),
    "relu": (tf.nn.relu, lambda x: np.maximum(x, 0), False),
    "floor": (tf.floor, np.floor, False), "ceil": (tf.ceil, np.ceil, False),
    "round": (tf.round, np.round, False),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (0, 4), (2, 3, 33)])
def test_unary(dtype, shape):
    tf.reset_default_graph()
    rng = np.random.default_rng(1)
    x = _data(shape, dtype, rng) * 3
    xp = np.abs(x) + np.asarray(0.1, dtype)
    p = tf.placeholder(tf.as_dtype(dtype), shape)
    pp = tf.placeholder(tf.as_dtype(dtype), shape)
    fetch = {k: f(pp if pos else p) for k, (f, _, pos) in UNARY.items()}
    with tf.Session() as s:
        got = s.run(fetch, {p: x, pp: xp})
    tol = 4e-6 if dtype == np.float32 else 1e-13
    for k, (_, ref, pos) in UNARY.items():
        want = ref(xp if pos else x)
        assert got[k].dtype == dtype, k
        np.testing.assert_allclose(got[k], want, rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_unary_and_cast(dtype):
    tf.reset_default_graph()
    x = np.array([-5, -1, 0, 2, 7], dtype)
    p = tf.placeholder(tf.as_dtype(dtype), [None])
    fetch = [tf.negative(p), tf.abs(p), tf.sign(p), tf.square(p),
             tf.cast(p, tf.float32), tf.cast(p, tf.bool), tf.cast(tf.cast(p, tf.float64) * 0.5,
                                                                    tf.int32)]
    with tf.Session() as s:
        got = s.run(fetch, {p: x})
    want = [-x, np.abs(x), np.sign(x), x * x, x.astype(np.float32), x != 0,
            np.trunc(x * 0.5).astype(np.int32)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_logical_ops():
    tf.reset_default_graph()
    rng = np.random.default_rng(2)
    a, b = rng.random((4, 3)) > 0.5, rng.random((3,)) > 0.5
    pa, pb = tf.placeholder(tf.bool, [4, 3]), tf.placeholder(tf.bool, [3])
    with tf.Session() as s:
        got = s.run([tf.logical_and(pa, pb), tf.logical_or(pa, pb), tf.logical_not(pa),
                     tf.logical_xor(pa, pb), tf.reduce_all(pa, 0), tf.reduce_any(pa, 1)],
                    {pa: a, pb: b})
    want = [a & b, a | b, ~a, a ^ b, a.all(0), a.any(1)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_reductions_and_arg(dtype):
    tf.reset_default_graph()
    rng = np.random.default_rng(3)
    x = _data((3, 4, 5), dtype, rng)
    p = tf.placeholder(tf.as_dtype(dtype), [None, 4, 5])
    cases = {
        "sum_all": (tf.reduce_sum(p), x.sum()),
        "sum_1": (tf.reduce_sum(p, 1), x.sum(1)),
        "sum_neg_keep": (tf.reduce_sum(p, -1, keepdims=True), x.sum(-1, keepdims=True)),
        "sum_02": (tf.reduce_sum(p, [0, 2]), x.sum((0, 2))),
        "max": (tf.reduce_max(p, 2), x.max(2)),
        "min": (tf.reduce_min(p, [1]), x.min(1)),
        "prod": (tf.reduce_prod(p, 0), x.prod(0)),
        "argmax": (tf.argmax(p, 1), x.argmax(1)),
        "argmin": (tf.argmin(p, 2, output_type=tf.int32), x.argmin(2).astype(np.int32)),
    }
    if np.issubdtype(dtype, np.floating):
        cases["mean"] = (tf.reduce_mean(p, [1, 2]), x.mean((1, 2)))
    else:  # integer mean truncates, as TF
        cases["mean"] = (tf.reduce_mean(p, 1), np.trunc(x.sum(1) / 4).astype(dtype))
    with tf.Session() as s:
        got = s.run({k: v[0] for k, v in cases.items()}, {p: x})
    for k, (_, want) in cases.items():
        want = np.asarray(want)
        if not k.startswith("arg"):  # numpy widens integer sums; TF keeps the dtype
            want = want.astype(dtype)
        assert got[k].shape == want.shape, k
        assert got[k].dtype == want.dtype, k
        np.testing.assert_allclose(got[k], want, rtol=1e-5, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 2), (17, 33, 9), (64, 128, 48), (0, 3, 2)])
def test_matmul(dtype, m, k, n):
    tf.reset_default_graph()
    rng = np.random.default_rng(4)
    a, b = _data((m, k), dtype, rng), _data((k, n), dtype, rng)
    pa, pb = tf.placeholder(tf.as_dtype(dtype)), tf.placeholder(tf.as_dtype(dtype))
    with tf.Session() as s:
        got = s.run([tf.matmul(pa, pb), tf.matmul(pb, pa, transpose_a=True, transpose_b=True),
                     pa @ pb], {pa: a, pb: b})
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[0], a @ b, rtol=tol, atol=tol)
    np.testing.assert_allclose(got[1], b.T @ a.T, rtol=tol, atol=tol)
    np.testing.assert_allclose(got[2], a @ b, rtol=tol, atol=tol)


def test_batched_matmul_broadcasts_batch():
    tf.reset_default_graph()
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    pa, pb = tf.constant(a), tf.constant(b)
    with tf.Session() as s:
        got = s.run(tf.matmul(pa, tf.reshape(pb, [1, 4, 5])))
    np.testing.assert_allclose(got, a @ b, rtol=1e-12)


def test_shape_ops_and_fills():
    tf.reset_default_graph()
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    p = tf.placeholder(tf.float32, [None, 3, 4])
    cases = {
        "reshape": (tf.reshape(p, [-1, 4]), x.reshape(-1, 4)),
        "transpose": (tf.transpose(p, [2, 0, 1]), x.transpose(2, 0, 1)),
        "transpose_default": (tf.transpose(p), x.T),
        "zeros": (tf.zeros([2, 3]), np.zeros((2, 3), np.float32)),
        "ones_int": (tf.ones([3], tf.int32), np.ones(3, np.int32)),
        "fill": (tf.fill([2, 2], 7.5), np.full((2, 2), 7.5, np.float32)),
        "zeros_like": (tf.zeros_like(p), np.zeros_like(x)),
        "ones_like": (tf.ones_like(p), np.ones_like(x)),
        "identity": (tf.identity(p), x),
        "slice": (p[1, ::2, -1], x[1, ::2, -1]),
        "slice_rev": (p[:, ::-1, 1:3], x[:, ::-1, 1:3]),
        "newaxis": (p[..., tf.newaxis, 0], x[..., None, 0]),
        "shape": (tf.shape(p), np.array([2, 3, 4], np.int32)),
        "big_zeros": (tf.zeros([40, 30]), np.zeros((40, 30), np.float32)),
    }
    with tf.Session() as s:
        got = s.run({k: v[0] for k, v in cases.items()}, {p: x})
    for k, (_, want) in cases.items():
        assert got[k].dtype == want.dtype, k
        np.testing.assert_array_equal(got[k], want, err_msg=k)


def test_pow_and_integer_division_semantics():
    tf.reset_default_graph()
    a = np.array([7, -7, 7, -7, 0], np.int32)
    b = np.array([2, 2, -2, -2, 3], np.int32)
    pa, pb = tf.constant(a), tf.constant(b)
    x = np.array([0.5, 2.0, 3.0], np.float32)
    with tf.Session() as s:
        got = s.run([pa // pb, pa % pb, tf.pow(pa, 2), tf.pow(tf.constant(x), 2.5),
                     tf.truncatediv(pa, pb), tf.truncatemod(pa, pb)])
    np.testing.assert_array_equal(got[0], a // b)
    np.testing.assert_array_equal(got[1], a % b)
    np.testing.assert_array_equal(got[2], a ** 2)
    np.testing.assert_allclose(got[3], x ** 2.5, rtol=1e-6)
    np.testing.assert_array_equal(got[4], np.trunc(a / b).astype(np.int32))
    np.testing.assert_array_equal(got[5], np.fmod(a, b))
