"""The element emitter: LLVM code for "the value of X at output index i".

Every op is defined by what its element at a multi-index is:
elementwise, compare, select and convert combine their operands at the same
index; broadcast, reshape, transpose, slice, reverse, pad, concatenate and
gather map the index to their operand's index; iota, constant and rng produce
the element directly; reduce, argmax and dot loop over what they combine.
A value outside the kernel's group is a load from its buffer. So a kernel is
one loop nest over its output's shape that asks for the output's element,
and any group of ops fuses by construction.

An `Index` holds a multi-index as per-dim i64 values and/or a row-major
linear offset, each computed from the other on demand, so a flat loop over
same-shape elementwise ops needs no div/mod, and a loop nest needs none in
its innermost loop.

`vector_at` is the same for a vector of consecutive elements along the last
dim (a matmul epilogue's result vector), with a per-lane fallback.
"""
from __future__ import annotations

import llvmlite.ir as ir

from ..core import BINARY_OPS, COMPARE_OPS, UNARY_OPS, IRError, Value
from . import rng as rng_codegen
from . import scalar_ops as S
from .constants import ConstantPool  # noqa: F401 - the pool the emitters take
from .llvm_util import (I32, I64, alloca_entry, const, i64, intrinsic, itemsize, loop,
                        mem_type, reg_type)

SAME_INDEX = frozenset(UNARY_OPS + BINARY_OPS + COMPARE_OPS + ("select", "convert"))
# Ops whose element is a loop: computed once per index and emitter scope.
LOOP_OPS = frozenset(("reduce", "argmax", "argmin", "dot", "conv2d", "conv2d_filter"))


class Index:
    """A multi-index into a tensor of `shape` (dims and/or linear, lazily).

    Values given at construction are valid wherever the Index is used; values
    computed on demand are cached for the basic block that computed them.
    """
    __slots__ = ("shape", "_dims", "_linear", "_dims_fn", "_linear_fn", "_dc", "_lc")

    def __init__(self, shape, dims=None, linear=None, dims_fn=None, linear_fn=None):
        self.shape = tuple(shape)
        self._dims = list(dims) if dims is not None else None
        self._linear = linear
        self._dims_fn = dims_fn
        self._linear_fn = linear_fn
        self._dc = self._lc = None
        if dims is not None and len(self._dims) != len(self.shape):
            raise IRError(f"internal: index of rank {len(self._dims)} for shape {self.shape}")

    def dims(self, b):
        if self._dims is not None:
            return self._dims
        if self._dc is not None and self._dc[0] is b.block:
            return self._dc[1]
        if self._dims_fn is not None:
            d = self._dims_fn(b)
        else:
            d = unflatten(b, self.linear(b), self.shape)
        self._dc = (b.block, d)
        return d

    def linear(self, b):
        if self._linear is not None:
            return self._linear
        if self._lc is not None and self._lc[0] is b.block:
            return self._lc[1]
        if self._linear_fn is not None:
            lin = self._linear_fn(b)
        else:
            lin = linearize(b, self.dims(b), self.shape)
        self._lc = (b.block, lin)
        return lin


def linearize(b, dims, shape):
    """Row-major offset of `dims` in `shape` (size-1 dims contribute nothing)."""
    lin = None
    for d, n in zip(dims, shape):
        if n != 1:
            lin = d if lin is None else b.add(b.mul(lin, i64(n)), d)
    return lin if lin is not None else i64(0)


def unflatten(b, lin, shape):
    """Per-dim indices of row-major offset `lin` in `shape`."""
    dims = [None] * len(shape)
    live = [k for k, n in enumerate(shape) if n != 1]
    for k, n in enumerate(shape):
        if n == 1:
            dims[k] = i64(0)
    for pos in range(len(live) - 1, -1, -1):
        k = live[pos]
        if pos == 0:
            dims[k] = lin
        else:
            dims[k] = b.urem(lin, i64(shape[k]))
            lin = b.udiv(lin, i64(shape[k]))
    return dims


