"""tf.image's geometry: flips (fixed and random), transpose, rot90, central_crop,
crop_to_bounding_box, pad_to_bounding_box and resize_image_with_crop_or_pad,
built from graph ops as TF 1.15's Python builds them, with its static shapes
and its checks (ValueError at graph build where the values are known).

Checks TF makes with Assert ops at run time (offsets and sizes given as
tensors, image dimensions unknown at graph build) go through one op of this
module, ImageAssert: the image passed on unchanged, failing with
InvalidArgumentError when its condition is false (decided when the graph is
compiled where the condition folds, else by a run-time check).

install() creates tf.image; the resizes are in image_resize.py, the
pixel-value ops (dtype conversion, brightness, contrast, standardization,
grayscale, image gradients) in image_color.py and extract_image_patches in
image_patches.py.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from . import array_ops, math_ops
from .constant_op import convert_to_tensor
from .manip_ops import pad, reverse
from .op_util import make_tensor
from .registry import RegisterGradient, lowering
from .slice_ops import slice as _slice
from .stack_ops import expand_dims, squeeze, stack, unstack


# ---------------------------------------------------------------- checks

def _is_tensor(x):
    from ..variables import Variable
    return isinstance(x, (Tensor, Variable))


def image_assert(image, ok, message):
    """`image`, failing the run with InvalidArgumentError(message) where the bool
    scalar `ok` is false (TF: an Assert the image depends on)."""
    return make_tensor("ImageAssert", [image, ok], image.dtype, image.shape,
                       {"T": image.dtype, "message": message}, name="Assert")


@lowering("ImageAssert")
def _lower_image_assert(ctx, op, inputs):
    from ..lowering import _fold
    x, ok = inputs
    v = _fold(ok)
    if v is None:
        ctx.add_run_check(op, ok, op.attrs["message"])
    elif not bool(v):
        ctx.fail(op.attrs["message"])
    return [x]


@RegisterGradient("ImageAssert")
def _image_assert_grad(op, grad):
    return grad, None


def _assert(cond, ex_type, msg):
    """TF's image_ops._assert: a static condition raises `ex_type` now; a tensor
    one becomes a check for when the graph runs."""
    if _is_tensor(cond):
        return [(cond, msg)]
    if not cond:
        raise ex_type(msg)
    return []


def _with_checks(image, checks):
    """The image after its checks (TF: an identity named control_dependency
    that waits for the Assert ops, also where there are none)."""
    from .control_flow import with_dependencies
    for cond, msg in checks:
        image = image_assert(image, cond, msg)
    return with_dependencies([], image)


def check_3d_image(image, require_static=False):
    """TF's _CheckAtLeast3DImage: ValueError for a static shape of rank < 3 or an
    empty inner dimension; checks for when the graph runs where unknown."""
    shape = image.shape
    if shape.ndims is not None and shape.ndims < 3:
        raise ValueError(f"'image' (shape {shape}) must be at least three-dimensional.")
    if require_static and not shape.is_fully_defined():
        raise ValueError("'image' must be fully defined.")
    inner = shape.as_list()[-3:] if shape.ndims is not None else [None] * 3
    if any(d == 0 for d in inner):
        raise ValueError(f"inner 3 dims of 'image.shape' must be > 0: {shape}")
    if all(d is not None for d in inner) and shape.ndims is not None:
        return []
    with name_scope(None, "assert_positive"):
        dims = array_ops.shape(image)
        rank_ok = math_ops.greater_equal(array_ops.rank(image), 3)
        pos = math_ops.reduce_all(math_ops.greater(dims[-3:], 0))
    return [(rank_ok, "'image' must be at least three-dimensional."),
            (pos, "inner 3 dims of 'image.shape' must be > 0.")]


def assert_3d_image(image):
    """TF's _AssertAtLeast3DImage: the image with those checks attached."""
    return _with_checks(image, check_3d_image(image))


