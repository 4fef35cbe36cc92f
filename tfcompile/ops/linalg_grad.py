"""Gradients of the matrix ops: MatrixInverse, MatrixDeterminant, MatrixSolve,
MatrixTriangularSolve, Cholesky, and the diagonal and band ops.

Formulas as TF 1.15 (d(A^-1) = -A^-1 dA A^-1, d det A = det A tr(A^-1 dA),
Murray's Cholesky backward), except that MatrixInverse with adjoint=True
gets the gradient of the function it computes.
"""
from __future__ import annotations

from . import array_ops, math_ops
from .linalg_ops import (diag, diag_part, eye, matrix_band_part, matrix_diag,
                         matrix_diag_part, matrix_inverse, matrix_set_diag, matrix_solve,
                         matrix_triangular_solve)
from .registry import RegisterGradient


@RegisterGradient("MatrixInverse")
def _matrix_inverse_grad(op, grad):
    ainv = op.outputs[0]
    if op.attrs.get("adjoint"):
        return -math_ops.matmul(ainv, math_ops.matmul(grad, ainv, adjoint_a=True))
    return -math_ops.matmul(ainv, math_ops.matmul(grad, ainv, adjoint_b=True),
                            adjoint_a=True)


@RegisterGradient("MatrixDeterminant")
def _matrix_determinant_grad(op, grad):
    a, c = op.inputs[0], op.outputs[0]
    a_adj_inv = matrix_inverse(a, adjoint=True)
    if c.shape.is_fully_defined():
        shape = c.shape.as_list() + [1, 1]
    else:
        shape = array_ops.concat([array_ops.shape(c), [1, 1]], 0)
    multipliers = array_ops.reshape(grad * c, shape)
    return multipliers * a_adj_inv


@RegisterGradient("MatrixSolve")
def _matrix_solve_grad(op, grad):
    a, c = op.inputs[0], op.outputs[0]
    adjoint_a = op.attrs["adjoint"]
    grad_b = matrix_solve(a, grad, adjoint=not adjoint_a)
    if adjoint_a:
        grad_a = -math_ops.matmul(c, grad_b, adjoint_b=True)
    else:
        grad_a = -math_ops.matmul(grad_b, c, adjoint_b=True)
    return grad_a, grad_b


@RegisterGradient("MatrixTriangularSolve")
def _matrix_triangular_solve_grad(op, grad):
    a, c = op.inputs[0], op.outputs[0]
    adjoint_a, lower_a = op.attrs["adjoint"], op.attrs["lower"]
    grad_b = matrix_triangular_solve(a, grad, lower=lower_a, adjoint=not adjoint_a)
    if adjoint_a:
        grad_a = -math_ops.matmul(c, grad_b, adjoint_b=True)
    else:
        grad_a = -math_ops.matmul(grad_b, c, adjoint_b=True)
    if lower_a:
        grad_a = matrix_band_part(grad_a, -1, 0)
    else:
        grad_a = matrix_band_part(grad_a, 0, -1)
    return grad_a, grad_b


@RegisterGradient("Cholesky")
def _cholesky_grad(op, grad):
    ell = op.outputs[0]
    s = ell.shape
    if s.is_fully_defined():
        dims = s.as_list()
        ident = eye(dims[-1], batch_shape=dims[:-2], dtype=ell.dtype)
    else:
        shp = array_ops.shape(ell)
        ident = eye(shp[-1], batch_shape=shp[:-2], dtype=ell.dtype)
    l_inverse = matrix_triangular_solve(ell, ident)
    middle = math_ops.matmul(ell, grad, adjoint_a=True)
    middle = matrix_set_diag(middle, 0.5 * matrix_diag_part(middle))
    middle = matrix_band_part(middle, -1, 0)
    grad_a = math_ops.matmul(math_ops.matmul(l_inverse, middle, adjoint_a=True), l_inverse)
    grad_a += array_ops.matrix_transpose(grad_a)
    return grad_a * 0.5


@RegisterGradient("MatrixDiag")
def _matrix_diag_grad(op, grad):
    k = op.attrs.get("k", 0)
    part = matrix_diag_part(grad, k=k)
    n = op.inputs[0].shape[-1].value if op.inputs[0].shape.ndims else None
    if n is not None and part.shape.ndims and part.shape[-1].value not in (None, n):
        part = part[..., :n]        # (a diagonal longer than the input: its padding)
    return part


@RegisterGradient("MatrixDiagPart")
def _matrix_diag_part_grad(op, grad):
    k = op.attrs.get("k", 0)
    s = op.inputs[0].shape
    if not k and s.ndims is not None and s[-1].value is not None and \
            s[-1].value == s[-2].value:
        return matrix_diag(grad)
    return matrix_set_diag(array_ops.zeros_like(op.inputs[0]), grad, k=k)


@RegisterGradient("MatrixSetDiag")
def _matrix_set_diag_grad(op, grad):
    k = op.attrs.get("k", 0)
    d = op.inputs[1]
    zeros = array_ops.zeros(d.shape.as_list(), dtype=grad.dtype) \
        if d.shape.is_fully_defined() else array_ops.zeros_like(d)
    return matrix_set_diag(grad, zeros, k=k), matrix_diag_part(grad, k=k)


@RegisterGradient("MatrixBandPart")
def _matrix_band_part_grad(op, grad):
    return matrix_band_part(grad, op.inputs[1], op.inputs[2]), None, None


@RegisterGradient("Diag")
def _diag_grad(op, grad):
    return diag_part(grad)


@RegisterGradient("DiagPart")
def _diag_part_grad(op, grad):
    return diag(grad)
