"""Checkpoint files: tensors on disk (the `checkpoint` state file is in checkpoint_state.py).

Numpy arrays in, numpy arrays out; nothing here knows about graphs. A
checkpoint with prefix P is two files, named as TensorFlow 1.x names them:

``P.data-00000-of-00001`` (the data file)
    A 64-byte header, then each tensor's raw little-endian bytes, C order,
    each starting at a multiple of 64 bytes (zero padding in between)::

        0   8 bytes   magic b"TFCDATA\\0"
        8   uint32    format version (1), little-endian
        12  uint32    header size (64)
        16  16 bytes  save id: random bytes, also recorded in the index
        32  32 bytes  zero

    bool is one byte per element (0 or 1).

``P.index`` (the index), UTF-8 JSON::

        {"format": "tfcompile-checkpoint", "version": 1,
         "save_id": "<32 hex digits, the data file's save id>",
         "data_size": <exact size of the data file in bytes>,
         "tensors": {"<name>": {"dtype": "float32", "shape": [784, 10],
                                "offset": 64, "length": 31360,
                                "crc32": <zlib.crc32 of those bytes>}, ...},
         "checksum": <zlib.crc32 of this object without "checksum",
                      serialized with sort_keys=True, separators=(",", ":")>}

    dtype is one of SUPPORTED_DTYPES; length is exactly itemsize * product of
    shape; [offset, offset + length) lies inside the data file.

Saving is crash-safe. Each file is written to a hidden temporary file in the
same directory, fsync'ed, then renamed over its final name (os.replace), the
data file first and the index last: the index is the commit point. When a
save overwrites an existing checkpoint at the same prefix, the data file the
old index points to is first hard-linked (or copied) to ``P.data.prev``;
readers pick whichever of ``P.data-00000-of-00001`` and ``P.data.prev``
carries the index's save id. A save interrupted at any point therefore leaves
the previous checkpoint readable, and a half-written one never validates.

The `checkpoint` state file is the text protobuf TensorFlow writes::

    model_checkpoint_path: "model.ckpt-200"
    all_model_checkpoint_paths: "model.ckpt-100"
    all_model_checkpoint_paths: "model.ckpt-200"

with TensorFlow's semantics for relative paths (relative to the directory
holding the state file).
"""
from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import struct
import sys
import tempfile
import zlib

import numpy as np

__all__ = [
    "CheckpointError", "CheckpointNotFoundError", "CheckpointReader",
    "CheckpointState", "SUPPORTED_DTYPES", "write_checkpoint",
    "read_checkpoint", "read_index", "checkpoint_exists", "remove_checkpoint",
    "update_checkpoint_state", "get_checkpoint_state", "latest_checkpoint",
    "index_path", "data_path",
]

FORMAT_NAME = "tfcompile-checkpoint"
FORMAT_VERSION = 1
DATA_MAGIC = b"TFCDATA\0"
HEADER_SIZE = 64
ALIGNMENT = 64
_HEADER = struct.Struct("<8sII16s")

SUPPORTED_DTYPES = {
    name: np.dtype(name) for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
        "uint32", "uint64", "float16", "float32", "float64")
}

# The last 8 bytes of a TensorFlow (LevelDB-table) .index file.
_TF_TABLE_MAGIC = struct.pack("<Q", 0xDB4775248B80FB57)
# Read tensors in pieces so a checksum never needs a second copy.
_READ_CHUNK = 1 << 24


class CheckpointError(ValueError):
    """A checkpoint is missing, truncated, corrupt or of an unknown format."""


class CheckpointNotFoundError(CheckpointError):
    """No checkpoint exists at the given prefix (TF's NotFoundError)."""


def index_path(prefix: str) -> str:
    return os.fspath(prefix) + ".index"


def data_path(prefix: str) -> str:
    return os.fspath(prefix) + ".data-00000-of-00001"


def _backup_path(prefix: str) -> str:
    return os.fspath(prefix) + ".data.prev"


# ---------------------------------------------------------------------------
# Atomic file writing

def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not possible on every OS.
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(final_path: str, write) -> str:
    """Writes through `write(fileobj)` into a fsync'ed temporary file placed
    beside `final_path`; returns the temporary file's path."""
    directory, base = os.path.split(final_path)
    # A leading dot and a ".tmp" suffix keep globs like P.data-* and P.index
    # from ever matching a temporary file.
    fd, tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp",
                               dir=directory or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _remove_quietly(tmp)
        raise
    return tmp


