"""FlexASR codegen's operand handling, shared by the linear, mean-pool and LSTM-cell builders:
the activation formats, power-of-two exponents of peaks, padding to 16-lane vectors, the Program's
output memory."""

from __future__ import annotations

import numpy as np

from ila_models import adaptivfloat as af
from ila_models import flexasr_isa as isa
from ila_models.flexasr_isa import LANES

OUTPUT = "Y"
ACT_BITS, ACT_FRAC, ACCUM_BITS = 20, 14, 32
MAX_IN_VECTORS = 255
"""num_input and gb_control.num_vector_1 are 8-bit."""


def exponent(peak: float) -> int:
    """floor(log2 peak); 0 for a zero tensor (whose codes are 0 at any scale)."""
    return int(np.frexp(peak)[1]) - 1 if peak > 0 else 0


def peak(x: np.ndarray) -> float:
    return float(np.max(np.abs(x))) if x.size else 0.0


def vectors(n: int) -> int:
    return -(-n // LANES)


def pad(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - x.shape[axis])
    return np.pad(x, widths)


def output_memory() -> dict[str, np.ndarray]:
    """The GB large buffer's initial image (zeros): FlexASR has no DRAM, so the Program's output region
    lies in the large buffer, and a Program's output regions must lie in memories it declares."""
    return {"gb_large": np.zeros((isa.GB_LARGE_VECTORS, LANES), np.uint8)}


def fixed(codes: np.ndarray, bias: int) -> np.ndarray:
    return af.to_fixed(codes, bias, ACT_FRAC)


def saturate(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -(1 << (ACT_BITS - 1)), (1 << (ACT_BITS - 1)) - 1)
