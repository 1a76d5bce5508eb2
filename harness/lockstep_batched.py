"""Batched, pipelined lockstep for Programs whose instructions all run on one unit.

With one unit, program order is the only legal retirement order, so the ILA can run
ahead: it executes the next `batch` instructions and names the rows each one writes
(with their values). The RTL then runs those instructions in one call into C++, which
copies each instruction's watched rows at the cycle it retires and compares them with the
ILA's there. That is as exact as one call per instruction (every write-set is compared as
it was at its own retirement) with one Python-to-C++ crossing per batch. The batch runs on
a C++ thread of its own, so the ILA plans batch k+1 on the other core while the RTL runs
batch k. A batch that agrees is accounted for in bulk; one that does not (a differing
entry, an order or unit surprise, a hang) is walked instruction by instruction, so the
first mismatch is reported exactly as per-instruction stepping reports it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.backend import Retire, RunsBatches
from harness.lockstep import HISTORY
from ila_models.language import DecodeError, OrderViolation

if TYPE_CHECKING:
    from harness.lockstep import Lockstep


@dataclass
class _Plan:
    """The ILA's run-ahead over instructions [start, end): what each writes, and any instruction it rejects."""

    start: int
    end: int
    # (index, state, lo, hi, rows or None for the whole window lo:hi, offset of the ILA's rows in `expected`)
    entries: list[tuple[int, str, int, int, np.ndarray | None, int]] = field(default_factory=list)
    expected: bytearray = field(default_factory=bytearray)  # the ILA's rows of every entry, packed
    elements: int = 0  # elements over all entries
    gappy: list[int] = field(default_factory=list)  # entries whose rows are not one window: compared here
    batch: Any = None  # the entries laid out by the RTL backend (`plan_batch`)
    rejected: tuple[int, Exception] | None = None
    seconds: float = 0.0

    def values(self, entry: int, state: dict[str, np.ndarray]) -> np.ndarray:
        """The ILA's rows of `entry` (a view of `expected`), in the state's dtype and row shape."""
        _, name, lo, hi, rows, offset = self.entries[entry]
        like = state[name]
        count = hi - lo if rows is None else rows.size
        flat = np.frombuffer(self.expected, like.dtype, count * int(np.prod(like.shape[1:])), offset)
        return flat.reshape((count, *like.shape[1:]))


def _plan(engine: Lockstep, start: int, stop: int, compared: set[str]) -> _Plan:
    """Execute [start, stop) on the ILA, recording each write's rows and values; lay the batch out."""
    t0 = time.perf_counter()
    plan = _Plan(start, stop)
    ila = engine.ila
    state = ila.state
    entries, expected, watch = plan.entries, plan.expected, []
    elements = 0
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
            offset = len(expected)
            if hi - lo == rows.size:  # a contiguous block (the common case): compared in C++
                values = state[name][lo:hi]
                watch.append((i, name, lo, hi, offset))
                entries.append((i, name, lo, hi, None, offset))
            else:  # the window lo:hi is copied; the rows in it are compared in _agrees
                values = state[name][rows]
                plan.gappy.append(len(entries))
                watch.append((i, name, lo, hi, -1))
                entries.append((i, name, lo, hi, rows, offset))
            expected += values.data
            elements += values.size
    plan.elements = elements
    plan.batch = engine.rtl.plan_batch(plan.end - plan.start, watch, expected)  # type: ignore[attr-defined]
    plan.seconds = time.perf_counter() - t0
    return plan


def _stop(engine: Lockstep, start: int, since_full: int) -> int:
    """Where the batch from `start` ends: after `engine.batch` instructions, at the Program's end,
    or where a full compare falls due (`full_every` retirements since the last, as when stepping)."""
    stop = min(len(engine.program), start + engine.batch)
    if since_full < engine.full_every:
        stop = min(stop, start + engine.full_every - since_full)
    return stop


