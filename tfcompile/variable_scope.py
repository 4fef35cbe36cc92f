"""tf.variable_scope and tf.get_variable with TF 1.15's sharing and naming rules.

Each graph holds one store (`graph._variable_scope_store`): the variables made
by get_variable keyed by full name, the current VariableScope, and how often
each scope name was opened (for `default_name` uniquification).

The rules, as TF 1.x:
  - get_variable names follow the variable scope only, never the name scope;
  - `variable_scope("foo")` opens name scope `foo/` (or `foo_1/` when `foo` is
    taken) but its variable scope is always `foo`, so a second get_variable of
    `foo/v` without reuse raises ValueError;
  - `variable_scope(None, default_name="d")` picks a fresh scope `d`, `d_1`, ...;
  - reuse is inherited by sub-scopes; True requires existing variables,
    AUTO_REUSE creates or returns; re-entering a VariableScope object restores
    its name and settings but opens a new name scope.
"""
from __future__ import annotations

import enum
import functools
import traceback

from . import dtypes as _dt
from .graph import GraphKeys, Tensor, _graph_of, get_default_graph
from .tensor_shape import as_shape
from .variables import Variable


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class _VariableScopeStore:
    """Per-graph state: variables by full name, the current scope, scope counts."""

    def __init__(self):
        self.vars = {}
        self.created_at = {}
        self.current_scope = VariableScope(False)
        self.scope_counts = {}

    def open_variable_scope(self, name):
        self.scope_counts[name] = self.scope_counts.get(name, 0) + 1

    def close_variable_subscopes(self, name):
        for k in list(self.scope_counts):
            if name is None or k.startswith(name + "/"):
                self.scope_counts[k] = 0

    def variable_scope_count(self, name):
        return self.scope_counts.get(name, 0)

    # ---- the variable store
    def get_variable(self, name, shape=None, dtype=_dt.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=None, aggregation=None):
        if custom_getter is not None:
            if not callable(custom_getter):
                raise ValueError(f"Passed a custom_getter which is not callable: "
                                 f"{custom_getter}")
            return custom_getter(
                getter=self._true_getter, name=name, shape=shape, dtype=dtype,
                initializer=initializer, regularizer=regularizer, reuse=reuse,
                trainable=trainable, collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, constraint=constraint,
                synchronization=synchronization, aggregation=aggregation)
        return self._true_getter(name, shape, dtype, initializer, regularizer, reuse,
                                 trainable, collections, caching_device, partitioner,
                                 validate_shape, use_resource, constraint)

    def _true_getter(self, name, shape=None, dtype=_dt.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, constraint=None, **unused):
        if partitioner is not None:
            raise NotImplementedError(f"get_variable({name!r}): partitioned variables "
                                      "are not supported")
        return self._get_single_variable(name, shape, dtype, initializer, regularizer,
                                         reuse, trainable, collections, validate_shape,
                                         constraint)

    def _get_single_variable(self, name, shape, dtype, initializer, regularizer, reuse,
                             trainable, collections, validate_shape, constraint):
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = _dt.as_dtype(dtype if dtype is not None else _dt.float32)
        shape = as_shape(shape)
        if name in self.vars:
            if reuse is False or reuse is None:
                raise ValueError(
                    f"Variable {name} already exists, disallowed. Did you mean to set "
                    "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined "
                    f"at:\n\n{self.created_at.get(name, '')}")
            found = self.vars[name]
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to share variable {name}, but specified shape "
                                 f"{shape} and found shape {found.get_shape()}.")
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError(f"Trying to share variable {name}, but specified dtype "
                                 f"{dtype.name} and found dtype {found.dtype.name}.")
            return found
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE "
                             "in VarScope?")
        if initializer is None:
            initializer = _default_initializer(name, dtype)
        if from_value:
            init_val, var_dtype = initializer, None
        else:
            if isinstance(initializer, type):
                initializer = initializer()
            if shape.is_fully_defined():
                dims = shape.as_list()
                init = initializer

                def init_val():
                    return init(dims, dtype=dtype, partition_info=None)
                var_dtype = dtype
            elif _takes_no_arguments(initializer):
                init_val, var_dtype = initializer, None
            else:
                raise ValueError("The initializer passed is not valid. It should be a "
                                 "callable with no arguments and the shape should not be "
                                 "provided or an instance of `tf.keras.initializers.*' "
                                 "and `shape` should be fully defined.")
        g = get_default_graph()
        # Like TF's init_scope: the variable and its initializer don't pick up the
        # control dependencies of the code that first asks for it.
        with g.control_dependencies(None):
            v = Variable(initial_value=init_val, name=name,
                         trainable=True if trainable is None else trainable,
                         collections=collections, dtype=var_dtype,
                         validate_shape=validate_shape, constraint=constraint)
        self.vars[name] = v
        self.created_at[name] = _user_stack()
        if regularizer:
            with g.control_dependencies(None), g.name_scope(name + "/Regularizer/"):
                loss = regularizer(v)
            if loss is not None:
                g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _default_initializer(name, dtype):
    from . import init_ops
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_bool:
        return init_ops.zeros_initializer()
    raise ValueError(f"An initializer for variable {name} of {dtype} is required")


