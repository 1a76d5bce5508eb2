"""Accelerator numerics for application-level error: each accelerator call computed as the accelerator
would (VTA int8/int32, FlexASR AdaptivFloat, HLSCNN fixed point), selected by `offload_impl(name)`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from compiler.ir.to_relax import OffloadImpl, reference_impl
from compiler.numerics import flexasr, hlscnn, vta

_TABLES = {**vta.CALLS, **flexasr.CALLS, **hlscnn.CALLS}


def accelerator_impl(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...]) -> np.ndarray:
    """Run accelerator call `name` with the accelerator's quantised arithmetic."""
    if name not in _TABLES:
        raise KeyError(f"no accelerator numerics for {name!r}; known: {', '.join(sorted(_TABLES))}")
    return _TABLES[name](*arrays, *attrs)


NUMERICS: dict[str, OffloadImpl] = {"reference": reference_impl, "accelerator": accelerator_impl}
"""Offload implementations by name: exact fp32 reference, or the accelerators' own arithmetic."""
