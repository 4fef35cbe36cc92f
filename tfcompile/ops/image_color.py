"""tf.image's pixel-value ops: convert_image_dtype (with saturation),
adjust_brightness, adjust_contrast (op AdjustContrastv2),
per_image_standardization, rgb_to_grayscale, grayscale_to_rgb, image_gradients
and total_variation, built as TF 1.15's Python builds them.

The compiler computes in float32, float64, int32 and int64 (and bool): images
of those dtypes run; a uint8 image builds a graph but can't be compiled.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import name_scope
from . import array_ops, math_ops
from .composite_ops import tensordot
from .constant_op import convert_to_tensor
from .image_ops import _with_checks, assert_3d_image
from .manip_ops import tile
from .op_util import make_tensor
from .registry import lowering
from .stack_ops import concat, expand_dims, stack, unstack


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts pixel values between dtypes, rescaling: floats span [0, 1],
    integers [0, dtype.max] (TF 1.15's rules, with its rounding)."""
    image = convert_to_tensor(image, name="image")
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    if dtype == image.dtype:
        return math_ops.identity(image, name=name)
    with name_scope(name, "convert_image", [image]) as name:
        src = image.dtype
        if src.is_integer and dtype.is_integer:
            scale_in, scale_out = int(src.max), int(dtype.max)
            if scale_in > scale_out:
                # scaling down: divide first, so in.max lands just below out.max + 1
                scale = (scale_in + 1) // (scale_out + 1)
                scaled = math_ops.floordiv(image, scale)
                if saturate:
                    return math_ops.saturate_cast(scaled, dtype, name=name)
                return math_ops.cast(scaled, dtype, name=name)
            cast = math_ops.saturate_cast(image, dtype) if saturate else \
                math_ops.cast(image, dtype)
            scale = (scale_out + 1) // (scale_in + 1)
            return math_ops.multiply(cast, scale, name=name)
        if src.is_floating and dtype.is_floating:
            return math_ops.cast(image, dtype, name=name)
        if src.is_integer:
            cast = math_ops.cast(image, dtype)
            scale = 1. / src.max
            return math_ops.multiply(cast, scale, name=name)
        scale = dtype.max + 0.5  # against rounding problems in the cast
        scaled = math_ops.multiply(image, scale)
        if saturate:
            return math_ops.saturate_cast(scaled, dtype, name=name)
        return math_ops.cast(scaled, dtype, name=name)


def _to_float(image):
    if image.dtype in (_dt.float16, _dt.float32):
        return image
    return convert_image_dtype(image, _dt.float32)


def adjust_brightness(image, delta):
    """image + delta, in float (integer images are scaled to [0, 1] and back,
    saturating)."""
    with name_scope(None, "adjust_brightness", [image, delta]) as name:
        image = convert_to_tensor(image, name="image")
        orig = image.dtype
        flt = _to_float(image)
        adjusted = math_ops.add(flt, math_ops.cast(delta, flt.dtype), name=name)
        return convert_image_dtype(adjusted, orig, saturate=True)


def adjust_contrast(images, contrast_factor):
    """(x - mean) * contrast_factor + mean, the mean taken per image and channel."""
    with name_scope(None, "adjust_contrast", [images, contrast_factor]) as name:
        images = convert_to_tensor(images, name="images")
        orig = images.dtype
        flt = _to_float(images)
        adjusted = adjust_contrastv2(flt, contrast_factor, name=name)
        return convert_image_dtype(adjusted, orig, saturate=True)


def adjust_contrastv2(images, contrast_factor, name=None):
    """Op AdjustContrastv2 on [..., h, w, c] float images."""
    with name_scope(name, "AdjustContrastv2", [images, contrast_factor]) as scope:
        x = convert_to_tensor(images, name="images")
        f = convert_to_tensor(contrast_factor, dtype=_dt.float32, name="contrast_factor")
        if x.dtype not in (_dt.float16, _dt.float32):
            raise TypeError(f"Value passed to parameter 'images' has DataType {x.dtype.name} "
                            "not in list of allowed values: float16, float32")
        op = f"'{scope[:-1]}' (op: 'AdjustContrastv2')"
        if x.shape.ndims is not None and x.shape.ndims < 3:
            raise ValueError(f"Shape must be at least rank 3 but is rank {x.shape.ndims} "
                             f"for {op}")
        if f.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {f.shape.ndims} for {op}")
        return make_tensor("AdjustContrastv2", [x, f], x.dtype, x.shape, {"T": x.dtype},
                           name=scope)


@lowering("AdjustContrastv2")
def _lower_adjust_contrast(ctx, op, inputs):
    x, f = inputs
    r = x.type.rank
    if r < 3:
        ctx.fail(f"{op.name}: input must be at least 3-D, got shape {list(x.shape)}")
    if f.type.rank != 0:
        ctx.fail(f"{op.name}: contrast_factor must be scalar: {list(f.shape)}")
    axes = [r - 3, r - 2]
    s = ctx.b.emit("reduce", [x], kind="sum", axes=axes)
    mean = ctx.b.emit("div", [s, ctx.scalar(x.shape[r - 3] * x.shape[r - 2], x.dtype, s.shape)])
    mean = ctx.b.emit("broadcast", [mean], shape=list(x.shape),
                      dims=[i for i in range(r) if i not in axes])
    scaled = ctx.b.emit("mul", [ctx.b.emit("sub", [x, mean]), ctx.bcast(f, x.shape)])
    return [ctx.b.emit("add", [scaled, mean])]


