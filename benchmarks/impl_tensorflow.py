"""TensorFlow CPU peers: TF 2 with XLA (`tf.function(jit_compile=True)` around
the whole computation, state in tf.Variables) and TF 1.x graph mode through
tf.compat.v1 (placeholders, `Session.run`, tf.compat.v1.train optimizers).

TensorFlow sizes its thread pools once per process, before its first op; the
suite calls `configure(n)` first and both peers skip cases run on another
thread count.
"""
from __future__ import annotations

import os

from .harness import Impl, Unsupported, to_numpy

_threads = None


def configure(threads: int) -> None:
    """The one thread count TensorFlow gets in this process (before import)."""
    global _threads
    _threads = int(threads)


def _tf(threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    global _threads
    if _threads is None:
        _threads = threads
    if not getattr(_tf, "_configured", False):
        try:
            tf.config.threading.set_intra_op_parallelism_threads(_threads)
            tf.config.threading.set_inter_op_parallelism_threads(_threads)
        except RuntimeError:    # already initialized by someone else: leave it
            pass
        _tf._configured = True
    if threads != _threads:
        raise Unsupported(f"TensorFlow sizes its thread pools once per process "
                          f"(this run: {_threads} threads)")
    return tf


def available():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    return tf.__version__


def _adam_constants(d):
    return float(d.lr), float(d.beta1), float(d.beta2), float(d.eps)


class XLA:
    """TF 2, one XLA cluster per call (`jit_compile=True`)."""
    NAME = "TF XLA"

    @staticmethod
    def elementwise(d, threads):
        tf = _tf(threads)
        x, w, b = (tf.constant(a) for a in (d.x, d.w, d.b))
        f = tf.function(lambda x, w, b: tf.nn.relu(x * w + b) * 0.5 + tf.tanh(x),
                        jit_compile=True)
        return Impl(lambda: f(x, w, b))

    @staticmethod
    def matmul(d, threads):
        tf = _tf(threads)
        a, b = tf.constant(d.a), tf.constant(d.b)
        f = tf.function(lambda a, b: tf.matmul(a, b), jit_compile=True)
        return Impl(lambda: f(a, b))

    @staticmethod
    def _variables(tf, params):
        vs = []
        for W, b in params:
            vs += [tf.Variable(W), tf.Variable(b)]
        return vs

    @staticmethod
    def _logits(tf, x, vs):
        h = x
        n = len(vs) // 2
        for i in range(n):
            h = tf.matmul(h, vs[2 * i]) + vs[2 * i + 1]
            if i < n - 1:
                h = tf.nn.relu(h)
        return h

    @staticmethod
    def mlp_forward(d, threads):
        tf = _tf(threads)
        vs = XLA._variables(tf, d.params)
        x = tf.constant(d.x)
        f = tf.function(lambda x: XLA._logits(tf, x, vs), jit_compile=True)
        return Impl(lambda: f(x))

    @staticmethod
    def train_step(d, threads):
        tf = _tf(threads)
        vs = XLA._variables(tf, d.params)
        x, y = tf.constant(d.x), tf.constant(d.y)
        lr, b1, b2, eps = _adam_constants(d)
        if d.opt == "adam":
            ms = [tf.Variable(tf.zeros_like(v)) for v in vs]
            us = [tf.Variable(tf.zeros_like(v)) for v in vs]
            t = tf.Variable(0.0)

        def step(x, y):
            with tf.GradientTape() as tape:
                logits = XLA._logits(tf, x, vs)
                loss = tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            grads = tape.gradient(loss, vs)
            if d.opt == "adam":
                t.assign_add(1.0)
                lr_t = lr * tf.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
                for p, g, m, u in zip(vs, grads, ms, us):
                    m.assign(b1 * m + (1.0 - b1) * g)
                    u.assign(b2 * u + (1.0 - b2) * g * g)
                    p.assign_sub(lr_t * m / (tf.sqrt(u) + eps))
            else:
                for p, g in zip(vs, grads):
                    p.assign_sub(lr * g)
            return loss
        f = tf.function(step, jit_compile=True)
        return Impl(lambda: f(x, y),
                    lambda loss: [to_numpy(loss)] + [to_numpy(v) for v in vs])

    @staticmethod
    def dispatch(d, threads):
        tf = _tf(threads)
        x = tf.constant(d.x)
        f = tf.function(lambda x: x * 2.0 + 1.0, jit_compile=True)
        return Impl(lambda: f(x))


class V1Graph:
    """TF 1.x graph mode: tf.compat.v1 placeholders and Session.run."""
    NAME = "TF1 graph"

    @staticmethod
    def _session(tf, g, threads):
        cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                       inter_op_parallelism_threads=threads)
        return tf.compat.v1.Session(graph=g, config=cfg)

    @staticmethod
    def _run(tf, threads, build):
        """Builds `build(tf.compat.v1)` -> (fetches, feed) on a new graph."""
        g = tf.Graph()
        with g.as_default():
            fetches, feed, init = build(tf.compat.v1)
        s = V1Graph._session(tf, g, threads)
        if init is not None:
            s.run(init)
        return s, fetches, feed

    @staticmethod
    def elementwise(d, threads):
        tf = _tf(threads)

        def build(v1):
            ph = [v1.placeholder(tf.float32, a.shape) for a in (d.x, d.w, d.b)]
            x, w, b = ph
            y = tf.nn.relu(x * w + b) * 0.5 + tf.tanh(x)
            return y, dict(zip(ph, (d.x, d.w, d.b))), None
        s, y, feed = V1Graph._run(tf, threads, build)
        return Impl(lambda: s.run(y, feed))

    @staticmethod
    def matmul(d, threads):
        tf = _tf(threads)

        def build(v1):
            a = v1.placeholder(tf.float32, d.a.shape)
            b = v1.placeholder(tf.float32, d.b.shape)
            return tf.matmul(a, b), {a: d.a, b: d.b}, None
        s, c, feed = V1Graph._run(tf, threads, build)
        return Impl(lambda: s.run(c, feed))

    @staticmethod
    def _stack(tf, v1, x, params):
        vs, h = [], x
        for i, (W, b) in enumerate(params):
            Wv, bv = v1.Variable(W), v1.Variable(b)
            vs += [Wv, bv]
            h = tf.matmul(h, Wv) + bv
            if i < len(params) - 1:
                h = tf.nn.relu(h)
        return vs, h

    @staticmethod
    def mlp_forward(d, threads):
        tf = _tf(threads)

        def build(v1):
            x = v1.placeholder(tf.float32, [None, d.x.shape[1]])
            _, logits = V1Graph._stack(tf, v1, x, d.params)
            return logits, {x: d.x}, v1.global_variables_initializer()
        s, logits, feed = V1Graph._run(tf, threads, build)
        return Impl(lambda: s.run(logits, feed))

    @staticmethod
    def train_step(d, threads):
        tf = _tf(threads)
        holder = {}

        def build(v1):
            x = v1.placeholder(tf.float32, [None, d.x.shape[1]])
            y = v1.placeholder(tf.int64, [None])
            vs, logits = V1Graph._stack(tf, v1, x, d.params)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            if d.opt == "adam":
                opt = v1.train.AdamOptimizer(d.lr, beta1=d.beta1, beta2=d.beta2, epsilon=d.eps)
            else:
                opt = v1.train.GradientDescentOptimizer(d.lr)
            holder["vars"] = vs
            return [loss, opt.minimize(loss)], {x: d.x, y: d.y}, v1.global_variables_initializer()
        s, fetches, feed = V1Graph._run(tf, threads, build)
        return Impl(lambda: s.run(fetches, feed),
                    lambda ret: [to_numpy(ret[0])] + [to_numpy(v) for v in s.run(holder["vars"])])

    @staticmethod
    def dispatch(d, threads):
        tf = _tf(threads)

        def build(v1):
            x = v1.placeholder(tf.float32, [])
            return x * 2.0 + 1.0, {x: d.x}, None
        s, y, feed = V1Graph._run(tf, threads, build)
        return Impl(lambda: s.run(y, feed))
