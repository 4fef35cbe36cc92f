"""numpy peer, and the reference every other result is compared with.

Written by hand the way a careful numpy user would: matmuls through BLAS,
in-place updates where natural, the softmax cross-entropy gradient and Adam
(TensorFlow 1.x's form of the bias correction) spelled out.
"""
from __future__ import annotations

import math

import numpy as np

from .harness import Impl

NAME = "numpy"


def elementwise(d, threads):
    x, w, b = d.x, d.w, d.b

    def run():
        y = x * w
        y += b
        np.maximum(y, 0, out=y)
        y *= 0.5
        y += np.tanh(x)
        return y
    return Impl(run)


def matmul(d, threads):
    a, b = d.a, d.b
    return Impl(lambda: a @ b)


def forward(x, params, keep=False):
    """Logits of the dense relu stack (and, with keep, every layer's output)."""
    acts = [x]
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W
        h += b
        if i < len(params) - 1:
            np.maximum(h, 0, out=h)
        acts.append(h)
    return acts if keep else h


def mlp_forward(d, threads):
    x, params = d.x, d.params
    return Impl(lambda: forward(x, params))


class HandTrainer:
    """Forward, backward and an optimizer update of the MLP, in numpy."""

    def __init__(self, d):
        self.params = [(W.copy(), b.copy()) for W, b in d.params]
        self.flat = [p for pair in self.params for p in pair]
        self.x, self.y = d.x, d.y
        self.rows = np.arange(d.x.shape[0])
        self.opt, self.lr = d.opt, d.lr
        self.b1, self.b2, self.eps = d.beta1, d.beta2, d.eps
        self.m = [np.zeros_like(p) for p in self.flat]
        self.v = [np.zeros_like(p) for p in self.flat]
        self.t = 0

    def gradients(self):
        """(mean softmax cross-entropy loss, gradients in the order of `flat`)."""
        acts = forward(self.x, self.params, keep=True)
        z = acts[-1]
        batch = z.shape[0]
        z -= z.max(axis=1, keepdims=True)
        picked = z[self.rows, self.y]
        np.exp(z, out=z)
        s = z.sum(axis=1)
        loss = np.float32(np.mean(np.log(s) - picked))
        z /= s[:, None]                 # softmax
        z[self.rows, self.y] -= 1.0
        z *= np.float32(1.0 / batch)
        g = z
        grads = [None] * len(self.flat)
        for i in range(len(self.params) - 1, -1, -1):
            grads[2 * i] = acts[i].T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ self.params[i][0].T
                g *= acts[i] > 0        # relu'
        return loss, grads

    def step(self):
        loss, grads = self.gradients()
        if self.opt == "sgd":
            lr = np.float32(self.lr)
            for p, g in zip(self.flat, grads):
                g *= lr
                p -= g
            return loss
        self.t += 1
        b1, b2 = np.float32(self.b1), np.float32(self.b2)
        lr_t = np.float32(self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t))
        for p, g, m, v in zip(self.flat, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            g *= g
            g *= 1 - b2
            v += g
            upd = np.sqrt(v)
            upd += np.float32(self.eps)
            np.divide(m, upd, out=upd)
            upd *= lr_t
            p -= upd
        return loss


def train_step(d, threads):
    tr = HandTrainer(d)
    return Impl(tr.step, lambda loss: [np.asarray(loss)] + [p.copy() for p in tr.flat])


def dispatch(d, threads):
    x = d.x
    return Impl(lambda: x * np.float32(2.0) + np.float32(1.0))
