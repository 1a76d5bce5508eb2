"""The lockstep engine: RTL retires instruction i -> ILA executes i -> compare i's write-set.

All mapped state is also compared at quiescent points (nothing in flight) every
`full_every` retirements and at the end. The retirement order is checked: each
unit retires its own instructions in program order, each instruction once, and
the ILA's ordering rules (dependency tokens) hold.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from harness.backend import Backend, ComparesInPlace, Retire, RunsBatches, SimulatorHang
from harness.counts import RunCounts
from harness.ila_backend import IlaBackend
from harness.mismatch import Mismatch, MismatchKind, compare_rows
from ila_models.language import DecodeError, OrderViolation
from ila_models.program import Program

HISTORY = 16


@dataclass(kw_only=True)
class LockstepResult(RunCounts):
    """What a lockstep run did; `mismatches` is empty when it passed."""

    mismatches: list[Mismatch] = field(default_factory=list)
    retire_order: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


class Lockstep:
    """Runs one Program on an ILA backend and an RTL backend in lockstep."""

    def __init__(
        self,
        program: Program,
        ila: IlaBackend,
        rtl: Backend,
        compared: list[str],
        full_every: int = 1024,
        keep_going: bool = False,
        batch: int = 256,
    ):
        self.program = program
        self.ila = ila
        self.rtl = rtl
        self.compared = compared
        self.full_every = full_every
        self.keep_going = keep_going
        self.batch = batch
        self.model = ila.model
        self.units = ila.units()
        self.history: deque[tuple[int, str, int]] = deque(maxlen=HISTORY)
        # A backend that can tell "all of this state equals the ILA's" without copying it out
        # (VerilatorBackend.equals, in C++): full compares read nothing into Python unless it differs.
        self._rtl_equals = rtl.equals if isinstance(rtl, ComparesInPlace) else None
        self.result = LockstepResult(instructions=len(program))
        self.cycle = 0
        # The rows of the first state mismatch as they were compared at its instruction's retirement
        # (state, ILA rows, RTL rows, row ids): by the run's end either side may have moved on (the
        # batched engine runs a batch ahead), so the difference picture is drawn from these.
        self.first_rows: tuple[str, np.ndarray, np.ndarray, np.ndarray] | None = None

    # -- reporting -----------------------------------------------------------------------------------
    def _fail(self, kind: MismatchKind | str, message: str, index: int | None = None, **details: object) -> bool:
        """Record a mismatch; True when the run must stop."""
        span = self.program.span_of(index) if index is not None else None
        mismatch = Mismatch(
            kind=MismatchKind(kind),
            message=message,
            index=index,
            disasm=self.model.disasm(self.program.commands[index]) if index is not None else "",
            cycle=self.cycle,
            history=[
                f"#{i:<5d} {unit:<8s} cycle {cycle:<9d} {self.model.disasm(self.program.commands[i])}"
                for i, unit, cycle in self.history
            ],
            provenance={"model": span.model, "layer": span.layer, "op": span.op} if span else {},
            **details,  # type: ignore[arg-type]
        )
        self.result.mismatches.append(mismatch)
        return not self.keep_going or mismatch.kind.stops_run

    def _wrong_unit(self, r: Retire) -> bool:
        """Record that `r` retired from a unit the ISA does not run it on; True when the run must stop."""
        return self._fail(
            "unit", f"#{r.index} retired from unit {r.unit!r}: the ISA runs it on {self.units[r.index]!r}", r.index
        )

    def _compare(self, name: str, index: int | None, rows: np.ndarray | None, kind: str) -> bool:
        """Compare `rows` of state `name` (all rows when None); True when the run must stop."""
        if rows is not None and rows.size == 0:
            return False
        if rows is None and self._rtl_equals is not None:
            t0 = time.perf_counter()
            expected = self.ila.read(name)
            same = self._rtl_equals(name, expected)
            self.result.rtl_seconds += time.perf_counter() - t0
            if same:
                self.result.comparisons += 1
                self.result.elements_compared += expected.size
                return False
        window = None if rows is None else slice(int(rows.min()), int(rows.max()) + 1)
        t0 = time.perf_counter()
        expected = self.ila.read(name, window)
        t1 = time.perf_counter()
        actual = self.rtl.read(name, window)
        if rows is None or window is None:
            row_ids = np.arange(expected.shape[0])
        else:
            picked = rows - window.start
            expected, actual, row_ids = expected[picked], actual[picked], rows
        t2 = time.perf_counter()
        self.result.ila_seconds += t1 - t0
        self.result.rtl_seconds += t2 - t1
        return self._judge(name, index, expected, actual, row_ids, kind)

    def _judge(
        self,
        name: str,
        index: int | None,
        expected: np.ndarray,
        actual: np.ndarray,
        row_ids: np.ndarray,
        kind: str,
    ) -> bool:
        """Count one comparison of ILA vs RTL values; record a mismatch if they differ. True: stop."""
        self.result.comparisons += 1
        self.result.elements_compared += expected.size
        if expected.shape == actual.shape and expected.tobytes() == actual.tobytes():
            return False
        count, differences = compare_rows(name, expected, actual, row_ids)
        if kind == "state" and not self.result.mismatches:
            self.first_rows = (name, expected.copy(), actual.copy(), np.asarray(row_ids).copy())
        first = differences[0]
        message = f"{name} differs in {count} element(s)"
        return self._fail(
            kind, message, index, state=name, element=first["element"], ila_value=first["ila"],
            rtl_value=first["rtl"], differing=count, differences=differences,
        )  # fmt: skip

    def _compare_all(self, index: int | None, kind: str) -> bool:
        self.result.full_compares += 1
        return any(self._compare(name, index, None, kind) for name in self.compared)

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> LockstepResult:
        """Run to the end (or the first mismatch)."""
        if self.batch > 1 and len(set(self.units)) == 1 and isinstance(self.rtl, RunsBatches):
            from harness.lockstep_batched import run_batched

            self._finish(run_batched(self))
            return self.result
        n = len(self.program)
        per_unit: dict[str, deque[int]] = {}
        for i, unit in enumerate(self.units):
            per_unit.setdefault(unit, deque()).append(i)
        retired = np.zeros(n, dtype=bool)
        since_full = 0
        compared = set(self.compared)
        while True:
            t0 = time.perf_counter()
            try:
                r = self.rtl.next_retirement()
            except SimulatorHang as hang:
                self.cycle = hang.cycle
                self._fail("hang", str(hang), hang.pending[0] if hang.pending else None)
                break
            finally:
                self.result.rtl_seconds += time.perf_counter() - t0
            if r is None:
                break
            self.cycle = r.cycle
            self.result.cycles = max(self.result.cycles, r.cycle)
            if not 0 <= r.index < n or retired[r.index]:
                what = "twice" if 0 <= r.index < n else f"but the Program has {n} instructions"
                if self._fail("order", f"RTL retired #{r.index} {what}"):
                    break
                continue
            expected_unit = self.units[r.index]
            if r.unit != expected_unit and self._wrong_unit(r):
                break
            queue = per_unit[expected_unit]
            if queue and queue[0] != r.index:
                if self._fail(
                    "order",
                    f"unit {expected_unit!r} retired #{r.index} before #{queue[0]}: units retire in program order",
                    r.index,
                ):
                    break
                queue.remove(r.index)
            else:
                queue.popleft()
            retired[r.index] = True
            self.result.retired += 1
            self.result.retire_order.append(r.index)
            t0 = time.perf_counter()
            try:
                self.ila.execute(r.index)
            except OrderViolation as exc:
                if self._fail("order", f"#{r.index} retired out of order: {exc}", r.index):
                    break
                continue
            except DecodeError as exc:
                self._fail("decode", f"#{r.index} does not decode: {exc}", r.index)
                break
            finally:
                self.result.ila_seconds += time.perf_counter() - t0
            self.history.append((r.index, r.unit, r.cycle))
            assert self.ila.last is not None
            stop = False
            for name, rows in self.ila.last.written.items():
                if name in compared and self._compare(name, r.index, np.asarray(rows), "state"):
                    stop = True
                    break
            if stop:
                break
            since_full += 1
            if since_full >= self.full_every and self.rtl.quiescent():
                since_full = 0
                if self._compare_all(r.index, "quiescent"):
                    break
        self._finish(retired)
        return self.result

    def _finish(self, retired: np.ndarray) -> None:
        stopped = any(m.kind.stops_run for m in self.result.mismatches)
        if not self.result.mismatches or self.keep_going:
            missing = np.nonzero(~retired)[0]
            if missing.size and not stopped:
                self._fail(
                    "missing",
                    f"{missing.size} instruction(s) never retired, first #{missing[0]}",
                    int(missing[0]),
                )
            elif not stopped:
                self._compare_all(None, "quiescent")
        if self.result.comparisons == 0 and not self.result.mismatches:
            self._fail("no-comparisons", "the run compared nothing: an empty Program or no mapped state")
