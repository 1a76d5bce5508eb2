"""Run ordinary PyTorch code under DTR: `with dtr.budget(nbytes): <training loop>`.

A TorchDispatchMode intercepts every aten call below autograd. Plain tensors that flow in
(parameters, data) become pinned constants; every output becomes a CheckpointTensor whose data
the runtime may evict and later recompute by replaying the call. Costs are the measured wall
time of each call's first execution (fixed thereafter, so a logged trace replays the same
decisions); memory is the exact byte size of every output storage, predicted on meta tensors
before the call so eviction happens before the budget would be exceeded.

In-place calls are copy-on-write on CheckpointTensors. An in-place call on a plain tensor
(an optimizer step, batch-norm running statistics) mutates it for real; if the old value may
still be needed to recompute something, it is first kept as a copy.
"""

from __future__ import annotations

import collections
import math
import time
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode

from dtr.errors import DTRError
from dtr.graph import Op, Storage, Tensor
from dtr.heuristics import Heuristic, make_heuristic
from dtr.runtime import Runtime
from dtr.torch_args import Layout, flatten_call, flatten_result, unflatten_call, unflatten_result
from dtr.torch_ops import MetaPlanner, OutputPlan, mutated_argument_ids
from dtr.torch_replay import Replay, clone_nbytes, may_write, outside_autograd, undeclared_writes, writes
from dtr.torch_tensor import Cell, CheckpointTensor
from dtr.trace import TraceWriter

_UntypedStorage: Any = torch.UntypedStorage


class StrayReferenceWarning(UserWarning):
    """Evicting a tensor freed no memory: something outside DTR still holds its data."""


def check_freed(s: Storage) -> Callable[[], None] | None:
    """The runtime's free check: after an eviction, warn if the storage's memory is still alive."""
    base = None
    for t in s.tensors:
        if t.alias < 0 and isinstance(t.value, torch.Tensor):
            base = t.value
            break
    if base is None:
        return None
    # a raw weak reference to the storage (what StorageWeakRef wraps, without its overhead)
    ref = base.untyped_storage()._weak_ref()
    del base

    def after() -> None:
        try:
            leaked = not _UntypedStorage._expired(ref)
        finally:
            _UntypedStorage._free_weak_ref(ref)
        if leaked:
            op = s.tensors[0].op
            warnings.warn(
                f"evicting {s.tensors[0].name} ({s.size} bytes, from {op.name if op else 'a constant'}) "
                "freed no memory: a Python reference to its data outside DTR keeps it alive, so the "
                "budget no longer bounds real memory; drop plain tensors obtained from dtr values",
                StrayReferenceWarning,
                stacklevel=2,
            )

    return after


class _ConstantRef:
    """The session's reference on a constant, held while the user's plain tensor lives."""

    __slots__ = ("__weakref__", "node", "released")

    def __init__(self, node: Tensor) -> None:
        self.node = node
        self.released = False


