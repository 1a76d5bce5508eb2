"""Flattening an aten call's arguments and results into a list of leaves, and back.

An aten schema nests at most one level: an argument is a value or a list of values (Tensor[],
int[], Tensor?[]), and a result is a value or a tuple or list of them. Such a call's layout is a
small hashable tuple, much cheaper to build and to apply than torch's pytree spec; anything
else (a dict, a namedtuple, a torch.Size, deeper nesting) goes through pytree. Both give the
same leaves in the same order, so the layout is only a faster spelling of the pytree spec.
"""

from __future__ import annotations

from typing import Any

from torch.utils._pytree import SUPPORTED_NODES, TreeSpec, tree_flatten, tree_unflatten

# A layout: TreeSpec (pytree); for a call, n for n positional leaves (the common case), else
# (entries, kwarg names); for a result, an entry. An entry is None for a leaf and (list, n) or
# (tuple, n) for n leaves in a container.
Layout = Any


def _is_leaf(x: Any) -> bool:
    # a tuple subclass may be a namedtuple or torch.Size: pytree nodes
    return type(x) not in SUPPORTED_NODES and not isinstance(x, tuple)


def _flatten_into(leaves: list[Any], x: Any) -> Any:
    """Append x's leaves; returns its layout entry, or False if x nests deeper."""
    t = type(x)
    if t is list or t is tuple:
        for v in x:
            if not _is_leaf(v):
                return False
        leaves.extend(x)
        return (t, len(x))
    if _is_leaf(x):
        leaves.append(x)
        return None
    return False


def flatten_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], Layout]:
    """The leaves of (args, kwargs), in pytree order, and how to put them back."""
    leaves: list[Any] = []
    entries = []
    nested = False
    for a in args:
        e = _flatten_into(leaves, a)
        if e is False:
            return tree_flatten((args, kwargs))
        entries.append(e)
        nested = nested or e is not None
    if kwargs:
        for v in kwargs.values():
            e = _flatten_into(leaves, v)
            if e is False:
                return tree_flatten((args, kwargs))
            entries.append(e)
        return leaves, (tuple(entries), tuple(kwargs))
    return leaves, ((tuple(entries), ()) if nested else len(args))


def _take(leaves: list[Any], i: int, e: Any) -> tuple[Any, int]:
    if e is None:
        return leaves[i], i + 1
    kind, n = e
    return kind(leaves[i : i + n]), i + n


def unflatten_call(leaves: list[Any], layout: Layout) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The (args, kwargs) that flatten_call split into leaves and layout."""
    if type(layout) is int:
        return tuple(leaves), {}
    if isinstance(layout, TreeSpec):
        return tree_unflatten(leaves, layout)
    entries, names = layout
    i = 0
    args = []
    for e in entries[: len(entries) - len(names)]:
        v, i = _take(leaves, i, e)
        args.append(v)
    kwargs = {}
    for name, e in zip(names, entries[len(entries) - len(names) :], strict=True):
        kwargs[name], i = _take(leaves, i, e)
    return tuple(args), kwargs


def flatten_result(out: Any) -> tuple[list[Any], Layout]:
    """The leaves of an op's result (a value, or a tuple or list of values) and its layout."""
    leaves: list[Any] = []
    e = _flatten_into(leaves, out)
    if e is False:
        return tree_flatten(out)
    return leaves, e


def unflatten_result(leaves: list[Any], layout: Layout) -> Any:
    """The result flatten_result split into leaves and layout."""
    if isinstance(layout, TreeSpec):
        return tree_unflatten(leaves, layout)
    return _take(leaves, 0, layout)[0]
