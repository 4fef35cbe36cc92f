"""tf.gfile (TF 1.x names) and tf.io.gfile (TF 2 names) on the local file
system, raising TF's errors: NotFoundError for a missing path,
AlreadyExistsError where TF refuses to overwrite, PermissionDeniedError for
reading a file opened for writing (and the reverse)."""
from __future__ import annotations

import collections
import errno
import fnmatch
import glob as _glob
import os
import shutil
import types

from .errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnknownError,
)


def _path(p):
    return os.fsdecode(os.fspath(p))


def _os_error(e, path):
    """The tf.errors exception for an OSError about `path`."""
    msg = f"{path}; {e.strerror or e}"
    if e.errno == errno.ENOENT:
        return NotFoundError(None, None, msg)
    if e.errno == errno.EEXIST:
        return AlreadyExistsError(None, None, msg)
    if e.errno in (errno.EACCES, errno.EPERM):
        return PermissionDeniedError(None, None, msg)
    if e.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENOTEMPTY):
        return FailedPreconditionError(None, None, msg)
    return UnknownError(None, None, msg)


def _not_found(path):
    return NotFoundError(None, None, f"{path}; No such file or directory")


class GFile:
    """A file with TF's GFile interface. Opening is lazy, as TF's: a missing
    file raises NotFoundError at the first read. Text modes read and write
    UTF-8 str with no newline translation; binary modes bytes. Offsets are
    byte offsets."""

    _MODES = ("r", "w", "a", "rb", "wb", "ab")

    def __init__(self, name, mode="r"):
        if mode not in self._MODES:
            raise InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'rb' "
                                                   "or 'wb' or 'ab'")
        self._name = _path(name)
        self._mode = mode
        self._binary = "b" in mode
        self._f = None
        self._closed = False

    name = property(lambda self: self._name)
    mode = property(lambda self: self._mode)

    def _open(self, want_read):
        if self._closed:
            raise ValueError("I/O operation on closed file.")
        if want_read != self._mode.startswith("r"):
            raise PermissionDeniedError(
                None, None, f"File isn't open for {'reading' if want_read else 'writing'}")
        if self._f is None:
            try:
                self._f = open(self._name, self._mode[0] + "b")  # noqa: SIM115 - held until close()
            except OSError as e:
                raise _os_error(e, self._name) from None
        return self._f

    def _out(self, data):
        return data if self._binary else data.decode("utf-8")

    def read(self, n=-1):
        f = self._open(True)
        return self._out(f.read(-1 if n is None else n))

    def readline(self):
        return self._out(self._open(True).readline())

    def readlines(self):
        return [self._out(line) for line in self._open(True).readlines()]

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._open(False).write(bytes(data))

    def flush(self):
        if self._f is not None and not self._mode.startswith("r"):
            self._f.flush()

    def seek(self, offset=None, whence=0, position=None):
        if position is not None:
            if offset is not None:
                raise TypeError("seek() got both 'offset' and 'position'")
            offset = position
        self._open(True).seek(offset, whence)

    def tell(self):
        if self._f is None and self._mode.startswith("r"):
            self._open(True)
        return self._f.tell() if self._f is not None else 0

    def size(self):
        self.flush()
        return stat(self._name).length

    def close(self):
        if self._f is not None:
            self._f.close()
        self._f = None
        self._closed = True

    def seekable(self):
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


FileStatistics = collections.namedtuple("FileStatistics",
                                        ["length", "mtime_nsec", "is_directory"])


def exists(path):
    return os.path.exists(_path(path))


def isdir(path):
    return os.path.isdir(_path(path))


