"""The eviction pool: resident, unpinned, unlocked storages, and the choice of the lowest score.

Each pooled storage caches its heuristic numerator (the cost part of the score, which depends on
the graph around it) in `Storage.numerator`, recomputed only when the heuristic reports that an
eviction, rematerialization or death near the storage may have changed it (`mark_dirty`).
Staleness changes with the clock, so the division by size and staleness is redone over the pool
at every choice. Add and remove are O(1).

The choice is a plain Python scan: a storage joins and leaves the pool around every op that
reads it (it is locked while the op runs), far more often than the pool is scanned, so the pool
keeps no parallel arrays to update; at the pool sizes measured (tens to a few hundred storages)
the scan also costs no more than numpy's per-call overhead. `sampling` bounds it for big pools.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dtr.graph import Storage

if TYPE_CHECKING:
    from dtr.heuristics import Heuristic


class EvictionPool:
    """Storages that may be evicted right now."""

    def __init__(self, heuristic: Heuristic | None = None) -> None:
        self.items: list[Storage] = []
        self.heuristic = heuristic
        self._dirty: set[Storage] = set()  # pooled storages whose cached numerator is stale
        self.scored = 0  # numerators computed by choose (a linear scan computes one per candidate)
        self.candidates_seen = 0  # candidates choose ranked

    def __len__(self) -> int:
        return len(self.items)

    def add(self, s: Storage) -> None:
        if s.pool_index >= 0:
            return
        s.pool_index = len(self.items)
        self.items.append(s)
        self._dirty.add(s)  # numerator computed when next needed

    def remove(self, s: Storage) -> None:
        i = s.pool_index
        if i < 0:
            return
        last = self.items.pop()
        if last is not s:
            self.items[i] = last
            last.pool_index = i
        s.pool_index = -1
        self._dirty.discard(s)

    def mark_dirty(self, storages: Iterable[Storage]) -> None:
        """Their numerators may have changed (only pooled storages are tracked)."""
        dirty = self._dirty
        for s in storages:
            if s.pool_index >= 0:
                dirty.add(s)

    def _sample(self, rng: random.Random, n: int) -> list[int]:
        """⌊√n⌋ distinct pool rows, uniformly at random."""
        return sorted(rng.sample(range(n), math.isqrt(n)))

    def choose(self, clock: float, rng: random.Random, sampling: bool) -> Storage | None:
        """The storage with the lowest score (ties: the last in pool order, as a linear `<=` scan).

        With sampling, only a uniform random sample of ⌊√n⌋ pooled storages is considered.
        """
        items = self.items
        n = len(items)
        if n == 0:
            return None
        h = self.heuristic
        assert h is not None, "a pool without a heuristic cannot choose"
        sample = self._sample(rng, n) if sampling and n >= 4 else None
        if h.kind == "rand":
            return items[rng.choice(sample) if sample is not None else rng.randrange(n)]
        candidates = items if sample is None else [items[i] for i in sample]
        if self._dirty and h.kind in ("stale", "size"):
            numerator = h.cached_numerator
            if sample is None:
                for s in self._dirty:
                    s.numerator = numerator(s)
                self.scored += len(self._dirty)
                self._dirty.clear()
            else:
                for s in candidates:
                    if s in self._dirty:
                        s.numerator = numerator(s)
                        self._dirty.discard(s)
                        self.scored += 1
        self.candidates_seen += len(candidates)
        return _lowest(h.kind, clock, candidates)


def _lowest(kind: str, clock: float, candidates: list[Storage]) -> Storage | None:
    """The storage with the lowest score, as a linear `<=` scan that stops at the first zero."""
    inf = math.inf
    best, pick = inf, None
    for s in candidates:
        if kind == "stale":
            den = s.size * (clock - s.last_access)
            score = s.numerator / den if den > 0 else inf
        elif kind == "size":
            score = s.numerator / s.size if s.size > 0 else inf
        elif kind == "lru":
            score = s.last_access
        else:  # "largest"
            score = 1.0 / s.size if s.size > 0 else inf
        if score <= best:
            best, pick = score, s
            if score == 0.0:
                break
    return pick
