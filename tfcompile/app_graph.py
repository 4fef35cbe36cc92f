"""Graph-building plumbing of TF 1.x programs: tf.identity_n, tf.tables_initializer,
tf.make_template (Template), tf.report_uninitialized_variables and
tf.assert_variables_initialized.

Variable names are strings, which compiled code doesn't carry: the last two
are host ops (session.HOST_OPS) whose compiled input is the vector of
IsVariableInitialized flags and whose Python step turns it into names (or an
error)."""
from __future__ import annotations

import functools

import numpy as np

from . import dtypes as _dt
from .errors import FailedPreconditionError
from .graph import GraphKeys, get_collection, name_scope
from .ops.op_util import make_op, make_tensor
from .ops.registry import RegisterGradient, lowering
from .tensor_shape import TensorShape

# ---------------------------------------------------------------- identity_n

def identity_n(input, name=None):
    """One IdentityN op whose outputs are its inputs (a list of tensors)."""
    from .ops.constant_op import convert_to_tensor
    with name_scope(name, "IdentityN", input) as scope:
        ts = [convert_to_tensor(t) for t in input]
        op = make_op("IdentityN", ts, {"T": [t.dtype for t in ts]},
                     [(t.dtype, t.shape) for t in ts], name=scope)
        return list(op.outputs)


@lowering("IdentityN")
def _lower_identity_n(ctx, op, inputs):
    return list(inputs)


@RegisterGradient("IdentityN")
def _identity_n_grad(op, *grads):
    return list(grads)


# ---------------------------------------------------------------- tables

def tables_initializer(name="init_all_tables"):
    """Groups the table initializers; a no_op named `name` when there are none."""
    from .ops.control_flow import group, no_op
    inits = get_collection(GraphKeys.TABLE_INITIALIZERS)
    return group(*inits, name=name) if inits else no_op(name=name)


# ---------------------------------------------------------------- templates

class Template:
    """A function whose variables are created on the first call and reused by
    the later ones (tf.make_template), all under one variable scope."""

    def __init__(self, name, func, create_scope_now=False, unique_name=None,
                 custom_getter=None):
        from .variable_scope import _get_unique_variable_scope, _pure_variable_scope
        if name is None:
            raise ValueError("name cannot be None.")
        self._func = func
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._variable_scope = None
        self._variables_created = False
        if create_scope_now:
            with _pure_variable_scope(unique_name or _get_unique_variable_scope(name),
                                      custom_getter=custom_getter) as vs:
                self._variable_scope = vs

    def _call_func(self, args, kwargs):
        trainable_at_start = len(get_collection(GraphKeys.TRAINABLE_VARIABLES))
        result = self._func(*args, **kwargs)
        if self._variables_created:
            trainable = get_collection(GraphKeys.TRAINABLE_VARIABLES)
            if len(trainable) != trainable_at_start:
                raise ValueError("Trainable variable created when calling a template after "
                                 "the first time, perhaps you used tf.Variable when you "
                                 f"meant tf.get_variable: {trainable[trainable_at_start:]}")
        self._variables_created = True
        return result

    def __call__(self, *args, **kwargs):
        from .variable_scope import variable_scope
        if self._variable_scope is not None:
            with variable_scope(self._variable_scope, reuse=self._variables_created or None):
                return self._call_func(args, kwargs)
        with variable_scope(self._unique_name, self._name,
                            custom_getter=self._custom_getter) as vs:
            self._variable_scope = vs
            return self._call_func(args, kwargs)

    @property
    def name(self):
        return self._name

    @property
    def func(self):
        return self._func

    @property
    def variable_scope(self):
        return self._variable_scope

    @property
    def variable_scope_name(self):
        if self._variable_scope is None:
            return None
        name = self._variable_scope.name
        return name + "/" if name else name

    def _vars(self, key):
        if self._variable_scope is None:
            return []
        # re.escape: the scope name is matched as a regex prefix
        import re
        return get_collection(key, re.escape(self.variable_scope_name))

    @property
    def trainable_variables(self):
        return self._vars(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def global_variables(self):
        return self._vars(GraphKeys.GLOBAL_VARIABLES)

    @property
    def local_variables(self):
        return self._vars(GraphKeys.LOCAL_VARIABLES)

    @property
    def variables(self):
        return self.global_variables + self.local_variables

    @property
    def non_trainable_variables(self):
        trainable = set(map(id, self.trainable_variables))
        return [v for v in self.global_variables if id(v) not in trainable]


def make_template(name_, func_, create_scope_now_=False, unique_name_=None,
                  custom_getter_=None, **kwargs):
    """tf.make_template: wraps func_ (with kwargs bound) into a Template."""
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_,
                    unique_name=unique_name_, custom_getter=custom_getter_)


# ---------------------------------------------------------------- initialization reports

def _default_var_list(var_list):
    from .variables import global_variables, local_variables
    return list(global_variables() + local_variables()) if var_list is None else list(var_list)


def _init_flags(var_list):
    """A bool vector: is each variable initialized (compiled: known per plan)."""
    from .ops.stack_ops import stack
    from .variables import is_variable_initialized
    return stack([is_variable_initialized(v) for v in var_list])


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor: the names (bytes) of the variables of var_list (all
    global and local ones by default) that aren't initialized."""
    var_list = _default_var_list(var_list)
    with name_scope(name):
        names = [v.op.name for v in var_list]
        inputs = [_init_flags(var_list)] if var_list else []
        with name_scope("boolean_mask"):
            return make_tensor("ReportUninitializedVariables", inputs, _dt.string,
                               TensorShape([None] if var_list else [0]),
                               {"names": names}, name="GatherV2")


def _report_value(op, ins):
    flags = ins[0] if ins else np.zeros(0, bool)
    return np.array([n.encode() for n, ok in zip(op.attrs["names"], flags) if not ok],
                    dtype=object)


def assert_variables_initialized(var_list=None):
    """None when there are no variables; else a tensor of their ranks whose run
    raises FailedPreconditionError naming the first uninitialized one."""
    var_list = _default_var_list(var_list)
    if not var_list:
        return None
    ranks = [v.shape.ndims for v in var_list]
    if any(r is None for r in ranks):
        raise ValueError("assert_variables_initialized: every variable needs a known rank")
    shape = TensorShape([]) if len(var_list) == 1 else TensorShape([len(var_list)])
    with name_scope("assert_variables_initialized"):
        flags = _init_flags(var_list)
    return make_tensor("AssertVariablesInitialized", [flags], _dt.int32,
                       shape, {"names": [v.op.name for v in var_list], "ranks": ranks},
                       default_name="stack" if len(var_list) > 1 else "Rank")


def _assert_value(op, ins):
    for n, ok in zip(op.attrs["names"], ins[0]):
        if not ok:
            raise FailedPreconditionError(None, op, f"Attempting to use uninitialized value {n}")
    ranks = np.array(op.attrs["ranks"], np.int32)
    return ranks[0] if len(ranks) == 1 else ranks


HOST_FNS = {"ReportUninitializedVariables": _report_value,
            "AssertVariablesInitialized": _assert_value}
