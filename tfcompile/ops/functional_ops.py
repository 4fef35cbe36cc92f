"""tf.scan, tf.foldl, tf.foldr (TF 1.15 names and semantics).

The compiler has no loop op, so these are unrolled while the graph is built,
like map_fn and while_loop (tfcompile/ops/cond_ops.py): `fn` is called once
per slice of elems' first dimension, which must therefore be known then.
Gradients come through the unrolled ops. Results carry TF's names: a fold
ends in `foldl/while/Exit_2` (TF's loop variables are the iteration counter,
the index and the accumulator), a scan's outputs are the stacks
`scan/TensorArrayStack/TensorArrayGatherV3`."""
from __future__ import annotations

import builtins

from ..errors import InvalidArgumentError
from ..graph import name_scope
from ..tensor_shape import TensorShape
from .cond_ops import _flatten, _pack_like
from .constant_op import constant, convert_to_tensor


def _is_nested(x):
    return isinstance(x, (list, tuple, dict))


def _elems(elems, what):
    """elems flattened to tensors, their common static first dimension, and
    their slices along it."""
    from .stack_ops import unstack
    flat = [convert_to_tensor(e, name="elem") for e in _flatten(elems)]
    if not flat:
        raise ValueError(f"{what}: elems must be a Tensor or a (possibly nested) sequence "
                         "of Tensors, got an empty structure")
    n = None
    for e in flat:
        if e.shape.ndims == 0:
            raise ValueError(f"{what}: elements in elems must be 1+ dimensional, but "
                             f"{e.name} is a scalar")
        d = e.shape[0].value if e.shape.ndims else None
        if d is not None and n is not None and d != n:
            raise ValueError(f"{what}: all elems must have the same first dimension, "
                             f"got {n} and {d} ({e.name})")
        n = d if n is None else n
    if n is None or flat[0].shape.ndims is None:
        raise NotImplementedError(
            f"{what} over a first dimension unknown when the graph is built is not "
            f"supported: the compiler has no loops, so {what} is unrolled over the "
            f"static length of elems' first dimension (elems: {flat[0].name} with shape "
            f"{flat[0].shape}). Give the placeholder a fixed first dimension.")
    return flat, n, [unstack(e, num=n) for e in flat]


def _initial(initializer, elems, slices, k):
    """The accumulator's first value: the initializer, or the elems' slice k."""
    if initializer is None:
        flat = [s[k] for s in slices]
        return flat, (elems if _is_nested(elems) else None)
    flat = [convert_to_tensor(t, name="initializer") for t in _flatten(initializer)]
    return flat, (initializer if _is_nested(initializer) else None)


def _pack(structure, flat):
    return flat[0] if structure is None else _pack_like(structure, flat)


def _step(fn, what, structure, a_flat, elems, slices, k):
    """a = fn(a, elems[k]): the new accumulator, checked against the old one
    (TF's while_loop needs the same structure, dtypes and shapes)."""
    from .cond_ops import unroll_step
    x = _pack(elems if _is_nested(elems) else None, [s[k] for s in slices])
    with unroll_step(k):
        out = fn(_pack(structure, a_flat), x)
    if structure is None and isinstance(out, (list, tuple)) and len(out) == 1:
        out = out[0]
    new = [convert_to_tensor(t) for t in _flatten(out)]
    if len(new) != len(a_flat) or (structure is None) == _is_nested(out):
        raise ValueError(f"{what}: fn must return the same structure as its accumulator "
                         f"(the initializer, or elems without one): {len(a_flat)} tensors "
                         f"expected, fn returned {out!r}")
    for old, v in zip(a_flat, new):
        if old.dtype != v.dtype:
            raise TypeError(f"{what}: fn changes the accumulator's dtype from "
                            f"{old.dtype.name} to {v.dtype.name} ({v.name})")
        if not old.shape.is_compatible_with(v.shape):
            raise ValueError(f"{what}: the accumulator {old.name} has shape {old.shape} "
                             f"before the loop, but shape {v.shape} after one iteration "
                             f"({v.name}); fn must keep its shape")
    return new


