"""Variable updates by index (tf.scatter_*, tf.scatter_nd_*, batch_scatter_update,
the Variable methods). Oracle: numpy loops applying the updates one by one,
as TF's kernels do; TensorFlow's own ops where it is installed."""
import numpy as np
import pytest

import tfcompile as tf

RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def _tdiv(a, b):
    if np.issubdtype(np.asarray(a).dtype, np.integer):   # C's truncating division
        return (np.abs(a) // np.abs(b)) * np.sign(a) * np.sign(b)
    return a / b


NP_OPS = {"update": lambda a, u: u, "add": np.add, "sub": np.subtract, "mul": np.multiply,
          "div": _tdiv, "min": np.minimum, "max": np.maximum}


def np_scatter(kind, ref, idx, upd):
    out = ref.copy()
    idx = np.asarray(idx)
    upd = np.broadcast_to(upd, idx.shape + ref.shape[1:])
    for i, u in zip(idx.reshape(-1), upd.reshape((-1,) + ref.shape[1:])):
        out[i] = NP_OPS[kind](out[i], u)
    return out


def np_scatter_nd(kind, ref, idx, upd):
    out = ref.copy()
    idx = np.asarray(idx)
    k = idx.shape[-1]
    upd = np.asarray(upd).reshape((-1,) + ref.shape[k:])
    for i, u in zip(idx.reshape(int(np.prod(idx.shape[:-1])), k), upd):
        out[tuple(i)] = NP_OPS[kind](out[tuple(i)], u)
    return out


def _values(dtype, shape, nonzero=False):
    if np.issubdtype(dtype, np.integer):
        v = RNG.integers(-9, 10, shape).astype(dtype)
        return np.where(v == 0, 3, v).astype(dtype) if nonzero else v
    v = RNG.standard_normal(shape).astype(dtype)
    return np.where(np.abs(v) < 0.1, 0.5, v).astype(dtype) if nonzero else v


KINDS = ["update", "add", "sub", "mul", "div", "min", "max"]


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_scatter_kinds_with_duplicates(dtype):
    ref0 = _values(dtype, (5, 3), nonzero=True)
    idx = np.array([4, 0, 4, 2, 4], np.int32)        # duplicates: fewer updates than rows
    many = np.array([1, 3, 1, 1, 0, 3, 4, 1], np.int64)   # more updates than rows
    v = tf.Variable(ref0)
    ops = {}
    for kind in KINDS:
        if kind == "update":   # TF leaves duplicates' order unspecified: none here
            i1, i2 = np.array([4, 0, 2], np.int32), np.array([3, 1, 0, 2, 4, 1], np.int64)
        else:
            i1, i2 = idx, many
        u1 = _values(dtype, (len(i1), 3), nonzero=True)
        u2 = _values(dtype, (len(i2), 3), nonzero=True)
        fn = getattr(tf, "scatter_" + kind)
        ops[kind] = [(fn(v, i1, u1), np_scatter(kind, ref0, i1, u1)),
                     (fn(v, tf.constant(i2), tf.constant(u2)), np_scatter(kind, ref0, i2, u2))]
    with tf.Session() as s:
        for kind, pairs in ops.items():
            for op, want in pairs:
                s.run(v.initializer)
                got = s.run(op)
                assert got.dtype == dtype
                tol = 1e-6 if dtype == np.float64 else 2e-6
                np.testing.assert_allclose(got, want, rtol=tol, err_msg=kind)
                np.testing.assert_allclose(s.run(v), want, rtol=tol, err_msg=kind)


def test_scatter_update_duplicates_take_the_last():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    op = tf.scatter_update(v, [1, 2, 1, 1], [[1, 1], [2, 2], [3, 3], [4, 4]])
    with tf.Session() as s:
        s.run(v.initializer)
        np.testing.assert_array_equal(s.run(op), [[0, 0], [4, 4], [2, 2]])


@pytest.mark.parametrize("kind", KINDS)
def test_index_and_update_shapes(kind):
    """Indices of rank 0, 1 and 2, a scalar update, variables of rank 1 and 3."""
    fn = getattr(tf, "scatter_" + kind)
    r1 = _values(np.float32, (6,), nonzero=True)
    r3 = _values(np.float32, (4, 2, 3), nonzero=True)
    v1, v3 = tf.Variable(r1), tf.Variable(r3)
    cases = [
        (v1, r1, 2, np.float32(1.5)),                       # scalar index and update
        (v1, r1, [[0, 5], [3, 1]], _values(np.float32, (2, 2), True)),
        (v3, r3, [[1], [3]], _values(np.float32, (2, 1, 2, 3), True)),
        (v3, r3, [2, 0], np.float32(-2.0)),                 # scalar update, broadcast
        (v3, r3, np.zeros((0,), np.int32), np.zeros((0, 2, 3), np.float32)),   # none
    ]
    with tf.Session() as s:
        for var, ref, idx, upd in cases:
            op = fn(var, idx, upd)
            assert op.shape.as_list() == list(ref.shape)
            s.run(var.initializer)
            np.testing.assert_allclose(s.run(op), np_scatter(kind, ref, idx, upd), rtol=2e-6)


@pytest.mark.parametrize("kind", ["update", "add", "sub"])
def test_scatter_nd_kinds(kind):
    fn = getattr(tf, "scatter_nd_" + kind)
    ref = _values(np.float64, (4, 3, 2))
    iref = _values(np.int32, (5, 2))
    v, iv = tf.Variable(ref), tf.Variable(iref)
    dup = kind != "update"
    cases = [
        (v, ref, [[1, 2, 0], [3, 0, 1]] + ([[1, 2, 0]] if dup else []), None),     # elements
        (v, ref, [[0, 1], [2, 2]] + ([[0, 1]] if dup else []), None),              # rows of 2
        (v, ref, [[[3], [0]], [[1], [2]]], None),                                   # [2, 2, 1]
        (v, ref, np.zeros((2, 0), np.int64), None),                                 # the whole
        (iv, iref, [[4], [0]] + ([[4]] if dup else []), None),
        (iv, iref, [[4, 1], [0, 0]], None),
    ]
    with tf.Session() as s:
        for var, r, idx, _ in cases:
            idx = np.asarray(idx, np.int64 if np.asarray(idx).size == 0 else np.int32)
            k = idx.shape[-1]
            upd = _values(r.dtype.type, idx.shape[:-1] + r.shape[k:])
            op = fn(var, idx, upd)
            s.run(var.initializer)
            got = s.run(op)
            want = np_scatter_nd(kind, r, idx, upd)
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=str(idx.shape))
            np.testing.assert_allclose(s.run(var), want, rtol=1e-12)


