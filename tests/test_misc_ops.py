"""tf.roll, tf.searchsorted, tf.unravel_index, the fixed-width histograms,
tf.random.categorical / tf.multinomial (statistically), and tf.math's
reduce_euclidean_norm, polyval and Bessel functions, against numpy
transcriptions of TF 1.15's definitions; gradients by central differences;
errors at graph build and at run time; a TensorFlow cross-check where it is
installed."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.errors import InvalidArgumentError

from gradcheck import check_gradients

RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def _graph():
    tf.reset_default_graph()     # (check_gradients resets it too: no nested graph here)
    yield


def _run(fetches, feeds=None):
    with tf.Session() as s:
        return s.run(fetches, feeds or {})


# ---------------------------------------------------------------- roll

@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.float64, np.bool_])
def test_roll_against_numpy(dtype):
    a = RNG.standard_normal((3, 4, 5)) * 10
    a = (a > 0) if dtype == np.bool_ else a.astype(dtype)
    x = tf.placeholder(tf.as_dtype(dtype), [None, 4, 5])
    cases = [(1, 0), (-2, 1), (7, -1), ([1, 2], [0, 2]), ([2, 3, -1], [1, 1, -3]),
             (0, 2), (np.int64(13), np.int64(-2))]
    outs = [tf.roll(x, s, ax) for s, ax in cases]
    assert all(o.shape.as_list() == [None, 4, 5] and o.dtype == tf.as_dtype(dtype)
               for o in outs)
    got = _run(outs, {x: a})
    for (s, ax), g in zip(cases, got):
        np.testing.assert_array_equal(g, np.roll(a, s, ax))


def test_roll_with_a_shift_known_only_at_run_time_and_empty_tensors():
    a = RNG.standard_normal((4, 6)).astype(np.float32)
    x = tf.placeholder(tf.float32, [4, 6])
    s = tf.placeholder(tf.int32, [2])
    y = tf.roll(x, s, [1, 0])
    e = tf.placeholder(tf.float32, [None, 3])
    with tf.Session() as sess:
        for sv in ([1, 2], [-7, 5], [0, 0], [13, -9]):
            np.testing.assert_array_equal(sess.run(y, {x: a, s: sv}), np.roll(a, sv, [1, 0]))
        assert sess.run(tf.roll(e, 2, 1), {e: np.zeros((0, 3), np.float32)}).shape == (0, 3)
        assert sess.run(tf.roll(e, 2, 0), {e: np.zeros((0, 3), np.float32)}).shape == (0, 3)


def test_roll_gradient_and_errors():
    check_gradients(lambda v: [tf.roll(v, [2, -1], [0, 1]) * v], [RNG.standard_normal((3, 4))])
    check_gradients(lambda v: [tf.roll(v, 4, -1)], [RNG.standard_normal((2, 3))])
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.roll(3.0, 1, 0)
    with pytest.raises(ValueError, match="must be equal"):
        tf.roll([1, 2, 3], [1, 2], [0])
    with pytest.raises(ValueError, match="at most rank 1"):
        tf.roll([1, 2, 3], [[1]], [[0]])
    with pytest.raises(TypeError, match="int32, int64"):
        tf.roll([1, 2, 3], 1.5, 0)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        _run(tf.roll([[1, 2, 3]], 1, 2))


# ---------------------------------------------------------------- searchsorted

def np_searchsorted(seq, vals, side):
    s2 = seq.reshape(-1, seq.shape[-1])
    v2 = vals.reshape(-1, vals.shape[-1])
    return np.stack([np.searchsorted(a, b, side=side) for a, b in zip(s2, v2)]).reshape(
        vals.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float64, np.int64])
def test_searchsorted_against_numpy(dtype):
    seq = np.sort(RNG.integers(-5, 6, (2, 3, 8)), -1).astype(dtype)
    vals = RNG.integers(-7, 8, (2, 3, 6)).astype(dtype)
    s = tf.placeholder(tf.as_dtype(dtype), [None, 3, 8])
    v = tf.placeholder(tf.as_dtype(dtype), [None, 3, 6])
    left = tf.searchsorted(s, v)
    right = tf.searchsorted(s, v, side="right", out_type=tf.int64)
    flat = tf.searchsorted(seq[0, 0], vals[0, 0], side="right")
    assert left.dtype == tf.int32 and right.dtype == tf.int64
    assert left.shape.as_list() == [None, 3, 6]
    rl, rr, rf = _run([left, right, flat], {s: seq, v: vals})
    np.testing.assert_array_equal(rl, np_searchsorted(seq, vals, "left"))
    np.testing.assert_array_equal(rr, np_searchsorted(seq, vals, "right"))
    np.testing.assert_array_equal(rf, np.searchsorted(seq[0, 0], vals[0, 0], side="right"))
    assert rr.dtype == np.int64


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1000])
def test_searchsorted_long_rows_with_duplicates(n):
    seq = np.sort(RNG.integers(0, max(2, n // 3), (3, n)), -1).astype(np.float64)
    vals = RNG.integers(-1, max(2, n // 3) + 2, (3, 50)).astype(np.float64)
    left, right = _run([tf.searchsorted(seq, vals), tf.searchsorted(seq, vals, "right")])
    np.testing.assert_array_equal(left, np_searchsorted(seq, vals, "left"))
    np.testing.assert_array_equal(right, np_searchsorted(seq, vals, "right"))


def test_searchsorted_edge_cases():
    s = tf.placeholder(tf.float32, [None, None])
    v = tf.placeholder(tf.float32, [None, None])
    y = tf.searchsorted(s, v)
    with tf.Session() as sess:
        with pytest.raises(InvalidArgumentError):   # as TF: reshape(seq, [-1, 0]) fails
            sess.run(y, {s: np.zeros((2, 0), np.float32), v: np.ones((2, 3), np.float32)})
        assert sess.run(y, {s: np.ones((0, 4), np.float32),
                            v: np.ones((0, 3), np.float32)}).shape == (0, 3)
        with pytest.raises(InvalidArgumentError, match="Leading dim_size"):
            sess.run(y, {s: np.ones((2, 4), np.float32), v: np.ones((3, 1), np.float32)})
    with pytest.raises(ValueError, match="side must be either"):
        tf.searchsorted([1., 2.], [1.], side="middle")
    with pytest.raises(TypeError):
        tf.searchsorted([1., 2.], [1, 2])


# ---------------------------------------------------------------- unravel_index

def test_unravel_index_against_numpy():
    flat = RNG.integers(0, 7 * 6 * 5, 10)
    outs = {"vec": tf.unravel_index(flat.astype(np.int32), [7, 6, 5]),
            "scalar": tf.unravel_index(41, [7, 6]),
            "i64": tf.unravel_index(flat, np.array([7, 6, 5], np.int64)),
            "one": tf.unravel_index([0, 3], [4])}
    assert outs["vec"].shape.as_list() == [3, 10] and outs["scalar"].shape.as_list() == [2]
    assert outs["i64"].dtype == tf.int64
    d = tf.placeholder(tf.int32, [3])
    i = tf.placeholder(tf.int32, [None])
    dyn = tf.unravel_index(i, d)
    assert dyn.shape.as_list() == [3, None]
    r = _run(outs)
    np.testing.assert_array_equal(r["vec"], np.unravel_index(flat, (7, 6, 5)))
    np.testing.assert_array_equal(r["scalar"], np.unravel_index(41, (7, 6)))
    np.testing.assert_array_equal(r["i64"], np.unravel_index(flat, (7, 6, 5)))
    np.testing.assert_array_equal(r["one"], [[0, 3]])
    with tf.Session() as s:
        for dims in ([2, 3, 4], [5, 1, 7], [1, 1, 30]):
            idx = RNG.integers(0, np.prod(dims), 6)
            np.testing.assert_array_equal(s.run(dyn, {d: dims, i: idx}),
                                          np.unravel_index(idx, dims))
        with pytest.raises(InvalidArgumentError, match="out of bound"):
            s.run(dyn, {d: [2, 3, 4], i: [3, 24]})
        with pytest.raises(InvalidArgumentError, match="out of bound"):
            s.run(dyn, {d: [2, 3, 4], i: [-1]})
    with pytest.raises(InvalidArgumentError, match="out of bound"):
        _run(tf.unravel_index(12, [3, 4]))
    with pytest.raises(InvalidArgumentError, match="scalar or vector"):
        _run(tf.unravel_index([[1]], [3, 4]))
    with pytest.raises(ValueError, match="rank 1"):
        tf.unravel_index(1, [[3, 4]])


# ---------------------------------------------------------------- histograms

def np_histogram_fixed_width(v, lo, hi, nbins):
    """TF's kernel: bin = min((max(v, lo) - lo) / ((hi - lo) / nbins), nbins - 1)."""
    step = float(hi - lo) / nbins
    pos = (np.maximum(v, lo) - lo).astype(np.float64) / step
    idx = np.minimum(pos, nbins - 1).astype(np.int64).ravel()
    return np.bincount(idx, minlength=nbins)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_histogram_fixed_width_against_numpy(dtype):
    v = (RNG.standard_normal((40, 7)) * 8).astype(dtype)
    x = tf.placeholder(tf.as_dtype(dtype), [None, 7])
    outs = {}
    for lo, hi, nbins in [(-5, 5, 10), (0, 3, 1), (-20, 7, 13), (-1, 1, 100)]:
        outs[lo, hi, nbins] = tf.histogram_fixed_width(x, [lo, hi], nbins=nbins)
    h64 = tf.histogram_fixed_width(x, tf.constant([-3, 3], tf.as_dtype(dtype)), 4,
                                   dtype=tf.int64)
    assert outs[-5, 5, 10].shape.as_list() == [10] and h64.dtype == tf.int64
    r, r64 = _run([outs, h64], {x: v})
    for (lo, hi, nbins), got in r.items():
        np.testing.assert_array_equal(got, np_histogram_fixed_width(v, lo, hi, nbins))
        assert got.sum() == v.size
    np.testing.assert_array_equal(r64, np_histogram_fixed_width(v, -3, 3, 4))


