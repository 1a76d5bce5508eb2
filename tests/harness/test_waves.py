"""The waveform window: an FST of the cycles before a divergence, read back, and its GTKWave save file."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from harness_fixtures import ROOT, SMALL, need_tool
from vcd.reader import TokenKind, tokenize

from harness.options import RunOptions
from harness.runner import run_program
from harness.target import Target
from harness.verilator_build import build_library, cache_key, verilog_sources
from harness.waves import TIME_PER_CYCLE, vcd_header, wave_window
from testbenches.vta import programs

WINDOW = 40


@pytest.fixture(scope="module")
def failing(alu_shift_rtl, tmp_path_factory):
    need_tool("fst2vcd")
    program = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL)
    options = RunOptions(rtl_dir=alu_shift_rtl)
    m = run_program(program, options).first
    assert m is not None and m.cycle is not None and m.cycle > WINDOW
    out = tmp_path_factory.mktemp("waves")
    return program, m, wave_window(program, Target.resolve(program, options), m, WINDOW, out)


def _read_vcd(fst: Path) -> tuple[dict[str, str], list[int], dict[int, dict[str, int]]]:
    """Signal id by full name, the timestamps, and the value changes at each timestamp."""
    text = subprocess.run(["fst2vcd", str(fst)], capture_output=True, check=True).stdout
    ids: dict[str, str] = {}
    scope: list[str] = []
    times: list[int] = []
    changes: dict[int, dict[str, int]] = {}
    now = 0
    for tok in tokenize(io.BytesIO(text)):
        if tok.kind is TokenKind.SCOPE:
            scope.append(tok.scope.ident)
        elif tok.kind is TokenKind.UPSCOPE:
            scope.pop()
        elif tok.kind is TokenKind.VAR:
            ids.setdefault(".".join([*scope, tok.var.reference]), tok.var.id_code)
        elif tok.kind is TokenKind.CHANGE_TIME:
            now = tok.time_change
            times.append(now)
        elif tok.kind in (TokenKind.CHANGE_SCALAR, TokenKind.CHANGE_VECTOR):
            raw = tok.data.value
            value = raw if isinstance(raw, int) else int(raw == "1")
            changes.setdefault(now, {})[tok.data.id_code] = value
    return ids, times, changes


def test_the_fst_covers_the_divergence_and_starts_at_the_window(failing):
    _, m, window = failing
    assert window.fst.exists() and window.fst.stat().st_size > 0
    assert (window.first, window.last) == (m.cycle - WINDOW, m.cycle + 2)
    ids, times, changes = _read_vcd(window.fst)
    assert times[0] == TIME_PER_CYCLE * window.first - TIME_PER_CYCLE // 2  # the low phase of the first cycle
    assert times[-1] == TIME_PER_CYCLE * window.last
    edge = TIME_PER_CYCLE * m.cycle
    assert edge in times
    # replay the value changes up to the divergence's edge: the compute unit retires the mismatching instruction
    state: dict[str, int] = {}
    for t in sorted(changes):
        if t > edge:
            break
        state.update(changes[t])
    retire_valid = state[ids["TOP.vta_top.retire_valid"]]
    retire_index = state[ids["TOP.vta_top.retire_index"]]
    assert retire_valid & 0b010  # unit 1 = compute
    assert (retire_index >> 32) & 0xFFFFFFFF == m.index


def test_the_gtkw_names_signals_of_the_fst_and_marks_the_divergence(failing):
    _, m, window = failing
    text = window.gtkw.read_text()
    assert f'[dumpfile] "{window.fst.name}"' in text  # relative: a moved run folder still opens
    assert f"*-4.000000 {TIME_PER_CYCLE * m.cycle} " in text
    names = {name + rng for name, rng in vcd_header(window.fst)}
    signals = [line for line in text.splitlines() if line.startswith("TOP.")]
    assert signals and all(s in names for s in signals)
    for wanted in ("TOP.vta_top.cmd_valid", "TOP.vta_top.cmd_data[127:0]", "TOP.vta_top.retire_valid[2:0]"):
        assert wanted in signals
    assert any(s.startswith("TOP.vta_top.u_acc.") for s in signals)  # the differing state's memory
    assert "-acc[" in text and "(differs)" in text


def test_the_trace_flavour_is_a_separate_library_and_the_fast_path_has_no_tracing(tmp_path):
    rtl = ROOT / "rtl" / "vta"
    sources = verilog_sources(rtl)
    assert cache_key(sources, "vta_top", {}, 3, "v", trace=True) != cache_key(sources, "vta_top", {}, 3, "v")
    from harness.verilator_backend import load_shim
    from ila_models.registry import accelerator

    small = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL)
    fast = build_library(rtl, "vta_top", accelerator("vta").verilog_parameters(small))
    lib = load_shim(fast.path)
    sim = lib.tandem_create()
    try:
        assert lib.tandem_trace_open(sim, str(tmp_path / "x.fst").encode(), 0, 10) == -1
        assert b"built without tracing" in lib.tandem_last_error(sim)
    finally:
        lib.tandem_destroy(sim)
