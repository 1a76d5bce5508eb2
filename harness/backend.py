"""The Backend protocol: what the lockstep engine needs from an ILA model or an RTL simulator.

Kept as small as ibex's `Cosim` or dromajo's step API: reset, load memory images,
run until the next retirement, execute one instruction, read state by name, close.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from harness.program import Program


@dataclass(frozen=True)
class Retire:
    """One instruction leaving the machine.

    index: position of the instruction in the Program's command stream.
    unit: the module that retired it (VTA: "load", "compute", "store").
    cycle: harness-owned clock count at which it retired (0 for the ILA).
    cycles: cycles from the command being accepted to its retirement.
    """

    index: int
    unit: str
    cycle: int
    cycles: int


class SimulatorHang(RuntimeError):
    """No instruction retired within the cycle budget."""

    def __init__(self, cycle: int, budget: int, pending: list[int]):
        self.cycle = cycle
        self.budget = budget
        self.pending = pending
        shown = ", ".join(f"#{i}" for i in pending[:8]) + (" ..." if len(pending) > 8 else "")
        super().__init__(
            f"no instruction retired for {budget} cycles (at cycle {cycle}); "
            f"{len(pending)} instruction(s) still pending: {shown}"
        )


class Backend(Protocol):
    """One way of running a Program: the ILA model, or the RTL on some simulator."""

    name: str

    def reset(self) -> None:
        """Put the machine in its reset state (memories zeroed, nothing in flight)."""

    def load(self, program: Program) -> None:
        """Load the Program's memory images and queue its command stream."""

    def next_retirement(self) -> Retire | None:
        """Run until the next instruction retires; None once every instruction has retired.

        Raises SimulatorHang when nothing retires within the backend's cycle budget.
        """

    def execute(self, index: int) -> None:
        """Run instruction `index` now (the ILA follows the RTL's retirement order this way)."""

    def read(self, state: str, rows: slice | None = None) -> np.ndarray:
        """Current value of an architectural state variable (or of `rows` of it, along axis 0),
        in the ILA's shape and dtype."""

    def quiescent(self) -> bool:
        """True when nothing is in flight, so all architectural state may be compared."""

    def close(self) -> None:
        """Release the simulator."""
