"""TF 1.x programs run under tfcompile and under TensorFlow's own graph mode
(tf.compat.v1), compared result for result: tensor names, shapes, dtypes,
values, graph structure, reprs and the exceptions raised.

Our reference is TF 1.15. Where TF 2's compat.v1 builds differently from 1.15
the difference is listed (TF2_NAMES_DIFFER, TF2_GRAPH_INTERNALS, and comments
at the cases). Random values are compared by statistics only: our generator
differs from TF's by design.

Skipped when TensorFlow isn't installed (it is never a dependency):
`pip install tensorflow-cpu` to run these."""
import os
import tempfile

import numpy as np
import pytest

import tfcompile

tf_real = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.slow
v1 = tf_real.compat.v1
v1.disable_v2_behavior()  # graph mode, reference variables: TF 1.x semantics
tf_real.get_logger().setLevel("ERROR")

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


# Where TensorFlow 2's compat.v1 names differ from TF 1.15 (our reference):
# - TF 2's gradients of binary ops (add, mul, maximum, minimum, pow,
#   squared_difference) skip the reduce/reshape of an input whose shape needs
#   none, so its result is `mul_1` or `SelectV2` where TF 1.15 gives `Reshape`;
# - TF 2's softplus gradient is grad * sigmoid (1.15: the SoftplusGrad op);
# - TF 2 fills default grad_ys with an op named `grad_ys_0` (1.15: a `Fill` fed
#   by the constant `grad_ys_0`);
# - TF 1.15 has a Python einsum (matmul + reshapes), TF 2 an Einsum op;
# - TF 2 runs a variable scope's regularizer more than once (extra Sum/mul ops,
#   so later constants are numbered one higher).
TF2_NAMES_DIFFER = {"gb", "einsum", "g_min", "g_softplus", "g_bias", "g_moments",
                    "g_clip", "g_identity", "g_sqdiff", "g_self", "g_var_read", "g_b",
                    "g_hessian_like", "g_gather", "names", "ntrain", "nglobal", "nlocal",
                    "scope_name", "nreg", "reg", "conv2d_t", "counts"}
# conv2d_t: TF 1.15's Conv2DBackpropInput takes its whole shape from output_shape
# ([2, 12, 12, 2]); TF 2 leaves the batch dimension unknown.


def _meta(t):
    return (t.name, t.shape.as_list() if t.shape.ndims is not None else None, t.dtype.name)


def _run(module, prog, steps=1):
    g = module.Graph()
    with g.as_default():
        fetches, feeds = prog(module)
        tensors = {k: v for k, v in fetches.items()
                   if hasattr(v, "dtype") and hasattr(v, "shape")}
        meta = {k: _meta(v) for k, v in tensors.items()}
        with module.Session() as s:
            s.run(module.global_variables_initializer())
            results = [s.run(fetches, feeds) for _ in range(steps)]
    return meta, results


def _dense(v):
    """TF's gradient of a gather is IndexedSlices; ours is dense: compare values."""
    if hasattr(v, "indices") and hasattr(v, "dense_shape"):
        out = np.zeros(v.dense_shape, v.values.dtype)
        np.add.at(out, v.indices, v.values)
        return out
    return v


def _value_diffs(k, ours, theirs):
    if theirs is None:
        return [] if ours is None else [f"{k}: expected None"]
    a, b = np.asarray(ours), np.asarray(_dense(theirs))
    if a.dtype != b.dtype or a.shape != b.shape:
        return [f"{k}: ours {a.dtype}{a.shape} vs TF {b.dtype}{b.shape}"]
    if type(ours) is not type(theirs) and not hasattr(theirs, "indices"):
        return [f"{k}: ours {type(ours).__name__} vs TF {type(theirs).__name__}"]
    if a.dtype.kind == "f":
        if not np.allclose(a, b, rtol=2e-5, atol=2e-6, equal_nan=True):
            return [f"{k}: values differ, max abs diff {np.max(np.abs(a - b))}"]
    elif not np.array_equal(a, b):
        return [f"{k}: values differ: ours {a.tolist()} vs TF {b.tolist()}"]
    return []


@pytest.mark.parametrize("prog,steps", [(prog_arith, 1), (prog_training, 3)])
def test_same_as_tensorflow(prog, steps):
    meta_ours, res_ours = _run(tfcompile, prog, steps)
    meta_tf, res_tf = _run(v1, prog, steps)
    diffs = [f"{k}: ours {meta_ours.get(k)} vs TF {meta_tf[k]}" for k in meta_tf
             if meta_ours.get(k) != meta_tf[k] and k not in TF2_NAMES_DIFFER]
    for ours, theirs in zip(res_ours, res_tf):
        for k in theirs:
            diffs += _value_diffs(k, ours[k], theirs[k])
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


# ---------------------------------------------------------------- names and dtypes of ops

