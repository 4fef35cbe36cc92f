"""tf.gradients: symbolic reverse-mode differentiation that adds gradient ops
to the graph, the way TF 1.15's gradients_util does.

The ops between `xs` and `ys` are visited from the ys backwards; an op is
processed once every consumer on a path to the ys has delivered its gradient.
Gradients arriving at one tensor from several consumers are summed with AddN.
Each op's gradient function (registered with @RegisterGradient) runs under the
name scope `gradients/<op name>_grad`, so gradient ops get TF's names. Only
float tensors carry gradients: paths through integer or bool tensors give none.
"""
from __future__ import annotations

import collections
import importlib.util

from . import dtypes as _dt
from .graph import Tensor, _graph_of, get_default_graph
from .ops import array_grad, math_grad  # noqa: F401 - registers the gradients
from .ops import array_ops, control_flow, math_ops
from .ops.constant_op import constant, convert_to_tensor
from .ops.op_util import make_tensor
from .ops.registry import GRADIENTS, NOT_DIFFERENTIABLE
from .variables import Variable

if importlib.util.find_spec(__package__ + ".ops.nn_grad") is not None:
    importlib.import_module(__package__ + ".ops.nn_grad")

_TRAINABLE = (_dt.float16, _dt.float32, _dt.float64)


class AggregationMethod:
    """How gradients reaching one tensor from several consumers are summed."""
    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients:
    """What tf.gradients returns for an x the ys don't depend on."""
    NONE = "none"
    ZERO = "zero"


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _as_tensor(v, what):
    if isinstance(v, Variable):
        return v.value()
    if isinstance(v, Tensor):
        return v
    return convert_to_tensor(v, name=what)


def _as_ref(x):
    """xs may be Variables: differentiate w.r.t. the variable's `name:0` tensor."""
    if isinstance(x, Variable):
        return x._ref()
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"tf.gradients: xs must be Tensors or Variables, got {x!r}")


def _backpropagatable(t):
    return t.dtype in _TRAINABLE


