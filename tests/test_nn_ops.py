"""tf.nn ops: forward values against numpy transcriptions of TF's definitions
(float32 and float64, several shapes, extreme logits), TF 1.15's op and tensor
names and build-time errors, and every gradient function against central finite
differences of the numpy oracle in float64."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.ops.registry import GRADIENTS

RNG = np.random.default_rng(0)
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


# ---------------------------------------------------------------- numpy oracles

def np_softplus(x):
    thr = np.log(np.finfo(x.dtype).eps) + 2
    with np.errstate(over="ignore"):
        e = np.exp(x)
        return np.where(x > -thr, x, np.where(x < thr, e, np.log1p(e)))


ACTIVATIONS = {
    "relu": (tf.nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (tf.nn.relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    "elu": (tf.nn.elu, lambda x: np.where(x < 0, np.expm1(np.minimum(x, 0)), x)),
    "selu": (tf.nn.selu, lambda x: np.where(x < 0, SELU_SCALE * SELU_ALPHA
                                            * np.expm1(np.minimum(x, 0)), SELU_SCALE * x)),
    "softplus": (tf.nn.softplus, np_softplus),
    "softsign": (tf.nn.softsign, lambda x: x / (1 + np.abs(x))),
    "leaky_relu": (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    "sigmoid": (tf.nn.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (tf.nn.tanh, np.tanh),
}


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


def numeric_vjp(f, xs, g, eps=1e-6):
    """d/dx_i of sum(g * f(*xs)) by central differences, for each float input."""
    out = []
    for i, x in enumerate(xs):
        if x is None:
            out.append(None)
            continue
        grad = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            hi = [v.copy() if v is not None else None for v in xs]
            lo = [v.copy() if v is not None else None for v in xs]
            hi[i][idx] += eps
            lo[i][idx] -= eps
            grad[idx] = (np.sum(g * f(*hi)) - np.sum(g * f(*lo))) / (2 * eps)
        out.append(grad)
    return out


def registered_vjp(tensor, upstream_values, which=0):
    """Applies the op's registered gradient function to upstream placeholders:
    returns (the gradient tensors, the feed for the upstream values)."""
    op = tensor.op
    feed, grads = {}, []
    for k, t in enumerate(op.outputs):
        if k == which:
            p = tf.placeholder(t.dtype, upstream_values.shape)
            feed[p] = upstream_values
            grads.append(p)
        else:
            grads.append(None)
    res = GRADIENTS[op.type](op, *grads)
    if not isinstance(res, (list, tuple)):
        res = [res]
    return list(res), feed


# ---------------------------------------------------------------- activations

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_forward(dtype):
    with tf.Graph().as_default():
        shapes = [(7,), (3, 4), (2, 3, 5)]
        extreme = np.array([-1e4, -100, -20, -6, -1e-3, 0, 1e-3, 5.9, 6, 6.1, 20, 100, 1e4],
                           dtype)
        values = [RNG.normal(0, 4, s).astype(dtype) for s in shapes] + [extreme]
        fetches, expect = [], []
        for v in values:
            x = tf.constant(v)
            for name, (fn, ref) in ACTIVATIONS.items():
                fetches.append(fn(x))
                with np.errstate(over="ignore"):
                    expect.append((name, ref(v.astype(np.float64)).astype(dtype)))
        got = run(fetches)
        for (name, e), g in zip(expect, got):
            assert g.dtype == dtype
            assert np.all(np.isfinite(g)), name
            np.testing.assert_allclose(g, e, err_msg=name, **tol(dtype))


def test_activation_names_and_dtypes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        names = [tf.nn.relu(x).name, tf.nn.relu6(x).name, tf.nn.elu(x).name,
                 tf.nn.selu(x).name, tf.nn.softplus(x).name, tf.nn.softsign(x).name,
                 tf.nn.leaky_relu(x).name, tf.nn.relu6(x, name="r6").name,
                 tf.nn.leaky_relu(x, alpha=0.1, name="lr").name]
        assert names == ["Relu:0", "Relu6:0", "Elu:0", "Selu:0", "Softplus:0",
                         "Softsign:0", "LeakyRelu:0", "r6:0", "lr:0"]
        assert tf.nn.leaky_relu(x).op.get_attr("alpha") == pytest.approx(0.2)
        assert tf.nn.elu(x).shape.as_list() == [None, 3]
        with pytest.raises(TypeError):
            tf.nn.elu(tf.constant([1, 2]))
        # integer features are cast to float32 by leaky_relu, as TF does
        assert tf.nn.leaky_relu(tf.constant([1, -2])).dtype == tf.float32


def test_leaky_relu_alpha_above_one():
    with tf.Graph().as_default():
        v = np.array([-2., -0.5, 0., 1., 3.], np.float32)
        got = run(tf.nn.leaky_relu(tf.constant(v), alpha=2.0))
        np.testing.assert_allclose(got, np.where(v > 0, v, 2 * v))


# ---------------------------------------------------------------- softmax

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax(dtype):
    with tf.Graph().as_default():
        cases = [RNG.normal(0, 3, (4, 6)).astype(dtype), RNG.normal(0, 3, (5,)).astype(dtype),
                 RNG.normal(0, 3, (2, 3, 4)).astype(dtype),
                 np.array([[1e4, -1e4, 0.], [-1e30, 5., 5.], [88., 89., 90.]], dtype)]
        fetches, expect = [], []
        for v in cases:
            x = tf.constant(v)
            fetches += [tf.nn.softmax(x), tf.nn.log_softmax(x)]
            expect += [np_softmax(v.astype(np.float64)), np_log_softmax(v.astype(np.float64))]
        v3 = cases[2]
        for axis in (0, 1, -2):
            x = tf.constant(v3)
            fetches += [tf.nn.softmax(x, axis=axis), tf.nn.log_softmax(x, axis=axis)]
            expect += [np_softmax(v3.astype(np.float64), axis),
                       np_log_softmax(v3.astype(np.float64), axis)]
        got = run(fetches)
        for g, e in zip(got, expect):
            assert np.all(np.isfinite(g))
            np.testing.assert_allclose(g, e.astype(dtype), **tol(dtype))


def test_softmax_names_and_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 10])
        assert tf.nn.softmax(x).name == "Softmax:0"
        assert tf.nn.softmax(x, name="probs").name == "probs:0"
        assert tf.nn.log_softmax(x).name == "LogSoftmax:0"
        assert tf.nn.softmax(x).op.type == "Softmax"
        assert tf.nn.softmax(x, axis=0).name == "transpose_1:0"
        assert tf.nn.softmax(x, axis=0).shape.as_list() == [None, 10]
        with pytest.raises(ValueError, match="at least rank 1"):
            tf.nn.softmax(tf.constant(1.0))
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be in the range"):
            tf.nn.softmax(x, axis=3)


# ---------------------------------------------------------------- cross entropy

def np_sparse_xent(logits, labels):
    lsm = np_log_softmax(logits)
    return -np.take_along_axis(lsm, labels[..., None].astype(np.int64), -1)[..., 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_dtype", [tf.int32, tf.int64])
def test_sparse_softmax_cross_entropy(dtype, label_dtype):
    with tf.Graph().as_default():
        logits2 = RNG.normal(0, 2, (6, 5)).astype(dtype)
        logits2[0] = [1e4, -1e4, 0, 3, 2]          # extreme: must stay finite
        logits2[1] = [-1e4, 1e4, -1e4, 1e4, 0]
        labels2 = np.array([0, 1, 2, 3, 4, 1])
        logits3 = RNG.normal(0, 2, (2, 3, 4)).astype(dtype)
        labels3 = RNG.integers(0, 4, (2, 3))
        lp = tf.placeholder(dtype, [None, 5])
        yp = tf.placeholder(label_dtype, [None])
        l2 = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yp, logits=lp)
        l3 = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(labels3, dtype=label_dtype), logits=tf.constant(logits3))
        assert l2.shape.as_list() == [None] and l3.shape.as_list() == [2, 3]
        got2, got3, bp = run([l2, l3, l2.op.outputs[1]],
                             {lp: logits2, yp: labels2.astype(label_dtype.as_numpy_dtype)})
        e2 = np_sparse_xent(logits2.astype(np.float64), labels2)
        assert np.all(np.isfinite(got2))
        np.testing.assert_allclose(got2, e2.astype(dtype), **tol(dtype))
        np.testing.assert_allclose(got3, np_sparse_xent(logits3.astype(np.float64), labels3),
                                   **tol(dtype))
        expect_bp = np_softmax(logits2.astype(np.float64)) - np.eye(5)[labels2]
        np.testing.assert_allclose(bp, expect_bp, **tol(dtype))


def test_sparse_xent_names_and_errors():
    with tf.Graph().as_default():
        logits = tf.placeholder(tf.float32, [None, 10])
        labels = tf.placeholder(tf.int64, [None])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        assert loss.name == ("SparseSoftmaxCrossEntropyWithLogits/"
                             "SparseSoftmaxCrossEntropyWithLogits:0")
        assert loss.op.type == "SparseSoftmaxCrossEntropyWithLogits"
        named = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                               name="xent")
        assert named.name == "xent/xent:0"
        l3 = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.placeholder(tf.int32, [None, 4]),
            logits=tf.placeholder(tf.float32, [None, 4, 10]))
        assert l3.name == "SparseSoftmaxCrossEntropyWithLogits_1/Reshape_2:0"
        with pytest.raises(ValueError, match="Only call"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        with pytest.raises(ValueError, match="Rank mismatch"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.placeholder(tf.int32, [None, 2]), logits=logits)
        with pytest.raises(ValueError, match="Shape mismatch"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.placeholder(tf.int32, [3]), logits=tf.placeholder(tf.float32, [4, 2]))
        with pytest.raises(TypeError, match="labels"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.placeholder(tf.float32, [None]), logits=logits)


def test_sparse_xent_label_out_of_range_fails_the_run():
    """As TF on CPU: an InvalidArgumentError naming the first bad label."""
    with tf.Graph().as_default():
        labels = tf.placeholder(tf.int32, [3])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=tf.constant(np.zeros((3, 3), np.float32)))
        with tf.Session() as s:
            np.testing.assert_allclose(s.run(loss, {labels: [0, 2, 1]}), [np.log(3)] * 3,
                                       rtol=1e-6)
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"label value of 3 which is outside the valid range of "
                                     r"\[0, 3\)\.  Label values: 0 3 -1"):
                s.run(loss, {labels: [0, 3, -1]})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy(dtype):
    with tf.Graph().as_default():
        logits = RNG.normal(0, 2, (4, 5)).astype(dtype)
        logits[0] = [1e4, -1e4, 0, 3, 2]
        labels = RNG.dirichlet(np.ones(5), 4).astype(dtype)
        logits3 = RNG.normal(0, 2, (3, 2, 4)).astype(dtype)
        labels3 = RNG.dirichlet(np.ones(3), (2, 4)).transpose(2, 0, 1).astype(dtype)
        lp = tf.placeholder(dtype, [None, 5])
        yp = tf.placeholder(dtype, [None, 5])
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=yp, logits=lp)
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=yp, logits=lp)
        ax0 = tf.nn.softmax_cross_entropy_with_logits_v2(
            labels=tf.constant(labels3), logits=tf.constant(logits3), axis=0)
        assert v2.shape.as_list() == [None] and ax0.shape.as_list() == [2, 4]
        g2, g1, g0 = run([v2, v1, ax0], {lp: logits, yp: labels})
        lsm = np_log_softmax(logits.astype(np.float64))
        expect = -(labels * lsm).sum(-1)
        np.testing.assert_allclose(g2, expect, **tol(dtype))
        np.testing.assert_allclose(g1, expect, **tol(dtype))
        e0 = -(labels3 * np_log_softmax(logits3.astype(np.float64), 0)).sum(0)
        np.testing.assert_allclose(g0, e0, **tol(dtype))


def test_softmax_cross_entropy_names():
    with tf.Graph().as_default():
        lp = tf.placeholder(tf.float32, [None, 5])
        yp = tf.placeholder(tf.float32, [None, 5])
        assert tf.nn.softmax_cross_entropy_with_logits_v2(labels=yp, logits=lp).name == \
            "softmax_cross_entropy_with_logits/Reshape_2:0"
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=yp, logits=lp)
        assert v1.name == "softmax_cross_entropy_with_logits_sg/Reshape_2:0"
        g = tf.get_default_graph()
        assert g.get_operation_by_name("softmax_cross_entropy_with_logits_sg").type == \
            "SoftmaxCrossEntropyWithLogits"
        assert g.get_operation_by_name(
            "softmax_cross_entropy_with_logits_sg/labels_stop_gradient").type == "StopGradient"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_cross_entropy(dtype):
    with tf.Graph().as_default():
        x = RNG.normal(0, 3, (4, 6)).astype(dtype)
        x[0, :4] = [1e4, -1e4, 100, -100]
        z = RNG.uniform(0, 1, (4, 6)).astype(dtype)
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(z),
                                                       logits=tf.constant(x))
        assert loss.name == "logistic_loss:0"
        w = tf.nn.weighted_cross_entropy_with_logits(labels=tf.constant(z),
                                                     logits=tf.constant(x), pos_weight=3.0)
        got, gw = run([loss, w])
        xd, zd = x.astype(np.float64), z.astype(np.float64)
        # TF's stable formula, transcribed: max(x, 0) - x z + log(1 + exp(-|x|))
        expect = np.maximum(xd, 0) - xd * zd + np.log1p(np.exp(-np.abs(xd)))
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, expect, **tol(dtype))
        # and, away from overflow, the textbook definition
        sig = 1 / (1 + np.exp(-xd[1:]))
        np.testing.assert_allclose(got[1:], -zd[1:] * np.log(sig) - (1 - zd[1:]) * np.log(1 - sig),
                                   rtol=1e-4 if dtype == np.float32 else 1e-9)
        lw = 1 + 2 * zd
        ew = (1 - zd) * xd + lw * (np.log1p(np.exp(-np.abs(xd))) + np.maximum(-xd, 0))
        np.testing.assert_allclose(gw, ew, **tol(dtype))
        with pytest.raises(ValueError, match="same shape"):
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros([2, 3]),
                                                    logits=tf.zeros([3, 2]))


# ---------------------------------------------------------------- bias_add, l2_loss, misc

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_add(dtype):
    with tf.Graph().as_default():
        x2 = RNG.normal(size=(3, 4)).astype(dtype)
        x4 = RNG.normal(size=(2, 3, 4, 5)).astype(dtype)
        b4, b3 = RNG.normal(size=4).astype(dtype), RNG.normal(size=3).astype(dtype)
        b5 = RNG.normal(size=5).astype(dtype)
        outs = run([tf.nn.bias_add(tf.constant(x2), tf.constant(b4)),
                    tf.nn.bias_add(tf.constant(x4), tf.constant(b5)),
                    tf.nn.bias_add(tf.constant(x4), tf.constant(b3), data_format="NCHW"),
                    tf.nn.xw_plus_b(tf.constant(x2), tf.constant(x2.T), tf.constant(b3))])
        np.testing.assert_allclose(outs[0], x2 + b4, **tol(dtype))
        np.testing.assert_allclose(outs[1], x4 + b5, **tol(dtype))
        np.testing.assert_allclose(outs[2], x4 + b3[None, :, None, None], **tol(dtype))
        np.testing.assert_allclose(outs[3], x2 @ x2.T + b3, **tol(dtype))


def test_bias_add_names_and_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        assert tf.nn.bias_add(x, tf.zeros([4])).name == "BiasAdd:0"
        assert tf.nn.bias_add(x, tf.zeros([4])).op.get_attr("data_format") == "NHWC"
        assert tf.nn.xw_plus_b(x, tf.zeros([4, 2]), tf.zeros([2])).name == "xw_plus_b:0"
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 3"):
            tf.nn.bias_add(x, tf.zeros([3]))
        with pytest.raises(ValueError, match="rank 1"):
            tf.nn.bias_add(x, tf.zeros([4, 1]))
        with pytest.raises(ValueError, match="data_format"):
            tf.nn.bias_add(x, tf.zeros([4]), data_format="HWNC")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l2_loss_normalize_moments(dtype):
    with tf.Graph().as_default():
        v = RNG.normal(size=(3, 5)).astype(dtype)
        x = tf.constant(v)
        l2 = tf.nn.l2_loss(x)
        assert l2.name == "L2Loss:0" and l2.shape.as_list() == []
        mean, var = tf.nn.moments(x, [0])
        mk, vk = tf.nn.moments(x, [0, 1], keep_dims=True)
        norm = tf.nn.l2_normalize(x, axis=1)
        assert norm.name == "l2_normalize:0"
        bn = tf.nn.batch_normalization(x, mean, var, tf.constant(0.5, dtype),
                                       tf.constant(2.0, dtype), 1e-3)
        got = run([l2, mean, var, mk, vk, norm, bn])
        vd = v.astype(np.float64)
        np.testing.assert_allclose(got[0], (vd ** 2).sum() / 2, **tol(dtype))
        np.testing.assert_allclose(got[1], vd.mean(0), **tol(dtype))
        np.testing.assert_allclose(got[2], vd.var(0), **tol(dtype))
        assert got[3].shape == (1, 1)
        np.testing.assert_allclose(got[4], vd.var(keepdims=True), **tol(dtype))
        np.testing.assert_allclose(got[5], vd / np.sqrt((vd ** 2).sum(1, keepdims=True)),
                                   **tol(dtype))
        np.testing.assert_allclose(got[6], (vd - vd.mean(0)) * 2 / np.sqrt(vd.var(0) + 1e-3)
                                   + 0.5, rtol=1e-5 if dtype == np.float32 else 1e-10)


def test_in_top_k_and_argmax():
    with tf.Graph().as_default():
        p = np.array([[0.1, 0.5, 0.3, 0.5], [1., 2., 3., 4.], [4., 3., 2., 1.],
                      [0., np.inf, 0., 0.], [1., 1., 1., 1.]], np.float32)
        t = np.array([1, 1, 1, 0, 3], np.int32)
        pt = tf.constant(p)
        k1 = tf.nn.in_top_k(pt, tf.constant(t), 1)
        k2 = tf.nn.in_top_k(pt, tf.constant(t), 2)
        oob = tf.nn.in_top_k(pt, tf.constant([7, 0, 0, 0, 0]), 4)
        assert k1.name == "in_top_k/InTopKV2:0" and k1.dtype == tf.bool
        am = tf.argmax(pt, axis=1, output_type=tf.int32)
        am64 = tf.argmax(pt, 1)
        assert am.dtype == tf.int32 and am64.dtype == tf.int64
        g1, g2, go, a32, a64 = run([k1, k2, oob, am, am64])

        def oracle(k, targets):
            out = []
            for row, tg in zip(p, targets):
                if not 0 <= tg < len(row) or not np.all(np.isfinite(row)):
                    out.append(False)
                else:
                    out.append(int((row > row[tg]).sum()) < k)
            return out
        assert list(g1) == oracle(1, t)
        assert list(g2) == oracle(2, t)
        assert list(go) == oracle(4, [7, 0, 0, 0, 0])
        np.testing.assert_array_equal(a32, np.argmax(p, 1))
        assert a32.dtype == np.int32 and a64.dtype == np.int64


# ---------------------------------------------------------------- dropout

def test_dropout_values_and_statistics():
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        x = tf.ones([200, 100])
        d_keep = tf.nn.dropout(x, keep_prob=0.75)
        d_rate = tf.nn.dropout(x, rate=0.25)
        kp = tf.placeholder(tf.float32, [])
        d_ph = tf.nn.dropout(x, keep_prob=kp)
        noise = tf.nn.dropout(x, keep_prob=0.5, noise_shape=[200, 1])
        with tf.Session() as s:
            a, b, c, n = s.run([d_keep, d_rate, d_ph, noise], {kp: 0.5})
            a2 = s.run(d_keep)
        for v, keep in ((a, 0.75), (b, 0.75), (c, 0.5)):
            vals = set(np.unique(v).tolist())
            assert vals <= {0.0, np.float32(1 / keep)}
            # 20000 Bernoulli draws: the kept fraction is within 5 sigma of keep
            frac = (v > 0).mean()
            assert abs(frac - keep) < 5 * np.sqrt(keep * (1 - keep) / v.size)
        assert not np.array_equal(a, a2)   # fresh randomness each run
        # one draw per row: rows are all kept or all dropped
        assert np.all((n == 0).all(1) | (n == 2).all(1))


def test_dropout_names_and_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8])
        d = tf.nn.dropout(x, keep_prob=0.5)
        assert d.name == "dropout/mul:0" and d.shape.as_list() == [None, 8]
        assert tf.nn.dropout(x, keep_prob=1.0) is x
        assert tf.nn.dropout(x, rate=0.0) is x
        with pytest.raises(ValueError, match="range"):
            tf.nn.dropout(x, rate=1.0)
        with pytest.raises(ValueError, match="Cannot specify both"):
            tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
        with pytest.raises(ValueError, match="provide a rate"):
            tf.nn.dropout(x)
        with pytest.raises(ValueError, match="floating point"):
            tf.nn.dropout(tf.constant([1, 2]), keep_prob=0.5)


# ---------------------------------------------------------------- gradients

def _vjp_case(build, ref, inputs, which_out=0, upstream=None):
    """Registered gradient of build(*tensors) against finite differences of ref."""
    with tf.Graph().as_default():
        ts = [tf.constant(v) if v is not None else None for v in inputs]
        y = build(*ts)
        yv = ref(*inputs)
        g = RNG.normal(size=np.shape(yv)) if upstream is None else upstream
        grads, feed = registered_vjp(y, np.asarray(g, np.float64), which_out)
        fetch = [gr for gr in grads[:len(inputs)] if gr is not None]
        got = run(fetch, feed)
        expect = numeric_vjp(ref, inputs, g)
        k = 0
        for gr, ex, x in zip(grads, expect, inputs):
            if gr is None:
                continue
            if ex is not None and x is not None:
                np.testing.assert_allclose(got[k], ex, rtol=1e-6, atol=1e-7)
            k += 1
        return grads


def _away_from_kinks(shape, kinks=(0.,), gap=0.05):
    v = RNG.normal(0, 2, shape)
    for k in kinks:
        v = np.where(np.abs(v - k) < gap, k + gap * 2 * np.sign(v - k + 1e-9), v)
    return v


@pytest.mark.parametrize("name", ["relu6", "elu", "selu", "softplus", "softsign",
                                  "leaky_relu"])
def test_activation_gradients(name):
    fn, ref = ACTIVATIONS[name]
    kinks = (0., 6.) if name == "relu6" else (0.,)
    x = _away_from_kinks((3, 4), kinks)
    if name == "softplus":
        x[0, :3] = [-40., 40., 15.]
    _vjp_case(fn, ref, [x])


def test_softmax_and_log_softmax_gradients():
    x = RNG.normal(size=(3, 5))
    _vjp_case(tf.nn.softmax, np_softmax, [x])
    _vjp_case(tf.nn.log_softmax, np_log_softmax, [x])
    x3 = RNG.normal(size=(2, 2, 3))
    _vjp_case(tf.nn.log_softmax, np_log_softmax, [x3])


def test_sparse_xent_gradient_is_softmax_minus_onehot():
    logits = RNG.normal(size=(4, 5))
    labels = np.array([0, 4, 2, 2])

    def build(lg):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(labels),
                                                              logits=lg)
    grads = _vjp_case(build, lambda lg: np_sparse_xent(lg, labels), [logits])
    assert grads[1] is None                           # no gradient for the labels
    assert grads[0].op.inputs[1].op.type == "PreventGradient"


def test_softmax_xent_gradients_for_logits_and_labels():
    logits = RNG.normal(size=(3, 4))
    labels = RNG.dirichlet(np.ones(4), 3)

    def ref(lg, lb):
        return -(lb * np_log_softmax(lg)).sum(-1)
    with tf.Graph().as_default():
        lt, yt = tf.constant(logits), tf.constant(labels)
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=yt, logits=lt)
        xent = loss.op.inputs[0].op                       # the fused op under the reshape
        assert xent.type == "SoftmaxCrossEntropyWithLogits"
        g = RNG.normal(size=3)
        grads, feed = registered_vjp(xent.outputs[0], g)
        got = run(grads, feed)
    ex_logits, ex_labels = numeric_vjp(ref, [logits, labels], g)
    np.testing.assert_allclose(got[0], ex_logits, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got[1], ex_labels, rtol=1e-6, atol=1e-7)


def test_bias_add_and_l2_loss_gradients():
    x = RNG.normal(size=(2, 3, 4))
    b4, b3 = RNG.normal(size=4), RNG.normal(size=3)
    _vjp_case(tf.nn.bias_add, lambda x, b: x + b, [x, b4])
    _vjp_case(lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
              lambda x, b: x + b[None, :, None], [x, b3])
    _vjp_case(tf.nn.l2_loss, lambda x: np.sum(x ** 2) / 2, [x], upstream=np.float64(1.7))


def _np_grad_ops():
    """numpy transcriptions of TF's gradient kernels (gradients, other input)."""
    return {
        "Relu6Grad": lambda g, f: g * ((f > 0) & (f < 6)),
        "LeakyReluGrad": lambda g, f: np.where(f > 0, g, 0.2 * g),
        "EluGrad": lambda g, y: np.where(y < 0, g * (y + 1), g),
        "SeluGrad": lambda g, y: np.where(y < 0, g * (y + SELU_SCALE * SELU_ALPHA),
                                          g * SELU_SCALE),
        "SoftplusGrad": lambda g, f: g / (1 + np.exp(-f)),
    }


