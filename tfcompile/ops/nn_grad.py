"""Gradients of tf.nn's ops, as TF 1.15 defines them, and the gradient ops they
use (EluGrad, BiasAddGrad, ...) with their lowerings to IR ops.

Each @RegisterGradient function returns one gradient per op input (None where
TF gives none); second-order gradients of the *Grad ops follow TF too. Relu's
gradient (ReluGrad) sits with the math gradients in math_grad.py.
"""
from __future__ import annotations

import builtins

from ..graph import name_scope
from . import array_ops, math_ops
from .constant_op import convert_to_tensor
from .op_util import constant_value, make_tensor
from .registry import LOWERINGS, NotDifferentiable, RegisterGradient, lowering


# ---------------------------------------------------------------- gradient ops

def _grad_op(op_type, gradients, other, name=None, attrs=None, other_param="features"):
    g = convert_to_tensor(gradients, name="gradients")
    x = convert_to_tensor(other, name=other_param, dtype=g.dtype)
    if not g.shape.is_compatible_with(x.shape):
        raise ValueError(f"{op_type}: gradients shape {g.shape} and {other_param} shape "
                         f"{x.shape} must be equal")
    a = {"T": g.dtype}
    a.update(attrs or {})
    return make_tensor(op_type, [g, x], g.dtype, g.shape.merge_with(x.shape), a,
                       name=name, default_name=op_type)


def relu6_grad(gradients, features, name=None):
    return _grad_op("Relu6Grad", gradients, features, name)


def elu_grad(gradients, outputs, name=None):
    return _grad_op("EluGrad", gradients, outputs, name, other_param="outputs")


def selu_grad(gradients, outputs, name=None):
    return _grad_op("SeluGrad", gradients, outputs, name, other_param="outputs")


def softplus_grad(gradients, features, name=None):
    return _grad_op("SoftplusGrad", gradients, features, name)


def softsign_grad(gradients, features, name=None):
    return _grad_op("SoftsignGrad", gradients, features, name)


def leaky_relu_grad(gradients, features, alpha=0.2, name=None):
    return _grad_op("LeakyReluGrad", gradients, features, name, {"alpha": float(alpha)})


def bias_add_grad(out_backprop, data_format="NHWC", name=None):
    g = convert_to_tensor(out_backprop, name="out_backprop")
    fmt = data_format or "NHWC"
    dims = g.shape.as_list() if g.shape.ndims is not None else None
    c = None
    if dims is not None:
        c = dims[1] if fmt == "NCHW" else dims[-1]
    return make_tensor("BiasAddGrad", [g], g.dtype, [c], {"T": g.dtype, "data_format": fmt},
                       name=name, default_name="BiasAddGrad")


def prevent_gradient(input, message="", name=None):  # noqa: A002 - TF's name
    x = convert_to_tensor(input)
    return make_tensor("PreventGradient", [x], x.dtype, x.shape,
                       {"T": x.dtype, "message": message}, name=name,
                       default_name="PreventGradient")


@lowering("Relu6Grad", "EluGrad", "SeluGrad", "SoftplusGrad", "SoftsignGrad",
          "LeakyReluGrad")
def _lower_grad_op(ctx, op, inputs):
    g, x = inputs
    if g.shape != x.shape:
        ctx.fail(f"{op.type}: gradients and features must have the same shape, got "
                 f"{list(g.shape)} and {list(x.shape)}")
    b, dt, shp = ctx.b, g.dtype, g.shape
    zero = ctx.scalar(0, dt, shp)
    one = ctx.scalar(1, dt, shp)
    if op.type == "Relu6Grad":
        inside = b.emit("and", [b.emit("gt", [x, zero]),
                                b.emit("lt", [x, ctx.scalar(6, dt, shp)])])
        return [b.emit("select", [inside, g, zero])]
    if op.type == "LeakyReluGrad":
        scaled = b.emit("mul", [g, ctx.scalar(op.attrs["alpha"], dt, shp)])
        return [b.emit("select", [b.emit("gt", [x, zero]), g, scaled])]
    if op.type == "EluGrad":  # x holds the Elu outputs
        neg = b.emit("mul", [g, b.emit("add", [x, one])])
        return [b.emit("select", [b.emit("lt", [x, zero]), neg, g])]
    if op.type == "SeluGrad":  # x holds the Selu outputs
        from ..nn_ops import SELU_ALPHA, SELU_SCALE
        neg = b.emit("mul", [g, b.emit("add", [x, ctx.scalar(SELU_SCALE * SELU_ALPHA, dt,
                                                              shp)])])
        pos = b.emit("mul", [g, ctx.scalar(SELU_SCALE, dt, shp)])
        return [b.emit("select", [b.emit("lt", [x, zero]), neg, pos])]
    if op.type == "SoftplusGrad":
        den = b.emit("add", [b.emit("exp", [b.emit("neg", [x])]), one])
        return [b.emit("div", [g, den])]
    # SoftsignGrad
    den = b.emit("add", [b.emit("abs", [x]), one])
    return [b.emit("div", [g, b.emit("mul", [den, den])])]


@lowering("BiasAddGrad")
def _lower_bias_add_grad(ctx, op, inputs):
    (g,) = inputs
    r = g.type.rank
    if r < 2:
        ctx.fail(f"Input tensor must be at least 2D: {list(g.shape)}")
    from ..nn_ops import bias_channel
    ch = bias_channel(r, op.attrs.get("data_format", "NHWC"))
    axes = [i for i in builtins.range(r) if i != ch]
    return [ctx.b.emit("reduce", [g], kind="sum", axes=axes)]


if "PreventGradient" not in LOWERINGS:
    @lowering("PreventGradient")
    def _lower_prevent_gradient(ctx, op, inputs):
        return [inputs[0]]


