"""AdaptivFloat8, FlexASR's 8-bit number format: implemented once, exact, vectorised in numpy.

A code is 1 sign bit [7], 3 exponent bits e [6:4] and 4 mantissa bits m [3:0].
With the operand's 3-bit exponent bias b (0..7, configured per operand):

    value(code, b) = (-1)^sign * (1 + m/16) * 2^(e + b - 10)        when code & 0x7F != 0
    value(code, b) = 0                                               when code & 0x7F == 0

(e = 0, m = 0 is reserved for zero, so 0x00 and 0x80 are both zero; the -10 is
FlexASR's `ADPTFLOW_OFFSET`.) In 20-bit activations with 14 fractional bits
every code is exact: fixed(code, b) = (-1)^sign * (16 + m) << (e + b).

Encoding (the quantizer of the 3LA driver, `quantize_floatext`, made exact):
with min = (1 + 1/16) * 2^(b - 10) and max = (2 - 1/16) * 2^(b - 3),

- |x| <  min / 2       -> 0 (code 0x00, also for negative x);
- min / 2 <= |x| < min -> +-min (e = 0, m = 1);
- |x| >= max           -> +-max (e = 7, m = 15)  (clamping, never overflow);
- otherwise E = floor(log2 |x|), the mantissa |x| / 2^E is rounded to 4
  fractional bits, ties to even (numpy `rint`); a mantissa that rounds to 2
  moves to E + 1. Then e = E - b + 10.

All steps scale by powers of two, so float64 evaluates them exactly for every
input that is itself a float64 (in particular every 20-bit fixed-point value).
"""

from __future__ import annotations

import numpy as np

OFFSET = -10
MANTISSA_BITS = 4
EXPONENT_BITS = 3
BIASES = range(8)


def _check_bias(bias: int) -> None:
    if bias not in BIASES:
        raise ValueError(f"adaptivfloat bias={bias!r}: expected 0..7 (a 3-bit field)")


def fields(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sign, exponent, mantissa, is_zero) of uint8 codes."""
    c = np.asarray(codes).astype(np.int64) & 0xFF
    return c >> 7, (c >> 4) & 7, c & 15, (c & 0x7F) == 0


def to_fixed(codes: np.ndarray, bias: int, frac: int = 14) -> np.ndarray:
    """Codes as integers with `frac` fractional bits (exact for frac >= 10 - bias), int64."""
    _check_bias(bias)
    sign, e, m, zero = fields(codes)
    shift = e + bias + OFFSET - MANTISSA_BITS + frac
    if np.any(shift[~zero] < 0):
        raise ValueError(f"frac={frac}: too few fractional bits for bias {bias} to be exact")
    mag = (16 + m) << np.maximum(shift, 0)
    return np.where(zero, 0, np.where(sign == 1, -mag, mag))


def decode(codes: np.ndarray, bias: int) -> np.ndarray:
    """Codes as float64 reals."""
    _check_bias(bias)
    sign, e, m, zero = fields(codes)
    mag = (16.0 + m) * np.exp2(e + bias + OFFSET - MANTISSA_BITS)
    return np.where(zero, 0.0, np.where(sign == 1, -mag, mag))


def encode(values: np.ndarray, bias: int) -> np.ndarray:
    """Reals (float64) as codes with exponent bias `bias`: round to nearest even, clamp (uint8)."""
    _check_bias(bias)
    x = np.asarray(values, dtype=np.float64)
    if np.any(np.isnan(x)):
        raise ValueError("adaptivfloat encode: NaN has no code")
    a = np.abs(x)
    min_value = 17.0 * 2.0 ** (bias + OFFSET - MANTISSA_BITS)
    max_value = 31.0 * 2.0 ** (7 + bias + OFFSET - MANTISSA_BITS)
    _, exp2 = np.frexp(np.where(a > 0, a, 1.0))  # a = f * 2^exp2, f in [0.5, 1)
    big_e = exp2.astype(np.int64) - 1
    q = np.rint(np.ldexp(a, (MANTISSA_BITS - big_e).astype(np.int32)))  # 16..32
    carry = q >= 32
    q = np.where(carry, 16, q).astype(np.int64)
    e = big_e + carry - bias - OFFSET
    code = (np.clip(e, 0, 7) << 4) | (q - 16)
    code = np.where(a >= max_value, 0x7F, code)
    code = np.where(a < min_value, 0x01, code)
    code = np.where(2 * a < min_value, 0x00, code)
    negative = (x < 0) & (code != 0)
    return (code | np.where(negative, 0x80, 0)).astype(np.uint8)


def from_fixed(x: np.ndarray, bias: int, frac: int = 14) -> np.ndarray:
    """Integers with `frac` fractional bits as codes (exact: the conversion the hardware does)."""
    return encode(np.ldexp(np.asarray(x, dtype=np.int64).astype(np.float64), -frac), bias)


def best_bias(values: np.ndarray) -> int:
    """The bias whose range holds max|values| (the driver's choice), clipped to 0..7."""
    peak = float(np.max(np.abs(values))) if np.size(values) else 0.0
    if peak == 0.0:
        return 0
    _, exp2 = np.frexp(peak)
    return int(np.clip(int(exp2) - 1 - 7 - OFFSET, 0, 7))
