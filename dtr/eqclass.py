"""Union-find over evicted storages, the equivalence classes h_DTR^eq uses to approximate e*.

Each class carries the total compute of its members. Classes are merged when adjacent storages
are evicted and never split: rematerializing a member only subtracts its cost (the DTR
prototype's and MegEngine's approximation).
"""

from __future__ import annotations

from typing import Any


class EqNode:
    """A union-find node; the root of a class holds the class's compute."""

    __slots__ = ("compute", "parent", "rank", "watchers")

    def __init__(self, compute: float) -> None:
        self.parent: EqNode = self
        self.rank = 0
        self.compute = compute
        # storages whose cached score read this class (at its root): told when the class changes
        self.watchers: set[Any] | None = None


def find(node: EqNode) -> EqNode:
    """The class root, with path halving."""
    while node.parent is not node:
        node.parent = node.parent.parent
        node = node.parent
    return node


def union(a: EqNode, b: EqNode) -> EqNode:
    """Merge the classes of a and b; returns the new root holding the summed compute."""
    ra, rb = find(a), find(b)
    if ra is rb:
        return ra
    if ra.rank < rb.rank:
        ra, rb = rb, ra
    rb.parent = ra
    if ra.rank == rb.rank:
        ra.rank += 1
    ra.compute += rb.compute
    return ra
