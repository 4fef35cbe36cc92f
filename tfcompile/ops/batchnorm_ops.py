"""Fused batch normalization: nn.fused_batch_norm (op FusedBatchNormV3,
training and inference) and its gradient op FusedBatchNormGradV3.

In training, FusedBatchNormV3 normalizes with the batch's population variance
but returns the unbiased variance (times n / (n - 1)) as batch_variance, as
TF's kernel does for the moving averages; reserve_space_1/2 keep the batch
mean and population variance for the gradient.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import name_scope
from ..tensor_shape import TensorShape
from .constant_op import constant, convert_to_tensor
from .conv_ops import check_format
from .op_util import make_op
from .registry import lowering


def _channels(x, fmt):
    if x.shape.ndims is None:
        return None
    if x.shape.ndims != 4:
        raise ValueError(f"fused_batch_norm: input must be 4-D, got shape {x.shape}")
    return x.shape[1 if fmt == "NCHW" else 3].value


def fused_batch_norm(x, scale, offset=None, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None):
    """Returns (y, batch_mean, batch_variance); op FusedBatchNormV3."""
    x = convert_to_tensor(x, name="input")
    scale = convert_to_tensor(scale, name="scale")
    if offset is None:
        from .array_ops import zeros_like
        offset = zeros_like(scale)
    offset = convert_to_tensor(offset, name="offset")
    if not is_training and (mean is None or variance is None):
        raise ValueError("Both 'mean' and 'variance' must be a 1-D tensor when is_training "
                         "is False.")
    if mean is None:
        mean = constant([], dtype=scale.dtype)
    if variance is None:
        variance = constant([], dtype=scale.dtype)
    epsilon = epsilon if epsilon > 1.001e-5 else 1.001e-5
    fmt = check_format(data_format)
    mean = convert_to_tensor(mean, dtype=scale.dtype)
    variance = convert_to_tensor(variance, dtype=scale.dtype)
    if x.dtype not in (_dt.float16, _dt.float32, _dt.float64):
        raise TypeError(f"fused_batch_norm: x must be a float tensor, got {x.dtype.name}")
    for t, what in ((scale, "scale"), (offset, "offset")):
        if t.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {t.shape.ndims} for "
                             f"{what} of fused_batch_norm")
    c = _channels(x, fmt)
    if c is None:
        c = scale.shape[0].value if scale.shape.ndims == 1 else None
    vec = TensorShape([c])
    with name_scope(name, "FusedBatchNormV3", [x, scale, offset, mean, variance]) as scope:
        op = make_op("FusedBatchNormV3", [x, scale, offset, mean, variance],
                     {"T": x.dtype, "U": scale.dtype, "epsilon": float(epsilon),
                      "data_format": fmt, "is_training": bool(is_training)},
                     [(x.dtype, x.shape), (scale.dtype, vec), (scale.dtype, vec),
                      (scale.dtype, vec), (scale.dtype, vec), (scale.dtype, [0])],
                     name=scope)
    return op.outputs[0], op.outputs[1], op.outputs[2]


def fused_batch_norm_grad(y_backprop, x, scale, reserve_space_1, reserve_space_2,
                          reserve_space_3, epsilon, data_format, is_training, name=None):
    """Op FusedBatchNormGradV3: (x_backprop, scale_backprop, offset_backprop, _, _)."""
    with name_scope(name, "FusedBatchNormGradV3",
                    [y_backprop, x, scale, reserve_space_1, reserve_space_2]) as scope:
        vec = TensorShape([scale.shape[0].value if scale.shape.ndims == 1 else None])
        op = make_op("FusedBatchNormGradV3",
                     [y_backprop, x, scale, reserve_space_1, reserve_space_2,
                      reserve_space_3],
                     {"T": x.dtype, "U": scale.dtype, "epsilon": float(epsilon),
                      "data_format": data_format, "is_training": bool(is_training)},
                     [(x.dtype, x.shape), (scale.dtype, vec), (scale.dtype, vec),
                      (scale.dtype, [0]), (scale.dtype, [0])], name=scope)
        return op.outputs


# ---------------------------------------------------------------- lowerings

def _layout(ctx, op, x):
    """(reduction axes, channel axis, channel count, element count per channel)."""
    if x.type.rank != 4:
        ctx.fail(f"{op.type}: input must be 4-dimensional, got shape {list(x.shape)}")
    ch = 1 if op.attrs["data_format"] == "NCHW" else 3
    axes = [a for a in range(4) if a != ch]
    n = 1
    for a in axes:
        n *= x.shape[a]
    return axes, ch, x.shape[ch], n


def _per_channel(ctx, v, x, ch, what):
    if v.shape != (x.shape[ch],):
        ctx.fail(f"{what} must be a vector of size {x.shape[ch]} (the channels), got shape "
                 f"{list(v.shape)}")
    return ctx.b.emit("broadcast", [ctx.convert(v, x.dtype)], shape=x.shape, dims=[ch])


@lowering("FusedBatchNormV3", "FusedBatchNorm", "FusedBatchNormV2")
def _lower_fused_batch_norm(ctx, op, inputs):
    x, scale, offset, mean, var = inputs
    axes, ch, c, n = _layout(ctx, op, x)
    eps = op.attrs["epsilon"]
    b = ctx.b
    u = scale.dtype
    if op.attrs["is_training"]:
        xf = x
        s = b.emit("reduce", [xf], kind="sum", axes=axes)
        bmean = b.emit("div", [s, ctx.scalar(n, x.dtype, (c,))]) if n else s
        centered = b.emit("sub", [xf, b.emit("broadcast", [bmean], shape=x.shape, dims=[ch])])
        ss = b.emit("reduce", [b.emit("mul", [centered, centered])], kind="sum", axes=axes)
        bvar = b.emit("div", [ss, ctx.scalar(n, x.dtype, (c,))]) if n else ss
        mean_u, var_u = ctx.convert(bmean, u), ctx.convert(bvar, u)
        adjust = n / (n - 1) if n > 1 else 1.0
        out_var = b.emit("mul", [var_u, ctx.scalar(adjust, u, (c,))])
        out_mean = mean_u
    else:
        centered = b.emit("sub", [x, _per_channel(ctx, mean, x, ch, "mean")])
        mean_u, var_u = mean, var
        out_mean, out_var = mean, var
        _per_channel(ctx, var, x, ch, "variance")
    inv = b.emit("rsqrt", [b.emit("add", [var_u, ctx.scalar(eps, u, (c,))])])
    mult = b.emit("mul", [inv, scale]) if scale.shape == (c,) else ctx.fail(
        f"scale must be a vector of size {c}, got shape {list(scale.shape)}")
    y = b.emit("mul", [centered, _per_channel(ctx, mult, x, ch, "scale")])
    y = b.emit("add", [y, _per_channel(ctx, offset, x, ch, "offset")])
    outs = [y, out_mean, out_var, mean_u, var_u]
    if op.type == "FusedBatchNormV3":
        outs.append(ctx.scalar(0, u, (0,)))
    return outs


@lowering("FusedBatchNormGradV3", "FusedBatchNormGrad", "FusedBatchNormGradV2")
def _lower_fused_batch_norm_grad(ctx, op, inputs):
    dy, x, scale, mean, var = inputs[:5]
    axes, ch, c, n = _layout(ctx, op, x)
    b = ctx.b
    u = scale.dtype
    eps = op.attrs["epsilon"]
    inv = b.emit("rsqrt", [b.emit("add", [var, ctx.scalar(eps, u, (c,))])])
    centered = b.emit("sub", [x, _per_channel(ctx, mean, x, ch, "reserve_space_1")])
    xhat = b.emit("mul", [centered, _per_channel(ctx, inv, x, ch, "reserve_space_2")])
    d_offset = b.emit("reduce", [dy], kind="sum", axes=axes)
    d_scale = b.emit("reduce", [b.emit("mul", [dy, xhat])], kind="sum", axes=axes)
    k = _per_channel(ctx, b.emit("mul", [scale, inv]), x, ch, "scale")
    if op.attrs["is_training"] and n:
        mean_dy = b.emit("div", [d_offset, ctx.scalar(n, x.dtype, (c,))])
        mean_dyx = b.emit("div", [d_scale, ctx.scalar(n, x.dtype, (c,))])
        inner = b.emit("sub", [dy, b.emit("broadcast", [mean_dy], shape=x.shape, dims=[ch])])
        inner = b.emit("sub", [inner, b.emit("mul", [xhat, b.emit(
            "broadcast", [mean_dyx], shape=x.shape, dims=[ch])])])
        dx = b.emit("mul", [inner, k])
    else:
        dx = b.emit("mul", [dy, k])
    return [dx, ctx.convert(d_scale, u), ctx.convert(d_offset, u),
            ctx.scalar(0, u, (0,)), ctx.scalar(0, u, (0,))]
