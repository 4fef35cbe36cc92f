"""TF 1.15 functions composed from other ops, with TF's scopes and result names:
sequence_mask, tensordot, lin_space, reduce_variance / reduce_std, the
hyperbolic and tangent functions the IR has no op for (tan, sinh, cosh, asinh,
acosh, atanh: their result is named as TF's op), tf.Print, and map_fn over a
dimension known when the graph is built (unrolled: the compiler has no loops)."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from . import array_ops, math_ops
from .constant_op import constant, convert_to_tensor
from .math_ops import FLOATS, _check_dtype


def sequence_mask(lengths, maxlen=None, dtype=_dt.bool, name=None):
    """mask[i, j] = j < lengths[i]: lengths of shape [...] give [..., maxlen]."""
    with name_scope(name, "SequenceMask", [lengths, maxlen]):
        lengths = convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = math_ops.reduce_max(lengths, list(builtins.range(lengths.shape.ndims))
                                         if lengths.shape.ndims is not None else None)
            maxlen = math_ops.maximum(constant(0, maxlen.dtype), maxlen)
        else:
            maxlen = convert_to_tensor(maxlen)
        if maxlen.shape.ndims not in (None, 0):
            raise ValueError("maxlen must be scalar for sequence_mask")
        row = array_ops._range_op(constant(0, maxlen.dtype), maxlen, constant(1, maxlen.dtype))
        matrix = _cast_op(array_ops.expand_dims(lengths, -1), maxlen.dtype)
        result = row < matrix
        dtype = _dt.as_dtype(dtype) if dtype is not None else None
        if dtype is None or result.dtype == dtype:
            return result
        return _cast_op(result, dtype)


def _cast_op(x, dtype):
    """A Cast op even between equal dtypes (TF's gen_math_ops.cast)."""
    from .op_util import make_tensor
    return make_tensor("Cast", [x], dtype, x.shape, {"SrcT": x.dtype, "DstT": dtype},
                       default_name="Cast")


def tensordot(a, b, axes, name=None):
    """Sums a's `axes[0]` against b's `axes[1]` (an int n: a's last n with b's
    first n) as one matmul of transposed, reshaped operands."""
    with name_scope(name, "Tensordot", [a, b, axes]) as scope:
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b")
        ra, rb = a.shape.ndims, b.shape.ndims
        if ra is None or rb is None:
            raise ValueError("tensordot needs operands of known rank")
        if isinstance(axes, (int, np.integer)):
            n = int(axes)
            if n < 0 or n > min(ra, rb):
                raise ValueError(f"'axes' must be at most {min(ra, rb)}, got {n}")
            a_axes, b_axes = list(builtins.range(ra - n, ra)), list(builtins.range(n))
        else:
            a_axes, b_axes = axes
            a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
            b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
            if len(a_axes) != len(b_axes):
                raise ValueError(f"Different number of contraction axes 'a' and 'b', "
                                 f"{len(a_axes)} != {len(b_axes)}.")
        a_axes = [int(x) % ra for x in a_axes]
        b_axes = [int(x) % rb for x in b_axes]
        da, db = a.shape.as_list(), b.shape.as_list()
        for i, j in zip(a_axes, b_axes):
            if da[i] is not None and db[j] is not None and da[i] != db[j]:
                raise ValueError(f"Dimensions must be equal, but are {da[i]} and {db[j]} "
                                 "for tensordot")
        a_free = [i for i in builtins.range(ra) if i not in a_axes]
        b_free = [i for i in builtins.range(rb) if i not in b_axes]
        a_t = _matrix(a, a_free, a_axes, False)
        b_t = _matrix(b, b_free, b_axes, True)
        product = math_ops.matmul(a_t, b_t)
        free = [da[i] for i in a_free] + [db[i] for i in b_free]
        if all(d is not None for d in free):
            if product.shape.is_fully_defined() and product.shape.as_list() == free:
                return product  # TF skips a reshape that changes nothing
            return array_ops.reshape(product, free, name=scope)
        sa, sb = array_ops.shape(a), array_ops.shape(b)
        # (an empty list of free axes must still be int32 indices)
        dims = array_ops.concat([array_ops.gather(sa, np.array(a_free, np.int32)),
                                 array_ops.gather(sb, np.array(b_free, np.int32))], 0)
        out = array_ops.reshape(product, dims, name=scope)
        out.set_shape(free)
        return out


def _matrix(x, free, contract, flipped):
    """x transposed to [free..., contract...] (or the reverse) and reshaped to 2-D."""
    dims = x.shape.as_list()
    perm = contract + free if flipped else free + contract
    if perm != list(builtins.range(len(dims))):
        x = array_ops.transpose(x, perm)
    nf = [dims[i] for i in free]
    nc = [dims[i] for i in contract]
    prod = lambda ds: None if any(d is None for d in ds) else int(np.prod(ds, dtype=np.int64))  # noqa: E731
    rows, cols = (prod(nc), prod(nf)) if flipped else (prod(nf), prod(nc))
    if rows is not None and cols is not None:
        if x.shape.as_list() == [rows, cols]:
            return x
        return array_ops.reshape(x, [rows, cols])
    return array_ops.reshape(x, [-1, cols] if cols is not None else [rows, -1])


def lin_space(start, stop, num, name=None):
    """num evenly spaced values from start to stop (both included); op LinSpace."""
    with name_scope(name, "LinSpace", [start, stop, num]) as scope:
        start = convert_to_tensor(start, name="start")
        stop = convert_to_tensor(stop, dtype=start.dtype, name="stop")
        num = convert_to_tensor(num, name="num")
        _check_dtype("LinSpace", start, FLOATS, "start")
        if not num.dtype.is_integer:
            raise TypeError(f"Value passed to parameter 'num' has DataType {num.dtype.name} "
                            "not in list of allowed values: int32, int64")
        n = math_ops.cast(num, start.dtype)
        step = (stop - start) / math_ops.maximum(n - 1, 1)
        idx = math_ops.cast(array_ops._range_op(constant(0, num.dtype), num,
                                                constant(1, num.dtype)), start.dtype)
        values = start + idx * step
        # the last value is exactly stop, as TF's kernel gives
        last = math_ops.cast(math_ops.equal(idx, n - 1), start.dtype)
        return math_ops.add(values * (1 - last), stop * last, name=scope)


linspace = lin_space


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    with name_scope(name or "reduce_variance"):
        means = math_ops.reduce_mean(input_tensor, axis=axis, keepdims=True)
        squared = math_ops.square(input_tensor - means)
        return math_ops.reduce_mean(squared, axis=axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    with name_scope(name or "reduce_std"):
        return math_ops.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def _float_fn(op_type, body):
    def f(x, name=None):
        with name_scope(name, op_type, [x]) as scope:
            x = convert_to_tensor(x, name="x")
            _check_dtype(op_type, x, FLOATS)
            return math_ops.identity(body(x), name=scope)
    f.__name__ = op_type.lower()
    f.__doc__ = f"tf.{op_type.lower()}: composed from exp, log, sin and cos (result named {op_type})."
    return f


tan = _float_fn("Tan", lambda x: math_ops.sin(x) / math_ops.cos(x))
sinh = _float_fn("Sinh", lambda x: (math_ops.exp(x) - math_ops.exp(-x)) * 0.5)
cosh = _float_fn("Cosh", lambda x: (math_ops.exp(x) + math_ops.exp(-x)) * 0.5)
asinh = _float_fn("Asinh", lambda x: math_ops.sign(x) * math_ops.log(
    math_ops.abs(x) + math_ops.sqrt(math_ops.square(x) + 1)))
acosh = _float_fn("Acosh", lambda x: math_ops.log(x + math_ops.sqrt(math_ops.square(x) - 1)))
atanh = _float_fn("Atanh", lambda x: 0.5 * math_ops.log((1 + x) / (1 - x)))


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """tf.Print: passes `input_` through and prints `data` when it runs (see
    tfcompile/ops/print_ops.py)."""
    from .print_ops import print_op
    return print_op(input_, data, message, first_n, summarize, name)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None):
    """fn applied to each slice along the first dimension, results stacked. That
    dimension must be known when the graph is built: the call is unrolled."""
    with name_scope(name, "map", [elems]):
        single = not isinstance(elems, (list, tuple))
        xs = [convert_to_tensor(e, name="elems") for e in ([elems] if single else elems)]
        n = xs[0].shape[0].value if xs[0].shape.ndims else None
        if n is None:
            raise NotImplementedError(
                "map_fn over a first dimension unknown when the graph is built is not "
                "supported: the compiler has no loops (its length is unrolled)")
        slices = [array_ops.unstack(x, num=n) for x in xs]
        results = []
        from .cond_ops import unroll_step
        for i in builtins.range(n):
            arg = slices[0][i] if single else type(elems)(s[i] for s in slices)
            with unroll_step(i):
                results.append(fn(arg))
        if isinstance(results[0], (list, tuple)):
            return type(results[0])(array_ops.stack([r[k] for r in results])
                                    for k in builtins.range(len(results[0])))
        return array_ops.stack(results)


_ = Tensor
