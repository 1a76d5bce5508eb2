"""FlexASR programs (generated and the authors' streams): every command decodes, and the ILA's
results agree with a float computation over the same decoded operands within docs/flexasr.md's
tolerances. Lockstep runs against a scripted stand-in here; the RTL runs need the Verilator backend."""

from __future__ import annotations

import numpy as np
import pytest

from harness.ila_backend import IlaBackend
from ila_models import adaptivfloat as af
from ila_models import flexasr
from ila_models import flexasr_gb as gb
from ila_models.program import Program
from testbenches.flexasr import programs, reference
from testbenches.flexasr.streams import (
    STREAM_FILES,
    StreamFormatError,
    authors_stream,
    parse_stream,
    streams_dir,
)

# (relative, absolute) tolerance of |ila - float| per operation; docs/flexasr.md says why.
TOLERANCE = {
    "layer_reduce": (0.0, 0.0),
    "layer_norm": (2.0**-4, 2.0**-5),
    "linear": (2.0**-4, 2.0**-5),
    "lstm": (0.0, 0.05),
}

needs_streams = pytest.mark.skipif(
    streams_dir() is None, reason="the authors' streams are not at ../shared/reference/flexasr_streams/"
)


def run_ila(program: Program) -> tuple[dict, dict, list[str]]:
    """Run on the ILA; (state before the first START, final state, instruction names)."""
    backend = IlaBackend(flexasr.model_for(program))
    backend.load(program)
    snapshot, names = None, []
    for index in range(len(program)):
        if snapshot is None and backend.model.disasm(program.commands[index]).startswith("WR START"):
            snapshot = {k: v.copy() for k, v in backend.state.items()}
        backend.execute(index)
        assert backend.last is not None
        names.append(backend.last.instruction.name)
    assert snapshot is not None
    return snapshot, backend.state, names


def check_against_float(program: Program, kind: str, bias: int, op: str) -> float:
    before, after, _ = run_ila(program)
    rows, want = getattr(reference, op)(before)
    got = af.decode(after["gb_large"][rows], bias)
    rtol, atol = TOLERANCE[kind]
    err = np.abs(got - want)
    assert np.all(err <= rtol * np.abs(want) + atol), f"{program.name}: max error {err.max()}"
    return float(err.max())


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (programs.linear, "linear"),
        (programs.lstm, "lstm"),
        (programs.maxpool, "layer_reduce"),
        (programs.layer_norm, "layer_norm"),
    ],
)
def test_generated_programs_match_float(make, kind):
    program = make()
    op = program.provenance["float_reference"]
    err = check_against_float(program, kind, program.provenance.get("output_bias", 0), op)
    if kind == "layer_reduce":
        assert err == 0.0  # max of exact values is exact


def test_generated_lstm_reads_its_results():
    program = programs.lstm(timesteps=2)
    _, after, names = run_ila(program)
    assert names.count("GB_LARGE_LOAD") == 2 * 4 and names[-1] == "GB_LARGE_LOAD"
    assert after["rdata"].any()


def test_stream_reader_format():
    text = "// comment\n0,W,0x33400010,0x10\n\n2,Q,0x00000000,0x0\n2,R,0x33500000,0x0\n2,W,0x00000000,0x0\n"
    commands, barriers = parse_stream(text)
    assert [(c.wr, c.addr, c.data) for c in commands] == [(True, 0x33400010, 0x10), (False, 0x33500000, 0)]
    assert barriers == [1]
    with pytest.raises(StreamFormatError, match=r"<stream>:2: .*expected 4 fields"):
        parse_stream("2,W,0x10,0x1\n2,W,0x33400010")
    with pytest.raises(StreamFormatError, match=r"<stream>:1: op 'X'"):
        parse_stream("2,X,0x0,0x0")


@needs_streams
@pytest.mark.parametrize("name", sorted(STREAM_FILES))
def test_authors_streams_decode_and_match_float(name):
    program = authors_stream(name)
    before, _, names = run_ila(program)
    assert len(names) == len(program) and any(n.startswith("START_") for n in names)
    if name == "maxpool":
        assert check_against_float(program, "layer_reduce", 0, "layer_reduce") == 0.0
    elif name == "layernorm":
        bias = gb.gb_config(before, "layer_norm")["adpbias_1"]
        check_against_float(program, "layer_norm", bias, "layer_norm")
    else:
        bias = gb.pe_config(before, 0, "act_mngr")["adpfloat_bias"]
        check_against_float(program, "lstm", bias, "gb_control")


# Attention: context (adpbias_4) and softmax weights (adpbias_3) against the float softmax; docs/flexasr.md.
ATTENTION_TOLERANCE = {"context": (2.0**-4, 2.0**-5), "weights": (2.0**-4, 2.0**-7)}


@pytest.mark.parametrize(("timesteps", "vectors", "seed"), [(8, 2, 0), (20, 3, 1), (40, 4, 3), (16, 8, 4)])
def test_generated_attention_matches_float(timesteps, vectors, seed):
    program = programs.attention(timesteps, vectors, seed)
    before, after, names = run_ila(program)
    assert "START_ATTENTION" in names
    ctx_rows, ctx, w_rows, w = reference.attention(before)
    got_ctx = af.decode(after["gb_small"][ctx_rows], program.provenance["output_bias"])
    got_w = af.decode(after["gb_small"][w_rows], program.provenance["weight_bias"]).reshape(-1)
    assert not got_w[timesteps:].any()
    for kind, got, want in (("context", got_ctx, ctx), ("weights", got_w[:timesteps], w)):
        rtol, atol = ATTENTION_TOLERANCE[kind]
        err = np.abs(got - want)
        assert np.all(err <= rtol * np.abs(want) + atol), f"{kind}: max error {err.max()}"
    assert abs(got_w.sum() - 1.0) < 0.1
