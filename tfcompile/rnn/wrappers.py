"""Cell wrappers of tf.nn.rnn_cell (TF 1.15): DropoutWrapper, ResidualWrapper
and DeviceWrapper. A wrapper adds no variable scope of its own: the wrapped
cell's variables keep their names (`rnn/basic_lstm_cell/kernel`)."""
from __future__ import annotations

import hashlib

from ..graph import Tensor, get_default_graph, name_scope
from ..ops import math_ops, random_ops
from ..ops.constant_op import convert_to_tensor
from ..ops.op_util import constant_value
from ..tensor_shape import as_shape
from . import nest
from .base import LSTMStateTuple, RNNCell, _tensors, assert_like_rnncell, unrolled_step


class _Wrapper(RNNCell):
    """Forwards the sizes, zero state and call to the wrapped cell."""

    def __init__(self, cell):
        super().__init__()
        assert_like_rnncell("cell", cell)
        self._cell = cell

    @property
    def cell(self):
        return self._cell

    @property
    def wrapped_cell(self):
        return self._cell

    @property
    def state_size(self):
        return self._cell.state_size

    @property
    def output_size(self):
        return self._cell.output_size

    @property
    def trainable_weights(self):
        return list(getattr(self._cell, "trainable_weights", []))

    @property
    def non_trainable_weights(self):
        return list(getattr(self._cell, "non_trainable_weights", []))

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def zero_state(self, batch_size, dtype):
        with name_scope(type(self).__name__ + "ZeroState", values=_tensors([batch_size])):
            return self._cell.zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        return self._call_wrapped_cell(inputs, state, self._cell.__call__, scope=scope)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        raise NotImplementedError


def _default_dropout_state_filter_visitor(substate):
    # An LSTM's memory c is never dropped, only its output h.
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


def _keep_prob(value, what):
    """A float where the probability is known when the graph is built, else the
    tensor (TF's rule)."""
    t = value if isinstance(value, Tensor) else convert_to_tensor(value)
    v = constant_value(t)
    if v is None:
        return t
    if not 0 <= float(v) <= 1:
        raise ValueError(f"Parameter {what} must be between 0 and 1: {float(v)}")
    return float(v)


