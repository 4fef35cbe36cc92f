"""Diagonals and bands of matrices: matrix_diag, matrix_diag_part,
matrix_set_diag (one diagonal k, or a band (k0, k1) of them packed as TF's
`align` says), matrix_band_part, and tf.diag / tf.diag_part of rank-2k
tensors. One diagonal is a strided slice of the flattened matrices (reading)
or a select against iotas (writing); a band is a stack of single diagonals."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..tensor_shape import TensorShape
from .constant_op import convert_to_tensor
from .manip_ops import _q, slice_axis
from .op_util import make_tensor
from .registry import lowering


def _offsets(k, what):
    """(k0, k1): one diagonal k gives (k, k), a band (k0, k1) itself."""
    if isinstance(k, Tensor):
        from .op_util import constant_value
        v = constant_value(k)
        if v is None:
            raise ValueError(f"{what}: k must be known when the graph is built")
        k = v
    ks = [int(v) for v in np.reshape(k, [-1])]
    if len(ks) not in (1, 2):
        raise ValueError(f"{what}: k must be a scalar or a pair, got {k!r}")
    k0, k1 = ks[0], ks[-1]
    if k0 > k1:
        raise ValueError(f"{what}: lower_diag_index {k0} must not be greater than "
                         f"upper_diag_index {k1}")
    return k0, k1


_ALIGNS = ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT")


def _left_pad(d, length, max_len, align, what):
    """How far diagonal d of a band sits from the left of its packed row: TF's
    `align` (superdiagonals by its first word, subdiagonals by its second)."""
    if align not in _ALIGNS:
        raise ValueError(f"{what}: align must be one of {', '.join(_ALIGNS)}, got {align!r}")
    sup, sub = align.split("_")
    left = (d >= 0 and sup == "LEFT") or (d <= 0 and sub == "LEFT")
    return 0 if left else max_len - length


def _static_dims(t, what):
    dims = t.shape.as_list() if t.shape.ndims is not None else None
    if dims is None or None in dims:
        raise ValueError(f"{what}: a band of diagonals needs the static shape of "
                         f"{t.name}, got {t.shape}")
    return dims


def _diag_len(m, n, k):
    """The length of diagonal k of an m x n matrix (None where unknown)."""
    if m is None or n is None:
        return None
    return builtins.max(0, builtins.min(m + builtins.min(k, 0), n - builtins.max(k, 0)))


def _diag_dims(n, k, rows, cols):
    """matrix_diag's output rows and columns (TF's rule: square when neither is
    given, else the smallest that holds the diagonal for the one missing)."""
    if n is None:
        return (None if rows == -1 else rows), (None if cols == -1 else cols)
    lo_r, lo_c = n + builtins.max(-k, 0), n + builtins.max(k, 0)
    if rows == -1 and cols == -1:
        return builtins.max(lo_r, lo_c), builtins.max(lo_r, lo_c)
    return (lo_r if rows == -1 else rows), (lo_c if cols == -1 else cols)


def matrix_diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
                align="RIGHT_LEFT"):
    """A batch of matrices with `diagonal` on diagonal k (j - i == k), the rest
    padding_value; num_rows/num_cols default to the smallest that hold it. With a
    band k = (k0, k1), `diagonal` is [..., k1 - k0 + 1, max_len]: row i holds
    diagonal k1 - i, placed in it as `align` says."""
    k0, k = _offsets(k, "matrix_diag")
    if k0 != k:
        return _band_diag(diagonal, name, k0, k, int(num_rows), int(num_cols),
                          padding_value, align)
    with name_scope(name, "MatrixDiag", [diagonal]) as scope:
        d = convert_to_tensor(diagonal, name="diagonal")
        out = TensorShape(None)
        if d.shape.ndims is not None:
            if d.shape.ndims < 1:
                raise ValueError(f"Shape must be at least rank 1 but is rank 0 for "
                                 f"'{scope[:-1]}' (op: 'MatrixDiag')")
            n = d.shape[-1].value
            rows, cols = _diag_dims(n, k, int(num_rows), int(num_cols))
            if n is not None and -1 not in (int(num_rows), int(num_cols)):
                lo_r, lo_c = n + builtins.max(-k, 0), n + builtins.max(k, 0)
                if (rows != lo_r and cols != lo_c) or rows < lo_r or cols < lo_c:
                    raise ValueError(
                        "num_rows and num_cols are not consistent with lower_diag_index, "
                        "upper_diag_index, and the length of the given diagonals.\n"
                        f"num_rows = {rows} != min_num_rows = {lo_r}, num_cols = {cols} != "
                        f"min_num_cols = {lo_c}")
            out = TensorShape(d.shape.as_list()[:-1] + [rows, cols])
        attrs = {"T": d.dtype}
        if k or int(num_rows) != -1 or int(num_cols) != -1 or padding_value != 0:
            attrs.update(k=k, num_rows=int(num_rows), num_cols=int(num_cols),
                         padding_value=padding_value)
        return make_tensor("MatrixDiag", [d], d.dtype, out, attrs, name=scope)


def _pad_last(ctx, d, length, value):
    """d's last axis cut or padded (with `value`) to `length`."""
    n = d.shape[-1]
    r = d.type.rank
    if n == length:
        return d
    if n > length:
        return slice_axis(ctx, d, r - 1, 0, length)
    v = bool(value) if d.dtype == "bool" else value
    return ctx.b.emit("pad", [d], low=[0] * r, high=[0] * (r - 1) + [length - n], value=v)


