"""tf.nn's fused ops with TF 1.15's names, op types and default names:
activations, softmax and log-softmax, the softmax cross-entropy losses,
bias_add, l2_loss and in_top_k. (Functions composed from other ops, such as
dropout and sigmoid cross entropy, are in nn_impl.py.)

Fused ops (Softmax, SoftmaxCrossEntropyWithLogits, BiasAdd, ...) lower here to
IR elementwise, reduce and broadcast ops in numerically stable forms (the max
is subtracted before exp). Their gradient ops and gradient functions live in
ops/nn_grad.py.
"""
from __future__ import annotations

import builtins

import numpy as np

from . import dtypes as _dt
from .errors import InvalidArgumentError
from .graph import Tensor, name_scope
from .ops import array_ops, math_ops
from .ops.constant_op import convert_to_tensor
from .ops.math_ops import FLOATS, NUMERIC, _check_dtype
from .ops.op_util import constant_value, make_op, make_tensor
from .ops.registry import lowering
from .tensor_shape import TensorShape
from .ir.core import DTYPES

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


# ---------------------------------------------------------------- lowering helpers

def _reduce_last(ctx, x, kind):
    return ctx.b.emit("reduce", [x], kind=kind, axes=[x.type.rank - 1])


def _expand_last(ctx, v, shape):
    """Broadcasts a value reduced over the last axis back to `shape`."""
    return ctx.b.emit("broadcast", [v], shape=tuple(shape),
                      dims=list(builtins.range(len(shape) - 1)))


def _shifted_exp(ctx, x):
    """(x - max, exp(x - max), sum(exp(x - max))) over the last axis."""
    m = _reduce_last(ctx, x, "max")
    shifted = ctx.b.emit("sub", [x, _expand_last(ctx, m, x.shape)])
    e = ctx.b.emit("exp", [shifted])
    return shifted, e, _reduce_last(ctx, e, "sum")


def _where(ctx, pred, a, b):
    return ctx.b.emit("select", [pred, a, b])


# ---------------------------------------------------------------- activations

def _activation(op_type, features, name, allowed=FLOATS, attrs=None):
    """A unary activation op; like TF's generated wrappers, a Python value is
    converted inside the op's scope (`Elu/features`)."""
    with name_scope(name, op_type, [features]) as scope:
        x = convert_to_tensor(features, name="features")
        _check_dtype(op_type, x, allowed, "features")
        a = {"T": x.dtype}
        a.update(attrs or {})
        return make_tensor(op_type, [x], x.dtype, x.shape, a, name=scope)


def relu6(features, name=None):
    return _activation("Relu6", features, name, NUMERIC)


def elu(features, name=None):
    return _activation("Elu", features, name)


def selu(features, name=None):
    return _activation("Selu", features, name)


def softplus(features, name=None):
    return _activation("Softplus", features, name)


def softsign(features, name=None):
    return _activation("Softsign", features, name)


def leaky_relu(features, alpha=0.2, name=None):
    with name_scope(name, "LeakyRelu", [features, alpha]) as scope:
        x = convert_to_tensor(features, name="features")
        if x.dtype.is_integer:
            x = math_ops.cast(x, _dt.float32)
        if isinstance(alpha, (np.ndarray, np.generic)):
            alpha = alpha.item()
        if isinstance(alpha, Tensor):
            raise TypeError("leaky_relu: alpha must be a Python number (it is an attribute "
                            "of the LeakyRelu op), not a Tensor")
        _check_dtype("LeakyRelu", x, FLOATS, "features")
        return make_tensor("LeakyRelu", [x], x.dtype, x.shape,
                           {"T": x.dtype, "alpha": float(alpha)}, name=scope)


