"""Clipping and norms: clip_by_value, clip_by_norm, global_norm,
clip_by_global_norm, and the overflow-safe reduce_logsumexp.

All are compositions of existing ops, written as TF 1.15 writes them (same
scopes and op sequence), so their gradients come from the ops they use.
"""
from __future__ import annotations

from ..graph import name_scope
from .constant_op import constant, convert_to_tensor
from . import math_ops


def _is_finite(x):
    return math_ops.is_finite(x)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    with name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as scope:
        values = convert_to_tensor(t, name="t")
        t_min = math_ops.minimum(values, clip_value_max)
        if not values.shape.is_compatible_with(t_min.shape):
            raise ValueError(f"clip_by_value: clip_value_max of shape broadcasts t from "
                             f"{values.shape} to {t_min.shape}")
        t_max = math_ops.maximum(t_min, clip_value_min, name=scope)
        if not values.shape.is_compatible_with(t_max.shape):
            raise ValueError(f"clip_by_value: clip_value_min broadcasts t from "
                             f"{values.shape} to {t_max.shape}")
        return t_max


def clip_by_norm(t, clip_norm, axes=None, name=None):
    from .array_ops import ones_like, where
    with name_scope(name, "clip_by_norm", [t, clip_norm]) as scope:
        values = convert_to_tensor(t, name="t")
        l2sum = math_ops.reduce_sum(values * values, axes, keepdims=True)
        pred = l2sum > 0
        # the two-sided where keeps the gradient of sqrt at 0 from being NaN
        l2sum_safe = where(pred, l2sum, ones_like(l2sum))
        l2norm = where(pred, math_ops.sqrt(l2sum_safe), l2sum)
        intermediate = values * clip_norm
        if not values.shape.is_compatible_with(intermediate.shape):
            raise ValueError(f"clip_by_norm: clip_norm broadcasts t from {values.shape} to "
                             f"{intermediate.shape}")
        return math_ops.identity(intermediate / math_ops.maximum(l2norm, clip_norm),
                                 name=scope)


def _l2_loss(v):
    try:
        from .. import nn
        f = getattr(nn, "l2_loss", None)
    except ImportError:
        f = None
    if f is not None:
        return f(v)
    return math_ops.reduce_sum(v * v) / 2


def global_norm(t_list, name=None):
    """sqrt(sum of squares) over all entries of all tensors in t_list."""
    if not isinstance(t_list, (list, tuple)):
        raise TypeError("t_list should be a sequence")
    from .array_ops import stack
    with name_scope(name, "global_norm", [t for t in t_list if t is not None]):
        values = [convert_to_tensor(t, name=f"t_{i}") if t is not None else None
                  for i, t in enumerate(t_list)]
        half = [_l2_loss(v) for v in values if v is not None]
        half_squared_norm = math_ops.reduce_sum(stack(half))
        return math_ops.sqrt(half_squared_norm * constant(2.0, dtype=half_squared_norm.dtype),
                             name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor by clip_norm / max(global_norm, clip_norm); returns
    (clipped list, global norm). A non-finite norm gives NaN everywhere, as TF."""
    if not isinstance(t_list, (list, tuple)):
        raise TypeError("t_list should be a sequence")
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with name_scope(name, "clip_by_global_norm",
                    [t for t in t_list if t is not None] + [clip_norm]) as scope:
        dt = use_norm.dtype
        scale_for_finite = clip_norm * math_ops.minimum(
            1.0 / use_norm, constant(1.0, dtype=dt) / clip_norm)
        # a no-op for a finite norm; NaN for inf or NaN
        scale = scale_for_finite + (use_norm - use_norm)
        values = [convert_to_tensor(t, name=f"t_{i}") if t is not None else None
                  for i, t in enumerate(t_list)]
        out = []
        for i, v in enumerate(values):
            if v is None:
                out.append(None)
                continue
            s = scale if v.dtype == dt else math_ops.cast(scale, v.dtype)
            out.append(math_ops.identity(v * s, name=f"{scope}_{i}"))
        return out, use_norm


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None,
                     reduction_indices=None, keep_dims=None):
    """log(sum(exp(x))) over axes, shifted by the (finite) max so it doesn't overflow."""
    from .array_ops import reshape, shape, where, zeros_like
    if axis is None:
        axis = reduction_indices
    if keep_dims is not None:
        keepdims = bool(keep_dims)
    keepdims = bool(keepdims)
    with name_scope(name, "ReduceLogSumExp", [input_tensor]) as scope:
        x = convert_to_tensor(input_tensor)
        if not x.dtype.is_floating:
            raise TypeError(f"reduce_logsumexp: input must be a float tensor, got "
                            f"{x.dtype.name}")
        raw_max = math_ops.reduce_max(x, axis=axis, keepdims=True)
        my_max = math_ops.stop_gradient(
            where(_is_finite(raw_max), raw_max, zeros_like(raw_max)))
        result = math_ops.log(math_ops.reduce_sum(
            math_ops.exp(math_ops.binary("Sub", x, my_max, default_name="Sub")), axis,
            keepdims=keepdims))
        if not keepdims:
            my_max = reshape(my_max, shape(result))
        out = math_ops.add(result, my_max, name=scope)
        if axis is None and not keepdims and not out.shape.is_fully_defined():
            out.set_shape([])
        return out

