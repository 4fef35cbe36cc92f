"""Transcendental functions emitted as straight-line, vectorizable LLVM IR.

`llvm.exp`/`llvm.log`/... lower to one libm call per element, which stops the
loop vectorizer. The emitters here produce only arithmetic, integer bit
manipulation of the exponent, selects, and intrinsics that vectorize
(`llvm.fma`, `llvm.fabs`, `llvm.floor`, `llvm.rint`, `llvm.copysign`,
`llvm.sqrt`): no calls, no branches. Every emitter accepts float, double or a
vector of either and returns a value of the same type.

    emit_unary(builder, op, x)   op in UNARY_OPS
    emit_pow(builder, x, y)      C pow, special cases included

Methods: Cody-Waite range reduction (ln2 and pi/2 split in two or three
parts, the first step exact thanks to fma), minimax polynomials (fitted by a
Remez exchange in high precision on the stated intervals, coefficients rounded
to the working precision), and error-free transformations (Fast2Sum, TwoSum,
fma products and remainders) wherever one rounding would cost accuracy.
f32 tanh and logistic trade that for speed (about 30 vector instructions
instead of about 70): one single-part exp (Cody-Waite, a degree-6 polynomial,
exponent bits) and one division, at up to 2.4 ulp; tanh uses an odd
polynomial below |x| = 0.55, where 1 - 2/(e^2|x| + 1) would cancel.
`llvm.fma` must be a true fused multiply-add (it is on x86-64 with FMA,
AArch64 and NVPTX; elsewhere LLVM falls back to a libm call). f32 exp, expm1,
log, log1p, tanh, logistic run in f32; f32 sin, cos and pow run in f64 and
round once at the end.

Max error in ulps of the exact result (subnormal ulp below the normal range),
measured by tests/test_vmath.py::test_documented_error_table (marked slow)
against numpy in f64 (for f32 results) or long double (for f64 results): f32
over every 61st bit pattern in the range (35-70 million values), f64 over
2.5-3.5 million random values, log-uniform over the whole range plus uniform
near 0. f32 tanh and logistic were also measured over every bit pattern
(tanh: 0 <= x <= 10, an odd function to the bit; logistic: |x| <= 105;
beyond, the results are exactly +-1, 0 or 1). The fast
tests assert 1 ulp (sqrt 0.5; f32 tanh 2, f32 logistic 2.5) on smaller samples.

    op        f32    f64    range
    exp       0.75   0.61   all x; overflow -> inf, gradual underflow to 0
    expm1     0.94   0.85   all x
    log       0.56   0.53   x > 0, subnormals included
    log1p     0.66   0.66   x > -1
    tanh      1.58   0.75   all x (f32: every bit pattern)
    logistic  2.40   0.75   all x (f32: every bit pattern)
    sin, cos  0.50   0.81   |x| <= 1e12
    pow       0.50   0.79   x of either sign, all y (down to subnormal results)
    sqrt      0.50   0.50   (llvm.sqrt)
    rsqrt     0.50   0.50   1/sqrt(x) with a correction step

Subnormal results are produced, not flushed (unless the thread runs with
flush-to-zero). Special values follow C99: exp(-inf) = 0, exp(inf) = inf,
log(0) = -inf, log(x < 0) = nan, log(inf) = inf, log1p(-1) = -inf,
tanh(+-inf) = +-1, logistic saturates to exactly 0 and 1 without nan,
sin/cos(+-inf) = nan, odd functions keep the sign of zero, rsqrt(0) = inf,
nan propagates everywhere; pow follows C99's table (pow(x, 0) = pow(1, y) = 1
even for nan, pow(-8, 1/3) = nan, pow(-0, -3) = -inf, pow(-1, +-inf) = 1,
...). sin/cos are not accurate past |x| ~ 1e12 (no Payne-Hanek reduction) but
stay within [-1, 1].
"""
from __future__ import annotations

import math

import llvmlite.ir as ir

UNARY_OPS = ("exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos",
             "sqrt", "rsqrt")

INF = math.inf
NAN = math.nan

