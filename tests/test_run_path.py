"""Session.run's shortcut for repeated runs, checked against numpy: a run
repeating an earlier one's fetches and feed signature skips the general path,
and must give the same values, errors and aliasing as that path."""
import threading

import numpy as np
import pytest

import tfcompile as tf
from tfcompile.compiler import VarStorage
from tfcompile.runtime import native


def _mlp(rng, dims=(12, 8, 3)):
    params = [(rng.standard_normal((i, o)).astype(np.float32),
               rng.standard_normal(o).astype(np.float32)) for i, o in zip(dims[:-1], dims[1:])]
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, dims[0]], name="x")
        h = x
        for i, (W, b) in enumerate(params):
            h = tf.matmul(h, tf.Variable(W, name=f"W{i}")) + tf.Variable(b, name=f"b{i}")
            if i < len(params) - 1:
                h = tf.nn.relu(h)
        init = tf.global_variables_initializer()
    return g, x, h, init, params


def _np_mlp(xv, params):
    h = xv.astype(np.float64)
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    return h


def test_repeated_runs_follow_the_feeds():
    rng = np.random.default_rng(0)
    g, x, logits, init, params = _mlp(rng)
    with tf.Session(graph=g) as s:
        s.run(init)
        buf = rng.standard_normal((1, 12)).astype(np.float32)
        feed = {x: buf}
        for i in range(5):
            buf[...] = rng.standard_normal((1, 12))       # the same array, new values
            np.testing.assert_allclose(s.run(logits, feed), _np_mlp(buf, params),
                                       rtol=1e-5, atol=1e-5)
            xv = rng.standard_normal((1, 12)).astype(np.float32)   # a new array
            np.testing.assert_allclose(s.run(logits, {x: xv}), _np_mlp(xv, params),
                                       rtol=1e-5, atol=1e-5)
        n = s.compile_count
        for batch in (3, 1, 3):                 # another shape: its own plan, then back
            xv = rng.standard_normal((batch, 12)).astype(np.float32)
            np.testing.assert_allclose(s.run(logits, {x: xv}), _np_mlp(xv, params),
                                       rtol=1e-5, atol=1e-5)
        assert s.compile_count == n + 1


def test_held_results_are_never_overwritten():
    rng = np.random.default_rng(1)
    g, x, logits, init, params = _mlp(rng)
    with tf.Session(graph=g) as s:
        s.run(init)
        xs = [rng.standard_normal((2, 12)).astype(np.float32) for _ in range(4)]
        held = [s.run(logits, {x: xv}) for xv in xs]
        view = s.run(logits, {x: xs[0]})[1]             # a view holds its base
        for _ in range(3):
            s.run(logits, {x: xs[1]})
        for xv, out in zip(xs, held):
            np.testing.assert_allclose(out, _np_mlp(xv, params), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(view, _np_mlp(xs[0], params)[1], rtol=1e-5, atol=1e-5)
        assert len({id(a) for a in held}) == len(held)


def test_views_of_big_results_are_never_overwritten():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 3000], name="x")
        y = x * 2.0
    with tf.Session(graph=g) as s:
        views = []
        for i in range(4):
            out = s.run(y, {x: np.full((4, 3000), i, np.float32)})
            views.append((i, out[1], out[2:, 5:9], out.reshape(-1)[::7]))
            del out
        for i, row, block, strided in views:
            np.testing.assert_array_equal(row, np.full(3000, 2.0 * i, np.float32))
            np.testing.assert_array_equal(block, np.full((2, 4), 2.0 * i, np.float32))
            assert (strided == 2.0 * i).all()


