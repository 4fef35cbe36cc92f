"""tf.unique, tf.unique_with_counts and tf.setdiff1d (tf.listdiff), with TF
1.15's op types (Unique, UniqueWithCounts, ListDiff), named-tuple results,
dtypes and static shapes.

Their result lengths depend on the data (see LoweringContext.data_size). The
IR has no hash table or sort, so equality comes from an [n, n] (or [n, m])
comparison reduced in one fused kernel: x[i] is a first occurrence when no
x[j] with j < i equals it; unique's y keeps first occurrences in their order
(TF's), and idx[i] is the position in y of x[i]'s first occurrence. NaN
equals nothing, so every NaN is a value of its own, as in TF's hash map.
"""
from __future__ import annotations

import collections

from .. import dtypes as _dt
from ..graph import name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .op_util import make_op
from .registry import lowering
from .segment_ops import known_or_data_size, segment_counts, shape_error
from .sort_ops import scan_ir

Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])
ListDiff = collections.namedtuple("ListDiff", ["out", "idx"])


def _out_idx(dtype):
    d = _dt.as_dtype(dtype)
    if d not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter 'out_idx' has DataType {d.name} not in "
                        "list of allowed values: int32, int64")
    return d


def _vector(t, opname, op_type, shapes):
    if t.shape.ndims not in (None, 1):
        raise shape_error(f"Shape must be rank 1 but is rank {t.shape.ndims}", opname,
                          op_type, shapes)


def _unique(op_type, x, out_idx, name):
    with name_scope(name, op_type, [x]) as scope:
        x = convert_to_tensor(x, name="x")
        idx_dt = _out_idx(out_idx)
        _vector(x, scope[:-1], op_type, [x.shape])
        n = x.shape[0].value if x.shape.ndims == 1 else None
        outs = [(x.dtype, TensorShape([None])), (idx_dt, TensorShape([n]))]
        if op_type == "UniqueWithCounts":
            outs.append((idx_dt, TensorShape([None])))
        return make_op(op_type, [x], {"T": x.dtype, "out_idx": idx_dt}, outs,
                       name=scope).outputs


def unique(x, out_idx=_dt.int32, name=None):
    """tf.unique: (y, idx) with y the distinct values of the vector x in order
    of first occurrence and x == y[idx]."""
    return Unique(*_unique("Unique", x, out_idx, name))


def unique_with_counts(x, out_idx=_dt.int32, name=None):
    """tf.unique_with_counts: unique's (y, idx) and count[k], the occurrences of y[k]."""
    return UniqueWithCounts(*_unique("UniqueWithCounts", x, out_idx, name))


def setdiff1d(x, y, index_dtype=_dt.int32, name=None):
    """tf.setdiff1d: (out, idx): the elements of the vector x that are not in y,
    in x's order with repeats kept, and their positions in x (op ListDiff)."""
    with name_scope(name, "ListDiff", [x, y]) as scope:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype=x.dtype, name="y")
        idx_dt = _out_idx(index_dtype)
        for t in (x, y):
            _vector(t, scope[:-1], "ListDiff", [x.shape, y.shape])
        op = make_op("ListDiff", [x, y], {"T": x.dtype, "out_idx": idx_dt},
                     [(x.dtype, TensorShape([None])), (idx_dt, TensorShape([None]))],
                     name=scope)
        return ListDiff(*op.outputs)


def listdiff(x, y, out_idx=_dt.int32, name=None):
    """tf.listdiff: setdiff1d under its older name."""
    return setdiff1d(x, y, out_idx, name)


# ---------------------------------------------------------------- IR helpers

def _pairs(ctx, a, b):
    """[n, m] bool: a[i] == b[j]."""
    n, m = a.shape[0], b.shape[0]
    ai = ctx.b.emit("broadcast", [a], shape=[n, m], dims=[0])
    bj = ctx.b.emit("broadcast", [b], shape=[n, m], dims=[1])
    return ctx.b.emit("eq", [ai, bj])


