"""Random ops (tf.random_uniform, random_normal, truncated_normal) and seeds.

Values come from the IR's counter-based generator: each op is keyed by
(graph seed, op seed) as TF's `get_seed` defines them, and the session advances
a per-op counter on every run, so runs give fresh values yet a program with
`tf.set_random_seed` is reproducible.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, get_default_graph, name_scope
from .constant_op import convert_to_tensor
from .op_util import make_tensor, shape_from_tensor
from .registry import lowering

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def set_random_seed(seed):
    get_default_graph().seed = seed


def get_seed(op_seed):
    """TF 1.15's get_seed: the (graph seed, op seed) pair for a new random op."""
    g = get_default_graph()
    if g.seed is not None:
        if op_seed is None:
            op_seed = g._last_id
        seeds = (int(g.seed) & _MAXINT32, int(op_seed) & _MAXINT32)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed) & _MAXINT32)
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        return 0, _MAXINT32
    return seeds


def _shape_tensor(shape):
    if isinstance(shape, Tensor):
        return shape
    return convert_to_tensor(shape, dtype=_dt.int32, name="shape")


def _random(op_type, shape, dtype, seed, name, default):
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Invalid dtype {dtype.name} for {default}: expected a float type")
    s1, s2 = get_seed(seed)
    shape_t = _shape_tensor(shape)
    return make_tensor(op_type, [shape_t], dtype, shape_from_tensor(shape_t),
                       {"dtype": dtype, "seed": s1 or 0, "seed2": s2 or 0, "T": shape_t.dtype},
                       name=name)


def random_uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None):
    dtype = _dt.as_dtype(dtype)
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        shape_t = _shape_tensor(shape)
        if dtype.is_integer:
            if maxval is None:
                raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
            lo = convert_to_tensor(minval, dtype=dtype, name="min")
            hi = convert_to_tensor(maxval, dtype=dtype, name="max")
            s1, s2 = get_seed(seed)
            return make_tensor("RandomUniformInt", [shape_t, lo, hi], dtype,
                               shape_from_tensor(shape_t),
                               {"Tout": dtype, "seed": s1 or 0, "seed2": s2 or 0}, name=scope)
        lo = convert_to_tensor(minval, dtype=dtype, name="min")
        hi = convert_to_tensor(1 if maxval is None else maxval, dtype=dtype, name="max")
        rnd = _random("RandomUniform", shape_t, dtype, seed, None, "RandomUniform")
        from .math_ops import add
        return add(rnd * (hi - lo), lo, name=scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    with name_scope(name, "random_normal", [shape, mean, stddev]) as scope:
        shape_t = _shape_tensor(shape)
        m = convert_to_tensor(mean, dtype=dtype, name="mean")
        s = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random("RandomStandardNormal", shape_t, dtype, seed, None, "random_normal")
        from .math_ops import add
        return add(rnd * s, m, name=scope)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    with name_scope(name, "truncated_normal", [shape, mean, stddev]) as scope:
        shape_t = _shape_tensor(shape)
        m = convert_to_tensor(mean, dtype=dtype, name="mean")
        s = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random("TruncatedNormal", shape_t, dtype, seed, None, "truncated_normal")
        from .math_ops import add
        return add(rnd * s, m, name=scope)


_DISTS = {"RandomUniform": "uniform", "RandomStandardNormal": "normal",
          "TruncatedNormal": "truncated_normal"}


@lowering(*_DISTS)
def _lower_random(ctx, op, inputs):
    shape = [int(d) for d in np.reshape(ctx.const_value(inputs[0], f"{op.type} shape"), [-1])]
    seed, seed2 = ctx.seeds(op)
    return [ctx.b.emit("rng", [ctx.rng_counter(op)], dist=_DISTS[op.type], shape=shape,
                       dtype=op.attrs["dtype"].ir, seed=seed, seed2=seed2)]


@lowering("RandomUniformInt")
def _lower_random_int(ctx, op, inputs):
    shape = [int(d) for d in np.reshape(ctx.const_value(inputs[0], "shape"), [-1])]
    lo, hi = inputs[1], inputs[2]
    seed, seed2 = ctx.seeds(op)
    u = ctx.b.emit("rng", [ctx.rng_counter(op)], dist="uniform", shape=shape, dtype="f64",
                   seed=seed, seed2=seed2)
    lo_f = ctx.bcast(ctx.convert(lo, "f64"), tuple(shape))
    span = ctx.bcast(ctx.convert(ctx.b.emit("sub", [hi, lo]), "f64"), tuple(shape))
    v = ctx.b.emit("floor", [ctx.b.emit("add", [ctx.b.emit("mul", [u, span]), lo_f])])
    return [ctx.convert(v, lo.dtype)]
