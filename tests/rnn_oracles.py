"""Numpy transcriptions of TF 1.15's RNN cell equations and the helpers the
RNN tests share (weights read back from a session, central differences)."""
import numpy as np

import tfcompile as tf


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
