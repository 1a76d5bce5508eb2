"""Eviction heuristics: each scores a resident storage; the runtime evicts the lowest score.

Definitions follow the DTR simulator (simrd). Staleness is `clock - last_access`, where the
clock is accumulated op compute, not op count; a score dividing by zero staleness is infinite,
so a just-touched storage is never chosen. c(S) is the compute of the unique ops producing any
tensor on S.
"""

from __future__ import annotations

import math
import random
from typing import ClassVar, Protocol

from mypy_extensions import mypyc_attr

from dtr.eqclass import EqNode, find, union
from dtr.graph import Storage
from dtr.pool import EvictionPool


class RuntimeView(Protocol):
    """What a heuristic may read from the runtime."""

    clock: float
    rng: random.Random
    pool: EvictionPool


@mypyc_attr(allow_interpreted_subclasses=True)  # users may define their own
class Heuristic:
    """Base class: lower score = evicted first. Hooks keep incremental metadata up to date.

    A score is `numerator(s)` combined with the storage's size and staleness as `kind` says:
    "stale" numerator / (size * staleness), "size" numerator / size, "lru" last access,
    "largest" 1 / size, "rand" uniform. The pool caches numerators; the hooks mark the pooled
    storages whose numerator an eviction, rematerialization or death may have changed.
    """

    name: ClassVar[str] = "base"
    kind: ClassVar[str] = "stale"

    def numerator(self, s: Storage) -> float:
        """The cost part of the score, from the definition."""
        return s.cost

    def cached_numerator(self, s: Storage) -> float:
        """numerator(s), computed so that the hooks can tell when it goes stale (the pool calls this)."""
        return self.numerator(s)

    def score(self, s: Storage, rt: RuntimeView) -> float:
        """The score of one storage, straight from the definition (the pool computes the same in bulk)."""
        if self.kind == "stale":
            return _ratio(self.numerator(s), s.size * _staleness(s, rt))
        if self.kind == "size":
            return _ratio(self.numerator(s), s.size)
        if self.kind == "lru":
            return s.last_access
        if self.kind == "largest":
            return _ratio(1.0, s.size)
        return rt.rng.random()

    def on_evict(self, s: Storage, rt: RuntimeView) -> None:
        """Called after s is evicted (memory freed, lineage kept)."""

    def on_remat(self, s: Storage, rt: RuntimeView) -> None:
        """Called after an evicted s is resident again."""

    def on_dead(self, s: Storage, rt: RuntimeView) -> None:
        """Called when s is dropped for good, before it is unlinked from the graph."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _staleness(s: Storage, rt: RuntimeView) -> float:
    return rt.clock - s.last_access


def _ratio(cost: float, denominator: float) -> float:
    return math.inf if denominator <= 0 else cost / denominator


def evicted_region(s: Storage, forward: bool, watcher: Storage | None = None) -> float:
    """Compute of the evicted storages reachable from s through evicted storages only.

    forward=True walks children (what would need s), False walks parents (what s would need).
    With a watcher, every storage looked at (the region and its resident frontier) records it,
    so that a later change to any of them marks the watcher's cached score stale.
    """
    total = 0.0
    seen: set[Storage] = set()
    stack = list(s.children if forward else s.parents)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if watcher is not None:
            _watch(n, watcher)
        if not n.evicted:
            continue
        total += n.cost
        stack.extend(n.children if forward else n.parents)
    return total


def _watch(n: Storage | EqNode, s: Storage) -> None:
    if n.watchers is None:
        n.watchers = {s}
    else:
        n.watchers.add(s)


def _notify(n: Storage | EqNode, pool: EvictionPool) -> None:
    """n changed: the cached scores that read it are stale."""
    if n.watchers:
        pool.mark_dirty(n.watchers)
    n.watchers = None


def _mark_neighbours(s: Storage, pool: EvictionPool) -> None:
    """s was evicted, rematerialized or dropped: its neighbours' cached neighbourhoods are stale."""
    for group in (s.parents, s.children):
        for n in group:
            n.hcache = None
        pool.mark_dirty(group)


class _RegionScored(Heuristic):
    """A heuristic whose cached numerators read evicted regions: a storage that changes state
    marks the scores that looked at it."""

    def on_evict(self, s: Storage, rt: RuntimeView) -> None:
        _notify(s, rt.pool)

    def on_remat(self, s: Storage, rt: RuntimeView) -> None:
        _notify(s, rt.pool)

    def on_dead(self, s: Storage, rt: RuntimeView) -> None:
        _notify(s, rt.pool)


