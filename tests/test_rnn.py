"""Recurrent networks: tf.nn.rnn_cell cells, static_rnn, dynamic_rnn and the
bidirectional forms, tf.reverse_sequence. Oracles: numpy transcriptions of
TF 1.15's cell equations run with the weights read back from the session,
central differences for the gradients, and (when TensorFlow is installed)
TensorFlow's own cells with the same weights."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.errors import InvalidArgumentError

rc = tf.nn.rnn_cell
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


# ---------------------------------------------------------------- numpy oracles

def sig(x):
    return 1 / (1 + np.exp(-x))


def np_basic_rnn(w, x, s, act=np.tanh):
    out = act(np.concatenate([x, s], 1) @ w["kernel"] + w["bias"])
    return out, out


def np_basic_lstm(w, x, state, forget_bias=1.0, tuple_state=True):
    c, h = state if tuple_state else np.split(state, 2, axis=1)
    z = np.concatenate([x, h], 1) @ w["kernel"] + w["bias"]
    i, j, f, o = np.split(z, 4, axis=1)
    c2 = c * sig(f + forget_bias) + sig(i) * np.tanh(j)
    h2 = np.tanh(c2) * sig(o)
    return h2, ((c2, h2) if tuple_state else np.concatenate([c2, h2], 1))


def np_lstm(w, x, state, peep=False, clip=None, proj=False, proj_clip=None,
            forget_bias=1.0):
    c, m = state
    z = np.concatenate([x, m], 1) @ w["kernel"] + w["bias"]
    i, j, f, o = np.split(z, 4, axis=1)
    if peep:
        c2 = (sig(f + forget_bias + w["w_f_diag"] * c) * c
              + sig(i + w["w_i_diag"] * c) * np.tanh(j))
    else:
        c2 = sig(f + forget_bias) * c + sig(i) * np.tanh(j)
    if clip is not None:
        c2 = np.clip(c2, -clip, clip)
    m2 = (sig(o + w["w_o_diag"] * c2) if peep else sig(o)) * np.tanh(c2)
    if proj:
        m2 = m2 @ w["projection/kernel"]
        if proj_clip is not None:
            m2 = np.clip(m2, -proj_clip, proj_clip)
    return m2, (c2, m2)


def np_gru(w, x, h):
    g = sig(np.concatenate([x, h], 1) @ w["gates/kernel"] + w["gates/bias"])
    r, u = np.split(g, 2, axis=1)
    cand = np.tanh(np.concatenate([x, r * h], 1) @ w["candidate/kernel"]
                   + w["candidate/bias"])
    h2 = u * h + (1 - u) * cand
    return h2, h2


def np_run(step, xs, state, lengths=None):
    """Time-major numpy loop with TF's masking: zero outputs and a frozen state
    past each entry's length."""
    outs = []
    for t, x in enumerate(xs):
        out, new = step(x, state)
        if lengths is not None:
            live = (t < np.asarray(lengths))[:, None]
            out = np.where(live, out, 0)
            new = _map(lambda a, b, live=live: np.where(live, a, b), new, state)
        outs.append(out)
        state = new
    return np.stack(outs), state


def _map(fn, a, b):
    if isinstance(a, tuple):
        return tuple(_map(fn, x, y) for x, y in zip(a, b))
    return fn(a, b)


def weights_of(sess, cell):
    """The cell's variables by their name inside the cell's scope."""
    prefix = cell.scope_name + "/"
    return {v.name[len(prefix):-2]: val for v, val in
            zip(cell.weights, sess.run(cell.weights))}


def randomize(sess, scale=0.5, seed=1):
    """Non-zero values for every variable (biases start at 0 or 1)."""
    rng = np.random.default_rng(seed)
    for v in tf.global_variables():
        v.load(rng.uniform(-scale, scale, v.shape.as_list()).astype(
            v.dtype.as_numpy_dtype), sess)


def numeric_grad(loss_at, v, eps=1e-6):
    """Central differences of loss_at() over the array v, changed in place."""
    num = np.zeros_like(v)
    for idx in np.ndindex(*v.shape):
        old = v[idx]
        v[idx] = old + eps
        lp = loss_at()
        v[idx] = old - eps
        lm = loss_at()
        v[idx] = old
        num[idx] = (lp - lm) / (2 * eps)
    loss_at()
    return num


def flat(x):
    return [x] if not isinstance(x, tuple) else [a for y in x for a in flat(y)]


