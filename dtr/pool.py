"""The eviction pool: resident, unpinned, unlocked storages, scored in one vectorised pass.

Each pooled storage has a row in parallel numpy arrays: its heuristic numerator (the cost part
of the score, which depends on the graph around it), its size and its last access. The
numerator is cached and recomputed only when the heuristic reports that an eviction,
rematerialization or death near the storage may have changed it (`mark_dirty`); staleness
changes with the clock, so the division is redone over the whole pool at every choice, in numpy.
Add, remove and touch are O(1).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

import numpy as np

from dtr.graph import Storage

if TYPE_CHECKING:
    from dtr.heuristics import Heuristic


class EvictionPool:
    """Storages that may be evicted right now."""

    def __init__(self, heuristic: Heuristic | None = None) -> None:
        self.items: list[Storage] = []
        self.heuristic = heuristic
        self._num = np.zeros(64)
        self._size = np.zeros(64)
        self._last = np.zeros(64)
        self._dirty: set[Storage] = set()
        self.scored = 0  # numerators computed by choose (a linear scan computes one per candidate)
        self.candidates_seen = 0  # candidates choose ranked

    def __len__(self) -> int:
        return len(self.items)

    def add(self, s: Storage) -> None:
        if s.pool_index >= 0:
            return
        i = len(self.items)
        if i == len(self._num):
            self._num = np.concatenate([self._num, np.zeros(i)])
            self._size = np.concatenate([self._size, np.zeros(i)])
            self._last = np.concatenate([self._last, np.zeros(i)])
        s.pool_index = i
        self.items.append(s)
        self._size[i] = s.size
        self._last[i] = s.last_access
        self._dirty.add(s)  # numerator computed when next needed

    def remove(self, s: Storage) -> None:
        i = s.pool_index
        if i < 0:
            return
        last = self.items.pop()
        j = len(self.items)
        if last is not s:
            self.items[i] = last
            last.pool_index = i
            self._num[i] = self._num[j]
            self._size[i] = self._size[j]
            self._last[i] = self._last[j]
        s.pool_index = -1
        self._dirty.discard(s)

    def touch(self, s: Storage) -> None:
        """s.last_access changed."""
        if s.pool_index >= 0:
            self._last[s.pool_index] = s.last_access

    def mark_dirty(self, s: Storage) -> None:
        """s's numerator may have changed (only pooled storages are tracked)."""
        if s.pool_index >= 0:
            self._dirty.add(s)

    def _sample(self, rng: random.Random, n: int) -> list[int]:
        """⌊√n⌋ distinct pool rows, uniformly at random."""
        return sorted(rng.sample(range(n), math.isqrt(n)))

    def choose(self, clock: float, rng: random.Random, sampling: bool) -> Storage | None:
        """The storage with the lowest score (ties: the last in pool order, as a linear `<=` scan).

        With sampling, only a uniform random sample of ⌊√n⌋ pooled storages is considered.
        """
        n = len(self.items)
        if n == 0:
            return None
        h = self.heuristic
        assert h is not None, "a pool without a heuristic cannot choose"
        sample = self._sample(rng, n) if sampling and n >= 4 else None
        if h.kind == "rand":
            return self.items[rng.choice(sample) if sample is not None else rng.randrange(n)]
        if self._dirty and h.kind in ("stale", "size"):
            num = self._num
            if sample is None:
                for s in self._dirty:
                    num[s.pool_index] = h.cached_numerator(s)
                self.scored += len(self._dirty)
                self._dirty.clear()
            else:
                for i in sample:
                    s = self.items[i]
                    if s in self._dirty:
                        num[i] = h.cached_numerator(s)
                        self._dirty.discard(s)
                        self.scored += 1
        rows = None if sample is None else np.array(sample)
        score = self._scores(h.kind, clock, n, rows)
        self.candidates_seen += len(score)
        if score.min() == 0.0:  # a linear scan stops at the first zero
            pick = int(np.argmax(score == 0.0))
        else:
            pick = len(score) - 1 - int(np.argmin(score[::-1]))
        return self.items[pick if rows is None else int(rows[pick])]

    def _scores(self, kind: str, clock: float, n: int, rows: np.ndarray | None) -> np.ndarray:
        sel = slice(0, n) if rows is None else rows
        size = self._size[sel]
        if kind == "lru":
            return self._last[sel]
        if kind == "largest":
            with np.errstate(divide="ignore"):
                return np.where(size > 0, 1.0 / np.where(size > 0, size, 1.0), math.inf)
        num = self._num[sel]
        den = size if kind == "size" else size * (clock - self._last[sel])
        safe = np.where(den > 0, den, 1.0)
        return np.where(den > 0, num / safe, math.inf)
