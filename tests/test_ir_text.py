"""The IR text form: print -> parse -> print is byte-identical, parsing
rebuilds an equivalent function (checked field by field, constants bit for
bit), and malformed text fails with the line that is wrong."""
import math
import re
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tfcompile.ir import core
from tfcompile.ir.core import Builder, Function, IRError, Module, TensorType
from tfcompile.ir.text import (format_instr, parse_function, parse_module, print_function,
                               print_module)
from tfcompile.ir.verifier import verify_function


def T(shape, dtype="f32"):
    return TensorType(shape, dtype)


# ----------------------------------------------------------------------------
# An independent equality: field by field, arrays by their bytes.

def same_attr(a, b):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, float):
        return isinstance(b, float) and struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, (tuple, list)):
        return (isinstance(b, tuple) and len(a) == len(b)
                and all(same_attr(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


def assert_same_function(a: Function, b: Function):
    assert a.name == b.name
    assert [(p.name, p.type) for p in a.params] == [(p.name, p.type) for p in b.params]
    assert all(p.producer is None for p in b.params)
    assert a.param_names == b.param_names
    assert a.result_names == b.result_names
    assert a.aliases == b.aliases
    assert len(a.body) == len(b.body)
    for x, y in zip(a.body, b.body):
        assert (x.op, x.result.name, x.type) == (y.op, y.result.name, y.type)
        assert [o.name for o in x.operands] == [o.name for o in y.operands]
        assert y.result.producer is y
        assert sorted(x.attrs) == sorted(y.attrs)
        for k in x.attrs:
            assert same_attr(x.attrs[k], y.attrs[k]), (x.op, k, x.attrs[k], y.attrs[k])
    assert [r.name for r in a.results] == [r.name for r in b.results]
    # Operands and results are the parsed function's own Values.
    own = {id(p) for p in b.params} | {id(i.result) for i in b.body}
    assert all(id(o) in own for i in b.body for o in i.operands)
    assert all(id(r) in own for r in b.results)


def round_trip(fn):
    text = print_function(fn)
    back = parse_function(text)
    assert print_function(back) == text
    assert_same_function(fn, back)
    return back


# ----------------------------------------------------------------------------
# A function that uses every op in the table.

def build_every_op():
    fn = Function("every_op")
    b = Builder(fn)
    x = b.param(T((2, 3)), "x:0")
    v = b.param(T((3,)), "Variable:0")
    p = b.param(T((2, 3), "bool"), "mask")
    idx = b.param(T((4,), "i32"), "indices")
    ctr = b.param(T((), "i64"), "rng_counter")
    i = b.param(T((2, 3), "i32"), "ints")
    used = set()

    def emit(op, operands=(), **attrs):
        used.add(op)
        return b.emit(op, operands, **attrs)

    consts = [
        np.array([1.5, -np.inf, np.inf, np.nan, -0.0, 1e-45, 3.4028235e38], np.float32),
        np.array([[0.1, 5e-324], [-1.7976931348623157e308, np.nan]], np.float64),
        np.array(2.5, np.float32),                       # scalar
        np.zeros((0,), np.float32), np.zeros((2, 0, 3), np.float64),
        np.array([True, False, True]), np.array(True),
        np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0, -1], np.int64),
        np.array([np.iinfo(np.int32).min, np.iinfo(np.int32).max], np.int32),
        np.full((4, 5), 7, np.int32),                    # splat
        np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7,
    ]
    for c in consts:
        emit("constant", value=c)
    emit("iota", shape=[2, 3], dtype="i32", dim=1)
    for op in core.UNARY_OPS:
        emit(op, [p] if op == "not" else [x])
    for op in core.BINARY_OPS:
        emit(op, [p, p] if op in ("and", "or") else [x, x])
    emit("div", [i, i])
    for op in core.COMPARE_OPS:
        emit(op, [x, x])
    emit("select", [p, x, x])
    emit("convert", [x], dtype="i64")
    vb = emit("broadcast", [v], dims=[1], shape=[2, 3])
    emit("reshape", [vb], shape=[3, 2])
    emit("transpose", [x], perm=[1, 0])
    emit("slice", [x], start=[0, 1], limit=[2, 3], stride=[1, 2])
    emit("reverse", [x], axes=[0, 1])
    emit("concatenate", [x, vb, x], axis=0)
    emit("pad", [x], low=[0, 1], high=[1, 0], value=float("-inf"))
    emit("pad", [i], low=[1, 1], high=[0, 2], value=-7)
    emit("pad", [p], low=[0, 0], high=[1, 0], value=True)
    for kind in core.REDUCE_KINDS:
        emit("reduce", [p if kind in ("and", "or") else x], kind=kind, axes=[1])
    emit("reduce", [x], kind="sum", axes=[])
    emit("argmax", [x], axis=1, dtype="i32")
    emit("argmin", [x], axis=0, dtype="i64")
    emit("dot", [x, x], transpose_b=True)
    emit("dot", [x, x], transpose_a=True, transpose_b=False)
    img = emit("reshape", [x], shape=[1, 2, 3, 1])
    filt = emit("reshape", [x], shape=[2, 1, 1, 3])
    cv = emit("conv2d", [img, filt], strides=[1, 2], dilations=[1, 1])
    emit("conv2d_filter", [img, cv], strides=[1, 2], dilations=[1, 1], window=[2, 1])
    g = emit("gather", [x, idx], axis=1)
    emit("argwhere", [p], count=2)
    r = emit("rng", [ctr], dist="truncated_normal", shape=[2, 2], dtype="f64",
             seed=2**40, seed2=-3)
    assert used == set(core.OPS), set(core.OPS) - used
    b.result(g, "gather:0")
    b.result(r)
    nv = b.emit("add", [v, v])
    b.result(nv, "Variable:0", alias_param=1)
    return fn


def test_every_op_round_trips_and_verifies():
    fn = build_every_op()
    verify_function(fn)
    back = round_trip(fn)
    verify_function(back)


def test_repr_is_the_printed_text():
    fn = build_every_op()
    assert repr(fn) == print_function(fn)


def test_readable_layout():
    fn = Function()
    b = Builder(fn)
    x = b.param(T((2, 3)), "x:0")
    v = b.param(T((3,)), "Variable:0")
    y = b.emit("add", [x, b.emit("broadcast", [v], dims=[1], shape=[2, 3])])
    b.emit("constant", value=np.array([1.5, -np.inf, np.nan], np.float32))
    b.emit("reduce", [y], axes=[1], kind="sum")
    b.result(y, "add:0")
    b.result(v, "Variable:0", alias_param=1)
    lines = print_function(fn).split("\n")
    assert lines[0] == ('func @main(%arg0 "x:0": f32[2,3], %arg1 "Variable:0": f32[3]) -> '
                        '("add:0": f32[2,3], "Variable:0": f32[3] aliases %arg1) {')
    assert lines[1] == "  %0 = broadcast(%arg1) {dims=[1], shape=[2,3]} : f32[2,3]"
    assert lines[2] == "  %1 = add(%arg0, %0) : f32[2,3]"
    assert lines[3] == "  %2 = constant() {value=dense<[1.5, -inf, nan]>} : f32[3]"
    assert lines[4] == '  %3 = reduce(%1) {axes=[1], kind="sum"} : f32[2]'
    assert lines[5:] == ["  return %1, %arg1", "}"]


def test_long_header_wraps_and_parses():
    fn = Function("wide")
    b = Builder(fn)
    ps = [b.param(T((8, 8)), f"layer_{k}/kernel:0") for k in range(6)]
    for k, q in enumerate(ps):
        b.result(q, f"out_{k}")
    text = print_function(fn)
    assert text.startswith("func @wide(\n")
    assert max(len(line) for line in text.split("\n")) < 100
    round_trip(fn)


# ----------------------------------------------------------------------------
# Constants, exactly.

def constant_fn(arr):
    fn = Function("c")
    b = Builder(fn)
    b.result(b.emit("constant", value=arr))
    return fn


def assert_bits_equal(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def parsed_constant(arr):
    back = round_trip(constant_fn(arr))
    out = back.body[0].attrs["value"]
    assert_bits_equal(arr, out)
    return out


SPECIAL_CONSTANTS = [
    np.array([0.1, 1 / 3, 1e-40, 1e-45, -0.0, 0.0, 3.4028235e38, 16777217.0], np.float32),
    np.array([0.1, 1 / 3, 5e-324, 2.2250738585072014e-308, 1e308, -0.0], np.float64),
    np.array([np.inf, -np.inf, np.nan], np.float32),
    np.array([np.inf, -np.inf, np.nan], np.float64),
    np.array(-np.inf, np.float64),
    np.array(0, np.int32),
    np.array(False),
    np.zeros((0,), np.int64), np.zeros((0, 3), np.float32), np.zeros((3, 0), bool),
    np.zeros((1, 0, 2), np.float64),
    np.array([[[1, 2]], [[3, 4]]], np.int64),
    np.array([2**63 - 1, -2**63], np.int64),
    np.array([2**31 - 1, -2**31], np.int32),
    np.full((3, 2), np.nan, np.float32),
    np.full((2, 2), -0.0, np.float64),
    np.full((5,), True),
    np.array([1.0], np.float32),
]


@pytest.mark.parametrize("arr", SPECIAL_CONSTANTS, ids=lambda a: f"{a.dtype}{list(a.shape)}")
def test_special_constants_round_trip(arr):
    parsed_constant(arr)


def test_nan_payloads_and_signs_are_kept():
    f32 = np.array([0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7F800001, 0xFFFFFFFF],
                   np.uint32).view(np.float32)
    f64 = np.array([0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001],
                   np.uint64).view(np.float64)
    text = print_function(constant_fn(f32))
    assert "nan:0xffc00000" in text and "nan:0x7fc00001" in text
    parsed_constant(f32)
    parsed_constant(f64)


def test_splat_prints_once():
    text = print_function(constant_fn(np.zeros((100, 100), np.float32)))
    assert "dense<0.0>" in text
    assert parsed_constant(np.zeros((100, 100), np.float32)).shape == (100, 100)


def test_f32_prints_shortest_form():
    text = print_function(constant_fn(np.array([0.1, 0.7], np.float32)))
    assert "dense<[0.1, 0.7]>" in text


def float_arrays(dtype, uint):
    """Arrays of every bit pattern: NaN payloads, denormals, signed zeros."""
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    return hnp.arrays(uint, shapes).map(lambda a: a.view(dtype))


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    float_arrays(np.float32, np.uint32),
    float_arrays(np.float64, np.uint64),
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
    hnp.arrays(st.sampled_from([np.int32, np.int64, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))))
def test_random_constants_round_trip(arr):
    parsed_constant(arr)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**70, 2**70),
                 st.booleans()))