@lowering("Relu6", "Elu", "Selu", "Softplus", "Softsign", "LeakyRelu")
def _lower_activation(ctx, op, inputs):
    (x,) = inputs
    b, dt, shp = ctx.b, x.dtype, x.shape
    zero = ctx.scalar(0, dt, shp)
    if op.type == "Relu6":
        return [b.emit("min", [b.emit("max", [x, zero]), ctx.scalar(6, dt, shp)])]
    if op.type == "LeakyRelu":
        scaled = b.emit("mul", [x, ctx.scalar(op.attrs["alpha"], dt, shp)])
        return [_where(ctx, b.emit("gt", [x, zero]), x, scaled)]
    if op.type == "Softsign":
        den = b.emit("add", [b.emit("abs", [x]), ctx.scalar(1, dt, shp)])
        return [b.emit("div", [x, den])]
    if op.type == "Softplus":
        # TF's thresholds: x itself where exp(-x) is below epsilon, exp(x) where
        # exp(x) is; log1p(exp(x)) in between (no overflow anywhere).
        thr = float(np.log(np.finfo(DTYPES[dt]).eps) + 2.0)
        e = b.emit("exp", [x])
        mid = b.emit("log1p", [e])
        small = _where(ctx, b.emit("lt", [x, ctx.scalar(thr, dt, shp)]), e, mid)
        return [_where(ctx, b.emit("gt", [x, ctx.scalar(-thr, dt, shp)]), x, small)]
    neg = b.emit("lt", [x, zero])
    em1 = b.emit("expm1", [x])
    if op.type == "Elu":
        return [_where(ctx, neg, em1, x)]
    # Selu
    lo = b.emit("mul", [em1, ctx.scalar(SELU_SCALE * SELU_ALPHA, dt, shp)])
    hi = b.emit("mul", [x, ctx.scalar(SELU_SCALE, dt, shp)])
    return [_where(ctx, neg, lo, hi)]


# ---------------------------------------------------------------- softmax

def _softmax_op(op_type, x, name):
    with name_scope(name, op_type, [x]) as scope:
        x = convert_to_tensor(x, name="logits")
        _check_dtype(op_type, x, FLOATS, "logits")
        if x.shape.ndims == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for "
                             f"'{scope[:-1]}' (op: '{op_type}') with input shapes: [].")
        return make_tensor(op_type, [x], x.dtype, x.shape, {"T": x.dtype}, name=scope)


def _softmax(op_type, logits, axis, name):
    """Softmax over `axis`: the op works on the last axis, so another axis is
    swapped to the end and back, as TF does."""
    if axis is None:
        axis = -1
    x = convert_to_tensor(logits)
    r = x.shape.ndims
    if isinstance(axis, Tensor):
        v = constant_value(axis)
        if v is None:
            raise ValueError(f"{op_type}: axis must be known when the graph is built")
        axis = int(v)
    axis = int(axis)
    if axis == -1 or (r is not None and axis == r - 1):
        return _softmax_op(op_type, x, name)
    if r is None:
        raise ValueError(f"{op_type}: an axis other than the last needs an input of known "
                         f"rank; {x.name} has unknown rank")
    if not -r <= axis < r:
        raise InvalidArgumentError(
            None, None, f"Dimension ({axis}) must be in the range [{-r}, {r}) where {r} "
            "is the number of dimensions in the input.")
    a = axis % r
    perm = list(builtins.range(r))
    perm[a], perm[-1] = perm[-1], perm[a]
    y = _softmax_op(op_type, array_ops.transpose(x, perm, name=None), None)
    out = array_ops.transpose(y, perm, name=name)
    out.set_shape(x.shape)
    return out


def softmax(logits, axis=None, name=None, dim=None):
    if axis is None:
        axis = dim
    return _softmax("Softmax", logits, axis, name)


def log_softmax(logits, axis=None, name=None, dim=None):
    if axis is None:
        axis = dim
    return _softmax("LogSoftmax", logits, axis, name)


@lowering("Softmax", "LogSoftmax")
def _lower_softmax(ctx, op, inputs):
    (x,) = inputs
    if x.type.rank < 1:
        ctx.fail(f"logits must have >= 1 dimension, got {list(x.shape)}")
    shifted, e, s = _shifted_exp(ctx, x)
    if op.type == "Softmax":
        return [ctx.b.emit("div", [e, _expand_last(ctx, s, x.shape)])]
    log_s = ctx.b.emit("log", [s])
    return [ctx.b.emit("sub", [shifted, _expand_last(ctx, log_s, x.shape)])]


# ---------------------------------------------------------------- cross entropy

