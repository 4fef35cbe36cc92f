"""Ahead-of-time export: the header against a golden file, C programs linked to
the shared and the static library compared with Session.run and numpy, the
Python loader and its errors, the library's dependencies and exports, two
contexts on two threads, targets, random ops, export errors, the CLI."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tfcompile as tf
import tfcompile.aot as aot
from tfcompile.runtime import load

CC = shutil.which(os.environ.get("CC", "cc") or "cc")
pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")
GOLDEN = Path(__file__).with_name("golden") / "aot_small.h"
BATCH = 4


def compile_c(src: str, out: Path, *args):
    """Builds a C program; returns its path."""
    c = out.with_suffix(".c")
    c.write_text(src)
    cmd = [CC, "-std=c99", "-O1", "-Wall", "-Werror=implicit-function-declaration",
           str(c), "-o", str(out), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return out


def run_prog(prog, *args):
    proc = subprocess.run([str(prog), *map(str, args)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


# ---------------------------------------------------------------- a trained MLP

class MLP:
    pass


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """A 6-16-3 MLP trained a few steps with GradientDescent, exported as "mlp"."""
    m = MLP()
    rng = np.random.default_rng(0)
    m.graph = g = tf.Graph()
    with g.as_default():
        m.x = tf.placeholder(tf.float32, [None, 6], name="x")
        m.y = tf.placeholder(tf.int64, [None], name="y")
        m.W1 = tf.Variable(rng.standard_normal((6, 16)).astype(np.float32) * 0.5, name="W1")
        m.b1 = tf.Variable(np.zeros(16, np.float32), name="b1")
        m.W2 = tf.Variable(rng.standard_normal((16, 3)).astype(np.float32) * 0.5, name="W2")
        m.b2 = tf.Variable(np.zeros(3, np.float32), name="b2")
        with tf.name_scope("hidden"):
            h = tf.nn.relu(tf.matmul(m.x, m.W1) + m.b1)
        m.logits = tf.identity(tf.matmul(h, m.W2) + m.b2, name="logits")
        m.pred = tf.argmax(m.logits, 1, name="pred")
        m.probs = tf.nn.softmax(m.logits, name="probs")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=m.y, logits=m.logits))
        m.train = tf.train.GradientDescentOptimizer(0.3).minimize(loss)
        m.init = tf.global_variables_initializer()
    m.sess = sess = tf.Session(graph=g)
    sess.run(m.init)
    xs = rng.standard_normal((64, 6)).astype(np.float32)
    ys = (xs[:, 0] > 0).astype(np.int64) + (xs[:, 1] > 0)
    w_before = sess.run(m.W1)
    losses = [sess.run([loss, m.train], {m.x: xs, m.y: ys})[0] for _ in range(8)]
    assert losses[-1] < losses[0] and not np.allclose(sess.run(m.W1), w_before)
    m.out = tmp_path_factory.mktemp("aot_mlp")
    m.exp = aot.export(sess, {m.x: [BATCH, 6]}, [m.logits, m.pred, m.probs], "mlp", m.out)
    m.X = rng.standard_normal((BATCH, 6)).astype(np.float32)
    m.X2 = m.X[::-1].copy() * 2
    m.want = sess.run([m.logits, m.pred, m.probs], {m.x: m.X})
    m.want2 = sess.run([m.logits, m.pred, m.probs], {m.x: m.X2})
    # numpy, from the trained weights: an oracle independent of the compiler
    W1, b1, W2, b2 = sess.run([m.W1, m.b1, m.W2, m.b2])
    z = np.maximum(m.X @ W1 + b1, 0) @ W2 + b2
    np.testing.assert_allclose(m.want[0], z, rtol=1e-5, atol=1e-5)
    yield m
    sess.close()


C_MAIN = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlp.h"

#define N_ITER 200
static float inputs[2][MLP_FEED_X_SIZE];
static float ref_logits[2][MLP_FETCH_LOGITS_SIZE];
static int64_t ref_pred[2][MLP_FETCH_PRED_SIZE];

static void read_floats(const char *path, float *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f || fread(buf, sizeof(float), n, f) != n) { perror(path); exit(2); }
    fclose(f);
}

struct job { int which; int bad; };

static void *worker(void *arg) {
    struct job *j = arg;
    float logits[MLP_FETCH_LOGITS_SIZE], probs[MLP_FETCH_PROBS_SIZE];
    int64_t pred[MLP_FETCH_PRED_SIZE];
    mlp *ctx = mlp_create();
    int it, k;
    if (ctx == NULL) { j->bad = -1; return NULL; }
    for (it = 0; it < N_ITER; it++) {
        if (mlp_run(ctx, inputs[j->which], logits, pred, probs) != 0) { j->bad++; break; }
        for (k = 0; k < MLP_FETCH_LOGITS_SIZE; k++)
            if (logits[k] != ref_logits[j->which][k]) j->bad++;
        if (memcmp(pred, ref_pred[j->which], sizeof pred) != 0) j->bad++;
    }
    mlp_destroy(ctx);
    return NULL;
}

static void print_run(const char *tag, const float *logits, const int64_t *pred,
                      const float *probs) {
    int k;
    printf("%s", tag);
    for (k = 0; k < MLP_FETCH_LOGITS_SIZE; k++) printf(" %.9g", logits[k]);
    for (k = 0; k < MLP_FETCH_PRED_SIZE; k++) printf(" %lld", (long long)pred[k]);
    for (k = 0; k < MLP_FETCH_PROBS_SIZE; k++) printf(" %.9g", probs[k]);
    printf("\n");
}

int main(int argc, char **argv) {
    static const int64_t x_dims[] = MLP_FEED_X_DIMS;
    float logits[MLP_FETCH_LOGITS_SIZE], probs[MLP_FETCH_PROBS_SIZE];
    int64_t pred[MLP_FETCH_PRED_SIZE];
    const void *feeds[1];
    void *fetches[3];
    pthread_t th[2];
    struct job jobs[2] = {{0, 0}, {1, 0}};
    mlp *ctx;
    int w, rc;
    if (argc != 3) return 2;
    read_floats(argv[1], inputs[0], MLP_FEED_X_SIZE);
    read_floats(argv[2], inputs[1], MLP_FEED_X_SIZE);

    /* the signature at run time agrees with the macros */
    printf("meta %d %d %s %s %d %lld %lld %lld %s %s %d %d\n", mlp_num_feeds(),
           mlp_num_fetches(), mlp_feed_name(0), mlp_feed_dtype(0), mlp_feed_rank(0),
           (long long)mlp_feed_dims(0)[0], (long long)mlp_feed_dims(0)[1],
           (long long)mlp_fetch_bytes(1), mlp_fetch_name(1), mlp_fetch_dtype(1),
           mlp_fetch_index("probs:0"), mlp_feed_index("nope"));
    printf("macros %lld %lld %d %d %d\n", (long long)x_dims[0], (long long)x_dims[1],
           MLP_FETCH_PRED_BYTES, MLP_FETCH_PROBS_INDEX, mlp_feed_name(5) == NULL);

    ctx = mlp_create();
    if (ctx == NULL) return 3;
    for (w = 0; w < 2; w++) {
        if (mlp_run(ctx, inputs[w], logits, pred, probs) != 0) {
            printf("run failed: %s\n", mlp_error(ctx));
            return 4;
        }
        memcpy(ref_logits[w], logits, sizeof logits);
        memcpy(ref_pred[w], pred, sizeof pred);
        print_run(w ? "run1" : "run0", logits, pred, probs);
    }
    feeds[0] = inputs[0];
    fetches[0] = logits; fetches[1] = pred; fetches[2] = probs;
    rc = mlp_run_buffers(ctx, feeds, fetches);
    print_run(rc == 0 ? "buffers" : "buffers-failed", logits, pred, probs);

    /* bad arguments: a non-zero return and a message */
    rc = mlp_run(ctx, NULL, logits, pred, probs);
    printf("err-null-feed %d %s\n", rc, mlp_error(ctx));
    rc = mlp_run(ctx, inputs[0], logits, NULL, probs);
    printf("err-null-fetch %d %s\n", rc, mlp_error(ctx));
    rc = mlp_run(ctx, inputs[0], (float *)inputs[0], pred, probs);
    printf("err-overlap %d %s\n", rc, mlp_error(ctx));
    rc = mlp_run_buffers(ctx, NULL, fetches);
    printf("err-buffers %d %s\n", rc, mlp_error(ctx));
    rc = mlp_set_num_threads(ctx, -3);
    printf("err-threads %d %s\n", rc, mlp_error(ctx));
    rc = mlp_run(NULL, inputs[0], logits, pred, probs);
    printf("err-ctx %d %s\n", rc, mlp_error(NULL));
    rc = mlp_run(ctx, inputs[0], logits, pred, probs);
    printf("ok-again %d [%s]\n", rc, mlp_error(ctx));
    mlp_set_num_threads(ctx, 2);
    mlp_destroy(ctx);

    /* two contexts, two threads, each checking every run against its reference */
    for (w = 0; w < 2; w++) pthread_create(&th[w], NULL, worker, &jobs[w]);
    for (w = 0; w < 2; w++) pthread_join(th[w], NULL);
    printf("threads %d %d\n", jobs[0].bad, jobs[1].bad);
    return 0;
}
"""


