"""tf.cond / tf.case: values, gradients, names, and the refusal of stateful branches."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_cond_values_gradients_and_names():
    x = tf.placeholder(tf.float32, [None], name="x")
    p = tf.placeholder(tf.bool, [], name="p")
    y = tf.cond(p, lambda: x * 2, lambda: x - 1)
    pair = tf.cond(p, lambda: (x, x + 1), lambda: (x * 0, x))
    g = tf.gradients(tf.reduce_sum(y * y), x)[0]
    assert y.name == "cond/Merge:0" and y.shape.as_list() == [None]
    assert [t.name for t in pair] == ["cond_1/Merge:0", "cond_1/Merge_1:0"]
    xv = np.array([1.0, -2.0, 3.0], np.float32)
    with tf.Session() as s:
        for pv in (True, False):
            yv, pv0, pv1, gv = s.run([y, pair[0], pair[1], g], {x: xv, p: pv})
            want = xv * 2 if pv else xv - 1
            np.testing.assert_allclose(yv, want)
            np.testing.assert_allclose(pv0, xv if pv else xv * 0)
            np.testing.assert_allclose(pv1, xv + 1 if pv else xv)
            np.testing.assert_allclose(gv, 2 * want * (2 if pv else 1))


def test_case_first_true_wins():
    i = tf.placeholder(tf.int32, [])
    out = tf.case([(tf.equal(i, 0), lambda: tf.constant(10)),
                   (tf.less(i, 5), lambda: tf.constant(20))], default=lambda: tf.constant(30))
    with tf.Session() as s:
        assert [s.run(out, {i: v}) for v in (0, 3, 9)] == [10, 20, 30]


def test_stateful_branch_is_refused():
    v = tf.Variable(1.0, name="v")
    p = tf.placeholder(tf.bool, [])
    with pytest.raises(NotImplementedError, match="stateful"):
        tf.cond(p, lambda: v.assign(2.0), lambda: v.value())


def test_cond_errors():
    with pytest.raises(TypeError, match="bool"):
        tf.cond(tf.constant(1), lambda: 1, lambda: 2)
    with pytest.raises(ValueError, match="same type"):
        tf.cond(tf.constant(True), lambda: tf.constant(1), lambda: tf.constant(1.0))


def test_seeded_random_ops_in_unrolled_loops_draw_per_iteration():
    """TF's loop op draws fresh values each iteration even for an op with an
    explicit seed; the unrolled copies here get a stream each (and two separate
    ops with the same seeds still agree, as in TF)."""
    with tf.Graph().as_default():
        _, acc = tf.while_loop(
            lambda i, acc: i < 3,
            lambda i, acc: (i + 1, tf.concat([acc, tf.random_uniform([1], seed=7)], 0)),
            [tf.constant(0), tf.zeros([0])])
        m = tf.map_fn(lambda x: x + tf.random_normal([], seed=3), tf.zeros([4]))
        sc = tf.scan(lambda a, x: a + tf.random_uniform([], seed=5), tf.zeros([3]),
                     initializer=tf.constant(0.0))
        twins = tf.random_uniform([2], seed=9), tf.random_uniform([2], seed=9)
        with tf.Session() as s:
            a, mv, sv, (t1, t2) = s.run([acc, m, sc, twins])
        assert len(set(a.tolist())) == 3 and len(set(mv.tolist())) == 4
        assert len(set(np.diff(np.concatenate([[0.0], sv])).round(6).tolist())) == 3
        np.testing.assert_array_equal(t1, t2)
