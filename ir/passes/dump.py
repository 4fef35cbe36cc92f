"""Compilation dumps: what the compiler saw and made, one file per step.

Turned on by `TFC_DUMP=<dir>` in the environment or `dump_to(dir)` from
Python (like XLA's --xla_dump_to). Each optimized function gets its own
folder `<dir>/<NNNN>-<function name>/` holding, in pipeline order,

    00-input.ir                     the IR as given
    01-after-constant_folding.ir    the IR after each pass
    ...
    NN-after-fusion.ir
    NN-kernels.txt                  the kernel grouping: roots and members
    NN-llvm.ll, NN-llvm-opt.ll      LLVM IR as generated and as optimized
    NN-asm.s                        the machine code

The last three come from `dump_compiled(folder, compiled)`, the hook the
compiler calls once the optimized function is compiled (the folder is in
the pipeline's statistics as "dump_dir").
"""
from __future__ import annotations

import os
import re

from ..text import print_function

_dump_dir = None


def dump_to(directory: str | None) -> str | None:
    """Dumps every function optimized from now on into `directory` (None: stop,
    unless TFC_DUMP is set). Returns the previous setting."""
    global _dump_dir
    previous = _dump_dir
    _dump_dir = os.fspath(directory) if directory is not None else None
    return previous


def current_dump_dir() -> str | None:
    """Where dumps go now: the dump_to() setting, else $TFC_DUMP, else None."""
    return _dump_dir or os.environ.get("TFC_DUMP") or None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64] or "function"


class Dumper:
    """Writes numbered files for one function into a fresh folder under `root`."""

    def __init__(self, root: str, fn_name: str):
        os.makedirs(root, exist_ok=True)
        taken = [int(m.group(1)) for m in (re.match(r"(\d+)-", e) for e in os.listdir(root)) if m]
        seq = max(taken, default=-1) + 1
        while True:
            path = os.path.join(root, f"{seq:04d}-{_safe(fn_name)}")
            try:
                os.makedirs(path)
                break
            except FileExistsError:      # another compilation took this number
                seq += 1
        self.path = path
        self.n = 0

    def write(self, label: str, text: str, ext: str = "ir") -> str:
        name = os.path.join(self.path, f"{self.n:02d}-{label}.{ext}")
        self.n += 1
        with open(name, "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        return name

    def function(self, label: str, fn) -> str:
        return self.write(label, print_function(fn))

    def kernels(self, fn, kernels, kinds=None) -> str:
        return self.write("kernels", format_kernels(fn, kernels, kinds), "txt")


def format_kernels(fn, kernels, kinds=None) -> str:
    """The kernel grouping, readably: per kernel its kind, outputs and members."""
    needed = set(fn.results)
    where = {}
    for k, group in enumerate(kernels):
        for ins in group:
            where[ins.result] = k
    for k, group in enumerate(kernels):
        for ins in group:
            for o in ins.operands:
                if where.get(o, k) != k:
                    needed.add(o)
    lines = [f"// {len(kernels)} kernel(s) for @{fn.name}, in run order"]
    for k, group in enumerate(kernels):
        kind = kinds[k] if kinds else ""
        outs = [i.result for i in group if i.result in needed]
        reads = []
        for ins in group:
            for o in ins.operands:
                if where.get(o, k) != k and (o.producer is None or o.producer.op != "constant") \
                        and o not in reads:
                    reads.append(o)
        lines.append(f"kernel {k} {kind} -> {', '.join('%' + o.name for o in outs)}"
                     f"   reads {', '.join('%' + o.name for o in reads) or 'nothing'}")
        for ins in group:
            lines.append(f"  %{ins.result.name} = {ins.op}"
                         f"({', '.join('%' + o.name for o in ins.operands)}) : {ins.type}")
    return "\n".join(lines)


def dump_compiled(folder: str | None, compiled) -> None:
    """Adds the LLVM IR (as generated and optimized) and the assembly of
    `compiled` (an ir.compiler.CompiledFunction) to a function's dump folder."""
    if not folder:
        return
    taken = [int(m.group(1)) for m in (re.match(r"(\d+)-", e) for e in os.listdir(folder)) if m]
    d = Dumper.__new__(Dumper)
    d.path, d.n = folder, max(taken, default=-1) + 1
    d.write("llvm", compiled.llvm_ir, "ll")
    d.write("llvm-opt", compiled.optimized_ir, "ll")
    d.write("asm", compiled.asm(), "s")
