"""tf.unique, unique_with_counts, setdiff1d, dynamic_partition, dynamic_stitch,
bincount and confusion_matrix against numpy transcriptions of TF's documented
semantics: dtypes, empty inputs, constant and fed inputs (data-dependent
lengths probed at run time), static shapes, errors, and gradients against
central differences."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.errors import InvalidArgumentError
from tfcompile.ops import segment_ops


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


RNG = np.random.default_rng(1)


@pytest.fixture(params=["select", "scan"])
def path(request, monkeypatch):
    """Both ways of summing into bins: the fused select-reduce and sort + scan."""
    monkeypatch.setattr(segment_ops, "FORCE_PATH", request.param)
    return request.param


def _numeric_grad(sess, loss, x, value, feeds, eps=1e-6):
    num = np.zeros_like(value)
    for idx in np.ndindex(*value.shape):
        old = value[idx]
        value[idx] = old + eps
        hi = sess.run(loss, {**feeds, x: value})
        value[idx] = old - eps
        lo = sess.run(loss, {**feeds, x: value})
        value[idx] = old
        num[idx] = (hi - lo) / (2 * eps)
    return num


# ---------------------------------------------------------------- unique / setdiff1d

def np_unique(x):
    """First occurrences in order; NaN equals nothing (each is its own value)."""
    y, idx = [], []
    for v in x:
        k = next((k for k, u in enumerate(y) if u == v), None)
        if k is None:
            y.append(v)
            k = len(y) - 1
        idx.append(k)
    return (np.array(y, x.dtype), np.array(idx, np.int64),
            np.bincount(np.array(idx, np.int64), minlength=len(y)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_unique_with_counts_of_fed_vectors(dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [None])
    u = tf.unique(x)
    c = tf.unique_with_counts(x, out_idx=tf.int64)
    assert u.y.shape.as_list() == [None] and u.idx.dtype == tf.int32
    assert c.count.dtype == tf.int64 and c.count.shape.as_list() == [None]
    with tf.Session() as s:
        for n in (9, 1, 0, 30):
            a = RNG.integers(0, 4, n).astype(dtype)
            y, idx, cnt = np_unique(a)
            (gy, gi), (cy, ci, cc) = s.run([u, c], {x: a})
            np.testing.assert_array_equal(gy, y)
            np.testing.assert_array_equal(gi, idx)
            np.testing.assert_array_equal(cy, y)
            np.testing.assert_array_equal(ci, idx)
            np.testing.assert_array_equal(cc, cnt)
            assert gy.dtype == dtype and gi.dtype == np.int32 and cc.dtype == np.int64


def test_unique_nan_and_signed_zero_as_tf():
    a = np.array([3.0, 1.0, 3.0, np.nan, np.nan, 0.0, -0.0], np.float32)
    with tf.Session() as s:
        y, idx = s.run(tf.unique(a))
    np.testing.assert_array_equal(y, [3.0, 1.0, np.nan, np.nan, 0.0])
    np.testing.assert_array_equal(idx, [0, 1, 0, 2, 3, 4, 4])


def test_unique_errors_and_no_gradient():
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.unique([[1, 2]])
    with pytest.raises(TypeError, match="out_idx"):
        tf.unique([1, 2], out_idx=tf.float32)
    x = tf.placeholder(tf.float32, [3])
    with pytest.raises(LookupError, match="Unique"):
        tf.gradients(tf.reduce_sum(tf.unique(x).y), x)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_setdiff1d_of_fed_vectors(dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [None])
    y = tf.placeholder(tf.as_dtype(dtype), [None])
    d = tf.setdiff1d(x, y, index_dtype=tf.int64)
    old = tf.listdiff(x, y)
    assert d.out.shape.as_list() == [None] and d.idx.dtype == tf.int64
    with tf.Session() as s:
        for n, m in ((8, 3), (5, 0), (0, 2), (6, 6)):
            a = RNG.integers(0, 5, n).astype(dtype)
            b = RNG.integers(0, 5, m).astype(dtype)
            keep = np.array([not (v == b).any() for v in a], bool)
            (out, idx), (out2, idx2) = s.run([d, old], {x: a, y: b})
            np.testing.assert_array_equal(out, a[keep])
            np.testing.assert_array_equal(idx, np.flatnonzero(keep))
            np.testing.assert_array_equal(out2, a[keep])
            assert idx.dtype == np.int64 and idx2.dtype == np.int32 and out.dtype == dtype


def test_setdiff1d_of_constants_and_errors():
    with tf.Session() as s:
        out, idx = s.run(tf.setdiff1d([1, 2, 3, 2, 5], [2, 7]))
    np.testing.assert_array_equal(out, [1, 3, 5])
    np.testing.assert_array_equal(idx, [0, 2, 4])
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.setdiff1d([[1, 2]], [1])


# ---------------------------------------------------------------- dynamic_partition

@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_dynamic_partition_of_fed_partitions(dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [None, 2, 3])
    p = tf.placeholder(tf.int32, [None, 2])
    outs = tf.dynamic_partition(x, p, 3)
    assert len(outs) == 3 and all(o.shape.as_list() == [None, 3] for o in outs)
    with tf.Session() as s:
        for n in (4, 1, 0):
            data = RNG.integers(0, 9, (n, 2, 3)).astype(dtype)
            parts = RNG.integers(0, 3, (n, 2)).astype(np.int32)
            got = s.run(outs, {x: data, p: parts})
            for k in range(3):
                np.testing.assert_array_equal(got[k], data[parts == k])
                assert got[k].dtype == dtype


def test_dynamic_partition_of_constants_and_errors():
    d = np.arange(12.0).reshape(2, 3, 2)
    parts = np.array([[0, 1, 0], [1, 1, 0]], np.int32)
    with tf.Session() as s:
        a, b = s.run(tf.dynamic_partition(d, parts, 2))
    np.testing.assert_array_equal(a, d[parts == 0])
    np.testing.assert_array_equal(b, d[parts == 1])
    with pytest.raises(TypeError, match="int64 that does not match expected type of int32"):
        tf.dynamic_partition(d, tf.constant(parts, tf.int64), 2)
    with pytest.raises(ValueError, match="less than minimum 1"):
        tf.dynamic_partition(d, parts, 0)
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.dynamic_partition(d, np.zeros((2, 2), np.int32), 2)
    p = tf.placeholder(tf.int32, [None])
    outs = tf.dynamic_partition(tf.constant([1.0, 2.0, 3.0]), p, 2)
    with tf.Session() as s:
        with pytest.raises(InvalidArgumentError, match=r"^partitions\[1\] = 2 is not in \[0, 2\)"):
            s.run(outs, {p: [0, 2, 1]})
        with pytest.raises(InvalidArgumentError, match=r"^partitions\[2\] = -1 is not in"):
            s.run(outs, {p: [0, 1, -1]})


def test_dynamic_partition_gradient_against_central_differences():
    x = tf.placeholder(tf.float64, [None, 2])
    p = tf.placeholder(tf.int32, [None])
    w = [tf.placeholder(tf.float64, [None, 2]) for _ in range(3)]
    outs = tf.dynamic_partition(x, p, 3)
    # partition 2 is not used: its gradient is zeros
    loss = tf.reduce_sum(outs[0] * w[0]) + tf.reduce_sum(tf.square(outs[1]) * w[1])
    (g,) = tf.gradients(loss, x)
    parts = np.array([1, 0, 2, 1, 1, 0], np.int32)
    data = RNG.standard_normal((6, 2))
    feeds = {p: parts, w[0]: RNG.standard_normal((2, 2)), w[1]: RNG.standard_normal((3, 2))}
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g, {**feeds, x: data}),
                                   _numeric_grad(s, loss, x, data, feeds), atol=1e-6)


def test_dynamic_partition_second_order():
    """The gradient's own gradient partitions the incoming gradient again."""
    x = tf.placeholder(tf.float64, [5])
    p = tf.constant([1, 0, 1, 1, 0])
    u = [tf.placeholder(tf.float64, [None]) for _ in range(2)]
    (g,) = tf.gradients(tf.dynamic_partition(x, p, 2), x, grad_ys=u)
    c = np.arange(5.0)
    gu = tf.gradients(tf.reduce_sum(g * c), u)
    with tf.Session() as s:
        got_g, (g0, g1) = s.run([g, gu], {x: np.zeros(5), u[0]: [7.0, 8.0],
                                          u[1]: [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(got_g, [1, 7, 2, 3, 8])
    np.testing.assert_array_equal(g0, c[[1, 4]])
    np.testing.assert_array_equal(g1, c[[0, 2, 3]])
    with tf.Session() as s:   # a gradient whose rows don't match its partition
        with pytest.raises(InvalidArgumentError, match="gradient of partition 1 has 2 rows"):
            s.run(g, {x: np.zeros(5), u[0]: [7.0, 8.0], u[1]: [1.0, 2.0]})


# ---------------------------------------------------------------- dynamic_stitch

def np_stitch(indices, data):
    rows = max([int(np.max(i)) + 1 for i in indices if np.size(i)] + [0])
    rest = np.asarray(data[0]).shape[np.ndim(indices[0]):]
    out = np.zeros((rows,) + rest, np.asarray(data[0]).dtype)
    for i, d in zip(indices, data):
        i = np.asarray(i).reshape(-1)
        d = np.asarray(d).reshape((i.size,) + rest)
        for k, v in enumerate(i):
            out[v] = d[k]      # later ones win
    return out


@pytest.mark.parametrize("stitch", [tf.dynamic_stitch, tf.parallel_dynamic_stitch])
def test_dynamic_stitch_of_constant_indices(stitch):
    idx = [np.array([[0, 4]], np.int32), np.array([1, 4], np.int32)]
    data = [np.arange(4.0).reshape(1, 2, 2), np.array([[9.0, 9.0], [5.0, 6.0]])]
    out = stitch(idx, data)
    assert out.shape.as_list() == [5, 2] and out.op.type == stitch.__name__.title().replace(
        "_", "")
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(out), np_stitch(idx, data))


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
def test_dynamic_stitch_of_fed_indices(dtype):
    i0 = tf.placeholder(tf.int32, [None])
    i1 = tf.placeholder(tf.int32, [None, 2])
    d0 = tf.placeholder(tf.as_dtype(dtype), [None, 3])
    d1 = tf.placeholder(tf.as_dtype(dtype), [None, 2, 3])
    out = tf.dynamic_stitch([i0, i1], [d0, d1])
    assert out.shape.as_list() == [None, 3]
    with tf.Session() as s:
        for a, b in (([0, 2, 5], [[1, 3], [4, 2]]), ([3], np.zeros((0, 2), int)), ([], [[0, 1]])):
            a, b = np.array(a, np.int32), np.array(b, np.int32)
            x0 = RNG.integers(0, 9, (a.size, 3)).astype(dtype)
            x1 = RNG.integers(0, 9, b.shape + (3,)).astype(dtype)
            np.testing.assert_array_equal(s.run(out, {i0: a, i1: b, d0: x0, d1: x1}),
                                          np_stitch([a, b], [x0, x1]))
        with pytest.raises(InvalidArgumentError, match=r"^indices\[1\] is out of range"):
            s.run(out, {i0: [0, -1], i1: [[1, 2]], d0: np.zeros((2, 3)), d1: np.zeros((1, 2, 3))})
        with pytest.raises(InvalidArgumentError, match=r"^indices\[1\] is out of range"):
            s.run(out, {i0: [0], i1: [[1, -2]], d0: np.zeros((1, 3)), d1: np.zeros((1, 2, 3))})


def test_dynamic_stitch_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.dynamic_stitch([[0, 1], [1]], [[1.0, 2.0], [4.0, 5.0]])
    with pytest.raises(TypeError, match="don't all match"):
        tf.dynamic_stitch([[0], [1]], [tf.constant([1.0]), tf.constant([2], tf.int32)])
    with pytest.raises(ValueError, match="must match length"):
        tf.dynamic_stitch([[0], [1]], [[1.0]])


def test_dynamic_stitch_gradients():
    i0 = tf.placeholder(tf.int32, [None])
    d0 = tf.placeholder(tf.float64, [None, 2])
    d1 = tf.placeholder(tf.float64, [2, 2])
    w = tf.placeholder(tf.float64, [None, 2])
    out = tf.dynamic_stitch([i0, tf.constant([1, 3])], [d0, d1])
    loss = tf.reduce_sum(tf.square(out) * w)
    g0, g1 = tf.gradients(loss, [d0, d1])
    a0 = RNG.standard_normal((3, 2))
    a1 = RNG.standard_normal((2, 2))
    feeds = {i0: [0, 4, 2], w: RNG.standard_normal((5, 2)), d1: a1}
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g0, {**feeds, d0: a0}),
                                   _numeric_grad(s, loss, d0, a0, feeds), atol=1e-6)
        feeds = {**feeds, d0: a0}
        del feeds[d1]
        np.testing.assert_allclose(s.run(g1, {**feeds, d1: a1}),
                                   _numeric_grad(s, loss, d1, a1, feeds), atol=1e-6)
        # a repeated index: TF gives the gradient rows to every data row naming them
        gr = tf.gradients(tf.dynamic_stitch([i0, tf.constant([1, 3])], [d0, d1]), d0,
                          grad_ys=tf.constant(np.arange(10.0).reshape(5, 2)))[0]
        np.testing.assert_array_equal(s.run(gr, {i0: [1, 0, 1], d0: a0, d1: a1}),
                                      [[2, 3], [0, 1], [2, 3]])