def test_scalar_attrs_round_trip(value):
    fn = Function()
    b = Builder(fn)
    x = b.param(T((2,)))
    b.result(b.emit("pad", [x], low=[1], high=[0], value=value))
    back = round_trip(fn)
    assert same_attr(value, back.body[0].attrs["value"])


def test_attr_kinds_round_trip():
    fn = Function()
    b = Builder(fn)
    x = b.param(T((2,)))
    y = b.emit("neg", [x])
    y.producer.attrs.update({
        "_note": 'quote " backslash \\ newline \n tab \t unicode ü // not a comment',
        "_none": None, "_nested": ((1, 2), ("a", 2.5), ()), "_float_int": (1.0, 1),
        "_flag": False, "_table": np.array([[1, 2]], np.int32), "weird key": 3})
    b.result(y)
    back = round_trip(fn)
    assert back.body[0].attrs["_float_int"] == (1.0, 1)
    assert type(back.body[0].attrs["_float_int"][0]) is float


def test_ints_and_floats_stay_distinct():
    fn = Function()
    b = Builder(fn)
    x = b.param(T((2,)))
    b.result(b.emit("pad", [x], low=[1], high=[0], value=0))
    b.result(b.emit("pad", [x], low=[1], high=[0], value=0.0))
    back = round_trip(fn)
    assert type(back.body[0].attrs["value"]) is int
    assert type(back.body[1].attrs["value"]) is float


