"""tf.keras as a TF 1.15 graph-mode program uses it: layers called on graph
tensors (tf.keras.layers.Dense(10)(x)), their string initializers and
activations, the learning phase, Input and a Sequential stack of layers.

The layers are the tf.layers classes (tfcompile/layers.py, conv_layers.py,
norm_layers.py: same variable names, `dense/kernel:0`) with Keras's
arguments and defaults: initializers by name, 'valid' padding, pooling
strides defaulting to the pool size, and Dropout / BatchNormalization that
follow the learning phase (tf.keras.backend.learning_phase(), a
placeholder_with_default(False)) unless called with `training=`.

Not here: Model.compile / fit / evaluate (training goes through tf.train
optimizers and a Session, as in TF 1.x graph code), recurrent layers.
"""
from __future__ import annotations

import sys
import types

from .. import dtypes as _dt
from .. import init_ops
from ..conv_layers import AveragePooling2D as _AvgPool
from ..conv_layers import Conv2D as _Conv2D
from ..conv_layers import MaxPooling2D as _MaxPool
from ..graph import Tensor, get_default_graph, name_scope
from ..layers import Dense as _Dense
from ..layers import Dropout as _Dropout
from ..layers import Flatten as _Flatten
from ..layers import Layer as _Layer
from ..layers import _activation
from ..norm_layers import BatchNormalization as _BatchNorm
from ..ops import array_ops
from ..ops.constant_op import convert_to_tensor

# ---------------------------------------------------------------- backend

_PHASE = {}     # graph -> its learning-phase tensor (or a Python 0/1 set by the user)


def learning_phase():
    """The graph's learning phase: a bool placeholder_with_default(False)
    (True while training), or the value given to set_learning_phase."""
    g = get_default_graph()
    if g not in _PHASE:
        with g.as_default(), name_scope(None):
            _PHASE[g] = array_ops.placeholder_with_default(False, shape=(),
                                                           name="keras_learning_phase")
    return _PHASE[g]


def set_learning_phase(value):
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    _PHASE[get_default_graph()] = bool(value)


def _training(training):
    return learning_phase() if training is None else training


def _session():
    from ..session import get_default_session, Session
    s = get_default_session()
    if s is None:
        s = _SESSIONS.setdefault(get_default_graph(), Session())
    return s


_SESSIONS = {}


def _clear_session():
    _SESSIONS.clear()
    _PHASE.clear()


def _get_value(x):
    return _session().run(x)


backend = types.ModuleType("tfcompile.keras.backend", "tf.keras.backend")
backend.learning_phase = learning_phase
backend.set_learning_phase = set_learning_phase
backend.get_session = _session
backend.clear_session = _clear_session
backend.get_value = _get_value
backend.epsilon = lambda: 1e-7
backend.floatx = lambda: "float32"

# ---------------------------------------------------------------- initializers, activations


def _initializer(init):
    """A Keras initializer name (or an initializer) -> an initializer."""
    if init is None or not isinstance(init, str):
        return init
    vs = init_ops.variance_scaling_initializer
    table = {
        "glorot_uniform": lambda: vs(1.0, "fan_avg", "uniform"),
        "glorot_normal": lambda: vs(1.0, "fan_avg", "truncated_normal"),
        "he_uniform": lambda: vs(2.0, "fan_in", "uniform"),
        "he_normal": lambda: vs(2.0, "fan_in", "truncated_normal"),
        "lecun_uniform": lambda: vs(1.0, "fan_in", "uniform"),
        "lecun_normal": lambda: vs(1.0, "fan_in", "truncated_normal"),
        "zeros": init_ops.zeros_initializer, "zero": init_ops.zeros_initializer,
        "ones": init_ops.ones_initializer, "one": init_ops.ones_initializer,
        "random_normal": lambda: init_ops.random_normal_initializer(0.0, 0.05),
        "random_uniform": lambda: init_ops.random_uniform_initializer(-0.05, 0.05),
        "uniform": lambda: init_ops.random_uniform_initializer(-0.05, 0.05),
        "truncated_normal": lambda: init_ops.truncated_normal_initializer(0.0, 0.05),
        "orthogonal": init_ops.orthogonal_initializer,
    }
    if init not in table:
        raise ValueError(f"Unknown initializer: {init}")
    return table[init]()


