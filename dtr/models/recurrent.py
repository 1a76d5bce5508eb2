"""Recurrent workloads: an unrolled LSTM and a binary TreeLSTM (Tai et al. 2015) over a complete tree."""

from __future__ import annotations

import torch
from torch import nn


class UnrolledLSTM(nn.Module):
    """An LSTM unrolled step by step with out-of-place gates, so every gate op shows up in the trace.

    (nn.LSTMCell's CPU path applies sigmoid_ in place to views of one gate tensor, which
    copy-on-write cannot express.)
    """

    def __init__(self, inputs: int = 32, hidden: int = 128, classes: int = 10) -> None:
        super().__init__()
        self.gates = nn.Linear(inputs + hidden, 4 * hidden)
        self.head = nn.Linear(hidden, classes)
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (seq, batch, inputs)
        h = x.new_zeros(x.shape[1], self.hidden)
        c = x.new_zeros(x.shape[1], self.hidden)
        for t in range(x.shape[0]):
            i, f, g, o = self.gates(torch.cat([x[t], h], dim=1)).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.head(h)


class BinaryTreeLSTM(nn.Module):
    """N-ary (N=2) TreeLSTM over a complete binary tree whose leaves are the input rows."""

    def __init__(self, inputs: int = 32, hidden: int = 64, classes: int = 5) -> None:
        super().__init__()
        self.leaf = nn.Linear(inputs, 3 * hidden)
        self.node = nn.Linear(2 * hidden, 5 * hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, leaves: torch.Tensor) -> torch.Tensor:
        """leaves: (n_leaves, batch, inputs), n_leaves a power of 2: a batch of same-shaped trees."""
        level = []
        for row in leaves:
            i, o, u = self.leaf(row).chunk(3, dim=1)
            c = torch.sigmoid(i) * torch.tanh(u)
            level.append((torch.sigmoid(o) * torch.tanh(c), c))
        while len(level) > 1:
            nxt = []
            for (hl, cl), (hr, cr) in zip(level[0::2], level[1::2], strict=True):
                i, fl, fr, o, u = self.node(torch.cat([hl, hr], dim=1)).chunk(5, dim=1)
                c = torch.sigmoid(i) * torch.tanh(u) + torch.sigmoid(fl) * cl + torch.sigmoid(fr) * cr
                nxt.append((torch.sigmoid(o) * torch.tanh(c), c))
            level = nxt
        return self.head(level[0][0])
