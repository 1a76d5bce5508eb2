"""Per-instruction progress of a worker, for the session's progress bar on long Programs.

The worker wraps its RTL backend in `ProgressBackend`, which writes "retired total" to a small
file at most every `interval` seconds (a rename, so a reader never sees half a line); the
session polls the file while it waits for the worker. Cost: one clock read per retirement.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from harness.backend import Backend, Retire


class ProgressBackend:
    """A Backend that reports how many instructions have retired (see the module docstring)."""

    def __init__(self, inner: Backend, path: Path, total: int, interval: float = 0.25):
        self.inner = inner
        self.name = inner.name
        self.path = path
        self.total = total
        self.interval = interval
        self.retired = 0
        self._next_write = 0.0
        # The batched engine checks for it: offer it only when the inner backend has it.
        if hasattr(inner, "finish_batch"):
            self.finish_batch = self._finish_batch

    def _count(self, n: int) -> None:
        self.retired += n
        now = time.monotonic()
        if now >= self._next_write or self.retired >= self.total:
            self._next_write = now + self.interval
            write_progress(self.path, self.retired, self.total)

    def next_retirement(self) -> Retire | None:
        r = self.inner.next_retirement()
        self._count(0 if r is None else 1)
        return r

    def _finish_batch(self) -> Any:
        outcome = self.inner.finish_batch()  # type: ignore[attr-defined]
        self._count(outcome.count)
        return outcome

    def __getattr__(self, name: str) -> Any:  # the rest of the protocol (and extras) as the inner backend's
        return getattr(self.inner, name)


def write_progress(path: Path, retired: int, total: int) -> None:
    """Replace the progress file with "retired total"."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{retired} {total}\n")
    os.replace(tmp, path)


def read_progress(path: Path) -> tuple[int, int] | None:
    """(retired, total) from a progress file, or None when there is none yet."""
    try:
        retired, total = path.read_text().split()
        return int(retired), int(total)
    except (OSError, ValueError):
        return None
