"""tf.ConfigProto and friends: accepted for compatibility; the fields the
compiler uses are intra_op_parallelism_threads and the optimizer options."""
from __future__ import annotations


class _Options:
    """A permissive protobuf-like message: unknown fields are stored as given."""

    _defaults: dict = {}

    def __init__(self, **kwargs):
        for k, v in self._defaults.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in kwargs.items():
            setattr(self, k, v)

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class GPUOptions(_Options):
    _defaults = {"allow_growth": False, "per_process_gpu_memory_fraction": 1.0,
                 "visible_device_list": ""}


class OptimizerOptions(_Options):
    L1 = 0
    L0 = -1
    DEFAULT = 0
    OFF = 1
    ON_1 = 1
    ON_2 = 2
    _defaults = {"opt_level": 0, "do_constant_folding": True,
                 "do_common_subexpression_elimination": True,
                 "do_function_inlining": True, "global_jit_level": 0}


class GraphOptions(_Options):
    _defaults = {"optimizer_options": OptimizerOptions, "infer_shapes": False,
                 "place_pruned_graph": False, "enable_bfloat16_sendrecv": False}


class ConfigProto(_Options):
    """tf.ConfigProto(intra_op_parallelism_threads=0, ...).

    `tfc_optimize=False` (or TFC_OPT=0 in the environment, or
    graph_options.optimizer_options.opt_level = OptimizerOptions.L0) compiles
    without the optimization passes."""
    _defaults = {"intra_op_parallelism_threads": 0, "inter_op_parallelism_threads": 0,
                 "allow_soft_placement": False, "log_device_placement": False,
                 "device_count": dict, "gpu_options": GPUOptions,
                 "graph_options": GraphOptions, "operation_timeout_in_ms": 0,
                 "use_per_session_threads": False, "tfc_optimize": None}


class RunOptions(_Options):
    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3
    _defaults = {"trace_level": 0, "timeout_in_ms": 0}


class RunMetadata(_Options):
    _defaults = {"step_stats": None, "cost_graph": None}
