"""LLVM code for the IR's per-element ops, on scalars or vectors alike.

Each function takes register values (a scalar or an LLVM vector of lanes)
and the IR dtype, and returns the op's exact result as ir/core.py defines it:
guarded integer division (no trap, ever), saturating float->int conversion,
NaN-propagating max/min, round half to even. Nothing here branches, so loops
over these ops stay vectorizable, except integer pow (a loop over the
exponent's bits).

Transcendentals go through `math_unary`/`math_pow`: the vector-friendly
implementations of `vmath` when that module is present, LLVM intrinsics or
libm otherwise (one place to switch).
"""
from __future__ import annotations

import llvmlite.ir as ir

from .llvm_util import (I1, I64, const, declare, int_max, int_min,
                        intrinsic, reg_type, scalar_of, with_scalar)

VMATH_OPS = ("exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos",
             "sqrt", "rsqrt")

_vmath_cache = []


def _vmath():
    """The vmath module, or None while it does not exist."""
    if not _vmath_cache:
        try:
            from . import vmath
        except ImportError:
            vmath = None
        _vmath_cache.append(vmath)
    return _vmath_cache[0]


def _per_lane(b, x, fn):
    """Apply a scalar-only emitter `fn` to each lane of vector `x`."""
    if not isinstance(x.type, ir.VectorType):
        return fn(x)
    out = ir.Constant(x.type, ir.Undefined)
    for lane in range(x.type.count):
        idx = ir.Constant(ir.IntType(32), lane)
        out = b.insert_element(out, fn(b.extract_element(x, idx)), idx)
    return out


def _libm(b, name, x):
    f32 = isinstance(scalar_of(x.type), ir.FloatType)

    def one(s):
        fn = declare(b.module, name + ("f" if f32 else ""), s.type, [s.type])
        return b.call(fn, [s])
    return _per_lane(b, x, one)


def math_unary(b, op: str, x):
    """exp, expm1, log, log1p, tanh, logistic, sin, cos, sqrt, rsqrt of x."""
    vm = _vmath()
    if vm is not None:
        return vm.emit_unary(b, op, x)
    one = const(x.type, 1.0)
    if op in ("exp", "log", "sin", "cos", "sqrt", "tanh"):
        return intrinsic(b, op, [x])
    if op in ("expm1", "log1p"):
        return _libm(b, op, x)
    if op == "rsqrt":
        return b.fdiv(one, intrinsic(b, "sqrt", [x]))
    if op == "logistic":
        return b.fdiv(one, b.fadd(one, intrinsic(b, "exp", [b.fneg(x)])))
    raise ValueError(f"not a math op: {op!r}")


def math_pow(b, x, y):
    vm = _vmath()
    if vm is not None and hasattr(vm, "emit_pow"):
        return vm.emit_pow(b, x, y)
    return intrinsic(b, "pow", [x, y])


def is_float(dtype):
    return dtype in ("f32", "f64")


# ---------------------------------------------------------------------------

def unary(b, op: str, x, dtype: str):
    t = x.type
    if op == "not":
        return b.xor(x, const(t, 1))
    if op == "neg":
        return b.fneg(x) if is_float(dtype) else b.sub(const(t, 0), x)
    if op == "abs":
        if is_float(dtype):
            return intrinsic(b, "fabs", [x])
        # abs(MIN) wraps to MIN, so the "int min is poison" flag is false.
        return intrinsic(b, "abs", [x], extra_args=[ir.Constant(I1, 0)])
    if op == "sign":
        if is_float(dtype):
            pos = b.fcmp_ordered(">", x, const(t, 0.0))
            neg = b.fcmp_ordered("<", x, const(t, 0.0))
            nan = b.fcmp_unordered("uno", x, x)
            # numpy: sign(+-0) is +0, sign(NaN) is NaN.
            rest = b.select(nan, x, const(t, 0.0))
            return b.select(pos, const(t, 1.0), b.select(neg, const(t, -1.0), rest))
        pos = b.zext(b.icmp_signed(">", x, const(t, 0)), t)
        neg = b.zext(b.icmp_signed("<", x, const(t, 0)), t)
        return b.sub(pos, neg)
    if op == "floor":
        return intrinsic(b, "floor", [x])
    if op == "ceil":
        return intrinsic(b, "ceil", [x])
    if op == "round":
        return intrinsic(b, "roundeven", [x])
    if op in VMATH_OPS:
        return math_unary(b, op, x)
    raise ValueError(f"unknown unary op {op!r}")


def _int_div_rem(b, op, x, y, dtype):
    t = x.type
    zero = b.icmp_signed("==", y, const(t, 0))
    overflow = b.and_(b.icmp_signed("==", x, const(t, int_min(dtype))),
                      b.icmp_signed("==", y, const(t, -1)))
    # Divide by 1 instead of 0 or -1-with-MIN: MIN/1 = MIN and MIN%1 = 0 are
    # exactly the defined results of the overflow case.
    safe = b.select(b.or_(zero, overflow), const(t, 1), y)
    q = b.sdiv(x, safe) if op == "div" else b.srem(x, safe)
    return b.select(zero, const(t, 0), q)


