"""VTA arithmetic as the VTA codegen emits it: symmetric per-tensor int8 inputs and weights, int32
accumulation (GEMM), int32 bias added by the ALU, then an arithmetic shift right and clip to int8 (ALU
SHR, MIN, MAX) before STORE writes the low 8 bits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INT8_MAX = 127


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


def gemm_int8(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """x[..., K] @ w[N, K]^T on int8 codes; returns the int32 accumulators and their real scale."""
    sx, sw = int8_scale(x), int8_scale(w)
    acc = quantize_int8(x, sx).astype(np.int32) @ quantize_int8(w, sw).astype(np.int32).T
    return acc, sx * sw


def dense(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    acc, scale = gemm_int8(x, w)
    shift = output_shift(acc)
    return (requantize(acc, shift).astype(np.float32) * np.float32(scale * 2.0**shift)).astype(np.float32)


def bias_add(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x and b loaded into the accumulators as int32 with one shared scale, ALU ADD, requantise to int8."""
    scale = max(int8_scale(x), int8_scale(b)) / 2**16
    acc = np.rint(x / scale).astype(np.int64) + np.rint(b / scale).astype(np.int64)
    shift = output_shift(acc)
    return (requantize(acc, shift).astype(np.float32) * np.float32(scale * 2.0**shift)).astype(np.float32)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched a @ b: one int8 GEMM per batch element (same scales for the whole call)."""
    bt = np.swapaxes(b, -1, -2)
    sa, sb = int8_scale(a), int8_scale(b)
    acc = quantize_int8(a, sa).astype(np.int32) @ np.swapaxes(quantize_int8(bt, sb).astype(np.int32), -1, -2)
    shift = output_shift(acc)
    return (requantize(acc, shift).astype(np.float32) * np.float32(sa * sb * 2.0**shift)).astype(np.float32)


CALLS: dict[str, Callable[..., np.ndarray]] = {"vta_dense": dense, "vta_bias_add": bias_add, "vta_matmul": matmul}
