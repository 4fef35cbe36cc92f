"""tf.summary: values serialized as TF's Summary protocol buffer (checked by
parsing, against numpy, and byte for byte against TensorFlow when it is
installed), FileWriter's event files (TFRecord framing, CRC-32C), errors."""
import struct
import zlib

import numpy as np
import pytest

import tfcompile as tf
from tfcompile.event_file import crc32c, read_fields, read_tfrecords


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def _png_pixels(data):
    """Pixels of an 8-bit PNG (any of the five row filters)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat, head = 8, b"", None
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    w, h, _, color = head[:4]
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    stride = w * c
    out = np.zeros((h, stride), np.int64)
    prev = np.zeros(stride, np.int64)
    for r in range(h):
        f, row = raw[r * (stride + 1)], np.frombuffer(
            raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)], np.uint8).astype(np.int64)
        cur = np.zeros(stride, np.int64)
        for x in range(stride):
            a = cur[x - c] if x >= c else 0
            b, d = prev[x], prev[x - c] if x >= c else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                p = a + b - d
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - d)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else d
            cur[x] = (row[x] + pred) & 0xFF
        out[r], prev = cur, cur
    return out.reshape(h, w, c).astype(np.uint8)


def test_scalar_histogram_image_values():
    x = tf.placeholder(tf.float32, [None])
    with tf.name_scope("train"):
        s = tf.summary.scalar("loss", tf.reduce_mean(x))
    h = tf.summary.histogram("x", x)
    im = tf.summary.image("img", tf.reshape(x[:12], [1, 2, 2, 3]))
    merged = tf.summary.merge_all()
    assert (s.name, h.name, im.name, merged.name) == (
        "train/loss:0", "x:0", "img:0", "Merge/MergeSummary:0")
    assert s.dtype == tf.string and s.shape.ndims == 0
    data = np.linspace(-3, 5, 12).astype(np.float32)
    with tf.Session() as sess:
        sv, hv, iv, mv = sess.run([s, h, im, merged], {x: data})
    assert isinstance(sv, bytes)
    val, = tf.Summary.FromString(sv).value
    assert val.tag == "train/loss"
    np.testing.assert_allclose(val.simple_value, data.mean(), rtol=1e-6)
    histo = tf.Summary.FromString(hv).value[0].histo
    assert histo.num == 12 and histo.min == data.min() and histo.max == data.max()
    np.testing.assert_allclose(histo.sum, data.astype(np.float64).sum())
    assert sum(histo.bucket) == 12 and len(histo.bucket) == len(histo.bucket_limit)
    # each value lies in its bucket: (previous limit, limit]
    limits = np.array(histo.bucket_limit)
    assert all(np.searchsorted(limits, v, side="left") < len(limits) for v in data)
    image = tf.Summary.FromString(iv).value[0]
    assert image.tag == "img/image/0" and image.image.colorspace == 3
    px = _png_pixels(image.image.encoded_image_string)
    img = data[:12].reshape(2, 2, 3)
    # mixed signs: 0 at 128, the largest magnitude 127 away, truncated (in float32)
    scale = np.float32(127.0) / np.float32(max(-img.min(), img.max()))
    np.testing.assert_array_equal(px, (img * scale + np.float32(128)).astype(np.uint8))
    assert [v.tag for v in tf.Summary.FromString(mv).value] == [
        "train/loss", "x", "img/image/0"]


def test_summary_errors_and_empty_merge(tmp_path):
    assert tf.summary.merge_all() is None
    with pytest.raises(ValueError, match="rank 0"):
        tf.summary.scalar("v", tf.zeros([3]))
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    s = tf.summary.scalar("s", tf.reduce_sum(x))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram"):
            sess.run(h, {x: [1.0, np.nan]})
        w = tf.summary.FileWriter(str(tmp_path))
        with pytest.raises(TypeError, match="fetch it"):
            w.add_summary(s)
        w.close()


def test_file_writer_event_file(tmp_path):
    assert crc32c(b"123456789") == 0xE3069283       # the standard check value
    x = tf.placeholder(tf.float32, [None], name="x")
    s = tf.summary.scalar("avg", tf.reduce_mean(x))
    with tf.Session() as sess:
        with tf.summary.FileWriter(str(tmp_path), sess.graph) as w:
            for step in range(3):
                w.add_summary(sess.run(s, {x: [float(step), 1.0]}), step)
            w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="lr", simple_value=0.5)]), 7)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("events.out.tfevents.")
    events = [dict((n, v) for n, _, v in read_fields(r))
              for r in read_tfrecords(files[0].read_bytes())]
    assert events[0][3] == b"brain.Event:2"
    assert 4 in events[1] and b"x" in events[1][4]                      # the graph
    steps = [e.get(2, 0) for e in events[2:]]
    values = [tf.Summary.FromString(e[5]).value[0] for e in events[2:]]
    assert steps == [0, 1, 2, 7]
    assert [v.simple_value for v in values] == [0.5, 1.0, 1.5, 0.5]
    assert [v.tag for v in values] == ["avg"] * 3 + ["lr"]


@pytest.mark.slow
def test_summaries_same_bytes_as_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    v1.disable_v2_behavior()

    def prog(lib):
        with lib.Graph().as_default():
            x = lib.placeholder(lib.float32, [None])
            loss = lib.reduce_mean(x)
            with lib.name_scope("train"):
                s1 = lib.summary.scalar("loss", loss)
            outs = [s1, lib.summary.histogram("x", x),
                    lib.summary.scalar("loss", loss, family="fam"),
                    lib.summary.scalar("bad name!", loss),
                    lib.summary.histogram("w", x * 1e-3 - 7.0),
                    lib.summary.image("img", lib.reshape(x[:12], [1, 2, 2, 3])),
                    lib.summary.image("pos", lib.reshape(lib.abs(x[:12]), [1, 2, 2, 3])),
                    lib.summary.image("inf", lib.reshape(x[:12] / (x[:12] - x[3]),
                                                         [1, 2, 2, 3]))]
            outs.append(lib.summary.merge_all())
            with lib.Session() as sess:
                vals = sess.run(outs, {x: np.linspace(-3, 5, 12).astype(np.float32)})
            return [t.name for t in outs], vals
    ours, theirs = prog(tf), prog(v1)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1][:5], theirs[1][:5]):
        assert a == b
    for k in (5, 6, 7):
        ia = tf.Summary.FromString(ours[1][k]).value[0].image
        ib = v1.Summary.FromString(theirs[1][k]).value[0].image
        np.testing.assert_array_equal(_png_pixels(ia.encoded_image_string),
                                      _png_pixels(ib.encoded_image_string))
