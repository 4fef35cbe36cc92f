"""Gradients of the array ops (reshape, transpose, slicing, concat, stack,
gather, select, fill, tile, pad), and the helper ops TF's gradients are built
from: BroadcastGradientArgs, ConcatOffset, InvertPermutation, StridedSliceGrad.

The helper ops compute on shapes; shapes are static once a run's feeds are
known, so their lowerings fold to constants at compile time (None batch
dimensions included)."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from . import array_ops, math_ops
from .op_util import constant_value, make_op, make_tensor, shape_from_tensor
from .registry import NotDifferentiable, RegisterGradient, lowering

# ---------------------------------------------------------------- helper ops


def broadcast_gradient_args(s0, s1, name=None):
    """The axes to sum a broadcast result over to get each operand's gradient."""
    op = make_op("BroadcastGradientArgs", [s0, s1], {"T": s0.dtype},
                 [(s0.dtype, [None]), (s0.dtype, [None])], name=name,
                 default_name="BroadcastGradientArgs")
    return op.outputs[0], op.outputs[1]


def _reduction_axes(s0, s1):
    """TF's BCast reduction indices for shapes s0 and s1 (or None if they clash)."""
    n = builtins.max(len(s0), len(s1))
    a = [1] * (n - len(s0)) + list(s0)
    b = [1] * (n - len(s1)) + list(s1)
    r0, r1 = [], []
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            if x == 1:  # both size 1: summing over it is a no-op, TF lists it for both
                r0.append(i)
                r1.append(i)
        elif x == 1:
            r0.append(i)
        elif y == 1:
            r1.append(i)
        else:
            return None
    return r0, r1


@lowering("BroadcastGradientArgs")
def _lower_bga(ctx, op, inputs):
    s0 = [int(d) for d in ctx.const_value(inputs[0], "BroadcastGradientArgs s0")]
    s1 = [int(d) for d in ctx.const_value(inputs[1], "BroadcastGradientArgs s1")]
    axes = _reduction_axes(s0, s1)
    if axes is None:
        ctx.fail(f"Incompatible shapes: {s0} vs. {s1}")
    np_t = op.outputs[0].dtype.as_numpy_dtype
    return [ctx.b.constant(np.array(a, dtype=np_t)) for a in axes]


def concat_offset(concat_dim, shapes, name=None):
    """The start of each input of a concat along `concat_dim` (one vector each)."""
    r = shapes[0].shape[0].value if shapes[0].shape.ndims == 1 else None
    op = make_op("ConcatOffset", [concat_dim] + list(shapes), {"N": len(shapes)},
                 [(_dt.int32, [r])] * len(shapes), name=name, default_name="ConcatOffset")
    return op.outputs


@lowering("ConcatOffset")
def _lower_concat_offset(ctx, op, inputs):
    dim = int(ctx.const_value(inputs[0], "ConcatOffset concat_dim"))
    shapes = [[int(d) for d in ctx.const_value(s, "ConcatOffset shape")] for s in inputs[1:]]
    rank = len(shapes[0])
    dim = ctx.axis(dim, rank)
    outs, at = [], 0
    for i, s in enumerate(shapes):
        if len(s) != rank or any(a != b for j, (a, b) in enumerate(zip(s, shapes[0]))
                                 if j != dim):
            ctx.fail(f"input dimension {i} mismatch: shape[0] = {shapes[0]} vs. "
                     f"shape[{i}] = {s}")
        off = [0] * rank
        off[dim] = at
        at += s[dim]
        outs.append(ctx.b.constant(np.array(off, dtype=np.int32)))
    return outs


def invert_permutation(x, name=None):
    return make_tensor("InvertPermutation", [x], x.dtype, x.shape, {"T": x.dtype},
                       name=name, default_name="InvertPermutation")


@lowering("InvertPermutation")
def _lower_invert_permutation(ctx, op, inputs):
    p = [int(v) for v in ctx.const_value(inputs[0], "InvertPermutation x")]
    if sorted(p) != list(builtins.range(len(p))):
        ctx.fail(f"{p} is not a permutation of 0..{len(p) - 1}")
    return [ctx.b.constant(np.argsort(p).astype(op.outputs[0].dtype.as_numpy_dtype))]


