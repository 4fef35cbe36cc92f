"""tf.Print and tf.print print when the graph runs (after the compiled call), in
TF's formats; the values they pass through are unchanged. Expected strings are
TensorFlow's own output for the same programs."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def test_print_passes_through_and_prints(capsys):
    x = tf.placeholder(tf.float32, [None])
    y = tf.Print(x, [x, tf.reduce_sum(x)], "x and sum: ")
    assert y.op.type == "Print"
    once = tf.Print(x, [x], "once ", first_n=1, summarize=10)
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y * 2, {x: [1.5, 2, 3, 4]}), [3, 4, 6, 8])
        assert capsys.readouterr().err == "x and sum: [1.5 2 3...][10.5]\n"
        s.run(once, {x: [1, 2]})
        s.run(once, {x: [3, 4]})
        assert capsys.readouterr().err == "once [1 2]\n"
        g, = tf.gradients(tf.reduce_sum(y * 3), [x])
        np.testing.assert_array_equal(s.run(g, {x: [1.0, 2.0]}), [3, 3])


def test_tf_print_as_control_dependency(capsys):
    x = tf.placeholder(tf.float32, [None])
    p = tf.print("loss:", tf.reduce_mean(x), x, summarize=2)
    m = tf.print(tf.reshape(tf.range(12), [3, 4]), summarize=1)
    with tf.control_dependencies([p, m]):
        w = tf.identity(x + 1)
    with tf.Session() as s:
        s.run(w, {x: [0.1, 2, 3, 4, 5]})
        assert capsys.readouterr().err == (
            "loss: 2.82000017 [0.1 2 ... 4 5]\n[[0 ... 3]\n ...\n [8 ... 11]]\n")
        s.run(p, {x: [1.0, 2.0]})                         # run as a target
        assert capsys.readouterr().err == "loss: 1.5 [1 2]\n"
        s.run(x + 1, {x: [1.0]})                          # not needed: no output
        assert capsys.readouterr().err == ""
