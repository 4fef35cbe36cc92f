"""tf.py_func and tf.numpy_function: a Python function inside the graph.

Its op has no lowering: the Session feeds its outputs itself on every run
that needs them (session.IMPLICIT_FEEDS). To do so it runs the op's inputs
first, as a dry run (tfcompile/dynamic_sizes.py: no variable written, no
random counter advanced, so the run proper computes the same values from the
same state), calls the function on them as numpy arrays, and feeds its
results, converted to `Tout`, to the run. py_funcs that read other
py_funcs' results are called in creation order. There is no gradient (TF 1.x
has none either unless one is registered)."""
from __future__ import annotations

import itertools

import numpy as np

from .. import dtypes as _dt
from ..errors import InvalidArgumentError, UnknownError
from ..graph import name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .op_util import make_op
from .registry import NotDifferentiable

_FUNCS = {}                      # token -> the Python function
_tokens = itertools.count()


def py_func(func, inp, Tout, stateful=True, name=None):  # noqa: N803 - TF's name
    """tf.py_func(func, inp, Tout): func(*numpy inputs) as graph op(s); one tensor
    when Tout is a single dtype, a list when it is a list."""
    single = not isinstance(Tout, (list, tuple))
    touts = [_dt.as_dtype(t) for t in ([Tout] if single else Tout)]
    with name_scope(name, "PyFunc", inp) as scope:
        ins = [convert_to_tensor(x) for x in (inp or [])]
        token = f"pyfunc_{next(_tokens)}"
        _FUNCS[token] = func
        op = make_op("PyFunc" if stateful else "PyFuncStateless", ins,
                     {"token": token, "Tin": [x.dtype for x in ins], "Tout": touts},
                     [(t, TensorShape(None)) for t in touts], name=scope)
    return op.outputs[0] if single else list(op.outputs)


def numpy_function(func, inp, Tout, name=None):  # noqa: N803
    """tf.numpy_function: tf.py_func (stateful)."""
    return py_func(func, inp, Tout, stateful=True, name=name)


def _provide(sess, op, feeds):
    inputs = list(op.inputs)
    values = {}
    need = [t for t in inputs if t not in feeds]
    if need:
        plan = sess._plan(need, [], feeds)
        values = sess._execute(plan, feeds, dry=True)
    from ..session import _narrowed
    args = []
    for t in inputs:
        v = feeds[t] if t in feeds else values[id(t)]
        v = _narrowed(t, v)
        args.append(v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v)
    func = _FUNCS[op.attrs["token"]]
    try:
        result = func(*args)
    except Exception as e:  # noqa: BLE001 - reported as TF does, with its type
        raise UnknownError(None, op, f"{type(e).__name__}: {e}") from e
    touts = op.attrs["Tout"]
    outs = list(result) if isinstance(result, (list, tuple)) and len(touts) != 1 or \
        isinstance(result, list) and len(touts) == 1 and len(result) == 1 else [result]
    if len(outs) != len(touts):
        raise InvalidArgumentError(None, op, f"{op.name}: the function returned "
                                   f"{len(outs)} values, Tout has {len(touts)}")
    arrays = []
    for o, t in zip(outs, touts):
        a = np.asarray(o)
        if a.dtype.kind in "USO":
            raise InvalidArgumentError(None, op, f"{op.name}: the function returned a "
                                       f"{a.dtype} value; strings can't be compiled")
        try:
            arrays.append(np.array(a, dtype=t.as_numpy_dtype, order="C"))
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(None, op, f"{op.name}: cannot convert the "
                                       f"function's result to {t.name}: {e}") from None
    return arrays


_provide.wants_feeds = True
NotDifferentiable("PyFunc")
NotDifferentiable("PyFuncStateless")


def install(tf):
    from ..session import IMPLICIT_FEEDS
    IMPLICIT_FEEDS["PyFunc"] = _provide
    IMPLICIT_FEEDS["PyFuncStateless"] = _provide
    tf.py_func = py_func
    tf.numpy_function = numpy_function
