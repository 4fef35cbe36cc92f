"""The on-disk compile cache: object code keyed by what produced it.

Location: `$TFC_CACHE_DIR`, else `$XDG_CACHE_HOME/tfcompile`, else
`~/.cache/tfcompile`. Disabled when `TFC_CACHE=0` (or by `set_enabled(False)`).

A key is the sha256 of the IR text the caller passes, the target triple, CPU
name and features, the tfcompile and llvmlite versions, the cache format
version and a free-form `variant` (codegen settings such as the optimization
level or relocation model). An entry is one file:

    magic b"TFCOBJ\\0\\0" | format u32 | reserved u32 | length u64 | sha256(payload) | payload

written to a temporary file in the same directory and moved into place with
`os.replace`, so readers in other processes see either nothing or a whole
entry. `get` checks the magic, length and checksum; a bad entry is deleted
and reported as a miss, never returned. Cache I/O failures (read-only or full
disk) are never fatal: `put` then just does not store.

Size: at most `$TFC_CACHE_MAX_MB` megabytes (default 1024) of entries. Every
few stores (`trim`) the least recently used entries (a hit refreshes an
entry's modification time) are deleted down to 80% of that.
"""
from __future__ import annotations

import functools
import hashlib
import os
import struct
import tempfile
import warnings
from pathlib import Path

FORMAT_VERSION = 1
DEFAULT_MAX_MB = 1024
TRIM_EVERY = 32             # stores between size checks
_MAGIC = b"TFCOBJ\0\0"
_HEADER = struct.Struct("<8sIIQ32s")   # magic, format, reserved, length, sha256

_enabled_override: bool | None = None
_warned_write = False
_puts = 0


def enabled() -> bool:
    """Whether the cache is used: `set_enabled` wins, else TFC_CACHE != "0"."""
    if _enabled_override is not None:
        return _enabled_override
    return os.environ.get("TFC_CACHE", "1").strip().lower() not in ("0", "false", "off", "no")


def set_enabled(flag: bool | None) -> None:
    """Force the cache on or off for this process; None goes back to TFC_CACHE."""
    global _enabled_override
    _enabled_override = None if flag is None else bool(flag)


def cache_dir() -> Path:
    """The cache's root directory (not created here)."""
    env = os.environ.get("TFC_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tfcompile"


@functools.lru_cache(maxsize=None)
def _tfcompile_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("tfcompile")
        except PackageNotFoundError:
            return "dev"
    except ImportError:
        return "dev"


@functools.lru_cache(maxsize=None)
def _llvmlite_version() -> str:
    import llvmlite
    return llvmlite.__version__


def key(ir_text: str, triple: str | None = None, cpu: str | None = None,
        features: str | None = None, *, variant: str = "") -> str:
    """The hex sha256 naming the object code of `ir_text` for a target.

    The target defaults to this host (triple, CPU name, CPU features).
    """
    if triple is None or cpu is None or features is None:
        from .llvm_target import host_cpu
        h_triple, h_cpu, h_features = host_cpu()
        triple = h_triple if triple is None else triple
        cpu = h_cpu if cpu is None else cpu
        features = h_features if features is None else features
    h = hashlib.sha256()
    # length-prefixed fields, so no two field lists hash alike
    for field in (f"tfcompile-cache-v{FORMAT_VERSION}", _tfcompile_version(),
                  _llvmlite_version(), triple, cpu, features, variant, ir_text):
        data = field.encode("utf-8")
        h.update(struct.pack("<Q", len(data)))
        h.update(data)
    return h.hexdigest()


def entry_path(k: str) -> Path:
    """Where the entry for key `k` lives."""
    if len(k) != 64 or any(c not in "0123456789abcdef" for c in k):
        raise ValueError(f"cache key must be 64 lowercase hex digits, got {k!r}")
    return cache_dir() / "objects" / k[:2] / f"{k[2:]}.tfcobj"


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def get(k: str) -> bytes | None:
    """The object code stored under `k`, or None (missing, disabled or corrupt)."""
    if not enabled():
        return None
    path = entry_path(k)
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError:
        return None
    if len(blob) < _HEADER.size:
        _discard(path)
        return None
    magic, fmt, _reserved, length, digest = _HEADER.unpack_from(blob)
    payload = blob[_HEADER.size:]
    if (magic != _MAGIC or fmt != FORMAT_VERSION or length != len(payload)
            or hashlib.sha256(payload).digest() != digest):
        _discard(path)
        return None
    try:
        os.utime(path)          # recently used: kept by `trim`
    except OSError:
        pass
    return payload


def put(k: str, obj: bytes) -> bool:
    """Stores `obj` under `k` atomically; False if disabled or not writable."""
    global _warned_write, _puts
    if not enabled():
        return False
    obj = bytes(obj)
    path = entry_path(k)
    header = _HEADER.pack(_MAGIC, FORMAT_VERSION, 0, len(obj), hashlib.sha256(obj).digest())
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".tfcobj")
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(obj)
        os.replace(tmp, path)
        _puts += 1
        if _puts % TRIM_EVERY == 1:
            trim()
        return True
    except OSError as e:
        if tmp is not None:
            _discard(Path(tmp))
        if not _warned_write:
            _warned_write = True
            warnings.warn(f"tfcompile: cannot write the compile cache at {path.parent} "
                          f"({e}); compiling without storing", RuntimeWarning, stacklevel=2)
        return False


def max_bytes() -> int:
    """The size limit: $TFC_CACHE_MAX_MB megabytes, else DEFAULT_MAX_MB."""
    try:
        mb = float(os.environ.get("TFC_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(0, int(mb * 1024 * 1024))


def trim(limit: int | None = None) -> int:
    """Deletes least recently used entries until they take at most 80% of
    `limit` bytes (default `max_bytes()`) if they take more than `limit`;
    also temporary files left for an hour by writers that died. Returns how
    many entries it deleted."""
    import time
    limit = max_bytes() if limit is None else limit
    root = cache_dir() / "objects"
    entries, total = [], 0
    try:
        subdirs = list(os.scandir(root))
    except OSError:
        return 0
    now = time.time()
    for d in subdirs:
        try:
            files = list(os.scandir(d.path)) if d.is_dir() else []
        except OSError:
            continue
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            if f.name.startswith(".tmp-"):
                if now - st.st_mtime > 3600:
                    _discard(Path(f.path))
                continue
            entries.append((st.st_mtime, st.st_size, f.path))
            total += st.st_size
    if total <= limit:
        return 0
    removed = 0
    for _, size, path in sorted(entries):
        if total <= 0.8 * limit:
            break
        _discard(Path(path))
        total -= size
        removed += 1
    return removed


def clear() -> int:
    """Deletes every cache entry (object code only); returns how many."""
    root = cache_dir() / "objects"
    count = 0
    if not root.is_dir():
        return 0
    for path in root.glob("*/*.tfcobj"):
        if not path.name.startswith(".tmp-"):   # leave writes in flight alone
            _discard(path)
            count += 1
    return count