def _ensure_xent_args(name, sentinel, labels, logits):
    if sentinel is not None:
        raise ValueError(f"Only call `{name}` with named arguments (labels=..., "
                         "logits=..., ...)")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def _sparse_xent_op(logits, labels, name):
    dims = logits.shape.as_list() if logits.shape.ndims is not None else [None, None]
    if labels.shape.ndims is not None and labels.shape.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {labels.shape.ndims} for "
                         "'SparseSoftmaxCrossEntropyWithLogits' with input shapes: "
                         f"{logits.shape}, {labels.shape}.")
    batch = dims[0]
    if batch is None and labels.shape.ndims == 1:
        batch = labels.shape[0].value
    op = make_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                 {"T": logits.dtype, "Tlabels": labels.dtype},
                 [(logits.dtype, [batch]), (logits.dtype, [batch, dims[1]])], name=name,
                 default_name="SparseSoftmaxCrossEntropyWithLogits")
    return op.outputs


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """Cross entropy of softmax(logits) against integer class labels; the loss has
    the labels' shape."""
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels = convert_to_tensor(labels)
        logits = convert_to_tensor(logits)
        _check_dtype("SparseSoftmaxCrossEntropyWithLogits", labels, (_dt.int32, _dt.int64),
                     "labels")
        _check_dtype("SparseSoftmaxCrossEntropyWithLogits", logits, FLOATS, "features")
        precise = math_ops.cast(logits, _dt.float32) if logits.dtype == _dt.float16 else logits
        lshape, gshape = labels.shape, logits.shape
        if gshape.ndims == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {gshape}.")
        if (gshape.ndims is not None and lshape.ndims is not None
                and lshape.ndims != gshape.ndims - 1):
            raise ValueError(f"Rank mismatch: Rank of labels (received {lshape.ndims}) "
                             "should equal rank of logits minus 1 (received "
                             f"{gshape.ndims}).")
        if gshape.ndims is not None and not lshape.is_compatible_with(gshape[:-1]):
            raise ValueError(f"Shape mismatch: The shape of labels (received {lshape}) "
                             "should equal the shape of logits except for the last "
                             f"dimension (received {gshape}).")
        labels_shape = array_ops.shape(labels)
        if gshape.ndims == 2:
            cost = _sparse_xent_op(precise, labels, name)[0]
        else:
            classes = gshape[-1].value if gshape.ndims is not None else None
            if classes is None:
                classes = array_ops.shape(logits)[-1]
            flat_logits = array_ops.reshape(precise, [-1, classes])
            flat_labels = array_ops.reshape(labels, [-1])
            cost = _sparse_xent_op(flat_logits, flat_labels, name)[0]
            cost = array_ops.reshape(cost, labels_shape)
            cost.set_shape(lshape)
        return math_ops.cast(cost, _dt.float16) if logits.dtype == _dt.float16 else cost


def _flatten_outer_dims(x):
    """Reshapes to [-1, last dim] (TF's helper, with the same op names)."""
    r = array_ops.rank(x)
    last = array_ops.slice(array_ops.shape(x), array_ops.stack([r - 1]), [1])
    out = array_ops.reshape(x, array_ops.concat([[-1], last], 0))
    s = x.shape
    if s.ndims is not None:
        dims = s.as_list()
        lead = 1
        for d in dims[:-1]:
            if d is None:
                lead = None
                break
            lead *= d
        out.set_shape([lead, dims[-1] if dims else None])
    return out


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """Cross entropy of softmax(logits) against a distribution over classes on
    `axis`; gradients flow into labels too."""
    if axis is None:
        axis = -1 if dim is None else dim
    with name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        _check_dtype("SoftmaxCrossEntropyWithLogits", logits, FLOATS, "features")
        to32 = logits.dtype == _dt.float16
        precise = math_ops.cast(logits, _dt.float32) if to32 else logits
        labels = math_ops.cast(labels, precise.dtype)
        input_rank = array_ops.rank(precise)
        static = logits.shape
        if static.ndims == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {static}.")
        if not labels.shape.is_compatible_with(static):
            raise ValueError(f"logits and labels must be broadcastable: logits_size="
                             f"{static} labels_size={labels.shape}")
        if axis != -1:
            r = static.ndims
            if r is None:
                raise ValueError("softmax_cross_entropy_with_logits: an axis other than "
                                 "the last needs logits of known rank")
            a = int(axis) % r
            perm = [i for i in builtins.range(r) if i != a] + [a]
            precise = array_ops.transpose(precise, perm, name=None)
            labels = array_ops.transpose(labels, perm, name=None)
        input_shape = array_ops.shape(precise)
        flat_logits = _flatten_outer_dims(precise)
        flat_labels = _flatten_outer_dims(labels)
        dims = flat_logits.shape.as_list()
        op = make_op("SoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                     {"T": precise.dtype},
                     [(precise.dtype, [dims[0]]), (precise.dtype, dims)], name=scope)
        out_shape = array_ops.slice(input_shape, [0], array_ops.stack([input_rank - 1]))
        cost = array_ops.reshape(op.outputs[0], out_shape)
        if static.ndims is not None:
            d = static.as_list()
            del d[int(axis)]
            cost.set_shape(d)
        return math_ops.cast(cost, logits.dtype) if to32 else cost


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF 1.x's version: no gradient flows into labels."""
    _ensure_xent_args("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    if axis is not None:
        dim = axis
    with name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = math_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=dim,
                                                name=scope)


