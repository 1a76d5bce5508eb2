"""Batched lockstep (one unit: the ILA runs ahead, one C++ call per batch) is as exact as per-instruction."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.difference_picture import load_difference
from harness.ila_backend import IlaBackend
from harness.lockstep import Lockstep
from harness.options import RunOptions
from harness.runner import save_difference
from harness.target import Target
from ila_models.registry import accelerator
from testbenches.hlscnn import programs

RTL = Path(__file__).resolve().parents[2] / "rtl" / "hlscnn"


def _run(program, rtl_dir: Path, batch: int, full_every: int = 1024, stray: tuple[str, int] | None = None):
    """Lockstep `program`; `stray`: (state, flat element) the RTL gets wrong before the run."""
    return _run_engine(program, rtl_dir, batch, full_every, stray).result


def _run_engine(program, rtl_dir: Path, batch: int, full_every: int = 1024, stray: tuple[str, int] | None = None):
    """As _run, returning the engine after its run."""
    target = Target.resolve(program, RunOptions(rtl_dir=rtl_dir))
    ila = IlaBackend(target.model)
    ila.load(program)
    rtl = target.verilator_backend()
    rtl.reset()
    rtl.load(program)
    if stray is not None:
        value = rtl.read(stray[0])
        value.reshape(-1)[stray[1]] ^= 0x5A
        rtl.write(stray[0], value)
    try:
        engine = Lockstep(program, ila, rtl, target.compared, full_every, batch=batch)
        engine.run()
        return engine
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


def test_the_difference_picture_shows_the_rows_as_compared_at_the_mismatching_retirement(buggy, tmp_path):
    # The batched engine's ILA and RTL are a batch past the mismatch when the run stops; the
    # picture must still show the instruction's write-set as it was compared at its retirement.
    program = programs.GENERATED[3]()
    one, many = _run_engine(program, buggy, batch=1), _run_engine(program, buggy, batch=64)
    assert one.first_rows is not None and many.first_rows is not None
    name, expected, actual, row_ids = many.first_rows
    assert name == one.first_rows[0] == many.result.mismatches[0].state
    for a, b in zip(one.first_rows[1:], many.first_rows[1:], strict=True):
        np.testing.assert_array_equal(a, b)
    m = many.result.mismatches[0]
    where = int(np.flatnonzero(row_ids == m.element[0])[0])
    assert int(expected[where][m.element[1:]]) == m.ila_value and int(actual[where][m.element[1:]]) == m.rtl_value
    path = tmp_path / "d.npz"
    assert save_difference(path, m, None, None, compared=many.first_rows)  # type: ignore[arg-type]
    saved = load_difference(path)
    first = int(np.flatnonzero((expected != actual).reshape(len(expected), -1).any(axis=1))[0])
    assert saved["first_row"] == int(row_ids[first])
    np.testing.assert_array_equal(saved["expected"][0], expected[first])
    np.testing.assert_array_equal(saved["actual"][0], actual[first])


@pytest.mark.parametrize("full_every", [1, 7, 1024])
def test_batched_run_passes_with_the_same_counts(full_every):
    program = programs.GENERATED[0]()
    one = _run(program, RTL, batch=1, full_every=full_every)
    many = _run(program, RTL, batch=16, full_every=full_every)
    assert one.passed and many.passed, (one.mismatches, many.mismatches)
    assert (one.retired, one.cycles, one.retire_order) == (many.retired, many.cycles, many.retire_order)
    assert many.comparisons >= len(program)


# the last element of spad1 and of cfg: the Program neither reads nor writes them
@pytest.mark.parametrize("stray", [("spad1", -1), ("cfg", -1)], ids=["spad1", "cfg"])
@pytest.mark.parametrize("batch", [1, 64])
def test_a_stray_rtl_value_is_reported_element_by_element_by_the_final_full_compare(stray, batch):
    program = programs.GENERATED[0]()
    result = _run(program, RTL, batch=batch, stray=stray)
    assert [m.kind for m in result.mismatches] == ["quiescent"]
    m = result.mismatches[0]
    ila = IlaBackend(accelerator(program.accelerator).model_for(program))
    ila.load(program)
    while ila.next_retirement() is not None:
        pass
    state, flat = stray
    final = ila.read(state)
    element = tuple(int(i) for i in np.unravel_index(flat % final.size, final.shape))
    assert (m.index, m.state, m.element, m.differing) == (None, state, element, 1)
    assert (m.ila_value, m.rtl_value) == (int(final[element]), int(final[element]) ^ 0x5A)
