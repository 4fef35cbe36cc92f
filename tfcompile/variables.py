"""tf.Variable (TF 1.x reference variables), assign ops, and initializers.

A variable is a `VariableV2` op whose output `name:0` stands for the stored
value; `name/read` is its snapshot, `name/Assign` its initializer. The session
owns the storage; a compiled step receives it as a parameter and writes
updates into it in place (the IR function's result aliases).
"""
from __future__ import annotations

import numpy as np

from . import dtypes as _dt
from .graph import GraphKeys, Tensor, get_default_graph, name_scope
from .ops.constant_op import convert_to_tensor
from .ops.op_util import make_tensor
from .ops.registry import lowering
from .tensor_shape import TensorShape, as_shape


class Variable:
    """tf.Variable(initial_value, trainable=True, collections=None, validate_shape=True,
    name=None, dtype=None, ...)."""

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if variable_def is not None:
            raise NotImplementedError("Variable(variable_def=...) is not supported")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        init_from_fn = callable(initial_value)
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        g = initial_value.graph if isinstance(initial_value, Tensor) else get_default_graph()
        with g.as_default(), name_scope(name, "Variable",
                                        [] if init_from_fn else [initial_value]) as scope:
            with g.name_scope("Initializer") if init_from_fn else _null():
                iv = initial_value() if init_from_fn else initial_value
                if isinstance(iv, Variable):
                    iv = iv.initialized_value()
                self._initial_value = convert_to_tensor(iv, name="initial_value", dtype=dtype)
            vshape = self._initial_value.shape if validate_shape else TensorShape(None)
            if shape is not None:
                vshape = as_shape(shape)
            if validate_shape and not vshape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: "
                                 f"{self._initial_value}")
            dt = self._initial_value.dtype
            self._variable = make_tensor("VariableV2", [], dt._as_ref, vshape,
                                         {"shape": vshape, "dtype": dt, "container": "",
                                          "shared_name": ""}, name=scope)
            self._variable.op._variable = self
            self._initializer_op = assign(self._variable, self._initial_value,
                                          validate_shape=validate_shape, name="Assign").op
            with g.name_scope("read"):
                pass
            self._snapshot = make_tensor("Identity", [self._variable], dt, vshape,
                                         {"T": dt}, name=scope + "read/")
        self._trainable = trainable
        self._constraint = constraint
        self._save_slice_info = None
        g.add_to_collections(collections, self)

    # ---- identity
    @property
    def name(self):
        return self._variable.name

    @property
    def op(self):
        return self._variable.op

    @property
    def graph(self):
        return self._variable.graph

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def shape(self):
        return self._variable.shape

    def get_shape(self):
        return self._variable.shape

    @property
    def device(self):
        return ""

    @property
    def trainable(self):
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self):
        return self._initial_value

    def initialized_value(self):
        # TF picks the stored value once initialized, else the initial value; its
        # use is building other variables' initial values, where both agree.
        return self._initial_value

    def _as_graph_element(self):
        return self._variable

    def _ref(self):
        return self._variable

    def _as_tensor(self):
        return self._snapshot

    def value(self):
        return self._snapshot

    def read_value(self):
        return make_tensor("Identity", [self._variable], self.dtype, self.shape,
                           {"T": self.dtype}, name="read")

    def eval(self, session=None, feed_dict=None):
        from .session import _resolve_session
        return _resolve_session(session, self.graph).run(self._variable, feed_dict)

    def load(self, value, session=None):
        from .session import _resolve_session
        _resolve_session(session, self.graph)._load_variable(self, value)

    # ---- updates
    def assign(self, value, use_locking=False, name=None, read_value=True):
        t = assign(self._variable, value, name=name)
        return t if read_value else t.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        t = assign_add(self._variable, delta, name=name)
        return t if read_value else t.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        t = assign_sub(self._variable, delta, name=name)
        return t if read_value else t.op

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}>")

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __iter__(self):
        return iter(self._snapshot)

    def __bool__(self):
        return self._snapshot.__bool__()

    def __getitem__(self, key):
        return self._snapshot[key]

    def __array__(self, *a, **k):
        raise TypeError(f"Can't convert the variable {self.name} to a numpy array; "
                        "run it in a Session to read its value.")

    def set_shape(self, shape):
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def _overload_operators():
    """Variables support every operator of Tensor, applied to their snapshot."""
    names = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
             "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
             "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
             "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__",
             "__or__", "__ror__", "__xor__", "__rxor__", "__invert__"]
    for n in names:
        def make(n):
            def f(self, *args):
                return getattr(Tensor, n)(self._snapshot, *args)
            f.__name__ = n
            return f
        setattr(Variable, n, make(n))


