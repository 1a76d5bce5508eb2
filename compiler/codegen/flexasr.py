"""FlexASR codegen: each offloaded FlexASR call (flex_linear, flex_meanpool, flex_lstm_c/h) becomes one
FlexASR Program of MMIO commands whose outputs lie in the accelerator's buffers (it has no DRAM).

Quantisation is `compiler.numerics.flexasr`'s per-tensor AdaptivFloat8 (the exponent window chosen from
max |x|). The hardware's window is a 3-bit bias (0..7), so the host scales each operand by a power of two
first (exact in AdaptivFloat) to land its ideal bias in 0..7, and the output by the product of the input
scales: x and w quantise exactly as the emulated numerics do, and the output scale puts the result's
peak in [16, 32), the top of the 20-bit activations' range.

- Linear: vectors of 16, outputs padded to a multiple of 4 PEs x 16 (each PE computes `no` output
  vectors), tiled over output vectors and timesteps to the buffers; every pass writes its own output
  block of the GB large buffer, which is the Program's output region.
- Mean pool: the H*W positions as timesteps, log2(H*W) layer-reduce means.
- LSTM cell: the gates pass through the PE cores on identity weights; the activation units run the cell
  (PLAN sigmoid and tanh, c in the act buffers). Gates cannot be rescaled (sigmoid is not linear), so
  they use the bias their peak needs, clipped to 0..7.

Each reference is the hardware's exact integer arithmetic (docs/flexasr.md), vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from compiler.codegen.flexasr_linear import linear, linear_reference, linear_scales
from compiler.codegen.flexasr_lstm import LSTM_CELL_PROGRAM, lstm_cell, lstm_cell_reference
from compiler.codegen.flexasr_meanpool import meanpool, meanpool_reference
from compiler.codegen.flexasr_operands import OUTPUT
from compiler.codegen.lowered import Lowered, Where
from compiler.hooks import AcceleratorCall, CompilerHooks
from compiler.ir import terms as T
from compiler.numerics import flexasr as numerics
from compiler.rules import patterns

__all__ = [
    "HOOKS",
    "LOWERED",
    "LSTM_CELL_PROGRAM",
    "OUTPUT",
    "linear",
    "linear_reference",
    "linear_scales",
    "lower",
    "lstm_cell",
    "lstm_cell_reference",
    "meanpool",
    "meanpool_reference",
]

LOWERED = ("flex_linear", "flex_meanpool", "flex_lstm_c", "flex_lstm_h")
"""The FlexASR calls lowered to Programs (flex_maxpool runs its numerics on the host)."""


def lower(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...], where: Where) -> Lowered:
    """The Program of FlexASR call `name` on concrete inputs."""
    if name == "flex_linear" and len(arrays) == 3 and not attrs:
        return linear(arrays[0], arrays[1], arrays[2], where)
    if name == "flex_meanpool" and len(arrays) == 1 and not attrs:
        return meanpool(arrays[0], where)
    if name in ("flex_lstm_c", "flex_lstm_h") and len(arrays) == 2 and not attrs:
        return lstm_cell(arrays[0], arrays[1], where, name)
    if name not in LOWERED:
        raise KeyError(f"no FlexASR codegen for {name!r}; expected one of {', '.join(LOWERED)}")
    raise ValueError(f"{name}: unexpected {len(arrays)} arrays and attributes {attrs!r}")


HOOKS = CompilerHooks(
    patterns=patterns.flexasr,
    flexible=("linear", "im2col", "dot_product", "matmul", "maxpool", "lstm_cell", "layout"),
    calls=(
        AcceleratorCall("flex_linear", T.flex_linear),
        AcceleratorCall("flex_lstm_c", T.flex_lstm_c),
        AcceleratorCall("flex_lstm_h", T.flex_lstm_h),
        AcceleratorCall("flex_maxpool", T.flex_maxpool),
        AcceleratorCall("flex_meanpool", T.flex_meanpool),
    ),
    lower=lower,
    lowered=frozenset(LOWERED),
    numerics=numerics.CALLS,
)
"""What the compiler needs of FlexASR (named by its plug-in, `ila_models.flexasr.ACCELERATOR`)."""
