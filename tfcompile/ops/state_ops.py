"""Variable updates by index: tf.scatter_update/add/sub/mul/div/min/max,
tf.scatter_nd_update/add/sub, tf.batch_scatter_update, the Variable methods
TF 1.15 has for them (v.scatter_add(IndexedSlices), v.scatter_nd_add(...)),
and tf.IndexedSlices (TF 1.15 names and semantics).

Each op reads the variable, computes the whole updated value and writes it
back (LoweringContext.write_variable); its output is the updated value, as
TF's op returns the variable's reference after the update. The IR has no
scatter, so rows are matched to indices by comparison:

- rows[p] is updated from the updates whose index is p. `last[p]`, the
  position of the last such update (-1 for none), is a max-reduction over a
  [U, N] comparison of the U indices with the N row numbers.
- duplicate indices combine as TF's sequential application does: their
  updates are summed (add, sub), multiplied (mul, div: v / a / b = v / (a*b)),
  or reduced by min / max first, each update with the others of its index (a
  [U, U] comparison, or [U, N] when there are more updates than rows);
  scatter_update keeps the last one (TF leaves the choice among duplicates
  unspecified; the last is what a sequential loop gives).
- masked reductions, never one-hot products: an Inf or NaN update changes
  only its own row (0 * Inf would spread NaN through a matrix product).

An index out of range fails the run with InvalidArgumentError (a run check),
and the variable keeps its value. Resource variables don't exist here
(get_variable(use_resource=True) makes reference variables), so these are
the only variants."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .manip_ops import _q
from .op_util import make_tensor
from .registry import NotDifferentiable, lowering

# op type -> how duplicates combine and what the combined update does to a row
_KINDS = {"ScatterUpdate": "update", "ScatterAdd": "add", "ScatterSub": "sub",
          "ScatterMul": "mul", "ScatterDiv": "div", "ScatterMin": "min",
          "ScatterMax": "max", "ScatterNdUpdate": "update", "ScatterNdAdd": "add",
          "ScatterNdSub": "sub"}
_COMBINE = {"add": "sum", "sub": "sum", "mul": "prod", "div": "prod", "min": "min",
            "max": "max"}


class IndexedSlices:
    """tf.IndexedSlices(values, indices, dense_shape=None): the rows `values`
    of a dense tensor at `indices` (what Variable.scatter_* take)."""

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    name = property(lambda self: self._values.name)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)
    device = property(lambda self: "")

    def __repr__(self):
        return (f"IndexedSlices(indices={self._indices}, values={self._values}"
                + (f", dense_shape={self._dense_shape})" if self._dense_shape is not None
                   else ")"))


# ---------------------------------------------------------------- graph side

def _scatter_op(op_type, ref, indices, updates, use_locking, name):
    from ..variables import _ref_of
    ref = _ref_of(ref)
    kind = _KINDS[op_type]
    dt = ref.dtype.base_dtype
    with name_scope(name, op_type, [ref, indices, updates]) as scope:
        opname = scope[:-1]
        if kind != "update" and dt.is_bool:
            raise TypeError(f"Value passed to parameter 'ref' has DataType {dt.name} not in "
                            f"list of allowed values for {op_type}: numeric types")
        idx = convert_to_tensor(indices, name="indices")
        if idx.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"Value passed to parameter 'indices' has DataType "
                            f"{idx.dtype.name} not in list of allowed values: int32, int64")
        if isinstance(updates, Tensor):
            upd = updates
            if upd.dtype != dt:
                raise TypeError(f"Input 'updates' of '{op_type}' Op has type "
                                f"{upd.dtype.name} that does not match type {dt.name} of "
                                f"argument 'ref'.")
        else:
            upd = convert_to_tensor(updates, dtype=dt, name="updates")
        if op_type.startswith("ScatterNd"):
            _check_nd_shapes(ref.shape, idx.shape, upd.shape, opname, op_type)
        else:
            _check_shapes(ref.shape, idx.shape, upd.shape, opname, op_type)
        return make_tensor(op_type, [ref, idx, upd], ref.dtype, ref.shape,
                           {"T": dt, "Tindices": idx.dtype, "use_locking": bool(use_locking)},
                           name=scope)


def _shape_error(opname, op_type, shapes, what):
    return ValueError(f"{what} for '{opname}' (op: '{op_type}') with input shapes: "
                      + ", ".join(_q(s) for s in shapes) + ".")


def _check_shapes(ref, idx, upd, opname, op_type):
    """updates: indices.shape + ref.shape[1:], or a scalar (applied to every row named)."""
    if ref.ndims == 0:
        raise _shape_error(opname, op_type, (ref, idx, upd),
                           "Shape must be at least rank 1 but is rank 0")
    if upd.ndims == 0 or ref.ndims is None or idx.ndims is None or upd.ndims is None:
        return
    want = idx.concatenate(ref[1:])
    if not want.is_compatible_with(upd):
        raise _shape_error(opname, op_type, (ref, idx, upd),
                           f"Must have updates.shape = indices.shape + params.shape[1:] or "
                           f"updates.shape = [], got updates.shape {_q(upd)}, indices.shape "
                           f"{_q(idx)}, params.shape {_q(ref)}")


def _check_nd_shapes(ref, idx, upd, opname, op_type):
    """updates: indices.shape[:-1] + ref.shape[indices.shape[-1]:]."""
    shapes = (ref, idx, upd)
    if idx.ndims == 0:
        raise _shape_error(opname, op_type, shapes, "Shape must be at least rank 1 but is "
                           "rank 0")
    if ref.ndims is None or idx.ndims is None or upd.ndims is None:
        return
    k = idx[-1].value
    if k is None:
        return
    if k > ref.ndims:
        raise _shape_error(opname, op_type, shapes, f"indices.shape[-1] must be <= "
                           f"params.rank, but saw indices shape: {_q(idx)} and params shape: "
                           f"{_q(ref)}")
    outer = idx.ndims - 1
    if upd.ndims < outer or not idx[:-1].is_compatible_with(upd[:outer]):
        raise _shape_error(opname, op_type, shapes, f"The outer {outer} dimensions of "
                           f"indices.shape={_q(idx)} must match the outer {outer} dimensions "
                           f"of updates.shape={_q(upd)}")
    if not ref[k:].is_compatible_with(upd[outer:]):
        raise _shape_error(opname, op_type, shapes, f"The inner {ref.ndims - k} dimensions "
                           f"of input.shape={_q(ref)} must match the inner "
                           f"{upd.ndims - outer} dimensions of updates.shape={_q(upd)}")


def _maker(op_type, locking_default):
    def f(ref, indices, updates, use_locking=locking_default, name=None):
        return _scatter_op(op_type, ref, indices, updates, use_locking, name)
    kind = _KINDS[op_type]
    py = "scatter_nd_" + kind if op_type.startswith("ScatterNd") else "scatter_" + kind
    f.__name__ = py
    f.__doc__ = (f"tf.{py}(ref, indices, updates, use_locking, name): the variable `ref` "
                 f"updated ({kind}) at `indices`; returns its value after the update "
                 f"(op {op_type}).")
    return f


scatter_update = _maker("ScatterUpdate", True)
scatter_add = _maker("ScatterAdd", False)
scatter_sub = _maker("ScatterSub", False)
scatter_mul = _maker("ScatterMul", False)
scatter_div = _maker("ScatterDiv", False)
scatter_min = _maker("ScatterMin", False)
scatter_max = _maker("ScatterMax", False)
scatter_nd_update = _maker("ScatterNdUpdate", True)
scatter_nd_add = _maker("ScatterNdAdd", False)
scatter_nd_sub = _maker("ScatterNdSub", False)


def batch_scatter_update(ref, indices, updates, use_locking=True, name=None):
    """tf.batch_scatter_update: ref[b..., indices[b..., i], ...] = updates[b..., i, ...]
    for the leading (batch) dimensions b of indices: a scatter_nd_update whose index
    vectors get each position's batch coordinates in front."""
    from . import array_ops, math_ops, stack_ops
    with name_scope(name, "BatchScatterUpdate", [ref, indices, updates]):
        idx = convert_to_tensor(indices, name="indices")
        r = idx.shape.ndims
        if r is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        nd = array_ops.expand_dims(idx, -1)
        dims = array_ops.shape(idx, out_type=idx.dtype)
        parts = []
        for d in builtins.range(r - 1):
            pos = array_ops.range(dims[d], dtype=idx.dtype)
            grid = [1] * (r + 1)
            grid[d] = -1
            parts.append(math_ops.multiply(array_ops.reshape(pos, grid),
                                           array_ops.ones_like(nd)))
        full = stack_ops.concat(parts + [nd], axis=-1)
        return scatter_nd_update(ref, full, updates, use_locking=use_locking)


