"""The fast paths of compiling and running, checked for correctness only: the
shape-generic GEMM library and the matmul tasks that call it, constants bound
after loading, compiled functions served by the disk cache, the session's
plan runner, per-nest profiling and the thread pool's link detection.
Oracles: numpy, the reference interpreter, and a cache-less compile."""
import itertools

import cffi
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.ir import compiler as irc
from tfcompile.ir.codegen import gemm, library
from tfcompile.ir.codegen.kernels import library_kind
from tfcompile.ir.core import Builder, Function, TensorType
from tfcompile.ir.interpreter import run_function
from tfcompile.runtime import cache
from tfcompile.runtime.jit import _needs_native_helpers

_ffi = cffi.FFI()
SIG = "void(*)(void*,void*,void*,int64_t,int64_t,int64_t,int64_t,int64_t,int64_t,int64_t)"
RNG = np.random.default_rng(7)


def _lib_fn(kind, dtype):
    return _ffi.cast(SIG, library.address(gemm.symbol(kind, dtype)))


def _call(f, a, b, c, m, n, k, ta, tb):
    ptr = [_ffi.cast("void *", x.ctypes.data) for x in (a, b, c)]
    f(*ptr, m, n, k, a.shape[1], b.shape[1], c.shape[1],
      (gemm.TRANS_A if ta else 0) | (gemm.TRANS_B if tb else 0))


# ---------------------------------------------------------------- the GEMM library

SHAPES = [(1, 1, 1), (3, 5, 7), (17, 33, 65), (6, 64, 10), (129, 130, 131), (7, 1, 300),
          (1, 300, 7), (50, 300, 20), (0, 3, 4), (4, 0, 3), (5, 6, 0)]


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("kind", gemm.KINDS)
def test_library_matches_numpy(kind, dtype):
    f = _lib_fn(kind, dtype)
    npdt = np.float32 if dtype == "f32" else np.float64
    tol = 1e-4 if dtype == "f32" else 1e-11
    for (m, n, k), ta, tb in itertools.product(SHAPES, (False, True), (False, True)):
        if (kind == "direct_n" and ta) or (kind == "direct_t" and not ta) or \
                (kind == "dot" and (ta or not tb)):
            continue
        a = RNG.standard_normal((k, m) if ta else (m, k)).astype(npdt)
        b = RNG.standard_normal((n, k) if tb else (k, n)).astype(npdt)
        c = np.full((m, n), np.nan, npdt)
        _call(f, a, b, c, m, n, k, ta, tb)
        want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
        np.testing.assert_allclose(c, want, rtol=tol, atol=tol * max(1, k),
                                   err_msg=f"{kind} {dtype} m={m} n={n} k={k} ta={ta} tb={tb}")


def test_library_on_submatrices():
    """Leading dimensions larger than the sizes: a block of a bigger matrix."""
    f = _lib_fn("packed", "f32")
    a = RNG.standard_normal((40, 50)).astype(np.float32)
    b = RNG.standard_normal((50, 70)).astype(np.float32)
    c = np.zeros((40, 70), np.float32)
    sub_a, sub_b = a[3:30, 5:45], b[5:45, 10:60]
    ptr = _ffi.cast("void *", a.ctypes.data + (3 * 50 + 5) * 4)
    pb = _ffi.cast("void *", b.ctypes.data + (5 * 70 + 10) * 4)
    pc = _ffi.cast("void *", c.ctypes.data + (2 * 70 + 1) * 4)
    f(ptr, pb, pc, 27, 50, 40, 50, 70, 70, 0)
    np.testing.assert_allclose(c[2:29, 1:51], sub_a @ sub_b, rtol=1e-4, atol=1e-4)
    assert not c[:2].any() and not c[29:].any() and not c[:, 51:].any() and not c[:, :1].any()


def test_library_kind_choice():
    assert library_kind("f32", 2048, 2048, 2048, False, False) == "packed"
    assert library_kind("f32", 128, 256, 784, False, False) == "direct_n"
    assert library_kind("f32", 784, 256, 128, True, False) == "direct_t"
    assert library_kind("f32", 1, 100, 300, False, True) == "dot"
    assert library_kind("f32", 1, 4096, 4096, False, False) == "direct_n"   # a row vector


