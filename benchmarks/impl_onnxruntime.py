"""onnxruntime peer: ONNX models built by hand with onnx.helper (no converter),
one InferenceSession per case with its own thread count. Inference only: it
has no training step here."""
from __future__ import annotations

import numpy as np

from .harness import Impl

NAME = "onnxruntime"
OPSET = 17
IR_VERSION = 8


def available():
    import onnx  # noqa: F401 - needed to build the models
    import onnxruntime
    return onnxruntime.__version__


def _session(nodes, inputs, outputs, initializers, threads):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    def vinfo(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
    graph = helper.make_graph(
        nodes, "bench",
        [vinfo(n, s) for n, s in inputs], [vinfo(n, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def _impl(sess, feed):
    return Impl(lambda: sess.run(None, feed)[0])


def elementwise(d, threads):
    from onnx import helper
    n = d.x.shape[0]
    nodes = [helper.make_node("Mul", ["x", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["z"]),
             helper.make_node("Relu", ["z"], ["r"]),
             helper.make_node("Mul", ["r", "half"], ["rh"]),
             helper.make_node("Tanh", ["x"], ["t"]),
             helper.make_node("Add", ["rh", "t"], ["y"])]
    sess = _session(nodes, [("x", [n]), ("w", list(d.w.shape)), ("b", list(d.b.shape))], [("y", [n])],
                    [("half", np.float32(0.5))], threads)
    return _impl(sess, {"x": d.x, "w": d.w, "b": d.b})


def matmul(d, threads):
    from onnx import helper
    m, k = d.a.shape
    n = d.b.shape[1]
    sess = _session([helper.make_node("MatMul", ["a", "b"], ["c"])],
                    [("a", [m, k]), ("b", [k, n])], [("c", [m, n])], [], threads)
    return _impl(sess, {"a": d.a, "b": d.b})


def mlp_forward(d, threads):
    from onnx import helper
    nodes, inits, h = [], [], "x"
    for i, (W, b) in enumerate(d.params):
        inits += [(f"W{i}", W), (f"b{i}", b)]
        nodes += [helper.make_node("MatMul", [h, f"W{i}"], [f"mm{i}"]),
                  helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"z{i}"])]
        h = f"z{i}"
        if i < len(d.params) - 1:
            nodes.append(helper.make_node("Relu", [h], [f"h{i}"]))
            h = f"h{i}"
    nodes.append(helper.make_node("Identity", [h], ["logits"]))
    sess = _session(nodes, [("x", ["batch", d.x.shape[1]])],
                    [("logits", ["batch", d.params[-1][0].shape[1]])], inits, threads)
    return _impl(sess, {"x": d.x})


def dispatch(d, threads):
    from onnx import helper
    nodes = [helper.make_node("Mul", ["x", "two"], ["x2"]),
             helper.make_node("Add", ["x2", "one"], ["y"])]
    sess = _session(nodes, [("x", [])], [("y", [])],
                    [("two", np.float32(2.0)), ("one", np.float32(1.0))], threads)
    return _impl(sess, {"x": d.x})
