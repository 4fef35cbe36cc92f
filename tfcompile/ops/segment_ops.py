"""Segment reductions with TF 1.15's names, op types, static shapes and errors:
tf.math.unsorted_segment_{sum,max,min,prod} (ops UnsortedSegment*), the
composites unsorted_segment_{mean,sqrt_n}, and tf.math.segment_{sum,mean,max,
min,prod} over sorted ids (ops Segment*); plus `install(tf)`, which attaches
these names and those of the sibling modules (unique_ops, partition_ops,
count_ops; gradients in segment_grad).

The IR has no scatter, so out[s, r] = reduce over n with ids[n] == s of
data[n, r] is a reduction of an [N, S, R] select (the reduction's identity
where ids[n] != s) fused into one kernel that stores only the [S, R] result:
N*S*R work, exact for every dtype, and an inf or NaN stays in its own segment
(a one-hot matmul would spread 0 * inf = NaN into every segment). Where that
is much more work than sorting the ids and scanning (many segments), the
reduction takes segment_scan's path instead.

Sizes: unsorted ops take num_segments when the graph is compiled (a constant,
or computed from constants and static shapes); any other num_segments is a
data-dependent size, as is the row count ids[-1] + 1 of the sorted ops with
ids known only at run time: the Session runs a probe for it first (see
LoweringContext.data_size). Checks TF makes at run time (ids in range,
sorted) are run checks that raise InvalidArgumentError after the run.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .manip_ops import _q
from .op_util import constant_value, make_tensor
from .registry import lowering

NUMERIC = (_dt.float32, _dt.float64, _dt.int32, _dt.uint8, _dt.int16, _dt.int8,
           _dt.int64, _dt.uint16, _dt.float16)
INDEX = (_dt.int32, _dt.int64)


def check_dtype(t, allowed, param):
    """TF's TypeError for an input whose dtype the op does not take."""
    if t.dtype.base_dtype not in allowed:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.name} "
                        f"not in list of allowed values: "
                        f"{', '.join(d.name for d in allowed)}")


def shape_error(kind, opname, op_type, shapes):
    """TF's ValueError of a failed shape function, with the input shapes."""
    return ValueError(f"{kind} for '{opname}' (op: '{op_type}') with input shapes: "
                      f"{', '.join(_q(s) for s in shapes)}.")


# ---------------------------------------------------------------- IR helpers

