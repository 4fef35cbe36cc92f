"""Graph -> IR: prune a graph to what the fetches need and lower it to one IR
function whose parameters are feeds, variables and random counters and whose
results are fetched values and variable updates (aliased to the variable's
parameter, so the update is written in place).

Shapes in the IR are static. An op whose result's size depends on the data
(tf.where with one argument) takes its size from `sizes`; without one it
raises DataDependentShape, which a Session answers by lowering a probe (the
tensors the size depends on, reduced to it: `probe`), running it, and
lowering again with the size (see tfcompile/dynamic_sizes.py). Checks that
compiled code cannot raise itself become hidden bool results (RunCheck)."""
from __future__ import annotations

import heapq

import numpy as np

from . import dtypes as _dt
from .errors import FailedPreconditionError, InvalidArgumentError, UnimplementedError
from .graph import Operation, Tensor
from .ops.registry import LOWERINGS
from .tensor_shape import TensorShape

from .ir import core as ir
from .ir.core import DTYPES, TensorType


class DataDependentShape(UnimplementedError):
    """An op whose result's shape depends on the data was lowered without its
    size. `key` is (op, k): the op and which of its sizes; the size is
    `size_fn(ctx, [IR values of inputs])`, an i64 scalar, where `inputs` are
    graph tensors (a Session lowers and runs them first: the probe)."""

    def __init__(self, op, key, inputs, size_fn, what, count=None, nonneg=True):
        super().__init__(None, op, (
            f"{op.name}: {what} has a shape that depends on the data, and compiled code has "
            "static shapes: a Session runs its input first to learn the size, but "
            "ahead-of-time export and compiled callables need it known when the "
            "graph is compiled (a constant condition)"))
        self.key = key
        self.inputs = list(inputs)
        self.size_fn = size_fn
        self.count = count        # None: one size; n: a vector of n values
        self.nonneg = nonneg


class RunCheck:
    """A hidden bool result of a plan: False makes the Session raise
    InvalidArgumentError(op, message) after the run (compiled code has no
    error path of its own). Data-dependent sizes check themselves this way:
    the size the run computes must be the size compiled in."""

    def __init__(self, op, message, error=InvalidArgumentError):
        self.op = op
        self.message = message
        self.error = error


PROBE = object()    # the result of a probe (see lower's `probe`)


def count_true(ctx, v):
    """The number of nonzero (true) elements of IR value v, as an i64 scalar."""
    if v.dtype != "bool":
        v = ctx.b.emit("ne", [v, ctx.scalar(0, v.dtype, v.shape)])
    n = ctx.b.emit("convert", [v], dtype="i64")
    return ctx.b.emit("reduce", [n], kind="sum", axes=list(range(v.type.rank)))


def wrap_small_int(ctx, v, dtype_name):
    """An i32 value of a small integer type brought back into its range, modulo
    its size, as TF's narrow arithmetic wraps (a no-op on values in range)."""
    lo, size = _dt.SMALL_INTS[dtype_name]
    b = ctx.b
    x = b.emit("sub", [v, ctx.scalar(lo, "i32", v.shape)]) if lo else v
    r = b.emit("rem", [x, ctx.scalar(size, "i32", v.shape)])
    r = b.emit("select", [b.emit("lt", [r, ctx.scalar(0, "i32", v.shape)]),
                          b.emit("add", [r, ctx.scalar(size, "i32", v.shape)]), r])
    return b.emit("add", [r, ctx.scalar(lo, "i32", v.shape)]) if lo else r


