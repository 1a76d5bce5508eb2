"""Every RTL backend (Verilator fast path, cocotb + Verilator, cocotb + Icarus) agrees with the others.

Same pass/fail, same retirement count and cycle count on a passing Program, and the same first
mismatch (instruction, state variable, element, values, cycle) on a planted RTL bug.
"""

from __future__ import annotations

import pytest
from harness_fixtures import SMALL, need_tool

from harness.options import RunOptions
from harness.runner import run_program
from harness.target import Target
from testbenches.vta import programs

BACKENDS = ["verilator", "cocotb", "icarus"]


@pytest.fixture(scope="module", autouse=True)
def _icarus() -> None:
    need_tool("iverilog")


@pytest.fixture(scope="module")
def program():
    return programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL)  # 19 instructions, ~900 cycles


def test_every_backend_passes_the_unmodified_rtl_with_the_same_cycles(program):
    reports = {b: run_program(program, RunOptions(backend=b)) for b in BACKENDS}
    for backend, report in reports.items():
        assert report.passed, f"{backend}: {report.first.headline() if report.first else ''}"
        assert report.backend == ("cocotb" if backend == "cocotb" else backend)
    fast = reports["verilator"]
    assert fast.retired == len(program) and fast.cycles > 10 * len(program)
    assert {b: (r.retired, r.cycles, r.comparisons) for b, r in reports.items()} == {
        b: (fast.retired, fast.cycles, fast.comparisons) for b in BACKENDS
    }


def test_every_backend_reports_the_same_first_mismatch_on_a_planted_bug(program, alu_shift_rtl):
    firsts = {}
    for backend in BACKENDS:
        report = run_program(program, RunOptions(rtl_dir=alu_shift_rtl, backend=backend))
        assert not report.passed
        m = report.first
        assert m is not None
        firsts[backend] = (m.kind, m.index, m.state, m.element, m.ila_value, m.rtl_value, m.differing, m.cycle)
    fast = firsts["verilator"]
    assert fast[0] == "state" and fast[2] == "acc" and fast[4] != fast[5]
    assert program_disasm(program, fast[1]).startswith("ALU SHR")
    assert firsts["cocotb"] == fast
    assert firsts["icarus"] == fast


def program_disasm(program, index: int) -> str:
    from ila_models import vta

    return vta.model_for(program).disasm(program.commands[index])


@pytest.mark.slow
def test_hlscnn_runs_the_same_on_every_backend():
    from testbenches.hlscnn import programs as hlscnn_programs

    program = hlscnn_programs.fc(batch=1, in_features=16, out_features=8)
    reports = {b: run_program(program, RunOptions(backend=b)) for b in BACKENDS}
    for backend, report in reports.items():
        assert report.passed, f"{backend}: {report.first.headline() if report.first else ''}"
    assert len({(r.retired, r.cycles) for r in reports.values()}) == 1


@pytest.mark.slow
def test_flexasr_reads_of_a_vector_register_agree_on_every_backend():
    """FlexASR's RD puts a row into the 128-bit register `rdata` (a vector, not a memory: indexing it gives bits)."""
    from ila_models.registry import accelerator

    program = next(p for p in accelerator("flexasr").generated_programs() if p.name == "maxpool")
    reports = {b: run_program(program, RunOptions(backend=b)) for b in BACKENDS}
    for backend, report in reports.items():
        assert report.passed, f"{backend}: {report.first.headline() if report.first else ''}"
    assert len({(r.retired, r.cycles, r.comparisons) for r in reports.values()}) == 1


@pytest.mark.slow
def test_a_store_bug_is_the_same_dram_mismatch_on_every_backend_and_its_waves_show_the_dram_port(tmp_path):
    """The DRAM is served by each backend's own memory model (C++ shim, cocotb driver): strobes included."""
    from harness_fixtures import plant

    from harness.waves import wave_window

    line = "mem_req_wstrb = ((16'd1 << (5'd1 << OUT_LOG)) - 16'd1) << offset;"
    bug = "mem_req_wstrb = (((16'd1 << (5'd1 << OUT_LOG)) - 16'd1) >> 1) << offset;"  # the last byte is dropped
    rtl = plant(tmp_path / "vta", "vta_store.v", line, bug)
    program = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL)
    firsts = {}
    for backend in BACKENDS:
        m = run_program(program, RunOptions(rtl_dir=rtl, backend=backend)).first
        assert m is not None
        firsts[backend] = (m.kind, m.index, m.state, m.element, m.ila_value, m.rtl_value, m.cycle)
    assert firsts["verilator"][0] == "state" and firsts["verilator"][2] == "dram"
    assert program_disasm(program, firsts["verilator"][1]).startswith("STORE")
    assert firsts["cocotb"] == firsts["verilator"] == firsts["icarus"]
    need_tool("fst2vcd")
    window = wave_window(program, Target.resolve(program, RunOptions(rtl_dir=rtl)), m, 50, tmp_path / "waves")
    text = window.gtkw.read_text()
    assert "-dram (differs): DRAM port" in text and "TOP.vta_top.mem_req_wstrb[15:0]" in text
