"""Joining and splitting along axes: stack / unstack (pack / unpack, and the
autopacking of lists that hold tensors), concat, expand_dims, squeeze."""
from __future__ import annotations

import builtins


from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import constant, convert_to_tensor
from .op_util import (constant_value, make_op, make_tensor,
                      normalize_axis)
from .registry import lowering


# ---------------------------------------------------------------- stack / unstack / concat

def stack(values, axis=0, name="stack"):
    """tf.stack: a list that converts as a whole (constants, or tensors packed
    along axis 0) is converted; otherwise a Pack op."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if axis == 0:
        try:
            return convert_to_tensor(values, name=name)
        except (TypeError, ValueError):
            pass  # elements of different dtypes or shapes: Pack reports it
    if not values:
        raise ValueError("List argument 'values' to 'Pack' Op with length 0 shorter than "
                         "minimum length 1.")
    first = convert_to_tensor(values[0], name=name)
    if first.shape.ndims is not None:
        n = first.shape.ndims + 1
        if not -n <= axis < n:
            raise ValueError(f"axis = {axis} not in [{-n}, {n})")
    return _pack(values, axis, name)


def _convert_n(values, name, op_type, dtype=None):
    """A list input of an op, as TF converts one: Python values take the dtype of
    the first tensor in the list, and constants are named `name_i`."""
    if dtype is None:
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), None)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, Tensor):
            out.append(v)
            continue
        try:
            out.append(convert_to_tensor(v, dtype=dtype, name=f"{name}_{i}"))
        except ValueError as e:  # a tensor of another dtype
            raise TypeError(f"Tensors in list passed to '{name}' of '{op_type}' Op have "
                            f"types that don't all match: {e}") from None
    for t in out[1:]:
        if t.dtype != out[0].dtype:
            raise TypeError(f"Tensors in list passed to '{name}' of '{op_type}' Op have "
                            f"types [{', '.join(x.dtype.name for x in out)}] that don't "
                            "all match.")
    return out


def _pack(values, axis, name):
    with name_scope(name, "Pack", values) as scope:
        vals = _convert_n(values, "values", "Pack")
        dt = vals[0].dtype
        sh = vals[0].shape
        for i, v in enumerate(vals[1:], 1):
            if not sh.is_compatible_with(v.shape):
                raise ValueError(f"Shapes must be equal rank, but are {sh.ndims} and "
                                 f"{v.shape.ndims}; shapes {sh} and {v.shape} for "
                                 f"'{scope[:-1]}' (op: 'Pack')" if sh.ndims != v.shape.ndims
                                 else f"Dimensions of {sh} and {v.shape} must be equal "
                                 f"for '{scope[:-1]}' (op: 'Pack') with input shapes: "
                                 f"{', '.join(str(x.shape) for x in vals)}.")
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


def _is_tensor_like(v):
    from ..variables import Variable
    return isinstance(v, (Tensor, Variable))


def _nested_dtype(value):
    for v in value:
        if _is_tensor_like(v):
            return v.dtype
        if isinstance(v, (list, tuple)):
            d = _nested_dtype(v)
            if d is not None:
                return d
    return None


def _autopack(value, dtype=None, name="packed"):
    """Converts a (nested) list holding tensors by packing it, as TF's
    autopacking conversion: other elements become constants of the tensors'
    dtype, named by their index."""
    inferred = _nested_dtype(value)
    if dtype is not None and inferred is not None and _dt.as_dtype(dtype) != inferred:
        raise TypeError(f"Cannot convert a list containing a tensor of dtype "
                        f"{inferred.name} to {_dt.as_dtype(dtype).name}")
    return _autopack_helper(value, _dt.as_dtype(dtype) if dtype is not None else inferred,
                            name)


def _autopack_helper(values, dtype, name):
    must_pack = False
    converted = []
    with name_scope(name) as scope:
        for i, elem in enumerate(values):
            if _is_tensor_like(elem):
                if dtype is not None and elem.dtype != dtype:
                    raise TypeError(f"Cannot convert a list containing a tensor of dtype "
                                    f"{elem.dtype.name} to {dtype.name} (Tensor is: "
                                    f"{elem!r})")
                converted.append(elem)
                must_pack = True
            elif isinstance(elem, (list, tuple)):
                c = _autopack_helper(elem, dtype, str(i))
                must_pack = must_pack or _is_tensor_like(c)
                converted.append(c)
            else:
                converted.append(elem)
        if not must_pack:
            return converted
        tensors = [convert_to_tensor(e) if _is_tensor_like(e) else
                   constant(e, dtype=dtype, name=str(i)) for i, e in enumerate(converted)]
        return _pack(tensors, 0, scope)


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
    with name_scope(name, "Unpack", [x]) as scope:  # name=None: the op's own name
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
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:  # TF: an Identity in the scope, after checking the axis
        with name_scope(name) as scope:
            ax = convert_to_tensor(axis, name="concat_dim", dtype=_dt.int32)
            if ax.shape.ndims not in (None, 0):
                raise ValueError(f"Shape {ax.shape} must have rank 0")
            return identity_(values[0], name=name)
    if len(values) < 2:
        raise ValueError(f"List argument 'values' to 'ConcatV2' Op with length "
                         f"{len(values)} shorter than minimum length 2.")
    with name_scope(name, "ConcatV2", values) as scope:  # name=None: the op's own name
        vals = _convert_n(values, "values", "ConcatV2")
        axis_t = axis if isinstance(axis, Tensor) else constant(axis, dtype=_dt.int32,
                                                                 name="axis")
        dt = vals[0].dtype
        av = constant_value(axis_t)
        out = TensorShape(None)
        ranks = {v.shape.ndims for v in vals if v.shape.ndims is not None}
        if len(ranks) > 1:
            raise ValueError(f"Shape must be rank {min(ranks)} but is rank {max(ranks)} for "
                             f"'{scope[:-1]}' (op: 'ConcatV2')")
        if av is None and ranks:  # an unknown axis: the rank is all that's known
            out = TensorShape([None] * ranks.pop())
        elif av is not None and ranks:
            r = ranks.pop()
            if not -r <= int(av) < r:
                raise ValueError(f"Shape must be at least rank {int(av) + 1} but is rank "
                                 f"{r} for '{scope[:-1]}' (op: 'ConcatV2')")
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
