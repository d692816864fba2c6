"""ResNet backbone with the original YOLACT's module names (``backbone.layers.N.M.convK``).

The stride of a bottleneck sits on its 3x3 conv, as in the original. ``layers`` is
registered before the stem so the state_dict lists keys in the original order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Bottleneck(nn.Module):
    """1x1 reduce → 3x3 (stride) → 1x1 expand x4, plus the shortcut."""

    expansion = 4

    def __init__(
        self, in_channels: int, planes: int, *, stride: int = 1, downsample: nn.Module | None = None
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


class BasicBlock(nn.Module):
    """Two 3x3 convs plus the shortcut (ResNet-18/34 style), for small models."""

    expansion = 1

    def __init__(
        self, in_channels: int, planes: int, *, stride: int = 1, downsample: nn.Module | None = None
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


BLOCKS: dict[str, type[nn.Module]] = {"bottleneck": Bottleneck, "basic": BasicBlock}


class ResNetBackbone(nn.Module):
    """Stem + four stages; returns every stage output (C2, C3, C4, C5).

    Args:
        layers: blocks per stage, e.g. (3, 4, 6, 3) for ResNet-50.
        block: "bottleneck" or "basic".
        stem_channels: width of the stem; stage i has stem_channels * 2**i planes.
    """

    def __init__(self, *, layers: Sequence[int], block: str = "bottleneck", stem_channels: int = 64):
        super().__init__()
        block_type = BLOCKS[block]
        self.layers = nn.ModuleList()
        self.conv1 = nn.Conv2d(3, stem_channels, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.channels: list[int] = []
        in_channels = stem_channels
        for index, num_blocks in enumerate(layers):
            planes = stem_channels * 2**index
            stride = 1 if index == 0 else 2
            stage, in_channels = _make_stage(block_type, in_channels, planes, num_blocks, stride)
            self.layers.append(stage)
            self.channels.append(in_channels)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outputs = []
        for stage in self.layers:
            x = stage(x)
            outputs.append(x)
        return outputs


def _make_stage(block_type, in_channels: int, planes: int, num_blocks: int, stride: int):
    out_channels = planes * block_type.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(out_channels),
        )
    blocks = [block_type(in_channels, planes, stride=stride, downsample=downsample)]
    blocks += [block_type(out_channels, planes) for _ in range(1, num_blocks)]
    return nn.Sequential(*blocks), out_channels
