"""Segment reductions (tf.math.unsorted_segment_*, tf.math.segment_*) against
numpy transcriptions of TF's documented semantics: dtypes, ranks of ids,
negative ids, empty segments and inputs, constant and fed ids (the sorted ops'
row count probed at run time), static shapes, errors, and the gradients
against central differences (written inline where the shape is data-dependent)."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.errors import InvalidArgumentError
from tfcompile.ops import segment_ops

from gradcheck import check_gradients


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


@pytest.fixture(params=["select", "scan"])
def path(request, monkeypatch):
    """Both ways of reducing: the fused select-reduce and sort + segmented scan."""
    monkeypatch.setattr(segment_ops, "FORCE_PATH", request.param)
    return request.param


RNG = np.random.default_rng(0)
KINDS = ("sum", "prod", "max", "min")
UNSORTED = {"sum": tf.unsorted_segment_sum, "prod": tf.unsorted_segment_prod,
            "max": tf.unsorted_segment_max, "min": tf.unsorted_segment_min}
SORTED = {"sum": tf.segment_sum, "prod": tf.segment_prod, "max": tf.segment_max,
          "min": tf.segment_min, "mean": tf.segment_mean}


# ---------------------------------------------------------------- numpy oracles

def _identity(kind, dtype):
    lim = np.finfo(dtype) if np.dtype(dtype).kind == "f" else np.iinfo(dtype)
    return {"sum": 0, "prod": 1, "max": lim.min, "min": lim.max}[kind]


def np_unsorted(data, ids, n, kind):
    """TF's unsorted segment reduction: negative ids dropped, empty segments
    get the identity (the dtype's lowest value for max, highest for min)."""
    ids = np.asarray(ids)
    rest = data.shape[ids.ndim:]
    flat_ids = ids.reshape(-1)
    flat = data.reshape((flat_ids.size,) + rest)
    out = np.full((n,) + rest, _identity(kind, data.dtype), data.dtype)
    keep = flat_ids >= 0
    ufunc = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}[kind]
    ufunc.at(out, flat_ids[keep], flat[keep])
    return out


def np_counts(ids, n):
    ids = np.asarray(ids).reshape(-1)
    return np.bincount(ids[ids >= 0], minlength=n)[:n]


def np_sorted(data, ids, kind):
    """TF's sorted segment reduction: ids[-1] + 1 rows; a row whose id is
    missing is 0 (1 for prod); integer means truncate."""
    n = int(ids[-1]) + 1 if len(ids) else 0
    cnt = np_counts(ids, n).reshape((n,) + (1,) * (data.ndim - 1))
    if kind == "mean":
        s = np_unsorted(data, ids, n, "sum")
        if data.dtype.kind == "f":
            return (s / np.maximum(cnt, 1)).astype(data.dtype)
        return np.fix(s / np.maximum(cnt, 1)).astype(data.dtype)
    out = np_unsorted(data, ids, n, kind)
    if kind in ("max", "min"):
        out = np.where(cnt > 0, out, 0).astype(data.dtype)
    return out


def _data(shape, dtype):
    if np.dtype(dtype).kind == "f":
        return RNG.uniform(-2, 2, shape).astype(dtype)
    return RNG.integers(-5, 6, shape).astype(dtype)


def _close(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape,
                                                                  want.dtype, want.shape)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- unsorted

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("kind", KINDS)
def test_unsorted_over_dtypes_with_negative_ids_and_empty_segments(kind, dtype, path):
    data = _data((7, 3), dtype)
    ids = np.array([3, 0, -1, 3, 5, 0, -2], np.int32)
    x = tf.placeholder(tf.as_dtype(dtype), [None, 3])
    i = tf.placeholder(tf.int32, [None])
    out = UNSORTED[kind](x, i, 6)
    assert out.dtype == tf.as_dtype(dtype) and out.shape.as_list() == [6, 3]
    with tf.Session() as s:
        _close(s.run(out, {x: data, i: ids}), np_unsorted(data, ids, 6, kind))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape,id_rank", [((5,), 1), ((4, 3), 2), ((2, 3, 4), 2),
                                           ((2, 2, 2, 2), 1), ((3, 2, 2), 3)])
