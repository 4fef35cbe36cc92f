"""tf.dynamic_partition, tf.dynamic_stitch and tf.parallel_dynamic_stitch
with TF 1.15's op types, shapes, errors and gradients.

Partition p's row count is data-dependent: one size per partition (k = p),
each probed by the Session when the partitions are known only at run time;
its rows come from the IR's argwhere and a gather. The stitched output has
max(indices) + 1 rows (probed likewise unless the indices are constants);
row s is the data row of the last index equal to s (TF's order for
duplicates), found by a max over an [S, M] select; rows no index names are 0.

DynamicPartition's gradient is one op, DynamicPartitionGrad, that routes the
gradient of each partition's row r back to the position of the r-th row of
that partition (a running count), with no size to probe; its own gradient
partitions the incoming gradient again."""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .op_util import constant_value, make_op, make_tensor
from .registry import RegisterGradient, lowering
from .segment_ops import check_each, known_or_data_size, max_plus_one, prod, shape_error
from .sort_ops import scan_ir
from .unique_ops import rows_where


def _prefix_rest(data_shape, prefix_shape, opname, op_type, shapes):
    """data's dims after `prefix_shape` (TF's merge of the prefix), or None if unknown."""
    if data_shape.ndims is None or prefix_shape.ndims is None:
        return None
    if data_shape.ndims < prefix_shape.ndims:
        raise shape_error(f"Shape must be at least rank {prefix_shape.ndims} but is rank "
                          f"{data_shape.ndims}", opname, op_type, shapes)
    for a, b in zip(data_shape.as_list(), prefix_shape.as_list()):
        if a is not None and b is not None and a != b:
            raise shape_error(f"Dimensions must be equal, but are {b} and {a}", opname,
                              op_type, shapes)
    return data_shape.as_list()[prefix_shape.ndims:]


# ---------------------------------------------------------------- dynamic_partition

def dynamic_partition(data, partitions, num_partitions, name=None):
    """tf.dynamic_partition: output p holds the slices data[i...] with
    partitions[i...] == p, in order (a list of num_partitions tensors)."""
    with name_scope(name, "DynamicPartition", [data, partitions]) as scope:
        d = convert_to_tensor(data, name="data")
        p = convert_to_tensor(partitions, name="partitions")
        if p.dtype != _dt.int32:
            raise TypeError(f"Input 'partitions' of 'DynamicPartition' Op has type "
                            f"{p.dtype.name} that does not match expected type of int32.")
        num = int(num_partitions)
        if num < 1:
            raise ValueError(f"Attr 'num_partitions' of 'DynamicPartition' Op passed {num} "
                             "less than minimum 1.")
        rest = _prefix_rest(d.shape, p.shape, scope[:-1], "DynamicPartition",
                            [d.shape, p.shape])
        out = TensorShape(None) if rest is None else TensorShape([None] + rest)
        op = make_op("DynamicPartition", [d, p], {"T": d.dtype, "num_partitions": num},
                     [(d.dtype, out)] * num, name=scope)
        return list(op.outputs)


def _counter(p):
    def size_fn(ctx, values):
        from ..lowering import count_true
        v = values[0]
        if v.type.size == 0:
            return ctx.scalar(0, "i64")
        return count_true(ctx, ctx.b.emit("eq", [v, ctx.scalar(p, v.dtype, v.shape)]))
    return size_fn


def _flat_partitions(ctx, op, data, parts, num):
    """partitions flattened to [N] and data to [N, rest...], with the range checked."""
    r = parts.type.rank
    if tuple(data.shape[:r]) != tuple(parts.shape):
        ctx.fail(f"data.shape must start with partitions.shape, got data.shape = "
                 f"{list(data.shape)}, partitions.shape = {list(parts.shape)}")
    n = prod(parts.shape)
    flat = ctx.b.emit("reshape", [parts], shape=[n])
    bad = ctx.b.emit("or", [ctx.b.emit("lt", [flat, ctx.scalar(0, "i32", (n,))]),
                            ctx.b.emit("ge", [flat, ctx.scalar(num, "i32", (n,))])])
    check_each(ctx, op, bad, flat, parts.shape,
               lambda at, v: f"partitions[{at}] = {v} is not in [0, {num})")
    return flat, ctx.b.emit("reshape", [data], shape=[n, *data.shape[r:]])


