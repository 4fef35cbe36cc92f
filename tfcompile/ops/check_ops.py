"""Run-time checks: tf.Assert, the tf.assert_* family (tf.debugging too) and
the is_* predicates (TF 1.15 names and semantics); check_numerics and
tf.print are in numerics_ops, installed from here.

Graph side as TF's Python: each assert_* builds its condition and a `data`
list (messages and tensors) and hands both to tf.Assert, an op with no
outputs to run or to put in tf.control_dependencies; when x and y are both
known at graph build (TF's constant_value) a false condition raises
InvalidArgumentError there, and rank and dtype checks on static shapes raise
ValueError / TypeError.

Compiled code has no error path: an Assert (and CheckNumerics) lowers to a
run check (LoweringContext.add_run_check), a bool the Session reads after the
call and raises InvalidArgumentError on, with TF's message: "assertion
failed: [data 0] [data 1] ...", each tensor summarized as TF's
Tensor::SummarizeValue does (first `summarize` elements). That message is
fixed when the plan is compiled, so it can show only the data known then
(constants, static shapes); a tensor computed at run time is named instead of
shown. A condition known when the plan is compiled is decided then."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..errors import InvalidArgumentError
from ..graph import Tensor, name_scope
from .constant_op import convert_to_tensor
from .op_util import get_static_value, make_op
from .registry import NotDifferentiable, lowering

_NUMERIC = (_dt.float16, _dt.float32, _dt.float64, _dt.int8, _dt.int16, _dt.int32,
            _dt.int64, _dt.uint8, _dt.uint16)


# ---------------------------------------------------------------- tf.Assert

def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's name
    """tf.Assert: an op that fails the run with InvalidArgumentError when the
    scalar bool `condition` is False, its message the summarized `data` (a list
    of strings and tensors, the first `summarize` elements of each; 3 by
    default)."""
    with name_scope(name, "Assert", [condition, data]):
        cond = convert_to_tensor(condition, name="Condition")
        if cond.dtype != _dt.bool:
            raise TypeError(f"Input 'condition' of 'Assert' Op has type {cond.dtype.name} "
                            "that does not match expected type of bool.")
        if cond.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {cond.shape.ndims} for the "
                             f"condition of tf.Assert (shape {cond.shape})")
        items, tensors = [], []
        for d in data:
            if isinstance(d, bytes):
                d = d.decode()
            if isinstance(d, str):
                items.append(d)
            else:
                t = convert_to_tensor(d)
                items.append(len(tensors))
                tensors.append(t)
        return make_op("Assert", [cond] + tensors,
                       {"T": [t.dtype for t in tensors], "data": items,
                        "summarize": 3 if summarize is None else int(summarize)},
                       [], name="Assert")


@lowering("Assert")
def _lower_assert(ctx, op, inputs):
    from ..lowering import _fold
    cond = inputs[0]
    if cond.shape != ():
        ctx.fail(f"In[0] should be a scalar: [{','.join(str(d) for d in cond.shape)}]")
    known = _fold(cond)
    if known is not None and bool(known):
        return []
    data = [it if isinstance(it, str) else (op.inputs[1 + it], inputs[1 + it])
            for it in op.attrs["data"]]
    message = assertion_message(data, op.attrs["summarize"])
    if known is not None:
        ctx.fail(message)
    ctx.add_run_check(op, cond, message)
    return []


def assertion_message(data, summarize):
    """TF's Assert message: "assertion failed: [d0] [d1] ...". data: strings and
    (graph tensor, IR value) pairs; a value not known at compile time is named."""
    from ..lowering import _fold
    parts = []
    for d in data:
        if isinstance(d, str):
            parts.append(d)
            continue
        t, v = d
        value = _fold(v)
        parts.append(summarize_value(value, summarize) if value is not None else
                     f"<{t.name}: computed at run time, not shown>")
    return "assertion failed: " + " ".join(f"[{p}]" for p in parts)


def _element(x, np_dtype):
    if np_dtype == np.bool_:
        return "1" if x else "0"
    if np_dtype.kind == "f":
        # C's %g with the type's digits, more only where needed to read back (TF's StrCat)
        short, full = (6, 9) if np_dtype.itemsize <= 4 else (15, 17)
        s = f"{x:.{short}g}"
        if np.isfinite(x) and np_dtype.type(float(s)) != x:
            s = f"{x:.{full}g}"
        return s
    return str(int(x))


def summarize_value(arr, limit=3):
    """The first `limit` elements of arr (all for limit < 0) in TF's
    Tensor::SummarizeValue layout: a row per innermost dimension in brackets
    ("[[0 1 2...]...]"), "..." where elements were left out."""
    arr = np.asarray(arr)
    n = arr.size
    limit = n if limit < 0 else min(int(limit), n)
    flat = arr.reshape(-1)
    fmt = lambda i: _element(flat[i], arr.dtype)  # noqa: E731
    if arr.ndim == 0:
        return " ".join(fmt(i) for i in range(limit)) + ("..." if n > limit else "")
    out = []
    done = [0]

    def dim(d):
        if done[0] >= limit:
            return
        if d == arr.ndim - 1:
            for i in range(arr.shape[d]):
                if done[0] >= limit:
                    if d:
                        out.append("...")
                    return
                if i:
                    out.append(" ")
                out.append(fmt(done[0]))
                done[0] += 1
            return
        for _ in range(arr.shape[d]):
            opened = done[0] < limit
            if opened:
                out.append("[")
            dim(d + 1)
            if opened:
                out.append("]")
    dim(0)
    if n > limit:
        out.append("...")
    return "".join(out)


NotDifferentiable("Assert")


# ---------------------------------------------------------------- comparisons

def _static_string(d):
    if not isinstance(d, Tensor):
        return str(d)
    v = get_static_value(d)
    return str(d) if v is None else str(v)


def _assert_static(condition, data):
    """TF raises at graph build where the condition is known to fail."""
    if not condition:
        raise InvalidArgumentError(None, None, "\n".join(_static_string(d) for d in data))


def _binary_assert(sym, opname, compare, np_compare, x, y, data, summarize, message, name,
                   text=None):
    from .math_ops import reduce_all
    message = message or ""
    with name_scope(name, opname, [x, y, data]):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", preferred_dtype=x.dtype)
        if data is None:
            data = [message, text or f"Condition x {sym} y did not hold element-wise:",
                    f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        condition = reduce_all(compare(x, y))
        xs, ys = get_static_value(x), get_static_value(y)
        if xs is not None and ys is not None:
            _assert_static(bool(np.all(np_compare(xs, ys))), data)
        return Assert(condition, data, summarize=summarize)


def _binary(sym, opname, np_compare, text=None):
    def f(x, y, data=None, summarize=None, message=None, name=None):
        from . import math_ops
        compare = getattr(math_ops, {"==": "equal", "!=": "not_equal", "<": "less",
                                     "<=": "less_equal", ">": "greater",
                                     ">=": "greater_equal"}[sym])
        return _binary_assert(sym, opname, compare, np_compare, x, y, data, summarize,
                              message, name, text)
    f.__name__ = opname
    f.__doc__ = (f"tf.{opname}(x, y, data, summarize, message, name): an Assert that "
                 f"x {sym} y holds for every element (broadcast).")
    return f


assert_equal = _binary("==", "assert_equal", np.equal)
assert_none_equal = _binary("!=", "assert_none_equal", np.not_equal,
                            "Condition x != y did not hold for every single element:")
assert_less = _binary("<", "assert_less", np.less)
assert_less_equal = _binary("<=", "assert_less_equal", np.less_equal)
assert_greater = _binary(">", "assert_greater", np.greater)
assert_greater_equal = _binary(">=", "assert_greater_equal", np.greater_equal)


def _unary(sym, opname, against, zero_first):
    def f(x, data=None, summarize=None, message=None, name=None):
        message = message or ""
        with name_scope(name, opname, [x, data]):
            x = convert_to_tensor(x, name="x")
            if data is None:
                data = [message, f"Condition x {sym} 0 did not hold element-wise:",
                        f"x ({x.name}) = ", x]
            zero = convert_to_tensor(0, dtype=x.dtype)
            a, b = (zero, x) if zero_first else (x, zero)
            return against(a, b, data=data, summarize=summarize)
    f.__name__ = opname
    f.__doc__ = f"tf.{opname}: an Assert that x {sym} 0 for every element."
    return f


assert_positive = _unary(">", "assert_positive", assert_less, True)
assert_negative = _unary("<", "assert_negative", assert_less, False)
assert_non_negative = _unary(">=", "assert_non_negative", assert_less_equal, True)
assert_non_positive = _unary("<=", "assert_non_positive", assert_less_equal, False)


def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None,
                name=None):
    """tf.assert_near: |x - y| < atol + rtol * |y| elementwise (TF compares with <),
    tolerances 10 * eps of x's dtype by default."""
    from . import math_ops
    message = message or ""
    with name_scope(name, "assert_near", [x, y, rtol, atol, data]):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", dtype=x.dtype)
        if not x.dtype.is_floating:
            raise TypeError(f"assert_near: x must be a floating point tensor, got "
                            f"{x.dtype.name} ({x.name})")
        eps = np.finfo(x.dtype.as_numpy_dtype).eps
        rtol = convert_to_tensor(10 * eps if rtol is None else rtol, name="rtol", dtype=x.dtype)
        atol = convert_to_tensor(10 * eps if atol is None else atol, name="atol", dtype=x.dtype)
        if data is None:
            data = [message, f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}",
                    f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        tol = atol + rtol * math_ops.abs(y)
        diff = math_ops.abs(x - y)
        return Assert(math_ops.reduce_all(math_ops.less(diff, tol)), data, summarize=summarize)


