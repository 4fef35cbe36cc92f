"""tf.constant and convert_to_tensor, with TF 1.x's dtype inference rules:
Python ints become int32 (int64 when they don't fit), Python floats float32,
numpy values keep their dtype, and a requested dtype that would change a
Python value (1.5 as int32) raises TypeError."""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, get_default_graph
from .op_util import make_tensor
from .registry import lowering


def _dense_dims(values):
    if isinstance(values, (list, tuple)):
        if not values:
            return [0]
        return [len(values)] + _dense_dims(values[0])
    return []


def _flat_python(values):
    if isinstance(values, (list, tuple)):
        for v in values:
            yield from _flat_python(v)
    else:
        yield values


def _check_python_values(values, dtype, orig):
    """TF's _AssertCompatible: a Python value must fit the requested dtype's kind."""
    for v in _flat_python(values):
        if isinstance(v, Tensor):
            continue
        if isinstance(v, (bool, np.bool_)):
            ok = dtype.is_bool or dtype.is_integer or dtype.is_floating
            ok = dtype.is_bool or not isinstance(v, bool) or ok
        elif isinstance(v, numbers.Integral):
            ok = not dtype.is_bool
        elif isinstance(v, numbers.Real):
            ok = dtype.is_floating
        else:
            ok = False
        if not ok:
            raise TypeError(f"Expected {dtype.name}, got {v!r} of type "
                            f"'{type(v).__name__}' instead.")


def to_numpy(value, dtype=None, what="value"):
    """A numpy array for `value` with TF's inference, or the requested dtype."""
    dtype = _dt.as_dtype(dtype) if dtype is not None else None
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind in "OUS":
            raise TypeError(f"{what}: can't convert an array of {arr.dtype} to a tensor")
        if dtype is not None:
            arr = arr.astype(dtype.as_numpy_dtype)
        elif arr.dtype not in _dt._BY_NP:
            raise TypeError(f"{what}: unsupported numpy dtype {arr.dtype}")
        return arr
    if value is None:
        raise ValueError("None values not supported.")
    if dtype is not None:
        _check_python_values(value, dtype, value)
        try:
            arr = np.array(value, dtype=dtype.as_numpy_dtype)
        except ValueError as e:
            raise ValueError(f"Argument must be a dense tensor: {value!r:.200} ({e})") from None
        except OverflowError as e:
            raise TypeError(f"{what}: can't convert {value!r} to {dtype.name}: {e}") from None
        if dtype.is_integer:
            big = np.array(value, dtype=object) if _dense_dims(value) else value
            if np.any(np.asarray(big != arr, dtype=bool)):
                raise TypeError(f"{what}: value {value!r} doesn't fit in {dtype.name}")
    else:
        for v in _flat_python(value):
            if not isinstance(v, (numbers.Number, np.generic, np.bool_)):
                raise TypeError(f"Failed to convert object of type {type(value).__name__} "
                                "to Tensor. Contents: " + repr(value)[:200] +
                                ". Consider casting elements to a supported type.")
        try:
            arr = np.array(value)
        except ValueError as e:  # ragged nesting: TF's "must be a dense tensor"
            raise ValueError(f"Argument must be a dense tensor: {value!r:.200} ({e})") from None
        except OverflowError as e:
            raise TypeError(f"{what}: can't convert {value!r} to a tensor: {e}") from None
        if arr.dtype == np.float64:  # Python lists prefer float32, numpy scalars in them too
            arr = arr.astype(np.float32)
        elif arr.dtype == np.int64 or (arr.dtype.kind == "i" and arr.dtype != np.int32):
            small = arr.astype(np.int32)
            arr = small if np.array_equal(small, arr) else arr.astype(np.int64)
        elif arr.dtype.kind == "O":
            raise TypeError(f"{what}: can't convert {value!r} to a tensor")
    if list(arr.shape) != _dense_dims(value) and not isinstance(value, (np.ndarray, np.generic)):
        raise ValueError("Argument must be a dense tensor: "
                         f"{value!r} - got shape {list(arr.shape)}, but wanted "
                         f"{_dense_dims(value)}.")
    return arr


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """tf.constant(value, dtype=None, shape=None, name='Const')."""
    arr = to_numpy(value, dtype, what=f"tf.constant {name!r}")
    if shape is not None:
        shape = [int(d) for d in (shape if isinstance(shape, (list, tuple)) else
                                  list(shape))]
        n = int(np.prod(shape, dtype=np.int64))
        if arr.size == n:
            arr = arr.reshape(shape)
        elif verify_shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif 0 < arr.size < n:  # TF 1.x repeats the last value to fill the shape
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.full(n - flat.size, flat[-1], flat.dtype)]
                                 ).reshape(shape)
        else:
            raise ValueError(f"Too many elements provided. Needed at most {n}, but "
                             f"received {arr.size}")
    arr = np.array(arr, order="C")
    arr.setflags(write=False)
    dt = _dt.as_dtype(arr.dtype)
    return make_tensor("Const", [], dt, arr.shape, {"value": arr, "dtype": dt}, name=name)


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None):
    """tf.convert_to_tensor with TF 1.x's rules."""
    from ..variables import Variable
    preferred_dtype = preferred_dtype or dtype_hint
    if isinstance(value, Tensor):
        if dtype is not None and _dt.as_dtype(dtype) != value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} "
                             f"for Tensor with dtype {value.dtype.name}: {value!r}")
        return value
    if isinstance(value, Variable):
        return convert_to_tensor(value.value(), dtype=dtype, name=name)
    from ..tensor_shape import TensorShape
    if isinstance(value, TensorShape):
        if not value.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {value} to a "
                             "Tensor.")
        value = value.as_list()
        if dtype is None:
            dtype = "int32"
    if hasattr(value, "_as_tensor"):
        return convert_to_tensor(value._as_tensor(), dtype=dtype, name=name)
    if isinstance(value, (list, tuple)) and any(
            isinstance(v, (Tensor, Variable)) for v in _flat_python(value)):
        from .array_ops import _autopack
        return _autopack(value, dtype=dtype, name=name or "packed")
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def convert_n_to_tensor(values, dtype=None, name=None):
    return [convert_to_tensor(v, dtype=dtype) for v in values]


def is_tensor(x):
    from ..variables import Variable
    return isinstance(x, (Tensor, Variable))


@lowering("Const")
def _lower_const(ctx, op, inputs):
    ir_dt = _dt.compilable(op.outputs[0].dtype, f"Const {op.name!r}", widen=True)
    value = np.asarray(op.attrs["value"])
    if value.dtype.kind in "iu" and value.dtype.itemsize < 4:   # a small int: widened
        value = value.astype(np.int32)
    assert ir_dt  # (a TypeError above for the dtypes the compiler has no place for)
    return [ctx.b.constant(value)]


def _default_graph():
    return get_default_graph()
