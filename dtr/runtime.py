"""The DTR runtime core: budgeted execution, eviction, rematerialization and liveness.

The budget is a hard cap on resident bytes: before an op runs, storages are evicted until its
outputs fit, so memory never exceeds the budget (evicting after the op, as the DTR prototype
did, lets the peak overshoot by one op's outputs).

Reference semantics:
- eager eviction (default): when a storage's last external reference goes, its memory is freed
  but its recipe kept, so dependents can still rematerialize through it;
- banishing (option): when a storage has no external reference and no evicted dependent, it is
  freed for good and its children are pinned (they could no longer be recomputed);
- in both modes a storage nothing can ever need again (no external reference, no live
  dependent) is dead: its memory and its lineage are dropped.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from typing import Any

from dtr.errors import OutOfMemoryError, ThrashingError
from dtr.graph import Op, OpRunner, Storage, Tensor
from dtr.heuristics import Heuristic
from dtr.liveness import Liveness
from dtr.pool import EvictionPool
from dtr.stats import RuntimeStats


class Runtime(Liveness):
    """Tracks tensors under a byte budget and rematerializes evicted ones on demand."""

    def __init__(
        self,
        budget: float,
        heuristic: Heuristic,
        *,
        banishing: bool = False,
        sampling: bool = False,
        ignore_small: bool = False,
        remat_limit: float | None = None,
        seed: int = 0,
    ) -> None:
        if not budget > 0:
            raise ValueError(f"budget must be a positive number of bytes, got {budget!r}")
        self.budget = budget
        self.heuristic = heuristic
        self.banishing = banishing
        self.sampling = sampling
        self.ignore_small = ignore_small
        self.remat_limit = math.inf if remat_limit is None else remat_limit
        self.rng = random.Random(seed)
        self.clock = 0.0  # accumulated compute of every op run so far (staleness is measured on it)
        self.memory = 0  # resident bytes
        self.pool = EvictionPool(heuristic)
        self.stats = RuntimeStats()
        self._next_id = 0
        self._sizes_total = 0
        self._sizes_count = 0
        self._depth = 0  # nesting of public entry points, so bookkeeping time is counted once
        self._t_enter = 0.0
        self._op_seconds = 0.0

    # ---- public API -------------------------------------------------------------------------

    def constant(self, size: int, name: str = "", value: Any = None) -> Tensor:
        """A pinned input (parameter, data): resident, never evicted, one external reference."""
        self._enter()
        try:
            s = self._new_storage(size, pinned=True)
            t = self._new_tensor(name, s, None, 0, -1)
            t.value = value
            t.defined = True
            s.resident = True
            self._reserve(size, name or f"constant #{t.id}")
            self.memory += size
            self._note_peak()
            self._ref(t)
            return t
        finally:
            self._exit()

    def call(
        self,
        name: str,
        inputs: Sequence[Tensor],
        sizes: Sequence[int],
        aliases: Sequence[int],
        compute: float = 0.0,
        run: OpRunner | None = None,
    ) -> list[Tensor]:
        """Run an op now; returns its outputs, each holding one external reference.

        sizes[i] is the byte size of output i's storage; aliases[i] is the index of the input
        output i views (it then shares that input's storage and its size is ignored), or -1.
        """
        self._enter()
        try:
            if len(sizes) != len(aliases):
                raise ValueError(f"op {name!r}: {len(sizes)} sizes but {len(aliases)} aliases")
            for x in inputs:
                if x.storage.dead:
                    raise ValueError(f"op {name!r}: input {x.name!r} was already freed for good")
            op = Op(self._new_id(), name, compute, inputs, run)
            for i, (size, alias) in enumerate(zip(sizes, aliases, strict=True)):
                if alias >= 0:
                    if alias >= len(inputs):
                        raise ValueError(f"op {name!r}: output {i} aliases input {alias}, it has {len(inputs)}")
                    s = inputs[alias].storage
                else:
                    s = self._new_storage(int(size))
                op.outputs.append(self._new_tensor("", s, op, i, alias))
            self._link(op)
            for t in op.outputs:
                self._ref(t)
            self._run(op, remat=False)
            self.stats.ops += 1
            return list(op.outputs)
        finally:
            self._exit()

    def get(self, t: Tensor) -> None:
        """Add an external reference to t."""
        if t.storage.dead:
            raise ValueError(f"tensor {t.name!r} was already freed for good")
        self._ref(t)

    def release(self, t: Tensor) -> None:
        """Drop an external reference to t (eager eviction / banishing / death follow)."""
        self._enter()
        try:
            if t.ref_ext <= 0:
                raise ValueError(f"tensor {t.name!r} has no external reference left to release")
            t.ref_ext -= 1
            s = t.storage
            s.ref_ext -= 1
            if s.ref_ext == 0:
                if self.banishing:
                    self._try_banish(s)
                elif s.resident and not s.pinned and s.size > 0:
                    if s.locks:
                        s.evict_when_unlocked = True
                    else:
                        self._evict(s, eager=True)
                self._check_dead(s)
        finally:
            self._exit()

    def materialize(self, t: Tensor) -> None:
        """Make t defined (rematerializing what it needs) and mark it used now."""
        self._enter()
        try:
            if t.storage.dead:
                raise ValueError(f"tensor {t.name!r} was already freed for good")
            if not t.defined:
                assert t.op is not None, "an undefined constant cannot be recomputed"
                self._run(t.op, remat=True)
            t.storage.last_access = self.clock
            self.pool.touch(t.storage)
        finally:
            self._exit()

    def hold_output(self, t: Tensor) -> None:
        """Rematerialize t if needed and keep it resident for good (a result the caller reads)."""
        self.materialize(t)
        s = t.storage
        s.pinned = True
        self.pool.remove(s)

    def evict(self, t: Tensor) -> None:
        """Evict t's storage now (it must be resident, unpinned and not in use)."""
        s = t.storage
        if not s.resident or s.pinned or s.locks or s.dead:
            raise ValueError(f"cannot evict {t.name!r}: its storage is {s!r}, pinned={s.pinned}, locks={s.locks}")
        self._enter()
        try:
            self._evict(s, eager=False)
        finally:
            self._exit()

    def evictable_bytes(self) -> int:
        return sum(s.size for s in self.pool.items)

    # ---- execution --------------------------------------------------------------------------

    def _run(self, root: Op, remat: bool) -> None:
        """Run root after rematerializing its missing inputs, with an explicit stack."""
        # frame: [op, next input index, storages locked for it, is_remat]
        frames: list[list[Any]] = [[root, 0, [], remat]]
        try:
            while frames:
                f = frames[-1]
                op: Op = f[0]
                i: int = f[1]
                locked: list[Storage] = f[2]
                while i < len(op.inputs) and op.inputs[i].defined:
                    s = op.inputs[i].storage
                    self._lock(s)
                    locked.append(s)
                    s.last_access = self.clock
                    i += 1
                f[1] = i
                if i < len(op.inputs):
                    missing = op.inputs[i]
                    if missing.op is None or missing.storage.dead or missing.storage.banished:
                        raise RuntimeError(f"internal: input {missing!r} of {op!r} cannot be recomputed")
                    frames.append([missing.op, 0, [], True])
                    continue
                self._execute(op, f[3])
                frames.pop()
                while locked:
                    self._unlock(locked.pop())
        finally:
            for f in frames:  # an error left frames mid-way: release their locks
                for s in f[2]:
                    self._unlock(s)

    def _execute(self, op: Op, remat: bool) -> None:
        need = sum(t.storage.size for t in op.outputs if t.alias < 0)
        self._reserve(need, op.name)
        values: Sequence[Any] | None = None
        if op.run is not None:
            t0 = time.perf_counter()
            values = op.run(op)
            dt = time.perf_counter() - t0
            self._op_seconds += dt
            if remat:
                self.stats.remat_time += dt
        self.clock += op.compute
        if remat:
            self.stats.remat_compute += op.compute
            self.stats.remats += 1
        else:
            self.stats.base_compute += op.compute
            for t in op.outputs:  # c(S), now that the op's cost is known (a measured op learns it here)
                t.storage.add_op(op)
        self.memory += need
        self._note_peak()
        fresh: list[Storage] = []
        for k, t in enumerate(op.outputs):
            s = t.storage
            if s.dead:
                continue
            if t.alias < 0:
                if s.resident:  # a sibling was already resident: this duplicate is dropped
                    self.memory -= s.size
                    continue
                s.resident = True
                fresh.append(s)
            t.defined = True
            if values is not None:
                t.value = values[k]
            s.last_access = self.clock
        for t in op.outputs:
            if t.alias < 0 and t.storage.dead:  # computed alongside, but nothing needs it
                self.memory -= t.storage.size
        for s in fresh:
            if remat:
                self.heuristic.on_remat(s, self)
            self._maybe_pool(s)
        if remat and self.stats.remat_compute > self.remat_limit:
            raise ThrashingError(self.stats.remat_compute, self.remat_limit)
        if self.banishing:
            for s in fresh:
                for p in list(s.parents):
                    if p.ref_ext == 0:
                        self._try_banish(p)

    def _reserve(self, need: int, what: str) -> None:
        """Evict until `need` more bytes fit in the budget."""
        if self.memory + need <= self.budget:
            return
        t0 = time.perf_counter()
        try:
            while self.memory + need > self.budget:
                victim = self._choose()
                if victim is None:
                    raise OutOfMemoryError(what, need, self.budget, self.memory, self.memory)
                self._evict(victim, eager=False)
        finally:
            self.stats.search_time += time.perf_counter() - t0
            self.stats.numerators_computed = self.pool.scored
            self.stats.candidates_ranked = self.pool.candidates_seen

    def _choose(self) -> Storage | None:
        return self.pool.choose(self.clock, self.rng, self.sampling)

    # ---- state transitions ------------------------------------------------------------------

    def _evict(self, s: Storage, eager: bool) -> None:
        self.pool.remove(s)
        s.resident = False
        s.evict_when_unlocked = False
        self.memory -= s.size
        for t in s.tensors:
            t.defined = False
            t.value = None
        if eager:
            self.stats.eager_evictions += 1
        else:
            self.stats.evictions += 1
        self.heuristic.on_evict(s, self)

    def _lock(self, s: Storage) -> None:
        if s.locks == 0:
            self.pool.remove(s)
        s.locks += 1

    def _unlock(self, s: Storage) -> None:
        s.locks -= 1
        if s.locks:
            return
        if s.evict_when_unlocked and s.resident and s.ref_ext == 0:
            self._evict(s, eager=True)
        self._maybe_pool(s)
        if s.ref_ext == 0:
            if self.banishing:
                self._try_banish(s)
            self._check_dead(s)

    def _maybe_pool(self, s: Storage) -> None:
        if not s.resident or s.pinned or s.locks or s.size <= 0 or s.dead:
            return
        if self.ignore_small and s.size < 0.01 * self._sizes_total / max(1, self._sizes_count):
            return
        self.pool.add(s)

    # ---- construction -----------------------------------------------------------------------

    def _link(self, op: Op) -> None:
        ins = list(dict.fromkeys(x.storage for x in op.inputs))
        for so in dict.fromkeys(t.storage for t in op.outputs):
            for si in ins:
                if si is not so and so not in si.children:
                    si.children[so] = None
                    so.parents[si] = None
                    si.live_children += 1

    def _new_storage(self, size: int, pinned: bool = False) -> Storage:
        if size < 0:
            raise ValueError(f"storage size must be >= 0 bytes, got {size!r}")
        self._sizes_total += size
        self._sizes_count += 1
        return Storage(self._new_id(), size, pinned=pinned)

    def _new_tensor(self, name: str, s: Storage, op: Op | None, index: int, alias: int) -> Tensor:
        t = Tensor(self._new_id(), name, s, op, index, alias)
        if not name:
            t.name = f"t{t.id}"
        s.tensors.append(t)
        return t

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _ref(self, t: Tensor) -> None:
        t.ref_ext += 1
        t.storage.ref_ext += 1

    def _note_peak(self) -> None:
        if self.memory > self.stats.peak_memory:
            self.stats.peak_memory = self.memory

    def _enter(self) -> None:
        if self._depth == 0:
            self._t_enter = time.perf_counter()
            self._op_seconds = 0.0
        self._depth += 1

    def _exit(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            elapsed = time.perf_counter() - self._t_enter
            self.stats.op_time += self._op_seconds
            self.stats.bookkeeping_time += elapsed - self._op_seconds
