"""Compile an IR function to native code for this CPU and call it.

    cf = compile_function(fn)                  # one kernel per instruction
    cf = compile_function(fn, kernels=groups)  # fused kernels, in order
    outs = cf.run([x, w])                      # numpy in, numpy out

The compiled entry is `int32_t <name>(void **bufs)` with bufs = [params...,
results..., arena] (see ir/codegen/cpu.py); `run` only checks and moves
data: it allocates the results and a 64-byte aligned arena, packs the
pointers with cffi and calls the entry. A result that updates a parameter in
place (fn.aliases) is written into that parameter's array, which `run` then
returns as the result.

Constants of EXTERNAL_CONST_BYTES or more are not embedded in the LLVM IR
(printing and parsing megabytes of IR text is slow): the module holds a
pointer to each, bound to a numpy array after loading.

Whole compiled functions can be stored in the disk cache (runtime/cache.py)
under a key the caller computes before any optimization (`function_key` of
the function as lowered): `compile_function(..., bundle_key=k)` stores the
object code with what is needed to call it (arena size, constants), and
`load_cached(k, fn)` returns a ready CompiledFunction without running the
passes, the codegen or LLVM.
"""
from __future__ import annotations

import functools
import hashlib
import json
import struct
import time

import cffi
import numpy as np

from ..runtime import cache as _cache
from ..runtime.jit import JITModule
from .codegen import library as _library
from .codegen.library import code_version
from .codegen.cpu import CpuModule, generate
from .core import DTYPES, NP_TO_IR, Function

_ffi = cffi.FFI()
ARENA_ALIGN = 64
EXTERNAL_CONST_BYTES = 1024
_BUNDLE_MAGIC = b"TFCFN\0\1\0"


@functools.lru_cache(maxsize=None)
def threads_available() -> bool:
    """Whether the runtime's thread pool can be linked into JIT code."""
    try:
        from ..runtime import native
        native.native_lib()
        native.register_with_llvm()
        return True
    except Exception:   # no C compiler, or the build failed: run single-threaded
        return False


class CompiledFunction:
    """Native code for one Function, callable with numpy arrays.

    `llvm_ir`, `buffers` and `asm()` describe the generated code; after a
    load from the disk cache they are generated again on first use through
    `regenerate` (a callable returning the CpuModule), if one was given.
    """

    def __init__(self, fn: Function, jit: JITModule, symbol: str, arena_bytes: int,
                 constants, stats: dict, cpu: CpuModule | None = None, regenerate=None):
        self.function = fn
        self._cpu = cpu
        self._regenerate = regenerate
        self._jit = jit
        self.symbol = symbol
        self.entry = jit.entry(symbol)
        self.num_params = len(fn.params)
        self.num_results = len(fn.results)
        self.arena_bytes = int(arena_bytes)
        self.stats = stats
        self._param_types = [p.type for p in fn.params]
        self._result_types = [r.type for r in fn.results]
        self._constants = []
        for name, arr in constants:     # bound once; the arrays live as long as we do
            slot = _ffi.cast("void **", jit.global_address(name))
            slot[0] = _ffi.cast("void *", arr.ctypes.data)
            self._constants.append(arr)

    @property
    def cpu(self) -> CpuModule:
        if self._cpu is None:
            if self._regenerate is None:
                raise RuntimeError(f"{self.symbol}: loaded from the compile cache without a way "
                                   "to regenerate its LLVM IR")
            self._cpu = self._regenerate()
        return self._cpu

    @property
    def llvm_ir(self) -> str:
        return self.cpu.llvm_ir

    @property
    def optimized_ir(self) -> str:
        if self._jit._llvm_ir is None:
            self._jit._llvm_ir = self.llvm_ir
        return self._jit.optimized_ir

    @property
    def buffers(self):
        return self.cpu.buffers

    def asm(self) -> str:
        if self._jit._llvm_ir is None:
            self._jit._llvm_ir = self.llvm_ir
        return self._jit.asm()

    def nest_profile(self):
        """[(kernel, nest kind, function, ticks)] summed over the calls so far, for
        a function compiled with profile=True (time-stamp counter ticks)."""
        sym = self.cpu.profile_symbol if self._cpu is not None else None
        if sym is None:
            raise RuntimeError(f"{self.symbol} was not compiled with profile=True")
        counts = _ffi.cast("int64_t *", self._jit.global_address(sym))
        return [(k, call.kind, call.function.name, int(counts[n]))
                for n, (k, call) in enumerate(self.cpu.nests)]

    def _param_name(self, i):
        names = self.function.param_names
        return names[i] if i < len(names) else self.function.params[i].name

    def _check(self, args):
        fn = self.function
        if len(args) != self.num_params:
            raise ValueError(f"{self.symbol}: expected {self.num_params} argument(s) "
                             f"({', '.join(map(repr, fn.param_names))}), got {len(args)}")
        updated = {p: j for j, p in fn.aliases.items()}
        arrays = []
        for i, (x, t) in enumerate(zip(args, self._param_types)):
            name = self._param_name(i)
            want = DTYPES[t.dtype]
            if isinstance(x, np.ndarray):
                arr = x
            else:
                arr = np.asarray(x)
                if arr.dtype != want and np.can_cast(arr.dtype, want, "same_kind"):
                    arr = arr.astype(want)
            got = f"{NP_TO_IR.get(arr.dtype, str(arr.dtype))}[{','.join(map(str, arr.shape))}]"
            if arr.dtype != want or arr.shape != t.shape:
                raise ValueError(f"{self.symbol}: argument {i} ({name!r}) should be {t}, "
                                 f"got {got}")
            if i in updated:
                if not (arr.flags.c_contiguous and arr.flags.writeable) or arr is not x:
                    rname = fn.result_names[updated[i]]
                    raise ValueError(
                        f"{self.symbol}: argument {i} ({name!r}) is updated in place by result "
                        f"{rname!r}, so it must be a writeable C-contiguous numpy array of {t}")
            elif not arr.flags.c_contiguous:
                arr = np.ascontiguousarray(arr)
            arrays.append(arr)
        return arrays

    def run(self, args) -> list[np.ndarray]:
        """Runs the native code on `args` (one numpy array per parameter)."""
        arrays = self._check(list(args))
        results = []
        for j, t in enumerate(self._result_types):
            p = self.function.aliases.get(j)
            results.append(arrays[p] if p is not None else np.empty(t.shape, DTYPES[t.dtype]))
        arena = np.empty(self.arena_bytes + ARENA_ALIGN, np.uint8)
        shift = (-arena.ctypes.data) % ARENA_ALIGN
        ptrs = _ffi.new("void *[]", self.num_params + self.num_results + 1)
        for i, a in enumerate(arrays + results):
            ptrs[i] = _ffi.cast("void *", a.ctypes.data)
        ptrs[len(arrays) + len(results)] = _ffi.cast("void *", arena.ctypes.data + shift)
        rc = self.entry(ptrs)
        if rc != 0:
            raise RuntimeError(f"{self.symbol}: compiled code returned error code {rc}")
        return results

    __call__ = run


