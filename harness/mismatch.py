"""Mismatch: what diverged, where, and when — the record a lockstep run stops on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class MismatchKind(StrEnum):
    """Why a run failed. Each kind says what it means, whether it stops a `--keep-going` run too,
    and whether the reproducer can shrink towards it (it names an instruction the RTL reached)."""

    STATE = "state"
    QUIESCENT = "quiescent"
    HANG = "hang"
    ORDER = "order"
    UNIT = "unit"
    MISSING = "missing"
    DECODE = "decode"
    REFERENCE = "reference"
    NO_COMPARISONS = "no-comparisons"
    CRASH = "crash"
    BUILD = "build"
    INPUT = "input"

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    @property
    def stops_run(self) -> bool:
        """True when the run cannot go on after it, even with --keep-going."""
        return self in _STOPS

    @property
    def reproducible(self) -> bool:
        """True when the reproducer can shrink a Program towards a mismatch of this kind."""
        return self in _REPRODUCIBLE


_MEANING = {
    MismatchKind.STATE: "an instruction's write-set differs between ILA and RTL",
    MismatchKind.QUIESCENT: "state differs at a quiescent point (nothing in flight)",
    MismatchKind.HANG: "no instruction retired within the cycle budget (or the Program overran its timeout)",
    MismatchKind.ORDER: "a retirement order the ISA forbids (tokens, unit order, duplicates)",
    MismatchKind.UNIT: "the RTL retired the instruction from a different unit than the ISA assigns",
    MismatchKind.MISSING: "the RTL stopped with instructions never retired",
    MismatchKind.DECODE: "the Program holds an instruction the ILA rejects",
    MismatchKind.REFERENCE: "the ILA's outputs differ from the Program's reference values",
    MismatchKind.NO_COMPARISONS: "the run made zero comparisons",
    MismatchKind.CRASH: "the simulator process died (or the harness failed)",
    MismatchKind.BUILD: "the RTL could not be built for the simulator",
    MismatchKind.INPUT: "the Program file cannot be run: unreadable, malformed, or for no registered accelerator",
}
_STOPS = frozenset(
    {
        MismatchKind.HANG,
        MismatchKind.CRASH,
        MismatchKind.DECODE,
        MismatchKind.MISSING,
        MismatchKind.BUILD,
        MismatchKind.INPUT,
    }
)
_REPRODUCIBLE = frozenset(
    {
        MismatchKind.STATE,
        MismatchKind.QUIESCENT,
        MismatchKind.ORDER,
        MismatchKind.UNIT,
        MismatchKind.HANG,
        MismatchKind.MISSING,
    }
)


@dataclass
class Mismatch:
    """The first (or one) divergence of a run."""

    kind: MismatchKind
    message: str
    index: int | None = None
    disasm: str = ""
    state: str | None = None
    element: tuple[int, ...] | None = None
    ila_value: int | None = None
    rtl_value: int | None = None
    cycle: int | None = None
    differing: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kind = MismatchKind(self.kind)  # also from its JSON value

    def headline(self) -> str:
        """One line in difftest's style: `acc[3][7] differs after #1042 GEMM: ila=0x12a rtl=0x12b`."""
        if (
            self.kind in (MismatchKind.STATE, MismatchKind.QUIESCENT, MismatchKind.REFERENCE)
            and self.state is not None
            and self.element is not None
        ):
            where = self.state + "".join(f"[{i}]" for i in self.element)
            after = f"after #{self.index} {self.disasm}" if self.index is not None else "at the end"
            cycle = f" (cycle {self.cycle})" if self.cycle is not None else ""
            more = f"; {self.differing} elements differ" if self.differing > 1 else ""
            other = "reference" if self.kind is MismatchKind.REFERENCE else "rtl"
            return f"{where} differs {after}: ila={_hex(self.ila_value)} {other}={_hex(self.rtl_value)}{cycle}{more}"
        return f"{self.kind}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


def _hex(value: int | None) -> str:
    if value is None:
        return "?"
    return f"{value:#x}" if value >= 0 else f"-{-value:#x}"


def compare_rows(
    name: str, expected: np.ndarray, actual: np.ndarray, row_ids: np.ndarray, limit: int = 32
) -> tuple[int, list[dict[str, Any]]]:
    """Count differing elements of two arrays whose first axis are the rows `row_ids`; list the first `limit`."""
    if expected.shape != actual.shape:
        raise ValueError(f"{name}: ILA shape {expected.shape} vs RTL shape {actual.shape}")
    diff = expected != actual
    count = int(np.count_nonzero(diff))
    if not count:
        return 0, []
    where = np.argwhere(diff)[:limit]
    rows = []
    for pos in where:
        element = (int(row_ids[pos[0]]), *(int(p) for p in pos[1:]))
        rows.append({"element": element, "ila": int(expected[tuple(pos)]), "rtl": int(actual[tuple(pos)])})
    return count, rows
