"""tf.layers (TF 1.15): Dense, Flatten and Dropout layers and their functional
forms, with TF's variable and op names (`dense/kernel:0`, `dense_1/MatMul`).

A layer owns a variable scope, chosen on its first call: its `name` if given,
else a fresh `dense`, `dense_1`, ... in the current variable scope. Variables
come from tf.get_variable in that scope (so `reuse` shares them); ops go in
the name scope opened with it.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import dtypes as _dt
from . import init_ops
from .graph import GraphKeys, Tensor, get_default_graph, name_scope
from .ops import array_ops, math_ops
from .ops.constant_op import convert_to_tensor
from .tensor_shape import TensorShape
from .variable_scope import get_variable, variable_scope

_layer_uids = weakref.WeakKeyDictionary()   # graph -> {base name: count}


def _unique_layer_name(base):
    uids = _layer_uids.setdefault(get_default_graph(), {})
    n = uids.get(base, 0)
    uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _snake_case(name):
    """TF's layer-name rule: BasicLSTMCell -> basic_lstm_cell, Conv2D -> conv2d; a
    private class (_Foo) gets "private" in front."""
    import re
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if s[0] != "_" else "private" + s


def _activation(activation):
    if activation is None or callable(activation):
        return activation
    if isinstance(activation, str):
        from . import nn
        fn = {"relu": nn.relu, "sigmoid": nn.sigmoid, "tanh": nn.tanh, "elu": nn.elu,
              "selu": nn.selu, "softplus": nn.softplus, "softsign": nn.softsign,
              "softmax": nn.softmax, "linear": None}.get(activation, False)
        if fn is not False:
            return fn
    raise ValueError(f"Unknown activation function: {activation!r}")


class Layer:
    """Base of tf.layers: scope handling, weights and the call protocol."""

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        scope = kwargs.pop("_scope", None)
        self._reuse = kwargs.pop("_reuse", None)
        self._activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise TypeError(f"Keyword argument not understood: {sorted(kwargs)[0]!r}")
        self.trainable = trainable
        self.built = False
        self._dtype = None if dtype is None else _dt.as_dtype(dtype)
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._losses = []
        base = _snake_case(type(self).__name__)
        if name:
            self._name, self._base_name = name, name
        else:
            self._name, self._base_name = _unique_layer_name(base), base
        self._scope = None
        if scope is not None:
            with variable_scope(scope) as captured:
                self._scope = captured

    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        return self._dtype

    @property
    def scope_name(self):
        if self._scope is None:
            raise ValueError(f"No name available for layer scope because the layer "
                             f"\"{self._name}\" has not been used yet. The scope name is "
                             "determined the first time the layer instance is called.")
        return self._scope.name

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def losses(self):
        return list(self._losses)

    def _set_scope(self, scope=None):
        if self._scope is not None:
            return
        if self._reuse:
            with variable_scope(scope if scope is not None else self._base_name) as s:
                self._scope = s
        else:
            with variable_scope(scope, default_name=self._base_name) as s:
                self._scope = s

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None):
        """A variable `<scope>/<name>` from get_variable (shared when reusing)."""
        dtype = _dt.as_dtype(dtype or self._dtype or _dt.float32)
        trainable = trainable and self.trainable
        existing = set(map(id, get_default_graph().get_collection(
            GraphKeys.REGULARIZATION_LOSSES)))
        with variable_scope(self._scope, reuse=self.built or self._reuse,
                            auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with name_scope(scope.original_name_scope):
                v = get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                                 regularizer=regularizer, trainable=trainable,
                                 constraint=constraint)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(v)
        for loss in get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES):
            if id(loss) not in existing:
                self._losses.append(loss)
        return v

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        self._set_scope(kwargs.pop("scope", None))
        inputs = convert_to_tensor(inputs)
        if self._dtype is None:
            self._dtype = inputs.dtype
        g = inputs.graph
        with g.as_default(), variable_scope(self._scope, reuse=self._reuse,
                                            auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with name_scope(scope.original_name_scope):
                if not self.built:
                    self.build(inputs.shape)
                    self.built = True
                outputs = self.call(inputs, *args, **kwargs)
                if self._activity_regularizer is not None:
                    with name_scope("ActivityRegularizer"):
                        loss = self._activity_regularizer(outputs)
                        batch = math_ops.cast(array_ops.shape(outputs)[0], loss.dtype)
                        loss = loss / batch
                    self._losses.append(loss)
                    g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return outputs

    def apply(self, inputs, *args, **kwargs):
        return self.__call__(inputs, *args, **kwargs)


class Dense(Layer):
    """outputs = activation(inputs @ kernel + bias)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units}")
        self.activation = _activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        dtype = _dt.as_dtype(self._dtype or _dt.float32)
        if not dtype.is_floating:
            raise TypeError(f"Unable to build `Dense` layer with non-floating point dtype "
                            f"{dtype}")
        input_shape = TensorShape(input_shape)
        if input_shape.ndims is None or input_shape[-1].value is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be "
                             "defined. Found `None`.")
        last = input_shape[-1].value
        self._input_last = last
        self.kernel = self.add_weight("kernel", shape=[last, self.units],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, dtype=dtype)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.units],
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, dtype=dtype)
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank is not None and rank < 2:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the "
                             f"layer: expected min_ndim=2, found ndim={rank}. Full shape "
                             f"received: {inputs.shape.as_list()}")
        last = inputs.shape[-1].value if rank is not None else None
        if last is not None and last != self._input_last:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the "
                             f"layer: expected axis -1 of input shape to have value "
                             f"{self._input_last} but received input with shape "
                             f"{inputs.shape}")
        if rank is not None and rank > 2:
            outputs = _tensordot_last(inputs, self.kernel, self.units)
        else:
            inputs = math_ops.cast(inputs, self.kernel.dtype)
            outputs = math_ops.matmul(inputs, self.kernel)
        if self.use_bias:
            from .nn_ops import bias_add
            outputs = bias_add(outputs, self.bias)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


