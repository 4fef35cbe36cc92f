"""The IR's text form: a printer and a parser that round-trip exactly.

    func @main(%arg0 "x:0": f32[2,3], %arg1 "Variable:0": f32[3]) -> ("add:0": f32[2,3], "Variable:0": f32[3] aliases %arg1) {
      %0 = broadcast(%arg1) {dims=[1], shape=[2,3]} : f32[2,3]
      %1 = add(%arg0, %0) : f32[2,3]
      %2 = constant() {value=dense<[1.5, -inf, nan]>} : f32[3]
      return %1, %arg1
    }

Grammar (whitespace and `// comments` are free between tokens):

    module   := ("entry"? function)*          the entry is marked `entry`
    function := "func" @name "(" params ")" "->" "(" results ")" "{" instr* return "}"
    param    := %name string? ":" type         string: the user-facing name
    result   := (string ":")? type ("aliases" %param)?
    instr    := %name "=" op "(" %operands ")" ("{" key "=" attr, ... "}")? ":" type
    return   := "return" %values
    type     := dtype "[" dims "]"             f32[2,3], scalars f32[]
    attr     := int | float | true | false | none | string | "[" attr, ... "]"
              | "dense<" (type ":")? literal ">"

Names made of [A-Za-z0-9_.$] print bare (%0, %arg0, @main); any other name is
quoted (%"a b"). Strings use JSON escapes. Floats print as Python's repr, so
f64 values round-trip bit for bit; f32 values print in their shortest form
that reads back to the same f32. A NaN other than the canonical quiet NaN
prints with its bits (`nan:0x7fc00001`). Integer attrs and float attrs differ
by the decimal point (`0` vs `0.0`), and attribute lists parse to tuples.

A `dense<...>` literal nests brackets per dimension (numpy's tolist layout);
an array whose elements are all the same prints once (`dense<0.0>`, a splat).
In a `constant` the literal takes its dtype and shape from the result type; an
array attr that does not match the result type carries its own type prefix
(`dense<i32[2]: [1, 2]>`).

`print_function(fn, elide_constants_over=N)` writes
`dense<...elided K elements...>` for constants of more than N elements: for
dumps and error messages only; the parser refuses such text.
"""
from __future__ import annotations

import json
import re
import struct

import numpy as np

from .core import DTYPES, NP_TO_IR, Function, Instr, IRError, Module, TensorType, Value

__all__ = ["print_function", "print_module", "format_instr", "parse_function",
           "parse_module"]

_BARE_NAME = re.compile(r"[A-Za-z0-9_.$]+\Z")
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CANONICAL_NAN = {"f32": 0x7FC00000, "f64": 0x7FF8000000000000}
_UINT_OF = {"f32": np.uint32, "f64": np.uint64}
# Only a header longer than this goes one parameter / result per line.
_HEADER_WIDTH = 128
_INDENT = "  "


# ----------------------------------------------------------------------------
# Printing

def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _name(sigil: str, name: str) -> str:
    return sigil + (name if _BARE_NAME.match(name) else _quote(name))


def _float_tokens(flat: np.ndarray, dtype: str) -> list[str]:
    """Element texts of a 1-D float array that read back bit-exactly."""
    if dtype == "f64":
        toks = [repr(x) for x in flat.tolist()]
    else:
        # numpy's str of an f32 is its shortest round-tripping form; the
        # parser reads through f64, so confirm that path and fall back to the
        # exact f64 value where the double rounding could bite.
        toks = flat.astype(str).tolist()
        if toks:
            back = np.array(toks).astype(np.float64).astype(np.float32)
            bad = (back.view(np.uint32) != flat.view(np.uint32)) & ~np.isnan(flat)
            for i in np.flatnonzero(bad).tolist():
                toks[i] = repr(float(flat[i]))
    nan_at = np.flatnonzero(np.isnan(flat))
    if nan_at.size:
        bits = flat.view(_UINT_OF[dtype])
        width = 2 * flat.dtype.itemsize
        for i in nan_at.tolist():
            b = int(bits[i])
            toks[i] = "nan" if b == _CANONICAL_NAN[dtype] else f"nan:0x{b:0{width}x}"
    return toks


