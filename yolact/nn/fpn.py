"""Feature pyramid over C3..C5, plus extra strided levels (P6, P7).

Module lists are indexed top-down as in the original (``lat_layers.0`` reads C5), so
official weights load unchanged. The prediction convs are followed by ReLU; the extra
downsampling convs are not (both as in the original).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class FPN(nn.Module):
    """Args:
    in_channels: channels of C3, C4, C5 (bottom-up order).
    channels: width of every pyramid level.
    num_downsample: extra levels made by 3x3 stride-2 convs on the last level.
    """

    def __init__(self, *, in_channels: Sequence[int], channels: int = 256, num_downsample: int = 2):
        super().__init__()
        self.lat_layers = nn.ModuleList(nn.Conv2d(c, channels, kernel_size=1) for c in reversed(in_channels))
        self.pred_layers = nn.ModuleList(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1) for _ in in_channels
        )
        self.downsample_layers = nn.ModuleList(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, stride=2) for _ in range(num_downsample)
        )

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """features: [C3, C4, C5] → [P3, P4, P5, P6, P7], each [B, channels, h, w]."""
        num_inputs = len(features)
        levels: list[torch.Tensor] = [None] * num_inputs  # type: ignore[list-item]
        top = None
        for lateral, index in zip(self.lat_layers, reversed(range(num_inputs))):
            lateral_out = lateral(features[index])
            if top is not None:
                top = F.interpolate(top, size=lateral_out.shape[-2:], mode="bilinear", align_corners=False)
                lateral_out = lateral_out + top
            top = levels[index] = lateral_out
        for pred, index in zip(self.pred_layers, reversed(range(num_inputs))):
            levels[index] = F.relu(pred(levels[index]))
        for downsample in self.downsample_layers:
            levels.append(downsample(levels[-1]))
        return levels
