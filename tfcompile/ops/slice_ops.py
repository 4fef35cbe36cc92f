"""Slicing: tf.slice, tf.strided_slice and `Tensor.__getitem__` (ints, slices
with steps, Ellipsis, tf.newaxis and scalar int tensors), as TF 1.15.

Slice bounds must be known when the graph is compiled, except scalar indices
(shrinking dims, `x[i]`): those may be computed at run time and lower to a
gather along their dim (an out-of-range index then reads 0; TF raises).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..errors import UnimplementedError
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import constant, convert_to_tensor
from .op_util import constant_value, make_tensor
from .registry import lowering


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0,
                  ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, var=None,
                  name=None):
    x = convert_to_tensor(input_)
    with name_scope(name, "StridedSlice", [x]) as scope:
        if strides is None:
            from .array_ops import ones_like
            strides = ones_like(begin) if isinstance(begin, Tensor) else [1] * len(begin)
        bt = begin if isinstance(begin, Tensor) else _index_tensor(begin, "begin")
        et = end if isinstance(end, Tensor) else _index_tensor(end, "end")
        st = strides if isinstance(strides, Tensor) else _index_tensor(strides, "strides")
        attrs = {"T": x.dtype, "Index": bt.dtype, "begin_mask": begin_mask,
                 "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
                 "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
        out = TensorShape(None)
        bv, ev, sv = (_elements(t) for t in (bt, et, st))
        if x.shape.ndims is not None and None not in (bv, ev, sv):
            out = TensorShape(_strided_shape(x.shape.as_list(), bv, ev, sv, attrs,
                                             scope[:-1]))
        return make_tensor("StridedSlice", [x, bt, et, st], x.dtype, out, attrs, name=scope)


def _index_tensor(v, name):
    v = [int(i) for i in v]
    return constant(np.array(v, dtype=np.int32 if all(-2**31 <= i < 2**31 for i in v)
                             else np.int64).reshape([len(v)]), name=name)


def _elements(t):
    """Per-element build-time values of a 1-D index tensor (None where unknown),
    or None if its length is unknown."""
    v = constant_value(t)
    if v is not None:
        return [int(i) for i in np.reshape(v, [-1])]
    if t.op.type == "Pack" and t.op.attrs.get("axis", 0) == 0:
        out = []
        for i in t.op.inputs:
            c = constant_value(i)
            out.append(None if c is None or np.ndim(c) else int(c))
        return out
    return None


class _Dyn:
    """A shrink index only known at run time: entry `pos` of the begin vector."""

    def __init__(self, pos):
        self.pos = pos


def _expand_spec(rank, begin, end, strides, attrs):
    """TF's strided-slice masks -> per output entry: ('new',), ('dim', d, slice,
    int or _Dyn). Entries of begin/end/strides may be None where unknown."""
    n = len(begin)
    ell = attrs["ellipsis_mask"]
    if ell and builtins.bin(ell).count("1") > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    specs = []
    dim = 0
    n_real = builtins.sum(1 for i in builtins.range(n)
                          if not (attrs["new_axis_mask"] >> i) & 1 and not (ell >> i) & 1)
    for i in builtins.range(n):
        if (ell >> i) & 1:
            for _ in builtins.range(rank - n_real):
                specs.append(("dim", dim, builtins.slice(None)))
                dim += 1
            continue
        if (attrs["new_axis_mask"] >> i) & 1:
            specs.append(("new",))
            continue
        if (attrs["shrink_axis_mask"] >> i) & 1:
            specs.append(("dim", dim, _Dyn(i) if begin[i] is None else int(begin[i])))
        else:
            b = None if (attrs["begin_mask"] >> i) & 1 else begin[i]
            e = None if (attrs["end_mask"] >> i) & 1 else end[i]
            s = strides[i]
            if s == 0:
                raise ValueError("strides[%d] must be non-zero" % i)
            unknown = (b is None and not (attrs["begin_mask"] >> i) & 1) or (
                e is None and not (attrs["end_mask"] >> i) & 1) or s is None
            specs.append(("dim", dim, None if unknown else builtins.slice(
                None if b is None else int(b), None if e is None else int(e), int(s))))
        dim += 1
    if dim > rank:
        raise ValueError(f"Index out of range using input dim {dim - 1}; input has only "
                         f"{rank} dims")
    while dim < rank:
        specs.append(("dim", dim, builtins.slice(None)))
        dim += 1
    return specs


def _strided_shape(dims, begin, end, strides, attrs, opname):
    out = []
    for sp in _expand_spec(len(dims), begin, end, strides, attrs):
        if sp[0] == "new":
            out.append(1)
            continue
        _, d, s = sp
        n = dims[d]
        if isinstance(s, _Dyn):
            continue
        if isinstance(s, int):
            if n is not None and not -n <= s < n:
                raise ValueError(f"slice index {s} of dimension {d} out of bounds for "
                                 f"'{opname}' (op: 'StridedSlice') with input shape {dims}")
            continue
        out.append(None if n is None or s is None else len(builtins.range(n)[s]))
    return out


def _lowering_bounds(ctx, op, inputs):
    """begin/end/strides values for the lowering: all folded, or per element
    from the graph with run-time shrink indices left as None."""
    from ..lowering import _fold
    vals = [_fold(v) for v in inputs[1:]]
    if all(v is not None for v in vals):
        return [[int(i) for i in np.reshape(v, [-1])] for v in vals]
    vals = [_elements(t) for t in op.inputs[1:]]
    if any(v is None for v in vals):
        ctx.fail("strided_slice: the slice bounds must be known when the graph is compiled "
                 "(only scalar indices may be computed at run time)", UnimplementedError)
    return vals


@lowering("StridedSlice")
def _lower_strided_slice(ctx, op, inputs):
    x = inputs[0]
    b, e, s = _lowering_bounds(ctx, op, inputs)
    specs = _expand_spec(x.type.rank, b, e, s, op.attrs)
    start, limit, stride, rev, shape, dyn = [], [], [], [], [], []
    for sp in specs:
        if sp[0] == "new":
            shape.append(1)
            continue
        _, d, sl = sp
        n = x.shape[d]
        if sl is None:
            ctx.fail(f"strided_slice: the bounds of dimension {d} must be known when the "
                     "graph is compiled", UnimplementedError)
        if isinstance(sl, _Dyn):
            dyn.append((d, sl.pos))
            start.append(0), limit.append(n), stride.append(1)
            continue
        if isinstance(sl, int):
            if not -n <= sl < n:
                ctx.fail(f"slice index {sl} of dimension {d} out of bounds.")
            i = sl % n
            start.append(i), limit.append(i + 1), stride.append(1)
            continue
        r = builtins.range(n)[sl]
        if len(r) == 0:
            start.append(0), limit.append(0), stride.append(1)
        elif r.step > 0:
            start.append(r.start), limit.append(r[-1] + 1), stride.append(r.step)
        else:  # negative stride: reverse the dim, then slice forward
            rev.append(d)
            start.append(n - 1 - r.start), limit.append(n - 1 - r[-1] + 1)
            stride.append(-r.step)
        shape.append(len(r))
    v = x
    if rev:
        v = ctx.b.emit("reverse", [v], axes=sorted(rev))
    v = ctx.b.emit("slice", [v], start=start, limit=limit, stride=stride)
    for d, pos in sorted(dyn, reverse=True):
        # a run-time index: a gather, after wrapping negatives (out of range gives 0)
        bv = inputs[1]
        i = ctx.b.emit("reshape", [ctx.b.emit("slice", [bv], start=[pos], limit=[pos + 1],
                                              stride=[1])], shape=[])
        n = ctx.scalar(x.shape[d], i.dtype)
        neg = ctx.b.emit("lt", [i, ctx.scalar(0, i.dtype)])
        i = ctx.b.emit("select", [neg, ctx.b.emit("add", [i, n]), i])
        v = ctx.b.emit("gather", [v, i], axis=d)
    return [ctx.b.emit("reshape", [v], shape=shape)]


_INDEX_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                "scalar tf.int32/tf.int64 tensors are valid indices, got {!r}")


def _check_index(k):
    if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
        return
    if isinstance(k, Tensor) and k.dtype in (_dt.int32, _dt.int64) and \
            k.shape.ndims in (None, 0):
        return
    raise TypeError(_INDEX_ERROR.format(k))


def _getitem(tensor, key):
    """Tensor.__getitem__: ints, slices (with steps), Ellipsis, tf.newaxis and
    scalar int tensors, as TF's _slice_helper."""
    if not isinstance(key, tuple):
        key = (key,)
    begin, end, strides = [], [], []
    bm = em = elm = nm = sm = 0
    for i, k in enumerate(key):
        if k is Ellipsis:
            elm |= 1 << i
            begin.append(0), end.append(0), strides.append(1)
        elif k is None:
            nm |= 1 << i
            begin.append(0), end.append(0), strides.append(1)
        elif isinstance(k, builtins.slice):
            for part in (k.start, k.stop, k.step):
                if part is not None:
                    _check_index(part)
            if k.start is None:
                bm |= 1 << i
            if k.stop is None:
                em |= 1 << i
            begin.append(0 if k.start is None else k.start)
            end.append(0 if k.stop is None else k.stop)
            strides.append(1 if k.step is None else k.step)
        else:
            _check_index(k)
            sm |= 1 << i
            begin.append(k), end.append(k + 1), strides.append(1)
    with name_scope(None, "strided_slice", [tensor]) as scope:
        if begin:
            packed = [_pack_index(v, n) for v, n in
                      ((begin, "stack"), (end, "stack_1"), (strides, "stack_2"))]
            if builtins.any(p.dtype == _dt.int64 for p in packed):
                from .math_ops import cast
                packed = [cast(p, _dt.int64) for p in packed]
        else:
            empty = constant(np.zeros([0], np.int32))
            packed = [empty, empty, empty]
        return strided_slice(tensor, *packed, begin_mask=bm, end_mask=em,
                             ellipsis_mask=elm, new_axis_mask=nm, shrink_axis_mask=sm,
                             name=scope)