@pytest.mark.parametrize("op_type", ["Relu6Grad", "LeakyReluGrad", "EluGrad", "SeluGrad",
                                     "SoftplusGrad"])
def test_second_order_gradients(op_type):
    from tfcompile.ops import nn_grad
    build = {"Relu6Grad": nn_grad.relu6_grad, "LeakyReluGrad": nn_grad.leaky_relu_grad,
             "EluGrad": nn_grad.elu_grad, "SeluGrad": nn_grad.selu_grad,
             "SoftplusGrad": nn_grad.softplus_grad}[op_type]
    ref = _np_grad_ops()[op_type]
    g = RNG.normal(size=(3, 4))
    f = _away_from_kinks((3, 4), (0., 6.))
    if op_type in ("EluGrad", "SeluGrad"):   # second input holds outputs: y > -1 (or -scale*alpha)
        f = np.maximum(f, -0.9)
    _vjp_case(build, ref, [g, f])


def test_bias_add_grad_gradient():
    from tfcompile.ops import nn_grad
    g = RNG.normal(size=(3, 4))
    _vjp_case(nn_grad.bias_add_grad, lambda x: x.sum(0), [g])


def test_prevent_gradient_raises_lookup_error():
    from tfcompile.ops import nn_grad
    with tf.Graph().as_default():
        y = nn_grad.prevent_gradient(tf.constant([1.0]), message="no second derivative")
        with pytest.raises(LookupError, match="no second derivative"):
            GRADIENTS["PreventGradient"](y.op, tf.constant([1.0]))
        assert run(y) == pytest.approx([1.0])


