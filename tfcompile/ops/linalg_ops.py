"""Matrix ops: eye, trace, matrix_inverse,
matrix_determinant, matrix_solve, matrix_triangular_solve, cholesky, logdet,
norm; and the names of the `tf.linalg` namespace.

The factorizations are unrolled over the (static) matrix size: Gauss-Jordan
elimination with partial pivoting (inverse, solve, determinant) and a
column-by-column Cholesky, each step a few IR ops over the whole batch. The
IR grows with n, so they are meant for small matrices (up to about 32 x 32).
A singular matrix gives inf/NaN in the inverse and solve (TF raises an error
at run time instead) and exactly 0 as determinant.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .array_ops import matrix_transpose, ones, zeros
from .constant_op import convert_to_tensor
from .einsum_ops import einsum
from .manip_ops import _q, slice_axis
from .math_ops import matmul
from .op_checks import check_finite
from .op_util import make_tensor
from .registry import lowering

_FLOATS = (_dt.float32, _dt.float64)


def _float_input(x, op_type, name="input"):
    x = convert_to_tensor(x, name=name)
    if x.dtype not in _FLOATS:
        raise TypeError(f"Value passed to parameter '{name}' has DataType {x.dtype.name} "
                        f"not in list of allowed values: float32, float64 (op {op_type!r})")
    return x


def _square(x, op_type, scope):
    s = x.shape
    if s.ndims is None:
        return
    if s.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {s.ndims} for "
                         f"'{scope}' (op: '{op_type}') with input shapes: {_q(s)}.")
    a, b = s[-2].value, s[-1].value
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions must be equal, but are {a} and {b} for '{scope}' "
                         f"(op: '{op_type}') with input shapes: {_q(s)}.")


# ---------------------------------------------------------------- IR helpers

def _batch(ctx, x):
    """[..., m, n] -> ([B, m, n], the batch dims)."""
    lead = x.shape[:-2]
    b = int(np.prod(lead, dtype=np.int64))
    return ctx.b.emit("reshape", [x], shape=[b] + list(x.shape[-2:])), lead


def _col(ctx, m, k):
    """m[:, :, k] of [B, n, w] -> [B, n]."""
    bsz, n, _ = m.shape
    return ctx.b.emit("reshape", [slice_axis(ctx, m, 2, k, k + 1)], shape=[bsz, n])


def _row(ctx, m, k):
    bsz, _, w = m.shape
    return ctx.b.emit("reshape", [slice_axis(ctx, m, 1, k, k + 1)], shape=[bsz, w])


def gauss_jordan(ctx, a, rhs, safe_pivots=False):
    """Reduces [a | rhs] ([B, n, n] and [B, n, m]) with partial pivoting.

    Returns (the reduced rhs = a^-1 rhs, det(a) [B])."""
    bsz, n, _ = a.shape
    dt = a.dtype
    m = ctx.b.emit("concatenate", [a, rhs], axis=2) if rhs.shape[2] else a
    w = m.shape[2]
    det = ctx.scalar(1, dt, (bsz,))
    rows = ctx.b.emit("iota", [], shape=[bsz, n], dtype="i32", dim=1)
    base = ctx.b.emit("mul", [ctx.b.emit("iota", [], shape=[bsz, n], dtype="i32", dim=0),
                              ctx.scalar(n, "i32", (bsz, n))])
    for k in builtins.range(n):
        col = ctx.b.emit("abs", [slice_axis(ctx, _col(ctx, m, k), 1, k, n)])
        p = ctx.b.emit("add", [ctx.b.emit("argmax", [col], axis=1, dtype="i32"),
                               ctx.scalar(k, "i32", (bsz,))])
        if k < n - 1:   # swap rows k and p (a gather of the flattened batch)
            pb = ctx.b.emit("broadcast", [p], shape=[bsz, n], dims=[0])
            kk = ctx.scalar(k, "i32", (bsz, n))
            perm = ctx.b.emit("select", [ctx.b.emit("eq", [rows, kk]), pb, ctx.b.emit(
                "select", [ctx.b.emit("eq", [rows, pb]), kk, rows])])
            flat = ctx.b.emit("reshape", [m], shape=[bsz * n, w])
            m = ctx.b.emit("gather", [flat, ctx.b.emit("add", [base, perm])], axis=0)
            swapped = ctx.b.emit("ne", [p, ctx.scalar(k, "i32", (bsz,))])
            det = ctx.b.emit("select", [swapped, ctx.b.emit("neg", [det]), det])
        prow = _row(ctx, m, k)
        piv = ctx.b.emit("reshape", [slice_axis(ctx, prow, 1, k, k + 1)], shape=[bsz])
        det = ctx.b.emit("mul", [det, piv])
        if safe_pivots:   # a zero pivot means a zero column below: det is 0 already
            zero = ctx.b.emit("eq", [piv, ctx.scalar(0, dt, (bsz,))])
            piv = ctx.b.emit("select", [zero, ctx.scalar(1, dt, (bsz,)), piv])
        r = ctx.b.emit("div", [prow, ctx.b.emit("broadcast", [piv], shape=[bsz, w],
                                                 dims=[0])])
        f = ctx.b.emit("broadcast", [_col(ctx, m, k)], shape=[bsz, n, w], dims=[0, 1])
        rb = ctx.b.emit("broadcast", [r], shape=[bsz, n, w], dims=[0, 2])
        upd = ctx.b.emit("sub", [m, ctx.b.emit("mul", [f, rb])])
        is_k = ctx.b.emit("broadcast", [ctx.b.emit("eq", [rows, ctx.scalar(k, "i32", (bsz, n))])],
                          shape=[bsz, n, w], dims=[0, 1])
        m = ctx.b.emit("select", [is_k, rb, upd])
    out = ctx.b.emit("slice", [m], start=[0, 0, n], limit=[bsz, n, w], stride=[1, 1, 1])
    return out, det


def _eye_ir(ctx, bsz, n, dt):
    i = ctx.b.emit("iota", [], shape=[bsz, n, n], dtype="i32", dim=1)
    j = ctx.b.emit("iota", [], shape=[bsz, n, n], dtype="i32", dim=2)
    return ctx.convert(ctx.b.emit("eq", [i, j]), dt)


def _adjoint_ir(ctx, x):
    r = x.type.rank
    return ctx.b.emit("transpose", [x], perm=list(builtins.range(r - 2)) + [r - 1, r - 2])


# ---------------------------------------------------------------- inverse / det / solve

def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002
    """Inverses of [..., n, n] matrices (op MatrixInverse): Gauss-Jordan with
    partial pivoting unrolled over n, for n up to about 32."""
    with name_scope(name, "MatrixInverse", [input]) as scope:
        x = _float_input(input, "MatrixInverse")
        _square(x, "MatrixInverse", scope[:-1])
        return make_tensor("MatrixInverse", [x], x.dtype, x.shape,
                           {"adjoint": bool(adjoint), "T": x.dtype}, name=scope)


@lowering("MatrixInverse")
def _lower_inverse(ctx, op, inputs):
    (x,) = inputs
    if x.type.rank < 2 or x.shape[-1] != x.shape[-2]:
        ctx.fail(f"Input matrix must be square, got shape {list(x.shape)}")
    a, lead = _batch(ctx, x)
    if op.attrs["adjoint"]:
        a = _adjoint_ir(ctx, a)
    bsz, n, _ = a.shape
    inv, _ = gauss_jordan(ctx, a, _eye_ir(ctx, bsz, n, a.dtype))
    check_finite(ctx, op, inv, "Input is not invertible.")
    return [ctx.b.emit("reshape", [inv], shape=x.shape)]


def matrix_determinant(input, name=None):  # noqa: A002
    """Determinants of [..., n, n] matrices (op MatrixDeterminant): the product of
    the pivots of an unrolled elimination with partial pivoting, n up to ~32."""
    with name_scope(name, "MatrixDeterminant", [input]) as scope:
        x = _float_input(input, "MatrixDeterminant")
        _square(x, "MatrixDeterminant", scope[:-1])
        out = TensorShape(None) if x.shape.ndims is None else TensorShape(
            x.shape.as_list()[:-2])
        return make_tensor("MatrixDeterminant", [x], x.dtype, out, {"T": x.dtype}, name=scope)


@lowering("MatrixDeterminant")
def _lower_det(ctx, op, inputs):
    (x,) = inputs
    if x.type.rank < 2 or x.shape[-1] != x.shape[-2]:
        ctx.fail(f"Input matrix must be square, got shape {list(x.shape)}")
    a, lead = _batch(ctx, x)
    bsz, n, _ = a.shape
    _, det = gauss_jordan(ctx, a, ctx.scalar(0, a.dtype, (bsz, n, 0)), safe_pivots=True)
    return [ctx.b.emit("reshape", [det], shape=lead)]


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix @ X = rhs (op MatrixSolve), by unrolled Gauss-Jordan; n up to ~32."""
    with name_scope(name, "MatrixSolve", [matrix, rhs]) as scope:
        a = _float_input(matrix, "MatrixSolve", "matrix")
        b = convert_to_tensor(rhs, name="rhs", dtype=a.dtype)
        _square(a, "MatrixSolve", scope[:-1])
        out = _solve_shape(a, b, "MatrixSolve", scope[:-1])
        return make_tensor("MatrixSolve", [a, b], a.dtype, out,
                           {"adjoint": bool(adjoint), "T": a.dtype}, name=scope)


