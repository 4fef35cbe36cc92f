"""Small tools the passes share for rewriting a Function in place.

    clone_function(fn)        a deep copy (new Values and Instrs, same arrays)
    Namer(fn).fresh()         a value name not yet used in fn
    new_instr(op, operands, attrs, name)   an Instr with its type inferred
    users(fn)                 Value -> instructions reading it
    substitute(fn, subst)     rewrites operands and results through a map
    splat_value(v)            the one value every element of v has, if known

Passes keep the function's signature: the parameters (and their names), the
results in order with their names, and the aliases of results to parameters.
Only the body and which values the results point at change.
"""
from __future__ import annotations

import numpy as np

from ..core import Function, Instr, IRError, Value, infer_type, normalize_attrs


def clone_function(fn: Function) -> Function:
    """A copy of `fn` sharing nothing mutable with it (constant arrays are shared:
    passes never write into them)."""
    out = Function(fn.name)
    vmap = {}
    for p in fn.params:
        q = Value(p.type, p.name)
        vmap[p] = q
        out.params.append(q)
    out.param_names = list(fn.param_names)
    for ins in fn.body:
        new = Instr(ins.op, [vmap[o] for o in ins.operands], ins.attrs, ins.type,
                    ins.result.name)
        vmap[ins.result] = new.result
        out.body.append(new)
    out.results = [vmap[r] for r in fn.results]
    out.result_names = list(fn.result_names)
    out.aliases = dict(fn.aliases)
    return out


class Namer:
    """Fresh value names for instructions a pass adds (numbers after the largest used)."""

    def __init__(self, fn: Function):
        self.taken = {p.name for p in fn.params} | {i.result.name for i in fn.body}
        self.n = 1 + max((int(s) for s in self.taken if s.isdigit()), default=-1)

    def fresh(self) -> str:
        while str(self.n) in self.taken:
            self.n += 1
        name = str(self.n)
        self.taken.add(name)
        self.n += 1
        return name


def new_instr(op: str, operands, attrs: dict, name: str) -> Instr:
    """An instruction with normalized attributes and its inferred result type."""
    attrs = normalize_attrs(op, attrs)
    return Instr(op, operands, attrs, infer_type(op, list(operands), attrs), name)


def users(fn: Function) -> dict:
    """Value -> list of instructions that read it (once per instruction)."""
    out = {}
    for ins in fn.body:
        for o in dict.fromkeys(ins.operands):
            out.setdefault(o, []).append(ins)
    return out


def resolve(subst: dict, v: Value) -> Value:
    """Follows a chain of replacements a -> b -> c to its end."""
    while v in subst:
        v = subst[v]
    return v


def substitute(fn: Function, subst: dict) -> None:
    """Replaces every operand and result found in `subst` (chains followed)."""
    if not subst:
        return
    for ins in fn.body:
        ins.operands = [resolve(subst, o) for o in ins.operands]
    fn.results = [resolve(subst, r) for r in fn.results]


def check_replacement(old: Value, new: Value, why: str) -> None:
    if old.type != new.type:
        raise IRError(f"internal: {why} would replace %{old.name} ({old.type}) with "
                      f"%{new.name} ({new.type})")


def constant_of(v: Value):
    """The array of a constant value, else None."""
    ins = v.producer
    if ins is not None and ins.op == "constant":
        return ins.attrs["value"]
    return None


def splat_value(v: Value, depth: int = 8):
    """The one value all elements of `v` have, seen through broadcasts, reshapes
    and transposes of constants; None when unknown (or v has no elements)."""
    ins = v.producer
    while ins is not None and depth > 0:
        if ins.op == "constant":
            arr = ins.attrs["value"]
            if arr.size == 0:
                return None
            flat = arr.reshape(-1)
            first = flat[0]
            if arr.size == 1:
                return first
            if arr.dtype.kind == "f":
                # Bytes, not ==: keeps -0.0 apart from 0.0 and NaNs with NaNs.
                if np.all(flat.view(np.dtype(f"u{arr.itemsize}")) ==
                          flat[:1].view(np.dtype(f"u{arr.itemsize}"))):
                    return first
                return None
            return first if np.all(flat == first) else None
        if ins.op not in ("broadcast", "reshape", "transpose"):
            return None
        ins = ins.operands[0].producer
        depth -= 1
    return None