def test_end_to_end_gradient_through_tf_gradients():
    gradients = getattr(tf, "gradients", None)
    if gradients is None:
        mod = pytest.importorskip("tfcompile.gradients")
        gradients = mod.gradients
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [4, 3])
        w = tf.constant(RNG.normal(size=(3, 5)))
        b = tf.constant(RNG.normal(size=5))
        labels = np.array([0, 4, 1, 1])
        logits = tf.nn.bias_add(tf.matmul(tf.nn.elu(x), w), b)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant(labels), logits=logits))
        (gx,) = gradients(loss, [x])
        assert gx.name.startswith("gradients/")
        xv = _away_from_kinks((4, 3))
        got = run(gx, {x: xv})
    wv, bv = run_consts(w, b)

    def ref(xx):
        elu = np.where(xx < 0, np.expm1(np.minimum(xx, 0)), xx)
        return np.mean(np_sparse_xent(elu @ wv + bv, labels))
    (expect,) = numeric_vjp(ref, [xv], np.float64(1.0))
    np.testing.assert_allclose(got, expect, rtol=1e-6, atol=1e-8)


def run_consts(*ts):
    return [t.op.get_attr("value") for t in ts]


def test_cross_entropy_gradients_through_tf_gradients():
    if not hasattr(tf, "gradients"):
        pytest.skip("tf.gradients is not available")
    logits = RNG.normal(size=(4, 5))
    labels = RNG.dirichlet(np.ones(5), 4)
    z = RNG.uniform(size=(4, 5))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 5])
        y = tf.placeholder(tf.float64, [None, 5])
        v1 = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x))
        v2 = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x))
        sg = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=x))
        g1 = tf.gradients(v1, [x, y])
        assert g1[1] is None                       # v1 stops the gradient into labels
        g2 = tf.gradients(v2, [x, y])
        assert g2[0].name == "gradients_1/softmax_cross_entropy_with_logits/Reshape_grad/Reshape:0"
        gs = tf.gradients(sg, x)
        got = run([g1[0], g2[0], g2[1], gs[0]], {x: logits, y: labels})
        got_s = run(gs[0], {x: logits, y: z})
    p = np_softmax(logits)
    np.testing.assert_allclose(got[0], p - labels, atol=1e-12)
    np.testing.assert_allclose(got[1], p - labels, atol=1e-12)
    np.testing.assert_allclose(got[2], -np_log_softmax(logits), atol=1e-12)
    np.testing.assert_allclose(got_s, 1 / (1 + np.exp(-logits)) - z, atol=1e-12)


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("max_norm", [None, 1.5])
def test_embedding_lookup_over_shards_and_max_norm(strategy, max_norm):
    # TF's layouts: "mod" puts row i in shard i % 3 at i // 3; "div" gives the
    # shards contiguous runs of 4, 3, 3 rows. max_norm scales longer rows down.
    rng = np.random.default_rng(0)
    table = rng.standard_normal((10, 3)) * 2
    ids = np.array([[0, 9, 4], [7, 3, 3]], np.int64)
    if strategy == "mod":
        shards = [table[i::3] for i in range(3)]
    else:
        shards = [table[0:4], table[4:7], table[7:10]]
    want = table[ids]
    if max_norm is not None:
        norms = np.linalg.norm(want, axis=-1, keepdims=True)
        want = want * np.minimum(1.0, max_norm / norms)
    tf.reset_default_graph()
    phs = [tf.placeholder(tf.float64, s.shape) for s in shards]
    y = tf.nn.embedding_lookup(phs, ids, partition_strategy=strategy, max_norm=max_norm)
    g = tf.gradients(tf.reduce_sum(y), phs)
    with tf.Session() as s:
        got, grads = s.run([y, g], dict(zip(phs, shards)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    if max_norm is None:                    # each lookup adds ones to its row
        counts = np.zeros((10, 3))
        np.add.at(counts, ids.ravel(), 1.0)
        got_full = np.zeros((10, 3))
        if strategy == "mod":
            for i in range(3):
                got_full[i::3] = grads[i]
        else:
            got_full = np.concatenate(grads)
        np.testing.assert_allclose(got_full, counts)
