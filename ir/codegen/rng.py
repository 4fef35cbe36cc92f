"""LLVM code for the `rng` op: ir/random.py's generator, element by element.

The key from (seed, seed2) is folded at compile time; the run counter is a
runtime i64. Bits match ir/random.py exactly; the normal distribution is
computed in double (as the reference does) with log1p/cos/sqrt from
`scalar_ops.math_unary`, then rounded to the result dtype.
"""
from __future__ import annotations

import math

from .. import random as rnd
from .llvm_util import F32, F64, I64, alloca_entry, const, declare, i64
from .scalar_ops import math_unary


def _mix(b, z):
    """splitmix64's finalizer, wrapping u64 arithmetic on i64 registers."""
    z = b.add(z, const(I64, rnd.C0))
    z = b.mul(b.xor(z, b.lshr(z, i64(30))), const(I64, rnd.C1))
    z = b.mul(b.xor(z, b.lshr(z, i64(27))), const(I64, rnd.C2))
    return b.xor(z, b.lshr(z, i64(31)))


def run_key(b, seed: int, seed2: int, counter):
    """k1 = mix(key(seed, seed2) ^ counter); the key is a compile-time constant."""
    return _mix(b, b.xor(const(I64, rnd.key(seed, seed2)), counter))


def bits(b, k1, flat_index, stream: int):
    inner = b.add(b.mul(flat_index, i64(64)), i64(stream))
    return _mix(b, b.xor(k1, _mix(b, inner)))


def to_unit(b, u64, dtype: str):
    """Bits to [0, 1): 24 bits for f32, 53 for f64 (exact in the dtype)."""
    if dtype == "f32":
        v = b.uitofp(b.lshr(u64, i64(40)), F32)
        return b.fmul(v, const(F32, 2.0 ** -24))
    v = b.uitofp(b.lshr(u64, i64(11)), F64)
    return b.fmul(v, const(F64, 2.0 ** -53))


def _normal(b, k1, flat, s0: int, dtype: str):
    """sqrt(-2 log1p(-u1)) * cos(2 pi u2) in double."""
    u1 = to_unit(b, bits(b, k1, flat, s0), dtype)
    u2 = to_unit(b, bits(b, k1, flat, s0 + 1), dtype)
    if dtype == "f32":
        u1, u2 = b.fpext(u1, F64), b.fpext(u2, F64)
    r = math_unary(b, "sqrt", b.fmul(const(F64, -2.0), math_unary(b, "log1p", b.fneg(u1))))
    c = math_unary(b, "cos", b.fmul(const(F64, 2.0 * math.pi), u2))
    return b.fmul(r, c)


def _narrow(b, x, dtype):
    return b.fptrunc(x, F32) if dtype == "f32" else x


def emit(b, dist: str, dtype: str, seed: int, seed2: int, counter, flat):
    """The value (in `dtype`) of an rng op at flat index `flat` (i64)."""
    k1 = run_key(b, seed, seed2, counter)
    if dist == "uniform":
        return to_unit(b, bits(b, k1, flat, 0), dtype)
    if dist == "normal":
        return _narrow(b, _normal(b, k1, flat, 0, dtype), dtype)
    if dist != "truncated_normal":
        raise ValueError(f"rng: unknown distribution {dist!r}")
    # Rejection loop: almost always accepts in the first round, so branch.
    slot = alloca_entry(b, F64, "tn.z")
    rslot = alloca_entry(b, I64, "tn.r")
    b.store(i64(0), rslot)
    head = b.append_basic_block("tn.head")
    done = b.append_basic_block("tn.done")
    b.branch(head)
    b.position_at_end(head)
    r = b.load(rslot, typ=I64)
    # Stream pair (2r, 2r+1); bits() adds the stream to i*64.
    stream = b.mul(r, i64(2))
    flat64 = b.add(b.mul(flat, i64(64)), stream)
    u1 = to_unit(b, _mix(b, b.xor(k1, _mix(b, flat64))), dtype)
    u2 = to_unit(b, _mix(b, b.xor(k1, _mix(b, b.add(flat64, i64(1))))), dtype)
    if dtype == "f32":
        u1, u2 = b.fpext(u1, F64), b.fpext(u2, F64)
    rad = math_unary(b, "sqrt", b.fmul(const(F64, -2.0), math_unary(b, "log1p", b.fneg(u1))))
    z = b.fmul(rad, math_unary(b, "cos", b.fmul(const(F64, 2.0 * math.pi), u2)))
    b.store(z, slot)
    accept = b.fcmp_ordered("<", b.call(_fabs(b), [z]), const(F64, 2.0))
    nxt = b.add(r, i64(1))
    b.store(nxt, rslot)
    last = b.icmp_signed(">=", nxt, i64(rnd.TRUNC_ROUNDS))
    b.cbranch(b.or_(accept, last), done, head)
    b.position_at_end(done)
    z = b.load(slot, typ=F64)
    # After the last rejection, clip to [-2, 2] (an accepted z is inside already).
    lo, hi = const(F64, -2.0), const(F64, 2.0)
    z = b.select(b.fcmp_ordered("<", z, lo), lo, b.select(b.fcmp_ordered(">", z, hi), hi, z))
    return _narrow(b, z, dtype)


def _fabs(b):
    return declare(b.module, "llvm.fabs.f64", F64, [F64])
