"""The reference interpreter against independent oracles: Python scalar
arithmetic (exact integers, IEEE doubles), explicit index loops, and the
documented op semantics in `ir.core`."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from tfcompile.ir import core, random as irrandom
from tfcompile.ir.core import Builder, Function, IRError, Module, TensorType
from tfcompile.ir.interpreter import evaluate, run_function, run_module

# Any numpy warning escaping the interpreter is a failure.
pytestmark = pytest.mark.filterwarnings("error")

NUMERIC = ("f32", "f64", "i32", "i64")
ALL = NUMERIC + ("bool",)
SHAPES = [(), (0,), (7,), (2, 0, 3), (3, 4), (2, 3, 1, 2)]
FSPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.75, 1e-30, -1e30, 100.0,
            math.inf, -math.inf, math.nan]


def npd(dt):
    return core.DTYPES[dt]


def imin(dt):
    return int(np.iinfo(npd(dt)).min)


def imax(dt):
    return int(np.iinfo(npd(dt)).max)


def wrap(v, dt):
    bits = npd(dt).itemsize * 8
    v = int(v) % (1 << bits)
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def values(shape, dt, seed=0, small=False):
    """Random values of an IR type, seeded with the dtype's special values."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape, dtype=np.int64))
    if dt == "bool":
        return (rng.random(n) < 0.5).reshape(shape)
    if dt in core.FLOATS:
        if small:
            flat = rng.normal(0.0, 2.0, n)
        else:
            flat = np.where(rng.random(n) < 0.4, rng.choice(FSPECIAL, n),
                            rng.normal(0.0, 5.0, n))
        return flat.astype(npd(dt)).reshape(shape)
    lo, hi = imin(dt), imax(dt)
    pool = [0, 1, -1, 2, -2, 3, -7, lo, hi, lo + 1]
    if small:
        flat = rng.integers(-9, 10, n)
    else:
        flat = np.where(rng.random(n) < 0.3, rng.choice(pool, n),
                        np.where(rng.random(n) < 0.5, rng.integers(-20, 21, n),
                                 rng.integers(lo, hi, n, endpoint=True, dtype=np.int64)))
    return flat.astype(npd(dt)).reshape(shape)


def elementwise(fn, arrays, shape, dt):
    """fn applied to Python scalars (float or int) element by element."""
    flat = [a.ravel().tolist() for a in arrays]
    out = [fn(*vals) for vals in zip(*flat)]
    with np.errstate(all="ignore"):
        if dt in core.INTS:
            arr = np.array([wrap(v, dt) for v in out], dtype=np.int64)
        else:
            arr = np.array(out, dtype=np.float64 if dt in core.FLOATS else None)
        return arr.astype(npd(dt)).reshape(shape)


def same(out, expected, dt=None):
    dt = dt or core.NP_TO_IR[expected.dtype]
    assert out.dtype == npd(dt), (out.dtype, dt)
    assert out.shape == expected.shape, (out.shape, expected.shape)
    np.testing.assert_array_equal(out, expected)


def close(out, expected, dt):
    """Within a few ulps of a double-precision oracle rounded to dt."""
    with np.errstate(all="ignore"):
        expected = np.asarray(expected).astype(npd(dt))
    assert out.dtype == npd(dt) and out.shape == expected.shape
    rtol = 2e-6 if dt == "f32" else 1e-13
    np.testing.assert_allclose(out.astype(np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=1e-37 if dt == "f32" else 1e-300)


# ----------------------------------------------------------------------------
# Elementwise unary

FLOAT_UNARY_REF = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p,
    "tanh": np.tanh, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "floor": np.floor, "ceil": np.ceil, "round": np.rint,
    "rsqrt": lambda x: 1.0 / np.sqrt(x),
    "logistic": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


@pytest.mark.parametrize("op", sorted(FLOAT_UNARY_REF))
@pytest.mark.parametrize("dt", core.FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_float_unary(op, dt, shape):
    x = values(shape, dt, seed=1)
    if op in ("sin", "cos"):
        # Huge arguments: f32 range reduction differs from f64's.
        x = np.where(np.abs(x) > 1e6, np.asarray(2.0, x.dtype), x)
    with np.errstate(all="ignore"):
        ref = FLOAT_UNARY_REF[op](x.astype(np.float64))  # double-precision oracle
    close(evaluate(op, [x]), ref, dt)


def test_round_half_to_even():
    for dt in core.FLOATS:
        x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 3.5, np.nan, np.inf], npd(dt))
        same(evaluate("round", [x]),
             np.array([0, 2, 2, -0.0, -2, -2, 2, 4, np.nan, np.inf], npd(dt)))