def image_dimensions(image, rank):
    """TF's _ImageDimensions: each dimension as an int where known, else a scalar tensor."""
    if image.shape.ndims is not None and image.shape.is_fully_defined():
        return image.shape.as_list()
    static = image.shape.as_list() if image.shape.ndims is not None else [None] * rank
    dynamic = unstack(array_ops.shape(image), rank)
    return [s if s is not None else d for s, d in zip(static, dynamic)]


def _fix_flip_shape(image, result):
    shape = image.shape
    if shape.ndims is None:
        result.set_shape([None, None, None])
    else:
        result.set_shape(shape)
    return result


def _rank_3_or_4(image):
    n = image.shape.ndims
    if n not in (None, 3, 4):
        raise ValueError("'image' must have either 3 or 4 dimensions.")
    return n


# ---------------------------------------------------------------- flips, transpose, rot90

def _flip(image, flip_index, scope_name):
    with name_scope(None, scope_name, [image]):
        image = convert_to_tensor(image, name="image")
        image = assert_3d_image(image)
        n = _rank_3_or_4(image)
        if n == 4:
            return reverse(image, [flip_index + 1])
        return _fix_flip_shape(image, reverse(image, [flip_index]))


def flip_left_right(image):
    """The image mirrored left to right (axis -2 of [h, w, c] or [n, h, w, c])."""
    return _flip(image, 1, "flip_left_right")


def flip_up_down(image):
    """The image mirrored top to bottom."""
    return _flip(image, 0, "flip_up_down")


def _random_flip(image, flip_index, seed, scope_name):
    """TF 1.15: a 3-D image is flipped with probability 1/2; each image of a
    4-D batch is flipped or not on its own draw."""
    from .cond_ops import cond
    from .random_ops import random_uniform
    with name_scope(None, scope_name, [image]) as scope:
        image = convert_to_tensor(image, name="image")
        image = assert_3d_image(image)
        n = _rank_3_or_4(image)
        if n == 4:
            batch = array_ops.shape(image)[0]
            u = random_uniform(stack([batch]), 0, 1.0, seed=seed)
            flips = math_ops.round(array_ops.reshape(u, stack([batch, 1, 1, 1])))
            flips = math_ops.cast(flips, image.dtype)
            flipped = reverse(image, [flip_index + 1])
            return flips * flipped + (1 - flips) * image
        u = random_uniform([], 0, 1.0, seed=seed)
        mirror = math_ops.less(u, .5)
        result = cond(mirror, lambda: reverse(image, [flip_index]), lambda: image,
                      name=scope)
        return _fix_flip_shape(image, result)


def random_flip_left_right(image, seed=None):
    """The image (each image of a batch) mirrored left to right with probability 1/2."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """The image (each image of a batch) mirrored top to bottom with probability 1/2."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


def transpose_image(image, name=None):
    """Swaps height and width ([h, w, c] -> [w, h, c], likewise per image of a batch)."""
    with name_scope(name, "transpose", [image]):
        image = convert_to_tensor(image, name="image")
        image = assert_3d_image(image)
        n = image.shape.ndims
        if n is None:
            raise ValueError("transpose_image: the rank of 'image' must be known when the "
                             "graph is built (3 or 4)")
        if n == 3:
            return array_ops.transpose(image, [1, 0, 2], name=name)
        if n == 4:
            return array_ops.transpose(image, [0, 2, 1, 3], name=name)
        raise ValueError("'image' must have either 3 or 4 dimensions.")


