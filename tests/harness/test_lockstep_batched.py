"""Batched lockstep (one unit: the ILA runs ahead, one C++ call per batch) is as exact as per-instruction."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.accelerators import accelerator
from harness.ila_backend import IlaBackend
from harness.lockstep import Lockstep
from harness.runner import RunOptions, compared_state, refinement_map, verilator_backend
from testbenches.hlscnn import programs

RTL = Path(__file__).resolve().parents[2] / "rtl" / "hlscnn"


def _run(program, rtl_dir: Path, batch: int, full_every: int = 1024):
    acc = accelerator(program.accelerator)
    model = acc.model_for(program)
    ila = IlaBackend(model)
    ila.load(program)
    rtl = verilator_backend(program, model, RunOptions(rtl_dir=rtl_dir))
    rtl.reset()
    rtl.load(program)
    try:
        return Lockstep(program, ila, rtl, compared_state(refinement_map(rtl_dir)), full_every, batch=batch).run()
    finally:
        rtl.close()


@pytest.fixture(scope="module")
def buggy(tmp_path_factory) -> Path:
    rtl = tmp_path_factory.mktemp("rtl") / "hlscnn"
    shutil.copytree(RTL, rtl)
    epilogue = rtl / "hlscnn_epilogue.v"
    source = epilogue.read_text()
    assert source.count("accum ? psum + old_p : psum") == 1
    epilogue.write_text(source.replace("accum ? psum + old_p : psum", "accum ? psum - old_p : psum"))
    return rtl


@pytest.mark.parametrize("batch", [2, 5, 64])
def test_batched_and_per_instruction_report_the_same_first_mismatch(buggy, batch):
    program = programs.GENERATED[3]()
    one = _run(program, buggy, batch=1)
    many = _run(program, buggy, batch=batch)
    a, b = one.mismatches[0], many.mismatches[0]
    assert (a.kind, a.index, a.state, a.element, a.ila_value, a.rtl_value, a.cycle) == (
        b.kind, b.index, b.state, b.element, b.ila_value, b.rtl_value, b.cycle,
    )  # fmt: skip
    assert a.history == b.history
    assert one.retired == many.retired


@pytest.mark.parametrize("full_every", [1, 7, 1024])
def test_batched_run_passes_with_the_same_counts(full_every):
    program = programs.GENERATED[0]()
    one = _run(program, RTL, batch=1, full_every=full_every)
    many = _run(program, RTL, batch=16, full_every=full_every)
    assert one.passed and many.passed, (one.mismatches, many.mismatches)
    assert (one.retired, one.cycles, one.retire_order) == (many.retired, many.cycles, many.retire_order)
    assert many.comparisons >= len(program)
