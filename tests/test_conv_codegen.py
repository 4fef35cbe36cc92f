"""The IR's conv2d and conv2d_filter ops: the interpreter against a plain numpy
loop, and the compiled implicit-im2col nests (ir/codegen/conv_nests.py)
against the interpreter -- odd output widths (masked vector tails), rows
that don't fill a register block, strides, dilations, f64, a K split into
chunks (the filter gradient of a big batch), a fused bias/relu epilogue,
and a sum over no channels.
"""
import numpy as np
import pytest

from tfcompile.ir.compiler import compile_function
from tfcompile.ir.core import Builder, Function, IRError, TensorType
from tfcompile.ir.interpreter import run_function
from tfcompile.ir.passes.pipeline import optimize


def naive_conv(x, w, s, d):
    n, hp, wp, c = x.shape
    kh, kw, _, o = w.shape
    ho = (hp - (kh - 1) * d[0] - 1) // s[0] + 1
    wo = (wp - (kw - 1) * d[1] - 1) // s[1] + 1
    out = np.zeros((n, ho, wo, o), np.float64)
    for p in range(ho):
        for q in range(wo):
            for i in range(kh):
                for j in range(kw):
                    out[:, p, q, :] += x[:, p * s[0] + i * d[0], q * s[1] + j * d[1], :] @ w[i, j]
    return out


def naive_filter(x, dy, s, d, window):
    kh, kw = window
    c, o = x.shape[3], dy.shape[3]
    out = np.zeros((kh, kw, c, o), np.float64)
    for p in range(dy.shape[1]):
        for q in range(dy.shape[2]):
            for i in range(kh):
                for j in range(kw):
                    out[i, j] += x[:, p * s[0] + i * d[0], q * s[1] + j * d[1], :].T @ dy[:, p, q, :]
    return out


def _fn(op, xs, ys, dtype, epilogue=False, **attrs):
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType(xs, dtype), "x")
    y = b.param(TensorType(ys, dtype), "y")
    v = b.emit(op, [x, y], **attrs)
    params = [x, y]
    if epilogue:                                  # relu(conv + bias)
        bias = b.param(TensorType((v.shape[-1],), dtype), "bias")
        bb = b.emit("broadcast", [bias], shape=v.shape, dims=[len(v.shape) - 1])
        zero = b.emit("broadcast", [b.constant(np.zeros((), TensorType((), dtype).np_dtype))],
                      shape=v.shape, dims=[])
        v = b.emit("max", [b.emit("add", [v, bb]), zero])
        params.append(bias)
    b.result(v, "out")
    return fn


def _check(fn, oracle=None, seed=0):
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-1, 1, p.shape).astype(p.type.np_dtype) for p in fn.params]
    want = run_function(fn, [a.copy() for a in args])[0]
    if oracle is not None:
        np.testing.assert_allclose(want, oracle(*args), rtol=1e-4, atol=1e-4)
    opt, kernels, _ = optimize(fn)
    got = compile_function(opt, kernels=kernels).run([a.copy() for a in args])[0]
    tol = 1e-4 if fn.params[0].dtype == "f32" else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))
    return opt, kernels


CONV_CASES = [
    # x shape, w shape, strides, dilations
    ((1, 5, 5, 1), (3, 3, 1, 1), (1, 1), (1, 1)),
    ((2, 9, 7, 3), (3, 2, 3, 17), (1, 1), (1, 1)),       # O: one vector and a masked one
    ((3, 12, 11, 5), (5, 5, 5, 40), (2, 1), (1, 1)),     # strides
    ((2, 13, 13, 4), (3, 3, 4, 70), (1, 2), (2, 3)),     # dilations, O past 4 vectors
    ((4, 18, 18, 32), (5, 5, 32, 64), (1, 1), (1, 1)),   # MNIST's conv2, threads
    ((2, 7, 7, 3), (3, 3, 3, 130), (1, 1), (1, 1)),      # tiles in a loop, then a rest
    ((1, 1, 1, 8), (1, 1, 8, 3), (1, 1), (1, 1)),        # one row
]


@pytest.mark.parametrize("xs,ws,s,d", CONV_CASES)
def test_conv2d_against_numpy_and_interpreter(xs, ws, s, d):
    fn = _fn("conv2d", xs, ws, "f32", strides=s, dilations=d)
    _check(fn, lambda x, w: naive_conv(x.astype(np.float64), w.astype(np.float64), s, d))


@pytest.mark.parametrize("xs,ws,s,d", CONV_CASES[1:4])
def test_conv2d_f64(xs, ws, s, d):
    fn = _fn("conv2d", xs, ws, "f64", strides=s, dilations=d)
    _check(fn, lambda x, w: naive_conv(x, w, s, d))


def test_conv2d_epilogue_is_fused():
    fn = _fn("conv2d", (2, 10, 10, 6), (3, 3, 6, 24), "f32", epilogue=True,
             strides=(1, 1), dilations=(1, 1))
    opt, kernels = _check(fn)
    conv_kernel = next(k for k in kernels if any(i.op == "conv2d" for i in k))
    assert {"add", "max"} <= {i.op for i in conv_kernel}


