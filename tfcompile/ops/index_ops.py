"""Index ops: gather_nd, scatter_nd, sparse_to_dense, where with one argument
and boolean_mask, with TF 1.15's names, op types and static shapes.

Scatters are one-hot matrix products, since the IR has no scatter: the rows
of the updates are summed into the output rows their linear index names
(repeated indices add up, as TF). An index out of range reads 0 in a gather
and is dropped by a scatter (TF raises an error at run time).

tf.where(condition) and boolean_mask have results whose shape depends on the
data. A condition computed from constants is folded; any other becomes the
IR's argwhere, whose row count the Session learns by running the condition
first (see tfcompile/dynamic_sizes.py): one compiled plan per count.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .manip_ops import _q, slice_axis
from .op_checks import check_in_range
from .op_util import make_tensor, shape_from_tensor
from .registry import lowering


# ---------------------------------------------------------------- IR helpers

def linear_index(ctx, idx, dims):
    """Row-major linear index of the index vectors idx[..., k] into `dims`; -1
    where any component is out of range (the IR's gather then gives 0)."""
    k = len(dims)
    lead = idx.shape[:-1]
    dt = "i64" if int(np.prod(dims, dtype=np.int64)) >= 2 ** 31 else idx.dtype
    lin = ctx.scalar(0, dt, lead)
    ok = None
    stride = 1
    for j in builtins.range(k - 1, -1, -1):
        c = ctx.b.emit("reshape", [slice_axis(ctx, idx, idx.type.rank - 1, j, j + 1)],
                       shape=lead)
        c = ctx.convert(c, dt)
        good = ctx.b.emit("and", [ctx.b.emit("ge", [c, ctx.scalar(0, dt, lead)]),
                                  ctx.b.emit("lt", [c, ctx.scalar(dims[j], dt, lead)])])
        ok = good if ok is None else ctx.b.emit("and", [ok, good])
        lin = ctx.b.emit("add", [lin, ctx.b.emit("mul", [c, ctx.scalar(stride, dt, lead)])])
        stride *= dims[j]
    if ok is not None:
        lin = ctx.b.emit("select", [ok, lin, ctx.scalar(-1, dt, lead)])
    return lin


def scatter_rows(ctx, lin, updates, n_rows):
    """out[p, :] = sum of updates[u, :] over u with lin[u] == p (a one-hot product).

    lin: [U] integer; updates: [U, R]; returns [n_rows, R]."""
    u = lin.shape[0]
    dt = updates.dtype
    if u == 0 or n_rows == 0:
        return ctx.scalar(0, dt, (n_rows, updates.shape[1]))
    io = ctx.b.emit("iota", [], shape=[u, n_rows], dtype=lin.dtype, dim=1)
    hit = ctx.b.emit("eq", [ctx.b.emit("broadcast", [lin], shape=[u, n_rows], dims=[0]), io])
    onehot = ctx.convert(hit, dt if dt != "bool" else "f32")
    if dt == "bool":
        upd = ctx.convert(updates, "f32")
        out = ctx.b.emit("dot", [onehot, upd], transpose_a=True)
        return ctx.b.emit("ne", [out, ctx.scalar(0, "f32", out.shape)])
    return ctx.b.emit("dot", [onehot, updates], transpose_a=True)


# ---------------------------------------------------------------- gather_nd / scatter_nd

def gather_nd(params, indices, name=None, batch_dims=0):
    if batch_dims:
        return _batch_gather_nd(params, indices, batch_dims, name)
    with name_scope(name, "GatherNd", [params, indices]) as scope:
        p = convert_to_tensor(params, name="params")
        idx = convert_to_tensor(indices, name="indices")
        if idx.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"Value passed to parameter 'indices' has DataType "
                            f"{idx.dtype.name} not in list of allowed values: int32, int64")
        out = TensorShape(None)
        if idx.shape.ndims is not None and p.shape.ndims is not None:
            if idx.shape.ndims < 1:
                raise ValueError(f"Shape must be at least rank 1 but is rank 0 for "
                                 f"'{scope[:-1]}' (op: 'GatherNd')")
            k = idx.shape[-1].value
            if k is not None:
                if k > p.shape.ndims:
                    raise ValueError(f"indices.shape[-1] must be <= params.rank, but saw "
                                     f"indices shape: {_q(idx.shape)} and params shape: "
                                     f"{_q(p.shape)} for '{scope[:-1]}' (op: 'GatherNd')")
                out = TensorShape(idx.shape.as_list()[:-1] + p.shape.as_list()[k:])
        return make_tensor("GatherNd", [p, idx], p.dtype, out,
                           {"Tparams": p.dtype, "Tindices": idx.dtype}, name=scope)


