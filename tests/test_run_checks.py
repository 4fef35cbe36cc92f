"""Run-time checks of compiled code (LoweringContext.add_run_check): an index
out of range fails the run with TF's InvalidArgumentError and message, on the
general path and on the repeated-run shortcut alike; in-range runs return."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def test_gather_index_out_of_range_fails_every_run():
    p = tf.placeholder(tf.float32, [5, 3])
    i = tf.placeholder(tf.int32, [None, 2])
    g = tf.gather(p, i)
    P = np.arange(15, dtype=np.float32).reshape(5, 3)
    with tf.Session() as s:
        good = np.array([[0, 1], [4, 2]], np.int32)
        bad = np.array([[0, 1], [7, 2]], np.int32)
        np.testing.assert_array_equal(s.run(g, {p: P, i: good}), P[good])
        for _ in range(3):     # the second and third take the repeated-run shortcut
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"indices\[1,0\] = 7 is not in \[0, 5\)"):
                s.run(g, {p: P, i: bad})
            np.testing.assert_array_equal(s.run([g], {p: P, i: good})[0], P[good])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"= -1 is not in"):
            s.run(g, {p: P, i: np.array([[0, -1]], np.int32)})


def test_gather_nd_embedding_and_constant_indices():
    p = tf.placeholder(tf.float32, [3, 5])
    i = tf.placeholder(tf.int64, [None, 2])
    ids = tf.placeholder(tf.int32, [None])
    gn = tf.gather_nd(p, i)
    emb = tf.nn.embedding_lookup(p, ids)
    P = np.ones((3, 5), np.float32)
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"indices\[1\] = \[2, 5\] does not index into param shape "
                                 r"\[3,5\]"):
            s.run(gn, {p: P, i: [[0, 0], [2, 5]]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[2\] = 3"):
            s.run(emb, {p: P, ids: [0, 2, 3]})
        assert s.run(emb, {p: P, ids: [0, 2]}).shape == (2, 5)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 4"):
            s.run(tf.gather(p, [4]), {p: P})


def test_checks_in_an_untaken_cond_branch_hold():
    """Both branches of tf.cond are computed: a check inside one applies only
    when its branch is taken (the usual guard: cond(i < n, gather, default))."""
    x = tf.constant([1., 2., 3.])
    i = tf.placeholder(tf.int32, [])
    safe = tf.cond(i < 3, lambda: tf.gather(x, i), lambda: tf.constant(-1.))
    d = tf.placeholder(tf.int32, [])
    div = tf.cond(tf.equal(d, 0), lambda: tf.constant(0), lambda: 7 // d)
    const_bad = tf.cond(i < 0, lambda: tf.gather(x, 5), lambda: tf.constant(0.))
    nested = tf.cond(i >= 0, lambda: tf.cond(i < 3, lambda: tf.gather(x, i),
                                             lambda: tf.constant(-2.)),
                     lambda: tf.constant(-3.))
    with tf.Session() as s:
        assert s.run(safe, {i: 1}) == 2.0 and s.run(safe, {i: 7}) == -1.0
        assert s.run(div, {d: 0}) == 0 and s.run(div, {d: 2}) == 3
        assert s.run(const_bad, {i: 1}) == 0.0
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices = 5"):
            s.run(const_bad, {i: -1})
        assert [s.run(nested, {i: v}) for v in (0, 5, -4)] == [1.0, -2.0, -3.0]
        unguarded = tf.gather(x, i)
        with pytest.raises(tf.errors.InvalidArgumentError, match="is not in"):
            s.run(unguarded, {i: 7})
