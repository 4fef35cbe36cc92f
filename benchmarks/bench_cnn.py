"""The deep MNIST CNN (examples/mnist_cnn.py) against PyTorch CPU and onnxruntime.

    python benchmarks/bench_cnn.py [--batch 64] [--threads 2] [--repeats 15] [--profile]

Two rows, the same weights in every library:

  train step   forward, backward and Adam (lr 1e-3) in one call, dropout
               keep_prob 0.5: tfcompile Session.run of the train op vs
               PyTorch (nn.Sequential, cross_entropy, backward, optim.Adam)
  inference    logits of a batch (no dropout): tfcompile Session.run vs
               PyTorch (eval, inference_mode) vs onnxruntime (a model built
               with onnx.helper: Conv, Relu, MaxPool, Flatten, Gemm)

Before timing, outputs are checked: the logits of each library against a
numpy forward pass, and one training step without dropout (the loss, the
gradients and the weights after the Adam update) of tfcompile against
PyTorch. PyTorch and onnxruntime run NCHW; the first dense layer's rows are
permuted to their channel-major flatten order, so the function is the same.
Times are medians of `repeats` calls, the libraries taking turns of
several calls after a short pause (the machine may be shared; calls of two
libraries interleaved one by one slow each other down); the fastest call is
printed under each median. Ratios are peer / tfcompile, > 1 meaning
tfcompile is faster. Threads: TFC_NUM_THREADS (set before tfcompile loads),
torch.set_num_threads and onnxruntime's intra_op_num_threads.

--profile also times the network's pieces one by one in both tfcompile and
PyTorch (each a graph of its own, so a piece's time includes one call's
overhead): each convolution as a whole and, for scale, the matmul an im2col
lowering would run (tfcompile computes convolutions without building the
patch matrix: ir/codegen/conv_nests.py), pooling,
the dense layers, the backward ops (Conv2DBackpropFilter / Input,
MaxPoolGrad), two chains as fusion sees them in the step, the inference
whole and split at pool1's output, and numpy's copy of conv2's patches (a
cost an im2col lowering would add). TFC_DUMP=<dir> writes the kernels the
compiler made.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _early_threads(argv):
    """tfcompile's thread pool reads TFC_NUM_THREADS when it starts: set it first."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--threads", type=int, default=2)
    n = ap.parse_known_args(argv)[0].threads
    os.environ["TFC_NUM_THREADS"] = str(n)
    return n


_early_threads(sys.argv[1:])

import numpy as np  # noqa: E402

import tfcompile as tf  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "examples"))
import mnist_cnn  # noqa: E402

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
# (name, shape) of the trainable variables, in the order tf.layers makes them
PARAMS = (("conv2d/kernel", (5, 5, 1, 32)), ("conv2d/bias", (32,)),
          ("conv2d_1/kernel", (5, 5, 32, 64)), ("conv2d_1/bias", (64,)),
          ("dense/kernel", (3136, 1024)), ("dense/bias", (1024,)),
          ("dense_1/kernel", (1024, 10)), ("dense_1/bias", (10,)))


# ---------------------------------------------------------------- data

def make_params(seed=0):
    """He-scaled kernels and small biases, float32, TF's layouts."""
    rng = np.random.default_rng(seed)
    out = []
    for name, shape in PARAMS:
        if name.endswith("kernel"):
            fan_in = int(np.prod(shape[:-1]))
            w = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
        else:
            w = rng.standard_normal(shape) * 0.01
        out.append(w.astype(np.float32))
    return out


def flatten_perm():
    """Rows of TF's NHWC flatten (h, w, c) in NCHW flatten order (c, h, w)."""
    return np.arange(7 * 7 * 64).reshape(7, 7, 64).transpose(2, 0, 1).reshape(-1)


