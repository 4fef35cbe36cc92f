"""Loop nests for conv2d and conv2d_filter: an implicit-im2col matmul.

Both ops are a matmul C[m, o] = sum_k A[m, k] * B[k, o] whose A is never
built: A[m, k] = X[moff(m) + koff(k)], two mixed-radix maps into the
(padded) input X, and B is an operand read in place as [K, O] rows.

  conv2d          m = (n, p, q) output pixels, k = (i, j, c) taps and
                  channels, B = the filter [KH*KW*C, O]
  conv2d_filter   m = (i, j, c), k = (n, p, q), B = the output gradient
                  [N*Ho*Wo, O]; the result is the filter gradient

with moff(n, p, q) = ((n*Hp + p*sh)*Wp + q*sw)*C and koff(i, j, c) =
(i*dh*Wp + j*dw)*C + c (swapped for the filter). A call computes blocks of R
rows by NV vectors of C in registers: per k, R scalars of X broadcast and NV
vectors of B, R*NV FMAs -- the direct GEMM kernel of gemm.py with computed
addresses instead of A's rows. So the patches cost no memory traffic: conv2d
on MNIST's 14x14x32 input reads X from L1 instead of writing and reading a
25x larger patch matrix.

When B is bigger than L2 can keep (the filter gradient's B is the whole
output gradient), K is split into chunks along its outermost index, and a
call runs every chunk over all of its blocks, adding into C; B's chunk stays
in cache across blocks. The result's elementwise epilogue (bias, relu) is
then applied to the call's rows, as for a dot (dot_nests.py).

The task function is `void f(ptr X, ptr B, ptr C, ptr extra..., i64 begin,
i64 end)` over blocks of R rows; the entry splits blocks across threads.
"""
from __future__ import annotations

import llvmlite.ir as ir

from .elemental import ElementEmitter, Index, unflatten
from .llvm_util import itemsize, mem_type
from .matmul import choose_blocking
from .gemm import _Lib

CHUNK_BYTES = 512 * 1024     # of B per K chunk, at most (unless one outer index is more):
                             # half of a 1 MiB L2, the rest for X and C
GRAIN_FLOPS = 200_000        # of a thread-pool task, at least


def _merge(dims, strides):
    """Drops size-1 dims and merges neighbours that address like one dim."""
    out = []
    for d, s in zip(dims, strides):
        if d == 1:
            continue
        if out and out[-1][1] == d * s:
            out[-1] = (out[-1][0] * d, s)
        else:
            out.append((d, s))
    return out or [(1, 0)]


def geometry(conv):
    """(M map, K map, X, B): maps as [(size, X stride)] outermost first."""
    ins = conv.producer
    x, y = ins.operands
    _, hp, wp, c = x.shape
    sh, sw = ins.attrs["strides"]
    dh, dw = ins.attrs["dilations"]
    if ins.op == "conv2d":
        n, ho, wo, _ = conv.shape
        kh, kw = y.shape[:2]
    else:
        kh, kw = ins.attrs["window"]
        n, ho, wo, _ = y.shape
    pixels = [(n, hp * wp * c), (ho, sh * wp * c), (wo, sw * c)]
    taps = [(kh, dh * wp * c), (kw, dw * c), (c, 1)]
    if ins.op == "conv2d":
        return pixels, taps, x, y
    return taps, pixels, x, y


def _max(b, x, y):
    return b.select(b.icmp_signed(">", x, y), x, y)


def zero_rows(x):
    """(top, bottom): how many of x's first and last rows (dim 1) are known to
    be zeros, from the pad (or a slice of a pad) that made x."""
    p = x.producer
    cut = 0                                   # rows a slice dropped at the bottom
    if (p is not None and p.op == "slice" and p.attrs["start"][1] == 0
            and list(p.attrs["stride"]) == [1] * len(p.attrs["stride"])):
        cut = p.operands[0].shape[1] - p.attrs["limit"][1]
        p = p.operands[0].producer
    if p is None or p.op != "pad" or p.attrs["value"] != 0:
        return 0, 0
    return p.attrs["low"][1], max(0, p.attrs["high"][1] - cut)


