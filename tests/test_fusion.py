"""Fusion: which instructions share a kernel, and that the fused code computes
what the reference interpreter does.

Each case builds IR, runs the whole pipeline, checks the grouping (roots,
members, kinds) and runs the compiled kernels against the interpreter on
the original function. The last test states the kernel count of the MNIST
MLP training step and checks it trains exactly like the unoptimized build.
"""
import numpy as np
import pytest

from tfcompile.ir.compiler import compile_function
from tfcompile.ir.core import (BINARY_OPS, COMPARE_OPS, UNARY_OPS, Builder, Function,
                                 TensorType)
from tfcompile.ir.interpreter import evaluate, run_function
from tfcompile.ir.passes.buffers import group_outputs
from tfcompile.ir.passes.pipeline import optimize


@pytest.fixture(autouse=True)
def _verify_every_pass(monkeypatch):
    monkeypatch.setenv("TFC_VERIFY", "1")


def f32(*shape):
    return TensorType(shape, "f32")


def scalar(b, value, shape):
    return b.emit("broadcast", [b.constant(np.float32(value))], shape=shape, dims=())


def _args(fn, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for p in fn.params:
        if p.dtype == "f32":
            out.append(rng.uniform(-2, 2, p.shape).astype(np.float32))
        else:
            out.append(rng.integers(0, 5, p.shape).astype(p.type.np_dtype))
    return out


def compiled_vs_interpreter(fn, rtol=1e-5, atol=1e-6):
    """Optimizes and compiles `fn`; checks it against the interpreter on `fn`."""
    opt, kernels, stats = optimize(fn)
    cf = compile_function(opt, kernels=kernels)
    args = _args(fn)
    want = run_function(fn, [a.copy() for a in args])
    got = cf.run([a.copy() for a in args])
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return opt, kernels, stats, cf


def ops_of(kernel):
    return [i.op for i in kernel]


def outputs(fn, kernels):
    return [[v.producer.op for v in outs] for outs in group_outputs(fn, kernels)]


# -- (a) loop fusion ---------------------------------------------------------------------

def test_elementwise_and_broadcast_chain_is_one_flat_loop():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(64, 32), "x")
    w = b.param(f32(64, 32), "w")
    bias = b.param(f32(), "b")
    t = b.emit("add", [b.emit("mul", [x, w]), b.emit("broadcast", [bias], shape=(64, 32), dims=())])
    r = b.emit("max", [t, scalar(b, 0.0, (64, 32))])
    y = b.emit("add", [b.emit("mul", [r, scalar(b, 0.5, (64, 32))]), b.emit("tanh", [x])])
    b.result(y)
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert len(kernels) == 1
    assert cf.stats["nests"] == 1
    assert stats["fused"] == len(kernels[0]) - 1


def test_movement_ops_fuse_into_their_consumer():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(4, 6), "x")
    v = b.param(f32(6), "v")
    xt = b.emit("transpose", [x], perm=(1, 0))                       # [6,4]
    xr = b.emit("reshape", [xt], shape=(3, 8))
    vb = b.emit("reshape", [b.emit("broadcast", [v], shape=(4, 6), dims=(1,))], shape=(3, 8))
    sl = b.emit("slice", [b.emit("add", [xr, vb])], start=(0, 1), limit=(3, 8), stride=(1, 2))
    b.result(b.emit("exp", [sl]))
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert len(kernels) == 1
    assert {"transpose", "reshape", "broadcast", "slice", "add", "exp"} <= set(ops_of(kernels[0]))


# -- (b) reductions ------------------------------------------------------------------------

def softmax_fn(n, c):
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(n, c), "x")
    m = b.emit("reduce", [x], kind="max", axes=(1,))
    e = b.emit("exp", [b.emit("sub", [x, b.emit("broadcast", [m], shape=(n, c), dims=(0,))])])
    s = b.emit("reduce", [e], kind="sum", axes=(1,))
    b.result(b.emit("div", [e, b.emit("broadcast", [s], shape=(n, c), dims=(0,))]), "softmax")
    return fn


