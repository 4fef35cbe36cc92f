"""Candidate sampling: the samplers (tf.nn / tf.random .uniform_, log_uniform_,
fixed_unigram_, learned_unigram_, all_candidate_sampler), compute_accidental_hits,
and the sampled losses' exports (TF 1.15 names and semantics).

A sampler op draws num_sampled classes from [0, range_max) and returns them
with their expected counts and those of the true classes, by TF's formulas:
p * num_sampled when no draw was rejected (unique=False always), else
1 - (1 - p)^num_tries with num_tries the draws it took. The distributions
(inverse CDFs, TF's probabilities) are in candidate_dists.py, the unique=True
algorithms in candidate_draws.py. Draws come from the IR's counter-based
generator, so runs give fresh candidates and op seeds repeat them. The
learned unigram sampler keeps per-session counts (1 per class to start, as
TF's kernel), stored as a variable's value is (op CandidateSamplerState, in
no collection), read and updated by its own run in compiled code.
"""
from __future__ import annotations

import collections

import numpy as np

from .. import dtypes as _dt
from ..errors import UnimplementedError
from ..graph import Tensor
from ..lowering import count_true
from . import candidate_draws as cd
from .candidate_dists import DISTS, Learned
from .constant_op import convert_to_tensor
from .manip_ops import slice_axis
from .op_util import make_op
from .random_ops import get_seed
from .registry import NotDifferentiable, lowering

_FIELDS = ["sampled_candidates", "true_expected_count", "sampled_expected_count"]
_SAMPLERS = ("UniformCandidateSampler", "LogUniformCandidateSampler",
             "FixedUnigramCandidateSampler", "LearnedUnigramCandidateSampler",
             "AllCandidateSampler")
# TF returns its multi-output ops as named tuples named after the op
_TUPLES = {t: collections.namedtuple(t, _FIELDS) for t in _SAMPLERS}
ComputeAccidentalHits = collections.namedtuple("ComputeAccidentalHits",
                                               ["indices", "ids", "weights"])
_FLT_MAX = float(np.finfo(np.float32).max)
_MAX_DRAWS = 1 << 16       # the draws method's largest D
_WORK_LIMIT = 1 << 33      # beyond this a unique sample is refused, not attempted
_FORCE = None              # "draws" or "race": pins the unique=True method (tests)


# ---------------------------------------------------------------- graph side

def _attr_min(op_type, name, value, minimum):
    value = int(value)
    if value < minimum:
        raise ValueError(f"Attr '{name}' of '{op_type}' Op passed {value} less than "
                         f"minimum {minimum}.")
    return value


def _int64_input(op_type, arg, value, rank):
    if isinstance(value, Tensor):
        if value.dtype.base_dtype != _dt.int64:
            raise TypeError(f"Input '{arg}' of '{op_type}' Op has type {value.dtype.name} "
                            "that does not match expected type of int64.")
    else:
        value = convert_to_tensor(value, dtype=_dt.int64, name=arg)
    nd = value.shape.ndims
    if nd is not None and nd != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {nd} for '{op_type}' "
                         f"(op: '{op_type}') with input shapes: {_shape_str(value.shape)}.")
    return value


