"""TF 1.x cross-check, part 2: build- and run-time outcomes of many small cases
(results, or the exception class raised) under tfcompile and TensorFlow.
See test_tf_crosscheck.py for the harness and the reference (TF 1.15)."""
import collections

import numpy as np
import pytest

import tfcompile

from test_tf_crosscheck import _meta, v1  # noqa: F401 - skips without TensorFlow

pytestmark = pytest.mark.slow

# ---------------------------------------------------------------- build- and run-time outcomes

def _outcome(module, case):
    """What a case gives: ("ok", a comparable form of its result) or the name of
    the error class it raises (TF's OpError subclasses by their own name)."""
    g = module.Graph()
    with g.as_default(), module.Session(graph=g) as s:
        try:
            r = case(module, s)
        except Exception as e:  # noqa: BLE001 - the class is what we compare
            for name in ("InvalidArgumentError", "FailedPreconditionError", "NotFoundError",
                         "UnimplementedError", "OutOfRangeError"):
                if isinstance(e, getattr(module.errors, name)):
                    return name
            return type(e).__name__
    return "ok", _comparable(r)


def _run_error(tf, s, build, value):
    """The "indices... " sentence of the InvalidArgumentError a run with index feed
    `value` raises (TF 2 wraps it in lines of its own), or what the run returns."""
    import re
    i = tf.placeholder(tf.int32, None)
    try:
        return s.run(build(i), {i: value})
    except (tf.errors.InvalidArgumentError, tf.errors.InternalError) as e:
        lines = [ln for ln in e.message.splitlines() if ln.strip() and not ln.startswith(
            (" ", "\t", "Graph execution", "Detected at", "Node:"))]
        first = re.sub(r", node name: .*", "", lines[0]) if lines else e.message
        return type(e).__name__ + ": " + first


def _comparable(r):
    if hasattr(r, "op") and hasattr(r, "shape") and hasattr(r, "dtype"):
        return ("tensor",) + _meta(r)
    if hasattr(r, "node_def") and hasattr(r, "type"):
        return ("op", r.name, r.type)
    if isinstance(r, (np.ndarray, np.generic)):
        return (type(r).__name__, str(r.dtype), r.tolist())
    if isinstance(r, (list, tuple)):
        return type(r).__name__, [_comparable(x) for x in r]
    if isinstance(r, dict):
        return {k: _comparable(v) for k, v in r.items()}
    return r


def _init(tf, s):
    s.run(tf.global_variables_initializer())


def _feed_model(tf):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable([1.0, 2.0], name="v")
    return x, v, x * v


NT = collections.namedtuple("NT", "a b")


def _with_model(body):
    def case(tf, s):
        x, v, y = _feed_model(tf)
        return body(tf, s, x, v, y)
    return case


def _in_other_graph(tf, make):
    g = tf.Graph()
    with g.as_default():
        return make()


