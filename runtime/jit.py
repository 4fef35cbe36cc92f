"""The JIT: LLVM IR text in, callable native entry points out.

Every compiled function has one ABI: `int32_t entry(void **buffers)`, where
`buffers` holds pointers to the parameters, then the results, then the arena.
A non-zero return is an error code (see `ERRORS`).

With `cache=True` the object code is looked up in the on-disk compile cache
(runtime/cache.py) under a key of the IR text, the target and the
optimization level. On a hit the object is loaded straight into the engine:
no parsing, optimization or codegen runs. `.optimized_ir`, `.module` and
`.asm()` are always recomputed lazily (parse + optimize again) the first time
they are asked for: they are for people, not for running. On a miss the module is optimized, emitted once as an object
file, stored, and loaded the same way, so hit and miss run the same code.
`vectorize=False` leaves out the loop and SLP vectorizers (for code that is
vectorized already); `unroll=False` leaves out loop unrolling and the SLP
vectorizer (much faster compiles; the loop vectorizer's own interleaving
stays). `keep_object=True` keeps that object code (`.object`) for a caller that stores
it elsewhere, and `JITModule.from_object` loads it back.

Generated code may declare the runtime's native helpers (for example
`declare void @tfc_parallel_for(ptr, ptr, i64, i64)`); they are linked in from
runtime/native.py when the IR mentions them. A module with static
constructors (`llvm.global_ctors`) bypasses the cache: constructors run only
for modules the engine compiles itself.
"""
from __future__ import annotations

import time

import cffi
import llvmlite.binding as llvm

from . import cache as _cache
from .llvm_target import host_cpu, init_native, optimize, target_machine

_ffi = cffi.FFI()
ENTRY_CTYPE = "int32_t(*)(void **)"

# MCJIT takes ownership of its target machine and frees it with the engine, so
# each engine gets a fresh one (never the shared, cached `target_machine()`).
_new_target_machine = getattr(target_machine, "__wrapped__", target_machine)


def _needs_native_helpers(llvm_ir: str) -> bool:
    # llvmlite quotes names with dots or other specials: @"tfc_parallel_for"
    return "@tfc_" in llvm_ir or '@"tfc_' in llvm_ir


