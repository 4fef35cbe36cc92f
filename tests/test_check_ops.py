"""Run-time checks: tf.Assert and the assert_* family, check_numerics,
verify_tensor_all_finite, the is_* predicates and tf.print. Oracles: numpy
comparisons of the data, TF's message formats (Tensor::SummarizeValue written
out by hand), and TensorFlow's own messages where it is installed."""
import sys

import numpy as np
import pytest

import tfcompile as tf
from tfcompile.ops.check_ops import summarize_value

RNG = np.random.default_rng(11)
IAE = tf.errors.InvalidArgumentError


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


# ---------------------------------------------------------------- message layout

@pytest.mark.parametrize("value, limit, want", [
    (np.float32(2.0), 3, "2"),
    (np.arange(5), 3, "0 1 2..."),
    (np.arange(3), 3, "0 1 2"),
    (np.arange(12.).reshape(3, 4), 3, "[0 1 2...]..."),
    (np.arange(12).reshape(3, 4), 6, "[0 1 2 3][4 5...]..."),
    (np.arange(12).reshape(3, 4), -1, "[0 1 2 3][4 5 6 7][8 9 10 11]"),
    (np.arange(24.).reshape(2, 3, 4), 3, "[[0 1 2...]]..."),
    (np.arange(8).reshape(2, 2, 2), 8, "[[0 1][2 3]][[4 5][6 7]]"),
    (np.zeros((2, 0)), 3, ""),
    (np.array([True, False]), 3, "1 0"),
    (np.array([1.5, 1e-7, 1234567.0, np.nan, -np.inf], np.float32), 5,
     "1.5 1e-07 1234567 nan -inf"),
    (np.array([1 / 3]), 3, "0.33333333333333331"),
    (np.array([0.1], np.float32), 3, "0.1"),
    (np.array([-(2 ** 62)], np.int64), 3, str(-(2 ** 62))),
])
def test_summaries_as_tensorflow_prints_them(value, limit, want):
    assert summarize_value(value, limit) == want


def test_run_time_message_against_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    data = ["msg", np.arange(12, dtype=np.int32).reshape(3, 4),
            np.array([1.5, 1e-7, 1234567.0, np.nan], np.float32), np.array(1 / 3),
            np.array([True, False, True])]

    def message(m, session, err, summarize):
        with m.Graph().as_default():
            p = m.placeholder(m.bool, [])
            a = m.Assert(p, [d if isinstance(d, str) else m.constant(d) for d in data],
                         summarize=summarize)
            with session() as s:
                with pytest.raises(err) as e:
                    s.run(a, {p: False})
        return e.value.message

    for summarize in (None, 2, 20):
        ours = message(tf, tf.Session, IAE, summarize)
        theirs = message(tf1, tf1.Session, tf1.errors.InvalidArgumentError, summarize)
        assert ours.startswith("assertion failed: [msg] [")
        assert ours in theirs


# ---------------------------------------------------------------- tf.Assert

def test_assert_in_control_dependencies():
    x = tf.placeholder(tf.float32, [None])
    a = tf.Assert(tf.reduce_all(x > 0), ["x must be positive:", x, "and known:",
                                         tf.constant([1, 2, 3, 4])], summarize=2)
    assert a.type == "Assert" and a.name == "Assert/Assert" and not a.outputs
    with tf.control_dependencies([a]):
        y = x * 2
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y, {x: [1, 2]}), [2, 4])
        assert s.run(a, {x: [3]}) is None
        with pytest.raises(IAE) as e:
            s.run(y, {x: [1, -2]})
        assert e.value.message == ("assertion failed: [x must be positive:] "
                                   "[<Placeholder:0: computed at run time, not shown>] "
                                   "[and known:] [1 2...]")
        assert e.value.op is a
        np.testing.assert_array_equal(s.run(y, {x: [5]}), [10])


