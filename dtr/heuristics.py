"""Eviction heuristics: each scores a resident storage; the runtime evicts the lowest score.

Definitions follow the DTR simulator (simrd). Staleness is `clock - last_access`, where the
clock is accumulated op compute, not op count; a score dividing by zero staleness is infinite,
so a just-touched storage is never chosen. c(S) is the compute of the unique ops producing any
tensor on S.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

from dtr.eqclass import EqNode, find, union
from dtr.graph import Storage


class RuntimeView(Protocol):
    """What a heuristic may read from the runtime."""

    clock: float
    rng: random.Random


class Heuristic:
    """Base class: lower score = evicted first. Hooks keep incremental metadata up to date."""

    name = "base"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        raise NotImplementedError

    def on_evict(self, s: Storage, rt: RuntimeView) -> None:
        """Called after s is evicted (memory freed, lineage kept)."""

    def on_remat(self, s: Storage, rt: RuntimeView) -> None:
        """Called after an evicted s is resident again."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _staleness(s: Storage, rt: RuntimeView) -> float:
    return rt.clock - s.last_access


def _ratio(cost: float, denominator: float) -> float:
    return math.inf if denominator <= 0 else cost / denominator


def evicted_region(s: Storage, forward: bool) -> float:
    """Compute of the evicted storages reachable from s through evicted storages only.

    forward=True walks children (what would need s), False walks parents (what s would need).
    """
    total = 0.0
    seen: set[Storage] = set()
    stack = list(s.children if forward else s.parents)
    while stack:
        n = stack.pop()
        if n in seen or not n.evicted:
            continue
        seen.add(n)
        total += n.cost
        stack.extend(n.children if forward else n.parents)
    return total


class DTRFull(Heuristic):
    """h_DTR: (c(S) + evicted neighbourhood e* both ways) / (size * staleness)."""

    name = "dtr"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        cost = s.cost + evicted_region(s, True) + evicted_region(s, False)
        return _ratio(cost, s.size * _staleness(s, rt))


class DTREqClass(Heuristic):
    """h_DTR^eq: e* approximated by union-find classes of adjacent evicted storages."""

    name = "dtr_eq"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        cost = s.cost
        roots: list[EqNode] = []
        for group in (s.parents, s.children):
            for n in group:
                if n.eq_node is not None and n.evicted:
                    r = find(n.eq_node)
                    if all(r is not q for q in roots):
                        roots.append(r)
                        cost += r.compute
        return _ratio(cost, s.size * _staleness(s, rt))

    def on_evict(self, s: Storage, rt: RuntimeView) -> None:
        if s.eq_node is None:
            s.eq_node = EqNode(s.cost)
        for group in (s.parents, s.children):
            for n in group:
                if n.eq_node is not None and n.evicted:
                    union(s.eq_node, n.eq_node)

    def on_remat(self, s: Storage, rt: RuntimeView) -> None:
        if s.eq_node is not None:
            find(s.eq_node).compute -= s.cost
            s.eq_node = None


class DTRLocal(Heuristic):
    """h_DTR^local: c(S) / (size * staleness): the op's own cost only."""

    name = "dtr_local"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        return _ratio(s.cost, s.size * _staleness(s, rt))


class MSPS(Heuristic):
    """h_MSPS: (c(S) + evicted ancestors' compute) / size; no staleness."""

    name = "msps"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        return _ratio(s.cost + evicted_region(s, False), s.size)


class LRU(Heuristic):
    """h_LRU: least recently used first."""

    name = "lru"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        return s.last_access


class LargestFirst(Heuristic):
    """h_size: largest storage first."""

    name = "size"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        return _ratio(1.0, s.size)


class RandomChoice(Heuristic):
    """h_rand: a uniform random storage of the pool."""

    name = "rand"

    def score(self, s: Storage, rt: RuntimeView) -> float:
        return rt.rng.random()


HEURISTICS: dict[str, type[Heuristic]] = {
    h.name: h for h in (DTRFull, DTREqClass, DTRLocal, MSPS, LRU, LargestFirst, RandomChoice)
}


def make_heuristic(name: str) -> Heuristic:
    """A fresh heuristic by name (see HEURISTICS)."""
    try:
        return HEURISTICS[name]()
    except KeyError:
        raise ValueError(f"unknown heuristic {name!r}; expected one of {sorted(HEURISTICS)}") from None
