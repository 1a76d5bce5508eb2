"""`python -m harness`: run Programs in lockstep, disassemble them.

python -m harness run FILE [FILE ...]   lockstep ILA vs RTL, one worker process per Program
python -m harness disasm FILE           the Program as readable assembly
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from harness.accelerators import accelerator
from harness.session import Session
from ila_models.program import Program, ProgramError


def _disasm(args: argparse.Namespace, console: Console) -> int:
    try:
        program = Program.load(args.file)
        model = accelerator(program.accelerator).model_for(program)
    except (ProgramError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    console.print(
        f"; {program.name}: {program.accelerator} ({program.isa_version}), {len(program)} instructions, "
        f"config {program.config}"
    )
    for name, mem in program.memories.items():
        console.print(f"; memory {name}: {mem.dtype}{list(mem.shape)}")
    for out in program.outputs:
        console.print(f"; output {out.name}: {out.memory}+{out.offset:#x} {out.dtype}{list(out.shape)}")
    span_starts = {s.start: s for s in program.spans}
    for i, cmd in enumerate(program.commands):
        if i in span_starts:
            s = span_starts[i]
            console.print(f"; -- {s.model} {s.layer} {s.op}".rstrip(), highlight=False)
        console.print(
            f"{i:6d}  {cmd.tobytes()[::-1].hex()}  {model.disasm(cmd)}", highlight=False, markup=False
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """The harness command line."""
    parser = argparse.ArgumentParser(prog="python -m harness", description="Tandem lockstep co-simulation")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run Programs in lockstep (ILA vs RTL)")
    run.add_argument("files", nargs="+", type=Path, help="Program files (.npz)")
    run.add_argument("--rtl-dir", type=Path, help="RTL folder to use instead of rtl/<accelerator>/")
    run.add_argument(
        "--full-every", type=int, default=1024, help="compare all state every K retirements (when quiescent)"
    )
    run.add_argument(
        "--keep-going", action="store_true", help="record mismatches and go on instead of stopping"
    )
    run.add_argument("--serial", action="store_true", help="debug: one instruction in flight at a time")
    run.add_argument(
        "--cycle-budget", type=int, default=1_000_000, help="cycles without a retirement that count as a hang"
    )
    run.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds one Program may take before it is killed"
    )
    run.add_argument("--results", type=Path, help="results folder (default: results/)")
    run.add_argument(
        "--backend", choices=("verilator", "cocotb", "icarus"), default="verilator",
        help="RTL simulator: the Verilator fast path, cocotb + Verilator, or cocotb + Icarus Verilog",
    )  # fmt: skip
    run.add_argument(
        "--wave-window", type=int, default=2000, metavar="CYCLES",
        help="after a mismatch, trace this many cycles before it into results/<run>/<program>.fst (0: none)",
    )  # fmt: skip
    run.add_argument("--no-reproduce", action="store_true", help="do not minimize a failing Program")
    run.add_argument(
        "--repro-seconds", type=float, default=120.0, help="time budget of the reproducer's minimization"
    )
    dis = sub.add_parser("disasm", help="print a Program as assembly")
    dis.add_argument("file", type=Path)
    worker = sub.add_parser("_worker", help=argparse.SUPPRESS)
    worker.add_argument("file", type=Path)
    worker.add_argument("--report", type=Path, required=True)
    worker.add_argument("--options", required=True)
    worker.add_argument("--progress", type=Path)
    args = parser.parse_args(argv)
    # Piped output (CI logs, files) gets wide lines instead of rich's 80-column wrap.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    if args.command == "disasm":
        return _disasm(args, console)
    if args.command == "_worker":
        from harness.worker import run_worker

        return run_worker(args.file, args.report, args.options, args.progress)
    if args.wave_window < 0:
        parser.error(f"--wave-window {args.wave_window}: expected 0 (no waveform) or a positive number of cycles")
    for flag in ("full_every", "cycle_budget"):
        if getattr(args, flag) <= 0:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag)}: expected a positive number")
    session = Session(console, args)
    return session.run(args.files)


if __name__ == "__main__":
    sys.exit(main())
