"""Meta graphs: attr values round-trip exactly, graphs and collections come
back with the same names, and a model is restored in a fresh process and fed
by tensor name."""
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tfcompile as tf
from tfcompile import meta_graph as mg
from tfcompile.train.saver import Saver


# ---------------------------------------------------------------- attr values

ATTR_VALUES = [
    None, True, False, 0, -3, 2 ** 40, 1.5, -0.0, 1e-300, "relu", "", "ünï",
    b"\x00\xffbytes", tf.float32, tf.int64, tf.bool,
    tf.TensorShape(None), tf.TensorShape([]), tf.TensorShape([None, 784]),
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array(3.25), np.array([], np.int64),
    np.array([[True, False]]), np.array([1, -2], np.int8), np.float64(0.1), np.int32(-7),
    [1, 2, 3], (4, [tf.float32, None]), {"a": 1, "b": [tf.TensorShape([2])]},
]


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b))
    if isinstance(a, tf.TensorShape):
        return isinstance(b, tf.TensorShape) and a.as_list() == b.as_list() \
            if a.ndims is not None else b.ndims is None
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return type(b) is float and (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("value", ATTR_VALUES, ids=lambda v: type(v).__name__)
def test_attr_values_round_trip_through_json(value):
    text = json.dumps(mg.encode_attr(value, "test"), allow_nan=False)
    assert _same(mg.decode_attr(json.loads(text), "test"), value)


def test_non_finite_floats_round_trip():
    for x in (math.inf, -math.inf):
        assert mg.decode_attr(json.loads(json.dumps(mg.encode_attr(x)))) == x
    assert math.isnan(mg.decode_attr(json.loads(json.dumps(mg.encode_attr(math.nan)))))
    arr = np.array([np.nan, np.inf, -np.inf, 1.0], np.float64)
    back = mg.decode_attr(json.loads(json.dumps(mg.encode_attr(arr))))
    assert back.tobytes() == arr.tobytes()


def test_unsupported_and_malformed_attrs_are_named():
    with pytest.raises(TypeError, match="op 'f'.*object"):
        mg.encode_attr(object(), "op 'f'")
    with pytest.raises(ValueError, match="needs 24 bytes"):
        mg.decode_attr({"type": "tensor", "dtype": "float32", "shape": [2, 3],
                        "data": "AAAA"}, "node x")
    with pytest.raises(ValueError, match="unknown dtype"):
        mg.decode_attr({"type": "dtype", "value": "complex512"})


# ---------------------------------------------------------------- graphs

def _build_model():
    """A small classifier with a hand-written training step (W -= 0.1 * W)."""
    rng = np.random.default_rng(3)
    x = tf.placeholder(tf.float32, [None, 8], name="pl_image")
    with tf.name_scope("dense"):
        W = tf.Variable(rng.normal(size=(8, 4)).astype(np.float32), name="kernel")
        b = tf.Variable(np.zeros(4, np.float32), name="bias")
    logits = tf.add(tf.matmul(x, W), b, name="logits")
    pred = tf.argmax(logits, 1, name="pred")
    step = tf.Variable(0, name="global_step", trainable=False,
                       collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP])
    train = tf.group(W.assign_sub(W * 0.1), step.assign_add(1), name="train")
    tf.add_to_collection(tf.GraphKeys.TRAIN_OP, train)
    tf.add_to_collection("logits", logits)
    tf.add_to_collection("notes", "hello")
    tf.add_to_collection("notes", 3)
    tf.add_to_collection("notes", 2.5)
    return x, logits, pred, W, b, train