def _check_c_output(m, text):
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] if " " in ln else "" for ln in
             text.splitlines()}
    meta = lines["meta"].split()
    assert meta == ["1", "3", "x:0", "float32", "2", str(BATCH), "6", str(8 * BATCH),
                    "pred:0", "int64", "2", "-1"]
    assert lines["macros"].split() == [str(BATCH), "6", str(8 * BATCH), "2", "1"]
    nl, npred = m.want[0].size, m.want[1].size
    for tag, want in (("run0", m.want), ("run1", m.want2), ("buffers", m.want)):
        vals = lines[tag].split()
        np.testing.assert_allclose(np.array(vals[:nl], np.float32).reshape(want[0].shape),
                                   want[0], rtol=1e-5, atol=1e-5)
        assert np.array(vals[nl:nl + npred], np.int64).tolist() == want[1].tolist()
        np.testing.assert_allclose(np.array(vals[nl + npred:], np.float32).reshape(
            want[2].shape), want[2], rtol=1e-5, atol=1e-6)
    assert lines["err-null-feed"].startswith("1 ") and "x:0" in lines["err-null-feed"] \
        and "NULL" in lines["err-null-feed"]
    assert lines["err-null-fetch"].startswith("1 ") and "pred:0" in lines["err-null-fetch"]
    assert lines["err-overlap"].startswith("1 ") and "overlaps" in lines["err-overlap"] \
        and "logits:0" in lines["err-overlap"]
    assert lines["err-buffers"].startswith("1 ") and "NULL" in lines["err-buffers"]
    assert lines["err-threads"].startswith("1 ") and "-3" in lines["err-threads"]
    assert lines["err-ctx"].startswith("-1 ") and "NULL" in lines["err-ctx"]
    assert lines["ok-again"] == "0 []"
    assert lines["threads"] == "0 0"


