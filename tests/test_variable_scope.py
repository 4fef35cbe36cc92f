"""tf.variable_scope / tf.get_variable naming and sharing against TF 1.15's
rules, initializer statistics (mean, std, glorot limits) against their
definitions, and tf.layers' variable and op names and values."""
import numpy as np
import pytest

import tfcompile as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def run(fetches, feed=None, init=True):
    with tf.Session() as s:
        if init:
            s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


# ---------------------------------------------------------------- names

def test_nested_scopes_and_name_scope():
    with tf.variable_scope("a"):
        with tf.variable_scope("b"):
            v = tf.get_variable("v", [1])
            c = tf.constant(1.0, name="c")
    assert v.name == "a/b/v:0" and c.name == "a/b/c:0"
    with tf.name_scope("ns"):
        v2 = tf.get_variable("v", [1])           # get_variable ignores name_scope
        w = tf.Variable(1.0, name="w")           # Variable does not
        with tf.variable_scope("vs"):
            v3 = tf.get_variable("v", [1])
            op = tf.add(v3, 1.0)
    assert v2.name == "v:0" and w.name == "ns/w:0"
    assert v3.name == "vs/v:0" and op.name == "ns/vs/Add:0"
    assert tf.get_variable_scope().name == "" and tf.get_variable_scope().reuse is False


def test_reentering_a_scope_name_opens_a_new_name_scope():
    with tf.variable_scope("foo") as foo:
        assert tf.add(1.0, 2.0).name == "foo/Add:0"
    assert foo.name == "foo" and foo.original_name_scope == "foo/"
    with tf.variable_scope("foo"):
        assert tf.add(1.0, 2.0).name == "foo_1/Add:0"
        assert tf.get_variable_scope().name == "foo"
    with tf.variable_scope(foo) as again:
        assert tf.add(1.0, 2.0).name == "foo_2/Add:0"
        assert again.original_name_scope == "foo/"
        assert tf.get_variable("w", [2]).name == "foo/w:0"
    with tf.variable_scope("bar"):
        with tf.variable_scope(foo):               # jump into foo from elsewhere
            assert tf.get_variable_scope().name == "foo"
            assert tf.add(1.0, 2.0).name == "bar/foo/Add:0"
            assert tf.get_variable("u", [2]).name == "foo/u:0"


def test_auxiliary_name_scope_false_keeps_the_name_scope():
    with tf.variable_scope("outer") as outer:
        pass
    with tf.name_scope("here"):
        with tf.variable_scope(outer, auxiliary_name_scope=False):
            assert tf.add(1.0, 2.0).name == "here/Add:0"
            assert tf.get_variable("z", [1]).name == "outer/z:0"


def test_default_name_is_made_unique_per_enclosing_scope():
    with tf.variable_scope(None, default_name="d") as d0:
        pass
    with tf.variable_scope(None, default_name="d") as d1:
        pass
    assert (d0.name, d1.name) == ("d", "d_1")
    with tf.variable_scope("outer"):
        with tf.variable_scope(None, default_name="d") as inner:
            assert tf.get_variable("k", []).name == "outer/d/k:0"
    with tf.variable_scope("outer", reuse=True):
        # leaving "outer" reset the counts of its sub-scopes, as TF does
        with tf.variable_scope(None, default_name="d") as again:
            assert tf.add(1.0, 1.0).name == "outer_1/d/Add:0"
    assert inner.name == again.name == "outer/d"


# ---------------------------------------------------------------- reuse

def test_duplicate_without_reuse_raises_tf_message():
    with tf.variable_scope("foo"):
        tf.get_variable("v", [1])
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("foo"):
            tf.get_variable("v", [1])
    assert str(e.value).startswith(
        "Variable foo/v already exists, disallowed. Did you mean to set reuse=True or "
        "reuse=tf.AUTO_REUSE in VarScope?")


