"""The minimized reproducer: smaller than the original, legal, and diverging the same way."""

from __future__ import annotations

import numpy as np
import pytest
from harness_fixtures import SMALL

from harness.ila_backend import IlaBackend
from harness.options import RunOptions
from harness.reproducer import Minimizer, minimize
from harness.runner import run_program
from ila_models import vta, vta_isa
from ila_models.program import Program
from testbenches.vta import programs


@pytest.fixture(scope="module")
def case(alu_shift_rtl):
    program = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL)  # 35 instructions
    options = RunOptions(rtl_dir=alu_shift_rtl)
    target = run_program(program, options).first
    assert target is not None and target.kind == "state"
    return program, options, target


def _work(program: Program) -> int:
    """Loop iterations x micro-ops of every GEMM/ALU: how much the Program computes."""
    total = 0
    for cmd in program.commands:
        f = vta_isa.parse(cmd)
        if f["opcode"] in (vta_isa.OPCODES["GEMM"], vta_isa.OPCODES["ALU"]):
            total += f["iter_out"] * f["iter_in"] * (f["uop_end"] - f["uop_bgn"])
    return total


def test_the_reproducer_is_smaller_and_diverges_the_same_way(case, tmp_path):
    program, options, target = case
    reduction = minimize(program, options, target, max_seconds=60)
    small = reduction.program
    assert len(small) < len(program) // 4
    assert _work(small) < _work(program)
    assert reduction.kept[-1] == target.index  # everything after the diverging instruction went
    path = small.save(tmp_path / "repro.npz")
    replayed = run_program(Program.load(path), options).first  # from the file, as the printed command does
    assert replayed is not None
    assert (replayed.kind, replayed.state) == (target.kind, target.state)
    assert replayed.disasm.split()[:2] == target.disasm.split()[:2] == ["ALU", "SHR"]
    assert run_program(Program.load(path), RunOptions()).passed  # the unmodified RTL passes it: a real bug
    command = options.replay_command(path)
    assert command == f"python -m harness run {path} --rtl-dir {options.rtl_dir}"
    assert small.provenance["minimized_from"] == program.name


def test_dropping_one_side_of_a_token_pair_clears_the_other_so_the_program_stays_legal(case):
    program, options, target = case
    minimizer = Minimizer(program, options, target)
    loads = [i for i, cmd in enumerate(program.commands) if vta_isa.parse(cmd)["push_next"]
             and vta_isa.unit_of(vta_isa.parse(cmd)) == "load"]  # fmt: skip
    assert loads, "the matmul's input loads push load->compute tokens"
    kept = [i for i in range(len(program)) if i != loads[0]]
    shrunk = minimizer.build(kept)
    # the compute instruction that popped the dropped load's token no longer pops
    pops_before = sum(vta_isa.parse(c)["pop_prev"] for c in program.commands if vta_isa.unit_of(vta_isa.parse(c)) == "compute")
    pops_after = sum(vta_isa.parse(c)["pop_prev"] for c in shrunk.commands if vta_isa.unit_of(vta_isa.parse(c)) == "compute")
    assert pops_after == pops_before - 1

    def final_tokens(p: Program) -> np.ndarray:
        ila = IlaBackend(vta.model_for(p))
        ila.load(p)
        while ila.next_retirement() is not None:  # no OrderViolation: every pop finds its push
            pass
        return ila.state["tokens"].copy()

    assert np.array_equal(final_tokens(shrunk), final_tokens(program))  # the pair went as a whole
