"""2-D convolutions: nn.conv2d and its two backprops (Conv2DBackpropInput, also
conv2d_transpose, and Conv2DBackpropFilter), in NHWC and NCHW, SAME / VALID /
explicit padding, strides and dilations, as TF 1.15 (the depthwise
convolution is in depthwise_ops.py); the argument handling and geometry the
pooling and depthwise ops share.

Lowering: im2col. The padded input's sliding windows become
[N*Ho*Wo, KH*KW*C] patches and one matmul with the filter seen as
[KH*KW*C, O] gives the output, so the packed matmul kernel does the
arithmetic. The windows are built by `unfold` from broadcast, reshape, pad
and strided slice, which fuse into one loop feeding the matmul; a concatenate
of the KH*KW tap slices (the textbook im2col) measured 5-7x slower, since a
fused concatenate evaluates every operand per element, and a sum of per-tap
matmuls (contracting over only C) 1.4x slower. The input backprop takes
the cheaper of two forms: the same convolution of the stride-dilated, padded
output gradient with the flipped filter (patches of O channels), or col2im,
one matmul dy @ w^T giving per-tap gradient columns (C channels) that are
added back at their window offsets (40x faster for a 1-channel input). The
filter backprop is patches^T times the output gradient. NCHW is transposed
to NHWC and back.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .manip_ops import dilate, pad_or_crop, place_taps, static_ints
from .manip_ops import slice_axis as slice_axis_ir, window
from .op_util import make_tensor, shape_from_tensor
from .registry import lowering

FLOATS = (_dt.float16, _dt.float32, _dt.float64)


# ---------------------------------------------------------------- arguments

def get_sequence(value, n, channel_index, name):
    """TF's _get_sequence: an int or a list of 1, n or n+2 ints -> n+2 ints."""
    if value is None:
        value = [1]
    elif isinstance(value, (int, np.integer)):
        value = [int(value)]
    elif not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} should be an int or a list of ints, got {value!r}")
    value = [int(v) for v in value]
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2} but was {len(value)}")
    return ([1] + value + [1]) if channel_index == n + 1 else ([1, 1] + value)


def convert_padding(padding):
    """'SAME' / 'VALID', or an explicit [[0,0],[t,b],[l,r],[0,0]] list -> (str, flat)."""
    if isinstance(padding, (list, tuple)):
        flat = []
        for p in padding:
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise ValueError("When padding is explicit, each of its elements must be a "
                                 f"list of two ints, got {padding!r}")
            flat += [int(p[0]), int(p[1])]
        if len(flat) != 8:
            raise ValueError(f"When padding is explicit, it must have 4 elements, got "
                             f"{padding!r}")
        return "EXPLICIT", flat
    if isinstance(padding, bytes):
        padding = padding.decode()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"Value for attr 'padding' of {padding!r} is not in the list of "
                         "allowed values: \"SAME\", \"VALID\", \"EXPLICIT\"")
    return padding, []


def check_format(data_format):
    if isinstance(data_format, bytes):
        data_format = data_format.decode()
    if data_format is None:
        return "NHWC"
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Value for attr 'data_format' of {data_format!r} is not in the "
                         "list of allowed values: \"NHWC\", \"NCHW\"")
    return data_format


def hw(seq, data_format):
    """The (H, W) entries of a 4-element NHWC/NCHW attribute."""
    return (seq[2], seq[3]) if data_format == "NCHW" else (seq[1], seq[2])


def geometry(n, k, s, d, padding, explicit=None, opname=None, in_shapes=""):
    """(output size, pad before, pad after) of one spatial dim, as TF computes it.

    `n` None gives (None, None, None); VALID with a too-small input raises."""
    if n is None or k is None:
        return None, None, None
    eff = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-n // s)
        total = builtins.max((out - 1) * s + eff - n, 0)
        return out, total // 2, total - total // 2
    lo, hi = (explicit or (0, 0)) if padding == "EXPLICIT" else (0, 0)
    span = n + lo + hi - eff
    if span < 0:
        raise ValueError(f"Negative dimension size caused by subtracting {eff} from "
                         f"{n + lo + hi} for '{opname}'{in_shapes}")
    return span // s + 1, lo, hi


