"""Array ops: placeholders, shapes, reshape, transpose, fills, range, gather,
one_hot, where. Stacking and concatenation are in stack_ops.py, slicing and
`Tensor.__getitem__` in slice_ops.py; both are re-exported here as TF's
array_ops has them."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape, as_shape
from .constant_op import constant, convert_to_tensor
from .op_util import (broadcast_static_shape, constant_value, make_tensor,
                      normalize_axis, shape_from_tensor)
from .registry import lowering


# ---------------------------------------------------------------- placeholders

def placeholder(dtype, shape=None, name=None):
    dtype = _dt.as_dtype(dtype)
    shape = as_shape(shape) if shape is not None else TensorShape(None)
    return make_tensor("Placeholder", [], dtype, shape, {"dtype": dtype, "shape": shape},
                       name=name)


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    with name_scope(name, "PlaceholderWithDefault", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        shape = as_shape(shape)
        if not shape.is_compatible_with(x.shape):
            raise ValueError(f"placeholder_with_default: shape {shape} is incompatible "
                             f"with the default's shape {x.shape}")
        return make_tensor("PlaceholderWithDefault", [x], x.dtype, shape,
                           {"dtype": x.dtype, "shape": shape}, name=scope)


@lowering("PlaceholderWithDefault")
def _lower_pwd(ctx, op, inputs):
    return [inputs[0]]


# ---------------------------------------------------------------- shapes

def shape(input, name=None, out_type=_dt.int32):  # noqa: A002
    """tf.shape: a Const when the static shape is fully known (TF's optimize=True),
    else a Shape op."""
    out_type = _dt.as_dtype(out_type)
    with name_scope(name, "Shape", [input]) as scope:
        x = convert_to_tensor(input)
        if x.shape.is_fully_defined():
            return constant(x.shape.as_list(), dtype=out_type, name=scope)
        return make_tensor("Shape", [x], out_type, [x.shape.ndims],
                           {"T": x.dtype, "out_type": out_type}, name=scope)


def size(input, name=None, out_type=_dt.int32):  # noqa: A002
    out_type = _dt.as_dtype(out_type)
    with name_scope(name, "Size", [input]) as scope:
        x = convert_to_tensor(input)
        if x.shape.is_fully_defined():
            return constant(x.shape.num_elements(), dtype=out_type, name=scope)
        if x.shape.ndims and any(d == 0 for d in x.shape.as_list()):
            return constant(0, dtype=out_type, name=scope)
        return make_tensor("Size", [x], out_type, [], {"T": x.dtype, "out_type": out_type},
                           name=scope)


def rank(input, name=None):  # noqa: A002
    with name_scope(name, "Rank", [input]) as scope:
        x = convert_to_tensor(input)
        if x.shape.ndims is not None:
            return constant(x.shape.ndims, dtype=_dt.int32, name=scope)
        return make_tensor("Rank", [x], _dt.int32, [], {"T": x.dtype}, name=scope)


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

def _reshape_static(in_shape, out, opname):
    """TF's Reshape shape function: the requested shape `out` (-1 and unknown
    parts as None), with one unknown dim inferred from the element counts."""
    if out.ndims is None or in_shape.ndims is None:
        return out
    dims_out = out.as_list()
    dims_in = in_shape.as_list()

    def known(dims):
        prod, unknown, many = 1, -1, False
        for i, d in enumerate(dims):
            if d is None:
                many = many or unknown >= 0
                unknown = i
            else:
                prod *= d
        return prod, unknown, many

    out_elems, out_unknown, many_out = known(dims_out)
    in_elems, in_unknown, many_in = known(dims_in)
    if many_out or many_in:
        return out
    if in_unknown < 0 and out_unknown < 0:
        if in_elems != out_elems:
            raise ValueError(f"Cannot reshape a tensor with {in_elems} elements to shape "
                             f"{_fmt_dims(dims_out)} ({out_elems} elements) for "
                             f"'{opname}' (op: 'Reshape') with input shapes: "
                             f"{_fmt_dims(dims_in)}, [{len(dims_out)}].")
    elif in_unknown < 0 and out_elems > 0:
        if in_elems % out_elems:
            raise ValueError(f"Cannot reshape a tensor with {in_elems} elements to shape "
                             f"{_fmt_dims(dims_out)} for '{opname}' (op: 'Reshape'): "
                             f"Dimension size must be evenly divisible by {out_elems} but "
                             f"is {in_elems}")
        dims_out[out_unknown] = in_elems // out_elems
    elif out_unknown < 0 and in_unknown >= 0 and in_elems != 0:
        if out_elems % in_elems:
            raise ValueError(f"Cannot reshape a tensor of shape {_fmt_dims(dims_in)} to "
                             f"shape {_fmt_dims(dims_out)} for '{opname}' (op: 'Reshape'): "
                             f"Dimension size must be evenly divisible by {in_elems} but "
                             f"is {out_elems}")
    elif in_unknown >= 0 and out_unknown >= 0 and in_elems == out_elems:
        dims_out[out_unknown] = dims_in[in_unknown]
    return TensorShape(dims_out)


def _fmt_dims(dims):
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def reshape(tensor, shape, name=None):
    with name_scope(name, "Reshape", [tensor, shape]) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        shape_t = shape if isinstance(shape, Tensor) else convert_to_tensor(
            shape, dtype=_dt.int32, name="shape")
        if not shape_t.dtype.is_integer:
            raise TypeError(f"Value passed to parameter 'shape' has DataType "
                            f"{shape_t.dtype.name} not in list of allowed values: int32, "
                            "int64")
        if shape_t.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {shape_t.shape.ndims} for "
                             f"'{scope[:-1]}' (op: 'Reshape')")
        sv = constant_value(shape_t)
        if sv is not None and any(int(d) < -1 for d in np.reshape(sv, [-1])):
            raise ValueError(f"Invalid value in tensor used for shape: "
                             f"{min(int(d) for d in np.reshape(sv, [-1]))}")
        out = _reshape_static(x.shape, shape_from_tensor(shape_t), scope[:-1])
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
    with name_scope(name, "transpose", [a]) as scope:
        x = convert_to_tensor(a, name="a")
        r = x.shape.ndims
        reverse = perm is None
        if perm is None:
            if not r:  # unknown rank (or a scalar): the permutation is computed
                rk = rank(x)
                perm = (rk - 1) - _range_op(0, rk, 1)
            else:
                perm = np.arange(r - 1, -1, -1)  # int64, as TF's (rank - 1) - arange
        perm_t = perm if isinstance(perm, Tensor) else convert_to_tensor(
            perm, dtype=None if isinstance(perm, np.ndarray) else _dt.int32, name="perm")
        pv = constant_value(perm_t)
        out = TensorShape(None) if r is None else TensorShape([None] * r)
        if pv is not None and r is not None:
            pv = [int(p) for p in np.reshape(pv, [-1])]
            if len(pv) != r:
                raise ValueError(f"Dimension must be {r} but is {len(pv)} for "
                                 f"'{scope[:-1]}' (op: 'Transpose') with input shapes: "
                                 f"{x.shape}, [{len(pv)}].")
            for p in pv:
                if not -r <= p < r:
                    raise ValueError(f"perm dim {p} is out of range of input rank {r} "
                                     f"for '{scope[:-1]}' (op: 'Transpose')")
            dims = x.shape.as_list()
            out = TensorShape([dims[p] for p in pv])
        elif reverse and r is not None:
            out = TensorShape(x.shape.as_list()[::-1])
        return make_tensor("Transpose", [x, perm_t], x.dtype, out,
                           {"T": x.dtype, "Tperm": perm_t.dtype}, name=scope)


@lowering("Transpose")
def _lower_transpose(ctx, op, inputs):
    perm = [int(p) for p in ctx.const_value(inputs[1], "Transpose perm")]
    if sorted(perm) != list(builtins.range(inputs[0].type.rank)):
        ctx.fail(f"transpose expects a permutation of 0..{inputs[0].type.rank - 1}, got {perm}")
    return [ctx.b.emit("transpose", [inputs[0]], perm=perm)]


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    with name_scope(name, values=[a]):
        x = convert_to_tensor(a, name="a")
        r = x.shape.ndims
        if r is None:
            raise ValueError(f"matrix_transpose: input must have known rank, got shape "
                             f"{x.shape}")
        if r < 2:
            raise ValueError(f"Argument 'a' should be a (batch) matrix, with rank >= 2.  "
                             f"Found: {x.shape}")
        perm = list(builtins.range(r - 2)) + [r - 1, r - 2]
        return transpose(x, perm)


# ---------------------------------------------------------------- fills

def fill(dims, value, name=None):
    with name_scope(name, "Fill", [dims, value]) as scope:
        dims_t = dims if isinstance(dims, Tensor) else convert_to_tensor(
            dims, dtype=_dt.int32, name="dims")
        v = convert_to_tensor(value, name="value")
        if v.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {v.shape.ndims} for "
                             f"'{scope[:-1]}' (op: 'Fill') with input shapes: "
                             f"{dims_t.shape}, {v.shape}.")
        dv = constant_value(dims_t)
        if dv is not None and any(int(d) < 0 for d in np.reshape(dv, [-1])):
            raise ValueError(f"Fill dimensions must be >= 0 for '{scope[:-1]}' (op: "
                             f"'Fill'), got {[int(d) for d in np.reshape(dv, [-1])]}")
        return make_tensor("Fill", [dims_t, v], v.dtype, shape_from_tensor(dims_t),
                           {"T": v.dtype, "index_type": dims_t.dtype}, name=scope)


@lowering("Fill")
def _lower_fill(ctx, op, inputs):
    dims = [int(d) for d in np.reshape(ctx.const_value(inputs[0], "Fill dims"), [-1])]
    if any(d < 0 for d in dims):
        ctx.fail(f"Fill dims must be non-negative, got {dims}")
    return [ctx.bcast(inputs[1], tuple(dims))]


def _filled(shape, dtype, value, name, default):
    """tf.zeros / tf.ones: a Const when the shape is a small static list, else Fill."""
    dtype = _dt.as_dtype(dtype)
    value = bool(value) if dtype == _dt.bool else value
    with name_scope(name, default, [shape]) as scope:
        if not isinstance(shape, Tensor):
            try:
                dims = as_shape(shape)
                if dims.ndims is None or not dims.is_fully_defined():
                    raise ValueError(f"Cannot convert a partially known shape {dims} to a "
                                     "Tensor")
                dims = dims.as_list()
                if int(np.prod(dims, dtype=np.int64)) < 1000:
                    return constant(value, dtype=dtype, shape=dims, name=scope)
                shape = constant(dims, dtype=_dt.int64 if any(d >= 2**31 for d in dims)
                                 else _dt.int32, name="shape_as_tensor")
            except (TypeError, ValueError):  # a list holding tensors
                shape = convert_to_tensor(shape, dtype=_dt.int32)
        if shape.shape.ndims == 0:
            shape = reshape(shape, [-1])
        return fill(shape, constant(value, dtype=dtype), name=scope)


def zeros(shape, dtype=_dt.float32, name=None):
    return _filled(shape, dtype, 0, name, "zeros")


def ones(shape, dtype=_dt.float32, name=None):
    return _filled(shape, dtype, 1, name, "ones")


def _shape_internal(x, name=None, out_type=_dt.int32):
    return shape(x, name=name, out_type=out_type)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    from ..variables import Variable
    with name_scope(name, "zeros_like", [tensor]) as scope:
        if isinstance(tensor, Variable):
            tensor = tensor.value()
        x = convert_to_tensor(tensor, name="tensor")
        dtype = _dt.as_dtype(dtype) if dtype is not None else None
        if optimize and x.shape.is_fully_defined():
            return zeros(x.shape, dtype=dtype or x.dtype, name=scope)
        if dtype is not None and dtype != x.dtype:
            return zeros(_shape_internal(x), dtype=dtype, name=scope)
        return make_tensor("ZerosLike", [x], x.dtype, x.shape, {"T": x.dtype}, name=scope)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    from ..variables import Variable
    with name_scope(name, "ones_like", [tensor]) as scope:
        if isinstance(tensor, Variable):
            tensor = tensor.value()
        x = convert_to_tensor(tensor, name="tensor")
        dims = _shape_internal(x)
        out = ones(dims, dtype=_dt.as_dtype(dtype) if dtype is not None else x.dtype,
                   name=scope)
        out.set_shape(x.shape)
        return out


@lowering("ZerosLike", "OnesLike")
def _lower_like(ctx, op, inputs):
    x = inputs[0]
    return [ctx.scalar(0 if op.type == "ZerosLike" else 1, x.dtype, x.shape)]


# ---------------------------------------------------------------- range

def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    with name_scope(name, "Range", [start, limit, delta]) as scope:
        s = convert_to_tensor(start, dtype=dtype, name="start")
        l = convert_to_tensor(limit, dtype=dtype, name="limit")  # noqa: E741
        d = convert_to_tensor(delta, dtype=dtype, name="delta")
        if dtype is None:  # the widest of the three, as TF
            order = [_dt.int32, _dt.int64, _dt.float32, _dt.float64]
            for t in (s, l, d):
                if t.dtype not in order:
                    raise TypeError(f"Range: unsupported dtype {t.dtype.name}")
            inferred = builtins.max((t.dtype for t in (s, l, d)), key=order.index)
            from .math_ops import cast
            s, l, d = (cast(t, inferred) for t in (s, l, d))  # noqa: E741
        return _range_op(s, l, d, name=scope)


def _range_op(start, limit, delta, name=None):
    """The Range op (TF's gen_math_ops._range), its length known when its bounds are."""
    with name_scope(name, "Range", [start, limit, delta]) as scope:
        s = convert_to_tensor(start, name="start")
        l = convert_to_tensor(limit, dtype=s.dtype, name="limit")  # noqa: E741
        d = convert_to_tensor(delta, dtype=s.dtype, name="delta")
        cv = [constant_value(t) for t in (s, l, d)]
        n = None
        if all(c is not None for c in cv):
            b, e, st = (c.item() for c in cv)
            if st == 0:
                raise ValueError(f"Requires delta != 0 for '{scope[:-1]}' (op: 'Range')")
            if st > 0 and b > e:
                raise ValueError(f"Requires start <= limit when delta > 0: {b}/{e} for "
                                 f"'{scope[:-1]}' (op: 'Range')")
            if st < 0 and b < e:
                raise ValueError(f"Requires start >= limit when delta < 0: {b}/{e} for "
                                 f"'{scope[:-1]}' (op: 'Range')")
            n = int(np.ceil(abs((e - b) / st))) if s.dtype.is_floating else \
                (abs(e - b) + abs(st) - 1) // abs(st)
        return make_tensor("Range", [s, l, d], s.dtype, [n], {"Tidx": s.dtype}, name=scope)


@lowering("Range")
def _lower_range(ctx, op, inputs):
    s, l, d = (ctx.const_value(v, "Range bounds") for v in inputs)
    if d == 0:
        ctx.fail("Requires delta != 0")
    if (d > 0 and s > l) or (d < 0 and s < l):
        ctx.fail(f"Requires start {'<=' if d > 0 else '>='} limit when delta "
                 f"{'>' if d > 0 else '<'} 0: {s}/{l}")
    n = builtins.max(0, int(np.ceil((l - s) / d)))
    dt = inputs[0].dtype
    i = ctx.b.emit("iota", [], shape=[n], dtype=dt, dim=0)
    out = ctx.b.emit("add", [ctx.b.emit("mul", [i, ctx.scalar(d.item(), dt, (n,))]),
                             ctx.scalar(s.item(), dt, (n,))])
    return [out]


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
    from .op_checks import check_in_range
    p, idx = inputs[0], inputs[1]
    a = ctx.axis(int(ctx.const_value(inputs[2], "gather axis")), p.type.rank)
    check_in_range(ctx, op, idx, p.shape[a])
    return [ctx.b.emit("gather", [p, idx], axis=a)]


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """tf.one_hot: the dtype comes from on_value/off_value when given (float32 when
    neither they nor dtype are), as TF 1.15 infers it."""
    with name_scope(name, "one_hot", [indices, depth, on_value, off_value, axis,
                                      dtype]) as scope:
        on_exists, off_exists = on_value is not None, off_value is not None
        on_dtype = convert_to_tensor(on_value).dtype if on_exists else None
        off_dtype = convert_to_tensor(off_value).dtype if off_exists else None
        if on_exists or off_exists:
            if dtype is not None:
                dtype = _dt.as_dtype(dtype)
                for what, d in (("on_value", on_dtype), ("off_value", off_dtype)):
                    if d is not None and d != dtype:
                        raise TypeError(f"dtype {d} of {what} does not match dtype "
                                        f"parameter {dtype}")
            else:
                dtype = on_dtype if on_exists else off_dtype
        elif dtype is None:
            dtype = _dt.float32
        dtype = _dt.as_dtype(dtype)
        if not on_exists:
            on_value = convert_to_tensor(1, dtype, name="on_value")
            on_dtype = dtype
        if not off_exists:
            off_value = convert_to_tensor(0, dtype, name="off_value")
            off_dtype = dtype
        if on_dtype != off_dtype:
            raise TypeError(f"dtype {on_dtype} of on_value does not match dtype "
                            f"{off_dtype} of off_value")
        idx = convert_to_tensor(indices, name="indices")
        if idx.dtype not in (_dt.uint8, _dt.int8, _dt.int32, _dt.int64):
            raise TypeError(f"Value passed to parameter 'indices' has DataType "
                            f"{idx.dtype.name} not in list of allowed values: uint8, int8, "
                            "int32, int64")
        depth_t = convert_to_tensor(depth, dtype=_dt.int32, name="depth")
        on = convert_to_tensor(on_value, dtype=dtype, name="on_value")
        off = convert_to_tensor(off_value, dtype=dtype, name="off_value")
        dv = constant_value(depth_t)
        if dv is not None and int(dv) < 0:
            raise ValueError(f"depth must be non-negative, got: {int(dv)}")
        axis = -1 if axis is None else int(axis)
        out = TensorShape(None)
        if idx.shape.ndims is not None:
            d = idx.shape.as_list()
            if not -1 <= axis <= len(d):
                raise ValueError(f"Expected axis to be -1 or between [0, {len(d)}).  But "
                                 f"received: {axis}")
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
    a vector over the first dimension, or a scalar); one argument gives the
    coordinates of the true elements."""
    if x is None and y is None:
        from .index_ops import where_indices
        return where_indices(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return _select("Select", condition, x, y, name)


def where_v2(condition, x=None, y=None, name=None):
    if x is None and y is None:
        from .index_ops import where_indices
        return where_indices(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return _select("SelectV2", condition, x, y, name)


def _select(op_type, condition, x, y, name):
    """Select / SelectV2 with the op's conversions (inputs `t` and `e`, e taking t's
    dtype) and shape functions."""
    with name_scope(name, op_type, [condition, x, y]) as scope:
        c = convert_to_tensor(condition, name="condition")
        if c.dtype != _dt.bool:
            raise TypeError(f"Input 'condition' of '{op_type}' Op has type {c.dtype.name} "
                            "that does not match expected type of bool.")
        t = convert_to_tensor(x, name="t")
        if isinstance(y, Tensor):
            e = y
            if e.dtype != t.dtype:
                raise TypeError(f"Input 'e' of '{op_type}' Op has type {e.dtype.name} that "
                                f"does not match type {t.dtype.name} of argument 't'.")
        else:
            e = convert_to_tensor(y, dtype=t.dtype, name="e")
        desc = f"'{scope[:-1]}' (op: '{op_type}')"
        if op_type == "SelectV2":
            sh = broadcast_static_shape(broadcast_static_shape(c.shape, t.shape, desc),
                                        e.shape, desc)
        else:
            sh = _select_shape(c.shape, t.shape, e.shape, desc)
        return make_tensor(op_type, [c, t, e], t.dtype, sh, {"T": t.dtype}, name=scope)


def _select_shape(cond, then, other, desc):
    """TF's Select shape function: then and else agree; cond is a scalar, has
    their shape, or is a vector over their first dimension."""
    def merge(a, b):
        try:
            return a.merge_with(b)
        except ValueError:
            raise ValueError(f"Shapes must be equal rank, but are {a.ndims} and {b.ndims} "
                             f"for {desc} with input shapes: {cond}, {then}, {other}."
                             if a.ndims != b.ndims else
                             f"Dimensions must be equal, but shapes are {_fmt_dims(a.as_list())} "
                             f"and {_fmt_dims(b.as_list())} for {desc} with input shapes: "
                             f"{cond}, {then}, {other}.") from None
    data = merge(then, other)
    if cond.ndims is None or data.ndims is None or cond.ndims == 0:
        return data
    if cond.ndims != 1 or data.ndims == 0:
        return merge(data, cond)
    merge(cond, TensorShape([data[0].value]))
    return data


@lowering("Select")
def _lower_select(ctx, op, inputs):
    c, x, y = inputs
    if x.shape != y.shape:
        ctx.fail(f"'then' and 'else' must have the same size. but received: "
                 f"{list(x.shape)} vs. {list(y.shape)}")
    if c.shape != x.shape:
        if c.type.rank == 0:
            c = ctx.bcast(c, x.shape)
        elif c.type.rank == 1 and x.type.rank >= 1 and c.shape[0] == x.shape[0]:
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
from .stack_ops import (_autopack, _convert_n, concat, expand_dims, identity_,  # noqa: E402,F401
                        pack, squeeze, stack, unpack, unstack)
