"""tf.Session: feeds and fetches in, one compiled native call per run.

A run's signature (what is fetched, which tensors are fed with which shapes
and dtypes) selects a compiled function from the session's cache; on a miss
the needed subgraph is lowered to the IR, optimized and compiled through LLVM.
The session owns variable storage and passes it to the compiled code, which
updates it in place.
"""
from __future__ import annotations

import collections
import os
import threading

import numpy as np

from . import dtypes as _dt
from .config import ConfigProto
from .compiler import VarStorage, aligned_empty
from .errors import FailedPreconditionError
from .graph import Operation, Tensor, get_default_graph
from .ir.core import TensorType
from .dynamic_sizes import DynamicPlan, check_run
from .fast_run import _MISS, _FastRun
from .lowering import DataDependentShape, RunCheck, lower
from .variables import Variable


# ---------------------------------------------------------------- fetch structures

class _FetchMapper:
    """Flattens nested fetches into unique graph elements and rebuilds results."""

    def __init__(self, graph, fetches):
        self.graph = graph
        self.elements = []
        self._index = {}
        self.template = self._build(fetches)

    def _elem(self, fetch):
        if fetch is None:
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}")
        try:
            el = self.graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
        except TypeError:
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must "
                            "be a string or Tensor. (Can not convert a "
                            f"{type(fetch).__name__} into a Tensor or Operation.)") from None
        except (ValueError, KeyError) as e:
            msg = e.args[0] if e.args else str(e)
            raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. "
                             f"({msg})") from None
        key = id(el)
        if key not in self._index:
            self._index[key] = len(self.elements)
            self.elements.append(el)
        return ("el", self._index[key])

    def _build(self, f):
        if isinstance(f, (Tensor, Operation, Variable, str)):
            return self._elem(f)
        if isinstance(f, dict):
            return ("dict", type(f), [(k, self._build(v)) for k, v in f.items()])
        if isinstance(f, tuple) and hasattr(f, "_fields"):
            return ("namedtuple", type(f), [self._build(v) for v in f])
        if isinstance(f, (list, tuple)):
            return ("seq", type(f), [self._build(v) for v in f])
        return self._elem(f)

    def rebuild(self, values, t=None):
        t = self.template if t is None else t
        kind = t[0]
        if kind == "el":
            return values[t[1]]
        if kind == "dict":
            d = t[1]() if t[1] is not dict else {}
            for k, sub in t[2]:
                d[k] = self.rebuild(values, sub)
            return d
        if kind == "namedtuple":
            return t[1](*[self.rebuild(values, s) for s in t[2]])
        items = [self.rebuild(values, s) for s in t[2]]
        return items if t[1] is list else t[1](items)


class _FeedKeyError(TypeError, ValueError):
    """A feed_dict key that names no tensor. TF raises TypeError; this API raised
    ValueError before, so the error is both (and reports itself as TF's)."""


_FeedKeyError.__name__ = _FeedKeyError.__qualname__ = "TypeError"


def _widened(tensor, arr):
    """A fed array of a small integer type as the int32 the compiled code reads
    (see dtypes.SMALL_INTS); other arrays as they are."""
    if tensor.dtype.ir is None and tensor.dtype.base_dtype.name in _dt.SMALL_INTS:
        return arr.astype(np.int32)
    return arr


def _narrowed(tensor, arr):
    """A fetched array of a small integer type back in its own dtype."""
    if tensor.dtype.ir is None and type(arr) is np.ndarray and \
            tensor.dtype.base_dtype.name in _dt.SMALL_INTS:
        return arr.astype(tensor.dtype.base_dtype.as_numpy_dtype)
    return arr


def _scalar(arr):
    """TF returns a fetched scalar as a numpy scalar (np.float32(1.0)), not a 0-d array
    (and a host op's value, bytes, as it is)."""
    return arr[()] if type(arr) is np.ndarray and arr.ndim == 0 else arr


# ---------------------------------------------------------------- feeds

def _shape_ok(tensor, shape):
    dims = tensor.shape.as_tuple()
    if dims is None:
        return True
    if len(dims) != len(shape):
        return False
    for d, n in zip(dims, shape):
        if d is not None and d != n:
            return False
    return True


