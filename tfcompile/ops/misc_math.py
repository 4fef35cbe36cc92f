"""tf.math extras of TF 1.15: reduce_euclidean_norm (op EuclideanNorm), polyval,
and the exponentially scaled modified Bessel functions bessel_i0e / bessel_i1e
(ops BesselI0e, BesselI1e) with bessel_i0 / bessel_i1 over them, each with its
gradient.

The Bessel functions are computed in float64 whatever the input type: for
|x| < 20 the power series of I0 and I1 (all terms positive, so accurate to
rounding) times exp(-|x|); beyond, the asymptotic expansion of e^-x I(x),
whose error there is below e^-40.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from ..graph import name_scope
from . import array_ops, math_ops
from .constant_op import convert_to_tensor
from .math_grad import reduced_shape
from .op_util import make_tensor
from .registry import RegisterGradient, lowering

_SERIES_LIMIT = 20.0
_SERIES_TERMS = 60
_ASYMPTOTIC_TERMS = 30


# ---------------------------------------------------------------- euclidean norm

def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x**2)) over `axis` (all axes when None)."""
    return math_ops._reduction("EuclideanNorm", input_tensor, axis, keepdims, name)


@lowering("EuclideanNorm")
def _lower_euclidean_norm(ctx, op, inputs):
    x = inputs[0]
    axes = sorted({ctx.axis(a, x.type.rank)
                   for a in np.reshape(ctx.const_value(inputs[1], "EuclideanNorm axes"), [-1])})
    ss = ctx.b.emit("reduce", [ctx.b.emit("mul", [x, x])], kind="sum", axes=axes)
    if x.dtype in ("f32", "f64"):
        out = ctx.b.emit("sqrt", [ss])
    else:   # integers: the root of the integer sum, truncated (as TF's kernel)
        out = ctx.convert(ctx.b.emit("sqrt", [ctx.convert(ss, "f64")]), x.dtype)
    if op.attrs["keep_dims"]:
        out = ctx.b.emit("reshape", [out],
                         shape=[1 if i in axes else d for i, d in enumerate(x.shape)])
    return [out]


@RegisterGradient("EuclideanNorm")
def _euclidean_norm_grad(op, grad):
    """x / norm * grad, the norm and grad reshaped to keep the reduced dims."""
    out = op.outputs[0]
    if not op.attrs["keep_dims"]:
        kept = reduced_shape(array_ops.shape(op.inputs[0]), op.inputs[1])
        out = array_ops.reshape(out, kept)
        grad = array_ops.reshape(grad, kept)
    return [math_ops.truediv(op.inputs[0], out / grad), None]


# ---------------------------------------------------------------- polyval

def polyval(coeffs, x, name=None):
    """coeffs[0] * x**(n-1) + ... + coeffs[n-1], by Horner's rule."""
    if not isinstance(coeffs, list):
        raise ValueError(f"Argument coeffs must be list type found {type(coeffs)}.")
    with name_scope(name, "polyval", list(coeffs) + [x]) as name:
        x = convert_to_tensor(x, name="x")
        if len(coeffs) < 1:
            return array_ops.zeros_like(x, name=name)
        coeffs = [convert_to_tensor(c, name=f"coeff_{i}") for i, c in enumerate(coeffs)]
        p = coeffs[0]
        for c in coeffs[1:]:
            p = c + p * x
        return p


# ---------------------------------------------------------------- Bessel functions

def _bessel_op(op_type, x, name):
    with name_scope(name, op_type, [x]) as scope:
        x = convert_to_tensor(x, name="x")
        if x.dtype not in (_dt.float16, _dt.float32, _dt.float64):
            raise TypeError(f"Value passed to parameter 'x' has DataType {x.dtype.name} not "
                            "in list of allowed values: float16, float32, float64")
        return make_tensor(op_type, [x], x.dtype, x.shape, {"T": x.dtype}, name=scope)


def bessel_i0e(x, name=None):
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0."""
    with name_scope(name, "bessel_i0e", [x]):
        return _bessel_op("BesselI0e", x, None)


def bessel_i1e(x, name=None):
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1."""
    with name_scope(name, "bessel_i1e", [x]):
        return _bessel_op("BesselI1e", x, None)