def test_odd_names_are_quoted():
    fn = Function("my fn")
    b = Builder(fn)
    x = b.param(T((2,)), 'we"ird\nname')
    x.name = "input value"
    y = b.emit("neg", [x])
    y.name = "ü"
    b.result(y, "")
    text = print_function(fn)
    assert '%"input value"' in text and '@"my fn"' in text
    round_trip(fn)


# ----------------------------------------------------------------------------
# Elided dumps.

def test_elided_constants_are_marked_and_refused():
    fn = Function()
    b = Builder(fn)
    b.result(b.emit("constant", value=np.arange(12, dtype=np.float32)))
    b.result(b.emit("constant", value=np.arange(3, dtype=np.float32)))
    b.result(b.emit("constant", value=np.ones(50, np.float32)))
    text = print_function(fn, elide_constants_over=5)
    assert "dense<...elided 12 elements...>" in text
    assert "dense<[0.0, 1.0, 2.0]>" in text        # small ones stay
    assert "dense<1.0>" in text                      # a splat is already short
    with pytest.raises(IRError, match=r"line 2, column \d+: .*elided"):
        parse_function(text)


# ----------------------------------------------------------------------------
# Modules.

def small_fn(name, op):
    fn = Function(name)
    b = Builder(fn)
    b.result(b.emit(op, [b.param(T((3,)), "x")]), "y")
    return fn


