"""tf.metrics: streaming metrics over local variables, with TF 1.15's names.

Each metric returns (value, update_op): the update op accumulates a batch into
local variables (LOCAL_VARIABLES and METRIC_VARIABLES collections, created at
zero: run tf.local_variables_initializer()), the value reads the running
result. Names follow TF: `accuracy/total:0`, `accuracy/count:0`,
`accuracy/value:0`, `accuracy/update_op:0`; the arithmetic is TF's own
(metrics_impl in TF 1.15), so results agree to the last bit where the ops do.
"""
from __future__ import annotations

from . import dtypes as _dt
from .graph import GraphKeys, add_to_collections, control_dependencies
from .ops import array_ops, linalg_ops, math_ops
from .ops.constant_op import constant, convert_to_tensor
from .variable_scope import variable_scope
from .variables import Variable, assign_add

_EPSILON = 1e-7


def _metric_variable(shape, dtype, name):
    from .ops.array_ops import zeros
    return Variable(lambda: zeros(shape, dtype), trainable=False, name=name,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES])


def _collect(collections, value):
    if collections:
        add_to_collections(collections, value)


def _squeeze_last(x, other):
    """TF's _remove_squeezable_dimensions: drop a trailing 1 that makes x one rank
    more than `other` (labels [N, 1] against predictions [N])."""
    rx, ro = x.shape.ndims, other.shape.ndims
    if rx is not None and ro is not None and rx == ro + 1 and x.shape.as_list()[-1] == 1:
        return array_ops.squeeze(x, [-1])
    return x


def _prepare(labels, predictions, weights=None):
    predictions = convert_to_tensor(predictions, name="predictions")
    labels = convert_to_tensor(labels, name="labels")
    labels = _squeeze_last(labels, predictions)
    predictions = _squeeze_last(predictions, labels)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
    if weights is not None:
        weights = convert_to_tensor(weights, name="weights")
        weights = _squeeze_last(weights, predictions)
    return labels, predictions, weights


def _safe_div(num, den, name):
    return math_ops.div_no_nan(num, den, name=name)


def _weighted(values, weights):
    """values * weights broadcast to values' shape (as TF's weights_broadcast_ops)."""
    if weights is None:
        return values, None
    w = math_ops.cast(weights, values.dtype)
    w = math_ops.multiply(array_ops.ones_like(values), w)
    return math_ops.multiply(values, w), w


# ---------------------------------------------------------------- means

def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """The (weighted) mean of all values seen: total / count."""
    with variable_scope(name, "mean", (values, weights)):
        values = math_ops.cast(convert_to_tensor(values, name="values"), _dt.float32)
        total = _metric_variable([], _dt.float32, "total")
        count = _metric_variable([], _dt.float32, "count")
        if weights is None:
            num_values = math_ops.cast(array_ops.size(values), _dt.float32)
        else:
            values, w = _weighted(values, weights)
            num_values = math_ops.reduce_sum(w)
        update_total = assign_add(total, math_ops.reduce_sum(values))
        with control_dependencies([values]):
            update_count = assign_add(count, num_values)
        value = _safe_div(total, count, "value")
        update_op = _safe_div(update_total, update_count, "update_op")
        _collect(metrics_collections, value)
        _collect(updates_collections, update_op)
        return value, update_op


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """How often predictions equal labels (cast to the labels' dtype)."""
    labels, predictions, weights = _prepare(labels, predictions, weights)
    if labels.dtype != predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    is_correct = math_ops.cast(math_ops.equal(predictions, labels), _dt.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    labels, predictions, weights = _prepare(labels, predictions, weights)
    errors = math_ops.abs(math_ops.subtract(predictions, labels))
    return mean(errors, weights, metrics_collections, updates_collections,
                name or "mean_absolute_error")


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    labels, predictions, weights = _prepare(labels, predictions, weights)
    errors = math_ops.squared_difference(labels, predictions)
    return mean(errors, weights, metrics_collections, updates_collections,
                name or "mean_squared_error")


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    labels, predictions, weights = _prepare(labels, predictions, weights)
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    value = math_ops.sqrt(mse)
    update_op = math_ops.sqrt(update_mse)
    _collect(metrics_collections, value)
    _collect(updates_collections, update_op)
    return value, update_op


# ---------------------------------------------------------------- counts

def _count_condition(values, weights, metrics_collections, updates_collections):
    count = _metric_variable([], _dt.float32, "count")
    values = math_ops.cast(values, _dt.float32)
    if weights is not None:
        values, _ = _weighted(values, weights)
    value = math_ops.identity(count)
    update_op = assign_add(count, math_ops.reduce_sum(values))
    _collect(metrics_collections, value)
    _collect(updates_collections, update_op)
    return value, update_op


def _bool_pair(labels, predictions, weights):
    labels, predictions, weights = _prepare(labels, predictions, weights)
    return (math_ops.cast(labels, _dt.bool), math_ops.cast(predictions, _dt.bool), weights)


def _counter(default_name, want_label, want_pred):
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        with variable_scope(name, default_name, (predictions, labels, weights)):
            lab, pred, weights = _bool_pair(labels, predictions, weights)
            hit = math_ops.logical_and(math_ops.equal(lab, want_label),
                                       math_ops.equal(pred, want_pred))
            return _count_condition(hit, weights, metrics_collections, updates_collections)
    metric.__name__ = default_name
    metric.__doc__ = (f"The (weighted) number of elements with label {want_label} and "
                      f"prediction {want_pred}.")
    return metric


true_positives = _counter("true_positives", True, True)
false_positives = _counter("false_positives", False, True)
true_negatives = _counter("true_negatives", False, False)
false_negatives = _counter("false_negatives", True, False)


def _ratio_metric(default_name, other):
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name=None):
        with variable_scope(name, default_name, (predictions, labels, weights)):
            lab, pred, weights = _bool_pair(labels, predictions, weights)
            tp, tp_update = true_positives(lab, pred, weights)
            o, o_update = other(lab, pred, weights)

            def ratio(t, f, n):
                return array_ops.where(math_ops.greater(t + f, 0),
                                       math_ops.divide(t, t + f), 0.0, name=n)
            value = ratio(tp, o, "value")
            update_op = ratio(tp_update, o_update, "update_op")
            _collect(metrics_collections, value)
            _collect(updates_collections, update_op)
            return value, update_op
    metric.__name__ = default_name
    return metric


