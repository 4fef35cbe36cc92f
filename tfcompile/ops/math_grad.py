"""Gradients of the math ops: elementwise unary and binary ops (with the
broadcast reductions TF's BroadcastGradientArgs gives), casts, AddN, matmul,
and the reductions; plus the fused gradient ops TF uses for some of them
(SqrtGrad, RsqrtGrad, TanhGrad, SigmoidGrad, ReciprocalGrad, ReluGrad) with
their lowerings and second-order gradients.

Each function follows TF 1.15's math_grad.py in what it computes and in the
order it creates ops, so the gradient ops get TF's names."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import array_ops, math_ops
from .array_grad import broadcast_gradient_args
from .constant_op import constant
from .op_util import broadcast_static_shape, constant_value, make_tensor
from .registry import NotDifferentiable, RegisterGradient, lowering

_FLOATS = (_dt.float16, _dt.float32, _dt.float64)

for _t in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
           "LogicalAnd", "LogicalOr", "LogicalNot", "ArgMax", "ArgMin", "All", "Any",
           "TruncateDiv", "RandomUniform", "RandomStandardNormal", "TruncatedNormal",
           "RandomUniformInt"):
    NotDifferentiable(_t)


# ---------------------------------------------------------------- fused gradient ops

def _grad_op(op_type, a, b, name=None):
    shape = broadcast_static_shape(a.shape, b.shape, op_type)
    return make_tensor(op_type, [a, b], b.dtype, shape, {"T": b.dtype}, name=name,
                       default_name=op_type)


def sqrt_grad(y, dy, name=None):
    return _grad_op("SqrtGrad", y, dy, name)


def rsqrt_grad(y, dy, name=None):
    return _grad_op("RsqrtGrad", y, dy, name)


def tanh_grad(y, dy, name=None):
    return _grad_op("TanhGrad", y, dy, name)


def sigmoid_grad(y, dy, name=None):
    return _grad_op("SigmoidGrad", y, dy, name)


def reciprocal_grad(y, dy, name=None):
    return _grad_op("ReciprocalGrad", y, dy, name)


def relu_grad(gradients, features, name=None):
    return make_tensor("ReluGrad", [gradients, features], gradients.dtype,
                       broadcast_static_shape(gradients.shape, features.shape, "ReluGrad"),
                       {"T": gradients.dtype}, name=name, default_name="ReluGrad")


def _lower_fused(ctx, op_type, y, dy):
    b = ctx.b

    def c(v):
        return ctx.scalar(v, dy.dtype, dy.shape)
    if op_type == "SqrtGrad":           # dy * 0.5 / y
        return b.emit("div", [b.emit("mul", [c(0.5), dy]), y])
    if op_type == "RsqrtGrad":          # -0.5 * (dy * y) * y^2
        return b.emit("mul", [b.emit("mul", [c(-0.5), b.emit("mul", [dy, y])]),
                              b.emit("mul", [y, y])])
    if op_type == "TanhGrad":           # dy * (1 - y^2)
        return b.emit("mul", [dy, b.emit("sub", [c(1), b.emit("mul", [y, y])])])
    if op_type == "SigmoidGrad":        # dy * y * (1 - y)
        return b.emit("mul", [dy, b.emit("mul", [y, b.emit("sub", [c(1), y])])])
    if op_type == "ReciprocalGrad":     # -dy * y^2
        return b.emit("mul", [b.emit("neg", [dy]), b.emit("mul", [y, y])])
    raise NotImplementedError(op_type)


@lowering("SqrtGrad", "RsqrtGrad", "TanhGrad", "SigmoidGrad", "ReciprocalGrad")
def _lower_grad_op(ctx, op, inputs):
    y, dy = ctx.broadcast_pair(*inputs)
    return [_lower_fused(ctx, op.type, y, dy)]


@lowering("ReluGrad")
def _lower_relu_grad(ctx, op, inputs):
    g, f = ctx.broadcast_pair(*inputs)
    pos = ctx.b.emit("gt", [f, ctx.scalar(0, f.dtype, f.shape)])
    return [ctx.b.emit("select", [pos, g, ctx.scalar(0, g.dtype, g.shape)])]


@RegisterGradient("SqrtGrad")
def _sqrt_grad_grad(op, grad):
    a = op.inputs[0]
    y = op.outputs[0]
    ga = grad / a
    return math_ops.negative(ga) * y, 0.5 * ga


@RegisterGradient("RsqrtGrad")
def _rsqrt_grad_grad(op, grad):
    a, b = op.inputs
    return -1.5 * grad * b * math_ops.square(a), rsqrt_grad(a, grad)


@RegisterGradient("TanhGrad")
def _tanh_grad_grad(op, grad):
    y, b = op.inputs
    return grad * -2.0 * b * y, tanh_grad(y, grad)


@RegisterGradient("SigmoidGrad")
def _sigmoid_grad_grad(op, grad):
    a, b = op.inputs
    gb = grad * b
    return gb - 2.0 * gb * a, sigmoid_grad(a, grad)


@RegisterGradient("ReciprocalGrad")
def _reciprocal_grad_grad(op, grad):
    a, b = op.inputs
    return grad * -2.0 * b * a, reciprocal_grad(a, grad)


@RegisterGradient("ReluGrad")
def _relu_grad_grad(op, grad):
    x = op.inputs[1]
    return relu_grad(grad, x), array_ops.zeros(array_ops.shape(x), dtype=x.dtype)


# ---------------------------------------------------------------- unary

@RegisterGradient("Neg")
def _neg_grad(_, grad):
    return math_ops.negative(grad)


@RegisterGradient("Abs")
def _abs_grad(op, grad):
    return grad * math_ops.sign(op.inputs[0])


@RegisterGradient("Sign")
def _sign_grad(op, _):
    x = op.inputs[0]
    return array_ops.zeros(array_ops.shape(x), dtype=x.dtype)


@RegisterGradient("Square")
def _square_grad(op, grad):
    x = op.inputs[0]
    two = constant(2.0, dtype=x.dtype)
    return math_ops.multiply(grad, math_ops.multiply(x, two))


@RegisterGradient("Sqrt")
def _sqrt_grad(op, grad):
    return sqrt_grad(op.outputs[0], grad)


@RegisterGradient("Rsqrt")
def _rsqrt_grad(op, grad):
    return rsqrt_grad(op.outputs[0], grad)


@RegisterGradient("Reciprocal")
def _reciprocal_grad(op, grad):
    return reciprocal_grad(op.outputs[0], grad)


@RegisterGradient("Exp")
def _exp_grad(op, grad):
    return grad * op.outputs[0]


@RegisterGradient("Expm1")
def _expm1_grad(op, grad):
    return grad * math_ops.exp(op.inputs[0])


@RegisterGradient("Log")
def _log_grad(op, grad):
    return grad * math_ops.reciprocal(op.inputs[0])


@RegisterGradient("Log1p")
def _log1p_grad(op, grad):
    return grad * math_ops.reciprocal(1 + op.inputs[0])


@RegisterGradient("Tanh")
def _tanh_grad(op, grad):
    return tanh_grad(op.outputs[0], grad)


@RegisterGradient("Sigmoid")
def _sigmoid_grad(op, grad):
    return sigmoid_grad(op.outputs[0], grad)


@RegisterGradient("Relu")
def _relu_grad(op, grad):
    return relu_grad(grad, op.outputs[0])


@RegisterGradient("Sin")
def _sin_grad(op, grad):
    return grad * math_ops.cos(op.inputs[0])


@RegisterGradient("Cos")
def _cos_grad(op, grad):
    return math_ops.negative(grad) * math_ops.sin(op.inputs[0])


@RegisterGradient("Floor")
@RegisterGradient("Ceil")
@RegisterGradient("Round")
def _piecewise_constant_grad(_, unused_grad):
    return [None]


@RegisterGradient("Cast")
def _cast_grad(op, grad):
    src = op.inputs[0].dtype
    if src in _FLOATS and grad.dtype in _FLOATS:
        return math_ops.cast(grad, src)
    return None


@RegisterGradient("AddN")
def _add_n_grad(op, grad):
    return [grad] * len(op.inputs)


# ---------------------------------------------------------------- binary

def _fully_equal(x, y, grad):
    s = x.shape
    return (s.ndims is not None and s.is_fully_defined() and s == y.shape
            and s == grad.shape)


def _sum_to(t, axes, shape):
    return array_ops.reshape(math_ops.reduce_sum(t, axes), shape)


@RegisterGradient("Add")
@RegisterGradient("AddV2")
def _add_grad(op, grad):
    x, y = op.inputs
    if _fully_equal(x, y, grad):
        return grad, grad
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    return _sum_to(grad, rx, sx), _sum_to(grad, ry, sy)


@RegisterGradient("Sub")
def _sub_grad(op, grad):
    x, y = op.inputs
    if _fully_equal(x, y, grad):
        return grad, math_ops.negative(grad)
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    return (_sum_to(grad, rx, sx),
            array_ops.reshape(math_ops.negative(math_ops.reduce_sum(grad, ry)), sy))


@RegisterGradient("Mul")
def _mul_grad(op, grad):
    x, y = op.inputs
    if _fully_equal(x, y, grad) and grad.dtype in (_dt.int32, _dt.float32):
        return math_ops.multiply(grad, y), math_ops.multiply(grad, x)
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    return (_sum_to(math_ops.multiply(grad, y), rx, sx),
            _sum_to(math_ops.multiply(x, grad), ry, sy))


@RegisterGradient("RealDiv")
@RegisterGradient("Div")
def _real_div_grad(op, grad):
    x, y = op.inputs
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    gx = _sum_to(math_ops.realdiv(grad, y), rx, sx)
    gy = _sum_to(grad * math_ops.realdiv(math_ops.realdiv(math_ops.negative(x), y), y), ry, sy)
    return gx, gy


@RegisterGradient("FloorDiv")
def _floor_div_grad(_, unused_grad):
    return None, None


def _mod_grad(op, grad, quotient):
    x, y = op.inputs
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    q = quotient(x, y)
    return _sum_to(grad, rx, sx), _sum_to(grad * math_ops.negative(q), ry, sy)


@RegisterGradient("FloorMod")
def _floor_mod_grad(op, grad):
    """grad * (1, -floor(x / y))."""
    return _mod_grad(op, grad, math_ops.floor_div)


@RegisterGradient("TruncateMod")
def _truncate_mod_grad(op, grad):
    """grad * (1, -trunc(x / y))."""
    return _mod_grad(op, grad, math_ops.truncatediv)


@RegisterGradient("Pow")
def _pow_grad(op, grad):
    x, y = op.inputs
    z = op.outputs[0]
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    gx = _sum_to(math_ops.multiply(grad, y * math_ops.pow(x, y - 1)), rx, sx)
    # log(x) only where x > 0: avoids a false singularity at x = 0
    mask = x > 0
    safe_x = array_ops.where(mask, x, array_ops.ones_like(x))
    log_x = array_ops.where(mask, math_ops.log(safe_x), array_ops.zeros_like(x))
    gy = _sum_to(grad * z * log_x, ry, sy)
    return gx, gy


def _max_min_grad(op, grad, selector):
    """The gradient goes to x where selector(x, y) holds (ties included), else to y."""
    x, y = op.inputs
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    zeros = array_ops.zeros(array_ops.shape(grad), grad.dtype)
    xmask = selector(x, y)
    rx, ry = broadcast_gradient_args(sx, sy)
    xgrad = array_ops.where(xmask, grad, zeros)
    ygrad = array_ops.where(xmask, zeros, grad)
    return _sum_to(xgrad, rx, sx), _sum_to(ygrad, ry, sy)


@RegisterGradient("Maximum")
def _maximum_grad(op, grad):
    return _max_min_grad(op, grad, math_ops.greater_equal)


@RegisterGradient("Minimum")
def _minimum_grad(op, grad):
    return _max_min_grad(op, grad, math_ops.less_equal)


@RegisterGradient("SquaredDifference")
def _squared_difference_grad(op, grad):
    x, y = op.inputs
    sx, sy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = broadcast_gradient_args(sx, sy)
    x_grad = math_ops.scalar_mul(2.0, grad) * (x - y)
    return _sum_to(x_grad, rx, sx), math_ops.negative(_sum_to(x_grad, ry, sy))


# ---------------------------------------------------------------- matmul

@RegisterGradient("MatMul")
def _matmul_grad(op, grad):
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    a, b = op.inputs
    mm = math_ops.matmul
    if not ta and not tb:
        return mm(grad, b, transpose_b=True), mm(a, grad, transpose_a=True)
    if not ta and tb:
        return mm(grad, b), mm(grad, a, transpose_a=True)
    if ta and not tb:
        return mm(b, grad, transpose_b=True), mm(a, grad)
    return (mm(b, grad, transpose_a=True, transpose_b=True),
            mm(grad, a, transpose_a=True, transpose_b=True))


@RegisterGradient("BatchMatMul")
@RegisterGradient("BatchMatMulV2")
def _batch_matmul_grad(op, grad):
    x, y = op.inputs
    ax, ay = op.attrs["adj_x"], op.attrs["adj_y"]
    mm = math_ops.matmul
    if not ax:
        if not ay:
            gx, gy = mm(grad, y, adjoint_b=True), mm(x, grad, adjoint_a=True)
        else:
            gx, gy = mm(grad, y), mm(grad, x, adjoint_a=True)
    else:
        if not ay:
            gx, gy = mm(y, grad, adjoint_b=True), mm(x, grad)
        else:
            gx, gy = (mm(y, grad, adjoint_a=True, adjoint_b=True),
                      mm(grad, x, adjoint_a=True, adjoint_b=True))
    xs, ys = x.shape, y.shape
    if not (xs.ndims is not None and xs.is_fully_defined() and ys.ndims is not None
            and ys.is_fully_defined() and xs == ys):
        sx, sy = array_ops.shape(x), array_ops.shape(y)
        rx, ry = broadcast_gradient_args(sx[:-2], sy[:-2])
        gx = _sum_to(gx, rx, sx)
        gy = _sum_to(gy, ry, sy)
    return gx, gy


# ---------------------------------------------------------------- reductions

def _safe_shape_div(x, y):
    return math_ops.floordiv(x, math_ops.maximum(y, 1))


def reduced_shape(input_shape, axes):
    """The shape `input_shape` reduces to with kept dims (1 at each reduced axis)."""
    iv, av = constant_value(input_shape), constant_value(axes)
    if iv is not None and av is not None:
        iv = np.reshape(iv, [-1])
        r = len(iv)
        kept = [1 if i in {int(a) % r for a in np.reshape(av, [-1])} else int(d)
                for i, d in enumerate(iv)] if r else []
        return constant(np.array(kept, dtype=np.int32))
    rank = array_ops.size(input_shape)
    ax = math_ops.floormod(math_ops.cast(array_ops.reshape(axes, [-1]), _dt.int32) + rank,
                           rank)
    hit = math_ops.equal(array_ops.expand_dims(array_ops.range(0, rank), 1),
                         array_ops.expand_dims(ax, 0))
    mask = math_ops.reduce_any(hit, axis=1)
    return array_ops.where(mask, array_ops.ones_like(input_shape), input_shape)


def _static_axes(op):
    """(rank, reduced axes as a sorted list, raw axes) when both are known."""
    rank = op.inputs[0].shape.ndims
    av = constant_value(op.inputs[1])
    if rank is None or av is None:
        return None
    raw = np.reshape(av, [-1])
    return rank, sorted({int(a) % rank for a in raw}) if rank else [], raw


@RegisterGradient("Sum")
def _sum_grad(op, grad):
    x = op.inputs[0]
    st = _static_axes(op)
    if st is not None:
        rank, axes, raw = st
        dims = x.shape.as_list()
        if np.array_equal(raw, np.arange(rank)):  # reduced over everything
            grad = array_ops.reshape(grad, [1] * rank)
            if None not in dims:
                shape_t = constant(dims, dtype=_dt.int32)
            else:
                shape_t = array_ops.shape(x)
            return [array_ops.tile(grad, shape_t), None]
        if None not in dims:
            kept = [1 if i in axes else d for i, d in enumerate(dims)]
            scaling = [d // max(k, 1) for d, k in zip(dims, kept)]
            grad = array_ops.reshape(grad, kept)
            return [array_ops.tile(grad, scaling), None]
    input_shape = array_ops.shape(x)
    kept = reduced_shape(input_shape, op.inputs[1])
    scaling = _safe_shape_div(input_shape, kept)
    grad = array_ops.reshape(grad, kept)
    out = array_ops.tile(grad, scaling)
    return [out, None]


@RegisterGradient("Mean")
def _mean_grad(op, grad):
    sum_grad = _sum_grad(op, grad)[0]
    ins, outs = op.inputs[0].shape, op.outputs[0].shape
    if (ins.ndims is not None and ins.is_fully_defined() and outs.ndims is not None
            and outs.is_fully_defined()):
        factor = ins.num_elements() // max(outs.num_elements(), 1)
        factor = constant(factor, dtype=sum_grad.dtype)
    else:
        in_shape = array_ops.shape(op.inputs[0])
        out_shape = array_ops.shape(op.outputs[0])
        factor = _safe_shape_div(math_ops.reduce_prod(in_shape),
                                 math_ops.reduce_prod(out_shape))
    return math_ops.truediv(sum_grad, math_ops.cast(factor, sum_grad.dtype)), None


def _min_or_max_grad(op, grad):
    """Split equally among the elements equal to the result (TF's tie rule)."""
    input_shape = array_ops.shape(op.inputs[0])
    kept = reduced_shape(input_shape, op.inputs[1])
    y = array_ops.reshape(op.outputs[0], kept)
    grad = array_ops.reshape(grad, kept)
    indicators = math_ops.cast(math_ops.equal(y, op.inputs[0]), grad.dtype)
    num_selected = array_ops.reshape(math_ops.reduce_sum(indicators, op.inputs[1]), kept)
    return [math_ops.divide(indicators, num_selected) * grad, None]


RegisterGradient("Max")(_min_or_max_grad)
RegisterGradient("Min")(_min_or_max_grad)


@RegisterGradient("Prod")
def _prod_grad(op, grad):
    """d prod / d x_i = product of the other reduced elements, computed without
    dividing (correct where x has zeros): the reduced dims are moved to the
    front and flattened to n, then each element's n-1 partners are multiplied."""
    x = op.inputs[0]
    st = _static_axes(op)
    if st is None:
        raise ValueError(f"The gradient of {op.name} (Prod) needs the input's rank and "
                         f"constant reduction axes; got input shape {x.shape}")
    rank, axes, _ = st
    input_shape = array_ops.shape(x)
    kept = reduced_shape(input_shape, op.inputs[1])
    grad = array_ops.tile(array_ops.reshape(grad, kept), _safe_shape_div(input_shape, kept))
    other = [i for i in range(rank) if i not in axes]
    perm = axes + other
    permuted = array_ops.transpose(x, perm)
    permuted_shape = array_ops.shape(permuted)
    n = math_ops.reduce_prod(array_ops.gather(input_shape, np.array(axes, np.int32)))
    m = math_ops.reduce_prod(array_ops.gather(input_shape, np.array(other, np.int32)))
    flat = array_ops.reshape(permuted, array_ops.stack([n, m]))
    idx = array_ops.range(0, n)
    eye = math_ops.equal(array_ops.expand_dims(idx, 1), array_ops.expand_dims(idx, 0))
    one = constant(1, dtype=x.dtype)
    # partners[i, j, :] = x_j for j != i, 1 for j == i
    partners = array_ops.where_v2(array_ops.expand_dims(eye, 2), one,
                                  array_ops.expand_dims(flat, 0))
    others = array_ops.reshape(math_ops.reduce_prod(partners, axis=1), permuted_shape)
    out = grad * array_ops.transpose(others, list(np.argsort(perm)))
    return array_ops.reshape(out, input_shape), None
