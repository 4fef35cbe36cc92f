"""Loading an exported model library (tfcompile.aot.export) into Python.

    model = tfcompile.runtime.load("build/mnist.json")   # or libmnist.so, or
    logits = model(images)                              #   load("build", "mnist")

`load` opens lib<name>.so with cffi, reads the signature the library embeds
(<name>_signature_json), and returns a callable that checks every feed's
shape and dtype before it calls <name>_run_buffers on one context. Needs only
numpy and cffi: nothing of the compiler.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import cffi
import numpy as np

FORMAT = "tfcompile-aot"
FORMAT_VERSION = 1
_NP = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
       "bool": np.bool_}


class TensorInfo:
    """One feed or fetch of a loaded model."""

    def __init__(self, d: dict):
        self.index = int(d["index"])
        self.name = d["name"]
        self.ident = d["ident"]
        self.dtype = np.dtype(_NP[d["dtype"]])
        self.dtype_name = d["dtype"]
        self.shape = tuple(int(x) for x in d["shape"])
        self.nbytes = int(d["bytes"])

    def describe(self) -> str:
        return f"{self.dtype_name}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        return f"<{self.name} {self.describe()}>"


def _read_json(path: Path) -> dict:
    try:
        sig = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable model signature ({e})") from None
    if not isinstance(sig, dict) or sig.get("format") != FORMAT:
        raise ValueError(f"{path}: not a tfcompile model signature (expected \"format\": "
                         f"\"{FORMAT}\")")
    return sig


def _resolve(path, name):
    """(shared library path, model name, signature from a .json or None)."""
    p = Path(os.fspath(path))
    if p.is_dir():
        if name is None:
            cands = []
            for j in sorted(p.glob("*.json")):
                try:
                    cands.append(_read_json(j)["name"])
                except (ValueError, KeyError):
                    continue
            if len(cands) != 1:
                raise ValueError(f"{p}: {'no' if not cands else 'several'} exported models "
                                 f"found ({', '.join(cands) or 'none'}); pass the name: "
                                 "load(dir, name)")
            name = cands[0]
        sig_path = p / f"{name}.json"
        if sig_path.exists():
            return _resolve(sig_path, None)
        return p / f"lib{name}.so", name, None
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file (expected lib<name>.so, <name>.json or "
                                "the directory they were exported to)")
    if p.suffix == ".json":
        sig = _read_json(p)
        lib = p.parent / sig.get("files", {}).get("shared_library", f"lib{sig['name']}.so")
        if name is not None and name != sig["name"]:
            raise ValueError(f"{p} describes model {sig['name']!r}, not {name!r}")
        return lib, sig["name"], sig
    stem = p.name.split(".so", 1)[0]
    if name is None:
        if not stem.startswith("lib") or len(stem) == 3:
            raise ValueError(f"{p}: can't tell the model's name from the file name (expected "
                             "lib<name>.so); pass it: load(path, name)")
        name = stem[3:]
    return p, name, None


def _cdef(n: str) -> str:
    return f"""
