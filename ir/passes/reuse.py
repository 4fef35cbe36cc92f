"""What fusing a value costs: how often its kernel evaluates each element,
and what one evaluation costs.

A fused value is computed wherever its kernel needs an element, never
stored, so an element needed twice is computed twice. Fusion asks two
questions of a producer before putting it into its consumers' kernel:

  reads      the most times one element of the producer is evaluated while
             the kernel computes all its outputs once. Walked from the
             kernel's root down the consumers' index maps: a broadcast
             multiplies by the copies it makes of an element, a gather by
             the indices that may pick it, a concatenate listing the value
             twice counts each; transpose, reshape, reverse, pad and one
             slice read an element at most once. Several strided slices of
             one value (the taps of a pooling window) add up unless their
             index sets are disjoint: a 2x2 stride-2 pool reads each element
             once, a 3x3 stride-1 pool up to 9 times; the unfold that builds
             a 5x5 im2col (broadcast, pad, strided slice) 25 times.
             Consumers that read at the same index as one another
             (elementwise ops) share one evaluation.

  cost       the work of one element of the producer, counting what would
             fuse under it (elementwise and movement ops; a reduction, dot,
             parameter, constant or returned value below is a load), each
             op weighted by OP_COST and by how many of its elements one
             element needs (the four taps of a 2x2 pool).

`merge_reads_same_index` answers a third: whether a kernel of row
reductions reads another reduction's result only at its own row index, so
that merging the two computes each row of that result once.
"""
from __future__ import annotations

import math

from ..core import BINARY_OPS, COMPARE_OPS, UNARY_OPS, Instr, Value

ELEMENTWISE = frozenset(UNARY_OPS + BINARY_OPS + COMPARE_OPS + ("select", "convert"))
MOVEMENT = frozenset(("broadcast", "reshape", "transpose", "slice", "reverse", "pad",
                      "concatenate", "iota", "gather"))
REDUCTIONS = frozenset(("reduce", "argmax", "argmin"))

# Rough cost of computing one element again (0: an index map).
TRANSCENDENTAL = ("exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos", "pow")
OP_COST = {op: 0 for op in MOVEMENT if op != "gather"}
OP_COST.update({op: 1 for op in ELEMENTWISE})
OP_COST.update({"gather": 1, "div": 2, "rem": 2, "sqrt": 2, "rsqrt": 2})
OP_COST.update({op: 4 for op in TRANSCENDENTAL})
OP_COST["rng"] = 8
DEFAULT_COST = 4

CHEAP = 1              # a load or two and one op: fine to compute again per read
EXPENSIVE = 4          # a transcendental, or four ops: computed once per element
REPEAT_BUDGET = 4      # extra work per element tolerated: (reads - 1) * cost
MIN_REPEATED_WORK = 1 << 14    # ... and in all, below which a kernel of its own costs more
MAX_READS = 32         # read classes kept per value before they are summed into one
MAX_SUBTREE = 256      # instructions looked at for a cost, beyond which it is "large"


class Read:
    """One way a kernel reads a value: a key naming the index map (the root,
    or the consumer and operand slot that map the index), the most times that
    map reads one element, and the window when the consumer is a slice."""
    __slots__ = ("key", "times", "window")

    def __init__(self, key, times, window=None):
        self.key = key
        self.times = times
        self.window = window

    def __repr__(self):
        return f"Read({self.key!r}, {self.times})"


def root_reads(ins: Instr) -> list[Read]:
    """A kernel's root: each element computed once."""
    return [Read(("root", ins), 1)]


