"""From a lowered IR function to a callable executable, and the session's fast
way of calling it.

`compile_lowered` runs the optimization pipeline (unless turned off) and
compiles through LLVM, or, when the disk cache holds the function (keyed by
the lowered IR before any pass, see ir/compiler.py `function_key`), only
loads its object code. `PlanRunner` binds a compiled plan's pointer array to
the session's feeds, variables and random counters and calls it: the array
is rebound only where something changed, and a fetched array is reused by
the next call once the caller has dropped it.

The executable is called with numpy arrays only to pass pointers: all the
arithmetic is the compiled code's.
"""
from __future__ import annotations

import math
import os
import sys
import time

import cffi
import numpy as np


_ffi = cffi.FFI()
_CHAR_ARRAY = _ffi.typeof("char[]")


def _from_buffer(a, _fb=_ffi._backend.from_buffer, _t=_CHAR_ARRAY):
    """ffi.from_buffer without its Python wrapper (this is the per-call hot path)."""
    return _fb(_t, a, False)


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


def _address(a):
    return int(_ffi.cast("uintptr_t", _from_buffer(a)))


def _aligned_empty(nbytes, align=64):
    raw = np.empty(nbytes + align, np.uint8)
    off = -_address(raw) % align
    return raw[off:off + nbytes]


ALIGN_MIN_BYTES = 4096


def aligned_empty(shape, dtype):
    """np.empty(shape, dtype) starting on a cache line (64 bytes) when it holds at
    least ALIGN_MIN_BYTES: numpy gives 16-byte alignment, and then every vector
    load of the compiled loops straddles two lines (streaming a row-vector
    matmul's weights takes about a third longer). Smaller arrays as numpy gives."""
    dt = np.dtype(dtype)
    nbytes = dt.itemsize * math.prod(shape)
    if nbytes < ALIGN_MIN_BYTES:
        return np.empty(shape, dt)
    return _aligned_empty(nbytes).view(dt).reshape(shape)


class Executable:
    """A compiled function bound to the entry ABI `int32_t f(void **buffers)`.

    `fn` is the optimized function (run through the passes on first use
    when the code came from the disk cache)."""

    def __init__(self, fn, compiled, stats, optimized=None, num_threads=None):
        self._fn = fn if optimized is None else None
        self._optimized = optimized
        self.compiled = compiled
        self.stats = stats
        self.n_params = len(fn.params)
        self.n_results = len(fn.results)
        self.num_threads = num_threads
        self._entry = getattr(compiled, "entry", None)
        self._arena = _aligned_empty(max(int(compiled.arena_bytes), 1))
        self._ptrs = _ffi.new("void *[]", self.n_params + self.n_results + 1)
        self._ptrs[self.n_params + self.n_results] = _ffi.cast("void *", self._arena.ctypes.data)
        self._dummy = _aligned_empty(64)
        self._dummy_c = _ffi.from_buffer(self._dummy)

    @property
    def fn(self):
        if self._fn is None:
            self._fn = self._optimized()[0]
        return self._fn

    def call(self, args, outs):
        """Runs on `args` (param arrays), writing `outs` (result arrays).

        The arrays must be C-contiguous with the IR's dtypes and shapes (the
        callers check); cffi's from_buffer is the cheapest way to their pointers."""
        if self._entry is None:
            return self.compiled.call(args, outs)
        if self.num_threads is not None:
            _use_threads(self.num_threads)
        fb = _from_buffer
        dummy = self._dummy_c
        try:
            keep = [fb(a) if a.nbytes else dummy for a in args]
            keep += [fb(a) if a.nbytes else dummy for a in outs]
        except ValueError as e:  # numpy refuses a plain buffer of a strided array
            raise BufferError(f"compiled code needs C-contiguous arrays: {e}") from None
        self._ptrs[0:len(keep)] = keep
        rc = self._entry(self._ptrs)
        if rc != 0:
            raise RuntimeError(f"compiled function {self.compiled.symbol} failed with code {rc}")


