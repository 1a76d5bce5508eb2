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


# Lookup tables over the 256 codes. The functions below index them instead of recomputing the
# fields on every call (FlexASR calls them on 16-element vectors, where numpy's per-call overhead
# dominates); `_to_fixed_ref`, `_decode_ref` and `_encode_ref` are the definitions, and
# tests/ila_models/test_adaptivfloat.py checks the tables against them for every code and bias.
CODES = np.arange(256, dtype=np.uint8)


def _index(codes: np.ndarray) -> np.ndarray:
    """Codes as indices 0..255 into a 256-entry table (the low 8 bits, as `fields` takes them)."""
    c = np.asarray(codes)
    return c if c.dtype == np.uint8 else c.astype(np.int64) & 0xFF


def _to_fixed_ref(codes: np.ndarray, bias: int, frac: int = 14) -> np.ndarray:
    _check_bias(bias)
    sign, e, m, zero = fields(codes)
    shift = e + bias + OFFSET - MANTISSA_BITS + frac
    if np.any(shift[~zero] < 0):
        raise ValueError(f"frac={frac}: too few fractional bits for bias {bias} to be exact")
    mag = (16 + m) << np.maximum(shift, 0)
    return np.where(zero, 0, np.where(sign == 1, -mag, mag))


_FIXED_TABLES: dict[tuple[int, int], np.ndarray] = {}


def _fixed_table(bias: int, frac: int) -> np.ndarray:
    key = (bias, frac)
    table = _FIXED_TABLES.get(key)
    if table is None:
        table = _to_fixed_ref(CODES, bias, frac)  # raises when frac is too small to be exact
        table.setflags(write=False)
        _FIXED_TABLES[key] = table
    return table


def to_fixed(codes: np.ndarray, bias: int, frac: int = 14) -> np.ndarray:
    """Codes as integers with `frac` fractional bits (exact for frac >= 10 - bias), int64."""
    if (bias, frac) not in _FIXED_TABLES:
        _check_bias(bias)
        if bias + OFFSET - MANTISSA_BITS + frac < 0:  # code 0x01 would not be exact
            return _to_fixed_ref(codes, bias, frac)  # raises unless every code given is exact
    idx = _index(codes)
    out = _fixed_table(bias, frac)[idx]
    return np.asarray(out) if idx.ndim == 0 else out


def _decode_ref(codes: np.ndarray, bias: int) -> np.ndarray:
    _check_bias(bias)
    sign, e, m, zero = fields(codes)
    mag = (16.0 + m) * np.exp2(e + bias + OFFSET - MANTISSA_BITS)
    return np.where(zero, 0.0, np.where(sign == 1, -mag, mag))


DECODE_TABLES = np.stack([_decode_ref(CODES, b) for b in BIASES])  # (8 biases, 256 codes) float64
DECODE_TABLES.setflags(write=False)


def decode(codes: np.ndarray, bias: int) -> np.ndarray:
    """Codes as float64 reals."""
    _check_bias(bias)
    idx = _index(codes)
    out = DECODE_TABLES[bias][idx]
    return np.asarray(out) if idx.ndim == 0 else out


def encode(values: np.ndarray, bias: int) -> np.ndarray:
    """Reals (float64) as codes with exponent bias `bias`: round to nearest even, clamp (uint8)."""
    return _encode_ref(values, bias)


def _encode_ref(values: np.ndarray, bias: int) -> np.ndarray:
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


def _from_fixed_ref(x: np.ndarray, bias: int, frac: int = 14) -> np.ndarray:
    return _encode_ref(np.ldexp(np.asarray(x, dtype=np.int64).astype(np.float64), -frac), bias)


_THRESHOLDS: dict[tuple[int, int], np.ndarray] = {}
_THRESHOLDS_U64: dict[tuple[int, int], np.ndarray] = {}
_THRESHOLD_LIMIT = 1 << 52  # integers below this are exact in float64


def thresholds(bias: int, frac: int) -> np.ndarray:
    """t[c] = the least integer n >= 0 with from_fixed(n, bias, frac) >= c, c = 0..127 (int64).

    The encoder is monotone non-decreasing in |x| (round to nearest, clamp), so the code of an
    integer of magnitude a is searchsorted(t, a, 'right') - 1 (binary search of `_from_fixed_ref`)."""
    key = (bias, frac)
    t = _THRESHOLDS.get(key)
    if t is None:
        _check_bias(bias)
        top = 1
        while int(_from_fixed_ref(np.array([top]), bias, frac)[0]) != 0x7F:
            top *= 2
        if top >= _THRESHOLD_LIMIT:
            raise ValueError(f"frac={frac}: no exact fixed-point thresholds")
        lo = np.zeros(128, dtype=np.int64)  # code(lo) < c (for c >= 1)
        hi = np.full(128, top, dtype=np.int64)  # code(hi) >= c
        lo[0] = hi[0] = 0
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            ge = _from_fixed_ref(mid, bias, frac).astype(np.int64) >= np.arange(128)
            ge[0] = True
            lo = np.where(ge, lo, mid)
            hi = np.where(ge, mid, hi)
            hi[0] = lo[0] = 0
        t = hi
        t.setflags(write=False)
        _THRESHOLDS[key] = t
    return t


def from_fixed(x: np.ndarray, bias: int, frac: int = 14) -> np.ndarray:
    """Integers with `frac` fractional bits as codes (exact: the conversion the hardware does)."""
    v = np.asarray(x, dtype=np.int64)
    if v.ndim == 0 or not 0 <= frac <= 40:
        return _from_fixed_ref(v, bias, frac)
    t = _THRESHOLDS_U64.get((bias, frac))
    if t is None:
        t = _THRESHOLDS_U64[bias, frac] = thresholds(bias, frac).astype(np.uint64)
    a = np.abs(v).view(np.uint64)  # |x| as uint64 is exact for every int64, -2^63 included
    mag = np.searchsorted(t, a, side="right") - 1
    return (mag | ((v < 0) & (mag != 0)) * 0x80).astype(np.uint8)


def best_bias(values: np.ndarray) -> int:
    """The bias whose range holds max|values| (the driver's choice), clipped to 0..7."""
    peak = float(np.max(np.abs(values))) if np.size(values) else 0.0
    if peak == 0.0:
        return 0
    _, exp2 = np.frexp(peak)
    return int(np.clip(int(exp2) - 1 - 7 - OFFSET, 0, 7))
