"""The tensor IR: types, values, instructions, functions, and the op table.

Every op has one result. Elementwise ops require operands of identical type
(broadcasts are explicit `broadcast` instructions, as in XLA's HLO), so the
passes and backends never reason about implicit broadcasting.

Op semantics (the reference interpreter in `interpreter.py` is the oracle):

  constant     attrs value (numpy array, exactly the result type)
  iota         attrs shape, dtype, dim          result[i...] = i[dim]
  <unary>      one operand, same type result    (see UNARY_OPS)
  <binary>     two operands of one type         (see BINARY_OPS)
               integer div truncates toward zero and rem takes the sign of
               the dividend (C semantics); integer division by zero gives 0
               for div and rem, and MIN / -1 gives MIN (no trap, ever);
               float rem is C fmod; pow on integers is exact repeated
               multiplication with wrap-around (a negative exponent gives 0
               unless the base is 1 or -1); max/min propagate NaN
  <compare>    two operands of one type -> bool (see COMPARE_OPS)
  select       (pred bool, on_true, on_false), all of one shape
  convert      attrs dtype; float->int truncates toward zero, saturating at
               the integer range, NaN -> 0; ->bool is x != 0; bool->number
               gives 0 or 1
  round        rounds half to even (numpy's rint)
  broadcast    attrs shape, dims: operand dim i maps to result dim dims[i]
               (dims strictly increasing); operand dim size must be 1 or the
               result's size there (size 1 repeats, like numpy)
  reshape      attrs shape (same element count, row-major order)
  transpose    attrs perm: result.shape[i] = operand.shape[perm[i]]
  slice        attrs start, limit, stride (all >= 0, stride >= 1)
  reverse      attrs axes
  concatenate  attrs axis; >= 1 operands equal except along axis
  pad          attrs low, high (>= 0 per dim), value (Python scalar)
  reduce       attrs kind in REDUCE_KINDS, axes (sorted, unique); the axes
               are removed from the shape. Identity for empty reductions:
               sum 0, prod 1, max -inf (or the dtype's minimum), min +inf
               (or maximum), and True, or False.
  argmax,      attrs axis, dtype (i32 or i64); the axis is removed; the
  argmin       scan keeps the first index and replaces it only on a strictly
               greater (smaller) value, so ties give the smallest index and a
               NaN is never picked unless it is at index 0
  dot          attrs transpose_a, transpose_b; operands [B..., M, K] and
               [B..., K, N] (after the transposes of their last two dims),
               identical batch dims B; result [B..., M, N]
  conv2d       attrs strides [sh, sw], dilations [dh, dw] (all >= 1);
               operands x [N, Hp, Wp, C] (padding already applied) and
               w [KH, KW, C, O], float; result [N, Ho, Wo, O] with
               Ho = (Hp - (KH-1)*dh - 1) // sh + 1 (likewise Wo):
               out[n,p,q,o] = sum_{i,j,c} x[n, p*sh+i*dh, q*sw+j*dw, c] w[i,j,c,o]
  conv2d_filter attrs strides, dilations, window [KH, KW]; operands
               x [N, Hp, Wp, C] and dy [N, Ho, Wo, O] with the windows inside
               x ((Ho-1)*sh + (KH-1)*dh < Hp, likewise W); result
               [KH, KW, C, O]: the gradient of conv2d's w,
               out[i,j,c,o] = sum_{n,p,q} x[n, p*sh+i*dh, q*sw+j*dw, c] dy[n,p,q,o]
  gather       attrs axis; operands (params, indices int32/int64);
               result shape params[:axis] + indices + params[axis+1:];
               an index outside [0, params.shape[axis]) gives 0
  argwhere     attrs count; one bool operand of rank r; result i64
               [count, r]: the coordinates of the operand's true elements in
               row-major order (numpy's argwhere). `count` is the number of
               true elements, found before compiling (the result's shape
               depends on the data); should the operand hold fewer, the
               rows past them are -1, and true elements past `count` are
               left out (never a write out of bounds)
  rng          attrs dist in RNG_DISTS, shape, dtype (f32/f64), seed, seed2;
               one operand: a scalar i64 counter. Counter-based: the value at
               flat index i is a pure function of (seed, seed2, counter, i),
               given by `ir.random`.
"""
from __future__ import annotations

import numpy as np

DTYPES = {
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
}
NP_TO_IR = {v: k for k, v in DTYPES.items()}
FLOATS = ("f32", "f64")
INTS = ("i32", "i64")

UNARY_OPS = ("neg", "abs", "sign", "exp", "expm1", "log", "log1p", "tanh",
             "logistic", "sqrt", "rsqrt", "floor", "ceil", "round", "not",
             "sin", "cos")
