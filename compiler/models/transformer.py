"""Transformer encoder classifier (Vaswani et al. 2017): token + position embedding, post-norm encoder layers."""

from __future__ import annotations

import torch
from torch import nn


class TransformerClassifier(nn.Module):
    """Two nn.TransformerEncoderLayer (d_model 64, 4 heads, ff 128) over 16 tokens, mean-pooled, linear head."""

    def __init__(self, vocab: int = 200, seq: int = 16, dim: int = 64, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.randn(seq, 1, dim) * 0.1)
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, 10)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (seq, batch) int64 -> class logits (batch, 10)."""
        x = self.embed(tokens) + self.position
        return self.head(self.encoder(x).mean(dim=0))
