"""The run pipeline, read top to bottom: RunPlan -> admitted inputs and their Targets -> executor ->
results store -> reporters.

`run(plan, reporters)` admits every input (a file that cannot be loaded or run is one `FAIL input`
row at once), builds each distinct RTL once, runs the rest on the executor (a pool of local worker
processes, or Dask), and saves every report as it arrives: its JSON in the run folder, its row in
the results store, the run's HTML page. Every input gets exactly one row; nothing is written
outside `plan.results`; an interrupt keeps everything finished. A resumed run (`resume=True` with
the run id of an earlier one) skips the inputs that already have a row there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.executor import Executor, LocalPool
from harness.html_report import RunHeader, TestedRtl, write_index
from harness.job import Job, admit
from harness.mismatch import MismatchKind
from harness.options import RunOptions
from harness.results import RunReport
from harness.results_store import ResultsError, ResultsStore
from harness.revision import git_revision
from harness.target import Target
from ila_models.atomic_write import write_atomic

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "results"
PAGE_EVERY = 2.0  # seconds between rewrites of the run's HTML page while it runs


def new_run_id() -> str:
    """A run id that sorts by start time: date-time and this process's id."""
    return time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"


@dataclass(frozen=True)
class RunInput:
    """One Program file to run, from `suite` (a regression's; "" for a plain run), with `options`
    (None: the plan's)."""

    path: Path
    suite: str = ""
    options: RunOptions | None = None


@dataclass(frozen=True)
class MissingInputs:
    """A part of a suite that could not be made on this machine, and why (reported, never skipped silently)."""

    suite: str
    accelerator: str
    reason: str
    required: bool = True  # False: reported, but it does not fail the run


@dataclass(frozen=True)
class RunPlan:
    """What to run: Program files, how, where the results go, on what."""

    inputs: tuple[RunInput, ...]
    options: RunOptions = field(default_factory=RunOptions)
    results: Path = RESULTS
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    run_id: str = field(default_factory=new_run_id)
    command: str = ""
    resume: bool = False  # run_id names an earlier run: skip its inputs that have a row
    hours: float | None = None  # stop starting Programs once this much time is spent
    missing: tuple[MissingInputs, ...] = ()
    scheduler: str | None = None  # None: local worker processes; "local": a Dask LocalCluster; else its address

    @classmethod
    def of_files(cls, paths: list[Path] | tuple[Path, ...], **kwargs: Any) -> RunPlan:
        """A plan of plain files."""
        return cls(inputs=tuple(RunInput(Path(p)) for p in paths), **kwargs)

    @property
    def run_dir(self) -> Path:
        return self.results / self.run_id

    def options_of(self, given: RunInput) -> RunOptions:
        return given.options or self.options


class Reporter(Protocol):
    """Something that shows a run as it goes (console, JUnit file, ...)."""

    def started(self, plan: RunPlan) -> None:
        """The run begins (before its inputs are admitted)."""

    def building(self, what: str) -> contextlib.AbstractContextManager[Any]:
        """A context around building an RTL before the run."""
        ...

    def event(self, job: Job, kind: str, value: Any) -> None:
        """A running job's progress ("progress", (retired, total)) or phase ("phase", text)."""

    def finished(self, report: RunReport) -> None:
        """One input's report is saved."""

    def closed(self, plan: RunPlan, outcome: RunOutcome) -> None:
        """The run is over (or interrupted)."""


@dataclass
class RunOutcome:
    """What a run did: every report of the run (earlier ones too when resumed), what it did not run."""

    reports: list[RunReport]
    interrupted: bool = False
    not_run: list[Path] = field(default_factory=list)  # left when the time budget ran out
    missing: tuple[MissingInputs, ...] = ()
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds: admit, build, execute

    @property
    def exit_status(self) -> int:
        """0 every input passed, 1 one failed (or a required suite's inputs were missing), 130 interrupted."""
        if self.interrupted:
            return 130
        missing = any(m.required for m in self.missing)
        return 0 if self.reports and all(r.passed for r in self.reports) and not missing else 1


def executor_for(plan: RunPlan, jobs: int) -> Executor:
    """Local worker processes, or a Dask cluster when the plan names one."""
    if plan.scheduler is None:
        return LocalPool(min(plan.workers, max(1, jobs)))
    from harness.dask_executor import DaskExecutor

    return DaskExecutor(plan.scheduler, plan.workers)


