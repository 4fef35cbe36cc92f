"""Elementwise math, comparisons, casts, matmul and reductions (tf.add, tf.matmul,
tf.reduce_sum, ...) with TF 1.15's op types, names, dtype rules and errors."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import constant, convert_to_tensor
from .op_util import (broadcast_static_shape, constant_value, make_tensor,
                      normalize_axis)
from .registry import lowering

FLOATS = (_dt.float16, _dt.float32, _dt.float64)
NUMERIC = FLOATS + (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8, _dt.uint16)


def _check_dtype(op_type, x, allowed, param="x"):
    if x.dtype not in allowed:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {x.dtype.name} "
                        f"not in list of allowed values: "
                        f"{', '.join(d.name for d in allowed)} (op {op_type!r})")


# ---------------------------------------------------------------- unary ops

# op type -> (IR op or lowering fn, allowed dtypes)
_UNARY = {
    "Neg": ("neg", NUMERIC), "Abs": ("abs", NUMERIC), "Sign": ("sign", NUMERIC),
    "Exp": ("exp", FLOATS), "Expm1": ("expm1", FLOATS), "Log": ("log", FLOATS),
    "Log1p": ("log1p", FLOATS), "Tanh": ("tanh", FLOATS), "Sigmoid": ("logistic", FLOATS),
    "Sqrt": ("sqrt", FLOATS), "Rsqrt": ("rsqrt", FLOATS), "Floor": ("floor", FLOATS),
    "Ceil": ("ceil", FLOATS), "Round": ("round", NUMERIC), "Sin": ("sin", FLOATS),
    "Cos": ("cos", FLOATS), "LogicalNot": ("not", (_dt.bool,)),
    "Square": (lambda ctx, x: ctx.b.emit("mul", [x, x]), NUMERIC),
    "Reciprocal": (lambda ctx, x: ctx.b.emit("div", [ctx.scalar(1, x.dtype, x.shape), x]),
                   NUMERIC),
    "Relu": (lambda ctx, x: ctx.b.emit("max", [x, ctx.scalar(0, x.dtype, x.shape)]),
             NUMERIC),
    "Identity": (lambda ctx, x: x, None),
    "StopGradient": (lambda ctx, x: x, None),
}


def unary(op_type, x, name=None):
    if not isinstance(x, Tensor):  # a Python value becomes the input `x` in the op's scope
        with name_scope(name, op_type) as scope:
            return _unary_op(op_type, convert_to_tensor(x, name="x"), scope)
    return _unary_op(op_type, x, name)


def _unary_op(op_type, x, name):
    x = convert_to_tensor(x, name="x")
    allowed = _UNARY[op_type][1]
    if allowed is not None:
        _check_dtype(op_type, x, allowed)
    return make_tensor(op_type, [x], x.dtype, x.shape, {"T": x.dtype}, name=name)


@lowering(*_UNARY)
def _lower_unary(ctx, op, inputs):
    (x,) = inputs
    how = _UNARY[op.type][0]
    if op.type == "Round" and x.dtype not in ("f32", "f64"):
        return [x]
    if op.type == "Abs" and x.dtype not in ("f32", "f64"):
        return [ctx.b.emit("abs", [x])]
    return [how(ctx, x) if callable(how) else ctx.b.emit(how, [x])]


def _unary_fn(op_type):
    def f(x, name=None):
        return unary(op_type, x, name)
    f.__name__ = op_type.lower()
    return f


negative = neg = _unary_fn("Neg")
sign = _unary_fn("Sign")
square = _unary_fn("Square")
sqrt = _unary_fn("Sqrt")
rsqrt = _unary_fn("Rsqrt")
reciprocal = _unary_fn("Reciprocal")
exp = _unary_fn("Exp")
expm1 = _unary_fn("Expm1")
log = _unary_fn("Log")
log1p = _unary_fn("Log1p")
tanh = _unary_fn("Tanh")
sigmoid = _unary_fn("Sigmoid")
floor = _unary_fn("Floor")
ceil = _unary_fn("Ceil")
round = _unary_fn("Round")  # noqa: A001 - TF's name; half to even like TF
sin = _unary_fn("Sin")
cos = _unary_fn("Cos")
logical_not = _unary_fn("LogicalNot")


def _predicate(op_type):
    def f(x, name=None):
        x = convert_to_tensor(x, name="x")
        _check_dtype(op_type, x, FLOATS)
        return make_tensor(op_type, [x], _dt.bool, x.shape, {"T": x.dtype}, name=name)
    f.__name__ = op_type
    return f


is_finite = _predicate("IsFinite")
is_nan = _predicate("IsNan")
is_inf = _predicate("IsInf")


@lowering("IsFinite", "IsNan", "IsInf")
def _lower_predicate(ctx, op, inputs):
    (x,) = inputs
    b = ctx.b
    if op.type == "IsNan":
        return [b.emit("ne", [x, x])]
    if op.type == "IsFinite":  # x - x is 0 exactly when x is finite
        return [b.emit("eq", [b.emit("sub", [x, x]), ctx.scalar(0, x.dtype, x.shape)])]
    return [b.emit("eq", [b.emit("abs", [x]), ctx.scalar(np.inf, x.dtype, x.shape)])]


def abs(x, name=None):  # noqa: A001
    return unary("Abs", x, name)


def identity(input, name=None):  # noqa: A002
    from ..variables import Variable
    if isinstance(input, Variable):
        input = input.value()
    x = convert_to_tensor(input)
    return make_tensor("Identity", [x], x.dtype, x.shape, {"T": x.dtype}, name=name)


def stop_gradient(input, name=None):  # noqa: A002
    x = convert_to_tensor(input)
    return make_tensor("StopGradient", [x], x.dtype, x.shape, {"T": x.dtype}, name=name)


# ---------------------------------------------------------------- binary ops

_BINARY = {
    "Add": NUMERIC, "AddV2": NUMERIC, "Sub": NUMERIC, "Mul": NUMERIC, "RealDiv": NUMERIC,
    "Div": NUMERIC, "FloorDiv": NUMERIC, "FloorMod": NUMERIC, "TruncateDiv": NUMERIC,
    "TruncateMod": NUMERIC, "Pow": NUMERIC, "Maximum": NUMERIC, "Minimum": NUMERIC,
    "SquaredDifference": NUMERIC,
    "Equal": NUMERIC + (_dt.bool,), "NotEqual": NUMERIC + (_dt.bool,), "Less": NUMERIC,
    "LessEqual": NUMERIC, "Greater": NUMERIC, "GreaterEqual": NUMERIC,
    "LogicalAnd": (_dt.bool,), "LogicalOr": (_dt.bool,),
}
_COMPARE = {"Equal": "eq", "NotEqual": "ne", "Less": "lt", "LessEqual": "le",
            "Greater": "gt", "GreaterEqual": "ge"}


def _binary_inputs(op_type, x, y):
    """Converts operands as TF's binary_op_wrapper does and checks dtypes match."""
    if not isinstance(x, Tensor) and isinstance(y, Tensor):
        x = convert_to_tensor(x, dtype_hint=y.dtype, name="x")
    else:
        x = convert_to_tensor(x, name="x")
    y = convert_to_tensor(y, dtype_hint=x.dtype, name="y")
    if x.dtype != y.dtype:
        raise TypeError(f"Input 'y' of '{op_type}' Op has type {y.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 'x'.")
    return x, y


