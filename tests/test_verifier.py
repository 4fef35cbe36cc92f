"""The verifier accepts valid IR and rejects each kind of malformed IR with a
message that names the function, the instruction (its printed line) and the
problem. Every broken case starts from a valid function and corrupts one
thing."""
import re

import numpy as np
import pytest

from tfcompile.ir import core
from tfcompile.ir.core import Builder, Function, IRError, Module, TensorType, Value
from tfcompile.ir.text import parse_function, print_function
from tfcompile.ir.verifier import verify_function, verify_module


def T(shape, dtype="f32"):
    return TensorType(shape, dtype)


def valid():
    """x:[2,3], v:[3] -> (relu-ish sum, v + 1 written in place)."""
    fn = Function("step")
    b = Builder(fn)
    x = b.param(T((2, 3)), "x:0")
    v = b.param(T((3,)), "Variable:0")
    vb = b.emit("broadcast", [v], dims=[1], shape=[2, 3])          # %0
    s = b.emit("add", [x, vb])                                     # %1
    t = b.emit("transpose", [s], perm=[1, 0])                      # %2
    r = b.emit("reduce", [t], kind="sum", axes=[1])                # %3
    one = b.emit("constant", value=np.ones(3, np.float32))         # %4
    nv = b.emit("add", [v, one])                                   # %5
    d = b.emit("dot", [x, x], transpose_b=True)                    # %6
    b.result(r, "sum:0")
    b.result(nv, "Variable:0", alias_param=1)
    b.result(d, "gram:0")
    return fn


def instr(fn, name):
    return next(i for i in fn.body if i.result.name == name)


def rejects(fn, *fragments):
    with pytest.raises(IRError) as e:
        verify_function(fn)
    msg = str(e.value)
    assert msg.startswith(f"in function @{fn.name}"), msg
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


def test_every_op_has_an_attribute_schema():
    from tfcompile.ir import verifier
    assert set(verifier._REQUIRED) == set(core.OPS)


def test_valid_ir_passes():
    fn = valid()
    assert verify_function(fn) is None
    assert verify_module(Module(fn)) is None


def test_valid_ir_passes_after_a_text_round_trip():
    assert verify_function(parse_function(print_function(valid()))) is None


def test_every_op_with_its_attrs_passes():
    fn = Function()
    b = Builder(fn)
    x = b.param(T((2, 3)))
    p = b.emit("gt", [x, x])
    i = b.emit("convert", [x], dtype="i32")
    c = b.param(T((), "i64"))
    b.emit("iota", shape=[4], dtype="i64", dim=0)
    b.emit("select", [p, x, x])
    b.emit("reshape", [x], shape=[6])
    b.emit("slice", [x], start=[0, 0], limit=[1, 3], stride=[1, 2])
    b.emit("reverse", [x], axes=[1])
    b.emit("concatenate", [x, x], axis=1)
    b.emit("pad", [x], low=[1, 0], high=[0, 1], value=0.5)
    b.emit("argmax", [x], axis=1, dtype="i64")
    b.emit("argmin", [x], axis=0, dtype="i32")
    b.emit("gather", [x, i], axis=0)
    b.emit("rng", [c], dist="uniform", shape=[3], dtype="f32", seed=1, seed2=2)
    b.emit("dot", [x, x], transpose_a=True)
    b.emit("not", [p])
    b.emit("reduce", [p], kind="or", axes=[0, 1])
    assert verify_function(fn) is None


# ----------------------------------------------------------------------------
# Types.

def test_wrong_result_type():
    fn = valid()
    instr(fn, "1").result.type = T((3, 2))
    rejects(fn, "`%1 = add(%arg0, %0) : f32[3,2]`", "result type is f32[3,2]",
            "add of (f32[2,3], f32[2,3]) gives f32[2,3]")


def test_wrong_result_dtype():
    fn = valid()
    instr(fn, "3").result.type = T((3,), "f64")
    rejects(fn, "%3 = reduce", "result type is f64[3]", "gives f32[3]")