@lowering("SoftmaxCrossEntropyWithLogits")
def _lower_xent(ctx, op, inputs):
    logits, labels = inputs
    if logits.shape != labels.shape:
        shp = ctx.broadcast_shape(logits.shape, labels.shape)
        logits, labels = ctx.bcast(logits, shp), ctx.bcast(labels, shp)
    if logits.type.rank != 2:
        ctx.fail("logits and labels must be either 2-dimensional, or broadcasted to be "
                 f"2-dimensional; got logits {list(logits.shape)}")
    b = ctx.b
    shifted, e, s = _shifted_exp(ctx, logits)
    log_s = _expand_last(ctx, b.emit("log", [s]), logits.shape)
    loss = _reduce_last(ctx, b.emit("mul", [labels, b.emit("sub", [log_s, shifted])]), "sum")
    probs = b.emit("div", [e, _expand_last(ctx, s, logits.shape)])
    return [loss, b.emit("sub", [probs, labels])]


@lowering("SparseSoftmaxCrossEntropyWithLogits")
def _lower_sparse_xent(ctx, op, inputs):
    logits, labels = inputs
    if logits.type.rank != 2 or labels.type.rank != 1:
        ctx.fail(f"logits must be 2-D and labels 1-D, got logits {list(logits.shape)} and "
                 f"labels {list(labels.shape)}")
    n, c = logits.shape
    if labels.shape[0] != n:
        ctx.fail(f"logits and labels must have the same first dimension, got logits shape "
                 f"{list(logits.shape)} and labels shape {list(labels.shape)}")
    b, dt = ctx.b, logits.dtype
    shifted, e, s = _shifted_exp(ctx, logits)
    hit = b.emit("eq", [b.emit("iota", [], shape=(n, c), dtype=labels.dtype, dim=1),
                        b.emit("broadcast", [labels], shape=(n, c), dims=[0])])
    picked = _reduce_last(ctx, _where(ctx, hit, shifted, ctx.scalar(0, dt, (n, c))), "sum")
    loss = b.emit("sub", [b.emit("log", [s]), picked])
    probs = b.emit("div", [e, _expand_last(ctx, s, (n, c))])
    backprop = b.emit("sub", [probs, ctx.convert(hit, dt)])
    # A label outside [0, classes) gives NaN in its row (TF's GPU behaviour; the
    # compiled code has no way to raise mid-run).
    valid = b.emit("and", [b.emit("ge", [labels, ctx.scalar(0, labels.dtype, (n,))]),
                           b.emit("lt", [labels, ctx.scalar(c, labels.dtype, (n,))])])
    loss = _where(ctx, valid, loss, ctx.scalar(np.nan, dt, (n,)))
    backprop = _where(ctx, b.emit("broadcast", [valid], shape=(n, c), dims=[0]), backprop,
                      ctx.scalar(np.nan, dt, (n, c)))
    _check_labels(ctx, op, labels, valid, c)
    return [loss, backprop]


