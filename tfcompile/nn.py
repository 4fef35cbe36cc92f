"""tf.nn: activations, softmax, cross-entropy losses, bias_add, dropout and the
other neural-network ops of TF 1.15 (fused ops in nn_ops.py, composites in
nn_impl.py; their gradients are registered by ops/nn_grad.py, imported here)."""
from __future__ import annotations

from .nn_impl import (batch_normalization, dropout, embedding_lookup, l2_normalize,
                      moments, relu_layer, sigmoid_cross_entropy_with_logits,
                      weighted_cross_entropy_with_logits, xw_plus_b)
from .nn_ops import (bias_add, elu, in_top_k, l2_loss, leaky_relu, log_softmax, relu6,
                     selu, softmax, softmax_cross_entropy_with_logits,
                     softmax_cross_entropy_with_logits_v2, softplus, softsign,
                     sparse_softmax_cross_entropy_with_logits)
from .ops import nn_grad as _nn_grad  # noqa: F401 - registers the gradients
from .ops.math_ops import NUMERIC, sigmoid, tanh


def relu(features, name=None):
    from .nn_ops import _activation
    return _activation("Relu", features, name, NUMERIC)


__all__ = ["batch_normalization", "bias_add", "dropout", "elu", "embedding_lookup",
           "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "log_softmax", "moments",
           "relu", "relu6", "relu_layer", "selu", "sigmoid",
           "sigmoid_cross_entropy_with_logits", "softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "softplus", "softsign", "sparse_softmax_cross_entropy_with_logits", "tanh",
           "weighted_cross_entropy_with_logits", "xw_plus_b"]
