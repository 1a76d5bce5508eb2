"""CheckpointTensor: the Python-visible handle of a DTR-managed tensor.

A wrapper subclass with no storage of its own: it carries shape, stride and dtype for autograd,
and a Cell pointing at the runtime tensor whose value may be evicted and recomputed. Each
wrapper holds exactly one external reference on its runtime tensor; when the wrapper dies (no
Python or autograd reference is left) a weak-reference callback queues the release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from dtr.graph import Tensor

if TYPE_CHECKING:
    from dtr.torch_session import Session


class Cell:
    """Which runtime tensor a wrapper currently stands for (copy-on-write moves it)."""

    __slots__ = ("__weakref__", "node", "session")

    def __init__(self, session: Session, node: Tensor) -> None:
        self.session = session
        self.node = node


class CheckpointTensor(torch.Tensor):
    """A tensor whose data DTR may evict and rematerialize."""

    _dtr: Cell

    @staticmethod
    def __new__(cls, cell: Cell, like: torch.Tensor) -> CheckpointTensor:
        r = torch.Tensor._make_wrapper_subclass(
            cls,
            like.size(),
            strides=like.stride(),
            storage_offset=like.storage_offset(),
            dtype=like.dtype,
            layout=like.layout,
            device=like.device,
            requires_grad=False,
        )
        r._dtr = cell
        cell.session.watch(r, cell)
        return r

    @classmethod
    def __torch_dispatch__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:  # type: ignore[override]
        from dtr.torch_args import flatten_call

        session = next(x._dtr.session for x in flatten_call(args, kwargs or {})[0] if isinstance(x, CheckpointTensor))
        return session.dispatch(func, args, kwargs or {})

    __torch_function__ = torch._C._disabled_torch_function_impl  # type: ignore[assignment]

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        n = self._dtr.node
        state = "resident" if n.defined else ("freed" if n.storage.dead else "evicted")
        return f"CheckpointTensor({n.name}, shape={tuple(self.shape)}, dtype={self.dtype}, {state})"