def test_softmax_takes_two_passes_over_memory():
    fn = softmax_fn(50, 37)
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    # Pass 1: the row max and the sum of exp(x - max), one loop over the rows.
    # Pass 2: exp(x - max) / sum, recomputing the cheap exp instead of storing it.
    assert len(kernels) == 2
    assert outputs(opt, kernels) == [["reduce", "reduce"], ["div"]]
    assert cf.stats["nests"] == 2
    assert ops_of(kernels[1]).count("exp") == 1 and stats["duplicated"] >= 1
    x = _args(fn)[0]
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(cf.run([x])[0], e / e.sum(1, keepdims=True), rtol=1e-5)


def test_reductions_of_one_row_share_a_loop():
    # max, sum(exp(x - max)) and sum(|x - max|): one loop over the rows.
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(20, 9), "x")
    m = b.emit("reduce", [x], kind="max", axes=(1,))
    d = b.emit("sub", [x, b.emit("broadcast", [m], shape=(20, 9), dims=(0,))])
    b.result(b.emit("reduce", [b.emit("exp", [d])], kind="sum", axes=(1,)), "s")
    b.result(b.emit("reduce", [b.emit("abs", [d])], kind="sum", axes=(1,)), "q")
    b.result(b.emit("mul", [d, d]), "squares")
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert stats["merged_reductions"] == 2
    assert outputs(opt, kernels) == [["reduce", "reduce", "reduce"], ["mul"]]
    assert cf.stats["nests"] == 2


def test_reduction_read_only_by_another_keeps_its_own_kernel():
    # Merged, the max would be recomputed for every element the sum reads.
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(20, 9), "x")
    m = b.emit("reduce", [x], kind="max", axes=(1,))
    d = b.emit("sub", [x, b.emit("broadcast", [m], shape=(20, 9), dims=(0,))])
    b.result(b.emit("reduce", [b.emit("exp", [d])], kind="sum", axes=(1,)), "s")
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert stats["merged_reductions"] == 0
    assert outputs(opt, kernels) == [["reduce"], ["reduce"]]


def test_reduction_feeds_elementwise_consumer_in_one_kernel():
    # mean over rows: the sum is computed inside the division's loop.
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(16, 10), "x")
    s = b.emit("reduce", [x], kind="sum", axes=(1,))
    b.result(b.emit("div", [s, b.emit("broadcast", [b.constant(np.float32(10))], shape=(16,),
                                       dims=())]))
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert len(kernels) == 1 and ops_of(kernels[0]) == ["reduce", "div"]


def test_column_reduction_stays_its_own_kernel():
    # A reduce keeping the innermost dim accumulates row by row when alone;
    # inside a consumer's loop it would walk columns with a stride.
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(16, 10), "x")
    v = b.param(f32(10), "v")
    s = b.emit("reduce", [x], kind="sum", axes=(0,))
    b.result(b.emit("sub", [v, s]))
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert [ops_of(k) for k in kernels] == [["reduce"], ["sub"]]


# -- (c) dot with an epilogue ----------------------------------------------------------------

def test_dense_layer_is_one_matmul_with_epilogue():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(32, 20), "x")
    w = b.param(f32(20, 12), "W")
    bias = b.param(f32(12), "b")
    z = b.emit("add", [b.emit("dot", [x, w]), b.emit("broadcast", [bias], shape=(32, 12), dims=(1,))])
    b.result(b.emit("max", [z, scalar(b, 0.0, (32, 12))]), "h")
    opt, kernels, stats, cf = compiled_vs_interpreter(fn, rtol=1e-4)
    assert len(kernels) == 1 and stats["kernel_kinds"] == {"dot": 1}
    assert cf.stats["nest_kinds"] == {"matmul": 1}


def test_dot_operands_are_stored_and_shared_pre_activation_keeps_the_epilogue():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(8, 5), "x")
    w = b.param(f32(5, 6), "W")
    bias = b.param(f32(6), "b")
    xe = b.emit("tanh", [x])                      # a dot operand: its own kernel
    z = b.emit("add", [b.emit("dot", [xe, w]), b.emit("broadcast", [bias], shape=(8, 6), dims=(1,))])
    m = b.emit("reduce", [z], kind="max", axes=(1,))
    b.result(b.emit("sub", [z, b.emit("broadcast", [m], shape=(8, 6), dims=(0,))]))
    opt, kernels, stats, cf = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-5)
    # z has consumers in two kernels: it is stored once, by the matmul's epilogue,
    # instead of cloning the add (which would need the dot twice).
    assert [ops_of(k) for k in kernels] == [
        ["tanh"], ["dot", "broadcast", "add"], ["reduce"], ["broadcast", "sub"]]
    assert cf.stats["nest_kinds"].get("matmul") == 1