def numpy_logits(params, x):
    """The network's forward pass in numpy (the reference for every library)."""
    k1, b1, k2, b2, w3, b3, w4, b4 = (p.astype(np.float64) for p in params)

    def conv_same(h, k):
        p = k.shape[0] // 2
        hp = np.pad(h, ((0, 0), (p, p), (p, p), (0, 0)))
        win = np.lib.stride_tricks.sliding_window_view(hp, k.shape[:2], axis=(1, 2))
        return np.einsum("nhwcij,ijco->nhwo", win, k, optimize=True)

    def pool(h):
        n, hh, ww, c = h.shape
        return h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))
    h = x.astype(np.float64).reshape(-1, 28, 28, 1)
    h = pool(np.maximum(conv_same(h, k1) + b1, 0))
    h = pool(np.maximum(conv_same(h, k2) + b2, 0))
    h = np.maximum(h.reshape(len(x), -1) @ w3 + b3, 0)
    return h @ w4 + b4


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return math.inf
    scale = float(np.max(np.abs(b))) or 1.0
    return float(np.max(np.abs(a - b))) / scale


# ---------------------------------------------------------------- tfcompile

class TfcNet:
    """The example's graph (constant learning rate) with `params` loaded."""

    def __init__(self, params):
        self.model = m = mnist_cnn.Model(lr=LR, decay=1.0)
        with m.graph.as_default():
            self.vars = tf.trainable_variables()
            self.grads = tf.gradients(m.loss, self.vars)
        names = [v.op.name for v in self.vars]
        if names != [n for n, _ in PARAMS]:
            raise RuntimeError(f"the example's variables changed: {names}")
        self.sess = tf.Session(graph=m.graph)
        self.sess.run(m.init)
        for v, p in zip(self.vars, params):
            v.load(p, self.sess)

    def train_step(self, x, y, keep_prob=0.5):
        m = self.model
        return self.sess.run([m.train_op, m.loss], {m.x: x, m.y: y, m.keep_prob: keep_prob})[1]

    def logits(self, x):
        return self.sess.run(self.model.logits, {self.model.x: x})

    def gradients(self, x, y):
        m = self.model
        return self.sess.run(self.grads, {m.x: x, m.y: y, m.keep_prob: 1.0})

    def params(self):
        return self.sess.run(self.vars)


# ---------------------------------------------------------------- PyTorch

def torch_net(params, dropout=0.5):
    """nn.Sequential of the same network, NCHW, weights copied from `params`."""
    import torch
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(dropout),
                        nn.Linear(1024, 10))
    k1, b1, k2, b2, w3, b3, w4, b4 = params
    with torch.no_grad():
        for layer, w, b in ((net[0], k1.transpose(3, 2, 0, 1), b1),
                            (net[3], k2.transpose(3, 2, 0, 1), b2),
                            (net[7], w3[flatten_perm()].T, b3), (net[10], w4.T, b4)):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            layer.bias.copy_(torch.from_numpy(b))
    return net


def to_tf_layouts(tensors):
    """The torch net's 8 parameter (or gradient) tensors in TF's layouts."""
    k1, b1, k2, b2, w3, b3, w4, b4 = (t.detach().numpy() for t in tensors)
    w3_tf = np.empty((3136, 1024), np.float32)
    w3_tf[flatten_perm()] = w3.T
    return [k1.transpose(2, 3, 1, 0), b1, k2.transpose(2, 3, 1, 0), b2,
            w3_tf, b3, w4.T, b4]


def torch_params(net):
    return to_tf_layouts(net.parameters())


def torch_grads(net):
    return to_tf_layouts(p.grad for p in net.parameters())


def torch_adam(net):
    import torch
    # TF 1.x adds epsilon to sqrt(v) before the bias correction, PyTorch after:
    # this epsilon gives TF's update on the first step (the one checked).
    return torch.optim.Adam(net.parameters(), lr=LR, betas=(BETA1, BETA2),
                            eps=EPS / math.sqrt(1.0 - BETA2))


def torch_train_fn(net, opt, x, y):
    import torch
    xt = torch.from_numpy(x.reshape(-1, 1, 28, 28))
    yt = torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
        return loss
    return step


def torch_infer_fn(net, x):
    import torch
    xt = torch.from_numpy(x.reshape(-1, 1, 28, 28))
    net.eval()

    def run():
        with torch.inference_mode():
            return net(xt)
    return run


# ---------------------------------------------------------------- onnxruntime