def _solve_shape(a, b, op_type, opname):
    if a.shape.ndims is None or b.shape.ndims is None:
        return b.shape
    if b.shape.ndims != a.shape.ndims:
        raise ValueError(f"Shape must be rank {a.shape.ndims} but is rank {b.shape.ndims} "
                         f"for '{opname}' (op: '{op_type}') with input shapes: "
                         f"{_q(a.shape)}, {_q(b.shape)}.")
    n, m = a.shape[-1].value, b.shape[-2].value
    if n is not None and m is not None and n != m:
        raise ValueError(f"Dimensions must be equal, but are {n} and {m} for '{opname}' "
                         f"(op: '{op_type}') with input shapes: {_q(a.shape)}, "
                         f"{_q(b.shape)}.")
    return TensorShape(a.shape.as_list()[:-2]).merge_with(
        TensorShape(b.shape.as_list()[:-2])).concatenate(b.shape.as_list()[-2:])


def _solve_inputs(ctx, a, b):
    if a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        ctx.fail(f"Input matrix and right-hand side must have matching batch and row "
                 f"dimensions, got {list(a.shape)} and {list(b.shape)}")
    a3, lead = _batch(ctx, a)
    b3 = ctx.b.emit("reshape", [b], shape=[a3.shape[0]] + list(b.shape[-2:]))
    return a3, b3


