"""Liveness: when a storage can be freed for good, banishing, and cutting lineage.

A storage is dead when nothing can ever need it again: no external reference, no lock and no
live dependent (a live storage's recipe may read it). Dead storages give back their memory and
leave the graph, which is what keeps a long training run's lineage from growing forever.
"""

from __future__ import annotations

from dtr.graph import Storage, Tensor
from dtr.heuristics import Heuristic
from dtr.pool import EvictionPool
from dtr.stats import RuntimeStats


class Liveness:
    """Mixed into Runtime: the part of its state transitions that ends a storage's life."""

    pool: EvictionPool
    memory: int
    stats: RuntimeStats
    heuristic: Heuristic

    def _enter(self) -> None: ...

    def _exit(self) -> None: ...

    def make_root(self, t: Tensor) -> None:
        """Turn t into a pinned constant: drop its recipe and its links to the ops it came from.

        Used for long-lived state written in place (optimizer buffers), whose lineage would
        otherwise keep every earlier step's inputs alive.
        """
        self._enter()
        try:
            s = t.storage
            if s.dead or not s.resident:
                raise ValueError(f"cannot make {t.name!r} a root: its storage is {s!r}")
            s.pinned = True
            self.pool.remove(s)
            for x in s.tensors:
                x.op = None
            parents = list(s.parents)
            s.parents.clear()
            for p in parents:
                p.live_children -= 1
                del p.children[s]
                self._check_dead(p)
        finally:
            self._exit()

    def _check_dead(self, start: Storage) -> None:
        """Drop storages nothing can need again (no reference, lock or live dependent)."""
        work = [start]
        while work:
            s = work.pop()
            if s.dead or s.ref_ext or s.locks or s.live_children:
                continue
            self._drop(s)
            for p in s.parents:
                p.live_children -= 1
                del p.children[s]
                work.append(p)
            s.parents.clear()

    def _drop(self, s: Storage) -> None:
        s.dead = True
        self.pool.remove(s)
        self.heuristic.on_dead(s, self)  # type: ignore[arg-type]
        if s.resident:
            s.resident = False
            self.memory -= s.size
        for t in s.tensors:
            t.defined = False
            t.value = None

    def _try_banish(self, s: Storage) -> None:
        """Banishing: free s for good once unreferenced with no evicted dependent; pin children."""
        if s.dead or s.ref_ext or s.locks or any(not c.resident for c in s.children):
            return
        self.stats.banishments += 1
        s.banished = True
        for c in list(s.children):
            c.pinned = True
            self.pool.remove(c)
            del c.parents[s]
        s.children.clear()
        s.live_children = 0
        self._check_dead(s)
