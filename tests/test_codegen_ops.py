"""Every IR op compiled to native code and compared with the reference
interpreter: all dtypes, scalars, size-0 dims, broadcasting, rank-4
transposes, odd sizes, and the documented special cases (integer division by
zero and MIN / -1, NaN through max/min/convert, empty reductions).

Each test builds one function holding many ops (one LLVM compile each) and
returns every op's value as a result; unfused (one kernel per op), so each op
is also the root of its own kernel."""
import math

import numpy as np
import pytest

from tfcompile.ir import core
from tfcompile.ir.compiler import compile_function
from tfcompile.ir.core import Builder, Function, TensorType
from tfcompile.ir.interpreter import run_function

FLOATS = ("f32", "f64")
INTS = ("i32", "i64")
NUMERIC = FLOATS + INTS
RNG = np.random.default_rng(1234)

FSPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, -0.5, 3.75, 1e-3, -7.25,
            100.0, 1e30, math.inf, -math.inf, math.nan]


def npd(dt):
    return core.DTYPES[dt]


def imin(dt):
    return int(np.iinfo(npd(dt)).min)


def imax(dt):
    return int(np.iinfo(npd(dt)).max)


def compare_all(fn, args, kernels=None, rtol=None, **kw):
    """Compile, run, and compare every result with the interpreter."""
    cf = compile_function(fn, kernels, **kw)
    got = cf.run([np.array(a, copy=True) for a in args])
    want = run_function(fn, [np.array(a, copy=True) for a in args])
    assert len(got) == len(want)
    for j, (g, w) in enumerate(zip(got, want)):
        what = f"result {j} ({fn.result_names[j]})"
        assert g.dtype == w.dtype and g.shape == w.shape, what
        if g.dtype.kind == "f":
            tol = rtol if rtol is not None else (4e-6 if g.dtype == np.float32 else 1e-13)
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)
    return cf


def values(dt, shape, low=-5, high=5):
    if dt == "bool":
        return RNG.random(shape) < 0.5
    if dt in FLOATS:
        return RNG.uniform(low, high, shape).astype(npd(dt))
    return RNG.integers(low, high + 1, shape).astype(npd(dt))


def special(dt, n=None):
    """Special values of dt, tiled to n."""
    if dt in FLOATS:
        v = np.array(FSPECIAL, npd(dt))
    elif dt in INTS:
        v = np.array([0, 1, -1, 2, -2, 7, -7, 13, imin(dt), imax(dt), imin(dt) + 1, 100, -100],
                     npd(dt))
    else:
        v = np.array([False, True, True, False])
    return v if n is None else np.resize(v, n)


# ---------------------------------------------------------------------------
# Elementwise

@pytest.mark.parametrize("dt", FLOATS)
def test_float_unary(dt):
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((len(FSPECIAL),), dt), "x")
    odd = b.param(TensorType((5, 61), dt), "odd")   # large enough to be vectorized
    for op in core.UNARY_OPS:
        if op == "not":
            continue
        b.result(b.emit(op, [x]), op)
        b.result(b.emit(op, [odd]), op + "_odd")
    # sin/cos are accurate for |x| up to 1e4 and more, not for 1e30
    xs = np.where(np.abs(special(dt)) == 1e30, np.array(1e4, npd(dt)), special(dt))
    compare_all(fn, [xs, values(dt, (5, 61), 0.01, 3)])


@pytest.mark.parametrize("dt", INTS)
def test_int_and_bool_unary(dt):
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((13,), dt), "x")
    p = b.param(TensorType((2, 3), "bool"), "p")
    for op in ("neg", "abs", "sign"):
        b.result(b.emit(op, [x]), op)
    b.result(b.emit("not", [p]), "not")
    compare_all(fn, [special(dt), values("bool", (2, 3))])


