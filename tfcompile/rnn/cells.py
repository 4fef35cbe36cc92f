"""The cells of tf.nn.rnn_cell (TF 1.15): BasicRNNCell, BasicLSTMCell,
LSTMCell, GRUCell and MultiRNNCell, with TF's variable names, shapes, gate
orders and defaults (the RNNCell protocol is in base.py, wrappers in
wrappers.py). So `tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), x,
dtype=tf.float32)` makes `rnn/basic_lstm_cell/kernel` [depth + 4, 16] and
`.../bias` [16]."""
from __future__ import annotations

import numbers

from .. import init_ops
from ..graph import name_scope
from ..layers import _activation
from ..nn_ops import bias_add
from ..ops import array_ops, math_ops
from ..ops.clip_ops import clip_by_value
from ..ops.constant_op import constant
from ..ops.manip_ops import split
from ..tensor_shape import as_shape
from ..variable_scope import variable_scope
from . import nest
from .base import (
    LayerRNNCell,
    LSTMStateTuple,
    RNNCell,
    _check_rnn_cell_input_dtypes,
    _check_supported_dtypes,
    _tensors,
    _zero_state_tensors,
    assert_like_rnncell,
)

_WEIGHTS = "kernel"
_BIAS = "bias"


def _input_depth(cell, inputs_shape):
    shape = as_shape(inputs_shape)
    if shape.ndims is None or shape.as_list()[-1] is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {shape}")
    return shape.as_list()[-1]


def _num_units(cell, num_units):
    if not isinstance(num_units, numbers.Integral) or num_units <= 0:
        raise ValueError(f"{type(cell).__name__}: num_units must be a positive integer, "
                         f"got {num_units!r}")
    return int(num_units)


