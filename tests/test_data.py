"""tf.data: datasets and iterators against numpy transcriptions of TF 1.15's
documented semantics (element values and order, static shapes and dtypes,
batching, repetition, shuffling, user functions run as compiled code), the
iterator kinds and their errors, a training loop fed by an iterator, and a
cross-check of deterministic pipelines against TensorFlow (skipped without it)."""
import collections

import numpy as np
import pytest

import tfcompile as tf

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def drain(sess, fetch, feed_dict=None, limit=10_000, lib=tf):
    """Every element until OutOfRangeError (the usual TF 1.x loop)."""
    out = []
    while True:
        try:
            out.append(sess.run(fetch, feed_dict))
        except lib.errors.OutOfRangeError:
            return out
        assert len(out) < limit


def elements(ds):
    """All elements of `ds` through a one-shot iterator."""
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as s:
        return drain(s, nxt)


def flat_values(elems):
    return [np.asarray(e).tolist() for e in elems]


# ---------------------------------------------------------------- sources

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_from_tensor_slices_values_and_specs(dtype):
    x = (RNG.standard_normal((5, 2, 3)) * 4).astype(dtype)
    ds = tf.data.Dataset.from_tensor_slices(x)
    assert ds.output_types == tf.as_dtype(dtype)
    assert ds.output_shapes.as_list() == [2, 3]
    assert ds.output_classes is tf.Tensor
    it = ds.make_one_shot_iterator()
    nxt = it.get_next()
    assert nxt.name == "IteratorGetNext:0" and nxt.op.type == "IteratorGetNext"
    assert nxt.shape.as_list() == [2, 3] and nxt.dtype == tf.as_dtype(dtype)
    with tf.Session() as s:
        got = drain(s, nxt)
    assert len(got) == 5
    for i, g in enumerate(got):
        assert g.dtype == x.dtype
        np.testing.assert_array_equal(g, x[i])


def test_from_tensor_slices_copies_numpy_input():
    x = np.arange(4, dtype=np.int64)
    ds = tf.data.Dataset.from_tensor_slices(x)
    x[:] = -1                       # the dataset holds the value it was given
    assert flat_values(elements(ds)) == [0, 1, 2, 3]


def test_python_lists_convert_as_tensorflow_does():
    ds = tf.data.Dataset.from_tensor_slices([[1, 2], [3, 4], [5, 6]])
    assert ds.output_types == tf.int32 and ds.output_shapes.as_list() == [2]
    f = tf.data.Dataset.from_tensor_slices([1.5, 2.5])
    assert f.output_types == tf.float32
    assert flat_values(elements(f)) == [1.5, 2.5]


def test_nested_tuple_and_dict_structures():
    a = np.arange(6, dtype=np.int64).reshape(3, 2)
    b = np.linspace(0, 1, 3).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices(({"b": b, "a": a}, a[:, 0]))
    assert ds.output_types == ({"a": tf.int64, "b": tf.float32}, tf.int64)
    assert ds.output_shapes[0]["a"].as_list() == [2]
    d, c = ds.make_one_shot_iterator().get_next()
    # flat order is TF's: dict keys sorted
    assert (d["a"].name, d["b"].name, c.name) == (
        "IteratorGetNext:0", "IteratorGetNext:1", "IteratorGetNext:2")
    with tf.Session() as s:
        got = drain(s, (d, c))
    assert len(got) == 3
    for i, (dd, cc) in enumerate(got):
        assert set(dd) == {"a", "b"}
        np.testing.assert_array_equal(dd["a"], a[i])
        assert dd["b"] == b[i] and cc == a[i, 0]


def test_namedtuple_elements():
    Pt = collections.namedtuple("Pt", "x y")
    ds = tf.data.Dataset.from_tensor_slices(Pt(np.arange(3), np.arange(3) * 10))
    nxt = ds.make_one_shot_iterator().get_next()
    assert isinstance(nxt, Pt)
    with tf.Session() as s:
        got = drain(s, nxt)
    assert [(int(p.x), int(p.y)) for p in got] == [(0, 0), (1, 10), (2, 20)]


