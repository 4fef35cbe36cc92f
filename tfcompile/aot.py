"""Ahead-of-time export: a trained model as a shared library, a static
library and a C header, with no Python at run time (what TensorFlow's
tfcompile does, with a C compiler instead of Bazel).

    import tfcompile as tf
    tf.aot.export(sess, {x: [1, 784]}, [logits], "mnist", "build/")
    # -> build/mnist.h, build/libmnist.so, build/libmnist.a, build/mnist.json

The session's variables are frozen into the code as constants, the graph is
pruned to what the fetches need, optimized, and compiled through LLVM into
a position-independent object for the chosen target. The C API around the
entry (tfcompile/aot_c.py) and the runtime's thread pool (runtime/threadpool.c,
with hidden visibility) are compiled with the system C compiler and linked
beside it, so the shared library exports only NAME_* functions and needs
nothing beyond libc, libm and pthreads.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import dtypes as _dt
from .aot_c import (C_TYPES, Signature, Target, TensorSpec, c_identifiers, check_model_name,
                    render_header)
from .aot_wrapper import render_wrapper
from .graph import Operation, Tensor
from .variables import Variable

ENTRY_SUFFIX = "_tfc_entry"
_C_FLAGS = ("-std=c99", "-O2", "-fPIC", "-pthread", "-fvisibility=hidden")


class ExportError(RuntimeError):
    """Building the library failed (the C compiler, the linker, the target)."""


class Exported:
    """What `export` wrote: paths, the signature, and a loader shortcut."""

    def __init__(self, out_dir: Path, signature: Signature, stats: dict):
        name = signature.name
        self.out_dir = out_dir
        self.name = name
        self.signature = signature
        self.header = out_dir / f"{name}.h"
        self.shared_library = out_dir / f"lib{name}.so"
        self.static_library = out_dir / f"lib{name}.a"
        self.signature_file = out_dir / f"{name}.json"
        self.stats = stats

    @property
    def files(self):
        return [self.header, self.shared_library, self.static_library, self.signature_file]

    def load(self):
        """The shared library opened by the Python loader (tfcompile.runtime.load)."""
        from .runtime.loader import load
        return load(self.signature_file)

    def __repr__(self):
        return f"<Exported {self.name!r} in {str(self.out_dir)!r}>"


# ---------------------------------------------------------------- feeds and fetches

def _element(graph, key, what):
    """A Tensor of `graph` from a Tensor, a Variable, a tensor name or an op name."""
    if isinstance(key, Variable):
        key = key._as_graph_element()
    if not isinstance(key, (Tensor, Operation, str)):
        raise TypeError(f"{what} {key!r} has type {type(key).__name__}; expected a Tensor "
                        "or a tensor/op name like 'logits' or 'logits:0'")
    try:
        el = graph.as_graph_element(key, allow_tensor=True, allow_operation=True)
    except (KeyError, ValueError) as e:
        msg = e.args[0] if e.args else str(e)
        raise ValueError(f"{what} {key!r}: {msg}") from None
    if isinstance(el, Operation):
        if len(el.outputs) == 1:
            return el.outputs[0]
        if not el.outputs:
            raise ValueError(f"{what} {el.name!r} is an operation with no output (op type "
                             f"{el.type}); an exported model feeds and fetches tensors")
        raise ValueError(f"{what} {el.name!r} has {len(el.outputs)} outputs; name one, as in "
                         f"'{el.name}:0'")
    return el


def parse_shape(shape, what="shape"):
    """A shape as a tuple of ints from a list/tuple or text like '1x784' ('' = scalar)."""
    if isinstance(shape, str):
        text = shape.strip()
        if text in ("", "scalar", "()", "[]"):
            return ()
        parts = re.split(r"[x,\s]+", text.strip("[]() "))
        try:
            dims = tuple(int(p) for p in parts if p != "")
        except ValueError:
            raise ValueError(f"{what}: can't read the shape {shape!r}; write it like '1x784' "
                             "(dimensions joined by 'x'), or 'scalar'") from None
    else:
        try:
            dims = tuple(shape)
        except TypeError:
            raise TypeError(f"{what}: the shape must be a list of ints like [1, 784], got "
                            f"{shape!r}") from None
        if any(isinstance(d, bool) or not isinstance(d, int) and not hasattr(d, "__index__")
               for d in dims):
            raise TypeError(f"{what}: the shape {list(dims)} must hold ints (every None "
                            "dimension of the placeholder must be given)")
        dims = tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ValueError(f"{what}: negative dimension in shape {list(dims)}")
    return dims


def _resolve_feeds(graph, feeds):
    if not isinstance(feeds, Mapping):
        raise TypeError("feeds must map placeholders (or their names) to fixed shapes, "
                        f"e.g. {{x: [1, 784]}}; got {type(feeds).__name__}")
    out, seen = [], set()
    for key, shape in feeds.items():
        t = _element(graph, key, "feed")
        if t in seen:
            raise ValueError(f"feed {t.name!r} is given twice")
        seen.add(t)
        dims = parse_shape(shape, f"feed {t.name!r}")
        static = t.shape.as_tuple() if t.shape.ndims is not None else None
        if static is not None:
            if len(static) != len(dims) or any(s is not None and s != d
                                               for s, d in zip(static, dims)):
                raise ValueError(f"feed {t.name!r}: the shape {list(dims)} is incompatible "
                                 f"with the tensor's shape {t.shape}")
        _dt.compilable(t.dtype, f"feed {t.name!r}")
        out.append((t, dims))
    return out


def _resolve_fetches(graph, fetches):
    if isinstance(fetches, (Tensor, Operation, Variable, str)):
        fetches = [fetches]
    fetches = list(fetches)
    if not fetches:
        raise ValueError("fetches is empty: name at least one tensor to compute")
    out = []
    for f in fetches:
        t = _element(graph, f, "fetch")
        _dt.compilable(t.dtype, f"fetch {t.name!r}")
        out.append(t)
    return out


# ---------------------------------------------------------------- target

def _arch(triple: str) -> str:
    return triple.split("-", 1)[0]


def resolve_target(target=None) -> Target:
    """None or "host": this CPU with all its features. A CPU name such as
    "x86-64-v3" (for the host's triple), a (triple, cpu[, features]) tuple, or
    a dict with those keys: a library for other machines."""
    from .runtime.llvm_target import host_cpu
    h_triple, h_cpu, h_features = host_cpu()
    if target is None or target == "host":
        return Target(h_triple, h_cpu, h_features, True)
    if isinstance(target, Target):
        return target
    if isinstance(target, str):
        triple, cpu, features = h_triple, target, ""
    elif isinstance(target, Mapping):
        unknown = set(target) - {"triple", "cpu", "features"}
        if unknown:
            raise ValueError(f"target: unknown key(s) {sorted(unknown)}; expected 'triple', "
                             "'cpu' and 'features'")
        triple = target.get("triple") or h_triple
        cpu = target.get("cpu") or "generic"
        features = target.get("features") or ""
    elif isinstance(target, (tuple, list)) and len(target) in (2, 3):
        triple, cpu = target[0] or h_triple, target[1] or "generic"
        features = target[2] if len(target) == 3 and target[2] else ""
    else:
        raise TypeError(f"target {target!r}: expected None/'host', a CPU name like "
                        "'x86-64-v3', a (triple, cpu[, features]) tuple or a dict")
    if not isinstance(features, str):
        features = ",".join(features)
    if triple == h_triple and cpu == h_cpu and features in ("", h_features):
        return Target(h_triple, h_cpu, h_features, True)
    _check_target(triple, cpu, features)
    return Target(triple, cpu, features, False)


_PROBE = r"""
import sys
import llvmlite.binding as llvm
from tfcompile.runtime.llvm_target import init_all, target_machine
init_all()
tm = target_machine(sys.argv[1], sys.argv[2], sys.argv[3], reloc="pic")
m = llvm.parse_assembly("define i32 @f(i32 %x) {\n %y = add i32 %x, 1\n ret i32 %y\n}")
m.triple = tm.triple
m.data_layout = str(tm.target_data)
tm.emit_object(m)
"""


def _check_target(triple, cpu, features):
    """LLVM aborts the process on some bad targets, so try them in a child first."""
    proc = subprocess.run([sys.executable, "-c", _PROBE, triple, cpu, features],
                          capture_output=True, text=True)
    msgs = []
    for line in proc.stderr.splitlines():
        line = line.strip()
        if line and line not in msgs and ("not a recognized" in line or "LLVM ERROR" in line
                                          or "Error" in line or "No available targets" in line):
            msgs.append(line)
    if proc.returncode != 0 or any("not a recognized" in m for m in msgs):
        detail = "; ".join(msgs) or proc.stderr.strip()[-400:] or f"exit {proc.returncode}"
        raise ValueError(f"target (triple {triple!r}, cpu {cpu!r}, features {features!r}) is "
                         f"not usable by LLVM: {detail}")


# ---------------------------------------------------------------- compiling

def _compile_object(llvm_ir: str, target: Target, name: str):
    """Optimized object code for `target` (PIC); returns (bytes, constant bytes)."""
    import llvmlite.binding as llvm
    from .runtime.llvm_target import init_all, init_native, optimize, target_machine
    init_native()
    if not target.host:
        init_all()
    tm = target_machine(target.triple, target.cpu, target.features, reloc="pic")
    try:
        mod = llvm.parse_assembly(llvm_ir)
        mod.verify()
    except RuntimeError as e:
        raise ExportError(f"invalid LLVM IR generated for {name!r}: {e}") from None
    mod.name = name
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    # Only the C API is public; the entry and any other global stays in the library.
    for g in list(mod.functions) + list(mod.global_variables):
        if not g.is_declaration and g.linkage == llvm.Linkage.external:
            g.visibility = "hidden"
    optimize(mod, tm, 3)
    obj = tm.emit_object(mod)
    # Read-only data as the linker sees it: weights, tables, vector constants.
    const_bytes = 0
    for sec in llvm.ObjectFileRef.from_data(obj).sections():
        sname = sec.name() or b""
        if sname.startswith((b".rodata", b".lrodata", b".data.rel.ro")):
            const_bytes += sec.size()
    return obj, const_bytes


_ALLOCA = re.compile(r"alloca (?:\[(\d+) x (\w+)\]|(\w+))(?:, i64 (\d+))?")
_SIZES = {"float": 4, "double": 8, "i64": 8, "i32": 4, "i16": 2, "i8": 1, "i1": 1, "ptr": 8}


def _stack_estimate(llvm_ir: str) -> int:
    """Sum of the fixed-size stack buffers (matmul packing, task contexts, scalars):
    an upper bound, as if every one were live at once."""
    total = 0
    for m in _ALLOCA.finditer(llvm_ir):
        count, elem, scalar, times = m.groups()
        size = _SIZES.get(elem or scalar, 8) * (int(count) if count else 1)
        total += size * (int(times) if times else 1)
    return total


def _compiler(cc):
    from .runtime import native
    if cc is None:
        return native.compiler()
    argv = shlex.split(cc) if isinstance(cc, str) else list(cc)
    if not argv or shutil.which(argv[0]) is None:
        raise ExportError(f"C compiler {cc!r} not found on PATH")
    return argv


def _run(cmd, what):
    try:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    except OSError as e:
        raise ExportError(f"could not run {cmd[0]!r} for {what}: {e}") from None
    if proc.returncode != 0:
        raise ExportError(f"{what} failed (exit {proc.returncode}):\n  "
                          f"{' '.join(shlex.quote(str(c)) for c in cmd)}\n"
                          f"{(proc.stderr or proc.stdout).strip()}")
    return proc


_pool_objects = {}       # (compiler, source) -> hidden-visibility object, per process
_pool_lock = threading.Lock()


def _pool_object(cc) -> bytes:
    """runtime/threadpool.c compiled with hidden visibility (-DTFC_API= per its header)."""
    from .runtime import native
    src = native.source_path()
    key = (tuple(cc), src.read_bytes(), native.header_path().read_bytes())
    with _pool_lock:
        if key not in _pool_objects:
            with tempfile.TemporaryDirectory(prefix="tfc-pool-") as d:
                out = Path(d) / "tfc_threadpool.o"
                _run([*cc, *_C_FLAGS, "-DTFC_API=", f"-I{native.header_path().parent}",
                      "-c", src, "-o", out], "compiling the runtime's thread pool")
                _pool_objects[key] = out.read_bytes()
        return _pool_objects[key]


def _build_libraries(work: Path, sig: Signature, obj: bytes, entry: str, cc) -> None:
    """Compiles the C parts and links lib<name>.so and lib<name>.a in `work`."""
    name = sig.name
    model_o = work / f"{name}_model.o"
    model_o.write_bytes(obj)
    api_c = work / f"{name}_api.c"
    api_c.write_text(render_wrapper(sig, entry))
    api_o = work / f"{name}_api.o"
    pool_o = work / "tfc_threadpool.o"
    # The two C compiles run side by side.
    with ThreadPoolExecutor(1) as ex:
        pool = ex.submit(_pool_object, cc)
        _run([*cc, *_C_FLAGS, f"-I{work}", "-c", api_c, "-o", api_o],
             f"compiling the C API of {name!r}")
        pool_o.write_bytes(pool.result())
    objects = [model_o, api_o, pool_o]
    _run([*cc, "-shared", "-pthread", f"-Wl,-soname,lib{name}.so", "-Wl,--no-undefined",
          "-Wl,-z,noexecstack", "-o", work / f"lib{name}.so", *objects,
          "-Wl,--as-needed", "-lm"], f"linking lib{name}.so")
    # The static library holds one relocatable object whose hidden symbols are made
    # local, so two exported models link into one program without clashing.
    archive = work / f"lib{name}.a"
    members = objects
    objcopy = shutil.which("objcopy")
    if objcopy:
        merged = work / f"{name}.o"
        _run([*cc, "-r", "-nostdlib", "-o", merged, *objects], f"merging lib{name}.a")
        _run([objcopy, "--localize-hidden", merged], f"localizing lib{name}.a's helpers")
        members = [merged]
    ar = shutil.which("ar")
    if ar is None:
        raise ExportError("no 'ar' on PATH: it is needed to write the static library")
    _run([ar, "rcs", archive, *members], f"archiving lib{name}.a")


# ---------------------------------------------------------------- export

def export(session, feeds, fetches, name, out_dir, target=None, *, optimize=True,
           cc=None, keep_intermediates=False) -> Exported:
    """Compiles the part of `session`'s graph that `fetches` need into
    out_dir/lib<name>.so, lib<name>.a, <name>.h and <name>.json.

    feeds: {placeholder or name: fixed shape} in the order of NAME_run's
    arguments (every None dimension given); fetches: tensors or names, in
    order. The session's variables are frozen as constants. target: None (this
    CPU), a CPU name like "x86-64-v3", (triple, cpu[, features]) or a dict.
    cc: the C compiler command (default $CC, else cc); keep_intermediates
    keeps the generated C, LLVM IR and objects in out_dir/<name>.build/."""
    from . import __version__
    from .ir.codegen.cpu import generate
    from .ir.core import TensorType
    from .lowering import lower

    t0 = time.perf_counter()
    name = check_model_name(name)
    graph = session.graph
    if getattr(session, "_closed", False):
        raise RuntimeError("export: the session is closed")
    feed_list = _resolve_feeds(graph, feeds)
    fetch_list = _resolve_fetches(graph, fetches)
    tgt = resolve_target(target)
    from .runtime.llvm_target import host_cpu
    if _arch(tgt.triple) != _arch(host_cpu()[0]) and cc is None and not os.environ.get("CC"):
        raise ExportError(f"target {tgt.triple!r} is not this machine's architecture "
                          f"({_arch(host_cpu()[0])}): pass cc=[...] (or set CC) to a C "
                          "compiler for that target")
    cc = _compiler(cc)

    # Lower with the variables frozen, pruned to what the fetches need.
    storage = dict(session._storage)
    feed_types = {t: TensorType(dims, t.dtype.ir) for t, dims in feed_list}
    lowered = lower(graph, fetch_list, [], feed_types,
                    {op: a.shape for op, a in storage.items()}, session._seed_for,
                    frozen=storage)
    if lowered.var_updates:
        names = ", ".join(repr(op.name) for op in lowered.var_updates)
        raise ValueError(f"export: computing the fetches assigns the variable(s) {names}; an "
                         "exported model is a pure function of its feeds, so fetch tensors "
                         "that compute values, not updates")
    feed_index = {t: i for i, (t, _) in enumerate(feed_list)}
    params, n_rng = [], 0
    for kind, obj in lowered.params:
        if kind == "feed":
            params.append(("feed", feed_index[obj]))
        elif kind == "rng":
            params.append(("rng", n_rng))
            n_rng += 1
        else:
            raise ValueError(f"export: variable {obj.name!r} has no value in the session; "
                             "run its initializer or restore a checkpoint first")
    # Run checks (an index out of range, a division by zero: hidden results the
    # Session raises on) have no place in the exported ABI: dropped, so the
    # library computes what the IR defines there (a gather reads 0).
    n_fetch = len(fetch_list)
    if len(lowered.fn.results) > n_fetch:
        lowered.fn.results = lowered.fn.results[:n_fetch]
        lowered.fn.result_names = lowered.fn.result_names[:n_fetch]
    fn, kernels, t1 = lowered.fn, None, time.perf_counter()
    if optimize:
        try:
            from .ir.passes.pipeline import optimize as _optimize
        except ImportError:
            _optimize = None
        if _optimize is not None:
            fn, kernels, _ = _optimize(fn, dump_dir=os.environ.get("TFC_DUMP") or None)
    t2 = time.perf_counter()

    entry = name + ENTRY_SUFFIX
    cpu = generate(fn, kernels, name=entry, parallel=True)
    obj, const_bytes = _compile_object(cpu.llvm_ir, tgt, name)
    t3 = time.perf_counter()

    idents = c_identifiers([t.name for t, _ in feed_list] + [t.name for t in fetch_list],
                           reserved=(name,))
    feed_specs = [TensorSpec(t.name, idents[i], t.dtype.base_dtype.name, dims)
                  for i, (t, dims) in enumerate(feed_list)]
    fetch_specs = [TensorSpec(t.name, idents[len(feed_list) + j], t.dtype.base_dtype.name,
                              tuple(int(d) for d in v.shape))
                   for j, (t, v) in enumerate(zip(fetch_list, fn.results))]
    for s in feed_specs + fetch_specs:
        assert s.dtype in C_TYPES, s.dtype
    sig = Signature(name, feed_specs, fetch_specs, tgt, arena_bytes=int(cpu.arena_bytes),
                    constant_bytes=int(const_bytes), stack_bytes=_stack_estimate(cpu.llvm_ir),
                    params=params, rng_counters=n_rng, version=__version__)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-build-", dir=out_dir))
    try:
        (work / f"{name}.h").write_text(render_header(sig))
        (work / f"{name}.json").write_text(sig.json_text())
        _build_libraries(work, sig, obj, entry, cc)
        if keep_intermediates:
            (work / f"{name}.ll").write_text(cpu.llvm_ir)
        # Each output appears whole (rename within one directory).
        for fname in (f"lib{name}.a", f"lib{name}.so", f"{name}.h", f"{name}.json"):
            os.replace(work / fname, out_dir / fname)
        if keep_intermediates:
            keep = out_dir / f"{name}.build"
            shutil.rmtree(keep, ignore_errors=True)
            os.replace(work, keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t4 = time.perf_counter()
    stats = {"lower_s": t1 - t0, "optimize_s": t2 - t1, "codegen_s": t3 - t2,
             "build_s": t4 - t3, "total_s": t4 - t0, "kernels": cpu.stats.get("kernels"),
             "parallel_nests": cpu.stats.get("parallel_nests")}
    return Exported(out_dir, sig, stats)


__all__ = ["export", "Exported", "ExportError", "resolve_target", "parse_shape"]
