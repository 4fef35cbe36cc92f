"""tf.nn: activations and losses (the full set arrives with nn_ops)."""
from __future__ import annotations

from .ops.math_ops import sigmoid, tanh, unary


def relu(features, name=None):
    return unary("Relu", features, name)


__all__ = ["relu", "sigmoid", "tanh"]
