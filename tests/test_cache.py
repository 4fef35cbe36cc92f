"""The on-disk compile cache (runtime/cache.py) and the JIT's use of it.

The compiled function computes out[i] = 2 * in[i] + 1 over 1000 doubles,
split across the thread pool, so a cached object also exercises the link to
the native helpers; numpy is the oracle.
"""
import os
import subprocess
import sys
import textwrap

import cffi
import numpy as np
import pytest

from tfcompile.runtime import cache
from tfcompile.runtime.jit import JITModule

_ffi = cffi.FFI()
N = 1000
IR = r"""
declare void @tfc_parallel_for(ptr, ptr, i64, i64)

define void @body(ptr %bufs, i64 %b, i64 %e) {
entry:
  %in = load ptr, ptr %bufs
  %outp = getelementptr inbounds ptr, ptr %bufs, i64 1
  %out = load ptr, ptr %outp
  %any = icmp slt i64 %b, %e
  br i1 %any, label %loop, label %exit
loop:
  %i = phi i64 [ %b, %entry ], [ %i1, %loop ]
  %pi = getelementptr double, ptr %in, i64 %i
  %x = load double, ptr %pi
  %x2 = fmul double %x, 2.0
  %y = fadd double %x2, 1.0
  %po = getelementptr double, ptr %out, i64 %i
  store double %y, ptr %po
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %e
  br i1 %more, label %loop, label %exit
exit:
  ret void
}

define i32 @main(ptr %bufs) {
  call void @tfc_parallel_for(ptr @body, ptr %bufs, i64 1000, i64 100)
  ret i32 0
}
"""


def run_and_check(jit):
    x = np.linspace(-3.0, 7.0, N)
    out = np.zeros(N)
    ptrs = np.array([x.ctypes.data, out.ctypes.data], dtype=np.uintp)
    assert jit.entry("main")(_ffi.cast("void **", ptrs.ctypes.data)) == 0
    np.testing.assert_array_equal(out, 2.0 * x + 1.0)


@pytest.fixture(autouse=True)
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TFC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TFC_CACHE", raising=False)
    cache.set_enabled(None)
    yield tmp_path / "cache"
    cache.set_enabled(None)


def entries(root):
    return sorted(p for p in (root / "objects").glob("*/*.tfcobj")) if root.exists() else []