initializers = types.ModuleType("tfcompile.keras.initializers", "tf.keras.initializers")
initializers.get = _initializer
for _n, _f in (("Zeros", init_ops.zeros_initializer), ("Ones", init_ops.ones_initializer),
               ("Constant", init_ops.constant_initializer),
               ("RandomNormal", init_ops.random_normal_initializer),
               ("RandomUniform", init_ops.random_uniform_initializer),
               ("TruncatedNormal", init_ops.truncated_normal_initializer),
               ("VarianceScaling", init_ops.variance_scaling_initializer),
               ("Orthogonal", init_ops.orthogonal_initializer)):
    setattr(initializers, _n, _f)
initializers.glorot_uniform = lambda seed=None: init_ops.variance_scaling_initializer(
    1.0, "fan_avg", "uniform", seed)
initializers.glorot_normal = lambda seed=None: init_ops.variance_scaling_initializer(
    1.0, "fan_avg", "truncated_normal", seed)
initializers.he_normal = lambda seed=None: init_ops.variance_scaling_initializer(
    2.0, "fan_in", "truncated_normal", seed)
initializers.he_uniform = lambda seed=None: init_ops.variance_scaling_initializer(
    2.0, "fan_in", "uniform", seed)


def _act(a):
    if a == "hard_sigmoid":
        from ..ops import math_ops
        return lambda x: math_ops.maximum(0.0, math_ops.minimum(1.0, 0.2 * x + 0.5))
    if a == "exponential":
        from ..ops import math_ops
        return math_ops.exp
    return _activation(a)


activations = types.ModuleType("tfcompile.keras.activations", "tf.keras.activations")
activations.get = _act
for _n in ("relu", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "softmax"):
    setattr(activations, _n, _activation(_n))
activations.linear = lambda x: x

# ---------------------------------------------------------------- layers


def _keras_kwargs(kwargs):
    """Keras-only constructor arguments: input_shape / input_dim / batch_size are
    kept for Sequential, the rest go to tf.layers."""
    extra = {k: kwargs.pop(k) for k in ("input_shape", "input_dim", "batch_input_shape",
                                        "batch_size") if k in kwargs}
    return extra


class _KerasMixin:
    def _keep(self, extra):
        shape = extra.get("batch_input_shape")
        if shape is None and "input_shape" in extra:
            shape = (extra.get("batch_size"),) + tuple(extra["input_shape"])
        if shape is None and "input_dim" in extra:
            shape = (extra.get("batch_size"), extra["input_dim"])
        self._batch_input_shape = shape


class Dense(_KerasMixin, _Dense):
    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(units, activation=_act(activation), use_bias=use_bias,
                         kernel_initializer=_initializer(kernel_initializer),
                         bias_initializer=_initializer(bias_initializer), **kwargs)
        self._keep(extra)


class Conv2D(_KerasMixin, _Conv2D):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format or "channels_last",
                         dilation_rate=dilation_rate, activation=_act(activation),
                         use_bias=use_bias, kernel_initializer=_initializer(kernel_initializer),
                         bias_initializer=_initializer(bias_initializer), **kwargs)
        self._keep(extra)


class MaxPooling2D(_KerasMixin, _MaxPool):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(pool_size, strides if strides is not None else pool_size,
                         padding=padding, data_format=data_format or "channels_last", **kwargs)
        self._keep(extra)


class AveragePooling2D(_KerasMixin, _AvgPool):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(pool_size, strides if strides is not None else pool_size,
                         padding=padding, data_format=data_format or "channels_last", **kwargs)
        self._keep(extra)


