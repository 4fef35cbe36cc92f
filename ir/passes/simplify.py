"""Algebraic simplification: identities that make the IR smaller or cheaper.

Each rule looks at one instruction (and the producers of its operands) and
returns a value to use instead, either an existing one or one built from new
instructions, which are simplified in turn. The rules:

  arithmetic   x+0, 0+x, x-0, x*1, 1*x, x/1, pow(x,1) -> x; integer x*0 -> 0;
               neg(neg x), not(not x) -> x; abs(abs x) -> abs x;
               max(x,x), min(x,x), and(x,x), or(x,x) -> x;
               select(true, a, b) -> a, select(false, a, b) -> b, select(p, a, a) -> a
  conversion   convert to the same dtype -> x; a lossless round trip
               (f32->f64->f32, i32->i64->i32, bool->any->bool) -> x
  splats       an elementwise op whose operands are all broadcasts of scalars
               becomes the op on the scalars, broadcast once (then folds when
               the scalars are constants); a constant of more than
               FOLD_LIMIT equal elements becomes a broadcast of a scalar
  movement     broadcast/reshape to the same shape -> x; broadcast of
               broadcast, reshape of reshape, transpose of transpose, slice
               of slice, reverse of reverse compose into one op; an identity
               permutation, a slice of the full range, pad by zero, reverse
               over nothing, a one-operand concatenate -> x; a transpose that
               keeps the order of the non-unit dims -> reshape; movement of
               a broadcast scalar -> a broadcast
  dot          a transpose of an operand's last two dims folds into the
               dot's transpose flags; a transpose of a dot's result swaps
               the operands ((AB)^T = B^T A^T)
  reduce       over no axes -> x; over unit axes only -> reshape

x+0 -> x also for floats, as XLA does (it gives -0.0 where IEEE gives +0.0
for x = -0.0); every other rule is exact.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..core import (BINARY_OPS, COMPARE_OPS, FLOATS, UNARY_OPS, Function, Instr, Value)
from .constant_folding import FOLD_LIMIT
from .rewrite import Namer, check_replacement, new_instr, resolve, splat_value, substitute

ELEMENTWISE = frozenset(UNARY_OPS + BINARY_OPS + COMPARE_OPS + ("select", "convert"))
# (from, via): converting from -> via -> from gives back the input exactly.
_LOSSLESS = {("f32", "f64"), ("i32", "i64"), ("i32", "f64")}


def _is(v: Value, c) -> bool:
    s = splat_value(v)
    return s is not None and s == c


class _Rewriter:
    """Rebuilds the body, simplifying each instruction as it is appended."""

    def __init__(self, fn: Function):
        self.fn = fn
        self.namer = Namer(fn)
        self.body: list[Instr] = []
        self.counts = Counter()
        # Uses in the function as given (new values count as unknown).
        self.uses = Counter(o for ins in fn.body for o in ins.operands)
        self.uses.update(fn.results)

    def emit(self, op: str, operands, **attrs) -> Value:
        return self.visit(new_instr(op, operands, attrs, self.namer.fresh()))

    def constant(self, value, dtype) -> Value:
        return self.emit("constant", (), value=np.asarray(value, dtype=dtype))

    def visit(self, ins: Instr) -> Value:
        rule = RULES.get(ins.op) or (_elementwise if ins.op in ELEMENTWISE else None)
        if rule is not None:
            new = rule(ins, self)
            if new is not None and new is not ins.result:
                check_replacement(ins.result, new, f"simplifying {ins.op}")
                self.counts[ins.op] += 1
                return new
        self.body.append(ins)
        return ins.result


# -- elementwise ------------------------------------------------------------

def _elementwise(ins, rw):
    op, ops = ins.op, ins.operands
    x = ops[0]
    y = ops[1] if len(ops) > 1 else None
    dt = ins.type.dtype
    if op == "add":
        if _is(y, 0):
            return x
        if _is(x, 0):
            return y
    elif op == "sub":
        if _is(y, 0):
            return x
    elif op == "mul":
        if _is(y, 1):
            return x
        if _is(x, 1):
            return y
        if dt not in FLOATS:
            if _is(y, 0):
                return y
            if _is(x, 0):
                return x
    elif op in ("div", "pow"):
        if _is(y, 1):
            return x
    elif op in ("max", "min", "and", "or"):
        if x is y:
            return x
    elif op in ("neg", "not"):
        if x.producer is not None and x.producer.op == op:
            return x.producer.operands[0]
    elif op == "abs":
        if x.producer is not None and x.producer.op == "abs":
            return x
    elif op == "convert":
        if x.dtype == dt:
            return x
        p = x.producer
        if p is not None and p.op == "convert":
            src = p.operands[0].dtype
            if src == dt and (src == "bool" or (src, x.dtype) in _LOSSLESS):
                return p.operands[0]
    elif op == "select":
        a, b = ops[1], ops[2]
        if a is b:
            return a
        s = splat_value(x)
        if s is not None:
            return a if bool(s) else b
    return _scalar_broadcasts(ins, rw)


def _scalar_source(v: Value, rw):
    """The rank-0 value `v` broadcasts (or a new scalar constant for a splat), else None."""
    p = v.producer
    if p is None:
        return None
    if p.op == "broadcast" and p.operands[0].type.rank == 0:
        return p.operands[0]
    if p.op == "constant" and v.type.size > 1:
        s = splat_value(v)
        if s is not None:
            return s   # made into a constant only if the rule applies
    return None


def _scalar_broadcasts(ins, rw):
    """op(broadcast(a), broadcast(b)) -> broadcast(op(a, b)) for scalars a, b."""
    if ins.type.rank == 0 or ins.type.size <= 1:
        return None
    srcs = [_scalar_source(o, rw) for o in ins.operands]
    if any(s is None for s in srcs) or not any(isinstance(s, Value) for s in srcs):
        return None
    scalars = [s if isinstance(s, Value) else rw.constant(s, o.type.np_dtype)
               for s, o in zip(srcs, ins.operands)]
    attrs = dict(ins.attrs)
    v = rw.emit(ins.op, scalars, **attrs)
    return rw.emit("broadcast", [v], shape=ins.type.shape, dims=())


def _constant(ins, rw):
    if ins.type.size <= FOLD_LIMIT:
        return None
    s = splat_value(ins.result)
    if s is None:
        return None
    c = rw.constant(s, ins.type.np_dtype)
    return rw.emit("broadcast", [c], shape=ins.type.shape, dims=())


# -- movement ---------------------------------------------------------------

def _producer(v: Value, op: str):
    p = v.producer
    return p if p is not None and p.op == op else None


def _scalar_broadcast(v: Value):
    """The rank-0 operand of `v` = broadcast(scalar), else None."""
    p = _producer(v, "broadcast")
    return p.operands[0] if p is not None and p.operands[0].type.rank == 0 else None


def _broadcast(ins, rw):
    x = ins.operands[0]
    shape, dims = ins.attrs["shape"], ins.attrs["dims"]
    if x.shape == tuple(shape):
        return x
    p = _producer(x, "broadcast")
    if p is not None:
        inner = p.attrs["dims"]
        return rw.emit("broadcast", [p.operands[0]], shape=shape,
                       dims=[dims[d] for d in inner])
    return None


def _reshape(ins, rw):
    x = ins.operands[0]
    shape = tuple(ins.attrs["shape"])
    if x.shape == shape:
        return x
    p = _producer(x, "reshape")
    if p is not None:
        return rw.emit("reshape", [p.operands[0]], shape=shape)
    s = _scalar_broadcast(x)
    if s is not None:
        return rw.emit("broadcast", [s], shape=shape, dims=())
    return None


def _swaps_last_two(perm) -> bool:
    r = len(perm)
    return r >= 2 and tuple(perm) == tuple(range(r - 2)) + (r - 1, r - 2)


def _transpose(ins, rw):
    x = ins.operands[0]
    perm = tuple(ins.attrs["perm"])
    if perm == tuple(range(len(perm))):
        return x
    p = _producer(x, "transpose")
    if p is not None:
        inner = p.attrs["perm"]
        return rw.emit("transpose", [p.operands[0]], perm=[inner[i] for i in perm])
    s = _scalar_broadcast(x)
    if s is not None:
        return rw.emit("broadcast", [s], shape=ins.type.shape, dims=())
    d = _producer(x, "dot")
    if d is not None and _swaps_last_two(perm) and rw.uses.get(x) == 1:
        # Only when the transpose is the dot's one user: never two matmuls.
        a, b = d.operands
        return rw.emit("dot", [b, a], transpose_a=not d.attrs.get("transpose_b", False),
                       transpose_b=not d.attrs.get("transpose_a", False))
    # Moving only unit dims keeps the row-major order: a reshape.
    moved = [p for p in perm if x.shape[p] != 1]
    if moved == sorted(moved):
        return rw.emit("reshape", [x], shape=ins.type.shape)
    return None


def _slice(ins, rw):
    x = ins.operands[0]
    st, li, sd = ins.attrs["start"], ins.attrs["limit"], ins.attrs["stride"]
    if all(a == 0 for a in st) and tuple(li) == x.shape and all(s == 1 for s in sd):
        return x
    s = _scalar_broadcast(x)
    if s is not None:
        return rw.emit("broadcast", [s], shape=ins.type.shape, dims=())
    p = _producer(x, "slice")
    if p is not None:
        st0, sd0 = p.attrs["start"], p.attrs["stride"]
        start, stride, limit = [], [], []
        for n, a0, s0, a1, s1 in zip(ins.type.shape, st0, sd0, st, sd):
            a = a0 + a1 * s0
            s = s0 * s1
            start.append(a)
            stride.append(s)
            limit.append(a + (n - 1) * s + 1 if n else a)
        return rw.emit("slice", [p.operands[0]], start=start, limit=limit, stride=stride)
    return None


def _reverse(ins, rw):
    x = ins.operands[0]
    axes = sorted({a for a in ins.attrs["axes"] if x.shape[a] > 1})
    if not axes:
        return x
    p = _producer(x, "reverse")
    if p is not None:
        inner = sorted({a for a in p.attrs["axes"] if x.shape[a] > 1})
        both = sorted(set(axes) ^ set(inner))
        return rw.emit("reverse", [p.operands[0]], axes=both)
    if len(axes) != len(ins.attrs["axes"]):
        return rw.emit("reverse", [x], axes=axes)
    return None


def _pad(ins, rw):
    if not any(ins.attrs["low"]) and not any(ins.attrs["high"]):
        return ins.operands[0]
    return None


def _concatenate(ins, rw):
    if len(ins.operands) == 1:
        return ins.operands[0]
    return None


def _reduce(ins, rw):
    x = ins.operands[0]
    axes = ins.attrs["axes"]
    if not axes:
        return x
    if all(x.shape[a] == 1 for a in axes):
        return rw.emit("reshape", [x], shape=ins.type.shape)
    return None


def _dot(ins, rw):
    a, b = ins.operands
    ta = ins.attrs.get("transpose_a", False)
    tb = ins.attrs.get("transpose_b", False)
    pa, pb = _producer(a, "transpose"), _producer(b, "transpose")
    fold_a = pa is not None and _swaps_last_two(pa.attrs["perm"])
    fold_b = pb is not None and _swaps_last_two(pb.attrs["perm"])
    if not (fold_a or fold_b):
        return None
    return rw.emit("dot", [pa.operands[0] if fold_a else a, pb.operands[0] if fold_b else b],
                   transpose_a=(not ta) if fold_a else ta,
                   transpose_b=(not tb) if fold_b else tb)


RULES = {
    "constant": _constant,
    "broadcast": _broadcast,
    "reshape": _reshape,
    "transpose": _transpose,
    "slice": _slice,
    "reverse": _reverse,
    "pad": _pad,
    "concatenate": _concatenate,
    "reduce": _reduce,
    "dot": _dot,
}


def run(fn: Function) -> dict:
    """Simplifies every instruction once, in body order (a rule's output is
    itself simplified, so chains collapse in one run)."""
    rw = _Rewriter(fn)
    subst = {}
    for ins in fn.body:
        ins.operands = [resolve(subst, o) for o in ins.operands]
        v = rw.visit(ins)
        if v is not ins.result:
            subst[ins.result] = v
    fn.body = rw.body
    substitute(fn, subst)
    stats = {"simplified": sum(rw.counts.values())}
    if rw.counts:
        stats["rules"] = dict(sorted(rw.counts.items()))
    return stats
