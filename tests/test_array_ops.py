"""Array manipulation, ordering, clipping and einsum ops against numpy, with TF
1.15's names, static shapes and errors; gradients against central finite
differences in float64.

Cases share graphs and runs so each test compiles once or twice."""
import numpy as np
import pytest

import tfcompile as tf

from gradcheck import check_gradients


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _run(fetch, feeds=None):
    with tf.Session() as s:
        return s.run(fetch, feeds)


def _check(got, want, tol=1e-6):
    for k in want:
        g, w = np.asarray(got[k]), np.asarray(want[k])
        assert g.shape == w.shape, (k, g.shape, w.shape)
        assert g.dtype == w.dtype, (k, g.dtype, w.dtype)
        if g.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=k)
        else:
            np.testing.assert_array_equal(g, w, err_msg=k)


# ---------------------------------------------------------------- split / tile / pad

def test_split_forms_names_and_errors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    p = tf.placeholder(tf.float32, [None, 6, 3])
    a = tf.split(p, 3, axis=1)
    b = tf.split(p, [1, -1, 2], axis=-2)
    c = tf.split(p, 2)
    e = tf.split(p, [0, 3], axis=2)
    assert [t.name for t in a] == ["split:0", "split:1", "split:2"]
    assert a[0].op.type == "Split" and b[0].op.type == "SplitV"
    assert a[0].shape.as_list() == [None, 2, 3]
    assert [t.shape.as_list() for t in b] == [[None, 1, 3], [None, 3, 3], [None, 2, 3]]
    assert c[0].shape.as_list() == [None, 6, 3]
    got = _run({"a": a, "b": b, "c": c, "e": e}, {p: x})
    for i in range(3):
        np.testing.assert_array_equal(got["a"][i], x[:, 2 * i:2 * i + 2])
    np.testing.assert_array_equal(got["b"][1], x[:, 1:4])
    np.testing.assert_array_equal(got["c"][1], x[2:])
    assert got["e"][0].shape == (4, 6, 0)
    with pytest.raises(ValueError, match="evenly divisible"):
        tf.split(tf.zeros([5, 2]), 2)
    with pytest.raises(ValueError, match="Determined shape"):
        tf.split(tf.zeros([5, 2]), [2, 2])
    with pytest.raises(ValueError, match="Rank-0"):
        tf.split(tf.zeros([5, 2]), tf.constant(2))


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
def test_tile_pad_reverse(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 3, 4)) * 5).astype(dtype)
    p = tf.placeholder(tf.as_dtype(dtype), [2, 3, 4])
    pads = [[1, 0], [0, 2], [2, 1]]
    fetch = {
        "tile": tf.tile(p, [2, 1, 3]),
        "tile0": tf.tile(p, [1, 0, 1]),
        "pad": tf.pad(p, pads),
        "reflect": tf.pad(p, [[1, 1], [2, 2], [3, 0]], mode="REFLECT"),
        "symmetric": tf.pad(p, [[2, 1], [3, 3], [0, 4]], mode="symmetric"),
        "rev": tf.reverse(p, [0, -1]),
        "rev_none": tf.reverse(p, []),
        "empty_pad": tf.pad(p[:, :0], [[0, 0], [1, 1], [0, 0]]),
    }
    want = {
        "tile": np.tile(x, [2, 1, 3]), "tile0": np.tile(x, [1, 0, 1]),
        "pad": np.pad(x, pads),
        "reflect": np.pad(x, [[1, 1], [2, 2], [3, 0]], mode="reflect"),
        "symmetric": np.pad(x, [[2, 1], [3, 3], [0, 4]], mode="symmetric"),
        "rev": x[::-1, :, ::-1], "rev_none": x,
        "empty_pad": np.pad(x[:, :0], [[0, 0], [1, 1], [0, 0]]),
    }
    if dtype != np.bool_:
        fetch["padv2"] = tf.pad(p, pads, constant_values=7)
        want["padv2"] = np.pad(x, pads, constant_values=7)
    for k in fetch:
        assert fetch[k].shape.as_list() == list(want[k].shape), k
    _check(_run(fetch, {p: x}), want)


