"""tfcompile's compiler: a small typed tensor IR, its passes, and codegen.

Never imports the user API (`tfcompile`); hands machine code to `runtime`.
"""
from .core import (DTYPES, TensorType, Value, Instr, Function, Module,
                   IRError, OPS, UNARY_OPS, BINARY_OPS, COMPARE_OPS,
                   Builder)

__all__ = ["DTYPES", "TensorType", "Value", "Instr", "Function", "Module",
           "IRError", "OPS", "UNARY_OPS", "BINARY_OPS", "COMPARE_OPS",
           "Builder"]
