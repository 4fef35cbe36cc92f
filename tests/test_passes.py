"""Golden tests for the optimization passes: this IR becomes that IR.

Each case parses the IR text, runs the pass (and, where said, dce to drop
what the pass left dead), prints the function and compares it with the
expected text. Every case also runs both versions in the reference
interpreter on random inputs: a rewrite must not change what is computed.
Then the pipeline: statistics, signature and aliases kept, the verifier
after each pass, the dump files.
"""
import os
import textwrap

import numpy as np
import pytest

from tfcompile.ir.core import IRError
from tfcompile.ir.interpreter import run_function
from tfcompile.ir.passes import constant_folding, cse, dce, dump, pipeline, simplify
from tfcompile.ir.text import parse_function, print_function
from tfcompile.ir.verifier import verify_function



@pytest.fixture(autouse=True)
def _verify_every_pass(monkeypatch):
    monkeypatch.setenv("TFC_VERIFY", "1")


def _inputs(fn, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for p in fn.params:
        t = p.type
        if t.dtype in ("f32", "f64"):
            out.append(rng.uniform(-2, 2, t.shape).astype(t.np_dtype))
        elif t.dtype == "bool":
            out.append(rng.integers(0, 2, t.shape).astype(bool))
        else:
            out.append(rng.integers(-5, 6, t.shape).astype(t.np_dtype))
    return out


def golden(passes, before, after):
    """Runs `passes` on `before`; the printed result must be `after`, and both
    must compute the same thing."""
    before = textwrap.dedent(before).strip()
    after = textwrap.dedent(after).strip()
    fn = parse_function(before)
    for p in passes:
        p.run(fn)
        verify_function(fn)
    assert print_function(fn) == after
    original = parse_function(before)
    args = _inputs(original)
    for want, got in zip(run_function(original, args), run_function(fn, args)):
        np.testing.assert_array_equal(got, want)
    return fn


# -- constant folding ---------------------------------------------------------

def test_fold_chain_of_constants():
    golden([constant_folding], """
        func @f(%x "x": f32[3]) -> ("y": f32[3]) {
          %a = constant() {value=dense<2.0>} : f32[]
          %b = constant() {value=dense<3.0>} : f32[]
          %s = add(%a, %b) : f32[]
          %t = mul(%s, %s) : f32[]
          %u = broadcast(%t) {dims=[], shape=[3]} : f32[3]
          %y = add(%x, %u) : f32[3]
          return %y
        }""", """
        func @f(%x "x": f32[3]) -> ("y": f32[3]) {
          %a = constant() {value=dense<2.0>} : f32[]
          %b = constant() {value=dense<3.0>} : f32[]
          %s = constant() {value=dense<5.0>} : f32[]
          %t = constant() {value=dense<25.0>} : f32[]
          %u = constant() {value=dense<25.0>} : f32[3]
          %y = add(%x, %u) : f32[3]
          return %y
        }""")


def test_fold_keeps_big_broadcast_and_iota():
    # 64*64 = 4096 elements from a scalar: stays a broadcast (a register splat).
    golden([constant_folding], """
        func @f(%x "x": f32[64,64]) -> ("y": f32[64,64]) {
          %a = constant() {value=dense<0.5>} : f32[]
          %b = broadcast(%a) {dims=[], shape=[64,64]} : f32[64,64]
          %i = iota() {dim=1, dtype="f32", shape=[64,64]} : f32[64,64]
          %c = mul(%b, %i) : f32[64,64]
          %y = add(%x, %c) : f32[64,64]
          return %y
        }""", """
        func @f(%x "x": f32[64,64]) -> ("y": f32[64,64]) {
          %a = constant() {value=dense<0.5>} : f32[]
          %b = broadcast(%a) {dims=[], shape=[64,64]} : f32[64,64]
          %i = iota() {dim=1, dtype="f32", shape=[64,64]} : f32[64,64]
          %c = mul(%b, %i) : f32[64,64]
          %y = add(%x, %c) : f32[64,64]
          return %y
        }""")


def test_fold_big_result_smaller_than_its_inputs():
    # 1500 elements (over the limit) from a 3000-element constant: folded.
    golden([constant_folding], """
        func @f(%x "x": f32[1500]) -> ("y": f32[1500]) {
          %a = constant() {value=dense<1.5>} : f32[2,1500]
          %r = reduce(%a) {axes=[0], kind="sum"} : f32[1500]
          %y = mul(%x, %r) : f32[1500]
          return %y
        }""", """
        func @f(%x "x": f32[1500]) -> ("y": f32[1500]) {
          %a = constant() {value=dense<1.5>} : f32[2,1500]
          %r = constant() {value=dense<3.0>} : f32[1500]
          %y = mul(%x, %r) : f32[1500]
          return %y
        }""")


def test_fold_never_rng():
    golden([constant_folding], """
        func @f() -> ("y": f32[4]) {
          %c = constant() {value=dense<7>} : i64[]
          %r = rng(%c) {dist="uniform", dtype="f32", seed=1, seed2=2, shape=[4]} : f32[4]
          return %r
        }""", """
        func @f() -> ("y": f32[4]) {
          %c = constant() {value=dense<7>} : i64[]
          %r = rng(%c) {dist="uniform", dtype="f32", seed=1, seed2=2, shape=[4]} : f32[4]
          return %r
        }""")


def test_fold_integer_semantics_follow_the_interpreter():
    # C division (truncation) and wrap-around, as the op table defines.
    golden([constant_folding], """
        func @f() -> ("q": i32[2], "w": i32[]) {
          %a = constant() {value=dense<[-7, 7]>} : i32[2]
          %b = constant() {value=dense<[2, -2]>} : i32[2]
          %q = div(%a, %b) : i32[2]
          %m = constant() {value=dense<2147483647>} : i32[]
          %o = constant() {value=dense<1>} : i32[]
          %w = add(%m, %o) : i32[]
          return %q, %w
        }""", """
        func @f() -> ("q": i32[2], "w": i32[]) {
          %a = constant() {value=dense<[-7, 7]>} : i32[2]
          %b = constant() {value=dense<[2, -2]>} : i32[2]
          %q = constant() {value=dense<-3>} : i32[2]
          %m = constant() {value=dense<2147483647>} : i32[]
          %o = constant() {value=dense<1>} : i32[]
          %w = constant() {value=dense<-2147483648>} : i32[]
          return %q, %w
        }""")


# -- simplify -------------------------------------------------------------------

def test_simplify_arithmetic_identities():
    golden([simplify, dce], """
        func @f(%x "x": f32[4]) -> ("a": f32[4], "b": f32[4], "c": f32[4], "d": f32[4], "e": f32[4]) {
          %one = constant() {value=dense<1.0>} : f32[]
          %ones = broadcast(%one) {dims=[], shape=[4]} : f32[4]
          %zero = constant() {value=dense<0.0>} : f32[4]
          %a = mul(%x, %ones) : f32[4]
          %b = mul(%ones, %a) : f32[4]
          %c = add(%b, %zero) : f32[4]
          %d = sub(%c, %zero) : f32[4]
          %e = div(%d, %ones) : f32[4]
          return %a, %b, %c, %d, %e
        }""", """
        func @f(%x "x": f32[4]) -> ("a": f32[4], "b": f32[4], "c": f32[4], "d": f32[4], "e": f32[4]) {
          return %x, %x, %x, %x, %x
        }""")


def test_simplify_double_negation_and_idempotent_ops():
    golden([simplify, dce], """
        func @f(%x "x": f32[4], %p "p": bool[4]) -> ("a": f32[4], "b": f32[4], "c": bool[4], "d": f32[4]) {
          %n = neg(%x) : f32[4]
          %a = neg(%n) : f32[4]
          %b = max(%x, %x) : f32[4]
          %q = not(%p) : bool[4]
          %c = not(%q) : bool[4]
          %ab = abs(%x) : f32[4]
          %d = abs(%ab) : f32[4]
          return %a, %b, %c, %d
        }""", """
        func @f(%x "x": f32[4], %p "p": bool[4]) -> ("a": f32[4], "b": f32[4], "c": bool[4], "d": f32[4]) {
          %ab = abs(%x) : f32[4]
          return %x, %x, %p, %ab
        }""")


def test_simplify_integer_times_zero():
    golden([simplify, dce], """
        func @f(%x "x": i32[3]) -> ("y": i32[3]) {
          %z = constant() {value=dense<0>} : i32[3]
          %y = mul(%x, %z) : i32[3]
          return %y
        }""", """
        func @f(%x "x": i32[3]) -> ("y": i32[3]) {
          %z = constant() {value=dense<0>} : i32[3]
          return %z
        }""")


def test_simplify_transposes_compose():
    golden([simplify, dce], """
        func @f(%x "x": f32[2,3,4]) -> ("y": f32[4,2,3], "z": f32[2,3,4]) {
          %a = transpose(%x) {perm=[1,2,0]} : f32[3,4,2]
          %y = transpose(%a) {perm=[1,2,0]} : f32[4,2,3]
          %b = transpose(%x) {perm=[2,0,1]} : f32[4,2,3]
          %z = transpose(%b) {perm=[1,2,0]} : f32[2,3,4]
          return %y, %z
        }""", """
        func @f(%x "x": f32[2,3,4]) -> ("y": f32[4,2,3], "z": f32[2,3,4]) {
          %0 = transpose(%x) {perm=[2,0,1]} : f32[4,2,3]
          return %0, %x
        }""")


def test_simplify_transpose_of_unit_dims_is_a_reshape():
    golden([simplify, dce], """
        func @f(%x "x": f32[3,1,4]) -> ("y": f32[1,3,4]) {
          %y = transpose(%x) {perm=[1,0,2]} : f32[1,3,4]
          return %y
        }""", """
        func @f(%x "x": f32[3,1,4]) -> ("y": f32[1,3,4]) {
          %0 = reshape(%x) {shape=[1,3,4]} : f32[1,3,4]
          return %0
        }""")


def test_simplify_reshapes_and_broadcasts():
    golden([simplify, dce], """
        func @f(%x "x": f32[6], %v "v": f32[3]) -> ("a": f32[3,2], "b": f32[6], "c": f32[2,4,3], "d": f32[3]) {
          %r = reshape(%x) {shape=[2,3]} : f32[2,3]
          %a = reshape(%r) {shape=[3,2]} : f32[3,2]
          %b = reshape(%x) {shape=[6]} : f32[6]
          %m = broadcast(%v) {dims=[1], shape=[4,3]} : f32[4,3]
          %c = broadcast(%m) {dims=[1,2], shape=[2,4,3]} : f32[2,4,3]
          %d = broadcast(%v) {dims=[0], shape=[3]} : f32[3]
          return %a, %b, %c, %d
        }""", """
        func @f(%x "x": f32[6], %v "v": f32[3]) -> ("a": f32[3,2], "b": f32[6], "c": f32[2,4,3], "d": f32[3]) {
          %0 = reshape(%x) {shape=[3,2]} : f32[3,2]
          %1 = broadcast(%v) {dims=[2], shape=[2,4,3]} : f32[2,4,3]
          return %0, %x, %1, %v
        }""")


def test_simplify_conversions():
    golden([simplify, dce], """
        func @f(%x "x": f32[2], %i "i": i32[2]) -> ("a": f32[2], "b": f32[2], "c": i32[2], "d": i32[2]) {
          %a = convert(%x) {dtype="f32"} : f32[2]
          %w = convert(%x) {dtype="f64"} : f64[2]
          %b = convert(%w) {dtype="f32"} : f32[2]
          %l = convert(%i) {dtype="i64"} : i64[2]
          %c = convert(%l) {dtype="i32"} : i32[2]
          %g = convert(%i) {dtype="f32"} : f32[2]
          %d = convert(%g) {dtype="i32"} : i32[2]
          return %a, %b, %c, %d
        }""", """
        func @f(%x "x": f32[2], %i "i": i32[2]) -> ("a": f32[2], "b": f32[2], "c": i32[2], "d": i32[2]) {
          %g = convert(%i) {dtype="f32"} : f32[2]
          %d = convert(%g) {dtype="i32"} : i32[2]
          return %x, %x, %i, %d
        }""")


def test_simplify_transpose_folds_into_dot_flags():
    golden([simplify, dce], """
        func @f(%a "a": f32[3,2], %b "b": f32[4,3]) -> ("y": f32[2,4]) {
          %at = transpose(%a) {perm=[1,0]} : f32[2,3]
          %bt = transpose(%b) {perm=[1,0]} : f32[3,4]
          %y = dot(%at, %bt) : f32[2,4]
          return %y
        }""", """
        func @f(%a "a": f32[3,2], %b "b": f32[4,3]) -> ("y": f32[2,4]) {
          %0 = dot(%a, %b) {transpose_a=true, transpose_b=true} : f32[2,4]
          return %0
        }""")


def test_simplify_transpose_of_dot_swaps_operands():
    # (A B)^T = B^T A^T; batch dims stay in place.
    golden([simplify, dce], """
        func @f(%a "a": f32[5,2,3], %b "b": f32[5,3,4]) -> ("y": f32[5,4,2]) {
          %d = dot(%a, %b) : f32[5,2,4]
          %y = transpose(%d) {perm=[0,2,1]} : f32[5,4,2]
          return %y
        }""", """
        func @f(%a "a": f32[5,2,3], %b "b": f32[5,3,4]) -> ("y": f32[5,4,2]) {
          %0 = dot(%b, %a) {transpose_a=true, transpose_b=true} : f32[5,4,2]
          return %0
        }""")


def test_simplify_slices():
    golden([simplify, dce], """
        func @f(%x "x": f32[10,4]) -> ("a": f32[10,4], "b": f32[2,2]) {
          %a = slice(%x) {limit=[10,4], start=[0,0], stride=[1,1]} : f32[10,4]
          %s = slice(%x) {limit=[9,4], start=[1,0], stride=[2,1]} : f32[4,4]
          %b = slice(%s) {limit=[4,3], start=[1,1], stride=[2,1]} : f32[2,2]
          return %a, %b
        }""", """
        func @f(%x "x": f32[10,4]) -> ("a": f32[10,4], "b": f32[2,2]) {
          %0 = slice(%x) {limit=[8,3], start=[3,1], stride=[4,1]} : f32[2,2]
          return %x, %0
        }""")


def test_simplify_select_with_known_predicate():
    golden([simplify, dce], """
        func @f(%x "x": f32[3], %y "y": f32[3], %p "p": bool[3]) -> ("a": f32[3], "b": f32[3], "c": f32[3]) {
          %t = constant() {value=dense<true>} : bool[]
          %tt = broadcast(%t) {dims=[], shape=[3]} : bool[3]
          %f = constant() {value=dense<false>} : bool[3]
          %a = select(%tt, %x, %y) : f32[3]
          %b = select(%f, %x, %y) : f32[3]
          %c = select(%p, %y, %y) : f32[3]
          return %a, %b, %c
        }""", """
        func @f(%x "x": f32[3], %y "y": f32[3], %p "p": bool[3]) -> ("a": f32[3], "b": f32[3], "c": f32[3]) {
          return %x, %y, %y
        }""")


def test_simplify_ops_on_broadcast_scalars_become_scalar_ops():
    golden([simplify, dce], """
        func @f(%s "s": f32[], %t "t": f32[]) -> ("y": f32[100,100]) {
          %a = broadcast(%s) {dims=[], shape=[100,100]} : f32[100,100]
          %b = broadcast(%t) {dims=[], shape=[100,100]} : f32[100,100]
          %c = mul(%a, %b) : f32[100,100]
          %y = exp(%c) : f32[100,100]
          return %y
        }""", """
        func @f(%s "s": f32[], %t "t": f32[]) -> ("y": f32[100,100]) {
          %0 = mul(%s, %t) : f32[]
          %2 = exp(%0) : f32[]
          %3 = broadcast(%2) {dims=[], shape=[100,100]} : f32[100,100]
          return %3
        }""")


def test_simplify_big_splat_constant_becomes_broadcast():
    golden([simplify, dce], """
        func @f(%x "x": f32[40,40]) -> ("y": f32[40,40]) {
          %c = constant() {value=dense<2.5>} : f32[40,40]
          %y = add(%x, %c) : f32[40,40]
          return %y
        }""", """
        func @f(%x "x": f32[40,40]) -> ("y": f32[40,40]) {
          %0 = constant() {value=dense<2.5>} : f32[]
          %1 = broadcast(%0) {dims=[], shape=[40,40]} : f32[40,40]
          %y = add(%x, %1) : f32[40,40]
          return %y
        }""")


def test_simplify_reduce_and_movement_trivia():
    golden([simplify, dce], """
        func @f(%x "x": f32[3,1,4]) -> ("a": f32[3,4], "b": f32[3,1,4], "c": f32[3,1,4], "d": f32[3,1,4], "e": f32[3,1,4]) {
          %a = reduce(%x) {axes=[1], kind="sum"} : f32[3,4]
          %b = reverse(%x) {axes=[1]} : f32[3,1,4]
          %r = reverse(%x) {axes=[0,2]} : f32[3,1,4]
          %c = reverse(%r) {axes=[0,2]} : f32[3,1,4]
          %d = pad(%x) {high=[0,0,0], low=[0,0,0], value=0.0} : f32[3,1,4]
          %e = concatenate(%x) {axis=1} : f32[3,1,4]
          return %a, %b, %c, %d, %e
        }""", """
        func @f(%x "x": f32[3,1,4]) -> ("a": f32[3,4], "b": f32[3,1,4], "c": f32[3,1,4], "d": f32[3,1,4], "e": f32[3,1,4]) {
          %0 = reshape(%x) {shape=[3,4]} : f32[3,4]
          return %0, %x, %x, %x, %x
        }""")


def test_simplify_keeps_what_is_not_an_identity():
    text = """
        func @f(%x "x": f32[4]) -> ("a": f32[4], "b": f32[4]) {
          %z = constant() {value=dense<0.0>} : f32[4]
          %a = mul(%x, %z) : f32[4]
          %two = constant() {value=dense<2.0>} : f32[4]
          %b = add(%x, %two) : f32[4]
          return %a, %b
        }"""
    # Float x*0 is not 0 (NaN, inf, -0.0): left alone.
    golden([simplify, dce], text, text)


# -- cse -----------------------------------------------------------------------------

def test_cse_merges_equal_computations():
    golden([cse], """
        func @f(%x "x": f32[4], %y "y": f32[4]) -> ("a": f32[4], "b": f32[4]) {
          %p = add(%x, %y) : f32[4]
          %q = add(%y, %x) : f32[4]
          %e1 = exp(%p) : f32[4]
          %e2 = exp(%q) : f32[4]
          %a = sub(%e1, %x) : f32[4]
          %b = sub(%e2, %x) : f32[4]
          return %a, %b
        }""", """
        func @f(%x "x": f32[4], %y "y": f32[4]) -> ("a": f32[4], "b": f32[4]) {
          %p = add(%x, %y) : f32[4]
          %e1 = exp(%p) : f32[4]
          %a = sub(%e1, %x) : f32[4]
          return %a, %a
        }""")


def test_cse_keeps_order_of_non_commutative_ops_and_distinct_attrs():
    text = """
        func @f(%x "x": f32[2,3], %y "y": f32[2,3]) -> ("a": f32[2,3], "b": f32[2,3], "c": f32[2], "d": f32[2]) {
          %a = sub(%x, %y) : f32[2,3]
          %b = sub(%y, %x) : f32[2,3]
          %c = reduce(%x) {axes=[1], kind="sum"} : f32[2]
          %d = reduce(%x) {axes=[1], kind="max"} : f32[2]
          return %a, %b, %c, %d
        }"""
    golden([cse], text, text)


def test_cse_constants_by_value_bytes():
    golden([cse], """
        func @f(%x "x": f32[2]) -> ("a": f32[2], "b": f32[2], "c": f32[2]) {
          %c1 = constant() {value=dense<[1.0, 2.0]>} : f32[2]
          %c2 = constant() {value=dense<[1.0, 2.0]>} : f32[2]
          %z1 = constant() {value=dense<0.0>} : f32[2]
          %z2 = constant() {value=dense<-0.0>} : f32[2]
          %a = mul(%x, %c1) : f32[2]
          %b = mul(%x, %c2) : f32[2]
          %s = add(%z1, %z2) : f32[2]
          %c = add(%s, %x) : f32[2]
          return %a, %b, %c
        }""", """
        func @f(%x "x": f32[2]) -> ("a": f32[2], "b": f32[2], "c": f32[2]) {
          %c1 = constant() {value=dense<[1.0, 2.0]>} : f32[2]
          %z1 = constant() {value=dense<0.0>} : f32[2]
          %z2 = constant() {value=dense<-0.0>} : f32[2]
          %a = mul(%x, %c1) : f32[2]
          %s = add(%z1, %z2) : f32[2]
          %c = add(%s, %x) : f32[2]
          return %a, %a, %c
        }""")


def test_cse_never_merges_rng():
    text = """
        func @f(%n "n": i64[]) -> ("a": f32[3], "b": f32[3]) {
          %a = rng(%n) {dist="normal", dtype="f32", seed=5, seed2=6, shape=[3]} : f32[3]
          %b = rng(%n) {dist="normal", dtype="f32", seed=5, seed2=6, shape=[3]} : f32[3]
          return %a, %b
        }"""
    golden([cse], text, text)


# -- dce ---------------------------------------------------------------------------------

def test_dce_removes_what_no_result_needs():
    golden([dce], """
        func @f(%x "x": f32[4], %unused "u": f32[4]) -> ("y": f32[4]) {
          %a = exp(%x) : f32[4]
          %b = log(%a) : f32[4]
          %c = neg(%unused) : f32[4]
          %y = tanh(%x) : f32[4]
          return %y
        }""", """
        func @f(%x "x": f32[4], %unused "u": f32[4]) -> ("y": f32[4]) {
          %y = tanh(%x) : f32[4]
          return %y
        }""")


# -- the pipeline ------------------------------------------------------------------------

_PIPELINE_INPUT = """
    func @step(%x "x": f32[8,4], %w "w": f32[4]) -> ("loss": f32[], "w": f32[4] aliases %w) {
      %one = constant() {value=dense<1.0>} : f32[]
      %ones = broadcast(%one) {dims=[], shape=[8,4]} : f32[8,4]
      %xs = mul(%x, %ones) : f32[8,4]
      %wb = broadcast(%w) {dims=[1], shape=[8,4]} : f32[8,4]
      %p = mul(%xs, %wb) : f32[8,4]
      %p2 = mul(%x, %wb) : f32[8,4]
      %l = reduce(%p) {axes=[0,1], kind="sum"} : f32[]
      %g = reduce(%p2) {axes=[0], kind="sum"} : f32[4]
      %lr = constant() {value=dense<0.01>} : f32[4]
      %d = mul(%g, %lr) : f32[4]
      %nw = sub(%w, %d) : f32[4]
      %dead = exp(%x) : f32[8,4]
      return %l, %nw
    }"""


def test_pipeline_optimizes_a_copy_and_keeps_the_signature():
    fn = parse_function(textwrap.dedent(_PIPELINE_INPUT))
    before = print_function(fn)
    out, kernels, stats = pipeline.optimize(fn, verify=True)
    assert print_function(fn) == before            # the input is not touched
    assert out.param_names == ["x", "w"]
    assert out.result_names == ["loss", "w"]
    assert out.aliases == {1: 1}
    assert [r.type for r in out.results] == [r.type for r in fn.results]
    args = _inputs(fn)
    for want, got in zip(run_function(fn, [a.copy() for a in args]), run_function(out, args)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    ops = {i.op for i in out.body}
    assert "exp" not in ops                                # dead code gone
    assert stats["simplified"] >= 1 and stats["merged"] >= 1 and stats["removed"] >= 1
    assert stats["kernels"] == len(kernels)
    names = [p["pass"] for p in stats["passes"]]
    assert names[:4] == ["constant_folding", "simplify", "cse", "dce"]
    assert names[-1] == "fusion"
    for rec in stats["passes"]:
        assert {"pass", "round", "ops_before", "ops_after", "time_s"} <= set(rec)


def test_pipeline_lists_every_pass_with_a_reason():
    assert [p.name for p in pipeline.PASSES] == [
        "constant_folding", "simplify", "cse", "dce", "fusion"]
    assert all(p.reason for p in pipeline.PASSES)
    text = pipeline.describe()
    for p in pipeline.PASSES:
        assert p.name in text and p.reason in text


def test_verifier_runs_after_each_pass(monkeypatch):
    def broken(fn):
        fn.body.reverse()       # uses before definitions
        return {}
    bad = pipeline.Pass("broken", broken, "a pass that breaks SSA order")
    monkeypatch.setattr(pipeline, "SIMPLIFICATION", [bad])
    fn = parse_function(textwrap.dedent(_PIPELINE_INPUT))
    with pytest.raises(IRError, match="after pass broken"):
        pipeline.optimize(fn, verify=True)


def test_signature_change_is_caught(monkeypatch):
    def renames(fn):
        fn.result_names[0] = "other"
        return {}
    monkeypatch.setattr(pipeline, "SIMPLIFICATION", [pipeline.Pass("renames", renames, "bad")])
    fn = parse_function(textwrap.dedent(_PIPELINE_INPUT))
    with pytest.raises(IRError, match="after pass renames: the function's signature"):
        pipeline.optimize(fn, verify=True)


def test_verify_switch(monkeypatch):
    monkeypatch.delenv("TFC_VERIFY", raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    assert not pipeline.verify_enabled()
    monkeypatch.setenv("TFC_VERIFY", "1")
    assert pipeline.verify_enabled()
    assert not pipeline.verify_enabled(False)


def test_dump_writes_each_pass_in_order(tmp_path):
    from tfcompile.ir.compiler import compile_function
    fn = parse_function(textwrap.dedent(_PIPELINE_INPUT))
    previous = dump.dump_to(tmp_path)
    try:
        out, kernels, stats = pipeline.optimize(fn)
    finally:
        dump.dump_to(previous)
    folder = stats["dump_dir"]
    assert os.path.dirname(folder) == str(tmp_path)
    files = sorted(os.listdir(folder))
    assert files[0] == "00-input.ir"
    assert files[1] == "01-after-constant_folding.ir"
    assert files[2:5] == ["02-after-simplify.ir", "03-after-cse.ir", "04-after-dce.ir"]
    assert files[-2].endswith("-after-fusion.ir") and files[-1].endswith("-kernels.txt")
    # Each IR file parses back, and the last one is the optimized function.
    for f in files[:-1]:
        parse_function(open(os.path.join(folder, f)).read())
    assert open(os.path.join(folder, files[-2])).read().strip() == print_function(out)
    assert f"{len(kernels)} kernel(s)" in open(os.path.join(folder, files[-1])).read()

    compiled = compile_function(out, kernels=kernels)
    dump.dump_compiled(folder, compiled)
    n = len(files)
    extra = sorted(os.listdir(folder))[n:]
    assert extra == [f"{n:02d}-llvm.ll", f"{n + 1:02d}-llvm-opt.ll", f"{n + 2:02d}-asm.s"]
    assert "define" in open(os.path.join(folder, extra[0])).read()


def test_dump_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TFC_DUMP", str(tmp_path))
    fn = parse_function(textwrap.dedent(_PIPELINE_INPUT))
    pipeline.optimize(fn)
    pipeline.optimize(fn)
    assert sorted(os.listdir(tmp_path)) == ["0000-step", "0001-step"]
