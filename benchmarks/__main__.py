"""`python -m benchmarks`: every workload, tfcompile and its peers side by side.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks
    python -m benchmarks --quick                 # fewer sizes and repeats
    python -m benchmarks --only matmul,mlp       # some groups
    python -m benchmarks --write benchmarks/RESULTS.md

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, where set, make numpy's OpenBLAS pick a
slower kernel; unset them for the matmul comparison (the output records the
kernel numpy ran).
"""
from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time

from . import report
from .harness import best_view, run_case
from .workloads import CASES, GROUPS, LIBRARIES, Config, load_libraries


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks",
                                 description="tfcompile and its peers, side by side")
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    ap.add_argument("--only", default="", help=f"comma-separated groups: {','.join(GROUPS)}")
    ap.add_argument("--peers", default="",
                    help="comma-separated columns to run (default: all installed): "
                         + ",".join(c for c, _, _ in LIBRARIES))
    ap.add_argument("--repeats", type=int, help="timing samples per implementation")
    ap.add_argument("--threads", type=int,
                    help="threads for the MLP, training and dispatch rows (default: 2, "
                         "or fewer when fewer cores are usable)")
    ap.add_argument("--write", metavar="PATH", help="also write the results as Markdown")
    return ap.parse_args(argv)


def _groups(only: str):
    if not only:
        return list(GROUPS)
    want = [g.strip() for g in only.split(",") if g.strip()]
    bad = [g for g in want if g not in GROUPS]
    if bad:
        raise SystemExit(f"unknown group(s) {', '.join(bad)}; choose from {', '.join(GROUPS)}")
    return [g for g in GROUPS if g in want]


def run_suite(cfg: Config, groups, out=sys.stdout, progress=True):
    """Runs the selected groups; returns (results, library columns)."""
    libs_wanted = list(cfg.libraries) if cfg.libraries else [c for c, _, _ in LIBRARIES]
    if "numpy" not in libs_wanted:
        libs_wanted.insert(1, "numpy")   # the reference every result is checked against
    impls, skipped = load_libraries(libs_wanted)
    libs = [c for c, _, _ in LIBRARIES if c in libs_wanted]
    if "TF XLA" in impls or "TF1 graph" in impls:
        from .impl_tensorflow import configure
        configure(cfg.main_threads)
    results = []
    for g in groups:
        if g == "compile":
            from .compile_times import compile_results
            if progress:
                print("  compile: cold and warm, in new processes ...", file=out, flush=True)
            results += compile_results(cfg.compile_repeats, cfg.main_threads, libs, skipped)
            continue
        for case in CASES[g](cfg, impls):
            if progress:
                print(f"  {case.label}, {case.threads} thread(s) ...", file=out, flush=True)
            results.append(run_case(case, libs, repeats=cfg.repeats,
                                    min_sample_s=cfg.min_sample_s, rounds=cfg.rounds,
                                    gap_s=cfg.gap_s, measure=cfg.measure,
                                    skipped=skipped))
    return results, libs


def main(argv=None):
    args = parse_args(argv)
    kw = {}
    if args.repeats:
        kw["repeats"] = args.repeats
    if args.threads:
        kw["main_threads"] = args.threads
    if args.peers:
        kw["libraries"] = tuple(p.strip() for p in args.peers.split(",") if p.strip())
    cfg = Config.quick(**kw) if args.quick else Config.full(**kw)
    groups = _groups(args.only)
    command = "python -m benchmarks" + "".join(" " + shlex.quote(a) for a in
                                               (argv if argv is not None else sys.argv[1:]))
    unset = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v not in os.environ]
    if len(unset) == 2:
        command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE " + command
    elif "matmul" in groups:
        print("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; numpy may run a slower "
              "kernel (run with env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)", flush=True)

    from . import machine
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    print(f"tfcompile benchmarks: {', '.join(groups)}", flush=True)
    results, libs = run_suite(cfg, groups)
    elapsed = time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    desc = machine.describe()
    notes = [f"ConfigProto(intra_op_parallelism_threads=N) reaches tfcompile's thread pool: "
             f"{machine.config_threads_reach_pool()}"]
    loads = [r.other_load for r in results if r.other_load is not None]
    if loads:
        busy = sum(x > 0.5 for x in loads)
        notes.append(f"Other processes kept more than half a core busy during {busy} of the "
                     f"{len(loads)} timed rows (median {sorted(loads)[len(loads) // 2]:.1f} "
                     f"cores, most {max(loads):.1f}).")
    print()
    for k, v in desc.items():
        print(f"{k}: {v}")
    print(f"load average: {load0:.2f} at start, {load1:.2f} at end; {elapsed / 60:.1f} min\n")
    print(report.text_table(results, libs))
    print("\nTargets, on the medians:")
    print(report.targets_text(report.targets(results)))
    print("Targets, on the fastest samples:")
    print(report.targets_text(report.targets(best_view(results))))
    for n in notes:
        print(f"note: {n}")
    if args.write:
        text = report.results_markdown(results, libs, desc, command, started, elapsed,
                                       (load0, load1), notes)
        with open(args.write, "w") as f:
            f.write(text)
        print(f"\nwrote {args.write}")


if __name__ == "__main__":
    main()