def _strict_inputs(op_type, x, y):
    """Converts operands as a TF op does: x by itself, y to x's dtype."""
    x = convert_to_tensor(x, name="x")
    if isinstance(y, Tensor):
        if y.dtype != x.dtype:
            raise TypeError(f"Input 'y' of '{op_type}' Op has type {y.dtype.name} that does "
                            f"not match type {x.dtype.name} of argument 'x'.")
        return x, y
    try:
        y = convert_to_tensor(y, dtype=x.dtype, name="y")
    except ValueError as e:  # a Variable of another dtype
        raise TypeError(f"Input 'y' of '{op_type}' Op: {e}") from None
    except TypeError as e:
        raise TypeError(f"Expected {x.dtype.name} passed to parameter 'y' of op "
                        f"'{op_type}', got {y!r:.80} of type '{type(y).__name__}' instead. "
                        f"Error: {e}") from None
    return x, y


def binary(op_type, x, y, name=None, default_name=None, strict=False):
    """A binary elementwise op. `strict`: the function form (tf.add), which converts
    its operands as the op does; otherwise the operator form (x + y), where a Python
    value takes the dtype of the tensor it meets."""
    with name_scope(name, default_name or op_type, [x, y]) as scope:
        x, y = (_strict_inputs if strict else _binary_inputs)(op_type, x, y)
        _check_dtype(op_type, x, _BINARY[op_type])
        shape = broadcast_static_shape(
            x.shape, y.shape, f"'{scope[:-1]}' (op: '{op_type}')")
        out = _dt.bool if op_type in _COMPARE else x.dtype
        return make_tensor(op_type, [x, y], out, shape, {"T": x.dtype}, name=scope)


