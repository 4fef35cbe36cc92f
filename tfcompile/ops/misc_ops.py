"""tf.roll, tf.searchsorted (ops LowerBound / UpperBound), tf.unravel_index and
tf.histogram_fixed_width (with histogram_fixed_width_bins), with TF 1.15's
names, op types, static shapes and errors; install() also attaches the
categorical sampling of categorical_ops.py and the math of misc_math.py.

The IR has no sort, search or scatter, so: a roll is two slices and a
concatenate (a gather of computed indices where the shift is known only when
the graph runs); a sorted search is a binary search unrolled over the
sequence length's bits, all values at once (gathers and selects); a
histogram sums one-hot rows of the bin indices, in blocks of bounded size.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from . import array_ops, math_ops
from .constant_op import convert_to_tensor
from .manip_ops import slice_axis
from .op_util import constant_value, make_tensor
from .registry import NotDifferentiable, RegisterGradient, lowering

_INDEX = (_dt.int32, _dt.int64)
_BLOCK = 1 << 22   # elements of one comparison block


def _q(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _check_index_dtype(t, param, op_type):
    if t.dtype not in _INDEX:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.name} "
                        f"not in list of allowed values: int32, int64 (op '{op_type}')")


def _fold(v):
    from ..lowering import _fold as fold
    return fold(v)


# ---------------------------------------------------------------- roll

def roll(input, shift, axis, name=None):  # noqa: A002 - TF's argument name
    """Elements shifted by `shift` places along `axis` (both scalars or equal-length
    vectors; shifts of one axis add up), wrapping around."""
    with name_scope(name, "Roll", [input, shift, axis]) as scope:
        x = convert_to_tensor(input, name="input")
        s = convert_to_tensor(shift, name="shift")
        a = convert_to_tensor(axis, name="axis")
        _check_index_dtype(s, "shift", "Roll")
        _check_index_dtype(a, "axis", "Roll")
        where = f"for '{scope[:-1]}' (op: 'Roll') with input shapes: {_q(x.shape)}, " \
                f"{_q(s.shape)}, {_q(a.shape)}."
        if x.shape.ndims == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 {where}")
        for t in (s, a):
            if t.shape.ndims is not None and t.shape.ndims > 1:
                raise ValueError(f"Shape must be at most rank 1 but is rank {t.shape.ndims} "
                                 f"{where}")
        if s.shape.ndims is not None and a.shape.ndims is not None:
            if s.shape.ndims != a.shape.ndims:
                raise ValueError(f"Shapes must be equal rank, but are {s.shape.ndims} and "
                                 f"{a.shape.ndims} {where}")
            if not s.shape.is_compatible_with(a.shape):
                raise ValueError(f"Dimension 0 in both shapes must be equal, but are "
                                 f"{s.shape[0].value} and {a.shape[0].value} {where}")
        return make_tensor("Roll", [x, s, a], x.dtype, x.shape,
                           {"T": x.dtype, "Tshift": s.dtype, "Taxis": a.dtype}, name=scope)


@lowering("Roll")
def _lower_roll(ctx, op, inputs):
    x, s, a = inputs
    r = x.type.rank
    if r == 0:
        ctx.fail("input must be 1-D or higher")
    if s.type.rank > 1 or a.type.rank > 1:
        ctx.fail(f"shift and axis must be scalars or 1-D vectors, got shapes "
                 f"{list(s.shape)} and {list(a.shape)}")
    axes = [int(v) for v in np.reshape(ctx.const_value(a, "Roll axis"), [-1])]
    if s.type.size != len(axes):
        ctx.fail(f"shift and axis must have the same size, got shapes {list(s.shape)} and "
                 f"{list(a.shape)}")
    norm = []
    for v in axes:
        if not -r <= v < r:
            ctx.fail(f"axis {v} is out of range for a tensor of rank {r}")
        norm.append(v % r)
    sv = _fold(s)
    if sv is not None:   # shifts known: per axis, two slices swap places
        total = {}
        for ax, k in zip(norm, np.reshape(sv, [-1])):
            total[ax] = total.get(ax, 0) + int(k)
        for ax, k in sorted(total.items()):
            n = x.shape[ax]
            k = k % n if n else 0
            if k:
                x = ctx.b.emit("concatenate", [slice_axis(ctx, x, ax, n - k, n),
                                               slice_axis(ctx, x, ax, 0, n - k)], axis=ax)
        return [x]
    # shifts known only at run time: gather the source index (i - shift) mod n
    flat = ctx.convert(ctx.b.emit("reshape", [s], shape=[len(axes)]), "i64")
    per_axis = {}
    for j, ax in enumerate(norm):
        k = ctx.b.emit("reshape", [slice_axis(ctx, flat, 0, j, j + 1)], shape=[])
        per_axis[ax] = k if ax not in per_axis else ctx.b.emit("add", [per_axis[ax], k])
    for ax, k in sorted(per_axis.items()):
        n = x.shape[ax]
        if n == 0:
            continue
        i = ctx.b.emit("iota", [], shape=[n], dtype="i64", dim=0)
        nn = ctx.scalar(n, "i64", (n,))
        src = ctx.b.emit("rem", [ctx.b.emit("sub", [i, ctx.bcast(k, (n,))]), nn])
        src = ctx.b.emit("rem", [ctx.b.emit("add", [src, nn]), nn])
        x = ctx.b.emit("gather", [x, src], axis=ax)
    return [x]


@RegisterGradient("Roll")
def _roll_grad(op, grad):
    return [roll(grad, -op.inputs[1], op.inputs[2]), None, None]


# ---------------------------------------------------------------- searchsorted

def searchsorted(sorted_sequence, values, side="left", out_type=_dt.int32, name=None):
    """For each of `values`, the index into the innermost dimension of
    `sorted_sequence` where it would be inserted to keep it sorted: before equal
    entries (side='left') or after them ('right')."""
    seq = convert_to_tensor(sorted_sequence, name="sorted_sequence")
    vals = convert_to_tensor(values, name="values")
    seq_size = array_ops._shape_internal(seq)[-1]
    val_size = array_ops._shape_internal(vals)[-1]
    seq_2d = array_ops.reshape(seq, _stack([-1, seq_size]))
    vals_2d = array_ops.reshape(vals, _stack([-1, val_size]))
    if side == "right":
        out = _bound("UpperBound", seq_2d, vals_2d, out_type, name)
    elif side == "left":
        out = _bound("LowerBound", seq_2d, vals_2d, out_type, name)
    else:
        raise ValueError(f"side must be either 'right' or 'left'.  Saw: {side}.")
    return array_ops.reshape(out, array_ops._shape_internal(vals))


def _stack(values):
    from .stack_ops import stack
    return stack(values)


def _bound(op_type, seq, vals, out_type, name):
    with name_scope(name, op_type, [seq, vals]) as scope:
        out_type = _dt.as_dtype(out_type)
        if out_type not in _INDEX:
            raise TypeError(f"Value for attr 'out_type' of {out_type.name} is not in the list "
                            "of allowed values: int32, int64")
        if seq.dtype != vals.dtype:
            raise TypeError(f"Input 'values' of '{op_type}' Op has type {vals.dtype.name} "
                            f"that does not match type {seq.dtype.name} of argument "
                            "'sorted_inputs'.")
        for t in (seq, vals):
            if t.shape.ndims not in (None, 2):
                raise ValueError(f"Shape must be rank 2 but is rank {t.shape.ndims} for "
                                 f"'{scope[:-1]}' (op: '{op_type}')")
        return make_tensor(op_type, [seq, vals], out_type, vals.shape,
                           {"T": seq.dtype, "out_type": out_type}, name=scope)


def sorted_search(ctx, seq, vals, right, out_dt):
    """For rows seq [B, N] sorted ascending and vals [B, M]: per value, the number
    of entries of its row < it (right: <= it), i.e. std::lower_bound's (upper_bound's)
    index, by a binary search unrolled over N's bit length: [B, M] of out_dt."""
    b, n = seq.shape
    m = vals.shape[1]
    if b * m == 0 or n == 0:
        return ctx.scalar(0, out_dt, (b, m))
    it = "i64" if b * n >= 2 ** 31 - 1 else "i32"
    e = ctx.b.emit
    shape = (b, m)
    flat = e("reshape", [seq], shape=[b * n])
    base = e("mul", [e("iota", [], shape=list(shape), dtype=it, dim=0),
                     ctx.scalar(n, it, shape)])
    lo, hi = ctx.scalar(0, it, shape), ctx.scalar(n, it, shape)
    one, two, last = ctx.scalar(1, it, shape), ctx.scalar(2, it, shape), \
        ctx.scalar(n - 1, it, shape)
    for _ in range(n.bit_length()):   # each step at least halves hi - lo
        active = e("lt", [lo, hi])
        mid = e("div", [e("add", [lo, hi]), two])
        at = e("gather", [flat, e("add", [base, e("min", [mid, last])])], axis=0)
        go_right = e("le" if right else "lt", [at, vals])
        up = e("and", [active, go_right])
        down = e("and", [active, e("not", [go_right])])
        lo = e("select", [up, e("add", [mid, one]), lo])
        hi = e("select", [down, mid, hi])
    return ctx.convert(lo, out_dt)


