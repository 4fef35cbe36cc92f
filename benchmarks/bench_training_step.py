"""The MLP workloads of issue 8 against hand-written numpy, in one process.

    python benchmarks/bench_training_step.py [--threads 2] [--repeats 15]
        [--only train,forward,dispatch,compile]

Rows: the training step (forward, backward, update) of the 784-256-10 MLP
with Adam and with SGD at batch 128 and of the 784-144-36-10 MLP with Adam
at batch 100; the 784-256-10 forward pass at batch 128 and 1; one
`Session.run` of a tiny graph (x * 2 + 1 on a scalar); and the cold compile
and warm disk-cache load of the Adam step, each measured in a fresh process
(`--worker`): the first `Session.run` minus a later one, after the variable
initializer has run (so process start-up costs are apart).

The forward rows also time the compiled code alone (the plan's entry point
called directly, in the same alternation): the rest of a `Session.run` is
its Python run path.

Times are medians over `repeats` samples, ours and numpy's alternating so
both see the same load on a shared machine (or, with --blocks, each side's
samples together: after a call numpy's BLAS threads keep spinning for a
while, which on 2 cores takes the core our second thread needs); a sample
loops the call for a few milliseconds. Both sides use `--threads` threads (numpy's BLAS through
threadpoolctl when installed, ours through the session's ConfigProto).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


# ---------------------------------------------------------------- numpy, by hand

def np_forward(x, params, keep=False):
    acts, h = [x], x
    for i, (W, b) in enumerate(params):
        h = h @ W
        h += b
        if i < len(params) - 1:
            np.maximum(h, 0, out=h)
        acts.append(h)
    return acts if keep else h


class NumpyStep:
    """Forward, backward and the update (TF 1.x's Adam or SGD) in numpy."""

    def __init__(self, params, x, y, opt, lr):
        self.params = [(W.copy(), b.copy()) for W, b in params]
        self.flat = [p for pair in self.params for p in pair]
        self.x, self.y, self.opt, self.lr = x, y, opt, lr
        self.rows = np.arange(len(y))
        self.m = [np.zeros_like(p) for p in self.flat]
        self.v = [np.zeros_like(p) for p in self.flat]
        self.t = 0

    def __call__(self):
        acts = np_forward(self.x, self.params, keep=True)
        z = acts[-1]
        z -= z.max(axis=1, keepdims=True)
        picked = z[self.rows, self.y]
        np.exp(z, out=z)
        s = z.sum(axis=1)
        loss = float(np.mean(np.log(s) - picked))
        z /= s[:, None]
        z[self.rows, self.y] -= 1.0
        z *= np.float32(1.0 / len(self.y))
        g, grads = z, [None] * len(self.flat)
        for i in range(len(self.params) - 1, -1, -1):
            grads[2 * i] = acts[i].T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = g @ self.params[i][0].T
                g *= acts[i] > 0
        if self.opt == "sgd":
            for p, gr in zip(self.flat, grads):
                gr *= np.float32(self.lr)
                p -= gr
            return loss
        self.t += 1
        b1, b2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-8)
        lr_t = np.float32(self.lr * math.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t))
        for p, gr, m, v in zip(self.flat, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * gr
            v *= b2
            gr *= gr
            gr *= 1 - b2
            v += gr
            u = np.sqrt(v)
            u += eps
            np.divide(m, u, out=u)
            u *= lr_t
            p -= u
        return loss


# ---------------------------------------------------------------- ours

def mlp_params(dims, seed=0):
    rng = np.random.default_rng(seed)
    return [((rng.standard_normal((i, o)) * np.sqrt(2.0 / i)).astype(np.float32),
             (rng.standard_normal(o) * 0.01).astype(np.float32))
            for i, o in zip(dims[:-1], dims[1:])]


def tf_graph(tf, dims, params, train_opt=None, lr=1e-3):
    x = tf.placeholder(tf.float32, [None, dims[0]], name="x")
    h = x
    for i, (W, b) in enumerate(params):
        h = tf.matmul(h, tf.Variable(W, name=f"W{i}")) + tf.Variable(b, name=f"b{i}")
        if i < len(params) - 1:
            h = tf.nn.relu(h)
    if train_opt is None:
        return x, None, h, None
    y = tf.placeholder(tf.int64, [None], name="y")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    opt = (tf.train.AdamOptimizer(lr) if train_opt == "adam"
           else tf.train.GradientDescentOptimizer(lr))
    return x, y, loss, opt.minimize(loss)


def session(tf, graph, threads):
    return tf.Session(graph=graph, config=tf.ConfigProto(intra_op_parallelism_threads=threads))


# ---------------------------------------------------------------- timing

BLOCKS = False       # --blocks: time each function's samples together


def per_call(fs, repeats, sample_s=0.005):
    """Median seconds per call of each function, sampled in alternation (or,
    with BLOCKS, all samples of one function, a pause, then the next: numpy's
    BLAS threads spin for a while after each call, and on a 2-core machine
    that takes the core another library's second thread needs)."""
    if BLOCKS:
        out = []
        for f in fs:
            time.sleep(0.3)
            out.extend(_per_call_alternating([f], repeats, sample_s))
        return out
    return _per_call_alternating(fs, repeats, sample_s)


def _per_call_alternating(fs, repeats, sample_s):
    loops = []
    for f in fs:
        f()
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < sample_s:
            f()
            n += 1
        loops.append(max(1, n))
    samples = [[] for _ in fs]
    for _ in range(repeats):
        for f, n, out in zip(fs, loops, samples):
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            out.append((time.perf_counter() - t0) / n)
    return [float(np.median(s)) for s in samples]


def blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        import contextlib
        return contextlib.nullcontext()


def bench_train(tf, dims, batch, opt, lr, threads, repeats):
    params = mlp_params(dims)
    rng = np.random.default_rng(1)
    xb = rng.standard_normal((batch, dims[0])).astype(np.float32)
    yb = rng.integers(0, dims[-1], batch).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        x, y, loss, train = tf_graph(tf, dims, params, opt, lr)
        init = tf.global_variables_initializer()
        tvars = tf.trainable_variables()
    s = session(tf, g, threads)
    s.run(init)
    ref = NumpyStep(params, xb, yb, opt, lr)
    l_ours, _ = s.run([loss, train], {x: xb, y: yb})
    l_np = ref()
    err = max(float(np.max(np.abs(a - b_))) for a, b_ in zip(s.run(tvars), ref.flat))
    feed = {x: xb, y: yb}
    fetches = [loss, train]
    t_ours, t_np = per_call([lambda: s.run(fetches, feed), ref], repeats)
    check = f"loss {l_ours:.5f} vs {l_np:.5f}, max weight diff {err:.1e}"
    return t_ours, t_np, check


def bench_forward(tf, dims, batch, threads, repeats):
    params = mlp_params(dims)
    xb = np.random.default_rng(2).standard_normal((batch, dims[0])).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x, _, logits, _ = tf_graph(tf, dims, params)
        init = tf.global_variables_initializer()
    s = session(tf, g, threads)
    s.run(init)
    err = float(np.max(np.abs(s.run(logits, {x: xb}) - np_forward(xb, params))))
    feed = {x: xb}
    fs = [lambda: s.run(logits, feed), lambda: np_forward(xb, params)]
    runner = list(s._plans.values())[-1].runner
    if runner is not None:      # the compiled code alone: the rest is the Python run path
        entry, ptrs = runner.entry, runner.ptrs
        fs.append(lambda: entry(ptrs))
    t_ours, t_np, *t_code = per_call(fs, repeats)
    code = f", compiled code alone {fmt(t_code[0])}" if t_code else ""
    return t_ours, t_np, f"max diff {err:.1e}{code}"


def bench_dispatch(tf, threads, repeats):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * 2.0 + 1.0
    s = session(tf, g, threads)
    xv = np.float32(3.0)
    feed = {x: xv}
    t_ours, t_np = per_call([lambda: s.run(y, feed), lambda: xv * np.float32(2) + 1], repeats)
    return t_ours, t_np, "numpy column: the same arithmetic on a numpy scalar"


def worker(threads):
    """One process's first compile of the Adam step (printed as JSON)."""
    import tfcompile as tf
    dims, batch = (784, 256, 10), 128
    params = mlp_params(dims)
    rng = np.random.default_rng(1)
    xb = rng.standard_normal((batch, dims[0])).astype(np.float32)
    yb = rng.integers(0, dims[-1], batch).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        x, y, loss, train = tf_graph(tf, dims, params, "adam")
        init = tf.global_variables_initializer()
    s = session(tf, g, threads)
    t0 = time.perf_counter()
    s.run(init)
    t1 = time.perf_counter()
    feed = {x: xb, y: yb}
    s.run([loss, train], feed)
    t2 = time.perf_counter()
    later = []
    for _ in range(5):
        t = time.perf_counter()
        s.run([loss, train], feed)
        later.append(time.perf_counter() - t)
    plan = list(s._plans.values())[-1]
    st = {**plan.exe.stats, **plan.exe.compiled.stats}
    print(json.dumps({"first_run_s": t1 - t0, "compile_s": t2 - t1 - float(np.median(later)),
                      "stats": {k: v for k, v in st.items() if isinstance(v, (int, float))}}))


def spawn(cache_dir, threads):
    env = dict(os.environ, TFC_CACHE_DIR=cache_dir, TFC_CACHE="1")
    proc = subprocess.run([sys.executable, __file__, "--worker", "--threads", str(threads)],
                          capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", default="train,forward,dispatch,compile")
    ap.add_argument("--blocks", action="store_true",
                    help="time each side in its own block instead of alternating samples")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global BLOCKS
    BLOCKS = args.blocks
    if args.worker:
        worker(args.threads)
        return
    only = set(args.only.split(","))
    import tfcompile as tf
    from tfcompile.runtime import native
    native.set_num_threads(args.threads)
    print(f"threads {args.threads}, repeats {args.repeats}, "
          f"{'blocks' if BLOCKS else 'alternating'}; times per call, medians")
    print(f"{'workload':44s} {'tfcompile':>10s} {'numpy':>10s} {'np/ours':>7s}  check")
    rows = []
    with blas_threads(args.threads):
        if "train" in only:
            for dims, batch, opt, lr in [((784, 256, 10), 128, "adam", 1e-3),
                                         ((784, 256, 10), 128, "sgd", 0.1),
                                         ((784, 144, 36, 10), 100, "adam", 1e-3)]:
                label = f"train {'-'.join(map(str, dims))} {opt} b{batch}"
                rows.append((label, *bench_train(tf, dims, batch, opt, lr, args.threads,
                                                 args.repeats)))
                show(rows[-1])
        if "forward" in only:
            for batch in (128, 1):
                rows.append((f"forward 784-256-10 b{batch}",
                             *bench_forward(tf, (784, 256, 10), batch, args.threads,
                                            args.repeats)))
                show(rows[-1])
        if "dispatch" in only:
            rows.append(("Session.run, tiny graph", *bench_dispatch(tf, args.threads,
                                                                    args.repeats)))
            show(rows[-1])
    if "compile" in only:
        d = tempfile.mkdtemp(prefix="tfc-bench-cache-")
        try:
            cold = spawn(d, args.threads)
            warm = spawn(d, args.threads)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        for name, r in (("cold compile", cold), ("warm load (disk cache)", warm)):
            st = r["stats"]
            parts = [f"{k} {st[k] * 1e3:.0f}ms" for k in
                     ("optimize_s", "time_generate", "llvm_opt", "llvm_codegen", "load")
                     if k in st]
            print(f"{name + ', Adam step 784-256-10 b128':44s} {r['compile_s'] * 1e3:8.1f}ms"
                  f"  first run {r['first_run_s'] * 1e3:.0f}ms; {', '.join(parts)}")


def show(row):
    label, t_ours, t_np, check = row
    print(f"{label:44s} {fmt(t_ours):>10s} {fmt(t_np):>10s} {t_np / t_ours:7.2f}  {check}",
          flush=True)


def fmt(t):
    return f"{t * 1e6:.1f}us" if t < 1e-3 else f"{t * 1e3:.3f}ms"


if __name__ == "__main__":
    main()
