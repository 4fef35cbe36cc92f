"""The optimization pipeline: the passes in order, each with why it is there.

    fn, kernels, stats = optimize(fn, dump_dir=None, verify=None)

`optimize` works on a copy (the caller's function is left as it was) and
returns the optimized function, its kernel schedule for
`ir.compiler.compile_function(fn, kernels=...)`, and per-pass statistics.
The simplification passes repeat as a group until a round changes nothing
(at most MAX_ROUNDS), then fusion groups what is left into kernels.

The verifier runs after every pass when `verify` is true, when TFC_VERIFY=1,
or under pytest; it also checks that the pass kept the function's signature
(parameters and their names, results in order with their names and types,
and the aliases of updated variables), and, after fusion, the schedule.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

from ..core import Function, IRError
from ..verifier import verify_function
from . import constant_folding, cse, dce, dump, fusion, simplify
from .buffers import check_schedule
from .rewrite import clone_function


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Function], dict]
    reason: str


# Repeated as a group until nothing changes: each can expose work for the others.
SIMPLIFICATION = [
    Pass("constant_folding", constant_folding.run,
         "compute once, at compile time, what depends only on constants"),
    Pass("simplify", simplify.run,
         "algebraic identities and canonical movement ops: less work, more for CSE to share"),
    Pass("cse", cse.run,
         "one instruction per distinct computation, so fusion sees the real sharing"),
    Pass("dce", dce.run,
         "drop what no result needs (folded inputs, replaced values)"),
]
FUSION = Pass("fusion", fusion.run,
              "group into kernels, each one loop nest: values inside a kernel never touch "
              "memory, and none costly is computed again for each of several reads")
PASSES = SIMPLIFICATION + [FUSION]
MAX_ROUNDS = 4
# The statistic of each pass that says it changed something.
_CHANGE_KEYS = ("folded", "simplified", "merged", "removed")


def verify_enabled(verify=None) -> bool:
    if verify is not None:
        return bool(verify)
    return os.environ.get("TFC_VERIFY") == "1" or "PYTEST_CURRENT_TEST" in os.environ


def _signature(fn: Function):
    return (list(fn.params), list(fn.param_names), [r.type for r in fn.results],
            list(fn.result_names), dict(fn.aliases))


def _check(fn: Function, signature, pass_name: str):
    try:
        verify_function(fn)
    except IRError as e:
        raise IRError(f"after pass {pass_name}: {e}") from e
    if _signature(fn) != signature:
        raise IRError(f"after pass {pass_name}: the function's signature changed "
                      "(parameters, results, their names or aliases)")


def optimize(fn: Function, dump_dir: str | None = None, verify: bool | None = None):
    """Optimizes a copy of `fn`; returns (fn, kernels, stats). See the module doc."""
    checking = verify_enabled(verify)
    root = dump_dir or dump.current_dump_dir()
    if checking:
        verify_function(fn)
    fn = clone_function(fn)
    signature = _signature(fn)
    dumper = dump.Dumper(root, fn.name) if root else None
    if dumper:
        dumper.function("input", fn)

    t_start = time.perf_counter()
    stats = {"ops_in": len(fn.body), "passes": [], "rounds": 0,
             "dump_dir": dumper.path if dumper else None}
    totals = dict.fromkeys(_CHANGE_KEYS, 0)

    def run_pass(p: Pass, round_no: int) -> dict:
        before = len(fn.body)
        t0 = time.perf_counter()
        st = p.run(fn)
        rec = {"pass": p.name, "round": round_no, "ops_before": before,
               "ops_after": len(fn.body), "time_s": time.perf_counter() - t0}
        rec.update(st)
        stats["passes"].append(rec)
        if checking:
            _check(fn, signature, p.name)
        if dumper:
            dumper.function(f"after-{p.name}", fn)
        return st

    for round_no in range(1, MAX_ROUNDS + 1):
        stats["rounds"] = round_no
        changed = False
        for p in SIMPLIFICATION:
            st = run_pass(p, round_no)
            for k in _CHANGE_KEYS:
                if st.get(k):
                    totals[k] += st[k]
                    changed = True
        if not changed:
            break

    fst = run_pass(FUSION, 1)
    kernels = fst.pop("groups")
    kinds = fst.pop("kinds")
    stats["passes"][-1].pop("groups", None)
    stats["passes"][-1].pop("kinds", None)
    if checking:
        try:
            check_schedule(fn, kernels)
        except IRError as e:
            raise IRError(f"after pass fusion: bad kernel schedule: {e}") from e
    if dumper:
        dumper.kernels(fn, kernels, kinds)

    stats.update(totals)
    stats.update({k: v for k, v in fst.items()})
    stats["kernel_kinds"] = _count(kinds)
    stats["ops_out"] = len(fn.body)
    stats["time_s"] = time.perf_counter() - t_start
    return fn, kernels, stats


def _count(kinds):
    out = {}
    for k in kinds:
        out[k] = out.get(k, 0) + 1
    return out


def describe() -> str:
    """The pipeline as text: one line per pass with its reason."""
    lines = [f"{i + 1}. {p.name}: {p.reason}" for i, p in enumerate(PASSES)]
    lines.insert(len(SIMPLIFICATION), f"   (1-{len(SIMPLIFICATION)} repeat until nothing "
                 f"changes, at most {MAX_ROUNDS} rounds)")
    return "\n".join(lines)


__all__ = ["optimize", "PASSES", "SIMPLIFICATION", "FUSION", "Pass", "describe",
           "verify_enabled", "MAX_ROUNDS"]
