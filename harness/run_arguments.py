"""The command-line flags of `RunOptions`, shared by `run`, `regress` and `check-rtl`."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.options import RunOptions, Simulator


def add_run_options(parser: argparse.ArgumentParser, rtl_dir: bool = True) -> None:
    """Add every RunOptions flag (with its default) to `parser`."""
    default = RunOptions()
    if rtl_dir:
        parser.add_argument("--rtl-dir", type=Path, help="RTL folder to use instead of rtl/<accelerator>/")
    parser.add_argument(
        "--backend", choices=[s.value for s in Simulator], default=default.backend.value,
        help="RTL simulator: the Verilator fast path, cocotb + Verilator, or cocotb + Icarus Verilog",
    )  # fmt: skip
    parser.add_argument("--full-every", type=int, default=default.full_every, help="compare all state every K retirements (when quiescent)")
    parser.add_argument("--keep-going", action="store_true", help="record mismatches and go on instead of stopping")
    parser.add_argument("--serial", action="store_true", help="debug: one instruction in flight at a time")
    parser.add_argument("--cycle-budget", type=int, default=default.cycle_budget, help="cycles without a retirement that count as a hang")
    parser.add_argument("--timeout", type=float, default=default.timeout, help="seconds one Program may take before its worker is killed")
    parser.add_argument(
        "--wave-window", type=int, default=default.wave_window, metavar="CYCLES",
        help="after a mismatch, trace this many cycles before it into <run folder>/<program>.fst (0: none)",
    )  # fmt: skip
    parser.add_argument("--no-reproduce", action="store_true", help="do not minimize a failing Program")
    parser.add_argument("--repro-seconds", type=float, default=default.repro_seconds, help="time budget of the reproducer's minimization")


def run_options(args: argparse.Namespace) -> RunOptions:
    """The RunOptions the flags give (OptionError for a bad value)."""
    rtl_dir = getattr(args, "rtl_dir", None)
    return RunOptions(
        rtl_dir=rtl_dir.resolve() if rtl_dir else None,
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