def reshape_groups(src, dst):
    """Runs of (src dims, dst dims) with equal products, size-1 dims left out.

    Within a run the dims split or merge; a run of one dim on each side maps
    an index straight across, with no div/mod.
    """
    if _prod(src) == 0:
        return []
    s = [i for i, n in enumerate(src) if n != 1]
    d = [j for j, n in enumerate(dst) if n != 1]
    groups = []
    i = j = 0
    while i < len(s) and j < len(d):
        gi, gj = [s[i]], [d[j]]
        pi, pj = src[s[i]], dst[d[j]]
        i += 1
        j += 1
        while pi != pj:
            if pi < pj:
                gi.append(s[i])
                pi *= src[s[i]]
                i += 1
            else:
                gj.append(d[j])
                pj *= dst[d[j]]
                j += 1
        groups.append((gi, gj))
    return groups


def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def load(b, ptr, dtype, linear):
    t = mem_type(dtype)
    x = b.load(b.gep(ptr, [linear], inbounds=True, source_etype=t), typ=t,
               align=itemsize(dtype))
    if dtype == "bool":
        return b.icmp_unsigned("!=", x, ir.Constant(t, 0))
    return x


def store(b, ptr, dtype, linear, x):
    t = mem_type(dtype)
    if dtype == "bool":
        x = b.zext(x, t)
    b.store(x, b.gep(ptr, [linear], inbounds=True, source_etype=t), align=itemsize(dtype))


