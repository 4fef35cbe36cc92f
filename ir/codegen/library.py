"""The process's compiled copy of the GEMM library (ir/codegen/gemm.py).

JIT-compiled modules only declare the library functions they call
(`generate(..., library="extern")`); `ensure(symbols)` makes those symbols
resolvable before such a module is linked: it compiles each library
function (one module per function and dtype) once per process, keeps its
object code in the disk cache so that later processes only load it, and
registers the function's address with LLVM's symbol table. The disk cache
entry is keyed by the function, the host and `code_version()` (a hash of the
compiler's sources), so a warm load does not even generate the IR.

`preload()` does this for every float32 function ahead of time; the first
compilation of a process calls it when the disk cache is on, so the one-time
build (or load) is a start-up cost of the runtime, like building the thread
pool. Without the disk cache each function is built when first needed.
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
_modules: dict = {}          # (dtype, kind) -> JITModule (kept alive: its code is in use)
stats: dict = {}             # symbol -> {"seconds": .., "cache_hit": ..}


def _parse(symbol: str):
    """(dtype, kind) of a library function's name."""
    if symbol.startswith("tfck_"):
        kind, _, dt = symbol[5:].rpartition("_")
        if kind in gemm.KINDS and dt in ("f32", "f64"):
            return dt, kind
    raise KeyError(f"{symbol!r} is not a GEMM library function")


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


def load(dtype: str, kind: str) -> JITModule:
    """The compiled library function `kind` for `dtype`, its symbol registered."""
    with _lock:
        jit = _modules.get((dtype, kind))
        if jit is None:
            t0 = time.perf_counter()
            sym = gemm.symbol(kind, dtype)
            key = _cache.key(f"gemm-library;{sym}", variant=f"{code_version()};O2")
            obj = _cache.get(key) if _cache.enabled() else None
            if obj is not None:
                jit = JITModule.from_object(obj, name=sym)
            else:
                mod = ir.Module(name=sym)
                gemm.emit_library(mod, dtype, (kind,))
                # Hand-vectorized loops: O2 without the vectorizers compiles fast.
                jit = JITModule(str(mod), opt_level=2, name=sym, vectorize=False,
                                keep_object=_cache.enabled())
                if jit.object is not None:
                    _cache.put(key, jit.object)
            llvm.add_symbol(sym, jit.address(sym))
            _modules[(dtype, kind)] = jit
            stats[sym] = {"seconds": time.perf_counter() - t0, "cache_hit": obj is not None}
        return jit


def address(symbol: str) -> int:
    """The address of a library function (built or loaded if needed)."""
    dt, kind = _parse(symbol)
    return load(dt, kind).address(symbol)


def ensure(symbols) -> None:
    """Loads every library function that `symbols` name."""
    for sym in symbols:
        dt, kind = _parse(sym)
        if (dt, kind) not in _modules:
            load(dt, kind)


def preload(dtypes=("f32",)) -> None:
    for dt in dtypes:
        for kind in gemm.KINDS:
            if (dt, kind) not in _modules:
                load(dt, kind)


__all__ = ["load", "address", "ensure", "preload", "stats", "code_version"]
