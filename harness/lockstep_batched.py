"""Batched, pipelined lockstep for Programs whose instructions all run on one unit.

With one unit, program order is the only legal retirement order, so the ILA can run
ahead: it executes the next `batch` instructions and names the rows each one writes
(with their values). The RTL then runs those instructions in one call into C++, which
copies each instruction's watched rows at the cycle it retires; afterwards every
instruction's rows are compared in order. That is as exact as one call per instruction
(every write-set is compared as it was at its own retirement) with one Python-to-C++
crossing per batch. The C++ call releases the GIL, so the ILA plans batch k+1 on the
other core while the RTL runs batch k.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ila_models.language import DecodeError, OrderViolation

if TYPE_CHECKING:
    from harness.lockstep import Lockstep


@dataclass
class _Plan:
    """The ILA's run-ahead over instructions [start, end): what each writes, and any instruction it rejects."""

    start: int
    end: int
    # (index, state, lo, hi, rows or None for the whole window lo:hi, the ILA's values)
    expected: list[tuple[int, str, int, int, np.ndarray | None, np.ndarray]] = field(default_factory=list)
    rejected: tuple[int, Exception] | None = None
    seconds: float = 0.0


def _plan(engine: Lockstep, start: int, stop: int, compared: set[str]) -> _Plan:
    """Execute [start, stop) on the ILA, recording (index, state, lo, hi, rows, values) per write."""
    t0 = time.perf_counter()
    plan = _Plan(start, stop)
    ila = engine.ila
    state = ila.state
    expected = plan.expected
    for i in range(start, stop):
        try:
            ila.execute(i)
        except (DecodeError, OrderViolation) as exc:
            plan.rejected, plan.end = (i, exc), i
            break
        assert ila.last is not None
        for name, rows in ila.last.written.items():
            if name not in compared or not rows.size:
                continue
            if rows.size == 1:
                lo = int(rows[0])
                hi = lo + 1
            else:
                lo, hi = int(rows.min()), int(rows.max()) + 1
            if hi - lo == rows.size:  # a contiguous block (the common case): compare the window as is
                expected.append((i, name, lo, hi, None, state[name][lo:hi].copy()))
            else:
                expected.append((i, name, lo, hi, rows, state[name][rows]))
    plan.seconds = time.perf_counter() - t0
    return plan


def run_batched(engine: Lockstep) -> np.ndarray:
    """Run `engine`'s Program batch by batch; returns which instructions retired."""
    n = len(engine.program)
    retired = np.zeros(n, dtype=bool)
    compared = set(engine.compared)
    rtl = engine.rtl
    run_batch = rtl.run_batch  # type: ignore[attr-defined]
    since_full = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-rtl") as pool:
        plan: _Plan | None = _plan(engine, 0, min(n, engine.batch), compared)
        while plan is not None:
            engine.result.ila_seconds += plan.seconds
            watch = [(i, name, lo, hi) for i, name, lo, hi, _, _ in plan.expected]
            t0 = time.perf_counter()
            future = pool.submit(run_batch, plan.end - plan.start, watch)
            # Plan the next batch while the RTL runs this one, unless a full compare is due after
            # this batch: that needs the ILA exactly where the RTL is, not a batch ahead.
            full_due = since_full + (plan.end - plan.start) >= engine.full_every
            following = None
            if plan.rejected is None and plan.end < n and not full_due:
                following = _plan(engine, plan.end, min(n, plan.end + engine.batch), compared)
            retirements, captured, hang = future.result()
            engine.result.rtl_seconds += time.perf_counter() - t0 - (following.seconds if following else 0.0)
            if not _check(engine, plan, retirements, captured, retired):
                return retired
            since_full += len(retirements)
            if hang is not None:
                engine.cycle = hang.cycle
                engine._fail("hang", str(hang), plan.start + len(retirements))
                return retired
            if plan.rejected is not None:
                index, error = plan.rejected
                kind, what = (
                    ("decode", "does not decode")
                    if isinstance(error, DecodeError)
                    else ("order", "retired out of order")
                )
                engine._fail(kind, f"#{index} {what}: {error}", index)
                return retired
            if (
                len(retirements) < plan.end - plan.start
            ):  # the RTL went idle: _finish reports the missing ones
                return retired
            if full_due and rtl.quiescent():
                since_full = 0
                if engine._compare_all(plan.end - 1, "quiescent"):
                    return retired
            if following is None and plan.rejected is None and plan.end < n:
                following = _plan(engine, plan.end, min(n, plan.end + engine.batch), compared)
            plan = following
    return retired


def _check(
    engine: Lockstep, plan: _Plan, retirements: list, captured: list[np.ndarray], retired: np.ndarray
) -> bool:
    """Compare a batch's retirements with the plan; False when the run must stop."""
    result = engine.result
    entries = iter(zip(plan.expected, captured, strict=True))
    entry = next(entries, None)
    for offset, r in enumerate(retirements):
        engine.cycle = r.cycle
        engine.result.cycles = max(engine.result.cycles, r.cycle)
        expected_index = plan.start + offset
        if r.index != expected_index:
            engine._fail(
                "order",
                f"RTL retired #{r.index} before #{expected_index}: one unit retires in program order",
                r.index,
            )
            return False
        unit = engine.units[r.index]
        if r.unit != unit and engine._fail(
            "unit", f"#{r.index} retired from unit {r.unit!r}: the ISA runs it on {unit!r}", r.index
        ):
            return False
        retired[r.index] = True
        engine.result.retired += 1
        engine.result.retire_order.append(r.index)
        engine.history.append((r.index, r.unit, r.cycle))
        while entry is not None and entry[0][0] == r.index:
            (_, name, lo, hi, rows, values), actual = entry
            if rows is not None:
                actual = actual[rows - lo]
            if values.tobytes() == actual.tobytes():  # the common case, without a call
                result.comparisons += 1
                result.elements_compared += values.size
            elif engine._judge(
                name, r.index, values, actual, np.arange(lo, hi) if rows is None else rows, "state"
            ):
                return False
            entry = next(entries, None)
    return True
