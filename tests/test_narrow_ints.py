"""uint8, int8, uint16 and int16 tensors: fed, constant and computed values run
in int32 and wrap into their range after each op as numpy's (and TF's) narrow
arithmetic does; fetched arrays come back in their own dtype. Variables of
these types are refused with a clear error (their buffers are int32 inside)."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def test_uint8_feed_arithmetic_and_cast_like_numpy():
    x = tf.placeholder(tf.uint8, [None, 4])
    a = np.array([[0, 10, 255, 100], [1, 2, 3, 4]], np.uint8)
    with tf.Session() as s:
        got = s.run([tf.cast(x, tf.float32) / 255.0, x + tf.constant(200, tf.uint8), x * 3,
                     x - 20, tf.reduce_sum(x, 1), tf.reduce_max(x), x // 7], {x: a})
    want = [a.astype(np.float32) / np.float32(255), a + np.uint8(200), a * np.uint8(3),
            a - np.uint8(20), a.sum(1, dtype=np.uint8), a.max(), a // np.uint8(7)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", [tf.int8, tf.int16, tf.uint16])
def test_other_narrow_types_wrap(dtype):
    np_dt = dtype.as_numpy_dtype
    x = tf.placeholder(dtype, [5])
    a = np.array([0, 1, -7, 120, 100], np.int64).astype(np_dt)
    with tf.Session() as s:
        got = s.run([x * tf.constant(3, dtype), x + tf.constant(100, dtype), -x], {x: a})
    with np.errstate(over="ignore"):
        want = [a * np_dt(3), a + np_dt(100), (-a.astype(np.int64)).astype(np_dt)]
    for g, w in zip(got, want):
        assert g.dtype == np_dt
        np.testing.assert_array_equal(g, w)


def test_narrow_variables_are_refused_clearly():
    v = tf.Variable(np.array([1, 2], np.uint8))
    with tf.Session() as s:
        with pytest.raises(TypeError, match="uint8.*not supported.*feeds, constants"):
            s.run(v.initializer)
