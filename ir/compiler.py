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
"""
from __future__ import annotations

import functools
import time

import cffi
import numpy as np

from ..runtime.jit import JITModule
from .codegen.cpu import CpuModule, generate
from .core import DTYPES, NP_TO_IR, Function

_ffi = cffi.FFI()
ARENA_ALIGN = 64


@functools.lru_cache(maxsize=None)
def threads_available() -> bool:
    """Whether the runtime's thread pool can be linked into JIT code."""
    try:
        from ..runtime import native
        native.native_lib()
        # llvmlite quotes names (@"tfc_parallel_for"), so register up front.
        native.register_with_llvm()
        return True
    except Exception:   # no C compiler, or the build failed: run single-threaded
        return False


class CompiledFunction:
    """Native code for one Function, callable with numpy arrays."""

    def __init__(self, fn: Function, cpu: CpuModule, jit: JITModule, stats: dict):
        self.function = fn
        self._cpu = cpu
        self._jit = jit
        self.symbol = cpu.symbol
        self.entry = jit.entry(cpu.symbol)
        self.num_params = cpu.num_params
        self.num_results = cpu.num_results
        self.arena_bytes = cpu.arena_bytes
        self.llvm_ir = cpu.llvm_ir
        self.stats = stats
        self._param_types = [p.type for p in fn.params]
        self._result_types = [r.type for r in fn.results]

    @property
    def optimized_ir(self) -> str:
        return self._jit.optimized_ir

    @property
    def buffers(self):
        return self._cpu.buffers

    def asm(self) -> str:
        return self._jit.asm()

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
                     cache: bool = False) -> CompiledFunction:
    """Compiles `fn` (kernels: groups of its instructions, in run order)."""
    t0 = time.perf_counter()
    # Asking for threads without a working pool compiles single-threaded code.
    parallel = threads_available() if parallel is None else bool(parallel) and threads_available()
    cpu = generate(fn, kernels, name=name, parallel=parallel, reuse=reuse)
    t1 = time.perf_counter()
    jit = JITModule(cpu.llvm_ir, opt_level=opt_level, name=name, cache=cache)
    t2 = time.perf_counter()
    stats = dict(cpu.stats)
    stats.update({k: v for k, v in jit.timings.items()})
    stats["time_generate"] = t1 - t0
    stats["time_jit"] = t2 - t1
    stats["time_total"] = t2 - t0
    return CompiledFunction(fn, cpu, jit, stats)


__all__ = ["compile_function", "CompiledFunction", "threads_available"]