@pytest.mark.parametrize("dt", NUMERIC)
def test_binary(dt):
    fn = Function()
    b = Builder(fn)
    sp = special(dt)
    if dt in FLOATS:   # pow(x, 1e30) is outside vmath's documented range
        sp = np.where(sp == 1e30, np.array(1e10, npd(dt)), sp)
    n = len(sp)
    # every pair of special values
    xa = b.param(TensorType((n, n), dt), "a")
    xb = b.param(TensorType((n, n), dt), "b")
    r1 = b.param(TensorType((4, 1, 67), dt), "r1")   # large enough to be vectorized
    r2 = b.param(TensorType((4, 1, 67), dt), "r2")
    for op in ("add", "sub", "mul", "div", "rem", "pow", "max", "min"):
        b.result(b.emit(op, [xa, xb]), op)
        b.result(b.emit(op, [r1, r2]), op + "_rand")
    a = np.repeat(sp[:, None], n, 1)
    bb = np.repeat(sp[None, :], n, 0)
    if dt in INTS:
        small = values(dt, (4, 1, 67), -3, 3)
    else:
        small = values(dt, (4, 1, 67), 0.1, 3)
    compare_all(fn, [a, bb, values(dt, (4, 1, 67)), small])


def test_int_division_special_cases():
    """x / 0 -> 0, x % 0 -> 0, MIN / -1 -> MIN, MIN % -1 -> 0 (no trap)."""
    for dt in INTS:
        fn = Function()
        b = Builder(fn)
        x = b.param(TensorType((4,), dt), "x")
        y = b.param(TensorType((4,), dt), "y")
        b.result(b.emit("div", [x, y]))
        b.result(b.emit("rem", [x, y]))
        cf = compile_function(fn)
        xs = np.array([imin(dt), 5, -7, imin(dt)], npd(dt))
        ys = np.array([-1, 0, 2, 0], npd(dt))
        q, r = cf.run([xs, ys])
        np.testing.assert_array_equal(q, np.array([imin(dt), 0, -3, 0], npd(dt)))
        np.testing.assert_array_equal(r, np.array([0, 0, -1, 0], npd(dt)))


def test_float_max_min_propagate_nan():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((3,), "f32"), "x")
    y = b.param(TensorType((3,), "f32"), "y")
    b.result(b.emit("max", [x, y]))
    b.result(b.emit("min", [x, y]))
    mx, mn = compile_function(fn).run([np.array([np.nan, 1, 2], np.float32),
                                      np.array([0, np.nan, 1], np.float32)])
    assert np.isnan(mx[:2]).all() and np.isnan(mn[:2]).all()
    assert mx[2] == 2 and mn[2] == 1


@pytest.mark.parametrize("dt", NUMERIC + ("bool",))
def test_compare_and_select(dt):
    fn = Function()
    b = Builder(fn)
    sp = special(dt)
    n = len(sp)
    xa = b.param(TensorType((n, n), dt), "a")
    xb = b.param(TensorType((n, n), dt), "b")
    for op in core.COMPARE_OPS:
        b.result(b.emit(op, [xa, xb]), op)
    lt = b.emit("lt", [xa, xb])
    b.result(b.emit("select", [lt, xa, xb]), "select")
    if dt == "bool":
        b.result(b.emit("and", [xa, xb]), "and")
        b.result(b.emit("or", [xa, xb]), "or")
    compare_all(fn, [np.repeat(sp[:, None], n, 1), np.repeat(sp[None, :], n, 0)])


def test_convert_all_pairs():
    dts = NUMERIC + ("bool",)
    fn = Function()
    b = Builder(fn)
    args = []
    for src in dts:
        if src in FLOATS:
            v = np.array(FSPECIAL + [3e9, -3e9, 2.1e9, -2.2e9, 9.3e18, -9.3e18, 2.0 ** 31,
                                     -2.0 ** 31, 2.0 ** 63, 0.99, -0.99], npd(src))
        else:
            v = special(src)
        v = np.resize(v, 301)   # large enough to be vectorized
        x = b.param(TensorType(v.shape, src), src)
        args.append(v)
        for dst in dts:
            b.result(b.emit("convert", [x], dtype=dst), f"{src}->{dst}")
    compare_all(fn, args)


# ---------------------------------------------------------------------------
# Producers

def test_constant_iota():
    fn = Function()
    b = Builder(fn)
    b.result(b.constant(np.arange(12, dtype=np.float32).reshape(3, 4)), "c_f32")
    b.result(b.constant(np.array([True, False, True])), "c_bool")
    b.result(b.constant(np.full((2, 3), -7, np.int64)), "splat_i64")
    b.result(b.constant(np.array([np.nan, 1.0])), "nan_f64")
    b.result(b.constant(np.array(5, np.int32)), "scalar")
    b.result(b.constant(np.zeros((0, 3), np.float32)), "empty")
    for dt in NUMERIC:
        b.result(b.emit("iota", shape=(3, 5), dtype=dt, dim=1), f"iota1_{dt}")
        b.result(b.emit("iota", shape=(4, 1, 2), dtype=dt, dim=0), f"iota0_{dt}")
    # a constant used by a computation
    c = b.constant(np.array([1.5, -2.0, 3.0], np.float32))
    x = b.param(TensorType((3,), "f32"), "x")
    b.result(b.emit("mul", [x, c]), "mul_const")
    compare_all(fn, [values("f32", (3,))])