def test_module_round_trip_keeps_order_and_entry():
    mod = Module()
    mod.add(small_fn("body", "exp"))
    mod.add(small_fn("main", "neg"), entry=True)
    mod.add(small_fn("cond", "abs"))
    text = print_module(mod)
    assert "\nentry func @main(" in text and text.count("entry ") == 1
    back = parse_module(text)
    assert print_module(back) == text
    assert back.entry_name == "main"
    assert list(back.functions) == ["body", "main", "cond"]
    for name in mod.functions:
        assert_same_function(mod.functions[name], back.functions[name])


def test_module_without_marker_takes_first_as_entry():
    text = print_function(small_fn("a", "exp")) + "\n" + print_function(small_fn("b", "neg"))
    assert parse_module(text).entry_name == "a"


def test_module_errors():
    f = print_function(small_fn("a", "exp"))
    with pytest.raises(IRError, match="line 5.*@a is defined twice"):
        parse_module(f + "\n" + f)
    g = print_function(small_fn("b", "exp"))
    with pytest.raises(IRError, match="two entry functions"):
        parse_module("entry " + f + "\nentry " + g)


# ----------------------------------------------------------------------------
# Hand-written text.

HAND_WRITTEN = """
// The design example, written by hand with comments and free spacing.
func @main(%arg0 "x:0": f32[2, 3], %arg1 "Variable:0": f32[3])
    -> ("add:0": f32[2,3], "Variable:0": f32[3] aliases %arg1) {
  %0 = broadcast(%arg1) {shape=[2,3], dims=[1]} : f32[2,3]   // repeat rows
  %sum = add(%arg0, %0) : f32[2,3]
  %2 = constant() {value=dense<[1.5, -inf, nan]>} : f32[3]
  return %sum, %arg1
}
"""


def test_hand_written_text_matches_builder():
    fn = parse_function(HAND_WRITTEN)
    verify_function(fn)
    ref = Function()
    b = Builder(ref)
    x = b.param(T((2, 3)), "x:0")
    v = b.param(T((3,)), "Variable:0")
    s = b.emit("add", [x, b.emit("broadcast", [v], shape=[2, 3], dims=[1])])
    s.name = "sum"
    b.emit("constant", value=np.array([1.5, -np.inf, np.nan], np.float32))
    b.result(s, "add:0")
    b.result(v, "Variable:0", alias_param=1)
    assert print_function(fn) == print_function(ref)


def test_unnamed_params_and_results_get_default_names():
    fn = parse_function("func @f(%a: f32[2]) -> (f32[2]) {\n  return %a\n}")
    assert fn.param_names == ["a"] and fn.result_names == ["out0"]


# ----------------------------------------------------------------------------
# Parse errors name the line and what was expected.

GOOD = ['func @f(%arg0 "x": f32[2,3]) -> ("y": f32[2,3]) {',
        '  %0 = neg(%arg0) : f32[2,3]',
        '  %1 = constant() {value=dense<[1, 2]>} : i32[2]',
        '  return %0',
        '}']


