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


# Elementwise ops constant_value folds (shape arithmetic such as `tf.shape(x)[0] * 2`),
# as TF's shape inference evaluates small constant subgraphs.
_FOLD_BINARY = {
    "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply,
    "FloorDiv": np.floor_divide, "FloorMod": np.mod, "Maximum": np.maximum,
    "Minimum": np.minimum, "Equal": np.equal, "NotEqual": np.not_equal,
    "Less": np.less, "LessEqual": np.less_equal, "Greater": np.greater,
    "GreaterEqual": np.greater_equal, "LogicalAnd": np.logical_and,
    "LogicalOr": np.logical_or, "RealDiv": np.true_divide,
}


_FOLD_LIMIT = 1 << 16


def constant_value(t, _fold_arithmetic=True):
    """The value of `t` if known at graph-build time, else None: what TF's shape
    inference evaluates (small constant subgraphs, arithmetic on shapes included)."""
    if not isinstance(t, Tensor):
        return np.asarray(t)
    op = t.op
    typ = op.type
    if typ == "Const":
        return op.attrs["value"]
    if typ == "Shape":
        s = op.inputs[0].shape
        if s.is_fully_defined():
            return np.array(s.as_list(), dtype=t.dtype.as_numpy_dtype)
        return None
    if typ == "Size":
        n = op.inputs[0].shape.num_elements()
        return None if n is None else np.array(n, dtype=t.dtype.as_numpy_dtype)
    if typ == "Rank":
        r = op.inputs[0].shape.ndims
        return None if r is None else np.array(r, dtype=np.int32)
    if typ in ("Identity", "StopGradient"):
        return constant_value(op.inputs[0], _fold_arithmetic)
    n = t.shape.num_elements()
    if n is None or n > _FOLD_LIMIT:  # static values are for shapes and axes: small
        return None
    vals = None
    if typ in ("Pack", "ConcatV2", "Cast", "Range", "Fill") or _fold_arithmetic and (
            typ in ("StridedSlice", "Neg", "Prod", "Sum", "Max", "Min", "LogicalNot",
                    "Select", "SelectV2") or
            typ in _FOLD_BINARY):
        vals = [constant_value(i, _fold_arithmetic) for i in op.inputs]
        if any(v is None for v in vals):
            return None
    else:
        return None
    try:
        return _fold(op, t, vals)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, FloatingPointError):
        return None


def _fold(op, t, vals):
    typ = op.type
    np_dt = t.dtype.as_numpy_dtype
    if typ == "Pack":
        return np.stack(vals, axis=op.attrs.get("axis", 0))
    if typ == "ConcatV2":
        return np.concatenate(vals[:-1], axis=int(vals[-1]))
    if typ == "Cast":
        return vals[0].astype(np_dt)
    if typ == "Range":
        return np.arange(vals[0], vals[1], vals[2]).astype(np_dt)
    if typ == "Fill":
        return np.full([int(d) for d in vals[0]], vals[1], dtype=np_dt)
    if typ == "Neg":
        return np.negative(vals[0])
    if typ == "LogicalNot":
        return np.logical_not(vals[0])
    if typ in ("Select", "SelectV2"):
        c = vals[0]
        if typ == "Select" and c.ndim == 1 and vals[1].ndim > 1:
            c = c.reshape((-1,) + (1,) * (vals[1].ndim - 1))
        return np.where(c, vals[1], vals[2]).astype(np_dt)
    if typ in ("Prod", "Sum", "Max", "Min"):
        f = {"Prod": np.prod, "Sum": np.sum, "Max": np.max, "Min": np.min}[typ]
        axes = tuple(int(a) for a in np.reshape(vals[1], [-1]))
        return np.asarray(f(vals[0], axis=axes, keepdims=op.attrs.get("keep_dims", False)),
                          dtype=np_dt)
    if typ == "StridedSlice":
        from .slice_ops import _expand_spec
        x = vals[0]
        spec = _expand_spec(x.ndim, *[[int(i) for i in v] for v in vals[1:]], op.attrs)
        index = []
        for sp in spec:
            index.append(None if sp[0] == "new" else sp[2])
        return np.asarray(x[tuple(index)], dtype=np_dt)
    with np.errstate(all="raise"):
        return np.asarray(_FOLD_BINARY[typ](vals[0], vals[1]), dtype=np_dt)


def get_static_value(tensor, partial=False):
    """tf.get_static_value: as TF's constant_value, which folds only shape queries,
    Cast, Pack, Concat, Range and Fill (not arithmetic) on top of constants."""
    return constant_value(tensor, _fold_arithmetic=False)


def shape_from_tensor(t):
    """The static shape a shape-valued tensor describes (partially known allowed):
    TF's constant_value_as_shape."""
    if not isinstance(t, Tensor):
        v = np.asarray(t)
        return TensorShape([int(d) if d >= 0 else None for d in np.reshape(v, [-1])])
    if t.shape.ndims == 0:
        v = constant_value(t)
        if v is not None and int(v) == -1:
            return TensorShape(None)
        raise ValueError("Received a scalar value as shape; require a statically known "
                         "scalar with value '-1' to describe an unknown shape.")
    n = t.shape[0].value if t.shape.ndims == 1 else None
    if n == 0:
        return TensorShape([])
    op = t.op
    if op.type == "Shape":
        return op.inputs[0].shape
    if op.type == "Pack" and op.attrs.get("axis", 0) == 0:
        dims = []
        for i in op.inputs:
            c = constant_value(i)
            dims.append(int(c) if c is not None and int(c) >= 0 else None)
        return TensorShape(dims)
    if op.type == "ConcatV2":
        out = TensorShape([])
        for i in op.inputs[:-1]:
            out = out.concatenate(shape_from_tensor(i))
        return out
    if op.type == "StridedSlice":
        sliced = _sliced_shape(op)
        if sliced is not None:
            return sliced
    if op.type == "Cast":
        return shape_from_tensor(op.inputs[0])
    v = constant_value(t)
    if v is not None:
        return TensorShape([int(d) if d >= 0 else None for d in np.reshape(v, [-1])])
    return TensorShape(None) if n is None else TensorShape([None] * n)


def _sliced_shape(op):
    """A 1-D slice of a shape-valued tensor (`tf.shape(x)[1:]`), as TF evaluates it."""
    vals = [constant_value(i) for i in op.inputs[1:]]
    if any(v is None or np.size(v) != 1 for v in vals):
        return None
    a = op.attrs
    if a["ellipsis_mask"] or a["new_axis_mask"] or a["shrink_axis_mask"] or \
            a["begin_mask"] not in (0, 1) or a["end_mask"] not in (0, 1):
        return None
    b, e, s = (int(np.reshape(v, [-1])[0]) for v in vals)
    prev = shape_from_tensor(op.inputs[0])
    if prev.ndims is None:
        return None
    return TensorShape(prev.dims[slice(None if a["begin_mask"] else b,
                                       None if a["end_mask"] else e, s)])


def normalize_axis(axis, rank, what="axis"):
    a = int(axis)
    if not -rank <= a < max(rank, 1):
        raise ValueError(f"{what} {a} is out of range for a tensor of rank {rank}; "
                         f"expected [{-rank}, {rank})")
    return a % rank if rank else 0


def dtype_name(dtype):
    return _dt.as_dtype(dtype).name