def test_pad_names_and_errors():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.pad(x, [[0, 0], [1, 1]]).name == "Pad:0"
    assert tf.pad(x, [[0, 0], [1, 1]]).shape.as_list() == [None, 5]
    assert tf.pad(x, [[0, 0], [1, 1]], constant_values=1.0).op.type == "PadV2"
    m = tf.pad(x, [[0, 0], [1, 1]], mode="REFLECT")
    assert m.op.type == "MirrorPad" and m.op.get_attr("mode") == "REFLECT"
    t = tf.tile(x, [2, 2])
    assert t.name == "Tile:0" and t.shape.as_list() == [None, 6]
    with pytest.raises(ValueError, match="Unknown padding mode"):
        tf.pad(x, [[0, 0], [1, 1]], mode="WRAP")
    with pytest.raises(ValueError):
        tf.pad(x, [[0, 0]])
    with pytest.raises(ValueError):
        tf.tile(x, [2])
    bad = tf.pad(tf.zeros([2, 3]), [[0, 0], [3, 0]], mode="REFLECT")
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be less"):
        _run(bad)


# ---------------------------------------------------------------- gather / scatter

@pytest.mark.parametrize("idt", [np.int32, np.int64])
def test_gather_nd_scatter_nd_sparse_to_dense(idt):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    p = tf.placeholder(tf.float32, [3, 4, 5])
    i2 = np.array([[[0, 1], [2, 3]], [[1, 0], [2, 2]]], idt)
    i3 = np.array([[0, 1, 4], [2, 3, 0]], idt)
    i1 = np.array([[2], [0]], idt)
    upd = rng.standard_normal((3, 2)).astype(np.float32)
    fetch = {
        "g2": tf.gather_nd(p, i2), "g3": tf.gather_nd(p, i3), "g1": tf.gather_nd(p, i1),
        "s": tf.scatter_nd(np.array([[1], [3], [1]], idt), upd, [5, 2]),
        "si": tf.scatter_nd(np.array([[0, 1], [0, 1]], idt), np.array([2, 5], np.int32),
                            [2, 3]),
        "std": tf.sparse_to_dense(np.array([[0, 1], [2, 3]], idt), [3, 4], [7.0, 8.0],
                                  default_value=-1.0),
        "std1": tf.sparse_to_dense(np.array([4, 1], idt), [6], 3, 0,
                                   validate_indices=False),
    }
    want = {
        "g2": x[i2[..., 0], i2[..., 1]], "g3": x[i3[:, 0], i3[:, 1], i3[:, 2]],
        "g1": x[i1[:, 0]],
        "s": np.zeros((5, 2), np.float32), "si": np.array([[0, 7, 0], [0, 0, 0]], np.int32),
        "std": np.full((3, 4), -1.0, np.float32), "std1": np.array([0, 3, 0, 0, 3, 0],
                                                                  np.int32),
    }
    want["s"][1] = upd[0] + upd[2]
    want["s"][3] = upd[1]
    want["std"][0, 1], want["std"][2, 3] = 7, 8
    assert fetch["g2"].shape.as_list() == [2, 2, 5]
    assert fetch["g2"].op.type == "GatherNd" and fetch["s"].op.type == "ScatterNd"
    assert fetch["std"].op.type == "SparseToDense"
    _check(_run(fetch, {p: x}), want)
    with pytest.raises(ValueError, match="indices.shape"):
        tf.gather_nd(p, np.zeros((2, 4), idt))


def _numpy_batch_gather_nd(p, idx, b):
    """TF's definition: gather_nd of params[batch] by indices[batch] per batch entry."""
    bshape = idx.shape[:b]
    out = [p[bi][tuple(np.moveaxis(idx[bi], -1, 0))] for bi in np.ndindex(*bshape)]
    return np.stack(out).reshape(bshape + out[0].shape)