def _q(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _to_nhwc(shape4, data_format):
    if shape4 is None:
        return None
    n, a, b, c = shape4
    return [n, b, c, a] if data_format == "NCHW" else [n, a, b, c]


def _from_nhwc(shape4, data_format):
    n, h, w, c = shape4
    return [n, c, h, w] if data_format == "NCHW" else [n, h, w, c]


def _dims4(t, what, opname, op_type, shapes):
    if t.shape.ndims is None:
        return [None] * 4
    if t.shape.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {t.shape.ndims} for '{opname}' "
                         f"(op: '{op_type}') with input shapes: {shapes}.")
    return t.shape.as_list()


def _check_strides(strides, dilations, data_format):
    c = 1 if data_format == "NCHW" else 3
    if strides[0] != 1 or strides[c] != 1:
        raise ValueError("Current implementation does not yet support strides in the batch "
                         "and depth dimensions.")
    if any(s < 1 for s in strides):
        raise ValueError(f"strides must be positive, got {strides}")
    if dilations[0] != 1 or dilations[c] != 1:
        raise ValueError("Current implementation does not yet support dilations in the "
                         "batch and depth dimensions.")
    if any(d < 1 for d in dilations):
        raise ValueError(f"dilations must be positive, got {dilations}")


def _explicit_hw(explicit, data_format):
    if not explicit:
        return None, None
    pairs = [(explicit[2 * i], explicit[2 * i + 1]) for i in range(4)]
    return hw(pairs, data_format)


def _conv_out_shape(x_nhwc, f_hw, attrs, opname, shapes, out_ch):
    data_format = attrs["data_format"]
    sh, sw = hw(attrs["strides"], data_format)
    dh, dw = hw(attrs["dilations"], data_format)
    eh, ew = _explicit_hw(attrs.get("explicit_paddings"), data_format)
    tail = f" (op: ...) with input shapes: {shapes}."
    ho = geometry(x_nhwc[1], f_hw[0], sh, dh, attrs["padding"], eh, opname, tail)[0]
    wo = geometry(x_nhwc[2], f_hw[1], sw, dw, attrs["padding"], ew, opname, tail)[0]
    return TensorShape(_from_nhwc([x_nhwc[0], ho, wo, out_ch], data_format))


# ---------------------------------------------------------------- graph ops

def _conv_attrs(strides, padding, data_format, dilations, dtype):
    data_format = check_format(data_format)
    c = 1 if data_format == "NCHW" else 3
    padding, explicit = convert_padding(padding)
    strides = get_sequence(strides, 2, c, "strides")
    dilations = get_sequence(dilations, 2, c, "dilations")
    _check_strides(strides, dilations, data_format)
    return {"T": dtype, "strides": strides, "padding": padding,
            "explicit_paddings": explicit, "data_format": data_format,
            "dilations": dilations}