# ---------------------------------------------------------------- single steps

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_basic_rnn_cell_step(dtype, activation):
    x = tf.placeholder(dtype, [None, 3])
    s = tf.placeholder(dtype, [None, 4])
    cell = rc.BasicRNNCell(4, activation=activation)
    assert cell.state_size == 4 and cell.output_size == 4
    out, new = cell(x, s)
    assert out is new and out.dtype == dtype and out.shape.as_list() == [None, 4]
    xv, sv = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    act = np.tanh if activation is None else (lambda a: np.maximum(a, 0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got = sess.run(out, {x: xv, s: sv})
        want, _ = np_basic_rnn(weights_of(sess, cell), xv, sv, act)
    tol = 1e-5 if dtype == tf.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("state_is_tuple", [True, False])
@pytest.mark.parametrize("forget_bias", [1.0, 0.0])
def test_basic_lstm_cell_step(state_is_tuple, forget_bias):
    cell = rc.BasicLSTMCell(3, forget_bias=forget_bias, state_is_tuple=state_is_tuple)
    x = tf.placeholder(tf.float32, [2, 5])
    zero = cell.zero_state(2, tf.float32)
    if state_is_tuple:
        assert isinstance(zero, rc.LSTMStateTuple) and cell.state_size == (3, 3)
        s0 = (RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)))
        state = rc.LSTMStateTuple(*[tf.constant(a, tf.float32) for a in s0])
    else:
        assert zero.shape.as_list() == [2, 6] and cell.state_size == 6
        s0 = RNG.standard_normal((2, 6))
        state = tf.constant(s0, tf.float32)
    out, new = cell(x, state)
    xv = RNG.standard_normal((2, 5))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        w = weights_of(sess, cell)
        assert w["kernel"].shape == (8, 12) and w["bias"].shape == (12,)
        got = sess.run([out, new], {x: xv})
    want = np_basic_lstm(w, xv, s0, forget_bias, state_is_tuple)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(flat(tuple(got[1]) if state_is_tuple else got[1]), flat(want[1])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("peep,clip,proj,proj_clip", [
    (False, None, None, None), (True, None, None, None), (True, 0.3, None, None),
    (False, None, 2, None), (True, 0.5, 2, 0.1)])
def test_lstm_cell_options(peep, clip, proj, proj_clip):
    cell = rc.LSTMCell(4, use_peepholes=peep, cell_clip=clip, num_proj=proj,
                       proj_clip=proj_clip, forget_bias=0.5)
    out_n = proj or 4
    assert cell.state_size == (4, out_n) and cell.output_size == out_n
    x = tf.placeholder(tf.float64, [None, 3])
    c0, m0 = RNG.standard_normal((3, 4)) * 2, RNG.standard_normal((3, out_n))
    out, new = cell(x, rc.LSTMStateTuple(tf.constant(c0), tf.constant(m0)))
    names = {v.name for v in tf.global_variables()}
    assert ("lstm_cell/w_f_diag:0" in names) == peep
    assert ("lstm_cell/projection/kernel:0" in names) == bool(proj)
    xv = RNG.standard_normal((3, 3)) * 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess, scale=1.0)
        w = weights_of(sess, cell)
        got = sess.run([out, new.c, new.h], {x: xv})
    want_m, (want_c, _) = np_lstm(w, xv, (c0, m0), peep, clip, bool(proj), proj_clip, 0.5)
    np.testing.assert_allclose(got[0], want_m, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], want_c, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[0], got[2])
    if clip is not None:
        assert np.abs(got[1]).max() <= clip
    if proj_clip is not None:
        assert np.abs(got[0]).max() <= proj_clip