def rot90(image, k=1, name=None):
    """The image rotated counter-clockwise by k quarter turns. k known when the
    graph is built rotates directly; a k known only at run time becomes TF's
    case over the four rotations (which then must have one shape: a square image,
    since the compiler computes every branch)."""
    from .op_util import constant_value
    with name_scope(name, "rot90", [image, k]) as scope:
        image = convert_to_tensor(image, name="image")
        image = assert_3d_image(image)
        k = convert_to_tensor(k, dtype=_dt.int32, name="k")
        k.shape.assert_has_rank(0)
        k = math_ops.mod(k, 4)
        n = image.shape.ndims
        if n not in (3, 4):
            if n is None:
                raise ValueError("rot90: the rank of 'image' must be known when the graph "
                                 "is built (3 or 4)")
            raise ValueError("'image' must have either 3 or 4 dimensions.")
        h = n - 3  # the height axis
        perm = [1, 0, 2] if n == 3 else [0, 2, 1, 3]
        rots = [lambda: image,
                lambda: array_ops.transpose(reverse(image, [h + 1]), perm),
                lambda: reverse(image, [h, h + 1]),
                lambda: reverse(array_ops.transpose(image, perm), [h + 1])]
        kv = constant_value(k)
        if kv is not None:
            result = rots[int(kv)]()
        else:
            from .cond_ops import case
            result = case([(math_ops.equal(k, i), rots[i]) for i in (1, 2, 3)],
                          default=rots[0], exclusive=True)
        # TF's static shape: what all four rotations share (height and width
        # survive only for a square image)
        dims = image.shape.as_list()
        hw = [dims[h], dims[h]] if dims[h] is not None and dims[h] == dims[h + 1] else \
            [None, None]
        shape = hw + dims[2:] if n == 3 else dims[:1] + hw + dims[3:]
        return make_tensor("Identity", [result], result.dtype, TensorShape(shape),
                           {"T": result.dtype}, name=scope)


# ---------------------------------------------------------------- crops and pads

def central_crop(image, central_fraction):
    """The central `central_fraction` of each image along height and width."""
    with name_scope(None, "central_crop", [image]):
        image = convert_to_tensor(image, name="image")
        if central_fraction <= 0.0 or central_fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if central_fraction == 1.0:
            return image
        assert_3d_image(image)
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError(f"`image` should either be a Tensor with rank = 3 or rank = 4. "
                             f"Had rank = {rank}.")

        def dim(i):
            d = image.shape[i].value
            if d is not None:
                return d, False
            return array_ops.shape(image)[i], True

        off = rank - 3
        img_h, dyn_h = dim(off)
        img_w, dyn_w = dim(off + 1)

        def start(size, dynamic):
            if dynamic:
                sd = math_ops.cast(size, _dt.float64)
                return math_ops.cast((sd - sd * central_fraction) / 2, _dt.int32)
            return int((float(size) - float(size) * central_fraction) / 2)
        h0, w0 = start(img_h, dyn_h), start(img_w, dyn_w)
        hs, ws = img_h - h0 * 2, img_w - w0 * 2
        if rank == 3:
            begin, size = stack([h0, w0, 0]), stack([hs, ws, -1])
        else:
            begin, size = stack([0, h0, w0, 0]), stack([-1, hs, ws, -1])
        d = image.shape.as_list()
        image = _slice(image, begin, size)
        dims = [None if dyn_h else hs, None if dyn_w else ws]
        image.set_shape(dims + [d[-1]] if rank == 3 else [d[0]] + dims + [d[-1]])
        return image