precision = _ratio_metric("precision", false_positives)
precision.__doc__ = "true_positives / (true_positives + false_positives), 0 when none."
recall = _ratio_metric("recall", false_negatives)
recall.__doc__ = "true_positives / (true_positives + false_negatives), 0 when none."


# ---------------------------------------------------------------- thresholds, AUC

def _thresholds(num_thresholds):
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _EPSILON] + inner + [1.0 + _EPSILON]


def _confusion_at_thresholds(labels, predictions, thresholds, weights):
    """Per threshold: tp, fn, tn, fp variables and their update ops (TF's
    _confusion_matrix_at_thresholds: predictions above the threshold count as
    positive)."""
    lab, predictions, weights = _prepare(labels, predictions, weights)
    lab = math_ops.cast(lab, _dt.bool)
    predictions = math_ops.cast(predictions, _dt.float32)
    n = len(thresholds)
    pred_2d = array_ops.reshape(predictions, [-1, 1])
    lab_2d = array_ops.reshape(lab, [1, -1])
    num = array_ops.shape(pred_2d)[0]
    thresh = array_ops.tile(array_ops.expand_dims(constant(thresholds, _dt.float32), 1),
                            array_ops.stack([1, num]))
    above = math_ops.greater(array_ops.tile(array_ops.transpose(pred_2d), [n, 1]), thresh)
    is_pos = array_ops.tile(lab_2d, [n, 1])
    w = None
    if weights is not None:
        w = math_ops.cast(weights, _dt.float32)
        w = math_ops.multiply(array_ops.ones_like(predictions), w)
        w = array_ops.tile(array_ops.reshape(w, [1, -1]), [n, 1])
    out, updates = {}, {}
    not_pos, not_above = math_ops.logical_not(is_pos), math_ops.logical_not(above)
    for key, cond in (("tp", math_ops.logical_and(is_pos, above)),
                      ("fn", math_ops.logical_and(is_pos, not_above)),
                      ("tn", math_ops.logical_and(not_pos, not_above)),
                      ("fp", math_ops.logical_and(not_pos, above))):
        var = _metric_variable([n], _dt.float32, {"tp": "true_positives",
                                                  "fn": "false_negatives",
                                                  "tn": "true_negatives",
                                                  "fp": "false_positives"}[key])
        c = math_ops.cast(cond, _dt.float32)
        if w is not None:
            c = math_ops.multiply(w, c)
        out[key] = var
        updates[key] = assign_add(var, math_ops.reduce_sum(c, 1))
    return out, updates


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """Area under the ROC or PR curve from counts at num_thresholds thresholds
    (Riemann sums as TF: trapezoidal, minoring or majoring)."""
    if curve not in ("ROC", "PR"):
        raise ValueError(f'curve must be either ROC or PR, {curve} unknown')
    if summation_method not in ("trapezoidal", "minoring", "majoring",
                                "careful_interpolation"):
        raise ValueError(f"Invalid summation_method: {summation_method}")
    with variable_scope(name, "auc", (labels, predictions, weights)):
        th = _thresholds(num_thresholds) if thresholds is None else \
            [0.0 - _EPSILON] + list(thresholds) + [1.0 + _EPSILON]
        n = len(th)
        vals, updates = _confusion_at_thresholds(labels, predictions, th, weights)

        def compute(tp, fn, tn, fp, nm):
            rec = math_ops.divide(tp + _EPSILON, tp + fn + _EPSILON)
            if curve == "ROC":
                x = math_ops.divide(fp, fp + tn + _EPSILON)
                y = rec
            else:
                x = rec
                y = math_ops.divide(tp + _EPSILON, tp + fp + _EPSILON)
            dx = x[:n - 1] - x[1:]
            if summation_method in ("trapezoidal", "careful_interpolation"):
                h = (y[:n - 1] + y[1:]) / 2.0
            elif summation_method == "minoring":
                h = math_ops.minimum(y[:n - 1], y[1:])
            else:
                h = math_ops.maximum(y[:n - 1], y[1:])
            return math_ops.reduce_sum(math_ops.multiply(dx, h), name=nm)
        value = compute(vals["tp"], vals["fn"], vals["tn"], vals["fp"], "value")
        update_op = compute(updates["tp"], updates["fn"], updates["tn"], updates["fp"],
                            "update_op")
        _collect(metrics_collections, value)
        _collect(updates_collections, update_op)
        return value, update_op