def per_image_standardization(image):
    """(x - mean) / max(stddev, 1 / sqrt(N)) over each image's last three dims.
    TF 1.15 computes in float32 (integer images scaled to [0, 1] first) and
    converts back to the input's dtype, saturating: an integer image comes back
    as integers of that scale."""
    from .composite_ops import reduce_std
    with name_scope(None, "per_image_standardization", [image]) as scope:
        image = convert_to_tensor(image, name="image")
        image = assert_3d_image(image)
        orig = image.dtype
        image = _to_float(image)
        num_pixels = math_ops.reduce_prod(array_ops.shape(image)[-3:])
        mean = math_ops.reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        stddev = reduce_std(image, axis=[-1, -2, -3], keepdims=True)
        min_stddev = math_ops.rsqrt(math_ops.cast(num_pixels, image.dtype))
        adjusted = math_ops.maximum(stddev, min_stddev)
        image = image - mean
        image = math_ops.divide(image, adjusted, name=scope)
        return convert_image_dtype(image, orig, saturate=True)


def rgb_to_grayscale(images, name=None):
    """The luma 0.2989 R + 0.5870 G + 0.1140 B, keeping a last dim of size 1."""
    with name_scope(name, "rgb_to_grayscale", [images]) as name:
        images = convert_to_tensor(images, name="images")
        orig = images.dtype
        flt = convert_image_dtype(images, _dt.float32)
        weights = convert_to_tensor([[0.2989], [0.5870], [0.1140]], _dt.float32)
        if flt.shape.ndims is not None and flt.shape.is_fully_defined():
            gray = expand_dims(tensordot(flt, array_ops.reshape(weights, [3]), [-1, -1]), -1)
        else:   # TF's tensordot, spelled out: the pixels as rows of a matmul
            rows = array_ops.reshape(flt, [-1, 3])
            out_shape = concat([array_ops.shape(flt)[:-1], [1]], 0)
            gray = array_ops.reshape(math_ops.matmul(rows, weights), out_shape)
        return convert_image_dtype(gray, orig, name=name)


def grayscale_to_rgb(images, name=None):
    """The single channel repeated three times."""
    with name_scope(name, "grayscale_to_rgb", [images]) as name:
        images = convert_to_tensor(images, name="images")
        shape = images.shape
        if shape.ndims is not None and shape.ndims < 2:
            raise ValueError(f"A grayscale image (shape {shape}) must be at least "
                             "two-dimensional.")
        checks = []
        if shape.ndims is not None and shape[-1].value not in (None, 1):
            raise ValueError("Last dimension of a grayscale image should be size 1.")
        if shape.ndims is None or not shape.is_fully_defined():
            with name_scope(None, "assert_grayscale"):
                checks = [(math_ops.equal(array_ops.shape(images)[-1], 1),
                           "Last dimension of a grayscale image should be size 1."),
                          (math_ops.greater_equal(array_ops.rank(images), 2),
                           "A grayscale image must be at least two-dimensional.")]
        images = _with_checks(images, checks)
        if shape.ndims is not None:
            multiples = [1] * (shape.ndims - 1) + [3]
        else:
            rank_1 = expand_dims(array_ops.rank(images) - 1, 0)
            multiples = concat([array_ops.ones(rank_1, dtype=_dt.int32),
                                expand_dims(3, 0)], 0)
        rgb = tile(images, multiples, name=name)
        if shape.ndims is not None:
            rgb.set_shape(shape[:-1].concatenate([3]))
        return rgb


def image_gradients(image):
    """(dy, dx): forward differences along height and width of [n, h, w, d]
    images, with zeros in the last row (dy) and column (dx)."""
    image = convert_to_tensor(image, name="image")
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not "
                         f"{image.shape}.")
    image_shape = array_ops.shape(image)
    batch_size, height, width, depth = unstack(image_shape)
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = concat([dy, array_ops.zeros(stack([batch_size, 1, width, depth]), image.dtype)], 1)
    dy = array_ops.reshape(dy, image_shape)
    dx = concat([dx, array_ops.zeros(stack([batch_size, height, 1, depth]), image.dtype)], 2)
    dx = array_ops.reshape(dx, image_shape)
    return dy, dx


def total_variation(images, name=None):
    """The sum of absolute differences of neighboring pixels (per image of a batch)."""
    with name_scope(name, "total_variation"):
        images = convert_to_tensor(images, name="images")
        ndims = images.shape.ndims
        if ndims == 3:
            d1 = images[1:, :, :] - images[:-1, :, :]
            d2 = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        elif ndims == 4:
            d1 = images[:, 1:, :, :] - images[:, :-1, :, :]
            d2 = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return (math_ops.reduce_sum(math_ops.abs(d1), axis=axis) +
                math_ops.reduce_sum(math_ops.abs(d2), axis=axis))


PUBLIC = dict(convert_image_dtype=convert_image_dtype, adjust_brightness=adjust_brightness,
              adjust_contrast=adjust_contrast,
              per_image_standardization=per_image_standardization,
              rgb_to_grayscale=rgb_to_grayscale, grayscale_to_rgb=grayscale_to_rgb,
              image_gradients=image_gradients, total_variation=total_variation)
