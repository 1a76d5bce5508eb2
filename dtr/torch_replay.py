"""Replaying an intercepted aten call, and what the integration needs to know about writes.

A Replay is an op's recipe: it re-runs the call on the runtime's current input values. The
first run writes the user's plain tensors for real; replays work on copies of anything the
call writes, and restore the random generator state a seeded op drew from.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from dtr.graph import Op
from dtr.torch_args import Layout, flatten_result, unflatten_call
from dtr.torch_ops import declares_writes, mutated_argument_ids

# Kernels that write their arguments without saying so in the schema: {op: (training flag index, arg indices)}.
UNDECLARED_WRITES = {"aten::native_batch_norm": (5, (3, 4))}


class Replay:
    """An op's recipe: re-runs the aten call on the runtime's current input values."""

    def __init__(self, func: Any, layout: Layout, leaves: list[Any], pos: Sequence[int], wrapped_writes: list[int],
                 plain_writes: list[int], out_js: Sequence[int] | None, result: list[Any]) -> None:
        self.func = func
        self.layout = layout
        # keep only the non-tensor arguments: tensors come from the runtime at replay time
        self.template = template = list(leaves)
        for i in pos:
            template[i] = None
        self.pos = pos
        self.wrapped_writes = wrapped_writes
        self.plain_writes = plain_writes
        self.out_js = out_js  # which tensor outputs are the op's outputs; None: all of them
        self.result: list[Any] | None = result
        self.first_plain: list[Any] | None = [leaves[pos[k]] for k in plain_writes]
        self.generator: torch.Generator | None = None
        self.rng_state: torch.Tensor | None = None
        if torch.Tag.nondeterministic_seeded in func.tags:  # replays must draw the same numbers
            self.generator = next((x for x in leaves if isinstance(x, torch.Generator)), torch.default_generator)
            self.rng_state = self.generator.get_state()
        self.compute = 0.0

    def __call__(self, op: Op) -> list[Any]:
        call: list[Any] = self.template[:]
        for i, x in zip(self.pos, op.inputs):  # noqa: B905 (one input per tensor argument)
            call[i] = x.value
        copies = self._writable(call) if self.wrapped_writes or self.plain_writes else None
        a, kw = unflatten_call(call, self.layout)
        saved = None
        if self.generator is not None and self.rng_state is not None and self.result is None:
            saved = self.generator.get_state()
            self.generator.set_state(self.rng_state)
        t0 = time.perf_counter_ns()
        try:
            out = self.func(*a, **kw)
        finally:
            if saved is not None and self.generator is not None:
                self.generator.set_state(saved)
        if self.result is not None:
            op.compute = self.compute = float(max(1, time.perf_counter_ns() - t0))
            self.result.append(out)
            self.result = None
            self.first_plain = None
        if copies is not None and self.wrapped_writes:
            return [copies[k] for k in self.wrapped_writes]
        if isinstance(out, torch.Tensor):
            outs = [out]
        else:
            outs = [o for o in flatten_result(out)[0] if isinstance(o, torch.Tensor)]
        return outs if self.out_js is None else [outs[j] for j in self.out_js]

    def _writable(self, call: list[Any]) -> dict[int, Any]:
        """Put what the call writes in `call`: copies of runtime values, the user's tensors on the
        first run only; returns the copies of the runtime values by input position."""
        copies: dict[int, Any] = {}
        for k in self.wrapped_writes:
            copies[k] = call[self.pos[k]] = call[self.pos[k]].clone()
        if self.first_plain is not None:  # first run: write the user's tensors for real
            for k, x in zip(self.plain_writes, self.first_plain, strict=True):
                call[self.pos[k]] = x
        else:  # replay: never touch the user's tensors again
            for k in self.plain_writes:
                call[self.pos[k]] = call[self.pos[k]].clone()
        return copies


def outside_autograd() -> bool:
    """Grad mode off and not inside a backward pass (where grad mode is off too)."""
    return not torch.is_grad_enabled() and torch._C._current_graph_task_id() == -1


def clone_nbytes(t: torch.Tensor) -> int:
    """Bytes of t.clone()'s storage."""
    return torch.empty_strided(t.size(), t.stride(), dtype=t.dtype, device="meta").clone().untyped_storage().nbytes()


def may_write(func: Any) -> bool:
    """Whether func may write one of its arguments (declared in its schema or not)."""
    return declares_writes(func) or func._schema.name in UNDECLARED_WRITES


def undeclared_writes(func: Any, args: Any) -> set[int]:
    """ids of the tensors func writes without its schema saying so."""
    entry = UNDECLARED_WRITES.get(func._schema.name)
    if entry is None:
        return set()
    flag, idx = entry
    if len(args) <= flag or not args[flag]:
        return set()
    return {id(args[i]) for i in idx if i < len(args) and isinstance(args[i], torch.Tensor)}


def writes(func: Any, leaves: list[Any], layout: Layout) -> bool:
    """Whether func writes any of its tensor arguments."""
    a, k = unflatten_call(leaves, layout)
    return bool(mutated_argument_ids(func, a, k) | undeclared_writes(func, a))
