"""Array manipulation ops beyond the basics: split, tile, pad (constant, reflect,
symmetric), reverse, broadcast_to and meshgrid (gather_nd, scatter_nd and the
mask ops are in index_ops.py).

Every op has TF 1.15's name, op type and static shape inference, and lowers to
the IR's movement ops (slice, pad, reverse, concatenate, broadcast). Shared IR
helpers for the lowerings of other modules (`pad_or_crop`, `dilate`,
`slice_axis`) live here too.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .op_util import constant_value, make_op, make_tensor, normalize_axis, shape_from_tensor
from .registry import lowering


def static_ints(t):
    """The value of an integer tensor (or Python list) as a flat list, if known."""
    v = constant_value(t) if isinstance(t, Tensor) else np.asarray(t)
    return None if v is None else [int(i) for i in np.reshape(v, [-1])]


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _q(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


# ---------------------------------------------------------------- IR helpers

def pad_or_crop(ctx, v, lo, hi, value=0):
    """Pads dim i by lo[i] before and hi[i] after; a negative amount crops."""
    r = v.type.rank
    if any(a < 0 for a in lo) or any(b < 0 for b in hi):
        start = [builtins.max(-a, 0) for a in lo]
        limit = [builtins.max(s, d - builtins.max(-b, 0))
                 for s, d, b in zip(start, v.shape, hi)]
        start = [builtins.min(s, d) for s, d in zip(start, v.shape)]
        limit = [builtins.min(builtins.max(s, l), d) for s, l, d in zip(start, limit, v.shape)]
        v = ctx.b.emit("slice", [v], start=start, limit=limit, stride=[1] * r)
        lo = [builtins.max(a, 0) for a in lo]
        hi = [builtins.max(b, 0) for b in hi]
    if any(lo) or any(hi):
        v = ctx.b.emit("pad", [v], low=list(lo), high=list(hi), value=value)
    return v


def dilate(ctx, v, axis, s):
    """Inserts s-1 zeros after every element along `axis` (length n -> n*s)."""
    if s == 1:
        return v
    sh = list(v.shape)
    n = sh[axis]
    v = ctx.b.emit("reshape", [v], shape=sh[:axis + 1] + [1] + sh[axis + 1:])
    lo = [0] * (len(sh) + 1)
    hi = [0] * (len(sh) + 1)
    hi[axis + 1] = s - 1
    v = ctx.b.emit("pad", [v], low=lo, high=hi, value=0)
    return ctx.b.emit("reshape", [v], shape=sh[:axis] + [n * s] + sh[axis + 1:])


def window(ctx, v, axis, start, count, stride=1):
    """`count` elements along `axis` from `start`, `stride` apart (empty when count
    is 0, wherever start is)."""
    if count == 0:
        return slice_axis(ctx, v, axis, 0, 0)
    return slice_axis(ctx, v, axis, start, start + (count - 1) * stride + 1, stride)


def place_taps(ctx, parts, axis, s, n_out, d=1):
    """The transpose of taking k strided windows: the sum over t of parts[t]
    written at t*d + s*o along `axis` (o < the parts' length there), into
    length n_out, zeros elsewhere. With d == 1, groups of s consecutive taps
    interleave into one array (a concatenate and reshape) before the shifted add."""
    count = parts[0].shape[axis]
    k = len(parts)
    shape = list(parts[0].shape)
    r = len(shape)
    total = None
    step = s if d == 1 else 1
    for g0 in builtins.range(0, k, step):
        if d != 1:
            block, off = dilate(ctx, parts[g0], axis, s), g0 * d
        elif s == 1:
            block, off = parts[g0], g0
        else:
            grp = parts[g0:g0 + s]
            grp = grp + [ctx.scalar(0, grp[0].dtype, shape)] * (s - len(grp))
            sub = shape[:axis + 1] + [1] + shape[axis + 1:]
            block = ctx.b.emit("concatenate", [ctx.b.emit("reshape", [p], shape=sub)
                                               for p in grp], axis=axis + 1)
            block = ctx.b.emit("reshape", [block],
                               shape=shape[:axis] + [count * s] + shape[axis + 1:])
            off = g0
        lo, hi = [0] * r, [0] * r
        lo[axis] = off
        hi[axis] = n_out - off - block.shape[axis]
        placed = pad_or_crop(ctx, block, lo, hi)
        total = placed if total is None else ctx.b.emit("add", [total, placed])
    return total


def slice_axis(ctx, v, axis, start, limit, stride=1):
    st = [0] * v.type.rank
    li = list(v.shape)
    sd = [1] * v.type.rank
    st[axis], li[axis], sd[axis] = start, limit, stride
    return ctx.b.emit("slice", [v], start=st, limit=li, stride=sd)


# ---------------------------------------------------------------- split

def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """tf.split: a number of equal pieces (op Split) or a list of sizes (SplitV)."""
    size_splits = convert_to_tensor(num_or_size_splits)
    if _is_int(num_or_size_splits):
        n = int(num_or_size_splits)
        with name_scope(name, "Split", [value]) as scope:
            axis_t = convert_to_tensor(axis, dtype=_dt.int32, name="split_dim")
            x = convert_to_tensor(value, name="value")
            av = constant_value(axis_t)
            out = TensorShape(None)
            if n < 1:
                raise ValueError(f"num_split must be >= 1 for '{scope[:-1]}' (op: 'Split'), "
                                 f"got {n}")
            if x.shape.ndims is not None:
                dims = x.shape.as_list()
                if av is None:
                    out = TensorShape([None] * len(dims))
                else:
                    a = normalize_axis(int(av), len(dims), "split: axis")
                    if dims[a] is not None and dims[a] % n:
                        raise ValueError(
                            f"Dimension size must be evenly divisible by {n} but is "
                            f"{dims[a]} for '{scope[:-1]}' (op: 'Split') with input shapes: "
                            f"[], {_q(x.shape)} and with computed input tensors: "
                            f"input[0] = <{int(av)}>.")
                    dims[a] = None if dims[a] is None else dims[a] // n
                    out = TensorShape(dims)
            op = make_op("Split", [axis_t, x], {"num_split": n, "T": x.dtype},
                         [(x.dtype, out)] * n, name=scope)
            return op.outputs
    if size_splits.shape.ndims == 0:
        raise ValueError("Rank-0 tensors are not supported as the num_or_size_splits "
                         f"argument to split. Argument provided: {num_or_size_splits}")
    if num is None:
        num = size_splits.shape[0].value if size_splits.shape.ndims else None
        if num is None:
            raise ValueError(f"Cannot infer num from shape {num_or_size_splits}")
    with name_scope(name, "SplitV", [value, size_splits]) as scope:
        x = convert_to_tensor(value, name="value")
        axis_t = convert_to_tensor(axis, dtype=_dt.int32, name="split_dim")
        if not size_splits.dtype.is_integer:
            raise TypeError(f"SplitV: size_splits must be int32 or int64, got "
                            f"{size_splits.dtype.name}")
        sizes = static_ints(size_splits)
        av = constant_value(axis_t)
        outs = [TensorShape(None)] * num
        if x.shape.ndims is not None:
            dims = x.shape.as_list()
            if av is None or sizes is None:
                outs = [TensorShape([None] * len(dims))] * num
            else:
                a = normalize_axis(int(av), len(dims), "split: axis")
                if len(sizes) != num:
                    raise ValueError(f"SplitV: num_split {num} doesn't match the "
                                     f"{len(sizes)} sizes {sizes}")
                sizes = _resolve_sizes(sizes, dims[a], scope[:-1])
                outs = []
                for s in sizes:
                    d = list(dims)
                    d[a] = s
                    outs.append(TensorShape(d))
        op = make_op("SplitV", [x, size_splits, axis_t],
                     {"num_split": num, "T": x.dtype, "Tlen": size_splits.dtype},
                     [(x.dtype, s) for s in outs], name=scope)
        return op.outputs


def _resolve_sizes(sizes, total, opname, fail=None):
    """SplitV's sizes with the one -1 filled in (None where `total` is unknown)."""
    def err(msg):
        if fail is not None:
            fail(msg)
        raise ValueError(msg + f" for '{opname}' (op: 'SplitV')")
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1:
        err(f"Only one dimensions can have a value of -1. Second one found at dimension "
            f"{unknown[1]}")
    known = builtins.sum(s for s in sizes if s != -1)
    if any(s < -1 for s in sizes):
        err(f"SplitV: sizes must be >= 0 (or one -1), got {sizes}")
    if total is None:
        return [None if s == -1 else s for s in sizes]
    if unknown:
        if known > total:
            err(f"Determined shape must either match input shape along split_dim exactly "
                f"if fully specified, or be less than the size of the input along "
                f"split_dim if not fully specified.  Got: {known}")
        return [total - known if s == -1 else s for s in sizes]
    if known != total:
        err(f"Determined shape must either match input shape along split_dim exactly if "
            f"fully specified, or be less than the size of the input along split_dim if not "
            f"fully specified.  Got: {known}")
    return sizes


@lowering("Split")
def _lower_split(ctx, op, inputs):
    axis_v, x = inputs
    a = ctx.axis(int(ctx.const_value(axis_v, "split axis")), x.type.rank)
    n = op.attrs["num_split"]
    if x.shape[a] % n:
        ctx.fail(f"Number of ways to split should evenly divide the split dimension, but "
                 f"got split_dim {a} (size = {x.shape[a]}) and num_split {n}")
    step = x.shape[a] // n
    return [slice_axis(ctx, x, a, i * step, (i + 1) * step) for i in builtins.range(n)]


@lowering("SplitV")
def _lower_split_v(ctx, op, inputs):
    x, sizes_v, axis_v = inputs
    a = ctx.axis(int(ctx.const_value(axis_v, "split axis")), x.type.rank)
    sizes = [int(s) for s in np.reshape(ctx.const_value(sizes_v, "split sizes"), [-1])]
    sizes = _resolve_sizes(sizes, x.shape[a], op.name, fail=ctx.fail)
    outs, at = [], 0
    for s in sizes:
        outs.append(slice_axis(ctx, x, a, at, at + s))
        at += s
    return outs


# ---------------------------------------------------------------- tile

def tile(input, multiples, name=None):  # noqa: A002
    with name_scope(name, "Tile", [input, multiples]) as scope:
        x = convert_to_tensor(input, name="input")
        m = multiples if isinstance(multiples, Tensor) else convert_to_tensor(
            multiples, dtype=_dt.int32, name="multiples")
        mv = static_ints(m)
        out = TensorShape(None)
        if x.shape.ndims is not None:
            r = x.shape.ndims
            if m.shape.ndims is not None and m.shape.ndims != 1:
                raise ValueError(f"Shape must be rank 1 but is rank {m.shape.ndims} for "
                                 f"'{scope[:-1]}' (op: 'Tile') with input shapes: "
                                 f"{_q(x.shape)}, {_q(m.shape)}.")
            if mv is not None and len(mv) != r:
                raise ValueError(f"Shape must be rank {len(mv)} but is rank {r} for "
                                 f"'{scope[:-1]}' (op: 'Tile') with input shapes: "
                                 f"{_q(x.shape)}, [{len(mv)}].")
            if mv is not None and any(v < 0 for v in mv):
                raise ValueError(f"Tile: multiples must be non-negative, got {mv}")
            dims = x.shape.as_list()
            out = TensorShape([None if mv is None or d is None else d * mv[i]
                               for i, d in enumerate(dims)])
        return make_tensor("Tile", [x, m], x.dtype, out,
                           {"T": x.dtype, "Tmultiples": m.dtype}, name=scope)


@lowering("Tile")
def _lower_tile(ctx, op, inputs):
    x, m = inputs
    mv = [int(v) for v in np.reshape(ctx.const_value(m, "Tile multiples"), [-1])]
    if len(mv) != x.type.rank:
        ctx.fail(f"Expected multiples argument to be a vector of length {x.type.rank} but "
                 f"got length {len(mv)}")
    if any(v < 0 for v in mv):
        ctx.fail(f"Expected multiples[i] >= 0, got {mv}")
    if all(v == 1 for v in mv):
        return [x]
    inter = []
    for k, d in zip(mv, x.shape):
        inter += [k, d]
    v = ctx.b.emit("broadcast", [x], shape=inter,
                   dims=list(builtins.range(1, 2 * x.type.rank, 2)))
    return [ctx.b.emit("reshape", [v], shape=[k * d for k, d in zip(mv, x.shape)])]


# ---------------------------------------------------------------- pad

def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """tf.pad: op Pad, PadV2 (nonzero constant_values) or MirrorPad."""
    mode = str(mode).upper()
    if mode == "CONSTANT":
        if not isinstance(constant_values, Tensor) and np.all(np.asarray(constant_values) == 0):
            return _pad_op("Pad", tensor, paddings, None, None, name)
        return _pad_op("PadV2", tensor, paddings, constant_values, None, name)
    if mode in ("REFLECT", "SYMMETRIC"):
        return _pad_op("MirrorPad", tensor, paddings, None, mode, name)
    raise ValueError(f"Unknown padding mode: {mode}")


def _pad_op(op_type, tensor, paddings, constant_values, mode, name):
    with name_scope(name, op_type, [tensor, paddings]) as scope:
        x = convert_to_tensor(tensor, name="input")
        p = paddings if isinstance(paddings, Tensor) else convert_to_tensor(
            paddings, dtype=_dt.int32, name="paddings")
        if not p.dtype.is_integer:
            raise TypeError(f"{op_type}: paddings must be int32 or int64, got {p.dtype.name}")
        inputs = [x, p]
        attrs = {"T": x.dtype, "Tpaddings": p.dtype}
        if op_type == "PadV2":
            inputs.append(convert_to_tensor(constant_values, dtype=x.dtype,
                                            name="constant_values"))
        if mode is not None:
            attrs["mode"] = mode
        pv = constant_value(p)
        out = TensorShape(None)
        r = x.shape.ndims
        if p.shape.ndims is not None and p.shape.ndims != 2 or (
                p.shape.ndims == 2 and p.shape[1].value not in (None, 2)):
            raise ValueError(f"Shape must be rank 2 with 2 columns but is {_q(p.shape)} for "
                             f"'{scope[:-1]}' (op: '{op_type}')")
        if r is None and p.shape.ndims == 2 and p.shape[0].value is not None:
            r = p.shape[0].value
        if r is not None:
            if p.shape.ndims == 2 and p.shape[0].value not in (None, r):
                raise ValueError(f"Shape must be rank {p.shape[0].value} but is rank {r} "
                                 f"for '{scope[:-1]}' (op: '{op_type}') with input shapes: "
                                 f"{_q(x.shape)}, {_q(p.shape)}.")
            dims = x.shape.as_list() if x.shape.ndims is not None else [None] * r
            if pv is None:
                out = TensorShape([None] * r)
            else:
                pv = np.reshape(pv, [r, 2])
                if np.any(pv < 0):
                    raise ValueError(f"Paddings must be non-negative for '{scope[:-1]}' "
                                     f"(op: '{op_type}'), got {pv.tolist()}")
                out = TensorShape([None if d is None else d + int(a) + int(b)
                                   for d, (a, b) in zip(dims, pv)])
        return make_tensor(op_type, inputs, x.dtype, out, attrs, name=scope)


def _paddings(ctx, p, rank, what):
    pv = np.asarray(ctx.const_value(p, what))
    if pv.shape != (rank, 2):
        ctx.fail(f"The first dimension of paddings must be the rank of inputs "
                 f"{[rank, 2]}, but got paddings of shape {list(pv.shape)}")
    if np.any(pv < 0):
        ctx.fail(f"Paddings must be non-negative: {pv.tolist()}")
    return [int(a) for a in pv[:, 0]], [int(b) for b in pv[:, 1]]


@lowering("Pad", "PadV2")
def _lower_pad(ctx, op, inputs):
    x, p = inputs[0], inputs[1]
    lo, hi = _paddings(ctx, p, x.type.rank, "Pad paddings")
    if len(inputs) == 2:
        return [pad_or_crop(ctx, x, lo, hi, False if x.dtype == "bool" else 0)]
    cv = inputs[2]
    try:
        from .. import lowering as _low
        val = _low._fold(cv)
    except Exception:  # noqa: BLE001 - folding is only an optimization here
        val = None
    if val is not None:
        return [pad_or_crop(ctx, x, lo, hi, val.item())]
    # a computed pad value: pad with zeros, then select the border
    zero = False if x.dtype == "bool" else 0
    padded = pad_or_crop(ctx, x, lo, hi, zero)
    inside = pad_or_crop(ctx, ctx.scalar(True, "bool", x.shape), lo, hi, False)
    return [ctx.b.emit("select", [inside, padded, ctx.bcast(cv, padded.shape)])]


def _mirror_parts(ctx, x, axis, lo, hi, mode, opname):
    n = x.shape[axis]
    off = 1 if mode == "REFLECT" else 0
    if lo > n - off or hi > n - off:
        ctx.fail(f"paddings must be less than{'' if off else ' or equal to'} the dimension "
                 f"size: {lo}, {hi} not less than{'' if off else ' or equal to'} {n}"
                 if off else f"paddings must be no greater than the dimension size: {lo}, "
                 f"{hi} greater than {n}")
    parts = []
    if lo:
        parts.append(ctx.b.emit("reverse", [slice_axis(ctx, x, axis, off, off + lo)],
                                axes=[axis]))
    parts.append(x)
    if hi:
        parts.append(ctx.b.emit("reverse", [slice_axis(ctx, x, axis, n - off - hi, n - off)],
                                axes=[axis]))
    return parts


@lowering("MirrorPad")
def _lower_mirror_pad(ctx, op, inputs):
    x, p = inputs
    lo, hi = _paddings(ctx, p, x.type.rank, "MirrorPad paddings")
    mode = op.attrs["mode"]
    for ax in builtins.range(x.type.rank):
        if lo[ax] or hi[ax]:
            parts = _mirror_parts(ctx, x, ax, lo[ax], hi[ax], mode, op.name)
            x = ctx.b.emit("concatenate", parts, axis=ax)
    return [x]


def mirror_pad_grad(grad, paddings, mode, name=None):
    """The gradient of MirrorPad: op MirrorPadGrad (folds the mirrored borders back)."""
    g = convert_to_tensor(grad)
    p = convert_to_tensor(paddings)
    pv = constant_value(p)
    out = TensorShape(None)
    if g.shape.ndims is not None:
        dims = g.shape.as_list()
        if pv is None:
            out = TensorShape([None] * len(dims))
        else:
            pv = np.reshape(pv, [len(dims), 2])
            out = TensorShape([None if d is None else d - int(a) - int(b)
                               for d, (a, b) in zip(dims, pv)])
    return make_tensor("MirrorPadGrad", [g, p], g.dtype, out,
                       {"T": g.dtype, "Tpaddings": p.dtype, "mode": mode}, name=name)


@lowering("MirrorPadGrad")
def _lower_mirror_pad_grad(ctx, op, inputs):
    g, p = inputs
    lo, hi = _paddings(ctx, p, g.type.rank, "MirrorPadGrad paddings")
    off = 1 if op.attrs["mode"] == "REFLECT" else 0
    for ax in builtins.range(g.type.rank):
        a, b = lo[ax], hi[ax]
        if not a and not b:
            continue
        total = g.shape[ax]
        n = total - a - b
        r = g.type.rank
        out = slice_axis(ctx, g, ax, a, a + n)
        if a:
            left = ctx.b.emit("reverse", [slice_axis(ctx, g, ax, 0, a)], axes=[ax])
            lo_p, hi_p = [0] * r, [0] * r
            lo_p[ax], hi_p[ax] = off, n - off - a
            out = ctx.b.emit("add", [out, pad_or_crop(ctx, left, lo_p, hi_p)])
        if b:
            right = ctx.b.emit("reverse", [slice_axis(ctx, g, ax, a + n, total)], axes=[ax])
            lo_p, hi_p = [0] * r, [0] * r
            lo_p[ax], hi_p[ax] = n - off - b, off
            out = ctx.b.emit("add", [out, pad_or_crop(ctx, right, lo_p, hi_p)])
        g = out
    return [g]


# ---------------------------------------------------------------- reverse

def reverse(tensor, axis, name=None):
    """tf.reverse (TF 1.15: op ReverseV2 over a list of axes)."""
    with name_scope(name, "ReverseV2", [tensor, axis]) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        a = axis if isinstance(axis, Tensor) else convert_to_tensor(
            axis, dtype=_dt.int32, name="axis")
        av = static_ints(a)
        if av is not None and x.shape.ndims is not None:
            r = x.shape.ndims
            norm = [normalize_axis(v, r, "reverse: axis") for v in av]
            if len(set(norm)) != len(norm):
                raise ValueError(f"axis {av} specified more than once for '{scope[:-1]}' "
                                 "(op: 'ReverseV2')")
        return make_tensor("ReverseV2", [x, a], x.dtype, x.shape,
                           {"T": x.dtype, "Tidx": a.dtype}, name=scope)


reverse_v2 = reverse


@lowering("ReverseV2")
def _lower_reverse(ctx, op, inputs):
    x, a = inputs
    axes = sorted({ctx.axis(v, x.type.rank)
                   for v in np.reshape(ctx.const_value(a, "reverse axis"), [-1])})
    if not axes:
        return [x]
    return [ctx.b.emit("reverse", [x], axes=axes)]


# ---------------------------------------------------------------- broadcast_to / meshgrid

def broadcast_to(input, shape, name=None):  # noqa: A002
    with name_scope(name, "BroadcastTo", [input, shape]) as scope:
        x = convert_to_tensor(input, name="input")
        s = shape if isinstance(shape, Tensor) else convert_to_tensor(
            shape, dtype=_dt.int32, name="shape")
        out = shape_from_tensor(s)
        if out.ndims is not None and x.shape.ndims is not None:
            if x.shape.ndims > out.ndims:
                raise ValueError(f"Rank of input ({x.shape.ndims}) must be no greater than "
                                 f"rank of output shape ({out.ndims}) for '{scope[:-1]}' "
                                 f"(op: 'BroadcastTo')")
            od = out.as_list()
            xd = [1] * (len(od) - x.shape.ndims) + x.shape.as_list()
            for i, (a, b) in enumerate(zip(xd, od)):
                if a is not None and b is not None and a != 1 and a != b:
                    raise ValueError(f"Incompatible shapes: {_q(x.shape)} vs. {_q(out)} for "
                                     f"'{scope[:-1]}' (op: 'BroadcastTo')")
        return make_tensor("BroadcastTo", [x, s], x.dtype, out,
                           {"T": x.dtype, "Tidx": s.dtype}, name=scope)


@lowering("BroadcastTo")
def _lower_broadcast_to(ctx, op, inputs):
    x, s = inputs
    shape = tuple(int(d) for d in np.reshape(ctx.const_value(s, "BroadcastTo shape"), [-1]))
    return [ctx.bcast(x, shape)]


def meshgrid(*args, **kwargs):
    """tf.meshgrid(*args, indexing='xy', name='meshgrid')."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"Invalid keyword arguments: {list(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    from .array_ops import ones, reshape, size
    with name_scope(name, "meshgrid", args):
        ndim = len(args)
        s0 = (1,) * ndim
        output = [reshape(convert_to_tensor(x), s0[:i] + (-1,) + s0[i + 1:])
                  for i, x in enumerate(args)]
        shapes = [size(x) for x in args]
        dt = convert_to_tensor(args[0]).dtype
        if indexing == "xy" and ndim > 1:
            output[0] = reshape(output[0], (1, -1) + (1,) * (ndim - 2))
            output[1] = reshape(output[1], (-1, 1) + (1,) * (ndim - 2))
            shapes[0], shapes[1] = shapes[1], shapes[0]
        from .array_ops import stack
        mult = ones(stack(shapes), dt)
        return [x * mult for x in output]
