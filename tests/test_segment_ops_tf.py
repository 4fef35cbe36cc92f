"""The segment, unique, partition and counting ops run under tfcompile and
under TensorFlow's graph mode (tf.compat.v1), compared result for result:
values, dtypes, static shapes, tensor names (where TF 2's compat.v1 names
them as TF 1.15 does), gradients, and the errors raised.

Skipped when TensorFlow isn't installed (it is never a dependency)."""
import numpy as np
import pytest

import tfcompile

tf_real = pytest.importorskip("tensorflow")
tf1 = tf_real.compat.v1
pytestmark = pytest.mark.slow

RNG = np.random.default_rng(5)
DATA = RNG.uniform(-2, 2, (6, 3)).astype(np.float32)
DATA[4, 1] = DATA[0, 1]            # a tie for max
IDS2 = np.array([[2, 0, -1], [2, 4, 0]], np.int32)
SORTED_IDS = np.array([0, 0, 2, 2, 2, 5], np.int64)
VEC = np.array([4, 1, 4, 7, 1, 4, 9], np.int64)
PARTS = np.array([2, 0, 2, 1, 0, 2], np.int32)
LABELS = np.array([0, 3, 1, 3, 2, 1], np.int32)
PREDS = np.array([0, 2, 1, 3, 3, 0], np.int32)
W = RNG.uniform(0, 1, 6).astype(np.float32)

# TF 2 builds these differently from TF 1.15 (DenseBincount, ScatterNd; our
# names follow 1.15): only their values, dtypes and shapes are compared
NAMES_DIFFER = ("bincount", "confusion")


