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
from .ops.batchnorm_ops import fused_batch_norm
from .ops.conv_ops import (conv2d, conv2d_backprop_filter, conv2d_backprop_input,
                           conv2d_transpose)
from .ops.depthwise_ops import (depthwise_conv2d, depthwise_conv2d_native,
                                depthwise_conv2d_native_backprop_filter,
                                depthwise_conv2d_native_backprop_input)
from .ops.pool_ops import avg_pool, max_pool
from .ops.sort_ops import top_k
avg_pool2d, max_pool2d = avg_pool, max_pool
from .ops.math_ops import NUMERIC, sigmoid, tanh
from .nn_more import (conv1d, crelu, local_response_normalization, log_sigmoid, lrn,
                      normalize_moments, separable_conv2d, sufficient_statistics, swish,
                      weighted_moments, zero_fraction)


def relu(features, name=None):
    from .nn_ops import _activation
    return _activation("Relu", features, name, NUMERIC)


__all__ = ["avg_pool", "avg_pool2d", "conv2d", "conv2d_backprop_filter",
           "conv2d_backprop_input", "conv2d_transpose", "depthwise_conv2d",
           "depthwise_conv2d_native", "depthwise_conv2d_native_backprop_filter",
           "depthwise_conv2d_native_backprop_input", "fused_batch_norm", "max_pool",
           "max_pool2d", "top_k",
           "batch_normalization", "bias_add", "dropout", "elu", "embedding_lookup",
           "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "log_softmax", "moments",
           "relu", "relu6", "relu_layer", "selu", "sigmoid",
           "sigmoid_cross_entropy_with_logits", "softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "softplus", "softsign", "sparse_softmax_cross_entropy_with_logits", "tanh",
           "weighted_cross_entropy_with_logits", "xw_plus_b", "conv1d", "crelu",
           "local_response_normalization", "log_sigmoid", "lrn", "normalize_moments",
           "separable_conv2d", "sufficient_statistics", "swish", "weighted_moments",
           "zero_fraction"]
