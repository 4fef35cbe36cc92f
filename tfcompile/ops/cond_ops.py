"""tf.cond and tf.case as a select: both branches are built (as TF 1.x does) and
both are computed; the predicate picks each output. Exact for branches without
side effects, which is what is allowed: a branch that updates a variable is
refused at graph-build time with a clear error, instead of running the update
unconditionally."""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import Tensor, get_default_graph, name_scope
from .constant_op import convert_to_tensor
from .op_util import make_tensor
from .registry import RegisterGradient, lowering

_STATEFUL = ("Assign", "AssignAdd", "AssignSub", "ApplyGradientDescent", "ApplyMomentum",
             "ApplyAdam", "ApplyAdagrad", "ApplyAdadelta", "ApplyRMSProp",
             "ApplyCenteredRMSProp", "VariableV2")


def _flatten(x):
    if isinstance(x, (list, tuple)):
        out = []
        for v in x:
            out.extend(_flatten(v))
        return out
    if isinstance(x, dict):
        out = []
        for k in sorted(x):
            out.extend(_flatten(x[k]))
        return out
    return [x]


def _pack_like(structure, flat):
    it = iter(flat)

    def build(s):
        if isinstance(s, (list, tuple)):
            items = [build(v) for v in s]
            return type(s)(items) if isinstance(s, tuple) and not hasattr(s, "_fields") \
                else (type(s)(*items) if isinstance(s, tuple) else items)
        if isinstance(s, dict):
            return {k: build(s[k]) for k in sorted(s)}
        return next(it)
    return build(structure)


def _build_branch(fn, g, what):
    start = len(g._ops)
    out = fn()
    new_ops = g._ops[start:]
    bad = [op for op in new_ops if op.type in _STATEFUL]
    if bad:
        raise NotImplementedError(
            f"tf.cond: the {what} branch creates the stateful op {bad[0].name!r} "
            f"({bad[0].type}); the compiler evaluates both branches and selects, so "
            "branches must be free of variable updates. Compute the update outside the "
            "cond, e.g. v.assign(tf.cond(pred, lambda: new, lambda: v.value())).")
    return out


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """tf.cond(pred, true_fn, false_fn): outputs named like TF's (`cond/Merge:0`)."""
    true_fn = true_fn or fn1
    false_fn = false_fn or fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    g = get_default_graph()
    with name_scope(name, "cond", [pred]):
        pred = convert_to_tensor(pred)
        if pred.dtype != _dt.bool:
            raise TypeError(f"pred must be a bool tensor, got {pred.dtype.name}")
        if pred.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for "
                             f"the predicate of cond (shape {pred.shape})")
        t_out = _build_branch(true_fn, g, "true")
        f_out = _build_branch(false_fn, g, "false")
        t_flat, f_flat = _flatten(t_out), _flatten(f_out)
        if len(t_flat) != len(f_flat):
            raise ValueError("Outputs of true_fn and false_fn must have the same structure "
                             f"({len(t_flat)} vs {len(f_flat)} tensors)")
        merged = []
        for i, (t, f) in enumerate(zip(t_flat, f_flat)):
            if t is None or f is None:
                merged.append(None)
                continue
            t = convert_to_tensor(t)
            f = convert_to_tensor(f)
            if t.dtype != f.dtype:
                raise ValueError(f"Outputs of true_fn and false_fn must have the same type: "
                                 f"{t.dtype.name}, {f.dtype.name}")
            shape = t.shape if t.shape == f.shape else (
                t.shape.merge_with(f.shape) if t.shape.is_compatible_with(f.shape) else None)
            if shape is None:
                from ..tensor_shape import TensorShape
                shape = TensorShape(None)
            merged.append(make_tensor("Merge", [f, t, pred], t.dtype, shape,
                                      {"T": t.dtype, "N": 2}, name="Merge"))
    if not isinstance(t_out, (list, tuple, dict)):
        return merged[0]
    if strict is False and isinstance(t_out, (list, tuple)) and len(t_out) == 1:
        return merged[0]
    return _pack_like(t_out, merged)


@lowering("Merge")
def _lower_merge(ctx, op, inputs):
    f, t, pred = inputs
    if f.shape != t.shape:
        ctx.fail(f"tf.cond: the branches give shapes {list(t.shape)} and {list(f.shape)}; "
                 "the compiler needs both branches to have one shape")
    p = ctx.b.emit("broadcast", [pred], shape=t.shape, dims=[]) if t.shape else pred
    return [ctx.b.emit("select", [p, t, f])]


@RegisterGradient("Merge")
def _merge_grad(op, grad):
    from .array_ops import where_v2, zeros_like
    pred = op.inputs[2]
    zeros = zeros_like(grad)
    return [where_v2(pred, zeros, grad), where_v2(pred, grad, zeros), None]


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """tf.case as nested conds: the first true predicate wins."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(
        pred_fn_pairs)
    if default is None:
        if not pairs:
            raise ValueError("tf.case needs at least one (pred, fn) pair or a default")
        *pairs, (_, default) = pairs
    with name_scope(name, "case"):
        fn = default
        for p, f in reversed(pairs):
            fn = (lambda p=p, f=f, rest=fn: cond(p, f, rest))
        return fn()


def while_loop(cond, body, loop_vars, *args, **kwargs):
    raise NotImplementedError(
        "tf.while_loop isn't supported yet: the compiler's IR has no loop op. Unroll the "
        "loop in Python when its trip count is known.")


_ = Tensor
