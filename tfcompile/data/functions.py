"""User functions of tf.data (map, filter, flat_map): traced once, evaluated by
compiled Session runs.

A function is traced once, in the dataset's graph, on placeholders of the input
element's spec; its result tensors are then computed for each element by a
`Session.run` of the session that iterates (the run feeds the element to the
placeholders), so user ops run as compiled code like any other run. Tensors
from outside the function that it reads are handled two ways: those that need
a feed (a placeholder somewhere above them) are captures, evaluated once when
the iterator is initialized and fed to every call; the rest (variable reads,
constants) are computed in each call, as TF reads a variable each time."""
from __future__ import annotations

import numpy as np

from ..graph import Tensor, get_default_graph
from ..ops.constant_op import convert_to_tensor
from . import structure as st

# ops whose value a function call can't compute without the outer run's feeds
_NEEDS_FEED = frozenset(("Placeholder", "PlaceholderWithDefault", "IteratorGetNext"))


def needs_feed(t, memo):
    """Whether tensor `t` depends on a placeholder (or an iterator's element);
    `memo` caches the answer per op."""
    hit = memo.get(t.op)
    if hit is not None:
        return hit
    stack, seen, found = [t.op], set(), False
    while stack and not found:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        found = op.type in _NEEDS_FEED or memo.get(op, False)
        stack.extend(i.op for i in op.inputs)
    memo[t.op] = found
    return found


def _fn_name(fn):
    name = getattr(fn, "__name__", type(fn).__name__)
    name = "".join(c if c.isalnum() or c == "_" else "" for c in name)
    return name or "fn"


class TracedFunction:
    """`fn` traced on placeholders of `input_specs` (a nest of Spec).

    outputs: the flat result tensors (for a function returning a dataset, the
    captured tensors of that dataset); captures: the outer tensors the calls
    take from the iterator's initialization; output_structure: the result's
    nest (of Tensors), or the returned dataset."""

    def __init__(self, fn, input_specs, what, returns_dataset=False):
        if not callable(fn):
            raise TypeError(f"`{what}` expects a callable, got {fn!r}")
        self.graph = g = get_default_graph()
        self.what = what
        start = len(g._ops)
        from ..ops.array_ops import placeholder
        with g.as_default(), g.control_dependencies(None), g.name_scope(""), \
                g.name_scope(f"Dataset_{what}_{_fn_name(fn)}"):
            flat_in = st.flatten(input_specs)
            self.args = [placeholder(s.dtype, s.shape, name=f"args_{i}")
                         for i, s in enumerate(flat_in)]
            nested = st.pack_as(input_specs, self.args)
            # TF unpacks a plain tuple into positional arguments, nothing else
            ret = fn(*nested) if type(nested) is tuple else fn(nested)
            if returns_dataset:
                from .dataset import Dataset
                if not isinstance(ret, Dataset):
                    raise TypeError(f"`map_func` must return a `Dataset` object. Got {ret!r}")
                self.dataset = ret
                self.outputs = ret._captures()
                self.structure = None
            else:
                ret = st.normalize_function_result(ret)
                self.structure = st.map_structure(self._to_tensor, ret) if st.is_nested(
                    ret) else self._to_tensor(ret)
                self.outputs = st.flatten(self.structure)
        inner = set(g._ops[start:])
        self.captures = self._find_captures(inner)

    def _to_tensor(self, v):
        if isinstance(v, Tensor):
            return v
        try:
            return convert_to_tensor(v)
        except (TypeError, ValueError) as e:
            raise TypeError(f"The function given to `{self.what}` returned {v!r}, which is "
                            f"not a tensor or a nest of tensors: {e}") from None

    def _find_captures(self, inner):
        """The outer tensors the function reads that need the outer run's feeds."""
        args = set(self.args)
        caps, seen, memo = [], set(), {}
        stack = list(self.outputs)
        while stack:
            t = stack.pop()
            if t in seen or t in args:
                continue
            seen.add(t)
            if t.op in inner:
                stack.extend(t.op.inputs)
                continue
            if needs_feed(t, memo):
                caps.append(t)
        return sorted(caps, key=lambda t: (t.op._id, t.value_index))

    @property
    def output_specs(self):
        return st.specs_of_tensors(self.structure)

    def call(self, env, flat_args):
        """The flat outputs (numpy arrays) of one call on the element `flat_args`."""
        if not self.outputs:
            return []
        feed = dict(zip(self.args, flat_args))
        for c in self.captures:
            feed[c] = env.values[c]
        got = env.session.run(self.outputs, feed)
        return [np.asarray(a) for a in got]