@pytest.fixture(scope="module")
def inputs(mlp):
    mlp.X.tofile(mlp.out / "x0.bin")
    mlp.X2.tofile(mlp.out / "x1.bin")
    return mlp.out / "x0.bin", mlp.out / "x1.bin"


def test_c_program_linked_to_shared_library(mlp, inputs):
    d = mlp.out
    prog = compile_c(C_MAIN, d / "prog_shared", f"-I{d}", f"-L{d}", "-lmlp",
                     f"-Wl,-rpath,{d}", "-lpthread")
    _check_c_output(mlp, run_prog(prog, *inputs))


def test_c_program_linked_statically(mlp, inputs):
    d = mlp.out
    prog = compile_c(C_MAIN, d / "prog_static", f"-I{d}", d / "libmlp.a", "-lm", "-lpthread")
    _check_c_output(mlp, run_prog(prog, *inputs))
    if shutil.which("readelf"):
        dyn = subprocess.run(["readelf", "-d", str(prog)], capture_output=True, text=True)
        assert "libmlp" not in dyn.stdout


def test_files_and_signature_json(mlp):
    e = mlp.exp
    assert [p.name for p in e.files] == ["mlp.h", "libmlp.so", "libmlp.a", "mlp.json"]
    assert all(p.exists() for p in e.files)
    sig = json.loads((mlp.out / "mlp.json").read_text())
    assert sig["name"] == "mlp" and sig["format"] == "tfcompile-aot"
    assert [(f["name"], f["dtype"], f["shape"], f["bytes"]) for f in sig["feeds"]] == [
        ("x:0", "float32", [BATCH, 6], BATCH * 6 * 4)]
    assert [(f["name"], f["dtype"], f["shape"], f["bytes"]) for f in sig["fetches"]] == [
        ("logits:0", "float32", [BATCH, 3], BATCH * 12), ("pred:0", "int64", [BATCH], BATCH * 8),
        ("probs:0", "float32", [BATCH, 3], BATCH * 12)]
    from tfcompile.runtime.llvm_target import host_cpu
    assert sig["target"]["triple"] == host_cpu()[0] and sig["target"]["cpu"] == host_cpu()[1]
    # the weights (6*16 + 16 + 16*3 + 3 floats) are in the library's read-only data
    assert sig["memory"]["constant_bytes"] >= (96 + 48) * 4
    header = (mlp.out / "mlp.h").read_text()
    assert f"CPU {host_cpu()[1]}" in header and "int mlp_run(mlp *ctx," in header