@pytest.mark.parametrize("pshape,ishape,b", [
    ((2, 3, 4, 5), (2, 6, 1), 1),          # one batch dim, index into dim 1
    ((2, 3, 4, 5), (2, 2, 3, 2), 1),       # index pairs, inner dims 2x3
    ((2, 3, 4, 5), (2, 3, 2, 1), 2),       # two batch dims
    ((3, 4), (3, 1), 1),                   # scalar per batch entry
])
def test_gather_nd_with_batch_dims(pshape, ishape, b):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(pshape).astype(np.float32)
    k = ishape[-1]
    idx = np.stack([rng.integers(0, pshape[b + j], ishape[:-1]) for j in range(k)], -1)
    p = tf.placeholder(tf.float32, [None] + list(pshape[1:]))
    y = tf.gather_nd(p, idx.astype(np.int32), batch_dims=b)
    want = _numpy_batch_gather_nd(x, idx, b)
    assert y.shape.as_list() == list(want.shape)
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y, {p: x}), want)
    check_gradients(lambda t: [tf.gather_nd(t, idx, batch_dims=b)],
                    [x.astype(np.float64)])
    with pytest.raises(ValueError, match="batch_dims"):
        tf.gather_nd(p, idx, batch_dims=len(ishape))


def test_broadcast_to_and_meshgrid():
    x = np.arange(3, dtype=np.float32).reshape(3, 1)
    p = tf.placeholder(tf.float32, [3, 1])
    b = tf.broadcast_to(p, [2, 3, 4])
    assert b.name == "BroadcastTo:0" and b.shape.as_list() == [2, 3, 4]
    gx, gy = tf.meshgrid(tf.range(3), tf.range(4))
    hx, hy = tf.meshgrid([1.0, 2.0], [3.0, 4.0, 5.0], indexing="ij")
    got = _run([b, gx, gy, hx, hy], {p: x})
    np.testing.assert_array_equal(got[0], np.broadcast_to(x, [2, 3, 4]))
    for g, w in zip(got[1:], np.meshgrid(np.arange(3), np.arange(4)) +
                    np.meshgrid([1.0, 2.0], [3.0, 4.0, 5.0], indexing="ij")):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="Incompatible shapes"):
        tf.broadcast_to(p, [3, 2, 4, 4])


def test_where_and_boolean_mask():
    c = np.array([[True, False, True], [False, False, True]])
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    p = tf.placeholder(tf.float32, [None, 3, 4])
    w = tf.where(c)
    assert w.op.type == "Where" and w.dtype == tf.int64 and w.shape.as_list() == [None, 2]
    m1 = tf.boolean_mask(p, c)
    m2 = tf.boolean_mask(p, np.array([False, True, True]), axis=1)
    m3 = tf.boolean_mask(p, tf.greater(tf.range(3), 0), axis=1)   # folded at compile time
    assert m1.shape.as_list() == [None, 4]
    got = _run([w, m1, m2, m3, tf.where(c[0])], {p: x})
    np.testing.assert_array_equal(got[0], np.argwhere(c))
    np.testing.assert_array_equal(got[1], x[c])
    np.testing.assert_array_equal(got[2], x[:, 1:])
    np.testing.assert_array_equal(got[3], x[:, 1:])
    np.testing.assert_array_equal(got[4], np.argwhere(c[0]))
    fed = tf.placeholder(tf.bool, [2])     # known only at run time (tests/test_where_dynamic.py)
    np.testing.assert_array_equal(_run(tf.boolean_mask(p, fed), {p: x, fed: [False, True]}),
                                  x[1:])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(p, True)


# ---------------------------------------------------------------- ordering

