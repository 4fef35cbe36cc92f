"""Element structures of tf.data: nests of tuples, namedtuples and dicts whose
leaves are tensors (a list is a leaf, converted to one tensor, as TF's tf.data
treats it), and the static (dtype, shape) spec of each leaf.

A dict flattens in sorted key order and packs back in its own key order, as
TF's nest does."""
from __future__ import annotations

from .. import dtypes as _dt
from ..tensor_shape import TensorShape, as_shape


def is_nested(x):
    return isinstance(x, (tuple, dict))


def flatten(s):
    """The leaves of structure `s` in TF's order."""
    if isinstance(s, dict):
        out = []
        for k in _sorted_keys(s):
            out += flatten(s[k])
        return out
    if isinstance(s, tuple):
        out = []
        for v in s:
            out += flatten(v)
        return out
    return [s]


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:
        raise TypeError(f"nest only supports dicts with sortable keys: {list(d)!r}") from None


def pack_as(template, flat):
    """The structure of `template` with the leaves `flat` (in flatten's order)."""
    flat = list(flat)
    it = iter(flat)
    out = _pack(template, it)
    if next(it, _END) is not _END or len(flatten(template)) != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {len(flatten(template))} "
                         f"elements, but flat_sequence had {len(flat)} elements.")
    return out


_END = object()


def _pack(t, it):
    if isinstance(t, dict):
        vals = {k: _pack(t[k], it) for k in _sorted_keys(t)}
        return type(t)((k, vals[k]) for k in t) if type(t) is not dict else \
            {k: vals[k] for k in t}
    if isinstance(t, tuple):
        items = [_pack(v, it) for v in t]
        return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
    return next(it, None)


def same_structure(a, b):
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and \
            set(a) == set(b) and all(same_structure(a[k], b[k]) for k in a)
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and \
            hasattr(a, "_fields") == hasattr(b, "_fields") and \
            all(same_structure(x, y) for x, y in zip(a, b))
    return True


def assert_same_structure(a, b):
    if not same_structure(a, b):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         f"First structure: {a!r}\n\nSecond structure: {b!r}")


def map_structure(fn, *structs):
    for s in structs[1:]:
        assert_same_structure(structs[0], s)
    return pack_as(structs[0], [fn(*xs) for xs in zip(*map(flatten, structs))])


class Spec:
    """The static type of one component: a DType and a (possibly partial) shape."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = _dt.as_dtype(dtype).base_dtype
        self.shape = as_shape(shape)

    def __repr__(self):
        return f"Spec({self.shape}, {self.dtype!r})"


def most_specific_compatible(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both `a` and `b` satisfy (concatenate, from_structure)."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_tuple(), b.as_tuple())])


def specs_of_tensors(structure):
    """The spec nest of a nest of Tensors."""
    return map_structure(lambda t: Spec(t.dtype, t.shape), structure)


def normalize_function_result(ret):
    """A traced function's result as TF 1.15 takes it: a top-level list is a tuple
    (its items need not stack into one tensor)."""
    return tuple(ret) if isinstance(ret, list) else ret


def shape_str(shape):
    """A shape as TF 1.x prints it in reprs: (?, 3), <unknown>."""
    t = as_shape(shape).as_tuple()
    if t is None:
        return "<unknown>"
    return "(" + ", ".join("?" if d is None else str(d) for d in t) + \
        ("," if len(t) == 1 else "") + ")"

