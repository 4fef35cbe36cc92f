"""tf.bincount (tf.math.bincount) and tf.confusion_matrix
(tf.math.confusion_matrix) with TF 1.15's arguments, dtypes and static shapes.

Both are segment sums of weights (or ones) over the values (segment_ops'
fused select-reduce). bincount's length is computed in the graph as TF does
(max(arr) + 1, 0 for an empty arr, then bounded by minlength and maxlength)
and feeds op Bincount as its `size`: known when compiled, or probed by the
Session. confusion_matrix is one op, named as TF 1.15's result tensor
(confusion_matrix/SparseTensorDenseAdd); without num_classes its size,
max(labels, predictions) + 1, is probed likewise. The checks TF makes with
assertions (labels and predictions non-negative and below num_classes) raise
InvalidArgumentError: at graph build for constants, else after the run."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..errors import InvalidArgumentError
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import constant, convert_to_tensor
from .op_util import constant_value, make_tensor
from .registry import RegisterGradient, lowering
from .segment_ops import (all_true, check_dtype, count_argument, known_or_data_size,
                          max_plus_one, segment_reduce)

_WEIGHTS = (_dt.int32, _dt.int64, _dt.float32, _dt.float64)



# ---------------------------------------------------------------- bincount

def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=_dt.int32, name=None):
    """tf.math.bincount: out[v] = the number (or the summed weights) of the
    elements of arr equal to v, for v < max(arr) + 1 (at least minlength, at
    most maxlength: larger values are skipped). The result's dtype is
    weights' when given, else `dtype`."""
    with name_scope(name, "bincount", [arr, weights, minlength, maxlength]):
        from . import array_ops, math_ops
        a = convert_to_tensor(arr, name="arr", dtype=_dt.int32)
        lo = None if minlength is None else convert_to_tensor(
            minlength, name="minlength", dtype=_dt.int32)
        hi = None if maxlength is None else convert_to_tensor(
            maxlength, name="maxlength", dtype=_dt.int32)
        lo_v = None if lo is None else constant_value(lo)
        hi_v = None if hi is None else constant_value(hi)
        if lo_v is not None and hi_v is not None and int(lo_v) >= int(hi_v):
            size = hi   # the bounds fix the length: nothing to learn from the data
        else:
            nonempty = math_ops.greater(math_ops.reduce_prod(array_ops.shape(a)), 0)
            size = math_ops.cast(nonempty, _dt.int32) * (math_ops.reduce_max(a) + 1)
            if lo is not None:
                size = math_ops.maximum(lo, size)
            if hi is not None:
                size = math_ops.minimum(hi, size)
        if weights is not None:
            w = convert_to_tensor(weights, name="weights")
            check_dtype(w, _WEIGHTS, "weights")
            if not w.shape.is_compatible_with(a.shape):
                raise ValueError(f"bincount: weights must have arr's shape, got weights "
                                 f"{w.shape} and arr {a.shape}")
        else:
            d = _dt.as_dtype(dtype)
            if d not in _WEIGHTS:
                raise TypeError(f"Value passed to parameter 'weights' has DataType {d.name} "
                                "not in list of allowed values: int32, int64, float32, "
                                "float64")
            w = constant([], d)
        # as TF's shape inference: the length is static only when `size` folds by itself
        n = constant_value(size) if size is not hi else None
        return make_tensor("Bincount", [a, size, w], w.dtype,
                           TensorShape([None if n is None else int(n)]), {"T": w.dtype},
                           name="Bincount")


@lowering("Bincount")
def _lower_bincount(ctx, op, inputs):
    arr, size, w = inputs
    n = count_argument(ctx, op, 1, size, "size")
    total = arr.type.size
    flat = ctx.b.emit("reshape", [arr], shape=[total])
    if w.type.size == 0:
        w = ctx.scalar(1, w.dtype, (total,))
    elif tuple(w.shape) != tuple(arr.shape):
        ctx.fail(f"weights and arr must have the same shape, got weights {list(w.shape)} "
                 f"and arr {list(arr.shape)}")
    if total:
        ok = ctx.b.emit("ge", [flat, ctx.scalar(0, flat.dtype, (total,))])
        ctx.add_run_check(op, all_true(ctx, ok), "Input arr must be non-negative!")
    rows = ctx.b.emit("reshape", [w], shape=[total, 1])
    # values >= n match no row: skipped, as TF's maxlength says
    out = segment_reduce(ctx, rows, flat, n, "sum")
    return [ctx.b.emit("reshape", [out], shape=[n])]


@RegisterGradient("Bincount")
def _bincount_grad(op, grad):
    """Weight i's gradient is grad[arr[i]] (0 for a value past the end), as
    TF 1.15's weighted bincount, an unsorted_segment_sum, has."""
    from . import array_ops, math_ops
    from .stack_ops import concat
    arr, _, w = op.inputs
    if w.shape.num_elements() == 0:
        return [None, None, None]
    # values past the end read an appended zero row (a gather checks its indices)
    n = array_ops.shape(grad)[0]
    inside = math_ops.logical_and(math_ops.greater_equal(arr, 0), math_ops.less(arr, n))
    rows = array_ops.where_v2(inside, arr, array_ops.zeros_like(arr) + n)
    padded = concat([grad, array_ops.zeros([1], dtype=grad.dtype)], 0)
    return [None, None, array_ops.gather(padded, rows)]


# ---------------------------------------------------------------- confusion_matrix