def _takes_no_arguments(fn):
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in sig.parameters.values())


def _user_stack():
    """The caller's frames outside this package, for 'Originally defined at'."""
    import os
    pkg = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in traceback.extract_stack()[:-2]
              if not os.path.abspath(f.filename).startswith(pkg)]
    return "".join(traceback.format_list(frames[-5:]))


def _get_store(graph=None):
    g = graph if graph is not None else get_default_graph()
    if g._variable_scope_store is None:
        g._variable_scope_store = _VariableScopeStore()
    return g._variable_scope_store


class VariableScope:
    """A variable scope: its name, reuse mode and defaults for get_variable."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, name_scope="",
                 dtype=_dt.float32, use_resource=None, constraint=None):
        self._name = name
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = _dt.as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    @property
    def name(self):
        return self._name

    @property
    def original_name_scope(self):
        return self._name_scope

    @property
    def reuse(self):
        return self._reuse

    @property
    def initializer(self):
        return self._initializer

    @property
    def dtype(self):
        return self._dtype

    @property
    def use_resource(self):
        return self._use_resource

    @property
    def regularizer(self):
        return self._regularizer

    @property
    def caching_device(self):
        return self._caching_device

    @property
    def partitioner(self):
        return self._partitioner

    @property
    def custom_getter(self):
        return self._custom_getter

    @property
    def constraint(self):
        return self._constraint

    def reuse_variables(self):
        """Reuse variables in this scope from now on."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = _dt.as_dtype(dtype)

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def get_collection(self, name):
        scope = self._name + "/" if self._name else ""
        return get_default_graph().get_collection(name, scope)

    def trainable_variables(self):
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=None, aggregation=None):
        if regularizer is None:
            regularizer = self._regularizer
        if caching_device is None:
            caching_device = self._caching_device
        if partitioner is None:
            partitioner = self._partitioner
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        full_name = self.name + "/" + name if self.name else name
        if dtype is not None and initializer is not None and not callable(initializer):
            init_dtype = _value_dtype(initializer)
            if init_dtype != _dt.as_dtype(dtype):
                raise ValueError(f"Initializer type '{init_dtype}' and explicit dtype "
                                 f"'{_dt.as_dtype(dtype)}' don't match.")
        if initializer is None:
            initializer = self._initializer
        if constraint is None:
            constraint = self._constraint
        if dtype is None:
            dtype = self._dtype
        # Variable names depend on the variable scope only: leave the name scope.
        g = get_default_graph()
        with g.name_scope(None):
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter,
                constraint=constraint, synchronization=synchronization,
                aggregation=aggregation)

    def __repr__(self):
        return f"<VariableScope name={self._name!r} reuse={self._reuse!r}>"


def _value_dtype(value):
    if isinstance(value, Tensor):
        return value.dtype
    if isinstance(value, Variable):
        return value.dtype
    from .ops.constant_op import to_numpy
    return _dt.as_dtype(to_numpy(value).dtype)


def get_variable_scope():
    """The current VariableScope of the default graph."""
    return _get_store().current_scope


def get_variable_scope_store():
    return _get_store()


def _wrap_custom_getter(custom_getter, old_getter):
    """Nested scopes' custom getters compose: the inner one wraps the outer."""
    if old_getter is None:
        return custom_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(functools.partial(old_getter, getter), *args, **kwargs)
    return wrapped