# ---------------------------------------------------------------- bincount

def np_bincount(arr, weights=None, minlength=None, maxlength=None, dtype=np.int32):
    arr = np.asarray(arr).reshape(-1)
    n = int(arr.max()) + 1 if arr.size else 0
    if minlength is not None:
        n = max(n, minlength)
    if maxlength is not None:
        n = min(n, maxlength)
    w = np.ones(arr.size, dtype) if weights is None else np.asarray(weights).reshape(-1)
    out = np.zeros(n, w.dtype)
    keep = arr < n
    np.add.at(out, arr[keep], w[keep])
    return out


def test_bincount_of_fed_arrays(path):
    a = tf.placeholder(tf.int32, [None, None])
    w = tf.placeholder(tf.float64, [None, None])
    plain = tf.bincount(a)
    weighted = tf.math.bincount(a, weights=w, minlength=6)
    capped = tf.bincount(a, maxlength=3, dtype=tf.int64)
    fixed = tf.bincount(a, minlength=4, maxlength=4, dtype=tf.float32)
    assert plain.dtype == tf.int32 and weighted.dtype == tf.float64
    assert capped.dtype == tf.int64 and fixed.shape.as_list() == [None]
    with tf.Session() as s:
        for shape in ((3, 4), (1, 1), (0, 3), (2, 5)):
            arr = RNG.integers(0, 8, shape).astype(np.int32)
            wt = RNG.standard_normal(shape)
            got = s.run([plain, weighted, capped, fixed], {a: arr, w: wt})
            want = [np_bincount(arr), np_bincount(arr, wt, minlength=6),
                    np_bincount(arr, maxlength=3, dtype=np.int64),
                    np_bincount(arr, minlength=4, maxlength=4, dtype=np.float32)]
            for g, e in zip(got, want):
                assert g.dtype == e.dtype
                np.testing.assert_allclose(g, e)


