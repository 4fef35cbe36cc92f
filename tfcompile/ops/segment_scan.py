"""Segment reductions by sorting and a segmented scan: the path segment_ops
takes when N * S * R (its fused select-reduce) would cost much more.

With the ids sorted, each segment's rows are consecutive, so a segmented
inclusive scan (log2(N) shift-and-combine steps over [N, R]; a row takes the
row d above it only when both have one id, so nothing crosses a segment) leaves
each segment's reduction in its last row. That row is found for every
segment by a binary search over the sorted ids (S * log2(N) gathers).
Unsorted ids are first ranked stably by comparison counts (N * N over the
ids alone, sort_ops' ranking) and the rows gathered in that order.

Cost: N*N (unsorted only) + N*R*log2(N) + S*log2(N), against N*S*R."""
from __future__ import annotations

import math

from .manip_ops import pad_or_crop
from .sort_ops import _MAX_ROW, order_from_ranks, rank_chunks

_COMBINE = {"sum": "add", "prod": "mul", "max": "max", "min": "min"}


def scan_cost(n, n_seg, width, ids_sorted):
    """Rough element operations of this path (None where it does not apply)."""
    if not ids_sorted and n > _MAX_ROW:
        return None
    steps = max(1, math.ceil(math.log2(max(n, 2))))
    return (0 if ids_sorted else 2 * n * n) + 4 * n * width * steps + 4 * n_seg * steps


def sort_rows(ctx, data, ids):
    """(data, ids) with the rows in stable ascending order of ids."""
    n = ids.shape[0]
    keys = ctx.b.emit("reshape", [ids], shape=[1, n])
    order = order_from_ranks(ctx, rank_chunks(ctx, keys, descending=False), 1, n)
    order = ctx.b.emit("reshape", [order], shape=[n])
    return (ctx.b.emit("gather", [data, order], axis=0),
            ctx.b.emit("gather", [ids, order], axis=0))


def segmented_scan(ctx, data, ids, kind):
    """Inclusive scan of data [N, R] along N within runs of equal (sorted) ids."""
    n, r = data.shape
    op = _COMBINE[kind]
    row = ctx.b.emit("iota", [], shape=[n], dtype="i32", dim=0)
    d = 1
    while d < n:
        above = pad_or_crop(ctx, data, [d, 0], [-d, 0])
        same = ctx.b.emit("and", [
            ctx.b.emit("ge", [row, ctx.scalar(d, "i32", (n,))]),
            ctx.b.emit("eq", [ids, pad_or_crop(ctx, ids, [d], [-d])])])
        same = ctx.b.emit("broadcast", [same], shape=[n, r], dims=[0])
        data = ctx.b.emit("select", [same, ctx.b.emit(op, [data, above]), data])
        d *= 2
    return data


def count_at_most(ctx, ids, n_seg):
    """[S] i32: how many of the sorted ids are <= s (a binary search per s)."""
    n = ids.shape[0]
    s = ctx.b.emit("iota", [], shape=[n_seg], dtype=ids.dtype, dim=0)
    lo = ctx.scalar(0, "i32", (n_seg,))
    step = 1 << (n.bit_length() - 1)
    while step:
        cand = ctx.b.emit("add", [lo, ctx.scalar(step, "i32", (n_seg,))])
        fits = ctx.b.emit("le", [cand, ctx.scalar(n, "i32", (n_seg,))])
        at = ctx.b.emit("sub", [ctx.b.emit("min", [cand, ctx.scalar(n, "i32", (n_seg,))]),
                                ctx.scalar(1, "i32", (n_seg,))])
        below = ctx.b.emit("le", [ctx.b.emit("gather", [ids, at], axis=0), s])
        lo = ctx.b.emit("select", [ctx.b.emit("and", [fits, below]), cand, lo])
        step //= 2
    return lo


def scan_reduce(ctx, data, ids, n_seg, kind, ids_sorted, fill, start=None):
    """[S, R]: the `kind` reduction of the rows of data [N, R] (N >= 1) per id
    in [0, S); `fill` where a segment has no row. `start`, when given, is
    combined into every result (the unsorted ops start from the identity)."""
    r = data.shape[1]
    if not ids_sorted:
        data, ids = sort_rows(ctx, data, ids)
    scanned = segmented_scan(ctx, data, ids, kind)
    upto = count_at_most(ctx, ids, n_seg)
    last = ctx.b.emit("max", [ctx.b.emit("sub", [upto, ctx.scalar(1, "i32", (n_seg,))]),
                              ctx.scalar(0, "i32", (n_seg,))])
    seg = ctx.b.emit("iota", [], shape=[n_seg], dtype=ids.dtype, dim=0)
    found = ctx.b.emit("and", [
        ctx.b.emit("gt", [upto, ctx.scalar(0, "i32", (n_seg,))]),
        ctx.b.emit("eq", [ctx.b.emit("gather", [ids, last], axis=0), seg])])
    out = ctx.b.emit("gather", [scanned, last], axis=0)
    if start is not None:
        out = ctx.b.emit(_COMBINE[kind], [out, ctx.scalar(start, out.dtype, out.shape)])
    found = ctx.b.emit("broadcast", [found], shape=[n_seg, r], dims=[0])
    return ctx.b.emit("select", [found, out, ctx.scalar(fill, out.dtype, (n_seg, r))])