def _tap_rows(g, conv, kmap, rows, nrows):
    """For conv2d whose input has zero rows at the top or bottom (its padding):
    (i_lo, i_hi), the kernel rows that reach a nonzero input row for some
    output row of the block -- the others only add zeros. None if not
    applicable."""
    ins = conv.producer
    x, w = ins.operands
    if ins.op != "conv2d":
        return None
    kh = w.shape[0]
    hp, wp, c = x.shape[1:]
    sh, _ = ins.attrs["strides"]
    dh, _ = ins.attrs["dilations"]
    top, bottom = zero_rows(x)
    if (top == 0 and bottom == 0) or kh < 2 or kmap[0] != (kh, dh * wp * c):
        return None
    b = g.b
    _, ho, wo, _ = conv.shape
    if wo < nrows:          # a block would span more than two output rows
        return None
    oh0 = b.urem(b.udiv(rows, g.c(wo)), g.c(ho))
    oh1 = b.urem(b.udiv(b.add(rows, g.c(nrows - 1)), g.c(wo)), g.c(ho))
    # kernel row i reads input row oh*sh + i*dh: nonzero rows are [top, hp - bottom)
    # lo(oh) = ceil((top - oh*sh) / dh) falls as oh grows, as does
    # hi(oh) = floor((hp - bottom - 1 - oh*sh) / dh) + 1: over the block's output
    # rows [oh0, oh1] (one image: oh1 >= oh0) the union is [lo(oh1), hi(oh0)).
    def lo(oh):
        t = b.sub(g.c(top + dh - 1), b.mul(oh, g.c(sh)))
        # ceil for t may be negative: floor((top - oh*sh + dh - 1) / dh), clamped at 0
        return _max(b, b.sdiv(t, g.c(dh)), g.c(0))

    def hi(oh):
        t = b.sub(g.c(hp - bottom - 1), b.mul(oh, g.c(sh)))
        q = b.sdiv(b.add(t, g.c(dh * kh)), g.c(dh))      # (t >= -dh*kh: floor via offset)
        return g.min(b.sub(q, g.c(kh - 1)), g.c(kh))
    same_image = b.icmp_unsigned("<=", oh0, oh1)
    i_lo = b.select(same_image, lo(oh1), g.c(0))
    i_hi = b.select(same_image, hi(oh0), g.c(kh))
    return i_lo, i_hi