def first_occurrences(ctx, x):
    """[n] bool: no x[j] with j < i equals x[i]."""
    n = x.shape[0]
    earlier = ctx.b.emit("lt", [ctx.b.emit("iota", [], shape=[n, n], dtype="i32", dim=1),
                                ctx.b.emit("iota", [], shape=[n, n], dtype="i32", dim=0)])
    seen = ctx.b.emit("reduce", [ctx.b.emit("and", [_pairs(ctx, x, x), earlier])],
                      kind="or", axes=[1])
    return ctx.b.emit("not", [seen])


def _count_distinct(ctx, values):
    from ..lowering import count_true
    x = values[0]
    if x.shape[0] == 0:
        return ctx.scalar(0, "i64")
    return count_true(ctx, first_occurrences(ctx, x))


def _not_in(ctx, x, y):
    """[n] bool: x[i] equals no element of y."""
    if y.shape[0] == 0:
        return ctx.scalar(True, "bool", x.shape)
    found = ctx.b.emit("reduce", [_pairs(ctx, x, y)], kind="or", axes=[1])
    return ctx.b.emit("not", [found])


def _count_not_in(ctx, values):
    from ..lowering import count_true
    x, y = values
    if x.shape[0] == 0:
        return ctx.scalar(0, "i64")
    return count_true(ctx, _not_in(ctx, x, y))


def rows_where(ctx, mask, count):
    """The positions (i64 [count]) of the true elements of the bool vector mask."""
    if count > mask.shape[0]:
        ctx.fail(f"{count} true elements in a vector of {mask.shape[0]}")
    if count == 0:
        return ctx.scalar(0, "i64", (0,))
    return ctx.b.emit("reshape", [ctx.b.emit("argwhere", [mask], count=count)],
                      shape=[count])


@lowering("Unique", "UniqueWithCounts")
def _lower_unique(ctx, op, inputs):
    (x,) = inputs
    if x.type.rank != 1:
        ctx.fail(f"unique expects a 1D vector, got shape {list(x.shape)}")
    n = x.shape[0]
    idx_dt = op.attrs["out_idx"].ir
    m = known_or_data_size(ctx, op, f"{op.name}'s number of distinct values",
                           [op.inputs[0]], _count_distinct, [x])
    if n == 0 or m == 0:
        outs = [ctx.scalar(0, x.dtype, (0,)), ctx.scalar(0, idx_dt, (n,))]
        if op.type == "UniqueWithCounts":
            outs.append(ctx.scalar(0, idx_dt, (0,)))
        return outs
    first = first_occurrences(ctx, x)
    # slot[i]: y's index of x[i] when x[i] is a first occurrence (the count before it)
    slot = scan_ir(ctx, ctx.convert(first, "i32"), 0, "sum", exclusive=True)
    # the first j equal to x[i], or i itself (NaN equals nothing, itself included)
    same = ctx.b.emit("or", [_pairs(ctx, x, x), ctx.b.emit(
        "eq", [ctx.b.emit("iota", [], shape=[n, n], dtype="i32", dim=0),
               ctx.b.emit("iota", [], shape=[n, n], dtype="i32", dim=1)])])
    origin = ctx.b.emit("argmax", [ctx.convert(same, "i32")], axis=1, dtype="i32")
    idx = ctx.b.emit("gather", [slot, origin], axis=0)
    pos = ctx.b.emit("reshape", [rows_where(ctx, first, m)], shape=[m])
    outs = [ctx.b.emit("gather", [x, pos], axis=0), ctx.convert(idx, idx_dt)]
    if op.type == "UniqueWithCounts":
        outs.append(segment_counts(ctx, idx, m, idx_dt))
    return outs


@lowering("ListDiff")
def _lower_list_diff(ctx, op, inputs):
    x, y = inputs
    for v, what in ((x, "x"), (y, "y")):
        if v.type.rank != 1:
            ctx.fail(f"{what} should be a 1D vector, got shape {list(v.shape)}")
    k = known_or_data_size(ctx, op, f"{op.name}'s number of elements of x not in y",
                           list(op.inputs), _count_not_in, [x, y])
    pos = rows_where(ctx, _not_in(ctx, x, y) if x.shape[0] else
                     ctx.scalar(True, "bool", (0,)), k)
    return [ctx.b.emit("gather", [x, pos], axis=0),
            ctx.convert(pos, op.attrs["out_idx"].ir)]
