"""One batch of the batched lockstep on the Verilator backend: its watch table, buffers and outcome.

The engine (harness/lockstep_batched.py) names, per instruction, the rows it writes and their
expected values. `plan_batch` lays them out for the shim (harness/shim/tandem_batch.cpp), which runs
the batch on a thread of its own, copies each instruction's rows at its retirement and compares
them with the expected ones there. Python looks at the copied rows only when something differs
(`BatchOutcome.captured`), so a batch that agrees costs it no work per instruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.backend import Retire, SimulatorHang

# A watch row: index, state id, first row, rows, offset in snap, offset in expected (-1: none), row bytes.
WATCH_COLUMNS = 7


@dataclass(frozen=True)
class Watched:
    """How a state variable's rows are copied: shim handle (-1: the DRAM model), bytes per RTL
    entry and per ILA row, and the ILA's dtype and row shape."""

    handle: int
    entry_bytes: int
    row_bytes: int
    dtype: np.dtype
    row_shape: tuple[int, ...]

    def as_rows(self, entries: np.ndarray) -> np.ndarray:
        """Raw RTL entries (n, entry_bytes) as n ILA rows: lanes packed little endian, padding dropped."""
        n = len(entries)
        return entries[:, : self.row_bytes].copy().view(self.dtype).reshape((n, *self.row_shape))


@dataclass
class BatchPlan:
    """A batch laid out for the shim; the buffers live as long as the batch runs."""

    n_retire: int
    watch: list[tuple[int, str, int, int, int]]
    table: np.ndarray
    snap: np.ndarray
    expected: np.ndarray
    out: np.ndarray


def plan_batch(
    watched: dict[str, Watched],
    units: int,
    n_retire: int,
    watch: list[tuple[int, str, int, int, int]],
    expected: bytearray,
) -> BatchPlan:
    """Lay out a batch of `n_retire` retirements for the shim.

    watch: (instruction index, state, first row, end row, offset of the ILA's rows in `expected` or
    -1 to copy them without comparing) sorted by index.
    expected: the ILA's rows, packed (each row `row_bytes` long, in its own dtype).
    """
    table = np.zeros((max(len(watch), 1), WATCH_COLUMNS), dtype=np.int64)
    size = 0
    if watch:
        info = np.array(
            [
                (index, w.handle, lo, hi - lo, offset, w.row_bytes, w.entry_bytes)
                for index, state, lo, hi, offset in watch
                for w in (watched[state],)
            ],
            dtype=np.int64,
        )
        table[:, :4] = info[:, :4]
        table[:, 5:] = info[:, 4:6]
        sizes = info[:, 3] * info[:, 6]
        np.cumsum(sizes[:-1], out=table[1:, 4])
        size = int(table[-1, 4] + sizes[-1])
    return BatchPlan(
        n_retire=n_retire,
        watch=watch,
        table=table,
        snap=np.zeros(max(size, 1), dtype=np.uint8),
        expected=np.frombuffer(expected, dtype=np.uint8) if expected else np.zeros(1, dtype=np.uint8),
        out=np.zeros((n_retire + units, 4), dtype=np.uint64),
    )


@dataclass
class BatchOutcome:
    """What a batch did: its retirement records (index, unit, cycle, cycles taken), how many
    compared watch entries differ, and the hang if nothing retired within the cycle budget."""

    plan: BatchPlan
    records: np.ndarray
    differing: int
    hang: SimulatorHang | None
    units: list[str]
    watched: dict[str, Watched]

    @property
    def count(self) -> int:
        """Retirements in this batch."""
        return len(self.records)

    def retirements(self) -> list[Retire]:
        """The records as Retire objects."""
        return [Retire(i, self.units[u], c, t) for i, u, c, t in self.records.tolist()]

    def captured(self, entry: int) -> np.ndarray:
        """The rows of watch entry `entry` as the RTL held them at its instruction's retirement, in
        the ILA's dtype and shape; empty when that instruction did not retire."""
        index, state, lo, hi, _ = self.plan.watch[entry]
        if index not in self.records[:, 0]:
            return np.zeros(0)
        w = self.watched[state]
        start = int(self.plan.table[entry, 4])
        raw = self.plan.snap[start : start + (hi - lo) * w.entry_bytes]
        if w.handle < 0:
            return raw.copy()
        return w.as_rows(raw.reshape(hi - lo, w.entry_bytes))