# Minimax fits (relative error on the interval shown):
# exp:  e^r = 1 + r + r^2 Q(r),        r in [-0.35, 0.35]
EXP_Q32 = (0.5, 0.1666666716337204, 0.04166654869914055, 0.008333345875144005,
           0.0013926895335316658, 0.00019862360204569995)  # 2^-26.5
EXP_Q64 = (0.5, 0.16666666666666669, 0.04166666666666665, 0.008333333333329805,
           0.001388888888890151, 0.00019841269864330214, 2.480158727355009e-05,
           2.7557266487719852e-06, 2.7557330014925655e-07, 2.510131733342859e-08,
           2.0894319156124928e-09)  # 2^-56 (c0 = 1/2 exact, the rest fitted to (Q - 1/2)/r)
# log:  log(1+f) = 2s + s^3 P(s^2),     s = f/(2+f), s^2 in [0, 0.0295]
LOG_P32 = (0.6666668653488159, 0.3998871445655823, 0.2958272397518158)  # 2^-21.8
LOG_P64 = (0.6666666666666666, 0.4, 0.2857142857142938, 0.2222222222164781,
           0.18181818337198608, 0.15384594771782742, 0.13334814965627037,
           0.11705963621917173, 0.11726009020596892)  # (P - 2/3)/z fitted: 2^-53.8
# sin r = r + r^3 S(r^2);  cos r = 1 - r^2/2 + r^4 C(r^2),  r^2 in [0, 0.62]
SIN_S64 = (-0.16666666666666666, 0.008333333333330863, -0.0001984126983663432,
           2.7557316040360006e-06, -2.505111925393684e-08, 1.5917243851691778e-10)  # 2^-52.8
COS_C64 = (0.041666666666666664, -0.001388888888888735, 2.4801587298694918e-05,
           -2.755731723596043e-07, 2.0876138969039655e-09, -1.1382115713366283e-11)  # 2^-54.8
# shorter sets for f32 results (evaluated in f64)
# f32 tanh and logistic, single-part (no compensated steps; see the error table)
# tanh x = x + x^3 P(x^2),             |x| < 0.55  (relative 2^-29.8)
TANH_P32 = (-0.33333316445350647, 0.13332585990428925, -0.05385230854153633,
            0.021071676164865494, -0.006274235434830189)
TANH_SMALL32 = 0.55
# e^r = sum c_j r^j,                   |r| <= ln2/2  (relative 2^-29.0)
EXP_FAST32 = (1.0, 1.0, 0.49999991059303284, 0.16666419804096222, 0.04166822507977486,
              0.008374824188649654, 0.0013836853904649615)
SIN_S32 = (-0.1666666666375853, 0.0083333318410325, -0.00019840069824890753,
           2.7247844902795382e-06)  # 2^-32.4
COS_C32 = (0.041666666664252304, -0.001388888764732811, 2.4800587729100278e-05,
           -2.7299379722002345e-07)  # 2^-34.0

LOG2E = 1.4426950408889634
TWO_OVER_PI = 0.6366197723675814
# pi/2 = PIO2_1 + PIO2_2 + PIO2_3 (+ 5.6e-50)
PIO2_1, PIO2_2, PIO2_3 = 1.5707963267948966, 6.123233995736766e-17, -1.4973849048591698e-33


