"""Program plumbing: tf.app.flags, tf.app.run, tf.gfile / tf.io.gfile,
tf.train.Coordinator, start_queue_runners, identity_n, tables_initializer,
make_template, report_uninitialized_variables, assert_variables_initialized.

The oracle is TF 1.15's documented behaviour, written out case by case; where
TensorFlow (and so absl) is installed the flag parsing, gfile and template
cases are also run against it (skipped without it)."""
import threading
import time

import numpy as np
import pytest

import tfcompile as tf
from tfcompile import app_flags

# ---------------------------------------------------------------- flags


def _fresh_flags(mod):
    """A FlagValues with one flag of each kind, defined through module `mod`."""
    fv = mod.FlagValues()
    mod.DEFINE_string("name", "anon", "a string", flag_values=fv)
    mod.DEFINE_integer("steps", 10, "an int", flag_values=fv)
    mod.DEFINE_float("lr", 0.5, "a float", flag_values=fv)
    mod.DEFINE_boolean("debug", False, "a bool", flag_values=fv)
    mod.DEFINE_bool("fast", True, "another bool", flag_values=fv)
    mod.DEFINE_enum("mode", "train", ["train", "eval"], "an enum", flag_values=fv)
    mod.DEFINE_list("layers", "a,b", "a list", flag_values=fv)
    return fv


PARSE_CASES = [
    ["prog"],
    ["prog", "--name=bob", "--steps", "7", "--lr=1e-3"],
    ["prog", "--debug", "--nofast"],
    ["prog", "--debug=false", "--fast=true"],
    ["prog", "--debug=0", "--fast=F"],
    ["prog", "-steps=3", "pos1", "--mode", "eval", "pos2"],
    ["prog", "--layers=x, y ,z", "--", "--steps=5"],
    ["prog", "--layers=", "--steps=0x10"],
    ["prog", "--steps=-4", "--lr", "-2.5"],
]


def _parse(mod, argv, known_only=False):
    fv = _fresh_flags(mod)
    rest = fv(argv, known_only=known_only) if known_only else fv(argv)
    return rest, {k: getattr(fv, k) for k in
                  ("name", "steps", "lr", "debug", "fast", "mode", "layers")}


@pytest.mark.parametrize("argv", PARSE_CASES)
def test_flag_parsing(argv):
    rest, vals = _parse(app_flags, argv)
    assert rest[0] == "prog"
    assert isinstance(vals["steps"], int) and isinstance(vals["lr"], float)
    assert isinstance(vals["debug"], bool) and isinstance(vals["layers"], list)


def test_flag_parsing_values():
    rest, v = _parse(app_flags, PARSE_CASES[1])
    assert rest == ["prog"] and (v["name"], v["steps"], v["lr"]) == ("bob", 7, 1e-3)
    assert _parse(app_flags, ["prog"])[1] == {
        "name": "anon", "steps": 10, "lr": 0.5, "debug": False, "fast": True, "mode": "train",
        "layers": ["a", "b"]}
    assert _parse(app_flags, PARSE_CASES[2])[1]["debug"] is True
    assert _parse(app_flags, PARSE_CASES[2])[1]["fast"] is False
    assert _parse(app_flags, PARSE_CASES[3])[1]["debug"] is False
    rest, v = _parse(app_flags, PARSE_CASES[5])
    assert rest == ["prog", "pos1", "pos2"] and v["steps"] == 3 and v["mode"] == "eval"
    rest, v = _parse(app_flags, PARSE_CASES[6])
    assert v["layers"] == ["x", "y", "z"] and rest == ["prog", "--steps=5"] and v["steps"] == 10
    assert _parse(app_flags, PARSE_CASES[7])[1]["layers"] == []
    assert _parse(app_flags, PARSE_CASES[7])[1]["steps"] == 16
    assert _parse(app_flags, PARSE_CASES[8])[1]["lr"] == -2.5


def test_unknown_flags():
    with pytest.raises(app_flags.UnrecognizedFlagError, match="Unknown command line flag 'x'"):
        _parse(app_flags, ["prog", "--x=1"])
    rest, v = _parse(app_flags, ["prog", "--x=1", "--steps=2", "--y", "a", "--", "b"],
                     known_only=True)
    assert rest == ["prog", "--x=1", "--y", "a", "--", "b"] and v["steps"] == 2