def _float(t, param, op_type):
    if t.dtype not in FLOATS:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.name} "
                        f"not in list of allowed values: float16, float32, float64 "
                        f"(op {op_type!r})")


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None, filters=None):
    """tf.nn.conv2d (op Conv2D): input [N,H,W,C] (or NCHW), filter [KH,KW,C,O]."""
    if filter is None:
        filter = filters  # noqa: A001
    if strides is None or padding is None:
        raise TypeError("conv2d() missing required arguments 'strides' and 'padding'")
    with name_scope(name, "Conv2D", [input, filter]) as scope:
        x = convert_to_tensor(input, name="input")
        f = convert_to_tensor(filter, name="filter", dtype_hint=x.dtype)
        _float(x, "input", "Conv2D")
        if f.dtype != x.dtype:
            raise TypeError(f"Input 'filter' of 'Conv2D' Op has type {f.dtype.name} that "
                            f"does not match type {x.dtype.name} of argument 'input'.")
        attrs = _conv_attrs(strides, padding, data_format, dilations, x.dtype)
        attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
        shapes = f"{_q(x.shape)}, {_q(f.shape)}"
        xd = _to_nhwc(_dims4(x, "input", scope[:-1], "Conv2D", shapes), attrs["data_format"])
        fd = _dims4(f, "filter", scope[:-1], "Conv2D", shapes)
        if xd[3] is not None and fd[2] is not None and xd[3] != fd[2]:
            raise ValueError(f"Dimensions must be equal, but are {xd[3]} and {fd[2]} for "
                             f"'{scope[:-1]}' (op: 'Conv2D') with input shapes: {shapes}.")
        out = _conv_out_shape(xd, fd[:2], attrs, scope[:-1], shapes, fd[3])
        return make_tensor("Conv2D", [x, f], x.dtype, out, attrs, name=scope)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None,  # noqa: A002
                          padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
                          dilations=(1, 1, 1, 1), name=None, filters=None):
    if filter is None:
        filter = filters  # noqa: A001
    with name_scope(name, "Conv2DBackpropInput", [input_sizes, filter, out_backprop]) \
            as scope:
        sizes = input_sizes if isinstance(input_sizes, Tensor) else convert_to_tensor(
            input_sizes, dtype=_dt.int32, name="input_sizes")
        f = convert_to_tensor(filter, name="filter")
        dy = convert_to_tensor(out_backprop, name="out_backprop", dtype=f.dtype)
        _float(f, "filter", "Conv2DBackpropInput")
        attrs = _conv_attrs(strides, padding, data_format, dilations, f.dtype)
        attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
        out = shape_from_tensor(sizes)
        return make_tensor("Conv2DBackpropInput", [sizes, f, dy], f.dtype, out, attrs,
                           name=scope)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC",
                           dilations=(1, 1, 1, 1), name=None):
    with name_scope(name, "Conv2DBackpropFilter", [input, filter_sizes, out_backprop]) \
            as scope:
        x = convert_to_tensor(input, name="input")
        sizes = filter_sizes if isinstance(filter_sizes, Tensor) else convert_to_tensor(
            filter_sizes, dtype=_dt.int32, name="filter_sizes")
        dy = convert_to_tensor(out_backprop, name="out_backprop", dtype=x.dtype)
        _float(x, "input", "Conv2DBackpropFilter")
        attrs = _conv_attrs(strides, padding, data_format, dilations, x.dtype)
        attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
        return make_tensor("Conv2DBackpropFilter", [x, sizes, dy], x.dtype,
                           shape_from_tensor(sizes), attrs, name=scope)


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NHWC", name=None, input=None,  # noqa: A002
                     filters=None, dilations=None):
    """tf.nn.conv2d_transpose: the input gradient of conv2d (op Conv2DBackpropInput);
    filter is [KH, KW, output channels, input channels]."""
    value = input if value is None else value
    filter = filters if filter is None else filter  # noqa: A001
    with name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as scope:
        x = convert_to_tensor(value, name="value")
        f = convert_to_tensor(filter, name="filter", dtype_hint=x.dtype)
        fmt = check_format(data_format)
        axis = 1 if fmt == "NCHW" else 3
        if x.shape.ndims is not None and f.shape.ndims == 4 and not \
                x.shape[axis].is_compatible_with(f.shape[3]):
            raise ValueError(f"input channels does not match filter's input channels, "
                             f"{x.shape[axis].value} != {f.shape[3].value}")
        shp = output_shape if isinstance(output_shape, Tensor) else convert_to_tensor(
            output_shape, dtype=_dt.int32, name="output_shape")
        sv = static_ints(shp)
        if sv is not None:
            if len(sv) != 4:
                raise ValueError(f"output_shape must have shape (4,), got ({len(sv)},)")
            if f.shape.ndims == 4 and not f.shape[2].is_compatible_with(sv[axis]):
                raise ValueError(f"output_shape does not match filter's output channels, "
                                 f"{sv[axis]} != {f.shape[2].value}")
        return conv2d_backprop_input(shp, f, x, strides, padding, data_format=fmt,
                                     dilations=dilations or (1, 1, 1, 1), name=scope)


# ---------------------------------------------------------------- IR helpers

class Geo:
    """The concrete geometry of one lowering (NHWC view)."""

    def __init__(self, ctx, op, n, h, w, kh, kw):
        a = op.attrs
        fmt = a["data_format"]
        self.nchw = fmt == "NCHW"
        self.sh, self.sw = hw(a["strides"], fmt)
        self.dh, self.dw = hw(a["dilations"], fmt)
        eh, ew = _explicit_hw(a.get("explicit_paddings"), fmt)
        try:
            self.ho, self.pt, self.pb = geometry(h, kh, self.sh, self.dh, a["padding"], eh,
                                                 op.name)
            self.wo, self.pl, self.pr = geometry(w, kw, self.sw, self.dw, a["padding"], ew,
                                                 op.name)
        except ValueError as e:
            ctx.fail(f"{op.type}: {e}")
        self.n, self.h, self.w, self.kh, self.kw = n, h, w, kh, kw