def _shape_str(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _sampler(op_type, true_classes, num_true, num_sampled, unique, range_max, seed, name,
             extra=None):
    num_true = _attr_min(op_type, "num_true", num_true, 1)
    num_sampled = _attr_min(op_type, "num_sampled", num_sampled, 1)
    attrs = {"num_true": num_true, "num_sampled": num_sampled, "unique": bool(unique)}
    if range_max is not None:
        attrs["range_max"] = _attr_min(op_type, "range_max", range_max, 1)
    attrs.update(extra or {})
    tc = _int64_input(op_type, "true_classes", true_classes, 2)
    s1, s2 = get_seed(seed)
    attrs["seed"], attrs["seed2"] = s1 or 0, s2 or 0
    batch = tc.shape.as_list()[0] if tc.shape.ndims == 2 else None
    op = make_op(op_type, [tc], attrs, [(_dt.int64, [num_sampled]),
                                        (_dt.float32, [batch, num_true]),
                                        (_dt.float32, [num_sampled])], name=name)
    return op


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """Candidates drawn uniformly from [0, range_max)."""
    op = _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                  range_max, seed, name)
    return _TUPLES[op.type](*op.outputs)


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Candidates from the log-uniform (Zipfian) distribution
    P(c) = (log(c + 2) - log(c + 1)) / log(range_max + 1)."""
    op = _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                  range_max, seed, name)
    return _TUPLES[op.type](*op.outputs)


def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique,
                                      range_max, seed=None, name=None):
    """Candidates drawn in proportion to counts learned from the true classes
    seen so far in this session (every class starts at 1; each run adds its
    true classes after drawing)."""
    op = _sampler("LearnedUnigramCandidateSampler", true_classes, num_true, num_sampled,
                  unique, range_max, seed, name)
    # the counts: per-session storage, like a variable's, in no collection
    make_op("CandidateSamplerState", [], {"dtype": _dt.int64},
            [(_dt.int64, [op.attrs["range_max"]])], name=f"{op.name}/counts/", graph=op.graph)
    return _TUPLES[op.type](*op.outputs)


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                    vocab_file="", distortion=1.0, num_reserved_ids=0,
                                    num_shards=1, shard=0, unigrams=(), seed=None,
                                    name=None):
    """Candidates drawn in proportion to fixed weights (`unigrams`, or the last
    column of a CSV `vocab_file`) raised to `distortion`; the first
    num_reserved_ids classes have weight 0; with num_shards > 1 only the
    classes c with c % num_shards == shard are this sampler's."""
    op_type = "FixedUnigramCandidateSampler"
    extra = {"vocab_file": str(vocab_file or ""), "distortion": float(distortion),
             "num_reserved_ids": int(num_reserved_ids),
             "num_shards": _attr_min(op_type, "num_shards", num_shards, 1),
             "shard": _attr_min(op_type, "shard", shard, 0),
             "unigrams": [float(w) for w in unigrams]}
    op = _sampler(op_type, true_classes, num_true, num_sampled, unique, range_max, seed,
                  name, extra)
    return _TUPLES[op.type](*op.outputs)


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None,
                          name=None):
    """All the classes [0, num_sampled) as candidates, each with expected count 1."""
    op = _sampler("AllCandidateSampler", true_classes, num_true, num_sampled, unique, None,
                  seed, name)
    return _TUPLES[op.type](*op.outputs)


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None,
                            name=None):
    """The sampled candidates equal to a true class of an example: (indices
    int32: the examples, ids int64: the candidates' positions (the last of
    equal candidates), weights float32: -FLT_MAX), in row-major order of the
    true classes. The count is known only when the graph runs: a Session
    probes it first and compiles a plan per count, as for tf.where."""
    op_type = "ComputeAccidentalHits"
    tc = _int64_input(op_type, "true_classes", true_classes, 2)
    sc = _int64_input(op_type, "sampled_candidates", sampled_candidates, 1)
    num_true = int(num_true)
    cols = tc.shape.as_list()[1] if tc.shape.ndims == 2 else None
    if cols is not None and cols != num_true:
        raise ValueError(f"Dimension must be {num_true} but is {cols} for '{op_type}' "
                         f"(op: '{op_type}') with input shapes: {_shape_str(tc.shape)}, "
                         f"{_shape_str(sc.shape)}.")
    s1, s2 = get_seed(seed)
    op = make_op(op_type, [tc, sc], {"num_true": num_true, "seed": s1 or 0, "seed2": s2 or 0},
                 [(_dt.int32, [None]), (_dt.int64, [None]), (_dt.float32, [None])], name=name)
    return ComputeAccidentalHits(*op.outputs)


for _t in _SAMPLERS + ("ComputeAccidentalHits", "CandidateSamplerState"):
    NotDifferentiable(_t)


# ---------------------------------------------------------------- lowering

