"""tf.train optimizers against numpy transcriptions of TF 1.15's update kernels,
slot and op names, the global step, learning-rate schedules, and a small
logistic regression whose loss falls."""
import numpy as np
import pytest

import tfcompile as tf


def f32(v):
    """A Python float hyperparameter as TF holds it: a float32 constant, cast to
    the variable's dtype."""
    return float(np.float32(v))


# numpy transcriptions of TF 1.15's CPU kernels (training_ops.cc), one step each

def ref_sgd(w, s, g, lr):
    return w - g * lr, s


def ref_momentum(w, s, g, lr, mom, nesterov=False):
    a = s["momentum"] * mom + g
    step = g * lr + a * mom * lr if nesterov else a * lr
    return w - step, {"momentum": a}


def ref_adagrad(w, s, g, lr):
    a = s["accumulator"] + g * g
    return w - g * lr * (1.0 / np.sqrt(a)), {"accumulator": a}


def ref_adadelta(w, s, g, lr, rho, eps):
    a = s["accum"] * rho + g * g * (1 - rho)
    upd = np.sqrt(s["accum_update"] + eps) * (1.0 / np.sqrt(a + eps)) * g
    au = s["accum_update"] * rho + upd * upd * (1 - rho)
    return w - upd * lr, {"accum": a, "accum_update": au}


def ref_rmsprop(w, s, g, lr, rho, mom, eps, centered=False):
    ms = s["rms"] + (g * g - s["rms"]) * (1 - rho)
    out = {"rms": ms}
    if centered:
        mg = s["mg"] + (g - s["mg"]) * (1 - rho)
        denom = ms - mg * mg + eps
        out["mg"] = mg
    else:
        denom = ms + eps
    m = s["momentum"] * mom + g * lr / np.sqrt(denom)
    out["momentum"] = m
    return w - m, out


def ref_adam(w, s, g, lr, b1, b2, eps, b1p, b2p):
    alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
    m = s["m"] + (g - s["m"]) * (1 - b1)
    v = s["v"] + (g * g - s["v"]) * (1 - b2)
    return w - m * alpha / (np.sqrt(v) + eps), {"m": m, "v": v}


W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
B0 = np.array([0.1, -0.2, 0.3])
TW = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
TB = np.array([0.0, 1.0, -1.0])
CW = np.array([[1.0, 2.0, 0.5], [0.25, 3.0, 1.5]])
CB = np.array([2.0, 0.5, 1.0])


def _loss_np(w, b):
    return np.sum(CW * (w - TW) ** 2) + np.sum(CB * (b - TB) ** 2)


def _grads_np(w, b):
    return CW * ((w - TW) * 2), CB * ((b - TB) * 2)


def _quadratic(dtype=tf.float64):
    w = tf.Variable(W0.astype(dtype.as_numpy_dtype), name="W")
    b = tf.Variable(B0.astype(dtype.as_numpy_dtype), name="b")
    c = lambda a: tf.constant(a.astype(dtype.as_numpy_dtype))  # noqa: E731
    loss = (tf.reduce_sum(c(CW) * tf.square(w - c(TW)))
            + tf.reduce_sum(c(CB) * tf.square(b - c(TB))))
    return w, b, loss


def _beta_power(beta, t):
    """beta^t as TF accumulates it: float32 products, one per step."""
    p = np.float32(beta)
    for _ in range(t - 1):
        p = np.float32(p * np.float32(beta))
    return float(p)


