"""HLSCNN codegen: conv2d Programs (grouped or not, tiled over filters) match the engine's exact fixed-point
reference on the ILA, stay within one output step of the emulated numerics, and pass in lockstep."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.codegen import Where, hlscnn
from compiler.codegen.vta_schedule import TilingError
from compiler.ir import semantics
from compiler.numerics import hlscnn as numerics
from harness.ila_backend import IlaBackend
from harness.runner import run_program
from ila_models import hlscnn as hlscnn_ila
from ila_models.hlscnn import ACT
from ila_models.hlscnn_isa import HlscnnConfig
from ila_models.program import Program

WHERE = Where("test", "003_conv2d")
LSB = 1.0 / (1 << ACT.frac)

CASES = [
    # (x shape, w shape, (sh, sw, pt, pl, pb, pr), groups)
    ((1, 3, 16, 16), (16, 3, 3, 3), (1, 1, 1, 1, 1, 1), 1),  # a stem: 3 channels in one block of 8
    ((1, 16, 12, 12), (32, 16, 3, 3), (2, 2, 1, 1, 1, 1), 1),  # strided
    ((2, 5, 6, 7), (11, 5, 1, 1), (1, 1, 0, 0, 0, 0), 1),  # batch 2, 11 filters: a partial output block
    ((1, 24, 8, 8), (24, 1, 3, 3), (1, 1, 1, 1, 1, 1), 24),  # depthwise
    ((1, 12, 8, 8), (6, 4, 3, 3), (2, 2, 1, 1, 1, 1), 3),  # grouped
]


def _on_ila(program: Program) -> dict[str, np.ndarray]:
    backend = IlaBackend(hlscnn_ila.model_for(program))
    backend.load(program)
    while backend.next_retirement() is not None:
        pass
    return {o.name: o.view(backend.read(o.memory)) for o in program.outputs}


@pytest.mark.parametrize("xs, ws, conv, groups", CASES, ids=["stem", "strided", "batch", "depthwise", "grouped"])
def test_conv_programs_match_their_references_on_the_ila(xs, ws, conv, groups, rng, tmp_path):
    x = rng.standard_normal(xs).astype(np.float32)
    w = (rng.standard_normal(ws) * 0.3).astype(np.float32)
    lowered = hlscnn.conv2d(x, w, conv, WHERE, groups=groups)
    program = Program.load(lowered.program.save(tmp_path / "p.npz"))
    out = _on_ila(program)
    np.testing.assert_array_equal(out["Y"], program.references["Y"])
    y = lowered.decode(out)
    assert y.shape == semantics.conv2d(x, w, *conv, groups).shape
    # the engine floors each tap's dot product (< 2^-16 each, a few hundred taps at most) where the emulated
    # numerics round once: the two differ by at most one output step
    assert float(np.max(np.abs(y - numerics.conv2d(x, w, *conv, groups)))) <= LSB


def test_filters_are_tiled_to_the_scratchpads(rng):
    x = rng.standard_normal((1, 16, 8, 8)).astype(np.float32)
    w = (rng.standard_normal((40, 16, 3, 3)) * 0.3).astype(np.float32)
    small = HlscnnConfig(spad_entries=512)  # 8 filters x 2 blocks x 9 taps = 144 entries: 24 filters per tile
    lowered = hlscnn.conv2d(x, w, (1, 1, 1, 1, 1, 1), WHERE, cfg=small)
    program = lowered.program
    assert [s.op for s in program.spans] == ["conv2d image 0 filters 0..24", "conv2d image 0 filters 24..40"]
    np.testing.assert_array_equal(_on_ila(program)["Y"], program.references["Y"])


def test_a_layer_too_large_for_the_scratchpads_is_a_tiling_error(rng):
    x = np.ones((1, 64, 4, 4), np.float32)
    w = np.ones((8, 64, 3, 3), np.float32)
    with pytest.raises(TilingError, match="8 filters need 576 weight entries"):
        hlscnn.conv2d(x, w, (1, 1, 1, 1, 1, 1), WHERE, cfg=HlscnnConfig(spad_entries=512))


def test_a_compiled_conv_passes_in_lockstep_against_the_rtl(rng):
    x = rng.standard_normal((1, 12, 10, 10)).astype(np.float32)
    w = (rng.standard_normal((10, 12, 3, 3)) * 0.3).astype(np.float32)
    program = hlscnn.conv2d(x, w, (2, 2, 1, 1, 1, 1), WHERE).program
    report = run_program(program)
    assert report.passed, report.first.headline() if report.first else ""
    assert report.retired == len(program)