def prog_op_names(tf):
    """Default names of tf.* ops in nested name and variable scopes, and the
    dtype of every kind of division and cast."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    i = tf.placeholder(tf.int32, [None, 3], name="i")
    out = {}
    with tf.name_scope("outer"):
        with tf.name_scope("inner"):
            out["a"] = x + 1
            out["b"] = tf.add(x, 1.0)
            out["c"] = tf.multiply(x, 2.0)
        with tf.name_scope("inner"):
            out["d"] = x * x
        with tf.variable_scope("vs"):
            out["e"] = tf.subtract(x, 1.0)
            w = tf.get_variable("w", [3], initializer=tf.ones_initializer())
            out["f"] = x * w
        with tf.variable_scope("vs", reuse=True):
            out["g"] = x - tf.get_variable("w")
    out["w"] = w
    with tf.variable_scope("vs2") as sc:
        pass
    with tf.variable_scope(sc):
        out["h"] = tf.identity(x)
    with tf.variable_scope(None, default_name="dflt"):
        out["k"] = tf.negative(x)
    with tf.variable_scope(None, default_name="dflt"):
        out["k2"] = tf.abs(x)
    with tf.name_scope(None):
        out["l"] = tf.square(x)
    with tf.name_scope("abs/"):
        out["m"] = tf.sqrt(tf.abs(x))
    ops = {
        "truediv": tf.truediv(x, 2.0), "div_int": tf.div(i, 2), "divide": tf.divide(x, 2.0),
        "floordiv": tf.floordiv(i, 2), "mod": tf.mod(i, 3), "floormod": tf.floormod(x, 2.0),
        "truncatediv": tf.truncatediv(i, 2), "truncatemod": tf.truncatemod(i, 3),
        "realdiv": tf.realdiv(x, 2.0), "pow": tf.pow(x, 2.0), "pow_op": x ** 2,
        "rpow": 2.0 ** x, "sqdiff": tf.squared_difference(x, 1.0), "max": tf.maximum(x, 0.0),
        "min": tf.minimum(x, 0.0), "eq": tf.equal(x, 0.0), "ne": tf.not_equal(x, 0.0),
        "lt": x < 0, "le": tf.less_equal(x, 0.0), "and": tf.logical_and(x > 0, x < 1),
        "or": tf.logical_or(x > 0, x < -1), "xor": tf.logical_xor(x > 0, x < 1),
        "not": tf.logical_not(x > 0), "and_op": (x > 0) & (x < 1), "or_op": (x > 0) | (x < 1),
        "xor_op": (x > 0) ^ (x < 1), "invert": ~(x > 0), "addn": tf.add_n([x, x, x]),
        "addn1": tf.add_n([x]), "addn1_named": tf.add_n([x], name="single"),
        "scalar_mul": tf.scalar_mul(2.0, x), "sign": tf.sign(x), "recip": tf.reciprocal(x),
        "exp": tf.exp(x), "expm1": tf.expm1(x), "log": tf.log(tf.abs(x)),
        "log1p": tf.log1p(tf.abs(x)), "rsqrt": tf.rsqrt(tf.abs(x) + 1), "floor": tf.floor(x),
        "ceil": tf.ceil(x), "round": tf.round(x * 2), "sin": tf.sin(x), "cos": tf.cos(x),
        "stop": tf.stop_gradient(x), "rmod": 7 % (i + 10), "rfloordiv": 7 // (i + 10),
        "rtruediv": 1.0 / (x + 5), "idiv": i / (i + 10), "matmul_op": x @ tf.transpose(x),
        "cast": tf.cast(x, tf.int32), "cast_bool": tf.cast(x, tf.bool),
        "cast_from_bool": tf.cast(x > 0, tf.float32), "cast_neg": tf.cast(x * 3, tf.int64),
        "cast_same": tf.cast(x, tf.float32), "to_float": tf.to_float(i),
        "to_int32": tf.to_int32(x), "to_int64": tf.to_int64(x), "to_double": tf.to_double(x),
        "neg_py": tf.negative(3.0), "is_finite": tf.is_finite(x / (x - x)),
        "is_nan": tf.is_nan(x / (x - x)), "is_inf": tf.is_inf(x / (x - x)),
        "saturate": tf.saturate_cast(tf.constant([2**40, -2**40, 5], tf.int64), tf.int32),
        "py_first_float": tf.multiply(2.0, x), "int64_div": tf.constant(3, tf.int64) / 2, "f64_div": tf.constant(3, tf.float64) / 2,
        "np64_arr": x + np.ones(3), "np64_radd": np.ones(3) + x, "np64_scalar": x * np.float64(2),
        "npi_arr_to_f32": x * np.arange(3), "const_list_np64": tf.constant([np.float64(1), 2.0]),
        "const_list_np_i64": tf.constant([np.int64(1), 2]), "const_np_f64": tf.constant(np.ones(2)),
    }
    out.update(ops)
    return out, {x: X, i: I}


def prog_shapes_reductions(tf):
    """Static shapes with None dims through reshape (-1), matmul, reductions,
    concat, transposes, strided slices and broadcasting; reduction axes; argmax
    output types; tf.shape/size/rank; fills, ranges and one_hot variants."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    i = tf.placeholder(tf.int32, [None, 3], name="i")
    col = tf.placeholder(tf.float32, [None, 1], name="col")
    unk = tf.placeholder(tf.float32, name="unk")
    out = {
        "rs": tf.reduce_sum(x), "rs0": tf.reduce_sum(x, 0),
        "rs_neg_keep": tf.reduce_sum(x, -1, keepdims=True), "rs_list": tf.reduce_sum(x, [0, 1]),
        "rmean_keep": tf.reduce_mean(x, axis=None, keepdims=True), "rmax": tf.reduce_max(x, 1),
        "rmin": tf.reduce_min(x, 0), "rprod": tf.reduce_prod(x, 1),
        "rall": tf.reduce_all(x > 0, 1), "rany": tf.reduce_any(x > 0),
        "r_keep_dims": tf.reduce_sum(x, 1, keep_dims=True),
        "r_indices": tf.reduce_sum(x, reduction_indices=[1]), "imean": tf.reduce_mean(i),
        "isum": tf.reduce_sum(i, 0), "r_axis_tensor": tf.reduce_sum(x, tf.constant(1)),
        "r_unknown_rank": tf.reduce_sum(unk), "am": tf.argmax(x, 1),
        "am32": tf.argmax(x, 1, output_type=tf.int32), "amin": tf.argmin(x, 0),
        "am_dimension": tf.argmax(x, dimension=0), "am_neg": tf.argmax(x, -1),
        "am_ties": tf.argmax(tf.constant([[1, 3, 3], [2, 2, 1]]), 1),
        "lse": tf.reduce_logsumexp(x, 1), "lse_all": tf.reduce_logsumexp(x),
        "cnz": tf.count_nonzero(i), "cnz1": tf.count_nonzero(i, 1),
        "shape": tf.shape(x), "shape64": tf.shape(x, out_type=tf.int64),
        "shape_known": tf.shape(tf.zeros([2, 3])), "size": tf.size(x),
        "size_known": tf.size(tf.zeros([2, 3]), out_type=tf.int64), "rank": tf.rank(x),
        "rank_unknown": tf.rank(unk), "shape_elem": tf.shape(x)[0],
        "reshape_flat": tf.reshape(x, [-1]), "reshape_3d": tf.reshape(x, [-1, 1, 3]),
        "reshape_2": tf.reshape(x, [2, -1]), "reshape_shape": tf.reshape(x, tf.shape(x)),
        "reshape_mixed": tf.reshape(x, [tf.shape(x)[0], 3, 1]),
        "reshape_sliced_shape": tf.reshape(x, tf.concat([tf.shape(x)[:1], [3]], 0)),
        "reshape_unk_to": tf.reshape(tf.reshape(x, [-1, 6]), [-1, 2]),
        "transpose": tf.transpose(x), "transpose_perm": tf.transpose(tf.expand_dims(x, 0), [1, 0, 2]),
        "transpose_unk": tf.transpose(unk), "matrix_transpose": tf.matrix_transpose(x),
        "matmul_tb": tf.matmul(x, x, transpose_b=True), "matmul_ta": tf.matmul(x, x, transpose_a=True),
        "batch_matmul": tf.matmul(tf.stack([x, x]), tf.stack([x, x]), transpose_b=True),
        "matmul_py": tf.matmul([[1.0, 2.0]], [[1.0], [2.0]]),
        "concat": tf.concat([x, x], 1), "concat_neg": tf.concat([x, x], -1),
        "concat0": tf.concat([x, x], 0), "concat_one": tf.concat([x], 0),
        "concat_py": tf.concat([x, [[1.0, 2.0, 3.0]]], 0),
        "concat_unknown_axis": tf.concat([x, x], tf.placeholder_with_default(0, [])),
        "zeros": tf.zeros([2, 3]), "zeros_int": tf.zeros([2], tf.int32), "ones": tf.ones([2, 3]),
        "zeros_bool": tf.zeros([2], tf.bool), "ones_bool": tf.ones([2], tf.bool),
        "zeros_big": tf.zeros([40, 30]), "zeros_dyn": tf.zeros([tf.shape(x)[0], 2]),
        "zeros_like": tf.zeros_like(x), "ones_like": tf.ones_like(x),
        "zeros_like_known": tf.zeros_like(tf.constant([1.0, 2.0])),
        "zeros_like_int": tf.zeros_like(x, dtype=tf.int32), "ones_like_int": tf.ones_like(i),
        "fill": tf.fill([2, 3], 7), "fill_dyn": tf.fill(tf.shape(x), 2.0),
        "range": tf.range(5), "range_float": tf.range(0.0, 1.0, 0.25),
        "range_step": tf.range(1, 10, 2), "range_down": tf.range(5, 0, -2),
        "range_mixed": tf.range(0, 5.0), "range_dtype": tf.range(5, dtype=tf.float32),
        "eye": tf.eye(3), "stack": tf.stack([x, x], 0), "stack_neg": tf.stack([x, x], -1),
        "stack_py": tf.stack([1, 2]), "stack_mixed": tf.stack([tf.constant(1.0), 2]),
        "unstack": tf.unstack(x, axis=1)[0], "expand": tf.expand_dims(x, 1),
        "squeeze": tf.squeeze(tf.expand_dims(x, 1)), "squeeze_axis": tf.squeeze(tf.expand_dims(x, 1), axis=[1]),
        "squeeze_unk": tf.squeeze(x), "tile": tf.tile(x, [1, 2]), "pad": tf.pad(x, [[0, 1], [2, 0]]),
        "pad_const": tf.pad(x, [[0, 1], [2, 0]], constant_values=5.0), "reverse": tf.reverse(x, [0]),
        "gather": tf.gather(x, [0, 2], axis=1), "gather_scalar": tf.gather(x, 1),
        "one_hot": tf.one_hot(i[:, 0] + 5, 11), "one_hot_axis0": tf.one_hot([1, 0], 3, axis=0),
        "one_hot_int": tf.one_hot([1, 0, -1], 3, on_value=5, off_value=-1),
        "one_hot_dtype": tf.one_hot([1, 0, 2], 3, dtype=tf.int64),
        "one_hot_float": tf.one_hot([1, 5], 3, on_value=2.0, off_value=0.5),
        "one_hot_2d": tf.one_hot([[1, 0], [2, 2]], 4, axis=1),
        "where": tf.where(x > 0, x, tf.zeros_like(x)), "where_vec": tf.where(
            tf.constant([True, False, True, False]), tf.ones([4, 3]), tf.zeros([4, 3])),
        "where_v2": tf.where_v2(x > 0, x, 0.0), "where_v2_bcast": tf.where_v2(
            tf.constant([[True], [False]]), tf.ones([1, 3]), 0.0),
        "boolean_mask": tf.boolean_mask(tf.constant([1.0, 2.0, 3.0]), [True, False, True]),
        "where_coords": tf.where(tf.constant([[True, False], [False, True]])),
        "where_fed": tf.where(x > 0), "where_fed_int": tf.where(i),
        "boolean_mask_fed": tf.boolean_mask(x, x[:, 0] > 0),
        "boolean_mask_fed_axis": tf.boolean_mask(x, x[0] > 0, axis=1),
        "boolean_mask_fed_2d": tf.boolean_mask(x, x > 0),
        "bcast_col": col + x, "bcast_scalar": tf.placeholder_with_default(2.0, []) * x,
        "bcast_unk_rank": unk * x, "slice": x[1:, ::-1], "slice_newaxis": x[None, :, tf.newaxis],
        "slice_ellipsis": tf.expand_dims(x, 0)[..., 1], "slice_fn": tf.slice(x, [1, 0], [2, -1]),
        "strided": tf.strided_slice(x, [1, 0], [3, 3], [1, 2]),
        "slice_tensor_idx": x[tf.constant(1)],
    }
    return out, {x: X, i: I, col: X[:, :1], unk: X}


