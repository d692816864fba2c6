"""What TF32 and fp16 do to the network's outputs, measured on the CPU.

TF32 (Ampere and later, on by default in cuDNN, cuBLAS and TensorRT) rounds the inputs
of convolutions and matmuls to 10 mantissa bits and accumulates in fp32. It is emulated
here by rounding both operands of every convolution to nearest-even at 10 bits; fp16 by
running the whole network in half precision (PyTorch's CPU kernels). The drift of each
output is measured as the conversion check does (max |diff| over the reference output's
max |value|), so the check's tolerances come from measurements.
"""

from __future__ import annotations

import contextlib

import numpy as np

from yolact.network_outputs import OUTPUT_NAMES

TF32_DROPPED_BITS = 13  # fp32 has 23 mantissa bits, TF32 keeps 10


def round_to_tf32(tensor):
    """fp32 → the nearest TF32 value (round to nearest even), still stored as fp32."""
    import torch

    bits = tensor.contiguous().view(torch.int32).to(torch.int64)
    half = 1 << (TF32_DROPPED_BITS - 1)
    lowest_kept = (bits >> TF32_DROPPED_BITS) & 1
    rounded = ((bits + half - 1 + lowest_kept) >> TF32_DROPPED_BITS) << TF32_DROPPED_BITS
    return rounded.to(torch.int32).view(torch.float32).view_as(tensor)


@contextlib.contextmanager
def emulate_tf32():
    """Every Conv2d (the network's only matrix products) computes on TF32 operands."""
    import torch

    original = torch.nn.Conv2d._conv_forward

    def tf32_conv(module, input, weight, bias):
        return original(module, round_to_tf32(input), round_to_tf32(weight), bias)

    torch.nn.Conv2d._conv_forward = tf32_conv
    try:
        yield
    finally:
        torch.nn.Conv2d._conv_forward = original


def output_drift(model, images: np.ndarray, mode: str) -> dict[str, float]:
    """Per contract output: max |mode - fp32| / max |fp32| for ``mode`` tf32 or fp16."""
    import copy

    import torch

    names = OUTPUT_NAMES
    inputs = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    with torch.inference_mode():
        reference = [t.double() for t in model(inputs)]
        if mode == "tf32":
            with emulate_tf32():
                candidate = [t.double() for t in model(inputs)]
        elif mode == "fp16":
            half = copy.deepcopy(model).half()
            candidate = [t.double() for t in half(inputs.half())]
        else:
            raise ValueError(f"mode must be tf32 or fp16, got {mode!r}")
    return {
        name: float((got - want).abs().max() / want.abs().max())
        for name, got, want in zip(names, candidate, reference)
    }
