"""The counter-based random generator shared by the interpreter and codegen.

The value at flat index i of an `rng` op is a pure function of
(seed, seed2, counter, i), so a compiled run and the interpreter agree bit for
bit on the bits, runs are reproducible, and a session gets fresh values by
advancing the counter.

    mix(z)      = splitmix64's finalizer on uint64 (wrapping arithmetic)
    key         = mix(mix(seed) ^ seed2)                 (compile time)
    k1          = mix(key ^ counter)                     (once per run)
    bits(i, s)  = mix(k1 ^ mix(i * 64 + s))              (s: stream 0..63)
    u32(b)      = (b >> 40) * 2**-24          in [0, 1)
    u64(b)      = (b >> 11) * 2**-53          in [0, 1)
    uniform     = u(bits(i, 0))
    normal      = sqrt(-2 log(1 - u(bits(i, 0)))) * cos(2 pi u(bits(i, 1)))
    truncated   = the first of normal drawn from streams (2r, 2r+1),
                  r = 0..15, with |z| < 2; after 16 rejections, z clipped
                  to [-2, 2] (probability about 1e-21)
"""
from __future__ import annotations

import numpy as np

M64 = (1 << 64) - 1
C0 = 0x9E3779B97F4A7C15
C1 = 0xBF58476D1CE4E5B9
C2 = 0x94D049BB133111EB
TRUNC_ROUNDS = 16


def mix_int(z: int) -> int:
    """splitmix64's finalizer on a Python int (wrapping at 64 bits)."""
    z = (z + C0) & M64
    z = ((z ^ (z >> 30)) * C1) & M64
    z = ((z ^ (z >> 27)) * C2) & M64
    return z ^ (z >> 31)


def key(seed: int, seed2: int) -> int:
    return mix_int(mix_int(seed & M64) ^ (seed2 & M64))


def run_key(seed: int, seed2: int, counter: int) -> int:
    return mix_int(key(seed, seed2) ^ (counter & M64))


def mix_np(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(C0)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(C1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(C2)
    return z ^ (z >> np.uint64(31))


def bits(k1: int, n: int, stream: int) -> np.ndarray:
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        inner = mix_np(i * np.uint64(64) + np.uint64(stream))
    return mix_np(np.uint64(k1) ^ inner)


def to_unit(b: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype) == np.float32:
        return ((b >> np.uint64(40)).astype(np.float64) * 2.0 ** -24).astype(np.float32)
    return (b >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def _normal(k1, n, s0, dtype):
    u1 = to_unit(bits(k1, n, s0), dtype).astype(np.float64)
    u2 = to_unit(bits(k1, n, s0 + 1), dtype).astype(np.float64)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def sample(dist: str, shape, dtype, seed: int, seed2: int, counter: int) -> np.ndarray:
    """The reference values of an `rng` op."""
    n = int(np.prod(shape, dtype=np.int64))
    k1 = run_key(seed, seed2, counter)
    dtype = np.dtype(dtype)
    if dist == "uniform":
        out = to_unit(bits(k1, n, 0), dtype)
    elif dist == "normal":
        out = _normal(k1, n, 0, dtype)
    elif dist == "truncated_normal":
        out = np.zeros(n)
        done = np.zeros(n, bool)
        for r in range(TRUNC_ROUNDS):
            z = _normal(k1, n, 2 * r, dtype)
            take = ~done & (np.abs(z) < 2.0)
            out[take] = z[take]
            done |= take
        out[~done] = np.clip(z[~done], -2.0, 2.0)
    else:
        raise ValueError(f"unknown distribution {dist!r}")
    return out.astype(dtype).reshape(shape)
