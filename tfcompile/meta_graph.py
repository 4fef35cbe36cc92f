"""Meta graphs: a graph, its collections and its saver's settings as one file.

`export_meta_graph` writes, and `import_meta_graph` reads back, the whole
graph in a documented JSON format (no pickle: loading a file never runs code
or builds arbitrary objects), so a trained model is restored in a fresh
process and fed by tensor name. The file is UTF-8 JSON::

    {"format": "tfcompile-meta-graph", "version": 1,
     "meta_info_def": {"tensorflow_version": "...", "tags": [...],
                       "stripped_op_list": ["Add", "MatMul", ...]},
     "graph_def": {"versions": {"producer": 134}, "node": [NODE, ...]},
     "saver_def": SAVER or null,
     "collection_def": {"<key>": [ITEM, ...], ...}}

NODE, in creation order (every input before its consumer)::

    {"name": "dense/MatMul", "op": "MatMul",
     "input": ["x:0", "dense/kernel/read:0"],     # tensor names
     "control_input": ["init"],                   # op names
     "attr": {"T": ATTR, "transpose_a": ATTR, ...},
     "output": [{"dtype": "float32", "shape": [null, 10]}]}  # null: unknown

ATTR is a tagged value, so every type round-trips exactly:
``{"type": "dtype", "value": "float32"}``, ``{"type": "shape", "value":
[null, 784]}`` (value null: unknown rank), ``{"type": "int"|"float"|"bool"|
"str", "value": ...}`` (floats that JSON can't hold as "nan", "inf",
"-inf"), ``{"type": "none"}``, ``{"type": "bytes", "data": BASE64}``,
``{"type": "tensor"|"scalar", "dtype": "float32", "shape": [2, 3],
"data": BASE64}`` (a numpy array or numpy scalar: raw little-endian C-order
bytes), ``{"type": "list"|"tuple", "value": [ATTR, ...]}``,
``{"type": "dict", "value": [[KEY, ATTR], ...]}`` (string keys).

ITEM is one collection entry::

    {"kind": "variable", "variable_name": "W:0", "initializer_name": "W/Assign",
     "snapshot_name": "W/read:0", "initial_value_name": "W/initial_value:0",
     "trainable": true}
    {"kind": "operation", "name": "train"}   {"kind": "tensor", "name": "loss:0"}
    {"kind": "str"|"int"|"float"|"bool", "value": ...}
    {"kind": "saver", "saver_def": SAVER}

Entries of other types are left out with a warning, as TF does. Importing
recreates each op under its own name (prefixed by `import_scope`), and the
Python `Variable` objects around the imported VariableV2 / Assign / read ops,
without creating any new op. SAVER is `train.saver.SaverDef.to_dict()`.
"""
from __future__ import annotations

import base64
import json
import math
import os
import warnings

import numpy as np

from . import dtypes as _dt
from .checkpoint_io import _atomic_write
from .graph import Graph, Operation, Tensor, get_default_graph
from .tensor_shape import Dimension, TensorShape
from .variables import Variable

__all__ = ["MetaGraphDef", "export_meta_graph", "import_meta_graph",
           "read_meta_graph_file", "write_graph", "graph_to_dict",
           "import_graph_from_dict"]

FORMAT_NAME = "tfcompile-meta-graph"
GRAPH_FORMAT_NAME = "tfcompile-graph"
FORMAT_VERSION = 1


