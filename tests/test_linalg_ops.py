"""Matrix ops against numpy (batched, float32 and float64, singular and
permuted inputs), TF 1.15's names and errors, and the gradients of the
factorizations against central finite differences in float64."""
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


def _spd(rng, shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def test_inverse_determinant_solve():
    rng = np.random.default_rng(0)
    fetch, want, feeds = {}, {}, {}
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((2, 3, 4, 4)).astype(dtype)
        a[0, 0] = [[0, 2, 1, 0], [1, 0, 0, 3], [0, 0, 4, 1], [2, 1, 0, 0]]   # pivoting
        sing = np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]], dtype)
        b = rng.standard_normal((2, 3, 4, 2)).astype(dtype)
        one = np.array([[3.0]], dtype)
        pa, pb, ps, p1 = (tf.placeholder(tf.as_dtype(dtype), v.shape)
                          for v in (a, b, sing, one))
        feeds.update({pa: a, pb: b, ps: sing, p1: one})
        d = np.dtype(dtype).name
        fetch.update({d + "inv": tf.matrix_inverse(pa),
                      d + "inv_adj": tf.linalg.inv(pa, adjoint=True),
                      d + "det": tf.matrix_determinant(pa), d + "det_sing": tf.linalg.det(ps),
                      d + "det1": tf.matrix_determinant(p1), d + "inv1": tf.matrix_inverse(p1),
                      d + "solve": tf.matrix_solve(pa, pb),
                      d + "solve_adj": tf.linalg.solve(pa, pb, adjoint=True)})
        want.update({d + "inv": np.linalg.inv(a),
                     d + "inv_adj": np.linalg.inv(np.swapaxes(a, -1, -2)),
                     d + "det": np.linalg.det(a), d + "det_sing": np.asarray(0, dtype),
                     d + "det1": np.asarray(3, dtype), d + "inv1": 1 / one,
                     d + "solve": np.linalg.solve(a, b),
                     d + "solve_adj": np.linalg.solve(np.swapaxes(a, -1, -2), b)})
    assert fetch["float32inv"].name == "MatrixInverse:0"
    assert fetch["float32det"].name == "MatrixDeterminant:0"
    assert fetch["float32det"].shape.as_list() == [2, 3]
    got = _run(fetch, feeds)
    for k in want:
        dtype = np.float32 if k.startswith("float32") else np.float64
        tol = 2e-4 if dtype == np.float32 else 1e-10
        assert got[k].dtype == dtype, k
        np.testing.assert_allclose(got[k], want[k].astype(dtype), rtol=tol, atol=tol,
                                   err_msg=k)


def test_cholesky_triangular_solve_logdet():
    rng = np.random.default_rng(1)
    a = _spd(rng, (3, 4, 4))
    low = np.tril(rng.standard_normal((3, 4, 4))) + 3 * np.eye(4)
    b = rng.standard_normal((3, 4, 2))
    pa, pl, pb = (tf.placeholder(tf.float64, v.shape) for v in (a, low, b))
    ch = tf.cholesky(pa)
    assert ch.name == "Cholesky:0"
    up = np.swapaxes(low, -1, -2)
    fetch = {"chol": ch, "logdet": tf.linalg.logdet(pa),
             "tri": tf.matrix_triangular_solve(pl, pb),
             "tri_adj": tf.linalg.triangular_solve(pl, pb, adjoint=True),
             "tri_up": tf.matrix_triangular_solve(tf.linalg.adjoint(pl), pb, lower=False)}
    want = {"chol": np.linalg.cholesky(a), "logdet": np.linalg.slogdet(a)[1],
            "tri": np.linalg.solve(low, b), "tri_adj": np.linalg.solve(up, b),
            "tri_up": np.linalg.solve(up, b)}
    got = _run(fetch, {pa: a, pl: low, pb: b})
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-10, err_msg=k)