def test_histogram_fixed_width_bins_and_errors():
    v = np.array([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0, 20.0], np.float32)
    got = _run(tf.histogram_fixed_width_bins(v, [0.0, 15.0], nbins=5))
    scaled = (v - 0.0) / 15.0
    np.testing.assert_array_equal(got, np.clip(np.floor(5 * scaled), 0, 4).astype(np.int32))
    x = tf.placeholder(tf.float32, [None])
    r = tf.placeholder(tf.float32, [2])
    with tf.Session() as s:
        np.testing.assert_array_equal(
            s.run(tf.histogram_fixed_width(x, r, 3), {x: v, r: [0, 6]}),
            np_histogram_fixed_width(v, 0.0, 6.0, 3))
        assert s.run(tf.histogram_fixed_width(x, r, 3), {x: v[:0], r: [0, 6]}).tolist() == \
            [0, 0, 0]
        with pytest.raises(InvalidArgumentError, match="value_range"):
            s.run(tf.histogram_fixed_width(x, r, 3), {x: v, r: [2, 2]})
    with pytest.raises(ValueError, match="nbins should be a positive"):
        tf.histogram_fixed_width(v, [0.0, 1.0], nbins=0)
    with pytest.raises(TypeError):
        tf.histogram_fixed_width(v, [0.0, 1.0], dtype=tf.float32)


