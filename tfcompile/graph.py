"""The dataflow graph: Graph, Operation, Tensor, name scopes, collections.

Semantics follow TF 1.15: unique names (`add`, `add_1`, `scope/add`), a stack of
default graphs, control-dependency scopes, collections keyed by GraphKeys, and
`as_graph_def()` that lists nodes with their inputs and attributes.
"""
from __future__ import annotations

import contextlib
import re
import threading

import numpy as np

from . import dtypes as _dt
from .tensor_shape import TensorShape, as_shape


class GraphKeys:
    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    TRAIN_OP = "train_op"
    GLOBAL_STEP = "global_step"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    SUMMARY_OP = "summary_op"
    VARIABLES = GLOBAL_VARIABLES


class NodeDef:
    """A node of `GraphDef`: name, op, inputs (`x`, `y:1`, `^ctrl`), attrs."""

    def __init__(self, name, op, inputs, attr, device=""):
        self.name = name
        self.op = op
        self.input = inputs
        self.attr = attr
        self.device = device

    def __str__(self):
        """TF's protobuf text format (attrs in key order)."""
        lines = [f'name: "{self.name}"', f'op: "{self.op}"']
        lines += [f'input: "{i}"' for i in self.input]
        for k in sorted(self.attr):
            lines.append("attr {")
            lines.append(f'  key: "{k}"')
            lines.append("  value {")
            lines += ["    " + x for x in _attr_text(self.attr[k])]
            lines.append("  }")
            lines.append("}")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return "node {\n" + "".join("  " + x + "\n" for x in str(self).splitlines()) + "}"


# TF's DataType enum names (DT_FLOAT, not DT_FLOAT32)
_DT_NAMES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF",
             "int32": "DT_INT32", "int64": "DT_INT64", "int16": "DT_INT16", "int8": "DT_INT8",
             "uint8": "DT_UINT8", "uint16": "DT_UINT16", "bool": "DT_BOOL"}


def _dt_text(dtype):
    name = _DT_NAMES.get(dtype.base_dtype.name, "DT_" + dtype.base_dtype.name.upper())
    return name + ("_REF" if dtype._is_ref_dtype else "")


def _shape_text(shape):
    if shape.ndims is None:
        return ["shape {", "  unknown_rank: true", "}"]
    out = ["shape {"]
    for d in shape.as_list():
        out += ["  dim {", f"    size: {-1 if d is None else d}", "  }"]
    return out + ["}"]


def _scalar_text(v):
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return f"b: {'true' if v else 'false'}"
    if isinstance(v, (int, np.integer)):
        return f"i: {int(v)}"
    if isinstance(v, (float, np.floating)):
        return f"f: {float(v)!r}"
    return f'{"s"}: "{v}"'


def _attr_text(v):
    """The lines of an AttrValue in TF's text format."""
    if isinstance(v, _dt.DType):
        return [f"type: {_dt_text(v)}"]
    if isinstance(v, TensorShape):
        return _shape_text(v)
    if isinstance(v, np.ndarray):
        dt = _dt.as_dtype(v.dtype)
        out = ["tensor {", f"  dtype: {_dt_text(dt)}", "  tensor_shape {"]
        for d in v.shape:
            out += ["    dim {", f"      size: {d}", "    }"]
        out.append("  }")
        kind = {"f": "float_val" if v.dtype == np.float32 else "double_val",
                "i": "int64_val" if v.dtype == np.int64 else "int_val",
                "u": "int_val", "b": "bool_val"}[v.dtype.kind]
        flat = v.reshape(-1)
        if flat.size and (flat == flat[0]).all():
            flat = flat[:1]  # TF writes one value for a tensor of copies
        for x in flat.tolist():
            x = ("true" if x else "false") if v.dtype.kind == "b" else x
            out.append(f"  {kind}: {x}")
        return out + ["}"]
    if isinstance(v, (list, tuple)):
        return ["list {"] + ["  " + _scalar_text(x).replace(": ", ": ", 1) for x in v] + ["}"]
    return [_scalar_text(v)]