def test_shared_library_needs_only_libc_libm_pthread(mlp):
    lib = mlp.out / "libmlp.so"
    if shutil.which("readelf") is None:
        pytest.skip("needs readelf")
    dyn = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    assert needed, dyn
    allowed = re.compile(r"^(libc|libm|libpthread)\.so\.\d+$|^ld-linux[-\w.]*\.so\.\d+$")
    assert all(allowed.match(n) for n in needed), needed
    if shutil.which("nm"):
        syms = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True,
                              text=True).stdout.split()
        names = [s for s in syms[2::3]]
        assert names and all(n.startswith("mlp_") for n in names), names


def test_loader_matches_session(mlp):
    for path in (mlp.out / "mlp.json", mlp.out / "libmlp.so"):
        model = load(path)
        got = model(mlp.X)
        assert isinstance(got, list) and len(got) == 3
        np.testing.assert_allclose(got[0], mlp.want[0], rtol=1e-5, atol=1e-5)
        assert got[1].dtype == np.int64 and got[1].tolist() == mlp.want[1].tolist()
        np.testing.assert_allclose(got[2], mlp.want[2], rtol=1e-5, atol=1e-6)
    model = load(mlp.out, "mlp")
    outs = [np.empty_like(w) for w in mlp.want2]
    res = model.run(x=mlp.X2, out=outs)
    assert res[0] is outs[0]
    np.testing.assert_allclose(outs[0], mlp.want2[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(load(mlp.out)(mlp.X.tolist())[0], mlp.want[0], rtol=1e-5,
                               atol=1e-5)
    model.set_num_threads(1)
    assert model.get_num_threads() == 1
    model.set_num_threads(0)
    assert [t.name for t in model.feeds] == ["x:0"] and "mlp" in repr(model)


def test_loader_errors_name_the_feed(mlp):
    model = load(mlp.exp.signature_file)
    with pytest.raises(TypeError, match=r"feed 0 \('x:0'\) must be float32\[4,6\].*float64"):
        model(mlp.X.astype(np.float64))
    with pytest.raises(ValueError, match=r"'x:0'.*shape \[4, 6\].*got shape \[3, 6\]"):
        model(mlp.X[:3])
    with pytest.raises(TypeError, match="takes 1 feed"):
        model(mlp.X, mlp.X)
    with pytest.raises(TypeError, match="missing feed"):
        model()
    with pytest.raises(TypeError, match="no feed named 'z'"):
        model(z=mlp.X)
    with pytest.raises(ValueError, match="out array for fetch 1"):
        model(mlp.X, out=[np.empty((BATCH, 3), np.float32), np.empty(BATCH, np.int32),
                          np.empty((BATCH, 3), np.float32)])
    with pytest.raises(ValueError, match="num_threads is -1"):
        model.set_num_threads(-1)
    # the library's own message after a failing call (a NULL feed array)
    ffi = model._ffi
    assert model._fn["run_buffers"](model._ctx, ffi.NULL, model._fetch_ptrs) != 0
    assert "array of feeds is NULL" in model.error()
    model(mlp.X)
    assert model.error() == ""
    with pytest.raises(FileNotFoundError):
        load(mlp.out / "libnope.so")
    with pytest.raises(ValueError, match="pass the name"):
        load(mlp.out.parent)


# ---------------------------------------------------------------- golden header

def _small_model():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None, 3], name="a")
        flag = tf.placeholder(tf.bool, [2], name="flag")
        ids = tf.placeholder(tf.int64, [2], name="ids")
        W = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="W")
        with tf.name_scope("out"):
            y = tf.matmul(a, W, name="y")
        masked = tf.where(flag, tf.reduce_sum(y, 1) + tf.cast(ids, tf.float32),
                          tf.zeros([2]), name="masked")
        best = tf.cast(tf.argmax(y, 1), tf.int32, name="best")
        y64 = tf.cast(y, tf.float64, name="y64")
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    return sess, (a, flag, ids), (y, masked, best, y64)


