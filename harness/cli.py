"""`python -m harness`: run Programs in lockstep, disassemble them.

python -m harness run FILE|DIR [...]   lockstep ILA vs RTL on a pool of worker processes
python -m harness regress [--suite S]  a suite (the nightly one): local pool or Dask, JUnit, resume
python -m harness history | compare A B | report   the results store: runs, changes, dashboard
python -m harness check-rtl --accel A  an RTL change against a base revision
python -m harness disasm FILE          the Program as readable assembly

Exit status: 0 every Program passed; 1 a Program failed (a divergence, a crash, a hang, or a
Program file that cannot be run, each with its row); 2 a usage error (bad arguments, missing
files, an unusable results folder), with a one-line message; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.console_report import ConsoleReporter, show_comparison, show_history
from harness.history import compare, runs_summary
from harness.options import OptionError, RunOptions
from harness.pipeline import RESULTS, RunPlan, run
from harness.results_store import ResultsError, ResultsStore
from harness.run_arguments import add_run_options, run_options
from harness.suites import suite_names
from ila_models.accelerator import PluginError
from ila_models.program import Program, ProgramError
from ila_models.registry import accelerator, names

USAGE_ERROR = 2


class UsageError(Exception):
    """A command line that cannot run; the message says why."""


def _disasm(path: Path, console: Console) -> int:
    try:
        program = Program.load(path)
        model = accelerator(program.accelerator).model_for(program)
    except (ProgramError, PluginError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        return USAGE_ERROR
    say = lambda line: console.print(line, markup=False, highlight=False)  # noqa: E731
    say(f"; {program.name}: {program.accelerator} ({program.isa_version}), {len(program)} instructions, config {program.config}")
    for name, mem in program.memories.items():
        say(f"; memory {name}: {mem.dtype}{list(mem.shape)}")
    for out in program.outputs:
        say(f"; output {out.name}: {out.memory}+{out.offset:#x} {out.dtype}{list(out.shape)}")
    span_starts = {s.start: s for s in program.spans}
    for i, cmd in enumerate(program.commands):
        if i in span_starts:
            s = span_starts[i]
            say(f"; -- {s.model} {s.layer} {s.op}".rstrip())
        say(f"{i:6d}  {cmd.tobytes()[::-1].hex()}  {model.disasm(cmd)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description="Tandem lockstep co-simulation")
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = argparse.ArgumentDefaultsHelpFormatter
    run_ = sub.add_parser("run", help="run Programs in lockstep (ILA vs RTL)", formatter_class=defaults)
    run_.add_argument("files", nargs="+", type=Path, help="Program files (.npz), or folders of them")
    _add_where(run_)
    add_run_options(run_)
    reg = sub.add_parser("regress", help="run a suite (the nightly one by default)", formatter_class=defaults)
    reg.add_argument("--suite", default="nightly", help=f"one of {suite_names()}")
    reg.add_argument("--accel", action="append", help="only this accelerator (repeat for more)")
    reg.add_argument("--resume", metavar="RUN_ID", help="go on with an earlier run: skip its Programs that have a row")
    reg.add_argument("--hours", type=float, help="stop starting Programs after this many hours (lists what was not run)")
    reg.add_argument("--junit", type=Path, help="also write the JUnit XML here (it is always in the run folder)")
    _add_where(reg, dask=True)
    add_run_options(reg)
    his = sub.add_parser("history", help="one line per run in the results store", formatter_class=defaults)
    his.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    his.add_argument("--last", type=int, default=20, help="the newest this many runs (0: all)")
    cmp_ = sub.add_parser("compare", help="new failures, fixes and cycle changes from run A to run B", formatter_class=defaults)
    cmp_.add_argument("before", metavar="RUN_A")
    cmp_.add_argument("after", metavar="RUN_B")
    cmp_.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    cmp_.add_argument("--threshold", type=float, default=0.0, help="relative cycle change listed (0.01 = 1%%)")
    rep = sub.add_parser("report", help="write results/index.html: every run, trends, new failures", formatter_class=defaults)
    rep.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    chk = sub.add_parser("check-rtl", help="an RTL change against a base revision", formatter_class=defaults)
    chk.add_argument("--accel", default="vta", help=f"one of {names()}")
    chk.add_argument("--base", default="HEAD", help="git revision whose rtl/<accel>/ is the reference")
    chk.add_argument("--rtl", type=Path, help="the changed RTL folder (default: the working tree's rtl/<accel>/)")
    chk.add_argument("--suite", default="generated", help=f"one of {suite_names()}")
    chk.add_argument("--threshold", type=float, default=0.0, help="relative cycle change listed (0.01 = 1%%)")
    _add_where(chk)
    add_run_options(chk, rtl_dir=False)
    dis = sub.add_parser("disasm", help="print a Program as assembly")
    dis.add_argument("file", type=Path)
    return parser


def _add_where(parser: argparse.ArgumentParser, dask: bool = False) -> None:
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    if dask:
        parser.add_argument("--dask", action="store_true", help="run on a Dask LocalCluster of -j workers")
        parser.add_argument("--scheduler", metavar="tcp://HOST:8786", help="run on this running Dask cluster")


def _options(args: argparse.Namespace) -> RunOptions:
    try:
        options = run_options(args)
    except OptionError as exc:
        raise UsageError(str(exc)) from None
    if options.rtl_dir is not None and not options.rtl_dir.is_dir():
        raise UsageError(f"--rtl-dir {str(options.rtl_dir)!r}: no such folder")
    if args.jobs < 1:
        raise UsageError(f"-j {args.jobs}: expected at least 1 worker")
    return options


def _inputs(files: list[Path]) -> tuple[Path, ...]:
    """Files as given, folders as their .npz files; UsageError naming what does not exist."""
    found: list[Path] = []
    missing = []
    for path in files:
        if path.is_dir():
            inside = sorted(path.glob("*.npz"))
            if not inside:
                raise UsageError(f"{path}: a folder with no Program files (*.npz) in it")
            found += inside
        elif path.exists():
            found.append(path)
        else:
            missing.append(str(path))
    if missing:
        raise UsageError(f"no such Program file(s): {', '.join(missing)}")
    return tuple(found)


def _run(args: argparse.Namespace, argv: list[str], console: Console) -> int:
    plan = RunPlan.of_files(
        _inputs(args.files), options=_options(args), results=args.results.resolve(), workers=args.jobs,
        command=shlex.join(["python", "-m", "harness", *argv]),
    )  # fmt: skip
    return run(plan, [ConsoleReporter(console)]).exit_status


def _regress(args: argparse.Namespace, argv: list[str], console: Console) -> int:
    from harness.regress import regress, regress_plan

    if args.hours is not None and args.hours <= 0:
        raise UsageError(f"--hours {args.hours}: expected a positive number")
    scheduler = args.scheduler or ("local" if args.dask else None)
    extra: dict[str, Any] = {"command": shlex.join(["python", "-m", "harness", *argv]), "hours": args.hours}
    if args.resume:
        extra.update(run_id=args.resume, resume=True)
        if not (args.results / args.resume).is_dir():
            raise UsageError(f"--resume {args.resume!r}: no such run in {args.results}")
    try:
        plan = regress_plan(
            args.suite, _options(args), args.results.resolve(), args.jobs, accelerators=args.accel,
            scheduler=scheduler, **extra,
        )  # fmt: skip
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return regress(plan, [ConsoleReporter(console)], args.junit).exit_status


def _check_rtl(args: argparse.Namespace, console: Console) -> int:
    from harness.check_rtl import CheckError, check_rtl

    try:
        comparison = check_rtl(
            args.accel, args.base, args.rtl, args.suite, _options(args), args.results.resolve(), args.jobs,
            [ConsoleReporter(console)], args.threshold,
        )  # fmt: skip
    except (CheckError, PluginError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    show_comparison(console, comparison)
    return 1 if comparison.new_failures else 0


def main(argv: list[str] | None = None) -> int:
    """The harness command line."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    # Piped output (CI logs, files) gets wide lines instead of rich's 80-column wrap.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    try:
        if args.command == "disasm":
            return _disasm(args.file, console)
        if args.command == "run":
            return _run(args, argv, console)
        if args.command == "regress":
            return _regress(args, argv, console)
        if args.command == "check-rtl":
            return _check_rtl(args, console)
        store = ResultsStore(args.results)
        if args.command == "history":
            show_history(console, runs_summary(store, args.last or None))
        elif args.command == "compare":
            try:
                show_comparison(console, compare(store, args.before, args.after, args.threshold))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        elif args.command == "report":
            from harness.dashboard import write_dashboard

            if not store.files():
                raise UsageError(f"{args.results}: no runs yet (make sim or make regress first)")
            console.print(f"wrote {write_dashboard(args.results)}", markup=False)
        return 0
    except (UsageError, ResultsError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        return USAGE_ERROR