for _t in _KINDS:   # as TF: no gradient through a variable's update
    NotDifferentiable(_t)


# ---------------------------------------------------------------- lowering

def _row_ids(ctx, op, idx, shape):
    """The row of each update (-1 where its index is out of range), the number
    of rows, the row shape, the updates' leading shape, and the error message."""
    if op.type.startswith("ScatterNd"):
        from .index_ops import linear_index
        if idx.type.rank == 0:
            ctx.fail(f"{op.type}: indices must be at least rank 1, got a scalar")
        k = idx.shape[-1]
        if k > len(shape):
            ctx.fail(f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
                     f"{list(idx.shape)} and params shape: {list(shape)}")
        lead = idx.shape[:-1]
        lin = linear_index(ctx, idx, shape[:k]) if k else ctx.scalar(0, idx.dtype, lead)
        rows, tail = int(np.prod(shape[:k], dtype=np.int64)), shape[k:]
        bad = (f"indices of {op.name}: an index does not index into shape "
               f"{list(shape)} (an index vector out of range)")
    else:
        if not shape:
            ctx.fail(f"{op.type}: the variable must be at least rank 1, got a scalar")
        lead, rows, tail = idx.shape, shape[0], shape[1:]
        lin = idx
        good = ctx.b.emit("and", [ctx.b.emit("ge", [lin, ctx.scalar(0, lin.dtype, lead)]),
                                  ctx.b.emit("lt", [lin, ctx.scalar(rows, lin.dtype, lead)])])
        lin = ctx.b.emit("select", [good, lin, ctx.scalar(-1, lin.dtype, lead)])
        bad = (f"indices of {op.name}: an index is not in [0, {rows}) (the variable's "
               "first dimension)")
    n_u = int(np.prod(lead, dtype=np.int64))
    return ctx.b.emit("reshape", [lin], shape=[n_u]), rows, tuple(tail), tuple(lead), bad