def run(plan: RunPlan, reporters: list[Reporter]) -> RunOutcome:
    """Run the plan (see the module docstring); ResultsError when the results folder is unusable."""
    store = ResultsStore(plan.results)
    store.check_writable()
    session = _Session(plan, store, reporters)
    session.resume()
    deadline = time.monotonic() + plan.hours * 3600 if plan.hours is not None else None
    # the workers boot while the inputs are admitted and the RTL is built
    with executor_for(plan, len(plan.inputs)) as executor:
        try:
            for reporter in reporters:
                reporter.started(plan)
            with session.phase("admit"):
                jobs, targets = session.admit_all()
                session.header = _header(plan, targets.values())
            with session.phase("build"):
                jobs = session.prepare(jobs, targets)
            # longest first (by instruction count): a long Program started last would finish alone
            jobs.sort(key=lambda job: -job.instructions)
            by_index = {job.index: job for job in jobs}
            with session.phase("execute"):  # the executor's part: from the first job sent to the last report
                for report in executor.run(jobs, plan.run_dir, session.forward(by_index), deadline):
                    session.save(report)
            session.not_run = [job.path for job in executor.not_run]
        except KeyboardInterrupt:
            session.interrupted = True
        finally:
            session.close()
    return session.outcome()


@dataclass
class _Session:
    plan: RunPlan
    store: ResultsStore
    reporters: list[Reporter]
    reports: list[RunReport] = field(default_factory=list)
    header: RunHeader | None = None
    interrupted: bool = False
    not_run: list[Path] = field(default_factory=list)
    done: set[tuple[str, str, str]] = field(default_factory=set)  # (path, suite, backend) with a row
    _page_due: float = 0.0
    _seq: int = 0  # rows of this run so far (a resumed run goes on counting)
    _options: dict[str, RunOptions] = field(default_factory=dict)  # each input's options, by resolved path
    phases: dict[str, float] = field(default_factory=dict)

    def outcome(self) -> RunOutcome:
        return RunOutcome(self.reports, self.interrupted, self.not_run, self.plan.missing, dict(self.phases))

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = time.perf_counter() - start

    def resume(self) -> None:
        """Take in the earlier rows of a resumed run: their reports count, their inputs do not run again."""
        if not self.plan.resume:
            return
        rows = self.store.table(self.plan.run_id)
        for report in _earlier_reports(self.plan.run_dir, rows):
            self.reports.append(report)
            self.done.add((report.path, report.suite, report.backend))
        self._seq = int(rows["seq"].max()) if len(rows) else 0

    def admit_all(self) -> tuple[list[Job], dict[tuple[Any, ...], Target]]:
        """Load every input once: jobs for those that can run, a `FAIL input` row for the others."""
        jobs: list[Job] = []
        targets: dict[tuple[Any, ...], Target] = {}
        taken = {r.program for r in self.reports}
        failed: list[RunReport] = []
        for index, given in enumerate(self.plan.inputs):
            path = given.path.resolve()  # rows and replay commands name files that work from anywhere
            options = self.plan.options_of(given)
            self._options[str(path)] = options
            if (str(path), given.suite, options.backend.value) in self.done:
                continue
            job = Job(index, path, _unique(path.stem, taken), options, given.suite)
            admitted = admit(job)
            if isinstance(admitted, RunReport):
                failed.append(admitted)
                continue
            program, target = admitted
            taken.discard(job.stem)
            stem = program.name if options.backend.value == "verilator" else f"{program.name}-{options.backend.value}"
            job = Job(index, path, _unique(stem, taken), options, given.suite, target.name, len(program))
            jobs.append(job)
            targets.setdefault(_build_key(target), target)
            targets.setdefault(("job", index), target)
        for report in failed:
            self.save(report)
        return jobs, targets

    def prepare(self, jobs: list[Job], targets: dict[tuple[Any, ...], Target]) -> list[Job]:
        """Build every distinct RTL once; the jobs of an RTL that does not build get a `FAIL build` row."""
        broken: dict[tuple[Any, ...], str] = {}
        for key, target in targets.items():
            if key[0] == "job":
                continue
            params = ", ".join(f"{k}={v}" for k, v in sorted(target.parameters.items()))
            what = f"building {target.name} RTL{f' ({params})' if params else ''} for {target.options.backend.value} (cached)"
            try:
                with _reporting(self.reporters, what):
                    target.prepare()
            except Exception as exc:
                broken[key] = f"{target.rtl_dir}: {type(exc).__name__}: {exc}"
        runnable = []
        for job in jobs:
            reason = broken.get(_build_key(targets[("job", job.index)]))
            if reason is None:
                runnable.append(job)
            else:
                self.save(job.failed(MismatchKind.BUILD, reason))
        return runnable

    def forward(self, jobs: dict[int, Job]) -> Any:
        def event(index: int, kind: str, value: Any) -> None:
            for reporter in self.reporters:
                reporter.event(jobs[index], kind, value)

        return event

    def save(self, report: RunReport) -> None:
        """Keep one report: JSON, results row, page (whole, even if Ctrl-C comes meanwhile)."""
        with _deferred_interrupt():
            report.run_id = self.plan.run_id
            report.artifacts["report"] = f"{report.program}.json"
            report.artifacts["html"] = "index.html"
            if not report.passed:
                options = self._options.get(report.path, self.plan.options)
                report.artifacts["replay"] = options.replay_command(report.path)
            self.reports.append(report)
            self._seq += 1
            try:  # the row first: a value the schema refuses is then recorded in the JSON report
                self.store.append(self.plan.run_id, self._seq, report.row())
            except (OSError, ResultsError) as exc:
                report.artifacts["save_error"] = f"this Program's results row was not saved: {exc}"
            try:
                write_atomic(self.plan.run_dir / f"{report.program}.json", json.dumps(report.to_json(), indent=1).encode())
            except OSError as exc:
                report.artifacts["save_error"] = f"this Program's JSON report was not saved: {exc}"
            self._write_page(force=False)
        for reporter in self.reporters:
            reporter.finished(report)

    def _write_page(self, force: bool) -> None:
        if self.header is None or (not force and time.monotonic() < self._page_due):
            return
        self._page_due = time.monotonic() + PAGE_EVERY
        with contextlib.suppress(OSError):
            write_index(self.plan.run_dir, self.header, self.reports, len(self.plan.inputs) - len(self.reports))

    def close(self) -> None:
        with _deferred_interrupt():
            if self.header is None:
                self.header = _header(self.plan, [])
            self._write_page(force=True)
            with contextlib.suppress(OSError, ResultsError):
                self.store.compact(self.plan.run_id)
        for reporter in self.reporters:
            reporter.closed(self.plan, self.outcome())