def test_from_tensors_and_constant_tensor_input():
    c = tf.constant([[1.0, 2.0]])
    ds = tf.data.Dataset.from_tensors((c, 3))
    assert ds.output_shapes[0].as_list() == [1, 2] and ds.output_types[1] == tf.int32
    (got,) = elements(ds)
    np.testing.assert_array_equal(got[0], [[1.0, 2.0]])
    assert got[1] == 3


@pytest.mark.parametrize("args", [(5,), (2, 7), (10, 0, -3), (3, 3), (0, 10, 4), (5, 0)])
def test_range(args):
    ds = tf.data.Dataset.range(*args)
    assert ds.output_types == tf.int64 and ds.output_shapes.as_list() == []
    assert flat_values(elements(ds)) == list(range(*args))


def test_zip_nested_and_shortest():
    a = tf.data.Dataset.range(5)
    b = tf.data.Dataset.from_tensor_slices(np.arange(3, dtype=np.float32) / 2)
    c = tf.data.Dataset.range(100, 104)
    z = tf.data.Dataset.zip((a, {"b": b, "c": c}))
    assert z.output_types == (tf.int64, {"b": tf.float32, "c": tf.int64})
    got = elements(z)
    assert [(int(x), float(d["b"]), int(d["c"])) for x, d in got] == \
        [(0, 0.0, 100), (1, 0.5, 101), (2, 1.0, 102)]


def test_from_generator_with_args_and_shapes():
    def gen(n):
        for i in range(int(n)):
            yield i, [float(i)] * i

    ds = tf.data.Dataset.from_generator(gen, (tf.int64, tf.float32),
                                        (tf.TensorShape([]), tf.TensorShape([None])),
                                        args=(4,))
    assert ds.output_shapes[1].as_list() == [None]
    got = elements(ds.repeat(2))     # each pass calls the generator again
    assert len(got) == 8
    for k, (i, v) in enumerate(got):
        assert i == k % 4 and v.dtype == np.float32
        np.testing.assert_array_equal(v, [float(k % 4)] * (k % 4))


def test_from_generator_unknown_shapes_and_dict():
    ds = tf.data.Dataset.from_generator(
        lambda: iter([{"v": np.ones((2, 2))}, {"v": np.zeros(3)}]), {"v": tf.float64})
    assert ds.output_shapes["v"].ndims is None
    got = elements(ds)
    assert [g["v"].shape for g in got] == [(2, 2), (3,)]


@pytest.mark.parametrize("gen,types,msg", [
    (lambda: iter([[1, 2]]), tf.int64, "shape"),       # shape (2,) where () expected
    (lambda: iter([5]), (tf.int64, tf.int64), "structure"),
    (lambda: iter(["x"]), tf.int64, "converted"),
])
def test_from_generator_bad_elements_raise(gen, types, msg):
    shapes = tuple(tf.TensorShape([]) for _ in types) if isinstance(types, tuple) else \
        tf.TensorShape([])
    ds = tf.data.Dataset.from_generator(gen, types, shapes)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match=msg):
        s.run(nxt)


# ---------------------------------------------------------------- batching

@pytest.mark.parametrize("n,size,drop", [(10, 3, False), (10, 3, True), (9, 3, False),
                                         (2, 5, False), (2, 5, True), (0, 4, False)])
def test_batch_remainders_and_static_shapes(n, size, drop):
    x = RNG.standard_normal((n, 2)).astype(np.float32)
    y = np.arange(n, dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(size, drop_remainder=drop)
    assert ds.output_shapes[0].as_list() == [size if drop else None, 2]
    assert ds.output_shapes[1].as_list() == [size if drop else None]
    got = elements(ds)
    stops = list(range(0, n, size))
    want = [(x[i:i + size], y[i:i + size]) for i in stops
            if not drop or i + size <= n]
    assert len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


def test_batch_of_batches_and_unbatch():
    ds = tf.data.Dataset.range(8).batch(2).batch(3)
    assert ds.output_shapes.as_list() == [None, None]
    got = elements(ds)
    assert [g.tolist() for g in got] == [[[0, 1], [2, 3], [4, 5]], [[6, 7]]]
    back = tf.data.Dataset.range(7).batch(3).unbatch()
    assert back.output_shapes.as_list() == []
    assert flat_values(elements(back)) == list(range(7))
    exp = tf.data.Dataset.range(4).batch(4).apply(tf.data.experimental.unbatch())
    assert flat_values(elements(exp)) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="scalar"):
        tf.data.Dataset.range(3).unbatch()


