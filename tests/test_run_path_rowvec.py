"""A row vector times a matrix, the batch-1 forward pass's matmuls: the GEMM
library's direct kinds on one or a few rows (its K split into several sums)
over blocks of columns of a wider B, and whole MLP forward passes at batch 1,
each against numpy."""
import itertools

import cffi
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.ir.codegen import gemm, library

_ffi = cffi.FFI()
SIG = "void(*)(void*,void*,void*,int64_t,int64_t,int64_t,int64_t,int64_t,int64_t,int64_t)"


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("kind", ["direct_n", "direct_t"])
def test_row_vectors_times_column_blocks(kind, dtype):
    rng = np.random.default_rng(11)
    f = _ffi.cast(SIG, library.address(gemm.symbol(kind, dtype)))
    npdt = np.float32 if dtype == "f32" else np.float64
    ta = kind == "direct_t"
    tol = 1e-4 if dtype == "f32" else 1e-11
    item = np.dtype(npdt).itemsize
    for m, k, (n, lo), tb in itertools.product(
            (1, 2), (0, 1, 3, 4, 5, 8, 257, 784), ((1, 0), (10, 0), (17, 3), (70, 64), (256, 0)),
            (False, True)):
        width = n + lo + 5                       # B is wider: its columns lo .. lo + n
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(npdt)
        b = rng.standard_normal((width, k) if tb else (k, width)).astype(npdt)
        c = np.full((m, n + 2), np.nan, npdt)   # C wider too: two columns untouched
        pb = b.ctypes.data + (lo * k if tb else lo) * item
        f(_ffi.cast("void *", a.ctypes.data), _ffi.cast("void *", pb),
          _ffi.cast("void *", c.ctypes.data), m, n, k, m if ta else k,
          k if tb else width, n + 2, (gemm.TRANS_A if ta else 0) | (gemm.TRANS_B if tb else 0))
        opa = (a.T if ta else a).astype(np.float64)
        opb = (b.T if tb else b).astype(np.float64)[:, lo:lo + n]
        np.testing.assert_allclose(c[:, :n], opa @ opb, rtol=tol, atol=tol * max(1, k),
                                   err_msg=f"{kind} {dtype} m={m} n={n} k={k} tb={tb}")
        assert np.isnan(c[:, n:]).all()


@pytest.mark.parametrize("dims", [(784, 256, 10), (30, 7, 3), (100, 1000, 1), (5, 64, 33, 2)])
@pytest.mark.parametrize("threads", [1, 2])
def test_forward_at_batch_one(dims, threads):
    rng = np.random.default_rng(12)
    params = [((rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32),
               rng.standard_normal(o).astype(np.float32)) for i, o in zip(dims[:-1], dims[1:])]
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, dims[0]], name="x")
        h = x
        for i, (W, b) in enumerate(params):
            h = tf.matmul(h, tf.Variable(W)) + tf.Variable(b)
            if i < len(params) - 1:
                h = tf.nn.relu(h)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=threads)) as s:
        s.run(init)
        for _ in range(3):
            xv = rng.standard_normal((1, dims[0])).astype(np.float32)
            want = xv.astype(np.float64)
            for i, (W, b) in enumerate(params):
                want = want @ W + b
                if i < len(params) - 1:
                    want = np.maximum(want, 0)
            np.testing.assert_allclose(s.run(h, {x: xv}), want, rtol=1e-4, atol=1e-4)
