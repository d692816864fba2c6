"""Seeded random weights, for benchmarking and testing without a checkpoint.

Convolutions get He (backbone) or Xavier (everything else, as the original's own
init) weights; then BatchNorm running statistics are measured on a seeded batch of
random images, so activations stay O(1) through any depth, as in a trained network,
rather than growing layer by layer (which would make fp16 and parity checks meaningless).
"""

from __future__ import annotations

import torch
from torch import nn


def random_init(model: nn.Module, *, seed: int = 0, image_size: int, calibration_batch: int = 2) -> None:
    """Re-initialise ``model`` in place, deterministically for a given seed; leaves it in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            if name.startswith("backbone."):
                std = (
                    2.0
                    / (module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1])
                ) ** 0.5
                with torch.no_grad():
                    module.weight.normal_(0.0, std, generator=generator)
            else:
                fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                with torch.no_grad():
                    module.weight.uniform_(-bound, bound, generator=generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            module.reset_parameters()
            module.momentum = None  # cumulative average over the calibration batch
    images = torch.randn(calibration_batch, 3, image_size, image_size, generator=generator)
    model.train()
    with torch.no_grad():
        model(images)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1
            module.num_batches_tracked.zero_()
    model.eval()