@pytest.mark.parametrize("argv", [["p", "--steps=abc"], ["p", "--lr=x"], ["p", "--mode=test"],
                                  ["p", "--debug=maybe"]])
def test_bad_flag_values(argv):
    with pytest.raises(app_flags.IllegalFlagValueError, match=argv[1].split("=")[0]):
        _parse(app_flags, argv)


def test_flag_errors_and_bounds():
    fv = _fresh_flags(app_flags)
    with pytest.raises(app_flags.DuplicateFlagError, match="'steps' is defined twice"):
        app_flags.DEFINE_integer("steps", 1, "again", flag_values=fv)
    with pytest.raises(app_flags.Error, match="Missing value"):
        fv(["p", "--steps"])
    with pytest.raises(ValueError, match="does not take an argument"):
        fv(["p", "--nodebug=1"])
    with pytest.raises(app_flags.UnparsedFlagAccessError):
        app_flags.FlagValues().__class__  # noqa: B018 - a fresh registry is fine to touch
        fresh = app_flags.FlagValues()
        app_flags.DEFINE_string("s", "x", "", flag_values=fresh)
        fresh.s  # noqa: B018 - unparsed explicit registry: absl refuses
    with pytest.raises(AttributeError):
        fv.missing  # noqa: B018
    app_flags.DEFINE_integer("k", 5, "", lower_bound=0, upper_bound=9, flag_values=fv)
    with pytest.raises(app_flags.IllegalFlagValueError, match="not <= 9"):
        fv(["p", "--k=10"])
    fv(["p", "--k=9"])
    assert fv.k == 9 and fv["k"].default == 5 and fv["k"].value == 9
    fv.k = 3
    with pytest.raises(app_flags.UnrecognizedFlagError):
        fv.nope = 1
    assert fv.k == 3 and fv.flag_values_dict()["k"] == 3
    app_flags.DEFINE_string("req", None, "", flag_values=fv)
    app_flags.mark_flag_as_required("req", flag_values=fv)
    with pytest.raises(app_flags.IllegalFlagValueError, match="req"):
        fv(["p"])
    assert fv(["p", "--req=ok", "x"]) == ["p", "x"] and fv.req == "ok"


def test_global_flags_lazy_parse_and_app_run(monkeypatch):
    assert tf.app.flags is tf.flags
    # a private global FLAGS so the test leaves the real one untouched
    fv = app_flags.FlagValues(lazy=True)
    monkeypatch.setattr(app_flags, "FLAGS", fv)
    app_flags.DEFINE_integer("batch", 4, "", flag_values=fv)
    monkeypatch.setattr("sys.argv", ["prog", "--unknown=1", "--batch=8", "pos"])
    assert fv.batch == 8 and fv.is_parsed()     # parsed sys.argv on first access
    fv.unparse_flags()
    seen = []

    def main(argv):
        seen.append(argv)
        return 3
    with pytest.raises(SystemExit) as e:
        tf.app.run(main, argv=["prog", "--batch=2", "--other", "x"])
    assert e.value.code == 3 and seen == [["prog", "--other", "x"]] and fv.batch == 2
    with pytest.raises(SystemExit) as e:
        tf.app.run(main, argv=["prog", "--batch=oops"])
    assert e.value.code == 1


def test_flags_cross_check_absl():
    tf_real = pytest.importorskip("tensorflow")
    absl = tf_real.compat.v1.app.flags
    for argv in PARSE_CASES:
        assert _parse(app_flags, argv) == _parse(absl, argv), argv
        assert _parse(app_flags, argv + ["--zz", "q"], True) == \
            _parse(absl, argv + ["--zz", "q"], True), argv


# ---------------------------------------------------------------- gfile

def _tree(root):
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f1.txt").write_bytes(b"one\ntwo\nthree")
    (root / "a" / "b" / "f2.bin").write_bytes(bytes(range(5)))
    (root / "top.txt").write_text("x")
    (root / "a" / ".hidden").write_text("")