def _batch_gather_nd(params, indices, batch_dims, name):
    """gather_nd over the last dims of params for each entry of their first
    `batch_dims` (shared with indices): as TF 1.15's Python does it, one
    gather_nd whose index vectors get the flattened batch position in front."""
    from . import array_ops, manip_ops, math_ops, stack_ops
    with name_scope(name, "BatchGatherND", [params, indices]):
        p = convert_to_tensor(params, name="params")
        idx = convert_to_tensor(indices, name="indices")
        b = int(batch_dims)
        r, k = idx.shape.ndims, (idx.shape[-1].value if idx.shape.ndims else None)
        if r is None or k is None or p.shape.ndims is None:
            raise ValueError("gather_nd with batch_dims needs the ranks of params and "
                             "indices and indices.shape[-1] known when the graph is built")
        if not 0 < b < r or b + k > p.shape.ndims:
            raise ValueError(f"gather_nd: batch_dims {b} must be < rank(indices) {r}, and "
                             f"batch_dims + indices.shape[-1] ({b + k}) <= rank(params) "
                             f"({p.shape.ndims})")
        p.shape[:b].assert_is_compatible_with(idx.shape[:b])
        pshape = array_ops.shape(p, out_type=idx.dtype)
        ishape = array_ops.shape(idx, out_type=idx.dtype)
        batch = pshape[:b]
        nb = math_ops.reduce_prod(batch)
        inner = ishape[b:-1]
        m = math_ops.reduce_prod(inner)
        flat_idx = array_ops.reshape(idx, stack_ops.stack([nb, m, k]))
        pos = array_ops.reshape(array_ops.range(nb, dtype=idx.dtype), [-1, 1, 1])
        pos = manip_ops.tile(pos, stack_ops.stack([1, m, 1]))
        full = stack_ops.concat([pos, flat_idx], axis=2)
        flat_p = array_ops.reshape(p, stack_ops.concat([[-1], pshape[b:]], axis=0))
        out = gather_nd(flat_p, full)
        return array_ops.reshape(out, stack_ops.concat([batch, inner, pshape[b + k:]], 0))


@lowering("GatherNd")
def _lower_gather_nd(ctx, op, inputs):
    p, idx = inputs
    k = idx.shape[-1]
    if k > p.type.rank:
        ctx.fail(f"index innermost dimension length must be <= params rank; saw: {k} vs. "
                 f"{p.type.rank}")
    lead, rest = idx.shape[:-1], p.shape[k:]
    if k == 0:
        return [ctx.b.emit("broadcast", [p], shape=lead + rest,
                           dims=list(builtins.range(len(lead), len(lead) + len(rest))))]
    check_in_range(ctx, op, idx, p.shape[:k])
    lin = linear_index(ctx, idx, p.shape[:k])
    flat = ctx.b.emit("reshape", [p], shape=[int(np.prod(p.shape[:k]))] + list(rest))
    return [ctx.b.emit("gather", [flat, lin], axis=0)]


