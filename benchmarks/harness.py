"""Building, checking and timing the implementations of one benchmark case.

A `Case` is one row of the table: a workload at one size and thread count.
Each library contributes an `Impl` (a zero-argument `run` and a way to turn
its first result into numpy arrays). The harness builds every impl, runs each
once, compares its outputs with numpy's (the reference), then times them in
turns (`timed_blocks`) so that each sees the same load on a shared machine,
and keeps the median and the fastest sample. `LoadMeter` records how busy
other processes kept the machine meanwhile.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import statistics
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


REFERENCE = "numpy"
NOT_APPLICABLE = "not applicable"   # a skip that the table leaves blank, without a note


class Unsupported(Exception):
    """This library has no implementation of the workload (a note, not a failure)."""


@dataclass
class Impl:
    """One library's implementation of a case.

    run: one call of the workload (what is timed).
    outputs: the first call's return value -> numpy arrays to compare.
    tol: this impl's tolerance when it differs from the case's, with the reason.
    """
    run: Callable[[], Any]
    outputs: Callable[[Any], list] = None
    tol: float | None = None
    tol_reason: str = ""
    note: str = ""


@dataclass
class Case:
    """One row: `build(lib)` gives the Impl of library `lib` (or raises Unsupported)."""
    group: str
    label: str
    threads: int
    build: Callable[[str], Impl]
    compare: Callable[[list, list], float]
    tol: float
    flops: float | None = None


@dataclass
class Outcome:
    """What happened to one library on one case."""
    seconds: float | None = None   # median seconds per call
    best: float | None = None      # fastest sample's seconds per call
    error: str | None = None       # a failure: build or run raised
    skipped: str | None = None     # not installed / not implemented
    err: float | None = None       # relative difference from the reference
    ok: bool | None = None         # err within tolerance (None: not checked)
    tol: float | None = None
    note: str = ""


@dataclass
class CaseResult:
    group: str
    label: str
    threads: int
    flops: float | None
    outcomes: dict = field(default_factory=dict)   # lib -> Outcome
    other_load: float | None = None   # cores busy with other processes while timed


class LoadMeter:
    """How many cores other processes kept busy (hypervisor steal included)
    between `start()` and `stop()`: the machine's busy time from /proc/stat
    minus the CPU time of this process and of its waited-for children, over
    the wall time. None off Linux."""

    def __init__(self):
        self._t0 = None

    @staticmethod
    def _busy_s():
        try:
            with open("/proc/stat") as f:
                fields = f.readline().split()
        except OSError:
            return None
        # user nice system idle iowait irq softirq steal
        vals = [int(x) for x in fields[1:9]]
        busy = vals[0] + vals[1] + vals[2] + vals[5] + vals[6] + vals[7]
        return busy / os.sysconf("SC_CLK_TCK")

    def start(self):
        busy = self._busy_s()
        self._t0 = None if busy is None else (time.perf_counter(), busy, self._ours_s())
        return self

    @staticmethod
    def _ours_s():
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def stop(self):
        busy = self._busy_s()
        if self._t0 is None or busy is None:
            return None
        w0, b0, p0 = self._t0
        wall = time.perf_counter() - w0
        others = (busy - b0) - (self._ours_s() - p0)
        return max(0.0, others / wall) if wall > 0 else None


def to_numpy(x) -> np.ndarray:
    """Arrays of numpy, PyTorch, TensorFlow or onnxruntime as a numpy copy."""
    if hasattr(x, "detach"):             # torch.Tensor
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):   # tf.Tensor
        x = x.numpy()
    return np.array(x, copy=True)


def default_outputs(ret) -> list:
    if isinstance(ret, (list, tuple)):
        return [to_numpy(r) for r in ret]
    return [to_numpy(ret)]


def rel_err(outs: list, refs: list) -> float:
    """max |a - r| / max |r| over the outputs (0 when equal; inf on a shape mismatch)."""
    if len(outs) != len(refs):
        return math.inf
    worst = 0.0
    for a, r in zip(outs, refs):
        a = np.asarray(a, np.float64)
        r = np.asarray(r, np.float64)
        if a.shape != r.shape:
            if a.size == r.size == 1:
                a, r = a.reshape(()), r.reshape(())
            else:
                return math.inf
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        diff = float(np.max(np.abs(a - r))) if r.size else 0.0
        if not np.all(np.isfinite(a)):
            return math.inf
        worst = max(worst, diff / scale if scale > 0 else diff)
    return worst


def _describe(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    where = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    loc = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    return f"{type(e).__name__}: {msg[0] if msg else ''}{loc}"


@contextlib.contextmanager
def thread_limit(n: int):
    """Runs numpy's BLAS, PyTorch and tfcompile's pool on `n` threads.

    (onnxruntime and TensorFlow 1.x sessions take their counts when built;
    TensorFlow 2 fixes its count once per process.)"""
    stack = contextlib.ExitStack()
    with stack:
        try:
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        except ImportError:
            pass
        import sys
        torch = sys.modules.get("torch")
        if torch is not None:
            old = torch.get_num_threads()
            torch.set_num_threads(n)
            stack.callback(torch.set_num_threads, old)
        try:
            from tfcompile.runtime import native
            native.set_num_threads(n)
            stack.callback(native.set_num_threads, 0)
        except Exception:   # no C compiler: tfcompile runs single-threaded anyway
            pass
        yield


def _calibrate(f, min_sample_s: float, max_inner: int = 100000) -> int:
    """How many calls make one timing sample last at least `min_sample_s`."""
    if min_sample_s <= 0:
        return 1
    t0 = time.perf_counter()
    f()
    dt = time.perf_counter() - t0
    if dt >= min_sample_s:
        return 1
    return int(min(max_inner, math.ceil(min_sample_s / max(dt, 1e-7))))


def run_case(case: Case, libs: list, *, repeats: int, min_sample_s: float,
             rounds: int = 1, gap_s: float = 0.0, measure: bool = True,
             skipped: dict | None = None) -> CaseResult:
    """Builds, checks and (with `measure`) times every library on `case`.

    libs: library names in column order; skipped: lib -> why it is absent."""
    res = CaseResult(case.group, case.label, case.threads, case.flops)
    impls, refs = {}, None
    first = {}
    with thread_limit(case.threads):
        for lib in libs:
            out = res.outcomes[lib] = Outcome()
            if skipped and lib in skipped:
                out.skipped = skipped[lib]
                continue
            try:
                impl = case.build(lib)
            except Unsupported as e:
                out.skipped = str(e)
                continue
            except Exception as e:  # noqa: BLE001 - reported in the table
                out.error = "build: " + _describe(e)
                continue
            out.note = impl.note
            try:
                ret = impl.run()
                first[lib] = (impl.outputs or default_outputs)(ret)
            except Exception as e:  # noqa: BLE001
                out.error = "run: " + _describe(e)
                continue
            impls[lib] = impl
        refs = first.get(REFERENCE)
        for lib, outs in first.items():
            out = res.outcomes[lib]
            if refs is None or lib == REFERENCE:
                continue
            tol = impls[lib].tol if impls[lib].tol is not None else case.tol
            out.err = case.compare(outs, refs)
            out.tol = tol
            out.ok = bool(out.err <= tol)
            if impls[lib].tol_reason and out.err > case.tol:
                out.note = "; ".join(x for x in (out.note, impls[lib].tol_reason) if x)
        if measure and impls:
            names = list(impls)
            loops = [(_calibrate(impls[lib].run, min_sample_s), impls[lib].run) for lib in names]
            meter = LoadMeter().start()
            ts = timed_blocks(loops, repeats, rounds, gap_s)
            res.other_load = meter.stop()
            for lib, (med, best) in zip(names, ts):
                res.outcomes[lib].seconds, res.outcomes[lib].best = med, best
    return res


def timed_blocks(loops, repeats: int, rounds: int, gap_s: float) -> list:
    """(median, fastest) seconds per call of each (calls per sample, callable).

    The libraries take turns in `rounds` blocks of samples, so slow drifts of
    the machine's load reach all of them alike. Before each block the harness
    sleeps `gap_s`, so that the previous library's idle threads (OpenBLAS,
    OpenMP and Eigen pools spin for a while after each call) have gone to
    sleep and do not compete for the cores, then makes one untimed call.
    """
    per_block = max(1, math.ceil(repeats / max(1, rounds)))
    samples = [[] for _ in loops]
    for _ in range(max(1, rounds)):
        for (k, f), out in zip(loops, samples):
            if gap_s > 0:
                time.sleep(gap_s)
            f()
            for _ in range(per_block):
                t0 = time.perf_counter()
                for _ in range(k):
                    f()
                out.append((time.perf_counter() - t0) / k)
    return [(statistics.median(s), min(s)) for s in samples]


def best_view(results: list) -> list:
    """Copies of `results` whose times are the fastest samples instead of the
    medians (what the machine allows with the least interference)."""
    out = []
    for r in results:
        c = copy.copy(r)
        c.outcomes = {lib: dataclasses.replace(o, seconds=o.best if o.best is not None
                                               else o.seconds)
                      for lib, o in r.outcomes.items()}
        out.append(c)
    return out