@lowering("LowerBound", "UpperBound")
def _lower_bound(ctx, op, inputs):
    seq, vals = inputs
    if seq.type.rank != 2 or vals.type.rank != 2:
        ctx.fail(f"{op.type}: sorted_inputs and values must be 2-D, got {list(seq.shape)} "
                 f"and {list(vals.shape)}")
    if vals.shape[0] != seq.shape[0]:
        ctx.fail(f"Leading dim_size of both tensors must match: sorted_inputs "
                 f"{list(seq.shape)}, values {list(vals.shape)}")
    out_dt = op.attrs["out_type"].ir
    if out_dt == "i32" and seq.shape[1] >= 2 ** 31 - 1:
        ctx.fail("trailing dim_size must less than INT_MAX for int32 output type")
    return [sorted_search(ctx, seq, vals, op.type == "UpperBound", out_dt)]


# ---------------------------------------------------------------- unravel_index

def unravel_index(indices, dims, name=None):
    """The coordinates of flat `indices` into an array of shape `dims`: [len(dims)]
    for a scalar index, [len(dims), n] for a vector of n."""
    with name_scope(name, "UnravelIndex", [indices, dims]) as scope:
        idx = convert_to_tensor(indices, name="indices")
        _check_index_dtype(idx, "indices", "UnravelIndex")
        d = convert_to_tensor(dims, dtype=idx.dtype, name="dims")
        if d.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {d.shape.ndims} for "
                             f"'{scope[:-1]}' (op: 'UnravelIndex') with input shapes: "
                             f"{_q(idx.shape)}, {_q(d.shape)}.")
        k = d.shape[0].value if d.shape.ndims == 1 else None
        if idx.shape.ndims is None:
            out = TensorShape(None)
        elif idx.shape.ndims == 0:
            out = TensorShape([k])
        else:
            out = TensorShape([k, idx.shape.num_elements()])
        return make_tensor("UnravelIndex", [idx, d], idx.dtype, out, {"Tidx": idx.dtype},
                           name=scope)