def test_batch_of_different_shapes_fails_at_run():
    ds = tf.data.Dataset.from_generator(lambda: iter([[1], [1, 2]]), tf.int32,
                                        tf.TensorShape([None])).batch(2)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError,
                       match="Cannot batch tensors with different shapes in component 0"):
        s.run(nxt)


def _np_padded(elems, shape, pad):
    dims = [max(e.shape[k] for e in elems) if d is None else d for k, d in enumerate(shape)]
    out = np.full([len(elems)] + dims, pad, elems[0].dtype)
    for i, e in enumerate(elems):
        out[(i,) + tuple(slice(0, m) for m in e.shape)] = e
    return out


@pytest.mark.parametrize("shape,pad", [([None], None), ([6], -1), ([-1], 7)])
def test_padded_batch(shape, pad):
    rows = [np.arange(k, dtype=np.int64) + 1 for k in (3, 0, 5, 2, 1)]
    ds = tf.data.Dataset.from_generator(lambda: iter(rows), tf.int64, tf.TensorShape([None]))
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.range(5)))
    pb = ds.padded_batch(2, (shape, []), None if pad is None else
                         (tf.constant(pad, tf.int64), tf.constant(0, tf.int64)))
    want_shape = [None, None if shape[0] in (None, -1) else shape[0]]
    assert pb.output_shapes[0].as_list() == want_shape
    got = elements(pb)
    norm = [None if d in (None, -1) else d for d in shape]
    for b, (v, i) in enumerate(got):
        chunk = rows[2 * b:2 * b + 2]
        np.testing.assert_array_equal(v, _np_padded(chunk, norm, pad or 0))
        np.testing.assert_array_equal(i, np.arange(2 * b, 2 * b + len(chunk)))


def test_padded_batch_too_small_fails():
    ds = tf.data.Dataset.from_tensor_slices(np.ones((2, 4), np.float32))
    assert ds.padded_batch(2, [6]).output_shapes.as_list() == [None, 6]
    with pytest.raises(ValueError, match="not compatible"):
        ds.padded_batch(2, [3])               # known sizes: refused when built
    with pytest.raises(ValueError, match="not compatible"):
        ds.padded_batch(2, [3, 3])
    gen = tf.data.Dataset.from_generator(lambda: iter([[1, 2, 3, 4]]), tf.float32,
                                         tf.TensorShape([None]))
    nxt = gen.padded_batch(2, [3]).make_one_shot_iterator().get_next()
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match="smaller"):
        s.run(nxt)


# ---------------------------------------------------------------- order and count

def test_repeat_take_skip_shard_concatenate_enumerate():
    r = tf.data.Dataset.range
    assert flat_values(elements(r(3).repeat(3))) == [0, 1, 2] * 3
    assert flat_values(elements(r(3).repeat().take(8))) == [0, 1, 2, 0, 1, 2, 0, 1]
    assert flat_values(elements(r(3).repeat(0))) == []
    assert flat_values(elements(r(0).repeat())) == []       # an empty pass ends it
    assert flat_values(elements(r(10).skip(7))) == [7, 8, 9]
    assert flat_values(elements(r(10).skip(-1))) == []
    assert flat_values(elements(r(4).take(-1))) == [0, 1, 2, 3]
    assert flat_values(elements(r(4).take(0))) == []
    assert flat_values(elements(r(10).shard(3, 1))) == [1, 4, 7]
    assert flat_values(elements(r(3).concatenate(r(10, 12)))) == [0, 1, 2, 10, 11]
    assert flat_values(elements(r(3).prefetch(1))) == [0, 1, 2]
    e = r(5, 8).enumerate(start=2)
    assert e.output_types == (tf.int64, tf.int64)
    assert [(int(i), int(v)) for i, v in elements(e)] == [(2, 5), (3, 6), (4, 7)]


