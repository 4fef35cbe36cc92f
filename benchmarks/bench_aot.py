"""Batch-1 latency of an exported model: NAME_run called from C, the Python
loader, Session.run, and onnxruntime (when installed) on the same weights,
side by side; with a trained MNIST model, also the test accuracy of a C
program against Python's.

    python benchmarks/bench_aot.py                    # 784-144-36-10 MLP, random weights
    python examples/mnist_mlp.py --epochs 3 --out out/mnist_mlp
    python benchmarks/bench_aot.py --meta out/mnist_mlp.meta --checkpoint out/mnist_mlp

With --meta the model is exported by the `tfcompile aot` command line
(feed pl_image:1x784, fetch logits); onnxruntime then runs the graph's
trainable variables as an MLP (MatMul, Add, Relu), checked against
Session.run before it is timed.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tfcompile as tf
from tfcompile import aot
from tfcompile.runtime import load

LAYERS = (784, 144, 36, 10)

TIMING_C = r"""
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "@NAME@.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int iters = atoi(argv[1]), reps = atoi(argv[2]), i, r;
    void *feeds[@NF@], *fetches[@NR@];
    @NAME@ *m = @NAME@_create();
    if (m == NULL) return 2;
    for (i = 0; i < @NF@; i++) {
        float *p = calloc(1, (size_t)@NAME@_feed_bytes(i) + 4);
        int64_t k;
        if (p == NULL) return 2;
        if (@NAME@_feed_dtype(i)[0] == 'f' && @NAME@_feed_dtype(i)[5] == '3')
            for (k = 0; k < @NAME@_feed_size(i); k++) p[k] = (float)((k * 37) % 101) / 101.0f;
        feeds[i] = p;
    }
    for (i = 0; i < @NR@; i++) fetches[i] = calloc(1, (size_t)@NAME@_fetch_bytes(i) + 4);
    for (i = 0; i < 200; i++) @RUN@;
    for (r = 0; r < reps; r++) {
        double t0 = now();
        for (i = 0; i < iters; i++)
            if (@RUN@ != 0) { fprintf(stderr, "%s\n", @NAME@_error(m)); return 3; }
        printf("%.6f\n", (now() - t0) / iters * 1e6);
    }
    @NAME@_destroy(m);
    return 0;
}
"""

CLASSIFY_C = r"""
#include <stdio.h>
#include "@NAME@.h"
int main(int argc, char **argv) {
    static float image[@N@_FEED_PL_IMAGE_SIZE];
    float logits[@N@_FETCH_LOGITS_SIZE];
    FILE *fi = fopen(argv[1], "rb"), *fl = fopen(argv[2], "rb");
    long n = 0, correct = 0;
    long long label;
    @NAME@ *m = @NAME@_create();
    if (!fi || !fl || !m) return 2;
    while (fread(image, sizeof image, 1, fi) == 1 && fread(&label, 8, 1, fl) == 1) {
        int k, best = 0;
        if (@NAME@_run(m, image, logits) != 0) { fprintf(stderr, "%s\n", @NAME@_error(m)); return 3; }
        for (k = 1; k < @N@_FETCH_LOGITS_SIZE; k++) if (logits[k] > logits[best]) best = k;
        correct += best == label;
        n++;
    }
    printf("%ld %ld\n", correct, n);
    @NAME@_destroy(m);
    return 0;
}
"""


def cc():
    c = os.environ.get("CC") or "cc"
    if shutil.which(c) is None:
        sys.exit(f"bench_aot: needs a C compiler ({c!r} not found)")
    return c


def build_c(template, sig, out: Path, static=True):
    name = sig.name
    ptr = lambda t, const: f"({'const ' if const else ''}{t.ctype} *)"  # noqa: E731
    args = [f"{ptr(t, True)}feeds[{i}]" for i, t in enumerate(sig.feeds)]
    args += [f"{ptr(t, False)}fetches[{j}]" for j, t in enumerate(sig.fetches)]
    run = f"{name}_run(m, {', '.join(args)})"
    src = (template.replace("@NAME@", name).replace("@N@", name.upper())
           .replace("@NF@", str(max(len(sig.feeds), 1))).replace("@NR@", str(max(len(sig.fetches), 1)))
           .replace("@RUN@", run))
    c = out.with_suffix(".c")
    c.write_text(src)
    d = c.parent
    libs = [str(d / f"lib{name}.a"), "-lm", "-lpthread"] if static else \
        [f"-L{d}", f"-l{name}", f"-Wl,-rpath,{d}"]
    subprocess.run([cc(), "-std=c99", "-O2", str(c), f"-I{d}", "-o", str(out), *libs],
                   check=True)
    return out


def time_python(fn, iters, reps):
    for _ in range(min(iters, 200)):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) / iters * 1e6)
    return statistics.median(samples)


# ---------------------------------------------------------------- models

def random_mlp(seed=0):
    """The MNIST example's network (784-144-36-10, ReLU) with random weights."""
    rng = np.random.default_rng(seed)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, LAYERS[0]], name="pl_image")
        h = x
        for i, (n_in, n_out) in enumerate(zip(LAYERS[:-1], LAYERS[1:])):
            W = tf.Variable((rng.standard_normal((n_in, n_out)) / math.sqrt(n_in))
                            .astype(np.float32), name=f"W{i}")
            b = tf.Variable((rng.standard_normal(n_out) * 0.1).astype(np.float32),
                            name=f"b{i}")
            h = tf.matmul(h, W) + b
            if i < len(LAYERS) - 2:
                h = tf.nn.relu(h)
        tf.identity(h, name="logits")
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    return g, sess