_MAX_LISTED_LABELS = 1000


def _check_labels(ctx, op, labels, valid, c):
    """TF's CPU error for a label outside [0, classes), naming the first one and
    (for batches up to a thousand) listing the labels, as TF does. The run
    returns the labels themselves then (the first bad one is found from them);
    only bigger batches compute its position."""
    n = labels.shape[0]
    if n == 0:
        return
    b = ctx.b
    ok = b.emit("reduce", [valid], kind="and", axes=[0])
    if n <= _MAX_LISTED_LABELS:
        def message(d):
            bad = next(int(v) for v in d if not 0 <= v < c)
            return (f"Received a label value of {bad} which is outside the valid range of "
                    f"[0, {c}).  Label values: {' '.join(str(int(v)) for v in d)}")
        ctx.add_run_check(op, ok, message, details=[labels])
        return
    first = b.emit("argmin", [ctx.convert(valid, "i32")], axis=0, dtype="i64")
    value = b.emit("gather", [labels, b.emit("reshape", [first], shape=[1])], axis=0)
    ctx.add_run_check(op, ok, lambda d: (
        f"Received a label value of {int(d[0])} which is outside the valid range of "
        f"[0, {c})."), details=[value])


# ---------------------------------------------------------------- bias_add, l2_loss

def bias_add(value, bias, data_format=None, name=None):
    """value + bias, bias along the channel dimension (last for NHWC, 1 for NCHW)."""
    with name_scope(name, "BiasAdd", [value, bias]) as scope:
        if data_format is not None:
            if data_format.startswith("NC"):
                data_format = "NCHW"
            elif data_format.startswith("N") and data_format.endswith("C"):
                data_format = "NHWC"
            else:
                raise ValueError("data_format must be of the form `N...C` or `NC...`")
        fmt = data_format or "NHWC"
        x = convert_to_tensor(value, name="input")
        b = convert_to_tensor(bias, dtype=x.dtype, name="bias")
        _check_dtype("BiasAdd", x, NUMERIC, "value")
        op_desc = f"'{scope[:-1]}' (op: 'BiasAdd')"
        r = x.shape.ndims
        need = 3 if fmt == "NCHW" else 2
        if r is not None and r < need:
            raise ValueError(f"Shape must be at least rank {need} but is rank {r} for "
                             f"{op_desc} with input shapes: {_fmt(x.shape)}, {_fmt(b.shape)}.")
        if b.shape.ndims is not None and b.shape.ndims != 1:
            raise ValueError(f"Shape must be rank 1 but is rank {b.shape.ndims} for "
                             f"{op_desc} with input shapes: {_fmt(x.shape)}, {_fmt(b.shape)}.")
        out = x.shape
        if r is not None:
            dims = x.shape.as_list()
            ch = 1 if fmt == "NCHW" else r - 1
            bd = b.shape[0].value if b.shape.ndims == 1 else None
            if dims[ch] is not None and bd is not None and dims[ch] != bd:
                raise ValueError(f"Dimensions must be equal, but are {dims[ch]} and {bd} "
                                 f"for {op_desc} with input shapes: {_fmt(x.shape)}, "
                                 f"{_fmt(b.shape)}.")
            dims[ch] = dims[ch] if dims[ch] is not None else bd
            out = TensorShape(dims)
        return make_tensor("BiasAdd", [x, b], x.dtype, out,
                           {"T": x.dtype, "data_format": fmt}, name=scope)