def edit(line, new):
    lines = list(GOOD)
    lines[line - 1] = new
    return "\n".join(lines)


PARSE_ERRORS = [
    (edit(2, "  %0 = neg(%arg0) f32[2,3]"), 2, "expected ':' and the result type"),
    (edit(2, "  %0 = neg(%arg0) : f16[2,3]"), 2, "unknown dtype 'f16'"),
    (edit(2, "  %0 = neg(%arg9) : f32[2,3]"), 2, "use of undefined value %arg9"),
    (edit(2, "  %0 = neg(%1) : f32[2,3]"), 2, "use of undefined value %1"),
    (edit(3, "  %0 = constant() {value=dense<[1, 2]>} : i32[2]"), 3, "%0 is defined twice"),
    (edit(3, "  %1 = constant() {value=dense<[1, 2, 3]>} : i32[2]"), 3, "has 3 elements"),
    (edit(3, "  %1 = constant() {value=dense<[[1, 2]]>} : i32[2]"), 3, "brackets"),
    (edit(3, "  %1 = constant() {value=dense<[1, 2.5]>} : i32[2]"), 3, "bad i32 element '2.5'"),
    (edit(3, "  %1 = constant() {value=dense<[1, x]>} : i32[2]"), 3, "bad i32 element 'x'"),
    (edit(3, "  %1 = constant() {value=dense<[1, 2147483648]>} : i32[2]"), 3, "out of range"),
    (edit(3, "  %1 = constant() {value=dense<[1, 2]} : i32[2]"), 3, "'>'"),
    (edit(3, "  %1 = constant() {value=dense<[1.0, nan:0x3f800000]>} : f32[2]"), 3,
     "not a f32 NaN"),
    (edit(3, "  %1 = constant() {value=dense<[true, maybe]>} : bool[2]"), 3, "'maybe'"),
    (edit(3, "  %1 = neg() {value=dense<[1, 2]>} : i32[2]"), 3, "needs a type prefix"),
    (edit(3, "  %1 = constant() {value=12abc} : i32[2]"), 3, "attribute value"),
    (edit(3, "  %1 = constant() {value=1, value=2} : i32[2]"), 3, "given twice"),
    (edit(3, "  %1 = constant() {value=1 : i32[2]"), 3, "',' or '}'"),
    (edit(4, "  return %0, %1"), 4, "declares 1 result(s) but return gives 2"),
    (edit(4, "  return %1"), 1, "declared f32[2,3] but return gives %1: i32[2]"),
    (edit(4, "  retrun %0"), 4, "instruction"),
    (edit(1, 'func @f(%arg0 "x": f32[2,3]) -> ("y": f32[2,3] aliases %0) {'), 1,
     "not a parameter"),
    (edit(1, 'func f(%arg0 "x": f32[2,3]) -> ("y": f32[2,3]) {'), 1, "function name"),
    (edit(1, 'func @f(%arg0 "x" f32[2,3]) -> ("y": f32[2,3]) {'), 1, "':'"),
    (edit(5, "} trailing"), 5, "end of input"),
    ("\n".join(GOOD[:3]), 3, "end of input"),
]


@pytest.mark.parametrize("text,line,fragment", PARSE_ERRORS)
def test_parse_errors_name_the_line(text, line, fragment):
    with pytest.raises(IRError) as e:
        parse_function(text)
    msg = str(e.value)
    assert re.match(rf"line {line}, column \d+: ", msg), msg
    assert fragment in msg, msg


def test_good_text_parses():
    fn = parse_function("\n".join(GOOD))
    verify_function(fn)
    assert fn.body[1].attrs["value"].tolist() == [1, 2]


def test_parser_is_syntactic_verifier_is_semantic():
    # Well-formed text with a wrong type parses; the verifier catches it.
    fn = parse_function(edit(3, "  %1 = exp(%arg0) : f32[3,2]"))
    with pytest.raises(IRError, match=r"result type is f32\[3,2\]"):
        verify_function(fn)


def test_format_instr_is_the_body_line():
    fn = build_every_op()
    lines = print_function(fn).split("\n")
    for ins in fn.body:
        assert "  " + format_instr(ins) in lines
    assert math.isnan(parse_function(print_function(fn)).body[0].attrs["value"][3])
