"""Depthwise 2-D convolution: nn.depthwise_conv2d (op DepthwiseConv2dNative,
filter [KH, KW, C, M] giving C*M channels) and its two backprops, NHWC and
NCHW, SAME / VALID, strides and dilations, as TF 1.15.

Each kernel tap is a window slice of the padded input times that tap's
[C, M] filter slab, summed over taps (one fused loop: no matmul, since every
channel has its own filter). The input backprop correlates the spread output
gradient with the flipped filter; the filter backprop reduces each tap's
window times the output gradient over batch and space.
"""
from __future__ import annotations

import builtins

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from .constant_op import convert_to_tensor
from .conv_ops import (Geo, _conv_attrs, _conv_out_shape, _dims4, _float, _q, _sizes,
                       _to_nhwc, check_format, from_nhwc, get_sequence, pad_hw, spread_hw,
                       tap, to_nhwc)
from .op_util import make_tensor, shape_from_tensor
from .registry import lowering


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=(1, 1, 1, 1), name=None):
    with name_scope(name, "DepthwiseConv2dNative", [input, filter]) as scope:
        x = convert_to_tensor(input, name="input")
        f = convert_to_tensor(filter, name="filter", dtype_hint=x.dtype)
        _float(x, "input", "DepthwiseConv2dNative")
        attrs = _conv_attrs(strides, padding, data_format, dilations, x.dtype)
        shapes = f"{_q(x.shape)}, {_q(f.shape)}"
        xd = _to_nhwc(_dims4(x, "input", scope[:-1], "DepthwiseConv2dNative", shapes),
                      attrs["data_format"])
        fd = _dims4(f, "filter", scope[:-1], "DepthwiseConv2dNative", shapes)
        if xd[3] is not None and fd[2] is not None and xd[3] != fd[2]:
            raise ValueError(f"Dimensions must be equal, but are {xd[3]} and {fd[2]} for "
                             f"'{scope[:-1]}' (op: 'DepthwiseConv2dNative') with input "
                             f"shapes: {shapes}.")
        ch = None if xd[3] is None and fd[2] is None or fd[3] is None else \
            (xd[3] or fd[2]) * fd[3]
        out = _conv_out_shape(xd, fd[:2], attrs, scope[:-1], shapes, ch)
        return make_tensor("DepthwiseConv2dNative", [x, f], x.dtype, out, attrs, name=scope)


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    """tf.nn.depthwise_conv2d: filter [KH, KW, C, M] gives C*M output channels."""
    rate = dilations if rate is None else rate
    with name_scope(name, "depthwise", [input, filter]) as scope:
        x = convert_to_tensor(input, name="tensor_in")
        f = convert_to_tensor(filter, name="filter_in", dtype_hint=x.dtype)
        fmt = check_format(data_format)
        rate = [1, 1] if rate is None else list(rate)
        return depthwise_conv2d_native(x, f, strides, padding, data_format=fmt,
                                       dilations=get_sequence(rate, 2, 1 if fmt == "NCHW"
                                                              else 3, "dilations"),
                                       name=scope)


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop,  # noqa: A002
                                           strides, padding, data_format="NHWC",
                                           dilations=(1, 1, 1, 1), name=None):
    with name_scope(name, "DepthwiseConv2dNativeBackpropInput",
                    [input_sizes, filter, out_backprop]) as scope:
        sizes = input_sizes if isinstance(input_sizes, Tensor) else convert_to_tensor(
            input_sizes, dtype=_dt.int32, name="input_sizes")
        f = convert_to_tensor(filter, name="filter")
        dy = convert_to_tensor(out_backprop, name="out_backprop", dtype=f.dtype)
        attrs = _conv_attrs(strides, padding, data_format, dilations, f.dtype)
        return make_tensor("DepthwiseConv2dNativeBackpropInput", [sizes, f, dy], f.dtype,
                           shape_from_tensor(sizes), attrs, name=scope)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop,  # noqa: A002
                                            strides, padding, data_format="NHWC",
                                            dilations=(1, 1, 1, 1), name=None):
    with name_scope(name, "DepthwiseConv2dNativeBackpropFilter",
                    [input, filter_sizes, out_backprop]) as scope:
        x = convert_to_tensor(input, name="input")
        sizes = filter_sizes if isinstance(filter_sizes, Tensor) else convert_to_tensor(
            filter_sizes, dtype=_dt.int32, name="filter_sizes")
        dy = convert_to_tensor(out_backprop, name="out_backprop", dtype=x.dtype)
        attrs = _conv_attrs(strides, padding, data_format, dilations, x.dtype)
        return make_tensor("DepthwiseConv2dNativeBackpropFilter", [x, sizes, dy], x.dtype,
                           shape_from_tensor(sizes), attrs, name=scope)


# ---------------------------------------------------------------- lowerings