def test_rng_bits_and_values():
    fn = Function()
    b = Builder(fn)
    ctr = b.param(TensorType((), "i64"), "counter")
    for dt in FLOATS:
        for dist in core.RNG_DISTS:
            b.result(b.emit("rng", [ctr], dist=dist, shape=(7, 33), dtype=dt, seed=42,
                            seed2=7), f"{dist}_{dt}")
    b.result(b.emit("rng", [ctr], dist="uniform", shape=(0, 4), dtype="f32", seed=1, seed2=2))
    cf = compile_function(fn)
    for counter in (0, 5, -1):
        c = np.array(counter, np.int64)
        got = cf.run([c])
        want = run_function(fn, [c])
        for j, (g, w) in enumerate(zip(got, want)):
            name = fn.result_names[j]
            if name.startswith("uniform"):
                np.testing.assert_array_equal(g, w, err_msg=name)   # bit exact
            else:
                tol = 1e-6 if g.dtype == np.float32 else 1e-13
                np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=name)
    # fresh values for a new counter
    assert not np.array_equal(cf.run([np.array(0, np.int64)])[0],
                              cf.run([np.array(1, np.int64)])[0])


# ---------------------------------------------------------------------------
# Index maps

@pytest.mark.parametrize("dt", ["f32", "i64", "bool"])
def test_movement_ops(dt):
    fn = Function()
    b = Builder(fn)
    x4 = b.param(TensorType((2, 3, 4, 5), dt), "x4")
    s = b.param(TensorType((), dt), "s")
    v = b.param(TensorType((3,), dt), "v")
    e = b.param(TensorType((2, 0, 3), dt), "e")
    r = b.result
    for perm in [(3, 2, 1, 0), (0, 2, 1, 3), (1, 3, 0, 2), (0, 1, 2, 3)]:
        r(b.emit("transpose", [x4], perm=perm), f"transpose{perm}")
    r(b.emit("broadcast", [s], shape=(2, 3), dims=()), "bcast_scalar")
    r(b.emit("broadcast", [v], shape=(3, 4), dims=(0,)), "bcast_col")
    r(b.emit("broadcast", [v], shape=(2, 3, 5), dims=(1,)), "bcast_mid")
    one = b.emit("reshape", [v], shape=(1, 3))
    r(b.emit("broadcast", [one], shape=(4, 3), dims=(0, 1)), "bcast_size1")
    r(b.emit("broadcast", [one], shape=(1, 3), dims=(0, 1)), "bcast_same")
    r(b.emit("broadcast", [e], shape=(2, 0, 3), dims=(0, 1, 2)), "bcast_empty")
    for shape in [(6, 20), (120,), (2, 12, 5), (4, 30), (1, 2, 1, 60, 1), (5, 24)]:
        r(b.emit("reshape", [x4], shape=shape), f"reshape{shape}")
    t = b.emit("transpose", [x4], perm=(3, 1, 0, 2))
    r(b.emit("reshape", [t], shape=(15, 8)), "reshape_of_transpose")
    r(b.emit("reshape", [s], shape=(1, 1)), "reshape_scalar")
    r(b.emit("reshape", [e], shape=(0, 5)), "reshape_empty")
    r(b.emit("slice", [x4], start=(0, 1, 0, 1), limit=(2, 3, 4, 5), stride=(1, 1, 2, 3)), "slice")
    r(b.emit("slice", [x4], start=(1, 0, 3, 2), limit=(1, 3, 4, 2), stride=(1, 1, 1, 1)),
      "slice_empty")
    r(b.emit("reverse", [x4], axes=(1, 3)), "reverse")
    r(b.emit("reverse", [v], axes=(0,)), "reverse1")
    r(b.emit("pad", [x4], low=(0, 1, 2, 0), high=(1, 0, 1, 3), value=1), "pad")
    r(b.emit("pad", [e], low=(1, 1, 0), high=(0, 2, 1), value=0), "pad_empty_operand")
    r(b.emit("pad", [s], low=(), high=(), value=0), "pad_scalar")
    r(b.emit("concatenate", [x4, x4], axis=2), "concat2")
    x4s = b.emit("slice", [x4], start=(0, 0, 0, 0), limit=(2, 3, 4, 2), stride=(1, 1, 1, 1))
    x4z = b.emit("slice", [x4], start=(0, 0, 0, 0), limit=(2, 3, 4, 0), stride=(1, 1, 1, 1))
    r(b.emit("concatenate", [x4, x4z, x4s, x4], axis=3), "concat_with_empty")
    r(b.emit("concatenate", [v], axis=0), "concat1")
    compare_all(fn, [values(dt, (2, 3, 4, 5)), values(dt, ()), values(dt, (3,)),
                     values(dt, (2, 0, 3))])


