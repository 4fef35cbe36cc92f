"""Image resizing: the ops ResizeBilinear and ResizeNearestNeighbor (with
align_corners and half_pixel_centers), their gradient ops, and TF 1.15's
tf.image.resize_images (also tf.image.resize) over them and over
ResizeBicubic (image_bicubic.py).

Each output row and column reads input rows and columns that depend only on
the sizes, which are static in compiled code: the lowering computes them (and
the interpolation weights) with numpy, in float32 as TF's kernels do, and
emits gathers and the kernels' own lerp arithmetic, so results match TF's
kernels' rounding. The gradients are the transposed maps: per axis, a
constant [in, out] matrix applied by a dot (ResizeBilinearGrad,
ResizeNearestNeighborGrad).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from . import array_ops
from .constant_op import convert_to_tensor
from .op_util import make_tensor, shape_from_tensor
from .registry import RegisterGradient, lowering
from .stack_ops import expand_dims, squeeze

_IMAGE_TYPES = (_dt.int8, _dt.uint8, _dt.int16, _dt.uint16, _dt.int32, _dt.int64,
                _dt.float16, _dt.float32, _dt.float64)


class ResizeMethod:
    """tf.image.ResizeMethod (TF 1.15's integer codes)."""
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


def _q(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


# ---------------------------------------------------------------- coordinate maps

def resize_scale(in_size, out_size, align_corners):
    """TF's CalculateResizeScale, in float32."""
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def bilinear_taps(in_size, out_size, align_corners, half_pixel_centers):
    """For each output index: the lower and upper input index and the weight of
    the upper one (TF's compute_interpolation_weights, float32)."""
    scale = resize_scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=np.float32)
    if half_pixel_centers:
        src = (o + np.float32(0.5)) * scale - np.float32(0.5)
    else:
        src = o * scale
    fl = np.floor(src)
    lo = np.maximum(fl.astype(np.int64), 0)
    hi = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    return lo, hi, (src - fl).astype(np.float32)


def _roundf(v):
    """C's roundf: half away from zero."""
    t = np.trunc(v)
    return t + np.sign(v) * (np.abs(v - t) >= 0.5)


def nearest_taps(in_size, out_size, align_corners, half_pixel_centers):
    """The input index each output index copies (TF 1.15's nearest-neighbor
    kernel: round with align_corners, else floor; half-pixel centers without
    the -0.5 shift)."""
    scale = resize_scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=np.float32)
    src = (o + np.float32(0.5)) * scale if half_pixel_centers else o * scale
    idx = _roundf(src) if align_corners else np.floor(src)
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    if half_pixel_centers:
        idx = np.maximum(idx, 0)
    return idx


def bilinear_matrix(in_size, out_size, align_corners, half_pixel_centers):
    """The [out, in] matrix of the bilinear map along one axis."""
    lo, hi, w = bilinear_taps(in_size, out_size, align_corners, half_pixel_centers)
    m = np.zeros((out_size, in_size), np.float32)
    rows = np.arange(out_size)
    np.add.at(m, (rows, lo), np.float32(1) - w)
    np.add.at(m, (rows, hi), w)
    return m


def nearest_matrix(in_size, out_size, align_corners, half_pixel_centers):
    m = np.zeros((out_size, in_size), np.float32)
    m[np.arange(out_size), nearest_taps(in_size, out_size, align_corners,
                                        half_pixel_centers)] = 1
    return m


# ---------------------------------------------------------------- IR helpers

def _take(ctx, v, idx, axis):
    """v's slices along `axis` at the constant indices idx."""
    if len(idx) == v.shape[axis] and np.array_equal(idx, np.arange(len(idx))):
        return v
    return ctx.b.emit("gather", [v, ctx.b.constant(np.asarray(idx, np.int32))], axis=axis)


def _along(ctx, w, shape, axis):
    """The constant vector w broadcast along `axis` of `shape`."""
    return ctx.b.emit("broadcast", [ctx.b.constant(w)], shape=list(shape), dims=[axis])