def onnx_session(params, batch, threads):
    """An onnxruntime session of the network, built node by node."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    k1, b1, k2, b2, w3, b3, w4, b4 = params
    inits = {"shape": np.array([-1, 1, 28, 28], np.int64),
             "k1": k1.transpose(3, 2, 0, 1), "b1": b1, "k2": k2.transpose(3, 2, 0, 1),
             "b2": b2, "w3": w3[flatten_perm()], "b3": b3, "w4": w4, "b4": b4}
    conv = dict(kernel_shape=[5, 5], pads=[2, 2, 2, 2])
    pool = dict(kernel_shape=[2, 2], strides=[2, 2])
    node = helper.make_node
    nodes = [node("Reshape", ["x", "shape"], ["x4"]),
             node("Conv", ["x4", "k1", "b1"], ["c1"], **conv), node("Relu", ["c1"], ["r1"]),
             node("MaxPool", ["r1"], ["p1"], **pool),
             node("Conv", ["p1", "k2", "b2"], ["c2"], **conv), node("Relu", ["c2"], ["r2"]),
             node("MaxPool", ["r2"], ["p2"], **pool),
             node("Flatten", ["p2"], ["f"], axis=1),
             node("Gemm", ["f", "w3", "b3"], ["d1"]), node("Relu", ["d1"], ["h"]),
             node("Gemm", ["h", "w4", "b4"], ["logits"])]
    graph = helper.make_graph(
        nodes, "deep_mnist",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 784])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 10])],
        [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------- timing

def median_times(fns, repeats, rounds=3, gap_s=0.2):
    """{name: median seconds of `repeats` calls}.

    The libraries take turns, `rounds` turns each, a turn being a run of
    calls after a pause of gap_s, whose first (warm-up) call is not counted:
    calls of two libraries interleaved one by one slow each other down, as
    each one's worker threads still spin for a while after its call."""
    times = {k: [] for k in fns}
    per_turn = max(1, -(-repeats // rounds))
    for _ in range(rounds):
        for k, f in fns.items():
            time.sleep(gap_s)
            f()
            for _ in range(per_turn):
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
    return ({k: float(np.median(v)) for k, v in times.items()},
            {k: float(np.min(v)) for k, v in times.items()})


def print_row(label, times, batch):
    """Medians side by side with ratios; then the fastest calls, as a gauge of
    how much the machine's other load moved the medians."""
    for what, t in zip(("median", "best"), times):
        base = t["tfcompile"]
        cells = []
        for k, v in t.items():
            ratio = "" if k == "tfcompile" else f" ({v / base:.2f}x)"
            cells.append(f"{k} {v * 1e3:8.1f} ms{ratio}")
        print(f"{label if what == 'median' else '':12s} {what:6s} " + "   ".join(cells)
              + (f"   [tfcompile {batch / base:.0f} images/s]" if what == "median" else ""))


# ---------------------------------------------------------------- checks

def check(params, x, y, threads):
    """Every library computes the same function; raises if not."""
    import torch
    want = numpy_logits(params, x)
    tfc = TfcNet(params)
    net = torch_net(params, dropout=0.0)
    ort = onnx_session(params, len(x), threads)
    got = {"tfcompile": tfc.logits(x), "PyTorch": torch_infer_fn(net, x)().numpy(),
           "onnxruntime": ort.run(None, {"x": x})[0]}
    errs = {k: rel_err(v, want) for k, v in got.items()}
    print("inference logits vs numpy (max |diff| / max |logit|): "
          + ", ".join(f"{k} {e:.1e}" for k, e in errs.items()))
    bad = [k for k, e in errs.items() if not e <= 1e-4]
    # one training step without dropout: loss, gradients, weights after Adam
    net.train()
    grads_tfc = tfc.gradients(x, y)
    loss_tfc = tfc.train_step(x, y, keep_prob=1.0)
    after_tfc = tfc.params()
    opt = torch_adam(net)
    opt.zero_grad()
    loss_t = torch.nn.functional.cross_entropy(
        net(torch.from_numpy(x.reshape(-1, 1, 28, 28))), torch.from_numpy(y))
    loss_t.backward()
    grads_t = torch_grads(net)
    opt.step()
    after_t = torch_params(net)
    e_loss = rel_err(loss_tfc, loss_t.item())
    e_grad = max(rel_err(a, b) for a, b in zip(grads_tfc, grads_t))
    # Adam's first update is lr * g / (|g| + 3.2e-7): about lr * sign(g), but for
    # |g| near 3e-7 a rounding difference of g moves it by a good part of lr.
    # Compared in units of lr where |g| >= 1e-5 (there a change of g by 1e-7
    # moves it by < 1e-3 lr).
    e_upd, checked, total = 0.0, 0, 0
    for a, b, p, g in zip(after_tfc, after_t, params, grads_t):
        mask = np.abs(g) >= 1e-5
        if mask.any():
            e_upd = max(e_upd, float(np.max(np.abs((a - p) - (b - p))[mask])) / LR)
        checked, total = checked + int(mask.sum()), total + g.size
    print(f"one Adam step vs PyTorch: loss {e_loss:.1e}, gradients {e_grad:.1e} "
          f"(relative), update {e_upd:.1e} (in units of lr, {checked / total:.1%} of "
          "the weights: those with |gradient| >= 1e-5)")
    if not (e_loss <= 1e-5 and e_grad <= 1e-3 and e_upd <= 1e-2):
        bad.append("training step")
    tfc.sess.close()
    if bad:
        raise SystemExit(f"outputs differ: {', '.join(bad)}; not timing")


# ---------------------------------------------------------------- profile

def _piece(build, feeds_np):
    """A tfcompile graph of one piece: build(placeholders) -> fetch; returns run()."""
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float32, a.shape) for a in feeds_np]
        fetch = build(*phs)
    sess = tf.Session(graph=g)
    feed = dict(zip(phs, feeds_np))
    sess.run(fetch, feed)
    return lambda: sess.run(fetch, feed)


