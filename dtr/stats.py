"""Counters a runtime keeps: compute split into base and remat, memory, and bookkeeping time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RuntimeStats:
    """What one run cost. Compute is in the ops' cost unit (ns for measured traces)."""

    base_compute: float = 0.0  # first computation of every op
    remat_compute: float = 0.0  # replays
    ops: int = 0
    remats: int = 0
    evictions: int = 0  # heuristic-chosen evictions
    eager_evictions: int = 0  # freed because the last external reference went away
    banishments: int = 0
    peak_memory: int = 0
    search_time: float = 0.0  # seconds spent choosing what to evict
    bookkeeping_time: float = 0.0  # seconds in the runtime outside op execution, search included
    op_time: float = 0.0  # seconds spent executing ops (torch runtime only)
    remat_time: float = 0.0  # of which replays
    numerators_computed: int = 0  # heuristic cost evaluations the eviction search made
    candidates_ranked: int = 0  # pool entries it ranked (what a linear scan would evaluate)

    @property
    def total_compute(self) -> float:
        return self.base_compute + self.remat_compute

    @property
    def metadata_time(self) -> float:
        """Bookkeeping outside the eviction search."""
        return self.bookkeeping_time - self.search_time
