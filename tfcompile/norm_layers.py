"""tf.layers.BatchNormalization and tf.layers.batch_normalization (TF 1.15),
with TF's variable names (`batch_normalization/gamma`, `beta`, `moving_mean`,
`moving_variance`), op names (`batch_normalization/FusedBatchNormV3` for 4-D
input, `batch_normalization/batchnorm/add_1` otherwise) and moving-average
updates (`batch_normalization/AssignMovingAvg`, `AssignMovingAvg_1`) added to
the UPDATE_OPS collection when training.

`training` may be a Python bool or a bool tensor. With a tensor, TF 1.15 puts
the updates in a tf.cond; ours scale the update by the predicate instead (the
compiler evaluates both branches of a cond), so the moving averages change only
when training is true, as in TF; only those update ops' internals differ.
"""
from __future__ import annotations

from . import dtypes as _dt
from . import init_ops
from .graph import GraphKeys, Tensor, get_default_graph, name_scope
from .layers import Layer
from .ops import array_ops, math_ops
from .ops.constant_op import convert_to_tensor
from .tensor_shape import TensorShape


class BatchNormalization(Layer):
    """Normalizes over all axes but `axis` with the batch statistics when training
    (updating the moving averages) and the moving averages otherwise."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=init_ops.zeros_initializer(),
                 gamma_initializer=init_ops.ones_initializer(),
                 moving_mean_initializer=init_ops.zeros_initializer(),
                 moving_variance_initializer=init_ops.ones_initializer(),
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, fused=None, trainable=True, virtual_batch_size=None,
                 adjustment=None, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("BatchNormalization: renorm, virtual_batch_size and "
                                      "adjustment are not supported")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = True if fused is None else fused  # TF 1.x: fused where it can be
        self.updates = []
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        ndims = input_shape.ndims
        if ndims is None:
            raise ValueError(f"Input has undefined rank: {input_shape}")
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = [a + ndims if a < 0 else a for a in axes]
        for a in axes:
            if not 0 <= a < ndims:
                raise ValueError(f"Invalid axis: {a}")
        if len(set(axes)) != len(axes):
            raise ValueError(f"Duplicate axis: {axes}")
        self.axis = axes
        self.fused = bool(self.fused) and ndims == 4 and axes in ([1], [3])
        if self.fused:
            self._data_format = "NCHW" if axes == [1] else "NHWC"
        dims = {a: input_shape[a].value for a in axes}
        for a, d in dims.items():
            if d is None:
                raise ValueError(f"Input has undefined `axis` dimension. Input shape: "
                                 f"{input_shape}")
        param_shape = [dims[axes[0]]] if len(axes) == 1 else \
            [dims[i] if i in dims else 1 for i in range(ndims)]
        dtype = _dt.float32 if self._dtype in (None, _dt.float16) else self._dtype
        self._param_dtype = dtype
        if self.scale:
            self.gamma = self.add_weight("gamma", param_shape, dtype=dtype,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", param_shape, dtype=dtype,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", param_shape, dtype=dtype,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", param_shape, dtype=dtype,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    # ---- the moving averages
    def _assign_moving_average(self, variable, value, momentum, gate=None):
        from .variables import assign_sub
        with name_scope(None, "AssignMovingAvg") as scope:
            decay = convert_to_tensor(1.0 - momentum, name="decay") if not isinstance(
                momentum, Tensor) else 1.0 - momentum
            if decay.dtype != variable.dtype:
                decay = math_ops.cast(decay, variable.dtype)
            delta = (variable - math_ops.cast(value, variable.dtype)) * decay
            if gate is not None:  # a training tensor: no update unless it is true
                delta = delta * math_ops.cast(gate, delta.dtype)
            return assign_sub(variable, delta, name=scope)

    def _add_updates(self, mean, variance, momentum, gate):
        ups = [self._assign_moving_average(self.moving_mean, mean, momentum, gate),
               self._assign_moving_average(self.moving_variance, variance, momentum, gate)]
        self.updates.extend(ups)
        get_default_graph().add_to_collections([GraphKeys.UPDATE_OPS], ups[0])
        get_default_graph().add_to_collections([GraphKeys.UPDATE_OPS], ups[1])

    # ---- the forward pass
    def call(self, inputs, training=False):
        training_value = _static_bool(training)
        if self.fused:
            return self._fused(inputs, training, training_value)
        ndims = inputs.shape.ndims
        reduction_axes = [i for i in range(ndims) if i not in self.axis]
        broadcast_shape = [1] * ndims
        broadcast_shape[self.axis[0]] = inputs.shape[self.axis[0]].value

        def broadcast(v):
            if v is not None and v.shape.ndims != ndims and \
                    reduction_axes != list(range(ndims - 1)):
                return array_ops.reshape(v, broadcast_shape)
            return v
        scale, offset = broadcast(self.gamma), broadcast(self.beta)
        if training_value is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            from .nn_impl import moments
            keep_dims = len(self.axis) > 1
            mean, variance = moments(math_ops.cast(inputs, self._param_dtype), reduction_axes,
                                     keep_dims=keep_dims)
            if training_value is None:
                from .ops.cond_ops import cond
                batch_mean, batch_var = mean, variance
                mean = cond(training, lambda: batch_mean,
                            lambda: convert_to_tensor(self.moving_mean))
                variance = cond(training, lambda: batch_var,
                                lambda: convert_to_tensor(self.moving_variance))
            self._add_updates(mean, variance, self.momentum,
                              None if training_value else training)
        mean = math_ops.cast(mean, inputs.dtype)
        variance = math_ops.cast(variance, inputs.dtype)
        if offset is not None:
            offset = math_ops.cast(offset, inputs.dtype)
        if scale is not None:
            scale = math_ops.cast(scale, inputs.dtype)
        from .nn_impl import batch_normalization
        outputs = batch_normalization(inputs, broadcast(mean), broadcast(variance), offset,
                                      scale, self.epsilon)
        outputs.set_shape(inputs.shape)
        return outputs

    def _fused(self, inputs, training, training_value):
        from .ops.batchnorm_ops import fused_batch_norm
        gamma = self.gamma if self.scale else array_ops.ones_like(self.moving_mean)
        beta = self.beta if self.center else array_ops.zeros_like(self.moving_mean)

        def train():
            return fused_batch_norm(inputs, gamma, beta, epsilon=self.epsilon,
                                    data_format=self._data_format)

        def infer():
            return fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean,
                                    variance=self.moving_variance, epsilon=self.epsilon,
                                    is_training=False, data_format=self._data_format)
        if training_value is None:
            from .ops.cond_ops import cond
            output, mean, variance = cond(training, train, infer)
            momentum = cond(training, lambda: convert_to_tensor(self.momentum),
                            lambda: convert_to_tensor(1.0))
        else:
            output, mean, variance = train() if training_value else infer()
            momentum = convert_to_tensor(self.momentum)
        if training_value is not False:
            self._add_updates(mean, variance, momentum, None)
        return output


def _static_bool(training):
    """True or False when `training` is known while building, else None."""
    if isinstance(training, Tensor):
        from .ops.op_util import constant_value
        v = constant_value(training)
        return None if v is None else bool(v)
    return bool(training)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True,
                        scale=True, beta_initializer=init_ops.zeros_initializer(),
                        gamma_initializer=init_ops.ones_initializer(),
                        moving_mean_initializer=init_ops.zeros_initializer(),
                        moving_variance_initializer=init_ops.ones_initializer(),
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    """tf.layers.batch_normalization. When training, run the UPDATE_OPS with the
    training step, as in TF 1.x:

        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train_op = optimizer.minimize(loss)
    """
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs, training=training)
