"""Reference (fp32, numpy) meaning of every term that is not a plain Relax operator.

Derived forms run with these on the host; accelerator calls run with these in `reference` numerics
(the accelerator's exact-arithmetic meaning, against which its quantised numerics are judged).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def conv_out_size(size: int, k: int, stride: int, pad_lo: int, pad_hi: int) -> int:
    """Output length of a convolution along one axis."""
    return (size + pad_lo + pad_hi - k) // stride + 1


def im2col(x: Array, k: Array, sh: int, sw: int, pt: int, pl: int, pb: int, pr: int) -> Array:
    """(N, C, H, W) -> (N*OH*OW, C*KH*KW) for kernel k; column order (c, i, j) as OIHW kernels flattened."""
    kh, kw = k.shape[2:]
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh, ow = conv_out_size(h, kh, sh, pt, pb), conv_out_size(w, kw, sw, pl, pr)
    cols = np.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = xp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw].transpose(0, 2, 3, 1)
    return cols.reshape(n * oh * ow, c * kh * kw)


def col2im(y: Array, x: Array, k: Array, sh: int, sw: int, pt: int, pl: int, pb: int, pr: int) -> Array:
    """(N*OH*OW, O) -> (N, O, OH, OW) for the convolution of x by kernel k."""
    kh, kw = k.shape[2:]
    n, _, h, w = x.shape
    oh, ow = conv_out_size(h, kh, sh, pt, pb), conv_out_size(w, kw, sw, pl, pr)
    return np.ascontiguousarray(y.reshape(n, oh, ow, y.shape[-1]).transpose(0, 3, 1, 2))


def group_im2col(x: Array, k: Array, groups: int, *conv: int) -> Array:
    """(N, C, H, W) -> (G, N*OH*OW, C/G*KH*KW)."""
    n, c, h, w = x.shape
    return np.stack([im2col(g, k, *conv) for g in x.reshape(n, groups, c // groups, h, w).transpose(1, 0, 2, 3, 4)])


def group_kernel(w: Array, groups: int) -> Array:
    """(O, I/G, KH, KW) -> (G, I/G*KH*KW, O/G)."""
    o = w.shape[0]
    return np.ascontiguousarray(w.reshape(groups, o // groups, -1).transpose(0, 2, 1))


def group_col2im(y: Array, x: Array, k: Array, *conv: int) -> Array:
    """(G, N*OH*OW, O/G) -> (N, O, OH, OW)."""
    g, rows, og = y.shape
    return col2im(y.transpose(1, 0, 2).reshape(rows, g * og), x, k, *conv)


def conv2d(x: Array, w: Array, sh: int, sw: int, pt: int, pl: int, pb: int, pr: int, groups: int = 1) -> Array:
    """Grouped NCHW convolution via im2col (float64 accumulation, float32 result)."""
    conv = (sh, sw, pt, pl, pb, pr)
    cols = group_im2col(x.astype(np.float64), w, groups, *conv)
    return group_col2im(cols @ group_kernel(w.astype(np.float64), groups), x, w, *conv).astype(np.float32)


def dense(x: Array, w: Array) -> Array:
    return (x.astype(np.float64) @ w.T.astype(np.float64)).astype(np.float32)


def to_pixels(x: Array) -> Array:
    k = x.shape[-1]
    return np.ascontiguousarray(x.reshape(-1, k).T.reshape(1, k, -1, 1))


def from_pixels(y: Array, x: Array) -> Array:
    n = y.shape[1]
    return np.ascontiguousarray(y.reshape(n, -1).T.reshape(*x.shape[:-1], n))


def _sigmoid(v: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-v))


def lstm_cell_c(gates: Array, c: Array) -> Array:
    i, f, g, _ = np.split(gates, 4, axis=-1)
    return (_sigmoid(f) * c + _sigmoid(i) * np.tanh(g)).astype(np.float32)


def lstm_cell_h(gates: Array, c: Array) -> Array:
    o = np.split(gates, 4, axis=-1)[3]
    return (_sigmoid(o) * np.tanh(lstm_cell_c(gates, c))).astype(np.float32)


def max_pool2d(x: Array, kh: int, kw: int, sh: int, sw: int) -> Array:
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.full((n, c, oh, ow), -np.inf, dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, x[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw])
    return out


def global_mean(x: Array) -> Array:
    return x.mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(np.float32)


def matmul(a: Array, b: Array) -> Array:
    return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)


def _f32(fn: Callable[..., Array]) -> Callable[..., Array]:
    return lambda *args: np.asarray(fn(*args), dtype=np.float32)


REFERENCE: dict[str, Callable[..., Array]] = {
    # derived forms
    "dense": dense,
    "bias_add": _f32(lambda x, b: x + b),
    "zeros_bias": lambda w: np.zeros((w.shape[0],), np.float32),
    "im2col": im2col,
    "flatten_kernel": lambda w: np.ascontiguousarray(w.reshape(w.shape[0], -1)),
    "col2im": col2im,
    "group_im2col": group_im2col,
    "group_kernel": group_kernel,
    "group_col2im": group_col2im,
    "to_pixels": to_pixels,
    "as_1x1_kernel": lambda w: np.ascontiguousarray(w.reshape(*w.shape, 1, 1)),
    "from_pixels": from_pixels,
    "per_group_conv2d": conv2d,
    "lstm_cell_c": lstm_cell_c,
    "lstm_cell_h": lstm_cell_h,
    # typed import forms (used by tests and by accelerator-call references)
    "conv2d": conv2d,
    "grouped_conv2d": conv2d,
    "max_pool2d": max_pool2d,
    "global_mean": global_mean,
    "matmul": matmul,
    # accelerator calls, exact arithmetic
    "vta_dense": dense,
    "vta_bias_add": _f32(lambda x, b: x + b),
    "vta_matmul": matmul,
    "flex_linear": _f32(lambda x, w, b: dense(x, w) + b),
    "flex_lstm_c": lstm_cell_c,
    "flex_lstm_h": lstm_cell_h,
    "flex_maxpool": lambda x: max_pool2d(x, 2, 2, 2, 2),
    "flex_meanpool": global_mean,
    "hlscnn_conv2d": conv2d,
    "hlscnn_grouped_conv2d": conv2d,
}
"""Term name -> numpy function of (tensor args..., int attrs...)."""