class MetaGraphDef:
    """The parts of a meta graph (TF's MetaGraphDef proto, as plain data)."""

    def __init__(self, meta_info_def=None, graph_def=None, saver_def=None,
                 collection_def=None):
        self.meta_info_def = dict(meta_info_def or {})
        self.graph_def = dict(graph_def or {"node": []})
        self.saver_def = saver_def
        self.collection_def = dict(collection_def or {})

    def to_dict(self) -> dict:
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                "meta_info_def": self.meta_info_def,
                "graph_def": self.graph_def,
                "saver_def": self.saver_def.to_dict() if self.saver_def else None,
                "collection_def": self.collection_def}

    def to_json(self, as_text=True) -> str:
        # allow_nan=False: non-finite floats are tagged strings already, and
        # this keeps the file strict JSON.
        if as_text:
            return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    def SerializeToString(self) -> bytes:  # TF's proto method name
        return self.to_json(as_text=False).encode("utf-8")

    @classmethod
    def from_dict(cls, d, source="<meta graph>"):
        from .train.saver import SaverDef
        if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
            raise ValueError(f"{source} is not a tfcompile meta graph (expected "
                             f"a JSON object with \"format\": \"{FORMAT_NAME}\")")
        if d.get("version") != FORMAT_VERSION:
            raise ValueError(f"{source}: meta graph format version "
                             f"{d.get('version')!r} is not supported (this "
                             f"library reads version {FORMAT_VERSION})")
        graph_def = d.get("graph_def")
        if not isinstance(graph_def, dict) or not isinstance(graph_def.get("node"), list):
            raise ValueError(f"{source}: \"graph_def\" must be an object with a "
                             "\"node\" list")
        saver = d.get("saver_def")
        return cls(d.get("meta_info_def") or {}, graph_def,
                   SaverDef.from_dict(saver) if saver else None,
                   d.get("collection_def") or {})

    @classmethod
    def FromString(cls, data):
        return cls.from_dict(_parse_json(data, "<bytes>"), "<bytes>")

    def __repr__(self):
        return (f"<MetaGraphDef: {len(self.graph_def.get('node', []))} nodes, "
                f"collections {sorted(self.collection_def)}, "
                f"saver {'yes' if self.saver_def else 'no'}>")


def _parse_json(data, source):
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{source} is not a meta graph file (not UTF-8 "
                             f"text: {e})") from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise ValueError(f"{source} is not a valid meta graph file (JSON "
                         f"error: {e}); the file may be truncated") from None


# ---------------------------------------------------------------------------
# Attribute values

