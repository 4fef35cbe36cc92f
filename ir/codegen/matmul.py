"""Batched matrix multiply emitted as LLVM IR, for the `dot` op on the CPU.

`emit_matmul` adds one function to an llvmlite module:

    void name(ptr A, ptr B, ptr C, ptr extra_0, ..., i64 task_begin, i64 task_end)

computing C[b] = op(A[b]) @ op(B[b]) (row-major, contiguous; op transposes the
last two dims when the flag is set) for the tasks in [task_begin, task_end).
A task is a block of `rows_per_task` rows of C of one batch entry, so a caller
can hand disjoint task ranges to threads; one call over a range covers
consecutive rows and reuses its packed panels across them. C must not alias
A, B or the extra buffers (the arguments are declared noalias).

Two paths, chosen by `use_blocked` from the shape:
- blocked: panels of op(B) (KC x NC) and op(A) (MC x KC) are packed into
  stack buffers (at most STACK_LIMIT bytes per call, so any thread with the
  usual 8 MiB stack can run it) as k-major slivers, and a micro-kernel keeps
  an MR x NR tile of C in vector registers, accumulating with FMA.
- direct: no packing; rows x (up to 4 vectors) of C in registers, reading A
  and B in place. It wins while B stays in cache, for few rows (a row vector
  times a matrix) or few columns, and takes integer dtypes and empty dims.
  With B transposed it computes dot products along K instead.

The optional epilogue `epilogue(builder, acc, b_idx, row, col0, extra_ptrs)`
sees every result vector just before its store: `acc` is always an LLVM vector
<W x T> (W is the full width, or a smaller power of two on a ragged right
edge, down to 1) holding row `row`, columns col0 .. col0+W-1 of batch `b_idx`
(all i64); it returns the vector to store. With K = 0 it sees zeros.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import llvmlite.ir as ir

from ...runtime.llvm_target import host_cpu

STACK_LIMIT = 512 * 1024   # bytes of packing buffers per call
I64 = ir.IntType(64)
I32 = ir.IntType(32)
PTR = ir.PointerType()
_SCALARS = {"f32": (ir.FloatType(), 4), "f64": (ir.DoubleType(), 8),
            "i32": (ir.IntType(32), 4), "i64": (ir.IntType(64), 8)}


@dataclass
class MatmulKernel:
    """An emitted matmul: call `function` over task ranges within [0, num_tasks)."""
    function: ir.Function
    num_tasks: int
    flops: int
    grain: int              # suggested minimum tasks per thread chunk
    rows_per_task: int
    path: str               # "blocked" (packed panels) or "direct"
    lanes: int              # vector width W used for full vectors


@dataclass(frozen=True)
class Blocking:
    """Register and cache blocking of the packed path."""
    lanes: int              # W, elements per vector register
    mr: int                 # rows of the register tile
    nrv: int                # vectors per row of the register tile (NR = nrv * W)
    kc: int                 # depth of a packed panel
    mc: int                 # rows of a packed A block (multiple of mr)
    nc: int                 # columns of a packed B panel (multiple of NR)
    use_fma: bool
    unroll: int = 4         # k steps per micro-kernel loop trip
    b_inner: bool = True    # macro-kernel loop order: B slivers innermost

    def __post_init__(self):
        if min(self.lanes, self.mr, self.nrv, self.kc, self.mc, self.nc, self.unroll) < 1 or \
                self.mc % self.mr or self.nc % self.nr or self.kc % self.unroll:
            raise ValueError(f"bad matmul blocking {self}: sizes must be positive, mc a "
                             f"multiple of mr, nc of nr = nrv * lanes and kc of unroll")

    @property
    def nr(self):
        return self.nrv * self.lanes


def _features(features: str | None) -> set[str]:
    if features is None:
        features = host_cpu()[2]
    return {f[1:] for f in features.split(",") if f.startswith("+")}


def choose_blocking(dtype: str, features: str | None = None, n: int | None = None,
                    **override) -> Blocking:
    """Tile sizes for `dtype` on a CPU with `features` (default: this host).

    A C narrower than the register tile (`n` columns) gets narrower vectors
    and taller tiles. `override` sets any Blocking field; mc and nc are then
    rounded to multiples of mr and nr, and nc shrunk to the stack budget.
    """
    feats = _features(features)
    size = _SCALARS[dtype][1]
    if "avx512f" in feats:
        vbytes, regs = 64, 32
    elif "avx2" in feats or "avx" in feats:
        vbytes, regs = 32, 16
    else:                            # SSE2 or anything else
        vbytes, regs = 16, 16
    budget = 24 if regs == 32 else 12    # accumulators; the rest hold B and A
    lanes, nrv = vbytes // size, (4 if regs == 32 else 2)
    if n is not None and n < nrv * lanes:
        while lanes > 16 // size and lanes // 2 >= n:
            lanes //= 2
        nrv = max(1, min(nrv, _cdiv(n, lanes)))
    p = dict(use_fma="fma" in feats or "avx512f" in feats, kc=256 if size == 4 else 128,
             unroll=4, lanes=lanes, nrv=nrv, mr=budget // nrv)
    p.update(override)
    nr = p["nrv"] * p["lanes"]
    mc = p["mr"] * max(1, _cdiv(p.pop("mc", 96), p["mr"]))
    tile = p["mr"] * nr * size               # the micro-kernel's ragged-edge tile
    room = (STACK_LIMIT - tile - mc * p["kc"] * size) // (p["kc"] * size * nr)
    nc = nr * max(1, min(room, p.pop("nc", 1 << 30) // nr))
    return Blocking(mc=mc, nc=nc, **p)


def _cdiv(a, b):
    return -(-a // b)


class _Gen:
    """Builder helpers shared by the emitted functions of one matmul."""

    def __init__(self, module, dtype, lanes, use_fma):
        self.module = module
        self.dtype = dtype
        self.T, self.size = _SCALARS[dtype]
        self.is_float = dtype in ("f32", "f64")
        self.lanes = lanes
        self.use_fma = use_fma and self.is_float
        self.b: ir.IRBuilder | None = None

    def c(self, v):
        return ir.Constant(I64, v)

    def vec(self, w):
        return ir.VectorType(self.T, w)

    def zero(self, w):
        z = 0.0 if self.is_float else 0
        return ir.Constant(self.vec(w), [z] * w)

    def gep(self, p, i):
        return self.b.gep(p, [i], inbounds=True, source_etype=self.T)

    def load(self, p, i, w):
        """Load w elements at p[i] as a <w x T> vector (unaligned)."""
        return self.b.load(self.gep(p, i), typ=self.vec(w), align=self.size)

    def store(self, v, p, i):
        self.b.store(v, self.gep(p, i), align=self.size)

    def alloca(self, count, name):
        """A 64-byte aligned stack array of `count` elements, as an opaque pointer."""
        a = self.b.alloca(ir.ArrayType(self.T, count), name=name)
        a.align = 64
        a.type = PTR    # llvmlite types alloca results; the module text is opaque anyway
        return a

    def load_scalar(self, p, i):
        return self.b.load(self.gep(p, i), typ=self.T, align=self.size)

    def splat(self, x, w):
        v = self.b.insert_element(ir.Constant(self.vec(w), None), x, ir.Constant(I32, 0))
        return self.b.shuffle_vector(v, ir.Constant(self.vec(w), None),
                                     ir.Constant(ir.VectorType(I32, w), [0] * w))

    def madd(self, a, x, acc):
        """acc + a * x, fused where the target has FMA."""
        b = self.b
        if self.is_float:
            fn = self.intrinsic("llvm.fma" if self.use_fma else "llvm.fmuladd", a.type,
                                [a.type] * 3)
            return b.call(fn, [a, x, acc])
        return b.add(b.mul(a, x), acc)

    def add(self, x, y):
        return self.b.fadd(x, y) if self.is_float else self.b.add(x, y)

    def hsum(self, v):
        """Horizontal sum of a vector (reassociation allowed: it is a dot product)."""
        if self.is_float:
            fn = self.intrinsic("llvm.vector.reduce.fadd", self.T, [self.T, v.type], v.type)
            return self.b.call(fn, [ir.Constant(self.T, -0.0), v], fastmath=("reassoc",))
        fn = self.intrinsic("llvm.vector.reduce.add", self.T, [v.type], v.type)
        return self.b.call(fn, [v])

    def intrinsic(self, base, ret, args, overload=None):
        """Declare (once) the overloaded intrinsic `base` for a vector type."""
        t = overload or ret
        elem = {"float": "f32", "double": "f64", "i32": "i32", "i64": "i64"}[str(t.element)]
        name = f"{base}.v{t.count}{elem}"
        if name in self.module.globals:
            return self.module.globals[name]
        return ir.Function(self.module, ir.FunctionType(ret, args), name=name)

    def min(self, x, y):
        return self.b.select(self.b.icmp_signed("<", x, y), x, y)

    @contextmanager
    def loop(self, start, stop, step=1, name="i"):
        """for (i = start; i < stop; i += step) -- yields i."""
        b = self.b
        fn = b.function
        pre = b.block
        head = fn.append_basic_block(name + ".head")
        body = fn.append_basic_block(name + ".body")
        done = fn.append_basic_block(name + ".done")
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(I64, name=name)
        i.add_incoming(start, pre)
        b.cbranch(b.icmp_signed("<", i, stop), body, done)
        b.position_at_end(body)
        yield i
        i.add_incoming(b.add(i, step if isinstance(step, ir.Value) else self.c(step)), b.block)
        b.branch(head)
        b.position_at_end(done)

    @contextmanager
    def if_then(self, cond, name="if"):
        b = self.b
        then = b.function.append_basic_block(name + ".then")
        done = b.function.append_basic_block(name + ".end")
        b.cbranch(cond, then, done)
        b.position_at_end(then)
        yield
        b.branch(done)
        b.position_at_end(done)

    def acc_loop(self, start, stop, step, accs, body, name="k"):
        """Loop carrying values: accs = body(kk, accs) for kk in range(start, stop, step)."""
        b = self.b
        fn = b.function
        pre = b.block
        head = fn.append_basic_block(name + ".head")
        work = fn.append_basic_block(name + ".body")
        done = fn.append_basic_block(name + ".done")
        b.branch(head)
        b.position_at_end(head)
        kk = b.phi(I64, name=name)
        kk.add_incoming(start, pre)
        phis = []
        for a in accs:
            p = b.phi(a.type, name="acc")
            p.add_incoming(a, pre)
            phis.append(p)
        b.cbranch(b.icmp_signed("<", kk, stop), work, done)
        b.position_at_end(work)
        new = body(kk, phis)
        kk.add_incoming(b.add(kk, self.c(step)), b.block)
        for p, a in zip(phis, new):
            p.add_incoming(a, b.block)
        b.branch(head)
        b.position_at_end(done)
        return phis

    def store_result(self, epilogue, last, v, p, i, bidx, row, col, extras):
        """Store v at p[i], through the epilogue when `last` (a bool or an i1)."""
        if epilogue is None or last is False:
            self.store(v, p, i)
            return
        if last is True:
            self.store(epilogue(self.b, v, bidx, row, col, list(extras)), p, i)
            return
        with self.b.if_else(last) as (then, otherwise):
            with then:
                self.store(epilogue(self.b, v, bidx, row, col, list(extras)), p, i)
            with otherwise:
                self.store(v, p, i)

    def new_function(self, name, arg_names, internal=False):
        fnty = ir.FunctionType(ir.VoidType(), [I64 if n.startswith("%") else PTR
                                               for n in arg_names])
        fn = ir.Function(self.module, fnty, name=name)
        for a, n in zip(fn.args, arg_names):
            a.name = n.lstrip("%")
        for a, n in zip(fn.args, arg_names):
            if not n.startswith("%"):
                a.add_attribute("noalias")
        fn.attributes.add("nounwind")
        if internal:
            fn.linkage = "internal"
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))
        return fn


def _pow2_chunks(n, w):
    """Split n into vector widths that are powers of two, at most w each."""
    out, off = [], 0
    while off < n:
        c = w
        while c > n - off:
            c //= 2
        out.append((off, c))
        off += c
    return out


def _task_rows(g: _Gen, fn, rows_per_task, m, body):
    """Split [task_begin, task_end) into per-batch row ranges; body(bidx, r0, r1)."""
    b = g.b
    tpb = max(1, _cdiv(m, rows_per_task))
    tb, te = fn.args[-2], fn.args[-1]
    pre = b.block
    head = fn.append_basic_block("task.head")
    work = fn.append_basic_block("task.body")
    done = fn.append_basic_block("task.done")
    b.branch(head)
    b.position_at_end(head)
    t = b.phi(I64, name="t")
    t.add_incoming(tb, pre)
    b.cbranch(b.icmp_signed("<", t, te), work, done)
    b.position_at_end(work)
    bidx = b.sdiv(t, g.c(tpb), name="bidx")
    base = b.mul(bidx, g.c(tpb))
    stop = g.min(te, b.add(base, g.c(tpb)))
    r0 = b.mul(b.sub(t, base), g.c(rows_per_task), name="r0")
    r1 = g.min(b.mul(b.sub(stop, base), g.c(rows_per_task)), g.c(m))
    body(bidx, r0, r1)
    t.add_incoming(stop, g.b.block)
    g.b.branch(head)
    g.b.position_at_end(done)
    g.b.ret_void()


def direct_rows(n, lanes, budget, group=4):
    """Rows per register block of the direct path (accumulators <= budget)."""
    return max(1, min(24, budget // max(len(w) for _, _, w in _col_plan(n, lanes, group))))


def _col_plan(n, W, group=4):
    """Cover columns [0, n) with [(lo, hi, widths)]: a loop over [lo, hi) by
    sum(widths) computing one vector per width -- groups of `group` full
    vectors, then one pass over the rest: full vectors and halving widths."""
    plan, j = [], 0
    if n >= group * W:
        j = n - n % (group * W)
        plan.append((0, j, [W] * group))
    widths, w = [W] * ((n - j) // W), W // 2
    while w >= 1:
        if (n - j) % (2 * w) >= w:
            widths.append(w)
        w //= 2
    if widths:
        plan.append((j, n, widths))
    return plan or [(0, 0, [1])]


def _emit_direct(g: _Gen, fn, m, n, k, ta, tb, epilogue, extras, rows, dot):
    """No packing: `rows` rows of C at a time, vectorized along N and register
    blocked over rows and columns; or, with `dot`, one dot product along K per
    element (B transposed, A not)."""
    A, B, C = fn.args[:3]

    def body(bidx, r0, r1):
        b = g.b
        a_b = g.gep(A, b.mul(bidx, g.c(m * k)))
        b_b = g.gep(B, b.mul(bidx, g.c(k * n)))
        c_b = g.gep(C, b.mul(bidx, g.c(m * n)))
        if dot:
            with g.loop(r0, r1, name="i") as i:
                _simple_dot_row(g, a_b, b_b, c_b, i, bidx, n, k, epilogue, extras)
            return
        # tasks are `rows` rows, so only a batch's last block is short: m % rows rows
        full = b.add(r0, b.mul(b.sdiv(b.sub(r1, r0), g.c(rows)), g.c(rows)))

        def row_block(i, rb):
            for jlo, jhi, widths in _col_plan(n, g.lanes):
                if jlo < jhi:
                    with g.loop(g.c(jlo), g.c(jhi), step=sum(widths), name="j") as j:
                        _direct_block(g, a_b, b_b, c_b, i, rb, j, widths, bidx, m, n, k,
                                      ta, tb, epilogue, extras)
        with g.loop(r0, full, step=rows, name="i") as i:
            row_block(i, rows)
        if m % rows:
            with g.if_then(b.icmp_signed("<", full, r1), "rest"):
                row_block(full, m % rows)

    _task_rows(g, fn, rows, m, body)


def _direct_block(g, a_b, b_b, c_b, i, rb, j, widths, bidx, m, n, k, ta, tb, epilogue, extras):
    """C[i:i+rb, j:j+sum(widths)] from A and B in place, rb x len(widths) accumulators."""
    b = g.b
    offs = [sum(widths[:q]) for q in range(len(widths))]
    cols = [b.add(j, g.c(o)) if o else j for o in offs]

    def step(kk, accs):
        bvs = []
        for w, jj in zip(widths, cols):
            if tb:      # a gather; the dot-product form takes the large cases
                bv = ir.Constant(g.vec(w), None)
                for e in range(w):
                    x = g.load_scalar(b_b, b.add(b.mul(b.add(jj, g.c(e)), g.c(k)), kk))
                    bv = b.insert_element(bv, x, ir.Constant(I32, e))
            else:
                bv = g.load(b_b, b.add(b.mul(kk, g.c(n)), jj), w)
            bvs.append(bv)
        out = []
        for r in range(rb):
            ir_ = b.add(i, g.c(r)) if r else i
            a = g.load_scalar(a_b, b.add(b.mul(kk, g.c(m)), ir_) if ta
                              else b.add(b.mul(ir_, g.c(k)), kk))
            splats = {w: g.splat(a, w) for w in sorted(set(widths))}
            for q, w in enumerate(widths):
                out.append(g.madd(splats[w], bvs[q], accs[r * len(widths) + q]))
        return out
    accs = g.acc_loop(g.c(0), g.c(k), 1, [g.zero(w) for _ in range(rb) for w in widths], step)
    for r in range(rb):
        ir_ = b.add(i, g.c(r)) if r else i
        for q, (w, jj) in enumerate(zip(widths, cols)):
            g.store_result(epilogue, True, accs[r * len(widths) + q], c_b,
                           b.add(b.mul(ir_, g.c(n)), jj), bidx, ir_, jj, extras)


def _simple_dot_row(g, a_b, b_b, c_b, i, bidx, n, k, epilogue, extras):
    """C[i, j] = A[i, :] . Bt[j, :], both rows contiguous along K."""
    b = g.b
    W = g.lanes
    kv = k - k % W
    arow = b.mul(i, g.c(k))
    with g.loop(g.c(0), g.c(n), name="j") as j:
        brow = b.mul(j, g.c(k))

        def vstep(kk, accs):
            return [g.madd(g.load(a_b, b.add(arow, kk), W), g.load(b_b, b.add(brow, kk), W),
                           accs[0])]
        acc, = g.acc_loop(g.c(0), g.c(kv), W, [g.zero(W)], vstep)
        s = b.insert_element(ir.Constant(g.vec(1), None), g.hsum(acc), ir.Constant(I32, 0))

        def sstep(kk, accs):
            return [g.madd(g.load(a_b, b.add(arow, kk), 1), g.load(b_b, b.add(brow, kk), 1),
                           accs[0])]
        s, = g.acc_loop(g.c(kv), g.c(k), 1, [s], sstep)
        g.store_result(epilogue, True, s, c_b, b.add(b.mul(i, g.c(n)), j), bidx, i, j, extras)


def _emit_pack(g: _Gen, name, R, sx, sk):
    """pack(src, dst, x0, xn, k0, kc, kcp): slivers of R along x, k-major.

    dst[s*R*kcp + kk*R + r] = src[(x0 + x)*sx + (k0 + kk)*sk] with
    x = min(s*R + r, xn - 1) for kk < kc, and 0 for kc <= kk < kcp (kcp
    rounds kc up to the micro-kernel's unroll). Rows past xn repeat the last
    one: they only feed tile rows that are never stored, while the k padding
    must be zero since it adds into real sums. Used for A (x = rows) and B
    (x = columns).
    """
    fn = g.new_function(name, ["src", "dst", "%x0", "%xn", "%k0", "%kc", "%kcp"],
                        internal=True)
    src, dst, x0, xn, k0, kc, kcp = fn.args
    b = g.b
    nfull = b.sdiv(xn, g.c(R))
    with g.loop(g.c(0), b.sdiv(b.add(xn, g.c(R - 1)), g.c(R)), name="s") as s:
        sbase = b.mul(s, g.c(R))
        dbase = b.mul(sbase, kcp)
        if sx == 1:     # a sliver row is contiguous in the source: vector copies
            with b.if_else(b.icmp_signed("<", s, nfull)) as (then, otherwise):
                with then:
                    with g.loop(g.c(0), kc, name="kk") as kk:
                        soff = b.add(b.add(x0, sbase), b.mul(b.add(k0, kk), g.c(sk)))
                        doff = b.add(dbase, b.mul(kk, g.c(R)))
                        for off, w in _pow2_chunks(R, g.lanes):
                            g.store(g.load(src, b.add(soff, g.c(off)), w),
                                    dst, b.add(doff, g.c(off)))
                with otherwise:     # the ragged last sliver
                    last = b.sub(xn, g.c(1))
                    with g.loop(g.c(0), kc, name="kr") as kk:
                        with g.loop(g.c(0), g.c(R), name="r") as r:
                            si = b.add(b.add(x0, g.min(b.add(sbase, r), last)),
                                       b.mul(b.add(k0, kk), g.c(sk)))
                            g.store(g.load_scalar(src, si), dst,
                                    b.add(dbase, b.add(b.mul(kk, g.c(R)), r)))
        else:           # contiguous along k
            with b.if_else(b.icmp_signed("<", s, nfull)) as (then, otherwise):
                with then:      # R rows side by side, at constant offsets
                    sb = b.add(b.mul(b.add(x0, sbase), g.c(sx)), k0)
                    with g.loop(g.c(0), kc, name="kk") as kk:
                        doff = b.add(dbase, b.mul(kk, g.c(R)))
                        for r in range(R):
                            g.store(g.load_scalar(src, b.add(b.add(sb, kk), g.c(r * sx))),
                                    dst, b.add(doff, g.c(r)))
                with otherwise:     # the ragged last sliver
                    last = b.sub(xn, g.c(1))
                    with g.loop(g.c(0), kc, name="kr") as kk:
                        doff = b.add(dbase, b.mul(kk, g.c(R)))
                        for r in range(R):
                            x = g.min(b.add(sbase, g.c(r)), last)
                            si = b.add(b.add(b.mul(b.add(x0, x), g.c(sx)), k0), kk)
                            g.store(g.load_scalar(src, si), dst, b.add(doff, g.c(r)))
        with g.loop(kc, kcp, name="kz") as kk:
            doff = b.add(dbase, b.mul(kk, g.c(R)))
            for off, w in _pow2_chunks(R, g.lanes):
                g.store(g.zero(w), dst, b.add(doff, g.c(off)))
    b.ret_void()
    return fn


def _emit_micro(g: _Gen, name, blk: Blocking, ldc, n_extra, epilogue):
    """micro(ap, bp, c, extras.., kc, mr, nr, first, last, bidx, row, col).

    C[row:row+mr, col:col+nr] (+)= Ap-sliver @ Bp-sliver over kc steps, with
    MR x NR accumulators in registers; `first` starts from zero instead of C,
    `last` applies the epilogue. Ragged tiles go through a stack tile.
    """
    MR, NRV, W, NR = blk.mr, blk.nrv, blk.lanes, blk.nr
    extra_names = [f"extra_{i}" for i in range(n_extra)]
    fn = g.new_function(name, ["ap", "bp", "c"] + extra_names +
                        ["%kc", "%mr", "%nr", "%first", "%last", "%bidx", "%row", "%col"],
                        internal=True)
    ap, bp, cp = fn.args[:3]
    extras = fn.args[3:3 + n_extra]
    kc, mr, nr, first, last, bidx, row, col = fn.args[3 + n_extra:]
    b = g.b
    tile = g.alloca(MR * NR, "tile")
    full = b.and_(b.icmp_signed("==", mr, g.c(MR)), b.icmp_signed("==", nr, g.c(NR)))
    first = b.icmp_signed("!=", first, g.c(0))
    last = b.icmp_signed("!=", last, g.c(0))
    cidx = [[g.c(r * ldc + v * W) for v in range(NRV)] for r in range(MR)]
    entry = b.block
    init_c = fn.append_basic_block("init_c")
    start = fn.append_basic_block("start")
    b.cbranch(b.and_(full, b.not_(first)), init_c, start)
    b.position_at_end(init_c)
    loaded = [g.load(cp, cidx[r][v], W) for r in range(MR) for v in range(NRV)]
    b.branch(start)
    b.position_at_end(start)
    accs = []
    for x in loaded:
        p = b.phi(x.type)
        p.add_incoming(x, init_c)
        p.add_incoming(g.zero(W), entry)
        accs.append(p)

    def kstep(kk, accs, count):
        accs = list(accs)
        for u in range(count):
            ku = b.add(kk, g.c(u)) if u else kk
            bvs = [g.load(bp, b.add(b.mul(ku, g.c(NR)), g.c(v * W)), W) for v in range(NRV)]
            for r in range(MR):
                a = g.splat(g.load_scalar(ap, b.add(b.mul(ku, g.c(MR)), g.c(r))), W)
                for v in range(NRV):
                    accs[r * NRV + v] = g.madd(a, bvs[v], accs[r * NRV + v])
        return accs

    # kc is a multiple of the unroll: the packed panels are zero-padded
    accs = g.acc_loop(g.c(0), kc, blk.unroll, accs, lambda kk, a: kstep(kk, a, blk.unroll),
                      name="k")

    with b.if_else(full) as (then, otherwise):
        with then:
            for r in range(MR):
                for v in range(NRV):
                    g.store_result(epilogue, last, accs[r * NRV + v], cp, cidx[r][v], bidx,
                                   b.add(row, g.c(r)), b.add(col, g.c(v * W)), extras)
        with otherwise:
            for r in range(MR):
                for v in range(NRV):
                    g.store(accs[r * NRV + v], tile, g.c(r * NR + v * W))
            _store_ragged(g, tile, cp, ldc, NR, mr, nr, first, last, bidx, row, col,
                          extras, epilogue)
    b.ret_void()
    return fn


def _store_ragged(g, tile, cp, ldc, NR, mr, nr, first, last, bidx, row, col, extras, epilogue):
    """C[:mr, :nr] = (first ? 0 : C) + tile, through the epilogue when last.

    Full vectors first, then at most one vector of each halved width."""
    b = g.b
    W = g.lanes
    nv = b.mul(b.sdiv(nr, g.c(W)), g.c(W))

    def chunk(r, j, w):
        ci = b.add(b.mul(r, g.c(ldc)), j)
        t = g.load(tile, b.add(b.mul(r, g.c(NR)), j), w)
        v = b.select(first, t, g.add(t, g.load(cp, ci, w)))
        g.store_result(epilogue, last, v, cp, ci, bidx, b.add(row, r), b.add(col, j), extras)

    with g.loop(g.c(0), mr, name="er") as r:
        with g.loop(g.c(0), nv, step=W, name="ecw") as j:
            chunk(r, j, W)
        j, w = nv, W // 2
        while w >= 1:
            ok = b.icmp_signed(">=", b.sub(nr, j), g.c(w))
            with g.if_then(ok, f"ec{w}"):
                chunk(r, j, w)
            j = b.select(ok, b.add(j, g.c(w)), j)
            w //= 2


def _emit_blocked(g: _Gen, fn, name, blk: Blocking, m, n, k, ta, tb, n_extra, epilogue):
    """Cache-blocked loops over packed panels around the micro-kernel."""
    MR, NR = blk.mr, blk.nr
    U = blk.unroll
    kce = min(blk.kc, _cdiv(k, U) * U)
    mcp = min(blk.mc, _cdiv(m, MR) * MR)
    ncp = min(blk.nc, _cdiv(n, NR) * NR)
    b_save = g.b
    pack_a = _emit_pack(g, name + ".pack_a", MR, 1 if ta else k, m if ta else 1)
    pack_b = _emit_pack(g, name + ".pack_b", NR, k if tb else 1, 1 if tb else n)
    micro = _emit_micro(g, name + ".micro", blk, n, n_extra, epilogue)
    g.b = b_save
    b = g.b
    A, B, C = fn.args[:3]
    extras = list(fn.args[3:3 + n_extra])
    abuf = g.alloca(mcp * kce, "apack")
    bbuf = g.alloca(ncp * kce, "bpack")

    def body(bidx, r0, r1):
        a_b = g.gep(A, b.mul(bidx, g.c(m * k)))
        b_b = g.gep(B, b.mul(bidx, g.c(k * n)))
        c_b = g.gep(C, b.mul(bidx, g.c(m * n)))
        with g.loop(g.c(0), g.c(n), step=blk.nc, name="jc") as jc:
            nc = g.min(g.c(blk.nc), b.sub(g.c(n), jc))
            with g.loop(g.c(0), g.c(k), step=blk.kc, name="pc") as pc:
                kc = g.min(g.c(blk.kc), b.sub(g.c(k), pc))
                kcp = b.mul(b.sdiv(b.add(kc, g.c(U - 1)), g.c(U)), g.c(U))
                b.call(pack_b, [b_b, bbuf, jc, nc, pc, kc, kcp])
                first = b.zext(b.icmp_signed("==", pc, g.c(0)), I64)
                last = b.zext(b.icmp_signed(">=", b.add(pc, kc), g.c(k)), I64)
                with g.loop(r0, r1, step=blk.mc, name="ic") as ic:
                    mc = g.min(g.c(blk.mc), b.sub(r1, ic))
                    b.call(pack_a, [a_b, abuf, ic, mc, pc, kc, kcp])

                    def tile(jr, ir_):
                        row, col = b.add(ic, ir_), b.add(jc, jr)
                        b.call(micro, [g.gep(abuf, b.mul(ir_, kcp)),
                                       g.gep(bbuf, b.mul(jr, kcp)),
                                       g.gep(c_b, b.add(b.mul(row, g.c(n)), col))] + extras +
                               [kcp, g.min(g.c(MR), b.sub(mc, ir_)),
                                g.min(g.c(NR), b.sub(nc, jr)), first, last, bidx, row, col])
                    if blk.b_inner:     # an A sliver stays in L1, B streams from L2
                        with g.loop(g.c(0), mc, step=MR, name="ir") as ir_:
                            with g.loop(g.c(0), nc, step=NR, name="jr") as jr:
                                tile(jr, ir_)
                    else:               # a B sliver stays in L1, A streams from L2
                        with g.loop(g.c(0), nc, step=NR, name="jr") as jr:
                            with g.loop(g.c(0), mc, step=MR, name="ir") as ir_:
                                tile(jr, ir_)

    _task_rows(g, fn, MR, m, body)


def use_blocked(dtype, m, n, k, ta, tb, lanes) -> bool:
    """Whether packing pays off (measured on AVX-512; the direct path wins
    while B stays in L2 and where rows or columns are few)."""
    if dtype not in ("f32", "f64") or min(m, n, k) == 0 or m * n * k <= 64 ** 3:
        return False
    if tb:      # the direct path needs dot products (or gathers with ta)
        return m >= 32 and n >= 32 if not ta else n > 16
    size = _SCALARS[dtype][1]
    return m >= 16 and (k * n * size > 1 << 20 or n > 1024)


def emit_matmul(module: ir.Module, name: str, dtype: str, batch: int, M: int, N: int, K: int,
                transpose_a: bool, transpose_b: bool, epilogue=None, n_extra: int = 0,
                *, features: str | None = None, blocking: Blocking | None = None,
                path: str | None = None) -> MatmulKernel:
    """Emit `void name(A, B, C, extra_0.., i64 task_begin, i64 task_end)`; see the module doc.

    A is [batch, M, K] ([batch, K, M] when transpose_a), B is [batch, K, N]
    ([batch, N, K] when transpose_b), C is [batch, M, N]. `features` names the
    target CPU features (default: this host), `blocking` overrides the tile
    sizes and `path` forces "blocked" or "direct" (for tests and tuning).
    """
    if dtype not in _SCALARS:
        raise ValueError(f"dot {name!r}: dtype must be one of {sorted(_SCALARS)}, got {dtype!r}")
    dims = dict(batch=batch, M=M, N=N, K=K)
    bad = {d: v for d, v in dims.items() if not isinstance(v, int) or v < 0}
    if bad:
        raise ValueError(f"dot {name!r}: sizes must be non-negative ints, got {bad}")
    # with a dim of 1 both layouts of an operand are the same
    transpose_a = bool(transpose_a) and M > 1 and K > 1
    transpose_b = bool(transpose_b) and N > 1 and K > 1
    blk = blocking or choose_blocking(dtype, features, n=N)
    if path is None:
        path = ("blocked" if use_blocked(dtype, M, N, K, transpose_a, transpose_b, blk.lanes)
                else "direct")
    if path not in ("blocked", "direct"):
        raise ValueError(f"dot {name!r}: path must be 'blocked' or 'direct', got {path!r}")
    if path == "blocked" and (dtype not in ("f32", "f64") or min(M, N, K) == 0):
        raise ValueError(f"dot {name!r}: the blocked path needs a float dtype and non-empty "
                         f"dims, got {dtype} M={M} N={N} K={K}")
    if path == "direct" and blocking is None:
        blk = choose_blocking(dtype, features)     # full-width vectors; the plan narrows them
    g = _Gen(module, dtype, blk.lanes, blk.use_fma)
    fn = g.new_function(name, ["A", "B", "C"] + [f"extra_{i}" for i in range(n_extra)] +
                        ["%task_begin", "%task_end"])
    extras = fn.args[3:3 + n_extra]
    if path == "blocked":
        _emit_blocked(g, fn, name, blk, M, N, K, transpose_a, transpose_b, n_extra, epilogue)
        rpt = blk.mr
        min_tasks = _cdiv(blk.mc, rpt)      # amortizes packing B once per chunk
    else:
        dot = transpose_b and not transpose_a and K >= 2 * blk.lanes
        rpt = 1 if dot else direct_rows(N, blk.lanes, blk.mr * blk.nrv)
        _emit_direct(g, fn, M, N, K, transpose_a, transpose_b, epilogue, extras, rpt, dot)
        min_tasks = 1
    num_tasks = batch * _cdiv(M, rpt)
    flops = 2 * batch * M * N * K
    task_flops = max(1, 2 * rpt * N * max(K, 1))
    grain = max(min_tasks, _cdiv(200_000, task_flops))  # ~ tens of microseconds per chunk
    grain = max(1, min(grain, num_tasks))
    return MatmulKernel(fn, num_tasks, flops, grain, rpt, path, blk.lanes)
