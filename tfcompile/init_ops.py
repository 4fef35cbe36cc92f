"""Variable initializers with TF 1.15's names and signatures (tf.zeros_initializer,
tf.glorot_uniform_initializer, tf.initializers.*, ...).

An initializer is a callable `init(shape, dtype=None, partition_info=None)`
returning a tensor of that shape: the graph ops (constants, random ops) that
compute the initial value.
"""
from __future__ import annotations

import math
import types

import numpy as np

from . import dtypes as _dt
from .ops import array_ops, random_ops
from .ops.constant_op import constant


def _assert_float_dtype(dtype):
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def _as_list(shape):
    from .tensor_shape import TensorShape
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [int(d) for d in shape]


class Initializer:
    """Base class: subclasses implement __call__(shape, dtype, partition_info)."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, "
                                  "dtype=None, partition_info=None)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def __init__(self, dtype=_dt.float32):
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.zeros(_as_list(shape), dtype or self.dtype)

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    def __init__(self, dtype=_dt.float32):
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.ones(_as_list(shape), dtype or self.dtype)

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """A constant value: a scalar fills the shape; a list or array must have the
    shape's number of elements (or fewer: TF 1.x repeats the last one)."""

    def __init__(self, value=0, dtype=_dt.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value: {type(value)} (expected "
                            "Python scalar, list or tuple of values, or numpy.ndarray).")
        self.value = value
        self.dtype = _dt.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dtype = _dt.as_dtype(dtype or self.dtype)
        verify = self._verify_shape if verify_shape is None else verify_shape
        shape = _as_list(shape)
        arr = np.asarray(self.value)
        n = int(np.prod(shape, dtype=np.int64))
        if not verify and 1 < arr.size < n:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.repeat(flat[-1:], n - flat.size)])
            return constant(arr.astype(dtype.as_numpy_dtype), shape=shape)
        return constant(self.value, dtype=dtype, shape=shape, verify_shape=verify)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    def __init__(self, minval=0, maxval=None, seed=None, dtype=_dt.float32):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(_as_list(shape), self.minval, self.maxval,
                                         dtype or self.dtype, seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_dt.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(_as_list(shape), self.mean, self.stddev,
                                        dtype or self.dtype, seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal values more than two standard deviations from the mean redrawn."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(_as_list(shape), self.mean, self.stddev,
                                           dtype or self.dtype, seed=self.seed)


class UniformUnitScaling(Initializer):
    """Uniform in +-sqrt(3 / input size) * factor (deprecated in TF, kept for old code)."""

    def __init__(self, factor=1.0, seed=None, dtype=_dt.float32):
        self.factor = factor
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _as_list(shape)
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        input_size = 1.0
        for d in scale_shape[:-1]:
            input_size *= float(d)
        input_size = max(input_size, 1.0)
        max_val = math.sqrt(3 / input_size) * self.factor
        return random_ops.random_uniform(shape, -max_val, max_val, dtype or self.dtype,
                                         seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


def _compute_fans(shape):
    """(fan_in, fan_out): a matrix [in, out]; a conv kernel [..., in, out] times its
    receptive field."""
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive = 1.0
        for d in shape[:-2]:
            receptive *= d
        fan_in = shape[-2] * receptive
        fan_out = shape[-1] * receptive
    return int(fan_in), int(fan_out)


# std of a standard normal truncated to [-2, 2]: dividing by it makes the
# truncated distribution's std the requested one.
_TRUNCATED_STD = .87962566103423978


class VarianceScaling(Initializer):
    """Samples with variance scale / n, n the fan_in, fan_out or their mean:
    truncated normal (std corrected for the truncation), untruncated normal, or
    uniform in +-sqrt(3 * scale / n)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=_dt.float32):
        if scale <= 0.:
            raise ValueError("`scale` must be positive float.")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtype or self.dtype
        shape = _as_list(shape)
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        fan_in, fan_out = _compute_fans(scale_shape)
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1., fan_in)
        elif self.mode == "fan_out":
            scale /= max(1., fan_out)
        else:
            scale /= max(1., (fan_in + fan_out) / 2.)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATED_STD
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype,
                                            seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)) (Xavier)."""

    def __init__(self, seed=None, dtype=_dt.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Truncated normal with std sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=_dt.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a
    normal matrix. The compiler has no QR, so the matrix is computed when the
    graph is built and stored as a constant (seeded by the graph and op seeds,
    like the random ops)."""

    def __init__(self, gain=1.0, seed=None, dtype=_dt.float32):
        self.gain = gain
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dt.as_dtype(dtype or self.dtype)
        shape = _as_list(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        s1, s2 = random_ops.get_seed(self.seed)
        rng = np.random.default_rng(None if s1 is None else (s1, s2))
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # unique decomposition: uniform over orthogonal matrices
        if rows < cols:
            q = q.T
        value = (self.gain * q).reshape(shape).astype(dtype.as_numpy_dtype)
        return constant(value)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """gain times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=_dt.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dt.as_dtype(dtype or self.dtype)
        shape = _as_list(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        return constant(self.gain * np.eye(*shape, dtype=dtype.as_numpy_dtype))

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


def lecun_normal(seed=None):
    return VarianceScaling(1., "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1., "fan_in", "uniform", seed)


def he_normal(seed=None):
    return VarianceScaling(2., "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2., "fan_in", "uniform", seed)


# TF 1.15's exported names
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal


def _initializers_namespace():
    """tf.initializers: the initializer classes under their short names, and the
    variable-initializer ops."""
    from . import variables
    ns = types.ModuleType("tfcompile.initializers",
                          "Initializers (tf.initializers): tf.initializers.zeros() etc.")
    for name, obj in {
            "zeros": Zeros, "ones": Ones, "constant": Constant,
            "random_uniform": RandomUniform, "random_normal": RandomNormal,
            "truncated_normal": TruncatedNormal, "uniform_unit_scaling": UniformUnitScaling,
            "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
            "glorot_normal": GlorotNormal, "orthogonal": Orthogonal, "identity": Identity,
            "lecun_normal": lecun_normal, "lecun_uniform": lecun_uniform,
            "he_normal": he_normal, "he_uniform": he_uniform,
            "global_variables": variables.global_variables_initializer,
            "local_variables": variables.local_variables_initializer,
            "variables": variables.variables_initializer}.items():
        setattr(ns, name, obj)
    return ns


initializers = _initializers_namespace()
