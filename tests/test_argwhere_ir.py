"""The IR's argwhere op: type rules, the interpreter against numpy's argwhere,
the compiled scan against the interpreter (a fused condition, ranks 0-4,
no true element, all true), the text form, and what a wrong `count` gives
(-1 rows, never a write past the output)."""
import numpy as np
import pytest

from tfcompile.ir.compiler import compile_function
from tfcompile.ir.core import Builder, Function, IRError, TensorType
from tfcompile.ir.interpreter import run_function
from tfcompile.ir.passes.pipeline import optimize
from tfcompile.ir.text import parse_function, print_function


def _where_fn(shape, count, dtype="f32"):
    """argwhere(x > 0.25), the compare fused into the scan."""
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType(shape, dtype), "x")
    quarter = b.emit("broadcast", [b.constant(np.array(0.25, TensorType((), dtype).np_dtype))],
                     shape=shape, dims=[])
    b.result(b.emit("argwhere", [b.emit("gt", [x, quarter])], count=count), "out")
    return fn


def _run_both(fn, x):
    want = run_function(fn, [x.copy()])[0]
    opt, kernels, _ = optimize(fn)
    got = compile_function(opt, kernels=kernels).run([x.copy()])[0]
    return want, got, opt


@pytest.mark.parametrize("shape", [(7,), (5, 9), (3, 4, 17), (2, 3, 1, 5), (1, 1), (0, 3)])
def test_argwhere_compiled_equals_numpy(shape):
    x = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    count = int(np.count_nonzero(x > 0.25))
    want, got, opt = _run_both(_where_fn(shape, count), x)
    np.testing.assert_array_equal(want, np.argwhere(x > 0.25))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int64 and got.shape == (count, len(shape))


def test_argwhere_condition_fused_into_the_scan():
    x = np.random.default_rng(1).uniform(-1, 1, (5, 9)).astype(np.float32)
    opt, kernels, _ = optimize(_where_fn(x.shape, int(np.count_nonzero(x > 0.25))))
    (group,) = [g for g in kernels if any(i.op == "argwhere" for i in g)]
    assert "gt" in [i.op for i in group]     # no bool tensor stored between them


def test_argwhere_none_and_all_true():
    for x in (np.full((4, 6), -1, np.float32), np.ones((4, 6), np.float32)):
        count = int(np.count_nonzero(x > 0.25))
        want, got, _ = _run_both(_where_fn(x.shape, count), x)
        np.testing.assert_array_equal(got, np.argwhere(x > 0.25))
        np.testing.assert_array_equal(want, got)


def test_argwhere_scalar_operand():
    """A rank-0 condition: [1, 0] when true, [0, 0] when false (as numpy and TF)."""
    for v, count in ((True, 1), (False, 0)):
        fn = Function()
        b = Builder(fn)
        x = b.param(TensorType((), "bool"), "x")
        b.result(b.emit("argwhere", [x], count=count), "out")
        want = run_function(fn, [np.array(v)])[0]
        opt, kernels, _ = optimize(fn)
        got = compile_function(opt, kernels=kernels).run([np.array(v)])[0]
        assert got.shape == want.shape == np.argwhere(np.array(v)).shape == (count, 0)


def test_argwhere_f64_and_large():
    x = np.random.default_rng(2).uniform(-1, 1, (300, 257)).astype(np.float64)
    count = int(np.count_nonzero(x > 0.25))
    want, got, _ = _run_both(_where_fn(x.shape, count, "f64"), x)
    np.testing.assert_array_equal(got, np.argwhere(x > 0.25))


@pytest.mark.parametrize("delta", [-3, 2])
def test_argwhere_wrong_count_is_bounded(delta):
    """count is the number of true elements; a wrong one must not write out of
    bounds: fewer rows keep the first trues, extra rows are -1."""
    x = np.random.default_rng(3).uniform(-1, 1, (6, 8)).astype(np.float32)
    true = np.argwhere(x > 0.25)
    count = len(true) + delta
    want, got, _ = _run_both(_where_fn(x.shape, count), x)
    np.testing.assert_array_equal(got, want)
    n = min(count, len(true))
    np.testing.assert_array_equal(got[:n], true[:n])
    assert (got[n:] == -1).all()


def test_argwhere_type_rules():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((3, 4), "f32"), "x")
    m = b.param(TensorType((3, 4), "bool"), "m")
    with pytest.raises(IRError, match="bool"):
        b.emit("argwhere", [x], count=2)
    with pytest.raises(IRError, match="count 13 out of range"):
        b.emit("argwhere", [m], count=13)
    v = b.emit("argwhere", [m], count=5)
    assert v.type == TensorType((5, 2), "i64")


def test_argwhere_text_round_trip():
    fn = _where_fn((5, 9), 4)
    text = print_function(fn)
    assert "argwhere" in text and "count=4" in text
    assert print_function(parse_function(text)) == text