def _floor_div(ctx, x, y):
    if x.dtype in ("f32", "f64"):
        return ctx.b.emit("floor", [ctx.b.emit("div", [x, y])])
    q = ctx.b.emit("div", [x, y])
    return ctx.b.emit("sub", [q, ctx.convert(_floor_adjust(ctx, x, y), x.dtype)])


def _floor_adjust(ctx, x, y):
    """True where C's truncating remainder has the wrong sign for floor semantics."""
    r = ctx.b.emit("rem", [x, y])
    zero = ctx.scalar(0, x.dtype, x.shape)
    nz = ctx.b.emit("ne", [r, zero])
    diff = ctx.b.emit("ne", [ctx.b.emit("lt", [r, zero]), ctx.b.emit("lt", [y, zero])])
    return ctx.b.emit("and", [nz, diff]), r


def _floor_adjust_bool(ctx, x, y):
    return _floor_adjust(ctx, x, y)[0]


def _floor_mod(ctx, x, y):
    adj, r = _floor_adjust(ctx, x, y)
    return ctx.b.emit("select", [adj, ctx.b.emit("add", [r, y]), r])


def _lower_binary_values(ctx, op_type, x, y):
    b = ctx.b
    if op_type in _COMPARE:
        return b.emit(_COMPARE[op_type], [x, y])
    if op_type in ("Add", "AddV2"):
        return b.emit("add", [x, y])
    if op_type == "Sub":
        return b.emit("sub", [x, y])
    if op_type == "Mul":
        return b.emit("mul", [x, y])
    if op_type in ("RealDiv", "TruncateDiv"):
        return b.emit("div", [x, y])
    if op_type == "Div":
        return _floor_div(ctx, x, y) if x.dtype in ("i32", "i64") else b.emit("div", [x, y])
    if op_type == "FloorDiv":
        if x.dtype in ("f32", "f64"):
            return b.emit("floor", [b.emit("div", [x, y])])
        q = b.emit("div", [x, y])
        adj = _floor_adjust(ctx, x, y)[0]
        return b.emit("sub", [q, ctx.convert(adj, x.dtype)])
    if op_type == "FloorMod":
        return _floor_mod(ctx, x, y)
    if op_type == "TruncateMod":
        return b.emit("rem", [x, y])
    if op_type == "Pow":
        return b.emit("pow", [x, y])
    if op_type == "Maximum":
        return b.emit("max", [x, y])
    if op_type == "Minimum":
        return b.emit("min", [x, y])
    if op_type == "SquaredDifference":
        d = b.emit("sub", [x, y])
        return b.emit("mul", [d, d])
    if op_type == "LogicalAnd":
        return b.emit("and", [x, y])
    if op_type == "LogicalOr":
        return b.emit("or", [x, y])
    raise NotImplementedError(op_type)


_INT_DIVISIONS = ("Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod")


@lowering(*_BINARY)
def _lower_binary(ctx, op, inputs):
    x, y = ctx.broadcast_pair(*inputs)
    if op.type in _INT_DIVISIONS and y.dtype in ("i32", "i64"):
        from .op_checks import check_divisor
        check_divisor(ctx, op, y)
    return [_lower_binary_values(ctx, op.type, x, y)]


def _binary_fn(op_type, default_name=None):
    def f(x, y, name=None):
        return binary(op_type, x, y, name, default_name, strict=True)
    f.__name__ = op_type.lower()
    return f


