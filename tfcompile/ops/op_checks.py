"""TF's run-time errors of ordinary ops, which compiled code cannot raise
itself: each becomes a run check (LoweringContext.add_run_check) that the
Session raises on after the call, with TF's error class and message; a value
known when compiling fails now (or, inside a tf.cond branch, when the branch
runs). An index out of range (gather, gather_nd, scatter_nd, sparse_to_dense),
an integer division by zero, a singular matrix."""
from __future__ import annotations

import numpy as np

from ..ir import core as ir


def check_in_range(ctx, op, idx, dims, what="indices", message=None):
    """TF's run-time error for an index out of range (compiled code reads 0 there).

    idx [..., k] index vectors into `dims` (k = len(dims)), or, with k == 1 and
    idx not ending in a vector, plain indices into dims[0] (then `idx` has no
    trailing axis: pass vector=False through dims as an int). A constant index
    fails now; any other makes the run raise InvalidArgumentError naming the
    first bad index, as TF: "indices[1] = 7 is not in [0, 5)" (or
    `message(where, components)`, where is "[1]")."""
    from ..lowering import _fold
    vector = not isinstance(dims, int)
    dims = list(dims) if vector else [int(dims)]
    shape = idx.shape[:-1] if vector else idx.shape
    k = len(dims)
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0 or k == 0:
        return

    custom = message

    def message(pos, comps):
        # TF's SliceDebugString: "[1,0]", nothing for a scalar
        where = ("[" + ",".join(map(str, np.unravel_index(int(pos), shape))) + "]"
                 if shape else "")
        if custom is not None:
            return custom(where, [int(c) for c in comps])
        if vector:
            return (f"{what}{where} = [{', '.join(str(int(c)) for c in comps)}] does not "
                    f"index into param shape [{','.join(map(str, dims))}]")
        return f"{what}{where} = {int(comps[0])} is not in [0, {dims[0]})"

    cv = _fold(idx)
    if cv is not None:
        flat = np.asarray(cv).reshape(n, k)
        bad = np.any((flat < 0) | (flat >= np.array(dims)), axis=1)
        if bad.any():
            pos = int(np.argmax(bad))
            ctx.fail_at_run(op, message(pos, flat[pos]))
        return
    b = ctx.b
    flat = b.emit("reshape", [idx], shape=[n, k])
    lim = b.constant(np.array(dims, dtype=ir.DTYPES[idx.dtype]).reshape(1, k))
    lim = b.emit("broadcast", [lim], shape=[n, k], dims=[0, 1])
    bad = b.emit("or", [b.emit("lt", [flat, ctx.scalar(0, idx.dtype, (n, k))]),
                        b.emit("ge", [flat, lim])])
    bad = b.emit("reduce", [bad], kind="or", axes=[1])
    any_bad = b.emit("reduce", [bad], kind="or", axes=[0])
    pos = b.emit("argmax", [ctx.convert(bad, "i32")], axis=0, dtype="i64")
    row = b.emit("gather", [flat, b.emit("reshape", [pos], shape=[1])], axis=0)
    comps = [b.emit("reshape", [b.emit("slice", [row], start=[0, j], limit=[1, j + 1],
                                       stride=[1, 1])], shape=[]) for j in range(k)]
    ctx.add_run_check(op, b.emit("not", [any_bad]),
                      lambda d: message(d[0], d[1:]), details=[pos] + comps)


def check_divisor(ctx, op, y):
    """TF fails an integer division by zero (the IR gives 0): at compile time for a
    constant divisor, else as a run check."""
    from ..errors import InternalError
    from ..lowering import _fold
    # TF's TruncateDiv/TruncateMod kernels report it as an internal error
    err = InternalError if op.type.startswith("Truncate") else None
    msg = ("Unexpected error in binary operator (only integer div and mod should have "
           "errors)" if err else "Integer division by zero")
    cv = _fold(y)
    if cv is not None:
        if np.any(np.asarray(cv) == 0):
            ctx.fail_at_run(op, msg, err) if err else ctx.fail_at_run(op, msg)
        return
    b = ctx.b
    zero = b.emit("eq", [y, ctx.scalar(0, y.dtype, y.shape)])
    ok = b.emit("not", [b.emit("reduce", [zero], kind="or", axes=list(range(y.type.rank)))])
    if err:
        ctx.add_run_check(op, ok, msg, error=err)
    else:
        ctx.add_run_check(op, ok, msg)


def check_finite(ctx, op, v, message):
    """TF's "not invertible" error: its LU stops at a zero pivot, where the
    elimination here divides by zero, so a nonfinite result marks it (a NaN in
    the input too, as in TF, whose pivot test fails on NaN)."""
    b = ctx.b
    if v.type.size == 0:
        return
    fin = b.emit("eq", [b.emit("sub", [v, v]), ctx.scalar(0, v.dtype, v.shape)])
    ok = b.emit("reduce", [fin], kind="and", axes=list(range(v.type.rank)))
    ctx.add_run_check(op, ok, message)