def test_assert_condition_checks():
    with pytest.raises(TypeError, match="bool"):
        tf.Assert(tf.constant(1), ["x"])
    with pytest.raises(ValueError, match="rank 0 but is rank 1"):
        tf.Assert(tf.constant([True, False]), ["x"])
    p = tf.placeholder(tf.bool)
    a = tf.Assert(p, ["unknown rank"])
    ok = tf.Assert(tf.constant(True), [tf.constant(1.0)])
    no = tf.Assert(tf.constant(False), ["always", tf.constant([1.0, 2.0])])
    with tf.Session() as s:
        with pytest.raises(IAE, match=r"In\[0\] should be a scalar: \[5\]"):
            s.run(a, {p: np.ones(5, bool)})
        s.run(ok)
        with pytest.raises(IAE) as e:
            s.run(no)
        assert e.value.message == "assertion failed: [always] [1 2]"


# ---------------------------------------------------------------- comparisons

BINARY = [("assert_equal", "==", np.equal), ("assert_none_equal", "!=", np.not_equal),
          ("assert_less", "<", np.less), ("assert_less_equal", "<=", np.less_equal),
          ("assert_greater", ">", np.greater), ("assert_greater_equal", ">=", np.greater_equal)]


@pytest.mark.parametrize("fname, sym, np_fn", BINARY)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_binary_asserts_at_run_time(fname, sym, np_fn, dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [None], name="x")
    y = tf.placeholder(tf.as_dtype(dtype), [], name="y")
    a = getattr(tf, fname)(x, y, message="custom")
    assert a.name == fname + "/Assert/Assert"
    with tf.Session() as s:
        for _ in range(4):
            X = RNG.integers(-2, 3, (3,)).astype(dtype)
            Y = dtype(RNG.integers(-2, 3))
            if np.all(np_fn(X, Y)):
                assert s.run(a, {x: X, y: Y}) is None
            else:
                with pytest.raises(IAE) as e:
                    s.run(a, {x: X, y: Y})
                text = ("Condition x != y did not hold for every single element:"
                        if sym == "!=" else f"Condition x {sym} y did not hold element-wise:")
                assert e.value.message.startswith(f"assertion failed: [custom] [{text}] "
                                                  "[x (x:0) = ] [<x:0")
        # empty x: holds vacuously
        assert s.run(a, {x: np.zeros(0, dtype), y: dtype(0)}) is None


@pytest.mark.parametrize("fname, sym, np_fn", BINARY)
def test_binary_asserts_known_at_graph_build(fname, sym, np_fn):
    fn = getattr(tf, fname)
    X, Y = np.array([1, 2, 3]), np.array([1, 5, 0])
    for x, y in ((X, Y), (X, X), (X, X + 1), (X + 1, X)):
        if np.all(np_fn(x, y)):
            a = fn(tf.constant(x), tf.constant(y))
            with tf.Session() as s:
                s.run(a)
        else:
            with pytest.raises(IAE) as e:
                fn(tf.constant(x), tf.constant(y), message="mm")
            lines = e.value.message.split("\n")
            assert lines[0] == "mm" and lines[3] == str(x) and lines[5] == str(y)
            assert lines[2].startswith("x (Const") and lines[2].endswith(":0) = ")


@pytest.mark.parametrize("fname, np_fn", [
    ("assert_positive", lambda v: v > 0), ("assert_negative", lambda v: v < 0),
    ("assert_non_negative", lambda v: v >= 0), ("assert_non_positive", lambda v: v <= 0)])
def test_sign_asserts(fname, np_fn):
    x = tf.placeholder(tf.float64, [None, 2], name="x")
    a = getattr(tf, fname)(x)
    sym = {"assert_positive": ">", "assert_negative": "<", "assert_non_negative": ">=",
           "assert_non_positive": "<="}[fname]
    with tf.Session() as s:
        for _ in range(4):
            X = RNG.integers(-1, 2, (2, 2)).astype(np.float64)
            if np.all(np_fn(X)):
                s.run(a, {x: X})
            else:
                with pytest.raises(IAE, match=f"Condition x {sym} 0 did not hold"):
                    s.run(a, {x: X})
    with pytest.raises(IAE, match=f"Condition x {sym} 0"):
        getattr(tf, fname)(tf.constant([0.0, 1.0, -1.0]))


