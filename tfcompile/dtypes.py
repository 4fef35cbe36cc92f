"""TensorFlow's DType objects (`tf.float32`, ...) and conversions to numpy and IR."""
from __future__ import annotations

import builtins

import numpy as np


class DType:
    """A tensor element type with TF 1.15's names and properties.

    Each type has a reference variant (`float32_ref`): the dtype of a TF 1.x
    variable's own tensor and of its assign ops. It prints as TF's, and
    `base_dtype` gives the value type; unlike TF it compares equal to that value
    type, so every dtype check of an op accepts it as TF's ops accept refs."""
    __slots__ = ("name", "_np", "ir", "_base", "_ref")

    def __init__(self, name: str, np_dtype, ir: str | None, base=None):
        self.name = name
        self._np = np.dtype(np_dtype)
        self.ir = ir  # the IR dtype, or None where the compiler has none
        self._base = base
        self._ref = None
        if base is not None:
            base._ref = self

    @property
    def as_numpy_dtype(self):
        return self._np.type

    @property
    def base_dtype(self):
        return self._base or self

    @property
    def _as_ref(self):
        return self._ref or self

    @property
    def _is_ref_dtype(self):
        return self._base is not None

    @property
    def as_datatype_enum(self):
        return _ENUMS[self.base_dtype.name] + (100 if self._base is not None else 0)

    @property
    def real_dtype(self):
        return self

    @property
    def is_floating(self):
        return self._np.kind == "f"

    @property
    def is_integer(self):
        return self._np.kind in "iu"

    @property
    def is_unsigned(self):
        return self._np.kind == "u"

    @property
    def is_bool(self):
        return self._np.kind == "b"

    @property
    def is_complex(self):
        return False

    @property
    def is_numpy_compatible(self):
        return True

    @property
    def size(self):
        return self._np.itemsize

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else (
            False if self.is_bool else np.iinfo(self._np).min)

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else (
            True if self.is_bool else np.iinfo(self._np).max)

    def is_compatible_with(self, other):
        return as_dtype(other).base_dtype is self.base_dtype

    def __eq__(self, other):
        if other is None:
            return False
        try:
            return as_dtype(other).base_dtype is self.base_dtype
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.base_dtype.name)

    def __repr__(self):
        return f"tf.{self.name}"

    def __str__(self):
        return f"<dtype: '{self.name}'>"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16, None)
half = float16
float32 = DType("float32", np.float32, "f32")
float64 = DType("float64", np.float64, "f64")
double = float64
int8 = DType("int8", np.int8, None)
int16 = DType("int16", np.int16, None)
int32 = DType("int32", np.int32, "i32")
int64 = DType("int64", np.int64, "i64")
uint8 = DType("uint8", np.uint8, None)
uint16 = DType("uint16", np.uint16, None)
bool = DType("bool", np.bool_, "bool")  # noqa: A001 - TF's name
# Strings are never compiled: only host ops (summaries) produce them, and a
# fetched one is Python bytes.
string = DType("string", np.object_, None)

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, bool, string]
_ENUMS = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
          "int64": 9, "bool": 10, "uint16": 17, "float16": 19, "string": 7}
_REFS = [DType(d.name + "_ref", d._np, d.ir, base=d) for d in _ALL]
float16_ref, float32_ref, float64_ref, int8_ref, int16_ref, int32_ref, int64_ref, \
    uint8_ref, uint16_ref, bool_ref, string_ref = _REFS
_BY_NAME = {d.name: d for d in _ALL + _REFS}
_BY_NAME.update({"half": float16, "double": float64, "float": float32})
_BY_NP = {d._np: d for d in _ALL}
_BY_IR = {d.ir: d for d in _ALL if d.ir}


def as_dtype(type_value) -> DType:
    """tf.as_dtype: a DType from a DType, name, numpy dtype or Python type."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str) and type_value in _BY_NAME:
        return _BY_NAME[type_value]
    if type_value is float:
        return float32
    if type_value is int:
        return int32
    if type_value is builtins.bool:
        return bool
    try:
        npd = np.dtype(type_value)
    except TypeError:
        raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.") from None
    if npd in _BY_NP:
        return _BY_NP[npd]
    raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.")


def from_ir(ir_dtype: str) -> DType:
    return _BY_IR[ir_dtype]


# Integer types narrower than the IR's: computed in i32 (every value fits) and
# wrapped back into their range after each op (lowering.wrap_small_int), so
# uint8 arithmetic overflows as TF's does. Fed arrays are widened on the way
# in and fetched ones narrowed on the way out; variables and exported
# libraries keep to the IR's types (their buffers are the caller's).
SMALL_INTS = {"uint8": (0, 256), "int8": (-128, 256), "uint16": (0, 65536),
              "int16": (-32768, 65536)}


def compilable(dtype: DType, what: str, widen: bool = False) -> str:
    """The IR dtype of `dtype` (with `widen`, i32 for the small integer types),
    or a TypeError naming `what` needs it."""
    if dtype.ir is None:
        if widen and dtype.base_dtype.name in SMALL_INTS:
            return "i32"
        raise TypeError(f"{what}: dtype {dtype.name} is not supported by the compiler "
                        "(supported: float32, float64, int32, int64, bool"
                        + (", and uint8, int8, uint16, int16 for feeds, constants and "
                           "computed values" if not widen else "") + ")")
    return dtype.ir


def ir_of(dtype: DType) -> str | None:
    """The IR dtype a tensor of `dtype` is computed in (i32 for the small ints)."""
    return dtype.ir if dtype.ir is not None else (
        "i32" if dtype.base_dtype.name in SMALL_INTS else None)
