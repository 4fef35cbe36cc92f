"""CPU codegen: a Function and its kernel schedule to one LLVM module.

The module's one exported symbol is the entry

    int32_t <name>(void **bufs)     bufs = [params..., results..., arena]

which snapshots what must be kept, runs each kernel's loop nests in schedule
order (on the calling thread, or split across the runtime's thread pool
through `tfc_parallel_for` when a nest is large), then copies the results
that are not written in place, and returns 0. Kernels read and write the
buffers that `passes/buffers.py` assigns: parameters, caller-allocated
results, or offsets into the 64-byte aligned arena. Constants are private
globals of the module; with `external_constants=N`, those of N bytes or more
are data the loader binds instead (`CpuModule.external_constants`: write the
address of each array into the pointer global of that name).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import llvmlite.ir as ir

from ..core import Function, IRError
from ..passes.buffers import BufferAssignment, assign_buffers, default_kernels
from .constants import ConstantPool
from .kernels import KernelEmitter, NestCall
from .llvm_util import I32, I64, PTR, VOID, declare, i64, memcpy

PARALLEL_FOR = "tfc_parallel_for"
GRAIN_DYNAMIC = 1 << 62      # runtime/threadpool.h: TFC_GRAIN_DYNAMIC


@dataclass
class CpuModule:
    """Generated LLVM IR for one function, and what the caller must know."""
    llvm_ir: str
    symbol: str
    num_params: int
    num_results: int
    buffers: BufferAssignment
    nests: list = field(default_factory=list)     # (kernel index, NestCall)
    stats: dict = field(default_factory=dict)
    external_constants: list = field(default_factory=list)   # (pointer symbol, array)
    library_symbols: tuple = ()     # GEMM library functions the module declares
    profile_symbol: str | None = None   # i64 per nest: time-stamp counter ticks

    @property
    def arena_bytes(self) -> int:
        return self.buffers.arena_bytes


def _symbol_ok(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "_." for c in name) and not name[0].isdigit()


def generate(fn: Function, kernels=None, name: str = "main", parallel: bool = False,
             reuse: bool = True, use_matmul: bool = True,
             external_constants: int | None = None, library: str = "inline",
             profile: bool = False) -> CpuModule:
    """LLVM IR for `fn` with `kernels` (default: one per instruction).

    `external_constants`: constants of at least this many bytes are bound
    after loading rather than embedded (None embeds all, as an exported
    library needs). `library`: "inline" emits the GEMM library functions the
    matmuls call into the module; "extern" only declares them (the JIT links
    them, see ir/codegen/library.py). `profile` adds a global
    `<name>.profile`, an i64 per nest summing the time-stamp counter ticks
    spent in it (for tuning: ir.compiler's `nest_profile`)."""
    if not _symbol_ok(name):
        raise IRError(f"entry name {name!r} is not a valid C symbol")
    t0 = time.perf_counter()
    if kernels is None:
        kernels = default_kernels(fn)
    else:
        # Within a kernel, instructions run in body order.
        pos = {ins: i for i, ins in enumerate(fn.body)}
        for g in kernels:
            for ins in g:
                if ins not in pos:
                    raise IRError(f"kernel instruction {ins.op} %{ins.result.name} is not in "
                                  f"the body of function {fn.name}")
        kernels = [sorted(g, key=pos.__getitem__) for g in kernels]
    ba = assign_buffers(fn, kernels, reuse=reuse)
    t1 = time.perf_counter()

    module = ir.Module(name=name)
    consts = ConstantPool(module, name + ".", external_constants)
    emitter = KernelEmitter(module, consts, ba, name + ".", parallel, use_matmul, library)
    entry = ir.Function(module, ir.FunctionType(I32, [PTR]), name)
    entry.attributes.add("nounwind")
    b = ir.IRBuilder(entry.append_basic_block("entry"))
    bufs = entry.args[0]
    P, R = len(fn.params), len(fn.results)

    slots = {}

    def slot(i):
        if i not in slots:
            slots[i] = b.load(b.gep(bufs, [i64(i)], inbounds=True, source_etype=PTR), typ=PTR,
                              name=f"buf{i}")
        return slots[i]

    def pointer(loc):
        kind, where = loc
        if kind == "param":
            return slot(where)
        if kind == "result":
            return slot(P + where)
        if kind == "arena":
            base = slot(P + R)
            return b.gep(base, [i64(where)], inbounds=True, source_etype=ir.IntType(8)) \
                if where else base
        if kind == "const":
            return consts.pointer(b, where)
        raise IRError(f"internal: unknown buffer location {loc!r}")

    for c in ba.snapshots:
        memcpy(b, pointer(c.dst), pointer(c.src), c.nbytes)

    nests = []
    for k, group in enumerate(kernels):
        try:
            calls = emitter.emit_kernel(k, group)
        except IRError as e:
            raise IRError(f"kernel {k} ({', '.join(f'{i.op} %{i.result.name}' for i in group)})"
                          f": {e}") from e
        nests.extend((k, call) for call in calls)
    prof = None
    if profile:
        # time-stamp counter ticks spent in each nest, summed over calls
        prof_t = ir.ArrayType(I64, max(1, len(nests)))
        prof = ir.GlobalVariable(module, prof_t, name + ".profile")
        prof.initializer = ir.Constant(prof_t, None)
        tsc = declare(module, "llvm.readcyclecounter", I64, [])
    for n, (k, call) in enumerate(nests):
        if prof is not None:
            t_start = b.call(tsc, [])
        _emit_call(b, module, call, [pointer(loc) for loc in call.args])
        if prof is not None:
            slot_ptr = b.gep(prof, [i64(0), i64(n)], inbounds=True, source_etype=prof_t)
            slot_ptr.type = PTR     # opaque, as the module text has it
            spent = b.sub(b.call(tsc, []), t_start)
            b.store(b.add(b.load(slot_ptr, typ=I64), spent), slot_ptr)

    for c in ba.copies:
        memcpy(b, pointer(c.dst), pointer(c.src), c.nbytes)
    b.ret(ir.Constant(I32, 0))
    text = str(module)
    t2 = time.perf_counter()

    kinds = {}
    for _, c in nests:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    stats = {
        "kernels": len(kernels),
        "nests": len(nests),
        "nest_kinds": kinds,
        "parallel_nests": sum(1 for _, c in nests if c.parallel),
        "arena_bytes": ba.arena_bytes,
        "in_place": len(ba.in_place),
        "result_copies": len(ba.copies),
        "time_buffers": t1 - t0,
        "time_codegen": t2 - t1,
    }
    return CpuModule(text, name, P, R, ba, nests, stats, list(consts.external),
                     tuple(sorted(emitter.library_symbols)),
                     name + ".profile" if profile else None)


def _emit_call(b, module, call: NestCall, ptrs):
    if not call.parallel:
        b.call(call.function, ptrs + [i64(0), i64(call.n)])
        return
    task = _task_wrapper(module, call.function, len(ptrs))
    # The context lives in the entry's frame for the duration of the call.
    ctx = b.alloca(PTR, size=i64(max(1, len(ptrs))), name="ctx")
    for i, p in enumerate(ptrs):
        b.store(p, b.gep(ctx, [i64(i)], inbounds=True, source_etype=PTR))
    pfor = declare(module, PARALLEL_FOR, VOID, [PTR, PTR, I64, I64])
    grain = call.grain | GRAIN_DYNAMIC if call.dynamic else call.grain
    b.call(pfor, [task, ctx, i64(call.n), i64(grain)])


def _task_wrapper(module, fn, nptr):
    """void <fn>.task(ptr ctx, i64 begin, i64 end): unpack ctx and call fn."""
    name = fn.name + ".task"
    existing = module.globals.get(name)
    if existing is not None:
        return existing
    task = ir.Function(module, ir.FunctionType(VOID, [PTR, I64, I64]), name)
    task.linkage = "internal"
    task.attributes.add("nounwind")
    b = ir.IRBuilder(task.append_basic_block("entry"))
    ctx, begin, end = task.args
    ptrs = [b.load(b.gep(ctx, [i64(i)], inbounds=True, source_etype=PTR), typ=PTR)
            for i in range(nptr)]
    b.call(fn, ptrs + [begin, end])
    b.ret_void()
    return task