def test_names_dtypes_and_static_shapes():
    v = tf.Variable(np.zeros((4, 3), np.float32), name="v")
    a = tf.scatter_add(v, [0], [[1.0, 2.0, 3.0]])
    b = tf.scatter_update(v, [1], [[1.0, 2.0, 3.0]], name="upd")
    c = tf.scatter_nd_sub(v, [[0, 1]], [2.0])
    d = tf.scatter_max(v, [0, 1], 1.0)
    assert a.name == "ScatterAdd:0" and b.name == "upd:0" and c.name == "ScatterNdSub:0"
    assert d.name == "ScatterMax:0"
    assert a.op.inputs[1].name == "ScatterAdd/indices:0"
    for t in (a, b, c, d):
        assert t.dtype.base_dtype == tf.float32 and t.shape.as_list() == [4, 3]
    assert a.op.get_attr("use_locking") is False and b.op.get_attr("use_locking") is True


def test_non_finite_updates_touch_only_their_rows():
    v = tf.Variable(np.ones((4, 2), np.float32))
    ops = [tf.scatter_add(v, [1, 3, 1], [[np.inf, 1], [np.nan, 2], [1, 1]]),
           tf.scatter_mul(v, [0, 0], [[np.inf, 2], [2, -np.inf]]),
           tf.scatter_nd_add(v, [[2, 0], [2, 0]], [np.inf, -np.inf])]
    with tf.Session() as s:
        outs = []
        for op in ops:
            s.run(v.initializer)
            outs.append(s.run(op))
    np.testing.assert_array_equal(outs[0], [[1, 1], [np.inf, 3], [1, 1], [np.nan, 3]])
    np.testing.assert_array_equal(outs[1], [[np.inf, -np.inf], [1, 1], [1, 1], [1, 1]])
    np.testing.assert_array_equal(outs[2], [[1, 1], [1, 1], [np.nan, 1], [1, 1]])


# ---------------------------------------------------------------- runs

