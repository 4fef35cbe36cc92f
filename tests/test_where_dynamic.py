"""tf.where(condition) and tf.boolean_mask with conditions known only when the
graph runs (fed, variable, random): the Session probes each count, then runs a
plan compiled for it (tfcompile/dynamic_sizes.py). Oracles: numpy's argwhere
and boolean indexing, and the gradient written out by hand."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.aot import export
from tfcompile.errors import UnimplementedError


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4), (3, 1, 2, 2)])
def test_where_of_a_fed_condition(shape):
    x = tf.placeholder(tf.float32, [None] * len(shape))
    w = tf.where(x > 0)
    assert w.dtype == tf.int64 and w.shape.as_list() == [None, len(shape)]
    rng = np.random.default_rng(0)
    with tf.Session() as sess:
        for _ in range(3):
            a = rng.standard_normal(shape).astype(np.float32)
            got = sess.run(w, {x: a})
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, np.argwhere(a > 0))


@pytest.mark.parametrize("dtype", [tf.int32, tf.float64, tf.bool])
def test_where_nonzero_of_other_dtypes(dtype):
    c = tf.placeholder(dtype, [5])
    a = np.array([0, 3, 0, -1, 2]).astype(dtype.as_numpy_dtype)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.where(c), {c: a}), np.argwhere(a))


def test_where_empty_full_and_scalar():
    c = tf.placeholder(tf.bool, [None, 3])
    s = tf.placeholder(tf.bool, [])
    with tf.Session() as sess:
        none = sess.run(tf.where(c), {c: np.zeros((4, 3), bool)})
        assert none.shape == (0, 2) and none.dtype == np.int64
        full = np.ones((2, 3), bool)
        np.testing.assert_array_equal(sess.run(tf.where(c), {c: full}), np.argwhere(full))
        assert sess.run(tf.where(c), {c: np.zeros((0, 3), bool)}).shape == (0, 2)
        assert sess.run(tf.where(s), {s: True}).shape == (1, 0)
        assert sess.run(tf.where(s), {s: False}).shape == (0, 0)


def test_boolean_mask_of_fed_masks_and_axes():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    m0 = tf.placeholder(tf.bool, [None])
    m12 = tf.placeholder(tf.bool, [3, 4])
    a = np.random.default_rng(1).standard_normal((5, 3, 4)).astype(np.float32)
    k0 = np.array([True, False, True, True, False])
    k12 = a[0] > 0
    by_rows = tf.boolean_mask(x, m0)
    inner = tf.boolean_mask(x, m12, axis=1)
    assert by_rows.shape.as_list() == [None, 3, 4] and inner.shape.as_list() == [None, None]
    with tf.Session() as sess:
        r0, r1, r2 = sess.run([by_rows, inner, tf.boolean_mask(x, x > 0)],
                              {x: a, m0: k0, m12: k12})
    np.testing.assert_array_equal(r0, a[k0])
    np.testing.assert_array_equal(r1, a[:, k12])
    np.testing.assert_array_equal(r2, a[a > 0])


def test_masks_of_masks_and_shapes_downstream():
    z = tf.placeholder(tf.float32, [None])
    m1 = tf.boolean_mask(z, z > 0)
    m2 = tf.boolean_mask(m1, m1 < 1)
    n = tf.shape(m2)[0]
    mean = tf.reduce_mean(m2)
    rng = np.random.default_rng(2)
    with tf.Session() as sess:
        for _ in range(4):
            a = rng.standard_normal(40).astype(np.float32)
            want = a[(a > 0) & (a < 1)]
            got, count, avg = sess.run([m2, n, mean], {z: a})
            np.testing.assert_array_equal(got, want)
            assert count == len(want)
            np.testing.assert_allclose(avg, want.mean(), rtol=1e-6)
        assert sess.run(m2, {z: -np.ones(5, np.float32)}).shape == (0,)


def test_random_condition_matches_its_values_and_advances_once():
    r = tf.random_uniform([50], seed=3)
    idx = tf.where(r > 0.5)
    with tf.Session() as sess:
        seen = []
        for _ in range(3):
            rv, iv = sess.run([r, idx])
            np.testing.assert_array_equal(iv, np.argwhere(rv > 0.5))
            seen.append(rv)
    # the probe did not advance the generator: a plain session draws the same values
    with tf.Session() as sess:
        plain = [sess.run(r) for _ in range(3)]
    for a, b in zip(seen, plain):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(seen[0], seen[1])


def test_probe_writes_no_variable():
    v = tf.Variable([1.0, -2.0, 3.0, 0.5])
    with tf.control_dependencies([v.assign(v - 1.0)]):
        after = tf.where(v.read_value() > 0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(after), [[2]])
        np.testing.assert_array_equal(sess.run(v), [0.0, -3.0, 2.0, -0.5])   # once, not twice
        np.testing.assert_array_equal(sess.run(after), [[2]])
        np.testing.assert_array_equal(sess.run(v), [-1.0, -4.0, 1.0, -1.5])


def test_gradient_and_training_through_boolean_mask():
    x = tf.placeholder(tf.float32, [None, 4])
    W = tf.Variable(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2))
    y = tf.matmul(x, W)
    loss = tf.reduce_sum(tf.boolean_mask(y, y[:, 0] > 0.1) ** 2)
    g, = tf.gradients(loss, [W])
    step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    a = np.random.default_rng(4).standard_normal((9, 4)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w0 = sess.run(W)
        yv = a @ w0
        keep = yv[:, 0] > 0.1
        dy = np.where(keep[:, None], 2 * yv, 0)
        np.testing.assert_allclose(sess.run(g, {x: a}), a.T @ dy, rtol=1e-5, atol=1e-5)
        lv, _ = sess.run([loss, step], {x: a})
        np.testing.assert_allclose(lv, (yv[keep] ** 2).sum(), rtol=1e-5)
        np.testing.assert_allclose(sess.run(W), w0 - 0.01 * (a.T @ dy), rtol=1e-5, atol=1e-6)


def test_one_plan_per_count():
    x = tf.placeholder(tf.float32, [6])
    w = tf.where(x > 0)
    with tf.Session() as sess:
        a = np.array([1, -1, 1, -1, 1, -1], np.float32)
        sess.run(w, {x: a})
        n = sess.compile_count
        sess.run(w, {x: -a})             # the same count: no new compile
        sess.run(w, {x: a[::-1].copy()})
        assert sess.compile_count == n
        np.testing.assert_array_equal(sess.run(w, {x: np.ones(6, np.float32)}),
                                      np.arange(6)[:, None])
        assert sess.compile_count == n + 1


def test_missing_feed_in_the_condition_is_the_usual_error():
    x = tf.placeholder(tf.float32, [None], name="cond_input")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="cond_input"):
            sess.run(tf.where(x > 0))


def test_export_names_the_data_dependent_op(tmp_path):
    x = tf.placeholder(tf.float32, [8], name="x")
    w = tf.where(x > 0, name="coords")
    with tf.Session() as sess:
        with pytest.raises(UnimplementedError, match="coords.*depends on the data"):
            export(sess, {x: [8]}, [w], "m", tmp_path / "m")


def test_boolean_mask_gradient_against_central_differences():
    x = tf.placeholder(tf.float64, [3, 4])
    m = tf.placeholder(tf.bool, [3, 4])
    loss = tf.reduce_sum(tf.sin(tf.boolean_mask(x, m)) * tf.boolean_mask(x, m) ** 2)
    g, = tf.gradients(loss, [x])
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4))
    k = rng.random((3, 4)) > 0.4
    eps = 1e-6
    with tf.Session() as sess:
        got = sess.run(g, {x: a, m: k})
        num = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            hi, lo = a.copy(), a.copy()
            hi[idx] += eps
            lo[idx] -= eps
            num[idx] = (sess.run(loss, {x: hi, m: k}) - sess.run(loss, {x: lo, m: k})) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-6)
    assert (got[~k] == 0).all()


def test_compiled_callable_names_the_data_dependent_op():
    import tfcompile
    x = tf.placeholder(tf.float32, [5], name="x")
    w = tf.where(x > 0, name="coords")
    with tf.Session() as sess:
        with pytest.raises(UnimplementedError, match="coords.*depends on the data"):
            tfcompile.compile(w, [x], session=sess)(np.ones(5, np.float32))


def test_shapes_and_sizes_given_by_fed_values():
    """Integer inputs that must be known to compile (a reshape's shape, tile's
    multiples, fill's dims, slice's size, range's bounds) are probed when fed."""
    x = tf.placeholder(tf.float32, [None])
    n = tf.placeholder(tf.int32, [])
    m = tf.placeholder(tf.int32, [1])
    a = np.arange(6, dtype=np.float32)
    with tf.Session() as sess:
        r = tf.reshape(x, [n, -1])
        assert sess.run(r, {x: a, n: 2}).shape == (2, 3)
        assert sess.run(r, {x: a, n: 3}).shape == (3, 2)
        np.testing.assert_array_equal(sess.run(tf.reduce_sum(r, 1), {x: a, n: 2}), [3, 12])
        np.testing.assert_array_equal(sess.run(tf.tile(x, m), {x: a[:2], m: [3]}),
                                      np.tile(a[:2], 3))
        assert sess.run(tf.zeros([n, 2]), {n: 4}).shape == (4, 2)
        np.testing.assert_array_equal(sess.run(tf.slice(x, [1], [n]), {x: a, n: 2}), [1, 2])
        np.testing.assert_array_equal(sess.run(tf.range(1, n, 2), {n: 8}), [1, 3, 5, 7])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape"):
            sess.run(r, {x: a, n: 4})


def test_export_drops_run_checks(tmp_path):
    """An exported library has no error path for run checks: it computes the IR's
    values (an index out of range reads 0) and its ABI holds only the fetches."""
    x = tf.placeholder(tf.float32, [4], name="x")
    i = tf.placeholder(tf.int32, [3], name="i")
    y = tf.gather(x, i) * 2 + tf.cast(i // tf.constant([1, 2, 3]), tf.float32)
    with tf.Session() as sess:
        m = export(sess, {x: [4], i: [3]}, [y], "m", tmp_path / "m").load()
        a = np.arange(4, dtype=np.float32)
        np.testing.assert_array_equal(m(a, np.array([0, 3, 1], np.int32)), [0, 7, 2])
        np.testing.assert_array_equal(m(a, np.array([0, 9, 1], np.int32)), [0, 4, 2])
