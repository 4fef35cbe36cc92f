"""Recurrent networks (TF 1.15): the cells of tf.nn.rnn_cell (cells.py,
wrappers.py), the loops tf.nn.static_rnn, dynamic_rnn and their bidirectional
forms (rnn.py), and tf.reverse_sequence, which the backward direction uses
(reverse_sequence.py)."""
from __future__ import annotations

from .cells import (BasicLSTMCell, BasicRNNCell, GRUCell, LayerRNNCell, LSTMCell,
                    LSTMStateTuple, MultiRNNCell, RNNCell)
from .reverse_sequence import reverse_sequence
from .rnn import (bidirectional_dynamic_rnn, dynamic_rnn, static_bidirectional_rnn,
                  static_rnn)
from .wrappers import DeviceWrapper, DropoutWrapper, ResidualWrapper

_CELLS = dict(RNNCell=RNNCell, BasicRNNCell=BasicRNNCell, BasicLSTMCell=BasicLSTMCell,
              LSTMCell=LSTMCell, GRUCell=GRUCell, MultiRNNCell=MultiRNNCell,
              DropoutWrapper=DropoutWrapper, ResidualWrapper=ResidualWrapper,
              DeviceWrapper=DeviceWrapper, LSTMStateTuple=LSTMStateTuple)


def install(tf):
    """tf.nn.rnn_cell.*, tf.nn.static_rnn / dynamic_rnn / static_bidirectional_rnn
    / bidirectional_dynamic_rnn, and tf.reverse_sequence."""
    from ..namespaces import _namespace
    tf.nn.rnn_cell = _namespace("nn.rnn_cell", "tf.nn.rnn_cell", **_CELLS)
    for fn in (static_rnn, dynamic_rnn, static_bidirectional_rnn,
               bidirectional_dynamic_rnn):
        setattr(tf.nn, fn.__name__, fn)
    if not hasattr(tf, "reverse_sequence"):
        tf.reverse_sequence = reverse_sequence


__all__ = sorted(_CELLS) + ["LayerRNNCell", "bidirectional_dynamic_rnn", "dynamic_rnn",
                            "install", "reverse_sequence", "static_bidirectional_rnn",
                            "static_rnn"]
