"""The RNNCell protocol of tf.nn.rnn_cell (TF 1.15): the RNNCell and
LayerRNNCell bases, LSTMStateTuple, zero states, and the dtype checks the
cells share.

A cell is a tf.layers Layer: on its first call it picks a variable scope in
the current one (its snake-cased class name, uniquified: `basic_lstm_cell`,
`basic_lstm_cell_1`, ..., or the `scope` argument) and builds its weights
there; later calls reuse them."""
from __future__ import annotations

import collections
import contextlib
import contextvars
import re

from .. import dtypes as _dt
from ..graph import Tensor, name_scope
from ..layers import Layer, _unique_layer_name
from ..ops import array_ops, math_ops
from ..ops.constant_op import constant, convert_to_tensor
from ..ops.op_util import constant_value
from ..tensor_shape import TensorShape, as_shape
from ..variable_scope import variable_scope
from ..variables import Variable
from . import nest


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """(c, h): an LSTM's cell state and output."""
    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


# The step of dynamic_rnn's unrolled loop being built (0 outside one). TF runs
# one loop body T times, so a seeded random op in it draws fresh values each
# step; unrolled, each step has an op of its own, and DropoutWrapper salts its
# seeds with the step so that its masks still differ from step to step.
unrolled_step = contextvars.ContextVar("unrolled_step", default=0)