# (name, factory, numpy step, initial slot values, slot variable names for W)
CONFIGS = [
    ("sgd", lambda: tf.train.GradientDescentOptimizer(0.1),
     lambda w, s, g, t: ref_sgd(w, s, g, f32(0.1)), {}, {}),
    ("momentum", lambda: tf.train.MomentumOptimizer(0.05, 0.9),
     lambda w, s, g, t: ref_momentum(w, s, g, f32(0.05), f32(0.9)),
     {"momentum": 0.0}, {"momentum": "W/Momentum"}),
    ("nesterov", lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
     lambda w, s, g, t: ref_momentum(w, s, g, f32(0.05), f32(0.9), True),
     {"momentum": 0.0}, {"momentum": "W/Momentum"}),
    ("adagrad", lambda: tf.train.AdagradOptimizer(0.3),
     lambda w, s, g, t: ref_adagrad(w, s, g, f32(0.3)),
     {"accumulator": 0.1}, {"accumulator": "W/Adagrad"}),
    ("adadelta", lambda: tf.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6),
     lambda w, s, g, t: ref_adadelta(w, s, g, 1.0, f32(0.9), f32(1e-6)),
     {"accum": 0.0, "accum_update": 0.0}, {"accum": "W/Adadelta", "accum_update": "W/Adadelta_1"}),
    ("rmsprop", lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5),
     lambda w, s, g, t: ref_rmsprop(w, s, g, f32(0.01), f32(0.9), f32(0.5), f32(1e-10)),
     {"rms": 1.0, "momentum": 0.0},
     {"rms": "W/RMSProp", "momentum": "W/RMSProp_1"}),
    ("rmsprop_centered",
     lambda: tf.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.3, epsilon=1e-6,
                                       centered=True),
     lambda w, s, g, t: ref_rmsprop(w, s, g, f32(0.01), f32(0.8), f32(0.3), f32(1e-6), True),
     {"rms": 1.0, "mg": 0.0, "momentum": 0.0}, {"rms": "W/RMSProp", "mg": "W/RMSProp_1", "momentum": "W/RMSProp_2"}),
    ("adam", lambda: tf.train.AdamOptimizer(0.1),
     lambda w, s, g, t: ref_adam(w, s, g, f32(0.1), f32(0.9), f32(0.999), f32(1e-8),
                                 _beta_power(0.9, t), _beta_power(0.999, t)),
     {"m": 0.0, "v": 0.0}, {"m": "W/Adam", "v": "W/Adam_1"}),
]


@pytest.mark.parametrize("name,factory,step,slots0,slot_names", CONFIGS,
                         ids=[c[0] for c in CONFIGS])
