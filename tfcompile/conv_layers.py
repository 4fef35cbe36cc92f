"""tf.layers' convolution and pooling layers (TF 1.15): Conv2D, MaxPooling2D,
AveragePooling2D and their functional forms conv2d, max_pooling2d,
average_pooling2d, with TF's variable and op names (`conv2d/kernel:0`,
`conv2d/Conv2D`, `conv2d/BiasAdd`, `max_pooling2d/MaxPool`)."""
from __future__ import annotations

from . import dtypes as _dt
from . import init_ops
from .layers import Layer, _activation, _unique_layer_name
from .tensor_shape import TensorShape


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received: {value}")
    return value


def _padding(padding):
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of \"valid\", \"same\". "
                         f"Received: {padding}")
    return p


def _data_format(data_format):
    fmt = data_format or "channels_last"
    if fmt not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of \"channels_first\", "
                         f"\"channels_last\". Received: {data_format}")
    return fmt


def _rename(layer, name, base):
    """Keras's snake case of the class name (conv2d, max_pooling2d)."""
    if not name:
        layer._name, layer._base_name = _unique_layer_name(base), base


class Conv2D(Layer):
    """outputs = activation(conv2d(inputs, kernel) + bias); kernel [kh, kw, in, filters].
    (Conv1D is this class over one spatial dimension: `_rank`.)"""

    _rank = 2
    _base = "conv2d"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        _rename(self, name, self._base)
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, self._rank, "kernel_size")
        self.strides = _tuple(strides, self._rank, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)
        self.dilation_rate = _tuple(dilation_rate, self._rank, "dilation_rate")
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

    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        if input_shape.ndims != self._rank + 2:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: "
                             f"expected ndim={self._rank + 2}, found ndim="
                             f"{input_shape.ndims}. Full shape received: {input_shape}")
        channels = input_shape[self._channel_axis()].value
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. "
                             "Found `None`.")
        dtype = _dt.as_dtype(self._dtype or _dt.float32)
        self._in_channels = channels
        self.kernel = self.add_weight("kernel", shape=list(self.kernel_size) +
                                      [channels, self.filters],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, dtype=dtype)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.filters],
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, dtype=dtype)
        self.built = True

    def call(self, inputs):
        from .nn_ops import bias_add
        from .ops.conv_ops import conv2d
        fmt = "NCHW" if self.data_format == "channels_first" else "NHWC"
        ch = inputs.shape[self._channel_axis()].value if inputs.shape.ndims == 4 else None
        if ch is not None and ch != self._in_channels:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: "
                             f"expected axis {self._channel_axis()} of input shape to have "
                             f"value {self._in_channels} but received input with shape "
                             f"{inputs.shape}")
        outputs = conv2d(inputs, self.kernel, strides=list(self.strides),
                         padding=self.padding.upper(), data_format=fmt,
                         dilations=list(self.dilation_rate))
        if self.use_bias:
            outputs = bias_add(outputs, self.bias, data_format=fmt)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


class _Pooling2D(Layer):
    _base = None
    _fn = None

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        _rename(self, name, self._base)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = _tuple(strides if strides is not None else pool_size, 2, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        from .ops import pool_ops
        fmt = "NCHW" if self.data_format == "channels_first" else "NHWC"
        fn = getattr(pool_ops, self._fn)
        return fn(inputs, list(self.pool_size), list(self.strides), self.padding.upper(),
                  data_format=fmt)


class MaxPooling2D(_Pooling2D):
    _base, _fn = "max_pooling2d", "max_pool"


class AveragePooling2D(_Pooling2D):
    _base, _fn = "average_pooling2d", "avg_pool"


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None,
           use_bias=True, kernel_initializer=None,
           bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """tf.layers.conv2d: a 2-D convolution layer on `inputs`."""
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate,
                   activation=activation, use_bias=use_bias,
                   kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                   kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                   activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """tf.layers.max_pooling2d."""
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format,
                        name=name).apply(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """tf.layers.average_pooling2d."""
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format,
                            name=name).apply(inputs)
