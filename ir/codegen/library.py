"""The process's compiled copy of the GEMM library (ir/codegen/gemm.py).

JIT-compiled modules only declare the library functions they call
(`generate(..., library="extern")`); `ensure(symbols)` makes those symbols
resolvable before such a module is linked: it compiles the library module
of each dtype once per process (all its functions together, cached on disk
by the JIT's object cache like any module, so later processes only load it)
and registers the functions' addresses with LLVM's symbol table. The disk
cache entry is keyed by the dtype, the host and `code_version()` (a hash of
the compiler's sources), so a warm load does not even generate the IR.

`preload()` does this for float32 ahead of time; the first compilation of
a process calls it when the disk cache is on, so the one-time build (or
load) is a start-up cost of the runtime, like building the thread pool.
"""
from __future__ import annotations

import functools
import hashlib
import threading
import time
from pathlib import Path

import llvmlite.binding as llvm
import llvmlite.ir as ir

from ...runtime import cache as _cache
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


@functools.lru_cache(maxsize=None)
def code_version() -> str:
    """A hash of the compiler's own sources (ir/ and runtime/): cached code made by
    other sources is never used, even when the package version is the same."""
    h = hashlib.sha256()
    roots = [Path(__file__).resolve().parent.parent, Path(_cache.__file__).resolve().parent]
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.suffix in (".py", ".c", ".h") and "__pycache__" not in p.parts:
                h.update(p.relative_to(root).as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:24]


def load(dtype: str) -> JITModule:
    """The compiled library for `dtype`, with its symbols registered."""
    with _lock:
        jit = _modules.get(dtype)
        if jit is None:
            t0 = time.perf_counter()
            name = f"tfck_{dtype}"
            symbols = [gemm.symbol(k, dtype) for k in gemm.KINDS]
            key = _cache.key(f"gemm-library;{dtype}", variant=f"{code_version()};O2")
            obj = _cache.get(key) if _cache.enabled() else None
            if obj is not None:
                jit = JITModule.from_object(obj, name=name)
            else:
                mod = ir.Module(name=name)
                gemm.emit_library(mod, dtype)
                # Hand-vectorized loops: O2 without the vectorizers compiles fast.
                jit = JITModule(str(mod), opt_level=2, name=name, vectorize=False,
                                keep_object=_cache.enabled())
                if jit.object is not None:
                    _cache.put(key, jit.object)
            for sym in symbols:
                llvm.add_symbol(sym, jit.address(sym))
            _modules[dtype] = jit
            stats[dtype] = {"seconds": time.perf_counter() - t0, "cache_hit": obj is not None}
        return jit


def ensure(symbols) -> None:
    """Loads the library of every dtype that `symbols` name."""
    for dt in sorted({_dtype_of(s) for s in symbols}):
        if dt not in _modules:
            load(dt)


def preload(dtypes=("f32",)) -> None:
    for dt in dtypes:
        load(dt)


__all__ = ["load", "ensure", "preload", "stats", "code_version"]
