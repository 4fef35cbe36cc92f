"""tf.train.ExponentialMovingAverage and assign_moving_average (TF 1.15): shadow
variables `<var>/ExponentialMovingAverage` updated by
`shadow -= (shadow - var) * (1 - decay)`, under TF's op names."""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import GraphKeys, get_default_graph, name_scope
from ..ops import math_ops
from ..ops.constant_op import convert_to_tensor
from ..variables import Variable, assign_sub
from .optimizer import _create_slot


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """variable -= (variable - value) * (1 - decay). With zero_debias the average
    is kept in `<variable>/biased` and divided by 1 - decay ** steps (counted in
    `<variable>/local_step`), so an average started at zero isn't biased to it."""
    with name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        decay = convert_to_tensor(1.0 - decay, name="decay")
        if decay.dtype != variable.dtype:
            decay = math_ops.cast(decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, value, decay)
        return assign_sub(variable, (variable - value) * decay, name=scope)


def _zero_debias(unbiased, value, decay):
    from .. import init_ops
    from ..variable_scope import get_variable, variable_scope
    from ..variables import assign
    with variable_scope(unbiased.op.name, values=[unbiased, value, decay]):
        biased = get_variable("biased", initializer=init_ops.zeros_initializer(),
                              shape=unbiased.shape, dtype=unbiased.dtype.base_dtype,
                              trainable=False)
        local_step = get_variable("local_step", shape=[], dtype=unbiased.dtype.base_dtype,
                                  initializer=init_ops.zeros_initializer(), trainable=False)
    update_biased = assign_sub(biased, (biased - value) * decay)
    update_local_step = local_step.assign_add(1)
    bias_factor = 1 - math_ops.pow(1.0 - decay, update_local_step)
    return assign(unbiased, update_biased / bias_factor,
                  name=get_default_graph().get_name_scope() + "/")


class ExponentialMovingAverage:
    """Keeps moving averages of variables: `apply(var_list)` makes the shadow
    variables (initialized to the variables' initial values) and returns the op
    that updates them; `average(var)` gives a shadow variable."""

    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages = {}

    @property
    def name(self):
        return self._name

    def apply(self, var_list=None):
        from ..ops.control_flow import group
        from ..variables import trainable_variables
        if var_list is None:
            var_list = trainable_variables()
        for var in var_list:
            if var.dtype.base_dtype not in (_dt.float16, _dt.float32, _dt.float64):
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if id(var) in self._averages:
                continue
            if not isinstance(var, Variable):
                raise NotImplementedError("ExponentialMovingAverage.apply of a tensor (not a "
                                          "Variable) is not supported")
            init = var.initialized_value()
            self._averages[id(var)] = (var, _create_slot(var, lambda init=init: init,
                                                         self._name, var.dtype.base_dtype))
            get_default_graph().add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
        with name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                num_updates = math_ops.cast(self._num_updates, _dt.float32, name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = [assign_moving_average(self._averages[id(var)][1], var, decay,
                                             zero_debias=False) for var in var_list]
            return group(*updates, name=scope)

    def average(self, var):
        entry = self._averages.get(id(var))
        return None if entry is None else entry[1]

    def average_name(self, var):
        entry = self._averages.get(id(var))
        if entry is not None:
            return entry[1].op.name
        return get_default_graph().unique_name(var.op.name + "/" + self._name,
                                               mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None):
        """{checkpoint name: variable}: each averaged variable restored from its
        average; the other global variables from their own names."""
        from ..variables import global_variables
        g = get_default_graph()
        if moving_avg_variables is None:
            moving_avg_variables = g.get_collection(GraphKeys.TRAINABLE_VARIABLES) + \
                g.get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES)
        name_map = {}
        for v in moving_avg_variables:
            name_map[self.average_name(v)] = v
        averaged = {v.name for v in moving_avg_variables}
        for v in global_variables():
            if v.name not in averaged and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
