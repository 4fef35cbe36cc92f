"""The benchmark suite: tfcompile next to its peers, in one run, in one table.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks
    python -m benchmarks --quick --only matmul,mlp --write benchmarks/RESULTS.md

Modules:
    __main__.py        the command line
    workloads.py       the workloads (data, cases, how results are compared)
    harness.py         Impl/Case, building, checking against numpy, timing
    impl_*.py          one implementation per library (tfcompile and each peer),
                       each with the same functions: elementwise, matmul,
                       mlp_forward, train_step, dispatch
    compile_times.py   cold compile and warm disk-cache load, in fresh processes
    machine.py         the machine and library versions the numbers came from
    report.py          the text table, the targets of issue 8, RESULTS.md

Peers that are not installed are skipped with a note; nothing here is a
dependency of the project. bench_matmul.py and bench_session.py are focused
stand-alone benchmarks that the suite reuses.
"""