add = _binary_fn("Add")
subtract = _binary_fn("Sub")
multiply = _binary_fn("Mul")
maximum = _binary_fn("Maximum")
minimum = _binary_fn("Minimum")
floordiv = _binary_fn("FloorDiv", "floordiv")
floor_div = _binary_fn("FloorDiv")
floormod = mod = _binary_fn("FloorMod")
truncatediv = _binary_fn("TruncateDiv")
truncatemod = _binary_fn("TruncateMod")
squared_difference = _binary_fn("SquaredDifference")
equal = _binary_fn("Equal")
not_equal = _binary_fn("NotEqual")
less = _binary_fn("Less")
less_equal = _binary_fn("LessEqual")
greater = _binary_fn("Greater")
greater_equal = _binary_fn("GreaterEqual")
logical_and = _binary_fn("LogicalAnd")
logical_or = _binary_fn("LogicalOr")
sub = subtract
mul = multiply


def logical_xor(x, y, name="LogicalXor"):
    # TF 1.15 builds it from and/or/not without a scope of its own
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def pow(x, y, name=None):  # noqa: A001
    with name_scope(name, "Pow", [x]) as scope:
        return binary("Pow", x, y, scope, "Pow", strict=True)


_INT_TO_FLOAT = {_dt.int8: _dt.float32, _dt.int16: _dt.float32, _dt.uint8: _dt.float32,
                 _dt.uint16: _dt.float32, _dt.int32: _dt.float64, _dt.int64: _dt.float64}


def truediv(x, y, name=None):
    """x / y with Python 3 semantics: integers are cast to floats first (int32 ->
    float64, as TF)."""
    with name_scope(name, "truediv", [x, y]) as scope:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype_hint=x.dtype, name="y")
        if x.dtype != y.dtype:
            raise TypeError(f"x and y must have the same dtype, got {x.dtype!r} != "
                            f"{y.dtype!r}")
        return _truediv(x, y, scope)


def _truediv(x, y, scope):
    if x.dtype in _INT_TO_FLOAT:
        x = cast(x, _INT_TO_FLOAT[x.dtype])
        y = cast(y, _INT_TO_FLOAT[y.dtype])
    shape = broadcast_static_shape(x.shape, y.shape, f"'{scope[:-1]}' (op: 'RealDiv')")
    return make_tensor("RealDiv", [x, y], x.dtype, shape, {"T": x.dtype}, name=scope)


def divide(x, y, name=None):
    """tf.divide: `x / y`, the operator (a Python x takes y's dtype)."""
    with name_scope(name, "truediv", [x, y]) as scope:
        if not isinstance(x, Tensor) and isinstance(y, Tensor):
            x = convert_to_tensor(x, dtype=y.dtype, name="x")
        x, y = _binary_inputs("RealDiv", x, y)
        return _truediv(x, y, scope)


def realdiv(x, y, name=None):
    return binary("RealDiv", x, y, name)


def div(x, y, name=None):
    """tf.div: Python 2 semantics (integers floor-divide)."""
    with name_scope(name, "div", [x, y]) as scope:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype=x.dtype, name="y")
        if x.dtype.is_integer:
            return binary("FloorDiv", x, y, name=scope)
        return binary("RealDiv", x, y, name=scope)


def div_no_nan(x, y, name=None):
    with name_scope(name, "div_no_nan", [x, y]) as scope:
        x, y = _binary_inputs("DivNoNan", x, y)
        zero = constant(0, dtype=x.dtype)
        safe = where_v1(equal(y, zero), zero + y * 0 + 1, y)
        q = binary("RealDiv", x, safe)
        return where_v1(equal(y, zero), q * 0, q, name=scope)


def where_v1(cond, x, y, name=None):
    from .array_ops import where
    return where(cond, x, y, name=name)


def add_n(inputs, name=None):
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with "
                         "the same dtype and shape")
    inputs = [convert_to_tensor(i) for i in inputs]
    if len(inputs) == 1:
        return identity(inputs[0], name=name) if name else inputs[0]
    dt = inputs[0].dtype
    shape = inputs[0].shape
    for i in inputs[1:]:
        if i.dtype != dt:
            raise TypeError(f"AddN: all inputs must have dtype {dt.name}, got {i.dtype.name}")
        if not shape.is_compatible_with(i.shape):
            raise ValueError(f"AddN: shapes {shape} and {i.shape} are incompatible")
        shape = shape.merge_with(i.shape)
    return make_tensor("AddN", inputs, dt, shape, {"N": len(inputs), "T": dt}, name=name)


