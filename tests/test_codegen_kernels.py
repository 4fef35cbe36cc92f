"""Compiled functions as wholes: fused kernel groups against the unfused
program and the reference interpreter, multi-result functions, results that
update parameters in place, buffer reuse, vectorized inner loops, and large
kernels split across threads."""
import re

import cffi
import numpy as np
import pytest

from tfcompile.ir.compiler import compile_function, threads_available
from tfcompile.ir.core import Builder, Function, IRError, TensorType
from tfcompile.ir.interpreter import run_function
from tfcompile.ir.passes.buffers import assign_buffers

RNG = np.random.default_rng(99)


def rand(shape, dt="f32", lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, shape).astype(dt.replace("f", "float"))


def check(fn, args, kernels=None, rtol=2e-5, **kw):
    cf = compile_function(fn, kernels, **kw)
    got = cf.run([np.array(a, copy=True) for a in args])
    want = run_function(fn, [np.array(a, copy=True) for a in args])
    for j, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, fn.result_names[j]
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, err_msg=fn.result_names[j])
    return cf


def by_result(fn, *values):
    """The instructions computing `values`, in body order (a kernel group)."""
    want = set(values)
    return [ins for ins in fn.body if ins.result in want]


def rest(fn, groups):
    """One kernel per instruction not in `groups`, all in body order."""
    taken = {ins for g in groups for ins in g}
    out, placed = [], set()
    for ins in fn.body:
        if ins in taken:
            g = next(g for g in groups if ins in g)
            if id(g) not in placed:
                placed.add(id(g))
                out.append(g)
        else:
            out.append([ins])
    return out


# ---------------------------------------------------------------------------
# Fusion

def test_fused_elementwise_chain_with_broadcast_and_transpose():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((4, 5, 6), "f32"), "x")
    bias = b.param(TensorType((6,), "f32"), "bias")
    z = b.param(TensorType((6, 4, 5), "f32"), "z")
    bb = b.emit("broadcast", [bias], shape=(4, 5, 6), dims=(2,))
    e = b.emit("exp", [b.emit("add", [x, bb])])
    two = b.emit("broadcast", [b.constant(np.float32(2.0))], shape=(4, 5, 6), dims=())
    t = b.emit("transpose", [b.emit("mul", [e, two])], perm=(2, 0, 1))
    out = b.emit("tanh", [b.emit("sub", [t, z])])
    b.result(out, "out")
    args = [rand((4, 5, 6)), rand((6,)), rand((6, 4, 5))]
    unfused = check(fn, args)
    group = [ins for ins in fn.body if ins.op != "constant"]
    fused = check(fn, args, kernels=[group])
    assert fused.stats["nests"] == 1 and unfused.stats["nests"] > 1
    assert fused.arena_bytes == 0      # nothing inside the group is materialized
    np.testing.assert_array_equal(fused.run(args)[0], unfused.run(args)[0])


def test_fused_reductions_with_producers():
    """softmax over the last axis in two kernels, and a column reduction."""
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((7, 33), "f32"), "x")
    m = b.emit("reduce", [x], kind="max", axes=(1,))
    mb = b.emit("broadcast", [m], shape=(7, 33), dims=(0,))
    e = b.emit("exp", [b.emit("sub", [x, mb])])
    s = b.emit("reduce", [e], kind="sum", axes=(1,))
    sb = b.emit("broadcast", [s], shape=(7, 33), dims=(0,))
    sm = b.emit("div", [e, sb])
    col = b.emit("reduce", [b.emit("mul", [x, x])], kind="sum", axes=(0,))
    b.result(sm, "softmax")
    b.result(col, "colsum")
    args = [rand((7, 33))]
    check(fn, args)
    g1 = by_result(fn, m)
    g2 = [ins for ins in fn.body if ins.result in (mb, e, s) or
          (ins.op in ("sub",) and ins.result in e.producer.operands)]
    g3 = [ins for ins in fn.body if ins.result in (sb, sm)]
    g4 = [ins for ins in fn.body if ins.result is col or ins.result in col.producer.operands]
    fused = check(fn, args, kernels=[g1, g2, g3, g4])
    assert fused.stats["kernels"] == 4
    kinds = fused.stats["nest_kinds"]
    assert kinds.get("reduce_acc") == 1     # the column sum accumulates row by row


