"""TensorBoard's file formats, written by hand: protobuf wire encoding of the
few messages a summary writer needs (Summary, HistogramProto, Event, a
GraphDef of names, ops, inputs and dtypes), and TFRecord framing with masked
CRC-32C, so `tensorboard --logdir` reads what tf.summary.FileWriter writes.

Wire format: a field is a varint key (number << 3 | wire type) followed by a
varint (type 0), 8 bytes (type 1), a varint length and bytes (type 2), or 4
bytes (type 5), little-endian. TFRecord: u64 length, u32 masked CRC of the
length bytes, the data, u32 masked CRC of the data.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time

# ---------------------------------------------------------------- protobuf wire


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1          # negative int64s take ten bytes, as protobuf does
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(int(value))


def field_double(num: int, value: float) -> bytes:
    return varint(num << 3 | 1) + struct.pack("<d", float(value))


def field_float(num: int, value: float) -> bytes:
    return varint(num << 3 | 5) + struct.pack("<f", float(value))


def field_bytes(num: int, data) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return varint(num << 3 | 2) + varint(len(data)) + bytes(data)


def field_packed_doubles(num: int, values) -> bytes:
    return field_bytes(num, b"".join(struct.pack("<d", float(v)) for v in values))


def read_fields(data: bytes):
    """Yields (field number, wire type, value) of a message: ints for varints,
    bytes for the rest (so a reader can pick out the fields it knows)."""
    i, n = 0, len(data)

    def read_varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= n:
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
    while i < n:
        key = read_varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            yield num, wt, read_varint()
        elif wt == 1:
            yield num, wt, data[i:i + 8]
            i += 8
        elif wt == 2:
            ln = read_varint()
            yield num, wt, data[i:i + ln]
            i += ln
        elif wt == 5:
            yield num, wt, data[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")


# ---------------------------------------------------------------- CRC-32C

def _crc_table():
    poly = 0x82F63B78
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", masked_crc(head)) + data + struct.pack("<I", masked_crc(data))


def read_tfrecords(raw: bytes):
    """Yields the records of a TFRecord file, checking both CRCs."""
    i = 0
    while i < len(raw):
        if i + 12 > len(raw):
            raise ValueError("truncated record header")
        head = raw[i:i + 8]
        (ln,) = struct.unpack("<Q", head)
        (hc,) = struct.unpack("<I", raw[i + 8:i + 12])
        if hc != masked_crc(head):
            raise ValueError("corrupt record length")
        data = raw[i + 12:i + 12 + ln]
        (dc,) = struct.unpack("<I", raw[i + 12 + ln:i + 16 + ln])
        if len(data) != ln or dc != masked_crc(data):
            raise ValueError("corrupt record data")
        yield data
        i += 16 + ln


# ---------------------------------------------------------------- events

def event(wall_time: float, step: int = 0, *, file_version=None, graph_def=None,
          summary=None) -> bytes:
    """An Event message: wall_time 1, step 2, file_version 3, graph_def 4, summary 5."""
    out = field_double(1, wall_time)
    if step:
        out += field_varint(2, step)
    if file_version is not None:
        out += field_bytes(3, file_version)
    if graph_def is not None:
        out += field_bytes(4, graph_def)
    if summary is not None:
        out += field_bytes(5, summary)
    return out


class EventFileWriter:
    """Appends events to logdir/events.out.tfevents.<time>.<host>, as TF names it.

    Each add writes one framed record and flushes it, so nothing is lost when a
    program stops without closing the writer."""

    def __init__(self, logdir, filename_suffix=""):
        os.makedirs(logdir, exist_ok=True)
        self.path = os.path.join(
            str(logdir), f"events.out.tfevents.{int(time.time()):010d}."
                         f"{socket.gethostname()}{filename_suffix}")
        self._lock = threading.Lock()
        self._f = open(self.path, "ab")
        self.write(event(time.time(), file_version="brain.Event:2"))

    def write(self, record: bytes):
        with self._lock:
            if self._f is None:
                raise RuntimeError(f"the event file {self.path} is closed")
            self._f.write(tfrecord(record))
            self._f.flush()

    def close(self):
        with self._lock:
            if self._f is not None:
                self._f.close()
                self._f = None