def test_bincount_constants_errors_and_gradient(path):
    b = tf.bincount([1, 1, 3], dtype=tf.float64)
    assert b.shape.as_list() == [4] and b.name == "bincount/Bincount:0"
    a = tf.placeholder(tf.int32, [None])
    w = tf.placeholder(tf.float64, [None])
    v = tf.placeholder(tf.float64, [None])
    loss = tf.reduce_sum(tf.bincount(a, weights=w, maxlength=4) * v)
    (g,) = tf.gradients(loss, w)
    arr = np.array([0, 5, 3, 3, 1], np.int32)
    wt = RNG.standard_normal(5)
    feeds = {a: arr, v: RNG.standard_normal(4)}
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(b), [0, 2, 0, 1])
        np.testing.assert_allclose(s.run(g, {**feeds, w: wt}),
                                   _numeric_grad(s, loss, w, wt, feeds), atol=1e-6)
        with pytest.raises(InvalidArgumentError, match="non-negative"):
            s.run(tf.bincount(a), {a: [1, -1, 3]})
    with pytest.raises(TypeError):
        tf.bincount([1, 2], dtype=tf.bool)


# ---------------------------------------------------------------- confusion_matrix

def np_confusion(labels, predictions, n=None, weights=None, dtype=np.int32):
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    predictions = np.asarray(predictions).reshape(-1).astype(np.int64)
    if n is None:
        n = int(max(labels.max(initial=-1), predictions.max(initial=-1))) + 1
    out = np.zeros((n, n), dtype)
    w = np.ones(labels.size) if weights is None else np.asarray(weights)
    np.add.at(out, (labels, predictions), w.astype(dtype))
    return out


