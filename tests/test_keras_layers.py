"""tf.keras layers in graph mode: outputs against numpy with the layers' own
weights, Keras defaults (string initializers, pooling strides, 'valid'),
the learning phase for Dropout and BatchNormalization, Input, Sequential,
and outputs equal to TensorFlow's tf.keras for the same weights (skipped
without TensorFlow)."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def test_dense_conv_pool_flatten_against_numpy():
    K = tf.keras.layers
    x = K.Input(shape=(6, 6, 2))
    assert x.name == "input_1:0" and x.shape.as_list() == [None, 6, 6, 2]
    conv = K.Conv2D(3, 3, activation="relu")
    pool = K.MaxPooling2D()
    dense = K.Dense(4, activation="sigmoid", kernel_initializer="he_normal")
    h = conv(x)
    assert h.shape.as_list() == [None, 4, 4, 3]          # 'valid' by default
    p = pool(h)
    assert p.shape.as_list() == [None, 2, 2, 3]          # strides default to the pool size
    out = dense(K.Flatten()(p))
    assert [v.name for v in tf.global_variables()] == [
        "conv2d/kernel:0", "conv2d/bias:0", "dense/kernel:0", "dense/bias:0"]
    a = np.random.default_rng(0).standard_normal((2, 6, 6, 2)).astype(np.float32)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        k, b, wk, wb = s.run([conv.kernel, conv.bias, dense.kernel, dense.bias])
        got = s.run(out, {x: a})
    cv = np.zeros((2, 4, 4, 3), np.float32)
    for i in range(4):
        for j in range(4):
            cv[:, i, j] = np.tensordot(a[:, i:i + 3, j:j + 3], k, axes=3)
    cv = np.maximum(cv + b, 0)
    pooled = cv.reshape(2, 2, 2, 2, 2, 3).max(axis=(2, 4))
    want = 1 / (1 + np.exp(-(pooled.reshape(2, -1) @ wk + wb)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # he_normal: truncated normal with stddev sqrt(2 / fan_in) (fan_in 12)
    assert 0.2 < wk.std() < 0.6 and np.abs(wk).max() <= 2 * np.sqrt(2 / 12) / 0.87962566 + 1e-6


def test_dropout_and_batchnorm_follow_the_learning_phase():
    K = tf.keras.layers
    x = tf.placeholder(tf.float32, [None, 4])
    d = K.Dropout(0.5, seed=1)(x)
    bn = K.BatchNormalization()
    y = bn(x)
    phase = tf.keras.backend.learning_phase()
    assert phase.name == "keras_learning_phase:0"
    a = np.random.default_rng(1).standard_normal((64, 4)).astype(np.float32) * 3 + 1
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(s.run(d, {x: a}), a)          # inference: identity
        dropped = s.run(d, {x: a, phase: True})
        kept = dropped != 0
        np.testing.assert_allclose(dropped[kept], 2 * a[kept], rtol=1e-6)
        assert 0.3 < kept.mean() < 0.7
        np.testing.assert_allclose(s.run(y, {x: a}), a / np.sqrt(1 + 1e-3), rtol=1e-5)
        train = s.run(y, {x: a, phase: True})
        np.testing.assert_allclose(train, (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-3),
                                   rtol=1e-4, atol=1e-4)
    explicit = K.Dropout(0.5)(x, training=True)
    with tf.Session() as s:
        assert (s.run(explicit, {x: a}) == 0).any()


def test_embedding_reshape_activation_sequential():
    K = tf.keras.layers
    ids = tf.placeholder(tf.int32, [None, 3])
    emb = K.Embedding(10, 2)
    model = tf.keras.Sequential([emb, K.Reshape((6,)), K.Dense(3), K.Activation("softmax")])
    out = model(ids)
    assert out.shape.as_list() == [None, 3]
    assert [v.name for v in model.trainable_variables] == [
        "embedding/embeddings:0", "dense/kernel:0", "dense/bias:0"]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        table, wk, wb = s.run(model.trainable_variables)
        got = s.run(out, {ids: [[1, 2, 3], [9, 0, 9]]})
    assert np.abs(table).max() <= 0.05                      # 'uniform': U(-0.05, 0.05)
    logits = table[[[1, 2, 3], [9, 0, 9]]].reshape(2, 6) @ wk + wb
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(1, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="Unknown initializer"):
        K.Dense(3, kernel_initializer="nope")


@pytest.mark.slow
def test_same_outputs_as_tensorflow_keras():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_v2_behavior()

    def prog(lib, weights=None):
        with lib.Graph().as_default():
            x = lib.placeholder(lib.float32, [None, 8, 8, 3])
            ids = lib.placeholder(lib.int32, [None, 4])
            K = lib.keras.layers
            h = K.Conv2D(4, 3, activation="relu", padding="same")(x)
            h = K.Flatten()(K.BatchNormalization()(K.MaxPooling2D()(h)))
            h = K.Dense(5, activation="tanh")(K.Dropout(0.5)(h))
            e = K.Reshape((12,))(K.Embedding(10, 3)(ids))
            out = K.Activation("softmax")(lib.concat([h, e], 1))
            vs = [v for v in lib.global_variables() if "seed_generator" not in v.name]
            with lib.Session() as s:
                s.run(lib.global_variables_initializer())
                if weights is not None:
                    for v in vs:
                        v.load(weights[v.name], s)
                w = dict(zip([v.name for v in vs], s.run(vs)))
                feed = {x: np.random.default_rng(0).random((2, 8, 8, 3), np.float32),
                        ids: [[1, 2, 3, 4], [5, 6, 7, 8]]}
                return w, s.run(out, feed)
    theirs = prog(v1)
    ours = prog(tf, theirs[0])
    assert sorted(ours[0]) == sorted(theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