def test_updates_match_tf_rule(name, factory, step, slots0, slot_names):
    g = tf.Graph()
    with g.as_default():
        w, b, loss = _quadratic()
        opt = factory()
        train = opt.minimize(loss)
        slot_keys = opt.get_slot_names()
        assert slot_keys == sorted(slots0)
        assert {k: opt.get_slot(w, k).op.name for k in slot_keys} == slot_names
        assert {k: opt.get_slot(b, k).op.name for k in slot_keys} == {
            k: "b" + n[1:] for k, n in slot_names.items()}
        for k in slot_keys:
            assert not opt.get_slot(w, k).trainable
            assert opt.get_slot(w, k) in tf.global_variables()
        fetch_slots = {k: (opt.get_slot(w, k), opt.get_slot(b, k)) for k in slot_keys}
        init = tf.global_variables_initializer()
    ws, bs = W0.copy(), B0.copy()
    sw = {k: np.full(W0.shape, v) for k, v in slots0.items()}
    sb = {k: np.full(B0.shape, v) for k, v in slots0.items()}
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for t in range(1, 6):
            lv, _ = sess.run([loss, train])
            np.testing.assert_allclose(lv, _loss_np(ws, bs), rtol=1e-12)
            gw, gb = _grads_np(ws, bs)
            ws, sw = step(ws, sw, gw, t)
            bs, sb = step(bs, sb, gb, t)
            got_w, got_b, got_slots = sess.run([w, b, fetch_slots])
            np.testing.assert_allclose(got_w, ws, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(got_b, bs, rtol=1e-10, atol=1e-13)
            for k in slot_keys:
                np.testing.assert_allclose(got_slots[k][0], sw[k], rtol=1e-10, atol=1e-13)
                np.testing.assert_allclose(got_slots[k][1], sb[k], rtol=1e-10, atol=1e-13)


def test_adam_names_beta_powers_and_global_step():
    g = tf.Graph()
    with g.as_default():
        w, b, loss = _quadratic(tf.float32)
        gs = tf.train.get_or_create_global_step()
        opt = tf.train.AdamOptimizer(0.01)
        train = opt.minimize(loss, global_step=gs)
        assert train.name == "Adam" and train.type == "AssignAdd"
        assert g.get_operation_by_name("Adam/update_W/ApplyAdam").type == "ApplyAdam"
        assert g.get_operation_by_name("Adam/update_b/ApplyAdam").type == "ApplyAdam"
        assert g.get_operation_by_name("Adam/update").type == "NoOp"
        assert [v.op.name for v in opt.variables()] == [
            "W/Adam", "W/Adam_1", "b/Adam", "b/Adam_1", "beta1_power", "beta2_power"]
        b1p = g.get_tensor_by_name("beta1_power:0")
        assert b1p.dtype == tf.float32
        assert train in tf.get_collection(tf.GraphKeys.TRAIN_OP)
        assert gs.name == "global_step:0" and gs.dtype == tf.int64
        assert tf.train.get_global_step() is gs
        assert tf.train.get_or_create_global_step() is gs
        with pytest.raises(ValueError, match='"global_step" already exists'):
            tf.train.create_global_step()
        trainable = {v.op.name for v in tf.trainable_variables()}
        assert trainable == {"W", "b"}
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        n0 = sess.compile_count
        for _ in range(3):
            sess.run([loss, train])
        # one compiled call per step: the signature compiles once
        assert sess.compile_count == n0 + 1
        step, p1, p2 = sess.run([gs, b1p, "beta2_power:0"])
    assert step == 3
    np.testing.assert_allclose(p1, _beta_power(0.9, 4), rtol=1e-7)
    np.testing.assert_allclose(p2, _beta_power(0.999, 4), rtol=1e-7)


def test_float32_adam_matches_numpy():
    g = tf.Graph()
    with g.as_default():
        w, b, loss = _quadratic(tf.float32)
        train = tf.train.AdamOptimizer(0.05).minimize(loss, var_list=[w])
        init = tf.global_variables_initializer()
    ws = W0.astype(np.float32)
    s = {"m": np.zeros_like(ws), "v": np.zeros_like(ws)}
    one = np.float32(1)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for t in range(1, 5):
            sess.run(train)
            gw = (CW.astype(np.float32) * ((ws - TW.astype(np.float32)) * np.float32(2)))
            b1p, b2p = np.float32(_beta_power(0.9, t)), np.float32(_beta_power(0.999, t))
            alpha = np.float32(0.05) * np.sqrt(one - b2p) / (one - b1p)
            s["m"] = s["m"] + (gw - s["m"]) * (one - np.float32(0.9))
            s["v"] = s["v"] + (gw * gw - s["v"]) * (one - np.float32(0.999))
            ws = ws - s["m"] * alpha / (np.sqrt(s["v"]) + np.float32(1e-8))
        got_w, got_b = sess.run([w, b])
    np.testing.assert_allclose(got_w, ws, rtol=2e-5, atol=1e-6)
    np.testing.assert_array_equal(got_b, B0.astype(np.float32))  # not in var_list


def test_placeholder_and_tensor_learning_rates():
    g = tf.Graph()
    with g.as_default():
        w, b, loss = _quadratic()
        lr = tf.placeholder(tf.float32, [], name="lr")
        train = tf.train.GradientDescentOptimizer(lr).minimize(loss)
        assert g.get_operation_by_name(
            "GradientDescent/update_W/ApplyGradientDescent").type == "ApplyGradientDescent"
        assert train.name == "GradientDescent" and train.type == "NoOp"
        mom_lr = tf.constant(0.02, tf.float64) * 2.0
        w2 = tf.Variable(W0, name="W2")
        loss2 = tf.reduce_sum(tf.constant(CW) * tf.square(w2 - tf.constant(TW)))
        train2 = tf.train.MomentumOptimizer(mom_lr, 0.5, use_nesterov=True).minimize(
            loss2, var_list=[w2])
        init = tf.global_variables_initializer()
    ws, bs, w2s = W0.copy(), B0.copy(), W0.copy()
    s2 = {"momentum": np.zeros_like(W0)}
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for rate in (0.1, 0.05, 0.2):
            sess.run(train, {lr: rate})
            gw, gb = _grads_np(ws, bs)
            ws, _ = ref_sgd(ws, {}, gw, f32(rate))
            bs, _ = ref_sgd(bs, {}, gb, f32(rate))
            sess.run(train2)
            w2s, s2 = ref_momentum(w2s, s2, _grads_np(w2s, bs)[0], 0.04, 0.5, True)
        np.testing.assert_allclose(sess.run(w), ws, rtol=1e-10)
        np.testing.assert_allclose(sess.run(b), bs, rtol=1e-10)
        np.testing.assert_allclose(sess.run(w2), w2s, rtol=1e-10)


def test_compute_and_apply_gradients():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        w = tf.Variable(np.ones((2, 1), np.float32), name="W")
        unused = tf.Variable(np.zeros(3, np.float32), name="unused")
        loss = tf.reduce_mean(tf.matmul(x, w))
        opt = tf.train.GradientDescentOptimizer(1.0)
        gv = opt.compute_gradients(loss)
        assert [v for _, v in gv] == [w, unused]
        assert gv[1][0] is None
        assert gv[0][0].name == "gradients/MatMul_grad/tuple/control_dependency_1:0"
        apply = opt.apply_gradients([(gv[0][0] * 2.0, w), (None, unused)], name="apply")
        assert apply.name == "apply"
        with pytest.raises(ValueError, match="No gradients provided for any variable"):
            opt.minimize(tf.reduce_sum(x), var_list=[w])
        with pytest.raises(ValueError, match="Invalid type"):
            opt.minimize(tf.constant(3), var_list=[w])
        with pytest.raises(ValueError, match="No variables provided"):
            opt.apply_gradients([])
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        xv = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
        sess.run(apply, {x: xv})
        np.testing.assert_allclose(sess.run(w), 1.0 - 2.0 * xv.mean(0)[:, None], rtol=1e-6)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to optimize"):
            tf.train.AdamOptimizer().minimize(tf.constant(1.0))


def test_learning_rate_schedules():
    g = tf.Graph()
    with g.as_default():
        gs = tf.train.get_or_create_global_step()
        exp = tf.train.exponential_decay(0.1, gs, 10, 0.5)
        stair = tf.train.exponential_decay(0.1, gs, 10, 0.5, staircase=True)
        inv = tf.train.inverse_time_decay(0.1, gs, 10, 0.5)
        nat = tf.train.natural_exp_decay(0.1, gs, 10, 0.5)
        poly = tf.train.polynomial_decay(0.1, gs, 20, end_learning_rate=0.01, power=2.0)
        cyc = tf.train.polynomial_decay(0.1, gs, 10, end_learning_rate=0.01, cycle=True)
        cos = tf.train.cosine_decay(0.1, gs, 20, alpha=0.1)
        pw = tf.train.piecewise_constant(gs, [5, 15], [1.0, 0.5, 0.1])
        assert exp.name == "ExponentialDecay:0" and exp.dtype == tf.float32
        bump = tf.assign_add(gs, 7)
        with pytest.raises(ValueError, match="global_step is required"):
            tf.train.exponential_decay(0.1, None, 10, 0.5)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for step in (0, 7, 14, 21, 28):
            got = sess.run([exp, stair, inv, nat, poly, cyc, cos, pw])
            p = step / 10
            ps = min(step, 20) / 20
            mult = 1.0 if step == 0 else np.ceil(step / 10)
            want = [0.1 * 0.5 ** p, 0.1 * 0.5 ** np.floor(p), 0.1 / (1 + 0.5 * p),
                    0.1 * np.exp(-0.5 * p), (0.1 - 0.01) * (1 - ps) ** 2 + 0.01,
                    (0.1 - 0.01) * (1 - step / (10 * mult)) + 0.01,
                    0.1 * (0.9 * 0.5 * (1 + np.cos(np.pi * ps)) + 0.1),
                    1.0 if step <= 5 else 0.5 if step <= 15 else 0.1]
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"step {step}")
            sess.run(bump)