def test_operand_type_error_from_inference():
    fn = valid()
    instr(fn, "5").operands[1] = instr(fn, "1").result       # f32[3] + f32[2,3]
    rejects(fn, "%5 = add(%arg1, %1)", "operands must have one type", "f32[3], f32[2,3]")


def test_constant_value_disagrees_with_its_type():
    fn = valid()
    instr(fn, "4").attrs["value"] = np.ones(3, np.float64)
    rejects(fn, "%4 = constant", "result type is f32[3]", "gives f64[3]")


def test_bad_attribute_value_reported_by_inference():
    fn = valid()
    instr(fn, "2").attrs["perm"] = (0, 0)
    rejects(fn, "%2 = transpose", "perm (0, 0) is not a permutation")


# ----------------------------------------------------------------------------
# SSA.

def test_use_before_def():
    fn = valid()
    fn.body[0], fn.body[1] = fn.body[1], fn.body[0]
    rejects(fn, "instruction 0", "%1 = add(%arg0, %0)",
            "operand %0 is used before its definition (instruction 1)")


def test_self_use():
    fn = valid()
    ins = instr(fn, "5")
    ins.operands[1] = ins.result
    rejects(fn, "%5 = add(%arg1, %5)", "operand %5 is used before its definition")


def test_operand_from_another_function():
    fn = valid()
    other = valid()
    instr(fn, "5").operands[1] = instr(other, "4").result
    rejects(fn, "%5 = add", "operand %4 is not the value of that name")


def test_operand_not_in_function():
    fn = valid()
    instr(fn, "5").operands[0] = Value(T((3,)), "ghost")
    rejects(fn, "%5 = add(%ghost, %4)", "operand %ghost is not defined in this function")


def test_duplicate_ssa_name():
    fn = valid()
    instr(fn, "3").result.name = "1"
    rejects(fn, "instruction 3", "%1 is defined twice (first by an earlier instruction)")


def test_instruction_shadowing_a_parameter():
    fn = valid()
    instr(fn, "6").result.name = "arg0"
    rejects(fn, "%arg0 is defined twice (first by a parameter)")


def test_duplicate_parameter_name():
    fn = valid()
    fn.params[1].name = "arg0"
    rejects(fn, "%arg0 names two parameters")


def test_result_not_defined_in_function():
    fn = valid()
    fn.results[0] = instr(valid(), "3").result
    rejects(fn, "result 0 (%3) is not a value of this function")


def test_broken_producer_link():
    fn = valid()
    instr(fn, "2").result.producer = instr(fn, "3")
    rejects(fn, "%2 = transpose", "producer")


# ----------------------------------------------------------------------------
# Ops and attributes.

def test_unknown_op():
    fn = valid()
    instr(fn, "1").op = "frobnicate"
    rejects(fn, "instruction 1", "`%1 = frobnicate(%arg0, %0) : f32[2,3]`",
            "unknown op 'frobnicate'")


@pytest.mark.parametrize("name,attr", [("0", "dims"), ("0", "shape"), ("2", "perm"),
                                       ("3", "kind"), ("3", "axes"), ("4", "value")])
def test_missing_attribute(name, attr):
    fn = valid()
    del instr(fn, name).attrs[attr]
    rejects(fn, f"%{name} = ", f"missing attribute {attr!r}")


@pytest.mark.parametrize("name,attr,value,kind", [
    ("2", "perm", "10", "a tuple of ints"),
    ("2", "perm", (1.0, 0.0), "a tuple of ints"),
    ("3", "kind", 0, "a string"),
    ("6", "transpose_b", 1, "a bool"),
    ("4", "value", [1.0, 1.0, 1.0], "a numpy array"),
])
def test_attribute_of_wrong_kind(name, attr, value, kind):
    fn = valid()
    instr(fn, name).attrs[attr] = value
    rejects(fn, f"%{name} = ", f"attribute {attr!r} must be {kind}, got {value!r}")


