"""VTA in lockstep on the Verilator fast path: the generated programs pass, planted RTL bugs are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.options import RunOptions
from harness.runner import run_program
from ila_models import vta_isa as isa
from testbenches.vta import programs

RTL = Path(__file__).resolve().parents[2] / "rtl" / "vta"
# A small machine builds in seconds; the default 1x16x16 one is exercised by the generated programs.
SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=256, inp_depth=256, wgt_depth=128, acc_depth=256)


@pytest.mark.parametrize("make", [programs.matmul, programs.conv2d], ids=["matmul", "conv2d"])
def test_generated_programs_pass_in_lockstep_on_the_real_configuration(make):
    program = make()
    report = run_program(program)
    assert report.passed, report.first.headline() if report.first else ""
    assert report.retired == len(program)
    assert report.comparisons >= len(program)
    assert report.cycles > 10 * len(program)  # multi-cycle instructions, not one per cycle


def _first(program, opcode: str, **fields: int) -> int:
    for i, cmd in enumerate(program.commands):
        f = isa.parse(cmd)
        if f["opcode"] == isa.OPCODES[opcode] and all(f.get(k) == v for k, v in fields.items()):
            return i
    raise AssertionError(f"no {opcode} {fields} in the program")


def _planted(tmp_path: Path, file: str, line: str, bug: str) -> Path:
    """A copy of rtl/vta with one line changed."""
    copy = tmp_path / "vta"
    shutil.copytree(RTL, copy)
    source = (copy / file).read_text()
    assert source.count(line) == 1, f"{file}: the line to plant the bug in is not unique: {line!r}"
    (copy / file).write_text(source.replace(line, bug))
    return copy


@pytest.mark.parametrize(
    "file, line, bug, opcode, fields, state",
    [
        (  # the ALU's right-shift amount off by one
            "vta_alu.v",
            "(x >>> shift[4:0])",
            "(x >>> (shift[4:0] + 5'd1))",
            "ALU",
            {"alu_opcode": isa.ALU_OPS["SHR"]},
            "acc",
        ),
        (  # the GEMM weight index advances with the destination's loop factors
            "vta_compute.v",
            "wire [31:0] w = {22'd0, uop_rdata[31:22]} + s1_wgt;",
            "wire [31:0] w = {22'd0, uop_rdata[31:22]} + s1_dst;",
            "GEMM",
            {"reset_reg": 0},
            "acc",
        ),
    ],
    ids=["alu-shift", "gemm-index"],
)
def test_planted_bug_names_the_first_diverging_instruction_and_state(tmp_path, file, line, bug, opcode, fields, state):
    program = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL)
    report = run_program(program, RunOptions(rtl_dir=_planted(tmp_path, file, line, bug)))
    m = report.first
    assert m is not None and not report.passed
    assert (m.kind, m.index, m.state) == ("state", _first(program, opcode, **fields), state)
    assert m.ila_value != m.rtl_value and m.cycle and m.cycle > 0
    assert m.disasm.startswith(opcode)
    assert len(m.history) >= 1 and m.history[-1].startswith(f"#{m.index}")


def test_the_unmodified_small_machine_passes():
    program = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL)
    report = run_program(program)
    assert report.passed, report.first.headline() if report.first else ""


def test_load_compute_and_store_overlap(tmp_path):
    """Concurrency is real: some retirement order differs from program order, and serial mode restores it."""
    program = programs.matmul(m=64, k=32, n=32, chunk_rows=8, config=SMALL)
    from harness.ila_backend import IlaBackend
    from harness.lockstep import Lockstep
    from harness.target import Target
    from ila_models import vta

    def order(serial: bool) -> tuple[list[int], int]:
        model = vta.model_for(program)
        ila = IlaBackend(model)
        ila.load(program)
        target = Target.resolve(program, RunOptions(serial=serial))
        rtl = target.rtl_backend()
        rtl.reset()
        rtl.load(program)
        result = Lockstep(program, ila, rtl, target.compared).run()
        rtl.close()
        assert result.passed, result.mismatches[0].headline()
        return result.retire_order, result.cycles

    concurrent, fast = order(False)
    serial, slow = order(True)
    assert concurrent != sorted(concurrent)
    assert serial == sorted(serial)
    assert fast < slow
