"""tf.summary: scalar, histogram and image summaries, merge, merge_all,
FileWriter, and the tf.Summary message.

A summary op's output is a serialized Summary protocol buffer (tf.string).
Compiled code has no strings: summary ops are host ops (session.HOST_OPS),
run in Python after the compiled call on the numbers it fetched, and a
fetched summary is bytes, as TF returns it. FileWriter writes TensorBoard
event files (tfcompile/event_file.py). Tags and op names follow TF 1.15's
summary_scope: the op is named after its scope and the tag is that scope.
"""
from __future__ import annotations

import re
import struct
import sys
import time
import zlib

import numpy as np

from . import dtypes as _dt
from .errors import InvalidArgumentError
from .event_file import (EventFileWriter, event, field_bytes, field_double, field_float,
                         field_packed_doubles, field_varint, read_fields)
from .graph import GraphKeys, Tensor, add_to_collections, get_collection, \
    get_default_graph, name_scope
from .ops.constant_op import convert_to_tensor
from .ops.op_util import make_tensor
from .tensor_shape import TensorShape

_INVALID_TAG = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    if name is None:
        return None
    new = _INVALID_TAG.sub("_", name).lstrip("/")
    return new


class _scope:
    """TF's summary_scope: (tag, scope) with the family in front of both."""

    def __init__(self, name, family, default_name, values):
        name, family = _clean_tag(name), _clean_tag(family)
        base = name if family is None else f"{family}/{name}"
        self._ns = name_scope(base, default_name, values=values)
        self._family = family

    def __enter__(self):
        scope = self._ns.__enter__()
        tag = scope.rstrip("/")
        if self._family is not None:
            tag = f"{self._family}/{tag}"
        return tag, scope

    def __exit__(self, *exc):
        return self._ns.__exit__(*exc)


def _summary_op(op_type, inputs, attrs, scope, collections):
    out = make_tensor(op_type, inputs, _dt.string, TensorShape([]), attrs, name=scope)
    add_to_collections(collections if collections is not None else [GraphKeys.SUMMARIES],
                       out)
    return out


# ---------------------------------------------------------------- the ops

def scalar(name, tensor, collections=None, family=None):
    """A Summary with one simple_value: the scalar `tensor` (any real dtype)."""
    with _scope(name, family, None, [tensor]) as (tag, scope):
        t = convert_to_tensor(tensor)
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Shape {t.shape} must have rank 0 (tf.summary.scalar {tag})")
        return _summary_op("ScalarSummary", [t], {"tag": tag, "T": t.dtype}, scope,
                           collections)


