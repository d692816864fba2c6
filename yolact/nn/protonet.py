"""Prototype branch: P3 → three 3x3 convs, x2 bilinear upsample, 3x3 conv, 1x1 conv → K maps.

A ``Sequential`` whose parameter indices (0, 2, 4, 8, 10) match the original's
``proto_net``; ReLU follows every layer, including the output (the prototype activation).
"""

from __future__ import annotations

from torch import nn


class ProtoNet(nn.Sequential):
    def __init__(self, *, in_channels: int, channels: int = 256, num_prototypes: int = 32):
        super().__init__(
            nn.Conv2d(in_channels, channels, kernel_size=3, padding=1),  # 0
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),  # 2
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),  # 4
            nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),  # 6
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),  # 8
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, num_prototypes, kernel_size=1),  # 10
            nn.ReLU(inplace=True),
        )