def test_gfile_v1(tmp_path):
    g = tf.gfile
    _tree(tmp_path)
    root = str(tmp_path)
    assert g.Exists(root + "/a/f1.txt") and not g.Exists(root + "/nope")
    assert g.IsDirectory(root + "/a") and not g.IsDirectory(root + "/top.txt")
    assert sorted(g.ListDirectory(root)) == ["a", "top.txt"]
    assert sorted(g.Glob(root + "/a/*.txt")) == [root + "/a/f1.txt"]
    assert sorted(g.Glob(root + "/a/*")) == [root + "/a/.hidden", root + "/a/b",
                                             root + "/a/f1.txt"]
    assert g.Glob(root + "/*/b/*.bin") == [root + "/a/b/f2.bin"]
    assert g.Glob(root + "/top.txt") == [root + "/top.txt"] and g.Glob(root + "/q*") == []
    walk = list(g.Walk(root))
    assert [w[0] for w in walk] == [root, root + "/a", root + "/a/b"]
    assert walk[1][1] == ["b"] and sorted(walk[1][2]) == [".hidden", "f1.txt"]
    assert [w[0] for w in g.Walk(root, in_order=False)] == [root + "/a/b", root + "/a", root]
    assert list(g.Walk(root + "/nope")) == []
    st = g.Stat(root + "/a/f1.txt")
    assert st.length == 13 and not st.is_directory and st.mtime_nsec > 0
    assert g.Stat(root + "/a").is_directory
    g.MakeDirs(root + "/x/y/z")
    g.MakeDirs(root + "/x/y/z")              # existing directory: fine
    g.MkDir(root + "/x/w")
    g.MkDir(root + "/x/w")                 # TF's wrapper drops ALREADY_EXISTS
    with pytest.raises(tf.errors.FailedPreconditionError, match="is not a directory"):
        g.MakeDirs(root + "/top.txt")
    with pytest.raises(tf.errors.NotFoundError):
        g.MkDir(root + "/q/r")
    g.Copy(root + "/top.txt", root + "/x/c.txt")
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.Copy(root + "/top.txt", root + "/x/c.txt")
    (tmp_path / "top.txt").write_text("new")
    g.Copy(root + "/top.txt", root + "/x/c.txt", overwrite=True)
    assert (tmp_path / "x" / "c.txt").read_text() == "new"
    g.Rename(root + "/x/c.txt", root + "/x/d.txt")
    assert not g.Exists(root + "/x/c.txt")
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.Rename(root + "/top.txt", root + "/x/d.txt")
    g.Rename(root + "/top.txt", root + "/x/d.txt", overwrite=True)
    for fn, args in [(g.Remove, ("/nope",)), (g.DeleteRecursively, ("/nope",)),
                     (g.ListDirectory, ("/nope",)), (g.Stat, ("/nope",)),
                     (g.Copy, ("/nope", "/x/e")), (g.Rename, ("/nope", "/x/e"))]:
        with pytest.raises(tf.errors.NotFoundError):
            fn(*(root + a for a in args))
    g.Remove(root + "/x/d.txt")
    g.DeleteRecursively(root + "/x")
    assert not g.Exists(root + "/x")
    assert g.Open is g.GFile and g.FastGFile is g.GFile


def test_gfile_files(tmp_path):
    p = str(tmp_path / "f.txt")
    with tf.gfile.GFile(p, "w") as f:
        f.write("héllo\n")
        f.write(b"line2\r\nlast")
        f.flush()
        assert f.size() == 18 and f.tell() == 18
        with pytest.raises(tf.errors.PermissionDeniedError):
            f.read()
    with tf.gfile.GFile(p) as f:
        assert f.readline() == "héllo\n" and f.tell() == 7
        assert f.readline() == "line2\r\n" and f.readline() == "last" and f.readline() == ""
        f.seek(0)
        assert f.read(3) == "hé"
        f.seek(position=1)
        assert f.readlines() == ["éllo\n", "line2\r\n", "last"]
        assert f.size() == 18
        with pytest.raises(tf.errors.PermissionDeniedError):
            f.write("x")
    assert list(tf.gfile.GFile(p)) == ["héllo\n", "line2\r\n", "last"]
    tf.gfile.GFile(str(tmp_path / "unwritten"), "w").close()
    assert not tf.gfile.Exists(str(tmp_path / "unwritten"))   # opened lazily, as TF's
    with tf.gfile.GFile(p, "ab") as f:
        f.write(b"\x00\xff")
    with tf.gfile.GFile(p, "rb") as f:
        data = f.read()
    assert isinstance(data, bytes) and data.endswith(b"last\x00\xff") and len(data) == 20
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.GFile(str(tmp_path / "missing")).read()
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.gfile.GFile(p, "x")
    f = tf.gfile.GFile(p)
    f.close()
    with pytest.raises(ValueError):
        f.read()