class Session(TorchDispatchMode):
    """A DTR runtime bound to PyTorch; use through `budget()`."""

    def __init__(
        self,
        nbytes: float,
        heuristic: str | Heuristic = "dtr_eq",
        *,
        trace: IO[str] | None = None,
        sampling: bool = False,
        ignore_small: bool = False,
        banishing: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        h = make_heuristic(heuristic) if isinstance(heuristic, str) else heuristic
        self.runtime = Runtime(nbytes, h, sampling=sampling, ignore_small=ignore_small,
                               banishing=banishing, seed=seed, free_check=check_freed)
        self.log = TraceWriter(trace) if trace is not None else None
        self.active = False
        self._planner = MetaPlanner()
        self._constants: dict[StorageWeakRef, dict[tuple[Any, ...], _ConstantRef]] = {}
        self._releases: collections.deque[Cell | _ConstantRef] = collections.deque()
        # weak references to live wrappers and plain inputs: their callbacks queue the release
        # (keyed by id: a weak reference compares equal by its referent, and tensors' == is elementwise)
        self._watches: dict[int, weakref.KeyedRef] = {}
        self._draining = False
        self.dispatch_time = 0.0  # seconds inside dispatch, op execution included

    # ---- public -------------------------------------------------------------------------

    @property
    def stats(self) -> Any:
        return self.runtime.stats

    def value(self, t: torch.Tensor) -> torch.Tensor:
        """The plain data of a CheckpointTensor (rematerialized if needed). Do not keep it around."""
        if not isinstance(t, CheckpointTensor):
            return t
        self.drain_releases()
        node = t._dtr.node
        self.runtime.materialize(node)
        return node.value

    def watch(self, obj: Any, ref: Cell | _ConstantRef) -> None:
        """Queue ref's release when obj (a CheckpointTensor or plain input) dies.

        A weakref.finalize would do, at twice the cost: it also keeps a global registry and
        runs at interpreter exit.
        """
        w = weakref.KeyedRef(obj, self._on_death, ref)
        self._watches[id(w)] = w

    def _on_death(self, w: weakref.KeyedRef) -> None:
        del self._watches[id(w)]
        self._releases.append(w.key)

    def drain_releases(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            while self._releases:
                self._release(self._releases.popleft())
        finally:
            self._draining = False

    def _release(self, ref: Cell | _ConstantRef) -> None:
        if isinstance(ref, _ConstantRef):
            if ref.released:
                return
            ref.released = True
        if self.log is not None:
            self.log.release(ref.node.name)
        self.runtime.release(ref.node)

    def __enter__(self) -> Session:
        self.active = True
        super().__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self.active = False
        self.drain_releases()

    # ---- dispatch -----------------------------------------------------------------------

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        return self.dispatch(func, args, kwargs or {})

    def dispatch(self, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        t0 = time.perf_counter()
        if self._releases:
            self.drain_releases()
        try:
            if not self.active:
                return self._run_plain(func, *flatten_call(args, kwargs))
            if func.namespace != "aten":
                return func(*args, **kwargs)
            return self._call(func, args, kwargs)
        finally:
            if self._releases:
                self.drain_releases()
            self.dispatch_time += time.perf_counter() - t0

    def _run_plain(self, func: Any, leaves: list[Any], layout: Layout) -> Any:
        """Outside the budget block: compute on plain values, return plain tensors."""
        if any(isinstance(x, CheckpointTensor) for x in leaves) and writes(func, leaves, layout):
            raise DTRError(f"{func} would modify a DTR tensor in place outside dtr.budget(); copy it with "
                           "session.value(t).clone() first")
        plain = [self.value(x) if isinstance(x, CheckpointTensor) else x for x in leaves]
        a, k = unflatten_call(plain, layout)
        return func(*a, **k)

    def _call(self, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        leaves, layout = flatten_call(args, kwargs)
        plan = self._planner.plan(func, leaves, layout)
        if plan is None or may_write(func):
            return self._call_writing(func, args, kwargs, leaves, layout, plan)
        # the common case: an op that writes no argument; every tensor output is its own
        pos = plan.tensors
        xs = [leaves[i] for i in pos]
        if any(isinstance(x, CheckpointTensor) and x.is_meta for x in xs):
            raise DTRError(f"{func}: meta tensors are not supported under DTR")
        nodes = [x._dtr.node if isinstance(x, CheckpointTensor) else self._constant(x) for x in xs]
        return self._run(func, leaves, layout, pos, nodes, list(plan.sizes), list(plan.slots), plan.slots, [], [])

    def _call_writing(self, func: Any, args: Any, kwargs: dict[str, Any], leaves: list[Any], layout: Layout,
                      plan: OutputPlan | None) -> Any:
        """A call that may write its arguments (or has no meta kernel): copy-on-write and plain writes."""
        pos = [i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor)]
        written = mutated_argument_ids(func, args, kwargs) | undeclared_writes(func, args)
        if any(isinstance(leaves[i], CheckpointTensor) and leaves[i].is_meta for i in pos):
            raise DTRError(f"{func}: meta tensors are not supported under DTR")
        nodes = [x._dtr.node if isinstance(x, CheckpointTensor) else self._constant(x) for x in (leaves[i] for i in pos)]
        slot = {i: k for k, i in enumerate(pos)}  # leaf index -> position among tensor inputs
        if plan is None:
            raise DTRError(f"{func} has no meta kernel, so DTR cannot size its outputs before running it")
        wrapped_writes = [slot[i] for i in pos if id(leaves[i]) in written and isinstance(leaves[i], CheckpointTensor)]
        plain_writes = [slot[i] for i in pos if id(leaves[i]) in written and not isinstance(leaves[i], CheckpointTensor)]
        # classify each tensor output: returns a written arg (-2 - k), views input k (k), fresh (-1)
        kinds: list[int] = []
        for alias in plan.slots:
            kinds.append(-2 - alias if alias >= 0 and alias in wrapped_writes + plain_writes else alias)
        out_js = [j for j, k in enumerate(kinds) if k > -2]
        if wrapped_writes:
            for k in wrapped_writes:
                self._check_cow(nodes[k], func)
            if out_js:
                raise DTRError(f"{func} writes a DTR tensor in place and also returns new tensors; unsupported")
            sizes = [clone_nbytes(leaves[pos[k]]) for k in wrapped_writes]
            aliases = [-1] * len(wrapped_writes)
        else:
            sizes = [plan.sizes[j] for j in out_js]
            aliases = [kinds[j] for j in out_js]
        return self._run(func, leaves, layout, pos, nodes, sizes, aliases, kinds, wrapped_writes, plain_writes, out_js)

    def _run(self, func: Any, leaves: list[Any], layout: Layout, pos: Sequence[int], nodes: list[Tensor],
             sizes: list[int], aliases: list[int], kinds: Sequence[int], wrapped_writes: list[int],
             plain_writes: list[int], out_js: list[int] | None = None) -> Any:
        """Run the call in the runtime and wrap what it returns.

        kinds[j] says what tensor output j is: a written argument (-2 - k), a view of input k (k)
        or fresh (-1); out_js are the outputs the runtime makes nodes for (None: all).
        """
        rt = self.runtime
        stale: list[_ConstantRef] = []
        for k in plain_writes:
            stale += self._before_plain_write(leaves[pos[k]], nodes[k], out_js is None or bool(out_js))
        result: list[Any] = []
        runner = Replay(func, layout, leaves, pos, wrapped_writes, plain_writes, out_js, result)
        name = func.name()
        outs = rt.call(name, nodes, sizes, aliases, compute=0, run=runner)
        raw = result.pop()
        for o in outs:
            o.name = f"x{o.id}"
        if self.log is not None:
            names = [n.name for n in nodes]
            if wrapped_writes:
                self.log.mutate(name, names, wrapped_writes, runner.compute, sizes)
            else:
                self.log.call(name, names, [o.name for o in outs], runner.compute, sizes, aliases)
        for ref in stale:  # the written tensors' old versions: only lineage may still hold them
            self._release(ref)
        # build what the caller sees
        new_iter = iter(outs)
        if wrapped_writes:
            for k, node in zip(wrapped_writes, outs, strict=True):
                cell = leaves[pos[k]]._dtr
                old = cell.node
                node.name = old.name
                cell.node = node
                rt.release(old)
            new_iter = iter(())
        if outs and outside_autograd():
            # optimizer state and the like: long-lived, so keeping its lineage would keep every
            # earlier step's inputs alive; make it a pinned root instead
            for node in outs:
                if node.alias < 0:
                    rt.make_root(node)
                    if self.log is not None:
                        self.log.pin(node.name)
        if isinstance(raw, torch.Tensor):  # one tensor output
            kind = kinds[0]
            return leaves[pos[-2 - kind]] if kind <= -2 else CheckpointTensor(Cell(self, next(new_iter)), raw)
        out_leaves, out_layout = flatten_result(raw)
        tensor_j = 0
        for idx, o in enumerate(out_leaves):
            if not isinstance(o, torch.Tensor):
                continue
            kind = kinds[tensor_j]
            tensor_j += 1
            if kind <= -2:
                out_leaves[idx] = leaves[pos[-2 - kind]]
            else:
                out_leaves[idx] = CheckpointTensor(Cell(self, next(new_iter)), o)
        return unflatten_result(out_leaves, out_layout)

    # ---- constants and writes to plain tensors ---------------------------------------------

    def _constant(self, x: torch.Tensor) -> Tensor:
        """The runtime tensor standing for plain tensor x (created, and referenced while x lives)."""
        key = StorageWeakRef(x.untyped_storage())
        geo = (tuple(x.size()), tuple(x.stride()), x.storage_offset(), x.dtype)
        views = self._constants.get(key)
        if views is not None:
            ref = views.get(geo)
            if ref is not None and not ref.released:
                return ref.node
            base = next((r for r in views.values() if not r.released and r.node.op is None), None)
        if views is None or base is None:
            # hold an alias, not x itself, so x's death is observable (its watch releases the constant)
            node = self.runtime.constant(x.untyped_storage().nbytes(), value=x.detach())
            node.name = f"x{node.id}"
            if self.log is not None:
                self.log.constant(node.name, node.storage.size)
            views = self._constants[key] = {}
        else:
            # another plain tensor on a known storage: a zero-byte view of the first one
            size, stride, offset, dtype = geo

            def view(op: Op) -> list[Any]:
                v = op.inputs[0].value
                return [torch.empty(0, dtype=dtype).set_(v.untyped_storage(), offset, size, stride)]

            (node,) = self.runtime.call("dtr::plain_view", [base.node], [0], [0], compute=0, run=view)
            node.name = f"x{node.id}"
            if self.log is not None:
                self.log.call("dtr::plain_view", [base.node.name], [node.name], 0, [0], [0])
        ref = views[geo] = _ConstantRef(node)
        self.watch(x, ref)
        return node

    def _before_plain_write(self, x: torch.Tensor, node: Tensor, has_outputs: bool) -> list[_ConstantRef]:
        """x is about to be written in place: keep its old value if recomputation may read it.

        Returns the session's references on the old version, to drop once the write is done.
        """
        views = self._constants.pop(StorageWeakRef(x.untyped_storage()), None)
        if views is None:
            return []
        s = node.storage
        needed = s.live_children or has_outputs or any(t.ref_ext and t.op is not None for t in s.tensors)
        if needed:
            snap = x.untyped_storage().clone()
            for t in s.tensors:
                if t.defined and isinstance(t.value, torch.Tensor):
                    v = t.value
                    t.value = torch.empty(0, dtype=v.dtype).set_(snap, v.storage_offset(), v.size(), v.stride())
        return [r for r in views.values() if not r.released]

    def _check_cow(self, node: Tensor, func: Any) -> None:
        others = [t for t in node.storage.tensors if t is not node and t.ref_ext > 0]
        if others:
            raise DTRError(
                f"{func} writes {node.name} in place while {len(others)} other view(s) of its storage are alive "
                f"({', '.join(t.name for t in others[:3])}); DTR's copy-on-write cannot update them: "
                "use the out-of-place op"
            )


@contextmanager
def budget(
    nbytes: float,
    heuristic: str | Heuristic = "dtr_eq",
    *,
    trace: IO[str] | None = None,
    sampling: bool = False,
    ignore_small: bool = False,
    banishing: bool = False,
    seed: int = 0,
) -> Iterator[Session]:
    """Run the block under DTR with a hard cap of `nbytes` on the bytes DTR holds.

    nbytes may be math.inf (track and log only). The session's `stats` give compute, peak memory
    and bookkeeping time; `trace` receives the JSON-lines log.
    """
    if not (isinstance(nbytes, int | float) and nbytes > 0) or (isinstance(nbytes, float) and math.isnan(nbytes)):
        raise ValueError(f"budget must be a positive number of bytes (or math.inf), got {nbytes!r}")
    with Session(nbytes, heuristic, trace=trace, sampling=sampling, ignore_small=ignore_small,
                 banishing=banishing, seed=seed) as s:
        yield s
