"""2-D pooling: nn.max_pool, nn.avg_pool and their gradients (MaxPoolGrad,
AvgPoolGrad), NHWC and NCHW, SAME and VALID, as TF 1.15.

A pooling window is separable: the max (or sum) over the kw taps along W,
then over the kh taps along H, each tap a strided slice of the padded input.
SAME average pooling divides by the number of in-bounds cells, as TF.

MaxPoolGrad routes each window's gradient to the first (row-major) cell
equal to the window's max, found by comparing taps with the pooled output, so
no dense argmax mask is kept. Scattering tap gradients back is the transpose
of the strided slices: groups of `stride` consecutive taps interleave into
one array (a concatenate and reshape), and overlapping groups are added at
their offsets.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .conv_ops import (check_format, from_nhwc, geometry, get_sequence, hw, pad_hw,
                       to_nhwc, _from_nhwc, _q, _to_nhwc)
from .manip_ops import place_taps, window
from .op_util import make_tensor, shape_from_tensor
from .registry import lowering

_MAX_TYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)
_AVG_TYPES = (_dt.float16, _dt.float32, _dt.float64)


def _pool_attrs(ksize, strides, padding, data_format, dtype):
    fmt = check_format(data_format)
    c = 1 if fmt == "NCHW" else 3
    ksize = get_sequence(ksize, 2, c, "ksize")
    strides = get_sequence(strides, 2, c, "strides")
    if any(v == 0 for v in ksize):
        raise ValueError("ksize cannot be zero.")
    if isinstance(padding, bytes):
        padding = padding.decode()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"Value for attr 'padding' of {padding!r} is not in the list of "
                         "allowed values: \"SAME\", \"VALID\"")
    if ksize[0] != 1 or strides[0] != 1:
        raise ValueError("Pooling is not yet supported on the batch dimension.")
    if ksize[c] != 1 or strides[c] != 1:
        raise ValueError("Pooling over the depth dimension is not supported; ksize and "
                         "strides must be 1 there")
    if any(s < 1 for s in strides) or any(k < 1 for k in ksize):
        raise ValueError(f"ksize and strides must be positive, got {ksize} and {strides}")
    return {"T": dtype, "ksize": ksize, "strides": strides, "padding": padding,
            "data_format": fmt}


def _pool_shape(x, attrs, opname, op_type):
    if x.shape.ndims is None:
        return TensorShape([None] * 4)
    if x.shape.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims} for '{opname}' "
                         f"(op: '{op_type}') with input shapes: {_q(x.shape)}.")
    fmt = attrs["data_format"]
    n, h, w, c = _to_nhwc(x.shape.as_list(), fmt)
    kh, kw = hw(attrs["ksize"], fmt)
    sh, sw = hw(attrs["strides"], fmt)
    tail = f" (op: '{op_type}') with input shapes: {_q(x.shape)}."
    ho = geometry(h, kh, sh, 1, attrs["padding"], None, opname, tail)[0]
    wo = geometry(w, kw, sw, 1, attrs["padding"], None, opname, tail)[0]
    return TensorShape(_from_nhwc([n, ho, wo, c], fmt))


def _pool(op_type, allowed, value, ksize, strides, padding, data_format, name, input):
    if value is None:
        value = input
    with name_scope(name, op_type, [value]) as scope:
        x = convert_to_tensor(value, name="input")
        if x.dtype not in allowed:
            raise TypeError(f"Value passed to parameter 'input' has DataType "
                            f"{x.dtype.name} not in list of allowed values: "
                            f"{', '.join(d.name for d in allowed)}")
        attrs = _pool_attrs(ksize, strides, padding, data_format, x.dtype)
        out = _pool_shape(x, attrs, scope[:-1], op_type)
        return make_tensor(op_type, [x], x.dtype, out, attrs, name=scope)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None,
             input=None):  # noqa: A002
    return _pool("MaxPool", _MAX_TYPES, value, ksize, strides, padding, data_format, name,
                 input)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None,
             input=None):  # noqa: A002
    return _pool("AvgPool", _AVG_TYPES, value, ksize, strides, padding, data_format, name,
                 input)


def max_pool_grad(orig_input, orig_output, grad, ksize, strides, padding,
                  data_format="NHWC", name=None):
    with name_scope(name, "MaxPoolGrad", [orig_input, orig_output, grad]) as scope:
        x = convert_to_tensor(orig_input, name="orig_input")
        y = convert_to_tensor(orig_output, name="orig_output", dtype=x.dtype)
        g = convert_to_tensor(grad, name="grad", dtype=x.dtype)
        attrs = _pool_attrs(ksize, strides, padding, data_format, x.dtype)
        return make_tensor("MaxPoolGrad", [x, y, g], x.dtype, x.shape, attrs, name=scope)


def avg_pool_grad(orig_input_shape, grad, ksize, strides, padding, data_format="NHWC",
                  name=None):
    with name_scope(name, "AvgPoolGrad", [orig_input_shape, grad]) as scope:
        s = orig_input_shape if isinstance(orig_input_shape, Tensor) else \
            convert_to_tensor(orig_input_shape, dtype=_dt.int32, name="orig_input_shape")
        g = convert_to_tensor(grad, name="grad")
        attrs = _pool_attrs(ksize, strides, padding, data_format, g.dtype)
        return make_tensor("AvgPoolGrad", [s, g], g.dtype, shape_from_tensor(s), attrs,
                           name=scope)


# ---------------------------------------------------------------- IR helpers

class PoolGeo:
    def __init__(self, ctx, op, shape_nhwc):
        a = op.attrs
        fmt = a["data_format"]
        self.nchw = fmt == "NCHW"
        self.kh, self.kw = hw(a["ksize"], fmt)
        self.sh, self.sw = hw(a["strides"], fmt)
        self.n, self.h, self.w, self.c = shape_nhwc
        try:
            self.ho, self.pt, self.pb = geometry(self.h, self.kh, self.sh, 1, a["padding"],
                                                 None, op.name)
            self.wo, self.pl, self.pr = geometry(self.w, self.kw, self.sw, 1, a["padding"],
                                                 None, op.name)
        except ValueError as e:
            ctx.fail(f"{op.type}: {e}")


def _taps(ctx, v, axis, k, s, count):
    """The k strided slices v[..., t + s*o, ...] (o < count) along `axis`."""
    return [window(ctx, v, axis, t, count, s) for t in builtins.range(k)]


def _reduce_taps(ctx, parts, how):
    acc = parts[0]
    for p in parts[1:]:
        acc = ctx.b.emit(how, [acc, p])
    return acc


def _lowest(dtype):
    return -np.inf if dtype in ("f32", "f64") else int(np.iinfo(np.dtype(
        {"i32": np.int32, "i64": np.int64}[dtype])).min)


def _window_counts(g):
    """How many in-bounds cells each SAME window covers ([Ho, Wo] numpy)."""
    def counts(n, k, s, pad, out):
        starts = np.arange(out) * s - pad
        return np.minimum(starts + k, n) - np.maximum(starts, 0)
    return np.outer(counts(g.h, g.kh, g.sh, g.pt, g.ho), counts(g.w, g.kw, g.sw, g.pl, g.wo))


# ---------------------------------------------------------------- lowerings

@lowering("MaxPool", "AvgPool")
def _lower_pool(ctx, op, inputs):
    x = to_nhwc(ctx, inputs[0], op.attrs["data_format"] == "NCHW")
    g = PoolGeo(ctx, op, x.shape)
    is_max = op.type == "MaxPool"
    xp = pad_hw(ctx, x, g, _lowest(x.dtype) if is_max else 0)
    how = "max" if is_max else "add"
    v = _reduce_taps(ctx, _taps(ctx, xp, 2, g.kw, g.sw, g.wo), how)
    v = _reduce_taps(ctx, _taps(ctx, v, 1, g.kh, g.sh, g.ho), how)
    if not is_max:
        cnt = _window_counts(g).astype(np.dtype({"f32": np.float32, "f64": np.float64}[
            x.dtype]))
        c = ctx.b.emit("broadcast", [ctx.b.constant(cnt)], shape=v.shape, dims=[1, 2])
        v = ctx.b.emit("div", [v, c])
    return [from_nhwc(ctx, v, g.nchw)]


@lowering("MaxPoolGrad")
def _lower_max_pool_grad(ctx, op, inputs):
    nchw = op.attrs["data_format"] == "NCHW"
    x, y, dy = (to_nhwc(ctx, v, nchw) for v in inputs)
    g = PoolGeo(ctx, op, x.shape)
    if y.shape != (g.n, g.ho, g.wo, g.c) or dy.shape != y.shape:
        ctx.fail(f"MaxPoolGrad: orig_output {list(y.shape)} and grad {list(dy.shape)} must "
                 f"have the pooled shape {[g.n, g.ho, g.wo, g.c]}")
    # padding never matches a max: NaN compares unequal to everything
    pad_val = float("nan") if x.dtype in ("f32", "f64") else _lowest(x.dtype)
    xp = pad_hw(ctx, x, g, pad_val)
    zero = ctx.scalar(0, dy.dtype, dy.shape)
    taken = None
    rows = []
    for i in builtins.range(g.kh):
        row = []
        for j in builtins.range(g.kw):
            xs = window(ctx, window(ctx, xp, 1, i, g.ho, g.sh), 2, j, g.wo, g.sw)
            hit = ctx.b.emit("eq", [xs, y])
            if taken is not None:
                hit = ctx.b.emit("and", [hit, ctx.b.emit("not", [taken])])
                taken = ctx.b.emit("or", [taken, hit])
            else:
                taken = hit
            row.append(ctx.b.emit("select", [hit, dy, zero]))
        rows.append(place_taps(ctx, row, 2, g.sw, g.w + g.pl + g.pr))
    dxp = place_taps(ctx, rows, 1, g.sh, g.h + g.pt + g.pb)
    dx = ctx.b.emit("slice", [dxp], start=[0, g.pt, g.pl, 0],
                    limit=[g.n, g.pt + g.h, g.pl + g.w, g.c], stride=[1, 1, 1, 1])
    return [from_nhwc(ctx, dx, nchw)]


@lowering("AvgPoolGrad")
def _lower_avg_pool_grad(ctx, op, inputs):
    sizes_v, dy = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    sizes = [int(d) for d in np.reshape(ctx.const_value(sizes_v, "orig_input_shape"), [-1])]
    if len(sizes) != 4:
        ctx.fail(f"orig_input_shape must have 4 elements, got {sizes}")
    dy = to_nhwc(ctx, dy, nchw)
    g = PoolGeo(ctx, op, _to_nhwc(sizes, op.attrs["data_format"]))
    if dy.shape != (g.n, g.ho, g.wo, g.c):
        ctx.fail(f"AvgPoolGrad: grad {list(dy.shape)} must have the pooled shape "
                 f"{[g.n, g.ho, g.wo, g.c]}")
    cnt = _window_counts(g).astype(np.dtype({"f32": np.float32, "f64": np.float64}[dy.dtype]))
    share = ctx.b.emit("div", [dy, ctx.b.emit("broadcast", [ctx.b.constant(cnt)],
                                               shape=dy.shape, dims=[1, 2])])
    v = place_taps(ctx, [share] * g.kw, 2, g.sw, g.w + g.pl + g.pr)
    v = place_taps(ctx, [v] * g.kh, 1, g.sh, g.h + g.pt + g.pb)
    dx = ctx.b.emit("slice", [v], start=[0, g.pt, g.pl, 0],
                    limit=[g.n, g.pt + g.h, g.pl + g.w, g.c], stride=[1, 1, 1, 1])
    return [from_nhwc(ctx, dx, nchw)]