class GraphDef:
    def __init__(self, nodes, versions=None):
        self.node = nodes
        self.versions = versions or {"producer": 134}

    def __str__(self):
        nodes = "".join(repr(n) + "\n" for n in self.node)
        return nodes + "versions {\n" + "".join(
            f"  {k}: {v}\n" for k, v in self.versions.items()) + "}\n"

    __repr__ = __str__


class Tensor:
    """One output of an Operation: `op.name:index`, with a static shape."""

    # numpy must defer to our operators (np.float32(2) * t gives a Tensor)
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = as_shape(shape)
        self._consumers = []

    @property
    def op(self):
        return self._op

    @property
    def value_index(self):
        return self._value_index

    @property
    def dtype(self):
        return self._dtype

    @property
    def graph(self):
        return self._op.graph

    @property
    def name(self):
        return f"{self._op.name}:{self._value_index}"

    @property
    def device(self):
        return ""

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        try:
            self._shape = self._shape.merge_with(as_shape(shape))
        except ValueError:
            raise ValueError(f"Tensor {self.name} has shape {self._shape}, which is not "
                             f"compatible with the shape {as_shape(shape)} given to set_shape")

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        from .session import _resolve_session
        return _resolve_session(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        return (f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>")

    def __str__(self):
        return (f'Tensor("{self.name}", shape={self._shape}, dtype={self._dtype.name})')

    def __hash__(self):
        return id(self)

    def __eq__(self, other):  # TF 1.x: tensors compare by identity
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        from .errors import OperatorNotAllowedInGraphError
        raise OperatorNotAllowedInGraphError(
                        "Using a `tf.Tensor` as a Python `bool` is not allowed. Use "
                        "`if t is not None:` instead of `if t:` to test if a tensor is "
                        "defined, and use TensorFlow ops such as tf.cond to execute "
                        "subgraphs conditioned on the value of a tensor.")

    def __iter__(self):  # TF 1.x graph mode: never iterable (tf.unstack is)
        from .errors import OperatorNotAllowedInGraphError
        raise OperatorNotAllowedInGraphError(
                        "Tensor objects are only iterable when eager execution is "
                        f"enabled. To iterate over this tensor ({self.name}) use "
                        "tf.map_fn or tf.unstack.")

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(f"Cannot convert a symbolic Tensor ({self.name}) to a "
                                  "numpy array.")

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors. "
                        f"({self.name}) Please call `x.shape` rather than `len(x)` "
                        "for shape information.")


class Operation:
    """A node of the graph: a type, inputs, outputs, attrs and control inputs."""

    def __init__(self, graph, op_type, name, inputs, attrs, output_specs, control_inputs):
        self._graph = graph
        self.type = op_type
        self.name = name
        self._inputs = list(inputs)
        self.attrs = dict(attrs)
        self._control_inputs = list(control_inputs)
        self._outputs = [Tensor(self, i, dt, sh) for i, (dt, sh) in enumerate(output_specs)]
        self._id = graph._next_id()
        for t in self._inputs:
            t._consumers.append(self)

    @property
    def graph(self):
        return self._graph

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def control_inputs(self):
        return list(self._control_inputs)

    @property
    def device(self):
        return ""

    @property
    def node_def(self):
        ins = [t.name if t.value_index else t.op.name for t in self._inputs]
        ins += ["^" + c.name for c in self._control_inputs]
        return NodeDef(self.name, self.type, ins, dict(self.attrs))

    def get_attr(self, name):
        if name not in self.attrs:
            raise ValueError(f"Operation {self.name!r} has no attr named {name!r}.")
        return self.attrs[name]

    def values(self):
        return tuple(self._outputs)

    def _add_control_input(self, op):
        if op not in self._control_inputs:
            self._control_inputs.append(op)

    def run(self, feed_dict=None, session=None):
        from .session import _resolve_session
        _resolve_session(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"

    def __str__(self):  # TF prints an op as its NodeDef
        return str(self.node_def)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


# TF's rules for names: an op name, or a scope opened at the root, starts with a
# letter, digit or dot; a nested scope may also start with _ - / or >.
_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\-/>]*$")


# Ops whose output is a reference to a variable's buffer (TF's `Ref(T)` outputs).
_REF_OUTPUT_OPS = frozenset((
    "VariableV2", "Variable", "Assign", "AssignAdd", "AssignSub", "ScatterUpdate",
    "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterNdUpdate",
    "ScatterMin", "ScatterMax", "ScatterNdAdd", "ScatterNdSub",
    "ApplyGradientDescent", "ApplyMomentum", "ApplyAdagrad", "ApplyAdadelta",
    "ApplyRMSProp", "ApplyCenteredRMSProp", "ApplyAdam", "ApplyFtrl", "ApplyFtrlV2",
    "ApplyProximalGradientDescent", "ApplyProximalAdagrad", "ApplyAdagradDA",
    "ApplyAddSign", "ApplyPowerSign", "RefIdentity", "CountUpTo"))


class _ControlDependencies:
    def __init__(self, ops):
        self.ops = ops  # None clears the enclosing scopes
        self.created = set()  # ops made inside the block: they dominate their users


class Graph:
    """A TF 1.x graph. Use `with g.as_default():` to build into it."""

    def __init__(self):
        self._ops = []
        self._ops_by_name = {}
        self._names_in_use = {}
        self._name_stack = ""
        self._control_stack = []
        self._collections = {}
        self._id_counter = 0
        self.seed = None
        self._finalized = False
        self._lock = threading.RLock()
        self._variable_scope_store = None   # owned by variable_scope.py
        self._version = 0

    # ---- identity and bookkeeping
    def _next_id(self):
        self._id_counter += 1
        return self._id_counter

    @property
    def _last_id(self):
        return self._id_counter

    @property
    def version(self):
        return self._version

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    # ---- names
    def get_name_scope(self):
        return self._name_stack

    def unique_name(self, name, mark_as_used=True):
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        old = self._name_stack
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            rx = _VALID_SCOPE_NAME if self._name_stack else _VALID_OP_NAME
            if not rx.match(name):
                where = "scope" if self._name_stack else "root scope"
                raise ValueError(f"'{name}' is not a valid {where} name. A {where} name "
                                 f"has to match the following pattern: {rx.pattern}")
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield "" if not new else new + "/"
        finally:
            self._name_stack = old

    # ---- ops
    def _create_op(self, op_type, inputs, attrs=None, output_specs=(), name=None,
                   default_name=None):
        """Adds an op. `name` ending in "/" is taken as is (a scope's own name)."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"{op_type}: input {t!r} is not a Tensor")
            if t.graph is not self:
                raise ValueError(f"Tensor {t.name} must be from the same graph as the "
                                 f"{op_type} op being created.")
        name = name or default_name or op_type
        if name.endswith("/"):
            name = name[:-1]
            self._names_in_use.setdefault(name.lower(), 1)
        else:
            name = self.unique_name(name)
        if not _VALID_OP_NAME.match(name):
            raise ValueError(f"'{name}' is not a valid node name. Accepted names conform "
                             f"to Regex /{_VALID_OP_NAME.pattern}/")
        if op_type not in _REF_OUTPUT_OPS:  # reads of a ref are values, as in TF
            output_specs = [(_dt.as_dtype(d).base_dtype, sh) for d, sh in output_specs]
        if attrs:
            attrs = {k: v.base_dtype if isinstance(v, _dt.DType) else v
                     for k, v in attrs.items()}
        control = self._current_control_inputs(inputs)
        with self._lock:
            op = Operation(self, op_type, name, inputs, attrs or {}, output_specs, control)
            for frame in reversed(self._control_stack):
                frame.created.add(op)
                if frame.ops is None:  # control_dependencies(None) hides the outer blocks
                    break
            self._ops.append(op)
            self._ops_by_name[name] = op
            self._version += 1
        return op

    def _current_control_inputs(self, inputs):
        ctrl = []
        input_ops = {t.op for t in inputs}
        for frame in self._control_stack:
            if frame.ops is None:
                ctrl = []
                continue
            if input_ops & frame.created:
                continue  # an input made in this block already depends on its ops
            for op in frame.ops:
                if op not in ctrl and op not in input_ops:
                    ctrl.append(op)
        return ctrl

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            frame = _ControlDependencies(None)
        else:
            ops = []
            for c in control_inputs:
                c = _as_op(c)
                if c.graph is not self:
                    raise ValueError(f"Control input {c.name} must be from this graph.")
                ops.append(c)
            frame = _ControlDependencies(ops)
        self._control_stack.append(frame)
        try:
            yield
        finally:
            self._control_stack.pop()

    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        if type(obj) is Tensor and allow_tensor and obj._op._graph is self:
            return obj  # the common case, first
        from .variables import Variable
        if isinstance(obj, Variable):
            obj = obj._as_graph_element()
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                op_name, _, idx = obj.rpartition(":")
                try:
                    idx = int(idx)
                except ValueError:
                    raise ValueError(f"The name {obj!r} looks a like a Tensor name, but is "
                                     "not a valid one. Tensor names must be of the form "
                                     "\"<op_name>:<output_index>\".") from None
                if op_name not in self._ops_by_name:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not "
                                   f"exist. The operation, {op_name!r}, does not exist in "
                                   "the graph.")
                op = self._ops_by_name[op_name]
                if idx >= len(op.outputs) or idx < 0:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not "
                                   f"exist. The operation, {op_name!r}, exists but only has "
                                   f"{len(op.outputs)} outputs.")
                return op.outputs[idx]
            if ":" in obj:
                raise ValueError(f"Name {obj!r} appears to refer to a Tensor, not a Operation.")
            if obj not in self._ops_by_name:
                raise KeyError(f"The name {obj!r} refers to an Operation not in the graph.")
            if not allow_operation:
                raise ValueError(f"The name {obj!r} refers to an Operation, not a Tensor. "
                                 "Tensor names must be of the form \"<op_name>:<output_index>\".")
            return self._ops_by_name[obj]
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor),
                                           ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    def as_graph_def(self, from_version=None, add_shapes=False):
        return GraphDef([op.node_def for op in self._ops])

    # ---- collections
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        names = (names,) if isinstance(names, str) else set(names)
        for n in names:
            self.add_to_collection(n, value)

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        import re
        rx = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and rx.match(i.name)]

    def get_all_collection_keys(self):
        return [k for k in self._collections if k]

    def clear_collection(self, name):
        self._collections.pop(name, None)

    # ---- default graph
    @contextlib.contextmanager
    def as_default(self):
        _graph_stack().append(self)
        try:
            yield self
        finally:
            _graph_stack().pop()

    @contextlib.contextmanager
    def device(self, device_name):
        yield  # devices are accepted and ignored: placement is the compiler's job

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        yield

    def is_feedable(self, tensor):
        return True

    def is_fetchable(self, tensor_or_op):
        return True

    def __enter__(self):  # not TF API; `with g.as_default()` is
        raise AttributeError("use `with graph.as_default():`")


def _as_op(x):
    from .variables import Variable
    if isinstance(x, Operation):
        return x
    if isinstance(x, Tensor):
        return x.op
    if isinstance(x, Variable):
        return x.op
    if hasattr(x, "op") and isinstance(x.op, Operation):
        return x.op
    raise TypeError(f"Can not convert a {type(x).__name__} into an Operation.")


# ---- the default graph stack (per thread, like TF)
_default = {"graph": None}
_local = threading.local()


def _graph_stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_default_graph() -> Graph:
    stack = _graph_stack()
    if stack:
        return stack[-1]
    if _default["graph"] is None:
        _default["graph"] = Graph()
    return _default["graph"]


def reset_default_graph():
    if _graph_stack():
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a "
                             "new graph.")
    _default["graph"] = Graph()
    from . import session as _s
    _s._clear_default_session()


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """tf.name_scope(name, default_name=None, values=None)."""
    if values is not None:
        g = _graph_of(values) or get_default_graph()
    else:
        g = get_default_graph()
    n = name if name is not None else default_name
    if name is None and default_name is None:
        if values is not None:  # TF: (None, None) only resets the scope without values
            raise ValueError(f"At least one of name ({name}) and default_name "
                             f"({default_name}) must be provided.")
        n = ""
    with g.as_default(), g.name_scope(n) as scope:
        yield scope


def _graph_of(values):
    for v in values:
        if isinstance(v, Tensor):
            return v.graph
        if hasattr(v, "graph") and isinstance(getattr(v, "graph"), Graph):
            return v.graph
    return None


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)
