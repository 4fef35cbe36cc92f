"""The native thread pool (runtime/threadpool.c) driven from JIT-compiled code.

The loop body is LLVM IR: `mark(ctx, begin, end)` logs its chunk and bumps
counts[begin:end] atomically, so a missed or doubly-run index shows up as a
count other than 1, and the log shows how the range was split.
"""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from tfcompile.runtime import native
from tfcompile.runtime.jit import JITModule

# ctx = { i64* counts, i64* log, i64* nlog }; log holds (begin, end) pairs.
# nested ctx = { i64* counts, i64* log, i64* nlog, i64 m, i64 grain }: each row
# r of `outer` calls tfc_parallel_for(mark, {counts + r*m, log, nlog}, m, grain).
IR = r"""
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

define void @outer(ptr %ctx, i64 %b, i64 %e) {
entry:
  %inner = alloca [3 x ptr]
  %counts = load ptr, ptr %ctx
  %logp = getelementptr inbounds ptr, ptr %ctx, i64 1
  %log = load ptr, ptr %logp
  %np = getelementptr inbounds ptr, ptr %ctx, i64 2
  %nlog = load ptr, ptr %np
  %mp = getelementptr inbounds i64, ptr %ctx, i64 3
  %m = load i64, ptr %mp
  %gp = getelementptr inbounds i64, ptr %ctx, i64 4
  %g = load i64, ptr %gp
  %i1p = getelementptr inbounds ptr, ptr %inner, i64 1
  store ptr %log, ptr %i1p
  %i2p = getelementptr inbounds ptr, ptr %inner, i64 2
  store ptr %nlog, ptr %i2p
  %any = icmp slt i64 %b, %e
  br i1 %any, label %loop, label %exit
loop:
  %r = phi i64 [ %b, %entry ], [ %r1, %loop ]
  %off = mul i64 %r, %m
  %row = getelementptr i64, ptr %counts, i64 %off
  store ptr %row, ptr %inner
  call void @tfc_parallel_for(ptr @mark, ptr %inner, i64 %m, i64 %g)
  %r1 = add i64 %r, 1
  %more = icmp slt i64 %r1, %e
  br i1 %more, label %loop, label %exit
exit:
  ret void
}

define void @run_nested(ptr %ctx, i64 %n) {
  call void @tfc_parallel_for(ptr @outer, ptr %ctx, i64 %n, i64 1)
  ret void
}
"""


@pytest.fixture(scope="module")
def jit(tmp_path_factory):
    # build the helpers (if not loaded yet) in a scratch cache, not the user's
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFC_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        native.native_lib()
    return JITModule(IR, name="threadpool_test")


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    native.set_num_threads(0)


class Recorder:
    """counts + chunk log for one parallel_for over n items."""

    def __init__(self, n, max_chunks):
        self.counts = np.zeros(max(n, 1), dtype=np.int64)
        self.log = np.full(2 * max_chunks + 2, -1, dtype=np.int64)
        self.nlog = np.zeros(1, dtype=np.int64)
        self.ctx = np.array([self.counts.ctypes.data, self.log.ctypes.data,
                             self.nlog.ctypes.data, 0, 0], dtype=np.uint64)

    def chunks(self):
        k = int(self.nlog[0])
        return sorted(map(tuple, self.log[:2 * k].reshape(k, 2).tolist()))


def run_fn(jit, name, argtypes):
    ffi = native.ffi()
    return ffi.cast(f"void(*)({argtypes})", jit.address(name))


def parallel_for(jit, n, grain):
    run = run_fn(jit, "run", "void *, int64_t, int64_t")
    rec = Recorder(n, max(n, 1) + 1)
    run(native.ffi().cast("void *", rec.ctx.ctypes.data), n, grain)
    return rec


def check_split(rec, n, grain, threads):
    """Every index once; contiguous chunks of >= grain items, at most one per thread."""
    chunks = rec.chunks()
    np.testing.assert_array_equal(rec.counts[:n], np.ones(n, dtype=np.int64))
    if n <= 0:
        assert chunks == []
        return
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    for (b0, e0), (b1, _) in zip(chunks, chunks[1:]):
        assert e0 == b1, f"chunks {chunks} are not contiguous"
    if n <= max(grain, 1) or threads == 1:
        assert chunks == [(0, n)]
    else:
        assert 1 <= len(chunks) <= threads
        if len(chunks) > 1:
            assert min(e - b for b, e in chunks) >= max(grain, 1), chunks


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
@pytest.mark.parametrize("n,grain", [(0, 1), (1, 1), (2, 1), (5, 2), (7, 7), (8, 7),
                                     (100, 1), (100, 30), (101, 50), (1000, 0),
                                     (1000, 999), (4099, 16)])