class _Prec:
    """Per-precision constants."""

    def __init__(self, bits):
        self.bits = bits
        if bits == 32:
            self.mant, self.bias, self.sub_scale = 23, 127, 24
            # exp: ln2 split in full-precision parts (the first fma step is exact)
            self.ln2_hi, self.ln2_lo = 0.6931471824645996, -1.9046542121259336e-09
            # log: e * ln2_hi must be exact for |e| < 2^8, hence a 16-bit head
            self.log_ln2_hi, self.log_ln2_lo = 0.693145751953125, 1.428606765330187e-06
            self.exp_q, self.log_p = EXP_Q32, LOG_P32
            self.log_c0 = (0.6666666865348816, -1.9868215517249155e-08)   # 2/3
            self.exp_lo, self.exp_hi = -104.0, 89.0      # beyond: 0 and inf
            self.expm1_lo, self.expm1_hi = -40.0, 89.0   # beyond: -1 and inf
            self.tanh_sat = 10.0                         # tanh rounds to 1 beyond
            self.max_exp = 127
            self.sqrt_half_bits = 0x3f3504f3
        else:
            self.mant, self.bias, self.sub_scale = 52, 1023, 54
            self.ln2_hi, self.ln2_lo = 0.6931471805599453, 2.3190468138462996e-17
            # 42-bit head: e * ln2_hi exact for |e| < 2^11
            self.log_ln2_hi, self.log_ln2_lo = 0.6931471805598903, 5.497923018708371e-14
            self.exp_q, self.log_p = EXP_Q64, LOG_P64
            self.log_c0 = (0.6666666666666666, 3.700743415417188e-17)
            self.exp_lo, self.exp_hi = -746.0, 710.0
            self.expm1_lo, self.expm1_hi = -40.0, 710.0
            self.tanh_sat = 20.0
            self.max_exp = 1023
            self.sqrt_half_bits = 0x3fe6a09e667f3bcd
        self.min_normal = 2.0 ** (1 - self.bias)


_P32, _P64 = _Prec(32), _Prec(64)


class _E:
    """Emission helpers bound to one builder and one float or float-vector type.

    Arithmetic helpers accept Python numbers for either operand and splat them
    into constants of the bound type.
    """

    def __init__(self, builder: ir.IRBuilder, ty):
        self.b = builder
        self.ty = ty
        self.vec = isinstance(ty, ir.VectorType)
        el = ty.element if self.vec else ty
        if isinstance(el, ir.FloatType):
            self.p = _P32
        elif isinstance(el, ir.DoubleType):
            self.p = _P64
        else:
            raise TypeError(f"vmath: expected float, double or a vector of them, got {ty}")
        self.el = el
        ity = ir.IntType(self.p.bits)
        self.ity = ir.VectorType(ity, ty.count) if self.vec else ity
        self.suffix = (f"v{ty.count}" if self.vec else "") + f"f{self.p.bits}"

    def with_type(self, el):
        """The same helpers for another element type with the same shape."""
        return _E(self.b, ir.VectorType(el, self.ty.count) if self.vec else el)

    # constants
    def k(self, v):
        if isinstance(v, ir.Value):
            return v
        return ir.Constant(self.ty, [float(v)] * self.ty.count if self.vec else float(v))

    def i(self, v):
        if isinstance(v, ir.Value):
            return v
        return ir.Constant(self.ity, [int(v)] * self.ty.count if self.vec else int(v))

    # float arithmetic (IEEE, no fast-math: the error-free steps need it)
    def add(self, a, b):
        return self.b.fadd(self.k(a), self.k(b))

    def sub(self, a, b):
        return self.b.fsub(self.k(a), self.k(b))

    def mul(self, a, b):
        return self.b.fmul(self.k(a), self.k(b))

    def div(self, a, b):
        return self.b.fdiv(self.k(a), self.k(b))

    def neg(self, a):
        return self.b.fneg(a)

    def call(self, name, *args):
        fname = f"llvm.{name}.{self.suffix}"
        mod = self.b.module
        fn = mod.globals.get(fname)
        if fn is None:
            fn = ir.Function(mod, ir.FunctionType(self.ty, [self.ty] * len(args)), fname)
        return self.b.call(fn, [self.k(a) for a in args])

    def fma(self, a, b, c):
        return self.call("fma", a, b, c)

    def abs(self, a):
        return self.call("fabs", a)

    def rint(self, a):
        return self.call("rint", a)

    def floor(self, a):
        return self.call("floor", a)

    def copysign(self, a, b):
        return self.call("copysign", a, b)

    def poly(self, t, coeffs):
        """c0 + c1 t + c2 t^2 + ... by Horner with fma."""
        acc = self.k(coeffs[-1])
        for c in reversed(coeffs[:-1]):
            acc = self.fma(acc, t, c)
        return acc

    # comparisons: ordered ones are false on nan, `ult`/`ueq` true on nan
    def cmp(self, op, a, b):
        return self.b.fcmp_ordered(op, self.k(a), self.k(b))

    def ucmp(self, op, a, b):
        return self.b.fcmp_unordered(op, self.k(a), self.k(b))

    def isnan(self, a):
        return self.b.fcmp_unordered("uno", a, a)

    def sel(self, c, a, b):
        return self.b.select(c, self.k(a), self.k(b))

    def min(self, a, hi):
        """a < hi ? a : hi  (nan -> hi, so nothing downstream sees a nan)."""
        return self.sel(self.cmp("<", a, hi), a, hi)

    def max(self, a, lo):
        return self.sel(self.cmp(">", a, lo), a, lo)

    # integer view of the bits
    def bits(self, a):
        return self.b.bitcast(a, self.ity)

    def from_bits(self, n):
        return self.b.bitcast(n, self.ty)

    def pow2(self, n):
        """2^n for an integer n within the normal exponent range."""
        return self.from_bits(self.b.shl(self.b.add(n, self.i(self.p.bias)), self.i(self.p.mant)))

    def to_int(self, a):
        return self.b.fptosi(a, self.ity)

    def to_float(self, n):
        return self.b.sitofp(n, self.ty)