def _int_pow(b, x, y, dtype):
    """Exact x**y with wrap-around, by squaring: a loop over the exponent's bits."""
    t = x.type
    if isinstance(t, ir.VectorType):
        out = ir.Constant(t, ir.Undefined)
        for lane in range(t.count):
            i = ir.Constant(ir.IntType(32), lane)
            out = b.insert_element(out, _int_pow(b, b.extract_element(x, i),
                                                 b.extract_element(y, i), dtype), i)
        return out
    one, zero = const(t, 1), const(t, 0)
    negative_exp = b.icmp_signed("<", y, zero)
    e0 = b.select(negative_exp, zero, y)
    pre = b.block
    head = b.append_basic_block("ipow.head")
    body = b.append_basic_block("ipow.body")
    done = b.append_basic_block("ipow.done")
    b.branch(head)
    b.position_at_end(head)
    acc = b.phi(t)
    base = b.phi(t)
    e = b.phi(t)
    acc.add_incoming(one, pre)
    base.add_incoming(x, pre)
    e.add_incoming(e0, pre)
    b.cbranch(b.icmp_signed("!=", e, zero), body, done)
    b.position_at_end(body)
    take = b.icmp_signed("!=", b.and_(e, one), zero)
    acc.add_incoming(b.select(take, b.mul(acc, base), acc), body)
    base.add_incoming(b.mul(base, base), body)
    e.add_incoming(b.lshr(e, one), body)
    b.branch(head)
    b.position_at_end(done)
    # Negative exponent: 1 for base 1, +-1 for base -1, else 0.
    odd = b.icmp_signed("!=", b.and_(y, one), zero)
    neg_one_pow = b.select(odd, const(t, -1), one)
    negative = b.select(b.icmp_signed("==", x, one), one,
                        b.select(b.icmp_signed("==", x, const(t, -1)), neg_one_pow, zero))
    return b.select(negative_exp, negative, acc)


def binary(b, op: str, x, y, dtype: str):
    fl = is_float(dtype)
    if op == "add":
        return b.fadd(x, y) if fl else b.add(x, y)
    if op == "sub":
        return b.fsub(x, y) if fl else b.sub(x, y)
    if op == "mul":
        return b.fmul(x, y) if fl else b.mul(x, y)
    if op == "div":
        return b.fdiv(x, y) if fl else _int_div_rem(b, op, x, y, dtype)
    if op == "rem":
        return b.frem(x, y) if fl else _int_div_rem(b, op, x, y, dtype)
    if op == "pow":
        return math_pow(b, x, y) if fl else _int_pow(b, x, y, dtype)
    if op == "max":
        return intrinsic(b, "maximum" if fl else "smax", [x, y])
    if op == "min":
        return intrinsic(b, "minimum" if fl else "smin", [x, y])
    if op == "and":
        return b.and_(x, y)
    if op == "or":
        return b.or_(x, y)
    raise ValueError(f"unknown binary op {op!r}")


_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def compare(b, op: str, x, y, dtype: str):
    c = _CMP[op]
    if is_float(dtype):
        # NaN compares unequal to everything, so ne is the unordered form.
        return b.fcmp_unordered(c, x, y) if op == "ne" else b.fcmp_ordered(c, x, y)
    if dtype == "bool":
        return b.icmp_unsigned(c, x, y)
    return b.icmp_signed(c, x, y)


def convert(b, x, src: str, dst: str):
    if src == dst:
        return x
    t = with_scalar(x.type, reg_type(dst))
    if dst == "bool":
        if is_float(src):
            return b.fcmp_unordered("!=", x, const(x.type, 0.0))
        return b.icmp_signed("!=", x, const(x.type, 0))
    if src == "bool":
        return b.uitofp(x, t) if is_float(dst) else b.zext(x, t)
    if is_float(src) and is_float(dst):
        return b.fpext(x, t) if dst == "f64" else b.fptrunc(x, t)
    if is_float(dst):
        return b.sitofp(x, t)
    if is_float(src):
        # Saturating, NaN -> 0.
        return intrinsic(b, "fptosi.sat", [x], ret=t, overloads=[t, x.type])
    return b.sext(x, t) if dst == "i64" else b.trunc(x, t)


def select(b, p, x, y):
    return b.select(p, x, y)


def to_i64(b, x, dtype):
    """An integer index value as i64."""
    if dtype == "i64":
        return x
    return b.sext(x, with_scalar(x.type, I64))


def from_i64(b, x, dtype):
    """An i64 (an index) as a value of numeric `dtype`."""
    if dtype == "i64":
        return x
    t = with_scalar(x.type, reg_type(dtype))
    if is_float(dtype):
        return b.sitofp(x, t)
    return b.trunc(x, t)


def reduce_identity(kind: str, dtype: str):
    """The Python value of a reduction's identity for `dtype`."""
    if kind == "sum":
        return 0
    if kind == "prod":
        return 1
    if kind == "and":
        return 1
    if kind == "or":
        return 0
    fl = is_float(dtype)
    if kind == "max":
        return float("-inf") if fl else int_min(dtype)
    if kind == "min":
        return float("inf") if fl else int_max(dtype)
    raise ValueError(f"unknown reduce kind {kind!r}")


_REDUCE_OP = {"sum": "add", "prod": "mul", "max": "max", "min": "min",
              "and": "and", "or": "or"}


def reduce_combine(b, kind: str, acc, x, dtype: str):
    """acc (kind) x; float sums and products may be reassociated so they vectorize."""
    op = _REDUCE_OP[kind]
    if is_float(dtype) and op in ("add", "mul"):
        f = b.fadd if op == "add" else b.fmul
        return f(acc, x, flags=("reassoc", "contract"))
    return binary(b, op, acc, x, dtype)
