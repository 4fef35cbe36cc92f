"""TF 1.x programs run under tfcompile and under TensorFlow's own graph mode
(tf.compat.v1), compared result for result: tensor names, shapes, dtypes, values.

Skipped when TensorFlow isn't installed (it is never a dependency):
`pip install tensorflow-cpu` to run these."""
import numpy as np
import pytest

import tfcompile

tf_real = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.slow
v1 = tf_real.compat.v1
v1.disable_v2_behavior()  # graph mode, reference variables: TF 1.x semantics

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3)).astype(np.float32)
Y = RNG.standard_normal((3,)).astype(np.float32)
I = RNG.integers(-5, 6, (4, 3)).astype(np.int32)
L = np.array([0, 2, 1, 2], np.int64)


def prog_arith(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, [3], name="y")
    i = tf.placeholder(tf.int32, [None, 3], name="i")
    out = {
        "add": x + y, "sub": x - 1, "rsub": 2.0 - x, "mul": x * y, "div": x / (y + 3),
        "neg": -x, "pow": tf.abs(x) ** 1.5, "floordiv": i // 2, "mod": i % 3,
        "idiv": i / 2, "cmp": x > y, "max": tf.maximum(x, y), "sq": tf.square(x),
        "sum": tf.reduce_sum(x, 1), "mean": tf.reduce_mean(x, 0, keepdims=True),
        "imean": tf.reduce_mean(i, 1), "max_all": tf.reduce_max(x), "argmax": tf.argmax(x, 1),
        "cast": tf.cast(x, tf.int32), "sig": tf.sigmoid(x), "tanh": tf.tanh(x),
        "matmul": tf.matmul(x, tf.reshape(y, [3, 1])), "t": tf.transpose(x),
        "slice": x[1:, ::-1], "idx": x[:, 0], "shape": tf.shape(x),
        "ones_like": tf.ones_like(x), "fill": tf.fill([2, 2], 3.0),
        "relu": tf.nn.relu(x), "softmax": tf.nn.softmax(x),
        "logsoftmax": tf.nn.log_softmax(x),
    }
    return out, {x: X, y: Y, i: I}


def prog_training(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    lab = tf.placeholder(tf.int64, [None], name="labels")
    W = tf.Variable(np.full((3, 3), 0.1, np.float32), name="W")
    b = tf.Variable(tf.zeros([3]), name="b")
    logits = tf.matmul(x, W) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=lab, logits=logits))
    grads = tf.gradients(loss, [W, b])
    step = tf.train.AdamOptimizer(0.1).minimize(loss)
    return {"loss": loss, "gW": grads[0], "gb": grads[1], "logits": logits,
            "step": step}, {x: X, lab: L}


# Where TensorFlow 2's compat.v1 names differ from TF 1.15 (our reference): TF 2's
# add gradient skips the reduction of an input that needs none.
TF2_NAMES_DIFFER = {"gb", "einsum"}  # TF 1.15 has a Python einsum (matmul + reshapes)


def _run(module, prog, steps=1):
    g = module.Graph()
    with g.as_default():
        fetches, feeds = prog(module)
        tensors = {k: v for k, v in fetches.items() if hasattr(v, "dtype")}
        meta = {k: (v.name, v.shape.as_list() if v.shape.ndims is not None else None,
                    v.dtype.name) for k, v in tensors.items()}
        with module.Session() as s:
            s.run(module.global_variables_initializer())
            results = [s.run(fetches, feeds) for _ in range(steps)]
    return meta, results


@pytest.mark.parametrize("prog,steps", [(prog_arith, 1), (prog_training, 3)])
def test_same_as_tensorflow(prog, steps):
    meta_ours, res_ours = _run(tfcompile, prog, steps)
    meta_tf, res_tf = _run(v1, prog, steps)
    diffs = [f"{k}: ours {meta_ours[k]} vs TF {meta_tf[k]}" for k in meta_tf
             if meta_ours[k] != meta_tf[k] and k not in TF2_NAMES_DIFFER]
    for ours, theirs in zip(res_ours, res_tf):
        for k in theirs:
            if theirs[k] is None:
                if ours[k] is not None:
                    diffs.append(f"{k}: expected None")
                continue
            a, b = np.asarray(ours[k]), np.asarray(theirs[k])
            if a.dtype != b.dtype or a.shape != b.shape:
                diffs.append(f"{k}: ours {a.dtype}{a.shape} vs TF {b.dtype}{b.shape}")
            elif not np.allclose(a, b, rtol=2e-5, atol=2e-6):
                diffs.append(f"{k}: values differ, max abs diff {np.max(np.abs(a - b))}")
    assert not diffs, "\n".join(diffs)


