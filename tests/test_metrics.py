"""tf.metrics: streaming values over several update runs against numpy, and
the same program under TensorFlow (values and names; skipped without it)."""
import numpy as np
import pytest

import tfcompile

RNG = np.random.default_rng(7)
BATCHES = [dict(lab=RNG.integers(0, 3, 16), pred=RNG.integers(0, 3, 16),
                score=RNG.random(16).astype(np.float32), pos=RNG.random(16) > 0.5,
                w=RNG.random(16).astype(np.float32)) for _ in range(3)]


def program(tf):
    lab = tf.placeholder(tf.int64, [None], name="lab")
    pred = tf.placeholder(tf.int64, [None], name="pred")
    score = tf.placeholder(tf.float32, [None], name="score")
    pos = tf.placeholder(tf.bool, [None], name="pos")
    w = tf.placeholder(tf.float32, [None], name="w")
    m = {
        "accuracy": tf.metrics.accuracy(lab, pred),
        "accuracy_w": tf.metrics.accuracy(lab, pred, weights=w, name="acc_w"),
        "mean": tf.metrics.mean(score),
        "mean_w": tf.metrics.mean(score, weights=w),
        "mae": tf.metrics.mean_absolute_error(score, score * 0.5 + 0.1),
        "mse": tf.metrics.mean_squared_error(score, score * 0.5 + 0.1, weights=w),
        "rmse": tf.metrics.root_mean_squared_error(score, score * 0.5),
        "tp": tf.metrics.true_positives(pos, score > 0.5),
        "fp": tf.metrics.false_positives(pos, score > 0.5),
        "tn": tf.metrics.true_negatives(pos, score > 0.5, weights=w),
        "fn": tf.metrics.false_negatives(pos, score > 0.5),
        "precision": tf.metrics.precision(pos, score > 0.5),
        "recall": tf.metrics.recall(pos, score > 0.5, weights=w),
        "auc": tf.metrics.auc(pos, score),
        "auc_pr": tf.metrics.auc(pos, score, curve="PR", num_thresholds=50),
        "auc_min": tf.metrics.auc(pos, score, summation_method="minoring"),
        "mean_iou": tf.metrics.mean_iou(lab, pred, 3),
        "per_class": tf.metrics.mean_per_class_accuracy(lab, pred, 3),
    }
    feeds = [{lab: b["lab"], pred: b["pred"], score: b["score"], pos: b["pos"], w: b["w"]}
             for b in BATCHES]
    return m, feeds


def run(tf):
    with tf.Graph().as_default():
        m, feeds = program(tf)
        updates = {k: v[1] for k, v in m.items()}
        values = {k: v[0] for k, v in m.items()}
        names = {k: (v[0].name, v[1].name) for k, v in m.items()}
        lv = sorted(v.name for v in tf.local_variables())
        with tf.Session() as s:
            s.run(tf.local_variables_initializer())
            ups = [s.run(updates, f) for f in feeds]
            final = s.run(values)
    return ups, final, names, lv


def test_metrics_against_numpy():
    ups, final, names, lv = run(tfcompile)
    lab = np.concatenate([b["lab"] for b in BATCHES])
    pred = np.concatenate([b["pred"] for b in BATCHES])
    score = np.concatenate([b["score"] for b in BATCHES])
    pos = np.concatenate([b["pos"] for b in BATCHES])
    w = np.concatenate([b["w"] for b in BATCHES])
    hit = score > 0.5
    np.testing.assert_allclose(final["accuracy"], np.mean(lab == pred), rtol=1e-6)
    np.testing.assert_allclose(final["accuracy_w"], np.sum(w * (lab == pred)) / w.sum(),
                               rtol=1e-5)
    np.testing.assert_allclose(final["mean_w"], np.sum(w * score) / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(final["rmse"], np.sqrt(np.mean((score * 0.5) ** 2)), rtol=1e-5)
    assert final["tp"] == np.sum(pos & hit) and final["fn"] == np.sum(pos & ~hit)
    np.testing.assert_allclose(final["tn"], np.sum(w * (~pos & ~hit)), rtol=1e-5)
    np.testing.assert_allclose(final["precision"], np.sum(pos & hit) / np.sum(hit), rtol=1e-6)
    cm = np.zeros((3, 3))
    np.add.at(cm, (lab, pred), 1)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    np.testing.assert_allclose(final["mean_iou"], np.mean(inter / union), rtol=1e-6)
    np.testing.assert_allclose(final["per_class"], np.mean(inter / cm.sum(1)), rtol=1e-6)
    np.testing.assert_allclose(ups[-1]["per_class"], inter / cm.sum(1), rtol=1e-6)
    np.testing.assert_allclose(ups[-1]["mean_iou"], cm)      # the update op: the matrix
    # the update op returns the value after its batch
    np.testing.assert_allclose(ups[-1]["accuracy"], final["accuracy"])
    first = BATCHES[0]
    np.testing.assert_allclose(ups[0]["accuracy"], np.mean(first["lab"] == first["pred"]),
                               rtol=1e-6)
    # ROC AUC of these counts lies near the exact rank statistic
    order = np.argsort(score)
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    exact = (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())
    assert abs(final["auc"] - exact) < 0.02
    assert names["accuracy"] == ("accuracy/value:0", "accuracy/update_op:0")
    assert "accuracy/total:0" in lv and "accuracy/count:0" in lv


@pytest.mark.slow
def test_metrics_same_as_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_v2_behavior()
    ours = run(tfcompile)
    theirs = run(v1)
    bad = []
    for k in ours[1]:
        pairs = [(ours[1][k], theirs[1][k])] + [(a[k], b[k]) for a, b in zip(ours[0], theirs[0])]
        for a, b in pairs:
            if np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=2e-6, atol=1e-7):
                bad.append((k, a, b))
                break
        if ours[2][k] != theirs[2][k]:
            bad.append((k, ours[2][k], theirs[2][k]))
    assert not bad, bad
    assert ours[3] == theirs[3]


def test_metrics_need_local_initialization():
    with tfcompile.Graph().as_default():
        acc, up = tfcompile.metrics.accuracy([1, 0], [1, 1])
        with tfcompile.Session() as s:
            with pytest.raises(tfcompile.errors.FailedPreconditionError, match="accuracy/"):
                s.run(up)