class BasicRNNCell(LayerRNNCell):
    """output = new_state = activation([inputs, state] @ kernel + bias)."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None,
                 **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = _num_units(self, num_units)
        self._activation = _activation(activation) if activation else math_ops.tanh

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        self._kernel = self.add_variable(_WEIGHTS, [depth + self._num_units,
                                                    self._num_units])
        self._bias = self.add_variable(_BIAS, [self._num_units],
                                       initializer=init_ops.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1), self._kernel)
        output = self._activation(bias_add(gate_inputs, self._bias))
        return output, output


class GRUCell(LayerRNNCell):
    """Gated recurrent unit (Cho et al. 2014): r, u = sigmoid(gates), candidate
    c = activation([inputs, r * state] @ W + b), new h = u * state + (1 - u) * c.
    The gates' bias starts at 1."""

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = _num_units(self, num_units)
        self._activation = _activation(activation) if activation else math_ops.tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        n = self._num_units
        self._gate_kernel = self.add_variable(
            f"gates/{_WEIGHTS}", [depth + n, 2 * n], initializer=self._kernel_initializer)
        self._gate_bias = self.add_variable(
            f"gates/{_BIAS}", [2 * n], initializer=(
                self._bias_initializer if self._bias_initializer is not None
                else init_ops.constant_initializer(1.0)))
        self._candidate_kernel = self.add_variable(
            f"candidate/{_WEIGHTS}", [depth + n, n], initializer=self._kernel_initializer)
        self._candidate_bias = self.add_variable(
            f"candidate/{_BIAS}", [n], initializer=(
                self._bias_initializer if self._bias_initializer is not None
                else init_ops.zeros_initializer()))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1),
                                      self._gate_kernel)
        value = math_ops.sigmoid(bias_add(gate_inputs, self._gate_bias))
        r, u = split(value=value, num_or_size_splits=2, axis=1)
        candidate = math_ops.matmul(array_ops.concat([inputs, r * state], 1),
                                    self._candidate_kernel)
        c = self._activation(bias_add(candidate, self._candidate_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class BasicLSTMCell(LayerRNNCell):
    """LSTM without peepholes or projection: one matmul of [inputs, h] gives the
    gates i, j, f, o (in that order);
    c' = c * sigmoid(f + forget_bias) + sigmoid(i) * activation(j),
    h' = activation(c') * sigmoid(o)."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = _num_units(self, num_units)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation) if activation else math_ops.tanh

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        n = self._num_units
        self._kernel = self.add_variable(_WEIGHTS, [depth + n, 4 * n])
        self._bias = self.add_variable(_BIAS, [4 * n],
                                       initializer=init_ops.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = split(value=state, num_or_size_splits=2, axis=1)
        gate_inputs = bias_add(math_ops.matmul(array_ops.concat([inputs, h], 1),
                                               self._kernel), self._bias)
        i, j, f, o = split(value=gate_inputs, num_or_size_splits=4, axis=1)
        forget_bias = constant(self._forget_bias, dtype=f.dtype)
        sig = math_ops.sigmoid
        new_c = math_ops.add(math_ops.multiply(c, sig(math_ops.add(f, forget_bias))),
                             math_ops.multiply(sig(i), self._activation(j)))
        new_h = math_ops.multiply(self._activation(new_c), sig(o))
        if self._state_is_tuple:
            new_state = LSTMStateTuple(new_c, new_h)
        else:
            new_state = array_ops.concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(LayerRNNCell):
    """LSTM with optional peepholes (w_f_diag, w_i_diag, w_o_diag), cell
    clipping, and a projection of the output (num_proj, projection/kernel,
    proj_clip); the state is (c, m) with m the (projected) output."""

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("LSTMCell: num_unit_shards and num_proj_shards "
                                      "(partitioned variables) are not supported")
        self._num_units = _num_units(self, num_units)
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = None if num_proj is None else _num_units(self, num_proj)
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation) if activation else math_ops.tanh
        n, p = self._num_units, self._num_proj
        if p:
            self._state_size = LSTMStateTuple(n, p) if state_is_tuple else n + p
            self._output_size = p
        else:
            self._state_size = LSTMStateTuple(n, n) if state_is_tuple else 2 * n
            self._output_size = n

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size

    def build(self, inputs_shape):
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        n = self._num_units
        h_depth = n if self._num_proj is None else self._num_proj
        init = self._initializer
        self._kernel = self.add_variable(_WEIGHTS, [depth + h_depth, 4 * n],
                                         initializer=init)
        self._bias = self.add_variable(_BIAS, [4 * n],
                                       initializer=init_ops.zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", [n], initializer=init)
            self._w_i_diag = self.add_variable("w_i_diag", [n], initializer=init)
            self._w_o_diag = self.add_variable("w_o_diag", [n], initializer=init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable(f"projection/{_WEIGHTS}",
                                                  [n, self._num_proj], initializer=init)
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        n = self._num_units
        num_proj = n if self._num_proj is None else self._num_proj
        sig = math_ops.sigmoid
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, n])
            m_prev = array_ops.slice(state, [0, n], [-1, num_proj])
        if inputs.shape.ndims != 2 or inputs.shape.as_list()[1] is None:
            raise ValueError(f"Could not infer input size from inputs.get_shape()[-1] "
                             f"(shape {inputs.shape}); LSTMCell needs rank-2 inputs")
        lstm_matrix = bias_add(math_ops.matmul(array_ops.concat([inputs, m_prev], 1),
                                               self._kernel), self._bias)
        i, j, f, o = split(value=lstm_matrix, num_or_size_splits=4, axis=1)
        if self._use_peepholes:
            c = (sig(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sig(i + self._w_i_diag * c_prev) * self._activation(j))
        else:
            c = sig(f + self._forget_bias) * c_prev + sig(i) * self._activation(j)
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sig(o + self._w_o_diag * c) * self._activation(c)
        else:
            m = sig(o) * self._activation(c)
        if self._num_proj is not None:
            m = math_ops.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = (LSTMStateTuple(c, m) if self._state_is_tuple
                     else array_ops.concat([c, m], 1))
        return m, new_state


class MultiRNNCell(RNNCell):
    """Cells stacked: each one's output is the next one's input; layer i runs in
    variable scope `cell_i`. The state is a tuple of the cells' states (or, with
    state_is_tuple=False, their concatenation)."""

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not nest.is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        self._cells = list(cells)
        for i, c in enumerate(self._cells):
            assert_like_rnncell(f"cells[{i}]", c)
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(nest.is_sequence(c.state_size) for c in self._cells):
            raise ValueError("Some cells return tuples of states, but the flag "
                             "state_is_tuple is not set.  State sizes are: "
                             f"{[c.state_size for c in self._cells]}")

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(c.state_size for c in self._cells)
        return sum(c.state_size for c in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        with name_scope(type(self).__name__ + "ZeroState", values=_tensors([batch_size])):
            if self._state_is_tuple:
                return tuple(c.zero_state(batch_size, dtype) for c in self._cells)
            return _zero_state_tensors(self.state_size, batch_size, dtype)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for c in self._cells for w in getattr(c, "trainable_weights", [])]

    @property
    def non_trainable_weights(self):
        out = [w for c in self._cells for w in getattr(c, "non_trainable_weights", [])]
        if not self.trainable:
            out = [w for c in self._cells for w in getattr(c, "trainable_weights", [])] + out
        return out

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def call(self, inputs, state):
        pos = 0
        cur = inputs
        new_states = []
        for i, cell in enumerate(self._cells):
            with variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    if not nest.is_sequence(state) or len(state) != len(self._cells):
                        raise ValueError(f"Expected state to be a tuple of length "
                                         f"{len(self._cells)}, but received: {state}")
                    cur_state = state[i]
                else:
                    cur_state = array_ops.slice(state, [0, pos], [-1, cell.state_size])
                    pos += cell.state_size
                cur, new_state = cell(cur, cur_state)
                new_states.append(new_state)
        if self._state_is_tuple:
            return cur, tuple(new_states)
        return cur, array_ops.concat(new_states, 1)
