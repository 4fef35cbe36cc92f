"""Recurrent networks: the tf.nn.rnn_cell cells, static_rnn, dynamic_rnn and
the bidirectional forms. Oracles: numpy transcriptions of TF 1.15's cell
equations run with the weights read back from the session (rnn_oracles.py)
and central differences for the gradients. Wrappers, bad input,
reverse_sequence and TensorFlow's own cells: test_rnn_more.py."""
import numpy as np
import pytest

import tfcompile as tf

from rnn_oracles import (flat, np_basic_lstm, np_basic_rnn, np_gru, np_lstm, np_run,
                         numeric_grad, randomize, weights_of)

rc = tf.nn.rnn_cell
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


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