def strided_slice_grad(shape, begin, end, strides, dy, begin_mask=0, end_mask=0,
                       ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, name=None):
    attrs = {"T": dy.dtype, "Index": begin.dtype, "begin_mask": begin_mask,
             "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    return make_tensor("StridedSliceGrad", [shape, begin, end, strides, dy], dy.dtype,
                       shape_from_tensor(shape), attrs, name=name,
                       default_name="StridedSliceGrad")


@lowering("StridedSliceGrad")
def _lower_strided_slice_grad(ctx, op, inputs):
    """Scatters dy back into zeros of the input's shape: reshape to the sliced
    extents, spread strided dims with zero padding, pad to the full extent and
    undo the reversal of negative-stride dims."""
    shape = [int(d) for d in ctx.const_value(inputs[0], "StridedSliceGrad shape")]
    b, e, s = (list(ctx.const_value(v, "StridedSliceGrad bounds")) for v in inputs[1:4])
    dy = inputs[4]
    specs = array_ops._expand_spec(len(shape), b, e, s, op.attrs)
    info = []  # per input dim: (first position, step, count, reversed)
    for sp in specs:
        if sp[0] == "new":
            continue
        _, d, sl = sp
        n = shape[d]
        if isinstance(sl, int):
            if not -n <= sl < n:
                ctx.fail(f"slice index {sl} of dimension {d} out of bounds.")
            info.append((sl % n, 1, 1, False))
            continue
        r = builtins.range(n)[sl]
        if r.step > 0:
            info.append((r.start if len(r) else 0, r.step, len(r), False))
        else:
            info.append((n - 1 - r.start if len(r) else 0, -r.step, len(r), True))
    zero = 0.0 if dy.dtype in ("f32", "f64") else 0
    if any(c == 0 for _, _, c, _ in info) or dy.type.size == 0:
        return [ctx.scalar(zero, dy.dtype, tuple(shape))]
    counts = [c for _, _, c, _ in info]
    if int(np.prod(counts, dtype=np.int64)) != dy.type.size:
        ctx.fail(f"StridedSliceGrad: dy of shape {list(dy.shape)} doesn't match the "
                 f"slice extents {counts}")
    b_ = ctx.b
    v = b_.emit("reshape", [dy], shape=counts)
    for d, (_, step, c, _) in enumerate(info):
        if step == 1:
            continue
        cur = list(v.shape)
        v = b_.emit("reshape", [v], shape=cur[:d] + [c, 1] + cur[d + 1:])
        hi = [0] * (len(cur) + 1)
        hi[d + 1] = step - 1
        v = b_.emit("pad", [v], low=[0] * (len(cur) + 1), high=hi, value=zero)
        v = b_.emit("reshape", [v], shape=cur[:d] + [c * step] + cur[d + 1:])
        lim = list(v.shape)
        lim[d] = (c - 1) * step + 1
        v = b_.emit("slice", [v], start=[0] * len(cur), limit=lim, stride=[1] * len(cur))
    low = [first for first, _, _, _ in info]
    high = [n - first - ((c - 1) * step + 1) for n, (first, step, c, _) in zip(shape, info)]
    if any(low) or any(high):
        v = b_.emit("pad", [v], low=low, high=high, value=zero)
    rev = [d for d, (_, _, _, flip) in enumerate(info) if flip]
    if rev:
        v = b_.emit("reverse", [v], axes=rev)
    return [v]


# ---------------------------------------------------------------- not differentiable

for _t in ("BroadcastGradientArgs", "ConcatOffset", "InvertPermutation", "Shape", "ShapeN",
           "Size", "Rank", "Range", "OneHot", "ZerosLike", "OnesLike", "Const",
           "StopGradient", "Placeholder", "VariableV2", "NoOp", "Assign", "AssignAdd",
           "AssignSub", "IsVariableInitialized"):
    NotDifferentiable(_t)