class Flatten(_KerasMixin, _Flatten):
    def __init__(self, data_format=None, **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(data_format=data_format, **kwargs)
        self._keep(extra)


class Dropout(_KerasMixin, _Dropout):
    """Dropout while training: `training=` when given, else the learning phase."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self._keep(extra)

    def call(self, inputs, training=None):
        return super().call(inputs, training=_training(training))


class BatchNormalization(_KerasMixin, _BatchNorm):
    """Batch statistics while training (`training=`, else the learning phase)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon, center=center,
                         scale=scale, beta_initializer=_initializer(beta_initializer),
                         gamma_initializer=_initializer(gamma_initializer),
                         moving_mean_initializer=_initializer(moving_mean_initializer),
                         moving_variance_initializer=_initializer(
                             moving_variance_initializer), **kwargs)
        self._keep(extra)

    def call(self, inputs, training=None):
        return super().call(inputs, training=_training(training))


class Activation(_KerasMixin, _Layer):
    def __init__(self, activation, **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(**kwargs)
        self.activation = _act(activation)
        self._keep(extra)

    def call(self, inputs):
        if self.activation is None:
            return array_ops.identity_(inputs)
        return self.activation(inputs)


class Reshape(_KerasMixin, _Layer):
    """Reshapes all but the batch dimension to `target_shape` (one -1 allowed)."""

    def __init__(self, target_shape, **kwargs):
        extra = _keras_kwargs(kwargs)
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        self._keep(extra)

    def call(self, inputs):
        return array_ops.reshape(inputs, (-1,) + self.target_shape)


class Embedding(_KerasMixin, _Layer):
    """A [input_dim, output_dim] table looked up by integer ids."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, input_length=None, **kwargs):
        extra = _keras_kwargs(kwargs)
        kwargs.pop("mask_zero", None)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = _initializer(embeddings_initializer)
        self.embeddings_regularizer = embeddings_regularizer
        self._keep(extra)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            "embeddings", shape=[self.input_dim, self.output_dim],
            initializer=self.embeddings_initializer, regularizer=self.embeddings_regularizer,
            dtype=_dt.float32)
        self.built = True

    def __call__(self, inputs, *args, **kwargs):
        inputs = convert_to_tensor(inputs)
        if self._dtype is None or self._dtype.is_integer:
            self._dtype = _dt.float32        # the table's dtype, not the ids'
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        from ..nn_impl import embedding_lookup
        return embedding_lookup(self.embeddings, inputs)


_INPUTS = {}


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None, **kwargs):
    """A placeholder [batch_size] + shape named like Keras's (input_1, input_2, ...)."""
    from ..ops.array_ops import placeholder
    g = get_default_graph()
    if name is None:
        n = _INPUTS[g] = _INPUTS.get(g, 0) + 1
        name = f"input_{n}"
    dims = list(batch_shape) if batch_shape is not None else [batch_size] + list(shape or ())
    return placeholder(_dt.as_dtype(dtype or _dt.float32), dims, name=name)


class Sequential:
    """A stack of layers applied in order: model(x) calls each layer on the
    previous output. (compile / fit are not provided: see the module doc.)"""

    def __init__(self, layers=None, name=None):
        self.layers = []
        self.name = name or "sequential"
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        self.layers.append(layer)

    def __call__(self, inputs, training=None):
        x = inputs
        for layer in self.layers:
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer(x, training=training)
            else:
                x = layer(x)
        return x

    @property
    def trainable_variables(self):
        return [v for layer in self.layers for v in layer.trainable_weights]

    trainable_weights = trainable_variables

    @property
    def variables(self):
        return [v for layer in self.layers for v in layer.weights]

    weights = variables


layers = types.ModuleType("tfcompile.keras.layers", "tf.keras.layers")
for _n in ("Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dropout",
           "BatchNormalization", "Activation", "Reshape", "Embedding", "Input"):
    setattr(layers, _n, globals()[_n])
layers.Layer = _Layer
layers.Convolution2D = Conv2D
layers.MaxPool2D = MaxPooling2D
layers.AvgPool2D = AveragePooling2D

models = types.ModuleType("tfcompile.keras.models", "tf.keras.models")
models.Sequential = Sequential


def install(tf):
    me = sys.modules[__name__]
    tf.keras = me
    for name, mod in (("layers", layers), ("backend", backend), ("initializers", initializers),
                      ("activations", activations), ("models", models)):
        sys.modules[f"tfcompile.keras.{name}"] = mod
    _ = Tensor