def test_op_names_and_dtypes_same_as_tensorflow():
    test_same_as_tensorflow(prog_op_names, 1)


def test_static_shapes_and_reductions_same_as_tensorflow():
    test_same_as_tensorflow(prog_shapes_reductions, 1)


# ---------------------------------------------------------------- tf.nn

IMG6 = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)


def prog_nn(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    lab = tf.placeholder(tf.int64, [None], name="lab")
    img = tf.placeholder(tf.float32, [None, 6, 6, 3], name="img")
    oh = tf.one_hot(lab, 3)
    mean, var = tf.nn.moments(x, [0])
    mean_k, var_k = tf.nn.moments(x, [1], keep_dims=True)
    topk = tf.nn.top_k(x, 2)
    counts, m_ss, v_ss, _ = tf.nn.sufficient_statistics(x, [0])
    n_mean, n_var = tf.nn.normalize_moments(counts, m_ss, v_ss, None)
    w_mean, w_var = tf.nn.weighted_moments(x, [0], tf.constant([[1.0], [2.0], [0.5], [1.0]]))
    out = {
        "softmax": tf.nn.softmax(x), "softmax_axis0": tf.nn.softmax(x, axis=0),
        "softmax_dim": tf.nn.softmax(x, dim=0), "softmax_neg": tf.nn.softmax(x, axis=-1),
        "softmax_named": tf.nn.softmax(x, name="sm"), "log_softmax": tf.nn.log_softmax(x),
        "log_softmax0": tf.nn.log_softmax(x, axis=0),
        "xent": tf.nn.softmax_cross_entropy_with_logits(labels=oh, logits=x),
        "xent_v2": tf.nn.softmax_cross_entropy_with_logits_v2(labels=oh, logits=x),
        "xent_v2_axis0": tf.nn.softmax_cross_entropy_with_logits_v2(
            labels=tf.transpose(oh), logits=tf.transpose(x), axis=0),
        "sparse_xent": tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x),
        "sigmoid_xent": tf.nn.sigmoid_cross_entropy_with_logits(labels=oh, logits=x),
        "weighted_xent": tf.nn.weighted_cross_entropy_with_logits(
            targets=oh, logits=x, pos_weight=2.0),
        "l2_loss": tf.nn.l2_loss(x), "l2_normalize": tf.nn.l2_normalize(x, 1),
        "l2_normalize_axis0": tf.nn.l2_normalize(x, axis=0),
        "l2_normalize_all": tf.nn.l2_normalize(x, dim=[0, 1]),
        "mean": mean, "var": var, "mean_keep": mean_k, "var_keep": var_k,
        "in_top_k": tf.nn.in_top_k(x, tf.cast(lab, tf.int32), 1),
        "in_top_k2": tf.nn.in_top_k(x, lab, 2), "top_k_values": topk.values,
        "top_k_indices": topk.indices, "top_k_unsorted": tf.nn.top_k(x, 1, sorted=False).values,
        "relu": tf.nn.relu(x), "relu6": tf.nn.relu6(x * 4), "elu": tf.nn.elu(x),
        "selu": tf.nn.selu(x), "softplus": tf.nn.softplus(x), "softsign": tf.nn.softsign(x),
        "leaky": tf.nn.leaky_relu(x), "leaky_alpha": tf.nn.leaky_relu(x, alpha=0.1),
        "crelu": tf.nn.crelu(x), "sigmoid": tf.nn.sigmoid(x), "tanh": tf.nn.tanh(x),
        "swish": tf.nn.swish(x), "log_sigmoid": tf.log_sigmoid(x),
        "zero_fraction": tf.nn.zero_fraction(tf.nn.relu(x)),
        "bias_add": tf.nn.bias_add(x, [1.0, 2.0, 3.0]),
        "xw_plus_b": tf.nn.xw_plus_b(x, tf.ones([3, 2]), [1.0, 2.0]),
        "relu_layer": tf.nn.relu_layer(x, tf.ones([3, 2]), [1.0, 2.0]),
        "dropout_keep1": tf.nn.dropout(x, keep_prob=1.0), "dropout_rate0": tf.nn.dropout(x, rate=0.0),
        "embedding": tf.nn.embedding_lookup(tf.reshape(tf.range(12.0), [4, 3]), lab),
        "conv_same": tf.nn.conv2d(img, tf.ones([3, 3, 3, 2]), [1, 1, 1, 1], "SAME"),
        "conv_valid": tf.nn.conv2d(img, tf.ones([3, 3, 3, 2]), [1, 2, 2, 1], "VALID"),
        "max_pool": tf.nn.max_pool(img, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
        "avg_pool": tf.nn.avg_pool(img, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME"),
        "lrn": tf.nn.lrn(img, depth_radius=1, bias=2.0, alpha=0.5, beta=0.75),
        "batchnorm": tf.nn.batch_normalization(x, mean, var, 0.5, 2.0, 1e-3),
        "fused_bn": tf.nn.fused_batch_norm(img, tf.ones([3]), tf.zeros([3]), is_training=True)[0],
        "depthwise": tf.nn.depthwise_conv2d(img, tf.ones([2, 2, 3, 2]), [1, 1, 1, 1], "SAME"),
        "separable": tf.nn.separable_conv2d(img, tf.ones([2, 2, 3, 2]), tf.ones([1, 1, 6, 4]),
                                            [1, 1, 1, 1], "SAME"),
        "conv1d": tf.nn.conv1d(tf.reshape(img, [-1, 36, 3]), tf.ones([3, 3, 2]), 1, "SAME"),
        "conv2d_t": tf.nn.conv2d_transpose(img, tf.ones([3, 3, 2, 3]), [2, 12, 12, 2],
                                           [1, 2, 2, 1], "SAME"),
        "suff_count": counts, "suff_mean": m_ss, "suff_var": v_ss, "norm_mean": n_mean,
        "norm_var": n_var, "weighted_mean": w_mean, "weighted_var": w_var,
    }
    return out, {x: X, lab: L, img: IMG6}


def test_nn_same_as_tensorflow():
    # swish: TF 1.15 makes it a function call op named swish, TF 2 an IdentityN;
    # we build x * sigmoid(x) in a swish scope: values are compared, not names.
    TF2_NAMES_DIFFER.add("swish")
    try:
        test_same_as_tensorflow(prog_nn, 1)
    finally:
        TF2_NAMES_DIFFER.discard("swish")


# ---------------------------------------------------------------- tf.gradients

def prog_gradients(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    lab = tf.placeholder(tf.int64, [None], name="lab")
    W = tf.Variable(np.full((3, 2), 0.3, np.float32), name="W")
    b = tf.Variable([0.1, -0.2], name="b")
    u = tf.Variable(1.0, name="unused")
    h = tf.matmul(x, W) + b
    y = tf.reduce_sum(tf.tanh(h) * tf.sigmoid(h))
    g = tf.gradients(y, [W, b, u, x])

    def grad(expr, wrt=x, **kw):
        return tf.gradients(expr, wrt, **kw)[0]
    out = {
        "gW": g[0], "gb": g[1], "gx": g[3], "g_unconnected_is_none": tf.constant(g[2] is None),
        "g_of_x": grad(y), "g_zero": grad(y, u, unconnected_gradients="zero"),
        "g_stop": grad(tf.reduce_sum(tf.stop_gradient(x) * x)),
        "g_stop_list": grad(tf.reduce_sum(x[:, :2] * h), stop_gradients=[h]),
        "g_grad_ys": grad(h, grad_ys=tf.ones_like(h) * 2),
        "g_two_ys": grad([tf.reduce_sum(h), tf.reduce_sum(h * h)]),
        "g_through_int_is_none": tf.constant(grad(tf.cast(tf.reduce_sum(x), tf.int32)) is None),
        "g_named": grad(tf.reduce_mean(x * x), name="mygrad"),
        "g_sq": grad(tf.reduce_sum(tf.square(x))),
        "g_pow": grad(tf.reduce_sum(tf.pow(tf.abs(x) + 1, 2.5))),
        "g_div": grad(tf.reduce_sum(x / (tf.abs(x) + 1))), "g_max": grad(tf.reduce_max(x, 1)),
        "g_min": grad(tf.reduce_sum(tf.minimum(x, 0.5))), "g_mean": grad(tf.reduce_mean(x, 0)),
        "g_prod": grad(tf.reduce_prod(x, 1)), "g_softmax": grad(tf.reduce_sum(tf.nn.softmax(x) * x)),
        "g_log_softmax": grad(tf.reduce_sum(tf.nn.log_softmax(x)[:, 0])),
        "g_sparse_xent": grad(tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x))),
        "g_xent": grad(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
            labels=tf.one_hot(lab, 3), logits=x))),
        "g_sigmoid_xent": grad(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.one_hot(lab, 3), logits=x))),
        "g_relu": grad(tf.reduce_sum(tf.nn.relu(x))), "g_elu": grad(tf.reduce_sum(tf.nn.elu(x))),
        "g_softplus": grad(tf.reduce_sum(tf.nn.softplus(x))), "g_l2": grad(tf.nn.l2_loss(x)),
        "g_l2n": grad(tf.reduce_sum(tf.nn.l2_normalize(x, 1) * x)),
        "g_concat": grad(tf.reduce_sum(tf.concat([x, x * 2], 1) ** 2)),
        "g_slice": grad(tf.reduce_sum(x[1:, :2])), "g_gather": grad(tf.reduce_sum(tf.gather(x, [0, 0, 2]))),
        "g_reshape": grad(tf.reduce_sum(tf.reshape(x, [-1]))),
        "g_transpose": grad(tf.reduce_sum(tf.transpose(x) * [[1.0], [2.0], [3.0]])),
        "g_tile": grad(tf.reduce_sum(tf.tile(x, [2, 3]))),
        "g_where": grad(tf.reduce_sum(tf.where(x > 0, x * 2, x * 3))),
        "g_cast": grad(tf.reduce_sum(tf.cast(x, tf.float64))),
        "g_exp_log": grad(tf.reduce_sum(tf.log(tf.exp(x) + 1))),
        "g_sqrt": grad(tf.reduce_sum(tf.sqrt(tf.abs(x) + 1))), "g_abs": grad(tf.reduce_sum(tf.abs(x))),
        "g_matmul_t": grad(tf.reduce_sum(tf.matmul(x, x, transpose_a=True))),
        "g_bias": grad(tf.reduce_sum(tf.nn.bias_add(x, [1.0, 2, 3]) ** 2)),
        "g_moments": grad(tf.nn.moments(x, [0])[1]),
        "g_clip": grad(tf.reduce_sum(tf.clip_by_value(x, -0.5, 0.5))),
        "g_lse": grad(tf.reduce_logsumexp(x, 1)),
        "g_stack": grad(tf.reduce_sum(tf.stack([x, 2 * x]) ** 2)),
        "g_unstack": grad(tf.unstack(x, axis=1)[1]), "g_split": grad(tf.split(x, 3, 1)[2]),
        "g_pad": grad(tf.reduce_sum(tf.pad(x, [[1, 1], [0, 2]]) ** 2)),
        "g_identity": grad(tf.identity(x)), "g_addn": grad(tf.add_n([x, x, x])),
        "g_sqdiff": grad(tf.reduce_sum(tf.squared_difference(x, 1.0))),
        "g_expand": grad(tf.reduce_sum(tf.expand_dims(x, 1) * 2)),
        "g_cumsum": grad(tf.reduce_sum(tf.cumsum(x, 1) ** 2)), "g_self": grad(x),
        "g_var_read": grad(W.value() * 2, W), "g_b": grad(tf.reduce_sum(h), b),
        "g_scalar_var": grad(u * u * 3, u),
        "g_hessian_like": grad(grad(tf.reduce_sum(x ** 3))),
        "g_aggregation": grad(tf.reduce_sum(x * x + tf.sin(x)),
                              aggregation_method=tf.AggregationMethod.ADD_N),
    }
    return out, {x: X, lab: L}