def test_repeated_runs_control_dependencies_and_reads():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    ids = tf.placeholder(tf.int32, [None])
    upd = tf.placeholder(tf.float32, [None, 2])
    add = tf.scatter_add(v, ids, upd)
    with tf.control_dependencies([add]):
        after = v.read_value() * 1.0
    with tf.control_dependencies([add]):
        doubled = tf.scatter_mul(v, [0, 1, 2], 2.0)
    want = np.zeros((3, 2), np.float32)
    with tf.Session() as s:
        s.run(v.initializer)
        for step in range(4):
            i = RNG.integers(0, 3, (step + 1,)).astype(np.int32)
            u = RNG.standard_normal((step + 1, 2)).astype(np.float32)
            want = np_scatter("add", want, i, u)
            np.testing.assert_allclose(s.run(after, {ids: i, upd: u}), want, rtol=1e-5)
        np.testing.assert_allclose(s.run(v), want, rtol=1e-5)
        i, u = np.array([2], np.int32), np.ones((1, 2), np.float32)
        want = np_scatter("add", want, i, u) * 2
        np.testing.assert_allclose(s.run(doubled, {ids: i, upd: u}), want, rtol=1e-5)
        np.testing.assert_allclose(s.run(v), want, rtol=1e-5)


def test_sparse_sgd_training_loop():
    """Embedding rows trained by scatter_sub of the gathered rows' gradient."""
    E0 = RNG.standard_normal((6, 3)).astype(np.float32)
    T = RNG.standard_normal((4, 3)).astype(np.float32)
    emb = tf.Variable(E0)
    ids = tf.placeholder(tf.int32, [4])
    rows = tf.gather(emb, ids)
    loss = 0.5 * tf.reduce_sum(tf.square(rows - T))
    g, = tf.gradients(loss, [rows])
    step = tf.scatter_sub(emb, ids, 0.1 * g)
    E = E0.copy()
    with tf.Session() as s:
        s.run(emb.initializer)
        for _ in range(5):
            i = RNG.integers(0, 6, (4,)).astype(np.int32)
            before = s.run(loss, {ids: i})
            s.run(step, {ids: i})
            E = np_scatter("sub", E, i, 0.1 * (E[i] - T))
            assert s.run(loss, {ids: i}) <= before + 1e-6
        np.testing.assert_allclose(s.run(emb), E, rtol=1e-5, atol=1e-6)


def test_variable_methods_and_batch_scatter_update():
    v = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    ref = np.arange(12, dtype=np.float32).reshape(4, 3)
    sl = tf.IndexedSlices(tf.constant([[1.0, 1, 1], [2, 2, 2]]), tf.constant([3, 0]))
    cases = [(v.scatter_sub(sl), np_scatter("sub", ref, [3, 0], [[1, 1, 1], [2, 2, 2]])),
             (v.scatter_max(sl), np_scatter("max", ref, [3, 0], [[1, 1, 1], [2, 2, 2]])),
             (v.scatter_update(sl), np_scatter("update", ref, [3, 0], [[1, 1, 1], [2, 2, 2]])),
             (v.scatter_nd_add([[1, 2]], [5.0]), np_scatter_nd("add", ref, [[1, 2]], [5.0])),
             (v.scatter_nd_update([[0]], [[7.0, 8, 9]]),
              np_scatter_nd("update", ref, [[0]], [[7, 8, 9]])),
             (tf.batch_scatter_update(v, [[2], [0], [1], [1]], [[1.0], [2], [3], [4]]),
              np_scatter_nd("update", ref, [[0, 2], [1, 0], [2, 1], [3, 1]], [1, 2, 3, 4])),
             (v.batch_scatter_update(tf.IndexedSlices(tf.constant([[5.0, 6], [7, 8], [0, 0],
                                                                   [1, 1]]),
                                                      tf.constant([[0, 2], [1, 0], [2, 2],
                                                                   [0, 1]]))),
              np_scatter_nd("update", ref, [[0, 0], [0, 2], [1, 1], [1, 0], [2, 2], [2, 2],
                                            [3, 0], [3, 1]], [5, 6, 7, 8, 0, 0, 1, 1]))]
    with pytest.raises(TypeError, match="IndexedSlices"):
        v.scatter_add([0])
    with tf.Session() as s:
        for op, want in cases:
            s.run(v.initializer)
            np.testing.assert_array_equal(s.run(op), want)


