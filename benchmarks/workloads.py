"""The workloads of the suite: their data, sizes and thread counts, how a
result is compared with numpy's, and the libraries that run them.

Groups (what `--only` selects):
    elementwise  y = relu(x*w + b) * 0.5 + tanh(x) over 16M float32 (w, b scalars),
                 and copies moving the same bytes (the memory-bound floor)
    matmul       float32 C = A @ B, square, at each size and thread count
    mlp          784-256-10 MLP forward pass (relu), at each batch size
    train        MLP training step: forward, backward and update in one call
    compile      cold compile and warm disk-cache load (compile_times.py)
    dispatch     one call of a tiny graph: x * 2 + 1 on a scalar
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from .harness import NOT_APPLICABLE, Case, Impl, Unsupported, rel_err

GROUPS = ("elementwise", "matmul", "mlp", "train", "compile", "dispatch")

# column order of the table: (column name, module, attribute inside it or None)
LIBRARIES = (
    ("tfcompile", "impl_tfcompile", None),
    ("numpy", "impl_numpy", None),
    ("PyTorch", "impl_torch", None),
    ("TF XLA", "impl_tensorflow", "XLA"),
    ("TF1 graph", "impl_tensorflow", "V1Graph"),
    ("onnxruntime", "impl_onnxruntime", None),
)
INSTALL_HINTS = {"PyTorch": "pip install torch==2.13.0", "TF XLA": "pip install tensorflow-cpu",
                 "TF1 graph": "pip install tensorflow-cpu",
                 "onnxruntime": "pip install onnxruntime onnx"}


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass
class TrainSpec:
    dims: tuple
    batch: int
    opt: str                   # "adam" or "sgd"
    lr: float = 1e-3


@dataclass
class Config:
    """Sizes, thread counts and timing effort of one run."""
    threads: tuple = (1, 2)            # elementwise and matmul run at each
    main_threads: int = field(default_factory=lambda: min(2, available_cores()))
    elem_n: int = 16 * 2 ** 20
    matmul_sizes: tuple = (256, 512, 1024, 2048)
    mlp_dims: tuple = (784, 256, 10)
    mlp_batches: tuple = (1, 128)
    train: tuple = (TrainSpec((784, 256, 10), 128, "adam"),
                    TrainSpec((784, 256, 10), 128, "sgd", lr=0.1),
                    TrainSpec((784, 144, 36, 10), 100, "adam"))
    repeats: int = 25                  # timing samples per library and case
    rounds: int = 5                    # ... taken in this many turns
    gap_s: float = 0.2                 # pause before each turn (other pools go idle)
    min_sample_s: float = 0.02         # a timing sample loops the call this long
    compile_repeats: int = 3
    libraries: tuple | None = None     # None: every installed one
    measure: bool = True
    seed: int = 0

    @classmethod
    def full(cls, **kw):
        return cls(**kw)

    @classmethod
    def quick(cls, **kw):
        kw.setdefault("matmul_sizes", (256, 512, 1024))
        kw.setdefault("repeats", 6)
        kw.setdefault("rounds", 2)
        kw.setdefault("gap_s", 0.1)
        kw.setdefault("min_sample_s", 0.005)
        kw.setdefault("compile_repeats", 1)
        return cls(**kw)

    @classmethod
    def tiny(cls, **kw):
        """Small sizes for the smoke test: every code path, little time."""
        kw.setdefault("elem_n", 1000)
        kw.setdefault("matmul_sizes", (7, 33))
        kw.setdefault("mlp_dims", (20, 16, 3))
        kw.setdefault("mlp_batches", (1, 5))
        kw.setdefault("train", (TrainSpec((20, 16, 3), 8, "adam"),
                                TrainSpec((20, 16, 3), 8, "sgd", lr=0.1),
                                TrainSpec((20, 12, 6, 3), 5, "adam")))
        kw.setdefault("repeats", 3)
        kw.setdefault("rounds", 1)
        kw.setdefault("gap_s", 0.0)
        kw.setdefault("min_sample_s", 0.0)
        kw.setdefault("compile_repeats", 1)
        return cls(**kw)


# ---------------------------------------------------------------- libraries

def load_libraries(names=None):
    """({column: implementation object}, {column: why it is skipped})."""
    impls, skipped = {}, {}
    for col, modname, attr in LIBRARIES:
        if names is not None and col not in names:
            continue
        try:
            mod = importlib.import_module(f"{__package__}.{modname}")
            if hasattr(mod, "available"):
                mod.available()
            impls[col] = getattr(mod, attr) if attr else mod
        except ImportError as e:
            hint = INSTALL_HINTS.get(col, "")
            skipped[col] = f"not installed ({e.name or e}){'; ' + hint if hint else ''}"
        except Exception as e:  # noqa: BLE001 - a broken install is a note too
            skipped[col] = f"unusable: {type(e).__name__}: {e}"
    return impls, skipped


def _builder(impls, workload, data, threads):
    def build(lib) -> Impl:
        fn = getattr(impls[lib], workload, None)
        if fn is None:
            raise Unsupported(f"{lib} has no {workload.replace('_', ' ')} here")
        return fn(data, threads)
    return build


# ---------------------------------------------------------------- data

def mlp_params(rng, dims):
    """He-scaled weights and small random biases, float32."""
    out = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        W = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.standard_normal(fan_out) * 0.01).astype(np.float32)
        out.append((W, b))
    return out


def train_data(spec: TrainSpec, seed=0):
    rng = np.random.default_rng(seed)
    return SimpleNamespace(
        x=rng.standard_normal((spec.batch, spec.dims[0])).astype(np.float32),
        y=rng.integers(0, spec.dims[-1], spec.batch).astype(np.int64),
        params=mlp_params(rng, spec.dims), opt=spec.opt, lr=spec.lr,
        beta1=0.9, beta2=0.999, eps=1e-8)


def train_compare(params):
    """Compares [loss, parameters after one step]: the loss relative to numpy's,
    each parameter's update relative to the size of numpy's update."""
    flat0 = [p for pair in params for p in pair]

    def compare(outs, refs):
        if len(outs) != len(refs) or len(refs) != len(flat0) + 1:
            return float("inf")
        err = rel_err(outs[:1], refs[:1])
        for a, r, p0 in zip(outs[1:], refs[1:], flat0):
            if np.shape(a) != p0.shape:
                return float("inf")
            err = max(err, rel_err([np.asarray(a, np.float64) - p0],
                                   [np.asarray(r, np.float64) - p0]))
        return err
    return compare


def _size(n):
    return f"{n // 2 ** 20}M" if n % 2 ** 20 == 0 else str(n)


def _dims(dims):
    return "-".join(map(str, dims))


# ---------------------------------------------------------------- cases

def elementwise_cases(cfg, impls):
    """w and b are float32 scalars, as in bench_fused_elementwise.py's default."""
    rng = np.random.default_rng(cfg.seed)
    n = cfg.elem_n
    d = SimpleNamespace(x=rng.standard_normal(n).astype(np.float32),
                        w=np.array(0.75, np.float32), b=np.array(-0.25, np.float32))
    # the chain reads x and writes y: a copy of n floats moves the same bytes
    src = np.ones(n, np.float32)
    dst = np.empty_like(src)

    def floor(run):
        def build(lib):
            if lib != "numpy":
                raise Unsupported(NOT_APPLICABLE)   # the floor is measured with numpy only
            return Impl(run, outputs=lambda _: [])
        return build
    for t in cfg.threads:
        yield Case("elementwise", f"relu(x*w+b)*0.5+tanh(x), {_size(n)} f32", t,
                   _builder(impls, "elementwise", d, t), rel_err, tol=1e-5)
        yield Case("elementwise", f"floor: numpy copy of the same bytes ({_size(n)} f32)", t,
                   floor(lambda: np.copyto(dst, src)), rel_err, tol=0.0)
        yield Case("elementwise", f"floor: numpy copy into a new array ({_size(n)} f32)", t,
                   floor(src.copy), rel_err, tol=0.0)