def prog_segments(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    i = tf.placeholder(tf.int64, [None], name="i")
    k = tf.placeholder(tf.int32, [], name="k")
    d = tf.reshape(x, [2, 3, 3])
    out = {
        "usum": tf.unsorted_segment_sum(d, IDS2, 5),
        "umax": tf.unsorted_segment_max(d, IDS2, 5),
        "umin": tf.math.unsorted_segment_min(d, IDS2, 5),
        "uprod": tf.unsorted_segment_prod(d, IDS2, 5),
        "umean": tf.math.unsorted_segment_mean(d, IDS2, 5),
        "usqrtn": tf.math.unsorted_segment_sqrt_n(d, IDS2, 5),
        "ufed": tf.unsorted_segment_sum(x, [1, 0, 1, 3, 0, 0], k),
        "ssum": tf.segment_sum(x, i), "smean": tf.segment_mean(x, i),
        "smax": tf.math.segment_max(x, i), "smin": tf.segment_min(x, i),
        "sprod": tf.segment_prod(x, i),
        "smean_int": tf.segment_mean(tf.cast(x * 10, tf.int32), i),
        "umax_int": tf.unsorted_segment_max(tf.cast(x * 10, tf.int64), [1, 0, 1, 3, 0, 0], 5),
        "uprod_int": tf.unsorted_segment_prod(tf.cast(x * 3, tf.int32), [1, 0, 1, 3, 0, 0], 5),
    }
    grads = {}
    for key in ("usum", "umax", "umin", "uprod", "umean", "usqrtn", "ssum", "smean", "smax",
                "smin", "sprod"):
        grads["d_" + key] = tf.gradients(tf.reduce_sum(tf.square(out[key])), x)[0]
    out.update(grads)
    return out, {x: DATA, i: SORTED_IDS, k: 4}


def prog_sets(tf):
    v = tf.placeholder(tf.int64, [None], name="v")
    f = tf.placeholder(tf.float32, [None], name="f")
    y = tf.placeholder(tf.int64, [None], name="y")
    u = tf.unique(v)
    uc = tf.unique_with_counts(v, out_idx=tf.int64)
    uf = tf.unique(f)
    sd = tf.setdiff1d(v, y)
    # compat.v1 has only the newer name of listdiff
    sd64 = (tf.listdiff(v, y, out_idx=tf.int64) if tf is tfcompile else
            tf.setdiff1d(v, y, index_dtype=tf.int64))
    out = {"u_y": u.y, "u_idx": u.idx, "uc_y": uc.y, "uc_idx": uc.idx, "uc_count": uc.count,
           "uf_y": uf.y, "uf_idx": uf.idx, "sd_out": sd.out, "sd_idx": sd.idx,
           "sd64_idx": sd64.idx}
    fv = np.array([1.5, np.nan, -0.0, 1.5, 0.0, np.nan], np.float32)
    return out, {v: VEC, f: fv, y: np.array([4, 8], np.int64)}


def prog_partition(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    p = tf.placeholder(tf.int32, [None], name="p")
    parts = tf.dynamic_partition(x, p, 3)
    st = tf.dynamic_stitch([p, tf.constant([3, 6])], [tf.reduce_sum(x, 1), [5.0, 7.0]])
    cst = tf.dynamic_stitch([[0, 2], [1]], [[[1, 2], [3, 4]], [[5, 6]]])
    # compat.v1 has parallel_dynamic_stitch as a raw op only
    par = (tf.parallel_dynamic_stitch if tf is tfcompile else
           lambda indices, data: tf_real.raw_ops.ParallelDynamicStitch(indices=indices, data=data))
    pst = par([tf.constant([1, 0]), p], [tf.constant([[1.0, 2.0]] * 2), tf.zeros_like(x)[:, :2]])
    out = {f"part{j}": t for j, t in enumerate(parts)}
    out.update(stitch=st, stitch_const=cst, stitch_parallel=pst)
    out["d_part"] = tf.gradients(tf.reduce_sum(tf.square(parts[0])) + tf.reduce_sum(parts[2]),
                                 x)[0]
    out["d_stitch"] = tf.gradients(tf.reduce_sum(tf.square(st)), x)[0]
    return out, {x: DATA, p: PARTS}


def prog_counts(tf):
    a = tf.placeholder(tf.int32, [None], name="a")
    w = tf.placeholder(tf.float32, [None], name="w")
    lab = tf.placeholder(tf.int32, [None], name="lab")
    pred = tf.placeholder(tf.int32, [None], name="pred")
    cm_w = tf.confusion_matrix(lab, pred, num_classes=5, weights=w, dtype=tf.float32)
    out = {
        "bincount": tf.bincount(a), "bincount_w": tf.math.bincount(a, weights=w),
        "bincount_min": tf.bincount(a, minlength=9, dtype=tf.int64),
        "bincount_max": tf.bincount(a, maxlength=3, dtype=tf.float64),
        "bincount_fix": tf.bincount(a, minlength=4, maxlength=4),
        "bincount_const": tf.bincount([1, 1, 3]),
        "confusion": tf.confusion_matrix(lab, pred),
        "confusion_n": tf.math.confusion_matrix(lab, pred, num_classes=6, dtype=tf.int64),
        "confusion_w": cm_w,
        "confusion_dw": tf.gradients(tf.reduce_sum(tf.square(cm_w)), w)[0],
    }
    return out, {a: LABELS, w: W, lab: LABELS, pred: PREDS}


def _run(module, prog):
    with module.Graph().as_default():
        out, feeds = prog(module)
        with module.Session() as s:
            vals = s.run(out, feeds)
        info = {k: (t.name, t.dtype.name, None if t.shape.ndims is None else t.shape.as_list())
                for k, t in out.items()}
    return vals, info


@pytest.mark.parametrize("prog", [prog_segments, prog_sets, prog_partition, prog_counts])
def test_same_as_tensorflow(prog):
    ours, our_info = _run(tfcompile, prog)
    theirs, their_info = _run(tf1, prog)
    for k in theirs:
        name, dtype, shape = our_info[k]
        tname, tdtype, tshape = their_info[k]
        assert (dtype, shape) == (tdtype, tshape), k
        if not k.startswith(NAMES_DIFFER) and not k.startswith("d_"):
            assert name == tname, k
        got, want = np.asarray(ours[k]), np.asarray(theirs[k])
        assert got.dtype == want.dtype and got.shape == want.shape, k
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=k)


# ---------------------------------------------------------------- errors

def _error_cases(tf):
    d = np.ones(4, np.float32)
    return {
        "ids past num_segments": lambda: tf.unsorted_segment_sum(d, [0, 0, 5, -1], 4),
        "not increasing": lambda: tf.segment_sum(d, [0, 2, 1, 2]),
        "negative sorted id": lambda: tf.segment_max(d, [-1, 0, 1, 2]),
        "partition out of range": lambda: tf.dynamic_partition(d, [0, 1, 3, 1], 2)[0],
        "negative stitch index": lambda: tf.dynamic_stitch([[0, -1], [1]],
                                                           [[1.0, 2.0], [4.0]]),
        "negative bincount": lambda: tf.bincount(tf.placeholder_with_default([1, -1, 3],
                                                                             [3])),
        "confusion out of bound": lambda: tf.confusion_matrix(
            tf.placeholder_with_default([1, 5], [2]), [0, 0], num_classes=3),
    }


def _outcome(module, case):
    with module.Graph().as_default():
        try:
            t = _error_cases(module)[case]()
            with module.Session() as s:
                s.run(t)
        except Exception as e:  # noqa: BLE001 - the class and message are compared
            return type(e).__name__, getattr(e, "message", str(e))
    return "no error", ""


@pytest.mark.parametrize("case", list(_error_cases(tfcompile)))
def test_same_errors_as_tensorflow(case):
    ours, our_message = _outcome(tfcompile, case)
    theirs, their_message = _outcome(tf1, case)
    assert ours == theirs == "InvalidArgumentError"
    # TF 2 wraps the kernel's message in lines about where the node was made
    assert our_message in their_message


def _build_error(tf, case):
    f = tf.placeholder(tf.float32, [4, 3, 2])
    return {
        "prefix": lambda: tf.unsorted_segment_sum(f, tf.placeholder(tf.int32, [4, 2]), 5),
        "rank": lambda: tf.unsorted_segment_sum(tf.placeholder(tf.float32, [4]),
                                                tf.placeholder(tf.int32, [4, 2]), 5),
        "float ids": lambda: tf.unsorted_segment_sum(f, [0.0, 1.0, 0.0, 1.0], 2),
        "bool data": lambda: tf.segment_sum([True, False], [0, 1]),
        "unique rank": lambda: tf.unique([[1, 2]]),
        "partitions int64": lambda: tf.dynamic_partition(
            f, tf.constant([0, 1, 0, 1], tf.int64), 2),
        "stitch shapes": lambda: tf.dynamic_stitch([[0, 1], [1]], [[1.0, 2.0], [4.0, 5.0]]),
        "setdiff rank": lambda: tf.setdiff1d([[1, 2]], [1]),
    }[case]()


@pytest.mark.parametrize("case", ["prefix", "rank", "float ids", "bool data", "unique rank",
                                  "partitions int64", "stitch shapes", "setdiff rank"])
def test_same_build_errors_as_tensorflow(case):
    got = []
    for module in (tfcompile, tf1):
        with module.Graph().as_default():
            with pytest.raises((ValueError, TypeError)) as e:
                _build_error(module, case)
            got.append(type(e.value).__name__)
    assert got[0] == got[1]
