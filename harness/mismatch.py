"""Mismatch: what diverged, where, and when — the record a lockstep run stops on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Kinds of divergence, each a reason a run fails.
KINDS = {
    "state": "an instruction's write-set differs between ILA and RTL",
    "quiescent": "state differs at a quiescent point (nothing in flight)",
    "hang": "no instruction retired within the cycle budget",
    "order": "a retirement order the ISA forbids (tokens, unit order, duplicates)",
    "unit": "the RTL retired the instruction from a different unit than the ISA assigns",
    "missing": "the RTL stopped with instructions never retired",
    "decode": "the Program holds an instruction the ILA rejects",
    "reference": "the ILA's outputs differ from the Program's reference values",
    "no-comparisons": "the run made zero comparisons",
    "crash": "the simulator process died",
}


@dataclass
class Mismatch:
    """The first (or one) divergence of a run."""

    kind: str
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

    def headline(self) -> str:
        """One line in difftest's style: `acc[3][7] differs after #1042 GEMM: ila=0x12a rtl=0x12b`."""
        if (
            self.kind in ("state", "quiescent", "reference")
            and self.state is not None
            and self.element is not None
        ):
            where = self.state + "".join(f"[{i}]" for i in self.element)
            after = f"after #{self.index} {self.disasm}" if self.index is not None else "at the end"
            cycle = f" (cycle {self.cycle})" if self.cycle is not None else ""
            more = f"; {self.differing} elements differ" if self.differing > 1 else ""
            other = "reference" if self.kind == "reference" else "rtl"
            return f"{where} differs {after}: ila={_hex(self.ila_value)} {other}={_hex(self.rtl_value)}{cycle}{more}"
        return f"{self.kind}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
