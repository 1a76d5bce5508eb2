"""The run as the terminal shows it: progress while it runs, then the summary table and each failure.

On a terminal, a progress bar for the run and one line per running Program (instructions
retired, or its phase: tracing waves, minimizing); piped (CI logs, files), plain lines instead:
one when each Program finishes. Names and messages from Program files are printed as text,
never as rich markup.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from harness.history import Comparison
from harness.job import Job
from harness.pipeline import RunOutcome, RunPlan
from harness.results import RunReport


class ConsoleReporter:
    """Progress, summary and failure explanations on a rich Console (see the module docstring)."""

    def __init__(self, console: Console):
        self.console = console
        self.live = console.is_terminal
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._running: dict[str, TaskID] = {}  # job stem (its report's program name) -> its line
        self._done = 0
        self._total = 0

    # -- while it runs ------------------------------------------------------------------------------------
    def started(self, plan: RunPlan) -> None:
        self._total = len(plan.inputs)
        if not self.live:
            self.console.print(f"run {plan.run_id}: {self._total} Program(s), {plan.workers} worker(s)", highlight=False)
            return
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self._progress.start()
        self._overall = self._progress.add_task("lockstep", total=self._total, completed=self._done)

    @contextlib.contextmanager
    def building(self, what: str) -> Iterator[None]:
        if self.live:
            with self.console.status(Text(what)):
                yield
        else:
            self.console.print(what, markup=False, highlight=False)
            yield

    def event(self, job: Job, kind: str, value: Any) -> None:
        if self._progress is None:
            if kind == "phase":
                self.console.print(f"  {job.stem}: {value}", markup=False, highlight=False)
            return
        task = self._running.get(job.stem)
        if task is None:
            task = self._running[job.stem] = self._progress.add_task("", total=None)
        if kind == "progress":
            retired, total = value
            self._progress.update(task, description=escape(f"  {job.stem}"), completed=retired, total=total)
        else:
            self._progress.update(task, description=escape(f"  {job.stem}: {value}"))

    def finished(self, report: RunReport) -> None:
        self._done += 1
        if "save_error" in report.artifacts:
            self.console.print(Text(f"warning: {report.program}: {report.artifacts['save_error']}", style="yellow"))
        if self._progress is None:
            self.console.print(
                f"[{self._done}/{self._total}] {report.verdict} {report.program} ({report.wall_seconds:.2f} s)",
                markup=False, highlight=False,
            )  # fmt: skip
            return
        if self._overall is not None:
            self._progress.update(self._overall, completed=self._done)
        task = self._running.pop(report.program, None)
        if task is not None:
            self._progress.remove_task(task)

    # -- at the end -----------------------------------------------------------------------------------------
    def closed(self, plan: RunPlan, outcome: RunOutcome) -> None:
        if self._progress is not None:
            self._progress.stop()
        if outcome.interrupted:
            self.console.print(
                Text(f"interrupted: {len(outcome.reports)} finished result(s) kept in {plan.results}", style="yellow")
            )
        self.summary(plan, outcome.reports)
        for missing in outcome.missing:
            self.console.print(
                Text(f"NOT RUN: suite {missing.suite!r} for {missing.accelerator}: {missing.reason}", style="bold red")
            )
        if outcome.not_run:
            self.console.print(Text(f"not started, the time budget was spent: {len(outcome.not_run)} Program(s)", style="yellow"))
            for path in outcome.not_run:
                self._say(f"  {path}")

    def summary(self, plan: RunPlan, reports: list[RunReport]) -> None:
        table = Table(title=f"lockstep run {plan.run_id} ({plan.options.backend.value})")
        for col in ("program", "accelerator", "instructions", "cycles", "comparisons", "ILA s", "RTL s", "wall s", "result"):
            table.add_column(col, justify="left" if col in ("program", "accelerator", "result") else "right")
        for r in reports:
            verdict = Text("PASS", style="green") if r.passed else Text("FAIL", style="red") + Text(r.verdict[4:])
            cells = (
                [f"{r.retired:,}", f"{r.cycles:,}", f"{r.comparisons:,}", f"{r.ila_seconds:.3f}", f"{r.rtl_seconds:.3f}"]
                if r.measured
                else ["—"] * 5
            )
            table.add_row(Text(r.program), Text(r.accelerator), *cells, f"{r.wall_seconds:.2f}", verdict)
        self.console.print(table)
        for r in reports:
            if not r.passed:
                self.explain(plan, r)
        passed = sum(r.passed for r in reports)
        self.console.print(f"{passed} passed, {len(reports) - passed} failed; results in {plan.results}", markup=False)

    def explain(self, plan: RunPlan, report: RunReport) -> None:
        """One failure: the headline, differing elements, history, artifacts and the commands to use them."""
        run_dir = plan.run_dir
        m = report.first
        if m is None:
            return
        say = self._say
        self.console.print(Text("\n") + Text(report.program, style="bold red") + Text(f": {m.headline()}"))
        if m.provenance:
            say("  from " + " / ".join(str(v) for v in m.provenance.values() if v))
        if m.differences:
            say(f"  first {len(m.differences)} of {m.differing} differing elements:")
            for d in m.differences[:8]:
                where = (m.state or "") + "".join(f"[{i}]" for i in d["element"])
                say(f"    {where}: ila={d['ila']:#x} rtl={d['rtl']:#x}" if d["rtl"] is not None else f"    {where}")
        if m.history:
            say("  last instructions retired (oldest first):")
            for line in m.history:
                say(f"    {line}")
        arts = report.artifacts
        if "replay" in arts:
            say(f"  replay: {arts['replay']}")
        if "waves" in arts:
            say(
                f"  waves: {run_dir / arts['waves']} (cycles {arts.get('wave_cycles', '?')}, 10 ns per cycle); "
                f"gtkwave {run_dir / arts.get('gtkw', '')}"
            )
        if "reproducer" in arts:
            say(f"  reproducer: {arts.get('reproducer_instructions', '?')} instructions; replay it with")
            say(f"    {plan.options.replay_command(run_dir / arts['reproducer'])}")
        for key, value in arts.items():
            if key.endswith("_error"):
                self.console.print(Text(f"  {key}", style="yellow") + Text(f": {value}"))
        say(f"  report: {run_dir / 'index.html'}#{report.program}")

    def _say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)



def show_history(console: Console, table: Any) -> None:
    """`python -m harness history`: one line per run."""
    out = Table(title="Tandem runs (results store)")
    for col in ("run", "Programs", "passed", "failed", "suites", "accelerators", "cycles/s"):
        out.add_column(col, justify="left" if col in ("run", "suites", "accelerators") else "right")
    for row in table.itertuples():
        rate = f"{row.cycles_per_second:,.0f}" if row.cycles_per_second == row.cycles_per_second and row.cycles_per_second else "—"
        failed = Text(str(row.failed), style="red" if row.failed else "")
        out.add_row(Text(row.run_id), str(row.programs), str(row.passed), failed, Text(row.suites), Text(row.accelerators), rate)
    console.print(out)


def show_comparison(console: Console, comparison: Comparison) -> None:
    """New failures, fixes and cycle-count changes from one run to another."""
    say = lambda line, style="": console.print(Text(line, style=style))  # noqa: E731
    say(f"from run {comparison.before} to run {comparison.after}:", "bold")

    def name(e: dict[str, Any]) -> str:
        where = "/".join(x for x in (e["suite"], e["accelerator"]) if x)
        return f"{e['program']} ({where}{', ' + e['backend'] if e['backend'] != 'verilator' else ''})"

    say(f"new failures: {len(comparison.new_failures)}", "red" if comparison.new_failures else "green")
    for e in comparison.new_failures:
        say(f"  {name(e)}: {e['mismatch']}")
        arts = json.loads(e["artifacts"] or "{}")
        if "reproducer_command" in arts:
            say(f"    reproducer (from the run folder): {arts['reproducer_command']}")
    say(f"fixes: {len(comparison.fixes)}", "green" if comparison.fixes else "")
    for e in comparison.fixes:
        say(f"  {name(e)}: was {e['was']}")
    say(f"cycle-count changes: {len(comparison.cycle_changes)}", "yellow" if comparison.cycle_changes else "")
    for e in comparison.cycle_changes:
        verdict = "slower" if e["change"] > 0 else "faster"
        say(f"  {name(e)}: {e['before_cycles']:,} -> {e['cycles']:,} cycles ({e['change']:+.2%}, {verdict})")
    for label, entries in (("only in the first run", comparison.only_before), ("only in the second run", comparison.only_after)):
        if entries:
            say(f"{label}: {len(entries)}")
            for e in entries:
                say(f"  {name(e)}")
    say(f"unchanged: {comparison.unchanged}")