def scatter_nd(indices, updates, shape, name=None):
    with name_scope(name, "ScatterNd", [indices, updates, shape]) as scope:
        idx = convert_to_tensor(indices, name="indices")
        upd = convert_to_tensor(updates, name="updates")
        shp = shape if isinstance(shape, Tensor) else convert_to_tensor(
            shape, dtype=idx.dtype, name="shape")
        if idx.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"Value passed to parameter 'indices' has DataType "
                            f"{idx.dtype.name} not in list of allowed values: int32, int64")
        out = shape_from_tensor(shp)
        _check_scatter_shapes(idx.shape, upd.shape, out, scope[:-1], "ScatterNd")
        return make_tensor("ScatterNd", [idx, upd, shp], upd.dtype, out,
                           {"T": upd.dtype, "Tindices": idx.dtype}, name=scope)


def _check_scatter_shapes(ishape, ushape, out, opname, op_type):
    if ishape.ndims is None or ushape.ndims is None or out.ndims is None:
        return
    k = ishape[-1].value if ishape.ndims else None
    if k is None:
        return
    want = TensorShape(ishape.as_list()[:-1] + out.as_list()[k:])
    if k > out.ndims or not want.is_compatible_with(ushape):
        raise ValueError(f"The inner {out.ndims - k} dimensions of output.shape="
                         f"{_q(out)} must match the inner {ushape.ndims - ishape.ndims + 1} "
                         f"dimensions of updates.shape={_q(ushape)} for '{opname}' "
                         f"(op: '{op_type}') with input shapes: {_q(ishape)}, {_q(ushape)}.")


@lowering("ScatterNd")
def _lower_scatter_nd(ctx, op, inputs):
    idx, upd, shp = inputs
    shape = [int(d) for d in np.reshape(ctx.const_value(shp, "ScatterNd shape"), [-1])]
    k = idx.shape[-1]
    lead = idx.shape[:-1]
    if tuple(upd.shape) != tuple(lead) + tuple(shape[k:]):
        ctx.fail(f"Must have updates.shape = indices.shape[:-1] + shape[indices.shape[-1]:], "
                 f"got updates.shape {list(upd.shape)}, indices.shape {list(idx.shape)}, "
                 f"shape {shape}")
    n_u = int(np.prod(lead, dtype=np.int64))
    rest = int(np.prod(shape[k:], dtype=np.int64))
    dims = ",".join(map(str, shape))
    check_in_range(ctx, op, idx, shape[:k], message=lambda where, c: (
        f"indices{where} = [{', '.join(map(str, c))}] does not index into shape [{dims}]"))
    lin = ctx.b.emit("reshape", [linear_index(ctx, idx, shape[:k])], shape=[n_u])
    rows = ctx.b.emit("reshape", [upd], shape=[n_u, rest])
    out = scatter_rows(ctx, lin, rows, int(np.prod(shape[:k], dtype=np.int64)))
    return [ctx.b.emit("reshape", [out], shape=shape)]


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices=True, name=None):
    with name_scope(name, "SparseToDense", [sparse_indices, output_shape, sparse_values]) \
            as scope:
        idx = convert_to_tensor(sparse_indices, name="sparse_indices")
        shp = output_shape if isinstance(output_shape, Tensor) else convert_to_tensor(
            output_shape, dtype=idx.dtype, name="output_shape")
        vals = convert_to_tensor(sparse_values, name="sparse_values")
        dflt = convert_to_tensor(default_value, dtype=vals.dtype, name="default_value")
        if idx.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"SparseToDense: sparse_indices must be int32 or int64, got "
                            f"{idx.dtype.name}")
        out = shape_from_tensor(shp)
        return make_tensor("SparseToDense", [idx, shp, vals, dflt], vals.dtype, out,
                           {"T": vals.dtype, "Tindices": idx.dtype,
                            "validate_indices": bool(validate_indices)}, name=scope)


