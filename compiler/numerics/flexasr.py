"""FlexASR arithmetic: 8-bit AdaptivFloat (1 sign, 3 exponent, 4 mantissa bits, per-tensor exponent bias)
on every tensor entering or leaving the accelerator; the datapath itself is modelled exactly.

The quantiser follows the 3LA driver's `quantize_floatext` (arXiv 1909.13271)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compiler.ir import semantics

N_BITS, N_EXP = 8, 3
N_MANT = N_BITS - 1 - N_EXP


def adaptivfloat(x: np.ndarray) -> np.ndarray:
    """Quantise x to 8-bit AdaptivFloat with the exponent bias chosen from max |x|."""
    x = np.asarray(x, dtype=np.float64)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0.0:
        return np.zeros_like(x, dtype=np.float32)
    bias = (np.frexp(peak)[1] - 1) - (2**N_EXP - 1)
    min_exp, max_exp = bias, bias + 2**N_EXP - 1
    min_value = 2.0**min_exp * (1 + 2.0**-N_MANT)
    max_value = 2.0**max_exp * (2 - 2.0**-N_MANT)
    sign, mag = np.sign(x), np.abs(x)
    mag = np.where(mag < 0.5 * min_value, 0.0, np.where(mag < min_value, min_value, mag))
    mag = np.minimum(mag, max_value)
    exp = np.floor(np.log2(np.where(mag > 0, mag, 1.0)))
    step = 2.0 ** (exp - N_MANT)
    q = np.round(mag / step) * step
    return (sign * np.where(mag > 0, q, 0.0)).astype(np.float32)


def _wrap(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda *args: adaptivfloat(fn(*(adaptivfloat(a) for a in args)))


CALLS: dict[str, Callable[..., np.ndarray]] = {
    "flex_linear": _wrap(lambda x, w, b: semantics.dense(x, w) + b),
    "flex_lstm_c": _wrap(semantics.lstm_cell_c),
    "flex_lstm_h": _wrap(semantics.lstm_cell_h),
    "flex_maxpool": _wrap(lambda x: semantics.max_pool2d(x, 2, 2, 2, 2)),
    "flex_meanpool": _wrap(semantics.global_mean),
}