def compile_function(fn: Function, kernels=None, opt_level: int = 3, name: str = "main",
                     parallel: bool | None = None, reuse: bool = True,
                     cache: bool = False, bundle_key: str | None = None,
                     external_constants: int | None = EXTERNAL_CONST_BYTES,
                     regenerate=None, unroll: bool = False,
                     profile: bool = False) -> CompiledFunction:
    """Compiles `fn` (kernels: groups of its instructions, in run order).

    `cache`: look the object code up in the disk cache by its LLVM IR.
    `bundle_key` (from `function_key`): store the compiled function there
    under that key, for `load_cached`. `regenerate` is kept for a later
    `llvm_ir` after such a load.
    """
    t0 = time.perf_counter()
    # Asking for threads without a working pool compiles single-threaded code.
    parallel = threads_available() if parallel is None else bool(parallel) and threads_available()
    cpu = generate(fn, kernels, name=name, parallel=parallel, reuse=reuse,
                   external_constants=external_constants, library="extern", profile=profile)
    t1 = time.perf_counter()
    if _cache.enabled():
        _library.preload()      # once per process; a disk-cache load after the first
    _library.ensure(cpu.library_symbols)
    t_lib = time.perf_counter() - t1
    t1 += t_lib
    store = bundle_key is not None and _cache.enabled()
    # No unrolling: it doubles LLVM's time for little gain on memory-bound loops
    # (matmul tiles, the hot compute, are unrolled by hand in the library).
    jit = JITModule(cpu.llvm_ir, opt_level=opt_level, name=name,
                    cache=cache and not store, keep_object=store, unroll=unroll)
    t2 = time.perf_counter()
    stats = dict(cpu.stats)
    stats.update({k: v for k, v in jit.timings.items()})
    stats["time_generate"] = t1 - t0 - t_lib
    if t_lib > 1e-3:
        stats["time_library"] = t_lib
    stats["time_jit"] = t2 - t1
    cf = CompiledFunction(fn, jit, cpu.symbol, cpu.arena_bytes, cpu.external_constants,
                          stats, cpu=cpu, regenerate=regenerate)
    if store:
        t3 = time.perf_counter()
        _cache.put(bundle_key, _pack_bundle(cpu, jit.object))
        stats["cache_store"] = time.perf_counter() - t3
    stats["time_total"] = time.perf_counter() - t0
    return cf