def needed_ops(fetch_tensors, target_ops, fed):
    """Ops the fetches and targets transitively need, stopping at fed tensors."""
    seen = set()
    order = []
    stack = [t.op for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        order.append(op)
        for t in op.inputs:
            if t not in fed and t.op not in seen:
                stack.append(t.op)
        for c in op.control_inputs:
            if c not in seen:
                stack.append(c)
    return seen


def topo_order(ops, fed):
    """Dependencies first; among ready ops, the one created first (TF's usual order:
    reads of a variable made while building the model come before its updates)."""
    indeg = {op: 0 for op in ops}
    users = {op: [] for op in ops}
    for op in ops:
        deps = {t.op for t in op.inputs if t not in fed and t.op in ops}
        deps |= {c for c in op.control_inputs if c in ops}
        indeg[op] = len(deps)
        for d in deps:
            users[d].append(op)
    heap = [(op._id, op) for op, n in indeg.items() if n == 0]
    heapq.heapify(heap)
    out = []
    while heap:
        _, op = heapq.heappop(heap)
        out.append(op)
        for u in users[op]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(heap, (u._id, u))
    if len(out) != len(ops):
        cyc = sorted((op for op in ops if indeg[op] > 0), key=lambda o: o._id)
        raise InvalidArgumentError(None, cyc[0], "The graph has a cycle through "
                                   + ", ".join(o.name for o in cyc[:5]))
    return out


class LoweringContext:
    """What a lowering function sees: an IR builder and helpers."""

    def __init__(self, fn: ir.Function, seed_source):
        self.fn = fn
        self.b = ir.Builder(fn)
        self.op = None
        self.params = []          # ("feed", Tensor) | ("var", Operation) | ("rng", Operation)
        self.var_params = {}      # var op -> param index
        self.var_current = {}     # var op -> current IR value
        self.var_written = []     # var ops in order of first write
        self.var_shapes = {}      # var op -> concrete shape of the stored value
        self.rng_params = {}
        self.frozen = {}          # var op -> ndarray lowered as a constant (AOT export)
        self.writes_now = []      # var ops the op being lowered writes
        self.sizes = {}           # (op, k) -> a data-dependent size, found by a probe
        self.sizes_used = []      # the keys of `sizes` this lowering used
        self.run_checks = []      # (RunCheck, IR bool scalar) results to add
        self.op_inputs = []       # the IR values of the inputs of the op being lowered
        self._seed_source = seed_source

    # ---- errors
    def fail(self, message, cls=InvalidArgumentError):
        raise cls(None, self.op, message)

    # ---- params
    def add_param(self, kind, obj, type_, name):
        v = self.b.param(type_, name)
        self.params.append((kind, obj))
        return v

    def read_variable(self, var_op):
        if var_op in self.var_current:
            return self.var_current[var_op]
        if var_op in self.frozen:
            # A frozen variable's value is part of the compiled code (trained weights).
            v = self.b.constant(self.frozen[var_op])
            self.var_current[var_op] = v
            return v
        shape = self.var_shapes.get(var_op)
        if shape is None:
            raise FailedPreconditionError(
                None, var_op, f"Attempting to use uninitialized value {var_op.name}")
        t = TensorType(shape, _dt.compilable(var_op.outputs[0].dtype, var_op.name))
        v = self.add_param("var", var_op, t, var_op.outputs[0].name)
        self.var_params[var_op] = len(self.params) - 1
        self.var_current[var_op] = v
        return v

    def write_variable(self, var_op, value, validate=True):
        _dt.compilable(var_op.outputs[0].dtype, var_op.name)   # (no narrow-int variables)
        cur = self.var_current.get(var_op)
        static = var_op.outputs[0].shape
        if validate and not static.is_compatible_with(TensorShape(value.shape)):
            self.fail(f"Assign requires shapes of both tensors to match. lhs shape= "
                      f"{static} rhs shape= {list(value.shape)}")
        if cur is not None and validate and cur.shape != value.shape:
            self.fail(f"Assign requires shapes of both tensors to match. lhs shape= "
                      f"{list(cur.shape)} rhs shape= {list(value.shape)}")
        if var_op not in self.var_written:
            self.var_written.append(var_op)
        self.var_current[var_op] = value
        self.writes_now.append(var_op)

    def rng_counter(self, op):
        if op not in self.rng_params:
            self.rng_params[op] = self.add_param("rng", op, TensorType((), "i64"),
                                                 op.name + "/counter")
        return self.rng_params[op]

    def seeds(self, op):
        s1, s2 = op.attrs["seed"], op.attrs["seed2"]
        if s1 == 0 and s2 == 0:
            return self._seed_source(op)
        path = getattr(op, "_unroll_path", ())
        if path:    # a copy made by unrolling a loop: a stream of its own per iteration
            h = 0
            for k in path:
                h = (h * 1000003 + k + 1) & 0x7FFFFFFF
            s2 = (s2 + h * 0x9E3779B1) & 0x7FFFFFFF
        return s1, s2

    # ---- data-dependent sizes, run-time checks
    def data_size(self, op, what, inputs, size_fn, values, k=0, count=None, nonneg=True):
        """Size k of `op`'s data-dependent result in this compilation.

        inputs: the graph tensors the size depends on, `values` their IR values
        here; size_fn(ctx, IR values) -> i64 scalar computes it. Without a size
        given (the Session's probe found none yet) raises DataDependentShape;
        with one, the compiled code also computes it and the run fails if the
        two differ (see dynamic_sizes). With `count`, size_fn gives an i64
        vector of that many values and the result is a tuple; `nonneg=False`
        lets them be negative (values such as a fed shape with a -1)."""
        key = (op, k)
        n = self.sizes.get(key)
        if n is None:
            raise DataDependentShape(op, key, inputs, size_fn, what, count, nonneg)
        if key not in self.sizes_used:
            self.sizes_used.append(key)
            got = size_fn(self, list(values))
            want = self.b.constant(np.array(n, np.int64).reshape(got.shape))
            ok = self.b.emit("eq", [got, want])
            if got.type.rank:
                ok = self.b.emit("reduce", [ok], kind="and", axes=list(range(got.type.rank)))
            self.add_run_check(op, ok, (
                f"{op.name} ({op.type}): its size was {n} when its input was run first "
                "and differs in the run itself: the input reads a variable that the "
                "same run also writes, in no fixed order; add a control dependency "
                "to fix the order"))
        return n

    def add_run_check(self, op, ok, message, details=(), error=InvalidArgumentError):
        """Makes the run fail with InvalidArgumentError(op, message) where the
        bool scalar IR value `ok` is False (checked after the call). With
        `details` (integer IR values computed by the run, scalars or tensors,
        laid end to end), `message` is a function of their values (a numpy
        vector), called only on failure.
        `error`: the OpError class raised (TF's, for the op). A check of an op
        inside a tf.cond branch holds only when its branch is taken (both
        branches are computed: see _guarded)."""
        self.run_checks.append((RunCheck(op, message, error), ok, list(details)))

    def fail_at_run(self, op, message, error=InvalidArgumentError):
        """An error known when compiling, raised when the op runs: now, unless the
        op is in a tf.cond branch (then only when that branch is taken)."""
        if getattr(op, "_cond_guards", ()):
            self.add_run_check(op, self.b.constant(np.array(False)), message, error=error)
        else:
            self.fail(message, error)

    def _guarded(self, check, ok, details, values):
        """The check's result: ok, or'ed with "its tf.cond branch wasn't taken" for
        each enclosing cond whose predicate this lowering computed; then packed
        with its details as an i64 vector."""
        b = self.b
        for pred, branch in getattr(check.op, "_cond_guards", ()):
            pv = values.get(pred)
            if pv is None:
                continue
            taken = pv if branch else b.emit("not", [pv])
            ok = b.emit("or", [ok, b.emit("not", [taken])])
        if details:     # (vectors of details are laid end to end)
            parts = [self.convert(ok, "i64")] + [self.convert(d, "i64") for d in details]
            ok = b.emit("concatenate", [b.emit("reshape", [p], shape=[p.type.size])
                                        for p in parts], axis=0)
        return ok

    # ---- values
    def const_value(self, v, what="value"):
        """The compile-time value of an IR value (shapes, axes and the like).

        Folded from constants where it can be; an integer input of the op
        being lowered that depends on feeds or variables (a fed shape or
        multiples) is probed: its values become data-dependent sizes, one
        compiled plan per value (see data_size)."""
        arr = _fold(v)
        if arr is not None:
            return arr
        pos = next((i for i, x in enumerate(self.op_inputs) if x is v), None)
        if (pos is None or self.op is None or v.dtype not in ("i32", "i64")
                or v.type.size > 256):
            self.fail(f"{what} must be known when the graph is compiled (a constant, or "
                      "computed from constants and static shapes)", UnimplementedError)
        n = v.type.size

        def as_vector(ctx, vals, n=n):
            return ctx.convert(ctx.b.emit("reshape", [vals[0]], shape=[n]), "i64")
        got = self.data_size(self.op, what, [self.op.inputs[pos]], as_vector, [v],
                             k=("value", pos), count=n, nonneg=False)
        return np.array(got, dtype=DTYPES[v.dtype]).reshape(v.shape)

    def axis(self, a, rank):
        a = int(a)
        if not -rank <= a < max(rank, 1):
            self.fail(f"axis {a} is out of range for a tensor of rank {rank}; expected "
                      f"[{-rank}, {rank})")
        return a % rank if rank else 0

    def scalar(self, value, dtype, shape=()):
        c = self.b.constant(np.array(value, dtype=ir.DTYPES[dtype]))
        return self.bcast(c, tuple(shape))

    def convert(self, v, dtype):
        if v.dtype == dtype:
            return v
        return self.b.emit("convert", [v], dtype=dtype)

    def broadcast_shape(self, a, b):
        a, b = tuple(a), tuple(b)
        n = max(len(a), len(b))
        a = (1,) * (n - len(a)) + a
        b = (1,) * (n - len(b)) + b
        out = []
        for x, y in zip(a, b):
            if x != y and x != 1 and y != 1:
                self.fail(f"Incompatible shapes: {list(a)} vs. {list(b)}")
            out.append(y if x == 1 else x)
        return tuple(out)

    def bcast(self, v, shape):
        shape = tuple(shape)
        if v.shape == shape:
            return v
        r, n = v.type.rank, len(shape)
        if r > n:
            self.fail(f"can't broadcast shape {list(v.shape)} to {list(shape)}")
        for i, d in enumerate(v.shape):
            if d not in (1, shape[n - r + i]):
                self.fail(f"Incompatible shapes: {list(v.shape)} vs. {list(shape)}")
        return self.b.emit("broadcast", [v], shape=shape, dims=list(range(n - r, n)))

    def broadcast_pair(self, x, y):
        shape = self.broadcast_shape(x.shape, y.shape)
        return self.bcast(x, shape), self.bcast(y, shape)


def _fold(v):
    """Evaluates `v` if it depends only on constants (small graphs of shape math)."""
    ins = v.producer
    if ins is None:
        return None
    if ins.op == "constant":
        return ins.attrs["value"]
    if ins.op == "rng" or ins.type.size > 4096:
        return None
    vals = []
    for o in ins.operands:
        x = _fold(o)
        if x is None:
            return None
        vals.append(x)
    from .ir.interpreter import evaluate
    return evaluate(ins, vals)


class Lowered:
    """The result of lowering: the IR function and how to call it."""

    def __init__(self, fn, params, results, var_updates, sizes_used=()):
        self.fn = fn
        self.sizes_used = list(sizes_used)  # keys of the data-dependent sizes compiled in
        self.params = params            # list of ("feed"|"var"|"rng", obj)
        self.results = results          # list of ("fetch", Tensor) | ("var", var op)
        self.var_updates = var_updates  # var ops written


def lower(graph, fetch_tensors, target_ops, feeds, var_shapes, seed_source, frozen=None,
          sizes=None, probe=None):
    """Lowers the part of `graph` that `fetch_tensors` and `target_ops` need.

    feeds: {Tensor: TensorType} of fed tensors; var_shapes: {var op: shape} of the
    initialized variables; frozen: optional {var op: ndarray} of variables whose
    reads become IR constants instead of parameters (ahead-of-time export);
    sizes: {(op, k): int} of data-dependent sizes found by probes; probe: a
    size_fn (see LoweringContext.data_size) applied to the fetches: the one
    result, ("fetch", PROBE), is the size, not the fetched values. Hidden
    results follow the fetches as ("fetch", RunCheck)."""
    fed = set(feeds)
    ops = needed_ops(fetch_tensors, target_ops, fed)
    order = topo_order(ops, fed)
    fn = ir.Function("main")
    ctx = LoweringContext(fn, seed_source)
    ctx.var_shapes = var_shapes
    ctx.sizes = dict(sizes or {})
    if frozen:
        ctx.frozen = dict(frozen)
    feed_vals = {}
    for t in sorted(fed, key=lambda t: (t.op._id, t.value_index)):
        if t.op in ops or t in fetch_tensors or any(t in o.inputs for o in ops):
            feed_vals[t] = ctx.add_param("feed", t, feeds[t], t.name)
    values = {}
    # var ops written by each op or the ops it (transitively) depends on: a read
    # of a reference variable aliases its buffer in TF, so an op ordered after a
    # write sees the written value through `var/read`
    after_writes = {}
    for op in order:
        ctx.op = op
        deps = _EMPTY
        for t in op.inputs:
            if t not in fed and t.op in after_writes:
                deps = deps | after_writes[t.op]
        for c in op.control_inputs:
            if c in after_writes:
                deps = deps | after_writes[c]
        if op.type == "VariableV2":
            continue
        if op.type == "Placeholder":
            if all(t not in fed for t in op.outputs):
                t = op.outputs[0]
                raise InvalidArgumentError(
                    None, op, f"You must feed a value for placeholder tensor '{op.name}' "
                    f"with dtype {_tf_type_name(t.dtype)} and shape {_shape_str(t.shape)}")
            continue
        fn_lower = LOWERINGS.get(op.type)
        if fn_lower is None:
            raise UnimplementedError(None, op, f"The op type {op.type!r} (op {op.name!r}) "
                                     "has no lowering to the compiler's IR")
        ins = []
        for t in op.inputs:
            if t in feed_vals:
                ins.append(feed_vals[t])
            elif t.op.type == "VariableV2":
                ins.append(ctx.read_variable(t.op) if op.type not in (
                    "Assign", "IsVariableInitialized") else None)
            elif deps and _is_ref_read(t) and t.op.inputs[0].op in deps:
                ins.append(ctx.var_current[t.op.inputs[0].op])
            else:
                ins.append(values[t])
        ctx.writes_now = []
        ctx.op_inputs = ins
        outs = fn_lower(ctx, op, ins)
        if deps or ctx.writes_now:
            after_writes[op] = deps | frozenset(ctx.writes_now) if ctx.writes_now else deps
        if len(outs) != len(op.outputs):
            raise RuntimeError(f"lowering of {op.type} gave {len(outs)} values for "
                               f"{len(op.outputs)} outputs")
        for i, (t, v) in enumerate(zip(op.outputs, outs)):
            if v.dtype != _dt.ir_of(t.dtype):
                raise RuntimeError(f"lowering of {op.name} ({op.type}) gave {v.type}, but "
                                   f"the tensor {t.name} is {t.dtype.name}")
            if t.dtype.base_dtype.name in _dt.SMALL_INTS:
                v = outs[i] = wrap_small_int(ctx, v, t.dtype.base_dtype.name)
            if not t.shape.is_compatible_with(TensorShape(v.shape)):
                ctx.fail(f"{op.type} produced shape {list(v.shape)}, which is incompatible "
                         f"with the static shape {t.shape} of {t.name}")
            values[t] = v
    ctx.op = None
    results = []
    probed = []
    for t in fetch_tensors:
        if t in feed_vals:
            v = feed_vals[t]
        elif t.op.type == "VariableV2":
            v = ctx.read_variable(t.op)
        elif _is_ref_read(t) and t.op.inputs[0].op in ctx.var_written:
            # TF's read of a reference variable aliases its buffer, so a fetched
            # read sees the updates made later in the same run: match that.
            v = ctx.var_current[t.op.inputs[0].op]
        elif t.op.type == "Placeholder":
            raise InvalidArgumentError(
                None, t.op, f"You must feed a value for placeholder tensor '{t.op.name}' "
                f"with dtype {_tf_type_name(t.dtype)} and shape {_shape_str(t.shape)}")
        else:
            v = values[t]
        if probe is not None:
            probed.append(v)
            continue
        ctx.b.result(v, t.name)
        results.append(("fetch", t))
    if probe is not None:
        ctx.b.result(probe(ctx, probed), "size")
        results.append(("fetch", PROBE))
    known = dict(values)
    known.update(feed_vals)
    for n, (check, ok, details) in enumerate(ctx.run_checks):
        ctx.b.result(ctx._guarded(check, ok, details, known), f"{check.op.name}/check_{n}")
        results.append(("fetch", check))
    for var_op in ctx.var_written:
        alias = ctx.var_params.get(var_op)
        ctx.b.result(ctx.var_current[var_op], var_op.name, alias_param=alias)
        results.append(("var", var_op))
    return Lowered(fn, ctx.params, results, list(ctx.var_written), ctx.sizes_used)


_EMPTY = frozenset()


def _is_ref_read(t):
    return t.op.type == "Identity" and t.op.inputs[0].op.type == "VariableV2"


def _tf_type_name(dtype):
    """TF's C++ DataTypeString names (float, double) used in its run-time messages."""
    return {"float32": "float", "float64": "double"}.get(dtype.name, dtype.name)


def _shape_str(shape):
    if shape.ndims is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


_ = (Operation, Tensor)