def test_conv2d_over_no_channels_is_zero():
    fn = _fn("conv2d", (1, 4, 4, 0), (2, 2, 0, 5), "f32", strides=(1, 1), dilations=(1, 1))
    _check(fn, lambda x, w: np.zeros((1, 3, 3, 5)))


FILTER_CASES = [
    # x shape, dy shape, strides, dilations, window
    ((2, 6, 6, 3), (2, 4, 4, 5), (1, 1), (1, 1), (3, 3)),
    ((3, 11, 9, 2), (3, 4, 3, 17), (2, 3), (1, 1), (4, 3)),
    ((1, 13, 13, 4), (1, 5, 5, 33), (2, 2), (2, 1), (2, 3)),
    # K = 16*14*14 rows of dy, 64 wide: 800 KB, split into chunks
    ((16, 18, 18, 32), (16, 14, 14, 64), (1, 1), (1, 1), (5, 5)),
]


@pytest.mark.parametrize("xs,ys,s,d,win", FILTER_CASES)
def test_conv2d_filter_against_numpy_and_interpreter(xs, ys, s, d, win):
    fn = _fn("conv2d_filter", xs, ys, "f32", strides=s, dilations=d, window=win)
    _check(fn, lambda x, dy: naive_filter(x.astype(np.float64), dy.astype(np.float64), s, d, win))


def test_conv2d_filter_f64():
    xs, ys, s, d, win = FILTER_CASES[1]
    fn = _fn("conv2d_filter", xs, ys, "f64", strides=s, dilations=d, window=win)
    _check(fn, lambda x, dy: naive_filter(x, dy, s, d, win))


def test_bad_geometry_is_an_ir_error():
    with pytest.raises(IRError, match="does not fit"):
        _fn("conv2d", (1, 3, 3, 1), (4, 4, 1, 1), "f32", strides=(1, 1), dilations=(1, 1))
    with pytest.raises(IRError, match="depth"):
        _fn("conv2d", (1, 5, 5, 2), (3, 3, 3, 1), "f32", strides=(1, 1), dilations=(1, 1))
    with pytest.raises(IRError, match="do not fit"):
        _fn("conv2d_filter", (1, 5, 5, 2), (1, 4, 4, 1), "f32", strides=(1, 1),
            dilations=(1, 1), window=(3, 3))
    with pytest.raises(IRError, match="f32 or f64"):
        _fn("conv2d", (1, 5, 5, 2), (3, 3, 2, 1), "i32", strides=(1, 1), dilations=(1, 1))


PADDED_CASES = [
    # x shape, (top, bottom) zero rows, w shape, strides, dilations
    ((2, 14, 14, 8), (2, 2), (5, 5, 8, 16), (1, 1), (1, 1)),   # SAME 5x5
    ((3, 9, 6, 2), (3, 0), (4, 3, 2, 5), (1, 1), (1, 1)),      # top only
    ((2, 9, 6, 2), (0, 4), (3, 3, 2, 5), (2, 1), (1, 1)),      # bottom only, strided
    ((2, 11, 7, 3), (5, 6), (3, 2, 3, 4), (3, 1), (2, 1)),     # pads past the window, dilated
    ((1, 5, 30, 2), (1, 1), (3, 3, 2, 7), (1, 2), (1, 1)),     # rows of blocks span output rows
    ((8, 2, 2, 3), (1, 1), (3, 3, 3, 4), (1, 1), (1, 1)),      # blocks span images
]


@pytest.mark.parametrize("xs,rows,ws,s,d", PADDED_CASES)
def test_conv2d_skips_kernel_rows_over_zero_padding(xs, rows, ws, s, d):
    # conv2d of a zero-padded input: the codegen skips kernel rows that only
    # meet padding rows; the result must still be the interpreter's.
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType(xs, "f32"), "x")
    w = b.param(TensorType(ws, "f32"), "w")
    xp = b.emit("pad", [x], low=[0, rows[0], 1, 0], high=[0, rows[1], 1, 0], value=0)
    b.result(b.emit("conv2d", [xp, w], strides=s, dilations=d), "out")
    _check(fn)


def test_conv2d_of_a_cropped_pad():
    # the lowering crops rows past the last window off the padded input
    fn = Function()
    b = Builder(fn)
    x = b.param(TensorType((2, 8, 8, 3), "f32"), "x")
    w = b.param(TensorType((3, 3, 3, 6), "f32"), "w")
    xp = b.emit("pad", [x], low=[0, 2, 1, 0], high=[0, 3, 1, 0], value=0)
    xp = b.emit("slice", [xp], start=[0, 0, 0, 0], limit=[2, 12, 10, 3], stride=[1, 1, 1, 1])
    b.result(b.emit("conv2d", [xp, w], strides=(2, 1), dilations=(1, 1)), "out")
    _check(fn)
