"""`python -m harness`: run Programs in lockstep, disassemble them.

python -m harness run FILE|DIR [...]   lockstep ILA vs RTL on a pool of worker processes
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

from rich.console import Console

from harness.console_report import ConsoleReporter
from harness.options import OptionError, RunOptions, Simulator
from harness.pipeline import RESULTS, RunPlan, run
from harness.results_store import ResultsError
from ila_models.accelerator import PluginError
from ila_models.program import Program, ProgramError
from ila_models.registry import accelerator

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
    run_ = sub.add_parser(
        "run", help="run Programs in lockstep (ILA vs RTL)", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    run_.add_argument("files", nargs="+", type=Path, help="Program files (.npz), or folders of them")
    default = RunOptions()
    run_.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    run_.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    run_.add_argument("--rtl-dir", type=Path, help="RTL folder to use instead of rtl/<accelerator>/")
    run_.add_argument(
        "--backend", choices=[s.value for s in Simulator], default=default.backend.value,
        help="RTL simulator: the Verilator fast path, cocotb + Verilator, or cocotb + Icarus Verilog",
    )  # fmt: skip
    run_.add_argument("--full-every", type=int, default=default.full_every, help="compare all state every K retirements (when quiescent)")
    run_.add_argument("--keep-going", action="store_true", help="record mismatches and go on instead of stopping")
    run_.add_argument("--serial", action="store_true", help="debug: one instruction in flight at a time")
    run_.add_argument("--cycle-budget", type=int, default=default.cycle_budget, help="cycles without a retirement that count as a hang")
    run_.add_argument("--timeout", type=float, default=default.timeout, help="seconds one Program may take before its worker is killed")
    run_.add_argument(
        "--wave-window", type=int, default=default.wave_window, metavar="CYCLES",
        help="after a mismatch, trace this many cycles before it into <run folder>/<program>.fst (0: none)",
    )  # fmt: skip
    run_.add_argument("--no-reproduce", action="store_true", help="do not minimize a failing Program")
    run_.add_argument("--repro-seconds", type=float, default=default.repro_seconds, help="time budget of the reproducer's minimization")
    dis = sub.add_parser("disasm", help="print a Program as assembly")
    dis.add_argument("file", type=Path)
    return parser


def _options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        rtl_dir=args.rtl_dir.resolve() if args.rtl_dir else None,
        backend=args.backend,
        full_every=args.full_every,
        keep_going=args.keep_going,
        serial=args.serial,
        cycle_budget=args.cycle_budget,
        timeout=args.timeout,
        wave_window=args.wave_window,
        reproduce=not args.no_reproduce,
        repro_seconds=args.repro_seconds,
    )


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


def _plan(args: argparse.Namespace, argv: list[str]) -> RunPlan:
    if args.jobs < 1:
        raise UsageError(f"-j {args.jobs}: expected at least 1 worker")
    try:
        options = _options(args)
    except OptionError as exc:
        raise UsageError(str(exc)) from None
    if options.rtl_dir is not None and not options.rtl_dir.is_dir():
        raise UsageError(f"--rtl-dir {str(options.rtl_dir)!r}: no such folder")
    return RunPlan(
        inputs=_inputs(args.files),
        options=options,
        results=args.results.resolve(),
        workers=args.jobs,
        command=shlex.join(["python", "-m", "harness", *argv]),
    )


def main(argv: list[str] | None = None) -> int:
    """The harness command line."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    # Piped output (CI logs, files) gets wide lines instead of rich's 80-column wrap.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    if args.command == "disasm":
        return _disasm(args.file, console)
    try:
        plan = _plan(args, argv)
        return run(plan, [ConsoleReporter(console)]).exit_status
    except (UsageError, ResultsError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        return USAGE_ERROR
