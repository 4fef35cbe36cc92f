"""Drawing candidates in compiled code: the IR algorithms behind the candidate
samplers (tfcompile/ops/candidate_ops.py), independent of the distribution.

TF's samplers draw i.i.d. values and, for unique=True, reject repeats until
num_sampled distinct values came up; `num_tries` counts every draw. The IR has
no loops, so the rejection process is reproduced exactly in one of two ways:

- Draws: a fixed number D of i.i.d. draws, deduplicated in draw order (the
  first num_sampled first occurrences; num_tries = the position of the last
  of them + 1). This *is* TF's process as long as the D draws hold
  num_sampled distinct values. D comes from a Chernoff bound on num_tries
  (`draws_needed`) so that running out has probability below 1e-18; should
  it happen anyway, the run fails with an InvalidArgumentError (a run check),
  never a wrong sample. Cost about D*D/2 comparisons.
- Race: repeats rejected until a new value comes up make the distinct values
  a sequence drawn without replacement, each next one with probability
  proportional to its weight among those left. That is the order of the
  keys E_i / w_i with E_i i.i.d. Exp(1) (an exponential race). The sequence's
  num_tries is then num_sampled plus, per step k, the number of repeats
  before the next new value: geometric with failure probability P_k, the mass
  already chosen (independent of which new value comes next). Cost about
  180 comparisons per class (finding a threshold below which a few more
  than num_sampled keys lie) plus the ranks of those keys.

The samplers pick the cheaper of the two when the distribution is known at
compile time, and the race when it is learned at run time.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from .manip_ops import slice_axis
from .sort_ops import order_from_ranks, rank_chunks, scan_ir

_CHUNK = 1 << 22          # elements of one comparison block
_LOG_EPS = math.log(1e-18)  # accepted chance that D draws hold too few distinct values
_SEARCH_POINTS = 15       # the race's threshold search: points per round,
_SEARCH_ROUNDS = 12       # and rounds (each shrinks the interval 16 times)
_MAX_RANK = 1 << 14       # rank_chunks' row limit
RACE_MAX_RANGE = 1 << 24  # the race keeps per-class keys: bounded memory


# ---------------------------------------------------------------- compile-time planning

def draws_needed(q, max_draws, log_eps=_LOG_EPS):
    """The number D of i.i.d. draws that holds len(q) distinct values with
    probability >= 1 - exp(log_eps) (1 - 1e-18), or None when more than
    max_draws would be needed.

    q[k] (k < S) bounds the mass of the k values already taken when the
    (k+1)-th distinct one is awaited (the k heaviest classes' mass), so the
    draws it waits are dominated by a geometric variable with failure
    probability q[k]. Chernoff: P(T > D) <= exp(g(t) - t (D + 1)) for every
    t in (0, -log max q), g the log moment generating function of the sum."""
    q = np.asarray(q, np.float64)
    s = len(q)
    qmax = float(q.max()) if s else 0.0
    if qmax <= 0.0:
        return s
    if qmax >= 1.0:
        return None
    tmax = -math.log(qmax)
    # any t gives a valid bound; a grid dense near both ends is close to the best
    x = np.concatenate([np.logspace(-8, -0.3, 96), 1.0 - np.logspace(-12, -0.3, 160)])
    t = np.minimum(tmax * x, 60.0)
    base = np.log1p(-q).sum()
    step = builtins.max(1, (1 << 20) // len(t))
    acc = np.zeros_like(t)
    with np.errstate(divide="ignore", invalid="ignore"):   # q e^t rounding to 1: no bound
        for k0 in range(0, s, step):
            qk = q[k0:k0 + step, None]
            acc += np.log1p(-qk * np.exp(t)[None, :]).sum(axis=0)
    g = s * t + base - acc
    bound = float(np.min((g - log_eps) / t))
    if not np.isfinite(bound) or bound - 1 > max_draws:
        return None
    return builtins.max(s, math.ceil(bound) - 1)


def draws_cost(d, s, r):
    """Work of the draws method: dedup, selection, per-draw inverse CDF."""
    return d * d // 2 + s * d + d * builtins.max(1, int(r).bit_length())


def race_size(s, nonzero):
    """How many keys the race ranks: num_sampled and a margin (all the
    classes with nonzero weight when they are fewer)."""
    m = s + builtins.max(8, s // 16)
    return builtins.min(nonzero, m)


def race_cost(s, r, nonzero):
    """Work of the race, or None where it cannot run (too many classes for
    its per-class keys, or too many keys to rank)."""
    m = race_size(s, nonzero)
    if r > RACE_MAX_RANGE or m > _MAX_RANK:
        return None
    search = 0 if m == nonzero else r * _SEARCH_POINTS * _SEARCH_ROUNDS
    return r * 8 + search + m * m + s * m


# ---------------------------------------------------------------- IR building blocks

def uniforms(ctx, op, n):
    """n uniforms in [0, 1) (f64), fresh per run, from the op's counter and seeds."""
    seed, seed2 = ctx.seeds(op)
    return ctx.b.emit("rng", [ctx.rng_counter(op)], dist="uniform", shape=[n], dtype="f64",
                      seed=seed, seed2=seed2)


def search_cdf(ctx, cdf, target):
    """For each target, the smallest j with cdf[j] > target (the last index when
    none): inverse-CDF sampling by binary search with gathers. cdf f64 [R]
    (nondecreasing), target f64 [n] -> i64 [n]."""
    b = ctx.b
    r = cdf.shape[0]
    n = target.shape[0]
    lo = ctx.scalar(0, "i64", (n,))
    hi = ctx.scalar(r - 1, "i64", (n,))
    two, one = ctx.scalar(2, "i64", (n,)), ctx.scalar(1, "i64", (n,))
    for _ in range((r - 1).bit_length()):
        mid = b.emit("div", [b.emit("add", [lo, hi]), two])
        above = b.emit("gt", [b.emit("gather", [cdf, mid], axis=0), target])
        hi = b.emit("select", [above, mid, hi])
        lo = b.emit("select", [above, lo, b.emit("add", [mid, one])])
    return lo


def _first_occurrences(ctx, x):
    """bool [D]: x[i] differs from every x[j], j < i (x i64 [D])."""
    b = ctx.b
    d = x.shape[0]
    parts = []
    i0 = 0
    while i0 < d:
        # rows i0..i1 against the draws before i1: c * (i0 + c) <= _CHUNK
        c = builtins.max(1, int((math.sqrt(i0 * i0 + 4.0 * _CHUNK) - i0) / 2))
        i1 = builtins.min(d, i0 + c)
        c, w = i1 - i0, i1
        shape = (c, w)
        xi = b.emit("broadcast", [slice_axis(ctx, x, 0, i0, i1)], shape=shape, dims=[0])
        xj = b.emit("broadcast", [slice_axis(ctx, x, 0, 0, w)], shape=shape, dims=[1])
        ii = b.emit("add", [b.emit("iota", [], shape=shape, dtype="i32", dim=0),
                            ctx.scalar(i0, "i32", shape)])
        jj = b.emit("iota", [], shape=shape, dtype="i32", dim=1)
        dup = b.emit("and", [b.emit("eq", [xi, xj]), b.emit("lt", [jj, ii])])
        parts.append(b.emit("not", [b.emit("reduce", [dup], kind="or", axes=[1])]))
        i0 = i1
    return parts[0] if len(parts) == 1 else b.emit("concatenate", parts, axis=0)


def _count_at_most(ctx, c, s):
    """out[p] = #{i: c[i] <= p} for p < s (c i32 [D]) -> i64 [s]."""
    b = ctx.b
    d = c.shape[0]
    rows = builtins.max(1, _CHUNK // builtins.max(1, d))
    parts = []
    for p0 in range(0, s, rows):
        k = builtins.min(s, p0 + rows) - p0
        shape = (k, d)
        pp = b.emit("add", [b.emit("iota", [], shape=shape, dtype="i32", dim=0),
                            ctx.scalar(p0, "i32", shape)])
        cc = b.emit("broadcast", [c], shape=shape, dims=[1])
        below = ctx.convert(b.emit("le", [cc, pp]), "i64")
        parts.append(b.emit("reduce", [below], kind="sum", axes=[1]))
    return parts[0] if len(parts) == 1 else b.emit("concatenate", parts, axis=0)


def unique_from_draws(ctx, x, s):
    """The first s distinct values of the draws x (i64 [D]) in draw order.
    Returns (values i64 [s], num_tries i64 scalar, ok bool scalar: the draws
    held s distinct values)."""
    b = ctx.b
    d = x.shape[0]
    first = _first_occurrences(ctx, x)
    c = scan_ir(ctx, ctx.convert(first, "i32"), 0, "sum")    # distinct values so far
    idx = _count_at_most(ctx, c, s)      # position of the (p+1)-th first occurrence
    values = b.emit("gather", [x, idx], axis=0)
    last = b.emit("reshape", [slice_axis(ctx, idx, 0, s - 1, s)], shape=[])
    tries = b.emit("add", [last, ctx.scalar(1, "i64")])
    total = b.emit("reshape", [slice_axis(ctx, c, 0, d - 1, d)], shape=[])
    ok = b.emit("ge", [total, ctx.scalar(s, "i32")])
    return values, tries, ok


def race_keys(ctx, u, log_w):
    """Log keys log(E_i / w_i), E_i = -log(1 - u_i) ~ Exp(1); +inf where w_i = 0.
    u, log_w f64 [R]."""
    b = ctx.b
    shape = u.shape
    e = b.emit("neg", [b.emit("log1p", [b.emit("neg", [u])])])
    e = b.emit("max", [e, ctx.scalar(1e-300, "f64", shape)])   # u == 0: a key of ~0
    return b.emit("sub", [b.emit("log", [e]), log_w])


def _threshold(ctx, lk, s, m):
    """A threshold t with s <= #{lk <= t} <= m; returns (t, found). No loops:
    a fixed number of rounds, each counting the keys below _SEARCH_POINTS
    evenly spaced points of the interval left and keeping the part between
    the last point with too few and the first with too many."""
    b = ctx.b
    r = lk.shape[0]
    k = _SEARCH_POINTS
    inf = ctx.scalar(np.inf, "f64")
    finite = b.emit("lt", [lk, ctx.bcast(inf, (r,))])
    hi = b.emit("reduce", [b.emit("select", [finite, lk, ctx.scalar(-np.inf, "f64", (r,))])],
                kind="max", axes=[0])
    lo = b.emit("sub", [b.emit("reduce", [lk], kind="min", axes=[0]), ctx.scalar(1.0, "f64")])
    frac = b.constant(np.arange(1, k + 1, dtype=np.float64) / (k + 1))
    keys = b.emit("broadcast", [lk], shape=[k, r], dims=[1])
    t = hi
    found = ctx.scalar(False, "bool")
    for _ in range(_SEARCH_ROUNDS):
        pts = b.emit("add", [ctx.bcast(lo, (k,)),
                             b.emit("mul", [ctx.bcast(b.emit("sub", [hi, lo]), (k,)), frac])])
        below = b.emit("le", [keys, b.emit("broadcast", [pts], shape=[k, r], dims=[0])])
        c = b.emit("reduce", [ctx.convert(below, "i64")], kind="sum", axes=[1])
        few = b.emit("lt", [c, ctx.scalar(s, "i64", (k,))])
        many = b.emit("gt", [c, ctx.scalar(m, "i64", (k,))])
        ok = b.emit("not", [b.emit("or", [few, many])])
        lo = b.emit("max", [lo, b.emit("reduce", [b.emit("select", [
            few, pts, ctx.scalar(-np.inf, "f64", (k,))])], kind="max", axes=[0])])
        hi = b.emit("min", [hi, b.emit("reduce", [b.emit("select", [
            many, pts, ctx.scalar(np.inf, "f64", (k,))])], kind="min", axes=[0])])
        here = b.emit("reduce", [b.emit("select", [ok, pts, ctx.scalar(np.inf, "f64", (k,))])],
                      kind="min", axes=[0])
        now = b.emit("lt", [here, inf])
        t = b.emit("select", [b.emit("and", [now, b.emit("not", [found])]), here, t])
        found = b.emit("or", [found, now])
    return t, found


def race_order(ctx, lk, s, nonzero, known=None):
    """The classes of the s smallest keys lk (f64 [R]), smallest first (i64 [s]),
    and ok (bool scalar). `nonzero` classes have finite keys; `known` (numpy
    indices or None) lists them when they are known at compile time."""
    b = ctx.b
    r = lk.shape[0]
    m = race_size(s, nonzero)
    ok = ctx.scalar(True, "bool")
    if m == nonzero and (known is not None or nonzero == r):
        ids = b.constant(np.arange(r, dtype=np.int64) if known is None
                         else np.asarray(known, np.int64))
        keys = lk if known is None else b.emit("gather", [lk, ids], axis=0)
    else:
        t, ok = _threshold(ctx, lk, s, m)
        chosen = b.emit("le", [lk, ctx.bcast(t, lk.shape)])
        ids = b.emit("reshape", [b.emit("argwhere", [chosen], count=m)], shape=[m])
        valid = b.emit("ge", [ids, ctx.scalar(0, "i64", (m,))])   # rows past the count are -1
        keys = b.emit("select", [valid, b.emit("gather", [lk, ids], axis=0),
                                 ctx.scalar(np.inf, "f64", (m,))])
    n = keys.shape[0]
    chunks = rank_chunks(ctx, b.emit("reshape", [keys], shape=[1, n]), descending=False)
    pos = b.emit("reshape", [order_from_ranks(ctx, chunks, 1, s)], shape=[s])
    return b.emit("gather", [ids, pos], axis=0), ok


def tries_of_sequence(ctx, p, v):
    """num_tries of a rejection process that produced distinct values with
    sampling probabilities p (f64 [s], in order): s plus, per step, the
    repeats drawn before it, geometric with failure probability P_k (the mass
    of the values before it). v: s uniforms in [0, 1). Returns i64 scalar."""
    b = ctx.b
    s = p.shape[0]
    taken = scan_ir(ctx, p, 0, "sum", exclusive=True)
    log_taken = b.emit("min", [b.emit("log", [taken]), ctx.scalar(-1e-300, "f64", (s,))])
    # P(F >= f) = P_k^f for F = floor(log(1 - v) / log(P_k)); 0 where P_k = 0
    f = b.emit("floor", [b.emit("div", [b.emit("log1p", [b.emit("neg", [v])]), log_taken])])
    f = b.emit("min", [b.emit("max", [f, ctx.scalar(0.0, "f64", (s,))]),
                       ctx.scalar(float(1 << 40), "f64", (s,))])
    total = b.emit("reduce", [f], kind="sum", axes=[0])
    return b.emit("add", [ctx.convert(total, "i64"), ctx.scalar(s, "i64")])


def expected_count(ctx, p, s, tries):
    """TF's expected count of a class with probability p (f32) in a batch of s
    candidates that took `tries` draws: p * s when no draw was rejected (always
    so for unique=False), else 1 - (1 - p)^tries = -expm1(tries * log1p(-p)),
    in float32 as TF computes it."""
    b = ctx.b
    shape = p.shape
    nt = ctx.bcast(ctx.convert(tries, "f32"), shape)
    formula = b.emit("neg", [b.emit("expm1", [
        b.emit("mul", [nt, b.emit("log1p", [b.emit("neg", [p])])])])])
    plain = b.emit("mul", [p, ctx.scalar(float(s), "f32", shape)])
    exact = ctx.bcast(b.emit("eq", [tries, ctx.scalar(s, "i64")]), shape)
    return b.emit("select", [exact, plain, formula])
