"""Candidate samplers and compute_accidental_hits against numpy transcriptions of
TF 1.15's semantics: shapes, dtypes and names, ranges and uniqueness, the
distributions (chi-square bounds with fixed seeds), the order of unique
samples and their num_tries (both unique algorithms), expected counts against
TF's formulas, learned counts, fresh values per run and seeded repeats, and
errors. Cross-checks against TensorFlow (deterministic parts) skip without it."""
import math

import numpy as np
import pytest

import tfcompile as tf
from tfcompile.ops import candidate_draws, candidate_ops

IAE = tf.errors.InvalidArgumentError


# ---------------------------------------------------------------- oracles

def logu_p(v, r):
    v = np.asarray(v, np.float64)
    return np.log((v + 2.0) / (v + 1.0)) / np.log1p(r)


def unigram_table(unigrams, distortion=1.0, reserved=0, shards=1, shard=0):
    """TF's FixedUnigramSampler weights (reserved ids at 0, this shard's ids)."""
    w = [0.0 for i in range(reserved) if i % shards == shard]
    wid = len(w)
    for u in unigrams:
        if wid % shards == shard:
            w.append(np.float32(u) ** np.float32(distortion))
        wid += 1
    return np.array(w, np.float32)


def expected(p, s, tries):
    """TF's ExpectedCountHelper in float32."""
    p = np.asarray(p, np.float32)
    if tries == s:
        return p * np.float32(s)
    return -np.expm1(np.float32(tries) * np.log1p(-p))


def chi2_critical(k, z=5.0):
    """Wilson-Hilferty: the chi-square quantile with k degrees of freedom at a
    normal z of 5 (a false alarm about once in 3.5 million)."""
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def assert_fits(counts, probs):
    counts, probs = np.asarray(counts, float), np.asarray(probs, float)
    n = counts.sum()
    assert np.all(counts[probs == 0] == 0), "drew a class of probability 0"
    keep = probs > 0
    e, c = n * probs[keep], counts[keep]
    big = e >= 5          # pool the rare classes into one cell
    e = np.append(e[big], e[~big].sum())
    c = np.append(c[big], c[~big].sum())
    if e[-1] == 0:
        e, c = e[:-1], c[:-1]
    stat = ((c - e) ** 2 / e).sum()
    assert stat < chi2_critical(len(e) - 1), (stat, len(e) - 1)


def tries_of(ec, p, s):
    """The num_tries that TF's formula turns p into ec (the one for every entry)."""
    ec, p = np.float32(ec), np.float32(p)
    if np.isclose(ec, p * np.float32(s), rtol=1e-6, atol=0):
        return s
    t = int(round(math.log1p(-float(ec)) / math.log1p(-float(p))))
    assert np.isclose(expected(p, s, t), ec, rtol=1e-5), (ec, p, t)
    return t


TC = np.array([[1, 2], [3, 4]], np.int64)


def run_n(out, n, feed=None):
    """n runs of a sampler's outputs (the fast path of repeated runs)."""
    with tf.Session() as s:
        return [s.run(list(out), feed) for _ in range(n)]


# ---------------------------------------------------------------- graph side

def test_outputs_names_shapes_and_namespaces():
    tf.reset_default_graph()
    tc = tf.placeholder(tf.int64, [None, 2])
    cases = [
        ("UniformCandidateSampler", tf.nn.uniform_candidate_sampler(tc, 2, 5, True, 10)),
        ("LogUniformCandidateSampler", tf.nn.log_uniform_candidate_sampler(tc, 2, 5, False, 10)),
        ("FixedUnigramCandidateSampler", tf.nn.fixed_unigram_candidate_sampler(
            tc, 2, 5, True, 3, unigrams=[1, 2, 3])),
        ("LearnedUnigramCandidateSampler", tf.nn.learned_unigram_candidate_sampler(
            tc, 2, 5, False, 10)),
        ("AllCandidateSampler", tf.nn.all_candidate_sampler(tc, 2, 5, True)),
    ]
    for op_type, out in cases:
        assert type(out).__name__ == op_type
        assert out._fields == ("sampled_candidates", "true_expected_count",
                               "sampled_expected_count")
        assert [t.name for t in out] == [f"{op_type}:{i}" for i in range(3)]
        assert [t.dtype for t in out] == [tf.int64, tf.float32, tf.float32]
        assert [t.shape.as_list() for t in out] == [[5], [None, 2], [5]]
    named = tf.nn.uniform_candidate_sampler(TC, 2, 3, False, 10, name="neg")
    assert named.sampled_candidates.name == "neg:0"
    assert named.true_expected_count.shape.as_list() == [2, 2]
    hits = tf.nn.compute_accidental_hits(tc, named.sampled_candidates, 2)
    assert hits._fields == ("indices", "ids", "weights")
    assert [t.dtype for t in hits] == [tf.int32, tf.int64, tf.float32]
    assert [t.shape.as_list() for t in hits] == [[None]] * 3
    for k in ("uniform", "log_uniform", "fixed_unigram", "learned_unigram", "all"):
        name = f"{k}_candidate_sampler"
        assert getattr(tf.random, name) is getattr(tf.nn, name)
    assert tf.compat.v1.nn.nce_loss is tf.nn.nce_loss


