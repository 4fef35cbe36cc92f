"""The IR verifier: checks that a Function or Module is well formed.

verify_function / verify_module return None for valid IR and otherwise raise
core.IRError naming the function, the instruction (as printed) and the
problem. Checked: SSA (every operand defined earlier in the same function, no
name defined twice), the op is known, its attributes are present with the
right kinds, the stored result type is what core.infer_type gives, results
are values of the function, user-facing names match the parameters and
results one for one, and aliases pair a result with a parameter of the same
type, each parameter at most once.

Attributes not in an op's schema are rejected (they are usually typos),
except names starting with "_", which are free annotations for passes.
"""
from __future__ import annotations

import numpy as np

from .core import (BINARY_OPS, COMPARE_OPS, DTYPES, OPS, UNARY_OPS, Function, Instr,
                   IRError, Module, TensorType, Value, infer_type)
from .text import format_instr

__all__ = ["verify_function", "verify_module"]


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


# kind name -> (description for messages, predicate)
_KINDS = {
    "int": ("an int", _is_int),
    "ints": ("a tuple of ints",
             lambda v: isinstance(v, (tuple, list)) and all(_is_int(x) for x in v)),
    "bool": ("a bool", lambda v: isinstance(v, (bool, np.bool_))),
    "dtype": (f"a dtype name (one of {list(DTYPES)})",
              lambda v: isinstance(v, str) and v in DTYPES),
    "str": ("a string", lambda v: isinstance(v, str)),
    "scalar": ("a Python number or bool",
               lambda v: isinstance(v, (int, float, bool, np.integer, np.floating, np.bool_))),
    "array": ("a numpy array", lambda v: isinstance(v, np.ndarray)),
}

# op -> {attr: kind}; every listed attr is required.
_REQUIRED = {
    "constant": {"value": "array"},
    "iota": {"shape": "ints", "dtype": "dtype", "dim": "int"},
    "convert": {"dtype": "dtype"},
    "broadcast": {"shape": "ints", "dims": "ints"},
    "reshape": {"shape": "ints"},
    "transpose": {"perm": "ints"},
    "slice": {"start": "ints", "limit": "ints", "stride": "ints"},
    "reverse": {"axes": "ints"},
    "concatenate": {"axis": "int"},
    "pad": {"low": "ints", "high": "ints", "value": "scalar"},
    "reduce": {"kind": "str", "axes": "ints"},
    "argmax": {"axis": "int", "dtype": "dtype"},
    "argmin": {"axis": "int", "dtype": "dtype"},
    "gather": {"axis": "int"},
    "argwhere": {"count": "int"},
    "conv2d": {"strides": "ints", "dilations": "ints"},
    "conv2d_filter": {"strides": "ints", "dilations": "ints", "window": "ints"},
    "rng": {"dist": "str", "shape": "ints", "dtype": "dtype", "seed": "int", "seed2": "int"},
}
_OPTIONAL = {
    "dot": {"transpose_a": "bool", "transpose_b": "bool"},
}
for _op in UNARY_OPS + BINARY_OPS + COMPARE_OPS + ("select", "dot"):
    _REQUIRED.setdefault(_op, {})
# An op added to core.OPS without a schema here still verifies (by type
# inference alone); tests/test_verifier.py flags the missing schema.


def _describe(ins) -> str:
    """The instruction's printed line, robust to anything malformed."""
    try:
        return format_instr(ins, elide_constants_over=8)
    except Exception:  # a broken instruction must still be nameable
        name = getattr(getattr(ins, "result", None), "name", "?")
        return f"%{name} = {getattr(ins, 'op', '?')}(...)"