typedef struct {n} {n};
{n} *{n}_create(void);
void {n}_destroy({n} *ctx);
int {n}_run_buffers({n} *ctx, const void *const *feeds, void *const *fetches);
const char *{n}_error(const {n} *ctx);
int {n}_set_num_threads({n} *ctx, int num_threads);
int {n}_get_num_threads(void);
const char *{n}_signature_json(void);
"""


class Model:
    """A loaded model: `model(*feeds)` returns the fetches (one array, or a list).

    Feeds go in signature order, or by name (tensor name or C name) as
    keywords. Each must have the exact shape and dtype of the signature (a
    Python list or scalar is converted when that loses nothing). Calls on one
    Model are serialized; load the library again for a second context."""

    def __init__(self, path, name=None):
        lib_path, name, file_sig = _resolve(path, name)
        if not lib_path.exists():
            raise FileNotFoundError(f"{lib_path}: the shared library of model {name!r} is "
                                    "missing")
        self.path = lib_path
        self.name = name
        self._ffi = ffi = cffi.FFI()
        ffi.cdef(_cdef(name))
        try:
            self._lib = ffi.dlopen(str(lib_path.resolve()))
            self._fn = {k: getattr(self._lib, f"{name}_{k}") for k in (
                "create", "destroy", "run_buffers", "error", "set_num_threads",
                "get_num_threads", "signature_json")}
        except (OSError, AttributeError) as e:
            raise OSError(f"{lib_path}: not an exported library of model {name!r}: {e}") \
                from None
        sig = json.loads(ffi.string(self._fn["signature_json"]()).decode())
        if sig.get("format") != FORMAT or int(sig.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"{lib_path}: signature format {sig.get('format')!r} version "
                             f"{sig.get('format_version')!r} is not one this loader reads")
        if file_sig is not None and (file_sig.get("feeds"), file_sig.get("fetches")) != (
                sig.get("feeds"), sig.get("fetches")):
            raise ValueError(f"{lib_path} and its {name}.json disagree about the signature; "
                             "export the model again")
        self.signature = sig
        self.feeds = [TensorInfo(d) for d in sig["feeds"]]
        self.fetches = [TensorInfo(d) for d in sig["fetches"]]
        self.target = sig.get("target", {})
        self._by_name = {}
        for t in self.feeds:
            self._by_name[t.name] = self._by_name[t.ident] = t.index
            if t.name.endswith(":0"):
                self._by_name.setdefault(t.name[:-2], t.index)
        ctx = self._fn["create"]()
        if ctx == ffi.NULL:
            raise MemoryError(f"{name}_create failed: not enough memory for its "
                              f"{sig['memory']['arena_bytes']}-byte arena")
        self._ctx = ffi.gc(ctx, self._fn["destroy"])
        self._feed_ptrs = ffi.new("void *[]", max(len(self.feeds), 1))
        self._fetch_ptrs = ffi.new("void *[]", max(len(self.fetches), 1))
        self._dummy = np.zeros(8, np.uint8)
        self._dummy_c = ffi.from_buffer(self._dummy)
        self._run = self._fn["run_buffers"]
        self._lock = threading.Lock()

    # ---- checking
    def _arg(self, t: TensorInfo, x):
        what = f"{self.name}: feed {t.index} ({t.name!r})"
        if isinstance(x, np.ndarray):
            arr = x
            if arr.dtype != t.dtype:
                raise TypeError(f"{what} must be {t.describe()}, got an array of dtype "
                                f"{arr.dtype} and shape {list(arr.shape)}; convert it with "
                                f".astype(np.{t.dtype.name})")
        else:
            arr = np.asarray(x)
            if arr.dtype != t.dtype:
                if arr.dtype.kind in "biuf" and np.can_cast(arr.dtype, t.dtype, "same_kind"):
                    conv = arr.astype(t.dtype)
                    if t.dtype.kind != "f" and not np.array_equal(conv, arr):
                        raise TypeError(f"{what}: the values don't fit {t.dtype_name}")
                    arr = conv
                else:
                    raise TypeError(f"{what} must be {t.describe()}, got a value of dtype "
                                    f"{arr.dtype}")
        if arr.shape != t.shape:
            raise ValueError(f"{what} must have shape {list(t.shape)} ({t.describe()}), got "
                             f"shape {list(arr.shape)}")
        return np.ascontiguousarray(arr)

    def _args(self, args, kwargs):
        n = len(self.feeds)
        slots = list(args) + [None] * (n - len(args)) if len(args) <= n else None
        if slots is None:
            raise TypeError(f"{self.name} takes {n} feed(s) "
                            f"({', '.join(t.name for t in self.feeds)}), got {len(args)}")
        given = [i < len(args) for i in range(n)]
        for key, value in kwargs.items():
            i = self._by_name.get(key)
            if i is None:
                raise TypeError(f"{self.name}: no feed named {key!r}; the feeds are "
                                f"{', '.join(repr(t.name) for t in self.feeds)}")
            if given[i]:
                raise TypeError(f"{self.name}: feed {self.feeds[i].name!r} given twice")
            slots[i], given[i] = value, True
        missing = [self.feeds[i].name for i in range(n) if not given[i]]
        if missing:
            raise TypeError(f"{self.name}: missing feed(s) {', '.join(map(repr, missing))}")
        return [self._arg(t, x) for t, x in zip(self.feeds, slots)]

    def _outs(self, out):
        if out is None:
            return [np.empty(t.shape, t.dtype) for t in self.fetches]
        if type(out) is list and len(out) == len(self.fetches) and all(
                type(a) is np.ndarray and a.dtype == t.dtype and a.shape == t.shape
                and a.flags.c_contiguous and a.flags.writeable
                for a, t in zip(out, self.fetches)):
            return out
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(out) != len(self.fetches):
            raise TypeError(f"{self.name}: out= needs {len(self.fetches)} array(s), got "
                            f"{len(out)}")
        for t, a in zip(self.fetches, out):
            if not (isinstance(a, np.ndarray) and a.dtype == t.dtype and a.shape == t.shape
                    and a.flags.c_contiguous and a.flags.writeable):
                raise ValueError(f"{self.name}: out array for fetch {t.index} ({t.name!r}) "
                                 f"must be a writeable C-contiguous {t.describe()}")
        return out

    # ---- running
    def _ready(self, feeds, named):
        """The feeds as given when they are exactly right already (the common case)."""
        if named or len(feeds) != len(self.feeds):
            return None
        for a, t in zip(feeds, self.feeds):
            if not (type(a) is np.ndarray and a.dtype == t.dtype and a.shape == t.shape
                    and a.flags.c_contiguous):
                return None
        return feeds

    def run(self, *feeds, out=None, **named):
        """Runs once; returns the fetches (a list), written into `out` if given."""
        arrays = self._ready(feeds, named) or self._args(feeds, named)
        outs = self._outs(out)
        fb = self._ffi.from_buffer
        keep = [fb(a) if a.nbytes else self._dummy_c for a in arrays]
        kout = [fb(a, require_writable=True) if a.nbytes else self._dummy_c for a in outs]
        with self._lock:
            self._feed_ptrs[0:len(keep)] = keep
            self._fetch_ptrs[0:len(kout)] = kout
            rc = self._run(self._ctx, self._feed_ptrs, self._fetch_ptrs)
            if rc != 0:
                raise RuntimeError(f"{self.name}_run failed: {self.error()}")
        return outs

    def __call__(self, *feeds, out=None, **named):
        outs = self.run(*feeds, out=out, **named)
        return outs[0] if len(outs) == 1 else outs

    def error(self) -> str:
        """The library's message about the last call ("" after a success)."""
        return self._ffi.string(self._fn["error"](self._ctx)).decode(errors="replace")

    def set_num_threads(self, n: int) -> None:
        """Threads for large loops (every context of this library); 0 = default."""
        if self._fn["set_num_threads"](self._ctx, int(n)) != 0:
            raise ValueError(self.error())

    def get_num_threads(self) -> int:
        return int(self._fn["get_num_threads"]())

    def __repr__(self):
        sig = ", ".join(f"{t.name}: {t.describe()}" for t in self.feeds)
        res = ", ".join(f"{t.name}: {t.describe()}" for t in self.fetches)
        return f"<tfcompile model {self.name!r} ({sig}) -> ({res}) from {str(self.path)!r}>"


def load(path, name=None) -> Model:
    """Opens an exported model: lib<name>.so, <name>.json, or the directory
    holding them (with `name` when it holds several)."""
    return Model(path, name)


__all__ = ["load", "Model", "TensorInfo"]