FLOAT_ONLY_UNARY = ("exp", "expm1", "log", "log1p", "tanh", "logistic",
                    "sqrt", "rsqrt", "floor", "ceil", "round", "sin", "cos")
BINARY_OPS = ("add", "sub", "mul", "div", "rem", "pow", "max", "min",
              "and", "or")
COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
REDUCE_KINDS = ("sum", "prod", "max", "min", "and", "or")
RNG_DISTS = ("uniform", "normal", "truncated_normal")
# Contractions: each output element is a sum of products over many operand
# elements; computed by a matmul-like nest, never element by element inside
# another kernel (their epilogue joins them instead).
CONTRACTIONS = frozenset(("dot", "conv2d", "conv2d_filter"))
OPS = (("constant", "iota", "select", "convert", "broadcast", "reshape",
        "transpose", "slice", "reverse", "concatenate", "pad", "reduce",
        "argmax", "argmin", "dot", "conv2d", "conv2d_filter", "gather", "argwhere",
        "rng")
       + UNARY_OPS + BINARY_OPS + COMPARE_OPS)


class IRError(Exception):
    """Malformed IR: a wrong operand type, a bad attribute, a broken SSA use."""


class TensorType:
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype: str):
        if dtype not in DTYPES:
            raise IRError(f"unknown dtype {dtype!r}; expected one of {list(DTYPES)}")
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise IRError(f"negative dimension in shape {shape}")
        self.shape = shape
        self.dtype = dtype

    @property
    def rank(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def np_dtype(self):
        return DTYPES[self.dtype]

    @property
    def nbytes(self):
        return self.size * DTYPES[self.dtype].itemsize

    def __eq__(self, other):
        return (isinstance(other, TensorType) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __str__(self):
        return f"{self.dtype}[{','.join(map(str, self.shape))}]"

    __repr__ = __str__


class Value:
    """An SSA value: a function parameter or the result of an instruction."""
    __slots__ = ("type", "name", "producer")

    def __init__(self, type: TensorType, name: str, producer=None):
        self.type = type
        self.name = name
        self.producer = producer  # the Instr, or None for a parameter

    @property
    def shape(self):
        return self.type.shape

    @property
    def dtype(self):
        return self.type.dtype

    def __repr__(self):
        return f"%{self.name}: {self.type}"


class Instr:
    __slots__ = ("op", "operands", "attrs", "result")

    def __init__(self, op, operands, attrs, result_type, name):
        self.op = op
        self.operands = list(operands)
        self.attrs = dict(attrs)
        self.result = Value(result_type, name, self)

    @property
    def type(self):
        return self.result.type

    def __repr__(self):
        ops = ", ".join("%" + o.name for o in self.operands)
        return f"%{self.result.name} = {self.op}({ops}) {self.attrs} : {self.type}"


class Function:
    """Parameters, an ordered body, and results.

    `aliases` maps a result index to a parameter index: that result is written
    into the parameter's buffer (a variable updated in place); the codegen
    makes every read of the old value happen before the write.
    """

    def __init__(self, name="main"):
        self.name = name
        self.params: list[Value] = []
        self.param_names: list[str] = []   # user-facing names (feeds, vars)
        self.body: list[Instr] = []
        self.results: list[Value] = []
        self.result_names: list[str] = []
        self.aliases: dict[int, int] = {}

    def __repr__(self):
        from .text import print_function
        return print_function(self)


class Module:
    def __init__(self, entry: Function | None = None):
        self.functions: dict[str, Function] = {}
        self.entry_name = None
        if entry is not None:
            self.add(entry, entry=True)

    def add(self, fn: Function, entry=False):
        self.functions[fn.name] = fn
        if entry or self.entry_name is None:
            self.entry_name = fn.name

    @property
    def entry(self) -> Function:
        return self.functions[self.entry_name]


# ----------------------------------------------------------------------------
# Type inference: one function per op family, shared by Builder and verifier.

def _same_type(op, operands):
    t = operands[0].type
    for o in operands[1:]:
        if o.type != t:
            raise IRError(f"{op}: operands must have one type, got "
                          + ", ".join(str(x.type) for x in operands))
    return t


def _check_arity(op, operands, n):
    if len(operands) != n:
        raise IRError(f"{op}: expected {n} operand(s), got {len(operands)}")


def _perm_ok(perm, rank):
    return sorted(perm) == list(range(rank))


def _conv_type(op, operands, attrs) -> TensorType:
    _check_arity(op, operands, 2)
    x, y = operands
    if x.dtype != y.dtype or x.dtype not in FLOATS:
        raise IRError(f"{op}: operands must be f32 or f64 of one dtype: {x.type}, {y.type}")
    if x.type.rank != 4 or y.type.rank != 4:
        raise IRError(f"{op}: operands must have rank 4: {x.type}, {y.type}")
    sh, sw = attrs["strides"]
    dh, dw = attrs["dilations"]
    if min(sh, sw, dh, dw) < 1:
        raise IRError(f"{op}: strides {attrs['strides']} and dilations "
                      f"{attrs['dilations']} must be >= 1")
    n, hp, wp, c = x.shape
    if op == "conv2d":
        kh, kw, ci, o = y.shape
        if ci != c:
            raise IRError(f"conv2d: input depth {c} != filter depth {ci}: {x.type}, {y.type}")
        spans = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
        if kh == 0 or kw == 0 or spans[0] > hp or spans[1] > wp:
            raise IRError(f"conv2d: window {kh}x{kw} (dilations {dh}, {dw}) does not fit "
                          f"the input {x.type}")
        return TensorType((n, (hp - spans[0]) // sh + 1, (wp - spans[1]) // sw + 1, o),
                          x.dtype)
    kh, kw = attrs["window"]
    n2, ho, wo, o = y.shape
    if n2 != n or kh < 1 or kw < 1:
        raise IRError(f"conv2d_filter: batch {n} vs {n2}, window {attrs['window']}: "
                      f"{x.type}, {y.type}")
    if ((ho and (ho - 1) * sh + (kh - 1) * dh >= hp)
            or (wo and (wo - 1) * sw + (kw - 1) * dw >= wp)):
        raise IRError(f"conv2d_filter: {ho}x{wo} windows of {kh}x{kw} do not fit the "
                      f"input {x.type}")
    return TensorType((kh, kw, c, o), x.dtype)


def infer_type(op: str, operands: list[Value], attrs: dict) -> TensorType:
    """The result type of `op` applied to `operands`, or IRError."""
    if op == "constant":
        _check_arity(op, operands, 0)
        v = attrs.get("value")
        if not isinstance(v, np.ndarray) or v.dtype not in NP_TO_IR:
            raise IRError("constant: attr 'value' must be a numpy array of a supported dtype")
        return TensorType(v.shape, NP_TO_IR[v.dtype])
    if op == "iota":
        _check_arity(op, operands, 0)
        shape = tuple(attrs["shape"])
        if not 0 <= attrs["dim"] < len(shape):
            raise IRError(f"iota: dim {attrs['dim']} out of range for shape {shape}")
        if attrs["dtype"] == "bool":
            raise IRError("iota: dtype must be numeric")
        return TensorType(shape, attrs["dtype"])
    if op in UNARY_OPS:
        _check_arity(op, operands, 1)
        t = operands[0].type
        if op == "not" and t.dtype != "bool":
            raise IRError(f"not: operand must be bool, got {t}")
        if op != "not" and t.dtype == "bool":
            raise IRError(f"{op}: operand must be numeric, got {t}")
        if op in FLOAT_ONLY_UNARY and t.dtype not in FLOATS:
            raise IRError(f"{op}: operand must be f32 or f64, got {t}")
        return t
    if op in BINARY_OPS:
        _check_arity(op, operands, 2)
        t = _same_type(op, operands)
        if op in ("and", "or"):
            if t.dtype != "bool":
                raise IRError(f"{op}: operands must be bool, got {t}")
        elif t.dtype == "bool":
            raise IRError(f"{op}: operands must be numeric, got {t}")
        return t
    if op in COMPARE_OPS:
        _check_arity(op, operands, 2)
        t = _same_type(op, operands)
        return TensorType(t.shape, "bool")
    if op == "select":
        _check_arity(op, operands, 3)
        p, a, b = operands
        if p.dtype != "bool":
            raise IRError(f"select: predicate must be bool, got {p.type}")
        t = _same_type(op, [a, b])
        if p.shape != t.shape:
            raise IRError(f"select: predicate shape {p.shape} != value shape {t.shape}")
        return t
    if op == "convert":
        _check_arity(op, operands, 1)
        return TensorType(operands[0].shape, attrs["dtype"])
    if op == "broadcast":
        _check_arity(op, operands, 1)
        x = operands[0]
        shape, dims = tuple(attrs["shape"]), tuple(attrs["dims"])
        if len(dims) != x.type.rank:
            raise IRError(f"broadcast: dims {dims} must have one entry per operand dim "
                          f"(operand {x.type})")
        if any(b <= a for a, b in zip(dims, dims[1:])) or any(
                not 0 <= d < len(shape) for d in dims):
            raise IRError(f"broadcast: dims {dims} must be increasing and within rank {len(shape)}")
        for i, d in enumerate(dims):
            if x.shape[i] not in (1, shape[d]):
                raise IRError(f"broadcast: operand dim {i} of size {x.shape[i]} can't "
                              f"broadcast to size {shape[d]} (operand {x.type} -> {shape})")
        return TensorType(shape, x.dtype)
    if op == "reshape":
        _check_arity(op, operands, 1)
        t = TensorType(attrs["shape"], operands[0].dtype)
        if t.size != operands[0].type.size:
            raise IRError(f"reshape: can't reshape {operands[0].type} ({operands[0].type.size} "
                          f"elements) to {t.shape} ({t.size} elements)")
        return t
    if op == "transpose":
        _check_arity(op, operands, 1)
        x = operands[0]
        perm = tuple(attrs["perm"])
        if not _perm_ok(perm, x.type.rank):
            raise IRError(f"transpose: perm {perm} is not a permutation of rank {x.type.rank}")
        return TensorType([x.shape[p] for p in perm], x.dtype)
    if op == "slice":
        _check_arity(op, operands, 1)
        x = operands[0]
        st, li, sd = tuple(attrs["start"]), tuple(attrs["limit"]), tuple(attrs["stride"])
        if not (len(st) == len(li) == len(sd) == x.type.rank):
            raise IRError(f"slice: start/limit/stride must have rank {x.type.rank}")
        out = []
        for d, (a, b, s) in enumerate(zip(st, li, sd)):
            if s < 1 or not 0 <= a <= b <= x.shape[d]:
                raise IRError(f"slice: bad bounds start={a} limit={b} stride={s} for dim {d} "
                              f"of size {x.shape[d]}")
            out.append((b - a + s - 1) // s)
        return TensorType(out, x.dtype)
    if op == "reverse":
        _check_arity(op, operands, 1)
        if any(not 0 <= a < operands[0].type.rank for a in attrs["axes"]):
            raise IRError(f"reverse: axes {attrs['axes']} out of range")
        return operands[0].type
    if op == "concatenate":
        if not operands:
            raise IRError("concatenate: needs at least one operand")
        ax = attrs["axis"]
        t0 = operands[0].type
        if not 0 <= ax < t0.rank:
            raise IRError(f"concatenate: axis {ax} out of range for rank {t0.rank}")
        total = 0
        for o in operands:
            t = o.type
            if t.dtype != t0.dtype or t.rank != t0.rank or any(
                    a != b for i, (a, b) in enumerate(zip(t.shape, t0.shape)) if i != ax):
                raise IRError(f"concatenate: operand {t} doesn't match {t0} except on axis {ax}")
            total += t.shape[ax]
        shape = list(t0.shape)
        shape[ax] = total
        return TensorType(shape, t0.dtype)
    if op == "pad":
        _check_arity(op, operands, 1)
        x = operands[0]
        lo, hi = tuple(attrs["low"]), tuple(attrs["high"])
        if len(lo) != x.type.rank or len(hi) != x.type.rank or min(lo + hi, default=0) < 0:
            raise IRError(f"pad: low/high must be non-negative with rank {x.type.rank}")
        return TensorType([d + a + b for d, a, b in zip(x.shape, lo, hi)], x.dtype)
    if op == "reduce":
        _check_arity(op, operands, 1)
        x = operands[0]
        kind, axes = attrs["kind"], tuple(attrs["axes"])
        if kind not in REDUCE_KINDS:
            raise IRError(f"reduce: unknown kind {kind!r}")
        if list(axes) != sorted(set(axes)) or any(not 0 <= a < x.type.rank for a in axes):
            raise IRError(f"reduce: axes {axes} must be sorted, unique, within rank {x.type.rank}")
        if (kind in ("and", "or")) != (x.dtype == "bool"):
            raise IRError(f"reduce {kind}: wrong operand dtype {x.dtype}")
        return TensorType([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)
    if op in ("argmax", "argmin"):
        _check_arity(op, operands, 1)
        x = operands[0]
        ax = attrs["axis"]
        if not 0 <= ax < x.type.rank:
            raise IRError(f"{op}: axis {ax} out of range for {x.type}")
        if attrs["dtype"] not in INTS or x.dtype == "bool":
            raise IRError(f"{op}: bad dtypes (operand {x.dtype}, index {attrs['dtype']})")
        return TensorType([d for i, d in enumerate(x.shape) if i != ax], attrs["dtype"])
    if op == "dot":
        _check_arity(op, operands, 2)
        a, b = operands
        if a.dtype != b.dtype or a.dtype == "bool":
            raise IRError(f"dot: operand dtypes must match and be numeric: {a.type}, {b.type}")
        if a.type.rank < 2 or a.type.rank != b.type.rank:
            raise IRError(f"dot: operands must have equal rank >= 2: {a.type}, {b.type}")
        if a.shape[:-2] != b.shape[:-2]:
            raise IRError(f"dot: batch dims differ: {a.type}, {b.type}")
        m, k = a.shape[-2:][::-1] if attrs.get("transpose_a") else a.shape[-2:]
        k2, n = b.shape[-2:][::-1] if attrs.get("transpose_b") else b.shape[-2:]
        if k != k2:
            raise IRError(f"dot: contracting dims differ ({k} vs {k2}): {a.type}, {b.type}")
        return TensorType(a.shape[:-2] + (m, n), a.dtype)
    if op in ("conv2d", "conv2d_filter"):
        return _conv_type(op, operands, attrs)
    if op == "gather":
        _check_arity(op, operands, 2)
        p, idx = operands
        ax = attrs["axis"]
        if idx.dtype not in INTS:
            raise IRError(f"gather: indices must be i32 or i64, got {idx.type}")
        if not 0 <= ax < p.type.rank:
            raise IRError(f"gather: axis {ax} out of range for {p.type}")
        return TensorType(p.shape[:ax] + idx.shape + p.shape[ax + 1:], p.dtype)
    if op == "argwhere":
        _check_arity(op, operands, 1)
        x = operands[0]
        if x.dtype != "bool":
            raise IRError(f"argwhere: operand must be bool, got {x.type}")
        if attrs["count"] < 0 or attrs["count"] > x.type.size:
            raise IRError(f"argwhere: count {attrs['count']} out of range for {x.type}")
        return TensorType((attrs["count"], x.type.rank), "i64")
    if op == "rng":
        _check_arity(op, operands, 1)
        c = operands[0]
        if c.type != TensorType((), "i64"):
            raise IRError(f"rng: counter must be i64[], got {c.type}")
        if attrs["dist"] not in RNG_DISTS or attrs["dtype"] not in FLOATS:
            raise IRError(f"rng: bad dist {attrs['dist']!r} or dtype {attrs['dtype']!r}")
        return TensorType(attrs["shape"], attrs["dtype"])
    raise IRError(f"unknown op {op!r}")


def normalize_attrs(op: str, attrs: dict) -> dict:
    """Canonical attribute values (tuples of ints, plain Python scalars)."""
    out = {}
    for k, v in attrs.items():
        if k == "value" and op == "constant":
            out[k] = np.asarray(v)
        elif k == "value":
            out[k] = v.item() if hasattr(v, "item") else v
        elif isinstance(v, (list, tuple)):
            out[k] = tuple(int(x) for x in v)
        elif isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        elif isinstance(v, (int, np.integer)):
            out[k] = int(v)
        else:
            out[k] = v
    return out


class Builder:
    """Appends instructions to a function, inferring and checking types.

        b = Builder(fn)
        x = b.param(TensorType((2, 3), "f32"), "x")
        y = b.emit("exp", [x])
    """

    def __init__(self, fn: Function):
        self.fn = fn
        self._n = 0
        taken = {p.name for p in fn.params} | {i.result.name for i in fn.body}
        while str(self._n) in taken:
            self._n += 1

    def _fresh(self):
        name = str(self._n)
        self._n += 1
        return name

    def param(self, type: TensorType, user_name: str | None = None) -> Value:
        v = Value(type, f"arg{len(self.fn.params)}")
        self.fn.params.append(v)
        self.fn.param_names.append(user_name or v.name)
        return v

    def emit(self, op: str, operands=(), **attrs) -> Value:
        attrs = normalize_attrs(op, attrs)
        t = infer_type(op, list(operands), attrs)
        ins = Instr(op, operands, attrs, t, self._fresh())
        self.fn.body.append(ins)
        return ins.result

    def constant(self, value, dtype: str | None = None) -> Value:
        arr = np.asarray(value, dtype=DTYPES[dtype] if dtype else None)
        if arr.dtype not in NP_TO_IR:
            raise IRError(f"constant of unsupported dtype {arr.dtype}")
        return self.emit("constant", value=np.array(arr, order="C"))

    def result(self, v: Value, user_name: str | None = None, alias_param: int | None = None):
        self.fn.results.append(v)
        self.fn.result_names.append(user_name or f"out{len(self.fn.results) - 1}")
        if alias_param is not None:
            self.fn.aliases[len(self.fn.results) - 1] = alias_param
