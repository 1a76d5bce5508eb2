"""The eviction pool: resident, unpinned, unlocked storages, with O(1) add/remove and √N sampling."""

from __future__ import annotations

import math
import random

from dtr.graph import Storage


class EvictionPool:
    """Storages that may be evicted right now."""

    def __init__(self) -> None:
        self.items: list[Storage] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, s: Storage) -> None:
        if s.pool_index < 0:
            s.pool_index = len(self.items)
            self.items.append(s)

    def remove(self, s: Storage) -> None:
        i = s.pool_index
        if i < 0:
            return
        last = self.items.pop()
        if last is not s:
            self.items[i] = last
            last.pool_index = i
        s.pool_index = -1

    def candidates(self, rng: random.Random, sampling: bool) -> list[Storage]:
        """All storages, or a uniform random sample of ⌊√n⌋ of them when sampling."""
        n = len(self.items)
        if not sampling or n < 4:
            return list(self.items)
        return rng.sample(self.items, math.isqrt(n))
