"""The benchmark suite at tiny sizes, numpy as the only peer: every workload
builds and runs, every tfcompile result equals numpy's, and the table prints.
Correctness only: no timing is asserted."""
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import report  # noqa: E402
from benchmarks.__main__ import run_suite  # noqa: E402
from benchmarks.harness import (Case, Impl, Unsupported, best_view, rel_err,  # noqa: E402
                                run_case)
from benchmarks.workloads import Config  # noqa: E402

FAST_GROUPS = ["elementwise", "matmul", "mlp", "train", "dispatch"]


@pytest.fixture(scope="module")
def tiny_run():
    cfg = Config.tiny(libraries=("tfcompile", "numpy"), threads=(1, 2), main_threads=2,
                      repeats=1)
    return run_suite(cfg, FAST_GROUPS, out=io.StringIO())


def test_every_tfcompile_result_equals_numpy(tiny_run):
    results, libs = tiny_run
    assert libs == ["tfcompile", "numpy"]
    checked = 0
    for r in results:
        o = r.outcomes["tfcompile"]
        if "floor" in r.label:          # the memory-bound copy is numpy-only
            assert o.skipped
            continue
        assert o.error is None, f"{r.label}: {o.error}"
        assert o.ok is True, f"{r.label}: differs from numpy by {o.err} (tol {o.tol})"
        assert r.outcomes["numpy"].error is None
        checked += 1
    # 2 elementwise + 2 sizes x 2 threads matmul + 2 forward + 3 train + 1 dispatch
    assert checked == 12


def test_table_prints_every_row_and_column(tiny_run):
    results, libs = tiny_run
    text = report.text_table(results, libs)
    for r in results:
        assert r.label in text
    header = text.splitlines()[0]
    assert "tfcompile" in header and "numpy" in header
    md = report.markdown_table(results, libs)
    assert md.count("\n|") >= len(results)
    for target, measured, met, load in report.targets(results):
        assert met in (True, False, None)
    for r, b in zip(results, best_view(results)):
        for lib, o in r.outcomes.items():
            if o.seconds is not None:
                assert b.outcomes[lib].seconds <= o.seconds


def test_results_markdown_names_machine_and_command(tiny_run):
    results, libs = tiny_run
    md = report.results_markdown(results, libs, {"CPU": "test cpu"}, "python -m benchmarks",
                                 "today", 1.0, (0.0, 0.0))
    assert "python -m benchmarks" in md and "- CPU: test cpu" in md and "| target |" in md


def test_missing_peer_is_a_note_not_a_failure():
    def build(lib):
        if lib == "numpy":
            return Impl(lambda: 1.0)
        raise Unsupported("not here")
    case = Case("dispatch", "stub", 1, build, rel_err, tol=0.0)
    res = run_case(case, ["tfcompile", "numpy", "PyTorch"], repeats=1, min_sample_s=0,
                   skipped={"PyTorch": "not installed"})
    assert res.outcomes["tfcompile"].skipped == "not here"
    assert res.outcomes["PyTorch"].skipped == "not installed"
    assert res.outcomes["numpy"].seconds is not None
    assert "-[" in report.text_table([res], ["tfcompile", "numpy", "PyTorch"])


def test_a_wrong_result_is_flagged():
    def build(lib):
        import numpy as np
        val = np.arange(4.0) + (0.5 if lib == "tfcompile" else 0.0)
        return Impl(lambda: val)
    case = Case("dispatch", "stub", 1, build, rel_err, tol=1e-6)
    res = run_case(case, ["tfcompile", "numpy"], repeats=1, min_sample_s=0)
    assert res.outcomes["tfcompile"].ok is False
    assert "WRONG" in report.text_table([res], ["tfcompile", "numpy"])


@pytest.mark.slow
def test_compile_rows_run_in_new_processes():
    from benchmarks.compile_times import compile_results
    cold, warm = compile_results(1, 1, ["tfcompile", "numpy"], {})
    for r in (cold, warm):
        o = r.outcomes["tfcompile"]
        assert o.error is None, o.error
        assert o.seconds is not None and o.seconds >= 0
        assert r.outcomes["numpy"].skipped      # numpy has nothing to compile
