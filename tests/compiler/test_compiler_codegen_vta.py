"""VTA codegen: Programs decode, run on the ILA to their int8 references bit for bit, decode to exactly the
emulated numerics, carry provenance, and pass in lockstep against the RTL."""

from __future__ import annotations

import numpy as np
import pytest

from compiler import __version__
from compiler.codegen import Where, vta
from compiler.codegen.vta_schedule import TilingError
from compiler.numerics import vta as numerics
from harness.ila_backend import IlaBackend
from harness.runner import run_program
from ila_models import vta as vta_ila
from ila_models import vta_isa as isa
from ila_models.program import Program

WHERE = Where("test", "007_dense", seed=3)


def _on_ila(program: Program) -> dict[str, np.ndarray]:
    """Every output region after running `program` on the VTA ILA through the harness's IlaBackend."""
    backend = IlaBackend(vta_ila.model_for(program))
    backend.load(program)
    while backend.next_retirement() is not None:
        pass
    return {o.name: o.view(backend.read(o.memory)) for o in program.outputs}


def _check(lowered: vta.Lowered, emulated: np.ndarray, tmp_path) -> np.ndarray:
    """Save/load round trip, ILA == reference bit for bit, decode == emulated numerics exactly."""
    path = lowered.program.save(tmp_path / f"{lowered.program.name}.npz")
    program = Program.load(path)
    assert all(isa.parse(c)["opcode"] in isa.OPCODE_NAMES for c in program.commands)
    out = _on_ila(program)
    for name, ref in program.references.items():
        assert out[name].dtype == np.int8
        np.testing.assert_array_equal(out[name], ref)
    result = lowered.decode(out)
    np.testing.assert_array_equal(result, emulated)
    return result


DENSE_SHAPES = [
    ((1, 64), (10, 64)),  # the classifier: N padded 10 -> 16
    ((1024, 27), (16, 27)),  # the stem conv as im2col: K padded 27 -> 32, one chunk of 1024 rows
    ((300, 200), (40, 200)),  # K=200 -> 13 blocks: rows in chunks of 78
    ((33, 1200), (700, 1200)),  # 75 weight blocks per output block: 44 output blocks in 7 weight tiles
    ((2, 3, 5), (4, 5)),  # leading batch dims
]


@pytest.mark.parametrize("xs, ws", DENSE_SHAPES, ids=[f"{a}x{b}" for a, b in DENSE_SHAPES])
def test_dense_programs_match_their_references_on_the_ila(xs, ws, rng, tmp_path):
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    lowered = vta.dense(x, w, WHERE)
    result = _check(lowered, numerics.dense(x, w), tmp_path)
    assert result.shape == (*xs[:-1], ws[0])
    exact = x.astype(np.float64) @ w.T.astype(np.float64)
    assert np.linalg.norm(result - exact) / np.linalg.norm(exact) < 0.05  # int8 with an output shift


def test_dense_tiles_rows_and_weights_into_double_buffered_steps(rng):
    x = rng.standard_normal((33, 1200)).astype(np.float32)
    w = rng.standard_normal((700, 1200)).astype(np.float32)
    program = vta.dense(x, w, WHERE).program
    fields = [isa.parse(c) for c in program.commands]
    wgt_loads = [f for f in fields if f["opcode"] == isa.OPCODES["LOAD"] and f["memory_type"] == isa.MEM_TYPES["WGT"]]
    stores = [f for f in fields if f["opcode"] == isa.OPCODES["STORE"]]
    # kb = 75 blocks; 512 // 75 = 6 output blocks per weight tile: ceil(44 / 6) = 8 tiles, alternate halves
    assert len(wgt_loads) == 8
    assert [f["sram_base"] for f in wgt_loads[:3]] == [0, 512, 0]
    # 1024 // 75 = 13 rows per chunk: 3 chunks per tile
    assert len(stores) == 24
    assert {f["sram_base"] for f in stores} == {0, 1024}
    assert fields[-1]["opcode"] == isa.OPCODES["FINISH"] and fields[-1]["pop_next"] == 1