@lowering("SparseToDense")
def _lower_sparse_to_dense(ctx, op, inputs):
    idx, shp, vals, dflt = inputs
    shape = [int(d) for d in np.reshape(ctx.const_value(shp, "SparseToDense shape"), [-1])]
    r = len(shape)
    if idx.type.rank == 0:
        idx = ctx.b.emit("reshape", [idx], shape=[1, 1])
    elif idx.type.rank == 1:
        idx = ctx.b.emit("reshape", [idx], shape=[idx.shape[0], 1])
    if idx.type.rank != 2 or idx.shape[1] != r:
        ctx.fail(f"sparse_indices should be a scalar, vector, or matrix with {r} columns, "
                 f"got shape {list(idx.shape)}")
    n = idx.shape[0]
    if vals.type.rank == 0:
        vals = ctx.bcast(vals, (n,))
    if vals.shape != (n,):
        ctx.fail(f"sparse_values has incorrect shape {list(vals.shape)}, should be [] or [{n}]")
    if dflt.type.rank != 0:
        ctx.fail(f"default_value should be a scalar, got shape {list(dflt.shape)}")
    total = int(np.prod(shape, dtype=np.int64))
    if r:
        dims = ",".join(map(str, shape))
        check_in_range(ctx, op, idx, shape, message=lambda where, c: (
            f"indices{where} = [{','.join(map(str, c))}] is out of bounds: need 0 <= index "
            f"< [{dims}]"))
    lin = linear_index(ctx, idx, shape) if r else ctx.scalar(0, idx.dtype, (n,))
    vdt = vals.dtype
    num = vdt if vdt != "bool" else "f32"
    rows = ctx.b.emit("reshape", [ctx.convert(vals, num)], shape=[n, 1])
    ones = ctx.scalar(1, num, (n, 1))
    if r and n > 1:
        if op.attrs.get("validate_indices", True):
            _check_sorted(ctx, op, idx, lin, n)
        else:   # TF's kernel writes the values in order: a repeated index keeps the last
            keep = _last_of_each(ctx, lin, n)
            keep = ctx.b.emit("reshape", [keep], shape=[n, 1])
            zero = ctx.scalar(0, num, (n, 1))
            rows = ctx.b.emit("select", [keep, rows, zero])
            ones = ctx.b.emit("select", [keep, ones, zero])
    summed = scatter_rows(ctx, lin, ctx.b.emit("concatenate", [rows, ones], axis=1), total)
    value = ctx.b.emit("reshape", [slice_axis(ctx, summed, 1, 0, 1)], shape=shape)
    count = ctx.b.emit("reshape", [slice_axis(ctx, summed, 1, 1, 2)], shape=shape)
    hit = ctx.b.emit("gt", [count, ctx.scalar(0, num, tuple(shape))])
    value = ctx.convert(value, vdt) if vdt != "bool" else ctx.b.emit(
        "ne", [value, ctx.scalar(0, num, tuple(shape))])
    return [ctx.b.emit("select", [hit, value, ctx.bcast(dflt, tuple(shape))])]


def _check_sorted(ctx, op, idx, lin, n):
    """TF's validate_indices: the index vectors in strictly increasing row-major
    order, the first offender named ("is out of order" / "is repeated")."""
    b = ctx.b
    prev = b.emit("slice", [lin], start=[0], limit=[n - 1], stride=[1])
    nxt = b.emit("slice", [lin], start=[1], limit=[n], stride=[1])
    bad = b.emit("le", [nxt, prev])
    ok = b.emit("not", [b.emit("reduce", [bad], kind="or", axes=[0])])
    first = b.emit("argmax", [ctx.convert(bad, "i32")], axis=0, dtype="i64")
    at = b.emit("reshape", [first], shape=[1])
    same = b.emit("eq", [b.emit("gather", [nxt, at], axis=0), b.emit("gather", [prev, at],
                                                                       axis=0)])
    row = b.emit("gather", [idx, b.emit("add", [at, ctx.scalar(1, "i64", (1,))])], axis=0)

    def message(d):
        pos, repeated, comps = int(d[0]) + 1, bool(d[1]), ",".join(str(int(c)) for c in d[2:])
        if repeated:
            return f"indices[{pos}] = [{comps}] is repeated"
        return (f"indices[{pos}] = [{comps}] is out of order. Many sparse ops require sorted "
                "indices.\n    Use `tf.sparse.reorder` to create a correctly ordered copy.\n\n")
    ctx.add_run_check(op, ok, message, details=[first, same, row])