def test_io_gfile_v2(tmp_path):
    g = tf.io.gfile
    _tree(tmp_path)
    root = str(tmp_path)
    assert g.exists(root + "/a") and g.isdir(root + "/a")
    assert sorted(g.listdir(root + "/a")) == [".hidden", "b", "f1.txt"]
    assert [w[0] for w in g.walk(root, topdown=False)][-1] == root
    errors = []
    assert list(g.walk(root + "/nope", onerror=errors.append)) == []
    assert isinstance(errors[0], tf.errors.NotFoundError)
    g.makedirs(root + "/m/n")
    g.mkdir(root + "/m/o")
    g.copy(root + "/top.txt", root + "/m/t")
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.rename(root + "/a/f1.txt", root + "/m/t")
    g.rename(root + "/a/f1.txt", root + "/m/t", overwrite=True)
    assert g.stat(root + "/m/t").length == 13
    assert sorted(g.glob(root + "/m/*")) == [root + "/m/n", root + "/m/o", root + "/m/t"]
    g.remove(root + "/m/t")
    g.rmtree(root + "/m")
    with pytest.raises(tf.errors.NotFoundError):
        g.rmtree(root + "/m")
    with g.GFile(root + "/w.bin", "wb") as f:
        f.write(b"abc")
    assert g.GFile(root + "/w.bin", "rb").read() == b"abc"


def test_gfile_cross_check(tmp_path):
    tf_real = pytest.importorskip("tensorflow")
    _tree(tmp_path)
    root = str(tmp_path)
    for ours, theirs in [(tf.io.gfile, tf_real.io.gfile), (tf.gfile, tf_real.compat.v1.gfile)]:
        if ours is tf.gfile:
            calls = [("ListDirectory", root + "/a"), ("IsDirectory", root + "/a"),
                     ("Exists", root + "/zz"), ("Glob", root + "/*/*")]
            walk = ("Walk", root)
        else:
            calls = [("listdir", root + "/a"), ("isdir", root + "/top.txt"),
                     ("exists", root + "/a"), ("glob", root + "/a/*"),
                     ("glob", root + "/*/[a-z]"), ("glob", root + "/a/b/*.bin")]
            walk = ("walk", root)
        for name, arg in calls:
            a, b = getattr(ours, name)(arg), getattr(theirs, name)(arg)
            assert (sorted(a) if isinstance(a, list) else a) == \
                (sorted(b) if isinstance(b, list) else b), name
        norm = [(d, sorted(s), sorted(f)) for d, s, f in getattr(ours, walk[0])(walk[1])]
        assert norm == [(d, sorted(s), sorted(f)) for d, s, f in getattr(theirs, walk[0])(walk[1])]
    with tf_real.io.gfile.GFile(root + "/top.txt") as f:
        assert [f.readline(), f.tell()] == [tf.gfile.GFile(root + "/top.txt").readline(), 1]
    for fn in ("stat", "remove"):
        with pytest.raises(tf_real.errors.NotFoundError):
            getattr(tf_real.io.gfile, fn)(root + "/nope")
        with pytest.raises(tf.errors.NotFoundError):
            getattr(tf.io.gfile, fn)(root + "/nope")
    for mod in (tf, tf_real):
        with pytest.raises(mod.errors.AlreadyExistsError):
            mod.io.gfile.copy(root + "/top.txt", root + "/a/f1.txt")
        with pytest.raises(mod.errors.FailedPreconditionError):
            mod.io.gfile.makedirs(root + "/top.txt")
        with pytest.raises(mod.errors.FailedPreconditionError):
            mod.io.gfile.GFile(root + "/a").read()
        mod.io.gfile.mkdir(root + "/a")        # existing: no error
        mod.io.gfile.GFile(root + "/lazy", "w").close()
        assert not mod.io.gfile.exists(root + "/lazy")


# ---------------------------------------------------------------- coordinator


def test_coordinator_stops_threads():
    coord = tf.train.Coordinator()
    ticks = []

    def worker(i):
        while not coord.should_stop():
            ticks.append(i)
            time.sleep(0.005)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    assert not coord.should_stop() and not coord.wait_for_stop(0.02)
    coord.request_stop()
    assert coord.should_stop() and coord.wait_for_stop(0)
    coord.join(threads, stop_grace_period_secs=2)
    assert coord.joined and not any(t.is_alive() for t in threads) and ticks


