"""Tensor's Python operators (+ - * / // % ** @, comparisons, indexing) mapped to
ops with TF 1.15's names: `x + y` is an op named `add`, `x[1:]` `strided_slice`."""
from __future__ import annotations

from ..graph import Tensor, name_scope
from . import array_ops, math_ops


def _binary(op_type, default_name, reverse=False):
    def f(self, other):
        x, y = (other, self) if reverse else (self, other)
        return math_ops.binary(op_type, x, y, name=None, default_name=default_name)
    return f


def _truediv(reverse):
    def f(self, other):
        x, y = (other, self) if reverse else (self, other)
        return math_ops.divide(x, y)
    return f


def _xor(reverse):
    def f(self, other):
        x, y = (other, self) if reverse else (self, other)
        with name_scope(None, "xor", [x, y]) as scope:
            return math_ops.logical_xor(x, y, name=scope)
    return f


def _matmul(reverse):
    def f(self, other):
        x, y = (other, self) if reverse else (self, other)
        return math_ops.matmul(x, y, name="matmul")
    return f


def install():
    T = Tensor
    T.__add__ = _binary("AddV2", "add")
    T.__radd__ = _binary("AddV2", "add", True)
    T.__sub__ = _binary("Sub", "sub")
    T.__rsub__ = _binary("Sub", "sub", True)
    T.__mul__ = _binary("Mul", "mul")
    T.__rmul__ = _binary("Mul", "mul", True)
    T.__truediv__ = _truediv(False)
    T.__rtruediv__ = _truediv(True)
    T.__div__ = T.__truediv__
    T.__floordiv__ = _binary("FloorDiv", "floordiv")
    T.__rfloordiv__ = _binary("FloorDiv", "floordiv", True)
    T.__mod__ = _binary("FloorMod", "mod")
    T.__rmod__ = _binary("FloorMod", "mod", True)
    T.__pow__ = _binary("Pow", "pow")
    T.__rpow__ = _binary("Pow", "pow", True)
    T.__matmul__ = _matmul(False)
    T.__rmatmul__ = _matmul(True)
    T.__lt__ = _binary("Less", "Less")
    T.__le__ = _binary("LessEqual", "LessEqual")
    T.__gt__ = _binary("Greater", "Greater")
    T.__ge__ = _binary("GreaterEqual", "GreaterEqual")
    T.__and__ = _binary("LogicalAnd", "and")
    T.__rand__ = _binary("LogicalAnd", "and", True)
    T.__or__ = _binary("LogicalOr", "or")
    T.__ror__ = _binary("LogicalOr", "or", True)
    T.__xor__ = _xor(False)
    T.__rxor__ = _xor(True)
    T.__invert__ = lambda self: math_ops.logical_not(self)
    T.__neg__ = lambda self: math_ops.unary("Neg", self)
    T.__abs__ = lambda self: math_ops.unary("Abs", self, name="Abs")
    T.__getitem__ = array_ops._getitem