def _reached_from(from_ops):
    """Ops reachable forward from `from_ops` through float tensors."""
    reached = set()
    queue = collections.deque(from_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            continue
        reached.add(op)
        for out in op.outputs:
            if _backpropagatable(out):
                queue.extend(out.consumers())
    return reached


def _pending_counts(to_ops, from_ops):
    """The ops between xs and ys, and for each how many of its consumers among
    them still owe it a gradient."""
    reached = _reached_from(from_ops)
    reachable_to = {op for op in to_ops if op in reached}
    between = set()
    queue = collections.deque(to_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            between.add(op)
            reached.discard(op)
            queue.extend(t.op for t in op.inputs)
    pending = collections.defaultdict(int)
    for op in between:
        for t in op.inputs:
            if t.op in between:
                pending[t.op] += 1
    return reachable_to, pending


def _default_grad_ys(grad_ys, ys):
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    out = []
    for i, (y, gy) in enumerate(zip(ys, grad_ys)):
        if gy is None:
            out.append(array_ops.fill(array_ops.shape(y),
                                      constant(1, dtype=y.dtype, name=f"grad_ys_{i}")))
            continue
        if not isinstance(gy, Tensor):
            gy = convert_to_tensor(gy, dtype_hint=y.dtype, name=f"grad_y_{i}")
        if (y.dtype.is_floating or y.dtype.is_integer) and not (
                gy.dtype.is_floating or gy.dtype.is_integer):
            raise TypeError(f"Gradient type {gy.dtype.name} generated for real or "
                            f"integer-valued tensor {y} with type {y.dtype.name} must be "
                            "real or integer")
        if not y.shape.is_compatible_with(gy.shape):
            raise ValueError(f"grad_ys[{i}] has shape {gy.shape}, which is incompatible "
                             f"with the shape {y.shape} of ys[{i}] ({y.name})")
        out.append(math_ops.identity(gy, name=f"grad_ys_{i}"))
    return out


def _set_grad(grads, t, grad):
    op_grads = grads.get(t.op)
    if op_grads is None:
        op_grads = grads[t.op] = [[] for _ in t.op.outputs]
    op_grads[t.value_index].append(grad)


def _aggregate(grads, op, method):
    """Sums each output's incoming gradients in place; returns the list."""
    out = grads.get(op)
    if out is None:
        return [[] for _ in op.outputs]
    for i, g in enumerate(out):
        if not isinstance(g, list):
            continue
        if not g:
            continue
        if len(g) == 1:
            out[i] = g[0]
        elif method in (AggregationMethod.EXPERIMENTAL_TREE,
                        AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
            g_ = op.graph
            with g_.name_scope(op.name + "_gradient_sum"):
                acc = g[0]
                for x in g[1:]:
                    acc = math_ops.add_n([acc, x])
            out[i] = acc
        else:
            out[i] = math_ops.add_n(g)
    return out


def _zeros_like_output(t):
    return make_tensor("ZerosLike", [t], t.dtype, t.shape, {"T": t.dtype},
                       name="zeros_like")


def _gate(tensors):
    """TF's control_flow_ops.tuple: identities that wait for all the gradients."""
    g = get_default_graph()
    with g.name_scope("tuple"):
        gating = sorted({t.op for t in tensors if t is not None}, key=lambda o: o._id)
        gate = control_flow.group(*gating)
        return [None if t is None else control_flow.with_dependencies([gate], t)
                for t in tensors]


def _grad_function(op):
    if op.type in NOT_DIFFERENTIABLE:
        return None
    fn = GRADIENTS.get(op.type)
    if fn is None:
        raise LookupError(f"No gradient defined for operation '{op.name}' "
                          f"(op type: {op.type})")
    return fn


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE):
    """The symbolic partial derivatives of sum(ys) with respect to each x in xs.

    Returns a list with one entry per x: a Tensor, or None when the ys don't
    depend on x (or `unconnected_gradients="zero"` gives zeros)."""
    ys = [_as_tensor(y, "y") for y in _as_list(ys)]
    xs = [_as_ref(x) for x in _as_list(xs)]
    stop = [_as_tensor(s, "stop") for s in _as_list(stop_gradients)]
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if aggregation_method not in (None, AggregationMethod.ADD_N,
                                  AggregationMethod.EXPERIMENTAL_TREE,
                                  AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
        raise ValueError(f"Invalid aggregation_method specified {aggregation_method}.")
    unconnected = getattr(unconnected_gradients, "value", unconnected_gradients)
    if unconnected not in (UnconnectedGradients.NONE, UnconnectedGradients.ZERO):
        raise ValueError(f"Unknown value for unconnected_gradients: {unconnected!r}")
    g = _graph_of(ys + xs + stop) or get_default_graph()
    for t in ys + xs + stop + [v for v in grad_ys if isinstance(v, Tensor)]:
        if t.graph is not g:
            raise ValueError(f"Tensor {t.name} is not an element of the graph of the ys "
                             "and xs: all must be from one graph.")
    with g.as_default(), g.name_scope(name or "gradients"):
        grad_ys = _default_grad_ys(grad_ys, ys)
        to_ops = [y.op for y in ys]
        from_ops = [x.op for x in xs]
        reachable_to, pending = _pending_counts(to_ops, from_ops)
        grads = {}
        for y, gy in zip(ys, grad_ys):
            _set_grad(grads, y, gy)
        queue = collections.deque()
        queued = set()
        for op in to_ops:
            if pending[op] == 0 and op not in queued and op in reachable_to:
                queued.add(op)
                queue.append(op)
        stop_ops = {op for op in from_ops
                    if all(pending[t.op] <= 0 for t in op.inputs)}
        stop_ops.update(s.op for s in stop)
        while queue:
            op = queue.popleft()
            out_grads = _aggregate(grads, op, aggregation_method)
            for t, og in zip(op.outputs, out_grads):
                if isinstance(og, Tensor) and og.shape.is_compatible_with(t.shape):
                    og.set_shape(t.shape)  # a gradient has its tensor's shape
            has_grads = any(isinstance(x, Tensor) for x in out_grads)
            grad_fn = None
            if has_grads and op not in stop_ops:
                grad_fn = _grad_function(op)
            if grad_fn is not None and has_grads:
                for i, og in enumerate(out_grads):
                    if not isinstance(og, Tensor) and op.outputs[i].dtype in _TRAINABLE:
                        out_grads[i] = _zeros_like_output(op.outputs[i])
                    elif not isinstance(og, Tensor):
                        out_grads[i] = None
                with g.name_scope(op.name + "_grad"):
                    in_grads = grad_fn(op, *out_grads)
                    in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) \
                        else [in_grads]
                    if len(in_grads) != len(op.inputs):
                        raise ValueError(f"Num gradients {len(in_grads)} generated for op "
                                         f"{op.name} ({op.type}) do not match num inputs "
                                         f"{len(op.inputs)}")
                    if gate_gradients and sum(x is not None for x in in_grads) > 1:
                        in_grads = _gate(in_grads)
            else:
                in_grads = [None] * len(op.inputs)
            for i, (t_in, gi) in enumerate(zip(op.inputs, in_grads)):
                if gi is None:
                    continue
                if not isinstance(gi, Tensor):
                    gi = convert_to_tensor(gi, dtype=t_in.dtype)
                try:
                    gi.set_shape(t_in.shape)
                except ValueError:
                    raise ValueError(
                        "Incompatible shapes between op input and calculated input "
                        f"gradient.  Forward operation: {op.name}.  Input index: {i}. "
                        f"Original input shape: {t_in.shape}.  Calculated input gradient "
                        f"shape: {gi.shape}") from None
                _set_grad(grads, t_in, gi)
            for t in op.inputs:
                pending[t.op] -= 1
                if pending[t.op] == 0:
                    queue.append(t.op)
        results = [_result(grads, x) for x in xs]
    # TF makes the zeros of unconnected xs after leaving the gradients scope
    with g.as_default():
        return [array_ops.zeros_like(x) if r is None and
                unconnected == UnconnectedGradients.ZERO else r
                for x, r in zip(xs, results)]


def _result(grads, x):
    op_grads = grads.get(x.op)
    g = op_grads[x.value_index] if op_grads else None
    if isinstance(g, list):  # x's op wasn't processed (its grads were not summed)
        g = None if not g else (g[0] if len(g) == 1 else math_ops.add_n(g))
    return g