# ---------------------------------------------------------------- matmul tasks in modules

def _dot_fn(bsh, m, k, n, ta=False, tb=False, epilogue=True, dtype="f32"):
    fn = Function()
    b = Builder(fn)
    a = b.param(TensorType(bsh + ((k, m) if ta else (m, k)), dtype), "a")
    w = b.param(TensorType(bsh + ((n, k) if tb else (k, n)), dtype), "w")
    d = b.emit("dot", [a, w], transpose_a=ta, transpose_b=tb)
    if epilogue:
        bias = b.param(TensorType((n,), dtype), "bias")
        bb = b.emit("broadcast", [bias], shape=bsh + (m, n), dims=(len(bsh) + 1,))
        zero = b.emit("broadcast", [b.constant(np.zeros((), dtype.replace("f", "float")))],
                      shape=bsh + (m, n), dims=())
        d = b.emit("max", [b.emit("add", [d, bb]), zero])
    b.result(d, "out")
    return fn


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("bsh, m, k, n, ta, tb", [
    ((), 1, 300, 257, False, False),      # few rows: tasks are blocks of columns
    ((), 3, 40, 200, False, True),
    ((), 130, 70, 33, True, False),       # blocks of rows
    ((3,), 29, 17, 140, False, False),    # a batch: tasks within each entry
    ((2,), 70, 600, 90, True, True),
])
def test_matmul_tasks_with_epilogue(bsh, m, k, n, ta, tb, parallel):
    fn = _dot_fn(bsh, m, k, n, ta, tb)
    args = [RNG.uniform(-1, 1, p.type.shape).astype(np.float32) for p in fn.params]
    group = [ins for ins in fn.body if ins.op != "constant"]
    cf = irc.compile_function(fn, kernels=[group], parallel=parallel)
    assert cf.stats["nest_kinds"] == {"matmul": 1}
    want = run_function(fn, [a.copy() for a in args])[0]
    np.testing.assert_allclose(cf.run(args)[0], want, rtol=1e-4, atol=1e-4)


def test_matmul_split_boundaries():
    """Around the switch between row and column tasks, threaded and not."""
    from tfcompile.ir.codegen.cpu import generate
    from tfcompile.ir.codegen.matmul import choose_blocking
    blk = choose_blocking("f32")
    for m, n in [(4 * blk.mr - 1, 2 * blk.nr), (4 * blk.mr, 2 * blk.nr - 1),
                 (1, 2 * blk.nr + 1), (2, 5 * blk.nr - 3)]:
        fn = _dot_fn((), m, 300, n, epilogue=False)
        cpu = generate(fn, parallel=True, library="extern")
        (call,) = [c for _, c in cpu.nests if c.kind == "matmul"]
        assert call.n >= 2 and cpu.library_symbols == (gemm.symbol("direct_n", "f32"),)
        a, w = (RNG.standard_normal(p.type.shape).astype(np.float32) for p in fn.params)
        for parallel in (False, True):
            cf = irc.compile_function(fn, parallel=parallel)
            np.testing.assert_allclose(cf.run([a, w])[0], a @ w, rtol=1e-4, atol=1e-4)


def test_inline_library_module_is_self_contained():
    """The exported-library form emits the GEMM functions into the module."""
    from tfcompile.ir.codegen.cpu import generate
    cpu = generate(_dot_fn((), 8, 9, 10), library="inline")
    assert cpu.library_symbols == ()
    assert f'define internal void @"{gemm.symbol("direct_n", "f32")}"' in cpu.llvm_ir or \
        f"define internal void @{gemm.symbol('direct_n', 'f32')}" in cpu.llvm_ir


def test_integer_dot_keeps_its_own_matmul():
    fn = _dot_fn((), 9, 11, 13, epilogue=False, dtype="i32")
    a = RNG.integers(-5, 5, (9, 11)).astype(np.int32)
    w = RNG.integers(-5, 5, (11, 13)).astype(np.int32)
    cf = irc.compile_function(fn)
    assert cf.cpu.library_symbols == ()
    np.testing.assert_array_equal(cf.run([a, w])[0], a @ w)


