"""Single-thread GFLOP/s of the emitted matmul kernel next to numpy's BLAS.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        python benchmarks/bench_matmul.py [--sizes 256,512] [--dtype f32] [--repeats 7]

Each size is a square C = A @ B run over the whole task range on one thread
(`--path` forces the packed or the direct kernel); times are medians of
`repeats` runs, ours and numpy's in alternation (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import time

import cffi
import llvmlite.ir as ir
import numpy as np

from tfcompile.ir.codegen.matmul import emit_matmul
from tfcompile.runtime.jit import JITModule

_ffi = cffi.FFI()
PTR = ir.PointerType()
I64 = ir.IntType(64)


def compile_matmul(dtype, m, n, k, ta=False, tb=False, **kw):
    """(JITModule, kernel): `entry(bufs)` runs the kernel over all its tasks."""
    mod = ir.Module("bench_matmul")
    kern = emit_matmul(mod, "matmul", dtype, 1, m, n, k, ta, tb, **kw)
    fn = ir.Function(mod, ir.FunctionType(ir.IntType(32), [PTR]), "entry")
    b = ir.IRBuilder(fn.append_basic_block())
    ptrs = [b.load(b.gep(fn.args[0], [ir.Constant(I64, i)], source_etype=PTR), typ=PTR)
            for i in range(3)]
    b.call(kern.function, ptrs + [ir.Constant(I64, 0), ir.Constant(I64, kern.num_tasks)])
    b.ret(ir.Constant(ir.IntType(32), 0))
    return JITModule(str(mod)), kern


def median_times(fs, repeats):
    """Median seconds of each callable, run in alternation so that both see
    the same machine load."""
    for f in fs:
        f()
    ts = [[] for _ in fs]
    for _ in range(repeats):
        for f, t in zip(fs, ts):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in ts]


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed (pip install threadpoolctl)"
    rows = [f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
            f"threads={i.get('num_threads')}" for i in threadpool_info()
            if i.get("user_api") == "blas"]
    return "; ".join(rows) or "no BLAS found"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--path", choices=["blocked", "direct"], default=None)
    args = ap.parse_args()
    np_dt = np.float32 if args.dtype == "f32" else np.float64
    print(f"BLAS: {blas_info()}")
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                                      "OPENBLAS_L2_SIZE") if k in os.environ}
    print(f"env: {env}")
    print(f"{'n':>6} {'path':>8} {'ours GF/s':>10} {'numpy GF/s':>11} {'ratio':>6} "
          f"{'max rel err':>12}")
    rng = np.random.default_rng(0)
    keep = []
    for n in (int(s) for s in args.sizes.split(",")):
        a = rng.standard_normal((n, n)).astype(np_dt)
        b = rng.standard_normal((n, n)).astype(np_dt)
        c = np.empty((n, n), np_dt)
        jm, kern = compile_matmul(args.dtype, n, n, n, path=args.path)
        keep.append(jm)
        entry = jm.entry("entry")
        bufs = _ffi.new("void*[3]", [_ffi.cast("void*", x.ctypes.data) for x in (a, b, c)])
        reps = max(3, args.repeats if n <= 1024 else args.repeats // 2 + 1)
        t_ours, t_np = median_times([lambda: entry(bufs), lambda: a @ b], reps)
        ref = a @ b
        err = float(np.abs(c - ref).max() / (np.abs(ref).max() or 1))
        g_ours, g_np = kern.flops / t_ours / 1e9, kern.flops / t_np / 1e9
        print(f"{n:>6} {kern.path:>8} {g_ours:>10.1f} {g_np:>11.1f} {g_ours / g_np:>6.2f} "
              f"{err:>12.2e}", flush=True)


if __name__ == "__main__":
    main()
