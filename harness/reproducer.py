"""Minimized reproducer: shrink a failing Program to a small one that diverges the same way.

Delta debugging (Zeller's ddmin) over the instructions, then over each remaining instruction's
loops and micro-op range, then over the data (DRAM blocks zeroed when not needed). A candidate
"still fails" when its first mismatch has the same kind, on the same state variable, at the
same original instruction. Every candidate is a legal Program:
- dependency tokens stay paired: push k of a queue is matched with pop k of that queue in the
  original program (each unit runs in program order, so that is the hardware's matching); when
  either side of a pair is dropped, the other side's bit is cleared (`TOKEN_PAIRS`);
- it must run on the ILA alone, in program order, without a decode error or an order
  violation, before the RTL is tried (a pop without its push would hang the RTL).
The search runs on the Verilator fast path whatever backend found the mismatch: the backends
agree cycle for cycle (tests/harness/test_backends_agree.py), and it is ~100x faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from harness.accelerators import accelerator
from harness.ila_backend import IlaBackend
from harness.mismatch import Mismatch
from harness.runner import RunOptions, run_program
from ila_models.language import DecodeError, OrderViolation
from ila_models.program import Program, Span

# (push instruction, its bit, pop instruction, its bit): bit positions within the command's bytes.
Pair = tuple[int, int, int, int]


def _vta_token_pairs(program: Program) -> list[Pair]:
    from ila_models import vta_isa
    from ila_models.vta import _TOKEN_BITS

    bit_of = {"pop_prev": 3, "pop_next": 4, "push_prev": 5, "push_next": 6}
    pushes: dict[str, list[tuple[int, int]]] = {q: [] for q in vta_isa.TOKEN_QUEUES}
    pops: dict[str, list[tuple[int, int]]] = {q: [] for q in vta_isa.TOKEN_QUEUES}
    for i, cmd in enumerate(program.commands):
        fields = vta_isa.parse(cmd)
        if fields["opcode"] not in vta_isa.OPCODE_NAMES:
            continue
        unit = vta_isa.unit_of(fields)
        for name, bit in bit_of.items():
            queue = _TOKEN_BITS[unit][name]
            if fields[name] and queue is not None:
                (pushes if name.startswith("push") else pops)[queue].append((i, bit))
    return [
        (push[0], push[1], pop[0], pop[1])
        for q in vta_isa.TOKEN_QUEUES
        for push, pop in zip(pushes[q], pops[q], strict=False)
    ]


def _vta_smaller(command: np.ndarray) -> Iterator[np.ndarray]:
    """Variants of one VTA instruction doing less work: fewer loop iterations, fewer micro-ops."""
    from ila_models import vta_isa
    from ila_models.bitfields import word_from_bytes, word_to_bytes

    fields = vta_isa.parse(command)
    layout = {vta_isa.OPCODES["GEMM"]: vta_isa.GEMM_LAYOUT, vta_isa.OPCODES["ALU"]: vta_isa.ALU_LAYOUT}.get(
        fields["opcode"]
    )
    if layout is None:
        return
    word = word_from_bytes(command.tobytes())
    changes: list[dict[str, int]] = []
    for name in ("iter_out", "iter_in"):
        if fields[name] > 1:
            changes += [{name: 1}, {name: fields[name] // 2}]
    n_uops = fields["uop_end"] - fields["uop_bgn"]
    if n_uops > 1:
        changes += [{"uop_end": fields["uop_bgn"] + 1}, {"uop_bgn": fields["uop_end"] - 1}]
        changes += [{"uop_end": fields["uop_bgn"] + n_uops // 2}, {"uop_bgn": fields["uop_bgn"] + n_uops // 2}]
    for change in changes:
        new = dict(layout.unpack(word), **change)
        out = np.frombuffer(word_to_bytes(layout.pack(**new), len(command)), dtype=np.uint8)
        yield out.copy()


# Per accelerator: its dependency-token pairs, and smaller variants of one instruction.
TOKEN_PAIRS: dict[str, Callable[[Program], list[Pair]]] = {"vta": _vta_token_pairs}
SMALLER: dict[str, Callable[[np.ndarray], Iterator[np.ndarray]]] = {"vta": _vta_smaller}


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
        self.options = replace(options, backend="verilator", keep_going=False, artifacts_dir=None)
        self.pairs = TOKEN_PAIRS.get(program.accelerator, lambda p: [])(program)
        self.model = accelerator(program.accelerator).model_for(program)
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
        report = run_program(program, self.options)
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
        smaller = SMALLER.get(self.original.accelerator)
        if smaller is None:
            return 0
        changed = 0
        for i in kept:
            progress = True
            while progress:
                progress = False
                for variant in smaller(self.commands[i]):
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


def replay_command(path: Path, options: RunOptions) -> str:
    """The one command that replays a saved reproducer."""
    flags = [f"--rtl-dir {options.rtl_dir}"] if options.rtl_dir else []
    if options.serial:
        flags.append("--serial")
    if options.backend != "verilator":
        flags.append(f"--backend {options.backend}")
    return " ".join(["python -m harness run", str(path), *flags])
