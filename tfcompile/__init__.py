"""tfcompile: the TensorFlow 1.x graph API, where every Session.run is native code
produced by an optimizing compiler through LLVM.

    import tfcompile as tf
    x = tf.placeholder(tf.float32, [None, 784])
"""
from __future__ import annotations

from . import dtypes, errors, nn
from . import layers
from .init_ops import (constant_initializer, glorot_normal_initializer,
                       glorot_uniform_initializer, initializers, ones_initializer,
                       orthogonal_initializer, random_normal_initializer,
                       random_uniform_initializer, truncated_normal_initializer,
                       uniform_unit_scaling_initializer, variance_scaling_initializer,
                       zeros_initializer)
from .variable_scope import (AUTO_REUSE, VariableScope, get_local_variable, get_variable,
                             get_variable_scope, no_regularizer, variable_scope)
from .config import (ConfigProto, GPUOptions, GraphOptions, OptimizerOptions,
                     RunMetadata, RunOptions)
from .dtypes import (DType, as_dtype, bool, double, float16, float32, float64, half,  # noqa: A004
                     int8, int16, int32, int64, string, uint8, uint16)
from .graph import (Graph, GraphKeys, Operation, Tensor, add_to_collection,
                    add_to_collections, control_dependencies, get_collection,
                    get_collection_ref, get_default_graph, name_scope,
                    reset_default_graph)
from .ops import overloads as _overloads
from .ops.array_ops import (concat, expand_dims, fill, gather, matrix_transpose, one_hot,
                            ones, ones_like, pack, placeholder, placeholder_with_default,
                            range, rank, reshape, shape, size, slice, squeeze, stack,
                            strided_slice, transpose, unpack, unstack, where, where_v2,
                            zeros, zeros_like)
from .ops.manip_ops import (broadcast_to, meshgrid, pad, reverse, reverse_v2, split, tile)
from .ops.index_ops import boolean_mask, gather_nd, scatter_nd, sparse_to_dense
from .ops.sort_ops import argsort, cumprod, cumsum, random_shuffle, sort
from .ops.clip_ops import (clip_by_global_norm, clip_by_norm, clip_by_value, global_norm,
                           reduce_logsumexp)
from .ops.einsum_ops import einsum
from .ops.composite_ops import (Print, acosh, asinh, atanh, cosh, lin_space, linspace,
                                map_fn, sequence_mask, sinh, tan, tensordot)
from .ops.linalg_ops import (cholesky, diag, diag_part, eye, linalg, matrix_band_part,
                             matrix_determinant, matrix_diag, matrix_diag_part,
                             matrix_inverse, matrix_set_diag, matrix_solve,
                             matrix_triangular_solve, norm, trace)
from .ops import conv_grad as _conv_grad, linalg_grad as _linalg_grad  # noqa: F401
from .ops import manip_grad as _manip_grad  # noqa: F401 - registers the gradients
from .ops.constant_op import constant, convert_to_tensor, is_tensor
from .ops.control_flow import group, no_op, tuple  # noqa: A004
from .ops.cond_ops import case, cond, while_loop
from .ops.math_ops import (abs, add, add_n, argmax, argmin, cast, ceil, cos,  # noqa: A004
                           count_nonzero, div, div_no_nan, divide, equal, exp, expm1, floor,
                           floor_div, floordiv, floormod, greater, greater_equal, identity,
                           less, less_equal, log, log1p, logical_and, logical_not,
                           logical_or, logical_xor, matmul, maximum, minimum, mod, multiply,
                           negative, not_equal, pow, realdiv, reciprocal, reduce_all,
                           reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod,
                           reduce_sum, round, rsqrt, scalar_mul, sigmoid, sign, sin, sqrt,
                           saturate_cast, is_finite, is_nan, is_inf,
                           square, squared_difference, stop_gradient, subtract, tanh,
                           to_double, to_float, to_int32, to_int64, truediv, truncatediv,
                           truncatemod)
from .ops.op_util import get_static_value
from .ops.random_ops import (random_normal, random_uniform, set_random_seed,
                             truncated_normal)
from .ops.registry import NoGradient, NotDifferentiable, RegisterGradient
from .session import InteractiveSession, Session, get_default_session
from .tensor_shape import Dimension, TensorShape
from .variables import (Variable, all_variables, assign, assign_add, assign_sub,
                        global_variables, global_variables_initializer,
                        initialize_all_variables, initialize_local_variables,
                        initialize_variables, is_variable_initialized,
                        local_variables, local_variables_initializer, model_variables,
                        trainable_variables, variables_initializer)

from .gradients import AggregationMethod, UnconnectedGradients, gradients
from . import train
from . import aot  # tf.aot.export: a trained model as a C library

_overloads.install()

from . import namespaces as _namespaces  # noqa: E402 - needs the names above

newaxis = None
__version__ = "0.1.0"
VERSION = "1.15.0-tfcompile"
GRAPH_DEF_VERSION = 134
sub = subtract
mul = multiply
neg = negative
log_sigmoid = nn.log_sigmoid


def get_seed(op_seed):
    from .ops.random_ops import get_seed as _g
    return _g(op_seed)


def compile(fetches, feeds, session=None):  # noqa: A001 - the compile-and-run API
    from .api import compile as _c
    return _c(fetches, feeds, session)


def jit(fn=None, **kwargs):
    from .api import jit as _j
    return _j(fn, **kwargs)


_namespaces.build(__import__(__name__))


def _install_op_families():
    """Op families in modules of their own attach their names (and sub-namespaces)
    here, each through its `install(tf)`."""
    import importlib
    import sys as _sys
    me = _sys.modules[__name__]
    for mod in ("ops.segment_ops", "ops.functional_ops", "ops.state_ops", "ops.check_ops",
                "ops.image_ops", "ops.misc_ops", "data", "metrics", "summary",
                "ops.candidate_ops", "keras", "rnn", "app_api", "ops.extra_nn",
                "train.monitored", "ops.script_ops"):
        importlib.import_module(f".{mod}", __name__).install(me)


_install_op_families()