def test_cache_dir_locations(monkeypatch, tmp_path):
    assert cache.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("TFC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "tfcompile"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "tfcompile"


def test_key_depends_on_every_input():
    base = dict(ir_text="define void @f() { ret void }", triple="x86_64-unknown-linux-gnu",
                cpu="skylake", features="+avx2,+fma", variant="O3")
    k = cache.key(**base)
    assert k == cache.key(**base) and len(k) == 64
    for field, other in [("ir_text", "define void @g() { ret void }"),
                         ("triple", "aarch64-unknown-linux-gnu"), ("cpu", "znver3"),
                         ("features", "+avx2"), ("variant", "O2")]:
        assert cache.key(**dict(base, **{field: other})) != k, field
    # fields cannot bleed into each other
    assert cache.key(**dict(base, cpu="skylake+", features="avx2,+fma")) != k
    assert cache.key("x") == cache.key("x")    # host target by default


def test_put_then_get(cache_env):
    k = cache.key("some ir")
    assert cache.get(k) is None
    payload = bytes(range(256)) * 10
    assert cache.put(k, payload)
    assert cache.get(k) == payload
    assert cache.put(k, b"")                     # empty objects round-trip too
    assert cache.get(k) == b""
    assert len(entries(cache_env)) == 1
    assert not [p for p in cache.entry_path(k).parent.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("damage", ["flip_payload", "flip_header", "truncate", "extend",
                                    "empty", "short_header"])
def test_damaged_entry_is_rejected_and_removed(cache_env, damage):
    k = cache.key("ir " + damage)
    payload = os.urandom(500)
    cache.put(k, payload)
    path = cache.entry_path(k)
    blob = bytearray(path.read_bytes())
    if damage == "flip_payload":
        blob[-100] ^= 0x01
    elif damage == "flip_header":
        blob[3] ^= 0x40
    elif damage == "truncate":
        blob = blob[:-1]
    elif damage == "extend":
        blob += b"\0"
    elif damage == "empty":
        blob = b""
    else:
        blob = blob[:10]
    path.write_bytes(bytes(blob))
    assert cache.get(k) is None
    assert not path.exists()


def test_disabled_by_env_and_flag(cache_env, monkeypatch):
    monkeypatch.setenv("TFC_CACHE", "0")
    assert not cache.enabled()
    k = cache.key("disabled")
    assert not cache.put(k, b"code")
    assert cache.get(k) is None
    jit = JITModule(IR, cache=True)
    run_and_check(jit)
    assert not JITModule(IR, cache=True).cache_hit
    assert entries(cache_env) == []
    monkeypatch.delenv("TFC_CACHE")
    cache.set_enabled(False)
    assert not cache.enabled() and not cache.put(k, b"code")
    cache.set_enabled(None)
    assert cache.enabled() and cache.put(k, b"code") and cache.get(k) == b"code"


def test_unwritable_cache_is_not_fatal(cache_env, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("TFC_CACHE_DIR", str(blocker))
    with pytest.warns(RuntimeWarning, match="cannot write the compile cache"):
        monkeypatch.setattr(cache, "_warned_write", False)
        assert not cache.put(cache.key("x"), b"code")
    assert cache.get(cache.key("x")) is None


def test_jit_miss_then_hit(cache_env):
    first = JITModule(IR, cache=True, name="cached")
    assert first.cache_hit is False and first.timings["cache_hit"] is False
    assert {"cache_lookup", "llvm_parse", "llvm_opt", "llvm_codegen", "cache_store",
            "load"} <= set(first.timings)
    run_and_check(first)
    assert len(entries(cache_env)) == 1
    second = JITModule(IR, cache=True, name="cached")
    assert second.cache_hit is True and second.timings["cache_hit"] is True
    assert "llvm_opt" not in second.timings and "load" in second.timings
    run_and_check(second)
    # the optimized IR and assembly are recomputed on demand after a hit
    assert second.optimized_ir == first.optimized_ir
    assert "main" in second.asm()
    # another optimization level is another entry
    third = JITModule(IR, opt_level=1, cache=True)
    assert not third.cache_hit
    run_and_check(third)
    assert len(entries(cache_env)) == 2


def test_jit_recompiles_a_corrupted_entry(cache_env):
    run_and_check(JITModule(IR, cache=True))
    (path,) = entries(cache_env)
    for damage in ("flip", "truncate"):
        blob = bytearray(path.read_bytes())
        if damage == "flip":
            blob[len(blob) // 2] ^= 0xFF
        else:
            blob = blob[: len(blob) // 2]
        path.write_bytes(bytes(blob))
        jit = JITModule(IR, cache=True)
        assert not jit.cache_hit
        run_and_check(jit)
        assert cache.get(jit.cache_key) is not None       # stored afresh
        assert JITModule(IR, cache=True).cache_hit


def test_uncached_jit_keeps_its_module():
    jit = JITModule(IR)
    assert jit.cache_hit is False and jit.cache_key is None
    run_and_check(jit)
    assert "define" in jit.optimized_ir and jit.module is not None


WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import test_cache
    from tfcompile.runtime.jit import JITModule
    jit = JITModule(test_cache.IR, cache=True)
    test_cache.run_and_check(jit)
    print("hit" if jit.cache_hit else "miss")
""")


def test_two_processes_compile_the_same_ir_at_once(cache_env):
    code = WORKER.format(tests=os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TFC_CACHE_DIR=str(cache_env))
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.strip() in ("hit", "miss")
    assert len(entries(cache_env)) == 1
    assert not [p for p in cache_env.rglob(".tmp-*")]
    # both wrote a whole entry; this process now hits it and computes right
    jit = JITModule(IR, cache=True)
    assert jit.cache_hit
    run_and_check(jit)