def test_variable_update_fuses_into_the_gradient_matmul():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(16, 8), "x")
    g = b.param(f32(16, 4), "g")
    w = b.param(f32(8, 4), "W")
    xt = b.emit("transpose", [x], perm=(1, 0))
    dw = b.emit("dot", [xt, g])
    b.result(b.emit("sub", [w, b.emit("mul", [dw, scalar(b, 0.1, (8, 4))])]), "W",
             alias_param=2)
    opt, kernels, stats, _ = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-5)
    assert len(kernels) == 1 and stats["kernel_kinds"] == {"dot": 1}
    dot = next(i for i in opt.body if i.op == "dot")
    assert dot.attrs["transpose_a"] is True        # the transpose became a flag
    assert opt.aliases == {0: 2}
    args = _args(fn, seed=3)
    want = run_function(fn, [a.copy() for a in args])[0]
    cf = compile_function(opt, kernels=kernels)
    w_arr = args[2]
    cf.run(args)
    np.testing.assert_allclose(w_arr, want, rtol=1e-4, atol=1e-6)   # updated in place


# -- several consumers -----------------------------------------------------------------------

def test_cheap_producer_is_cloned_into_each_consumer():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(12, 7), "x")
    y = b.param(f32(12, 7), "y")
    a = b.emit("add", [x, y])
    b.result(b.emit("reduce", [a], kind="sum", axes=(0,)))
    b.result(b.emit("reduce", [a], kind="max", axes=(1,)))
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert len(kernels) == 2 and stats["duplicated"] == 1
    assert all(ops_of(k) == ["add", "reduce"] for k in kernels)


def test_expensive_producer_is_stored_once():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(12, 7), "x")
    sq = b.emit("add", [b.emit("mul", [x, x]), scalar(b, 1.0, (12, 7))])
    e = b.emit("tanh", [b.emit("exp", [b.emit("log", [sq])])])
    b.result(b.emit("reduce", [e], kind="sum", axes=(0,)))
    b.result(b.emit("reduce", [e], kind="max", axes=(1,)))
    opt, kernels, stats, cf = compiled_vs_interpreter(fn, rtol=1e-5)
    # Cloned into both reductions, tanh(exp(log(x*x + 1))) would be computed
    # twice (cost 14 > DUP_BUDGET): the whole chain is one kernel, stored once.
    assert len(kernels) == 3 and stats["duplicated"] == 0
    assert outputs(opt, kernels)[0] == ["tanh"]
    assert [ops_of(k).count("tanh") + ops_of(k).count("exp") for k in kernels] == [2, 0, 0]


def test_expensive_producer_under_a_broadcast_is_computed_once_per_element():
    def build(op):
        fn = Function()
        b = Builder(fn)
        x = b.param(f32(64, 16), "x")
        v = b.param(f32(64), "v")
        e = b.emit(op, [v])
        b.result(b.emit("add", [x, b.emit("broadcast", [e], shape=(64, 16), dims=(0,))]))
        return fn
    _, kernels, _, _ = compiled_vs_interpreter(build("exp"))
    assert [ops_of(k) for k in kernels] == [["exp"], ["broadcast", "add"]]
    _, kernels, _, _ = compiled_vs_interpreter(build("neg"))
    assert len(kernels) == 1


def test_rng_fuses_into_its_one_consumer():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(32, 8), "x")
    n = b.param(TensorType((), "i64"), "counter")
    r = b.emit("rng", [n], dist="uniform", shape=(32, 8), dtype="f32", seed=3, seed2=4)
    keep = b.emit("lt", [r, scalar(b, 0.5, (32, 8))])
    b.result(b.emit("select", [keep, x, scalar(b, 0.0, (32, 8))]), "dropped")
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert len(kernels) == 1 and "rng" in ops_of(kernels[0])


def test_values_returned_are_stored_even_when_fused_elsewhere():
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(10), "x")
    a = b.emit("exp", [x])
    b.result(a, "a")
    b.result(b.emit("mul", [a, x]), "b")
    opt, kernels, stats, cf = compiled_vs_interpreter(fn)
    assert [ops_of(k) for k in kernels] == [["exp"], ["mul"]]