def test_lstm_cell_state_not_tuple():
    cell = rc.LSTMCell(3, num_proj=2, state_is_tuple=False)
    assert cell.state_size == 5
    x = tf.placeholder(tf.float32, [2, 4])
    s0 = RNG.standard_normal((2, 5)).astype(np.float32)
    out, new = cell(x, tf.constant(s0))
    assert new.shape.as_list() == [2, 5]
    xv = RNG.standard_normal((2, 4))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got, got_out = sess.run([new, out], {x: xv})
        want_m, (want_c, _) = np_lstm(weights_of(sess, cell), xv, (s0[:, :3], s0[:, 3:]),
                                      proj=True)
    np.testing.assert_allclose(got, np.concatenate([want_c, want_m], 1), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(got_out, want_m, rtol=1e-5, atol=1e-6)


def test_gru_cell_step_and_initial_biases():
    cell = rc.GRUCell(3)
    x = tf.placeholder(tf.float64, [None, 2])
    h0 = RNG.standard_normal((4, 3))
    out, new = cell(x, tf.constant(h0))
    assert out is new
    xv = RNG.standard_normal((4, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = weights_of(sess, cell)
        assert sorted(w) == ["candidate/bias", "candidate/kernel", "gates/bias",
                             "gates/kernel"]
        np.testing.assert_array_equal(w["gates/bias"], np.ones(6))  # TF starts them at 1
        np.testing.assert_array_equal(w["candidate/bias"], np.zeros(3))
        assert w["gates/kernel"].shape == (5, 6) and w["candidate/kernel"].shape == (5, 3)
        randomize(sess)
        got = sess.run(out, {x: xv})
        want, _ = np_gru(weights_of(sess, cell), xv, h0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_multi_rnn_cell_step_and_scopes():
    cells = [rc.BasicLSTMCell(3), rc.GRUCell(2)]
    multi = rc.MultiRNNCell(cells)
    assert multi.state_size == ((3, 3), 2) and multi.output_size == 2
    x = tf.placeholder(tf.float64, [2, 4])
    zero = multi.zero_state(2, tf.float64)
    out, new = multi(x, zero)
    assert isinstance(new, tuple) and isinstance(new[0], rc.LSTMStateTuple)
    assert [v.name for v in multi.weights] == [
        "multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
        "multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
        "multi_rnn_cell/cell_1/gru_cell/gates/kernel:0",
        "multi_rnn_cell/cell_1/gru_cell/gates/bias:0",
        "multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0",
        "multi_rnn_cell/cell_1/gru_cell/candidate/bias:0"]
    xv = RNG.standard_normal((2, 4))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got = sess.run([out, new], {x: xv})
        h1, s1 = np_basic_lstm(weights_of(sess, cells[0]), xv, (np.zeros((2, 3)),) * 2)
        h2, _ = np_gru(weights_of(sess, cells[1]), h1, np.zeros((2, 2)))
    np.testing.assert_allclose(got[0], h2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1][0].c, s1[0], rtol=1e-12, atol=1e-12)


def test_multi_rnn_cell_concatenated_state():
    cells = [rc.BasicLSTMCell(2, state_is_tuple=False) for _ in range(2)]
    multi = rc.MultiRNNCell(cells, state_is_tuple=False)
    assert multi.state_size == 8
    x = tf.placeholder(tf.float32, [3, 2])
    s0 = RNG.standard_normal((3, 8)).astype(np.float32)
    out, new = multi(x, tf.constant(s0))
    assert new.shape.as_list() == [3, 8] and out.shape.as_list() == [3, 2]
    xv = RNG.standard_normal((3, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got = sess.run(new, {x: xv})
        h1, st1 = np_basic_lstm(weights_of(sess, cells[0]), xv, s0[:, :4], tuple_state=False)
        _, st2 = np_basic_lstm(weights_of(sess, cells[1]), h1, s0[:, 4:], tuple_state=False)
    np.testing.assert_allclose(got, np.concatenate([st1, st2], 1), rtol=1e-5, atol=1e-6)


def test_zero_state_shapes_and_dynamic_batch():
    x = tf.placeholder(tf.float32, [None, 3])
    cell = rc.MultiRNNCell([rc.LSTMCell(4, num_proj=2), rc.BasicRNNCell(5)])
    z = cell.zero_state(tf.shape(x)[0], tf.float64)
    assert [t.shape.as_list() for t in flat(z)] == [[None, 4], [None, 2], [None, 5]]
    assert all(t.dtype == tf.float64 for t in flat(z))
    z7 = cell.zero_state(7, tf.float32)
    assert [t.shape.as_list() for t in flat(z7)] == [[7, 4], [7, 2], [7, 5]]
    assert flat(z)[0].name.startswith("MultiRNNCellZeroState/LSTMCellZeroState/")
    with tf.Session() as sess:
        got = sess.run(flat(z), {x: np.zeros((3, 3))})
    assert [g.shape for g in got] == [(3, 4), (3, 2), (3, 5)] and not any(g.any() for g in got)
    assert cell.get_initial_state(batch_size=2, dtype=tf.float32)[1].shape.as_list() == [2, 5]
    with pytest.raises(ValueError, match="batch_size and dtype cannot be None"):
        cell.get_initial_state(batch_size=2)


# ---------------------------------------------------------------- the loops

def _lstm_stack():
    return rc.MultiRNNCell([rc.BasicLSTMCell(3), rc.GRUCell(2)])


@pytest.mark.parametrize("time_major", [False, True])
def test_static_and_dynamic_rnn_agree_with_numpy(time_major):
    T, B, D = 4, 3, 2
    shape = [T, None, D] if time_major else [None, T, D]
    x = tf.placeholder(tf.float64, shape)
    cell = _lstm_stack()
    steps = tf.unstack(x, axis=0 if time_major else 1)
    s_out, s_state = tf.nn.static_rnn(cell, steps, dtype=tf.float64)
    d_out, d_state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float64, time_major=time_major,
                                       parallel_iterations=7, swap_memory=True)
    assert d_out.shape.as_list() == ([T, None, 2] if time_major else [None, T, 2])
    assert len(s_out) == T and s_out[0].shape.as_list() == [None, 2]
    assert d_out.name == ("rnn_1/TensorArrayStack/TensorArrayGatherV3:0" if time_major
                          else "rnn_1/transpose_1:0")
    assert d_state[0].h.name == "rnn_1/while/Exit_4:0"
    assert len(tf.trainable_variables()) == 6   # one set of weights, shared
    xv = RNG.standard_normal((T, B, D) if time_major else (B, T, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got_s, got_ss, got_d, got_ds = sess.run([s_out, s_state, d_out, d_state], {x: xv})
        w0, w1 = (weights_of(sess, c) for c in cell._cells)

    def step(xt, st):
        h1, st1 = np_basic_lstm(w0, xt, st[0])
        h2, st2 = np_gru(w1, h1, st[1])
        return h2, (st1, st2)
    xs = xv if time_major else xv.transpose(1, 0, 2)
    want, want_state = np_run(step, xs, ((np.zeros((B, 3)),) * 2, np.zeros((B, 2))))
    np.testing.assert_allclose(np.stack(got_s), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_d, want if time_major else want.transpose(1, 0, 2),
                               rtol=1e-12, atol=1e-12)
    for a, b, c in zip(flat(got_ss), flat(got_ds), flat(want_state)):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b, c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_length_masks_outputs_and_freezes_state(kind):
    T, B, D, U = 5, 4, 3, 3
    x = tf.placeholder(tf.float32, [None, T, D])
    lengths = tf.placeholder(tf.int64, [None])
    cell = rc.BasicLSTMCell(U) if kind == "lstm" else rc.GRUCell(U)
    init_np = (RNG.standard_normal((B, U)).astype(np.float32),) * (2 if kind == "lstm"
                                                                  else 1)
    init = (rc.LSTMStateTuple(*map(tf.constant, init_np)) if kind == "lstm"
            else tf.constant(init_np[0]))
    out, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, initial_state=init)
    s_out, s_state = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), initial_state=init,
                                      sequence_length=lengths)
    xv = RNG.standard_normal((B, T, D)).astype(np.float32)
    lv = np.array([0, 2, 5, 3])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got, got_state, got_s, got_ss = sess.run([out, state, s_out, s_state],
                                                 {x: xv, lengths: lv})
        w = weights_of(sess, cell)
    if kind == "lstm":
        want, want_state = np_run(lambda a, s: np_basic_lstm(w, a, s), xv.transpose(1, 0, 2),
                                  init_np, lv)
    else:
        want, want_state = np_run(lambda a, s: np_gru(w, a, s), xv.transpose(1, 0, 2),
                                  init_np[0], lv)
    want = want.transpose(1, 0, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.stack(got_s, 1), want, rtol=1e-5, atol=1e-6)
    for t in range(T):
        assert not got[lv <= t, t].any()  # outputs past each length are exactly zero
    for a, b, c in zip(flat(tuple(got_state) if kind == "lstm" else got_state),
                       flat(tuple(got_ss) if kind == "lstm" else got_ss), flat(want_state)):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b, c, rtol=1e-5, atol=1e-6)
    # a sequence of length 0 keeps the initial state
    np.testing.assert_array_equal(flat(tuple(got_state) if kind == "lstm"
                                       else got_state)[0][0], init_np[0][0])


def test_dynamic_rnn_feeds_of_several_batch_sizes():
    x = tf.placeholder(tf.float32, [None, 3, 2])
    out, state = tf.nn.dynamic_rnn(rc.BasicRNNCell(2), x, dtype=tf.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for b in (3, 1, 0):
            o, s = sess.run([out, state], {x: np.ones((b, 3, 2))})
            assert o.shape == (b, 3, 2) and s.shape == (b, 2)
            np.testing.assert_array_equal(o[:, -1], s)


def test_dynamic_rnn_of_zero_steps():
    x = tf.placeholder(tf.float32, [2, 0, 3])
    cell = rc.BasicLSTMCell(4)
    init = cell.zero_state(2, tf.float32)
    out, state = tf.nn.dynamic_rnn(cell, x, initial_state=init)
    assert out.shape.as_list() == [2, 0, 4]
    assert [v.name for v in tf.global_variables()] == ["rnn/basic_lstm_cell/kernel:0",
                                                       "rnn/basic_lstm_cell/bias:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, s = sess.run([out, state], {x: np.zeros((2, 0, 3))})
    assert o.shape == (2, 0, 4) and not s.c.any() and not s.h.any()


def test_nested_inputs_and_custom_cell():
    class SumCell(rc.RNNCell):
        """Adds both inputs into the state; a variable scales them."""

        @property
        def state_size(self):
            return 2

        @property
        def output_size(self):
            return 2

        def call(self, inputs, state):
            a, b = inputs
            w = tf.get_variable("w", [2], initializer=tf.constant_initializer(2.0),
                                dtype=a.dtype)
            new = state + w * (a + b)
            return new, new
    cell = SumCell()
    a = tf.placeholder(tf.float32, [None, 4, 2])
    b = tf.placeholder(tf.float32, [None, 4, 2])
    out, state = tf.nn.dynamic_rnn(cell, (a, b), dtype=tf.float32)
    assert [v.name for v in cell.trainable_weights] == ["rnn/sum_cell/w:0"]
    av, bv = RNG.standard_normal((2, 4, 2)), RNG.standard_normal((2, 4, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, s = sess.run([out, state], {a: av, b: bv})
    np.testing.assert_allclose(o, np.cumsum(2 * (av + bv), axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s, o[:, -1])


def test_variables_are_shared_only_when_asked():
    x = tf.placeholder(tf.float32, [None, 2, 3])
    cell = rc.BasicLSTMCell(2)
    out1, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    out2, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)  # the same cell: same weights
    assert len(tf.global_variables()) == 2
    with pytest.raises(ValueError, match="rnn/basic_lstm_cell/kernel already exists"):
        tf.nn.dynamic_rnn(rc.BasicLSTMCell(2), x, dtype=tf.float32)
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        out3, _ = tf.nn.dynamic_rnn(rc.BasicLSTMCell(2), x, dtype=tf.float32)
    out4, _ = tf.nn.dynamic_rnn(rc.BasicLSTMCell(2), x, dtype=tf.float32, scope="other")
    names = [v.name for v in tf.global_variables()]
    assert names[2:] == ["other/basic_lstm_cell/kernel:0", "other/basic_lstm_cell/bias:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv = RNG.standard_normal((2, 2, 3))
        r1, r2, r3, r4 = sess.run([out1, out2, out3, out4], {x: xv})
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(r1, r3)
    assert not np.allclose(r1, r4)


# ---------------------------------------------------------------- bidirectional

def _np_reverse(x, lengths):
    """[batch, time, ...]: each entry's first lengths[b] steps reversed."""
    out = np.array(x, copy=True)
    for b, n in enumerate(lengths):
        out[b, :n] = x[b, :n][::-1]
    return out


@pytest.mark.parametrize("with_lengths", [False, True])
def test_bidirectional_dynamic_rnn_against_numpy(with_lengths):
    T, B, D = 4, 3, 2
    x = tf.placeholder(tf.float64, [B, T, D])
    lv = np.array([4, 1, 3]) if with_lengths else None
    fw, bw = rc.GRUCell(3), rc.BasicLSTMCell(2)
    (o_fw, o_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=lv, dtype=tf.float64)
    assert o_fw.shape.as_list() == [B, T, 3] and o_bw.shape.as_list() == [B, T, 2]
    assert [v.name for v in tf.global_variables()] == [
        "bidirectional_rnn/fw/gru_cell/gates/kernel:0",
        "bidirectional_rnn/fw/gru_cell/gates/bias:0",
        "bidirectional_rnn/fw/gru_cell/candidate/kernel:0",
        "bidirectional_rnn/fw/gru_cell/candidate/bias:0",
        "bidirectional_rnn/bw/basic_lstm_cell/kernel:0",
        "bidirectional_rnn/bw/basic_lstm_cell/bias:0"]
    xv = RNG.standard_normal((B, T, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        got = sess.run([o_fw, o_bw, s_fw, s_bw], {x: xv})
        wf, wb = weights_of(sess, fw), weights_of(sess, bw)
    lens = lv if with_lengths else np.full(B, T)
    xs = xv.transpose(1, 0, 2)
    want_fw, want_sfw = np_run(lambda a, s: np_gru(wf, a, s), xs, np.zeros((B, 3)), lv)
    rev = _np_reverse(xv, lens).transpose(1, 0, 2)
    want_bw, want_sbw = np_run(lambda a, s: np_basic_lstm(wb, a, s), rev,
                               (np.zeros((B, 2)),) * 2, lv)
    want_bw = _np_reverse(want_bw.transpose(1, 0, 2), lens)
    np.testing.assert_allclose(got[0], want_fw.transpose(1, 0, 2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], want_bw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[2], want_sfw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[3].h, want_sbw[1], rtol=1e-12, atol=1e-12)


def test_static_bidirectional_rnn_equals_the_dynamic_one():
    T = 3
    x = tf.placeholder(tf.float32, [None, T, 2])
    lengths = tf.placeholder(tf.int32, [None])
    fw, bw = rc.BasicRNNCell(2), rc.BasicRNNCell(3)
    outs, s_fw, s_bw = tf.nn.static_bidirectional_rnn(
        fw, bw, tf.unstack(x, axis=1), sequence_length=lengths, dtype=tf.float32)
    assert len(outs) == T and outs[0].shape.as_list() == [None, 5]
    (d_fw, d_bw), (ds_fw, ds_bw) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=lengths, dtype=tf.float32)
    assert len(tf.global_variables()) == 4
    xv = RNG.standard_normal((4, T, 2)).astype(np.float32)
    feed = {x: xv, lengths: [3, 0, 1, 2]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([tf.stack(outs, 1), s_fw, s_bw, tf.concat([d_fw, d_bw], 2), ds_fw,
                        ds_bw], feed)
    for a, b in zip(got[:3], got[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- reverse_sequence

@pytest.mark.parametrize("shape,seq_axis,batch_axis", [
    ((3, 5), 1, 0), ((5, 3), 0, 1), ((3, 4, 2), 1, 0), ((2, 3, 4, 2), 2, 1),
    ((4, 2, 3), 0, -1), ((3, 0, 2), 1, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
def test_reverse_sequence_against_numpy(shape, seq_axis, batch_axis, dtype):
    x = (RNG.integers(-9, 9, shape) > 0 if dtype == np.bool_
         else RNG.integers(-9, 9, shape)).astype(dtype)
    ba, sa = batch_axis % len(shape), seq_axis % len(shape)
    lens = RNG.integers(0, shape[sa] + 1, shape[ba])
    want = np.array(x, copy=True)
    for b, n in enumerate(lens):
        src = np.take(x, [b], axis=ba)
        part = np.flip(np.take(src, np.arange(n), axis=sa), axis=sa)
        idx = [slice(None)] * len(shape)
        idx[ba] = slice(b, b + 1)
        idx[sa] = slice(0, n)
        want[tuple(idx)] = part
    p = tf.placeholder(tf.as_dtype(dtype), [None] * len(shape))
    out = tf.reverse_sequence(p, tf.constant(lens, tf.int64), seq_axis=seq_axis,
                              batch_axis=batch_axis)
    with tf.Session() as sess:
        got = sess.run(out, {p: x})
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_reverse_sequence_checks():
    x = tf.placeholder(tf.float32, [3, 4])
    lens = tf.placeholder(tf.int32, [3])
    out = tf.reverse_sequence(x, lens, seq_dim=1, batch_dim=0)   # TF 1.x spellings
    assert out.shape.as_list() == [3, 4] and out.op.type == "ReverseSequence"
    with tf.Session() as sess:
        for bad in ([1, 5, 0], [0, -1, 2]):
            with pytest.raises(InvalidArgumentError, match="seq_lengths value must be in"):
                sess.run(out, {x: np.zeros((3, 4)), lens: bad})
    with pytest.raises(ValueError, match="must not equal batch_dim"):
        tf.reverse_sequence(x, [1, 1, 1], seq_axis=0, batch_axis=0)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        tf.reverse_sequence(x, [1, 1], seq_axis=1)
    with pytest.raises(TypeError, match="seq_lengths"):
        tf.reverse_sequence(x, [1.0, 1.0, 1.0], seq_axis=1)
    with pytest.raises(ValueError, match="seq_dim must be < input rank"):
        tf.reverse_sequence(x, [1, 1, 1], seq_axis=2)


def test_reverse_sequence_gradient():
    x = tf.placeholder(tf.float64, [3, 4, 2])
    out = tf.reverse_sequence(x * x, np.array([2, 0, 4]), seq_axis=1)
    loss = tf.reduce_sum(out * RNG.standard_normal((3, 4, 2)))
    g = tf.gradients(loss, x)[0]
    xv = RNG.standard_normal((3, 4, 2))
    with tf.Session() as sess:
        got = sess.run(g, {x: xv})
        num = numeric_grad(lambda: sess.run(loss, {x: xv}), xv)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- gradients, training

def test_lstm_gradients_by_central_differences():
    """3 steps of an LSTM with peepholes and a projection, float64: d loss / d
    (inputs, initial state, every weight), against central differences."""
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float64, [2, 3, 2])
    c0 = tf.placeholder(tf.float64, [2, 3])
    h0 = tf.placeholder(tf.float64, [2, 2])
    cell = rc.LSTMCell(3, use_peepholes=True, num_proj=2)
    out, state = tf.nn.dynamic_rnn(cell, x, initial_state=rc.LSTMStateTuple(c0, h0),
                                   sequence_length=[3, 2])
    r1, r2 = RNG.standard_normal((2, 3, 2)), RNG.standard_normal((2, 3))
    loss = tf.reduce_sum(out * r1) + tf.reduce_sum(state.c * r2)
    wrt_ph = [x, c0, h0]
    wrt_var = list(cell.weights)
    assert len(wrt_var) == 6
    grads = tf.gradients(loss, wrt_ph + wrt_var)
    vals = [RNG.standard_normal(p.shape.as_list()) for p in wrt_ph]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        randomize(sess)
        feed = dict(zip(wrt_ph, vals))
        got = sess.run(grads, feed)
        for p, v, g in zip(wrt_ph, vals, got[:3]):
            num = numeric_grad(lambda: sess.run(loss, feed), v)
            np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-7, err_msg=p.name)
        for var, g in zip(wrt_var, got[3:]):
            w = sess.run(var)
            num = numeric_grad(lambda var=var, w=w: (var.load(w, sess),
                                                     sess.run(loss, feed))[1], w)
            np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-7, err_msg=var.name)


def test_gru_and_bidirectional_input_gradients():
    """Through both directions, the masking selects and reverse_sequence."""
    x = tf.placeholder(tf.float64, [2, 3, 2])
    with tf.variable_scope("g", initializer=tf.random_uniform_initializer(-1, 1, seed=2)):
        outs, _ = tf.nn.bidirectional_dynamic_rnn(
            rc.GRUCell(2), rc.BasicRNNCell(2), x, sequence_length=np.array([3, 1]),
            dtype=tf.float64)
    rs = [RNG.standard_normal(o.shape.as_list()) for o in outs]
    loss = tf.add_n([tf.reduce_sum(o * r) for o, r in zip(outs, rs)])
    g = tf.gradients(loss, x)[0]
    xv = RNG.standard_normal((2, 3, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(g, {x: xv})
        num = numeric_grad(lambda: sess.run(loss, {x: xv}), xv)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-7)
    assert not got[1, 1:].any()  # steps past the second entry's length don't matter


def test_training_an_lstm_lowers_the_loss():
    """Learn the running mean of a noisy sequence: the loss must fall well."""
    tf.set_random_seed(0)
    rng = np.random.default_rng(5)
    xv = rng.standard_normal((16, 6, 1)).astype(np.float32)
    yv = np.cumsum(xv, axis=1) / np.arange(1, 7)[None, :, None]
    x = tf.placeholder(tf.float32, [None, 6, 1])
    y = tf.placeholder(tf.float32, [None, 6, 1])
    out, _ = tf.nn.dynamic_rnn(rc.LSTMCell(8, num_proj=1), x, dtype=tf.float32)
    loss = tf.reduce_mean(tf.square(out - y))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xv, y: yv})
        for _ in range(150):
            sess.run(train, {x: xv, y: yv})
        last = sess.run(loss, {x: xv, y: yv})
    assert last < 0.1 * first, (first, last)


# ---------------------------------------------------------------- wrappers

class IdentityCell(rc.RNNCell):
    """Its output is its input; the state passes through (shows input dropout)."""

    def __init__(self, depth):
        super().__init__()
        self._depth = depth

    @property
    def state_size(self):
        return self._depth

    @property
    def output_size(self):
        return self._depth

    def call(self, inputs, state):
        return inputs, state


def _dropped_or_scaled(got, full, keep):
    """Every element is 0 or full / keep; returns the fraction kept."""
    kept = got != 0
    np.testing.assert_allclose(got[kept], (full / keep)[kept], rtol=1e-5)
    return kept.mean()


def test_dropout_wrapper_output_and_state():
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [400, 3])
    base = rc.BasicLSTMCell(5)
    cell = rc.DropoutWrapper(base, output_keep_prob=0.6, state_keep_prob=0.5, seed=7)
    assert cell.state_size == base.state_size and cell.output_size == 5
    zero = cell.zero_state(400, tf.float32)
    out, state = cell(x, zero)
    ref_out, ref_state = base(x, zero)
    assert len(tf.global_variables()) == 2          # the wrapper adds no variables
    assert tf.global_variables()[0].name == "basic_lstm_cell/kernel:0"
    xv = RNG.standard_normal((400, 3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([out, state, ref_out, ref_state], {x: xv})
        again = sess.run(out, {x: xv})
    assert 0.5 < _dropped_or_scaled(got[0], got[2], 0.6) < 0.7
    np.testing.assert_array_equal(got[1].c, got[3].c)   # the memory c is never dropped
    assert 0.4 < _dropped_or_scaled(got[1].h, got[3].h, 0.5) < 0.6
    assert not np.array_equal(got[0], again)             # fresh masks every run


def test_dropout_wrapper_inputs_seeded_and_variational():
    def build(seed, variational=False, dynamic=False):
        with tf.Graph().as_default():
            tf.set_random_seed(4)
            x = tf.placeholder(tf.float32, [300, 3, 4])
            cell = rc.DropoutWrapper(IdentityCell(4), input_keep_prob=0.5, seed=seed,
                                     variational_recurrent=variational, input_size=4,
                                     dtype=tf.float32)
            if dynamic:
                outs = tf.unstack(tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)[0], axis=1)
            else:
                outs, _ = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
            with tf.Session() as sess:
                return sess.run(outs, {x: np.ones((300, 3, 4))})
    a, b, c = build(11), build(11), build(12)
    for o in a:
        assert 0.4 < _dropped_or_scaled(o, np.ones((300, 4)), 0.5) < 0.6
    np.testing.assert_array_equal(np.stack(a), np.stack(b))   # same seeds, same masks
    assert not np.array_equal(np.stack(a), np.stack(c))
    # static_rnn: one op per step with the same seeds, so TF repeats the mask;
    # dynamic_rnn: TF's one loop op draws a new mask every step
    np.testing.assert_array_equal(a[0], a[1])
    d = build(11, dynamic=True)
    np.testing.assert_array_equal(d[0], a[0])
    assert not np.array_equal(d[0], d[1]) and not np.array_equal(d[1], d[2])
    np.testing.assert_array_equal(np.stack(d), np.stack(build(11, dynamic=True)))
    for dynamic in (False, True):
        v = build(11, variational=True, dynamic=dynamic)
        for o in v:   # one mask [1, depth] for every step and batch entry
            np.testing.assert_array_equal(o, v[0])
            np.testing.assert_array_equal(o, np.broadcast_to(o[:1], o.shape))
            assert set(np.unique(o)) <= {0.0, 2.0}


def test_dropout_wrapper_keep_prob_tensor_and_checks():
    keep = tf.placeholder_with_default(1.0, [])
    x = tf.placeholder(tf.float32, [50, 2])
    cell = rc.DropoutWrapper(IdentityCell(2), output_keep_prob=keep)
    out, _ = cell(x, cell.zero_state(50, tf.float32))
    xv = RNG.standard_normal((50, 2)).astype(np.float32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {x: xv}), xv)
        assert 0.1 < _dropped_or_scaled(sess.run(out, {x: xv, keep: 0.25}), xv, 0.25) < 0.45
    with pytest.raises(ValueError, match="output_keep_prob must be between 0 and 1"):
        rc.DropoutWrapper(IdentityCell(2), output_keep_prob=1.5)
    with pytest.raises(ValueError, match="dtype must be provided"):
        rc.DropoutWrapper(IdentityCell(2), variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size must be provided"):
        rc.DropoutWrapper(IdentityCell(2), input_keep_prob=0.5, variational_recurrent=True,
                          dtype=tf.float32)
    with pytest.raises(TypeError, match="not an RNNCell"):
        rc.DropoutWrapper(lambda a, b: a)


def test_residual_and_device_wrappers():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    base = rc.GRUCell(4)
    out_r, _ = tf.nn.dynamic_rnn(rc.ResidualWrapper(base), x, dtype=tf.float32)
    out_b, _ = tf.nn.dynamic_rnn(rc.DeviceWrapper(base, "/cpu:0"), x, dtype=tf.float32)
    out_f, _ = tf.nn.dynamic_rnn(rc.ResidualWrapper(base, lambda i, o: o - i), x,
                                 dtype=tf.float32)
    assert tf.global_variables()[0].name == "rnn/gru_cell/gates/kernel:0"
    assert len(tf.global_variables()) == 4
    xv = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        r, b, f = sess.run([out_r, out_b, out_f], {x: xv})
    # a residual adds the step's input to the output; the state is the cell's own
    np.testing.assert_allclose(r, b + xv, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(f, b - xv, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="not compatible"):
        tf.nn.dynamic_rnn(rc.ResidualWrapper(rc.GRUCell(3)), x, dtype=tf.float32,
                          scope="bad")


# ---------------------------------------------------------------- bad input

def test_errors_name_the_problem():
    x = tf.placeholder(tf.float32, [None, None, 2])
    with pytest.raises(ValueError, match="give the input placeholder a fixed time"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), x, dtype=tf.float32)
    x = tf.placeholder(tf.float32, [None, 3, 2])
    with pytest.raises(ValueError, match="dtype must be specified"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), x)
    with pytest.raises(ValueError, match="only supports floating point inputs, but saw "
                                         "dtype: int32"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), tf.placeholder(tf.int32, [None, 3, 2]),
                          dtype=tf.float32)
    with pytest.raises(ValueError, match="Input size .* must be accessible"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), tf.placeholder(tf.float32, [2, 3, None]),
                          dtype=tf.float32)
    with pytest.raises(ValueError, match="at least rank 3"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), tf.placeholder(tf.float32, [4, 3, 2])[0],
                          dtype=tf.float32, time_major=True)
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), x, sequence_length=[[1]], dtype=tf.float32)
    with pytest.raises(TypeError, match="sequence_length must be an integer"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), x, sequence_length=[1.0], dtype=tf.float32)
    with pytest.raises(ValueError, match="sequence_length has 3 entries but the batch "
                                         "size is 2"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), tf.placeholder(tf.float32, [2, 3, 2]),
                          sequence_length=[1, 2, 3], dtype=tf.float32)
    with pytest.raises(TypeError, match="inputs must be a sequence"):
        tf.nn.static_rnn(rc.GRUCell(2), x, dtype=tf.float32)
    with pytest.raises(ValueError, match="inputs must not be empty"):
        tf.nn.static_rnn(rc.GRUCell(2), [], dtype=tf.float32)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        tf.nn.dynamic_rnn(object(), x, dtype=tf.float32)
    with pytest.raises(ValueError, match="Must specify at least one cell"):
        rc.MultiRNNCell([])
    with pytest.raises(ValueError, match="state_is_tuple is not set"):
        rc.MultiRNNCell([rc.BasicLSTMCell(2)], state_is_tuple=False)
    with pytest.raises(ValueError, match="num_units must be a positive integer"):
        rc.BasicLSTMCell(0)
    with pytest.raises(ValueError, match="floating point"):
        rc.GRUCell(2, dtype=tf.int32)


def test_sequence_length_of_the_wrong_size_fails_the_run():
    x = tf.placeholder(tf.float32, [None, 3, 2])
    lengths = tf.placeholder(tf.int32, [None])
    out, _ = tf.nn.dynamic_rnn(rc.GRUCell(2), x, sequence_length=lengths, dtype=tf.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(InvalidArgumentError, match=r"Expected shape for Tensor "
                           r"rnn/sequence_length:0 is \] \[3\] \[ but saw shape: \] \[2\]"):
            sess.run(out, {x: np.zeros((3, 3, 2)), lengths: [1, 2]})
        assert sess.run(out, {x: np.zeros((2, 3, 2)), lengths: [1, 2]}).shape == (2, 3, 2)


# ---------------------------------------------------------------- TensorFlow's cells

def _tf_program(lib, cells, weights=None):
    """The same RNNs under either library; returns ({variable: (shape, value)},
    {fetch: value}, {fetch: tensor name})."""
    T, D = 4, 3
    rng = np.random.default_rng(7)
    with lib.Graph().as_default():
        x = lib.placeholder(lib.float32, [None, T, D], name="x")
        lens = lib.placeholder(lib.int32, [None], name="lens")
        out = {}
        multi = cells.MultiRNNCell([cells.BasicLSTMCell(4), cells.GRUCell(3)])
        o, s = lib.nn.dynamic_rnn(multi, x, sequence_length=lens, dtype=lib.float32)
        out.update(multi_out=o, multi_c=s[0].c, multi_h=s[0].h, multi_gru=s[1])
        lstm = cells.LSTMCell(3, use_peepholes=True, num_proj=2, cell_clip=0.8,
                              proj_clip=0.6, forget_bias=0.5)
        o, s = lib.nn.static_rnn(lstm, lib.unstack(x, axis=1), sequence_length=lens,
                                 dtype=lib.float32)
        out.update(static_out=lib.stack(o, 1), static_c=s.c, static_m=s.h)
        xt = lib.transpose(x, [1, 0, 2])
        (f, b), (sf, sb) = lib.nn.bidirectional_dynamic_rnn(
            cells.BasicRNNCell(3, activation=lib.nn.relu), cells.LSTMCell(2), xt,
            sequence_length=lens, time_major=True, dtype=lib.float32)
        out.update(bi_fw=f, bi_bw=b, bi_sf=sf, bi_sb=sb.h)
        o, sf, sb = lib.nn.static_bidirectional_rnn(
            cells.GRUCell(2), cells.BasicLSTMCell(2, state_is_tuple=False),
            lib.unstack(x, axis=1), dtype=lib.float32, scope="sbi")
        out.update(sbi_out=lib.stack(o, 1), sbi_sf=sf, sbi_sb=sb)
        o, s = lib.nn.dynamic_rnn(cells.ResidualWrapper(cells.GRUCell(D)), x,
                                  dtype=lib.float32, scope="res")
        out.update(res_out=o, res_state=s)
        variables = lib.global_variables()
        feed = {x: rng.standard_normal((3, T, D)).astype(np.float32), lens: [4, 0, 2]}
        with lib.Session() as sess:
            sess.run(lib.global_variables_initializer())
            if weights is not None:
                for v in variables:
                    v.load(weights[v.name][1], sess)
            else:   # non-zero biases too
                for v in variables:
                    v.load(rng.uniform(-0.8, 0.8, v.shape.as_list()).astype(np.float32),
                           sess)
            vals = dict(zip([v.name for v in variables], sess.run(variables)))
            got = sess.run(out, feed)
        return ({v.name: (v.shape.as_list(), vals[v.name]) for v in variables}, got,
                {k: t.name for k, t in out.items()})


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_same_variables_and_outputs_as_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    rnn_cell_impl = pytest.importorskip("tensorflow.python.ops.rnn_cell_impl")
    theirs = _tf_program(tf_real.compat.v1, rnn_cell_impl)
    ours = _tf_program(tf, rc, theirs[0])
    assert list(ours[0]) == list(theirs[0])       # names, in creation order
    assert [s for s, _ in ours[0].values()] == [s for s, _ in theirs[0].values()]
    for k in theirs[1]:
        np.testing.assert_allclose(ours[1][k], theirs[1][k], rtol=2e-5, atol=2e-6,
                                   err_msg=k)
    # tensor names too, but for TF 2's loops and conds (while_v2, TensorList),
    # which TF 1.15 named rnn/while/Exit_3 as ours are
    same = {k: n for k, n in theirs[2].items()
            if not any(w in n for w in ("while/", "cond", "TensorArrayV2"))}
    assert len(same) >= 6 and same == {k: ours[2][k] for k in same}