def test_coordinator_reraises_reported_exception():
    coord = tf.train.Coordinator()

    def bad():
        with coord.stop_on_exception():
            raise RuntimeError("boom")

    def good():
        coord.wait_for_stop(2)
        coord.request_stop(ValueError("second error is dropped"))
    threads = [threading.Thread(target=bad), threading.Thread(target=good)]
    coord.register_thread(threads[1])
    for t in threads:
        t.start()
    with pytest.raises(RuntimeError, match="boom"):
        coord.join(threads[:1])
    assert not any(t.is_alive() for t in threads)
    with pytest.raises(RuntimeError, match="boom"):
        coord.raise_requested_exception()
    with pytest.raises(KeyError):              # after join, a report raises at once
        coord.request_stop(KeyError("late"))
    coord.clear_stop()
    assert not coord.should_stop()
    coord.raise_requested_exception()            # nothing left to raise


def test_coordinator_clean_stop_and_stragglers():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "done"))
    coord.join([])                               # OutOfRange is a clean stop
    coord = tf.train.Coordinator(clean_stop_exception_types=())
    try:
        raise tf.errors.OutOfRangeError(None, None, "end")
    except tf.errors.OutOfRangeError:
        coord.request_stop(ex=__import__("sys").exc_info())
    with pytest.raises(tf.errors.OutOfRangeError):
        coord.join()
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(2,), name="slowpoke")
    t.start()
    coord.request_stop()
    with pytest.raises(RuntimeError, match="still running: slowpoke"):
        coord.join([t], stop_grace_period_secs=0.05)
    release.set()
    t.join()
    coord = tf.train.Coordinator()
    try:
        raise KeyError("handled")
    except KeyError as e:
        coord.request_stop(e)
    coord.request_stop(ValueError("second"))       # only the first report is kept
    with pytest.raises(KeyError, match="handled"):
        coord.join()


def test_coordinator_loop():
    coord = tf.train.Coordinator()
    calls = []
    coord.loop(0.01, lambda: calls.append(1) or (len(calls) >= 3 and coord.request_stop()))
    coord.join(stop_grace_period_secs=2)
    assert len(calls) == 3


def test_start_queue_runners():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No default session"):
            tf.train.start_queue_runners()
        with tf.Session() as sess:
            coord = tf.train.Coordinator()
            assert tf.train.start_queue_runners(sess=sess, coord=coord) == []
            assert tf.start_queue_runners(coord=coord) == []   # the default session
            coord.request_stop()
            coord.join([])


# ---------------------------------------------------------------- graph helpers


def test_tables_initializer_and_identity_n():
    with tf.Graph().as_default():
        init = tf.tables_initializer()
        assert init.name == "init_all_tables" and init.type == "NoOp"
        assert tf.initializers.tables_initializer(name="t").name == "t"
        x = tf.placeholder(tf.float32, [None, 2])
        i = tf.constant([1, 2, 3])
        a, b = tf.identity_n([x, i])
        assert (a.name, b.name) == ("IdentityN:0", "IdentityN:1") and a.op.type == "IdentityN"
        assert a.shape.as_list() == [None, 2] and b.dtype == tf.int32
        loss = tf.reduce_sum(tf.square(a)) * 2.0
        g, = tf.gradients(loss, x)
        xv = np.arange(6, dtype=np.float32).reshape(3, 2)
        with tf.Session() as s:
            av, bv, gv = s.run([a, b, g], {x: xv})
        np.testing.assert_array_equal(av, xv)
        np.testing.assert_array_equal(bv, [1, 2, 3])
        np.testing.assert_allclose(gv, 4 * xv)


def _template_prog(tf_mod):
    def layer(x, scale):
        w = tf_mod.get_variable("w", [2], initializer=tf_mod.constant_initializer(scale))
        return x * w
    t = tf_mod.make_template("my_layer", layer, scale=3.0)
    x = tf_mod.constant([1.0, 2.0])
    y1, y2 = t(x), t(x)
    t2 = tf_mod.make_template("my_layer", layer, create_scope_now_=True, scale=1.0)
    y3 = t2(x)
    names = ([v.name for v in tf_mod.global_variables()], y1.name, y2.name, y3.name,
             t.variable_scope.name, t2.variable_scope.name)
    return names, [y1, y2, y3]