def _atomic_write(final_path: str, write) -> None:
    tmp = _write_temp(final_path, write)
    try:
        os.replace(tmp, final_path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(os.path.dirname(final_path))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# ---------------------------------------------------------------------------
# Writing

def _as_little_endian(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.name not in SUPPORTED_DTYPES or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Cannot save tensor {name!r}: dtype {arr.dtype} is not supported "
            f"by checkpoints (supported: {', '.join(SUPPORTED_DTYPES)})")
    want = arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype
    # (np.ascontiguousarray would turn a scalar into shape [1].)
    return np.asarray(arr, dtype=want, order="C")


def _index_checksum(index: dict) -> int:
    body = {k: v for k, v in index.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return zlib.crc32(text.encode("utf-8"))


def write_checkpoint(prefix: str, tensors: dict) -> None:
    """Saves `tensors` (name -> array-like) as the checkpoint `prefix`.

    Writes `prefix.data-00000-of-00001`, then `prefix.index` (the commit
    point). The parent directory must exist, as in TensorFlow."""
    prefix = os.fspath(prefix)
    directory = os.path.dirname(prefix)
    if directory and not os.path.isdir(directory):
        raise CheckpointError(
            f"Parent directory of {prefix} doesn't exist, can't save.")
    if not os.path.basename(prefix):
        raise CheckpointError(
            f"Checkpoint prefix {prefix!r} names a directory; give a file "
            "name prefix such as 'dir/model.ckpt'")

    arrays = {}
    for name in sorted(tensors, key=lambda n: n if isinstance(n, str) else ""):
        if not isinstance(name, str) or not name:
            raise ValueError(f"Checkpoint tensor names must be non-empty "
                             f"strings, got {name!r}")
        arrays[name] = _as_little_endian(name, tensors[name])

    save_id = secrets.token_bytes(16)
    entries = {}
    offset = HEADER_SIZE
    for name, arr in arrays.items():
        length = arr.nbytes
        entries[name] = {"dtype": arr.dtype.name, "shape": list(arr.shape),
                         "offset": offset, "length": length,
                         "crc32": zlib.crc32(_byte_view(arr))}
        offset += -(-length // ALIGNMENT) * ALIGNMENT
    index = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
             "save_id": save_id.hex(), "data_size": offset,
             "tensors": entries}
    index["checksum"] = _index_checksum(index)
    index_bytes = _format_index(index).encode("utf-8")

    def write_data(f):
        f.write(_HEADER.pack(DATA_MAGIC, FORMAT_VERSION, HEADER_SIZE, save_id))
        f.write(bytes(HEADER_SIZE - _HEADER.size))
        for name, arr in arrays.items():
            f.write(_byte_view(arr))
            f.write(bytes(-arr.nbytes % ALIGNMENT))

    ipath, dpath, bpath = index_path(prefix), data_path(prefix), _backup_path(prefix)
    tmp_data = _write_temp(dpath, write_data)
    previous = None
    data_replaced = False
    try:
        previous = _preserve_current_data(prefix)
        os.replace(tmp_data, dpath)
        data_replaced = True
        _atomic_write(ipath, lambda f: f.write(index_bytes))
    except BaseException:
        if not data_replaced:
            _remove_quietly(tmp_data)
        elif previous == "backed-up":
            # Put the old data file back; if even that fails, readers still
            # find it under the backup name.
            try:
                os.replace(bpath, dpath)
            except OSError:
                pass
        elif previous is None:
            _remove_quietly(dpath)  # no index will ever point to it
        raise
    _remove_quietly(bpath)
    _fsync_dir(directory)


def _format_index(index: dict) -> str:
    # One line per field and per tensor, so the index reads well in a pager.
    lines = []
    for key, value in index.items():
        if key == "tensors":
            items = [f"  {json.dumps(n)}: {json.dumps(e)}" for n, e in value.items()]
            body = "{\n" + ",\n".join(items) + "\n }" if items else "{}"
            lines.append(f' "tensors": {body}')
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _byte_view(arr: np.ndarray) -> memoryview:
    return memoryview(arr.reshape(-1).view(np.uint8))


def _preserve_current_data(prefix: str):
    """Before a save overwrites `prefix`, keeps the data file that the current
    index points to under the backup name. Returns None if there is no valid
    checkpoint at `prefix`, "backed-up" if it made the backup, and "kept" if
    nothing needed doing."""
    try:
        current = _load_index(prefix)
    except CheckpointError:
        return None
    want = bytes.fromhex(current["save_id"])
    dpath, bpath = data_path(prefix), _backup_path(prefix)
    if _data_file_id(bpath) == want:
        return "kept"  # an earlier interrupted save already preserved it
    if _data_file_id(dpath) != want:
        return "kept"  # the old checkpoint's data is gone already
    _remove_quietly(bpath)
    try:
        os.link(dpath, bpath)
    except OSError:  # no hard links on this file system: copy instead
        _atomic_write(bpath, lambda f: _copy_into(dpath, f))
    _fsync_dir(os.path.dirname(prefix))
    return "backed-up"


def _copy_into(src: str, dst_file) -> None:
    with open(src, "rb") as f:
        shutil.copyfileobj(f, dst_file, _READ_CHUNK)


# ---------------------------------------------------------------------------
# Reading

def _data_file_id(path: str):
    """The save id in a data file's header, or None if unreadable."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER.size)
    except OSError:
        return None
    if len(head) < _HEADER.size:
        return None
    magic, _version, _size, save_id = _HEADER.unpack(head)
    return save_id if magic == DATA_MAGIC else None


def _not_found(prefix: str) -> CheckpointNotFoundError:
    msg = (f"Unable to open table file {index_path(prefix)}: Not found: "
           f"no checkpoint with prefix {prefix!r}")
    if os.path.isdir(prefix):
        msg += (f" ({prefix!r} is a directory; pass a checkpoint prefix such "
                "as the one latest_checkpoint(directory) returns)")
    else:
        for suffix in (".index", ".data-00000-of-00001", ".meta"):
            if prefix.endswith(suffix) and os.path.exists(index_path(prefix[:-len(suffix)])):
                msg += (f" (did you mean the prefix {prefix[:-len(suffix)]!r}, "
                        f"without {suffix!r}?)")
    return CheckpointNotFoundError(msg)


def _load_index(prefix: str) -> dict:
    """Reads and validates `prefix.index` on its own (not the data file)."""
    path = index_path(prefix)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise _not_found(prefix) from None
    except OSError as e:
        raise CheckpointError(f"Unable to open table file {path}: {e}") from e

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"Checkpoint index {path} is corrupt: {why}")

    if raw.endswith(_TF_TABLE_MAGIC):
        raise CheckpointError(
            f"{path} is a TensorFlow checkpoint index, not a tfcompile one; "
            "this library reads only checkpoints it wrote")
    try:
        index = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"not valid JSON ({e}); the file may be truncated") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT_NAME:
        raise bad(f"not a {FORMAT_NAME} index")
    version = index.get("version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"Checkpoint index {path} has format version {version!r}; this "
            f"reader understands version {FORMAT_VERSION}")
    if index.get("checksum") != _index_checksum(index):
        raise bad("its checksum does not match its contents")

    save_id, size, tensors = (index.get("save_id"), index.get("data_size"),
                              index.get("tensors"))
    if not (isinstance(save_id, str) and len(save_id) == 32
            and all(c in "0123456789abcdef" for c in save_id)):
        raise bad(f"bad save_id {save_id!r}")
    if not _is_count(size) or size < HEADER_SIZE:
        raise bad(f"bad data_size {size!r}")
    if not isinstance(tensors, dict):
        raise bad("'tensors' is not an object")
    for name, e in tensors.items():
        _check_entry(name, e, size, bad)
    return index


def _is_count(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _check_entry(name: str, e, data_size: int, bad) -> None:
    if not isinstance(e, dict):
        raise bad(f"entry of tensor {name!r} is not an object")
    dtype, shape = e.get("dtype"), e.get("shape")
    if dtype not in SUPPORTED_DTYPES:
        raise bad(f"tensor {name!r} has unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise bad(f"tensor {name!r} has a bad shape {shape!r}")
    offset, length, crc = e.get("offset"), e.get("length"), e.get("crc32")
    if not (_is_count(offset) and _is_count(length) and _is_count(crc)):
        raise bad(f"tensor {name!r} has a bad offset, length or crc32")
    expected = SUPPORTED_DTYPES[dtype].itemsize * int(np.prod(shape, dtype=np.int64))
    if length != expected:
        raise bad(f"tensor {name!r} of dtype {dtype} and shape {shape} needs "
                  f"{expected} bytes but the index records {length}")
    if offset < HEADER_SIZE or offset + length > data_size:
        raise bad(f"tensor {name!r} spans bytes [{offset}, {offset + length}) "
                  f"outside the data area [{HEADER_SIZE}, {data_size})")


class CheckpointReader:
    """Reads one checkpoint; like TF's NewCheckpointReader.

    Opening validates the index and finds the data file carrying the index's
    save id with the size the index records; `get_tensor` checks each
    tensor's crc32."""

    def __init__(self, prefix: str):
        self.prefix = os.fspath(prefix)
        self._index = _load_index(self.prefix)
        self._tensors = self._index["tensors"]
        self.data_file = self._find_data_file()

    def _find_data_file(self) -> str:
        want = bytes.fromhex(self._index["save_id"])
        dpath = data_path(self.prefix)
        candidates = [dpath, _backup_path(self.prefix)]
        path = next((p for p in candidates if _data_file_id(p) == want), None)
        if path is None:
            if not os.path.exists(dpath):
                raise CheckpointError(
                    f"Checkpoint data file {dpath} is missing (the index "
                    f"{index_path(self.prefix)} exists)")
            found = _data_file_id(dpath)
            if found is None:
                raise CheckpointError(
                    f"Checkpoint data file {dpath} is corrupt or truncated: "
                    "its header is missing or has the wrong magic bytes")
            raise CheckpointError(
                f"Checkpoint data file {dpath} belongs to a different save "
                f"(save id {found.hex()}) than its index "
                f"{index_path(self.prefix)} (save id {want.hex()}); a save "
                "to this prefix did not finish")
        actual = os.path.getsize(path)
        expected = self._index["data_size"]
        if actual != expected:
            culprit = ""
            if actual < expected:
                # Name the first tensor the truncation cuts into.
                cut = [n for n, e in self._tensors.items()
                       if e["offset"] + e["length"] > actual]
                if cut:
                    e = self._tensors[cut[0]]
                    culprit = (f"; tensor {cut[0]!r} needs bytes "
                               f"[{e['offset']}, {e['offset'] + e['length']})")
            raise CheckpointError(
                f"Checkpoint data file {path} is "
                f"{'truncated' if actual < expected else 'too long'}: the "
                f"index records {expected} bytes, the file has {actual}{culprit}")
        return path

    def get_variable_to_shape_map(self) -> dict:
        return {n: list(e["shape"]) for n, e in self._tensors.items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {n: SUPPORTED_DTYPES[e["dtype"]] for n, e in self._tensors.items()}

    def has_tensor(self, name: str) -> bool:
        return name in self._tensors

    def get_tensor(self, name: str) -> np.ndarray:
        with open(self.data_file, "rb") as f:
            return self._read(f, name)

    def read_all(self, names=None) -> dict:
        names = list(self._tensors) if names is None else list(names)
        with open(self.data_file, "rb") as f:
            return {n: self._read(f, n) for n in names}

    def _read(self, f, name: str) -> np.ndarray:
        e = self._tensors.get(name)
        if e is None:
            raise CheckpointError(
                f"Key {name} not found in checkpoint {self.prefix} (it holds "
                f"{len(self._tensors)} tensors: {_preview(self._tensors)})")
        dtype = SUPPORTED_DTYPES[e["dtype"]]
        out = np.empty(e["shape"], dtype=dtype.newbyteorder("<")
                       if dtype.itemsize > 1 else dtype)
        buf = _byte_view(out)
        f.seek(e["offset"])
        got, crc = 0, 0
        while got < e["length"]:
            n = f.readinto(buf[got:got + _READ_CHUNK])
            if not n:
                raise CheckpointError(
                    f"Checkpoint data file {self.data_file} is truncated "
                    f"inside tensor {name!r}")
            crc = zlib.crc32(buf[got:got + n], crc)
            got += n
        if crc != e["crc32"]:
            raise CheckpointError(
                f"Checkpoint data file {self.data_file} is corrupt: tensor "
                f"{name!r} fails its crc32 check (expected {e['crc32']:#010x}, "
                f"got {crc:#010x})")
        if dtype.itemsize > 1 and sys.byteorder != "little":
            out = out.astype(dtype)
        return out


def _preview(names, limit=5) -> str:
    names = list(names)
    text = ", ".join(repr(n) for n in names[:limit])
    return text + (", ..." if len(names) > limit else "")


def read_checkpoint(prefix: str, names=None) -> dict:
    """Returns {name: array} for every tensor (or only `names`), validated."""
    return CheckpointReader(prefix).read_all(names)


def read_index(prefix: str) -> dict:
    """Returns {name: (dtype, shape tuple)}, validating the index and the data
    file's presence, save id and size (but not the tensors' checksums)."""
    reader = CheckpointReader(prefix)
    return {n: (SUPPORTED_DTYPES[e["dtype"]], tuple(e["shape"]))
            for n, e in reader._tensors.items()}


def checkpoint_exists(prefix: str) -> bool:
    """True if a checkpoint index exists at `prefix` (as TF checks V2)."""
    return os.path.isfile(index_path(prefix))


def remove_checkpoint(prefix: str, meta_graph_suffix: str = "meta") -> None:
    """Deletes a checkpoint's files; the index first, so a checkpoint is never
    seen half-removed. Missing files are ignored."""
    prefix = os.fspath(prefix)
    paths = [index_path(prefix)]
    paths += sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????"))
    paths += [_backup_path(prefix)]
    if meta_graph_suffix:
        paths.append(prefix + "." + meta_graph_suffix)
    for p in paths:
        _remove_quietly(p)


# The state file lives in checkpoint_state.py; its names stay importable from here.
from .checkpoint_state import (CheckpointState, get_checkpoint_state,  # noqa: E402,F401
                               latest_checkpoint, update_checkpoint_state)