@lowering("MatrixDiag")
def _lower_matrix_diag(ctx, op, inputs):
    (d,) = inputs
    k = op.attrs.get("k", 0)
    pad = op.attrs.get("padding_value", 0)
    r = d.type.rank
    n = d.shape[-1]
    rows, cols = _diag_dims(n, k, op.attrs.get("num_rows", -1), op.attrs.get("num_cols", -1))
    shape = list(d.shape[:-1]) + [rows, cols]
    i = ctx.b.emit("iota", [], shape=shape, dtype="i32", dim=r - 1)
    j = ctx.b.emit("iota", [], shape=shape, dtype="i32", dim=r)
    on = ctx.b.emit("eq", [ctx.b.emit("sub", [j, i]), ctx.scalar(k, "i32", shape)])
    # element (i, i + k) takes d[i] (k >= 0), element (j - k, j) takes d[j] (k < 0)
    if k >= 0:
        dv = _pad_last(ctx, d, rows, pad)
        db = ctx.b.emit("broadcast", [dv], shape=shape, dims=list(builtins.range(r)))
    else:
        dv = _pad_last(ctx, d, cols, pad)
        db = ctx.b.emit("broadcast", [dv], shape=shape,
                        dims=list(builtins.range(r - 1)) + [r])
    fill = ctx.scalar(bool(pad) if d.dtype == "bool" else pad, d.dtype, shape)
    return [ctx.b.emit("select", [on, db, fill])]


