"""The global step: tf.train.get_global_step, create_global_step,
get_or_create_global_step, global_step and assert_global_step (TF 1.15)."""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import GraphKeys, Tensor, get_default_graph
from ..ops import array_ops
from ..variables import Variable

GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


def global_step(sess, global_step_tensor):
    """The global step's current value as a Python int."""
    return int(sess.run(global_step_tensor))


def get_global_step(graph=None):
    """The global step variable of `graph` (the default graph), or None."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:  # TF logs an error and returns None
        return None
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """Creates the int64 scalar variable `global_step` (not trainable, initialized
    to 0, in the GLOBAL_VARIABLES and GLOBAL_STEP collections)."""
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None):
        return Variable(lambda: array_ops.zeros([], dtype=_dt.int64), name="global_step",
                        trainable=False, dtype=_dt.int64,
                        collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step


def assert_global_step(global_step_tensor):
    """Raises TypeError unless the argument is an integer scalar Variable or Tensor."""
    t = global_step_tensor
    if not isinstance(t, (Variable, Tensor)):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: {t}.")
    if not t.dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: {t.dtype}")
    if t.shape.ndims != 0 and t.shape.is_fully_defined():
        raise TypeError(f"Existing \"global_step\" is not a scalar: {t.shape}")

