"""The IR's constants in a generated module: embedded bytes, or data bound
after loading (see ConstantPool)."""
from __future__ import annotations

import llvmlite.ir as ir
import numpy as np

from ..core import IRError, Value
from .llvm_util import PTR, global_bytes


class ConstantPool:
    """The IR's constants in the generated module, made on demand.

    A constant is a private, 64-byte aligned global holding its bytes; or,
    with `external_min_bytes`, one of at least that many bytes is data bound
    after loading: the module holds only a pointer global `<prefix>cptr.<name>`
    (zero until bound), so the IR text and the object code do not grow with
    the data, and the same object serves any values of that shape.
    `external` lists (symbol, numpy array) of such constants.
    """

    def __init__(self, module: ir.Module, prefix: str, external_min_bytes: int | None = None):
        self.module = module
        self.prefix = prefix
        self.external_min_bytes = external_min_bytes
        self.globals = {}
        self.external = []
        self._splats = {}

    def splat(self, v: Value):
        """The one value of a constant whose elements are all bitwise equal, else None."""
        if v not in self._splats:
            arr = np.ascontiguousarray(v.producer.attrs["value"]).reshape(-1)
            if arr.size == 0:
                val = 0
            else:
                bits = arr.view(f"u{arr.dtype.itemsize}")
                val = arr[0].item() if bool(np.all(bits == bits[0])) else None
            self._splats[v] = val
        return self._splats[v]

    @staticmethod
    def _data(v: Value):
        arr = np.ascontiguousarray(v.producer.attrs["value"])
        return arr.astype(np.uint8) if arr.dtype == np.bool_ else arr

    def is_external(self, v: Value) -> bool:
        return (self.external_min_bytes is not None
                and v.type.nbytes >= self.external_min_bytes)

    def address(self, v: Value):
        """The global holding an embedded constant (see `pointer` for any constant)."""
        if self.is_external(v):
            raise IRError(f"internal: constant %{v.name} is bound after loading; use pointer()")
        g = self.globals.get(v)
        if g is None:
            g = global_bytes(self.module, f"{self.prefix}const.{v.name}", self._data(v).tobytes())
            self.globals[v] = g
        return g

    def pointer(self, b, v: Value):
        """A pointer to the constant's elements, usable in builder `b`'s function."""
        if not self.is_external(v):
            return self.address(v)
        g = self.globals.get(v)
        if g is None:
            name = f"{self.prefix}cptr.{v.name}"
            # Externally visible, so the optimizer cannot assume it stays null.
            g = ir.GlobalVariable(self.module, PTR, name)
            g.initializer = ir.Constant(PTR, None)
            g.align = 8
            self.globals[v] = g
            self.external.append((name, self._data(v)))
        return b.load(g, typ=PTR, name=f"c.{v.name}")
