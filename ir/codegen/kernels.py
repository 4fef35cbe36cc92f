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
  matmul      a float dot: a task function over blocks of rows (or, for
              few rows, columns) of C that calls the shape-generic GEMM
              library (ir/codegen/gemm.py) on its block, then applies the
              elementwise epilogue to the block while it is in cache; other
              dots (integers, epilogues changing the dtype) get a matmul of
              their own from ir/codegen/matmul.py with the epilogue applied to
              each result vector in registers.

The library functions are emitted into the module (`library="inline"`: a
self-contained module, as an exported library needs) or only declared
(`library="extern"`: the JIT links the process's compiled copy;
`KernelEmitter.library_symbols` names the ones used).

Outputs stored by an earlier nest of the same kernel are loaded, not
recomputed, by later ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import llvmlite.ir as ir

from . import scalar_ops as S
from .elemental import (SAME_INDEX, ElementEmitter, Index, linearize, load, store,
                        unflatten)
from .llvm_util import I64, PTR, VOID, const, i64, itemsize, loop, mem_type, reg_type

PARALLEL_MIN_WORK = 1 << 16     # elements of work before a nest is split
CHUNK_WORK = 1 << 14            # elements of work per thread chunk, at least
PARALLEL_MIN_FLOPS = 1 << 21    # for matmuls
PARALLEL_MIN_BYTES = 1 << 18    # of B, for matmuls of few rows (memory-bound)
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