# ---------------------------------------------------------------- first-order gradients

@RegisterGradient("Relu6")
def _relu6_grad(op, grad):
    return [relu6_grad(grad, op.outputs[0])]


@RegisterGradient("Elu")
def _elu_grad(op, grad):
    return [elu_grad(grad, op.outputs[0])]


@RegisterGradient("Selu")
def _selu_grad(op, grad):
    return [selu_grad(grad, op.outputs[0])]


@RegisterGradient("Softplus")
def _softplus_grad(op, grad):
    return [softplus_grad(grad, op.inputs[0])]


@RegisterGradient("Softsign")
def _softsign_grad(op, grad):
    return [softsign_grad(grad, op.inputs[0])]


@RegisterGradient("LeakyRelu")
def _leaky_relu_grad(op, grad):
    return [leaky_relu_grad(grad, op.inputs[0], alpha=op.get_attr("alpha"))]


@RegisterGradient("Softmax")
def _softmax_grad(op, grad_softmax):
    # (g - sum(g * softmax)) * softmax
    softmax = op.outputs[0]
    sum_channels = math_ops.reduce_sum(grad_softmax * softmax, -1, keepdims=True)
    return [(grad_softmax - sum_channels) * softmax]


@RegisterGradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    softmax = math_ops.exp(op.outputs[0])
    return [grad - math_ops.reduce_sum(grad, -1, keepdims=True) * softmax]


@RegisterGradient("BiasAdd")
def _bias_add_grad(op, received_grad):
    fmt = op.attrs.get("data_format", "NHWC")
    return [received_grad, bias_add_grad(received_grad, data_format=fmt)]


@RegisterGradient("L2Loss")
def _l2_loss_grad(op, grad):
    return [op.inputs[0] * grad]


def _broadcast_mul(vec, mat):
    """vec[..., None] * mat: scales each row of `mat` by the loss gradient."""
    return array_ops.expand_dims(vec, -1) * mat


def _is_zero(g):
    if g.op.type in ("ZerosLike", "Zeros"):
        return True
    v = constant_value(g)
    return v is not None and bool((v == 0).all())


@RegisterGradient("SoftmaxCrossEntropyWithLogits")
def _softmax_xent_grad(op, grad_loss, grad_grad):
    softmax_grad = op.outputs[1]
    grad = _broadcast_mul(grad_loss, softmax_grad)
    logits = op.inputs[0]
    if grad_grad is not None and not _is_zero(grad_grad):
        from ..nn_ops import softmax
        sm = softmax(logits)
        inner = array_ops.squeeze(
            math_ops.matmul(array_ops.expand_dims(grad_grad, 1),
                            array_ops.expand_dims(sm, 2)), axis=1)
        grad += (grad_grad - inner) * sm
    from ..nn_ops import log_softmax
    return [grad, _broadcast_mul(grad_loss, -log_softmax(logits))]


@RegisterGradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_softmax_xent_grad(op, grad_loss, _grad_backprop):
    # The op's second output is softmax - onehot; its own gradient would need a
    # second derivative the fused op doesn't provide, so it is blocked.
    backprop = prevent_gradient(
        op.outputs[1],
        message="Currently there is no way to take the second derivative of "
        "sparse_softmax_cross_entropy_with_logits due to the fused implementation's "
        "interaction with tf.gradients()")
    return [_broadcast_mul(grad_loss, backprop), None]


@RegisterGradient("PreventGradient")
def _prevent_gradient_grad(op, _grad):
    raise LookupError(f"Gradient explicitly disabled. Reason: {op.get_attr('message')}")


# ---------------------------------------------------------------- second-order gradients

def _zeros_of(x):
    return array_ops.zeros(shape=array_ops.shape(x), dtype=x.dtype)


@RegisterGradient("Relu6Grad")
def _relu6_grad_grad(op, grad):
    x = op.inputs[1]
    return [relu6_grad(grad, x), _zeros_of(x)]


@RegisterGradient("LeakyReluGrad")
def _leaky_relu_grad_grad(op, grad):
    x = op.inputs[1]
    return [leaky_relu_grad(grad, x, alpha=op.get_attr("alpha")), _zeros_of(x)]


@RegisterGradient("EluGrad")
def _elu_grad_grad(op, grad):
    elu_x = op.inputs[1]
    return [elu_grad(grad, elu_x),
            array_ops.where(elu_x < 0, grad * op.inputs[0], array_ops.zeros_like(elu_x))]


@RegisterGradient("SeluGrad")
def _selu_grad_grad(op, grad):
    selu_x = op.inputs[1]
    return [selu_grad(grad, selu_x),
            array_ops.where(selu_x < 0., grad * op.inputs[0], array_ops.zeros_like(selu_x))]


@RegisterGradient("SoftplusGrad")
def _softplus_grad_grad(op, grad):
    dy, x = op.inputs
    with x.graph.control_dependencies([grad]):
        ddy = softplus_grad(grad, x)
        d2x = grad * dy / (math_ops.exp(-x) + 2.0 + math_ops.exp(x))
        return [ddy, d2x]


@RegisterGradient("BiasAddGrad")
def _bias_add_grad_grad(op, received_grad):
    # The bias gradient sums over all but the channel dim; its gradient
    # broadcasts back along them (TF tiles; adding to zeros is the same).
    from ..nn_ops import bias_add
    with name_scope(None, "BiasAddGradGrad"):
        return [bias_add(array_ops.zeros_like(op.inputs[0]), received_grad,
                         data_format=op.attrs.get("data_format", "NHWC"))]


NotDifferentiable("InTopK")
NotDifferentiable("InTopKV2")