def to_nhwc(ctx, v, nchw):
    return ctx.b.emit("transpose", [v], perm=[0, 2, 3, 1]) if nchw else v


def from_nhwc(ctx, v, nchw):
    return ctx.b.emit("transpose", [v], perm=[0, 3, 1, 2]) if nchw else v


def tap(ctx, xp, i, j, g, ho=None, wo=None, sh=None, sw=None, dh=None, dw=None):
    """The strided window slice of tap (i, j): xp[:, i*dh + sh*o, j*dw + sw*p, ...]."""
    ho = g.ho if ho is None else ho
    wo = g.wo if wo is None else wo
    sh = g.sh if sh is None else sh
    sw = g.sw if sw is None else sw
    dh = g.dh if dh is None else dh
    dw = g.dw if dw is None else dw
    return window(ctx, window(ctx, xp, 1, i * dh, ho, sh), 2, j * dw, wo, sw)


def pad_hw(ctx, x, g, value=0):
    r = x.type.rank
    lo, hi = [0] * r, [0] * r
    lo[1], hi[1], lo[2], hi[2] = g.pt, g.pb, g.pl, g.pr
    return pad_or_crop(ctx, x, lo, hi, value)


def unfold(ctx, v, axis, k, s, d, o):
    """Sliding windows along `axis` without a concatenate: out[..., t, q, ...] =
    v[..., q*s + t*d, ...] (t < k, q < o), as broadcast -> reshape -> pad ->
    reshape -> strided slice. Row t of the broadcast copy, read with a row
    pitch of L + d instead of L, starts t*d elements further on."""
    sh = list(v.shape)
    n = sh[axis]
    if o == 0 or k == 0:
        return ctx.scalar(0, v.dtype, sh[:axis] + [k, o] + sh[axis + 1:])
    if k == 1:
        v = slice_axis_ir(ctx, v, axis, 0, (o - 1) * s + 1, s)
        return ctx.b.emit("reshape", [v], shape=sh[:axis] + [1, o] + sh[axis + 1:])
    r = len(sh)
    bshape = sh[:axis] + [k] + sh[axis:]
    v = ctx.b.emit("broadcast", [v], shape=bshape,
                   dims=[i for i in builtins.range(r + 1) if i != axis])
    v = ctx.b.emit("reshape", [v], shape=sh[:axis] + [k * n] + sh[axis + 1:])
    hi = [0] * r
    hi[axis] = k * d
    v = ctx.b.emit("pad", [v], low=[0] * r, high=hi, value=0)
    v = ctx.b.emit("reshape", [v], shape=sh[:axis] + [k, n + d] + sh[axis + 1:])
    return slice_axis_ir(ctx, v, axis + 1, 0, (o - 1) * s + 1, s)


def im2col(ctx, xp, kh, kw, ho, wo, sh, sw, dh, dw):
    """Patches of xp [N, Hp, Wp, C] as [N*ho*wo, kh*kw*C], (kh, kw, C) minor."""
    n, _, _, c = xp.shape
    u = unfold(ctx, xp, 1, kh, sh, dh, ho)            # [N, kh, ho, Wp, C]
    u = unfold(ctx, u, 3, kw, sw, dw, wo)             # [N, kh, ho, kw, wo, C]
    u = ctx.b.emit("transpose", [u], perm=[0, 2, 4, 1, 3, 5])
    return ctx.b.emit("reshape", [u], shape=[n * ho * wo, kh * kw * c])


def im2col_matmul(ctx, xp, w2, kh, kw, ho, wo, sh, sw, dh, dw):
    """Patches of xp [N, Hp, Wp, C] times w2 [KH*KW*C, O] -> [N, ho, wo, O]."""
    n = xp.shape[0]
    o = w2.shape[1]
    m = im2col(ctx, xp, kh, kw, ho, wo, sh, sw, dh, dw)
    out = ctx.b.emit("dot", [m, w2])
    return ctx.b.emit("reshape", [out], shape=[n, ho, wo, o])


# Float convolutions lower to the IR's conv2d / conv2d_filter ops (implicit
# im2col in the codegen); other dtypes, or this off, to im2col and a dot.
USE_CONV_OP = True


