"""The six applications of the 3LA evaluation, at CPU sizes, with fixed-seed weights.

`build(name)` returns an :class:`Application`: the eval-mode model, one example input (batch 1) for export,
and a fixed-seed evaluation set. BatchNorm statistics are calibrated on fixed-seed random data so that
activations have realistic ranges (nothing is downloaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from compiler.models.efficientnet_b0 import EfficientNetB0
from compiler.models.lstm_lm import LstmLanguageModel
from compiler.models.mobilenet_v2 import MobileNetV2
from compiler.models.resmlp import ResMLP
from compiler.models.resnet20 import ResNet20
from compiler.models.transformer import TransformerClassifier

SEED = 0


@dataclass(frozen=True)
class Application:
    """An application: its model (eval mode), an export input and evaluation inputs (each batch 1)."""

    name: str
    model: nn.Module
    example: torch.Tensor
    eval_inputs: list[torch.Tensor]


def _images(n: int, gen: torch.Generator) -> list[torch.Tensor]:
    return [torch.randn(1, 3, 32, 32, generator=gen) for _ in range(n)]


def _tokens(n: int, seq: int, vocab: int, gen: torch.Generator) -> list[torch.Tensor]:
    return [torch.randint(0, vocab, (seq, 1), generator=gen) for _ in range(n)]


def _calibrate_batch_norm(model: nn.Module, batch: torch.Tensor) -> None:
    """Set BatchNorm running statistics from one forward pass in training mode (momentum 1)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    for bn in bns:
        bn.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(batch)
    for bn in bns:
        bn.momentum = 0.1


_BUILDERS: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "resnet20": (ResNet20, "image"),
    "mobilenet_v2": (MobileNetV2, "image"),
    "efficientnet_b0": (EfficientNetB0, "image"),
    "resmlp": (ResMLP, "image"),
    "lstm_lm": (LstmLanguageModel, "tokens"),
    "transformer": (TransformerClassifier, "tokens"),
}

APPLICATIONS: tuple[str, ...] = tuple(_BUILDERS)


def build(name: str, n_eval: int = 8) -> Application:
    """Build application `name` (one of APPLICATIONS) with fixed-seed weights and inputs."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown application {name!r}; expected one of {', '.join(APPLICATIONS)}")
    ctor, kind = _BUILDERS[name]
    torch.manual_seed(SEED)
    model = ctor()
    gen = torch.Generator().manual_seed(SEED + 1)
    if kind == "image":
        _calibrate_batch_norm(model, torch.randn(16, 3, 32, 32, generator=gen))
        inputs = _images(n_eval + 1, gen)
    else:
        inputs = _tokens(n_eval + 1, 16, 200, gen)
    model.eval()
    return Application(name, model, inputs[0], inputs[1:])
