"""Nested structures of tensors (TF's `nest`, the part RNNs need): tuples,
namedtuples (LSTMStateTuple), lists and dicts (in sorted key order) holding
tensors or sizes, flattened and rebuilt."""
from __future__ import annotations


def is_sequence(x):
    return isinstance(x, (list, tuple, dict))


def _children(x):
    if isinstance(x, dict):
        return [x[k] for k in sorted(x)]
    return list(x)


def flatten(x):
    """The leaves of `x` in order (a leaf alone is a one-element list)."""
    if not is_sequence(x):
        return [x]
    out = []
    for c in _children(x):
        out.extend(flatten(c))
    return out


def _rebuild(structure, items):
    if isinstance(structure, dict):
        return {k: v for k, v in zip(sorted(structure), items)}
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*items)
    return type(structure)(items)


def pack_sequence_as(structure, flat_sequence):
    """`flat_sequence` arranged in the nesting of `structure`."""
    flat = list(flat_sequence)
    if not is_sequence(structure):
        if len(flat) != 1:
            raise ValueError(f"Structure is a scalar but len(flat_sequence) == {len(flat)} > 1")
        return flat[0]
    n = len(flatten(structure))
    if n != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {n} elements, but "
                         f"flat_sequence had {len(flat)} elements.")
    it = iter(flat)

    def build(s):
        if not is_sequence(s):
            return next(it)
        return _rebuild(s, [build(c) for c in _children(s)])
    return build(structure)


def assert_same_structure(a, b, what="structure"):
    """ValueError unless `a` and `b` nest alike (namedtuple types included)."""
    def same(x, y):
        if is_sequence(x) != is_sequence(y):
            return False
        if not is_sequence(x):
            return True
        if isinstance(x, dict) != isinstance(y, dict):
            return False
        if hasattr(x, "_fields") != hasattr(y, "_fields") or (
                hasattr(x, "_fields") and type(x) is not type(y)):
            return False
        cx, cy = _children(x), _children(y)
        return len(cx) == len(cy) and all(same(p, q) for p, q in zip(cx, cy))
    if not same(a, b):
        raise ValueError(f"The two {what}s don't have the same nested structure.\n\n"
                         f"First structure: {a}\n\nSecond structure: {b}")


def map_structure(fn, *structures):
    """fn over the leaves of structures nested alike, in the first one's nesting."""
    for s in structures[1:]:
        assert_same_structure(structures[0], s)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*flats)])


def map_structure_up_to(shallow, fn, *structures):
    """fn over the sub-structures of `structures` at the leaves of `shallow`."""
    def walk(s, parts):
        if not is_sequence(s):
            return [fn(*parts)]
        out = []
        for i, c in enumerate(_children(s)):
            out.extend(walk(c, [_children(p)[i] for p in parts]))
        return out
    return pack_sequence_as(shallow, walk(shallow, list(structures)))