# ---------------------------------------------------------------- exp family

def _two_sum(e: _E, a, b):
    """(s, t) with s = fl(a + b) and s + t = a + b exactly."""
    s = e.add(a, b)
    bb = e.sub(s, a)
    return s, e.add(e.sub(a, e.sub(s, bb)), e.sub(b, bb))


def _fast_two_sum(e: _E, a, b):
    """As _two_sum, valid when |a| >= |b| or a == 0."""
    s = e.add(a, b)
    return s, e.sub(b, e.sub(s, a))


def _exp_reduce(e: _E, x):
    """x = k ln2 + r + r_lo with |r| <= ln2/2 (x finite and clamped)."""
    kf = e.rint(e.mul(x, LOG2E))
    r1 = e.fma(kf, -e.p.ln2_hi, x)   # exact
    t = e.mul(kf, e.p.ln2_lo)        # |t| < 2^-40: its rounding is negligible
    r, r_lo = _fast_two_sum(e, r1, e.neg(t))   # |r1| >= |t| unless both are tiny
    return kf, r, r_lo


def _expm1_tail(e: _E, r, r_lo):
    """q with e^(r + r_lo) - 1 = r + q, for |r| <= 0.35 and |r_lo| < 2^-40."""
    p2 = e.mul(e.mul(r, r), e.poly(r, e.p.exp_q))   # e^r - 1 - r
    return e.fma(r_lo, e.add(e.add(r, 1.0), p2), p2)  # + r_lo e^r


def _exp_core(e: _E, x, lo=None, split=False):
    """exp(x + lo) for non-nan x (lo: a tail below an ulp of x, or None).

    With split, returns (hi, lo) carrying about 2^-60 relative accuracy."""
    xc = e.min(e.max(x, e.p.exp_lo), e.p.exp_hi)
    kf, r, r_lo = _exp_reduce(e, xc)
    if lo is not None:   # (dropped where x was clamped: it may be huge there)
        r_lo = e.add(r_lo, e.sel(e.cmp("==", xc, x), lo, 0.0))
    # 1 + r + q with 1 + r summed exactly
    h, l = _fast_two_sum(e, 1.0, r)
    p, p_lo = _fast_two_sum(e, h, e.add(l, _expm1_tail(e, r, r_lo)))
    # 2^k as two factors so that k beyond the normal exponent range still
    # gives inf or a correctly rounded subnormal, with only the last product rounding
    k = e.to_int(kf)
    k1 = e.pow2(e.b.ashr(k, e.i(1)))
    k2 = e.pow2(e.b.sub(k, e.b.ashr(k, e.i(1))))
    res = e.mul(e.mul(p, k1), k2)
    return (res, e.mul(e.mul(p_lo, k1), k2)) if split else res