def normalize_header(text: str) -> str:
    """Blanks what depends on the machine, the compiler's choices and the version."""
    text = text.replace(f"tfcompile {tf.__version__}", "tfcompile VERSION")
    text = re.sub(r"(read-only data in the library: |allocated by \w+_create: |"
                  r"at most about: )\d+", r"\1N", text)
    text = re.sub(r"(_ARENA_BYTES |_CONSTANT_BYTES )\d+", r"\1N", text)
    text = re.sub(r"(_TARGET_TRIPLE |_TARGET_CPU )\".*\"", r'\1"..."', text)
    text = re.sub(r"^ \* Target: .*?\n(?= \*\n)", " * Target: ...\n", text,
                  flags=re.M | re.S)
    return text


def test_golden_header(tmp_path):
    sess, (a, flag, ids), fetches = _small_model()
    exp = aot.export(sess, {a: "2x3", "flag": [2], "ids:0": (2,)}, list(fetches), "small",
                     tmp_path)
    got = normalize_header(exp.header.read_text())
    if os.environ.get("TFC_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(got)
    assert got == GOLDEN.read_text()
    # the header compiles as C99 with warnings as errors, and as C++
    src = tmp_path / "use.c"
    src.write_text('#include "small.h"\nint main(void) { return SMALL_NUM_FEEDS - 3; }\n')
    compile_c(src.read_text(), tmp_path / "use", f"-I{tmp_path}", "-Wextra", "-pedantic",
              "-Werror")
    cxx = shutil.which("c++")
    if cxx:
        proc = subprocess.run([cxx, "-x", "c++", "-fsyntax-only", "-Wall", "-Werror",
                               f"-I{tmp_path}", str(src)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    # every dtype crosses the C boundary right (checked with the loader)
    model = exp.load()
    av = np.array([[1, -2, 3], [0.5, 4, -1]], np.float32)
    fv, iv = np.array([True, False]), np.array([7, -9], np.int64)
    got = model(av, fv, iv)
    want = sess.run(list(fetches), {a: av, flag: fv, ids: iv})
    for gv, wv in zip(got, want):
        assert gv.dtype == wv.dtype
        np.testing.assert_allclose(gv, wv, rtol=1e-6)
    W = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_allclose(got[1], np.where(fv, (av @ W).sum(1) + iv, 0), rtol=1e-6)
    sess.close()


def test_two_models_link_statically_into_one_program(mlp, tmp_path):
    """The helpers in each static library are local: no duplicate symbols."""
    sess, (a, flag, ids), fetches = _small_model()
    aot.export(sess, {a: [2, 3], flag: [2], ids: [2]}, list(fetches), "small", tmp_path)
    sess.close()
    src = r"""
#include <stdio.h>
#include "mlp.h"
#include "small.h"
int main(void) {
    float x[MLP_FEED_X_SIZE] = {0}, lg[MLP_FETCH_LOGITS_SIZE], pr[MLP_FETCH_PROBS_SIZE];
    int64_t pd[MLP_FETCH_PRED_SIZE];
    float a[6] = {1, 2, 3, 4, 5, 6}, y[4], masked[2];
    uint8_t flag[2] = {1, 0};
    int64_t ids[2] = {1, 2};
    int32_t best[2];
    double y64[4];
    mlp *m = mlp_create();
    small *s = small_create();
    if (mlp_run(m, x, lg, pd, pr) || small_run(s, a, flag, ids, y, masked, best, y64))
        return 1;
    printf("%g %g %g %d\n", y[0], masked[0], masked[1], (int)best[1]);
    mlp_destroy(m);
    small_destroy(s);
    return 0;
}
"""
    prog = compile_c(src, tmp_path / "both", f"-I{mlp.out}", f"-I{tmp_path}",
                     mlp.out / "libmlp.a", tmp_path / "libsmall.a", "-lm", "-lpthread")
    a_ = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    y = a_ @ np.arange(6, dtype=np.float32).reshape(3, 2)
    out = run_prog(prog).split()
    assert [float(v) for v in out[:3]] == [y[0, 0], y[0].sum() + 1, 0.0]
    assert int(out[3]) == int(np.argmax(y[1]))


THREADS_C = r"""
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "wide.h"

#define N_ITER 60
static float x[2][WIDE_FEED_X_SIZE], ref[2][WIDE_FETCH_Y_SIZE];

static void *worker(void *arg) {
    int which = *(int *)arg, it, k, bad = 0;
    static float out[2][WIDE_FETCH_Y_SIZE];
    wide *ctx = wide_create();
    for (it = 0; it < N_ITER && ctx; it++) {
        if (wide_run(ctx, x[which], out[which]) != 0) { bad++; break; }
        for (k = 0; k < WIDE_FETCH_Y_SIZE; k++)
            if (fabsf(out[which][k] - ref[which][k]) > 1e-5f * (1.0f + fabsf(ref[which][k])))
                bad++;
    }
    wide_destroy(ctx);
    *(int *)arg = bad;
    return NULL;
}

int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    int w, arg[2] = {0, 1};
    pthread_t th[2];
    wide *ctx = wide_create();
    if (!f || fread(x, sizeof x, 1, f) != 1 || !ctx) return 2;
    wide_set_num_threads(ctx, 2);
    for (w = 0; w < 2; w++)
        if (wide_run(ctx, x[w], ref[w]) != 0) return 3;
    for (w = 0; w < 2; w++) pthread_create(&th[w], NULL, worker, &arg[w]);
    for (w = 0; w < 2; w++) pthread_join(th[w], NULL);
    printf("%d %d", arg[0], arg[1]);
    for (w = 0; w < 2; w++) printf(" %.9g %.9g", ref[w][0], ref[w][WIDE_FETCH_Y_SIZE - 1]);
    printf("\n");
    wide_destroy(ctx);
    return 0;
}
"""


def test_contexts_on_two_threads_share_the_pool(tmp_path):
    """Kernels large enough for the thread pool, two contexts on two threads."""
    rng = np.random.default_rng(5)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 128], name="x")
        W = tf.Variable(rng.standard_normal((128, 128)).astype(np.float32) / 12, name="W")
        y = tf.matmul(tf.nn.relu(tf.matmul(x, W)), W, name="y")
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        exp = aot.export(sess, {x: [64, 128]}, [y], "wide", tmp_path)
        xs = rng.standard_normal((2, 64, 128)).astype(np.float32)
        want = [sess.run(y, {x: xs[i]}) for i in range(2)]
    assert exp.stats["parallel_nests"] >= 1
    xs.tofile(tmp_path / "x.bin")
    prog = compile_c(THREADS_C, tmp_path / "threads", f"-I{tmp_path}", tmp_path / "libwide.a",
                     "-lm", "-lpthread")
    out = run_prog(prog, tmp_path / "x.bin").split()
    assert out[:2] == ["0", "0"]
    got = np.array(out[2:], np.float32).reshape(2, 2)
    for i in range(2):
        np.testing.assert_allclose(got[i], [want[i][0, 0], want[i][-1, -1]], rtol=1e-5,
                                   atol=1e-5)


# ---------------------------------------------------------------- targets, random ops

def test_portable_target(tmp_path):
    from tfcompile.runtime.llvm_target import host_cpu
    triple, _, feats = host_cpu()
    if not triple.startswith("x86_64") or "+avx2" not in feats or "+fma" not in feats:
        pytest.skip("needs an x86-64-v3 host")
    sess, (a, flag, ids), fetches = _small_model()
    exp = aot.export(sess, {a: [2, 3], flag: [2], ids: [2]}, list(fetches), "small",
                     tmp_path, target="x86-64-v3")
    header = exp.header.read_text()
    assert "CPU x86-64-v3" in header and '#define SMALL_TARGET_CPU "x86-64-v3"' in header
    assert json.loads(exp.signature_file.read_text())["target"]["cpu"] == "x86-64-v3"
    av = np.ones((2, 3), np.float32)
    fv, iv = np.array([True, True]), np.array([1, 2], np.int64)
    for gv, wv in zip(exp.load()(av, fv, iv), sess.run(list(fetches),
                                                       {a: av, flag: fv, ids: iv})):
        np.testing.assert_allclose(gv, wv, rtol=1e-6)
    with pytest.raises(ValueError, match="not a recognized processor"):
        aot.resolve_target("no-such-cpu")
    sess.close()


def test_random_ops_advance_per_context(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [5], name="x")
        noisy = tf.add(x, tf.random_uniform([5], seed=3), name="noisy")
    with tf.Session(graph=g) as sess:
        exp = aot.export(sess, {x: [5]}, [noisy], "noise", tmp_path)
    assert exp.signature.rng_counters == 1
    assert "Random ops" in exp.header.read_text()
    xv = np.zeros(5, np.float32)
    m1, m2 = exp.load(), load(exp.shared_library)
    a1, b1 = m1(xv), m1(xv)
    a2 = m2(xv)
    assert not np.array_equal(a1, b1)          # fresh values on every run
    np.testing.assert_array_equal(a1, a2)      # a new context repeats the sequence
    assert np.all((a1 >= 0) & (a1 < 1))


# ---------------------------------------------------------------- export errors

def test_export_errors(mlp, tmp_path):
    m = mlp
    with pytest.raises(TypeError, match="x:0.*ints"):
        aot.export(m.sess, {m.x: [None, 6]}, [m.logits], "e", tmp_path)
    with pytest.raises(ValueError, match=r"x:0.*\[2, 5\].*incompatible.*\(\?, 6\)"):
        aot.export(m.sess, {m.x: [2, 5]}, [m.logits], "e", tmp_path)
    with pytest.raises(ValueError, match="no output"):
        aot.export(m.sess, {m.x: [2, 6]}, [m.train], "e", tmp_path)
    with pytest.raises(ValueError, match="not a C identifier"):
        aot.export(m.sess, {m.x: [2, 6]}, [m.logits], "1model", tmp_path)
    with pytest.raises(ValueError, match="nope"):
        aot.export(m.sess, {"nope": [2]}, [m.logits], "e", tmp_path)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value.*'x'"):
        aot.export(m.sess, {}, [m.logits], "e", tmp_path)
    with m.graph.as_default():
        bump = tf.assign_add(m.b2, tf.ones([3]))
        fresh = tf.Variable(tf.zeros([6, 3]), name="fresh")
        uses_fresh = tf.matmul(m.x, fresh)
    with pytest.raises(ValueError, match="assigns the variable.*b2"):
        aot.export(m.sess, {m.x: [2, 6]}, [bump], "e", tmp_path)
    with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value fresh"):
        aot.export(m.sess, {m.x: [2, 6]}, [uses_fresh], "e", tmp_path)
    assert not list(tmp_path.iterdir())     # nothing half-written


def test_parse_shape():
    assert aot.parse_shape("1x784") == (1, 784)
    assert aot.parse_shape("scalar") == () and aot.parse_shape([]) == ()
    assert aot.parse_shape((np.int64(3), 2)) == (3, 2)
    with pytest.raises(ValueError, match="1xa"):
        aot.parse_shape("1xa")
    with pytest.raises(ValueError, match="negative"):
        aot.parse_shape([-1, 2])


# ---------------------------------------------------------------- the CLI

def test_cli_exports_a_saved_model(mlp, tmp_path):
    from tfcompile.cli import main
    with mlp.graph.as_default():
        saver = tf.train.Saver([mlp.W1, mlp.b1, mlp.W2, mlp.b2])
    (tmp_path / "ckpt").mkdir()
    prefix = saver.save(mlp.sess, str(tmp_path / "ckpt" / "model"))
    out = tmp_path / "lib"
    rc = main(["aot", "--meta", prefix + ".meta", "--checkpoint", str(tmp_path / "ckpt"),
               "--feed", f"x:{BATCH}x6", "--fetch", "logits", "--fetch", "pred:0",
               "--name", "clf", "--out", str(out), "--quiet"])
    assert rc == 0
    logits, pred = load(out / "clf.json")(mlp.X)
    np.testing.assert_allclose(logits, mlp.want[0], rtol=1e-5, atol=1e-5)
    assert pred.tolist() == mlp.want[1].tolist()
    bad = main(["aot", "--meta", prefix + ".meta", "--feed", "x:2x6", "--fetch", "logits",
                "--name", "clf", "--out", str(out), "--quiet"])
    assert bad == 1


def test_cli_bench_hook(tmp_path, monkeypatch, capfd):
    """`tfcompile bench ARGS` runs `python -m benchmarks ARGS` (here a stand-in)."""
    from tfcompile.cli import main
    pkg = tmp_path / "benchmarks"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("import sys\nprint('bench-args', sys.argv[1:])\n")
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
        monkeypatch.delitem(sys.modules, mod)
    assert main(["bench", "--quick"]) == 0
    assert "bench-args ['--quick']" in capfd.readouterr().out
    (pkg / "__main__.py").unlink()
    monkeypatch.delitem(sys.modules, "benchmarks", raising=False)
    assert main(["bench"]) == 2 and "benchmarks" in capfd.readouterr().err


def test_cli_reports_errors(tmp_path, capsys):
    from tfcompile.cli import main
    rc = main(["aot", "--meta", str(tmp_path / "missing.meta"), "--feed", "x:1",
               "--fetch", "y", "--name", "m", "--out", str(tmp_path)])
    assert rc == 1 and "missing.meta" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["aot", "--meta", "m", "--feed", "x", "--fetch", "y", "--name", "m", "--out", "o"])


