"""The prediction head shared by all pyramid levels.

Output channel ``a * X + c`` of a conv (anchor a, component c) becomes row
``(y * W + x) * A + a``, column c, as in the original.
"""

from __future__ import annotations

import torch
from torch import nn


class PredictionHead(nn.Module):
    """Args:
    in_channels: FPN width.
    num_anchors: anchors per location (aspect ratios x scales).
    num_classes: classes including background.
    num_prototypes: mask coefficients per anchor.
    """

    def __init__(self, *, in_channels: int, num_anchors: int, num_classes: int, num_prototypes: int):
        super().__init__()
        self.num_anchors = num_anchors
        self.num_classes = num_classes
        self.num_prototypes = num_prototypes
        self.upfeature = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, kernel_size=3, padding=1), nn.ReLU(inplace=True)
        )
        self.bbox_layer = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=3, padding=1)
        self.conf_layer = nn.Conv2d(in_channels, num_anchors * num_classes, kernel_size=3, padding=1)
        self.mask_layer = nn.Conv2d(in_channels, num_anchors * num_prototypes, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [B, C, H, W] → loc [B, H*W*A, 4], conf logits [B, H*W*A, C+1],
        mask coeffs (tanh) [B, H*W*A, K]."""
        x = self.upfeature(x)
        batch = x.shape[0]
        loc = self.bbox_layer(x).permute(0, 2, 3, 1).reshape(batch, -1, 4)
        conf = self.conf_layer(x).permute(0, 2, 3, 1).reshape(batch, -1, self.num_classes)
        mask = self.mask_layer(x).permute(0, 2, 3, 1).reshape(batch, -1, self.num_prototypes)
        return loc, conf, torch.tanh(mask)