def _depthwise_taps(ctx, src, f, g, ho, wo, sh, sw, c, m):
    """sum over taps of src's window slice [N,ho,wo,C] times f[i, j] [C, M]
    -> [N, ho, wo, C, M]."""
    acc = None
    n = src.shape[0]
    shape5 = [n, ho, wo, c, m]
    for i in builtins.range(g.kh):
        for j in builtins.range(g.kw):
            s = tap(ctx, src, i, j, g, ho, wo, sh, sw)
            if s.type.rank == 4:
                s = ctx.b.emit("broadcast", [s], shape=shape5, dims=[0, 1, 2, 3])
            fij = ctx.b.emit("reshape", [ctx.b.emit("slice", [f], start=[i, j, 0, 0],
                                                     limit=[i + 1, j + 1, c, m],
                                                     stride=[1, 1, 1, 1])], shape=[c, m])
            t = ctx.b.emit("mul", [s, ctx.b.emit("broadcast", [fij], shape=shape5,
                                                  dims=[3, 4])])
            acc = t if acc is None else ctx.b.emit("add", [acc, t])
    return acc


@lowering("DepthwiseConv2dNative")
def _lower_depthwise(ctx, op, inputs):
    x, f = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    x = to_nhwc(ctx, x, nchw)
    n, h, wd, c = x.shape
    kh, kw, ci, m = f.shape
    if c != ci:
        ctx.fail(f"input depth {c} doesn't match the filter's input depth {ci}")
    g = Geo(ctx, op, n, h, wd, kh, kw)
    xp = pad_hw(ctx, x, g)
    out = _depthwise_taps(ctx, xp, f, g, g.ho, g.wo, g.sh, g.sw, c, m)
    out = ctx.b.emit("reshape", [out], shape=[n, g.ho, g.wo, c * m])
    return [from_nhwc(ctx, out, nchw)]


@lowering("DepthwiseConv2dNativeBackpropInput")
def _lower_depthwise_backprop_input(ctx, op, inputs):
    sizes_v, f, dy = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    n, h, wd, c = _to_nhwc(_sizes(ctx, sizes_v, "input_sizes"), op.attrs["data_format"])
    kh, kw, ci, m = f.shape
    dy = to_nhwc(ctx, dy, nchw)
    g = Geo(ctx, op, n, h, wd, kh, kw)
    if ci != c or tuple(dy.shape) != (n, g.ho, g.wo, c * m):
        ctx.fail(f"DepthwiseConv2dNativeBackpropInput: out_backprop shape {list(dy.shape)} "
                 f"doesn't match input {[n, h, wd, c]} and filter {list(f.shape)}")
    dy5 = ctx.b.emit("reshape", [dy], shape=[n, g.ho, g.wo, c, m])
    spread = spread_hw(ctx, dy5, g)
    ff = ctx.b.emit("reverse", [f], axes=[0, 1])
    acc = _depthwise_taps(ctx, spread, ff, g, h, wd, 1, 1, c, m)
    out = ctx.b.emit("reduce", [acc], kind="sum", axes=[4]) if m > 1 else \
        ctx.b.emit("reshape", [acc], shape=[n, h, wd, c])
    return [from_nhwc(ctx, out, nchw)]


@lowering("DepthwiseConv2dNativeBackpropFilter")
def _lower_depthwise_backprop_filter(ctx, op, inputs):
    x, sizes_v, dy = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    kh, kw, ci, m = _sizes(ctx, sizes_v, "filter_sizes")
    x = to_nhwc(ctx, x, nchw)
    dy = to_nhwc(ctx, dy, nchw)
    n, h, wd, c = x.shape
    g = Geo(ctx, op, n, h, wd, kh, kw)
    if ci != c or tuple(dy.shape) != (n, g.ho, g.wo, c * m):
        ctx.fail(f"DepthwiseConv2dNativeBackpropFilter: out_backprop shape "
                 f"{list(dy.shape)} doesn't match input {list(x.shape)} and filter "
                 f"{[kh, kw, ci, m]}")
    xp = pad_hw(ctx, x, g)
    shape5 = [n, g.ho, g.wo, c, m]
    dy5 = ctx.b.emit("reshape", [dy], shape=shape5)
    taps = []
    for i in builtins.range(kh):
        for j in builtins.range(kw):
            s = ctx.b.emit("broadcast", [tap(ctx, xp, i, j, g)], shape=shape5,
                           dims=[0, 1, 2, 3])
            t = ctx.b.emit("reduce", [ctx.b.emit("mul", [s, dy5])], kind="sum",
                           axes=[0, 1, 2])
            taps.append(ctx.b.emit("reshape", [t], shape=[1, c, m]))
    out = ctx.b.emit("concatenate", taps, axis=0)
    return [ctx.b.emit("reshape", [out], shape=[kh, kw, c, m])]