def _tensordot_last(x, kernel, units):
    """x [..., k] times kernel [k, units] as one matmul over the flattened leading
    dims (TF's tensordot, same final op name `Tensordot`)."""
    with name_scope(None, "Tensordot", [x, kernel]) as scope:
        dims = x.shape.as_list()
        flat = array_ops.reshape(x, [-1, dims[-1]])
        mm = math_ops.matmul(flat, kernel)
        if all(d is not None for d in dims[:-1]):
            out_shape = dims[:-1] + [units]
        else:
            lead = array_ops.strided_slice(array_ops.shape(x), [0], [len(dims) - 1])
            out_shape = array_ops.concat([lead, [units]], 0)
        out = array_ops.reshape(mm, out_shape, name=scope)
        out.set_shape(dims[:-1] + [units])
        return out


class Flatten(Layer):
    """Flattens all but the first (batch) dimension."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        fmt = data_format or "channels_last"
        if fmt not in ("channels_first", "channels_last"):
            raise ValueError(f"The `data_format` argument must be one of \"channels_first\", "
                             f"\"channels_last\". Received: {data_format}")
        self.data_format = fmt

    def call(self, inputs):
        r = inputs.shape.ndims
        if self.data_format == "channels_first" and r is not None and r > 1:
            inputs = array_ops.transpose(inputs, [0] + list(range(2, r)) + [1])
        dims = inputs.shape.as_list() if r is not None else None
        if dims is not None and all(d is not None for d in dims[1:]):
            flat = int(np.prod(dims[1:], dtype=np.int64))
            outputs = array_ops.reshape(inputs, [-1, flat])
            outputs.set_shape([dims[0] if dims else None, flat])
        else:
            batch = array_ops.shape(inputs)[0]
            outputs = array_ops.reshape(inputs, array_ops.stack([batch, -1]))
            if dims is not None:
                outputs.set_shape([dims[0] if dims else None, None])
        return outputs


class Dropout(Layer):
    """Dropout applied only when `training` is true (a bool or a bool tensor)."""

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=False):
        from .nn_impl import dropout
        if isinstance(training, Tensor):
            dropped = dropout(inputs, noise_shape=self.noise_shape, seed=self.seed,
                              rate=self.rate)
            return array_ops.where_v2(training, dropped, inputs)
        if training:
            return dropout(inputs, noise_shape=self.noise_shape, seed=self.seed,
                           rate=self.rate)
        return array_ops.identity_(inputs)


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
          bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """tf.layers.dense: a densely connected layer on `inputs`."""
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


def flatten(inputs, name=None, data_format="channels_last"):
    """tf.layers.flatten: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...]."""
    return Flatten(name=name, data_format=data_format).apply(inputs)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """tf.layers.dropout: drops (and rescales) only when `training`."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(
        inputs, training=training)


# The convolution and pooling layers live in conv_layers.py.
from .conv_layers import (AveragePooling2D, Conv2D, MaxPooling2D,  # noqa: E402
                          average_pooling2d, conv2d, max_pooling2d)
from .norm_layers import BatchNormalization, batch_normalization  # noqa: E402