def test_unsorted_ids_of_any_rank(kind, shape, id_rank, path):
    data = _data(shape, np.float32)
    ids = RNG.integers(-1, 4, shape[:id_rank]).astype(np.int64)
    out = UNSORTED[kind](data, tf.constant(ids), tf.constant(4, tf.int64))
    assert out.shape.as_list() == [4] + list(shape[id_rank:])
    with tf.Session() as s:
        _close(s.run(out), np_unsorted(data, ids, 4, kind))


def test_unsorted_mean_and_sqrt_n():
    data = _data((6, 2), np.float64)
    ids = np.array([1, 1, 3, -1, 1, 3])
    n = np_counts(ids, 5)[:, None]
    total = np_unsorted(data, ids, 5, "sum")
    x = tf.placeholder(tf.float64, [6, 2])
    mean = tf.math.unsorted_segment_mean(x, ids, 5)
    sqrt_n = tf.math.unsorted_segment_sqrt_n(x, ids, 5)
    assert mean.name == "UnsortedSegmentMean/truediv:0" and mean.shape.as_list() == [5, 2]
    with tf.Session() as s:
        m, q = s.run([mean, sqrt_n], {x: data})
    np.testing.assert_allclose(m, total / np.maximum(n, 1))
    np.testing.assert_allclose(q, total / np.sqrt(np.maximum(n, 1)))
    # an integer mean divides as truediv does: float64
    im = tf.math.unsorted_segment_mean(np.array([1, 2, 4], np.int32), [0, 0, 1], 3)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(im), [1.5, 4.0, 0.0])
    with pytest.raises(TypeError):
        tf.math.unsorted_segment_sqrt_n(np.array([1, 2], np.int32), [0, 1], 2)


def test_unsorted_empty_inputs_and_zero_segments(path):
    x = tf.placeholder(tf.float32, [None, 2])
    i = tf.placeholder(tf.int32, [None])
    with tf.Session() as s:
        for kind in KINDS:
            got = s.run(UNSORTED[kind](x, i, 3), {x: np.zeros((0, 2)), i: np.zeros(0)})
            _close(got, np.full((3, 2), _identity(kind, np.float32), np.float32))
        got = s.run(tf.unsorted_segment_sum(x, i, 0), {x: np.ones((2, 2)), i: [-1, -1]})
        assert got.shape == (0, 2)
        z = tf.placeholder(tf.float32, [None, None])
        got = s.run(tf.unsorted_segment_max(z, i, 2), {z: np.ones((3, 0)), i: [0, 1, 0]})
        assert got.shape == (2, 0)


def test_unsorted_infinities_and_nan_stay_in_their_segment(path):
    data = np.array([1.0, np.inf, 2.0, np.nan, -np.inf, 5.0], np.float32)
    ids = [0, 0, 1, 2, 3, 4]
    with tf.Session() as s:
        got, mx, smx, smn = s.run([tf.unsorted_segment_sum(data, ids, 5),
                                   tf.unsorted_segment_max(data, ids, 5),
                                   tf.segment_max(data, ids), tf.segment_min(-data, ids)])
    np.testing.assert_array_equal(got, [np.inf, 2.0, np.nan, -np.inf, 5.0])
    np.testing.assert_array_equal(smx, [np.inf, 2.0, np.nan, -np.inf, 5.0])
    np.testing.assert_array_equal(smn, [-np.inf, -2.0, np.nan, np.inf, -5.0])
    # the unsorted max starts from the lowest finite value, as TF's kernel
    lowest = np.finfo(np.float32).min
    np.testing.assert_array_equal(mx, [np.inf, 2.0, np.nan, lowest, 5.0])


def test_num_segments_from_static_shapes_and_fed():
    data = _data((5, 2), np.float32)
    ids = np.array([0, 2, 2, 1, 0])
    x = tf.placeholder(tf.float32, [5, 2])
    k = tf.placeholder(tf.int32, [])
    by_shape = tf.unsorted_segment_sum(x, ids, tf.shape(x)[0])
    fed = tf.unsorted_segment_max(x, ids, k)
    assert by_shape.shape.as_list() == [5, 2] and fed.shape.as_list() == [None, 2]
    with tf.Session() as s:
        _close(s.run(by_shape, {x: data}), np_unsorted(data, ids, 5, "sum"))
        for n in (3, 4, 3):
            _close(s.run(fed, {x: data, k: n}), np_unsorted(data, ids, n, "max"))
        with pytest.raises(InvalidArgumentError, match="num_segments must be >= 0"):
            s.run(fed, {x: data, k: -2})