@lowering("UnravelIndex")
def _lower_unravel_index(ctx, op, inputs):
    from .sort_ops import scan_ir
    idx, dims = inputs
    if idx.type.rank > 1:
        ctx.fail(f"The indices can only be scalar or vector, got \"{list(idx.shape)}\"")
    if dims.type.rank != 1:
        ctx.fail(f"The indices can only be 1-D, got \"{list(dims.shape)}\"")
    k = dims.shape[0]
    n = idx.type.size
    dt = idx.dtype
    flat = ctx.b.emit("reshape", [idx], shape=[n])
    strides = scan_ir(ctx, dims, 0, "prod", exclusive=True, reverse=True)   # [k]
    total = ctx.b.emit("reduce", [dims], kind="prod", axes=[0])
    inside = ctx.b.emit("and", [ctx.b.emit("ge", [flat, ctx.scalar(0, dt, (n,))]),
                                ctx.b.emit("lt", [flat, ctx.bcast(total, (n,))])])
    ok = ctx.b.emit("reduce", [inside], kind="and", axes=[0])
    okv = _fold(ok)
    if okv is None:
        ctx.add_run_check(op, ok, "index is out of bound as with dims")
    elif not bool(okv):
        ctx.fail("index is out of bound as with dims")
    fi = ctx.b.emit("broadcast", [flat], shape=[k, n], dims=[1])
    st = ctx.b.emit("broadcast", [strides], shape=[k, n], dims=[0])
    dd = ctx.b.emit("broadcast", [dims], shape=[k, n], dims=[0])
    out = ctx.b.emit("rem", [ctx.b.emit("div", [fi, st]), dd])
    if idx.type.rank == 0:
        out = ctx.b.emit("reshape", [out], shape=[k])
    return [out]