def _feed_array(tensor, value):
    if type(value) is np.ndarray and value.dtype == tensor.dtype._np and \
            value.flags.c_contiguous:
        if _shape_ok(tensor, value.shape):
            return value  # the common case: no conversion, no copy
    if isinstance(value, (Tensor, Variable)):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed "
                        "values include Python scalars, strings, lists, numpy ndarrays, or "
                        f"TensorHandles. (feeding {tensor.name})")
    want = tensor.dtype.as_numpy_dtype
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            fits = want(value) == value
        except OverflowError:
            fits = False
        if not fits:
            raise TypeError(f"Type of feed value {value} with type {type(value)} is not "
                            f"compatible with Tensor type {want}. Try explicitly setting "
                            "the type of the feed tensor to a larger type (e.g. int64).")
    src = value if isinstance(value, np.ndarray) else None
    if src is None:
        try:
            src = np.asarray(value)
        except ValueError as e:  # ragged lists
            raise ValueError(f"Cannot feed value {value!r:.80} for Tensor "
                             f"{tensor.name!r}: {e}") from None
    if src.dtype.kind in "USVMmc" or (src.dtype.kind == "O" and value is not None):
        raise TypeError(f"Cannot feed a value of dtype {src.dtype} to Tensor "
                        f"{tensor.name!r} of dtype {tensor.dtype.name}")
    if src.dtype.kind == "f" and tensor.dtype.is_integer or tensor.dtype.is_bool and \
            src.dtype.kind not in "b":
        # TF truncates silently; we refuse a feed whose values the cast would change.
        with np.errstate(all="ignore"):
            cast = src.astype(want)
            same = np.array_equal(cast.astype(src.dtype), src) if src.size else True
        if not same or (src.dtype.kind == "f" and not np.all(np.isfinite(src))):
            raise TypeError(f"Cannot feed value of dtype {src.dtype} to Tensor "
                            f"{tensor.name!r} of dtype {tensor.dtype.name} without "
                            "changing it (non-integral or out-of-range values)")
    # As TF: numpy's conversion to the tensor's dtype (None fed to a float tensor
    # is nan).
    arr = np.asarray(value if value is None else src, dtype=want)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    if not _shape_ok(tensor, arr.shape):
        raise ValueError(f"Cannot feed value of shape {arr.shape!r} for Tensor "
                         f"{tensor.name!r}, which has shape {str(tensor.shape)!r}")
    return arr


# ---------------------------------------------------------------- compiled plans

class _Plan:
    """A compiled run signature: the executable and how to bind its buffers."""

    def __init__(self, lowered, exe):
        self.exe = exe
        self.fn = lowered.fn
        self.params = lowered.params
        self.results = lowered.results
        self.result_types = [v.type for v in lowered.fn.results]
        self.aliases = dict(lowered.fn.aliases)
        self.lock = threading.Lock()
        # checks the plan computes beside its fetches (tfcompile/dynamic_sizes.py)
        self.run_checks = [obj for kind, obj in lowered.results if type(obj) is RunCheck]
        self.dynamic = False        # compiled for one run's data-dependent sizes
        self.sizes_used = lowered.sizes_used


_MAX_FAST = 256

# op type -> provider(session, op) -> one array per output: ops whose values
# come from outside compiled code, fed by the session itself on every run that
# needs them (a dataset iterator's next element, a tf.py_func's result; see
# _implicit_feeds). A provider with `wants_feeds = True` is called with the
# run's feeds as a third argument.
IMPLICIT_FEEDS = {}

# op type -> fn(op, input values): ops with an effect outside the graph (tf.Print,
# tf.print) that Python carries out after each run needing them, on their
# inputs' values (fetched along).
SIDE_EFFECTS = {}

# op type -> fn(op, input values) -> the value of its one output: ops that run in
# Python after the compiled call, on values it fetched (a summary serializes
# numbers to a protocol buffer; see _host_split).
HOST_OPS = {}