def test_reuse_true_returns_the_same_variable_and_checks_it():
    with tf.variable_scope("foo"):
        v = tf.get_variable("v", [2, 3])
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("v", [2, 3]) is v
        assert tf.get_variable("v") is v         # shape may be left out
        with pytest.raises(ValueError, match=r"^Variable foo/missing does not exist, or was "
                           r"not created with tf.get_variable\(\)"):
            tf.get_variable("missing", [1])
        with pytest.raises(ValueError, match=r"Trying to share variable foo/v, but specified "
                           r"shape \(3, 3\) and found shape \(2, 3\)"):
            tf.get_variable("v", [3, 3])
        with pytest.raises(ValueError, match="specified dtype int32 and found dtype float32"):
            tf.get_variable("v", [2, 3], dtype=tf.int32)


def test_reuse_is_inherited_and_false_means_inherit():
    with tf.variable_scope("r"):
        with tf.variable_scope("s"):
            v = tf.get_variable("v", [1])
    with tf.variable_scope("r", reuse=True):
        with tf.variable_scope("s", reuse=False):
            assert tf.get_variable_scope().reuse is True
            assert tf.get_variable("v", [1]) is v
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    with pytest.raises(TypeError, match="name_or_scope is required"):
        tf.variable_scope(None)


def test_auto_reuse_and_reuse_variables():
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        a = tf.get_variable("x", [1])
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("x", [1]) is a
        b = tf.get_variable("y", [1])            # created on first use
    assert b.name == "auto/y:0"
    with tf.variable_scope("m") as scope:
        w = tf.get_variable("w", [1])
        scope.reuse_variables()
        assert tf.get_variable_scope().reuse is True
        assert tf.get_variable("w", [1]) is w
    with tf.variable_scope(scope):               # a scope object keeps its reuse flag
        assert tf.get_variable("w", [1]) is w


# ---------------------------------------------------------------- get_variable options

def test_default_initializers_and_dtypes():
    v = tf.get_variable("v", [30, 50])
    i = tf.get_variable("i", [4], dtype=tf.int32)
    b = tf.get_variable("flag", [2], dtype=tf.bool)
    ops = [o.name for o in tf.get_default_graph().get_operations()]
    assert "v/Initializer/random_uniform" in ops and "i/Initializer/zeros" in ops
    vv, iv, bv = run([v, i, b])
    limit = np.sqrt(6 / (30 + 50))                # glorot_uniform
    assert np.abs(vv).max() <= limit and np.abs(vv).max() > 0.9 * limit
    assert iv.dtype == np.int32 and not iv.any() and not bv.any()


def test_scope_initializer_dtype_and_constant_initializers():
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.4), dtype=tf.float64):
        a = tf.get_variable("a", [2])
        with tf.variable_scope("inner"):
            b = tf.get_variable("b", [3])
            c = tf.get_variable("c", [2], initializer=tf.ones_initializer())
    d = tf.get_variable("d", initializer=np.array([[1., 2.], [3., 4.]], np.float32))
    e = tf.get_variable("e", initializer=tf.constant([5, 6]))
    f = tf.get_variable("f", [2], initializer=lambda shape, dtype, partition_info: tf.fill(
        shape, 7.0))
    g = tf.get_variable("g", initializer=lambda: tf.ones([3]) * 2)
    assert a.dtype == tf.float64 and b.dtype == tf.float64 and b.name == "s/inner/b:0"
    assert d.shape.as_list() == [2, 2] and e.dtype == tf.int32
    av, bv, cv, dv, ev, fv, gv = run([a, b, c, d, e, f, g])
    np.testing.assert_array_equal(av, [0.4, 0.4])
    np.testing.assert_array_equal(bv, [0.4] * 3)
    np.testing.assert_array_equal(cv, [1., 1.])
    np.testing.assert_array_equal(dv, [[1., 2.], [3., 4.]])
    np.testing.assert_array_equal(ev, [5, 6])
    np.testing.assert_array_equal(fv, [7., 7.])
    np.testing.assert_array_equal(gv, [2., 2., 2.])
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
        tf.get_variable("h", [2], initializer=np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="don't match"):
        tf.get_variable("k", initializer=np.zeros(2, np.float64), dtype=tf.float32)
    with pytest.raises(ValueError, match="initializer passed is not valid"):
        tf.get_variable("m", initializer=tf.ones_initializer())