# ---------------------------------------------------------------- categorical

def _softmax(z):
    e = np.exp(z - np.max(z[np.isfinite(z)]))
    e[~np.isfinite(z)] = 0
    return e / e.sum()


def test_categorical_frequencies_match_the_softmax():
    logits = np.array([[np.log(0.1), np.log(0.2), np.log(0.7), -np.inf],
                       [0.0, 0.0, 0.0, 0.0],
                       [1.0, -2.0, 3.0, 0.5],
                       [50.0, 49.0, -np.inf, 48.0]], np.float32)
    n = 20000
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.random.categorical(x, n, seed=4)
    y32 = tf.multinomial(x, 10, output_dtype=tf.int32)
    assert y.dtype == tf.int64 and y.shape.as_list() == [None, n]
    assert y32.dtype == tf.int32 and y32.shape.as_list() == [None, 10]
    with tf.Session() as s:
        got, g32 = s.run([y, y32], {x: logits})
    assert got.min() >= 0 and got.max() <= 3 and g32.dtype == np.int32
    for row, draws in zip(logits, got):
        p = _softmax(row.astype(np.float64))
        freq = np.bincount(draws, minlength=4) / n
        sigma = np.sqrt(p * (1 - p) / n)
        assert np.all(np.abs(freq - p) <= 5 * sigma + 1e-12), (freq, p)
    assert not np.any(got[0] == 3) and not np.any(got[3] == 2)   # -inf: never drawn


