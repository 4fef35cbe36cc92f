"""Ordering ops: nn.top_k, sort, argsort, random_shuffle, cumsum and cumprod.

The IR has no sort, so ranks come from comparison counts: the descending rank
of x[i] along an axis of length n is #{j: x[j] > x[i]} + #{j < i: x[j] == x[i]}
(ties keep index order, as TF's top_k). That costs n*n comparisons per row,
done in chunks of bounded size; fine up to a few thousand elements per row.
Cumulative sums and products take log2(n) shift-and-add steps.
"""
from __future__ import annotations

import collections

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import constant, convert_to_tensor
from .manip_ops import pad_or_crop, slice_axis
from .op_util import constant_value, make_op, make_tensor, normalize_axis
from .random_ops import get_seed
from .registry import lowering

_CHUNK = 1 << 22   # elements of one comparison block
_MAX_ROW = 1 << 14


# ---------------------------------------------------------------- IR helpers

def rank_chunks(ctx, x, descending=True):
    """Ranks of the elements of x [B, n] within their rows (0 = first in order),
    as a list of (i0, i32 [B, c]) blocks of consecutive elements."""
    bsz, n = x.shape
    if n > _MAX_ROW:
        ctx.fail(f"sorting {n} elements per row is beyond this compiler's comparison "
                 f"sort (at most {_MAX_ROW})")
    rows = builtins.max(1, _CHUNK // builtins.max(1, bsz * n))
    out = []
    for i0 in builtins.range(0, n, rows):
        i1 = builtins.min(n, i0 + rows)
        c = i1 - i0
        xi = ctx.b.emit("broadcast", [slice_axis(ctx, x, 1, i0, i1)], shape=[bsz, c, n],
                        dims=[0, 1])
        xj = ctx.b.emit("broadcast", [x], shape=[bsz, c, n], dims=[0, 2])
        before = ctx.b.emit("gt" if descending else "lt", [xj, xi])
        ii = ctx.b.emit("iota", [], shape=[bsz, c, n], dtype="i32", dim=1)
        ii = ctx.b.emit("add", [ii, ctx.scalar(i0, "i32", (bsz, c, n))])
        jj = ctx.b.emit("iota", [], shape=[bsz, c, n], dtype="i32", dim=2)
        tie = ctx.b.emit("and", [ctx.b.emit("eq", [xj, xi]), ctx.b.emit("lt", [jj, ii])])
        cnt = ctx.convert(ctx.b.emit("or", [before, tie]), "i32")
        out.append((i0, ctx.b.emit("reduce", [cnt], kind="sum", axes=[2])))
    return out


def ranks_last(ctx, x, descending=True):
    """Ranks of x [B, n] within its rows (i32 [B, n])."""
    bsz, n = x.shape
    if n == 0:
        return ctx.scalar(0, "i32", (bsz, 0))
    parts = [r for _, r in rank_chunks(ctx, x, descending)]
    return parts[0] if len(parts) == 1 else ctx.b.emit("concatenate", parts, axis=1)


def order_from_ranks(ctx, chunks, bsz, k):
    """idx[b, p] = the i with rank[b, i] == p, for p < k (i32 [B, k]). The rank
    blocks are used one by one (partial sums), never concatenated first."""
    if k == 0 or not chunks:
        return ctx.scalar(0, "i32", (bsz, k))
    widest = builtins.max(r.shape[1] for _, r in chunks)
    rows = builtins.max(1, _CHUNK // builtins.max(1, bsz * widest))
    parts = []
    for p0 in builtins.range(0, k, rows):
        c = builtins.min(k, p0 + rows) - p0
        acc = None
        for i0, r in chunks:
            ci = r.shape[1]
            shape = (bsz, c, ci)
            pp = ctx.b.emit("add", [ctx.b.emit("iota", [], shape=shape, dtype="i32", dim=1),
                                    ctx.scalar(p0, "i32", shape)])
            rr = ctx.b.emit("broadcast", [r], shape=shape, dims=[0, 2])
            ii = ctx.b.emit("add", [ctx.b.emit("iota", [], shape=shape, dtype="i32", dim=2),
                                    ctx.scalar(i0, "i32", shape)])
            hit = ctx.b.emit("select", [ctx.b.emit("eq", [rr, pp]), ii,
                                        ctx.scalar(0, "i32", shape)])
            part = ctx.b.emit("reduce", [hit], kind="sum", axes=[2])
            acc = part if acc is None else ctx.b.emit("add", [acc, part])
        parts.append(acc)
    return parts[0] if len(parts) == 1 else ctx.b.emit("concatenate", parts, axis=1)


def gather_rows(ctx, x, idx):
    """out[b, p] = x[b, idx[b, p]] for x [B, n] and idx [B, k] (i32)."""
    bsz, n = x.shape
    k = idx.shape[1]
    flat = ctx.b.emit("reshape", [x], shape=[bsz * n])
    base = ctx.b.emit("mul", [ctx.b.emit("iota", [], shape=[bsz, k], dtype="i32", dim=0),
                              ctx.scalar(n, "i32", (bsz, k))])
    return ctx.b.emit("gather", [flat, ctx.b.emit("add", [base, idx])], axis=0)


# ---------------------------------------------------------------- top_k / sort / argsort

# TF returns its multi-output ops as named tuples: `tf.nn.top_k(x, 2).values`.
TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002
    """tf.nn.top_k: the k largest entries along the last axis (ties: lower index
    first) and their int32 indices; op TopKV2."""
    with name_scope(name, "TopKV2", [input, k]) as scope:
        x = convert_to_tensor(input, name="input")
        kt = k if isinstance(k, Tensor) else convert_to_tensor(k, dtype=_dt.int32, name="k")
        if x.dtype.is_bool or not x.dtype.is_numpy_compatible:
            raise TypeError(f"Value passed to parameter 'input' has DataType {x.dtype.name} "
                            "not in list of allowed values: numeric types")
        kv = constant_value(kt)
        out = TensorShape(None)
        if x.shape.ndims is not None:
            if x.shape.ndims < 1:
                raise ValueError(f"Shape must be at least rank 1 but is rank 0 for "
                                 f"'{scope[:-1]}' (op: 'TopKV2')")
            dims = x.shape.as_list()
            if kv is not None:
                kv = int(kv)
                if kv < 0:
                    raise ValueError(f"Input 'k' must be non-negative, got {kv}")
                if dims[-1] is not None and dims[-1] < kv:
                    raise ValueError(f"input must have last dimension >= k = {kv} but is "
                                     f"{dims[-1]} for '{scope[:-1]}' (op: 'TopKV2') with "
                                     f"input shapes: [{','.join('?' if d is None else str(d) for d in dims)}], [].")
            out = TensorShape(dims[:-1] + [kv])
        op = make_op("TopKV2", [x, kt], {"sorted": bool(sorted), "T": x.dtype},
                     [(x.dtype, out), (_dt.int32, out)], name=scope)
        return TopKV2(op.outputs[0], op.outputs[1])


@lowering("TopKV2")
def _lower_top_k(ctx, op, inputs):
    x, kv = inputs
    k = int(ctx.const_value(kv, "top_k k"))
    n = x.shape[-1]
    if k < 0 or k > n:
        ctx.fail(f"input must have at least k columns. Had {n}, needed {k}")
    lead = x.shape[:-1]
    bsz = int(np.prod(lead, dtype=np.int64))
    x2 = ctx.b.emit("reshape", [x], shape=[bsz, n])
    chunks = rank_chunks(ctx, x2, True) if n else []
    idx = order_from_ranks(ctx, chunks, bsz, k)
    vals = gather_rows(ctx, x2, idx)
    shape = list(lead) + [k]
    return [ctx.b.emit("reshape", [vals], shape=shape),
            ctx.b.emit("reshape", [idx], shape=shape)]


def _sort_or_argsort(values, axis, direction, return_argsort):
    from .array_ops import transpose
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"{direction} should be one of ASCENDING, DESCENDING")
    axis_t = convert_to_tensor(axis, name="axis")
    av = constant_value(axis_t)
    if axis_t.shape.ndims not in (None, 0) or av is None:
        raise ValueError("axis must be a constant scalar")
    axis = int(av)
    values = convert_to_tensor(values, name="values")
    if direction == "ASCENDING":
        values = -values
    r = values.shape.ndims
    if r is None:
        raise ValueError("sort: the rank of values must be known")
    k = values.shape[axis].value if r else None
    if axis == -1 or axis + 1 == r:
        perm = None
        inp = values
    else:
        if axis < 0:
            axis += r
        perm = constant(np.r_[np.arange(axis), [r - 1], np.arange(axis + 1, r - 1),
                              [axis]].astype(np.int32), name="transposition")
        inp = transpose(values, perm)
    if k is None:
        from .array_ops import shape
        k = shape(values)[axis]
    vals, idx = top_k(inp, k)
    out = idx if return_argsort else vals
    if perm is not None:
        out = transpose(out, perm)
    if direction == "ASCENDING" and not return_argsort:
        out = -out
    return out


def sort(values, axis=-1, direction="ASCENDING", name=None):
    with name_scope(name, "sort"):
        return _sort_or_argsort(values, axis, direction, return_argsort=False)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """tf.argsort: int32 indices that sort `values`; ties keep index order."""
    with name_scope(name, "argsort"):
        return _sort_or_argsort(values, axis, direction, return_argsort=True)


# ---------------------------------------------------------------- random_shuffle

def random_shuffle(value, seed=None, name=None):
    """tf.random_shuffle: a random permutation along the first axis (op RandomShuffle).

    Ranks of per-run random keys give the permutation, so its cost grows with
    the square of the first dimension."""
    with name_scope(name, "RandomShuffle", [value]) as scope:
        x = convert_to_tensor(value, name="value")
        s1, s2 = get_seed(seed)
        return make_tensor("RandomShuffle", [x], x.dtype, x.shape,
                           {"T": x.dtype, "seed": s1 or 0, "seed2": s2 or 0}, name=scope)


@lowering("RandomShuffle")
def _lower_random_shuffle(ctx, op, inputs):
    (x,) = inputs
    if x.type.rank == 0 or x.shape[0] <= 1:
        return [x]
    n = x.shape[0]
    seed, seed2 = ctx.seeds(op)
    keys = ctx.b.emit("rng", [ctx.rng_counter(op)], dist="uniform", shape=[1, n],
                      dtype="f64", seed=seed, seed2=seed2)
    # the ranks of i.i.d. keys are a uniform permutation, and so is its inverse
    perm = ctx.b.emit("reshape", [ranks_last(ctx, keys, False)], shape=[n])
    return [ctx.b.emit("gather", [x, perm], axis=0)]


# ---------------------------------------------------------------- cumsum / cumprod

def _cumulative(op_type, default, x, axis, exclusive, reverse, name):
    with name_scope(name, default, [x]) as scope:
        x = convert_to_tensor(x, name="x")
        if x.dtype.is_bool:
            raise TypeError(f"{op_type}: x must be numeric, got bool")
        a = axis if isinstance(axis, Tensor) else convert_to_tensor(
            axis, dtype=_dt.int32, name="axis")
        av = constant_value(a)
        if av is not None and x.shape.ndims is not None:
            normalize_axis(int(av), x.shape.ndims, f"{op_type}: axis")
        return make_tensor(op_type, [x, a], x.dtype, x.shape,
                           {"exclusive": bool(exclusive), "reverse": bool(reverse),
                            "T": x.dtype, "Tidx": a.dtype}, name=scope)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    return _cumulative("Cumsum", "Cumsum", x, axis, exclusive, reverse, name)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    return _cumulative("Cumprod", "Cumprod", x, axis, exclusive, reverse, name)


def scan_ir(ctx, x, a, kind, exclusive=False, reverse=False):
    """Inclusive (or exclusive) running sum/product along axis `a` of an IR value."""
    op = "add" if kind == "sum" else "mul"
    ident = 0 if kind == "sum" else 1
    n = x.shape[a]
    r = x.type.rank
    if reverse:
        x = ctx.b.emit("reverse", [x], axes=[a])

    def shift(v, s):   # v moved s places along a, the identity shifted in
        lo, hi = [0] * r, [0] * r
        lo[a], hi[a] = s, -s
        return pad_or_crop(ctx, v, lo, hi, ident)
    if exclusive and n:
        x = shift(x, 1)
    s = 1
    while s < n:
        x = ctx.b.emit(op, [x, shift(x, s)])
        s *= 2
    if reverse:
        x = ctx.b.emit("reverse", [x], axes=[a])
    return x


@lowering("Cumsum", "Cumprod")
def _lower_cumulative(ctx, op, inputs):
    x, av = inputs
    if x.type.rank == 0:
        ctx.fail(f"{op.type}: input must be at least rank 1, got a scalar")
    a = ctx.axis(int(ctx.const_value(av, f"{op.type} axis")), x.type.rank)
    return [scan_ir(ctx, x, a, "sum" if op.type == "Cumsum" else "prod",
                    op.attrs["exclusive"], op.attrs["reverse"])]
