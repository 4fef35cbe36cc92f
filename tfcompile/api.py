"""The compile-and-run API: `tfcompile.compile` gives a compiled callable for fixed
fetches and feeds; `@tfcompile.jit` traces a Python function of arrays into a
graph, compiles it, and caches it by the arguments' shapes and dtypes.

    exe = tfcompile.compile([loss, train_op], [x, y], session=sess)
    loss_value, _ = exe(x_batch, y_batch)
"""
from __future__ import annotations

import functools
import inspect
import threading
import traceback

import numpy as np

from . import dtypes as _dt
from .graph import Graph, Operation, Tensor
from .ir.core import TensorType
from .lowering import RunCheck
from .session import Session, _FetchMapper, _feed_array, get_default_session


class Executable:
    """A compiled callable: `exe(*arrays)` returns the fetches' values.

    One compiled plan per argument-shape signature; a call with the shapes of the
    previous call skips the lookup entirely."""

    def __init__(self, fetches, feeds, session):
        self.session = session
        self.graph = session.graph
        self._mapper = _FetchMapper(self.graph, fetches)
        self._fetch_tensors = [e for e in self._mapper.elements if isinstance(e, Tensor)]
        self._targets = [e for e in self._mapper.elements if isinstance(e, Operation)]
        self.feeds = [self.graph.as_graph_element(f, allow_tensor=True, allow_operation=False)
                      for f in feeds]
        self._plans = {}
        self._last = None          # (shapes, plan, bindings) of the previous call
        self._feed_dims = [t.shape.as_tuple() if t.shape.ndims is not None else None
                           for t in self.feeds]
        self._feed_np = [t.dtype._np for t in self.feeds]
        self._single = isinstance(fetches, Tensor)
        self._lock = threading.Lock()

    # ---- introspection
    @property
    def signature(self):
        return {"feeds": [(t.name, t.shape.as_tuple(), t.dtype.name) for t in self.feeds],
                "fetches": [(e.name, e.shape.as_tuple() if isinstance(e, Tensor) else None,
                             e.dtype.name if isinstance(e, Tensor) else None)
                            for e in self._mapper.elements]}

    def _plan_for_inspection(self):
        if self._last is None:
            raise RuntimeError("call the executable once (shapes are specialized per call) "
                               "before inspecting its compiled code")
        return self._last[1]

    def ir(self, optimized=True):
        from .ir.text import print_function
        plan = self._plan_for_inspection()
        fn = plan.exe.fn if optimized else plan.fn
        return print_function(fn, elide_constants_over=64)

    def llvm_ir(self):
        return self._plan_for_inspection().exe.compiled.llvm_ir

    def asm(self):
        return self._plan_for_inspection().exe.compiled.asm()

    def stats(self):
        plan = self._plan_for_inspection()
        st = dict(plan.exe.stats)
        st.update(getattr(plan.exe.compiled, "stats", {}) or {})
        st["arena_bytes"] = int(plan.exe.compiled.arena_bytes)
        st["compilations"] = len(self._plans)
        return st

    # ---- calling
    def _check_args(self, args):
        if len(args) != len(self.feeds):
            raise TypeError(f"expected {len(self.feeds)} argument(s) "
                            f"({', '.join(t.name for t in self.feeds)}), got {len(args)}")
        arrays = []
        for t, dims, dt, a in zip(self.feeds, self._feed_dims, self._feed_np, args):
            if type(a) is np.ndarray and a.dtype == dt and a.flags.c_contiguous and (
                    dims is None or len(a.shape) == len(dims) and all(
                        d is None or d == n for d, n in zip(dims, a.shape))):
                arrays.append(a)
                continue
            try:
                arrays.append(_feed_array(t, a))
            except (TypeError, ValueError) as e:
                raise type(e)(f"argument {t.name}: {e}") from None
        return arrays

    def _bind(self, plan):
        """Precomputes where each parameter comes from and where results go."""
        pos = {id(t): i for i, t in enumerate(self.feeds)}
        srcs = [(0, pos[id(obj)]) if kind == "feed" else (1 if kind == "var" else 2, obj)
                for kind, obj in plan.params]
        outs = [(plan.aliases.get(i), t.shape, t.np_dtype)
                for i, t in enumerate(plan.result_types)]
        res_index = {id(obj): i for i, (kind, obj) in enumerate(plan.results)
                     if kind == "fetch"}
        elems = [res_index.get(id(e)) if isinstance(e, Tensor) else None
                 for e in self._mapper.elements]
        var_results = [(i, obj) for i, (kind, obj) in enumerate(plan.results)
                       if kind == "var" and i not in plan.aliases]
        rngs = [obj for kind, obj in plan.params if kind == "rng"]
        checks = [(i, obj) for i, (kind, obj) in enumerate(plan.results)
                  if kind == "fetch" and type(obj) is RunCheck]
        return srcs, outs, elems, var_results, rngs, checks

    def __call__(self, *args):
        last = self._last
        if last is not None and len(args) == len(self._feed_np):
            # fast path: exact dtype and the previous call's shapes need no other check
            # (a non-contiguous array is refused by cffi's from_buffer, and retried below)
            for a, dt, shp in zip(args, self._feed_np, last[0]):
                if type(a) is not np.ndarray or a.dtype is not dt or a.shape != shp:
                    break
            else:
                try:
                    return self._run(last[1], last[2], args)
                except BufferError:
                    pass
        arrays = self._check_args(args)
        shapes = tuple(a.shape for a in arrays)
        if last is not None and last[0] == shapes:
            plan, bound = last[1], last[2]
        else:
            entry = self._plans.get(shapes)
            if entry is None:
                plan = self.session._compile(self._fetch_tensors, self._targets,
                                             dict(zip(self.feeds, arrays)))
                entry = (plan, self._bind(plan))
                self._plans[shapes] = entry
            plan, bound = entry
            self._last = (shapes, plan, bound)
        return self._run(plan, bound, arrays)

    def _run(self, plan, bound, arrays):
        srcs, outs_spec, elems, var_results, rngs, checks = bound
        sess = self.session
        storage, counters = sess._storage, sess._rng_counters
        params = []
        for kind, ref in srcs:
            if kind == 0:
                params.append(arrays[ref])
            elif kind == 1:
                a = storage.get(ref)
                if a is None:
                    from .errors import FailedPreconditionError
                    raise FailedPreconditionError(
                        None, ref, f"Attempting to use uninitialized value {ref.name}")
                params.append(a)
            else:
                c = counters.get(ref)
                if c is None:
                    c = counters[ref] = np.zeros((), np.int64)
                params.append(c)
        outs = [params[al] if al is not None else np.empty(shape, dt)
                for al, shape, dt in outs_spec]
        with plan.lock:
            plan.exe.call(params, outs)
        for r in rngs:
            counters[r] += 1
        if checks:                  # (asserts: see LoweringContext.add_run_check)
            from .dynamic_sizes import check_run
            check_run(plan, {id(c): outs[i] for i, c in checks})
        for i, var_op in var_results:
            old = storage.get(var_op)
            if old is None or old.shape != outs[i].shape:
                sess._epoch += 1
            storage[var_op] = outs[i]
        values = [outs[j] if j is not None else None for j in elems]
        if self._single:
            return values[0]
        return self._mapper.rebuild(values)