def test_concatenate_shapes_and_type_errors():
    a = tf.data.Dataset.from_tensor_slices(np.zeros((2, 3), np.float32))
    b = tf.data.Dataset.from_tensor_slices(np.ones((2, 4), np.float32))
    c = a.concatenate(b)
    assert c.output_shapes.as_list() == [None]
    assert [g.shape for g in elements(c)] == [(3,), (3,), (4,), (4,)]
    with pytest.raises(TypeError, match="different types"):
        a.concatenate(tf.data.Dataset.range(2))
    with pytest.raises(TypeError, match="different structures"):
        a.concatenate(tf.data.Dataset.zip((a, a)))


def test_shuffle_is_a_permutation_and_deterministic_with_seeds():
    x = np.arange(50, dtype=np.int64)
    order = lambda ds: flat_values(elements(ds))
    a = order(tf.data.Dataset.from_tensor_slices(x).shuffle(10, seed=3))
    b = order(tf.data.Dataset.from_tensor_slices(x).shuffle(10, seed=3))
    c = order(tf.data.Dataset.from_tensor_slices(x).shuffle(10, seed=4))
    assert sorted(a) == x.tolist() and a != x.tolist()
    assert a == b and a != c
    # the buffer bounds how far an element moves ahead: the first one out is
    # among the first buffer_size
    assert a[0] < 10
    assert order(tf.data.Dataset.from_tensor_slices(x).shuffle(1, seed=3)) == x.tolist()
    with tf.Graph().as_default():
        tf.set_random_seed(11)
        g1 = order(tf.data.Dataset.from_tensor_slices(x).shuffle(50))
    with tf.Graph().as_default():
        tf.set_random_seed(11)
        g2 = order(tf.data.Dataset.from_tensor_slices(x).shuffle(50))
    assert g1 == g2 and sorted(g1) == x.tolist()


@pytest.mark.parametrize("reshuffle", [True, False])
def test_shuffle_epochs(reshuffle):
    ds = tf.data.Dataset.range(20).shuffle(20, seed=5, reshuffle_each_iteration=reshuffle)
    got = flat_values(elements(ds.repeat(3)))
    epochs = [got[i:i + 20] for i in (0, 20, 40)]
    assert all(sorted(e) == list(range(20)) for e in epochs)
    assert (epochs[0] != epochs[1]) == reshuffle and (epochs[1] != epochs[2]) == reshuffle
    # an iterator started again (re-initialized) starts the same sequence again
    it = ds.repeat(2).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as s:
        s.run(it.initializer)
        first = flat_values(drain(s, nxt))
        s.run(it.initializer)
        assert flat_values(drain(s, nxt)) == first == got[:40]


def test_shuffle_and_repeat_experimental():
    ds = tf.data.Dataset.range(6).apply(tf.data.experimental.shuffle_and_repeat(6, 2, seed=1))
    got = flat_values(elements(ds))
    assert sorted(got[:6]) == sorted(got[6:]) == list(range(6))


# ---------------------------------------------------------------- user functions

def test_map_with_tf_ops_vs_numpy():
    x = RNG.standard_normal((6, 3)).astype(np.float32)
    lab = RNG.integers(0, 4, 6).astype(np.int64)
    ds = tf.data.Dataset.from_tensor_slices((x, lab)).map(
        lambda v, k: {"sq": tf.reduce_sum(tf.square(v)) + 1.0,
                      "oh": tf.one_hot(k, 4), "k": tf.cast(k, tf.int32) * 2})
    assert ds.output_types == {"sq": tf.float32, "oh": tf.float32, "k": tf.int32}
    assert ds.output_shapes["oh"].as_list() == [4] and ds.output_shapes["sq"].as_list() == []
    got = elements(ds)
    for i, g in enumerate(got):
        np.testing.assert_allclose(g["sq"], np.sum(x[i] ** 2) + 1, rtol=1e-6)
        np.testing.assert_array_equal(g["oh"], np.eye(4, dtype=np.float32)[lab[i]])
        assert g["k"] == lab[i] * 2 and g["k"].dtype == np.int32


def test_map_on_batches_and_list_results():
    x = np.arange(10, dtype=np.float32)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4).map(lambda b: [b * 2.0, tf.shape(b)])
    assert isinstance(ds.output_types, tuple)          # a returned list is a tuple
    got = elements(ds)
    np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), x * 2)
    assert [g[1].tolist() for g in got] == [[4], [4], [2]]