@pytest.mark.parametrize("build, err, match", [
    (lambda: tf.nn.uniform_candidate_sampler(tf.constant([1, 2], tf.int64), 1, 5, True, 10),
     ValueError, "Shape must be rank 2 but is rank 1"),
    (lambda: tf.nn.uniform_candidate_sampler(tf.constant([[1, 2]], tf.int32), 2, 5, True, 10),
     TypeError, "Input 'true_classes' of 'UniformCandidateSampler' Op has type int32 that "
                "does not match expected type of int64"),
    (lambda: tf.nn.log_uniform_candidate_sampler(TC, 2, 0, True, 10), ValueError,
     "Attr 'num_sampled' of 'LogUniformCandidateSampler' Op passed 0 less than minimum 1"),
    (lambda: tf.nn.uniform_candidate_sampler(TC, 0, 5, True, 10), ValueError,
     "Attr 'num_true' .* passed 0 less than minimum 1"),
    (lambda: tf.nn.learned_unigram_candidate_sampler(TC, 2, 5, True, 0), ValueError,
     "Attr 'range_max' .* passed 0 less than minimum 1"),
    (lambda: tf.nn.fixed_unigram_candidate_sampler(TC, 2, 5, True, 10, num_shards=0,
                                                   unigrams=[1.0] * 10),
     ValueError, "Attr 'num_shards' .* less than minimum 1"),
    (lambda: tf.nn.compute_accidental_hits(TC, tf.constant([[1]], tf.int64), 2), ValueError,
     "Shape must be rank 1 but is rank 2"),
    (lambda: tf.nn.compute_accidental_hits(TC, tf.constant([1], tf.int64), 3), ValueError,
     "Dimension must be 3 but is 2"),
])
def test_graph_build_errors(build, err, match):
    tf.reset_default_graph()
    with pytest.raises(err, match=match):
        build()


@pytest.mark.parametrize("build, err, match", [
    (lambda: tf.nn.uniform_candidate_sampler(TC, 3, 5, True, 10), IAE,
     "true_classes must have num_true columns, expected: 3 was: 2"),
    (lambda: tf.nn.log_uniform_candidate_sampler(TC, 2, 11, True, 10), IAE,
     "Sampler's range is too small."),
    (lambda: tf.nn.fixed_unigram_candidate_sampler(TC, 2, 5, False, 10, unigrams=[1.0] * 9),
     IAE, "range is 10 must be equal to weights size  9"),
    (lambda: tf.nn.fixed_unigram_candidate_sampler(TC, 2, 5, False, 10), IAE,
     "Must provide either vocab_file or unigrams."),
    (lambda: tf.nn.fixed_unigram_candidate_sampler(TC, 2, 5, True, 6, num_reserved_ids=2,
                                                   unigrams=[1.0] * 4), IAE,
     "5 unique candidates asked, but only 4 classes have a nonzero weight"),
    (lambda: tf.nn.fixed_unigram_candidate_sampler(TC, 2, 5, False, 3,
                                                   vocab_file="no/such/vocab.csv"),
     tf.errors.NotFoundError, "no/such/vocab.csv"),
    (lambda: tf.nn.log_uniform_candidate_sampler(TC, 2, 5, False, 4), IAE,
     r"`true_candidate` out of range \[0, 4\)"),
    (lambda: tf.nn.all_candidate_sampler(-TC, 2, 5, False), IAE,
     r"`true_candidate` out of range \[0, 5\)"),
])
def test_run_time_errors(build, err, match):
    tf.reset_default_graph()
    out = build()
    with tf.Session() as s:
        with pytest.raises(err, match=match) as e:
            s.run(out)
    assert e.value.op is out[0].op