def test_parallel_for_covers_every_index_once(jit, threads, n, grain):
    native.set_num_threads(threads)
    assert native.get_num_threads() == threads
    check_split(parallel_for(jit, n, grain), n, grain, threads)


def test_many_back_to_back_calls(jit):
    native.set_num_threads(2)
    rng = np.random.default_rng(0)
    for _ in range(300):
        n, grain = int(rng.integers(0, 200)), int(rng.integers(1, 20))
        check_split(parallel_for(jit, n, grain), n, grain, 2)


def test_resize_between_calls(jit):
    for threads in (3, 1, 4, 2, 2, 3):
        native.set_num_threads(threads)
        check_split(parallel_for(jit, 997, 5), 997, 5, threads)


def test_nested_call_runs_inline_without_deadlock(jit):
    native.set_num_threads(3)
    n, m, grain = 24, 37, 1
    rec = Recorder(n * m, n * m + 1)   # room even if rows were split
    rec.ctx[3], rec.ctx[4] = m, grain
    run_nested = run_fn(jit, "run_nested", "void *, int64_t")
    t = threading.Thread(target=run_nested, daemon=True,
                         args=(native.ffi().cast("void *", rec.ctx.ctypes.data), n))
    t.start()
    t.join(timeout=60)
    assert not t.is_alive(), "nested tfc_parallel_for deadlocked"
    np.testing.assert_array_equal(rec.counts, np.ones(n * m, dtype=np.int64))
    # each row's inner call ran inline, as one chunk
    assert rec.chunks() == [(0, m)] * n


def test_concurrent_callers(jit):
    """Several OS threads at once: one drives the pool, the others run inline."""
    native.set_num_threads(2)
    sizes = [(3001, 7), (2000, 1), (1500, 100), (999, 3), (4000, 10), (10, 1)]
    results = {}

    def worker(i, n, grain):
        for rep in range(20):
            rec = parallel_for(jit, n, grain)
            results[(i, rep)] = (rec, n, grain)

    threads = [threading.Thread(target=worker, args=(i, n, g), daemon=True)
               for i, (n, g) in enumerate(sizes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "concurrent tfc_parallel_for hung"
    assert len(results) == 20 * len(sizes)
    for rec, n, grain in results.values():
        check_split(rec, n, grain, 2)


def test_set_get_num_threads():
    native.set_num_threads(5)
    assert native.get_num_threads() == 5
    native.set_num_threads(1)
    assert native.get_num_threads() == 1
    native.set_num_threads(-3)            # n <= 0: back to the default
    assert native.get_num_threads() >= 1


def _threads_in_subprocess(env_value, cache_dir):
    env = dict(os.environ, TFC_CACHE_DIR=str(cache_dir))
    env.pop("TFC_NUM_THREADS", None)
    if env_value is not None:
        env["TFC_NUM_THREADS"] = env_value
    code = ("from tfcompile.runtime import native; native.set_num_threads(3); "
            "native.set_num_threads(0); print(native.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_default_threads_from_affinity_and_env(tmp_path):
    assert _threads_in_subprocess(None, tmp_path) == len(os.sched_getaffinity(0))
    assert _threads_in_subprocess("5", tmp_path) == 5


def test_aligned_alloc():
    lib, ffi = native.native_lib(), native.ffi()
    for size in (0, 1, 63, 64, 65, 1000, 1 << 20):
        p = lib.tfc_aligned_alloc(size)
        addr = int(ffi.cast("uintptr_t", p))
        assert addr != 0 and addr % 64 == 0
        buf = ffi.buffer(ffi.cast("char *", p), max(size, 1))
        buf[:] = bytes(range(256)) * (max(size, 1) // 256) + bytes(range(max(size, 1) % 256))
        lib.tfc_aligned_free(p)
    assert lib.tfc_aligned_alloc(-1) == ffi.NULL
    lib.tfc_aligned_free(ffi.NULL)


def test_symbols_and_sources(monkeypatch, tmp_path):
    monkeypatch.setenv("TFC_CACHE_DIR", str(tmp_path))
    names = native.exported_symbols()
    assert set(names) == {"tfc_parallel_for", "tfc_set_num_threads", "tfc_get_num_threads",
                          "tfc_aligned_alloc", "tfc_aligned_free"}
    for name in names:
        assert native.symbol_address(name) != 0
    with pytest.raises(KeyError, match="not a native helper"):
        native.symbol_address("malloc")
    assert native.source_path().is_file() and native.header_path().is_file()
    assert native.object_file_path().stat().st_size > 0


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CC", "no-such-c-compiler-for-tfcompile")
    with pytest.raises(native.NativeBuildError, match="no C compiler found"):
        native.compiler()
