"""Per-instruction progress: the worker's RTL backend reports retirements to a file the session polls."""

from __future__ import annotations

import pytest
from harness_fixtures import SMALL

from harness.accelerators import accelerator
from harness.progress import ProgressBackend, read_progress
from harness.runner import RunOptions, rtl_backend, run_program
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
def test_the_progress_file_ends_at_every_instruction_retired(make, tmp_path):
    program = make()
    model = accelerator(program.accelerator).model_for(program)
    inner = rtl_backend(program, model, RunOptions())
    path = tmp_path / "progress"
    rtl = ProgressBackend(inner, path, len(program), interval=3600.0)  # only the first and the last write
    assert hasattr(rtl, "finish_batch") == hasattr(inner, "finish_batch")
    report = run_program(program, RunOptions(), rtl=rtl)
    assert report.passed and report.backend == "verilator"
    assert read_progress(path) == (len(program), len(program))
    assert read_progress(tmp_path / "none") is None