def test_gather():
    fn = Function()
    b = Builder(fn)
    p = b.param(TensorType((5, 3), "f32"), "params")
    i32 = b.param(TensorType((2, 4), "i32"), "idx32")
    i64 = b.param(TensorType((3,), "i64"), "idx64")
    s = b.param(TensorType((), "i32"), "sidx")
    e = b.param(TensorType((0, 3), "f32"), "empty")
    b.result(b.emit("gather", [p, i32], axis=0), "axis0")
    b.result(b.emit("gather", [p, i64], axis=1), "axis1")
    b.result(b.emit("gather", [p, s], axis=0), "scalar_index")
    b.result(b.emit("gather", [e, i64], axis=0), "empty_params")
    b.result(b.emit("gather", [p, b.emit("slice", [i64], start=(0,), limit=(0,), stride=(1,))],
                    axis=0), "empty_indices")
    compare_all(fn, [values("f32", (5, 3)),
                     np.array([[0, 4, -1, 5], [2, 2, 100, -100]], np.int32),
                     np.array([2, 3, -4], np.int64), np.array(1, np.int32),
                     np.zeros((0, 3), np.float32)])


# ---------------------------------------------------------------------------
# Reductions and dot

@pytest.mark.parametrize("dt", NUMERIC)
def test_reduce(dt):
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((3, 4, 5), dt), "x")
    e = b.param(TensorType((2, 0, 3), dt), "e")
    every = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2), ()]
    for kind in ("sum", "prod", "max", "min"):
        # all axis sets for two dtypes, the three loop shapes for the others
        for axes in every if dt in ("f32", "i32") else [(0,), (2,), (0, 2)]:
            b.result(b.emit("reduce", [x], kind=kind, axes=axes), f"{kind}{axes}")
        for axes in [(1,), (0, 2), (0, 1, 2)]:
            b.result(b.emit("reduce", [e], kind=kind, axes=axes), f"{kind}_empty{axes}")
    lo, hi = (0.5, 1.5) if dt in FLOATS else (-2, 2)
    compare_all(fn, [values(dt, (3, 4, 5), lo, hi), values(dt, (2, 0, 3))],
                rtol=2e-5 if dt == "f32" else None)


def test_reduce_bool_and_nan():
    fn = Function()
    b = Builder(fn)
    p = b.param(TensorType((4, 6), "bool"), "p")
    x = b.param(TensorType((3, 4), "f32"), "x")
    e = b.param(TensorType((0, 2), "bool"), "e")
    for kind in ("and", "or"):
        for axes in [(0,), (1,), (0, 1)]:
            b.result(b.emit("reduce", [p], kind=kind, axes=axes), f"{kind}{axes}")
        b.result(b.emit("reduce", [e], kind=kind, axes=(0,)), f"{kind}_empty")
    for kind in ("max", "min", "sum"):
        for axes in [(0,), (1,)]:
            b.result(b.emit("reduce", [x], kind=kind, axes=axes), f"{kind}{axes}")
    xv = values("f32", (3, 4))
    xv[1, 2] = np.nan
    pv = values("bool", (4, 6))
    pv[0] = True
    pv[1] = False
    compare_all(fn, [pv, xv, np.zeros((0, 2), bool)])