def _fmt(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def bias_channel(rank, data_format):
    """The channel dimension BiasAdd adds along (and BiasAddGrad reduces to)."""
    return 1 if data_format == "NCHW" else rank - 1


@lowering("BiasAdd")
def _lower_bias_add(ctx, op, inputs):
    x, b = inputs
    fmt = op.attrs.get("data_format", "NHWC")
    r = x.type.rank
    if r < 2 or b.type.rank != 1:
        ctx.fail(f"Input tensor must be at least 2D and bias 1D: got {list(x.shape)} and "
                 f"{list(b.shape)}")
    ch = bias_channel(r, fmt)
    if b.shape[0] != x.shape[ch]:
        where = "channel" if fmt == "NCHW" else "last"
        ctx.fail(f"Must provide as many biases as the {where} dimension of the input "
                 f"tensor: {list(b.shape)} vs. {list(x.shape)}")
    bb = ctx.b.emit("broadcast", [b], shape=x.shape, dims=[ch])
    return [ctx.b.emit("add", [x, bb])]


def l2_loss(t, name=None):
    """sum(t ** 2) / 2, a scalar."""
    with name_scope(name, "L2Loss", [t]) as scope:
        x = convert_to_tensor(t, name="t")
        _check_dtype("L2Loss", x, FLOATS, "t")
        return make_tensor("L2Loss", [x], x.dtype, [], {"T": x.dtype}, name=scope)


@lowering("L2Loss")
def _lower_l2_loss(ctx, op, inputs):
    (x,) = inputs
    sq = ctx.b.emit("mul", [x, x])
    if x.type.rank:
        sq = ctx.b.emit("reduce", [sq], kind="sum", axes=list(builtins.range(x.type.rank)))
    return [ctx.b.emit("mul", [sq, ctx.scalar(0.5, x.dtype)])]


# ---------------------------------------------------------------- in_top_k

def in_top_k(predictions, targets, k, name=None):
    """Whether each target's prediction is among the k largest of its row (ties
    count in its favour; a row with a non-finite prediction gives False)."""
    with name_scope(name, "in_top_k"), name_scope(name, "InTopKV2") as op_scope:
        p = convert_to_tensor(predictions, name="predictions")
        t = convert_to_tensor(targets, name="targets")
        _check_dtype("InTopKV2", p, (_dt.float32,), "predictions")
        _check_dtype("InTopKV2", t, (_dt.int32, _dt.int64), "targets")
        kt = convert_to_tensor(k, dtype=t.dtype, name="k")  # in the op's own scope
        if p.shape.ndims not in (None, 2):
            raise ValueError(f"Shape must be rank 2 but is rank {p.shape.ndims} for "
                             f"'InTopKV2' with input shapes: {p.shape}, {t.shape}, [].")
        if t.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {t.shape.ndims} for "
                             f"'InTopKV2' with input shapes: {p.shape}, {t.shape}, [].")
        batch = p.shape[0].value if p.shape.ndims == 2 else None
        if batch is None and t.shape.ndims == 1:
            batch = t.shape[0].value
        return make_tensor("InTopKV2", [p, t, kt], _dt.bool, [batch], {"T": t.dtype},
                           name=op_scope)


@lowering("InTopKV2", "InTopK")
def _lower_in_top_k(ctx, op, inputs):
    p, t = inputs[0], inputs[1]
    if p.type.rank != 2 or t.type.rank != 1 or t.shape[0] != p.shape[0]:
        ctx.fail(f"predictions must be 2-D and targets 1-D of the same batch size, got "
                 f"{list(p.shape)} and {list(t.shape)}")
    n, c = p.shape
    b, it = ctx.b, t.dtype
    k = inputs[2] if len(inputs) > 2 else ctx.b.constant(np.array(op.attrs["k"]), it)
    hit = b.emit("eq", [b.emit("iota", [], shape=(n, c), dtype=it, dim=1),
                        b.emit("broadcast", [t], shape=(n, c), dims=[0])])
    target_p = _reduce_last(ctx, _where(ctx, hit, p, ctx.scalar(0, p.dtype, (n, c))), "sum")
    above = b.emit("gt", [p, b.emit("broadcast", [target_p], shape=(n, c), dims=[0])])
    count = _reduce_last(ctx, ctx.convert(above, it), "sum")
    finite = _reduce_last(ctx, b.emit("eq", [b.emit("sub", [p, p]),
                                             ctx.scalar(0, p.dtype, (n, c))]), "and")
    in_range = b.emit("and", [b.emit("ge", [t, ctx.scalar(0, it, (n,))]),
                              b.emit("lt", [t, ctx.scalar(c, it, (n,))])])
    top = b.emit("lt", [count, ctx.bcast(ctx.convert(k, it), (n,))])
    return [b.emit("and", [b.emit("and", [top, finite]), in_range])]
