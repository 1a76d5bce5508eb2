"""Reading extracted egglog terms: operator name, tensor arguments and literal attributes of a node."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from egglog.deconstruct import get_callable_args, get_callable_fn, get_literal_value

from compiler.ir import terms as T


@dataclass(frozen=True)
class Node:
    """One operator application in a term: `fn(*tensors, *attrs)`.

    fn: the egglog function applied (compare it with `==` to a term constructor, e.g. `T.Tensor.input`);
    name: how egglog spells it ("conv2d", "Tensor.input"): the key of the host's Relax operators and numpy
        references, and the label reports count, never used to tell which accelerator a call belongs to.
    """

    fn: Any
    name: str
    tensors: tuple[T.Tensor, ...]
    attrs: tuple[Any, ...]


def term_key(term: Any) -> Any:
    """A hashable identity for a term (structurally equal terms share it), for memoised walks of DAGs."""
    return term.__egg_typed_expr__


def _flatten_list(lst: Any) -> list[Any]:
    out: list[Any] = []
    while (cell := get_callable_args(lst, T.TensorList.cons)) is not None:
        head, lst = cell
        out.append(head)
    return out


def decompose(term: T.Tensor) -> Node:
    """The node at the root of `term`."""
    fn = get_callable_fn(term)
    if fn is None:
        raise ValueError(f"expected an operator application, got {term!r}")
    tensors: list[Any] = []
    attrs: list[Any] = []
    for arg in get_callable_args(term):
        literal = get_literal_value(arg)  # type: ignore[call-overload]
        if literal is not None:
            attrs.append(literal)
        elif isinstance(arg, T.TensorList):
            tensors.extend(_flatten_list(arg))
        else:
            tensors.append(arg)
    return Node(fn, repr(fn), tuple(tensors), tuple(attrs))


def walk(roots: list[T.Tensor]) -> Iterator[tuple[Any, Node]]:
    """Every distinct node reachable from `roots`, children before parents."""
    seen: set[Any] = set()
    stack: list[tuple[T.Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        term, expanded = stack.pop()
        key = term_key(term)
        if key in seen:
            continue
        node = decompose(term)
        if expanded:
            seen.add(key)
            yield key, node
            continue
        stack.append((term, True))
        stack.extend((t, False) for t in reversed(node.tensors) if term_key(t) not in seen)