# -- no work multiplied: a producer read more than once per element is stored -------------------

MOVEMENT_OPS = {"broadcast", "reshape", "transpose", "slice", "reverse", "pad", "concatenate",
                "iota", "gather"}
# Ops that read their operands at their own index: they compute, the others move.
ARITHMETIC_OPS = set(UNARY_OPS + BINARY_OPS + COMPARE_OPS + ("select", "convert"))


def _element_sources(ins, slot):
    """For each element of `ins`'s result (flat), the flat index of the element
    of operand `slot` it reads, or -1: the op evaluated on the operand's ids."""
    arrays = [np.full(o.shape, -1, np.int64) for o in ins.operands]
    o = ins.operands[slot]
    arrays[slot] = np.arange(o.type.size, dtype=np.int64).reshape(o.shape)
    attrs = dict(ins.attrs)
    if ins.op == "pad":
        attrs["value"] = -1
    return evaluate(ins.op, arrays, attrs).reshape(-1)


def kernel_needs(group, outputs):
    """Per member value of a kernel, a bit matrix [its elements, elements of
    the kernel's outputs] (rows packed with np.packbits): which output
    elements each of its elements is computed for. Brute force over the op
    semantics (the interpreter), an oracle independent of the fusion pass's
    own accounting."""
    sizes = [o.type.size for o in outputs]
    cols = sum(sizes)
    need = {}
    off = 0
    for o, n in zip(outputs, sizes):
        eye = np.zeros((n, cols), bool)
        eye[np.arange(n), off + np.arange(n)] = True
        need[o] = need.get(o, 0) | np.packbits(eye, axis=1)
        off += n
    members = {ins.result for ins in group}
    for ins in reversed(group):
        nv = need.get(ins.result)
        if nv is None or ins.op == "dot":
            continue
        for slot, o in enumerate(ins.operands):
            if o not in members:
                continue
            no = need.setdefault(o, np.zeros((o.type.size, nv.shape[1]), np.uint8))
            if ins.op in ARITHMETIC_OPS:
                no |= nv
            elif ins.op == "reduce":
                idx = np.indices(o.shape)
                kept = [idx[d] for d in range(o.type.rank) if d not in ins.attrs["axes"]]
                out = (np.ravel_multi_index(kept, ins.type.shape) if kept
                       else np.zeros(o.shape, np.int64))
                no |= nv[out.reshape(-1)]
            else:
                # OR together the rows of the elements that read each operand element.
                src = _element_sources(ins, slot)
                hit = np.flatnonzero(src >= 0)
                order = hit[np.argsort(src[hit], kind="stable")]
                s = src[order]
                starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
                no[s[starts]] |= np.bitwise_or.reduceat(nv[order], starts, axis=0)
    return need


def most_reads(fn, kernels):
    """{(kernel, op, value name): the most output elements of its kernel that
    one element of the value is computed for} over every arithmetic member."""
    out = {}
    for k, (group, outs) in enumerate(zip(kernels, group_outputs(fn, kernels))):
        need = kernel_needs(group, outs)
        for ins in group:
            if ins.op in ARITHMETIC_OPS and ins.result in need:
                out[(k, ins.op, ins.result.name)] = _count_bits(need[ins.result])
    return out


def _count_bits(packed):
    """The largest number of set bits in a row."""
    return int(np.unpackbits(packed, axis=1).sum(1, dtype=np.int64).max())


def lowered(outputs, feeds):
    """The IR function of a tfcompile graph's `outputs` given placeholder `feeds`."""
    from tfcompile.lowering import lower
    g = outputs[0].graph
    types = {t: TensorType(t.shape.as_list(), "f32") for t in feeds}
    return lower(g, list(outputs), [], types, {}, None).fn


