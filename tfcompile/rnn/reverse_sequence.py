"""tf.reverse_sequence (op ReverseSequence): for each batch element b, the
first seq_lengths[b] entries along seq_axis reversed, the rest unchanged.
The backward direction of the bidirectional RNNs uses it.

Lowered as one gather: the batch and sequence axes moved to the front and
merged, each row taking the source row b * T + (t < len ? len - 1 - t : t).
A length outside [0, T] fails the run (as TF's kernel refuses it)."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import name_scope
from ..ops.constant_op import convert_to_tensor
from ..ops.op_util import make_tensor
from ..ops.registry import RegisterGradient, lowering
from ..tensor_shape import TensorShape


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None,
                     name=None, seq_dim=None, batch_dim=None):
    """tf.reverse_sequence (TF 1.15 names: seq_dim/batch_dim are the old
    spellings of seq_axis/batch_axis; batch_axis defaults to 0)."""
    seq_axis = _lookup("seq_axis", seq_axis, "seq_dim", seq_dim)
    batch_axis = _lookup("batch_axis", batch_axis, "batch_dim", batch_dim)
    if seq_axis is None:
        raise TypeError("reverse_sequence() missing required argument: 'seq_axis'")
    batch_axis = 0 if batch_axis is None else int(batch_axis)
    seq_axis = int(seq_axis)
    with name_scope(name, "ReverseSequence", [input, seq_lengths]) as scope:
        x = convert_to_tensor(input, name="input")
        lens = convert_to_tensor(seq_lengths, name="seq_lengths")
        if lens.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"Value passed to parameter 'seq_lengths' has DataType "
                            f"{lens.dtype.name} not in list of allowed values: int32, int64")
        what = f"'{scope[:-1]}' (op: 'ReverseSequence')"
        if lens.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {lens.shape.ndims} for "
                             f"{what} with input shapes: {x.shape}, {lens.shape}.")
        out = x.shape
        r = x.shape.ndims
        if r is not None:
            for ax, label in ((batch_axis, "batch_dim"), (seq_axis, "seq_dim")):
                if not -r <= ax < r:
                    raise ValueError(f"{label} must be < input rank: {ax} vs. {r} for {what}")
            batch_axis %= r
            seq_axis %= r
            if batch_axis == seq_axis:
                raise ValueError(f"seq_dim must not equal batch_dim: both are {seq_axis} "
                                 f"for {what}")
            b = x.shape.as_list()[batch_axis]
            n = lens.shape.as_list()[0] if lens.shape.ndims == 1 else None
            if b is not None and n is not None and b != n:
                raise ValueError(f"Dimensions must be equal, but are {n} and {b} for {what}: "
                                 "seq_lengths has one length per batch element "
                                 f"(input {x.shape}, batch_dim {batch_axis})")
            dims = x.shape.as_list()
            if b is None and n is not None:
                dims[batch_axis] = n
            out = TensorShape(dims)
        elif batch_axis == seq_axis:
            raise ValueError(f"seq_dim must not equal batch_dim for {what}")
        return make_tensor("ReverseSequence", [x, lens], x.dtype, out,
                           {"T": x.dtype, "Tlen": lens.dtype, "seq_dim": seq_axis,
                            "batch_dim": batch_axis}, name=scope)


def _lookup(new, new_value, old, old_value):
    if new_value is not None and old_value is not None:
        raise ValueError(f"Cannot specify both '{new}' and '{old}'")
    return new_value if new_value is not None else old_value


@lowering("ReverseSequence")
def _lower_reverse_sequence(ctx, op, inputs):
    x, lens = inputs
    r = x.type.rank
    sd = ctx.axis(op.attrs["seq_dim"], r)
    bd = ctx.axis(op.attrs["batch_dim"], r)
    B, T = x.shape[bd], x.shape[sd]
    if lens.shape != (B,):
        ctx.fail(f"seq_lengths must have one length per batch element: shape {list(lens.shape)}"
                 f", but input dimension {bd} (batch_dim) is {B} (input {list(x.shape)})")
    lens = ctx.convert(lens, "i64")
    ok = ctx.b.emit("and", [
        ctx.b.emit("reduce", [ctx.b.emit("ge", [lens, ctx.scalar(0, "i64", (B,))])],
                   kind="and", axes=[0]),
        ctx.b.emit("reduce", [ctx.b.emit("le", [lens, ctx.scalar(T, "i64", (B,))])],
                   kind="and", axes=[0])])
    ctx.add_run_check(op, ok, f"{op.name} (ReverseSequence): every seq_lengths value must be "
                      f"in [0, {T}], the size of input dimension {sd} (seq_dim)")
    if x.type.size == 0:
        return [x]
    rest = [d for i, d in enumerate(x.shape) if i not in (bd, sd)]
    perm = [bd, sd] + [i for i in range(r) if i not in (bd, sd)]
    xt = ctx.b.emit("transpose", [x], perm=perm) if perm != list(range(r)) else x
    rows = ctx.b.emit("reshape", [xt], shape=[B * T, int(np.prod(rest, dtype=np.int64))])
    L = ctx.b.emit("broadcast", [lens], shape=[B, T], dims=[0])
    t = ctx.b.emit("iota", [], shape=[B, T], dtype="i64", dim=1)
    b = ctx.b.emit("iota", [], shape=[B, T], dtype="i64", dim=0)
    flipped = ctx.b.emit("sub", [ctx.b.emit("sub", [L, ctx.scalar(1, "i64", (B, T))]), t])
    src = ctx.b.emit("select", [ctx.b.emit("lt", [t, L]), flipped, t])
    idx = ctx.b.emit("add", [ctx.b.emit("mul", [b, ctx.scalar(T, "i64", (B, T))]), src])
    got = ctx.b.emit("gather", [rows, idx], axis=0)
    got = ctx.b.emit("reshape", [got], shape=[B, T] + rest)
    if perm == list(range(r)):
        return [got]
    return [ctx.b.emit("transpose", [got], perm=[int(i) for i in np.argsort(perm)])]


@RegisterGradient("ReverseSequence")
def _reverse_sequence_grad(op, grad):
    return [reverse_sequence(grad, op.inputs[1], seq_axis=op.attrs["seq_dim"],
                             batch_axis=op.attrs["batch_dim"]), None]