# ---------------------------------------------------------------- MNIST end to end

MNIST_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "mnist.h"
int main(int argc, char **argv) {
    static float image[MNIST_FEED_PL_IMAGE_SIZE];
    float logits[MNIST_FETCH_LOGITS_SIZE];
    FILE *fi = fopen(argv[1], "rb"), *fl = fopen(argv[2], "rb");
    long n = 0, correct = 0;
    int64_t label;
    mnist *m = mnist_create();
    if (!fi || !fl || !m) return 2;
    while (fread(image, sizeof image, 1, fi) == 1 && fread(&label, 8, 1, fl) == 1) {
        int k, best = 0;
        if (mnist_run(m, image, logits) != 0) { fprintf(stderr, "%s\n", mnist_error(m)); return 3; }
        for (k = 1; k < MNIST_FETCH_LOGITS_SIZE; k++) if (logits[k] > logits[best]) best = k;
        correct += best == label;
        n++;
    }
    printf("%ld %ld\n", correct, n);
    mnist_destroy(m);
    return 0;
}
"""


@pytest.mark.slow
def test_mnist_example_exported_by_cli_classifies_like_python(tmp_path):
    root = Path(__file__).resolve().parent.parent
    prefix = tmp_path / "model"
    subprocess.run([sys.executable, str(root / "examples" / "mnist_mlp.py"), "--synthetic",
                    "--synthetic-size", "2000", "--epochs", "1", "--no-plot", "--quiet",
                    "--out", str(prefix)], check=True, capture_output=True, timeout=600)
    from tfcompile.cli import main
    out = tmp_path / "build"
    assert main(["aot", "--meta", f"{prefix}.meta", "--checkpoint", str(prefix),
                 "--feed", "pl_image:1x784", "--fetch", "logits", "--name", "mnist",
                 "--out", str(out), "--quiet"]) == 0
    from tfcompile.datasets import mnist
    test = mnist.synthetic_mnist(n_train=3000, n_test=1000, validation_size=1000, seed=0)[2]
    images = np.ascontiguousarray(test.images, np.float32)
    labels = test.labels.astype(np.int64)
    images.tofile(tmp_path / "images.bin")
    labels.tofile(tmp_path / "labels.bin")
    g = tf.Graph()
    with g.as_default():
        saver = tf.train.import_meta_graph(f"{prefix}.meta")
        with tf.Session(graph=g) as sess:
            saver.restore(sess, str(prefix))
            logits = sess.run("logits:0", {"pl_image:0": images})
    py_correct = int((logits.argmax(1) == labels).sum())
    prog = compile_c(MNIST_C, tmp_path / "classify", f"-I{out}", out / "libmnist.a", "-lm",
                     "-lpthread")
    c_correct, n = map(int, run_prog(prog, tmp_path / "images.bin",
                                     tmp_path / "labels.bin").split())
    assert n == len(labels)
    assert abs(c_correct - py_correct) <= 1, (c_correct, py_correct)



def test_convolutional_model_exports(tmp_path):
    # conv2d (implicit im2col, its bias/relu epilogue), max pool, a strided
    # VALID conv2d and a dense layer: the library's outputs equal Session.run's.
    rng = np.random.default_rng(3)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 12, 12, 3], name="x")
        k1 = tf.Variable(rng.normal(0, 0.3, (5, 5, 3, 20)).astype(np.float32))
        b1 = tf.Variable(rng.normal(0, 0.1, 20).astype(np.float32))
        k2 = tf.Variable(rng.normal(0, 0.3, (3, 3, 20, 7)).astype(np.float32))
        w = tf.Variable(rng.normal(0, 0.3, (2 * 2 * 7, 4)).astype(np.float32))
        h = tf.nn.relu(tf.nn.conv2d(x, k1, [1, 1, 1, 1], "SAME") + b1)
        p = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        c = tf.nn.conv2d(p, k2, [1, 2, 2, 1], "VALID")
        y = tf.matmul(tf.reshape(c, [-1, 28]), w, name="y")
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
    xs = rng.normal(size=(3, 12, 12, 3)).astype(np.float32)
    want = sess.run(y, {x: xs})
    exp = aot.export(sess, {x: [3, 12, 12, 3]}, [y], "cnn", tmp_path)
    got = load(exp.signature_file)(xs)
    got = got[0] if isinstance(got, list) else got
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