# ---------------------------------------------------------------- argmax, vectorized

@pytest.mark.parametrize("dtype", ["f32", "f64", "i32", "i64"])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_vectorized_arg_reductions(op, dtype):
    """The last-axis scan in vector lanes: ties, NaNs, fused producers, tails."""
    n = 203
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((6, n), dtype), "x")
    y = b.emit("add", [x, x])                    # a fused producer
    b.result(b.emit(op, [y], axis=1, dtype="i64"), "idx")
    b.result(b.emit(op, [x], axis=0, dtype="i32"), "idx0")
    npdt = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64}[dtype]
    xv = RNG.integers(-20, 20, (6, n)).astype(npdt)      # many ties
    xv[1, 150] = xv[1, 7] = 99 if op == "argmax" else -99   # first of two wins
    if dtype.startswith("f"):
        xv[2, 5] = np.nan                       # a NaN after index 0 never wins
        xv[3, 0] = np.nan                       # at index 0 it does
        xv[4, 190] = np.inf if op == "argmax" else -np.inf   # in the scalar tail
    cf = irc.compile_function(fn)
    got, got0 = cf.run([xv])
    want, want0 = run_function(fn, [xv])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got0, want0)
    assert got[1] == 7 and (not dtype.startswith("f") or (got[3] == 0 and got[4] == 190))


# ---------------------------------------------------------------- constants as data

def test_big_constants_are_bound_after_loading():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((3000,), "f32"), "x")
    table = RNG.standard_normal(3000).astype(np.float32)
    small = np.arange(4, dtype=np.float32)
    c = b.constant(table)
    s = b.emit("reshape", [b.emit("broadcast", [b.constant(small)], shape=(750, 4), dims=(1,))],
               shape=(3000,))
    b.result(b.emit("add", [b.emit("mul", [x, c]), s]), "y")
    cf = irc.compile_function(fn)
    assert len(cf.cpu.external_constants) == 1          # the 12 KB table, not the 16 bytes
    assert len(cf.llvm_ir) < 8000                        # its bytes are not in the IR text
    xv = RNG.standard_normal(3000).astype(np.float32)
    np.testing.assert_allclose(cf.run([xv])[0], xv * table + np.tile(small, 750), rtol=1e-6)


# ---------------------------------------------------------------- the disk cache

@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TFC_CACHE_DIR", str(tmp_path))
    cache.set_enabled(True)
    yield tmp_path
    cache.set_enabled(None)


def _mlp_session(seed=0):
    rng = np.random.default_rng(seed)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 12], name="x")
        w = tf.Variable(rng.standard_normal((12, 5)).astype(np.float32), name="w")
        table = tf.constant(rng.standard_normal((2000, 5)).astype(np.float32))
        y = tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)) + table[:8], axis=1)
        init = tf.global_variables_initializer()
    s = tf.Session(graph=g)
    s.run(init)
    return s, x, y, w, table


def _stats(sess):
    plan = list(sess._plans.values())[-1]
    return {**plan.exe.stats, **plan.exe.compiled.stats}


def test_compiled_function_served_from_the_disk_cache(cache_dir):
    xv = RNG.standard_normal((8, 12)).astype(np.float32)
    s1, x, y, w, table = _mlp_session()
    want = s1.run(y, {x: xv})
    assert not _stats(s1).get("cache_hit")
    s2, x2, y2, _, _ = _mlp_session()           # the same graph built again
    got = s2.run(y2, {x2: xv})
    assert _stats(s2)["cache_hit"]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    wv, tv = s1.run([w, table])
    np.testing.assert_allclose(got, (np.maximum(xv @ wv, 0) + tv[:8]).sum(1), rtol=1e-5)
    # the generated code can still be looked at
    assert "define" in list(s2._plans.values())[-1].exe.compiled.llvm_ir


