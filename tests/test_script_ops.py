"""tf.py_func / tf.numpy_function: the Python function runs on its inputs'
values once per run that needs it, before the compiled run, which gets its
results as feeds; inputs drawn from random ops or variables are the values
the same run sees (the inputs are computed by a dry run)."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def test_py_func_values_shapes_and_calls():
    calls = []

    def f(a):
        calls.append(a.copy())
        return (np.sort(a) * 2).astype(np.float32)
    x = tf.placeholder(tf.float32, [None])
    y = tf.py_func(f, [x + 1], tf.float32)
    assert y.op.type == "PyFunc" and y.name == "PyFunc:0" and y.shape.ndims is None
    z = tf.reduce_sum(y) + 1
    with tf.Session() as s:
        yv, zv = s.run([y, z], {x: [3, 1, 2]})
        np.testing.assert_array_equal(yv, [4, 6, 8])
        assert zv == 19.0 and len(calls) == 1
        np.testing.assert_array_equal(s.run(y, {x: [5, 0]}), [2, 12])   # a new shape
        assert len(calls) == 2


def test_py_func_sees_the_runs_random_and_variable_values():
    v = tf.Variable(3.0)
    r = tf.random_uniform([3], seed=1)
    a, n = tf.py_func(lambda u, w: (u * w, np.int64(u.size)), [r, v], [tf.float32, tf.int64])
    c = tf.numpy_function(lambda u: u.astype(np.int32), [r * 10], tf.int32)
    with tf.Session() as s:
        s.run(v.initializer)
        rv, av, nv, cv = s.run([r, a, n, c])
        np.testing.assert_allclose(av, rv * 3, rtol=1e-6)
        np.testing.assert_array_equal(cv, (rv * 10).astype(np.int32))
        assert nv == 3 and np.asarray(nv).shape == ()
        assert not np.array_equal(rv, s.run(r))          # the generator moved once per run


def test_py_func_errors():
    x = tf.placeholder(tf.float32, [2])

    def bad(a):
        raise ValueError("no good")
    y = tf.py_func(bad, [x], tf.float32)
    two = tf.py_func(lambda a: a, [x], [tf.float32, tf.float32])
    with tf.Session() as s:
        with pytest.raises(tf.errors.UnknownError, match="ValueError: no good"):
            s.run(y, {x: [1, 2]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="returned 1 values, Tout has 2"):
            s.run(two[0], {x: [1, 2]})
