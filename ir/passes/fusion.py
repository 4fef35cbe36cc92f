"""Fusion: group instructions into kernels, each emitted as one loop nest.

A kernel stores only its root (the value later kernels or the results
need); everything else in it is computed in registers where the root's
element needs it. Instructions are visited consumers first, and each one
either joins the kernel of its consumers or becomes the root of a new one:

  (a) loop fusion: elementwise ops (unary, binary, compare, select,
      convert) and movement ops (broadcast, reshape, transpose, slice,
      reverse, pad, concatenate, iota, gather) join their consumers' kernel;
  (b) reductions (reduce, argmax, argmin) are always roots, with their
      elementwise producers fused in; a reduction whose result is read by
      another reduction of the same shape at its own row index (softmax's
      max and sum) shares its kernel, so both come from one loop over the
      rows, and softmax takes two passes over memory: max and sum, then exp
      and divide;
  (c) a dot is a root unless its only consumers are elementwise ops on the
      path to the kernel's root, element for element (bias add through a
      broadcast, relu): then the dot joins that kernel and the epilogue runs
      as the matmul writes each result vector.

Fusion never multiplies work. A fused value is recomputed for every read,
so before a producer joins, `reuse.py` walks the index maps from the
kernel's root down to it and counts the most times one of its elements is
read (a broadcast's copies, the 25 overlapping taps of a 5x5 im2col, a
gather's indices, a value concatenated twice). A producer read more than
once per element joins only when it is cheap to compute again (a load or
two and one op, like a convert or a negation). An expensive one, counting
what would fuse under it (a 2x2 max pool of relu(conv + bias) is 11 ops; a
transcendental; rng), is a root, computed once per element and stored; one
in between (two or three ops) is a root when the work repeated is more
than a kernel of its own would cost. Index maps always join: the ops they
read decide for themselves.

A value must be a root when it is a function result, a dot operand, a
reduction read more than once per element, or has no consumer. A producer
used by several kernels is cloned into each of them when that is cheap
(its per-element cost with what fuses under it, times the extra copies,
within DUP_BUDGET), otherwise it is a root stored once. A value stored for
either reason whose consumers include a reshape that would be a kernel of
its own (a dot operand in another shape) is computed straight into that
reshape's buffer, and its other consumers read it through a reshape back.
Constants are in no kernel: the codegen reads them where they are used.

`run(fn)` returns statistics with the schedule under "groups" (lists of the
function's instructions, in run order) and each kernel's kind under "kinds".
"""
from __future__ import annotations

import heapq

from ..core import CONTRACTIONS, Function, Instr
from . import reuse
from .reuse import ELEMENTWISE, MOVEMENT, REDUCTIONS
from .rewrite import Namer

DUP_BUDGET = 6         # per-element cost cloned into other kernels (softmax's exp(x - max): 5)
MAX_DUP_KERNELS = 4    # kernels a chain is cloned into at most


class _Kernel:
    __slots__ = ("members", "roots", "epi", "has_dot", "kind")

    def __init__(self, root: Instr):
        self.members = [root]
        self.roots = [root]
        # Values the root reads element for element through elementwise ops
        # only: a dot joining here is computed by the matmul with an epilogue.
        self.epi = {root.result} if root.op in ELEMENTWISE else set()
        self.has_dot = root.op in CONTRACTIONS
        self.kind = ("dot" if root.op in CONTRACTIONS else "reduce" if root.op in REDUCTIONS
                     else "loop")


def _accumulates(ins: Instr) -> bool:
    """A reduction the codegen runs row by row into its output (it keeps the
    innermost dim): fast alone, strided if computed inside a consumer's loop."""
    x = ins.operands[0]
    axes = ins.attrs.get("axes", (ins.attrs.get("axis"),))
    r = x.type.rank
    return (ins.op == "reduce" and r >= 2 and (r - 1) not in axes and x.shape[-1] > 1
            and any(x.shape[a] > 1 for a in axes))