def profile(params, x, repeats):
    """Times each piece of the network in tfcompile and PyTorch."""
    import torch
    import torch.nn.functional as F
    rng = np.random.default_rng(1)
    n = len(x)
    k1, b1, k2, b2, w3, b3 = params[:6]

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    x4 = x.reshape(n, 28, 28, 1)
    h1 = np.abs(r(n, 14, 14, 32))                # conv2's input (pooled relu)
    c1 = r(n, 28, 28, 32)                        # conv1's output, pool1's input
    c2 = r(n, 14, 14, 64)
    d2 = r(n, 14, 14, 64)                        # gradient at conv2's output
    d1 = r(n, 28, 28, 32)
    f = np.abs(r(n, 3136))
    t = {k: torch.from_numpy(np.ascontiguousarray(v.transpose(0, 3, 1, 2)))
         for k, v in dict(x4=x4, h1=h1, c1=c1, c2=c2, d2=d2, d1=d1).items()}
    tk1 = torch.from_numpy(np.ascontiguousarray(k1.transpose(3, 2, 0, 1)))
    tk2 = torch.from_numpy(np.ascontiguousarray(k2.transpose(3, 2, 0, 1)))
    tb1, tb2 = torch.from_numpy(b1), torch.from_numpy(b2)
    tw3 = torch.from_numpy(np.ascontiguousarray(w3.T))
    tf_, tb3 = torch.from_numpy(f), torch.from_numpy(b3)
    tgrad = torch.nn.grad
    patches1, patches2 = r(n * 28 * 28, 25), r(n * 14 * 14, 800)
    m1, m2 = k1.reshape(25, 32), k2.reshape(800, 64)

    def conv(h, k, b):
        return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME"), b))

    def pool(h):
        return tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")

    def pool_grad(h, dy):
        return tf.gradients(pool(h), h, grad_ys=dy)[0]

    pieces = [
        ("conv1 fwd (conv+bias+relu)", _piece(conv, [x4, k1, b1]),
         lambda: F.relu(F.conv2d(t["x4"], tk1, tb1, padding=2))),
        ("  its matmul [N*784,25]x[25,32]", _piece(tf.matmul, [patches1, m1]),
         lambda: torch.from_numpy(patches1) @ torch.from_numpy(m1)),
        ("pool1 fwd", _piece(pool, [c1]), lambda: F.max_pool2d(t["c1"], 2)),
        ("conv2 fwd (conv+bias+relu)", _piece(conv, [h1, k2, b2]),
         lambda: F.relu(F.conv2d(t["h1"], tk2, tb2, padding=2))),
        ("  its matmul [N*196,800]x[800,64]", _piece(tf.matmul, [patches2, m2]),
         lambda: torch.from_numpy(patches2) @ torch.from_numpy(m2)),
        ("pool2 fwd", _piece(pool, [c2]), lambda: F.max_pool2d(t["c2"], 2)),
        ("dense1 fwd (3136x1024, relu)",
         _piece(lambda a, w, b: tf.nn.relu(tf.matmul(a, w) + b), [f, w3, b3]),
         lambda: F.relu(F.linear(tf_, tw3, tb3))),
        ("conv2 filter grad",
         _piece(lambda h, dy: tf.nn.conv2d_backprop_filter(h, [5, 5, 32, 64], dy,
                                                           [1, 1, 1, 1], "SAME"), [h1, d2]),
         lambda: tgrad.conv2d_weight(t["h1"], tk2.shape, t["d2"], padding=2)),
        ("conv2 input grad",
         _piece(lambda k, dy: tf.nn.conv2d_backprop_input([n, 14, 14, 32], k, dy,
                                                          [1, 1, 1, 1], "SAME"), [k2, d2]),
         lambda: tgrad.conv2d_input(t["h1"].shape, tk2, t["d2"], padding=2)),
        ("conv1 filter grad",
         _piece(lambda h, dy: tf.nn.conv2d_backprop_filter(h, [5, 5, 1, 32], dy,
                                                           [1, 1, 1, 1], "SAME"), [x4, d1]),
         lambda: tgrad.conv2d_weight(t["x4"], tk1.shape, t["d1"], padding=2)),
        ("pool1 fwd+grad", _piece(pool_grad, [c1, h1]), _torch_pool_grad(t["c1"], t["h1"])),
        ("pool2 fwd+grad", _piece(pool_grad, [c2, r(n, 7, 7, 64)]),
         _torch_pool_grad(t["c2"], torch.from_numpy(r(n, 64, 7, 7)))),
        ("dense1 grads (dW, dx)",
         _piece(lambda a, w, dy: tf.gradients(tf.matmul(a, w), [a, w], grad_ys=dy),
                [f, w3, r(n, 1024)]),
         _torch_dense_grad(tf_, tw3, torch.from_numpy(r(n, 1024)))),
        # As in the step: what fusion does with pool and relu next to a convolution.
        ("chain: bias,relu,pool1 -> conv2 fwd",
         _piece(lambda c, b, k, bb: conv(pool(tf.nn.relu(c + b)), k, bb), [c1, b1, k2, b2]),
         lambda: F.relu(F.conv2d(F.max_pool2d(F.relu(t["c1"] + tb1[:, None, None]), 2),
                                 tk2, tb2, padding=2))),
        ("chain: pool2,relu grads -> conv2 grads",
         _piece(_conv2_backward_chain(n, pool), [c2, r(n, 7, 7, 64), k2, h1]),
         _torch_conv2_backward_chain(t["c2"], torch.from_numpy(r(n, 64, 7, 7)), tk2, t["h1"])),
        # The whole inference, and the same in two runs split at pool1's output,
        # which the split makes a buffer of its own (peer column: the whole).
        ("inference, one run", _piece(lambda a: _forward(a, params), [x]),
         torch_infer_fn(torch_net(params), x)),
        ("inference, two runs split at pool1", _split_inference(x, params, pool),
         torch_infer_fn(torch_net(params), x)),
        # What an im2col of conv2 would cost: numpy copying the [N*196, 800] patches
        # (peer column: the same copy).
        ("  numpy im2col copy for conv2", _numpy_im2col(h1), _numpy_im2col(h1)),
    ]
    print(f"\npieces at batch {n}, median of {repeats} (ms; PyTorch/tfcompile > 1: "
          "tfcompile faster)")
    print(f"{'':36s} {'tfcompile':>10s} {'PyTorch':>9s} {'ratio':>6s}")
    for name, tfc, tor in pieces:
        tm = median_times({"tfcompile": tfc, "PyTorch": tor}, repeats)[0]
        print(f"{name:36s} {tm['tfcompile'] * 1e3:10.2f} {tm['PyTorch'] * 1e3:9.2f} "
              f"{tm['PyTorch'] / tm['tfcompile']:6.2f}")