@lowering("MatrixSolve")
def _lower_solve(ctx, op, inputs):
    a, b = inputs
    a3, b3 = _solve_inputs(ctx, a, b)
    if op.attrs["adjoint"]:
        a3 = _adjoint_ir(ctx, a3)
    x, _ = gauss_jordan(ctx, a3, b3)
    check_finite(ctx, op, x, "Input matrix is not invertible.")
    return [ctx.b.emit("reshape", [x], shape=b.shape)]


def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    with name_scope(name, "MatrixTriangularSolve", [matrix, rhs]) as scope:
        a = _float_input(matrix, "MatrixTriangularSolve", "matrix")
        b = convert_to_tensor(rhs, name="rhs", dtype=a.dtype)
        _square(a, "MatrixTriangularSolve", scope[:-1])
        out = _solve_shape(a, b, "MatrixTriangularSolve", scope[:-1])
        return make_tensor("MatrixTriangularSolve", [a, b], a.dtype, out,
                           {"lower": bool(lower), "adjoint": bool(adjoint), "T": a.dtype},
                           name=scope)


@lowering("MatrixTriangularSolve")
def _lower_tri_solve(ctx, op, inputs):
    a, b = inputs
    a3, b3 = _solve_inputs(ctx, a, b)
    lower = op.attrs["lower"]
    if op.attrs["adjoint"]:   # the adjoint of a lower matrix is upper
        a3 = _adjoint_ir(ctx, a3)
        lower = not lower
    bsz, n, _ = a3.shape
    m = b3.shape[2]
    xs = {}
    order = builtins.range(n) if lower else builtins.range(n - 1, -1, -1)
    for i in order:   # substitution, one row of the solution per step
        rhs = _row(ctx, b3, i)
        done = sorted(xs)
        if done:
            arow = ctx.b.emit("reshape", [slice_axis(ctx, _row(ctx, a3, i), 1, done[0],
                                                     done[-1] + 1)],
                              shape=[bsz, 1, len(done)])
            xm = ctx.b.emit("concatenate", [xs[j] for j in done], axis=1)
            rhs = ctx.b.emit("sub", [rhs, ctx.b.emit("reshape", [
                ctx.b.emit("dot", [arow, xm])], shape=[bsz, m])])
        d = ctx.b.emit("reshape", [slice_axis(ctx, _row(ctx, a3, i), 1, i, i + 1)],
                       shape=[bsz])
        xi = ctx.b.emit("div", [rhs, ctx.b.emit("broadcast", [d], shape=[bsz, m], dims=[0])])
        xs[i] = ctx.b.emit("reshape", [xi], shape=[bsz, 1, m])
    if not n:
        return [b]
    x = ctx.b.emit("concatenate", [xs[j] for j in builtins.range(n)], axis=1)
    return [ctx.b.emit("reshape", [x], shape=b.shape)]