class DropoutWrapper(_Wrapper):
    """Dropout on the cell's inputs, outputs and state (keep probabilities
    input_keep_prob, output_keep_prob, state_keep_prob), with a seed per use
    derived from `seed` as TF derives it. With variational_recurrent=True one
    mask per wrapper is drawn once (shape [1, size], shared over the batch and
    the time steps: Gal & Ghahramani), which needs `dtype` and, for input
    dropout, `input_size`."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0,
                 state_keep_prob=1.0, variational_recurrent=False, input_size=None,
                 dtype=None, seed=None, dropout_state_filter_visitor=None):
        super().__init__(cell)
        if dropout_state_filter_visitor is not None and not callable(
                dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = (dropout_state_filter_visitor
                                      or _default_dropout_state_filter_visitor)
        with name_scope("DropoutWrapperInit"):
            self._input_keep_prob = _keep_prob(input_keep_prob, "input_keep_prob")
            self._state_keep_prob = _keep_prob(state_keep_prob, "state_keep_prob")
            self._output_keep_prob = _keep_prob(output_keep_prob, "output_keep_prob")
        self._variational_recurrent = variational_recurrent
        self._seed = seed
        self._recurrent_input_noise = None
        self._recurrent_state_noise = None
        self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def batch_noise(s, inner_seed):
                shape = [1] + as_shape(s).as_list()
                return random_ops.random_uniform(shape, seed=inner_seed, dtype=dtype)

            if _should_dropout(self._input_keep_prob):
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob "
                                     "< 1.0 or is unknown, input_size must be provided")
                self._recurrent_input_noise = _enumerated_map_up_to(
                    input_size, lambda i, s: batch_noise(s, self._gen_seed("input", i)),
                    input_size)
            self._recurrent_state_noise = _enumerated_map_up_to(
                cell.state_size, lambda i, s: batch_noise(s, self._gen_seed("state", i)),
                cell.state_size)
            self._recurrent_output_noise = _enumerated_map_up_to(
                cell.output_size, lambda i, s: batch_noise(s, self._gen_seed("output", i)),
                cell.output_size)

    def _gen_seed(self, salt_prefix, index):
        """TF's per-use seed: the first 31 bits of md5(str(seed) + salt); past the
        first step of an unrolled dynamic_rnn the step joins the salt (TF's one
        loop op draws new values each step; see base.unrolled_step)."""
        if self._seed is None:
            return None
        step = unrolled_step.get()
        salt = f"{salt_prefix}_{index}" + (f"_step_{step}" if step else "")
        digest = hashlib.md5(f"{self._seed}{salt}".encode())
        return int(digest.hexdigest()[:8], 16) & 0x7FFFFFFF

    def _variational_value(self, value, noise, keep_prob):
        binary = math_ops.floor(keep_prob + noise)
        out = math_ops.divide(value, keep_prob) * binary
        out.set_shape(value.shape)
        return out

    def _dropout(self, values, salt_prefix, recurrent_noise, keep_prob, shallow=None):
        from ..nn_impl import dropout
        shallow = values if shallow is None else shallow
        if not self._variational_recurrent:
            def drop(i, do_dropout, v):
                if not isinstance(do_dropout, bool) or do_dropout:
                    return dropout(v, keep_prob=keep_prob,
                                   seed=self._gen_seed(salt_prefix, i))
                return v
            return _enumerated_map_up_to(shallow, drop, shallow, values)

        def drop_variational(i, do_dropout, v, n):
            if not isinstance(do_dropout, bool) or do_dropout:
                return self._variational_value(v, n, keep_prob)
            return v
        return _enumerated_map_up_to(shallow, drop_variational, shallow, values,
                                     recurrent_noise)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        if _should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise,
                                   self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if _should_dropout(self._state_keep_prob):
            shallow = _shallow_filter(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise,
                                      self._state_keep_prob, shallow)
        if _should_dropout(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise,
                                   self._output_keep_prob)
        return output, new_state


def _should_dropout(p):
    return not isinstance(p, float) or p < 1


def _shallow_filter(visitor, structure):
    """Which parts of `structure` to drop out, as a structure of bools cut off
    where the answer covers a whole sub-structure (TF's
    nest.get_traverse_shallow_structure with the state filter)."""
    answer = visitor(structure)
    if not nest.is_sequence(structure):
        if not isinstance(answer, bool):
            raise TypeError(f"dropout_state_filter_visitor returned {answer!r} for the "
                            f"tensor {structure}; expected a bool")
        return answer
    kids = nest._children(structure)
    if isinstance(answer, bool):
        if not answer:
            return False
        return nest._rebuild(structure, [_shallow_filter(visitor, k) for k in kids])
    if not nest.is_sequence(answer) or len(nest._children(answer)) != len(kids):
        raise TypeError(f"dropout_state_filter_visitor returned {answer!r} for {structure}; "
                        "expected a bool or a structure of bools one level deep like it")
    out = []
    for t, k in zip(nest._children(answer), kids):
        if not isinstance(t, bool):
            raise TypeError("dropout_state_filter_visitor didn't return a depth=1 "
                            f"structure of bools: saw {answer} for {structure}")
        out.append(_shallow_filter(visitor, k) if t else False)
    return nest._rebuild(structure, out)


def _enumerated_map_up_to(shallow, fn, *args):
    """map_structure_up_to(shallow, fn(i, *leaves)) with i counting the leaves."""
    count = [0]

    def with_index(*leaves):
        i = count[0]
        count[0] += 1
        return fn(i, *leaves)
    return nest.map_structure_up_to(shallow, with_index, *args)


class ResidualWrapper(_Wrapper):
    """output = inputs + cell output (or residual_fn(inputs, output))."""

    def __init__(self, cell, residual_fn=None):
        super().__init__(cell)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)

        def default_residual_fn(inputs, outputs):
            nest.assert_same_structure(inputs, outputs)

            def add(inp, out):
                if not inp.shape.is_compatible_with(out.shape):
                    raise ValueError(f"ResidualWrapper: the inputs' shape {inp.shape} and "
                                     f"the cell's output shape {out.shape} are not "
                                     "compatible (they are added)")
                return inp + out
            return nest.map_structure(add, inputs, outputs)
        return (self._residual_fn or default_residual_fn)(inputs, outputs), new_state


class DeviceWrapper(_Wrapper):
    """Runs the cell on `device` (accepted; placement is the compiler's)."""

    def __init__(self, cell, device):
        super().__init__(cell)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with name_scope(type(self).__name__ + "ZeroState", values=_tensors([batch_size])), \
                get_default_graph().device(self._device):
            return self._cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        with get_default_graph().device(self._device):
            return cell_call_fn(inputs, state, **kwargs)

