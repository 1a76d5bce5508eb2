"""Lockstep throughput of each RTL backend on the same Program, in one run, as ratios to the fast path.

    python -m bench.backend_ratio [--accel vta] [--program matmul] [--repeats 3]

Backends: the Verilator fast path (C++ clock loop, ctypes), cocotb 2.1 + Verilator and cocotb 2.1 +
Icarus Verilog (Python drives every clock edge inside the simulator; harness/cocotb_backend.py).
Each backend is built and started outside the timed region; each timed region is one lockstep
run of the Program (the engine, the ILA and every comparison included) after reset and load.
Modes are interleaved `--repeats` times and the fastest run of each is kept (the machine is
shared and noisy). Ratio: backend throughput / fast-path throughput.
"""

from __future__ import annotations

import argparse

from bench.lockstep_ratio import lockstep_setup, timed
from harness.backend import Backend
from harness.lockstep import LockstepResult
from harness.options import RunOptions, Simulator
from harness.target import Target
from ila_models.program import Program
from ila_models.registry import accelerator, names

BACKENDS = tuple(s.value for s in Simulator)


def measure(program: Program, repeats: int) -> dict[str, tuple[float, int]]:
    """Best-of-`repeats` lockstep seconds and the cycles, per backend."""
    target = Target.resolve(program)
    model, compared = target.model, target.compared
    rtls: dict[str, Backend] = {b: Target.resolve(program, RunOptions(backend=Simulator(b))).rtl_backend() for b in BACKENDS}
    best = {b: float("inf") for b in BACKENDS}
    cycles = dict.fromkeys(BACKENDS, 0)
    try:
        for _ in range(repeats):
            for name, rtl in rtls.items():

                def record(result: LockstepResult, name: str = name) -> None:
                    cycles[name] = result.cycles

                setup = lockstep_setup(program, model, rtl, compared, f" on {name}", record)
                best[name] = min(best[name], timed(setup))
    finally:
        for rtl in rtls.values():
            rtl.close()
    return {b: (best[b], cycles[b]) for b in BACKENDS}


def main(argv: list[str] | None = None) -> int:
    """Print one row per backend: seconds, cycles/s, instructions/s, ratio to the fast path."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accel", default="vta", help=f"one of {names()}")
    parser.add_argument(
        "--program", help="the first generated Program whose name contains this (default: the first)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.accel not in names():
        parser.error(f"--accel {args.accel!r}: expected one of {names()}")
    candidates = accelerator(args.accel).generated_programs()
    chosen = [p for p in candidates if not args.program or args.program in p.name]
    if not chosen:
        parser.error(f"--program {args.program!r}: expected part of one of {[p.name for p in candidates]}")
    program = chosen[0]
    t = measure(program, args.repeats)
    fast_s, fast_cycles = t["verilator"]
    print(f"{program.name}: {len(program)} instructions, best of {args.repeats}")
    print(f"{'backend':18s} {'seconds':>9s} {'cycles':>9s} {'cycles/s':>12s} {'instr/s':>10s} {'ratio':>9s}")
    for name, label in (
        ("verilator", "fast path"),
        ("cocotb", "cocotb+Verilator"),
        ("icarus", "cocotb+Icarus"),
    ):
        seconds, cycles = t[name]
        print(
            f"{label:18s} {seconds:9.3f} {cycles:9,d} {cycles / seconds:12,.0f} {len(program) / seconds:10,.0f} "
            f"{fast_s / seconds:9.4f}"
        )
    same = len({c for _, c in t.values()}) == 1
    print(f"cycle counts {'agree' if same else 'DIFFER'} across backends ({fast_cycles:,} on the fast path)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