# ---------------------------------------------------------------- cholesky

def cholesky(input, name=None):  # noqa: A002
    """Lower Cholesky factors of [..., n, n] matrices (op Cholesky), one unrolled
    step per column (n up to about 32); reads only the lower triangle, as TF."""
    with name_scope(name, "Cholesky", [input]) as scope:
        x = _float_input(input, "Cholesky")
        _square(x, "Cholesky", scope[:-1])
        return make_tensor("Cholesky", [x], x.dtype, x.shape, {"T": x.dtype}, name=scope)


@lowering("Cholesky")
def _lower_cholesky(ctx, op, inputs):
    (x,) = inputs
    if x.type.rank < 2 or x.shape[-1] != x.shape[-2]:
        ctx.fail(f"Input matrix must be square, got shape {list(x.shape)}")
    a, _ = _batch(ctx, x)
    bsz, n, _ = a.shape
    dt = a.dtype
    if not n:
        return [x]
    rows = ctx.b.emit("iota", [], shape=[bsz, n], dtype="i32", dim=1)
    cols = []   # columns of L so far, each [B, n, 1]
    for j in builtins.range(n):   # only the lower triangle of a is read, as TF
        v = _col(ctx, a, j)
        if cols:
            lm = ctx.b.emit("concatenate", cols, axis=2) if len(cols) > 1 else cols[0]
            lj = ctx.b.emit("reshape", [slice_axis(ctx, lm, 1, j, j + 1)], shape=[bsz, j, 1])
            v = ctx.b.emit("sub", [v, ctx.b.emit("reshape", [ctx.b.emit("dot", [lm, lj])],
                                                 shape=[bsz, n])])
        d = ctx.b.emit("sqrt", [ctx.b.emit("reshape", [slice_axis(ctx, v, 1, j, j + 1)],
                                           shape=[bsz])])
        c = ctx.b.emit("div", [v, ctx.b.emit("broadcast", [d], shape=[bsz, n], dims=[0])])
        below = ctx.b.emit("ge", [rows, ctx.scalar(j, "i32", (bsz, n))])
        c = ctx.b.emit("select", [below, c, ctx.scalar(0, dt, (bsz, n))])
        cols.append(ctx.b.emit("reshape", [c], shape=[bsz, n, 1]))
    out = ctx.b.emit("concatenate", cols, axis=2) if n > 1 else cols[0]
    return [ctx.b.emit("reshape", [out], shape=x.shape)]


def logdet(matrix, name=None):
    """log(det(matrix)) of a Hermitian positive-definite matrix, via cholesky."""
    from .math_ops import log, reduce_sum
    with name_scope(name, "logdet", [matrix]):
        chol = cholesky(matrix)
        return 2.0 * reduce_sum(log(matrix_diag_part(chol)), axis=[-1])


# the diagonal and band ops live in diag_ops.py
from .diag_ops import (diag, diag_part, diag_part_ir, matrix_band_part,  # noqa: E402,F401
                       matrix_diag, matrix_diag_part, matrix_set_diag)