def test_export_import_same_names_attrs_and_collections(tmp_path):
    g = tf.Graph()
    with g.as_default():
        _build_model()
        path = str(tmp_path / "m.meta")
        meta = tf.train.export_meta_graph(path)
    assert isinstance(meta, mg.MetaGraphDef) and os.path.exists(path)
    g2 = tf.Graph()
    with g2.as_default():
        saver = tf.train.import_meta_graph(path)
    assert isinstance(saver, Saver)
    ops1, ops2 = g.get_operations(), g2.get_operations()
    assert [(o.name, o.type) for o in ops1] == [(o.name, o.type) for o in ops2]
    for a, b in zip(ops1, ops2):
        assert [t.name for t in a.inputs] == [t.name for t in b.inputs]
        assert [c.name for c in a.control_inputs] == [c.name for c in b.control_inputs]
        assert sorted(a.attrs) == sorted(b.attrs)
        for k in a.attrs:
            assert _same(a.attrs[k], b.attrs[k]), (a.name, k)
        for ta, tb in zip(a.outputs, b.outputs):
            assert ta.dtype == tb.dtype and ta.shape.as_list() == tb.shape.as_list()
    # Collections: the same kinds of objects with the same names.
    for key in g.get_all_collection_keys():
        want = [getattr(x, "name", x) for x in g.get_collection(key)]
        got = [getattr(x, "name", x) for x in g2.get_collection(key)]
        assert got == want, key
    gv = g2.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
    tv = g2.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
    assert all(isinstance(v, tf.Variable) for v in gv)
    assert tv[0] is gv[0] and tv[1] is gv[1]          # one object per variable
    assert g2.get_collection(tf.GraphKeys.GLOBAL_STEP)[0] is gv[2]
    assert [v.trainable for v in gv] == [True, True, False]
    assert isinstance(g2.get_collection(tf.GraphKeys.TRAIN_OP)[0], tf.Operation)
    # The imported graph runs: initializers, the train op, fetches by name.
    with tf.Session(graph=g2) as sess:
        sess.run(tf.variables_initializer(gv))
        kernel = sess.run("dense/kernel:0")
        sess.run("train")
        np.testing.assert_allclose(sess.run(gv[0]), kernel - np.float32(0.1) * kernel,
                                   rtol=1e-6)
        assert sess.run(gv[2]) == 1
    # New ops and scopes don't clash with imported names (as TF numbers them).
    with g2.as_default():
        with tf.name_scope("dense") as scope:
            assert scope == "dense_1/"
        assert tf.constant(1.0, name="logits").op.name == "logits_1"


def test_import_scope_prefixes_names_and_saver_restores(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x, logits, pred, W, b, train = _build_model()
        saver = Saver()
    xs = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float32)
    with tf.Session(graph=g) as sess:
        sess.run(tf.global_variables_initializer())
        want = sess.run(logits, {x: xs})
        prefix = saver.save(sess, str(tmp_path / "model"))
    g2 = tf.Graph()
    with g2.as_default():
        tf.Variable(1.0, name="other")
        s2 = mg.import_meta_graph(prefix + ".meta", import_scope="imported")
    assert g2.get_tensor_by_name("imported/logits:0").shape.as_list() == [None, 4]
    assert s2.as_saver_def().restore_op_name == "imported/save/restore_all"
    with tf.Session(graph=g2) as sess:
        s2.restore(sess, prefix)        # checkpoint keys stay unscoped
        got = sess.run("imported/logits:0", {"imported/pl_image:0": xs})
    np.testing.assert_array_equal(got, want)
    # Importing the same names again without a scope is refused, by name.
    with g2.as_default():
        mg.import_meta_graph(prefix + ".meta")
        with pytest.raises(ValueError, match="already has an operation named 'pl_image'"):
            mg.import_meta_graph(prefix + ".meta")


def test_export_scope_and_write_graph(tmp_path):
    g = tf.Graph()
    with g.as_default():
        with tf.name_scope("tower"):
            a = tf.placeholder(tf.float32, [2], name="a")
            tf.multiply(a, 2.0, name="double")
        tf.constant(1.0, name="outside")
        meta = mg.export_meta_graph(export_scope="tower")
        path = mg.write_graph(g, str(tmp_path / "graphs"), "g.json")
    in_scope = [op.name[len("tower/"):] for op in g.get_operations()
                if op.name.startswith("tower/")]
    assert [n["name"] for n in meta.graph_def["node"]] == in_scope
    assert "double" in in_scope and "outside" not in in_scope
    with open(path) as f:
        written = json.load(f)
    assert written["format"] == "tfcompile-graph"
    assert {n["name"] for n in written["node"]} >= {"tower/a", "tower/double", "outside"}
    g2 = tf.Graph()
    with g2.as_default():
        mg.import_meta_graph(meta)
    with tf.Session(graph=g2) as sess:
        np.testing.assert_array_equal(
            sess.run("double:0", {"a:0": np.array([1.5, -2], np.float32)}), [3.0, -4.0])


