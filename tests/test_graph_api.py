"""Graph building: names, shapes and dtypes as TensorFlow 1.15 gives them."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_unique_names_and_scopes():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    c = a + b
    d = a + b
    assert (a.name, b.name, c.name, d.name) == ("Const:0", "Const_1:0", "add:0", "add_1:0")
    with tf.name_scope("scope"):
        e = a + b
        with tf.name_scope("inner"):
            f = tf.multiply(a, b)
    with tf.name_scope("scope"):
        g = a - b
    assert e.name == "scope/add:0"
    assert f.name == "scope/inner/Mul:0"
    assert g.name == "scope_1/sub:0"
    assert tf.add(a, 1.0, name="x").name == "x:0"
    assert tf.add(a, 1.0, name="x").name == "x_1:0"


def test_mlp_names_shapes_dtypes():
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    W = tf.Variable(tf.random_uniform([784, 100], -1, 1))
    b = tf.Variable(tf.zeros([100]))
    h = tf.nn.relu(tf.matmul(x, W) + b)
    assert x.name == "x:0" and x.shape.as_list() == [None, 784]
    assert W.name == "Variable:0" and b.name == "Variable_1:0"
    assert W.shape.as_list() == [784, 100]
    assert h.name == "Relu:0" and h.shape.as_list() == [None, 100]
    assert h.dtype == tf.float32
    assert h.op.type == "Relu"
    names = [op.name for op in tf.get_default_graph().get_operations()]
    for n in ["x", "random_uniform/shape", "random_uniform/min", "random_uniform/max",
              "random_uniform/RandomUniform", "random_uniform/sub", "random_uniform/mul",
              "random_uniform", "Variable", "Variable/Assign", "Variable/read", "zeros",
              "Variable_1", "MatMul", "add", "Relu"]:
        assert n in names, n
    assert h.op.inputs[0].op.inputs[0].name == "MatMul:0"
    gd = tf.get_default_graph().as_graph_def()
    node = [n for n in gd.node if n.name == "MatMul"][0]
    assert node.op == "MatMul" and node.input == ["x", "Variable/read"]


def test_conversion_rules():
    assert tf.constant(1).dtype == tf.int32
    assert tf.constant(1.0).dtype == tf.float32
    assert tf.constant([1, 2.5]).dtype == tf.float32
    assert tf.constant(2 ** 40).dtype == tf.int64
    assert tf.constant(np.float64(1.0)).dtype == tf.float64
    assert tf.constant(np.arange(3)).dtype == tf.int64
    assert tf.constant(True).dtype == tf.bool
    with pytest.raises(TypeError):
        tf.constant(1.5, dtype=tf.int32)
    x = tf.placeholder(tf.float32)
    with pytest.raises(TypeError, match="AddV2"):
        x + tf.constant(1)
    i = tf.constant([1, 2])
    with pytest.raises(TypeError):
        i + 1.5
    assert (i / 2).dtype == tf.float64
    assert (i // 2).dtype == tf.int32
    assert (x * 2).dtype == tf.float32


def test_static_shape_errors():
    a = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.matmul(a, tf.zeros([4, 2]))
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        a + tf.zeros([2, 4])
    with pytest.raises(ValueError, match="Cannot reshape"):
        tf.reshape(tf.zeros([2, 3]), [4, 2])
    assert tf.reshape(a, [-1]).shape.as_list() == [None]
    assert tf.reshape(tf.zeros([2, 6]), [3, -1]).shape.as_list() == [3, 4]


def test_shapes_of_ops():
    a = tf.placeholder(tf.float32, [None, 3, 5])
    assert tf.reduce_sum(a, 1).shape.as_list() == [None, 5]
    assert tf.reduce_mean(a, [1, 2], keepdims=True).shape.as_list() == [None, 1, 1]
    assert tf.reduce_max(a).shape.as_list() == []
    assert tf.transpose(a).shape.as_list() == [5, 3, None]
    assert tf.argmax(a, 2).dtype == tf.int64
    assert tf.argmax(a, 2, output_type=tf.int32).dtype == tf.int32
    assert a[:, 1].shape.as_list() == [None, 5]
    assert a[..., ::2].shape.as_list() == [None, 3, 3]
    assert a[:, tf.newaxis, 0].shape.as_list() == [None, 1, 5]
    assert tf.zeros_like(a).shape.as_list() == [None, 3, 5]
    assert tf.cast(a, tf.int32).dtype == tf.int32
    assert tf.equal(a, a).dtype == tf.bool


def test_graph_lookup_and_collections():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, name="pl")
        v = tf.Variable(1.0, name="v", trainable=False)
        w = tf.Variable(2.0, name="w")
        assert tf.get_default_graph() is g
    assert g.get_tensor_by_name("pl:0") is x
    assert g.get_operation_by_name("pl") is x.op
    with pytest.raises(KeyError):
        g.get_tensor_by_name("nope:0")
    with g.as_default():
        assert tf.global_variables() == [v, w]
        assert tf.trainable_variables() == [w]
    assert tf.get_default_graph() is not g


def test_tensor_bool_and_len_raise():
    x = tf.constant([1, 2])
    with pytest.raises(TypeError):
        bool(x)
    with pytest.raises(TypeError):
        len(x)