def _element_tokens(arr: np.ndarray) -> list[str]:
    dtype = NP_TO_IR[arr.dtype]
    flat = arr.reshape(-1)
    if dtype == "bool":
        return ["true" if x else "false" for x in flat.tolist()]
    if dtype in ("i32", "i64"):
        return [str(x) for x in flat.tolist()]
    return _float_tokens(flat, dtype)


def _nest(toks: list[str], shape: tuple) -> str:
    """Row-major tokens laid out as nested brackets, one level per dim."""
    if not shape:
        return toks[0]
    if len(shape) == 1:
        return "[" + ", ".join(toks) + "]"
    step = len(toks) // shape[0] if shape[0] else 0
    return "[" + ", ".join(_nest(toks[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


def _is_splat(arr: np.ndarray) -> bool:
    if arr.size < 2:
        return False
    raw = arr.reshape(-1).view(np.uint8).reshape(arr.size, arr.dtype.itemsize)
    return bool((raw == raw[0]).all())


def _format_dense(arr: np.ndarray, implied: TensorType | None, elide_over) -> str:
    if arr.dtype not in NP_TO_IR:
        raise IRError(f"can't print an array of dtype {arr.dtype}; "
                      f"supported: {sorted(DTYPES)}")
    t = TensorType(arr.shape, NP_TO_IR[arr.dtype])
    prefix = "" if t == implied else f"{t}: "
    if _is_splat(arr):
        body = _element_tokens(arr.reshape(-1)[:1])[0]
    elif elide_over is not None and arr.size > elide_over:
        body = f"...elided {arr.size} elements..."
    else:
        body = _nest(_element_tokens(arr), arr.shape)
    return f"dense<{prefix}{body}>"


def _format_attr(v, implied: TensorType | None, elide_over) -> str:
    if isinstance(v, np.ndarray):
        return _format_dense(v, implied, elide_over)
    if isinstance(v, np.generic):
        v = v.item()
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float_tokens(np.array([v]), "f64")[0]
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_format_attr(x, None, elide_over) for x in v) + "]"
    raise IRError(f"can't print attribute value {v!r} of type {type(v).__name__}")


def format_instr(ins: Instr, elide_constants_over: int | None = None) -> str:
    """One instruction as it appears in a function body (without indent)."""
    operands = ", ".join(_name("%", o.name) for o in ins.operands)
    text = f"{_name('%', ins.result.name)} = {ins.op}({operands})"
    if ins.attrs:
        implied = ins.type if ins.op == "constant" else None
        items = []
        for k in sorted(ins.attrs):
            key = k if _BARE_KEY.match(k) else _quote(k)
            items.append(f"{key}={_format_attr(ins.attrs[k], implied, elide_constants_over)}")
        text += " {" + ", ".join(items) + "}"
    return f"{text} : {ins.type}"


def _header(fn: Function) -> list[str]:
    params = []
    for i, p in enumerate(fn.params):
        user = f" {_quote(fn.param_names[i])}" if i < len(fn.param_names) else ""
        params.append(f"{_name('%', p.name)}{user}: {p.type}")
    results = []
    for i, r in enumerate(fn.results):
        s = f"{_quote(fn.result_names[i])}: " if i < len(fn.result_names) else ""
        s += str(r.type)
        if i in fn.aliases and 0 <= fn.aliases[i] < len(fn.params):
            s += f" aliases {_name('%', fn.params[fn.aliases[i]].name)}"
        results.append(s)
    name = _name("@", fn.name)
    one_line = f"func {name}({', '.join(params)}) -> ({', '.join(results)}) {{"
    if len(one_line) <= _HEADER_WIDTH:
        return [one_line]
    ind = _INDENT * 2

    def block(items):
        return ",\n".join(ind + s for s in items) + "\n" if items else ""
    return [f"func {name}(\n{block(params)}) -> (\n{block(results)}) {{"]


def print_function(fn: Function, elide_constants_over: int | None = None) -> str:
    """The text of `fn` (no trailing newline); parse_function reads it back
    unless `elide_constants_over` elided a constant."""
    lines = _header(fn)
    bad = {r: p for r, p in fn.aliases.items()
           if not (0 <= r < len(fn.results) and 0 <= p < len(fn.params))}
    if bad:
        # Not representable in the header; shown so a broken function still prints.
        lines.append(f"{_INDENT}// invalid aliases (result: param): {bad}")
    for ins in fn.body:
        lines.append(_INDENT + format_instr(ins, elide_constants_over))
    rets = ", ".join(_name("%", r.name) for r in fn.results)
    lines.append(f"{_INDENT}return {rets}" if rets else f"{_INDENT}return")
    lines.append("}")
    return "\n".join(lines)


def print_module(mod: Module, elide_constants_over: int | None = None) -> str:
    """Every function in order, the entry marked `entry`, ending in a newline."""
    parts = []
    for name, fn in mod.functions.items():
        text = print_function(fn, elide_constants_over)
        parts.append("entry " + text if name == mod.entry_name else text)
    return "\n\n".join(parts) + "\n" if parts else ""


# ----------------------------------------------------------------------------
# Parsing

_SKIP = re.compile(r"(?:\s+|//[^\n]*)*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BARE = re.compile(r"[A-Za-z0-9_.$]+")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"')
_TYPE = re.compile(r"([A-Za-z][A-Za-z0-9]*)\[\s*(\d+(?:\s*,\s*\d+)*)?\s*\]")
_FLOAT_ELEM = r"-?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|inf|nan(?::0x[0-9a-fA-F]+)?)"
_NUMBER = re.compile(_FLOAT_ELEM + r"(?![A-Za-z0-9_.:])")
_WORD = re.compile(r"(true|false|none)(?![A-Za-z0-9_])")
_ELEMENTS = {"f": _FLOAT_ELEM, "i": r"-?\d+", "b": r"(?:true|false)"}
_ELEMENT_KINDS = {k: re.compile(e + r"\Z") for k, e in _ELEMENTS.items()}
# Characters a literal of each kind may hold; numpy's conversion rejects the
# remaining malformed numbers ("1.2.3"), which a per-element regex then names.
_DENSE_CHARS = {"f": re.compile(r"[^0-9.eE+\-inxa-fA-F:\[\],\s]"),
                "i": re.compile(r"[^0-9\-\[\],\s]"),
                "b": re.compile(r"[^truefals\[\],\s]")}
_DENSE_TOKEN = re.compile(r"[^\[\],\s]+")
_NAN_BITS = re.compile(r"nan:0x[0-9a-fA-F]+\Z")
_NOT_BRACKET = re.compile(r"[^\[\],]+")


def _skeleton(shape: tuple) -> str:
    """The brackets and commas a literal of this shape has (no elements)."""
    size = 1
    for d in shape:
        size *= d
    return _nest([""] * size, shape).replace(" ", "")


def _nan_from_bits(tok: str, dtype: str):
    """The bits of a `nan:0x...` token, or None unless they are a NaN of dtype."""
    bits = int(tok.partition(":")[2], 16)
    exp = 0x7F800000 if dtype == "f32" else 0x7FF0000000000000
    frac = 0x007FFFFF if dtype == "f32" else 0x000FFFFFFFFFFFFF
    ok = bits < (1 << (32 if dtype == "f32" else 64)) and bits & exp == exp and bits & frac
    return bits if ok else None


class _Dense:
    """A dense literal waiting for the type that gives its dtype and shape."""
    __slots__ = ("body", "type", "pos")

    def __init__(self, body, type, pos):
        self.body, self.type, self.pos = body, type, pos


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    # -- low level ---------------------------------------------------------

    def _where(self, pos):
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"line {line}, column {col}"

    def fail(self, message, pos=None):
        raise IRError(f"{self._where(self.pos if pos is None else pos)}: {message}")

    def expected(self, what):
        self.skip()
        rest = self.text[self.pos:self.pos + 24].split("\n")[0]
        found = repr(rest) if rest else "end of line" if self.pos < len(self.text) \
            else "end of input"
        self.fail(f"expected {what}, found {found}")

    def skip(self):
        self.pos = _SKIP.match(self.text, self.pos).end()

    def at_end(self):
        self.skip()
        return self.pos >= len(self.text)

    def accept(self, literal):
        self.skip()
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def accept_keyword(self, word):
        self.skip()
        m = _IDENT.match(self.text, self.pos)
        if m and m.group() == word:
            self.pos = m.end()
            return True
        return False

    def expect(self, literal, what=None):
        if not self.accept(literal):
            self.expected(what or repr(literal))

    def match(self, regex, what):
        self.skip()
        m = regex.match(self.text, self.pos)
        if not m:
            self.expected(what)
        self.pos = m.end()
        return m

    def string(self, what="a quoted string"):
        return json.loads(self.match(_STRING, what).group())

    def name(self, sigil, what):
        """A `%name` or `@name`, bare or quoted; returns the name."""
        self.skip()
        if not self.text.startswith(sigil, self.pos):
            self.expected(what)
        self.pos += 1
        if self.text.startswith('"', self.pos):
            return self.string(what)
        m = _BARE.match(self.text, self.pos)
        if not m:
            self.expected(what)
        self.pos = m.end()
        return m.group()

    def peek(self, literal):
        self.skip()
        return self.text.startswith(literal, self.pos)

    # -- pieces ------------------------------------------------------------

    def type(self):
        self.skip()
        start = self.pos
        m = self.match(_TYPE, "a type like f32[2,3]")
        if m.group(1) not in DTYPES:
            self.fail(f"unknown dtype {m.group(1)!r}; expected one of {list(DTYPES)}", start)
        dims = [int(d) for d in m.group(2).split(",")] if m.group(2) else []
        return TensorType(dims, m.group(1))

    def attr_value(self):
        self.skip()
        start = self.pos
        if self.accept("["):
            items = []
            if not self.accept("]"):
                items.append(self.attr_value())
                while self.accept(","):
                    items.append(self.attr_value())
                self.expect("]", "',' or ']' in a list")
            return tuple(items)
        if self.peek('"'):
            return self.string()
        if self.accept("dense<"):
            return self.dense(start)
        m = _WORD.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return {"true": True, "false": False, "none": None}[m.group(1)]
        m = _NUMBER.match(self.text, self.pos)
        if not m:
            self.expected("an attribute value (number, string, true, false, none, "
                          "[list] or dense<...>)")
        self.pos = m.end()
        tok = m.group()
        if tok.startswith("nan:"):
            bits = _nan_from_bits(tok, "f64")
            if bits is None:
                self.fail(f"{tok} is not the bits of an f64 NaN", start)
            return struct.unpack("<d", struct.pack("<Q", bits))[0]
        if any(c in tok for c in ".eEn"):
            return float(tok)
        return int(tok)

    def dense(self, start):
        self.skip()
        t = None
        m = _TYPE.match(self.text, self.pos)
        if m and self.text.startswith(":", _SKIP.match(self.text, m.end()).end()):
            t = self.type()
            self.expect(":")
        end = self.text.find(">", self.pos)
        if end < 0:
            self.expected("'>' closing dense<")
        body = self.text[self.pos:end]
        self.pos = end + 1
        if body.strip().startswith("...elided"):
            self.fail("this constant was elided when the IR was printed "
                      "(elide_constants_over); elided text can't be parsed back", start)
        return _Dense(body, t, start)

    def dense_array(self, d: _Dense, t: TensorType) -> np.ndarray:
        body, shape = d.body, t.shape
        toks = _DENSE_TOKEN.findall(body)
        skel = "".join(_NOT_BRACKET.sub("", body).split())
        splat = skel == "" and len(toks) == 1
        if not splat:
            if len(toks) != t.size:
                self.fail(f"dense literal has {len(toks)} elements, {t} needs {t.size}", d.pos)
            if skel != _skeleton(shape):
                self.fail(f"dense literal's brackets don't match shape {list(shape)} of {t}",
                          d.pos)
        kind = t.np_dtype.kind
        pattern = _ELEMENT_KINDS[kind]
        flat = None
        if not _DENSE_CHARS[kind].search(body):
            try:
                flat = self._convert(toks, t, "nan:" in body)
            except (ValueError, OverflowError):
                pass
        if flat is None:
            bad = next((x for x in toks if not pattern.match(x)), None)
            if bad is not None:
                self.fail(f"bad {t.dtype} element {bad!r} in dense literal", d.pos)
            self.fail(f"dense literal has an element out of range for {t.dtype} "
                      f"(or a nan:0x... whose bits are not a {t.dtype} NaN)", d.pos)
        if splat:
            return np.full(shape, flat[0], dtype=t.np_dtype)
        return flat.reshape(shape)

    @staticmethod
    def _convert(toks, t, has_nan_bits):
        """Tokens to a flat array of t's dtype; None if a value is out of range."""
        dtype = t.dtype
        if dtype == "bool":
            arr = np.array(toks, dtype=str)
            is_true = arr == "true"
            if not (is_true | (arr == "false")).all():
                raise ValueError
            return is_true
        if dtype in ("i32", "i64"):
            arr = np.array(toks, dtype=str).astype(np.int64)
            if dtype == "i32" and arr.size and (arr.min() < -2**31 or arr.max() >= 2**31):
                return None
            return arr.astype(t.np_dtype)
        nan_at = [i for i, x in enumerate(toks) if x.startswith("nan:")] if has_nan_bits else []
        plain = list(toks)
        for i in nan_at:
            plain[i] = "nan"
        arr = np.array(plain, dtype=str).astype(np.float64).astype(t.np_dtype)
        bits = arr.view(_UINT_OF[dtype])
        for i in nan_at:
            b = _nan_from_bits(toks[i], dtype) if _NAN_BITS.match(toks[i]) else None
            if b is None:
                return None
            bits[i] = b
        return arr

    # -- function ----------------------------------------------------------

    def function(self) -> Function:
        if not self.accept_keyword("func"):
            self.expected("'func'")
        fn = Function(self.name("@", "a function name like @main"))
        scope: dict[str, Value] = {}

        def define(v: Value, pos):
            if v.name in scope:
                self.fail(f"%{v.name} is defined twice", pos)
            scope[v.name] = v

        def use(what):
            self.skip()
            pos = self.pos
            n = self.name("%", what)
            if n not in scope:
                self.fail(f"use of undefined value %{n}", pos)
            return scope[n]

        # parameters
        self.expect("(")
        user_names = []
        if not self.accept(")"):
            while True:
                self.skip()
                pos = self.pos
                p = Value(None, self.name("%", "a parameter like %arg0"))
                if self.peek('"'):
                    user_names.append((len(fn.params), self.string()))
                self.expect(":", "':' and the parameter's type")
                p.type = self.type()
                define(p, pos)
                fn.params.append(p)
                if self.accept(")"):
                    break
                self.expect(",", "',' or ')' after a parameter")
        fn.param_names = self._names(user_names, [p.name for p in fn.params])

        # results
        self.expect("->")
        self.expect("(")
        declared = []  # (pos, type)
        user_names = []
        if not self.accept(")"):
            while True:
                self.skip()
                pos = self.pos
                if self.peek('"'):
                    user_names.append((len(declared), self.string()))
                    self.expect(":", "':' and the result's type")
                declared.append((pos, self.type()))
                if self.accept_keyword("aliases"):
                    self.skip()
                    ppos = self.pos
                    pname = self.name("%", "the aliased parameter like %arg1")
                    idx = next((i for i, p in enumerate(fn.params) if p.name == pname), None)
                    if idx is None:
                        self.fail(f"aliases %{pname}, which is not a parameter", ppos)
                    fn.aliases[len(declared) - 1] = idx
                if self.accept(")"):
                    break
                self.expect(",", "',' or ')' after a result")
        fn.result_names = self._names(user_names, [f"out{i}" for i in range(len(declared))])

        # body
        self.expect("{")
        while not self.accept_keyword("return"):
            self.skip()
            pos = self.pos
            if self.pos >= len(self.text) or self.peek("}"):
                self.expected("an instruction or 'return'")
            name = self.name("%", "an instruction like '%1 = add(%0, %0) : f32[2]' or 'return'")
            self.expect("=")
            op = self.match(_IDENT, "an op name").group()
            self.expect("(")
            operands = []
            if not self.accept(")"):
                operands.append(use("an operand like %0"))
                while self.accept(","):
                    operands.append(use("an operand like %0"))
                self.expect(")", "',' or ')' after an operand")
            attrs = {}
            if self.accept("{"):
                if not self.accept("}"):
                    while True:
                        self.skip()
                        kpos = self.pos
                        key = self.string() if self.peek('"') else \
                            self.match(_IDENT, "an attribute name").group()
                        if key in attrs:
                            self.fail(f"attribute {key!r} given twice", kpos)
                        self.expect("=")
                        attrs[key] = self.attr_value()
                        if self.accept("}"):
                            break
                        self.expect(",", "',' or '}' after an attribute")
            self.expect(":", "':' and the result type")
            rtype = self.type()
            for k, v in attrs.items():
                if isinstance(v, _Dense):
                    if v.type is None and op != "constant":
                        self.fail(f"dense literal of attribute {k!r} needs a type prefix "
                                  "(dense<f32[2]: ...>) outside a constant", v.pos)
                    attrs[k] = self.dense_array(v, v.type or rtype)
            ins = Instr(op, operands, attrs, rtype, name)
            define(ins.result, pos)
            fn.body.append(ins)

        # return
        ret_pos = self.pos - len("return")
        if not self.peek("}"):
            fn.results.append(use("a returned value like %1"))
            while self.accept(","):
                fn.results.append(use("a returned value like %1"))
        self.expect("}", "'}' closing the function")
        if len(fn.results) != len(declared):
            self.fail(f"the header declares {len(declared)} result(s) but return gives "
                      f"{len(fn.results)}", ret_pos)
        for i, ((pos, t), v) in enumerate(zip(declared, fn.results)):
            if v.type != t:
                self.fail(f"result {i} is declared {t} but return gives %{v.name}: {v.type}", pos)
        return fn

    @staticmethod
    def _names(given, defaults):
        """User names by position; an unnamed entry takes its default."""
        names = list(defaults)
        for i, n in given:
            names[i] = n
        return names


def parse_function(text: str) -> Function:
    """Parse the text of one function; IRError (with line and column) if malformed."""
    p = _Parser(text)
    fn = p.function()
    if not p.at_end():
        p.expected("end of input after the function")
    return fn


def parse_module(text: str) -> Module:
    """Parse a module: functions in order, the one marked `entry` as entry
    (the first one if none is marked)."""
    p = _Parser(text)
    mod = Module()
    entry = None
    while not p.at_end():
        p.skip()
        pos = p.pos
        is_entry = p.accept_keyword("entry")
        fn = p.function()
        if fn.name in mod.functions:
            p.fail(f"function @{fn.name} is defined twice", pos)
        if is_entry:
            if entry is not None:
                p.fail(f"two entry functions: @{entry} and @{fn.name}", pos)
            entry = fn.name
        mod.add(fn)
    if entry is not None:
        mod.entry_name = entry
    return mod