def test_feeds_the_shortcut_does_not_take_still_work_or_fail_as_before():
    rng = np.random.default_rng(2)
    g, x, logits, init, params = _mlp(rng)
    with g.as_default():
        i = tf.placeholder(tf.int32, [3], name="idx")
        doubled = i * 2
    with tf.Session(graph=g) as s:
        s.run(init)
        xv = rng.standard_normal((2, 12)).astype(np.float32)
        want = _np_mlp(xv, params)
        s.run(logits, {x: xv})
        s.run(logits, {x: xv})
        for other in (xv.astype(np.float64),                  # converted, as TF does
                      np.asfortranarray(np.repeat(xv, 2, axis=0))[::2],   # strided
                      xv.tolist(),
                      np.asfortranarray(xv)):
            np.testing.assert_allclose(s.run(logits, {x: other}), want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(s.run(logits, {"x:0": xv}), want, rtol=1e-5, atol=1e-5)
        with pytest.raises(ValueError, match=r"shape \(2, 5\).*'x:0'.*\(\?, 12\)"):
            s.run(logits, {x: np.zeros((2, 5), np.float32)})
        with pytest.raises(ValueError, match=r"shape \(12,\).*'x:0'"):
            s.run(logits, {x: np.zeros(12, np.float32)})
        with pytest.raises(TypeError, match="x:0"):
            s.run(logits, {x: np.array([["a"] * 12])})
        with pytest.raises(tf.errors.InvalidArgumentError, match="placeholder tensor 'x'"):
            s.run(logits)
        with pytest.raises(tf.errors.InvalidArgumentError, match="placeholder tensor 'x'"):
            s.run(logits, {})
        np.testing.assert_array_equal(s.run(doubled, {i: np.arange(3, dtype=np.int32)}),
                                      [0, 2, 4])
        with pytest.raises(TypeError, match="idx"):
            s.run(doubled, {i: np.array([1.5, 2.0, 3.0])})
        np.testing.assert_allclose(s.run(logits, {x: xv}), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="closed"):
        s.run(logits, {x: xv})


def test_variables_set_between_runs_are_seen():
    rng = np.random.default_rng(3)
    g, x, logits, init, params = _mlp(rng)
    with g.as_default():
        W0 = [v for v in tf.global_variables() if v.op.name == "W0"][0]
        scale = tf.assign(W0, W0 * 2.0)
    xv = rng.standard_normal((1, 12)).astype(np.float32)
    with tf.Session(graph=g) as s:
        s.run(init)
        s.run(logits, {x: xv})
        s.run(scale)                                    # in place
        doubled = [(params[0][0] * 2, params[0][1])] + params[1:]
        np.testing.assert_allclose(s.run(logits, {x: xv}), _np_mlp(xv, doubled),
                                   rtol=1e-5, atol=1e-5)
        new_W = rng.standard_normal((12, 8)).astype(np.float32)
        W0.load(new_W, s)                               # a new array
        loaded = [(new_W, params[0][1])] + params[1:]
        np.testing.assert_allclose(s.run(logits, {x: xv}), _np_mlp(xv, loaded),
                                   rtol=1e-5, atol=1e-5)
        s.run(init)                                     # back to the start
        np.testing.assert_allclose(s.run(logits, {x: xv}), _np_mlp(xv, params),
                                   rtol=1e-5, atol=1e-5)


def test_uninitialized_variable_after_a_repeated_run():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        v = tf.Variable(np.ones(2, np.float32), name="weights")
        y = x * v
    s = tf.Session(graph=g)
    s.run(v.initializer)
    xv = np.array([1.0, 2.0], np.float32)
    s.run(y, {x: xv})
    s.run(y, {x: xv})
    s._storage.clear()                                  # as a fresh session would be
    with pytest.raises(tf.errors.FailedPreconditionError, match="weights"):
        s.run(y, {x: xv})
    s.run(v.initializer)
    np.testing.assert_array_equal(s.run(y, {x: xv}), xv)


def test_fetch_structures_of_repeated_runs():
    rng = np.random.default_rng(4)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        v = tf.Variable(np.zeros(3, np.float32), name="v")
        total = tf.reduce_sum(x)
        mean = tf.reduce_mean(x, axis=0)
        step = tf.assign_add(v, mean)
    with tf.Session(graph=g) as s:
        s.run(v.initializer)
        acc = np.zeros(3)
        for i in range(4):
            xv = rng.standard_normal((4, 3)).astype(np.float32)
            acc += xv.mean(axis=0)
            out = s.run([total, step, mean, total], {x: xv})
            assert isinstance(out, list) and len(out) == 4
            assert isinstance(out[0], np.float32) and out[0] == out[3]
            np.testing.assert_allclose(out[0], xv.sum(), rtol=1e-5)
            np.testing.assert_allclose(out[1], acc, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(out[2], xv.mean(axis=0), rtol=1e-5, atol=1e-6)
            tup = s.run((mean, step.op), {x: xv})
            assert isinstance(tup, tuple) and tup[1] is None
            acc += xv.mean(axis=0)
            scalar = s.run(total, {x: xv})
            assert isinstance(scalar, np.float32)
            np.testing.assert_allclose(scalar, xv.sum(), rtol=1e-5)
        np.testing.assert_allclose(s.run(v), acc, rtol=1e-5, atol=1e-6)


def test_two_feeds_in_either_order_and_no_feeds():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [3], name="a")
        b = tf.placeholder(tf.float32, [3], name="b")
        d = a - b
        c = tf.constant([1.0, 2.0]) * 3.0
    av, bv = np.arange(3, dtype=np.float32), np.ones(3, np.float32)
    with tf.Session(graph=g) as s:
        for _ in range(3):
            np.testing.assert_array_equal(s.run(d, {a: av, b: bv}), av - bv)
            np.testing.assert_array_equal(s.run(d, {b: bv, a: av}), av - bv)
            np.testing.assert_array_equal(s.run(d, {a: bv, b: av}), bv - av)
            np.testing.assert_array_equal(s.run(c), [3.0, 6.0])
            np.testing.assert_array_equal(s.run(c, {}), [3.0, 6.0])
            np.testing.assert_array_equal(s.run(d, {a: av, b: bv, c: np.zeros(2, np.float32)}),
                                          av - bv)


def test_random_ops_stay_fresh():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        r = tf.random_uniform([4], seed=7) + x
    with tf.Session(graph=g) as s:
        xv = np.zeros(4, np.float32)
        draws = [s.run(r, {x: xv}) for _ in range(4)]
    assert all(np.all((d >= 0) & (d < 1)) for d in draws)
    assert len({d.tobytes() for d in draws}) == 4


def test_concurrent_runs_of_one_session():
    rng = np.random.default_rng(5)
    g, x, logits, init, params = _mlp(rng)
    s = tf.Session(graph=g)
    s.run(init)
    xs = [rng.standard_normal((1, 12)).astype(np.float32) for _ in range(4)]
    wants = [_np_mlp(xv, params) for xv in xs]
    errors = []

    def work(k):
        try:
            for _ in range(300):
                got = s.run(logits, {x: xs[k]})
                if not np.allclose(got, wants[k], rtol=1e-5, atol=1e-5):
                    errors.append(k)
        except Exception as e:          # noqa: BLE001 (reported below)
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_session_sizes_the_pool_even_after_others_did():
    native.set_num_threads(1)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        y = x + 1.0
    s = tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=2))
    xv = np.zeros(3, np.float32)
    try:
        for _ in range(2):
            s.run(y, {x: xv})
            assert native.get_num_threads() == 2
            native.set_num_threads(3)
            s.run(y, {x: xv})
            assert native.get_num_threads() == 2
            native.set_num_threads(1)
    finally:
        native.set_num_threads(0)