@lowering("AddN")
def _lower_addn(ctx, op, inputs):
    acc = inputs[0]
    for v in inputs[1:]:
        acc = ctx.b.emit("add", [acc, v])
    return [acc]


def scalar_mul(scalar, x, name=None):
    x = convert_to_tensor(x)
    scalar = convert_to_tensor(scalar, dtype=x.dtype, name="scalar")
    if scalar.shape.ndims != 0:
        raise ValueError(f"Only scalar multiply works, got shape {scalar.shape}")
    return binary("Mul", scalar, x, name, "Mul")


# ---------------------------------------------------------------- cast

def cast(x, dtype, name=None):
    from ..variables import Variable
    dtype = _dt.as_dtype(dtype)
    if isinstance(x, Variable):
        x = x.value()
    if isinstance(x, Tensor) and x.dtype == dtype:
        return x  # before opening a scope, as TF (no name is used up)
    with name_scope(name, "Cast", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        if x.dtype == dtype:
            return x
        return make_tensor("Cast", [x], dtype, x.shape, {"SrcT": x.dtype, "DstT": dtype},
                           name=scope)


def saturate_cast(value, dtype, name=None):
    """Casts, clamping to the target dtype's range first."""
    with name_scope(name, "saturate_cast", [value]) as scope:
        x = convert_to_tensor(value, name="value")
        dtype = _dt.as_dtype(dtype)
        if x.dtype.min < dtype.min:
            x = binary("Maximum", x, convert_to_tensor(x.dtype.as_numpy_dtype(dtype.min),
                                                       dtype=x.dtype, name="min"))
        if x.dtype.max > dtype.max:
            x = binary("Minimum", x, convert_to_tensor(x.dtype.as_numpy_dtype(dtype.max),
                                                       dtype=x.dtype, name="max"))
        return cast(x, dtype, name=scope)


def to_float(x, name="ToFloat"):
    return cast(x, _dt.float32, name)


def to_double(x, name="ToDouble"):
    return cast(x, _dt.float64, name)


def to_int32(x, name="ToInt32"):
    return cast(x, _dt.int32, name)


def to_int64(x, name="ToInt64"):
    return cast(x, _dt.int64, name)


@lowering("Cast")
def _lower_cast(ctx, op, inputs):
    return [ctx.convert(inputs[0], _dt.compilable(op.attrs["DstT"], op.name, widen=True))]


# ---------------------------------------------------------------- matmul

def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    with name_scope(name, "MatMul", [a, b]) as scope:
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b", dtype_hint=a.dtype)
        ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
        if a.dtype != b.dtype:
            raise TypeError(f"Input 'b' of 'MatMul' Op has type {b.dtype.name} that does "
                            f"not match type {a.dtype.name} of argument 'a'.")
        _check_dtype("MatMul", a, (_dt.float32, _dt.float64, _dt.int32, _dt.int64),
                     "a")
        ra, rb = a.shape.ndims, b.shape.ndims
        if ra is not None and ra < 2 or rb is not None and rb < 2:
            raise ValueError(f"Shape must be rank 2 but is rank {min(r for r in (ra, rb) if r is not None)} "
                             f"for '{scope[:-1]}' (op: 'MatMul') with input shapes: "
                             f"{a.shape}, {b.shape}.")
        if ra == 2 and rb == 2:
            sa, sb = a.shape.as_list(), b.shape.as_list()
            m, k = (sa[1], sa[0]) if ta else sa
            k2, n = (sb[1], sb[0]) if tb else sb
            if k is not None and k2 is not None and k != k2:
                raise ValueError(f"Dimensions must be equal, but are {k} and {k2} for "
                                 f"'{scope[:-1]}' (op: 'MatMul') with input shapes: "
                                 f"[{','.join(map(_q, sa))}], [{','.join(map(_q, sb))}].")
            return make_tensor("MatMul", [a, b], a.dtype, [m, n],
                               {"transpose_a": ta, "transpose_b": tb, "T": a.dtype},
                               name=scope)
        out_shape = TensorShape(None)
        if ra is not None and rb is not None:
            sa, sb = a.shape.as_list(), b.shape.as_list()
            m, k = (sa[-1], sa[-2]) if ta else sa[-2:]
            k2, n = (sb[-1], sb[-2]) if tb else sb[-2:]
            if k is not None and k2 is not None and k != k2:
                raise ValueError(f"Dimensions must be equal, but are {k} and {k2} for "
                                 f"'{scope[:-1]}' (op: 'BatchMatMulV2') with input shapes: "
                                 f"{a.shape}, {b.shape}.")
            batch = broadcast_static_shape(TensorShape(sa[:-2]), TensorShape(sb[:-2]),
                                           f"'{scope[:-1]}' (op: 'BatchMatMulV2')")
            out_shape = batch.concatenate([m, n])
        return make_tensor("BatchMatMulV2", [a, b], a.dtype, out_shape,
                           {"adj_x": ta, "adj_y": tb, "T": a.dtype}, name=scope)


def _q(d):
    return "?" if d is None else str(d)


@lowering("MatMul", "BatchMatMul", "BatchMatMulV2")
def _lower_matmul(ctx, op, inputs):
    a, b = inputs
    ta = op.attrs.get("transpose_a", op.attrs.get("adj_x", False))
    tb = op.attrs.get("transpose_b", op.attrs.get("adj_y", False))
    if a.type.rank != 2 or b.type.rank != 2:
        batch = ctx.broadcast_shape(a.shape[:-2], b.shape[:-2])
        a = ctx.bcast(a, batch + a.shape[-2:])
        b = ctx.bcast(b, batch + b.shape[-2:])
    k = a.shape[-2] if ta else a.shape[-1]
    k2 = b.shape[-1] if tb else b.shape[-2]
    if k != k2:
        ctx.fail(f"Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: {list(b.shape)}")
    return [ctx.b.emit("dot", [a, b], transpose_a=ta, transpose_b=tb)]


# ---------------------------------------------------------------- reductions

_REDUCE = {"Sum": "sum", "Prod": "prod", "Max": "max", "Min": "min", "Mean": "mean",
           "All": "and", "Any": "or"}


def _reduction(op_type, input_tensor, axis, keepdims, name, reduction_indices=None,
               keep_dims=None, allowed=NUMERIC):
    if axis is None:
        axis = reduction_indices
    if keepdims is None:
        keepdims = bool(keep_dims) if keep_dims is not None else False
    to_scalar = axis is None and not keepdims  # TF's _may_reduce_to_scalar
    x = convert_to_tensor(input_tensor)
    _check_dtype(op_type, x, allowed, "input")
    rank = x.shape.ndims
    axes_t = None
    if axis is None:  # TF builds the default axes before entering the op's scope
        if rank is not None:
            axes_t = constant(np.arange(rank, dtype=np.int32), name="Const")
        else:
            from .array_ops import range as _range, rank as _rank
            axes_t = _range(0, _rank(x))
    with name_scope(name, op_type, [x]) as scope:
        if axes_t is not None:
            pass
        else:
            axes_t = convert_to_tensor(axis, name="reduction_indices") if not isinstance(
                axis, Tensor) else axis
            if not axes_t.dtype.is_integer:
                raise TypeError(f"{op_type}: axis must be int32 or int64, got {axes_t.dtype.name}")
        axes_v = constant_value(axes_t)
        if rank is not None and axes_v is not None and rank == 0 and np.size(axes_v):
            raise ValueError(f"Invalid reduction dimension {int(np.reshape(axes_v, [-1])[0])} "
                             f"for input with 0 dimensions. for '{scope[:-1]}' (op: "
                             f"'{op_type}') with input shapes: [], {list(axes_v.shape)}")
        if rank is None:
            shape = TensorShape(None)
        elif axes_v is None:  # unknown axes: the rank survives only with keepdims
            shape = TensorShape([None] * rank) if keepdims else TensorShape(None)
        else:
            axes = sorted({normalize_axis(a, rank, f"{op_type}: reduction axis")
                           for a in np.reshape(axes_v, [-1])})
            dims = x.shape.as_list()
            shape = TensorShape([1 if i in axes else d for i, d in enumerate(dims)]
                                if keepdims else
                                [d for i, d in enumerate(dims) if i not in axes])
        if to_scalar:
            shape = TensorShape([])
        return make_tensor(op_type, [x, axes_t], x.dtype, shape,
                           {"keep_dims": bool(keepdims), "T": x.dtype,
                            "Tidx": axes_t.dtype}, name=scope)


@lowering(*_REDUCE)
def _lower_reduce(ctx, op, inputs):
    x = inputs[0]
    axes_v = ctx.const_value(inputs[1], f"{op.type} axes")
    axes = sorted({ctx.axis(a, x.type.rank) for a in np.reshape(axes_v, [-1])})
    kind = _REDUCE[op.type]
    count = 1
    for a in axes:
        count *= x.shape[a]
    if kind == "mean":
        s = ctx.b.emit("reduce", [x], kind="sum", axes=axes)
        out = ctx.b.emit("div", [s, ctx.scalar(count, x.dtype, s.shape)])
    else:
        out = ctx.b.emit("reduce", [x], kind=kind, axes=axes)
    if op.attrs["keep_dims"]:
        out = ctx.b.emit("reshape", [out],
                         shape=[1 if i in axes else d for i, d in enumerate(x.shape)])
    return [out]


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduction("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    return _reduction("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduction("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduction("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    return _reduction("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduction("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims,
                      allowed=(_dt.bool,))


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduction("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims,
                      allowed=(_dt.bool,))


def _arg(op_type, input, axis, name, dimension, output_type):  # noqa: A002
    if axis is None:
        axis = dimension if dimension is not None else 0
    output_type = _dt.as_dtype(output_type)
    if output_type not in (_dt.int32, _dt.int64):
        raise TypeError(f"{op_type}: output_type must be int32 or int64, got {output_type.name}")
    x = convert_to_tensor(input)
    _check_dtype(op_type, x, NUMERIC, "input")
    with name_scope(name, op_type, [x]) as scope:
        axis_t = axis if isinstance(axis, Tensor) else constant(axis, name="dimension")
        av = constant_value(axis_t)
        rank = x.shape.ndims
        if rank is None:
            shape = TensorShape(None)
        elif rank <= 1:  # TF: reducing a scalar or a vector gives a scalar
            shape = TensorShape([])
        elif av is None:
            shape = TensorShape([None] * (rank - 1))
        else:
            a = normalize_axis(int(av), rank, f"{op_type}: dimension")
            shape = TensorShape([d for i, d in enumerate(x.shape.as_list()) if i != a])
        return make_tensor(op_type, [x, axis_t], output_type, shape,
                           {"T": x.dtype, "output_type": output_type}, name=scope)


def argmax(input, axis=None, name=None, dimension=None, output_type=_dt.int64):  # noqa: A002
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=_dt.int64):  # noqa: A002
    return _arg("ArgMin", input, axis, name, dimension, output_type)


@lowering("ArgMax", "ArgMin")
def _lower_arg(ctx, op, inputs):
    x = inputs[0]
    a = ctx.axis(int(ctx.const_value(inputs[1], f"{op.type} dimension")), x.type.rank)
    if x.shape[a] == 0:
        ctx.fail(f"{op.type}: reduction axis {a} is empty in input of shape {list(x.shape)}")
    return [ctx.b.emit(op.type.lower(), [x], axis=a, dtype=op.attrs["output_type"].ir)]


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=_dt.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):  # noqa: A002
    if input_tensor is None:
        input_tensor = input
    if axis is None:
        axis = reduction_indices
    if keepdims is None:
        keepdims = bool(keep_dims)
    with name_scope(name, "count_nonzero", [input_tensor]):
        x = convert_to_tensor(input_tensor, name="input")
        zero = constant(False if x.dtype == _dt.bool else 0, dtype=x.dtype, name="zeros")
        nonzero = cast(binary("NotEqual", x, zero), _dt.int64)
        return cast(reduce_sum(nonzero, axis=axis, keepdims=keepdims), dtype)