def test_trainable_collections_local_and_regularizer():
    t = tf.get_variable("t", [1])
    n = tf.get_variable("n", [1], trainable=False)
    c = tf.get_variable("c", [1], collections=["mine"])
    loc = tf.get_local_variable("loc", [1])
    with tf.variable_scope("reg", regularizer=lambda w: tf.reduce_sum(tf.square(w))):
        r = tf.get_variable("r", [3], initializer=tf.constant_initializer(2.0))
    g = tf.get_default_graph()
    assert tf.trainable_variables() == [t, c, r]   # trainable adds the collection
    assert tf.global_variables() == [t, n, r]
    assert g.get_collection("mine") == [c] and tf.local_variables() == [loc]
    assert not loc.trainable
    (loss,) = g.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert loss.name == "reg/r/Regularizer/Sum:0"
    with tf.Session() as s:
        s.run(r.initializer)
        assert s.run(loss) == pytest.approx(12.0)


def test_custom_getter_and_control_dependencies():
    seen = []

    def getter(next_getter, name, *args, **kwargs):
        seen.append(name)
        return next_getter(name, *args, **kwargs)
    with tf.variable_scope("cg", custom_getter=getter):
        with tf.variable_scope("in", custom_getter=getter):
            tf.get_variable("v", [1])
    assert seen == ["cg/in/v", "cg/in/v"]          # inner wraps outer
    gate = tf.no_op(name="gate")
    with tf.control_dependencies([gate]):
        v = tf.get_variable("w", [2])
    assert v.initializer.control_inputs == []      # like TF's init_scope
    assert v.op.control_inputs == []


# ---------------------------------------------------------------- initializers

N_ROWS, N_COLS = 200, 300


def _stats_check(x, mean, std, n_sigma=6):
    n = x.size
    assert abs(x.mean() - mean) < n_sigma * std / np.sqrt(n)
    # the sample std of n values is within a few percent of std for n = 60000
    assert abs(x.std() - std) < 0.03 * std


def test_initializer_statistics():
    tf.set_random_seed(11)
    shape = [N_ROWS, N_COLS]
    fan_avg = (N_ROWS + N_COLS) / 2
    inits = {
        "uniform": tf.random_uniform_initializer(-2.0, 3.0),
        "normal": tf.random_normal_initializer(1.0, 2.0),
        "truncated": tf.truncated_normal_initializer(0.0, 2.0),
        "glorot_uniform": tf.glorot_uniform_initializer(),
        "glorot_normal": tf.glorot_normal_initializer(),
        "he_normal": tf.initializers.he_normal(),
        "vs_fan_out": tf.variance_scaling_initializer(mode="fan_out",
                                                      distribution="untruncated_normal"),
        "vs_uniform": tf.variance_scaling_initializer(3.0, "fan_avg", "uniform"),
        "lecun_uniform": tf.initializers.lecun_uniform(),
    }
    tensors = {k: init(shape) for k, init in inits.items()}
    v = run(tensors, init=False)
    u = v["uniform"]
    assert u.min() >= -2 and u.max() < 3
    _stats_check(u, 0.5, 5 / np.sqrt(12))
    _stats_check(v["normal"], 1.0, 2.0)
    t = v["truncated"]
    assert np.abs(t).max() <= 4.0 + 1e-5
    _stats_check(t, 0.0, 2.0 * 0.87962566103423978)
    lim = np.sqrt(6 / (N_ROWS + N_COLS))
    g = v["glorot_uniform"]
    assert np.abs(g).max() <= lim and np.abs(g).max() > 0.99 * lim
    _stats_check(g, 0.0, lim / np.sqrt(3))
    # truncated normal with the std correction: the final std is sqrt(scale / n)
    gn = v["glorot_normal"]
    _stats_check(gn, 0.0, np.sqrt(1 / fan_avg))
    assert np.abs(gn).max() <= 2 * np.sqrt(1 / fan_avg) / 0.87962566103423978 + 1e-6
    _stats_check(v["he_normal"], 0.0, np.sqrt(2 / N_ROWS))
    _stats_check(v["vs_fan_out"], 0.0, np.sqrt(1 / N_COLS))
    vs = v["vs_uniform"]
    assert np.abs(vs).max() <= np.sqrt(9 / fan_avg)
    _stats_check(vs, 0.0, np.sqrt(9 / fan_avg) / np.sqrt(3))
    assert np.abs(v["lecun_uniform"]).max() <= np.sqrt(3 / N_ROWS)