def conv_relu_pool_conv(n=1, hw=8, c=2, c1=3, c2=2):
    """conv2d -> bias -> relu -> 2x2 max pool -> conv2d, with tf.nn's ops."""
    import tfcompile as tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [n, hw, hw, c], name="x")
        k1 = tf.placeholder(tf.float32, [5, 5, c, c1], name="k1")
        b1 = tf.placeholder(tf.float32, [c1], name="b1")
        k2 = tf.placeholder(tf.float32, [5, 5, c1, c2], name="k2")
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, k1, [1, 1, 1, 1], "SAME"), b1))
        p = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        y = tf.nn.conv2d(p, k2, [1, 1, 1, 1], "SAME")
    return lowered([y], [x, k1, b1, k2])


def _pool_kernel(fn, kernels, pooled_shape):
    """The kernel storing the pool's output (a max of two strided slices)."""
    for k, outs in enumerate(group_outputs(fn, kernels)):
        for v in outs:
            ins = v.producer
            if (ins.op == "max" and v.shape == pooled_shape
                    and all(o.producer is not None and o.producer.op == "slice"
                            for o in ins.operands)):
                return k
    return None


@pytest.fixture
def im2col_lowering(monkeypatch):
    """Convolutions lowered as im2col and a dot (what integer convolutions
    get): a movement kernel reading each element up to KH*KW times."""
    from tfcompile.ops import conv_ops
    monkeypatch.setattr(conv_ops, "USE_CONV_OP", False)


def test_pool_feeding_an_im2col_keeps_its_own_kernel(im2col_lowering):
    # conv2's im2col reads each pooled value once per kernel tap (25 times):
    # bias, relu and the pool are computed once, into a buffer, and the im2col
    # kernel only moves data.
    fn = conv_relu_pool_conv()
    opt, kernels, stats, _ = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-5)
    assert stats["stored_for_reuse"] >= 1
    k = _pool_kernel(opt, kernels, (1, 4, 4, 3))
    assert k is not None, "the pooled value is stored by no kernel"
    # Bias, relu and both pool maxes stay fused (2x2 stride-2 windows read
    # each element once): one loop over conv1's output.
    assert {"add", "max"} <= set(ops_of(kernels[k])) and ops_of(kernels[k]).count("max") == 3
    dot2 = [i for i in opt.body if i.op == "dot"][-1]
    im2col = next(g for g in kernels if dot2.operands[0].producer in g)
    assert set(ops_of(im2col)) <= MOVEMENT_OPS, ops_of(im2col)
    # The oracle: no arithmetic op anywhere is computed for two output elements.
    reads = most_reads(opt, kernels)
    assert reads and max(reads.values()) == 1, {k: v for k, v in reads.items() if v > 1}


def test_oracle_sees_the_pool_recomputed_inside_the_im2col(im2col_lowering):
    # The grouping fusion made before: the pool's kernel inside conv2's im2col
    # kernel. The oracle counts each pooled max computed for 16 patch
    # elements (a 4x4 map, 5x5 taps: 4 rows by 4 columns reach each value).
    fn = conv_relu_pool_conv()
    opt, kernels, _ = optimize(fn)
    k = _pool_kernel(opt, kernels, (1, 4, 4, 3))
    dot2 = [i for i in opt.body if i.op == "dot"][-1]
    j = next(i for i, g in enumerate(kernels) if dot2.operands[0].producer in g)
    pos = {ins: i for i, ins in enumerate(opt.body)}
    old = [g for i, g in enumerate(kernels) if i not in (k, j)]
    old.insert(j - 1, sorted(kernels[k] + kernels[j], key=pos.__getitem__))
    reads = most_reads(opt, old)
    assert max(v for (_, op, _), v in reads.items() if op == "max") == 16