def _to_snake_case(name):
    """TF's layer names: BasicLSTMCell -> basic_lstm_cell, GRUCell -> gru_cell."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _check_supported_dtypes(dtype):
    if dtype is None:
        return
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"RNN cell only supports floating point inputs, but saw dtype: "
                         f"{dtype.name}")


def _check_rnn_cell_input_dtypes(values):
    for t in nest.flatten(values):
        if isinstance(t, (Tensor, Variable)):
            _check_supported_dtypes(t.dtype)


def _concat(prefix, suffix, static=False):
    """prefix (batch size: int or scalar tensor) + suffix (a size: int or shape)
    as an int32 shape tensor, or with static=True as a list (None if unknown)."""
    s = as_shape(suffix)
    if s.ndims is None:
        raise ValueError(f"state or output size must have a known rank, got {suffix}")
    if isinstance(prefix, Tensor):
        p_static = constant_value(prefix)
        p_static = None if p_static is None else [int(v) for v in
                                                   (p_static.reshape(-1))]
        if static:
            return (p_static or [None] * max(prefix.shape.ndims or 1, 1)) + s.as_list()
        p = prefix
        if p.shape.ndims == 0:
            p = array_ops.expand_dims(p, 0)
        elif p.shape.ndims != 1:
            raise ValueError(f"prefix tensor must be either a scalar or vector, but saw "
                             f"tensor: {p}")
        if not s.is_fully_defined():
            raise ValueError(f"Provided a prefix or suffix of None: {prefix} and {suffix}")
        return array_ops.concat([math_ops.cast(p, _dt.int32),
                                 constant(s.as_list(), dtype=_dt.int32)], 0)
    p = as_shape(prefix)
    if static:
        return (p.as_list() if p.ndims is not None else [None]) + s.as_list()
    if not (p.is_fully_defined() and s.is_fully_defined()):
        raise ValueError(f"Provided a prefix or suffix of None: {prefix} and {suffix}")
    return p.as_list() + s.as_list()


def _zero_state_tensors(state_size, batch_size, dtype):
    """Zeros of [batch_size] + size for each size in the structure state_size."""
    def zeros_for(s):
        z = array_ops.zeros(_concat(batch_size, s), dtype=dtype)
        z.set_shape(TensorShape(_concat(batch_size, s, static=True)))
        return z
    return nest.map_structure(zeros_for, state_size)


def assert_like_rnncell(cell_name, cell):
    """TypeError unless `cell` has what the RNN functions use of a cell."""
    conditions = [hasattr(cell, "output_size"), hasattr(cell, "state_size"),
                  hasattr(cell, "get_initial_state") or hasattr(cell, "zero_state"),
                  callable(cell)]
    errors = ["'output_size' property is missing", "'state_size' property is missing",
              "either 'zero_state' or 'get_initial_state' method is required",
              "is not callable"]
    bad = [e for ok, e in zip(conditions, errors) if not ok]
    if bad:
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: "
                        + ", ".join(bad) + ".")


class RNNCell(Layer):
    """Abstract RNN cell: `output, new_state = cell(inputs, state)`, with
    `state_size`, `output_size` and `zero_state(batch_size, dtype)`.
    Subclasses define `call(inputs, state)` (and `build(input_shape)` to make
    weights with `add_variable`)."""

    _tracks_get_variable = True   # LayerRNNCell's weights come from add_variable only

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        if not name:  # TF's snake case of the class name, uniquified per graph
            self._base_name = _to_snake_case(type(self).__name__)
            self._name = _unique_layer_name(self._base_name)

    @property
    def state_size(self):
        """An int, a TensorShape, or a (nested) tuple of them: the state's size."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        raise NotImplementedError("Abstract method")

    def build(self, inputs_shape):
        self.built = True

    def call(self, inputs, state):
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs, state)")

    def add_variable(self, name, shape, dtype=None, initializer=None, regularizer=None,
                     trainable=True, constraint=None, partitioner=None):
        if partitioner is not None:
            raise NotImplementedError(f"{self.name}: partitioned variables are not "
                                      "supported (num_unit_shards / num_proj_shards)")
        return self.add_weight(name, shape, dtype=dtype, initializer=initializer,
                               regularizer=regularizer, trainable=trainable,
                               constraint=constraint)

    def _rnn_get_variable(self, getter, *args, **kwargs):
        """Custom getter of a cell's scope: variables a cell's call() gets with
        tf.get_variable join its weights."""
        v = getter(*args, **kwargs)
        mine = self._trainable_weights if v.trainable else self._non_trainable_weights
        if all(v is not w for w in mine):
            mine.append(v)
        return v

    def __call__(self, inputs, state, scope=None, *args, **kwargs):
        """Runs the cell in its variable scope (chosen on the first call), building
        its weights the first time and reusing them after."""
        self._set_scope(scope)
        inputs = nest.map_structure(
            lambda x: x if isinstance(x, Tensor) else convert_to_tensor(x), inputs)
        flat = nest.flatten(inputs)
        if self._dtype is None and flat:
            self._dtype = flat[0].dtype
        g = flat[0].graph if flat else None
        getter = self._rnn_get_variable if self._tracks_get_variable else None
        with (g.as_default() if g is not None else contextlib.nullcontext()), variable_scope(
                self._scope, reuse=(self.built or self._reuse) or None,
                auxiliary_name_scope=False, custom_getter=getter) as vs:
            self._current_scope = vs
            with name_scope(vs.original_name_scope):
                if not self.built:
                    self.build(nest.map_structure(lambda x: x.shape, inputs))
                    self.built = True
                return self.call(inputs, state, *args, **kwargs)

    def zero_state(self, batch_size, dtype):
        """Zeros of shape [batch_size] + size for each state size (a structure
        like state_size's)."""
        with name_scope(type(self).__name__ + "ZeroState", values=_tensors([batch_size])):
            return _zero_state_tensors(self.state_size, batch_size, dtype)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            inputs = convert_to_tensor(inputs, name="inputs")
            if batch_size is not None:
                static = (constant_value(batch_size) if isinstance(batch_size, Tensor)
                          else batch_size)
                if inputs.shape.as_list()[0] != (None if static is None else int(static)):
                    raise ValueError(
                        "batch size from input tensor is different from the input param. "
                        f"Input tensor batch: {inputs.shape.as_list()[0]}, batch_size: "
                        f"{batch_size}")
            if dtype is not None and inputs.dtype != _dt.as_dtype(dtype):
                raise ValueError("dtype from input tensor is different from the input "
                                 f"param. Input tensor dtype: {inputs.dtype}, dtype: {dtype}")
            batch_size = inputs.shape.as_list()[0] or array_ops.shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing "
                             f"initial state: batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)


class LayerRNNCell(RNNCell):
    """An RNNCell whose weights are made in build() with add_variable."""
    _tracks_get_variable = False


def _tensors(values):
    return [v for v in values if isinstance(v, Tensor)]