def test_attribute_kinds_for_dtype_and_int():
    fn = Function()
    b = Builder(fn)
    x = b.param(T((2, 3)))
    b.emit("argmax", [x], axis=1, dtype="i32")
    b.emit("concatenate", [x, x], axis=0)
    fn.body[0].attrs["dtype"] = "int32"
    rejects(fn, "%0 = argmax", "attribute 'dtype' must be a dtype name")
    fn.body[0].attrs["dtype"] = "i32"
    fn.body[1].attrs["axis"] = True
    rejects(fn, "%1 = concatenate", "attribute 'axis' must be an int, got True")


def test_unexpected_attribute_but_underscore_annotations_pass():
    fn = valid()
    instr(fn, "2").attrs["permutation"] = (1, 0)
    rejects(fn, "%2 = transpose", "unexpected attribute 'permutation' for transpose",
            "allowed: perm")
    del instr(fn, "2").attrs["permutation"]
    instr(fn, "2").attrs["_tf_op"] = "gradients/MatMul_grad/transpose"
    assert verify_function(fn) is None


def test_big_constant_is_elided_in_the_message():
    fn = Function()
    b = Builder(fn)
    c = b.emit("constant", value=np.arange(1000, dtype=np.float32))
    c.producer.result.type = T((999,))
    msg = rejects(fn, "%0 = constant() {value=dense<f32[1000]: ...elided 1000 elements...>} : f32[999]")
    assert len(msg) < 300


# ----------------------------------------------------------------------------
# Names and aliases.

def test_param_names_length():
    fn = valid()
    fn.param_names.pop()
    rejects(fn, "2 parameter(s) but 1 param_names ['x:0']")


def test_result_names_length():
    fn = valid()
    fn.result_names.append("extra:0")
    rejects(fn, "3 result(s) but 4 result_names")


def test_alias_to_missing_result():
    fn = valid()
    fn.aliases[7] = 0
    rejects(fn, "alias 7 -> 0: no result 7 (the function has 3 result(s))")


def test_alias_to_missing_param():
    fn = valid()
    fn.aliases[1] = 5
    rejects(fn, "alias 1 -> 5: no parameter 5 (the function has 2 parameter(s))")


def test_alias_type_mismatch():
    fn = valid()
    fn.aliases = {2: 1}          # gram:0 f32[2,2] into Variable:0 f32[3]
    rejects(fn, "alias 2 -> 1", "'gram:0' is f32[2,2]", "%arg1 'Variable:0' is f32[3]")


def test_param_aliased_twice():
    fn = valid()
    fn.aliases[0] = 1            # sum:0 is f32[3] like Variable:0
    rejects(fn, "parameter %arg1 is aliased by results")


def test_printing_a_function_with_bad_aliases_does_not_fail():
    fn = valid()
    fn.aliases[9] = 4
    assert "invalid aliases" in print_function(fn)


# ----------------------------------------------------------------------------
# Modules.

def test_module_entry_missing():
    mod = Module(valid())
    mod.entry_name = "main"
    with pytest.raises(IRError, match=re.escape("module entry @main is not one of its "
                                                "functions ['@step']")):
        verify_module(mod)


def test_module_key_mismatch():
    mod = Module(valid())
    other = valid()
    other.name = "body"
    mod.functions["cond"] = other
    with pytest.raises(IRError, match="holds function @body under the name @cond"):
        verify_module(mod)


def test_module_names_the_broken_function():
    mod = Module(valid())
    body = valid()
    body.name = "loop_body"
    instr(body, "1").op = "nope"
    mod.add(body)
    with pytest.raises(IRError, match=r"in function @loop_body, instruction 1 .*unknown op"):
        verify_module(mod)


def test_corrupt_text_parses_and_fails_verification():
    text = print_function(valid()).replace("%3 = reduce(%2) {axes=[1]",
                                           "%3 = reduce(%2) {axes=[0]")
    assert text != print_function(valid())
    fn = parse_function(text)
    rejects(fn, "%3 = reduce(%2) {axes=[0]", "result type is f32[3]", "gives f32[2]")