def apply_matrix(ctx, v, axis, m):
    """out[..., i, ...] = sum_j m[i, j] v[..., j, ...] along `axis` (m: numpy [out, in])."""
    r = v.type.rank
    shape = list(v.shape)
    out_shape = shape[:axis] + [m.shape[0]] + shape[axis + 1:]
    if 0 in shape or 0 in out_shape:
        return ctx.scalar(0, v.dtype, out_shape)
    perm = [i for i in range(r) if i != axis] + [axis]
    vt = v if perm == list(range(r)) else ctx.b.emit("transpose", [v], perm=perm)
    lead = [shape[i] for i in perm[:-1]]
    rows = int(np.prod(lead, dtype=np.int64))
    v2 = ctx.b.emit("reshape", [vt], shape=[rows, shape[axis]])
    mc = ctx.b.constant(m.astype(v.type.np_dtype))
    out = ctx.b.emit("dot", [v2, mc], transpose_a=False, transpose_b=True)
    out = ctx.b.emit("reshape", [out], shape=lead + [m.shape[0]])
    inv = list(np.argsort(perm))
    return out if perm == list(range(r)) else ctx.b.emit("transpose", [out], perm=inv)


def _out_size(ctx, op, s):
    sv = np.reshape(ctx.const_value(s, f"{op.type} size"), [-1])
    if s.type.rank != 1 or sv.size != 2:
        ctx.fail(f"{op.name}: size must be a 1-D int32 tensor of 2 elements (new_height, "
                 f"new_width), got shape {list(s.shape)}")
    return int(sv[0]), int(sv[1])


def _check_attrs(ctx, op):
    align, half = op.attrs["align_corners"], op.attrs["half_pixel_centers"]
    if align and half:
        ctx.fail("If half_pixel_centers is True, align_corners must be False.")
    return align, half


def _setup(ctx, op, x, s):
    """(n, in_h, in_w, c), (out_h, out_w), align_corners, half_pixel_centers."""
    if x.type.rank != 4:
        ctx.fail(f"{op.name}: input must be 4-dimensional, got shape {list(x.shape)}")
    oh, ow = _out_size(ctx, op, s)
    if oh <= 0 or ow <= 0:
        ctx.fail(f"{op.name}: output dimensions must be positive, got [{oh}, {ow}]")
    if x.shape[1] <= 0 or x.shape[2] <= 0:
        ctx.fail(f"{op.name}: input image must be of non-zero size, got shape "
                 f"{list(x.shape)}")
    align, half = _check_attrs(ctx, op)
    return x.shape, (oh, ow), align, half


# ---------------------------------------------------------------- the ops

def _resize_op(op_type, images, size, align_corners, half_pixel_centers, name, out_dtype):
    with name_scope(name, op_type, [images, size]) as scope:
        x = convert_to_tensor(images, name="images")
        s = size if isinstance(size, Tensor) else convert_to_tensor(
            size, dtype=_dt.int32, name="size")
        if x.dtype not in _IMAGE_TYPES:
            raise TypeError(f"Value passed to parameter 'images' has DataType "
                            f"{x.dtype.name} not in list of allowed values: "
                            f"{', '.join(d.name for d in _IMAGE_TYPES)}")
        if s.dtype != _dt.int32:
            raise TypeError(f"Input 'size' of '{op_type}' Op has type {s.dtype.name} that "
                            "does not match expected type of int32.")
        where = f"for '{scope[:-1]}' (op: '{op_type}') with input shapes: " \
                f"{_q(x.shape)}, {_q(s.shape)}."
        if x.shape.ndims not in (None, 4):
            raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims} {where}")
        if s.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {s.shape.ndims} {where}")
        if s.shape.ndims == 1 and s.shape[0].value not in (None, 2):
            raise ValueError(f"Dimension must be 2 but is {s.shape[0].value} {where}")
        hw = shape_from_tensor(s)
        hw = hw.as_list() if hw.ndims == 2 else [None, None]
        d = x.shape.as_list() if x.shape.ndims is not None else [None] * 4
        return make_tensor(op_type, [x, s], out_dtype or x.dtype,
                           TensorShape([d[0]] + hw + [d[3]]),
                           {"T": x.dtype, "align_corners": bool(align_corners),
                            "half_pixel_centers": bool(half_pixel_centers)}, name=scope)