def test_map_single_and_dict_arguments():
    ds = tf.data.Dataset.from_tensor_slices({"a": np.arange(3), "b": np.arange(3) * 2})
    got = elements(ds.map(lambda d: d["a"] + d["b"]))
    assert flat_values(got) == [0, 3, 6]


def test_map_reads_variables_each_call():
    v = tf.Variable(10, dtype=tf.int64)
    ds = tf.data.Dataset.range(3).map(lambda i: i + v)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(nxt) == 10
        s.run(v.assign(100))
        assert s.run(nxt) == 101


def test_filter_with_tf_ops():
    x = RNG.integers(-10, 10, 30).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices(x).filter(
        lambda v: tf.logical_and(tf.greater(v, -3), tf.equal(v % 2, 0)))
    assert flat_values(elements(ds)) == [int(v) for v in x if v > -3 and v % 2 == 0]
    with pytest.raises(ValueError, match="scalar boolean"):
        tf.data.Dataset.range(3).filter(lambda v: v)
    with pytest.raises(ValueError, match="scalar boolean"):
        tf.data.Dataset.range(3).batch(2).filter(lambda v: tf.greater(v, 1))


def test_flat_map():
    ds = tf.data.Dataset.range(1, 4).flat_map(
        lambda n: tf.data.Dataset.from_tensors(n * 10).repeat(n))
    assert ds.output_types == tf.int64 and ds.output_shapes.as_list() == []
    want = [n * 10 for n in range(1, 4) for _ in range(n)]
    assert flat_values(elements(ds)) == want
    # an inner dataset of a computed tensor whose length depends on the element
    base = tf.constant(np.arange(5, dtype=np.int64))
    masked = tf.data.Dataset.range(4).flat_map(
        lambda n: tf.data.Dataset.from_tensor_slices(tf.boolean_mask(base, base < n)))
    assert flat_values(elements(masked)) == [k for n in range(4) for k in range(n)]
    nested = tf.data.Dataset.range(3).flat_map(
        lambda n: tf.data.Dataset.range(2).map(lambda k: k + 100 * n))
    assert flat_values(elements(nested)) == [0, 1, 100, 101, 200, 201]
    with pytest.raises(TypeError, match="must return a `Dataset`"):
        tf.data.Dataset.range(3).flat_map(lambda n: n)


def test_cache_replays_the_first_pass(tmp_path):
    # a map with a random op: cached, every epoch sees the first pass's values
    noisy = tf.data.Dataset.range(4).map(lambda i: tf.random_uniform([]) + tf.cast(i, tf.float32))
    got = flat_values(elements(noisy.cache().repeat(3)))
    assert got[:4] == got[4:8] == got[8:]
    uncached = flat_values(elements(noisy.repeat(2)))
    assert uncached[:4] != uncached[4:]
    path = str(tmp_path / "c")
    first = flat_values(elements(noisy.cache(path)))
    again = flat_values(elements(noisy.cache(path)))   # a new iterator reads the file
    assert first == again


def test_apply_and_bad_arguments():
    r = tf.data.Dataset.range(5)
    assert flat_values(elements(r.apply(lambda d: d.skip(3)))) == [3, 4]
    with pytest.raises(TypeError, match="must return a Dataset"):
        r.apply(lambda d: 3)
    with pytest.raises(ValueError, match="not compatible"):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="rank 0"):
        tf.data.Dataset.from_tensor_slices(np.float32(1))
    with pytest.raises(ValueError, match="greater than zero"):
        r.batch(0)
    with pytest.raises(ValueError, match="int64"):
        r.batch(tf.placeholder(tf.int32, []))
    with pytest.raises(TypeError, match="nested structure of `Dataset`"):
        tf.data.Dataset.zip((r, 3))
    with pytest.raises(TypeError, match="callable"):
        tf.data.Dataset.from_generator([1, 2], tf.int32)
    with pytest.raises(RuntimeError, match="eager"):
        iter(r)


# ---------------------------------------------------------------- iterators