@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_top_k_sort_argsort(dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(-4, 5, (3, 4, 7)).astype(dtype)    # many ties
    p = tf.placeholder(tf.as_dtype(dtype), [3, 4, 7])
    v, i = tf.nn.top_k(p, 3)
    assert v.name == "TopKV2:0" and i.name == "TopKV2:1" and i.dtype == tf.int32
    assert v.shape.as_list() == [3, 4, 3]
    fetch = {"v": v, "i": i, "v0": tf.nn.top_k(p, 0)[0], "all": tf.nn.top_k(p, 7)[1],
             "as": tf.argsort(p), "ds": tf.argsort(p, axis=1, direction="DESCENDING"),
             "s0": tf.sort(p, axis=0), "sd": tf.sort(p, direction="DESCENDING")}
    order = np.argsort(-x.astype(np.int64), axis=-1, kind="stable")   # ties by index
    want = {"v": np.take_along_axis(x, order, -1)[..., :3], "i": order[..., :3].astype(np.int32),
            "v0": np.zeros((3, 4, 0), dtype), "all": order.astype(np.int32),
            "as": np.argsort(x, -1, kind="stable").astype(np.int32),
            "ds": np.argsort(-x.astype(np.int64), 1, kind="stable").astype(np.int32),
            "s0": np.sort(x, 0), "sd": -np.sort(-x, -1)}
    _check(_run(fetch, {p: x}), want)
    with pytest.raises(ValueError, match="last dimension >= k"):
        tf.nn.top_k(p, 8)
    with pytest.raises(ValueError, match="ASCENDING"):
        tf.sort(p, direction="UP")


def test_sort_in_blocks():
    # long rows are ranked in blocks of comparisons; ties keep index order
    x = np.random.default_rng(9).integers(0, 500, (2, 3000)).astype(np.float32)
    p = tf.placeholder(tf.float32, x.shape)
    got = _run([tf.argsort(p), tf.nn.top_k(p, 2100)[1], tf.random_shuffle(p[0])], {p: x})
    np.testing.assert_array_equal(got[0], np.argsort(x, -1, kind="stable"))
    np.testing.assert_array_equal(got[1], np.argsort(-x, -1, kind="stable")[:, :2100])
    np.testing.assert_array_equal(np.sort(got[2]), np.sort(x[0]))


def test_cumsum_cumprod():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 4))
    xi = rng.integers(-3, 4, (7,)).astype(np.int32)
    p, pi = tf.placeholder(tf.float64, x.shape), tf.placeholder(tf.int32, xi.shape)
    assert tf.cumsum(pi).name == "Cumsum:0"
    fetch, want = {}, {}
    for ax in (0, 1, -1):
        for ex in (False, True):
            for rev in (False, True):
                k = f"{ax}{ex}{rev}"
                fetch[k] = tf.cumsum(p, ax, exclusive=ex, reverse=rev)
                y = np.flip(x, ax) if rev else x
                c = np.cumsum(y, ax)
                if ex:
                    c = c - y
                want[k] = np.flip(c, ax) if rev else c
    fetch["int"] = tf.cumsum(pi, exclusive=True)
    want["int"] = (np.cumsum(xi) - xi).astype(np.int32)
    fetch["prod"] = tf.cumprod(p, 1)
    want["prod"] = np.cumprod(x, 1)
    fetch["prod_ex_rev"] = tf.cumprod(p, 1, exclusive=True, reverse=True)
    want["prod_ex_rev"] = np.flip(np.cumprod(np.concatenate(
        [np.ones((3, 1, 4)), np.flip(x, 1)[:, :-1]], 1), 1), 1)
    fetch["empty"] = tf.cumsum(p[:, :0], 1)
    want["empty"] = np.zeros((3, 0, 4))
    _check(_run(fetch, {p: x, pi: xi}), want, tol=1e-12)


def test_random_shuffle():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    p = tf.placeholder(tf.float32, [20, 2])
    s = tf.random_shuffle(p, seed=3)
    assert s.op.type == "RandomShuffle" and s.shape.as_list() == [20, 2]
    with tf.Session() as sess:
        a = sess.run(s, {p: x})
        b = sess.run(s, {p: x})
    for r in (a, b):
        np.testing.assert_array_equal(np.sort(r[:, 0]), x[:, 0])
        np.testing.assert_array_equal(r[:, 1], r[:, 0] + 1)   # rows move whole
    assert not np.array_equal(a, b) and not np.array_equal(a, x)
    tf.reset_default_graph()
    p = tf.placeholder(tf.float32, [20, 2])
    s = tf.random_shuffle(p, seed=3)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(s, {p: x}), a)   # reproducible


