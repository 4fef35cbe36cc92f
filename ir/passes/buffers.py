"""Buffer assignment: where each value that crosses kernels lives.

Given a function and its kernel schedule (groups of instructions, run in
order), every value needing memory gets one location:

  ("param", i)    a parameter's own buffer (parameters, and a variable's new
                  value written in place when that is safe)
  ("result", j)   the caller-allocated buffer of result j (a kernel writes
                  a returned value there directly)
  ("arena", off)  a 64-byte aligned offset into the scratch arena
  ("const", v)    the constant value v: its global in the generated code

Arena space is reused by liveness over the schedule: a value's buffer is
free once the last kernel reading it has run, and an elementwise kernel may
write its output in place over an operand that dies at that kernel (same
byte size, read only at the element being written).

Results that are not written directly (a parameter, a constant, a value
returned twice, a variable's new value that can't be written in place) are
copied at the end: first into fresh result buffers, then into parameter
buffers (aliased results), so every read of an old parameter value comes
before the write. A parameter copied into another parameter's buffer that
is itself overwritten is snapshotted into the arena at the start.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core import (BINARY_OPS, COMPARE_OPS, CONTRACTIONS, UNARY_OPS, Function, Instr, IRError,
                    Value)

ALIGN = 64
# Ops whose element i reads its operands only at element i (of equal size).
ELEMENTWISE_OPS = frozenset(UNARY_OPS + BINARY_OPS + COMPARE_OPS + ("select", "convert"))
SAME_INDEX_OPS = ELEMENTWISE_OPS | {"reshape"}
# Ops whose element is a loop over many operand elements.
_LOOP_OPS = frozenset(("reduce", "argmax", "argmin"))
# Ops whose codegen may use the output buffer as scratch: never in place.
_SCRATCH_OPS = CONTRACTIONS | {"reduce"}


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Copy:
    dst: tuple          # a location
    src: tuple
    nbytes: int
    what: str           # for messages and IR comments


@dataclass
class BufferAssignment:
    locations: dict = field(default_factory=dict)    # Value -> location
    arena_bytes: int = 0
    outputs: list = field(default_factory=list)      # per kernel: values it must store
    snapshots: list = field(default_factory=list)    # Copy, before the first kernel
    copies: list = field(default_factory=list)       # Copy, after the last kernel, in order
    in_place: list = field(default_factory=list)     # (value, operand it overwrote)
    reuse: bool = True

    def location(self, v: Value) -> tuple:
        try:
            return self.locations[v]
        except KeyError:
            raise IRError(f"%{v.name} has no buffer (it is not read across kernels "
                          f"nor returned)") from None

    def offset(self, v: Value) -> int:
        """The arena offset of `v` (which must live in the arena)."""
        kind, off = self.location(v)
        if kind != "arena":
            raise IRError(f"%{v.name} lives in {kind}, not in the arena")
        return off


def default_kernels(fn: Function) -> list[list[Instr]]:
    """One kernel per instruction, in body order."""
    return [[ins] for ins in fn.body]


def check_schedule(fn: Function, kernels) -> dict:
    """Validates the schedule; returns {Value: kernel index} for values defined in kernels."""
    defined = {}
    params = set(fn.params)
    for k, group in enumerate(kernels):
        if not group:
            raise IRError(f"kernel {k} is empty")
        for ins in group:
            if ins.result in defined:
                raise IRError(f"{ins.op} %{ins.result.name} appears in kernels "
                              f"{defined[ins.result]} and {k}")
            defined[ins.result] = k
    for k, group in enumerate(kernels):
        local = set()
        for ins in group:
            for o in ins.operands:
                if o in params or o in local or (
                        o.producer is not None and o.producer.op == "constant"):
                    continue
                where = defined.get(o)
                if where is None:
                    raise IRError(f"kernel {k}: {ins.op} %{ins.result.name} uses %{o.name}, "
                                  f"which no kernel computes")
                if where >= k:
                    raise IRError(f"kernel {k}: {ins.op} %{ins.result.name} uses %{o.name} "
                                  f"before kernel {where} computes it (group order within a "
                                  f"kernel must follow dependencies)")
            local.add(ins.result)
    for i, r in enumerate(fn.results):
        if r not in params and r not in defined and r.producer.op != "constant":
            raise IRError(f"result {i} ({fn.result_names[i] if i < len(fn.result_names) else ''}) "
                          f"%{r.name} is computed by no kernel")
    return defined


def group_outputs(fn: Function, kernels, defined=None) -> list[list[Value]]:
    """Per kernel, the values it must store, in group order.

    Those used by later kernels or returned, and the loop-carrying values
    (reduce, argmax/argmin, and a dot read other than element by element)
    that other instructions of the same kernel read: stored once by an
    earlier loop nest of the kernel, they are loaded instead of recomputed
    for every element that reads them. Operands of a dot are stored too, so
    the packed matmul reads them from memory.
    """
    defined = defined if defined is not None else check_schedule(fn, kernels)
    needed = set(fn.results)
    for k, group in enumerate(kernels):
        for ins in group:
            for o in ins.operands:
                if defined.get(o, k) != k:
                    needed.add(o)
                elif o.producer is not None and o.producer.op != "constant" and (
                        o.producer.op in _LOOP_OPS or ins.op in CONTRACTIONS
                        or (o.producer.op in CONTRACTIONS and ins.op not in ELEMENTWISE_OPS)):
                    needed.add(o)
    return [[ins.result for ins in g if ins.result in needed and ins.op != "constant"]
            for g in kernels]


def reads_only_at_same_index(group, out: Value, src: Value, outputs) -> bool:
    """Whether writing `out` element by element over `src`'s buffer is safe.

    True if, within `group`, every path from `out` to `src` goes through ops
    that read element i to write element i, no dot (whose kernel may keep
    partial sums in its output) is among what `out` computes, and no other
    output of the group reads `src`.
    """
    members = {ins.result: ins for ins in group}
    if out not in members or out.type.nbytes != src.type.nbytes or out.type.size != src.type.size:
        return False
    memo = {}

    def reaches(v):
        if v is src:
            return True
        if v not in memo:
            memo[v] = False   # no cycles in SSA; guards re-entry only
            ins = members.get(v)
            memo[v] = ins is not None and any(reaches(o) for o in ins.operands)
        return memo[v]

    if any(o is not out and reaches(o) for o in outputs):
        return False
    stack, seen = [out], set()
    while stack:
        v = stack.pop()
        ins = members.get(v)
        if ins is None or v in seen:
            continue
        seen.add(v)
        if ins.op in _SCRATCH_OPS:
            return False
        if reaches(v) and ins.op not in SAME_INDEX_OPS:
            return False
        stack.extend(ins.operands)
    return True


class _Arena:
    """First-fit allocation over [0, size) with reuse of freed blocks."""

    def __init__(self, reuse: bool):
        self.live = {}        # Value -> (offset, size)
        self.size = 0
        self.reuse = reuse

    def alloc(self, v: Value, nbytes: int) -> int:
        n = _align(nbytes)
        if n == 0:
            return 0
        off = self.size
        if self.reuse:
            pos = 0
            for o, s in sorted(self.live.values()):
                if o - pos >= n:
                    off = pos
                    break
                pos = max(pos, o + s)
            else:
                off = pos
        self.live[v] = (off, n)
        self.size = max(self.size, off + n)
        return off

    def take_over(self, new: Value, old: Value):
        self.live[new] = self.live.pop(old)

    def free(self, v: Value):
        if self.reuse:
            self.live.pop(v, None)


def assign_buffers(fn: Function, kernels=None, reuse: bool = True) -> BufferAssignment:
    """Locations for every value read across kernels or returned; see the module doc."""
    kernels = default_kernels(fn) if kernels is None else kernels
    defined = check_schedule(fn, kernels)
    outputs = group_outputs(fn, kernels, defined)
    END = len(kernels)
    ba = BufferAssignment(outputs=outputs, reuse=reuse)
    loc = ba.locations
    pidx = {p: i for i, p in enumerate(fn.params)}
    for p, i in pidx.items():
        loc[p] = ("param", i)
    for ins in fn.body:
        if ins.op == "constant":
            loc[ins.result] = ("const", ins.result)
    _check_aliases(fn)

    # Last reader of each value: a kernel index, or END for a final copy.
    last = {}
    for k, group in enumerate(kernels):
        for ins in group:
            for o in ins.operands:
                if defined.get(o, -1) != k:
                    last[o] = max(last.get(o, -1), k)
    for j, r in enumerate(fn.results):
        if fn.aliases.get(j) != pidx.get(r, -1):
            last[r] = END

    # Returned kernel values are written straight into their destination
    # when that is safe; everything else is a final copy.
    written = set()       # params overwritten by a kernel or a final copy
    result_copies = []
    for j, r in enumerate(fn.results):
        target = fn.aliases.get(j)
        if target is not None and pidx.get(r) == target:
            continue      # a variable returned unchanged, in place
        if target is not None:
            written.add(target)
        if r in defined and r not in loc:
            k = defined[r]
            if target is None:
                loc[r] = ("result", j)
                continue
            tparam = fn.params[target]
            if last.get(tparam, -1) <= k and reads_only_at_same_index(
                    kernels[k], r, tparam, outputs[k]):
                loc[r] = ("param", target)
                continue
        result_copies.append(j)

    arena = _Arena(reuse)
    # A param copied into a param buffer that is overwritten: snapshot first.
    snap = {}
    for j in result_copies:
        r = fn.results[j]
        if fn.aliases.get(j) is not None and r in pidx and pidx[r] in written and r not in snap:
            snap[r] = arena.alloc(("snapshot", r), r.type.nbytes)
            ba.snapshots.append(Copy(("arena", snap[r]), loc[r], r.type.nbytes,
                                     f"snapshot of {fn.param_names[pidx[r]]}"))

    for k, group in enumerate(kernels):
        reads = {o for ins in group for o in ins.operands if defined.get(o, -1) != k}
        for v in outputs[k]:
            if v in loc:
                continue
            for u in sorted(reads, key=lambda x: x.name):
                lu = loc.get(u)
                # In place over an arena operand dying here (never a param).
                if (reuse and lu is not None and lu[0] == "arena" and last.get(u) == k
                        and u in arena.live
                        and reads_only_at_same_index(group, v, u, outputs[k])):
                    loc[v] = lu
                    arena.take_over(v, u)
                    ba.in_place.append((v, u))
                    reads.discard(u)
                    break
            else:
                loc[v] = ("arena", arena.alloc(v, v.type.nbytes))
        for u in reads:
            if last.get(u) == k:
                arena.free(u)
    ba.arena_bytes = arena.size

    # Final copies: fresh result buffers first, then parameter buffers.
    fresh, into_params = [], []
    for j in result_copies:
        r, target = fn.results[j], fn.aliases.get(j)
        src = ("arena", snap[r]) if r in snap else loc[r]
        name = fn.result_names[j] if j < len(fn.result_names) else f"out{j}"
        if target is None:
            fresh.append(Copy(("result", j), src, r.type.nbytes, f"result {name}"))
        else:
            into_params.append(Copy(("param", target), src, r.type.nbytes,
                                    f"result {name} into {fn.param_names[target]}"))
    ba.copies = fresh + into_params
    return ba


def _check_aliases(fn: Function):
    targets = {}
    for j, p in fn.aliases.items():
        if not 0 <= j < len(fn.results) or not 0 <= p < len(fn.params):
            raise IRError(f"alias result {j} -> param {p} is out of range "
                          f"({len(fn.results)} results, {len(fn.params)} params)")
        if fn.results[j].type != fn.params[p].type:
            raise IRError(f"result {j} ({fn.result_names[j]}) of type {fn.results[j].type} "
                          f"can't update param {p} ({fn.param_names[p]}) of type "
                          f"{fn.params[p].type} in place")
        if p in targets:
            raise IRError(f"results {targets[p]} and {j} both update param {p} "
                          f"({fn.param_names[p]}) in place")
        targets[p] = j