@lowering(*_KINDS)
def _lower_scatter(ctx, op, inputs):
    var_op = op.inputs[0].op
    old, idx, upd = inputs
    shape = tuple(old.shape)
    lin, rows, tail, lead, bad = _row_ids(ctx, op, idx, shape)
    want = lead + tail
    if upd.shape == () and want != ():
        upd = ctx.bcast(upd, want)
    if tuple(upd.shape) != want:
        ctx.fail(f"{op.type}: updates must have shape {list(want)} (indices.shape "
                 f"{list(idx.shape)} and the variable's shape {list(shape)}), got "
                 f"{list(upd.shape)}")
    n_u, width = lin.shape[0], int(np.prod(tail, dtype=np.int64))
    new = old
    if n_u:
        ok = ctx.b.emit("reduce", [ctx.b.emit("ge", [lin, ctx.scalar(0, lin.dtype, (n_u,))])],
                        kind="and", axes=[0])
        ctx.add_run_check(op, ok, bad)
        if rows and width:
            old2 = ctx.b.emit("reshape", [old], shape=[rows, width])
            upd2 = ctx.b.emit("reshape", [upd], shape=[n_u, width])
            new2 = _updated_rows(ctx, _KINDS[op.type], old2, lin, upd2)
            # an index out of range fails the run and leaves the variable as it was
            new2 = ctx.b.emit("select", [ctx.bcast(ok, (rows, width)), new2, old2])
            new = ctx.b.emit("reshape", [new2], shape=list(shape))
    ctx.write_variable(var_op, new)
    return [new]


def _identity(how, dt):
    """The value that leaves a reduction `how` unchanged, in IR dtype dt."""
    if how in ("sum", "prod"):
        return 0 if how == "sum" else 1
    if dt in ("f32", "f64"):
        return -np.inf if how == "max" else np.inf
    lim = np.iinfo(np.dtype({"i32": np.int32, "i64": np.int64}[dt]))
    return lim.min if how == "max" else lim.max


