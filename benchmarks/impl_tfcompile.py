"""The workloads written the way a user writes them with tfcompile: a TF 1.x
graph and one `Session.run` per call (compiled on the first run).

Threads: the session gets `ConfigProto(intra_op_parallelism_threads=n)`; the
harness also sets the runtime's pool to `n` (runtime/native.py), which is the
count the compiled code actually reads.
"""
from __future__ import annotations

from .harness import Impl, to_numpy

NAME = "tfcompile"


def _session(threads):
    import tfcompile as tf
    g = tf.Graph()
    return tf, g, (lambda: tf.Session(graph=g, config=tf.ConfigProto(
        intra_op_parallelism_threads=threads)))


def elementwise(d, threads):
    tf, g, new_session = _session(threads)
    with g.as_default():
        n = d.x.shape[0]
        x = tf.placeholder(tf.float32, [n], name="x")
        w = tf.placeholder(tf.float32, list(d.w.shape), name="w")
        b = tf.placeholder(tf.float32, list(d.b.shape), name="b")
        y = tf.nn.relu(x * w + b) * 0.5 + tf.tanh(x)
    s = new_session()
    feed = {x: d.x, w: d.w, b: d.b}
    return Impl(lambda: s.run(y, feed))


def matmul(d, threads):
    tf, g, new_session = _session(threads)
    with g.as_default():
        a = tf.placeholder(tf.float32, d.a.shape, name="a")
        b = tf.placeholder(tf.float32, d.b.shape, name="b")
        c = tf.matmul(a, b)
    s = new_session()
    feed = {a: d.a, b: d.b}
    return Impl(lambda: s.run(c, feed))


def _dense_stack(tf, x, params):
    """Variables and logits of relu(x W1 + b1) ... W_last + b_last."""
    variables = []
    h = x
    for i, (W, b) in enumerate(params):
        Wv = tf.Variable(W, name=f"W{i + 1}")
        bv = tf.Variable(b, name=f"b{i + 1}")
        variables += [Wv, bv]
        h = tf.matmul(h, Wv) + bv
        if i < len(params) - 1:
            h = tf.nn.relu(h)
    return variables, h


def mlp_forward(d, threads):
    tf, g, new_session = _session(threads)
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, d.x.shape[1]], name="x")
        _, logits = _dense_stack(tf, x, d.params)
        init = tf.global_variables_initializer()
    s = new_session()
    s.run(init)
    feed = {x: d.x}
    return Impl(lambda: s.run(logits, feed))


def train_graph(tf, d):
    """(x, y, loss, train_op, variables) of the MLP training step on a default graph."""
    x = tf.placeholder(tf.float32, [None, d.x.shape[1]], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    variables, logits = _dense_stack(tf, x, d.params)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    if d.opt == "adam":
        opt = tf.train.AdamOptimizer(d.lr, beta1=d.beta1, beta2=d.beta2, epsilon=d.eps)
    else:
        opt = tf.train.GradientDescentOptimizer(d.lr)
    return x, y, loss, opt.minimize(loss), variables


def train_step(d, threads):
    tf, g, new_session = _session(threads)
    with g.as_default():
        x, y, loss, train_op, variables = train_graph(tf, d)
        init = tf.global_variables_initializer()
    s = new_session()
    s.run(init)
    feed = {x: d.x, y: d.y}
    fetches = [loss, train_op]

    def outputs(ret):
        return [to_numpy(ret[0])] + [to_numpy(v) for v in s.run(variables)]
    return Impl(lambda: s.run(fetches, feed), outputs)


def dispatch(d, threads):
    tf, g, new_session = _session(threads)
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * 2.0 + 1.0
    s = new_session()
    feed = {x: d.x}
    return Impl(lambda: s.run(y, feed))