class _Fuser:
    def __init__(self, fn: Function):
        self.fn = fn
        self.namer = Namer(fn)
        self.results = set(fn.results)
        self.users = {}
        for ins in fn.body:
            for o in dict.fromkeys(ins.operands):
                self.users.setdefault(o, []).append(ins)
        self.kernel_of: dict[Instr, _Kernel] = {}
        self.reads = {}       # Value -> how its kernel reads it (reuse.Read list)
        self.times = {}       # Value -> most evaluations of one element in its kernel
        self.costs = {}       # Value -> per-element cost with what would fuse under it
        self.clones = {}      # Instr -> clones to place before it in the body
        self.after = {}       # Instr -> instructions moved or added right after it
        self.moved = set()    # instructions in `after` lists, out of their old place
        self.duplicated = 0
        self.stored = 0       # producers made roots because they'd be read repeatedly

    # -- decisions ---------------------------------------------------------
    def visit(self, ins: Instr):
        if ins.op == "constant":
            return
        v = ins.result
        cons = [c for c in self.users.get(v, []) if c in self.kernel_of]
        if not cons and v not in self.results:
            return                                   # dead: no kernel
        kernels = list(dict.fromkeys(self.kernel_of[c] for c in cons))
        if v in self.results or not cons or any(c.op in CONTRACTIONS for c in cons):
            return self.new_root(ins)
        by_kernel = {k: [c for c in cons if self.kernel_of[c] is k] for k in kernels}
        reads = {k: self._reads(v, mine) for k, mine in by_kernel.items()}
        if ins.op in REDUCTIONS:
            k = kernels[0]
            if (len(kernels) == 1 and not k.has_dot and not _accumulates(ins)
                    and all(c.op in ELEMENTWISE and c.type.shape == v.type.shape for c in cons)):
                if reuse.times(reads[k]) <= 1:
                    return self.join(ins, k, cons, reads[k])
                self.stored += 1
            return self.new_root(ins)
        if ins.op in CONTRACTIONS:
            k = kernels[0]
            # (a convolution's epilogue is computed over its result in place:
            # whatever of it the kernel stores must have its type)
            if (len(kernels) == 1 and not k.has_dot and all(c.result in k.epi for c in cons)
                    and (ins.op == "dot" or all(v.type == ins.result.type for v in k.epi))):
                k.has_dot = True
                k.kind = "dot"
                return self.join(ins, k, cons, reads[k])
            return self.new_root(ins)
        if ins.op != "rng" and ins.op not in ELEMENTWISE and ins.op not in MOVEMENT:
            return self.new_root(ins)
        # Read more than once per element: only what is cheap to compute again
        # joins. Index maps join always; the ops they read decide for themselves.
        worst = max(reuse.times(r) for r in reads.values())
        if (worst > 1 and reuse.OP_COST.get(ins.op, reuse.DEFAULT_COST) > 0
                and reuse.too_costly_to_repeat(worst, self._cost(v), v.type.size)):
            self.stored += 1
            return self.store(ins, cons)
        if len(kernels) == 1:
            return self.join(ins, kernels[0], cons, reads[kernels[0]])
        # Consumers in several kernels: clone into each, or store once.
        if (ins.op == "rng" or len(kernels) > MAX_DUP_KERNELS
                or self._cost(v) * (len(kernels) - 1) > DUP_BUDGET or self._from_dot(ins)):
            return self.store(ins, cons)
        for i, k in enumerate(kernels):
            mine = by_kernel[k]
            target = ins if i == 0 else self._clone(ins, mine)
            self.join(target, k, mine, reads[k] if i == 0 else self._reads(target.result, mine))
        self.duplicated += len(kernels) - 1

    def _reads(self, v, consumers):
        return reuse.reads_through(v, consumers, self.reads.__getitem__, self.times.__getitem__)

    def _cost(self, v) -> float:
        """Per-element cost of `v` with the producers that would fuse under it."""
        c = self.costs.get(v)
        if c is None:
            c = self.costs[v] = reuse.subtree_cost(v, self._stored_anyway)
        return c

    def _stored_anyway(self, x) -> bool:
        """Values under a producer that are read from memory whatever it decides:
        parameters, constants, results, dots and their operands, and reductions
        (which never join a kernel that reads them more than once per element)."""
        p = x.producer
        return (p is None or p.op == "constant" or p.op in CONTRACTIONS or p.op in REDUCTIONS
                or x in self.results
                or any(u.op in CONTRACTIONS for u in self.users.get(x, ())))

    def _from_dot(self, ins: Instr) -> bool:
        """Whether `ins` is computed element for element from a dot, through
        producers used only here (cloning it would mean a second matmul, or lose
        the dot's epilogue)."""
        stack, seen = [ins], set()
        while stack:
            i = stack.pop()
            if i in seen or len(seen) > 32:
                continue
            seen.add(i)
            for o in i.operands:
                p = o.producer
                if p is None or o.type.shape != ins.type.shape:
                    continue
                if p.op in CONTRACTIONS:
                    return True
                if p.op in ELEMENTWISE and len(self.users.get(o, ())) == 1:
                    stack.append(p)
        return False

    def _clone(self, ins: Instr, consumers) -> Instr:
        new = Instr(ins.op, ins.operands, ins.attrs, ins.type, self.namer.fresh())
        for c in consumers:
            c.operands = [new.result if o is ins.result else o for o in c.operands]
        self.users[ins.result] = [c for c in self.users[ins.result] if c not in consumers]
        self.users[new.result] = list(consumers)
        for o in dict.fromkeys(ins.operands):
            self.users.setdefault(o, []).append(new)
        self.clones.setdefault(ins, []).append(new)
        return new

    def store(self, ins: Instr, cons):
        """Makes `ins` computed once into a buffer. When a consumer is a reshape
        that is a kernel of its own (a dot operand: a copy), `ins` is computed
        into that kernel instead, and the other consumers read the reshape's
        buffer through a reshape back: one kernel, no copy."""
        copy = next((c for c in cons if c.op == "reshape"
                     and self.kernel_of[c].members == [c] and c.result not in self.results), None)
        if copy is None or self._from_dot(ins):
            return self.new_root(ins)           # (a dot's epilogue stores it at no cost)
        v = ins.result
        k = self.kernel_of[copy]
        others = [c for c in cons if c is not copy]
        backs = []
        for dst in dict.fromkeys(self.kernel_of[c] for c in others):
            mine = [c for c in others if self.kernel_of[c] is dst]
            back = Instr("reshape", [copy.result], {"shape": v.type.shape}, v.type,
                         self.namer.fresh())
            for c in mine:
                c.operands = [back.result if o is v else o for o in c.operands]
            self.users.setdefault(copy.result, []).append(back)
            self.users[back.result] = list(mine)
            backs.append(back)
            self.join(back, dst, mine, self._reads(back.result, mine))
        self.users[v] = [copy]
        self.join(ins, k, [copy], self._reads(v, [copy]))
        # The copy moves up to right after `ins`, the reshapes back after it,
        # before any consumer.
        self.after[ins] = [copy] + backs
        self.moved.add(copy)

    def new_root(self, ins: Instr):
        k = _Kernel(ins)
        self.kernel_of[ins] = k
        self.reads[ins.result] = reuse.root_reads(ins)
        self.times[ins.result] = 1

    def join(self, ins: Instr, k: _Kernel, cons, reads):
        self.kernel_of[ins] = k
        k.members.append(ins)
        v = ins.result
        self.reads[v] = reads
        self.times[v] = reuse.times(reads)
        if (ins.op in ELEMENTWISE or ins.op in CONTRACTIONS) and all(
                c.result in k.epi and c.op in ELEMENTWISE for c in cons):
            if ins.op not in CONTRACTIONS:
                k.epi.add(v)

    # -- sibling reductions --------------------------------------------------
    def merge_reductions(self, order):
        """Puts reductions that read other reductions' results of the same shape
        (softmax's sum and its max) in one kernel: one loop over the rows.
        Only where every read is at the reader's own row: a row read through a
        concatenate or by another row's element would be recomputed per read."""
        merged = 0
        for k in order:
            if not self._all_reductions(k):
                continue
            shape = k.roots[0].result.shape
            for m_ins in self._read_roots(k):
                src = self.kernel_of[m_ins]
                if (src is k or not self._all_reductions(src)
                        or src.roots[0].result.shape != shape
                        or not all(self._needed_elsewhere(r, k) for r in src.roots)
                        or not reuse.merge_reads_same_index(
                            k.members, k.roots, {r.result for r in src.roots})
                        or self._path_through_others(src, k)):
                    continue
                for ins in src.members:
                    self.kernel_of[ins] = k
                k.members = src.members + k.members
                k.roots = src.roots + k.roots
                src.members, src.roots = [], []
                merged += 1
        return merged

    @staticmethod
    def _all_reductions(k: _Kernel) -> bool:
        return (bool(k.roots) and k.kind == "reduce"
                and all(r.op in REDUCTIONS and r.result.shape == k.roots[0].result.shape
                        for r in k.roots))

    def _read_roots(self, k):
        mine = set(k.members)
        out = []
        for ins in k.members:
            for o in ins.operands:
                p = o.producer
                if p is not None and p not in mine and p in self.kernel_of and p not in out:
                    out.append(p)
        return out

    def _needed_elsewhere(self, root: Instr, k: _Kernel) -> bool:
        """Each root of the kernel merged into k must stay an output (a result,
        or read by a third kernel), so the codegen stores it before the
        reductions that read it instead of recomputing it per element."""
        v = root.result
        src = self.kernel_of[root]
        return v in self.results or any(self.kernel_of.get(c) not in (None, k, src)
                                         for c in self.users.get(v, []))

    def _path_through_others(self, src: _Kernel, dst: _Kernel) -> bool:
        """Whether a third kernel reads src and (transitively) feeds dst."""
        readers = self._kernel_readers()
        stack = [r for r in readers.get(id(src), ()) if r is not dst]
        seen = set()
        while stack:
            k = stack.pop()
            if k is dst:
                return True
            if id(k) in seen:
                continue
            seen.add(id(k))
            stack.extend(readers.get(id(k), ()))
        return False

    def _kernel_readers(self):
        readers = {}
        for ins, k in self.kernel_of.items():
            for o in ins.operands:
                p = o.producer
                src = self.kernel_of.get(p) if p is not None else None
                if src is not None and src is not k:
                    lst = readers.setdefault(id(src), [])
                    if k not in lst:
                        lst.append(k)
        return readers

    # -- output ---------------------------------------------------------------
    def schedule(self, kernels):
        """Kernels in dependency order, each as close to its root's place as possible."""
        pos = {ins: i for i, ins in enumerate(self.fn.body)}
        deps = {id(k): set() for k in kernels}
        users = {id(k): [] for k in kernels}
        for k in kernels:
            for ins in k.members:
                for o in ins.operands:
                    p = o.producer
                    src = self.kernel_of.get(p) if p is not None else None
                    if src is not None and src is not k and id(src) not in deps[id(k)]:
                        deps[id(k)].add(id(src))
                        users[id(src)].append(k)
        key = {id(k): max(pos[i] for i in k.members) for k in kernels}
        heap = [(key[id(k)], id(k), k) for k in kernels if not deps[id(k)]]
        heapq.heapify(heap)
        out = []
        while heap:
            _, _, k = heapq.heappop(heap)
            out.append(k)
            for u in users[id(k)]:
                deps[id(u)].discard(id(k))
                if not deps[id(u)]:
                    heapq.heappush(heap, (key[id(u)], id(u), u))
        if len(out) != len(kernels):
            raise AssertionError("internal: fusion made a cycle of kernels")
        return [(sorted(k.members, key=pos.__getitem__), k.kind) for k in out]


def run(fn: Function) -> dict:
    fz = _Fuser(fn)
    for ins in reversed(fn.body):
        fz.visit(ins)
    if fz.clones or fz.after:
        body = []
        for ins in fn.body:
            if ins in fz.moved:
                continue
            body.extend(reversed(fz.clones.get(ins, ())))
            body.append(ins)
            body.extend(fz.after.get(ins, ()))
        fn.body = body
    kernels = list(dict.fromkeys(fz.kernel_of[i] for i in reversed(fn.body)
                                 if i in fz.kernel_of))
    kernels.reverse()
    merged = fz.merge_reductions(kernels)
    kernels = [k for k in kernels if k.members]
    groups = fz.schedule(kernels)
    in_kernels = sum(len(g) for g, _ in groups)
    return {
        "groups": [g for g, _ in groups],
        "kinds": [kind for _, kind in groups],
        "kernels": len(groups),
        "fused": in_kernels - len(groups),
        "duplicated": fz.duplicated,
        "stored_for_reuse": fz.stored,
        "merged_reductions": merged,
    }