def test_gradients_same_as_tensorflow():
    test_same_as_tensorflow(prog_gradients, 1)


# ---------------------------------------------------------------- optimizers and schedules

def _training_base(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    lab = tf.placeholder(tf.int64, [None], name="labels")
    W = tf.Variable(np.full((3, 3), 0.1, np.float32), name="W")
    b = tf.Variable(tf.zeros([3]), name="b")
    logits = tf.matmul(x, W) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=lab, logits=logits))
    return x, lab, W, b, loss


def _train_prog(make):
    def prog(tf):
        x, lab, W, b, loss = _training_base(tf)
        gs = tf.train.get_or_create_global_step()
        step, extra = make(tf, loss, W, b, gs)
        out = {"loss": loss, "step": step, "W": W, "b": b, "gs": gs}
        out.update(extra)
        return out, {x: X, lab: L}
    return prog


def _sgd_decayed(tf, loss, W, b, gs):
    lr = tf.train.exponential_decay(0.5, gs, 2, 0.5, staircase=True)
    return tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=gs), {"lr": lr}


def _adam_var_list(tf, loss, W, b, gs):
    opt = tf.train.AdamOptimizer(0.1, beta1=0.8, beta2=0.9, epsilon=1e-4)
    return opt.minimize(loss, global_step=gs, var_list=[W]), {}