def test_initializable_iterator_rereads_placeholders():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    scale = tf.placeholder(tf.float32, [], name="scale")
    bs = tf.placeholder(tf.int64, [], name="bs")
    ds = tf.data.Dataset.from_tensor_slices(x).map(lambda v: v * scale).batch(bs)
    it = ds.make_initializable_iterator()
    assert it.initializer.type == "MakeIterator" and it.initializer.name == "MakeIterator"
    nxt = it.get_next()
    assert nxt.shape.as_list() == [None, 2]
    with tf.Session() as s:
        with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
            s.run(nxt)
        a = RNG.standard_normal((5, 2)).astype(np.float32)
        s.run(it.initializer, {x: a, scale: 2.0, bs: 2})
        got = drain(s, nxt)
        assert [g.shape[0] for g in got] == [2, 2, 1]
        np.testing.assert_allclose(np.concatenate(got), a * 2, rtol=1e-6)
        b = RNG.standard_normal((3, 2)).astype(np.float32)
        s.run(it.initializer, {x: b, scale: -1.0, bs: 3})
        got = drain(s, nxt)
        assert len(got) == 1
        np.testing.assert_allclose(got[0], -b, rtol=1e-6)
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            s.run(nxt)
        # re-initializing in the middle starts over
        s.run(it.initializer, {x: a, scale: 1.0, bs: 4})
        s.run(nxt)
        s.run(it.initializer, {x: a, scale: 1.0, bs: 4})
        np.testing.assert_allclose(s.run(nxt), a[:4])
        # an initializer run that fails (a feed missing) leaves the iterator as it was
        with pytest.raises(tf.errors.InvalidArgumentError):
            s.run(it.initializer, {x: b})
        np.testing.assert_allclose(s.run(nxt), a[4:])


def test_initializer_computes_captured_tensors():
    v = tf.placeholder(tf.int64, [None])
    ds = tf.data.Dataset.from_tensor_slices(tf.boolean_mask(v * 3, v > 0))
    it = tf.data.make_initializable_iterator(ds)
    nxt = it.get_next()
    with tf.Session() as s:
        s.run(it.initializer, {v: [1, -1, 2, 0, 3]})
        assert flat_values(drain(s, nxt)) == [3, 6, 9]
        s.run(it.initializer, {v: [5, 6]})
        assert flat_values(drain(s, nxt)) == [15, 18]