def test_categorical_seeds_runs_and_shapes():
    logits = np.zeros((3, 5), np.float64)
    tf.set_random_seed(3)
    y = tf.random.categorical(tf.constant(logits), 50, seed=1, dtype=tf.int32)
    empty = tf.random.categorical(tf.constant(logits), 0)
    with tf.Session() as s:
        first, second, e = s.run(y), s.run(y), s.run(empty)
    with tf.Session() as s:
        again = s.run(y)
    np.testing.assert_array_equal(first, again)     # seeded: the same sequence
    assert not np.array_equal(first, second)        # and fresh draws on each run
    assert e.shape == (3, 0) and first.shape == (3, 50)
    ib = tf.placeholder(tf.int32, [None, 3])
    assert _run(tf.multinomial(ib, 4), {ib: np.zeros((0, 3), np.int32)}).shape == (0, 4)
    with pytest.raises(ValueError, match="rank 2"):
        tf.random.categorical([0.0, 1.0], 3)
    with pytest.raises(InvalidArgumentError, match="num_classes should be positive"):
        _run(tf.multinomial(tf.zeros([2, 0]), 3))
    assert tf.gradients(tf.reduce_sum(tf.cast(y, tf.float32)), tf.get_default_graph()
                        .get_tensor_by_name("Const:0")) == [None]


# ---------------------------------------------------------------- tf.math extras

def test_reduce_euclidean_norm():
    a = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    ai = RNG.integers(-9, 10, (4, 5)).astype(np.int32)
    norm = tf.math.reduce_euclidean_norm
    outs = {"all": norm(a), "1": norm(a, 1), "keep": norm(a, [0, -1], keepdims=True),
            "int": norm(ai, 1), "empty": norm(np.zeros((0, 3), np.float32), 0)}
    assert outs["all"].shape.as_list() == [] and outs["keep"].shape.as_list() == [1, 4, 1]
    r = _run(outs)
    np.testing.assert_allclose(r["all"], np.sqrt((a * a).sum()), rtol=1e-5)
    np.testing.assert_allclose(r["1"], np.sqrt((a * a).sum(1)), rtol=1e-5)
    np.testing.assert_allclose(r["keep"], np.sqrt((a * a).sum((0, 2), keepdims=True)),
                               rtol=1e-5)
    np.testing.assert_array_equal(r["int"], np.sqrt((ai * ai).sum(1)).astype(np.int32))
    np.testing.assert_array_equal(r["empty"], [0, 0, 0])
    check_gradients(lambda v: [norm(v, 1), norm(v, [0, 1], keepdims=True)],
                    [RNG.standard_normal((3, 4))])


def test_polyval():
    x = RNG.standard_normal((3, 4))
    coeffs = list(np.array([2.0, -1.0, 0.5, 3.0]))    # float64, as x (TF converts each)
    outs = [tf.math.polyval(coeffs, x), tf.math.polyval([], x),
            tf.math.polyval([np.float64(4.0)], x)]
    r = _run(outs)
    np.testing.assert_allclose(r[0], np.polyval(coeffs, x), rtol=1e-12)
    np.testing.assert_array_equal(r[1], np.zeros_like(x))
    np.testing.assert_array_equal(r[2], np.full_like(x, 4.0))
    with pytest.raises(ValueError, match="list"):
        tf.math.polyval((1.0, 2.0), x)
    with pytest.raises(TypeError):      # a float32 coefficient times a float64 x, as TF
        tf.math.polyval([1.0, 2.0], x)
    check_gradients(lambda v: [tf.math.polyval(coeffs, v)], [x])


def np_bessel_ie(x, order):
    """e^-|x| I_order(x) = (1/pi) int_0^pi exp(x cos t - |x|) cos(order t) dt, by the
    trapezoid rule (spectrally accurate for this periodic integrand)."""
    t = np.linspace(0, np.pi, 4001)
    f = np.exp(np.multiply.outer(x, np.cos(t)) - np.abs(x)[..., None]) * np.cos(order * t)
    return (f[..., 1:-1].sum(-1) + 0.5 * (f[..., 0] + f[..., -1])) * (t[1] - t[0]) / np.pi


