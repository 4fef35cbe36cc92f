"""Call overhead on a tiny graph (y = x*2 + 1 over 4 floats): a compiled
Executable, a @jit function, and Session.run, plus jax.jit when installed.

    python benchmarks/bench_call_overhead.py
"""
import statistics
import time

import numpy as np

import tfcompile
import tfcompile as tf


def per_call_us(fn, n=20000, rounds=15):
    fn()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n // rounds):
            fn()
        samples.append((time.perf_counter() - t0) / (n // rounds) * 1e6)
    return statistics.median(samples)


def main():
    v = np.ones(4, np.float32)
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None], name="x")
    y = x * 2.0 + 1.0
    sess = tf.Session()
    exe = tfcompile.compile(y, [x], session=sess)

    @tfcompile.jit
    def f(a):
        return a * 2.0 + 1.0

    rows = [("tfcompile Executable", per_call_us(lambda: exe(v))),
            ("tfcompile @jit", per_call_us(lambda: f(v))),
            ("tfcompile Session.run", per_call_us(lambda: sess.run(y, {x: v})))]
    try:
        import jax
        g = jax.jit(lambda a: a * 2.0 + 1.0)
        rows.append(("jax.jit", per_call_us(lambda: g(v).block_until_ready())))
    except ImportError:
        rows.append(("jax.jit", None))
    base = rows[0][1]
    print(f"{'path':26s} {'us/call':>8s} {'vs Executable':>14s}")
    for name, us in rows:
        if us is None:
            print(f"{name:26s} {'(not installed)':>8s}")
        else:
            print(f"{name:26s} {us:8.2f} {us / base:13.2f}x")


if __name__ == "__main__":
    main()
