"""EfficientNet-B0 (Tan & Le 2019) on a small 32x32 input: MBConv blocks with squeeze-excite and swish."""

from __future__ import annotations

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    """Channel attention: global pool -> 1x1 reduce -> swish -> 1x1 expand -> sigmoid gate."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        s = torch.sigmoid(self.expand(torch.nn.functional.silu(self.reduce(s))))
        return x * s


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-excite (drop-connect omitted: inference only)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.SiLU()]
        layers += [
            nn.Conv2d(hidden, hidden, k, stride, k // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.SiLU(),
            SqueezeExcite(hidden, max(1, c_in // 4)),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class EfficientNetB0(nn.Module):
    """EfficientNet-B0's seven stages (kernel, stride, expansion as published), channels quartered, one block each."""

    # (expand, c_out, kernel, stride): B0's stage table with width 0.25 and depth 1 per stage.
    STAGES = ((1, 8, 3, 1), (6, 8, 3, 2), (6, 12, 5, 2), (6, 20, 3, 2), (6, 28, 5, 1), (6, 48, 5, 2), (6, 80, 3, 1))

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.SiLU()]
        c_in = 8
        for expand, c_out, k, stride in self.STAGES:
            layers.append(MBConv(c_in, c_out, k, stride, expand))
            c_in = c_out
        layers += [nn.Conv2d(c_in, 160, 1, bias=False), nn.BatchNorm2d(160), nn.SiLU()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(160, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.features(x)
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return self.classifier(y)
