"""Grouping and ordering: tf.group, tf.no_op, tf.tuple, tf.identity_n."""
from __future__ import annotations

import builtins

from ..graph import Operation, Tensor, _as_op, get_default_graph, name_scope
from .op_util import make_op
from .registry import lowering


def no_op(name=None):
    return make_op("NoOp", [], {}, [], name=name, default_name="NoOp")


def group(*inputs, **kwargs):
    """An op that runs all `inputs` (ops or tensors) when run; it has no outputs."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {list(kwargs)}")
    ops = []
    for i in inputs:
        if isinstance(i, (list, builtins.tuple)):
            ops.extend(_as_op(x) for x in i if x is not None)
        elif i is not None:
            ops.append(_as_op(i))
    g = ops[0].graph if ops else get_default_graph()
    with g.as_default(), name_scope(name, "group_deps", ops) as scope:
        with g.control_dependencies(ops):
            return make_op("NoOp", [], {}, [], name=scope)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001
    """tf.tuple: each output waits for all inputs (TF's `tuple/group_deps`,
    `tuple/control_dependency[_k]` names)."""
    with name_scope(name, "tuple", tensors):
        deps = [t for t in tensors if t is not None]
        gate = group(*deps, *(control_inputs or []))
        return [None if t is None else with_dependencies([gate], t) for t in tensors]


def with_dependencies(dependencies, output_tensor, name=None):
    from .math_ops import identity
    g = get_default_graph()
    with name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as sc:
        with g.control_dependencies(dependencies):
            return identity(output_tensor, name=sc)


@lowering("NoOp")
def _lower_noop(ctx, op, inputs):
    return []


_ = (Operation, Tensor)
