"""Lockstep throughput against the same verilated model run alone in C++, as ratios in one run.

    python -m bench.lockstep_ratio [--accel vta] [--program conv2d] [--repeats 5]

For each generated Program of the accelerator, on one VerilatorBackend library:
- C++ only: the shim clocks the model until every instruction retires (no ILA, no Python
  per instruction, no comparisons);
- lockstep: the engine, one Python call per retirement, the ILA executing each instruction
  and its write-set compared;
- ILA only: the ILA model alone, in program order.
Set-up (reset, loading memories) is outside every timed region. Each mode runs `--repeats`
times, interleaved, and the fastest is kept (the machine is shared and noisy). The ratio is
lockstep throughput / C++-only throughput (1.0: lockstep costs nothing; the target is >= 0.5).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from harness.backend import Backend
from harness.ila_backend import IlaBackend
from harness.lockstep import Lockstep, LockstepResult
from harness.target import Target
from ila_models.language import IlaModel
from ila_models.program import Program
from ila_models.registry import accelerator, names


def timed(setup: Callable[[], Callable[[], object]]) -> float:
    """Seconds of the run that `setup` returns (setup itself is outside the timed region)."""
    run = setup()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def lockstep_setup(
    program: Program,
    model: IlaModel,
    rtl: Backend,
    compared: list[str],
    label: str = "",
    on_pass: Callable[[LockstepResult], None] | None = None,
) -> Callable[[], Callable[[], object]]:
    """A set-up for `timed`: reset and load outside the timed region, one lockstep run inside it.

    A run that fails stops the benchmark: a ratio of a diverging run means nothing.
    """

    def setup() -> Callable[[], object]:
        ila = IlaBackend(model)
        ila.load(program)
        rtl.reset()
        rtl.load(program)
        engine = Lockstep(program, ila, rtl, compared)

        def run() -> None:
            result = engine.run()
            if not result.passed:
                raise SystemExit(f"{program.name}{label}: lockstep failed: {result.mismatches[0].headline()}")
            if on_pass is not None:
                on_pass(result)

        return run

    return setup


def measure(program: Program, repeats: int) -> dict[str, float]:
    """Best-of-`repeats` seconds of each mode, and the RTL cycles of the program."""
    target = Target.resolve(program)
    model = target.model
    rtl = target.verilator_backend()
    compared = target.compared
    cycles = 0

    def cpp_only() -> Callable[[], object]:
        rtl.reset()
        rtl.load(program)
        return rtl.run_to_completion

    lockstep = lockstep_setup(program, model, rtl, compared)

    def ila_only() -> Callable[[], object]:
        ila = IlaBackend(model)
        ila.load(program)

        def run() -> None:
            while ila.next_retirement() is not None:
                pass

        return run

    best = {"cpp": float("inf"), "lockstep": float("inf"), "ila": float("inf")}
    for _ in range(repeats):
        for name, setup in (("cpp", cpp_only), ("lockstep", lockstep), ("ila", ila_only)):
            best[name] = min(best[name], timed(setup))
            if name == "cpp":
                cycles = rtl.cycle
    rtl.close()
    return {**best, "cycles": float(cycles)}


def main(argv: list[str] | None = None) -> int:
    """Print one row per Program and the ratio over all of them."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accel", default="vta", help=f"one of {names()}")
    parser.add_argument("--program", help="only Programs whose name contains this")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.accel not in names():
        parser.error(f"--accel {args.accel!r}: expected one of {names()}")
    header = (
        f"{'program':34s} {'instrs':>6s} {'cycles':>9s} {'C++ Mcyc/s':>10s} {'lockstep Mcyc/s':>15s} "
        f"{'lockstep instr/s':>16s} {'ratio':>6s} {'ILA-only s':>10s}"
    )
    print(header)
    totals = {"cpp": 0.0, "lockstep": 0.0, "ila": 0.0}
    for program in accelerator(args.accel).generated_programs():
        if args.program and args.program not in program.name:
            continue
        t = measure(program, args.repeats)
        for key in totals:
            totals[key] += t[key]
        print(
            f"{program.name[:34]:34s} {len(program):6d} {int(t['cycles']):9,d} {t['cycles'] / t['cpp'] / 1e6:10.2f} "
            f"{t['cycles'] / t['lockstep'] / 1e6:15.2f} {len(program) / t['lockstep']:16,.0f} "
            f"{t['cpp'] / t['lockstep']:6.2f} {t['ila']:10.4f}"
        )
    if totals["lockstep"]:
        print(
            f"all: lockstep / C++-only throughput = {totals['cpp'] / totals['lockstep']:.2f} (target >= 0.5)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
