"""Helpers shared by the op library: creating ops, static broadcasting, and
reading constant values of tensors at graph-build time."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, get_default_graph, _graph_of
from ..tensor_shape import TensorShape, as_shape


def make_op(op_type, inputs, attrs=None, out=(), name=None, default_name=None,
            graph=None):
    """Creates an op in the inputs' graph (or the default); returns the Operation.

    `out` is a list of (DType, shape) output specs."""
    g = graph or _graph_of(inputs) or get_default_graph()
    return g._create_op(op_type, list(inputs), attrs or {}, list(out), name=name,
                        default_name=default_name or op_type)


def make_tensor(op_type, inputs, dtype, shape, attrs=None, name=None, default_name=None):
    return make_op(op_type, inputs, attrs, [(dtype, shape)], name, default_name).outputs[0]


def broadcast_static_shape(a: TensorShape, b: TensorShape, op_desc=""):
    """numpy broadcasting of static shapes; ValueError with TF's message if they clash."""
    a, b = as_shape(a), as_shape(b)
    if a.ndims is None or b.ndims is None:
        return TensorShape(None)
    da, db = a.as_list(), b.as_list()
    n = max(len(da), len(db))
    da = [1] * (n - len(da)) + da
    db = [1] * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise ValueError(f"Dimensions must be equal, but are {x} and {y} for "
                             f"{op_desc} with input shapes: {_fmt(a)}, {_fmt(b)}.")
    return TensorShape(out)


def _fmt(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def constant_value(t):
    """tf.get_static_value: the value of `t` if known at graph-build time, else None."""
    if not isinstance(t, Tensor):
        return np.asarray(t)
    op = t.op
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape":
        s = op.inputs[0].shape
        if s.is_fully_defined():
            return np.array(s.as_list(), dtype=t.dtype.as_numpy_dtype)
    if op.type == "Size":
        n = op.inputs[0].shape.num_elements()
        if n is not None:
            return np.array(n, dtype=t.dtype.as_numpy_dtype)
    if op.type == "Rank":
        r = op.inputs[0].shape.ndims
        if r is not None:
            return np.array(r, dtype=np.int32)
    if op.type in ("Pack",):
        vals = [constant_value(i) for i in op.inputs]
        if all(v is not None for v in vals):
            return np.stack(vals, axis=op.attrs.get("axis", 0))
    if op.type in ("ConcatV2",):
        vals = [constant_value(i) for i in op.inputs]
        if all(v is not None for v in vals):
            return np.concatenate(vals[:-1], axis=int(vals[-1]))
    if op.type == "Cast":
        v = constant_value(op.inputs[0])
        if v is not None:
            return v.astype(t.dtype.as_numpy_dtype)
    if op.type == "Identity":
        return constant_value(op.inputs[0])
    return None


get_static_value = constant_value


def shape_from_tensor(t):
    """The static shape a shape-valued tensor describes (partially known allowed)."""
    v = constant_value(t)
    if v is not None:
        return TensorShape([int(d) if d >= 0 else None for d in np.reshape(v, [-1])])
    if isinstance(t, Tensor) and t.op.type == "Pack":
        dims = []
        for i in t.op.inputs:
            c = constant_value(i)
            dims.append(int(c) if c is not None else None)
        return TensorShape(dims)
    if isinstance(t, Tensor) and t.shape.ndims == 1 and t.shape[0].value is not None:
        return TensorShape([None] * t.shape[0].value)
    return TensorShape(None)


def normalize_axis(axis, rank, what="axis"):
    a = int(axis)
    if not -rank <= a < max(rank, 1):
        raise ValueError(f"{what} {a} is out of range for a tensor of rank {rank}; "
                         f"expected [{-rank}, {rank})")
    return a % rank if rank else 0


def dtype_name(dtype):
    return _dt.as_dtype(dtype).name