# ---------------------------------------------------------------- ranks and types

def _rank_assert(opname, what, static_ok, dynamic, x, rank, data, summarize, message, name):
    from . import array_ops
    from .control_flow import no_op
    message = message or ""
    ranks = list(rank) if opname == "assert_rank_in" else [rank]
    with name_scope(name, opname, [x] + ranks + list(data or [])):
        x = convert_to_tensor(x, name="x")
        ranks = [convert_to_tensor(r, name="rank") for r in ranks]
        for r in ranks:
            if r.dtype != _dt.int32:
                raise TypeError(f"  {r.name} must be of type {_dt.int32!r}")
        static = [get_static_value(r) for r in ranks]
        for s in static:
            if s is not None and np.ndim(s) != 0:
                raise ValueError("Rank must be a scalar.")
        if data is None:
            data = [message, f"Tensor {x.name} must have {what}", *ranks,
                    "Received shape: ", array_ops.shape(x)]
        if all(s is not None for s in static) and x.shape.ndims is not None:
            vals = tuple(int(s) for s in static)
            if not static_ok(x.shape.ndims, vals):
                shown = vals if opname == "assert_rank_in" else vals[0]
                raise ValueError(f"{message}.  Tensor {x.name} must have {what} {shown}.  "
                                 f"Received rank {x.shape.ndims}, shape {x.shape}")
            return no_op(name="static_checks_determined_all_ok")
        return Assert(dynamic(array_ops.rank(x), ranks), data, summarize=summarize)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """tf.assert_rank: raises ValueError now when x's rank is known and differs,
    else an Assert on the rank when the graph runs."""
    from .math_ops import equal
    return _rank_assert("assert_rank", "rank", lambda r, v: r == v[0],
                        lambda r, rs: equal(r, rs[0]), x, rank, data, summarize, message, name)


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    from .math_ops import greater_equal
    return _rank_assert("assert_rank_at_least", "rank at least", lambda r, v: r >= v[0],
                        lambda r, rs: greater_equal(r, rs[0]), x, rank, data, summarize,
                        message, name)