def histogram(name, values, collections=None, family=None):
    """A Summary with the histogram of `values` (TF's exponential buckets)."""
    with _scope(name, family, "HistogramSummary", [values]) as (tag, scope):
        t = convert_to_tensor(values)
        return _summary_op("HistogramSummary", [t], {"tag": tag, "T": t.dtype}, scope,
                           collections)


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A Summary with up to max_outputs PNG images from a [N, H, W, C] batch
    (C 1, 3 or 4; uint8 as is, floats normalized per image as TF does)."""
    with _scope(name, family, None, [tensor]) as (tag, scope):
        t = convert_to_tensor(tensor)
        if t.shape.ndims not in (None, 4):
            raise ValueError(f"Shape {t.shape} must have rank 4 (tf.summary.image {tag})")
        return _summary_op("ImageSummary", [t], {"tag": tag, "max_images": int(max_outputs),
                                                 "T": t.dtype}, scope, collections)


def merge(inputs, collections=None, name=None):
    """One Summary holding the values of all `inputs` (serialized summaries)."""
    inputs = [convert_to_tensor(x) for x in inputs]
    for x in inputs:
        if x.dtype != _dt.string:
            raise TypeError(f"tf.summary.merge: {x.name} is {x.dtype.name}, not a summary")
    with name_scope(name, "Merge", inputs):
        out = make_tensor("MergeSummary", inputs, _dt.string, TensorShape([]),
                          {"N": len(inputs)}, name=name or "MergeSummary")
    if collections:
        add_to_collections(collections, out)
    return out


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """merge() of the collection `key`, or None when it is empty (as TF)."""
    summaries = get_collection(key, scope=scope)
    if not summaries:
        return None
    return merge(summaries, name=name)


# ---------------------------------------------------------------- host evaluation

def _scalar_value(op, ins):
    v = np.asarray(ins[0])
    if v.size != 1 or v.ndim != 0:
        raise InvalidArgumentError(None, op, f"tags and values not the same shape: [] != "
                                   f"{list(v.shape)} (tag '{op.attrs['tag']}')")
    return Summary(value=[Summary.Value(tag=op.attrs["tag"],
                                        simple_value=float(v))]).SerializeToString()


def _bucket_limits():
    pos, v = [], 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    pos.append(sys.float_info.max)
    return [-x for x in reversed(pos)] + [0.0] + pos


_LIMITS = np.array(_bucket_limits())


def histogram_proto(values):
    """HistogramProto of `values` as TF's Histogram: counts per bucket (the first
    limit above each value), runs of empty buckets merged into one entry."""
    x = np.asarray(values, np.float64).ravel()
    counts = np.bincount(np.searchsorted(_LIMITS, x, side="right"),
                         minlength=len(_LIMITS))[:len(_LIMITS)].astype(np.float64)
    limits, buckets = [], []
    i, n = 0, len(counts)
    while i < n:
        end, c = _LIMITS[i], counts[i]
        i += 1
        if c <= 0:
            while i < n and counts[i] <= 0:
                end, c = _LIMITS[i], counts[i]
                i += 1
        limits.append(end)
        buckets.append(c)
    if not buckets:
        limits, buckets = [sys.float_info.max], [0.0]
    mn = float(x.min()) if x.size else sys.float_info.max
    mx = float(x.max()) if x.size else -sys.float_info.max
    return HistogramProto(min=mn, max=mx, num=float(x.size), sum=float(x.sum()),
                          sum_squares=float(np.dot(x, x)), bucket_limit=limits,
                          bucket=buckets)


def _histogram_value(op, ins):
    x = np.asarray(ins[0], np.float64)
    if not np.all(np.isfinite(x)):
        raise InvalidArgumentError(None, op, f"Nan in summary histogram for: "
                                   f"{op.attrs['tag']}")
    return Summary(value=[Summary.Value(tag=op.attrs["tag"], histo=histogram_proto(x))]
                   ).SerializeToString()


def png(pixels):
    """A PNG of an [H, W, C] uint8 array (C 1, 3 or 4), unfiltered rows."""
    h, w, c = pixels.shape
    kind = {1: 0, 2: 4, 3: 2, 4: 6}[c]

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, kind, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _to_uint8(img):
    """TF's NormalizeFloatImage: in float32, all-nonnegative images scaled so the
    largest value is 255, others so 0 is 128 and the largest magnitude 127 away;
    truncated to uint8; pixels with a nonfinite channel get the bad color (red)."""
    if img.dtype == np.uint8:
        return img
    x = img.astype(np.float32)
    good = np.all(np.isfinite(x), axis=-1)
    vals = x[good]
    lo = np.float32(vals.min()) if vals.size else np.float32(np.inf)
    hi = np.float32(vals.max()) if vals.size else np.float32(-np.inf)
    if lo < 0:
        top = max(abs(lo), abs(hi))
        scale = np.float32(0.0 if top < 1e-6 else np.float32(127.0) / top)
        offset = np.float32(128.0)
    else:
        scale = np.float32(0.0 if hi < 1e-6 else np.float32(255.0) / hi)
        offset = np.float32(0.0)
    with np.errstate(invalid="ignore"):
        out = (x * scale + offset).astype(np.uint8)
    bad = np.array([255, 0, 0, 255][:x.shape[-1]], np.uint8)
    out[~good] = bad
    return out


def _image_value(op, ins):
    x = np.asarray(ins[0])
    if x.ndim != 4 or x.shape[3] not in (1, 3, 4):
        raise InvalidArgumentError(None, op, "Tensor must be 4-D with last dim 1, 3, or 4, "
                                   f"not {list(x.shape)}")
    tag, k = op.attrs["tag"], op.attrs["max_images"]
    vals = []
    for i in range(min(k, x.shape[0])):
        px = _to_uint8(x[i])
        name = f"{tag}/image/{i}" if k > 1 else f"{tag}/image"
        vals.append(Summary.Value(tag=name, image=Summary.Image(
            height=px.shape[0], width=px.shape[1], colorspace=px.shape[2],
            encoded_image_string=png(px))))
    return Summary(value=vals).SerializeToString()


def _merge_value(op, ins):
    out = Summary()
    for blob in ins:
        out.value.extend(Summary.FromString(bytes(blob)).value)
    return out.SerializeToString()


# ---------------------------------------------------------------- messages

class HistogramProto:
    def __init__(self, min=0.0, max=0.0, num=0.0, sum=0.0, sum_squares=0.0,  # noqa: A002
                 bucket_limit=(), bucket=()):
        self.min, self.max, self.num, self.sum = min, max, num, sum
        self.sum_squares = sum_squares
        self.bucket_limit, self.bucket = list(bucket_limit), list(bucket)

    def SerializeToString(self):
        return (field_double(1, self.min) + field_double(2, self.max)
                + field_double(3, self.num) + field_double(4, self.sum)
                + field_double(5, self.sum_squares)
                + field_packed_doubles(6, self.bucket_limit)
                + field_packed_doubles(7, self.bucket))

    @classmethod
    def FromString(cls, data):
        h = cls()
        names = {1: "min", 2: "max", 3: "num", 4: "sum", 5: "sum_squares"}
        for num, wt, v in read_fields(data):
            if num in names and wt == 1:
                setattr(h, names[num], struct.unpack("<d", v)[0])
            elif num in (6, 7):
                vals = list(struct.unpack(f"<{len(v) // 8}d", v)) if wt == 2 else \
                    [struct.unpack("<d", v)[0]]
                (h.bucket_limit if num == 6 else h.bucket).extend(vals)
        return h


class _Image:
    def __init__(self, height=0, width=0, colorspace=0, encoded_image_string=b""):
        self.height, self.width, self.colorspace = height, width, colorspace
        self.encoded_image_string = encoded_image_string

    def SerializeToString(self):
        return (field_varint(1, self.height) + field_varint(2, self.width)
                + field_varint(3, self.colorspace) + field_bytes(4, self.encoded_image_string))

    @classmethod
    def FromString(cls, data):
        im = cls()
        for num, _, v in read_fields(data):
            if num == 4:
                im.encoded_image_string = bytes(v)
            elif num in (1, 2, 3):
                setattr(im, {1: "height", 2: "width", 3: "colorspace"}[num], v)
        return im


class _Value:
    def __init__(self, tag="", simple_value=None, histo=None, image=None, node_name=""):
        self.tag, self.simple_value, self.histo, self.image = tag, simple_value, histo, image
        self.node_name = node_name

    def HasField(self, name):
        return getattr(self, name, None) is not None

    def SerializeToString(self):
        out = field_bytes(1, self.tag)
        if self.simple_value is not None:
            out += field_float(2, self.simple_value)
        if self.image is not None:
            out += field_bytes(4, self.image.SerializeToString())
        if self.histo is not None:
            out += field_bytes(5, self.histo.SerializeToString())
        if self.node_name:
            out += field_bytes(7, self.node_name)
        return out

    @classmethod
    def FromString(cls, data):
        v = cls()
        for num, wt, x in read_fields(data):
            if num == 1:
                v.tag = bytes(x).decode("utf-8")
            elif num == 2 and wt == 5:
                v.simple_value = struct.unpack("<f", x)[0]
            elif num == 4:
                v.image = _Image.FromString(x)
            elif num == 5:
                v.histo = HistogramProto.FromString(x)
            elif num == 7:
                v.node_name = bytes(x).decode("utf-8")
        return v

    def __repr__(self):
        what = (f"simple_value: {self.simple_value}" if self.simple_value is not None
                else "histo" if self.histo is not None else "image")
        return f'tag: "{self.tag}" {what}'


class Summary:
    """tf.Summary: a list of tagged values (simple_value, histo, image), with
    protobuf's SerializeToString / FromString / ParseFromString."""

    Value = _Value
    Image = _Image

    def __init__(self, value=()):
        self.value = list(value)

    def SerializeToString(self):
        return b"".join(field_bytes(1, v.SerializeToString()) for v in self.value)

    @classmethod
    def FromString(cls, data):
        return cls([_Value.FromString(x) for num, _, x in read_fields(bytes(data)) if num == 1])

    def ParseFromString(self, data):
        self.value = Summary.FromString(data).value

    def __repr__(self):
        return "\n".join(f"value {{ {v!r} }}" for v in self.value)