def test_variables_from_get_variable():
    """use_resource=True variables are reference variables here: the same ops."""
    with tf.variable_scope("emb"):
        e = tf.get_variable("table", [4, 2], initializer=tf.zeros_initializer(),
                            use_resource=True)
    op = tf.scatter_add(e, [1, 1, 3], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(s.run(op), [[0, 0], [4, 6], [0, 0], [5, 6]])


def test_gradients_do_not_flow_through_updates():
    v = tf.Variable(np.zeros((3,), np.float32))
    u = tf.placeholder(tf.float32, [2])
    out = tf.scatter_add(v, [0, 1], u)
    assert tf.gradients(tf.reduce_sum(out), [u]) == [None]


# ---------------------------------------------------------------- errors

def test_out_of_range_indices_fail_and_leave_the_variable():
    v = tf.Variable(np.ones((3, 2), np.float32))
    ids = tf.placeholder(tf.int32, [None])
    add = tf.scatter_add(v, ids, tf.ones([2, 2]))
    nd = tf.scatter_nd_update(v, tf.placeholder_with_default(
        np.array([[0, 0], [2, 5]], np.int64), [2, 2]), [7.0, 8.0])
    with tf.Session() as s:
        s.run(v.initializer)
        for bad in ([0, 3], [-1, 1]):
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"not in \[0, 3\)"):
                s.run(add, {ids: bad})
            np.testing.assert_array_equal(s.run(v), np.ones((3, 2)))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \[3, 2\]"):
            s.run(nd)
        np.testing.assert_array_equal(s.run(v), np.ones((3, 2)))
        s.run(add, {ids: [2, 2]})
        np.testing.assert_array_equal(s.run(v), [[1, 1], [1, 1], [3, 3]])


def test_graph_build_errors():
    v = tf.Variable(np.zeros((4, 3), np.float32))
    b = tf.Variable(np.zeros((4,), bool))
    with pytest.raises(TypeError, match="does not match type float32"):
        tf.scatter_add(v, [0], tf.ones([1, 3], tf.float64))
    with pytest.raises(TypeError, match="indices"):
        tf.scatter_update(v, [0.5], [[1.0, 2, 3]])
    with pytest.raises(TypeError, match="bool"):
        tf.scatter_add(b, [0], [True])
    with pytest.raises(ValueError, match="ScatterAdd"):
        tf.scatter_add(v, [0, 1], tf.ones([2, 4]))
    with pytest.raises(ValueError, match="inner"):
        tf.scatter_nd_add(v, [[0], [1]], tf.ones([2, 4]))
    with pytest.raises(ValueError, match="outer"):
        tf.scatter_nd_add(v, [[0], [1]], tf.ones([3, 3]))
    with pytest.raises(ValueError, match="params.rank"):
        tf.scatter_nd_update(v, [[0, 1, 2]], [1.0])
    with pytest.raises(TypeError, match="Variable"):
        tf.scatter_add(tf.zeros([4, 3]), [0], tf.ones([1, 3]))
    with pytest.raises(NotImplementedError, match="ScatterAdd"):   # both branches would run
        tf.cond(tf.constant(True), lambda: tf.scatter_add(v, [0], [[1.0, 1, 1]]),
                lambda: v.read_value())
    ok = tf.scatter_update(b, [1], [True])
    with tf.Session() as s:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
            s.run(ok)
        s.run(b.initializer)
        np.testing.assert_array_equal(s.run(ok), [False, True, False, False])


# ---------------------------------------------------------------- TensorFlow

def test_against_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    R = RNG.standard_normal((5, 2)).astype(np.float32)
    idx = np.array([3, 0, 3, 1], np.int32)
    U = RNG.standard_normal((4, 2)).astype(np.float32) + 3

    def build(m):
        v = m.Variable(R, name="v")
        w = m.Variable(R, name="w")
        out = {k: getattr(m, "scatter_" + k)(v, idx, U)
               for k in ("add", "sub", "mul", "div", "min", "max")}
        out["update"] = m.scatter_update(v, [4, 2], U[:2])
        out["nd_add"] = m.scatter_nd_add(w, [[1, 1], [4, 0], [1, 1]], [1.0, 2.0, 3.0])
        out["nd_update"] = m.scatter_nd_update(w, [[2], [0]], U[:2])
        out["nd_sub"] = m.scatter_nd_sub(w, [[3]], U[:1])
        return out, [v.initializer, w.initializer]

    def run(m, session):
        with m.Graph().as_default():
            out, init = build(m)
            with session() as s:
                res = {}
                for k, t in out.items():
                    s.run(init)
                    res[k] = s.run(t)
        return res

    ours, theirs = run(tf, tf.Session), run(tf1, tf1.Session)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6, err_msg=k)
