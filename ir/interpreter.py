"""The reference interpreter: every IR op evaluated on numpy arrays.

It is the oracle for codegen tests and the engine of constant folding, so it
follows the op semantics in `core`'s docstring exactly: integer arithmetic
wraps and never traps, float32 math stays in float32, NaN handling is spelled
out per op, and every result has exactly the IR result type. No numpy warning
escapes (all arithmetic runs under `np.errstate(all="ignore")`).

    evaluate(instr_or_op, operands, attrs=None) -> np.ndarray
    run_function(fn, args) -> list[np.ndarray]
    run_module(mod, args)  -> list[np.ndarray]
"""
from __future__ import annotations

import numpy as np

from . import random as irrandom
from .core import (DTYPES, NP_TO_IR, Function, Instr, IRError, Module,
                   TensorType, Value, infer_type, normalize_attrs)


# ----------------------------------------------------------------------------
# Helpers

def _is_float(x: np.ndarray) -> bool:
    return x.dtype.kind == "f"


def _is_int(x: np.ndarray) -> bool:
    return x.dtype.kind == "i"


def _wrap_py_int(v: int, dtype: np.dtype) -> int:
    """A Python int reduced modulo 2**bits into the signed range of `dtype`."""
    bits = dtype.itemsize * 8
    half = 1 << (bits - 1)
    return ((int(v) + half) % (1 << bits)) - half