def run_batched(engine: Lockstep) -> np.ndarray:
    """Run `engine`'s Program batch by batch; returns which instructions retired."""
    n = len(engine.program)
    retired = np.zeros(n, dtype=bool)
    compared = set(engine.compared)
    rtl = engine.rtl
    assert isinstance(rtl, RunsBatches)
    since_full = 0
    plan: _Plan | None = _plan(engine, 0, _stop(engine, 0, since_full), compared)
    while plan is not None:
        engine.result.ila_seconds += plan.seconds
        t0 = time.perf_counter()
        rtl.start_batch(plan.batch)
        # Plan the next batch while the RTL runs this one, unless a full compare is due after
        # this batch: that needs the ILA exactly where the RTL is, not a batch ahead.
        full_due = since_full + (plan.end - plan.start) >= engine.full_every
        following = None
        try:
            if plan.rejected is None and plan.end < n and not full_due:
                stop = _stop(engine, plan.end, since_full + plan.end - plan.start)
                following = _plan(engine, plan.end, stop, compared)
        finally:
            outcome = rtl.finish_batch()
        engine.result.rtl_seconds += time.perf_counter() - t0 - (following.seconds if following else 0.0)
        if not _check(engine, plan, outcome, retired):
            return retired
        since_full += outcome.count
        if outcome.hang is not None:
            engine.cycle = outcome.hang.cycle
            engine._fail("hang", str(outcome.hang), plan.start + outcome.count)
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
        if outcome.count < plan.end - plan.start:  # the RTL went idle: _finish reports the missing ones
            return retired
        if full_due and rtl.quiescent():
            since_full = 0
            if engine._compare_all(plan.end - 1, "quiescent"):
                return retired
        if following is None and plan.rejected is None and plan.end < n:
            following = _plan(engine, plan.end, _stop(engine, plan.end, since_full), compared)
        plan = following
    return retired


def _check(engine: Lockstep, plan: _Plan, outcome: Any, retired: np.ndarray) -> bool:
    """Compare a batch's retirements with the plan; False when the run must stop."""
    if _agrees(engine, plan, outcome):
        _account(engine, plan, outcome.records, retired)
        return True
    captured = [outcome.captured(k) for k in range(len(plan.entries))]
    return _check_each(engine, plan, outcome.retirements(), captured, retired)


def _agrees(engine: Lockstep, plan: _Plan, outcome: Any) -> bool:
    """True when the batch retired every planned instruction in order, from its unit, and every
    entry's rows agree (the C++ comparison, and here the entries it left to Python)."""
    records = outcome.records
    if outcome.differing or outcome.hang is not None or len(records) != plan.end - plan.start:
        return False
    if not np.array_equal(records[:, 0], np.arange(plan.start, plan.end)):
        return False
    unit = engine.units[plan.start] if len(records) else None
    if any(outcome.units[u] != unit for u in np.unique(records[:, 1]).tolist()):
        return False
    for k in plan.gappy:
        _, _, lo, _, rows, _ = plan.entries[k]
        assert rows is not None
        if plan.values(k, engine.ila.state).tobytes() != outcome.captured(k)[rows - lo].tobytes():
            return False
    return True


def _account(engine: Lockstep, plan: _Plan, records: np.ndarray, retired: np.ndarray) -> None:
    """Count an agreeing batch: what per-instruction checking would have recorded, in bulk."""
    result = engine.result
    if len(records):
        unit = engine.units[plan.start]
        engine.cycle = int(records[-1, 2])
        result.cycles = max(result.cycles, int(records[:, 2].max()))
        engine.history.extend((i, unit, c) for i, _, c, _ in records[-HISTORY:].tolist())
    retired[plan.start : plan.end] = True
    result.retired += len(records)
    result.retire_order.extend(range(plan.start, plan.end))
    result.comparisons += len(plan.entries)
    result.elements_compared += plan.elements


def _check_each(
    engine: Lockstep, plan: _Plan, retirements: list[Retire], captured: list[np.ndarray], retired: np.ndarray
) -> bool:
    """Walk a batch instruction by instruction, as per-instruction stepping would; False: stop."""
    result = engine.result
    state = engine.ila.state
    expected = [(*entry[:5], plan.values(k, state)) for k, entry in enumerate(plan.entries)]
    entries = iter(zip(expected, captured, strict=True))
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
        if r.unit != engine.units[r.index] and engine._wrong_unit(r):
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