def test_deterministic_initializers_and_conv_fans():
    z = tf.zeros_initializer()([2, 3])
    o = tf.ones_initializer(dtype=tf.int32)([3])
    c = tf.constant_initializer(3.5)([2, 2])
    cl = tf.constant_initializer([1., 2., 3.])([3])
    cpad = tf.constant_initializer([1., 2.])([4])     # TF 1.x repeats the last value
    eye = tf.initializers.identity(gain=2.0)([2, 3])
    conv = tf.glorot_uniform_initializer()([3, 3, 16, 32])
    orth_wide = tf.orthogonal_initializer()([30, 50])
    orth_tall = tf.initializers.orthogonal(gain=3.0)([50, 30])
    v = run([z, o, c, cl, cpad, eye, conv, orth_wide, orth_tall], init=False)
    np.testing.assert_array_equal(v[0], np.zeros((2, 3)))
    assert v[1].dtype == np.int32 and list(v[1]) == [1, 1, 1]
    np.testing.assert_array_equal(v[2], np.full((2, 2), 3.5))
    np.testing.assert_array_equal(v[3], [1., 2., 3.])
    np.testing.assert_array_equal(v[4], [1., 2., 2., 2.])
    np.testing.assert_array_equal(v[5], 2 * np.eye(2, 3))
    # conv kernel fans: fan_in = 3*3*16, fan_out = 3*3*32
    assert np.abs(v[6]).max() <= np.sqrt(6 / (144 + 288))
    np.testing.assert_allclose(v[7] @ v[7].T, np.eye(30), atol=1e-5)
    np.testing.assert_allclose(v[8].T @ v[8], 9 * np.eye(30), atol=1e-4)


def test_seeded_initializers_repeat_across_graphs():
    vals = []
    for _ in range(2):
        with tf.Graph().as_default():
            tf.set_random_seed(5)
            vals.append(run(tf.truncated_normal_initializer(seed=3)([50]), init=False))
    np.testing.assert_array_equal(vals[0], vals[1])


def test_initializer_validation():
    with pytest.raises(ValueError, match="positive"):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        tf.variance_scaling_initializer(mode="fan_middle")
    with pytest.raises(ValueError, match="distribution"):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="floating point"):
        tf.random_normal_initializer(dtype=tf.int32)
    with pytest.raises(TypeError, match="Invalid type"):
        tf.constant_initializer(object())
    cfg = tf.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=4).get_config()
    assert cfg == {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 4,
                   "dtype": "float32"}


# ---------------------------------------------------------------- tf.layers