@pytest.mark.parametrize("lowering", ["conv", "col2im", "im2col"])
def test_pool_and_relu_gradients_are_computed_once(monkeypatch, lowering):
    # MaxPoolGrad and ReluGrad of conv2's output, then conv2's input and filter
    # gradients (the input gradient as a conv2d op, as col2im, or as an im2col
    # of the spread gradient that reads each element 25 times).
    import tfcompile as tf
    from tfcompile.ops import conv_ops
    monkeypatch.setattr(conv_ops, "USE_CONV_OP", lowering == "conv")
    monkeypatch.setattr(conv_ops, "USE_COL2IM", lambda cols, patches: lowering == "col2im")
    g = tf.Graph()
    with g.as_default():
        c = tf.placeholder(tf.float32, [1, 8, 8, 3], name="c")
        dy = tf.placeholder(tf.float32, [1, 4, 4, 3], name="dy")
        k = tf.placeholder(tf.float32, [5, 5, 2, 3], name="k")
        h = tf.placeholder(tf.float32, [1, 8, 8, 2], name="h")
        pooled = tf.nn.max_pool(tf.nn.relu(c), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        gc = tf.gradients(pooled, c, grad_ys=dy)[0]
        dx = tf.nn.conv2d_backprop_input([1, 8, 8, 2], k, gc, [1, 1, 1, 1], "SAME")
        dk = tf.nn.conv2d_backprop_filter(h, [5, 5, 2, 3], gc, [1, 1, 1, 1], "SAME")
    fn = lowered([dx, dk], [c, dy, k, h])
    opt, kernels, stats, _ = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-5)
    reads = most_reads(opt, kernels)
    assert max(reads.values()) == 1, {k: v for k, v in reads.items() if v > 1}
    # The gradient at conv2's output is computed once: no kernel holds two
    # copies of ReluGrad's select of relu's mask (gt).
    assert sum(ops_of(g).count("gt") for g in kernels) == 1


def test_row_reduction_read_through_a_concatenate_is_not_merged():
    # out[i] = sum_j concat(r, -r)[j] * z[i, j] with r = rowsum(x): r is read
    # at every j for every i. Merged into out's loop over rows, r would be
    # summed again per read (quadratic); it keeps its own kernel.
    n, k = 24, 9
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(n, k), "x")
    z = b.param(f32(n, 2 * n), "z")
    r = b.emit("reduce", [x], kind="sum", axes=(1,))
    c = b.emit("concatenate", [r, b.emit("neg", [r])], axis=0)
    bc = b.emit("broadcast", [c], shape=(n, 2 * n), dims=(1,))
    b.result(b.emit("reduce", [b.emit("mul", [bc, z])], kind="sum", axes=(1,)), "out")
    b.result(r, "r")
    opt, kernels, stats, cf = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-4)
    assert stats["merged_reductions"] == 0
    assert outputs(opt, kernels) == [["reduce"], ["reduce"]]
    assert ops_of(kernels[0]) == ["reduce"]
    assert {"neg", "concatenate", "broadcast", "mul"} <= set(ops_of(kernels[1]))
    # The negation (one op on a load) is computed again per read; nothing else is.
    reads = most_reads(opt, kernels)
    assert reads.pop((1, "neg", "1")) == n and set(reads.values()) == {1}


def test_cheap_producer_under_an_im2col_stays_fused(im2col_lowering):
    # relu(x) read 25 times by a 5x5 im2col: one op on one load, computed
    # again per read instead of a pass over memory of its own.
    import tfcompile as tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [1, 6, 6, 2], name="x")
        k = tf.placeholder(tf.float32, [5, 5, 2, 3], name="k")
        y = tf.nn.conv2d(tf.nn.relu(x), k, [1, 1, 1, 1], "SAME")
    fn = lowered([y], [x, k])
    opt, kernels, stats, _ = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-5)
    dot = next(i for i in opt.body if i.op == "dot")
    im2col = next(g for g in kernels if dot.operands[0].producer in g)
    assert "max" in ops_of(im2col) and stats["stored_for_reuse"] == 0


def test_stored_value_feeding_a_dot_in_another_shape_is_stored_in_that_shape():
    # t = tanh(exp(x)) is read by a reduction and, reshaped, by a matmul: too
    # costly to clone, it is computed once, straight into the matmul operand's
    # layout, and the reduction reads that buffer through a reshape (no copy).
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(2, 3, 4, 5), "x")
    w = b.param(f32(5, 6), "w")
    t = b.emit("tanh", [b.emit("exp", [x])])
    b.result(b.emit("reduce", [t], kind="sum", axes=(0, 1, 2)), "colsum")
    b.result(b.emit("dot", [b.emit("reshape", [t], shape=(24, 5)), w]), "y")
    opt, kernels, stats, _ = compiled_vs_interpreter(fn, rtol=1e-4, atol=1e-5)
    assert [ops_of(k) for k in kernels] == [
        ["exp", "tanh", "reshape"], ["reshape", "reduce"], ["dot"]]