def _check_true_classes(ctx, op, tc, num_true, r):
    if tc.type.rank != 2:
        ctx.fail("true_classes must be a matrix")
    if tc.shape[1] != num_true:
        ctx.fail(f"true_classes must have num_true columns, expected: {num_true} was: "
                 f"{tc.shape[1]}")
    # TF 1.15 read such classes out of bounds (later versions refuse them, as here)
    b = ctx.b
    inside = b.emit("and", [b.emit("ge", [tc, ctx.scalar(0, "i64", tc.shape)]),
                            b.emit("lt", [tc, ctx.scalar(r, "i64", tc.shape)])])
    ctx.add_run_check(op, b.emit("reduce", [inside], kind="and", axes=[0, 1]),
                      f"`true_candidate` out of range [0, {r}) in {op.inputs[0].name}")


def _choose(ctx, op, dist, s):
    """"draws" or "race" (see candidate_draws), with D for the draws."""
    d = None
    q = dist.top_mass(s)
    if q is not None:
        d = cd.draws_needed(q, _MAX_DRAWS)
    costs = {}
    if d is not None:
        costs["draws"] = cd.draws_cost(d, s, dist.r)
    race = cd.race_cost(s, dist.r, dist.nonzero)
    if race is not None:
        costs["race"] = race
    if _FORCE in costs:
        return _FORCE, d
    if not costs or min(costs.values()) > _WORK_LIMIT:
        ctx.fail(f"{op.name}: drawing {s} unique candidates from {dist.r} classes with this "
                 "distribution would take more draws (or memory) than compiled code can "
                 "afford here; use unique=False or a smaller num_sampled", UnimplementedError)
    return min(costs, key=costs.get), d


def _unique(ctx, op, dist, s):
    """s distinct candidates, in TF's draw order, and the draws it took."""
    method, d = _choose(ctx, op, dist, s)
    if method == "draws":
        x = dist.draw(ctx, cd.uniforms(ctx, op, d))
        values, tries, ok = cd.unique_from_draws(ctx, x, s)
        ctx.add_run_check(op, ok, (
            f"{op.name}: {d} draws held fewer than {s} distinct candidates (an event of "
            "probability below 1e-18; run again)"))
        return values, tries
    r = dist.r
    u = cd.uniforms(ctx, op, r + s)
    lk = cd.race_keys(ctx, slice_axis(ctx, u, 0, 0, r), dist.log_w(ctx))
    values, ok = cd.race_order(ctx, lk, s, dist.nonzero, dist.known)
    if ok.producer is None or ok.producer.op != "constant":
        ctx.add_run_check(op, ok, f"{op.name}: could not separate the {s} smallest of "
                          f"{r} random keys (ties); run again")
    tries = cd.tries_of_sequence(ctx, dist.p64(ctx, values), slice_axis(ctx, u, 0, r, r + s))
    return values, tries


@lowering(*DISTS)
def _lower_sampler(ctx, op, inputs):
    b = ctx.b
    (tc,) = inputs
    a = op.attrs
    num_true, s, r, unique = a["num_true"], a["num_sampled"], a["range_max"], a["unique"]
    _check_true_classes(ctx, op, tc, num_true, r)
    if unique and s > r:
        ctx.fail("Sampler's range is too small.")
    dist = DISTS[op.type](ctx, op, r)
    if unique and s > dist.nonzero:
        ctx.fail(f"{op.name}: {s} unique candidates asked, but only {dist.nonzero} classes "
                 "have a nonzero weight")
    if unique:
        sampled, tries = _unique(ctx, op, dist, s)
    else:
        sampled = dist.draw(ctx, cd.uniforms(ctx, op, s))
        tries = ctx.scalar(s, "i64")
    bsz = tc.shape[0]
    flat = b.emit("reshape", [tc], shape=[bsz * num_true])
    p_true = b.emit("reshape", [dist.prob32(ctx, flat)], shape=[bsz, num_true])
    outs = [sampled, cd.expected_count(ctx, p_true, s, tries),
            cd.expected_count(ctx, dist.prob32(ctx, sampled), s, tries)]
    if isinstance(dist, Learned):
        dist.update(ctx, tc)
    return outs


