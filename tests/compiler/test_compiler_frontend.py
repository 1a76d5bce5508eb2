"""Frontends and bad input: export failures name the operator; unsupported operators fall back to the host."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from compiler.frontend import ExportError, import_torch
from compiler.ir.from_relax import import_relax
from compiler.ir.to_relax import build_and_run, emit_relax
from compiler.matching import match


class _Unsupported(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.det(x)


class _HostOps(nn.Module):
    """A linear layer followed by operators no accelerator takes (cumsum, layer_norm)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.layer_norm(torch.cumsum(self.fc(x), dim=-1), (8,))


def test_export_failure_names_the_operator() -> None:
    with pytest.raises(ExportError) as info:
        import_torch(_Unsupported(), torch.randn(3, 3))
    assert info.value.operator is not None
    assert "det" in info.value.operator
    assert info.value.operator in str(info.value)


def test_torch_export_failure_is_an_export_error() -> None:
    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 if x.sum() > 0 else x

    with pytest.raises(ExportError, match=r"torch\.export failed on Branchy"):
        import_torch(Branchy(), torch.randn(2))


@pytest.mark.parametrize("accelerator", ["vta", "flexasr", "hlscnn"])
def test_unsupported_operators_fall_back_with_a_note(accelerator: str) -> None:
    torch.manual_seed(0)
    model = _HostOps().eval()
    x = torch.randn(2, 8)
    imported = import_relax(import_torch(model, x))
    result = match(imported, accelerator, flexible=True)
    assert result.offloaded_total >= 1, "the linear layer should offload"
    assert result.host_ops["relax.cumsum"] == 1
    assert any("relax.cumsum" in n and "host" in n for n in result.notes)
    out = build_and_run(emit_relax(imported, result.roots), [x.numpy()])[0]
    np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_unknown_accelerator_is_rejected() -> None:
    imported = import_relax(import_torch(nn.Linear(4, 4).eval(), torch.randn(1, 4)))
    with pytest.raises(ValueError, match="unknown accelerator 'tpu'"):
        match(imported, "tpu", flexible=True)
