"""What the PyTorch integration needs to know about an aten call before running it.

For each call: which tensor arguments it mutates (from the schema), and, from running it on
meta tensors, the byte size of every output's storage and which input each output views. Meta
results are cached by the call's signature (the op, the argument layout, every tensor's shape,
strides, storage offset, dtype and device, and every other argument's type and value), which
is everything the meta run sees. The cache is shared by every session of the process, so a
training loop pays the meta run once per distinct call, not once per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._pytree import tree_flatten

from dtr.torch_args import Layout, flatten_result, unflatten_call


@dataclass(frozen=True)
class OutputPlan:
    """Per tensor output, in flattened order: its storage bytes and the input leaf it views (-1: none).

    `tensors` are the leaf indices of the tensor arguments, and `slots[j]` is output j's alias
    as a position among them (-1: none).
    """

    sizes: tuple[int, ...]
    aliases: tuple[int, ...]
    tensors: tuple[int, ...] = ()
    slots: tuple[int, ...] = ()


# op -> its written schema arguments (index, name, kwarg-only); schemas never change
_WRITTEN: dict[Any, tuple[tuple[int, str, bool], ...]] = {}


def _written_arguments(func: Any) -> tuple[tuple[int, str, bool], ...]:
    w = _WRITTEN.get(func)
    if w is None:
        w = _WRITTEN[func] = tuple(
            (i, a.name, a.kwarg_only)
            for i, a in enumerate(func._schema.arguments)
            if a.alias_info is not None and a.alias_info.is_write
        )
    return w


def declares_writes(func: Any) -> bool:
    """Whether func's schema says it writes any argument."""
    return bool(_written_arguments(func))


def mutated_argument_ids(func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> set[int]:
    """ids of the tensors (or tensors in lists) the schema says func writes."""
    out: set[int] = set()
    for i, name, kwarg_only in _written_arguments(func):
        v = kwargs.get(name) if kwarg_only or i >= len(args) else args[i]
        leaves, _ = tree_flatten(v)
        out.update(id(x) for x in leaves if isinstance(x, torch.Tensor))
    return out


def _meta_like(t: torch.Tensor) -> torch.Tensor:
    # The storage offset is dropped: it changes no fresh output's size, and views cost 0 bytes.
    return torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device="meta")


# Argument types whose equality is exact (value and meaning), so they key the cache as is; any
# other value is keyed by its repr (a float's repr tells -0.0 from 0.0, == does not).
_EXACT = frozenset({int, bool, str, type(None), torch.dtype, torch.device, torch.layout, torch.memory_format})


def signature(func: Any, leaves: Sequence[Any], layout: Layout) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """The call's cache key, and the leaf indices of its tensor arguments."""
    key: list[Any] = [func, layout]
    tensors: list[int] = []
    tensor = torch.Tensor
    exact = _EXACT
    for i, x in enumerate(leaves):
        if isinstance(x, tensor):
            key.append((x.size(), x.stride(), x.storage_offset(), x.dtype, x.device))
            tensors.append(i)
        else:
            t = type(x)
            key.append((t, x) if t in exact else (t, repr(x)))
    return tuple(key), tuple(tensors)


# signature -> plan, for every session: a plan depends on nothing but its signature
_PLANS: dict[tuple[Any, ...], OutputPlan | None] = {}
_MAX_PLANS = 1 << 16  # emptied when full: a run with ever-changing shapes must not grow it forever


def clear_plan_cache() -> None:
    """Forget every cached plan (the next call of each signature runs on meta tensors again)."""
    _PLANS.clear()


class MetaPlanner:
    """Predicts output sizes and aliases by running calls on meta tensors (cached)."""

    def __init__(self, cache: dict[tuple[Any, ...], OutputPlan | None] | None = None) -> None:
        self._cache = _PLANS if cache is None else cache

    def plan(self, func: Any, leaves: Sequence[Any], layout: Layout) -> OutputPlan | None:
        """Sizes and aliases of func's tensor outputs on these arguments; None if it has no meta kernel."""
        key, tensors = signature(func, leaves, layout)
        try:
            return self._cache[key]
        except KeyError:
            pass
        plan = self.fresh_plan(func, leaves, layout, tensors)
        if len(self._cache) >= _MAX_PLANS:
            self._cache.clear()
        self._cache[key] = plan
        return plan

    @staticmethod
    def fresh_plan(func: Any, leaves: Sequence[Any], layout: Layout, tensors: tuple[int, ...]) -> OutputPlan | None:
        """The plan from running func on meta tensors now (no cache)."""
        if not any("Tensor" in str(r.type) for r in func._schema.returns):
            return OutputPlan((), (), tensors, ())
        # factory calls carry device=cpu: move them to meta too, or planning would run (and draw random numbers)
        metas = [
            _meta_like(x) if isinstance(x, torch.Tensor) else (torch.device("meta") if isinstance(x, torch.device) else x)
            for x in leaves
        ]
        try:
            args, kwargs = unflatten_call(metas, layout)
            out = func(*args, **kwargs)
        except Exception:
            return None
        storages = [StorageWeakRef(m.untyped_storage()) if isinstance(m, torch.Tensor) else None for m in metas]
        slot_of = {i: k for k, i in enumerate(tensors)}
        sizes: list[int] = []
        aliases: list[int] = []
        for o in flatten_result(out)[0]:
            if not isinstance(o, torch.Tensor):
                continue
            ref = StorageWeakRef(o.untyped_storage())
            alias = next((i for i, s in enumerate(storages) if s is not None and s == ref), -1)
            aliases.append(alias)
            sizes.append(0 if alias >= 0 else o.untyped_storage().nbytes())
        return OutputPlan(tuple(sizes), tuple(aliases), tensors, tuple(slot_of[a] if a >= 0 else -1 for a in aliases))

