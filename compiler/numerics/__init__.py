"""Accelerator numerics for application-level error: each accelerator call computed as the accelerator
would (VTA int8/int32, FlexASR AdaptivFloat, HLSCNN fixed point), as its `CompilerHooks.numerics` says."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from compiler.hooks import compiler_hooks, owner_of
from compiler.ir.to_relax import OffloadImpl, reference_impl


def accelerator_impl(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...]) -> np.ndarray:
    """Run accelerator call `name` with the accelerator's quantised arithmetic."""
    return compiler_hooks(owner_of(name)).numerics[name](*arrays, *attrs)


NUMERICS: dict[str, OffloadImpl] = {"reference": reference_impl, "accelerator": accelerator_impl}
"""Offload implementations by name: exact fp32 reference, or the accelerators' own arithmetic."""