def test_reinitializable_iterator_from_structure():
    train = tf.data.Dataset.range(10).batch(4)
    test = tf.data.Dataset.range(100, 103).batch(4, drop_remainder=False)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    init_train, init_test = it.make_initializer(train), it.make_initializer(test)
    assert init_train.name == "make_initializer" and init_test.name == "make_initializer_1"
    with pytest.raises(ValueError, match="initializer"):
        it.initializer  # noqa: B018
    with tf.Session() as s:
        for _ in range(2):
            s.run(init_train)
            assert [g.tolist() for g in drain(s, nxt)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
            s.run(init_test)
            assert [g.tolist() for g in drain(s, nxt)] == [[100, 101, 102]]
    with pytest.raises(TypeError, match="Expected output types"):
        it.make_initializer(tf.data.Dataset.from_tensor_slices(np.zeros((2, 2))))
    with pytest.raises(TypeError, match="Expected output shapes"):
        it.make_initializer(tf.data.Dataset.range(5).batch(2).batch(2))
    with pytest.raises(ValueError, match="same nested structure"):
        it.make_initializer(tf.data.Dataset.zip((train, train)))
    loose = tf.data.Iterator.from_structure(tf.int64)
    assert loose.output_shapes.ndims is None
    init = loose.make_initializer(train)
    with tf.Session() as s:
        s.run(init)
        assert s.run(loose.get_next()).tolist() == [0, 1, 2, 3]


def test_get_next_ops_share_the_iterator():
    it = tf.data.Dataset.range(6).make_one_shot_iterator()
    a, b = it.get_next(), it.get_next(name="second")
    assert a.name == "IteratorGetNext:0" and b.name == "second:0"
    assert it._op.type == "OneShotIterator"
    with pytest.raises(ValueError, match="initializer"):
        it.initializer  # noqa: B018
    with tf.Session() as s:
        x, y = s.run([a, b])
        assert {int(x), int(y)} == {0, 1}
        assert s.run(a.op) is None            # run as a target, it still advances
        assert s.run(b) == 3
        assert s.run(a + 100) == 104          # consumed by compiled ops
        # each session has its own iterator state
        with tf.Session() as s2:
            assert s2.run(a) == 0
        assert s.run(a) == 5
        for _ in range(2):                    # stays at the end
            with pytest.raises(tf.errors.OutOfRangeError):
                s.run(a)


def test_one_shot_iterator_refuses_placeholders():
    x = tf.placeholder(tf.float32, [None], name="feed_me")
    ds = tf.data.Dataset.from_tensor_slices(x)
    with pytest.raises(ValueError, match=r"Cannot capture a placeholder \(name:feed_me"):
        ds.make_one_shot_iterator()
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        tf.data.Dataset.range(3).map(lambda i: tf.cast(i, tf.float32) * x[0]) \
            .make_one_shot_iterator()
    # a placeholder with a default gives its default
    d = tf.placeholder_with_default(tf.constant([4.0, 5.0]), [None])
    assert flat_values(elements(tf.data.Dataset.from_tensor_slices(d * 2.0))) == [8.0, 10.0]


def test_one_shot_iterator_evaluates_captured_tensors_once():
    v = tf.Variable([1.0, 2.0, 3.0])
    ds = tf.data.Dataset.from_tensor_slices(v.value() * 2)
    nxt = tf.compat.v1.data.make_one_shot_iterator(ds).get_next()
    with tf.Session() as s:
        s.run(v.initializer)
        assert s.run(nxt) == 2.0
        s.run(v.assign([0.0, 0.0, 0.0]))
        assert flat_values(drain(s, nxt)) == [4.0, 6.0]   # the values at the start


def test_output_accessors():
    ds = tf.data.Dataset.range(3).batch(2)
    it = ds.make_initializable_iterator()
    for obj in (ds, it):
        assert tf.data.get_output_types(obj) == tf.int64
        assert tf.data.get_output_shapes(obj).as_list() == [None]
        assert tf.data.get_output_classes(obj) is tf.Tensor
    assert "shapes: (?,), types: tf.int64" in repr(ds)


def test_training_loop_consumes_the_iterator():
    """Mini-batch gradient descent on a linear model, every step fed by get_next,
    against numpy's same steps (the batches in order: no shuffle)."""
    n, epochs, bsz, lr = 20, 3, 8, 0.05
    X = RNG.standard_normal((n, 3)).astype(np.float32)
    Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    xs = tf.placeholder(tf.float32, [None, 3])
    ys = tf.placeholder(tf.float32, [None, 1])
    ds = tf.data.Dataset.from_tensor_slices((xs, ys)).repeat(epochs).batch(bsz)
    it = ds.make_initializable_iterator()
    xb, yb = it.get_next()
    W = tf.Variable(tf.zeros([3, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(xb, W) + b - yb))
    train = tf.train.GradientDescentOptimizer(lr).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(it.initializer, {xs: X, ys: Y})
        losses = []
        while True:
            try:
                losses.append(s.run([loss, train])[0])
            except tf.errors.OutOfRangeError:
                break
        w_got, b_got = s.run([W, b])
    Xr, Yr = np.tile(X, (epochs, 1)).astype(np.float64), np.tile(Y, (epochs, 1))
    w, bb, want = np.zeros((3, 1)), 0.0, []
    for i in range(0, len(Xr), bsz):
        xb_, yb_ = Xr[i:i + bsz], Yr[i:i + bsz]
        r = xb_ @ w + bb - yb_
        want.append(np.mean(r ** 2))
        w -= lr * 2 * xb_.T @ r / len(r)
        bb -= lr * 2 * np.mean(r)
    assert len(losses) == len(want) == -(-n * epochs // bsz)
    np.testing.assert_allclose(losses, want, rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(w_got, w, rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(b_got, bb, rtol=2e-4, atol=1e-5)


def test_switching_datasets_keeps_compiled_plans():
    """Feeding the initializer a smaller dataset (validation after training) stores
    it in the larger one's buffer: no stored array changes shape, so the session's
    compiled step is reused."""
    xs = tf.placeholder(tf.float32, [None, 2])
    it = tf.data.Dataset.from_tensor_slices(xs).batch(2).make_initializable_iterator()
    w = tf.Variable(tf.ones([2, 1]))
    out = tf.matmul(it.get_next(), w)
    big, small = RNG.standard_normal((6, 2)), RNG.standard_normal((3, 2))
    with tf.Session() as s:
        s.run(w.initializer)
        rounds = []
        for _ in range(3):
            counts = s.compile_count
            got = []
            for data in (big, small):
                s.run(it.initializer, {xs: data})
                got.append(np.concatenate(drain(s, out)))
            rounds.append((s.compile_count - counts, got))
    assert rounds[2][0] == 0           # plans of the first rounds serve the third
    for _, (got_big, got_small) in rounds:
        np.testing.assert_allclose(got_big, big.sum(1, keepdims=True), rtol=1e-6)
        np.testing.assert_allclose(got_small, small.sum(1, keepdims=True), rtol=1e-6)


def test_imported_get_next_without_iterator_is_a_clear_error():
    it = tf.data.Dataset.range(3).make_one_shot_iterator()
    nxt = it.get_next()
    del nxt.op._tfc_iterator      # as in a graph imported from a MetaGraphDef
    with tf.Session() as s, pytest.raises(tf.errors.FailedPreconditionError,
                                          match="no iterator"):
        s.run(nxt)


# ---------------------------------------------------------------- TensorFlow

def _deterministic_pipelines(lib):
    d = lib.data.Dataset
    x = np.arange(24, dtype=np.float32).reshape(12, 2)
    y = np.arange(12, dtype=np.int64)
    base = d.from_tensor_slices((x, y))
    return {
        "map_filter_batch": base.map(lambda a, b: (lib.reduce_sum(a) * 0.5, b * 2))
        .filter(lambda s, b: lib.equal(b % 3, 0)).batch(3),
        "repeat_take_skip": d.range(5).repeat(3).skip(4).take(8),
        "drop_remainder": base.batch(5, drop_remainder=True),
        "padded": d.range(1, 5).map(lambda n: lib.boolean_mask(
            lib.constant([5, 6, 7, 8], lib.int64), lib.range(4, dtype=lib.int64) < n))
        .padded_batch(3, [None]),
        "unbatch_enumerate": base.batch(4).unbatch().enumerate(3),
        "zip_concat": d.zip((d.range(3), d.range(10, 20))).concatenate(
            d.zip((d.range(7, 9), d.range(2)))),
        "flat_map": d.range(4).flat_map(lambda n: d.from_tensors(n).repeat(n)),
        "dict": d.from_tensor_slices({"x": x, "y": y}).map(
            lambda e: {"s": lib.reduce_max(e["x"]), "y": e["y"]}).batch(5),
    }


def _run_pipelines(lib):
    g = lib.Graph()
    with g.as_default():
        pipes = _deterministic_pipelines(lib)
        nexts = {k: lib.data.make_one_shot_iterator(ds).get_next() for k, ds in pipes.items()}
        shapes = {k: lib.data.get_output_shapes(ds) for k, ds in pipes.items()}
        types = {k: lib.data.get_output_types(ds) for k, ds in pipes.items()}
        names = {k: [t.name for t in tf.data.structure.flatten(n)] for k, n in nexts.items()}
        out = {}
        with lib.Session() as s:
            for k, n in nexts.items():
                out[k] = drain(s, n, lib=lib)
    return out, shapes, types, names


@pytest.mark.slow
def test_deterministic_pipelines_same_as_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_v2_behavior()
    ours, theirs = _run_pipelines(tf), _run_pipelines(v1)
    for k in ours[0]:
        assert str(ours[1][k]) == str(theirs[1][k]), k
        assert repr(ours[2][k]) == repr(theirs[2][k]), k
        assert ours[3][k] == theirs[3][k], k
        a = ours[0][k]
        b = theirs[0][k]
        assert len(a) == len(b), k
        for ea, eb in zip(a, b):
            fa, fb = tf.data.structure.flatten(ea), tf.data.structure.flatten(eb)
            assert len(fa) == len(fb), k
            for va, vb in zip(fa, fb):
                va, vb = np.asarray(va), np.asarray(vb)
                assert va.dtype == vb.dtype and va.shape == vb.shape, (k, va, vb)
                np.testing.assert_allclose(va, vb, err_msg=k)