MATMUL_SHAPES = [((4, 16, 16), (4, 16, 16)), ((6, 50, 9), (6, 9, 1)), ((2, 3, 7, 20), (20, 5))]


@pytest.mark.parametrize("as_, bs", MATMUL_SHAPES, ids=["attention", "depthwise", "broadcast"])
def test_batched_matmul_programs_match_their_references_on_the_ila(as_, bs, rng, tmp_path):
    a = rng.standard_normal(as_).astype(np.float32)
    b = rng.standard_normal(bs).astype(np.float32)
    result = _check(vta.matmul(a, b, WHERE), numerics.matmul(a, b), tmp_path)
    assert result.shape == np.matmul(a, b).shape


BIAS_SHAPES = [((1, 10), (10,)), ((64, 256), (256,)), ((1, 48, 3, 3), (1, 48, 1, 1)), ((1, 64, 64), (1, 1, 64))]


@pytest.mark.parametrize("xs, bs", BIAS_SHAPES, ids=["vector", "rows", "nchw", "broadcast-rows"])
def test_bias_add_programs_match_their_references_on_the_ila(xs, bs, rng, tmp_path):
    x = rng.standard_normal(xs).astype(np.float32)
    b = rng.standard_normal(bs).astype(np.float32)
    lowered = vta.bias_add(x, b, WHERE)
    result = _check(lowered, numerics.bias_add(x, b), tmp_path)
    # SHR truncates: within one output step (plus the 2^-16-step input rounding)
    step = lowered.program.provenance["scale"] * 2.0 ** lowered.program.provenance["shift"]
    assert result.shape == (x + b).shape
    assert float(np.max(np.abs(result - (x + b)))) <= step * 1.01


def test_programs_carry_provenance_and_spans(rng):
    x = rng.standard_normal((100, 64)).astype(np.float32)
    w = rng.standard_normal((32, 64)).astype(np.float32)
    program = vta.dense(x, w, WHERE).program
    prov = program.provenance
    assert prov["compiler"] == f"tandem-compiler {__version__}"
    assert (prov["model"], prov["layer"], prov["op"], prov["seed"]) == ("test", "007_dense", "vta_dense", 3)
    assert program.name == "test_007_dense"
    gemms = [i for i, c in enumerate(program.commands) if isa.parse(c)["opcode"] == isa.OPCODES["GEMM"]]
    for i in gemms:
        span = program.span_of(i)
        assert span is not None and (span.model, span.layer) == ("test", "007_dense")
        assert span.op.startswith("dense rows ")


def test_operands_too_long_for_the_weight_buffer_are_a_tiling_error_naming_k(rng):
    x = np.ones((2, 8208), np.float32)
    w = np.ones((16, 8208), np.float32)
    with pytest.raises(TilingError, match="reduction length 8208"):
        vta.dense(x, w, WHERE)


def test_bias_with_two_non_unit_axes_is_rejected(rng):
    with pytest.raises(TilingError, match=r"\(1, 4, 4\)"):
        vta.bias_add(np.ones((2, 4, 4), np.float32), np.ones((1, 4, 4), np.float32), WHERE)


def test_a_compiled_program_passes_in_lockstep_against_the_rtl(rng):
    """Several double-buffered steps (weight tiles and row chunks) with tokens, on the Verilator RTL."""
    x = np.maximum(rng.standard_normal((40, 300)), 0).astype(np.float32)
    w = rng.standard_normal((200, 300)).astype(np.float32)
    for lowered in (vta.dense(x, w, WHERE), vta.bias_add(x, rng.standard_normal(300).astype(np.float32), WHERE)):
        program = lowered.program
        report = run_program(program)
        assert report.passed, report.first.headline() if report.first else ""
        assert report.retired == len(program)
        assert report.cycles > 10 * len(program)