def test_diagonals_bands_eye_trace_norm():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    d = rng.standard_normal((2, 3)).astype(np.float32)
    v = rng.standard_normal((3, 2)).astype(np.float32)
    px, pd, pv = (tf.placeholder(tf.float32, t.shape) for t in (x, d, v))
    md = tf.matrix_diag(pd)
    assert md.op.type == "MatrixDiag" and md.name == "diag:0"
    assert md.shape.as_list() == [2, 3, 3]
    mdp = tf.matrix_diag_part(px)
    assert mdp.name == "diag_part:0" and mdp.shape.as_list() == [2, 3]
    td = tf.diag(pv)
    assert td.op.type == "Diag" and td.shape.as_list() == [3, 2, 3, 2]
    fetch = {"md": md, "mdp": mdp, "td": td, "tdp": tf.diag_part(td),
             "set": tf.matrix_set_diag(px, pd), "band": tf.matrix_band_part(px, 1, 0),
             "band_all": tf.matrix_band_part(px, -1, 1), "trace": tf.trace(px),
             "eye": tf.eye(3), "eye_rect": tf.eye(2, 4, batch_shape=[2], dtype=tf.int32),
             "norm": tf.norm(px), "norm_ax": tf.norm(px, ord=1, axis=-1),
             "norm_inf": tf.norm(pv, ord=np.inf, axis=0)}
    band = np.zeros_like(x)
    band_all = np.zeros_like(x)
    for i in range(3):
        for j in range(4):
            if 0 <= i - j <= 1:
                band[:, i, j] = x[:, i, j]
            if j - i <= 1:
                band_all[:, i, j] = x[:, i, j]
    setd = x.copy()
    for i in range(3):
        setd[:, i, i] = d[:, i]
    want = {"md": np.stack([np.diag(r) for r in d]),
            "mdp": np.stack([np.diag(m) for m in x]),
            "td": np.diag(v.ravel()).reshape(3, 2, 3, 2), "tdp": v, "set": setd,
            "band": band, "band_all": band_all, "trace": np.trace(x, axis1=-2, axis2=-1),
            "eye": np.eye(3, dtype=np.float32),
            "eye_rect": np.broadcast_to(np.eye(2, 4, dtype=np.int32), (2, 2, 4)),
            "norm": np.float32(np.sqrt((x ** 2).sum())), "norm_ax": np.abs(x).sum(-1),
            "norm_inf": np.abs(v).max(0)}
    got = _run(fetch, {px: x, pd: d, pv: v})
    for k in want:
        assert got[k].dtype == want[k].dtype, k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_build_time_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.matrix_inverse(tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="at least rank 2"):
        tf.matrix_determinant(tf.zeros([3]))
    with pytest.raises(TypeError):
        tf.cholesky(tf.zeros([2, 2], tf.int32))
    with pytest.raises(ValueError):
        tf.matrix_solve(tf.zeros([3, 3]), tf.zeros([2, 1]))
    with pytest.raises(ValueError, match="even rank"):
        tf.diag_part(tf.zeros([2, 2, 2]))


_check_gradients = check_gradients


def test_matrix_gradients():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    s = rng.standard_normal((3, 3))
    low = np.tril(rng.standard_normal((3, 3))) + 3 * np.eye(3)

    def build(pa, pb, ps, pl):
        spd = tf.matmul(ps, ps, transpose_b=True) + 3 * tf.eye(3, dtype=tf.float64)
        return [tf.matrix_inverse(pa), tf.matrix_inverse(pa, adjoint=True),
                tf.matrix_determinant(pa), tf.matrix_solve(pa, pb),
                tf.matrix_solve(pa, pb, adjoint=True), tf.cholesky(spd),
                tf.matrix_triangular_solve(pl, pb[0]), tf.trace(pa),
                tf.matrix_diag(pb[:, :, 0]), tf.matrix_diag_part(pb),
                tf.matrix_set_diag(pa, pb[:, :, 1]), tf.matrix_band_part(ps, 0, 1),
                tf.diag(pb[0, :, 0]), tf.diag_part(pl)]
    _check_gradients(build, [a, b, s, low], tol=2e-6)


