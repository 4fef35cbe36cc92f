"""Property: optimizing never changes what a function computes.

Hypothesis builds random functions of elementwise ops, broadcasts,
reductions, reshapes, transposes, slices, selects and dots (with constants
that invite folding and x*1 / x+0 rewrites, and values used several times
so CSE and cloning have work). Each is run four ways: the reference
interpreter on the original (the oracle), the interpreter on the optimized
IR (catches pass bugs alone), compiled with the fused kernels, and compiled
one kernel per instruction without optimization. All must agree.

Every value carries a bound on its magnitude, so the generator keeps
numbers finite and the tolerance can scale with them (sums and dots may be
reassociated by the compiler).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tfcompile.ir.compiler import compile_function
from tfcompile.ir.core import Builder, Function, TensorType
from tfcompile.ir.interpreter import run_function
from tfcompile.ir.passes.pipeline import optimize

SIZES = (1, 2, 3, 5)
MAX_BOUND = 1e4


@pytest.fixture(autouse=True)
def _verify_every_pass(monkeypatch):
    monkeypatch.setenv("TFC_VERIFY", "1")


class _Graph:
    def __init__(self, draw):
        self.draw = draw
        self.fn = Function("prop")
        self.b = Builder(self.fn)
        self.values = []          # (Value, bound on |element|)
        self.bound = {}

    def add(self, v, bound):
        self.values.append(v)
        self.bound[v] = float(bound)
        return v

    def pick(self, cond=lambda v: True):
        vs = [v for v in self.values if cond(v)]
        if not vs:
            return None
        # Favor recent values: deeper graphs, more chains to fuse.
        i = self.draw(st.integers(0, len(vs) - 1))
        j = self.draw(st.integers(0, len(vs) - 1))
        return vs[max(i, j)]

    def shape(self, rank):
        return tuple(self.draw(st.sampled_from(SIZES)) for _ in range(rank))

    def param(self, shape):
        return self.add(self.b.param(TensorType(shape, "f32"), f"p{len(self.fn.params)}"), 2.0)

    def splat(self, value, shape):
        c = self.b.constant(np.float32(value))
        return self.add(self.b.emit("broadcast", [c], shape=shape, dims=()), abs(value))

    def same_shape_partner(self, a):
        v = self.pick(lambda v: v.shape == a.shape)
        if v is None or self.draw(st.booleans()):
            choice = self.draw(st.sampled_from(["one", "zero", "const", "param", "bcast"]))
            if choice == "one":
                return self.splat(1.0, a.shape)
            if choice == "zero":
                return self.splat(0.0, a.shape)
            if choice == "const":
                vals = self.draw(st.lists(st.sampled_from([-1.5, 0.5, 2.0, 3.0]),
                                          min_size=max(a.type.size, 1),
                                          max_size=max(a.type.size, 1)))
                arr = np.array(vals, np.float32).reshape(a.shape)
                return self.add(self.b.constant(arr), 3.0)
            if choice == "bcast" and a.type.rank >= 1:
                low = self.pick(lambda v: 0 < v.type.rank < a.type.rank
                                and v.shape == a.shape[a.type.rank - v.type.rank:])
                if low is not None:
                    r = a.type.rank
                    return self.add(self.b.emit("broadcast", [low], shape=a.shape,
                                                dims=tuple(range(r - low.type.rank, r))),
                                    self.bound[low])
            return self.param(a.shape)
        return v

    # -- one random instruction ---------------------------------------------------
    def step(self):
        kind = self.draw(st.sampled_from(
            ["unary", "binary", "binary", "broadcast", "reduce", "reshape", "transpose",
             "slice", "select", "dot"]))
        getattr(self, "_" + kind)()

    def _unary(self):
        a = self.pick()
        ops = ["neg", "abs", "tanh", "logistic"] + (["exp"] if self.bound[a] <= 4 else [])
        op = self.draw(st.sampled_from(ops))
        bound = {"tanh": 1.0, "logistic": 1.0}.get(op, self.bound[a])
        if op == "exp":
            bound = float(np.exp(self.bound[a]))
        self.add(self.b.emit(op, [a]), bound)

    def _binary(self):
        a = self.pick()
        c = self.same_shape_partner(a)
        op = self.draw(st.sampled_from(["add", "sub", "mul", "max", "min"]))
        x, y = (a, c) if self.draw(st.booleans()) else (c, a)
        ba, bc = self.bound[a], self.bound[c]
        bound = ba * bc if op == "mul" else (ba + bc if op in ("add", "sub") else max(ba, bc))
        if bound > MAX_BOUND:
            x = self.add(self.b.emit("tanh", [x]), 1.0)
            bound = self.bound[y] if op == "mul" else self.bound[y] + 1
        self.add(self.b.emit(op, [x, y]), bound)

    def _broadcast(self):
        a = self.pick(lambda v: v.type.rank <= 2)
        if a is None:
            return self._reduce()
        r = a.type.rank
        new = self.draw(st.integers(1, 3 - r)) if r < 3 else 0
        out_rank = r + new
        dims = sorted(self.draw(st.permutations(range(out_rank)))[:r])
        shape = list(self.shape(out_rank))
        for i, d in enumerate(dims):
            # A size-1 dim may expand; others keep their size.
            if a.shape[i] != 1 or self.draw(st.booleans()):
                shape[d] = a.shape[i]
        self.add(self.b.emit("broadcast", [a], shape=tuple(shape), dims=tuple(dims)),
                 self.bound[a])

    def _reduce(self):
        a = self.pick(lambda v: v.type.rank >= 1)
        if a is None:
            return self._unary()
        r = a.type.rank
        axes = sorted(set(self.draw(st.lists(st.integers(0, r - 1), min_size=1, max_size=r))))
        kind = self.draw(st.sampled_from(["sum", "max", "min"]))
        n = int(np.prod([a.shape[i] for i in axes]))
        bound = self.bound[a] * n if kind == "sum" else self.bound[a]
        self.add(self.b.emit("reduce", [a], kind=kind, axes=tuple(axes)), bound)

    def _reshape(self):
        a = self.pick()
        s = a.shape
        options = [(a.type.size,), s + (1,), (1,) + s]
        if len(s) >= 2:
            options.append((s[0] * s[1],) + s[2:])
        if a.type.size % 2 == 0 and a.type.size > 2:
            options.append((2, a.type.size // 2))
        shape = self.draw(st.sampled_from(options))
        self.add(self.b.emit("reshape", [a], shape=shape), self.bound[a])

    def _transpose(self):
        a = self.pick(lambda v: v.type.rank >= 2)
        if a is None:
            return self._reshape()
        perm = self.draw(st.permutations(range(a.type.rank)))
        self.add(self.b.emit("transpose", [a], perm=tuple(perm)), self.bound[a])

    def _slice(self):
        a = self.pick(lambda v: any(d >= 2 for d in v.shape))
        if a is None:
            return self._unary()
        start = tuple(self.draw(st.integers(0, max(d - 1, 0))) for d in a.shape)
        stride = tuple(self.draw(st.integers(1, 2)) for _ in a.shape)
        limit = tuple(self.draw(st.integers(s + 1 if d else 0, d)) if d else 0
                      for s, d in zip(start, a.shape))
        self.add(self.b.emit("slice", [a], start=start, limit=limit, stride=stride),
                 self.bound[a])

    def _select(self):
        a = self.pick()
        c = self.same_shape_partner(a)
        p = self.b.emit(self.draw(st.sampled_from(["gt", "le"])), [a, c])
        self.add(self.b.emit("select", [p, a, c]), max(self.bound[a], self.bound[c]))

    def _dot(self):
        a = self.pick(lambda v: v.type.rank == 2)
        if a is None:
            return self._reshape()
        ta = self.draw(st.booleans())
        k = a.shape[0] if ta else a.shape[1]
        b = self.pick(lambda v: v.type.rank == 2 and k in v.shape)
        if b is None or self.draw(st.booleans()):
            b = self.param((k, self.draw(st.sampled_from(SIZES))))
        tb = b.shape[1] == k and (b.shape[0] != k or self.draw(st.booleans()))
        bound = self.bound[a] * self.bound[b] * k
        if bound > MAX_BOUND:
            a = self.add(self.b.emit("tanh", [a]), 1.0)
            bound = self.bound[b] * k
        self.add(self.b.emit("dot", [a, b], transpose_a=ta, transpose_b=tb), bound)


@st.composite
def functions(draw, max_ops=10):
    g = _Graph(draw)
    for _ in range(draw(st.integers(1, 2))):
        g.param(g.shape(draw(st.integers(0, 3))))
    for _ in range(draw(st.integers(1, max_ops))):
        g.step()
    made = [v for v in g.values if v.producer is not None] or g.values
    results = [made[-1]] + draw(st.lists(st.sampled_from(g.values), max_size=2))
    for v in results:
        g.b.result(v)
    return g.fn, max(g.bound[v] for v in g.values)


def _args(fn, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, p.shape).astype(np.float32) for p in fn.params]


def check(fn, bound, seed=0):
    args = _args(fn, seed)
    want = run_function(fn, args)
    opt, kernels, stats = optimize(fn)
    fused = compile_function(opt, kernels=kernels)
    plain = compile_function(fn, kernels=None)
    atol = 1e-5 * max(1.0, bound)
    for name, got in (("optimized IR, interpreted", run_function(opt, args)),
                      ("optimized, fused kernels", fused.run(args)),
                      ("unoptimized, one kernel per op", plain.run(args))):
        for i, (w, g) in enumerate(zip(want, got)):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=atol,
                                       err_msg=f"{name}: result {i}\n{fn}\n{opt}")


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(functions())
def test_optimized_equals_unoptimized_and_interpreter(case):
    fn, bound = case
    check(fn, bound)


@pytest.mark.slow
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(functions(max_ops=16))
def test_optimized_equals_unoptimized_and_interpreter_many(case):
    fn, bound = case
    check(fn, bound)