def _momentum_global_clip(tf, loss, W, b, gs):
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    grads, variables = zip(*opt.compute_gradients(loss))
    clipped, norm = tf.clip_by_global_norm(grads, 0.05)
    step = opt.apply_gradients(zip(clipped, variables), global_step=gs)
    return step, {"norm": norm, "clipped0": clipped[0], "grad0": grads[0]}


def _sgd_clip_each(tf, loss, W, b, gs):
    opt = tf.train.GradientDescentOptimizer(tf.constant(0.3))
    gv = [(tf.clip_by_norm(g, 0.1), v) for g, v in opt.compute_gradients(loss, var_list=[W, b])]
    return opt.apply_gradients(gv, global_step=gs, name="apply"), {"clipped": gv[0][0]}


def _rmsprop_lr_placeholder(tf, loss, W, b, gs):
    lr = tf.placeholder_with_default(0.2, [], name="lr")
    opt = tf.train.RMSPropOptimizer(lr, decay=0.8, momentum=0.1, epsilon=1e-6)
    return opt.minimize(loss, global_step=gs), {}


def _adagrad_lr_variable(tf, loss, W, b, gs):
    lr = tf.Variable(0.1, trainable=False, name="lr")
    opt = tf.train.AdagradOptimizer(lr, initial_accumulator_value=0.2)
    return opt.minimize(loss, global_step=gs), {}


