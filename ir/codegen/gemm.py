"""Shape-generic float GEMM kernels emitted as LLVM IR: the CPU matmul library.

Every function computes, for runtime sizes and leading dimensions,

    C[i*ldc + j] = sum_k opA(i, k) * opB(k, j)      0 <= i < M, 0 <= j < N

with opA(i, k) = A[i*lda + k] (A[k*lda + i] when transposed) and opB(k, j) =
B[k*ldb + j] (B[j*ldb + k] when transposed), overwriting C (zeros when K is
0). The signature is the same for all:

    void tfck_<kind>_<dtype>[_<a>](ptr A, ptr B, ptr C, i64 M, i64 N, i64 K,
                                   i64 lda, i64 ldb, i64 ldc, i64 flags)

flags bit 0: A transposed, bit 1: B transposed. The kinds:

  direct_<n|t>  no packing: blocks of R rows x (up to NV vectors) of C in
                registers, reading A (not transposed: "n", transposed: "t";
                the flag is ignored) and B in place. B transposed is first
                copied, in tiles, into a row-major heap buffer. Fast while B
                stays in cache, and for few rows.
  dot           rows of A times rows of B (B transposed, A not): dot
                products along K, four columns at a time. For a few rows.
  packed        Goto-style: panels of opB (KC x NC) and blocks of opA (MC x
                KC) packed into heap buffers as k-major slivers, and a micro-
                kernel holding an MR x NR tile of C in vector registers. Any
                transposes. For large matrices.

Because the shapes are runtime values, one compiled copy serves every
matmul of a process: graphs call these functions (through a thread-pool
task over blocks of rows or columns, then their fused epilogue) instead of
compiling a matmul of their own. ir/codegen/library.py compiles them once
and keeps the object code in the disk cache; an exported library gets them
emitted into its own module (`emit_library`).

If a heap buffer cannot be allocated, a plain (slow, correct) loop runs.
"""
from __future__ import annotations

import llvmlite.ir as ir

from .llvm_util import alloca_entry
from .matmul import _SCALARS, I32, I64, PTR, Blocking, _Gen, _pow2_chunks, choose_blocking

KINDS = ("direct_n", "direct_t", "dot", "packed")
ARG_NAMES = ["A", "B", "C", "%M", "%N", "%K", "%lda", "%ldb", "%ldc", "%flags"]
TRANS_A, TRANS_B = 1, 2
TILE = 16           # edge of the tiles of the B transpose
KSPLIT = 4          # independent sums along K of a one-row, one-vector tile


def symbol(kind: str, dtype: str) -> str:
    """The library function's name, e.g. tfck_direct_n_f32."""
    if kind not in KINDS or dtype not in ("f32", "f64"):
        raise ValueError(f"no GEMM library function {kind!r} for dtype {dtype!r}")
    return f"tfck_{kind}_{dtype}"


def signature():
    """The LLVM function type shared by all library functions."""
    return ir.FunctionType(ir.VoidType(), [PTR] * 3 + [I64] * 7)


