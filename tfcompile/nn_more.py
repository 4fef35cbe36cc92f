"""More of tf.nn, composed from existing ops the way TF 1.15 writes them (same
scopes, op order and result names): crelu, swish, log_sigmoid, zero_fraction,
conv1d, separable_conv2d, local_response_normalization, and the moments helpers
sufficient_statistics, normalize_moments and weighted_moments. Their gradients
come from the ops they are built of."""
from __future__ import annotations

from . import dtypes as _dt
from .graph import name_scope
from .ops import array_ops, math_ops
from .ops.constant_op import constant, convert_to_tensor


def crelu(features, name=None, axis=-1):
    """relu of [features, -features] concatenated along `axis`."""
    with name_scope(name, "CRelu", [features]) as scope:
        features = convert_to_tensor(features, name="features")
        c = array_ops.concat([features, -features], axis, name=scope)
        return math_ops.unary("Relu", c)


def swish(features, name=None):
    """features * sigmoid(features). (TF 1.15 wraps it in a function named swish;
    TF 2 in a custom gradient: the value is the same.)"""
    with name_scope(name, "swish", [features]):
        features = convert_to_tensor(features, name="features")
        return features * math_ops.sigmoid(features)


def log_sigmoid(x, name=None):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    from .nn_ops import softplus
    with name_scope(name, "LogSigmoid", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        return math_ops.unary("Neg", softplus(-x), name=scope)


def zero_fraction(value, name=None):
    """The fraction of zeros in `value`, as float32."""
    from .ops.cond_ops import cond
    with name_scope(name, "zero_fraction", [value]):
        value = convert_to_tensor(value, name="value")
        size = array_ops.size(value, out_type=_dt.int64)

        def count(dtype):
            with name_scope(None, "count_nonzero", [value]):
                zero = array_ops.zeros([], dtype=value.dtype)
                nonzero = math_ops.cast(math_ops.not_equal(value, zero), dtype)
                return math_ops.reduce_sum(nonzero, name="nonzero_count")
        num_nonzero = cond(size <= _dt.int32.max,
                           lambda: math_ops.cast(count(_dt.int32), _dt.int64),
                           lambda: count(_dt.int64))
        with name_scope("counts_to_fraction"):
            num_zero = size - num_nonzero
            fraction = math_ops.cast(num_zero, _dt.float32) / math_ops.cast(
                size, _dt.float32)
        return math_ops.identity(fraction, name="fraction")


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None,
           data_format=None, name=None, input=None, dilations=None):  # noqa: A002
    """A 1-D convolution as a 2-D one over a height of 1 ([N, W, C] or [N, C, W])."""
    from .ops.conv_ops import conv2d
    if value is None:
        value = input
    with name_scope(name, "conv1d", [value, filters]) as scope:
        if data_format in (None, "NHWC", "NWC"):
            data_format, spatial, channel = "NHWC", 1, 2
        elif data_format in ("NCHW", "NCW"):
            data_format, spatial, channel = "NCHW", 2, 1
        else:
            raise ValueError('data_format must be "NWC" or "NCW".')
        strides = [1] + _sequence(stride, channel, "stride")
        rates = [1] + _sequence(1 if dilations is None else dilations, channel, "dilations")
        value = array_ops.expand_dims(value, spatial)
        filters = array_ops.expand_dims(filters, 0)
        result = conv2d(value, filters, strides, padding, data_format=data_format,
                        dilations=rates, name=scope)
        return array_ops.squeeze(result, [spatial])


def _sequence(value, channel_index, what):
    """TF's _get_sequence for one spatial dim: [1, v, 1] (NWC) or [1, 1, v] (NCW)."""
    value = [1] if value is None else list(value) if isinstance(value, (list, tuple)) \
        else [value]
    if len(value) == 3:
        return value
    if len(value) != 1:
        raise ValueError(f"{what} should be of length 1 or 3 but was {len(value)}")
    return [1, 1, int(value[0])] if channel_index == 1 else [1, int(value[0]), 1]


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     rate=None, name=None, data_format=None, dilations=None):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    from .ops.conv_ops import conv2d
    from .ops.depthwise_ops import depthwise_conv2d_native
    if rate is None:
        rate = dilations
    rate = [1, 1] if rate is None else [int(r) for r in rate]
    if len(rate) != 2:
        raise ValueError(f"rate must have 2 elements (height, width), got {rate}")
    if rate != [1, 1] and any(int(s) != 1 for s in strides):
        raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
    with name_scope(name, "separable_conv2d",
                    [input, depthwise_filter, pointwise_filter]) as scope:
        x = convert_to_tensor(input, name="tensor_in")
        dw = convert_to_tensor(depthwise_filter, name="depthwise_filter")
        pw = convert_to_tensor(pointwise_filter, name="pointwise_filter")
        pw.shape.assert_has_rank(4)
        if pw.shape.ndims == 4 and pw.shape[0].value not in (None, 1) or \
                pw.shape.ndims == 4 and pw.shape[1].value not in (None, 1):
            raise ValueError(f"Dimensions of pointwise_filter must be 1x1: {pw.shape}")
        fmt = data_format or "NHWC"
        dil = [1, 1] + rate if fmt == "NCHW" else [1] + rate + [1]
        depthwise = depthwise_conv2d_native(x, dw, strides, padding, data_format=fmt,
                                            dilations=dil, name="depthwise")
        return conv2d(depthwise, pw, [1, 1, 1, 1], padding="VALID", data_format=fmt,
                      name=scope)


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5,  # noqa: A002
                                 name=None):
    """input / (bias + alpha * sum of squares over a window of 2 * depth_radius + 1
    channels) ** beta, on NHWC input (TF's LRN op; its result is named LRN)."""
    with name_scope(name, "LRN", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        if x.dtype not in (_dt.float16, _dt.float32):
            raise TypeError(f"Value passed to parameter 'input' has DataType "
                            f"{x.dtype.name} not in list of allowed values: half, float32")
        if x.shape.ndims is not None and x.shape.ndims != 4:
            raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims} for "
                             f"'{scope[:-1]}' (op: 'LRN')")
        r = int(depth_radius)
        sq = math_ops.square(x)
        padded = array_ops.pad(sq, [[0, 0], [0, 0], [0, 0], [r, r]])
        depth = x.shape[3].value if x.shape.ndims == 4 else None
        if depth is None:
            depth = array_ops.shape(x)[3]
        window = math_ops.add_n([padded[:, :, :, k:k + depth] for k in range(2 * r + 1)])
        denom = math_ops.pow(float(bias) + float(alpha) * window, float(beta))
        out = math_ops.binary("RealDiv", x, denom, name=scope)
        out.set_shape(x.shape)
        return out