def test_dense_names_match_tf():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    h = tf.layers.dense(x, 3, activation=tf.nn.relu)
    out = tf.layers.dense(h, 2)
    assert h.name == "dense/Relu:0" and out.name == "dense_1/BiasAdd:0"
    assert [v.name for v in tf.trainable_variables()] == [
        "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
    ops = {o.name for o in tf.get_default_graph().get_operations()}
    assert {"dense/MatMul", "dense/BiasAdd", "dense/kernel/Initializer/random_uniform",
            "dense/bias/Initializer/zeros", "dense/kernel/read"} <= ops
    with tf.variable_scope("model"):
        m = tf.layers.dense(x, 2, name="fc")
    assert m.name == "model/fc/BiasAdd:0"
    assert tf.trainable_variables()[-2].name == "model/fc/kernel:0"


def test_dense_reuse_shares_variables():
    x = tf.placeholder(tf.float32, [None, 4])
    a = tf.layers.dense(x, 2, name="fc")
    b = tf.layers.dense(x, 2, name="fc", reuse=True)
    assert a.name == "fc/BiasAdd:0" and b.name == "fc_1/BiasAdd:0"
    assert len(tf.trainable_variables()) == 2
    with pytest.raises(ValueError, match="Variable fc/kernel already exists"):
        tf.layers.dense(x, 2, name="fc")
    c = tf.layers.dense(x, 2, name="shared", reuse=tf.AUTO_REUSE)
    d = tf.layers.dense(x, 2, name="shared", reuse=tf.AUTO_REUSE)
    assert len(tf.trainable_variables()) == 4
    xv = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    av, bv, cv, dv = run([a, b, c, d], {x: xv})
    np.testing.assert_array_equal(av, bv)
    np.testing.assert_array_equal(cv, dv)


def test_dense_values_options_and_layer_object():
    x = tf.placeholder(tf.float64, [None, 3])
    k = np.arange(6, dtype=np.float64).reshape(3, 2) / 10
    y = tf.layers.dense(x, 2, activation=tf.nn.relu,
                        kernel_initializer=tf.constant_initializer(k),
                        bias_initializer=tf.constant_initializer([-0.5, 0.25]))
    nb = tf.layers.dense(x, 2, use_bias=False, trainable=False,
                         kernel_regularizer=lambda w: tf.reduce_sum(w))
    assert y.dtype == tf.float64
    assert [v.name for v in tf.global_variables()][-1] == "dense_1/kernel:0"
    assert len(tf.trainable_variables()) == 2
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)[0].name.startswith(
        "dense_1/kernel/Regularizer/")
    layer = tf.layers.Dense(2, name="obj")
    first, second = layer(x), layer(x)
    assert [v.name for v in layer.trainable_variables] == ["obj/kernel:0", "obj/bias:0"]
    assert second.name == "obj/BiasAdd_1:0"
    xv = np.array([[1., 2., 3.], [-1., 0., 0.5]])
    yv, f, s = run([y, first, second], {x: xv})
    np.testing.assert_allclose(yv, np.maximum(xv @ k + [-0.5, 0.25], 0))
    np.testing.assert_array_equal(f, s)
    with pytest.raises(ValueError, match="last dimension of the inputs to `Dense`"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 2)


def test_dense_on_3d_input_and_flatten():
    x3 = tf.placeholder(tf.float32, [None, 5, 4])
    y = tf.layers.dense(x3, 6, kernel_initializer=tf.ones_initializer())
    assert y.shape.as_list() == [None, 5, 6] and y.name == "dense/BiasAdd:0"
    img = tf.placeholder(tf.float32, [None, 2, 3, 4])
    flat = tf.layers.flatten(img)
    flat_cf = tf.layers.flatten(img, data_format="channels_first")
    assert flat.name == "flatten/Reshape:0" and flat.shape.as_list() == [None, 24]
    rng = np.random.default_rng(2)
    xv = rng.normal(size=(2, 5, 4)).astype(np.float32)
    iv = rng.normal(size=(3, 2, 3, 4)).astype(np.float32)
    yv, fv, fcv = run([y, flat, flat_cf], {x3: xv, img: iv})
    np.testing.assert_allclose(yv, np.repeat(xv.sum(-1, keepdims=True), 6, -1), rtol=1e-6)
    np.testing.assert_array_equal(fv, iv.reshape(3, -1))
    np.testing.assert_array_equal(fcv, iv.transpose(0, 2, 3, 1).reshape(3, -1))


def test_layers_dropout():
    tf.set_random_seed(1)
    x = tf.ones([100, 100])
    off = tf.layers.dropout(x, rate=0.5)
    on = tf.layers.dropout(x, rate=0.5, training=True)
    flag = tf.placeholder(tf.bool, [])
    maybe = tf.layers.dropout(x, rate=0.5, training=flag)
    assert off.name == "dropout/Identity:0"
    a, b, c, d = run([off, on, maybe], {flag: False}) + [run(maybe, {flag: True})]
    np.testing.assert_array_equal(a, 1.0)
    assert set(np.unique(b)) <= {0.0, 2.0} and 0.4 < (b > 0).mean() < 0.6
    np.testing.assert_array_equal(c, 1.0)
    assert set(np.unique(d)) <= {0.0, 2.0} and 0.4 < (d > 0).mean() < 0.6
