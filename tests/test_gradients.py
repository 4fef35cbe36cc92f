"""tf.gradients: every differentiable op's gradient against central finite
differences in float64, and the structure of what tf.gradients builds (names,
None for unconnected xs, grad_ys, stop_gradient, integer paths, TF's
subgradients at ties).

The finite-difference checks batch many ops into one graph: each case has its
own placeholders, the symbolic gradient of sum_c <out_c, w_c> is one run, and
each perturbed run moves element k of input i in every case at once."""
import numpy as np
import pytest

import tfcompile as tf

F64 = tf.float64


def _rand(rng, shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def _away_from_zero(rng, shape, lo=0.3, hi=2.0):
    return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


class Case:
    """fn(*placeholders) -> tensor; inputs: arrays; static: placeholder shapes."""

    def __init__(self, name, fn, inputs, static=None):
        self.name = name
        self.fn = fn
        self.inputs = [np.asarray(a, dtype=np.float64) for a in inputs]
        self.static = static or [a.shape for a in self.inputs]


def _weights(out, salt):
    """Fixed pseudo-random weights shaped like `out`, built in the graph (from its
    runtime shape, so None dimensions work)."""
    idx = tf.cast(tf.reshape(tf.range(0, tf.size(out)), tf.shape(out)), F64)
    return tf.cos(idx * 1.37 + salt)


def check_gradients(cases, eps=1e-6, rtol=1e-5, atol=1e-6):
    """Compares tf.gradients of sum_c <out_c, w_c> with central differences.

    Every run fetches the outputs, the weights and the gradients, so the whole
    check is one compiled signature."""
    g = tf.Graph()
    with g.as_default():
        phs, outs, ws = [], [], []
        for ci, c in enumerate(cases):
            p = [tf.placeholder(F64, s, name=f"{c.name}_x{i}") for i, s in enumerate(c.static)]
            phs.append(p)
            out = c.fn(*p)
            outs.append(out)
            ws.append(tf.stop_gradient(_weights(out, float(ci))))
        total = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outs, ws)])
        flat_x = [p for ps in phs for p in ps]
        grads = tf.gradients(total, flat_x)
    missing = [x.name for x, gx in zip(flat_x, grads) if gx is None]
    assert not missing, f"no gradient for {missing}"
    fetch = [outs, ws, grads]
    base = {p: a for c, ps in zip(cases, phs) for p, a in zip(ps, c.inputs)}
    with tf.Session(graph=g) as sess:
        _, w, sym = sess.run(fetch, base)
        numeric = [[np.zeros_like(a) for a in c.inputs] for c in cases]
        n_in = max(len(c.inputs) for c in cases)
        n_el = max(a.size for c in cases for a in c.inputs)
        for i in range(n_in):
            for k in range(n_el):
                touched = [ci for ci, c in enumerate(cases)
                           if i < len(c.inputs) and k < c.inputs[i].size]
                if not touched:
                    continue
                res = []
                for sgn in (1.0, -1.0):
                    f = dict(base)
                    for ci in touched:
                        a = cases[ci].inputs[i].copy()
                        a.flat[k] += sgn * eps
                        f[phs[ci][i]] = a
                    res.append(sess.run(fetch, f)[0])
                for ci in touched:
                    d = np.sum((np.asarray(res[0][ci]) - np.asarray(res[1][ci])) * w[ci])
                    numeric[ci][i].flat[k] = d / (2 * eps)
    it = iter(sym)
    failures = []
    for c, num in zip(cases, numeric):
        for i, n in enumerate(num):
            s = next(it)
            if s.shape != n.shape or not np.allclose(s, n, rtol=rtol, atol=atol):
                failures.append(f"{c.name}: input {i}\nsymbolic {s}\nnumeric  {n}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- elementwise

def test_elementwise_gradients():
    r = np.random.default_rng(1)
    pos = lambda s: r.uniform(0.3, 2.0, size=s)  # noqa: E731
    cases = [
        Case("neg", tf.negative, [_rand(r, (3, 4))]),
        Case("abs", tf.abs, [_away_from_zero(r, (3, 4))]),
        Case("sign", lambda x: tf.sign(x) * x, [_away_from_zero(r, (2, 3))]),
        Case("square", tf.square, [_rand(r, (5,))]),
        Case("sqrt", tf.sqrt, [pos((2, 3))]),
        Case("rsqrt", tf.rsqrt, [pos((2, 3))]),
        Case("exp", tf.exp, [_rand(r, (2, 3))]),
        Case("expm1", tf.expm1, [_rand(r, (4,))]),
        Case("log", tf.log, [pos((2, 3))]),
        Case("log1p", tf.log1p, [r.uniform(-0.5, 2, (2, 3))]),
        Case("tanh", tf.tanh, [_rand(r, (2, 3))]),
        Case("sigmoid", tf.sigmoid, [_rand(r, (4, 3))], [(None, 3)]),
        Case("sin", tf.sin, [_rand(r, (3,))]),
        Case("cos", tf.cos, [_rand(r, (3,))]),
        Case("reciprocal", tf.reciprocal, [_away_from_zero(r, (2, 3))]),
        Case("relu", tf.nn.relu, [_away_from_zero(r, (3, 4))]),
        Case("identity", tf.identity, [_rand(r, (2, 2))]),
        Case("add_bcast", lambda x, y: x + y, [_rand(r, (3, 4)), _rand(r, (4,))]),
        Case("add_both", tf.add, [_rand(r, (2, 3, 1)), _rand(r, (3, 4))]),
        Case("add_none", lambda x, y: x + y, [_rand(r, (5, 3)), _rand(r, (3,))],
             [(None, 3), (3,)]),
        Case("sub_bcast", lambda x, y: x - y, [_rand(r, (3, 1)), _rand(r, (1, 4))]),
        Case("sub_same", tf.subtract, [_rand(r, (2, 3)), _rand(r, (2, 3))]),
        Case("mul_scalar", lambda x, y: x * y, [_rand(r, (2, 3)), _rand(r, ())]),
        Case("mul_none", tf.multiply, [_rand(r, (4, 3)), _rand(r, (1, 3))],
             [(None, 3), (1, 3)]),
        Case("realdiv", lambda x, y: x / y, [_rand(r, (3, 4)), _away_from_zero(r, (3, 1))]),
        Case("pow", tf.pow, [pos((2, 3)), _rand(r, (3,))]),
        Case("pow_scalar_exp", lambda x: x ** 3.0, [_rand(r, (4,))]),
        Case("maximum", tf.maximum, [_rand(r, (3, 4)), _rand(r, (4,)) + 0.05]),
        Case("minimum", tf.minimum, [_rand(r, (2, 3)), _rand(r, (2, 1)) + 0.05]),
        Case("sqdiff", tf.squared_difference, [_rand(r, (2, 3)), _rand(r, (3,))]),
        Case("floormod", tf.floormod, [r.uniform(0.1, 0.9, (2, 3)) + np.arange(3),
                                       np.full((3,), 1.7)]),
        Case("add_n", lambda x, y, z: tf.add_n([x, y, x * z]),
             [_rand(r, (2, 3)), _rand(r, (2, 3)), _rand(r, (2, 3))]),
        Case("reuse", lambda x: tf.exp(x) * x + tf.sin(x), [_rand(r, (3,))]),
        Case("softplus_like", lambda x: tf.log(1 + tf.exp(x)), [_rand(r, (4,))]),
    ]
    check_gradients(cases)


def test_second_order_gradients():
    r = np.random.default_rng(2)
    pos = lambda s: r.uniform(0.3, 2.0, size=s)  # noqa: E731

    def d(f):
        return lambda x: tf.gradients(f(x), x)[0]
    cases = [
        Case("d_tanh", d(tf.tanh), [_rand(r, (3,))]),
        Case("d_sigmoid", d(tf.sigmoid), [_rand(r, (3,))]),
        Case("d_sqrt", d(tf.sqrt), [pos((3,))]),
        Case("d_rsqrt", d(tf.rsqrt), [pos((3,))]),
        Case("d_reciprocal", d(tf.reciprocal), [_away_from_zero(r, (3,))]),
        Case("d_relu", lambda x: d(tf.nn.relu)(x) * x * x, [_away_from_zero(r, (3,))]),
        Case("d_cube", d(lambda x: x * x * x), [_rand(r, (3,))]),
        Case("d_slice", d(lambda x: tf.square(x[1:, ::2])), [_rand(r, (3, 4))]),
    ]
    check_gradients(cases)


# ---------------------------------------------------------------- matmul and reductions

def test_matmul_and_reduction_gradients():
    r = np.random.default_rng(3)
    a, b = _rand(r, (3, 4)), _rand(r, (4, 2))
    distinct = r.permutation(12).reshape(3, 4) * 0.25 - 1.0
    with_zero = _rand(r, (2, 3))
    with_zero[1, 1] = 0.0
    cases = [
        Case("mm", tf.matmul, [a, b]),
        Case("mm_ta", lambda x, y: tf.matmul(x, y, transpose_a=True), [a.T.copy(), b]),
        Case("mm_tb", lambda x, y: tf.matmul(x, y, transpose_b=True), [a, b.T.copy()]),
        Case("mm_tab", lambda x, y: tf.matmul(x, y, transpose_a=True, transpose_b=True),
             [a.T.copy(), b.T.copy()]),
        Case("mm_none", tf.matmul, [_rand(r, (5, 4)), b], [(None, 4), (4, 2)]),
        Case("bmm", tf.matmul, [_rand(r, (2, 3, 4)), _rand(r, (2, 4, 2))]),
        Case("bmm_adj", lambda x, y: tf.matmul(x, y, adjoint_a=True, adjoint_b=True),
             [_rand(r, (2, 4, 3)), _rand(r, (2, 2, 4))]),
        Case("bmm_bcast", tf.matmul, [_rand(r, (2, 3, 4)), _rand(r, (1, 4, 2))]),
        Case("sum_all", tf.reduce_sum, [_rand(r, (3, 4))]),
        Case("sum_0", lambda x: tf.reduce_sum(x, 0), [_rand(r, (3, 4))]),
        Case("sum_02_keep", lambda x: tf.reduce_sum(x, [0, 2], keepdims=True),
             [_rand(r, (2, 3, 2))]),
        Case("sum_neg_none", lambda x: tf.reduce_sum(x, -1), [_rand(r, (4, 3))], [(None, 3)]),
        Case("sum_all_none", tf.reduce_sum, [_rand(r, (4, 3))], [(None, 3)]),
        Case("mean_1", lambda x: tf.reduce_mean(x, 1), [_rand(r, (3, 4))]),
        Case("mean_all_none", tf.reduce_mean, [_rand(r, (4, 3))], [(None, 3)]),
        Case("mean_0_none", lambda x: tf.reduce_mean(x, 0), [_rand(r, (4, 3))], [(None, 3)]),
        Case("max_1", lambda x: tf.reduce_max(x, 1), [distinct]),
        Case("max_all", tf.reduce_max, [distinct]),
        Case("min_0_keep", lambda x: tf.reduce_min(x, 0, keepdims=True), [distinct]),
        Case("max_none", lambda x: tf.reduce_max(x, 1), [distinct], [(None, 4)]),
        Case("prod_1", lambda x: tf.reduce_prod(x, 1), [with_zero]),
        Case("prod_all", tf.reduce_prod, [_rand(r, (2, 3))]),
        Case("prod_0_zero", lambda x: tf.reduce_prod(x, 0), [with_zero]),
        Case("mlp", lambda x, w, b_: tf.reduce_mean(tf.nn.relu(tf.matmul(x, w) + b_)),
             [_rand(r, (4, 3)), _rand(r, (3, 2)), _rand(r, (2,))], [(None, 3), (3, 2), (2,)]),
    ]
    check_gradients(cases)


# ---------------------------------------------------------------- array ops

def test_array_op_gradients():
    r = np.random.default_rng(4)
    cases = [
        Case("reshape", lambda x: tf.reshape(x, [-1, 2, 3]) * 1.5, [_rand(r, (4, 6))],
             [(None, 6)]),
        Case("transpose", lambda x: tf.transpose(x, [2, 0, 1]), [_rand(r, (2, 3, 2))]),
        Case("transpose_none", tf.transpose, [_rand(r, (4, 3))], [(None, 3)]),
        Case("expand_dims", lambda x: tf.expand_dims(x, 1), [_rand(r, (3, 2))]),
        Case("squeeze", lambda x: tf.squeeze(x, [1]), [_rand(r, (3, 1, 2))]),
        Case("ss_basic", lambda x: x[1:, ::2], [_rand(r, (3, 5))]),
        Case("ss_neg", lambda x: x[::-1, 1], [_rand(r, (3, 4))]),
        Case("ss_neg_step2", lambda x: x[:, -1:0:-2], [_rand(r, (2, 6))]),
        Case("ss_ellipsis", lambda x: x[..., None, 0], [_rand(r, (2, 3, 2))]),
        Case("ss_none", lambda x: x[:, 1:3], [_rand(r, (4, 4))], [(None, 4)]),
        Case("slice", lambda x: tf.slice(x, [1, 0], [2, -1]), [_rand(r, (4, 3))]),
        Case("concat", lambda x, y, z: tf.concat([x, y, z], 1),
             [_rand(r, (2, 1)), _rand(r, (2, 3)), _rand(r, (2, 2))]),
        Case("concat_none", lambda x, y: tf.concat([x, y], 0) * 2.0,
             [_rand(r, (3, 2)), _rand(r, (1, 2))], [(None, 2), (1, 2)]),
        Case("stack", lambda x, y: tf.stack([x, y], axis=1), [_rand(r, (2, 3)), _rand(r, (2, 3))]),
        Case("unstack", lambda x: tf.unstack(x, axis=1)[0] * tf.unstack(x, axis=1)[2],
             [_rand(r, (2, 3))]),
        Case("unstack_one", lambda x: tf.unstack(x)[1], [_rand(r, (3, 2))]),
        Case("gather0", lambda x: tf.gather(x, [2, 0, 2, 3]), [_rand(r, (4, 3))]),
        Case("gather1", lambda x: tf.gather(x, [[1, 1], [0, 2]], axis=1),
             [_rand(r, (2, 3, 2))]),
        Case("gather_none", lambda x: tf.gather(x, [1, 1, 0]), [_rand(r, (3, 2))],
             [(None, 2)]),
        Case("select", lambda x, y: tf.where(tf.constant([[True, False, True],
                                                          [False, False, True]]), x, y),
             [_rand(r, (2, 3)), _rand(r, (2, 3))]),
        Case("select_v2", lambda x, y: tf.where_v2(tf.constant([True, False, True]), x, y),
             [_rand(r, (2, 3)), _rand(r, (1,))]),
        Case("fill", lambda v: tf.fill([2, 3], v) * tf.constant(np.arange(6.0).reshape(2, 3)),
             [_rand(r, ())]),
        Case("tile", lambda x: tf.tile(x, [2, 3]), [_rand(r, (2, 2))]),
        Case("tile_bcast", lambda x: tf.tile(x, [1, 4]), [_rand(r, (3, 1))]),
        Case("pad", lambda x: tf.pad(x, [[1, 0], [2, 1]]) * 2.0, [_rand(r, (2, 2))]),
    ]
    check_gradients(cases)


# ---------------------------------------------------------------- structure

def _ops(g, prefix):
    return [op.name for op in g.get_operations() if op.name.startswith(prefix)]


def test_names_under_gradients_scope():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.Variable(np.ones((3, 2), np.float32), name="W")
        b = tf.Variable(np.zeros(2, np.float32), name="b")
        loss = tf.reduce_sum(tf.matmul(x, w) + b)
        gw, gb = tf.gradients(loss, [w, b])
        assert gw.name == "gradients/MatMul_grad/MatMul_1:0"
        assert gb.name == "gradients/add_grad/Reshape_1:0"
        assert gw.shape.as_list() == [3, 2] and gb.shape.as_list() == [2]
        names = _ops(g, "gradients/")
        for n in ("gradients/Shape", "gradients/grad_ys_0", "gradients/Fill",
                  "gradients/Sum_grad/Tile", "gradients/add_grad/BroadcastGradientArgs",
                  "gradients/MatMul_grad/MatMul"):
            assert n in names
        assert g.get_operation_by_name("gradients/Fill").type == "Fill"
        (again,) = tf.gradients(loss, [x])
        assert again.name.startswith("gradients_1/")
        assert again.shape.as_list() == [None, 3]


def test_gate_gradients_adds_tuples():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        w = tf.Variable(np.ones((3, 2), np.float32), name="W")
        gx, gw = tf.gradients(tf.reduce_sum(tf.matmul(x, w)), [x, w], gate_gradients=True)
        assert gw.name == "gradients/MatMul_grad/tuple/control_dependency_1:0"
        assert gx.name == "gradients/MatMul_grad/tuple/control_dependency:0"
        assert g.get_operation_by_name("gradients/MatMul_grad/tuple/group_deps").type == "NoOp"


def test_unconnected_stop_gradient_and_integer_paths():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [3])
        y = tf.placeholder(tf.float64, [3])
        z = tf.placeholder(tf.float64, [3])
        i = tf.placeholder(tf.int32, [3])
        out = x * 2.0 + tf.stop_gradient(y) + tf.cast(tf.cast(z, tf.int32), tf.float64)
        out = out + tf.cast(i, tf.float64)
        gx, gy, gz, gi, gn = tf.gradients(out, [x, y, z, i, tf.placeholder(tf.float64)])
        assert gy is None and gz is None and gi is None and gn is None
        zx, zy = tf.gradients(out, [x, y], unconnected_gradients="zero")
        # stop_gradients: treat x*2 as a constant
        two_x = x * 2.0
        sq = tf.square(two_x)
        (gs,) = tf.gradients(sq, [x], stop_gradients=[two_x])
        (gfull,) = tf.gradients(sq, [x])
        # shape/argmax paths are not differentiable
        assert tf.gradients(tf.cast(tf.shape(x), tf.float64), [x]) == [None]
        assert tf.gradients(tf.cast(tf.argmax(x), tf.float64), [x]) == [None]
        assert tf.gradients(tf.floor(x), [x]) == [None]
        assert tf.gradients(tf.floordiv(x, y), [x, y]) == [None, None]
    xv = np.array([1.0, 2.0, 3.0])
    with tf.Session(graph=g) as sess:
        f = {x: xv, y: xv, z: xv, i: [1, 2, 3]}
        np.testing.assert_allclose(sess.run(gx, f), [2.0, 2.0, 2.0])
        np.testing.assert_allclose(sess.run(zy, f), np.zeros(3))
        np.testing.assert_allclose(sess.run(zx, f), [2.0, 2.0, 2.0])
        assert gs is None
        np.testing.assert_allclose(sess.run(gfull, f), 8 * xv)