lrn = local_response_normalization


def sufficient_statistics(x, axes, shift=None, keep_dims=None, name=None, keepdims=None):
    """(count, sum of x - shift, sum of squares of x - shift, shift) over axes."""
    if keepdims is None:
        keepdims = bool(keep_dims)
    axes = list(set(axes))
    with name_scope(name, "sufficient_statistics", [x, shift]):
        x = convert_to_tensor(x, name="x")
        shape = x.shape
        if shape.ndims is not None and all(shape[d].value is not None for d in axes):
            n = 1
            for d in axes:
                n *= shape[d].value
            counts = constant(n, dtype=x.dtype, name="count")
        else:
            dims = array_ops.gather(math_ops.cast(array_ops.shape(x), x.dtype), axes)
            counts = math_ops.reduce_prod(dims, name="count")
        if shift is not None:
            shift = convert_to_tensor(shift, name="shift")
            m_ss = math_ops.subtract(x, shift)
            v_ss = math_ops.squared_difference(x, shift)
        else:
            m_ss, v_ss = x, math_ops.square(x)
        m_ss = math_ops.reduce_sum(m_ss, axes, keepdims=keepdims, name="mean_ss")
        v_ss = math_ops.reduce_sum(v_ss, axes, keepdims=keepdims, name="var_ss")
    return counts, m_ss, v_ss, shift


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """(mean, variance) from sufficient statistics."""
    with name_scope(name, "normalize", [counts, mean_ss, variance_ss, shift]):
        divisor = math_ops.reciprocal(counts, name="divisor")
        if shift is not None:
            shifted_mean = math_ops.multiply(mean_ss, divisor, name="shifted_mean")
            mean = math_ops.add(shifted_mean, shift, name="mean")
        else:
            shifted_mean = math_ops.multiply(mean_ss, divisor, name="mean")
            mean = shifted_mean
        variance = math_ops.subtract(math_ops.multiply(variance_ss, divisor),
                                     math_ops.square(shifted_mean), name="variance")
    return mean, variance


def weighted_moments(x, axes, frequency_weights, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of x over axes, each entry counted frequency_weights times."""
    if keepdims is None:
        keepdims = bool(keep_dims)
    with name_scope(name, "weighted_moments", [x, frequency_weights, axes]):
        x = convert_to_tensor(x, name="x")
        w = convert_to_tensor(frequency_weights, name="frequency_weights")
        y = math_ops.cast(x, _dt.float32) if x.dtype == _dt.float16 else x
        w = math_ops.cast(w, y.dtype)
        weighted_input_sum = math_ops.reduce_sum(w * y, axes, name="weighted_input_sum",
                                                 keepdims=True)
        broadcasted_weights = w + array_ops.zeros_like(y)
        sum_of_weights = math_ops.reduce_sum(broadcasted_weights, axes, name="sum_of_weights",
                                             keepdims=True)
        divisor = math_ops.reciprocal(sum_of_weights, name="inv_weight_sum")
        weighted_mean = math_ops.multiply(weighted_input_sum, divisor)
        weighted_distsq = math_ops.reduce_sum(
            w * math_ops.squared_difference(y, math_ops.stop_gradient(weighted_mean)), axes,
            name="weighted_distsq", keepdims=True)
        weighted_variance = math_ops.multiply(weighted_distsq, divisor)
        if not keepdims:
            weighted_mean = array_ops.squeeze(weighted_mean, axis=axes)
            weighted_variance = array_ops.squeeze(weighted_variance, axis=axes)
        if x.dtype == _dt.float16:
            weighted_mean = math_ops.cast(weighted_mean, _dt.float16)
            weighted_variance = math_ops.cast(weighted_variance, _dt.float16)
        return weighted_mean, weighted_variance
