"""The deep MNIST CNN example: its graph has TF 1.15's names and shapes, its
logits equal a numpy forward pass of the same weights, and a short run on
synthetic data lowers the loss and writes a checkpoint that restores."""
import importlib.util
import os

import numpy as np

import tfcompile as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_example():
    spec = importlib.util.spec_from_file_location(
        "mnist_cnn", os.path.join(ROOT, "examples", "mnist_cnn.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


example = _load_example()


def numpy_logits(params, images):
    """conv-relu-pool twice, dense-relu, dense, from TF-layout weights."""
    k1, b1, k2, b2, w3, b3, w4, b4 = (p.astype(np.float64) for p in params)

    def conv_same(h, k):
        p = k.shape[0] // 2
        hp = np.pad(h, ((0, 0), (p, p), (p, p), (0, 0)))
        win = np.lib.stride_tricks.sliding_window_view(hp, k.shape[:2], axis=(1, 2))
        return np.einsum("nhwcij,ijco->nhwo", win, k)

    def pool(h):
        n, hh, ww, c = h.shape
        return h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))
    h = images.astype(np.float64).reshape(-1, 28, 28, 1)
    h = pool(np.maximum(conv_same(h, k1) + b1, 0))
    h = pool(np.maximum(conv_same(h, k2) + b2, 0))
    h = np.maximum(h.reshape(len(images), -1) @ w3 + b3, 0)
    return h @ w4 + b4


def test_graph_has_tf_names_and_shapes():
    g = example.Model().graph
    expect = {   # tensor -> (op type, static shape), as TF 1.15's tf.layers make them
        "pl_image:0": ("Placeholder", [None, 784]),
        "pl_label:0": ("Placeholder", [None]),
        "keep_prob:0": ("PlaceholderWithDefault", []),
        "conv2d/Conv2D:0": ("Conv2D", [None, 28, 28, 32]),
        "conv2d/BiasAdd:0": ("BiasAdd", [None, 28, 28, 32]),
        "conv2d/Relu:0": ("Relu", [None, 28, 28, 32]),
        "max_pooling2d/MaxPool:0": ("MaxPool", [None, 14, 14, 32]),
        "conv2d_1/Conv2D:0": ("Conv2D", [None, 14, 14, 64]),
        "conv2d_1/Relu:0": ("Relu", [None, 14, 14, 64]),
        "max_pooling2d_1/MaxPool:0": ("MaxPool", [None, 7, 7, 64]),
        "flatten/Reshape:0": ("Reshape", [None, 3136]),
        "dense/MatMul:0": ("MatMul", [None, 1024]),
        "dense/Relu:0": ("Relu", [None, 1024]),
        "dense_1/BiasAdd:0": ("BiasAdd", [None, 10]),
        "logits:0": ("Identity", [None, 10]),
        "pred:0": ("ArgMax", [None]),
        "loss:0": ("Mean", []),
        "accuracy:0": ("Mean", []),
        "gradients/conv2d_1/Conv2D_grad/Conv2DBackpropFilter:0":
            ("Conv2DBackpropFilter", [5, 5, 32, 64]),
        "gradients/conv2d/Conv2D_grad/Conv2DBackpropFilter:0":
            ("Conv2DBackpropFilter", [5, 5, 1, 32]),
        "gradients/max_pooling2d_1/MaxPool_grad/MaxPoolGrad:0":
            ("MaxPoolGrad", [None, 14, 14, 64]),
        "gradients/max_pooling2d/MaxPool_grad/MaxPoolGrad:0":
            ("MaxPoolGrad", [None, 28, 28, 32]),
    }
    for name, (op_type, shape) in expect.items():
        t = g.get_tensor_by_name(name)
        assert (t.op.type, t.shape.as_list()) == (op_type, shape), name
    assert g.get_tensor_by_name("gradients/conv2d_1/Conv2D_grad/Conv2DBackpropInput:0") \
        .op.type == "Conv2DBackpropInput"
    assert g.get_tensor_by_name("pl_label:0").dtype == tf.int64
    assert g.get_tensor_by_name("pred:0").dtype == tf.int64
    with g.as_default():
        trainable = [(v.name, v.shape.as_list()) for v in tf.trainable_variables()]
        names = {v.name for v in tf.global_variables()}
    assert trainable == [("conv2d/kernel:0", [5, 5, 1, 32]), ("conv2d/bias:0", [32]),
                         ("conv2d_1/kernel:0", [5, 5, 32, 64]), ("conv2d_1/bias:0", [64]),
                         ("dense/kernel:0", [3136, 1024]), ("dense/bias:0", [1024]),
                         ("dense_1/kernel:0", [1024, 10]), ("dense_1/bias:0", [10])]
    for var, _ in trainable:    # Adam's slots
        assert var.replace(":0", "/Adam:0") in names and var.replace(":0", "/Adam_1:0") in names
    # minimize(global_step=...) ends in the step's increment, named after the optimizer
    train_op = g.get_collection(tf.GraphKeys.TRAIN_OP)[0]
    assert (train_op.name, train_op.type) == ("Adam", "AssignAdd")


