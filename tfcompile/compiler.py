"""From a lowered IR function to a callable executable: runs the optimization
pipeline (unless turned off), compiles through LLVM, and binds buffers.

The executable is called with numpy arrays only to pass pointers: all the
arithmetic is the compiled code's.
"""
from __future__ import annotations

import os
import time

import cffi
import numpy as np


_ffi = cffi.FFI()


class CompileOptions:
    def __init__(self, optimize=True, num_threads=None, dump_dir=None, backend="llvm"):
        self.optimize = optimize
        self.backend = backend
        self.num_threads = num_threads
        self.dump_dir = dump_dir

    @classmethod
    def from_config(cls, config):
        opt = getattr(config, "tfc_optimize", None)
        if opt is None:
            env = os.environ.get("TFC_OPT")
            opt = env not in ("0", "false", "off") if env is not None else True
            try:
                if config.graph_options.optimizer_options.opt_level == -1:
                    opt = False
            except AttributeError:
                pass
        threads = getattr(config, "intra_op_parallelism_threads", 0) or None
        return cls(optimize=bool(opt), num_threads=threads,
                   dump_dir=os.environ.get("TFC_DUMP") or None,
                   backend=os.environ.get("TFC_BACKEND", "llvm"))


def _aligned_empty(nbytes, align=64):
    raw = np.empty(nbytes + align, np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + nbytes]


class Executable:
    """A compiled function bound to the entry ABI `int32_t f(void **buffers)`."""

    def __init__(self, fn, compiled, stats):
        self.fn = fn
        self.compiled = compiled
        self.stats = stats
        self.n_params = len(fn.params)
        self.n_results = len(fn.results)
        self._entry = getattr(compiled, "entry", None)
        self._arena = _aligned_empty(max(int(compiled.arena_bytes), 1))
        self._ptrs = _ffi.new("void *[]", self.n_params + self.n_results + 1)
        self._ptrs[self.n_params + self.n_results] = _ffi.cast("void *", self._arena.ctypes.data)
        self._dummy = _aligned_empty(64)
        self._dummy_c = _ffi.from_buffer(self._dummy)

    def call(self, args, outs):
        """Runs on `args` (param arrays), writing `outs` (result arrays).

        The arrays must be C-contiguous with the IR's dtypes and shapes (the
        callers check); cffi's from_buffer is the cheapest way to their pointers."""
        if self._entry is None:
            return self.compiled.call(args, outs)
        fb = _ffi.from_buffer
        dummy = self._dummy_c
        keep = [fb(a) if a.nbytes else dummy for a in args]
        keep += [fb(a) if a.nbytes else dummy for a in outs]
        self._ptrs[0:len(keep)] = keep
        rc = self._entry(self._ptrs)
        if rc != 0:
            raise RuntimeError(f"compiled function {self.compiled.symbol} failed with code {rc}")


class _InterpretedFunction:
    """The reference interpreter behind the same interface: a debugging oracle
    selected only by TFC_BACKEND=interpreter (like XLA's interpreter backend),
    never the default run path."""

    symbol = "interpreter"
    arena_bytes = 0

    def __init__(self, fn):
        from .ir.interpreter import run_function
        self._run = run_function
        self.fn = fn

    def call(self, args, outs):
        for o, v in zip(outs, self._run(self.fn, args)):
            o[...] = v


def compile_lowered(fn, options: CompileOptions) -> Executable:
    stats = {}
    t0 = time.perf_counter()
    kernels = None
    if options.optimize:
        try:
            from .ir.passes.pipeline import optimize as _optimize
        except ImportError:
            _optimize = None
        if _optimize is not None:
            fn, kernels, pass_stats = _optimize(fn, dump_dir=options.dump_dir)
            stats["passes"] = pass_stats
    stats["optimize_s"] = time.perf_counter() - t0
    if options.backend == "interpreter":
        compiled = _InterpretedFunction(fn)
    else:
        from .ir.compiler import compile_function
        compiled = compile_function(fn, kernels=kernels)
    stats["compile_s"] = time.perf_counter() - t0 - stats["optimize_s"]
    return Executable(fn, compiled, stats)
