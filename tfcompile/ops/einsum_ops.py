"""tf.einsum: Einstein summation written with existing ops.

Operands are contracted left to right. Before a contraction, repeated labels
inside one operand become a diagonal (matrix_diag_part) and labels no other
operand or the output needs are summed away; a contraction is then a
transpose into [batch, free, contracted] order, a reshape to 3-D (2-D without
batch labels), one matmul, and a reshape back. So matmul, batch matmul,
transpose, trace, outer products and reductions all come out as the usual
ops, and gradients follow from theirs. Ellipses (`...`) stand for dimensions
of equal size in every operand that has them (no size-1 broadcasting).
"""
from __future__ import annotations

import string

import numpy as np

from ..graph import Tensor, name_scope
from .constant_op import convert_to_tensor

_ELL = [chr(0x100 + i) for i in range(32)]   # private labels for `...` dims


def _parse(equation, tensors):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        if "->" in out:
            raise ValueError(f"einsum: equation {equation!r} has more than one '->'")
    else:
        lhs, out = eq, None
    subs = lhs.split(",")
    if len(subs) != len(tensors):
        raise ValueError(f"einsum: equation {equation!r} names {len(subs)} operand(s), got "
                         f"{len(tensors)} input(s)")
    n_ell = 0
    labels = []
    for s, t in zip(subs, tensors):
        body = s.replace("...", "")
        bad = [c for c in body if c not in string.ascii_letters]
        if bad or s.count("...") > 1:
            raise ValueError(f"einsum: invalid subscripts {s!r} in {equation!r}")
        r = t.shape.ndims
        if "..." in s:
            if r is None:
                raise ValueError("einsum: an operand with '...' needs a known rank")
            k = r - len(body)
            if k < 0:
                raise ValueError(f"einsum: subscripts {s!r} have more labels than operand "
                                 f"rank {r}")
            n_ell = max(n_ell, k)
            i = s.index("...")
            labels.append(list(s[:i]) + ["..."] * k + list(s[i + 3:]))
        else:
            if r is not None and r != len(body):
                raise ValueError(f"einsum: subscripts {s!r} don't match operand rank {r} "
                                 f"(shape {t.shape})")
            labels.append(list(body))
    ell = _ELL[:n_ell]
    for lab in labels:   # ellipsis dims align from the right
        k = lab.count("...")
        if k:
            i = lab.index("...")
            lab[i:i + k] = ell[n_ell - k:]
    if out is None:
        counts = {}
        for lab in labels:
            for c in lab:
                counts[c] = counts.get(c, 0) + 1
        out_labels = ell + sorted(c for c, n in counts.items() if n == 1 and c not in ell)
    else:
        body = out.replace("...", "")
        if any(c not in string.ascii_letters for c in body) or out.count("...") > 1:
            raise ValueError(f"einsum: invalid output subscripts {out!r}")
        if "..." in out:
            i = out.index("...")
            out_labels = list(out[:i]) + ell + list(out[i + 3:])
        else:
            out_labels = list(out)
    if len(set(out_labels)) != len(out_labels):
        raise ValueError(f"einsum: output subscripts {out!r} repeat a label")
    present = {c for lab in labels for c in lab}
    for c in out_labels:
        if c not in present:
            raise ValueError(f"einsum: output label {c!r} appears in no input of "
                             f"{equation!r}")
    return labels, out_labels


def _dim(t, i):
    from .array_ops import shape
    v = t.shape[i].value
    return v if v is not None else shape(t)[i]


def _prod(ds):
    out = 1
    for d in ds:
        out = out * d
    return out


def _reshape(t, dims):
    from .array_ops import reshape, stack
    if t.shape.ndims == len(dims) and all(
            isinstance(d, (int, np.integer)) and t.shape[i].value == d
            for i, d in enumerate(dims)):
        return t
    if all(isinstance(d, (int, np.integer)) for d in dims):
        return reshape(t, [int(d) for d in dims])
    return reshape(t, stack([d if isinstance(d, Tensor) else int(d) for d in dims]))


def _transpose(t, labels, order):
    from .array_ops import transpose
    perm = [labels.index(c) for c in order]
    if perm == list(range(len(perm))):
        return t
    return transpose(t, perm)


def _prepare(t, labels, keep):
    """Diagonals for repeated labels, then sums over labels not in `keep`."""
    from .linalg_ops import matrix_diag_part
    from .math_ops import reduce_sum
    labels = list(labels)
    while True:
        rep = next((c for c in labels if labels.count(c) > 1), None)
        if rep is None:
            break
        p = labels.index(rep)
        q = labels.index(rep, p + 1)
        rest = [i for i in range(len(labels)) if i not in (p, q)]
        order = [labels[i] for i in rest]
        t = _perm(t, rest + [p, q])
        t = matrix_diag_part(t)
        labels = order + [rep]
    drop = [i for i, c in enumerate(labels) if c not in keep]
    if drop:
        t = reduce_sum(t, drop)
        labels = [c for c in labels if c in keep]
    return t, labels


def _perm(t, perm):
    from .array_ops import transpose
    if perm == list(range(len(perm))):
        return t
    return transpose(t, perm)


def _contract(a, la, b, lb, keep):
    from .math_ops import matmul
    batch = [c for c in la if c in lb and c in keep]
    con = [c for c in la if c in lb and c not in keep]
    fa = [c for c in la if c not in lb]
    fb = [c for c in lb if c not in la]
    size = {}
    for t, lab in ((a, la), (b, lb)):
        for i, c in enumerate(lab):
            d = _dim(t, i)
            if c not in size or isinstance(size[c], Tensor):
                size[c] = d
    a = _transpose(a, la, batch + fa + con)
    b = _transpose(b, lb, batch + con + fb)
    m, k, n = (_prod(size[c] for c in g) for g in (fa, con, fb))
    if batch:
        bs = _prod(size[c] for c in batch)
        a3 = _reshape(a, [bs, m, k])
        b3 = _reshape(b, [bs, k, n])
    else:
        a3 = _reshape(a, [m, k])
        b3 = _reshape(b, [k, n])
    out = matmul(a3, b3)
    labels = batch + fa + fb
    return _reshape(out, [size[c] for c in labels]), labels


def einsum(equation, *inputs, **kwargs):
    """tf.einsum(equation, *inputs, name=None)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"invalid keyword arguments for einsum: {', '.join(kwargs)}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    with name_scope(name, "einsum", list(inputs)):
        tensors = [convert_to_tensor(x) for x in inputs]
        if not tensors:
            raise ValueError("einsum: needs at least one input")
        dt = tensors[0].dtype
        for t in tensors[1:]:
            if t.dtype != dt:
                raise TypeError(f"einsum: inputs must have one dtype, got {dt.name} and "
                                f"{t.dtype.name}")
        labels, out_labels = _parse(equation, tensors)

        def needed_after(i):
            s = set(out_labels)
            for lab in labels[i + 1:]:
                s |= set(lab)
            return s
        cur, cl = _prepare(tensors[0], labels[0], needed_after(0))
        for i in range(1, len(tensors)):
            t, tl = _prepare(tensors[i], labels[i], needed_after(i) | set(cl))
            cur, cl = _contract(cur, cl, t, tl, needed_after(i))
        return _transpose(cur, cl, out_labels)
