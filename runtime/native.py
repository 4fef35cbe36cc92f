"""Builds, loads and exposes the runtime's native helpers (threadpool.c).

The C source is compiled once with the system C compiler (`$CC`, else `cc`)
into an object file and a shared library under `<cache dir>/native/`, named
by a hash of the source, the compiler and the flags. Each build writes a
temporary file and moves it into place with `os.replace`, so processes that
build at the same time are safe. When the compile cache is disabled the
build goes to a private temporary directory removed at exit.

The JIT links generated code against the loaded library through
`register_with_llvm()`; the ahead-of-time export compiles or links the same
code from `source_path()` / `object_file_path()`.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import platform
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import cffi

from . import cache

CFLAGS = ("-std=c99", "-O2", "-fPIC", "-pthread")
LDFLAGS = ("-shared", "-pthread")


class NativeBuildError(RuntimeError):
    """The C compiler is missing or failed on the runtime's native helpers."""


_lock = threading.RLock()
_ffi: cffi.FFI | None = None
_lib = None
_registered = False
_private_dir: Path | None = None


def source_path() -> Path:
    """The C source of the native helpers."""
    return Path(__file__).with_name("threadpool.c")


def header_path() -> Path:
    """The C header declaring the native helpers (include it from C)."""
    return Path(__file__).with_name("threadpool.h")


def cdef() -> str:
    """The helpers' prototypes, as read from the header's cdef section."""
    text = header_path().read_text()
    try:
        body = text.split("/* cdef-begin */", 1)[1].split("/* cdef-end */", 1)[0]
    except IndexError:
        raise NativeBuildError(f"{header_path()} lacks its cdef-begin/cdef-end markers") from None
    return body.strip() + "\n"


def exported_symbols() -> tuple[str, ...]:
    """The names of the helpers (every tfc_* function in the header)."""
    names = []
    for line in cdef().splitlines():
        head = line.split("(", 1)[0].split()
        if head and head[-1].lstrip("*").startswith("tfc_"):
            names.append(head[-1].lstrip("*"))
    return tuple(names)


def compiler() -> list[str]:
    """The C compiler command ($CC split like a shell would, else `cc`)."""
    argv = shlex.split(os.environ.get("CC", "") or "cc")
    if not argv or shutil.which(argv[0]) is None:
        raise NativeBuildError(
            f"no C compiler found (looked for {argv[0] if argv else 'cc'!r} on PATH): "
            "tfcompile compiles its thread pool (runtime/threadpool.c) with the system "
            "C compiler; install gcc or clang, or set CC to one")
    return argv


def _compiler_identity(argv: list[str]) -> str:
    """Names the compiler binary itself, so an upgrade rebuilds the helpers."""
    exe = os.path.realpath(shutil.which(argv[0]))
    st = os.stat(exe)
    return f"{' '.join(argv)}|{exe}|{st.st_size}|{st.st_mtime_ns}"


def _build_dir() -> Path:
    global _private_dir
    if cache.enabled():
        d = cache.cache_dir() / "native"
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            pass
    if _private_dir is None:
        _private_dir = Path(tempfile.mkdtemp(prefix="tfc-native-"))
        atexit.register(shutil.rmtree, _private_dir, True)
    return _private_dir


def _build_tag(argv: list[str]) -> str:
    h = hashlib.sha256()
    for part in (source_path().read_bytes(), header_path().read_bytes(),
                 _compiler_identity(argv).encode(), " ".join(CFLAGS + LDFLAGS).encode(),
                 platform.machine().encode(), sys.platform.encode()):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()[:20]


def _run_compiler(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise NativeBuildError(f"could not run the C compiler for {what}: {e}") from None
    if proc.returncode != 0:
        raise NativeBuildError(
            f"the C compiler failed on {what} (exit {proc.returncode}):\n"
            f"  {' '.join(shlex.quote(c) for c in cmd)}\n{proc.stderr.strip()}")


def _build(suffix: str, make_cmd) -> Path:
    """Builds `threadpool-<tag><suffix>` once; `make_cmd(argv, out)` gives the command."""
    argv = compiler()
    out = _build_dir() / f"threadpool-{_build_tag(argv)}{suffix}"
    if out.exists():
        return out
    # a unique name the compiler creates itself (so it gets the usual mode)
    tmp = str(out.parent / f".tmp-{os.getpid()}-{secrets.token_hex(6)}{suffix}")
    try:
        _run_compiler(make_cmd(argv, tmp), str(source_path().name))
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def object_file_path() -> Path:
    """A position-independent object file of the helpers (built if needed)."""
    with _lock:
        return _build(".o", lambda argv, out: [*argv, *CFLAGS, "-c", str(source_path()),
                                               "-o", out])


def shared_library_path() -> Path:
    """The helpers as a shared library (built if needed)."""
    with _lock:
        obj = object_file_path()
        return _build(".so", lambda argv, out: [*argv, *LDFLAGS, str(obj), "-o", out])


def native_lib():
    """The loaded helpers library (a cffi ABI-mode lib; built on first use)."""
    global _ffi, _lib
    with _lock:
        if _lib is None:
            ffi = cffi.FFI()
            ffi.cdef(cdef())
            _lib = ffi.dlopen(str(shared_library_path()))
            _ffi = ffi
        return _lib


def ffi() -> cffi.FFI:
    """The cffi FFI holding the helpers' declarations."""
    native_lib()
    return _ffi


def symbol_address(name: str) -> int:
    """The address of an exported helper, e.g. "tfc_parallel_for"."""
    lib = native_lib()
    if name not in exported_symbols():
        raise KeyError(f"{name!r} is not a native helper; they are: {', '.join(exported_symbols())}")
    return int(_ffi.cast("uintptr_t", getattr(lib, name)))


def register_with_llvm() -> None:
    """Makes every tfc_* helper resolvable by JIT-compiled code (idempotent)."""
    global _registered
    with _lock:
        if _registered:
            return
        import llvmlite.binding as llvm
        for name in exported_symbols():
            llvm.add_symbol(name, symbol_address(name))
        _registered = True


# The last count set through this module: a caller that sizes the pool before
# every call compares with it and goes into C only when the count changes.
_requested: int | None = None


def set_num_threads(n: int) -> None:
    """Threads used by parallel loops (caller included); n <= 0 means the default."""
    global _requested
    n = int(n)
    native_lib().tfc_set_num_threads(n)
    _requested = n


def get_num_threads() -> int:
    """Threads used by parallel loops: set_num_threads, else $TFC_NUM_THREADS, else CPUs."""
    return int(native_lib().tfc_get_num_threads())
