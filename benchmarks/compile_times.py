"""Cold compile and warm disk-cache load of the MLP training step.

Each measurement runs in a fresh Python process (`python -m
benchmarks.compile_times --worker`), so nothing compiled earlier in this
process can help:

    cold: an empty TFC_CACHE_DIR; the time of the first Session.run of
          [loss, train_op] minus the time of a later run of it.
    warm: a new process on the same TFC_CACHE_DIR, same graph, same measure.

Each worker runs the variable initializer first, so one-time process costs
(LLVM start-up, building the runtime's thread pool) are reported apart as
"first run". TensorFlow with XLA is measured in this process: the first call
of a new `tf.function(jit_compile=True)` of the same step (trace + XLA
compile) minus a later call; it keeps no compile cache on disk.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import NOT_APPLICABLE, CaseResult, LoadMeter, Outcome, _describe
from .workloads import TrainSpec, train_data

SPEC = TrainSpec((784, 256, 10), 128, "adam")
LABEL = "MLP 784-256-10 Adam step, batch 128"


def _cache_entries(cache_dir: Path) -> int:
    d = cache_dir / "objects"
    return sum(1 for p in d.rglob("*") if p.is_file()) if d.is_dir() else 0


def worker(spec=SPEC, steps=5) -> dict:
    """Compiles and runs the training step in this process; timings in seconds."""
    import numpy as np

    import tfcompile as tf
    from .impl_tfcompile import train_graph

    d = train_data(spec)
    g = tf.Graph()
    with g.as_default():
        x, y, loss, train_op, _ = train_graph(tf, d)
        init = tf.global_variables_initializer()
    s = tf.Session(graph=g)
    t0 = time.perf_counter()
    s.run(init)
    t1 = time.perf_counter()
    feed = {x: d.x, y: d.y}
    s.run([loss, train_op], feed)
    t2 = time.perf_counter()
    later = []
    for _ in range(steps):
        t = time.perf_counter()
        s.run([loss, train_op], feed)
        later.append(time.perf_counter() - t)
    step = float(np.median(later))
    out = {"first_run_s": t1 - t0, "first_step_s": t2 - t1, "step_s": step,
           "compile_s": (t2 - t1) - step}
    # diagnostics: where the compile time went, and whether the cache answered
    # (private attributes, read only when present: the last plan is the step's)
    plans = list(getattr(s, "_plans", {}).values())
    if plans:
        exe = getattr(plans[-1], "exe", None)
        stats = {**(getattr(exe, "stats", None) or {}),
                 **(getattr(getattr(exe, "compiled", None), "stats", None) or {})}
        out["stats"] = {k: v for k, v in stats.items() if isinstance(v, (int, float, bool))}
    return out


def _spawn(cache_dir: Path, threads: int) -> dict:
    env = dict(os.environ, TFC_CACHE_DIR=str(cache_dir), TFC_CACHE="1",
               TFC_NUM_THREADS=str(threads))
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", f"{__package__}.compile_times", "--worker"],
                          capture_output=True, text=True, env=env, cwd=root, timeout=900)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        raise RuntimeError(f"worker exited {proc.returncode}: {tail[-1] if tail else ''}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt_stats(st: dict) -> str:
    keys = [("optimize_s", "IR passes"), ("time_generate", "LLVM IR gen"),
            ("llvm_opt", "LLVM opt"), ("llvm_codegen", "LLVM codegen"),
            ("cache_lookup", "cache lookup"), ("load", "object load")]
    parts = [f"{name} {st[k] * 1e3:.1f} ms" for k, name in keys if k in st]
    if "cache_hit" in st:
        parts.append(f"cache_hit={st['cache_hit']}")
    return ", ".join(parts)


def _tf_xla_compile(repeats: int, threads: int):
    from .impl_tensorflow import XLA
    times = []
    for _ in range(repeats):
        impl = XLA.train_step(train_data(SPEC), threads)
        t0 = time.perf_counter()
        impl.run()
        first = time.perf_counter() - t0
        later = []
        for _ in range(5):
            t = time.perf_counter()
            impl.run()
            later.append(time.perf_counter() - t)
        times.append(first - statistics.median(later))
    return times


def compile_results(repeats: int, threads: int, libs: list, skipped: dict) -> list:
    """Two CaseResults (cold, warm) with a column for every lib in `libs`."""
    cold = CaseResult("compile", f"cold compile: {LABEL} (new process, empty cache)",
                      threads, None)
    warm = CaseResult("compile", f"warm load from disk cache: {LABEL} (new process)",
                      threads, None)
    # only tfcompile and TF XLA compile the step ahead of its first run, and only
    # tfcompile keeps compiled code on disk: the other cells stay blank
    for lib in libs:
        cold.outcomes[lib] = Outcome(skipped=skipped.get(lib) or (
            None if lib in ("tfcompile", "TF XLA") else NOT_APPLICABLE))
        warm.outcomes[lib] = Outcome(skipped=skipped.get(lib) or (
            None if lib == "tfcompile" else NOT_APPLICABLE))
    if "tfcompile" in libs:
        tmp = Path(tempfile.mkdtemp(prefix="tfc-bench-cache-"))
        try:
            colds, warms = [], []
            meter = LoadMeter().start()
            for _ in range(repeats):
                shutil.rmtree(tmp, ignore_errors=True)
                colds.append(_spawn(tmp, threads))
            cold.other_load = meter.stop()
            entries = _cache_entries(tmp)
            meter = LoadMeter().start()
            for _ in range(repeats):
                warms.append(_spawn(tmp, threads))
            warm.other_load = meter.stop()
            med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
            cold.outcomes["tfcompile"] = Outcome(
                seconds=med(colds, "compile_s"), best=min(r["compile_s"] for r in colds),
                note=f"the process's first run (the initializer, with LLVM start-up and "
                     f"the thread pool's C build) {med(colds, 'first_run_s') * 1e3:.0f} ms; "
                     f"{_fmt_stats(colds[-1].get('stats', {}))}; "
                     f"cache entries written: {entries}")
            warm.outcomes["tfcompile"] = Outcome(
                seconds=med(warms, "compile_s"), best=min(r["compile_s"] for r in warms),
                note=f"{_fmt_stats(warms[-1].get('stats', {}))}"
                     + ("" if entries else "; the cold runs stored nothing in TFC_CACHE_DIR, "
                        "so this is another compile"))
        except Exception as e:  # noqa: BLE001 - reported in the table
            cold.outcomes["tfcompile"] = Outcome(error=_describe(e))
            warm.outcomes["tfcompile"] = Outcome(error=_describe(e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if "TF XLA" in libs and not skipped.get("TF XLA"):
        try:
            times = _tf_xla_compile(repeats, threads)
            cold.outcomes["TF XLA"] = Outcome(seconds=statistics.median(times), best=min(times),
                                              note="trace + XLA compile, in this process")
        except Exception as e:  # noqa: BLE001
            cold.outcomes["TF XLA"] = Outcome(error=_describe(e))
    return [cold, warm]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help="measure once, print JSON")
    args = ap.parse_args()
    if not args.worker:
        ap.error("run the suite with `python -m benchmarks --only compile`")
    print(json.dumps(worker()))


if __name__ == "__main__":
    main()