@lowering("AllCandidateSampler")
def _lower_all_sampler(ctx, op, inputs):
    (tc,) = inputs
    num_true, s = op.attrs["num_true"], op.attrs["num_sampled"]
    _check_true_classes(ctx, op, tc, num_true, s)
    return [ctx.b.emit("iota", [], shape=[s], dtype="i64", dim=0),
            ctx.scalar(1.0, "f32", (tc.shape[0], num_true)), ctx.scalar(1.0, "f32", (s,))]


@lowering("CandidateSamplerState")
def _lower_state(ctx, op, inputs):
    # fetching the learned counts: the stored ones, or the initial ones
    if ctx.var_shapes.get(op) is None:
        return [ctx.scalar(1, "i64", (op.outputs[0].shape.as_list()[0],))]
    return [ctx.read_variable(op)]


def _hit_positions(ctx, tc, sc):
    """pos[i, j]: the last position of true class tc[i, j] among the sampled
    candidates sc, or -1 (i64 [B, T])."""
    b = ctx.b
    bsz, t = tc.shape
    n = sc.shape[0]
    shape = (bsz, t, n)
    eq = b.emit("eq", [b.emit("broadcast", [tc], shape=shape, dims=[0, 1]),
                       b.emit("broadcast", [sc], shape=shape, dims=[2])])
    at = b.emit("select", [eq, b.emit("iota", [], shape=shape, dtype="i64", dim=2),
                           ctx.scalar(-1, "i64", shape)])
    return b.emit("reduce", [at], kind="max", axes=[2])


def _hit_count(ctx, values):
    pos = _hit_positions(ctx, values[0], values[1])
    return count_true(ctx, ctx.b.emit("ge", [pos, ctx.scalar(0, "i64", pos.shape)]))


@lowering("ComputeAccidentalHits")
def _lower_accidental_hits(ctx, op, inputs):
    b = ctx.b
    tc, sc = inputs
    num_true = op.attrs["num_true"]
    if tc.type.rank != 2:
        ctx.fail("true_classes must be a matrix")
    if sc.type.rank != 1:
        ctx.fail("sampled_candidates must be a vector, which is typically an output from "
                 "CandidateSampler")
    if tc.shape[1] != num_true:
        ctx.fail(f"true_classes must have num_true columns, expected: {num_true} was: "
                 f"{tc.shape[1]}")
    n = ctx.data_size(op, "compute_accidental_hits' outputs", list(op.inputs), _hit_count,
                      [tc, sc])
    pos = _hit_positions(ctx, tc, sc)
    hit = b.emit("ge", [pos, ctx.scalar(0, "i64", pos.shape)])
    coords = b.emit("argwhere", [hit], count=n)                        # [n, 2]
    rows = b.emit("reshape", [slice_axis(ctx, coords, 1, 0, 1)], shape=[n])
    cols = b.emit("reshape", [slice_axis(ctx, coords, 1, 1, 2)], shape=[n])
    flat = b.emit("add", [b.emit("mul", [rows, ctx.scalar(num_true, "i64", (n,))]), cols])
    ids = b.emit("gather", [b.emit("reshape", [pos], shape=[tc.type.size]), flat], axis=0)
    return [ctx.convert(rows, "i32"), ids, ctx.scalar(-_FLT_MAX, "f32", (n,))]


# ---------------------------------------------------------------- exports

def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    from . import sampled_loss_ops
    samplers = dict(uniform_candidate_sampler=uniform_candidate_sampler,
                    log_uniform_candidate_sampler=log_uniform_candidate_sampler,
                    fixed_unigram_candidate_sampler=fixed_unigram_candidate_sampler,
                    learned_unigram_candidate_sampler=learned_unigram_candidate_sampler,
                    all_candidate_sampler=all_candidate_sampler)
    for k, v in samplers.items():
        setattr(tf.nn, k, v)
        setattr(tf.random, k, v)
    tf.nn.compute_accidental_hits = compute_accidental_hits
    tf.nn.nce_loss = sampled_loss_ops.nce_loss
    tf.nn.sampled_softmax_loss = sampled_loss_ops.sampled_softmax_loss
