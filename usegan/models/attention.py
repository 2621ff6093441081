"""CBAM attention modules.

Woo, Park, Lee, Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018:

* channel attention: ``sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))`` with one MLP (reduction ``r``) shared by both
  pooled descriptors, multiplied onto every channel;
* spatial attention: ``sigmoid(conv7x7([mean_c(x); max_c(x)]))``, multiplied onto every position.
"""

from __future__ import annotations

import torch
from torch import nn


class ChannelAttention(nn.Module):
    """``(B, C, H, W) -> (B, C, H, W)``: reweights channels by a shared MLP over avg- and max-pooled features."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        if channels < 1 or reduction < 1:
            raise ValueError(f"channels and reduction must be positive, got {channels}, {reduction}")
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention map ``(B, C, 1, 1)`` in (0, 1)."""
        avg = self.mlp(torch.mean(x, dim=(2, 3), keepdim=True))
        mx = self.mlp(torch.amax(x, dim=(2, 3), keepdim=True))
        return torch.sigmoid(avg + mx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weights(x)


class SpatialAttention(nn.Module):
    """``(B, C, H, W) -> (B, C, H, W)``: reweights positions by a conv over the channel mean and max maps."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"spatial attention kernel must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention map ``(B, 1, H, W)`` in (0, 1)."""
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weights(x)