def test_assert_near():
    x = tf.placeholder(tf.float32, [3], name="x")
    a = tf.assert_near(x, [1.0, 2.0, 3.0], rtol=1e-3, atol=1e-4)
    d = tf.assert_near(x, tf.constant([1.0, 2.0, 3.0]))
    with tf.Session() as s:
        s.run(a, {x: [1.0005, 2.001, 3.0]})
        with pytest.raises(IAE, match="x and y not equal to tolerance"):
            s.run(a, {x: [1.0, 2.01, 3.0]})
        s.run(d, {x: [1.0, 2.0, 3.0000002]})
        with pytest.raises(IAE):
            s.run(d, {x: [1.0, 2.0, 3.001]})
    with pytest.raises(TypeError):
        tf.assert_near(tf.constant([1]), tf.constant([1]))


# ---------------------------------------------------------------- ranks and types

def test_rank_asserts():
    x = tf.zeros([5, 2], name="x")
    ok = tf.assert_rank(x, 2)
    assert ok.type == "NoOp" and ok.name == "assert_rank/static_checks_determined_all_ok"
    with pytest.raises(ValueError, match=r"^msg\.  Tensor x:0 must have rank 3\.  Received "
                                         r"rank 2, shape \(5, 2\)$"):
        tf.assert_rank(x, 3, message="msg")
    with pytest.raises(ValueError, match="rank at least 3"):
        tf.assert_rank_at_least(x, 3)
    tf.assert_rank_at_least(x, 1)
    with pytest.raises(ValueError, match=r"rank in \(0, 3\)"):
        tf.assert_rank_in(x, [0, 3])
    tf.assert_rank_in(x, [1, 2])
    with pytest.raises(ValueError, match="Rank must be a scalar"):
        tf.assert_rank(x, [2])
    with pytest.raises(TypeError, match="int32"):
        tf.assert_rank(x, tf.constant(2, tf.int64))
    # unknown rank: checked when the graph runs
    p = tf.placeholder(tf.float32, None, name="p")
    r = tf.assert_rank(p, 2, message="msg")
    ral = tf.assert_rank_at_least(p, 2)
    rin = tf.assert_rank_in(p, [0, 2])
    with tf.Session() as s:
        s.run([r, ral, rin], {p: np.zeros((2, 2))})
        with pytest.raises(IAE) as e:
            s.run(r, {p: np.zeros(3)})
        assert e.value.message == ("assertion failed: [msg] [Tensor p:0 must have rank] [2] "
                                   "[Received shape: ] [3]")
        with pytest.raises(IAE, match="rank at least"):
            s.run(ral, {p: np.zeros(3)})
        with pytest.raises(IAE, match="rank in"):
            s.run(rin, {p: np.zeros(3)})
        s.run(rin, {p: np.float32(1)})


def test_type_asserts():
    x = tf.placeholder(tf.float32, [2], name="x")
    i = tf.constant([1, 2])
    assert tf.assert_integer(i).name == "assert_integer/statically_determined_was_integer"
    assert tf.assert_type(x, tf.float32).name == "assert_type/statically_determined_correct_type"
    with pytest.raises(TypeError, match='msg  Expected "x" to be integer type.  Found: x:0'):
        tf.assert_integer(x, message="msg")
    with pytest.raises(TypeError, match="x:0 must be of type tf.int32"):
        tf.assert_type(x, tf.int32)
    assert tf.assert_scalar(tf.constant(1.0)).shape.ndims == 0
    with pytest.raises(ValueError, match=r"Expected scalar shape for x:0, saw shape: \(2,\)"):
        tf.assert_scalar(x)
    assert tf.assert_same_float_dtype([x, tf.zeros([1])]) == tf.float32
    assert tf.assert_same_float_dtype() == tf.float32
    with pytest.raises(ValueError, match="must match"):
        tf.assert_same_float_dtype([x, tf.zeros([1], tf.float64)])
    with pytest.raises(ValueError, match="floating point"):
        tf.assert_same_float_dtype([i])
    tf.assert_proper_iterable([1, 2])
    for bad in (x, np.zeros(2), "abc", 3):
        with pytest.raises(TypeError):
            tf.assert_proper_iterable(bad)
    assert tf.is_numeric_tensor(x) and not tf.is_numeric_tensor(x > 0)
    assert not tf.is_numeric_tensor(np.zeros(2))