class JITModule:
    """An LLVM module compiled into this process; keeps the engine alive.

    `timings` maps stage names to seconds ("llvm_parse", "llvm_opt",
    "llvm_codegen", and with the cache "cache_lookup", "cache_store",
    "load") plus "cache_hit", a bool.
    """

    def __init__(self, llvm_ir: str | None, opt_level: int = 3, name: str = "tfc",
                 cache: bool = False, keep_object: bool = False, vectorize: bool = True,
                 unroll: bool = True, *, _object: bytes | None = None):
        init_native()
        if llvm_ir is not None and _needs_native_helpers(llvm_ir):
            from .native import register_with_llvm
            register_with_llvm()
        self._llvm_ir = llvm_ir
        self._name = name
        self.opt_level = opt_level
        self.vectorize = vectorize
        self.unroll = unroll
        self.tm = _new_target_machine()
        self._module = None
        self._optimized_ir = None
        self._objects = []      # object files handed to the engine
        self.object = None      # the object code, when kept (keep_object or cache)
        self.cache_hit = False
        self.cache_key = None
        self.timings = {"cache_hit": False}
        if _object is not None:
            self.object = _object
            self._load_object(_object)
            return
        # static constructors only run for modules, not for loaded objects
        use_cache = cache and _cache.enabled() and "llvm.global_ctors" not in llvm_ir
        if use_cache:
            t0 = time.perf_counter()
            self.cache_key = self._key()
            obj = _cache.get(self.cache_key)
            self.timings["cache_lookup"] = time.perf_counter() - t0
            if obj is not None:
                self.cache_hit = self.timings["cache_hit"] = True
                self._load_object(obj)
                if keep_object:
                    self.object = obj
                return
        mod, t_parse, t_opt = self._parse_and_optimize()
        self.timings["llvm_parse"], self.timings["llvm_opt"] = t_parse, t_opt
        t2 = time.perf_counter()
        if use_cache or (keep_object and "llvm.global_ctors" not in llvm_ir):
            obj = self.tm.emit_object(mod)
            t3 = time.perf_counter()
            self.timings["llvm_codegen"] = t3 - t2
            if use_cache:
                _cache.put(self.cache_key, obj)
                self.timings["cache_store"] = time.perf_counter() - t3
            if keep_object:
                self.object = obj
            self._load_object(obj)
        else:
            self.engine = llvm.create_mcjit_compiler(mod, self.tm)
            self.engine.finalize_object()
            self.engine.run_static_constructors()
            self.timings["llvm_codegen"] = time.perf_counter() - t2

    @classmethod
    def from_object(cls, obj: bytes, name: str = "tfc", llvm_ir: str | None = None,
                    opt_level: int = 3) -> "JITModule":
        """Loads object code made by an earlier JITModule (`.object`).

        `llvm_ir`, if given, is what `.optimized_ir` and `.asm()` recompute from."""
        if b"tfc_" in obj:
            from .native import register_with_llvm
            register_with_llvm()
        return cls(llvm_ir, opt_level=opt_level, name=name, _object=obj)

    def _key(self) -> str:
        triple, cpu, features = host_cpu()
        return _cache.key(self._llvm_ir, triple, cpu, features,
                          variant=f"jit;O{self.opt_level};vec={self.vectorize};unroll={self.unroll};"
                                  "reloc=default;"
                                  "code=jitdefault")

    def _parse_and_optimize(self):
        if self._llvm_ir is None:
            raise RuntimeError(f"module {self._name!r} was loaded from object code without "
                               "its LLVM IR")
        t0 = time.perf_counter()
        try:
            mod = llvm.parse_assembly(self._llvm_ir)
            mod.name = self._name
            mod.verify()
        except RuntimeError as e:
            raise RuntimeError(f"invalid LLVM IR for module {self._name!r}: {e}") from None
        mod.triple = self.tm.triple
        mod.data_layout = str(self.tm.target_data)
        t1 = time.perf_counter()
        if self.opt_level > 0 and self.vectorize and self.unroll:
            optimize(mod, self.tm, self.opt_level)
        elif self.opt_level > 0:
            pto = llvm.create_pipeline_tuning_options(speed_level=self.opt_level)
            pto.loop_vectorization = self.vectorize and self.opt_level >= 2
            # The SLP vectorizer finds little in loop nests; skipped whenever
            # compile time is asked for.
            pto.slp_vectorization = False
            pto.loop_unrolling = self.unroll
            pb = llvm.create_pass_builder(self.tm, pto)
            pb.getModulePassManager().run(mod, pb)
        return mod, t1 - t0, time.perf_counter() - t1

    def _load_object(self, obj: bytes) -> None:
        """Links object code into a fresh engine over an empty module."""
        t0 = time.perf_counter()
        empty = llvm.parse_assembly("")
        empty.name = self._name
        empty.triple = self.tm.triple
        empty.data_layout = str(self.tm.target_data)
        self.engine = llvm.create_mcjit_compiler(empty, self.tm)
        ref = llvm.ObjectFileRef.from_data(bytes(obj))
        self._objects.append(ref)
        self.engine.add_object_file(ref)
        self.engine.finalize_object()
        self.timings["load"] = time.perf_counter() - t0

    @property
    def module(self):
        """The optimized llvmlite module, recomputed on first use (code generation
        changes the module it compiles, so that one is not kept)."""
        if self._module is None:
            self._module, _, _ = self._parse_and_optimize()
        return self._module

    @property
    def optimized_ir(self) -> str:
        """The optimized LLVM IR text (recomputed after a cache hit)."""
        if self._optimized_ir is None:
            self._optimized_ir = str(self.module)
        return self._optimized_ir

    def global_address(self, symbol: str) -> int:
        """The address of the global variable `symbol` of the compiled module."""
        addr = self.engine.get_global_value_address(symbol)
        if not addr:
            raise KeyError(f"global {symbol!r} not found in the compiled module {self._name!r}")
        return addr

    def address(self, symbol: str) -> int:
        addr = self.engine.get_function_address(symbol)
        if not addr:
            raise KeyError(f"symbol {symbol!r} not found in the compiled module {self._name!r}")
        return addr

    def entry(self, symbol: str):
        """The cffi function pointer of `int32_t symbol(void **)`."""
        return _ffi.cast(ENTRY_CTYPE, self.address(symbol))

    def asm(self) -> str:
        return self.tm.emit_assembly(llvm.parse_assembly(self.optimized_ir))