def _earlier_reports(run_dir: Path, rows: Any) -> list[RunReport]:
    """The reports of a run's rows (from their JSON files; a row without one still counts)."""
    reports = []
    for row in rows.itertuples():
        path = run_dir / f"{row.program}.json"
        try:
            report = RunReport.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError, KeyError):
            report = RunReport(program=row.program, accelerator=row.accelerator, passed=bool(row.passed))
            report.path, report.suite, report.backend = row.path, row.suite or "", row.backend
        reports.append(report)
    return reports


def _unique(stem: str, taken: set[str]) -> str:
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}~{n}"
    taken.add(name)
    return name


def _build_key(target: Target) -> tuple[Any, ...]:
    return (str(target.rtl_dir), target.accelerator.top, json.dumps(target.parameters, sort_keys=True),
            target.options.backend.value)  # fmt: skip


def _header(plan: RunPlan, targets: Any) -> RunHeader:
    tested = {}
    for target in targets:
        folder = target.rtl_dir
        with contextlib.suppress(ValueError):
            folder = folder.relative_to(REPO_ROOT)
        tested[str(target.rtl_dir)] = TestedRtl(target.name, str(folder), target.rtl_hash, target.git_revision)
    return RunHeader(
        run_id=plan.run_id,
        started=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        command=plan.command,
        tandem_revision=git_revision(REPO_ROOT),
        options=plan.options.to_json(),
        rtl=list(tested.values()),
        missing=[f"{m.suite} / {m.accelerator}: {m.reason}" for m in plan.missing],
    )


@contextlib.contextmanager
def _reporting(reporters: list[Reporter], what: str) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for reporter in reporters:
            stack.enter_context(reporter.building(what))
        yield


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) until the block is done, then raise KeyboardInterrupt if one came."""
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not the main thread: nothing to defer
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
