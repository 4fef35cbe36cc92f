"""More layers and ops: 1-D convolution and pooling layers, tf.nn.pool,
random_crop, tf.hessians, tf.custom_gradient (TF 1.15 names and semantics).

The layers and tf.nn.pool live in extra_nn_layers.py; this module holds the
ops built from other ops and the install."""
from __future__ import annotations

import functools
import inspect
import itertools

import numpy as np

from .. import dtypes as _dt
from ..graph import GraphKeys, get_default_graph, name_scope
from . import array_ops, control_flow, math_ops
from .check_ops import Assert
from .constant_op import convert_to_tensor
from .op_util import constant_value, make_op
from .random_ops import random_uniform
from .registry import RegisterGradient, lowering

# ---------------------------------------------------------------- random_crop


def random_crop(value, size, seed=None, name=None):
    """tf.random_crop: a window of shape `size` at a uniformly drawn offset
    (per dimension in [0, dim - size]), drawn anew each run. Like TF: an Assert
    that value.shape >= size, offsets = random int32 % (shape - size + 1); the
    crop itself is one gather per dimension of iota(size_d) + offset_d."""
    with name_scope(name, "random_crop", [value, size]) as scope:
        value = convert_to_tensor(value, name="value")
        size = convert_to_tensor(size, dtype=_dt.int32, name="size")
        sizes = constant_value(size)
        if sizes is None:
            raise ValueError(f"random_crop: size must be a constant, got {size}")
        sizes = [int(s) for s in np.reshape(sizes, [-1])]
        rank = value.shape.ndims
        if size.shape.ndims != 1:
            raise ValueError(f"Shape must be rank 1 but is rank {size.shape.ndims} for "
                             f"'{scope}size'")
        if rank is not None and rank != len(sizes):
            raise ValueError(f"Dimensions must be equal, but are {rank} and {len(sizes)} "
                             f"for '{scope}GreaterEqual' (op: 'GreaterEqual') with input "
                             f"shapes: [{rank}], [{len(sizes)}].")
        if any(s < 0 for s in sizes):
            raise ValueError(f"random_crop: size must be non-negative, got {sizes}")
        shape = array_ops.shape(value)
        check = Assert(math_ops.reduce_all(math_ops.greater_equal(shape, size)),
                       ["Need value.shape >= size, got ", shape, size], summarize=1000)
        shape = control_flow.with_dependencies([check], shape)
        limit = shape - size + 1
        # a negative limit (the Assert fails) would make the modulus meaningless:
        # keep it positive so the run reaches the Assert's error
        limit = math_ops.maximum(limit, 1)
        draws = random_uniform(array_ops.shape(shape), dtype=_dt.int32,
                               maxval=_dt.int32.max, seed=seed)
        offset = math_ops.floormod(draws, limit)
        out = value
        for d, s in enumerate(sizes):
            index = array_ops.range(s, dtype=_dt.int32) + offset[d]
            out = array_ops.gather(out, index, axis=d)
        out = math_ops.identity(out, name=scope)
        out.set_shape(sizes)
        return out


# ---------------------------------------------------------------- hessians


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False,
             gate_gradients=False, aggregation_method=None):
    """tf.hessians: for each x, the second derivatives of sum(ys), shaped
    x.shape + x.shape. As TF: the gradient g of ys w.r.t. x, then the gradient
    of each element g[j] (TF loops with a while_loop; here the loop is unrolled,
    so x needs a fully known static shape)."""
    from ..gradients import gradients
    xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    kwargs = {"colocate_gradients_with_ops": colocate_gradients_with_ops,
              "gate_gradients": gate_gradients, "aggregation_method": aggregation_method}
    first = gradients(ys, xs, name=name, **kwargs)
    out = []
    for g, x in zip(first, xs):
        shape = x.shape
        if not shape.is_fully_defined():
            raise ValueError(f"tf.hessians needs the fully defined shape of {x.name}, got "
                             f"{shape}")
        dims = shape.as_list()
        if g is None:
            raise ValueError(f"tf.hessians: ys do not depend on {x.name} (its gradient "
                             "is None)")
        n = int(np.prod(dims, dtype=np.int64))
        with name_scope(name):
            flat = array_ops.reshape(g, [-1])
            rows = []
            for j in range(n):
                r = gradients(flat[j], x, name=name, **kwargs)[0]
                rows.append(array_ops.zeros(dims, dtype=x.dtype) if r is None else r)
            if rows:
                h = array_ops.stack(rows)
            else:
                h = array_ops.zeros([0] + dims, dtype=x.dtype)
            out.append(array_ops.reshape(h, dims + dims))
    return out