def test_logistic_regression_loss_falls():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((200, 3)).astype(np.float32)
    true_w = np.array([[2.0], [-1.0], [0.5]], np.float32)
    ys = (xs @ true_w + 0.3 > 0).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.Variable(tf.zeros([3, 1]), name="w")
        b = tf.Variable(0.0, name="b")
        p = tf.sigmoid(tf.matmul(x, w) + b)
        loss = -tf.reduce_mean(y * tf.log(p + 1e-7) + (1 - y) * tf.log(1 - p + 1e-7))
        gs = tf.train.get_or_create_global_step()
        train = tf.train.GradientDescentOptimizer(1.0).minimize(loss, global_step=gs)
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.cast(p > 0.5, tf.float32), y), tf.float32))
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        losses = []
        for i in range(60):
            batch = slice((i % 4) * 50, (i % 4) * 50 + 50)
            lv, _ = sess.run([loss, train], {x: xs[batch], y: ys[batch]})
            losses.append(lv)
        final_acc = sess.run(acc, {x: xs, y: ys})
        assert sess.run(gs) == 60
    assert losses[0] == pytest.approx(np.log(2), rel=1e-5)
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(losses[-8:]) < np.mean(losses[:8])
    assert final_acc > 0.9


def test_decayed_learning_rate_reads_the_step_before_the_increment():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(10.0, name="w")
        gs = tf.Variable(0, name="global_step", trainable=False)
        assert tf.train.get_global_step() is not None  # found by name
        lr = tf.train.exponential_decay(1.0, gs, 1, 0.5, staircase=True)
        train = tf.train.GradientDescentOptimizer(lr).minimize(w * 1.0, global_step=gs)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(3):
            sess.run(train)
        assert sess.run(gs) == 3
        assert sess.run(w) == pytest.approx(10.0 - (1.0 + 0.5 + 0.25))