def test_monotonic_predicates():
    x = tf.placeholder(tf.int32, None)
    nd, si = tf.is_non_decreasing(x), tf.is_strictly_increasing(x)
    assert nd.name == "is_non_decreasing/All:0" and nd.dtype == tf.bool
    with tf.Session() as s:
        for v in ([], [4], [1, 2, 2], [1, 2, 3], [3, 1], [[1, 2], [2, 5]], [[1, 2], [0, 5]]):
            a = np.asarray(v, np.int32)
            f = a.reshape(-1)
            got = s.run([nd, si], {x: a})
            assert got == [bool(np.all(f[:-1] <= f[1:])), bool(np.all(f[:-1] < f[1:]))], v
    with pytest.raises(TypeError, match="numeric"):
        tf.is_non_decreasing(tf.constant([True]))


# ---------------------------------------------------------------- numerics

def test_check_numerics():
    x = tf.placeholder(tf.float32, [None], name="x")
    c = tf.check_numerics(x, "bad x")
    assert c.name == "CheckNumerics:0" and c.dtype == tf.float32
    v = tf.verify_tensor_all_finite(x, "not finite")
    assert v.name == "VerifyFinite/control_dependency:0"
    d = tf.debugging.assert_all_finite(tf.cast(x, tf.float64), "f64")
    with tf.Session() as s:
        X = RNG.standard_normal(4).astype(np.float32)
        np.testing.assert_array_equal(s.run(c, {x: X}), X)
        np.testing.assert_array_equal(s.run(v, {x: X}), X)
        np.testing.assert_array_equal(s.run(c, {x: np.zeros(0, np.float32)}), [])
        for val, what in (([1, np.nan], "NaN"), ([np.inf, 1], "Inf"),
                          ([-np.inf, np.nan], "Inf and NaN")):
            with pytest.raises(IAE) as e:
                s.run(c, {x: val})
            assert e.value.message == f"bad x : Tensor had {what} values"
            with pytest.raises(IAE) as e:
                s.run(v, {x: val})
            assert e.value.message == f"not finite : Tensor had {what} values"
            with pytest.raises(IAE) as e:
                s.run(d, {x: val})
            assert e.value.message == f"f64 : Tensor had {what} values"
    with pytest.raises(TypeError, match="int32"):
        tf.check_numerics(tf.constant([1]), "ints")


def test_check_numerics_gradient():
    x = tf.placeholder(tf.float64, [3])
    y = tf.sqrt(tf.check_numerics(x, "sqrt"))     # its gradient checks d/dx of sqrt
    g, = tf.gradients(tf.reduce_sum(y), [x])
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g, {x: [1.0, 4.0, 9.0]}), [0.5, 0.25, 1 / 6])
        with pytest.raises(IAE, match="detected in gradient. sqrt : Tensor had Inf"):
            s.run(g, {x: [0.0, 4.0, 9.0]})


# ---------------------------------------------------------------- printing

def test_print_ops():
    x = tf.placeholder(tf.float32, [2])
    p = tf.print("x is", x, [x, 2], output_stream=sys.stdout, summarize=-1, sep=",")
    assert p.type == "PrintV2" and p.name == "PrintV2" and not p.outputs
    with tf.control_dependencies([p]):
        y = x + 1
    old = tf.Print(x, [x], message="x: ")
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y, {x: [1, 2]}), [2, 3])
        np.testing.assert_array_equal(s.run(old, {x: [1, 2]}), [1, 2])
        s.run(p, {x: [1, 2]})
    with pytest.raises(ValueError, match="Unsupported output stream"):
        tf.print(x, output_stream="stdout")
    with pytest.raises(ValueError, match="Unrecognized keyword"):
        tf.print(x, bad=1)
    tf.print(x, output_stream="file:///dev/null")


def test_namespaces():
    for k in ("Assert", "assert_equal", "assert_none_equal", "assert_less", "assert_near",
              "assert_rank", "assert_rank_at_least", "assert_rank_in", "assert_type",
              "assert_integer", "assert_scalar", "assert_all_finite", "check_numerics",
              "is_finite", "is_nan", "is_inf", "is_non_decreasing", "is_strictly_increasing",
              "is_numeric_tensor", "assert_same_float_dtype", "assert_proper_iterable"):
        assert callable(getattr(tf.debugging, k)), k
    assert tf.debugging.assert_equal is tf.assert_equal
    assert tf.math.is_non_decreasing is tf.is_non_decreasing
