"""Per-instruction progress: the worker's RTL backend reports retirements to the executor."""

from __future__ import annotations

import pytest
from harness_fixtures import SMALL

from harness.backend import RunsBatches
from harness.progress import with_progress
from harness.runner import run_program
from harness.target import Target
from testbenches.hlscnn import programs as hlscnn_programs
from testbenches.vta import programs as vta_programs


@pytest.mark.parametrize(
    "make",
    [
        lambda: vta_programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL),  # three units: per retirement
        lambda: hlscnn_programs.fc(batch=1, in_features=16, out_features=8),  # one unit: the batched engine
    ],
    ids=["vta", "hlscnn"],
)
def test_the_progress_ends_at_every_instruction_retired(make):
    program = make()
    target = Target.resolve(program)
    inner = target.rtl_backend()
    seen: list[tuple[int, int]] = []
    rtl = with_progress(inner, lambda retired, total: seen.append((retired, total)), len(program), interval=3600.0)
    assert isinstance(rtl, RunsBatches) == isinstance(inner, RunsBatches)  # only the first and the last report
    report = run_program(program, rtl=rtl, target=target)
    assert report.passed and report.backend == "verilator"
    assert seen[-1] == (len(program), len(program))
    assert len(seen) <= 2
