"""1-D convolution and pooling layers (tf.layers.Conv1D, MaxPooling1D,
AveragePooling1D and their functional forms), Keras's 1-D and global pooling
layers, and tf.nn.pool. As TF 1.15 builds them: the 1-D forms insert a unit
spatial dimension (expand_dims), run the 2-D convolution or pooling, and squeeze
it out again; a dilated tf.nn.pool is a reduction over shifted slices."""
from __future__ import annotations

from .. import init_ops
from ..conv_layers import Conv2D as _Conv2D
from ..conv_layers import _data_format, _padding, _rename, _tuple
from ..graph import name_scope
from ..layers import Layer
from . import array_ops, math_ops, pool_ops
from .constant_op import convert_to_tensor

_ZEROS = init_ops.zeros_initializer()  # tf.layers' default bias initializer


class Conv1D(_Conv2D):
    """outputs = activation(conv1d(inputs, kernel) + bias); kernel [k, in, filters]:
    tf.layers.Conv2D's weights and checks over one spatial dimension."""

    _rank = 1
    _base = "conv1d"

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer=None,
                 bias_initializer=_ZEROS, kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         trainable=trainable, name=name, **kwargs)
        if self.dilation_rate[0] != 1 and self.strides[0] != 1:
            raise ValueError("`strides > 1` not supported in conjunction with "
                             "`dilation_rate > 1`")

    def call(self, inputs):
        from ..nn_more import conv1d
        from ..nn_ops import bias_add
        first = self.data_format == "channels_first"
        ch = inputs.shape[self._channel_axis()].value if inputs.shape.ndims == 3 else None
        if inputs.shape.ndims not in (None, 3) or (ch is not None and ch != self._in_channels):
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: "
                             f"expected ndim=3 with axis {self._channel_axis()} of value "
                             f"{self._in_channels} but received input with shape "
                             f"{inputs.shape}")
        outputs = conv1d(inputs, self.kernel, stride=self.strides[0],
                         padding=self.padding.upper(), data_format="NCW" if first else "NWC",
                         dilations=self.dilation_rate[0])
        if self.use_bias:
            if first:
                # bias_add takes no 3-D NCHW input: TF adds a [1, filters, 1] bias
                outputs = outputs + array_ops.reshape(self.bias, (1, self.filters, 1))
            else:
                outputs = bias_add(outputs, self.bias, data_format="NHWC")
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


class _Pooling1D(Layer):
    _base = None
    _fn = None

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        _rename(self, name, self._base)
        self.pool_size = _tuple(pool_size, 1, "pool_size")
        self.strides = _tuple(strides if strides is not None else pool_size, 1, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        if inputs.shape.ndims not in (None, 3):
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: "
                             f"expected ndim=3, found ndim={inputs.shape.ndims}. Full shape "
                             f"received: {inputs.shape}")
        first = self.data_format == "channels_first"
        # TF's Pooling1D: a unit axis after the steps, then a 2-D pool
        axis = 3 if first else 2
        x = array_ops.expand_dims(inputs, axis)
        fn = getattr(pool_ops, self._fn)
        y = fn(x, [self.pool_size[0], 1], [self.strides[0], 1], self.padding.upper(),
               data_format="NCHW" if first else "NHWC")
        return array_ops.squeeze(y, [axis])


class MaxPooling1D(_Pooling1D):
    _base, _fn = "max_pooling1d", "max_pool"


class AveragePooling1D(_Pooling1D):
    _base, _fn = "average_pooling1d", "avg_pool"