@lowering("DynamicPartition")
def _lower_dynamic_partition(ctx, op, inputs):
    data, parts = inputs
    num = op.attrs["num_partitions"]
    flat_p, flat = _flat_partitions(ctx, op, data, parts, num)
    outs = []
    for p in range(num):
        k = known_or_data_size(ctx, op, f"{op.name}'s partition {p}", [op.inputs[1]],
                               _counter(p), [parts], k=p)
        mask = ctx.b.emit("eq", [flat_p, ctx.scalar(p, "i32", flat_p.shape)])
        outs.append(ctx.b.emit("gather", [flat, rows_where(ctx, mask, k)], axis=0))
    return outs


def _dynamic_partition_grad(partitions, grads, like, name=None):
    return make_tensor("DynamicPartitionGrad", [partitions] + list(grads), grads[0].dtype,
                       like.shape, {"T": grads[0].dtype, "num_partitions": len(grads)},
                       name=name, default_name="DynamicPartitionGrad")


@RegisterGradient("DynamicPartition")
def _dynamic_partition_grads(op, *grads):
    if any(g is None for g in grads):   # data of a dtype without gradients
        return [None, None]
    return [_dynamic_partition_grad(op.inputs[1], grads, op.inputs[0]), None]


@lowering("DynamicPartitionGrad")
def _lower_dynamic_partition_grad(ctx, op, inputs):
    from ..lowering import count_true
    parts, grads = inputs[0], inputs[1:]
    rest = tuple(grads[0].shape[1:])
    for p, g in enumerate(grads):
        if tuple(g.shape[1:]) != rest:
            ctx.fail(f"the gradients of the partitions differ in shape: {list(g.shape)} "
                     f"(partition {p}) and {list(grads[0].shape)}")
    n = prod(parts.shape)
    width = prod(rest)
    flat_p = ctx.b.emit("reshape", [parts], shape=[n])
    out = ctx.scalar(0, grads[0].dtype, (n, width))
    for p, g in enumerate(grads):
        mine = ctx.b.emit("eq", [flat_p, ctx.scalar(p, "i32", (n,))])
        ctx.add_run_check(op, ctx.b.emit("eq", [count_true(ctx, mine) if n else
                                                ctx.scalar(0, "i64"),
                                                ctx.scalar(g.shape[0], "i64")]),
                          f"the gradient of partition {p} has {g.shape[0]} rows, not one per "
                          "element of that partition")
        if g.shape[0] == 0 or n == 0:
            continue
        # row i of the data is row (the number of earlier rows of partition p) of its output
        row = scan_ir(ctx, ctx.convert(mine, "i32"), 0, "sum", exclusive=True)
        rows = ctx.b.emit("gather", [ctx.b.emit("reshape", [g], shape=[g.shape[0], width]),
                                     row], axis=0)
        out = ctx.b.emit("select", [ctx.b.emit("broadcast", [mine], shape=[n, width],
                                               dims=[0]), rows, out])
    return [ctx.b.emit("reshape", [out], shape=[*parts.shape, *rest])]


@RegisterGradient("DynamicPartitionGrad")
def _dynamic_partition_grad_grad(op, grad):
    num = op.attrs["num_partitions"]
    return [None] + dynamic_partition(grad, op.inputs[0], num)


# ---------------------------------------------------------------- dynamic_stitch

def _stitch(op_type, indices, data, name):
    with name_scope(name, op_type, list(indices) + list(data)) as scope:
        if len(indices) != len(data):
            raise ValueError(f"List argument 'data' to '{op_type}' Op with length {len(data)} "
                             f"must match length {len(indices)} of argument 'indices'.")
        if not indices:
            raise ValueError(f"List argument 'indices' to '{op_type}' Op with length 0 "
                             "shorter than minimum length 1.")
        idx = [convert_to_tensor(t, dtype=_dt.int32, name=f"indices_{i}")
               if not isinstance(t, Tensor) else t for i, t in enumerate(indices)]
        for t in idx:
            if t.dtype != _dt.int32:
                raise TypeError(f"Tensors in list passed to 'indices' of '{op_type}' Op have "
                                f"type {t.dtype.name} that does not match expected type of "
                                "int32.")
        dat = [t if isinstance(t, Tensor) else convert_to_tensor(t, name=f"data_{i}")
               for i, t in enumerate(data)]
        types = [t.dtype for t in dat]
        if any(d != types[0] for d in types):
            raise TypeError(f"Tensors in list passed to 'data' of '{op_type}' Op have types "
                            f"[{', '.join(d.name for d in types)}] that don't all match.")
        shapes = [t.shape for t in idx + dat]
        rest = None
        for i, d in zip(idx, dat):
            r = _prefix_rest(d.shape, i.shape, scope[:-1], op_type, shapes)
            if r is None:
                continue
            if rest is not None and not TensorShape(rest).is_compatible_with(TensorShape(r)):
                raise shape_error(f"Shapes of data differ after the indices' dims: {rest} "
                                  f"and {r}", scope[:-1], op_type, shapes)
            rest = r if rest is None else TensorShape(rest).merge_with(TensorShape(r)).as_list()
        values = [constant_value(i) for i in idx]
        rows = None
        if all(v is not None for v in values):
            rows = max([int(v.max()) + 1 for v in values if v.size] + [0])
        out = TensorShape(None) if rest is None else TensorShape([rows] + list(rest))
        return make_tensor(op_type, idx + dat, types[0], out, {"N": len(idx), "T": types[0]},
                           name=scope)