def makedirs(path):
    """Creates `path` and its missing parents; fine if it is a directory already."""
    path = _path(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise FailedPreconditionError(None, None, f"{path} is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise _os_error(e, path) from None


def mkdir(path):
    """Creates one directory; its parent must exist. An existing path is not
    an error (TF's CreateDir wrapper drops ALREADY_EXISTS)."""
    path = _path(path)
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError as e:
        raise _os_error(e, path) from None


def listdir(path):
    path = _path(path)
    if not os.path.isdir(path):
        raise NotFoundError(None, None, f"Could not find directory {path}")
    return os.listdir(path)


def glob(pattern):
    patterns = [pattern] if isinstance(pattern, (str, bytes, os.PathLike)) else pattern
    out = []
    for p in patterns:
        out.extend(_match(_path(p)))
    return out


def _match(pattern):
    """Paths matching `pattern` one component at a time; unlike Python's glob,
    `*` also matches names starting with a dot, as TF's matching does."""
    if not _glob.has_magic(pattern):
        return [pattern] if os.path.lexists(pattern) else []
    parts = pattern.split("/")
    found = ["/" if pattern.startswith("/") else ""]
    for part in (p for p in parts if p):
        nxt = []
        for base in found:
            if not _glob.has_magic(part):
                cand = os.path.join(base, part) if base else part
                if os.path.lexists(cand):
                    nxt.append(cand)
                continue
            try:
                names = os.listdir(base or ".")
            except OSError:
                continue
            nxt.extend(os.path.join(base, n) if base else n
                       for n in sorted(names) if fnmatch.fnmatchcase(n, part))
        found = nxt
    return [f for f in found if f]


def remove(path):
    path = _path(path)
    if not os.path.lexists(path):
        raise _not_found(path)
    try:
        os.remove(path)
    except OSError as e:
        raise _os_error(e, path) from None


def rmtree(path):
    """Deletes a directory tree, or a single file, as TF's DeleteRecursively."""
    path = _path(path)
    if not os.path.lexists(path):
        raise _not_found(path)
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except OSError as e:
        raise _os_error(e, path) from None


def _check_target(src, dst, overwrite):
    if not os.path.exists(src):
        raise _not_found(src)
    if not overwrite and os.path.exists(dst):
        raise AlreadyExistsError(None, None, f"file already exists: {dst}")


def copy(src, dst, overwrite=False):
    src, dst = _path(src), _path(dst)
    _check_target(src, dst, overwrite)
    try:
        shutil.copyfile(src, dst)
    except OSError as e:
        raise _os_error(e, dst) from None


def rename(src, dst, overwrite=False):
    src, dst = _path(src), _path(dst)
    _check_target(src, dst, overwrite)
    try:
        os.replace(src, dst)
    except OSError as e:
        raise _os_error(e, src) from None


def stat(path):
    path = _path(path)
    try:
        st = os.stat(path)
    except OSError as e:
        raise _os_error(e, path) from None
    import stat as _st
    return FileStatistics(st.st_size, st.st_mtime_ns, _st.S_ISDIR(st.st_mode))


def _walk(top, in_order):
    top = _path(top)
    try:
        names = listdir(top)
    except NotFoundError:
        return
    dirs, files = [], []
    for n in names:
        (dirs if os.path.isdir(os.path.join(top, n)) else files).append(n)
    here = (top, dirs, files)
    if in_order:
        yield here
    for d in dirs:
        yield from _walk(os.path.join(top, d), in_order)
    if not in_order:
        yield here


def Walk(top, in_order=True):
    """(dirname, subdirectory names, file names) for each directory under `top`,
    parents first unless in_order is False; nothing when `top` doesn't exist."""
    return _walk(top, in_order)


def walk(top, topdown=True, onerror=None):
    top = _path(top)
    if not os.path.isdir(top):
        if onerror is not None:
            onerror(NotFoundError(None, None, f"Could not find directory {top}"))
        return iter(())
    return _walk(top, topdown)


def _module(name, **members):
    mod = types.ModuleType(name, f"{name} (local files)")
    for k, v in members.items():
        setattr(mod, k, v)
    return mod


def gfile_v1():
    """The tf.gfile module (TF 1.x names)."""
    return _module(
        "tfcompile.gfile", Exists=exists, IsDirectory=isdir, MakeDirs=makedirs,
        MkDir=mkdir, ListDirectory=listdir, Glob=glob, Remove=remove,
        DeleteRecursively=rmtree, Copy=copy, Rename=rename, Stat=stat, Walk=Walk,
        GFile=GFile, Open=GFile, FastGFile=GFile, FileStatistics=FileStatistics)


def gfile_v2():
    """The tf.io.gfile module (TF 2 names)."""
    return _module(
        "tfcompile.io.gfile", exists=exists, isdir=isdir, makedirs=makedirs, mkdir=mkdir,
        listdir=listdir, glob=glob, remove=remove, rmtree=rmtree, copy=copy,
        rename=rename, stat=stat, walk=walk, GFile=GFile)
