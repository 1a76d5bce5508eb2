"""Static schedules on a Graph: evaluating an (R, S) schedule, and Chen's √N checkpointing.

A schedule has one stage per node (see `milp`): R[t, i] = 1 computes node i in stage t, S[t, i]
= 1 keeps node i resident from stage t-1 into stage t. Within a stage nodes run in index order
and every value is freed right after its last use unless the next stage keeps it.
"""

from __future__ import annotations

import math

import numpy as np

from dtr.graphs import Graph


def evaluate_schedule(g: Graph, R: np.ndarray, S: np.ndarray) -> tuple[float, int]:
    """Total compute and peak memory of a schedule; raises ValueError if it reads a missing value."""
    T = len(g)
    cost = 0.0
    peak = 0
    for t in range(T):
        if not R[t, t]:
            raise ValueError(f"stage {t} does not compute node {t}")
        present = {i for i in range(t) if S[t, i]}
        mem = sum(g.nodes[i].size for i in present)
        keep_next = {i for i in range(t + 1) if t + 1 < T and S[t + 1, i]}
        computed = [k for k in range(t + 1) if R[t, k]]
        for pos, k in enumerate(computed):
            missing = [d for d in g.nodes[k].deps if d not in present]
            if missing:
                raise ValueError(f"stage {t}: node {k} reads {missing}, which are neither kept nor recomputed")
            if k not in present:
                mem += g.nodes[k].size
                present.add(k)
            cost += g.nodes[k].cost
            peak = max(peak, mem)
            later_reads = {d for j in computed[pos + 1 :] for d in g.nodes[j].deps}
            for i in list(present):
                if i not in keep_next and i not in later_reads:
                    present.discard(i)
                    mem -= g.nodes[i].size
        for i in keep_next:
            if i not in present:
                raise ValueError(f"stage {t + 1} keeps node {i}, which stage {t} neither kept nor computed")
    return cost, peak


def chen_sqrt_n(g: Graph) -> tuple[np.ndarray, np.ndarray]:
    """Chen et al.'s √N schedule: checkpoint every ⌊√|C|⌋-th cut point of the forward graph.

    A cut point is a forward node no forward edge jumps over. The forward pass keeps the current
    segment until the next checkpoint; the backward pass recomputes each segment once and keeps
    what it recomputed while it is still needed.
    """
    T = len(g)
    fwd = [i for i, n in enumerate(g.nodes) if not n.backward]
    first_bwd = min((i for i, n in enumerate(g.nodes) if n.backward), default=T)
    spans = [(d, j) for j in fwd for d in g.nodes[j].deps]
    cuts = [i for i in fwd if not any(d < i < j for d, j in spans)]
    k = max(1, math.isqrt(len(cuts)))
    ckpts = set(cuts[k - 1 :: k])
    next_ckpt = {}
    nxt = T
    for i in reversed(range(T)):
        if i in ckpts:
            nxt = i
        next_ckpt[i] = nxt
    last_use = [max(u) if u else i for i, u in enumerate(g.users())]
    R = np.zeros((T, T))
    S = np.zeros((T, T))
    for t in range(T):
        have = {i for i in range(t) if S[t, i]}
        need = [t]
        while need:  # the closure of t's inputs that are not kept
            i = need.pop()
            if R[t, i] or i in have:
                continue
            R[t, i] = 1
            need.extend(g.nodes[i].deps)
        if t + 1 < T:
            for i in range(t + 1):
                if not (S[t, i] or R[t, i]) or last_use[i] <= t:
                    continue
                if i in ckpts or g.nodes[i].backward or t >= first_bwd or t < next_ckpt[i]:
                    S[t + 1, i] = 1
    return R, S
