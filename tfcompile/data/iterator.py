"""tf.data iterators: one-shot, initializable and reinitializable (from_structure).

An iterator is an `IteratorV2` (or `OneShotIterator`) op in the graph, with
Python-side state per session (TF keeps an iterator's state in the session's
resources). `get_next()` makes an `IteratorGetNext` op whose outputs are the
element's components: the session feeds them itself (session.IMPLICIT_FEEDS),
asking this module's provider, once per run, for the iterator's next element;
at the end the provider raises OutOfRangeError("End of sequence").

An initializer is a `MakeIterator` op whose inputs are the tensors the dataset
captures (placeholders fed in the initializer's run, tensors computed from
them). It is compiled like any op: its lowering writes each captured value
into hidden per-session storage (`IteratorState` ops, stored as variables are,
in no collection) and stamps a token, the iterator's run counter (the counter
random ops use, advanced once per run of a plan). The next get_next sees a
token it hasn't consumed yet and restarts the dataset on the stored values; a
failed initializer run leaves the token, and the iterator, alone.

A captured value is stored flat, in a buffer that only grows, beside its shape:
a session recompiles its plans when a stored array changes shape, so feeding a
smaller dataset (the validation set after the training set) must not."""
from __future__ import annotations

import threading
import weakref

import numpy as np

from .. import dtypes as _dt
from ..errors import FailedPreconditionError, OutOfRangeError
from ..graph import Tensor, get_default_graph
from ..ops.op_util import make_op
from ..ops.registry import NotDifferentiable, lowering
from ..session import IMPLICIT_FEEDS
from ..tensor_shape import TensorShape
from . import structure as st
from .dataset import Dataset, IterEnv


class _Initializer:
    """One MakeIterator op: the dataset it starts, the tensors it captures and
    the hidden storage ops of their values and of its token."""

    def __init__(self, op, dataset, captures, buffer_ops, shape_ops, token_op):
        self.op = op
        self.dataset = dataset
        self.captures = captures
        self.buffer_ops = buffer_ops    # each capture's values, flat, zero-padded
        self.shape_ops = shape_ops      # each capture's shape (int64 vector)
        self.token_op = token_op


class _State:
    """An iterator's state in one session."""

    def __init__(self, key, env, elements):
        self.key = key          # (token, initializer index) it was started from
        self.env = env
        self.elements = elements


