"""The emitted matmul kernels against numpy (float64 reference).

All cases are compiled into one LLVM module per test module (compiling is the
slow part); each case gets an `int32 entry(void **bufs)` wrapper that runs the
whole task range, and one that runs it in pieces, as a thread pool would.
"""
from __future__ import annotations

import cffi
import llvmlite.ir as ir
import numpy as np
import pytest

from tfcompile.ir.codegen.matmul import (STACK_LIMIT, choose_blocking, emit_matmul,
                                         use_blocked)
from tfcompile.runtime.jit import JITModule

_ffi = cffi.FFI()
PTR = ir.PointerType()
I64 = ir.IntType(64)
I32 = ir.IntType(32)
NP = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64}
AVX2 = "+avx,+avx2,+fma,+sse2"
SSE = "+sse,+sse2"


def bias_relu(m):
    """Epilogue: acc + bias[col0:col0+W] + rowbias[b_idx, row], then max(., 0)."""
    def epilogue(builder, acc, b_idx, row, col0, extras):
        vt = acc.type
        assert isinstance(vt, ir.VectorType)
        w, t = vt.count, vt.element
        bias = builder.load(builder.gep(extras[0], [col0], source_etype=t), typ=vt, align=1)
        rix = builder.add(builder.mul(b_idx, ir.Constant(I64, m)), row)
        rb = builder.load(builder.gep(extras[1], [rix], source_etype=t), typ=t)
        rbv = builder.insert_element(ir.Constant(vt, None), rb, ir.Constant(I32, 0))
        rbv = builder.shuffle_vector(rbv, ir.Constant(vt, None),
                                     ir.Constant(ir.VectorType(I32, w), [0] * w))
        x = builder.fadd(builder.fadd(acc, bias), rbv)
        zero = ir.Constant(vt, [0.0] * w)
        return builder.select(builder.fcmp_ordered(">", x, zero), x, zero)
    return epilogue


# (dtype, batch, M, N, K, transpose_a, transpose_b, options)
CASES = [
    ("f32", 1, 1, 1, 1, False, False, {}),
    ("f32", 1, 3, 17, 129, False, False, {}),
    ("f32", 2, 17, 3, 5, True, False, {}),
    ("f64", 3, 5, 7, 33, False, True, {}),
    ("f32", 1, 1, 100, 70, False, True, {}),            # dot products along K
    ("f32", 1, 1, 100, 70, True, True, {}),
    ("f32", 1, 40, 9, 37, True, True, {}),              # gathers
    ("f32", 2, 129, 1000, 3, False, False, {}),
    ("f32", 1, 1000, 17, 129, True, False, {}),
    ("f32", 1, 6, 0, 5, False, False, {}),              # empty C
    ("f32", 2, 0, 5, 5, False, False, {}),
    ("f64", 2, 4, 6, 0, False, False, {}),              # K = 0: zeros
    ("i32", 2, 7, 19, 11, False, True, {}),
    ("i64", 1, 9, 5, 300, True, False, {}),
    # packed path: every transpose pair, ragged edges, several K and N blocks
    ("f32", 1, 129, 65, 100, False, False, {"path": "blocked"}),
    ("f32", 2, 37, 70, 301, True, False, {"path": "blocked"}),
    ("f32", 1, 29, 1000, 17, False, True, {"path": "blocked", "epi": False}),
    ("f64", 2, 31, 45, 200, True, True, {"path": "blocked"}),
    ("f32", 1, 1, 3, 1, False, False, {"path": "blocked", "epi": False}),
    ("f32", 2, 40, 40, 20, False, False, {"path": "blocked", "epi": False}),  # 3-vector tile
    ("f32", 1, 30, 40, 50, False, False, {"path": "blocked", "features": AVX2, "epi": False}),
    ("f64", 1, 13, 11, 9, True, False, {"path": "blocked", "features": SSE, "epi": False}),
    ("f32", 1, 50, 20, 30, False, True, {"path": "direct", "features": SSE}),
]
EPI_CASES = [i for i, c in enumerate(CASES) if c[0] in ("f32", "f64") and c[7].get("epi", True)]


def _ids():
    return [f"{d}-b{bt}-{m}x{n}x{k}-{'T' if ta else 'N'}{'T' if tb else 'N'}"
            f"{'-' + o.get('path', '') if o.get('path') else ''}"
            f"{'-avx2' if o.get('features') == AVX2 else '-sse' if o.get('features') else ''}"
            for d, bt, m, n, k, ta, tb, o in CASES]