def matmul_cases(cfg, impls):
    rng = np.random.default_rng(cfg.seed)
    for n in cfg.matmul_sizes:
        d = SimpleNamespace(a=rng.standard_normal((n, n)).astype(np.float32),
                            b=rng.standard_normal((n, n)).astype(np.float32))
        for t in cfg.threads:
            yield Case("matmul", f"matmul f32 {n}x{n}x{n}", t,
                       _builder(impls, "matmul", d, t), rel_err, tol=1e-4,
                       flops=2.0 * n ** 3)


def mlp_cases(cfg, impls):
    rng = np.random.default_rng(cfg.seed)
    params = mlp_params(rng, cfg.mlp_dims)
    for batch in cfg.mlp_batches:
        d = SimpleNamespace(x=rng.standard_normal((batch, cfg.mlp_dims[0])).astype(np.float32),
                            params=params)
        yield Case("mlp", f"MLP {_dims(cfg.mlp_dims)} forward, batch {batch}", cfg.main_threads,
                   _builder(impls, "mlp_forward", d, cfg.main_threads), rel_err, tol=1e-4)


def train_cases(cfg, impls):
    for spec in cfg.train:
        d = train_data(spec, cfg.seed)
        opt = "Adam" if spec.opt == "adam" else "SGD"
        yield Case("train", f"MLP {_dims(spec.dims)} train step ({opt}), batch {spec.batch}",
                   cfg.main_threads, _builder(impls, "train_step", d, cfg.main_threads),
                   train_compare(d.params), tol=1e-2 if spec.opt == "adam" else 1e-3)


def dispatch_cases(cfg, impls):
    d = SimpleNamespace(x=np.array(3.0, np.float32))
    yield Case("dispatch", "tiny graph x*2+1 (scalar): one call", cfg.main_threads,
               _builder(impls, "dispatch", d, cfg.main_threads), rel_err, tol=1e-6)


CASES = {"elementwise": elementwise_cases, "matmul": matmul_cases, "mlp": mlp_cases,
         "train": train_cases, "dispatch": dispatch_cases}