def test_unsorted_ids_past_num_segments_raise():
    x = tf.placeholder(tf.float32, [4])
    out = tf.unsorted_segment_sum(x, [0, 0, 5, -1], 4)
    with tf.Session() as s:
        with pytest.raises(InvalidArgumentError,
                           match=r"^segment_ids\[2\] = 5 is out of range \[0, 4\)\n") as e:
            s.run(out, {x: np.ones(4)})
        assert e.value.op is out.op
        i = tf.placeholder(tf.int64, [2, 2])
        with pytest.raises(InvalidArgumentError, match=r"segment_ids\[1,0\] = 7 is out of"):
            s.run(tf.unsorted_segment_max(tf.ones([2, 2, 3]), i, 4), {i: [[0, -3], [7, 9]]})


def test_unsorted_graph_build_errors():
    f = tf.placeholder(tf.float32, [4, 3, 2])
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 2"):
        tf.unsorted_segment_sum(f, tf.placeholder(tf.int32, [4, 2]), 5)
    with pytest.raises(ValueError, match="at least rank 2 but is rank 1"):
        tf.unsorted_segment_sum(tf.placeholder(tf.float32, [4]),
                                tf.placeholder(tf.int32, [4, 2]), 5)
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        tf.unsorted_segment_sum(f, tf.placeholder(tf.int32, [4]), [3])
    with pytest.raises(ValueError, match="must be non-negative but is -1"):
        tf.unsorted_segment_sum(f, tf.placeholder(tf.int32, [4]), -1)
    with pytest.raises(TypeError, match="'segment_ids' has DataType float32"):
        tf.unsorted_segment_sum(f, tf.placeholder(tf.float32, [4]), 3)
    with pytest.raises(TypeError, match="'data' has DataType bool"):
        tf.unsorted_segment_max(tf.placeholder(tf.bool, [4]), [0, 1, 0, 1], 3)
    # unknown ranks: nothing to check, nothing known
    u = tf.unsorted_segment_sum(tf.placeholder(tf.float32), tf.placeholder(tf.int32), 3)
    assert u.shape.ndims is None


# ---------------------------------------------------------------- sorted

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("kind", list(SORTED))
def test_sorted_with_fed_ids_and_gaps(kind, dtype, path):
    x = tf.placeholder(tf.as_dtype(dtype), [None, 2])
    i = tf.placeholder(tf.int64, [None])
    out = SORTED[kind](x, i)
    assert out.shape.as_list() == [None, 2] and out.dtype == tf.as_dtype(dtype)
    with tf.Session() as s:
        for ids in ([0, 0, 2, 2, 2, 5], [1, 1, 1], [0, 1, 2, 3, 4, 4, 4], []):
            ids = np.array(ids, np.int64)
            data = _data((len(ids), 2), dtype)
            _close(s.run(out, {x: data, i: ids}), np_sorted(data, ids, kind))


@pytest.mark.parametrize("kind", list(SORTED))
def test_sorted_with_constant_ids_and_rank_3_data(kind, path):
    data = _data((5, 2, 3), np.float64)
    ids = np.array([0, 0, 1, 3, 3], np.int32)
    with tf.Session() as s:
        _close(s.run(SORTED[kind](data, ids)), np_sorted(data, ids, kind))


def test_sorted_run_time_errors():
    x = tf.placeholder(tf.float32, [None])
    i = tf.placeholder(tf.int32, [None])
    out = tf.segment_sum(x, i)
    with tf.Session() as s:
        with pytest.raises(InvalidArgumentError, match="segment ids are not increasing"):
            s.run(out, {x: np.ones(4), i: [0, 2, 1, 2]})
        with pytest.raises(InvalidArgumentError, match=r"^Segment id -1 out of range \[0, 2\)"):
            s.run(out, {x: np.ones(3), i: [-1, 0, 1]})
        with pytest.raises(InvalidArgumentError, match="segment ids must be >= 0"):
            s.run(out, {x: np.ones(2), i: [-3, -1]})
        with pytest.raises(InvalidArgumentError, match="same size as dimension 0"):
            s.run(out, {x: np.ones(3), i: [0, 1]})


