"""Static computation graphs (for the MILP and Chen baselines) and their traces.

A Graph is a list of nodes in topological order; node i's output has a size and a compute
cost, and depends on earlier nodes. `to_trace` turns it into the trace a training step would
log: one CALL per node and a RELEASE right after each value's last use.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from dtr.trace import Call, Instruction, Release


@dataclass(frozen=True)
class Node:
    name: str
    cost: float
    size: int
    deps: tuple[int, ...]
    backward: bool = False


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        for i, n in enumerate(self.nodes):
            for d in n.deps:
                if not 0 <= d < i:
                    raise ValueError(f"node {i} ({n.name!r}) depends on {d}: deps must be earlier nodes (0..{i - 1})")
            if n.size < 0 or n.cost < 0:
                raise ValueError(f"node {i} ({n.name!r}) has negative size or cost: {n.size!r}, {n.cost!r}")

    def __len__(self) -> int:
        return len(self.nodes)

    def users(self) -> list[list[int]]:
        """users()[i]: nodes that read node i, ascending."""
        out: list[list[int]] = [[] for _ in self.nodes]
        for j, n in enumerate(self.nodes):
            for d in dict.fromkeys(n.deps):
                out[d].append(j)
        return out

    @property
    def total_cost(self) -> float:
        return sum(n.cost for n in self.nodes)


def to_trace(g: Graph) -> list[Instruction]:
    """One CALL per node, each value released right after its last reader (or at once if unread)."""
    users = g.users()
    last_use = [u[-1] if u else i for i, u in enumerate(users)]
    out: list[Instruction] = []
    for k, n in enumerate(g.nodes):
        out.append(Call(k + 1, n.name, tuple(g.nodes[d].name for d in n.deps), (n.name,), n.cost, (n.size,), (-1,)))
        for i in dict.fromkeys((*n.deps, k)):
            if last_use[i] == k:
                out.append(Release(k + 1, g.nodes[i].name))
    return out


def with_backward(forward: Sequence[tuple[float, int, Sequence[int]]], grad_cost: float = 2.0) -> Graph:
    """A forward graph (cost, size, deps) plus its gradient nodes, as reverse-mode autodiff would.

    The gradient of forward node i reads the gradients of i's readers, node i itself and i's
    inputs; gradients come in reverse order, after the whole forward.
    """
    n = len(forward)
    nodes = [Node(f"f{i}", c, s, tuple(d)) for i, (c, s, d) in enumerate(forward)]
    users: list[list[int]] = [[] for _ in range(n)]
    for i, (_, _, deps) in enumerate(forward):
        for d in deps:
            users[d].append(i)
    grad_index: dict[int, int] = {}
    for i in reversed(range(n)):
        deps = [grad_index[u] for u in users[i]] + [i, *forward[i][2]]
        grad_index[i] = len(nodes)
        nodes.append(Node(f"g{i}", grad_cost * forward[i][0], forward[i][1], tuple(dict.fromkeys(deps)), True))
    return Graph(tuple(nodes))


def linear_chain(n: int) -> Graph:
    """The unit chain of the DTR paper (simrd's uniform_linear): f_i reads f_{i-1}; b_i reads f_{i-1} and b_{i+1}.

    Every op costs 1 and every value has size 1.
    """
    if n < 2:
        raise ValueError(f"a chain needs at least 2 layers, got {n!r}")
    nodes = [Node("f0", 1, 1, ())]
    nodes += [Node(f"f{i}", 1, 1, (i - 1,)) for i in range(1, n)]
    # b_{n-1} reads the last activation (the loss) and f_{n-2}
    nodes.append(Node(f"b{n - 1}", 1, 1, (n - 1, n - 2), True))
    for i in reversed(range(n - 1)):
        prev_b = len(nodes) - 1
        deps = (prev_b, i - 1) if i >= 1 else (prev_b,)
        nodes.append(Node(f"b{i}", 1, 1, deps, True))
    return Graph(tuple(nodes))


def unet(depth: int, size: int = 4, cost: float = 1.0) -> Graph:
    """A U-Net-shaped forward graph (down path, up path with skip connections) plus backward."""
    fwd: list[tuple[float, int, list[int]]] = []
    skips = []
    for d in range(depth):
        fwd.append((cost, max(1, size >> d), [len(fwd) - 1] if fwd else []))
        skips.append(len(fwd) - 1)
    for d in reversed(range(depth - 1)):
        fwd.append((cost, max(1, size >> d), [len(fwd) - 1, skips[d]]))
    return with_backward(fwd)


def random_dag(n: int, seed: int, max_deps: int = 2) -> Graph:
    """A random forward DAG of n nodes (node i reads node i-1 and up to max_deps-1 earlier ones) plus backward."""
    rng = random.Random(seed)
    fwd: list[tuple[float, int, list[int]]] = []
    for i in range(n):
        deps = [i - 1] if i else []
        for _ in range(rng.randrange(max_deps)):
            if i >= 2:
                deps.append(rng.randrange(i - 1))
        fwd.append((float(rng.randint(1, 5)), rng.randint(1, 4), sorted(set(deps))))
    return with_backward(fwd)
