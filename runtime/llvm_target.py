"""LLVM initialization and the target machine for this host (or a named CPU).

llvmlite >= 0.45 removed `llvm.initialize()`; only the native target and asm
printer need initializing for the CPU path.
"""
from __future__ import annotations

import functools

import llvmlite.binding as llvm


@functools.lru_cache(maxsize=None)
def init_native():
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return True


@functools.lru_cache(maxsize=None)
def init_all():
    init_native()
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    return True


@functools.lru_cache(maxsize=None)
def host_cpu() -> tuple[str, str, str]:
    """(triple, cpu name, feature string) of this machine."""
    init_native()
    return llvm.get_process_triple(), llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()


@functools.lru_cache(maxsize=None)
def target_machine(triple: str | None = None, cpu: str | None = None,
                   features: str | None = None, reloc: str = "default",
                   opt: int = 3):
    """A target machine; defaults to the host with all its features (else SSE only).

    Cached and shared: never hand it to `create_mcjit_compiler`, which takes
    ownership and frees it with the engine. For an engine, call
    `new_target_machine()`."""
    init_native()
    h_triple, h_cpu, h_features = host_cpu()
    if triple is None:
        triple = h_triple
    if cpu is None:
        cpu, features = h_cpu, (h_features if features is None else features)
    target = llvm.Target.from_triple(triple)
    return target.create_target_machine(cpu=cpu, features=features or "", opt=opt,
                                        reloc=reloc, codemodel="jitdefault"
                                        if reloc == "default" else "default")


def optimize(mod, tm, level: int = 3):
    """Run the O`level` pipeline (with loop and SLP vectorization) over `mod`."""
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pto.loop_vectorization = level >= 2
    pto.slp_vectorization = level >= 2
    pb = llvm.create_pass_builder(tm, pto)
    pm = pb.getModulePassManager()
    pm.run(mod, pb)
    return mod


def new_target_machine(*args, **kwargs):
    """An uncached target machine (for an execution engine, which will own it)."""
    return target_machine.__wrapped__(*args, **kwargs)
