"""Recurrent networks, continued: the cell wrappers (dropout, residual,
device), errors for bad input, tf.reverse_sequence against numpy, and
variables, names and outputs equal to TensorFlow's cells with the same
weights (when TensorFlow is installed)."""
import numpy as np
import pytest

import tfcompile as tf
from tfcompile.errors import InvalidArgumentError

from rnn_oracles import numeric_grad

rc = tf.nn.rnn_cell
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


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
