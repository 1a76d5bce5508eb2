"""One input of a run and the work of running it: load the Program, resolve its Target, run it in
lockstep, collect the artifacts of a failure. The same function serves every executor.

Nothing about the input is trusted: a file that cannot be loaded or run gets a `FAIL input` report
naming the problem, and any other error of the harness itself becomes a `crash` report with its
reason, so every input gets exactly one report.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.artifacts import collect, difference_file
from harness.mismatch import MismatchKind
from harness.options import RunOptions
from harness.progress import with_progress
from harness.results import RunReport
from harness.runner import run_program
from harness.target import Target, TargetError
from ila_models.program import Program, ProgramError


@dataclass(frozen=True)
class Job:
    """Input `index` of a run: the Program file at `path`, run with `options`, whose files in the run
    folder are named `stem` (its Program's name, made unique within the run); from `suite` (when a
    regression made it), for `accelerator`, `instructions` long."""

    index: int
    path: Path
    stem: str
    options: RunOptions = field(default_factory=RunOptions)
    suite: str = ""
    accelerator: str = ""
    instructions: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self), path=str(self.path), options=self.options.to_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**dict(data, path=Path(data["path"]), options=RunOptions.from_json(data["options"])))

    def failed(self, kind: MismatchKind, message: str) -> RunReport:
        """This input's report when it never reached a verdict of the engine."""
        report = RunReport.failed(self.stem, self.accelerator, str(self.path), kind, message)
        report.suite = self.suite
        report.backend = self.options.backend.value
        return report


class Events:
    """Where a running job reports how far it got (the executor forwards these to the display)."""

    def progress(self, retired: int, total: int) -> None:
        """`retired` of `total` instructions have retired."""

    def phase(self, what: str) -> None:
        """The job moved on to `what` (e.g. "tracing waves", "minimizing 38 instructions")."""


def admit(job: Job) -> tuple[Program, Target] | RunReport:
    """The Program and Target of `job`, or its `FAIL input` report."""
    try:
        program = Program.load(job.path)
    except ProgramError as exc:
        return job.failed(MismatchKind.INPUT, str(exc))
    except Exception as exc:  # Program.load raises only ProgramError; should it not, still one row
        return job.failed(MismatchKind.INPUT, f"{job.path}: {_reason(exc)}")
    try:
        return program, Target.resolve(program, job.options)
    except TargetError as exc:
        report = job.failed(MismatchKind.INPUT, f"{job.path}: {exc}")
        report.accelerator = program.accelerator
        return report


def run_job(job: Job, run_dir: Path | None, events: Events | None = None) -> RunReport:
    """Run one input (see the module docstring); artifacts of a failure go to `run_dir`."""
    events = events or Events()
    start = time.perf_counter()
    admitted = admit(job)
    if isinstance(admitted, RunReport):
        report = admitted
    else:
        program, target = admitted
        program.name = job.stem
        try:
            report = _run(program, target, run_dir, events)
        except Exception as exc:  # a harness or simulator error: this input's row says so, the run goes on
            report = job.failed(MismatchKind.CRASH, f"the harness failed: {_reason(exc)}")
            report.accelerator = program.accelerator
    report.path = str(job.path)
    report.suite = job.suite
    report.wall_seconds = time.perf_counter() - start
    return report


def _run(program: Program, target: Target, run_dir: Path | None, events: Events) -> RunReport:
    rtl = with_progress(target.rtl_backend(), events.progress, len(program))
    difference = difference_file(run_dir, program) if run_dir is not None else None
    report = run_program(program, rtl=rtl, target=target, difference=difference)
    if not report.passed and run_dir is not None:
        collect(program, target, report, run_dir, events.phase)
    return report


def _reason(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"

