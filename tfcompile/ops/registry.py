"""Per-op-type tables: how each op lowers to the IR, and its gradient.

A lowering is `fn(ctx, op, inputs) -> list[ir.Value]` where `ctx` is the
`lowering.LoweringContext` (an IR builder plus helpers), `op` the graph
Operation and `inputs` the IR values of its inputs, with concrete shapes.
A gradient is `fn(op, *grads) -> list[Tensor | None]`, one per input, as TF's
`@ops.RegisterGradient`.
"""
from __future__ import annotations

LOWERINGS = {}
GRADIENTS = {}
NOT_DIFFERENTIABLE = set()


def lowering(*op_types):
    def deco(fn):
        for t in op_types:
            LOWERINGS[t] = fn
        return fn
    return deco


class RegisterGradient:
    """tf.RegisterGradient(op_type): decorator registering a gradient function."""

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn):
        GRADIENTS[self._op_type] = fn
        return fn


def NotDifferentiable(op_type):
    NOT_DIFFERENTIABLE.add(op_type)


NoGradient = NotDifferentiable