# ---------------------------------------------------------------- identity-like

@RegisterGradient("Identity")
@RegisterGradient("PlaceholderWithDefault")
def _identity_grad(op, grad):
    return grad


def _reshape_to_input(op, grad):
    return array_ops.reshape(grad, array_ops.shape(op.inputs[0]))


@RegisterGradient("Reshape")
def _reshape_grad(op, grad):
    return [_reshape_to_input(op, grad), None]


@RegisterGradient("ExpandDims")
def _expand_dims_grad(op, grad):
    return [_reshape_to_input(op, grad), None]


@RegisterGradient("Squeeze")
def _squeeze_grad(op, grad):
    return _reshape_to_input(op, grad)


@RegisterGradient("Transpose")
def _transpose_grad(op, grad):
    p = op.inputs[1]
    out = array_ops.transpose(grad, invert_permutation(p))
    pv = constant_value(p)
    if pv is not None and grad.shape.ndims is not None:
        dims = grad.shape.as_list()
        out.set_shape([dims[i] for i in np.argsort(np.reshape(pv, [-1]))])
    return [out, None]


# ---------------------------------------------------------------- stack / concat

@RegisterGradient("Pack")
def _pack_grad(op, grad):
    return array_ops.unstack(grad, num=op.attrs["N"], axis=op.attrs["axis"])


@RegisterGradient("Unpack")
def _unpack_grad(op, *grads):
    return array_ops.stack(list(grads), axis=op.attrs["axis"])


@RegisterGradient("ConcatV2")
def _concat_grad(op, grad):
    values, concat_dim = op.inputs[:-1], op.inputs[-1]
    if len(values) == 1:
        return [grad, None]
    non_neg_dim = math_ops.floormod(concat_dim, array_ops.rank(values[0]))
    sizes = [array_ops.shape(v) for v in values]
    offsets = concat_offset(non_neg_dim, sizes)
    out = [array_ops.slice(grad, begin, size) for begin, size in zip(offsets, sizes)]
    return out + [None]


# ---------------------------------------------------------------- slicing

@RegisterGradient("Slice")
def _slice_grad(op, grad):
    x, begin = op.inputs[0], op.inputs[1]
    rank = array_ops.rank(x)
    slice_size = array_ops.shape(op.outputs[0])
    shape = array_ops.stack([rank, 1])
    before = array_ops.reshape(begin, shape)
    after = array_ops.reshape(array_ops.shape(x) - slice_size - begin, shape)
    paddings = array_ops.concat([before, after], 1)
    return array_ops.pad(grad, paddings), None, None


@RegisterGradient("StridedSlice")
def _strided_slice_grad(op, grad):
    begin, end, strides = op.inputs[1], op.inputs[2], op.inputs[3]
    x_shape = array_ops.shape(op.inputs[0], out_type=begin.dtype)
    a = op.attrs
    return (strided_slice_grad(x_shape, begin, end, strides, grad,
                               begin_mask=a["begin_mask"], end_mask=a["end_mask"],
                               ellipsis_mask=a["ellipsis_mask"],
                               new_axis_mask=a["new_axis_mask"],
                               shrink_axis_mask=a["shrink_axis_mask"]),
            None, None, None)


@RegisterGradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, grad):
    a = op.attrs
    # the bounds as lists where known (array_ops.strided_slice wants their length)
    bounds = [t if constant_value(t) is None else [int(v) for v in constant_value(t)]
              for t in op.inputs[1:4]]
    return (None, None, None, None,
            array_ops.strided_slice(grad, *bounds,
                                    begin_mask=a["begin_mask"], end_mask=a["end_mask"],
                                    ellipsis_mask=a["ellipsis_mask"],
                                    new_axis_mask=a["new_axis_mask"],
                                    shrink_axis_mask=a["shrink_axis_mask"]))