class _Checker:
    def __init__(self, fn: Function, where: str):
        self.fn = fn
        self.where = where

    def fail(self, message, ins=None, index=None):
        at = f"{self.where}"
        if ins is not None:
            at += f", instruction {index} `{_describe(ins)}`"
        raise IRError(f"{at}: {message}")

    def run(self):
        fn = self.fn
        defined: dict[str, Value] = {}
        self._params(defined)
        # Where each instruction result sits, to tell "used too early" from
        # "not in this function at all".
        position = {id(ins.result): i for i, ins in enumerate(fn.body)
                    if isinstance(ins, Instr)}
        for i, ins in enumerate(fn.body):
            self._instr(i, ins, defined, position)
        self._results(defined)
        self._aliases()

    def _params(self, defined):
        fn = self.fn
        for i, p in enumerate(fn.params):
            if not isinstance(p, Value):
                self.fail(f"parameter {i} is a {type(p).__name__}, not a Value")
            if not isinstance(p.type, TensorType):
                self.fail(f"parameter %{p.name} has no TensorType (got {p.type!r})")
            if p.producer is not None:
                self.fail(f"parameter %{p.name} is the result of an instruction")
            if p.name in defined:
                self.fail(f"%{p.name} names two parameters")
            defined[p.name] = p
        if len(fn.param_names) != len(fn.params):
            self.fail(f"{len(fn.params)} parameter(s) but {len(fn.param_names)} "
                      f"param_names {fn.param_names}")
        for n in fn.param_names:
            if not isinstance(n, str):
                self.fail(f"param_names holds {n!r}, not a string")

    def _instr(self, i, ins, defined, position):
        if not isinstance(ins, Instr):
            self.fail(f"body[{i}] is a {type(ins).__name__}, not an Instr")
        r = ins.result
        if r.producer is not ins:
            self.fail("its result's producer is another instruction", ins, i)
        if ins.op not in OPS:
            self.fail(f"unknown op {ins.op!r}", ins, i)
        for k, o in enumerate(ins.operands):
            if not isinstance(o, Value):
                self.fail(f"operand {k} is a {type(o).__name__}, not a Value", ins, i)
            if defined.get(o.name) is o:
                continue
            if id(o) in position and self.fn.body[position[id(o)]].result is o:
                self.fail(f"operand %{o.name} is used before its definition "
                          f"(instruction {position[id(o)]})", ins, i)
            if o.name in defined:
                self.fail(f"operand %{o.name} is not the value of that name defined in "
                          "this function (a stale or foreign Value)", ins, i)
            self.fail(f"operand %{o.name} is not defined in this function", ins, i)
        self._attrs(i, ins)
        if not isinstance(ins.type, TensorType):
            self.fail(f"result type is {ins.type!r}, not a TensorType", ins, i)
        try:
            expected = infer_type(ins.op, ins.operands, ins.attrs)
        except IRError as e:
            self.fail(str(e), ins, i)
        except (KeyError, TypeError, ValueError) as e:
            self.fail(f"type inference failed: {type(e).__name__}: {e}", ins, i)
        if expected != ins.type:
            self.fail(f"result type is {ins.type} but {ins.op} of "
                      f"({', '.join(str(o.type) for o in ins.operands)}) gives {expected}",
                      ins, i)
        if r.name in defined:
            first = defined[r.name]
            kind = "a parameter" if first.producer is None else "an earlier instruction"
            self.fail(f"%{r.name} is defined twice (first by {kind})", ins, i)
        defined[r.name] = r

    def _attrs(self, i, ins):
        if ins.op not in _REQUIRED:
            return
        required = _REQUIRED[ins.op]
        schema = {**required, **_OPTIONAL.get(ins.op, {})}
        for name, kind in required.items():
            if name not in ins.attrs:
                self.fail(f"missing attribute {name!r} ({_KINDS[kind][0]})", ins, i)
        for name, v in ins.attrs.items():
            if not isinstance(name, str):
                self.fail(f"attribute key {name!r} is not a string", ins, i)
            if name.startswith("_"):
                continue
            if name not in schema:
                allowed = ", ".join(sorted(schema)) or "none"
                self.fail(f"unexpected attribute {name!r} for {ins.op} (allowed: {allowed})",
                          ins, i)
            desc, ok = _KINDS[schema[name]]
            if not ok(v):
                self.fail(f"attribute {name!r} must be {desc}, got {v!r}", ins, i)

    def _results(self, defined):
        fn = self.fn
        for k, v in enumerate(fn.results):
            if not isinstance(v, Value) or defined.get(v.name) is not v:
                name = getattr(v, "name", repr(v))
                self.fail(f"result {k} (%{name}) is not a value of this function")
        if len(fn.result_names) != len(fn.results):
            self.fail(f"{len(fn.results)} result(s) but {len(fn.result_names)} "
                      f"result_names {fn.result_names}")
        for n in fn.result_names:
            if not isinstance(n, str):
                self.fail(f"result_names holds {n!r}, not a string")

    def _aliases(self):
        fn = self.fn
        seen: dict[int, int] = {}
        for r, p in fn.aliases.items():
            if not _is_int(r) or not 0 <= r < len(fn.results):
                self.fail(f"alias {r} -> {p}: no result {r} (the function has "
                          f"{len(fn.results)} result(s))")
            if not _is_int(p) or not 0 <= p < len(fn.params):
                self.fail(f"alias {r} -> {p}: no parameter {p} (the function has "
                          f"{len(fn.params)} parameter(s))")
            rt, pt = fn.results[r].type, fn.params[p].type
            if rt != pt:
                self.fail(f"alias {r} -> {p}: result {r} {fn.result_names[r]!r} is {rt} but "
                          f"parameter %{fn.params[p].name} {fn.param_names[p]!r} is {pt}")
            if p in seen:
                self.fail(f"parameter %{fn.params[p].name} is aliased by results "
                          f"{seen[p]} and {r}")
            seen[p] = r


def verify_function(fn: Function) -> None:
    """None if `fn` is well formed; otherwise IRError naming the culprit."""
    _Checker(fn, f"in function @{fn.name}").run()


def verify_module(mod: Module) -> None:
    """Every function well formed, named by its key, and the entry present."""
    if mod.entry_name not in mod.functions:
        raise IRError(f"module entry @{mod.entry_name} is not one of its functions "
                      f"{['@' + n for n in mod.functions]}")
    for name, fn in mod.functions.items():
        if fn.name != name:
            raise IRError(f"module holds function @{fn.name} under the name @{name}")
        verify_function(fn)