def test_argmax_argmin():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((4, 5), "f32"), "x")
    xi = b.param(TensorType((3, 4, 2), "i64"), "xi")
    e = b.param(TensorType((3, 0), "f32"), "e")
    for op in ("argmax", "argmin"):
        for ax in (0, 1):
            b.result(b.emit(op, [x], axis=ax, dtype="i32"), f"{op}{ax}")
        for ax in (0, 1, 2):
            b.result(b.emit(op, [xi], axis=ax, dtype="i64"), f"{op}_int{ax}")
        b.result(b.emit(op, [e], axis=1, dtype="i64"), f"{op}_empty_axis")
        b.result(b.emit(op, [e], axis=0, dtype="i32"), f"{op}_empty_out")
    xv = np.array([[1, 3, 3, 0, 2],        # tie: first index
                   [np.nan, 5, 1, 7, 0],   # NaN at 0 wins
                   [2, np.nan, 9, -1, 9],  # NaN elsewhere never picked
                   [-1, -1, -1, -1, -1]], np.float32)
    compare_all(fn, [xv, values("i64", (3, 4, 2), -2, 2), np.zeros((3, 0), np.float32)])


@pytest.mark.parametrize("dt", NUMERIC)
def test_dot(dt):
    fn = Function()
    b = Builder(fn)
    a = b.param(TensorType((5, 7), dt), "a")
    w = b.param(TensorType((7, 3), dt), "w")
    at = b.param(TensorType((7, 5), dt), "at")
    wt = b.param(TensorType((3, 7), dt), "wt")
    ba = b.param(TensorType((2, 3, 4, 6), dt), "ba")
    bb = b.param(TensorType((2, 3, 6, 5), dt), "bb")
    k0a = b.param(TensorType((4, 0), dt), "k0a")
    k0b = b.param(TensorType((0, 3), dt), "k0b")
    b.result(b.emit("dot", [a, w]), "nn")
    b.result(b.emit("dot", [at, w], transpose_a=True), "tn")
    b.result(b.emit("dot", [a, wt], transpose_b=True), "nt")
    b.result(b.emit("dot", [at, wt], transpose_a=True, transpose_b=True), "tt")
    b.result(b.emit("dot", [ba, bb]), "batched")
    b.result(b.emit("dot", [k0a, k0b]), "k0")
    b.result(b.emit("dot", [k0b, k0a], transpose_a=True, transpose_b=True), "m0")
    compare_all(fn, [values(dt, (5, 7)), values(dt, (7, 3)), values(dt, (7, 5)),
                     values(dt, (3, 7)), values(dt, (2, 3, 4, 6)), values(dt, (2, 3, 6, 5)),
                     values(dt, (4, 0)), values(dt, (0, 3))], rtol=1e-5)


def test_large_dot_matches_numpy():
    fn = Function()
    b = Builder(fn)
    a = b.param(TensorType((67, 129), "f32"), "a")
    w = b.param(TensorType((129, 45), "f32"), "w")
    b.result(b.emit("dot", [a, w]))
    av, wv = values("f32", (67, 129)), values("f32", (129, 45))
    (got,) = compile_function(fn).run([av, wv])
    np.testing.assert_allclose(got, av.astype(np.float64) @ wv, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------------------
# Scalars and size-0 tensors end to end

def test_scalars_and_empty_chain():
    fn = Function()
    b = Builder(fn)
    s = b.param(TensorType((), "f64"), "s")
    e = b.param(TensorType((0, 4), "f32"), "e")
    t = b.emit("tanh", [b.emit("mul", [s, s])])
    b.result(t, "scalar")
    ee = b.emit("exp", [e])
    b.result(b.emit("transpose", [ee], perm=(1, 0)), "empty_t")
    b.result(b.emit("reduce", [ee], kind="sum", axes=(0,)), "sum_over_empty")
    b.result(b.emit("reduce", [ee], kind="max", axes=(1,)), "max_empty_out")
    compare_all(fn, [np.array(0.7), np.zeros((0, 4), np.float32)])


def test_bad_arguments_name_the_param():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((2, 3), "f32"), "images")
    b.result(b.emit("neg", [x]))
    cf = compile_function(fn)
    with pytest.raises(ValueError, match="images.*f32\\[2,3\\].*f64\\[2,3\\]"):
        cf.run([np.zeros((2, 3))])
    with pytest.raises(ValueError, match="images.*f32\\[2,3\\].*f32\\[3,2\\]"):
        cf.run([np.zeros((3, 2), np.float32)])
    with pytest.raises(ValueError, match="expected 1 argument"):
        cf.run([])
    # non-contiguous input is fine
    x = values("f32", (3, 2))
    np.testing.assert_array_equal(cf.run([x.T])[0], -x.T)