def prog_scopes_layers(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="inp")
    init = tf.constant_initializer(0.05)
    with tf.variable_scope("model"):
        k1 = tf.get_variable("k1", [3, 4], initializer=init)
        h = tf.nn.relu(tf.matmul(x, k1))
        k2 = tf.get_variable("k2", [4, 2], initializer=init)
        h2 = tf.matmul(h, k2)
        with tf.variable_scope("extra"):
            v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    with tf.variable_scope("model", reuse=True):
        v2 = tf.get_variable("extra/v")
    with tf.name_scope("ns"):
        w = tf.get_variable("w", [2], initializer=tf.zeros_initializer())
        z = tf.add(h2 * v2, w, name="z")
    out = {"h": h, "h2": h2, "v": v.value(), "z": z,
           "xent": tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.nn.softmax(h2),
                                                              logits=h2),
           "sig_xent": tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.sigmoid(h2),
                                                                logits=h2),
           "l2": tf.nn.l2_loss(h2), "elu": tf.nn.elu(h2), "softplus": tf.nn.softplus(h2),
           "leaky": tf.nn.leaky_relu(h2), "relu6": tf.nn.relu6(h2 * 10),
           "bias": tf.nn.bias_add(h2, tf.constant([1.0, 2.0]))}
    return out, {x: X}


def _opt_prog(make):
    def prog(tf):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        lab = tf.placeholder(tf.int64, [None], name="labels")
        W = tf.Variable(np.full((3, 3), 0.1, np.float32), name="W")
        b = tf.Variable(tf.zeros([3]), name="b")
        logits = tf.matmul(x, W) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=lab, logits=logits))
        gs = tf.train.get_or_create_global_step()
        step = make(tf).minimize(loss, global_step=gs)
        return {"loss": loss, "step": step, "W": W.value(), "gs": gs.value()}, {x: X, lab: L}
    return prog


OPTIMIZERS = {
    "sgd": lambda tf: tf.train.GradientDescentOptimizer(0.5),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.3),
    "adadelta": lambda tf: tf.train.AdadeltaOptimizer(1.0),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.05),
    "rmsprop_centered": lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.5,
                                                             centered=True),
    "adam": lambda tf: tf.train.AdamOptimizer(0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_same_as_tensorflow(name):
    test_same_as_tensorflow(_opt_prog(OPTIMIZERS[name]), 4)


def test_scopes_layers_nn_same_as_tensorflow():
    test_same_as_tensorflow(prog_scopes_layers, 1)


def test_graph_names_same_as_tensorflow():
    """Every name TF gives outside op internals (which TF 2's compat.v1 also
    renames: gradient helpers, the cross-entropy's reshapes) exists here too."""
    def names(module):
        g = module.Graph()
        with g.as_default():
            prog_scopes_layers(module)
            _opt_prog(OPTIMIZERS["adam"])(module)
            variables = [v.name for v in module.global_variables()]
        return [op.name for op in g.get_operations()], variables
    (ours, our_vars), (theirs, their_vars) = names(tfcompile), names(v1)
    assert our_vars == their_vars
    internal = ("softmax_cross_entropy_with_logits/", "gradients/")
    missing = [n for n in theirs if n not in set(ours) and not n.startswith(internal)
               and n not in ("Adam/value",)]
    assert not missing, missing


ERROR_CASES = {
    "missing_feed": lambda tf, s: s.run(tf.placeholder(tf.float32, [2], name="p") * 2),
    "feed_shape": lambda tf, s: (lambda p: s.run(p, {p: np.zeros(3)}))(
        tf.placeholder(tf.float32, [2])),
    "feed_op": lambda tf, s: (lambda p: s.run(p, {p.op: 1.0}))(tf.placeholder(tf.float32)),
    "bad_fetch_name": lambda tf, s: (tf.constant(1.0), s.run("nothing:0")),
    "empty_graph": lambda tf, s: s.run([]),
    "dtype_mismatch": lambda tf, s: tf.constant(1) + tf.constant(1.0),
    "matmul_shapes": lambda tf, s: tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 2])),
    "broadcast_shapes": lambda tf, s: tf.zeros([2, 3]) + tf.zeros([2, 4]),
    "reshape_count": lambda tf, s: tf.reshape(tf.zeros([2, 3]), [4]),
    "uninitialized": lambda tf, s: s.run(tf.Variable(1.0) * 2),
    "runtime_broadcast": lambda tf, s: (lambda a, b: s.run(a + b, {a: np.ones(3),
                                                                 b: np.ones(4)}))(
        tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])),
    "const_dtype": lambda tf, s: tf.constant(1.5, dtype=tf.int32),
}
# (bool(tensor): TF 1.15 raises TypeError, as we do; TF 2's compat.v1 a subclass of its own.)