def restored(meta, checkpoint):
    g = tf.Graph()
    with g.as_default():
        saver = tf.train.import_meta_graph(meta)
    sess = tf.Session(graph=g)
    saver.restore(sess, checkpoint)
    return g, sess


def onnx_session(weights):
    """An onnxruntime session of the MLP with these [W, b, W, b, ...], or a reason why not."""
    try:
        import onnx  # noqa: F401  (numpy_helper and helper need it)
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:
        return None, f"not installed ({e.name})"
    nodes, inits, cur = [], [], "x"
    n = len(weights) // 2
    for i in range(n):
        W, b = weights[2 * i], weights[2 * i + 1]
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [cur, f"W{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"z{i}"])]
        cur = f"z{i}"
        if i < n - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"h{i}"]))
            cur = f"h{i}"
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                     [1, weights[0].shape[0]])],
        [helper.make_tensor_value_info(cur, TensorProto.FLOAT, [1, weights[-1].shape[0]])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = min(model.ir_version, 8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    s = ort.InferenceSession(model.SerializeToString(), opts,
                             providers=["CPUExecutionProvider"])
    return (lambda x: s.run(None, {"x": x})[0]), f"onnxruntime {ort.__version__}"


def mlp_weights(sess, graph):
    with graph.as_default():
        return [np.asarray(a, np.float32) for a in sess.run(tf.trainable_variables())]


# ---------------------------------------------------------------- main

def accuracy(args, sess, exported, work: Path):
    from tfcompile.datasets import mnist
    if args.synthetic:
        test = mnist.synthetic_mnist(n_train=args.synthetic_size + 1000, n_test=1000,
                                     validation_size=1000, seed=args.seed)[2]
    else:
        test = mnist.load_mnist(args.data_dir, seed=args.seed)[2]
    images = np.ascontiguousarray(test.images, np.float32)
    labels = test.labels.astype(np.int64)
    images.tofile(work / "images.bin")
    labels.tofile(work / "labels.bin")
    logits = np.concatenate([sess.run("logits:0", {"pl_image:0": images[i:i + 5000]})
                             for i in range(0, len(images), 5000)])
    py = float((logits.argmax(1) == labels).mean())
    prog = build_c(CLASSIFY_C, exported.signature, work / "classify")
    t0 = time.perf_counter()
    out = subprocess.run([str(prog), str(work / "images.bin"), str(work / "labels.bin")],
                         check=True, capture_output=True, text=True).stdout.split()
    secs = time.perf_counter() - t0
    correct, n = int(out[0]), int(out[1])
    print(f"test accuracy: Python (Session.run) {py:.4f}, C (static lib{exported.name}.a, "
          f"batch 1) {correct / n:.4f} on {n} images; the C run took {secs:.2f} s")
    return py, correct / n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--meta", help="a meta graph saved by examples/mnist_mlp.py")
    p.add_argument("--checkpoint", help="its checkpoint prefix")
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=0, help="NAME_set_num_threads (0: default)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--synthetic-size", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", help="export into this directory instead of a temporary one")
    args = p.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-aot-"))
    work.mkdir(parents=True, exist_ok=True)

    if args.meta:
        from tfcompile.cli import build_parser, run_aot
        cmd = ["aot", "--meta", args.meta, "--checkpoint", args.checkpoint, "--feed",
               "pl_image:1x784", "--fetch", "logits", "--name", "mnist", "--out", str(work)]
        print("tfcompile " + " ".join(cmd))
        exported = run_aot(build_parser().parse_args(cmd))
        graph, sess = restored(args.meta, args.checkpoint)
        model_desc = f"trained model {args.meta}"
    else:
        graph, sess = random_mlp(args.seed)
        exported = aot.export(sess, {"pl_image": [1, 784]}, ["logits"], "mnist", work)
        model_desc = "784-144-36-10 MLP, random weights"
    x1 = (np.arange(784, dtype=np.float32) * 37 % 101 / 101).reshape(1, 784)

    model = load(work / "mnist.json")
    if args.threads:
        model.set_num_threads(args.threads)
    want = sess.run("logits:0", {"pl_image:0": x1})
    np.testing.assert_allclose(model(x1), want, rtol=1e-4, atol=1e-5)
    outs = [np.empty((1, 10), np.float32)]

    rows = []
    prog = build_c(TIMING_C, exported.signature, work / "timing")
    c_args = [str(args.iters * 10), str(args.reps)]
    if args.threads:
        os.environ["TFC_NUM_THREADS"] = str(args.threads)
    c_times = [float(v) for v in subprocess.run([str(prog), *c_args], check=True,
                                                capture_output=True, text=True).stdout.split()]
    rows.append(("mnist_run from C (static library)", statistics.median(c_times)))
    rows.append(("loader: model.run(x, out=...)",
                 time_python(lambda: model.run(x1, out=outs), args.iters, args.reps)))
    rows.append(("loader: model(x)", time_python(lambda: model(x1), args.iters, args.reps)))
    feed = {"pl_image:0": x1}
    rows.append(("Session.run(logits, feed_dict)",
                 time_python(lambda: sess.run("logits:0", feed), args.iters, args.reps)))
    ort_run, why = onnx_session(mlp_weights(sess, graph))
    if ort_run is not None:
        try:
            np.testing.assert_allclose(ort_run(x1), want, rtol=1e-4, atol=1e-5)
            rows.append((f"{why} (1 thread)", time_python(lambda: ort_run(x1), args.iters,
                                                          args.reps)))
        except Exception as e:     # a peer that disagrees is reported, not timed
            print(f"onnxruntime: skipped ({type(e).__name__}: {e})")
    else:
        print(f"onnxruntime: skipped, {why}")

    print(f"\nbatch-1 latency, {model_desc}; median of {args.reps} runs "
          f"({model.get_num_threads()} thread(s) in the library's pool)")
    print(f"{'':40s} {'us/call':>9s}")
    for label, us in rows:
        print(f"{label:40s} {us:9.2f}")
    if args.meta:
        print()
        accuracy(args, sess, exported, work)
    sess.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