def test_grad_ys_variables_and_aggregation():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.array([1.0, -2.0, 3.0]), name="w")
        y1 = w * w
        y2 = tf.sin(w)
        (gw,) = tf.gradients([y1, y2], w, grad_ys=[tf.constant([1.0, 2.0, 3.0], tf.float64),
                                                  None])
        assert g.get_operation_by_name("gradients/grad_ys_0").type == "Identity"
        assert any(op.type == "AddN" for op in g.get_operations()
                   if op.name.startswith("gradients/"))
        (gr,) = tf.gradients(tf.reduce_sum(w.value() * 3.0), [w.value()])
        with pytest.raises(ValueError, match="Passed 1 grad_ys for 2 ys"):
            tf.gradients([y1, y2], w, grad_ys=[None])
    wv = np.array([1.0, -2.0, 3.0])
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([w]))
        np.testing.assert_allclose(sess.run(gw), 2 * wv * [1, 2, 3] + np.cos(wv))
        np.testing.assert_allclose(sess.run(gr), [3.0, 3.0, 3.0])


def test_tf_subgradients_at_ties():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [4])
        y = tf.placeholder(tf.float64, [4])
        gmx, gmy = tf.gradients(tf.maximum(x, y), [x, y])
        gnx, gny = tf.gradients(tf.minimum(x, y), [x, y])
        (grelu,) = tf.gradients(tf.nn.relu(x), [x])
        (gabs,) = tf.gradients(tf.abs(x), [x])
        m = tf.placeholder(tf.float64, [2, 3])
        (gmax,) = tf.gradients(tf.reduce_max(m, axis=1), [m])
        (gmin,) = tf.gradients(tf.reduce_min(m), [m])
    xv = np.array([1.0, 2.0, 0.0, -1.0])
    yv = np.array([1.0, 1.0, 0.0, 5.0])
    mv = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    with tf.Session(graph=g) as sess:
        f = {x: xv, y: yv, m: mv}
        a, b, c, d, rl, ab, mx, mn = sess.run([gmx, gmy, gnx, gny, grelu, gabs, gmax, gmin], f)
    np.testing.assert_array_equal(a, [1, 1, 1, 0])     # ties go to x for Maximum
    np.testing.assert_array_equal(b, [0, 0, 0, 1])
    np.testing.assert_array_equal(c, [1, 0, 1, 1])     # and to x for Minimum
    np.testing.assert_array_equal(d, [0, 1, 0, 0])
    np.testing.assert_array_equal(rl, [1, 1, 0, 0])    # relu'(0) = 0
    np.testing.assert_array_equal(ab, [1, 1, 0, -1])   # sign(0) = 0
    np.testing.assert_allclose(mx, [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(mn, [[0, 1.0, 0], [0, 0, 0]])


def test_cast_gradient_between_float_types():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [3])
        y = tf.cast(x, tf.float32) * tf.constant([1.0, 2.0, 3.0])
        (gx,) = tf.gradients(y, [x])
        assert gx.dtype == tf.float64
    with tf.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run(gx, {x: [1.0, 2.0, 3.0]}), [1.0, 2.0, 3.0])


def test_missing_gradient_raises_lookup_error():
    from tfcompile.ops.op_util import make_tensor
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2])
        y = make_tensor("NoSuchOpForGradients", [x], tf.float32, [2], name="odd")
        with pytest.raises(LookupError, match="No gradient defined for operation 'odd'"):
            tf.gradients(y, x)


def test_gradient_of_variable_through_read_in_session():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        w = tf.Variable(np.array([[1.0], [2.0]], np.float32), name="W")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        (gw,) = tf.gradients(loss, w)
    xv = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]], np.float32)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([w]))
        want = 2 * xv.T @ (xv @ np.array([[1.0], [2.0]])) / 3
        np.testing.assert_allclose(sess.run(gw, {x: xv}), want, rtol=1e-6)
        # another batch size reuses the graph (a new specialization)
        np.testing.assert_allclose(sess.run(gw, {x: xv[:2]}),
                                   2 * xv[:2].T @ (xv[:2] @ [[1.0], [2.0]]) / 2, rtol=1e-6)