_overload_operators()


def _ref_of(ref):
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor) and ref.op.type == "VariableV2":
        return ref
    raise TypeError(f"assign: the target must be a Variable, got {ref!r}")


def _assign_op(op_type, default, ref, value, validate_shape=True, name=None):
    ref = _ref_of(ref)
    with name_scope(name, default, [ref, value]) as scope:
        v = convert_to_tensor(value, dtype=ref.dtype, name="value") if not isinstance(
            value, Tensor) else value
        if v.dtype != ref.dtype:
            raise TypeError(f"Input 'value' of '{op_type}' Op has type {v.dtype.name} that "
                            f"does not match type {ref.dtype.name} of argument 'ref'.")
        if validate_shape and not ref.shape.is_compatible_with(v.shape):
            raise ValueError(f"Shapes must be equal rank, but are {ref.shape.ndims} and "
                             f"{v.shape.ndims} for '{scope[:-1]}' (op: '{op_type}') with "
                             f"input shapes: {ref.shape}, {v.shape}."
                             if ref.shape.ndims != v.shape.ndims else
                             f"Dimension mismatch: shapes {ref.shape} and {v.shape} for "
                             f"'{scope[:-1]}' (op: '{op_type}') are not compatible.")
        shape = ref.shape.merge_with(v.shape) if validate_shape else v.shape
        attrs = {"T": ref.dtype, "use_locking": True}
        if op_type == "Assign":
            attrs["validate_shape"] = bool(validate_shape)
        return make_tensor(op_type, [ref, v], ref.dtype, shape, attrs, name=scope)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    return _assign_op("Assign", "Assign", ref, value,
                      True if validate_shape is None else validate_shape, name)


def assign_add(ref, value, use_locking=None, name=None):
    return _assign_op("AssignAdd", "AssignAdd", ref, value, True, name)


def assign_sub(ref, value, use_locking=None, name=None):
    return _assign_op("AssignSub", "AssignSub", ref, value, True, name)


@lowering("Assign", "AssignAdd", "AssignSub")
def _lower_assign(ctx, op, inputs):
    var_op = op.inputs[0].op
    new = inputs[1]
    if op.type != "Assign":
        old = ctx.read_variable(var_op)
        if old.shape != new.shape:
            ctx.fail(f"{op.type}: the update's shape {list(new.shape)} doesn't match the "
                     f"variable's shape {list(old.shape)}")
        new = ctx.b.emit("add" if op.type == "AssignAdd" else "sub", [old, new])
    ctx.write_variable(var_op, new, validate=op.attrs.get("validate_shape", True))
    return [new]


# ---- collections and initializers

def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    from .ops.control_flow import group, no_op
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer():
    return variables_initializer(global_variables(), name="init")


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


def initialize_all_variables():
    return global_variables_initializer()


def initialize_variables(var_list, name="init"):
    return variables_initializer(var_list, name)


def initialize_local_variables():
    return local_variables_initializer()


def is_variable_initialized(variable, name=None):
    return make_tensor("IsVariableInitialized", [_ref_of(variable)], _dt.bool, [],
                       {"dtype": variable.dtype}, name=name, default_name="IsVariableInitialized")


@lowering("IsVariableInitialized")
def _lower_is_initialized(ctx, op, inputs):
    # A session's compiled plans are keyed by the set of initialized variables,
    # so whether this one is stored is known when the plan is compiled.
    var_op = op.inputs[0].op
    known = var_op in ctx.var_current or var_op in ctx.frozen or \
        ctx.var_shapes.get(var_op) is not None
    return [ctx.b.constant(np.array(known))]


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """tf.report_uninitialized_variables (built in tfcompile/app_graph.py)."""
    from .app_graph import report_uninitialized_variables as report
    return report(var_list, name=name)


def assert_variables_initialized(var_list=None):
    """tf.assert_variables_initialized (built in tfcompile/app_graph.py)."""
    from .app_graph import assert_variables_initialized as check
    return check(var_list)


_ = np
