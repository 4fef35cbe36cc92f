"""Bicubic resizing: ops ResizeBicubic and ResizeBicubicGrad, and
tf.image.resize_bicubic, as TF 1.15's kernel computes them.

Each output row (column) mixes four input rows (columns) around its source
coordinate with the cubic convolution kernel of Keys: a = -0.75 by default,
a = -0.5 with half_pixel_centers, where taps outside the image get weight 0
and the four weights are renormalized. As in TF, the weights come from a
table of the kernel at 1024 steps of the fractional offset, in float32; the
rows are mixed first, then the columns. Indices and weights depend only on
the sizes, so the lowering computes them with numpy and emits gathers and
the weighted sums (the gradient: the transposed maps, as dots).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import name_scope
from .constant_op import convert_to_tensor
from .image_resize import _along, _check_attrs, _resize_op, _setup, _spread, _take, resize_scale
from .op_util import make_tensor
from .registry import RegisterGradient, lowering

_TABLE = 1024


def _kernel_table(a):
    """The kernel at x = i / 1024 (column 0) and at x + 1 (column 1), i = 0..1024."""
    x = np.arange(_TABLE + 1, dtype=np.float64) / _TABLE
    x = x.astype(np.float32).astype(np.float64)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x1 = x + 1.0
    far = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
    return np.stack([near, far], 1).astype(np.float32)


_TABLES = {False: _kernel_table(-0.75), True: _kernel_table(-0.5)}


def bicubic_taps(in_size, out_size, align_corners, half_pixel_centers):
    """([4, out] input indices, [4, out] float32 weights) per output index."""
    scale = resize_scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=np.float32)
    if half_pixel_centers:
        src = (o + np.float32(0.5)) * scale - np.float32(0.5)
    else:
        src = o * scale
    base = np.floor(src).astype(np.int64)
    delta = (src - np.floor(src)).astype(np.float32)
    off = np.rint(delta * np.float32(_TABLE)).astype(np.int64)   # lrintf
    table = _TABLES[bool(half_pixel_centers)]
    w = np.stack([table[off, 1], table[off, 0], table[_TABLE - off, 0],
                  table[_TABLE - off, 1]]).astype(np.float32)
    want = base[None, :] + np.arange(-1, 3)[:, None]
    idx = np.clip(want, 0, in_size - 1)
    if half_pixel_centers:   # taps outside the image: weight 0, the rest renormalized
        w = np.where(idx == want, w, np.float32(0))
        total = ((w[0] + w[1]) + w[2]) + w[3]
        keep = np.abs(total) >= np.float32(1000) * np.finfo(np.float32).tiny
        inv = np.where(keep, np.float32(1) / np.where(keep, total, np.float32(1)),
                       np.float32(1))
        w = np.where(keep, w * inv, w).astype(np.float32)
    return idx, w


def bicubic_matrix(in_size, out_size, align_corners, half_pixel_centers):
    idx, w = bicubic_taps(in_size, out_size, align_corners, half_pixel_centers)
    m = np.zeros((out_size, in_size), np.float32)
    rows = np.arange(out_size)
    for k in range(4):
        np.add.at(m, (rows, idx[k]), w[k])
    return m


def resize_bicubic(images, size, align_corners=False, half_pixel_centers=False, name=None):
    """tf.image.resize_bicubic: [n, h, w, c] of any real dtype -> float32."""
    return _resize_op("ResizeBicubic", images, size, align_corners, half_pixel_centers, name,
                      _dt.float32)


def _mix(ctx, v, idx, w, axis):
    """sum_k v[idx[k]] * w[k] along `axis`, summed in tap order as TF's kernel."""
    total = None
    for k in range(4):
        part = _take(ctx, v, idx[k], axis)
        part = ctx.b.emit("mul", [part, _along(ctx, w[k], part.shape, axis)])
        total = part if total is None else ctx.b.emit("add", [total, part])
    return total


@lowering("ResizeBicubic")
def _lower_resize_bicubic(ctx, op, inputs):
    x, s = inputs
    (_, h, w, _), (oh, ow), align, half = _setup(ctx, op, x, s)
    x = ctx.convert(x, "f32")
    yi, yw = bicubic_taps(h, oh, align, half)
    xi, xw = bicubic_taps(w, ow, align, half)
    return [_mix(ctx, _mix(ctx, x, yi, yw, 1), xi, xw, 2)]


def resize_bicubic_grad(grads, original_image, align_corners=False, half_pixel_centers=False,
                        name=None):
    """The gradient of ResizeBicubic with respect to its images (op ResizeBicubicGrad)."""
    with name_scope(name, "ResizeBicubicGrad", [grads, original_image]) as scope:
        g = convert_to_tensor(grads, name="grads")
        im = convert_to_tensor(original_image, name="original_image")
        if g.dtype != _dt.float32:
            raise TypeError(f"ResizeBicubicGrad: grads must be float32, got {g.dtype.name}")
        if im.dtype not in (_dt.float32, _dt.float64):
            raise TypeError(f"ResizeBicubicGrad: original_image must be float32 or float64, "
                            f"got {im.dtype.name}")
        return make_tensor("ResizeBicubicGrad", [g, im], im.dtype, im.shape,
                           {"T": im.dtype, "align_corners": bool(align_corners),
                            "half_pixel_centers": bool(half_pixel_centers)}, name=scope)


@lowering("ResizeBicubicGrad")
def _lower_resize_bicubic_grad(ctx, op, inputs):
    g, im = inputs
    align, half = _check_attrs(ctx, op)
    if g.type.rank != 4 or im.type.rank != 4 or g.shape[0] != im.shape[0] or \
            g.shape[3] != im.shape[3]:
        ctx.fail(f"{op.name}: grads {list(g.shape)} and original_image {list(im.shape)} "
                 "must be 4-D with the same batch size and depth")
    h, w = im.shape[1:3]
    oh, ow = g.shape[1:3]
    mats = (bicubic_matrix(h, oh, align, half), bicubic_matrix(w, ow, align, half))
    return [ctx.convert(_spread(ctx, g, mats), im.dtype)]


@RegisterGradient("ResizeBicubic")
def _resize_bicubic_gradient(op, grad):
    image = op.inputs[0]
    if image.dtype not in (_dt.float32, _dt.float64):
        return [None, None]     # as TF: no gradient for integer images
    return [resize_bicubic_grad(grad, image, align_corners=op.attrs["align_corners"],
                                half_pixel_centers=op.attrs["half_pixel_centers"]), None]