def encode_attr(value, where=""):
    """One attr value as tagged JSON; TypeError naming `where` if unsupported."""
    if value is None:
        return {"type": "none"}
    # numpy first: np.float64 is also a Python float.
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.dtype.name not in _NP_DTYPES:
            raise TypeError(f"{where}: can't serialize a numpy value of dtype "
                            f"{arr.dtype} (supported: {', '.join(_NP_DTYPES)})")
        le = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
        return {"type": "scalar" if isinstance(value, np.generic) else "tensor",
                "dtype": arr.dtype.name, "shape": list(arr.shape),
                "data": base64.b64encode(le.tobytes(order="C")).decode("ascii")}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, _dt.DType):
        return {"type": "dtype", "value": value.name}
    if isinstance(value, TensorShape):
        return {"type": "shape",
                "value": None if value.ndims is None else value.as_list()}
    if isinstance(value, Dimension):
        return {"type": "int", "value": value.value} if value.value is not None \
            else {"type": "none"}
    if isinstance(value, int):
        return {"type": "int", "value": int(value)}
    if isinstance(value, float):
        return {"type": "float", "value": _float_to_json(value)}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, bytes):
        return {"type": "bytes", "data": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return {"type": "list" if isinstance(value, list) else "tuple",
                "value": [encode_attr(v, where) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: can't serialize a dict with non-string keys")
        return {"type": "dict", "value": [[k, encode_attr(v, where)]
                                          for k, v in value.items()]}
    raise TypeError(f"{where}: can't serialize a value of type "
                    f"{type(value).__name__} ({value!r:.60})")


_NP_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
              "uint32", "uint64", "float16", "float32", "float64")


def _float_to_json(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _float_from_json(x, where):
    if isinstance(x, str):
        if x in ("nan", "inf", "-inf"):
            return float(x)
        raise ValueError(f"{where}: bad float {x!r}")
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise ValueError(f"{where}: bad float {x!r}")


def decode_attr(d, where=""):
    """Inverse of encode_attr; ValueError naming `where` on malformed input."""
    if not isinstance(d, dict) or "type" not in d:
        raise ValueError(f"{where}: malformed attr value {d!r:.80}")
    kind, v = d["type"], d.get("value")
    if kind == "none":
        return None
    if kind == "bool" and isinstance(v, bool):
        return v
    if kind == "int" and isinstance(v, int) and not isinstance(v, bool):
        return v
    if kind == "float":
        return _float_from_json(v, where)
    if kind == "str" and isinstance(v, str):
        return v
    if kind == "dtype" and isinstance(v, str):
        try:
            return _dt.as_dtype(v)
        except TypeError:
            raise ValueError(f"{where}: unknown dtype {v!r}") from None
    if kind == "shape":
        return _shape_from_json(v, where)
    if kind == "bytes":
        return _b64(d.get("data"), where)
    if kind in ("tensor", "scalar"):
        dtype, shape = d.get("dtype"), d.get("shape")
        if dtype not in _NP_DTYPES:
            raise ValueError(f"{where}: unsupported tensor dtype {dtype!r}")
        if not isinstance(shape, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise ValueError(f"{where}: bad tensor shape {shape!r}")
        raw = _b64(d.get("data"), where)
        want = np.dtype(dtype).newbyteorder("<")
        count = int(np.prod(shape, dtype=np.int64))
        if len(raw) != count * want.itemsize:
            raise ValueError(f"{where}: a {dtype} tensor of shape {shape} needs "
                             f"{count * want.itemsize} bytes, the file has {len(raw)}")
        arr = np.frombuffer(raw, dtype=want).astype(np.dtype(dtype)).reshape(shape)
        return arr[()] if kind == "scalar" else arr
    if kind in ("list", "tuple") and isinstance(v, list):
        items = [decode_attr(x, where) for x in v]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and isinstance(v, list):
        out = {}
        for pair in v:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ValueError(f"{where}: malformed dict entry {pair!r:.80}")
            out[pair[0]] = decode_attr(pair[1], where)
        return out
    raise ValueError(f"{where}: malformed attr value of type {kind!r}: {d!r:.80}")


def _b64(text, where):
    if not isinstance(text, str):
        raise ValueError(f"{where}: missing base64 data")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ValueError(f"{where}: bad base64 data") from None


def _shape_from_json(v, where):
    if v is None:
        return TensorShape(None)
    if isinstance(v, list) and all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
            for d in v):
        return TensorShape(v)
    raise ValueError(f"{where}: bad shape {v!r}")


# ---------------------------------------------------------------------------
# Graphs

def _strip(name, scope):
    """`name` without the leading `scope/`; None if it lies outside the scope."""
    if not scope:
        return name
    if name.startswith(scope + "/"):
        return name[len(scope) + 1:]
    return None


def _prefix(name, scope):
    return f"{scope}/{name}" if scope else name


def _node_dict(op, export_scope):
    where = f"op {op.name!r} ({op.type})"
    inputs = []
    for t in op.inputs:
        n = _strip(t.name, export_scope)
        if n is None:
            raise ValueError(f"Cannot export {where} under scope {export_scope!r}: its "
                             f"input {t.name} lies outside that scope")
        inputs.append(n)
    controls = []
    for c in op.control_inputs:
        n = _strip(c.name, export_scope)
        if n is None:
            raise ValueError(f"Cannot export {where} under scope {export_scope!r}: its "
                             f"control input {c.name} lies outside that scope")
        controls.append(n)
    attrs = {k: encode_attr(v, f"{where}, attr {k!r}") for k, v in op.attrs.items()}
    outputs = [{"dtype": t.dtype.name,
                "shape": None if t.shape.ndims is None else t.shape.as_list()}
               for t in op.outputs]
    return {"name": _strip(op.name, export_scope), "op": op.type, "input": inputs,
            "control_input": controls, "attr": attrs, "output": outputs}


def graph_to_dict(graph, export_scope=None):
    """The graph's nodes in the file format (the "graph_def" part)."""
    scope = (export_scope or "").rstrip("/")
    ops = [op for op in graph.get_operations() if _strip(op.name, scope) is not None]
    return {"versions": {"producer": 134},
            "node": [_node_dict(op, scope) for op in ops]}


def _topological(nodes, source):
    """Nodes reordered so every input comes first (already so for files this
    module writes; kept for files edited by hand)."""
    by_name = {}
    for n in nodes:
        if n["name"] in by_name:
            raise ValueError(f"{source}: two nodes are named {n['name']!r}")
        by_name[n["name"]] = n
    order, state = [], {}
    for start in nodes:
        stack = [(start, False)]
        while stack:
            n, done = stack.pop()
            name = n["name"]
            if done:
                state[name] = 2
                order.append(n)
                continue
            if state.get(name) == 2:
                continue
            if state.get(name) == 1:
                raise ValueError(f"{source}: the graph has a cycle through {name!r}")
            state[name] = 1
            stack.append((n, True))
            for inp in n["input"]:
                dep = by_name.get(inp.rpartition(":")[0])
                if dep is None:
                    raise ValueError(f"{source}: node {name!r} has input {inp!r}, "
                                     "which no node of the graph produces")
                if state.get(dep["name"]) != 2:
                    stack.append((dep, False))
    return order


def _check_node(n, source):
    if not isinstance(n, dict):
        raise ValueError(f"{source}: a node is not an object: {n!r:.80}")
    for key, typ in (("name", str), ("op", str), ("input", list), ("attr", dict),
                     ("output", list)):
        if not isinstance(n.get(key), typ):
            raise ValueError(f"{source}: node {n.get('name')!r} lacks a valid "
                             f"{key!r} field")
    n.setdefault("control_input", [])
    for t in n["input"]:
        if not (isinstance(t, str) and t.rpartition(":")[2].isdigit()):
            raise ValueError(f"{source}: node {n['name']!r} has a bad input name {t!r}")


def import_graph_from_dict(graph_def, graph, import_scope=None, source="<graph>"):
    """Recreates the nodes of `graph_def` in `graph`; returns {file name: op}."""
    scope = (import_scope or "").rstrip("/")
    nodes = graph_def["node"]
    for n in nodes:
        _check_node(n, source)
    nodes = _topological(nodes, source)
    for n in nodes:
        full = _prefix(n["name"], scope)
        if full in graph._ops_by_name:
            raise ValueError(f"Cannot import {source}: the graph already has an "
                             f"operation named {full!r}; pass import_scope= to import "
                             "under a new name scope, or import into a fresh graph")
    created = {}
    for n in nodes:
        name = n["name"]
        where = f"{source}: node {name!r} ({n['op']})"
        inputs = []
        for t in n["input"]:
            op_name, _, idx = t.rpartition(":")
            op = created[op_name]
            if int(idx) >= len(op.outputs):
                raise ValueError(f"{where}: input {t!r} refers to output {idx} of an "
                                 f"op with {len(op.outputs)} outputs")
            inputs.append(op.outputs[int(idx)])
        attrs = {k: decode_attr(v, f"{where}, attr {k!r}") for k, v in n["attr"].items()}
        specs = []
        for o in n["output"]:
            if not isinstance(o, dict) or not isinstance(o.get("dtype"), str):
                raise ValueError(f"{where}: malformed output {o!r:.80}")
            try:
                dt = _dt.as_dtype(o["dtype"])
            except TypeError:
                raise ValueError(f"{where}: unknown dtype {o['dtype']!r}") from None
            specs.append((dt, _shape_from_json(o.get("shape"), where)))
        full = _prefix(name, scope)
        _mark_scopes(graph, full)
        # A trailing "/" asks for exactly this name, outside the name stack.
        op = graph._create_op(n["op"], inputs, attrs, specs, name=full + "/")
        op._control_inputs = []   # only the recorded ones, added below
        created[name] = op
    for n in nodes:
        for c in n["control_input"]:
            if c not in created:
                raise ValueError(f"{source}: node {n['name']!r} has control input "
                                 f"{c!r}, which is not a node of the graph")
            created[n["name"]]._add_control_input(created[c])
    return created


def _mark_scopes(graph, full_name):
    # So later ops and name scopes get fresh names ("dense_1"), as if the
    # imported ops had been built in this graph.
    parts = full_name.split("/")
    for i in range(1, len(parts)):
        graph._names_in_use.setdefault("/".join(parts[:i]).lower(), 1)


# ---------------------------------------------------------------------------
# Collections

def _variable_item(v, scope):
    names = {"variable_name": v._variable.name,
             "initializer_name": v.initializer.name if v.initializer is not None else None,
             "snapshot_name": v._snapshot.name,
             "initial_value_name": (v._initial_value.name
                                    if v._initial_value is not None else None)}
    out = {"kind": "variable"}
    for k, n in names.items():
        out[k] = _strip(n, scope) if n is not None else None
        if n is not None and out[k] is None:
            if k == "initial_value_name":
                continue
            return None
    out["trainable"] = bool(v.trainable)
    return out


def _collection_item(item, scope, key):
    """The JSON of one collection entry, or None if it can't be exported."""
    from .train.saver import Saver
    if isinstance(item, Variable):
        return _variable_item(item, scope)
    if isinstance(item, Operation):
        n = _strip(item.name, scope)
        return None if n is None else {"kind": "operation", "name": n}
    if isinstance(item, Tensor):
        n = _strip(item.name, scope)
        return None if n is None else {"kind": "tensor", "name": n}
    if isinstance(item, bool):
        return {"kind": "bool", "value": item}
    if isinstance(item, int):
        return {"kind": "int", "value": item}
    if isinstance(item, float):
        return {"kind": "float", "value": _float_to_json(item)}
    if isinstance(item, str):
        return {"kind": "str", "value": item}
    if isinstance(item, Saver):
        sd = item.to_proto(export_scope=scope or None)
        return None if sd is None else {"kind": "saver", "saver_def": sd.to_dict()}
    warnings.warn(f"export_meta_graph: collection {key!r} holds a "
                  f"{type(item).__name__}, which can't be serialized; left out",
                  stacklevel=4)
    return None


def _collections_dict(graph, collection_list, scope):
    keys = graph.get_all_collection_keys() if collection_list is None else list(
        collection_list)
    out = {}
    for key in keys:
        if not isinstance(key, str):
            warnings.warn(f"export_meta_graph: collection key {key!r} is not a "
                          "string; left out", stacklevel=3)
            continue
        items = [_collection_item(x, scope, key) for x in graph.get_collection(key)]
        items = [x for x in items if x is not None]
        if items:
            out[key] = items
    return out


def _rebuild_variable(graph, item, scope, cache, where):
    name = _prefix(item["variable_name"], scope)
    if name in cache:
        return cache[name]
    try:
        ref = graph.get_tensor_by_name(name)
        snapshot = graph.get_tensor_by_name(_prefix(item["snapshot_name"], scope))
        init = item.get("initializer_name")
        init_op = graph.get_operation_by_name(_prefix(init, scope)) if init else None
        iv = item.get("initial_value_name")
        iv_t = graph.get_tensor_by_name(_prefix(iv, scope)) if iv else None
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{where}: variable {name!r} refers to a tensor or op "
                         f"missing from the graph: {e}") from None
    if ref.op.type != "VariableV2":
        raise ValueError(f"{where}: {name!r} is a {ref.op.type} op, not a variable")
    existing = getattr(ref.op, "_variable", None)
    if isinstance(existing, Variable):
        cache[name] = existing
        return existing
    # The Python object around existing ops: no op is created.
    v = Variable.__new__(Variable)
    v._variable = ref
    v._snapshot = snapshot
    v._initializer_op = init_op
    v._initial_value = iv_t
    v._trainable = bool(item.get("trainable", True))
    v._constraint = None
    v._save_slice_info = None
    ref.op._variable = v
    cache[name] = v
    return v


def _restore_collections(graph, collection_def, scope, source):
    from .train.saver import Saver, SaverDef
    cache = {}
    for key, items in collection_def.items():
        where = f"{source}: collection {key!r}"
        if not isinstance(items, list):
            raise ValueError(f"{where} is not a list")
        for item in items:
            kind = item.get("kind") if isinstance(item, dict) else None
            if kind == "variable":
                value = _rebuild_variable(graph, item, scope, cache, where)
            elif kind == "operation":
                value = graph.get_operation_by_name(_prefix(item["name"], scope))
            elif kind == "tensor":
                value = graph.get_tensor_by_name(_prefix(item["name"], scope))
            elif kind in ("str", "int", "bool"):
                value = item["value"]
            elif kind == "float":
                value = _float_from_json(item["value"], where)
            elif kind == "saver":
                value = Saver(saver_def=SaverDef.from_dict(item["saver_def"]),
                              name=scope or None)
            else:
                raise ValueError(f"{where}: malformed entry {item!r:.80}")
            graph.add_to_collection(key, value)


# ---------------------------------------------------------------------------
# The public functions

def export_meta_graph(filename=None, meta_info_def=None, graph_def=None,
                      saver_def=None, collection_list=None, as_text=False,
                      graph=None, export_scope=None, clear_devices=False,
                      clear_extraneous_savers=False, strip_default_attrs=False,
                      save_debug_info=False, **kwargs):
    """tf.train.export_meta_graph: returns a MetaGraphDef, and writes it to
    `filename` (atomically) when given. `as_text` indents the JSON."""
    if graph_def is not None:
        raise ValueError("export_meta_graph(graph_def=...) is not supported: pass "
                         "graph= (the graph itself) instead")
    graph = graph if graph is not None else get_default_graph()
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a tf.Graph, got {type(graph).__name__}")
    scope = (export_scope or "").rstrip("/")
    info = {"tensorflow_version": "1.15.0-tfcompile", "tags": [],
            "stripped_op_list": sorted({op.type for op in graph.get_operations()})}
    if meta_info_def:
        info.update(meta_info_def)
    meta = MetaGraphDef(info, graph_to_dict(graph, scope), saver_def,
                        _collections_dict(graph, collection_list, scope))
    if filename:
        text = meta.to_json(as_text=as_text).encode("utf-8")
        _atomic_write(os.fspath(filename), lambda f: f.write(text))
    return meta


def read_meta_graph_file(filename) -> MetaGraphDef:
    """Reads and validates a meta graph file written by export_meta_graph."""
    filename = os.fspath(filename)
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise OSError(f"File {filename} does not exist.") from None
    return MetaGraphDef.from_dict(_parse_json(data, filename), filename)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None,
                      **kwargs):
    """tf.train.import_meta_graph: recreates the graph and collections in the
    default graph; returns a Saver (the file's, or a default one when the
    graph has variables), or None when there is nothing to restore."""
    from .train.saver import Saver
    if isinstance(meta_graph_or_file, MetaGraphDef):
        meta, source = meta_graph_or_file, "<MetaGraphDef>"
    else:
        source = os.fspath(meta_graph_or_file)
        meta = read_meta_graph_file(source)
    graph = get_default_graph()
    scope = (import_scope or "").rstrip("/")
    import_graph_from_dict(meta.graph_def, graph, scope, source)
    _restore_collections(graph, meta.collection_def, scope, source)
    if meta.saver_def is not None:
        return Saver(saver_def=meta.saver_def, name=scope or None)
    if graph.get_collection("variables"):
        return Saver()
    return None


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """tf.train.write_graph / tf.io.write_graph: the graph's nodes (the
    "graph_def" part of the meta graph format, with "format":
    "tfcompile-graph") written atomically to logdir/name; returns the path."""
    graph = graph_or_graph_def
    if not isinstance(graph, Graph):
        raise TypeError("write_graph takes a tf.Graph (GraphDef objects carry no "
                        f"output types here), got {type(graph).__name__}")
    logdir = os.fspath(logdir)
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    body = {"format": GRAPH_FORMAT_NAME, "version": FORMAT_VERSION}
    body.update(graph_to_dict(graph))
    text = (json.dumps(body, indent=1, allow_nan=False) + "\n" if as_text
            else json.dumps(body, separators=(",", ":"), allow_nan=False))
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path