@RegisterGradient("Pad")
def _pad_grad(op, grad):
    x, paddings = op.inputs[0], op.inputs[1]
    before = array_ops.slice(paddings, [0, 0], array_ops.stack([array_ops.rank(x), 1]))
    begin = array_ops.reshape(before, [-1])
    return array_ops.slice(grad, begin, array_ops.shape(x)), None


@RegisterGradient("Tile")
def _tile_grad(op, grad):
    in_shape = array_ops.shape(op.inputs[0])
    split = array_ops.reshape(array_ops.transpose(array_ops.stack([op.inputs[1], in_shape])),
                              [-1])
    axes = array_ops.range(0, array_ops.size(split), 2)
    return [math_ops.reduce_sum(array_ops.reshape(grad, split), axes), None]


@RegisterGradient("Fill")
def _fill_grad(op, grad):
    return None, math_ops.reduce_sum(grad)


# ---------------------------------------------------------------- gather

@RegisterGradient("GatherV2")
def _gather_grad(op, grad):
    """A dense gradient: grad rows summed into the gathered positions (repeated
    indices add up), as one_hot(indices)^T @ grad along the gather axis."""
    params, indices, axis_t = op.inputs
    axis = constant_value(axis_t)
    pr, ir_ = params.shape.ndims, indices.shape.ndims
    if axis is None or pr is None or ir_ is None:
        raise ValueError(f"The gradient of {op.name} (GatherV2) needs the ranks of params "
                         f"and indices and a constant axis; got params {params.shape}, "
                         f"indices {indices.shape}")
    a = int(axis) % pr
    params_shape = array_ops.shape(params)
    g = grad
    if a:
        # bring the index dims to the front: [indices..., outer..., inner...]
        perm = (list(builtins.range(a, a + ir_)) + list(builtins.range(a))
                + list(builtins.range(a + ir_, pr + ir_ - 1)))
        g = array_ops.transpose(g, perm)
    flat_idx = array_ops.reshape(indices, [-1])
    n = array_ops.strided_slice(params_shape, [a], [a + 1], [1], shrink_axis_mask=1)
    rows = array_ops.one_hot(flat_idx, n, dtype=grad.dtype)
    size = array_ops.size(flat_idx)
    g2 = array_ops.reshape(g, array_ops.stack([size, -1]))
    dense = math_ops.matmul(rows, g2, transpose_a=True)
    if a:
        outer = array_ops.strided_slice(params_shape, [0], [a], [1])
        inner = array_ops.strided_slice(params_shape, [a + 1], [pr], [1], end_mask=1)
        moved = array_ops.reshape(dense, array_ops.concat([array_ops.reshape(n, [1]), outer,
                                                           inner], 0))
        back = [a] + list(builtins.range(a)) + list(builtins.range(a + 1, pr))
        out = array_ops.transpose(moved, list(np.argsort(back)))
    else:
        out = array_ops.reshape(dense, params_shape)
    return [out, None, None]


# ---------------------------------------------------------------- select

@RegisterGradient("Select")
def _select_grad(op, grad):
    c, x = op.inputs[0], op.inputs[1]
    zeros = array_ops.zeros_like(x)
    return (None, array_ops.where(c, grad, zeros), array_ops.where(c, zeros, grad))


@RegisterGradient("SelectV2")
def _select_v2_grad(op, grad):
    c, x, y = op.inputs
    zeros = array_ops.zeros([], dtype=grad.dtype)
    gx = array_ops.where_v2(c, grad, zeros)
    x_shape = array_ops.shape(x)
    out_shape = array_ops.shape(op.outputs[0])
    rx, _ = broadcast_gradient_args(x_shape, out_shape)
    gx = array_ops.reshape(math_ops.reduce_sum(gx, keepdims=True, axis=rx), x_shape)
    gy = array_ops.where_v2(c, zeros, grad)
    y_shape = array_ops.shape(y)
    ry, _ = broadcast_gradient_args(y_shape, out_shape)
    gy = array_ops.reshape(math_ops.reduce_sum(gy, keepdims=True, axis=ry), y_shape)
    return (None, gx, gy)

