"""nce_loss and sampled_softmax_loss: with given sampled_values (deterministic)
against a numpy transcription of TF 1.15's _compute_sampled_logits and against
TensorFlow itself, over sharded weights, num_true > 1 and accidental hits;
gradients w.r.t. weights, biases and inputs by central differences; the
default sampler; a word2vec-style training loop whose loss falls."""
import numpy as np
import pytest

import tfcompile as tf
from gradcheck import check_gradients

FLT_MAX = float(np.finfo(np.float32).max)


# ---------------------------------------------------------------- oracle

def table(weights, strategy):
    """The [num_classes, ...] table that shards of `weights` split (mod or div)."""
    if not isinstance(weights, list):
        return weights
    n = len(weights)
    if strategy == "div":
        return np.concatenate(weights)
    rows = sum(len(w) for w in weights)
    return np.stack([weights[i % n][i // n] for i in range(rows)])


def hit_mask(labels, sampled):
    """Where TF's compute_accidental_hits + sparse_to_dense put -FLT_MAX: each
    true class found among the candidates, at its last position."""
    mask = np.zeros((labels.shape[0], len(sampled)), bool)
    last = {int(c): j for j, c in enumerate(sampled)}
    for i, row in enumerate(labels):
        for c in row:
            if int(c) in last:
                mask[i, last[int(c)]] = True
    return mask


def sampled_logits(weights, biases, labels, inputs, sv, remove, strategy):
    w = table(weights, strategy)
    b = table(biases, strategy)
    sampled, tec, sec = sv
    bsz, t = labels.shape
    dt = inputs.dtype
    true_logits = np.einsum("bd,btd->bt", inputs, w[labels]) + b[labels]
    s_logits = inputs @ w[sampled].T + b[sampled]
    if remove:
        s_logits = s_logits + np.where(hit_mask(labels, sampled), dt.type(-FLT_MAX), 0).astype(dt)
    true_logits = true_logits - np.log(tec.astype(dt))
    s_logits = s_logits - np.log(sec.astype(dt))
    logits = np.concatenate([true_logits, s_logits], 1)
    out_labels = np.concatenate([np.full((bsz, t), 1.0 / t), np.zeros_like(s_logits)], 1)
    return logits, out_labels


def np_nce(*args):
    z, y = sampled_logits(*args)
    return (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).sum(1)


def np_softmax(*args):
    z, y = sampled_logits(*args)
    m = z.max(1, keepdims=True)
    log_sm = z - m - np.log(np.exp(z - m).sum(1, keepdims=True))
    return -(y * log_sm).sum(1)


# ---------------------------------------------------------------- cases

def make_case(seed, classes=10, dim=4, batch=3, num_true=1, shards=1, dtype=np.float32,
              sampled=(3, 7, 3, 0, 9)):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((classes, dim)).astype(dtype)
    b = rng.standard_normal(classes).astype(dtype)
    x = rng.standard_normal((batch, dim)).astype(dtype)
    labels = rng.integers(0, classes, (batch, num_true)).astype(np.int64)
    labels[0, 0] = sampled[0]         # an accidental hit with a repeated candidate
    s = np.array(sampled, np.int64)
    # expected counts of the inputs' dtype (TF subtracts their logs unconverted)
    sv = (s, rng.uniform(0.1, 2, (batch, num_true)).astype(dtype),
          rng.uniform(0.1, 2, len(s)).astype(dtype))
    if shards > 1:   # "div": contiguous runs, the first ones a row longer
        return dict(w=w, b=b, x=x, labels=labels, sv=sv,
                    shards=(np.array_split(w, shards), np.array_split(b, shards)))
    return dict(w=w, b=b, x=x, labels=labels, sv=sv, shards=None)


def shard_args(case, strategy):
    """(weights, biases) as the loss takes them, and as numpy for the oracle."""
    if case["shards"] is None:
        return case["w"], case["b"]
    n = len(case["shards"][0])
    if strategy == "div":
        return [list(p) for p in case["shards"]]
    w, b = case["w"], case["b"]
    return [w[i::n] for i in range(n)], [b[i::n] for i in range(n)]


CASES = [  # (seed, num_true, shards, strategy, dtype, remove_accidental_hits)
    (0, 1, 1, "mod", np.float32, False),
    (1, 1, 1, "mod", np.float32, True),
    (2, 2, 3, "mod", np.float64, True),
    (3, 2, 3, "div", np.float32, False),
    (4, 3, 2, "div", np.float64, True),
]


def losses(m, case, strategy, remove):
    """nce and sampled softmax losses of one case, built and run in TF-like module m."""
    wts, bs = shard_args(case, strategy)
    t = case["labels"].shape[1]
    with m.Graph().as_default():
        as_t = (lambda v: [m.constant(p) for p in v]) if isinstance(wts, list) else m.constant
        w, b = as_t(wts), as_t(bs)
        kw = dict(weights=w, biases=b, labels=m.constant(case["labels"]),
                  inputs=m.constant(case["x"]), num_sampled=len(case["sv"][0]),
                  num_classes=len(case["w"]), num_true=t,
                  sampled_values=tuple(m.constant(v) for v in case["sv"]),
                  remove_accidental_hits=remove, partition_strategy=strategy)
        nce = m.nn.nce_loss(**kw)
        ssm = m.nn.sampled_softmax_loss(**kw)
        with m.Session() as s:
            return s.run([nce, ssm])


@pytest.mark.parametrize("seed, num_true, shards, strategy, dtype, remove", CASES)
def test_losses_against_numpy(seed, num_true, shards, strategy, dtype, remove):
    case = make_case(seed, num_true=num_true, shards=shards, dtype=dtype)
    nce, ssm = losses(tf, case, strategy, remove)
    args = (case["w"], case["b"], case["labels"], case["x"], case["sv"], remove, "mod")
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert nce.dtype == dtype and nce.shape == (3,)
    np.testing.assert_allclose(nce, np_nce(*args), rtol=tol, atol=tol)
    np.testing.assert_allclose(ssm, np_softmax(*args), rtol=tol, atol=tol)


@pytest.mark.slow
def test_losses_against_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_eager_execution()
    for seed, num_true, shards, strategy, dtype, remove in CASES:
        case = make_case(seed, num_true=num_true, shards=shards, dtype=dtype)
        ours, theirs = losses(tf, case, strategy, remove), losses(v1, case, strategy, remove)
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)

    def names(m):   # with the default sampler: the tensors' names and the sampler's
        with m.Graph().as_default():
            args = (m.ones([10, 4]), m.zeros([10]), m.zeros([3, 1], m.int64), m.ones([3, 4]), 5, 10)
            nce, ssm = m.nn.nce_loss(*args), m.nn.sampled_softmax_loss(*args)
            return nce.name, ssm.name, [op.name for op in m.get_default_graph().get_operations()
                                        if op.type == "LogUniformCandidateSampler"]
    assert names(tf) == names(v1)


@pytest.mark.parametrize("loss, remove, num_true", [("nce", True, 2), ("softmax", True, 1),
                                                     ("softmax", False, 2)])
def test_gradients_by_central_differences(loss, remove, num_true):
    case = make_case(7, classes=6, dim=3, batch=2, num_true=num_true, dtype=np.float64,
                     sampled=(4, 1, 4, 5))
    w, b, x = case["w"], case["b"], case["x"]
    fn = tf.nn.nce_loss if loss == "nce" else tf.nn.sampled_softmax_loss

    def build(w0, w1, bias, inputs):   # weights in two "mod" shards
        sv = tuple(tf.constant(v) for v in case["sv"])
        return [fn([w0, w1], bias, tf.constant(case["labels"]), inputs, 4, 6,
                   num_true=num_true, sampled_values=sv, remove_accidental_hits=remove)]
    check_gradients(build, [w[0::2], w[1::2], b, x], tol=1e-6)


def test_default_sampler_and_seeds():
    def run(seed, runs=2):
        with tf.Graph().as_default():
            rng = np.random.default_rng(0)
            w = tf.constant(rng.standard_normal((50, 4)).astype(np.float32))
            b = tf.zeros([50])
            x = tf.constant(rng.standard_normal((6, 4)).astype(np.float32))
            labels = tf.constant(rng.integers(0, 50, (6, 1)))
            ssm = tf.nn.sampled_softmax_loss(w, b, labels, x, 10, 50, seed=seed)
            nce = tf.nn.nce_loss(w, b, labels, x, 10, 50)
            grads = tf.gradients(tf.reduce_sum(ssm) + tf.reduce_sum(nce), [w, x])
            with tf.Session() as s:
                return [s.run([ssm, nce] + grads) for _ in range(runs)]
    a, b = run(3), run(3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])     # the seeded sampler repeats
    assert not np.array_equal(a[0][0], a[1][0])       # fresh candidates per run
    for vals in a:
        assert vals[0].shape == (6,) and vals[1].shape == (6,)
        assert all(np.all(np.isfinite(v)) for v in vals)
        assert np.all(vals[0] > 0) and np.all(vals[1] > 0)


def test_word2vec_training_loss_falls():
    """Skip-gram on a corpus where word i's context is i + 1 or i + 2 (mod V):
    embedding lookup, nce_loss over log-uniform negatives, gradient descent."""
    vocab, dim, batch = 40, 8, 32
    rng = np.random.default_rng(0)
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        words = tf.placeholder(tf.int32, [batch])
        contexts = tf.placeholder(tf.int64, [batch, 1])
        emb = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0))
        nce_w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=1.0 / np.sqrt(dim)))
        nce_b = tf.Variable(tf.zeros([vocab]))
        embed = tf.nn.embedding_lookup(emb, words)
        loss = tf.reduce_mean(tf.nn.nce_loss(nce_w, nce_b, contexts, embed, num_sampled=8,
                                             num_classes=vocab))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        history = []
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for _ in range(600):
                w = rng.integers(0, vocab, batch)
                c = (w + rng.integers(1, 3, batch)) % vocab
                history.append(s.run([loss, train], {words: w, contexts: c[:, None]})[0])
            e, w_out, b_out = s.run([emb, nce_w, nce_b])
    first, last = np.mean(history[:20]), np.mean(history[-20:])
    assert last < 0.5 * first, (first, last)
    # the full logits now rank each word's two contexts first, for most words
    top2 = np.argsort(-(e @ w_out.T + b_out), axis=1)[:, :2]
    right = [set(top2[i]) == {(i + 1) % vocab, (i + 2) % vocab} for i in range(vocab)]
    assert np.mean(right) > 0.8
