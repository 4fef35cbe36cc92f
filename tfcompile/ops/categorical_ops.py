"""tf.random.categorical and tf.multinomial (op Multinomial): num_samples class
indices per row of unnormalized log-probabilities.

As TF's kernel: per row, the running sum of exp(logit - max) over the finite
logits (in float64), and for each sample the first class whose running sum
exceeds u * total, u uniform in [0, 1). The uniforms come from the IR's
counter-based generator keyed by the op's seeds, so runs give fresh samples
and a seeded program repeats its draws. The class is found by the binary
search of misc_ops.sorted_search over the running sums.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .manip_ops import slice_axis
from .op_util import constant_value, make_tensor
from .random_ops import get_seed
from .registry import NotDifferentiable, lowering
from .misc_ops import sorted_search
from .sort_ops import scan_ir

_LOGIT_TYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.int8, _dt.int16, _dt.int32,
                _dt.int64, _dt.uint8, _dt.uint16)


def _multinomial(logits, num_samples, output_dtype, seed):
    logits = convert_to_tensor(logits, name="logits")
    seed1, seed2 = get_seed(seed)
    ns = num_samples if isinstance(num_samples, Tensor) else convert_to_tensor(
        num_samples, dtype=_dt.int32, name="num_samples")
    out = _dt.int64 if output_dtype is None else _dt.as_dtype(output_dtype)
    if out not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value for attr 'output_dtype' of {out.name} is not in the list of "
                        "allowed values: int32, int64")
    if logits.dtype not in _LOGIT_TYPES:
        raise TypeError(f"Value passed to parameter 'logits' has DataType "
                        f"{logits.dtype.name} not in list of allowed values: real numbers")
    if ns.dtype != _dt.int32:
        raise TypeError(f"num_samples must be int32, got {ns.dtype.name}")
    if logits.shape.ndims not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {logits.shape.ndims} for "
                         f"'Multinomial' (op: 'Multinomial') with input shapes: "
                         f"{logits.shape}, {ns.shape}.")
    if ns.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ns.shape.ndims} for "
                         f"'Multinomial' (op: 'Multinomial')")
    nv = constant_value(ns)
    if nv is not None and int(nv) < 0:
        raise ValueError(f"Dimension size, given by scalar input 1, must be non-negative "
                         f"but is {int(nv)}")
    batch = logits.shape[0].value if logits.shape.ndims == 2 else None
    return make_tensor("Multinomial", [logits, ns], out,
                       TensorShape([batch, None if nv is None else int(nv)]),
                       {"T": logits.dtype, "seed": seed1 or 0, "seed2": seed2 or 0,
                        "output_dtype": out}, name="Multinomial")


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """tf.multinomial: samples from categorical distributions ([batch, num_classes]
    logits -> [batch, num_samples] int64 class indices)."""
    with name_scope(name, "multinomial", [logits]):
        return _multinomial(logits, num_samples, output_dtype, seed)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """tf.random.categorical: as tf.multinomial, with the output type `dtype`."""
    with name_scope(name, "categorical", [logits]):
        return _multinomial(logits, num_samples, dtype, seed)


@lowering("Multinomial")
def _lower_multinomial(ctx, op, inputs):
    logits, ns = inputs
    if logits.type.rank != 2:
        ctx.fail(f"logits should be a matrix, got shape {list(logits.shape)}")
    if ns.type.rank != 0:
        ctx.fail(f"num_samples should be a scalar, got shape {list(ns.shape)}")
    s = int(ctx.const_value(ns, "Multinomial num_samples"))
    if s < 0:
        ctx.fail(f"num_samples should be nonnegative, got {s}")
    bsz, k = logits.shape
    if k <= 0:
        ctx.fail(f"num_classes should be positive, got {k}")
    out_dt = op.attrs["output_dtype"].ir
    if bsz == 0 or s == 0:
        return [ctx.scalar(0, out_dt, (bsz, s))]
    b = ctx.b
    x = ctx.convert(logits, "f64")
    # finite logits only: x - x is 0 exactly there (NaN for inf and NaN)
    finite = b.emit("eq", [b.emit("sub", [x, x]), ctx.scalar(0, "f64", (bsz, k))])
    ninf = ctx.scalar(float("-inf"), "f64", (bsz, k))
    top = b.emit("reduce", [b.emit("select", [finite, x, ninf])], kind="max", axes=[1])
    w = b.emit("exp", [b.emit("sub", [x, b.emit("broadcast", [top], shape=[bsz, k],
                                                 dims=[0])])])
    w = b.emit("select", [finite, w, ctx.scalar(0, "f64", (bsz, k))])
    cdf = scan_ir(ctx, w, 1, "sum")
    total = b.emit("reshape", [slice_axis(ctx, cdf, 1, k - 1, k)], shape=[bsz])
    seed, seed2 = ctx.seeds(op)
    u = b.emit("rng", [ctx.rng_counter(op)], dist="uniform", shape=[bsz, s], dtype="f64",
               seed=seed, seed2=seed2)
    target = b.emit("mul", [u, b.emit("broadcast", [total], shape=[bsz, s], dims=[0])])
    idx = sorted_search(ctx, cdf, target, True, "i64")   # std::upper_bound, as TF
    # u * total < total keeps the count below k; guard rows with no finite logit
    idx = b.emit("min", [idx, ctx.scalar(k - 1, "i64", (bsz, s))])
    return [ctx.convert(idx, out_dt)]


NotDifferentiable("Multinomial")