# ---------------------------------------------------------------- clipping and norms

def test_clipping_and_logsumexp():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4)).astype(np.float32) * 3
    y = rng.standard_normal((5,)).astype(np.float32)
    px, py = tf.placeholder(tf.float32, x.shape), tf.placeholder(tf.float32, y.shape)
    cv = tf.clip_by_value(px, -1.0, 2.0)
    assert cv.name == "clip_by_value:0"
    cn = tf.clip_by_norm(px, 2.0, axes=[1])
    assert cn.name == "clip_by_norm:0"
    gn = tf.global_norm([px, py])
    (cx, cy), norm = tf.clip_by_global_norm([px, py], 1.5)
    (cz, cnone), _ = tf.clip_by_global_norm([py, None], 100.0)
    big = tf.constant([[1000.0, 1000.0], [-np.inf, -np.inf]])
    fetch = {"cv": cv, "cn": cn, "cn0": tf.clip_by_norm(tf.zeros([2]), 1.0), "gn": gn,
             "cx": cx, "cy": cy, "norm": norm, "cz": cz,
             "lse": tf.reduce_logsumexp(px, axis=1), "lse_all": tf.reduce_logsumexp(px),
             "lse_keep": tf.reduce_logsumexp(px, 0, keepdims=True),
             "lse_big": tf.reduce_logsumexp(big, axis=1)}
    g = np.sqrt((x ** 2).sum() + (y ** 2).sum())
    rn = np.sqrt((x ** 2).sum(1, keepdims=True))
    m = x.max(1, keepdims=True)
    want = {"cv": np.clip(x, -1, 2), "cn": x * 2 / np.maximum(rn, 2),
            "cn0": np.zeros(2, np.float32), "gn": np.float32(g),
            "cx": x * 1.5 / max(g, 1.5), "cy": y * 1.5 / max(g, 1.5), "norm": np.float32(g),
            "cz": y, "lse": (np.log(np.exp(x - m).sum(1, keepdims=True)) + m)[:, 0],
            "lse_all": np.float32(np.log(np.exp(x - x.max()).sum()) + x.max()),
            "lse_keep": np.log(np.exp(x).sum(0, keepdims=True)),
            "lse_big": np.array([1000 + np.log(2), -np.inf], np.float32)}
    _check(_run(fetch, {px: x, py: y}), {k: np.asarray(v, np.float32) for k, v in
                                         want.items()}, tol=1e-5)
    assert cnone is None


# ---------------------------------------------------------------- einsum

def test_einsum_patterns():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    c = rng.standard_normal((5, 2, 3)).astype(np.float32)
    d = rng.standard_normal((5, 3, 4)).astype(np.float32)
    s = rng.standard_normal((3, 3)).astype(np.float32)
    v = rng.standard_normal((3,)).astype(np.float32)
    pa = tf.placeholder(tf.float32, [None, 3])
    pb, pc, pd = (tf.placeholder(tf.float32, t.shape) for t in (b, c, d))
    ps, pv = tf.placeholder(tf.float32, s.shape), tf.placeholder(tf.float32, v.shape)
    cases = {
        "ij,jk->ik": (pa, pb), "bij,bjk->bik": (pc, pd), "ij->ji": (pa,), "ii->": (ps,),
        "ii->i": (ps,), "i,j->ij": (pv, pv), "bij->j": (pc,), "ij,jk": (pa, pb),
        "...ij,...jk->...ik": (pc, pd), "bij,jk->bik": (pc, pb), "i,i->": (pv, pv),
        "ij,ij->i": (ps, ps), "bij,bkj->bik": (pc, pc), "ij,jk,k->i": (pa, pb, pb[0]),
    }
    npv = {pa: a, pb: b, pc: c, pd: d, ps: s, pv: v}
    fetch = {eq: tf.einsum(eq, *ins) for eq, ins in cases.items()}
    assert fetch["ij,jk->ik"].shape.as_list() == [None, 4]
    got = _run(fetch, npv)
    for eq, ins in cases.items():
        vals = [npv[t] if t in npv else b[0] for t in ins]
        np.testing.assert_allclose(got[eq], np.einsum(eq, *vals), rtol=1e-5, atol=1e-5,
                                   err_msg=eq)
    with pytest.raises(ValueError):
        tf.einsum("ij,jk->il", pa, pb)
    with pytest.raises(ValueError):
        tf.einsum("ijk,jk->i", pa, pb)


