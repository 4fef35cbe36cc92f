"""Shared by the op test files: gradients checked against central differences."""
import numpy as np

import tfcompile as tf


def check_gradients(build, arrays, seed=0, eps=1e-6, tol=1e-6):
    """build(placeholders) -> list of outputs; compares d(sum_i <out_i, r_i>)/d(input)
    with central differences, element by element (float64)."""
    tf.reset_default_graph()
    rng = np.random.default_rng(seed)
    phs = [tf.placeholder(tf.float64, a.shape) for a in arrays]
    outs = build(*phs)
    loss = tf.add_n([tf.reduce_sum(o * tf.constant(rng.standard_normal(
        o.shape.as_list()))) for o in outs])
    grads = tf.gradients(loss, phs)
    vals = [a.astype(np.float64).copy() for a in arrays]
    with tf.Session() as s:
        got = s.run(grads, dict(zip(phs, vals)))
        for p, v, g in zip(phs, vals, got):
            num = np.zeros_like(v)
            for idx in np.ndindex(*v.shape):
                old = v[idx]
                v[idx] = old + eps
                lp = s.run(loss, dict(zip(phs, vals)))
                v[idx] = old - eps
                lm = s.run(loss, dict(zip(phs, vals)))
                v[idx] = old
                num[idx] = (lp - lm) / (2 * eps)
            np.testing.assert_allclose(g, num, rtol=tol, atol=tol, err_msg=p.name)