# ---------------------------------------------------------------- histograms

def histogram_fixed_width(values, value_range, nbins=100, dtype=_dt.int32, name=None):
    """Counts of `values` in nbins equal bins over value_range = [lo, hi]; values
    below lo count in the first bin, values at or above hi in the last."""
    with name_scope(name, "histogram_fixed_width", [values, value_range, nbins]) as scope:
        v = convert_to_tensor(values, name="values")
        rng = convert_to_tensor(value_range, dtype=v.dtype, name="value_range")
        nb = nbins if isinstance(nbins, Tensor) else convert_to_tensor(
            nbins, dtype=_dt.int32, name="nbins")
        dtype = _dt.as_dtype(dtype)
        allowed = (_dt.int32, _dt.int64, _dt.float32, _dt.float64)
        if v.dtype not in allowed:
            raise TypeError(f"Value passed to parameter 'values' has DataType {v.dtype.name} "
                            "not in list of allowed values: int32, int64, float32, float64")
        if dtype not in _INDEX:
            raise TypeError(f"Value for attr 'dtype' of {dtype.name} is not in the list of "
                            "allowed values: int32, int64")
        if nb.dtype != _dt.int32:
            raise TypeError(f"nbins must be int32, got {nb.dtype.name}")
        if rng.shape.ndims not in (None, 1) or nb.shape.ndims not in (None, 0):
            raise ValueError(f"value_range must be a vector and nbins a scalar, got shapes "
                             f"{_q(rng.shape)} and {_q(nb.shape)}")
        nv = constant_value(nb)
        if nv is not None and int(nv) <= 0:
            raise ValueError(f"nbins should be a positive number, but got '{int(nv)}'")
        return make_tensor("HistogramFixedWidth", [v, rng, nb], dtype,
                           TensorShape([None if nv is None else int(nv)]),
                           {"T": v.dtype, "dtype": dtype}, name=scope)


