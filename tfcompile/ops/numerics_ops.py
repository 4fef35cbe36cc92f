"""tf.check_numerics, tf.verify_tensor_all_finite (tf.debugging.assert_all_finite)
and tf.print (TF 1.15 names and semantics); installed by check_ops.

check_numerics passes its input through and fails the run on NaN or Inf
through run checks (LoweringContext.add_run_check), one per TF message.
tf.print builds TF's PrintV2 op: a no-op in compiled code, printed by the
Session after each run that needs it (tfcompile/ops/print_ops.py)."""
from __future__ import annotations

import logging
import sys

import numpy as np

from ..graph import Tensor, name_scope
from .constant_op import convert_to_tensor
from .op_util import make_op, make_tensor
from .registry import NotDifferentiable, RegisterGradient, lowering

# ---------------------------------------------------------------- numerics

def check_numerics(tensor, message, name=None):
    """tf.check_numerics: `tensor` itself, failing the run on any NaN or Inf
    ("<message> : Tensor had NaN values", as TF)."""
    with name_scope(name, "CheckNumerics", [tensor]) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        if not x.dtype.is_floating:
            raise TypeError(f"Value passed to parameter 'tensor' has DataType {x.dtype.name} "
                            "not in list of allowed values: float16, float32, float64")
        return make_tensor("CheckNumerics", [x], x.dtype, x.shape,
                           {"T": x.dtype, "message": str(message)}, name=scope)


@lowering("CheckNumerics")
def _lower_check_numerics(ctx, op, inputs):
    x = inputs[0]
    b = ctx.b

    def any_of(v):
        return b.emit("reduce", [v], kind="or", axes=list(range(x.type.rank))) if x.shape else v
    nan = any_of(b.emit("ne", [x, x]))
    inf = any_of(b.emit("eq", [b.emit("abs", [x]), ctx.scalar(np.inf, x.dtype, x.shape)]))
    msg = op.attrs["message"]
    # the first failed check raises: both, then each alone (TF's three messages)
    ctx.add_run_check(op, b.emit("not", [b.emit("and", [inf, nan])]),
                      f"{msg} : Tensor had Inf and NaN values")
    ctx.add_run_check(op, b.emit("not", [nan]), f"{msg} : Tensor had NaN values")
    ctx.add_run_check(op, b.emit("not", [inf]), f"{msg} : Tensor had Inf values")
    return [x]


@RegisterGradient("CheckNumerics")
def _check_numerics_grad(op, grad):
    return [check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in "
                                 "gradient. " + op.attrs["message"])]


def verify_tensor_all_finite(t=None, msg=None, name=None, x=None, message=None):
    """tf.verify_tensor_all_finite (tf.debugging.assert_all_finite): `t` after a
    check_numerics of it (`VerifyFinite/control_dependency`)."""
    from .control_flow import with_dependencies
    t = x if t is None else t
    msg = message if msg is None else msg
    with name_scope(name, "VerifyFinite", [t]):
        t = convert_to_tensor(t, name="x")
        return with_dependencies([check_numerics(t, message=msg or "")], t)


# ---------------------------------------------------------------- tf.print

def print_v2(*inputs, **kwargs):
    """tf.print(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\\n",
    name=None): TF's PrintV2 op, an Operation for tf.control_dependencies; each
    run that needs it prints the inputs (tensors by their values, anything else
    as str) once the compiled call returns."""
    from . import print_ops  # noqa: F401 - registers the printing
    stream = kwargs.pop("output_stream", sys.stderr)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {sorted(kwargs)}")
    target = _stream_name(stream)
    tensors, template = [], []
    for t in inputs:
        if isinstance(t, Tensor) or _is_variable(t):
            tensors.append(convert_to_tensor(t))
            template.append(None)
        else:
            template.append(str(t))
    return make_op("PrintV2", tensors, {"output_stream": target, "end": end, "sep": sep,
                                        "summarize": -1 if summarize is None else
                                        int(summarize), "template": template}, [],
                   name=name, default_name="PrintV2")


def _is_variable(t):
    from ..variables import Variable
    return isinstance(t, Variable)


def _stream_name(stream):
    if stream is sys.stderr:
        return "stderr"
    if stream is sys.stdout:
        return "stdout"
    log = logging.getLogger("tfcompile")
    levels = {log.info: "log(info)", log.warning: "log(warning)", log.error: "log(error)"}
    for fn, target in levels.items():
        if stream == fn:
            return target
    if isinstance(stream, str) and stream.startswith("file://"):
        return stream
    raise ValueError(f"Unsupported output stream, logging level, or file.{stream}. "
                     f"Supported streams are sys.stdout, sys.stderr, tf.logging.info, "
                     f"tf.logging.warning, tf.logging.error, and 'file://' paths")


@lowering("PrintV2")
def _lower_print(ctx, op, inputs):
    return []


NotDifferentiable("PrintV2")
