"""The lockstep engine against a scripted stand-in for the RTL: orders, corruptions, hangs."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from harness.backend import Retire, SimulatorHang
from harness.ila_backend import IlaBackend
from harness.lockstep import Lockstep
from ila_models import vta
from ila_models import vta_isa as isa
from ila_models.language import OrderViolation
from ila_models.program import Program
from testbenches.vta import programs

SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=256, inp_depth=256, wgt_depth=128, acc_depth=256)
COMPARED = ["dram", "uop", "inp", "wgt", "acc", "out", "done"]


class ScriptedRtl:
    """Retires in a given order, optionally corrupting one element or hanging."""

    name = "scripted"

    def __init__(self, order=None, corrupt=None, hang_at=None, unit_override=None):
        self.order, self.corrupt, self.hang_at, self.unit_override = order, corrupt, hang_at, unit_override

    def reset(self):
        pass

    def load(self, program: Program):
        self.program = program
        self.inner = IlaBackend(vta.model_for(program))
        self.inner.load(program)
        self.order = list(self.order if self.order is not None else range(len(program)))
        self.pos = 0

    def next_retirement(self):
        if self.pos == self.hang_at:
            raise SimulatorHang(cycle=self.pos * 10, budget=1000, pending=self.order[self.pos :])
        if self.pos >= len(self.order):
            return None
        index = self.order[self.pos]
        self.pos += 1
        with contextlib.suppress(OrderViolation):  # a broken RTL would retire it anyway
            self.inner.execute(index)
        if self.corrupt and self.corrupt[0] == index:
            _, name, element = self.corrupt
            self.inner.state[name][element] ^= 1
        unit = self.inner.model.unit(self.program.commands[index])
        return Retire(index, (self.unit_override or {}).get(index, unit), cycle=self.pos * 10, cycles=10)

    def read(self, name, rows=None):
        return self.inner.read(name, rows)

    def quiescent(self):
        return True

    def close(self):
        pass


def lockstep(program, rtl, **kw):
    ila = IlaBackend(vta.model_for(program))
    ila.load(program)
    rtl.reset()
    rtl.load(program)
    return Lockstep(program, ila, rtl, COMPARED, **kw).run()


@pytest.fixture(scope="module")
def program():
    return programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL)


def test_program_order_passes_with_comparisons(program):
    result = lockstep(program, ScriptedRtl())
    assert result.passed, result.mismatches
    assert result.retired == len(program)
    assert result.comparisons > len(program)  # every write-set, plus the full compares
    assert result.full_compares >= 1


def test_a_legal_reordering_passes(program):
    # the store unit's instructions later than program order, but each unit in its own order
    units = [vta.model_for(program).unit(c) for c in program.commands]
    stores = [i for i, u in enumerate(units) if u == "store"]
    order = [i for i in range(len(program)) if i not in stores[:1]]
    order.insert(order.index(stores[1]), stores[0])
    result = lockstep(program, ScriptedRtl(order=order))
    assert result.passed, result.mismatches[0].headline()


def test_corrupted_element_is_named_with_instruction_and_values(program):
    gemm = next(i for i, c in enumerate(program.commands) if isa.parse(c)["opcode"] == isa.OPCODES["GEMM"])
    result = lockstep(program, ScriptedRtl(corrupt=(gemm, "acc", (3, 2))))
    m = result.mismatches[0]
    assert (m.kind, m.index, m.state, m.element) == ("state", gemm, "acc", (3, 2))
    assert m.rtl_value == m.ila_value ^ 1
    assert m.disasm.startswith("GEMM")
    assert m.history[-1].startswith(f"#{gemm}")
    assert m.provenance["model"] == "matmul"
    assert "acc[3][2] differs after #" in m.headline()


def test_retiring_before_the_token_is_pushed_is_an_order_mismatch(program):
    units = [vta.model_for(program).unit(c) for c in program.commands]
    first_store = units.index("store")
    order = [first_store] + [i for i in range(len(program)) if i != first_store]
    result = lockstep(program, ScriptedRtl(order=order))
    m = result.mismatches[0]
    assert m.kind == "order" and m.index == first_store
    assert "c2s token" in m.message


def test_a_unit_retiring_out_of_its_program_order_is_a_mismatch(program):
    units = [vta.model_for(program).unit(c) for c in program.commands]
    compute = [i for i, u in enumerate(units) if u == "compute"]
    order = list(range(len(program)))
    a, b = order.index(compute[0]), order.index(compute[1])
    order[a], order[b] = order[b], order[a]
    result = lockstep(program, ScriptedRtl(order=order))
    assert result.mismatches[0].kind == "order"
    assert f"before #{compute[0]}" in result.mismatches[0].message


def test_wrong_unit_is_a_mismatch(program):
    result = lockstep(program, ScriptedRtl(unit_override={0: "store"}))
    assert result.mismatches[0].kind == "unit" and result.mismatches[0].index == 0


def test_hang_is_a_mismatch_not_a_stuck_process(program):
    result = lockstep(program, ScriptedRtl(hang_at=5))
    m = result.mismatches[0]
    assert m.kind == "hang" and "no instruction retired for 1000 cycles" in m.message
    assert result.retired == 5


def test_missing_retirements_fail(program):
    result = lockstep(program, ScriptedRtl(order=list(range(len(program) - 1))))
    assert [m.kind for m in result.mismatches] == ["missing"]


def test_zero_comparisons_fail():
    empty = Program("vta", isa.ISA_VERSION, SMALL.to_dict(), np.zeros((0, 16), np.uint8), {"dram": np.zeros(64, np.uint8)})
    ila = IlaBackend(vta.model_for(empty))
    ila.load(empty)
    rtl = ScriptedRtl()
    rtl.load(empty)
    result = Lockstep(empty, ila, rtl, []).run()
    assert [m.kind for m in result.mismatches] == ["no-comparisons"]


def test_keep_going_records_every_mismatch(program):
    units = [vta.model_for(program).unit(c) for c in program.commands]
    first_compute = units.index("compute")
    result = lockstep(program, ScriptedRtl(corrupt=(first_compute, "uop", (1,))), keep_going=True)
    assert len(result.mismatches) > 1  # the corrupt uop feeds later GEMMs
    assert result.retired == len(program)
