"""A fused elementwise expression against numpy and the memory-bound limit.

    python benchmarks/bench_fused_elementwise.py [--n 16777216] [--repeats 9] [--same-shape]

    y = relu(x * w + b) * 0.5 + tanh(x)

x is a float32 vector of n elements fed to Session.run; w and b are fed as
float32 scalars (with --same-shape: as arrays of x's shape). One thread
(TFC_NUM_THREADS=1 is set before tfcompile loads). Rows, all in one run,
timed in alternation (median of `repeats`, the machine may be shared):

  tfcompile Session.run    end to end: feeds, a fresh result array, the kernel
  tfcompile kernel         the compiled entry alone, result buffer reused
  tfcompile, unoptimized   the same graph with TFC_OPT off (one kernel per op)
  kernel without tanh      diagnostic: relu(x*w + b)*0.5 + x, the same memory
                           traffic without the transcendental
  numpy eager              the expression as numpy evaluates it
  memory-bound (copy)      np.copyto moving the kernel's bytes (reads + writes)
  memory-bound (alloc)     the same copy into a freshly allocated array, as
                           Session.run's result is

Targets: >= 5x faster than numpy, within 1.3x of the memory-bound time.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ["TFC_NUM_THREADS"] = "1"
os.environ["TFC_CACHE"] = "0"       # compile here: the passes' statistics are reported

import numpy as np  # noqa: E402

import tfcompile as tf  # noqa: E402


def median_times(fs, repeats):
    for f in fs:
        f()
    ts = [[] for _ in fs]
    for _ in range(repeats):
        for f, t in zip(fs, ts):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in ts]


def build(n, same_shape, optimize, tanh=True):
    g = tf.Graph()
    with g.as_default():
        shape = [n] if same_shape else []
        x = tf.placeholder(tf.float32, [n], name="x")
        w = tf.placeholder(tf.float32, shape, name="w")
        b = tf.placeholder(tf.float32, shape, name="b")
        y = tf.nn.relu(x * w + b) * 0.5 + (tf.tanh(x) if tanh else x)
    sess = tf.Session(graph=g, config=tf.ConfigProto(tfc_optimize=optimize))
    return sess, x, w, b, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1 << 24)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--same-shape", action="store_true",
                    help="feed w and b as arrays of x's shape instead of scalars")
    args = ap.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    xv = rng.standard_normal(n, dtype=np.float32)
    if args.same_shape:
        wv = rng.standard_normal(n, dtype=np.float32)
        bv = rng.standard_normal(n, dtype=np.float32)
    else:
        wv, bv = np.float32(0.75), np.float32(-0.25)

    sess, x, w, b, y = build(n, args.same_shape, True)
    feeds = {x: xv, w: wv, b: bv}
    got = sess.run(y, feeds)                       # compiles
    want = np.maximum(xv * wv + bv, 0) * np.float32(0.5) + np.tanh(xv)
    err = float(np.max(np.abs(got - want)))
    plan = next(iter(sess._plans.values()))
    kernels = plan.exe.stats["passes"]["kernels"]
    exe = plan.exe
    out = np.empty(n, np.float32)
    params = [feeds[obj] for kind, obj in plan.params]
    params = [np.asarray(p, np.float32) for p in params]

    usess, ux, uw, ub, uy = build(n, args.same_shape, False)
    ufeeds = {ux: xv, uw: wv, ub: bv}
    usess.run(uy, ufeeds)

    nsess, nx, nw, nb, ny = build(n, args.same_shape, True, tanh=False)
    nsess.run(ny, {nx: xv, nw: wv, nb: bv})
    nexe = next(iter(nsess._plans.values())).exe

    def numpy_eager():
        return np.maximum(xv * wv + bv, 0) * np.float32(0.5) + np.tanh(xv)

    # Bytes the fused kernel must move: its inputs once, its output once.
    in_bytes = xv.nbytes + (wv.nbytes + bv.nbytes if args.same_shape else 0)
    moved = in_bytes + out.nbytes
    src = np.ones(moved // 8, np.float32)          # copy: reads + writes = moved bytes
    dst = np.empty_like(src)

    rows = [
        ("tfcompile Session.run", lambda: sess.run(y, feeds)),
        ("tfcompile kernel", lambda: exe.call(params, [out])),
        ("tfcompile, unoptimized", lambda: usess.run(uy, ufeeds)),
        ("kernel without tanh", lambda: nexe.call(params, [out])),
        ("numpy eager", numpy_eager),
        ("memory-bound (copy)", lambda: np.copyto(dst, src)),
        ("memory-bound (alloc)", lambda: src.copy()),
    ]
    times = median_times([f for _, f in rows], args.repeats)
    t = dict(zip([r for r, _ in rows], times))

    print(f"y = relu(x*w + b)*0.5 + tanh(x), n = {n}, w and b "
          f"{'arrays of x' + chr(39) + 's shape' if args.same_shape else 'scalars'}, "
          f"1 thread, {kernels} kernel(s), max |error| vs numpy {err:.2e}")
    print(f"bytes moved by the kernel: {moved / 1e6:.1f} MB")
    print(f"{'':26s} {'ms':>9s} {'GB/s':>7s} {'vs numpy':>9s} {'vs copy':>8s} {'vs alloc':>9s}")
    for name, _ in rows:
        s = t[name]
        print(f"{name:26s} {s * 1e3:9.2f} {moved / s / 1e9:7.2f} {t['numpy eager'] / s:8.2f}x "
              f"{s / t['memory-bound (copy)']:7.2f}x {s / t['memory-bound (alloc)']:8.2f}x")
    print("targets: Session.run >= 5x faster than numpy, <= 1.3x the memory-bound time")


if __name__ == "__main__":
    main()
