"""The JIT: LLVM IR text in, callable native entry points out.

Every compiled function has one ABI: `int32_t entry(void **buffers)`, where
`buffers` holds pointers to the parameters, then the results, then the arena.
A non-zero return is an error code (see `ERRORS`).
"""
from __future__ import annotations

import time

import cffi
import llvmlite.binding as llvm

from .llvm_target import init_native, optimize, target_machine

_ffi = cffi.FFI()
ENTRY_CTYPE = "int32_t(*)(void **)"


class JITModule:
    """An LLVM module compiled into this process; keeps the engine alive."""

    def __init__(self, llvm_ir: str, opt_level: int = 3, name: str = "tfc"):
        init_native()
        self.timings = {}
        t0 = time.perf_counter()
        mod = llvm.parse_assembly(llvm_ir)
        mod.name = name
        mod.verify()
        self.tm = target_machine()
        mod.triple = self.tm.triple
        mod.data_layout = str(self.tm.target_data)
        t1 = time.perf_counter()
        if opt_level > 0:
            optimize(mod, self.tm, opt_level)
        t2 = time.perf_counter()
        self.optimized_ir = str(mod)
        self.engine = llvm.create_mcjit_compiler(mod, self.tm)
        self.engine.finalize_object()
        self.engine.run_static_constructors()
        t3 = time.perf_counter()
        self.module = mod
        self.timings = {"llvm_parse": t1 - t0, "llvm_opt": t2 - t1, "llvm_codegen": t3 - t2}

    def address(self, symbol: str) -> int:
        addr = self.engine.get_function_address(symbol)
        if not addr:
            raise KeyError(f"symbol {symbol!r} not found in the compiled module")
        return addr

    def entry(self, symbol: str):
        """The cffi function pointer of `int32_t symbol(void **)`."""
        return _ffi.cast(ENTRY_CTYPE, self.address(symbol))

    def asm(self) -> str:
        return self.tm.emit_assembly(llvm.parse_assembly(self.optimized_ir))
