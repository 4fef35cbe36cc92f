"""TF 1.15's sub-namespaces that re-export functions defined elsewhere:
tf.math, tf.random, tf.io, tf.losses, tf.logging, tf.app, tf.compat.v1."""
from __future__ import annotations

import logging as _logging
import sys
import types


def _namespace(name, doc, **members):
    mod = types.ModuleType(f"tfcompile.{name}", doc)
    for k, v in members.items():
        setattr(mod, k, v)
    sys.modules[mod.__name__] = mod
    return mod


def build(tf):
    """Attaches the namespaces to the `tfcompile` module `tf`."""
    g = tf.__dict__
    pick = lambda *names: {n: g[n] for n in names if n in g}  # noqa: E731

    tf.math = _namespace("math", "tf.math", **pick(
        "abs", "add", "add_n", "argmax", "argmin", "ceil", "cos", "count_nonzero", "cumsum",
        "cumprod", "divide", "equal", "exp", "expm1", "floor", "floordiv", "floormod",
        "greater", "greater_equal", "less", "less_equal", "log", "log1p", "logical_and",
        "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "multiply",
        "negative", "not_equal", "pow", "reciprocal", "reduce_all", "reduce_any",
        "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod",
        "reduce_sum", "round", "rsqrt", "sigmoid", "sign", "sin", "sqrt", "square",
        "squared_difference", "subtract", "tanh", "truediv", "top_k", "in_top_k",
        "div_no_nan", "l2_normalize", "is_finite", "is_nan", "is_inf", "saturate_cast",
        "realdiv", "truncatediv", "truncatemod", "scalar_mul", "log_sigmoid", "cumsum",
        "confusion_matrix", "bincount", "segment_sum", "unsorted_segment_sum"))
    tf.math.mod = g["mod"]
    for k in ("softsign", "zero_fraction", "top_k", "in_top_k", "l2_normalize"):
        setattr(tf.math, k, getattr(tf.nn, k))
    from .ops import composite_ops as _c
    for k in ("tan", "sinh", "cosh", "asinh", "acosh", "atanh", "reduce_std",
              "reduce_variance"):
        setattr(tf.math, k, getattr(_c, k))
    tf.math.divide_no_nan = g["div_no_nan"]
    tf.linalg.tensordot = tf.tensordot
    tf.linalg.matmul = tf.matmul
    tf.math.softplus = tf.nn.softplus
    tf.math.log_softmax = tf.nn.log_softmax
    tf.math.softmax = tf.nn.softmax

    tf.random = _namespace(
        "random", "tf.random", uniform=g["random_uniform"], normal=g["random_normal"],
        truncated_normal=g["truncated_normal"], set_random_seed=g["set_random_seed"],
        shuffle=g.get("random_shuffle"), get_seed=g["get_seed"])

    from . import losses as _losses
    tf.losses = _losses
    sys.modules["tfcompile.losses"] = _losses

    from .train import import_meta_graph, write_graph  # noqa: F401
    tf.io = _namespace("io", "tf.io", write_graph=tf.train.write_graph)

    tf.logging = _namespace(
        "logging", "tf.logging (standard-library logging under TF's names)",
        DEBUG=_logging.DEBUG, INFO=_logging.INFO, WARN=_logging.WARNING,
        WARNING=_logging.WARNING, ERROR=_logging.ERROR, FATAL=_logging.CRITICAL,
        set_verbosity=_logging.getLogger("tfcompile").setLevel,
        get_verbosity=_logging.getLogger("tfcompile").getEffectiveLevel,
        debug=_logging.getLogger("tfcompile").debug, info=_logging.getLogger("tfcompile").info,
        warn=_logging.getLogger("tfcompile").warning,
        warning=_logging.getLogger("tfcompile").warning,
        error=_logging.getLogger("tfcompile").error)

    def run(main=None, argv=None):
        """tf.app.run: calls main(argv) and exits with its return value."""
        main = main or sys.modules["__main__"].main
        sys.exit(main(argv if argv is not None else sys.argv))
    tf.app = _namespace("app", "tf.app", run=run)

    tf.compat = _namespace("compat", "tf.compat", v1=tf)
