"""What the PyTorch integration needs to know about an aten call before running it.

For each call: which tensor arguments it mutates (from the schema), and, from running it on
meta tensors, the byte size of every output's storage and which input each output views. Meta
results are cached by the call's signature (shapes, strides, dtypes, other arguments), so a
training loop pays the meta run once per distinct call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._pytree import tree_flatten, tree_unflatten


@dataclass(frozen=True)
class OutputPlan:
    """Per tensor output, in flattened order: its storage bytes and the input leaf it views (-1: none)."""

    sizes: tuple[int, ...]
    aliases: tuple[int, ...]


def mutated_argument_ids(func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> set[int]:
    """ids of the tensors (or tensors in lists) the schema says func writes."""
    out: set[int] = set()
    schema = func._schema
    for i, a in enumerate(schema.arguments):
        if a.alias_info is None or not a.alias_info.is_write:
            continue
        v = kwargs.get(a.name) if a.kwarg_only or i >= len(args) else args[i]
        leaves, _ = tree_flatten(v)
        out.update(id(x) for x in leaves if isinstance(x, torch.Tensor))
    return out


def _meta_like(t: torch.Tensor) -> torch.Tensor:
    # The storage offset is dropped: it changes no fresh output's size, and views cost 0 bytes.
    return torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device="meta")


def _signature(func: Any, leaves: Sequence[Any]) -> tuple[Any, ...]:
    key: list[Any] = [func]
    for x in leaves:
        if isinstance(x, torch.Tensor):
            key.append((tuple(x.size()), tuple(x.stride()), x.storage_offset(), x.dtype, x.device.type))
        else:
            key.append(repr(x))
    return tuple(key)


class MetaPlanner:
    """Predicts output sizes and aliases by running calls on meta tensors (cached)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], OutputPlan | None] = {}

    def plan(self, func: Any, leaves: Sequence[Any], spec: Any) -> OutputPlan | None:
        """Sizes and aliases of func's tensor outputs on these arguments; None if it has no meta kernel."""
        key = _signature(func, leaves)
        if key in self._cache:
            return self._cache[key]
        plan: OutputPlan | None
        if not any("Tensor" in str(r.type) for r in func._schema.returns):
            plan = self._cache[key] = OutputPlan((), ())
            return plan
        # factory calls carry device=cpu: move them to meta too, or planning would run (and draw random numbers)
        metas = [
            _meta_like(x) if isinstance(x, torch.Tensor) else (torch.device("meta") if isinstance(x, torch.device) else x)
            for x in leaves
        ]
        try:
            args, kwargs = tree_unflatten(metas, spec)
            out = func(*args, **kwargs)
        except Exception:
            plan = None
        else:
            storages = [StorageWeakRef(m.untyped_storage()) if isinstance(m, torch.Tensor) else None for m in metas]
            sizes: list[int] = []
            aliases: list[int] = []
            for o in tree_flatten(out)[0]:
                if not isinstance(o, torch.Tensor):
                    continue
                ref = StorageWeakRef(o.untyped_storage())
                alias = next((i for i, s in enumerate(storages) if s is not None and s == ref), -1)
                aliases.append(alias)
                sizes.append(0 if alias >= 0 else o.untyped_storage().nbytes())
            plan = OutputPlan(tuple(sizes), tuple(aliases))
        self._cache[key] = plan
        return plan