def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None):
    from .math_ops import equal, reduce_any
    from .stack_ops import stack

    def dynamic(r, rs):
        return reduce_any(equal(r, stack(rs)))
    return _rank_assert("assert_rank_in", "rank in", lambda r, v: r in v, dynamic, x, ranks,
                        data, summarize, message, name)


def assert_integer(x, message=None, name=None):
    from .control_flow import no_op
    message = message or ""
    with name_scope(name, "assert_integer", [x]):
        x = convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            raise TypeError(f'{message}  Expected "x" to be integer type.  Found: {x.name} of '
                            f"dtype {x.dtype}")
        return no_op("statically_determined_was_integer")


def assert_type(tensor, tf_type, message=None, name=None):
    from .control_flow import no_op
    message = message or ""
    with name_scope(name, "assert_type", [tensor]):
        tensor = convert_to_tensor(tensor, name="tensor")
        tf_type = _dt.as_dtype(tf_type)
        if tensor.dtype != tf_type:
            raise TypeError(f"{message}  {tensor.name} must be of type {tf_type!r}; got "
                            f"{tensor.dtype!r}")
        return no_op("statically_determined_correct_type")


def assert_scalar(tensor, name=None, message=None):
    with name_scope(name, "assert_scalar", [tensor]) as scope:
        tensor = convert_to_tensor(tensor, name=scope)
        if tensor.shape.ndims != 0:
            prefix = f"{message}.  " if message else ""
            raise ValueError(f"{prefix}Expected scalar shape for {tensor.name}, saw shape: "
                             f"{tensor.shape}.")
        return tensor