# ---------------------------------------------------------------- distributions

def _fixed_probs(w):
    w = np.asarray(w, np.float64)
    return w / w.sum()


@pytest.mark.parametrize("kind", ["uniform", "log_uniform", "fixed", "learned"])
def test_nonunique_draws_follow_the_distribution(kind):
    tf.reset_default_graph()
    s, r = 20000, 12
    table = unigram_table([3, 1, 0.5, 7, 2, 0, 1, 1, 4, 0.25], distortion=0.75, reserved=2)
    if kind == "uniform":
        out, p = tf.nn.uniform_candidate_sampler(TC, 2, s, False, r, seed=1), np.full(r, 1 / r)
    elif kind == "log_uniform":
        out, p = tf.nn.log_uniform_candidate_sampler(TC, 2, s, False, r, seed=1), logu_p(
            np.arange(r), r)
    elif kind == "fixed":
        out = tf.nn.fixed_unigram_candidate_sampler(
            TC, 2, s, False, r, unigrams=[3, 1, 0.5, 7, 2, 0, 1, 1, 4, 0.25],
            distortion=0.75, num_reserved_ids=2, seed=1)
        p = _fixed_probs(table)
    else:   # the first run draws from the initial counts: all ones
        out, p = tf.nn.learned_unigram_candidate_sampler(TC, 2, s, False, r, seed=1), np.full(
            r, 1 / r)
    (sc, tec, sec), = run_n(out, 1)
    assert sc.dtype == np.int64 and sc.shape == (s,)
    assert sc.min() >= 0 and sc.max() < r
    assert_fits(np.bincount(sc, minlength=r), p)
    if kind == "fixed":   # TF's float32 probabilities
        p32 = (table / np.add.accumulate(table, dtype=np.float32)[-1]).astype(np.float32)
    else:
        p32 = p.astype(np.float32)
    np.testing.assert_allclose(sec, expected(p32[sc], s, s), rtol=1e-6)
    np.testing.assert_allclose(tec, expected(p32[TC], s, s), rtol=1e-6)


