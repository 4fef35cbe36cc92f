"""Session.run: fetch structures, feeds, variables, caching, and bad input."""
import collections

import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_fetch_structures_and_ops_give_none():
    a = tf.constant(2.0, name="a")
    b = a * 3
    P = collections.namedtuple("P", "x y")
    with tf.Session() as s:
        out = s.run({"k": [a, (b, "a:0")], "p": P(a, b.op)})
    assert out["k"][0] == 2.0 and isinstance(out["k"][1], tuple)
    assert out["k"][1] == (6.0, 2.0)
    assert isinstance(out["p"], P) and out["p"].x == 2.0 and out["p"].y is None


def test_mlp_forward_matches_numpy_and_caches():
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, 8], name="x")
    W = tf.Variable(rng.standard_normal((8, 4)).astype(np.float32), name="W")
    b = tf.Variable(np.arange(4, dtype=np.float32), name="b")
    h = tf.nn.relu(tf.matmul(x, W) + b)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        n0 = s.compile_count
        for batch in (3, 3, 5):
            xv = rng.standard_normal((batch, 8)).astype(np.float32)
            got = s.run(h, {x: xv})
            want = np.maximum(xv @ s.run(W) + np.arange(4, dtype=np.float32), 0)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        # h at batch 3, W, h at batch 5: three signatures, the repeat compiled nothing
        assert s.compile_count - n0 == 3


def test_variables_update_in_place_and_read_before_write():
    v = tf.Variable([1.0, 2.0], name="v")
    loss = tf.reduce_sum(v * v)
    step = tf.assign_sub(v, v * 0.5)
    with tf.Session() as s:
        s.run(v.initializer)
        storage = s._storage[v.op]
        l0, _ = s.run([loss, step])
        assert l0 == 5.0
        np.testing.assert_allclose(s.run(v), [0.5, 1.0])
        assert s._storage[v.op] is storage  # no copy of the weights per step
        with tf.control_dependencies([step]):
            after = v.read_value() * 1
        np.testing.assert_allclose(s.run(after), [0.25, 0.5])


def test_feed_a_variable_and_an_intermediate():
    v = tf.Variable(3.0)
    y = v * 2
    z = y + 1
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(z) == 7.0
        assert s.run(z, {v: 10.0}) == 21.0
        assert s.run(z, {y: 0.5}) == 1.5
        assert s.run(v) == 3.0


def test_uninitialized_variable():
    v = tf.Variable(1.0, name="weights")
    with tf.Session() as s:
        with pytest.raises(tf.errors.FailedPreconditionError, match="weights"):
            s.run(v + 1)


def test_missing_feed_names_placeholder():
    x = tf.placeholder(tf.float32, [None, 2], name="inp")
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"placeholder tensor 'inp' with dtype float and shape \[\?,2\]"):
            s.run(x * 2)


def test_wrong_feed_shape_and_dtype():
    x = tf.placeholder(tf.float32, [None, 2], name="inp")
    i = tf.placeholder(tf.int32, [3], name="idx")
    with tf.Session() as s:
        with pytest.raises(ValueError, match=r"shape \(2, 3\).*'inp:0'.*\(\?, 2\)"):
            s.run(x, {x: np.zeros((2, 3))})
        with pytest.raises(TypeError, match="idx"):
            s.run(i, {i: np.array([1.5, 2.0, 3.0])})
        with pytest.raises(TypeError, match="inp"):
            s.run(x, {x: np.array([["a", "b"]])})
        # exact conversions are accepted, as TF does
        np.testing.assert_array_equal(s.run(i, {i: np.array([1.0, 2.0, 3.0])}), [1, 2, 3])
        assert s.run(x, {x: np.ones((1, 2))}).dtype == np.float32


def test_feed_not_feedable_and_bad_fetches():
    x = tf.placeholder(tf.float32, name="x")
    with tf.Session() as s:
        with pytest.raises(TypeError, match="Operation"):
            s.run(x, {x.op: 1.0})
        with pytest.raises(TypeError, match="feed cannot be a tf.Tensor"):
            s.run(x, {x: tf.constant(1.0)})
        with pytest.raises(ValueError, match="nope:0"):
            s.run("nope:0")
        with pytest.raises(ValueError, match="cannot be interpreted"):
            s.run("nope")
        with pytest.raises(ValueError, match="nope:0"):
            s.run(x, {"nope:0": 1.0})
        with pytest.raises(TypeError):
            s.run(42)


def test_tensor_of_another_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(1.0)
    tf.constant(2.0)
    with tf.Session() as s:
        with pytest.raises(ValueError, match="graph"):
            s.run(c)


def test_runtime_shape_mismatch_names_op():
    a = tf.placeholder(tf.float32, [None], name="a")
    b = tf.placeholder(tf.float32, [None], name="b")
    c = tf.add(a, b, name="the_sum")
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="the_sum"):
            s.run(c, {a: np.ones(3), b: np.ones(4)})


def test_closed_session_and_eval():
    c = tf.constant([1, 2]) * 2
    s = tf.Session()
    with s.as_default():
        np.testing.assert_array_equal(c.eval(), [2, 4])
    s.close()
    with pytest.raises(RuntimeError, match="closed"):
        s.run(c)
    sess = tf.InteractiveSession()
    try:
        np.testing.assert_array_equal(c.eval(), [2, 4])
    finally:
        sess.close()


def test_random_ops_fresh_and_reproducible():
    def values():
        tf.reset_default_graph()
        tf.set_random_seed(42)
        u = tf.random_uniform([1000], -2, 3)
        n = tf.random_normal([4000], 1.0, 2.0, dtype=tf.float64)
        t = tf.truncated_normal([4000])
        with tf.Session() as s:
            return s.run([u, n, t]), s.run(u)
    (u, n, t), u2 = values()
    (u_again, _, _), _ = values()
    np.testing.assert_array_equal(u, u_again)   # same seeds, same values
    assert not np.array_equal(u, u2)            # a new run gives fresh values
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.15
    assert n.dtype == np.float64 and abs(n.mean() - 1) < 0.15 and abs(n.std() - 2) < 0.15
    assert np.abs(t).max() < 2 and abs(t.std() - 0.88) < 0.05
