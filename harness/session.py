"""A run session: many Programs, one worker process each, progress, summary and results rows.

Finished Programs are written to the results table as they finish, so Ctrl-C or a
crash loses nothing already done.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.accelerators import accelerator
from harness.html_report import write_index
from harness.mismatch import Mismatch
from harness.progress import read_progress
from harness.results import RESULTS, RunReport, append_rows, write_atomic
from harness.runner import RunOptions, refinement_map
from harness.worker import options_to_json
from ila_models.program import Program, ProgramError


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


class Session:
    """Runs Programs from the command line and reports them."""

    def __init__(self, console: Console, args: argparse.Namespace):
        self.console = console
        self.options = RunOptions(
            rtl_dir=args.rtl_dir.resolve() if args.rtl_dir else None,
            full_every=args.full_every,
            keep_going=args.keep_going,
            serial=args.serial,
            cycle_budget=args.cycle_budget,
            backend=args.backend,
            wave_window=args.wave_window,
            reproduce=not args.no_reproduce,
            repro_seconds=args.repro_seconds,
        )
        self.timeout = args.timeout
        self.results = (args.results or RESULTS).resolve()
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
        self.run_dir = self.results / self.run_id
        self.options = replace(self.options, artifacts_dir=self.run_dir)
        self.reports: list[RunReport] = []
        self.argv_flags = self._replay_flags(args)

    @staticmethod
    def _replay_flags(args: argparse.Namespace) -> str:
        flags = []
        if args.rtl_dir:
            flags.append(f"--rtl-dir {args.rtl_dir}")
        if args.serial:
            flags.append("--serial")
        if args.backend != "verilator":
            flags.append(f"--backend {args.backend}")
        return (" " + " ".join(flags)) if flags else ""

    def run(self, files: list[Path]) -> int:
        """Run every file; exit status 0 only when all pass."""
        reports = self.reports
        programs: list[tuple[Path, Program]] = []
        for path in files:
            try:
                programs.append((path, Program.load(path)))
            except ProgramError as exc:
                reports.append(
                    self._failed(path, path.stem, "?", Mismatch("decode", f"malformed Program: {exc}"))
                )
        self._prebuild([p for _, p in programs])
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
        try:
            with Progress(*columns, TimeElapsedColumn(), console=self.console, transient=True) as progress:
                task = progress.add_task("lockstep", total=len(programs))
                steps = progress.add_task("instructions", total=None, visible=False)
                for path, program in programs:
                    progress.update(task, description=f"lockstep {program.name}")
                    progress.reset(steps, total=len(program), visible=True, description="  instructions retired")

                    def show(retired: int, total: int) -> None:
                        progress.update(steps, completed=retired, total=total)

                    report = self._run_one(path, program, show)
                    with _deferred_interrupt():  # a finished Program is saved whole: JSON, row and page
                        reports.append(report)
                        self._save(report)
                        write_index(self.run_dir, self.run_id, reports)
                    progress.advance(task)
        except KeyboardInterrupt:
            self.console.print(
                f"[yellow]interrupted: {len(reports)} finished result(s) kept in {self.results}[/yellow]"
            )
            self._summary(reports)
            return 130
        self._summary(reports)
        return 0 if reports and all(r.passed for r in reports) else 1

    def _prebuild(self, programs: list[Program]) -> None:
        """Build each distinct RTL once, in this process, before workers need it."""
        seen = set()
        for program in programs:
            from harness.verilator_build import build_library

            acc = accelerator(program.accelerator)
            key = (acc.name, json.dumps(acc.verilog_parameters(program), sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            rtl_dir = self.options.rtl_dir or acc.rtl_dir
            units = len(refinement_map(rtl_dir)["units"])
            with self.console.status(f"building {acc.name} RTL with Verilator (cached after the first time)"):
                build_library(rtl_dir, acc.top, acc.verilog_parameters(program), units)
            if self.options.backend != "verilator":
                from harness.cocotb_backend import build_simulation

                simulator = "icarus" if self.options.backend == "icarus" else "verilator"
                with self.console.status(f"building {acc.name} RTL for cocotb on {simulator} (cached)"):
                    build_simulation(rtl_dir, acc.top, acc.verilog_parameters(program), simulator)

    def _run_one(self, path: Path, program: Program, show: Callable[[int, int], None] | None = None) -> RunReport:
        """Run one Program in a worker process; `show(retired, total)` is called as it progresses."""
        with tempfile.TemporaryDirectory() as tmp:
            report_path = Path(tmp) / "report.json"
            progress_path = Path(tmp) / "progress"
            cmd = [
                sys.executable, "-m", "harness", "_worker", str(path),
                "--report", str(report_path), "--options", options_to_json(self.options),
                "--progress", str(progress_path),
            ]  # fmt: skip
            start = time.perf_counter()
            with open(Path(tmp) / "out", "w+") as out:
                worker = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
                try:
                    while True:
                        try:
                            worker.wait(timeout=0.2)
                            break
                        except subprocess.TimeoutExpired:
                            pass
                        if time.perf_counter() - start > self.timeout:
                            worker.kill()
                            worker.wait()
                            return self._failed(
                                path, program.name, program.accelerator,
                                Mismatch("hang", f"the worker took longer than {self.timeout:.0f} s and was killed"),
                            )  # fmt: skip
                        seen = read_progress(progress_path)
                        if show is not None and seen is not None:
                            show(*seen)
                except BaseException:  # Ctrl-C included: never leave the worker behind
                    worker.kill()
                    worker.wait()
                    raise
                out.seek(0)
                proc = subprocess.CompletedProcess(cmd, worker.returncode, out.read(), "")
            if proc.returncode != 0 or not report_path.exists():
                output = ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()
                tail = "\n".join(output[-12:]) or "(it printed nothing)"
                how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
                crashed = self._failed(
                    path, program.name, program.accelerator, Mismatch("crash", f"the worker died ({how}):\n{tail}")
                )
                crashed.wall_seconds = time.perf_counter() - start
                return crashed
            report = RunReport.from_json(json.loads(report_path.read_text()))
            report.wall_seconds = time.perf_counter() - start
        return report

    def _failed(self, path: Path, name: str, accel: str, mismatch: Mismatch) -> RunReport:
        return RunReport(program=name, accelerator=accel, passed=False, mismatches=[mismatch], path=str(path))

    def _save(self, report: RunReport) -> None:
        report.run_id = self.run_id
        report.artifacts["report"] = str(self.run_dir / f"{report.program}.json")
        report.artifacts["html"] = str(self.run_dir / "index.html")
        if not report.passed:
            report.artifacts["replay"] = f"python -m harness run {report.path}{self.argv_flags}"
        write_atomic(Path(report.artifacts["report"]), json.dumps(report.to_json(), indent=1).encode())
        append_rows([report.row()], self.results / "runs.parquet")

    def _summary(self, reports: list[RunReport]) -> None:
        table = Table(title=f"lockstep run {self.run_id} ({self.options.backend})")
        for col in ("program", "instructions", "cycles", "comparisons", "ILA s", "RTL s", "wall s", "result"):
            table.add_column(col, justify="left" if col in ("program", "result") else "right")
        for r in reports:
            verdict = (
                "[green]PASS[/green]" if r.passed else f"[red]FAIL[/red] {r.first.kind if r.first else ''}"
            )
            table.add_row(
                r.program, str(r.retired if r.retired else r.instructions), f"{r.cycles:,}", f"{r.comparisons:,}",
                f"{r.ila_seconds:.3f}", f"{r.rtl_seconds:.3f}", f"{r.wall_seconds:.2f}", verdict,
            )  # fmt: skip
        self.console.print(table)
        for r in reports:
            if not r.passed:
                self._explain(r)
        passed = sum(r.passed for r in reports)
        self.console.print(f"{passed} passed, {len(reports) - passed} failed; results in {self.results}")

    def _explain(self, report: RunReport) -> None:
        m = report.first
        assert m is not None
        self.console.print(f"\n[bold red]{report.program}[/bold red]: {m.headline()}", markup=True)
        if m.provenance:
            self.console.print("  from " + " / ".join(v for v in m.provenance.values() if v))
        if m.differences:
            self.console.print(f"  first {len(m.differences)} of {m.differing} differing elements:")
            for d in m.differences[:8]:
                where = (m.state or "") + "".join(f"[{i}]" for i in d["element"])
                self.console.print(
                    f"    {where}: ila={d['ila']:#x} rtl={d['rtl']:#x}"
                    if d["rtl"] is not None
                    else f"    {where}"
                )
        if m.history:
            self.console.print("  last instructions retired (oldest first):")
            for line in m.history:
                self.console.print(f"    {line}", markup=False)
        arts = report.artifacts
        if "replay" in arts:
            self.console.print(f"  replay: {arts['replay']}", markup=False)
        if "waves" in arts:
            self.console.print(
                f"  waves: {arts['waves']} (cycles {arts.get('wave_cycles', '?')}, 10 ns per cycle); "
                f"gtkwave {arts.get('gtkw', '')}",
                markup=False,
            )
        if "reproducer" in arts:
            self.console.print(
                f"  reproducer: {arts.get('reproducer_instructions', '?')} instructions; replay it with", markup=False
            )
            self.console.print(f"    {arts['reproducer_command']}", markup=False)
        for key, value in arts.items():
            if key.endswith("_error"):
                self.console.print(f"  [yellow]{key}[/yellow]: {value}", markup=True, highlight=False)
        if "html" in arts:
            self.console.print(f"  report: {arts['html']}#{report.program}", markup=False)
