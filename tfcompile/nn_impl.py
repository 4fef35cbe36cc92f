"""tf.nn functions composed from other ops (TF's nn_impl): sigmoid and weighted
cross entropy, dropout, moments, l2_normalize, xw_plus_b, batch_normalization,
embedding_lookup. Their gradients come from those of the ops they use."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import dtypes as _dt
from .graph import Tensor, name_scope
from .nn_ops import _ensure_xent_args, bias_add
from .ops import array_ops, math_ops, random_ops
from .ops.constant_op import convert_to_tensor
from .ops.op_util import constant_value
from .tensor_shape import TensorShape, as_shape


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-|x|)), stable for any logits."""
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        if not labels.shape.is_compatible_with(logits.shape):
            raise ValueError(f"logits and labels must have the same shape ({logits.shape} "
                             f"vs {labels.shape})")
        zeros = array_ops.zeros_like(logits, dtype=logits.dtype)
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = array_ops.where(cond, logits, zeros)
        neg_abs_logits = array_ops.where(cond, math_ops.negative(logits), logits)
        return math_ops.add(relu_logits - logits * labels,
                            math_ops.log1p(math_ops.exp(neg_abs_logits)), name=scope)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None,
                                       name=None, targets=None):
    """Sigmoid cross entropy with the positive term weighted by `pos_weight`."""
    if labels is None:
        labels = targets
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        if not labels.shape.is_compatible_with(logits.shape):
            raise ValueError(f"logits and labels must have the same shape ({logits.shape} "
                             f"vs {labels.shape})")
        log_weight = 1 + (pos_weight - 1) * labels
        softplus_neg = (math_ops.log1p(math_ops.exp(-math_ops.abs(logits)))
                        + math_ops.unary("Relu", -logits))
        return math_ops.add((1 - labels) * logits, log_weight * softplus_neg, name=scope)


# ---------------------------------------------------------------- dropout

def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """TF 1.x dropout: keeps each element with probability keep_prob (= 1 - rate)
    and scales kept ones by 1 / keep_prob."""
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'")
    if keep_prob is not None:
        try:
            rate = 1. - keep_prob
        except TypeError:
            raise ValueError("keep_prob must be a floating point number or Tensor (got "
                             f"{keep_prob!r})") from None
    if rate is None:
        raise ValueError("You must provide a rate to dropout.")
    return dropout_v2(x, rate, noise_shape=noise_shape, seed=seed, name=name)


def _noise_shape(x, noise_shape):
    if noise_shape is None:
        return array_ops.shape(x)
    if isinstance(noise_shape, Tensor):
        return noise_shape
    ns = as_shape(noise_shape)
    if x.shape.ndims is not None and ns.ndims == x.shape.ndims:
        ns = TensorShape([xd if nd is None else nd
                          for nd, xd in zip(ns.as_list(), x.shape.as_list())])
    if not ns.is_fully_defined():
        raise ValueError(f"dropout: noise_shape {ns} must be fully defined (x has shape "
                         f"{x.shape})")
    return ns.as_list()


def dropout_v2(x, rate, noise_shape=None, seed=None, name=None):
    with name_scope(name, "dropout", [x]):
        x = convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError("x has to be a floating point tensor since it's going to be "
                             f"scaled. Got a {x.dtype} tensor instead.")
        if isinstance(rate, numbers.Real) and not isinstance(rate, builtins.bool):
            if not 0 <= rate < 1:
                raise ValueError("rate must be a scalar tensor or a float in the range "
                                 f"[0, 1), got {rate:g}")
            if rate == 0:
                return x
        rate = convert_to_tensor(rate, dtype=x.dtype, name="rate")
        rate.shape.assert_is_compatible_with(TensorShape([]))
        rv = constant_value(rate)
        if rv is not None and np.all(rv == 0):
            return x
        shape = _noise_shape(x, noise_shape)
        keep_prob = 1 - rate
        random_tensor = keep_prob + random_ops.random_uniform(shape, seed=seed, dtype=x.dtype)
        binary_tensor = math_ops.floor(random_tensor)
        ret = math_ops.divide(x, keep_prob) * binary_tensor
        ret.set_shape(x.shape)
        return ret