def test_bessel_functions_against_their_integrals():
    x = np.concatenate([np.linspace(-60, 60, 241), [0.0, 1e-9, -1e-9, 19.999, 20.0, 20.001,
                                                    150.0, -400.0]])
    outs = [tf.math.bessel_i0e(x), tf.math.bessel_i1e(x), tf.math.bessel_i0e(
        x.astype(np.float32)), tf.math.bessel_i1(x[:100] / 4), tf.math.bessel_i0(x[:100] / 4)]
    r0, r1, r0f, i1, i0 = _run(outs)
    np.testing.assert_allclose(r0, np_bessel_ie(x, 0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r1, np_bessel_ie(x, 1), rtol=1e-12, atol=1e-15)
    assert r0f.dtype == np.float32
    np.testing.assert_allclose(r0f, np_bessel_ie(x, 0), rtol=1e-6)
    xs = x[:100] / 4
    np.testing.assert_allclose(i1, np_bessel_ie(xs, 1) * np.exp(np.abs(xs)), rtol=1e-12)
    np.testing.assert_allclose(i0, np_bessel_ie(xs, 0) * np.exp(np.abs(xs)), rtol=1e-12)
    assert np.isnan(_run(tf.math.bessel_i1e([np.nan]))[0])
    with pytest.raises(TypeError):
        tf.math.bessel_i0e([1, 2])


def test_bessel_gradients():
    x = np.array([-25.0, -3.0, -0.4, 0.3, 2.0, 7.5, 22.0])
    check_gradients(lambda v: [tf.math.bessel_i0e(v), tf.math.bessel_i1e(v)], [x])
    z = tf.constant([0.0], tf.float64)
    np.testing.assert_allclose(_run(tf.gradients(tf.math.bessel_i1e(z), z)[0]), [0.5])


# ---------------------------------------------------------------- TensorFlow cross-check

def _tf_programs():
    return {
        "roll": lambda m, x: m.roll(x, [1, -2], [0, 1]),
        "roll_grad": lambda m, x: m.gradients(m.reduce_sum(m.roll(x, 3, 1) * x), x)[0],
        "searchsorted": lambda m, x: m.searchsorted(m.sort(x), x[:, :3] + 0.1),
        "searchsorted_r": lambda m, x: m.searchsorted(m.sort(x), x[:, 1:], side="right",
                                                      out_type=m.int64),
        "unravel": lambda m, x: m.unravel_index([22, 41, 37], [7, 6]),
        "histogram": lambda m, x: m.histogram_fixed_width(x, [-1., 1.], nbins=7),
        "histogram_bins": lambda m, x: m.histogram_fixed_width_bins(x, [-1., 1.], nbins=7),
        "norm": lambda m, x: m.math.reduce_euclidean_norm(x, 1, keepdims=True),
        "norm_grad": lambda m, x: m.gradients(m.math.reduce_euclidean_norm(x), x)[0],
        "polyval": lambda m, x: m.math.polyval([1., 2., 3.], x),
        "i0e": lambda m, x: m.math.bessel_i0e(x * 10),
        "i1e_grad": lambda m, x: m.gradients(m.math.bessel_i1e(x), x)[0],
    }


def test_same_as_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    a = RNG.standard_normal((4, 5)).astype(np.float32)
    bad = []
    for key, prog in _tf_programs().items():
        got = []
        for m in (tf, v1):
            with m.Graph().as_default():
                x = m.placeholder(m.float32, [4, 5], name="x")
                y = prog(m, x)
                with m.Session() as s:
                    got.append((s.run(y, {x: a}), y.name, y.shape.as_list(), y.dtype.name))
        (ours, *meta_ours), (theirs, *meta_tf) = got
        if meta_ours != meta_tf:
            bad.append(f"{key}: {meta_ours} vs TF {meta_tf}")
        elif not np.allclose(ours, theirs, rtol=1e-5, atol=1e-6):
            bad.append(f"{key}: max diff {np.max(np.abs(ours - theirs))}")
    assert not bad, bad
    # the samplers are checked statistically above; here only what TF states
    with v1.Graph().as_default():
        t = v1.random.categorical(v1.zeros([2, 3]), 4)
        ours = tf.random.categorical(tf.zeros([2, 3]), 4)
        assert (t.name, t.shape.as_list(), t.dtype.name) == \
            (ours.name, ours.shape.as_list(), ours.dtype.name)
