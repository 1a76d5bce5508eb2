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
from collections.abc import Callable, Iterable, Sequence
from time import perf_counter
from typing import Any

from dtr.errors import OutOfMemoryError, ThrashingError
from dtr.graph import Op, OpRunner, Storage, Tensor
from dtr.heuristics import Heuristic
from dtr.liveness import Liveness
from dtr.pool import EvictionPool
from dtr.stats import RuntimeStats

# Called as an eviction is about to drop a storage's values; what it returns (if not None) is
# called once they are dropped. The torch integration checks there that the memory was freed.
FreeCheck = Callable[[Storage], "Callable[[], None] | None"]


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
        free_check: FreeCheck | None = None,
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
        self.free_check = free_check
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
            self._next_id = oid = self._next_id + 1
            op = Op(oid, name, compute, inputs, run)
            outputs = op.outputs
            for i in range(len(sizes)):
                alias = aliases[i]
                if alias < 0:
                    s = self._new_storage(int(sizes[i]))
                elif alias < len(inputs):
                    s = inputs[alias].storage
                else:
                    raise ValueError(f"op {name!r}: output {i} aliases input {alias}, it has {len(inputs)}")
                t = self._new_tensor("", s, op, i, alias)
                t.ref_ext = 1
                s.ref_ext += 1
                outputs.append(t)
            self._link(op)
            self._run(op, remat=False)
            self.stats.ops += 1
            return outputs[:]
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
            t.storage.last_access = self.clock  # the pool reads it from the storage
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

    # ---- execution --------------------------------------------------------------------------

    def _run(self, root: Op, remat: bool) -> None:
        """Run root after rematerializing its missing inputs, with an explicit stack."""
        locked = self._lock_inputs(root.inputs, 0)
        if locked == len(root.inputs):  # the common case: nothing to rematerialize first
            try:
                self._execute(root, remat)
            except BaseException:
                self._unlock_inputs(root.inputs)
                raise
            self._unlock_inputs(reversed(root.inputs))
            return
        # frame: [op, how many of its inputs are locked (from the first), is_remat]
        frames: list[list[Any]] = [[root, locked, remat]]
        try:
            while frames:
                f = frames[-1]
                op: Op = f[0]
                i = f[1] = self._lock_inputs(op.inputs, f[1])
                if i < len(op.inputs):
                    missing = op.inputs[i]
                    if missing.op is None or missing.storage.dead or missing.storage.banished:
                        raise RuntimeError(f"internal: input {missing!r} of {op!r} cannot be recomputed")
                    frames.append([missing.op, 0, True])
                    continue
                self._execute(op, f[2])
                frames.pop()
                self._unlock_inputs(reversed(op.inputs))
        finally:
            for f in frames:  # an error left frames mid-way: release their locks
                self._unlock_inputs(f[0].inputs[: f[1]])

    def _lock_inputs(self, inputs: list[Tensor], i: int) -> int:
        """Lock inputs[i:] up to the first undefined one and mark them used; returns its index."""
        remove = self.pool.remove
        clock = self.clock
        n = len(inputs)
        while i < n:
            x = inputs[i]
            if not x.defined:
                break
            s = x.storage
            if not s.locks:  # a locked storage is out of the pool: the running op needs it
                remove(s)
            s.locks += 1
            s.last_access = clock
            i += 1
        return i

    def _execute(self, op: Op, remat: bool) -> None:
        outputs = op.outputs
        need = 0
        for t in outputs:
            if t.alias < 0:
                need += t.storage.size
        if self.memory + need > self.budget:
            self._reserve(need, op.name)
        stats = self.stats
        values: Sequence[Any] | None = None
        if op.run is not None:
            t0 = perf_counter()
            values = op.run(op)
            dt = perf_counter() - t0
            self._op_seconds += dt
            if remat:
                stats.remat_time += dt
        compute = op.compute
        self.clock = clock = self.clock + compute
        if remat:
            stats.remat_compute += compute
            stats.remats += 1
        else:
            stats.base_compute += compute
            # c(S), now that the op's cost is known (a measured op learns it here): an op counts
            # once per storage it produces tensors on, and it runs for the first time only here
            if len(outputs) == 1:
                outputs[0].storage.cost += compute
            else:
                for s in {t.storage: None for t in outputs}:
                    s.cost += compute
        self.memory += need
        if self.memory > stats.peak_memory:
            stats.peak_memory = self.memory
        fresh: list[Storage] = []
        for t in outputs:
            s = t.storage
            if s.dead:
                if t.alias < 0:  # computed alongside, but nothing needs it
                    self.memory -= s.size
                continue
            if t.alias < 0:
                if s.resident:  # a sibling was already resident: this duplicate is dropped
                    self.memory -= s.size
                    continue
                s.resident = True
                fresh.append(s)
            t.defined = True
            if values is not None:
                t.value = values[t.index]
            s.last_access = clock
        for s in fresh:
            if remat:
                self.heuristic.on_remat(s, self)
            self._maybe_pool(s)
        if remat and stats.remat_compute > self.remat_limit:
            raise ThrashingError(stats.remat_compute, self.remat_limit)
        if self.banishing:
            for s in fresh:
                for p in list(s.parents):
                    if p.ref_ext == 0:
                        self._try_banish(p)

    def _reserve(self, need: int, what: str) -> None:
        """Evict until `need` more bytes fit in the budget."""
        if self.memory + need <= self.budget:
            return
        t0 = perf_counter()
        try:
            while self.memory + need > self.budget:
                victim = self._choose()
                if victim is None:
                    raise OutOfMemoryError(what, need, self.budget, self.memory, self.memory)
                self._evict(victim, eager=False)
        finally:
            self.stats.search_time += perf_counter() - t0
            self.stats.numerators_computed = self.pool.scored
            self.stats.candidates_ranked = self.pool.candidates_seen

    def _choose(self) -> Storage | None:
        return self.pool.choose(self.clock, self.rng, self.sampling)

    # ---- state transitions ------------------------------------------------------------------

    def _evict(self, s: Storage, eager: bool) -> None:
        after = self.free_check(s) if self.free_check is not None else None
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
        if after is not None:
            after()

    def _unlock_inputs(self, inputs: Iterable[Tensor]) -> None:
        """Unlock each input's storage; one whose last lock goes may be pooled, evicted or dead."""
        for x in inputs:
            s = x.storage
            s.locks -= 1
            if s.locks:
                continue
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
        inputs = op.inputs
        for t in op.outputs:
            so = t.storage
            for x in inputs:  # a repeated storage is skipped by the `not in` test
                si = x.storage
                if si is not so and so not in si.children:
                    si.children[so] = None
                    so.parents[si] = None
                    si.live_children += 1

    def _new_storage(self, size: int, pinned: bool = False) -> Storage:
        if size < 0:
            raise ValueError(f"storage size must be >= 0 bytes, got {size!r}")
        self._sizes_total += size
        self._sizes_count += 1
        self._next_id = sid = self._next_id + 1
        return Storage(sid, size, pinned=pinned)

    def _new_tensor(self, name: str, s: Storage, op: Op | None, index: int, alias: int) -> Tensor:
        self._next_id = tid = self._next_id + 1
        t = Tensor(tid, name, s, op, index, alias)
        s.tensors.append(t)
        return t

    def _ref(self, t: Tensor) -> None:
        t.ref_ext += 1
        t.storage.ref_ext += 1

    def _note_peak(self) -> None:
        if self.memory > self.stats.peak_memory:
            self.stats.peak_memory = self.memory

    # The clock is read last on the way in and first on the way out, so that the timer's own
    # bookkeeping (nesting depth, resetting and adding up the counters) is not counted as the
    # runtime's.

    def _enter(self) -> None:
        self._depth += 1
        if self._depth == 1:
            self._op_seconds = 0.0
            self._t_enter = perf_counter()

    def _exit(self) -> None:
        if self._depth == 1:
            elapsed = perf_counter() - self._t_enter
            stats = self.stats
            stats.op_time += self._op_seconds
            stats.bookkeeping_time += elapsed - self._op_seconds
        self._depth -= 1