# ---------------------------------------------------------------- the writer

def graph_def_bytes(graph):
    """A GraphDef message of `graph` for TensorBoard's graph view: every node's
    name, op, inputs (control inputs as ^name) and its output dtype attr."""
    out = b""
    for op in graph.get_operations():
        node = field_bytes(1, op.name) + field_bytes(2, op.type)
        for t in op.inputs:
            node += field_bytes(3, t.name[:-2] if t.name.endswith(":0") else t.name)
        for c in op.control_inputs:
            node += field_bytes(3, "^" + c.name)
        if op.outputs:
            dt = op.outputs[0].dtype
            attr = field_bytes(1, "T") + field_bytes(2, field_varint(6, dt.as_datatype_enum))
            node += field_bytes(5, attr)
        out += field_bytes(1, node)
    return out + field_bytes(4, field_varint(1, 27))


class FileWriter:
    """tf.summary.FileWriter(logdir, graph=None, ...): an event file TensorBoard
    reads, with summaries (serialized bytes or Summary objects) and graphs."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self._logdir = str(logdir)
        self._suffix = filename_suffix or ""
        self._writer = EventFileWriter(self._logdir, self._suffix)
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self):
        return self._logdir

    def add_summary(self, summary, global_step=None):
        if isinstance(summary, Summary):
            summary = summary.SerializeToString()
        elif isinstance(summary, Tensor):
            raise TypeError("add_summary takes the value of a summary (fetch it with "
                            "sess.run), not the tensor")
        if not isinstance(summary, (bytes, bytearray, np.bytes_)):
            raise TypeError(f"add_summary: expected serialized Summary bytes, got "
                            f"{type(summary).__name__}")
        self._writer.write(event(time.time(), int(global_step or 0), summary=bytes(summary)))

    def add_graph(self, graph=None, global_step=None, graph_def=None):
        if graph is None and graph_def is None:
            graph = get_default_graph()
        data = graph_def if isinstance(graph_def, (bytes, bytearray)) else \
            graph_def_bytes(graph if graph is not None else get_default_graph())
        self._writer.write(event(time.time(), int(global_step or 0), graph_def=bytes(data)))

    def add_event(self, ev):
        self._writer.write(ev if isinstance(ev, (bytes, bytearray)) else ev.SerializeToString())

    def flush(self):
        pass        # every add is written through

    def close(self):
        self._writer.close()

    def reopen(self):
        if self._writer._f is None:
            self._writer = EventFileWriter(self._logdir, self._suffix)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def install(tf):
    from .session import HOST_OPS
    HOST_OPS.update({"ScalarSummary": _scalar_value, "HistogramSummary": _histogram_value,
                     "ImageSummary": _image_value, "MergeSummary": _merge_value})
    tf.summary = sys.modules[__name__]
    tf.Summary = Summary
    tf.HistogramProto = HistogramProto

