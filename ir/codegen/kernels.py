"""Loop nests for one fused kernel (a group of instructions).

A kernel stores each of its outputs (the group's values needed elsewhere).
Outputs become one or more loop nests, each an LLVM function

    void nest(ptr noalias buf_0, ..., i64 begin, i64 end)

whose outermost non-trivial loop runs over [begin, end), so the entry can
call it once over the whole range or hand chunks to the thread pool. The
nest kinds:

  loop        outputs of one shape, evaluated at each index of a loop nest
              (a flat loop when only same-index ops are involved);
  reduce_acc  a reduction that keeps the innermost input dim: accumulate
              into the output row by row so the inner loop is contiguous;
  concat      a concatenation root: one nest per operand over its slice;
  argwhere    the coordinates of the true elements: one sequential scan;
  matmul      a dot with the elementwise epilogue that consumes it
              (ir/codegen/dot_nests.py).

Outputs stored by an earlier nest of the same kernel are loaded, not
recomputed, by later ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import llvmlite.ir as ir

from . import scalar_ops as S
from .elemental import SAME_INDEX, ElementEmitter, Index, linearize, load, store
from .dot_nests import DotNests, library_kind  # noqa: F401 - library_kind re-exported
from .llvm_util import I64, PTR, VOID, alloca_entry, const, i64, loop, reg_type

PARALLEL_MIN_WORK = 1 << 16     # elements of work before a nest is split
CHUNK_WORK = 1 << 14            # elements of work per thread chunk, at least
SMALL_WORK = 256                # elements of work below which a nest is size-optimized
TILE = 32                       # tile edge of loop nests over transposes

_LINEAR_OPS = SAME_INDEX | {"rng", "constant"}


@dataclass
class NestCall:
    """One emitted nest and how the entry calls it."""
    function: ir.Function        # void f(ptr..., i64 begin, i64 end)
    args: list                   # buffer locations, in parameter order
    n: int                       # iterations of the split loop
    grain: int                   # minimum iterations per thread chunk
    parallel: bool
    kind: str
    # chunks balanced across threads as they free up (TFC_GRAIN_DYNAMIC); else
    # one chunk per thread (for nests whose calls each redo some setup)
    dynamic: bool = True


def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def _cdiv(a, b):
    return -(-a // b)


class KernelEmitter(DotNests):
    """Emits the nests of kernels into `module`.

    `library`: how float matmuls reach the GEMM library ("inline", "extern"
    or None for a matmul of their own; see ir/codegen/dot_nests.py)."""

    def __init__(self, module, consts, buffers, prefix: str, parallel: bool,
                 use_matmul: bool = True, library: str | None = "inline"):
        if library not in (None, "inline", "extern"):
            raise ValueError(f"library must be 'inline', 'extern' or None, got {library!r}")
        self.module = module
        self.consts = consts
        self.ba = buffers
        self.prefix = prefix
        self.parallel = parallel
        self.use_matmul = use_matmul
        self.library = library
        self.library_symbols = set()

    # -- planning ------------------------------------------------------------
    def emit_kernel(self, k: int, group) -> list[NestCall]:
        members = {ins.result for ins in group}
        outputs = [o for o in self.ba.outputs[k] if o.type.size > 0]
        done = set()          # outputs stored by earlier nests
        calls = []
        pending = []          # outputs of the open "loop" nest, one shape

        def flush():
            if pending:
                calls.append(self._loop_nest(k, len(calls), list(pending), members, done))
                done.update(pending)
                pending.clear()

        for o in outputs:
            op = o.producer.op
            # Pending outputs are stored before a special nest runs.
            dot = (self._matmul_dot(o, members, done | set(pending))
                   if self.use_matmul else None)
            special = None
            if dot is not None:
                special = lambda o=o, dot=dot: [self._matmul(k, len(calls), o, dot, members, done)]
            elif op == "reduce" and self._reduce_acc_ok(o):
                special = lambda o=o: [self._reduce_acc(k, len(calls), o, members, done)]
            elif op == "concatenate" and len(o.producer.operands) > 1:
                special = lambda o=o: self._concat(k, len(calls), o, members, done)
            elif op == "argwhere":
                special = lambda o=o: [self._argwhere(k, len(calls), o, members, done)]
            if special is None:
                if pending and pending[0].shape != o.shape:
                    flush()
                pending.append(o)
                continue
            flush()
            calls.extend(special())
            done.add(o)
        flush()
        return calls

    def _inputs(self, roots, members, done, stop=()):
        """Values the nests computing `roots` read from memory, in a stable order."""
        found, seen = [], set()
        stack = list(roots)
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            ins = v.producer
            if ins is not None and ins.op == "constant":
                continue
            if v in stop:
                continue
            if v not in members or v in done:
                found.append(v)
                continue
            stack.extend(reversed(ins.operands))
        return found

    def _function(self, name, locs, work):
        fn = ir.Function(self.module, ir.FunctionType(VOID, [PTR] * len(locs) + [I64, I64]),
                         self.prefix + name)
        fn.linkage = "internal"
        fn.attributes.add("nounwind")
        if work < SMALL_WORK:
            # Too little work to gain from vectorizing or unrolling: compile it fast.
            fn.attributes.add("optsize")
            fn.attributes.add("minsize")
        # Kept out of line: keeps the entry small and the noalias facts exact.
        fn.attributes.add("noinline")
        for a in fn.args[:len(locs)]:
            # Distinct locations never overlap (in-place pairs share one).
            a.add_attribute("noalias")
        return fn

    def _bind(self, ins_vals, out_vals):
        """Distinct locations for inputs and outputs; Value -> argument position."""
        locs, pos = [], {}
        for v in list(ins_vals) + list(out_vals):
            loc = self.ba.location(v)
            if loc not in locs:
                locs.append(loc)
            pos[v] = locs.index(loc)
        return locs, pos

    def _par(self, n, work):
        if not self.parallel or n < 2 or work < PARALLEL_MIN_WORK:
            return False, max(1, n)
        per = max(1, work // n)
        return True, max(1, _cdiv(CHUNK_WORK, per))

    # -- loop nests -----------------------------------------------------------
    def _loop_nest(self, k, j, outs, members, done):
        inputs = self._inputs(outs, members, done)
        locs, pos = self._bind(inputs, outs)
        # A stored reshape (pool2's output flattened for the dense layer) is
        # the same bytes as its operand: loop over the operand's shape, whose
        # indices the ops under it use directly, not over the reshape's (each
        # element would unflatten its linear index again).
        src = {o: o for o in outs}
        if len(outs) == 1:
            v = outs[0]
            while (v.producer.op == "reshape" and v.producer.operands[0] in members
                   and v.producer.operands[0] not in done):
                v = v.producer.operands[0]
            src[outs[0]] = v
        shape = src[outs[0]].shape
        work = _prod(shape) * _cost(outs, members, done)
        fn = self._function(f"k{k}.{j}", locs, work)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        bufs = {v: fn.args[pos[v]] for v in inputs}
        em = ElementEmitter(b, members, bufs, self.consts)
        begin, end = fn.args[-2:]
        flat = self._flat_ok(outs, members, done)

        def body(idx):
            for o in outs:
                store(b, fn.args[pos[o]], o.dtype, idx.linear(b), em.at(src[o], idx))

        size = _prod(shape)
        if flat:
            with loop(b, begin, end, "i") as i:
                body(Index(shape, linear=i))
            n = size
        elif src[outs[0]] is outs[0] and self._tile_ok(outs, members, done):
            n = _tiled_loops(b, shape, begin, end, lambda dims: body(Index(shape, dims=dims)))
        else:
            n = _nest_loops(b, shape, None, begin, end, lambda dims: body(Index(shape, dims=dims)))
        b.ret_void()
        par, grain = self._par(n, work)
        return NestCall(fn, locs, n, grain, par, "flat" if flat else "loop")

    @staticmethod
    def _tile_ok(outs, members, done):
        """True if a transpose moves the last dim of a large 2-D tile: loop in tiles."""
        shape = outs[0].shape
        if len(shape) < 2 or shape[-1] < 2 * TILE or shape[-2] < 2 * TILE:
            return False
        stack, seen = list(outs), set()
        while stack:
            v = stack.pop()
            ins = v.producer
            if v in seen or ins is None or v in done or v not in members:
                continue
            seen.add(v)
            if ins.op == "transpose" and ins.attrs["perm"][-1] != v.type.rank - 1:
                return True
            if ins.op not in SAME_INDEX and ins.op != "transpose":
                return False
            stack.extend(ins.operands)
        return False

    def _flat_ok(self, outs, members, done):
        """True if only same-index ops (and reshapes of loads) are involved."""
        stack, seen = list(outs), set()
        while stack:
            v = stack.pop()
            ins = v.producer
            if v in seen or ins is None or (v in done) or v not in members:
                continue
            seen.add(v)
            if ins.op == "broadcast":
                x = ins.operands[0]
                if x.type.size != v.type.size:
                    return False
            elif ins.op == "reshape":
                pass
            elif ins.op not in _LINEAR_OPS:
                return False
            stack.extend(ins.operands)
        return True

    # -- reductions keeping the innermost dim -----------------------------------
    @staticmethod
    def _reduce_acc_ok(o):
        x = o.producer.operands[0]
        axes = o.producer.attrs["axes"]
        r = x.type.rank
        return (bool(axes) and r >= 2 and (r - 1) not in axes and x.shape[-1] > 1
                and _prod(x.shape[a] for a in axes) > 1)

    def _reduce_acc(self, k, j, o, members, done):
        ins = o.producer
        x = ins.operands[0]
        kind, axes = ins.attrs["kind"], tuple(ins.attrs["axes"])
        S_ = x.shape
        r = x.type.rank
        last = max(axes)
        kept_lead = [d for d in range(last) if d not in axes]
        tail = list(range(last + 1, r))
        split = next((d for d in kept_lead if S_[d] > 1), None)
        if split is None:
            split = next((d for d in tail if S_[d] > 1), None)
        inputs = self._inputs([o], members, done)
        locs, pos = self._bind(inputs, [o])
        fn = self._function(f"k{k}.{j}.racc", locs, x.type.size * _cost([x], members, done))
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        em = ElementEmitter(b, members, {v: fn.args[pos[v]] for v in inputs}, self.consts)
        begin, end = fn.args[-2:]
        out = fn.args[pos[o]]
        t = reg_type(x.dtype)
        identity = const(t, S.reduce_identity(kind, x.dtype))

        def over(dims_list, base, body):
            return _loops(b, dims_list, S_, base, split, begin, end, body)

        def outer(base):
            def out_lin(d):
                return linearize(b, [d[a] for a in range(r) if a not in axes], o.shape)
            over(tail, base, lambda d: store(b, out, o.dtype, out_lin(d), identity))

            def accumulate(d):
                lin = out_lin(d)
                cur = load(b, out, o.dtype, lin)
                v = em.at(x, Index(S_, dims=d))
                store(b, out, o.dtype, lin, S.reduce_combine(b, kind, cur, v, x.dtype))
            over([a for a in axes if S_[a] > 1], base,
                 lambda d: over(tail, d, accumulate))

        base = [i64(0)] * r
        over(kept_lead, base, outer)
        b.ret_void()
        n = S_[split] if split is not None else 1
        par, grain = self._par(n, x.type.size * _cost([x], members, done))
        return NestCall(fn, locs, n, grain, par, "reduce_acc")

    # -- concatenation roots ----------------------------------------------------
    def _concat(self, k, j, o, members, done):
        ins = o.producer
        ax = ins.attrs["axis"]
        calls, off = [], 0
        for p, x in enumerate(ins.operands):
            n_ax = x.shape[ax]
            if x.type.size == 0:
                off += n_ax
                continue
            inputs = self._inputs([x], members, done)
            locs, pos = self._bind(inputs, [o])
            work = x.type.size * _cost([x], members, done)
            fn = self._function(f"k{k}.{j + len(calls)}.cat{p}", locs, work)
            b = ir.IRBuilder(fn.append_basic_block("entry"))
            em = ElementEmitter(b, members, {v: fn.args[pos[v]] for v in inputs}, self.consts)
            begin, end = fn.args[-2:]
            shift = off

            def body(dims, x=x, em=em, b=b, fn=fn, pos=pos, shift=shift):
                od = list(dims)
                if shift:
                    od[ax] = b.add(dims[ax], i64(shift))
                store(b, fn.args[pos[o]], o.dtype, linearize(b, od, o.shape),
                      em.at(x, Index(x.shape, dims=dims)))
            n = _nest_loops(b, x.shape, None, begin, end, body)
            b.ret_void()
            par, grain = self._par(n, work)
            calls.append(NestCall(fn, locs, n, grain, par, "concat"))
            off += n_ax
        return calls

    # -- argwhere roots ----------------------------------------------------------
    def _argwhere(self, k, j, o, members, done):
        """One scan over the operand in row-major order: each true element's
        coordinates go to the next row of the output, at most `count` rows;
        rows left over (an operand with fewer true elements) are -1."""
        x = o.producer.operands[0]
        count, r = o.shape
        inputs = self._inputs([x], members, done)
        locs, pos = self._bind(inputs, [o])
        fn = self._function(f"k{k}.{j}.where", locs, x.type.size * _cost([x], members, done))
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        em = ElementEmitter(b, members, {v: fn.args[pos[v]] for v in inputs}, self.consts)
        out = fn.args[pos[o]]
        begin, end = fn.args[-2:]
        row = alloca_entry(b, I64, "row")
        b.store(i64(0), row)

        def body(dims):
            n = b.load(row)
            take = b.and_(em.at(x, Index(x.shape, dims=dims)),
                          b.icmp_signed("<", n, i64(count)))
            with b.if_then(take):
                for d in range(r):
                    store(b, out, "i64", b.add(b.mul(n, i64(r)), i64(d)), dims[d])
                b.store(b.add(n, i64(1)), row)

        with loop(b, begin, end, "once"):
            _loops(b, list(range(r)), x.shape, [i64(0)] * r, None, begin, end, body)
            with loop(b, b.mul(b.load(row), i64(r)), i64(count * r), "rest") as i:
                store(b, out, "i64", i, i64(-1))
        b.ret_void()
        return NestCall(fn, locs, 1, 1, False, "argwhere")


def _cost(outs, members, done):
    """Rough work per output element: the extents of loops inside the element."""
    total, stack, seen = 0, list(outs), set()
    while stack:
        v = stack.pop()
        if v in seen or v not in members or (v in done and v not in outs):
            continue
        seen.add(v)
        ins = v.producer
        if ins.op == "reduce":
            total += _prod(ins.operands[0].shape[a] for a in ins.attrs["axes"])
        elif ins.op == "dot":
            a = ins.operands[0]
            total += a.shape[-2] if ins.attrs.get("transpose_a") else a.shape[-1]
        elif ins.op in ("conv2d", "conv2d_filter"):
            # the sum's length: the filter's KH*KW*C, or dy's N*Ho*Wo
            total += _prod(ins.operands[1].shape[:3])
        elif ins.op in ("argmax", "argmin"):
            total += ins.operands[0].shape[ins.attrs["axis"]]
        stack.extend(ins.operands)
    return max(1, total)


def _loops(b, dims_list, shape, base, split, begin, end, body):
    """Nested loops over `dims_list` of `shape`, filling `base`; `split` runs over [begin, end)."""
    def rec(i, cur):
        if i == len(dims_list):
            body(cur)
            return
        d = dims_list[i]
        if d == split:
            lo, hi = begin, end
        elif shape[d] == 1:
            cur = list(cur)
            cur[d] = i64(0)
            rec(i + 1, cur)
            return
        else:
            lo, hi = 0, shape[d]
        with loop(b, lo, hi, f"d{d}") as iv:
            nxt = list(cur)
            nxt[d] = iv
            rec(i + 1, nxt)
    rec(0, list(base))


def _tiled_loops(b, shape, begin, end, body) -> int:
    """A loop nest over `shape` with its last two dims in TILE x TILE tiles.

    For transposes: both the rows read and the rows written stay in cache
    across a tile. The first dim of size > 1 runs over [begin, end).
    """
    r = len(shape)
    da, db = r - 2, r - 1
    split = next((d for d in range(r) if shape[d] > 1), None)

    def tiles(base):
        lo, hi = (begin, end) if split == da else (i64(0), i64(shape[da]))
        with loop(b, lo, hi, "ta", step=TILE) as ta:
            with loop(b, 0, shape[db], "tb", step=TILE) as tb:
                a_end = _min(b, b.add(ta, i64(TILE)), hi)
                b_end = _min(b, b.add(tb, i64(TILE)), i64(shape[db]))
                with loop(b, ta, a_end, "a") as ia:
                    with loop(b, tb, b_end, "b") as ib:
                        dims = list(base)
                        dims[da], dims[db] = ia, ib
                        body(dims)
    _loops(b, list(range(da)), shape, [i64(0)] * r, split, begin, end, tiles)
    return shape[split]


def _min(b, x, y):
    return b.select(b.icmp_signed("<", x, y), x, y)


def _nest_loops(b, shape, _unused, begin, end, body) -> int:
    """A loop nest over `shape`; the first dim of size > 1 runs over [begin, end).

    Returns the split loop's trip count (1 when there is none: then the body
    runs once if begin < end).
    """
    r = len(shape)
    split = next((d for d in range(r) if shape[d] > 1), None)
    if split is None:
        with loop(b, begin, end, "once"):
            body([i64(0)] * r)
        return 1
    _loops(b, list(range(r)), shape, [i64(0)] * r, split, begin, end, body)
    return shape[split]