class _pure_variable_scope:  # noqa: N801 - TF's name
    """Sets the current VariableScope (no name scope)."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 old_name_scope=None, dtype=None, use_resource=None, constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._overrides = dict(initializer=initializer, regularizer=regularizer,
                               caching_device=caching_device, partitioner=partitioner,
                               dtype=dtype, use_resource=use_resource)
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._constraint = constraint
        self._store = _get_store()

    def __enter__(self):
        store = self._store
        self._old = old = store.current_scope
        src = self._name_or_scope
        if isinstance(src, VariableScope):
            self._new_name = src.name
            store.open_variable_scope(self._new_name)
            self._old_counts = dict(store.scope_counts)
            obj = VariableScope(
                src.reuse if not self._reuse else self._reuse, name=self._new_name,
                initializer=src.initializer, regularizer=src.regularizer,
                caching_device=src.caching_device, partitioner=src.partitioner,
                custom_getter=src.custom_getter, name_scope=src.original_name_scope,
                dtype=src.dtype, use_resource=src.use_resource, constraint=self._constraint)
            outer_getter = src.custom_getter
        else:
            self._new_name = old.name + "/" + src if old.name else src
            reuse = self._reuse or old.reuse
            name_scope = self._old_name_scope if self._old_name_scope is not None else src
            obj = VariableScope(
                reuse, name=self._new_name, initializer=old.initializer,
                regularizer=old.regularizer, caching_device=old.caching_device,
                partitioner=old.partitioner, custom_getter=old.custom_getter,
                name_scope=name_scope, dtype=old.dtype, use_resource=old.use_resource,
                constraint=self._constraint)
            outer_getter = old.custom_getter
            store.open_variable_scope(self._new_name)
        o = self._overrides
        if o["initializer"] is not None:
            obj.set_initializer(o["initializer"])
        if o["regularizer"] is not None:
            obj.set_regularizer(o["regularizer"])
        if o["caching_device"] is not None:
            obj.set_caching_device(o["caching_device"])
        if o["partitioner"] is not None:
            obj.set_partitioner(o["partitioner"])
        if o["dtype"] is not None:
            obj.set_dtype(o["dtype"])
        if o["use_resource"] is not None:
            obj.set_use_resource(o["use_resource"])
        if self._custom_getter is not None:
            obj.set_custom_getter(_wrap_custom_getter(self._custom_getter, outer_getter))
        store.current_scope = obj
        return obj

    def __exit__(self, *exc):
        store = self._store
        if isinstance(self._name_or_scope, VariableScope):
            store.scope_counts = self._old_counts
        else:
            store.close_variable_subscopes(self._new_name)
        store.current_scope = self._old
        return False


def _get_unique_variable_scope(prefix):
    """`prefix`, or `prefix_1`, `prefix_2`, ... unused in the current variable scope."""
    store = _get_store()
    current = store.current_scope
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count(f"{name}_{idx}") > 0:
        idx += 1
    return f"{prefix}_{idx}"


class variable_scope:  # noqa: N801 - TF's name
    """tf.variable_scope(name_or_scope, default_name=None, values=None,
    initializer=None, regularizer=None, caching_device=None, partitioner=None,
    custom_getter=None, reuse=None, dtype=None, use_resource=None, constraint=None,
    auxiliary_name_scope=True): a context manager that opens a variable scope and
    its name scope."""

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None,
                 custom_getter=None, reuse=None, dtype=None, use_resource=None,
                 constraint=None, auxiliary_name_scope=True):
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if name_or_scope is not None and not isinstance(name_or_scope, (VariableScope, str)):
            raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
        if reuse is False:  # False means "inherit", like None
            reuse = None
        if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("The auxiliary_name_scope must be `True` or `False`, while get "
                            f"{auxiliary_name_scope}")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = list(values) if values is not None else []
        self._kwargs = dict(initializer=initializer, regularizer=regularizer,
                            caching_device=caching_device, partitioner=partitioner,
                            custom_getter=custom_getter, dtype=dtype,
                            use_resource=use_resource, constraint=constraint)
        self._reuse = reuse
        self._auxiliary_name_scope = auxiliary_name_scope
        self._entered = []

    def __enter__(self):
        if self._entered:
            raise RuntimeError("variable_scope objects can't be entered twice; create a "
                               "new one (tf.variable_scope(scope))")
        g = _graph_of(self._values) or get_default_graph()
        graph_cm = g.as_default()
        graph_cm.__enter__()
        self._entered.append(graph_cm)
        try:
            return self._enter_scopes(g)
        except BaseException:
            self._exit_all(None, None, None)
            raise

    def _open(self, cm):
        value = cm.__enter__()
        self._entered.append(cm)
        return value

    def _enter_scopes(self, g):
        ns_cm = None
        if not self._auxiliary_name_scope:
            cur = g.get_name_scope()
            ns_cm = g.name_scope(cur + "/" if cur else "")
        src = self._name_or_scope
        if src is not None:
            ns_name = src if isinstance(src, str) else src.name.split("/")[-1]
            if ns_name or ns_cm is not None:
                entered_ns = self._open(ns_cm or g.name_scope(ns_name))
                old_ns = entered_ns if isinstance(src, str) else src.original_name_scope
                pure = _pure_variable_scope(src, reuse=self._reuse, old_name_scope=old_ns,
                                            **self._kwargs)
            else:  # entering the root scope
                pure = _pure_variable_scope(src, reuse=self._reuse, **self._kwargs)
            return self._open(pure)
        if self._reuse:
            raise ValueError("reuse=True cannot be used without a name_or_scope")
        entered_ns = self._open(ns_cm or g.name_scope(self._default_name))
        unique = _get_unique_variable_scope(self._default_name)
        pure = _pure_variable_scope(unique, old_name_scope=entered_ns, **self._kwargs)
        return self._open(pure)

    def _exit_all(self, *exc):
        while self._entered:
            self._entered.pop().__exit__(*exc)

    def __exit__(self, *exc):
        self._exit_all(*exc)
        return False


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """Gets an existing variable with these parameters or creates a new one; the
    name is the current variable scope's name plus `name`."""
    return get_variable_scope().get_variable(
        _get_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner,
        validate_shape=validate_shape, use_resource=use_resource,
        custom_getter=custom_getter, constraint=constraint,
        synchronization=synchronization, aggregation=aggregation)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None,
                       partitioner=None, validate_shape=True, use_resource=None,
                       custom_getter=None, constraint=None, synchronization=None,
                       aggregation=None):
    """get_variable in the LOCAL_VARIABLES collection, never trainable."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=False, collections=collections,
                        caching_device=caching_device, partitioner=partitioner,
                        validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint,
                        synchronization=synchronization, aggregation=aggregation)


def no_regularizer(_):
    """A regularizer that adds no loss (TF's tf.no_regularizer)."""
    return None