def resize_bilinear(images, size, align_corners=False, half_pixel_centers=False, name=None):
    """tf.image.resize_bilinear: [n, h, w, c] of any real dtype -> float32."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers,
                      name, _dt.float32)


def resize_nearest_neighbor(images, size, align_corners=False, half_pixel_centers=False,
                            name=None):
    """tf.image.resize_nearest_neighbor: [n, h, w, c] -> same dtype."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners,
                      half_pixel_centers, name, None)


@lowering("ResizeBilinear")
def _lower_resize_bilinear(ctx, op, inputs):
    x, s = inputs
    (_, h, w, _), (oh, ow), align, half = _setup(ctx, op, x, s)
    x = ctx.convert(x, "f32")   # TF's kernel reads every input type as float
    ylo, yhi, yw = bilinear_taps(h, oh, align, half)
    xlo, xhi, xw = bilinear_taps(w, ow, align, half)
    b = ctx.b

    def across(rows):  # left + (right - left) * x_lerp, as the kernel's compute_lerp
        left, right = _take(ctx, rows, xlo, 2), _take(ctx, rows, xhi, 2)
        diff = b.emit("sub", [right, left])
        return b.emit("add", [left, b.emit("mul", [diff, _along(ctx, xw, left.shape, 2)])])
    top = across(_take(ctx, x, ylo, 1))
    bottom = across(_take(ctx, x, yhi, 1))
    diff = b.emit("sub", [bottom, top])
    return [b.emit("add", [top, b.emit("mul", [diff, _along(ctx, yw, top.shape, 1)])])]


@lowering("ResizeNearestNeighbor")
def _lower_resize_nearest(ctx, op, inputs):
    x, s = inputs
    (_, h, w, _), (oh, ow), align, half = _setup(ctx, op, x, s)
    rows = _take(ctx, x, nearest_taps(h, oh, align, half), 1)
    return [_take(ctx, rows, nearest_taps(w, ow, align, half), 2)]


# ---------------------------------------------------------------- gradient ops

def resize_bilinear_grad(grads, original_image, align_corners=False,
                         half_pixel_centers=False, name=None):
    """The gradient of ResizeBilinear with respect to its images (op ResizeBilinearGrad)."""
    with name_scope(name, "ResizeBilinearGrad", [grads, original_image]) as scope:
        g = convert_to_tensor(grads, name="grads")
        im = convert_to_tensor(original_image, name="original_image")
        if g.dtype != _dt.float32:
            raise TypeError(f"ResizeBilinearGrad: grads must be float32, got {g.dtype.name}")
        if im.dtype not in (_dt.float16, _dt.float32, _dt.float64):
            raise TypeError(f"ResizeBilinearGrad: original_image must be a float type, got "
                            f"{im.dtype.name}")
        return make_tensor("ResizeBilinearGrad", [g, im], im.dtype, im.shape,
                           {"T": im.dtype, "align_corners": bool(align_corners),
                            "half_pixel_centers": bool(half_pixel_centers)}, name=scope)


def resize_nearest_neighbor_grad(grads, size, align_corners=False,
                                 half_pixel_centers=False, name=None):
    """The gradient of ResizeNearestNeighbor: grads summed back into images of
    `size` (op ResizeNearestNeighborGrad)."""
    with name_scope(name, "ResizeNearestNeighborGrad", [grads, size]) as scope:
        g = convert_to_tensor(grads, name="grads")
        s = size if isinstance(size, Tensor) else convert_to_tensor(
            size, dtype=_dt.int32, name="size")
        hw = shape_from_tensor(s)
        hw = hw.as_list() if hw.ndims == 2 else [None, None]
        d = g.shape.as_list() if g.shape.ndims is not None else [None] * 4
        return make_tensor("ResizeNearestNeighborGrad", [g, s], g.dtype,
                           TensorShape([d[0]] + hw + [d[3]]),
                           {"T": g.dtype, "align_corners": bool(align_corners),
                            "half_pixel_centers": bool(half_pixel_centers)}, name=scope)


