"""HLSCNN arithmetic: activations and outputs 16-bit fixed point (7 fractional bits), weights 16-bit
(14 fractional), as `ila_models.hlscnn` defines them; products accumulate exactly, outputs round and saturate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compiler.ir import semantics
from ila_models.hlscnn import ACT, WEIGHT


def _fixed(x: np.ndarray, fmt: object) -> np.ndarray:
    return np.asarray(fmt.to_float(fmt.quantize(x)), dtype=np.float32)  # type: ignore[attr-defined]


def conv2d(x: np.ndarray, w: np.ndarray, *conv: int) -> np.ndarray:
    return _fixed(semantics.conv2d(_fixed(x, ACT), _fixed(w, WEIGHT[16]), *conv), ACT)


CALLS: dict[str, Callable[..., np.ndarray]] = {"hlscnn_conv2d": conv2d, "hlscnn_grouped_conv2d": conv2d}