def test_var_storage_counts_every_change():
    st = VarStorage()
    seen = [st.version]

    def changed():
        moved = st.version != seen[0]
        seen[0] = st.version
        return moved
    st["a"] = 1
    assert changed()
    assert st.get("a") == 1 and not changed()
    st.update(b=2)
    assert changed()
    st.setdefault("c", 3)
    assert changed()
    st.pop("c")
    assert changed()
    del st["b"]
    assert changed()
    st |= {"d": 4}
    assert changed() and isinstance(st, VarStorage)
    st.popitem()
    assert changed()
    st.clear()
    assert changed() and st == {}


def test_big_variables_start_on_cache_lines():
    """Variables of 4 KB or more start on a 64-byte line (numpy's own
    allocations are only 16-byte aligned), whatever gave the value."""
    rng = np.random.default_rng(6)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 300], name="x")
        W = tf.Variable(rng.standard_normal((300, 40)).astype(np.float32), name="W")
        small = tf.Variable(np.ones(3, np.float32), name="small")
        y = tf.matmul(x, W) * tf.reduce_sum(small)
    with tf.Session(graph=g) as s:
        s.run(tf.global_variables_initializer())
        assert s._storage[W.op].ctypes.data % 64 == 0
        new_W = rng.standard_normal((300, 40)).astype(np.float32)
        W.load(new_W[:, ::1], s)
        assert s._storage[W.op].ctypes.data % 64 == 0
        np.testing.assert_array_equal(s.run(W), new_W)
        np.testing.assert_array_equal(s.run(small), np.ones(3, np.float32))
        xv = rng.standard_normal((50, 300)).astype(np.float32)
        out = s.run(y, {x: xv})
        assert out.flags.c_contiguous and out.shape == (50, 40)
        np.testing.assert_allclose(out, (xv.astype(np.float64) @ new_W) * 3, rtol=1e-4, atol=1e-4)
