"""Session.run dispatch overhead on a tiny graph, and the cold compile time of a
3-layer MLP forward pass.

    python benchmarks/bench_session.py
"""
import statistics
import time

import numpy as np

import tfcompile as tf


def tiny_overhead(n=20000):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [], name="x")
    y = x * 2.0 + 1.0
    xv = np.float32(3.0)
    with tf.Session() as s:
        s.run(y, {x: xv})
        samples = []
        for _ in range(20):
            t0 = time.perf_counter()
            for _ in range(n // 20):
                s.run(y, {x: xv})
            samples.append((time.perf_counter() - t0) / (n // 20) * 1e6)
    return statistics.median(samples)


def mlp_compile_time(reps=3):
    times = []
    for _ in range(reps):
        tf.reset_default_graph()
        rng = np.random.default_rng(0)
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        h = x
        for i, (m, n) in enumerate([(784, 256), (256, 128), (128, 10)]):
            W = tf.Variable(rng.standard_normal((m, n)).astype(np.float32) * 0.05)
            b = tf.Variable(np.zeros(n, np.float32))
            h = tf.matmul(h, W) + b
            if i < 2:
                h = tf.nn.relu(h)
        with tf.Session(config=tf.ConfigProto()) as s:
            s.run(tf.global_variables_initializer())
            xv = rng.standard_normal((64, 784)).astype(np.float32)
            t0 = time.perf_counter()
            s.run(h, {x: xv})
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    import os
    os.environ.setdefault("TFC_CACHE", "0")
    print(f"Session.run overhead, tiny graph (median): {tiny_overhead():.2f} us")
    print(f"3-layer MLP forward (784-256-128-10, batch 64) cold compile: "
          f"{mlp_compile_time() * 1e3:.1f} ms")