def test_make_template_shares_variables():
    with tf.Graph().as_default():
        names, outs = _template_prog(tf)
        assert names[0] == ["my_layer/w:0", "my_layer_1/w:0"]
        assert names[4:] == ("my_layer", "my_layer_1")
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            vals = s.run(outs)
        np.testing.assert_allclose(vals, [[3, 6], [3, 6], [1, 2]])

        def bad(x):
            return x * tf.Variable(1.0, name="v")
        t = tf.make_template("bad", bad)
        t(1.0)
        with pytest.raises(ValueError, match="Trainable variable created"):
            t(1.0)
        with pytest.raises(ValueError, match="name cannot be None"):
            tf.make_template(None, bad)
        t3 = tf.make_template("u", lambda: tf.get_variable("k", []), unique_name_="uniq")
        t3()
        assert t3.variable_scope_name == "uniq/" and \
            [v.name for v in t3.trainable_variables] == ["uniq/k:0"]


def test_make_template_cross_check():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    with tf.Graph().as_default():
        ours, _ = _template_prog(tf)
    with v1.Graph().as_default():
        theirs, _ = _template_prog(v1)
    assert ours == theirs


def test_report_and_assert_initialized():
    with tf.Graph().as_default(), tf.Session() as s:
        assert tf.assert_variables_initialized() is None
        empty = tf.report_uninitialized_variables()
        assert empty.shape.as_list() == [0] and empty.dtype == tf.string
        assert s.run(empty).shape == (0,)
        v = tf.Variable(1.0, name="v")
        with tf.variable_scope("sc"):
            w = tf.get_variable("w", [2, 3])
        assert w.name == "sc/w:0"
        loc = tf.get_local_variable("loc", [], initializer=tf.zeros_initializer())
        r = tf.report_uninitialized_variables()
        r_v = tf.report_uninitialized_variables([v])
        a = tf.assert_variables_initialized()
        a_v = tf.assert_variables_initialized([v])
        assert r.name == "report_uninitialized_variables_1/boolean_mask/GatherV2:0"
        assert r.dtype == tf.string and r.shape.as_list() == [None]
        assert a.name == "stack:0" and a.shape.as_list() == [3] and a.dtype == tf.int32
        assert list(s.run(r)) == [b"v", b"sc/w", b"loc"]
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
            s.run(a)
        s.run(v.initializer)
        out = s.run([r, r_v, a_v])
        assert list(out[0]) == [b"sc/w", b"loc"] and out[1].shape == (0,) and out[2] == 0
        with pytest.raises(tf.errors.FailedPreconditionError, match="sc/w"):
            s.run(a)
        s.run([tf.global_variables_initializer(), loc.initializer])
        assert s.run(r).shape == (0,)
        np.testing.assert_array_equal(s.run(a), [0, 2, 0])


def _init_prog(tf_mod, sess):
    """Names and run results of the initialization helpers, before and after
    initializing one variable of three."""
    # reference variables, as TF 1.15 makes by default (TF 2's compat.v1 makes
    # resource ones, whose rank can be read uninitialized)
    v = tf_mod.Variable(1.0, name="v", use_resource=False)
    with tf_mod.variable_scope("sc"):
        tf_mod.get_variable("w", [2, 3], use_resource=False)
    u = tf_mod.Variable([1, 2], name="u", use_resource=False)
    r = tf_mod.report_uninitialized_variables()
    a_v = tf_mod.assert_variables_initialized([v])
    a = tf_mod.assert_variables_initialized()
    ident = tf_mod.identity_n([tf_mod.constant(1.0), tf_mod.constant([2, 3])])
    out = [r.name, r.dtype.name, a_v.dtype.name, a.shape.as_list(),
           [t.name for t in ident], tf_mod.tables_initializer().name,
           list(sess.run(r))]
    sess.run(v.initializer)
    out += [list(sess.run(r)), int(sess.run(a_v))]
    try:
        sess.run(a)
        out.append(None)
    except Exception as e:  # noqa: BLE001 - the error type is what's compared
        out.append(type(e).__name__)
    sess.run(u.initializer)
    out.append(sess.run(ident)[1].tolist())
    return out


def test_init_helpers_cross_check():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    with tf.Graph().as_default(), tf.Session() as s:
        ours = _init_prog(tf, s)
    g = v1.Graph()
    with g.as_default(), v1.Session(graph=g) as s:
        theirs = _init_prog(v1, s)
    assert ours == theirs