# ---------------------------------------------------------------- moments

def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) over `axes`; the variance is the population variance."""
    if keepdims is None:
        keepdims = bool(keep_dims)
    with name_scope(name, "moments", [x, axes]):
        x = convert_to_tensor(x)
        y = math_ops.cast(x, _dt.float32) if x.dtype == _dt.float16 else x
        mean = math_ops.reduce_mean(y, axes, keepdims=True, name="mean")
        variance = math_ops.reduce_mean(
            math_ops.squared_difference(y, math_ops.stop_gradient(mean)), axes,
            keepdims=True, name="variance")
        if not keepdims:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        if x.dtype == _dt.float16:
            return math_ops.cast(mean, _dt.float16), math_ops.cast(variance, _dt.float16)
        return mean, variance


# ---------------------------------------------------------------- composites

def xw_plus_b(x, weights, biases, name=None):
    with name_scope(name, "xw_plus_b", [x, weights, biases]) as scope:
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(weights, name="weights")
        biases = convert_to_tensor(biases, name="biases")
        return bias_add(math_ops.matmul(x, weights), biases, name=scope)


def relu_layer(x, weights, biases, name=None):
    with name_scope(name, "relu_layer", [x, weights, biases]) as scope:
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(weights, name="weights")
        biases = convert_to_tensor(biases, name="biases")
        return math_ops.unary("Relu", bias_add(math_ops.matmul(x, weights), biases),
                              name=scope)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    if axis is None:
        axis = dim
    with name_scope(name, "l2_normalize", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
        return math_ops.multiply(x, inv_norm, name=scope)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + epsilon) + offset, in TF's op order."""
    with name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        inv = math_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        x = convert_to_tensor(x)
        # x * inv before mean * inv, the order TF creates (and names) them in
        scaled = x * math_ops.cast(inv, x.dtype)
        rest = offset - mean * inv if offset is not None else -mean * inv
        return scaled + math_ops.cast(rest, x.dtype)


def embedding_lookup(params, ids, partition_strategy="mod", name=None,
                     validate_indices=True, max_norm=None):
    """Rows of `params` selected by `ids`. `params` may be a list of shards of
    one table: "mod" puts row i in shard i % n at position i // n, "div" splits
    the rows into contiguous runs (the first shards one row longer when they
    don't divide evenly). max_norm: rows whose L2 norm is larger are scaled
    down to it (after the lookup, as TF does)."""
    from .ops import clip_ops, stack_ops
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("Need at least one param")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    with name_scope(name, "embedding_lookup", shards + [ids]) as scope:
        ids = convert_to_tensor(ids, name="ids")
        if len(shards) == 1:
            result = array_ops.gather(shards[0], ids, name=scope)
        else:
            shards = [convert_to_tensor(p, name="params") for p in shards]
            table = stack_ops.concat(shards, 0)
            if partition_strategy == "div":
                rows = ids                  # the shards, in order, are the table
            else:
                sizes = [p.shape[0].value for p in shards]
                if None in sizes:
                    raise ValueError("embedding_lookup over shards needs each shard's "
                                     f"first dimension known, got {sizes}")
                n = len(shards)
                starts = np.cumsum([0] + sizes[:-1]).astype(ids.dtype.as_numpy_dtype)
                rows = math_ops.add(array_ops.gather(starts, math_ops.floormod(ids, n)),
                                    math_ops.floordiv(ids, n))
            result = array_ops.gather(table, rows, name=scope)
        if max_norm is not None:
            r, k = result.shape.ndims, ids.shape.ndims
            if r is None or k is None:
                raise ValueError("embedding_lookup(max_norm=...) needs the ranks of "
                                 "params and ids known when the graph is built")
            result = clip_ops.clip_by_norm(result, max_norm, axes=list(builtins.range(k, r)))
        return math_ops.identity(result)

