"""Array ops: placeholders, shapes, reshape, transpose, fills, stacking,
concatenation, gather, one_hot, where (slicing and `Tensor.__getitem__` are in
slice_ops.py, and re-exported here as TF's array_ops has them)."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape, as_shape
from .constant_op import constant, convert_to_tensor
from .op_util import (broadcast_static_shape, constant_value, make_op, make_tensor,
                      normalize_axis, shape_from_tensor)
from .registry import lowering


# ---------------------------------------------------------------- placeholders

def placeholder(dtype, shape=None, name=None):
    dtype = _dt.as_dtype(dtype)
    shape = as_shape(shape) if shape is not None else TensorShape(None)
    return make_tensor("Placeholder", [], dtype, shape, {"dtype": dtype, "shape": shape},
                       name=name)


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    x = convert_to_tensor(input)
    shape = as_shape(shape)
    if not shape.is_compatible_with(x.shape):
        raise ValueError(f"placeholder_with_default: shape {shape} is incompatible with "
                         f"the default's shape {x.shape}")
    return make_tensor("PlaceholderWithDefault", [x], x.dtype, shape,
                       {"dtype": x.dtype, "shape": shape}, name=name)


@lowering("PlaceholderWithDefault")
def _lower_pwd(ctx, op, inputs):
    return [inputs[0]]


# ---------------------------------------------------------------- shapes

def shape(input, name=None, out_type=_dt.int32):  # noqa: A002
    x = convert_to_tensor(input)
    r = x.shape.ndims
    return make_tensor("Shape", [x], _dt.as_dtype(out_type), [r],
                       {"T": x.dtype, "out_type": _dt.as_dtype(out_type)}, name=name)


def size(input, name=None, out_type=_dt.int32):  # noqa: A002
    x = convert_to_tensor(input)
    return make_tensor("Size", [x], _dt.as_dtype(out_type), [],
                       {"T": x.dtype, "out_type": _dt.as_dtype(out_type)}, name=name)


def rank(input, name=None):  # noqa: A002
    x = convert_to_tensor(input)
    return make_tensor("Rank", [x], _dt.int32, [], {"T": x.dtype}, name=name)


@lowering("Shape")
def _lower_shape(ctx, op, inputs):
    return [ctx.b.constant(np.array(inputs[0].shape, dtype=op.attrs["out_type"].as_numpy_dtype))]


@lowering("Size")
def _lower_size(ctx, op, inputs):
    return [ctx.b.constant(np.array(inputs[0].type.size,
                                    dtype=op.attrs["out_type"].as_numpy_dtype))]


@lowering("Rank")
def _lower_rank(ctx, op, inputs):
    return [ctx.b.constant(np.array(inputs[0].type.rank, dtype=np.int32))]


# ---------------------------------------------------------------- reshape / transpose

def _reshape_static(in_shape, spec):
    """The static result shape of a reshape to `spec` (a TensorShape, -1 as None)."""
    if spec.ndims is None:
        return TensorShape(None)
    dims = spec.as_list()
    return TensorShape(dims)


def reshape(tensor, shape, name=None):
    x = convert_to_tensor(tensor)
    with name_scope(name, "Reshape", [x]) as scope:
        shape_t = shape if isinstance(shape, Tensor) else convert_to_tensor(
            shape, dtype=_dt.int32, name="shape")
        if not shape_t.dtype.is_integer:
            raise TypeError(f"Reshape: shape must be int32 or int64, got {shape_t.dtype.name}")
        sv = constant_value(shape_t)
        out = shape_from_tensor(shape_t)
        if sv is not None:
            sv = [int(d) for d in np.reshape(sv, [-1])]
            if builtins.sum(1 for d in sv if d == -1) > 1:
                raise ValueError(f"Reshape: can only infer one unknown dimension, got {sv}")
            n_in = x.shape.num_elements()
            known = int(np.prod([d for d in sv if d != -1], dtype=np.int64))
            if -1 in sv:
                if n_in is not None:
                    if known == 0 or n_in % known:
                        raise ValueError(f"Cannot reshape a tensor with {n_in} elements to "
                                         f"shape {sv} for '{scope[:-1]}' (op: 'Reshape')")
                    sv = [n_in // known if d == -1 else d for d in sv]
                out = TensorShape([None if d == -1 else d for d in sv])
            elif n_in is not None and n_in != known:
                raise ValueError(f"Cannot reshape a tensor with {n_in} elements to shape "
                                 f"{sv} ({known} elements) for '{scope[:-1]}' (op: 'Reshape') "
                                 f"with input shapes: {x.shape}.")
        return make_tensor("Reshape", [x, shape_t], x.dtype, out,
                           {"T": x.dtype, "Tshape": shape_t.dtype}, name=scope)


@lowering("Reshape")
def _lower_reshape(ctx, op, inputs):
    x = inputs[0]
    sv = [int(d) for d in np.reshape(ctx.const_value(inputs[1], "Reshape shape"), [-1])]
    n = x.type.size
    if -1 in sv:
        known = int(np.prod([d for d in sv if d != -1], dtype=np.int64))
        if known == 0 or n % known:
            ctx.fail(f"Input to reshape is a tensor with {n} values, but the requested "
                     f"shape requires a multiple of {known}")
        sv = [n // known if d == -1 else d for d in sv]
    if int(np.prod(sv, dtype=np.int64)) != n:
        ctx.fail(f"Input to reshape is a tensor with {n} values, but the requested shape "
                 f"has {int(np.prod(sv, dtype=np.int64))}")
    return [ctx.b.emit("reshape", [x], shape=sv)]


def transpose(a, perm=None, name="transpose", conjugate=False):
    x = convert_to_tensor(a)
    with name_scope(name, "transpose", [x]) as scope:
        r = x.shape.ndims
        if perm is None:
            if r is None:
                raise ValueError("transpose: perm=None needs a tensor of known rank")
            perm = list(builtins.range(r - 1, -1, -1))
        perm_t = perm if isinstance(perm, Tensor) else constant(perm, dtype=_dt.int32,
                                                                 name="perm")
        pv = constant_value(perm_t)
        out = TensorShape(None)
        if pv is not None and r is not None:
            pv = [int(p) for p in pv]
            if sorted(pv) != list(builtins.range(r)):
                raise ValueError(f"transpose: perm {pv} is not a permutation of "
                                 f"0..{r - 1} for input of shape {x.shape}")
            dims = x.shape.as_list()
            out = TensorShape([dims[p] for p in pv])
        return make_tensor("Transpose", [x, perm_t], x.dtype, out,
                           {"T": x.dtype, "Tperm": perm_t.dtype}, name=scope)


@lowering("Transpose")
def _lower_transpose(ctx, op, inputs):
    perm = [int(p) for p in ctx.const_value(inputs[1], "Transpose perm")]
    if sorted(perm) != list(builtins.range(inputs[0].type.rank)):
        ctx.fail(f"transpose expects a permutation of 0..{inputs[0].type.rank - 1}, got {perm}")
    return [ctx.b.emit("transpose", [inputs[0]], perm=perm)]


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    x = convert_to_tensor(a)
    r = x.shape.ndims
    if r is None or r < 2:
        raise ValueError(f"matrix_transpose: input must have rank >= 2, got shape {x.shape}")
    perm = list(builtins.range(r - 2)) + [r - 1, r - 2]
    return transpose(x, perm, name=name)


# ---------------------------------------------------------------- fills

def fill(dims, value, name=None):
    with name_scope(name, "Fill", [dims, value]) as scope:
        dims_t = dims if isinstance(dims, Tensor) else convert_to_tensor(
            dims, dtype=_dt.int32, name="dims")
        v = convert_to_tensor(value, name="value")
        if v.shape.ndims not in (None, 0):
            raise ValueError(f"Fill: value must be a scalar, got shape {v.shape}")
        return make_tensor("Fill", [dims_t, v], v.dtype, shape_from_tensor(dims_t),
                           {"T": v.dtype, "index_type": dims_t.dtype}, name=scope)


@lowering("Fill")
def _lower_fill(ctx, op, inputs):
    dims = [int(d) for d in np.reshape(ctx.const_value(inputs[0], "Fill dims"), [-1])]
    if any(d < 0 for d in dims):
        ctx.fail(f"Fill dims must be non-negative, got {dims}")
    return [ctx.bcast(inputs[1], tuple(dims))]


def _filled(shape, dtype, value, name, default):
    dtype = _dt.as_dtype(dtype)
    with name_scope(name, default, [shape]) as scope:
        if isinstance(shape, Tensor):
            sv = constant_value(shape)
            if sv is None:
                return fill(shape, constant(value, dtype=dtype), name=scope)
            shape = [int(d) for d in sv]
        elif isinstance(shape, TensorShape):
            shape = shape.as_list()
        elif isinstance(shape, (int, np.integer)):
            shape = [int(shape)]
        shape = [int(d) for d in shape]
        n = int(np.prod(shape, dtype=np.int64))
        if n < 1000:
            return constant(np.full(shape, value, dtype=dtype.as_numpy_dtype), name=scope)
        shape_t = constant(shape, dtype=_dt.int32, name="shape_as_tensor")
        return fill(shape_t, constant(value, dtype=dtype, name="Const"), name=scope)


def zeros(shape, dtype=_dt.float32, name=None):
    return _filled(shape, dtype, 0, name, "zeros")


def ones(shape, dtype=_dt.float32, name=None):
    return _filled(shape, dtype, 1, name, "ones")


def _like(tensor, dtype, name, default, value, op_type):
    from ..variables import Variable
    if isinstance(tensor, Variable):
        tensor = tensor.value()
    x = convert_to_tensor(tensor)
    dtype = _dt.as_dtype(dtype) if dtype is not None else x.dtype
    if x.shape.is_fully_defined():
        return _filled(x.shape.as_list(), dtype, value, name, default)
    with name_scope(name, default, [x]) as scope:
        if dtype == x.dtype:
            return make_tensor(op_type, [x], dtype, x.shape, {"T": dtype}, name=scope)
        return fill(shape(x), constant(value, dtype=dtype), name=scope)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    return _like(tensor, dtype, name, "zeros_like", 0, "ZerosLike")


def ones_like(tensor, dtype=None, name=None, optimize=True):
    return _like(tensor, dtype, name, "ones_like", 1, "OnesLike")


@lowering("ZerosLike", "OnesLike")
def _lower_like(ctx, op, inputs):
    x = inputs[0]
    return [ctx.scalar(0 if op.type == "ZerosLike" else 1, x.dtype, x.shape)]


# ---------------------------------------------------------------- range

def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    with name_scope(name, "Range", [start, limit, delta]) as scope:
        vals = [start, limit, delta]
        tens = [v if isinstance(v, Tensor) else None for v in vals]
        if dtype is None:
            dts = [t.dtype if t is not None else constant_value(convert_to_tensor(v)).dtype
                   for v, t in zip(vals, tens)] if False else None
            kinds = []
            for v in vals:
                kinds.append(v.dtype if isinstance(v, Tensor) else
                             _dt.as_dtype(np.asarray(v).dtype) if isinstance(v, (np.ndarray, np.generic))
                             else (_dt.float32 if isinstance(v, float) else _dt.int32))
            order = [_dt.int32, _dt.int64, _dt.float32, _dt.float64]
            dtype = max(kinds, key=lambda d: order.index(d) if d in order else 0)
        dtype = _dt.as_dtype(dtype)
        s = convert_to_tensor(start, dtype=dtype, name="start") if not isinstance(start, Tensor) else start
        l = convert_to_tensor(limit, dtype=dtype, name="limit") if not isinstance(limit, Tensor) else limit
        d = convert_to_tensor(delta, dtype=dtype, name="delta") if not isinstance(delta, Tensor) else delta
        cv = [constant_value(t) for t in (s, l, d)]
        n = None
        if all(c is not None for c in cv):
            if cv[2] == 0:
                raise ValueError("Requires delta != 0")
            n = builtins.max(0, int(np.ceil((cv[1] - cv[0]) / cv[2])))
        return make_tensor("Range", [s, l, d], dtype, [n], {"Tidx": dtype}, name=scope)


@lowering("Range")
def _lower_range(ctx, op, inputs):
    s, l, d = (ctx.const_value(v, "Range bounds") for v in inputs)
    if d == 0:
        ctx.fail("Requires delta != 0")
    n = builtins.max(0, int(np.ceil((l - s) / d)))
    dt = inputs[0].dtype
    i = ctx.b.emit("iota", [], shape=[n], dtype=dt, dim=0)
    out = ctx.b.emit("add", [ctx.b.emit("mul", [i, ctx.scalar(d.item(), dt, (n,))]),
                             ctx.scalar(s.item(), dt, (n,))])
    return [out]


# ---------------------------------------------------------------- stack / unstack / concat

def stack(values, axis=0, name="stack"):
    vals = [convert_to_tensor(v) for v in values]
    if not vals:
        raise ValueError("stack: needs at least one tensor")
    with name_scope(name, "stack", vals) as scope:
        dt = vals[0].dtype
        sh = vals[0].shape
        for i, v in enumerate(vals[1:], 1):
            if v.dtype != dt:
                raise TypeError(f"stack: value {i} has dtype {v.dtype.name}, expected {dt.name}")
            if not sh.is_compatible_with(v.shape):
                raise ValueError(f"Shapes must be equal rank, but are {sh.ndims} and "
                                 f"{v.shape.ndims}; shapes {sh} and {v.shape} for "
                                 f"'{scope[:-1]}' (op: 'Pack')")
            sh = sh.merge_with(v.shape)
        out = TensorShape(None)
        if sh.ndims is not None:
            a = normalize_axis(axis, sh.ndims + 1, "stack: axis")
            dims = sh.as_list()
            out = TensorShape(dims[:a] + [len(vals)] + dims[a:])
        else:
            a = int(axis)
        return make_tensor("Pack", vals, dt, out, {"N": len(vals), "T": dt, "axis": a},
                           name=scope)


pack = stack


def _autopack(value, dtype=None, name="packed"):
    def conv(v):
        if isinstance(v, (list, tuple)):
            return stack([conv(x) for x in v])
        return convert_to_tensor(v, dtype=dtype)
    return conv(value)


@lowering("Pack")
def _lower_pack(ctx, op, inputs):
    a = op.attrs["axis"]
    shp = inputs[0].shape
    for v in inputs[1:]:
        if v.shape != shp:
            ctx.fail(f"Shapes of all inputs must match: values[0].shape = {list(shp)} != "
                     f"values[{inputs.index(v)}].shape = {list(v.shape)}")
    a = ctx.axis(a, len(shp) + 1)
    parts = [ctx.b.emit("reshape", [v], shape=shp[:a] + (1,) + shp[a:]) for v in inputs]
    return [ctx.b.emit("concatenate", parts, axis=a)]


def unstack(value, num=None, axis=0, name="unstack"):
    x = convert_to_tensor(value)
    with name_scope(name, "unstack", [x]) as scope:
        r = x.shape.ndims
        if r is None:
            raise ValueError("unstack: input rank must be known")
        a = normalize_axis(axis, r, "unstack: axis")
        if num is None:
            num = x.shape[a].value
            if num is None:
                raise ValueError(f"Cannot infer num from shape {x.shape}")
        dims = x.shape.as_list()
        out_shape = dims[:a] + dims[a + 1:]
        op = make_op("Unpack", [x], {"num": num, "axis": a, "T": x.dtype},
                     [(x.dtype, out_shape)] * num, name=scope)
        return op.outputs


unpack = unstack


@lowering("Unpack")
def _lower_unpack(ctx, op, inputs):
    x = inputs[0]
    a = op.attrs["axis"]
    if x.shape[a] != op.attrs["num"]:
        ctx.fail(f"Input shape axis {a} must equal {op.attrs['num']}, got shape {list(x.shape)}")
    outs = []
    for i in builtins.range(op.attrs["num"]):
        st = [0] * x.type.rank
        li = list(x.shape)
        st[a], li[a] = i, i + 1
        s = ctx.b.emit("slice", [x], start=st, limit=li, stride=[1] * x.type.rank)
        outs.append(ctx.b.emit("reshape", [s], shape=x.shape[:a] + x.shape[a + 1:]))
    return outs


def concat(values, axis, name="concat"):
    vals = [convert_to_tensor(v) for v in values]
    if len(vals) == 1:
        with name_scope(name, "concat", vals) as scope:
            return identity_(vals[0], name=scope)
    with name_scope(name, "concat", vals) as scope:
        axis_t = axis if isinstance(axis, Tensor) else constant(axis, dtype=_dt.int32,
                                                                 name="axis")
        dt = vals[0].dtype
        for i, v in enumerate(vals):
            if v.dtype != dt:
                raise TypeError(f"concat: values[{i}] has dtype {v.dtype.name}, expected {dt.name}")
        av = constant_value(axis_t)
        out = TensorShape(None)
        ranks = {v.shape.ndims for v in vals if v.shape.ndims is not None}
        if len(ranks) > 1:
            raise ValueError(f"Shape must be rank {min(ranks)} but is rank {max(ranks)} for "
                             f"'{scope[:-1]}' (op: 'ConcatV2')")
        if av is not None and ranks:
            r = ranks.pop()
            a = normalize_axis(int(av), r, "concat: axis")
            dims = [None] * r
            total = 0
            for v in vals:
                if v.shape.ndims is None:
                    total = None
                    continue
                vd = v.shape.as_list()
                for j in builtins.range(r):
                    if j == a:
                        continue
                    if dims[j] is None:
                        dims[j] = vd[j]
                    elif vd[j] is not None and vd[j] != dims[j]:
                        raise ValueError(f"Dimension {j} in both shapes must be equal, but "
                                         f"are {dims[j]} and {vd[j]} for '{scope[:-1]}' "
                                         f"(op: 'ConcatV2')")
                total = None if total is None or vd[a] is None else total + vd[a]
            dims[a] = total
            out = TensorShape(dims)
        return make_tensor("ConcatV2", vals + [axis_t], dt, out,
                           {"N": len(vals), "T": dt, "Tidx": axis_t.dtype}, name=scope)


def identity_(x, name=None):
    from .math_ops import identity
    return identity(x, name=name)


@lowering("ConcatV2")
def _lower_concat(ctx, op, inputs):
    vals, axis = inputs[:-1], inputs[-1]
    a = ctx.axis(int(ctx.const_value(axis, "concat axis")), vals[0].type.rank)
    for v in vals[1:]:
        if v.type.rank != vals[0].type.rank or any(
                x != y for i, (x, y) in enumerate(zip(v.shape, vals[0].shape)) if i != a):
            ctx.fail(f"ConcatOp : Dimensions of inputs should match: shape[0] = "
                     f"{list(vals[0].shape)} vs. shape[{vals.index(v)}] = {list(v.shape)}")
    return [ctx.b.emit("concatenate", vals, axis=a)]


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    if axis is None:
        axis = dim
    if axis is None:
        raise ValueError("expand_dims: axis is required")
    x = convert_to_tensor(input)
    with name_scope(name, "ExpandDims", [x]) as scope:
        axis_t = axis if isinstance(axis, Tensor) else constant(axis, dtype=_dt.int32, name="dim")
        av = constant_value(axis_t)
        out = TensorShape(None)
        if av is not None and x.shape.ndims is not None:
            a = normalize_axis(int(av), x.shape.ndims + 1, "expand_dims: axis")
            d = x.shape.as_list()
            out = TensorShape(d[:a] + [1] + d[a:])
        return make_tensor("ExpandDims", [x, axis_t], x.dtype, out, {"T": x.dtype}, name=scope)


@lowering("ExpandDims")
def _lower_expand_dims(ctx, op, inputs):
    x = inputs[0]
    a = ctx.axis(int(ctx.const_value(inputs[1], "expand_dims axis")), x.type.rank + 1)
    return [ctx.b.emit("reshape", [x], shape=x.shape[:a] + (1,) + x.shape[a:])]


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    if axis is None:
        axis = squeeze_dims
    if isinstance(axis, int):
        axis = [axis]
    x = convert_to_tensor(input)
    axis = list(axis or [])
    out = TensorShape(None)
    if x.shape.ndims is not None:
        d = x.shape.as_list()
        r = len(d)
        ax = [normalize_axis(a, r, "squeeze: axis") for a in axis]
        for a in ax:
            if d[a] is not None and d[a] != 1:
                raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got "
                                 f"{d[a]} for 'Squeeze' with input shapes: {x.shape}.")
        if ax:
            out = TensorShape([v for i, v in enumerate(d) if i not in ax])
        elif all(v is not None for v in d):
            out = TensorShape([v for v in d if v != 1])
    return make_tensor("Squeeze", [x], x.dtype, out, {"T": x.dtype, "squeeze_dims": axis},
                       name=name)


@lowering("Squeeze")
def _lower_squeeze(ctx, op, inputs):
    x = inputs[0]
    ax = [ctx.axis(a, x.type.rank) for a in op.attrs["squeeze_dims"]]
    for a in ax:
        if x.shape[a] != 1:
            ctx.fail(f"Can not squeeze dim[{a}], expected a dimension of 1, got {x.shape[a]}")
    keep = [d for i, d in enumerate(x.shape) if (i not in ax if ax else d != 1)]
    return [ctx.b.emit("reshape", [x], shape=keep)]


# ---------------------------------------------------------------- gather / one_hot / where

def gather(params, indices, validate_indices=None, name=None, axis=0, batch_dims=0):
    p = convert_to_tensor(params)
    with name_scope(name, "GatherV2", [p, indices]) as scope:
        idx = convert_to_tensor(indices, name="indices")
        if idx.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"gather: indices must be int32 or int64, got {idx.dtype.name}")
        axis_t = axis if isinstance(axis, Tensor) else constant(axis, dtype=_dt.int32, name="axis")
        av = constant_value(axis_t)
        out = TensorShape(None)
        if av is not None and p.shape.ndims is not None and idx.shape.ndims is not None:
            a = normalize_axis(int(av), p.shape.ndims, "gather: axis")
            d = p.shape.as_list()
            out = TensorShape(d[:a] + idx.shape.as_list() + d[a + 1:])
        return make_tensor("GatherV2", [p, idx, axis_t], p.dtype, out,
                           {"Tparams": p.dtype, "Tindices": idx.dtype}, name=scope)


@lowering("GatherV2")
def _lower_gather(ctx, op, inputs):
    p, idx = inputs[0], inputs[1]
    a = ctx.axis(int(ctx.const_value(inputs[2], "gather axis")), p.type.rank)
    return [ctx.b.emit("gather", [p, idx], axis=a)]


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    idx = convert_to_tensor(indices)
    with name_scope(name, "one_hot", [idx]) as scope:
        if dtype is None:
            dtype = (on_value.dtype if isinstance(on_value, Tensor) else
                     off_value.dtype if isinstance(off_value, Tensor) else _dt.float32)
        dtype = _dt.as_dtype(dtype)
        on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype, name="on_value")
        off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype,
                                name="off_value")
        depth_t = convert_to_tensor(depth, dtype=_dt.int32, name="depth")
        dv = constant_value(depth_t)
        axis = -1 if axis is None else axis
        out = TensorShape(None)
        if idx.shape.ndims is not None:
            d = idx.shape.as_list()
            a = len(d) if axis == -1 else axis
            out = TensorShape(d[:a] + [None if dv is None else int(dv)] + d[a:])
        return make_tensor("OneHot", [idx, depth_t, on, off], dtype, out,
                           {"T": dtype, "TI": idx.dtype, "axis": axis}, name=scope)


@lowering("OneHot")
def _lower_one_hot(ctx, op, inputs):
    idx, depth, on, off = inputs
    d = int(ctx.const_value(depth, "one_hot depth"))
    a = op.attrs["axis"]
    a = idx.type.rank if a == -1 else a
    shape = idx.shape[:a] + (d,) + idx.shape[a:]
    io = ctx.b.emit("iota", [], shape=shape, dtype=idx.dtype, dim=a)
    dims = [i for i in builtins.range(len(shape)) if i != a]
    ib = ctx.b.emit("broadcast", [idx], shape=shape, dims=dims)
    hit = ctx.b.emit("eq", [io, ib])
    return [ctx.b.emit("select", [hit, ctx.bcast(on, shape), ctx.bcast(off, shape)])]


def where(condition, x=None, y=None, name=None):
    """tf.where (TF 1.x): three arguments select elementwise (condition may also be
    a vector over the first dimension); one argument gives the coordinates of the
    true elements, for a condition known when the graph is compiled."""
    if x is None and y is None:
        from .index_ops import where_indices
        return where_indices(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    c = convert_to_tensor(condition)
    with name_scope(name, "Select", [c, x, y]) as scope:
        from .math_ops import _binary_inputs
        xt, yt = _binary_inputs("Select", x, y)
        if c.dtype != _dt.bool:
            raise TypeError(f"Input 'condition' of 'Select' Op has type {c.dtype.name} that "
                            "does not match expected type of bool.")
        if not xt.shape.is_compatible_with(yt.shape):
            raise ValueError(f"Shapes must be equal rank, but are {xt.shape} and {yt.shape} "
                             f"for '{scope[:-1]}' (op: 'Select')")
        sh = xt.shape.merge_with(yt.shape)
        if c.shape.ndims not in (None, 1) or sh.ndims in (None, 1):
            if not c.shape.is_compatible_with(sh) and c.shape.ndims != 1:
                raise ValueError(f"Shapes {c.shape} and {sh} are incompatible for "
                                 f"'{scope[:-1]}' (op: 'Select')")
        return make_tensor("Select", [c, xt, yt], xt.dtype, sh, {"T": xt.dtype}, name=scope)


def where_v2(condition, x=None, y=None, name=None):
    c = convert_to_tensor(condition)
    with name_scope(name, "SelectV2", [c, x, y]) as scope:
        from .math_ops import _binary_inputs
        xt, yt = _binary_inputs("SelectV2", x, y)
        sh = broadcast_static_shape(broadcast_static_shape(c.shape, xt.shape), yt.shape)
        return make_tensor("SelectV2", [c, xt, yt], xt.dtype, sh, {"T": xt.dtype}, name=scope)


@lowering("Select")
def _lower_select(ctx, op, inputs):
    c, x, y = inputs
    if x.shape != y.shape:
        ctx.fail(f"'then' and 'else' must have the same size. but received: "
                 f"{list(x.shape)} vs. {list(y.shape)}")
    if c.shape != x.shape:
        if c.type.rank == 1 and x.type.rank >= 1 and c.shape[0] == x.shape[0]:
            c = ctx.b.emit("broadcast", [c], shape=x.shape, dims=[0])
        else:
            ctx.fail(f"'condition' must have the same shape as 'then', or be a vector of "
                     f"its first dimension: {list(c.shape)} vs {list(x.shape)}")
    return [ctx.b.emit("select", [c, x, y])]


@lowering("SelectV2")
def _lower_select_v2(ctx, op, inputs):
    c, x, y = inputs
    shape = ctx.broadcast_shape(ctx.broadcast_shape(c.shape, x.shape), y.shape)
    return [ctx.b.emit("select", [ctx.bcast(c, shape), ctx.bcast(x, shape), ctx.bcast(y, shape)])]


# The manipulation and index ops live in manip_ops.py and index_ops.py; TF has
# them in array_ops too.
from .manip_ops import (broadcast_to, meshgrid, pad, reverse, reverse_v2,  # noqa: E402,F401
                        split, tile)
from .index_ops import (boolean_mask, gather_nd, scatter_nd,  # noqa: E402,F401
                        sparse_to_dense)
from .slice_ops import (_expand_spec, _getitem, _index_tensor, slice,  # noqa: E402,F401
                        strided_slice)