@lowering("HistogramFixedWidth")
def _lower_histogram(ctx, op, inputs):
    v, rng, nb = inputs
    n = int(ctx.const_value(nb, "histogram_fixed_width nbins"))
    if n <= 0:
        ctx.fail(f"nbins should be a positive number, but got '{n}'")
    if rng.shape != (2,):
        ctx.fail(f"value_range should be a vector of 2 elements, got shape {list(rng.shape)}")
    b = ctx.b
    lo = b.emit("reshape", [slice_axis(ctx, rng, 0, 0, 1)], shape=[])
    hi = b.emit("reshape", [slice_axis(ctx, rng, 0, 1, 2)], shape=[])
    ok = b.emit("lt", [lo, hi])
    okv = _fold(ok)
    msg = "value_range should satisfy value_range[0] < value_range[1]"
    if okv is None:
        ctx.add_run_check(op, ok, msg)
    elif not bool(okv):
        ctx.fail(f"{msg}, but got {np.asarray(_fold(rng)).tolist()}")
    m = v.type.size
    out_dt = op.attrs["dtype"].ir
    flat = b.emit("reshape", [v], shape=[m])
    # TF's kernel: (max(x, lo) - lo) in the values' type, then double, over the step
    step = b.emit("div", [ctx.convert(b.emit("sub", [hi, lo]), "f64"), ctx.scalar(n, "f64")])
    shifted = b.emit("sub", [b.emit("max", [flat, ctx.bcast(lo, (m,))]), ctx.bcast(lo, (m,))])
    pos = b.emit("div", [ctx.convert(shifted, "f64"), ctx.bcast(step, (m,))])
    pos = b.emit("min", [pos, ctx.scalar(n - 1, "f64", (m,))])
    bins = ctx.convert(pos, "i32")
    total = None
    step_m = max(1, _BLOCK // n)
    for i0 in range(0, m, step_m):
        c = min(m, i0 + step_m) - i0
        part = slice_axis(ctx, bins, 0, i0, i0 + c)
        hit = b.emit("eq", [b.emit("broadcast", [part], shape=[c, n], dims=[0]),
                            b.emit("iota", [], shape=[c, n], dtype="i32", dim=1)])
        cnt = b.emit("reduce", [ctx.convert(hit, out_dt)], kind="sum", axes=[0])
        total = cnt if total is None else b.emit("add", [total, cnt])
    return [total if total is not None else ctx.scalar(0, out_dt, (n,))]


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=_dt.int32, name=None):
    """The bin index of each of `values` (same shape), as histogram_fixed_width
    would count it (TF 1.15's Python composition)."""
    from .clip_ops import clip_by_value
    with name_scope(name, "histogram_fixed_width_bins", [values, value_range, nbins]):
        values = convert_to_tensor(values, name="values")
        shape = array_ops.shape(values)
        values = array_ops.reshape(values, [-1])
        value_range = convert_to_tensor(value_range, name="value_range")
        nbins = convert_to_tensor(nbins, dtype=_dt.int32, name="nbins")
        nbins_float = math_ops.cast(nbins, values.dtype)
        scaled = math_ops.truediv(values - value_range[0], value_range[1] - value_range[0],
                                  name="scaled_values")
        indices = math_ops.floor(nbins_float * scaled, name="indices")
        indices = math_ops.cast(clip_by_value(indices, 0, nbins_float - 1), _dt.int32)
        return array_ops.reshape(indices, shape)


for _t in ("LowerBound", "UpperBound", "UnravelIndex", "HistogramFixedWidth"):
    NotDifferentiable(_t)


def install(tf):
    """tf.roll (also tf.manip.roll), tf.searchsorted, tf.unravel_index, the
    histograms, tf.random.categorical / tf.multinomial and tf.math's extras."""
    from ..namespaces import _namespace
    from . import categorical_ops, misc_math
    for k, v in dict(roll=roll, searchsorted=searchsorted, unravel_index=unravel_index,
                     histogram_fixed_width=histogram_fixed_width,
                     histogram_fixed_width_bins=histogram_fixed_width_bins,
                     multinomial=categorical_ops.multinomial).items():
        setattr(tf, k, v)
    manip = getattr(tf, "manip", None) or _namespace("manip", "tf.manip")
    manip.roll = roll
    tf.manip = manip
    tf.random.categorical = categorical_ops.categorical
    tf.random.multinomial = categorical_ops.multinomial
    tf.math.polyval = misc_math.polyval
    tf.math.reduce_euclidean_norm = misc_math.reduce_euclidean_norm
    tf.math.bessel_i0e = misc_math.bessel_i0e
    tf.math.bessel_i1e = misc_math.bessel_i1e
    tf.math.bessel_i0 = misc_math.bessel_i0
    tf.math.bessel_i1 = misc_math.bessel_i1
