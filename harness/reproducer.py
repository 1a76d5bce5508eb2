"""Minimized reproducer: shrink a failing Program to a small one that diverges the same way.

Delta debugging (Zeller's ddmin) over the instructions, then over each remaining instruction's
smaller variants (the accelerator plug-in's `Shrinker.smaller`: VTA's loops and micro-op ranges), then over the data (DRAM blocks zeroed when not needed). A candidate
"still fails" when its first mismatch has the same kind, on the same state variable, at the
same original instruction. Every candidate is a legal Program:
- dependency tokens stay paired: push k of a queue is matched with pop k of that queue in the
  original program (each unit runs in program order, so that is the hardware's matching); when
  either side of a pair is dropped, the other side's bit is cleared (the accelerator's
  `Shrinker.token_pairs`, e.g. ila_models/vta_shrink.py);
- it must run on the ILA alone, in program order, without a decode error or an order
  violation, before the RTL is tried (a pop without its push would hang the RTL).
The search runs on the Verilator fast path whatever backend found the mismatch: the backends
agree cycle for cycle (tests/harness/test_backends_agree.py), and it is ~100x faster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from harness.ila_backend import IlaBackend
from harness.mismatch import Mismatch
from harness.options import RunOptions, Simulator
from harness.runner import run_program
from harness.target import Target
from ila_models.language import DecodeError, OrderViolation
from ila_models.program import Program, Span


@dataclass
class Reduction:
    """The result of a minimization."""

    program: Program
    original_instructions: int
    kept: list[int]
    tests: int
    seconds: float
    mismatch: Mismatch | None
    steps: list[str] = field(default_factory=list)


class Minimizer:
    """Delta debugging of one failing Program (see the module docstring)."""

    def __init__(
        self,
        program: Program,
        options: RunOptions,
        target: Mismatch,
        max_tests: int = 400,
        max_seconds: float = 120.0,
    ):
        if target.index is None:
            raise ValueError(f"mismatch {target.kind!r} names no instruction; nothing to minimize towards")
        self.original = program
        self.target = target
        # every candidate keeps the original's configuration and memory sizes: one Target serves them all
        self.hardware = Target.resolve(program, replace(options, backend=Simulator.VERILATOR, keep_going=False))
        self.shrinker = self.hardware.accelerator.shrinker
        self.pairs = self.shrinker.token_pairs(program)
        self.model = self.hardware.model
        self.commands = program.commands.copy()
        self.memory = {k: v.copy() for k, v in program.memories.items()}
        self.max_tests = max_tests
        self.deadline = time.monotonic() + max_seconds
        self.tests = 0
        self.last: Mismatch | None = None

    # -- candidates -----------------------------------------------------------------------------------
    def build(self, kept: list[int], commands: np.ndarray | None = None, memories: dict | None = None) -> Program:
        """The Program of the original instructions `kept` (sorted), tokens re-paired."""
        kept = sorted(kept)
        source = self.commands if commands is None else commands
        out = source[kept].copy()
        position = {orig: new for new, orig in enumerate(kept)}
        for push, push_bit, pop, pop_bit in self.pairs:
            if (push in position) != (pop in position):  # one side dropped: clear the other's bit
                i, bit = (position[push], push_bit) if push in position else (position[pop], pop_bit)
                out[i, bit // 8] &= np.uint8(~(1 << (bit % 8)) & 0xFF)
        spans = []
        for s in self.original.spans:
            inside = [position[i] for i in range(s.start, s.end) if i in position]
            if inside:
                spans.append(Span(min(inside), max(inside) + 1, s.model, s.layer, s.op))
        return Program(
            accelerator=self.original.accelerator,
            isa_version=self.original.isa_version,
            config=dict(self.original.config),
            commands=out,
            memories={k: v.copy() for k, v in (memories or self.memory).items()},
            provenance={
                **self.original.provenance,
                "reproduces": self.target.headline(),
                "minimized_from": self.original.name,
                "kept_instructions": kept,
            },
            spans=spans,
            name=f"{self.original.name}.repro",
        )

    def _legal(self, program: Program) -> bool:
        ila = IlaBackend(self.model)
        ila.load(program)
        try:
            while ila.next_retirement() is not None:
                pass
        except (DecodeError, OrderViolation):
            return False
        return True

    def fails(self, kept: list[int], commands: np.ndarray | None = None, memories: dict | None = None) -> bool:
        """True when the candidate still diverges like the target (False once the budget is spent)."""
        if self.tests >= self.max_tests or time.monotonic() > self.deadline:
            return False
        return self._check(kept, commands, memories)

    def _check(self, kept: list[int], commands: np.ndarray | None = None, memories: dict | None = None) -> bool:
        target_index = self.target.index
        if target_index not in kept:
            return False
        program = self.build(kept, commands, memories)
        self.tests += 1
        if not self._legal(program):
            return False
        report = run_program(program, target=self.hardware)
        m = report.first
        if m is None or m.index is None or m.index >= len(kept):
            return False
        same = m.kind == self.target.kind and m.state == self.target.state and sorted(kept)[m.index] == target_index
        if same:
            self.last = m
        return same

    # -- the search -----------------------------------------------------------------------------------
    def ddmin(self, kept: list[int]) -> list[int]:
        """Zeller's ddmin over the droppable instructions (all but the target)."""
        target = self.target.index
        assert target is not None
        items = [i for i in kept if i != target]
        n = 2
        while len(items) >= 2:
            size = -(-len(items) // n)
            chunks = [items[k : k + size] for k in range(0, len(items), size)]
            for chunk in chunks:  # complements first: they remove the most
                rest = [i for i in items if i not in set(chunk)]
                if self.fails([*rest, target]):
                    items, n = rest, max(n - 1, 2)
                    break
            else:
                for chunk in chunks:
                    if len(chunks) > 2 and self.fails([*chunk, target]):
                        items, n = chunk, 2
                        break
                else:
                    if n >= len(items):
                        break
                    n = min(len(items), 2 * n)
        if len(items) == 1 and self.fails([target]):
            items = []
        return sorted([*items, target])

    def shrink_instructions(self, kept: list[int]) -> int:
        """Replace instructions by smaller variants (fewer loop iterations / micro-ops) while it fails."""
        changed = 0
        for i in kept:
            progress = True
            while progress:
                progress = False
                for variant in self.shrinker.smaller(self.commands[i]):
                    trial = self.commands.copy()
                    trial[i] = variant
                    if self.fails(kept, trial):
                        self.commands = trial
                        changed += 1
                        progress = True
                        break
        return changed

    def zero_data(self, kept: list[int], blocks: int = 16) -> int:
        """Zero DRAM blocks the divergence does not need (the data is not part of the bug)."""
        if "dram" not in self.memory:
            return 0
        dram = self.memory["dram"]
        zeroed = 0
        size = -(-dram.size // blocks)
        for start in range(0, dram.size, size):
            if not dram[start : start + size].any():
                continue
            trial = dram.copy()
            trial[start : start + size] = 0
            if self.fails(kept, memories={**self.memory, "dram": trial}):
                self.memory["dram"] = dram = trial
                zeroed += 1
        return zeroed

    def run(self) -> Reduction:
        """Minimize: prefix, ddmin over instructions, smaller instructions, data."""
        start = time.monotonic()
        target = self.target.index
        assert target is not None
        n = len(self.original)
        kept = list(range(n))
        steps = []
        if not self._check(kept):
            raise RuntimeError(
                f"{self.original.name}: the unmodified Program does not reproduce {self.target.headline()!r} "
                "on the fast path; nothing to minimize"
            )
        prefix = list(range(target + 1))
        if len(prefix) < n and self.fails(prefix):
            kept = prefix
            steps.append(f"prefix up to #{target}: {len(kept)} instructions")
        kept = self.ddmin(kept)
        steps.append(f"ddmin: {len(kept)} instructions")
        changed = self.shrink_instructions(kept)
        steps.append(f"smaller loops / micro-op ranges: {changed} change(s)")
        zeroed = self.zero_data(kept)
        steps.append(f"data: {zeroed} DRAM block(s) zeroed")
        if not self._check(kept):  # the final program's own mismatch, for the report
            raise RuntimeError(f"{self.original.name}: the minimized Program no longer reproduces; this is a bug")
        return Reduction(
            program=self.build(kept),
            original_instructions=n,
            kept=kept,
            tests=self.tests,
            seconds=time.monotonic() - start,
            mismatch=self.last,
            steps=steps,
        )


def minimize(
    program: Program, options: RunOptions, target: Mismatch, max_tests: int = 400, max_seconds: float = 120.0
) -> Reduction:
    """Shrink `program` to a small Program whose first mismatch is like `target`."""
    return Minimizer(program, options, target, max_tests, max_seconds).run()
