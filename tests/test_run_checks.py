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