def _spread(ctx, g, mats):
    """g [n, oh, ow, c] through the transposed maps mats = (my [oh, h], mx [ow, w])."""
    work = g.dtype if g.dtype in ("f32", "f64") else "f64"   # integer sums, exact
    v = ctx.convert(g, work)
    v = apply_matrix(ctx, v, 1, mats[0].T)
    v = apply_matrix(ctx, v, 2, mats[1].T)
    return ctx.convert(v, g.dtype)


@lowering("ResizeBilinearGrad")
def _lower_resize_bilinear_grad(ctx, op, inputs):
    g, im = inputs
    align, half = _check_attrs(ctx, op)
    if g.type.rank != 4 or im.type.rank != 4 or g.shape[0] != im.shape[0] or \
            g.shape[3] != im.shape[3]:
        ctx.fail(f"{op.name}: grads {list(g.shape)} and original_image {list(im.shape)} "
                 "must be 4-D with the same batch size and depth")
    h, w = im.shape[1:3]
    oh, ow = g.shape[1:3]
    mats = (bilinear_matrix(h, oh, align, half), bilinear_matrix(w, ow, align, half))
    return [ctx.convert(_spread(ctx, g, mats), im.dtype)]


@lowering("ResizeNearestNeighborGrad")
def _lower_resize_nearest_grad(ctx, op, inputs):
    g, s = inputs
    align, half = _check_attrs(ctx, op)
    if g.type.rank != 4:
        ctx.fail(f"{op.name}: grads must be 4-dimensional, got shape {list(g.shape)}")
    h, w = _out_size(ctx, op, s)
    if h <= 0 or w <= 0:
        ctx.fail(f"{op.name}: the image size must be positive, got [{h}, {w}]")
    oh, ow = g.shape[1:3]
    mats = (nearest_matrix(h, oh, align, half), nearest_matrix(w, ow, align, half))
    return [_spread(ctx, g, mats)]


@RegisterGradient("ResizeBilinear")
def _resize_bilinear_gradient(op, grad):
    image = op.inputs[0]
    if image.dtype not in (_dt.float32, _dt.float64):
        return [None, None]     # as TF: no gradient for integer images
    return [resize_bilinear_grad(grad, image, align_corners=op.attrs["align_corners"],
                                 half_pixel_centers=op.attrs["half_pixel_centers"]), None]


@RegisterGradient("ResizeNearestNeighbor")
def _resize_nearest_gradient(op, grad):
    image = op.inputs[0]
    hw = image.shape[1:3] if image.shape.ndims is not None else TensorShape(None)
    size = hw.as_list() if hw.ndims == 2 and hw.is_fully_defined() else \
        array_ops.shape(image)[1:3]
    return [resize_nearest_neighbor_grad(grad, size, align_corners=op.attrs["align_corners"],
                                         half_pixel_centers=op.attrs["half_pixel_centers"]),
            None]


# ---------------------------------------------------------------- resize_images

def _aspect_size(size_h, size_w, h, w):
    """The size preserve_aspect_ratio computes, where it is static (what TF's shape
    inference evaluates), in float32 with round half to even as the graph does."""
    if None in (size_h, size_w, h, w):
        return None, None
    f = np.float32
    scale = min(f(size_h) / f(h), f(size_w) / f(w))
    return int(np.rint(scale * f(h))), int(np.rint(scale * f(w)))


