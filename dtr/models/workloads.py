"""The trace workloads: a model, a synthetic batch (fixed seed) and a loss, at sizes this CPU runs.

Batch and sequence sizes keep activations the bulk of a step's memory, as in the DTR paper's
workloads: ResNet-32 at batch 32 (at batch 8 its parameter gradients alone were ~9% of the peak,
and evicting them cost most of the rematerialization), the Transformer at sequence length 128.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import torch
from torch import nn

from dtr.models.densenet import SmallDenseNet
from dtr.models.recurrent import BinaryTreeLSTM, UnrolledLSTM
from dtr.models.resnet import ResNet32
from dtr.models.transformer import SmallTransformer
from dtr.models.unet import SmallUNet
from dtr.stats import RuntimeStats
from dtr.torch_session import budget


@dataclass(frozen=True)
class Workload:
    name: str
    model: Callable[[], nn.Module]
    batch: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _images(n: int, size: int, classes: int) -> Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]:
    def make(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, 3, size, size, generator=g), torch.randint(0, classes, (n,), generator=g)

    return make


def _segmentation(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2, 3, 64, 64, generator=g), torch.randint(0, 2, (2, 64, 64), generator=g)


def _sequence(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(32, 16, 32, generator=g), torch.randint(0, 10, (16,), generator=g)


def _tree(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(32, 32, 32, generator=g), torch.randint(0, 5, (32,), generator=g)


def _tokens(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randint(0, 256, (16, 128), generator=g), torch.randint(0, 4, (16,), generator=g)


_ce = nn.functional.cross_entropy

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("resnet32", ResNet32, _images(32, 32, 10), _ce),
        Workload("densenet", SmallDenseNet, _images(8, 32, 10), _ce),
        Workload("unet", SmallUNet, _segmentation, _ce),
        Workload("lstm", UnrolledLSTM, _sequence, _ce),
        Workload("treelstm", BinaryTreeLSTM, _tree, _ce),
        Workload("transformer", lambda: SmallTransformer(layers=4), _tokens, _ce),
    )
}


def train_step(w: Workload, model: nn.Module, opt: torch.optim.Optimizer, g: torch.Generator) -> None:
    x, y = w.batch(g)
    w.loss(model(x), y).backward()
    opt.step()
    opt.zero_grad()


def record_trace(name: str, out: IO[str], nbytes: float = math.inf, heuristic: str = "dtr_eq") -> RuntimeStats:
    """Log the forward and backward pass of one training step of workload `name` as a trace.

    An unlogged warm-up step runs first, so first-call costs (allocator, kernel selection) stay
    out of the costs. As in the DTR prototype's logs, the optimizer step is not logged: the
    parameter gradients are the step's outputs.
    """
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; expected one of {sorted(WORKLOADS)}")
    w = WORKLOADS[name]
    torch.manual_seed(0)
    model = w.model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    train_step(w, model, opt, g)  # warm-up
    x, y = w.batch(g)
    with budget(nbytes, heuristic, trace=out) as session:
        w.loss(model(x), y).backward()
    return session.stats