class BaseSession:
    def __init__(self, target="", graph=None, config=None):
        self._graph = graph if graph is not None else get_default_graph()
        self._config = config if config is not None else ConfigProto()
        self._closed = False
        self._storage = VarStorage()   # var op -> np.ndarray
        self._rng_counters = {}    # random op -> np.ndarray(int64 scalar)
        self._plans = {}
        self._fast = {}            # fetches -> _FastRun, the shortcut of a repeated run
        self._implicit = {}        # run signature -> ops whose outputs are fed implicitly
        self._epoch = 0            # bumps when a variable is first set or reshaped
        self._seed_rng = np.random.default_rng()
        self._random_seeds = {}
        self._lock = threading.RLock()
        self.compile_count = 0
        from .compiler import CompileOptions
        self._options = CompileOptions.from_config(self._config)

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self):
        return ""

    def close(self):
        self._closed = True
        self._fast.clear()
        self._plans.clear()
        self._storage.clear()

    def __enter__(self):
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._graph_ctx.__exit__(*exc)
        self._default_ctx.__exit__(*exc)
        self.close()
        return False

    def as_default(self):
        return _DefaultSession(self)

    def list_devices(self):
        return []

    # ---- the run path
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        # A run repeating an earlier one's fetches and feed signature takes the
        # shortcut that run left (see _FastRun); anything else the full path.
        t = type(fetches)
        if t is Tensor:
            fast = self._fast.get(id(fetches))
        elif t is list or t is tuple:
            fast = self._fast.get((t, *map(id, fetches)))
        else:
            fast = None
        if fast is not None:
            out = fast(feed_dict)
            if out is not _MISS:
                return out
        return self._run(fetches, feed_dict)

    def _run(self, fetches, feed_dict):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if not self._graph._ops:
            raise RuntimeError("The Session graph is empty. Add operations to the graph "
                               "before calling run().")
        feeds = self._resolve_feeds(feed_dict)
        host = None
        if type(fetches) is Tensor and fetches._op._graph is self._graph and \
                fetches._op.type not in HOST_OPS:
            implicit, side = self._implicit_feeds([fetches], [], feeds)
            if not side:
                plan = self._plan([fetches], [], feeds)
                value = self._execute(plan, feeds)[id(fetches)]
                if fetches.dtype.ir is None:
                    return _scalar(_narrowed(fetches, value))
                if not implicit:
                    self._add_fast(fetches, [fetches], plan, feed_dict, feeds)
                return _scalar(value)
            mapper = _FetchMapper(self._graph, fetches)
            fetch_tensors, targets = [fetches], []
        else:
            mapper = _FetchMapper(self._graph, fetches)
            fetch_tensors, targets = [], []
            for el in mapper.elements:
                (fetch_tensors if isinstance(el, Tensor) else targets).append(el)
            host = self._host_split(fetch_tensors, targets) if HOST_OPS else None
            if host is not None:
                host_ops, fetch_tensors, targets = host
            implicit, side = self._implicit_feeds(fetch_tensors, targets, feeds)
        if side:    # their inputs are fetched too, for the effect after the call
            seen = set(map(id, fetch_tensors))
            fetch_tensors = list(fetch_tensors)
            for op in side:
                for t in op.inputs:
                    if id(t) not in seen and t.dtype.ir is not None:
                        seen.add(id(t))
                        fetch_tensors.append(t)
        plan = self._plan(fetch_tensors, targets, feeds)
        values = self._execute(plan, feeds)
        if host is not None:
            for op in host_ops:
                ins = [values[id(t)] for t in op.inputs]
                values[id(op.outputs[0])] = HOST_OPS[op.type](op, ins)
        for op in side:
            SIDE_EFFECTS[op.type](op, [values.get(id(t)) for t in op.inputs])
        out = [_scalar(_narrowed(el, values.get(id(el)))) if isinstance(el, Tensor) else None
               for el in mapper.elements]
        if host is None and not implicit and not side and type(fetches) in (list, tuple) and \
                all(type(f) in (Tensor, Operation) and (type(f) is Operation or f.dtype.ir)
                    for f in fetches):
            self._add_fast(fetches, mapper.elements, plan, feed_dict, feeds)
        return mapper.rebuild(out)

    def _host_split(self, fetch_tensors, targets):
        """None when no fetch is a host op's output; else (the host ops to run
        after the call, in creation order; the tensors the compiled call must
        fetch instead: the other fetches and the host ops' compiled inputs; the
        targets that aren't host ops)."""
        if not any(t.op.type in HOST_OPS for t in fetch_tensors) and \
                not any(op.type in HOST_OPS for op in targets):
            return None
        host, stack = {}, [t.op for t in fetch_tensors if t.op.type in HOST_OPS]
        while stack:
            op = stack.pop()
            if op not in host:
                host[op] = None
                stack.extend(t.op for t in op.inputs if t.op.type in HOST_OPS)
        compiled = [t for t in fetch_tensors if t.op not in host]
        seen = set(map(id, compiled))
        for op in host:
            for t in op.inputs:
                if t.op not in host and id(t) not in seen:
                    seen.add(id(t))
                    compiled.append(t)
        return (sorted(host, key=lambda o: o._id), compiled,
                [op for op in targets if op.type not in HOST_OPS])

    def _implicit_feeds(self, fetch_tensors, targets, feeds):
        """Feeds the outputs of the needed ops that produce their values outside
        compiled code (IMPLICIT_FEEDS: a dataset iterator's next element), each
        asked once per run. Returns (whether there were any, the needed ops with
        an effect after the call: SIDE_EFFECTS, in creation order)."""
        key = (*map(id, fetch_tensors), None, *map(id, targets), None, *map(id, feeds))
        found = self._implicit.get(key)
        if found is None:
            if not IMPLICIT_FEEDS and not SIDE_EFFECTS:
                return False, ()
            from .lowering import needed_ops
            ops = sorted(needed_ops(fetch_tensors, targets, set(feeds)), key=lambda o: o._id)
            found = self._implicit[key] = (
                [op for op in ops if op.type in IMPLICIT_FEEDS],
                tuple(op for op in ops if op.type in SIDE_EFFECTS))
        ops, side = found
        for op in ops:
            provider = IMPLICIT_FEEDS[op.type]
            # (a provider that computes from graph values gets this run's feeds)
            arrays = provider(self, op, feeds) if getattr(provider, "wants_feeds", False) \
                else provider(self, op)
            for t, a in zip(op.outputs, arrays):
                if t not in feeds:
                    feeds[t] = _widened(t, _feed_array(t, a))
        return bool(ops), side

    def _add_fast(self, fetches, elements, plan, feed_dict, feeds):
        """Leaves a shortcut for runs like this one (see _FastRun), where one can
        serve them: the feeds were arrays used as given, keyed by their tensors."""
        if plan.runner is None or plan.dynamic or (feed_dict and type(feed_dict) is not dict):
            return
        if feed_dict:
            for k, v in feed_dict.items():
                if type(k) is not Tensor or feeds.get(k) is not v:
                    return
        fast = _FastRun.make(self, fetches, elements, plan, feed_dict or {})
        if fast is None:
            return
        if len(self._fast) >= _MAX_FAST:
            self._fast.clear()
        if type(fetches) is Tensor:
            self._fast[id(fetches)] = fast
        else:
            self._fast[(type(fetches), *map(id, fetches))] = fast

    def _plan(self, fetch_tensors, targets, feeds):
        key = (*map(id, fetch_tensors), None, *map(id, targets), None,
               *[(id(t), a.shape, a.dtype.char) for t, a in feeds.items()], self._epoch)
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = self._compile(fetch_tensors, targets, feeds)
            except DataDependentShape:
                plan = DynamicPlan(self, fetch_tensors, targets)
            self._plans[key] = plan
        if plan.dynamic:
            plan = plan.resolve(feeds)
        return plan

    def _resolve_feeds(self, feed_dict):
        feeds = {}
        if not feed_dict:
            return feeds
        graph = self._graph
        for key, value in feed_dict.items():
            if type(key) is Tensor and key._op._graph is graph:
                feeds[key] = _feed_array(key, value)
                if key.dtype.ir is None:
                    feeds[key] = _widened(key, feeds[key])
                continue
            if isinstance(key, Variable):
                key = key._variable
            if isinstance(key, Operation):
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {key.name} is an "
                                "Operation, not a Tensor")
            try:  # TF reports every key it can't read as a tensor as a TypeError
                t = self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
            except (KeyError, ValueError, TypeError) as e:
                raise _FeedKeyError(f"Cannot interpret feed_dict key as Tensor: "
                                    f"{e.args[0] if e.args else e}") from None
            feeds[t] = _widened(t, _feed_array(t, value))
        return feeds

    def _seed_for(self, op):
        if op not in self._random_seeds:
            s = self._seed_rng.integers(1, 2 ** 31 - 1, size=2)
            self._random_seeds[op] = (int(s[0]), int(s[1]))
        return self._random_seeds[op]

    def _compile(self, fetch_tensors, targets, feeds, sizes=None, probe=None):
        from .compiler import PlanRunner, compile_lowered
        feed_types = {}
        for t, a in feeds.items():
            feed_types[t] = TensorType(a.shape, _dt.compilable(t.dtype, t.name, widen=True))
        var_shapes = {op: a.shape for op, a in self._storage.items()}
        lowered = lower(self._graph, fetch_tensors, targets, feed_types, var_shapes,
                        self._seed_for, sizes=sizes, probe=probe)
        exe = compile_lowered(lowered.fn, self._options)
        self.compile_count += 1
        plan = _Plan(lowered, exe)
        plan.runner = None
        if getattr(exe, "_entry", None) is not None:
            plan.runner = PlanRunner(exe, plan.params, plan.results, plan.result_types,
                                     plan.aliases)
        return plan

    def _missing_variable(self, op):
        raise FailedPreconditionError(None, op, f"Attempting to use uninitialized value {op.name}")

    def _execute(self, plan, feeds, dry=False):
        """Runs a plan; returns {id(fetched tensor): array}. A dry run (a size
        probe, see tfcompile/dynamic_sizes.py) changes no state: the variables
        it writes are copies, and random counters stay where they are."""
        storage, counters = self._storage, self._rng_counters
        if dry:
            written = {obj for kind, obj in plan.results if kind == "var"}
            storage = {op: (a.copy() if op in written else a) for op, a in storage.items()}
            counters = {op: c.copy() for op, c in counters.items()}
        runner = plan.runner
        if runner is not None:
            with plan.lock:
                values = runner.run(storage, counters, feeds, self._missing_variable)
                new_vars = runner.new_vars
            if plan.run_checks:
                check_run(plan, values)
            if dry:
                return values
            for op, arr in new_vars:
                old = self._storage.get(op)
                if old is None or old.shape != arr.shape:
                    self._epoch += 1
                self._storage[op] = arr
            return values
        args = []
        for kind, obj in plan.params:
            if kind == "feed":
                args.append(feeds[obj])
            elif kind == "var":
                arr = storage.get(obj)
                if arr is None:
                    self._missing_variable(obj)
                args.append(arr)
            else:
                c = counters.get(obj)
                if c is None:
                    c = counters[obj] = np.zeros((), np.int64)
                args.append(c)
        outs = []
        for i, t in enumerate(plan.result_types):
            if i in plan.aliases:
                outs.append(args[plan.aliases[i]])
            else:
                outs.append(np.empty(t.shape, t.np_dtype))
        with plan.lock:
            plan.exe.call(args, outs)
        if not dry:
            for kind, obj in plan.params:
                if kind == "rng":
                    counters[obj] += 1
        values = {}
        for (kind, obj), arr in zip(plan.results, outs):
            if kind == "fetch":
                values[id(obj)] = arr
            elif not dry:
                old = self._storage.get(obj)
                if old is None or old.shape != arr.shape:
                    self._epoch += 1
                self._storage[obj] = arr
        if plan.run_checks:
            check_run(plan, values)
        return values

    def _load_variable(self, var, value):
        op = var.op
        arr = np.asarray(value, dtype=var.dtype.as_numpy_dtype)
        if not var.shape.is_compatible_with(arr.shape):
            raise ValueError(f"Cannot load value of shape {arr.shape} into variable "
                             f"{var.name} of shape {var.shape}")
        arr, src = aligned_empty(arr.shape, arr.dtype), arr   # the session's own copy
        arr[...] = src
        old = self._storage.get(op)
        if old is None or old.shape != arr.shape:
            self._epoch += 1
        self._storage[op] = arr

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        feed_list = list(feed_list or [])

        def call(*args, **kwargs):
            return self.run(fetches, dict(zip(feed_list, args)))
        return call


class Session(BaseSession):
    """tf.Session(target='', graph=None, config=None)."""


class InteractiveSession(BaseSession):
    """A session that installs itself as the default on construction."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()
        _interactive.append(self)

    def close(self):
        super().close()
        if self in _interactive:
            _interactive.remove(self)
            try:
                self._graph_ctx.__exit__(None, None, None)
                self._default_ctx.__exit__(None, None, None)
            except (IndexError, ValueError):
                pass


_interactive = []
_local = threading.local()


def _session_stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class _DefaultSession:
    def __init__(self, sess):
        self.sess = sess

    def __enter__(self):
        _session_stack().append(self.sess)
        return self.sess

    def __exit__(self, *exc):
        st = _session_stack()
        if self.sess in st:
            st.reverse()
            st.remove(self.sess)
            st.reverse()
        return False


def get_default_session():
    st = _session_stack()
    return st[-1] if st else None


def _clear_default_session():
    pass


def _resolve_session(session, graph):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit "
                             "session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's "
                         "graph is different from the session's graph.")
    return session


_ = (collections, os)