def test_confusion_matrix_of_fed_labels(path):
    lab = tf.placeholder(tf.int32, [None])
    pred = tf.placeholder(tf.int64, [None])
    w = tf.placeholder(tf.float32, [None])
    free = tf.confusion_matrix(lab, pred)
    fixed = tf.math.confusion_matrix(lab, pred, num_classes=5, weights=w, dtype=tf.float64)
    assert free.shape.as_list() == [None, None] and free.dtype == tf.int32
    assert fixed.shape.as_list() == [5, 5] and fixed.name == (
        "confusion_matrix_1/SparseTensorDenseAdd:0")
    with tf.Session() as s:
        for n in (6, 1, 0, 20):
            la = RNG.integers(0, 5, n).astype(np.int32)
            pr = RNG.integers(0, 4, n).astype(np.int64)
            wt = RNG.standard_normal(n).astype(np.float32)
            f, x = s.run([free, fixed], {lab: la, pred: pr, w: wt})
            np.testing.assert_array_equal(f, np_confusion(la, pr))
            np.testing.assert_allclose(x, np_confusion(la, pr, 5, wt, np.float64), rtol=1e-6)
        with pytest.raises(InvalidArgumentError, match="`labels` out of bound"):
            s.run(fixed, {lab: [1, 5], pred: [0, 0], w: [1, 1]})
        with pytest.raises(InvalidArgumentError, match="`predictions` contains negative"):
            s.run(free, {lab: [1, 2], pred: [0, -1]})


