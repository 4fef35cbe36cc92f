"""Learning-rate schedules of a global step (TF 1.15's tf.train.*_decay):
exponential, inverse time, natural exponential, polynomial, cosine, and
piecewise constant. Each returns a scalar tensor of the learning rate's dtype."""
from __future__ import annotations

import math

from ..graph import name_scope
from ..ops import array_ops, math_ops
from ..ops.constant_op import constant, convert_to_tensor


def _need_step(global_step, what):
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps) (floored if staircase)."""
    _need_step(global_step, "exponential_decay")
    with name_scope(name, "ExponentialDecay", [learning_rate, global_step]) as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype
        decay_steps = math_ops.cast(decay_steps, dtype)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = math_ops.cast(global_step, dtype) / decay_steps
        if staircase:
            p = math_ops.floor(p)
        return math_ops.multiply(lr, math_ops.pow(decay_rate, p), name=scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    _need_step(global_step, "inverse_time_decay")
    with name_scope(name, "InverseTimeDecay", [learning_rate, global_step]) as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype
        decay_steps = math_ops.cast(decay_steps, dtype)
        decay_rate = math_ops.cast(decay_rate, dtype)
        p = math_ops.cast(global_step, dtype) / decay_steps
        if staircase:
            p = math_ops.floor(p)
        one = math_ops.cast(constant(1), dtype)
        denom = math_ops.add(one, math_ops.multiply(decay_rate, p))
        return math_ops.div(lr, denom, name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps): TF 1.15 makes it
    an exponential decay by exp(-decay_rate) (so its ops are named ExponentialDecay)."""
    _need_step(global_step, "natural_exp_decay")
    rate = math_ops.exp(math_ops.negative(decay_rate))
    return exponential_decay(learning_rate, global_step, decay_steps, rate,
                             staircase=staircase, name=name)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """(lr - end) * (1 - step / decay_steps) ^ power + end, the step clipped at
    decay_steps (or decay_steps stretched to the next multiple if cycle)."""
    _need_step(global_step, "polynomial_decay")
    with name_scope(name, "PolynomialDecay", [learning_rate, global_step]) as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype
        end = math_ops.cast(end_learning_rate, dtype)
        power = math_ops.cast(power, dtype)
        step = math_ops.cast(global_step, dtype)
        steps = math_ops.cast(decay_steps, dtype)
        if cycle:
            zero = math_ops.equal(step, 0)
            mult = array_ops.where(zero, array_ops.ones_like(step),
                                   math_ops.ceil(step / steps))
            steps = math_ops.multiply(steps, mult)
        else:
            step = math_ops.minimum(step, steps)
        p = math_ops.div(step, steps)
        return math_ops.add(math_ops.multiply(lr - end, math_ops.pow(1 - p, power)), end,
                            name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)."""
    _need_step(global_step, "cosine_decay")
    with name_scope(name, "CosineDecay", [learning_rate, global_step]) as scope:
        lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = lr.dtype
        steps = math_ops.cast(decay_steps, dtype)
        step = math_ops.minimum(math_ops.cast(global_step, dtype), steps)
        frac = step / steps
        cosine = 0.5 * (1.0 + math_ops.cos(constant(math.pi, dtype=dtype) * frac))
        decayed = (1 - alpha) * cosine + alpha
        return math_ops.multiply(lr, decayed)  # TF 1.15 leaves it unnamed


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <=
    boundaries[i], values[-1] after the last boundary: a tf.case, as TF 1.15."""
    from ..ops.cond_ops import case
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of "
                         "values")
    bounds = [convert_to_tensor(b) for b in boundaries]
    vals = [convert_to_tensor(v) for v in values]
    x = convert_to_tensor(x)
    for i, b in enumerate(bounds):
        if b.dtype != x.dtype:
            if b.dtype.name == "int32" and x.dtype.name == "int64":
                bounds[i] = math_ops.cast(b, x.dtype)
            else:
                raise ValueError(f"Boundaries ({b.dtype.name}) must have the same dtype as "
                                 f"x ({x.dtype.name}).")
    for v in vals[1:]:
        if v.dtype != vals[0].dtype:
            raise ValueError(f"Values must have elements all with the same dtype "
                             f"({vals[0].dtype.name} vs {v.dtype.name}).")
    with name_scope(name, "PiecewiseConstant"):
        pairs = [(x <= bounds[0], lambda: vals[0]), (x > bounds[-1], lambda: vals[-1])]
        for low, high, v in zip(bounds[:-1], bounds[1:], vals[1:-1]):
            pairs.append(((x > low) & (x <= high), lambda v=v: v))
        # TF also asserts the predicates are exclusive; they are by construction
        return case(pairs, lambda: vals[0], exclusive=True)
