"""HLSCNN: lockstep (ILA + RTL, compare after every instruction) vs the RTL alone in C++.

`python -m bench.hlscnn_lockstep`: for each generated Program, the best of 3 wall times of
`run_program` (lockstep) and of the verilated RTL run to completion in C++ (no ILA, no
comparisons), and their ratio C++-only / lockstep (1.0 = lockstep costs nothing; target >= 0.5).
Ratios are measured in one run on a shared, noisy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from harness.runner import RunOptions, run_program, verilator_backend
from ila_models import hlscnn
from ila_models.program import Program
from testbenches.hlscnn import programs


def _best(fn: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _cpp_only(program: Program) -> None:
    backend = verilator_backend(program, hlscnn.model_for(program), RunOptions())
    backend.reset()
    backend.load(program)
    backend.run_to_completion(len(program))  # type: ignore[attr-defined]  # VerilatorBackend only
    backend.close()


def main() -> None:
    """Print one row per Program and the overall ratio."""
    total_lock = total_cpp = 0.0
    print(f"{'program':40s} {'cycles':>8s} {'lockstep s':>11s} {'C++ only s':>11s} {'ratio':>6s}")
    for make in programs.GENERATED:
        program = make()
        report = run_program(program)  # builds (or reuses) the library once
        assert report.passed, report.mismatches[0].headline()
        lock = _best(partial(run_program, program))
        cpp = _best(partial(_cpp_only, program))
        total_lock += lock
        total_cpp += cpp
        print(f"{program.name:40s} {report.cycles:8d} {lock:11.4f} {cpp:11.4f} {cpp / lock:6.2f}")
    print(f"{'all':40s} {'':8s} {total_lock:11.4f} {total_cpp:11.4f} {total_cpp / total_lock:6.2f}")


if __name__ == "__main__":
    main()