def _as_batch(image):
    """(4-D image, whether the input was a batch), as TF's crop/pad helpers do."""
    n = image.shape.ndims
    if n == 3:
        return expand_dims(image, 0), False
    if n is None:
        image = expand_dims(image, 0)
        image.set_shape([None] * 4)
        return image, False
    if n != 4:
        raise ValueError("'image' must have either 3 or 4 dimensions.")
    return image, True


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The box of target_height x target_width at (offset_height, offset_width)."""
    with name_scope(None, "crop_to_bounding_box", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = check_3d_image(image)
        batch, height, width, depth = image_dimensions(image, rank=4)
        checks += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0.")
        checks += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0.")
        checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        checks += _assert(width >= (target_width + offset_width), ValueError,
                          "width must be >= target + offset.")
        checks += _assert(height >= (target_height + offset_height), ValueError,
                          "height must be >= target + offset.")
        image = _with_checks(image, checks)
        cropped = _slice(image, stack([0, offset_height, offset_width, 0]),
                         stack([-1, target_height, target_width, -1]))
        cropped.set_shape([None if _is_tensor(i) else i
                           for i in (batch, target_height, target_width, depth)])
        if not is_batch:
            cropped = squeeze(cropped, axis=[0])
        return cropped


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The image placed at (offset_height, offset_width) of a zero canvas of
    target_height x target_width."""
    with name_scope(None, "pad_to_bounding_box", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = check_3d_image(image)
        batch, height, width, depth = image_dimensions(image, rank=4)
        after_w = target_width - offset_width - width
        after_h = target_height - offset_height - height
        checks += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0")
        checks += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0")
        checks += _assert(after_w >= 0, ValueError, "width must be <= target - offset")
        checks += _assert(after_h >= 0, ValueError, "height must be <= target - offset")
        image = _with_checks(image, checks)
        paddings = array_ops.reshape(
            stack([0, 0, offset_height, after_h, offset_width, after_w, 0, 0]), [4, 2])
        padded = pad(image, paddings)
        padded.set_shape([None if _is_tensor(i) else i
                          for i in (batch, target_height, target_width, depth)])
        if not is_batch:
            padded = squeeze(padded, axis=[0])
        return padded


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """Centrally crops or zero-pads the image to target_height x target_width."""
    with name_scope(None, "resize_image_with_crop_or_pad", [image]):
        image = convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = check_3d_image(image)
        checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        image = _with_checks(image, checks)

        def pick(f_tensor, f_py):
            return lambda x, y: f_tensor(x, y) if _is_tensor(x) or _is_tensor(y) \
                else f_py(x, y)
        max_, min_ = pick(math_ops.maximum, max), pick(math_ops.minimum, min)

        _, height, width, _ = image_dimensions(image, rank=4)
        width_diff = target_width - width
        offset_crop_width = max_(-width_diff // 2, 0)
        offset_pad_width = max_(width_diff // 2, 0)
        height_diff = target_height - height
        offset_crop_height = max_(-height_diff // 2, 0)
        offset_pad_height = max_(height_diff // 2, 0)
        cropped = crop_to_bounding_box(image, offset_crop_height, offset_crop_width,
                                       min_(target_height, height), min_(target_width, width))
        resized = pad_to_bounding_box(cropped, offset_pad_height, offset_pad_width,
                                      target_height, target_width)
        resized = _with_checks(resized, [])
        if not is_batch:
            resized = squeeze(resized, axis=[0])
        return resized


def install(tf):
    """Creates tf.image with this module's names and those of image_resize,
    image_color and image_patches."""
    from ..namespaces import _namespace
    from . import image_color, image_patches, image_resize
    image = getattr(tf, "image", None)
    if image is None:
        image = _namespace("image", "tf.image: image transformations (TF 1.15)")
        tf.image = image
    names = dict(
        flip_left_right=flip_left_right, flip_up_down=flip_up_down,
        random_flip_left_right=random_flip_left_right,
        random_flip_up_down=random_flip_up_down, transpose_image=transpose_image,
        transpose=transpose_image, rot90=rot90, central_crop=central_crop,
        crop_to_bounding_box=crop_to_bounding_box, pad_to_bounding_box=pad_to_bounding_box,
        resize_image_with_crop_or_pad=resize_image_with_crop_or_pad,
        resize_with_crop_or_pad=resize_image_with_crop_or_pad)
    names.update(image_resize._public())
    names.update(image_color.PUBLIC)
    names.update(image_patches.PUBLIC)
    tf.extract_image_patches = image_patches.extract_image_patches
    for k, v in names.items():
        setattr(image, k, v)

