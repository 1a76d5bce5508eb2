"""FlexASR ILA vs RTL (rtl/flexasr) in lockstep: generated, constrained-random and the authors' programs,
a planted RTL bug, the refinement map, and -Wall lint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.options import RunOptions
from harness.runner import run_program
from ila_models import flexasr
from ila_models.program import Program
from testbenches.flexasr import coverage, programs
from testbenches.flexasr.streams import STREAM_FILES, authors_stream, streams_dir

RTL = Path(__file__).resolve().parents[2] / "rtl" / "flexasr"
needs_streams = pytest.mark.skipif(
    streams_dir() is None,
    reason="the FlexASR authors' streams are not in ../shared/reference/flexasr_streams/",
)
LAYERS = {"linear": programs.linear, "lstm": programs.lstm, "maxpool": programs.maxpool}
LAYERS["layer_norm"] = programs.layer_norm
LAYERS["attention"] = programs.attention


def _lockstep(program: Program, rtl_dir: Path | None = None):
    pytest.importorskip("harness.verilator_backend")
    return run_program(program, RunOptions(rtl_dir=rtl_dir))


def _starts(program: Program) -> list[tuple[int, str]]:
    model = flexasr.model_for(program)
    return [(i, d) for i, c in enumerate(program.commands) if (d := model.disasm(c)).startswith("WR START_")]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_lockstep_passes_on_generated_layers(name):
    program = LAYERS[name]()
    report = _lockstep(program)
    assert report.passed, report.mismatches[0].headline()
    assert report.retired == len(program) and report.comparisons >= len(program)
    assert report.cycles > 2 * len(program)  # every command takes cycles; START takes many


@pytest.mark.parametrize("seed", coverage.SEEDS)
@pytest.mark.parametrize("make", coverage.COVERAGE, ids=lambda f: f.__name__)
def test_lockstep_passes_on_constrained_random_programs(make, seed):
    program = make(seed)
    assert [d for _, d in _starts(program)] == (
        ["WR START_LAYER_REDUCE"] * 2 + ["WR START_ZERO_PADDING"] + ["WR START_LAYER_NORM"] * 2
        if make is coverage.gb_reduce_pad
        else ["WR START_GB_CONTROL"] * 3
    )
    report = _lockstep(program)
    assert report.passed, report.mismatches[0].headline()
    assert report.retired == len(program)


@needs_streams
@pytest.mark.parametrize("name", sorted(STREAM_FILES))
def test_lockstep_passes_on_the_authors_streams(name):
    program = authors_stream(name)
    report = _lockstep(program)
    assert report.passed, report.mismatches[0].headline()
    assert report.retired == len(program) and report.comparisons >= len(program)


def test_planted_rtl_bug_is_localized_to_its_instruction_and_state(tmp_path):
    rtl = tmp_path / "flexasr"
    shutil.copytree(RTL, rtl)
    reduce = rtl / "flexasr_layer_reduce.v"
    source = reduce.read_text()
    planted = source.replace(".k(mode == 2'd1 ? 4'd1 : 4'd0)", ".k(4'd0)")  # mean forgets to halve
    assert planted != source
    reduce.write_text(planted)
    program = coverage.gb_reduce_pad(1)
    mean, disasm = _starts(program)[0]
    assert disasm == "WR START_LAYER_REDUCE"
    fields = flexasr.model_for(program).parse(program.commands[mean - 1])
    assert "mode=1" in flexasr.model_for(program).disasm(program.commands[mean - 1]) and fields.wr
    report = _lockstep(program, rtl)
    assert not report.passed
    first = report.mismatches[0]
    assert (first.kind, first.index, first.disasm, first.state) == ("state", mean, disasm, "gb_large")
    assert first.ila_value != first.rtl_value and first.differing > 1
    assert "layer_reduce" in first.history[-2]  # the config write before it, for the human report


def test_lockstep_passes_on_attention_beyond_16_timesteps():
    program = programs.attention(timesteps=20, vectors=3, seed=1)
    report = _lockstep(program)
    assert report.passed, report.mismatches[0].headline()
    assert report.retired == len(program)


def test_planted_attention_bug_is_localized_to_start_attention_and_gb_small(tmp_path):
    rtl = tmp_path / "flexasr"
    shutil.copytree(RTL, rtl)
    attn = rtl / "flexasr_attention.v"
    source = attn.read_text()
    planted = source.replace(
        "wire signed [63:0] shifted  = acc >>> 8;", "wire signed [63:0] shifted  = acc >>> 7;"
    )
    assert planted != source  # scores doubled: a sharper softmax
    attn.write_text(planted)
    program = programs.attention()
    ((start, disasm),) = _starts(program)
    assert disasm == "WR START_ATTENTION"
    report = _lockstep(program, rtl)
    assert not report.passed
    first = report.mismatches[0]
    assert (first.kind, first.index, first.disasm, first.state) == ("state", start, disasm, "gb_small")
    assert first.ila_value != first.rtl_value and first.differing > 1


def test_refinement_map_covers_every_ila_state_variable():
    refinement = json.loads((RTL / "refinement.json").read_text())
    assert refinement["top"] == "flexasr_top" and refinement["units"] == ["flexasr"]
    state = refinement["state"]
    assert set(state) == set(flexasr.build_model().state_vars)
    assert all("scope" in e and e["var"] for e in state.values())  # every variable is compared


def test_rtl_lints_clean_with_wall():
    build = pytest.importorskip("harness.verilator_build")
    root = build.verilator_root()
    binary = root / "bin" / "verilator"
    if not binary.exists():
        pytest.skip(f"no Verilator at {root}")
    proc = subprocess.run(
        [str(binary), "--lint-only", "-Wall", "--top-module", "flexasr_top", *sorted(map(str, RTL.glob("*.v")))],
        capture_output=True, text=True, env={**os.environ, "VERILATOR_ROOT": str(root)}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr
