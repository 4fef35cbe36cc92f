"""The candidate samplers' distributions over [0, range_max) (see
candidate_ops.py): each draws by its inverse CDF from uniforms (IR values),
gives TF's probabilities for the expected counts (float32, as TF's samplers
compute them), the sampling probabilities and log-weights the unique=True race
needs, and the compile-time bound on the mass of the k heaviest classes the
draws method needs (None where only the run knows the weights).

- uniform: floor(u * range); log-uniform: floor(exp(u * log(range + 1))) - 1,
  modulo the range (as TF), P(c) = log((c + 2) / (c + 1)) / log(range + 1);
- a fixed table (FixedUnigramCandidateSampler): TF's weights (reserved ids,
  distortion, shards, unigrams or a CSV vocabulary's last column), drawn by a
  binary search in their cumulative sums;
- learned counts (LearnedUnigramCandidateSampler): the session's stored counts
  (all ones before the op's first run), updated with the true classes after
  the draw.
"""
from __future__ import annotations

import math
import os

import numpy as np

from ..errors import NotFoundError
from . import candidate_draws as cd
from .sort_ops import scan_ir

_KINT32MAX = 2 ** 31 - 1


class _Uniform:
    """Uniform over [0, r). Every distribution has: r; nonzero (how many classes
    have a nonzero probability) and known (their indices, when that is not all
    and is known at compile time); draw(ctx, u f64 [n]) -> i64 [n];
    prob32(ctx, v i64) -> TF's float32 probabilities; p64(ctx, v) -> sampling
    probabilities (f64); log_w(ctx) -> f64 [r] log-weights; top_mass(s) ->
    numpy [s], the mass of the k heaviest classes for k < s, or None."""

    def __init__(self, ctx, op, r):
        self.r, self.nonzero, self.known = r, r, None

    def draw(self, ctx, u):
        b = ctx.b
        v = ctx.convert(b.emit("floor", [b.emit("mul", [u, ctx.scalar(self.r, "f64", u.shape)])]),
                        "i64")
        return b.emit("min", [v, ctx.scalar(self.r - 1, "i64", u.shape)])

    def prob32(self, ctx, v):
        return ctx.scalar(np.float32(1.0 / self.r), "f32", v.shape)

    def p64(self, ctx, v):
        return ctx.scalar(1.0 / self.r, "f64", v.shape)

    def log_w(self, ctx):
        return ctx.scalar(0.0, "f64", (self.r,))

    def top_mass(self, s):
        return np.arange(s, dtype=np.float64) / self.r


class _LogUniform(_Uniform):
    def __init__(self, ctx, op, r):
        super().__init__(ctx, op, r)
        self.log_range = math.log1p(r)

    def draw(self, ctx, u):
        b = ctx.b
        e = b.emit("exp", [b.emit("mul", [u, ctx.scalar(self.log_range, "f64", u.shape)])])
        v = b.emit("sub", [ctx.convert(e, "i64"), ctx.scalar(1, "i64", u.shape)])
        # floor(exp(.)) can round up to range_max itself: TF takes it modulo the range
        return b.emit("rem", [v, ctx.scalar(self.r, "i64", u.shape)])

    def p64(self, ctx, v):
        b = ctx.b
        x = ctx.convert(v, "f64")
        ratio = b.emit("div", [b.emit("add", [x, ctx.scalar(2.0, "f64", v.shape)]),
                               b.emit("add", [x, ctx.scalar(1.0, "f64", v.shape)])])
        return b.emit("div", [b.emit("log", [ratio]),
                              ctx.scalar(self.log_range, "f64", v.shape)])

    def prob32(self, ctx, v):
        return ctx.convert(self.p64(ctx, v), "f32")

    def log_w(self, ctx):
        b = ctx.b
        i = b.emit("iota", [], shape=[self.r], dtype="f64", dim=0)
        inv = b.emit("div", [ctx.scalar(1.0, "f64", (self.r,)),
                             b.emit("add", [i, ctx.scalar(1.0, "f64", (self.r,))])])
        return b.emit("log", [b.emit("log1p", [inv])])

    def top_mass(self, s):
        return np.log1p(np.arange(s, dtype=np.float64)) / self.log_range


class _Table:
    """Fixed weights (FixedUnigramCandidateSampler), known at compile time."""

    def __init__(self, ctx, op, r):
        w = _unigram_weights(ctx, op)
        if len(w) != r:
            ctx.fail(f"range is {r} must be equal to weights size  {len(w)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            ctx.fail(f"{op.name}: the unigram weights raised to the distortion must be "
                     "finite and nonnegative")
        total32 = np.add.accumulate(w, dtype=np.float32)[-1]   # float sums, as TF
        with np.errstate(divide="ignore", invalid="ignore"):
            self.probs32 = (w / total32).astype(np.float32)
        w64 = w.astype(np.float64)
        self.cdf = np.cumsum(w64)
        self.total = float(self.cdf[-1])
        if self.total <= 0:
            ctx.fail(f"{op.name}: all the unigram weights are zero")
        self.p = w64 / self.total
        self.r = r
        self.known = np.flatnonzero(w64 > 0)
        self.nonzero = len(self.known)

    def draw(self, ctx, u):
        target = ctx.b.emit("mul", [u, ctx.scalar(self.total, "f64", u.shape)])
        return cd.search_cdf(ctx, ctx.b.constant(self.cdf), target)

    def prob32(self, ctx, v):
        return ctx.b.emit("gather", [ctx.b.constant(self.probs32), v], axis=0)

    def p64(self, ctx, v):
        return ctx.b.emit("gather", [ctx.b.constant(self.p), v], axis=0)

    def log_w(self, ctx):
        with np.errstate(divide="ignore"):
            return ctx.b.constant(np.log(self.p))

    def top_mass(self, s):
        heavy = np.sort(self.p)[::-1]
        return np.concatenate([[0.0], np.cumsum(heavy)])[:s]