class DTRFull(_RegionScored):
    """h_DTR: (c(S) + evicted neighbourhood e* both ways) / (size * staleness)."""

    name = "dtr"

    def numerator(self, s: Storage) -> float:
        return s.cost + evicted_region(s, True) + evicted_region(s, False)

    def cached_numerator(self, s: Storage) -> float:
        return s.cost + evicted_region(s, True, s) + evicted_region(s, False, s)


class DTREqClass(Heuristic):
    """h_DTR^eq: e* approximated by union-find classes of adjacent evicted storages.

    A pooled storage caches the distinct classes next to it (hcache). A change of a class's
    compute only makes the cached sum stale; an eviction, rematerialization or death next to it,
    or the merge of a class it sees into another, makes the list itself stale.
    """

    name = "dtr_eq"

    def numerator(self, s: Storage) -> float:
        cost = s.cost
        for r in self._roots(s):
            cost += r.compute
        return cost

    @staticmethod
    def _roots(s: Storage) -> list[EqNode]:
        """The distinct classes of s's evicted neighbours."""
        roots: list[EqNode] = []
        for group in (s.parents, s.children):
            for n in group:
                if n.eq_node is not None and n.evicted:
                    r = find(n.eq_node)
                    if r not in roots:  # EqNode compares by identity
                        roots.append(r)
        return roots

    def cached_numerator(self, s: Storage) -> float:
        roots: list[EqNode] | None = s.hcache
        if roots is not None:
            for r in roots:
                if r.parent is not r:  # a class was merged away
                    roots = None
                    break
        if roots is None:
            roots = s.hcache = self._roots(s)
        cost = s.cost
        for r in roots:  # in a loop rather than through _watch: this is the eviction search's inner loop
            cost += r.compute
            if r.watchers is None:
                r.watchers = {s}
            else:
                r.watchers.add(s)
        return cost

    def on_evict(self, s: Storage, rt: RuntimeView) -> None:
        pool = rt.pool
        if s.eq_node is None:
            s.eq_node = EqNode(s.cost)
        mine = find(s.eq_node)
        for group in (s.parents, s.children):
            for n in group:
                if n.eq_node is not None and n.evicted:
                    theirs = find(n.eq_node)
                    if mine is theirs:
                        continue
                    _notify(mine, pool)
                    _notify(theirs, pool)
                    mine = union(mine, theirs)  # the merged class's root
        _mark_neighbours(s, pool)

    def on_remat(self, s: Storage, rt: RuntimeView) -> None:
        if s.eq_node is not None:
            root = find(s.eq_node)
            root.compute -= s.cost
            _notify(root, rt.pool)
            s.eq_node = None
        _mark_neighbours(s, rt.pool)

    def on_dead(self, s: Storage, rt: RuntimeView) -> None:
        # A storage dropped for good is no one's recomputation any more: its cost leaves its class
        # (the true e*, which h_DTR computes, excludes it too).
        self.on_remat(s, rt)


class DTRLocal(Heuristic):
    """h_DTR^local: c(S) / (size * staleness): the op's own cost only."""

    name = "dtr_local"


class MSPS(_RegionScored):
    """h_MSPS: (c(S) + evicted ancestors' compute) / size; no staleness."""

    name = "msps"
    kind = "size"

    def numerator(self, s: Storage) -> float:
        return s.cost + evicted_region(s, False)

    def cached_numerator(self, s: Storage) -> float:
        return s.cost + evicted_region(s, False, s)


class LRU(Heuristic):
    """h_LRU: least recently used first."""

    name = "lru"
    kind = "lru"


class LargestFirst(Heuristic):
    """h_size: largest storage first."""

    name = "size"
    kind = "largest"


class RandomChoice(Heuristic):
    """h_rand: a uniform random storage of the pool."""

    name = "rand"
    kind = "rand"


HEURISTICS: dict[str, type[Heuristic]] = {
    h.name: h for h in (DTRFull, DTREqClass, DTRLocal, MSPS, LRU, LargestFirst, RandomChoice)
}


def make_heuristic(name: str) -> Heuristic:
    """A fresh heuristic by name (see HEURISTICS)."""
    try:
        return HEURISTICS[name]()
    except KeyError:
        raise ValueError(f"unknown heuristic {name!r}; expected one of {sorted(HEURISTICS)}") from None
