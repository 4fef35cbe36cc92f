"""Gradients of the segment reductions (segment_ops), with TF's semantics:
a sum's gradient is the output gradient gathered back to the rows (rows with
a negative id get 0); a mean's is scaled by 1 / the segment size; a max's or
min's goes to the elements equal to their segment's result, split evenly
among ties; a product's is the product of the other elements of the segment
(with zeros handled: 0 when two or more are zero).

The sorted ops' gradients use the unsorted ops with num_segments =
tf.shape(grad)[0]: static when compiled, so no size is probed again."""
from __future__ import annotations

from .. import dtypes as _dt
from . import array_ops, math_ops, stack_ops
from .registry import RegisterGradient
from .segment_ops import unsorted_segment_prod, unsorted_segment_sum


def _rows_mask(mask, like):
    """mask (shaped like ids) reshaped to broadcast over `like` (shaped like
    ids + the rest of data's dims)."""
    extra = array_ops.rank(like) - array_ops.rank(mask)
    shape = stack_ops.concat([array_ops.shape(mask),
                              array_ops.ones(stack_ops.expand_dims(extra, 0), _dt.int32)], 0)
    return array_ops.reshape(mask, shape)


def gather_dropping_negatives(params, ids):
    """params[ids] with zero rows where ids < 0; returns (rows, clipped ids,
    the mask of kept rows shaped to broadcast against them)."""
    clipped = math_ops.maximum(ids, array_ops.zeros_like(ids))
    rows = array_ops.gather(params, clipped)
    keep = _rows_mask(math_ops.greater_equal(ids, array_ops.zeros_like(ids)), rows)
    return array_ops.where_v2(keep, rows, array_ops.zeros_like(rows)), clipped, keep


def _min_max_grad(op, grad, num_segments):
    data, ids = op.inputs[0], op.inputs[1]
    picked, _, keep = gather_dropping_negatives(op.outputs[0], ids)
    selected = math_ops.logical_and(math_ops.equal(data, picked), keep)
    ties = unsorted_segment_sum(math_ops.cast(selected, grad.dtype), ids, num_segments)
    # a segment without selected elements is never gathered below: its 0/0 is unused
    share, _, _ = gather_dropping_negatives(math_ops.divide(grad, ties), ids)
    return array_ops.where_v2(selected, share, array_ops.zeros_like(share))


def _prod_grad(op, grad, num_segments):
    data, ids = op.inputs[0], op.inputs[1]
    zero = math_ops.equal(data, array_ops.zeros_like(data))
    zeros_in_seg = unsorted_segment_sum(math_ops.cast(zero, _dt.int32), ids, num_segments)
    # two zeros in a segment: every partial derivative is 0
    grad = array_ops.where_v2(math_ops.greater(zeros_in_seg, 1), array_ops.zeros_like(grad),
                              grad)
    others_nonzero = unsorted_segment_prod(
        array_ops.where_v2(zero, array_ops.ones_like(data), data), ids, num_segments)
    clipped = math_ops.maximum(ids, array_ops.zeros_like(ids))
    # the product without this element: for a zero, the product of the others;
    # else the segment's product over it (the division by a zero is not selected)
    without = array_ops.where_v2(
        zero, array_ops.gather(others_nonzero, clipped),
        math_ops.divide(array_ops.gather(op.outputs[0], clipped), data))
    g, _, _ = gather_dropping_negatives(grad, ids)
    return g * without


@RegisterGradient("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, grad):
    return gather_dropping_negatives(grad, op.inputs[1])[0], None, None


@RegisterGradient("UnsortedSegmentMax")
def _unsorted_segment_max_grad(op, grad):
    return _min_max_grad(op, grad, op.inputs[2]), None, None


@RegisterGradient("UnsortedSegmentMin")
def _unsorted_segment_min_grad(op, grad):
    return _min_max_grad(op, grad, op.inputs[2]), None, None


@RegisterGradient("UnsortedSegmentProd")
def _unsorted_segment_prod_grad(op, grad):
    return _prod_grad(op, grad, op.inputs[2]), None, None


def _rows_of(grad):
    return array_ops.shape(grad)[0]


@RegisterGradient("SegmentSum")
def _segment_sum_grad(op, grad):
    return array_ops.gather(grad, op.inputs[1]), None


@RegisterGradient("SegmentMean")
def _segment_mean_grad(op, grad):
    data, ids = op.inputs
    ones = array_ops.ones(stack_ops.concat(
        [array_ops.shape(ids),
         array_ops.ones(stack_ops.expand_dims(array_ops.rank(data) - 1, 0), _dt.int32)], 0),
        dtype=grad.dtype)
    sizes = unsorted_segment_sum(ones, ids, _rows_of(grad))
    # an empty segment's 1/0 is never gathered
    return array_ops.gather(math_ops.divide(grad, sizes), ids), None


@RegisterGradient("SegmentMax")
def _segment_max_grad(op, grad):
    return _min_max_grad(op, grad, _rows_of(grad)), None


@RegisterGradient("SegmentMin")
def _segment_min_grad(op, grad):
    return _min_max_grad(op, grad, _rows_of(grad)), None


@RegisterGradient("SegmentProd")
def _segment_prod_grad(op, grad):
    return _prod_grad(op, grad, _rows_of(grad)), None