def _last_of_each(ctx, lin, n):
    """bool [n]: whether no later entry has the same linear index."""
    b = ctx.b
    col = b.emit("broadcast", [lin], shape=[n, n], dims=[0])
    row = b.emit("broadcast", [lin], shape=[n, n], dims=[1])
    later = b.emit("gt", [b.emit("iota", [], shape=[n, n], dtype="i32", dim=1),
                          b.emit("iota", [], shape=[n, n], dtype="i32", dim=0)])
    dup = b.emit("and", [b.emit("eq", [col, row]), later])
    return b.emit("not", [b.emit("reduce", [dup], kind="or", axes=[1])])


# ---------------------------------------------------------------- where / boolean_mask

def where_indices(condition, name=None):
    """tf.where(condition): the coordinates of the true elements, int64 [n, rank]
    in row-major order; n is known only when the graph runs."""
    with name_scope(name, "Where", [condition]) as scope:
        c = convert_to_tensor(condition, name="condition", preferred_dtype=_dt.bool)
        # the count is data-dependent in TF's shape inference, so it stays unknown
        out = TensorShape([None, c.shape.ndims])
        return make_tensor("Where", [c], _dt.int64, out, {"T": c.dtype}, name=scope)


@lowering("Where")
def _lower_where(ctx, op, inputs):
    from ..lowering import _fold
    cv = _fold(inputs[0])
    if cv is not None:
        cv = np.asarray(cv)
        return [ctx.b.constant(np.argwhere(cv != 0).astype(np.int64))]
    c = inputs[0]
    if c.dtype != "bool":
        c = ctx.b.emit("ne", [c, ctx.scalar(0, c.dtype, c.shape)])
    n = ctx.data_size(op, f"tf.where({op.inputs[0].name}) with one argument",
                      [op.inputs[0]], _count_of_first, [inputs[0]])
    if n > c.type.size:
        ctx.fail(f"tf.where({op.inputs[0].name}): {n} true elements in a tensor of "
                 f"{c.type.size}")
    return [ctx.b.emit("argwhere", [c], count=n)]


def _count_of_first(ctx, values):
    from ..lowering import count_true
    return count_true(ctx, values[0])


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """tf.boolean_mask: the slices of `tensor` along axis..axis+mask.ndim where
    `mask` is true, in row-major order (a gather of tf.where(mask)'s rows)."""
    from .array_ops import concat, gather, reshape, shape, squeeze
    from .math_ops import reduce_prod
    with name_scope(name, values=[tensor, mask]):  # no default: name=None fails, as TF
        x = convert_to_tensor(tensor, name="tensor")
        m = convert_to_tensor(mask, name="mask")
        nm = m.shape.ndims
        if nm == 0:
            raise ValueError("mask cannot be scalar.")
        if nm is None:
            raise ValueError("Number of mask dimensions must be specified, even if some "
                             "dimensions are None.  E.g. shape=[None] is ok, but "
                             "shape=None is not.")
        if m.dtype != _dt.bool:
            raise TypeError(f"boolean_mask: mask must be bool, got {m.dtype.name}")
        axis = 0 if axis is None else int(axis)
        xs = x.shape
        if xs.ndims is not None:
            sub = TensorShape(xs.as_list()[axis:axis + nm])
            if not sub.is_compatible_with(m.shape):
                raise ValueError(f"Shapes {sub} and {m.shape} are incompatible")
        lead = reduce_prod(shape(x)[axis:axis + nm], [0])
        x = reshape(x, concat([shape(x)[:axis], [lead], shape(x)[axis + nm:]], 0))
        if xs.ndims is not None:
            first = TensorShape(xs.as_list()[axis:axis + nm]).num_elements()
            x.set_shape(TensorShape(xs.as_list()[:axis] + [first] + xs.as_list()[axis + nm:]))
        m = reshape(m, [-1])
        idx = squeeze(where_indices(m), axis=[1])
        return gather(x, idx, axis=axis)
