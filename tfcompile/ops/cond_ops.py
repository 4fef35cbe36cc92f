"""tf.cond and tf.case as a select: both branches are built (as TF 1.x does) and
both are computed; the predicate picks each output. Exact for branches without
side effects, which is what is allowed: a branch that updates a variable is
refused at graph-build time with a clear error, instead of running the update
unconditionally. tf.while_loop is unrolled while the graph is built, when its
condition can be computed then."""
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


def _guard(ops, pred, branch):
    """Marks the ops a branch created: their run-time checks (an index out of
    range, an assert) hold only when the branch is taken (lowering._guarded)."""
    for op in ops:
        op._cond_guards = getattr(op, "_cond_guards", ()) + ((pred, branch),)


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """tf.cond(pred, true_fn, false_fn): outputs named like TF's (`cond/Merge:0`)."""
    true_fn = fn1 if true_fn is None else true_fn
    false_fn = fn2 if false_fn is None else false_fn
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool")
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
        start = len(g._ops)
        t_out = _build_branch(true_fn, g, "true")
        _guard(g._ops[start:], pred, True)
        start = len(g._ops)
        f_out = _build_branch(false_fn, g, "false")
        _guard(g._ops[start:], pred, False)
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
            shape = _most_specific_compatible_shape(t.shape, f.shape)
            merged.append(make_tensor("Merge", [f, t, pred], t.dtype, shape,
                                      {"T": t.dtype, "N": 2}, name="Merge"))
    if not isinstance(t_out, (list, tuple, dict)):
        return merged[0]
    if strict is False and isinstance(t_out, (list, tuple)) and len(t_out) == 1:
        return merged[0]
    return _pack_like(t_out, merged)


def _most_specific_compatible_shape(a, b):
    """The shape both branches' shapes fit: known where they agree (TF's rule)."""
    from ..tensor_shape import TensorShape
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


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


_MAX_UNROLL = 10000


class unroll_step:
    """`with unroll_step(k):` the ops created inside are iteration k of a loop
    unrolled while the graph is built. An explicitly seeded random op among them
    then draws values of its own per iteration, as TF's loop op draws fresh
    values on every iteration (lowering.LoweringContext.seeds); nested loops
    give a path of indices."""

    def __init__(self, k):
        self.k = int(k)

    def __enter__(self):
        self.g = get_default_graph()
        self.start = len(self.g._ops)
        return self

    def __exit__(self, *exc):
        for op in self.g._ops[self.start:]:
            op._unroll_path = getattr(op, "_unroll_path", ()) + (self.k,)
        return False


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """tf.while_loop, unrolled while the graph is built: the compiler has no loop
    op, so the condition must be computable then (a counter against a bound, say)
    while the other loop variables may depend on feeds. The results are named
    `while/Exit`, `while/Exit_1`, ... as TF's; the body's ops are repeated."""
    from .op_util import constant_value
    if not callable(cond) or not callable(body):
        raise TypeError("cond and body must be callable.")
    single = not isinstance(loop_vars, (list, tuple))
    if not single and not loop_vars:
        raise ValueError("No loop variables provided")
    with name_scope(name, "while", _flatten(loop_vars)):
        state = loop_vars
        flat = [convert_to_tensor(v) for v in _flatten(state)]
        state = _pack_like(state, flat) if not single else flat[0]
        limit = None
        if maximum_iterations is not None:
            limit = constant_value(convert_to_tensor(maximum_iterations))
            if limit is None:
                raise NotImplementedError("tf.while_loop: maximum_iterations must be known "
                                          "when the graph is built (the loop is unrolled)")
            limit = int(limit)
        steps = 0
        while limit is None or steps < limit:
            c = cond(state) if single else cond(*state)
            value = constant_value(convert_to_tensor(c))
            if value is None:
                raise NotImplementedError(
                    "tf.while_loop: the loop condition depends on values known only when "
                    "the graph runs; the compiler has no loops and unrolls tf.while_loop "
                    "while building the graph, so the condition must be computable then "
                    "(for instance a counter compared with a constant bound).")
            if not bool(value):
                break
            with unroll_step(steps):
                out = body(state) if single else body(*state)
            if single and isinstance(out, (list, tuple)) and len(out) == 1:
                out = out[0]
            new_flat = [convert_to_tensor(v) for v in _flatten(out)]
            if len(new_flat) != len(flat):
                raise ValueError("The body of tf.while_loop must return as many tensors as "
                                 f"there are loop variables ({len(new_flat)} vs {len(flat)})")
            for a, b in zip(flat, new_flat):
                if a.dtype != b.dtype:
                    raise TypeError(f"tf.while_loop: a loop variable changes dtype from "
                                    f"{a.dtype.name} to {b.dtype.name}")
            flat = new_flat
            state = flat[0] if single else _pack_like(loop_vars, flat)
            steps += 1
            if steps > _MAX_UNROLL:
                raise NotImplementedError(f"tf.while_loop: more than {_MAX_UNROLL} iterations "
                                          "to unroll")
        from .constant_op import constant
        from .math_ops import identity
        if limit is not None:  # TF counts the iterations in a loop variable of its own
            identity(constant(steps, name="iterations"), name="Exit")
        exits = [identity(t, name="Exit") for t in flat]
    if single:
        return exits[0]
    if return_same_structure or len(exits) > 1:
        return _pack_like(loop_vars, exits)
    return exits[0]


_ = Tensor
