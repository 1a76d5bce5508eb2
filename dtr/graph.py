"""The runtime's graph: storages (the unit of memory and eviction), tensors on them, and ops.

A storage is one allocation. Several tensors may live on it (a base tensor and its views);
evicting a storage undefines every tensor on it, and a view is re-created by replaying its
(zero-byte) view op once the base storage is resident again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# Executes an op on real values: gets the op (whose inputs are all defined), returns one value
# per output. The simulator passes None and only accounts.
OpRunner = Callable[["Op"], Sequence[Any]]


class Storage:
    """One allocation, with the bookkeeping every heuristic reads."""

    __slots__ = (
        "banished",
        "children",
        "cost",
        "dead",
        "eq_node",
        "evict_when_unlocked",
        "hcache",
        "id",
        "last_access",
        "live_children",
        "locks",
        "numerator",
        "parents",
        "pinned",
        "pool_index",
        "ref_ext",
        "resident",
        "size",
        "tensors",
        "watchers",
    )

    def __init__(self, sid: int, size: int, *, pinned: bool = False) -> None:
        self.id = sid
        self.size = size
        self.tensors: list[Tensor] = []
        self.cost = 0.0  # c(S): compute of the unique ops producing any tensor on this storage
        self.resident = False
        self.pinned = pinned
        self.locks = 0  # held by an op being run (its inputs): never evicted while > 0
        self.ref_ext = 0  # external references, summed over the tensors on this storage
        self.last_access = 0.0
        # Ordered dicts used as ordered sets: iteration order is creation order, so a replay is
        # deterministic.
        self.parents: dict[Storage, None] = {}
        self.children: dict[Storage, None] = {}
        self.live_children = 0
        self.dead = False  # nothing can ever need it again: memory and lineage dropped
        self.banished = False
        self.evict_when_unlocked = False
        self.pool_index = -1  # row in the eviction pool, -1 when not pooled
        self.numerator = 0.0  # the heuristic's score numerator, cached by the pool while pooled
        self.eq_node: Any = None  # union-find node while evicted (h_DTR^eq)
        # pooled storages whose cached score read this one's state: told when it changes
        self.watchers: set[Storage] | None = None
        self.hcache: Any = None  # a heuristic's cached view of the storage's neighbourhood

    @property
    def evicted(self) -> bool:
        """Not resident but still rematerializable."""
        return not self.resident and not self.dead

    def __repr__(self) -> str:
        state = "dead" if self.dead else ("resident" if self.resident else "evicted")
        return f"Storage(#{self.id}, {self.size} B, {state})"


class Tensor:
    """A tensor: its storage, the op that produces it and whether it is currently computed."""

    __slots__ = ("_name", "alias", "defined", "id", "index", "op", "ref_ext", "storage", "value")

    def __init__(self, tid: int, name: str, storage: Storage, op: Op | None, index: int, alias: int) -> None:
        self.id = tid
        self._name = name  # "" until named: `name` then says t<id> (formatted only when read)
        self.storage = storage
        self.op = op  # None for constants: they can never be recomputed
        self.index = index  # position among op.outputs
        self.alias = alias  # input index this output views, or -1 for a fresh allocation
        self.defined = False
        self.ref_ext = 0
        self.value: Any = None  # the real value (torch), None in simulation

    @property
    def name(self) -> str:
        return self._name or f"t{self.id}"

    @name.setter
    def name(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"Tensor({self.name!r}, storage #{self.storage.id}, {'defined' if self.defined else 'undefined'})"


class Op:
    """One call of an operator: the recipe to (re)compute its outputs."""

    __slots__ = ("compute", "id", "inputs", "name", "outputs", "run")

    def __init__(
        self, oid: int, name: str, compute: float, inputs: Sequence[Tensor], run: OpRunner | None
    ) -> None:
        self.id = oid
        self.name = name
        self.compute = compute
        self.inputs = list(inputs)
        self.outputs: list[Tensor] = []
        self.run = run

    def __repr__(self) -> str:
        return f"Op(#{self.id} {self.name!r}, compute={self.compute})"