def _unigram_weights(ctx, op):
    """TF's FixedUnigramSampler table: reserved ids (weight 0), then the
    unigrams (or the vocab file's last column) raised to the distortion, keeping
    the ids of this shard only (as TF, the ids continue from the table's size
    after the reserved ids)."""
    a = op.attrs
    shards, shard = a["num_shards"], a["shard"]
    if shard >= shards:
        ctx.fail(f"shard {shard} must be less than num_shards {shards}")
    distortion = np.float32(a["distortion"])
    weights = [np.float32(0.0) for wid in range(a["num_reserved_ids"]) if wid % shards == shard]
    if a["vocab_file"]:
        raw = _read_vocab(ctx, a["vocab_file"])
    elif a["unigrams"]:
        raw = a["unigrams"]
    else:
        ctx.fail("Must provide either vocab_file or unigrams.")
    word_id = len(weights)
    with np.errstate(all="ignore"):
        for w in raw:
            if word_id % shards == shard:
                weights.append(np.power(np.float32(w), distortion, dtype=np.float32))
            word_id += 1
    return np.array(weights, np.float32)


def _read_vocab(ctx, path):
    """The weights of a CSV vocabulary: the last field of each line."""
    if not os.path.isfile(path):
        ctx.fail(f"{path}; No such file or directory", NotFoundError)
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            try:
                out.append(float(line.split(",")[-1]))
            except ValueError:
                ctx.fail(f"Wrong vocabulary format at line: {line}")
    return out


class Learned:
    """Counts learned from the true classes (LearnedUnigramCandidateSampler):
    the session's stored counts, all ones before the op's first run."""

    def __init__(self, ctx, op, r):
        b = ctx.b
        try:
            self.state = op.graph.get_operation_by_name(op.name + "/counts")
        except (KeyError, ValueError):
            ctx.fail(f"{op.name} has no counts (a learned unigram sampler built without "
                     "learned_unigram_candidate_sampler)")
        if ctx.var_shapes.get(self.state) is None:
            self.counts = ctx.scalar(1, "i64", (r,))
        else:
            self.counts = ctx.read_variable(self.state)
        self.total = b.emit("reduce", [self.counts], kind="sum", axes=[0])
        self.r, self.nonzero, self.known = r, r, None

    def draw(self, ctx, u):
        cdf = scan_ir(ctx, ctx.convert(self.counts, "f64"), 0, "sum")
        target = ctx.b.emit("mul", [u, ctx.bcast(ctx.convert(self.total, "f64"), u.shape)])
        return cd.search_cdf(ctx, cdf, target)

    def _ratio(self, ctx, v, dt):
        w = ctx.convert(ctx.b.emit("gather", [self.counts, v], axis=0), dt)
        return ctx.b.emit("div", [w, ctx.bcast(ctx.convert(self.total, dt), v.shape)])

    def prob32(self, ctx, v):
        return self._ratio(ctx, v, "f32")

    def p64(self, ctx, v):
        return self._ratio(ctx, v, "f64")

    def log_w(self, ctx):
        return ctx.b.emit("log", [ctx.convert(self.counts, "f64")])

    def top_mass(self, s):
        return None   # known only at run time: the race needs no bound

    def update(self, ctx, tc):
        """Adds the true classes (at most up to a total of 2**31 - 1, as TF's
        int32 counts) after the draw."""
        b = ctx.b
        flat = b.emit("reshape", [tc], shape=[tc.type.size])
        n, r = flat.shape[0], self.r
        room = b.emit("max", [b.emit("sub", [ctx.scalar(_KINT32MAX, "i64"), self.total]),
                              ctx.scalar(0, "i64")])
        take = b.emit("lt", [b.emit("iota", [], shape=[n], dtype="i64", dim=0),
                             ctx.bcast(room, (n,))])
        parts = []
        rows = max(1, (1 << 22) // max(1, n))
        for r0 in range(0, r, rows):
            c = min(r, r0 + rows) - r0
            shape = (c, n)
            cls = b.emit("add", [b.emit("iota", [], shape=shape, dtype="i64", dim=0),
                                 ctx.scalar(r0, "i64", shape)])
            hit = b.emit("and", [b.emit("eq", [cls, b.emit("broadcast", [flat], shape=shape,
                                                             dims=[1])]),
                                 b.emit("broadcast", [take], shape=shape, dims=[1])])
            parts.append(b.emit("reduce", [ctx.convert(hit, "i64")], kind="sum", axes=[1]))
        seen = parts[0] if len(parts) == 1 else b.emit("concatenate", parts, axis=0)
        ctx.write_variable(self.state, b.emit("add", [self.counts, seen]), validate=False)


DISTS = {"UniformCandidateSampler": _Uniform, "LogUniformCandidateSampler": _LogUniform,
          "FixedUnigramCandidateSampler": _Table, "LearnedUnigramCandidateSampler": Learned}