OUTCOME_CASES = {
    # conversions of Python and numpy values in ops (the function forms convert
    # x by itself and y to x's dtype; the operators let a Python value take the
    # dtype of the tensor it meets)
    "add_py_first": lambda tf, s: tf.add(1, tf.placeholder(tf.float32)),
    "mul_py_first": lambda tf, s: tf.multiply(2, tf.placeholder(tf.float32)),
    "max_py_first": lambda tf, s: tf.maximum(0, tf.placeholder(tf.float32)),
    "truediv_py_first": lambda tf, s: tf.truediv(1, tf.placeholder(tf.float32)),
    "divide_py_first": lambda tf, s: tf.divide(1, tf.placeholder(tf.float32)),
    "div_py_first": lambda tf, s: tf.div(1, tf.placeholder(tf.float32)),
    "where_py_first": lambda tf, s: tf.where(tf.placeholder(tf.bool, [3]), 1,
                                             tf.placeholder(tf.float32, [3])),
    "where_py_second": lambda tf, s: tf.where(tf.placeholder(tf.bool, [3]),
                                              tf.placeholder(tf.float32, [3]), 0),
    "add_np64_array": lambda tf, s: tf.add(tf.placeholder(tf.float32, [3]), np.ones(3)),
    # an index out of range fails the run, with TF's message
    "gather_oob_fed": lambda tf, s: _run_error(tf, s, lambda i: tf.gather(
        tf.constant([[1., 2.], [3., 4.]]), i), [[0, 1], [2, 0]]),
    "gather_oob_negative": lambda tf, s: _run_error(tf, s, lambda i: tf.gather(
        tf.constant([1., 2., 3.]), i), [1, -1]),
    "gather_oob_scalar": lambda tf, s: _run_error(tf, s, lambda i: tf.gather(
        tf.constant([1., 2., 3.]), i), 5),
    "gather_oob_axis1": lambda tf, s: _run_error(tf, s, lambda i: tf.gather(
        tf.ones([2, 3]), i, axis=1), [[3]]),
    "gather_nd_oob": lambda tf, s: _run_error(tf, s, lambda i: tf.gather_nd(
        tf.ones([3, 5]), i), [[0, 1], [4, 3]]),
    "embedding_oob": lambda tf, s: _run_error(tf, s, lambda i: tf.nn.embedding_lookup(
        tf.ones([4, 2]), i), [[1], [9]]),
    "sparse_xent_label_oob": lambda tf, s: _run_error(tf, s, lambda i: (
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=i, logits=tf.ones([3, 4]))),
        [0, 4, 1]),
    "sparse_xent_label_negative": lambda tf, s: _run_error(tf, s, lambda i: (
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=i, logits=tf.ones([2, 4]))),
        [-1, 2]),
    "scatter_nd_oob": lambda tf, s: _run_error(tf, s, lambda i: tf.scatter_nd(
        i, tf.ones([2]), [4]), [[1], [5]]),
    "sparse_to_dense_oob": lambda tf, s: _run_error(tf, s, lambda i: tf.sparse_to_dense(
        i, [4], 1.0), [1, 5]),
    "sparse_to_dense_unsorted": lambda tf, s: _run_error(tf, s, lambda i: tf.sparse_to_dense(
        i, [4], tf.constant([1., 2., 3.])), [1, 3, 0]),
    "sparse_to_dense_repeated": lambda tf, s: _run_error(tf, s, lambda i: tf.sparse_to_dense(
        i, [3, 3], tf.constant([1., 2., 3.])), [[0, 1], [1, 2], [1, 2]]),
    "sparse_to_dense_oob_2d": lambda tf, s: _run_error(tf, s, lambda i: tf.sparse_to_dense(
        i, [3, 3], 1.0), [[0, 1], [1, 3]]),
    "sparse_to_dense_sorted_2d": lambda tf, s: _run_error(tf, s, lambda i: tf.sparse_to_dense(
        i, [3, 3], tf.constant([1., 2., 3.])), [[0, 1], [1, 0], [2, 2]]),
    "sparse_to_dense_unvalidated_last_wins": lambda tf, s: _run_error(
        tf, s, lambda i: tf.sparse_to_dense(i, [4], tf.constant([1., 2., 3., 4.]),
                                            validate_indices=False), [2, 0, 2, 1]),
    "floordiv_by_zero": lambda tf, s: _run_error(tf, s, lambda i: i // tf.constant([0, 1]),
                                                 [3, 4]),
    "mod_by_zero": lambda tf, s: _run_error(tf, s, lambda i: i % tf.constant([1, 0]), [3, 4]),
    "div_by_fed_zero": lambda tf, s: _run_error(tf, s, lambda i: tf.constant([6, 6]) // i,
                                                [3, 0]),
    "truncatediv_by_zero": lambda tf, s: _run_error(tf, s, lambda i: tf.truncatediv(
        tf.constant([6, 6]), i), [3, 0]),
    "inverse_singular": lambda tf, s: _run_error(tf, s, lambda i: tf.matrix_inverse(
        tf.cast(i, tf.float32)), [[1, 1], [1, 1]]),
    "solve_singular": lambda tf, s: _run_error(tf, s, lambda i: tf.matrix_solve(
        tf.cast(i, tf.float32), tf.ones([2, 1])), [[1, 1], [1, 1]]),
    "npi64_scalar": lambda tf, s: tf.placeholder(tf.int32, [3]) * np.int64(2),
    "int_times_float": lambda tf, s: tf.constant([1, 2]) * 1.5,
    "float_times_int": lambda tf, s: tf.constant([1., 2]) * 2,
    "int32_plus_int64": lambda tf, s: tf.constant([1, 2]) + tf.constant([1, 2], tf.int64),
    "int64_plus_big": lambda tf, s: tf.constant([1, 2], tf.int64) + 2**40,
    "div_int32": lambda tf, s: tf.constant(3) / 2, "div_int64": lambda tf, s: tf.constant(3, tf.int64) / 2,
    "div_int16": lambda tf, s: tf.constant(3, tf.int16) / 2,
    # the narrow integer types: computed in int32, wrapped as TF's arithmetic wraps
    "uint8_feed_cast": lambda tf, s: (lambda x: s.run(
        [tf.cast(x, tf.float32) * 0.5, x + tf.constant(200, tf.uint8), x * 3, x - 20,
         tf.reduce_sum(x, 1), tf.reduce_max(x), x // 7, tf.maximum(x, 50), x > 100],
        {x: np.array([[0, 10, 255, 100], [1, 2, 3, 4]], np.uint8)}))(
        tf.placeholder(tf.uint8, [None, 4])),
    "int8_int16_arith": lambda tf, s: (lambda x: s.run(
        [tf.cast(x, tf.int8) * tf.constant(2, tf.int8), tf.cast(x, tf.int16) * 400,
         tf.cast(tf.cast(x, tf.uint16) + 65000, tf.int32), -tf.cast(x, tf.int8)],
        {x: [100, -100, 7]}))(tf.placeholder(tf.int32, [3])),
    "uint8_fetch_dtype": lambda tf, s: s.run(tf.constant([1, 2], tf.uint8) + 255),
    "div_uint8": lambda tf, s: tf.constant(3, tf.uint8) / 2,
    "floordiv_int": lambda tf, s: tf.constant(-7) // 2,
    "floordiv_float": lambda tf, s: tf.constant(-7.0) // 2,
    "mod_float_value": lambda tf, s: s.run(tf.constant(-7.5) % 2),
    "mod_int_values": lambda tf, s: s.run(tf.constant([-7, 7]) % -3),
    "floordiv_values": lambda tf, s: s.run(tf.constant([-7, 7]) // -3),
    "truncatediv_values": lambda tf, s: s.run(tf.truncatediv(tf.constant([-7, 7]), -3)),
    "truncatemod_values": lambda tf, s: s.run(tf.truncatemod(tf.constant([-7, 7]), -3)),
    "div_int_values": lambda tf, s: s.run(tf.div(tf.constant([-7, 7]), 2)),
    "div_float_values": lambda tf, s: s.run(tf.div(tf.constant([-7., 7]), 2)),
    "truediv_int_values": lambda tf, s: s.run(tf.constant([-7, 7]) / 2),
    # tf.constant's dtype rules
    "const_bool_as_int": lambda tf, s: tf.constant(True, tf.int32),
    "const_int_as_bool": lambda tf, s: tf.constant(1, tf.bool),
    "const_float_as_int": lambda tf, s: tf.constant(1.0, tf.int32),
    "const_int_as_float": lambda tf, s: s.run(tf.constant(1, tf.float32)),
    "const_big": lambda tf, s: tf.constant(2**40), "const_big_list": lambda tf, s: tf.constant([1, 2**40]),
    "const_too_big": lambda tf, s: tf.constant(2**70),
    "const_ragged": lambda tf, s: tf.constant([[1, 2], [3]]),
    "const_mixed": lambda tf, s: tf.constant([1, 2.5]),
    "const_mixed_bool": lambda tf, s: tf.constant([True, 1]),
    "const_none": lambda tf, s: tf.constant(None),
    "const_fill_shape": lambda tf, s: s.run(tf.constant(3.0, shape=[2, 2])),
    "const_repeat_last": lambda tf, s: s.run(tf.constant([1, 2], shape=[2, 2])),
    "const_too_many": lambda tf, s: tf.constant([1, 2, 3], shape=[2]),
    "const_reshaped": lambda tf, s: s.run(tf.constant([1, 2, 3, 4], shape=[2, 2])),
    "const_np_f64": lambda tf, s: tf.constant(np.float64(1)),
    "const_np_u16": lambda tf, s: tf.constant(np.arange(2, dtype=np.uint16)),
    "const_np_to_int": lambda tf, s: s.run(tf.constant(np.array([1.7, -1.7]), tf.int32)),
    "const_list_np32": lambda tf, s: tf.constant([np.float32(1), 2.0]),
    "const_empty": lambda tf, s: tf.constant([]), "const_empty2": lambda tf, s: tf.constant([[], []]),
    # casts
    "cast_float_to_int": lambda tf, s: s.run(tf.cast(tf.constant([1.7, -1.7, 2.5]), tf.int32)),
    "cast_float_to_bool": lambda tf, s: s.run(tf.cast(tf.constant([0.0, -1.7, 0.5]), tf.bool)),
    "cast_int_to_bool": lambda tf, s: s.run(tf.cast(tf.constant([0, 2]), tf.bool)),
    "cast_bool_to_double": lambda tf, s: s.run(tf.cast(tf.constant([True, False]), tf.float64)),
    "cast_int64_to_int32": lambda tf, s: s.run(tf.cast(tf.constant([2**33 + 5], tf.int64), tf.int32)),
    "cast_python": lambda tf, s: tf.cast(1.5, tf.int32),
    "cast_python_list": lambda tf, s: s.run(tf.cast([1.5, 2.5], tf.int32)),
    "cast_named": lambda tf, s: tf.cast(tf.constant(1), tf.float32, name="c"),
    "cast_same_named": lambda tf, s: tf.cast(tf.constant(1.0), tf.float32, name="c"),
    "round_half_even": lambda tf, s: s.run(tf.round(tf.constant([0.5, 1.5, 2.5, -0.5]))),
    "abs_int": lambda tf, s: s.run(tf.abs(tf.constant([-3, 2]))),
    # op dtype checks
    "neg_bool": lambda tf, s: -tf.constant(True), "sqrt_int": lambda tf, s: tf.sqrt(tf.constant(4)),
    "exp_int": lambda tf, s: tf.exp(tf.constant(4)), "log_int": lambda tf, s: tf.log(tf.constant(4)),
    "sigmoid_int": lambda tf, s: tf.sigmoid(tf.constant(4)),
    "square_bool": lambda tf, s: tf.square(tf.constant(True)),
    "add_bool": lambda tf, s: tf.constant(True) + tf.constant(False),
    "logical_and_int": lambda tf, s: tf.logical_and(tf.constant(1), tf.constant(0)),
    "sum_bool": lambda tf, s: tf.reduce_sum(tf.constant([True])),
    "all_float": lambda tf, s: tf.reduce_all(tf.constant([1.0])),
    "mean_int": lambda tf, s: s.run(tf.reduce_mean(tf.constant([1, 2]))),
    # reductions and argmax
    "reduce_axis_out_of_range": lambda tf, s: tf.reduce_sum(tf.zeros([2, 3]), 2),
    "reduce_axis_negative_oob": lambda tf, s: tf.reduce_sum(tf.zeros([2, 3]), -3),
    "reduce_float_axis": lambda tf, s: tf.reduce_sum(tf.zeros([2, 3]), 1.0),
    "reduce_repeated_axis": lambda tf, s: tf.reduce_sum(tf.zeros([2, 3]), [1, 1]),
    "reduce_axis_placeholder": lambda tf, s: tf.reduce_sum(tf.zeros([2, 3]),
                                                           tf.placeholder(tf.int32)),
    "reduce_axis_placeholder_keep": lambda tf, s: tf.reduce_sum(
        tf.zeros([2, 3]), tf.placeholder(tf.int32), keepdims=True),
    "reduce_python_scalar": lambda tf, s: tf.reduce_sum(3.0),
    "reduce_scalar_axis0": lambda tf, s: tf.reduce_sum(3.0, 0),
    "reduce_empty_max": lambda tf, s: s.run(tf.reduce_max(tf.zeros([0, 3]), 0)),
    "reduce_empty_prod": lambda tf, s: s.run(tf.reduce_prod(tf.zeros([0, 3]), 0)),
    "reduce_empty_mean": lambda tf, s: np.isnan(s.run(tf.reduce_mean(tf.zeros([0, 3]), 0))),
    "argmax_axis_oob": lambda tf, s: tf.argmax(tf.zeros([2, 3]), 2),
    "argmax_scalar": lambda tf, s: tf.argmax(3.0),
    "argmax_float_type": lambda tf, s: tf.argmax(tf.zeros([2, 3]), 1, output_type=tf.float32),
    "argmax_default_axis": lambda tf, s: tf.argmax(tf.zeros([2, 3])),
    "argmin_ties": lambda tf, s: s.run(tf.argmin(tf.constant([[1, 1, 3], [2, 0, 0]]), 1)),
    "argmax_nan": lambda tf, s: s.run(tf.argmax(tf.constant([1.0, np.nan, 3.0]))),
    "maximum_nan": lambda tf, s: np.isnan(s.run(tf.maximum(tf.constant([1.0, np.nan]), 2.0))),
    "relu_nan": lambda tf, s: np.isnan(s.run(tf.nn.relu(tf.constant([1.0, np.nan, -1.0])))),
    # matmul
    "matmul_int": lambda tf, s: s.run(tf.matmul(tf.ones([2, 2], tf.int32), tf.ones([2, 2], tf.int32))),
    "matmul_bool": lambda tf, s: tf.matmul(tf.ones([2, 2], tf.bool), tf.ones([2, 2], tf.bool)),
    "matmul_rank1": lambda tf, s: tf.matmul(tf.ones([2]), tf.ones([2, 2])),
    "matmul_mixed": lambda tf, s: tf.matmul(tf.ones([2, 2]), tf.ones([2, 2], tf.float64)),
    "matmul_batch_2d": lambda tf, s: tf.matmul(tf.ones([5, 2, 3]), tf.ones([3, 4])),
    "matmul_batch_bad": lambda tf, s: tf.matmul(tf.ones([5, 2, 3]), tf.ones([4, 3, 4])),
    "matmul_unknown": lambda tf, s: tf.matmul(tf.placeholder(tf.float32), tf.ones([3, 4])),
    "matmul_run_bad": lambda tf, s: (lambda a: s.run(tf.matmul(a, tf.ones([3, 4])),
                                                     {a: np.ones((2, 2))}))(
        tf.placeholder(tf.float32, [None, None])),
    # reshape
    "reshape_two_unknown": lambda tf, s: tf.reshape(tf.zeros([6]), [-1, -1]),
    "reshape_indivisible": lambda tf, s: tf.reshape(tf.zeros([7]), [-1, 2]),
    "reshape_float_shape": lambda tf, s: tf.reshape(tf.zeros([6]), [2.0, 3.0]),
    "reshape_run_bad": lambda tf, s: (lambda a: s.run(tf.reshape(a, [2, 2]), {a: np.ones(3)}))(
        tf.placeholder(tf.float32)),
    "reshape_partial": lambda tf, s: tf.reshape(tf.placeholder(tf.float32, [None, 4]), [-1, 2]),
    "reshape_partial2": lambda tf, s: tf.reshape(tf.placeholder(tf.float32, [None, 4, 6]), [2, -1, 3]),
    "reshape_partial3": lambda tf, s: tf.reshape(tf.placeholder(tf.float32, [2, None]), [-1, 4]),
    "reshape_partial4": lambda tf, s: tf.reshape(tf.placeholder(tf.float32, [None, 4]), [2, -1]),
    "reshape_partial_same": lambda tf, s: tf.reshape(tf.placeholder(tf.float32, [None, 4]), [-1, 4]),
    "reshape_partial_odd": lambda tf, s: tf.reshape(tf.placeholder(tf.float32, [None, 4]), [-1, 3]),
    "reshape_zero_size": lambda tf, s: tf.reshape(tf.zeros([0, 4]), [-1, 0]),
    "reshape_to_scalar": lambda tf, s: tf.reshape(tf.zeros([1, 1]), []),
    "reshape_python": lambda tf, s: tf.reshape([1, 2, 3, 4], [2, 2]),
    "reshape_shape_placeholder": lambda tf, s: tf.reshape(tf.zeros([4]), tf.placeholder(tf.int32, [2])),
    "reshape_shape_tensor_elems": lambda tf, s: tf.reshape(
        tf.placeholder(tf.float32, [None, 6]),
        [tf.shape(tf.placeholder(tf.float32, [None, 2]))[0], -1]),
    # transpose, concat, stack, squeeze, expand_dims
    "transpose_duplicate_perm": lambda tf, s: tf.transpose(tf.zeros([2, 3]), [0, 0]),
    "transpose_perm_length": lambda tf, s: tf.transpose(tf.zeros([2, 3]), [0, 1, 2]),
    "transpose_unknown_rank": lambda tf, s: tf.transpose(tf.placeholder(tf.float32)),
    "transpose_named": lambda tf, s: tf.transpose(tf.zeros([2, 3]), name="tt"),
    "concat_rank_mismatch": lambda tf, s: tf.concat([tf.zeros([2, 3]), tf.zeros([3])], 0),
    "concat_dim_mismatch": lambda tf, s: tf.concat([tf.zeros([2, 3]), tf.zeros([2, 4])], 0),
    "concat_dtype_mismatch": lambda tf, s: tf.concat([tf.zeros([2, 3]), tf.zeros([2, 3], tf.int32)], 0),
    "concat_axis_oob": lambda tf, s: tf.concat([tf.zeros([2, 3]), tf.zeros([2, 3])], 2),
    "concat_nothing": lambda tf, s: tf.concat([], 0),
    "concat_python": lambda tf, s: tf.concat([[1, 2], [3]], 0),
    "concat_unknown_rank": lambda tf, s: tf.concat([tf.placeholder(tf.float32), tf.zeros([2, 3])], 0),
    "concat_partial": lambda tf, s: tf.concat([tf.placeholder(tf.float32, [None, 3]),
                                               tf.placeholder(tf.float32, [2, None])], 1),
    "stack_shape_mismatch": lambda tf, s: tf.stack([tf.zeros([2]), tf.zeros([3])]),
    "stack_axis_oob": lambda tf, s: tf.stack([tf.zeros([2]), tf.zeros([2])], axis=2),
    "stack_mixed_axis1": lambda tf, s: tf.stack([tf.zeros([2]), [1.0, 2.0]], axis=1),
    "stack_unknown": lambda tf, s: tf.stack([tf.placeholder(tf.float32), tf.zeros([2])]),
    "unstack_unknown": lambda tf, s: tf.unstack(tf.placeholder(tf.float32, [None, 2])),
    "unstack_num": lambda tf, s: tf.unstack(tf.placeholder(tf.float32, [None, 2]), num=3)[2],
    "squeeze_not_one": lambda tf, s: tf.squeeze(tf.zeros([2, 3]), [0]),
    "squeeze_partial": lambda tf, s: tf.squeeze(tf.placeholder(tf.float32, [None, 1, 3])),
    "squeeze_partial_axis": lambda tf, s: tf.squeeze(tf.placeholder(tf.float32, [None, 1, 3]), [0]),
    "squeeze_run_bad": lambda tf, s: (lambda a: s.run(tf.squeeze(a, [0]), {a: np.ones((2, 3))}))(
        tf.placeholder(tf.float32, [None, 3])),
    "expand_dims_oob": lambda tf, s: tf.expand_dims(tf.zeros([2, 3]), 3),
    "expand_dims_neg": lambda tf, s: tf.expand_dims(tf.zeros([2, 3]), -1),
    "expand_dims_neg3": lambda tf, s: tf.expand_dims(tf.zeros([2, 3]), -3),
    # gather, one_hot, range, fill, zeros
    "gather_float_indices": lambda tf, s: tf.gather(tf.zeros([2, 3]), [1.0]),
    "gather_axis_oob": lambda tf, s: tf.gather(tf.zeros([2, 3]), [1], axis=2),
    "one_hot_out_of_range": lambda tf, s: s.run(tf.one_hot([5, -1, 1], 3)),
    "one_hot_float_indices": lambda tf, s: tf.one_hot([1.0], 3),
    "one_hot_depth_placeholder": lambda tf, s: tf.one_hot([1], tf.placeholder(tf.int32)),
    "one_hot_on_off_mismatch": lambda tf, s: tf.one_hot([1], 3, on_value=1.0, off_value=0),
    "one_hot_dtype_mismatch": lambda tf, s: tf.one_hot([1], 3, on_value=1.0, dtype=tf.int32),
    "one_hot_bool_dtype": lambda tf, s: tf.one_hot([1, 0], 2, dtype=tf.bool),
    "one_hot_unknown_rank": lambda tf, s: tf.one_hot(tf.placeholder(tf.int32), 4),
    "one_hot_partial": lambda tf, s: tf.one_hot(tf.placeholder(tf.int64, [None]), 4),
    "range_int_float": lambda tf, s: tf.range(0, 5.0),
    "range_down_values": lambda tf, s: s.run(tf.range(5, 0, -2)),
    "range_empty": lambda tf, s: tf.range(5, 0),
    "range_zero_delta": lambda tf, s: tf.range(0, 5, 0),
    "range_int64": lambda tf, s: tf.range(np.int64(5)),
    "range_placeholder": lambda tf, s: tf.range(tf.placeholder(tf.int32)),
    "fill_float_dims": lambda tf, s: tf.fill([2.0], 1.0),
    "fill_vector_value": lambda tf, s: tf.fill([2], [1.0, 2.0]),
    "fill_negative": lambda tf, s: tf.fill([-1], 1.0),
    "zeros_negative": lambda tf, s: tf.zeros([-1]),
    "zeros_shape_placeholder": lambda tf, s: tf.zeros(tf.placeholder(tf.int32, [2])),
    "zeros_list_with_tensor": lambda tf, s: tf.zeros([tf.placeholder(tf.int32, []), 3]),
    "zeros_scalar": lambda tf, s: tf.zeros([]), "zeros_int_shape": lambda tf, s: tf.zeros(3),
    "zeros_big": lambda tf, s: tf.zeros([100, 100]),
    "zeros_tensorshape": lambda tf, s: tf.zeros(tf.TensorShape([2, 3])),
    "tile_multiples_length": lambda tf, s: tf.tile(tf.zeros([2, 3]), [2]),
    "tile_partial": lambda tf, s: tf.tile(tf.placeholder(tf.float32, [None, 3]), [2, 2]),
    "pad_paddings_shape": lambda tf, s: tf.pad(tf.zeros([2, 3]), [[1, 1]]),
    "pad_partial": lambda tf, s: tf.pad(tf.placeholder(tf.float32, [None, 3]), [[1, 1], [0, 2]]),
    "pad_reflect_too_big": lambda tf, s: s.run(tf.pad(tf.zeros([2, 3]), [[2, 2], [0, 0]],
                                                      mode="REFLECT")),
    "pad_bad_mode": lambda tf, s: tf.pad(tf.zeros([2, 3]), [[1, 1], [0, 0]], mode="FOO"),
    "pad_symmetric": lambda tf, s: s.run(tf.pad(tf.reshape(tf.range(6.0), [2, 3]),
                                                [[2, 2], [1, 3]], mode="symmetric")),
    "split_uneven": lambda tf, s: tf.split(tf.zeros([5, 2]), 2),
    "split_sizes": lambda tf, s: tf.split(tf.zeros([5, 2]), [2, 3])[1],
    "split_sizes_inferred": lambda tf, s: tf.split(tf.zeros([5, 2]), [2, -1])[1],
    "split_sizes_bad": lambda tf, s: tf.split(tf.zeros([5, 2]), [2, 2]),
    "split_partial": lambda tf, s: tf.split(tf.placeholder(tf.float32, [None, 4]), 2, axis=1)[1],
    "split_partial0": lambda tf, s: tf.split(tf.placeholder(tf.float32, [None, 4]), 2, axis=0)[1],
    "boolean_mask_static": lambda tf, s: tf.boolean_mask(tf.zeros([2, 3]), [True, False, True]),
    "boolean_mask_axis": lambda tf, s: tf.boolean_mask(tf.zeros([2, 3]), [True, False, True], axis=1),
    "where_cond_shape": lambda tf, s: tf.where(tf.placeholder(tf.bool, [2]), tf.zeros([3]), tf.zeros([3])),
    "where_cond_shape2": lambda tf, s: tf.where(tf.placeholder(tf.bool, [2, 2]), tf.zeros([3, 2]),
                                                tf.zeros([3, 2])),
    "where_scalar_cond": lambda tf, s: s.run(tf.where(tf.constant(False), tf.ones([2]), tf.zeros([2]))),
    "where_no_broadcast_v1": lambda tf, s: tf.where(tf.constant([[True, False]]), tf.ones([2, 2]),
                                                    tf.zeros([2, 2])),
    "where_int_cond": lambda tf, s: tf.where(tf.constant([1, 0]), tf.ones([2]), tf.zeros([2])),
    "where_dtype_mismatch": lambda tf, s: tf.where(tf.constant([True, False]), tf.ones([2]),
                                                   tf.zeros([2], tf.int32)),
    # slicing
    "index_oob": lambda tf, s: tf.zeros([2, 3])[5], "index_oob_neg": lambda tf, s: tf.zeros([2, 3])[-3],
    "index_too_many": lambda tf, s: tf.zeros([2, 3])[1, 1, 1],
    "index_float": lambda tf, s: tf.zeros([2, 3])[1.0],
    "slice_ellipsis_partial": lambda tf, s: tf.placeholder(tf.float32, [None, 3, 4])[..., 1:, ::2],
    "slice_unknown_dims": lambda tf, s: tf.placeholder(tf.float32, [None, None])[1:3, 2],
    "slice_unknown_rank": lambda tf, s: tf.placeholder(tf.float32)[1:3, 2],
    "slice_negative_step": lambda tf, s: s.run(tf.constant([1, 2, 3, 4])[::-2]),
    "slice_tensor_start": lambda tf, s: tf.zeros([4, 3])[tf.constant(1):],
    "slice_fn_partial": lambda tf, s: tf.slice(tf.placeholder(tf.float32, [None, 3]), [1, 0], [2, -1]),
    "slice_fn_oob": lambda tf, s: tf.slice(tf.zeros([4, 3]), [3, 0], [2, -1]),
    "strided_shrink": lambda tf, s: tf.strided_slice(tf.zeros([4, 3]), [1, 0], [2, 3], [1, 1],
                                                     shrink_axis_mask=1),
    # shape, size, rank
    "size_partial": lambda tf, s: tf.size(tf.placeholder(tf.float32, [None, 3])),
    "size_zero_dim": lambda tf, s: tf.size(tf.placeholder(tf.float32, [None, 0])),
    "shape_unknown": lambda tf, s: tf.shape(tf.placeholder(tf.float32)),
    "shape_python": lambda tf, s: tf.shape([1, 2, 3]),
    "shape_run": lambda tf, s: (lambda a: s.run(tf.shape(a), {a: np.ones((5, 3))}))(
        tf.placeholder(tf.float32, [None, 3])),
    "size_run": lambda tf, s: (lambda a: s.run(tf.size(a), {a: np.ones((5, 3))}))(
        tf.placeholder(tf.float32, [None, 3])),
    "rank_run": lambda tf, s: (lambda a: s.run(tf.rank(a), {a: np.ones((5, 3))}))(
        tf.placeholder(tf.float32)),
    "shape_op_type": lambda tf, s: tf.shape(tf.zeros([2, 3])).op.type,
    "rank_op_type": lambda tf, s: tf.rank(tf.zeros([2, 3])).op.type,
    "get_static_value": lambda tf, s: [tf.get_static_value(t) for t in (
        tf.shape(tf.placeholder(tf.float32, [2, 3])) * 2, tf.shape(tf.zeros([2, 3])),
        tf.stack([tf.size(tf.zeros([4])), 2]), tf.cast(tf.range(3), tf.float32),
        tf.placeholder(tf.float32))],
    # broadcasting of static shapes
    "bcast_partial": lambda tf, s: tf.placeholder(tf.float32, [None, 1]) + tf.placeholder(tf.float32, [None, 4]),
    "bcast_partial2": lambda tf, s: tf.placeholder(tf.float32, [None, 3]) + tf.placeholder(tf.float32, [2, None]),
    "bcast_partial3": lambda tf, s: tf.placeholder(tf.float32, [None]) + tf.placeholder(tf.float32, [2, None]),
    "bcast_unknown_rank": lambda tf, s: tf.placeholder(tf.float32) + tf.placeholder(tf.float32, [2, 3]),
    "bcast_scalar": lambda tf, s: tf.placeholder(tf.float32, []) + tf.placeholder(tf.float32, [None, 3]),
    "bcast_ones": lambda tf, s: tf.placeholder(tf.float32, [None, 1]) + tf.placeholder(tf.float32, [1, None]),
    "bcast_one_vs_unknown": lambda tf, s: tf.placeholder(tf.float32, [None]) * tf.placeholder(tf.float32, [1]),
    "bcast_mismatch": lambda tf, s: tf.zeros([2, 3]) + tf.zeros([2, 4]),
    # Tensor as a Python object
    "tensor_bool": lambda tf, s: bool(tf.constant(True)),
    "tensor_len": lambda tf, s: len(tf.constant([1, 2])),
    "tensor_iter": lambda tf, s: list(tf.constant([1, 2])),
    "tensor_iter_partial": lambda tf, s: list(tf.placeholder(tf.float32, [None])),
    "tensor_eq_is_identity": lambda tf, s: tf.constant(1) == tf.constant(1),
    "tensor_as_dict_key": lambda tf, s: len({tf.constant(1): 1}),
    "tensor_float": lambda tf, s: float(tf.constant(1.0)),
    "tensor_int": lambda tf, s: int(tf.constant(1)),
    "tensor_as_index": lambda tf, s: [1, 2][tf.constant(1)],
    "tensor_to_numpy": lambda tf, s: np.array(tf.constant(1.0)),
    "tensor_set_shape_bad": lambda tf, s: tf.placeholder(tf.float32, [None, 3]).set_shape([2, 4]),
    "tensor_set_shape": lambda tf, s: (lambda p: (p.set_shape([2, None]), p)[1])(
        tf.placeholder(tf.float32, [None, 3])),
    "tensor_repr": lambda tf, s: repr(tf.placeholder(tf.float32, [None, 3], name="p")),
    "tensor_str": lambda tf, s: str(tf.placeholder(tf.float32, [None, 3], name="p")),
    "tensor_repr_unknown": lambda tf, s: repr(tf.placeholder(tf.int64)),
    "tensor_repr_scalar": lambda tf, s: str(tf.constant(1)) + repr(tf.constant([1.0])),
    "op_repr": lambda tf, s: repr(tf.constant(1, name="c").op),
    "variable_repr": lambda tf, s: repr(tf.Variable([[1.0, 2.0]], name="w")),
    "variable_str": lambda tf, s: str(tf.Variable(1, name="w")),
    "variable_dtype": lambda tf, s: (repr(tf.Variable(1.0).dtype), str(tf.Variable(1).dtype),
                                     tf.Variable(1.0).dtype.base_dtype.name),
    "shape_str": lambda tf, s: [str(tf.placeholder(tf.float32, d).shape)
                                for d in (None, [], [None], [2, None, 3])],
    "shape_repr": lambda tf, s: [repr(tf.placeholder(tf.float32, d).shape)
                                 for d in (None, [], [None], [2, None, 3])],
    "dimension_repr": lambda tf, s: [repr(tf.placeholder(tf.float32, [None, 3]).shape[i])
                                     for i in (0, 1)],
    "dtype_repr": lambda tf, s: [repr(tf.float32), str(tf.int64), tf.as_dtype("float64").name,
                                 tf.float32.is_floating, tf.int32.is_integer, tf.bool.name],
    # graph lookups
    "get_tensor_missing": lambda tf, s: tf.get_default_graph().get_tensor_by_name("nope:0"),
    "get_tensor_op_name": lambda tf, s: (tf.constant(1, name="c"),
                                         tf.get_default_graph().get_tensor_by_name("c"))[1],
    "get_tensor_bad_index": lambda tf, s: (tf.constant(1, name="c"),
                                           tf.get_default_graph().get_tensor_by_name("c:1"))[1],
    "get_tensor_int": lambda tf, s: tf.get_default_graph().get_tensor_by_name(1),
    "get_op_missing": lambda tf, s: tf.get_default_graph().get_operation_by_name("nope"),
    "get_op_tensor_name": lambda tf, s: (tf.constant(1, name="c"),
                                         tf.get_default_graph().get_operation_by_name("c:0"))[1],
    "get_op": lambda tf, s: (tf.constant(1, name="c"),
                             tf.get_default_graph().get_operation_by_name("c"))[1],
    "as_graph_element_int": lambda tf, s: tf.get_default_graph().as_graph_element(3),
    "as_graph_element_bad_name": lambda tf, s: tf.get_default_graph().as_graph_element("x:y"),
    # names
    "name_with_space": lambda tf, s: tf.constant(1, name="a b"),
    "name_leading_dash": lambda tf, s: tf.constant(1, name="-ab"),
    "name_with_slash": lambda tf, s: tf.constant(1, name="a/b"),
    "name_taken": lambda tf, s: (tf.constant(1, name="c"), tf.constant(1, name="c"))[1],
    "name_taken_other_case": lambda tf, s: (tf.constant(1, name="c"), tf.constant(1, name="C"))[1],
    "name_suffix_taken": lambda tf, s: (tf.constant(1, name="c_1"), tf.constant(1, name="c"),
                                        tf.constant(1, name="c"))[2],
    "scope_invalid": lambda tf, s: tf.name_scope("a b").__enter__(),
    "graph_finalized": lambda tf, s: (tf.get_default_graph().finalize(), tf.constant(1)),
    "tensors_of_two_graphs": lambda tf, s: tf.constant(1) + _in_other_graph(
        tf, lambda: tf.constant(2)),
    "placeholder_bad_dtype": lambda tf, s: tf.placeholder("foo"),
    "placeholder_negative_dim": lambda tf, s: tf.placeholder(tf.float32, [-1, 3]),
    "placeholder_fractional_dim": lambda tf, s: tf.placeholder(tf.float32, [2.5]),
    "placeholder_default_shape_bad": lambda tf, s: tf.placeholder_with_default([1.0, 2.0], [3]),
    "placeholder_default_partial": lambda tf, s: tf.placeholder_with_default([1.0, 2.0], [None]),
    "placeholder_default_fed": lambda tf, s: (lambda p: s.run(p * 2, {p: [3.0]}))(
        tf.placeholder_with_default([1.0, 2.0], [None])),
    # fetches
    "fetch_list": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run([y, x], {x: [[1, 2]]}))[1]),
    "fetch_tuple": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run((y, x), {x: [[1, 2]]}))[1]),
    "fetch_namedtuple": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), repr(s.run(NT(y, [x, "x:0"]), {x: [[1, 2]]})))[1]),
    "fetch_nested_dict": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), s.run({"a": [y, {"b": (x,)}], "c": v}, {x: [[1, 2]]}))[1]),
    "fetch_ordered_dict": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), list(s.run(collections.OrderedDict([("y", y), ("v", v)]),
                                 {x: [[1, 2]]}).items()))[1]),
    "fetch_string": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run("v:0"))[1]),
    "fetch_op_string": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run("v/Assign"))[1]),
    "fetch_op": _with_model(lambda tf, s, x, v, y: s.run(v.initializer)),
    # (s.run([v.initializer, v]): TF reads v without waiting for its initializer
    # and raises FailedPreconditionError; we read it after the assignment.)
    "fetch_variable": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run(v))[1]),
    "fetch_same_thrice": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run([v, v, "v:0"]))[1]),
    "fetch_none": _with_model(lambda tf, s, x, v, y: s.run(None)),
    "fetch_none_in_list": _with_model(lambda tf, s, x, v, y: s.run([v, None])),
    "fetch_int": _with_model(lambda tf, s, x, v, y: s.run(3)),
    "fetch_empty_list": _with_model(lambda tf, s, x, v, y: s.run([])),
    "fetch_empty_dict": _with_model(lambda tf, s, x, v, y: s.run({})),
    "fetch_set": _with_model(lambda tf, s, x, v, y: s.run({v})),
    "fetch_missing_tensor": _with_model(lambda tf, s, x, v, y: s.run("nope:0")),
    "fetch_missing_op": _with_model(lambda tf, s, x, v, y: s.run("nope")),
    "fetch_other_graph": _with_model(lambda tf, s, x, v, y: s.run(
        _in_other_graph(tf, lambda: tf.constant(1)))),
    "fetch_scalar_float": lambda tf, s: s.run(tf.constant(1.0)),
    "fetch_scalar_int": lambda tf, s: s.run(tf.constant(1)),
    "fetch_scalar_bool": lambda tf, s: s.run(tf.constant(True)),
    "fetch_scalars_in_list": lambda tf, s: s.run([tf.constant(1.0) + 1, tf.constant([2])]),
    # feeds
    "feed_by_name": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run(y, {"x:0": [[1, 2]]}))[1]),
    "feed_op_name": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run(y, {"x": [[1, 2]]}))[1]),
    "feed_numpy_scalar": lambda tf, s: (lambda p: s.run(p * 2, {p: np.float32(3)}))(
        tf.placeholder(tf.float32, [])),
    "feed_numpy_f64_scalar": lambda tf, s: (lambda p: s.run(p * 2, {p: np.float64(3)}))(
        tf.placeholder(tf.float32, [])),
    "feed_python_int_to_float": lambda tf, s: (lambda p: s.run(p * 2, {p: 3}))(
        tf.placeholder(tf.float32, [])),
    "feed_big_int_to_int32": lambda tf, s: (lambda p: s.run(p * 2, {p: 2**40}))(
        tf.placeholder(tf.int32, [])),
    "feed_nested_list": lambda tf, s: (lambda p: s.run(p * 2, {p: [[1, 2], [3, 4]]}))(
        tf.placeholder(tf.float32, [None, 2])),
    "feed_ragged_list": lambda tf, s: (lambda p: s.run(p * 2, {p: [[1, 2], [3]]}))(
        tf.placeholder(tf.float32)),
    "feed_bool_to_float": lambda tf, s: (lambda p: s.run(p * 2, {p: [True, False]}))(
        tf.placeholder(tf.float32)),
    "feed_none_to_float": lambda tf, s: np.isnan(
        (lambda p: s.run(p * 2, {p: None}))(tf.placeholder(tf.float32))),
    "feed_tensor_value": lambda tf, s: (lambda p: s.run(p * 2, {p: tf.constant(1.0)}))(
        tf.placeholder(tf.float32)),
    "feed_wrong_shape": lambda tf, s: (lambda p: s.run(p * 2, {p: [1.0, 2.0]}))(
        tf.placeholder(tf.float32, [3])),
    "feed_wrong_rank": lambda tf, s: (lambda p: s.run(p * 2, {p: [1.0, 2.0]}))(
        tf.placeholder(tf.float32, [None, 2])),
    "feed_variable": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), s.run(y, {x: [[1, 1]], v: [5.0, 6.0]}))[1]),
    "feed_variable_uninitialized": _with_model(lambda tf, s, x, v, y: s.run(
        y, {x: [[1, 1]], v: [5.0, 6.0]})),
    "feed_variable_then_read": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), s.run(y, {x: [[1, 1]], v: [5.0, 6.0]}), s.run(v))[2]),
    "feed_variable_read": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), s.run(v.value(), {v: [5.0, 6.0]}))[1]),
    "feed_intermediate": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), s.run(y * 2, {y: [[1.0, 1.0]]}))[1]),
    "feed_intermediate_bad_shape": _with_model(lambda tf, s, x, v, y: (
        _init(tf, s), s.run(y * 2, {y: [1.0, 1.0]}))[1]),
    "feed_and_fetch": lambda tf, s: (lambda p: s.run(p, {p: [1.0]}))(tf.placeholder(tf.float32)),
    "feed_constant": lambda tf, s: (lambda c: s.run(c * 2, {c: 5.0}))(tf.constant(1.0)),
    "feed_op_key": lambda tf, s: (lambda p: s.run(p, {p.op: 1.0}))(tf.placeholder(tf.float32)),
    "feed_int_key": lambda tf, s: (lambda p: s.run(p, {1: 1.0}))(tf.placeholder(tf.float32)),
    "feed_missing_name": lambda tf, s: (lambda p: s.run(p, {"nope:0": 1.0}))(
        tf.placeholder(tf.float32)),
    "feed_other_graph": lambda tf, s: (lambda p: s.run(p, {_in_other_graph(
        tf, lambda: tf.placeholder(tf.float32)): 1.0}))(tf.placeholder(tf.float32)),
    "feed_unused": lambda tf, s: (lambda p, q: s.run(p * 2, {p: 1.0, q: 2.0}))(
        tf.placeholder(tf.float32), tf.placeholder(tf.float32)),
    "feed_missing": lambda tf, s: (lambda p, q: s.run(p * q, {p: 1.0}))(
        tf.placeholder(tf.float32, name="p"), tf.placeholder(tf.float32, name="q")),
    "feed_int64_to_int32": lambda tf, s: (lambda p: s.run(p * 2, {p: np.array([1, 2], np.int64)}))(
        tf.placeholder(tf.int32)),
    "feed_list_to_int64": lambda tf, s: (lambda p: s.run(p, {p: [1, 2]}))(tf.placeholder(tf.int64)),
    "feed_default": lambda tf, s: (lambda p: s.run(p * 2, {p: 5}))(tf.placeholder_with_default(1, [])),
    "run_closed": lambda tf, s: (s.close(), s.run(tf.constant(1)))[1],
    # variables
    "uninitialized_fetch": _with_model(lambda tf, s, x, v, y: s.run(v)),
    "uninitialized_read": _with_model(lambda tf, s, x, v, y: s.run(v.value())),
    "uninitialized_assign_add": _with_model(lambda tf, s, x, v, y: s.run(v.assign_add([1.0, 1.0]))),
    "assign_then_read": _with_model(lambda tf, s, x, v, y: (s.run(v.assign([3.0, 4.0])), s.run(v))[1]),
    "assign_wrong_shape": _with_model(lambda tf, s, x, v, y: v.assign([3.0, 4.0, 5.0])),
    "assign_ints_to_float": _with_model(lambda tf, s, x, v, y: v.assign([3, 4])),
    "assign_float_to_int": lambda tf, s: tf.Variable(1).assign(2.5),
    "assign_unvalidated": lambda tf, s: (lambda v: (s.run(tf.assign(v, [1.0, 2.0, 3.0],
                                                                    validate_shape=False)),
                                                    s.run(v))[1])(tf.Variable([1.0, 2.0])),
    "assign_add_value": _with_model(lambda tf, s, x, v, y: (_init(tf, s), s.run(v.assign_add([1.0, 1.0])))[1]),
    "assign_sub_tensor": _with_model(lambda tf, s, x, v, y: v.assign_sub([1.0, 1.0])),
    "assign_tensor": _with_model(lambda tf, s, x, v, y: v.assign([1.0, 1.0])),
    "assign_add_function": _with_model(lambda tf, s, x, v, y: tf.assign_add(v, [1.0, 1.0])),
    "variable_read_value": _with_model(lambda tf, s, x, v, y: v.read_value()),
    "variable_initial_value": _with_model(lambda tf, s, x, v, y: v.initial_value),
    "variable_value": _with_model(lambda tf, s, x, v, y: v.value()),
    "variable_converted": _with_model(lambda tf, s, x, v, y: tf.convert_to_tensor(v)),
    "variable_identity": _with_model(lambda tf, s, x, v, y: tf.identity(v)),
    "variable_op": _with_model(lambda tf, s, x, v, y: (v.op.name, v.initializer.name, v.op.type)),
    "variable_without_value": lambda tf, s: tf.Variable(),
    "variable_partial_shape": lambda tf, s: tf.Variable(tf.placeholder(tf.float32, [None])),
    "variable_unvalidated": lambda tf, s: tf.Variable(tf.placeholder(tf.float32, [None]),
                                                      validate_shape=False),
    "variable_int": lambda tf, s: tf.Variable(3),
    "variable_int_as_float": lambda tf, s: tf.Variable(3, dtype=tf.float32),
    "variable_dtype_bad": lambda tf, s: tf.Variable(3.5, dtype=tf.int32),
    "variable_from_variable": lambda tf, s: (lambda v: (_init(tf, s), s.run(tf.Variable(v * 2))[1])
                                             )(tf.Variable([1.0, 2.0])),
    "variable_callable": lambda tf, s: tf.Variable(lambda: tf.zeros([2]), name="vc"),
    "variable_in_name_scope": lambda tf, s: (tf.name_scope("s").__enter__(), tf.Variable(1.0, name="w"))[1],
    "variable_untrainable": lambda tf, s: (tf.Variable(1.0, trainable=False),
                                           len(tf.trainable_variables()))[1],
    "variable_no_collections": lambda tf, s: (tf.Variable(1.0, collections=[]),
                                              len(tf.global_variables()))[1],
    "variable_plus_one": lambda tf, s: tf.Variable(1.0) + 1,
    "one_plus_variable": lambda tf, s: 1 + tf.Variable(1.0),
    "variable_index": lambda tf, s: tf.Variable([1.0, 2.0])[0],
    "variable_eval": lambda tf, s: (lambda v: (s.run(v.initializer), v.eval(session=s))[1])(
        tf.Variable([1.0, 2.0])),
    "variable_load": lambda tf, s: (lambda v: (s.run(v.initializer), v.load([3.0, 4.0], s),
                                               s.run(v))[2])(tf.Variable([1.0, 2.0])),
    "variable_is_initialized": lambda tf, s: (lambda v: [
        s.run(tf.is_variable_initialized(v)), s.run(v.initializer),
        s.run(tf.is_variable_initialized(v))])(tf.Variable([1.0, 2.0])),
    "initializer_names": lambda tf, s: (tf.Variable(1.0), tf.global_variables_initializer().name,
                                        tf.local_variables_initializer().name,
                                        tf.variables_initializer([tf.Variable(1.0)]).name),
    "initializer_empty": lambda tf, s: (tf.global_variables_initializer().name,
                                        tf.global_variables_initializer().type),
    # ops in general
    "group_names": lambda tf, s: (tf.group(tf.constant(1), tf.constant(2)).name, tf.group().name,
                                  tf.group(tf.constant(1)).type, tf.no_op().name),
    "tuple_names": lambda tf, s: [t.name for t in tf.tuple([tf.constant(1), tf.constant(2)])],
    "identity_name": lambda tf, s: tf.identity(tf.constant(1)).name,
    "control_dependencies": lambda tf, s: (lambda a: [
        [c.name for c in op.control_inputs] for op in _control_ops(tf, a)])(tf.constant(1)),
    "op_inputs": lambda tf, s: [t.name for t in (tf.constant(1) + 2).op.inputs],
    "op_outputs": lambda tf, s: [t.name for t in tf.unstack(tf.zeros([3, 2]))[0].op.outputs],
    "op_get_attr": lambda tf, s: repr((tf.constant(1) + 2).op.get_attr("T")),
    "op_get_attr_missing": lambda tf, s: (tf.constant(1) + 2).op.get_attr("nope"),
    "node_def_inputs": lambda tf, s: list((tf.constant(1) + 2).op.node_def.input),
    "consumers": lambda tf, s: (lambda c: (c + 1, c * 2, [o.name for o in c.consumers()])[2])(
        tf.constant(1)),
    "value_index": lambda tf, s: tf.unstack(tf.zeros([3, 2]))[2].value_index,
    "tensor_graph": lambda tf, s: tf.constant(1).graph is tf.get_default_graph(),
    "collection_keys": lambda tf, s: (tf.Variable(1.0),
                                      sorted(tf.get_default_graph().get_all_collection_keys()))[1],
    "collection_scope_filter": lambda tf, s: (
        tf.Variable(1.0, name="a/b"), tf.Variable(1.0, name="ab"),
        [v.name for v in tf.get_collection("variables", scope="a")])[2],
    "unique_name": lambda tf, s: (tf.get_default_graph().unique_name("foo"),
                                  tf.get_default_graph().unique_name("foo"),
                                  tf.get_default_graph().unique_name("bar", mark_as_used=False),
                                  tf.constant(1, name="bar").name),
    "name_scope_strings": lambda tf, s: _name_scopes(tf),
}