def test_multi_output_group_of_mixed_shapes():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((5, 8), "f64"), "x")
    y = b.emit("exp", [x])
    r = b.emit("reduce", [y], kind="sum", axes=(1,))
    t = b.emit("transpose", [y], perm=(1, 0))
    b.result(y, "y")
    b.result(r, "r")
    b.result(t, "t")
    args = [rand((5, 8), "f64")]
    cf = check(fn, args, kernels=[list(fn.body)], rtol=1e-12)
    assert cf.stats["kernels"] == 1


@pytest.mark.parametrize("bsh, m, k, n", [((), 6, 5, 7), ((2,), 64, 96, 48)])
def test_dot_with_bias_relu_epilogue(bsh, m, k, n):
    """The epilogue is fused into the matmul (small loop path and packed path)."""
    fn = Function()
    b = Builder(fn)
    a = b.param(TensorType(bsh + (m, k), "f32"), "a")
    w = b.param(TensorType(bsh + (k, n), "f32"), "w")
    bias = b.param(TensorType((n,), "f32"), "bias")
    res = b.param(TensorType(bsh + (m, n), "f32"), "res")
    d = b.emit("dot", [a, w])
    bb = b.emit("broadcast", [bias], shape=bsh + (m, n), dims=(len(bsh) + 1,))
    zero = b.emit("broadcast", [b.constant(np.float32(0))], shape=bsh + (m, n), dims=())
    relu = b.emit("max", [b.emit("add", [d, bb]), zero])
    out = b.emit("add", [relu, b.emit("convert", [b.emit("gt", [res, zero])], dtype="f32")])
    b.result(out, "out")
    args = [rand(bsh + (m, k)), rand(bsh + (k, n)), rand((n,)), rand(bsh + (m, n))]
    unfused = check(fn, args, rtol=1e-4)
    fused = check(fn, args, kernels=[[ins for ins in fn.body if ins.op != "constant"]],
                  rtol=1e-4)
    assert fused.stats["nest_kinds"] == {"matmul": 1}
    np.testing.assert_allclose(fused.run(args)[0], unfused.run(args)[0], rtol=1e-5, atol=1e-5)


def test_schedule_errors_name_the_instruction():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((3,), "f32"), "x")
    y = b.emit("exp", [x])
    z = b.emit("neg", [y])
    b.result(z)
    with pytest.raises(IRError, match="neg %.*uses %.*before kernel 1"):
        compile_function(fn, kernels=[[z.producer], [y.producer]])
    with pytest.raises(IRError, match="no kernel computes"):
        compile_function(fn, kernels=[[z.producer]])


# ---------------------------------------------------------------------------
# Results

def test_multiple_results_params_constants_and_duplicates():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((2, 3), "f32"), "x")
    i = b.param(TensorType((4,), "i32"), "i")
    c = b.constant(np.array([[1, 2, 3], [4, 5, 6]], np.float32))
    y = b.emit("add", [x, c])
    b.result(y, "y")
    b.result(x, "x_again")
    b.result(c, "the_constant")
    b.result(y, "y_twice")
    b.result(i, "ints")
    b.result(b.emit("reduce", [y], kind="max", axes=(0, 1)), "scalar")
    args = [rand((2, 3)), np.array([1, -2, 3, 4], np.int32)]
    cf = compile_function(fn)
    got = cf.run(args)
    want = run_function(fn, args)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert got[0] is not got[3]


def test_variable_update_reads_old_value_after_new_is_computed():
    """w_new = w - 0.5 * g; then loss = sum(w * w) reads the OLD w."""
    fn = Function()
    b = Builder(fn)
    w = b.param(TensorType((3, 4), "f32"), "w")
    g = b.param(TensorType((3, 4), "f32"), "g")
    half = b.emit("broadcast", [b.constant(np.float32(0.5))], shape=(3, 4), dims=())
    w_new = b.emit("sub", [w, b.emit("mul", [half, g])])
    loss = b.emit("reduce", [b.emit("mul", [w, w])], kind="sum", axes=(0, 1))
    b.result(loss, "loss")
    b.result(w_new, "w_update", alias_param=0)
    w0, g0 = rand((3, 4)), rand((3, 4))
    want_loss, want_w = run_function(fn, [w0, g0])
    cf = compile_function(fn)
    assert cf.buffers.location(w_new)[0] == "arena"     # written after the last read
    wbuf = w0.copy()
    loss_v, w_out = cf.run([wbuf, g0])
    np.testing.assert_allclose(loss_v, want_loss, rtol=1e-6)
    np.testing.assert_array_equal(wbuf, want_w)
    assert w_out is wbuf
    # A second step continues from the updated buffer.
    loss2, _ = cf.run([wbuf, g0])
    np.testing.assert_allclose(loss2, np.sum(want_w.astype(np.float64) ** 2), rtol=1e-5)


