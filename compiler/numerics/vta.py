"""VTA arithmetic as the VTA codegen emits it: symmetric per-tensor int8 inputs and weights, int32
accumulation (GEMM), int32 bias added by the ALU, then an arithmetic shift right and clip to int8 (ALU
SHR, MIN, MAX) before STORE writes the low 8 bits.

The quantisation steps (`*_codes`) are shared with `compiler.codegen.vta`, so the emulated numerics here
and the Programs the codegen emits compute the same int8 results (tests check this bit for bit on the ILA).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INT8_MAX = 127
BIAS_FRACTION_BITS = 16
"""bias_add puts x and b on a grid 2^16 finer than int8's, so the int32 sum keeps their precision."""


def int8_scale(x: np.ndarray) -> float:
    """Scale s with x ~= s * q, q in [-127, 127]."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return peak / INT8_MAX if peak > 0 else 1.0


def quantize_int8(x: np.ndarray, scale: float) -> np.ndarray:
    """Round-to-nearest int8 codes of x / scale."""
    return np.clip(np.rint(x / scale), -INT8_MAX, INT8_MAX).astype(np.int8)


def output_shift(acc: np.ndarray) -> int:
    """Smallest right shift that brings every int32 accumulator into int8 range."""
    peak = int(np.max(np.abs(acc))) if acc.size else 0
    shift = 0
    while (peak >> shift) > INT8_MAX:
        shift += 1
    return shift


def requantize(acc: np.ndarray, shift: int) -> np.ndarray:
    """ALU SHR by `shift` (arithmetic), then MIN 127 / MAX -128: the int8 VTA stores."""
    return np.clip(acc.astype(np.int64) >> shift, -128, INT8_MAX).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, shift: int) -> np.ndarray:
    """The real value of int8 results q computed at accumulator scale `scale` and shifted by `shift`."""
    return (q.astype(np.float32) * np.float32(scale * 2.0**shift)).astype(np.float32)


def dense_codes(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """int8 codes of x[..., K] and w[N, K], and the real scale of their int32 products."""
    sx, sw = int8_scale(x), int8_scale(w)
    return quantize_int8(x, sx), quantize_int8(w, sw), sx * sw


def bias_add_codes(x: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """int32 accumulator codes of x and b on one shared scale, and that scale."""
    scale = max(int8_scale(x), int8_scale(b)) / 2**BIAS_FRACTION_BITS
    return np.rint(x / scale).astype(np.int32), np.rint(b / scale).astype(np.int32), scale


def matmul_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """int8 codes of a[..., M, K] and of b[..., K, N] transposed to [..., N, K], and the product scale."""
    sa, sb = int8_scale(a), int8_scale(b)
    return quantize_int8(a, sa), quantize_int8(np.swapaxes(b, -1, -2), sb), sa * sb


def gemm_int8(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """x[..., K] @ w[N, K]^T on int8 codes; returns the int32 accumulators and their real scale."""
    qx, qw, scale = dense_codes(x, w)
    return qx.astype(np.int32) @ qw.astype(np.int32).T, scale


def dense(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    acc, scale = gemm_int8(x, w)
    shift = output_shift(acc)
    return dequantize(requantize(acc, shift), scale, shift)


def bias_add(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x and b loaded into the accumulators as int32 with one shared scale, ALU ADD, requantise to int8."""
    ax, ab, scale = bias_add_codes(x, b)
    acc = ax.astype(np.int64) + ab.astype(np.int64)
    shift = output_shift(acc)
    return dequantize(requantize(acc, shift), scale, shift)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched a @ b: one int8 GEMM per batch element (same scales for the whole call)."""
    qa, qbt, scale = matmul_codes(a, b)
    acc = qa.astype(np.int32) @ np.swapaxes(qbt.astype(np.int32), -1, -2)
    shift = output_shift(acc)
    return dequantize(requantize(acc, shift), scale, shift)


CALLS: dict[str, Callable[..., np.ndarray]] = {"vta_dense": dense, "vta_bias_add": bias_add, "vta_matmul": matmul}
