"""The compile-and-run API: tfcompile.compile and @tfcompile.jit."""
import numpy as np
import pytest

import tfcompile
import tfcompile as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_executable_matches_session_run():
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    W = tf.Variable(rng.standard_normal((4, 3)).astype(np.float32))
    out = tf.reduce_sum(tf.nn.relu(tf.matmul(x, W)), 1) * y
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        exe = tfcompile.compile([out, tf.reduce_max(out)], [x, y], session=s)
        for batch in (2, 5, 2):
            xv = rng.standard_normal((batch, 4)).astype(np.float32)
            yv = rng.standard_normal(batch).astype(np.float32)
            got = exe(xv, yv)
            want = s.run(out, {x: xv, y: yv})
            np.testing.assert_allclose(got[0], want, rtol=1e-6)
            np.testing.assert_allclose(got[1], want.max(), rtol=1e-6)
        assert exe.stats()["compilations"] == 2
        assert "dot" in exe.ir(optimized=False)
        assert "define" in exe.llvm_ir()
        assert exe.signature["feeds"][0] == ("x:0", (None, 4), "float32")


def test_executable_updates_variables():
    v = tf.Variable(np.zeros(3, np.float32))
    d = tf.placeholder(tf.float32, [3])
    step = tf.assign_add(v, d)
    with tf.Session() as s:
        s.run(v.initializer)
        exe = tfcompile.compile([step.op], [d], session=s)
        exe(np.ones(3, np.float32))
        exe(np.ones(3, np.float32))
        np.testing.assert_array_equal(s.run(v), [2, 2, 2])


def test_executable_argument_errors():
    x = tf.placeholder(tf.float32, [None, 2], name="inp")
    with tf.Session() as s:
        exe = tfcompile.compile(x * 2, [x], session=s)
        with pytest.raises(TypeError, match="expected 1 argument"):
            exe()
        with pytest.raises(ValueError, match="inp:0"):
            exe(np.zeros((3, 3), np.float32))
        with pytest.raises(TypeError, match="inp:0"):
            exe(np.array([["a", "b"]]))


def test_jit_caches_by_signature_and_nests():
    calls = []

    @tfcompile.jit
    def f(inputs, scale):
        calls.append(1)
        return {"sum": tf.reduce_sum(inputs["a"] * inputs["b"]) * scale,
                "pair": (inputs["a"] + 1, tf.exp(inputs["b"]))}

    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 3), np.float32)
    r = f({"a": a, "b": b}, np.float32(2))
    assert r["sum"] == pytest.approx(30.0)
    np.testing.assert_allclose(r["pair"][0], a + 1)
    np.testing.assert_allclose(r["pair"][1], np.exp(b), rtol=1e-6)
    assert isinstance(r["pair"], tuple)
    f({"a": a, "b": b}, np.float32(3))
    assert f.trace_count == 1                  # same signature: no retrace
    f({"a": a[:1], "b": b[:1]}, np.float32(3))
    assert f.trace_count == 2                  # new shape: traced again
    f({"a": a.astype(np.float64), "b": b.astype(np.float64)}, np.float64(3))
    assert f.trace_count == 3                  # new dtype: traced again
    assert len(calls) == 3


def test_jit_static_argnums():
    @tfcompile.jit(static_argnums=(1,))
    def power(x, n):
        out = x
        for _ in range(n - 1):
            out = out * x
        return out

    x = np.array([1.0, 2.0, 3.0], np.float32)
    np.testing.assert_allclose(power(x, 3), x ** 3)
    np.testing.assert_allclose(power(x, 2), x ** 2)
    assert power.trace_count == 2


def test_jit_control_flow_on_tensor_value_is_explained():
    @tfcompile.jit
    def bad(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TypeError, match="control flow"):
        bad(np.float32(1.0))


def test_jit_positional_fast_path_retraces_on_new_signature():
    @tfcompile.jit
    def f(a, b):
        return a * b + 1

    x = np.arange(3, dtype=np.float32)
    np.testing.assert_allclose(f(x, x), x * x + 1)
    np.testing.assert_allclose(f(x + 1, x), (x + 1) * x + 1)
    assert f.trace_count == 1
    np.testing.assert_allclose(f(x[:2], x[:2]), x[:2] * x[:2] + 1)
    assert f.trace_count == 2
    xi = np.arange(3, dtype=np.int32)
    out = f(xi, xi)
    assert out.dtype == np.int32 and f.trace_count == 3
    np.testing.assert_array_equal(out, xi * xi + 1)
    # a strided (non-contiguous) argument still gives the right answer
    np.testing.assert_allclose(f(np.arange(6, dtype=np.float32)[::2], x),
                               np.arange(6, dtype=np.float32)[::2] * x + 1)