def dynamic_stitch(indices, data, name=None):
    """tf.dynamic_stitch: merged[indices[m][i...]] = data[m][i...]; where
    indices repeat, the last (m, i) in order wins."""
    return _stitch("DynamicStitch", indices, data, name)


def parallel_dynamic_stitch(indices, data, name=None):
    """tf.parallel_dynamic_stitch: as dynamic_stitch (repeats: here too the last wins)."""
    return _stitch("ParallelDynamicStitch", indices, data, name)


@lowering("DynamicStitch", "ParallelDynamicStitch")
def _lower_dynamic_stitch(ctx, op, inputs):
    n = len(inputs) // 2
    idx, dat = inputs[:n], inputs[n:]
    rest = None
    flat_idx, flat_rows = [], []
    for i, (a, d) in enumerate(zip(idx, dat)):
        r = a.type.rank
        if tuple(d.shape[:r]) != tuple(a.shape) or (rest is not None and
                                                    tuple(d.shape[r:]) != rest):
            ctx.fail(f"data[{i}].shape = {list(d.shape)} does not start with indices[{i}]"
                     f".shape = {list(a.shape)}, or the rest of it differs from data[0]'s")
        rest = tuple(d.shape[r:])
        m = prod(a.shape)
        flat_idx.append(ctx.b.emit("reshape", [a], shape=[m]))
        flat_rows.append(ctx.b.emit("reshape", [d], shape=[m, prod(rest)]))
    rows = known_or_data_size(ctx, op, f"{op.name}'s row count (max(indices) + 1)",
                              list(op.inputs[:n]), max_plus_one, list(idx))
    all_idx = ctx.b.emit("concatenate", flat_idx, axis=0)
    total = all_idx.shape[0]
    dt = dat[0].dtype
    sizes = [a.type.size for a in idx]

    def negative(at, _):   # TF names the position within its own indices tensor
        pos = int(at)
        for m in sizes:
            if pos < m:
                break
            pos -= m
        return f"indices[{pos}] is out of range"
    check_each(ctx, op, ctx.b.emit("lt", [all_idx, ctx.scalar(0, "i32", (total,))]), all_idx,
               (total,), negative)
    if total == 0 or rows == 0:
        return [ctx.scalar(0, dt, (rows, *rest))]
    all_rows = ctx.b.emit("concatenate", flat_rows, axis=0)
    # the last position j naming row s, or -1 (gathers 0) when none does
    shape = [rows, total]
    hit = ctx.b.emit("eq", [ctx.b.emit("broadcast", [all_idx], shape=shape, dims=[1]),
                            ctx.b.emit("iota", [], shape=shape, dtype="i32", dim=0)])
    j = ctx.b.emit("iota", [], shape=shape, dtype="i32", dim=1)
    last = ctx.b.emit("reduce", [ctx.b.emit("select", [hit, j, ctx.scalar(-1, "i32", shape)])],
                      kind="max", axes=[1])
    out = ctx.b.emit("gather", [all_rows, last], axis=0)
    return [ctx.b.emit("reshape", [out], shape=[rows, *rest])]


@RegisterGradient("DynamicStitch")
@RegisterGradient("ParallelDynamicStitch")
def _dynamic_stitch_grads(op, grad):
    """Each data input gets the gradient rows its indices name (TF's: repeated
    indices all get them, the overwritten ones included)."""
    from . import array_ops
    n = len(op.inputs) // 2
    return [None] * n + [array_ops.gather(grad, op.inputs[i]) for i in range(n)]