def _updated_rows(ctx, kind, old, lin, upd):
    """old [N, R] with the U updates upd [U, R] applied at rows lin [U] (-1: none)."""
    b = ctx.b
    n, r = old.shape
    u = lin.shape[0]
    it = lin.dtype
    hit = b.emit("eq", [b.emit("broadcast", [lin], shape=[u, n], dims=[0]),
                        b.emit("iota", [], shape=[u, n], dtype=it, dim=1)])
    pos_t = "i32" if u < 2 ** 31 else "i64"
    pos = b.emit("iota", [], shape=[u, n], dtype=pos_t, dim=0)
    last = b.emit("reduce", [b.emit("select", [hit, pos, ctx.scalar(-1, pos_t, (u, n))])],
                  kind="max", axes=[0])
    has = ctx.bcast(b.emit("reshape", [b.emit("ge", [last, ctx.scalar(0, pos_t, (n,))])],
                           shape=[n, 1]), (n, r))
    if kind == "update":
        return b.emit("select", [has, b.emit("gather", [upd, last], axis=0), old])
    how = _COMBINE[kind]
    ident = _identity(how, upd.dtype)
    if u <= n:
        # each update combined with the others of its row, then row p takes the
        # combination at its last update
        same = b.emit("eq", [b.emit("broadcast", [lin], shape=[u, u], dims=[0]),
                             b.emit("broadcast", [lin], shape=[u, u], dims=[1])])
        sel = b.emit("select", [b.emit("broadcast", [same], shape=[u, u, r], dims=[0, 1]),
                                b.emit("broadcast", [upd], shape=[u, u, r], dims=[1, 2]),
                                ctx.scalar(ident, upd.dtype, (u, u, r))])
        val = b.emit("gather", [b.emit("reduce", [sel], kind=how, axes=[1]), last], axis=0)
    else:
        sel = b.emit("select", [b.emit("broadcast", [hit], shape=[u, n, r], dims=[0, 1]),
                                b.emit("broadcast", [upd], shape=[u, n, r], dims=[0, 2]),
                                ctx.scalar(ident, upd.dtype, (u, n, r))])
        val = b.emit("reduce", [sel], kind=how, axes=[0])
    ir_op = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "min": "min",
             "max": "max"}[kind]
    return b.emit("select", [has, b.emit(ir_op, [old, val]), old])


# ---------------------------------------------------------------- Variable methods

def _sparse(sparse_delta):
    if not isinstance(sparse_delta, IndexedSlices):
        raise TypeError(f"sparse_delta is not IndexedSlices: {sparse_delta}")
    return sparse_delta.indices, sparse_delta.values


def _method(fn, method):
    def m(self, sparse_delta, use_locking=False, name=None):
        indices, values = _sparse(sparse_delta)
        return fn(self, indices, values, use_locking=use_locking, name=name)
    m.__name__ = method
    m.__doc__ = (f"Variable.{method}(sparse_delta: IndexedSlices, use_locking, name): "
                 f"tf.{method} of the variable.")
    return m


def _nd_method(fn, method):
    def m(self, indices, updates, name=None):
        return fn(self, indices, updates, use_locking=True, name=name)
    m.__name__ = method
    m.__doc__ = f"Variable.{method}(indices, updates, name): tf.{method} of the variable."
    return m


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    from ..variables import Variable
    from . import cond_ops
    # tf.cond computes both branches: it refuses branches that update variables,
    # and these ops do
    cond_ops._STATEFUL = tuple(cond_ops._STATEFUL) + tuple(
        k for k in _KINDS if k not in cond_ops._STATEFUL)
    fns = {f.__name__: f for f in (scatter_update, scatter_add, scatter_sub, scatter_mul,
                                   scatter_div, scatter_min, scatter_max, scatter_nd_update,
                                   scatter_nd_add, scatter_nd_sub)}
    for k, f in fns.items():
        setattr(tf, k, f)
    tf.batch_scatter_update = batch_scatter_update
    if not hasattr(tf, "IndexedSlices"):
        tf.IndexedSlices = IndexedSlices
    # the methods TF 1.15's Variable has
    for k in ("scatter_update", "scatter_add", "scatter_sub", "scatter_mul", "scatter_div",
              "scatter_min", "scatter_max"):
        setattr(Variable, k, _method(fns[k], k))
    Variable.batch_scatter_update = _method(batch_scatter_update, "batch_scatter_update")
    for k in ("scatter_nd_update", "scatter_nd_add", "scatter_nd_sub"):
        setattr(Variable, k, _nd_method(fns[k], k))


_ = TensorShape
