"""A small U-Net (Ronneberger et al. 2015): 3 down and 3 up levels with skip connections."""

from __future__ import annotations

import torch
from torch import nn


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
    )


class SmallUNet(nn.Module):
    def __init__(self, base: int = 8, depth: int = 3, classes: int = 2) -> None:
        super().__init__()
        widths = [base * 2**i for i in range(depth + 1)]
        self.downs = nn.ModuleList([double_conv(3, widths[0])] + [double_conv(widths[i], widths[i + 1]) for i in range(depth)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, 2) for i in reversed(range(depth))])
        self.up_convs = nn.ModuleList([double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth))])
        self.out = nn.Conv2d(widths[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, down in enumerate(self.downs):
            x = down(x if i == 0 else torch.max_pool2d(x, 2))
            skips.append(x)
        for up, conv, skip in zip(self.ups, self.up_convs, reversed(skips[:-1]), strict=True):
            x = conv(torch.cat([up(x), skip], dim=1))
        return self.out(x)
