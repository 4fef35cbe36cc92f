"""tf.Print and tf.print at run time: the ops pass values through (tf.Print)
or do nothing (tf.print) in compiled code; the Session fetches their inputs
along and prints them after each run that needs them (session.SIDE_EFFECTS),
formatted as TF's kernels format them: tf.Print's message followed by each
tensor's first `summarize` values in brackets ("x: [1 2 3...]"), tf.print's
nested brackets with the middle elided past `summarize` ("[1 2 3 ... 8 9 10]")."""
from __future__ import annotations

import logging
import sys

import numpy as np

from ..graph import name_scope
from .constant_op import convert_to_tensor
from .op_util import make_tensor
from .registry import RegisterGradient, lowering


def print_op(input_, data, message=None, first_n=None, summarize=None, name=None):
    """tf.Print: `input_` itself; running it prints `message` and the values of
    `data` to stderr (the first `first_n` runs only, when given)."""
    with name_scope(name, "Print", [input_] + list(data or [])) as scope:
        x = convert_to_tensor(input_, name="input")
        tensors = [convert_to_tensor(d) for d in (data or [])]
        attrs = {"T": x.dtype, "message": "" if message is None else str(message),
                 "first_n": -1 if first_n is None else int(first_n),
                 "summarize": 3 if summarize is None else int(summarize)}
        out = make_tensor("Print", [x] + tensors, x.dtype, x.shape, attrs, name=scope)
        out.op._printed = 0
        return out


@lowering("Print")
def _lower_print(ctx, op, inputs):
    return [inputs[0]]


@RegisterGradient("Print")
def _print_grad(op, grad):
    return [grad] + [None] * (len(op.inputs) - 1)


def _element(v):
    """One value as TF's StrCat writes it: the shortest of 6/9 (float) or 15/17
    (double) significant digits that reads back the same; ints as they are."""
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (np.floating, float)):
        digits = (6, 9) if isinstance(v, np.float32) else (15, 17)
        s = "%.*g" % (digits[0], v)
        if type(v)(s) != v and np.isfinite(v):
            s = "%.*g" % (digits[1], v)
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(s, s)
    return str(v)


def summarize_flat(a, n):
    """tf.Print's form: the first n values, space-separated, '...' after a cut."""
    flat = np.asarray(a).reshape(-1)
    n = flat.size if n < 0 else n
    s = " ".join(_element(v) for v in flat[:n])
    return s + ("..." if flat.size > n else "")


def summarize_nested(a, n):
    """tf.print's form: nested brackets, each axis longer than 2n cut to its first
    and last n entries around '...'."""
    a = np.asarray(a)
    if a.ndim == 0:
        return _element(a[()])

    def dim(x, depth):
        if x.ndim == 1:
            items = [_element(v) for v in x]
            if 0 <= n and len(items) > 2 * n:
                items = items[:n] + ["..."] + items[-n:]
            return "[" + " ".join(items) + "]"
        rows = [dim(x[i], depth + 1) for i in range(x.shape[0])]
        if 0 <= n and x.shape[0] > 2 * n:
            rows = rows[:n] + ["..."] + rows[-n:]
        return "[" + ("\n" + " " * (depth + 1)).join(rows) + "]"
    return dim(a, 0)


def _print_effect(op, values):
    first_n = op.attrs["first_n"]
    if first_n >= 0:
        if getattr(op, "_printed", 0) >= first_n:
            return
        op._printed = getattr(op, "_printed", 0) + 1
    parts = [op.attrs["message"]] + ["[" + summarize_flat(v, op.attrs["summarize"]) + "]"
                                     for v in values[1:]]
    print("".join(parts), file=sys.stderr)


def _print_v2_effect(op, values):
    it = iter(values)
    n = op.attrs["summarize"]
    pieces = [p if p is not None else summarize_nested(next(it), n)
              for p in op.attrs["template"]]
    text = op.attrs["sep"].join(pieces) + op.attrs["end"]
    target = op.attrs["output_stream"]
    if target in ("stderr", "stdout"):
        stream = sys.stderr if target == "stderr" else sys.stdout
        stream.write(text)
        stream.flush()
    elif target.startswith("log("):
        getattr(logging.getLogger("tfcompile"), target[4:-1])(text.rstrip("\n"))
    elif target.startswith("file://"):
        with open(target[len("file://"):], "a") as f:
            f.write(text)


def install():
    from ..session import SIDE_EFFECTS
    SIDE_EFFECTS.update({"Print": _print_effect, "PrintV2": _print_v2_effect})


install()