def conv1d(inputs, filters, kernel_size, strides=1, padding="valid",
           data_format="channels_last", dilation_rate=1, activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=_ZEROS,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    """tf.layers.conv1d: a 1-D convolution layer on `inputs` [batch, steps, channels]."""
    layer = Conv1D(filters, kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate,
                   activation=activation, use_bias=use_bias,
                   kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                   kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                   activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


def max_pooling1d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """tf.layers.max_pooling1d."""
    return MaxPooling1D(pool_size, strides, padding=padding, data_format=data_format,
                        name=name).apply(inputs)


def average_pooling1d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """tf.layers.average_pooling1d."""
    return AveragePooling1D(pool_size, strides, padding=padding, data_format=data_format,
                            name=name).apply(inputs)


class _GlobalPooling(Layer):
    """Keras's global pooling: a mean or max over all spatial axes."""
    _rank = None
    _reduce = None

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        if inputs.shape.ndims not in (None, self._rank + 2):
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: "
                             f"expected ndim={self._rank + 2}, found "
                             f"ndim={inputs.shape.ndims}. Full shape received: "
                             f"{inputs.shape}")
        start = 2 if self.data_format == "channels_first" else 1
        axes = list(range(start, start + self._rank))
        return getattr(math_ops, self._reduce)(inputs, axis=axes)


def _global(name, rank, reduce):
    return type(name, (_GlobalPooling,), {"_rank": rank, "_reduce": reduce})


GlobalAveragePooling1D = _global("GlobalAveragePooling1D", 1, "reduce_mean")
GlobalMaxPooling1D = _global("GlobalMaxPooling1D", 1, "reduce_max")
GlobalAveragePooling2D = _global("GlobalAveragePooling2D", 2, "reduce_mean")
GlobalMaxPooling2D = _global("GlobalMaxPooling2D", 2, "reduce_max")


# ---------------------------------------------------------------- tf.nn.pool

def pool(input, window_shape, pooling_type, padding, dilation_rate=None,
         strides=None, name=None, data_format=None):
    """tf.nn.pool for 1-D and 2-D windows: MAX or AVG pooling with strides or,
    with strides 1 and VALID padding, dilation."""
    pooling_type = str(pooling_type).upper()
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"Invalid pooling_type: {pooling_type}")
    with name_scope(name, f"{pooling_type.lower()}_pool", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        window = [int(w) for w in window_shape]
        nd = len(window)
        if nd not in (1, 2):
            raise ValueError(f"tf.nn.pool: only 1-D and 2-D windows are supported, got "
                             f"window_shape {list(window_shape)}")
        if x.shape.ndims is not None and x.shape.ndims != nd + 2:
            raise ValueError(f"input tensor must have rank {nd + 2}, got shape {x.shape}")
        rate = [1] * nd if dilation_rate is None else [int(r) for r in dilation_rate]
        step = [1] * nd if strides is None else [int(s) for s in strides]
        if len(rate) != nd:
            raise ValueError("dilation_rate must be of length num_spatial_dims")
        if len(step) != nd:
            raise ValueError("strides must be of length num_spatial_dims")
        if any(r < 1 for r in rate) or any(s < 1 for s in step):
            raise ValueError("dilation_rate and strides must be positive")
        if any(r > 1 for r in rate) and any(s > 1 for s in step):
            raise ValueError("strides > window_shape not supported due to inconsistency "
                             "between CPU and GPU implementations")
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be SAME or VALID, got {padding!r}")
        if any(r > 1 for r in rate) and padding == "SAME":
            # TF's space-to-batch pooling padded with zeros there (a wrong max of
            # negative inputs); later TF refuses it, and so does this
            raise ValueError("pooling with 'SAME' padding is not implemented for "
                             f"`dilation_rate` > 1. Received: padding={padding} and "
                             f"dilation_rate={rate}")
        first = data_format is not None and str(data_format).startswith("NC")
        if data_format not in (None, "NWC", "NCW", "NHWC", "NCHW"):
            raise ValueError(f"Invalid data_format: {data_format}")
        spatial = list(range(2, 2 + nd)) if first else list(range(1, 1 + nd))
        if any(r > 1 for r in rate):
            out = _dilated_pool(x, window, rate, spatial, pooling_type)
            return math_ops.identity(out, name=scope)
        fn = pool_ops.max_pool if pooling_type == "MAX" else pool_ops.avg_pool
        fmt = "NCHW" if first else "NHWC"
        if nd == 2:
            return fn(x, window, step, padding, data_format=fmt, name=scope)
        axis = 3 if first else 2
        # TF names the pool op after the scope and squeezes inside it
        y = fn(array_ops.expand_dims(x, axis), window + [1], step + [1], padding,
               data_format=fmt, name=scope)
        with name_scope(scope):
            return array_ops.squeeze(y, [axis])


def _dilated_pool(x, window, rate, spatial, pooling_type):
    """Stride-1 VALID dilated pooling as a max/mean over the window's shifted slices."""
    shape = x.shape.as_list()
    if any(shape[a] is None for a in spatial):
        raise ValueError(f"tf.nn.pool with dilation needs known spatial sizes, got {x.shape}")
    out_sizes = [shape[a] - (k - 1) * r for a, k, r in zip(spatial, window, rate)]
    if any(o <= 0 for o in out_sizes):
        raise ValueError(f"tf.nn.pool: the dilated window is larger than the input "
                         f"{x.shape}")
    taps = [[]]
    for k in window:
        taps = [t + [i] for t in taps for i in range(k)]
    parts = []
    for tap in taps:
        begin = [0] * len(shape)
        size = [-1] * len(shape)
        for a, i, r, o in zip(spatial, tap, rate, out_sizes):
            begin[a], size[a] = i * r, o
        parts.append(array_ops.slice(x, begin, size))
    acc = parts[0]
    for p in parts[1:]:
        acc = math_ops.maximum(acc, p) if pooling_type == "MAX" else acc + p
    if pooling_type == "AVG":
        acc = acc / math_ops.cast(len(parts), acc.dtype)
    return acc