class ElementEmitter:
    """Emits values of a group's instructions at indices, into builder `b`.

    `group`: the set of Values computed inside this kernel; `buffers`: Value ->
    LLVM pointer for everything read from memory (values from other kernels,
    and group values an earlier loop nest already stored).
    """

    def __init__(self, b, group, buffers, consts: ConstantPool):
        self.b = b
        self.group = group
        self.buffers = buffers
        self.consts = consts
        self._cache = {}
        # Loop-valued elements already computed: Value -> [(scope, dims, value)].
        # `scope` is the stack of this emitter's open loops when it was made.
        self._loop_values = {}
        self._scope = ()

    def at(self, v: Value, idx: Index):
        key = (v, id(idx))
        hit = self._cache.get(key)
        if hit is not None and hit[0] is self.b.block and hit[2] is idx:
            return hit[1]
        ins = v.producer
        if ins is not None and ins.op in LOOP_OPS and v in self.group and v not in self.buffers:
            x = self._loop_value(v, idx)
        else:
            x = self._emit(v, idx)
        self._cache[key] = (self.b.block, x, idx)
        return x

    def _loop_value(self, v, idx):
        """A reduce/argmax/dot element, reused when the same element was computed
        in this loop scope or an enclosing one (softmax's sum reading the max of
        its row, stored just before in the same nest, must not redo the max per
        element). The earlier value dominates: loops here are structured."""
        dims = tuple(idx.dims(self.b))
        for scope, d, x in self._loop_values.get(v, ()):
            if self._scope[:len(scope)] == scope and _same_dims(d, dims):
                return x
        x = self._emit(v, idx)
        self._loop_values.setdefault(v, []).append((self._scope, dims, x))
        return x

    def _enter(self):
        """Opens a scope for a loop this emitter makes; returns the scope to restore."""
        outer = self._scope
        self._scope = outer + (object(),)
        return outer

    def _emit(self, v, idx):
        ins = v.producer
        if ins is not None and ins.op == "constant":
            return self._constant(v, idx)
        ptr = self.buffers.get(v)
        if ptr is not None:
            return load(self.b, ptr, v.dtype, idx.linear(self.b))
        if v not in self.group or ins is None:
            raise IRError(f"internal: %{v.name} is neither in the kernel nor in a buffer")
        op = ins.op
        b = self.b
        if op in UNARY_OPS:
            return S.unary(b, op, self.at(ins.operands[0], idx), v.dtype)
        if op in BINARY_OPS:
            x, y = (self.at(o, idx) for o in ins.operands)
            return S.binary(b, op, x, y, v.dtype)
        if op in COMPARE_OPS:
            x, y = (self.at(o, idx) for o in ins.operands)
            return S.compare(b, op, x, y, ins.operands[0].dtype)
        if op == "select":
            p, x, y = (self.at(o, idx) for o in ins.operands)
            return b.select(p, x, y)
        if op == "convert":
            x = ins.operands[0]
            return S.convert(b, self.at(x, idx), x.dtype, v.dtype)
        method = getattr(self, "_" + op, None)
        if method is None:
            raise IRError(f"codegen: no element rule for op {op!r}")
        return method(ins, idx)

    # -- producers ---------------------------------------------------------
    def _constant(self, v, idx):
        s = self.consts.splat(v)
        if s is not None:
            return const(reg_type(v.dtype), s)
        return load(self.b, self.consts.pointer(self.b, v), v.dtype, idx.linear(self.b))

    def _iota(self, ins, idx):
        return S.from_i64(self.b, idx.dims(self.b)[ins.attrs["dim"]], ins.result.dtype)

    def _rng(self, ins, idx):
        a = ins.attrs
        counter = self.at(ins.operands[0], Index((), dims=[]))
        return rng_codegen.emit(self.b, a["dist"], a["dtype"], int(a["seed"]),
                                int(a["seed2"]), counter, idx.linear(self.b))

    # -- index maps ----------------------------------------------------------
    def _broadcast(self, ins, idx):
        x = ins.operands[0]
        if x.type.size == ins.result.type.size:
            # Only size-1 dims inserted or expanded: row-major order is unchanged.
            return self.at(x, Index(x.shape, linear_fn=idx.linear, dims_fn=lambda b: [
                i64(0) if x.shape[k] == 1 else idx.dims(b)[d]
                for k, d in enumerate(ins.attrs["dims"])]))
        dims = idx.dims(self.b)
        xd = [i64(0) if x.shape[k] == 1 else dims[d] for k, d in enumerate(ins.attrs["dims"])]
        return self.at(x, Index(x.shape, dims=xd))

    def _reshape(self, ins, idx):
        x = ins.operands[0]
        src, dst = x.shape, ins.result.shape

        def dims_fn(b):
            d = idx.dims(b)
            out = [i64(0)] * len(src)
            for gi, gj in reshape_groups(src, dst):
                if len(gi) == 1 and len(gj) == 1:
                    out[gi[0]] = d[gj[0]]
                    continue
                lin = linearize(b, [d[j] for j in gj], [dst[j] for j in gj])
                for k, v in zip(gi, unflatten(b, lin, [src[i] for i in gi])):
                    out[k] = v
            return out
        return self.at(x, Index(src, dims_fn=dims_fn, linear_fn=idx.linear))

    def _transpose(self, ins, idx):
        x = ins.operands[0]
        dims = idx.dims(self.b)
        xd = [None] * len(dims)
        for i, p in enumerate(ins.attrs["perm"]):
            xd[p] = dims[i]
        return self.at(x, Index(x.shape, dims=xd))

    def _slice(self, ins, idx):
        x = ins.operands[0]
        b = self.b
        dims = idx.dims(b)
        a = ins.attrs
        xd = []
        for d, st, sd in zip(dims, a["start"], a["stride"]):
            if sd != 1:
                d = b.mul(d, i64(sd))
            if st:
                d = b.add(d, i64(st))
            xd.append(d)
        return self.at(x, Index(x.shape, dims=xd))

    def _reverse(self, ins, idx):
        x = ins.operands[0]
        b = self.b
        dims = list(idx.dims(b))
        for ax in set(ins.attrs["axes"]):
            if x.shape[ax] > 1:
                dims[ax] = b.sub(i64(x.shape[ax] - 1), dims[ax])
        return self.at(x, Index(x.shape, dims=dims))

    def _pad(self, ins, idx):
        x = ins.operands[0]
        b = self.b
        t = reg_type(ins.result.dtype)
        pv = const(t, _py_scalar(ins.attrs["value"], ins.result.dtype))
        if x.type.size == 0:
            return pv
        dims = idx.dims(b)
        xd, inside = [], None
        for d, lo, hi, n in zip(dims, ins.attrs["low"], ins.attrs["high"], x.shape):
            if lo or hi:
                d = b.sub(d, i64(lo)) if lo else d
                ok = b.icmp_unsigned("<", d, i64(n))
                d = b.select(ok, d, i64(0))   # a safe address where padding is read
                inside = ok if inside is None else b.and_(inside, ok)
            xd.append(d)
        val = self.at(x, Index(x.shape, dims=xd))
        return val if inside is None else b.select(inside, val, pv)

    def _concatenate(self, ins, idx):
        b = self.b
        ax = ins.attrs["axis"]
        dims = idx.dims(b)
        parts, off = [], 0
        for x in ins.operands:
            n = x.shape[ax]
            if n:
                parts.append((x, off, n))
            off += n
        if len(parts) == 1:
            x, o, n = parts[0]
            xd = list(dims)
            xd[ax] = b.sub(dims[ax], i64(o)) if o else dims[ax]
            return self.at(x, Index(x.shape, dims=xd))
        i = dims[ax]
        result = None
        for x, o, n in reversed(parts):
            t = b.sub(i, i64(o)) if o else i
            # Clamp into the part so the (discarded) load stays in bounds.
            t = b.select(b.icmp_signed("<", t, i64(0)), i64(0), t)
            t = b.select(b.icmp_signed(">", t, i64(n - 1)), i64(n - 1), t)
            xd = list(dims)
            xd[ax] = t
            val = self.at(x, Index(x.shape, dims=xd))
            result = val if result is None else b.select(
                b.icmp_signed("<", i, i64(o + n)), val, result)
        return result

    def _gather(self, ins, idx):
        p, ind = ins.operands
        b = self.b
        ax = ins.attrs["axis"]
        r = ind.type.rank
        t = reg_type(p.dtype)
        n = p.shape[ax]
        if n == 0:
            return const(t, 0)
        dims = idx.dims(b)
        iv = S.to_i64(b, self.at(ind, Index(ind.shape, dims=dims[ax:ax + r])), ind.dtype)
        ok = b.icmp_unsigned("<", iv, i64(n))
        safe = b.select(ok, iv, i64(0))
        val = self.at(p, Index(p.shape, dims=dims[:ax] + [safe] + dims[ax + r:]))
        return b.select(ok, val, const(t, 0))

    # -- loops ---------------------------------------------------------------
    def _reduce(self, ins, idx):
        x = ins.operands[0]
        b = self.b
        kind, axes = ins.attrs["kind"], tuple(ins.attrs["axes"])
        dtype = x.dtype
        t = reg_type(dtype)
        identity = const(t, S.reduce_identity(kind, dtype))
        extent = _prod(x.shape[a] for a in axes)
        if extent == 0:
            return identity
        kept = iter(idx.dims(b))
        base = [None if a in axes else next(kept) for a in range(x.type.rank)]
        loop_axes = [a for a in axes if x.shape[a] != 1]
        for a in axes:
            if x.shape[a] == 1:
                base[a] = i64(0)
        if not loop_axes:
            return self.at(x, Index(x.shape, dims=base))
        acc = alloca_entry(b, t, "acc")
        b.store(identity, acc)
        outer = self._enter()
        self._nest(loop_axes, x.shape, base, lambda d: b.store(
            S.reduce_combine(b, kind, b.load(acc, typ=t), self.at(x, Index(x.shape, dims=d)),
                             dtype), acc))
        self._scope = outer
        return b.load(acc, typ=t)

    def _nest(self, axes, shape, base, body, pos=0):
        """Loops over `axes` of `shape`, filling them into `base`; body(dims)."""
        if pos == len(axes):
            body(list(base))
            return
        with loop(self.b, 0, shape[axes[pos]], "r") as i:
            base = list(base)
            base[axes[pos]] = i
            self._nest(axes, shape, base, body, pos + 1)

    def _arg(self, ins, idx, greater):
        x = ins.operands[0]
        b = self.b
        ax = ins.attrs["axis"]
        out_t = reg_type(ins.result.dtype)
        n = x.shape[ax]
        if n <= 1:
            return const(out_t, 0)
        kept = iter(idx.dims(b))
        base = [None if a == ax else next(kept) for a in range(x.type.rank)]
        t = reg_type(x.dtype)
        best = alloca_entry(b, t, "best")
        besti = alloca_entry(b, I64, "besti")
        base[ax] = i64(0)
        first = self.at(x, Index(x.shape, dims=base))
        b.store(first, best)
        b.store(i64(0), besti)
        outer = self._enter()
        start = 1
        W = 64 // itemsize(x.dtype)
        if ax == x.type.rank - 1 and n >= 2 * W and x.dtype != "bool":
            start = self._arg_vector(x, base, first, n, W, greater, best, besti)
        with loop(b, start, n, "a") as i:
            d = list(base)
            d[ax] = i
            v = self.at(x, Index(x.shape, dims=d))
            cur = b.load(best, typ=t)
            # Strict: ties keep the first index; NaN never wins (ordered compare).
            op = ">" if greater else "<"
            if S.is_float(x.dtype):
                better = b.fcmp_ordered(op, v, cur)
            else:
                better = b.icmp_signed(op, v, cur)
            b.store(b.select(better, v, cur), best)
            b.store(b.select(better, i, b.load(besti, typ=I64)), besti)
        self._scope = outer
        return S.from_i64(b, b.load(besti, typ=I64), ins.result.dtype)

    def _arg_vector(self, x, base, first, n, W, greater, best, besti):
        """The scan over [0, n - n % W) of the last dim, W lanes at a time; leaves
        the winner in best/besti and returns where the scalar scan goes on.

        Lane j scans indices j, j + W, ... starting from x[0] at index 0 with
        the scalar scan's strict compare, so it holds the first index of its
        best value and never a NaN picked after index 0; across lanes the best
        value wins and ties go to the smallest index: the scalar scan's answer."""
        b = self.b
        t = reg_type(x.dtype)
        vt = ir.VectorType(t, W)
        it = ir.VectorType(I64, W)
        is_f = S.is_float(x.dtype)
        op = ">" if greater else "<"
        lanes = ir.Constant(it, list(range(W)))
        end = n - n % W
        first_v = _splat(b, first, W)
        pre = b.block
        head = b.append_basic_block("av.head")
        body = b.append_basic_block("av.body")
        done = b.append_basic_block("av.done")
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(I64, name="av")
        bv = b.phi(vt, name="avbest")
        bi = b.phi(it, name="avidx")
        i.add_incoming(i64(0), pre)
        bv.add_incoming(first_v, pre)
        bi.add_incoming(ir.Constant(it, [0] * W), pre)
        b.cbranch(b.icmp_signed("<", i, i64(end)), body, done)
        b.position_at_end(body)
        d = list(base)
        d[-1] = i
        v = self.vector_at(x, Index(x.shape, dims=d), W, {})
        better = b.fcmp_ordered(op, v, bv) if is_f else b.icmp_signed(op, v, bv)
        nbv = b.select(better, v, bv)
        nbi = b.select(better, b.add(_splat(b, i, W), lanes), bi)
        i.add_incoming(b.add(i, i64(W)), b.block)
        bv.add_incoming(nbv, b.block)
        bi.add_incoming(nbi, b.block)
        b.branch(head)
        b.position_at_end(done)
        red = {(True, True): "vector.reduce.fmax", (True, False): "vector.reduce.fmin",
               (False, True): "vector.reduce.smax", (False, False): "vector.reduce.smin"}
        m = intrinsic(b, red[(is_f, greater)], [bv], ret=t, overloads=[vt])
        # (unordered: if x[0] is NaN every lane holds it, and index 0 wins)
        at_best = b.fcmp_unordered("==", bv, _splat(b, m, W)) if is_f else \
            b.icmp_signed("==", bv, _splat(b, m, W))
        big = ir.Constant(it, [(1 << 62)] * W)
        idx = intrinsic(b, "vector.reduce.smin", [b.select(at_best, bi, big)], ret=I64,
                        overloads=[it])
        b.store(m, best)
        b.store(idx, besti)
        return end

    def _argmax(self, ins, idx):
        return self._arg(ins, idx, True)

    def _argmin(self, ins, idx):
        return self._arg(ins, idx, False)

    def _dot(self, ins, idx):
        a, bv = ins.operands
        b = self.b
        dt = ins.result.dtype
        t = reg_type(dt)
        ta, tb = ins.attrs.get("transpose_a", False), ins.attrs.get("transpose_b", False)
        K = a.shape[-2] if ta else a.shape[-1]
        if K == 0:
            return const(t, 0)
        dims = idx.dims(b)
        bd, m, n = dims[:-2], dims[-2], dims[-1]
        acc = alloca_entry(b, t, "dacc")
        b.store(const(t, 0), acc)
        outer = self._enter()
        with loop(b, 0, K, "k") as k:
            x = self.at(a, Index(a.shape, dims=bd + ([k, m] if ta else [m, k])))
            y = self.at(bv, Index(bv.shape, dims=bd + ([n, k] if tb else [k, n])))
            cur = b.load(acc, typ=t)
            if S.is_float(dt):
                s = b.fadd(cur, b.fmul(x, y, flags=("contract",)), flags=("reassoc", "contract"))
            else:
                s = b.add(cur, b.mul(x, y))
            b.store(s, acc)
        self._scope = outer
        return b.load(acc, typ=t)

    # -- vectors along the last dim (matmul epilogues) ---------------------
    def vector_at(self, v: Value, idx: Index, width: int, fixed: dict):
        """Lanes v[idx + (0..width-1 along the last dim)] as an LLVM vector.

        `fixed` maps Values to vectors already known (the dot's accumulator).
        """
        if v in fixed:
            return fixed[v]
        b = self.b
        ins = v.producer
        if ins is not None and ins.op == "constant":
            s = self.consts.splat(v)
            if s is not None:
                return const(ir.VectorType(reg_type(v.dtype), width), s)
        ptr = self.buffers.get(v)
        if ptr is None and ins is not None and ins.op == "constant":
            ptr = self.consts.pointer(b, v)
        if ptr is not None and v.dtype != "bool":
            t = ir.VectorType(mem_type(v.dtype), width)
            addr = b.gep(ptr, [idx.linear(b)], inbounds=True, source_etype=mem_type(v.dtype))
            return b.load(addr, typ=t, align=itemsize(v.dtype))
        if ptr is None and v in self.group and ins.op in SAME_INDEX:
            xs = [self.vector_at(o, idx, width, fixed) for o in ins.operands]
            if ins.op in UNARY_OPS:
                return S.unary(b, ins.op, xs[0], v.dtype)
            if ins.op in BINARY_OPS:
                return S.binary(b, ins.op, xs[0], xs[1], v.dtype)
            if ins.op in COMPARE_OPS:
                return S.compare(b, ins.op, xs[0], xs[1], ins.operands[0].dtype)
            if ins.op == "select":
                return b.select(*xs)
            return S.convert(b, xs[0], ins.operands[0].dtype, v.dtype)
        if ptr is None and v in self.group and ins.op == "broadcast":
            x = ins.operands[0]
            dims = idx.dims(b)
            bdims = ins.attrs["dims"]
            xd = [i64(0) if x.shape[k] == 1 else dims[d] for k, d in enumerate(bdims)]
            xi = Index(x.shape, dims=xd)
            last = v.type.rank - 1
            if x.type.rank and bdims[-1] == last and x.shape[-1] != 1:
                return self.vector_at(x, xi, width, fixed)
            return _splat(b, self.at(x, xi), width)
        # Anything else: element by element.
        if any(f in self.group for f in fixed) and self._depends(v, fixed):
            raise IRError(f"internal: epilogue value %{v.name} ({ins.op}) needs the dot "
                          f"result through a non-elementwise op")
        out = ir.Constant(ir.VectorType(reg_type(v.dtype), width), ir.Undefined)
        dims = idx.dims(b)
        for lane in range(width):
            d = list(dims)
            d[-1] = b.add(dims[-1], i64(lane)) if lane else dims[-1]
            out = b.insert_element(out, self.at(v, Index(v.shape, dims=d)),
                                   ir.Constant(I32, lane))
        return out

    def _depends(self, v, fixed):
        stack, seen = [v], set()
        while stack:
            u = stack.pop()
            if u in fixed:
                return True
            if u in seen or u not in self.group or u.producer is None:
                continue
            seen.add(u)
            stack.extend(u.producer.operands)
        return False


def _same_dims(a, b) -> bool:
    """Identical index values: the same LLVM values, or equal constants."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is y:
            continue
        if not (isinstance(x, ir.Constant) and isinstance(y, ir.Constant)
                and x.type == y.type and x.constant == y.constant):
            return False
    return True


def _splat(b, x, width):
    vt = ir.VectorType(x.type, width)
    v = b.insert_element(ir.Constant(vt, ir.Undefined), x, ir.Constant(I32, 0))
    return b.shuffle_vector(v, ir.Constant(vt, ir.Undefined),
                            ir.Constant(ir.VectorType(I32, width), [0] * width))


def _py_scalar(value, dtype):
    if dtype == "bool":
        return bool(value)
    if dtype in ("i32", "i64"):
        return int(value)
    return float(value)
