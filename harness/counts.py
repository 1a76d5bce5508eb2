"""RunCounts: what a lockstep run counts, shared by the engine's result and the RunReport."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(kw_only=True)
class RunCounts:
    """Instructions, retirements, cycles, comparisons and time spent in each backend."""

    instructions: int = 0
    retired: int = 0
    cycles: int = 0
    comparisons: int = 0
    elements_compared: int = 0
    full_compares: int = 0
    ila_seconds: float = 0.0
    rtl_seconds: float = 0.0

    def counts(self) -> dict[str, Any]:
        """The counters alone, to carry into another RunCounts (e.g. a RunReport)."""
        return {f.name: getattr(self, f.name) for f in fields(RunCounts)}