def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def _cdiv(a, b):
    return -(-a // b)


class KernelEmitter:
    """Emits the nests of kernels into `module`."""

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
        shape = outs[0].shape
        inputs = self._inputs(outs, members, done)
        locs, pos = self._bind(inputs, outs)
        work = _prod(shape) * _cost(outs, members, done)
        fn = self._function(f"k{k}.{j}", locs, work)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        bufs = {v: fn.args[pos[v]] for v in inputs}
        em = ElementEmitter(b, members, bufs, self.consts)
        begin, end = fn.args[-2:]
        flat = self._flat_ok(outs, members, done)

        def body(idx):
            for o in outs:
                store(b, fn.args[pos[o]], o.dtype, idx.linear(b), em.at(o, idx))

        size = _prod(shape)
        if flat:
            with loop(b, begin, end, "i") as i:
                body(Index(shape, linear=i))
            n = size
        elif self._tile_ok(outs, members, done):
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

    # -- matmul with epilogue -----------------------------------------------------
    def _matmul_dot(self, o, members, done):
        """The dot `o` is (or consumes element by element), if a matmul can compute o."""
        try:
            from . import matmul  # noqa: F401
        except ImportError:
            return None
        dot = None
        stack, seen = [o], set()
        while stack:
            v = stack.pop()
            if v in seen or v not in members or (v in done and v is not o):
                continue
            seen.add(v)
            ins = v.producer
            if ins.op == "dot":
                if dot is not None and dot is not v:
                    return None
                dot = v
                continue
            if ins.op in SAME_INDEX:
                stack.extend(ins.operands)
            elif self._reaches_dot(v, members, done):
                return None
        if dot is None or dot.shape != o.shape:
            return None
        for x in dot.producer.operands:
            if x in members and x not in done and x.producer.op != "constant":
                return None
        return dot

    @staticmethod
    def _reaches_dot(v, members, done):
        stack, seen = [v], set()
        while stack:
            u = stack.pop()
            if u in seen or u not in members or u in done:
                continue
            seen.add(u)
            if u.producer.op == "dot":
                return True
            stack.extend(u.producer.operands)
        return False

    def _matmul(self, k, j, o, dot, members, done):
        a, bm = dot.producer.operands
        extras = [] if o is dot else self._inputs([o], members, done, stop={dot})
        out_loc = self.ba.location(o)
        if (self.library is not None and dot.dtype in ("f32", "f64") and o.dtype == dot.dtype
                and all(self.ba.location(v) != out_loc for v in [a, bm] + extras)):
            return self._matmul_lib(k, j, o, dot, members, extras)
        return self._matmul_own(k, j, o, dot, members, extras)

    def _matmul_own(self, k, j, o, dot, members, extras):
        from .matmul import emit_matmul
        a, bm = dot.producer.operands
        ta = bool(dot.producer.attrs.get("transpose_a", False))
        tb = bool(dot.producer.attrs.get("transpose_b", False))
        K = a.shape[-2] if ta else a.shape[-1]
        batch_shape = dot.shape[:-2]
        M, N = dot.shape[-2:]
        consts = self.consts

        def epilogue(b, acc, bidx, row, col0, extra_ptrs):
            em = ElementEmitter(b, members, dict(zip(extras, extra_ptrs)), consts)
            bdims = unflatten(b, bidx, batch_shape) if batch_shape else []
            idx = Index(o.shape, dims=bdims + [row, col0])
            width = acc.type.count if isinstance(acc.type, ir.VectorType) else 1
            return em.vector_at(o, idx, width, {dot: acc})

        kern = emit_matmul(self.module, f"{self.prefix}k{k}.{j}.mm", dot.dtype,
                           _prod(batch_shape), M, N, K, ta, tb,
                           epilogue=None if o is dot else epilogue, n_extra=len(extras))
        locs = [self.ba.location(a), self.ba.location(bm), self.ba.location(o)]
        locs += [self.ba.location(v) for v in extras]
        par = self.parallel and kern.num_tasks >= 2 and kern.flops >= PARALLEL_MIN_FLOPS
        return NestCall(kern.function, locs, kern.num_tasks, kern.grain, par, "matmul")

    def _library_function(self, kind, dtype):
        from . import gemm
        name = gemm.symbol(kind, dtype)
        if self.library == "inline":
            return gemm.emit_library(self.module, dtype, (kind,), internal=True)[kind]
        self.library_symbols.add(name)
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ir.Function(self.module, gemm.signature(), name)
        return fn

    def _matmul_lib(self, k, j, o, dot, members, extras):
        """void f(A, B, C, extras.., begin, end): tasks are blocks of rows (or
        columns) of one batch entry; a call runs the library on the blocks of
        its range (one library call per batch entry), then the epilogue."""
        from . import gemm
        a, bm = dot.producer.operands
        ta = bool(dot.producer.attrs.get("transpose_a", False))
        tb = bool(dot.producer.attrs.get("transpose_b", False))
        K = a.shape[-2] if ta else a.shape[-1]
        batch_shape = dot.shape[:-2]
        batch = _prod(batch_shape)
        M, N = dot.shape[-2:]
        dt = dot.dtype
        kind = library_kind(dt, M, N, K, ta, tb)
        lib = self._library_function(kind, dt)
        blk = _blocking(dt)
        flags = (gemm.TRANS_A if ta else 0) | (gemm.TRANS_B if tb else 0)
        lda, ldb = (M if ta else K), (K if tb else N)
        # split rows unless there are too few of them for a few threads
        by_rows = M >= 4 * blk.mr or N < 2 * blk.nr
        step = blk.mr if by_rows else blk.nr
        extent = M if by_rows else N
        tpb = max(1, _cdiv(extent, step))
        num_tasks = batch * tpb
        flops = 2 * batch * M * N * K
        task_flops = max(1, 2 * (step * N if by_rows else step * M) * max(K, 1))
        grain = max(1, _cdiv(200_000, task_flops))
        if kind == "packed":       # each chunk packs B (or A) once: keep chunks big
            grain = max(grain, _cdiv(blk.mc, step) if by_rows else 1)
        grain = min(grain, num_tasks)

        locs = [self.ba.location(a), self.ba.location(bm), self.ba.location(o)]
        locs += [self.ba.location(v) for v in extras]
        work = flops // 2 + M * N * batch
        fn = self._function(f"k{k}.{j}.mm", locs, work)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        A, B, C = fn.args[:3]
        xptrs = list(fn.args[3:3 + len(extras)])
        begin, end = fn.args[-2:]
        T = reg_type(dt)

        def gep(p, i):
            return b.gep(p, [i], inbounds=True, source_etype=T)

        with _task_batches(b, begin, end, tpb) as (bidx, t0, t1):
            lo = b.mul(t0, i64(step))
            hi = _min(b, b.mul(t1, i64(step)), i64(extent))
            a_b = gep(A, b.mul(bidx, i64(M * K)))
            b_b = gep(B, b.mul(bidx, i64(K * N)))
            c_b = gep(C, b.mul(bidx, i64(M * N)))
            if by_rows:
                args = [gep(a_b, lo if ta else b.mul(lo, i64(lda))), b_b,
                        gep(c_b, b.mul(lo, i64(N))), b.sub(hi, lo), i64(N), i64(K)]
                r0, r1, c0, c1 = lo, hi, i64(0), i64(N)
            else:
                args = [a_b, gep(b_b, b.mul(lo, i64(ldb)) if tb else lo), gep(c_b, lo),
                        i64(M), b.sub(hi, lo), i64(K)]
                r0, r1, c0, c1 = i64(0), i64(M), lo, hi
            b.call(lib, args + [i64(lda), i64(ldb), i64(N), i64(flags)])
            if o is not dot:
                self._epilogue(b, o, dot, members, C, dict(zip(extras, xptrs)), bidx,
                               batch_shape, r0, r1, c0, c1, blk.lanes)
        b.ret_void()
        # Worth threads when the arithmetic is big, or when B is big enough that
        # reading it is the cost (a row vector times a matrix): each thread
        # reads only its columns.
        b_bytes = K * N * batch * itemsize(dt)
        par = self.parallel and num_tasks >= 2 and (
            flops >= PARALLEL_MIN_FLOPS or (not by_rows and b_bytes >= PARALLEL_MIN_BYTES))
        if par and not by_rows:
            grain = min(grain, max(1, num_tasks // 2))
        return NestCall(fn, locs, num_tasks, grain, par, "matmul")

    def _epilogue(self, b, o, dot, members, C, xbufs, bidx, batch_shape, r0, r1, c0, c1, W):
        """o over rows [r0, r1) x columns [c0, c1) of batch entry `bidx`, reading
        the dot from C (o's own buffer) and writing o there, W lanes at a time."""
        bufs = dict(xbufs)
        bufs[dot] = C
        bdims = unflatten(b, bidx, batch_shape) if batch_shape else []
        cv = b.add(c0, b.mul(b.sdiv(b.sub(c1, c0), i64(W)), i64(W)))
        with loop(b, r0, r1, "er") as r:
            for lo, hi, w in ((c0, cv, W), (cv, c1, 1)):
                with loop(b, lo, hi, f"ec{w}", step=w) as c:
                    em = ElementEmitter(b, members, bufs, self.consts)
                    idx = Index(o.shape, dims=bdims + [r, c])
                    v = em.vector_at(o, idx, w, {})
                    b.store(v, b.gep(C, [idx.linear(b)], inbounds=True,
                                     source_etype=mem_type(o.dtype)), align=itemsize(o.dtype))


def library_kind(dtype, M, N, K, ta, tb) -> str:
    """Which GEMM library function computes a dot of this shape (see gemm.py)."""
    from .matmul import _SCALARS
    size = _SCALARS[dtype][1]
    b_bytes = K * N * size
    # Packing pays once B stops fitting in L2 next to everything else (the
    # direct path streams all of B once per block of rows), given rows enough
    # to spread the cost of packing it.
    if min(M, N, K) > 0 and M >= 16 and N >= 16 and M * N * K > 64 ** 3 and (
            b_bytes > 1 << 20 or N > 1024 or (b_bytes > 1 << 19 and M >= 256)):
        return "packed"
    if tb and not ta and M < 4 and K >= 16:
        return "dot"
    return "direct_t" if ta else "direct_n"


def _blocking(dtype):
    from .matmul import choose_blocking
    return choose_blocking(dtype)


class _task_batches:
    """Splits tasks [begin, end) (tpb per batch entry) into per-entry ranges:
    `with _task_batches(b, begin, end, tpb) as (bidx, t0, t1):` runs the body
    once per batch entry with its task range [t0, t1) relative to the entry."""

    def __init__(self, b, begin, end, tpb):
        self.b, self.begin, self.end, self.tpb = b, begin, end, tpb

    def __enter__(self):
        b = self.b
        fn = b.function
        pre = b.block
        self.head = fn.append_basic_block("task.head")
        body = fn.append_basic_block("task.body")
        self.done = fn.append_basic_block("task.done")
        b.branch(self.head)
        b.position_at_end(self.head)
        self.t = b.phi(I64, name="t")
        self.t.add_incoming(self.begin, pre)
        b.cbranch(b.icmp_signed("<", self.t, self.end), body, self.done)
        b.position_at_end(body)
        tpb = i64(self.tpb)
        bidx = b.sdiv(self.t, tpb, name="bidx")
        base = b.mul(bidx, tpb)
        self.stop = _min(b, self.end, b.add(base, tpb))
        return bidx, b.sub(self.t, base), b.sub(self.stop, base)

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        b = self.b
        self.t.add_incoming(self.stop, b.block)
        b.branch(self.head)
        b.position_at_end(self.done)
        return False


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