def conv_nest(em, k, j, o, conv, members, extras):
    """The NestCall computing `o` (conv, or its elementwise epilogue) for
    KernelEmitter `em`."""
    from .kernels import NestCall
    if o.type.dtype != conv.type.dtype or o.shape != conv.shape:
        raise AssertionError(f"internal: {conv.producer.op} epilogue %{o.name} changes the "
                             f"type ({conv.type} -> {o.type}); fusion should have kept it out")
    mmap, kmap, x, bm = geometry(conv)
    dt = conv.dtype
    O = conv.shape[-1]
    M = conv.type.size // max(1, O)
    K = 1
    for d, _ in kmap:
        K *= d
    if K == 0:                              # an empty sum: zeros (one empty chunk)
        kmap = [(0, 0)]
    blk = choose_blocking(dt, n=O)
    W, NV, R = blk.lanes, blk.nrv, blk.mr
    blocks = -(-M // R)
    size = itemsize(dt)
    inner_rows = K // max(1, kmap[0][0])    # B rows per outer K index
    per_chunk = max(1, min(kmap[0][0], CHUNK_BYTES // max(1, inner_rows * O * size)))
    chunks = max(1, -(-kmap[0][0] // per_chunk))

    locs = [em.ba.location(x), em.ba.location(bm), em.ba.location(o)]
    locs += [em.ba.location(v) for v in extras]
    flops = 2 * M * O * K
    fn = em._function(f"k{k}.{j}.conv", locs, flops // 2 + M * O)
    g = _Lib(em.module, dt, W, blk.use_fma)
    b = g.b = ir.IRBuilder(fn.append_basic_block("entry"))
    X, B, C = fn.args[:3]
    xptrs = list(fn.args[3:3 + len(extras)])
    begin, end = fn.args[-2:]
    row0 = b.mul(begin, g.c(R))
    row1 = g.min(b.mul(end, g.c(R)), g.c(M))
    full_end = g.min(end, g.c(M // R))      # blocks of R whole rows

    def tiles(first, rows, nrows, k_lo, k_hi):
        """C[rows[0] .. +nrows, :] over K chunk `first`.. (first: i1, zero start)."""
        useful = _tap_rows(g, conv, kmap, rows, nrows)
        if useful is not None:                # skip kernel rows that read padding only
            k_lo = _max(b, k_lo, useful[0])
            k_hi = _max(b, k_lo, g.min(k_hi, useful[1]))
        moffs = []
        for r in range(nrows):
            m = b.add(rows, g.c(r)) if r else rows
            idx = unflatten(b, m, [d for d, _ in mmap])
            off = g.c(0)
            for (d, s), v in zip(mmap, idx):
                off = b.add(off, b.mul(v, g.c(s)))
            moffs.append(off)
        # Whole tiles of NV vectors in a loop (one copy of the code however
        # wide O is), then the rest, its last vector masked.
        full = O // (NV * W)
        if full > 1:
            with g.loop(g.c(0), g.c(full * NV * W), step=NV * W, name="ot") as o0:
                _tile(g, X, B, C, moffs, rows, nrows, o0, [W] * NV, None, O, first, kmap,
                      k_lo, k_hi)
        elif full == 1:
            _tile(g, X, B, C, moffs, rows, nrows, 0, [W] * NV, None, O, first, kmap, k_lo, k_hi)
        o0 = full * NV * W
        if o0 < O:
            nv = -(-(O - o0) // W)
            mask = g.mask(g.c(O - o0 - (nv - 1) * W), W) if (O - o0) % W else None
            _tile(g, X, B, C, moffs, rows, nrows, o0, [W] * nv, mask, O, first, kmap,
                  k_lo, k_hi)

    def epilogue(r0, r1):
        _epilogue(b, o, conv, members, C, dict(zip(extras, xptrs)), em.consts, r0, r1, W)

    with g.loop(g.c(0), g.c(chunks), name="chunk") as ch:
        k_lo = b.mul(ch, g.c(per_chunk))
        k_hi = g.min(b.add(k_lo, g.c(per_chunk)), g.c(kmap[0][0]))
        first = True if chunks == 1 else b.icmp_signed("==", ch, g.c(0))
        # One chunk: each block's epilogue runs right after it, while in L1.
        per_block = chunks == 1 and o is not conv
        with g.loop(begin, full_end, name="blk") as blk_i:
            r0 = b.mul(blk_i, g.c(R))
            tiles(first, r0, R, k_lo, k_hi)
            if per_block:
                epilogue(r0, b.add(r0, g.c(R)))
        tail0 = g.min(b.mul(full_end, g.c(R)), row1)
        tail0 = b.select(b.icmp_signed("<", tail0, row0), row0, tail0)
        with g.loop(tail0, row1, name="row") as r:
            tiles(first, r, 1, k_lo, k_hi)
        if per_block:
            epilogue(tail0, row1)
    if o is not conv and not per_block:
        epilogue(row0, row1)
    b.ret_void()

    task_flops = max(1, 2 * R * O * K)
    grain = max(1, -(-GRAIN_FLOPS // task_flops))
    par = em.parallel and blocks >= 2 and flops >= (1 << 21)
    # With K in chunks, a call streams each chunk of B once for all its
    # blocks: one call per thread. Else blocks are dealt as threads free up.
    return NestCall(fn, locs, blocks, min(grain, blocks), par, "conv", chunks == 1)


def _tile(g, X, B, C, moffs, rows, nrows, o0, widths, mask, O, first, kmap, k_lo, k_hi):
    """Accumulates rows x widths of C over K indices [k_lo, k_hi) of the outer dim."""
    b = g.b
    nv = len(widths)
    W = widths[0]
    o0v = o0 if isinstance(o0, ir.Value) else g.c(o0)
    crow = [b.add(b.mul(b.add(rows, g.c(r)) if r else rows, g.c(O)), o0v)
            for r in range(nrows)]
    init = []
    for r in range(nrows):
        for q in range(nv):
            if first is True:                  # one chunk: nothing to add to
                init.append(g.zero(W))
                continue
            m = mask if q == nv - 1 else None
            old = g.mload(C, b.add(crow[r], g.c(q * W)) if q else crow[r], W, m)
            init.append(b.select(first, g.zero(W), old))
    def level(depth, kidx, xoff, accs):
        d, s = kmap[depth]
        lo, hi = (k_lo, k_hi) if depth == 0 else (g.c(0), g.c(d))

        def step(i, accs):
            ki = b.add(b.mul(kidx, g.c(d)), i) if depth else i
            xo = b.add(xoff, b.mul(i, g.c(s)))
            if depth + 1 < len(kmap):
                return level(depth + 1, ki, xo, accs)
            brow = b.add(b.mul(ki, g.c(O)), o0v)
            bvs = [g.mload(B, b.add(brow, g.c(q * W)) if q else brow, W,
                           mask if q == nv - 1 else None) for q in range(nv)]
            out = list(accs)
            for r in range(nrows):
                a = g.splat(g.load_scalar(X, b.add(moffs[r], xo)), W)
                for q in range(nv):
                    out[r * nv + q] = g.madd(a, bvs[q], accs[r * nv + q])
            return out
        return g.acc_loop(lo, hi, 1, accs, step, name=f"k{depth}")

    accs = level(0, g.c(0), g.c(0), init)
    for r in range(nrows):
        for q in range(nv):
            g.mstore(accs[r * nv + q], C, b.add(crow[r], g.c(q * W)) if q else crow[r],
                     mask if q == nv - 1 else None)


def _epilogue(b, o, conv, members, C, xbufs, consts, r0, r1, W):
    """o over rows [r0, r1) (all columns), reading conv from C and writing o there."""
    from .llvm_util import i64, loop
    bufs = dict(xbufs)
    bufs[conv] = C
    O = o.shape[-1]
    ov = O // W * W
    with loop(b, r0, r1, "er") as r:
        rdims = unflatten(b, r, list(o.shape[:-1]))
        for lo, hi, w in ((0, ov, W), (ov, O, 1)):
            if lo == hi:
                continue
            with loop(b, i64(lo), i64(hi), f"ec{w}", step=w) as c:
                em = ElementEmitter(b, members, bufs, consts)
                idx = Index(o.shape, dims=rdims + [c])
                v = em.vector_at(o, idx, w, {})
                b.store(v, b.gep(C, [idx.linear(b)], inbounds=True,
                                 source_etype=mem_type(o.dtype)), align=itemsize(o.dtype))
