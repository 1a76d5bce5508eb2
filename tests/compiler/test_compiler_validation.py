"""Application-level validation: ResNet-20 compiled for VTA, every offloaded call run as a Program on the ILA.

Thresholds are measured (8 fixed-seed inputs) with margin: ResNet-20 on VTA agrees on top-1 for 8/8 inputs
with relative error 0.288 (per-tensor int8 with a power-of-two output shift per call loses ~2-3% per layer
over 21 layers). The tests accept one top-1 flip and relative error up to 0.35; a codegen that mis-tiles
or mis-quantises one layer is far outside that (and the ILA-vs-reference check fails first).
"""

from __future__ import annotations

import numpy as np
import pytest

from compiler.codegen import compile_programs
from compiler.numerics import accelerator_impl
from compiler.pipeline import Compiled, application_error, compile_application
from compiler.validation import validate, validate_on_ila
from harness.ila_backend import IlaBackend
from ila_models import vta as vta_ila
from ila_models.program import Program


@pytest.fixture(scope="module")
def resnet20_vta() -> Compiled:
    return compile_application("resnet20", "vta")


def test_make_compile_writes_one_program_per_offloaded_call_and_each_matches_on_the_ila(resnet20_vta, tmp_path):
    out = compile_programs("resnet20", tmp_path, "vta", compiled=resnet20_vta)
    assert len(out.paths) == resnet20_vta.result.offloaded_total == 23
    assert out.seconds["codegen"] < 5.0
    names = [p.stem for p in out.paths]
    assert names[0] == "resnet20_000_dense" and names[-1] == "resnet20_022_bias_add"
    for path in out.paths:
        program = Program.load(path)
        assert program.provenance["model"] == "resnet20"
        assert program.spans and all(s.model == "resnet20" for s in program.spans)
        ila = IlaBackend(vta_ila.model_for(program))
        ila.load(program)
        while ila.next_retirement() is not None:
            pass
        for region in program.outputs:
            np.testing.assert_array_equal(region.view(ila.read(region.memory)), program.references[region.name])


def test_resnet20_on_the_vta_ila_agrees_with_fp32(resnet20_vta):
    checked = validate_on_ila(resnet20_vta)
    assert checked.source == "ila"
    assert checked.programs_run == 23 * checked.error.inputs == 23 * 8
    assert checked.error.top1_agreement >= 7 / 8
    assert 0.0 < checked.error.relative_error < 0.35


@pytest.mark.slow
@pytest.mark.parametrize(
    "app, min_top1, max_rel",
    # measured top-1 / relative error on 8 inputs: 1.0/0.288, 0.75/0.493, 0.5/0.583, 0.875/0.222, 0.938/0.067, 1.0/0.133
    [
        ("resnet20", 0.875, 0.35),
        ("mobilenet_v2", 0.625, 0.6),
        ("efficientnet_b0", 0.375, 0.7),
        ("resmlp", 0.75, 0.3),
        ("lstm_lm", 0.875, 0.1),
        ("transformer", 0.875, 0.2),
    ],
)
def test_every_application_on_the_vta_ila_equals_the_emulated_numerics(app, min_top1, max_rel):
    compiled = compile_application(app, "vta")
    on_ila = validate(compiled)
    assert on_ila.source == "ila"
    assert on_ila.error == application_error(compiled, accelerator_impl)  # bit-identical results
    assert on_ila.error.top1_agreement >= min_top1
    assert on_ila.error.relative_error < max_rel


@pytest.mark.slow
@pytest.mark.parametrize(
    "app, min_top1, max_rel",
    # measured on 8 inputs with the Programs on the HLSCNN ILA: 1.0/0.0127 and 1.0/0.0975
    [("resnet20", 0.875, 0.03), ("mobilenet_v2", 0.875, 0.15)],
)
def test_convolutional_applications_on_the_hlscnn_ila_agree_with_fp32(app, min_top1, max_rel):
    checked = validate(compile_application(app, "hlscnn"))
    assert checked.source == "ila"
    assert checked.error.top1_agreement >= min_top1
    assert checked.error.relative_error < max_rel


@pytest.mark.slow
@pytest.mark.parametrize(
    "app, min_top1, max_rel",
    # measured on 8 inputs with every FlexASR call (linear, mean pool, LSTM cell) a Program on the FlexASR ILA:
    # 1.0/0.0559, 0.75/0.2404, 0.75/0.2434, 1.0/0.0254, 0.883/0.0531 (PLAN sigmoid/tanh), 1.0/0.0323
    [
        ("resnet20", 0.875, 0.08),
        ("mobilenet_v2", 0.625, 0.3),
        ("efficientnet_b0", 0.625, 0.3),
        ("resmlp", 0.875, 0.04),
        ("lstm_lm", 0.8, 0.08),
        ("transformer", 0.875, 0.05),
    ],
)
def test_every_application_on_the_flexasr_ila_agrees_with_fp32(app, min_top1, max_rel):
    checked = validate(compile_application(app, "flexasr"))
    assert checked.source == "ila"
    assert checked.error.top1_agreement >= min_top1
    assert checked.error.relative_error < max_rel