def _error_type(module, case):
    g = module.Graph()
    with g.as_default(), module.Session(graph=g) as s:
        try:
            case(module, s)
        except Exception as e:  # noqa: BLE001 - the class is what we compare
            errors = module.errors
            for name in ("InvalidArgumentError", "FailedPreconditionError", "NotFoundError"):
                if isinstance(e, getattr(errors, name)):
                    return name
            return type(e).__name__
    return None


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_types_same_as_tensorflow(case):
    assert _error_type(tfcompile, ERROR_CASES[case]) == _error_type(v1, ERROR_CASES[case])


def prog_losses(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    lab = tf.placeholder(tf.int64, [None], name="labels")
    w = tf.constant([1.0, 0.0, 2.0, 1.0])
    onehot = tf.one_hot(lab, 3)
    return {
        "sparse": tf.losses.sparse_softmax_cross_entropy(lab, x),
        "sparse_w": tf.losses.sparse_softmax_cross_entropy(lab, x, weights=w),
        "softmax": tf.losses.softmax_cross_entropy(onehot, x, label_smoothing=0.1),
        "sigmoid": tf.losses.sigmoid_cross_entropy(onehot, x),
        "mse": tf.losses.mean_squared_error(onehot, x),
        "abs": tf.losses.absolute_difference(onehot, x),
        "huber": tf.losses.huber_loss(onehot, x),
        "none": tf.losses.mean_squared_error(onehot, x, loss_collection=None,
                                             reduction=tf.losses.Reduction.NONE),
        "total": tf.losses.get_total_loss(),
    }, {x: X, lab: L}


def test_losses_same_as_tensorflow():
    test_same_as_tensorflow(prog_losses, 1)


def prog_cond(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    p = tf.placeholder_with_default(True, [], name="p")
    y = tf.cond(p, lambda: x * 2, lambda: x - 1)
    return {"y": y, "g": tf.gradients(tf.reduce_sum(y * y), x)[0]}, {x: X}


def test_cond_same_as_tensorflow():
    test_same_as_tensorflow(prog_cond, 1)


IMG = RNG.standard_normal((2, 7, 7, 3)).astype(np.float32)
KER = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
SQ = (RNG.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float64)


def prog_array_conv(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    img = tf.placeholder(tf.float32, [None, 7, 7, 3], name="img")
    k = tf.constant(KER)
    m = tf.constant(SQ)
    conv = tf.nn.conv2d(img, k, strides=[1, 2, 2, 1], padding="SAME")
    parts = tf.split(x, 3, axis=1)
    out = {
        "concat": tf.concat([x, x * 2], 0), "split0": parts[0], "split2": parts[2],
        "stack": tf.stack([x, x], axis=1), "unstack": tf.unstack(x, axis=1)[1],
        "expand": tf.expand_dims(x, -1), "squeeze": tf.squeeze(tf.expand_dims(x, 0), [0]),
        "tile": tf.tile(x, [2, 1]), "pad": tf.pad(x, [[1, 0], [0, 2]]),
        "pad_reflect": tf.pad(x, [[1, 1], [1, 1]], mode="REFLECT"),
        "reverse": tf.reverse(x, [1]), "gather": tf.gather(x, [2, 0], axis=0),
        "gather_nd": tf.gather_nd(x, [[0, 1], [3, 2]]),
        "one_hot": tf.one_hot([0, 2, 1], 3), "range": tf.range(2, 11, 3),
        "cumsum": tf.cumsum(x, axis=0, exclusive=True), "argsort": tf.argsort(x[0]),
        "topk": tf.nn.top_k(x, 2).values, "clip": tf.clip_by_value(x, -0.5, 0.5),
        "logsumexp": tf.reduce_logsumexp(x, 1), "where": tf.where(x > 0, x, -x),
        "inv": tf.matrix_inverse(m), "det": tf.matrix_determinant(m),
        "chol": tf.cholesky(tf.matmul(m, m, transpose_b=True)), "trace": tf.trace(m),
        "conv": conv, "conv_valid": tf.nn.conv2d(img, k, [1, 1, 1, 1], "VALID"),
        "maxpool": tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
        "avgpool": tf.nn.avg_pool(img, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
        "conv_grad": tf.gradients(tf.reduce_sum(tf.nn.max_pool(
            conv, [1, 2, 2, 1], [1, 1, 1, 1], "VALID") ** 2), [img, k])[1],
        "einsum": tf.einsum("ij,jk->ik", x, tf.transpose(x)),
    }
    return out, {x: X, img: IMG}


def test_array_and_conv_ops_same_as_tensorflow():
    test_same_as_tensorflow(prog_array_conv, 1)
