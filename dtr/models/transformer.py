"""A small Transformer encoder classifier (Vaswani et al. 2017), dropout off so steps are deterministic."""

from __future__ import annotations

import torch
from torch import nn


class SmallTransformer(nn.Module):
    def __init__(self, vocab: int = 256, d_model: int = 64, heads: int = 4, layers: int = 2, classes: int = 4) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # tokens: (batch, seq)
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))