def _unique_case(kind, r):
    if kind == "uniform":
        return (lambda tc, s: tf.nn.uniform_candidate_sampler(tc, 1, s, True, r, seed=7),
                np.full(r, 1 / r))
    if kind == "log_uniform":
        return (lambda tc, s: tf.nn.log_uniform_candidate_sampler(tc, 1, s, True, r, seed=7),
                logu_p(np.arange(r), r))
    w = 1.0 / (1.0 + np.arange(r)) ** 1.5
    w[r // 2] = 0.0     # one class never drawn
    return (lambda tc, s: tf.nn.fixed_unigram_candidate_sampler(
        tc, 1, s, True, r, unigrams=list(w), seed=7), _fixed_probs(unigram_table(w)))


def _pair_moments(p):
    """Exact law of TF's unique sample of 2: P(first=i, second=j) = p_i p_j / (1 - p_i);
    num_tries = 1 + a geometric wait with failure probability p_i."""
    pairs = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(pairs, 0)
    mean = 1 + (p / (1 - p)).sum()
    second = 1 + 2 / (1 - p) + (1 + p) / (1 - p) ** 2
    var = (p * second).sum() - mean ** 2
    return pairs, mean, var


@pytest.mark.parametrize("method", ["draws", "race"])
@pytest.mark.parametrize("kind, r", [("uniform", 5), ("log_uniform", 5), ("fixed", 6),
                                     ("fixed", 40)])
def test_unique_samples_follow_tf_rejection_process(monkeypatch, method, kind, r):
    """Ordered pairs (r <= 6) or both marginals (r = 40: the race then searches
    a threshold) against the exact law, and the mean num_tries."""
    monkeypatch.setattr(candidate_ops, "_FORCE", method)
    tf.reset_default_graph()
    build, p = _unique_case(kind, r)
    tc = np.array([[0], [r - 1]], np.int64)
    out = build(tc, 2)
    n = 2500
    runs = run_n(out, n)
    pairs, mean, var = _pair_moments(p)
    got = np.zeros((r, r))
    tries = []
    for sc, tec, sec in runs:
        assert sc[0] != sc[1] and 0 <= sc.min() and sc.max() < r
        got[sc[0], sc[1]] += 1
        t = tries_of(sec[0], p[sc[0]], 2)
        np.testing.assert_allclose(sec, expected(p[sc].astype(np.float32), 2, t), rtol=1e-5)
        np.testing.assert_allclose(tec[:, 0], expected(p[tc[:, 0]].astype(np.float32), 2, t),
                                   rtol=1e-5)
        tries.append(t)
    if r <= 6:
        assert_fits(got.ravel(), pairs.ravel())
    else:
        assert_fits(got.sum(axis=1), pairs.sum(axis=1))
        assert_fits(got.sum(axis=0), pairs.sum(axis=0))
    assert abs(np.mean(tries) - mean) < 5 * math.sqrt(var / n), (np.mean(tries), mean)


def test_unique_samples_of_wide_and_full_ranges():
    tf.reset_default_graph()
    tc = np.array([[5]], np.int64)
    huge = tf.nn.log_uniform_candidate_sampler(tc, 1, 64, True, 2 ** 31 - 1, seed=3)
    full = tf.nn.uniform_candidate_sampler(tc, 1, 300, True, 300, seed=3)
    w = [0.0, 2.0, 0.0, 1.0, 5.0, 0.0, 1e-6, 3.0]
    all_nonzero = tf.nn.fixed_unigram_candidate_sampler(tc, 1, 5, True, 8, unigrams=w, seed=3)
    learned = tf.nn.learned_unigram_candidate_sampler(tc, 1, 100, True, 3000, seed=3)
    with tf.Session() as s:
        for _ in range(3):
            h, f, a, le = s.run([huge, full, all_nonzero, learned])
            assert len(set(h.sampled_candidates)) == 64
            assert h.sampled_candidates.min() >= 0
            assert h.sampled_candidates.max() < 2 ** 31 - 1
            assert sorted(f.sampled_candidates) == list(range(300))   # a permutation
            assert sorted(a.sampled_candidates) == [1, 3, 4, 6, 7]
            assert len(set(le.sampled_candidates)) == 100
            assert le.sampled_candidates.min() >= 0 and le.sampled_candidates.max() < 3000
    # the mass of the first 64 log-uniform classes makes repeats likely: tries > 64
    t = tries_of(h.sampled_expected_count[0], logu_p(h.sampled_candidates[0], 2 ** 31 - 1), 64)
    assert t > 64


def test_draws_needed_bounds_the_rejection_process():
    """The number of draws planned for a unique sample covers the simulated
    rejection process at the promised rate (looser rates here, to be seen)."""
    rng = np.random.default_rng(0)
    r, s = 1000, 64
    cdf = np.cumsum(logu_p(np.arange(r), r))
    tries = []
    for _ in range(3000):
        draws = np.searchsorted(cdf, rng.random(400) * cdf[-1], side="right")
        _, first = np.unique(draws, return_index=True)
        tries.append(np.sort(first)[s - 1] + 1)
    q = np.log1p(np.arange(s)) / np.log1p(r)
    for eps in (1e-1, 1e-2):
        d = candidate_draws.draws_needed(q, 1 << 16, math.log(eps))
        assert np.mean(np.array(tries) > d) <= eps
        assert d < 2 * np.quantile(tries, 1 - eps)
    assert candidate_draws.draws_needed(np.zeros(5), 100) == 5
    assert candidate_draws.draws_needed(np.array([0, 0.9999999]), 100) is None


# ---------------------------------------------------------------- learned counts

def test_learned_counts_follow_the_true_classes():
    tf.reset_default_graph()
    r, s = 7, 3
    tc = tf.placeholder(tf.int64, [None, 2])
    out = tf.nn.learned_unigram_candidate_sampler(tc, 2, s, False, r, seed=2)
    feeds = [np.array([[1, 2], [2, 2]]), np.array([[6, 0]]), np.array([[2, 5], [5, 5], [3, 1]])]
    for _ in range(2):   # a new session starts from ones again
        counts = np.ones(r, np.int64)
        with tf.Session() as sess:
            for f in feeds:
                sc, tec, sec = sess.run(list(out), {tc: f})
                p = (counts.astype(np.float32) / np.float32(counts.sum())).astype(np.float32)
                np.testing.assert_allclose(tec, p[f] * s, rtol=1e-6)
                np.testing.assert_allclose(sec, p[sc] * s, rtol=1e-6)
                np.add.at(counts, f.ravel(), 1)
            np.testing.assert_array_equal(
                sess.run(tf.get_default_graph().get_tensor_by_name(
                    "LearnedUnigramCandidateSampler/counts:0")), counts)


def test_learned_sampler_draws_follow_learned_counts():
    tf.reset_default_graph()
    r = 6
    tc = tf.placeholder(tf.int64, [None, 1])
    out = tf.nn.learned_unigram_candidate_sampler(tc, 1, 20000, False, r, seed=4)
    teach = np.array([[4]] * 30 + [[1]] * 10, np.int64)
    with tf.Session() as s:
        s.run(out, {tc: teach})
        sc = s.run(out.sampled_candidates, {tc: teach[:1]})
    counts = np.ones(r)
    counts[4] += 30
    counts[1] += 10
    assert_fits(np.bincount(sc, minlength=r), counts / counts.sum())


def test_learned_unique_samples_follow_learned_counts():
    """After a teaching run, runs on an empty batch (no updates) draw unique
    pairs by the learned counts (the race, whose weights come at run time)."""
    tf.reset_default_graph()
    r = 5
    tc = tf.placeholder(tf.int64, [None, 1])
    out = tf.nn.learned_unigram_candidate_sampler(tc, 1, 2, True, r, seed=8)
    counts = np.array([1, 9, 3, 1, 6], np.float64)
    teach = np.repeat(np.arange(r), (counts - 1).astype(int))[:, None]
    none = np.zeros((0, 1), np.int64)
    n = 2500
    with tf.Session() as sess:
        sess.run(list(out), {tc: teach})
        runs = [sess.run(list(out), {tc: none}) for _ in range(n)]
    p = counts / counts.sum()
    pairs, mean, var = _pair_moments(p)
    got = np.zeros((r, r))
    tries = []
    for sc, tec, sec in runs:
        assert tec.shape == (0, 1)
        got[sc[0], sc[1]] += 1
        tries.append(tries_of(sec[0], p[sc[0]], 2))
    assert_fits(got.ravel(), pairs.ravel())
    assert abs(np.mean(tries) - mean) < 5 * math.sqrt(var / n), (np.mean(tries), mean)


def test_empty_batches():
    tf.reset_default_graph()
    tc = np.zeros((0, 2), np.int64)
    outs = [tf.nn.uniform_candidate_sampler(tc, 2, 3, True, 10, seed=1),
            tf.nn.log_uniform_candidate_sampler(tc, 2, 3, False, 10, seed=1),
            tf.nn.fixed_unigram_candidate_sampler(tc, 2, 3, True, 4, unigrams=[1, 2, 3, 4],
                                                  seed=1),
            tf.nn.learned_unigram_candidate_sampler(tc, 2, 3, True, 10, seed=1),
            tf.nn.all_candidate_sampler(tc, 2, 3, True)]
    with tf.Session() as s:
        for out, (sc, tec, sec) in zip(outs, s.run(outs)):
            assert sc.shape == (3,) and tec.shape == (0, 2) and sec.shape == (3,)
            assert len(set(sc)) == 3 or not out.sampled_candidates.op.attrs["unique"]


# ---------------------------------------------------------------- runs and seeds

def test_fresh_per_run_and_repeated_by_seeds():
    def draws(op_seed, graph_seed, runs=3):
        with tf.Graph().as_default():
            if graph_seed is not None:
                tf.set_random_seed(graph_seed)
            a = tf.nn.log_uniform_candidate_sampler(TC, 2, 6, True, 1000, seed=op_seed)
            b = tf.nn.uniform_candidate_sampler(TC, 2, 6, False, 1000, seed=op_seed)
            with tf.Session() as s:
                return [np.concatenate([x.sampled_candidates, y.sampled_candidates])
                        for x, y in (s.run([a, b]) for _ in range(runs))]
    first = draws(5, None)
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])
    np.testing.assert_array_equal(np.array(first), np.array(draws(5, None)))
    np.testing.assert_array_equal(np.array(draws(None, 9)), np.array(draws(None, 9)))
    assert not np.array_equal(np.array(first), np.array(draws(6, None)))
    assert not np.array_equal(np.array(draws(None, None)), np.array(draws(None, None)))