def _adadelta_options(tf, loss, W, b, gs):
    return tf.train.AdadeltaOptimizer(0.5, rho=0.9, epsilon=1e-6).minimize(
        loss, global_step=gs), {}


def _nesterov_named(tf, loss, W, b, gs):
    return tf.train.MomentumOptimizer(0.05, 0.5, use_nesterov=True).minimize(
        loss, global_step=gs, name="train"), {}


def _adam_decayed(tf, loss, W, b, gs):
    lr = tf.train.exponential_decay(0.1, gs, 1, 0.9)
    return tf.train.AdamOptimizer(lr).minimize(loss, global_step=gs), {"lr": lr}


TRAINING = {"sgd_decayed": _sgd_decayed, "adam_var_list": _adam_var_list,
            "momentum_global_clip": _momentum_global_clip, "sgd_clip_each": _sgd_clip_each,
            "rmsprop_lr_placeholder": _rmsprop_lr_placeholder,
            "adagrad_lr_variable": _adagrad_lr_variable, "adadelta_options": _adadelta_options,
            "nesterov_named": _nesterov_named, "adam_decayed": _adam_decayed}


@pytest.mark.parametrize("name", sorted(TRAINING))
def test_training_variants_same_as_tensorflow(name):
    test_same_as_tensorflow(_train_prog(TRAINING[name]), 4)


def test_optimizer_slot_and_op_names_same_as_tensorflow():
    """Every op and variable name TF gives an optimizer step, and its inputs,
    outside the gradient internals TF 2 builds differently."""
    def names(module, make):
        g = module.Graph()
        with g.as_default():
            _train_prog(make)(module)
        ops = {op.name: (op.type, [t.name for t in op.inputs]) for op in g.get_operations()}
        return ops, [v.name for v in g.get_collection("variables")]
    for make in (_adam_var_list, _momentum_global_clip, _adagrad_lr_variable,
                 _rmsprop_lr_placeholder, _nesterov_named):
        (ours, our_vars), (theirs, their_vars) = names(tfcompile, make), names(v1, make)
        assert our_vars == their_vars
        missing = [n for n in theirs if n not in ours and not n.startswith("gradients/")]
        assert not missing, missing
        differ = [n for n in theirs if n in ours and not n.startswith("gradients/")
                  and ours[n][1] != theirs[n][1]
                  and not any(i.startswith("gradients/") for i in theirs[n][1])]
        assert not differ, [(n, ours[n], theirs[n]) for n in differ]


def prog_schedules(tf):
    """Learning-rate schedules of a fed global step (fetched without a training
    step: TF reads an unrelated global step before or after its increment)."""
    gs = tf.placeholder(tf.int64, [], name="step")
    return {
        "exponential": tf.train.exponential_decay(0.5, gs, 2, 0.5),
        "exponential_stair": tf.train.exponential_decay(0.5, gs, 2, 0.5, staircase=True),
        "inverse_time": tf.train.inverse_time_decay(0.5, gs, 1, 0.5),
        "polynomial": tf.train.polynomial_decay(0.5, gs, 3, 0.01, power=2.0),
        "polynomial_cycle": tf.train.polynomial_decay(0.5, gs, 3, 0.01, cycle=True),
        "natural_exp": tf.train.natural_exp_decay(0.5, gs, 1, 0.5),
        "piecewise": tf.train.piecewise_constant(gs, [1, 2], [0.5, 0.3, 0.1]),
        "cosine": tf.train.cosine_decay(0.5, gs, 4, alpha=0.1),
    }, {gs: 5}