def test_sorted_graph_build_errors():
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.segment_sum(np.ones((2, 2), np.float32), [[0, 1]])
    with pytest.raises(ValueError, match="at least rank 1 but is rank 0"):
        tf.segment_sum(1.0, [0])
    with pytest.raises(TypeError, match="'segment_ids' has DataType float32"):
        tf.segment_max([1.0, 2.0], [0.0, 1.0])


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min", "mean", "sqrt_n"])
def test_unsorted_gradients_against_central_differences(kind, path):
    fn = {"mean": tf.math.unsorted_segment_mean,
          "sqrt_n": tf.math.unsorted_segment_sqrt_n}.get(kind) or UNSORTED[kind]
    data = RNG.uniform(0.5, 2.0, (3, 2, 2))
    ids = np.array([[1, -1], [2, 1], [0, 1]])   # no empty segment: its value is constant
    if kind == "prod":
        data[0, 0, 1] = 0.0           # one zero in a segment ...
        data[1, 1, 0] = data[2, 1, 0] = 0.0   # ... and two in another
    if kind in ("max", "min"):
        data[2, 1] = data[0, 0]       # a two-way tie: central differences give 1/2 each
    check_gradients(lambda x: [fn(x, ids, 3)], [data])


def test_max_gradient_splits_among_ties_as_tf(path):
    data = np.array([3.0, 1.0, 3.0, 3.0, 2.0, 2.0])
    ids = np.array([0, 0, 0, 0, 1, 1])
    x = tf.placeholder(tf.float64, [6])
    g = tf.gradients(tf.unsorted_segment_max(x, ids, 2), x, grad_ys=tf.constant([6.0, 4.0]))
    gs = tf.gradients(tf.segment_min(x, ids), x, grad_ys=tf.constant([6.0, 4.0]))
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g[0], {x: data}), [2, 0, 2, 2, 2, 2])
        np.testing.assert_allclose(s.run(gs[0], {x: data}), [0, 6, 0, 0, 2, 2])


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


@pytest.mark.parametrize("kind", list(SORTED))
def test_sorted_gradients_with_fed_ids(kind, path):
    data = RNG.uniform(0.5, 2.0, (6, 2))
    ids = np.array([0, 0, 0, 2, 3, 3])
    if kind == "prod":
        data[4, 1] = 0.0
    x = tf.placeholder(tf.float64, [None, 2])
    i = tf.placeholder(tf.int32, [None])
    w = tf.placeholder(tf.float64, [None, 2])
    loss = tf.reduce_sum(SORTED[kind](x, i) * w)
    (g,) = tf.gradients(loss, x)
    feeds = {i: ids, w: RNG.standard_normal((4, 2))}
    with tf.Session() as s:
        got = s.run(g, {**feeds, x: data})
        np.testing.assert_allclose(got, _numeric_grad(s, loss, x, data, feeds),
                                   rtol=1e-6, atol=1e-6)


def test_many_segments_take_the_scan_path_by_themselves():
    n, segs, width = 2000, 2000, 4
    assert segment_ops._use_scan(n, segs, width, True)
    assert not segment_ops._use_scan(50, 10, 4, False)
    ids = np.sort(RNG.integers(0, segs, n))
    data = _data((n, width), np.float32)
    x = tf.placeholder(tf.float32, [None, width])
    i = tf.placeholder(tf.int64, [None])
    with tf.Session() as s:
        for kind in ("sum", "max", "mean"):
            _close(s.run(SORTED[kind](x, i), {x: data, i: ids}), np_sorted(data, ids, kind))
        _close(s.run(tf.unsorted_segment_min(x, i[::-1], segs), {x: data, i: ids}),
               np_unsorted(data, ids[::-1], segs, "min"))