_METHODS = {ResizeMethod.BILINEAR: "bilinear", "bilinear": "bilinear",
            ResizeMethod.NEAREST_NEIGHBOR: "nearest", "nearest": "nearest",
            ResizeMethod.BICUBIC: "bicubic", "bicubic": "bicubic",
            ResizeMethod.AREA: "area", "area": "area"}


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """TF 1.15's tf.image.resize_images (and tf.image.resize): [h, w, c] or
    [n, h, w, c] images to `size` = [new_height, new_width]."""
    from .math_ops import cast, minimum
    from .math_ops import round as _round
    kind = _METHODS.get(method)
    if kind is None:
        raise ValueError("Resize method is not implemented.")
    with name_scope(name, "resize", [images, size]):
        images = convert_to_tensor(images, name="images")
        if images.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        is_batch = True
        if images.shape.ndims == 3:
            is_batch = False
            images = expand_dims(images, 0)
        elif images.shape.ndims != 4:
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        _, height, width, _ = images.shape.as_list()
        try:
            size = convert_to_tensor(size, _dt.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if not size.shape.is_compatible_with(TensorShape([2])):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, "
                             "new_width")
        new_hw = shape_from_tensor(size)
        new_h, new_w = new_hw.as_list() if new_hw.ndims == 2 else (None, None)
        if preserve_aspect_ratio:
            from .image_ops import image_dimensions
            from .stack_ops import stack
            _, cur_h, cur_w, _ = image_dimensions(images, rank=4)
            f32 = _dt.float32
            scale = minimum(cast(size[0], f32) / cast(cur_h, f32),
                            cast(size[1], f32) / cast(cur_w, f32))
            sh = cast(_round(scale * cast(cur_h, f32)), _dt.int32)
            sw = cast(_round(scale * cast(cur_w, f32)), _dt.int32)
            size = stack([sh, sw], name="size")
            new_h, new_w = _aspect_size(new_h, new_w, height, width)
        if None not in (new_w, width, new_h, height) and width == new_w and height == new_h:
            return squeeze(images, axis=[0]) if not is_batch else images
        from .image_bicubic import resize_bicubic
        fn = {"bilinear": resize_bilinear, "nearest": resize_nearest_neighbor,
              "bicubic": resize_bicubic, "area": resize_area}[kind]
        images = fn(images, size, align_corners=align_corners)
        images.set_shape([None, new_h, new_w, None])
        if not is_batch:
            images = squeeze(images, axis=[0])
        return images


# ---------------------------------------------------------------- area

def _area_weights(n_in, n_out, align_corners):
    """TF's ResizeArea along one axis: w[o, i] = the part of input cell i inside
    output cell o's span [o*s, (o+1)*s), over s (indices past the end read the
    last cell)."""
    s = (n_in - 1) / (n_out - 1) if align_corners and n_out > 1 else n_in / n_out
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        lo, hi = o * s, (o + 1) * s
        for i in range(int(np.floor(lo)), int(np.ceil(hi))):
            part = min(i + 1, hi) - max(i, lo)
            w[o, min(i, n_in - 1)] += part / s
    return w


def resize_area(images, size, align_corners=False, name=None):
    """tf.image.resize_area: each output pixel the mean of the input area it
    covers (fractional pixels weighted by their share); float32, [n, h, w, c].
    Two contractions with the constant per-axis weights."""
    from .composite_ops import tensordot
    from .math_ops import cast
    with name_scope(name, "ResizeArea", [images, size]):
        x = convert_to_tensor(images, name="images")
        hw = shape_from_tensor(convert_to_tensor(size, _dt.int32, name="size"))
        dims = x.shape.as_list() if x.shape.ndims == 4 else None
        if dims is None or None in dims[1:3] or hw.ndims != 2 or None in hw.as_list():
            raise ValueError("resize_area: the images' height and width and `size` must "
                             f"be known when the graph is built, got {x.shape} and {hw}")
        (h, w), (nh, nw) = dims[1:3], hw.as_list()
        if nh <= 0 or nw <= 0:
            raise ValueError(f"resize_area: output dimensions must be positive, got {nh}x{nw}")
        wy = convert_to_tensor(_area_weights(h, nh, align_corners).astype(np.float32))
        wx = convert_to_tensor(_area_weights(w, nw, align_corners).astype(np.float32))
        x = cast(x, _dt.float32)
        rows = tensordot(wy, x, [[1], [1]])                  # [nh, n, w, c]
        both = tensordot(wx, rows, [[1], [2]])               # [nw, nh, n, c]
        return array_ops.transpose(both, [2, 1, 0, 3])


def _public():
    from .image_bicubic import resize_bicubic
    return {"resize_area": resize_area, "ResizeMethod": ResizeMethod, "resize_images": resize_images,
            "resize": resize_images, "resize_bilinear": resize_bilinear,
            "resize_nearest_neighbor": resize_nearest_neighbor,
            "resize_bicubic": resize_bicubic}