def test_learning_rate_schedules_same_as_tensorflow():
    # PolynomialDecay divides with math_ops.div in TF 1.15 (an op named div), TF 2
    # with truediv; only the internal name differs.
    for step in (0, 1, 2, 5):
        def prog(tf, step=step):
            out, feeds = prog_schedules(tf)
            return out, {k: step for k in feeds}
        test_same_as_tensorflow(prog, 1)


# ---------------------------------------------------------------- variables and scopes

def prog_variable_scopes(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    out = {}
    with tf.variable_scope("a"):
        va = tf.get_variable("v", [3], initializer=tf.constant_initializer([1.0, 2.0, 3.0]))
        with tf.variable_scope("b"):
            vb = tf.get_variable("v", [2, 2], dtype=tf.float64,
                                 initializer=tf.zeros_initializer())
            out["in_b"] = tf.identity(x)
        with tf.name_scope("ns"):
            vw = tf.get_variable("w", [], initializer=tf.ones_initializer())
            out["in_ns"] = x * 2
    with tf.variable_scope("a", reuse=True):
        out["reuse_same"] = tf.constant(va is tf.get_variable("v"))
        out["in_a2"] = x + 1
    with tf.variable_scope("a", reuse=tf.AUTO_REUSE):
        vn = tf.get_variable("new", [1], initializer=tf.constant_initializer(7))
        out["auto_reuse_same"] = tf.constant(vn is tf.get_variable("new", [1]))
    with tf.variable_scope("c") as c:
        with tf.variable_scope("d"):
            out["in_cd"] = x - 1
    with tf.variable_scope(c, reuse=True):
        out["in_c_again"] = x * 3
    with tf.variable_scope("e", default_name="ignored"):
        out["e"] = tf.negative(x)
    with tf.variable_scope(None, default_name="f"):
        out["f"] = tf.abs(x)
    with tf.variable_scope(None, default_name="f"):
        out["f2"] = tf.abs(x)
    with tf.variable_scope("g", initializer=tf.constant_initializer(0.5)):
        vg = tf.get_variable("v", [2])
    with tf.variable_scope("h", dtype=tf.float64):
        vh = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    with tf.variable_scope("i", regularizer=lambda t: tf.reduce_sum(t) * 0.1):
        vi = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    out["reg"] = tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
    variables = [va, vb, vw, vn, vg, vh, vi,
                 tf.get_variable("top", [2, 3], initializer=tf.constant_initializer(2.0),
                                 trainable=False),
                 tf.get_variable("intv", [2], dtype=tf.int32, initializer=tf.zeros_initializer()),
                 tf.get_variable("from_value", initializer=tf.constant([1.0, 2.0])),
                 tf.get_variable("from_np", initializer=np.array([3.0, 4.0], np.float32)),
                 tf.get_variable("eye", [2, 2], initializer=tf.initializers.identity()),
                 tf.get_variable("int_fill", [2, 2], initializer=tf.constant_initializer(3)),
                 tf.get_variable("ones_i64", [2], dtype=tf.int64,
                                 initializer=tf.ones_initializer()),
                 tf.Variable(3, name="plain_int"), tf.Variable(3, dtype=tf.float32, name="cast"),
                 tf.Variable(lambda: tf.zeros([2]), name="from_callable")]
    tf.get_local_variable("loc", [2], initializer=tf.zeros_initializer())
    for i, v in enumerate(variables):
        out[f"var{i}"] = v
        out[f"var{i}_read"] = v.value()
        out[f"var{i}_read_value"] = v.read_value()
    # TF 1.15 builds initialized_value() as a cond on IsVariableInitialized
    # (`cond/Merge`); ours is the initial value: compare the value only.
    out["initialized_value"] = tf.identity(va.initialized_value(), name="init_value")
    out["assign"] = vw.assign(5.0)
    out["counts"] = tf.constant([len(tf.trainable_variables()), len(tf.global_variables()),
                                 len(tf.local_variables()),
                                 len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)),
                                 len(tf.get_variable_scope().name)])
    return out, {x: X}


def test_variable_scopes_same_as_tensorflow():
    test_same_as_tensorflow(prog_variable_scopes, 1)


def test_variable_names_and_collections_same_as_tensorflow():
    def listing(module):
        g = module.Graph()
        with g.as_default():
            prog_variable_scopes(module)
            return ([(v.name, v.shape.as_list(), v.dtype.name) for v in module.global_variables()],
                    [v.name for v in module.trainable_variables()],
                    [v.name for v in module.local_variables()],
                    [v.name for v in module.global_variables(scope="a")],
                    [repr(v) for v in module.global_variables()][:5],
                    [v.initializer.name for v in module.global_variables()])
    assert listing(tfcompile) == listing(v1)


def prog_initializers(tf):
    tf.set_random_seed(1)
    inits = {
        "random_uniform": tf.random_uniform_initializer(-1, 1),
        "random_normal": tf.random_normal_initializer(0.5, 2.0),
        "truncated_normal": tf.truncated_normal_initializer(0, 1.0),
        "glorot_uniform": tf.glorot_uniform_initializer(),
        "glorot_normal": tf.glorot_normal_initializer(),
        "variance_scaling": tf.variance_scaling_initializer(2.0, "fan_in", "truncated_normal"),
        "variance_scaling_uniform": tf.variance_scaling_initializer(1.0, "fan_avg", "uniform"),
        "orthogonal": tf.orthogonal_initializer(),
        "uniform_unit_scaling": tf.uniform_unit_scaling_initializer(),
        "he_normal": tf.initializers.he_normal(), "lecun_uniform": tf.initializers.lecun_uniform(),
        "default": None,
    }
    out = {k: tf.get_variable(k, [200, 100], initializer=init) for k, init in inits.items()}
    out.update({
        "random_uniform_op": tf.random_uniform([1000, 10], 2, 5),
        "random_uniform_int": tf.random_uniform([1000], 0, 10, dtype=tf.int32),
        "random_normal_op": tf.random_normal([1000, 10], 1.0, 3.0),
        "truncated_normal_op": tf.truncated_normal([1000, 10], 0.0, 2.0),
        "shuffle": tf.random_shuffle(tf.range(100)),
    })
    return out, {}


