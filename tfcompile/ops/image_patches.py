"""tf.image.extract_image_patches / tf.image.extract_patches (op
ExtractImagePatches) and its gradient.

Each output pixel holds the flattened ksize_rows x ksize_cols x depth window
(rows, then columns, then channels) of the images, windows `strides` apart,
their taps `rates` apart, with SAME or VALID padding as a convolution has:
the lowering is the convolutions' im2col. The gradient (op
ExtractImagePatchesGrad) adds each tap's slab back at its window offsets,
as the convolutions' input gradient does.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import name_scope
from ..tensor_shape import TensorShape
from . import array_ops
from .constant_op import convert_to_tensor
from .conv_ops import geometry, im2col
from .manip_ops import pad_or_crop, place_taps
from .op_util import make_tensor
from .registry import RegisterGradient, lowering


def _attr4(value, what):
    v = [int(x) for x in value]
    if len(v) != 4:
        raise ValueError(f"ExtractImagePatches requires the {what} attribute to contain 4 "
                         f"values, but got: {len(v)}")
    if v[0] != 1 or v[3] != 1:
        raise ValueError(f"ExtractImagePatches is not yet supported on the batch nor depth "
                         f"dimensions (the {what} must be 1 there): {v}")
    if min(v) < 1:
        raise ValueError(f"ExtractImagePatches: the {what} must be positive: {v}")
    return v


def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None,
                          name=None, sizes=None):
    """Patches of [batch, rows, cols, depth] images as the depth of
    [batch, out_rows, out_cols, ksize_rows * ksize_cols * depth]."""
    ksizes = sizes if ksizes is None else ksizes
    if ksizes is None or strides is None or rates is None or padding is None:
        raise TypeError("extract_image_patches needs ksizes (or sizes), strides, rates and "
                        "padding")
    with name_scope(name, "ExtractImagePatches", [images]) as scope:
        x = convert_to_tensor(images, name="images")
        k, s, r = _attr4(ksizes, "ksizes"), _attr4(strides, "strides"), _attr4(rates, "rates")
        padding = padding.decode() if isinstance(padding, bytes) else str(padding)
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"Value for attr 'padding' of {padding!r} is not in the list of "
                             "allowed values: \"SAME\", \"VALID\"")
        if x.dtype.is_bool:
            raise TypeError("Value passed to parameter 'images' has DataType bool not in list "
                            "of allowed values: real numbers")
        if x.shape.ndims not in (None, 4):
            raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims} for "
                             f"'{scope[:-1]}' (op: 'ExtractImagePatches')")
        d = x.shape.as_list() if x.shape.ndims == 4 else [None] * 4
        rows = geometry(d[1], k[1], s[1], r[1], padding, opname=scope[:-1])[0]
        cols = geometry(d[2], k[2], s[2], r[2], padding, opname=scope[:-1])[0]
        depth = None if d[3] is None else k[1] * k[2] * d[3]
        return make_tensor("ExtractImagePatches", [x], x.dtype,
                           TensorShape([d[0], rows, cols, depth]),
                           {"T": x.dtype, "ksizes": k, "strides": s, "rates": r,
                            "padding": padding}, name=scope)


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """tf.image.extract_patches: extract_image_patches with `sizes`."""
    return extract_image_patches(images, sizes, strides, rates, padding, name)


def _geometry(ctx, op, h, w):
    a = op.attrs
    kh, kw = a["ksizes"][1:3]
    sh, sw = a["strides"][1:3]
    rh, rw = a["rates"][1:3]
    try:
        ho, pt, pb = geometry(h, kh, sh, rh, a["padding"], opname=op.name)
        wo, pl, pr = geometry(w, kw, sw, rw, a["padding"], opname=op.name)
    except ValueError as e:
        ctx.fail(str(e))
    return (kh, kw, sh, sw, rh, rw), (ho, wo), (pt, pb, pl, pr)


@lowering("ExtractImagePatches")
def _lower_extract_patches(ctx, op, inputs):
    x = inputs[0]
    if x.type.rank != 4:
        ctx.fail(f"input must be 4-dimensional, got shape {list(x.shape)}")
    n, h, w, c = x.shape
    (kh, kw, sh, sw, rh, rw), (ho, wo), (pt, pb, pl, pr) = _geometry(ctx, op, h, w)
    out = [n, ho, wo, kh * kw * c]
    if 0 in out:
        return [ctx.scalar(0, x.dtype, out)]
    xp = pad_or_crop(ctx, x, [0, pt, pl, 0], [0, pb, pr, 0])
    cols = im2col(ctx, xp, kh, kw, ho, wo, sh, sw, rh, rw)
    return [ctx.b.emit("reshape", [cols], shape=out)]


def extract_image_patches_grad(grad, images_shape, op_attrs, name=None):
    """The gradient of ExtractImagePatches for images of `images_shape`."""
    g = convert_to_tensor(grad)
    shp = convert_to_tensor(images_shape, dtype=_dt.int32)
    from .op_util import shape_from_tensor
    attrs = {k: op_attrs[k] for k in ("ksizes", "strides", "rates", "padding")}
    attrs["T"] = g.dtype
    return make_tensor("ExtractImagePatchesGrad", [g, shp], g.dtype, shape_from_tensor(shp),
                       attrs, name=name)


@lowering("ExtractImagePatchesGrad")
def _lower_extract_patches_grad(ctx, op, inputs):
    g, shp = inputs
    n, h, w, c = [int(v) for v in np.reshape(ctx.const_value(shp, "images shape"), [-1])]
    (kh, kw, sh, sw, rh, rw), (ho, wo), (pt, pb, pl, pr) = _geometry(ctx, op, h, w)
    if tuple(g.shape) != (n, ho, wo, kh * kw * c):
        ctx.fail(f"the patches' gradient has shape {list(g.shape)}, expected "
                 f"{[n, ho, wo, kh * kw * c]}")
    if 0 in (n, h, w, c):
        return [ctx.scalar(0, g.dtype, (n, h, w, c))]
    if 0 in (ho, wo):
        return [ctx.scalar(0, g.dtype, (n, h, w, c))]
    cols = ctx.b.emit("reshape", [g], shape=[n, ho, wo, kh, kw, c])
    hp, wp = h + pt + pb, w + pl + pr
    rows = []
    for i in range(kh):
        taps = [ctx.b.emit("reshape", [ctx.b.emit(
            "slice", [cols], start=[0, 0, 0, i, j, 0], limit=[n, ho, wo, i + 1, j + 1, c],
            stride=[1] * 6)], shape=[n, ho, wo, c]) for j in range(kw)]
        rows.append(place_taps(ctx, taps, 2, sw, wp, rw))
    gp = place_taps(ctx, rows, 1, sh, hp, rh)
    return [pad_or_crop(ctx, gp, [0, -pt, -pl, 0], [0, -pb, -pr, 0])]


@RegisterGradient("ExtractImagePatches")
def _extract_patches_gradient(op, grad):
    x = op.inputs[0]
    shape = x.shape.as_list() if x.shape.ndims == 4 and x.shape.is_fully_defined() else \
        array_ops.shape(x)
    return [extract_image_patches_grad(grad, shape, op.attrs)]


PUBLIC = {"extract_image_patches": extract_image_patches, "extract_patches": extract_patches}
