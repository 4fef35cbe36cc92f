"""The MNIST course example: a short run on synthetic data learns (loss falls,
accuracy far above chance), writes a checkpoint and meta graph that restore
in a fresh graph, and one compiled training step equals the same step in
numpy."""
import importlib.util
import os

import numpy as np
import pytest

import tfcompile as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_example():
    spec = importlib.util.spec_from_file_location(
        "mnist_mlp", os.path.join(ROOT, "examples", "mnist_mlp.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


example = _load_example()


def test_short_training_run_learns_and_saves(tmp_path):
    out = str(tmp_path / "run" / "mnist_mlp")
    lines = []
    result = example.main(["--synthetic", "--synthetic-size", "3000", "--epochs", "3",
                           "--batch-size", "50", "--out", out, "--no-plot", "--quiet",
                           "--seed", "1"], log=lines.append)
    hist = result["history"]
    # 3 epochs x 60 steps: the loss falls and the model is far above chance
    # (10 classes: 0.1).
    assert hist["train_loss"][-1] < 0.7 * hist["train_loss"][0]
    assert hist["train_loss"][0] < 2.5
    assert result["test_acc"] > 0.8 and hist["val_acc"][-1] > 0.8
    assert any("test accuracy" in line for line in lines)
    assert len(hist["seconds"]) == 3
    # The checkpoint and meta graph restore in a fresh graph and give the
    # same test accuracy, fed by tensor name.
    prefix = result["checkpoint"]
    assert prefix == out and os.path.exists(prefix + ".meta")
    assert tf.train.latest_checkpoint(os.path.dirname(out)) == prefix
    sets, _ = example.load_data(example.parse_args(["--synthetic", "--synthetic-size",
                                                    "3000", "--seed", "1"]))
    x_test, y_test = sets["test"]
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session(graph=g) as sess:
            saver.restore(sess, prefix)
            pred = sess.run("pred:0", {"pl_image:0": x_test})
            acc = sess.run("accuracy:0", {"pl_image:0": x_test, "pl_label:0": y_test})
    assert pred.dtype == np.int64 and pred.shape == y_test.shape
    np.testing.assert_allclose(np.mean(pred == y_test), result["test_acc"], atol=1e-6)
    np.testing.assert_allclose(acc, result["test_acc"], atol=1e-6)


def test_graph_names_for_export():
    model = example.Model("sgd", 0.1, seed=0)
    g = model.graph
    assert g.get_tensor_by_name("pl_image:0").shape.as_list() == [None, 784]
    assert g.get_tensor_by_name("pl_image:0").dtype == tf.float32
    assert g.get_tensor_by_name("pl_label:0").dtype == tf.int64
    assert g.get_tensor_by_name("logits:0").shape.as_list() == [None, 10]
    assert g.get_tensor_by_name("pred:0").dtype == tf.int64
    with g.as_default():
        shapes = [v.shape.as_list() for v in tf.trainable_variables()]
    assert shapes == [[784, 144], [144], [144, 36], [36], [36, 10], [10]]


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("adam", 0.001)])
def test_compiled_step_matches_numpy_step(optimizer, lr):
    model = example.Model(optimizer, lr, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((32, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=32).astype(np.int64)
    with tf.Session(graph=model.graph) as sess:
        sess.run(model.init)
        params = example.model_params(sess, model)
        # LeCun init: truncated normal with stddev 1/sqrt(fan_in), zero biases.
        for w in params[0::2]:
            bound = 2.0 / np.sqrt(w.shape[0])
            assert np.all(np.abs(w) <= bound)
            assert 0.6 / np.sqrt(w.shape[0]) < w.std() < 1.1 / np.sqrt(w.shape[0])
        assert all(np.all(b == 0) for b in params[1::2])
        slots = [(np.zeros_like(w), np.zeros_like(w)) for w in params]
        for t in (1, 2, 3):
            _, loss = sess.run([model.train_op, model.loss], {model.x: x, model.y: y})
            want = example.numpy_step(params, slots, x, y, optimizer, lr, t)
            np.testing.assert_allclose(loss, want, rtol=1e-5)
            got = example.model_params(sess, model)
            for a, b in zip(got, params):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_command_line_run_and_optimizer_comparison(tmp_path):
    import subprocess
    import sys
    script = os.path.join(ROOT, "examples", "mnist_mlp.py")
    out = str(tmp_path / "cli" / "model")
    common = ["--synthetic", "--synthetic-size", "1000", "--quiet", "--out", out]
    proc = subprocess.run([sys.executable, script, "--epochs", "1", *common],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test accuracy" in proc.stdout and "s/epoch" in proc.stdout
    assert os.path.exists(out + ".index") and os.path.exists(out + ".meta")
    has_mpl = importlib.util.find_spec("matplotlib") is not None
    assert os.path.exists(out + "_accuracy.png") == has_mpl
    proc = subprocess.run([sys.executable, script, "--compare-optimizers", *common],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in example.OPTIMIZERS:
        assert f"\n{name} " in proc.stdout
    assert os.path.exists(out + "_optimizers.png") == has_mpl