def test_variable_update_written_in_place_when_last_reader():
    fn = Function()
    b = Builder(fn)
    w = b.param(TensorType((1000,), "f32"), "w")
    g = b.param(TensorType((1000,), "f32"), "g")
    loss = b.emit("reduce", [b.emit("mul", [w, g])], kind="sum", axes=(0,))
    lr = b.emit("broadcast", [b.constant(np.float32(0.1))], shape=(1000,), dims=())
    w_new = b.emit("sub", [w, b.emit("mul", [lr, g])])
    b.result(loss, "loss")
    b.result(w_new, "w", alias_param=0)
    group = [w_new.producer.operands[1].producer, w_new.producer]
    kernels = rest(fn, [group])
    w0, g0 = rand((1000,)), rand((1000,))
    want = run_function(fn, [w0, g0])
    for ks in (None, kernels):
        cf = compile_function(fn, ks)
        assert cf.buffers.location(w_new) == ("param", 0)   # no temporary, no copy
        wbuf = w0.copy()
        got = cf.run([wbuf, g0])
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
        np.testing.assert_array_equal(wbuf, want[1])


def test_swapped_and_returned_variables():
    """a' = b, b' = a (both in place), and the old a is also returned."""
    fn = Function()
    bl = Builder(fn)
    a = bl.param(TensorType((5,), "i64"), "a")
    b_ = bl.param(TensorType((5,), "i64"), "b")
    bl.result(b_, "a_new", alias_param=0)
    bl.result(a, "b_new", alias_param=1)
    bl.result(a, "old_a")
    bl.result(bl.emit("add", [a, b_]), "sum")
    av, bv = np.arange(5, dtype=np.int64), np.arange(10, 15, dtype=np.int64)
    want = run_function(fn, [av, bv])
    abuf, bbuf = av.copy(), bv.copy()
    got = compile_function(fn).run([abuf, bbuf])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(abuf, bv)
    np.testing.assert_array_equal(bbuf, av)


def test_updated_param_must_be_a_writeable_array():
    fn = Function()
    b = Builder(fn)
    w = b.param(TensorType((3,), "f32"), "weights")
    b.result(b.emit("neg", [w]), "w", alias_param=0)
    cf = compile_function(fn)
    with pytest.raises(ValueError, match="weights.*updated in place"):
        cf.run([[1.0, 2.0, 3.0]])
    ro = np.ones(3, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="weights"):
        cf.run([ro])


# ---------------------------------------------------------------------------
# Buffers

def test_arena_reuse_and_in_place():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((64, 64), "f32"), "x")
    v = x
    for op in ("exp", "neg", "tanh", "abs", "sqrt", "log1p"):
        v = b.emit(op, [v])
    t = b.emit("transpose", [v], perm=(1, 0))
    b.result(b.emit("add", [t, x]), "out")
    args = [rand((64, 64))]
    with_reuse = check(fn, args)
    without = check(fn, args, reuse=False)
    assert with_reuse.arena_bytes < without.arena_bytes
    assert with_reuse.stats["in_place"] > 0
    assert with_reuse.arena_bytes == 2 * 64 * 64 * 4   # the transpose can't be in place
    ba = assign_buffers(fn)
    assert ba.arena_bytes == with_reuse.arena_bytes and ba.arena_bytes % 64 == 0


