"""Tests for the checkpoint file format and the `checkpoint` state file."""
import glob
import json
import os
import zlib

import numpy as np
import pytest

from tfcompile import checkpoint_io as ckio
from tfcompile.checkpoint_io import CheckpointError


def _sample_tensors():
    rng = np.random.default_rng(0)
    return {
        "dense/kernel": rng.standard_normal((3, 5)).astype(np.float32),
        "dense/bias": rng.standard_normal(5),
        "global_step": np.int64(1234),
        "counts": rng.integers(-1000, 1000, size=(2, 3, 4), dtype=np.int32),
        "mask": rng.random(7) > 0.5,
        "empty": np.zeros((0, 4), np.float32),
        "empty_scalar_dims": np.zeros((2, 0), np.int64),
        "bytes": rng.integers(0, 256, 9, dtype=np.uint8),
        "small": np.array([-128, 0, 127], np.int8),
        "shorts": np.array([[-32768, 7], [1, 32767]], np.int16),
        "half": np.array([1.5, -2.25, np.inf], np.float16),
        "nan": np.array([np.nan, -0.0], np.float64),
    }


def _assert_same(got: dict, want: dict):
    assert sorted(got) == sorted(want)
    for name, value in want.items():
        value = np.asarray(value)
        assert got[name].dtype == value.dtype, name
        assert got[name].shape == value.shape, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def _files(directory):
    return sorted(os.listdir(directory))


# ---------------------------------------------------------------------------
# Round trips and the documented layout

def test_round_trip_all_dtypes_and_shapes(tmp_path):
    prefix = str(tmp_path / "model.ckpt-10")
    tensors = _sample_tensors()
    ckio.write_checkpoint(prefix, tensors)
    _assert_same(ckio.read_checkpoint(prefix), tensors)
    index = ckio.read_index(prefix)
    assert index == {n: (np.asarray(v).dtype, np.asarray(v).shape)
                     for n, v in tensors.items()}
    # Exactly TF's two file names, and no temporary files left behind.
    assert _files(tmp_path) == ["model.ckpt-10.data-00000-of-00001",
                                "model.ckpt-10.index"]
    assert glob.glob(prefix + ".data-?????-of-?????") == [prefix + ".data-00000-of-00001"]
    assert ckio.checkpoint_exists(prefix)


def test_noncontiguous_and_big_endian_inputs(tmp_path):
    prefix = str(tmp_path / "m")
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    tensors = {"t": base.T, "s": base[::2, 1::3],
               "be": np.arange(5, dtype=">i4"), "list": [[1.0, 2.0]]}
    ckio.write_checkpoint(prefix, tensors)
    got = ckio.read_checkpoint(prefix)
    np.testing.assert_array_equal(got["t"], base.T)
    np.testing.assert_array_equal(got["s"], base[::2, 1::3])
    np.testing.assert_array_equal(got["be"], np.arange(5))
    assert got["be"].dtype == np.int32
    np.testing.assert_array_equal(got["list"], np.array([[1.0, 2.0]]))


def test_read_subset_and_reader_api(tmp_path):
    prefix = str(tmp_path / "m")
    tensors = _sample_tensors()
    ckio.write_checkpoint(prefix, tensors)
    sub = ckio.read_checkpoint(prefix, names=["global_step", "mask"])
    _assert_same(sub, {k: tensors[k] for k in ("global_step", "mask")})
    reader = ckio.CheckpointReader(prefix)
    assert reader.has_tensor("dense/kernel") and not reader.has_tensor("nope")
    assert reader.get_variable_to_shape_map()["counts"] == [2, 3, 4]
    assert reader.get_variable_to_dtype_map()["mask"] == np.bool_
    with pytest.raises(CheckpointError, match="Key nope not found"):
        reader.get_tensor("nope")


def test_empty_checkpoint(tmp_path):
    prefix = str(tmp_path / "m")
    ckio.write_checkpoint(prefix, {})
    assert ckio.read_checkpoint(prefix) == {}