def test_logistic_is_stable():
    for dt in core.FLOATS:
        x = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4, np.nan], npd(dt))
        out = evaluate("logistic", [x])
        assert out.dtype == npd(dt)
        assert np.all((out[:-1] >= 0) & (out[:-1] <= 1)) and np.isnan(out[-1])
        assert out[-2] == 1.0 and out[0] == 0.0 and out[3] == 0.5
        assert out[2] > 0  # exp(-100) is representable in f64, 3.7e-44 in f32 subnormals


@pytest.mark.parametrize("dt", NUMERIC)
@pytest.mark.parametrize("shape", SHAPES)
def test_neg_abs_sign(dt, shape):
    x = values(shape, dt, seed=2)

    def sign(v):
        return v if v != v else (v > 0) - (v < 0)

    for op, f in (("neg", lambda v: -v), ("abs", abs), ("sign", sign)):
        same(evaluate(op, [x]), elementwise(f, [x], shape, dt), dt)


def test_not():
    x = values((3, 5), "bool")
    same(evaluate("not", [x]), np.array([[not v for v in r] for r in x.tolist()]))


# ----------------------------------------------------------------------------
# Elementwise binary


def c_div(a, b):
    """C's truncating division on Python ints."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def int_ref(op, a, b):
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "max":
        return max(a, b)
    if op == "min":
        return min(a, b)
    if op == "div":
        return 0 if b == 0 else c_div(a, b)  # wrap() turns -MIN into MIN
    if op == "rem":
        return 0 if b == 0 else a - b * c_div(a, b)
    if op == "pow":
        if b < 0:
            return 1 if a == 1 else (-1) ** (-b) if a == -1 else 0
        return a ** b
    raise AssertionError(op)


def float_ref(op, a, b):
    nan = math.nan
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op in ("max", "min"):
        if a != a or b != b:
            return nan
        return max(a, b) if op == "max" else min(a, b)
    if op == "div":
        if b == 0:
            return nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    if op == "rem":
        if a != a or b != b or math.isinf(a) or b == 0:
            return nan
        return a if math.isinf(b) else math.fmod(a, b)
    raise AssertionError(op)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "rem", "max", "min", "pow"])
@pytest.mark.parametrize("dt", NUMERIC)
@pytest.mark.parametrize("shape", [(), (0,), (40,), (2, 0, 3), (4, 3, 5)])
def test_binary(op, dt, shape):
    a = values(shape, dt, seed=3)
    b = values(shape, dt, seed=4)
    if op == "pow" and dt in core.INTS:
        # Bases over the full range, exponents -3..70: covers wrap-around.
        b = (np.abs(values(shape, dt, seed=4, small=True)) * 8 - 3).astype(npd(dt))
    out = evaluate(op, [a, b])
    if dt in core.INTS:
        same(out, elementwise(lambda x, y: int_ref(op, x, y), [a, b], shape, dt), dt)
    elif op == "pow":
        with np.errstate(all="ignore"):
            ref = np.power(a.astype(np.float64), b.astype(np.float64))
        close(out, ref, dt)
    else:
        # One IEEE double operation rounded once to f32 is the correctly
        # rounded f32 result (53 >= 2 * 24 + 2), so this is exact.
        same(out, elementwise(lambda x, y: float_ref(op, x, y), [a, b], shape, dt), dt)


@pytest.mark.parametrize("dt", core.INTS)
def test_int_division_edges(dt):
    lo = imin(dt)
    a = np.array([7, -7, 7, -7, 5, lo, lo, 0, -1, lo], npd(dt))
    b = np.array([2, 2, -2, -2, 0, -1, 0, 0, -1, 1], npd(dt))
    same(evaluate("div", [a, b]), np.array([3, -3, -3, 3, 0, lo, 0, 0, 1, lo], npd(dt)))
    same(evaluate("rem", [a, b]), np.array([1, -1, 1, -1, 0, 0, 0, 0, 0, 0], npd(dt)))
    s = [np.array(lo, npd(dt)), np.array(-1, npd(dt))]
    same(evaluate("div", s), np.array(lo, npd(dt)))


@pytest.mark.parametrize("dt", core.INTS)
def test_int_pow_edges(dt):
    a = np.array([2, 2, 3, -1, -1, 1, 0, 0, 5, -2, 7], npd(dt))
    b = np.array([0, 10, 4, -3, -4, -9, 0, -1, -1, 3, 1], npd(dt))
    same(evaluate("pow", [a, b]), np.array([1, 1024, 81, -1, 1, 1, 1, 0, 0, -8, 7], npd(dt)))
    bits = npd(dt).itemsize * 8
    two = np.array([2, 2, 3], npd(dt))
    e = np.array([bits - 1, bits, 41], npd(dt))
    same(evaluate("pow", [two, e]),
         np.array([imin(dt), 0, wrap(3 ** 41, dt)], npd(dt)))


def test_float_rem_is_fmod_and_pow_c_rules():
    for dt in core.FLOATS:
        a = np.array([5.5, -5.5, 5.5, -5.5, 1.0, np.inf, 3.0], npd(dt))
        b = np.array([2.0, 2.0, -2.0, -2.0, np.inf, 2.0, 0.0], npd(dt))
        same(evaluate("rem", [a, b]),
             np.array([1.5, -1.5, 1.5, -1.5, 1.0, np.nan, np.nan], npd(dt)))
        x = np.array([np.nan, 1.0, 2.0, -8.0, 0.0], npd(dt))
        y = np.array([0.0, np.nan, 3.0, 1 / 3, -1.0], npd(dt))
        same(evaluate("pow", [x, y]), np.array([1.0, 1.0, 8.0, np.nan, np.inf], npd(dt)))


def test_max_min_propagate_nan():
    for dt in core.FLOATS:
        a = np.array([np.nan, 1.0, np.nan, -np.inf], npd(dt))
        b = np.array([1.0, np.nan, np.nan, 2.0], npd(dt))
        same(evaluate("max", [a, b]), np.array([np.nan, np.nan, np.nan, 2.0], npd(dt)))
        same(evaluate("min", [a, b]), np.array([np.nan, np.nan, np.nan, -np.inf], npd(dt)))


def test_and_or():
    a, b = values((4, 5), "bool", 1), values((4, 5), "bool", 2)
    same(evaluate("and", [a, b]), elementwise(lambda x, y: x and y, [a, b], (4, 5), "bool"))
    same(evaluate("or", [a, b]), elementwise(lambda x, y: x or y, [a, b], (4, 5), "bool"))


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("shape", [(), (0, 2), (30,)])
def test_compare_and_select(dt, shape):
    a = values(shape, dt, seed=5)
    b = np.where(values(shape, "bool", 6), a, values(shape, dt, seed=7))  # many equal pairs
    refs = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
            "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}
    for op, f in refs.items():
        same(evaluate(op, [a, b]), elementwise(f, [a, b], shape, "bool"), "bool")
    p = values(shape, "bool", seed=8)
    same(evaluate("select", [p, a, b]),
         elementwise(lambda c, x, y: x if c else y, [p, a, b], shape, dt), dt)


# ----------------------------------------------------------------------------
# convert


def nearest_f32(v):
    """The f32 nearest to the exact rational v, ties to even, overflow to inf."""
    v = Fraction(v)
    limit = Fraction(2) ** 128 - Fraction(2) ** 103  # halfway past the largest f32
    if abs(v) >= limit:
        return math.copysign(math.inf, v)
    with np.errstate(all="ignore"):
        c = np.float32(float(v))
    cands = [c, np.nextafter(c, np.float32(np.inf)), np.nextafter(c, np.float32(-np.inf))]
    cands = [x for x in cands if np.isfinite(x)]
    best = min(cands, key=lambda x: (abs(Fraction(float(x)) - v),
                                     int(np.array(x).view(np.int32)) & 1))
    return float(best)


def convert_ref(v, src, dst):
    if dst == "bool":
        return v != 0
    if src == "bool":
        v = int(v)
    if dst in core.INTS:
        if isinstance(v, float):
            if v != v:
                return 0
            if math.isinf(v):
                return imax(dst) if v > 0 else imin(dst)
            return min(max(math.trunc(v), imin(dst)), imax(dst))
        return wrap(v, dst)
    if dst == "f64":
        return float(v)
    if isinstance(v, float) and (v != v or math.isinf(v)):
        return v
    return nearest_f32(v)


@pytest.mark.parametrize("src", ALL)
@pytest.mark.parametrize("dst", ALL)
def test_convert(src, dst):
    x = values((60,), src, seed=9)
    if src in core.FLOATS:
        edges = np.array([2.0 ** 31, -2.0 ** 31, 2.0 ** 31 - 1, 2.0 ** 63, -2.0 ** 63, 1e19,
                          -1e19, 2.7, -2.7, 0.9999, 3.4e38, 1e300, 2.0 ** -149, 1 + 2.0 ** -24])
        with np.errstate(over="ignore"):
            x = np.concatenate([x, edges.astype(npd(src))])
    if src == "i64":
        x = np.concatenate([x, np.array([2 ** 24 + 1, 2 ** 53 + 1, 2 ** 62 + 2 ** 38 + 1,
                                         -(2 ** 62 + 2 ** 38 + 1), 2 ** 31], np.int64)])
    out = evaluate("convert", [x], {"dtype": dst})
    ref = [convert_ref(v, src, dst) for v in x.tolist()]
    with np.errstate(all="ignore"):
        ref = np.array(ref, dtype=np.int64 if dst in core.INTS else None).astype(npd(dst))
    same(out, ref, dst)


# ----------------------------------------------------------------------------
# Constant, iota, data movement


def test_constant_and_iota():
    c = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = evaluate("constant", [], {"value": c})
    same(out, c)
    assert not np.shares_memory(out, c)
    for dt in NUMERIC:
        for shape, dim in [((4,), 0), ((2, 3, 4), 1), ((2, 0, 3), 2), ((3, 2), 0)]:
            same(evaluate("iota", [], {"shape": shape, "dtype": dt, "dim": dim}),
                 np.indices(shape)[dim].astype(npd(dt)), dt)


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("xshape,shape,dims", [
    ((), (2, 3), ()),
    ((3,), (2, 3), (1,)),
    ((2,), (2, 3), (0,)),
    ((1, 3), (4, 2, 3), (0, 2)),
    ((2, 1), (2, 5, 3), (0, 2)),
    ((1,), (0, 4), (1,)),
    ((0, 1), (0, 2, 3), (0, 2)),
    ((1, 1, 1), (2, 3, 4), (0, 1, 2)),
])
def test_broadcast(dt, xshape, shape, dims):
    x = values(xshape, dt, seed=10)
    out = evaluate("broadcast", [x], {"shape": shape, "dims": dims})
    ref = np.zeros(shape, npd(dt))
    for idx in np.ndindex(*shape):
        ref[idx] = x[tuple(0 if x.shape[i] == 1 else idx[d] for i, d in enumerate(dims))]
    same(out, ref, dt)


def test_reshape():
    for dt in ALL:
        x = values((2, 3, 4), dt, seed=11)
        out = evaluate("reshape", [x], {"shape": (4, 6)})
        assert out.shape == (4, 6) and out.flags.c_contiguous and not np.shares_memory(out, x)
        same(out.ravel(), x.ravel())
    same(evaluate("reshape", [np.zeros((0, 3), np.float32)], {"shape": (3, 0, 5)}),
         np.zeros((3, 0, 5), np.float32))
    same(evaluate("reshape", [np.array([5], np.int64)], {"shape": ()}), np.array(5, np.int64))


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 1, 3, 2), (2, 0, 3)])
def test_transpose_all_perms(shape):
    x = values(shape, "f32", seed=12)
    for perm in itertools.permutations(range(len(shape))):
        out = evaluate("transpose", [x], {"perm": perm})
        ref = np.zeros([shape[p] for p in perm], np.float32)
        for idx in np.ndindex(*ref.shape):
            src = [0] * len(shape)
            for k, p in enumerate(perm):
                src[p] = idx[k]
            ref[idx] = x[tuple(src)]
        same(out, ref)
        assert out.flags.c_contiguous


def test_slice_reverse():
    x = values((5, 6, 3), "i32", seed=13)
    for start, limit, stride in [((0, 0, 0), (5, 6, 3), (1, 1, 1)),
                                 ((1, 2, 0), (5, 6, 2), (2, 3, 1)),
                                 ((4, 6, 1), (5, 6, 3), (7, 1, 5)),
                                 ((2, 0, 3), (2, 6, 3), (1, 1, 1))]:
        out = evaluate("slice", [x], {"start": start, "limit": limit, "stride": stride})
        ranges = [list(range(a, b, s)) for a, b, s in zip(start, limit, stride)]
        ref = np.array([x[i, j, k] for i in ranges[0] for j in ranges[1] for k in ranges[2]],
                       np.int32).reshape([len(r) for r in ranges])
        same(out, ref)
    for axes in [(), (0,), (1, 2), (0, 1, 2)]:
        out = evaluate("reverse", [x], {"axes": axes})
        ref = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            ref[idx] = x[tuple(n - 1 - i if d in axes else i
                               for d, (i, n) in enumerate(zip(idx, x.shape)))]
        same(out, ref)


def test_concatenate():
    for dt in ALL:
        for axis in range(3):
            parts = []
            for k, n in enumerate([2, 0, 3, 1]):
                shape = [2, 3, 2]
                shape[axis] = n
                parts.append(values(tuple(shape), dt, seed=14 + k))
            out = evaluate("concatenate", parts, {"axis": axis})
            ref = []
            for p in parts:
                for i in range(p.shape[axis]):
                    ref.append(np.take(p, i, axis=axis))
            same(out, np.stack(ref, axis=axis), dt)


@pytest.mark.parametrize("dt", ALL)
def test_pad(dt):
    x = values((2, 3), dt, seed=15)
    for low, high, value in [((0, 0), (0, 0), 0), ((1, 2), (3, 0), 1), ((0, 1), (2, 2), -7.5)]:
        out = evaluate("pad", [x], {"low": low, "high": high, "value": value})
        fill = convert_ref(value, "f64" if isinstance(value, float) else "i64", dt)
        ref = np.full((2 + low[0] + high[0], 3 + low[1] + high[1]), fill, dtype=npd(dt))
        for i, j in np.ndindex(2, 3):
            ref[i + low[0], j + low[1]] = x[i, j]
        same(out, ref, dt)
    same(evaluate("pad", [values((0,), dt)], {"low": (1,), "high": (1,), "value": 1}),
         np.ones(2, npd(dt)), dt)


# ----------------------------------------------------------------------------
# Reductions


def reduce_ref(x, kind, axes, dt):
    keep = [i for i in range(x.ndim) if i not in axes]
    out_shape = tuple(x.shape[i] for i in keep)
    red_shape = tuple(x.shape[i] for i in axes)
    ref = np.zeros(out_shape, npd(dt))
    for oidx in np.ndindex(*out_shape):
        vals = []
        for ridx in np.ndindex(*red_shape):
            full = [0] * x.ndim
            for i, v in zip(keep, oidx):
                full[i] = v
            for i, v in zip(axes, ridx):
                full[i] = v
            vals.append(x[tuple(full)].item())
        if kind == "sum":
            r = math.fsum(vals) if dt in core.FLOATS else wrap(sum(vals), dt)
        elif kind == "prod":
            r = math.prod(vals) if dt in core.FLOATS else wrap(math.prod(vals), dt)
        elif kind in ("max", "min"):
            r = (-math.inf if kind == "max" else math.inf) if dt in core.FLOATS else (
                imin(dt) if kind == "max" else imax(dt))
            for v in vals:
                r = math.nan if (r != r or v != v) else (max if kind == "max" else min)(r, v)
        elif kind == "and":
            r = all(vals)
        else:
            r = any(vals)
        ref[oidx] = r
    return ref


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("shape,axes", [
    ((), ()), ((5,), (0,)), ((0,), (0,)), ((3, 4), ()), ((3, 4), (1,)), ((3, 4), (0, 1)),
    ((2, 3, 4), (0, 2)), ((2, 0, 3), (1,)), ((2, 0, 3), (0, 2)), ((2, 3, 2, 2), (1, 2, 3)),
])
def test_reduce(dt, shape, axes):
    kinds = ("and", "or") if dt == "bool" else ("sum", "prod", "max", "min")
    x = values(shape, dt, seed=16, small=True)
    for kind in kinds:
        out = evaluate("reduce", [x], {"kind": kind, "axes": axes})
        ref = reduce_ref(x, kind, axes, dt)
        if dt in core.FLOATS and kind in ("sum", "prod"):
            assert out.dtype == npd(dt)
            np.testing.assert_allclose(out, ref, rtol=1e-5 if dt == "f32" else 1e-12, atol=1e-5)
        else:
            same(out, ref, dt)


def test_reduce_nan_and_wrap():
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, 2.0, 0.5]], np.float32)
    same(evaluate("reduce", [x], {"kind": "max", "axes": (1,)}),
         np.array([np.nan, 2.0], np.float32))
    same(evaluate("reduce", [x], {"kind": "min", "axes": (0,)}),
         np.array([-np.inf, np.nan, 0.5], np.float32))
    big = np.full((4,), 2 ** 30, np.int32)
    same(evaluate("reduce", [big], {"kind": "sum", "axes": (0,)}), np.array(0, np.int32))
    same(evaluate("reduce", [np.full((3,), 2 ** 21, np.int64)], {"kind": "prod", "axes": (0,)}),
         np.array(wrap(2 ** 63, "i64"), np.int64))
    for dt in NUMERIC:  # empty reductions give the identities
        e = np.zeros((0, 2), npd(dt))
        lo = -np.inf if dt in core.FLOATS else imin(dt)
        hi = np.inf if dt in core.FLOATS else imax(dt)
        for kind, ident in (("sum", 0), ("prod", 1), ("max", lo), ("min", hi)):
            same(evaluate("reduce", [e], {"kind": kind, "axes": (0,)}), np.full(2, ident, npd(dt)))


def arg_ref(x, axis, want_max):
    """The documented strict scan from index 0."""
    x = np.moveaxis(x, axis, -1)
    out = np.zeros(x.shape[:-1], np.int64)
    for idx in np.ndindex(*x.shape[:-1]):
        row = x[idx].tolist()
        best = 0
        for i in range(1, len(row)):
            if (row[i] > row[best]) if want_max else (row[i] < row[best]):
                best = i
        out[idx] = best
    return out


@pytest.mark.parametrize("dt", NUMERIC)
@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 4, 3), 1),
                                        ((0, 4), 1), ((4, 0), 1), ((2, 3, 2, 2), 3)])
def test_argmax_argmin(dt, shape, axis):
    x = values(shape, dt, seed=17)
    x = np.where(values(shape, "bool", 18), x, np.zeros((), npd(dt)))  # ties
    for idt in core.INTS:
        for op in ("argmax", "argmin"):
            out = evaluate(op, [x], {"axis": axis, "dtype": idt})
            same(out, arg_ref(x, axis, op == "argmax").astype(npd(idt)), idt)


def test_argmax_nan_and_ties():
    x = np.array([[np.nan, 5.0, 7.0], [1.0, np.nan, 3.0], [3.0, 3.0, np.nan],
                  [-0.0, 0.0, -1.0], [np.nan, np.nan, np.nan]], np.float32)
    same(evaluate("argmax", [x], {"axis": 1, "dtype": "i32"}), np.array([0, 2, 0, 0, 0], np.int32))
    same(evaluate("argmin", [x], {"axis": 1, "dtype": "i64"}), np.array([0, 0, 0, 2, 0], np.int64))


# ----------------------------------------------------------------------------
# dot, gather, rng


@pytest.mark.parametrize("dt", NUMERIC)
@pytest.mark.parametrize("batch", [(), (2,), (2, 3)])
@pytest.mark.parametrize("m,k,n", [(2, 3, 4), (1, 5, 1), (3, 0, 2), (0, 2, 3)])
def test_dot(dt, batch, m, k, n):
    for ta, tb in itertools.product([False, True], repeat=2):
        a = values(batch + ((k, m) if ta else (m, k)), dt, seed=19, small=dt in core.FLOATS)
        b = values(batch + ((n, k) if tb else (k, n)), dt, seed=20, small=dt in core.FLOATS)
        out = evaluate("dot", [a, b], {"transpose_a": ta, "transpose_b": tb})
        sa = "...km" if ta else "...mk"
        sb = "...nk" if tb else "...kn"
        if dt in core.INTS:  # exact products, then wrap-around
            ref = np.einsum(f"{sa},{sb}->...mn", a.astype(object), b.astype(object))
            ref = np.array([wrap(v, dt) for v in np.ravel(ref)], np.int64)
            same(out, ref.astype(npd(dt)).reshape(batch + (m, n)), dt)
        else:
            ref = np.einsum(f"{sa},{sb}->...mn", a.astype(np.float64), b.astype(np.float64))
            assert out.dtype == npd(dt) and out.shape == batch + (m, n)
            np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("idt", core.INTS)
@pytest.mark.parametrize("pshape,axis,ishape", [((5,), 0, (7,)), ((4, 3), 0, (2, 3)),
                                                 ((2, 5, 3), 1, (4,)), ((3, 4), 1, ()),
                                                 ((2, 0), 1, (3,)), ((3, 2), 0, (0, 2))])
def test_gather(idt, pshape, axis, ishape):
    p = values(pshape, "f32", seed=21)
    idx = np.random.default_rng(22).integers(-3, pshape[axis] + 3, ishape).astype(npd(idt))
    out = evaluate("gather", [p, idx], {"axis": axis})
    shape = pshape[:axis] + ishape + pshape[axis + 1:]
    ref = np.zeros(shape, np.float32)
    for o in np.ndindex(*shape):
        i = int(idx[o[axis:axis + len(ishape)]])
        if 0 <= i < pshape[axis]:
            ref[o] = p[o[:axis] + (i,) + o[axis + len(ishape):]]
    same(out, ref)


def test_rng_uses_operand_counter():
    for dist in core.RNG_DISTS:
        for dt in core.FLOATS:
            attrs = {"dist": dist, "shape": (3, 4), "dtype": dt, "seed": 7, "seed2": 11}
            a = evaluate("rng", [np.array(5, np.int64)], attrs)
            same(a, irrandom.sample(dist, (3, 4), npd(dt), 7, 11, 5), dt)
            b = evaluate("rng", [np.array(6, np.int64)], attrs)
            assert not np.array_equal(a, b)


# ----------------------------------------------------------------------------
# Errors, functions


def test_evaluate_errors():
    with pytest.raises(IRError, match="operands must have one type"):
        evaluate("add", [np.zeros(2, np.float32), np.zeros(2, np.float64)])
    with pytest.raises(IRError, match="not an IR dtype"):
        evaluate("neg", [np.zeros(2, np.uint8)])
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((2,), "f32"), "x")
    y = b.emit("exp", [x])
    ins = y.producer
    same(evaluate(ins, [np.zeros(2, np.float32)]), np.ones(2, np.float32))
    with pytest.raises(IRError, match=r"operand 0 \(%arg0\) should be f32\[2\], got f64\[2\]"):
        evaluate(ins, [np.zeros(2, np.float64)])
    with pytest.raises(IRError, match="unknown op 'frobnicate'"):
        evaluate("frobnicate", [np.zeros(2, np.float32)])
    bad = core.Instr("exp", [x], {}, TensorType((3,), "f32"), "bad")
    with pytest.raises(IRError, match=r"exp evaluated to f32\[2\], but its result type is f32\[3"):
        evaluate(bad, [np.zeros(2, np.float32)])


def small_function():
    fn = Function("affine")
    b = Builder(fn)
    x = b.param(TensorType((2, 3), "f32"), "x")
    w = b.param(TensorType((3,), "f32"), "w")
    n = b.param(TensorType((), "i32"), "n")
    wb = b.emit("broadcast", [w], shape=(2, 3), dims=(1,))
    y = b.emit("mul", [x, wb])
    s = b.emit("reduce", [y], kind="sum", axes=(1,))
    m = b.emit("argmax", [y], axis=1, dtype="i64")
    n2 = b.emit("add", [n, b.emit("constant", value=np.array(2 ** 31 - 1, np.int32))])
    b.result(s, "s")
    b.result(m, "m")
    b.result(n2, "n2")
    b.result(w, "w_out", alias_param=1)
    return fn


def test_run_function_and_module():
    fn = small_function()
    x = values((2, 3), "f32", seed=23, small=True)
    w = values((3,), "f32", seed=24, small=True)
    n = np.array(5, np.int32)
    outs = run_module(Module(fn), [x, w, n])
    assert len(outs) == 4
    prod = x.astype(np.float64) * w.astype(np.float64)
    np.testing.assert_allclose(outs[0], prod.sum(1), rtol=1e-5)
    same(outs[1], arg_ref(x * w, 1, True))
    same(outs[2], np.array(wrap(5 + 2 ** 31 - 1, "i32"), np.int32))
    same(outs[3], w)
    assert not np.shares_memory(outs[3], w)  # results are copies
    assert outs[0].dtype == np.float32 and outs[0].shape == (2,)


def test_run_function_argument_errors():
    fn = small_function()
    x, w, n = np.zeros((2, 3), np.float32), np.zeros(3, np.float32), np.array(1, np.int32)
    with pytest.raises(IRError, match=r"expected 3 argument\(s\).*got 2"):
        run_function(fn, [x, w])
    with pytest.raises(IRError, match=r"argument 1 \('w'\) should be f32\[3\], got f32\[4\]"):
        run_function(fn, [x, np.zeros(4, np.float32), n])
    with pytest.raises(IRError, match=r"argument 0 \('x'\) should be f32\[2,3\], got f64\[2,3\]"):
        run_function(fn, [x.astype(np.float64), w, n])
    with pytest.raises(IRError, match=r"argument 2 \('n'\) should be i32\[\], got i64\[\]"):
        run_function(fn, [x, w, np.array(1, np.int64)])
