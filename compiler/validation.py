"""Application-level validation (the 3LA method): run the whole model with its offloaded calls executed
as Programs on the accelerator's ILA model, and compare with the fp32 PyTorch model.

Every call's ILA output is also checked bit for bit against its Program's numpy reference; a difference
raises `OffloadMismatch` instead of silently skewing the error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from compiler.codegen import ProgramOffload
from compiler.hooks import compiler_hooks
from compiler.numerics import accelerator_impl
from compiler.pipeline import AppError, Compiled, application_error


@dataclass(frozen=True)
class Validation:
    """Application-level error, and where it came from: 'ila' (every offloaded call a Program on the ILA),
    'emulated', or 'ila+emulated(<calls>)' when the named calls have no codegen and ran emulated."""

    error: AppError
    source: str
    programs_run: int
    seconds: float


def has_ila_path(accelerator: str) -> bool:
    """Whether `accelerator`'s codegen lowers calls, so they can run as Programs on its ILA model."""
    return bool(compiler_hooks(accelerator).lowered)


def validate_on_ila(compiled: Compiled) -> Validation:
    """The application's error with every offloaded call run as a Program on the ILA model."""
    accel = compiled.result.accelerator
    if not has_ila_path(accel):
        raise ValueError(f"accelerator {accel!r}: its codegen lowers no calls to Programs")
    offload = ProgramOffload(compiled.app.name, execute="ila", keep=False)
    start = time.perf_counter()
    error = application_error(compiled, offload)
    source = "ila"
    if offload.emulated:
        source = f"ila+emulated({','.join(sorted(offload.emulated))})"
    programs = offload.calls  # counts the calls lowered to Programs only, not the emulated ones
    return Validation(error, source, programs, time.perf_counter() - start)


def validate(compiled: Compiled) -> Validation:
    """ILA-backed validation where a codegen exists; otherwise the accelerator's emulated numerics."""
    if has_ila_path(compiled.result.accelerator):
        return validate_on_ila(compiled)
    start = time.perf_counter()
    error = application_error(compiled, accelerator_impl)
    return Validation(error, "emulated", 0, time.perf_counter() - start)
