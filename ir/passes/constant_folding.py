"""Constant folding: instructions whose operands are all constants become
constants, evaluated by the reference interpreter (the oracle of the op
semantics, so folding can't disagree with the codegen's definition).

Limits keep large constants out of the compiled module: a result of more
than FOLD_LIMIT elements is folded only when it is no bigger than the
constants it consumes (a slice or a reduce of a constant, an elementwise op
of constants), so a broadcast or an iota of a scalar into a big shape stays
a broadcast (the codegen turns it into a register splat). `rng` is never
folded: its value depends on the counter the session advances.
"""
from __future__ import annotations

from ..core import Function
from ..interpreter import evaluate

FOLD_LIMIT = 1024        # elements a folded constant may have regardless of its inputs
NEVER_FOLD = frozenset(("constant", "rng"))


def foldable(ins) -> bool:
    """Whether `ins` may be replaced by its value (all operands constant, size limits)."""
    if ins.op in NEVER_FOLD:
        return False
    if any(o.producer is None or o.producer.op != "constant" for o in ins.operands):
        return False
    size = ins.type.size
    if size <= FOLD_LIMIT:
        return True
    return ins.type.nbytes <= sum(o.type.nbytes for o in ins.operands)


def run(fn: Function) -> dict:
    """Folds in body order, so chains of constant computations collapse in one pass."""
    folded = 0
    for ins in fn.body:
        if not foldable(ins):
            continue
        value = evaluate(ins, [o.producer.attrs["value"] for o in ins.operands])
        # Turned into a constant in place: the Value (and every use of it) stays.
        ins.op = "constant"
        ins.operands = []
        ins.attrs = {"value": value}
        folded += 1
    return {"folded": folded}
