"""tf.scan, tf.foldl, tf.foldr: unrolled over elems' static first dimension.
Oracles: the same loops written in numpy, central differences for the
gradients, and TensorFlow's own functions where it is installed (values,
shapes, dtypes; names as TF 1.15's v1 control flow gives them)."""
import collections

import numpy as np
import pytest

import tfcompile as tf
from gradcheck import check_gradients

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _graph():
    tf.reset_default_graph()   # (check_gradients resets it too: no nested graph here)


def np_scan(fn, xs, a0=None, reverse=False):
    order = list(range(len(xs)))[::-1] if reverse else list(range(len(xs)))
    out = [None] * len(xs)
    a = a0
    for k in order:
        a = xs[k] if a is None else fn(a, xs[k])
        out[k] = a
    return out


def np_fold(fn, xs, a0=None, reverse=False):
    a = a0
    for x in (xs[::-1] if reverse else xs):
        a = x if a is None else fn(a, x)
    return a


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_fold_and_scan_of_sums_and_products(dtype):
    X = RNG.integers(-4, 5, (6, 3)).astype(dtype)
    x = tf.placeholder(tf.as_dtype(dtype), [6, 3])
    outs = {
        "foldl": tf.foldl(lambda a, e: a * 2 + e, x),
        "foldr": tf.foldr(lambda a, e: a * 2 + e, x),
        "foldl_init": tf.foldl(lambda a, e: a - e, x, initializer=tf.ones([3], x.dtype)),
        "scan": tf.scan(lambda a, e: a * 2 + e, x),
        "scan_rev": tf.scan(lambda a, e: a * 2 + e, x, reverse=True),
        "scan_init": tf.scan(lambda a, e: a - e, x, initializer=tf.ones([3], x.dtype)),
        "scan_init_rev": tf.scan(lambda a, e: a - e, x, initializer=tf.ones([3], x.dtype),
                                 reverse=True),
    }
    f, g = (lambda a, e: a * 2 + e), (lambda a, e: a - e)
    one = np.ones(3, dtype)
    want = {
        "foldl": np_fold(f, list(X)), "foldr": np_fold(f, list(X), reverse=True),
        "foldl_init": np_fold(g, list(X), one),
        "scan": np.stack(np_scan(f, list(X))),
        "scan_rev": np.stack(np_scan(f, list(X), reverse=True)),
        "scan_init": np.stack(np_scan(g, list(X), one)),
        "scan_init_rev": np.stack(np_scan(g, list(X), one, reverse=True)),
    }
    with tf.Session() as s:
        got = s.run(outs, {x: X})
    for k in outs:
        assert outs[k].dtype == tf.as_dtype(dtype), k
        assert outs[k].shape.as_list() == list(want[k].shape), k
        assert got[k].dtype == dtype, k
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_names_shapes_and_dtypes_as_tf():
    x = tf.placeholder(tf.float32, [5, 2], name="x")
    a = tf.foldl(lambda a, e: a + e, x)
    b = tf.foldl(lambda a, e: (a[0] + e, a[1] * 2), x,
                 initializer=(tf.zeros([2]), tf.constant(1)))
    c = tf.scan(lambda a, e: a + e, x)
    d = tf.scan(lambda a, e: (a[0] + e, a[1] * 2), x,
                initializer=(tf.zeros([2]), tf.constant(1)), reverse=True)
    e = tf.foldr(lambda a, e: a + e, x, name="myfold")
    assert a.name == "foldl/while/Exit_2:0" and a.shape.as_list() == [2]
    assert isinstance(b, tuple)
    assert [t.name for t in b] == ["foldl_1/while/Exit_2:0", "foldl_1/while/Exit_3:0"]
    assert b[1].dtype == tf.int32 and b[1].shape.as_list() == []
    assert c.name == "scan/TensorArrayStack/TensorArrayGatherV3:0"
    assert c.shape.as_list() == [5, 2]
    assert [t.name for t in d] == ["scan_1/TensorArrayStack/TensorArrayGatherV3:0",
                                   "scan_1/TensorArrayStack_1/TensorArrayGatherV3:0"]
    assert d[1].shape.as_list() == [5] and d[1].dtype == tf.int32
    assert e.name == "myfold/while/Exit_2:0"