def crop_to_windows(ctx, xp, ho, wo, kh, kw, sh, sw, dh, dw):
    """xp without the rows and columns past the last window (conv2d's output
    size follows from its input's: nothing past the windows may remain)."""
    n, hp, wp, c = xp.shape
    h1, w1 = (ho - 1) * sh + (kh - 1) * dh + 1, (wo - 1) * sw + (kw - 1) * dw + 1
    if (h1, w1) == (hp, wp):
        return xp
    return ctx.b.emit("slice", [xp], start=[0, 0, 0, 0], limit=[n, h1, w1, c],
                      stride=[1, 1, 1, 1])


def conv_ir(ctx, xp, w, ho, wo, sh, sw, dh, dw):
    """Windows of xp [N, Hp, Wp, C] times w [KH, KW, C, O] -> [N, ho, wo, O]: the
    IR's conv2d op for floats (implicit im2col in the codegen), else im2col and
    a dot."""
    n, _, _, c = xp.shape
    kh, kw, _, o = w.shape
    if USE_CONV_OP and xp.dtype in ("f32", "f64") and min(n, ho, wo, o, kh, kw) > 0:
        xp = crop_to_windows(ctx, xp, ho, wo, kh, kw, sh, sw, dh, dw)
        return ctx.b.emit("conv2d", [xp, w], strides=(sh, sw), dilations=(dh, dw))
    w2 = ctx.b.emit("reshape", [w], shape=[kh * kw * c, o])
    return im2col_matmul(ctx, xp, w2, kh, kw, ho, wo, sh, sw, dh, dw)


def spread_hw(ctx, dy, g):
    """The output gradient dilated by the strides and padded so that a stride-1
    correlation with the flipped kernel gives the input gradient."""
    v = dilate(ctx, dilate(ctx, dy, 1, g.sh), 2, g.sw)
    lo_h = (g.kh - 1) * g.dh - g.pt
    lo_w = (g.kw - 1) * g.dw - g.pl
    hi_h = g.h + (g.kh - 1) * g.dh - lo_h - v.shape[1]
    hi_w = g.w + (g.kw - 1) * g.dw - lo_w - v.shape[2]
    r = v.type.rank
    lo, hi = [0] * r, [0] * r
    lo[1], hi[1], lo[2], hi[2] = lo_h, hi_h, lo_w, hi_w
    return pad_or_crop(ctx, v, lo, hi)


def _sizes(ctx, v, what):
    s = [int(d) for d in np.reshape(ctx.const_value(v, what), [-1])]
    if len(s) != 4:
        ctx.fail(f"{what} must have 4 elements, got {s}")
    return s


# ---------------------------------------------------------------- lowerings

@lowering("Conv2D")
def _lower_conv2d(ctx, op, inputs):
    x, w = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    x = to_nhwc(ctx, x, nchw)
    n, h, wd, c = x.shape
    kh, kw, ci, o = w.shape
    if c != ci:
        ctx.fail(f"input depth must be evenly divisible by filter depth: {c} vs {ci}")
    g = Geo(ctx, op, n, h, wd, kh, kw)
    xp = pad_hw(ctx, x, g)
    out = conv_ir(ctx, xp, w, g.ho, g.wo, g.sh, g.sw, g.dh, g.dw)
    return [from_nhwc(ctx, out, nchw)]


@lowering("Conv2DBackpropInput")
def _lower_conv2d_backprop_input(ctx, op, inputs):
    sizes_v, w, dy = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    n, h, wd, c = _to_nhwc(_sizes(ctx, sizes_v, "Conv2DBackpropInput input_sizes"),
                           op.attrs["data_format"])
    dy = to_nhwc(ctx, dy, nchw)
    kh, kw, ci, o = w.shape
    g = Geo(ctx, op, n, h, wd, kh, kw)
    if ci != c or tuple(dy.shape) != (n, g.ho, g.wo, o):
        ctx.fail(f"Conv2DBackpropInput: out_backprop shape {list(dy.shape)} doesn't match "
                 f"input {[n, h, wd, c]} and filter {list(w.shape)} (expected "
                 f"{[n, g.ho, g.wo, o]})")
    # col2im adds the taps' gradient columns back into place; the correlation
    # of the spread gradient with the flipped filter is one conv2d, cheaper
    # whenever no stride inflates the spread gradient with zeros.
    direct = USE_CONV_OP and (g.sh, g.sw) == (1, 1) and dy.dtype in ("f32", "f64")
    if not direct and USE_COL2IM(g.ho * g.wo * c, h * wd * o):
        out = col2im_backprop_input(ctx, dy, w, g)
    else:
        spread = spread_hw(ctx, dy, g)
        wf = ctx.b.emit("transpose", [ctx.b.emit("reverse", [w], axes=[0, 1])],
                        perm=[0, 1, 3, 2])
        out = conv_ir(ctx, spread, wf, h, wd, 1, 1, g.dh, g.dw)
    return [from_nhwc(ctx, out, nchw)]


