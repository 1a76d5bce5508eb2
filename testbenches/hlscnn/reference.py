"""Exact fixed-point references of HLSCNN's conv engine and reduction (docs/hlscnn.md, Numerics).

Written from the documented arithmetic, independently of the ILA's vectorisation:
one 8-lane dot product per (output, channel block, kernel row, kernel column),
each floored from 21 to 16 fractional bits, summed with 32-bit wrap-around.
"""

from __future__ import annotations

import numpy as np

LANES = 8


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, dtype=np.int64) + (1 << 31)) % (1 << 32)) - (1 << 31)


def _to_output(psum: np.ndarray) -> np.ndarray:
    """PSUM (16 frac) -> 16-bit output (7 frac): add half an LSB, floor, saturate."""
    return np.clip((psum + 256) >> 9, -(1 << 15), (1 << 15) - 1).astype(np.int16)


def conv2d(
    x: np.ndarray,
    w16: np.ndarray,
    stride: tuple[int, int],
    bias: int | None = None,
    relu: bool = False,
    earlier: np.ndarray | None = None,
    threshold: int | None = None,
) -> np.ndarray:
    """Valid conv of x (C, H, W; 7 frac bits) with w16 (O, C, kh, kw; 14 frac bits) -> (O, rows, cols) int16."""
    c, h, wd = x.shape
    o, _, kh, kw = w16.shape
    rows, cols = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    x = x.astype(np.int64)
    w16 = w16.astype(np.int64)
    psum = np.zeros((o, rows, cols), dtype=np.int64)
    for r in range(rows):
        for q in range(cols):
            window = x[:, r * stride[0] : r * stride[0] + kh, q * stride[1] : q * stride[1] + kw]
            for c0 in range(0, c, LANES):
                # (O, 8, kh, kw) * (8, kh, kw) summed over the lanes only: one dot per kernel tap
                dots = (w16[:, c0 : c0 + LANES] * window[None, c0 : c0 + LANES]).sum(axis=1)
                psum[:, r, q] += (dots >> 5).sum(axis=(1, 2))
    psum = _wrap32(psum)
    if earlier is not None:
        psum = _wrap32(psum + (earlier.astype(np.int64) << 9))
    if bias is not None:
        psum = _wrap32(psum + (bias << 9))
    if relu:
        psum = np.maximum(psum, 0)
    if threshold is not None:
        psum = np.minimum(psum, threshold << 9)
    return _to_output(psum)


def reduction(entries: np.ndarray, bias: int) -> np.ndarray:
    """Lane-wise sum of int16 entries (N, 8) plus a bias, as the reduction trigger computes it."""
    psum = _wrap32((entries.astype(np.int64) << 9).sum(axis=0) + (bias << 9))
    return _to_output(psum)