def test_all_candidate_sampler():
    tf.reset_default_graph()
    out = tf.nn.all_candidate_sampler(TC, 2, 5, True)
    (sc, tec, sec), = run_n(out, 1)
    np.testing.assert_array_equal(sc, np.arange(5))
    np.testing.assert_array_equal(tec, np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(sec, np.ones(5, np.float32))


# ---------------------------------------------------------------- accidental hits

def accidental_hits(tc, sc):
    """TF's kernel: for each (i, j) in order, the last position of tc[i, j] in sc."""
    last = {int(c): k for k, c in enumerate(sc)}
    hits = [(i, last[int(c)]) for i in range(tc.shape[0]) for c in tc[i] if int(c) in last]
    idx = np.array([h[0] for h in hits], np.int32)
    ids = np.array([h[1] for h in hits], np.int64)
    return idx, ids, np.full(len(hits), -np.finfo(np.float32).max, np.float32)


def test_accidental_hits_against_numpy():
    tf.reset_default_graph()
    tc = tf.placeholder(tf.int64, [None, 3])
    sc = tf.placeholder(tf.int64, [None])
    hits = tf.nn.compute_accidental_hits(tc, sc, 3)
    rng = np.random.default_rng(1)
    cases = [(np.array([[1, 2, 3], [3, 4, 3]]), np.array([3, 9, 1, 3, 4])),
             (np.array([[1, 2, 3]]), np.array([7, 8])),                    # none
             (np.zeros((0, 3), np.int64), np.array([1])),
             (np.array([[5, 5, 5]]), np.array([5, 5]))]
    cases += [(rng.integers(0, 8, (6, 3)), rng.integers(0, 8, 5)) for _ in range(3)]
    with tf.Session() as s:
        for t, c in cases:
            got = s.run(list(hits), {tc: t, sc: c})
            for g, w in zip(got, accidental_hits(t, c)):
                assert g.dtype == w.dtype
                np.testing.assert_array_equal(g, w)


# ---------------------------------------------------------------- against TensorFlow

def _tf_deterministic(m, vocab):
    """Outputs of a TF 1.x module `m` that don't depend on its generator: the
    expected counts of unique=False samplers' true classes (learned ones over
    three runs), all_candidate_sampler, compute_accidental_hits."""
    out = {}
    with m.Graph().as_default():
        tc = m.placeholder(m.int64, [None, 2])
        fx = dict(distortion=0.75, num_reserved_ids=3, num_shards=2, shard=1)
        samplers = {
            "uniform": m.nn.uniform_candidate_sampler(tc, 2, 4, False, 9),
            "logu": m.nn.log_uniform_candidate_sampler(tc, 2, 4, False, 9),
            "fixed": m.nn.fixed_unigram_candidate_sampler(
                tc, 2, 4, False, 8, unigrams=[5, 1, 2, 3, 4, 0.5, 6, 7, 8, 9, 10, 1, 1, 2], **fx),
            "vocab": m.nn.fixed_unigram_candidate_sampler(tc, 2, 4, False, 5, vocab_file=vocab),
            "learned": m.nn.learned_unigram_candidate_sampler(tc, 2, 4, False, 9),
            "all": m.nn.all_candidate_sampler(tc, 2, 4, True),
        }
        hits = m.nn.compute_accidental_hits(tc, m.constant([4, 2, 8, 2, 0], m.int64), 2)
        feeds = [np.array([[1, 2], [3, 0]]), np.array([[2, 2]]), np.array([[0, 3], [3, 2]])]
        with m.Session() as s:
            for n, f in enumerate(feeds):
                got = s.run({k: v.true_expected_count for k, v in samplers.items()}, {tc: f})
                for k, v in got.items():
                    out[f"{k}{n}"] = v
            out["all_sampled"] = s.run(samplers["all"].sampled_candidates, {tc: feeds[0]})
            for k, v in zip(("idx", "ids", "w"), s.run(list(hits), {tc: feeds[2]})):
                out[k] = v
    return out


@pytest.mark.slow
def test_deterministic_outputs_as_tensorflow(tmp_path):
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_eager_execution()
    vocab = tmp_path / "vocab.csv"
    vocab.write_text("the,50\nof,20.5\nx,y,3\n,7\nlast,1e-1\n")
    ours, theirs = _tf_deterministic(tf, str(vocab)), _tf_deterministic(v1, str(vocab))
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert ours[k].dtype == theirs[k].dtype, k
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6, err_msg=k)
