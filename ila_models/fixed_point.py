"""Fixed-point arithmetic, implemented once for every accelerator (exact, vectorised in numpy).

A `FixedFormat` is a two's complement (or unsigned) integer of `bits` bits whose
value is `integer * 2**-frac`. Conversions round and saturate exactly as stated:

- `quantize(real)`: round to nearest, ties to even (numpy's `rint`), then saturate.
- `shift_right(x, n, rounding)`: arithmetic right shift with one of
  `floor` (truncate toward -inf, what `>>` does), `half_up` (add 2**(n-1), then floor),
  `half_even` (ties to even).
- `saturate(x)`: clip to [min, max]; `wrap(x)`: keep the low `bits` bits, two's complement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROUNDINGS = ("floor", "half_up", "half_even")


def shift_right(x: np.ndarray, n: int, rounding: str = "floor") -> np.ndarray:
    """x / 2**n as an integer, rounded as asked (x is any integer array; int64 result)."""
    x = np.asarray(x, dtype=np.int64)
    if n < 0:
        return x << -n
    if n == 0:
        return x.copy()
    if rounding == "floor":
        return x >> n
    if rounding == "half_up":
        return (x + (1 << (n - 1))) >> n
    if rounding == "half_even":
        q = x >> n
        rem = x - (q << n)
        half = 1 << (n - 1)
        return q + ((rem > half) | ((rem == half) & (q & 1 == 1))).astype(np.int64)
    raise ValueError(f"rounding={rounding!r}: expected one of {ROUNDINGS}")


@dataclass(frozen=True)
class FixedFormat:
    """A fixed-point format: `bits` bits in all, `frac` of them fractional."""

    bits: int
    frac: int
    signed: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= 63:
            raise ValueError(f"FixedFormat.bits={self.bits!r}: expected 1..63")

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def saturate(self, x: np.ndarray) -> np.ndarray:
        """Clip integers to the format's range."""
        return np.clip(np.asarray(x, dtype=np.int64), self.min, self.max)

    def wrap(self, x: np.ndarray) -> np.ndarray:
        """Keep the low `bits` bits (two's complement when signed)."""
        x = np.asarray(x, dtype=np.int64) & ((1 << self.bits) - 1)
        if self.signed:
            x = np.where(x >= 1 << (self.bits - 1), x - (1 << self.bits), x)
        return x

    def quantize(self, real: np.ndarray) -> np.ndarray:
        """Reals to integers of this format: round to nearest (ties to even), saturate."""
        scaled = np.rint(np.asarray(real, dtype=np.float64) * (1 << self.frac))
        return self.saturate(np.clip(scaled, -(2.0**62), 2.0**62).astype(np.int64))

    def to_float(self, x: np.ndarray) -> np.ndarray:
        """Integers of this format as reals."""
        return np.asarray(x, dtype=np.float64) / (1 << self.frac)

    def convert(self, x: np.ndarray, source_frac: int, rounding: str = "floor") -> np.ndarray:
        """Integers with `source_frac` fractional bits into this format: shift with rounding, saturate."""
        return self.saturate(shift_right(x, source_frac - self.frac, rounding))