def _expm1_core(e: _E, x, split=False):
    """expm1(x) for non-nan x (as hi, lo with split); the sign of a zero is not kept."""
    xc = e.min(e.max(x, e.p.expm1_lo), e.p.expm1_hi)
    kf, r, r_lo = _exp_reduce(e, xc)
    q_lo = _expm1_tail(e, r, r_lo)
    k = e.to_int(kf)
    # k can reach max_exp + 1 just below overflow: scale by 2^(k-1) then by 2;
    # the dropped "-1" is far below an ulp there
    big = e.b.icmp_signed(">", k, e.i(e.p.max_exp))
    s = e.pow2(e.b.select(big, e.i(e.p.max_exp), k))
    # 2^k (1 + r + q_lo) - 1 = (s - 1) + s r + s q_lo, the first two terms
    # summed exactly since they may cancel
    a, a_lo = _two_sum(e, s, -1.0)
    h, l = _two_sum(e, a, e.mul(s, r))
    res, res_lo = _fast_two_sum(e, h, e.add(e.fma(s, q_lo, l), a_lo))
    two = e.sel(big, 2.0, 1.0)
    return (e.mul(res, two), e.mul(res_lo, two)) if split else e.mul(res, two)


def _div2(e: _E, n, n_lo, d, d_lo):
    """(n + n_lo) / (d + d_lo) to about 0.5 ulp: one division and a correction."""
    rcp = e.div(1.0, d)
    y = e.mul(n, rcp)
    rem = e.fma(e.neg(y), d, n)    # n - y d, exact
    return e.fma(e.sub(e.add(rem, n_lo), e.mul(y, d_lo)), rcp, y)


def _exp(e: _E, x):
    return e.sel(e.isnan(x), x, _exp_core(e, x))


def _expm1(e: _E, x):
    res = e.copysign(_expm1_core(e, x), x)
    return e.sel(e.isnan(x), x, res)


def _exp_fast32(e: _E, y, scale_split=False):
    """e^y for f32 y clamped to the exponent range, single part (about 1 ulp).

    scale_split: 2^k applied as two factors (results down to subnormals)."""
    kf = e.rint(e.mul(y, LOG2E))
    r = e.fma(kf, -e.p.ln2_lo, e.fma(kf, -e.p.ln2_hi, y))   # the inner step is exact
    p = e.poly(r, EXP_FAST32)
    k = e.to_int(kf)
    if not scale_split:
        return e.mul(p, e.pow2(k))
    k1 = e.b.ashr(k, e.i(1))
    return e.mul(e.mul(p, e.pow2(k1)), e.pow2(e.b.sub(k, k1)))


def _tanh32(e: _E, x):
    # on a = |x|, the sign put back at the end (exactly odd, tanh(-0) = -0).
    # a < 0.55: odd polynomial (tiny a give a; nan takes this path through the
    # unordered compare). Beyond: 1 - 2/(e^2a + 1), whose error in e^2a
    # shrinks by sinh(2a) >= 1.3; e^80 rounds the result to 1.
    a = e.abs(x)
    z = e.mul(a, a)
    small = e.fma(e.mul(a, z), e.poly(z, TANH_P32), a)
    big_e = _exp_fast32(e, e.min(e.add(a, a), 80.0))
    big = e.sub(1.0, e.div(2.0, e.add(big_e, 1.0)))
    return e.copysign(e.sel(e.ucmp("<", a, TANH_SMALL32), small, big), x)


def _logistic32(e: _E, x):
    # with E = e^-|x| <= 1: 1/(1+E) for x >= 0, E/(1+E) for x < 0; e^-104
    # underflows to 0
    big_e = _exp_fast32(e, e.neg(e.min(e.abs(x), 104.0)), scale_split=True)
    res = e.div(e.sel(e.cmp(">=", x, 0.0), 1.0, big_e), e.add(big_e, 1.0))
    return e.sel(e.isnan(x), x, res)


def _tanh(e: _E, x):
    if e.p.bits == 32:
        return _tanh32(e, x)
    # tanh a = t / (t + 2) with t = e^2a - 1, all carried in two parts
    a = e.min(e.abs(x), e.p.tanh_sat)
    t, t_lo = _expm1_core(e, e.mul(a, 2.0), split=True)
    d, d_lo = _two_sum(e, t, 2.0)
    res = _div2(e, t, t_lo, d, e.add(d_lo, t_lo))
    res = e.copysign(res, x)
    return e.sel(e.isnan(x), x, res)


