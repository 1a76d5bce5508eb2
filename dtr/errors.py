"""Errors the runtime, the simulator and the baselines raise."""

from __future__ import annotations


class DTRError(Exception):
    """Base class of every error raised by `dtr`."""


class OutOfMemoryError(DTRError, MemoryError):
    """An op's outputs cannot fit in the budget even after evicting everything evictable."""

    def __init__(self, op: str, needed: int, budget: float, in_use: int, unevictable: int) -> None:
        self.op = op
        self.needed = needed
        self.budget = budget
        self.in_use = in_use
        self.unevictable = unevictable
        super().__init__(
            f"op {op!r} needs {needed} bytes for its outputs, but the budget is {budget:.0f} bytes and "
            f"{unevictable} bytes are held by pinned or in-use tensors that cannot be evicted "
            f"({in_use} bytes in use in total); raise the budget to at least {unevictable + needed} bytes"
        )


class ThrashingError(DTRError):
    """Rematerialization cost passed the limit the caller set (the run is thrashing)."""

    def __init__(self, remat_compute: float, limit: float) -> None:
        self.remat_compute = remat_compute
        self.limit = limit
        super().__init__(f"rematerialization compute {remat_compute:.6g} exceeded the limit {limit:.6g}")


class TraceFormatError(DTRError, ValueError):
    """A trace line is malformed or refers to something undefined."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"trace line {line}: {message}")
