"""Gradients of the convolution, pooling and fused batch-norm ops, as TF 1.15
registers them: Conv2D -> Conv2DBackpropInput / Conv2DBackpropFilter (and
the gradients of those two, which make conv2d_transpose trainable),
DepthwiseConv2dNative -> its two backprops, MaxPool -> MaxPoolGrad (whose own
gradient is MaxPoolGradGrad), AvgPool -> AvgPoolGrad, FusedBatchNormV3 ->
FusedBatchNormGradV3.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..graph import name_scope
from . import array_ops
from .batchnorm_ops import fused_batch_norm_grad
from .constant_op import convert_to_tensor
from .conv_ops import (conv2d, conv2d_backprop_filter, conv2d_backprop_input, from_nhwc,
                       pad_hw, to_nhwc)
from .depthwise_ops import (depthwise_conv2d_native_backprop_filter,
                            depthwise_conv2d_native_backprop_input)
from .manip_ops import window
from .op_util import make_tensor
from .pool_ops import PoolGeo, _pool_attrs, avg_pool, max_pool_grad
from .registry import RegisterGradient, lowering


def _shape(t):
    """A shape argument for a backprop op: static values when known."""
    if t.shape.is_fully_defined():
        return t.shape.as_list()
    return array_ops.shape(t)


def _padding(op):
    """The `padding` argument that recreates op's padding (a list when EXPLICIT)."""
    p = op.attrs["padding"]
    if p != "EXPLICIT":
        return p
    e = op.attrs["explicit_paddings"]
    return [[e[2 * i], e[2 * i + 1]] for i in builtins.range(4)]


def _conv_kwargs(op):
    return dict(strides=op.attrs["strides"], padding=_padding(op),
                data_format=op.attrs["data_format"], dilations=op.attrs["dilations"])


@RegisterGradient("Conv2D")
def _conv2d_grad(op, grad):
    x, w = op.inputs
    kw = _conv_kwargs(op)
    return [conv2d_backprop_input(_shape(x), w, grad, **kw),
            conv2d_backprop_filter(x, _shape(w), grad, **kw)]


@RegisterGradient("Conv2DBackpropInput")
def _conv2d_backprop_input_grad(op, grad):
    _, w, dy = op.inputs
    kw = _conv_kwargs(op)
    return [None, conv2d_backprop_filter(grad, _shape(w), dy, **kw), conv2d(grad, w, **kw)]


@RegisterGradient("Conv2DBackpropFilter")
def _conv2d_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    kw = _conv_kwargs(op)
    return [conv2d_backprop_input(_shape(x), grad, dy, **kw), None, conv2d(x, grad, **kw)]


@RegisterGradient("DepthwiseConv2dNative")
def _depthwise_grad(op, grad):
    x, f = op.inputs
    kw = _conv_kwargs(op)
    return [depthwise_conv2d_native_backprop_input(_shape(x), f, grad, **kw),
            depthwise_conv2d_native_backprop_filter(x, _shape(f), grad, **kw)]


def _pool_kwargs(op):
    return dict(ksize=op.attrs["ksize"], strides=op.attrs["strides"],
                padding=op.attrs["padding"], data_format=op.attrs["data_format"])


@RegisterGradient("MaxPool")
def _max_pool_grad(op, grad):
    return max_pool_grad(op.inputs[0], op.outputs[0], grad, **_pool_kwargs(op))


@RegisterGradient("AvgPool")
def _avg_pool_grad(op, grad):
    from .pool_ops import avg_pool_grad
    return avg_pool_grad(_shape(op.inputs[0]), grad, **_pool_kwargs(op))


@RegisterGradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    return None, avg_pool(grad, **_pool_kwargs(op))


def max_pool_grad_grad(orig_input, orig_output, grad, ksize, strides, padding,
                       data_format="NHWC", name=None):
    """Op MaxPoolGradGrad: the gradient `grad` (input-shaped) read back at each
    window's first max, giving a pooled-shape result."""
    with name_scope(name, "MaxPoolGradGrad", [orig_input, orig_output, grad]) as scope:
        x = convert_to_tensor(orig_input, name="orig_input")
        y = convert_to_tensor(orig_output, name="orig_output", dtype=x.dtype)
        g = convert_to_tensor(grad, name="grad", dtype=x.dtype)
        attrs = _pool_attrs(ksize, strides, padding, data_format, x.dtype)
        return make_tensor("MaxPoolGradGrad", [x, y, g], x.dtype, y.shape, attrs,
                           name=scope)


@RegisterGradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    x, y = op.inputs[0], op.inputs[1]
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            max_pool_grad_grad(x, y, grad, **_pool_kwargs(op)))


@RegisterGradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    x, y = op.inputs[0], op.inputs[1]
    return (array_ops.zeros_like(x), array_ops.zeros_like(y),
            max_pool_grad(x, y, grad, **_pool_kwargs(op)))


@lowering("MaxPoolGradGrad")
def _lower_max_pool_grad_grad(ctx, op, inputs):
    nchw = op.attrs["data_format"] == "NCHW"
    x, y, gg = (to_nhwc(ctx, v, nchw) for v in inputs)
    g = PoolGeo(ctx, op, x.shape)
    pad_val = float("nan") if x.dtype in ("f32", "f64") else int(np.iinfo(
        np.int32 if x.dtype == "i32" else np.int64).min)
    xp = pad_hw(ctx, x, g, pad_val)
    gp = pad_hw(ctx, gg, g, 0)
    out = ctx.scalar(0, x.dtype, y.shape)
    taken = None
    for i in builtins.range(g.kh):
        for j in builtins.range(g.kw):
            def win(v):
                return window(ctx, window(ctx, v, 1, i, g.ho, g.sh), 2, j, g.wo, g.sw)
            hit = ctx.b.emit("eq", [win(xp), y])
            if taken is not None:
                hit = ctx.b.emit("and", [hit, ctx.b.emit("not", [taken])])
                taken = ctx.b.emit("or", [taken, hit])
            else:
                taken = hit
            out = ctx.b.emit("select", [hit, win(gp), out])
    return [from_nhwc(ctx, out, nchw)]


@RegisterGradient("FusedBatchNormV3")
def _fused_batch_norm_v3_grad(op, *grads):
    x, scale = op.inputs[0], op.inputs[1]
    grad_y = grads[0]
    eps = op.attrs["epsilon"]
    fmt = op.attrs["data_format"]
    if op.attrs["is_training"]:
        dx, dscale, doffset, _, _ = fused_batch_norm_grad(
            grad_y, x, scale, op.outputs[3], op.outputs[4], op.outputs[5], eps, fmt, True)
    else:
        if fmt == "NCHW":
            x = array_ops.transpose(x, [0, 2, 3, 1])
            grad_y = array_ops.transpose(grad_y, [0, 2, 3, 1])
        dx, dscale, doffset, _, _ = fused_batch_norm_grad(
            grad_y, x, scale, op.inputs[3], op.inputs[4], op.outputs[5], eps, "NHWC", False)
        if fmt == "NCHW":
            dx = array_ops.transpose(dx, [0, 3, 1, 2])
    return dx, dscale, doffset, None, None

