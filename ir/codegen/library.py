"""The process's compiled copy of the GEMM library (ir/codegen/gemm.py).

JIT-compiled modules only declare the library functions they call
(`generate(..., library="extern")`); `ensure(symbols)` makes those symbols
resolvable before such a module is linked: it compiles the library module
of each dtype once per process (all its functions together, cached on disk
by the JIT's object cache like any module, so later processes only load it)
and registers the functions' addresses with LLVM's symbol table.

`preload()` does this for float32 ahead of time; the first compilation of
a process calls it when the disk cache is on, so the one-time build (or
load) is a start-up cost of the runtime, like building the thread pool.
"""
from __future__ import annotations

import threading
import time

import llvmlite.binding as llvm
import llvmlite.ir as ir

from ...runtime.jit import JITModule
from . import gemm

_lock = threading.RLock()
_modules: dict = {}          # dtype -> JITModule (kept alive: its code is in use)
stats: dict = {}             # dtype -> {"seconds": .., "cache_hit": ..}


def _dtype_of(symbol: str) -> str:
    dt = symbol.rsplit("_", 1)[-1]
    if not symbol.startswith("tfck_") or dt not in ("f32", "f64"):
        raise KeyError(f"{symbol!r} is not a GEMM library function")
    return dt


def load(dtype: str) -> JITModule:
    """The compiled library for `dtype`, with its symbols registered."""
    with _lock:
        jit = _modules.get(dtype)
        if jit is None:
            t0 = time.perf_counter()
            mod = ir.Module(name=f"tfck_{dtype}")
            fns = gemm.emit_library(mod, dtype)
            # Hand-vectorized loops: O2 without the vectorizers compiles fast.
            jit = JITModule(str(mod), opt_level=2, name=mod.name, cache=True, vectorize=False)
            for fn in fns.values():
                llvm.add_symbol(fn.name, jit.address(fn.name))
            _modules[dtype] = jit
            stats[dtype] = {"seconds": time.perf_counter() - t0, "cache_hit": jit.cache_hit}
        return jit


def ensure(symbols) -> None:
    """Loads the library of every dtype that `symbols` name."""
    for dt in sorted({_dtype_of(s) for s in symbols}):
        if dt not in _modules:
            load(dt)


def preload(dtypes=("f32",)) -> None:
    for dt in dtypes:
        load(dt)


__all__ = ["load", "ensure", "preload", "stats"]