def expansion(consumer: Instr, slot: int) -> int:
    """The most elements of `consumer` whose evaluation reads one given element
    of operand `slot` (1 for index maps that never read an element twice)."""
    op = consumer.op
    o = consumer.operands[slot]
    if op == "broadcast":
        return max(1, consumer.type.size // max(1, o.type.size))
    if op == "gather":
        params, idx = consumer.operands
        if slot == 0:
            # Every index may name the same row.
            return max(1, idx.type.size)
        return max(1, consumer.type.size // max(1, idx.type.size))
    if op == "rng":
        return max(1, consumer.type.size)
    return 1


def reads_through(v: Value, consumers, reads_of, times_of) -> list[Read]:
    """The reads of `v` when it joins the kernel of `consumers`.

    reads_of(c): the reads of consumer c's result; times_of(c): its combined
    count. Elementwise consumers read v at their own index: their reads pass
    through, and the same key met twice is one evaluation.
    """
    found: dict = {}

    def add(r: Read):
        old = found.get(r.key)
        if old is None or old.times < r.times:
            found[r.key] = r

    for c in consumers:
        if c.op in ELEMENTWISE:
            for r in reads_of(c.result):
                add(r)
            continue
        t = times_of(c.result)
        window = ((tuple(c.attrs["start"]), tuple(c.attrs["limit"]), tuple(c.attrs["stride"]))
                  if c.op == "slice" else None)
        for slot, o in enumerate(c.operands):
            if o is v:
                add(Read((c, slot), t * expansion(c, slot), window))
    reads = list(found.values())
    if len(reads) > MAX_READS:
        reads = [Read(("many", v), sum(r.times for r in reads))]
    return reads


def times(reads: list[Read]) -> int:
    """The most evaluations of one element over `reads`: their sum, or their
    largest when all are slices with pairwise disjoint windows."""
    if not reads:
        return 0
    if len(reads) == 1:
        return reads[0].times
    if all(r.window is not None for r in reads) and all(
            _disjoint(a.window, b.window) for i, a in enumerate(reads) for b in reads[i + 1:]):
        return max(r.times for r in reads)
    return sum(r.times for r in reads)


def _disjoint(w1, w2) -> bool:
    """Whether two slices of one value never read the same element: along
    some dim their index progressions don't meet."""
    for a1, l1, s1, a2, l2, s2 in zip(*w1, *w2):
        if l1 <= a1 or l2 <= a2:
            return True                           # an empty slice
        if max(a1, a2) >= min(l1, l2):
            return True                           # ranges apart
        g = math.gcd(s1, s2)
        if (a1 - a2) % g:
            return True                           # the strides never line up
        if s1 == s2 == g:
            continue                              # same stride, same phase: they meet
        first = set(range(a1, l1, s1)) if (l1 - a1) // s1 <= 4096 else None
        if first is not None and first.isdisjoint(range(a2, l2, s2)):
            return True
    return False


# -- cost ---------------------------------------------------------------------------------------

def _reads_per_element(ins: Instr, slot: int) -> float:
    """Average evaluations of operand `slot` per element of `ins` when the
    operand is fused under it. An expanding broadcast or gather counts its
    operand once per operand element: a costly operand there gets its own
    kernel (the reads rule), a cheap one adds little."""
    o = ins.operands[slot]
    n, m = ins.type.size, o.type.size
    if n == 0:
        return 0.0
    if ins.op in REDUCTIONS:
        return m / n
    if ins.op in ("broadcast", "pad", "concatenate", "gather"):
        return min(1.0, m / n)
    return 1.0


def subtree_cost(v: Value, is_load) -> float:
    """Work of one element of `v` computed in a kernel, with what would fuse
    under it; `is_load(value)` says a value is read from memory instead.
    math.inf when the part under `v` has more than MAX_SUBTREE instructions."""
    order, seen = [], set()
    stack = [(v, False)]
    while stack:
        x, done = stack.pop()
        if done:
            order.append(x)
            continue
        if x in seen:
            continue
        if x is not v and (x.producer is None or is_load(x)):
            continue
        seen.add(x)
        if len(seen) > MAX_SUBTREE:
            return math.inf
        stack.append((x, True))
        stack.extend((o, False) for o in x.producer.operands if o not in seen)
    # `order` lists operands before users: walk it backwards from v.
    count = {v: 1.0}
    total = 0.0
    for x in reversed(order):
        ins = x.producer
        t = count.get(x, 0.0)
        if not t:
            continue
        total += t * OP_COST.get(ins.op, DEFAULT_COST)
        if ins.op in REDUCTIONS:
            total += t * _reads_per_element(ins, 0)       # one combine per element read
        for slot, o in enumerate(ins.operands):
            # An elementwise op reading one value twice evaluates it once.
            if o in seen and not (ins.op in ELEMENTWISE and o in ins.operands[:slot]):
                count[o] = count.get(o, 0.0) + t * _reads_per_element(ins, slot)
    return total


def too_costly_to_repeat(reads: int, cost: float, size: int) -> bool:
    """Whether a producer of `size` elements, each costing `cost` and read
    `reads` times, is better computed once into a buffer of its own.

    Cheap ones (a load or two and one op) never are; expensive ones always
    are. In between, the work repeated must outweigh a kernel of its own,
    per element and in all (a label mask of three compares read by ten
    classes is less work than the kernel that would store it)."""
    if reads <= 1 or cost <= CHEAP:
        return False
    if cost >= EXPENSIVE:
        return True
    extra = (reads - 1) * cost
    return extra > REPEAT_BUDGET and extra * size > MIN_REPEATED_WORK


# -- merged row reductions ----------------------------------------------------------------------

def merge_reads_same_index(members, roots, targets) -> bool:
    """Whether the kernel computing `roots` (reductions of one result shape,
    with fused `members` under them; both instructions) reads each value of `targets` only at
    the roots' own output index (softmax's sum reading its row's max): then
    a target stored by the same loop nest is computed once per row.

    Walks index maps from the roots down; an index map this can't follow
    (slice, pad, concatenate, gather, a reshape that does more than add or
    drop size-1 dims) makes every target below it count as read elsewhere.
    """
    members = {ins.result for ins in members}
    shape = roots[0].result.shape
    stack = [(r.result, tuple(("out", d) for d in range(len(shape)))) for r in roots]
    seen = set()
    while stack:
        v, desc = stack.pop()
        if (v, desc) in seen:
            continue
        seen.add((v, desc))
        if v in targets:
            if desc is None or v.shape != shape or any(
                    n != 1 and d != ("out", i) for i, (n, d) in enumerate(zip(v.shape, desc))):
                return False
            continue
        if v not in members or v.producer is None:
            continue
        ins = v.producer
        for slot, o in enumerate(ins.operands):
            stack.append((o, None if desc is None else _operand_index(ins, slot, desc)))
    return True


def _operand_index(ins: Instr, slot: int, desc):
    """The index of operand `slot` read for the element of `ins` at `desc`
    (per dim: ("out", d) the root's dim d, ("loop", ...) a reduction's
    counter, ("zero",) a size-1 dim), or None when it isn't that simple."""
    op = ins.op
    o = ins.operands[slot]
    if op in ELEMENTWISE:
        return desc
    if op in REDUCTIONS:
        axes = ins.attrs["axes"] if op == "reduce" else (ins.attrs["axis"],)
        kept = iter(desc)
        return tuple(("loop", ins, a) if a in axes else next(kept) for a in range(o.type.rank))
    if op == "broadcast":
        return tuple(desc[d] if o.shape[i] == ins.type.shape[d] else ("zero",)
                     for i, d in enumerate(ins.attrs["dims"]))
    if op == "transpose":
        out = [None] * o.type.rank
        for i, p in enumerate(ins.attrs["perm"]):
            out[p] = desc[i]
        return tuple(out)
    if op == "reshape":
        big_in = [i for i, n in enumerate(o.shape) if n != 1]
        big_out = [i for i, n in enumerate(ins.type.shape) if n != 1]
        if [o.shape[i] for i in big_in] != [ins.type.shape[i] for i in big_out]:
            return None
        out = [("zero",)] * o.type.rank
        for i, j in zip(big_in, big_out):
            out[i] = desc[j]
        return tuple(out)
    return None


__all__ = ["ELEMENTWISE", "MOVEMENT", "REDUCTIONS", "OP_COST", "CHEAP", "EXPENSIVE",
           "REPEAT_BUDGET", "MIN_REPEATED_WORK", "Read", "root_reads", "expansion", "reads_through", "times",
           "subtree_cost", "too_costly_to_repeat", "merge_reads_same_index"]