def bessel_i0(x, name=None):
    with name_scope(name, "bessel_i0", [x]):
        return math_ops.exp(math_ops.abs(x)) * bessel_i0e(x)


def bessel_i1(x, name=None):
    with name_scope(name, "bessel_i1", [x]):
        return math_ops.exp(math_ops.abs(x)) * bessel_i1e(x)


def _series(ctx, t, order):
    """sum_k t^k / (k! (k+order)!) by Horner's rule (t = x^2 / 4)."""
    shape = t.shape
    p = ctx.scalar(1.0, "f64", shape)
    for k in range(_SERIES_TERMS, 0, -1):
        c = ctx.scalar(1.0 / (k * (k + order)), "f64", shape)
        p = ctx.b.emit("add", [ctx.scalar(1.0, "f64", shape),
                               ctx.b.emit("mul", [ctx.b.emit("mul", [t, c]), p])])
    return p


def _asymptotic(ctx, ax, order):
    """e^-x I_order(x) ~ (2 pi x)^-1/2 sum_k (-1)^k a_k / x^k, for large x > 0."""
    shape = ax.shape
    mu = 4.0 * order * order
    coef = [1.0]
    for k in range(1, _ASYMPTOTIC_TERMS + 1):
        coef.append(coef[-1] * -(mu - (2 * k - 1) ** 2) / (k * 8.0))
    inv = ctx.b.emit("div", [ctx.scalar(1.0, "f64", shape), ax])
    p = ctx.scalar(coef[-1], "f64", shape)
    for c in reversed(coef[:-1]):
        p = ctx.b.emit("add", [ctx.scalar(c, "f64", shape), ctx.b.emit("mul", [p, inv])])
    root = ctx.b.emit("rsqrt", [ctx.b.emit("mul", [ax, ctx.scalar(2 * math.pi, "f64", shape)])])
    return ctx.b.emit("mul", [p, root])


@lowering("BesselI0e", "BesselI1e")
def _lower_bessel(ctx, op, inputs):
    x0 = inputs[0]
    order = 0 if op.type == "BesselI0e" else 1
    b = ctx.b
    x = ctx.convert(x0, "f64")
    shape = x.shape
    ax = b.emit("abs", [x])
    small = b.emit("lt", [ax, ctx.scalar(_SERIES_LIMIT, "f64", shape)])
    # the series on |x| clipped into its range, the expansion on |x| clipped out of it
    xs = b.emit("min", [ax, ctx.scalar(_SERIES_LIMIT, "f64", shape)])
    xl = b.emit("max", [ax, ctx.scalar(_SERIES_LIMIT, "f64", shape)])
    t = b.emit("mul", [b.emit("mul", [xs, xs]), ctx.scalar(0.25, "f64", shape)])
    s = _series(ctx, t, order)
    if order:
        s = b.emit("mul", [s, b.emit("mul", [xs, ctx.scalar(0.5, "f64", shape)])])
    s = b.emit("mul", [s, b.emit("exp", [b.emit("neg", [xs])])])
    out = b.emit("select", [small, s, _asymptotic(ctx, xl, order)])
    if order:   # I1 is odd
        out = b.emit("mul", [out, b.emit("sign", [x])])
    nan = b.emit("ne", [x, x])
    out = b.emit("select", [nan, x, out])
    return [ctx.convert(out, x0.dtype)]


@RegisterGradient("BesselI0e")
def _bessel_i0e_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (bessel_i1e(x) - math_ops.sign(x) * y)]


@RegisterGradient("BesselI1e")
def _bessel_i1e_grad(op, grad):
    """i0e(x) - y (sign(x) + 1/x), with its limit 0.5 at x = 0 (TF's guard)."""
    x, y = op.inputs[0], op.outputs[0]
    eps = np.finfo(x.dtype.as_numpy_dtype).eps
    zeros = array_ops.zeros_like(x)
    not_tiny = math_ops.abs(x) > eps
    safe_x = array_ops.where(not_tiny, x, eps + zeros)
    dy_dx = bessel_i0e(safe_x) - y * (math_ops.sign(safe_x) + math_ops.reciprocal(safe_x))
    return [grad * array_ops.where(not_tiny, dy_dx, 0.5 + zeros)]