def _squeeze_last(labels, predictions):
    """TF's remove_squeezable_dimensions: a trailing dim of 1 on the one with
    rank one higher than the other is squeezed (static ranks only)."""
    from .stack_ops import squeeze
    lr, pr = labels.shape.ndims, predictions.shape.ndims
    if lr is None or pr is None:
        return labels, predictions
    if pr - lr == 1 and predictions.shape[-1].is_compatible_with(1):
        predictions = squeeze(predictions, [-1])
    elif pr - lr == -1 and labels.shape[-1].is_compatible_with(1):
        labels = squeeze(labels, [-1])
    return labels, predictions


def _static_check(t, what, bound):
    v = constant_value(t)
    if v is None:
        return
    if (np.asarray(v) < 0).any():
        raise InvalidArgumentError(None, None, f"`{what}` contains negative values")
    if bound is not None and (np.asarray(v) >= bound).any():
        raise InvalidArgumentError(None, None, f"`{what}` out of bound")


def confusion_matrix(labels, predictions, num_classes=None, dtype=_dt.int32, name=None,
                     weights=None):
    """tf.confusion_matrix: out[i, j] = the number (or the summed weights) of
    the positions with label i and prediction j; num_classes x num_classes,
    where num_classes defaults to max(labels, predictions) + 1."""
    from . import math_ops
    with name_scope(name, "confusion_matrix",
                    [predictions, labels, num_classes, weights]):
        lab, pred = _squeeze_last(convert_to_tensor(labels, name="labels"),
                                  convert_to_tensor(predictions, name="predictions"))
        pred = math_ops.cast(pred, _dt.int64)
        lab = math_ops.cast(lab, _dt.int64)
        for t in (lab, pred):
            if t.shape.ndims not in (None, 1):
                raise ValueError(f"confusion_matrix: labels and predictions must be vectors, "
                                 f"got shapes {lab.shape} and {pred.shape}")
        if not lab.shape.is_compatible_with(pred.shape):
            raise ValueError(f"Shapes {lab.shape} and {pred.shape} are incompatible")
        inputs = [lab, pred]
        n = None
        if num_classes is not None:
            nc = math_ops.cast(num_classes if isinstance(num_classes, Tensor) else
                               convert_to_tensor(num_classes, name="num_classes"), _dt.int64)
            v = constant_value(nc)
            n = None if v is None else int(v)
        _static_check(lab, "labels", n)
        _static_check(pred, "predictions", n)
        d = _dt.as_dtype(dtype)
        if d not in _WEIGHTS:
            raise TypeError(f"confusion_matrix: dtype must be one of int32, int64, float32, "
                            f"float64, got {d.name}")
        if weights is not None:
            w = convert_to_tensor(weights, name="weights")
            pred.shape.assert_is_compatible_with(w.shape)
            w = math_ops.cast(w, d)
        else:
            w = constant([], d)
        inputs.append(w)
        if num_classes is not None:
            inputs.append(nc)
        known = num_classes is not None
        return make_tensor("ConfusionMatrix", inputs, d, TensorShape([n, n]),
                           {"T": d, "has_num_classes": known},
                           name="SparseTensorDenseAdd")


@lowering("ConfusionMatrix")
def _lower_confusion_matrix(ctx, op, inputs):
    lab, pred, w = inputs[:3]
    if lab.shape != pred.shape or lab.type.rank != 1:
        ctx.fail(f"labels and predictions must be vectors of one length, got shapes "
                 f"{list(lab.shape)} and {list(pred.shape)}")
    total = lab.shape[0]
    if w.type.size == 0:
        w = ctx.scalar(1, w.dtype, (total,))
    elif w.shape != lab.shape:
        ctx.fail(f"weights must have the shape of predictions, got {list(w.shape)} and "
                 f"{list(pred.shape)}")
    if op.attrs["has_num_classes"]:
        n = count_argument(ctx, op, 3, inputs[3], "num_classes")
    else:
        n = known_or_data_size(ctx, op, f"{op.name}'s size (max(labels, predictions) + 1)",
                               list(op.inputs[:2]), max_plus_one, [lab, pred])
    if total:
        for v, what in ((lab, "labels"), (pred, "predictions")):
            ctx.add_run_check(op, all_true(ctx, ctx.b.emit(
                "ge", [v, ctx.scalar(0, "i64", (total,))])), f"`{what}` contains negative values")
            ctx.add_run_check(op, all_true(ctx, ctx.b.emit(
                "lt", [v, ctx.scalar(n, "i64", (total,))])), f"`{what}` out of bound")
    cell = ctx.b.emit("add", [ctx.b.emit("mul", [lab, ctx.scalar(n, "i64", (total,))]), pred])
    rows = ctx.b.emit("reshape", [w], shape=[total, 1])
    out = segment_reduce(ctx, rows, cell, n * n, "sum")
    return [ctx.b.emit("reshape", [out], shape=[n, n])]


@RegisterGradient("ConfusionMatrix")
def _confusion_matrix_grad(op, grad):
    """Weight i's gradient is grad[labels[i], predictions[i]] (TF 1.15's
    SparseTensorDenseAdd gives its values that)."""
    from .index_ops import gather_nd
    from .stack_ops import stack
    lab, pred, w = op.inputs[:3]
    g = None
    if w.shape.num_elements() != 0:
        g = gather_nd(grad, stack([lab, pred], axis=1))
    return [None, None, g] + [None] * (len(op.inputs) - 3)