# ---------------------------------------------------------------- the bundle cache

def _attr_bytes(x, out: list):
    if isinstance(x, np.ndarray):
        out.append(f"A{x.dtype.str}{x.shape}".encode())
        out.append(np.ascontiguousarray(x).tobytes())
    elif isinstance(x, (list, tuple)):
        out.append(b"(")
        for e in x:
            _attr_bytes(e, out)
        out.append(b")")
    elif isinstance(x, dict):
        out.append(b"{")
        for k in sorted(x, key=str):
            out.append(str(k).encode())
            _attr_bytes(x[k], out)
        out.append(b"}")
    elif isinstance(x, float):
        out.append(b"f" + float(x).hex().encode())
    elif isinstance(x, np.generic):
        _attr_bytes(x.item(), out)
    else:   # int, bool, str, None, TensorType
        out.append(f"{type(x).__name__}:{x!r}".encode())
    out.append(b";")


def function_key(fn: Function, extra: str = "") -> str:
    """The cache key of compiling `fn` (its structure, types and constants, not
    its value names), with `extra` naming the caller's options."""
    index = {}
    parts = [b"params"]
    for p in fn.params:
        index[p] = len(index)
        parts.append(f"{p.type};".encode())
    for ins in fn.body:
        parts.append(f"\n{ins.op}({','.join(str(index[o]) for o in ins.operands)}):"
                     f"{ins.result.type}".encode())
        for k in sorted(ins.attrs):
            parts.append(k.encode())
            _attr_bytes(ins.attrs[k], parts)
        index[ins.result] = len(index)
    parts.append(f"\nresults {[index[r] for r in fn.results]} aliases "
                 f"{sorted(fn.aliases.items())}".encode())
    digest = hashlib.sha256(b"".join(parts)).hexdigest()
    return _cache.key(digest, variant=f"function-bundle;{code_version()};{extra}")


def _pack_bundle(cpu: CpuModule, obj: bytes) -> bytes:
    consts, blobs, off = [], [], 0
    for name, arr in cpu.external_constants:
        data = arr.tobytes()
        consts.append([name, arr.dtype.str, list(arr.shape), off, len(data)])
        blobs.append(data)
        off += len(data)
    meta = json.dumps({"symbol": cpu.symbol, "arena_bytes": cpu.arena_bytes,
                       "library": list(cpu.library_symbols),
                       "num_params": cpu.num_params, "num_results": cpu.num_results,
                       "constants": consts, "object_bytes": len(obj)}).encode()
    return b"".join([_BUNDLE_MAGIC, struct.pack("<Q", len(meta)), meta, obj] + blobs)


def _unpack_bundle(blob: bytes):
    if blob[:8] != _BUNDLE_MAGIC:
        raise ValueError("not a compiled-function bundle")
    (n,) = struct.unpack_from("<Q", blob, 8)
    meta = json.loads(blob[16:16 + n])
    start = 16 + n
    obj = blob[start:start + meta["object_bytes"]]
    base = start + meta["object_bytes"]
    consts = []
    for name, dt, shape, off, nbytes in meta["constants"]:
        arr = np.frombuffer(blob, dtype=np.dtype(dt), count=nbytes // np.dtype(dt).itemsize,
                            offset=base + off).reshape(shape).copy()
        consts.append((name, arr))
    return meta, obj, consts


def load_cached(bundle_key: str, fn: Function, regenerate=None) -> CompiledFunction | None:
    """The compiled function stored under `bundle_key`, or None (not there, cache
    disabled, or an entry that does not fit `fn`)."""
    t0 = time.perf_counter()
    blob = _cache.get(bundle_key)
    if blob is None:
        return None
    try:
        meta, obj, consts = _unpack_bundle(blob)
        if meta["num_params"] != len(fn.params) or meta["num_results"] != len(fn.results):
            return None
        _library.ensure(meta.get("library", ()))
        t1 = time.perf_counter()
        jit = JITModule.from_object(obj, name=meta["symbol"])
        stats = {"cache_hit": True, "cache_lookup": t1 - t0,
                 "load": time.perf_counter() - t1}
        cf = CompiledFunction(fn, jit, meta["symbol"], meta["arena_bytes"], consts, stats,
                              regenerate=regenerate)
    except (ValueError, KeyError, TypeError, RuntimeError):
        return None     # an entry this code cannot use: compile again
    stats["time_total"] = time.perf_counter() - t0
    return cf


__all__ = ["compile_function", "CompiledFunction", "threads_available", "function_key",
           "load_cached", "code_version", "EXTERNAL_CONST_BYTES"]