def test_logits_equal_numpy_forward_and_dropout_only_when_fed():
    model = example.Model(seed=3)
    rng = np.random.default_rng(0)
    x = rng.random((3, 784), dtype=np.float32)
    with tf.Session(graph=model.graph) as sess:
        sess.run(model.init)
        with model.graph.as_default():
            params = sess.run(tf.trainable_variables())
        # random biases too, so a bias in the wrong place shows
        with model.graph.as_default():
            for v, p in zip(tf.trainable_variables(), params):
                if v.shape.ndims == 1:
                    v.load(rng.standard_normal(p.shape).astype(np.float32) * 0.1, sess)
            params = sess.run(tf.trainable_variables())
        got = sess.run(model.logits, {model.x: x})
        again = sess.run(model.logits, {model.x: x})
        dropped = sess.run(model.logits, {model.x: x, model.keep_prob: 0.5})
    want = numpy_logits(params, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    np.testing.assert_array_equal(got, again)          # keep_prob defaults to 1
    assert not np.allclose(dropped, got)


def test_short_training_run_lowers_loss_and_restores(tmp_path):
    out = str(tmp_path / "ckpt" / "cnn")
    lines = []
    result = example.main(["--synthetic", "--synthetic-size", "480", "--epochs", "2",
                           "--batch-size", "16", "--steps-per-epoch", "12",
                           "--eval-batch", "250", "--out", out, "--quiet", "--seed", "1"],
                          log=lines.append)
    hist = result["history"]
    steps = hist["step_loss"]
    assert len(steps) == 24 and len(hist["seconds"]) == 2
    # chance level is ln(10) = 2.30; 24 Adam steps on the synthetic digits
    # must bring the loss well below it
    assert np.mean(steps[:4]) > 1.8
    assert np.mean(steps[-6:]) < 0.75 * np.mean(steps[:4])
    assert result["test_acc"] > 0.3
    assert any("s/epoch" in line for line in lines)
    assert any("test accuracy" in line for line in lines)
    # the checkpoint restores into a fresh graph from its meta graph
    prefix = result["checkpoint"]
    assert prefix == out and os.path.exists(out + ".meta")
    sets, _ = example.load_data(example.parse_args(["--synthetic", "--synthetic-size",
                                                    "480", "--seed", "1"]))
    x_test, y_test = sets["test"]
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(out + ".meta")
        with tf.Session(graph=g) as sess:
            saver.restore(sess, out)
            acc = np.mean([sess.run("accuracy:0", {"pl_image:0": x_test[i:i + 250],
                                                   "pl_label:0": y_test[i:i + 250]})
                           for i in range(0, len(x_test), 250)])
    np.testing.assert_allclose(acc, result["test_acc"], atol=1e-6)