def test_corrupt_cache_entry_is_recompiled(cache_dir):
    xv = RNG.standard_normal((8, 12)).astype(np.float32)
    s1, x, y, _, _ = _mlp_session()
    want = s1.run(y, {x: xv})
    entries = sorted((cache_dir / "objects").rglob("*.tfcobj"))
    assert entries
    for p in entries:                               # flip a byte in every entry
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0xFF
        p.write_bytes(bytes(data))
    for k in [k for k in library._modules if k[0] == "f32"]:
        library._modules.pop(k)                     # the library is read again too
    s2, x2, y2, _, _ = _mlp_session()
    np.testing.assert_allclose(s2.run(y2, {x2: xv}), want, rtol=1e-6)
    assert not _stats(s2).get("cache_hit")


def test_cache_is_trimmed_to_its_size_limit(cache_dir, monkeypatch):
    import os
    import time
    keys = [cache.key(f"entry {i}") for i in range(12)]
    now = time.time()
    for i, k in enumerate(keys):
        assert cache.put(k, bytes(10_000))
        os.utime(cache.entry_path(k), (now - 100 + i, now - 100 + i))    # oldest first
    assert cache.get(keys[0]) is not None       # a hit: now the most recently used
    assert cache.trim(limit=1_000_000) == 0     # under the limit: nothing goes
    removed = cache.trim(limit=60_000)          # 12 x ~10 KB > 60 KB: down to 48 KB
    assert removed >= 7
    left = [k for k in keys if cache.entry_path(k).exists()]
    assert keys[0] in left and keys[1] not in left and keys[-1] in left
    assert sum(cache.entry_path(k).stat().st_size for k in left) <= 48_000
    monkeypatch.setenv("TFC_CACHE_MAX_MB", "0.5")
    assert cache.max_bytes() == 512 * 1024


def test_function_key_ignores_names_not_structure():
    def make(name, value):
        fn = Function()
        b = Builder(fn)
        x = b.param(TensorType((3,), "f32"), name)
        b.result(b.emit("add", [x, b.constant(np.full(3, value, np.float32))]), "y")
        return fn
    assert irc.function_key(make("a", 1.0)) == irc.function_key(make("b", 1.0))
    assert irc.function_key(make("a", 1.0)) != irc.function_key(make("a", 2.0))
    assert irc.function_key(make("a", 1.0), "x") != irc.function_key(make("a", 1.0), "y")


# ---------------------------------------------------------------- the session's runner

def test_fetched_arrays_are_never_overwritten_while_held():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4])
        y = x * 2.0
    s = tf.Session(graph=g)
    first = s.run(y, {x: np.arange(4, dtype=np.float32)})
    second = s.run(y, {x: np.ones(4, np.float32)})
    np.testing.assert_array_equal(first, [0, 2, 4, 6])
    np.testing.assert_array_equal(second, [2, 2, 2, 2])
    for i in range(3):            # dropped results may be reused: values stay right
        np.testing.assert_array_equal(s.run(y, {x: np.full(4, i, np.float32)}), 2.0 * i)


def test_runner_variables_counters_and_errors():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(3, np.float32))
        u = tf.Variable(np.ones(2, np.float32))
        inc = tf.assign_add(v, tf.ones(3))
        r = tf.random_uniform([5], seed=1)
        init_v = v.initializer
    s = tf.Session(graph=g)
    with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
        s.run(inc)
    s.run(init_v)
    for i in range(3):
        np.testing.assert_array_equal(s.run(inc), np.full(3, i + 1.0))
    a, b = s.run(r), s.run(r)
    assert not np.array_equal(a, b)               # the counter advanced
    s.run(init_v)                                 # re-initialized: a new array
    np.testing.assert_array_equal(s.run(v), np.zeros(3))
    with pytest.raises(tf.errors.FailedPreconditionError):
        s.run(u)


# ---------------------------------------------------------------- tools