def test_nested_elems_and_initializers():
    X = RNG.standard_normal((4, 3))
    Y = RNG.standard_normal((4,))
    x = tf.placeholder(tf.float64, [4, 3])
    y = tf.placeholder(tf.float64, [4])
    Pair = collections.namedtuple("Pair", "s p")
    # elems a tuple: without an initializer the accumulator has elems' structure
    t = tf.scan(lambda a, e: (a[0] + e[0], a[1] * e[1]), (x, y))
    # a dict of elems, a namedtuple accumulator
    nt = tf.foldl(lambda a, e: Pair(a.s + e["u"] * e["v"], a.p * e["v"]), {"u": x, "v": y},
                  initializer=Pair(tf.zeros([3], tf.float64), tf.constant(1.0, tf.float64)))
    # a nested initializer: [scalar, (vector, vector)]
    nest = tf.foldr(lambda a, e: [a[0] + 1.0, (a[1][0] + e, a[1][1] - e)], x,
                    initializer=[tf.constant(0.0, tf.float64),
                                 (tf.zeros([3], tf.float64), tf.ones([3], tf.float64))])
    assert isinstance(t, tuple) and len(t) == 2
    assert isinstance(nt, Pair)
    assert isinstance(nest, list) and isinstance(nest[1], tuple)
    with tf.Session() as s:
        got_t, got_nt, got_nest = s.run([t, nt, nest], {x: X, y: Y})
    np.testing.assert_allclose(got_t[0], np.cumsum(X, 0))
    np.testing.assert_allclose(got_t[1], np.cumprod(Y))
    np.testing.assert_allclose(got_nt.s, (X * Y[:, None]).sum(0))
    np.testing.assert_allclose(got_nt.p, np.prod(Y))
    assert got_nest[0] == 4.0
    np.testing.assert_allclose(got_nest[1][0], X.sum(0))
    np.testing.assert_allclose(got_nest[1][1], 1 - X.sum(0))


def test_scan_changing_dtype_through_the_initializer():
    """The accumulator's dtype is the initializer's, not elems'."""
    x = tf.constant([3, 1, 4, 1, 5], tf.int32)
    r = tf.scan(lambda a, e: a + tf.cast(e, tf.float32) / 2, x, initializer=0.0)
    assert r.dtype == tf.float32 and r.shape.as_list() == [5]
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(r), np.cumsum([3, 1, 4, 1, 5]) / 2)


def test_empty_elems_with_an_initializer():
    x = tf.placeholder(tf.float32, [0, 3])
    f = tf.foldl(lambda a, e: a + e, x, initializer=tf.fill([3], 2.0))
    r = tf.scan(lambda a, e: a + e, x, initializer=tf.zeros([3]))
    assert r.shape.as_list() == [0, 3]
    with tf.Session() as s:
        got_f, got_r = s.run([f, r], {x: np.zeros((0, 3), np.float32)})
    np.testing.assert_array_equal(got_f, [2, 2, 2])
    assert got_r.shape == (0, 3) and got_r.dtype == np.float32


def test_a_single_slice_without_initializer():
    x = tf.constant([[1.0, 2.0]])
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(tf.foldl(lambda a, e: a * e, x)), [1, 2])
        np.testing.assert_array_equal(s.run(tf.scan(lambda a, e: a * e, x)), [[1, 2]])


def test_closure_over_variables_in_a_training_loop():
    """An RNN-like fold over a variable, trained: the loss falls, and the fold's
    value matches numpy's loop with the variable's current value."""
    X = RNG.standard_normal((5, 4, 3)).astype(np.float32)
    x = tf.placeholder(tf.float32, [5, 4, 3])
    w = tf.Variable(RNG.standard_normal((3, 3)).astype(np.float32) * 0.3)
    h = tf.foldl(lambda a, e: tf.tanh(tf.matmul(a, w) + e), x, initializer=tf.zeros([4, 3]))
    loss = tf.reduce_sum(tf.square(h - 0.5))
    step = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        first = s.run(loss, {x: X})
        for _ in range(20):
            s.run(step, {x: X})
        W, got = s.run([w, h], {x: X})
        last = s.run(loss, {x: X})
    want = np_fold(lambda a, e: np.tanh(a @ W + e), list(X), np.zeros((4, 3), np.float32))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert last < first


# ---------------------------------------------------------------- gradients

def test_gradient_of_scan_by_central_differences():
    check_gradients(lambda x, a0: [tf.scan(lambda a, e: a * e + tf.sin(e), x, initializer=a0)],
                    [RNG.standard_normal((4, 3)), RNG.standard_normal((3,))])
    check_gradients(lambda x: [tf.scan(lambda a, e: a * e, x, reverse=True)],
                    [RNG.standard_normal((5, 2))])