def _logistic(e: _E, x):
    if e.p.bits == 32:
        return _logistic32(e, x)
    # with E = e^-|x| <= 1: 1/(1+E) for x >= 0, E/(1+E) for x < 0; no overflow
    big_e, big_e_lo = _exp_core(e, e.neg(e.abs(x)), split=True)
    pos = e.cmp(">=", x, 0.0)
    d, d_lo = _fast_two_sum(e, 1.0, big_e)
    res = _div2(e, e.sel(pos, 1.0, big_e), e.sel(pos, 0.0, big_e_lo), d, e.add(d_lo, big_e_lo))
    return e.sel(e.isnan(x), x, res)


# ---------------------------------------------------------------- log family

def _log_parts(e: _E, x, precise=False):
    """log(x) = hi + lo (|lo| <= ulp(hi)/2) for finite x > 0, subnormals included.

    hi + lo is within about 2^-58 (precise: 2^-63) of log(x), relatively."""
    p = e.p
    # subnormals: scale into the normal range, correct the exponent below
    sub = e.cmp("<", x, p.min_normal)
    xs = e.sel(sub, e.mul(x, 2.0 ** p.sub_scale), x)
    ebias = e.b.select(sub, e.i(-p.sub_scale), e.i(0))
    # x = 2^n m with m in [sqrt(1/2), sqrt(2))
    xb = e.bits(xs)
    n = e.b.ashr(e.b.sub(xb, e.i(p.sqrt_half_bits)), e.i(p.mant))
    m = e.from_bits(e.b.sub(xb, e.b.shl(n, e.i(p.mant))))
    ef = e.to_float(e.b.add(n, ebias))
    f = e.sub(m, 1.0)                       # exact
    # s = f / (2 + f) as s + s_lo
    d = e.add(f, 2.0)
    d_lo = e.add(e.sub(2.0, d), f)          # 2 + f = d + d_lo exactly
    rcp = e.div(1.0, d)
    s = e.mul(f, rcp)
    rem = e.fma(e.neg(s), d, f)             # f - s d, exact
    s_lo = e.mul(e.sub(rem, e.mul(s, d_lo)), rcp)
    # log(1+f) = 2 atanh(s) = 2s + s^3 P(s^2)
    z = e.mul(s, s)
    a, a_lo = e.mul(ef, p.log_ln2_hi), e.mul(ef, p.log_ln2_lo)   # a exact
    # a + 2s: |a| >= ln2 > |2s| unless a == 0
    hi, err = _fast_two_sum(e, a, e.add(s, s))
    if not precise:
        tail = e.mul(e.mul(s, z), e.poly(z, p.log_p))
        lo = e.add(err, e.add(e.add(e.add(s_lo, s_lo), a_lo), tail))
        return _fast_two_sum(e, hi, lo)   # |lo| < |hi|
    # (s + s_lo)^3 (2/3 + z P1(z)) with the cube and the leading product
    # carried in two parts: about 2^-63 relative error in all
    c0_hi, c0_lo = p.log_c0
    z_lo = e.fma(s, s, e.neg(z))
    s3 = e.mul(s, z)
    s3_lo = e.add(e.add(e.fma(s, z, e.neg(s3)), e.mul(s, z_lo)), e.mul(e.mul(z, 3.0), s_lo))
    t = e.mul(s3, c0_hi)
    # 2/3 + (z + dz) P1(z), dz = (s + s_lo)^2 - z
    p1 = e.poly(z, p.log_p[1:])
    dz = e.fma(e.add(s, s), s_lo, z_lo)
    rest = e.fma(dz, p1, e.fma(z, p1, c0_lo))   # P - c0_hi
    t_lo = e.add(e.fma(s3, c0_hi, e.neg(t)), e.fma(s3_lo, e.add(rest, c0_hi), e.mul(s3, rest)))
    hi, err2 = _fast_two_sum(e, hi, t)    # |t| < |2s| <= |hi|
    lo = e.add(e.add(err, err2), e.add(e.add(e.add(s_lo, s_lo), a_lo), t_lo))
    return _fast_two_sum(e, hi, lo)


