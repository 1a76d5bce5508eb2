"""RunReport: the outcome of one Program, as JSON and as one typed row of the results store."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.counts import RunCounts
from harness.mismatch import Mismatch, MismatchKind

# Counters a run measures; a report made without running the Program (a bad input, a crash,
# a timeout) has none of them, and its row holds null there rather than a number never measured.
MEASURED = (
    "instructions", "retired", "cycles", "comparisons", "elements_compared", "ila_seconds", "rtl_seconds",
)  # fmt: skip


@dataclass(kw_only=True)
class RunReport(RunCounts):
    """The outcome of running one Program in lockstep."""

    program: str
    accelerator: str
    passed: bool
    wall_seconds: float = 0.0
    seed: int | None = None
    rtl_hash: str = ""
    git_revision: str = ""
    backend: str = "verilator"
    mismatches: list[Mismatch] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)  # file names relative to the run folder
    run_id: str = ""
    path: str = ""
    suite: str = ""  # the regression suite the Program came from ("" for a plain run)
    measured: bool = True  # False: the Program did not run to a verdict of the engine (see MEASURED)

    @property
    def first(self) -> Mismatch | None:
        return self.mismatches[0] if self.mismatches else None

    @property
    def verdict(self) -> str:
        """PASS, or FAIL and the first mismatch's kind."""
        return "PASS" if self.passed else f"FAIL {self.first.kind.value if self.first else ''}".rstrip()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mismatches"] = [m.to_json() for m in self.mismatches]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunReport:
        data = dict(data)
        data["mismatches"] = [
            Mismatch(**{**m, "element": tuple(m["element"]) if m.get("element") is not None else None})
            for m in data.get("mismatches", [])
        ]
        return cls(**data)

    @classmethod
    def failed(cls, program: str, accelerator: str, path: str, kind: MismatchKind, message: str) -> RunReport:
        """The report of a Program that never reached a verdict of the engine (nothing measured)."""
        return cls(
            program=program, accelerator=accelerator, passed=False, path=path,
            mismatches=[Mismatch(kind, message)], measured=False,
        )  # fmt: skip

    def row(self) -> dict[str, Any]:
        """The results-store row (harness/results_store.py: SCHEMA)."""
        first = self.first
        counters = {name: getattr(self, name) if self.measured else None for name in MEASURED}
        return {
            "run_id": self.run_id,
            "suite": self.suite,
            "program": self.program,
            "path": self.path,
            "accelerator": self.accelerator,
            "backend": self.backend,
            "passed": self.passed,
            "failure": first.kind.value if first else "",
            "mismatch": first.headline() if first else "",
            **counters,
            "wall_seconds": self.wall_seconds,
            "seed": self.seed,
            "rtl_hash": self.rtl_hash,
            "git_revision": self.git_revision,
            "artifacts": json.dumps(self.artifacts),
        }