def test_gradient_of_folds_by_central_differences():
    check_gradients(lambda x, w: [tf.foldl(lambda a, e: tf.tanh(tf.matmul(a, w) + e), x)],
                    [RNG.standard_normal((3, 2, 2)), RNG.standard_normal((2, 2))])
    check_gradients(lambda x, y: list(tf.foldr(lambda a, e: (a[0] * e[0], a[1] + e[0] * e[1]),
                                               (x, y))),
                    [RNG.standard_normal((4, 2)), RNG.standard_normal((4, 2))])


def test_back_prop_false_stops_gradients():
    x = tf.placeholder(tf.float32, [3, 2])
    w = tf.constant(2.0)
    f = tf.foldl(lambda a, e: a * w + e, x, back_prop=False)
    s = tf.scan(lambda a, e: a * w + e, x, back_prop=False)
    assert tf.gradients(f, [x, w]) == [None, None]
    assert tf.gradients(s, [x, w]) == [None, None]
    with tf.Session() as sess:
        X = np.arange(6, dtype=np.float32).reshape(3, 2)
        np.testing.assert_array_equal(sess.run(f, {x: X}), (X[0] * 2 + X[1]) * 2 + X[2])


# ---------------------------------------------------------------- errors

def test_unknown_length_is_refused_with_the_reason():
    x = tf.placeholder(tf.float32, [None, 3])
    for f in (tf.scan, tf.foldl, tf.foldr):
        with pytest.raises(NotImplementedError, match="unrolled"):
            f(lambda a, e: a + e, x)
    with pytest.raises(NotImplementedError, match="first dimension"):
        tf.scan(lambda a, e: a + e, tf.placeholder(tf.float32))


def test_bad_functions_and_elems():
    x = tf.zeros([3, 2])
    with pytest.raises(TypeError, match="callable"):
        tf.scan(1, x)
    with pytest.raises(ValueError, match="same structure"):
        tf.foldl(lambda a, e: (a, a), x)
    with pytest.raises(ValueError, match="same structure"):
        tf.scan(lambda a, e: a[0] + e, x, initializer=(tf.zeros([2]), tf.zeros([2])))
    with pytest.raises(TypeError, match="dtype"):
        tf.foldl(lambda a, e: tf.cast(a + e, tf.int32), x)
    with pytest.raises(ValueError, match="shape"):
        tf.scan(lambda a, e: tf.concat([a, e], 0), x)
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        tf.foldl(lambda a, e: a + e, tf.constant(1.0))
    with pytest.raises(ValueError, match="same first dimension"):
        tf.scan(lambda a, e: a + e[0] + e[1], (x, tf.zeros([4, 2])), initializer=tf.zeros([2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        tf.foldl(lambda a, e: a + e, tf.zeros([0, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        tf.scan(lambda a, e: a + e, tf.zeros([0, 2]))


# ---------------------------------------------------------------- TensorFlow

def test_against_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    X = RNG.standard_normal((5, 3)).astype(np.float32)
    Y = RNG.integers(1, 4, (5,)).astype(np.int32)

    def build(m):
        x = m.placeholder(m.float32, [5, 3], name="x")
        y = m.placeholder(m.int32, [5], name="y")
        return {
            "fl": m.foldl(lambda a, e: a * 0.5 + e, x),
            "fr": m.foldr(lambda a, e: (a[0] * 0.5 + e[0], a[1] * e[1]), (x, y)),
            "sc": m.scan(lambda a, e: (a[0] + e[0], a[1] + e[1]), (x, y),
                         initializer=(m.zeros([3]), m.constant(0)), reverse=True),
            "sc2": m.scan(lambda a, e: m.maximum(a, e), x),
        }, {x: X, y: Y}

    with tf.Graph().as_default():
        ours_t, feeds = build(tf)
        with tf.Session() as s:
            ours = s.run(ours_t, feeds)
    with tf1.Graph().as_default():
        theirs_t, feeds = build(tf1)
        with tf1.Session() as s:
            theirs = s.run(theirs_t, feeds)
    flat = lambda v: list(v) if isinstance(v, tuple) else [v]  # noqa: E731
    for k in ours:
        for a, b, ta, tb in zip(flat(ours[k]), flat(theirs[k]), flat(ours_t[k]),
                                flat(theirs_t[k])):
            assert ta.shape.as_list() == tb.shape.as_list() and ta.dtype.name == tb.dtype.name
            assert np.asarray(a).dtype == np.asarray(b).dtype, k
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=k)
