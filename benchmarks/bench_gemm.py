"""float32 matmul GFLOP/s: the GEMM library, alone and through Session.run, next
to numpy's BLAS, on 1 and 2 threads.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_gemm.py [--sizes 256,512,1024,2048] [--threads 1,2]

Rows per size and thread count: `library` is one call of the library
function the compiler picks for that shape (ir/codegen/gemm.py; one thread,
so only on the 1-thread rows), `session` is `Session.run` of `tf.matmul` on
placeholders (tasks split across the runtime's pool), `numpy` is `a @ b` with
its BLAS limited to the same threads (threadpoolctl). Best-of and median of
`--repeats` runs, taken in turns (three rounds of blocks of calls, a 0.2 s
pause before each block so the last library's spinning threads have gone to
sleep) so all see the same machine load.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

import cffi
import numpy as np

_ffi = cffi.FFI()
SIG = "void(*)(void*,void*,void*,int64_t,int64_t,int64_t,int64_t,int64_t,int64_t,int64_t)"


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')}"
                     for i in threadpool_info() if i.get("user_api") == "blas") or "no BLAS"


def blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        return contextlib.nullcontext()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    import tfcompile as tf
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.harness import timed_blocks
    from tfcompile.ir.codegen import gemm, library
    from tfcompile.ir.codegen.dot_nests import library_kind
    from tfcompile.runtime import native
    print(f"BLAS: {blas_info()}")
    print(f"{'n':>5} {'thr':>3} {'path':>9} {'library':>15} {'session':>15} {'numpy':>15} "
          f"{'sess/np':>7}   (GFLOP/s best / median)")
    rng = np.random.default_rng(0)
    for n in (int(s) for s in args.sizes.split(",")):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        c = np.empty((n, n), np.float32)
        kind = library_kind("f32", n, n, n, False, False)
        lib = _ffi.cast(SIG, library.address(gemm.symbol(kind, "f32")))
        ptrs = [_ffi.cast("void *", x.ctypes.data) for x in (a, b, c)]
        g = tf.Graph()
        with g.as_default():
            pa = tf.placeholder(tf.float32, [n, n])
            pb = tf.placeholder(tf.float32, [n, n])
            prod = tf.matmul(pa, pb)
        for threads in (int(t) for t in args.threads.split(",")):
            s = tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=threads))
            feed = {pa: a, pb: b}
            got = s.run(prod, feed)
            calls = {"session": lambda: s.run(prod, feed), "numpy": lambda: a @ b}
            if threads == 1:
                calls["library"] = lambda: lib(*ptrs, n, n, n, n, n, n, 0)
            with blas_threads(threads):
                np.testing.assert_allclose(got, a @ b, rtol=1e-3, atol=1e-2 * np.sqrt(n))
                reps = args.repeats if n <= 1024 else max(3, args.repeats // 2)
                # Turns of several calls after a pause, not call by call: OpenBLAS's
                # threads spin for a while after each call and would take the
                # second core from the next library's threads.
                stats = timed_blocks([(1, f) for f in calls.values()], reps, 3, 0.2)
            times = dict(zip(calls, stats))          # name -> (median, fastest)
            native.set_num_threads(0)
            flops = 2.0 * n ** 3

            def col(k):
                if k not in times:
                    return ""
                return f"{flops / times[k][1] / 1e9:6.1f} / {flops / times[k][0] / 1e9:5.1f}"
            ratio = times["numpy"][0] / times["session"][0]
            print(f"{n:>5} {threads:>3} {kind:>9} {col('library'):>15} {col('session'):>15} "
                  f"{col('numpy'):>15} {ratio:7.2f}", flush=True)


if __name__ == "__main__":
    main()