def _log_specials(e: _E, x, res):
    res = e.sel(e.cmp("==", x, INF), INF, res)
    res = e.sel(e.cmp("==", x, 0.0), -INF, res)
    return e.sel(e.ucmp("ult", x, 0.0), NAN, res)   # negative or nan


def _log(e: _E, x):
    hi, lo = _log_parts(e, x)
    return _log_specials(e, x, e.add(hi, lo))


def _log1p(e: _E, x):
    # 1 + x = u + c exactly (TwoSum), then log(1+x) = log(u) + c/u
    u, c = _two_sum(e, 1.0, x)
    hi, lo = _log_parts(e, u)
    res = e.copysign(e.add(hi, e.add(lo, e.div(c, u))), x)
    res = e.sel(e.cmp("==", x, INF), INF, res)
    res = e.sel(e.cmp("==", x, -1.0), -INF, res)
    return e.sel(e.ucmp("ult", x, -1.0), NAN, res)


# ---------------------------------------------------------------- sin / cos

def _sincos64(e: _E, x, cos: bool, s_coef, c_coef):
    """sin or cos of a double (vector) x."""
    finite = e.cmp("<", e.abs(x), INF)
    xs = e.sel(finite, x, 0.0)              # keeps inf/nan out of fptosi
    kf = e.rint(e.mul(xs, TWO_OVER_PI))
    # x - k pi/2 = r + r_lo: the first step is exact below |x| ~ 2^50
    r1 = e.fma(kf, -PIO2_1, xs)
    t = e.mul(kf, PIO2_2)
    r, r_lo = _two_sum(e, r1, e.neg(t))
    r_lo = e.sub(r_lo, e.fma(kf, PIO2_3, e.fma(kf, PIO2_2, e.neg(t))))
    q = e.to_int(e.sub(kf, e.mul(e.floor(e.mul(kf, 0.25)), 4.0)))   # k mod 4
    if cos:
        q = e.b.add(q, e.i(1))
    z = e.mul(r, r)
    hz = e.mul(z, 0.5)
    # sin(r + r_lo) = sin r + r_lo cos r
    sin_r = e.add(r, e.fma(e.mul(r, z), e.poly(z, s_coef), e.fma(e.neg(r_lo), hz, r_lo)))
    # cos(r + r_lo) = cos r - r_lo sin r, with 1 - r^2/2 kept exact (w + its tail)
    w = e.sub(1.0, hz)
    w_lo = e.sub(e.sub(e.sub(1.0, w), hz), e.mul(e.fma(r, r, e.neg(z)), 0.5))
    cos_r = e.add(w, e.add(w_lo, e.fma(e.mul(z, z), e.poly(z, c_coef), e.neg(e.mul(r, r_lo)))))
    zero = e.i(0)
    odd = e.b.icmp_signed("!=", e.b.and_(q, e.i(1)), zero)
    flip = e.b.icmp_signed("!=", e.b.and_(q, e.i(2)), zero)
    v = e.sel(odd, cos_r, sin_r)
    v = e.sel(flip, e.neg(v), v)
    # past |x| ~ 2^40 the reduction is not exact: stay within [-1, 1] at least
    v = e.min(e.max(v, -1.0), 1.0)
    if not cos:
        v = e.sel(e.cmp("==", x, 0.0), x, v)   # sin(-0) = -0
    return e.sel(finite, v, NAN)


def _sincos(e: _E, x, cos: bool):
    if e.p.bits == 64:
        return _sincos64(e, x, cos, SIN_S64, COS_C64)
    d = e.with_type(ir.DoubleType())
    v = _sincos64(d, e.b.fpext(x, d.ty), cos, SIN_S32, COS_C32)
    return e.b.fptrunc(v, e.ty)


# ---------------------------------------------------------------- pow

