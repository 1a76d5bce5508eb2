"""Why the fast path crosses from Python into C++ once per instruction, not once per clock.

    python -m bench.crossing_ratio [--repeats 5]

The same verilated model and Program, three ways, in one run (best of `--repeats`, interleaved):
- C++ only: `run_to_completion`, the clock loop never leaves C++ (the ceiling);
- per instruction: one ctypes call per retirement (`next_retirement`), as the lockstep engine does;
- per clock: one ctypes call per clock cycle (`tandem_run_until_retire` with a budget of one
  cycle), the way a Python loop that clocks the model (pyverilator's model) crosses; it is a lower
  bound on that cost, since such a loop would also read signals from Python every cycle.
Printed: cycles per second of each and their ratios to C++ only. No ILA, no comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from harness.target import Target
from harness.verilator_backend import VerilatorBackend
from ila_models.program import Program
from ila_models.registry import accelerator


def _cpp_only(rtl: VerilatorBackend, program: Program) -> None:
    rtl.run_to_completion(len(program))


def _per_instruction(rtl: VerilatorBackend, program: Program) -> None:
    while rtl.next_retirement() is not None:
        pass


def _per_clock(rtl: VerilatorBackend, program: Program) -> None:
    step, sim, records, units = rtl._lib.tandem_run_until_retire, rtl._sim, rtl._records, len(rtl.units)
    retired = 0
    while retired < len(program):
        n = step(sim, 1, records, units)
        if n > 0:
            retired += n


MODES: dict[str, Callable[[VerilatorBackend, Program], None]] = {
    "C++ only": _cpp_only, "per instruction": _per_instruction, "per clock": _per_clock,
}  # fmt: skip


def measure(program: Program, repeats: int) -> dict[str, float]:
    """Best seconds of each mode, and the cycles (key "cycles")."""
    rtl = Target.resolve(program).verilator_backend()
    best = dict.fromkeys(MODES, float("inf"))
    cycles = 0
    try:
        for _ in range(repeats):
            for name, mode in MODES.items():
                rtl.reset()
                rtl.load(program)
                start = time.perf_counter()
                mode(rtl, program)
                best[name] = min(best[name], time.perf_counter() - start)
                cycles = rtl.cycle
    finally:
        rtl.close()
    return {**best, "cycles": float(cycles)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    picks = {"vta": "conv2d_64x14x14_to_64", "hlscnn": "conv3x3_s1_c16to16_8x8_w16"}
    print(f"{'program':30s} {'cycles':>8s} " + " ".join(f"{m + ' Mcyc/s':>22s}" for m in MODES) + "  per-instr/C++  per-clock/C++")
    for accel, name in picks.items():
        program = next(p for p in accelerator(accel).generated_programs() if p.name == name)
        t = measure(program, args.repeats)
        rates = {m: t["cycles"] / t[m] / 1e6 for m in MODES}
        print(
            f"{name:30s} {int(t['cycles']):8,d} " + " ".join(f"{rates[m]:22.2f}" for m in MODES)
            + f"  {rates['per instruction'] / rates['C++ only']:13.2f}  {rates['per clock'] / rates['C++ only']:13.3f}"
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
