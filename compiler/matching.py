"""Instruction selection by equality saturation: exact matching (patterns only) or flexible matching
(patterns plus rewrite families), then extraction with an explicit cost model.

Cost model (per distinct node, shared subterms counted once): the target accelerator's calls 1, layout
glue 1, leaves and literals 0, any operator the host computes 100, another accelerator's calls 10^6.
So extraction offloads whatever it can and never trades host compute for layout glue it doesn't need.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from egglog import EGraph, Schedule, greedy_dag_cost_model, run, seq
from egglog.deconstruct import get_callable_fn

from compiler.hooks import CompilerHooks, compiler_hooks, targeted
from compiler.ir.from_relax import ImportedModule
from compiler.ir.nodes import walk
from compiler.ir.terms import LAYOUT_GLUE, LEAVES, Tensor, host
from compiler.rules import FAMILIES

HOST_COST = 100
GLUE_COST = 1
ACCEL_COST = 1
FOREIGN_ACCEL_COST = 1_000_000


@dataclass(frozen=True)
class Limits:
    """Bounds on equality saturation (as flexmatch: 5 s, 500k nodes, 40 iterations; smaller node cap here)."""

    seconds: float = 5.0
    nodes: int = 100_000
    iterations: int = 40


@dataclass
class MatchResult:
    """The extracted program and what was offloaded."""

    accelerator: str
    flexible: bool
    roots: list[Tensor]
    offloaded: Counter[str]
    host_ops: Counter[str]
    iterations: int
    nodes: int
    seconds: float
    stop_reason: str
    notes: list[str] = field(default_factory=list)

    @property
    def offloaded_total(self) -> int:
        return sum(self.offloaded.values())


def _cost_model(hooks: CompilerHooks) -> Any:
    # Terms are told apart by their egglog functions (hashable, equal when they name the same function).
    cost: dict[Any, int] = {fn: 0 for fn in LEAVES}
    cost.update({fn: GLUE_COST for fn in LAYOUT_GLUE})
    cost.update({c.term: FOREIGN_ACCEL_COST for other in targeted().values() for c in other.calls})
    cost.update({c.term: ACCEL_COST for c in hooks.calls})

    def self_cost(expr: Any) -> int:
        fn = get_callable_fn(expr)
        return 0 if fn is None else cost.get(fn, HOST_COST)

    def base(egraph: EGraph, expr: Any, children_costs: list[int]) -> int:
        return self_cost(expr) + sum(children_costs)

    return greedy_dag_cost_model(base)


def _schedule(hooks: CompilerHooks, flexible: bool) -> Schedule:
    rulesets = [hooks.patterns]
    if flexible:
        rulesets += [FAMILIES[f] for f in hooks.flexible]
    return seq(*(run(r) for r in rulesets))


def _node_count(egraph: EGraph) -> int:
    return sum(size for _, size in egraph.all_function_sizes())


def match(imported: ImportedModule, accelerator: str, flexible: bool, limits: Limits | None = None) -> MatchResult:
    """Saturate (within `limits`) and extract the cheapest program for `accelerator`."""
    limits = limits or Limits()
    hooks = compiler_hooks(accelerator)
    start = time.perf_counter()
    egraph = EGraph()
    # One call for all terms: registered one by one, each call re-walked its whole term, which
    # grew exponentially with the depth of shared subterms (an unrolled LSTM: 45 s at 6 steps).
    egraph.register(*imported.outputs, *imported.facts)
    schedule = _schedule(hooks, flexible)
    iterations, stop, nodes = 0, "saturated", 0
    while True:
        if iterations >= limits.iterations:
            stop = "iteration limit"
            break
        report = egraph.run(schedule)
        iterations += 1
        nodes = _node_count(egraph)
        if not report.updated:
            break
        if nodes > limits.nodes:
            stop = "node limit"
            break
        if time.perf_counter() - start > limits.seconds:
            stop = "time limit"
            break
    cost_model = _cost_model(hooks)
    roots = [egraph.extract(out, cost_model=cost_model) for out in imported.outputs]
    offloaded: Counter[str] = Counter()
    host_ops: Counter[str] = Counter()
    own = {c.term: c.name for c in hooks.calls}
    for _, node in walk(roots):
        if node.fn in own:
            offloaded[own[node.fn]] += 1
        elif node.fn == host:
            host_ops[imported.host_calls[node.attrs[0]].op_name] += 1
        elif node.fn not in LEAVES and node.fn not in LAYOUT_GLUE:
            host_ops[node.name] += 1
    notes = []
    if host_ops:
        listed = ", ".join(f"{op} x{n}" for op, n in host_ops.most_common())
        notes.append(f"{sum(host_ops.values())} operators fall back to the host (TVM llvm): {listed}")
    if stop != "saturated":
        notes.append(f"saturation stopped at the {stop} after {iterations} iterations ({nodes} nodes)")
    return MatchResult(
        accelerator, flexible, roots, offloaded, host_ops, iterations, nodes, time.perf_counter() - start, stop, notes
    )