def _limits(dtype):
    d = np.dtype({"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64}[dtype])
    return np.finfo(d) if d.kind == "f" else np.iinfo(d)


def lowest(dtype):
    """The smallest finite value of an IR dtype (TF's identity of an empty max)."""
    return _limits(dtype).min


def highest(dtype):
    return _limits(dtype).max


def identity(kind, dtype):
    return {"sum": 0, "prod": 1, "max": lowest(dtype), "min": highest(dtype)}[kind]


def prod(dims):
    return int(np.prod(dims, dtype=np.int64))


def segment_hits(ctx, ids, n_seg, shape):
    """Bool of `shape` [N, S, ...]: ids[n] == s (ids [N], any integer dtype)."""
    idb = ctx.b.emit("broadcast", [ids], shape=list(shape), dims=[0])
    seg = ctx.b.emit("iota", [], shape=list(shape), dtype=ids.dtype, dim=1)
    return ctx.b.emit("eq", [idb, seg])


def segment_counts(ctx, ids, n_seg, dtype="i32"):
    """[S]: how many n have ids[n] == s."""
    n = ids.shape[0]
    if n == 0 or n_seg == 0:
        return ctx.scalar(0, dtype, (n_seg,))
    hit = ctx.convert(segment_hits(ctx, ids, n_seg, (n, n_seg)), dtype)
    return ctx.b.emit("reduce", [hit], kind="sum", axes=[0])


# Below this many element operations the fused select-reduce is always taken;
# above, segment_scan's path when its estimate is much lower.
SELECT_LIMIT = 1 << 22
FORCE_PATH = None      # "select" or "scan": overrides the choice (tests, benchmarks)


def _use_scan(n, n_seg, width, ids_sorted):
    from .segment_scan import scan_cost
    cost = scan_cost(n, n_seg, width, ids_sorted)
    if FORCE_PATH is not None or cost is None:
        return FORCE_PATH == "scan" and cost is not None
    work = n * n_seg * width
    # the select-reduce is one fused loop; the scan's steps are kernels of their own
    return work > SELECT_LIMIT and 4 * cost < work


def segment_reduce(ctx, data, ids, n_seg, kind, empty=None, ids_sorted=False):
    """out[s, ...] = the `kind` reduction (sum, prod, max, min) of the rows
    data[n, ...] with ids[n] == s, for data [N, ...] and ids [N]; ids outside
    [0, n_seg) take part nowhere. A segment without rows gets `empty`;
    without one, the unsorted ops' identity (finite for floats, as TF's
    lowest(): a max of -inf alone is then the lowest float there too).
    `ids_sorted`: the ids are known to be non-decreasing (no sort needed)."""
    n = ids.shape[0]
    rest = tuple(data.shape[1:])
    dt = data.dtype
    ident = identity(kind, dt)
    if empty is not None and dt in ("f32", "f64") and kind in ("max", "min"):
        ident = -np.inf if kind == "max" else np.inf   # the sorted ops: max(-inf) = -inf
    fill = ident if empty is None else empty
    r = prod(rest)
    if n == 0 or n_seg == 0 or r == 0:
        return ctx.scalar(fill, dt, (n_seg,) + rest)
    x = ctx.b.emit("reshape", [data], shape=[n, r])
    if _use_scan(n, n_seg, r, ids_sorted):
        from .segment_scan import scan_reduce
        out = scan_reduce(ctx, x, ids, n_seg, kind, ids_sorted, fill,
                          start=ident if empty is None else None)
        return ctx.b.emit("reshape", [out], shape=[n_seg, *rest])
    shape = (n, n_seg, r)
    sel = ctx.b.emit("select", [segment_hits(ctx, ids, n_seg, shape),
                                ctx.b.emit("broadcast", [x], shape=list(shape), dims=[0, 2]),
                                ctx.scalar(ident, dt, shape)])
    out = ctx.b.emit("reduce", [sel], kind=kind, axes=[0])
    if empty is not None and empty != ident:
        used = ctx.b.emit("reduce", [segment_hits(ctx, ids, n_seg, (n, n_seg))],
                          kind="or", axes=[0])
        used = ctx.b.emit("broadcast", [used], shape=[n_seg, r], dims=[0])
        out = ctx.b.emit("select", [used, out, ctx.scalar(empty, dt, (n_seg, r))])
    return ctx.b.emit("reshape", [out], shape=[n_seg, *rest])


def all_true(ctx, v):
    """Bool scalar: every element of the bool IR value v is true."""
    return ctx.b.emit("reduce", [v], kind="and", axes=list(range(v.type.rank)))


def check_each(ctx, op, bad, values, shape, message):
    """Fails the run where any element of the bool vector `bad` (a flattened
    tensor of `shape`) is true, with message(where, value) of the first one:
    `where` its index in `shape` as TF prints it ("2", "1,0"), `value` the
    element of the integer vector `values` there."""
    n = bad.shape[0]
    if n == 0:
        return
    b = ctx.b
    pos = b.emit("argmax", [ctx.convert(bad, "i32")], axis=0, dtype="i64")
    val = b.emit("reshape", [b.emit("gather", [values, b.emit("reshape", [pos], shape=[1])],
                                    axis=0)], shape=[])
    ok = b.emit("not", [b.emit("reduce", [bad], kind="or", axes=[0])])

    def text(d):
        where = ",".join(map(str, np.unravel_index(int(d[0]), shape))) if shape else ""
        return message(where, int(d[1]))
    ctx.add_run_check(op, ok, text, details=[pos, val])


def known_or_data_size(ctx, op, what, inputs, size_fn, values, k=0):
    """A data-dependent size: computed now when its inputs fold to constants,
    else learned by the Session's probe (LoweringContext.data_size)."""
    from ..lowering import _fold
    if all(v.type.size <= 4096 for v in values):
        got = _fold(size_fn(ctx, list(values)))
        if got is not None:   # the ops just emitted are dead code, removed by DCE
            return int(got)
    return ctx.data_size(op, what, inputs, size_fn, values, k)


def scalar_size(ctx, values):
    """size_fn: the value of an integer scalar, 0 if negative, as i64."""
    v = ctx.convert(ctx.b.emit("reshape", [values[0]], shape=[]), "i64")
    return ctx.b.emit("max", [v, ctx.scalar(0, "i64")])


def max_plus_one(ctx, values):
    """size_fn: 1 + the largest element of any of the integer values (0 if all
    are empty or negative), as i64: the rows of an output indexed by them."""
    best = ctx.scalar(0, "i64")
    for v in values:
        if v.type.size == 0:
            continue
        m = ctx.b.emit("reduce", [ctx.convert(v, "i64")], kind="max",
                       axes=list(range(v.type.rank)))
        best = ctx.b.emit("max", [best, ctx.b.emit("add", [m, ctx.scalar(1, "i64")])])
    return best


def count_argument(ctx, op, index, value, what):
    """The value of the integer scalar input `index` of op (num_segments, a
    bincount size): folded at compile time or found by a probe; a negative
    value found at run time raises after the run."""
    if value.type.rank != 0:
        ctx.fail(f"{what} should be a scalar, got shape {list(value.shape)}")
    from ..lowering import _fold
    v = _fold(value)
    if v is not None:
        if int(v) < 0:
            ctx.fail(f"{what} must be >= 0, got {int(v)}")
        return int(v)
    n = ctx.data_size(op, f"{op.name}'s {what}", [op.inputs[index]], scalar_size, [value])
    ctx.add_run_check(op, ctx.b.emit("ge", [value, ctx.scalar(0, value.dtype)]),
                      f"{what} must be >= 0")
    return n


# ---------------------------------------------------------------- unsorted segment ops

_UNSORTED = {"UnsortedSegmentSum": "sum", "UnsortedSegmentProd": "prod",
             "UnsortedSegmentMax": "max", "UnsortedSegmentMin": "min"}


def _unsorted(op_type, data, segment_ids, num_segments, name):
    with name_scope(name, op_type, [data, segment_ids, num_segments]) as scope:
        d = convert_to_tensor(data, name="data")
        ids = convert_to_tensor(segment_ids, name="segment_ids")
        ns = num_segments if isinstance(num_segments, Tensor) else convert_to_tensor(
            num_segments, dtype=_dt.int32, name="num_segments")
        check_dtype(d, NUMERIC, "data")
        check_dtype(ids, INDEX, "segment_ids")
        check_dtype(ns, INDEX, "num_segments")
        out = _unsorted_shape(d.shape, ids.shape, ns, scope[:-1], op_type)
        return make_tensor(op_type, [d, ids, ns], d.dtype, out,
                           {"T": d.dtype, "Tindices": ids.dtype, "Tnumsegments": ns.dtype},
                           name=scope)


def _unsorted_shape(ds, is_, ns, opname, op_type):
    """TF's shape function: data's shape starts with segment_ids' shape; the
    output is [num_segments] + the rest of data's shape."""
    shapes = (ds, is_, ns.shape)
    if ns.shape.ndims not in (None, 0):
        raise shape_error(f"Shape must be rank 0 but is rank {ns.shape.ndims}", opname,
                          op_type, shapes)
    nv = constant_value(ns)
    if nv is not None and int(nv) < 0:
        raise shape_error(f"Dimension size, given by scalar input 2, must be non-negative "
                          f"but is {int(nv)}", opname, op_type, shapes)
    if ds.ndims is None or is_.ndims is None:
        return TensorShape(None)
    if ds.ndims < is_.ndims:
        raise shape_error(f"Shape must be at least rank {is_.ndims} but is rank {ds.ndims}",
                          opname, op_type, shapes)
    for a, b in zip(ds.as_list(), is_.as_list()):
        if a is not None and b is not None and a != b:
            raise shape_error(f"Dimensions must be equal, but are {a} and {b}", opname,
                              op_type, shapes)
    first = None if nv is None else int(nv)
    return TensorShape([first] + ds.as_list()[is_.ndims:])


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """tf.math.unsorted_segment_sum: out[s] = sum of data[i...] with
    segment_ids[i...] == s; negative ids are dropped; empty segments are 0."""
    return _unsorted("UnsortedSegmentSum", data, segment_ids, num_segments, name)


def unsorted_segment_prod(data, segment_ids, num_segments, name=None):
    return _unsorted("UnsortedSegmentProd", data, segment_ids, num_segments, name)


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """Empty segments get the dtype's lowest value, as TF."""
    return _unsorted("UnsortedSegmentMax", data, segment_ids, num_segments, name)


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    return _unsorted("UnsortedSegmentMin", data, segment_ids, num_segments, name)


def _segment_sizes(data, segment_ids, num_segments):
    """How many elements each segment has, at least 1, shaped to broadcast
    against the segment sum (TF's helper of the mean and sqrt_n composites)."""
    from . import array_ops, math_ops, stack_ops
    ns = convert_to_tensor(num_segments)
    ones = array_ops.ones(array_ops.shape(segment_ids), dtype=data.dtype)
    n = unsorted_segment_sum(ones, segment_ids, ns)
    if data.shape.ndims is not None and segment_ids.shape.ndims is not None:
        # a Pack keeps a constant num_segments visible to shape inference
        shape = stack_ops.stack([ns] + [1] * (data.shape.ndims - segment_ids.shape.ndims))
    else:
        extra = array_ops.rank(data) - array_ops.rank(segment_ids)
        shape = stack_ops.concat(
            [stack_ops.expand_dims(ns, 0),
             array_ops.ones(stack_ops.expand_dims(extra, 0), dtype=ns.dtype)], axis=0)
    return math_ops.maximum(array_ops.reshape(n, shape), 1)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """tf.math.unsorted_segment_mean: the segment sums over the segment sizes
    (empty segments: 0); a composite, as TF's."""
    from . import math_ops
    with name_scope(name, "UnsortedSegmentMean"):
        d = convert_to_tensor(data)
        ids = convert_to_tensor(segment_ids)
        n = _segment_sizes(d, ids, num_segments)
        return math_ops.truediv(unsorted_segment_sum(d, ids, num_segments), n)


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """tf.math.unsorted_segment_sqrt_n: the segment sums over the square roots
    of the segment sizes (floats only, as TF's sqrt)."""
    from . import math_ops
    with name_scope(name, "UnsortedSegmentSqrtN"):
        d = convert_to_tensor(data)
        ids = convert_to_tensor(segment_ids)
        n = _segment_sizes(d, ids, num_segments)
        return math_ops.truediv(unsorted_segment_sum(d, ids, num_segments), math_ops.sqrt(n))


@lowering(*_UNSORTED)
def _lower_unsorted(ctx, op, inputs):
    data, ids, ns = inputs
    r = ids.type.rank
    if tuple(data.shape[:r]) != tuple(ids.shape):
        ctx.fail(f"data.shape = {list(data.shape)} does not start with segment_ids.shape "
                 f"= {list(ids.shape)}")
    n_seg = count_argument(ctx, op, 2, ns, "num_segments")
    n = prod(ids.shape)
    flat_ids = ctx.b.emit("reshape", [ids], shape=[n])
    # negative ids are dropped; ids past the end are an error in TF
    check_each(ctx, op, ctx.b.emit("ge", [flat_ids, ctx.scalar(n_seg, ids.dtype, (n,))]),
               flat_ids, ids.shape,
               lambda at, v: f"segment_ids[{at}] = {v} is out of range [0, {n_seg})")
    flat = ctx.b.emit("reshape", [data], shape=[n, *data.shape[r:]])
    return [segment_reduce(ctx, flat, flat_ids, n_seg, _UNSORTED[op.type])]


# ---------------------------------------------------------------- sorted segment ops

_SORTED = {"SegmentSum": "sum", "SegmentProd": "prod", "SegmentMax": "max",
           "SegmentMin": "min", "SegmentMean": "mean"}


def _sorted(op_type, data, segment_ids, name):
    with name_scope(name, op_type, [data, segment_ids]) as scope:
        d = convert_to_tensor(data, name="data")
        ids = convert_to_tensor(segment_ids, name="segment_ids")
        check_dtype(d, NUMERIC, "data")
        check_dtype(ids, INDEX, "segment_ids")
        shapes = (d.shape, ids.shape)
        if d.shape.ndims == 0:
            raise shape_error("Shape must be at least rank 1 but is rank 0", scope[:-1],
                              op_type, shapes)
        if ids.shape.ndims not in (None, 1):
            raise shape_error(f"Shape must be rank 1 but is rank {ids.shape.ndims}",
                              scope[:-1], op_type, shapes)
        # the row count is ids[-1] + 1: unknown to shape inference even for constants
        out = TensorShape(None) if d.shape.ndims is None else TensorShape(
            [None] + d.shape.as_list()[1:])
        return make_tensor(op_type, [d, ids], d.dtype, out,
                           {"T": d.dtype, "Tindices": ids.dtype}, name=scope)


def segment_sum(data, segment_ids, name=None):
    """tf.math.segment_sum over sorted ids: out has ids[-1] + 1 rows; rows
    whose id does not occur are 0."""
    return _sorted("SegmentSum", data, segment_ids, name)


def segment_mean(data, segment_ids, name=None):
    """Integer means divide with truncation, as TF's kernel."""
    return _sorted("SegmentMean", data, segment_ids, name)


def segment_max(data, segment_ids, name=None):
    """Rows whose id does not occur are 0 (not the lowest value, unlike the unsorted op)."""
    return _sorted("SegmentMax", data, segment_ids, name)


def segment_min(data, segment_ids, name=None):
    return _sorted("SegmentMin", data, segment_ids, name)


def segment_prod(data, segment_ids, name=None):
    """Rows whose id does not occur are 1."""
    return _sorted("SegmentProd", data, segment_ids, name)


@lowering(*_SORTED)
def _lower_sorted(ctx, op, inputs):
    data, ids = inputs
    if ids.type.rank != 1:
        ctx.fail(f"segment_ids should be a vector, got shape {list(ids.shape)}")
    if data.type.rank < 1:
        ctx.fail("input must be at least rank 1")
    n = ids.shape[0]
    if data.shape[0] != n:
        ctx.fail(f"segment_ids should be the same size as dimension 0 of input: "
                 f"{n} ids for {data.shape[0]} rows")
    n_seg = known_or_data_size(ctx, op, f"{op.name}'s row count (segment_ids[-1] + 1)",
                               [op.inputs[1]], max_plus_one, [ids])
    check_each(ctx, op, ctx.b.emit("lt", [ids, ctx.scalar(0, ids.dtype, (n,))]), ids, (n,),
               lambda at, v: (f"Segment id {v} out of range [0, {n_seg}), possibly because "
                              "'segment_ids' input is not sorted." if n_seg else
                              "segment ids must be >= 0"))
    if n > 1:
        a = ctx.b.emit("slice", [ids], start=[0], limit=[n - 1], stride=[1])
        b = ctx.b.emit("slice", [ids], start=[1], limit=[n], stride=[1])
        ctx.add_run_check(op, all_true(ctx, ctx.b.emit("le", [a, b])),
                          "segment ids are not increasing")
    kind = _SORTED[op.type]
    if kind != "mean":
        return [segment_reduce(ctx, data, ids, n_seg, kind, empty=1 if kind == "prod" else 0,
                               ids_sorted=True)]
    total = segment_reduce(ctx, data, ids, n_seg, "sum", empty=0, ids_sorted=True)
    cnt = segment_reduce(ctx, ctx.scalar(1, data.dtype, (n, 1)), ids, n_seg, "sum", empty=0,
                         ids_sorted=True)
    cnt = ctx.b.emit("max", [ctx.b.emit("reshape", [cnt], shape=[n_seg]),
                             ctx.scalar(1, data.dtype, (n_seg,))])
    cnt = ctx.b.emit("broadcast", [cnt], shape=list(total.shape), dims=[0])
    return [ctx.b.emit("div", [total, cnt])]


# ---------------------------------------------------------------- install

def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    from . import count_ops, partition_ops, segment_grad, unique_ops  # noqa: F401
    names = {
        "unsorted_segment_sum": unsorted_segment_sum,
        "unsorted_segment_prod": unsorted_segment_prod,
        "unsorted_segment_max": unsorted_segment_max,
        "unsorted_segment_min": unsorted_segment_min,
        "unsorted_segment_mean": unsorted_segment_mean,
        "unsorted_segment_sqrt_n": unsorted_segment_sqrt_n,
        "segment_sum": segment_sum, "segment_mean": segment_mean,
        "segment_max": segment_max, "segment_min": segment_min,
        "segment_prod": segment_prod,
        "bincount": count_ops.bincount,
        "confusion_matrix": count_ops.confusion_matrix,
    }
    for k, v in names.items():
        setattr(tf, k, v)
        setattr(tf.math, k, v)
    for k, v in {"unique": unique_ops.unique,
                 "unique_with_counts": unique_ops.unique_with_counts,
                 "setdiff1d": unique_ops.setdiff1d, "listdiff": unique_ops.listdiff,
                 "dynamic_partition": partition_ops.dynamic_partition,
                 "dynamic_stitch": partition_ops.dynamic_stitch,
                 "parallel_dynamic_stitch": partition_ops.parallel_dynamic_stitch}.items():
        setattr(tf, k, v)
