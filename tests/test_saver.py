"""tf.train.Saver: save/restore round trips, the state file and max_to_keep,
TF's errors for missing keys and wrong shapes, damaged checkpoints."""
import json
import os

import numpy as np
import pytest

import tfcompile as tf
from tfcompile import checkpoint_io
from tfcompile.errors import (DataLossError, FailedPreconditionError,
                              InvalidArgumentError, NotFoundError)
from tfcompile.train import saver as saver_mod
from tfcompile.train.saver import Saver


def _model(seed=1):
    """A two-layer net; returns (graph, x, logits, [W1, b1, W2])."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 6], name="x")
        rng = np.random.default_rng(seed)
        W1 = tf.Variable(rng.normal(size=(6, 5)).astype(np.float32), name="W1")
        b1 = tf.Variable(rng.normal(size=(5,)).astype(np.float32), name="b1")
        W2 = tf.Variable(rng.normal(size=(5, 3)).astype(np.float32), name="dense/W2")
        h = tf.nn.relu(tf.matmul(x, W1) + b1)
        logits = tf.matmul(h, W2, name="logits")
    return g, x, logits, [W1, b1, W2]


def _scramble(sess, variables):
    # Distinct values, so a restore that skipped a variable shows.
    for v in variables:
        sess.run(v.assign(tf.zeros_like(v) - 7.0))


X = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)


def test_save_restore_new_session_reproduces_predictions(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        # Some state that differs from the initial values.
        sess.run(vs[0].assign(vs[0] * 0.5 + 0.25))
        want = sess.run(logits, {x: X})
        stored = {v.op.name: sess.run(v) for v in vs}
        assert saver.save(sess, prefix) == prefix
    with tf.Session(graph=g) as sess:
        saver.restore(sess, prefix)      # no initializer: restore sets them all
        got = sess.run(logits, {x: X})
        np.testing.assert_array_equal(got, want)
        for v in vs:
            np.testing.assert_array_equal(sess.run(v), stored[v.op.name])
    # The keys are the variables' op names; the values are the stored ones.
    assert saver_mod.list_variables(prefix) == [("W1", [6, 5]), ("b1", [5]),
                                                ("dense/W2", [5, 3])]
    np.testing.assert_array_equal(saver_mod.load_variable(prefix, "b1:0"), stored["b1"])


def test_restore_into_scrambled_session(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver(vs)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        want = sess.run(logits, {x: X})
        path = saver.save(sess, str(tmp_path / "m"))
        _scramble(sess, vs)
        assert not np.array_equal(sess.run(logits, {x: X}), want)
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(logits, {x: X}), want)


def test_dict_var_list_uses_its_keys(tmp_path):
    g, x, logits, (W1, b1, W2) = _model()
    with g.as_default():
        saver = Saver({"layer1/weights": W1, "bias": b1, "out": W2})
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer([W1, b1, W2]))
        w1 = sess.run(W1)
        path = saver.save(sess, str(tmp_path / "m"))
    assert sorted(checkpoint_io.read_index(path)) == ["bias", "layer1/weights", "out"]
    np.testing.assert_array_equal(checkpoint_io.read_checkpoint(path)["layer1/weights"], w1)


def test_global_step_names_and_state_file(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        step = tf.Variable(0, name="global_step", trainable=False)
        saver = Saver(max_to_keep=2)
        saver_padded = Saver(pad_step_number=True)
    base = str(tmp_path / "model")
    with tf.Session(graph=g) as sess:
        sess.run(tf.global_variables_initializer())
        paths = [saver.save(sess, base, global_step=i * 10) for i in range(4)]
        assert paths == [f"{base}-{i * 10}" for i in range(4)]
        sess.run(step.assign(42))
        # A step given as a Variable or a tensor name is read in the session.
        assert saver.save(sess, base, global_step=step) == base + "-42"
        assert saver.save(sess, base, global_step="global_step:0") == base + "-42"
        assert saver_padded.save(sess, str(tmp_path / "p"), global_step=7,
                                 latest_filename="padded") == str(tmp_path / "p-00000007")
    # max_to_keep=2: the files of older checkpoints are gone.
    for p in paths[:3]:
        assert not os.path.exists(p + ".index"), p
        assert not os.path.exists(p + ".data-00000-of-00001"), p
        assert not os.path.exists(p + ".meta"), p
    kept = [paths[3], base + "-42"]
    assert saver.last_checkpoints == kept
    for p in kept:
        assert os.path.exists(p + ".index") and os.path.exists(p + ".meta")
    state = saver_mod.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == base + "-42"
    assert state.all_model_checkpoint_paths == kept
    with open(tmp_path / "checkpoint") as f:
        text = f.read()
    # Absolute save paths are written as they are, as TF does.
    assert text == (f'model_checkpoint_path: "{base}-42"\n'
                    f'all_model_checkpoint_paths: "{base}-30"\n'
                    f'all_model_checkpoint_paths: "{base}-42"\n')
    assert saver_mod.latest_checkpoint(str(tmp_path)) == base + "-42"
    assert saver_mod.latest_checkpoint(str(tmp_path), "padded") == str(tmp_path / "p-00000007")


@pytest.mark.parametrize("relative_paths", [False, True])
def test_state_file_paths_relative_to_its_directory(tmp_path, monkeypatch, relative_paths):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver(max_to_keep=2, save_relative_paths=relative_paths)
    monkeypatch.chdir(tmp_path)
    os.mkdir("ckpts")
    save_path = "ckpts/model" if not relative_paths else str(tmp_path / "ckpts/model")
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        for step in (1, 2, 3):
            saver.save(sess, save_path, global_step=step)
    # TF writes paths relative to the state file's directory in both cases:
    # a relative save_dir, or save_relative_paths=True.
    with open("ckpts/checkpoint") as f:
        assert f.read() == ('model_checkpoint_path: "model-3"\n'
                            'all_model_checkpoint_paths: "model-2"\n'
                            'all_model_checkpoint_paths: "model-3"\n')
    assert saver_mod.latest_checkpoint("ckpts") == os.path.join("ckpts", "model-3")
    with tf.Session(graph=g) as sess:
        saver.restore(sess, saver_mod.latest_checkpoint("ckpts"))


def test_max_to_keep_zero_keeps_everything(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver(max_to_keep=0)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(3)]
    assert all(os.path.exists(p + ".index") for p in paths)
    assert saver.last_checkpoints == []
    state = saver_mod.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [paths[-1]]


def test_keep_checkpoint_every_n_hours_preserves_old_ones(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        # A tiny period: every checkpoint pushed out of the window is kept.
        saver = Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1e-9)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(3)]
    assert all(os.path.exists(p + ".index") for p in paths)
    assert saver.last_checkpoints == [paths[-1]]


def test_recover_last_checkpoints(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver(max_to_keep=2)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(2)]
        with g.as_default():
            again = Saver(max_to_keep=2)
        again.recover_last_checkpoints(paths + [str(tmp_path / "missing")])
        assert again.last_checkpoints == paths
        again.save(sess, str(tmp_path / "m"), global_step=5)
    assert not os.path.exists(paths[0] + ".index")
    assert os.path.exists(paths[1] + ".index")


def test_missing_variable_fails_naming_it(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        partial = Saver(vs[:2])
        full = Saver(vs)
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        path = partial.save(sess, str(tmp_path / "m"))
        before = sess.run(vs[0])
        _scramble(sess, vs[:1])
        with pytest.raises(NotFoundError, match="Key dense/W2 not found in checkpoint"):
            full.restore(sess, path)
        # Nothing was restored: W1 keeps its scrambled value.
        assert np.all(sess.run(vs[0]) == -7.0)
        partial.restore(sess, path)
        np.testing.assert_array_equal(sess.run(vs[0]), before)


def test_wrong_shape_or_dtype_fails_naming_the_variable(tmp_path):
    g1 = tf.Graph()
    with g1.as_default():
        a = tf.Variable(np.ones((3, 2), np.float32), name="a")
        b = tf.Variable(np.ones(4, np.float64), name="b")
        s1 = Saver()
    with tf.Session(graph=g1) as sess:
        sess.run(tf.global_variables_initializer())
        path = s1.save(sess, str(tmp_path / "m"))
    g2 = tf.Graph()
    with g2.as_default():
        tf.Variable(np.ones((2, 3), np.float32), name="a")
        s2 = Saver()
    with tf.Session(graph=g2) as sess:
        with pytest.raises(InvalidArgumentError) as e:
            s2.restore(sess, path)
        msg = str(e.value)
        assert "lhs shape= [2,3] rhs shape= [3,2]" in msg and "variable a" in msg
    g3 = tf.Graph()
    with g3.as_default():
        tf.Variable(np.ones(4, np.float32), name="b")
        s3 = Saver()
    with tf.Session(graph=g3) as sess:
        with pytest.raises(InvalidArgumentError,
                           match="tensor_name = b; expected dtype float does not "
                                 "equal original dtype double"):
            s3.restore(sess, path)
    # reshape=True accepts the same number of elements.
    g4 = tf.Graph()
    with g4.as_default():
        a4 = tf.Variable(np.zeros((2, 3), np.float32), name="a")
        s4 = Saver([a4], reshape=True)
    with tf.Session(graph=g4) as sess:
        s4.restore(sess, path)
        np.testing.assert_array_equal(sess.run(a4), np.ones((2, 3), np.float32))


def test_corrupted_checkpoint_raises_and_previous_stays_usable(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver()
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        want = sess.run(logits, {x: X})
        good = saver.save(sess, str(tmp_path / "m"), global_step=1)
        _scramble(sess, vs[2:])
        bad = saver.save(sess, str(tmp_path / "m"), global_step=2)
    data = bad + ".data-00000-of-00001"
    raw = bytearray(open(data, "rb").read())
    # Flip one byte inside a tensor: its crc32 no longer matches.
    with open(bad + ".index") as f:
        entry = json.load(f)["tensors"]["dense/W2"]
    raw[entry["offset"] + 5] ^= 0xFF
    with open(data, "wb") as f:
        f.write(raw)
    with tf.Session(graph=g) as sess:
        with pytest.raises(DataLossError, match="crc32"):
            saver.restore(sess, bad)
        saver.restore(sess, good)
        np.testing.assert_array_equal(sess.run(logits, {x: X}), want)
    # Truncation is reported as such.
    with open(data, "wb") as f:
        f.write(raw[:100])
    with tf.Session(graph=g) as sess:
        with pytest.raises(DataLossError, match="truncated"):
            saver.restore(sess, bad)


def test_crash_mid_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver()
    prefix = str(tmp_path / "m")
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        want = sess.run(logits, {x: X})
        saver.save(sess, prefix)
        _scramble(sess, vs)
        real_replace = os.replace

        def crash_on_index(src, dst):
            if dst.endswith(".index"):
                raise OSError("simulated crash while committing the index")
            return real_replace(src, dst)
        monkeypatch.setattr(checkpoint_io.os, "replace", crash_on_index)
        with pytest.raises(OSError, match="simulated crash"):
            saver.save(sess, prefix)
        monkeypatch.undo()
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(logits, {x: X}), want)
    assert saver_mod.latest_checkpoint(str(tmp_path)) == prefix


def test_errors_for_people(tmp_path):
    g, x, logits, vs = _model()
    with g.as_default():
        saver = Saver()
    with tf.Session(graph=g) as sess:
        with pytest.raises(FailedPreconditionError, match="uninitialized value W1"):
            saver.save(sess, str(tmp_path / "m"))
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            saver.restore(sess, str(tmp_path / "nothing"))
        with pytest.raises(ValueError, match="Can't load save_path when it is None"):
            saver.restore(sess, None)
        with pytest.raises(ValueError, match="Parent directory of"):
            saver.save(sess, str(tmp_path / "no" / "such" / "m"))
    with pytest.raises(TypeError, match="'sess' must be a Session"):
        saver.save(None, str(tmp_path / "m"))
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            Saver()
        empty = Saver(allow_empty=True)
        with tf.Session() as sess:
            assert empty.save(sess, str(tmp_path / "e")) is None
        v = tf.Variable(1.0, name="v")
        with pytest.raises(ValueError, match="restored with two names: v"):
            Saver({"a": v, "b": v})
        with pytest.raises(ValueError, match="At least two variables have the same name: v"):
            Saver([v, v])
        with pytest.raises(TypeError):
            Saver([1.0])


def test_saver_reserves_tf_scope_names():
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        s1, s2 = Saver(), Saver()
        assert s1.as_saver_def().restore_op_name == "save/restore_all"
        assert s2.as_saver_def().save_tensor_name == "save_1/control_dependency:0"
        with tf.name_scope("save") as scope:
            assert scope == "save_2/"
        # TF's plain Saver does not add itself to the SAVERS collection.
        assert tf.get_collection(tf.GraphKeys.SAVERS) == []


def test_defer_build():
    with tf.Graph().as_default():
        s = Saver(defer_build=True)
        v = tf.Variable(2.0, name="late")
        s.build()
        assert s.as_saver_def().variables == {"late": "late"}
        with pytest.raises(ValueError, match="build cannot be deferred"):
            Saver([v], defer_build=True)


def test_tf_train_names(tmp_path):
    assert tf.train.Saver is Saver
    g, x, logits, vs = _model()
    with g.as_default():
        saver = tf.train.Saver()
    with tf.Session(graph=g) as sess:
        sess.run(tf.variables_initializer(vs))
        w1 = sess.run(vs[0])
        path = saver.save(sess, str(tmp_path / "m"), global_step=3)
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    assert tf.train.checkpoint_exists(path)
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == path
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_shape_map()["W1"] == [6, 5]
    np.testing.assert_array_equal(reader.get_tensor("W1"), w1)
    # A directory stands for its latest checkpoint.
    assert ("b1", [5]) in tf.train.list_variables(str(tmp_path))
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "W1"), w1)
    with pytest.raises(NotFoundError, match="Key nope not found"):
        tf.train.load_variable(path, "nope")
    with pytest.raises(NotFoundError, match="Failed to find any matching files"):
        tf.train.NewCheckpointReader(str(tmp_path / "absent"))