def _convert(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """IR `convert`: truncating, saturating float->int with NaN -> 0."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x.copy()
    if dtype == np.bool_:
        return x != 0
    if dtype.kind == "i" and x.dtype.kind == "f":
        t = np.trunc(x.astype(np.float64))  # exact for f32 input
        lo = float(np.iinfo(dtype).min)     # -2**(n-1): exact in f64
        hi = -lo                            # first value past the maximum
        inside = (t >= lo) & (t < hi)       # false for NaN
        out = np.zeros(x.shape, dtype)
        out[inside] = t[inside].astype(dtype)
        out[t >= hi] = np.iinfo(dtype).max
        out[t < lo] = np.iinfo(dtype).min
        return out
    # int->int wraps, int->float and f64->f32 round to nearest, bool -> 0/1.
    return x.astype(dtype)


def _scalar(value, dtype: np.dtype) -> np.ndarray:
    """A Python scalar as a 0-d array of `dtype`, by the rules of `convert`."""
    if isinstance(value, (bool, np.bool_)):
        src = np.asarray(bool(value))
    elif isinstance(value, (int, np.integer)):
        if dtype.kind == "i":
            return np.asarray(_wrap_py_int(value, dtype), dtype)
        src = np.asarray(_wrap_py_int(value, np.dtype(np.int64)), np.int64)
    else:
        src = np.asarray(float(value), np.float64)
    return _convert(src, dtype)


def _int_div(a: np.ndarray, b: np.ndarray):
    """C truncating quotient and remainder; x/0 -> 0, MIN/-1 -> MIN (wrapping)."""
    zero = b == 0
    minus_one = b == -1
    safe = np.where(zero | minus_one, np.ones_like(b), b)
    r = np.fmod(a, safe)          # integer fmod is C's %: sign of the dividend
    q = (a - r) // safe           # exact division, can't overflow
    q = np.where(minus_one, np.negative(a), q)   # -MIN wraps to MIN
    q = np.where(zero, np.zeros_like(q), q)
    r = np.where(zero | minus_one, np.zeros_like(r), r)
    return q, r


def _int_pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact power by squaring with wrap-around (same value as repeated
    multiplication modulo 2**bits); negative exponents give 0 unless the base
    is 1 or -1."""
    a = np.atleast_1d(a)
    b = np.atleast_1d(b)
    result = np.ones_like(a)
    base = a.copy()
    e = np.where(b > 0, b, np.zeros_like(b))
    while np.any(e):
        odd = (e & 1).astype(bool)
        result = np.where(odd, result * base, result)
        base = base * base
        e = e >> 1
    one = np.ones_like(a)
    odd_exp = (b & 1).astype(bool)
    negative = np.where(a == 1, one,
                        np.where(a == -1, np.where(odd_exp, -one, one),
                                 np.zeros_like(a)))
    return np.where(b < 0, negative, result)


def _logistic(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp only of -|x|."""
    one = np.ones((), x.dtype)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, one / (one + e), e / (one + e))


def _reduce_identity(kind: str, dtype: np.dtype):
    if kind == "max":
        return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
    if kind == "min":
        return np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    raise AssertionError(kind)


def _arg_extreme(x: np.ndarray, axis: int, dtype: np.dtype, want_max: bool):
    """argmax/argmin as a strict scan from index 0: ties keep the first index,
    NaN is never picked unless it sits at index 0 (then nothing beats it)."""
    x = np.moveaxis(x, axis, -1)
    out_shape = x.shape[:-1]
    if x.shape[-1] == 0 or x.size == 0:
        return np.zeros(out_shape, dtype)
    if _is_float(x):
        nan = np.isnan(x)
        fill = -np.inf if want_max else np.inf
        xr = np.where(nan, np.asarray(fill, x.dtype), x)
    else:
        nan = None
        xr = x
    best = xr.max(axis=-1) if want_max else xr.min(axis=-1)
    # The scan ends on the first element equal to the extreme.
    idx = np.argmax(xr == best[..., None], axis=-1)
    if nan is not None:
        idx = np.where(nan[..., 0], 0, idx)
    return idx.astype(dtype)


def _gather(params: np.ndarray, idx: np.ndarray, axis: int, shape):
    n = params.shape[axis]
    if n == 0 or idx.size == 0:
        return np.zeros(shape, params.dtype)
    valid = (idx >= 0) & (idx < n)
    safe = np.where(valid, idx, np.zeros_like(idx))
    out = np.take(params, safe, axis=axis)
    mask_shape = (1,) * axis + idx.shape + (1,) * (params.ndim - axis - 1)
    return np.where(valid.reshape(mask_shape), out, np.zeros((), params.dtype))


# ----------------------------------------------------------------------------
# Ops: each takes (operands, attrs, result TensorType) and returns an array.

def _unary(op):
    def f(ops, attrs, t):
        x = ops[0]
        if op == "neg":
            return np.negative(x)
        if op == "abs":
            return np.abs(x)
        if op == "sign":
            return np.sign(x)
        if op == "not":
            return np.logical_not(x)
        if op == "logistic":
            return _logistic(x)
        if op == "rsqrt":
            return np.ones((), x.dtype) / np.sqrt(x)
        return _FLOAT_UNARY[op](x)
    return f


_FLOAT_UNARY = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p,
    "tanh": np.tanh, "sqrt": np.sqrt, "floor": np.floor, "ceil": np.ceil,
    "round": np.rint, "sin": np.sin, "cos": np.cos,
}


def _binary(op):
    def f(ops, attrs, t):
        a, b = ops
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "max":
            return np.maximum(a, b)   # propagates NaN
        if op == "min":
            return np.minimum(a, b)
        if op == "and":
            return np.logical_and(a, b)
        if op == "or":
            return np.logical_or(a, b)
        if op in ("div", "rem"):
            if _is_float(a):
                return a / b if op == "div" else np.fmod(a, b)
            q, r = _int_div(a, b)
            return q if op == "div" else r
        if op == "pow":
            if _is_float(a):
                return np.power(a, b)
            return _int_pow(a, b).reshape(t.shape)
        raise AssertionError(op)
    return f


_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less,
            "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}


def _compare(op):
    return lambda ops, attrs, t: _COMPARE[op](ops[0], ops[1])


def _constant(ops, attrs, t):
    return np.array(attrs["value"], dtype=t.np_dtype, copy=True)


def _iota(ops, attrs, t):
    dim = attrs["dim"]
    ramp = np.arange(t.shape[dim], dtype=t.np_dtype)
    view = [1] * len(t.shape)
    view[dim] = t.shape[dim]
    return np.broadcast_to(ramp.reshape(view), t.shape)


def _select(ops, attrs, t):
    return np.where(ops[0], ops[1], ops[2])


def _convert_op(ops, attrs, t):
    return _convert(ops[0], t.np_dtype)


def _broadcast(ops, attrs, t):
    x = ops[0]
    view = [1] * len(t.shape)
    for i, d in enumerate(attrs["dims"]):
        view[d] = x.shape[i]
    return np.broadcast_to(x.reshape(view), t.shape)


def _reshape(ops, attrs, t):
    return ops[0].reshape(t.shape)


def _transpose(ops, attrs, t):
    return np.transpose(ops[0], attrs["perm"])


def _slice(ops, attrs, t):
    idx = tuple(slice(a, b, s) for a, b, s in
                zip(attrs["start"], attrs["limit"], attrs["stride"]))
    return ops[0][idx]


def _reverse(ops, attrs, t):
    axes = set(attrs["axes"])
    idx = tuple(slice(None, None, -1) if i in axes else slice(None)
                for i in range(ops[0].ndim))
    return ops[0][idx]


def _concatenate(ops, attrs, t):
    return np.concatenate(ops, axis=attrs["axis"])


def _pad(ops, attrs, t):
    x = ops[0]
    out = np.empty(t.shape, t.np_dtype)
    out[...] = _scalar(attrs["value"], t.np_dtype)
    inner = tuple(slice(lo, lo + d) for lo, d in zip(attrs["low"], x.shape))
    out[inner] = x
    return out


def _reduce(ops, attrs, t):
    x, kind, axes = ops[0], attrs["kind"], tuple(attrs["axes"])
    if kind == "sum":
        return np.sum(x, axis=axes, dtype=x.dtype)
    if kind == "prod":
        return np.prod(x, axis=axes, dtype=x.dtype)
    if kind == "max":
        return np.max(x, axis=axes, initial=_reduce_identity(kind, x.dtype))
    if kind == "min":
        return np.min(x, axis=axes, initial=_reduce_identity(kind, x.dtype))
    if kind == "and":
        return np.all(x, axis=axes)
    if kind == "or":
        return np.any(x, axis=axes)
    raise IRError(f"reduce: unknown kind {kind!r}")


def _argmax(ops, attrs, t):
    return _arg_extreme(ops[0], attrs["axis"], t.np_dtype, True)


def _argmin(ops, attrs, t):
    return _arg_extreme(ops[0], attrs["axis"], t.np_dtype, False)


def _dot(ops, attrs, t):
    a, b = ops
    if attrs.get("transpose_a"):
        a = np.swapaxes(a, -1, -2)
    if attrs.get("transpose_b"):
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def _conv_taps(x, kh, kw, ho, wo, attrs):
    """Yields (i, j, x's window of tap (i, j): [N, ho, wo, C])."""
    sh, sw = attrs["strides"]
    dh, dw = attrs["dilations"]
    for i in range(kh):
        for j in range(kw):
            yield i, j, x[:, i * dh:i * dh + (ho - 1) * sh + 1:sh,
                          j * dw:j * dw + (wo - 1) * sw + 1:sw, :]


def _conv2d(ops, attrs, t):
    x, w = ops
    out = np.zeros(t.shape, t.np_dtype)
    for i, j, win in _conv_taps(x, w.shape[0], w.shape[1], t.shape[1], t.shape[2], attrs):
        out += np.tensordot(win, w[i, j], axes=([3], [0])).astype(t.np_dtype)
    return out


def _conv2d_filter(ops, attrs, t):
    x, dy = ops
    out = np.zeros(t.shape, t.np_dtype)
    kh, kw = attrs["window"]
    for i, j, win in _conv_taps(x, kh, kw, dy.shape[1], dy.shape[2], attrs):
        out[i, j] = np.tensordot(win, dy, axes=([0, 1, 2], [0, 1, 2]))
    return out


def _gather_op(ops, attrs, t):
    return _gather(ops[0], ops[1], attrs["axis"], t.shape)


def _argwhere(ops, attrs, t):
    found = np.argwhere(ops[0]).astype(np.int64)[:t.shape[0]]
    out = np.full(t.shape, -1, np.int64)   # rows past the true elements (see core)
    out[:len(found)] = found
    return out


def _rng(ops, attrs, t):
    counter = int(ops[0])
    return irrandom.sample(attrs["dist"], t.shape, t.np_dtype,
                           int(attrs["seed"]), int(attrs["seed2"]), counter)


_OPS = {
    "constant": _constant, "iota": _iota, "select": _select,
    "convert": _convert_op, "broadcast": _broadcast, "reshape": _reshape,
    "transpose": _transpose, "slice": _slice, "reverse": _reverse,
    "concatenate": _concatenate, "pad": _pad, "reduce": _reduce,
    "argmax": _argmax, "argmin": _argmin, "dot": _dot, "conv2d": _conv2d,
    "conv2d_filter": _conv2d_filter, "gather": _gather_op,
    "argwhere": _argwhere, "rng": _rng,
}
for _op in ("neg", "abs", "sign", "not", "logistic", "rsqrt", *_FLOAT_UNARY):
    _OPS[_op] = _unary(_op)
for _op in ("add", "sub", "mul", "div", "rem", "pow", "max", "min", "and", "or"):
    _OPS[_op] = _binary(_op)
for _op in _COMPARE:
    _OPS[_op] = _compare(_op)


# ----------------------------------------------------------------------------
# Entry points

def _as_operand(x, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype not in NP_TO_IR:
        raise IRError(f"{what}: numpy dtype {arr.dtype} is not an IR dtype "
                      f"(expected one of {list(DTYPES)})")
    return arr


def _type_of(arr: np.ndarray) -> TensorType:
    return TensorType(arr.shape, NP_TO_IR[arr.dtype])


def evaluate(instr_or_op, operands, attrs: dict | None = None) -> np.ndarray:
    """The value of one op on numpy operands.

    `instr_or_op` is a `core.Instr` (its attrs and result type are used, and
    the operands must match its operand types) or an op name with `attrs`
    (the result type is inferred, as the Builder would). The result is a
    fresh C-contiguous array of exactly the result type.
    """
    if isinstance(instr_or_op, Instr):
        ins = instr_or_op
        if attrs is not None:
            raise IRError(f"evaluate: {ins.op} is an Instr; pass attrs only with an op name")
        op, attrs, t = ins.op, ins.attrs, ins.type
        if len(operands) != len(ins.operands):
            raise IRError(f"{op} %{ins.result.name}: expected {len(ins.operands)} "
                          f"operand(s), got {len(operands)}")
        arrays = []
        for i, (x, v) in enumerate(zip(operands, ins.operands)):
            arr = _as_operand(x, f"{op} operand {i}")
            if _type_of(arr) != v.type:
                raise IRError(f"{op} %{ins.result.name}: operand {i} (%{v.name}) should be "
                              f"{v.type}, got {_type_of(arr)}")
            arrays.append(arr)
    else:
        op = instr_or_op
        attrs = normalize_attrs(op, attrs or {})
        arrays = [_as_operand(x, f"{op} operand {i}") for i, x in enumerate(operands)]
        values = [Value(_type_of(a), f"operand{i}") for i, a in enumerate(arrays)]
        t = infer_type(op, values, attrs)
    fn = _OPS.get(op)
    if fn is None:
        raise IRError(f"interpreter: no evaluation rule for op {op!r}")
    with np.errstate(all="ignore"):
        out = np.asarray(fn(arrays, attrs, t))
    if out.shape != t.shape or out.dtype != t.np_dtype:
        # A wrong result type recorded on the Instr, or a bug here.
        got = _type_of(out) if out.dtype in NP_TO_IR else f"{out.dtype}{list(out.shape)}"
        raise IRError(f"interpreter: {op} evaluated to {got}, but its result type is {t}")
    if not out.flags.owndata or not out.flags.c_contiguous:
        out = np.array(out, order="C", copy=True)
    return out


def _check_args(fn: Function, args) -> list[np.ndarray]:
    if len(args) != len(fn.params):
        raise IRError(f"function {fn.name}: expected {len(fn.params)} argument(s) "
                      f"({', '.join(fn.param_names)}), got {len(args)}")
    arrays = []
    for i, (x, p) in enumerate(zip(args, fn.params)):
        name = fn.param_names[i] if i < len(fn.param_names) else p.name
        arr = np.asarray(x)
        if arr.shape != p.shape or arr.dtype != p.type.np_dtype:
            got = NP_TO_IR.get(arr.dtype, str(arr.dtype))
            raise IRError(f"function {fn.name}: argument {i} ({name!r}) should be "
                          f"{p.type}, got {got}[{','.join(map(str, arr.shape))}]")
        arrays.append(arr)
    return arrays


def run_function(fn: Function, args) -> list[np.ndarray]:
    """Evaluates `fn`'s body in order on `args`; returns copies of its results."""
    env: dict[Value, np.ndarray] = dict(zip(fn.params, _check_args(fn, args)))
    for ins in fn.body:
        try:
            operands = [env[o] for o in ins.operands]
        except KeyError:
            missing = next(o for o in ins.operands if o not in env)
            raise IRError(f"function {fn.name}: {ins.op} %{ins.result.name} uses "
                          f"%{missing.name} before it is defined") from None
        env[ins.result] = evaluate(ins, operands)
    out = []
    for i, r in enumerate(fn.results):
        if r not in env:
            raise IRError(f"function {fn.name}: result {i} %{r.name} is never defined")
        out.append(np.array(env[r], copy=True))
    return out


def run_module(mod: Module, args) -> list[np.ndarray]:
    """Runs the module's entry function."""
    return run_function(mod.entry, args)


__all__ = ["evaluate", "run_function", "run_module"]
