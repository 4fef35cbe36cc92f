"""The machine and software a benchmark run came from: CPU, cores, memory,
library versions, the BLAS kernel numpy runs, and the environment variables
that change the numbers."""
from __future__ import annotations

import importlib
import os
import platform
import subprocess
from pathlib import Path

ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TFC_NUM_THREADS", "TFC_CACHE",
            "TFC_CACHE_DIR", "TFC_OPT", "TFC_BACKEND")
PACKAGES = (("llvmlite", "llvmlite"), ("numpy", "numpy"), ("torch", "torch"),
            ("tensorflow", "tensorflow"), ("onnxruntime", "onnxruntime"), ("onnx", "onnx"),
            ("threadpoolctl", "threadpoolctl"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _vector_isa() -> str:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "?"
    return ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags
            else "AVX" if "avx" in flags else "SSE")


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2 ** 20:.0f} GiB"
    except OSError:
        pass
    return "?"


def llvm_host_cpu() -> str:
    try:
        from tfcompile.runtime.llvm_target import host_cpu
        return host_cpu()[1]
    except Exception:  # noqa: BLE001
        return "?"


def versions() -> dict:
    """Versions of the packages that are installed (imports them)."""
    out = {"python": platform.python_version()}
    for label, mod in PACKAGES:
        try:
            if mod == "tensorflow":
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            m = importlib.import_module(mod)
            out[label] = getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001 - absent or broken: not listed
            continue
    return out


def tfcompile_revision() -> str:
    """The git commit of the checkout the suite runs from (+dirty if edited)."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
        return (rev + ("+dirty" if dirty.strip() else "")) if rev else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def blas() -> str:
    from .bench_matmul import blas_info
    return blas_info()


def config_threads_reach_pool() -> str:
    """Whether Session(config=ConfigProto(intra_op_parallelism_threads=1)) sets
    the runtime's thread pool to 1 thread."""
    try:
        import tfcompile as tf
        from tfcompile.runtime import native
        native.set_num_threads(0)
        before = native.get_num_threads()
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [4], name="x")
            y = x + 1.0
        with tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=1)) as s:
            s.run(y, {x: [1.0, 2.0, 3.0, 4.0]})
            during = native.get_num_threads()
        native.set_num_threads(0)
        if before == 1:
            return "not tested (the pool's default is already 1 thread)"
        return ("yes" if during == 1 else
                f"no: the pool stayed at {during} threads, so the suite sets it with "
                "tfcompile.runtime.native.set_num_threads")
    except Exception as e:  # noqa: BLE001
        return f"not tested ({type(e).__name__}: {e})"


def describe() -> dict:
    """Everything the report prints about the machine, as label -> text."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "CPU": f"{cpu_model()} ({_vector_isa()}; LLVM host CPU {llvm_host_cpu()})",
        "cores": f"{os.cpu_count()} logical, {affinity} usable by this process",
        "memory": memory_gib(),
        "OS": platform.platform(),
        "tfcompile": tfcompile_revision(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions().items()),
        "numpy BLAS": blas(),
        "environment": ", ".join(f"{k}={os.environ[k]}" if k in os.environ else f"{k} unset"
                                 for k in ENV_VARS),
    }