def assert_same_float_dtype(tensors=None, dtype=None):
    """The common floating dtype of `tensors` (and `dtype`); float32 for none."""
    if tensors:
        for t in tensors:
            if t is None:
                continue
            td = t.dtype.base_dtype
            if dtype is None:
                dtype = td
            elif td != dtype:
                raise ValueError(f"{t.name}, type={td.name} must match {dtype.name}.")
    if dtype is None:
        return _dt.float32
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def assert_proper_iterable(values):
    from ..variables import Variable
    if isinstance(values, (Tensor, Variable, np.ndarray, str, bytes)):
        raise TypeError(f'Expected argument "values" to be a "proper" iterable.  Found: '
                        f"{type(values)}")
    if not hasattr(values, "__iter__"):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


def is_numeric_tensor(tensor):
    return isinstance(tensor, Tensor) and tensor.dtype in _NUMERIC


def _monotonic(opname, compare, x, name):
    from .array_ops import reshape
    from .math_ops import reduce_all
    with name_scope(name, opname, [x]):
        x = reshape(convert_to_tensor(x, name="x"), [-1])
        if not is_numeric_tensor(x):
            raise TypeError(f"Expected x to be numeric, instead found: {x}")
        # x[i] against x[i + 1] (TF subtracts first, which overflows integers and
        # turns inf - inf into NaN; its documentation says compare)
        return reduce_all(compare(x[:-1], x[1:]))


def is_non_decreasing(x, name=None):
    """tf.is_non_decreasing: x[i] <= x[i+1] over x in row-major order (True for
    fewer than two elements)."""
    from .math_ops import less_equal
    return _monotonic("is_non_decreasing", less_equal, x, name)


def is_strictly_increasing(x, name=None):
    from .math_ops import less
    return _monotonic("is_strictly_increasing", less, x, name)


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    from ..namespaces import _namespace
    from .numerics_ops import check_numerics, print_v2, verify_tensor_all_finite
    names = {
        "Assert": Assert, "assert_equal": assert_equal, "assert_none_equal": assert_none_equal,
        "assert_less": assert_less, "assert_less_equal": assert_less_equal,
        "assert_greater": assert_greater, "assert_greater_equal": assert_greater_equal,
        "assert_positive": assert_positive, "assert_negative": assert_negative,
        "assert_non_negative": assert_non_negative, "assert_non_positive": assert_non_positive,
        "assert_near": assert_near, "assert_rank": assert_rank,
        "assert_rank_at_least": assert_rank_at_least, "assert_rank_in": assert_rank_in,
        "assert_integer": assert_integer, "assert_type": assert_type,
        "assert_scalar": assert_scalar, "assert_same_float_dtype": assert_same_float_dtype,
        "assert_proper_iterable": assert_proper_iterable, "is_numeric_tensor": is_numeric_tensor,
        "is_non_decreasing": is_non_decreasing,
        "is_strictly_increasing": is_strictly_increasing, "check_numerics": check_numerics,
        "verify_tensor_all_finite": verify_tensor_all_finite,
    }
    for k, v in names.items():
        setattr(tf, k, v)
    tf.print = print_v2
    debugging = getattr(tf, "debugging", None)
    if debugging is None:
        debugging = tf.debugging = _namespace("debugging", "tf.debugging")
    for k, v in names.items():
        if k not in ("verify_tensor_all_finite",):
            setattr(debugging, k, v)
    debugging.assert_all_finite = verify_tensor_all_finite
    for k in ("is_finite", "is_inf", "is_nan"):
        setattr(debugging, k, getattr(tf, k))
    tf.math.is_non_decreasing = is_non_decreasing
    tf.math.is_strictly_increasing = is_strictly_increasing
