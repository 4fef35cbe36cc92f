"""PyTorch CPU peer: eager ops, nn.Linear layers and torch.optim, as its users
write them. Inputs are wrapped with torch.from_numpy (no copies)."""
from __future__ import annotations

import math

from .harness import Impl, to_numpy

NAME = "PyTorch"


def available():
    import torch
    return torch.__version__


def elementwise(d, threads):
    import torch
    x, w, b = (torch.from_numpy(a) for a in (d.x, d.w, d.b))

    # plain tensors need no autograd bookkeeping, so no inference_mode here
    return Impl(lambda: torch.relu(x * w + b) * 0.5 + torch.tanh(x))


def matmul(d, threads):
    import torch
    a, b = torch.from_numpy(d.a), torch.from_numpy(d.b)

    return Impl(lambda: a @ b)


def _model(torch, params):
    layers = []
    for i, (W, b) in enumerate(params):
        lin = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(params) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers), layers


def mlp_forward(d, threads):
    import torch
    model, _ = _model(torch, d.params)
    model.eval()
    x = torch.from_numpy(d.x)

    def run():
        with torch.inference_mode():
            return model(x)
    return Impl(run)


def train_step(d, threads):
    import torch
    model, layers = _model(torch, d.params)
    x, y = torch.from_numpy(d.x), torch.from_numpy(d.y)
    if d.opt == "adam":
        # TF 1.x adds epsilon to sqrt(v) before v's bias correction, PyTorch after it;
        # this epsilon makes PyTorch's first update TF's (the one the check compares).
        # Later steps differ only for tiny gradients; the speed does not depend on it.
        eps = d.eps / math.sqrt(1.0 - d.beta2)
        opt = torch.optim.Adam(model.parameters(), lr=d.lr, betas=(d.beta1, d.beta2), eps=eps)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=d.lr)
    loss_fn = torch.nn.functional.cross_entropy

    def run():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def outputs(loss):
        out = [to_numpy(loss)]
        for lin in layers:
            if isinstance(lin, torch.nn.Linear):
                out += [to_numpy(lin.weight).T.copy(), to_numpy(lin.bias)]
        return out
    return Impl(run, outputs)


def dispatch(d, threads):
    import torch
    x = torch.from_numpy(d.x.reshape(()).copy())

    return Impl(lambda: x * 2.0 + 1.0)