def test_nest_profile_counts_ticks():
    fn = _dot_fn((), 20, 30, 40)
    group = [ins for ins in fn.body if ins.op != "constant"]
    cf = irc.compile_function(fn, kernels=[group], profile=True)
    args = [RNG.standard_normal(p.type.shape).astype(np.float32) for p in fn.params]
    cf.run(args)
    prof = cf.nest_profile()
    assert [kind for _, kind, _, _ in prof] == ["matmul"] and prof[0][3] > 0
    with pytest.raises(RuntimeError, match="profile=True"):
        irc.compile_function(fn, kernels=[group]).nest_profile()


_POOL_IR = r"""
declare void @tfc_parallel_for(ptr, ptr, i64, i64)

define void @mark(ptr %ctx, i64 %b, i64 %e) {
entry:
  %counts = load ptr, ptr %ctx
  %logp = getelementptr inbounds ptr, ptr %ctx, i64 1
  %log = load ptr, ptr %logp
  %np = getelementptr inbounds ptr, ptr %ctx, i64 2
  %nlog = load ptr, ptr %np
  %slot = atomicrmw add ptr %nlog, i64 1 seq_cst
  %s2 = shl i64 %slot, 1
  %lb = getelementptr i64, ptr %log, i64 %s2
  store i64 %b, ptr %lb
  %s3 = add i64 %s2, 1
  %le = getelementptr i64, ptr %log, i64 %s3
  store i64 %e, ptr %le
  %any = icmp slt i64 %b, %e
  br i1 %any, label %loop, label %exit
loop:
  %i = phi i64 [ %b, %entry ], [ %i1, %loop ]
  %p = getelementptr i64, ptr %counts, i64 %i
  %old = atomicrmw add ptr %p, i64 1 monotonic
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %e
  br i1 %more, label %loop, label %exit
exit:
  ret void
}

define void @run(ptr %ctx, i64 %n, i64 %grain) {
  call void @tfc_parallel_for(ptr @mark, ptr %ctx, i64 %n, i64 %grain)
  ret void
}
"""


@pytest.mark.skipif(not irc.threads_available(), reason="no C compiler for the thread pool")
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n, grain", [(0, 1), (5, 2), (100, 1), (100, 30), (4099, 16),
                                      (1000, 0)])
def test_dynamic_grain_chunks(threads, n, grain):
    """grain | TFC_GRAIN_DYNAMIC: every index once, in contiguous chunks of at least
    `grain` items, up to 4 chunks per thread."""
    from tfcompile.ir.codegen.cpu import GRAIN_DYNAMIC
    from tfcompile.runtime import native
    from tfcompile.runtime.jit import JITModule
    jit = JITModule(_POOL_IR, name="dynamic_pool_test")
    run = _ffi.cast("void(*)(void *, int64_t, int64_t)", jit.address("run"))
    counts = np.zeros(max(n, 1), np.int64)
    log = np.full(2 * (n + 2), -1, np.int64)
    nlog = np.zeros(1, np.int64)
    ctx = np.array([counts.ctypes.data, log.ctypes.data, nlog.ctypes.data], np.uint64)
    native.set_num_threads(threads)
    try:
        run(_ffi.cast("void *", ctx.ctypes.data), n, grain | GRAIN_DYNAMIC)
    finally:
        native.set_num_threads(0)
    np.testing.assert_array_equal(counts[:n], 1)
    k = int(nlog[0])
    chunks = sorted(map(tuple, log[:2 * k].reshape(k, 2).tolist()))
    if n == 0:
        assert chunks == []
        return
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    assert all(e0 == b1 for (_, e0), (b1, _) in zip(chunks, chunks[1:]))
    assert 1 <= len(chunks) <= 4 * threads
    if len(chunks) > 1:
        assert min(e - b for b, e in chunks) >= max(grain, 1)
    if threads == 1 or n <= max(grain, 1):
        assert chunks == [(0, n)]


def test_native_helpers_are_found_under_quoted_names():
    assert _needs_native_helpers('declare void @"tfc_parallel_for"(ptr, ptr, i64, i64)')
    assert _needs_native_helpers("declare void @tfc_parallel_for(ptr, ptr, i64, i64)")
    assert not _needs_native_helpers('declare void @"tfck_direct_n_f32"(ptr)')