def packed_blocking(dtype: str, features: str | None = None) -> Blocking:
    """Tiles of the packed path: the register tile of `choose_blocking`, panels
    sized for a 1 MiB L2 (B panel KC x NC streams from L2 under an A sliver)."""
    blk = choose_blocking(dtype, features)
    size = _SCALARS[dtype][1]
    nc = max(blk.nr, (512 * 1024 // (blk.kc * size)) // blk.nr * blk.nr)
    mc = blk.mr * max(1, 144 // blk.mr)
    return Blocking(lanes=blk.lanes, mr=blk.mr, nrv=blk.nrv, kc=blk.kc, mc=mc, nc=nc,
                    use_fma=blk.use_fma, unroll=blk.unroll, b_inner=True)


class _Lib(_Gen):
    """Builder helpers plus runtime-sized memory and masks."""

    def alloc(self, count):
        """posix_memalign'ed (64) room for `count` elements; null on failure."""
        b = self.b
        pm = self.module.globals.get("posix_memalign") or ir.Function(
            self.module, ir.FunctionType(I32, [PTR, I64, I64]), "posix_memalign")
        slot = alloca_entry(b, PTR, "mem")
        b.store(ir.Constant(PTR, None), slot)
        bytes_ = b.mul(b.add(count, self.c(16)), self.c(self.size))
        rc = b.call(pm, [slot, self.c(64), bytes_])
        p = b.load(slot, typ=PTR)
        return b.select(b.icmp_signed("==", rc, ir.Constant(I32, 0)), p, ir.Constant(PTR, None))

    def free(self, p):
        fr = self.module.globals.get("free") or ir.Function(
            self.module, ir.FunctionType(ir.VoidType(), [PTR]), "free")
        self.b.call(fr, [p])

    def mask(self, rem, w):
        """<w x i1>: lanes below `rem` (an i64) set."""
        b = self.b
        idx = ir.Constant(ir.VectorType(I64, w), list(range(w)))
        v = b.insert_element(ir.Constant(ir.VectorType(I64, w), None), rem, ir.Constant(I32, 0))
        v = b.shuffle_vector(v, ir.Constant(ir.VectorType(I64, w), None),
                             ir.Constant(ir.VectorType(I32, w), [0] * w))
        return b.icmp_signed("<", idx, v)

    def mload(self, p, i, w, mask):
        if mask is None:
            return self.load(p, i, w)
        t = self.vec(w)
        fn = self.intrinsic("llvm.masked.load", t, [PTR, I32, ir.VectorType(ir.IntType(1), w), t])
        return self.b.call(fn, [self.gep(p, i), ir.Constant(I32, self.size), mask,
                                ir.Constant(t, None)])

    def mstore(self, v, p, i, mask):
        if mask is None:
            self.store(v, p, i)
            return
        fn = self.intrinsic("llvm.masked.store", ir.VoidType(),
                            [v.type, PTR, I32, ir.VectorType(ir.IntType(1), v.type.count)],
                            overload=v.type)
        self.b.call(fn, [v, self.gep(p, i), ir.Constant(I32, self.size), mask])

    def intrinsic(self, base, ret, args, overload=None):
        t = overload or ret
        elem = {"float": "f32", "double": "f64", "i32": "i32", "i64": "i64"}[str(t.element)]
        name = f"{base}.v{t.count}{elem}"
        if base.startswith("llvm.masked."):
            name += ".p0"
        if name in self.module.globals:
            return self.module.globals[name]
        return ir.Function(self.module, ir.FunctionType(ret, args), name=name)


def emit_library(module: ir.Module, dtype: str, kinds=KINDS, internal: bool = False,
                 features: str | None = None) -> dict:
    """Adds the library functions `kinds` for `dtype` to `module`; {kind: Function}."""
    blk = choose_blocking(dtype, features)
    out = {}
    for kind in kinds:
        name = symbol(kind, dtype)
        if name in module.globals:
            out[kind] = module.globals[name]
            continue
        g = _Lib(module, dtype, blk.lanes, blk.use_fma)
        fn = g.new_function(name, ARG_NAMES, internal=internal)
        if kind.startswith("direct"):
            _direct(g, fn, blk, ta=kind == "direct_t", internal=internal)
        elif kind == "dot":
            _dot(g, fn, internal=internal)
        else:
            _packed(g, fn, packed_blocking(dtype, features), internal=internal)
        out[kind] = fn
    return out


# ---------------------------------------------------------------- plain fallback

def _plain(g: _Lib, internal):
    """C = opA @ opB with scalar loops and runtime transposes (no memory needed)."""
    name = f"tfck_plain_{g.dtype}"
    if name in g.module.globals:
        return g.module.globals[name]
    saved = g.b
    fn = g.new_function(name, ARG_NAMES, internal=True)
    A, B, C, M, N, K, lda, ldb, ldc, flags = fn.args
    b = g.b
    ta = b.icmp_signed("!=", b.and_(flags, g.c(TRANS_A)), g.c(0))
    tb = b.icmp_signed("!=", b.and_(flags, g.c(TRANS_B)), g.c(0))
    with g.loop(g.c(0), M, name="i") as i:
        with g.loop(g.c(0), N, name="j") as j:
            zero = ir.Constant(g.T, 0.0)

            def step(k, accs):
                ai = b.select(ta, b.add(b.mul(k, lda), i), b.add(b.mul(i, lda), k))
                bi = b.select(tb, b.add(b.mul(j, ldb), k), b.add(b.mul(k, ldb), j))
                return [b.call(g.intrinsic("llvm.fmuladd", g.vec(1), [g.vec(1)] * 3),
                               [g.load(A, ai, 1), g.load(B, bi, 1), accs[0]])]
            acc, = g.acc_loop(g.c(0), K, 1, [ir.Constant(g.vec(1), [zero])], step)
            g.store(acc, C, b.add(b.mul(i, ldc), j))
    b.ret_void()
    g.b = saved
    return fn


# ---------------------------------------------------------------- direct

def _direct(g: _Lib, fn, blk: Blocking, ta: bool, internal: bool):
    A, B, C, M, N, K, lda, ldb, ldc, flags = fn.args
    b = g.b
    W, NV, R = blk.lanes, blk.nrv, blk.mr
    tb = b.icmp_signed("!=", b.and_(flags, g.c(TRANS_B)), g.c(0))
    entry = b.block
    # B transposed: copy it row-major ([K, N]) into a heap buffer first.
    with b.if_then(tb):
        buf = g.alloc(b.mul(K, N))
        ok = b.icmp_unsigned("!=", buf, ir.Constant(PTR, None))
        with b.if_else(ok) as (then, otherwise):
            with then:
                _transpose(g, B, ldb, buf, N, K)
            with otherwise:
                b.call(_plain(g, internal), list(fn.args))
        tb_block = b.block
    joined = b.block
    bb = b.phi(PTR, name="bsrc")
    bb.add_incoming(B, entry)
    bb.add_incoming(buf, tb_block)
    ld = b.phi(I64, name="ldbsrc")
    ld.add_incoming(ldb, entry)
    ld.add_incoming(N, tb_block)
    # (no buffer: the plain loop already ran; skip the blocks)
    failed = b.and_(tb, b.icmp_unsigned("==", bb, ir.Constant(PTR, None)))
    work = fn.append_basic_block("work")
    done = fn.append_basic_block("done")
    b.cbranch(failed, done, work)
    b.position_at_end(work)
    _ = joined

    def block_rows(i, r):
        # Column blocks of nv vectors, then NV, then one (the last one masked).
        # One row (a vector times a matrix) starts wide, so enough FMA chains
        # are in flight and B streams in long contiguous runs.
        groups = [NV] if r > 1 else sorted({NV, max(NV, (R * NV * 2 // 3) & ~1)}, reverse=True)
        j0 = g.c(0)
        for nv in groups:
            end = b.add(j0, b.mul(b.sdiv(b.sub(N, j0), g.c(nv * W)), g.c(nv * W)))
            with g.loop(j0, end, step=nv * W, name=f"jv{nv}") as j:
                _direct_tile(g, A, bb, C, i, r, j, [W] * nv, None, K, lda, ld, ldc, ta)
            j0 = end
        # One vector at a time: a row vector gets KSPLIT independent sums along
        # K, or the FMA latency would pace it (one chain of K steps).
        with g.loop(j0, N, step=W, name="j1") as j:
            _direct_tile(g, A, bb, C, i, r, j, [W], g.mask(b.sub(N, j), W), K, lda, ld, ldc,
                         ta, ksplit=KSPLIT if r == 1 else 1)

    full_m = b.mul(b.sdiv(M, g.c(R)), g.c(R))
    with g.loop(g.c(0), full_m, step=R, name="i") as i:
        block_rows(i, R)
    with g.loop(full_m, M, name="i1") as i:     # the last M % R rows one by one
        block_rows(i, 1)
    with g.if_then(tb, "freeb"):
        g.free(bb)
    b.branch(done)
    b.position_at_end(done)
    b.ret_void()


def _direct_tile(g: _Lib, A, B, C, i, r, j, widths, mask, K, lda, ldb, ldc, ta, ksplit=1):
    """C[i:i+r, j:j+sum(widths)] from A and B in place; r x len(widths) accumulators,
    times `ksplit` (sums over interleaved k, added at the end) when ksplit > 1."""
    b = g.b
    n = r * len(widths)
    offs = [sum(widths[:q]) for q in range(len(widths))]
    arows = [b.add(i, g.c(rr)) if rr else i for rr in range(r)]
    abase = [arow if ta else b.mul(arow, lda) for arow in arows]

    def step(k, accs):
        brow = b.add(b.mul(k, ldb), j)
        bvs = [g.mload(B, b.add(brow, g.c(o)) if o else brow, w, mask)
               for o, w in zip(offs, widths)]
        kl = b.mul(k, lda) if ta else k
        out = list(accs)
        for rr in range(r):
            a = g.load_scalar(A, b.add(abase[rr], kl))
            splats = {w: g.splat(a, w) for w in set(widths)}
            for q, w in enumerate(widths):
                out[rr * len(widths) + q] = g.madd(splats[w], bvs[q], accs[rr * len(widths) + q])
        return out
    zeros = [ir.Constant(g.vec(w), None) for _ in range(r) for w in widths]
    start = g.c(0)
    if ksplit > 1:
        def steps(k, accs):
            return [x for s in range(ksplit)
                    for x in step(b.add(k, g.c(s)) if s else k, accs[s * n:(s + 1) * n])]
        kend = b.mul(b.sdiv(K, g.c(ksplit)), g.c(ksplit))
        parts = g.acc_loop(start, kend, ksplit, zeros * ksplit, steps, name="ks")
        parts = [parts[s * n:(s + 1) * n] for s in range(ksplit)]
        while len(parts) > 1:       # pairwise: (s0 + s1) + (s2 + s3) ...
            parts = [[g.add(x, y) for x, y in zip(parts[p], parts[p + 1])]
                     for p in range(0, len(parts) - 1, 2)] + parts[len(parts) & ~1:]
        zeros, start = parts[0], kend
    accs = g.acc_loop(start, K, 1, zeros, step)
    for rr in range(r):
        crow = b.add(b.mul(arows[rr], ldc), j)
        for q, (o, w) in enumerate(zip(offs, widths)):
            g.mstore(accs[rr * len(widths) + q], C, b.add(crow, g.c(o)) if o else crow, mask)


def _transpose(g: _Lib, src, ld, dst, rows, cols):
    """dst[c*rows + r] = src[r*ld + c] for r < rows, c < cols, in TILE x TILE tiles."""
    b = g.b
    with g.loop(g.c(0), rows, step=TILE, name="tr") as r0:
        r1 = g.min(b.add(r0, g.c(TILE)), rows)
        with g.loop(g.c(0), cols, step=TILE, name="tc") as c0:
            c1 = g.min(b.add(c0, g.c(TILE)), cols)
            with g.loop(r0, r1, name="r") as r:
                with g.loop(c0, c1, name="c") as c:
                    g.store(g.load(src, b.add(b.mul(r, ld), c), 1), dst,
                            b.add(b.mul(c, rows), r))


# ---------------------------------------------------------------- dot

def _dot(g: _Lib, fn, internal: bool):
    """C[i, j] = A[i, :] . B[j, :] (B transposed, A not), four columns at a time."""
    A, B, C, M, N, K, lda, ldb, ldc, flags = fn.args
    b = g.b
    W = g.lanes
    kv = b.mul(b.sdiv(K, g.c(W)), g.c(W))
    krem = b.sub(K, kv)
    kmask = g.mask(krem, W)
    n4 = b.mul(b.sdiv(N, g.c(4)), g.c(4))

    def cols(i, j, nc):
        arow = b.mul(i, lda)
        brows = [b.mul(b.add(j, g.c(c)) if c else j, ldb) for c in range(nc)]

        def step(k, accs):
            a = g.load(A, b.add(arow, k), W)
            return [g.madd(a, g.load(B, b.add(br, k), W), acc) for br, acc in zip(brows, accs)]
        accs = g.acc_loop(g.c(0), kv, W, [ir.Constant(g.vec(W), None)] * nc, step)
        # the K % W tail as one masked step (the masked lanes load zeros)
        a = g.mload(A, b.add(arow, kv), W, kmask)
        accs = [g.madd(a, g.mload(B, b.add(br, kv), W, kmask), acc)
                for br, acc in zip(brows, accs)]
        crow = b.add(b.mul(i, ldc), j)
        for c, acc in enumerate(accs):
            g.store(b.insert_element(ir.Constant(g.vec(1), None), g.hsum(acc),
                                     ir.Constant(I32, 0)), C, b.add(crow, g.c(c)) if c else crow)

    with g.loop(g.c(0), M, name="i") as i:
        with g.loop(g.c(0), n4, step=4, name="j") as j:
            cols(i, j, 4)
        with g.loop(n4, N, name="jr") as j:
            cols(i, j, 1)
    b.ret_void()


# ---------------------------------------------------------------- packed

def _emit_pack(g: _Lib, name, R, x_contig: bool):
    """pack(src, dst, x0, xn, k0, kc, kcp, ld): slivers of R along x, k-major.

    dst[s*R*kcp + kk*R + r] = op(x0 + min(s*R + r, xn - 1), k0 + kk) for kk < kc
    and 0 for kc <= kk < kcp, where op(x, k) = src[x + k*ld] (x_contig) or
    src[x*ld + k]. Rows past xn repeat the last: they feed tile rows that
    are never stored, while the k padding must be zero (it adds into sums).
    """
    if name in g.module.globals:
        return g.module.globals[name]
    saved = g.b
    fn = g.new_function(name, ["src", "dst", "%x0", "%xn", "%k0", "%kc", "%kcp", "%ld"],
                        internal=True)
    src, dst, x0, xn, k0, kc, kcp, ld = fn.args
    b = g.b
    nfull = b.sdiv(xn, g.c(R))
    last = b.sub(xn, g.c(1))
    with g.loop(g.c(0), b.sdiv(b.add(xn, g.c(R - 1)), g.c(R)), name="s") as s:
        sbase = b.mul(s, g.c(R))
        dbase = b.mul(sbase, kcp)
        with b.if_else(b.icmp_signed("<", s, nfull)) as (then, otherwise):
            with then:
                if x_contig:        # a sliver row is contiguous: vector copies
                    with g.loop(g.c(0), kc, name="kk") as kk:
                        soff = b.add(b.add(x0, sbase), b.mul(b.add(k0, kk), ld))
                        doff = b.add(dbase, b.mul(kk, g.c(R)))
                        for off, w in _pow2_chunks(R, g.lanes):
                            g.store(g.load(src, b.add(soff, g.c(off)), w),
                                    dst, b.add(doff, g.c(off)))
                elif R > 16:        # long slivers of rows contiguous along k: a loop
                    sb = b.add(b.mul(b.add(x0, sbase), ld), k0)
                    with g.loop(g.c(0), g.c(R), name="rk") as r:
                        srow = b.add(sb, b.mul(r, ld))
                        with g.loop(g.c(0), kc, name="kk") as kk:
                            g.store(g.load_scalar(src, b.add(srow, kk)), dst,
                                    b.add(dbase, b.add(b.mul(kk, g.c(R)), r)))
                else:               # R rows contiguous along k, side by side
                    sb = b.add(b.mul(b.add(x0, sbase), ld), k0)
                    rows = [b.add(sb, b.mul(g.c(r), ld)) if r else sb for r in range(R)]
                    with g.loop(g.c(0), kc, name="kk") as kk:
                        doff = b.add(dbase, b.mul(kk, g.c(R)))
                        for r in range(R):
                            g.store(g.load_scalar(src, b.add(rows[r], kk)), dst,
                                    b.add(doff, g.c(r)))
            with otherwise:         # the ragged last sliver
                with g.loop(g.c(0), kc, name="kr") as kk:
                    with g.loop(g.c(0), g.c(R), name="r") as r:
                        x = b.add(x0, g.min(b.add(sbase, r), last))
                        k = b.add(k0, kk)
                        si = b.add(x, b.mul(k, ld)) if x_contig else b.add(b.mul(x, ld), k)
                        g.store(g.load_scalar(src, si), dst,
                                b.add(dbase, b.add(b.mul(kk, g.c(R)), r)))
        with g.loop(kc, kcp, name="kz") as kk:
            doff = b.add(dbase, b.mul(kk, g.c(R)))
            for off, w in _pow2_chunks(R, g.lanes):
                g.store(ir.Constant(g.vec(w), None), dst, b.add(doff, g.c(off)))
    b.ret_void()
    g.b = saved
    return fn


def _next_panel(g: _Lib, B, ldb, tb, N, K, jc, pc, first_block, blk: Blocking):
    """Where the rows of B that the next panel will pack start, how many there
    are, their width and their lines, and whether to prefetch them: only
    during the first block of A's rows, and only for B not transposed. The
    micro-kernels prefetch them into L2 while they compute, so reading B from
    memory overlaps this panel's arithmetic instead of stalling the packing (a
    dense layer's weight at a small batch)."""
    b = g.b
    nxt = b.add(pc, g.c(blk.kc))
    wrap = b.icmp_signed(">=", nxt, K)
    pc2 = b.select(wrap, g.c(0), nxt)
    jc2 = b.select(wrap, b.add(jc, g.c(blk.nc)), jc)
    go = b.and_(b.icmp_signed("<", jc2, N), b.icmp_signed("==", tb, ir.Constant(tb.type, 0)))
    per_line = 64 // g.size
    nc2 = g.min(g.c(blk.nc), b.sub(N, jc2))
    return {"base": g.gep(B, b.add(b.mul(pc2, ldb), jc2)), "rows": g.min(g.c(blk.kc),
            b.sub(K, pc2)), "width": nc2, "lines_per_row": b.sdiv(b.add(nc2, g.c(per_line - 1)),
            g.c(per_line)), "go": b.and_(go, first_block)}


def _panel_slice(g: _Lib, nxt, ldb, t, calls):
    """Micro-kernel call t of `calls` prefetches rows [t*rows/calls, (t+1)*rows/calls)
    of the next panel: (pointer, lines (0: none), row width, row pitch)."""
    b = g.b
    r0 = b.sdiv(b.mul(t, nxt["rows"]), calls)
    r1 = b.sdiv(b.mul(b.add(t, g.c(1)), nxt["rows"]), calls)
    lines = b.select(nxt["go"], b.mul(b.sub(r1, r0), nxt["lines_per_row"]), g.c(0))
    return g.gep(nxt["base"], b.mul(r0, ldb)), lines, nxt["width"], ldb


def _emit_micro(g: _Lib, name, blk: Blocking):
    """micro(ap, bp, c, kcp, mr, nr, first, ldc): C[:mr, :nr] (+)= Ap @ Bp.

    MR x NR accumulators in registers over kcp (a multiple of the unroll)
    steps; `first` starts from zero instead of C. A ragged tile goes through
    a stack tile."""
    if name in g.module.globals:
        return g.module.globals[name]
    saved = g.b
    MR, NRV, W, NR = blk.mr, blk.nrv, blk.lanes, blk.nr
    fn = g.new_function(name, ["ap", "bp", "c", "%kcp", "%mr", "%nr", "%first", "%ldc",
                               "pf", "%pfn", "%pfw", "%pfld"], internal=True)
    ap, bp, cp, kcp, mr, nr, first, ldc, pf, pfn, pfw, pfld = fn.args
    b = g.b
    pfi = g.module.globals.get("llvm.prefetch.p0") or ir.Function(
        g.module, ir.FunctionType(ir.VoidType(), [PTR, I32, I32, I32]), "llvm.prefetch.p0")
    per_line = 64 // g.size
    tile = g.alloca(MR * NR, "tile")
    full = b.and_(b.icmp_signed("==", mr, g.c(MR)), b.icmp_signed("==", nr, g.c(NR)))
    first = b.icmp_signed("!=", first, g.c(0))
    crow = [b.mul(g.c(r), ldc) if r else g.c(0) for r in range(MR)]
    cidx = [[b.add(crow[r], g.c(v * W)) if v else crow[r] for v in range(NRV)] for r in range(MR)]

    def kstep(kk, carried):
        # Two lines of the prefetch slice per step (`pfn` lines of rows `pfw`
        # wide, `pfld` apart), spread over the loop so the misses overlap
        # the arithmetic instead of queueing up at once.
        accs, (left, col, row) = list(carried[:-3]), carried[-3:]
        for _ in range(2):
            go = b.icmp_signed(">", left, g.c(0))
            addr = g.gep(pf, b.add(row, col))
            with b.if_then(go):
                b.call(pfi, [addr, ir.Constant(I32, 0), ir.Constant(I32, 2),
                             ir.Constant(I32, 1)])
            nxt = b.add(col, g.c(per_line))
            wrap = b.icmp_signed(">=", nxt, pfw)
            col = b.select(wrap, g.c(0), nxt)
            row = b.select(wrap, b.add(row, pfld), row)
            left = b.sub(left, g.c(1))
        for u in range(blk.unroll):
            ku = b.add(kk, g.c(u)) if u else kk
            bvs = [g.load(bp, b.add(b.mul(ku, g.c(NR)), g.c(v * W)), W) for v in range(NRV)]
            for r in range(MR):
                a = g.splat(g.load_scalar(ap, b.add(b.mul(ku, g.c(MR)), g.c(r))), W)
                for v in range(NRV):
                    accs[r * NRV + v] = g.madd(a, bvs[v], accs[r * NRV + v])
        return accs + [left, col, row]
    zeros = [ir.Constant(g.vec(W), None)] * (MR * NRV)
    accs = g.acc_loop(g.c(0), kcp, blk.unroll, zeros + [pfn, g.c(0), g.c(0)], kstep,
                      name="k")[:-3]
    with b.if_else(full) as (then, otherwise):
        with then:
            with b.if_else(first) as (t2, o2):
                with t2:
                    for r in range(MR):
                        for v in range(NRV):
                            g.store(accs[r * NRV + v], cp, cidx[r][v])
                with o2:
                    for r in range(MR):
                        for v in range(NRV):
                            g.store(g.add(accs[r * NRV + v], g.load(cp, cidx[r][v], W)),
                                    cp, cidx[r][v])
        with otherwise:
            for r in range(MR):
                for v in range(NRV):
                    g.store(accs[r * NRV + v], tile, g.c(r * NR + v * W))
            with g.loop(g.c(0), mr, name="er") as r:
                with g.loop(g.c(0), nr, name="ec") as j:
                    ci = b.add(b.mul(r, ldc), j)
                    t = g.load(tile, b.add(b.mul(r, g.c(NR)), j), 1)
                    g.store(b.select(first, t, g.add(t, g.load(cp, ci, 1))), cp, ci)
    b.ret_void()
    g.b = saved
    return fn


def _packed(g: _Lib, fn, blk: Blocking, internal: bool):
    A, B, C, M, N, K, lda, ldb, ldc, flags = fn.args
    b = g.b
    MR, NR, U = blk.mr, blk.nr, blk.unroll
    pre = f"tfck_{g.dtype}_{blk.mr}x{blk.nr}"
    packs = {(R, xc): _emit_pack(g, f"{pre}.pack{R}{'x' if xc else 'k'}", R, xc)
             for R in (MR, NR) for xc in (True, False)}
    micro = _emit_micro(g, f"{pre}.micro", blk)
    ta = b.icmp_signed("!=", b.and_(flags, g.c(TRANS_A)), g.c(0))
    tb = b.icmp_signed("!=", b.and_(flags, g.c(TRANS_B)), g.c(0))
    with b.if_then(b.icmp_signed("<=", K, g.c(0))):    # no products: C = 0
        b.call(_plain(g, internal), list(fn.args))
        b.ret_void()
    abuf = g.alloc(g.c(blk.mc * blk.kc))
    bbuf = g.alloc(g.c(blk.nc * blk.kc))
    null = ir.Constant(PTR, None)
    ok = b.and_(b.icmp_unsigned("!=", abuf, null), b.icmp_unsigned("!=", bbuf, null))
    with b.if_else(ok) as (then, otherwise):
        with then:
            with g.loop(g.c(0), N, step=blk.nc, name="jc") as jc:
                nc = g.min(g.c(blk.nc), b.sub(N, jc))
                with g.loop(g.c(0), K, step=blk.kc, name="pc") as pc:
                    kc = g.min(g.c(blk.kc), b.sub(K, pc))
                    kcp = b.mul(b.sdiv(b.add(kc, g.c(U - 1)), g.c(U)), g.c(U))
                    # opB(k, j): x = j is contiguous unless B is transposed
                    with b.if_else(tb) as (t1, o1):
                        with t1:
                            b.call(packs[(NR, False)], [B, bbuf, jc, nc, pc, kc, kcp, ldb])
                        with o1:
                            b.call(packs[(NR, True)], [B, bbuf, jc, nc, pc, kc, kcp, ldb])
                    first = b.zext(b.icmp_signed("==", pc, g.c(0)), I64)
                    with g.loop(g.c(0), M, step=blk.mc, name="ic") as ic:
                        mc = g.min(g.c(blk.mc), b.sub(M, ic))
                        # opA(i, k): x = i is contiguous when A is transposed
                        with b.if_else(ta) as (t2, o2):
                            with t2:
                                b.call(packs[(MR, True)], [A, abuf, ic, mc, pc, kc, kcp, lda])
                            with o2:
                                b.call(packs[(MR, False)], [A, abuf, ic, mc, pc, kc, kcp, lda])
                        nsl = b.sdiv(b.add(nc, g.c(NR - 1)), g.c(NR))
                        calls = b.mul(b.sdiv(b.add(mc, g.c(MR - 1)), g.c(MR)), nsl)
                        nxt = _next_panel(g, B, ldb, tb, N, K, jc, pc,
                                          b.icmp_signed("==", ic, g.c(0)), blk)
                        with g.loop(g.c(0), mc, step=MR, name="ir") as ir_:
                            with g.loop(g.c(0), nc, step=NR, name="jr") as jr:
                                row, col = b.add(ic, ir_), b.add(jc, jr)
                                t = b.add(b.mul(b.sdiv(ir_, g.c(MR)), nsl), b.sdiv(jr, g.c(NR)))
                                pf = _panel_slice(g, nxt, ldb, t, calls)
                                b.call(micro, [g.gep(abuf, b.mul(ir_, kcp)),
                                               g.gep(bbuf, b.mul(jr, kcp)),
                                               g.gep(C, b.add(b.mul(row, ldc), col)),
                                               kcp, g.min(g.c(MR), b.sub(mc, ir_)),
                                               g.min(g.c(NR), b.sub(nc, jr)), first, ldc,
                                               *pf])
        with otherwise:
            b.call(_plain(g, internal), list(fn.args))
    # free(NULL) is a no-op
    g.free(abuf)
    g.free(bbuf)
    b.ret_void()


__all__ = ["KINDS", "symbol", "signature", "emit_library", "packed_blocking", "TRANS_A",
           "TRANS_B"]
