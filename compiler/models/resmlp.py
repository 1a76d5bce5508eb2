"""ResMLP (Touvron et al. 2021), after lucidrains/res-mlp-pytorch: affine norms, token- and channel-mixing MLPs."""

from __future__ import annotations

import torch
from torch import nn


class Affine(nn.Module):
    """Per-channel scale and shift (ResMLP's replacement for LayerNorm)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, 1, dim))
        self.b = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.g + self.b


class ResMlpLayer(nn.Module):
    """Token mixing (a linear map across patches, written as a 1-D conv as in res-mlp-pytorch) then channel MLP."""

    def __init__(self, dim: int, patches: int, hidden: int) -> None:
        super().__init__()
        self.pre_token = Affine(dim)
        self.token_mix = nn.Conv1d(patches, patches, 1)
        self.scale_token = nn.Parameter(torch.full((1, 1, dim), 0.1))
        self.pre_channel = Affine(dim)
        self.channel_mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.scale_channel = nn.Parameter(torch.full((1, 1, dim), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.scale_token * self.token_mix(self.pre_token(x))
        return x + self.scale_channel * self.channel_mlp(self.pre_channel(x))


class ResMLP(nn.Module):
    """ResMLP on 32x32 images: 4x4 patches (64 tokens), width 64, depth 4."""

    def __init__(self, num_classes: int = 10, dim: int = 64, depth: int = 4, patch: int = 4) -> None:
        super().__init__()
        patches = (32 // patch) ** 2
        self.patch = patch
        self.embed = nn.Linear(3 * patch * patch, dim)
        self.layers = nn.Sequential(*[ResMlpLayer(dim, patches, 4 * dim) for _ in range(depth)])
        self.post = Affine(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        p = self.patch
        x = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(n, (h // p) * (w // p), c * p * p)
        x = self.post(self.layers(self.embed(x)))
        return self.head(x.mean(dim=1))