def _pack_index(values, name):
    if not builtins.any(isinstance(v, Tensor) for v in values):
        return _index_tensor(values, name)
    from .array_ops import stack
    # TF's stack of a list holding tensors: Python entries become constants of
    # the tensors' dtype named by position (`stack/0`)
    return stack([v if isinstance(v, Tensor) else int(v) for v in values], name=name)


def _packed_if_tensors(v, name):
    """A list holding tensors becomes one packed tensor (TF converts it so)."""
    if isinstance(v, (list, tuple)) and builtins.any(isinstance(e, Tensor) for e in v):
        return convert_to_tensor(v, name=name)
    return v


def slice(input_, begin, size, name=None):  # noqa: A001
    x = convert_to_tensor(input_)
    begin, size = _packed_if_tensors(begin, "begin"), _packed_if_tensors(size, "size")
    bv = constant_value(begin if isinstance(begin, Tensor) else np.asarray(begin))
    sv = constant_value(size if isinstance(size, Tensor) else np.asarray(size))
    with name_scope(name, "Slice", [x]) as scope:
        bt = begin if isinstance(begin, Tensor) else _index_tensor(bv, "begin")
        st = size if isinstance(size, Tensor) else _index_tensor(sv, "size")
        out = TensorShape(None)
        if bv is not None and sv is not None and x.shape.ndims is not None:
            dims = x.shape.as_list()
            out = TensorShape([(d - b if d is not None else None) if s == -1 else s
                               for d, b, s in zip(dims, bv, sv)])
        return make_tensor("Slice", [x, bt, st], x.dtype, out, {"T": x.dtype}, name=scope)


@lowering("Slice")
def _lower_slice(ctx, op, inputs):
    x = inputs[0]
    b = [int(v) for v in ctx.const_value(inputs[1], "slice begin")]
    s = [int(v) for v in ctx.const_value(inputs[2], "slice size")]
    lim = [x.shape[i] if sz == -1 else bb + sz for i, (bb, sz) in enumerate(zip(b, s))]
    for i, (bb, ll) in enumerate(zip(b, lim)):
        if not 0 <= bb <= ll <= x.shape[i]:
            ctx.fail(f"Expected begin[{i}] and size[{i}] within input shape {list(x.shape)}, "
                     f"got begin {b} size {s}")
    return [ctx.b.emit("slice", [x], start=b, limit=lim, stride=[1] * len(b))]
