"""The Backend protocol: what the lockstep engine needs from an ILA model or an RTL simulator.

Kept as small as ibex's `Cosim` or dromajo's step API: reset, load memory images,
run until the next retirement, execute one instruction, read state by name, close.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from harness.verilator_batch import BatchOutcome, BatchPlan
    from ila_models.program import Program


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


# Optional capabilities: a backend declares one by having its methods; the engine asks with isinstance.


@runtime_checkable
class ComparesInPlace(Protocol):
    """A backend that can tell whether a whole state variable equals the ILA's without copying it out."""

    def equals(self, state: str, expected: np.ndarray) -> bool:
        """True when the RTL's `state` equals `expected` bit for bit."""
        ...


@runtime_checkable
class RunsBatches(Protocol):
    """A backend that runs a batch of instructions in one call, capturing their write-sets as they retire."""

    def plan_batch(
        self, n_retire: int, watch: list[tuple[int, str, int, int, int]], expected: bytearray
    ) -> BatchPlan:
        """Lay out a batch of `n_retire` retirements and the rows to capture and compare at each."""
        ...

    def start_batch(self, batch: BatchPlan) -> None:
        """Start running `batch` (returns at once; the RTL runs on its own thread)."""
        ...

    def finish_batch(self) -> BatchOutcome:
        """Wait for the running batch; its retirements and captured rows."""
        ...


@runtime_checkable
class HasSerialMode(Protocol):
    """An RTL backend that can keep one instruction in flight (debugging)."""

    def set_serial_mode(self, on: bool) -> None:
        """Accept a command only when nothing is in flight."""
        ...