def test_zero_size_buffers_anywhere():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((0, 3), "f32"), "x")
    y = b.param(TensorType((4,), "f32"), "y")
    e = b.emit("exp", [x])
    b.result(e, "e")
    b.result(b.emit("reduce", [e], kind="sum", axes=(0,)), "s")
    b.result(b.emit("concatenate", [b.emit("reshape", [e], shape=(0,)), y], axis=0), "cat")
    args = [np.zeros((0, 3), np.float32), rand((4,))]
    check(fn, args)
    cf = check(fn, args, kernels=[list(fn.body)])
    # The entry never touches a 0-byte buffer: NULL is fine there.
    ffi = cffi.FFI()
    cat = np.empty(4, np.float32)
    s = np.empty(3, np.float32)
    arena = np.empty(cf.arena_bytes + 64, np.uint8)
    ptrs = ffi.new("void *[]", [ffi.NULL, ffi.cast("void *", args[1].ctypes.data), ffi.NULL,
                                ffi.cast("void *", s.ctypes.data),
                                ffi.cast("void *", cat.ctypes.data),
                                ffi.cast("void *", arena.ctypes.data + (-arena.ctypes.data) % 64)])
    assert cf.entry(ptrs) == 0
    np.testing.assert_array_equal(cat, args[1])
    np.testing.assert_array_equal(s, np.zeros(3, np.float32))


# ---------------------------------------------------------------------------
# Code quality

def test_f32_elementwise_inner_loop_is_vectorized():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((37, 1003), "f32"), "x")
    y = b.param(TensorType((37, 1003), "f32"), "y")
    b.result(b.emit("add", [b.emit("mul", [x, y]), x]))
    cf = check(fn, [rand((37, 1003)), rand((37, 1003))], kernels=[list(fn.body)])
    assert re.search(r"<\d+ x float>", cf.optimized_ir), "no vector type in the optimized IR"


def test_broadcast_add_loop_nest_is_vectorized():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((50, 301), "f32"), "x")
    bias = b.param(TensorType((301,), "f32"), "bias")
    bb = b.emit("broadcast", [bias], shape=(50, 301), dims=(1,))
    b.result(b.emit("exp", [b.emit("add", [x, bb])]))
    cf = check(fn, [rand((50, 301)), rand((301,))], kernels=[list(fn.body)])
    assert re.search(r"<\d+ x float>", cf.optimized_ir)
    assert cf.stats["nest_kinds"] == {"loop": 1}


@pytest.mark.skipif(not threads_available(), reason="no C compiler for the thread pool")
def test_large_kernels_split_across_threads():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((300, 700), "f32"), "x")
    y = b.param(TensorType((700, 200), "f32"), "y")
    e = b.emit("tanh", [x])
    b.result(e, "tanh")
    b.result(b.emit("reduce", [e], kind="sum", axes=(0,)), "colsum")
    b.result(b.emit("reduce", [e], kind="max", axes=(1,)), "rowmax")
    b.result(b.emit("dot", [x, y]), "dot")
    args = [rand((300, 700)), rand((700, 200))]
    cf = check(fn, args, rtol=1e-4)
    assert cf.stats["parallel_nests"] >= 3
    single = compile_function(fn, parallel=False)
    assert single.stats["parallel_nests"] == 0
    for g, s in zip(cf.run(args), single.run(args)):
        np.testing.assert_allclose(g, s, rtol=1e-5, atol=1e-4)


def test_large_transposes_loop_in_tiles():
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((70, 130), "f32"), "x")
    y = b.param(TensorType((3, 100, 70), "f64"), "y")
    t = b.emit("transpose", [x], perm=(1, 0))
    b.result(b.emit("exp", [t]), "t2")
    b.result(b.emit("transpose", [y], perm=(0, 2, 1)), "t3")
    b.result(b.emit("transpose", [y], perm=(1, 0, 2)), "keeps_last")
    cf = check(fn, [rand((70, 130)), rand((3, 100, 70), "f64")],
               kernels=[[t.producer, fn.body[1]], [fn.body[2]], [fn.body[3]]])
    assert cf.stats["nests"] == 3


def test_dot_of_fused_operand_and_constant_weights():
    """The transposed input is stored by the kernel, then the matmul reads it."""
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((9, 40), "f32"), "x")
    w = b.constant(rand((9, 11)))
    bias = b.constant(rand((11,)))
    xt = b.emit("transpose", [b.emit("tanh", [x])], perm=(1, 0))
    d = b.emit("dot", [xt, w])
    out = b.emit("add", [d, b.emit("broadcast", [bias], shape=(40, 11), dims=(1,))])
    b.result(out, "out")
    cf = check(fn, [rand((9, 40))], kernels=[[i for i in fn.body if i.op != "constant"]],
               rtol=1e-5)
    assert cf.stats["nest_kinds"] == {"loop": 1, "matmul": 1}