# ---------------------------------------------------------------- indexing

def test_getitem_with_tensor_indices():
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    p = tf.placeholder(tf.float32, [3, 4, 5])
    i = tf.placeholder(tf.int32, [])
    a, b, c = p[i], p[i, 1:3, ::-2], p[..., -i]
    assert a.name == "strided_slice:0" and b.shape.as_list() == [2, 3]
    assert a.op.inputs[1].name == "strided_slice/stack:0"
    d = p[tf.constant(1) + 1, 2]                      # folded at compile time
    assert p[1, 2:].op.inputs[1].name == "strided_slice_4/stack:0"
    with tf.Session() as s:
        for iv in (0, 2, -1):
            r = s.run([a, b, c, d], {p: x, i: iv})
            np.testing.assert_array_equal(r[0], x[iv])
            np.testing.assert_array_equal(r[1], x[iv, 1:3, ::-2])
            np.testing.assert_array_equal(r[2], x[..., -iv])
            np.testing.assert_array_equal(r[3], x[2, 2])
    with pytest.raises(TypeError, match="valid indices"):
        p[tf.constant(1.0)]
    with pytest.raises(TypeError, match="valid indices"):
        p[tf.constant([1, 2])]


# ---------------------------------------------------------------- gradients

_check_gradients = check_gradients


def test_manipulation_gradients():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4))
    u = rng.standard_normal((3, 2))
    v = rng.standard_normal((2,))

    def build(a, b, c):
        s1 = tf.split(a, 2, axis=1)
        s2 = tf.split(a, [1, -1], axis=0)
        return [s1[0] * 2.0, s1[1], s2[1],
                tf.pad(a, [[1, 0], [0, 2]], constant_values=3.0),
                tf.pad(a, [[1, 2], [2, 1]], mode="REFLECT"),
                tf.pad(a, [[2, 1], [0, 3]], mode="SYMMETRIC"),
                tf.reverse(a, [1]), tf.tile(a, [2, 1]),
                tf.gather_nd(a, [[0, 1], [2, 3], [0, 1]]),
                tf.scatter_nd([[1], [3], [1]], b, [5, 2]),
                tf.sparse_to_dense([[0, 1], [2, 0]], [3, 3], c, default_value=a[0, 0]),
                tf.broadcast_to(c, [3, 2]), tf.broadcast_to(a[:1], [2, 3, 4]),
                tf.einsum("ij,ik->jk", a, b), tf.einsum("ii->i", a[:, :3]),
                a[tf.constant(1)]]
    _check_gradients(build, [x, u, v])


def test_ordering_and_norm_gradients():
    rng = np.random.default_rng(8)
    x = rng.permutation(12).reshape(3, 4) / 5.0 + 0.3   # distinct: top_k is smooth
    y = rng.standard_normal((2, 5))

    def build(a, b):
        vals, _ = tf.nn.top_k(a, 2)
        return [vals, tf.sort(a, axis=0), tf.cumsum(b, 1), tf.cumsum(b, 1, exclusive=True),
                tf.cumsum(b, 0, reverse=True), tf.cumprod(a, 1),
                tf.cumprod(a, 0, exclusive=True, reverse=True),
                tf.reduce_logsumexp(b, axis=1), tf.clip_by_norm(b, 1.0, axes=[1]),
                tf.clip_by_global_norm([a, b], 2.0)[0][1]]
    _check_gradients(build, [x, y])
