"""Per-instruction progress of a running Program, for the progress display of long Programs.

`with_progress` wraps a worker's RTL backend so that it calls `report(retired, total)` at most
every `interval` seconds and once at the end (the worker forwards it to the run's executor).
Cost: one clock read per retirement, or per batch on the batched path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.backend import Backend, Retire, RunsBatches
from harness.verilator_batch import BatchOutcome, BatchPlan

Report = Callable[[int, int], None]


class ProgressBackend:
    """A Backend that reports how many instructions have retired (see the module docstring)."""

    def __init__(self, inner: Backend, report: Report, total: int, interval: float = 0.25):
        self.inner = inner
        self.name = inner.name
        self.report = report
        self.total = total
        self.interval = interval
        self.retired = 0
        self._next_report = 0.0

    def _count(self, n: int) -> None:
        self.retired += n
        now = time.monotonic()
        if now >= self._next_report or (n and self.retired >= self.total):
            self._next_report = now + self.interval
            self.report(self.retired, self.total)

    def next_retirement(self) -> Retire | None:
        r = self.inner.next_retirement()
        self._count(0 if r is None else 1)
        return r

    def __getattr__(self, name: str) -> Any:  # the rest of the protocol as the inner backend's
        return getattr(self.inner, name)


class BatchedProgressBackend(ProgressBackend):
    """ProgressBackend around a backend that runs batches: counts each batch's retirements."""

    inner: Any

    def plan_batch(self, n_retire: int, watch: list[tuple[int, str, int, int, int]], expected: bytearray) -> BatchPlan:
        return self.inner.plan_batch(n_retire, watch, expected)

    def start_batch(self, batch: BatchPlan) -> None:
        self.inner.start_batch(batch)

    def finish_batch(self) -> BatchOutcome:
        outcome = self.inner.finish_batch()
        self._count(outcome.count)
        return outcome


def with_progress(inner: Backend, report: Report, total: int, interval: float = 0.25) -> Backend:
    """`inner`, reporting its retirements to `report(retired, total)`; batches stay batches."""
    kind = BatchedProgressBackend if isinstance(inner, RunsBatches) else ProgressBackend
    return kind(inner, report, total, interval)