def _col2im_cheaper(cols_elems, patches_elems):
    """col2im writes N*Ho*Wo*KH*KW*C gradient columns; the gather form builds
    N*H*W*KH*KW*O patches: take the smaller."""
    return cols_elems < patches_elems


USE_COL2IM = _col2im_cheaper


def col2im_backprop_input(ctx, dy, w, g):
    """dx = fold(dy @ w^T): the per-tap input gradients [N, Ho, Wo, KH, KW, C] from
    one matmul, each tap's slab added back at its window offset."""
    n, ho, wo, o = dy.shape
    kh, kw, c, _ = w.shape
    d2 = ctx.b.emit("reshape", [dy], shape=[n * ho * wo, o])
    w2 = ctx.b.emit("reshape", [w], shape=[kh * kw * c, o])
    cols = ctx.b.emit("dot", [d2, w2], transpose_b=True)
    cols = ctx.b.emit("reshape", [cols], shape=[n, ho, wo, kh, kw, c])
    hp, wp = g.h + g.pt + g.pb, g.w + g.pl + g.pr
    rows = []
    for i in builtins.range(kh):
        taps = [ctx.b.emit("reshape", [ctx.b.emit(
            "slice", [cols], start=[0, 0, 0, i, j, 0], limit=[n, ho, wo, i + 1, j + 1, c],
            stride=[1] * 6)], shape=[n, ho, wo, c]) for j in builtins.range(kw)]
        rows.append(place_taps(ctx, taps, 2, g.sw, wp, g.dw))
    dxp = place_taps(ctx, rows, 1, g.sh, hp, g.dh)
    return ctx.b.emit("slice", [dxp], start=[0, g.pt, g.pl, 0],
                      limit=[n, g.pt + g.h, g.pl + g.w, c], stride=[1, 1, 1, 1])


@lowering("Conv2DBackpropFilter")
def _lower_conv2d_backprop_filter(ctx, op, inputs):
    x, sizes_v, dy = inputs
    nchw = op.attrs["data_format"] == "NCHW"
    kh, kw, ci, o = _sizes(ctx, sizes_v, "Conv2DBackpropFilter filter_sizes")
    x = to_nhwc(ctx, x, nchw)
    dy = to_nhwc(ctx, dy, nchw)
    n, h, wd, c = x.shape
    g = Geo(ctx, op, n, h, wd, kh, kw)
    if ci != c or tuple(dy.shape) != (n, g.ho, g.wo, o):
        ctx.fail(f"Conv2DBackpropFilter: out_backprop shape {list(dy.shape)} doesn't match "
                 f"input {list(x.shape)} and filter {[kh, kw, ci, o]}")
    xp = pad_hw(ctx, x, g)
    if USE_CONV_OP and xp.dtype in ("f32", "f64") and min(n, g.ho, g.wo, c, o) > 0:
        # (windows that reach into the bottom/right padding only: crop it)
        xp = crop_to_windows(ctx, xp, g.ho, g.wo, kh, kw, g.sh, g.sw, g.dh, g.dw)
        return [ctx.b.emit("conv2d_filter", [xp, dy], strides=(g.sh, g.sw),
                           dilations=(g.dh, g.dw), window=(kh, kw))]
    rows = n * g.ho * g.wo
    m = im2col(ctx, xp, kh, kw, g.ho, g.wo, g.sh, g.sw, g.dh, g.dw)
    d2 = ctx.b.emit("reshape", [dy], shape=[rows, o])
    out = ctx.b.emit("dot", [m, d2], transpose_a=True)
    return [ctx.b.emit("reshape", [out], shape=[kh, kw, c, o])]