# ---------------------------------------------------------------- custom_gradient

# grad_id -> (grad_fn, number of results, of inputs, variables read); one entry
# per use of a custom_gradient
_GRAD_FNS = {}
_ids = itertools.count(1)


def custom_gradient(f):
    """@tf.custom_gradient (graph mode): f(*xs) returns (y, grad_fn); calling the
    decorated function gives y, and tf.gradients through it calls grad_fn(*dys)
    for the gradients of xs. As TF: ys and xs pass through one identity op with
    several outputs whose gradient is grad_fn's, so no gradient flows into the ops
    of f. When f reads variables, grad_fn must take `variables=` and return
    (input_grads, variable_grads), as TF's."""
    @functools.wraps(f)
    def decorated(*args, **kwargs):
        g = get_default_graph()
        before = set(g.get_operations())
        xs = [convert_to_tensor(a) for a in args]
        result, grad_fn = f(*xs, **kwargs)
        variables = _variables_read(g, before)
        if variables and "variables" not in _parameters(grad_fn):
            raise TypeError("If using @custom_gradient with a function that uses "
                            "variables, then grad_fn must accept a keyword argument "
                            "'variables'.")
        single = not isinstance(result, (list, tuple))
        flat = [result] if single else list(result)
        ys = [convert_to_tensor(r) for r in flat]
        gid = next(_ids)
        _GRAD_FNS[gid] = (grad_fn, len(ys), len(xs), variables)
        tensors = ys + xs + [v._ref() for v in variables]
        op = make_op("CustomGradientIdentityN", tensors,
                     {"T": [t.dtype for t in tensors], "grad_id": gid,
                      "num_results": len(ys)},
                     [(t.dtype, t.shape) for t in tensors], name="IdentityN",
                     default_name="IdentityN")
        outs = op.outputs[:len(ys)]
        if single:
            return outs[0]
        return type(result)(outs) if isinstance(result, tuple) else list(outs)
    return decorated


def _parameters(fn):
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}


def _variables_read(g, before):
    """The Variables whose value the ops added since `before` read (directly or
    through the variable's snapshot), in order of first use."""
    from ..variables import Variable
    by_op = {}
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES):
        for v in g.get_collection(key):
            if isinstance(v, Variable):
                by_op.setdefault(v._ref().op, v)
    found = []
    for op in g.get_operations():
        if op in before:
            continue
        for t in op.inputs:
            src = t.op
            if src.type == "Identity" and src.inputs and src.inputs[0].op.type == "VariableV2":
                src = src.inputs[0].op
            v = by_op.get(src)
            if v is not None and v not in found and op.type not in ("Assign",):
                found.append(v)
    return found


@lowering("CustomGradientIdentityN")
def _lower_identity_n(ctx, op, inputs):
    return list(inputs)


@RegisterGradient("CustomGradientIdentityN")
def _custom_grad(op, *grads):
    grad_fn, n, nx, variables = _GRAD_FNS[op.attrs["grad_id"]]
    dys = list(grads[:n])
    for i, dy in enumerate(dys):
        if dy is None:  # an integer result: hand grad_fn zeros as TF's tape does
            dys[i] = array_ops.zeros_like(op.outputs[i])
    if variables:
        got, var_grads = grad_fn(*dys, variables=variables)
        var_grads = list(var_grads) if isinstance(var_grads, (list, tuple)) else [var_grads]
        if len(var_grads) != len(variables):
            raise ValueError(f"custom_gradient function expected to return "
                             f"{len(variables)} variable gradients, but returned "
                             f"{len(var_grads)} instead.")
    else:
        got, var_grads = grad_fn(*dys), []
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    if len(got) != nx:
        raise ValueError(f"custom_gradient function expected to return {nx} gradients, "
                         f"but returned {len(got)} instead.")
    return [None] * n + [None if g is None else convert_to_tensor(g)
                         for g in got + var_grads]


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    from . import extra_nn_layers as L
    tf.random_crop = random_crop
    tf.image.random_crop = random_crop
    tf.hessians = hessians
    tf.custom_gradient = custom_gradient
    tf.nn.pool = L.pool
    for n in ("Conv1D", "MaxPooling1D", "AveragePooling1D", "conv1d", "max_pooling1d",
              "average_pooling1d"):
        setattr(tf.layers, n, getattr(L, n))
    tf.layers.Convolution1D = L.Conv1D
    tf.layers.MaxPool1D = L.MaxPooling1D
    tf.layers.AveragePooling1D = L.AveragePooling1D
    tf.layers.AvgPool1D = L.AveragePooling1D
    from . import extra_nn_keras
    extra_nn_keras.install(tf)

