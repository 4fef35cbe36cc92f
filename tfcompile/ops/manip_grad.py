"""Gradients of the array-manipulation and ordering ops: Split, SplitV, PadV2,
MirrorPad, ReverseV2, GatherNd, ScatterNd, SparseToDense, BroadcastTo,
TopKV2, Cumsum and Cumprod (Pad and Tile have theirs in array_grad).

Each function returns one gradient per op input (None where TF has none),
built from graph ops under the `gradients/<op>_grad` scope the caller opens.
"""
from __future__ import annotations

import builtins

from . import array_ops, math_ops
from .index_ops import gather_nd, scatter_nd
from .manip_ops import mirror_pad_grad, pad, reverse
from .registry import NotDifferentiable, RegisterGradient
from .sort_ops import cumprod, cumsum

NotDifferentiable("Where")
NotDifferentiable("RandomShuffle")


def _filled(grads, outputs):
    return [g if g is not None else array_ops.zeros_like(t) for g, t in zip(grads, outputs)]


@RegisterGradient("Split")
def _split_grad(op, *grads):
    return None, array_ops.concat(_filled(grads, op.outputs), op.inputs[0])


@RegisterGradient("SplitV")
def _split_v_grad(op, *grads):
    return [array_ops.concat(_filled(grads, op.outputs), op.inputs[2])] + \
        [None] * (len(op.inputs) - 1)


@RegisterGradient("PadV2")
def _pad_v2_grad(op, grad):
    x, paddings = op.inputs[0], op.inputs[1]
    before = array_ops.slice(paddings, [0, 0], array_ops.stack([array_ops.rank(x), 1]))
    begin = array_ops.reshape(before, [-1])
    return array_ops.slice(grad, begin, array_ops.shape(x)), None, None


@RegisterGradient("MirrorPad")
def _mirror_pad_grad(op, grad):
    return mirror_pad_grad(grad, op.inputs[1], mode=op.attrs["mode"]), None


@RegisterGradient("MirrorPadGrad")
def _mirror_pad_grad_grad(op, grad):
    return pad(grad, op.inputs[1], mode=op.attrs["mode"]), None


@RegisterGradient("ReverseV2")
def _reverse_grad(op, grad):
    return reverse(grad, op.inputs[1]), None


@RegisterGradient("GatherNd")
def _gather_nd_grad(op, grad):
    params, indices = op.inputs
    shape = params.shape.as_list() if params.shape.is_fully_defined() else \
        array_ops.shape(params, out_type=indices.dtype)
    return scatter_nd(indices, grad, shape), None


@RegisterGradient("ScatterNd")
def _scatter_nd_grad(op, grad):
    return None, gather_nd(grad, op.inputs[0]), None


@RegisterGradient("SparseToDense")
def _sparse_to_dense_grad(op, grad):
    indices = op.inputs[0]
    if indices.shape.ndims is not None and indices.shape.ndims < 2:
        # a scalar or vector of indices into a vector: make it [n, 1]
        indices = array_ops.reshape(indices, [-1, 1])
    values_grad = gather_nd(grad, indices)
    v = op.inputs[2]
    if v.shape.ndims == 0:
        values_grad = math_ops.reduce_sum(values_grad)
    default_grad = math_ops.reduce_sum(grad) - math_ops.reduce_sum(values_grad)
    return [None, None, values_grad, default_grad]


@RegisterGradient("BroadcastTo")
def _broadcast_to_grad(op, grad):
    x = op.inputs[0]
    xs, out = x.shape, op.outputs[0].shape
    if xs.is_fully_defined() and out.is_fully_defined():
        xd, od = xs.as_list(), out.as_list()
        lead = len(od) - len(xd)
        axes = list(builtins.range(lead)) + [lead + i for i, d in enumerate(xd)
                                            if d == 1 and od[lead + i] != 1]
        g = math_ops.reduce_sum(grad, axes) if axes else grad
        return array_ops.reshape(g, xd), None
    from .array_grad import broadcast_gradient_args
    shape_in = array_ops.shape(x)
    rx, _ = broadcast_gradient_args(shape_in, array_ops.shape(op.outputs[0]))
    g = math_ops.reduce_sum(grad, rx, keepdims=True)
    return array_ops.reshape(g, shape_in), None


@RegisterGradient("TopKV2")
def _top_k_grad(op, grad, _):
    """The value gradients go back to the positions the indices name."""
    x, idx = op.inputs[0], op.outputs[1]
    n = x.shape[-1].value if x.shape.ndims else None
    depth = n if n is not None else array_ops.shape(x)[-1]
    rows = array_ops.one_hot(idx, depth, dtype=grad.dtype)      # [..., k, n]
    g = math_ops.reduce_sum(array_ops.expand_dims(grad, -1) * rows, axis=-2)
    return g, None


@RegisterGradient("Cumsum")
def _cumsum_grad(op, grad):
    return [cumsum(grad, op.inputs[1], exclusive=op.attrs["exclusive"],
                   reverse=not op.attrs["reverse"]), None]


@RegisterGradient("Cumprod")
def _cumprod_grad(op, grad):
    x, axis = op.inputs
    ex, rev = op.attrs["exclusive"], op.attrs["reverse"]
    prod = cumprod(x, axis, exclusive=ex, reverse=rev)
    out = cumsum(prod * grad, axis, exclusive=ex, reverse=not rev)
    return [out / x, None]