def compile(fetches, feeds, session=None):  # noqa: A001
    """A compiled callable for `fetches` given `feeds` (a list of feedable tensors)."""
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("tfcompile.compile needs a session: pass session=, or call it "
                             "inside `with sess.as_default():`")
    return Executable(fetches, list(feeds), session)


# ---------------------------------------------------------------- jit

def _flatten(x, leaves):
    if isinstance(x, dict):
        return ("dict", [(k, _flatten(x[k], leaves)) for k in sorted(x)])
    if isinstance(x, (list, tuple)):
        return ("tuple" if isinstance(x, tuple) else "list", [_flatten(v, leaves) for v in x])
    leaves.append(x)
    return ("leaf", len(leaves) - 1)


def _unflatten(t, leaves):
    kind, body = t
    if kind == "leaf":
        return leaves[body]
    if kind == "dict":
        return {k: _unflatten(v, leaves) for k, v in body}
    items = [_unflatten(v, leaves) for v in body]
    return tuple(items) if kind == "tuple" else items


class TraceError(TypeError):
    """A jitted function can't be traced (Python control flow on a tensor value)."""


class _Jitted:
    def __init__(self, fn, static_argnums=(), static_argnames=()):
        self.fn = fn
        self.static_argnums = set(static_argnums)
        self.static_argnames = set(static_argnames)
        self._cache = {}
        self._fast = {}
        self._last_entry = None
        self.trace_count = 0
        functools.update_wrapper(self, fn)

    def _split(self, args, kwargs):
        dyn, static = [], []
        for i, a in enumerate(args):
            (static if i in self.static_argnums else dyn).append((i, a))
        skw = {k: v for k, v in kwargs.items() if k in self.static_argnames}
        dkw = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        return dyn, static, dkw, skw

    def __call__(self, *args, **kwargs):
        if not kwargs and not self.static_argnums:
            # fast path: positional arrays only, keyed by shapes and dtypes
            try:
                key = tuple((a.shape, a.dtype) for a in args if type(a) is np.ndarray)
            except AttributeError:
                key = None
            if key is not None and len(key) == len(args):
                entry = self._fast.get(key)
                if entry is not None:
                    exe, out_tree = entry
                    flat = exe(*args)
                    return flat[0] if out_tree == ("leaf", 0) else _unflatten(out_tree, flat)
                result = self._call(args, kwargs)
                self._fast[key] = self._last_entry
                return result
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
        dyn, static, dkw, skw = self._split(args, kwargs)
        leaves = []
        tree = _flatten(([a for _, a in dyn], dkw), leaves)
        arrays = [np.asarray(v) for v in leaves]
        key = (repr(tree), tuple((a.shape, a.dtype.str) for a in arrays),
               tuple((i, _hashable(a)) for i, a in static), tuple(sorted(
                   (k, _hashable(v)) for k, v in skw.items())))
        entry = self._cache.get(key)
        if entry is None:
            entry = self._trace(dyn, static, dkw, skw, tree, arrays)
            self._cache[key] = entry
        self._last_entry = entry
        exe, out_tree = entry
        flat = exe(*arrays)
        return _unflatten(out_tree, list(flat))

    def _trace(self, dyn, static, dkw, skw, tree, arrays):
        self.trace_count += 1
        g = Graph()
        with g.as_default():
            from .ops.array_ops import placeholder
            phs = [placeholder(_dt.as_dtype(a.dtype), a.shape, name=f"arg{i}")
                   for i, a in enumerate(arrays)]
            (dyn_vals, dkw_vals) = _unflatten(tree, phs)
            full = [None] * (len(dyn) + len(static))
            for (i, _), v in zip(dyn, dyn_vals):
                full[i] = v
            for i, a in static:
                full[i] = a
            try:
                out = self.fn(*full, **dkw_vals, **skw)
            except TypeError as e:
                if "as a Python `bool`" in str(e) or "iterable" in str(e):
                    frame = _user_frame(self.fn)
                    raise TraceError(
                        f"can't trace {self.fn.__name__}: Python control flow on a tensor's "
                        f"value{frame} — use tf ops (tf.where, tf.maximum, ...) or pass "
                        "the value as a static argument") from e
                raise
            out_leaves = []
            out_tree = _flatten(out, out_leaves)
            from .ops.constant_op import convert_to_tensor
            out_leaves = [convert_to_tensor(o) for o in out_leaves]
            sess = Session(graph=g)
            exe = Executable(out_leaves, phs, sess)
        return exe, out_tree


def _user_frame(fn):
    try:
        src = inspect.getsourcefile(fn)
    except TypeError:
        return ""
    tb = traceback.extract_stack()
    for fr in reversed(traceback.extract_tb(__import__("sys").exc_info()[2])):
        if fr.filename == src:
            return f" at {fr.filename}:{fr.lineno} ({fr.line})"
    _ = tb
    return ""


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def jit(fn=None, *, static_argnums=(), static_argnames=()):
    """@jit: trace on first call per argument signature, then run native code."""
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if isinstance(static_argnames, str):
        static_argnames = (static_argnames,)
    if fn is None:
        return lambda f: _Jitted(f, static_argnums, static_argnames)
    return _Jitted(fn, static_argnums, static_argnames)


_ = TensorType