@pytest.mark.parametrize("k", [-2, -1, 1, 3])
def test_off_diagonals_against_numpy(k):
    """diag_part / set_diag / diag of diagonal k (j - i == k), and their gradients."""
    x = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    want_part = np.diagonal(x, offset=k)
    with tf.Graph().as_default():
        xp = tf.placeholder(tf.float64, [3, 4])
        part = tf.linalg.diag_part(xp, k=k)
        setd = tf.linalg.set_diag(xp, part * 10, k=k)
        d = tf.constant(want_part)
        full = tf.linalg.diag(d, k=k, num_rows=3, num_cols=4) if k < 3 else \
            tf.linalg.diag(d, k=k)
        with tf.Session() as s:
            p, sd, f = s.run([part, setd, full], {xp: x})
    np.testing.assert_array_equal(p, want_part)
    want_set = x.copy()
    rows = np.arange(len(want_part)) + max(-k, 0)
    want_set[rows, rows + k] = want_part * 10
    np.testing.assert_array_equal(sd, want_set)
    want_full = np.zeros(f.shape)
    want_full[rows, rows + k] = want_part
    np.testing.assert_array_equal(f, want_full)
    check_gradients(lambda a: [tf.linalg.diag_part(a, k=k) ** 2,
                               tf.linalg.set_diag(a, tf.linalg.diag_part(a, k=k) * 3, k=k)],
                    [x])


@pytest.mark.parametrize("k", [-1, 2])
def test_matrix_diag_off_diagonal_gradient(k):
    check_gradients(lambda d: [tf.linalg.diag(d, k=k, padding_value=0)],
                    [np.array([0.5, -1.0, 2.0])])


def _numpy_band(x, k0, k1, pad, align):
    """TF's packing of diagonals k1..k0 into rows of the longest one's length."""
    lens = {d: np.diagonal(x, offset=d, axis1=-2, axis2=-1).shape[-1] for d in range(k0, k1 + 1)}
    width = max(lens.values())
    rows = []
    for d in range(k1, k0 - 1, -1):
        v = np.diagonal(x, offset=d, axis1=-2, axis2=-1)
        sup, sub = align.split("_")
        left = 0 if (d >= 0 and sup == "LEFT") or (d <= 0 and sub == "LEFT") else width - lens[d]
        widths = [(0, 0)] * (v.ndim - 1) + [(left, width - lens[d] - left)]
        rows.append(np.pad(v, widths, constant_values=pad))
    return np.stack(rows, axis=-2)


@pytest.mark.parametrize("k", [(-1, 2), (0, 1), (1, 3)])
@pytest.mark.parametrize("align", ["RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT"])
def test_bands_of_diagonals_against_numpy(k, align):
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 5
    want = _numpy_band(x, *k, 9.0, align)
    with tf.Graph().as_default():
        part = tf.linalg.diag_part(tf.constant(x), k=k, padding_value=9, align=align)
        back = tf.linalg.set_diag(tf.zeros_like(x), part, k=k, align=align)
        full = tf.linalg.diag(part, k=k, num_rows=3, num_cols=4, align=align)
        with tf.Session() as s:
            p, b, f = s.run([part, back, full])
    np.testing.assert_array_equal(p, want)
    mask = np.zeros((3, 4), bool)
    for d in range(k[0], k[1] + 1):
        mask |= np.eye(3, 4, d, dtype=bool)
    np.testing.assert_array_equal(b, np.where(mask, x, 0))
    np.testing.assert_array_equal(f, np.where(mask, x, 0))
    check_gradients(lambda a: [tf.linalg.diag_part(a, k=k, align=align) ** 2], [x[0]])