def _torch_pool_grad(h, dy):
    import torch.nn.functional as F
    h = h.clone().requires_grad_(True)

    def run():
        out = F.max_pool2d(h, 2)
        out.backward(dy)
        h.grad = None
    return run


def _forward(images, params):
    """The network's logits with constant weights, as the example builds it."""
    k1, b1, k2, b2, w3, b3, w4, b4 = params
    h = tf.reshape(images, [-1, 28, 28, 1])
    for k, b in ((k1, b1), (k2, b2)):
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME"), b))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 3136]), w3) + b3)
    return tf.matmul(h, w4) + b4


def _split_inference(x, params, pool):
    """Two sessions: images -> pool1's output, and pool1's output -> logits."""
    k1, b1, k2, b2, w3, b3, w4, b4 = params
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        xa = tf.placeholder(tf.float32, x.shape)
        h = tf.nn.conv2d(tf.reshape(xa, [-1, 28, 28, 1]), k1, [1, 1, 1, 1], "SAME")
        p1 = pool(tf.nn.relu(tf.nn.bias_add(h, b1)))
    with g2.as_default():
        pa = tf.placeholder(tf.float32, p1.shape)
        h = pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(pa, k2, [1, 1, 1, 1], "SAME"), b2)))
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 3136]), w3) + b3)
        logits = tf.matmul(h, w4) + b4
    s1, s2 = tf.Session(graph=g1), tf.Session(graph=g2)

    def run():
        return s2.run(logits, {pa: s1.run(p1, {xa: x})})
    run()
    return run