# ---------------------------------------------------------------- per class

def _confusion_update(labels, predictions, num_classes, weights, dtype):
    """A [num_classes, num_classes] confusion matrix (rows: labels) of this batch."""
    labels, predictions, weights = _prepare(labels, predictions, weights)
    lab = array_ops.reshape(math_ops.cast(labels, _dt.int64), [-1])
    pred = array_ops.reshape(math_ops.cast(predictions, _dt.int64), [-1])
    lo = array_ops.one_hot(lab, num_classes, dtype=dtype)
    po = array_ops.one_hot(pred, num_classes, dtype=dtype)
    if weights is not None:
        w = math_ops.multiply(array_ops.ones_like(labels, dtype=dtype),
                              math_ops.cast(weights, dtype))
        lo = math_ops.multiply(lo, array_ops.reshape(w, [-1, 1]))
    return math_ops.matmul(lo, po, transpose_a=True)


def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """The mean over classes (those present) of intersection / union."""
    with variable_scope(name, "mean_iou", (predictions, labels, weights)):
        total_cm = _metric_variable([num_classes, num_classes], _dt.float64,
                                    "total_confusion_matrix")
        update = assign_add(total_cm, _confusion_update(labels, predictions, num_classes,
                                                        weights, _dt.float64))

        def compute(cm, nm):
            rows = math_ops.cast(math_ops.reduce_sum(cm, 0), _dt.float32)
            cols = math_ops.cast(math_ops.reduce_sum(cm, 1), _dt.float32)
            diag = math_ops.cast(linalg_ops.matrix_diag_part(cm), _dt.float32)
            den = rows + cols - diag
            valid = math_ops.reduce_sum(math_ops.cast(math_ops.not_equal(den, 0), _dt.float32))
            den = array_ops.where(math_ops.greater(den, 0), den, array_ops.ones_like(den))
            iou = math_ops.divide(diag, den)
            return array_ops.where(math_ops.greater(valid, 0),
                                   math_ops.reduce_sum(iou, name=nm) / valid, 0.0)
        value = compute(total_cm, "mean_iou")
        update_op = update      # (TF's update op is the accumulated confusion matrix)
        _collect(metrics_collections, value)
        _collect(updates_collections, update_op)
        return value, update_op


def mean_per_class_accuracy(labels, predictions, num_classes, weights=None,
                            metrics_collections=None, updates_collections=None, name=None):
    """The mean over classes of the fraction of each class's labels predicted right."""
    with variable_scope(name, "mean_accuracy", (predictions, labels, weights)):
        labels, predictions, weights = _prepare(labels, predictions, weights)
        lab = array_ops.reshape(math_ops.cast(labels, _dt.int64), [-1])
        pred = array_ops.reshape(math_ops.cast(predictions, _dt.int64), [-1])
        total = _metric_variable([num_classes], _dt.float32, "total")
        count = _metric_variable([num_classes], _dt.float32, "count")
        ones = array_ops.ones_like(lab, dtype=_dt.float32)
        if weights is not None:
            ones = math_ops.multiply(ones, array_ops.reshape(
                math_ops.multiply(array_ops.ones_like(labels, dtype=_dt.float32),
                                  math_ops.cast(weights, _dt.float32)), [-1]))
        correct = math_ops.multiply(ones, math_ops.cast(math_ops.equal(lab, pred), _dt.float32))
        hot = array_ops.one_hot(lab, num_classes, dtype=_dt.float32)
        update_total = assign_add(total, math_ops.reduce_sum(
            hot * array_ops.reshape(ones, [-1, 1]), 0))
        update_count = assign_add(count, math_ops.reduce_sum(
            hot * array_ops.reshape(correct, [-1, 1]), 0))

        # (the update op gives the per-class accuracies, the value their mean, as TF)
        value = math_ops.reduce_mean(math_ops.div_no_nan(count, total), name="mean_accuracy")
        update_op = math_ops.div_no_nan(update_count, update_total, name="update_op")
        _collect(metrics_collections, value)
        _collect(updates_collections, update_op)
        return value, update_op


def install(tf):
    """tf.metrics is this module."""
    import sys
    tf.metrics = sys.modules[__name__]