def matrix_diag_part(input, name="diag_part", k=0, padding_value=0,  # noqa: A002
                     align="RIGHT_LEFT"):
    """Diagonal k (j - i == k) of each matrix; a band k = (k0, k1) gives
    [..., k1 - k0 + 1, max_len], diagonal k1 first, each padded with padding_value
    on the side `align` says."""
    k0, k = _offsets(k, "matrix_diag_part")
    if k0 != k:
        return _band_part(input, name, k0, k, padding_value, align)
    with name_scope(name, "MatrixDiagPart", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        out = TensorShape(None)
        if x.shape.ndims is not None:
            if x.shape.ndims < 2:
                raise ValueError(f"Shape must be at least rank 2 but is rank "
                                 f"{x.shape.ndims} for '{scope[:-1]}' (op: 'MatrixDiagPart')")
            d = x.shape.as_list()
            m, n = d[-2], d[-1]
            if m is not None and n is not None and not -m < k < n and (m or n):
                raise ValueError(f"matrix_diag_part: diagonal index {k} is outside the "
                                 f"{m}x{n} matrices' range ({-m}, {n})")
            out = TensorShape(d[:-2] + [_diag_len(m, n, k)])
        attrs = {"T": x.dtype}
        if k:
            attrs["k"] = k
        return make_tensor("MatrixDiagPart", [x], x.dtype, out, attrs, name=scope)


def diag_part_ir(ctx, x, k=0):
    """x[..., i - min(k, 0), i + max(k, 0)] of [..., m, n]: a strided slice of the
    flattened matrices."""
    m, n = x.shape[-2:]
    lead = list(x.shape[:-2])
    length = _diag_len(m, n, k)
    flat = ctx.b.emit("reshape", [x], shape=lead + [m * n])
    if length == 0:
        return ctx.scalar(0 if x.dtype != "bool" else False, x.dtype, tuple(lead) + (0,))
    start = builtins.max(-k, 0) * n + builtins.max(k, 0)
    return slice_axis(ctx, flat, len(lead), start, start + (length - 1) * (n + 1) + 1, n + 1)


@lowering("MatrixDiagPart")
def _lower_matrix_diag_part(ctx, op, inputs):
    x = inputs[0]
    k = op.attrs.get("k", 0)
    m, n = x.shape[-2:]
    if (m or n) and not -m < k < n:
        ctx.fail(f"matrix_diag_part: diagonal index {k} is outside the {m}x{n} matrices' "
                 f"range ({-m}, {n})")
    return [diag_part_ir(ctx, x, k)]


def matrix_set_diag(input, diagonal, name="set_diag", k=0,  # noqa: A002
                    align="RIGHT_LEFT"):
    """The matrices with diagonal k (j - i == k) replaced by `diagonal` (a band
    k = (k0, k1): packed as matrix_diag_part gives it)."""
    k0, k = _offsets(k, "matrix_set_diag")
    if k0 != k:
        return _band_set(input, diagonal, name, k0, k, align)
    with name_scope(name, "MatrixSetDiag", [input, diagonal]) as scope:
        x = convert_to_tensor(input, name="input")
        d = convert_to_tensor(diagonal, name="diagonal", dtype=x.dtype)
        if x.shape.ndims is not None and d.shape.ndims is not None:
            dims = x.shape.as_list()
            m = _diag_len(dims[-2], dims[-1], k)
            if not TensorShape(dims[:-2] + [m]).is_compatible_with(d.shape):
                raise ValueError(f"Shapes must be compatible: diagonal {_q(d.shape)} for "
                                 f"input {_q(x.shape)} in '{scope[:-1]}' (op: "
                                 "'MatrixSetDiag')")
        attrs = {"T": x.dtype}
        if k:
            attrs["k"] = k
        return make_tensor("MatrixSetDiag", [x, d], x.dtype, x.shape, attrs, name=scope)


# ---------------------------------------------------------------- bands of diagonals
# (each diagonal through the single-diagonal ops above, so gradients come with them)

def _band_part(input, name, k0, k1, padding_value, align):  # noqa: A002
    from .array_ops import pad, stack
    with name_scope(name, "MatrixDiagPart", [input]):
        x = convert_to_tensor(input, name="input")
        dims = _static_dims(x, "matrix_diag_part")
        m, n = dims[-2:]
        lens = {d: _diag_len(m, n, d) for d in range(k0, k1 + 1)}
        max_len = builtins.max(lens.values())
        rows = []
        for d in range(k1, k0 - 1, -1):
            left = _left_pad(d, lens[d], max_len, align, "matrix_diag_part")
            row = matrix_diag_part(x, k=d)
            widths = [[0, 0]] * (len(dims) - 2) + [[left, max_len - lens[d] - left]]
            rows.append(pad(row, widths, constant_values=padding_value))
        return stack(rows, axis=-2)


def _band_rows(diagonal, dims, k0, k1, m, n, align, what):
    """(d, the elements of diagonal d of an m x n matrix) of a packed band."""
    max_len = dims[-1]
    lead = len(dims) - 2
    for d in range(k1, k0 - 1, -1):
        length = _diag_len(m, n, d)
        left = _left_pad(d, length, max_len, align, what)
        yield d, diagonal[(slice(None),) * lead + (k1 - d, slice(left, left + length))]


def _band_set(input, diagonal, name, k0, k1, align):  # noqa: A002
    with name_scope(name, "MatrixSetDiag", [input, diagonal]):
        x = convert_to_tensor(input, name="input")
        diag = convert_to_tensor(diagonal, name="diagonal", dtype=x.dtype)
        m, n = _static_dims(x, "matrix_set_diag")[-2:]
        dims = _static_dims(diag, "matrix_set_diag")
        for d, part in _band_rows(diag, dims, k0, k1, m, n, align, "matrix_set_diag"):
            x = matrix_set_diag(x, part, k=d)
        return x


def _band_diag(diagonal, name, k0, k1, num_rows, num_cols, padding_value, align):
    from .array_ops import fill
    with name_scope(name, "MatrixDiag", [diagonal]):
        diag = convert_to_tensor(diagonal, name="diagonal")
        dims = _static_dims(diag, "matrix_diag")
        if len(dims) < 2 or dims[-2] != k1 - k0 + 1:
            raise ValueError(f"matrix_diag: the band k = ({k0}, {k1}) needs diagonal of "
                             f"shape [..., {k1 - k0 + 1}, max_len], got {dims}")
        max_len = dims[-1]
        lo_r, lo_c = max_len - builtins.min(k1, 0), max_len + builtins.max(k0, 0)
        if num_rows == -1 and num_cols == -1:
            num_rows = num_cols = builtins.max(lo_r, lo_c)
        num_rows = lo_r if num_rows == -1 else num_rows
        num_cols = lo_c if num_cols == -1 else num_cols
        out = fill(dims[:-2] + [num_rows, num_cols],
                   convert_to_tensor(padding_value, dtype=diag.dtype))
        for d, part in _band_rows(diag, dims, k0, k1, num_rows, num_cols, align,
                                  "matrix_diag"):
            out = matrix_set_diag(out, part, k=d)
        return out


@lowering("MatrixSetDiag")
def _lower_matrix_set_diag(ctx, op, inputs):
    x, d = inputs
    k = op.attrs.get("k", 0)
    r = x.type.rank
    m, n = x.shape[-2:]
    length = _diag_len(m, n, k)
    if tuple(d.shape) != tuple(x.shape[:-2]) + (length,):
        ctx.fail(f"diagonal must have shape {list(x.shape[:-2]) + [length]}, got "
                 f"{list(d.shape)}")
    i = ctx.b.emit("iota", [], shape=x.shape, dtype="i32", dim=r - 2)
    j = ctx.b.emit("iota", [], shape=x.shape, dtype="i32", dim=r - 1)
    on = ctx.b.emit("eq", [ctx.b.emit("sub", [j, i]), ctx.scalar(k, "i32", x.shape)])
    # element (i, i + k) takes d[i - max(-k, 0)]: shift d to row (or column) positions
    if k >= 0:
        dv = _pad_last(ctx, d, m, 0)
        dims = list(builtins.range(r - 1))
    else:
        dv = _pad_last(ctx, d, n, 0)
        dims = list(builtins.range(r - 2)) + [r - 1]
    db = ctx.b.emit("broadcast", [dv], shape=x.shape, dims=dims)
    return [ctx.b.emit("select", [on, db, x])]


def matrix_band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    with name_scope(name, "MatrixBandPart", [input, num_lower, num_upper]) as scope:
        x = convert_to_tensor(input, name="input")
        lo = convert_to_tensor(num_lower, dtype=_dt.int64, name="num_lower") \
            if not isinstance(num_lower, Tensor) else num_lower
        hi = convert_to_tensor(num_upper, dtype=lo.dtype, name="num_upper") \
            if not isinstance(num_upper, Tensor) else num_upper
        return make_tensor("MatrixBandPart", [x, lo, hi], x.dtype, x.shape,
                           {"T": x.dtype, "Tindex": lo.dtype}, name=scope)


@lowering("MatrixBandPart")
def _lower_band_part(ctx, op, inputs):
    x, lo_v, hi_v = inputs
    lo = int(ctx.const_value(lo_v, "band_part num_lower"))
    hi = int(ctx.const_value(hi_v, "band_part num_upper"))
    r = x.type.rank
    i = ctx.b.emit("iota", [], shape=x.shape, dtype="i64", dim=r - 2)
    j = ctx.b.emit("iota", [], shape=x.shape, dtype="i64", dim=r - 1)
    d = ctx.b.emit("sub", [i, j])
    keep = ctx.scalar(True, "bool", x.shape)
    if lo >= 0:
        keep = ctx.b.emit("le", [d, ctx.scalar(lo, "i64", x.shape)])
    if hi >= 0:
        keep = ctx.b.emit("and", [keep, ctx.b.emit("ge", [d, ctx.scalar(-hi, "i64", x.shape)])])
    zero = ctx.scalar(False if x.dtype == "bool" else 0, x.dtype, x.shape)
    return [ctx.b.emit("select", [keep, x, zero])]


def diag(diagonal, name=None):
    """tf.diag: a tensor of rank 2k with `diagonal` (rank k) on its diagonal."""
    with name_scope(name, "Diag", [diagonal]) as scope:
        d = convert_to_tensor(diagonal, name="diagonal")
        out = TensorShape(None)
        if d.shape.ndims is not None:
            if d.shape.ndims < 1:
                raise ValueError(f"Shape must be at least rank 1 but is rank 0 for "
                                 f"'{scope[:-1]}' (op: 'Diag')")
            out = TensorShape(d.shape.as_list() * 2)
        return make_tensor("Diag", [d], d.dtype, out, {"T": d.dtype}, name=scope)


@lowering("Diag")
def _lower_diag(ctx, op, inputs):
    (d,) = inputs
    n = d.type.size
    flat = ctx.b.emit("reshape", [d], shape=[n])
    sq = _lower_matrix_diag(ctx, op, [flat])[0]
    return [ctx.b.emit("reshape", [sq], shape=list(d.shape) * 2)]


def diag_part(input, name=None):  # noqa: A002
    with name_scope(name, "DiagPart", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        out = TensorShape(None)
        if x.shape.ndims is not None:
            r = x.shape.ndims
            if r % 2 or r == 0:
                raise ValueError(f"Input must have even rank, got rank {r} for "
                                 f"'{scope[:-1]}' (op: 'DiagPart')")
            d = x.shape.as_list()
            half = []
            for a, b in zip(d[:r // 2], d[r // 2:]):
                if a is not None and b is not None and a != b:
                    raise ValueError(f"Dimensions must be equal, but are {a} and {b} for "
                                     f"'{scope[:-1]}' (op: 'DiagPart')")
                half.append(a if a is not None else b)
            out = TensorShape(half)
        return make_tensor("DiagPart", [x], x.dtype, out, {"T": x.dtype}, name=scope)


@lowering("DiagPart")
def _lower_diag_part(ctx, op, inputs):
    (x,) = inputs
    r = x.type.rank
    half = x.shape[:r // 2]
    if r % 2 or half != x.shape[r // 2:]:
        ctx.fail(f"Invalid shape {list(x.shape)}: dimensions must come in equal pairs")
    n = int(np.prod(half, dtype=np.int64))
    sq = ctx.b.emit("reshape", [x], shape=[n, n])
    return [ctx.b.emit("reshape", [diag_part_ir(ctx, sq)], shape=half)]