def _numpy_im2col(h):
    win = np.lib.stride_tricks.sliding_window_view(
        np.pad(h, ((0, 0), (2, 2), (2, 2), (0, 0))), (5, 5), axis=(1, 2))
    out = np.empty((h.shape[0], 14, 14, 5, 5, h.shape[3]), np.float32)
    return lambda: np.copyto(out, win.transpose(0, 1, 2, 4, 5, 3))


def _conv2_backward_chain(n, pool):
    """conv2's input and filter gradients from the gradient at pool2's output,
    through MaxPoolGrad and ReluGrad, as the training step computes them."""
    def build(c, dy, k, h):
        g = tf.gradients(pool(tf.nn.relu(c)), c, grad_ys=dy)[0]
        return [tf.nn.conv2d_backprop_input([n, 14, 14, 32], k, g, [1, 1, 1, 1], "SAME"),
                tf.nn.conv2d_backprop_filter(h, [5, 5, 32, 64], g, [1, 1, 1, 1], "SAME")]
    return build


def _torch_conv2_backward_chain(c, dy, k, h):
    import torch.nn.functional as F
    from torch.nn import grad
    c = c.clone().requires_grad_(True)

    def run():
        F.max_pool2d(F.relu(c), 2).backward(dy)
        g, c.grad = c.grad, None
        return (grad.conv2d_input(h.shape, k, g, padding=2),
                grad.conv2d_weight(h, k.shape, g, padding=2))
    return run


def _torch_dense_grad(a, w, dy):
    a = a.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    import torch.nn.functional as F

    def run():
        F.linear(a, w).backward(dy)
        a.grad = w.grad = None
    return run


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2,
                    help="threads of every library (default 2: this machine's cores)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--profile", action="store_true",
                    help="also time the network's pieces one by one")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    from tfcompile.runtime import native
    native.set_num_threads(args.threads)

    params = make_params()
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.batch).astype(np.int64)
    print(f"deep MNIST CNN, batch {args.batch}, {args.threads} thread(s) each; "
          f"torch {torch.__version__}, onnxruntime {_ort_version()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    check(params, x, y, args.threads)

    tfc = TfcNet(params)
    net = torch_net(params)
    opt = torch_adam(net)
    net.train()
    train = median_times({"tfcompile": lambda: tfc.train_step(x, y),
                          "PyTorch": torch_train_fn(net, opt, x, y)}, args.repeats)
    ort = onnx_session(params, args.batch, args.threads)
    infer = median_times({"tfcompile": lambda: tfc.logits(x),
                          "PyTorch": torch_infer_fn(torch_net(params), x),
                          "onnxruntime": lambda: ort.run(None, {"x": x})}, args.repeats)
    print(f"\n{args.repeats} calls each; (peer / tfcompile: > 1 means tfcompile is faster)")
    print_row("train step", train, args.batch)
    print_row("inference", infer, args.batch)
    print(f"load average {os.getloadavg()[0]:.2f}")
    if args.profile:
        profile(params, x, args.repeats)


def _ort_version():
    import onnxruntime
    return onnxruntime.__version__


if __name__ == "__main__":
    main()
