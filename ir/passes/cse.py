"""Common-subexpression elimination: one instruction per distinct computation.

Two instructions are the same computation when they have the same op, the
same operands (in canonical order for commutative ops) and equal attributes;
constants compare by dtype, shape and value bytes (so -0.0 and 0.0, or two
NaNs of different bits, stay apart). `rng` is never merged: two random ops
draw independent streams even with equal attributes, as in TensorFlow.
"""
from __future__ import annotations

import numpy as np

from ..core import Function
from .rewrite import resolve, substitute

COMMUTATIVE = frozenset(("add", "mul", "max", "min", "and", "or", "eq", "ne"))
NEVER_MERGE = frozenset(("rng",))


def _attr_key(v):
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape, np.ascontiguousarray(v).tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_attr_key(x) for x in v)
    if isinstance(v, float):
        # Bit-exact, so 0.0 and -0.0 differ and NaN equals itself.
        return ("float", np.float64(v).tobytes())
    return (type(v).__name__, v)


def instr_key(ins, order: dict):
    """A hashable description of what `ins` computes (`order` numbers the values)."""
    ops = [order[o] for o in ins.operands]
    if ins.op in COMMUTATIVE:
        ops.sort()
    attrs = tuple(sorted((k, _attr_key(v)) for k, v in ins.attrs.items()))
    return (ins.op, tuple(ops), attrs, ins.type.shape, ins.type.dtype)


def run(fn: Function) -> dict:
    order = {p: i for i, p in enumerate(fn.params)}
    seen = {}
    subst = {}
    body = []
    for ins in fn.body:
        ins.operands = [resolve(subst, o) for o in ins.operands]
        if ins.op not in NEVER_MERGE:
            key = instr_key(ins, order)
            first = seen.get(key)
            if first is not None:
                subst[ins.result] = first
                continue
            seen[key] = ins.result
        order[ins.result] = len(order)
        body.append(ins)
    merged = len(fn.body) - len(body)
    fn.body = body
    substitute(fn, subst)
    return {"merged": merged}