def test_layout_matches_the_documented_format(tmp_path):
    """Decodes the files by hand, following the module docstring."""
    prefix = str(tmp_path / "m")
    tensors = {"a": np.arange(5, dtype=np.int16), "b": np.float32(2.5),
               "c": np.array([[True], [False]])}
    ckio.write_checkpoint(prefix, tensors)
    with open(prefix + ".index", encoding="utf-8") as f:
        index = json.load(f)
    with open(prefix + ".data-00000-of-00001", "rb") as f:
        data = f.read()
    assert index["format"] == "tfcompile-checkpoint" and index["version"] == 1
    body = {k: v for k, v in index.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert index["checksum"] == zlib.crc32(text.encode("utf-8"))
    assert index["data_size"] == len(data)
    assert data[:8] == b"TFCDATA\0"
    assert int.from_bytes(data[8:12], "little") == 1
    assert int.from_bytes(data[12:16], "little") == 64
    assert data[16:32].hex() == index["save_id"]
    assert data[32:64] == bytes(32)
    for name, value in tensors.items():
        e = index["tensors"][name]
        value = np.asarray(value)
        assert e["offset"] % 64 == 0
        raw = data[e["offset"]:e["offset"] + e["length"]]
        assert zlib.crc32(raw) == e["crc32"]
        le = value.dtype.newbyteorder("<") if value.dtype.itemsize > 1 else value.dtype
        decoded = np.frombuffer(raw, dtype=le).reshape(e["shape"])
        assert e["dtype"] == value.dtype.name
        np.testing.assert_array_equal(decoded, value)


def test_unsupported_dtype_and_bad_names(tmp_path):
    prefix = str(tmp_path / "m")
    with pytest.raises(TypeError, match=r"'z'.*complex128"):
        ckio.write_checkpoint(prefix, {"z": np.zeros(2, np.complex128)})
    with pytest.raises(TypeError, match=r"'o'.*object"):
        ckio.write_checkpoint(prefix, {"o": np.array([None, 1], dtype=object)})
    with pytest.raises(ValueError, match="non-empty strings"):
        ckio.write_checkpoint(prefix, {"": np.zeros(1)})
    assert _files(tmp_path) == []


def test_missing_parent_directory(tmp_path):
    prefix = str(tmp_path / "no_such_dir" / "m")
    with pytest.raises(CheckpointError, match="Parent directory of .* doesn't exist"):
        ckio.write_checkpoint(prefix, {"a": np.zeros(1)})


# ---------------------------------------------------------------------------
# Missing, truncated and corrupt files

def test_missing_prefix(tmp_path):
    prefix = str(tmp_path / "nothing")
    with pytest.raises(ckio.CheckpointNotFoundError,
                       match=r"Unable to open table file .*nothing\.index"):
        ckio.read_checkpoint(prefix)
    with pytest.raises(CheckpointError, match="is a directory"):
        ckio.read_index(str(tmp_path))
    ckio.write_checkpoint(str(tmp_path / "m"), {"a": np.zeros(1)})
    with pytest.raises(CheckpointError, match="without '.index'"):
        ckio.read_checkpoint(str(tmp_path / "m.index"))


def _write_sample(tmp_path):
    prefix = str(tmp_path / "m")
    tensors = {"first": np.arange(40, dtype=np.float32),
               "second": np.arange(100, dtype=np.int64)}
    ckio.write_checkpoint(prefix, tensors)
    return prefix, tensors


def test_truncated_data_file(tmp_path):
    prefix, _ = _write_sample(tmp_path)
    data = prefix + ".data-00000-of-00001"
    size = os.path.getsize(data)
    with open(data, "r+b") as f:
        f.truncate(size - 300)  # cuts into "second" only
    with pytest.raises(CheckpointError, match=r"(?s)m\.data-00000-of-00001 is truncated.*'second'"):
        ckio.read_checkpoint(prefix)
    with pytest.raises(CheckpointError, match="truncated"):
        ckio.read_index(prefix)
    with open(data, "r+b") as f:
        f.truncate(10)  # not even a header
    with pytest.raises(CheckpointError, match=r"m\.data-00000-of-00001 is corrupt or truncated"):
        ckio.read_checkpoint(prefix)


def test_flipped_byte_in_tensor(tmp_path):
    prefix, tensors = _write_sample(tmp_path)
    index = json.load(open(prefix + ".index"))
    offset = index["tensors"]["second"]["offset"] + 17
    with open(prefix + ".data-00000-of-00001", "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x10]))
    # The index alone is still fine, and so is the untouched tensor.
    assert ckio.read_index(prefix)["second"] == (np.dtype(np.int64), (100,))
    np.testing.assert_array_equal(ckio.CheckpointReader(prefix).get_tensor("first"),
                                  tensors["first"])
    with pytest.raises(CheckpointError, match=r"corrupt: tensor 'second' fails its crc32"):
        ckio.read_checkpoint(prefix)


def test_missing_data_file(tmp_path):
    prefix, _ = _write_sample(tmp_path)
    os.remove(prefix + ".data-00000-of-00001")
    with pytest.raises(CheckpointError, match=r"data file .*m\.data-00000-of-00001 is missing"):
        ckio.read_checkpoint(prefix)


def test_truncated_index(tmp_path):
    prefix, _ = _write_sample(tmp_path)
    raw = open(prefix + ".index", "rb").read()
    for cut in (0, 1, len(raw) // 2, len(raw) - 3):
        with open(prefix + ".index", "wb") as f:
            f.write(raw[:cut])
        with pytest.raises(CheckpointError, match=r"index .*m\.index is corrupt"):
            ckio.read_checkpoint(prefix)


def test_garbled_index_fails_its_checksum(tmp_path):
    prefix, _ = _write_sample(tmp_path)
    text = open(prefix + ".index").read()
    assert '"length": 160' in text
    with open(prefix + ".index", "w") as f:
        f.write(text.replace('"length": 160', '"length": 180'))
    with pytest.raises(CheckpointError, match="checksum does not match"):
        ckio.read_index(prefix)
    with open(prefix + ".index", "wb") as f:
        f.write(b"\xff\xfe garbage \x00")
    with pytest.raises(CheckpointError, match=r"m\.index is corrupt: not valid JSON"):
        ckio.read_index(prefix)


def _rewrite_index(prefix, edit):
    """Edits the index and re-signs it per the documented checksum rule, so
    that only the deeper validation can catch the edit."""
    index = json.load(open(prefix + ".index"))
    edit(index)
    body = {k: v for k, v in index.items() if k != "checksum"}
    index["checksum"] = zlib.crc32(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    with open(prefix + ".index", "w") as f:
        json.dump(index, f)


@pytest.mark.parametrize("edit, message", [
    (lambda i: i.update(version=2), "format version 2"),
    (lambda i: i["tensors"]["second"].update(offset=10 ** 6), r"'second' spans bytes"),
    (lambda i: i["tensors"]["first"].update(shape=[41]), r"'first' of dtype float32 .* needs 164 bytes"),
    (lambda i: i["tensors"]["first"].update(dtype="complex64"), r"'first' has unsupported dtype"),
    (lambda i: i["tensors"]["first"].update(shape=[-40]), r"'first' has a bad shape"),
    (lambda i: i.update(save_id="00" * 16), "belongs to a different save"),
])
def test_consistent_but_wrong_index(tmp_path, edit, message):
    prefix, _ = _write_sample(tmp_path)
    _rewrite_index(prefix, edit)
    with pytest.raises(CheckpointError, match=message):
        ckio.read_checkpoint(prefix)


def test_data_file_from_another_checkpoint_is_refused(tmp_path):
    a, _ = _write_sample(tmp_path)
    b = str(tmp_path / "other")
    ckio.write_checkpoint(b, {"first": np.zeros(40, np.float32),
                              "second": np.zeros(100, np.int64)})
    os.replace(b + ".data-00000-of-00001", a + ".data-00000-of-00001")
    with pytest.raises(CheckpointError, match="different save"):
        ckio.read_checkpoint(a)


def test_tensorflow_index_is_recognized(tmp_path):
    prefix = str(tmp_path / "tf")
    with open(prefix + ".index", "wb") as f:
        f.write(b"\x00" * 40 + (0xDB4775248B80FB57).to_bytes(8, "little"))
    with pytest.raises(CheckpointError, match="is a TensorFlow checkpoint index"):
        ckio.read_checkpoint(prefix)


# ---------------------------------------------------------------------------
# Crash safety

def _failing_replace(monkeypatch, should_fail):
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(os.fspath(dst))
        if should_fail(os.fspath(dst), calls):
            raise OSError(f"simulated crash renaming onto {dst}")
        return real(src, dst)

    monkeypatch.setattr(ckio.os, "replace", replace)
    return calls


def test_crash_before_index_keeps_previous_checkpoint(tmp_path, monkeypatch):
    prefix = str(tmp_path / "m")
    old = {"w": np.arange(10, dtype=np.float32), "step": np.int64(1)}
    ckio.write_checkpoint(prefix, old)
    before = _files(tmp_path)
    _failing_replace(monkeypatch, lambda dst, calls: dst.endswith(".index"))
    with pytest.raises(OSError, match="simulated crash"):
        ckio.write_checkpoint(prefix, {"w": np.ones(20, np.float64),
                                       "step": np.int64(2)})
    monkeypatch.undo()
    _assert_same(ckio.read_checkpoint(prefix), old)
    assert _files(tmp_path) == before  # no temporary or backup files left


def test_hard_crash_between_data_and_index(tmp_path, monkeypatch):
    """Only the data file's rename succeeds (as if the process died right
    after it): readers must fall back to the preserved old data."""
    prefix = str(tmp_path / "m")
    old = {"w": np.arange(10, dtype=np.float32)}
    ckio.write_checkpoint(prefix, old)
    _failing_replace(monkeypatch, lambda dst, calls: len(calls) > 1)
    with pytest.raises(OSError):
        ckio.write_checkpoint(prefix, {"w": np.full(10, 7, np.float32)})
    monkeypatch.undo()
    _assert_same(ckio.read_checkpoint(prefix), old)
    # The next successful save replaces it and tidies up.
    new = {"w": np.full(3, 5, np.int32)}
    ckio.write_checkpoint(prefix, new)
    _assert_same(ckio.read_checkpoint(prefix), new)
    assert _files(tmp_path) == ["m.data-00000-of-00001", "m.index"]


def test_repeated_interrupted_saves_keep_the_last_good_checkpoint(tmp_path, monkeypatch):
    prefix = str(tmp_path / "m")
    old = {"w": np.arange(4, dtype=np.int64)}
    ckio.write_checkpoint(prefix, old)
    for value in (1, 2):
        _failing_replace(monkeypatch, lambda dst, calls: len(calls) > 1)
        with pytest.raises(OSError):
            ckio.write_checkpoint(prefix, {"w": np.full(4, value, np.int64)})
        monkeypatch.undo()
        _assert_same(ckio.read_checkpoint(prefix), old)


def test_crash_on_new_prefix_leaves_nothing(tmp_path, monkeypatch):
    ckio.write_checkpoint(str(tmp_path / "m-1"), {"a": np.zeros(2)})
    _failing_replace(monkeypatch, lambda dst, calls: dst.endswith(".index"))
    with pytest.raises(OSError):
        ckio.write_checkpoint(str(tmp_path / "m-2"), {"a": np.ones(2)})
    monkeypatch.undo()
    assert not ckio.checkpoint_exists(str(tmp_path / "m-2"))
    assert _files(tmp_path) == ["m-1.data-00000-of-00001", "m-1.index"]
    _assert_same(ckio.read_checkpoint(str(tmp_path / "m-1")), {"a": np.zeros(2)})


def test_remove_checkpoint(tmp_path):
    prefix = str(tmp_path / "m")
    ckio.write_checkpoint(prefix, {"a": np.zeros(2)})
    (tmp_path / "m.meta").write_bytes(b"graph")
    ckio.write_checkpoint(str(tmp_path / "keep"), {"a": np.zeros(2)})
    ckio.remove_checkpoint(prefix)
    assert not ckio.checkpoint_exists(prefix)
    assert _files(tmp_path) == ["keep.data-00000-of-00001", "keep.index"]
    ckio.remove_checkpoint(prefix)  # already gone: no error


# ---------------------------------------------------------------------------
# The `checkpoint` state file

def test_state_file_text_and_round_trip(tmp_path):
    d = str(tmp_path)
    paths = [os.path.join(d, f"model.ckpt-{i}") for i in (100, 200)]
    ckio.update_checkpoint_state(d, paths[1], paths)
    text = (tmp_path / "checkpoint").read_text()
    assert text == (f'model_checkpoint_path: "{paths[1]}"\n'
                    f'all_model_checkpoint_paths: "{paths[0]}"\n'
                    f'all_model_checkpoint_paths: "{paths[1]}"\n')
    state = ckio.get_checkpoint_state(d)
    assert state.model_checkpoint_path == paths[1]
    assert state.all_model_checkpoint_paths == paths


def test_model_path_is_appended_when_not_last(tmp_path):
    d = str(tmp_path)
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    ckio.update_checkpoint_state(d, b, [b, a])
    assert ckio.get_checkpoint_state(d).all_model_checkpoint_paths == [b, a, b]
    ckio.update_checkpoint_state(d, a)
    assert ckio.get_checkpoint_state(d).all_model_checkpoint_paths == [a]


def test_relative_paths_are_relative_to_the_directory(tmp_path):
    d = tmp_path / "train"
    d.mkdir()
    (d / "checkpoint").write_text(
        'model_checkpoint_path: "model.ckpt-2"\n'
        'all_model_checkpoint_paths: "model.ckpt-1"\n'
        'all_model_checkpoint_paths: "model.ckpt-2"\n'
        "all_model_checkpoint_timestamps: 1700000000.5\n"
        "all_model_checkpoint_timestamps: 1700000100.25\n"
        "last_preserved_timestamp: 1699999999.0\n")
    state = ckio.get_checkpoint_state(str(d))
    assert state.model_checkpoint_path == os.path.join(str(d), "model.ckpt-2")
    assert state.all_model_checkpoint_paths == [
        os.path.join(str(d), "model.ckpt-1"), os.path.join(str(d), "model.ckpt-2")]
    assert state.all_model_checkpoint_timestamps == [1700000000.5, 1700000100.25]
    assert state.last_preserved_timestamp == 1699999999.0
    # The index is missing, so there is no latest checkpoint yet.
    with pytest.warns(UserWarning, match="Couldn't match files"):
        assert ckio.latest_checkpoint(str(d)) is None
    ckio.write_checkpoint(str(d / "model.ckpt-2"), {"a": np.zeros(1)})
    assert ckio.latest_checkpoint(str(d)) == os.path.join(str(d), "model.ckpt-2")
    # The directory moved: relative entries follow it.
    moved = tmp_path / "moved"
    os.rename(d, moved)
    assert ckio.latest_checkpoint(str(moved)) == os.path.join(str(moved), "model.ckpt-2")


def test_relative_save_dir_is_stripped_like_tf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    ckio.update_checkpoint_state("run", os.path.join("run", "m-5"),
                                 [os.path.join("run", "m-1")])
    text = (tmp_path / "run" / "checkpoint").read_text()
    assert text == ('model_checkpoint_path: "m-5"\n'
                    'all_model_checkpoint_paths: "m-1"\n'
                    'all_model_checkpoint_paths: "m-5"\n')
    ckio.write_checkpoint(os.path.join("run", "m-5"), {"a": np.zeros(1)})
    assert ckio.latest_checkpoint("run") == os.path.join("run", "m-5")


def test_save_relative_paths(tmp_path):
    d = str(tmp_path)
    ckio.update_checkpoint_state(d, os.path.join(d, "m-3"),
                                 save_relative_paths=True,
                                 all_model_checkpoint_timestamps=[12.5])
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "m-3"\n'
        'all_model_checkpoint_paths: "m-3"\n'
        "all_model_checkpoint_timestamps: 12.5\n")


def test_no_state_file_and_corrupt_state_file(tmp_path):
    d = str(tmp_path)
    assert ckio.get_checkpoint_state(d) is None
    assert ckio.latest_checkpoint(d) is None
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "m\n')
    with pytest.warns(UserWarning, match="checkpoint state ignored"):
        assert ckio.get_checkpoint_state(d) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "m"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        ckio.get_checkpoint_state(d)


def test_state_file_escapes_odd_names(tmp_path):
    d = str(tmp_path)
    name = os.path.join(d, 'we "ird"\\näme\tx')
    ckio.update_checkpoint_state(d, name, latest_filename="state")
    raw = (tmp_path / "state").read_bytes()
    assert raw.isascii()
    assert b"\\303\\244" in raw  # UTF-8 bytes of the umlaut, as octal escapes
    assert ckio.get_checkpoint_state(d, "state").model_checkpoint_path == name


def test_tf_style_escapes_parse(tmp_path):
    (tmp_path / "checkpoint").write_text(
        "model_checkpoint_path: 'a\\x41\\101\\'b'\n")
    state = ckio.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == os.path.join(str(tmp_path), "aAA'b")


def test_state_path_conflict(tmp_path):
    d = str(tmp_path)
    with pytest.raises(RuntimeError, match="conflicts with path used for checkpoint state"):
        ckio.update_checkpoint_state(d, os.path.join(d, "checkpoint"))