def test_unserializable_collection_items_are_left_out_with_a_warning():
    g = tf.Graph()
    with g.as_default():
        tf.Variable(1.0, name="v")
        tf.add_to_collection("odd", object())
        with pytest.warns(UserWarning, match="collection 'odd'"):
            meta = mg.export_meta_graph()
    assert "odd" not in meta.collection_def


def test_damaged_meta_graph_files_raise_clear_errors(tmp_path):
    g = tf.Graph()
    with g.as_default():
        tf.Variable(1.0, name="v")
        path = str(tmp_path / "m.meta")
        mg.export_meta_graph(path, as_text=True)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="truncated"):
            mg.import_meta_graph(path)
        with open(path, "w") as f:
            json.dump({"format": "something-else"}, f)
        with pytest.raises(ValueError, match="not a tfcompile meta graph"):
            mg.import_meta_graph(path)
        with pytest.raises(OSError, match="does not exist"):
            mg.import_meta_graph(str(tmp_path / "missing.meta"))
        bad = json.loads(data)
        bad["graph_def"]["node"][-1]["input"] = ["nowhere:0"]
        with pytest.raises(ValueError, match="'nowhere:0', which no node"):
            mg.import_meta_graph(mg.MetaGraphDef.from_dict(bad))


# ---------------------------------------------------------------- a fresh process

_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import tfcompile as tf
    from tfcompile.meta_graph import import_meta_graph

    prefix, out = sys.argv[1], sys.argv[2]
    saver = import_meta_graph(prefix + ".meta")
    graph = tf.get_default_graph()
    x = graph.get_tensor_by_name("pl_image:0")
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        xs = np.load(out + ".x.npy")
        logits, pred = sess.run(["logits:0", "pred:0"], {x: xs})
        sess.run(graph.get_collection("train_op")[0])
        kernel = sess.run("dense/kernel:0")
    np.savez(out, logits=logits, pred=pred, kernel=kernel)
""")


def test_fresh_process_restores_and_feeds_by_name(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x, logits, pred, W, b, train = _build_model()
        saver = Saver()
    xs = np.random.default_rng(2).normal(size=(7, 8)).astype(np.float32)
    with tf.Session(graph=g) as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)                   # state that isn't the initial value
        want_logits, want_pred = sess.run([logits, pred], {x: xs})
        kernel = sess.run(W)
        prefix = saver.save(sess, str(tmp_path / "model"), global_step=1)
    out = str(tmp_path / "child")
    np.save(out + ".x.npy", xs)
    proc = subprocess.run([sys.executable, "-c", _CHILD, prefix, out],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(out + ".npz")
    np.testing.assert_array_equal(got["logits"], want_logits)
    np.testing.assert_array_equal(got["pred"], want_pred)
    # The imported train op updates the restored weights as the original does.
    np.testing.assert_allclose(got["kernel"], kernel - np.float32(0.1) * kernel, rtol=1e-6)


@pytest.mark.parametrize("make_opt", [lambda: tf.train.AdamOptimizer(0.01),
                                      lambda: tf.train.MomentumOptimizer(0.1, 0.9)],
                         ids=["adam", "momentum"])
def test_training_resumes_after_import_exactly(tmp_path, make_opt):
    """Slots, the global step and the train op come back: one more step after
    import_meta_graph + restore equals one more step in the original session."""
    rng = np.random.default_rng(4)
    xs = rng.normal(size=(16, 8)).astype(np.float32)
    ys = rng.integers(0, 4, size=16).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        x, logits, pred, W, b, _ = _build_model()
        y = tf.placeholder(tf.int64, [None], name="pl_label")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits), name="loss")
        train = make_opt().minimize(loss, global_step=tf.train.get_or_create_global_step(),
                                    name="minimize")
        tf.add_to_collection("minimize", train)
        saver = tf.train.Saver()
    with tf.Session(graph=g) as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {x: xs, y: ys})
        prefix = saver.save(sess, str(tmp_path / "m"))
        sess.run(train, {x: xs, y: ys})
        want = sess.run([logits, loss], {x: xs, y: ys})
    with tf.Graph().as_default() as g2:
        s2 = tf.train.import_meta_graph(prefix + ".meta")
        with tf.Session(graph=g2) as sess:
            s2.restore(sess, prefix)
            feed = {"pl_image:0": xs, "pl_label:0": ys}
            sess.run(g2.get_collection("minimize")[0], feed)
            got = sess.run(["logits:0", "loss:0"], feed)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
