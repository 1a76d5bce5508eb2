"""Matching on the applications: offload counts, and the offloaded program computes what the model does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compiler.ir.to_relax import reference_impl
from compiler.matching import Limits
from compiler.models import APPLICATIONS, build
from compiler.pipeline import application_error, compile_application, frontend


@pytest.fixture(scope="module")
def resnet20_imported():  # type: ignore[no-untyped-def]
    return frontend(build("resnet20"))[0]


def test_resnet20_vta_flexible_offloads_every_conv(resnet20_imported) -> None:  # type: ignore[no-untyped-def]
    exact = compile_application("resnet20", "vta", flexible=False, imported=resnet20_imported)
    flexible = compile_application("resnet20", "vta", flexible=True, imported=resnet20_imported)
    assert dict(exact.result.offloaded) == {"vta_dense": 1}  # only the classifier is spelled as dense
    # 21 convolutions through im2col + the classifier, and the classifier's bias
    assert flexible.result.offloaded["vta_dense"] == 22
    assert flexible.result.offloaded["vta_bias_add"] == 1
    assert flexible.result.stop_reason == "saturated"


def test_resnet20_hlscnn_exact_takes_convolutions(resnet20_imported) -> None:  # type: ignore[no-untyped-def]
    exact = compile_application("resnet20", "hlscnn", flexible=False, imported=resnet20_imported)
    assert dict(exact.result.offloaded) == {"hlscnn_conv2d": 21}


def test_offloaded_resnet20_matches_pytorch_in_exact_arithmetic(resnet20_imported) -> None:  # type: ignore[no-untyped-def]
    compiled = compile_application("resnet20", "vta", flexible=True, imported=resnet20_imported)
    err = application_error(compiled, reference_impl)
    assert err.top1_agreement == 1.0
    assert err.relative_error < 1e-5


def test_lstm_cells_offload_to_flexasr() -> None:
    compiled = compile_application("lstm_lm", "flexasr", flexible=True)
    assert compiled.result.offloaded["flex_lstm_h"] == 16  # one per time step
    assert compiled.result.offloaded["flex_linear"] == 18  # input projection, 16 recurrent, decoder
    app = compiled.app
    exe = compiled.executable(reference_impl)
    x = app.eval_inputs[0]
    np.testing.assert_allclose(exe([x.numpy()])[0], app.model(x).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_limits_stop_saturation(resnet20_imported) -> None:  # type: ignore[no-untyped-def]
    compiled = compile_application("resnet20", "vta", flexible=True, limits=Limits(iterations=1), imported=resnet20_imported)
    assert compiled.result.stop_reason == "iteration limit"
    assert compiled.result.iterations == 1
    assert any("iteration limit" in n for n in compiled.result.notes)


@pytest.mark.slow
@pytest.mark.parametrize("name", APPLICATIONS)
def test_every_application_offloads_more_with_flexible_matching(name: str) -> None:
    imported = frontend(build(name))[0]
    gains = 0
    for accel in ("vta", "flexasr", "hlscnn"):
        exact = compile_application(name, accel, flexible=False, imported=imported)
        flexible = compile_application(name, accel, flexible=True, imported=imported)
        assert flexible.result.offloaded_total >= exact.result.offloaded_total
        gains += flexible.result.offloaded_total > exact.result.offloaded_total
        err = application_error(flexible, reference_impl)
        assert err.relative_error < 1e-4, (accel, err)
    assert gains >= 1


def test_models_are_deterministic() -> None:
    a, b = build("resmlp"), build("resmlp")
    assert torch.equal(a.example, b.example)
    assert torch.equal(a.model(a.example), b.model(b.example))