def _control_ops(tf, a):
    with tf.control_dependencies([a]):
        b = tf.constant(2)
        c = b + 1          # its input was made in the block: no control input of its own
        d = tf.identity(a)  # an input that is the dependency itself
    with tf.control_dependencies([a]), tf.control_dependencies(None):
        e = tf.constant(3)
    return [b.op, c.op, c.op.inputs[1].op, d.op, e.op]


def _name_scopes(tf):
    out = []
    with tf.name_scope("a") as a:
        out.append(a)
        with tf.name_scope("b") as b:
            out.append(b)
        with tf.name_scope("b") as b:
            out.append(b)
            out.append(tf.get_default_graph().get_name_scope())
        with tf.name_scope("c/") as c:
            out.append(c)
            out.append(tf.constant(1).name)
        with tf.name_scope("") as e:
            out.append(e)
            out.append(tf.constant(1).name)
        with tf.name_scope(None, "dflt") as d:
            out.append(d)
    with tf.name_scope("a") as a:
        out.append(a)
    with tf.name_scope("x", values=[tf.constant(1)]) as x:
        out.append(x)
    out.append(tf.constant(1, name="a").name)
    return out


# Cases where TF 2's compat.v1 behaves unlike TF 1.15 (our reference), and
# what each gives in TF 1.15:
#   tf.add(x, y) is an AddV2 op in TF 2, an Add op in TF 1.15;
#   `&` `|` `^` on integer tensors are bitwise in TF 2, logical (bool only,
#   TypeError) in TF 1.15; ArgMax of bool tensors: TF 2 only.
# Intentional differences, not compared here:
#   feeding a float with a fractional part to an int or bool placeholder raises
#   TypeError here (TF truncates silently), and a string feed raises TypeError
#   (TF: ValueError); uint8/int8/uint16/int16 variables can't be compiled
#   (TypeError naming the variable: their values are computed in int32);
#   tf.constant of a Python int that doesn't fit the requested dtype raises
#   TypeError (TF 1.15 wraps it around, TF 2 with numpy 2 accepts it).


@pytest.mark.parametrize("case", sorted(OUTCOME_CASES))
def test_outcomes_same_as_tensorflow(case):
    assert _outcome(tfcompile, OUTCOME_CASES[case]) == _outcome(v1, OUTCOME_CASES[case])
