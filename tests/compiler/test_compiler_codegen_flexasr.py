"""FlexASR codegen: linear and mean-pool Programs decode, match their exact references on the ILA (through
the harness's IlaBackend), quantise their operands as the emulated numerics do, and pass in lockstep."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.codegen import Where, compile_programs, flexasr, flexasr_linear
from compiler.codegen.vta_schedule import TilingError
from compiler.ir import semantics
from compiler.numerics import flexasr as numerics
from harness.ila_backend import IlaBackend
from harness.runner import run_program
from ila_models import adaptivfloat as af
from ila_models import flexasr as flexasr_ila
from ila_models.flexasr_isa import parse
from ila_models.program import Program

WHERE = Where("test", "004_linear")


def _on_ila(program: Program) -> dict[str, np.ndarray]:
    backend = IlaBackend(flexasr_ila.model_for(program))
    backend.load(program)
    while backend.next_retirement() is not None:
        pass
    return {o.name: o.view(backend.read(o.memory)) for o in program.outputs}


def _operands(rng: np.random.Generator, t: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.standard_normal((t, k)).astype(np.float32)
    w = (rng.standard_normal((n, k)) / np.sqrt(k)).astype(np.float32)
    return x, w, (rng.standard_normal(n) * 0.1).astype(np.float32)


@pytest.mark.parametrize(
    "t, k, n",
    [(5, 20, 10), (40, 288, 64), (16, 64, 192), (1, 64, 256)],
    ids=["ragged", "im2col", "qkv", "one-timestep"],
)
def test_linear_programs_match_their_references_on_the_ila(t, k, n, rng, tmp_path):
    x, w, b = _operands(rng, t, k, n)
    lowered = flexasr.linear(x, w, b, WHERE)
    program = Program.load(lowered.program.save(tmp_path / "p.npz"))
    assert all(parse(c).addr for c in program.commands)  # every command decodes
    out = _on_ila(program)
    np.testing.assert_array_equal(out["Y"], program.references["Y"])
    y = lowered.decode(out)
    assert y.shape == (t, n)
    # the PEs floor the accumulators to 2^-14 of the output's scale before one rounding to AdaptivFloat,
    # the emulated numerics round the exact value once: at most one 4-bit-mantissa step apart
    emulated = numerics.CALLS["flex_linear"](x, w, b)
    assert np.all(np.abs(y - emulated) <= 2.0**-4 * np.abs(emulated) + 1e-6)
    assert np.linalg.norm(y - (x @ w.T + b)) / np.linalg.norm(x @ w.T + b) < 0.04


def test_operands_quantise_exactly_as_the_emulated_numerics(rng):
    x, w, b = _operands(rng, 8, 48, 32)
    x *= 100.0  # far outside the bias 0..7 window: the power-of-two scale brings it in
    w *= 1e-3
    sx, sw, (bx, bw, _, bo) = flexasr.linear_scales(x, w, b)
    assert all(0 <= v <= 7 for v in (bx, bw, bo))
    np.testing.assert_array_equal(np.ldexp(af.decode(af.encode(np.ldexp(x.astype(np.float64), sx), bx), bx), -sx),
                                  numerics.adaptivfloat(x))  # fmt: skip
    np.testing.assert_array_equal(np.ldexp(af.decode(af.encode(np.ldexp(w.astype(np.float64), sw), bw), bw), -sw),
                                  numerics.adaptivfloat(w))  # fmt: skip


def test_leading_axes_are_timesteps_and_spans_name_model_layer_op(rng):
    x = rng.standard_normal((2, 3, 32)).astype(np.float32)
    _, w, b = _operands(rng, 1, 32, 70)  # 70 outputs: two vectors per PE, padded to 128
    lowered = flexasr.linear(x, w, b, WHERE)
    y = lowered.decode(_on_ila(lowered.program))
    assert y.shape == (2, 3, 70)
    spans = lowered.program.spans
    assert [s.op for s in spans] == ["store x timesteps 0..6", "linear timesteps 0..6 outputs 0..70"]
    assert {(s.model, s.layer) for s in spans} == {("test", "004_linear")}
    assert spans[-1].end == len(lowered.program)
    assert lowered.program.provenance["op"] == "flex_linear"


def test_outputs_and_timesteps_are_tiled_to_the_buffers(rng, monkeypatch):
    monkeypatch.setattr(flexasr_linear, "MAX_OUT_VECTORS", 1)  # one output vector per PE per pass
    x, w, b = _operands(rng, 40, 32, 130)
    lowered = flexasr.linear(x, w, b, WHERE)
    ops = [s.op for s in lowered.program.spans]
    assert ops == ["store x timesteps 0..40"] + [
        f"linear timesteps 0..40 outputs {a}..{min(a + 64, 130)}" for a in (0, 64, 128)
    ]
    out = _on_ila(lowered.program)
    np.testing.assert_array_equal(out["Y"], lowered.program.references["Y"])
    np.testing.assert_allclose(lowered.decode(out), lowered.reference_result())


def test_too_many_inputs_is_a_tiling_error(rng):
    with pytest.raises(TilingError, match="at most 255"):
        flexasr.linear(
            np.ones((1, 4096), np.float32), np.ones((16, 4096), np.float32), np.ones(16, np.float32), WHERE
        )


def test_meanpool_programs_match_their_references_on_the_ila(rng):
    x = np.maximum(rng.standard_normal((2, 20, 4, 4)), 0).astype(np.float32)  # post-ReLU, as in the models
    lowered = flexasr.meanpool(x, WHERE)
    out = _on_ila(lowered.program)
    np.testing.assert_array_equal(out["Y"], lowered.program.references["Y"])
    y = lowered.decode(out)
    assert y.shape == (2, 20, 1, 1)
    # four rounded pairwise means: a few mantissa steps from the exact mean
    np.testing.assert_allclose(y, x.mean(axis=(2, 3), keepdims=True), rtol=0.1, atol=0.02)


@pytest.mark.parametrize("lead, hidden", [((1, 1), 64), ((3,), 32), ((2,), 160)], ids=["lm", "rows", "wide"])
def test_lstm_cell_programs_match_their_references_on_the_ila(lead, hidden, rng):
    gates = (rng.standard_normal((*lead, 4 * hidden)) * 2).astype(np.float32)
    c = rng.standard_normal((*lead, hidden)).astype(np.float32)
    lowered = flexasr.lstm_cell(gates, c, WHERE, "flex_lstm_h")
    out = _on_ila(lowered.program)
    for name, ref in lowered.program.references.items():
        np.testing.assert_array_equal(out[name], ref, err_msg=name)
    as_c = flexasr.lower("flex_lstm_c", [gates, c], (), WHERE)
    np.testing.assert_array_equal(as_c.program.commands, lowered.program.commands)  # one Program, two results
    h, c_next = lowered.decode(out), as_c.decode(out)
    # the PLAN sigmoid (0.019) and tanh (0.038) plus AdaptivFloat rounding of h and c'
    np.testing.assert_allclose(h, semantics.lstm_cell_h(gates, c), atol=0.07)
    np.testing.assert_allclose(
        c_next, semantics.lstm_cell_c(gates, c), atol=0.1 + 2.0**-4 * np.abs(c_next).max()
    )


def test_meanpool_needs_a_power_of_two_positions():
    with pytest.raises(TilingError, match="not a power of two"):
        flexasr.meanpool(np.ones((1, 16, 3, 3), np.float32), WHERE)


# ~0.1 s each with the verilated FlexASR shim cached (tests/testbenches builds it too), ~110 s without
@pytest.mark.parametrize("call", ["flex_linear", pytest.param("flex_lstm_h", marks=pytest.mark.slow)])
def test_a_compiled_program_passes_in_lockstep_against_the_rtl(call, rng):
    if call == "flex_linear":
        program = flexasr.linear(*_operands(rng, 6, 40, 70), WHERE).program
    else:
        gates, c = (
            rng.standard_normal((1, 128)).astype(np.float32),
            rng.standard_normal((1, 32)).astype(np.float32),
        )
        program = flexasr.lstm_cell(gates, c, WHERE, call).program
    report = run_program(program)
    assert report.passed, report.first.headline() if report.first else ""
    assert report.retired == len(program)


def test_make_compile_writes_flexasr_programs_that_load_and_match_on_the_ila(tmp_path):
    out = compile_programs("transformer", tmp_path, "flexasr")
    assert len(out.paths) == 9  # the transformer's flex_linear calls
    for path in out.paths:
        program = Program.load(path)
        assert program.accelerator == "flexasr" and program.provenance["op"] == "flex_linear"
        assert program.spans and all(s.model == "transformer" for s in program.spans)
        outputs = _on_ila(program)
        for name, ref in program.references.items():
            np.testing.assert_array_equal(outputs[name], ref)
