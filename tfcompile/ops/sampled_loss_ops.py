"""tf.nn.nce_loss and tf.nn.sampled_softmax_loss (TF 1.15), composed of graph
ops the way TF's _compute_sampled_logits composes them: the true and sampled
classes' rows of the (possibly sharded) weights and biases by embedding_lookup,
their logits by matmul and row-wise dots, minus log(expected count), then a
sigmoid (NCE) or softmax cross entropy. Gradients come from those ops.

One difference in the composition, not in the values: TF removes accidental
hits with compute_accidental_hits and sparse_to_dense, whose sizes depend on
the data (a compiled plan per hit count here). The same -FLT_MAX is added
through a dense mask instead: example i, candidate j where j is the last
position of a candidate equal to one of i's true classes (the position TF's
hits name), once however many true classes match.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import name_scope
from . import array_ops, math_ops, stack_ops
from .constant_op import convert_to_tensor

_FLT_MAX = float(np.finfo(np.float32).max)


def _sum_rows(x):
    """Row sums of a matrix as a matmul with ones (as TF: its gradient is cheaper)."""
    cols = array_ops.shape(x)[1]
    ones = array_ops.ones(stack_ops.stack([cols, 1]), x.dtype)
    return array_ops.reshape(math_ops.matmul(x, ones), [-1])


def _accidental_hit_mask(labels, sampled, dtype):
    """-FLT_MAX where candidate j (its last copy) is one of example i's true
    classes, else 0: [batch, num_sampled]."""
    match = math_ops.equal(array_ops.expand_dims(labels, 2),
                           array_ops.reshape(sampled, [1, 1, -1]))
    hit = math_ops.reduce_any(match, axis=1)
    n = array_ops.size(sampled)
    pos = array_ops.range(n)
    later = math_ops.greater(array_ops.expand_dims(pos, 0), array_ops.expand_dims(pos, 1))
    same = math_ops.equal(array_ops.expand_dims(sampled, 1), array_ops.expand_dims(sampled, 0))
    repeated = math_ops.reduce_any(math_ops.logical_and(same, later), axis=1)
    last = math_ops.logical_not(repeated)
    mask = math_ops.logical_and(hit, array_ops.expand_dims(last, 0))
    return math_ops.cast(mask, dtype) * math_ops.cast(-_FLT_MAX, dtype)


def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes,
                            num_true=1, sampled_values=None, subtract_log_q=True,
                            remove_accidental_hits=False, partition_strategy="mod",
                            name=None, seed=None):
    """(logits, labels), each [batch, num_true + num_sampled]: the true classes'
    logits first, then the sampled ones; labels 1/num_true on the true ones."""
    from ..nn_impl import embedding_lookup
    from . import candidate_ops
    if not isinstance(weights, list):
        weights = list(weights) if isinstance(weights, tuple) else [weights]
    with name_scope(name, "compute_sampled_logits", weights + [biases, inputs, labels]):
        labels = convert_to_tensor(labels, name="labels")
        inputs = convert_to_tensor(inputs, name="inputs")
        if labels.dtype != _dt.int64:
            labels = math_ops.cast(labels, _dt.int64)
        labels_flat = array_ops.reshape(labels, [-1])
        if sampled_values is None:
            sampled_values = candidate_ops.log_uniform_candidate_sampler(
                true_classes=labels, num_true=num_true, num_sampled=num_sampled,
                unique=True, range_max=num_classes, seed=seed)
        sampled, true_expected_count, sampled_expected_count = (
            math_ops.stop_gradient(s) for s in sampled_values)
        sampled = math_ops.cast(sampled, _dt.int64)
        all_ids = stack_ops.concat([labels_flat, sampled], 0)

        # rows of the true classes first, then of the sampled ones
        all_w = embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
        if all_w.dtype != inputs.dtype:
            all_w = math_ops.cast(all_w, inputs.dtype)
        n_true = array_ops.shape(labels_flat)[0]
        true_w = array_ops.slice(all_w, [0, 0], stack_ops.stack([n_true, -1]))
        sampled_w = array_ops.slice(all_w, stack_ops.stack([n_true, 0]), [-1, -1])
        sampled_logits = math_ops.matmul(inputs, sampled_w, transpose_b=True)

        all_b = embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
        if all_b.dtype != inputs.dtype:
            all_b = math_ops.cast(all_b, inputs.dtype)
        true_b = array_ops.slice(all_b, [0], array_ops.shape(labels_flat))
        sampled_b = array_ops.slice(all_b, array_ops.shape(labels_flat), [-1])

        # each example's dot with each of its true classes' rows
        dim = array_ops.shape(true_w)[1:2]
        new_true_w_shape = stack_ops.concat([[-1, num_true], dim], 0)
        row_wise_dots = math_ops.multiply(array_ops.expand_dims(inputs, 1),
                                          array_ops.reshape(true_w, new_true_w_shape))
        dots_as_matrix = array_ops.reshape(row_wise_dots, stack_ops.concat([[-1], dim], 0))
        true_logits = array_ops.reshape(_sum_rows(dots_as_matrix), [-1, num_true])
        true_b = array_ops.reshape(true_b, [-1, num_true])
        true_logits += true_b
        sampled_logits += sampled_b

        if remove_accidental_hits:
            sampled_logits += _accidental_hit_mask(labels, sampled, sampled_logits.dtype)
        if subtract_log_q:
            # log of Q(l), the prior probability that l appears in the sample
            true_logits -= math_ops.log(true_expected_count)
            sampled_logits -= math_ops.log(sampled_expected_count)
        out_logits = stack_ops.concat([true_logits, sampled_logits], 1)
        out_labels = stack_ops.concat([array_ops.ones_like(true_logits) / num_true,
                                       array_ops.zeros_like(sampled_logits)], 1)
        return out_logits, out_labels


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss"):
    """Noise-contrastive estimation loss per example ([batch]): sigmoid cross
    entropy of the true classes (label 1/num_true) and the sampled ones (0)."""
    from ..nn_impl import sigmoid_cross_entropy_with_logits
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs,
        num_sampled=num_sampled, num_classes=num_classes, num_true=num_true,
        sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits,
        partition_strategy=partition_strategy, name=name)
    sampled_losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                       name="sampled_losses")
    return _sum_rows(sampled_losses)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss", seed=None):
    """Sampled softmax loss per example ([batch]): softmax cross entropy over
    the true classes and the sampled ones."""
    from ..nn_ops import softmax_cross_entropy_with_logits_v2
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs,
        num_sampled=num_sampled, num_classes=num_classes, num_true=num_true,
        sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits,
        partition_strategy=partition_strategy, name=name, seed=seed)
    labels = math_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
