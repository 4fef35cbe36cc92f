"""tf.keras.layers' 1-D convolution and pooling layers and the global pooling
layers: the tf.layers classes of extra_nn_layers.py with Keras's defaults
(string initializers, pool_size=2, strides=pool_size)."""
from __future__ import annotations

from . import extra_nn_layers as L


def _classes():
    from ..keras import _act, _initializer, _keras_kwargs, _KerasMixin

    class Conv1D(_KerasMixin, L.Conv1D):
        def __init__(self, filters, kernel_size, strides=1, padding="valid",
                     data_format="channels_last", dilation_rate=1, activation=None,
                     use_bias=True, kernel_initializer="glorot_uniform",
                     bias_initializer="zeros", **kwargs):
            extra = _keras_kwargs(kwargs)
            super().__init__(filters, kernel_size, strides=strides, padding=padding,
                             data_format=data_format or "channels_last",
                             dilation_rate=dilation_rate, activation=_act(activation),
                             use_bias=use_bias,
                             kernel_initializer=_initializer(kernel_initializer),
                             bias_initializer=_initializer(bias_initializer), **kwargs)
            self._keep(extra)

    def pooling(base):
        class Pooling(_KerasMixin, base):
            def __init__(self, pool_size=2, strides=None, padding="valid",
                         data_format="channels_last", **kwargs):
                extra = _keras_kwargs(kwargs)
                super().__init__(pool_size, strides if strides is not None else pool_size,
                                 padding=padding, data_format=data_format or "channels_last",
                                 **kwargs)
                self._keep(extra)
        Pooling.__name__ = Pooling.__qualname__ = base.__name__
        return Pooling

    def global_pooling(base):
        class Global(_KerasMixin, base):
            def __init__(self, data_format="channels_last", **kwargs):
                extra = _keras_kwargs(kwargs)
                super().__init__(data_format=data_format or "channels_last", **kwargs)
                self._keep(extra)
        Global.__name__ = Global.__qualname__ = base.__name__
        return Global

    out = {"Conv1D": Conv1D, "MaxPooling1D": pooling(L.MaxPooling1D),
           "AveragePooling1D": pooling(L.AveragePooling1D)}
    for n in ("GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling2D",
              "GlobalMaxPooling2D"):
        out[n] = global_pooling(getattr(L, n))
    return out


def install(tf):
    """Adds the layers to tf.keras.layers, with Keras's aliases."""
    classes = _classes()
    layers = tf.keras.layers
    for n, cls in classes.items():
        setattr(layers, n, cls)
    layers.Convolution1D = classes["Conv1D"]
    layers.MaxPool1D = classes["MaxPooling1D"]
    layers.AvgPool1D = classes["AveragePooling1D"]
    layers.GlobalAvgPool1D = classes["GlobalAveragePooling1D"]
    layers.GlobalMaxPool1D = classes["GlobalMaxPooling1D"]
    layers.GlobalAvgPool2D = classes["GlobalAveragePooling2D"]
    layers.GlobalMaxPool2D = classes["GlobalMaxPooling2D"]
