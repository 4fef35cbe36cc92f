"""Dead-code elimination: instructions whose values no result needs are removed.

Every op is a pure function of its operands (`rng` too: its value is fixed by
the seeds and the counter operand), so anything the results don't reach can
go. Parameters are never removed: they are the function's signature.
"""
from __future__ import annotations

from ..core import Function


def run(fn: Function) -> dict:
    live = set(fn.results)
    for ins in reversed(fn.body):
        if ins.result in live:
            live.update(ins.operands)
    before = len(fn.body)
    fn.body = [ins for ins in fn.body if ins.result in live]
    return {"removed": before - len(fn.body)}