class Iterator:
    """tf.data.Iterator (TF 1.15): get_next(), initializer, make_initializer()."""

    def __init__(self, iterator_op, specs, one_shot=None, initializer=None):
        self._op = iterator_op
        self._graph = iterator_op.graph
        self._specs = specs
        self._one_shot = one_shot          # the dataset of a one-shot iterator
        self._inits = []                   # _Initializer, in creation order
        self._initializer = initializer
        self._states = weakref.WeakKeyDictionary()   # session -> _State
        self._lock = threading.Lock()
        iterator_op._tfc_iterator = self

    # ---- construction
    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None,
                       output_classes=None):
        types = st.map_structure(_as_dtype, output_types) if st.is_nested(output_types) \
            else _as_dtype(output_types)
        if output_shapes is None:
            shapes = st.map_structure(lambda _: TensorShape(None), types) if st.is_nested(
                types) else TensorShape(None)
        else:
            from .dataset import _shapes_like
            shapes = _shapes_like(types, output_shapes)
        specs = st.map_structure(st.Spec, types, shapes) if st.is_nested(types) else \
            st.Spec(types, shapes)
        return Iterator(_iterator_op(specs, "IteratorV2", shared_name), specs)

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None,
                           output_classes=None):
        raise TypeError("Iterator.from_string_handle needs string tensors, which the "
                        "compiler doesn't support; use Iterator.from_structure and "
                        "make_initializer to switch datasets")

    def make_initializer(self, dataset, name=None):
        """An op that (re)starts this iterator on `dataset` when run."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"make_initializer expects a Dataset, got {dataset!r}")
        st.assert_same_structure(self.output_types, dataset.output_types)
        for a, b in zip(st.flatten(self._specs), st.flatten(dataset._specs)):
            if a.dtype != b.dtype:
                raise TypeError(f"Expected output types {self.output_types!r} but got "
                                f"dataset with output types {dataset.output_types!r}.")
            if not a.shape.is_compatible_with(b.shape):
                raise TypeError(f"Expected output shapes compatible with "
                                f"{self.output_shapes!r} but got dataset with output "
                                f"shapes {dataset.output_shapes!r}.")
        return self._add_initializer(dataset, name or "make_initializer")

    def _add_initializer(self, dataset, name):
        g = self._graph
        for other in dataset._graphs():
            if other is not g:
                raise ValueError("The dataset's tensors (or the functions traced for it) "
                                 "are in another graph than the iterator's.")
        captures = dataset._captures()
        with g.as_default(), g.control_dependencies(None):
            op = make_op("MakeIterator", captures, {}, [], name=name, graph=g)
            base = op.name
            def state(name, dtype, shape):
                return make_op("IteratorState", [], {"dtype": dtype}, [(dtype, shape)],
                               name=f"{base}/{name}/", graph=g)
            buffers = [state(f"captured_{i}", t.dtype, [None]) for i, t in enumerate(captures)]
            shapes = [state(f"captured_{i}/shape", _dt.int64, [None])
                      for i in range(len(captures))]
            token_op = state("token", _dt.int64, [])
        op._tfc_init = init = _Initializer(op, dataset, captures, buffers, shapes, token_op)
        op._tfc_iterator = self
        self._inits.append(init)
        return op

    # ---- TF's API
    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    @property
    def output_types(self):
        return st.map_structure(lambda s: s.dtype, self._specs)

    @property
    def output_shapes(self):
        return st.map_structure(lambda s: s.shape, self._specs)

    @property
    def output_classes(self):
        return st.map_structure(lambda s: Tensor, self._specs)

    def get_next(self, name=None):
        """The next element, as a nest of tensors: one new IteratorGetNext op per
        call; every one of them advances this same iterator."""
        flat = st.flatten(self._specs)
        g = self._graph
        op = make_op("IteratorGetNext", [], {
            "output_types": [s.dtype for s in flat],
            "output_shapes": [s.shape for s in flat]},
            [(s.dtype, s.shape) for s in flat], name=name, default_name="IteratorGetNext",
            graph=g)
        op._tfc_iterator = self
        return st.pack_as(self._specs, op.outputs)

    # ---- the provider's side
    def _next(self, session, op):
        with self._lock:
            state = self._current(session, op)
            state.env.op = op
            e = next(state.elements, None)
            if e is None:
                raise OutOfRangeError(None, op, "End of sequence")
            return e

    def _current(self, session, op):
        """This session's state, restarted if an initializer ran since it began."""
        state = self._states.get(session)
        if self._one_shot is not None:
            if state is None:
                ds = self._one_shot
                caps = ds._captures()
                values = dict(zip(caps, (np.asarray(v) for v in session.run(caps)))) \
                    if caps else {}
                state = self._start(session, op, ds, values, None)
            return state
        latest = None
        storage = session._storage
        for k, init in enumerate(self._inits):
            tok = storage.get(init.token_op)
            if tok is not None and (latest is None or (int(tok), k) > latest):
                latest = (int(tok), k)
        if latest is None:
            raise FailedPreconditionError(
                None, op, "GetNext() failed because the iterator has not been initialized. "
                "Ensure that you have run the initializer operation for this iterator "
                "before getting the next element.")
        if state is None or state.key != latest:
            init = self._inits[latest[1]]
            values = {}
            for t, b, s in zip(init.captures, init.buffer_ops, init.shape_ops):
                buf, shape = storage.get(b), storage.get(s)
                if buf is None or shape is None:
                    raise FailedPreconditionError(None, op, f"The iterator's initializer "
                                                  f"{init.op.name} has not stored {t.name}")
                shape = tuple(int(d) for d in shape)
                n = int(np.prod(shape, dtype=np.int64))
                # a copy: the session updates the buffer in place
                values[t] = buf[:n].reshape(shape).copy()
            state = self._start(session, op, init.dataset, values, latest)
        return state

    def _start(self, session, op, dataset, values, key):
        env = IterEnv(session, values, op)
        state = _State(key, env, dataset._elements(env))
        self._states[session] = state
        return state


