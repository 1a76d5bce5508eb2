"""HLSCNN's generated Programs: the ILA against their references, and lockstep against the RTL."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.ila_backend import IlaBackend
from harness.options import RunOptions
from harness.runner import check_references, run_program
from ila_models import hlscnn
from ila_models.program import Program
from testbenches.hlscnn import programs

RTL = Path(__file__).resolve().parents[2] / "rtl" / "hlscnn"


@pytest.fixture(scope="module")
def suite() -> list[Program]:
    return programs.suite()


def test_suite_covers_kernels_strides_channels_and_options(suite):
    names = [p.name for p in suite]
    assert len(names) == len(set(names)) == 7
    layers = programs.LAYERS.values()
    assert {layer.kernel for layer in layers} == {(3, 3), (5, 5), (1, 1), (3, 1)}
    assert {layer.stride for layer in layers} >= {(1, 1), (2, 2), (2, 1)}
    assert any(layer.in_chans % 8 for layer in layers) and any(layer.out_chans % 8 for layer in layers)
    assert any(layer.accumulate_split for layer in layers) and any(not layer.bias for layer in layers)
    assert {p.config["weight_bits"] for p in suite} == {8, 16}


def test_ila_matches_every_reference(suite):
    for program in suite:
        ila = IlaBackend(hlscnn.model_for(program))
        ila.load(program)
        while ila.next_retirement() is not None:
            pass
        assert check_references(program, ila) == [], program.name
        assert all(np.abs(ref).max() > 100 for ref in program.references.values()), "outputs must not be trivial"


def test_program_round_trips_through_a_file(tmp_path, suite):
    program = suite[0]
    loaded = Program.load(program.save(tmp_path / "p.npz"))
    assert (loaded.commands == program.commands).all() and loaded.config == {"weight_bits": 16, "spad_entries": 8192}


@pytest.mark.parametrize("index", range(7))
def test_lockstep_passes_on_generated_programs(index):
    pytest.importorskip("harness.verilator_backend")
    program = programs.GENERATED[index]()
    report = run_program(program)
    assert report.passed, report.mismatches[0].headline()
    assert report.retired == len(program) and report.comparisons >= len(program)


def test_planted_rtl_bug_is_localized_to_its_instruction_and_state(tmp_path):
    pytest.importorskip("harness.verilator_backend")
    rtl = tmp_path / "hlscnn"
    shutil.copytree(RTL, rtl)
    epilogue = rtl / "hlscnn_epilogue.v"
    source = epilogue.read_text()
    planted = source.replace("accum ? psum + old_p : psum", "accum ? psum - old_p : psum")  # subtracts earlier outputs
    assert planted != source
    epilogue.write_text(planted)
    program = programs.GENERATED[3]()  # two CONV_TRIGGERs: #14 writes, #28 accumulates into #14's outputs
    model = hlscnn.model_for(program)
    triggers = [i for i, c in enumerate(program.commands) if model.disasm(c) == "CONV_TRIGGER"]
    assert triggers == [14, 28]
    report = run_program(program, RunOptions(rtl_dir=rtl))
    assert not report.passed
    first = report.mismatches[0]
    assert (first.kind, first.state, first.index, first.disasm) == ("state", "spad1", 28, "CONV_TRIGGER")
    assert first.ila_value != first.rtl_value
