"""Small LLVM-building helpers shared by the CPU codegen.

IR dtypes to LLVM types (bool is i1 in registers and i8 in memory, as numpy
stores it), typed constants that splat over vectors, intrinsic declaration
with LLVM's name mangling, counted loops with i64 induction variables, and
entry-block allocas (so SROA/mem2reg promote accumulators to registers).
All pointers are opaque (`ptr`), as LLVM 17+ requires.
"""
from __future__ import annotations

import contextlib

import llvmlite.ir as ir

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F32 = ir.FloatType()
F64 = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()

_REG = {"f32": F32, "f64": F64, "i32": I32, "i64": I64, "bool": I1}
_BITS = {"i32": 32, "i64": 64}


def reg_type(dtype: str):
    """The LLVM type an element of `dtype` has in a register."""
    return _REG[dtype]


def mem_type(dtype: str):
    """The LLVM type an element of `dtype` has in memory (bool is a byte)."""
    return I8 if dtype == "bool" else _REG[dtype]


def itemsize(dtype: str) -> int:
    return {"f32": 4, "f64": 8, "i32": 4, "i64": 8, "bool": 1}[dtype]


def int_min(dtype: str) -> int:
    return -(1 << (_BITS[dtype] - 1))


def int_max(dtype: str) -> int:
    return (1 << (_BITS[dtype] - 1)) - 1


def i64(n: int):
    return ir.Constant(I64, int(n))


def scalar_of(t):
    """The element type of a (possibly vector) LLVM type."""
    return t.element if isinstance(t, ir.VectorType) else t


def with_scalar(t, elem):
    """`elem`, or a vector of `elem` with as many lanes as `t` has."""
    return ir.VectorType(elem, t.count) if isinstance(t, ir.VectorType) else elem


def const(t, value):
    """A constant of LLVM type `t` (scalar, or a splat if `t` is a vector)."""
    e = scalar_of(t)
    if isinstance(e, ir.IntType):
        v = int(bool(value)) if e.width == 1 else int(value)
        # Constants print in signed form; wrap into range so i64 bit patterns work.
        v &= (1 << e.width) - 1
        if v >= 1 << (e.width - 1) and e.width > 1:
            v -= 1 << e.width
        c = ir.Constant(e, v)
    else:
        c = ir.Constant(e, float(value))
    if isinstance(t, ir.VectorType):
        return ir.Constant(t, [c] * t.count)
    return c


def type_suffix(t) -> str:
    """LLVM's overload mangling of a type: f32, f64, i32, v8f32, ..."""
    if isinstance(t, ir.VectorType):
        return f"v{t.count}{type_suffix(t.element)}"
    if isinstance(t, ir.FloatType):
        return "f32"
    if isinstance(t, ir.DoubleType):
        return "f64"
    if isinstance(t, ir.IntType):
        return f"i{t.width}"
    if isinstance(t, ir.PointerType):
        return "p0"
    raise TypeError(f"no intrinsic mangling for LLVM type {t}")


def declare(module: ir.Module, name: str, ret, args):
    """The function `name` of `module`, declared with this signature if new."""
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ret, list(args)), name)
    return fn


def intrinsic(builder, base: str, args, ret=None, overloads=None, extra_args=()):
    """Call `llvm.<base>.<mangled overload types>` on `args`.

    By default the intrinsic is overloaded on, and returns, the first
    argument's type (llvm.fabs, llvm.maximum, ...).
    """
    t = args[0].type
    ret = t if ret is None else ret
    overloads = [t] if overloads is None else overloads
    name = "llvm." + base + "".join("." + type_suffix(o) for o in overloads)
    all_args = list(args) + list(extra_args)
    # Opaque `ptr` for every pointer (llvmlite types globals as typed pointers).
    fn = declare(builder.module, name, ret,
                 [PTR if isinstance(a.type, ir.PointerType) else a.type for a in all_args])
    return builder.call(fn, all_args)


def alloca_entry(builder, t, name=""):
    """An alloca in the function's entry block (promotable to a register)."""
    fn = builder.function
    entry = fn.entry_basic_block
    saved = builder.block
    if entry.instructions:
        builder.position_before(entry.instructions[0])
    else:
        builder.position_at_end(entry)
    slot = builder.alloca(t, name=name)
    builder.position_at_end(saved)
    return slot


@contextlib.contextmanager
def loop(builder, start, stop, name="i", step=1):
    """`for (i64 i = start; i < stop; i += step)`; yields i, positioned in the body.

    On exit the builder is positioned after the loop.
    """
    start = i64(start) if isinstance(start, int) else start
    stop = i64(stop) if isinstance(stop, int) else stop
    pre = builder.block
    header = builder.append_basic_block(name + ".head")
    body = builder.append_basic_block(name + ".body")
    done = builder.append_basic_block(name + ".done")
    builder.branch(header)
    builder.position_at_end(header)
    i = builder.phi(I64, name=name)
    i.add_incoming(start, pre)
    builder.cbranch(builder.icmp_signed("<", i, stop), body, done)
    builder.position_at_end(body)
    yield i
    nxt = builder.add(i, i64(step), name=name + ".next")
    i.add_incoming(nxt, builder.block)
    builder.branch(header)
    builder.position_at_end(done)


def memcpy(builder, dst, src, nbytes: int):
    if nbytes <= 0:
        return
    intrinsic(builder, "memcpy", [dst, src, i64(nbytes), ir.Constant(I1, 0)],
              ret=VOID, overloads=[PTR, PTR, I64])


def global_bytes(module: ir.Module, name: str, data: bytes, align: int = 64):
    """A private constant global holding `data` (at least one byte)."""
    data = bytes(data) or b"\0"
    init = ir.Constant(ir.ArrayType(I8, len(data)), bytearray(data))
    g = ir.GlobalVariable(module, init.type, name)
    g.global_constant = True
    g.linkage = "private"
    g.unnamed_addr = True
    g.align = align
    g.initializer = init
    return g