def trace(x, name=None):
    from .math_ops import reduce_sum
    with name_scope(name, "Trace", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        return reduce_sum(matrix_diag_part(x), [-1], name=scope)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dt.float32, name=None):
    from .array_ops import concat
    from .math_ops import minimum
    with name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        is_square = num_columns is None
        batch_shape = [] if batch_shape is None else batch_shape
        num_columns = num_rows if num_columns is None else num_columns
        if isinstance(num_rows, Tensor) or isinstance(num_columns, Tensor):
            diag_size = minimum(num_rows, num_columns)
        else:
            if not isinstance(num_rows, (int, np.integer)) or not isinstance(
                    num_columns, (int, np.integer)):
                raise TypeError("num_rows and num_columns must be positive integer values.")
            is_square = num_rows == num_columns
            diag_size = int(builtins.min(num_rows, num_columns))
        if isinstance(batch_shape, Tensor) or isinstance(diag_size, Tensor):
            batch_shape = convert_to_tensor(batch_shape, name="shape", dtype=_dt.int32)
            diag_shape = concat((batch_shape, [diag_size]), axis=0)
            if not is_square:
                shape = concat((batch_shape, [num_rows, num_columns]), axis=0)
        else:
            batch_shape = [int(d) for d in batch_shape]
            diag_shape = batch_shape + [diag_size]
            if not is_square:
                shape = batch_shape + [num_rows, num_columns]
        diag_ones = ones(diag_shape, dtype=dtype)
        if is_square:
            return matrix_diag(diag_ones)
        return matrix_set_diag(zeros(shape, dtype=dtype), diag_ones)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None):
    """tf.norm as TF 1.15 builds it: vector norms (ord 'euclidean', 1, 2, inf or any
    p > 0) over `axis` (None: all entries), or matrix norms ('fro', 1, inf) over a
    pair of axes; the reduction keeps dims, then a Squeeze drops them."""
    from .array_ops import squeeze
    from .math_ops import abs as _abs, pow as _pow, reduce_max, reduce_sum, sqrt
    keepdims = bool(keep_dims if keep_dims is not None else keepdims)
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix:
        axis = tuple(axis)
        if not all(isinstance(a, int) for a in axis) or axis[0] == axis[1]:
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique "
                             "integers")
        if ord not in ("euclidean", "fro", 1, 2, np.inf):
            raise ValueError(f"'ord' must be a supported matrix norm in "
                             f"['euclidean', 'fro', 1, 2, inf], got {ord}")
        if ord == 2:
            raise NotImplementedError("tf.norm: the matrix 2-norm (needs an SVD) is not "
                                      "supported")
    else:
        if not (isinstance(axis, int) or axis is None):
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique "
                             "integers")
        if ord not in ("euclidean", 1, 2, np.inf) and (
                not isinstance(ord, (int, float)) or ord <= 0):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (axis,)
    with name_scope(name, "norm", [tensor]):
        x = convert_to_tensor(tensor)
        ax = None if axis is None else list(axis)
        if ord in ("fro", "euclidean", 2, 2.0):
            result = sqrt(reduce_sum(x * x, ax, keepdims=True))
        else:
            result = _abs(x)
            if ord == 1:
                result = reduce_sum(result, None if axis is None else axis[0], keepdims=True)
                if is_matrix:
                    result = reduce_max(result, axis[-1], keepdims=True)
            elif ord == np.inf:
                if is_matrix:
                    result = reduce_sum(result, axis[1], keepdims=True)
                result = reduce_max(result, None if axis is None else axis[0], keepdims=True)
            else:
                result = _pow(reduce_sum(_pow(result, float(ord)), ax, keepdims=True),
                              1.0 / ord)
        if not keepdims:
            result = squeeze(result, ax)
        return result


# ---------------------------------------------------------------- tf.linalg names

def adjoint(matrix, name=None):
    with name_scope(name, "adjoint", [matrix]):
        return matrix_transpose(matrix)


def _namespace():
    """The `tf.linalg` module of TF 1.15 (the names this library has)."""
    import types
    m = types.ModuleType("tfcompile.linalg", "Linear algebra: tf.linalg.")
    names = dict(
        adjoint=adjoint, band_part=matrix_band_part, cholesky=cholesky, det=matrix_determinant,
        diag=matrix_diag, diag_part=matrix_diag_part, einsum=einsum, eye=eye,
        inv=matrix_inverse, logdet=logdet, matmul=matmul, norm=norm, set_diag=matrix_set_diag,
        solve=matrix_solve, tensor_diag=diag, tensor_diag_part=diag_part, trace=trace,
        transpose=matrix_transpose, triangular_solve=matrix_triangular_solve)
    for k, v in names.items():
        setattr(m, k, v)
    return m


linalg = _namespace()