def test_random_initializers_statistics_same_as_tensorflow():
    """Random values differ from TF's by design (another generator): names,
    shapes, dtypes, ranges and moments are compared."""
    meta_ours, (ours,) = _run(tfcompile, prog_initializers)
    meta_tf, (theirs,) = _run(v1, prog_initializers)
    assert meta_ours == meta_tf
    for k, b in theirs.items():
        a = ours[k]
        assert a.shape == b.shape and a.dtype == b.dtype, k
        if k == "shuffle":
            assert sorted(a.tolist()) == sorted(b.tolist()) == list(range(100))
            continue
        assert a.min() >= b.min() - 0.1 * abs(b.min()) - 1e-3 and \
            a.max() <= b.max() + 0.1 * abs(b.max()) + 1e-3, k
        np.testing.assert_allclose(a.mean(), b.mean(), atol=0.05 * b.std() + 0.02, err_msg=k)
        np.testing.assert_allclose(a.std(), b.std(), rtol=0.05, err_msg=k)


# ---------------------------------------------------------------- Saver

def _saver_round_trip(tf, directory, var_list, step):
    g = tf.Graph()
    with g.as_default():
        with tf.variable_scope("net"):
            w = tf.get_variable("w", [2, 3], initializer=tf.constant_initializer(1.5))
            b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
        counter = tf.Variable(7, name="counter")
        gs = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.1).minimize(
            tf.reduce_sum(w * w) + tf.reduce_sum(b), global_step=gs)
        saver = tf.train.Saver(None if var_list is None else var_list(w, b, counter),
                               max_to_keep=2)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            s.run(train)
            s.run(train)
            path = saver.save(s, os.path.join(directory, "model"), global_step=step)
            values = s.run([w, b, counter, gs])
        latest = tf.train.latest_checkpoint(directory)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            saver.restore(s, latest)
            restored = s.run([w, b, counter, gs])
        sdef = saver.saver_def
    return (os.path.relpath(path, directory), os.path.relpath(latest, directory),
            tf.train.list_variables(directory), [np.asarray(v).tolist() for v in values],
            [np.asarray(v).tolist() for v in restored],
            (sdef.filename_tensor_name, sdef.save_tensor_name, sdef.restore_op_name))


@pytest.mark.parametrize("var_list,step", [
    (None, None), (None, 5), (lambda w, b, c: [w, b], None),
    (lambda w, b, c: {"W": w, "bias": b}, 3)])
def test_saver_round_trip_same_as_tensorflow(var_list, step):
    """Checkpoint names, shapes, paths and restored values. (Our checkpoint files
    are our own format, and the Saver runs in Python: TF's save/restore ops, which
    handle strings, are not in the graph, but the SaverDef names them as TF.)"""
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        assert _saver_round_trip(tfcompile, d1, var_list, step) == \
            _saver_round_trip(v1, d2, var_list, step)


# ---------------------------------------------------------------- tf.losses

def prog_more_losses(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    lab = tf.placeholder(tf.int64, [None], name="labels")
    oh = tf.one_hot(lab, 3)
    w = tf.constant([1.0, 0.0, 2.0, 1.0])
    w2 = tf.constant([[1.0], [0.0], [2.0], [1.0]])
    R = tf.losses.Reduction
    mse = tf.losses.mean_squared_error
    return {
        "mse_weights": mse(oh, x, weights=w2), "mse_scalar_weight": mse(oh, x, weights=2.0),
        "mse_sum": mse(oh, x, reduction=R.SUM),
        "mse_mean": mse(oh, x, weights=w2, reduction=R.MEAN),
        "mse_nonzero": mse(oh, x, weights=w2, reduction=R.SUM_BY_NONZERO_WEIGHTS),
        "mse_batch": mse(oh, x, weights=w2, reduction=R.SUM_OVER_BATCH_SIZE),
        "mse_none": mse(oh, x, reduction=R.NONE, loss_collection=None),
        "abs": tf.losses.absolute_difference(oh, x, weights=w2),
        "huber": tf.losses.huber_loss(oh, x, delta=0.5),
        "log": tf.losses.log_loss(oh, tf.sigmoid(x)), "hinge": tf.losses.hinge_loss(oh, x),
        "cosine": tf.losses.cosine_distance(tf.nn.l2_normalize(oh, 1),
                                            tf.nn.l2_normalize(x, 1), axis=1),
        "pairwise": tf.losses.mean_pairwise_squared_error(oh, x),
        "sigmoid_smooth": tf.losses.sigmoid_cross_entropy(oh, x, label_smoothing=0.2),
        "sigmoid_weights": tf.losses.sigmoid_cross_entropy(oh, x, weights=w2),
        "softmax_weights": tf.losses.softmax_cross_entropy(oh, x, weights=w),
        "sparse_scope": tf.losses.sparse_softmax_cross_entropy(lab, x, weights=w, scope="myloss"),
        "sparse_2d_labels": tf.losses.sparse_softmax_cross_entropy(tf.expand_dims(lab, 1), x),
        "compute": tf.losses.compute_weighted_loss(tf.reduce_sum(x, 1), weights=w),
        "total": tf.losses.get_total_loss(add_regularization_losses=False),
        "n_losses": tf.constant(len(tf.losses.get_losses())),
    }, {x: X, lab: L}


def test_more_losses_same_as_tensorflow():
    test_same_as_tensorflow(prog_more_losses, 1)
