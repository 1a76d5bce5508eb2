"""Baselines: the MILP optimum is never worse than any heuristic; Chen's √N schedule is valid."""

from __future__ import annotations

import math

import pytest

from dtr.checkpointing import chen_sqrt_n, evaluate_schedule
from dtr.graphs import Graph, linear_chain, random_dag, to_trace, unet
from dtr.heuristics import HEURISTICS
from dtr.milp import solve_milp
from dtr.simulator import baseline, simulate

GRAPHS = {
    "chain6": linear_chain(6),
    "unet3": unet(3),
    "random5": random_dag(5, seed=1),
    "random7a": random_dag(7, seed=0),
    "random7b": random_dag(7, seed=3),
}
SLOW = {"random7a", "random7b"}  # ~10 s each


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(GRAPHS)]
)
def test_milp_never_worse_than_any_heuristic(name):
    g = GRAPHS[name]
    trace = to_trace(g)
    peak = baseline(trace).peak_memory
    solved = 0
    for budget in range(1, peak + 1):
        opt = solve_milp(g, budget, time_limit=30)
        assert opt.status in ("optimal", "infeasible"), opt.status
        for h in HEURISTICS:
            r = simulate(trace, h, budget)
            if r.status == "ok":
                assert opt.status == "optimal", f"{h} fits {budget} B but the MILP says infeasible"
                assert opt.cost <= r.total_compute + 1e-9, (h, budget, opt.cost, r.total_compute)
        if opt.status == "optimal":
            solved += 1
            cost, used = evaluate_schedule(g, opt.R, opt.S)
            assert cost == pytest.approx(opt.cost) and used <= budget
            assert opt.cost >= g.total_cost
    assert solved >= 1
    assert solve_milp(g, peak).cost == pytest.approx(g.total_cost)


def test_milp_pays_recompute_under_a_tight_budget():
    g = linear_chain(6)
    assert solve_milp(g, 3).cost > g.total_cost
    assert solve_milp(g, 2).status == "infeasible"


def test_chen_schedule_is_valid_and_saves_memory():
    g = linear_chain(16)
    R, S = chen_sqrt_n(g)
    cost, peak = evaluate_schedule(g, R, S)
    full_peak = baseline(to_trace(g)).peak_memory
    assert peak < full_peak / 2
    # the forward is recomputed about once: < 2x the forward cost on top
    assert g.total_cost < cost <= g.total_cost + 16
    assert math.isfinite(cost)


def test_bad_schedule_is_rejected():
    g = Graph(linear_chain(3).nodes)
    R, S = chen_sqrt_n(g)
    R[1, 0] = 0
    S[1, 0] = 0
    with pytest.raises(ValueError, match="stage 1: node 1 reads \\[0\\]"):
        evaluate_schedule(g, R, S)