def _order(n, start, reverse):
    """The slice indices a loop visits, from `start` steps in."""
    seq = list(builtins.range(n))
    if reverse:
        seq.reverse()
    return seq[start:]


def _fold(what, fn, elems, initializer, back_prop, name, reverse):
    from .math_ops import identity, stop_gradient
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with name_scope(name, what, _flatten(elems)):
        _, n, slices = _elems(elems, what)
        if initializer is None and n == 0:
            raise InvalidArgumentError(None, None, f"{what}: elems is empty (first dimension "
                                       "0) and there is no initializer to return")
        with name_scope("while"):
            first = n - 1 if reverse else 0
            a_flat, structure = _initial(initializer, elems, slices, first)
            start = 0 if initializer is not None else 1
            steps = _order(n, start, reverse)
            for k in steps:
                a_flat = _step(fn, what, structure, a_flat, elems, slices, k)
            # TF's loop variables: the iteration counter (maximum_iterations), the
            # index, then the accumulator, each leaving through an Exit
            identity(constant(len(steps), name="iterations"), name="Exit")
            identity(constant(-1 if reverse else n, name="index"), name="Exit")
            exits = [identity(t if back_prop else stop_gradient(t), name="Exit")
                     for t in a_flat]
    return _pack(structure, exits)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """tf.foldl: a = fn(a, x) over the slices x of elems' first dimension, first
    to last; a starts as `initializer`, or as elems' first slice without one.
    Unrolled when the graph is built (that dimension must be known then)."""
    return _fold("foldl", fn, elems, initializer, back_prop, name, reverse=False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """tf.foldr: as foldl, from the last slice to the first."""
    return _fold("foldr", fn, elems, initializer, back_prop, name, reverse=True)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """tf.scan: the successive accumulators of a fold, stacked: result[i] is the
    accumulator after elems[i] (with `reverse`, the fold runs from the end, and
    result[i] still belongs to elems[i]). Without an initializer result[0] (or
    result[-1]) is elems' own slice. Unrolled when the graph is built."""
    from .array_ops import zeros
    from .math_ops import stop_gradient
    from .stack_ops import stack
    if not callable(fn):
        raise TypeError("fn must be callable.")
    with name_scope(name, "scan", _flatten(elems)):
        _, n, slices = _elems(elems, "scan")
        if initializer is None and n == 0:
            raise InvalidArgumentError(None, None, "scan: elems is empty (first dimension 0) "
                                       "and there is no initializer to start from")
        with name_scope("while"):
            first = n - 1 if reverse else 0
            a_flat, structure = _initial(initializer, elems, slices, first)
            per_index = {}    # slice index -> the accumulator after it
            if initializer is None:
                per_index[first] = a_flat
            for k in _order(n, 0 if initializer is not None else 1, reverse):
                a_flat = _step(fn, "scan", structure, a_flat, elems, slices, k)
                per_index[k] = a_flat
        results = []
        for j, a in enumerate(a_flat):
            with name_scope("TensorArrayStack"):
                if n == 0:
                    if not a.shape.is_fully_defined():
                        raise ValueError(f"scan: over empty elems the result's shape must "
                                         f"be known, but the initializer {a.name} has "
                                         f"shape {a.shape}")
                    out = zeros([0] + a.shape.as_list(), a.dtype, name="TensorArrayGatherV3")
                else:
                    vals = [per_index[k][j] for k in builtins.range(n)]
                    if not back_prop:
                        vals = [stop_gradient(v) for v in vals]
                    out = stack(vals, name="TensorArrayGatherV3")
                out.set_shape(TensorShape([n]).concatenate(a.shape))
            results.append(out)
    return _pack(structure, results)


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    tf.scan, tf.foldl, tf.foldr = scan, foldl, foldr