def _reads_of(fn, name):
    """The fusion pass's count of the most reads of one element of %name."""
    from tfcompile.ir.passes import fusion
    fz = fusion._Fuser(fn)
    for ins in reversed(fn.body):
        fz.visit(ins)
    return next(t for v, t in fz.times.items() if v.name == name)


@pytest.mark.parametrize("k,s", [(2, 2), (3, 2), (3, 1), (5, 1)])
def test_read_count_bounds_the_oracle(k, s):
    # A pooling window (k taps, stride s) over neg(x), summed: the pass's count
    # is never below the brute-force count, and is exact when windows don't
    # overlap.
    n = 9
    fn = Function()
    b = Builder(fn)
    x = b.param(f32(n, 4), "x")
    y = b.emit("neg", [x])
    count = (n - k) // s + 1
    acc = None
    for t in range(k):
        sl = b.emit("slice", [y], start=(t, 0), limit=(t + (count - 1) * s + 1, 4), stride=(s, 1))
        acc = sl if acc is None else b.emit("add", [acc, sl])
    b.result(b.emit("mul", [acc, acc]))
    opt, kernels, _, _ = compiled_vs_interpreter(fn)
    assert len(kernels) == 1
    neg = next(i.result for i in kernels[0] if i.op == "neg")
    truth = _count_bits(kernel_needs(kernels[0], group_outputs(opt, kernels)[0])[neg])
    got = _reads_of(fn, y.name)
    assert got >= truth
    if s >= k:
        assert got == truth == 1


# -- the MNIST MLP training step ---------------------------------------------------------------

def _mlp_step(optimize_graph: bool, steps: int = 2):
    import tfcompile as tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        h = x
        layers = [(784, 144, tf.nn.relu), (144, 36, tf.nn.relu), (36, 10, None)]
        for i, (n_in, n_out, act) in enumerate(layers):
            w = tf.Variable(tf.random_uniform([n_in, n_out], -0.1, 0.1, seed=i + 1), name=f"W{i}")
            bias = tf.Variable(tf.zeros([n_out]), name=f"b{i}")
            h = tf.matmul(h, w) + bias
            h = act(h) if act else h
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    rng = np.random.default_rng(0)
    xb = rng.random((100, 784), dtype=np.float32)
    yb = rng.integers(0, 10, 100)
    with tf.Session(graph=g, config=tf.ConfigProto(tfc_optimize=optimize_graph)) as sess:
        sess.run(init)
        losses = [sess.run([loss, train], {x: xb, y: yb})[0] for _ in range(steps)]
        weights = sess.run(g.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
        step = max(sess._plans.values(), key=lambda p: len(p.fn.params))
        return losses, weights, step.exe.stats.get("passes")


def test_mnist_mlp_training_step_kernel_count(monkeypatch):
    """784-144-36-10 MLP, sparse softmax cross entropy, gradient descent: 18 kernels.

    forward   3  each dense layer's matmul + bias add (+ relu) in one kernel
    loss      3  row max and sum of exp (one loop over the rows); the loss
                 (log-sum-exp minus the label's logit, mean over the batch);
                 the logits' gradient (softmax - one_hot) / batch
    backward 11  per layer: dW matmul with the update W - lr * dW as its
                 epilogue (3); db reduction over the batch (3); b - lr * db (3);
                 and for layers 2 and 1, the matmul of the incoming gradient
                 with relu's gradient as its epilogue (2)
    check     1  the labels and whether all lie in [0, 10), for TF's error
                 (the test of the range joins the loss's loop)
    """
    monkeypatch.setenv("TFC_CACHE", "0")     # compiled here, so the passes' statistics exist
    _, _, stats = _mlp_step(True, steps=1)
    assert stats is not None
    assert stats["kernels"] == 18, stats["kernel_kinds"]
    assert stats["kernel_kinds"] == {"dot": 8, "reduce": 4, "loop": 6}


@pytest.mark.slow
def test_mnist_mlp_training_step_optimized_equals_unoptimized(monkeypatch):
    monkeypatch.setenv("TFC_CACHE", "0")
    losses, weights, stats = _mlp_step(True)
    ref_losses, ref_weights, ref_stats = _mlp_step(False)
    assert stats["kernels"] == 18 and ref_stats is None
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5)
    for w, r in zip(weights, ref_weights):
        np.testing.assert_allclose(w, r, rtol=1e-4, atol=1e-6)
