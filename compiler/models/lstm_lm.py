"""LSTM word language model (the PyTorch word_language_model example): embedding, LSTM, linear decoder."""

from __future__ import annotations

import torch
from torch import nn


class LstmLanguageModel(nn.Module):
    """Embedding -> single-layer LSTM (zero initial state) -> linear decoder over the vocabulary."""

    def __init__(self, vocab: int = 200, embed: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (seq, batch) int64 -> logits (seq, batch, vocab)."""
        y, _ = self.lstm(self.encoder(tokens))
        return self.decoder(y)
