"""Recurrent networks (TF 1.15): the cells of tf.nn.rnn_cell (base.py,
cells.py, wrappers.py), the loops tf.nn.static_rnn, dynamic_rnn and their bidirectional
forms (rnn.py), and tf.reverse_sequence, which the backward direction uses
(reverse_sequence.py)."""
from __future__ import annotations

from .base import LayerRNNCell, LSTMStateTuple, RNNCell
from .cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, MultiRNNCell
from .reverse_sequence import reverse_sequence
from .rnn import (
    bidirectional_dynamic_rnn,
    dynamic_rnn,
    static_bidirectional_rnn,
    static_rnn,
)
from .wrappers import DeviceWrapper, DropoutWrapper, ResidualWrapper

_CELLS = {c.__name__: c for c in (
    RNNCell, BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell, DropoutWrapper,
    ResidualWrapper, DeviceWrapper, LSTMStateTuple)}


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


__all__ = ["BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "GRUCell",
           "LSTMCell", "LSTMStateTuple", "LayerRNNCell", "MultiRNNCell", "RNNCell",
           "ResidualWrapper", "bidirectional_dynamic_rnn", "dynamic_rnn", "install",
           "reverse_sequence", "static_bidirectional_rnn", "static_rnn"]
