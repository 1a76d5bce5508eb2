"""Checkmate-style optimal rematerialization as a MILP, solved with scipy's HiGHS.

Stage t computes graph node t for the first time, after recomputing any earlier nodes it needs
(in node order). Variables, as in Checkmate (Jain et al., MLSys 2020):
  R[t,i]  node i is computed in stage t (R[t,t] = 1);
  S[t,i]  node i is resident entering stage t (a checkpoint);
  F[t,i,k] node i is freed right after node k is computed in stage t (k reads i, or k = i).
Memory after computing node k in stage t (before its frees) must fit the budget:
  Σ_i m_i S[t,i] + Σ_{j<=k} m_j R[t,j] - Σ_{j<k} Σ_i m_i F[t,i,j] <= budget.
F[t,i,k] = R[t,k] AND NOT S[t+1,i] AND no later reader of i is computed in stage t; it is
linearized with the "hazard" count (Checkmate's formulation). The objective is total compute.
This matches the runtime's accounting of a graph's trace (`graphs.to_trace`): a value is freed
right after its last reader, and an op needs its inputs and its output resident at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from dtr.graphs import Graph


@dataclass
class MilpResult:
    """The solver's answer: status is "optimal", "infeasible" or "time_limit"."""

    status: str
    cost: float  # total compute of the schedule (nan unless optimal or time_limit with a solution)
    R: np.ndarray  # R[t, i] as 0/1
    S: np.ndarray  # S[t, i] as 0/1
    solve_seconds: float


class _Vars:
    def __init__(self) -> None:
        self.n = 0
        self.lb: list[float] = []
        self.ub: list[float] = []

    def new(self, lb: float = 0.0, ub: float = 1.0) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.n += 1
        return self.n - 1


def solve_milp(g: Graph, budget: float, time_limit: float = 60.0) -> MilpResult:
    """Minimum total compute of g's schedule within `budget` bytes."""
    import time

    T = len(g)
    m = [n.size for n in g.nodes]
    users = g.users()
    v = _Vars()
    R = {(t, i): v.new(1.0 if i == t else 0.0) for t in range(T) for i in range(t + 1)}
    S = {(t, i): v.new() for t in range(1, T) for i in range(t)}
    reads = {k: tuple(dict.fromkeys((*g.nodes[k].deps, k))) for k in range(T)}
    F = {(t, i, k): v.new() for t in range(T) for k in range(t + 1) for i in reads[k]}

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(terms: list[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(lo)
        for c, x in terms:
            rows.append(r)
            cols.append(c)
            vals.append(x)
        lo.append(lower)
        hi.append(upper)

    inf = np.inf
    for t in range(T - 1):  # a checkpoint must have been resident or computed in the stage before
        for i in range(t + 1):
            terms = [(S[t + 1, i], 1.0), (R[t, i], -1.0)]
            if (t, i) in S:
                terms.append((S[t, i], -1.0))
            add(terms, -inf, 0.0)
    for t in range(T):
        for k in range(t + 1):
            for u in g.nodes[k].deps:  # a computed node's inputs are resident or computed before it
                add([(R[t, k], 1.0), (R[t, u], -1.0), (S[t, u], -1.0)], -inf, 0.0)
            mem = [(S[t, i], float(m[i])) for i in range(t)] + [(R[t, j], float(m[j])) for j in range(k + 1)]
            mem += [(F[t, i, j], -float(m[i])) for j in range(k) for i in reads[j]]
            add(mem, -inf, float(budget))
            for i in reads[k]:
                later = [j for j in users[i] if k < j <= t]
                hazard = [(R[t, k], -1.0)] + [(R[t, j], 1.0) for j in later]  # + 1 constant
                if t + 1 < T:
                    hazard.append((S[t + 1, i], 1.0))
                h_max = float(len(hazard))
                f = F[t, i, k]
                add([(f, 1.0), *hazard], 0.0, inf)  # F >= 1 - hazard
                add([(f, h_max), *hazard], -inf, h_max - 1.0)  # hazard > 0  =>  F = 0

    c = np.zeros(v.n)
    for (_t, i), col in R.items():
        c[col] = g.nodes[i].cost
    A = coo_array((vals, (rows, cols)), shape=(len(lo), v.n)).tocsr()
    t0 = time.perf_counter()
    res = milp(
        c,
        constraints=LinearConstraint(A, np.array(lo), np.array(hi)),
        integrality=np.ones(v.n),
        bounds=Bounds(np.array(v.lb), np.array(v.ub)),
        options={"time_limit": time_limit, "disp": False},
    )
    seconds = time.perf_counter() - t0
    Rm = np.zeros((T, T))
    Sm = np.zeros((T, T))
    if res.x is None:
        status = "infeasible" if res.status == 2 else "time_limit"
        return MilpResult(status, float("nan"), Rm, Sm, seconds)
    x = np.round(res.x)
    for (t, i), col in R.items():
        Rm[t, i] = x[col]
    for (t, i), col in S.items():
        Sm[t, i] = x[col]
    status = "optimal" if res.status == 0 else "time_limit"
    return MilpResult(status, float(c @ x), Rm, Sm, seconds)
