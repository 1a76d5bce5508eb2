"""Replay a trace on the runtime under any heuristic and budget, without real tensors."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dtr.errors import OutOfMemoryError, ThrashingError, TraceFormatError
from dtr.graph import Tensor
from dtr.heuristics import Heuristic, make_heuristic
from dtr.runtime import Runtime
from dtr.stats import RuntimeStats
from dtr.trace import Annotate, Call, Constant, Copy, CopyFrom, Instruction, Mutate, Release


@dataclass
class SimResult:
    """Outcome of one replay."""

    heuristic: str
    budget: float
    status: str  # "ok", "oom" or "thrash"
    stats: RuntimeStats
    error: str = ""

    @property
    def total_compute(self) -> float:
        return self.stats.total_compute


def output_results(trace: Sequence[Instruction]) -> set[tuple[int, int]]:
    """The op results still referenced when the trace ends: the step's outputs.

    Each is (index of the CALL or MUTATE in trace, position among its results; for a MUTATE,
    among its mutated arguments). Constants are not included (they are pinned anyway). In a
    training step these are the parameter gradients (and the loss).
    """
    env: dict[str, tuple[int, int] | None] = {}  # name -> the result it is bound to (None: a constant)
    for k, ins in enumerate(trace):
        if isinstance(ins, Call):
            for j, name in enumerate(ins.results):
                env[name] = (k, j)
        elif isinstance(ins, Constant):
            env[ins.name] = None
        elif isinstance(ins, Release):
            env.pop(ins.name, None)
        elif isinstance(ins, Mutate):
            for j, i in enumerate(ins.mutated):
                env[ins.args[i]] = (k, j)
        elif isinstance(ins, Copy | CopyFrom):
            if ins.src in env:
                env[ins.dst] = env[ins.src]
        elif isinstance(ins, Annotate) and ins.annotation == "PIN":
            env[ins.name] = None  # a root now, not a recomputable result
    return {r for r in env.values() if r is not None}


def replay(trace: Sequence[Instruction], rt: Runtime, hold: set[tuple[int, int]] | None = None) -> dict[str, Tensor]:
    """Feed every instruction to rt; returns the names still bound at the end.

    Results listed in hold (see output_results) are kept resident from the moment they are
    computed (Runtime.hold_output): never in the eviction pool.
    """
    env: dict[str, Tensor] = {}

    def lookup(name: str, line: int, what: str) -> Tensor:
        t = env.get(name)
        if t is None:
            raise TraceFormatError(line, f"{what} {name!r} is not bound (never defined, or already released)")
        return t

    def bind(name: str, t: Tensor, line: int) -> None:
        if name in env:
            raise TraceFormatError(line, f"name {name!r} is bound twice without a RELEASE in between")
        env[name] = t

    for k, ins in enumerate(trace):
        if isinstance(ins, Call):
            args = [lookup(a, ins.line, "argument") for a in ins.args]
            outs = rt.call(ins.op, args, ins.sizes, ins.aliases, compute=ins.time)
            for j, (name, t) in enumerate(zip(ins.results, outs, strict=True)):
                t.name = name
                bind(name, t, ins.line)
                if hold and (k, j) in hold:
                    rt.hold_output(t)
        elif isinstance(ins, Constant):
            bind(ins.name, rt.constant(ins.size, ins.name), ins.line)
        elif isinstance(ins, Release):
            rt.release(lookup(ins.name, ins.line, "released tensor"))
            del env[ins.name]
        elif isinstance(ins, Mutate):
            # Copy-on-write: the op yields fresh versions of the mutated args; the names move on.
            args = [lookup(a, ins.line, "argument") for a in ins.args]
            sizes = ins.sizes or tuple(args[i].storage.size for i in ins.mutated)
            outs = rt.call(ins.op, args, sizes, [-1] * len(ins.mutated), compute=ins.time)
            for j, (i, t) in enumerate(zip(ins.mutated, outs, strict=True)):
                name = ins.args[i]
                t.name = name
                rt.release(env[name])
                env[name] = t
                if hold and (k, j) in hold:
                    rt.hold_output(t)
        elif isinstance(ins, Copy):
            src = lookup(ins.src, ins.line, "COPY source")
            rt.get(src)
            bind(ins.dst, src, ins.line)
        elif isinstance(ins, CopyFrom):
            src = lookup(ins.src, ins.line, "COPY_FROM source")
            rt.get(src)
            old = env.pop(ins.dst, None)
            env[ins.dst] = src
            if old is not None:
                rt.release(old)
        elif isinstance(ins, Annotate) and ins.annotation == "PIN":
            rt.make_root(lookup(ins.name, ins.line, "pinned tensor"))
    return env


def simulate(
    trace: Sequence[Instruction],
    heuristic: str | Heuristic,
    budget: float,
    *,
    banishing: bool = False,
    sampling: bool = False,
    ignore_small: bool = False,
    remat_limit: float | None = None,
    seed: int = 0,
    outputs: str = "keep",
) -> SimResult:
    """Replay trace under a heuristic and byte budget; OOM and thrashing become a status.

    outputs="rematerialize" ends the replay as the DTR simulator's default output condition
    does: every tensor still referenced (the step's results, e.g. parameter gradients) is
    rematerialized if it was evicted, and kept resident, its recomputation counted. "keep"
    stops at the last instruction, leaving evicted results evicted.

    outputs="hold" keeps the step's outputs (output_results: op results still referenced at the
    end, i.e. parameter gradients and the loss) out of the eviction pool: each stays resident,
    counted against the budget, from the op that computes it to the end, so nothing is left to
    rematerialize at the end; the other tensors compete for the rest of the budget. It is close
    to the DTR simulator's other output condition, PREALLOCATE, which does not rematerialize
    outputs but sets their bytes aside (its graph's output_ram); unlike a preallocation, "hold"
    counts an output's bytes only once it exists, so the unconstrained peak (which budgets are
    ratios of) is unchanged. Its verdicts are not comparable with "rematerialize" ones (the
    simulator's default, and the bench's protocol).
    """
    if outputs not in ("keep", "rematerialize", "hold"):
        raise ValueError(f"outputs must be 'keep', 'rematerialize' or 'hold', got {outputs!r}")
    h = make_heuristic(heuristic) if isinstance(heuristic, str) else heuristic
    rt = Runtime(budget, h, banishing=banishing, sampling=sampling, ignore_small=ignore_small,
                 remat_limit=remat_limit, seed=seed)
    try:
        env = replay(trace, rt, output_results(trace) if outputs == "hold" else None)
        if outputs in ("rematerialize", "hold"):
            for t in env.values():
                if t.op is not None:
                    rt.hold_output(t)
    except OutOfMemoryError as e:
        return SimResult(h.name, budget, "oom", rt.stats, str(e))
    except ThrashingError as e:
        return SimResult(h.name, budget, "thrash", rt.stats, str(e))
    return SimResult(h.name, budget, "ok", rt.stats)


def baseline(trace: Sequence[Instruction]) -> RuntimeStats:
    """Unconstrained replay: its peak memory and compute are what budgets and overheads divide by."""
    rt = Runtime(math.inf, make_heuristic("lru"))
    replay(trace, rt)
    return rt.stats