class VarStorage(dict):
    """A session's variable storage (var op -> array) that counts its changes:
    `version` moves on every store, removal and clear, so a runner that has
    seen a version knows its variables' arrays are still the ones it bound."""

    __slots__ = ("version",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = 0

    def __setitem__(self, key, value):
        self.version += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self.version += 1
        dict.__delitem__(self, key)

    def _changed(name):
        def method(self, *args, **kwargs):
            self.version += 1
            return getattr(dict, name)(self, *args, **kwargs)
        method.__name__ = name
        return method

    pop = _changed("pop")
    popitem = _changed("popitem")
    clear = _changed("clear")
    update = _changed("update")
    setdefault = _changed("setdefault")
    __ior__ = _changed("__ior__")
    del _changed


class PlanRunner:
    """Binds a session's compiled plan to its buffers and calls it, fast.

    `params` / `results` are the lowering's lists of (kind, obj): feeds
    ("feed", tensor), variables ("var", op), random counters ("rng", op);
    results ("fetch", tensor) or ("var", op). The pointer array is filled
    once; per call only the feeds, fresh result arrays and variables whose
    storage array changed are rebound."""

    def __init__(self, exe, params, results, result_types, aliases):
        import _cffi_backend
        self.exe = exe
        self._fb = _cffi_backend.from_buffer
        self._char = _ffi.typeof("char[]")
        self._dummy = exe._dummy_c
        self.entry = exe._entry
        self.ptrs = exe._ptrs
        self.n_params = len(params)
        # result slots written in place into a parameter's buffer
        alias_of = {}
        for r, p in aliases.items():
            alias_of.setdefault(p, []).append(self.n_params + r)
        self.feed_slots = {}          # id(tensor) -> [param slot, aliased result slots...]
        for i, (kind, obj) in enumerate(params):
            if kind == "feed":
                self.feed_slots[id(obj)] = [i] + alias_of.get(i, [])
        self.vars = [(obj, [i] + alias_of.get(i, [])) for i, (kind, obj) in enumerate(params)
                     if kind == "var"]
        self.rngs = [(obj, [i] + alias_of.get(i, [])) for i, (kind, obj) in enumerate(params)
                     if kind == "rng"]
        self.fresh = [(self.n_params + r, t.shape, t.np_dtype, kind == "fetch", obj)
                      for r, ((kind, obj), t) in enumerate(zip(results, result_types))
                      if r not in aliases]
        self.fetch_aliased = [(params[p], obj) for r, p in aliases.items()
                              for kind, obj in [results[r]] if kind == "fetch"]
        self._bound_vars = [None] * len(self.vars)   # the arrays now in the pointer array
        self._keep = [None] * (self.n_params + len(results))
        self._src = [None] * self.n_params            # the feed array bound in each slot
        self.new_vars = []            # (op, array) of the last call's replaced variables
        # The last fetched arrays: reused when nobody else holds them any more.
        self._last = [None] * len(self.fresh)
        self._free_rc = [0] * len(self.fresh)

    def _bind_var(self, k, arr, op, on_missing_var):
        """Points variable k's slots at `arr` (its storage array changed)."""
        if arr is None:
            on_missing_var(op)
        self._bound_vars[k] = arr
        c = self._fb(self._char, arr, False) if arr.nbytes else self._dummy
        for i in self.vars[k][1]:
            self.ptrs[i] = c
            self._keep[i] = c

    def _new_result(self, n):
        """A fresh array for result n, bound to its slot and remembered for reuse.

        A variable's new array starts on a cache line (the next runs read it);
        a fetched one owns its memory, as numpy allocates it: a view the caller
        keeps of it then holds it (and so keeps it from being reused), whereas
        a view of an aligned slice would hold only the buffer beneath."""
        j, shape, dt, is_fetch, _ = self.fresh[n]
        a = np.empty(shape, dt) if is_fetch else aligned_empty(shape, dt)
        c = self._fb(self._char, a, False) if a.nbytes else self._dummy
        self.ptrs[j] = c
        self._keep[j] = c
        if is_fetch:
            self._last[n] = a
            self._free_rc[n] = _refcount(a)   # ours only: _last[n], keep[j], a, argument
        return a

    def _bind_rngs(self, counters):
        """Binds the random ops' counters (created at zero); returns them, to be
        advanced once the call has run."""
        arrays = []
        for op, slots in self.rngs:
            c = counters.get(op)
            if c is None:
                c = counters[op] = np.zeros((), np.int64)
            arrays.append(c)
            p = self._fb(self._char, c, False)
            for i in slots:
                self.ptrs[i] = p
                self._keep[i] = p
        return arrays

    def caller(self, feeds, fetch_ids, lock, storage, counters, on_missing_var, still_valid):
        """The plan's call for one way of feeding and fetching it, with nothing
        looked up per call that this binding already knows; None where the plan
        replaces variables' arrays or returns a buffer it was given (the general
        `run` handles those).

        `feeds` lists (id(tensor), shape) of the fed tensors in the order the
        call passes their arrays, which the caller has checked (C-contiguous,
        these shapes, the compiled dtypes); `fetch_ids` are the id()s of the
        fetched tensors. `storage` is the session's VarStorage and `counters`
        its random counters, as `run` takes them. Returns `call(arrays)`, which
        runs the plan under `lock` and returns the fetched arrays in
        `fetch_ids` order (one fetch: its array itself). Once the storage has
        changed since the last call, `still_valid()` is asked first; when it
        says False, call runs nothing and returns None."""
        if self.fetch_aliased or not all(f[3] for f in self.fresh):
            return None
        fresh_at = {id(f[4]): n for n, f in enumerate(self.fresh)}
        if not all(i in fresh_at for i in fetch_ids):
            return None
        order = [fresh_at[i] for i in fetch_ids]
        in_order = order == list(range(len(self.fresh)))
        fb, char, dummy = self._fb, self._char, self._dummy
        ptrs, keep, src, entry = self.ptrs, self._keep, self._src, self.entry
        # Each feed's array goes to its slots; most feeds have one slot and bytes.
        feed_slots = [(self.feed_slots.get(i, []), int(np.prod(shape)) == 0)
                      for i, shape in feeds]
        one_slot = None
        if all(len(slots) == 1 and not empty for slots, empty in feed_slots):
            one_slot = [slots[0] for slots, _ in feed_slots]
        var_ops = [op for op, _ in self.vars]
        bound, bind_var = self._bound_vars, self._bind_var
        rngs, bind_rngs = self.rngs, self._bind_rngs
        last, free_rc, new_result = self._last, self._free_rc, self._new_result
        fresh_n = range(len(self.fresh))
        single_fresh = len(self.fresh) == 1
        single_fetch = len(fetch_ids) == 1
        nthreads = self.exe.num_threads
        pool = _pool() if nthreads is not None else False
        symbol = self.exe.compiled.symbol
        refcount = _refcount
        acquire, release = lock.acquire, lock.release
        seen = [None]          # the storage version whose arrays are bound

        def bind_vars():
            k = 0
            for op in var_ops:
                arr = storage.get(op)
                if arr is not bound[k]:
                    bind_var(k, arr, op, on_missing_var)
                k += 1
            seen[0] = storage.version

        def bind_feeds(arrays):
            for a, (slots, empty) in zip(arrays, feed_slots):
                c = dummy if empty else fb(char, a, False)
                for i in slots:
                    ptrs[i] = c
                    keep[i] = c
                    src[i] = a

        def call(arrays):
            acquire()
            try:
                if pool and pool._requested != nthreads:
                    pool.set_num_threads(nthreads)
                if storage.version != seen[0]:
                    if not still_valid():
                        return None
                    bind_vars()
                if one_slot is not None:
                    # The array bound already (the same one fed again) keeps its
                    # pointer: the buffer we hold on it keeps numpy from moving its
                    # memory (short of resize(refcheck=False)).
                    for a, i in zip(arrays, one_slot):
                        if a is not src[i]:
                            c = fb(char, a, False)
                            ptrs[i] = c
                            keep[i] = c
                            src[i] = a
                else:
                    bind_feeds(arrays)
                rng_arrays = bind_rngs(counters) if rngs else None
                # A result array is reused when only we still refer to it (the
                # caller dropped it): its memory is paged in and already bound.
                if single_fresh:
                    a = last[0]
                    if a is None or refcount(a) > free_rc[0]:
                        a = new_result(0)
                    outs = a
                else:
                    outs = []
                    for n in fresh_n:
                        a = last[n]
                        if a is None or refcount(a) > free_rc[n]:
                            a = new_result(n)
                        outs.append(a)
                rc = entry(ptrs)
                if rc != 0:
                    raise RuntimeError(f"compiled function {symbol} failed with code {rc}")
                if rng_arrays:
                    for c in rng_arrays:
                        c += 1
            finally:
                release()
            if single_fresh:
                return outs if single_fetch else [outs] * len(order)
            if single_fetch:
                return outs[order[0]]
            return outs if in_order else [outs[n] for n in order]
        return call

    def run(self, storage, counters, feeds, on_missing_var):
        """Calls the plan; returns {id(fetch tensor): array}. Variables whose new
        value is a new array are left in `self.new_vars` for the caller.

        `storage` maps variable ops to arrays, `counters` random ops to their
        int64 counters (created here and advanced after the call)."""
        exe = self.exe
        if exe.num_threads is not None:
            _use_threads(exe.num_threads)
        fb, char, dummy = self._fb, self._char, self._dummy
        ptrs, keep, fed = self.ptrs, self._keep, self._src
        bound = self._bound_vars
        k = 0
        for op, _ in self.vars:
            arr = storage.get(op)
            if arr is not bound[k]:
                self._bind_var(k, arr, op, on_missing_var)
            k += 1
        feed_slots = self.feed_slots
        for t, a in feeds.items():
            slots = feed_slots.get(id(t))
            if slots is not None:
                c = fb(char, a, False) if a.nbytes else dummy
                for i in slots:
                    ptrs[i] = c
                    keep[i] = c
                    fed[i] = a
        rng_arrays = self._bind_rngs(counters)
        values = {}
        new_vars = self.new_vars = []
        last, free_rc = self._last, self._free_rc
        n = 0
        for _, _, _, is_fetch, obj in self.fresh:
            a = last[n]
            # Reused when only we still refer to it (the caller dropped it): its
            # memory is paged in and already bound.
            if a is None or _refcount(a) > free_rc[n]:
                a = self._new_result(n)
            n += 1
            if is_fetch:
                values[id(obj)] = a
            else:
                new_vars.append((obj, a))
        rc = self.entry(ptrs)
        if rc != 0:
            raise RuntimeError(f"compiled function {exe.compiled.symbol} failed with code {rc}")
        for c in rng_arrays:
            c += 1
        for (kind, src), obj in self.fetch_aliased:
            values[id(obj)] = storage[src] if kind == "var" else feeds[src]
        return values


_refcount = sys.getrefcount
_native = [None]


def _pool():
    """runtime.native once its library loads, else False (no pool)."""
    nat = _native[0]
    if nat is None:
        try:
            from .runtime import native
            native.native_lib()
            nat = native
        except Exception:     # no pool: the code runs on one thread anyway
            nat = False
        _native[0] = nat
    return nat


def _use_threads(n):
    """Sizes the runtime's thread pool for the next call (the session's config).

    Checked on every call: the pool is shared with whoever else sizes it
    (another session, `runtime.native.set_num_threads`), and all of them set
    it through runtime.native, which calls into C only when the count changes."""
    nat = _native[0] if _native[0] is not None else _pool()
    if nat and n != nat._requested:
        nat.set_num_threads(n)


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
    """Optimizes and compiles a lowered function, or loads it from the disk cache.

    The cache key is taken from the lowered function, so a hit skips the
    passes, the codegen and LLVM: it only reads and links the object code."""
    stats = {}
    t0 = time.perf_counter()
    memo = {}

    def optimized():
        if "r" not in memo:
            kernels, pass_stats = None, None
            out = fn
            if options.optimize:
                try:
                    from .ir.passes.pipeline import optimize as _optimize
                except ImportError:
                    _optimize = None
                if _optimize is not None:
                    out, kernels, pass_stats = _optimize(fn, dump_dir=options.dump_dir)
            memo["r"] = (out, kernels, pass_stats)
        return memo["r"]

    if options.backend == "interpreter":
        opt_fn, _, pass_stats = optimized()
        if pass_stats is not None:
            stats["passes"] = pass_stats
        stats["optimize_s"] = time.perf_counter() - t0
        compiled = _InterpretedFunction(opt_fn)
        stats["compile_s"] = time.perf_counter() - t0 - stats["optimize_s"]
        return Executable(opt_fn, compiled, stats)

    from .ir import compiler as irc
    from .runtime import cache as _cache

    def regenerate():
        from .ir.codegen.cpu import generate
        opt_fn, kernels, _ = optimized()
        return generate(opt_fn, kernels, parallel=irc.threads_available(),
                        external_constants=irc.EXTERNAL_CONST_BYTES)

    key = None
    # TFC_PROFILE_NESTS=1 times each loop nest (see CompiledFunction.nest_profile).
    profile = os.environ.get("TFC_PROFILE_NESTS") == "1"
    # Dumps want every stage written, so they always compile.
    from .ir.passes.dump import current_dump_dir
    dumping = bool(options.dump_dir or current_dump_dir())
    if _cache.enabled() and not dumping and not profile:
        key = irc.function_key(fn, extra=f"optimize={options.optimize};"
                                         f"threads={irc.threads_available()}")
        compiled = irc.load_cached(key, fn, regenerate=regenerate)
        if compiled is not None:
            stats["optimize_s"] = 0.0
            stats["compile_s"] = time.perf_counter() - t0
            stats["cache_hit"] = True
            return Executable(fn, compiled, stats, optimized=optimized,
                              num_threads=options.num_threads)
    opt_fn, kernels, pass_stats = optimized()
    if pass_stats is not None:
        stats["passes"] = pass_stats
    stats["optimize_s"] = time.perf_counter() - t0
    compiled = irc.compile_function(opt_fn, kernels=kernels, bundle_key=key,
                                    regenerate=regenerate, profile=profile)
    stats["compile_s"] = time.perf_counter() - t0 - stats["optimize_s"]
    folder = (pass_stats or {}).get("dump_dir")
    if folder:
        from .ir.passes.dump import dump_compiled
        dump_compiled(folder, compiled)
    return Executable(opt_fn, compiled, stats, num_threads=options.num_threads)