def _wrapper(mod, name, kern, n_ptrs, ranges):
    fn = ir.Function(mod, ir.FunctionType(I32, [PTR]), name)
    b = ir.IRBuilder(fn.append_basic_block())
    ptrs = [b.load(b.gep(fn.args[0], [ir.Constant(I64, i)], source_etype=PTR), typ=PTR)
            for i in range(n_ptrs)]
    for lo, hi in ranges:
        b.call(kern.function, ptrs + [ir.Constant(I64, lo), ir.Constant(I64, hi)])
    b.ret(ir.Constant(I32, 0))


def _pieces(n):
    """Uneven cuts of [0, n), as a pool's chunks might be."""
    cuts = sorted({0, n // 2, (2 * n) // 3, n})
    return list(zip(cuts[:-1], cuts[1:]))


@pytest.fixture(scope="module")
def jit():
    mod = ir.Module("test_matmul")
    kerns = {}
    for idx, (dtype, batch, m, n, k, ta, tb, opts) in enumerate(CASES):
        opts = {o: v for o, v in opts.items() if o != "epi"}
        for epi in (False, True) if idx in EPI_CASES else (False,):
            name = f"mm{idx}{'e' if epi else ''}"
            kern = emit_matmul(mod, name, dtype, batch, m, n, k, ta, tb,
                               epilogue=bias_relu(m) if epi else None, n_extra=2 if epi else 0,
                               **opts)
            nptr = 5 if epi else 3
            _wrapper(mod, "all_" + name, kern, nptr, [(0, kern.num_tasks)])
            _wrapper(mod, "split_" + name, kern, nptr, _pieces(kern.num_tasks))
            kerns[name] = kern
    return JITModule(str(mod)), kerns


def _data(dtype, batch, m, n, k, ta, tb, seed):
    rng = np.random.default_rng(seed)
    t = NP[dtype]
    if dtype.startswith("i"):
        a = rng.integers(-9, 10, (batch,) + ((k, m) if ta else (m, k))).astype(t)
        b = rng.integers(-9, 10, (batch,) + ((n, k) if tb else (k, n))).astype(t)
    else:
        a = rng.standard_normal((batch,) + ((k, m) if ta else (m, k))).astype(t)
        b = rng.standard_normal((batch,) + ((n, k) if tb else (k, n))).astype(t)
    return a, b


def _run(jm, symbol, arrays):
    bufs = _ffi.new(f"void*[{len(arrays)}]",
                    [_ffi.cast("void*", x.ctypes.data) for x in arrays])
    assert jm.entry(symbol)(bufs) == 0


def _reference(a, b, ta, tb):
    a64 = a.astype(np.float64 if a.dtype.kind == "f" else np.int64)
    b64 = b.astype(a64.dtype)
    if ta:
        a64 = a64.swapaxes(-1, -2)
    if tb:
        b64 = b64.swapaxes(-1, -2)
    return a64, b64, a64 @ b64


def _check(c, ref, a64, b64, k):
    if c.dtype.kind == "i":
        np.testing.assert_array_equal(c, ref)
        return
    eps = np.finfo(c.dtype).eps
    bound = 2 * (k + 2) * eps * (np.abs(a64) @ np.abs(b64)) + 4 * eps * np.abs(ref)
    err = np.abs(c.astype(np.float64) - ref)
    assert np.all(err <= bound + 1e-30), f"max error {err.max()} (bound {bound.max()})"


@pytest.mark.parametrize("idx", range(len(CASES)), ids=_ids())
@pytest.mark.parametrize("mode", ["all", "split"])
def test_matches_numpy(jit, idx, mode):
    jm, kerns = jit
    dtype, batch, m, n, k, ta, tb, opts = CASES[idx]
    a, b = _data(dtype, batch, m, n, k, ta, tb, idx)
    c = np.full((batch, m, n), 77, NP[dtype])    # every element must be written
    _run(jm, f"{mode}_mm{idx}", [a, b, c])
    a64, b64, ref = _reference(a, b, ta, tb)
    _check(c, ref, a64, b64, k)
    if opts.get("path"):
        assert kerns[f"mm{idx}"].path == opts["path"]


@pytest.mark.parametrize("idx", EPI_CASES, ids=[_ids()[i] for i in EPI_CASES])
@pytest.mark.parametrize("mode", ["all", "split"])
def test_epilogue_bias_relu(jit, idx, mode):
    jm, _ = jit
    dtype, batch, m, n, k, ta, tb, _ = CASES[idx]
    a, b = _data(dtype, batch, m, n, k, ta, tb, idx)
    rng = np.random.default_rng(100 + idx)
    bias = rng.standard_normal(n).astype(NP[dtype])
    rowbias = rng.standard_normal((batch, m)).astype(NP[dtype])
    c = np.full((batch, m, n), np.nan, NP[dtype])
    _run(jm, f"{mode}_mm{idx}e", [a, b, c, bias, rowbias])
    a64, b64, ref = _reference(a, b, ta, tb)
    pre = ref + bias.astype(np.float64) + rowbias.astype(np.float64)[..., None]
    expect = np.maximum(pre, 0)
    # relu is 1-Lipschitz: the matmul's error bound carries over
    eps = np.finfo(NP[dtype]).eps
    bound = 2 * (k + 4) * eps * ((np.abs(a64) @ np.abs(b64)) + np.abs(pre) + 1)
    err = np.abs(c.astype(np.float64) - expect)
    assert np.all(err <= bound), f"max error {np.nanmax(err)}"


def test_task_metadata(jit):
    _, kerns = jit
    for idx, (dtype, batch, m, n, k, ta, tb, opts) in enumerate(CASES):
        kern = kerns[f"mm{idx}"]
        assert kern.flops == 2 * batch * m * n * k
        assert kern.num_tasks == batch * -(-m // kern.rows_per_task)
        assert 1 <= kern.grain <= max(1, kern.num_tasks)


def test_blocked_stack_use_is_bounded():
    mod = ir.Module("stack")
    for dtype in ("f32", "f64"):
        kern = emit_matmul(mod, f"big_{dtype}", dtype, 1, 4096, 4096, 4096, False, False)
        assert kern.path == "blocked"
    total = {}
    for fn in mod.functions:
        for block in fn.blocks:
            for ins in block.instructions:
                if isinstance(ins, ir.instructions.AllocaInstr):
                    t = ins.allocated_type
                    size = 4 if str(t.element) == "float" else 8
                    total[fn.name] = total.get(fn.name, 0) + t.count * size
    assert total and all(v <= STACK_LIMIT for v in total.values()), total


def test_path_choice():
    lanes = choose_blocking("f32").lanes
    assert use_blocked("f32", 1024, 1024, 1024, False, False, lanes)
    assert use_blocked("f64", 2048, 2048, 2048, True, True, lanes)
    assert not use_blocked("f32", 1, 4096, 4096, False, False, lanes)     # a row vector
    assert not use_blocked("i32", 1024, 1024, 1024, False, False, lanes)
    assert not use_blocked("f32", 1024, 1024, 0, False, False, lanes)


def test_blocking_for_isas():
    b512 = choose_blocking("f32", "+avx512f,+avx2,+fma")
    assert (b512.lanes, b512.use_fma) == (16, True)
    assert choose_blocking("f64", "+avx512f").lanes == 8
    assert choose_blocking("f32", AVX2).lanes == 8
    assert choose_blocking("f32", SSE).lanes == 4 and not choose_blocking("f32", SSE).use_fma
    narrow = choose_blocking("f32", "+avx512f", n=8)
    assert narrow.lanes == 8 and narrow.nr == 8
    for blk in (b512, narrow, choose_blocking("f64", AVX2)):
        assert blk.mc % blk.mr == 0 and blk.nc % blk.nr == 0
        assert blk.mr * blk.nrv <= 24


def test_errors_name_the_op():
    mod = ir.Module("errors")
    with pytest.raises(ValueError, match="dot 'x'.*dtype"):
        emit_matmul(mod, "x", "bool", 1, 2, 2, 2, False, False)
    with pytest.raises(ValueError, match="dot 'y'.*non-negative"):
        emit_matmul(mod, "y", "f32", 1, -2, 2, 2, False, False)
    with pytest.raises(ValueError, match="dot 'z'.*blocked path"):
        emit_matmul(mod, "z", "i32", 1, 64, 64, 64, False, False, path="blocked")


@pytest.mark.slow
def test_random_shapes_both_paths():
    """A sweep of random shapes, flags and dtypes through both paths."""
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        m, n, k = (int(x) for x in rng.integers(1, 300, 3))
        cases.append(("f32" if i % 3 else "f64", int(rng.integers(1, 3)), m, n, k,
                      bool(rng.integers(2)), bool(rng.integers(2)),
                      "blocked" if i % 2 else "direct"))
    mod = ir.Module("sweep")
    kerns = []
    for i, (dtype, batch, m, n, k, ta, tb, path) in enumerate(cases):
        kern = emit_matmul(mod, f"s{i}", dtype, batch, m, n, k, ta, tb, path=path)
        _wrapper(mod, f"split_s{i}", kern, 3, _pieces(kern.num_tasks))
        kerns.append(kern)
    jm = JITModule(str(mod))
    for i, (dtype, batch, m, n, k, ta, tb, path) in enumerate(cases):
        a, b = _data(dtype, batch, m, n, k, ta, tb, i)
        c = np.full((batch, m, n), np.nan, NP[dtype])
        _run(jm, f"split_s{i}", [a, b, c])
        a64, b64, ref = _reference(a, b, ta, tb)
        _check(c, ref, a64, b64, k)
