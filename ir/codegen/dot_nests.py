"""Loop nests for a dot and its elementwise epilogue (part of KernelEmitter).

A float dot whose epilogue keeps its dtype becomes a task function

    void f(ptr A, ptr B, ptr C, ptr extra_0, ..., i64 begin, i64 end)

over blocks of rows of C (or, when rows are few, blocks of columns) of each
batch entry. A call computes its blocks of one batch entry with one call of
the shape-generic GEMM library (ir/codegen/gemm.py) on the submatrices, then
applies the epilogue to those blocks while they are in cache, reading the dot
from C and writing the result over it. The entry calls it once over all
tasks, or splits the tasks across the thread pool: big products, and row
vectors times a big matrix (each thread then reads only its columns of B).

The library functions are emitted into the module (`library="inline"`: a
self-contained module, as an exported library needs) or only declared
(`library="extern"`: the JIT links the process's compiled copy;
`library_symbols` names the ones used). Other dots (integers, epilogues that
change the dtype or read what they overwrite) get a matmul of their own from
ir/codegen/matmul.py, with the epilogue applied to each result vector in
registers.
"""
from __future__ import annotations

import llvmlite.ir as ir

from ..core import CONTRACTIONS
from .elemental import SAME_INDEX, ElementEmitter, Index, unflatten
from .llvm_util import I64, i64, itemsize, loop, mem_type, reg_type

PARALLEL_MIN_FLOPS = 1 << 21    # of a matmul before it is split across threads
PARALLEL_MIN_BYTES = 1 << 18    # of B, for matmuls of few rows (memory-bound)


class DotNests:
    """The matmul nests of KernelEmitter (which provides module, consts, ba,
    prefix, parallel, library, library_symbols, _inputs and _function)."""

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
            if ins.op in CONTRACTIONS:
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
            if u.producer.op in CONTRACTIONS:
                return True
            stack.extend(u.producer.operands)
        return False

    def _matmul(self, k, j, o, dot, members, done):
        a, bm = dot.producer.operands
        extras = [] if o is dot else self._inputs([o], members, done, stop={dot})
        out_loc = self.ba.location(o)
        if dot.producer.op != "dot":
            from .conv_nests import conv_nest
            return conv_nest(self, k, j, o, dot, members, extras)
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
        return _nest_call(kern.function, locs, kern.num_tasks, kern.grain, par, False)

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
        if kind == "packed" and M < 2 * gemm.packed_blocking(dt).mc and N >= 4 * blk.nr:
            # Few rows (one block of A): split the columns, so each thread packs
            # only its part of B instead of all of it.
            by_rows = False
        step = blk.mr if by_rows else blk.nr
        extent = M if by_rows else N
        tpb = max(1, _cdiv(extent, step))
        num_tasks = batch * tpb
        flops = 2 * batch * M * N * K
        task_flops = max(1, 2 * (step * N if by_rows else step * M) * max(K, 1))
        grain = max(1, _cdiv(200_000, task_flops))
        if kind == "packed":       # each chunk packs B (or A) once: keep chunks big
            grain = max(grain, _cdiv(blk.mc, step) if by_rows else _cdiv(tpb, 4))
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
        # Packing, or transposing B, is redone by every call: one chunk per thread.
        # (split by columns, a packed chunk packs only its own columns of B: dealt
        # out as threads free up, a late thread delays nobody)
        dynamic = (kind != "packed" or not by_rows) and not (tb and kind.startswith("direct"))
        return _nest_call(fn, locs, num_tasks, grain, par, dynamic)

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


def _nest_call(fn, locs, n, grain, par, dynamic):
    from .kernels import NestCall      # (kernels.py imports this module)
    return NestCall(fn, locs, n, grain, par, "matmul", dynamic)


def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def _cdiv(a, b):
    return -(-a // b)


def _min(b, x, y):
    return b.select(b.icmp_signed("<", x, y), x, y)