def _as_dtype(t):
    return _dt.as_dtype(t)


def _iterator_op(specs, op_type, shared_name=None, name=None):
    flat = st.flatten(specs)
    g = get_default_graph()
    with g.control_dependencies(None):
        return make_op(op_type, [], {"output_types": [s.dtype for s in flat],
                                     "output_shapes": [s.shape for s in flat],
                                     "container": "", "shared_name": shared_name or ""},
                       [], name=name, default_name=op_type, graph=g)


def make_one_shot(dataset):
    """dataset.make_one_shot_iterator(): starts on first use in each session. As
    TF's, it can't capture a placeholder (nothing would feed it); a placeholder
    with a default gives its default."""
    for t in dataset._captures():
        p = _placeholder_above(t)
        if p is not None:
            raise ValueError(f"Cannot capture a placeholder (name:{p.name}, type:{p.type}) "
                             "by value.")
    for g in dataset._graphs():
        if g is not get_default_graph():
            raise ValueError("The dataset's tensors (or the functions traced for it) are in "
                             "another graph than the default graph.")
    op = _iterator_op(dataset._specs, "OneShotIterator")
    return Iterator(op, dataset._specs, one_shot=dataset)


def _placeholder_above(t):
    """A Placeholder (or another iterator's element) `t` depends on, or None."""
    stack, seen = [t.op], set()
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type in ("Placeholder", "IteratorGetNext"):
            return op
        stack.extend(i.op for i in op.inputs)
    return None


def make_initializable(dataset, shared_name=None):
    """dataset.make_initializable_iterator(): `iterator.initializer` starts it
    (again) on the dataset's captured values in that run."""
    op = _iterator_op(dataset._specs, "IteratorV2", shared_name)
    it = Iterator(op, dataset._specs)
    it._initializer = it._add_initializer(dataset, "MakeIterator")
    return it


# ---------------------------------------------------------------- the session's side

def _provide_next(session, op):
    it = getattr(op, "_tfc_iterator", None)
    if it is None:
        raise FailedPreconditionError(None, op, f"{op.name} belongs to no iterator built "
                                      "in this process (an imported graph's iterators have "
                                      "no dataset behind them)")
    return it._next(session, op)


IMPLICIT_FEEDS["IteratorGetNext"] = _provide_next


@lowering("MakeIterator")
def _lower_make_iterator(ctx, op, inputs):
    init = getattr(op, "_tfc_init", None)
    if init is None:
        ctx.fail(f"{op.name} belongs to no iterator built in this process")
    for b, s, v in zip(init.buffer_ops, init.shape_ops, inputs):
        n = int(np.prod(v.shape, dtype=np.int64))
        have = ctx.var_shapes.get(b)
        size = max(n, have[0] if have is not None else 0)
        flat = ctx.b.emit("reshape", [v], shape=(n,))
        if size > n:
            flat = ctx.b.emit("pad", [flat], low=[0], high=[size - n], value=0)
        ctx.write_variable(b, flat, validate=False)
        ctx.write_variable(s, ctx.b.constant(np.array(v.shape, np.int64).reshape(-1)),
                           validate=False)
    # the token: this run's count of the iterator's runs (a fresh value per run)
    tok = ctx.rng_counter(op._tfc_iterator._op)
    ctx.write_variable(init.token_op, ctx.b.emit("add", [tok, ctx.scalar(0, "i64")]),
                       validate=False)
    return []


@lowering("IteratorV2", "OneShotIterator")
def _lower_iterator(ctx, op, inputs):
    return []   # the iterator's state lives beside the session, not in compiled code


@lowering("IteratorGetNext")
def _lower_get_next(ctx, op, inputs):
    # Run as a target (`sess.run(next_op)`): the session fed its outputs already
    # (that advanced the iterator); the values are those feeds.
    outs = []
    for t in op.outputs:
        for i, (kind, obj) in enumerate(ctx.params):
            if kind == "feed" and obj is t:
                outs.append(ctx.fn.params[i])
                break
        else:
            ctx.fail(f"{op.name}: its element was not fed")
    return outs


for _t in ("IteratorGetNext", "MakeIterator", "IteratorV2", "OneShotIterator",
           "IteratorState"):
    NotDifferentiable(_t)