def test_confusion_matrix_squeezes_and_checks_constants():
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(tf.confusion_matrix([[1], [2]], [1, 1])),
                                      np_confusion([1, 2], [1, 1]))
        np.testing.assert_array_equal(
            s.run(tf.confusion_matrix([1.0, 2.0], [1.0, 1.4], num_classes=3)),
            np_confusion([1, 2], [1, 1], 3))
    with pytest.raises(InvalidArgumentError, match="`labels` contains negative values"):
        tf.confusion_matrix([1, -2, 0], [1, 1, 0])
    with pytest.raises(InvalidArgumentError, match="`predictions` out of bound"):
        tf.confusion_matrix([1, 0], [1, 3], num_classes=3)
    with pytest.raises(ValueError, match="incompatible"):
        tf.confusion_matrix([1, 2], [1, 1], weights=[1.0, 2.0, 3.0])


def test_confusion_matrix_weight_gradient(path):
    lab = tf.constant([0, 2, 2, 1])
    pred = tf.constant([0, 1, 1, 2])
    w = tf.placeholder(tf.float64, [4])
    c = tf.placeholder(tf.float64, [3, 3])
    loss = tf.reduce_sum(tf.square(tf.confusion_matrix(lab, pred, weights=w,
                                                       dtype=tf.float64)) * c)
    (g,) = tf.gradients(loss, w)
    wt = RNG.standard_normal(4)
    feeds = {c: RNG.standard_normal((3, 3))}
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g, {**feeds, w: wt}),
                                   _numeric_grad(s, loss, w, wt, feeds), atol=1e-6)