def _pow64(e: _E, x, y, precise=True):
    """C pow for double (vector) operands; precise: log(x) to 2^-63, not 2^-58
    (needed for f64 results, not for f32 ones)."""
    ax = e.abs(x)
    hi, lo = _log_parts(e, ax, precise)
    # y log|x| as ph + pl
    ph = e.mul(y, hi)
    pl = e.add(e.fma(y, hi, e.neg(ph)), e.mul(y, lo))
    # |x| = 0 or inf: log is -inf or inf (0 * inf = nan is overridden by y == 0 below)
    ph = e.sel(e.cmp("==", ax, 0.0), e.mul(y, -INF), ph)
    ph = e.sel(e.cmp("==", ax, INF), e.mul(y, INF), ph)
    ph = e.sel(e.isnan(ax), ax, ph)
    pl = e.sel(e.cmp("<", e.abs(ph), INF), pl, 0.0)
    mag = e.sel(e.isnan(ph), NAN, _exp_core(e, ph, pl))
    # sign and domain: x < 0 (or -0) with an odd integer y flips the sign;
    # finite x < 0 with a finite non-integer y is nan
    fy = e.floor(y)
    y_int = e.cmp("==", fy, y)
    hy = e.mul(y, 0.5)
    y_odd = e.b.and_(y_int, e.cmp("!=", e.floor(hy), hy))
    x_neg = e.b.icmp_signed("<", e.bits(x), e.i(0))
    res = e.sel(e.b.and_(x_neg, y_odd), e.neg(mag), mag)
    bad = e.b.and_(e.b.and_(e.cmp("<", x, 0.0), e.cmp(">", x, -INF)),
                   e.b.and_(e.cmp("<", e.abs(y), INF), e.b.not_(y_int)))
    res = e.sel(bad, NAN, res)
    res = e.sel(e.b.and_(e.cmp("==", ax, 1.0), e.cmp("==", e.abs(y), INF)), 1.0, res)
    res = e.sel(e.cmp("==", x, 1.0), 1.0, res)
    return e.sel(e.cmp("==", y, 0.0), 1.0, res)


def emit_pow(builder: ir.IRBuilder, x, y):
    """pow(x, y) with C semantics, elementwise; x and y share one float type."""
    if x.type != y.type:
        raise TypeError(f"vmath pow: operands must have one type, got {x.type} and {y.type}")
    e = _E(builder, x.type)
    if e.p.bits == 64:
        return _pow64(e, x, y)
    d = e.with_type(ir.DoubleType())
    v = _pow64(d, builder.fpext(x, d.ty), builder.fpext(y, d.ty), precise=False)
    return builder.fptrunc(v, e.ty)


# ---------------------------------------------------------------- entry point

def _sqrt(e: _E, x):
    return e.call("sqrt", x)


def _rsqrt(e: _E, x):
    # 1 / (s + s_lo) where s = sqrt(x) rounded and s_lo = (x - s^2) / 2s;
    # tiny x are scaled up so that x - s^2 stays exact (no underflow)
    lim, scale = (2.0 ** -100, 64) if e.p.bits == 32 else (2.0 ** -960, 128)
    tiny = e.cmp("<", x, lim)
    x = e.sel(tiny, e.mul(x, 2.0 ** scale), x)
    s = _sqrt(e, x)
    rcp = e.div(1.0, s)
    s_lo = e.mul(e.mul(e.fma(e.neg(s), s, x), 0.5), rcp)
    y = e.fma(e.sub(e.fma(e.neg(rcp), s, 1.0), e.mul(rcp, s_lo)), rcp, rcp)
    # 0, -0 and inf: the plain reciprocal is exact (+-inf, 0)
    edge = e.b.or_(e.cmp("==", x, 0.0), e.cmp("==", x, INF))
    return e.mul(e.sel(edge, rcp, y), e.sel(tiny, 2.0 ** (scale // 2), 1.0))


_UNARY = {
    "exp": _exp,
    "expm1": _expm1,
    "log": _log,
    "log1p": _log1p,
    "tanh": _tanh,
    "logistic": _logistic,
    "sin": lambda e, x: _sincos(e, x, False),
    "cos": lambda e, x: _sincos(e, x, True),
    "sqrt": _sqrt,
    "rsqrt": _rsqrt,
}


def emit_unary(builder: ir.IRBuilder, op: str, x):
    """Emit `op(x)` elementwise at the builder's position; same type as x."""
    fn = _UNARY.get(op)
    if fn is None:
        raise ValueError(f"vmath: unknown unary op {op!r}; expected one of {UNARY_OPS}")
    return fn(_E(builder, x.type), x)
